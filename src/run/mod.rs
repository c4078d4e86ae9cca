//! One run from validated settings to results: resolve owners and packages, list versions, read
//! container manifests, plan every package, apply the run-level cuts (`max-deletions`, the
//! rate-limit budget), then execute, unless it is a dry run. Also the offline plan.

use crate::github::client::{Client, Counters, Tuning};
use crate::github::listing;
use crate::github::routes::Namespace;
use crate::model::{self, LinkPrefixes, PackageType, RestVersion, Version};
use crate::plan::graph::Graph;
use crate::plan::graph::ManifestRefs;
use crate::plan::policy::Policy;
use crate::plan::{self, Containers, Cost, DeferReason, Mode, PackagePlan, PlanInput};
use crate::registry::cache as manifest_cache;
use crate::registry::Registry;
use crate::settings::{OwnerType, Rule, Settings};
use anyhow::{Context, Result};
use crate::outcome::{
    likely_cause, target_of, BrokenImage, Outcome, PackageResult, RunReport, UntagOutcome,
    DELETE_RIGHTS_FIX,
};
use execute::Job;

pub mod execute;
pub mod untag;
use futures::future::join_all;
use std::collections::{BTreeMap, HashMap};

/// Requests left untouched in the primary budget, for whatever else the token does.
pub const BUDGET_RESERVE: usize = 25;

/// Plans against an exported versions file: no token, no network.
pub fn plan_offline(settings: &Settings) -> Result<RunReport> {
    let path = settings
        .versions_file
        .as_ref()
        .expect("offline run has a file");
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read --versions-file {}", path.display()))?;
    let rest: Vec<RestVersion> = serde_json::from_str(&text).with_context(|| {
        format!(
            "--versions-file {} is not a JSON array of package versions",
            path.display()
        )
    })?;
    let links = LinkPrefixes::default();
    let mut versions = Vec::with_capacity(rest.len());
    for version in rest {
        versions.push(version.into_version(&links)?);
    }
    let rule = &settings.rules[0];
    let name = rule.packages.first().cloned().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let candidates: Vec<Version> = versions
        .into_iter()
        .filter(|v| v.deleted_at.is_some() == (settings.mode == Mode::Restore))
        .collect();
    let containers = if rule.package_type == PackageType::Container && settings.mode == Mode::Delete
    {
        Containers::NotRead
    } else {
        Containers::NotApplicable
    };
    let mut warnings = Vec::new();
    if matches!(containers, Containers::NotRead) {
        warnings.push("offline: container manifests were not read, so the plan does not protect platform manifests, signatures or attestations that kept images need; an online run does".to_string());
    }
    let mut package = PackageResult::new(rule, "user", &name);
    package.active_before = (settings.mode == Mode::Delete).then_some(candidates.len());
    let mut plan = plan::plan_package(PlanInput {
        mode: settings.mode,
        package_type: rule.package_type,
        versions: candidates,
        policy: &rule.policy,
        now: model::now(),
        containers,
    });
    if let Some(max) = settings.max_deletions {
        plan::defer_beyond(
            &mut [&mut plan],
            max,
            Cost::Versions,
            DeferReason::MaxDeletions,
        );
    }
    package.outcomes = vec![None; plan.versions.len()];
    if plan.delete_package {
        package.package_request = Some((Mode::Delete, None));
    }
    package.plan = Some(plan);
    debug_plan(settings.mode, &package);
    Ok(RunReport {
        mode: settings.mode,
        dry_run: true,
        offline: true,
        packages: vec![package],
        warnings,
        notes: Vec::new(),
        budget_remaining: None,
        counters: Counters::default(),
        manifests: None,
    })
}

