//! The function table beside a flame graph: every function of the profile
//! shown ([`FlameState::shown`]) with its self and total samples (or weight,
//! as the flame graph goes), sortable, filtered by the search; clicking one
//! selects its widest frame and brings it into view, or in the sandwich
//! view shows its callers and callees ([`FlameState::select_function`]).

use leptos::prelude::*;

use perfbundle_core::format::share;

use crate::state::FlameState;

/// Rows listed at most (the search narrows the rest down).
const MAX_ROWS: usize = 150;

#[derive(Clone, Copy, PartialEq)]
enum SortBy {
    SelfSamples,
    Total,
    Name,
}

#[component]
pub fn FunctionTable() -> impl IntoView {
    let flame = expect_context::<FlameState>();
    let sort = RwSignal::new(SortBy::SelfSamples);
    // What the columns count (`samples`, or the weight's unit), for their heads.
    let unit = move || {
        flame.shown.with(|sh| match sh {
            Some(sh) if sh.weighted() => format!(" ({})", perfbundle_core::format::unit_name(&sh.unit())),
            _ => " (samples)".to_string(),
        })
    }; // The rows come a frame after the table: a large profile's flame graph is on screen first.
    let ready = RwSignal::new(false);
    request_animation_frame(move || set_timeout(move || ready.set(true), std::time::Duration::ZERO));
    let rows = move || {
        if !ready.get() {
            return None;
        }
        let sh = flame.shown.get()?;
        let weighted = sh.weighted();
        let all = sh.index().totals.first().copied().unwrap_or(0);
        // A function's self and total, in the flame graph's unit.
        let own = move |f: &perfbundle_core::profile::FunctionStat| {
            if weighted {
                f.self_weight.unwrap_or(0)
            } else {
                f.self_samples
            }
        };
        let tot = move |f: &perfbundle_core::profile::FunctionStat| {
            if weighted {
                f.total_weight.unwrap_or(0)
            } else {
                f.total_samples
            }
        };
        // Functions with no sample (outside a selected range, hidden) are not
        // listed, nor, during a search, those it does not match.
        let rows = flame.functions.get()?;
        let matched = flame.matches.with(|m| rows.matched(m));
        let mut f: Vec<&perfbundle_core::profile::FunctionStat> = rows
            .stats
            .iter()
            .enumerate()
            .filter(|(k, f)| f.total_samples > 0 && matched.as_ref().is_none_or(|m| m[*k]))
            .map(|(_, f)| f)
            .collect();
        match sort.get() {
            SortBy::SelfSamples => f.sort_by(|a, b| own(b).cmp(&own(a)).then(a.function.cmp(&b.function))),
            SortBy::Total => f.sort_by(|a, b| tot(b).cmp(&tot(a)).then(a.function.cmp(&b.function))),
            SortBy::Name => f.sort_by(|a, b| a.function.cmp(&b.function)),
        }
        let show = move |v: u64| sh.figure(v);
        Some(
            f.into_iter()
                .take(MAX_ROWS)
                .map(|f| {
                    let (name, file) = (f.function.clone(), f.file.clone());
                    let (name2, file2) = (name.clone(), file.clone());
                    let (own, tot) = (own(f), tot(f));
                    view! {
                        <tr data-testid="function-row" data-function=f.function.clone() data-file=f.file.clone()
                            data-self=own.to_string() data-total=tot.to_string() tabindex="0"
                            on:click=move |_| flame.select_function(name.clone(), file.clone())
                            on:keydown=move |ev| if ev.key() == "Enter" { flame.select_function(name2.clone(), file2.clone()) }>
                            <td class="num">{show(own)}</td>
                            <td class="num">{share(own, all)}</td>
                            <td class="num">{show(tot)}</td>
                            <td class="num">{share(tot, all)}</td>
                            <td>{f.category.as_str()}</td>
                            <td class="fn">{f.function.clone()}<span class="file">{f.file.clone()}</span></td>
                        </tr>
                    }
                })
                .collect_view(),
        )
    };
    let head = move |label: &'static str, by: SortBy, id: &'static str, with_unit: bool| {
        view! {
            <th class="sortable" class:sorted=move || sort.get() == by>
                <button class="th-sort" data-testid=id on:click=move |_| sort.set(by)>{label}{move || with_unit.then(unit)}</button>
            </th>
        }
    };
    view! {
        <table class="functions" data-testid="function-table">
            <thead><tr>
                {head("self", SortBy::SelfSamples, "sort-self", true)}<th>"self %"</th>
                {head("total", SortBy::Total, "sort-total", true)}<th>"total %"</th>
                <th>"category"</th>{head("function", SortBy::Name, "sort-name", false)}
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
