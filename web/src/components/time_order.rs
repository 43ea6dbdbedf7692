//! The time-order view (a flame chart, as speedscope's "Time Order" and the
//! Firefox Profiler's stack chart): the stacks in the order the samples were
//! taken, the outermost frame on top. Click a frame to zoom to its time,
//! drag across the minimap to choose a window, "whole profile" to go back.
//! Only profiles whose samples have times have it.

use leptos::html::Canvas;
use leptos::prelude::*;
use perfbundle_core::profile::flame::FlameRect;

use super::tooltip::Tooltip;
use crate::canvas::{self, flame_color, hit_test};
use crate::state::{amount, FlameState};

/// Rows the minimap shows (the outermost frames).
const MINIMAP_ROWS: u32 = 6;

#[component]
pub fn TimeOrderChart() -> impl IntoView {
    let flame = expect_context::<FlameState>();
    let canvas_ref = NodeRef::<Canvas>::new();
    let mini_ref = NodeRef::<Canvas>::new();
    let rects: StoredValue<Vec<FlameRect>> = StoredValue::new(Vec::new());
    let tip: RwSignal<Option<(f64, f64, String)>> = RwSignal::new(None);
    let drag_from: StoredValue<Option<f64>> = StoredValue::new(None);

    let window = move || {
        let t = flame.time_order.get()?;
        Some(flame.window.get().unwrap_or((0, t.end_us)))
    };
    Effect::new(move |_| {
        let (Some(t), Some(sh), Some(el)) = (flame.time_order.get(), flame.shown.get(), canvas_ref.get()) else {
            return;
        };
        let (a, b) = flame.window.get().unwrap_or((0, t.end_us));
        let p = sh.profile();
        let search = flame.matches.get();
        let css_w = f64::from(el.client_width()).max(canvas::MIN_WIDTH);
        let mut r = Vec::new();
        let t0 = canvas::now_ms();
        t.layout(a, b, 0.5 / css_w, &mut r);
        canvas::paint_rects(&el, p, &r, &|n| flame_color(p, n, search.hit(n)), true, flame.selected.get());
        canvas::report_draw(canvas::now_ms() - t0, &r);
        rects.set_value(r);
    });
    // The minimap: the whole profile's outermost rows, the window outlined.
    Effect::new(move |_| {
        let (Some(t), Some(sh), Some(el)) = (flame.time_order.get(), flame.shown.get(), mini_ref.get()) else { return };
        let p = sh.profile();
        let css_w = f64::from(el.client_width()).max(canvas::MIN_WIDTH);
        let mut r = Vec::new();
        t.layout(0, t.end_us, 1.0 / css_w, &mut r);
        r.retain(|x| x.depth < MINIMAP_ROWS);
        canvas::paint_rects(&el, p, &r, &|n| flame_color(p, n, false), true, None);
        if let (Some((a, b)), Ok(Some(ctx))) = (flame.window.get(), el.get_context("2d")) {
            use wasm_bindgen::JsCast;
            if let Ok(ctx) = ctx.dyn_into::<web_sys::CanvasRenderingContext2d>() {
                let w = t.end_us.max(1) as f64;
                let h = f64::from(MINIMAP_ROWS) * canvas::ROW;
                ctx.set_fill_style_str("rgba(0,0,0,0.25)");
                ctx.fill_rect(0.0, 0.0, a as f64 / w * css_w, h);
                ctx.fill_rect(b as f64 / w * css_w, 0.0, css_w, h);
            }
        }
    });
    let hit = move |ev: &leptos::ev::MouseEvent| {
        let el = canvas_ref.get_untracked()?;
        rects.with_value(|rs| hit_test(&el, rs, true, ev))
    };
    let span_at = move |node: u32, x_frac: f64| {
        let t = flame.time_order.get_untracked()?;
        let (a, b) = flame.window.get_untracked().unwrap_or((0, t.end_us));
        let at = a + ((b - a) as f64 * x_frac) as i64;
        t.span_of(node, Some(at))
    };
    let on_move = move |ev: leptos::ev::MouseEvent| {
        let Some(el) = canvas_ref.get_untracked() else { return };
        let info = hit(&ev).and_then(|(node, x, y)| {
            let s = span_at(node, x / f64::from(el.client_width()).max(1.0))?;
            let name = flame.shown.with_untracked(|sh| sh.as_ref().map(|sh| canvas::label(sh.profile(), node)))?;
            let text = format!(
                "{name}\n{} from {} to {} after the first sample",
                amount((s.end_us - s.start_us) as u64, "us"),
                amount(s.start_us.max(0) as u64, "us"),
                amount(s.end_us.max(0) as u64, "us")
            );
            Some((x, y, text))
        });
        tip.set(info);
    };
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let Some(el) = canvas_ref.get_untracked() else { return };
        if let Some((node, x, _)) = hit(&ev) {
            if let Some(s) = span_at(node, x / f64::from(el.client_width()).max(1.0)) {
                flame.window.set(Some((s.start_us, s.end_us.max(s.start_us + 1))));
                flame.selected.set(Some(node));
            }
        }
    };
    let mini_x = move |ev: &leptos::ev::MouseEvent| {
        let el = mini_ref.get_untracked()?;
        let r = el.get_bounding_client_rect();
        Some(((f64::from(ev.client_x()) - r.left()) / r.width().max(1.0)).clamp(0.0, 1.0))
    };
    let on_mini_up = move |ev: leptos::ev::MouseEvent| {
        let (Some(from), Some(to), Some(t)) = (drag_from.get_value(), mini_x(&ev), flame.time_order.get_untracked())
        else {
            return;
        };
        drag_from.set_value(None);
        let (lo, hi) = (from.min(to), from.max(to));
        let e = t.end_us as f64;
        if hi - lo < 0.002 {
            // A click: centre a window of the same width there.
            let (a, b) = flame.window.get_untracked().unwrap_or((0, t.end_us));
            let half = (b - a) as f64 / 2.0;
            let c = (lo * e).clamp(half, e - half);
            flame.window.set(Some(((c - half) as i64, (c + half) as i64)));
        } else {
            flame.window.set(Some(((lo * e) as i64, (hi * e) as i64)));
        }
    };
    let window_note = move || {
        let (a, b) = window()?;
        Some(format!("{} – {} after the first sample", amount(a.max(0) as u64, "us"), amount(b.max(0) as u64, "us")))
    };

    view! {
        <section class="time-order" data-testid="time-order">
            <Show when=move || flame.time_order.with(|t| t.is_some())
                fallback=|| view! { <p class="muted" data-testid="no-time-order">"This profile's samples have no times (folded stacks, pprof): there is no time order to draw."</p> }>
                <div class="toolbar">
                    <span data-testid="time-window">{window_note}</span>
                    <button data-testid="time-whole" on:click=move |_| flame.window.set(None)
                        disabled=move || flame.window.get().is_none()>"whole profile"</button>
                </div>
                <canvas node_ref=mini_ref class="minimap" data-testid="time-minimap"
                    title="drag to choose a window of time, click to move it"
                    on:mousedown=move |ev| drag_from.set_value(mini_x(&ev)) on:mouseup=on_mini_up></canvas>
                <div class="flame-wrap">
                    <canvas node_ref=canvas_ref data-testid="time-canvas" on:mousemove=on_move on:click=on_click
                        on:mouseleave=move |_| tip.set(None)></canvas>
                    <Tooltip at=tip testid="time-tooltip" />
                </div>
            </Show>
        </section>
    }
}
