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
use perfbundle_core::format::{amount, share};

use crate::state::FlameState;

/// One half of the sandwich: a profile drawn as a flame graph (`icicle`:
/// roots on top) with its own zoom and tooltip.
#[component]
fn SandwichHalf(
    profile: Arc<Profile>,
    icicle: bool,
    testid: &'static str,
    /// The whole profile's amount, and its unit (`samples`, or the weight's: the flame graph's).
    of: u64,
    unit: String,
) -> impl IntoView {
    let canvas_ref = NodeRef::<Canvas>::new();
    let weighted = unit != "samples";
    let index = Arc::new(FlameIndex::left_heavy_by(&profile, weighted));
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
                "{}\n{} of the profile's {} ({})",
                canvas::label(&p, node),
                amount(t, &unit),
                amount(of, &unit),
                share(t, of)
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
        // In the flame graph's unit: samples, or the weight's.
        let unit = sh.unit();
        let amount_of = |q: &Profile| {
            if sh.weighted() {
                q.nodes.self_weight.iter().fold(0u64, |a, w| a.saturating_add(*w))
            } else {
                q.total_samples
            }
        };
        let (of, total) = (amount_of(p), amount_of(&callers));
        let title = if file.is_empty() { name.clone() } else { format!("{name} ({file})") };
        let (u1, u2) = (unit.clone(), unit.clone());
        Some(view! {
            <h3 data-testid="sandwich-title">{format!("{title} — on the stack in {} of {} ({})", amount(total, &unit), amount(of, &unit), share(total, of))}</h3>
            <p class="muted">"Callers (who called it, upward; click to zoom, double-click to reset)"</p>
            <SandwichHalf profile=callers icicle=false testid="sandwich-callers" of=of unit=u1 />
            <p class="muted">"Callees (what it called, downward)"</p>
            <SandwichHalf profile=callees icicle=true testid="sandwich-callees" of=of unit=u2 />
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
