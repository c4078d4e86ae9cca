//! The second stage, per package: list its versions (in restore mode, restoring the package
//! itself first when it was deleted), read its container manifests when the plan needs them,
//! and plan it. A package that cannot be listed gets a problem, and no plan.

use super::restore;
use crate::github::client::Client;
use crate::github::listing;
use crate::model::{self, PackageType, Timestamp, Version};
use crate::outcome::{BrokenImage, Package};
use crate::plan::graph::Graph;
use crate::plan::policy::Policy;
use crate::plan::protections::Protections;
use crate::plan::{self, Containers, Mode, PackagePlan, PlanInput};
use crate::registry::storage::StoredBlobs;
use crate::registry::{PackageManifests, Registry};
use crate::runner::commands::first_of;
use crate::settings::Settings;
use anyhow::Result;
use std::collections::HashSet;

/// Lists and plans one package; what goes wrong becomes its problem. A package that has a
/// problem already (its protections could not be read) is not planned: nothing in it changes.
pub async fn gather(
    client: &Client,
    registry: &Registry,
    settings: &Settings,
    package: &mut Package,
) {
    if package.problem.is_some() {
        return;
    }
    if let Err(error) = gather_into(client, registry, settings, package).await {
        package.problem = Some(format!("{error:#}"));
    }
}

async fn gather_into(
    client: &Client,
    registry: &Registry,
    settings: &Settings,
    package: &mut Package,
) -> Result<()> {
    let candidates = match settings.mode {
        Mode::Delete => active_candidates(client, package).await?,
        Mode::Restore => restore::deleted_candidates(client, registry, settings, package).await?,
    };
    if let Some(candidates) = candidates {
        package.plan = Some(plan(client, registry, settings, package, candidates).await);
    }
    Ok(())
}

/// One state of the package's versions; `None` when the package does not exist.
pub async fn list(client: &Client, package: &Package, state: &str) -> Result<Option<Vec<Version>>> {
    listing::list_versions(
        client,
        &package.namespace,
        package.package_type(),
        &package.name,
        state,
    )
    .await
}

/// Delete mode: the active versions, or `None` (with a warning) when the package is not there.
async fn active_candidates(client: &Client, package: &mut Package) -> Result<Option<Vec<Version>>> {
    match list(client, package, "active").await? {
        Some(versions) => {
            package.listing.active_before = Some(versions.len());
            Ok(Some(versions))
        }
        None => {
            package.warnings.push(format!(
                "{} package `{}` of `{}` was not found: nothing to do",
                package.package_type(),
                package.name,
                package.owner()
            ));
            Ok(None)
        }
    }
}

/// Plans a package of one mode and type at one moment, with what the repository protects in
/// it and what is known of its containers.
struct Planner {
    mode: Mode,
    package_type: PackageType,
    protections: Protections,
    now: Timestamp,
}

impl Planner {
    fn plan(
        &self,
        containers: Containers<'_>,
        versions: Vec<Version>,
        policy: &Policy,
    ) -> PackagePlan {
        plan::plan_package(PlanInput {
            mode: self.mode,
            package_type: self.package_type,
            versions,
            policy,
            protections: &self.protections,
            now: self.now,
            containers,
        })
    }
}

/// The plan of a listed package: container manifests are read when an image is to be deleted,
/// and deleting the whole package is checked against GitHub's own count.
async fn plan(
    client: &Client,
    registry: &Registry,
    settings: &Settings,
    package: &mut Package,
    candidates: Vec<Version>,
) -> PackagePlan {
    let rule = package.rule.clone();
    let kind = rule.package_type;
    let planner = Planner {
        mode: settings.mode,
        package_type: kind,
        protections: package.protections.clone(),
        now: model::now(),
    };
    warn_unmatched_references(package, &candidates);
    if kind == PackageType::Container && settings.mode == Mode::Restore {
        // Deleted versions' manifests are not served: their tags, and what the manifest cache
        // knows, tell what comes back with them (the real run reads each restored manifest).
        let graph = Graph::build(&candidates, &registry.cached(&candidates));
        return planner.plan(Containers::Known(&graph), candidates, &rule.policy);
    }
    // Only the manifest cache needs the listed digests (at 100,000 versions, megabytes).
    if kind == PackageType::Container && settings.manifest_cache.is_some() {
        registry.note_listed(candidates.iter().map(|v| v.name.as_str()));
    }
    let first = planner.plan(Containers::NotApplicable, candidates, &rule.policy);
    let needs_graph = kind == PackageType::Container
        && settings.mode == Mode::Delete
        && first.decisions.iter().any(|d| d.verdict.is_change());
    if !needs_graph {
        return whole_package_checked(client, package, first, &planner, Containers::NotApplicable)
            .await;
    }
    let versions = first.versions;
    let manifests = registry
        .references(
            client,
            &rule.registry_url,
            &rule.owner,
            &package.name,
            &versions,
        )
        .await;
    match manifests {
        Ok(manifests) => {
            let graph = Graph::build(&versions, &manifests.refs);
            package.listing.storage =
                StoredBlobs::of(&versions, &manifests.refs, &manifests.ghosts);
            note_ghosts_and_broken_images(package, &versions, manifests);
            let plan = planner.plan(Containers::Known(&graph), versions, &rule.policy);
            whole_package_checked(client, package, plan, &planner, Containers::Known(&graph)).await
        }
        Err(unreadable) => {
            package.warnings.push(format!(
                "manifest {} of {kind} package `{}` could not be read ({}): nothing in this package is deleted in this run",
                unreadable.digest, package.name, unreadable.cause
            ));
            planner.plan(
                Containers::Unreadable {
                    digest: unreadable.digest,
                    cause: unreadable.cause,
                },
                versions,
                &rule.policy,
            )
        }
    }
}

