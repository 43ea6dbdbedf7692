//! The flame graph's state, and what the flame graph and the function table
//! share: the profile shown (the whole of one, or its samples in the charts'
//! range), the frame zoomed to, the search and the frames it matches, flame
//! or icicle, by samples or by weight.

use std::sync::Arc;

use leptos::prelude::*;
use perfbundle_core::profile::flame::FlameIndex;
use perfbundle_core::profile::Profile;

use super::{Loaded, RunState};

/// The profile the flame graph shows: the whole of one of the bundle's, or
/// its samples in the range selected on the charts (when it has sample
/// times); by weight (`weighted`) when asked and the profile has weights.
#[derive(Clone, Debug)]
pub enum ShownProfile {
    Whole { loaded: Arc<Loaded>, profile: usize, weighted: bool },
    Range { profile: Arc<Profile>, index: Arc<FlameIndex>, of: u64, weighted: bool },
}

impl PartialEq for ShownProfile {
    fn eq(&self, o: &Self) -> bool {
        match (self, o) {
            (
                ShownProfile::Whole { loaded: a, profile: i, weighted: x },
                ShownProfile::Whole { loaded: b, profile: j, weighted: y },
            ) => Arc::ptr_eq(a, b) && i == j && x == y,
            (ShownProfile::Range { index: a, .. }, ShownProfile::Range { index: b, .. }) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl ShownProfile {
    /// What the flame graph shows, given the bundle, the chosen profile, the
    /// charts' range and whether to draw by weight.
    pub fn of(loaded: Arc<Loaded>, profile: usize, range: Option<(f64, f64)>, by_weight: bool) -> Option<ShownProfile> {
        let i = profile.min(loaded.bundle.profiles.len().checked_sub(1)?);
        let whole = &loaded.bundle.profiles[i];
        if let Some((a, b)) = range {
            if let Some(r) = whole.in_range((a * 1000.0) as i64, (b * 1000.0) as i64) {
                let weighted = by_weight && r.has_weights();
                let index = Arc::new(FlameIndex::by(&r, weighted));
                return Some(ShownProfile::Range { profile: Arc::new(r), index, of: whole.total_samples, weighted });
            }
        }
        let weighted = by_weight && loaded.weighted[i].is_some();
        Some(ShownProfile::Whole { loaded, profile: i, weighted })
    }

    pub fn profile(&self) -> &Profile {
        match self {
            ShownProfile::Whole { loaded, profile, .. } => &loaded.bundle.profiles[*profile],
            ShownProfile::Range { profile, .. } => profile,
        }
    }

    /// The flame index drawn: by weight when [`Self::weighted`], else by samples.
    pub fn index(&self) -> &FlameIndex {
        match self {
            ShownProfile::Whole { loaded, profile, weighted } => match (&loaded.weighted[*profile], weighted) {
                (Some(w), true) => w,
                _ => &loaded.flames[*profile],
            },
            ShownProfile::Range { index, .. } => index,
        }
    }

    /// Whether the flame graph, search and tooltips go by weight.
    pub fn weighted(&self) -> bool {
        match self {
            ShownProfile::Whole { weighted, .. } | ShownProfile::Range { weighted, .. } => *weighted,
        }
    }

    /// What the index's totals count: "samples", or the profile's weight unit.
    pub fn unit(&self) -> String {
        if self.weighted() {
            self.profile().weight_unit.clone().unwrap_or_default()
        } else {
            "samples".to_string()
        }
    }

    /// Node `node`'s own amount (not its descendants'), in [`Self::unit`].
    pub fn self_amount(&self, node: u32) -> u64 {
        let p = self.profile();
        let own = if self.weighted() { &p.nodes.self_weight } else { &p.nodes.self_samples };
        own.get(node as usize).copied().unwrap_or(0)
    }
}

/// An amount in a profile's unit, as its tools print it: wall time (`us`,
/// `ns`) in ms or s, samples and counts in full with thousands separators,
/// other units (perf's event periods, bytes) in full with the unit's name.
pub fn amount(v: u64, unit: &str) -> String {
    let ms = match unit {
        "us" => Some(v as f64 / 1e3),
        "ns" => Some(v as f64 / 1e6),
        "ms" => Some(v as f64),
        _ => None,
    };
    match ms {
        Some(ms) if ms >= 1000.0 => format!("{:.2} s", ms / 1000.0),
        Some(ms) => format!("{ms:.2} ms"),
        None => {
            let digits = v.to_string();
            let mut grouped = String::new();
            for (k, c) in digits.chars().enumerate() {
                if k > 0 && (digits.len() - k) % 3 == 0 {
                    grouped.push(',');
                }
                grouped.push(c);
            }
            match unit {
                "" => grouped,
                "period" => format!("{grouped} events (period)"),
                _ => format!("{grouped} {unit}"),
            }
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
    /// Which nodes match (by node), and how much of the profile they cover
    /// (in `unit`: samples, or the weight's unit).
    Matches { hits: Arc<Vec<bool>>, covered: u64, total: u64, unit: String },
}

impl Search {
    /// Searches the profile shown for `query`.
    pub fn run(sh: &ShownProfile, query: &str, regex: bool) -> Search {
        let (p, ix) = (sh.profile(), sh.index());
        match matcher(query, regex) {
            Ok(Some(m)) => {
                let labels: Vec<String> = (0..p.frames.name.len()).map(|f| p.frame_label(f)).collect();
                let (hits, covered) = ix.search(p, &|f| m(&labels[f]));
                let total = ix.totals.first().copied().unwrap_or(0);
                Search::Matches { hits: Arc::new(hits), covered, total, unit: sh.unit() }
            }
            Ok(None) => Search::None,
            Err(e) => Search::Invalid(e),
        }
    }

    /// Whether node `node` matches.
    pub fn hit(&self, node: u32) -> bool {
        matches!(self, Search::Matches { hits, .. } if hits.get(node as usize).copied().unwrap_or(false))
    }

    /// The line under the search box: the share of samples (or weight)
    /// matched, or what is wrong with the query.
    pub fn info(&self) -> String {
        match self {
            Search::None => String::new(),
            Search::Invalid(e) => e.clone(),
            Search::Matches { covered, total, unit, .. } => {
                let share = *covered as f64 * 100.0 / (*total).max(1) as f64;
                if unit == "samples" {
                    format!("matches cover {covered} of {total} samples ({share:.2}%)")
                } else {
                    format!("matches cover {} of {} ({share:.2}%)", amount(*covered, unit), amount(*total, unit))
                }
            }
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
    /// Draw by weight where the profile has weights (perf's periods, pprof's
    /// values, wall time: what the source's own tools draw), else by samples.
    pub by_weight: RwSignal<bool>,
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
        let by_weight = RwSignal::new(true);
        let shown = Memo::new(move |_| {
            ShownProfile::of(run.bundle.loaded.get()?, profile.get(), run.range.get(), by_weight.get())
        });
        let matches = Memo::new(move |_| {
            shown.with(|sh| match sh {
                Some(sh) => search.with(|q| Search::run(sh, q, regex.get())),
                None => Search::None,
            })
        });
        FlameState {
            profile,
            focus: RwSignal::new(0),
            search,
            regex,
            icicle: RwSignal::new(false),
            by_weight,
            shown,
            matches,
        }
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
        let s =
            Search::Matches { hits: Arc::new(vec![false, true]), covered: 1101, total: 28768, unit: "samples".into() };
        assert_eq!(s.info(), "matches cover 1101 of 28768 samples (3.83%)");
        assert!(s.hit(1) && !s.hit(0) && !s.hit(7));
        let w = Search::Matches { hits: Arc::new(vec![]), covered: 2_500, total: 10_000, unit: "us".into() };
        assert_eq!(w.info(), "matches cover 2.50 ms of 10.00 ms (25.00%)");
    }

    #[test]
    fn amounts_in_their_unit() {
        assert_eq!(amount(0, "samples"), "0 samples");
        assert_eq!(amount(1_234_567, "cycles"), "1,234,567 cycles");
        assert_eq!(amount(4_000, "period"), "4,000 events (period)");
        assert_eq!(amount(999, ""), "999");
        assert_eq!(amount(1_500_000, "us"), "1.50 s");
        assert_eq!(amount(2_000_000, "ns"), "2.00 ms");
    }
}
