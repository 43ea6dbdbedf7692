//! The call tree (the Firefox Profiler's): the profile shown as an
//! expandable table, top-down or inverted (bottom-up: where samples ended,
//! then who called), heaviest children first, with total and self samples
//! and their shares. The heaviest path opens at first.

use std::collections::HashSet;
use std::sync::Arc;

use leptos::prelude::*;
use perfbundle_core::profile::flame::FlameIndex;
use perfbundle_core::profile::Profile;

use crate::canvas::label;
use crate::state::FlameState;

/// Rows a tree shows at most (the rest is one "… more" line per parent).
const MAX_CHILDREN: usize = 200;

/// The rows to show: each open node's children, depth first.
fn visible_rows(ix: &FlameIndex, open: &HashSet<u32>) -> Vec<(u32, u32, usize)> {
    let mut out = Vec::new();
    let mut stack: Vec<(u32, u32)> = ix.children[0].iter().rev().map(|&c| (c, 0)).collect();
    while let Some((n, depth)) = stack.pop() {
        if ix.totals[n as usize] == 0 {
            continue;
        }
        let kids = ix.children[n as usize].iter().filter(|c| ix.totals[**c as usize] > 0).count();
        out.push((n, depth, kids));
        if open.contains(&n) {
            for &c in ix.children[n as usize].iter().take(MAX_CHILDREN).rev() {
                stack.push((c, depth + 1));
            }
        }
    }
    out
}

/// The heaviest path from the root, to open at first (ten levels at most).
fn heaviest_path(ix: &FlameIndex) -> HashSet<u32> {
    let mut open = HashSet::new();
    let mut n = 0u32;
    for _ in 0..10 {
        let Some(&c) = ix.children[n as usize].first() else { break };
        open.insert(c);
        n = c;
    }
    open
}

#[component]
pub fn CallTree() -> impl IntoView {
    let flame = expect_context::<FlameState>();
    // The tree shown: the profile shown, or its inversion; heaviest first.
    let tree = Memo::new(move |_| {
        let inverted = flame.inverted.get();
        flame.shown.with(|sh| {
            let sh = sh.as_ref()?;
            let p: Arc<Profile> = Arc::new(if inverted { sh.profile().inverted() } else { sh.profile().clone() });
            let ix = Arc::new(FlameIndex::left_heavy_by(&p, sh.weighted()));
            Some(crate::state::Shared(Arc::new((p, ix))))
        })
    });
    let open: RwSignal<HashSet<u32>> = RwSignal::new(HashSet::new());
    Effect::new(move |_| {
        if let Some(t) = tree.get() {
            open.set(heaviest_path(&t.0 .1));
        }
    });
    let rows = move || {
        let t = tree.get()?;
        let (p, ix) = &*t.0;
        let all = ix.totals[0];
        let opened = open.get();
        let sh = flame.shown.get()?;
        let own = |n: u32| {
            if sh.weighted() {
                p.nodes.self_weight.get(n as usize).copied().unwrap_or(0)
            } else {
                p.nodes.self_samples[n as usize]
            }
        };
        Some(
            visible_rows(ix, &opened)
                .into_iter()
                .map(|(n, depth, kids)| {
                    let (tot, me) = (ix.totals[n as usize], own(n));
                    let is_open = opened.contains(&n);
                    let toggle = move |_| {
                        open.update(|o| {
                            if !o.remove(&n) {
                                o.insert(n);
                            }
                        })
                    };
                    let mark = if kids == 0 {
                        " "
                    } else if is_open {
                        "▾"
                    } else {
                        "▸"
                    };
                    view! {
                        <tr data-testid="tree-row" data-depth=depth data-open=is_open.to_string()
                            data-total=tot.to_string() data-self=me.to_string() on:click=toggle>
                            <td class="num">{sh.figure(tot)}</td>
                            <td class="num">{perfbundle_core::format::share(tot, all)}</td>
                            <td class="num">{sh.figure(me)}</td>
                            <td class="fn" style=format!("padding-left:{}em", f64::from(depth) * 1.1)>
                                <span class="twisty">{mark}</span>{label(p, n)}
                            </td>
                        </tr>
                    }
                })
                .collect_view(),
        )
    };
    // What the columns count, for their heads.
    let unit = move || {
        flame.shown.with(|sh| match sh {
            Some(sh) if sh.weighted() => format!(" ({})", perfbundle_core::format::unit_name(&sh.unit())),
            _ => " (samples)".to_string(),
        })
    };
    view! {
        <section class="call-tree" data-testid="call-tree">
            <div class="toolbar">
                <label><input type="checkbox" data-testid="tree-inverted" prop:checked=move || flame.inverted.get()
                    on:change=move |ev| flame.inverted.set(event_target_checked(&ev)) />"inverted (bottom-up: where samples ended first)"</label>
                <button data-testid="tree-collapse" on:click=move |_| open.set(HashSet::new())>"collapse all"</button>
            </div>
            <table class="functions tree">
                <thead><tr><th>"total"{unit}</th><th>"total %"</th><th>"self"{unit}</th><th>"function"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}
