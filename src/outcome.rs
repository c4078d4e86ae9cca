//! What a run produced, and the words for it; `report/` reads this, never the orchestrator.
//!
//! One word per concept, across the crate:
//! - **mode** (`Mode`): delete or restore, the one spelling of both, for the run, a version's
//!   request and the whole package's;
//! - **verdict** (`plan::Verdict`): what the plan decides for a version, with its reason;
//! - **request**: one write the run sends (a version's or a package's DELETE or restore, or
//!   `untag`'s push and delete);
//! - **outcome** (`Outcome`, `UntagOutcome`): what came of a request; "not sent" is one;
//! - **count** (`report::Counted`): the list of the outputs a version ends in (changed, failed,
//!   deferred, kept, untagged), read from its verdict and its outcome;
//! - **problem**: a package the run could not work on; **warning**: what a person should know.

use crate::github::client::Counters;
use crate::github::routes::Namespace;
use crate::model::{PackageType, Version};
use crate::plan::protections::Protections;
use crate::plan::{Mode, PackagePlan};
use crate::registry::storage::StoredBlobs;
use crate::settings::{Rule, Settings};
use std::sync::Arc;

/// The fix for a token that may read a package but not delete it, as GitHub's 404 hides it.
macro_rules! delete_rights_fix {
    () => {
        "give the workflow's repository \"Manage Actions access: Admin\" in the package's settings (and the job `permissions: packages: write`), or use a classic PAT with delete:packages"
    };
}
pub const DELETE_RIGHTS_FIX: &str = delete_rights_fix!();

/// The start of the message of a request not sent.
const NOT_SENT: &str = "not sent:";

/// What happened to one request of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// 404 on delete, and a GET confirmed it gone: someone else deleted it first.
    AlreadyGone,
    Failed {
        status: Option<u16>,
        message: String,
        /// The likely cause, when the step that failed knows it better than its status tells
        /// (untag's registry steps); `None`: read from the status and message.
        cause: Option<&'static str>,
    },
    /// Not sent: the package refused an earlier delete (GitHub's 404 on a version still there
    /// showed the token lacks delete rights). The message says so.
    NotSent {
        message: String,
    },
    /// A rate limit that would outlast the run: left for the next run.
    Deferred,
    /// Not sent: the run was cancelled (SIGINT/SIGTERM) before its turn; left for the next run.
    Cancelled,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        matches!(self, Outcome::Done | Outcome::AlreadyGone)
    }

    /// A version's delete not sent after `refused` (a delete's path) showed that the token
    /// lacks delete rights for the package.
    pub fn not_sent(refused: &str) -> Outcome {
        Outcome::NotSent {
            message: format!(
                "{NOT_SENT} the token lacks delete rights for this package (GitHub answered 404 to the delete of {}, which is still there)",
                target_of(refused)
            ),
        }
    }

    /// `untag`'s removal not attempted: the package refused a deletion already, so its
    /// throw-away version could not be deleted either.
    pub fn untag_not_sent() -> Outcome {
        Outcome::NotSent {
            message: format!(
                "{NOT_SENT} the token lacks delete rights for this package, so no tag was removed (its throw-away version could not be deleted)"
            ),
        }
    }

    /// The failure, when the request failed or was not sent.
    pub fn failure(&self) -> Option<Failure<'_>> {
        match self {
            Outcome::Failed {
                status,
                message,
                cause,
            } => Some(Failure {
                status: *status,
                message,
                not_sent: false,
                known_cause: *cause,
            }),
            Outcome::NotSent { message } => Some(Failure {
                status: None,
                message,
                not_sent: true,
                known_cause: None,
            }),
            _ => None,
        }
    }
}

/// A request that failed or was not sent, as the report shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure<'a> {
    pub status: Option<u16>,
    pub message: &'a str,
    /// Not sent at all ([`Outcome::NotSent`]).
    pub not_sent: bool,
    /// The cause the failed step named ([`Outcome::Failed`]'s `cause`).
    pub known_cause: Option<&'static str>,
}

impl Failure<'_> {
    /// The likely cause, in plain words.
    pub fn cause(&self, mode: Mode) -> &'static str {
        if let Some(cause) = self.known_cause {
            return cause;
        }
        if self.not_sent {
            return concat!(
                "no further deletions were sent to this package once GitHub's 404 showed the token lacks delete rights. Fix: ",
                delete_rights_fix!()
            );
        }
        likely_cause(mode, self.status, self.message)
    }
}

