//! The "sandwich" companion of a flame graph: every function of the profile
//! shown ([`FlameState::shown`]) with its self and total samples, sortable;
//! clicking one selects it ([`FlameState::select_function`]: a search for it).

use leptos::prelude::*;

use crate::state::FlameState;

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
    let rows = move || {
        let sh = flame.shown.get()?;
        let p = sh.profile();
        let total = p.total_samples.max(1) as f64;
        // Functions with no sample (outside a selected range) are not listed.
        let mut f: Vec<_> = p.functions().into_iter().filter(|f| f.total_samples > 0).collect();
        match sort.get() {
            SortBy::SelfSamples => {}
            SortBy::Total => f.sort_by(|a, b| b.total_samples.cmp(&a.total_samples).then(a.function.cmp(&b.function))),
            SortBy::Name => f.sort_by(|a, b| a.function.cmp(&b.function)),
        }
        Some(
            f.into_iter()
                .take(300)
                .map(|f| {
                    let name = f.function.clone();
                    view! {
                        <tr data-testid="function-row" on:click=move |_| flame.select_function(name.clone())>
                            <td class="num">{f.self_samples}</td>
                            <td class="num">{format!("{:.2}%", f.self_samples as f64 * 100.0 / total)}</td>
                            <td class="num">{f.total_samples}</td>
                            <td class="num">{format!("{:.2}%", f.total_samples as f64 * 100.0 / total)}</td>
                            <td>{f.category.as_str()}</td>
                            <td class="fn">{f.function.clone()}<span class="file">{f.file.clone()}</span></td>
                        </tr>
                    }
                })
                .collect_view(),
        )
    };
    let head = move |label: &'static str, by: SortBy, id: &'static str| {
        view! { <th class="sortable" class:sorted=move || sort.get() == by data-testid=id on:click=move |_| sort.set(by)>{label}</th> }
    };
    view! {
        <table class="functions" data-testid="function-table">
            <thead><tr>
                {head("self", SortBy::SelfSamples, "sort-self")}<th>"self %"</th>
                {head("total", SortBy::Total, "sort-total")}<th>"total %"</th>
                <th>"category"</th>{head("function", SortBy::Name, "sort-name")}
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
