//! The runs of the site the viewer is the page of (`index.json` beside it:
//! `perfbundle site`, `perfbundle view DIR`): the runs list and the trend read them.

use leptos::prelude::*;
use perfbundle_core::bundle::{IndexEntry, SiteIndex};

use crate::load;

/// The site's runs, newest first; empty when the page has no index.
#[derive(Clone, Copy)]
pub struct SiteState {
    pub runs: RwSignal<Vec<IndexEntry>>,
    /// The label the site orders its trend by (`site --by LABEL`), if any.
    pub by: RwSignal<Option<String>>,
}

impl SiteState {
    pub fn new() -> Self {
        SiteState { runs: RwSignal::new(Vec::new()), by: RwSignal::new(None) }
    }

    /// Reads `index.json` beside the page, once.
    pub fn fetch(self) {
        leptos::task::spawn_local(async move {
            if let Ok(bytes) = load::fetch_bytes("index.json").await {
                if let Ok(ix) = serde_json::from_slice::<SiteIndex>(&bytes) {
                    self.by.set(ix.by);
                    self.runs.set(ix.bundles);
                }
            }
        });
    }
}

impl Default for SiteState {
    fn default() -> Self {
        Self::new()
    }
}
