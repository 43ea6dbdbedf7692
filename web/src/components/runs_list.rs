//! The landing page of a site of runs (`perfbundle site`, `perfbundle view
//! DIR`): the runs of `index.json`, newest first, with their key figures.
//! Absent elsewhere, and then nothing is shown.

use leptos::prelude::*;
use perfbundle_core::history::same_setup;
use perfbundle_core::k6::text::format_ms;

use crate::load;
use crate::state::{CompareState, RunState, SiteState, Tab};

#[component]
pub fn RunsList() -> impl IntoView {
    let run = expect_context::<RunState>();
    let compare = expect_context::<CompareState>();
    let runs = expect_context::<SiteState>().runs;
    view! {
        <Show when=move || !runs.get().is_empty() && run.bundle.loaded.with(|l| l.is_none()) && run.tab.get() != Tab::Trend>
            <section class="runs" data-testid="runs">
                <h2>"Runs" <a class="trend-link" href="?view=trend" data-testid="trend-link"
                    on:click=move |ev| { ev.prevent_default(); run.tab.set(Tab::Trend); }>"the trend across runs"</a></h2>
                <table class="runs-table">
                    <thead><tr><th>"run"</th><th>"labels"</th><th>"start"</th><th>"requests"</th><th>"req/s"</th><th>"p(95)"</th><th>"failed"</th><th>"thresholds"</th><th>"profiles"</th><th>"compare"</th></tr></thead>
                    <tbody>
                        {move || { let all = runs.get(); all.clone().into_iter().enumerate().map(move |(i, r)| {
                            let url = r.file.clone();
                            // The list is newest first: the run before this one of the same
                            // test under the same profilers is further down (others are skipped).
                            let prev = all[i + 1..]
                                .iter()
                                .find(|p| same_setup(&r, p))
                                .map(|p| p.file.clone());
                            let href = format!("?bundle={}", r.file);
                            let labels = r.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
                            let th = match r.thresholds_passed {
                                Some(true) => "✓ passed",
                                Some(false) => "✗ failed",
                                None => "–",
                            };
                            view! {
                                <tr>
                                    <td><a href=href data-testid="run-link" on:click=move |ev| {
                                        ev.prevent_default();
                                        load::open_url(run.bundle, url.clone());
                                    }>{r.title.clone()}</a></td>
                                    <td>{labels}</td>
                                    <td>{r.start.clone().unwrap_or_default()}</td>
                                    <td>{r.http_reqs.map(|v| format!("{v}")).unwrap_or_default()}</td>
                                    <td>{r.http_req_rate.map(|v| format!("{v:.2}")).unwrap_or_default()}</td>
                                    <td>{r.http_req_duration_p95_ms.map(format_ms).unwrap_or_default()}</td>
                                    <td>{r.http_req_failed_rate.map(perfbundle_core::format::pct).unwrap_or_default()}</td>
                                    <td>{th}</td>
                                    <td>{r.profiles.join(", ")}</td>
                                    <td>{prev.map(|p| {
                                        let href = format!("?bundle={}&base={p}", r.file);
                                        let (url, p) = (r.file.clone(), p.clone());
                                        view! { <a href=href data-testid="compare-link" on:click=move |ev| {
                                            ev.prevent_default();
                                            load::open_comparison(run, compare, url.clone(), p.clone());
                                        }>"vs the run before of this test"</a> }
                                    })}</td>
                                </tr>
                            }
                        }).collect_view() }}
                    </tbody>
                </table>
            </section>
        </Show>
    }
}
