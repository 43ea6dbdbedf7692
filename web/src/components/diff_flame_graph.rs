//! The differential flame graph of a pair of profiles: the union of both
//! call trees, each frame as wide as the mean of its two shares (frames of
//! the base alone still show), red where the share grew and blue where it
//! shrank; hover for both runs' samples and shares, click to zoom; and the
//! functions whose self share changed most.

use std::sync::Arc;

use leptos::html::Canvas;
use leptos::prelude::*;
use perfbundle_core::compare::profiles::DiffTree;
use perfbundle_core::compare::Diff;
use perfbundle_core::profile::flame::{FlameIndex, FlameRect};

use crate::canvas::{self, diff_color, hit_test, label};
use crate::state::{clamp_focus, CompareState};

/// The differential flame graph of `tree`, the union of the call trees of
/// the `pair`-th pair of profiles of `diff`.
#[component]
pub fn DiffFlameGraph(tree: Arc<DiffTree>, diff: Arc<Diff>, pair: usize) -> impl IntoView {
    let compare = expect_context::<CompareState>();
    let canvas_ref = NodeRef::<Canvas>::new();
    let rects: StoredValue<Vec<FlameRect>> = StoredValue::new(Vec::new());
    let tooltip: RwSignal<Option<(f64, f64, String)>> = RwSignal::new(None);
    let index = Arc::new(FlameIndex::new(&tree.profile));
    let max = tree.max_change();
    {
        let (tree, index) = (tree.clone(), index.clone());
        Effect::new(move |_| {
            let Some(el) = canvas_ref.get() else { return };
            let focus = clamp_focus(compare.diff_focus.get(), &tree.profile);
            let color = |node: u32| diff_color(&tree, node, max);
            rects.set_value(canvas::paint(&el, &tree.profile, &index, focus, &color, false));
        });
    }
    let hit = move |ev: &leptos::ev::MouseEvent| -> Option<(u32, f64, f64)> {
        let el = canvas_ref.get_untracked()?;
        rects.with_value(|rs| hit_test(&el, rs, false, ev))
    };
    let t2 = tree.clone();
    let on_move = move |ev: leptos::ev::MouseEvent| {
        tooltip.set(hit(&ev).map(|(node, x, y)| {
            let text = if node == 0 {
                format!("all\nbase: {} samples\ncandidate: {} samples", t2.base_samples, t2.candidate_samples)
            } else {
                t2.tooltip(node as usize)
            };
            (x, y, text)
        }));
    };
    let on_click = move |ev: leptos::ev::MouseEvent| {
        if let Some((node, _, _)) = hit(&ev) {
            compare.diff_focus.set(node);
        }
    };
    let t3 = tree.clone();
    let breadcrumb = move || {
        let focus = clamp_focus(compare.diff_focus.get(), &t3.profile);
        index
            .ancestors(&t3.profile, focus)
            .into_iter()
            .map(|n| {
                let text = label(&t3.profile, n);
                view! { <button class="crumb" data-testid="diff-crumb" on:click=move |_| compare.diff_focus.set(n)>{text}</button> }
            })
            .collect_view()
    };
    let changes: Vec<AnyView> = diff.profiles[pair]
        .top_changes
        .iter()
        .take(15)
        .map(|f| {
            let d = (f.candidate_share - f.base_share) * 100.0;
            let name = if f.file.is_empty() { f.function.clone() } else { format!("{} ({})", f.function, f.file) };
            let class = if d > 0.0 {
                "grew"
            } else if d < 0.0 {
                "shrank"
            } else {
                ""
            };
            view! {
                <tr data-testid="top-change" class=class>
                    <td>{format!("{d:+.2} pts")}</td>
                    <td>{format!("{:.2}% → {:.2}%", f.base_share * 100.0, f.candidate_share * 100.0)}</td>
                    <td>{format!("{} → {}", f.base_self, f.candidate_self)}</td>
                    <td class="fn">{name}</td>
                </tr>
            }
            .into_any()
        })
        .collect();
    view! {
        <div class="diff-legend" data-testid="diff-legend">
            <span><i class="sw red"></i>"larger share in the candidate"</span>
            <span><i class="sw blue"></i>"smaller share, or gone"</span>
            <span class="muted">{format!("width: mean share of both runs ({} and {} samples)", tree.base_samples, tree.candidate_samples)}</span>
        </div>
        <div class="breadcrumb">{breadcrumb}</div>
        <div class="flame-wrap">
            <canvas node_ref=canvas_ref data-testid="diff-flame-canvas" on:mousemove=on_move on:click=on_click
                on:mouseleave=move |_| tooltip.set(None)></canvas>
            {move || tooltip.get().map(|(x, y, text)| view! {
                <pre class="tooltip" data-testid="diff-flame-tooltip" style=format!("left:{}px;top:{}px", x + 12.0, y + 12.0)>{text}</pre>
            })}
        </div>
        <h3>"Largest changes of self share"</h3>
        <table class="summary-table" data-testid="top-changes">
            <thead><tr><th>"change"</th><th>"share"</th><th>"self samples"</th><th>"function"</th></tr></thead>
            <tbody>{changes}</tbody>
        </table>
    }
}