/// The online run.
pub async fn run(settings: &Settings, api_url: &str, tuning: Tuning) -> Result<RunReport> {
    let concurrency = tuning.max_in_flight * 2;
    let registry_urls: Vec<&str> = settings
        .rules
        .iter()
        .map(|rule| rule.registry_url.as_str())
        .collect();
    let client = Client::new(api_url, &registry_urls, &settings.token, tuning)?;
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    let mut namespaces: HashMap<(String, OwnerType), Namespace> = HashMap::new();
    let mut targets: Vec<(usize, Namespace, String)> = Vec::new();
    for (index, rule) in settings.rules.iter().enumerate() {
        let key = (rule.owner.to_lowercase(), rule.owner_type);
        let namespace = match namespaces.get(&key) {
            Some(namespace) => namespace.clone(),
            None => {
                let namespace =
                    listing::resolve_namespace(&client, &rule.owner, rule.owner_type).await?;
                namespaces.insert(key, namespace.clone());
                namespace
            }
        };
        let names = listing::expand_packages(
            &client,
            &namespace,
            rule.package_type,
            &rule.packages,
            &rule.repositories,
            &mut warnings,
            &mut notes,
        )
        .await?;
        for name in names {
            let duplicate = targets.iter().any(|(other, ns, n)| {
                ns == &namespace
                    && n == &name
                    && settings.rules[*other].package_type == rule.package_type
            });
            if duplicate {
                warnings.push(format!(
                    "package `{name}` is named by more than one rule: the first rule that names it applies"
                ));
            } else {
                targets.push((index, namespace.clone(), name));
            }
        }
    }

    let registry = match &settings.manifest_cache {
        Some(path) => {
            let (entries, warning) = manifest_cache::load(path);
            warnings.extend(warning);
            Registry::with_cache(entries)
        }
        None => Registry::default(),
    };
    let mut packages: Vec<PackageResult> =
        join_all(targets.iter().map(|(index, namespace, name)| {
            gather(
                &client,
                &registry,
                settings,
                &settings.rules[*index],
                namespace,
                name,
            )
        }))
        .await;
    warnings.extend(unmatched_version_ids(settings, &targets, &packages));

    let mut cut = |allowance: usize, cost: Cost, reason: DeferReason| {
        let mut plans: Vec<&mut PackagePlan> = packages
            .iter_mut()
            .filter_map(|p| p.plan.as_mut())
            .collect();
        plan::defer_beyond(&mut plans, allowance, cost, reason);
    };
    if let Some(max) = settings.max_deletions {
        cut(max, Cost::Versions, DeferReason::MaxDeletions);
    }
    let budget_remaining = read_budget(&client).await;
    if let Some(remaining) = budget_remaining {
        let allowance = remaining.saturating_sub(BUDGET_RESERVE);
        cut(allowance, Cost::Requests, DeferReason::RateLimitBudget);
    }

    for package in &packages {
        debug_plan(settings.mode, package);
    }

    // The jobs, and where each outcome goes back to: (package, version index or None for the package).
    let mut jobs = Vec::new();
    let mut places = Vec::new();
    for (p, package) in packages.iter_mut().enumerate() {
        let Some(plan) = &package.plan else { continue };
        package.outcomes = vec![None; plan.versions.len()];
        let namespace = &targets[p].1;
        if plan.delete_package {
            package.package_request = Some((Mode::Delete, None));
            jobs.push(Job {
                mode: Mode::Delete,
                path: namespace.package_path(package.package_type, &package.name),
                depth: 0,
                package: p,
            });
            places.push((p, None));
            continue;
        }
                for (i, (version, decision)) in plan.versions.iter().zip(&plan.decisions).enumerate() {
            if decision.verdict.is_act() {
                jobs.push(Job {
                    mode: settings.mode,
                    path: namespace.version_path(package.package_type, &package.name, version.id),
                    depth: decision.depth,
                    package: p,
                });
                places.push((p, Some(i)));
            }
        }
    }
    if !settings.dry_run {
        let executed = execute::execute(&client, &jobs, concurrency).await;
        for ((p, place), outcome) in places.into_iter().zip(executed.outcomes) {
            let package = &mut packages[p];
            match place {
                Some(i) => package.outcomes[i] = Some(outcome),
                None => {
                    if let Some((_, slot)) = &mut package.package_request {
                        *slot = Some(outcome);
                    }
                }
            }
        }
        for (p, path) in executed.refused {
            packages[p].problem = Some(refused_problem(&packages[p], &path));
        }
        remove_tags(&client, &registry, settings, &targets, &mut packages).await;
        if settings.mode == Mode::Restore {
            for (package, (index, namespace, _)) in packages.iter_mut().zip(&targets) {
                let rule = &settings.rules[*index];
                if package.package_type == PackageType::Container {
                    restore_images(&client, &registry, rule, namespace, package, concurrency).await;
                }
            }
        }
    }
    if let Some(path) = &settings.manifest_cache {
        if let Err(error) = manifest_cache::save(path, &registry.cache_entries()) {
            warnings.push(format!(
                "manifest-cache: {error:#}; the next run reads every manifest again"
            ));
        }
    }
    let (read, from_cache) = registry.counts();
    let manifests =
        (read + from_cache > 0 || settings.manifest_cache.is_some()).then_some((read, from_cache));
    Ok(RunReport {
        mode: settings.mode,
        dry_run: settings.dry_run,
        offline: false,
        packages,
        warnings,
        notes,
        budget_remaining,
        counters: client.counters,
        manifests,
    })
}

