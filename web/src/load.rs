//! Getting a bundle's bytes — from a URL, a picked or dropped file — and
//! reading them with the core crate.

use std::sync::Arc;

use perfbundle_core::bundle::{Bundle, ReadLimits};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::state::{Loaded, Slot, Status, ViewerState};
use leptos::prelude::*;

fn js_err(e: wasm_bindgen::JsValue) -> String {
    e.as_string()
        .or_else(|| js_sys::JSON::stringify(&e).ok().and_then(|s| s.as_string()))
        .unwrap_or_else(|| "unknown error".into())
}

/// Fetches a URL (relative ones resolve against the page, so a viewer under a sub-path works).
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let resp =
        JsFuture::from(window.fetch_with_str(url)).await.map_err(|e| format!("{url}: cannot fetch: {}", js_err(e)))?;
    let resp: web_sys::Response = resp.dyn_into().map_err(|_| format!("{url}: not an HTTP response"))?;
    if !resp.ok() {
        return Err(format!("{url}: HTTP {} {}", resp.status(), resp.status_text()));
    }
    let buf = JsFuture::from(resp.array_buffer().map_err(js_err)?).await.map_err(js_err)?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

/// Reads a picked or dropped file.
pub async fn file_bytes(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let buf = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("{}: cannot read: {}", file.name(), js_err(e)))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

/// Reads bundle bytes and shows the result (or what is wrong with them).
pub fn open_bytes(state: ViewerState, name: &str, bytes: &[u8]) {
    open_bytes_into(state, Slot::Main, name, bytes);
}

/// Reads bundle bytes into a slot (the viewed bundle, or a comparison's base).
pub fn open_bytes_into(state: ViewerState, slot: Slot, name: &str, bytes: &[u8]) {
    let (loaded, _, status) = state.slot(slot);
    match Bundle::from_bytes(bytes, name, &ReadLimits::default()) {
        Ok(b) => {
            loaded.set(Some(Arc::new(Loaded::new(name.to_string(), b))));
            status.set(Status::Ready);
        }
        Err(e) => {
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(&format!(": {s}"));
                src = s.source();
            }
            loaded.set(None);
            status.set(Status::Failed(msg));
        }
    }
}

/// The bundle a single-file report carries inline (`perfbundle html`): the
/// base64 text of `<script type="application/octet-stream" id="pb-bundle">`.
pub fn embedded_bundle() -> Option<(String, Vec<u8>)> {
    let doc = web_sys::window()?.document()?;
    let el = doc.get_element_by_id("pb-bundle")?;
    let b64: String = el.text_content()?.chars().filter(|c| !c.is_whitespace()).collect();
    let bin = web_sys::window()?.atob(&b64).ok()?;
    let bytes: Vec<u8> = bin.chars().map(|c| c as u32 as u8).collect();
    let name = el.get_attribute("data-name").unwrap_or_else(|| "embedded.perfbundle".into());
    Some((name, bytes))
}

/// Loads a bundle from a URL.
pub fn open_url(state: ViewerState, url: String) {
    open_url_into(state, Slot::Main, url);
}

/// Loads a bundle from a URL into a slot.
pub fn open_url_into(state: ViewerState, slot: Slot, url: String) {
    let (loaded, source, status) = state.slot(slot);
    status.set(Status::Loading(url.clone()));
    source.set(Some(url.clone()));
    leptos::task::spawn_local(async move {
        match fetch_bytes(&url).await {
            Ok(bytes) => open_bytes_into(state, slot, &url, &bytes),
            Err(e) => {
                loaded.set(None);
                status.set(Status::Failed(e));
            }
        }
    });
}

/// Loads a bundle from a file.
pub fn open_file(state: ViewerState, file: web_sys::File) {
    // A new file starts a new view.
    state.range.set(None);
    state.series.set(String::new());
    state.focus.set(0);
    state.search.set(String::new());
    open_file_into(state, Slot::Main, file);
}

/// Loads a bundle from a file into a slot.
pub fn open_file_into(state: ViewerState, slot: Slot, file: web_sys::File) {
    if slot == Slot::Base {
        // A new base starts a new comparison.
        state.pair.set(0);
        state.diff_focus.set(0);
        state.compare_range.set(None);
    }
    let name = file.name();
    let (_, source, status) = state.slot(slot);
    status.set(Status::Loading(name.clone()));
    source.set(None);
    leptos::task::spawn_local(async move {
        match file_bytes(&file).await {
            Ok(bytes) => open_bytes_into(state, slot, &name, &bytes),
            Err(e) => status.set(Status::Failed(e)),
        }
    });
}
