//! An element's width as it changes (a `ResizeObserver`): charts draw at
//! the width they have, in a page, a docs column or a phone.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// Calls `set` with `el`'s width in CSS px once it is mounted, then whenever
/// it changes, until the owner is cleaned up.
pub fn observe_width<E>(el: NodeRef<E>, set: impl Fn(f64) + 'static)
where
    E: leptos::html::ElementType,
    E::Output: JsCast + Clone + 'static,
{
    let set = std::rc::Rc::new(set);
    Effect::new(move |_| {
        let Some(node) = el.get() else { return };
        let Ok(node) = node.dyn_into::<web_sys::Element>() else { return };
        set(f64::from(node.client_width()));
        let s = set.clone();
        let cb = Closure::<dyn Fn(js_sys::Array)>::new(move |entries: js_sys::Array| {
            if let Some(e) = entries.get(0).dyn_ref::<web_sys::ResizeObserverEntry>() {
                let w = e.content_rect().width();
                if w > 0.0 {
                    s(w);
                }
            }
        });
        if let Ok(obs) = web_sys::ResizeObserver::new(cb.as_ref().unchecked_ref()) {
            obs.observe(&node);
            let obs = StoredValue::new_local(obs);
            on_cleanup(move || obs.with_value(|o| o.disconnect()));
        }
        cb.forget();
    });
}
