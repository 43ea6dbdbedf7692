//! The flame graph's state, and what the flame graph and the function table
//! share: the profile shown (the whole of one, or its samples in the charts'
//! range), the frame zoomed to, the search and the frames it matches, flame
//! or icicle.

use std::sync::Arc;

use leptos::prelude::*;
use perfbundle_core::profile::flame::FlameIndex;
use perfbundle_core::profile::Profile;

use super::{Loaded, RunState};

/// The profile the flame graph shows: the whole of one of the bundle's, or
/// its samples in the range selected on the charts (when it has sample times).
#[derive(Clone, Debug)]
pub enum ShownProfile {
    Whole(Arc<Loaded>, usize),
    Range { profile: Arc<Profile>, index: Arc<FlameIndex>, of: u64 },
}

impl PartialEq for ShownProfile {
    fn eq(&self, o: &Self) -> bool {
        match (self, o) {
            (ShownProfile::Whole(a, i), ShownProfile::Whole(b, j)) => Arc::ptr_eq(a, b) && i == j,
            (ShownProfile::Range { profile: a, .. }, ShownProfile::Range { profile: b, .. }) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl ShownProfile {
    /// What the flame graph shows, given the bundle, the chosen profile and the charts' range.
    pub fn of(loaded: Arc<Loaded>, profile: usize, range: Option<(f64, f64)>) -> Option<ShownProfile> {
        let i = profile.min(loaded.bundle.profiles.len().checked_sub(1)?);
        let whole = &loaded.bundle.profiles[i];
        if let Some((a, b)) = range {
            if let Some(r) = whole.in_range((a * 1000.0) as i64, (b * 1000.0) as i64) {
                let index = Arc::new(FlameIndex::new(&r));
                return Some(ShownProfile::Range { profile: Arc::new(r), index, of: whole.total_samples });
            }
        }
        Some(ShownProfile::Whole(loaded, i))
    }

    pub fn profile(&self) -> &Profile {
        match self {
            ShownProfile::Whole(l, i) => &l.bundle.profiles[*i],
            ShownProfile::Range { profile, .. } => profile,
        }
    }

    pub fn index(&self) -> &FlameIndex {
        match self {
            ShownProfile::Whole(l, i) => &l.flames[*i],
            ShownProfile::Range { index, .. } => index,
        }
    }
}

/// A test on frame labels.
pub type Matcher = Box<dyn Fn(&str) -> bool>;

/// Which frames a search matches: case-insensitive substring, or a regex.
pub fn matcher(query: &str, regex: bool) -> Result<Option<Matcher>, String> {
    if query.is_empty() {
        return Ok(None);
    }
    if regex {
        let re = regex_lite::Regex::new(query).map_err(|e| format!("not a valid regular expression: {e}"))?;
        Ok(Some(Box::new(move |s: &str| re.is_match(s))))
    } else {
        let q = query.to_lowercase();
        Ok(Some(Box::new(move |s: &str| s.to_lowercase().contains(&q))))
    }
}

/// What a search finds in the profile shown.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Search {
    /// No search.
    #[default]
    None,
    /// The query is not a valid regex: why.
    Invalid(String),
    /// Which nodes match (by node), and how many samples they cover.
    Matches { hits: Arc<Vec<bool>>, covered: u64, total: u64 },
}

impl Search {
    /// Searches `p` (indexed by `ix`) for `query`.
    pub fn run(p: &Profile, ix: &FlameIndex, query: &str, regex: bool) -> Search {
        match matcher(query, regex) {
            Ok(Some(m)) => {
                let labels: Vec<String> = (0..p.frames.name.len()).map(|f| p.frame_label(f)).collect();
                let (hits, covered) = ix.search(p, &|f| m(&labels[f]));
                Search::Matches { hits: Arc::new(hits), covered, total: p.total_samples }
            }
            Ok(None) => Search::None,
            Err(e) => Search::Invalid(e),
        }
    }

    /// Whether node `node` matches.
    pub fn hit(&self, node: u32) -> bool {
        matches!(self, Search::Matches { hits, .. } if hits.get(node as usize).copied().unwrap_or(false))
    }

    /// The line under the search box: the share of samples matched, or what is wrong with the query.
    pub fn info(&self) -> String {
        match self {
            Search::None => String::new(),
            Search::Invalid(e) => e.clone(),
            Search::Matches { covered, total, .. } => format!(
                "matches cover {} of {} samples ({:.2}%)",
                covered,
                total,
                *covered as f64 * 100.0 / (*total).max(1) as f64
            ),
        }
    }
}

/// The frame zoomed to, within `p`'s nodes (a stale zoom from another profile falls back to a real node).
pub fn clamp_focus(focus: u32, p: &Profile) -> u32 {
    focus.min(p.nodes.parent.len().saturating_sub(1) as u32)
}

/// The flame graph's state.
#[derive(Clone, Copy)]
pub struct FlameState {
    /// Which of the bundle's profiles.
    pub profile: RwSignal<usize>,
    /// The node zoomed to (0: the root).
    pub focus: RwSignal<u32>,
    pub search: RwSignal<String>,
    pub regex: RwSignal<bool>,
    /// The layout: icicle (roots on top) or flame (roots at the bottom).
    pub icicle: RwSignal<bool>,
    /// The profile shown: follows the bundle, [`Self::profile`] and the charts' range.
    pub shown: Memo<Option<ShownProfile>>,
    /// What the search finds in the profile shown.
    pub matches: Memo<Search>,
}

impl FlameState {
    /// The flame graph's state over the run `run` (its bundle and range).
    pub fn new(run: RunState) -> Self {
        let profile = RwSignal::new(0);
        let search = RwSignal::new(String::new());
        let regex = RwSignal::new(false);
        let shown = Memo::new(move |_| ShownProfile::of(run.bundle.loaded.get()?, profile.get(), run.range.get()));
        let matches = Memo::new(move |_| {
            shown.with(|sh| match sh {
                Some(sh) => search.with(|q| Search::run(sh.profile(), sh.index(), q, regex.get())),
                None => Search::None,
            })
        });
        FlameState { profile, focus: RwSignal::new(0), search, regex, icicle: RwSignal::new(false), shown, matches }
    }

    /// Shows a function: searches for its name, as a substring.
    pub fn select_function(&self, name: String) {
        self.regex.set(false);
        self.search.set(name);
    }

    /// Shows another of the bundle's profiles, whole.
    pub fn show_profile(&self, i: usize) {
        self.profile.set(i);
        self.focus.set(0);
    }

    /// A new file starts a new view: no zoom, no search.
    pub fn new_view(&self) {
        self.focus.set(0);
        self.search.set(String::new());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_substrings_and_regexes() {
        let m = matcher("FIB", false).unwrap().unwrap();
        assert!(m("fibonacciNaive /a.js:1:1"));
        let r = matcher("^fib.*Naive", true).unwrap().unwrap();
        assert!(r("fibonacciNaive") && !r("xfibonacciNaive"));
        assert!(matcher("(", true).is_err());
        assert!(matcher("", false).unwrap().is_none());
    }

    #[test]
    fn search_info() {
        assert_eq!(Search::None.info(), "");
        let s = Search::Matches { hits: Arc::new(vec![false, true]), covered: 1101, total: 28768 };
        assert_eq!(s.info(), "matches cover 1101 of 28768 samples (3.83%)");
        assert!(s.hit(1) && !s.hit(0) && !s.hit(7));
    }
}
