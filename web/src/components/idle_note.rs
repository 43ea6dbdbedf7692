//! The one line that says idle samples are not drawn (`idle 85.12% of
//! samples, not drawn`), with the one switch that draws them (`?idle=1`,
//! shared by every profile view and the comparison); drawn, a switch back.

use leptos::prelude::*;

use crate::state::RunState;

#[component]
pub fn IdleNote(
    /// What is left out, from the core ([`perfbundle_core::profile::derive::CpuView::note`]).
    note: String,
) -> impl IntoView {
    let run = expect_context::<RunState>();
    view! {
        <p class="idle-note" data-testid="idle-note">
            <span>{note}</span>" "
            <button data-testid="show-idle" on:click=move |_| run.show_idle.set(true)>"show idle"</button>
        </p>
    }
}

/// Shown while idle is drawn: a switch to leave it out again.
#[component]
pub fn IdleShown() -> impl IntoView {
    let run = expect_context::<RunState>();
    view! {
        <p class="idle-note" data-testid="idle-shown">
            <span>"idle samples are drawn"</span>" "
            <button data-testid="hide-idle" on:click=move |_| run.show_idle.set(false)>"leave idle out"</button>
        </p>
    }
}
