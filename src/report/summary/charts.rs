//! The pictures: for each package the run changed (the first [`MAX_CHARTS`]), its versions by
//! age before and after the run, each in its own fold. A package the run left as it was gets
//! none.

use super::super::{chart, Counted, Tally};
use super::fold;
use crate::plan::Mode;
use crate::runner::markdown;
use std::fmt::Write as _;

/// Charts drawn at most: the first packages the run changed.
const MAX_CHARTS: usize = 20;

impl Tally<'_> {
    /// A folded chart per changed package.
    pub(super) fn charts(&self) -> String {
        let report = self.report;
        let state = match report.mode {
            Mode::Delete => "active",
            Mode::Restore => "deleted",
        };
        let mut out = String::new();
        let mut drawn = 0;
        let mut left_out = 0;
        for package in &report.packages {
            let mine = || {
                self.entries
                    .iter()
                    .filter(|e| std::ptr::eq(e.package, package) && e.decision.is_some())
            };
            let changed = mine().filter(|e| e.counted == Counted::Changed).count();
            if changed == 0 {
                continue;
            }
            if drawn == MAX_CHARTS {
                left_out += 1;
                continue;
            }
            let before = mine().map(|e| e.version.created_at);
            let remaining = mine()
                .filter(|e| e.counted != Counted::Changed)
                .map(|e| e.version.created_at);
            let (count_before, count_after) = (before.clone().count(), remaining.clone().count());
            let what = format!("{state} versions");
            if let Some(picture) = chart::versions_by_age(&what, before, remaining) {
                drawn += 1;
                // GitHub shows a fold's title as text: the name escaped, not in code.
                let title = format!(
                    "Chart of {}: {count_before} → {count_after} {state} versions",
                    markdown::text(&package.name)
                );
                out.push('\n');
                out.push_str(&fold(&title, &picture));
            }
        }
        if left_out > 0 {
            let _ = writeln!(
                out,
                "\n… and {left_out} more packages changed, not charted."
            );
        }
        out
    }
}
