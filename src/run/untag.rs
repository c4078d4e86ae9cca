//! Carrying out `untag` removals: per package, one push session; per version, its throw-away
//! manifest pushed under every tag to remove, the throw-away version found through the REST
//! listing (its name is the pushed digest) and deleted. The original version is never touched.

use crate::github::client::Client;
use crate::model::{LinkPrefixes, RestVersion, Version};
use crate::outcome::{likely_cause, Leftover, Outcome, Package, UntagOutcome};
use crate::plan::Mode;
use crate::registry::push::{
    is_valid_tag, sha256_digest, throwaway_manifest, PushFailure, PushSession,
};
use crate::registry::Registry;
use futures::future::join_all;
use std::time::Duration;

/// How often, and after how long, the listing is read again for a throw-away version it does
/// not show yet.
const LOOKUPS: [Duration; 3] = [
    Duration::ZERO,
    Duration::from_secs(1),
    Duration::from_secs(3),
];

/// The removals of every package, packages at once, each package's one after the other. A
/// package that refused a delete already gets none: its throw-away versions could not be
/// deleted.
pub async fn untag_all(client: &Client, registry: &Registry, packages: &mut [Package]) {
    let work = packages.iter().map(|package| async move {
        let Some(plan) = &package.plan else {
            return Vec::new();
        };
        let wanted: Vec<(usize, &Version, &[String])> = (plan.versions.iter().zip(&plan.decisions))
            .enumerate()
            .filter_map(|(i, (v, d))| d.verdict.untag_tags().map(|tags| (i, v, tags)))
            .collect();
        let removals: Vec<(&Version, &[String])> =
            wanted.iter().map(|&(_, v, tags)| (v, tags)).collect();
        let outcomes = if package.problem.is_some() {
            let not_sent = || UntagOutcome {
                failure: Some(Outcome::untag_not_sent()),
                ..UntagOutcome::default()
            };
            removals.iter().map(|_| not_sent()).collect()
        } else {
            remove_tags(client, registry, package, &removals).await
        };
        wanted.iter().map(|&(i, _, _)| i).zip(outcomes).collect()
    });
    let outcomes: Vec<Vec<(usize, UntagOutcome)>> = join_all(work).await;
    for (package, untagged) in packages.iter_mut().zip(outcomes) {
        package.results.untagged = untagged;
    }
}

/// The removals of a run cancelled before they began: none is attempted, each is left for the
/// next run ([`Outcome::Cancelled`]).
pub fn not_started(packages: &mut [Package]) {
    for package in packages {
        let Some(plan) = &package.plan else { continue };
        package.results.untagged = plan
            .decisions
            .iter()
            .enumerate()
            .filter(|(_, d)| d.verdict.untag_tags().is_some())
            .map(|(i, _)| {
                let cancelled = UntagOutcome {
                    failure: Some(Outcome::Cancelled),
                    ..UntagOutcome::default()
                };
                (i, cancelled)
            })
            .collect();
    }
}

/// Removes `tags` from each version in `removals`, one version after the other; the results
/// come back in the same order.
async fn remove_tags(
    client: &Client,
    registry: &Registry,
    package: &Package,
    removals: &[(&Version, &[String])],
) -> Vec<UntagOutcome> {
    // A tag the registry does not accept cannot be moved: such a version is left whole, and
    // nothing is pushed for it.
    let invalid: Vec<Option<UntagOutcome>> = removals
        .iter()
        .map(|(_, tags)| {
            tags.iter()
                .find(|t| !is_valid_tag(t))
                .map(|tag| UntagOutcome {
                    failure: Some(push_refused(PushFailure::invalid_tag(tag), &[])),
                    ..UntagOutcome::default()
                })
        })
        .collect();
    if invalid.iter().all(Option::is_some) {
        return invalid.into_iter().flatten().collect();
    }
    let session = match PushSession::open(
        client,
        registry,
        &package.rule.registry_url,
        package.owner(),
        &package.name,
    )
    .await
    {
        Ok(session) => session,
        Err(failure) => {
            let failure = push_refused(failure, &[]);
            return invalid
                .into_iter()
                .map(|invalid| {
                    invalid.unwrap_or_else(|| UntagOutcome {
                        failure: Some(failure.clone()),
                        ..UntagOutcome::default()
                    })
                })
                .collect();
        }
    };
    let mut results = Vec::with_capacity(removals.len());
    for ((version, tags), invalid) in removals.iter().zip(invalid) {
        results.push(match invalid {
            Some(refused) => refused,
            None => remove_from(client, package, &session, version, tags).await,
        });
    }
    results
}

