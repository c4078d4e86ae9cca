//! The plan's words for a version: its verdict (act on it, remove some of its tags, keep it,
//! or defer it to a later run), each with its reason, worded for a person.

use super::graph::Relation;
use super::policy::{Exclusion, Filter, ReleaseLine};
use super::protections::Protection;
use super::{short_name, Mode};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Delete it (delete mode) or restore it (restore mode).
    Act(ActReason),
    /// `untag`: the version stays (with its other tags) and loses these tags.
    Untag(Vec<String>),
    Keep(KeepReason),
    /// Would be acted on, but a run-level cut leaves it for a later run.
    Defer(DeferReason),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActReason {
    Selected,
    /// Needed only by versions that go: it goes with them.
    WithParent {
        parent: String,
        relation: Relation,
    },
    /// Restore mode: a version being restored needs it, so it comes back with it.
    RestoredWith {
        parent: String,
        relation: Relation,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeepReason {
    NotSelected(Filter),
    Excluded(Box<Exclusion>),
    /// The repository needs it: an open pull request, a live branch, a file that references it.
    Protected(Box<Protection>),
    KeepLatest(usize),
    /// `keep-latest` counted within a group (`keep-latest-per` `major` or `minor`).
    KeepLatestOf(usize, ReleaseLine),
    MinVersionsToKeep(usize),
    NeededBy {
        by: String,
        relation: Relation,
    },
    /// GitHub refuses to delete a package's last (tagged) version.
    LastVersion {
        tagged: bool,
    },
    ManifestUnreadable {
        digest: Box<str>,
        cause: Box<str>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeferReason {
    MaxDeletions,
    RateLimitBudget,
}

impl Verdict {
    pub fn is_act(&self) -> bool {
        matches!(self, Verdict::Act(_))
    }

    /// The tags to remove, for an `untag` verdict.
    pub fn untag_tags(&self) -> Option<&[String]> {
        match self {
            Verdict::Untag(tags) => Some(tags),
            _ => None,
        }
    }

    /// Selected to change: deleted (restored) whole, or losing tags.
    pub fn is_change(&self) -> bool {
        matches!(self, Verdict::Act(_) | Verdict::Untag(_))
    }

    /// A short reason for a person.
    pub fn describe(&self, mode: Mode) -> String {
        match self {
            Verdict::Act(ActReason::Selected) => "selected by the filters".into(),
            Verdict::Act(ActReason::WithParent { parent, relation }) => {
                format!("{} only of {parent}, which goes", relation.describe())
            }
            Verdict::Untag(tags) => format!(
                "loses the tags {} (untag): the version stays with its other tags",
                tags.join(", ")
            ),
            Verdict::Act(ActReason::RestoredWith { parent, relation }) => {
                format!("restored with {parent} (its {})", relation.describe())
            }
            Verdict::Keep(reason) => reason.describe(mode),
            Verdict::Defer(DeferReason::MaxDeletions) => "deferred: max-deletions reached".into(),
            Verdict::Defer(DeferReason::RateLimitBudget) => {
                "deferred: the rate-limit budget is spent".into()
            }
        }
    }
}

impl KeepReason {
    pub fn describe(&self, mode: Mode) -> String {
        match self {
            KeepReason::NotSelected(filter) => format!("not selected by {}", filter.input()),
            KeepReason::Excluded(exclusion) => format!(
                "excluded: {} `{}` matches {}",
                exclusion.input, exclusion.pattern, exclusion.matched
            ),
            KeepReason::Protected(protection) => protection.reason.clone(),
            KeepReason::KeepLatest(n) => format!("one of the {n} most recent (keep-latest)"),
            KeepReason::KeepLatestOf(n, line) => format!(
                "one of the {n} most recent of {line} (keep-latest-per {})",
                line.per().as_str()
            ),
            KeepReason::MinVersionsToKeep(n) => {
                format!("the package keeps at least {n} versions (min-versions-to-keep)")
            }
            KeepReason::NeededBy { by, relation } => {
                format!("{} of kept {by}", relation.describe())
            }
            KeepReason::LastVersion { tagged: true } => {
                "last tagged version: GitHub refuses to delete it (see delete-empty-package)".into()
            }
            KeepReason::LastVersion { tagged: false } => {
                "last version: GitHub refuses to delete it (see delete-empty-package)".into()
            }
            KeepReason::ManifestUnreadable { digest, cause } => {
                format!(
                "kept: manifest {} could not be read ({cause}), so nothing in the package is {}",
                short_name(digest),
                if mode == Mode::Delete { "deleted" } else { "restored" }
            )
            }
        }
    }

    /// A one-word kind, for counting in the summary.
    pub fn kind(&self) -> &'static str {
        match self {
            KeepReason::NotSelected(_) => "not selected",
            KeepReason::Excluded(_) => "excluded",
            KeepReason::Protected(protection) => protection.input,
            KeepReason::KeepLatest(_) | KeepReason::KeepLatestOf(..) => "keep-latest",
            KeepReason::MinVersionsToKeep(_) => "min-versions-to-keep",
            KeepReason::NeededBy { .. } => "needed by a kept version",
            KeepReason::LastVersion { .. } => "last version",
            KeepReason::ManifestUnreadable { .. } => "manifest unreadable",
        }
    }
}
