//! The legend of a flame graph's colours: each category the profile has,
//! its share of the samples, and a box to hide its samples (idle is hidden
//! by default, its box the same switch as "show idle": the percentages are
//! then of the rest, as the Firefox Profiler's).

use leptos::prelude::*;
use perfbundle_core::profile::Category;

use crate::canvas::rgb;
use crate::state::{FlameState, RunState};

#[component]
pub fn CategoryLegend() -> impl IntoView {
    let flame = expect_context::<FlameState>();
    let run = expect_context::<RunState>();
    // Categories of the whole profile (hidden ones stay listed), with their self share.
    let items = move || {
        let l = run.bundle.loaded.get()?;
        let p = l.bundle.profiles.get(flame.profile.get().min(l.bundle.profiles.len().checked_sub(1)?))?;
        let mut share = [0u64; Category::ALL.len()];
        for (n, s) in p.nodes.self_samples.iter().enumerate().skip(1) {
            let c = p.frames.category[p.nodes.frame[n] as usize];
            if let Some(k) = Category::ALL.iter().position(|x| *x == c) {
                share[k] += s;
            }
        }
        Some(
            Category::ALL
                .into_iter()
                .enumerate()
                .filter(|(_, c)| p.frames.category.contains(c))
                .map(|(k, c)| {
                    // Idle has one switch for every view (`?idle=1`); the others are this legend's.
                    let hidden = move || {
                        if c == Category::Idle {
                            !run.show_idle.get()
                        } else {
                            flame.hidden.with(|h| h.contains(&c))
                        }
                    };
                    let toggle = move |ev| {
                        let hide = !event_target_checked(&ev);
                        if c == Category::Idle {
                            run.show_idle.set(!hide);
                        } else {
                            flame.hidden.update(|h| {
                                h.retain(|x| *x != c);
                                if hide {
                                    h.push(c);
                                }
                            });
                        }
                        flame.focus.set(0);
                    };
                    view! {
                        <label class="legend-item" title=c.describe() data-testid="legend-item" data-category=c.as_str()>
                            <input type="checkbox" prop:checked=move || !hidden() on:change=toggle />
                            <i class="sw" style=format!("background:{}", rgb(c.color()))></i>
                            {format!("{} {}", c.as_str(), perfbundle_core::format::share(share[k], p.total_samples))}
                        </label>
                    }
                })
                .collect_view(),
        )
    };
    view! {
        <div class="category-legend" data-testid="category-legend">
            <span class="muted">"colours (self share; untick to hide a category's samples):"</span>
            {items}
        </div>
    }
}
