//! Telling what happened: the tally of the run's outcome (`crate::outcome`), every version in
//! the count its verdict and outcome put it in, shared by the step outputs (`outputs.rs`), the
//! report file (`file.rs`), the log (`log.rs`) and the job summary (`summary/`), all
//! published where the runner reads them by `publish.rs`.

mod chart;
mod file;
mod log;
mod outputs;
mod publish;
mod storage;
mod summary;

pub use publish::{publish, Destinations};
use summary::{undo_action, SummaryContext};

use crate::model::Version;
use crate::outcome::{Failure, Leftover, Outcome, Package, RunReport, UntagOutcome};
use crate::plan::{ActReason, Decision, Mode, Verdict};
use std::io::{self, Write};

/// The count (and the list of the outputs) a version is in: its verdict, carried out as its
/// outcome says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Counted {
    /// Deleted or restored (or would be, in a dry run).
    Changed,
    Failed,
    Deferred,
    Kept,
    /// `untag`: lost tags and stays (or would, in a dry run).
    Untagged,
}

/// One version with what came of it. The reason is worded only when it is shown.
struct Entry<'a> {
    package: &'a Package,
    version: &'a Version,
    counted: Counted,
    failure: Option<Failure<'a>>,
    /// `None`: the version came back with its package.
    decision: Option<&'a Decision>,
    whole_package: bool,
    already_gone: bool,
    /// Not sent: the run was cancelled first.
    cancelled: bool,
    /// `untag`: the tags removed (or that would be, in a dry run).
    removed: &'a [String],
}

impl<'a> Entry<'a> {
    fn reason(&self, mode: Mode) -> String {
        let Some(decision) = self.decision else {
            return "came back with its package".into();
        };
        let mut reason = match &decision.verdict {
            Verdict::Act(ActReason::Selected) => selected_by(&self.package.selected_by()),
            verdict => verdict.describe(mode),
        };
        if self.whole_package {
            reason.push_str("; the whole package is deleted (delete-empty-package)");
        }
        if self.already_gone {
            reason.push_str("; it was already gone (404)");
        }
        if self.cancelled {
            reason.push_str("; not sent: the run was cancelled (a re-run does it)");
        }
        if self.package.listing.ghosts.contains(&self.version.id) {
            reason.push_str("; a ghost: the registry has no manifest for it");
        }
        reason
    }

    /// The reason as shown: in a dry run, what comes back with an image "would be restored
    /// with" it.
    fn shown_reason(&self, mode: Mode, dry_run: bool) -> String {
        let reason = self.reason(mode);
        if dry_run && self.came_back_with_image() {
            format!("would be {reason}")
        } else {
            reason
        }
    }

    /// Restore mode: it comes back with an image being restored.
    fn came_back_with_image(&self) -> bool {
        self.decision.is_some_and(|d| {
            matches!(
                d.verdict,
                Verdict::Act(crate::plan::ActReason::RestoredWith { .. })
            )
        })
    }

    fn went_with_parent(&self) -> bool {
        self.counted == Counted::Changed
            && self.decision.is_some_and(|d| {
                matches!(
                    d.verdict,
                    Verdict::Act(crate::plan::ActReason::WithParent { .. })
                )
            })
    }

    /// Its failure (none: no status, no message).
    fn failure(&self) -> Failure<'a> {
        self.failure.unwrap_or(Failure {
            status: None,
            message: "",
            not_sent: false,
            known_cause: None,
        })
    }
}

/// The counts and lists behind the outputs and the summary.
pub struct Tally<'a> {
    report: &'a RunReport,
    entries: Vec<Entry<'a>>,
    /// The `report-file` written, as the workflow names it (relative to the workspace).
    report_file: Option<String>,
    /// `untag`: throw-away versions that could not be deleted, with the tags they carry.
    leftovers: Vec<(&'a Package, &'a Leftover, &'a [String])>,
}

impl<'a> Tally<'a> {
    pub fn new(report: &'a RunReport) -> Tally<'a> {
        // Sized once: at 100,000 versions, growing by doubling would hold two copies at its peak.
        let total: usize = report
            .packages
            .iter()
            .map(|p| {
                p.listing.restored_with_package.len()
                    + p.plan.as_ref().map_or(0, |plan| plan.versions.len())
            })
            .sum();
        let mut entries = Vec::with_capacity(total);
        let mut leftovers = Vec::new();
        for package in &report.packages {
            for version in &package.listing.restored_with_package {
                entries.push(Entry {
                    package,
                    version,
                    counted: Counted::Changed,
                    failure: None,
                    decision: None,
                    whole_package: false,
                    already_gone: false,
                    cancelled: false,
                    removed: &[],
                });
            }
            let Some(plan) = &package.plan else { continue };
            let removals: std::collections::HashMap<usize, &UntagOutcome> = package
                .results
                .untagged
                .iter()
                .map(|(i, r)| (*i, r))
                .collect();
            let package_outcome = match &package.results.package_request {
                Some((Mode::Delete, outcome)) => Some(outcome.as_ref()),
                _ => None,
            };
            for (i, (version, decision)) in plan.versions.iter().zip(&plan.decisions).enumerate() {
                let outcome = match package_outcome {
                    Some(outcome) => outcome,
                    None => package.results.outcomes.get(i).and_then(Option::as_ref),
                };
                let removal = removals.get(&i).copied();
                if let Some(removal) = removal {
                    if let Some(leftover) = &removal.leftover {
                        leftovers.push((package, leftover, removal.removed.as_slice()));
                    }
                }
                let (counted, failure, removed) =
                    counted(&decision.verdict, outcome, removal, report.dry_run);
                entries.push(Entry {
                    package,
                    version,
                    counted,
                    failure,
                    decision: Some(decision),
                    whole_package: package_outcome.is_some() && decision.verdict.is_act(),
                    already_gone: outcome == Some(&Outcome::AlreadyGone),
                    cancelled: outcome == Some(&Outcome::Cancelled)
                        || removal.is_some_and(|r| r.failure == Some(Outcome::Cancelled)),
                    removed,
                });
            }
        }
        Tally {
            report,
            entries,
            report_file: None,
            leftovers,
        }
    }

    /// The `report-file` written, as the workflow names it.
    pub fn report_file(&self) -> Option<&str> {
        self.report_file.as_deref()
    }

    /// Names the `report-file` written, for the outputs and the summary.
    pub fn with_report_file(mut self, report_file: Option<String>) -> Self {
        self.report_file = report_file;
        self
    }

    fn with(&self, counted: Counted) -> impl Iterator<Item = &Entry<'a>> {
        self.entries.iter().filter(move |e| e.counted == counted)
    }

