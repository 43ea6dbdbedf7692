//! Components in a real browser (wasm-bindgen-test in headless Chromium):
//! each test mounts into a container of its own and reads the DOM.
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use perfbundle_web::components::profiles::ProfilesView;
use perfbundle_web::components::summary_table::SummaryTable;
use perfbundle_web::load;
use perfbundle_web::state::{Status, ViewerState};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn container() -> web_sys::HtmlElement {
    let doc = web_sys::window().unwrap().document().unwrap();
    let div = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&div).unwrap();
    div.unchecked_into()
}

fn attr(el: &web_sys::HtmlElement, sel: &str, name: &str) -> Option<String> {
    el.query_selector(sel).ok().flatten().and_then(|e| e.get_attribute(name))
}

#[wasm_bindgen_test]
async fn summary_table_shows_the_bundles_exact_figures() {
    let div = container();
    let state = ViewerState::new();
    let bytes = include_bytes!("../../archives/orders-api-v1-k6.perfbundle");
    let _h = leptos::mount::mount_to(div.clone(), move || {
        state.provide();
        load::open_bytes(state.run.bundle, "v1", bytes);
        view! { <SummaryTable /> }
    });
    leptos::task::tick().await;
    assert_eq!(state.run.bundle.status.get_untracked(), Status::Ready);
    // The same numbers as `perfbundle inspect --json` (and k6's own summary-export).
    assert_eq!(
        attr(&div, "[data-testid='v-http_req_duration-p(95)']", "data-value").as_deref(),
        Some("290.6773139999999")
    );
    assert_eq!(attr(&div, "[data-testid='v-http_reqs-count']", "data-value").as_deref(), Some("1062"));
    assert!(div.text_content().unwrap_or_default().contains("p(95)<250"));
}

#[wasm_bindgen_test]
async fn flame_graph_search_reports_its_share() {
    let div = container();
    let state = ViewerState::new();
    let bytes = include_bytes!("../../archives/orders-api-v1-cpu-prof.perfbundle");
    let _h = leptos::mount::mount_to(div.clone(), move || {
        state.provide();
        load::open_bytes(state.run.bundle, "cpu", bytes);
        view! { <ProfilesView /> }
    });
    leptos::task::tick().await;
    state.flame.search.set("fibonacci".into());
    leptos::task::tick().await;
    let info = div.query_selector("[data-testid=search-info]").unwrap().unwrap().text_content().unwrap_or_default();
    assert!(info.contains("1101 of 28768"), "{info}");
    assert!(div.query_selector("canvas").unwrap().is_some());
}

#[wasm_bindgen_test]
async fn a_corrupt_bundle_is_a_message_not_a_panic() {
    let state = ViewerState::new();
    let div = container();
    let _h = leptos::mount::mount_to(div, move || {
        state.provide();
        load::open_bytes(state.run.bundle, "junk.perfbundle", b"definitely not gzip");
        view! { <p /> }
    });
    leptos::task::tick().await;
    match state.run.bundle.status.get_untracked() {
        Status::Failed(m) => assert!(m.contains("junk.perfbundle: not a perfbundle"), "{m}"),
        other => panic!("{other:?}"),
    }
}
