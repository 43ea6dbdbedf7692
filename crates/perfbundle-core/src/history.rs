//! A history of runs: every kept run's key figures in order — by run start
//! time, or by a label compared as versions (`1.9.0` < `1.10.0`, `v1` <
//! `v2`) — with each figure's change from the run before. `perfbundle
//! history` prints it; `perfbundle site`'s trend page charts it.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::bundle::IndexEntry;

/// The figures a history follows, in display order: (key, label, unit).
pub const FIGURES: &[(&str, &str, &str)] = &[
    ("http_req_rate", "request rate", "/s"),
    ("http_req_duration_p95_ms", "p(95) http_req_duration", "ms"),
    ("http_req_failed_rate", "failure rate", "%"),
    ("checks_rate", "checks", "%"),
];

/// One run in a history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRun {
    #[serde(flatten)]
    pub entry: IndexEntry,
    /// The value of `--by`'s label, when ordering by a label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Each figure's relative change from the run before (a fraction), when both have it and the earlier is not 0.
    pub change: BTreeMap<String, f64>,
}

/// A history: how it is ordered and its runs, oldest (or lowest version) first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// `start`, or the label ordered by.
    pub by: String,
    pub runs: Vec<HistoryRun>,
}

/// A figure of an entry by its key in [`FIGURES`].
pub fn figure(e: &IndexEntry, key: &str) -> Option<f64> {
    match key {
        "http_req_rate" => e.http_req_rate,
        "http_req_duration_p95_ms" => e.http_req_duration_p95_ms,
        "http_req_failed_rate" => e.http_req_failed_rate,
        "checks_rate" => e.checks_rate,
        _ => None,
    }
}