/// The plan's counts for a package, as a debug line (debug logging only).
fn debug_plan(mode: Mode, package: &PackageResult) {
    let Some(plan) = &package.plan else { return };
    crate::runner::commands::debug(|| {
        let mut kept: BTreeMap<&str, usize> = BTreeMap::new();
        for decision in &plan.decisions {
            if let plan::Verdict::Keep(reason) = &decision.verdict {
                *kept.entry(reason.kind()).or_default() += 1;
            }
        }
        let kept_count: usize = kept.values().sum();
        let kept: Vec<String> = kept.iter().map(|(why, n)| format!("{n} {why}")).collect();
        format!(
            "plan {} {} of {}: {} candidates, {} selected; {} to {}{}, {kept_count} kept{}, {} deferred",
            package.package_type,
            package.name,
            package.owner,
            plan.versions.len(),
            plan.decisions.iter().filter(|d| d.selected).count(),
            plan.count(plan::Verdict::is_act),
            mode.as_str(),
            if plan.delete_package {
                " (the whole package)"
            } else {
                ""
            },
            if kept.is_empty() {
                String::new()
            } else {
                format!(" ({})", kept.join(", "))
            },
            plan.count(|v| matches!(v, plan::Verdict::Defer(_))),
        )
    });
}

/// What to say about a package whose token turned out to lack delete rights.
fn refused_problem(package: &PackageResult, path: &str) -> String {
    let not_sent = package
        .outcomes
        .iter()
        .flatten()
        .filter(|o| matches!(o, Outcome::NotSent { .. }))
        .count();
    format!(
        "GitHub answered 404 to the delete of {}, yet a GET shows it still there: the token may read this package but not delete it. Fix: {}. No further deletions were sent to this package ({not_sent} versions not attempted: they are listed as failed, none was deleted)",
        target_of(path),
        DELETE_RIGHTS_FIX
    )
}

/// `untag`: the removals of every package, packages at once, each package's one after the other.
async fn remove_tags(
    client: &Client,
    registry: &Registry,
    settings: &Settings,
    targets: &[(usize, Namespace, String)],
    packages: &mut [PackageResult],
) {
    let work = packages
        .iter()
        .zip(targets)
        .map(|(package, (rule, namespace, name))| async move {
            let Some(plan) = &package.plan else {
                return Vec::new();
            };
            let refused = package.problem.is_some();
            let wanted: Vec<(usize, &Version, &[String])> =
                (plan.versions.iter().zip(&plan.decisions))
                    .enumerate()
                    .filter_map(|(i, (v, d))| d.verdict.untag_tags().map(|tags| (i, v, tags)))
                    .collect();
            let target = untag::Target {
                namespace,
                package_type: package.package_type,
                name,
                owner: &package.owner,
                registry_url: &settings.rules[*rule].registry_url,
            };
            let removals: Vec<(&Version, &[String])> =
                wanted.iter().map(|&(_, v, tags)| (v, tags)).collect();
            let results = if refused {
                // The token may not delete here: a throw-away version could not be deleted.
                removals
                    .iter()
                    .map(|_| UntagOutcome {
                        failure: Some(Outcome::untag_not_sent()),
                        ..UntagOutcome::default()
                    })
                    .collect()
            } else {
                untag::remove_tags(client, registry, &target, &removals).await
            };
            wanted.iter().map(|&(i, _, _)| i).zip(results).collect()
        });
    let results: Vec<Vec<(usize, UntagOutcome)>> = join_all(work).await;
    for (package, removals) in packages.iter_mut().zip(results) {
        package.removals = removals;
    }
}

