//! Carrying out a plan: the deletions or restorations, concurrently within the client's pacing,
//! parents before what they reference. Each answer becomes an outcome, and each write done is
//! logged the moment its answer arrives; a 404 on delete is confirmed with one GET per package
//! (gone counts as deleted; still there means the token lacks delete rights, and that package
//! gets no further writes); a rate-limit wait too long for this run defers the version; a
//! cancelled run sends nothing more and waits a little for the writes under way.

use crate::github::client::{Answer, Client, Withheld};
use crate::model::Version;
use crate::outcome::{target_of, Outcome, Package, DELETE_RIGHTS_FIX};
use crate::plan::{short_name, Mode};
use crate::runner::{cancel, commands};
use crate::settings::Rule;
use futures::stream::{self, StreamExt};
use http::{Method, StatusCode};
use std::cell::RefCell;
use std::collections::HashMap;
use tokio::sync::Notify;

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
    /// The versions it changes, for the log line of each once it is done (`123 of npm package
    /// app of acme: 1.0.3`): one, or every version of a package deleted whole.
    pub versions: Vec<String>,
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
                versions: plan
                    .versions
                    .iter()
                    .map(|v| described(&package.rule, &package.name, v))
                    .collect(),
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
                    versions: vec![described(&package.rule, &package.name, version)],
                });
            }
        }
    }
    jobs
}