/// A reference in a workspace file to a tag or digest the package does not have: a deployment
/// may point at nothing.
fn warn_unmatched_references(package: &mut Package, candidates: &[Version]) {
    let unmatched = package
        .protections
        .unmatched("keep-referenced-in", candidates);
    let warnings: Vec<String> = unmatched
        .into_iter()
        .map(|(what, protection)| {
            let place = protection.reason.trim_start_matches("referenced in ");
            format!(
                "{place} references {what} of container package `{}`, which has no such version (keep-referenced-in): a deployment may point at nothing",
                package.name
            )
        })
        .collect();
    package.warnings.extend(warnings);
}

/// The registry's ghosts (listed versions without a manifest) and broken images (indexes
/// naming platform manifests that are nowhere), into the package's listing and warnings.
fn note_ghosts_and_broken_images(
    package: &mut Package,
    versions: &[Version],
    manifests: PackageManifests,
) {
    package.listing.ghosts = versions
        .iter()
        .filter(|v| manifests.ghosts.contains(&v.name))
        .map(|v| v.id)
        .collect();
    for (digest, missing) in manifests.broken {
        let Some(index) = versions.iter().find(|v| v.name == digest) else {
            continue;
        };
        package.warnings.push(format!(
            "broken image in container package `{}`: index {} ({}) names platform manifests that are neither versions nor in the registry: {}",
            package.name,
            index.name,
            if index.tags.is_empty() { "untagged".to_string() } else { first_of(&index.tags) },
            first_of(&missing)
        ));
        package.listing.broken_images.push(BrokenImage {
            id: index.id,
            digest,
            tags: index.tags.clone(),
            missing,
        });
    }
}

/// Deleting the whole package takes along versions the listing may have missed: a plan that
/// deletes it stands only when GitHub's own count agrees with the listing, and a listing read
/// again now holds exactly the ids of the first (a version pushed while the pages were read can
/// be missed while another shows twice); otherwise the package is planned again, version by
/// version.
async fn whole_package_checked(
    client: &Client,
    package: &mut Package,
    plan: PackagePlan,
    planner: &Planner,
    containers: Containers<'_>,
) -> PackagePlan {
    if !plan.delete_package {
        return plan;
    }
    let listed = package.listing.active_before.unwrap_or_default();
    let kind = package.package_type();
    let name = &package.name;
    let refused = match listing::version_count(client, &package.namespace, kind, name).await {
        Ok(count) if count == listed => match listed_again(client, package, &plan).await {
            None => return plan,
            Some(refused) => refused,
        },
        Ok(count) => format!(
            "{kind} package `{name}`: GitHub counts {count} active versions but the listing gave {listed}, so the whole package is not deleted (delete-empty-package); its versions are deleted one by one instead, and the newest is kept"
        ),
        Err(error) => format!(
            "{kind} package `{name}`: its version count could not be read ({error:#}), so the whole package is not deleted (delete-empty-package); its versions are deleted one by one instead, and the newest is kept"
        ),
    };
    package.warnings.push(refused);
    let version_by_version = Policy {
        delete_empty_package: false,
        ..package.rule.policy.clone()
    };
    planner.plan(containers, plan.versions, &version_by_version)
}

/// Why the whole package may not be deleted after all: its active versions listed again differ
/// from the plan's (`None`: the same ids).
async fn listed_again(client: &Client, package: &Package, plan: &PackagePlan) -> Option<String> {
    let kind = package.package_type();
    let name = &package.name;
    let again = match list(client, package, "active").await {
        Ok(Some(versions)) => versions,
        Ok(None) => Vec::new(),
        Err(error) => {
            return Some(format!(
                "{kind} package `{name}`: listing it again right before deleting it failed ({error:#}), so the whole package is not deleted (delete-empty-package); its versions are deleted one by one instead, and the newest is kept"
            ))
        }
    };
    let planned: HashSet<u64> = plan.versions.iter().map(|v| v.id).collect();
    let now: HashSet<u64> = again.iter().map(|v| v.id).collect();
    if planned == now {
        return None;
    }
    let new = now.difference(&planned).count();
    let gone = planned.difference(&now).count();
    Some(format!(
        "{kind} package `{name}` changed while the run listed it ({new} versions new, {gone} gone when listed again right before deleting it), so the whole package is not deleted (delete-empty-package): the versions it listed are deleted one by one instead, the newest is kept, and what it did not list is left alone"
    ))
}