/// Restore mode, after the planned restores: reads the manifest of every container version
/// restored (served again now) and restores the deleted versions it reaches, repeatedly.
async fn restore_images(
    client: &Client,
    registry: &Registry,
    rule: &Rule,
    namespace: &Namespace,
    package: &mut PackageResult,
    concurrency: usize,
) {
    let Some(plan) = package.plan.as_mut() else {
        return;
    };
    let mut refs: HashMap<String, ManifestRefs> = HashMap::new();
    let mut read = vec![false; plan.versions.len()];
    loop {
        let restored: Vec<usize> = (0..plan.versions.len())
            .filter(|&i| !read[i] && package.outcomes[i] == Some(Outcome::Done))
            .collect();
        if restored.is_empty() {
            return;
        }
        let digests = restored.iter().map(|&i| plan.versions[i].name.clone());
        for &i in &restored {
            read[i] = true;
        }
        match registry
            .restored(
                client,
                &rule.registry_url,
                &rule.owner,
                &package.name,
                digests.collect(),
            )
            .await
        {
            Ok(found) => refs.extend(found),
            Err(unreadable) => {
                package.warnings.push(format!(
                    "manifest {} of container package `{}` could not be read after its restore ({}): the deleted versions it references were not restored; restore them by id",
                    unreadable.digest, package.name, unreadable.cause
                ));
                return;
            }
        }
        let graph = Graph::build(&plan.versions, &refs);
        let added = plan.restore_reached(&graph);
        if added.is_empty() {
            return;
        }
        let jobs: Vec<Job> = added
            .iter()
            .map(|&i| Job {
                mode: Mode::Restore,
                path: namespace.version_path(
                    package.package_type,
                    &package.name,
                    plan.versions[i].id,
                ),
                depth: 0,
                package: 0,
            })
            .collect();
        let executed = execute::execute(client, &jobs, concurrency).await;
        for (i, outcome) in added.into_iter().zip(executed.outcomes) {
            package.outcomes[i] = Some(outcome);
        }
    }
}

/// A warning per rule whose `version-ids` name ids that none of its packages has among its
/// candidates (active versions to delete, deleted versions to restore).
fn unmatched_version_ids(
    settings: &Settings,
    targets: &[(usize, Namespace, String)],
    packages: &[PackageResult],
) -> Vec<String> {
    let state = match settings.mode {
        Mode::Delete => "active",
        Mode::Restore => "deleted",
    };
    let mut warnings = Vec::new();
    for (index, rule) in settings.rules.iter().enumerate() {
        let Some(wanted) = &rule.policy.version_ids else {
            continue;
        };
        let candidates: std::collections::HashSet<u64> = targets
            .iter()
            .zip(packages)
            .filter(|((rule_index, _, _), _)| *rule_index == index)
            .flat_map(|(_, package)| {
                let planned = package.plan.iter().flat_map(|plan| &plan.versions);
                planned.chain(&package.restored_with_package).map(|v| v.id)
            })
            .collect();
        let missing: Vec<String> = wanted
            .iter()
            .filter(|id| !candidates.contains(id))
            .map(|id| id.to_string())
            .collect();
        let unknown_package = targets
            .iter()
            .zip(packages)
            .any(|((rule_index, _, _), package)| *rule_index == index && package.plan.is_none());
        if !missing.is_empty() && !unknown_package {
            warnings.push(format!(
                "`version-ids` {} are not among the {state} versions of {}: nothing to do for them",
                missing.join(", "),
                rule.packages.join(", ")
            ));
        }
    }
    warnings
}

