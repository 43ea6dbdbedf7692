//! The run view: the bundle viewed, the tab, the sub-series, the time range and the hover.

use leptos::prelude::*;

use super::BundleSlot;

/// The tab shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Charts,
    Profiles,
    /// The bundle against a base (`?base=`).
    Compare,
    /// Any figure across the site's runs (`index.json`).
    Trend,
}

impl Tab {
    pub fn as_str(self) -> &'static str {
        match self {
            Tab::Overview => "overview",
            Tab::Charts => "charts",
            Tab::Profiles => "profiles",
            Tab::Compare => "compare",
            Tab::Trend => "trend",
        }
    }
    pub fn parse(s: &str) -> Option<Tab> {
        Some(match s {
            "overview" => Tab::Overview,
            "charts" => Tab::Charts,
            "profiles" => Tab::Profiles,
            "compare" => Tab::Compare,
            "trend" => Tab::Trend,
            _ => return None,
        })
    }
}

/// The bundle viewed and how.
#[derive(Clone, Copy)]
pub struct RunState {
    /// The bundle viewed (the candidate of a comparison).
    pub bundle: BundleSlot,
    pub tab: RwSignal<Tab>,
    /// Sub-series suffix (`{name:…}`), or empty for all samples.
    pub series: RwSignal<String>,
    /// Selected time range, Unix ms (the charts, the summary, the flame graph).
    pub range: RwSignal<Option<(f64, f64)>>,
    /// Time under the pointer in any chart, Unix ms.
    pub hover: RwSignal<Option<f64>>,
    /// Embedded in another page (`?embed=1`): no header, and the page's
    /// height is posted to the parent so an iframe can fit it.
    pub embed: RwSignal<bool>,
    /// Draw and rank the profiles' idle samples (`?idle=1`); left out by
    /// default, in every profile view and the comparison, their share said once.
    pub show_idle: RwSignal<bool>,
}

impl RunState {
    pub fn new() -> Self {
        RunState {
            bundle: BundleSlot::new(),
            tab: RwSignal::new(Tab::Overview),
            series: RwSignal::new(String::new()),
            range: RwSignal::new(None),
            hover: RwSignal::new(None),
            embed: RwSignal::new(false),
            show_idle: RwSignal::new(false),
        }
    }

    /// A new file starts a new view: every sample, the whole run.
    pub fn new_view(&self) {
        self.range.set(None);
        self.series.set(String::new());
    }
}

impl Default for RunState {
    fn default() -> Self {
        Self::new()
    }
}
