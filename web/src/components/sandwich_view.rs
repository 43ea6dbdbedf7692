//! The sandwich view (speedscope's): one function, its callers drawn above
//! it (flame: the function at the bottom, who called it upward) and its
//! callees below (icicle: the function on top, what it called downward),
//! each sample counted once. The function comes from the function table, a
//! frame's "sandwich" button, or the list here.

use std::sync::Arc;

use leptos::html::Canvas;
use leptos::prelude::*;
use perfbundle_core::profile::flame::{FlameIndex, FlameRect};
use perfbundle_core::profile::Profile;

use super::tooltip::Tooltip;
use crate::canvas::{self, flame_color, hit_test};
use crate::state::{amount, FlameState};

/// One half of the sandwich: a profile drawn as a flame graph (`icicle`:
/// roots on top) with its own zoom and tooltip.
#[component]
fn SandwichHalf(profile: Arc<Profile>, icicle: bool, testid: &'static str, of: u64) -> impl IntoView {
    let canvas_ref = NodeRef::<Canvas>::new();
    let index = Arc::new(FlameIndex::left_heavy_by(&profile, false));
    let rects: StoredValue<Vec<FlameRect>> = StoredValue::new(Vec::new());
    let focus = RwSignal::new(0u32);
    let tip: RwSignal<Option<(f64, f64, String)>> = RwSignal::new(None);
    {
        let (p, ix) = (profile.clone(), index.clone());
        Effect::new(move |_| {
            let Some(el) = canvas_ref.get() else { return };
            let f = focus.get();
            rects.set_value(canvas::paint(&el, &p, &ix, f, &|n| flame_color(&p, n, false), icicle, None));
        });
    }
    let hit = move |ev: &leptos::ev::MouseEvent| {
        let el = canvas_ref.get_untracked()?;
        rects.with_value(|rs| hit_test(&el, rs, icicle, ev))
    };
    let (p, ix) = (profile.clone(), index.clone());
    let on_move = move |ev: leptos::ev::MouseEvent| {
        tip.set(hit(&ev).map(|(node, x, y)| {
            let t = ix.totals[node as usize];
            let text = format!(
                "{}\n{} of the profile's {} samples ({:.2}%)",
                canvas::label(&p, node),
                t,
                amount(of, ""),
                t as f64 * 100.0 / of.max(1) as f64
            );
            (x, y, text)
        }));
    };
    view! {
        <div class="flame-wrap">
            <canvas node_ref=canvas_ref data-testid=testid on:mousemove=on_move
                on:click=move |ev| { if let Some((n, _, _)) = hit(&ev) { focus.set(n) } }
                on:dblclick=move |_| focus.set(0)
                on:mouseleave=move |_| tip.set(None)></canvas>
            <Tooltip at=tip testid="sandwich-tooltip" />
        </div>
    }
}

#[component]
pub fn SandwichView() -> impl IntoView {
    let flame = expect_context::<FlameState>();
    let halves = move || {
        let (name, file) = flame.sandwich.get()?;
        let sh = flame.shown.get()?;
        let p = sh.profile();
        let is_f = |fr: usize| p.frames.name[fr] == name && p.frames.file[fr] == file;
        let callers = Arc::new(p.callers_of(&is_f));
        let callees = Arc::new(p.callees_of(&is_f));
        let of = p.total_samples;
        let total = callers.total_samples;
        let title = if file.is_empty() { name.clone() } else { format!("{name} ({file})") };
        Some(view! {
            <h3 data-testid="sandwich-title">{format!("{title} — on the stack in {total} of {of} samples ({:.2}%)", total as f64 * 100.0 / of.max(1) as f64)}</h3>
            <p class="muted">"Callers (who called it, upward; click to zoom, double-click to reset)"</p>
            <SandwichHalf profile=callers icicle=false testid="sandwich-callers" of=of />
            <p class="muted">"Callees (what it called, downward)"</p>
            <SandwichHalf profile=callees icicle=true testid="sandwich-callees" of=of />
        })
    };
    view! {
        <section class="sandwich" data-testid="sandwich">
            {move || match flame.sandwich.get() {
                None => view! { <p class="muted" data-testid="sandwich-empty">"Choose a function in the table below (or a frame's “sandwich” button) to see its callers and callees."</p> }.into_any(),
                Some(_) => halves.into_any(),
            }}
        </section>
    }
}