/// Lists a package and plans it (reading manifests for container packages when needed). In
/// restore mode, restores the package itself first when it was deleted.
async fn gather(
    client: &Client,
    registry: &Registry,
    settings: &Settings,
    rule: &Rule,
    namespace: &Namespace,
    name: &str,
) -> PackageResult {
    let mut result = PackageResult::new(rule, namespace.owner_type(), name);
    if let Err(error) = gather_into(&mut result, client, registry, settings, rule, namespace).await
    {
        result.problem = Some(format!("{error:#}"));
    }
    result
}

async fn gather_into(
    result: &mut PackageResult,
    client: &Client,
    registry: &Registry,
    settings: &Settings,
    rule: &Rule,
    namespace: &Namespace,
) -> Result<()> {
    let name = result.name.clone();
    let kind = rule.package_type;
    let list = |state: &'static str| listing::list_versions(client, namespace, kind, &name, state);
    let candidates = match settings.mode {
        Mode::Delete => match list("active").await? {
            Some(versions) => {
                result.active_before = Some(versions.len());
                versions
            }
            None => {
                result.warnings.push(format!(
                    "{kind} package `{name}` of `{}` was not found: nothing to do",
                    rule.owner
                ));
                return Ok(());
            }
        },
        Mode::Restore => match list("deleted").await? {
            Some(versions) => {
                let active = list("active").await?;
                if kind == PackageType::Container && settings.manifest_cache.is_some() {
                    let active = active.iter().flatten().map(|v| v.name.as_str());
                    registry.note_listed(active.chain(versions.iter().map(|v| v.name.as_str())));
                }
                result.active_before = active.map(|v| v.len());
                versions
            }
            None if settings.dry_run => {
                result.package_request = Some((Mode::Restore, None));
                result.warnings.push(format!(
                    "{kind} package `{name}` is deleted (or does not exist): a real run restores it first, then chooses among its deleted versions"
                ));
                return Ok(());
            }
            None => {
                let answer = client
                    .post(&format!("{}/restore", namespace.package_path(kind, &name)))
                    .await?;
                if !answer.is_success() {
                    let cause = likely_cause(
                        Mode::Restore,
                        Some(answer.status.as_u16()),
                        &answer.message(),
                    );
                    result.package_request = Some((
                        Mode::Restore,
                        Some(Outcome::Failed {
                            status: Some(answer.status.as_u16()),
                            message: answer.message(),
                        }),
                    ));
                    anyhow::bail!(
                        "the package itself is deleted (or never existed) and GitHub refused to restore it: {} \"{}\". Likely cause: {cause}",
                        answer.status.as_u16(),
                        answer.message()
                    );
                }
                result.package_request = Some((Mode::Restore, Some(Outcome::Done)));
                result.active_before = Some(0);
                result.restored_with_package = list("active").await?.unwrap_or_default();
                list("deleted").await?.unwrap_or_default()
            }
        },
    };
    let now = model::now();
    let plan_with = |containers: Containers<'_>, versions: Vec<Version>, policy: &Policy| {
        plan::plan_package(PlanInput {
            mode: settings.mode,
            package_type: kind,
            versions,
            policy,
            now,
            containers,
        })
    };
    if kind == PackageType::Container && settings.mode == Mode::Restore {
        // Deleted versions' manifests are not served: their tags, and what the manifest cache
        // knows, tell what comes back with them (the real run reads each restored manifest).
        let graph = Graph::build(&candidates, &registry.cached(&candidates));
        result.plan = Some(plan_with(
            Containers::Known(&graph),
            candidates,
            &rule.policy,
        ));
        return Ok(());
    }
    // Only the manifest cache needs the listed digests (at 100,000 versions, megabytes).
    if kind == PackageType::Container && settings.manifest_cache.is_some() {
        registry.note_listed(candidates.iter().map(|v| v.name.as_str()));
    }
    // Deleting the whole package takes along versions the listing may have missed: it is done
    // only when GitHub's own count agrees with the listing; otherwise version by version.
    let version_by_version = Policy {
        delete_empty_package: false,
        ..rule.policy.clone()
    };
    let listed = result.active_before.unwrap_or_default();
    let first = plan_with(Containers::NotApplicable, candidates, &rule.policy);
    let needs_graph = kind == PackageType::Container
        && settings.mode == Mode::Delete
        && first.decisions.iter().any(|d| d.verdict.is_change());
    if !needs_graph {
        let mut plan = first;
        if plan.delete_package {
            if let Err(reason) =
                whole_package_confirmed(client, namespace, kind, &name, listed).await
            {
                result.warnings.push(reason);
                plan = plan_with(
                    Containers::NotApplicable,
                    plan.versions,
                    &version_by_version,
                );
            }
        }
        result.plan = Some(plan);
        return Ok(());
    }
    let versions = first.versions;
    let manifests = registry
        .references(client, &rule.registry_url, &rule.owner, &name, &versions)
        .await;
    result.plan = Some(match manifests {
        Ok(manifests) => {
            let graph = Graph::build(&versions, &manifests.refs);
            result.ghosts = versions
                .iter()
                .filter(|v| manifests.ghosts.contains(&v.name))
                .map(|v| v.id)
                .collect();
            for (digest, missing) in manifests.broken {
                let Some(index) = versions.iter().find(|v| v.name == digest) else {
                    continue;
                };
                result.warnings.push(format!(
                    "broken image in container package `{name}`: index {} ({}) names platform manifests that are neither versions nor in the registry: {}",
                    index.name,
                    if index.tags.is_empty() { "untagged".to_string() } else { index.tags.join(", ") },
                    missing.join(", ")
                ));
                result.broken_images.push(BrokenImage {
                    id: index.id,
                    digest,
                    tags: index.tags.clone(),
                    missing,
                });
            }
            let mut plan = plan_with(Containers::Known(&graph), versions, &rule.policy);
            if plan.delete_package {
                if let Err(reason) =
                    whole_package_confirmed(client, namespace, kind, &name, listed).await
                {
                    result.warnings.push(reason);
                    plan = plan_with(
                        Containers::Known(&graph),
                        plan.versions,
                        &version_by_version,
                    );
                }
            }
            plan
        }
        Err(unreadable) => {
            result.warnings.push(format!(
                "manifest {} of {kind} package `{name}` could not be read ({}): nothing in this package is deleted in this run",
                unreadable.digest, unreadable.cause
            ));
            plan_with(
                Containers::Unreadable {
                    digest: unreadable.digest,
                    cause: unreadable.cause,
                },
                versions,
                &rule.policy,
            )
        }
    });
    Ok(())
}

