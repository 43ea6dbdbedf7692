//! The view in the URL: `?bundle=…&base=…&view=…&series=…&from=…&to=…&profile=…&focus=…&q=…&re=1&icicle=0&fview=time-order&tw=A,B&by=samples&idle=1`
//! (the flame graph is an icicle, left heavy, without idle, unless the URL says otherwise).

use leptos::prelude::*;

use crate::state::{FlameView, Tab, ViewerState};

fn params() -> Option<web_sys::UrlSearchParams> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()
}

/// Whether the page's URL sets `key`.
pub fn has(key: &str) -> bool {
    params().is_some_and(|p| p.has(key))
}

/// Reads the URL into the state; returns the bundle URL and the base URL to open, if any.
pub fn read(state: ViewerState) -> (Option<String>, Option<String>) {
    match params() {
        Some(p) => read_params(state, &p),
        None => (None, None),
    }
}

/// Reads view options in the permalink's keys (the page's query string, or a
/// `<perfbundle-viewer>` element's attributes) into the state; returns the
/// bundle URL and the base URL to open, if any.
pub fn read_params(state: ViewerState, p: &web_sys::UrlSearchParams) -> (Option<String>, Option<String>) {
    let ViewerState { run, flame, compare, .. } = state;
    if let Some(t) = p.get("view").and_then(|v| Tab::parse(&v)) {
        run.tab.set(t);
    }
    if let Some(s) = p.get("series") {
        run.series.set(s);
    }
    if let (Some(a), Some(b)) = (p.get("from").and_then(|v| v.parse().ok()), p.get("to").and_then(|v| v.parse().ok())) {
        run.range.set(Some((a, b)));
    }
    if let Some(v) = p.get("profile").and_then(|v| v.parse().ok()) {
        flame.profile.set(v);
    }
    if let Some(v) = p.get("focus").and_then(|v| v.parse().ok()) {
        flame.focus.set(v);
    }
    if let Some(q) = p.get("q") {
        flame.search.set(q);
    }
    flame.regex.set(p.get("re").as_deref() == Some("1"));
    flame.icicle.set(p.get("icicle").as_deref() != Some("0"));
    if let Some(v) = p.get("fview").as_deref().and_then(FlameView::from_id) {
        flame.view.set(v);
    }
    // The time-order view's window: µs since the first sample, `tw=A,B`.
    if let Some((a, b)) = p.get("tw").as_deref().and_then(|v| v.split_once(',')) {
        if let (Ok(a), Ok(b)) = (a.parse::<i64>(), b.parse::<i64>()) {
            if b > a {
                flame.window.set(Some((a, b)));
            }
        }
    }
    flame.by_weight.set(p.get("by").as_deref() != Some("samples"));
    run.embed.set(p.get("embed").as_deref() == Some("1"));
    run.show_idle.set(p.get("idle").as_deref() == Some("1"));
    compare.all.set(p.get("all").as_deref() == Some("1"));
    if let Some(v) = p.get("pair").and_then(|v| v.parse().ok()) {
        compare.pair.set(v);
    }
    if let Some(v) = p.get("dfocus").and_then(|v| v.parse().ok()) {
        compare.diff_focus.set(v);
    }
    if let (Some(a), Some(b)) = (p.get("cfrom").and_then(|v| v.parse().ok()), p.get("cto").and_then(|v| v.parse().ok()))
    {
        compare.range.set(Some((a, b)));
    }
    let base = p.get("base");
    if base.is_some() && p.get("view").is_none() {
        run.tab.set(Tab::Compare);
    }
    (p.get("bundle"), base)
}

/// Keeps the URL in step with the state (replaceState: no history spam).
pub fn follow(state: ViewerState) {
    let ViewerState { run, flame, compare, .. } = state;
    Effect::new(move |_| {
        let Ok(p) = web_sys::UrlSearchParams::new() else { return };
        if let Some(u) = run.bundle.url.get() {
            p.append("bundle", &u);
        }
        if let Some(u) = compare.base.url.get() {
            p.append("base", &u);
        }
        if run.embed.get() {
            p.append("embed", "1");
        }
        if run.show_idle.get() {
            p.append("idle", "1");
        }
        p.append("view", run.tab.get().as_str());
        let s = run.series.get();
        if !s.is_empty() {
            p.append("series", &s);
        }
        if let Some((a, b)) = run.range.get() {
            p.append("from", &format!("{a:.0}"));
            p.append("to", &format!("{b:.0}"));
        }
        if run.tab.get() == Tab::Profiles {
            p.append("profile", &flame.profile.get().to_string());
            let f = flame.focus.get();
            if f != 0 {
                p.append("focus", &f.to_string());
            }
            let q = flame.search.get();
            if !q.is_empty() {
                p.append("q", &q);
            }
            if flame.regex.get() {
                p.append("re", "1");
            }
            let v = flame.view.get();
            if v != FlameView::LeftHeavy {
                p.append("fview", v.id());
            }
            if let (FlameView::TimeOrder, Some((a, b))) = (v, flame.window.get()) {
                p.append("tw", &format!("{a},{b}"));
            }
            if !flame.icicle.get() {
                p.append("icicle", "0");
            }
            if !flame.by_weight.get() {
                p.append("by", "samples");
            }
        }
        if run.tab.get() == Tab::Compare {
            if compare.all.get() {
                p.append("all", "1");
            }
            if let Some((a, b)) = compare.range.get() {
                p.append("cfrom", &format!("{a:.0}"));
                p.append("cto", &format!("{b:.0}"));
            }
            p.append("pair", &compare.pair.get().to_string());
            let f = compare.diff_focus.get();
            if f != 0 {
                p.append("dfocus", &f.to_string());
            }
        }
        let qs: String = p.to_string().into();
        if let Some(w) = web_sys::window() {
            if let Ok(h) = w.history() {
                let path = w.location().pathname().unwrap_or_default();
                let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&format!("{path}?{qs}")));
            }
        }
    });
}
