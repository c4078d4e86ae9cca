//! Carrying out a plan: the deletions or restorations, concurrently within the client's pacing,
//! parents before what they reference. Each answer becomes an outcome; a version already gone
//! counts as deleted, a rate-limit wait too long for this run defers the version.

use crate::client::{Answer, Client};
use futures::stream::{self, StreamExt};
use http::StatusCode;

/// What happened to one request of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// 404 on delete: someone else deleted it first.
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
}

/// Runs the jobs; outcomes come back in the jobs' order.
pub async fn execute(client: &Client, jobs: &[Job], concurrency: usize) -> Vec<Outcome> {
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
            .map(|(index, job)| async move { (index, run_job(client, job).await) })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        for (index, outcome) in results {
            outcomes[index] = Some(outcome);
        }
    }
    outcomes
        .into_iter()
        .map(|o| o.expect("every job ran"))
        .collect()
}

async fn run_job(client: &Client, job: &Job) -> Outcome {
    let answer = match job.action {
        Action::Delete => client.delete(&job.path).await,
        Action::Restore => client.post(&format!("{}/restore", job.path)).await,
    };
    match answer {
        Ok(answer) => judge(job.action, &answer),
        Err(error) => Outcome::Failed {
            status: None,
            message: format!("{error:#}"),
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