/// Whether GitHub's `version_count` of the package equals the `listed` active versions; if
/// not, why the package goes version by version instead.
async fn whole_package_confirmed(
    client: &Client,
    namespace: &Namespace,
    kind: PackageType,
    name: &str,
    listed: usize,
) -> Result<(), String> {
    match listing::version_count(client, namespace, kind, name).await {
        Ok(count) if count == listed => Ok(()),
        Ok(count) => Err(format!(
            "{kind} package `{name}`: GitHub counts {count} active versions but the listing gave {listed}, so the whole package is not deleted (delete-empty-package); its versions are deleted one by one instead, and the newest is kept"
        )),
        Err(error) => Err(format!(
            "{kind} package `{name}`: its version count could not be read ({error:#}), so the whole package is not deleted (delete-empty-package); its versions are deleted one by one instead, and the newest is kept"
        )),
    }
}

/// The primary budget left (`GET /rate_limit`, which costs nothing), or `None` when GitHub
/// has none (GHES with rate limiting off) or does not say.
async fn read_budget(client: &Client) -> Option<usize> {
    #[derive(serde::Deserialize)]
    struct Limits {
        resources: Resources,
    }
    #[derive(serde::Deserialize)]
    struct Resources {
        core: Core,
    }
    #[derive(serde::Deserialize)]
    struct Core {
        remaining: usize,
    }
    let answer = client.get("/rate_limit").await.ok()?;
    if !answer.is_success() {
        return None;
    }
    answer
        .json::<Limits>()
        .ok()
        .map(|l| l.resources.core.remaining)
}
