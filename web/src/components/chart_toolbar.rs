//! Above the run's charts and summary: the sub-series chosen, the selected
//! time range and the button that resets it.

use leptos::prelude::*;
use perfbundle_core::k6::SeriesOrigin;

use crate::state::RunState;

#[component]
pub fn ChartToolbar() -> impl IntoView {
    let run = expect_context::<RunState>();
    let options = move || {
        let l = run.bundle.loaded.get()?;
        let s = l.bundle.k6_summary.as_ref()?;
        let opts: Vec<String> = s
            .series
            .iter()
            .filter(|(_, v)| v.metric == "http_req_duration" && v.origin != SeriesOrigin::Metric)
            .filter_map(|(k, _)| k.strip_prefix("http_req_duration").map(str::to_string))
            .collect();
        Some(
            opts.into_iter()
                .map(|o| {
                    let sel = o.clone();
                    view! { <option value=o.clone() selected=move || run.series.get() == sel>{o.clone()}</option> }
                })
                .collect_view(),
        )
    };
    view! {
        <div class="toolbar">
            <label>"Sub-series "
                <select data-testid="series-select" on:change=move |ev| run.series.set(event_target_value(&ev))>
                    <option value="" selected=move || run.series.get().is_empty()>"all samples"</option>
                    {options}
                </select>
            </label>
            <span class="range" data-testid="range">
                {move || match run.range.get() {
                    Some((a, b)) => format!("range: {:.1} s selected", (b - a) / 1000.0),
                    None => "drag across a chart to zoom".into(),
                }}
            </span>
            <button data-testid="reset-range" on:click=move |_| run.range.set(None) disabled=move || run.range.get().is_none()>
                "Reset zoom"
            </button>
        </div>
    }
}
