//! The report file (`report-file`): the whole run as one JSON document, every version with
//! what came of it and why, however long the lists (the step outputs stop at 1,000,000 bytes).

use super::outputs::{leftover_json, version_json};
use super::{Entry, Fate, Tally};
use crate::run::execute::{likely_cause, Action};
use crate::runner::redact;
use serde_json::json;
use std::io::{self, Write};
use std::path::Path;

impl Tally<'_> {
    /// Writes the report to `path`, creating its directory: through a temporary file beside it,
    /// renamed into place, so a reader never sees half a report.
    pub fn write_report_file(&self, path: &Path) -> io::Result<()> {
        crate::runner::files::write_atomically(path, |out| self.write_report(out))
    }

    /// The report: the run, its counts, a list per fate (`deleted` or `restored`, `failed`,
    /// `kept`, `deferred`, `untagged`), the ids changed, the packages with their problems and warnings.
    fn write_report(&self, out: &mut impl Write) -> io::Result<()> {
        let report = self.report;
        let action = Action::of(report.mode);
        let (changed, other) = match action {
            Action::Delete => ("deleted", "restored"),
            Action::Restore => ("restored", "deleted"),
        };
        let header = json!({
            "mode": report.mode.as_str(),
            "dry_run": report.dry_run,
            "offline": report.offline,
            "counts": {
                changed: self.count(Fate::Changed),
                other: 0,
                "failed": self.failed_count(),
                "kept": self.count(Fate::Kept),
                "deferred": self.count(Fate::Deferred),
                "untagged": self.count(Fate::Untagged),
            },
        })
        .to_string();
        // The header without its closing brace; the lists follow, an entry at a time.
        out.write_all(&header.as_bytes()[..header.len() - 1])?;
        let lists = [
            (changed, Fate::Changed),
            ("failed", Fate::Failed),
            ("kept", Fate::Kept),
            ("deferred", Fate::Deferred),
            ("untagged", Fate::Untagged),
        ];
        for (key, fate) in lists {
            write!(out, ",\"{key}\":[")?;
            for (i, entry) in self.with(fate).enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                let value = self.report_entry(entry, action).to_string();
                out.write_all(redact::clean(&value).as_bytes())?;
            }
            if fate == Fate::Failed {
                // `untag`: throw-away versions left behind, after the versions that failed.
                let failed = self.count(Fate::Failed);
                for (i, (package, leftover, tags)) in self.leftovers.iter().enumerate() {
                    if failed + i > 0 {
                        out.write_all(b",")?;
                    }
                    let mut value = leftover_json(package, leftover, tags);
                    value["owner"] = json!(package.owner);
                    let value = value.to_string();
                    out.write_all(redact::clean(&value).as_bytes())?;
                }
            }
            out.write_all(b"]")?;
        }
        write!(out, ",\"{other}\":[],\"version_ids\":[")?;
        for (i, entry) in self.with(Fate::Changed).enumerate() {
            let comma = if i == 0 { "" } else { "," };
            write!(out, "{comma}{}", entry.version.id)?;
        }
        out.write_all(b"],\"packages\":[")?;
        for (i, package) in report.packages.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            let value = json!({
                "owner": package.owner,
                "package_type": package.package_type.as_str(),
                "name": package.name,
                "active_before": package.active_before,
                "problem": package.problem,
                "warnings": package.warnings,
            })
            .to_string();
            out.write_all(redact::clean(&value).as_bytes())?;
        }
        let warnings = json!(report.warnings).to_string();
        write!(out, "],\"warnings\":{}}}", redact::clean(&warnings))?;
        out.write_all(b"\n")
    }

    /// One version of the report: as in the outputs, with its owner, the reason for its fate and,
    /// for a failure, GitHub's status and message and the likely cause.
    fn report_entry(&self, entry: &Entry, action: Action) -> serde_json::Value {
        let mut value = version_json(entry);
        value["owner"] = json!(entry.package.owner);
        value["reason"] = json!(entry.reason(self.report.mode));
        if let Some((status, message)) = entry.failure {
            value["status"] = json!(status);
            value["message"] = json!(message);
            value["cause"] = json!(likely_cause(action, status, message));
        }
        value
    }
}
