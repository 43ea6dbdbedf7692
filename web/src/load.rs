//! Getting a bundle's bytes — from a URL, a picked or dropped file — and
//! reading them with the core crate.

use std::sync::Arc;

use perfbundle_core::bundle::{Bundle, ReadLimits};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::state::{BundleSlot, CompareState, Loaded, RunState, Status, Tab};
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

/// Reads bundle bytes into a slot (the bundle viewed, or a comparison's
/// base) and shows the result, or what is wrong with them — and, for a file
/// that is not a bundle, what it is (`this is k6's summary: perfbundle pack
/// it`). A file that cannot be opened leaves the bundle already open as it
/// is, and says why beside it.
pub fn open_bytes(slot: BundleSlot, name: &str, bytes: &[u8]) -> bool {
    let t0 = crate::canvas::now_ms();
    match Bundle::from_bytes(bytes, name, &ReadLimits::default()) {
        Ok(b) => {
            let t1 = crate::canvas::now_ms();
            let loaded = Loaded::new(name.to_string(), b);
            report_load(t0, t1 - t0, crate::canvas::now_ms() - t1);
            slot.notice.set(None);
            slot.loaded.set(Some(Arc::new(loaded)));
            slot.status.set(Status::Ready);
            true
        }
        Err(e) => {
            let mut msg = match perfbundle_core::ingest::detect::not_a_bundle(bytes) {
                Some(what) => format!("{name}: {what}"),
                None => e.to_string(),
            };
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src.filter(|_| !msg.contains("not a .perfbundle")) {
                msg.push_str(&format!(": {s}"));
                src = s.source();
            }
            fail(slot, msg);
            false
        }
    }
}

/// Says why a file could not be opened: beside the bundle open, which stays,
/// or in its place when none is.
fn fail(slot: BundleSlot, msg: String) {
    if slot.loaded.with_untracked(|l| l.is_some()) {
        slot.notice.set(Some(msg));
        slot.status.set(Status::Ready);
    } else {
        slot.status.set(Status::Failed(msg));
    }
}

/// Leaves when the bytes were in (`performance.now()`), how long reading
/// them took and how long the views' indexes took, on `window`
/// (`__pbLoad = {at, read_ms, index_ms}`: the benchmarks read it).
fn report_load(at: f64, read_ms: f64, index_ms: f64) {
    let Some(w) = web_sys::window() else { return };
    let o = js_sys::Object::new();
    for (k, v) in [("at", at), ("read_ms", read_ms), ("index_ms", index_ms)] {
        let _ = js_sys::Reflect::set(&o, &k.into(), &v.into());
    }
    let _ = js_sys::Reflect::set(&w, &"__pbLoad".into(), &o);
}

/// `true` when the page carries its bundle (`perfbundle html`'s single file).
pub fn has_embedded_bundle() -> bool {
    web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("pb-bundle")).is_some()
}

/// The bundle a single-file report carries inline (`perfbundle html`): the
/// base64 text of `<script type="application/octet-stream" id="pb-bundle">`.
pub fn embedded_bundle() -> Option<(String, Vec<u8>)> {
    embedded("pb-bundle")
}

/// The base a single-file comparison report carries (`perfbundle html --base`): `id="pb-base"`.
pub fn embedded_base() -> Option<(String, Vec<u8>)> {
    embedded("pb-base")
}

fn embedded(id: &str) -> Option<(String, Vec<u8>)> {
    let doc = web_sys::window()?.document()?;
    let el = doc.get_element_by_id(id)?;
    let b64: String = el.text_content()?.chars().filter(|c| !c.is_whitespace()).collect();
    let bin = web_sys::window()?.atob(&b64).ok()?;
    let bytes: Vec<u8> = bin.chars().map(|c| c as u32 as u8).collect();
    let name = el.get_attribute("data-name").unwrap_or_else(|| "embedded.perfbundle".into());
    Some((name, bytes))
}

/// Opens the compare view of two runs of a site: `candidate` against `base` (URLs).
pub fn open_comparison(run: RunState, compare: CompareState, candidate: String, base: String) {
    open_url(run.bundle, candidate);
    open_url(compare.base, base);
    run.tab.set(Tab::Compare);
}

/// Loads a bundle from a URL into a slot.
pub fn open_url(slot: BundleSlot, url: String) {
    slot.status.set(Status::Loading(url.clone()));
    leptos::task::spawn_local(async move {
        match fetch_bytes(&url).await {
            Ok(bytes) => {
                if open_bytes(slot, &url, &bytes) || slot.loaded.with_untracked(|l| l.is_none()) {
                    slot.url.set(Some(url));
                }
            }
            Err(e) => {
                if slot.loaded.with_untracked(|l| l.is_none()) {
                    slot.url.set(Some(url));
                }
                fail(slot, e)
            }
        }
    });
}

/// Loads a bundle from a picked or dropped file into a slot.
pub fn open_file(slot: BundleSlot, file: web_sys::File) {
    let name = file.name();
    slot.status.set(Status::Loading(name.clone()));
    leptos::task::spawn_local(async move {
        match file_bytes(&file).await {
            Ok(bytes) => {
                if open_bytes(slot, &name, &bytes) {
                    slot.url.set(None);
                }
            }
            Err(e) => fail(slot, e),
        }
    });
}
