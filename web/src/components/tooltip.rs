//! The tooltip of a canvas (flame graphs, time order, sandwich): text at
//! the pointer, as text (never HTML).

use leptos::prelude::*;

/// Where the pointer is over the canvas and what to say there.
pub type TooltipAt = RwSignal<Option<(f64, f64, String)>>;

#[component]
pub fn Tooltip(at: TooltipAt, testid: &'static str) -> impl IntoView {
    move || {
        at.get().map(|(x, y, text)| {
            view! { <pre class="tooltip" data-testid=testid style=format!("left:{}px;top:{}px", x + 12.0, y + 12.0)>{text}</pre> }
        })
    }
}
