//! The report file (`report-file`): the whole run as one JSON document, every version with
//! what came of it and why, however long the lists (the step outputs stop at 1,000,000 bytes).

use super::outputs::{leftover_json, version_json};
use super::{Counted, Entry, Tally};
use crate::plan::Mode;
use crate::runner::{hidden, redact};
use serde_json::json;
use std::io::{self, Write};
use std::path::Path;

impl Tally<'_> {
    /// Writes the report to `path` in `workspace`, creating its directory: through a temporary
    /// file beside it, renamed into place, so a reader never sees half a report.
    pub fn write_report_file(&self, path: &Path, workspace: &Path) -> io::Result<()> {
        crate::runner::files::write_atomically(path, workspace, |out| self.write_report(out))
    }

    /// The report: the run, its counts, a list per count (`deleted` or `restored`, `failed`,
    /// `kept`, `deferred`, `untagged`), the ids changed, the packages with their problems and warnings.
    fn write_report(&self, out: &mut impl Write) -> io::Result<()> {
        let report = self.report;
        let (changed, other) = match report.mode {
            Mode::Delete => ("deleted", "restored"),
            Mode::Restore => ("restored", "deleted"),
        };
        let header = json!({
            "mode": report.mode.as_str(),
            "dry_run": report.dry_run,
            "offline": report.offline,
            "counts": {
                changed: self.count(Counted::Changed),
                other: 0,
                "failed": self.failed_count(),
                "kept": self.count(Counted::Kept),
                "deferred": self.count(Counted::Deferred),
                "untagged": self.count(Counted::Untagged),
            },
            "bytes_freed": self.bytes_freed(),
        })
        .to_string();
        // The header without its closing brace; the lists follow, an entry at a time.
        out.write_all(&header.as_bytes()[..header.len() - 1])?;
        let lists = [
            (changed, Counted::Changed),
            ("failed", Counted::Failed),
            ("kept", Counted::Kept),
            ("deferred", Counted::Deferred),
            ("untagged", Counted::Untagged),
        ];
        for (key, counted) in lists {
            write!(out, ",\"{key}\":[")?;
            for (i, entry) in self.with(counted).enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                let value = hidden::json(&self.report_entry(entry));
                out.write_all(redact::clean(&value).as_bytes())?;
            }
            if counted == Counted::Failed {
                // `untag`: throw-away versions left behind, after the versions that failed.
                let failed = self.count(Counted::Failed);
                for (i, (package, leftover, tags)) in self.leftovers.iter().enumerate() {
                    if failed + i > 0 {
                        out.write_all(b",")?;
                    }
                    let mut value = leftover_json(package, leftover, tags);
                    value["owner"] = json!(package.owner());
                    let value = hidden::json(&value);
                    out.write_all(redact::clean(&value).as_bytes())?;
                }
            }
            out.write_all(b"]")?;
        }
        write!(out, ",\"{other}\":[],\"version_ids\":[")?;
        for (i, entry) in self.with(Counted::Changed).enumerate() {
            let comma = if i == 0 { "" } else { "," };
            write!(out, "{comma}{}", entry.version.id)?;
        }
        out.write_all(b"],\"packages\":[")?;
        self.write_packages(out)?;
        let warnings = hidden::json(&json!(report.warnings));
        write!(out, "],\"warnings\":{}}}", redact::clean(&warnings))?;
        out.write_all(b"\n")
    }

    /// The packages: where each lives, what it held, its storage, its problem and warnings.
    fn write_packages(&self, out: &mut impl Write) -> io::Result<()> {
        for (i, package) in self.report.packages.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            let value = json!({
                "owner": package.owner(),
                "package_type": package.package_type().as_str(),
                "name": package.name,
                "active_before": package.listing.active_before,
                "storage": self.storage(package).map(|s| json!({
                    "before": s.before,
                    "after": s.after,
                    "freed": s.freed,
                })),
                "problem": package.problem,
                "warnings": package.warnings,
            });
            let value = hidden::json(&value);
            out.write_all(redact::clean(&value).as_bytes())?;
        }
        Ok(())
    }

    /// One version of the report: as in the outputs, with its owner, the reason for its count and,
    /// for a failure, GitHub's status and message and the likely cause.
    fn report_entry(&self, entry: &Entry) -> serde_json::Value {
        let mut value = version_json(entry);
        value["owner"] = json!(entry.package.owner());
        value["reason"] = json!(entry.reason(self.report.mode));
        if let Some(failure) = entry.failure {
            value["status"] = json!(failure.status);
            value["message"] = json!(failure.message);
            value["cause"] = json!(failure.cause(self.report.mode));
        }
        value
    }
}