/// What came of `untag`'s requests for one version (removing tags from it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UntagOutcome {
    /// The tags moved off the version (all the plan named, unless a step failed).
    pub removed: Vec<String>,
    /// Why the removal stopped short of the plan, when it did: [`Outcome::Failed`] with the
    /// registry's or GitHub's message and the cause in plain words, or [`Outcome::NotSent`].
    pub failure: Option<Outcome>,
    /// The throw-away version that carries the removed tags and could not be deleted.
    pub leftover: Option<Leftover>,
}

/// A throw-away version left behind: to delete by hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leftover {
    /// Its id, when the listing showed it.
    pub id: Option<u64>,
    pub digest: String,
    pub status: Option<u16>,
    /// Why it could not be deleted (GitHub's message and the likely cause).
    pub message: String,
}

impl Leftover {
    /// What happened, for the outputs and the log.
    pub fn describe(&self, tags: &[String]) -> String {
        format!(
            "untag moved the tags {} to the throw-away version {}{}, which could not be deleted: {}. Delete it by hand",
            tags.join(", "),
            self.digest,
            self.id.map(|id| format!(" (id {id})")).unwrap_or_default(),
            self.message
        )
    }
}

/// One package through the run, the record every stage hands on: the rule that names it, where
/// it lives, what its listing showed, its plan, and what came of the plan's requests.
#[derive(Debug)]
pub struct Package {
    pub rule: Arc<Rule>,
    /// Where it lives in the REST API (offline, where no request is made: the rule's owner).
    pub namespace: Namespace,
    pub name: String,
    pub listing: Listing,
    /// What the repository protects in it (open pull requests, live branches, references).
    pub protections: Protections,
    /// `None` when the package could not be planned (not found, listing failed…).
    pub plan: Option<PackagePlan>,
    pub results: Results,
    /// The package could not be worked on (listing failed, restore of the package refused…).
    pub problem: Option<String>,
    pub warnings: Vec<String>,
}

/// What the listing (and the registry) showed of a package.
#[derive(Debug, Default)]
pub struct Listing {
    /// Active versions before the run, when known.
    pub active_before: Option<usize>,
    /// Restore mode: the versions that came back with their package.
    pub restored_with_package: Vec<Version>,
    /// Containers: ids of the versions whose manifest the registry does not have (ghosts).
    pub ghosts: Vec<u64>,
    /// Containers: indexes naming platform manifests that are neither listed nor readable.
    pub broken_images: Vec<BrokenImage>,
    /// Containers whose manifests were read: the blobs each listed version names (`None`
    /// when no manifest was needed, or a version's blobs are unknown).
    pub storage: Option<StoredBlobs>,
}

/// What came of a package's requests (nothing in a dry run).
#[derive(Debug, Default)]
pub struct Results {
    /// Per version of the plan: what its request did (`None`: no request, or a dry run).
    pub outcomes: Vec<Option<Outcome>>,
    /// The whole-package request, if any: `Delete` for `delete-empty-package` (one DELETE of the
    /// package); `Restore` when, in restore mode, the package itself was deleted and restoring
    /// it came first. Its outcome (`None`: no request, or a dry run).
    pub package_request: Option<(Mode, Option<Outcome>)>,
    /// `untag`: what came of each version's removal of tags, by version index of the plan.
    pub untagged: Vec<(usize, UntagOutcome)>,
}

/// An index whose platform manifests are not all there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenImage {
    pub id: u64,
    pub digest: String,
    pub tags: Vec<String>,
    pub missing: Vec<String>,
}

impl Package {
    pub fn new(rule: Arc<Rule>, namespace: Namespace, name: String) -> Package {
        Package {
            rule,
            namespace,
            name,
            listing: Listing::default(),
            protections: Protections::default(),
            plan: None,
            results: Results::default(),
            problem: None,
            warnings: Vec::new(),
        }
    }

    pub fn owner(&self) -> &str {
        &self.rule.owner
    }

