//! Carrying out a plan: the deletions or restorations, concurrently within the client's pacing,
//! parents before what they reference. Each answer becomes an outcome; a 404 on delete is
//! confirmed with a GET (gone counts as deleted; still there means the token lacks delete
//! rights, and that package gets no further writes); a rate-limit wait too long for this run
//! defers the version.

use crate::github::client::{Answer, Client};
use crate::outcome::{target_of, Outcome, Package, DELETE_RIGHTS_FIX};
use crate::plan::Mode;
use futures::stream::{self, StreamExt};
use http::StatusCode;
use std::cell::RefCell;
use std::collections::HashMap;

/// One request to make.
pub struct Job {
    pub mode: Mode,
    /// API path of the version or the package.
    pub path: String,
    /// Jobs of a lower depth all finish before any of a higher depth starts.
    pub depth: usize,
    /// The package it belongs to (its index among the run's packages): a refused delete stops
    /// that package's writes.
    pub package: usize,
    /// The version of the package's plan it is for (its index there); `None`: the package itself.
    pub version: Option<usize>,
}

/// What the jobs came to.
pub struct Executed {
    /// Every job with its outcome, in the jobs' order.
    pub done: Vec<(Job, Outcome)>,
    /// Packages whose token turned out to lack delete rights: the path of the delete that
    /// GitHub answered 404 while a GET showed it still there.
    pub refused: HashMap<usize, String>,
}

/// Every package's requests as its plan says (the whole package, or each version acted on),
/// its results made ready for their outcomes. Made in a dry run too: what would be sent.
pub fn requests(mode: Mode, packages: &mut [Package]) -> Vec<Job> {
    let mut jobs = Vec::new();
    for (p, package) in packages.iter_mut().enumerate() {
        let Some(plan) = &package.plan else { continue };
        package.results.outcomes = vec![None; plan.versions.len()];
        if plan.delete_package {
            package.results.package_request = Some((Mode::Delete, None));
            jobs.push(Job {
                mode: Mode::Delete,
                path: package.path(),
                depth: 0,
                package: p,
                version: None,
            });
            continue;
        }
        for (i, (version, decision)) in plan.versions.iter().zip(&plan.decisions).enumerate() {
            if decision.verdict.is_act() {
                jobs.push(Job {
                    mode,
                    path: package.version_path(version.id),
                    depth: decision.depth,
                    package: p,
                    version: Some(i),
                });
            }
        }
    }
    jobs
}

/// Each outcome into its package's results; a package whose token turned out to lack delete
/// rights gets a problem that says so.
pub fn record(packages: &mut [Package], executed: Executed) {
    for (job, outcome) in executed.done {
        let results = &mut packages[job.package].results;
        match job.version {
            Some(i) => results.outcomes[i] = Some(outcome),
            None => {
                if let Some((_, slot)) = &mut results.package_request {
                    *slot = Some(outcome);
                }
            }
        }
    }
    for (p, path) in executed.refused {
        packages[p].problem = Some(refused_problem(&packages[p], &path));
    }
}

/// What to say about a package whose token turned out to lack delete rights.
fn refused_problem(package: &Package, path: &str) -> String {
    let not_sent = package
        .results
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

/// Runs the jobs.
pub async fn execute(client: &Client, jobs: Vec<Job>, concurrency: usize) -> Executed {
    let refused: RefCell<HashMap<usize, String>> = RefCell::default();
    let mut outcomes = vec![None; jobs.len()];
    let mut depths: Vec<usize> = jobs.iter().map(|j| j.depth).collect();
    depths.sort_unstable();
    depths.dedup();
    for depth in depths {
        let phase = jobs
            .iter()
            .enumerate()
            .filter(|(_, job)| job.depth == depth);
        let results: Vec<(usize, Outcome)> = stream::iter(phase)
            .map(|(index, job)| {
                let refused = &refused;
                async move { (index, run_job(client, job, refused).await) }
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        for (index, outcome) in results {
            outcomes[index] = Some(outcome);
        }
    }
    Executed {
        done: jobs
            .into_iter()
            .zip(outcomes)
            .map(|(job, outcome)| (job, outcome.expect("every job ran")))
            .collect(),
        refused: refused.into_inner(),
    }
}

async fn run_job(client: &Client, job: &Job, refused: &RefCell<HashMap<usize, String>>) -> Outcome {
    if let Some(path) = refused.borrow().get(&job.package) {
        return Outcome::not_sent(path);
    }
    let answer = match job.mode {
        Mode::Delete => client.delete(&job.path).await,
        Mode::Restore => client.post(&format!("{}/restore", job.path)).await,
    };
    let answer = match answer {
        Ok(answer) => answer,
        Err(error) => {
            return Outcome::Failed {
                status: None,
                message: format!("{error:#}"),
                cause: None,
            }
        }
    };
    let outcome = judge(job.mode, &answer);
    if outcome != Outcome::AlreadyGone {
        return outcome;
    }
    let confirmed = confirm_gone(client, &job.path, &answer).await;
    if matches!(
        confirmed,
        Outcome::Failed {
            status: Some(404),
            ..
        }
    ) {
        refused
            .borrow_mut()
            .entry(job.package)
            .or_insert_with(|| job.path.clone());
    }
    confirmed
}

/// GitHub answers 404 to a delete both when the target is gone and when the token may read it
/// but not delete it: a GET tells them apart. Gone (404, or `deleted_at` set) counts as deleted;
/// still there is the delete's 404 as a failure.
async fn confirm_gone(client: &Client, path: &str, delete: &Answer) -> Outcome {
    #[derive(serde::Deserialize)]
    struct Target {
        deleted_at: Option<String>,
    }
    let check = match client.get(path).await {
        Ok(check) => check,
        Err(error) => {
            return Outcome::Failed {
                status: None,
                message: format!("the delete answered 404 and the GET that checks whether it is gone failed ({error:#}): whether it is gone is unknown"),
                cause: None,
            }
        }
    };
    match check.status {
        StatusCode::NOT_FOUND => Outcome::AlreadyGone,
        StatusCode::OK => match check.json::<Target>() {
            Ok(Target {
                deleted_at: Some(_),
            }) => Outcome::AlreadyGone,
            _ => Outcome::Failed {
                status: Some(delete.status.as_u16()),
                message: delete.message(),
                cause: None,
            },
        },
        _ => Outcome::Failed {
            status: Some(check.status.as_u16()),
            message: format!(
                "the delete answered 404 and the GET that checks whether it is gone answered {} \"{}\": whether it is gone is unknown",
                check.status.as_u16(),
                check.message()
            ),
            cause: None,
        },
    }
}

fn judge(mode: Mode, answer: &Answer) -> Outcome {
    if answer.is_success() {
        return Outcome::Done;
    }
    if answer
        .rate_limit_wait(chrono::Utc::now().timestamp())
        .is_some()
    {
        return Outcome::Deferred;
    }
    if mode == Mode::Delete && answer.status == StatusCode::NOT_FOUND {
        return Outcome::AlreadyGone;
    }
    Outcome::Failed {
        status: Some(answer.status.as_u16()),
        message: answer.message(),
        cause: None,
    }
}
