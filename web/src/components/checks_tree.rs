//! k6's checks as a tree of groups: each check ✓ or ✗ with its passes and
//! fails, as `perfbundle inspect` and k6's full summary print them.

use leptos::prelude::*;
use perfbundle_core::format::count as format_count;
use perfbundle_core::k6::CheckGroup;

fn group(g: &CheckGroup) -> AnyView {
    let checks = g
        .checks
        .iter()
        .map(|c| {
            let ok = c.fails == 0;
            let share = c.pass_percent();
            view! {
                <li class=if ok { "check pass" } else { "check fail" } data-testid="check" data-path=c.path.clone()>
                    <span class="mark">{if ok { "✓" } else { "✗" }}</span>" "<span class="name">{c.name.clone()}</span>
                    <span class="counts">
                        {(!ok).then(|| format!(" {share:.0}% —"))}
                        " ✓ "<span data-testid="check-passes" data-value=c.passes.to_string()>{format_count(c.passes as f64)}</span>
                        " / ✗ "<span data-testid="check-fails" data-value=c.fails.to_string()>{format_count(c.fails as f64)}</span>
                    </span>
                </li>
            }
        })
        .collect_view();
    let subs = g
        .groups
        .iter()
        .map(|sub| {
            view! {
                <li class="group" data-testid="check-group" data-path=sub.path.clone()>
                    <span class="group-name">"█ "{sub.name.clone()}</span>
                    {group(sub)}
                </li>
            }
        })
        .collect_view();
    view! { <ul class="checks">{checks}{subs}</ul> }.into_any()
}

#[component]
pub fn ChecksTree(root: CheckGroup) -> impl IntoView {
    view! { <div class="checks-tree" data-testid="checks-tree">{group(&root)}</div> }
}
