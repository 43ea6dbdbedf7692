//! The viewer's state: signals, grouped by concern, each group provided
//! through context on its own — no global mutable state.
//!
//! - [`RunState`]: the bundle viewed and how (the tab, sub-series, time range, hover);
//! - [`FlameState`]: the flame graph (the profile shown, zoom, search, layout)
//!   and what the flame graph and the function table share;
//! - [`CompareState`]: the base bundle, the diff, the pair of profiles shown;
//! - [`SiteState`]: the runs of the site the viewer is the page of.
//!
//! A component asks for the groups it uses (`expect_context::<RunState>()`);
//! [`ViewerState`] holds the groups for the app shell, the loaders and the permalink.

mod compare;
mod flame;
mod run;
mod site;

use std::sync::Arc;

use leptos::prelude::*;
use perfbundle_core::bundle::Bundle;
use perfbundle_core::profile::flame::FlameIndex;

pub use compare::{CompareState, DiffResult};
pub use flame::{
    clamp_focus, matcher, FlameState, FlameView, FrameLabels, FunctionRows, Matcher, Search, Shared, ShownProfile,
};
pub use run::{RunState, Tab};
pub use site::SiteState;

/// Where loading stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    Idle,
    /// Loading this file or URL.
    Loading(String),
    Ready,
    /// What went wrong, in words for the page.
    Failed(String),
}

/// A bundle read into memory, with what the views derive from it once.
/// Shared (`Arc`) by every view of it: nothing clones the model to show it.
#[derive(Debug)]
pub struct Loaded {
    pub name: String,
    pub bundle: Bundle,
    /// Each profile's flame index by sample counts, siblings heaviest first
    /// (the default view; the by-name order is derived when asked).
    pub flames: Vec<FlameIndex>,
    /// Each profile's flame index by weight, for those that have weights.
    pub weighted: Vec<Option<FlameIndex>>,
    /// Each profile's functions by samples (the function table's rows),
    /// made when first asked (after the first flame graph is drawn).
    pub functions: Vec<std::sync::OnceLock<Arc<FunctionRows>>>,
}

impl Loaded {
    pub fn new(name: String, bundle: Bundle) -> Self {
        let flames = bundle.profiles.iter().map(|p| FlameIndex::left_heavy_by(p, false)).collect();
        let weighted =
            bundle.profiles.iter().map(|p| p.has_weights().then(|| FlameIndex::left_heavy_by(p, true))).collect();
        let functions = bundle.profiles.iter().map(|_| std::sync::OnceLock::new()).collect();
        Loaded { name, bundle, flames, weighted, functions }
    }

    /// Profile `i`'s functions (made once).
    pub fn functions_of(&self, i: usize) -> Arc<FunctionRows> {
        self.functions[i].get_or_init(|| Arc::new(FunctionRows::of(&self.bundle.profiles[i]))).clone()
    }
}

/// Where a bundle is loaded to: the bundle viewed ([`RunState::bundle`]) or
/// the base of a comparison ([`CompareState::base`]).
#[derive(Clone, Copy)]
pub struct BundleSlot {
    pub loaded: RwSignal<Option<Arc<Loaded>>>,
    /// The bundle's URL when it came from one (kept in permalinks).
    pub url: RwSignal<Option<String>>,
    pub status: RwSignal<Status>,
    /// A file that could not be opened while the bundle open stays open: why, and what the file is.
    pub notice: RwSignal<Option<String>>,
}

impl BundleSlot {
    pub fn new() -> Self {
        BundleSlot {
            loaded: RwSignal::new(None),
            url: RwSignal::new(None),
            status: RwSignal::new(Status::Idle),
            notice: RwSignal::new(None),
        }
    }
}

impl Default for BundleSlot {
    fn default() -> Self {
        Self::new()
    }
}

/// The three groups of state together.
#[derive(Clone, Copy)]
pub struct ViewerState {
    pub run: RunState,
    pub flame: FlameState,
    pub compare: CompareState,
    pub site: SiteState,
}

impl ViewerState {
    pub fn new() -> Self {
        let run = RunState::new();
        ViewerState { run, flame: FlameState::new(run), compare: CompareState::new(run), site: SiteState::new() }
    }

    /// Provides each group through context, on its own.
    pub fn provide(self) {
        provide_context(self.run);
        provide_context(self.flame);
        provide_context(self.compare);
        provide_context(self.site);
    }
}

impl Default for ViewerState {
    fn default() -> Self {
        Self::new()
    }
}
