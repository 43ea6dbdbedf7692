//! A flame graph drawn on a canvas (smooth with 100,000+ frames): hover
//! tooltip, click to zoom with a breadcrumb back, search matches
//! highlighted, colours by category, flame or icicle — all from
//! [`FlameState`]; the painting is [`crate::canvas`]'s.

use leptos::html::Canvas;
use leptos::prelude::*;
use perfbundle_core::profile::flame::FlameRect;

use crate::canvas::{self, flame_color, hit_test, label};
use crate::state::{amount, clamp_focus, FlameState, ShownProfile};

/// The tooltip of node `node`: its function, location, category, and its
/// self and total samples (or weight, when the flame graph is by weight).
pub fn tooltip(sh: &ShownProfile, node: u32) -> String {
    let (p, ix) = (sh.profile(), sh.index());
    let unit = sh.unit();
    let all = ix.totals.first().copied().unwrap_or(0);
    let total = all.max(1) as f64;
    let tot = ix.totals.get(node as usize).copied().unwrap_or(0);
    let own = sh.self_amount(node);
    let show = |v: u64| if unit == "samples" { v.to_string() } else { amount(v, &unit) };
    match p.nodes.frame[node as usize] {
        f if f < 0 && unit == "samples" => format!("all — {all} samples"),
        f if f < 0 => format!("all — {}", amount(all, &unit)),
        f => {
            let f = f as usize;
            let loc = if p.frames.file[f].is_empty() {
                String::new()
            } else {
                format!("\n{}:{}:{}", p.frames.file[f], p.frames.line[f], p.frames.col[f])
            };
            format!(
                "{}{loc}\n[{}] self {} ({:.2}%), total {} ({:.2}%)",
                p.frames.name[f],
                p.frames.category[f].as_str(),
                show(own),
                own as f64 * 100.0 / total,
                show(tot),
                tot as f64 * 100.0 / total
            )
        }
    }
}

#[component]
pub fn FlameGraph() -> impl IntoView {
    let flame = expect_context::<FlameState>();
    let canvas_ref = NodeRef::<Canvas>::new();
    let rects: StoredValue<Vec<FlameRect>> = StoredValue::new(Vec::new());
    let tooltip_at: RwSignal<Option<(f64, f64, String)>> = RwSignal::new(None);

    // Redraw when anything drawn changes.
    Effect::new(move |_| {
        let (Some(sh), Some(el)) = (flame.shown.get(), canvas_ref.get()) else { return };
        let (p, ix) = (sh.profile(), sh.index());
        let focus = clamp_focus(flame.focus.get(), p);
        let icicle = flame.icicle.get();
        let search = flame.matches.get();
        let t0 = canvas::now_ms();
        let r = canvas::paint(&el, p, ix, focus, &|node| flame_color(p, node, search.hit(node)), icicle);
        canvas::report_draw(canvas::now_ms() - t0, r.len());
        rects.set_value(r);
    });

    let hit = move |ev: &leptos::ev::MouseEvent| -> Option<(u32, f64, f64)> {
        let el = canvas_ref.get_untracked()?;
        rects.with_value(|rs| hit_test(&el, rs, flame.icicle.get_untracked(), ev))
    };
    let on_move = move |ev: leptos::ev::MouseEvent| {
        let info = hit(&ev).and_then(|(node, x, y)| {
            flame.shown.with_untracked(|sh| {
                let sh = sh.as_ref()?;
                Some((x, y, tooltip(sh, node)))
            })
        });
        tooltip_at.set(info);
    };
    let on_click = move |ev: leptos::ev::MouseEvent| {
        if let Some((node, _, _)) = hit(&ev) {
            flame.focus.set(node);
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

    view! {
        <div class="breadcrumb" data-testid="breadcrumb">{breadcrumb}</div>
        <div class="flame-wrap">
            <canvas node_ref=canvas_ref data-testid="flame-canvas" on:mousemove=on_move on:click=on_click
                on:mouseleave=move |_| tooltip_at.set(None)></canvas>
            {move || tooltip_at.get().map(|(x, y, text)| view! {
                <pre class="tooltip" data-testid="flame-tooltip" style=format!("left:{}px;top:{}px", x + 12.0, y + 12.0)>{text}</pre>
            })}
        </div>
    }
}