/// Compares two strings as versions: runs of digits as numbers, other runs
/// as text, a leading `v` ignored (`v2` < `v10`, `1.9.0` < `1.10.0`, `1.0.0-rc1` < `1.0.0`).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn parts(s: &str) -> Vec<(bool, String)> {
        let s = s.strip_prefix(['v', 'V']).filter(|r| r.starts_with(|c: char| c.is_ascii_digit())).unwrap_or(s);
        let mut out: Vec<(bool, String)> = Vec::new();
        for c in s.chars() {
            let digit = c.is_ascii_digit();
            match out.last_mut() {
                Some((d, t)) if *d == digit => t.push(c),
                _ => out.push((digit, c.to_string())),
            }
        }
        out
    }
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(&pb) {
        let o = match (x.0, y.0) {
            (true, true) => {
                let (nx, ny) = (x.1.trim_start_matches('0'), y.1.trim_start_matches('0'));
                nx.len().cmp(&ny.len()).then_with(|| nx.cmp(ny))
            }
            // A pre-release tag (`-rc1`) sorts before the release it precedes.
            _ => x.1.cmp(&y.1),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    // `1.0.0` > `1.0.0-rc1`: the one that ends first is the release, unless what follows is a number (`1.0` < `1.0.1`).
    match pa.len().cmp(&pb.len()) {
        Ordering::Equal => Ordering::Equal,
        Ordering::Less => {
            if pb[pa.len()].1.starts_with(['-', '~']) {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        Ordering::Greater => {
            if pa[pb.len()].1.starts_with(['-', '~']) {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
    }
}

/// Orders `entries` by run start, or by the label `by` as versions (runs
/// without the label last, then by start), and computes each run's changes.
pub fn history(mut entries: Vec<IndexEntry>, by: Option<&str>) -> History {
    match by {
        None => entries.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.file.cmp(&b.file))),
        Some(label) => entries.sort_by(|a, b| match (a.labels.get(label), b.labels.get(label)) {
            (Some(x), Some(y)) => compare_versions(x, y).then_with(|| a.start.cmp(&b.start)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => a.start.cmp(&b.start),
        }),
    }
    let mut runs: Vec<HistoryRun> = Vec::new();
    for e in entries {
        let mut change = BTreeMap::new();
        if let Some(prev) = runs.last() {
            for (key, _, _) in FIGURES {
                if let (Some(p), Some(c)) = (figure(&prev.entry, key), figure(&e, key)) {
                    if p != 0.0 {
                        change.insert((*key).to_string(), (c - p) / p.abs());
                    }
                }
            }
        }
        let key = by.and_then(|l| e.labels.get(l).cloned());
        runs.push(HistoryRun { entry: e, key, change });
    }
    History { by: by.unwrap_or("start").to_string(), runs }
}

/// Whether two runs are of one test under the same profilers: the runs a
/// trend joins and the runs list compares (a profiler slows the app, so a
/// run under perf is not "the run before" of one without).
pub fn same_setup(a: &IndexEntry, b: &IndexEntry) -> bool {
    crate::compare::relation::same_test(&a.shape, &b.shape) && a.profilers == b.profilers
}

/// What a trend's line is called: the words the titles of every run of its
/// test start with (`catalog-api` of `catalog-api v1 k6-only` and
/// `catalog-api v2 perf`), then its profilers (`catalog-api · perf`); the
/// run's title for a test of one run; `test N` when the titles share no word.
pub fn setup_label(entries: &[IndexEntry], members: &[usize], n: usize) -> String {
    let Some(&first) = members.first() else { return format!("test {n}") };
    let same: Vec<Vec<&str>> = entries
        .iter()
        .enumerate()
        .filter(|(i, e)| *i == first || crate::compare::relation::same_test(&entries[first].shape, &e.shape))
        .map(|(_, e)| e.title.split_whitespace().collect())
        .collect();
    let mut common: Vec<&str> = same.first().cloned().unwrap_or_default();
    for t in &same[1.min(same.len())..] {
        let k = common.iter().zip(t).take_while(|(a, b)| a == b).count();
        common.truncate(k);
    }
    // Trailing punctuation between words (`—`) says nothing on its own.
    while common.last().is_some_and(|w| !w.chars().any(char::is_alphanumeric)) {
        common.pop();
    }
    let name = if common.is_empty() { format!("test {n}") } else { common.join(" ") };
    match &entries[first].profilers {
        p if p.is_empty() => name,
        p => format!("{name} · {}", p.join(", ")),
    }
}

/// The runs of `entries` grouped by test and profilers ([`same_setup`] with
/// the group's first run), each group in the order given: a trend joins the
/// runs of one setup only. A run without k6 data is a group of its own.
pub fn tests_of(entries: &[IndexEntry]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let home = groups.iter_mut().find(|g| same_setup(&entries[g[0]], e));
        match home {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_people_read_them() {
        let mut v = vec!["1.10.0", "v2", "1.9.0", "1.0.0-rc1", "1.0.0", "v10", "1.9.10", "0.9"];
        v.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(v, vec!["0.9", "1.0.0-rc1", "1.0.0", "1.9.0", "1.9.10", "1.10.0", "v2", "v10"]);
        assert_eq!(compare_versions("v1", "v2"), Ordering::Less);
        assert_eq!(compare_versions("1.0", "1.0.1"), Ordering::Less);
    }

    fn entry(file: &str, start: &str, version: Option<&str>, rate: f64) -> IndexEntry {
        IndexEntry {
            file: file.into(),
            title: file.into(),
            labels: version.map(|v| [("version".to_string(), v.to_string())].into()).unwrap_or_default(),
            start: Some(start.into()),
            duration_ms: None,
            http_reqs: None,
            http_req_rate: Some(rate),
            http_req_duration_p95_ms: None,
            http_req_failed_rate: None,
            checks_rate: None,
            thresholds_passed: None,
            thresholds_failed: Vec::new(),
            profiles: Vec::new(),
            profilers: Vec::new(),
            timelines: Vec::new(),
            shape: Vec::new(),
            figures: Default::default(),
        }
    }

    #[test]
    fn runs_are_grouped_by_test() {
        let with = |file: &str, shape: &[&str]| IndexEntry {
            shape: shape.iter().map(|s| s.to_string()).collect(),
            ..entry(file, "2026-11-30T10:00:00Z", None, 1.0)
        };
        let runs = [
            with("a1", &["check:::x", "metric:m"]),
            with("b1", &["check:::other"]),
            with("a2", &["check:::x", "metric:m", "check:::y"]),
            with("profile-only", &[]),
            with("b2", &["check:::other"]),
        ];
        assert_eq!(tests_of(&runs), [vec![0, 2], vec![1, 4], vec![3]]);
        // Under another profiler, a run of the same test is a setup of its own.
        let under = |file: &str, title: &str, sources: &[&str]| IndexEntry {
            title: title.into(),
            profilers: sources.iter().map(|s| s.to_string()).collect(),
            ..with(file, &["check:::x", "metric:m"])
        };
        let runs = [
            under("v1", "catalog-api v1 k6-only", &[]),
            under("v1p", "catalog-api v1 perf", &["perf"]),
            under("v2", "catalog-api v2 k6-only", &[]),
            under("v2p", "catalog-api v2 perf", &["perf"]),
        ];
        let groups = tests_of(&runs);
        assert_eq!(groups, [vec![0, 2], vec![1, 3]]);
        assert_eq!(setup_label(&runs, &groups[0], 1), "catalog-api");
        assert_eq!(setup_label(&runs, &groups[1], 2), "catalog-api · perf");
        assert_eq!(setup_label(&runs[..1], &[0], 1), "catalog-api v1 k6-only");
        assert!(!same_setup(&runs[2], &runs[1]));
    }

    #[test]
    fn orders_by_time_or_by_version_with_changes_from_the_run_before() {
        let e = vec![
            entry("c", "2026-01-03T00:00:00Z", Some("1.10.0"), 30.0),
            entry("a", "2026-01-01T00:00:00Z", Some("1.9.0"), 10.0),
            entry("b", "2026-01-02T00:00:00Z", Some("1.2.0"), 20.0),
            entry("d", "2026-01-04T00:00:00Z", None, 15.0),
        ];
        let by_time = history(e.clone(), None);
        let files: Vec<&str> = by_time.runs.iter().map(|r| r.entry.file.as_str()).collect();
        assert_eq!(files, vec!["a", "b", "c", "d"]);
        assert_eq!(by_time.runs[1].change["http_req_rate"], 1.0);
        assert!(by_time.runs[0].change.is_empty());
        let by_version = history(e, Some("version"));
        let files: Vec<&str> = by_version.runs.iter().map(|r| r.entry.file.as_str()).collect();
        assert_eq!(files, vec!["b", "a", "c", "d"]);
        assert_eq!(by_version.runs[1].change["http_req_rate"], -0.5);
        assert_eq!(by_version.runs[2].key.as_deref(), Some("1.10.0"));
    }
}
