//! The viewer's state: signals provided through context, no global mutable state.

use std::sync::Arc;

use leptos::prelude::*;
use perfbundle_core::bundle::Bundle;
use perfbundle_core::profile::flame::FlameIndex;

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

/// The tab shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Charts,
    Profiles,
    /// The bundle against a base (`?base=`).
    Compare,
}

impl Tab {
    pub fn as_str(self) -> &'static str {
        match self {
            Tab::Overview => "overview",
            Tab::Charts => "charts",
            Tab::Profiles => "profiles",
            Tab::Compare => "compare",
        }
    }
    pub fn parse(s: &str) -> Option<Tab> {
        Some(match s {
            "overview" => Tab::Overview,
            "charts" => Tab::Charts,
            "profiles" => Tab::Profiles,
            "compare" => Tab::Compare,
            _ => return None,
        })
    }
}

/// A bundle read into memory, with what the views derive from it once.
#[derive(Debug)]
pub struct Loaded {
    pub name: String,
    pub bundle: Bundle,
    pub flames: Vec<FlameIndex>,
}

impl Loaded {
    pub fn new(name: String, bundle: Bundle) -> Self {
        let flames = bundle.profiles.iter().map(FlameIndex::new).collect();
        Loaded { name, bundle, flames }
    }
}

/// Every signal of the viewer.
#[derive(Clone, Copy)]
pub struct ViewerState {
    pub status: RwSignal<Status>,
    pub loaded: RwSignal<Option<Arc<Loaded>>>,
    /// The bundle's URL when it came from one (kept in permalinks).
    pub source_url: RwSignal<Option<String>>,
    pub tab: RwSignal<Tab>,
    /// Sub-series suffix (`{name:…}`), or empty for all samples.
    pub series: RwSignal<String>,
    /// Selected time range, Unix ms.
    pub range: RwSignal<Option<(f64, f64)>>,
    /// Time under the pointer in any chart, Unix ms.
    pub hover: RwSignal<Option<f64>>,
    pub profile: RwSignal<usize>,
    pub focus: RwSignal<u32>,
    pub search: RwSignal<String>,
    pub regex: RwSignal<bool>,
    pub icicle: RwSignal<bool>,
    /// Embedded in another page (`?embed=1`): no header, and the page's
    /// height is posted to the parent so an iframe can fit it.
    pub embed: RwSignal<bool>,
    /// The base run a compare view sets the bundle against.
    pub base: RwSignal<Option<Arc<Loaded>>>,
    pub base_url: RwSignal<Option<String>>,
    pub base_status: RwSignal<Status>,
    /// The compare view's range and hover, ms since each run's start.
    pub compare_range: RwSignal<Option<(f64, f64)>>,
    pub compare_hover: RwSignal<Option<f64>>,
    /// Every sub-series in the compare table, not only whole metrics.
    pub compare_all: RwSignal<bool>,
    /// The pair of profiles shown, and the frame zoomed to in its differential flame graph.
    pub pair: RwSignal<usize>,
    pub diff_focus: RwSignal<u32>,
}

/// A slot's signals: its bundle, its URL, its loading status.
pub type SlotSignals = (RwSignal<Option<Arc<Loaded>>>, RwSignal<Option<String>>, RwSignal<Status>);

/// Which slot a loaded bundle goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The bundle viewed (the candidate of a comparison).
    Main,
    /// The base of a comparison.
    Base,
}

impl ViewerState {
    /// The signals of a slot: its bundle, its URL, its loading status.
    pub fn slot(&self, slot: Slot) -> SlotSignals {
        match slot {
            Slot::Main => (self.loaded, self.source_url, self.status),
            Slot::Base => (self.base, self.base_url, self.base_status),
        }
    }

    pub fn new() -> Self {
        ViewerState {
            status: RwSignal::new(Status::Idle),
            loaded: RwSignal::new(None),
            source_url: RwSignal::new(None),
            tab: RwSignal::new(Tab::Overview),
            series: RwSignal::new(String::new()),
            range: RwSignal::new(None),
            hover: RwSignal::new(None),
            profile: RwSignal::new(0),
            focus: RwSignal::new(0),
            search: RwSignal::new(String::new()),
            regex: RwSignal::new(false),
            icicle: RwSignal::new(false),
            embed: RwSignal::new(false),
            base: RwSignal::new(None),
            base_url: RwSignal::new(None),
            base_status: RwSignal::new(Status::Idle),
            compare_range: RwSignal::new(None),
            compare_hover: RwSignal::new(None),
            compare_all: RwSignal::new(false),
            pair: RwSignal::new(0),
            diff_focus: RwSignal::new(0),
        }
    }
}

impl Default for ViewerState {
    fn default() -> Self {
        Self::new()
    }
}

/// The state provided by [`crate::App`].
pub fn use_state() -> ViewerState {
    expect_context::<ViewerState>()
}
