//! The only place that sequences I/O: one run from validated settings to its outcome. Its
//! stages, in order: choose the packages (`select`), read what the repository protects in them
//! (`protect`), list and plan each (`gather`), apply the
//! run-level cuts (`max-deletions`, the rate-limit budget), then, unless it is a dry run, carry
//! out the requests (`execute`), `untag`'s removals and restore mode's follow-ups (`restore`).
//! Every stage reads and writes the one record per package (`outcome::Package`). Also the
//! offline plan (`offline`).

use crate::github::budget;
use crate::github::client::{Client, Tuning};
use crate::outcome::{Package, RunReport};
use crate::plan::{self, Cost, DeferReason, Mode, PackagePlan};
use crate::registry::cache as manifest_cache;
use crate::registry::Registry;
use crate::runner::cancel;
use crate::runner::commands::first_of;
use crate::settings::Settings;
use anyhow::{bail, Result};
use futures::future::join_all;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

pub mod execute;
mod gather;
mod offline;
mod protect;
mod restore;
mod select;
pub mod untag;

pub use offline::plan_offline;

/// Requests left untouched in the primary budget, for whatever else the token does.
pub const BUDGET_RESERVE: usize = 25;

/// The run the settings ask for: offline against a versions file, else online against the
/// API at `api_url`.
pub fn start(settings: &Settings, api_url: &str, tuning: Tuning) -> Result<RunReport> {
    if settings.versions_file.is_some() {
        return plan_offline(settings);
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run(settings, api_url, tuning))
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
    // Before any request: a signal from now on cancels the run instead of ending the process.
    tokio::spawn(cancel::Handlers::install()?.listen());
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    let registry = open_registry(settings, &mut warnings);

    let planned = plan_all(&client, &registry, settings, &mut warnings, &mut notes);
    let (mut packages, budget_remaining) = tokio::select! {
        planned = planned => planned?,
        () = cancel::cancelled() => bail!("{}", cancelled_before_any_change()),
    };

    let jobs = execute::requests(settings.mode, &mut packages);
    if !settings.dry_run {
        let executed = execute::execute(&client, jobs, concurrency).await;
        execute::record(&mut packages, executed);
    }
    if let Some(signal) = cancel::received() {
        warnings.push(format!(
            "the run was cancelled ({}): it sent no request after the signal and waited at most {} s for those under way; the versions it did not get to are deferred (a re-run does them)",
            cancel::name(signal),
            cancel::GRACE.as_secs()
        ));
        if !settings.dry_run {
            untag::not_started(&mut packages);
        }
    } else if !settings.dry_run {
        untag::untag_all(&client, &registry, &mut packages).await;
        if settings.mode == Mode::Restore {
            for (index, package) in packages.iter_mut().enumerate() {
                if package.package_type() == crate::model::PackageType::Container {
                    restore::restore_images(&client, &registry, package, index, concurrency).await;
                }
            }
        }
    }
    let manifests = save_registry(settings, registry, &mut warnings);
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
        stopped: false,
    })
}

/// Chooses, lists and plans every package, then applies the run-level cuts; the primary
/// budget read, when GitHub has one.
async fn plan_all(
    client: &Client,
    registry: &Registry,
    settings: &Settings,
    warnings: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<(Vec<Package>, Option<usize>)> {
    let mut packages = select::packages(client, settings, warnings, notes).await?;
    protect::protect(client, &mut packages, warnings).await;
    join_all(
        packages
            .iter_mut()
            .map(|package| gather::gather(client, registry, settings, package)),
    )
    .await;
    warnings.extend(unmatched_version_ids(settings, &packages));
    let budget_remaining = cut(client, settings, &mut packages).await;
    for package in &packages {
        debug_plan(settings.mode, package);
    }
    Ok((packages, budget_remaining))
}

/// Why a run cancelled while it listed and planned stops there.
fn cancelled_before_any_change() -> String {
    let signal = cancel::received().map(cancel::name).unwrap_or_default();
    format!(
        "the run was cancelled ({signal}) while it listed and planned, before it sent any change"
    )
}

/// The registry reader, with what the `manifest-cache` file holds when it is set.
fn open_registry(settings: &Settings, warnings: &mut Vec<String>) -> Registry {
    match &settings.manifest_cache {
        Some(path) => {
            let (entries, warning) = manifest_cache::load(path, &settings.workspace);
            warnings.extend(warning);
            Registry::with_cache(entries)
        }
        None => Registry::default(),
    }
}

/// Writes the `manifest-cache` file when it is set (the reader's last use); the manifests read
/// and found in the cache, when any were needed or the cache is set.
fn save_registry(
    settings: &Settings,
    registry: Registry,
    warnings: &mut Vec<String>,
) -> Option<(usize, usize)> {
    let (read, from_cache) = registry.counts();
    if let Some(path) = &settings.manifest_cache {
        let entries = registry.into_cache_entries();
        if let Err(error) = manifest_cache::save(path, &settings.workspace, &entries) {
            warnings.push(format!(
                "manifest-cache: {error:#}; the next run reads every manifest again"
            ));
        }
    }
    (read + from_cache > 0 || settings.manifest_cache.is_some()).then_some((read, from_cache))
}

/// The run-level cuts over every plan, oldest first: `max-deletions`, then the primary
/// rate-limit budget (less [`BUDGET_RESERVE`]); the budget read, when GitHub has one.
async fn cut(client: &Client, settings: &Settings, packages: &mut [Package]) -> Option<usize> {
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
    let budget_remaining = budget::remaining(client).await;
    if let Some(remaining) = budget_remaining {
        let allowance = remaining.saturating_sub(BUDGET_RESERVE);
        cut(allowance, Cost::Requests, DeferReason::RateLimitBudget);
    }
    budget_remaining
}

/// The plan's counts for a package, as a debug line (debug logging only).
fn debug_plan(mode: Mode, package: &Package) {
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
            package.package_type(),
            package.name,
            package.owner(),
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

/// A warning per rule whose `version-ids` name ids that none of its packages has among its
/// candidates (active versions to delete, deleted versions to restore).
fn unmatched_version_ids(settings: &Settings, packages: &[Package]) -> Vec<String> {
    let state = match settings.mode {
        Mode::Delete => "active",
        Mode::Restore => "deleted",
    };
    let mut warnings = Vec::new();
    for rule in &settings.rules {
        let Some(wanted) = &rule.policy.version_ids else {
            continue;
        };
        let of_rule = || packages.iter().filter(|p| Arc::ptr_eq(&p.rule, rule));
        let candidates: HashSet<u64> = of_rule()
            .flat_map(|package| {
                let planned = package.plan.iter().flat_map(|plan| &plan.versions);
                planned
                    .chain(&package.listing.restored_with_package)
                    .map(|v| v.id)
            })
            .collect();
        let missing: Vec<String> = wanted
            .iter()
            .filter(|id| !candidates.contains(id))
            .map(|id| id.to_string())
            .collect();
        let unknown_package = of_rule().any(|package| package.plan.is_none());
        if !missing.is_empty() && !unknown_package {
            warnings.push(format!(
                "`version-ids` {} are not among the {state} versions of {}: nothing to do for them",
                first_of(&missing),
                first_of(&rule.packages)
            ));
        }
    }
    warnings
}
