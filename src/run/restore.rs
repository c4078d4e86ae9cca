//! Restore mode's own steps: the deleted versions to choose from (restoring the package itself
//! first when it was deleted), and, after the planned restores, the images' follow-ups: every
//! container version restored is read, and the deleted versions it reaches are restored too.

use super::execute::{self, Job};
use super::gather::list;
use crate::github::client::Client;
use crate::model::{PackageType, Version};
use crate::outcome::{likely_cause, Outcome, Package};
use crate::plan::graph::{Graph, ManifestRefs};
use crate::plan::Mode;
use crate::registry::Registry;
use crate::settings::Settings;
use anyhow::Result;
use std::collections::HashMap;

/// The deleted versions, and the active count; when the package itself is deleted, a dry run
/// says it would restore it first (`None`), a real run restores it and lists again.
pub async fn deleted_candidates(
    client: &Client,
    registry: &Registry,
    settings: &Settings,
    package: &mut Package,
) -> Result<Option<Vec<Version>>> {
    let kind = package.package_type();
    match list(client, package, "deleted").await? {
        Some(versions) => {
            let active = list(client, package, "active").await?;
            if kind == PackageType::Container && settings.manifest_cache.is_some() {
                let active = active.iter().flatten().map(|v| v.name.as_str());
                registry.note_listed(active.chain(versions.iter().map(|v| v.name.as_str())));
            }
            package.listing.active_before = active.map(|v| v.len());
            Ok(Some(versions))
        }
        None if settings.dry_run => {
            package.results.package_request = Some((Mode::Restore, None));
            package.warnings.push(format!(
                "{kind} package `{}` is deleted (or does not exist): a real run restores it first, then chooses among its deleted versions",
                package.name
            ));
            Ok(None)
        }
        None => restore_package(client, package).await.map(Some),
    }
}

/// Restores the package itself; the versions that came back with it are noted, and its
/// deleted versions returned. A refusal is an error (the package's problem).
async fn restore_package(client: &Client, package: &mut Package) -> Result<Vec<Version>> {
    let answer = client.post(&format!("{}/restore", package.path())).await?;
    if !answer.is_success() {
        let status = answer.status.as_u16();
        let message = answer.message();
        let cause = likely_cause(Mode::Restore, Some(status), &message);
        package.results.package_request = Some((
            Mode::Restore,
            Some(Outcome::Failed {
                status: Some(status),
                message: message.clone(),
                cause: None,
            }),
        ));
        anyhow::bail!(
            "the package itself is deleted (or never existed) and GitHub refused to restore it: {status} \"{message}\". Likely cause: {cause}"
        );
    }
    package.results.package_request = Some((Mode::Restore, Some(Outcome::Done)));
    package.listing.active_before = Some(0);
    package.listing.restored_with_package =
        list(client, package, "active").await?.unwrap_or_default();
    Ok(list(client, package, "deleted").await?.unwrap_or_default())
}

/// After the planned restores of a container package (the `index`-th of the run): reads the
/// manifest of every version restored (served again now) and restores the deleted versions it
/// reaches, repeatedly.
pub async fn restore_images(
    client: &Client,
    registry: &Registry,
    package: &mut Package,
    index: usize,
    concurrency: usize,
) {
    let Some(plan) = package.plan.as_mut() else {
        return;
    };
    let outcomes = &mut package.results.outcomes;
    let mut refs: HashMap<String, ManifestRefs> = HashMap::new();
    let mut read = vec![false; plan.versions.len()];
    loop {
        let restored: Vec<usize> = (0..plan.versions.len())
            .filter(|&i| !read[i] && outcomes[i] == Some(Outcome::Done))
            .collect();
        if restored.is_empty() {
            return;
        }
        let digests = restored.iter().map(|&i| plan.versions[i].name.clone());
        for &i in &restored {
            read[i] = true;
        }
        let rule = &package.rule;
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
                path: package.namespace.version_path(
                    package.rule.package_type,
                    &package.name,
                    plan.versions[i].id,
                ),
                depth: 0,
                package: index,
                version: Some(i),
                versions: vec![execute::described(
                    &package.rule,
                    &package.name,
                    &plan.versions[i],
                )],
            })
            .collect();
        for (job, outcome) in execute::execute(client, jobs, concurrency).await.done {
            if let Some(i) = job.version {
                outcomes[i] = Some(outcome);
            }
        }
    }
}