    fn count(&self, counted: Counted) -> usize {
        self.with(counted).count()
    }

    /// Versions that failed, and throw-away versions of `untag` left behind.
    pub fn failed_count(&self) -> usize {
        self.count(Counted::Failed) + self.leftovers.len()
    }

    /// `untag`: the versions that lost tags (or would), with those tags; a removal that
    /// failed part-way counts the tags it removed.
    fn untagged(&self) -> impl Iterator<Item = &Entry<'a>> {
        self.entries.iter().filter(|e| !e.removed.is_empty())
    }

    /// Packages that could not be worked on at all.
    pub fn problems(&self) -> impl Iterator<Item = &Package> {
        self.report.packages.iter().filter(|p| p.problem.is_some())
    }
}

/// Where a version is counted, from its verdict and what came of its request (or of its
/// removal of tags); its failure, and the tags it lost (or would, in a dry run).
fn counted<'a>(
    verdict: &'a Verdict,
    outcome: Option<&'a Outcome>,
    removal: Option<&'a UntagOutcome>,
    dry_run: bool,
) -> (Counted, Option<Failure<'a>>, &'a [String]) {
    match (verdict, outcome) {
        (Verdict::Untag(tags), _) => match removal {
            None if dry_run => (Counted::Untagged, None, tags),
            None => (Counted::Kept, None, &[]),
            Some(removal) if removal.failure == Some(Outcome::Cancelled) => {
                (Counted::Deferred, None, &[])
            }
            Some(removal) => match removal.failure.as_ref().and_then(Outcome::failure) {
                Some(failure) => (Counted::Failed, Some(failure), &removal.removed),
                None => (Counted::Untagged, None, &removal.removed),
            },
        },
        (Verdict::Keep(_), _) => (Counted::Kept, None, &[]),
        (Verdict::Defer(_), _) => (Counted::Deferred, None, &[]),
        (Verdict::Act(_), None) => (Counted::Changed, None, &[]),
        (Verdict::Act(_), Some(o)) if o.succeeded() => (Counted::Changed, None, &[]),
        (Verdict::Act(_), Some(Outcome::Deferred | Outcome::Cancelled)) => {
            (Counted::Deferred, None, &[])
        }
        (Verdict::Act(_), Some(outcome)) => match outcome.failure() {
            Some(failure) => (Counted::Failed, Some(failure), &[]),
            None => (Counted::Changed, None, &[]),
        },
    }
}

/// "selected by tags and older-than": the inputs that selected a version (it passed them all).
fn selected_by(inputs: &[&str]) -> String {
    match inputs {
        [] => "selected: no filter is given, so every version is".to_string(),
        [one] => format!("selected by {one}"),
        [first @ .., last] => format!("selected by {} and {last}", first.join(", ")),
    }
}

/// The verb of a version changed, as the log says it.
fn verb(mode: Mode, dry_run: bool) -> &'static str {
    match (mode, dry_run) {
        (Mode::Delete, false) => "delete",
        (Mode::Delete, true) => "would delete",
        (Mode::Restore, false) => "restore",
        (Mode::Restore, true) => "would restore",
    }
}

/// Appends `text` to the file at `path` (the runner's files are appended to, never replaced).
pub fn append(path: &str, text: &str) -> io::Result<()> {
    open_append(path)?.write_all(text.as_bytes())
}

fn open_append(path: &str) -> io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::selected_by;

    #[test]
    fn a_selected_version_names_the_inputs_that_selected_it() {
        assert_eq!(selected_by(&["tags"]), "selected by tags");
        assert_eq!(
            selected_by(&["tags", "older-than"]),
            "selected by tags and older-than"
        );
        assert_eq!(
            selected_by(&["version-ids", "tags", "semver"]),
            "selected by version-ids, tags and semver"
        );
        assert_eq!(
            selected_by(&[]),
            "selected: no filter is given, so every version is"
        );
    }
}
