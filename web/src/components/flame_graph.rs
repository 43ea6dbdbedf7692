//! A flame graph drawn on a canvas (smooth with 100,000+ frames), top-down
//! by default so the root and the widest frames are on the first screen:
//! hover tooltip (samples, and milliseconds where the sample interval is
//! known), click to zoom with a breadcrumb back, search matches
//! highlighted, colours by category; siblings by name or heaviest first;
//! the keyboard moves a selection (arrows), zooms (Enter), goes back up
//! (Esc, Backspace) and jumps to the search (`/`). All from [`FlameState`];
//! the painting is [`crate::canvas`]'s.

use leptos::html::Canvas;
use leptos::prelude::*;
use perfbundle_core::profile::flame::{FlameRect, Step};
use wasm_bindgen::JsCast;

use super::tooltip::Tooltip;
use crate::canvas::{self, flame_color, hit_test, label, row_of};
use crate::state::{clamp_focus, FlameState, FlameView, RunState, ShownProfile, Tab};
use perfbundle_core::format::{amount, group, share};

/// `v` samples as a time, where the sample interval is known: `≈ 12.3 ms`.
pub fn samples_as_time(v: u64, interval_us: Option<f64>) -> String {
    match interval_us {
        Some(i) => format!(" ≈ {}", amount((v as f64 * i).round() as u64, "us")),
        None => String::new(),
    }
}

/// The tooltip of node `node`: its function, location, category, and its
/// self and total samples (or weight, when the flame graph is by weight),
/// with their time where the sample interval is known.
pub fn tooltip(sh: &ShownProfile, node: u32, interval_us: Option<f64>) -> String {
    let (p, ix) = (sh.profile(), sh.index());
    let unit = sh.unit();
    let all = ix.totals.first().copied().unwrap_or(0);
    let tot = ix.totals.get(node as usize).copied().unwrap_or(0);
    let own = sh.self_amount(node);
    let show = |v: u64| {
        if unit == "samples" {
            format!("{} samples{}", group(v), samples_as_time(v, interval_us))
        } else {
            amount(v, &unit)
        }
    };
    match p.nodes.frame.get(node as usize).copied() {
        None => String::new(),
        Some(f) if f < 0 && unit == "samples" => {
            format!("all — {} samples{}", group(all), samples_as_time(all, interval_us))
        }
        Some(f) if f < 0 => format!("all — {}", amount(all, &unit)),
        Some(f) => {
            let f = f as usize;
            let loc = if p.frames.file[f].is_empty() {
                String::new()
            } else {
                format!("\n{}:{}:{}", p.frames.file[f], p.frames.line[f], p.frames.col[f])
            };
            format!(
                "{}{loc}\n[{}] self {} ({}), total {} ({})",
                p.frames.name[f],
                p.frames.category[f].as_str(),
                show(own),
                share(own, all),
                show(tot),
                share(tot, all)
            )
        }
    }
}

/// Scrolls the page so that a row `y` CSS pixels from `el`'s top is in view.
fn scroll_row_into_view(el: &web_sys::HtmlCanvasElement, y: f64) {
    let Some(w) = web_sys::window() else { return };
    let top = el.get_bounding_client_rect().top() + y;
    let h = w.inner_height().ok().and_then(|v| v.as_f64()).unwrap_or(800.0);
    if top < 0.0 || top > h - 2.0 * canvas::ROW {
        w.scroll_by_with_x_and_y(0.0, top - h / 3.0);
    }
}

