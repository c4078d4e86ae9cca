//! The Undo block, after a delete: the ready workflow step that restores exactly the versions
//! deleted, their ids at most 10 to a line (`version-ids: |`); when the ids would not fit in the
//! summary, it names the report file and the `version-ids` output instead. Always whole.

use super::super::{Counted, Tally};
use crate::plan::Mode;
use crate::runner::markdown;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Ids on one line of the Undo block.
const IDS_PER_LINE: usize = 10;

/// The `uses:` of the Undo block when the runner does not say which action it ran.
pub const CANONICAL_ACTION: &str = "package-retention/package-retention@v1";

/// The Undo block's `uses:`: the action exactly as the runner ran it (a fork, a SHA, a branch),
/// from `GITHUB_ACTION_REPOSITORY` and `GITHUB_ACTION_REF` when both are given and look like an
/// `owner/name` and a ref; otherwise [`CANONICAL_ACTION`].
pub fn undo_action(repository: Option<&str>, git_ref: Option<&str>) -> String {
    let name_part = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    let repository = repository.map(str::trim).filter(|repository| {
        repository
            .split_once('/')
            .is_some_and(|(owner, name)| name_part(owner) && name_part(name))
    });
    let git_ref = git_ref.map(str::trim).filter(|git_ref| {
        git_ref
            .split('/')
            .all(|part| name_part(part) && !part.starts_with('-') && !part.contains(".."))
    });
    match (repository, git_ref) {
        (Some(repository), Some(git_ref)) => format!("{repository}@{git_ref}"),
        _ => CANONICAL_ACTION.to_string(),
    }
}

impl Tally<'_> {
    /// The ready workflow step that restores exactly the deleted versions.
    pub(super) fn undo(&self, action: &str, room: usize) -> String {
        let report = self.report;
        if report.mode != Mode::Delete || report.offline || self.count(Counted::Changed) == 0 {
            return String::new();
        }
        /// The deleted versions of one owner and package type: one restore step.
        #[derive(Default)]
        struct UndoStep {
            packages: Vec<String>,
            ids: Vec<u64>,
        }
        let mut groups: BTreeMap<(String, &str, &str), UndoStep> = BTreeMap::new();
        for entry in self.with(Counted::Changed) {
            let p = entry.package;
            let step = groups
                .entry((
                    p.owner().to_string(),
                    p.owner_type(),
                    p.package_type().as_str(),
                ))
                .or_default();
            if !step.packages.contains(&p.name) {
                step.packages.push(p.name.clone());
            }
            step.ids.push(entry.version.id);
        }
        let mut out = String::from("\n## Undo\n\nTo bring back exactly what this run deleted (GitHub restores within 30 days), run this step");
        out.push_str(if self.report.dry_run {
            " after the real run (these are the ids it would delete):\n\n"
        } else {
            ":\n\n"
        });
        let mut yaml = String::new();
        for ((owner, owner_type, package_type), UndoStep { packages, ids }) in &groups {
            // Names quoted (ids are digits and commas): a name cannot add a key or a line.
            let _ = write!(
                yaml,
                "- name: Undo package-retention\n  uses: {action}\n  with:\n    mode: restore\n    owner: {}\n    owner-type: {owner_type}\n    package-type: {package_type}\n    packages: {}\n    version-ids: |\n{}",
                markdown::yaml_string(owner),
                markdown::yaml_string(&packages.join(", ")),
                id_lines(ids),
            );
        }
        let fence = markdown::block_fence(&yaml);
        let _ = write!(out, "{fence}yaml\n{yaml}{fence}\n");
        out.push_str("\nThe `version-ids` output holds the same ids, for a later step: `version-ids: ${{ steps.<id>.outputs.version-ids }}`.\n");
        if out.len() > room {
            return "\n## Undo\n\nToo many versions to list here: pass this run's `version-ids` output (when `truncated` is false), or the `version_ids` of its report file (`report-file`, which holds them all), to a step with `mode: restore` and the same owner, package-type and packages.\n".to_string();
        }
        out
    }
}

/// `ids` as the lines of a YAML block scalar under `version-ids:`, at most [`IDS_PER_LINE`] a
/// line (the input takes commas and newlines alike).
fn id_lines(ids: &[u64]) -> String {
    let mut out = String::new();
    for line in ids.chunks(IDS_PER_LINE) {
        let line: Vec<String> = line.iter().map(u64::to_string).collect();
        let _ = writeln!(out, "      {}", line.join(", "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_ten_to_a_line() {
        let ids: Vec<u64> = (1..=23).collect();
        let lines = id_lines(&ids);
        assert_eq!(lines.lines().count(), 3);
        assert!(lines.starts_with("      1, 2, 3, 4, 5, 6, 7, 8, 9, 10\n      11, "));
        assert!(lines.ends_with("      21, 22, 23\n"));
    }

    #[test]
    fn undo_uses_the_action_as_the_runner_ran_it_else_the_canonical_name() {
        assert_eq!(
            undo_action(Some("me/package-retention-fork"), Some("main")),
            "me/package-retention-fork@main"
        );
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            undo_action(Some("package-retention/package-retention"), Some(sha)),
            format!("package-retention/package-retention@{sha}")
        );
        assert_eq!(
            undo_action(Some("acme/actions"), Some("release/v1.2")),
            "acme/actions@release/v1.2"
        );
        for (repository, git_ref) in [
            (None, Some("v1")),
            (Some("me/fork"), None),
            (Some(""), Some("v1")),
            (Some("me/fork"), Some("")),
            (Some("no-slash"), Some("v1")),
            (Some("me/fork"), Some("v1\n  with: {}")),
            (Some("me/fork x"), Some("v1")),
            (Some("me/fork"), Some("-v1")),
            (Some("me/fork"), Some("a/../b")),
            (Some("me/fork"), Some("v1 # comment")),
        ] {
            assert_eq!(
                undo_action(repository, git_ref),
                CANONICAL_ACTION,
                "{repository:?} {git_ref:?}"
            );
        }
    }
}
