//! Entry point: set the panic hook and mount the app on `<body>` — unless
//! the page loaded the viewer for `<perfbundle-viewer>` elements
//! (`perfbundle-viewer.js` sets `globalThis.__perfbundleElements` first), which
//! then mount it with [`mount_viewer`], each into its own shadow root.

use std::cell::RefCell;
use std::collections::HashMap;

use wasm_bindgen::prelude::*;

/// The last id given, and the mounted elements' viewers by id: dropping one unmounts it.
type Mounted = (u32, HashMap<u32, Box<dyn std::any::Any>>);

thread_local! {
    static MOUNTED: RefCell<Mounted> = RefCell::new((0, HashMap::new()));
}

fn for_elements() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("__perfbundleElements")).is_ok_and(|v| v.is_truthy())
}

fn main() {
    console_error_panic_hook::set_once();
    if !for_elements() {
        leptos::mount::mount_to_body(perfbundle_web::App);
    }
}

/// Mounts a viewer of its own into `parent` (an element in a shadow root),
/// with view options in the permalink's keys as a query string
/// (`bundle=runs/v2.perfbundle&view=profiles&base=runs/v1.perfbundle`).
/// Returns the id to unmount it with.
#[wasm_bindgen]
pub fn mount_viewer(parent: web_sys::HtmlElement, params: String) -> u32 {
    let handle = leptos::mount::mount_to(parent, move || {
        leptos::view! { <perfbundle_web::Viewer host=perfbundle_web::Host::Element { params: params.clone() } /> }
    });
    MOUNTED.with_borrow_mut(|(next, m)| {
        *next += 1;
        m.insert(*next, Box::new(handle));
        *next
    })
}

/// Unmounts a viewer mounted by [`mount_viewer`] (its state is dropped).
#[wasm_bindgen]
pub fn unmount_viewer(id: u32) {
    let handle = MOUNTED.with_borrow_mut(|(_, m)| m.remove(&id));
    drop(handle);
}
