//! The failures, right under the headline and before any table: a `> [!CAUTION]` block with
//! how many failed, grouped by their likely cause and its fix, and the packages the run could
//! not work on. The failed versions themselves are listed with the other lists.

use super::super::{Counted, Entry, Tally};
use super::plural;
use crate::runner::markdown;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Packages named in one line of the block before the rest are counted.
const NAMED: usize = 5;
/// The longest problem text shown (the report file has it whole).
const PROBLEM_CHARS: usize = 400;

impl Tally<'_> {
    /// The CAUTION block, or nothing when nothing failed.
    pub(super) fn caution(&self) -> String {
        let failed = self.failed_count();
        let problems: Vec<_> = self.problems().collect();
        if failed == 0 && problems.is_empty() {
            return String::new();
        }
        let mut out = String::from("> [!CAUTION]\n");
        if failed > 0 {
            let _ = writeln!(out, "> **{} failed.**", plural(failed, "version"));
        }
        for (cause, packages) in self.failures_by_cause() {
            let count: usize = packages.values().sum();
            let names: Vec<String> = packages
                .keys()
                .take(NAMED)
                .map(|n| markdown::code(n))
                .collect();
            let more = packages.len().saturating_sub(NAMED);
            let _ = writeln!(
                out,
                "> - {count} in {}{}: {cause}",
                names.join(", "),
                if more > 0 {
                    format!(" and {more} more packages")
                } else {
                    String::new()
                },
            );
        }
        if !self.leftovers.is_empty() {
            let _ = writeln!(
                out,
                "> - {} of `untag` left behind: delete {} by hand (listed below)",
                plural(self.leftovers.len(), "throw-away version"),
                if self.leftovers.len() == 1 {
                    "it"
                } else {
                    "them"
                }
            );
        }
        for package in problems {
            let problem: String = package
                .problem
                .as_deref()
                .unwrap_or_default()
                .chars()
                .take(PROBLEM_CHARS)
                .collect();
            let _ = writeln!(
                out,
                "> - {} ({}) could not be worked on: {}",
                markdown::code(&package.name),
                package.package_type(),
                markdown::text(&problem)
            );
        }
        out.push('\n');
        out
    }

    /// The failed versions by likely cause, then by package name, counted.
    fn failures_by_cause(&self) -> BTreeMap<&'static str, BTreeMap<&str, usize>> {
        let mut causes: BTreeMap<&'static str, BTreeMap<&str, usize>> = BTreeMap::new();
        for entry in self.with(Counted::Failed) {
            *causes
                .entry(self.cause_of(entry))
                .or_default()
                .entry(entry.package.name.as_str())
                .or_default() += 1;
        }
        causes
    }

    /// The likely cause of a failed version, and its fix (an `untag` step names its own).
    pub(super) fn cause_of(&self, entry: &Entry) -> &'static str {
        entry.failure().cause(self.report.mode)
    }
}
