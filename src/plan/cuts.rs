//! The run-level cuts: one oldest-first cut over every package's plan (`max-deletions`, or the
//! primary rate-limit budget), whole units at a time, the rest deferred.

use super::{DeferReason, PackagePlan, Verdict};
use crate::model::Timestamp;

/// GitHub API requests one removal of tags costs: the listing that finds its throw-away
/// version, and the DELETE of it (the registry requests are not counted by the API).
pub const UNTAG_API_REQUESTS: usize = 2;

/// How a unit counts against a cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cost {
    /// Every version counts (`max-deletions`; a whole package counts as all its versions).
    Versions,
    /// Every request counts (the rate-limit budget; a whole package is one request).
    Requests,
}

/// One oldest-first cut over the whole run: units are taken oldest first while they fit the
/// allowance; the first that does not fit and every later one are deferred.
pub fn defer_beyond(
    plans: &mut [&mut PackagePlan],
    allowance: usize,
    cost: Cost,
    reason: DeferReason,
) {
    struct Unit {
        plan: usize,
        unit: usize,
        oldest: (Timestamp, u64),
        cost: usize,
    }
    let mut units: Vec<Unit> = Vec::new();
    for (p, plan) in plans.iter().enumerate() {
        let mut by_unit: std::collections::BTreeMap<usize, ((Timestamp, u64), usize)> =
            std::collections::BTreeMap::new();
        let changed = plan.versions.iter().zip(&plan.decisions);
        for (version, decision) in changed.filter(|(_, d)| d.verdict.is_change()) {
            let entry = by_unit
                .entry(decision.unit)
                .or_insert((version.recency_key(), 0));
            entry.0 = entry.0.min(version.recency_key());
            // A removal of tags is one deletion (of its throw-away version), found through
            // one listing request.
            entry.1 += match (&decision.verdict, cost) {
                (Verdict::Untag(_), Cost::Requests) => UNTAG_API_REQUESTS,
                _ => 1,
            };
        }
        for (unit, (oldest, size)) in by_unit {
            let cost = if plan.delete_package && cost == Cost::Requests {
                1
            } else {
                size
            };
            units.push(Unit {
                plan: p,
                unit,
                oldest,
                cost,
            });
        }
    }
    units.sort_by_key(|u| (u.oldest, u.plan));
    let mut left = allowance;
    let mut cut = false;
    // Per plan, the units deferred; then one pass over each plan's decisions.
    let mut deferred: Vec<std::collections::HashSet<usize>> = vec![Default::default(); plans.len()];
    for unit in units {
        if !cut && unit.cost <= left {
            left -= unit.cost;
            continue;
        }
        cut = true;
        deferred[unit.plan].insert(unit.unit);
    }
    for (plan, deferred) in plans.iter_mut().zip(deferred) {
        if deferred.is_empty() {
            continue;
        }
        plan.delete_package = false;
        for decision in plan.decisions.iter_mut() {
            if decision.verdict.is_change() && deferred.contains(&decision.unit) {
                decision.verdict = Verdict::Defer(reason);
            }
        }
    }
}
