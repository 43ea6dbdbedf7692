//! Painting flame graphs on a canvas, for the flame graph and the
//! differential one: sizing to the device's pixel ratio, the rectangles and
//! their labels, the colours, and which rectangle is under the pointer.
//! Components only render and wire events.

use perfbundle_core::compare::profiles::DiffTree;
use perfbundle_core::profile::flame::{FlameIndex, FlameRect};
use perfbundle_core::profile::Profile;
use perfbundle_core::render::contrast::label_color;
use wasm_bindgen::{JsCast, JsValue};

/// The height of a row (a depth of the call tree), CSS pixels.
pub const ROW: f64 = 17.0;
/// The narrowest a frame with a label, CSS pixels.
const LABEL_MIN_WIDTH: f64 = 28.0;
/// The narrowest a canvas is drawn, CSS pixels.
pub const MIN_WIDTH: f64 = 300.0;

/// A node's label: the frame's name and location, or `all` for the root.
pub fn label(p: &Profile, node: u32) -> String {
    match p.nodes.frame[node as usize] {
        f if f < 0 => "all".into(),
        f => p.frame_label(f as usize),
    }
}

/// The text that fits a rectangle `width` CSS pixels wide (11 px monospace,
/// cut with an ellipsis), or none when it is too narrow for any — then the
/// text is not made at all (most frames of a large profile are that narrow).
pub fn fit_label(text: impl FnOnce() -> String, width: f64) -> Option<String> {
    if width <= LABEL_MIN_WIDTH {
        return None;
    }
    let text = text();
    let fit = ((width - 6.0) / 6.7) as usize;
    Some(if text.chars().count() > fit {
        text.chars().take(fit.saturating_sub(1)).chain(std::iter::once('…')).collect()
    } else {
        text
    })
}

/// A CSS colour.
pub fn rgb((r, g, b): (u8, u8, u8)) -> String {
    format!("rgb({r},{g},{b})")
}

/// A node's colour in a flame graph: the root grey, search matches magenta,
/// the others by their frame's category.
pub fn flame_color(p: &Profile, node: u32, matched: bool) -> (u8, u8, u8) {
    if node == 0 {
        (190, 190, 190)
    } else if matched {
        (238, 70, 200)
    } else {
        p.frames.category[p.nodes.frame[node as usize] as usize].color()
    }
}

/// A node's colour in a differential flame graph: red where its share grew,
/// blue where it shrank (`max_change`: the largest change, full colour),
/// search matches magenta.
pub fn diff_color(tree: &DiffTree, node: u32, max_change: f64, matched: bool) -> (u8, u8, u8) {
    if node == 0 {
        (200, 200, 200)
    } else if matched {
        (238, 70, 200)
    } else {
        tree.color(node as usize, max_change)
    }
}

/// The top of a row of depth `depth` in a picture `height` CSS pixels high:
/// roots at the top (icicle) or at the bottom (flame).
pub fn row_top(depth: u32, height: f64, icicle: bool) -> f64 {
    if icicle {
        f64::from(depth) * ROW
    } else {
        height - f64::from(depth + 1) * ROW
    }
}

/// The node whose rectangle is at (`x`, `y`) in a picture `width` × `height`
/// CSS pixels, drawn as [`paint`] draws `rects`.
pub fn rect_at(rects: &[FlameRect], icicle: bool, x: f64, y: f64, width: f64, height: f64) -> Option<u32> {
    if x < 0.0 || y < 0.0 {
        return None;
    }
    let rows = (height / ROW).round();
    let row = (y / ROW).floor();
    let depth = if icicle { row } else { rows - 1.0 - row };
    if depth < 0.0 {
        return None;
    }
    let fx = x / width.max(1.0);
    rects.iter().find(|q| f64::from(q.depth) == depth && fx >= q.x && fx < q.x + q.w).map(|q| q.node)
}

/// The rectangle under the pointer: its node, and the pointer's position in the canvas.
pub fn hit_test(
    canvas: &web_sys::HtmlCanvasElement,
    rects: &[FlameRect],
    icicle: bool,
    ev: &web_sys::MouseEvent,
) -> Option<(u32, f64, f64)> {
    let r = canvas.get_bounding_client_rect();
    let (x, y) = (f64::from(ev.client_x()) - r.left(), f64::from(ev.client_y()) - r.top());
    rect_at(rects, icicle, x, y, r.width(), r.height()).map(|node| (node, x, y))
}

/// Sizes `canvas` for `rows` rows at its CSS width (at least [`MIN_WIDTH`])
/// and the device's pixel ratio, and returns its 2-D context scaled to CSS
/// pixels, with the CSS width and height.
pub fn fit(canvas: &web_sys::HtmlCanvasElement, rows: u32) -> Option<(web_sys::CanvasRenderingContext2d, f64, f64)> {
    let dpr = web_sys::window().map(|w| w.device_pixel_ratio()).unwrap_or(1.0);
    let css_w = f64::from(canvas.client_width()).max(MIN_WIDTH);
    let css_h = f64::from(rows) * ROW;
    canvas.set_width((css_w * dpr) as u32);
    canvas.set_height((css_h * dpr) as u32);
    let _ = canvas.set_attribute("style", &format!("width:100%;height:{css_h}px"));
    let ctx = canvas.get_context("2d").ok().flatten()?.dyn_into::<web_sys::CanvasRenderingContext2d>().ok()?;
    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
    ctx.clear_rect(0.0, 0.0, css_w, css_h);
    Some((ctx, css_w, css_h))
}

