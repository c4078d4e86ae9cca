//! Before planning: what each package's repository protects. The open pull requests and the
//! branches of every repository the rules name are read once per run, however many rules use
//! them; the references found in the workspace files are matched to the packages. When pull
//! requests or branches cannot be read, the packages that needed them get a problem (fail
//! closed: nothing in them is deleted), naming the input and the permission.

use crate::github::client::Client;
use crate::github::repository;
use crate::outcome::Package;
use crate::plan::protections::Protections;
use crate::settings::repository_aware::{
    RepositoryAware, Target, LIVE_BRANCHES, OPEN_PULL_REQUESTS, REFERENCED_IN,
};
use futures::future::join_all;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

/// A repository's open pull requests or branches, or why they could not be read.
type Read<T> = Result<Vec<T>, String>;

/// Reads every repository at once with `read`, keeping each listing or why it failed.
async fn read_each<T, F, Fut>(repositories: BTreeSet<String>, read: F) -> BTreeMap<String, Read<T>>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Vec<T>>>,
{
    join_all(repositories.into_iter().map(|name| {
        let listing = read(name.clone());
        async move { (name, listing.await.map_err(|e| format!("{e:#}"))) }
    }))
    .await
    .into_iter()
    .collect()
}

/// Fills each package's protections, or its problem; warns of workspace files skipped.
pub async fn protect(client: &Client, packages: &mut [Package], warnings: &mut Vec<String>) {
    let wanted = |reads: fn(&RepositoryAware) -> bool| -> BTreeSet<String> {
        packages
            .iter()
            .map(|p| &p.rule.repository_aware)
            .filter(|aware| reads(aware))
            .flat_map(|aware| aware.repositories.iter().cloned())
            .collect()
    };
    let pull_repositories = wanted(|aware| aware.open_pull_requests.is_some());
    let branch_repositories = wanted(|aware| aware.live_branches.is_some());
    let pulls = read_each(pull_repositories, |name| async move {
        repository::open_pull_requests(client, &name).await
    })
    .await;
    let branches = read_each(branch_repositories, |name| async move {
        repository::branches(client, &name).await
    })
    .await;

    let mut warned = HashSet::new();
    for package in packages.iter_mut() {
        let aware = package.rule.repository_aware.clone();
        let references = &aware.references;
        if aware.referenced_in.is_some() && warned.insert(Arc::as_ptr(references)) {
            warnings.extend(references.skipped.iter().cloned());
        }
        match protections_of(&aware, &package.name, &pulls, &branches) {
            Ok(protections) => package.protections = protections,
            Err(problem) => package.problem = Some(problem),
        }
    }
}

/// The protections of one package of a rule, or the problem that fails it closed.
fn protections_of(
    aware: &RepositoryAware,
    package: &str,
    pulls: &BTreeMap<String, Read<u64>>,
    branches: &BTreeMap<String, Read<String>>,
) -> Result<Protections, String> {
    let mut protections = Protections::default();
    let several = aware.repositories.len() > 1;
    let of = |repository: &str| {
        if several {
            format!(" of {repository}")
        } else {
            String::new()
        }
    };
    for repository in &aware.repositories {
        if let Some(template) = &aware.open_pull_requests {
            let numbers = read_or_fail(pulls, repository, OPEN_PULL_REQUESTS)?;
            for number in numbers {
                protections.protect_tag(
                    template.pull_request_tag(*number),
                    OPEN_PULL_REQUESTS,
                    format!("pull request #{number}{} is open", of(repository)),
                );
            }
        }
        if let Some(template) = &aware.live_branches {
            for branch in read_or_fail(branches, repository, LIVE_BRANCHES)? {
                protections.protect_tag(
                    template.branch_tag(branch),
                    LIVE_BRANCHES,
                    format!("branch {branch}{} exists", of(repository)),
                );
            }
        }
    }
    let found = aware
        .references
        .by_package
        .get(&package.to_ascii_lowercase());
    for (target, place) in found.into_iter().flatten() {
        let reason = format!("referenced in {place}");
        match target {
            Target::Tag(tag) => protections.protect_tag(tag.clone(), REFERENCED_IN, reason),
            Target::Digest(digest) => protections.protect_digest(digest, REFERENCED_IN, reason),
        }
    }
    Ok(protections)
}

/// What was read of `repository`, or the problem: the input, what could not be read, the
/// permission the token needs, and that nothing in the package is deleted.
fn read_or_fail<'a, T>(
    reads: &'a BTreeMap<String, Read<T>>,
    repository: &str,
    input: &str,
) -> Result<&'a [T], String> {
    let (what, permission) = if input == OPEN_PULL_REQUESTS {
        ("the open pull requests", "pull-requests: read")
    } else {
        ("the branches", "contents: read")
    };
    match reads.get(repository) {
        Some(Ok(items)) => Ok(items),
        Some(Err(cause)) => Err(format!(
            "{input}: {what} of {repository} could not be read ({cause}); the token needs `{permission}` on {repository} (the job's `permissions:`), and the repository must exist. Nothing in this package is deleted in this run"
        )),
        None => Err(format!("{input}: {what} of {repository} were not read")),
    }
}
