//! The perfbundle viewer. State lives in signals grouped by concern
//! ([`state::RunState`], [`state::FlameState`], [`state::CompareState`]),
//! each provided through context; bundles are read with `perfbundle-core`
//! compiled to wasm32 — the code the CLI writes them with; one component per
//! file in `components/`, canvas painting in [`canvas`]. Every string from a
//! bundle is rendered as text.

pub mod canvas;
pub mod components;
pub mod embed;
pub mod load;
pub mod permalink;
pub mod state;

use leptos::prelude::*;

use components::{
    charts::ChartsView, compare_view::CompareView, loader::Loader, overview::Overview, profiles::ProfilesView,
    runs_list::RunsList,
};
use state::{Status, Tab, ViewerState};

#[component]
pub fn App() -> impl IntoView {
    let state = ViewerState::new();
    state.provide();
    let (run, compare) = (state.run, state.compare);
    let (url, base) = permalink::read(state);
    if let Some((name, bytes)) = load::embedded_bundle() {
        load::open_bytes(run.bundle, &name, &bytes);
    } else if let Some(url) = url {
        load::open_url(run.bundle, url);
    }
    if let Some(base) = base {
        load::open_url(compare.base, base);
    }
    permalink::follow(state);
    if run.embed.get_untracked() {
        embed::post_height();
    }

    let tab_button = move |tab: Tab, label: &'static str| {
        view! {
            <button
                class="tab"
                class:active=move || run.tab.get() == tab
                data-testid=format!("tab-{}", tab.as_str())
                on:click=move |_| run.tab.set(tab)
            >
                {label}
            </button>
        }
    };

    view! {
        <Loader />
        <div class="status">
            {move || match run.bundle.status.get() {
                Status::Idle => view! {
                    <p class="hint" data-testid="idle">
                        "Open a .perfbundle: choose a file, drop one anywhere on the page, or add ?bundle=URL to the address."
                    </p>
                }.into_any(),
                Status::Loading(name) => view! {
                    <p class="loading" data-testid="loading"><span class="spinner"></span>"Loading "{name}"…"</p>
                }.into_any(),
                Status::Failed(msg) => view! {
                    <p class="error" role="alert" data-testid="error">{msg}</p>
                }.into_any(),
                Status::Ready => ().into_any(),
            }}
            {move || match compare.base.status.get() {
                Status::Loading(name) => view! {
                    <p class="loading" data-testid="base-loading"><span class="spinner"></span>"Loading the base "{name}"…"</p>
                }.into_any(),
                Status::Failed(msg) => view! {
                    <p class="error" role="alert" data-testid="base-error">"The base bundle: "{msg}</p>
                }.into_any(),
                _ => ().into_any(),
            }}
        </div>
        <RunsList />
        <Show when=move || run.bundle.loaded.with(|l| l.is_some())>
            <nav class="tabs">
                {tab_button(Tab::Overview, "Overview")}
                {tab_button(Tab::Charts, "Charts")}
                {tab_button(Tab::Profiles, "Profiles")}
                <Show when=move || compare.base.loaded.with(|b| b.is_some())>
                    {tab_button(Tab::Compare, "Compare")}
                </Show>
            </nav>
            {move || match run.tab.get() {
                Tab::Overview => view! { <Overview /> }.into_any(),
                Tab::Charts => view! { <ChartsView /> }.into_any(),
                Tab::Profiles => view! { <ProfilesView /> }.into_any(),
                Tab::Compare => view! { <CompareView /> }.into_any(),
            }}
        </Show>
    }
}
