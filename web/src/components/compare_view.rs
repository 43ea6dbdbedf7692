//! The compare view (`?bundle=CANDIDATE&base=BASE`): both runs' charts
//! overlaid on time since each run's start, the table of changes with their
//! verdicts, and a differential flame graph per pair of profiles — all from
//! the core's `compare` module, as `perfbundle diff` reports them.

use std::sync::Arc;

use leptos::prelude::*;
use perfbundle_core::compare::profiles::DiffTree;
use perfbundle_core::compare::text::idle_note;
use perfbundle_core::compare::Verdict;
use perfbundle_core::render::charts::{overlay_charts, OverlaySide};

use super::compare_endpoints::CompareEndpoints;
use super::compare_table::CompareTable;
use super::diff_flame_graph::DiffFlameGraph;
use super::idle_note::{IdleNote, IdleShown};
use super::line_chart::LineChart;
use super::verdict_block::VerdictBlock;
use crate::state::{CompareState, Loaded, RunState};

/// A run's side of the overlaid charts, borrowed from its model.
fn side(l: &Loaded) -> Option<OverlaySide<'_>> {
    Some(OverlaySide::new(l.bundle.k6_summary.as_ref()?, l.bundle.k6_timeseries.as_ref()?))
}

#[component]
pub fn CompareView() -> impl IntoView {
    let run = expect_context::<RunState>();
    let compare = expect_context::<CompareState>();
    // Both runs, shared (`Arc<Loaded>`): read in place, never cloned.
    let both = move || Some((run.bundle.loaded.get()?, compare.base.loaded.get()?));
    let diff = compare.diff;
    let charts = Memo::new(move |_| {
        let (c, b) = both()?;
        Some(overlay_charts(&side(&b)?, &side(&c)?))
    });
    let domain = Memo::new(move |_| {
        compare.range.get().unwrap_or_else(|| {
            charts.with(|c| c.as_ref().and_then(|c| c.first()).map(|c| c.chart.domain).unwrap_or((0.0, 1.0)))
        })
    });
    let header = move || {
        let (c, b) = both()?;
        let labels =
            |l: &Loaded| l.bundle.manifest.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
        Some(view! {
            <div class="compare-head">
                <p><span class="muted">"base "</span><b data-testid="compare-base-title">{b.bundle.manifest.title.clone()}</b>
                    " "<span class="muted">{labels(&b)}</span></p>
                <p><span class="muted">"candidate "</span><b data-testid="compare-candidate-title">{c.bundle.manifest.title.clone()}</b>
                    " "<span class="muted">{labels(&c)}</span></p>
            </div>
        })
    };
    let body = move || {
        let d = match diff.get()? {
            Ok(d) => d,
            Err(e) => {
                return Some(view! { <p class="error" role="alert" data-testid="compare-error">{e}</p> }.into_any())
            }
        };
        let all = compare.all.get();
        let rows = d.ranked_rows(all);
        let count = |v: Verdict| rows.iter().filter(|r| r.change.verdict == v).count();
        let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        let verdicts = format!(
            "k6 figures: {}, {}, {} within noise or not tested",
            plural(count(Verdict::Regression), "regression"),
            plural(count(Verdict::Improvement), "improvement"),
            count(Verdict::Same)
        );
        let (c, b) = both()?;
        let only = [
            ("only in the base: ", d.only_in_base.join(", ")),
            ("only in the candidate: ", d.only_in_candidate.join(", ")),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| view! { <p class="muted">{k}{v}</p> })
        .collect_view();
        let unrelated = d.unrelated.clone().map(|why| {
            view! { <p class="warning" role="note" data-testid="unrelated-runs">"⚠ Different tests? "{why}</p> }
        });
        Some(
            view! {
                {unrelated}
                <VerdictBlock run=c base=b />
                <CompareEndpoints diff=d.clone() />
                <p class="verdicts" data-testid="compare-verdicts">{verdicts}</p>
                <p class="jump">
                    <a href="#compare-charts">"↓ charts"</a>" "
                    <a href="#compare-profiles" data-testid="to-diff-flame">"↓ differential flame graph"</a>
                </p>
                <label><input type="checkbox" data-testid="compare-all" prop:checked=move || compare.all.get()
                    on:change=move |ev| compare.all.set(event_target_checked(&ev)) />"every sub-series"</label>
                <CompareTable diff=d.clone() all=all />
                {only}
            }
            .into_any(),
        )
    };
    let chart_views = move || {
        let cs = charts.get()?;
        Some(
            cs.into_iter()
                .filter(|c| c.chart.lines.iter().any(|l| !l.points.is_empty()))
                .map(|c| {
                    view! {
                        <LineChart title=c.chart.title contains=c.chart.contains domain=domain
                            testid=format!("compare-chart-{}", c.id) lines=c.chart.lines elapsed=true
                            hover=compare.hover range=compare.range />
                    }
                })
                .collect_view(),
        )
    };
    let profiles = move || {
        let d = diff.get()?.ok()?;
        let (c, b) = both()?;
        if d.profiles.is_empty() {
            let u = &d.unpaired_profiles;
            let note = if u.base.is_empty() && u.candidate.is_empty() {
                "Neither run has a profile.".to_string()
            } else {
                format!(
                    "No pair of profiles (base: {}; candidate: {}). perfbundle diff --pair BASE=CANDIDATE pairs them by name.",
                    if u.base.is_empty() { "none".into() } else { u.base.join(", ") },
                    if u.candidate.is_empty() { "none".into() } else { u.candidate.join(", ") }
                )
            };
            return Some(view! { <p class="muted" data-testid="no-pairs">{note}</p> }.into_any());
        }
        let i = compare.pair.get().min(d.profiles.len() - 1);
        let pair = &d.profiles[i];
        let with_idle = !pair.idle_left_out;
        let tree = Arc::new(DiffTree::new(
            &b.bundle.profiles[pair.base_index].cpu_view(with_idle).profile,
            &c.bundle.profiles[pair.candidate_index].cpu_view(with_idle).profile,
            d.frame_match,
        ));
        let idle = match idle_note(pair) {
            Some(note) => Some(view! { <IdleNote note=note /> }.into_any()),
            None if pair.base_idle + pair.candidate_idle > 0 => Some(view! { <IdleShown /> }.into_any()),
            None => None,
        };
        let buttons = d
            .profiles
            .iter()
            .enumerate()
            .map(|(j, p)| {
                let text = format!("{} → {}", p.base, p.candidate);
                view! { <button class="tab" class:active=move || compare.pair.get() == j data-testid="pair-tab"
                on:click=move |_| compare.show_pair(j)>{text}</button> }
            })
            .collect_view();
        Some(
            view! {
                <nav class="tabs">{buttons}</nav>
                {idle}
                <DiffFlameGraph tree=tree diff=d.clone() pair=i />
            }
            .into_any(),
        )
    };
    view! {
        <section class="compare" data-testid="compare">
            {header}
            {body}
            <h2 id="compare-charts">"Charts"<span class="muted">" — time since each run's start; base dashed, candidate solid"</span></h2>
            <div class="toolbar">
                <button data-testid="compare-reset-range" on:click=move |_| compare.range.set(None)
                    disabled=move || compare.range.get().is_none()>"Reset zoom"</button>
            </div>
            {chart_views}
            <h2 id="compare-profiles">"Profiles"</h2>
            {profiles}
        </section>
    }
}