/// Paints the flame graph of `p` zoomed to `focus`, each node in the colour
/// `color` gives it; the canvas as tall as the rows drawn (frames narrower
/// than half a pixel are left out, and so are rows of only those). Returns
/// the rectangles, for [`rect_at`].
pub fn paint(
    canvas: &web_sys::HtmlCanvasElement,
    p: &Profile,
    ix: &FlameIndex,
    focus: u32,
    color: &dyn Fn(u32) -> (u8, u8, u8),
    icicle: bool,
    selected: Option<u32>,
) -> Vec<FlameRect> {
    let css_w = f64::from(canvas.client_width()).max(MIN_WIDTH);
    let mut rects = Vec::new();
    ix.layout(p, focus, 0.5 / css_w, &mut rects);
    paint_rects(canvas, p, &rects, color, icicle, selected);
    rects
}

/// Paints `rects` (from a flame index or a time order) as rows of frames.
pub fn paint_rects(
    canvas: &web_sys::HtmlCanvasElement,
    p: &Profile,
    rects: &[FlameRect],
    color: &dyn Fn(u32) -> (u8, u8, u8),
    icicle: bool,
    selected: Option<u32>,
) {
    let Some((ctx, css_w, css_h)) = fit(canvas, FlameIndex::rows(rects)) else { return };
    ctx.set_font("11px ui-monospace, monospace");
    ctx.set_text_baseline("middle");
    let mut sel = None;
    for r in rects {
        let x = r.x * css_w;
        let w = (r.w * css_w - 0.5).max(0.5);
        let y = row_top(r.depth, css_h, icicle);
        let fill = color(r.node);
        ctx.set_fill_style_str(&rgb(fill));
        ctx.fill_rect(x, y + 0.5, w, ROW - 1.0);
        if let Some(shown) = fit_label(|| label(p, r.node), w) {
            ctx.set_fill_style_str(&rgb(label_color(fill)));
            let _ = ctx.fill_text(&shown, x + 3.0, y + ROW / 2.0);
        }
        if Some(r.node) == selected && sel.is_none() {
            sel = Some((x, y, w));
        }
    }
    if let Some((x, y, w)) = sel {
        ctx.set_stroke_style_str("#000");
        ctx.set_line_width(2.0);
        ctx.stroke_rect(x + 1.0, y + 1.5, (w - 2.0).max(1.0), ROW - 3.0);
    }
}

/// The top of node `node`'s row in the last picture of `rects` (CSS pixels from the canvas top).
pub fn row_of(rects: &[FlameRect], node: u32, icicle: bool) -> Option<f64> {
    let r = rects.iter().find(|r| r.node == node)?;
    Some(row_top(r.depth, f64::from(FlameIndex::rows(rects)) * ROW, icicle))
}

/// Milliseconds since the page loaded.
pub fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

/// Leaves how long the last flame graph took to paint, how many
/// rectangles it drew, when it ended (`performance.now()`), how many
/// paints there were, and how many rectangles each row got, on `window`
/// (`__pbLastDrawMs`, `__pbLastDrawRects`, `__pbLastDrawAt`, `__pbDraws`,
/// `__pbRowRects`: the end-to-end tests and the benchmarks read them).
pub fn report_draw(ms: f64, rects: &[FlameRect]) {
    let Some(w) = web_sys::window() else { return };
    let set = |k: &str, v: &JsValue| {
        let _ = js_sys::Reflect::set(&w, &JsValue::from_str(k), v);
    };
    set("__pbLastDrawMs", &JsValue::from_f64(ms));
    set("__pbLastDrawRects", &JsValue::from_f64(rects.len() as f64));
    set("__pbLastDrawAt", &JsValue::from_f64(now_ms()));
    let draws = js_sys::Reflect::get(&w, &JsValue::from_str("__pbDraws")).ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
    set("__pbDraws", &JsValue::from_f64(draws + 1.0));
    let mut rows = vec![0u32; FlameIndex::rows(rects) as usize];
    for r in rects {
        rows[r.depth as usize] += 1;
    }
    set("__pbRowRects", &js_sys::Uint32Array::from(&rows[..]).into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_fit_or_are_cut() {
        assert_eq!(fit_label(|| "main".into(), 20.0), None);
        assert_eq!(fit_label(|| "main".into(), 60.0).as_deref(), Some("main"));
        // (40 - 6) / 6.7 = 5 characters: four and an ellipsis.
        assert_eq!(fit_label(|| "fibonacci".into(), 40.0).as_deref(), Some("fibo…"));
    }

    #[test]
    fn rows_and_hits() {
        let rects = [
            FlameRect { node: 0, depth: 0, x: 0.0, w: 1.0 },
            FlameRect { node: 1, depth: 1, x: 0.0, w: 0.5 },
            FlameRect { node: 2, depth: 1, x: 0.5, w: 0.25 },
        ];
        // Three rows, 51 px: flame (roots at the bottom) and icicle (on top).
        assert_eq!(row_top(0, 51.0, false), 34.0);
        assert_eq!(row_top(0, 51.0, true), 0.0);
        assert_eq!(rect_at(&rects, false, 10.0, 40.0, 100.0, 51.0), Some(0));
        assert_eq!(rect_at(&rects, false, 10.0, 20.0, 100.0, 51.0), Some(1));
        assert_eq!(rect_at(&rects, false, 60.0, 20.0, 100.0, 51.0), Some(2));
        assert_eq!(rect_at(&rects, false, 90.0, 20.0, 100.0, 51.0), None);
        assert_eq!(rect_at(&rects, false, 10.0, 5.0, 100.0, 51.0), None, "a row above the deepest frame");
        assert_eq!(rect_at(&rects, true, 10.0, 5.0, 100.0, 51.0), Some(0));
        assert_eq!(rect_at(&rects, true, 60.0, 20.0, 100.0, 51.0), Some(2));
        assert_eq!(rect_at(&rects, true, -1.0, 5.0, 100.0, 51.0), None);
    }
}
