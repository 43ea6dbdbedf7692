//! The run at a glance, the answer first: title, labels and window, the
//! verdict block, the endpoints, the key charts (request rate, latency,
//! failures, VUs), k6's whole summary, then the environment and tools.

use leptos::prelude::*;
use perfbundle_core::k6::text::format_ms;

use super::chart_toolbar::ChartToolbar;
use super::charts::{ChartSet, KEY_CHARTS};
use super::endpoints_table::EndpointsTable;
use super::record_table::RecordTable;
use super::summary_table::SummaryTable;
use super::verdict_block::VerdictBlock;
use crate::state::RunState;

#[component]
pub fn Overview() -> impl IntoView {
    let run = expect_context::<RunState>();
    view! {
        {move || run.bundle.loaded.get().map(|l| {
            let m = &l.bundle.manifest;
            let labels: Vec<(String, String)> = m.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            let env = &m.environment;
            let env_rows: Vec<(String, String)> = [
                ("host", env.host.clone()),
                ("OS", env.os.clone()),
                ("kernel", env.kernel.clone()),
                ("arch", env.arch.clone()),
                ("CPU", env.cpu.clone()),
                ("cores", env.cores.map(|c| c.to_string())),
                ("memory", env.memory_bytes.map(|b| perfbundle_core::k6::text::format_bytes(b as f64))),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .collect();
            let tools: Vec<(String, String)> = m.tools.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            let window = match (&m.run.start, &m.run.end) {
                (Some(s), Some(e)) => format!(
                    "{s} → {e}{}",
                    m.run.duration_ms.map(|d| format!(" ({})", format_ms(d))).unwrap_or_default()
                ),
                _ => "no k6 run window".into(),
            };
            view! {
                <section class="overview" data-testid="overview">
                    <h1 data-testid="title">{m.title.clone()}</h1>
                    <p class="window" data-testid="run-window">{window}</p>
                    <ul class="labels" data-testid="labels">
                        {labels.into_iter().map(|(k, v)| view! { <li class="label"><b>{k}</b>"="{v}</li> }).collect_view()}
                    </ul>
                    <VerdictBlock run=l.clone() />
                    <EndpointsTable />
                    {l.bundle.k6_timeseries.is_some().then(|| view! {
                        <div class="key-charts" data-testid="key-charts">
                            <ChartToolbar />
                            <ChartSet only=KEY_CHARTS />
                        </div>
                    })}
                    <SummaryTable />
                    <div class="meta" data-testid="run-meta">
                        <table class="kv" data-testid="environment">
                            <caption>"Environment"</caption>
                            {if env_rows.is_empty() {
                                view! { <tr><td colspan="2">"not recorded"</td></tr> }.into_any()
                            } else {
                                env_rows.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> }).collect_view().into_any()
                            }}
                        </table>
                        <table class="kv" data-testid="tools">
                            <caption>"Tools"</caption>
                            {tools.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> }).collect_view()}
                            <tr><th>"created by"</th><td>{m.created_by.clone()}</td></tr>
                        </table>
                    </div>
                    {m.record.clone().map(|r| view! { <RecordTable record=r /> })}
                </section>
            }
        })}
    }
}
