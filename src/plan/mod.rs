//! The plan: a pure function from a package's versions and a policy to a verdict, with its
//! reason, for every version. Order: filters, `keep-latest`, `min-versions-to-keep`, the
//! container reference graph, the last-version rule; then, over the whole run, one oldest-first
//! cut (`max-deletions`, or the primary rate-limit budget). No I/O, no clock.

use crate::model::{PackageType, Timestamp, Version};
use graph::Graph;
use policy::{Policy, ReleaseLine};
use protections::Protections;
use std::collections::HashMap;

mod cuts;
pub mod graph;
pub mod policy;
pub mod protections;
pub mod ranges;
mod verdict;

pub use cuts::{defer_beyond, Cost};
pub use verdict::{ActReason, DeferReason, KeepReason, Verdict};

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
    /// What the repository protects (`keep-open-pull-requests` and its kin), like `exclude-*`.
    pub protections: &'a Protections,
    pub now: Timestamp,
    pub containers: Containers<'a>,
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
        protections,
        now,
        containers,
    } = input;
    let mut base = select(&versions, policy, protections, package_type, mode, now);
    let selected: Vec<bool> = base.iter().map(Verdict::is_change).collect();
    if policy.keep_latest > 0 {
        keep_latest(&versions, policy, package_type, &mut base);
    }
    if let (Mode::Restore, Containers::Known(graph)) = (mode, &containers) {
        restore_reached(&versions, &mut base, graph);
    }
    let graph = match &containers {
        Containers::Known(graph) if mode == Mode::Delete => Some(*graph),
        _ => None,
    };
    if mode == Mode::Delete {
        keep_minimum(&versions, policy, graph, &mut base);
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
        delete_package = last_version(
            &versions,
            policy,
            package_type,
            graph,
            &mut base,
            &mut verdicts,
        );
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

/// The repository's protections, the filters and exclusions: every version acted on
/// (selected), kept, or, with `untag`, losing some of its tags.
fn select(
    versions: &[Version],
    policy: &Policy,
    protections: &Protections,
    package_type: PackageType,
    mode: Mode,
    now: Timestamp,
) -> Vec<Verdict> {
    let untag = policy.untag && mode == Mode::Delete;
    versions
        .iter()
        .map(|version| {
            // The repository's protections hold whole: a protected version loses no tag.
            if let Some(protection) = protections.of(version) {
                return Verdict::Keep(KeepReason::Protected(Box::new(protection.clone())));
            }
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
        .collect()
}

/// The versions acted on that `wanted` accepts, newest first.
fn newest_first(
    versions: &[Version],
    verdicts: &[Verdict],
    wanted: impl Fn(usize) -> bool,
) -> Vec<usize> {
    let mut indices: Vec<usize> = (0..versions.len())
        .filter(|&i| verdicts[i].is_act() && wanted(i))
        .collect();
    indices.sort_by_key(|&i| std::cmp::Reverse(versions[i].recency_key()));
    indices
}

/// `keep-latest`: the newest selected versions are spared, counted within each group of
/// selected versions (one group unless `keep-latest-per`); versions losing tags (`untag`)
/// count too, and are spared whole.
fn keep_latest(
    versions: &[Version],
    policy: &Policy,
    package_type: PackageType,
    base: &mut [Verdict],
) {
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

/// `min-versions-to-keep`: the newest of the versions acted on are spared until enough stay.
/// With a container graph, what counts is images: versions no other version needs (platform
/// manifests and signatures come and go with their image).
fn keep_minimum(
    versions: &[Version],
    policy: &Policy,
    graph: Option<&Graph>,
    base: &mut [Verdict],
) {
    let counts = |i: usize| graph.is_none_or(|g| !g.is_needed(i));
    let countable = (0..versions.len()).filter(|&i| counts(i));
    let remaining = countable.filter(|&i| !base[i].is_act()).count();
    let shortfall = policy.min_versions_to_keep.saturating_sub(remaining);
    for i in newest_first(versions, base, counts)
        .into_iter()
        .take(shortfall)
    {
        base[i] = Verdict::Keep(KeepReason::MinVersionsToKeep(policy.min_versions_to_keep));
    }
}

/// The last-version rule (delete mode): when every version (or every tagged one) would go,
/// the whole package goes with `delete-empty-package`; otherwise the newest image is spared.
/// Whether the whole package goes.
fn last_version(
    versions: &[Version],
    policy: &Policy,
    package_type: PackageType,
    graph: Option<&Graph>,
    base: &mut [Verdict],
    verdicts: &mut Vec<Verdict>,
) -> bool {
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
        return true;
    }
    if !(all_go || all_tagged_go) {
        return false;
    }
    // Spare an image, not a signature or platform manifest of one that goes (which would
    // leave it orphaned): the newest that no version needs, if there is one.
    let candidates = if tagged.is_empty() {
        newest_first(versions, verdicts, |_| true)
    } else {
        newest_first(versions, verdicts, |i| !versions[i].tags.is_empty())
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
                *verdicts = resolve_graph(versions, base, graph);
            }
            None => verdicts[i] = last,
        }
    }
    false
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

#[cfg(test)]
mod tests;
