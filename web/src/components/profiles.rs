//! The profiles tab: one tab per profile of the bundle, the views (left
//! heavy, flame graph by name, time order, sandwich, call tree), the search
//! box (substring or regex, with the share of samples it covers), icicle ↔
//! flame, samples ↔ weight (where the profile has weights), the category
//! legend (hide idle), the range the charts selected, then the view and the
//! function table — components that share only [`FlameState`].

use leptos::prelude::*;
use perfbundle_core::render::chart::clock_label;

use super::call_tree::CallTree;
use super::category_legend::CategoryLegend;
use super::flame_graph::FlameGraph;
use super::function_table::FunctionTable;
use super::idle_note::{IdleNote, IdleShown};
use super::sandwich_view::SandwichView;
use super::time_order::TimeOrderChart;
use crate::state::{FlameState, FlameView, RunState, ShownProfile};

#[component]
pub fn ProfilesView() -> impl IntoView {
    let run = expect_context::<RunState>();
    let flame = expect_context::<FlameState>();

    let profile_buttons = move || {
        let l = run.bundle.loaded.get()?;
        Some(
            l.bundle
                .profiles
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    view! {
                        <button class="tab" class:active=move || flame.profile.get() == i data-testid="profile-tab"
                            on:click=move |_| flame.show_profile(i)>
                            {format!("{} ({}, {} samples)", p.name, p.source, p.total_samples)}
                        </button>
                    }
                })
                .collect_view(),
        )
    };
    let range_note = move || {
        let sh = flame.shown.get()?;
        let (a, b) = run.range.get()?;
        Some(match sh {
            ShownProfile::Derived { profile, of, cut: true, .. } => format!(
                "{} of {} samples: those taken {}–{} (the range selected on the charts)",
                profile.total_samples,
                of,
                clock_label(a),
                clock_label(b)
            ),
            ShownProfile::Whole { .. } | ShownProfile::Derived { .. } => {
                "this profile has no sample times on the run's clock: all its samples are shown".to_string()
            }
        })
    };

    // The samples/weight switch, for a profile with weights: what its unit is.
    let weight_unit = move || {
        let l = run.bundle.loaded.get()?;
        let p = l.bundle.profiles.get(flame.profile.get().min(l.bundle.profiles.len().saturating_sub(1)))?;
        if !p.has_weights() {
            return None;
        }
        Some(perfbundle_core::format::unit_name(p.weight_unit.as_deref().unwrap_or("")).to_string())
    };

    // Idle is left out unless asked for: said once, with the switch.
    let idle_line = move || {
        let l = run.bundle.loaded.get()?;
        let p = l.bundle.profiles.get(flame.profile.get().min(l.bundle.profiles.len().checked_sub(1)?))?;
        let idle = p.idle_samples();
        if idle == 0 {
            return None;
        }
        Some(if run.show_idle.get() {
            view! { <IdleShown /> }.into_any()
        } else {
            view! { <IdleNote note=perfbundle_core::profile::derive::idle_note(idle, p.total_samples) /> }.into_any()
        })
    };

    let view_buttons = move || {
        FlameView::ALL
            .into_iter()
            .map(|v| {
                view! {
                    <button class="tab small" class:active=move || flame.view.get() == v data-testid="flame-view"
                        data-view=v.id() on:click=move |_| flame.view.set(v)>{v.label()}</button>
                }
            })
            .collect_view()
    };
    let body = move || match flame.view.get() {
        FlameView::Flame | FlameView::LeftHeavy => ().into_any(),
        FlameView::TimeOrder => view! { <TimeOrderChart /> }.into_any(),
        FlameView::Sandwich => view! { <SandwichView /> }.into_any(),
        FlameView::CallTree => view! { <CallTree /> }.into_any(),
    };
    view! {
        <section class="profiles" data-testid="profiles">
            <Show when=move || run.bundle.loaded.with(|l| l.as_ref().is_some_and(|l| !l.bundle.profiles.is_empty()))
                fallback=|| view! { <p data-testid="no-profiles">"This bundle holds no profile."</p> }>
                <nav class="tabs">{profile_buttons}</nav>
                <nav class="tabs views" data-testid="flame-views">{view_buttons}</nav>
                <div class="toolbar">
                    <input type="search" placeholder="search functions (substring, or regex)" data-testid="flame-search"
                        prop:value=move || flame.search.get()
                        on:input=move |ev| flame.search.set(event_target_value(&ev)) />
                    <label><input type="checkbox" data-testid="flame-regex" prop:checked=move || flame.regex.get()
                        on:change=move |ev| flame.regex.set(event_target_checked(&ev)) />"regex"</label>
                    <label><input type="checkbox" data-testid="flame-icicle" prop:checked=move || flame.icicle.get()
                        on:change=move |ev| flame.icicle.set(event_target_checked(&ev)) />"icicle"</label>
                    {move || weight_unit().map(|unit| view! {
                        <label title="draw by the profile's weight (as its own tools do), or by sample counts">
                            <input type="checkbox" data-testid="flame-by-weight" prop:checked=move || flame.by_weight.get()
                                on:change=move |ev| flame.by_weight.set(event_target_checked(&ev)) />
                            {format!("by weight ({unit})")}
                        </label>
                    })}
                    <span class="search-info" data-testid="search-info">{move || flame.matches.with(|m| m.info())}</span>
                </div>
                <p class="range-note" data-testid="flame-range">{range_note}
                    <button data-testid="flame-range-reset" on:click=move |_| run.range.set(None)
                        class:hidden=move || run.range.get().is_none()>"all samples"</button>
                </p>
                {idle_line}
                <CategoryLegend />
                <FlameGraph />
                {body}
                <FunctionTable />
            </Show>
        </section>
    }
}
