//! The flame graph's state, and what the flame graph and the function table
//! share: the profile shown (the whole of one, or its samples in the charts'
//! range), the frame zoomed to, the search and the frames it matches, flame
//! or icicle, by samples or by weight.

use std::sync::Arc;

use leptos::prelude::*;
use perfbundle_core::format::amount;
use perfbundle_core::profile::flame::FlameIndex;
use perfbundle_core::profile::time_order::TimeOrder;
use perfbundle_core::profile::{Category, Profile};

use super::{Loaded, RunState};

/// The profile the flame graph shows: the whole of one of the bundle's, or
/// one derived from it — its samples in the range selected on the charts
/// (when it has sample times), without the hidden categories' samples; by
/// weight (`weighted`) when asked and the profile has weights.
#[derive(Clone, Debug)]
pub enum ShownProfile {
    Whole {
        loaded: Arc<Loaded>,
        profile: usize,
        weighted: bool,
    },
    /// `cut`: the samples are those of the charts' range.
    Derived {
        profile: Arc<Profile>,
        index: Arc<FlameIndex>,
        of: u64,
        weighted: bool,
        cut: bool,
    },
}

impl PartialEq for ShownProfile {
    fn eq(&self, o: &Self) -> bool {
        match (self, o) {
            (
                ShownProfile::Whole { loaded: a, profile: i, weighted: x },
                ShownProfile::Whole { loaded: b, profile: j, weighted: y },
            ) => Arc::ptr_eq(a, b) && i == j && x == y,
            (ShownProfile::Derived { index: a, .. }, ShownProfile::Derived { index: b, .. }) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl ShownProfile {
    /// What the flame graph shows, given the bundle, the chosen profile, the
    /// charts' range and whether to draw by weight.
    pub fn of(
        loaded: Arc<Loaded>,
        profile: usize,
        range: Option<(f64, f64)>,
        by_weight: bool,
        hidden: &[Category],
    ) -> Option<ShownProfile> {
        let i = profile.min(loaded.bundle.profiles.len().checked_sub(1)?);
        let whole = &loaded.bundle.profiles[i];
        let cut = range.and_then(|(a, b)| whole.in_range((a * 1000.0) as i64, (b * 1000.0) as i64));
        let shown_hides = !hidden.is_empty() && whole.frames.category.iter().any(|c| hidden.contains(c));
        if cut.is_some() || shown_hides {
            let r = cut.as_ref().unwrap_or(whole);
            let r = if shown_hides { r.without_categories(hidden) } else { r.clone() };
            let weighted = by_weight && r.has_weights();
            let index = Arc::new(FlameIndex::left_heavy_by(&r, weighted));
            let cut = cut.is_some();
            return Some(ShownProfile::Derived { profile: Arc::new(r), index, of: whole.total_samples, weighted, cut });
        }
        let weighted = by_weight && loaded.weighted[i].is_some();
        Some(ShownProfile::Whole { loaded, profile: i, weighted })
    }

    pub fn profile(&self) -> &Profile {
        match self {
            ShownProfile::Whole { loaded, profile, .. } => &loaded.bundle.profiles[*profile],
            ShownProfile::Derived { profile, .. } => profile,
        }
    }

    /// The flame index (siblings heaviest first): by weight when [`Self::weighted`], else by samples.
    pub fn index(&self) -> &FlameIndex {
        match self {
            ShownProfile::Whole { loaded, profile, weighted } => match (&loaded.weighted[*profile], weighted) {
                (Some(w), true) => w,
                _ => &loaded.flames[*profile],
            },
            ShownProfile::Derived { index, .. } => index,
        }
    }

    /// Whether the flame graph, search and tooltips go by weight.
    pub fn weighted(&self) -> bool {
        match self {
            ShownProfile::Whole { weighted, .. } | ShownProfile::Derived { weighted, .. } => *weighted,
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

    /// An amount in [`Self::unit`] as every view writes it: a weight in its
    /// unit (`1.08 s`, `4,000 events (period)`), samples as a count (`1,234`;
    /// the column or the sentence names them).
    pub fn figure(&self, v: u64) -> String {
        if self.weighted() {
            amount(v, &self.unit())
        } else {
            perfbundle_core::format::group(v)
        }
    }

    /// Node `node`'s own amount (not its descendants'), in [`Self::unit`].
    pub fn self_amount(&self, node: u32) -> u64 {
        let p = self.profile();
        let own = if self.weighted() { &p.nodes.self_weight } else { &p.nodes.self_samples };
        own.get(node as usize).copied().unwrap_or(0)
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

/// The labels of a profile's frames, as searched: as shown, and lowercased
/// (made once per profile, not per keystroke).
#[derive(Debug, Default)]
pub struct FrameLabels {
    pub text: Vec<String>,
    pub lower: Vec<String>,
}

impl FrameLabels {
    pub fn of(p: &Profile) -> FrameLabels {
        let text: Vec<String> = (0..p.frames.name.len()).map(|f| p.frame_label(f)).collect();
        let lower = text.iter().map(|t| t.to_lowercase()).collect();
        FrameLabels { text, lower }
    }
}

/// The function table's rows: each function of a profile, and which
/// function each frame is of ([`Profile::functions_by_frame`]: a search
/// marks functions without hashing).
#[derive(Debug)]
pub struct FunctionRows {
    pub stats: Vec<perfbundle_core::profile::FunctionStat>,
    pub of_frame: Vec<u32>,
}

impl FunctionRows {
    pub fn of(p: &Profile) -> FunctionRows {
        let (stats, of_frame) = p.functions_by_frame();
        FunctionRows { stats, of_frame }
    }

    /// Which functions a search matches (each that has a matching frame).
    pub fn matched(&self, search: &Search) -> Option<Vec<bool>> {
        let Search::Matches { frames, .. } = search else { return None };
        let mut hit = vec![false; self.stats.len()];
        for (fr, _) in frames.iter().enumerate().filter(|(_, h)| **h) {
            if let Some(h) = self.of_frame.get(fr).and_then(|&k| hit.get_mut(k as usize)) {
                *h = true;
            }
        }
        Some(hit)
    }
}

/// An `Arc` compared by identity (a memo of a large derived value).
#[derive(Debug)]
pub struct Shared<T>(pub Arc<T>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<T> PartialEq for Shared<T> {
    fn eq(&self, o: &Self) -> bool {
        Arc::ptr_eq(&self.0, &o.0)
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// The views of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlameView {
    /// The flame graph, siblings by name (as flamegraph.pl and inferno).
    Flame,
    /// Siblings heaviest first (speedscope's left heavy).
    LeftHeavy,
    /// The samples over time (a flame chart), where they have times.
    TimeOrder,
    /// The callers and the callees of one function.
    Sandwich,
    /// An expandable call tree, top-down or inverted.
    CallTree,
}

impl FlameView {
    pub const ALL: [FlameView; 5] =
        [FlameView::LeftHeavy, FlameView::Flame, FlameView::TimeOrder, FlameView::Sandwich, FlameView::CallTree];

    pub fn label(self) -> &'static str {
        match self {
            FlameView::Flame => "flame graph (by name)",
            FlameView::LeftHeavy => "left heavy",
            FlameView::TimeOrder => "time order",
            FlameView::Sandwich => "sandwich",
            FlameView::CallTree => "call tree",
        }
    }

    /// Its name in permalinks and test ids.
    pub fn id(self) -> &'static str {
        match self {
            FlameView::Flame => "flame",
            FlameView::LeftHeavy => "left-heavy",
            FlameView::TimeOrder => "time-order",
            FlameView::Sandwich => "sandwich",
            FlameView::CallTree => "call-tree",
        }
    }

    pub fn from_id(id: &str) -> Option<FlameView> {
        FlameView::ALL.into_iter().find(|v| v.id() == id)
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
    Matches { hits: Arc<Vec<bool>>, frames: Arc<Vec<bool>>, covered: u64, total: u64, unit: String },
}

impl Search {
    /// Searches the profile shown for `query`, over its frames' labels.
    pub fn run(sh: &ShownProfile, labels: &FrameLabels, query: &str, regex: bool) -> Search {
        let (p, ix) = (sh.profile(), sh.index());
        if query.is_empty() {
            return Search::None;
        }
        let frame_hits: Vec<bool> = if regex {
            match regex_lite::Regex::new(query) {
                Ok(re) => labels.text.iter().map(|l| re.is_match(l)).collect(),
                Err(e) => return Search::Invalid(format!("not a valid regular expression: {e}")),
            }
        } else {
            let q = query.to_lowercase();
            labels.lower.iter().map(|l| l.contains(&q)).collect()
        };
        let (hits, covered) = ix.search(p, &|f| frame_hits.get(f).copied().unwrap_or(false));
        let total = ix.totals.first().copied().unwrap_or(0);
        Search::Matches { hits: Arc::new(hits), frames: Arc::new(frame_hits), covered, total, unit: sh.unit() }
    }

    /// Whether frame `frame` matches (every frame when there is no search).
    pub fn frame_hit(&self, frame: usize) -> bool {
        match self {
            Search::Matches { frames, .. } => frames.get(frame).copied().unwrap_or(false),
            _ => true,
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
                let share = perfbundle_core::format::share(*covered, *total);
                if unit == "samples" {
                    format!("matches cover {covered} of {total} samples ({share})")
                } else {
                    format!("matches cover {} of {} ({share})", amount(*covered, unit), amount(*total, unit))
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
    /// The view: flame graph, left heavy, time order, sandwich, call tree.
    pub view: RwSignal<FlameView>,
    /// Categories whose samples are left out (idle also unless [`RunState::show_idle`]).
    pub hidden: RwSignal<Vec<Category>>,
    /// The frame selected (keyboard, function table), highlighted and described.
    pub selected: RwSignal<Option<u32>>,
    /// The function the sandwich is of: name and file.
    pub sandwich: RwSignal<Option<(String, String)>>,
    /// The call tree inverted (bottom-up).
    pub inverted: RwSignal<bool>,
    /// "Where was this slow?": the function (name, file) whose share of
    /// samples over time the charts draw under the k6 charts.
    pub slow: RwSignal<Option<(String, String)>>,
    /// The time-order view's window, µs since the first sample (`None`: all).
    pub window: RwSignal<Option<(i64, i64)>>,
    /// The profile shown: follows the bundle, [`Self::profile`], the charts'
    /// range and the hidden categories.
    pub shown: Memo<Option<ShownProfile>>,
    /// The shown profile's flame index with siblings by name (the by-name
    /// view only; the others draw [`ShownProfile::index`], heaviest first).
    pub by_name: Memo<Option<Shared<FlameIndex>>>,
    /// The shown profile's functions, for the function table (made once per profile shown).
    pub functions: Memo<Option<Shared<FunctionRows>>>,
    /// The shown profile's frames' labels (for the search).
    pub labels: Memo<Option<Shared<FrameLabels>>>,
    /// The time-order spans of the shown profile, where it has sample times.
    pub time_order: Memo<Option<Shared<TimeOrder>>>,
    /// The profile's sampling interval (µs), where its samples have times.
    pub interval_us: Memo<Option<f64>>,
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
        let view = RwSignal::new(FlameView::LeftHeavy);
        let hidden: RwSignal<Vec<Category>> = RwSignal::new(Vec::new());
        let shown = Memo::new(move |_| {
            hidden.with(|h| {
                // Idle is left out unless asked for (`?idle=1`): one switch for every view.
                let mut h = h.clone();
                if !run.show_idle.get() && !h.contains(&Category::Idle) {
                    h.push(Category::Idle);
                }
                ShownProfile::of(run.bundle.loaded.get()?, profile.get(), run.range.get(), by_weight.get(), &h)
            })
        });
        let by_name = Memo::new(move |_| {
            if view.get() != FlameView::Flame {
                return None;
            }
            shown.with(|sh| {
                let sh = sh.as_ref()?;
                Some(Shared(Arc::new(sh.index().by_name(sh.profile()))))
            })
        });
        let functions = Memo::new(move |_| {
            shown.with(|sh| {
                Some(Shared(match sh.as_ref()? {
                    ShownProfile::Whole { loaded, profile, .. } => loaded.functions_of(*profile),
                    ShownProfile::Derived { profile, .. } => Arc::new(FunctionRows::of(profile)),
                }))
            })
        });
        let labels =
            Memo::new(move |_| shown.with(|sh| Some(Shared(Arc::new(FrameLabels::of(sh.as_ref()?.profile()))))));
        let time_order = Memo::new(move |_| {
            if view.get() != FlameView::TimeOrder {
                return None;
            }
            shown.with(|sh| TimeOrder::new(sh.as_ref()?.profile()).map(|t| Shared(Arc::new(t))))
        });
        let interval_us = Memo::new(move |_| {
            let l = run.bundle.loaded.get()?;
            let p = l.bundle.profiles.get(profile.get().min(l.bundle.profiles.len().checked_sub(1)?))?;
            p.sample_interval_us()
        });
        let matches = Memo::new(move |_| {
            shown.with(|sh| match (sh, labels.get()) {
                (Some(sh), Some(l)) => search.with(|q| Search::run(sh, &l, q, regex.get())),
                _ => Search::None,
            })
        });
        FlameState {
            profile,
            focus: RwSignal::new(0),
            search,
            regex,
            icicle: RwSignal::new(true),
            by_weight,
            view,
            hidden,
            selected: RwSignal::new(None),
            sandwich: RwSignal::new(None),
            inverted: RwSignal::new(false),
            slow: RwSignal::new(None),
            window: RwSignal::new(None),
            shown,
            by_name,
            functions,
            labels,
            time_order,
            interval_us,
            matches,
        }
    }

    /// Shows a function (from the function table): in the sandwich view,
    /// its sandwich; elsewhere its widest frame selected and brought into
    /// view (zoomed out to the root when the zoom hides it).
    pub fn select_function(&self, name: String, file: String) {
        if self.view.get_untracked() == FlameView::Sandwich {
            self.sandwich.set(Some((name, file)));
            return;
        }
        let widest = self.shown.with_untracked(|sh| {
            let sh = sh.as_ref()?;
            let (p, ix) = (sh.profile(), sh.index());
            (1..p.nodes.parent.len())
                .filter(|&n| {
                    let f = p.nodes.frame[n] as usize;
                    p.frames.name[f] == name && p.frames.file[f] == file
                })
                .max_by_key(|&n| (ix.totals[n], std::cmp::Reverse(n)))
                .map(|n| (n as u32, ix.ancestors(p, n as u32)))
        });
        if let Some((node, path)) = widest {
            if !path.contains(&self.focus.get_untracked()) {
                self.focus.set(0);
            }
            self.selected.set(Some(node));
            if !matches!(self.view.get_untracked(), FlameView::Flame | FlameView::LeftHeavy) {
                self.view.set(FlameView::LeftHeavy);
            }
        }
    }

    /// The function (name, file) of node `node`'s frame.
    fn function_of(&self, node: u32) -> Option<(String, String)> {
        self.shown.with_untracked(|sh| {
            let p = sh.as_ref()?.profile();
            let fr = usize::try_from(*p.nodes.frame.get(node as usize)?).ok()?;
            Some((p.frames.name[fr].clone(), p.frames.file[fr].clone()))
        })
    }

    /// Asks the charts for the share over time of node `node`'s function.
    pub fn where_slow_of_node(&self, node: u32) {
        if let Some(f) = self.function_of(node) {
            self.slow.set(Some(f));
        }
    }

    /// Shows another of the bundle's profiles, whole.
    pub fn show_profile(&self, i: usize) {
        self.profile.set(i);
        self.focus.set(0);
        self.selected.set(None);
        self.window.set(None);
    }

    /// A new file starts a new view: no zoom, no search, no selection.
    pub fn new_view(&self) {
        self.focus.set(0);
        self.search.set(String::new());
        self.selected.set(None);
        self.sandwich.set(None);
        self.window.set(None);
    }

    /// Shows the sandwich of the function of node `node`'s frame.
    pub fn sandwich_of_node(&self, node: u32) {
        if let Some(f) = self.function_of(node) {
            self.sandwich.set(Some(f));
            self.view.set(FlameView::Sandwich);
        }
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
        let frames = Arc::new(vec![true]);
        let s = Search::Matches {
            hits: Arc::new(vec![false, true]),
            frames: frames.clone(),
            covered: 1101,
            total: 28768,
            unit: "samples".into(),
        };
        assert_eq!(s.info(), "matches cover 1101 of 28768 samples (3.82%)");
        assert!(s.hit(1) && !s.hit(0) && !s.hit(7));
        let w = Search::Matches { hits: Arc::new(vec![]), frames, covered: 2_500, total: 10_000, unit: "us".into() };
        assert_eq!(w.info(), "matches cover 2.50 ms of 10.00 ms (25.00%)");
    }
}
