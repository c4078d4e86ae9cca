//! Carrying out a plan: the deletions or restorations, concurrently within the client's pacing,
//! parents before what they reference. Each answer becomes an outcome; a 404 on delete is
//! confirmed with a GET (gone counts as deleted; still there means the token lacks delete
//! rights, and that package gets no further writes); a rate-limit wait too long for this run
//! defers the version.

use crate::github::client::{Answer, Client};
use futures::stream::{self, StreamExt};
use http::StatusCode;
use std::cell::RefCell;
use std::collections::HashMap;

/// The fix for a token that may read a package but not delete it, as GitHub's 404 hides it.
macro_rules! delete_rights_fix {
    () => {
        "give the workflow's repository \"Manage Actions access: Admin\" in the package's settings (and the job `permissions: packages: write`), or use a classic PAT with delete:packages"
    };
}
pub const DELETE_RIGHTS_FIX: &str = delete_rights_fix!();

/// The start of the message of a write not sent because the package refused an earlier one.
pub const NOT_SENT: &str = "not sent:";

/// What happened to one request of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// 404 on delete, and a GET confirmed it gone: someone else deleted it first.
    AlreadyGone,
    Failed {
        status: Option<u16>,
        message: String,
    },
    /// A rate limit that would outlast the run: left for the next run.
    Deferred,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        matches!(self, Outcome::Done | Outcome::AlreadyGone)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Delete,
    Restore,
}

impl Action {
    /// What a run of this mode does to the versions it acts on.
    pub fn of(mode: crate::plan::Mode) -> Action {
        match mode {
            crate::plan::Mode::Delete => Action::Delete,
            crate::plan::Mode::Restore => Action::Restore,
        }
    }
}

/// One request to make.
pub struct Job {
    pub action: Action,
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
        return Outcome::Failed {
            status: None,
            message: format!(
                "{NOT_SENT} the token lacks delete rights for this package (GitHub answered 404 to the delete of {}, which is still there)",
                target_of(path)
            ),
        };
    }
    let answer = match job.action {
        Action::Delete => client.delete(&job.path).await,
        Action::Restore => client.post(&format!("{}/restore", job.path)).await,
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
    let outcome = judge(job.action, &answer);
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

/// "version 123" or "the package", for a job's path.
pub fn target_of(path: &str) -> String {
    match path.rsplit_once("/versions/") {
        Some((_, id)) => format!("version {id}"),
        None => "the package".to_string(),
    }
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

fn judge(action: Action, answer: &Answer) -> Outcome {
    if answer.is_success() {
        return Outcome::Done;
    }
    if answer
        .rate_limit_wait(chrono::Utc::now().timestamp())
        .is_some()
    {
        return Outcome::Deferred;
    }
    if action == Action::Delete && answer.status == StatusCode::NOT_FOUND {
        return Outcome::AlreadyGone;
    }
    Outcome::Failed {
        status: Some(answer.status.as_u16()),
        message: answer.message(),
    }
}

/// Plain words for a failure: the likely cause behind GitHub's message.
pub fn likely_cause(action: Action, status: Option<u16>, message: &str) -> &'static str {
    let message = message.to_ascii_lowercase();
    match (action, status) {
        (Action::Delete, Some(404)) => {
            concat!(
                "GitHub answered 404, yet a GET shows it still there: the token lacks delete rights for this package (it may read, not delete). Fix: ",
                delete_rights_fix!()
            )
        }
        _ if message.starts_with(NOT_SENT) => concat!(
            "no further deletions were sent to this package once GitHub's 404 showed the token lacks delete rights. Fix: ",
            delete_rights_fix!()
        ),
        _ if message.contains("5000 downloads") => {
            "GitHub keeps public versions downloaded more than 5,000 times; only GitHub support can delete them"
        }
        _ if message.contains("last tagged version") || message.contains("last version") => {
            "GitHub refuses to delete a package's last (tagged) version: set delete-empty-package to delete the whole package"
        }
        (Action::Restore, _) if message.contains("30 days") => {
            "it was deleted more than 30 days ago, and GitHub restores only within 30 days"
        }
        (Action::Restore, _) if message.contains("same name") => {
            "the same name was published again after the deletion (GitHub restores nothing over an active package or version of that name): delete or rename the new one first, or keep it"
        }
        (Action::Restore, _) if message.contains("not deleted") => {
            "it is not deleted (restored already, perhaps by another run)"
        }
        (Action::Restore, Some(404)) if message.contains("not found") => concat!(
            "GitHub answers 404 both when there is nothing of that name to restore and when the token may read the package but not restore it (restoring needs the rights deleting needs): check the name, else ",
            delete_rights_fix!()
        ),
        (_, Some(401)) => "the token is invalid or expired",
        (_, Some(403)) => {
            "the token lacks the rights: give the workflow `packages: write` and the repository Admin in the package's \"Manage Actions access\", or use a classic PAT with delete:packages"
        }
        (Action::Restore, _) => {
            "GitHub restores only within 30 days of the deletion, and only if the same package name and version were not published again since"
        }
        (Action::Delete, None) => "the request could not be completed after retries (network or server trouble)",
        (Action::Delete, _) => "see GitHub's message",
    }
}
