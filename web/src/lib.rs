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
pub mod size;
pub mod state;

use leptos::prelude::*;

use components::{
    charts::ChartsView, compare_view::CompareView, loader::Loader, overview::Overview, profiles::ProfilesView,
    runs_list::RunsList, trend_view::TrendView,
};
use state::{Status, Tab, ViewerState};

/// Where a viewer is mounted: the whole page (its URL is the permalink), or a
/// `<perfbundle-viewer>` element among others on a page it does not own.
#[derive(Clone, Debug, PartialEq)]
pub enum Host {
    /// The viewer is the page: options from the URL's query string, kept in
    /// step with it; the page's `index.json` lists runs; a file dropped
    /// anywhere opens.
    Page,
    /// A custom element: options from its attributes (in the permalink's keys,
    /// as a query string); never reads or rewrites the page's URL, listens to
    /// nothing outside its own tree, fetches nothing but its bundles.
    Element { params: String },
}

/// The viewer as the whole page (`index.html`, `perfbundle html`).
#[component]
pub fn App() -> impl IntoView {
    view! { <Viewer host=Host::Page /> }
}

/// The viewer, with its own state: several can live on one page.
#[component]
pub fn Viewer(host: Host) -> impl IntoView {
    let state = ViewerState::new();
    state.provide();
    provide_context(host.clone());
    let (run, compare, site) = (state.run, state.compare, state.site);
    match &host {
        Host::Page => {
            let (url, base) = permalink::read(state);
            if let Some((name, bytes)) = load::embedded_bundle() {
                load::open_bytes(run.bundle, &name, &bytes);
                // A comparison report (`html --base`) opens on the comparison.
                if let Some((name, bytes)) = load::embedded_base() {
                    load::open_bytes(compare.base, &name, &bytes);
                    if !permalink::has("view") {
                        run.tab.set(state::Tab::Compare);
                    }
                }
            } else {
                // A site's runs (`index.json` beside the page); a single-file report has none.
                state.site.fetch();
                if let Some(url) = url {
                    load::open_url(run.bundle, url);
                }
            }
            if let Some(base) = base {
                load::open_url(compare.base, base);
            }
            permalink::follow(state);
            if run.embed.get_untracked() {
                embed::post_height();
            }
        }
        Host::Element { params } => {
            if let Ok(p) = web_sys::UrlSearchParams::new_with_str(params) {
                let (url, base) = permalink::read_params(state, &p);
                if let Some(url) = url {
                    load::open_url(run.bundle, url);
                }
                if let Some(base) = base {
                    load::open_url(compare.base, base);
                }
            }
            // Embedded: no header (the element is sized by the page).
            run.embed.set(true);
        }
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
                // A site's page lists its runs instead.
                Status::Idle if !site.runs.with(|r| r.is_empty()) => ().into_any(),
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
            {move || run.bundle.notice.get().map(|msg| view! {
                <p class="error" role="alert" data-testid="open-error">{msg}" "
                    <button data-testid="open-error-close" on:click=move |_| run.bundle.notice.set(None)>"dismiss"</button></p>
            })}
            {move || compare.base.notice.get().map(|msg| view! {
                <p class="error" role="alert" data-testid="base-error">"The base bundle: "{msg}" "
                    <button on:click=move |_| compare.base.notice.set(None)>"dismiss"</button></p>
            })}
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
        <Show when=move || run.tab.get() == Tab::Trend && run.bundle.loaded.with(|l| l.is_none())>
            <TrendView />
        </Show>
        <Show when=move || run.bundle.loaded.with(|l| l.is_some())>
            // Embedded, the page header is hidden: the run's title heads every tab
            // (the overview has its own).
            {move || (run.embed.get() && run.tab.get() != Tab::Overview).then(|| {
                let title = run.bundle.loaded.with(|l| l.as_ref().map(|l| l.bundle.manifest.title.clone()));
                view! { <p class="embed-title" data-testid="embed-title">{title}</p> }
            })}
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
                Tab::Trend => view! { <TrendView /> }.into_any(),
            }}
        </Show>
    }
}