/// A version for its log line, id first: `123 of npm package app of acme: 1.0.3 (tags …)`.
pub fn described(rule: &Rule, name: &str, version: &Version) -> String {
    const SHOWN_TAGS: usize = 10;
    let mut text = format!(
        "{} of {} package {name} of {}: {}",
        version.id,
        rule.package_type,
        rule.owner,
        short_name(&version.name)
    );
    if !version.tags.is_empty() {
        let shown: Vec<&str> = version
            .tags
            .iter()
            .take(SHOWN_TAGS)
            .map(String::as_str)
            .collect();
        text.push_str(&format!(" (tags {}", shown.join(", ")));
        if version.tags.len() > SHOWN_TAGS {
            text.push_str(&format!(" and {} more", version.tags.len() - SHOWN_TAGS));
        }
        text.push(')');
    }
    text
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

/// Runs the jobs. Once the run is cancelled no write leaves (each checks when its turn comes),
/// and the writes under way get [`cancel::GRACE`] to be answered: a write still unanswered then
/// is a failure whose fate is unknown, a write not sent is [`Outcome::Cancelled`].
pub async fn execute(client: &Client, jobs: Vec<Job>, concurrency: usize) -> Executed {
    let refusals = Refusals::default();
    let outcomes: RefCell<Vec<Option<Outcome>>> = RefCell::new(vec![None; jobs.len()]);
    let sent: RefCell<Vec<bool>> = RefCell::new(vec![false; jobs.len()]);
    let mut depths: Vec<usize> = jobs.iter().map(|j| j.depth).collect();
    depths.sort_unstable();
    depths.dedup();
    let work = async {
        for depth in depths {
            let phase = jobs
                .iter()
                .enumerate()
                .filter(|(_, job)| job.depth == depth);
            stream::iter(phase)
                .for_each_concurrent(concurrency.max(1), |(index, job)| {
                    let (refusals, outcomes, sent) = (&refusals, &outcomes, &sent);
                    async move {
                        let mark_sent = || sent.borrow_mut()[index] = true;
                        let outcome = run_job(client, job, refusals, &mark_sent).await;
                        outcomes.borrow_mut()[index] = Some(outcome);
                    }
                })
                .await;
        }
    };
    tokio::select! {
        () = work => {}
        () = cancel::grace_over() => {}
    }
    let (outcomes, sent) = (outcomes.into_inner(), sent.into_inner());
    Executed {
        done: jobs
            .into_iter()
            .zip(outcomes.into_iter().zip(sent))
            .map(|(job, (outcome, sent))| (job, outcome.unwrap_or_else(|| unfinished(sent))))
            .collect(),
        refused: refusals.into_refused(),
    }
}

/// A job the run stopped waiting for after it was cancelled.
fn unfinished(sent: bool) -> Outcome {
    if !sent {
        return Outcome::Cancelled;
    }
    Outcome::Failed {
        status: None,
        message: format!(
            "the run was cancelled and no answer came within {} s of it, so whether this request was carried out is unknown: check before a re-run",
            cancel::GRACE.as_secs()
        ),
        cause: Some("the run was cancelled while this request was under way"),
    }
}

/// Per package, whether its token lacks delete rights: a confirmation under way (a delete
/// answered 404, its GET not back yet) or settled (the delete's path). Writes to a package
/// wait while it is being confirmed, and none is sent once it is settled.
#[derive(Default)]
struct Refusals {
    by_package: RefCell<HashMap<usize, Option<String>>>,
    settled: Notify,
}

impl Refusals {
    /// Whether a write to `package` may leave now.
    fn open(&self, package: usize) -> bool {
        !self.by_package.borrow().contains_key(&package)
    }

    /// Waits while a confirmation for `package` is under way; the refused delete's path when
    /// the token turned out to lack delete rights.
    async fn settled(&self, package: usize) -> Option<String> {
        loop {
            // Made before the check, so a settlement between the two is not missed.
            let notified = self.settled.notified();
            let state = self.by_package.borrow().get(&package).cloned();
            match state {
                None => return None,
                Some(Some(refused)) => return Some(refused),
                Some(None) => notified.await,
            }
        }
    }

    /// Starts confirming `package`'s rights; false when another confirmation is under way or
    /// settled.
    fn begin(&self, package: usize) -> bool {
        let mut by_package = self.by_package.borrow_mut();
        if by_package.contains_key(&package) {
            return false;
        }
        by_package.insert(package, None);
        true
    }

    /// Ends a confirmation: refused (the delete's path), or not (writes go on).
    fn settle(&self, package: usize, refused: Option<String>) {
        match refused {
            Some(path) => self.by_package.borrow_mut().insert(package, Some(path)),
            None => self.by_package.borrow_mut().remove(&package),
        };
        self.settled.notify_waiters();
    }

    fn into_refused(self) -> HashMap<usize, String> {
        self.by_package
            .into_inner()
            .into_iter()
            .filter_map(|(package, refused)| refused.map(|path| (package, path)))
            .collect()
    }
}

async fn run_job(client: &Client, job: &Job, refusals: &Refusals, mark_sent: &dyn Fn()) -> Outcome {
    let answer = loop {
        if let Some(path) = refusals.settled(job.package).await {
            return Outcome::not_sent(&path);
        }
        let may_send = || {
            let open = refusals.open(job.package);
            if open {
                mark_sent();
            }
            open
        };
        let sent = match job.mode {
            Mode::Delete => client.write_if(Method::DELETE, &job.path, &may_send).await,
            Mode::Restore => {
                let path = format!("{}/restore", job.path);
                client.write_if(Method::POST, &path, &may_send).await
            }
        };
        match sent {
            Ok(answer) => break answer,
            Err(_) if cancel::received().is_some() => return Outcome::Cancelled,
            // A confirmation began while it waited for its turn: wait for it.
            Err(error) if Withheld::is(&error) => continue,
            Err(error) => {
                return Outcome::Failed {
                    status: None,
                    message: format!("{error:#}"),
                    cause: None,
                }
            }
        }
    };
    let outcome = judge(job.mode, &answer);
    if outcome == Outcome::AlreadyGone {
        return confirmed(client, job, refusals, &answer).await;
    }
    if outcome == Outcome::Done {
        trace(job);
    }
    outcome
}

/// A delete answered 404: gone, or refused. One GET per package confirms a refusal: a 404 that
/// comes while it is under way waits for it, and once it showed the token lacks delete rights,
/// a 404 is that refusal, with no GET of its own.
async fn confirmed(client: &Client, job: &Job, refusals: &Refusals, answer: &Answer) -> Outcome {
    loop {
        if refusals.settled(job.package).await.is_some() {
            return Outcome::Failed {
                status: Some(answer.status.as_u16()),
                message: answer.message(),
                cause: None,
            };
        }
        if refusals.begin(job.package) {
            break;
        }
    }
    let confirmed = confirm_gone(client, &job.path, answer).await;
    let refused = matches!(
        confirmed,
        Outcome::Failed {
            status: Some(404),
            ..
        }
    );
    refusals.settle(job.package, refused.then(|| job.path.clone()));
    if confirmed == Outcome::AlreadyGone {
        trace(job);
    }
    confirmed
}

/// The durable trace of a write done: its lines, printed and flushed as its answer arrives, so
/// the log of a run killed later still names every version it changed.
fn trace(job: &Job) {
    let done = match job.mode {
        Mode::Delete => "deleted",
        Mode::Restore => "restored",
    };
    for version in &job.versions {
        commands::record(&format!("{done} version {version}"));
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
