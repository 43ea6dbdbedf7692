//! Whether two runs are of the same test. A comparison of two different
//! tests (different scripts: other custom metrics, checks, groups, URLs)
//! says little, so the compare view warns and the runs list does not offer
//! one. A test's *shape* is what its script names: its custom metrics, its
//! checks and groups, and the `name`s its requests were tagged with (k6
//! names a request by its URL). v1 and v2 of one script have the same
//! shape, whatever their figures.

use std::collections::BTreeSet;

use crate::k6::builtin::builtin_metric;
use crate::k6::{CheckGroup, K6Summary, SeriesOrigin};

/// Below this share of names in common, two runs are of different tests.
const SAME_TEST_MIN_SHARE: f64 = 0.5;

/// At most this many request names in a shape (a script that names
/// requests by URLs with ids in them has thousands).
const MAX_URL_NAMES: usize = 200;

/// The names a test's script gives: `metric:NAME` (custom metrics),
/// `check:PATH`, `group:PATH`, and `url:NAME` (the `name` tag of requests,
/// scheme and host left out; the first [`MAX_URL_NAMES`]). Sorted, each
/// once; empty when the run has no k6 data.
pub fn test_shape(s: Option<&K6Summary>) -> Vec<String> {
    let Some(s) = s else { return Vec::new() };
    let mut out = BTreeSet::new();
    for name in s.metrics.keys().filter(|n| builtin_metric(n).is_none()) {
        out.insert(format!("metric:{name}"));
    }
    fn walk(g: &CheckGroup, out: &mut BTreeSet<String>) {
        if !g.name.is_empty() {
            out.insert(format!("group:{}", g.path));
        }
        for c in &g.checks {
            out.insert(format!("check:{}", c.path));
        }
        for sub in &g.groups {
            walk(sub, out);
        }
    }
    if let Some(g) = &s.checks {
        walk(g, &mut out);
    }
    let urls: BTreeSet<String> = s
        .series
        .values()
        .filter(|x| x.origin == SeriesOrigin::Tag && x.metric == "http_reqs")
        .filter_map(|x| x.tags.get("name"))
        .map(|name| format!("url:{}", without_host(name)))
        .collect();
    out.extend(urls.into_iter().take(MAX_URL_NAMES));
    out.into_iter().collect()
}

/// `http://127.0.0.1:18080/fast?x=1` → `/fast?x=1`: the same script run
/// against another host names its requests alike.
fn without_host(url: &str) -> &str {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map(|i| &rest[i..]).unwrap_or("/"),
        None => url,
    }
}

/// The request names of a shape (`urls`), or the names its script gives.
fn names(shape: &[String], urls: bool) -> BTreeSet<&str> {
    shape.iter().map(String::as_str).filter(|n| n.starts_with("url:") == urls).collect()
}

/// Why two runs, by their [`test_shape`]s, look like different tests;
/// `None` when they look like the same test or when there is nothing to
/// tell by. The names the script gives (custom metrics, checks, groups)
/// decide when both runs have some — a v2 that adds checks to a script
/// that had none is told by its requests' names —, else the request names.
pub fn unrelated_reason(base: &[String], candidate: &[String]) -> Option<String> {
    let (b, c) = match (names(base, false), names(candidate, false)) {
        (b, c) if !b.is_empty() && !c.is_empty() => (b, c),
        _ => (names(base, true), names(candidate, true)),
    };
    if b.is_empty() || c.is_empty() {
        return None;
    }
    let common = b.intersection(&c).count();
    let all = b.union(&c).count();
    if common as f64 >= SAME_TEST_MIN_SHARE * all as f64 {
        return None;
    }
    let list = |s: Vec<&&str>| {
        let n = s.len();
        let mut shown: Vec<String> = s.into_iter().take(4).map(|x| x.to_string()).collect();
        if n > 4 {
            shown.push(format!("and {} more", n - 4));
        }
        shown.join(", ")
    };
    Some(format!(
        "these runs look like different tests: of the names their scripts use (custom metrics, checks, groups; or the requests'), {common} of {all} are in both (only in the base: {}; only in the candidate: {}). A comparison of different tests says little about a change.",
        list(b.difference(&c).collect()),
        list(c.difference(&b).collect()),
    ))
}

/// `true` when both runs have a shape and it is one test's: the runs list
/// offers a comparison only then.
pub fn same_test(a: &[String], b: &[String]) -> bool {
    !a.is_empty() && !b.is_empty() && unrelated_reason(a, b).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_same_script_is_one_test_and_another_script_is_not() {
        let v1 = shape(&["check:::health is 200", "group:::buy", "metric:reservation_ok"]);
        let v2 = shape(&["check:::health is 200", "check:::new one", "group:::buy", "metric:reservation_ok"]);
        assert_eq!(unrelated_reason(&v1, &v2), None);
        let other = shape(&["check:::orders is 200", "metric:queue_depth"]);
        let why = unrelated_reason(&v1, &other).unwrap();
        assert!(why.contains("0 of 5 are in both"), "{why}");
        assert!(why.contains("only in the candidate: check:::orders is 200, metric:queue_depth"), "{why}");
        assert_eq!(unrelated_reason(&v1, &[]), None);
        assert!(same_test(&v1, &v2));
        assert!(!same_test(&v1, &other));
        assert!(!same_test(&v1, &[]), "a run without k6 data is not known to be of the same test");
        // A v2 that adds the script's first check is told by its requests' names.
        let plain = shape(&["url:/a", "url:/b"]);
        let checked = shape(&["check:::a is 200", "url:/a", "url:/b"]);
        assert_eq!(unrelated_reason(&plain, &checked), None);
        let elsewhere = shape(&["url:/orders", "url:/users"]);
        assert!(unrelated_reason(&plain, &elsewhere).is_some());
    }

    #[test]
    fn request_names_lose_their_host() {
        assert_eq!(without_host("http://127.0.0.1:18080/fast?x=1"), "/fast?x=1");
        assert_eq!(without_host("https://example.com"), "/");
        assert_eq!(without_host("GET /products/:id"), "GET /products/:id");
    }
}
