//! How `perfbundle record` made the run: the profiler, the commands, when each
//! process ran, and how each profile's clock was put on the run's.

use leptos::prelude::*;
use perfbundle_core::bundle::RecordInfo;

#[component]
pub fn RecordTable(record: RecordInfo) -> impl IntoView {
    let commands: Vec<(String, String)> = record.commands.clone().into_iter().collect();
    let processes = record.processes.clone();
    let alignment = record.alignment.clone();
    let status = match (record.interrupted, record.k6_exit_code) {
        (true, _) => "interrupted (Ctrl-C): what was captured until then".to_string(),
        (false, Some(99)) => format!("k6 exit 99: thresholds failed ({})", record.failed_thresholds.join("; ")),
        (false, Some(c)) => format!("k6 exit {c}"),
        (false, None) => "k6 did not exit normally".to_string(),
    };
    view! {
        <table class="kv record" data-testid="record">
            <caption>{format!("Recorded with perfbundle record, profiler: {}", record.profiler)}</caption>
            <tr><th>"outcome"</th><td data-testid="record-outcome">{status}</td></tr>
            {commands.into_iter().map(|(k, v)| view! { <tr><th>{k}</th><td class="cmd">{v}</td></tr> }).collect_view()}
            {processes.into_iter().map(|p| view! {
                <tr><th>{format!("{} ran", p.name)}</th><td>{format!("{} → {}{}", p.start, p.end,
                    p.exit_code.map(|c| format!(" (exit {c})")).unwrap_or_default())}</td></tr>
            }).collect_view()}
            {alignment.into_iter().map(|a| view! {
                <tr data-testid="record-alignment"><th>{format!("clock of {}", a.what)}</th>
                    <td>{format!("{} (±{} ms)", a.method, a.uncertainty_ms)}</td></tr>
            }).collect_view()}
        </table>
    }
}