    /// `org` or `user`, as the `owner-type` input says it.
    pub fn owner_type(&self) -> &'static str {
        self.namespace.owner_type()
    }

    pub fn package_type(&self) -> PackageType {
        self.rule.package_type
    }

    /// The inputs that selected the versions the plan acts on (`tags`, `older-than`…).
    pub fn selected_by(&self) -> Vec<&'static str> {
        self.rule.policy.selecting_inputs()
    }

    /// The API path of the package.
    pub fn path(&self) -> String {
        self.namespace.package_path(self.package_type(), &self.name)
    }

    /// The API path of one of its versions.
    pub fn version_path(&self, id: u64) -> String {
        self.namespace
            .version_path(self.package_type(), &self.name, id)
    }
}

/// The whole run: every package's record, and what concerns the run as a whole.
#[derive(Debug)]
pub struct RunReport {
    pub mode: Mode,
    pub dry_run: bool,
    pub offline: bool,
    pub packages: Vec<Package>,
    pub warnings: Vec<String>,
    /// Plain log lines about the run (packages that `repository` leaves out).
    pub notes: Vec<String>,
    /// The primary budget read before writing, when GitHub has one.
    pub budget_remaining: Option<usize>,
    pub counters: Counters,
    /// Container manifests read from the registry and found in the `manifest-cache`, when any
    /// were needed or the cache is set.
    pub manifests: Option<(usize, usize)>,
    /// The run stopped before it changed anything (its first warning says why).
    pub stopped: bool,
}

impl RunReport {
    /// A run that stopped before it changed anything: no package, the error as its warning.
    pub fn stopped(settings: &Settings, error: &anyhow::Error) -> RunReport {
        RunReport {
            mode: settings.mode,
            dry_run: settings.dry_run,
            offline: settings.versions_file.is_some(),
            packages: Vec::new(),
            warnings: vec![format!(
                "the run stopped before it changed anything: {error:#}"
            )],
            notes: Vec::new(),
            budget_remaining: None,
            counters: Counters::default(),
            manifests: None,
            stopped: true,
        }
    }
}

/// "version 123" or "the package", for a job's path.
pub fn target_of(path: &str) -> String {
    match path.rsplit_once("/versions/") {
        Some((_, id)) => format!("version {id}"),
        None => "the package".to_string(),
    }
}

/// Plain words for a failure: the likely cause behind GitHub's message.
pub fn likely_cause(mode: Mode, status: Option<u16>, message: &str) -> &'static str {
    let message = message.to_ascii_lowercase();
    match (mode, status) {
        (Mode::Delete, Some(404)) => {
            concat!(
                "GitHub answered 404, yet a GET shows it still there: the token lacks delete rights for this package (it may read, not delete). Fix: ",
                delete_rights_fix!()
            )
        }
        _ if message.contains("5000 downloads") => {
            "GitHub keeps public versions downloaded more than 5,000 times; only GitHub support can delete them"
        }
        _ if message.contains("last tagged version") || message.contains("last version") => {
            "GitHub refuses to delete a package's last (tagged) version: set delete-empty-package to delete the whole package"
        }
        (Mode::Restore, _) if message.contains("30 days") => {
            "it was deleted more than 30 days ago, and GitHub restores only within 30 days"
        }
        (Mode::Restore, _) if message.contains("same name") => {
            "the same name was published again after the deletion (GitHub restores nothing over an active package or version of that name): delete or rename the new one first, or keep it"
        }
        (Mode::Restore, _) if message.contains("not deleted") => {
            "it is not deleted (restored already, perhaps by another run)"
        }
        (Mode::Restore, Some(404)) if message.contains("not found") => concat!(
            "GitHub answers 404 both when there is nothing of that name to restore and when the token may read the package but not restore it (restoring needs the rights deleting needs): check the name, else ",
            delete_rights_fix!()
        ),
        (_, Some(401)) => "the token is invalid or expired",
        (_, Some(403)) => {
            "the token lacks the rights: give the workflow `packages: write` and the repository Admin in the package's \"Manage Actions access\", or use a classic PAT with delete:packages"
        }
        (Mode::Restore, _) => {
            "GitHub restores only within 30 days of the deletion, and only if the same package name and version were not published again since"
        }
        (Mode::Delete, None) => "the request could not be completed after retries (network or server trouble)",
        (Mode::Delete, _) => "see GitHub's message",
    }
}
