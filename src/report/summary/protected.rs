//! The list of the versions the repository kept (an open pull request, a live branch, a file that
//! references them), each with its reason, folded when long and cut to its room.

use super::super::{Counted, Tally};
use super::{fold, plural};
use crate::plan::{short_name, KeepReason, Verdict};
use crate::runner::markdown;
use std::fmt::Write as _;

/// Rows shown unfolded; a longer list folds.
const UNFOLDED: usize = 20;

impl Tally<'_> {
    /// `**N versions kept for the repository**` and their table, in at most about `room` bytes, or nothing when the
    /// repository kept nothing.
    pub(super) fn protected_list(&self, room: usize) -> String {
        let kept: Vec<_> = self
            .entries
            .iter()
            .filter(|e| e.counted == Counted::Kept)
            .filter_map(|e| match e.decision.map(|d| &d.verdict) {
                Some(Verdict::Keep(KeepReason::Protected(protection))) => Some((e, protection)),
                _ => None,
            })
            .collect();
        if kept.is_empty() {
            return String::new();
        }
        let mut table = String::from("| package | version | tags | why |\n|---|---|---|---|\n");
        let mut cut = 0;
        for (entry, protection) in &kept {
            if table.len() > room {
                cut += 1;
                continue;
            }
            let _ = writeln!(
                table,
                "| {} | {} | {} | {} |",
                markdown::code(&entry.package.name),
                markdown::code(&short_name(&entry.version.name)),
                markdown::code(&entry.version.tags.join(", ")),
                markdown::text(&protection.reason),
            );
        }
        if cut > 0 {
            let _ = writeln!(
                table,
                "\n… and {cut} more: the report file lists every version kept and why."
            );
        }
        let title = format!("{} kept for the repository", plural(kept.len(), "version"));
        let body = if kept.len() > UNFOLDED {
            fold(&title, &table)
        } else {
            table
        };
        format!("\n**{title}**\n\n{body}")
    }
}
