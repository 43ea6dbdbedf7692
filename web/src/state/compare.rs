//! The compare view's state: the base bundle, the diff of the two, the pair
//! of profiles shown and its zoom, the charts' range and hover on time since
//! each run's start.

use std::sync::Arc;

use leptos::prelude::*;
use perfbundle_core::compare::{self, Diff, DiffOptions};
use perfbundle_core::profile::FrameMatch;

use super::{BundleSlot, RunState};

/// The diff of the base and the bundle viewed, or why there is none.
pub type DiffResult = Result<Arc<Diff>, String>;

/// The compare view's state.
#[derive(Clone, Copy)]
pub struct CompareState {
    /// The base run the bundle viewed is set against.
    pub base: BundleSlot,
    /// The diff (`None` until both bundles are loaded), computed once per pair of bundles.
    pub diff: Memo<Option<DiffResult>>,
    /// The charts' range and hover, ms since each run's start.
    pub range: RwSignal<Option<(f64, f64)>>,
    pub hover: RwSignal<Option<f64>>,
    /// Every sub-series in the table, not only whole metrics.
    pub all: RwSignal<bool>,
    /// The pair of profiles shown, and the frame zoomed to in its differential flame graph.
    pub pair: RwSignal<usize>,
    pub diff_focus: RwSignal<u32>,
    /// How the two profiles' functions are paired (`diff --match`).
    pub frame_match: RwSignal<FrameMatch>,
    /// The differential flame graph's search, and its layout (icicle: roots on top).
    pub diff_search: RwSignal<String>,
    pub diff_icicle: RwSignal<bool>,
}

impl CompareState {
    /// The comparison of a base with `run`'s bundle (the candidate).
    pub fn new(run: RunState) -> Self {
        let base = BundleSlot::new();
        let frame_match = RwSignal::new(FrameMatch::default());
        let diff = Memo::new(move |_| {
            let (c, b) = (run.bundle.loaded.get()?, base.loaded.get()?);
            let opts = DiffOptions {
                frame_match: frame_match.get(),
                with_idle: run.show_idle.get(),
                ..DiffOptions::default()
            };
            Some(compare::diff(&b.bundle, &c.bundle, &opts).map(Arc::new).map_err(|e| e.to_string()))
        });
        CompareState {
            base,
            diff,
            range: RwSignal::new(None),
            hover: RwSignal::new(None),
            all: RwSignal::new(false),
            pair: RwSignal::new(0),
            diff_focus: RwSignal::new(0),
            frame_match,
            diff_search: RwSignal::new(String::new()),
            diff_icicle: RwSignal::new(true),
        }
    }

    /// A new base starts a new comparison: the first pair, unzoomed, every sample.
    pub fn new_comparison(&self) {
        self.pair.set(0);
        self.diff_focus.set(0);
        self.range.set(None);
    }

    /// Shows another pair of profiles, unzoomed.
    pub fn show_pair(&self, i: usize) {
        self.pair.set(i);
        self.diff_focus.set(0);
    }
}
