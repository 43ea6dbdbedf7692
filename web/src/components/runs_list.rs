//! When served by `perfbundle view DIR`, the landing page lists the bundles
//! (from `bundles/index.json`; absent elsewhere, and then nothing is shown).

use leptos::prelude::*;

use crate::load;
use crate::state::use_state;

#[component]
pub fn RunsList() -> impl IntoView {
    let state = use_state();
    let files: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
    leptos::task::spawn_local(async move {
        if let Ok(bytes) = load::fetch_bytes("bundles/index.json").await {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                let names = v["bundles"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|b| b["file"].as_str().map(String::from)).collect())
                    .unwrap_or_default();
                files.set(names);
            }
        }
    });
    view! {
        <Show when=move || !files.get().is_empty() && state.loaded.with(|l| l.is_none())>
            <section class="runs" data-testid="runs">
                <h2>"Bundles"</h2>
                <ul>
                    {move || files.get().into_iter().map(|f| {
                        let url = format!("bundles/{f}");
                        let href = format!("?bundle={url}");
                        view! {
                            <li><a href=href data-testid="run-link" on:click=move |ev| {
                                ev.prevent_default();
                                load::open_url(state, url.clone());
                            }>{f}</a></li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        </Show>
    }
}
