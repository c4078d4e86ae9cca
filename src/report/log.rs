//! The log: a folded group per package with a line per version (long lists cut), then the
//! warning and error annotations and the request counts, all written through `commands`.

use super::{verb, Counted, Tally};
use crate::outcome::Package;
use crate::plan::{label, short_name};
use crate::runner::commands::{Log, TITLE};
use std::sync::atomic::{AtomicUsize, Ordering};

impl Tally<'_> {
    /// The log of the run.
    pub fn log(&self) -> Log {
        let mut log = Log::new();
        for note in &self.report.notes {
            log.line(note);
        }
        for package in &self.report.packages {
            self.log_package(&mut log, package);
        }
        for warning in &self.report.warnings {
            log.warning(TITLE, warning);
        }
        self.log_failures(&mut log);
        self.log_counts(&mut log);
        log
    }

    /// A package: a folded group with a line per version (long lists cut), then its warnings
    /// and its problem.
    fn log_package(&self, log: &mut Log, package: &Package) {
        let cap = if self.report.offline {
            usize::MAX
        } else {
            1000
        };
        let verb = verb(self.report.mode, self.report.dry_run);
        let owner = if package.owner().is_empty() {
            String::new()
        } else {
            format!(" of {}", package.owner())
        };
        log.group(&format!(
            "{} {}{owner}",
            package.package_type(),
            package.name
        ));
        log.verbatim(|log| {
            let entries = self
                .entries
                .iter()
                .filter(|e| std::ptr::eq(e.package, package));
            let mut shown = 0;
            let mut hidden = 0;
            for entry in entries {
                if shown >= cap {
                    hidden += 1;
                    continue;
                }
                shown += 1;
                let action = match entry.counted {
                    Counted::Changed => verb,
                    Counted::Failed => "FAILED",
                    Counted::Deferred => "defer",
                    Counted::Kept => "keep",
                    Counted::Untagged if self.report.dry_run => "would untag",
                    Counted::Untagged => "untag",
                };
                let reason = entry.shown_reason(self.report.mode, self.report.dry_run);
                log.line(&format!(
                    "{action:<14} {:>12}  {:<24} {:<30} {reason}",
                    entry.version.id,
                    short_name(&entry.version.name),
                    entry.version.tags.join(","),
                ));
            }
            if hidden > 0 {
                log.line(&format!(
                    "… and {hidden} more (`report-file` lists every version)"
                ));
            }
        });
        log.end_group();
        for warning in &package.warnings {
            log.warning(TITLE, warning);
        }
        if let Some(problem) = &package.problem {
            log.error(
                TITLE,
                &format!(
                    "{} package {} of {}: {problem}",
                    package.package_type(),
                    package.name,
                    package.owner()
                ),
            );
        }
    }

    /// An error annotation per version that failed and per throw-away version left behind.
    fn log_failures(&self, log: &mut Log) {
        for entry in self.with(Counted::Failed) {
            let failure = entry.failure();
            log.error(
                TITLE,
                &format!(
                    "{} {} version {} ({}): {} {}: {}",
                    self.report.mode.as_str(),
                    entry.package.name,
                    entry.version.id,
                    label(entry.version),
                    failure.status.map(|s| s.to_string()).unwrap_or_default(),
                    failure.message,
                    failure.cause(self.report.mode)
                ),
            );
        }
        for (package, leftover, tags) in &self.leftovers {
            log.error(
                TITLE,
                &format!(
                    "{} package {}: {}",
                    package.package_type(),
                    package.name,
                    leftover.describe(tags)
                ),
            );
        }
    }

    /// The requests sent, and the manifests read.
    fn log_counts(&self, log: &mut Log) {
        let c = &self.report.counters;
        let load = |n: &AtomicUsize| n.load(Ordering::Relaxed);
        if !self.report.offline {
            log.line(&format!(
                "Requests: {} GET, {} DELETE, {} POST, {} registry; {} rate-limit answers waited out, {} retries",
                load(&c.get),
                load(&c.delete),
                load(&c.post),
                load(&c.registry),
                load(&c.rate_limited),
                load(&c.retried)
            ));
        }
        if let Some((read, from_cache)) = self.report.manifests {
            log.line(&format!(
                "Container manifests: {read} read, {from_cache} from cache"
            ));
        }
    }

    /// Every id changed, all of them, per package (for when the outputs could not be written).
    pub fn changed_ids_log(&self) -> Log {
        let mut log = Log::new();
        let changed = match (self.report.mode, self.report.dry_run) {
            (crate::plan::Mode::Delete, false) => "deleted",
            (crate::plan::Mode::Delete, true) => "that would be deleted",
            (crate::plan::Mode::Restore, false) => "restored",
            (crate::plan::Mode::Restore, true) => "that would be restored",
        };
        for package in &self.report.packages {
            let ids: Vec<String> = self
                .with(Counted::Changed)
                .filter(|e| std::ptr::eq(e.package, package))
                .map(|e| e.version.id.to_string())
                .collect();
            if ids.is_empty() {
                continue;
            }
            log.line(&format!(
                "Version ids {changed} in {} {} of {} ({}):",
                package.package_type(),
                package.name,
                package.owner(),
                ids.len()
            ));
            for chunk in ids.chunks(100) {
                log.line(&chunk.join(","));
            }
        }
        log
    }
}
