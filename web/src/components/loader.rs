//! Opening a bundle: the "Open…" button (a file picker, reached by
//! keyboard like any button), a base to compare with, dropping a file
//! anywhere on the page; and the logo, back to the site's runs.

use leptos::html::Input;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::load;
use crate::state::{CompareState, FlameState, RunState, SiteState, Tab};

#[component]
pub fn Loader() -> impl IntoView {
    let run = expect_context::<RunState>();
    let flame = expect_context::<FlameState>();
    let compare = expect_context::<CompareState>();
    // A new file starts a new view.
    let open = move |f: web_sys::File| {
        run.new_view();
        flame.new_view();
        load::open_file(run.bundle, f);
    };
    let dragging = RwSignal::new(false);

    // Drops anywhere on the page — only when the viewer is the page: an
    // element among others does not take the page's drops.
    if use_context::<crate::Host>().unwrap_or(crate::Host::Page) == crate::Host::Page {
        listen_for_drops(dragging, open);
    }

    let on_pick = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(f) = input.files().and_then(|l| l.get(0)) {
            open(f);
        }
    };
    let site = expect_context::<SiteState>();
    let (pick, pick_base) = (NodeRef::<Input>::new(), NodeRef::<Input>::new());
    let click = |r: NodeRef<Input>| {
        move |_| {
            if let Some(i) = r.get_untracked() {
                i.click();
            }
        }
    };
    // Back to the runs list (a site's page only): the bundle closed, the list shown.
    let home = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        run.bundle.loaded.set(None);
        run.bundle.url.set(None);
        run.bundle.notice.set(None);
        run.bundle.status.set(crate::state::Status::Idle);
        compare.base.loaded.set(None);
        compare.base.url.set(None);
        run.tab.set(Tab::Overview);
    };
    let on_pick_base = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(f) = input.files().and_then(|l| l.get(0)) {
            // A new base starts a new comparison.
            compare.new_comparison();
            load::open_file(compare.base, f);
            run.tab.set(Tab::Compare);
        }
    };
    view! {
        <header class="top" class:hidden=move || run.embed.get()>
            {move || if site.runs.with(|r| !r.is_empty()) {
                view! { <a class="brand" href="./" data-testid="home" title="all runs" on:click=home>"perfbundle"</a> }.into_any()
            } else {
                view! { <span class="brand">"perfbundle"</span> }.into_any()
            }}
            <span class="bundle-name" data-testid="bundle-name">
                {move || run.bundle.loaded.get().map(|l| l.bundle.manifest.title.clone()).unwrap_or_default()}
            </span>
            <button class="open" data-testid="open" on:click=click(pick)>"Open…"</button>
            <input type="file" class="file-input" tabindex="-1" aria-hidden="true" node_ref=pick
                accept=".perfbundle,application/gzip" data-testid="file-input" on:change=on_pick />
            <Show when=move || run.bundle.loaded.with(|l| l.is_some())>
                <button class="open" data-testid="open-base" title="Open a second bundle as the base this one is compared with"
                    on:click=click(pick_base)>"Compare with a base…"</button>
            </Show>
            <input type="file" class="file-input" tabindex="-1" aria-hidden="true" node_ref=pick_base
                accept=".perfbundle,application/gzip" data-testid="base-file-input" on:change=on_pick_base />
        </header>
        <div class="drop-overlay" class:shown=move || dragging.get()>"Drop a .perfbundle to open it"</div>
    }
}

/// Drag-and-drop on the whole document.
fn listen_for_drops(dragging: RwSignal<bool>, open: impl Fn(web_sys::File) + 'static) {
    let doc = document();
    let over = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::DragEvent)>::new(move |e: web_sys::DragEvent| {
        e.prevent_default();
        dragging.set(true);
    });
    let leave = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::DragEvent)>::new(move |_e: web_sys::DragEvent| {
        dragging.set(false);
    });
    let drop = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::DragEvent)>::new(move |e: web_sys::DragEvent| {
        e.prevent_default();
        dragging.set(false);
        if let Some(f) = e.data_transfer().and_then(|d| d.files()).and_then(|l| l.get(0)) {
            open(f);
        }
    });
    let _ = doc.add_event_listener_with_callback("dragover", over.as_ref().unchecked_ref());
    let _ = doc.add_event_listener_with_callback("dragleave", leave.as_ref().unchecked_ref());
    let _ = doc.add_event_listener_with_callback("drop", drop.as_ref().unchecked_ref());
    over.forget();
    leave.forget();
    drop.forget();
}