async fn remove_from(
    client: &Client,
    package: &Package,
    session: &PushSession<'_>,
    version: &Version,
    tags: &[String],
) -> UntagOutcome {
    let manifest = throwaway_manifest(&version.name);
    let digest = sha256_digest(&manifest);
    let mut removal = UntagOutcome::default();
    for tag in tags {
        // CI may have moved the tag since the plan: a push now would take it from that image.
        match session.tag_target(tag).await {
            Ok(Some(target)) if target == version.name => {}
            Ok(target) => {
                removal.failure = Some(tag_moved(tag, &version.name, target, &removal.removed));
                break;
            }
            Err(failure) => {
                removal.failure = Some(push_refused(failure, &removal.removed));
                break;
            }
        }
        match session.push_tag(&manifest, &digest, tag).await {
            Ok(()) => removal.removed.push(tag.clone()),
            Err(failure) => {
                removal.failure = Some(push_refused(failure, &removal.removed));
                break;
            }
        }
    }
    if removal.removed.is_empty() {
        return removal;
    }
    let leftover = |id: Option<u64>, status: Option<u16>, why: String| Leftover {
        id,
        digest: digest.clone(),
        status,
        message: why,
    };
    let throwaway = match find_version(client, package, &digest).await {
        Ok(Some(found)) if found.id != version.id => found,
        Ok(_) => {
            removal.leftover = Some(leftover(
                None,
                None,
                "the package's listing does not show it".into(),
            ));
            return removal;
        }
        Err(error) => {
            removal.leftover = Some(leftover(None, None, format!("{error:#}")));
            return removal;
        }
    };
    let path = package.version_path(throwaway.id);
    match client.delete(&path).await {
        Ok(answer) if answer.is_success() => {}
        Ok(answer) => {
            let status = answer.status.as_u16();
            let message = answer.message();
            let cause = likely_cause(Mode::Delete, Some(status), &message);
            removal.leftover = Some(leftover(
                Some(throwaway.id),
                Some(status),
                format!("GitHub answered {status} \"{message}\"; likely cause: {cause}"),
            ));
        }
        Err(error) => {
            removal.leftover = Some(leftover(Some(throwaway.id), None, format!("{error:#}")));
        }
    }
    removal
}

/// A tag left alone: right before the push under it, it no longer pointed at the planned
/// version (`target`: where it points now, `None`: nowhere).
fn tag_moved(tag: &str, planned: &str, target: Option<String>, moved: &[String]) -> Outcome {
    let now = match target {
        Some(target) => format!("it points at {target} now"),
        None => "the registry no longer knows it".to_string(),
    };
    let before = if moved.is_empty() {
        "no tag was removed".to_string()
    } else {
        format!("the tags {} were removed before it", moved.join(", "))
    };
    Outcome::Failed {
        status: None,
        message: format!(
            "the tag {tag} moved since the plan: planned on {planned}, {now} (most likely CI pushed it again), so it was left alone; {before}"
        ),
        cause: Some(
            "the tag was moved to another image after the plan (CI pushed it again): it was left alone, as that image needs it; the next run plans with the tag where it is",
        ),
    }
}

/// The failure of a push, with the cause in plain words.
fn push_refused(failure: PushFailure, moved: &[String]) -> Outcome {
    let cause = match failure.status {
        _ if failure.invalid_tag => {
            "it was most likely not pushed through the registry (a tag it accepts is letters, digits, `_`, `.` and `-`, at most 128, not starting with `.` or `-`)"
        }
        // ghcr.io refuses with 403 DENIED, the distribution registry with 401 and
        // `error="insufficient_scope"` in its challenge: a valid token without push rights.
        Some(401 | 403) => {
            "the token may not push to the package: give the workflow `packages: write` (and the repository Write or Admin access in the package's \"Manage Actions access\"), or use a classic PAT with write:packages"
        }
        None => "the registry could not be reached after retries",
        Some(_) => "the registry refused the push; its message says why",
    };
    let moved = if moved.is_empty() {
        "no tag was removed".to_string()
    } else {
        format!("the tags {} were removed before it", moved.join(", "))
    };
    Outcome::Failed {
        status: failure.status,
        message: format!("{}; {moved}", failure.message),
        cause: Some(cause),
    }
}

/// The active version named `digest`, from the newest page of the listing (read again a few
/// times when it does not show it yet).
async fn find_version(
    client: &Client,
    package: &Package,
    digest: &str,
) -> anyhow::Result<Option<Version>> {
    let path = format!("{}/versions?per_page=100&state=active", package.path());
    let links = LinkPrefixes::default();
    for wait in LOOKUPS {
        tokio::time::sleep(wait).await;
        let answer = client.get(&path).await?;
        if !answer.is_success() {
            return Err(crate::github::routes::api_error(
                "listing the package's versions",
                &answer,
            ));
        }
        let page: Vec<RestVersion> = answer.json()?;
        if let Some(found) = page.into_iter().find(|v| v.name == digest) {
            return found.into_version(&links).map(Some);
        }
    }
    Ok(None)
}
