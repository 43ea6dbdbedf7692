//! Flame graphs drawn on a canvas (smooth with 100,000+ frames): hover
//! tooltip, click to zoom with a breadcrumb back, search by substring or
//! regex with the share of samples it covers, colours by category, flame ↔
//! icicle, and the function table beside it.

use leptos::html::Canvas;
use leptos::prelude::*;
use perfbundle_core::profile::flame::{FlameIndex, FlameRect};
use perfbundle_core::profile::Profile;
use wasm_bindgen::{JsCast, JsValue};

use super::function_table::FunctionTable;
use crate::state::use_state;

pub const ROW: f64 = 17.0;

/// The profile the flame graph shows: the whole of one of the bundle's, or
/// its samples in the range selected on the charts (when it has sample times).
#[derive(Clone)]
pub enum ShownProfile {
    Whole(std::sync::Arc<crate::state::Loaded>, usize),
    Range { profile: std::sync::Arc<Profile>, index: std::sync::Arc<FlameIndex>, of: u64 },
}

impl PartialEq for ShownProfile {
    fn eq(&self, o: &Self) -> bool {
        match (self, o) {
            (ShownProfile::Whole(a, i), ShownProfile::Whole(b, j)) => std::sync::Arc::ptr_eq(a, b) && i == j,
            (ShownProfile::Range { profile: a, .. }, ShownProfile::Range { profile: b, .. }) => {
                std::sync::Arc::ptr_eq(a, b)
            }
            _ => false,
        }
    }
}

impl ShownProfile {
    pub fn profile(&self) -> &Profile {
        match self {
            ShownProfile::Whole(l, i) => &l.bundle.profiles[*i],
            ShownProfile::Range { profile, .. } => profile,
        }
    }
    pub fn index(&self) -> &FlameIndex {
        match self {
            ShownProfile::Whole(l, i) => &l.flames[*i],
            ShownProfile::Range { index, .. } => index,
        }
    }
}

/// What the flame graph shows, following the bundle, the chosen profile and the charts' range.
pub fn shown_profile(state: crate::state::ViewerState) -> Memo<Option<ShownProfile>> {
    Memo::new(move |_| {
        let l = state.loaded.get()?;
        let i = state.profile.get().min(l.bundle.profiles.len().checked_sub(1)?);
        let whole = &l.bundle.profiles[i];
        if let Some((a, b)) = state.range.get() {
            if let Some(r) = whole.in_range((a * 1000.0) as i64, (b * 1000.0) as i64) {
                let index = std::sync::Arc::new(FlameIndex::new(&r));
                return Some(ShownProfile::Range { profile: std::sync::Arc::new(r), index, of: whole.total_samples });
            }
        }
        Some(ShownProfile::Whole(l, i))
    })
}

/// A node's label: the frame's name and location, or `all` for the root.
pub fn label(p: &Profile, node: u32) -> String {
    match p.nodes.frame[node as usize] {
        f if f < 0 => "all".into(),
        f => p.frame_label(f as usize),
    }
}

/// A test on frame labels.
pub type Matcher = Box<dyn Fn(&str) -> bool>;

/// Which frames a search matches: case-insensitive substring, or a regex.
pub fn matcher(query: &str, regex: bool) -> Result<Option<Matcher>, String> {
    if query.is_empty() {
        return Ok(None);
    }
    if regex {
        let re = regex_lite::Regex::new(query).map_err(|e| format!("not a valid regular expression: {e}"))?;
        Ok(Some(Box::new(move |s: &str| re.is_match(s))))
    } else {
        let q = query.to_lowercase();
        Ok(Some(Box::new(move |s: &str| s.to_lowercase().contains(&q))))
    }
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

/// Paints the rectangles, each node in the colour `color` gives it (CSS);
/// returns them for hit testing.
pub fn paint(
    canvas: &web_sys::HtmlCanvasElement,
    p: &Profile,
    ix: &FlameIndex,
    focus: u32,
    color: &dyn Fn(u32) -> String,
    icicle: bool,
) -> Vec<FlameRect> {
    let dpr = web_sys::window().map(|w| w.device_pixel_ratio()).unwrap_or(1.0);
    let css_w = f64::from(canvas.client_width()).max(300.0);
    let rows = f64::from(ix.max_depth + 1);
    let css_h = rows * ROW;
    canvas.set_width((css_w * dpr) as u32);
    canvas.set_height((css_h * dpr) as u32);
    let _ = canvas.style_height(css_h);
    let Some(ctx) =
        canvas.get_context("2d").ok().flatten().and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok())
    else {
        return Vec::new();
    };
    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
    ctx.clear_rect(0.0, 0.0, css_w, css_h);
    let mut rects = Vec::new();
    ix.layout(p, focus, 0.5 / css_w, &mut rects);
    ctx.set_font("11px ui-monospace, monospace");
    ctx.set_text_baseline("middle");
    for r in &rects {
        let x = r.x * css_w;
        let w = (r.w * css_w - 0.5).max(0.5);
        let y = if icicle { f64::from(r.depth) * ROW } else { css_h - f64::from(r.depth + 1) * ROW };
        ctx.set_fill_style_str(&color(r.node));
        ctx.fill_rect(x, y + 0.5, w, ROW - 1.0);
        if w > 28.0 {
            let text = label(p, r.node);
            let fit = ((w - 6.0) / 6.7) as usize;
            let shown: String = if text.chars().count() > fit {
                text.chars().take(fit.saturating_sub(1)).chain(std::iter::once('…')).collect()
            } else {
                text
            };
            ctx.set_fill_style_str("#111");
            let _ = ctx.fill_text(&shown, x + 3.0, y + ROW / 2.0);
        }
    }
    rects
}

