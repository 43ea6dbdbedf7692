//! The differential flame graph of a pair of profiles: the union of both
//! call trees (functions paired as [`CompareState::frame_match`] says), each
//! frame as wide as the mean of its two shares (frames of the base alone
//! still show), red where the share grew and blue where it shrank, labels in
//! the colour that reads on each; hover for both runs' samples and shares,
//! click to zoom, search, icicle or flame; and the functions whose self share
//! changed most.

use std::sync::Arc;

use leptos::html::Canvas;
use leptos::prelude::*;
use perfbundle_core::compare::profiles::DiffTree;
use perfbundle_core::compare::Diff;
use perfbundle_core::format::{pct, points};
use perfbundle_core::profile::flame::{FlameIndex, FlameRect};

use super::tooltip::Tooltip;
use crate::canvas::{self, diff_color, hit_test, label};
use crate::state::{clamp_focus, matcher, CompareState};
use perfbundle_core::profile::FrameMatch;

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
        let t0 = tree.clone();
        let labels: Vec<String> = (0..tree.profile.frames.name.len()).map(|f| tree.profile.frame_label(f)).collect();
        let hits = Memo::new(move |_| {
            let q = compare.diff_search.get();
            let Ok(Some(m)) = matcher(&q, false) else { return Vec::new() };
            let p = &t0.profile;
            (0..p.nodes.parent.len()).map(|n| n > 0 && m(&labels[p.nodes.frame[n] as usize])).collect::<Vec<bool>>()
        });
        Effect::new(move |_| {
            let Some(el) = canvas_ref.get() else { return };
            let focus = clamp_focus(compare.diff_focus.get(), &tree.profile);
            let icicle = compare.diff_icicle.get();
            hits.with(|h| {
                let color = |node: u32| diff_color(&tree, node, max, h.get(node as usize).copied().unwrap_or(false));
                rects.set_value(canvas::paint(&el, &tree.profile, &index, focus, &color, icicle, None));
            });
        });
    }
    let hit = move |ev: &leptos::ev::MouseEvent| -> Option<(u32, f64, f64)> {
        let el = canvas_ref.get_untracked()?;
        rects.with_value(|rs| hit_test(&el, rs, compare.diff_icicle.get_untracked(), ev))
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
            let d = f.candidate_share - f.base_share;
            let name = f.label();
            let class = if d > 0.0 {
                "grew"
            } else if d < 0.0 {
                "shrank"
            } else {
                ""
            };
            view! {
                <tr data-testid="top-change" class=class>
                    <td>{points(d)}</td>
                    <td>{format!("{} → {}", pct(f.base_share), pct(f.candidate_share))}</td>
                    <td>{format!("{} → {}", f.base_self, f.candidate_self)}</td>
                    <td class="fn">{name}</td>
                </tr>
            }
            .into_any()
        })
        .collect();
    let modes = FrameMatch::ALL
        .into_iter()
        .map(|m| {
            let text = match m {
                FrameMatch::NameModule => "name and module (file without version parts)",
                FrameMatch::Name => "name only",
                FrameMatch::Exact => "name, file, line and column",
            };
            view! { <option value=m.as_str() selected=move || compare.frame_match.get() == m>{text}</option> }
        })
        .collect_view();
    view! {
        <div class="toolbar">
            <input type="search" placeholder="search functions" data-testid="diff-search"
                prop:value=move || compare.diff_search.get()
                on:input=move |ev| compare.diff_search.set(event_target_value(&ev)) />
            <label><input type="checkbox" data-testid="diff-icicle" prop:checked=move || compare.diff_icicle.get()
                on:change=move |ev| compare.diff_icicle.set(event_target_checked(&ev)) />"icicle"</label>
            <label title="how functions of the two runs are paired (perfbundle diff --match)">"pair functions by "
                <select data-testid="diff-match" on:change=move |ev| {
                    if let Ok(m) = event_target_value(&ev).parse::<FrameMatch>() {
                        compare.frame_match.set(m);
                        compare.diff_focus.set(0);
                    }
                }>{modes}</select>
            </label>
        </div>
        <div class="diff-legend" data-testid="diff-legend">
            <span><i class="sw red"></i>"larger share in the candidate"</span>
            <span><i class="sw blue"></i>"smaller share, or gone"</span>
            <span><i class="sw match"></i>"search match"</span>
            <span class="muted">{format!("width: mean share of both runs ({} and {} samples)", tree.base_samples, tree.candidate_samples)}</span>
        </div>
        <div class="breadcrumb">{breadcrumb}</div>
        <div class="flame-wrap">
            <canvas node_ref=canvas_ref data-testid="diff-flame-canvas" on:mousemove=on_move on:click=on_click
                on:mouseleave=move |_| tooltip.set(None)></canvas>
            <Tooltip at=tooltip testid="diff-flame-tooltip" />
        </div>
        <h3>"Largest changes of self share"</h3>
        <table class="summary-table" data-testid="top-changes">
            <thead><tr><th>"change"</th><th>"share"</th><th>"self samples"</th><th>"function"</th></tr></thead>
            <tbody>{changes}</tbody>
        </table>
    }
}
