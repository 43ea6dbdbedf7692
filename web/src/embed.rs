//! Embedding in a docs page: the viewer posts its height to the parent page
//! (`{perfbundleHeight: px}`), so an `<iframe>` can be sized to its content
//! and the page scrolls, not the frame (a page that wants a shorter frame
//! sets a height, and then the frame scrolls).

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// Posts the document's height to the parent whenever it changes (checked every 300 ms).
pub fn post_height() {
    let Some(w) = web_sys::window() else { return };
    let last = std::cell::Cell::new(0i32);
    let tick = Closure::<dyn Fn()>::new(move || {
        let Some(w) = web_sys::window() else { return };
        let Some(h) = w.document().and_then(|d| d.document_element()).map(|e| e.scroll_height()) else { return };
        if h == last.get() {
            return;
        }
        last.set(h);
        let msg = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&msg, &JsValue::from_str("perfbundleHeight"), &JsValue::from(h));
        if let Ok(Some(parent)) = w.parent() {
            let _ = parent.post_message(&msg, "*");
        }
    });
    let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), 300);
    tick.forget();
}
