//! k6's checks: passes and fails per (group path, check name), and the
//! group tree a summary holds.

use std::collections::BTreeMap;

use crate::k6::model::{CheckGroup, CheckResult};

/// Passes and fails per `(group path, check name)`.
pub(crate) type CheckCounts = BTreeMap<(String, String), (u64, u64)>;

/// Builds the group tree from `(group path, check) → (passes, fails)`.
/// Group paths are k6's: `""` for the root, `::a::b` for nested groups.
pub(crate) fn check_tree(checks: &CheckCounts) -> CheckGroup {
    let mut root = CheckGroup::default();
    for ((group, check), (passes, fails)) in checks {
        let mut node = &mut root;
        let mut path = String::new();
        for part in group.split("::").filter(|p| !p.is_empty()) {
            path = format!("{path}::{part}");
            let pos = match node.groups.iter().position(|g| g.name == part) {
                Some(p) => p,
                None => {
                    node.groups.push(CheckGroup { name: part.to_string(), path: path.clone(), ..Default::default() });
                    node.groups.len() - 1
                }
            };
            node = &mut node.groups[pos];
        }
        node.checks.push(CheckResult {
            name: check.clone(),
            path: format!("{group}::{check}"),
            passes: *passes,
            fails: *fails,
        });
    }
    root
}

/// Adds a tree's checks to `out` (the inverse of [`check_tree`]; the same
/// check of several trees adds up).
pub(crate) fn add_check_counts(g: &CheckGroup, out: &mut CheckCounts) {
    for c in &g.checks {
        let e = out.entry((g.path.clone(), c.name.clone())).or_default();
        e.0 += c.passes;
        e.1 += c.fails;
    }
    for sub in &g.groups {
        add_check_counts(sub, out);
    }
}