/// The rectangle under the pointer: its node, and the pointer's position in the canvas.
pub fn hit_test(
    canvas: &web_sys::HtmlCanvasElement,
    rects: &[FlameRect],
    icicle: bool,
    ev: &leptos::ev::MouseEvent,
) -> Option<(u32, f64, f64)> {
    let r = canvas.get_bounding_client_rect();
    let (x, y) = (f64::from(ev.client_x()) - r.left(), f64::from(ev.client_y()) - r.top());
    let rows = (r.height() / ROW).round();
    let row = (y / ROW).floor();
    let depth = if icicle { row } else { rows - 1.0 - row } as u32;
    let fx = x / r.width().max(1.0);
    rects.iter().find(|q| q.depth == depth && fx >= q.x && fx < q.x + q.w).map(|q| (q.node, x, y))
}

trait StyleHeight {
    fn style_height(&self, px: f64) -> Result<(), JsValue>;
}

impl StyleHeight for web_sys::HtmlCanvasElement {
    fn style_height(&self, px: f64) -> Result<(), JsValue> {
        self.set_attribute("style", &format!("width:100%;height:{px}px"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_substrings_and_regexes() {
        let m = matcher("FIB", false).unwrap().unwrap();
        assert!(m("fibonacciNaive /a.js:1:1"));
        let r = matcher("^fib.*Naive", true).unwrap().unwrap();
        assert!(r("fibonacciNaive") && !r("xfibonacciNaive"));
        assert!(matcher("(", true).is_err());
        assert!(matcher("", false).unwrap().is_none());
    }
}

#[component]
pub fn ProfilesView() -> impl IntoView {
    let state = use_state();
    let canvas_ref = NodeRef::<Canvas>::new();
    let rects: StoredValue<Vec<FlameRect>> = StoredValue::new(Vec::new());
    let tooltip: RwSignal<Option<(f64, f64, String)>> = RwSignal::new(None);
    let search_info = RwSignal::new(String::new());

    let shown = shown_profile(state);
    provide_context(shown);
    // Redraw when anything drawn changes.
    Effect::new(move |_| {
        let (Some(sh), Some(canvas)) = (shown.get(), canvas_ref.get()) else { return };
        let (p, ix) = (sh.profile(), sh.index());
        let focus = state.focus.get().min(p.nodes.parent.len().saturating_sub(1) as u32);
        let q = state.search.get();
        let re = state.regex.get();
        let icicle = state.icicle.get();
        let hits = match matcher(&q, re) {
            Ok(Some(m)) => {
                let labels: Vec<String> = (0..p.frames.name.len()).map(|f| p.frame_label(f)).collect();
                let (h, covered) = ix.search(p, &|f| m(&labels[f]));
                search_info.set(format!(
                    "matches cover {} of {} samples ({:.2}%)",
                    covered,
                    p.total_samples,
                    covered as f64 * 100.0 / p.total_samples.max(1) as f64
                ));
                Some(h)
            }
            Ok(None) => {
                search_info.set(String::new());
                None
            }
            Err(e) => {
                search_info.set(e);
                None
            }
        };
        let t0 = now_ms();
        let color = |node: u32| {
            if node == 0 {
                "rgb(190,190,190)".to_string()
            } else if hits.as_ref().is_some_and(|h| h[node as usize]) {
                "rgb(238,70,200)".to_string()
            } else {
                let (cr, cg, cb) = p.frames.category[p.nodes.frame[node as usize] as usize].color();
                format!("rgb({cr},{cg},{cb})")
            }
        };
        let r = paint(&canvas, p, ix, focus, &color, icicle);
        let dt = now_ms() - t0;
        if let Some(w) = web_sys::window() {
            let _ = js_sys::Reflect::set(&w, &JsValue::from_str("__pbLastDrawMs"), &JsValue::from_f64(dt));
            let _ =
                js_sys::Reflect::set(&w, &JsValue::from_str("__pbLastDrawRects"), &JsValue::from_f64(r.len() as f64));
        }
        rects.set_value(r);
    });

    let hit = move |ev: &leptos::ev::MouseEvent| -> Option<(u32, f64, f64)> {
        let canvas = canvas_ref.get_untracked()?;
        rects.with_value(|rs| hit_test(&canvas, rs, state.icicle.get_untracked(), ev))
    };
    let on_move = move |ev: leptos::ev::MouseEvent| {
        let sh = shown.get_untracked();
        let info = hit(&ev).and_then(|(node, x, y)| {
            let sh = sh.as_ref()?;
            let (p, ix) = (sh.profile(), sh.index());
            let total = p.total_samples.max(1) as f64;
            let tot = ix.totals[node as usize];
            let own = p.nodes.self_samples[node as usize];
            let text = match p.nodes.frame[node as usize] {
                f if f < 0 => format!("all — {} samples", p.total_samples),
                f => {
                    let f = f as usize;
                    let loc = if p.frames.file[f].is_empty() {
                        String::new()
                    } else {
                        format!("\n{}:{}:{}", p.frames.file[f], p.frames.line[f], p.frames.col[f])
                    };
                    format!(
                        "{}{loc}\n[{}] self {own} ({:.2}%), total {tot} ({:.2}%)",
                        p.frames.name[f],
                        p.frames.category[f].as_str(),
                        own as f64 * 100.0 / total,
                        tot as f64 * 100.0 / total
                    )
                }
            };
            Some((x, y, text))
        });
        tooltip.set(info);
    };
    let on_click = move |ev: leptos::ev::MouseEvent| {
        if let Some((node, _, _)) = hit(&ev) {
            state.focus.set(node);
        }
    };

    let profile_buttons = move || {
        let l = state.loaded.get()?;
        Some(
            l.bundle
                .profiles
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    view! {
                        <button class="tab" class:active=move || state.profile.get() == i data-testid="profile-tab"
                            on:click=move |_| { state.profile.set(i); state.focus.set(0); }>
                            {format!("{} ({}, {} samples)", p.name, p.source, p.total_samples)}
                        </button>
                    }
                })
                .collect_view(),
        )
    };
    let breadcrumb = move || {
        let sh = shown.get()?;
        let (p, ix) = (sh.profile(), sh.index());
        let focus = state.focus.get().min(p.nodes.parent.len().saturating_sub(1) as u32);
        Some(
            ix.ancestors(p, focus)
                .into_iter()
                .map(|n| {
                    let text = label(p, n);
                    view! { <button class="crumb" data-testid="crumb" on:click=move |_| state.focus.set(n)>{text}</button> }
                })
                .collect_view(),
        )
    };

    view! {
        <section class="profiles" data-testid="profiles">
            <Show when=move || state.loaded.with(|l| l.as_ref().is_some_and(|l| !l.bundle.profiles.is_empty()))
                fallback=|| view! { <p data-testid="no-profiles">"This bundle holds no profile."</p> }>
                <nav class="tabs">{profile_buttons}</nav>
                <div class="toolbar">
                    <input type="search" placeholder="search functions (substring, or regex)" data-testid="flame-search"
                        prop:value=move || state.search.get()
                        on:input=move |ev| state.search.set(event_target_value(&ev)) />
                    <label><input type="checkbox" data-testid="flame-regex" prop:checked=move || state.regex.get()
                        on:change=move |ev| state.regex.set(event_target_checked(&ev)) />"regex"</label>
                    <label><input type="checkbox" data-testid="flame-icicle" prop:checked=move || state.icicle.get()
                        on:change=move |ev| state.icicle.set(event_target_checked(&ev)) />"icicle"</label>
                    <span class="search-info" data-testid="search-info">{move || search_info.get()}</span>
                </div>
                <p class="range-note" data-testid="flame-range">{move || {
                    let sh = shown.get()?;
                    let (a, b) = state.range.get()?;
                    let clock = perfbundle_core::render::chart::clock_label;
                    Some(match sh {
                        ShownProfile::Range { profile, of, .. } => format!(
                            "{} of {} samples: those taken {}–{} (the range selected on the charts)",
                            profile.total_samples, of, clock(a), clock(b)
                        ),
                        ShownProfile::Whole(..) => {
                            "this profile has no sample times on the run's clock: all its samples are shown".to_string()
                        }
                    })
                }}
                    <button data-testid="flame-range-reset" on:click=move |_| state.range.set(None)
                        class:hidden=move || state.range.get().is_none()>"all samples"</button>
                </p>
                <div class="breadcrumb" data-testid="breadcrumb">{breadcrumb}</div>
                <div class="flame-wrap">
                    <canvas node_ref=canvas_ref data-testid="flame-canvas" on:mousemove=on_move on:click=on_click
                        on:mouseleave=move |_| tooltip.set(None)></canvas>
                    {move || tooltip.get().map(|(x, y, text)| view! {
                        <pre class="tooltip" data-testid="flame-tooltip" style=format!("left:{}px;top:{}px", x + 12.0, y + 12.0)>{text}</pre>
                    })}
                </div>
                <FunctionTable />
            </Show>
        </section>
    }
}
