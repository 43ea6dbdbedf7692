//! Whether shards belong to one run: the same metrics, types and
//! thresholds, and time windows that overlap.

use std::collections::BTreeMap;

use super::Shard;
use crate::k6::model::{K6Summary, MetricType};

/// What keeps the shards from being one run's, one sentence each (none: they are).
pub(super) fn check_compatible(shards: &[Shard<'_>]) -> Vec<String> {
    let mut problems = Vec::new();
    let first = &shards[0];
    let decl = |s: &K6Summary| -> BTreeMap<String, (MetricType, Vec<String>)> {
        s.metrics.iter().map(|(k, d)| (k.clone(), (d.kind, d.thresholds.clone()))).collect()
    };
    let d0 = decl(first.summary);
    for s in &shards[1..] {
        let d = decl(s.summary);
        for (k, (t, th)) in &d0 {
            match d.get(k) {
                None => problems.push(format!("{} has no metric {k}, which {} has", s.name, first.name)),
                Some((t2, _)) if t2 != t => problems.push(format!(
                    "metric {k} is a {} in {} but a {} in {}",
                    t.as_str(),
                    first.name,
                    t2.as_str(),
                    s.name
                )),
                Some((_, th2)) if th2 != th => problems
                    .push(format!("metric {k} has thresholds {th:?} in {} but {th2:?} in {}", first.name, s.name)),
                _ => {}
            }
        }
        for k in d.keys().filter(|k| !d0.contains_key(*k)) {
            problems.push(format!("{} has a metric {k} that {} has not", s.name, first.name));
        }
    }
    // Windows must overlap: the shards of one test run at the same time.
    let windows: Vec<(i64, i64, &str)> =
        shards.iter().filter_map(|s| Some((s.summary.start_ns?, s.summary.end_ns?, s.name))).collect();
    for a in &windows {
        for b in &windows {
            if a.1 < b.0 {
                problems.push(format!("{} ended before {} began: not shards of one run", a.2, b.2));
            }
        }
    }
    problems
}
