//! The plan: a pure function from a package's versions and a policy to a verdict, with its
//! reason, for every version. Order: filters, `keep-latest`, `min-versions-to-keep`, the
//! container reference graph, the last-version rule; then, over the whole run, one oldest-first
//! cut (`max-deletions`, or the primary rate-limit budget). No I/O, no clock.

use crate::model::{PackageType, Timestamp, Version};
use graph::{Graph, Relation};
use policy::{Exclusion, Filter, Policy, ReleaseLine};
use std::collections::HashMap;

pub mod graph;
pub mod policy;
pub mod ranges;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Delete,
    Restore,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Delete => "delete",
            Mode::Restore => "restore",
        }
    }
}

/// What the plan knows of a package's container reference graph.
#[derive(Clone, Debug)]
pub enum Containers<'a> {
    /// Not a container package: no graph applies.
    NotApplicable,
    /// Every manifest was read (delete mode); in restore mode, what is known of the deleted
    /// versions (their tags, and the manifests the cache holds).
    Known(&'a Graph),
    /// A manifest could not be read: fail closed, nothing in the package is deleted.
    Unreadable { digest: String, cause: String },
    /// Planned offline: manifests were not read.
    NotRead,
}

pub struct PlanInput<'a> {
    pub mode: Mode,
    pub package_type: PackageType,
    /// The candidates: active versions in delete mode, deleted versions in restore mode.
    pub versions: Vec<Version>,
    pub policy: &'a Policy,
    pub now: Timestamp,
    pub containers: Containers<'a>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Delete it (delete mode) or restore it (restore mode).
    Act(ActReason),
    /// `untag`: the version stays (with its other tags) and loses these tags.
    Untag(Vec<String>),
    Keep(KeepReason),
    /// Would be acted on, but a run-level cut leaves it for a later run.
    Defer(DeferReason),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActReason {
    Selected,
    /// Needed only by versions that go: it goes with them.
    WithParent {
        parent: String,
        relation: Relation,
    },
    /// Restore mode: a version being restored needs it, so it comes back with it.
    RestoredWith {
        parent: String,
        relation: Relation,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeepReason {
    NotSelected(Filter),
    Excluded(Box<Exclusion>),
    KeepLatest(usize),
    /// `keep-latest` counted within a group (`keep-latest-per` `major` or `minor`).
    KeepLatestOf(usize, ReleaseLine),
    MinVersionsToKeep(usize),
    NeededBy {
        by: String,
        relation: Relation,
    },
    /// GitHub refuses to delete a package's last (tagged) version.
    LastVersion {
        tagged: bool,
    },
    ManifestUnreadable {
        digest: Box<str>,
        cause: Box<str>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeferReason {
    MaxDeletions,
    RateLimitBudget,
}

impl Verdict {
    pub fn is_act(&self) -> bool {
        matches!(self, Verdict::Act(_))
    }

    /// The tags to remove, for an `untag` verdict.
    pub fn untag_tags(&self) -> Option<&[String]> {
        match self {
            Verdict::Untag(tags) => Some(tags),
            _ => None,
        }
    }

    /// Selected to change: deleted (restored) whole, or losing tags.
    pub fn is_change(&self) -> bool {
        matches!(self, Verdict::Act(_) | Verdict::Untag(_))
    }

    /// A short reason for a person.
    pub fn describe(&self, mode: Mode) -> String {
        match self {
            Verdict::Act(ActReason::Selected) => "selected by the filters".into(),
            Verdict::Act(ActReason::WithParent { parent, relation }) => {
                format!("{} only of {parent}, which goes", relation.describe())
            }
            Verdict::Untag(tags) => format!(
                "loses the tags {} (untag): the version stays with its other tags",
                tags.join(", ")
            ),
            Verdict::Act(ActReason::RestoredWith { parent, relation }) => {
                format!("restored with {parent} (its {})", relation.describe())
            }
            Verdict::Keep(reason) => reason.describe(mode),
            Verdict::Defer(DeferReason::MaxDeletions) => "deferred: max-deletions reached".into(),
            Verdict::Defer(DeferReason::RateLimitBudget) => {
                "deferred: the rate-limit budget is spent".into()
            }
        }
    }
}

impl KeepReason {
    pub fn describe(&self, mode: Mode) -> String {
        match self {
            KeepReason::NotSelected(filter) => format!("not selected by {}", filter.input()),
            KeepReason::Excluded(exclusion) => format!(
                "excluded: {} `{}` matches {}",
                exclusion.input, exclusion.pattern, exclusion.matched
            ),
            KeepReason::KeepLatest(n) => format!("one of the {n} most recent (keep-latest)"),
            KeepReason::KeepLatestOf(n, line) => format!(
                "one of the {n} most recent of {line} (keep-latest-per {})",
                line.per().as_str()
            ),
            KeepReason::MinVersionsToKeep(n) => {
                format!("the package keeps at least {n} versions (min-versions-to-keep)")
            }
            KeepReason::NeededBy { by, relation } => {
                format!("{} of kept {by}", relation.describe())
            }
            KeepReason::LastVersion { tagged: true } => {
                "last tagged version: GitHub refuses to delete it (see delete-empty-package)".into()
            }
            KeepReason::LastVersion { tagged: false } => {
                "last version: GitHub refuses to delete it (see delete-empty-package)".into()
            }
            KeepReason::ManifestUnreadable { digest, cause } => {
                format!(
                "kept: manifest {} could not be read ({cause}), so nothing in the package is {}",
                short_name(digest),
                if mode == Mode::Delete { "deleted" } else { "restored" }
            )
            }
        }
    }

    /// A one-word kind, for counting in the summary.
    pub fn kind(&self) -> &'static str {
        match self {
            KeepReason::NotSelected(_) => "not selected",
            KeepReason::Excluded(_) => "excluded",
            KeepReason::KeepLatest(_) | KeepReason::KeepLatestOf(..) => "keep-latest",
            KeepReason::MinVersionsToKeep(_) => "min-versions-to-keep",
            KeepReason::NeededBy { .. } => "needed by a kept version",
            KeepReason::LastVersion { .. } => "last version",
            KeepReason::ManifestUnreadable { .. } => "manifest unreadable",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    /// Whether the filters selected it (and no `exclude-*` protected it), guards aside.
    pub selected: bool,
    /// Versions acted on together (an image with what goes with it) share a unit: a run-level
    /// cut takes or defers a unit whole.
    pub unit: usize,
    /// Execution phase: parents (0) before what they reference (1, 2, …), so that a failure
    /// never leaves a kept parent without its children.
    pub depth: usize,
}

#[derive(Clone, Debug)]
pub struct PackagePlan {
    pub versions: Vec<Version>,
    pub decisions: Vec<Decision>,
    /// `delete-empty-package`: one DELETE of the whole package instead of its versions.
    pub delete_package: bool,
}

impl PackagePlan {
    /// Restore mode, once versions are restored and their manifests read: the deleted versions
    /// they reach come back too. Returns the versions newly chosen.
    pub fn restore_reached(&mut self, graph: &Graph) -> Vec<usize> {
        let mut verdicts: Vec<Verdict> = self.decisions.iter().map(|d| d.verdict.clone()).collect();
        let added = restore_reached(&self.versions, &mut verdicts, graph);
        for &i in &added {
            self.decisions[i].verdict = verdicts[i].clone();
        }
        added
    }

    pub fn count(&self, wanted: impl Fn(&Verdict) -> bool) -> usize {
        self.decisions.iter().filter(|d| wanted(&d.verdict)).count()
    }
}

/// A version for a person: its first tag, else its short digest or name.
pub fn label(version: &Version) -> String {
    version
        .tags
        .first()
        .cloned()
        .unwrap_or_else(|| short_name(&version.name))
}

/// `sha256:0123456789ab` for a digest, the name otherwise.
pub fn short_name(name: &str) -> String {
    match name.strip_prefix("sha256:") {
        Some(hex) if hex.len() > 12 => format!("sha256:{}", &hex[..12]),
        _ => name.to_string(),
    }
}

pub fn plan_package(input: PlanInput<'_>) -> PackagePlan {
    let PlanInput {
        mode,
        package_type,
        versions,
        policy,
        now,
        containers,
    } = input;
    let untag = policy.untag && mode == Mode::Delete;
    let mut base: Vec<Verdict> = versions
        .iter()
        .map(|version| {
            let partly = untag.then(|| untag_verdict(version, policy, package_type, now));
            if let Some(Some(verdict)) = partly {
                return verdict;
            }
            match policy.exclusion(version) {
                Some(exclusion) => Verdict::Keep(KeepReason::Excluded(Box::new(exclusion))),
                None => match policy.selects(version, package_type, now) {
                    Ok(()) => Verdict::Act(ActReason::Selected),
                    Err(filter) => Verdict::Keep(KeepReason::NotSelected(filter)),
                },
            }
        })
        .collect();
    let selected: Vec<bool> = base.iter().map(Verdict::is_change).collect();

    let newest_first = |verdicts: &[Verdict], wanted: &dyn Fn(usize) -> bool| {
        let mut indices: Vec<usize> = (0..versions.len())
            .filter(|&i| verdicts[i].is_act() && wanted(i))
            .collect();
        indices.sort_by_key(|&i| std::cmp::Reverse(versions[i].recency_key()));
        indices
    };

    if policy.keep_latest > 0 {
        // Counted within each group of selected versions (one group unless `keep-latest-per`);
        // versions losing tags (`untag`) count too, and are spared whole.
        let mut chosen: Vec<usize> = (0..versions.len())
            .filter(|&i| base[i].is_change())
            .collect();
        chosen.sort_by_key(|&i| std::cmp::Reverse(versions[i].recency_key()));
        let mut spared: HashMap<ReleaseLine, usize> = HashMap::new();
        for i in chosen {
            let line = policy.release_line(&versions[i], package_type);
            let count = spared.entry(line).or_default();
            if *count == policy.keep_latest {
                if line == ReleaseLine::All {
                    break;
                }
                continue;
            }
            *count += 1;
            base[i] = Verdict::Keep(match line {
                ReleaseLine::All => KeepReason::KeepLatest(policy.keep_latest),
                line => KeepReason::KeepLatestOf(policy.keep_latest, line),
            });
        }
    }

    if let (Mode::Restore, Containers::Known(graph)) = (mode, &containers) {
        restore_reached(&versions, &mut base, graph);
    }

    let graph = match &containers {
        Containers::Known(graph) if mode == Mode::Delete => Some(*graph),
        _ => None,
    };

    if mode == Mode::Delete {
        // With a container graph, what counts is images: versions no other version needs
        // (platform manifests and signatures come and go with their image).
        let counts = |i: usize| graph.is_none_or(|g| !g.is_needed(i));
        let countable = (0..versions.len()).filter(|&i| counts(i));
        let remaining = countable.filter(|&i| !base[i].is_act()).count();
        let shortfall = policy.min_versions_to_keep.saturating_sub(remaining);
        for i in newest_first(&base, &counts).into_iter().take(shortfall) {
            base[i] = Verdict::Keep(KeepReason::MinVersionsToKeep(policy.min_versions_to_keep));
        }
    }

    if let Containers::Unreadable { digest, cause } = &containers {
        for verdict in base.iter_mut().filter(|v| v.is_change()) {
            *verdict = Verdict::Keep(KeepReason::ManifestUnreadable {
                digest: digest.as_str().into(),
                cause: cause.as_str().into(),
            });
        }
    }
    // Without a graph the verdicts are the base ones: moved, not copied (megabytes at scale).
    let mut verdicts = match graph {
        Some(graph) => resolve_graph(&versions, &base, graph),
        None => std::mem::take(&mut base),
    };

    let mut delete_package = false;
    if mode == Mode::Delete && !versions.is_empty() {
        let all_go = verdicts.iter().all(Verdict::is_act);
        let tagged: Vec<usize> = if package_type.has_tags() {
            (0..versions.len())
                .filter(|&i| !versions[i].tags.is_empty())
                .collect()
        } else {
            Vec::new()
        };
        let all_tagged_go = !tagged.is_empty() && tagged.iter().all(|&i| verdicts[i].is_act());
        if all_go && policy.delete_empty_package {
            delete_package = true;
        } else if all_go || all_tagged_go {
            // Spare an image, not a signature or platform manifest of one that goes (which
            // would leave it orphaned): the newest that no version needs, if there is one.
            let candidates = if tagged.is_empty() {
                newest_first(&verdicts, &|_| true)
            } else {
                newest_first(&verdicts, &|i| !versions[i].tags.is_empty())
            };
            let spare = candidates
                .iter()
                .copied()
                .find(|&i| graph.is_none_or(|g| !g.is_needed(i)))
                .or(candidates.first().copied());
            if let Some(i) = spare {
                let last = Verdict::Keep(KeepReason::LastVersion {
                    tagged: !tagged.is_empty(),
                });
                match graph {
                    Some(graph) => {
                        base[i] = last;
                        verdicts = resolve_graph(&versions, &base, graph);
                    }
                    None => verdicts[i] = last,
                }
            }
        }
    }

    // At 100,000 versions each of these is megabytes: keep only what the plan holds.
    drop(base);
    let mut decisions = group_and_order(verdicts, graph, delete_package);
    for (decision, selected) in decisions.iter_mut().zip(selected) {
        decision.selected = selected;
    }
    PackagePlan {
        versions,
        decisions,
        delete_package,
    }
}

/// `untag`: the verdict of a version that would keep a tag (one `tags` does not select, or
/// one `exclude-tags` protects) while losing others; `None` when the version is handled whole.
fn untag_verdict(
    version: &Version,
    policy: &Policy,
    package_type: PackageType,
    now: Timestamp,
) -> Option<Verdict> {
    let removable = policy.removable_tags(version);
    if removable.is_empty() || removable.len() == version.tags.len() {
        return None;
    }
    if let Some(exclusion) = policy.version_exclusion(version) {
        return Some(Verdict::Keep(KeepReason::Excluded(Box::new(exclusion))));
    }
    Some(match policy.selects(version, package_type, now) {
        Ok(()) => Verdict::Untag(removable),
        Err(filter) => Verdict::Keep(KeepReason::NotSelected(filter)),
    })
}

/// Applies the container reference graph to the verdicts before it. Roots are the versions kept
/// for their own sake (not selected and needed by nothing, excluded, or spared by a guard);
/// everything a root reaches is kept, everything else that is needed only by going versions goes.
fn resolve_graph(versions: &[Version], base: &[Verdict], graph: &Graph) -> Vec<Verdict> {
    let is_root = |i: usize| match &base[i] {
        Verdict::Keep(KeepReason::NotSelected(_)) => !graph.is_needed(i),
        Verdict::Keep(_) | Verdict::Untag(_) => true,
        Verdict::Act(_) | Verdict::Defer(_) => false,
    };
    let mut roots: Vec<usize> = (0..versions.len()).filter(|&i| is_root(i)).collect();
    let mut reached = graph.reach(roots.iter().copied());
    // An unselected version that neither a kept nor a going version reaches (only other
    // unselected versions need it, on a cycle) does not go with anything: it stays for itself.
    let from_going = graph.reach((0..versions.len()).filter(|&i| base[i].is_act()));
    let lone: Vec<bool> = (0..versions.len())
        .map(|i| {
            !base[i].is_act() && !is_root(i) && reached[i].is_none() && from_going[i].is_none()
        })
        .collect();
    if lone.contains(&true) {
        roots.extend((0..versions.len()).filter(|&i| lone[i]));
        reached = graph.reach(roots.iter().copied());
    }
    let mut parent_of = vec![None; versions.len()];
    for parent in 0..versions.len() {
        for &(child, relation) in graph.needs(parent) {
            parent_of[child].get_or_insert((parent, relation));
        }
    }
    let resolved: Vec<Verdict> = (0..versions.len())
        .map(|i| {
            if is_root(i) || lone[i] {
                base[i].clone()
            } else if let Some((by, relation)) = reached[i] {
                Verdict::Keep(KeepReason::NeededBy {
                    by: label(&versions[by]),
                    relation,
                })
            } else if base[i].is_act() {
                base[i].clone()
            } else {
                let (parent, relation) = parent_of[i].expect("a non-root is needed by a version");
                Verdict::Act(ActReason::WithParent {
                    parent: label(&versions[parent]),
                    relation,
                })
            }
        })
        .collect();
    spare_tags_of_needed(versions, resolved, graph)
}

/// A kept parent spares all the tags of what it needs: a version losing tags that a version
/// which stays references keeps them.
fn spare_tags_of_needed(
    versions: &[Version],
    mut verdicts: Vec<Verdict>,
    graph: &Graph,
) -> Vec<Verdict> {
    let mut spared = Vec::new();
    for parent in (0..versions.len()).filter(|&p| !verdicts[p].is_act()) {
        for &(child, relation) in graph.needs(parent) {
            if child != parent && verdicts[child].untag_tags().is_some() {
                spared.push((child, parent, relation));
            }
        }
    }
    for (child, parent, relation) in spared {
        verdicts[child] = Verdict::Keep(KeepReason::NeededBy {
            by: label(&versions[parent]),
            relation,
        });
    }
    verdicts
}

/// Restore mode: what the versions being restored reach (platform manifests by digest,
/// signatures and attestations by tag) comes back with them, repeatedly; a version that
/// `exclude-*` protects or a guard spares does not, nor what only it reaches. Returns the
/// versions newly chosen.
fn restore_reached(versions: &[Version], verdicts: &mut [Verdict], graph: &Graph) -> Vec<usize> {
    let mut queue: Vec<usize> = (0..versions.len())
        .filter(|&i| verdicts[i].is_act())
        .collect();
    let mut added = Vec::new();
    while let Some(parent) = queue.pop() {
        for &(child, relation) in graph.needs(parent) {
            if matches!(verdicts[child], Verdict::Keep(KeepReason::NotSelected(_))) {
                verdicts[child] = Verdict::Act(ActReason::RestoredWith {
                    parent: label(&versions[parent]),
                    relation,
                });
                added.push(child);
                queue.push(child);
            }
        }
    }
    added
}

/// Groups the acted-on versions into units (connected through the graph, or the whole package)
/// and gives each its execution depth (parents first).
fn group_and_order(
    verdicts: Vec<Verdict>,
    graph: Option<&Graph>,
    delete_package: bool,
) -> Vec<Decision> {
    let n = verdicts.len();
    let mut unit: Vec<usize> = (0..n).collect();
    let mut depth = vec![0; n];
    if let Some(graph) = graph {
        fn find(unit: &mut [usize], mut i: usize) -> usize {
            while unit[i] != i {
                unit[i] = unit[unit[i]];
                i = unit[i];
            }
            i
        }
        let acted = |i: usize| verdicts[i].is_act();
        let mut incoming = vec![0usize; n];
        for parent in (0..n).filter(|&i| acted(i)) {
            for &(child, _) in graph.needs(parent) {
                if acted(child) {
                    let (a, b) = (find(&mut unit, parent), find(&mut unit, child));
                    unit[a.max(b)] = a.min(b);
                    incoming[child] += 1;
                }
            }
        }
        for i in 0..n {
            unit[i] = find(&mut unit, i);
        }
        // Longest path from the heads (Kahn's order); a cycle, which real graphs never have,
        // leaves its members at the deepest level.
        let mut queue: Vec<usize> = (0..n).filter(|&i| acted(i) && incoming[i] == 0).collect();
        let mut done = vec![false; n];
        while let Some(parent) = queue.pop() {
            done[parent] = true;
            for &(child, _) in graph.needs(parent) {
                if acted(child) && !done[child] {
                    depth[child] = depth[child].max(depth[parent] + 1);
                    incoming[child] -= 1;
                    if incoming[child] == 0 {
                        queue.push(child);
                    }
                }
            }
        }
        let deepest = depth.iter().copied().max().unwrap_or(0);
        for i in (0..n).filter(|&i| acted(i) && !done[i]) {
            depth[i] = deepest + 1;
        }
    }
    if delete_package {
        unit.iter_mut().for_each(|u| *u = 0);
    }
    verdicts
        .into_iter()
        .enumerate()
        .map(|(i, verdict)| Decision {
            verdict,
            selected: false,
            unit: unit[i],
            depth: depth[i],
        })
        .collect()
}

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

#[cfg(test)]
mod tests;
