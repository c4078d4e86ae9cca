//! Carrying out a plan: the deletions or restorations, concurrently within the client's pacing,
//! parents before what they reference. Each answer becomes an outcome; a 404 on delete is
//! confirmed with a GET (gone counts as deleted; still there means the token lacks delete
//! rights, and that package gets no further writes); a rate-limit wait too long for this run
//! defers the version.

use crate::github::client::{Answer, Client};
use crate::outcome::Outcome;
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
    /// The package it belongs to (an index of the caller's): a refused delete stops its writes.
    pub package: usize,
}

/// What the jobs came to.
pub struct Executed {
    /// In the jobs' order.
    pub outcomes: Vec<Outcome>,
    /// Packages whose token turned out to lack delete rights: the path of the delete that
    /// GitHub answered 404 while a GET showed it still there.
    pub refused: HashMap<usize, String>,
}

/// Runs the jobs.
pub async fn execute(client: &Client, jobs: &[Job], concurrency: usize) -> Executed {
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
        outcomes: outcomes
            .into_iter()
            .map(|o| o.expect("every job ran"))
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
            },
        },
        _ => Outcome::Failed {
            status: Some(check.status.as_u16()),
            message: format!(
                "the delete answered 404 and the GET that checks whether it is gone answered {} \"{}\": whether it is gone is unknown",
                check.status.as_u16(),
                check.message()
            ),
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
    }
}
