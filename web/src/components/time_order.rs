//! The time-order view (a flame chart, as speedscope's "Time Order" and the
//! Firefox Profiler's stack chart): the stacks in the order the samples were
//! taken, the outermost frame on top, a time ruler above. Ctrl + wheel (or a
//! trackpad's pinch) zooms around the pointer, shift + wheel or dragging pans,
//! `+`/`-` and the arrows do the same from the keyboard; click a frame to
//! zoom to its time, drag across the minimap to choose a window, "whole
//! profile" to go back. The window is in the URL (`tw=`). Only profiles
//! whose samples have times have it.

use leptos::html::Canvas;
use leptos::prelude::*;
use perfbundle_core::profile::flame::FlameRect;

use super::tooltip::Tooltip;
use crate::canvas::{self, flame_color, hit_test};
use crate::state::{FlameState, RunState};
use perfbundle_core::format::amount;

/// A pan in progress on the chart: where the pointer went down (a fraction
/// of the width), the window then (µs), and whether it has moved.
type Pan = (f64, (i64, i64), bool);

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
    let pan: StoredValue<Option<Pan>> = StoredValue::new(None);
    let hint = RwSignal::new(false);
    let run = expect_context::<RunState>();

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
    // The window now, and the whole profile's end.
    let current = move || {
        let t = flame.time_order.get_untracked()?;
        Some((flame.window.get_untracked().unwrap_or((0, t.end_us)), t.end_us))
    };
    // Zooms the window by `factor` (< 1: in) around the fraction `at` of its width.
    let zoom = move |factor: f64, at: f64| {
        let Some(((a, b), end)) = current() else { return };
        let w = ((b - a) as f64 * factor).clamp(10.0, end.max(10) as f64);
        let centre = a as f64 + (b - a) as f64 * at;
        let lo = (centre - w * at).clamp(0.0, (end as f64 - w).max(0.0));
        let (lo, hi) = (lo as i64, (lo + w) as i64);
        flame.window.set(if lo <= 0 && hi >= end { None } else { Some((lo, hi)) });
    };
    // Moves the window by `frac` of its width (> 0: later).
    let shift = move |frac: f64| {
        let Some(((a, b), end)) = current() else { return };
        let w = b - a;
        let lo = (a + (w as f64 * frac) as i64).clamp(0, (end - w).max(0));
        flame.window.set(Some((lo, lo + w)));
    };
    let frac_x = move |ev: &leptos::ev::MouseEvent| {
        let el = canvas_ref.get_untracked()?;
        let r = el.get_bounding_client_rect();
        Some(((f64::from(ev.client_x()) - r.left()) / r.width().max(1.0)).clamp(0.0, 1.0))
    };
    let on_wheel = move |ev: leptos::ev::WheelEvent| {
        let at = frac_x(&ev).unwrap_or(0.5);
        if ev.ctrl_key() || ev.meta_key() {
            ev.prevent_default();
            zoom((ev.delta_y() * 0.002).exp(), at);
        } else if ev.shift_key() || ev.delta_x().abs() > ev.delta_y().abs() {
            ev.prevent_default();
            let d = if ev.delta_x().abs() > ev.delta_y().abs() { ev.delta_x() } else { ev.delta_y() };
            shift(d / 1000.0);
        } else {
            // A plain wheel scrolls the page: say how to zoom.
            hint.set(true);
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        match ev.key().as_str() {
            "+" | "=" => zoom(0.5, 0.5),
            "-" | "_" => zoom(2.0, 0.5),
            "ArrowLeft" => shift(-0.2),
            "ArrowRight" => shift(0.2),
            "0" | "Escape" => flame.window.set(None),
            _ => return,
        }
        ev.prevent_default();
    };
    let on_down = move |ev: leptos::ev::MouseEvent| {
        if let (Some(x), Some((w, _))) = (frac_x(&ev), current()) {
            pan.set_value(Some((x, w, false)));
        }
    };
    let on_drag = move |ev: &leptos::ev::MouseEvent| -> bool {
        let (Some((x0, (a, b), _)), Some(x), Some((_, end))) = (pan.get_value(), frac_x(ev), current()) else {
            return false;
        };
        if ev.buttons() & 1 == 0 {
            pan.set_value(None);
            return false;
        }
        let w = b - a;
        let dx = ((x - x0) * w as f64) as i64;
        if dx.unsigned_abs() as f64 > w as f64 * 0.003 {
            let lo = (a - dx).clamp(0, (end - w).max(0));
            flame.window.set(Some((lo, lo + w)));
            pan.set_value(Some((x0, (a, b), true)));
            return true;
        }
        false
    };
    let on_move = move |ev: leptos::ev::MouseEvent| {
        if on_drag(&ev) {
            tip.set(None);
            return;
        }
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
        // The end of a pan is not a click on a frame.
        if pan.get_value().is_some_and(|p| p.2) {
            pan.set_value(None);
            return;
        }
        pan.set_value(None);
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
    // With idle left out its samples leave gaps in time: the header says so.
    let idle_note = move || {
        if run.show_idle.get() {
            return None;
        }
        let l = run.bundle.loaded.get()?;
        let p = l.bundle.profiles.get(flame.profile.get().min(l.bundle.profiles.len().checked_sub(1)?))?;
        let idle = p.idle_samples();
        (idle > 0).then(|| format!(" · {} (gaps)", perfbundle_core::profile::derive::idle_note(idle, p.total_samples)))
    };
    // The ruler: round times over the window, as wide as the chart.
    let ruler_w = RwSignal::new(900.0);
    crate::size::observe_width(canvas_ref, move |w| {
        if (ruler_w.get_untracked() - w).abs() > 0.5 {
            ruler_w.set(w);
        }
    });
    let ruler = move || {
        let (a, b) = window()?;
        let w = ruler_w.get();
        let ticks = perfbundle_core::profile::time_order::ruler(a, b, w, 90.0);
        Some(view! {
            <svg class="ruler" data-testid="time-ruler" viewBox=format!("0 0 {w} 18") height="18">
                {ticks.into_iter().map(|(x, label)| view! {
                    <line x1=x x2=x y1="12" y2="18" class="axis" />
                    <text x=x + 3.0 y="11" class="tick" data-testid="ruler-label">{label}</text>
                }).collect_view()}
            </svg>
        })
    };

    view! {
        <section class="time-order" data-testid="time-order">
            <Show when=move || flame.time_order.with(|t| t.is_some())
                fallback=|| view! { <p class="muted" data-testid="no-time-order">"This profile's samples have no times (folded stacks, pprof): there is no time order to draw."</p> }>
                <div class="toolbar">
                    <span data-testid="time-window">{window_note}{idle_note}</span>
                    <button data-testid="time-whole" on:click=move |_| flame.window.set(None)
                        disabled=move || flame.window.get().is_none()>"whole profile"</button>
                    <span class="muted" class:hint=move || hint.get() data-testid="time-help">
                        "ctrl + wheel zooms, shift + wheel or drag pans; keys: + − ← → 0"</span>
                </div>
                <canvas node_ref=mini_ref class="minimap" data-testid="time-minimap"
                    title="drag to choose a window of time, click to move it"
                    on:mousedown=move |ev| drag_from.set_value(mini_x(&ev)) on:mouseup=on_mini_up></canvas>
                {ruler}
                <div class="flame-wrap">
                    <canvas node_ref=canvas_ref data-testid="time-canvas" tabindex="0"
                        aria-label="time order: + and − zoom, arrows move, 0 shows the whole profile"
                        on:mousemove=on_move on:click=on_click on:wheel=on_wheel on:keydown=on_key on:mousedown=on_down
                        on:mouseleave=move |_| tip.set(None)></canvas>
                    <Tooltip at=tip testid="time-tooltip" />
                </div>
            </Show>
        </section>
    }
}
