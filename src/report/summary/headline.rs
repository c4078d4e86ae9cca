//! The title (the mode, and DRY RUN) and the one headline line with the run's totals:
//! versions deleted or restored, tags removed, failed, deferred, bytes freed, packages.

use super::super::storage::binary;
use super::super::{Counted, Tally};
use super::plural;
use crate::model::PackageType;
use crate::plan::Mode;

impl Tally<'_> {
    /// `# package-retention: delete` (with DRY RUN and its note), then the headline.
    pub(super) fn headline(&self) -> String {
        let report = self.report;
        let dry_run = report.dry_run;
        let mut out = format!(
            "# package-retention: {}{}\n\n",
            report.mode.as_str(),
            if dry_run { " (DRY RUN)" } else { "" }
        );
        if dry_run {
            out.push_str("> [!NOTE]\n> **DRY RUN**: nothing was changed. This is what a real run would do.\n\n");
        }
        let would = if dry_run { "would be " } else { "" };
        let changed = match report.mode {
            Mode::Delete => "deleted",
            Mode::Restore => "restored",
        };
        let tags: usize = self.untagged().map(|e| e.removed.len()).sum();
        let mut parts = vec![
            format!(
                "**{} {would}{changed}**",
                plural(self.count(Counted::Changed), "version")
            ),
            format!("{} {would}removed", plural(tags, "tag")),
            match self.failed_count() {
                0 => "0 failed".to_string(),
                failed => format!("**{failed} failed**"),
            },
            format!("{} deferred", self.count(Counted::Deferred)),
        ];
        let containers = report
            .packages
            .iter()
            .any(|p| p.package_type() == PackageType::Container);
        if containers && report.mode == Mode::Delete {
            parts.push(format!("{} {would}freed", binary(self.bytes_freed())));
        }
        parts.push(plural(report.packages.len(), "package"));
        out.push_str(&parts.join(" · "));
        out.push_str("\n\n");
        out
    }
}