#[component]
pub fn FlameGraph() -> impl IntoView {
    let flame = expect_context::<FlameState>();
    let run = expect_context::<RunState>();
    let canvas_ref = NodeRef::<Canvas>::new();
    let rects: StoredValue<Vec<FlameRect>> = StoredValue::new(Vec::new());
    let tooltip_at: RwSignal<Option<(f64, f64, String)>> = RwSignal::new(None);
    let last_selected: StoredValue<Option<u32>> = StoredValue::new(None);

    // Redraw when anything drawn changes; bring a newly selected frame into view.
    Effect::new(move |_| {
        let (Some(sh), Some(el)) = (flame.shown.get(), canvas_ref.get()) else { return };
        let by_name = flame.by_name.get();
        let ix = by_name.as_deref().unwrap_or(sh.index());
        let p = sh.profile();
        let focus = clamp_focus(flame.focus.get(), p);
        let icicle = flame.icicle.get();
        let selected = flame.selected.get();
        let search = flame.matches.get();
        let t0 = canvas::now_ms();
        let r = canvas::paint(&el, p, ix, focus, &|node| flame_color(p, node, search.hit(node)), icicle, selected);
        canvas::report_draw(canvas::now_ms() - t0, &r);
        if selected != last_selected.get_value() {
            last_selected.set_value(selected);
            if let Some(y) = selected.and_then(|s| row_of(&r, s, icicle)) {
                scroll_row_into_view(&el, y);
            }
        }
        rects.set_value(r);
        // Make the search's labels while the page is idle, not on the first keystroke.
        set_timeout(move || flame.labels.with_untracked(|_| ()), std::time::Duration::from_millis(30));
    });

    let hit = move |ev: &leptos::ev::MouseEvent| -> Option<(u32, f64, f64)> {
        let el = canvas_ref.get_untracked()?;
        rects.with_value(|rs| hit_test(&el, rs, flame.icicle.get_untracked(), ev))
    };
    let on_move = move |ev: leptos::ev::MouseEvent| {
        let interval = flame.interval_us.get_untracked();
        let info = hit(&ev).and_then(|(node, x, y)| {
            flame.shown.with_untracked(|sh| {
                let sh = sh.as_ref()?;
                Some((x, y, tooltip(sh, node, interval)))
            })
        });
        tooltip_at.set(info);
    };
    let on_click = move |ev: leptos::ev::MouseEvent| {
        if let Some((node, _, _)) = hit(&ev) {
            flame.focus.set(node);
            flame.selected.set(Some(node));
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let by_name = flame.by_name.get_untracked();
        let icicle = flame.icicle.get_untracked();
        let step = |s: Step| {
            flame.shown.with_untracked(|sh| {
                let sh = sh.as_ref()?;
                let (p, ix) = (sh.profile(), by_name.as_deref().unwrap_or(sh.index()));
                let from =
                    flame.selected.get_untracked().unwrap_or_else(|| clamp_focus(flame.focus.get_untracked(), p));
                Some(ix.step(p, clamp_focus(from, p), s))
            })
        };
        let moved = match ev.key().as_str() {
            "ArrowUp" => step(if icicle { Step::Parent } else { Step::FirstChild }),
            "ArrowDown" => step(if icicle { Step::FirstChild } else { Step::Parent }),
            "ArrowLeft" => step(Step::Previous),
            "ArrowRight" => step(Step::Next),
            "Enter" => {
                if let Some(s) = flame.selected.get_untracked() {
                    flame.focus.set(s);
                }
                None
            }
            "Escape" | "Backspace" => {
                let up = flame.shown.with_untracked(|sh| {
                    let sh = sh.as_ref()?;
                    let (p, ix) = (sh.profile(), by_name.as_deref().unwrap_or(sh.index()));
                    Some(ix.step(p, clamp_focus(flame.focus.get_untracked(), p), Step::Parent))
                });
                if let Some(up) = up {
                    flame.focus.set(up);
                }
                None
            }
            "/" => {
                let input = document().query_selector("[data-testid=flame-search]").ok().flatten();
                if let Some(i) = input.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
                    let _ = i.focus();
                }
                None
            }
            _ => return,
        };
        ev.prevent_default();
        if let Some(n) = moved {
            flame.selected.set(Some(n));
            // A frame too narrow to draw at this zoom: zoom out to the root to show it.
            if rects.with_value(|rs| !rs.iter().any(|r| r.node == n)) {
                flame.focus.set(0);
            }
        }
    };
    let breadcrumb = move || {
        let sh = flame.shown.get()?;
        let (p, ix) = (sh.profile(), sh.index());
        let focus = clamp_focus(flame.focus.get(), p);
        Some(
            ix.ancestors(p, focus)
                .into_iter()
                .map(|n| {
                    let text = label(p, n);
                    view! { <button class="crumb" data-testid="crumb" on:click=move |_| flame.focus.set(n)>{text}</button> }
                })
                .collect_view(),
        )
    };
    // Why "where was this slow?" cannot draw this profile on the run's clock, if it cannot.
    let off_clock = move || {
        let l = run.bundle.loaded.get()?;
        let p = l.bundle.profiles.get(flame.profile.get().min(l.bundle.profiles.len().checked_sub(1)?))?;
        p.off_run_clock(l.bundle.k6_timeseries.as_ref().map(|t| t.span_ms()))
    };
    let selected_line = move || {
        let node = flame.selected.get()?;
        let interval = flame.interval_us.get();
        let text = flame.shown.with(|sh| sh.as_ref().map(|sh| tooltip(sh, node, interval)))?;
        let why = off_clock();
        let title =
            why.clone().unwrap_or_else(|| "this function's share of samples over the run, under the k6 charts".into());
        Some(view! {
            <div class="selected-frame" data-testid="flame-selected" aria-live="polite">
                <span>{text.replace('\n', " · ")}</span>
                <button data-testid="sandwich-selected" on:click=move |_| flame.sandwich_of_node(node)>"sandwich"</button>
                <button data-testid="where-slow" title=title disabled=why.is_some()
                    on:click=move |_| { flame.where_slow_of_node(node); run.tab.set(Tab::Charts); }>"where was this slow?"</button>
                {why.map(|w| view! { <span class="muted" data-testid="where-slow-why">{w}</span> })}
            </div>
        })
    };
    let is_flame = move || matches!(flame.view.get(), FlameView::Flame | FlameView::LeftHeavy);

    view! {
        <Show when=is_flame>
            <div class="breadcrumb" data-testid="breadcrumb">{breadcrumb}</div>
            {selected_line}
            <div class="flame-wrap">
                <canvas node_ref=canvas_ref data-testid="flame-canvas" tabindex="0"
                    aria-label="flame graph: arrows move between frames, Enter zooms, Escape goes up, / searches"
                    on:mousemove=on_move on:click=on_click on:keydown=on_key
                    on:mouseleave=move |_| tooltip_at.set(None)></canvas>
                <Tooltip at=tooltip_at testid="flame-tooltip" />
            </div>
        </Show>
    }
}
