//! Telling what happened: the step outputs (`GITHUB_OUTPUT`, heredocs with a random delimiter),
//! the job summary (`GITHUB_STEP_SUMMARY`, Markdown under 1 MiB with an Undo block after a
//! delete), and the log (a `::group::` per package, `::error::`/`::warning::` annotations).
//! Without those files (on a laptop), outputs and summary are printed.

use crate::execute::{likely_cause, Action, Outcome};
use crate::model::{format_timestamp, Timestamp, Version};
use crate::plan::{label, short_name, Decision, Mode, Verdict};
use crate::run::{PackageAction, PackageResult, RunReport};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

/// What a version came to, for the outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    /// Deleted or restored (or would be, in a dry run).
    Changed,
    Failed,
    Deferred,
    Kept,
}

/// One version with what came of it. The reason is worded only when it is shown.
struct Entry<'a> {
    package: &'a PackageResult,
    version: &'a Version,
    fate: Fate,
    failure: Option<(Option<u16>, &'a str)>,
    /// `None`: the version came back with its package.
    decision: Option<&'a Decision>,
    whole_package: bool,
    already_gone: bool,
}

impl Entry<'_> {
    fn reason(&self, mode: Mode) -> String {
        let Some(decision) = self.decision else {
            return "came back with its package".into();
        };
        let mut reason = decision.verdict.describe(mode);
        if self.whole_package {
            reason.push_str("; the whole package is deleted (delete-empty-package)");
        }
        if self.already_gone {
            reason.push_str("; it was already gone (404)");
        }
        reason
    }

    fn went_with_parent(&self) -> bool {
        self.fate == Fate::Changed
            && self.decision.is_some_and(|d| {
                matches!(
                    d.verdict,
                    Verdict::Act(crate::plan::ActReason::WithParent { .. })
                )
            })
    }

    fn failure(&self) -> (Option<u16>, String) {
        self.failure
            .map(|(status, message)| (status, message.to_string()))
            .unwrap_or_default()
    }
}

/// The counts and lists behind the outputs and the summary.
pub struct Tally<'a> {
    report: &'a RunReport,
    entries: Vec<Entry<'a>>,
}

impl<'a> Tally<'a> {
    pub fn new(report: &'a RunReport) -> Tally<'a> {
        let mut entries = Vec::new();
        for package in &report.packages {
            for version in &package.restored_with_package {
                entries.push(Entry {
                    package,
                    version,
                    fate: Fate::Changed,
                    failure: None,
                    decision: None,
                    whole_package: false,
                    already_gone: false,
                });
            }
            let Some(plan) = &package.plan else { continue };
            let package_outcome = match &package.package_action {
                Some((PackageAction::Delete, outcome)) => Some(outcome.as_ref()),
                _ => None,
            };
            for (i, (version, decision)) in plan.versions.iter().zip(&plan.decisions).enumerate() {
                let outcome = match package_outcome {
                    Some(outcome) => outcome,
                    None => package.outcomes.get(i).and_then(Option::as_ref),
                };
                let (fate, failure) = match (&decision.verdict, outcome) {
                    (Verdict::Keep(_), _) => (Fate::Kept, None),
                    (Verdict::Defer(_), _) => (Fate::Deferred, None),
                    (Verdict::Act(_), None) => (Fate::Changed, None),
                    (Verdict::Act(_), Some(o)) if o.succeeded() => (Fate::Changed, None),
                    (Verdict::Act(_), Some(Outcome::Deferred)) => (Fate::Deferred, None),
                    (Verdict::Act(_), Some(Outcome::Failed { status, message })) => {
                        (Fate::Failed, Some((*status, message.as_str())))
                    }
                    (Verdict::Act(_), Some(_)) => (Fate::Changed, None),
                };
                entries.push(Entry {
                    package,
                    version,
                    fate,
                    failure,
                    decision: Some(decision),
                    whole_package: package_outcome.is_some() && decision.verdict.is_act(),
                    already_gone: outcome == Some(&Outcome::AlreadyGone),
                });
            }
        }
        Tally { report, entries }
    }

    fn with(&self, fate: Fate) -> impl Iterator<Item = &Entry<'a>> {
        self.entries.iter().filter(move |e| e.fate == fate)
    }

    fn count(&self, fate: Fate) -> usize {
        self.with(fate).count()
    }

    pub fn failed_count(&self) -> usize {
        self.count(Fate::Failed)
    }

    /// Packages that could not be worked on at all.
    pub fn problems(&self) -> impl Iterator<Item = &PackageResult> {
        self.report.packages.iter().filter(|p| p.problem.is_some())
    }

    /// Writes every output of the action, in `action.yml`'s order, straight to `out`: as
    /// `GITHUB_OUTPUT` heredocs with a random delimiter, or as `name=value` lines to print. The
    /// JSON lists go out an entry at a time (at 100,000 versions they are megabytes).
    pub fn write_outputs(&self, out: &mut impl Write, heredoc: bool) -> io::Result<()> {
        let (deleted, restored) = match self.report.mode {
            Mode::Delete => (Some(Fate::Changed), None),
            Mode::Restore => (None, Some(Fate::Changed)),
        };
        let count = |fate: Option<Fate>| fate.map_or(0, |fate| self.count(fate));
        let numbers = [
            ("deleted-count", count(deleted)),
            ("restored-count", count(restored)),
            ("failed-count", self.count(Fate::Failed)),
            ("kept-count", self.count(Fate::Kept)),
            ("deferred-count", self.count(Fate::Deferred)),
        ];
        for (name, number) in numbers {
            output(out, heredoc, name, |w| write!(w, "{number}"))?;
        }
        output(out, heredoc, "deleted", |w| self.write_json(w, deleted))?;
        output(out, heredoc, "restored", |w| self.write_json(w, restored))?;
        output(out, heredoc, "failed", |w| {
            self.write_json(w, Some(Fate::Failed))
        })?;
        output(out, heredoc, "version-ids", |w| {
            for (i, entry) in self.with(Fate::Changed).enumerate() {
                let comma = if i == 0 { "" } else { "," };
                write!(w, "{comma}{}", entry.version.id)?;
            }
            Ok(())
        })
    }

    /// A JSON array of the versions that came to `fate` (failures with status and message).
    fn write_json(&self, w: &mut dyn Write, fate: Option<Fate>) -> io::Result<()> {
        w.write_all(b"[")?;
        for (i, entry) in fate
            .into_iter()
            .flat_map(|fate| self.with(fate))
            .enumerate()
        {
            if i > 0 {
                w.write_all(b",")?;
            }
            let mut value = version_json(entry);
            if let Some((status, message)) = entry.failure {
                value["status"] = json!(status);
                value["message"] = json!(message);
            }
            serde_json::to_writer(&mut *w, &value)?;
        }
        w.write_all(b"]")
    }

    /// The log: a group per package with a line per version (long lists cut), and annotations.
    pub fn log(&self) -> String {
        let mut out = String::new();
        let cap = if self.report.offline {
            usize::MAX
        } else {
            1000
        };
        let verb = verb(self.report.mode, self.report.dry_run);
        for package in &self.report.packages {
            let _ = writeln!(
                out,
                "::group::{} {}{}",
                package.package_type,
                package.name,
                if package.owner.is_empty() {
                    String::new()
                } else {
                    format!(" of {}", package.owner)
                }
            );
            let mut shown = 0;
            let entries = self
                .entries
                .iter()
                .filter(|e| std::ptr::eq(e.package, package));
            let mut hidden = 0;
            for entry in entries {
                if shown >= cap {
                    hidden += 1;
                    continue;
                }
                shown += 1;
                let action = match entry.fate {
                    Fate::Changed => verb,
                    Fate::Failed => "FAILED",
                    Fate::Deferred => "defer",
                    Fate::Kept => "keep",
                };
                let _ = writeln!(
                    out,
                    "{action:<14} {:>12}  {:<24} {:<30} {}",
                    entry.version.id,
                    short_name(&entry.version.name),
                    entry.version.tags.join(","),
                    entry.reason(self.report.mode)
                );
            }
            if hidden > 0 {
                let _ = writeln!(
                    out,
                    "… and {hidden} more (the outputs list every version changed)"
                );
            }
            let _ = writeln!(out, "::endgroup::");
            for warning in &package.warnings {
                let _ = writeln!(
                    out,
                    "::warning title=package-retention::{}",
                    escape(warning)
                );
            }
            if let Some(problem) = &package.problem {
                let _ = writeln!(
                    out,
                    "::error title=package-retention::{} package {} of {}: {}",
                    package.package_type,
                    package.name,
                    package.owner,
                    escape(problem)
                );
            }
        }
        for warning in &self.report.warnings {
            let _ = writeln!(
                out,
                "::warning title=package-retention::{}",
                escape(warning)
            );
        }
        for entry in self.with(Fate::Failed) {
            let (status, message) = entry.failure();
            let _ = writeln!(
                out,
                "::error title=package-retention::{} {} version {} ({}): {} {}: {}",
                self.report.mode.as_str(),
                entry.package.name,
                entry.version.id,
                label(entry.version),
                status.map(|s| s.to_string()).unwrap_or_default(),
                escape(&message),
                likely_cause(Action::of(self.report.mode), status, &message)
            );
        }
        let c = &self.report.counters;
        let load =
            |n: &std::sync::atomic::AtomicUsize| n.load(std::sync::atomic::Ordering::Relaxed);
        if !self.report.offline {
            let _ = writeln!(
                out,
                "Requests: {} GET, {} DELETE, {} POST, {} registry; {} rate-limit answers waited out, {} retries",
                load(&c.get),
                load(&c.delete),
                load(&c.post),
                load(&c.registry),
                load(&c.rate_limited),
                load(&c.retried)
            );
        }
        out
    }

    /// The job summary.
    pub fn summary(&self, now: Timestamp) -> String {
        const LIMIT: usize = 1024 * 1024 - 4096;
        let report = self.report;
        let mut out = String::new();
        let mode = report.mode.as_str();
        let _ = writeln!(out, "# package-retention: {mode}\n");
        if report.dry_run {
            let _ = writeln!(
                out,
                "> [!NOTE]\n> **DRY RUN**: nothing was changed. This is what a real run would do.\n"
            );
        }
        let changed_word = match report.mode {
            Mode::Delete => "deleted",
            Mode::Restore => "restored",
        };
        let _ = writeln!(
            out,
            "| package | type | active before | selected | kept (why) | {changed_word} | failed | deferred | active after |\n|---|---|---:|---:|---|---:|---:|---:|---:|"
        );
        for package in &report.packages {
            let mine = |fate: Fate| {
                self.entries
                    .iter()
                    .filter(|e| std::ptr::eq(e.package, package) && e.fate == fate)
                    .count()
            };
            let selected = package
                .plan
                .as_ref()
                .map(|p| p.decisions.iter().filter(|d| d.selected).count())
                .unwrap_or(0);
            let mut why: BTreeMap<&str, usize> = BTreeMap::new();
            if let Some(plan) = &package.plan {
                for decision in &plan.decisions {
                    if let Verdict::Keep(reason) = &decision.verdict {
                        *why.entry(reason.kind()).or_default() += 1;
                    }
                }
            }
            let kept = mine(Fate::Kept);
            let why: Vec<String> = why.iter().map(|(k, n)| format!("{n} {k}")).collect();
            let changed = mine(Fate::Changed);
            let after = package.active_before.map(|before| match report.mode {
                Mode::Delete => before.saturating_sub(changed).to_string(),
                Mode::Restore => (before + changed).to_string(),
            });
            let status = if package.problem.is_some() {
                " ⚠️"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "| `{}`{status} | {} | {} | {selected} | {kept}{} | {changed} | {} | {} | {} |",
                package.name,
                package.package_type,
                package
                    .active_before
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "?".into()),
                if why.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", why.join(", "))
                },
                mine(Fate::Failed),
                mine(Fate::Deferred),
                after.unwrap_or_else(|| "?".into()),
            );
        }
        let mut images = String::new();
        for package in &report.packages {
            let Some(plan) = &package.plan else { continue };
            let needed = plan
                .count(|v| matches!(v, Verdict::Keep(crate::plan::KeepReason::NeededBy { .. })));
            let with_parent = self
                .entries
                .iter()
                .filter(|e| std::ptr::eq(e.package, package) && e.went_with_parent())
                .count();
            if needed + with_parent > 0 {
                let _ = writeln!(
                    images,
                    "- `{}`: {needed} versions kept because a kept image needs them; {with_parent} {} with their parent image",
                    package.name,
                    if report.dry_run { "would go" } else { "went" }
                );
            }
        }
        if !images.is_empty() {
            let _ = write!(out, "\nContainer images:\n{images}");
        }
        let deferred = self.count(Fate::Deferred);
        if deferred > 0 {
            let _ = writeln!(
                out,
                "\n**{deferred} versions deferred** (max-deletions or the rate-limit budget{}): the next run continues with them, oldest first.",
                report
                    .budget_remaining
                    .map(|r| format!("; {r} requests were left when writing began"))
                    .unwrap_or_default()
            );
        }
        for package in &report.packages {
            if let Some((PackageAction::Restore, outcome)) = &package.package_action {
                let what = match outcome {
                    None => {
                        "would be restored first (a dry run cannot list its versions)".to_string()
                    }
                    Some(Outcome::Done) => format!(
                        "was restored; {} versions came back with it",
                        package.restored_with_package.len()
                    ),
                    Some(other) => format!("could not be restored: {other:?}"),
                };
                let _ = writeln!(out, "\nPackage `{}` {what}.", package.name);
            }
        }

        let problems: Vec<&PackageResult> = self.problems().collect();
        let failures: Vec<&Entry> = self.with(Fate::Failed).collect();
        if !problems.is_empty() || !failures.is_empty() {
            let _ = writeln!(out, "\n## Failures\n");
            for package in problems {
                let _ = writeln!(
                    out,
                    "- `{}` ({}): {}",
                    package.name,
                    package.package_type,
                    package.problem.as_deref().unwrap_or_default()
                );
            }
            if !failures.is_empty() {
                let mut table = String::from(
                    "| package | id | version | status | GitHub's message | likely cause |\n|---|---:|---|---:|---|---|\n",
                );
                for entry in &failures {
                    let (status, message) = entry.failure();
                    let _ = writeln!(
                        table,
                        "| `{}` | {} | {} | {} | {} | {} |",
                        entry.package.name,
                        entry.version.id,
                        cell(&label(entry.version)),
                        status.map(|s| s.to_string()).unwrap_or_else(|| "–".into()),
                        cell(&message),
                        likely_cause(Action::of(report.mode), status, &message)
                    );
                }
                fold(
                    &mut out,
                    &format!("{} failed", failures.len()),
                    &table,
                    failures.len() > 20,
                );
            }
        }

        let changed: Vec<&Entry> = self.with(Fate::Changed).collect();
        if !changed.is_empty() {
            let title = format!(
                "{} versions {}{}",
                changed.len(),
                if report.dry_run { "would be " } else { "" },
                match report.mode {
                    Mode::Delete => "deleted",
                    Mode::Restore => "restored",
                }
            );
            let _ = writeln!(out, "\n## {title}\n");
            let mut table = String::from(
                "| package | id | version | tags | age | link |\n|---|---:|---|---|---:|---|\n",
            );
            let room = LIMIT.saturating_sub(out.len()) / 2;
            let mut cut = 0;
            for entry in &changed {
                if table.len() > room {
                    cut += 1;
                    continue;
                }
                let link = entry
                    .version
                    .link()
                    .map(|url| format!("[view]({url})"))
                    .unwrap_or_default();
                let _ = writeln!(
                    table,
                    "| `{}` | {} | {} | {} | {} | {link} |",
                    entry.package.name,
                    entry.version.id,
                    cell(&short_name(&entry.version.name)),
                    cell(&entry.version.tags.join(", ")),
                    age(now - entry.version.created_at),
                );
            }
            if cut > 0 {
                let _ = writeln!(
                    table,
                    "\n… and {cut} more: the `{}` output lists them all.",
                    if report.mode == Mode::Delete {
                        "deleted"
                    } else {
                        "restored"
                    }
                );
            }
            fold(&mut out, &title, &table, changed.len() > 20);
        }

        let warnings: Vec<&String> = report
            .warnings
            .iter()
            .chain(report.packages.iter().flat_map(|p| &p.warnings))
            .collect();
        if !warnings.is_empty() {
            let _ = writeln!(out, "\n## Warnings\n");
            for warning in warnings {
                let _ = writeln!(out, "- {}", cell(warning));
            }
        }

        if report.mode == Mode::Delete && !changed.is_empty() && !report.offline {
            out.push_str(&self.undo(LIMIT.saturating_sub(out.len())));
        }
        out
    }

    /// The ready workflow step that restores exactly the deleted versions.
    fn undo(&self, room: usize) -> String {
        /// The deleted versions of one owner and package type: one restore step.
        #[derive(Default)]
        struct UndoStep {
            packages: Vec<String>,
            ids: String,
        }
        let mut groups: BTreeMap<(String, &str, &str), UndoStep> = BTreeMap::new();
        for entry in self.with(Fate::Changed) {
            let p = entry.package;
            let step = groups
                .entry((p.owner.clone(), p.owner_type, p.package_type.as_str()))
                .or_default();
            if !step.packages.contains(&p.name) {
                step.packages.push(p.name.clone());
            }
            let comma = if step.ids.is_empty() { "" } else { "," };
            let _ = write!(step.ids, "{comma}{}", entry.version.id);
        }
        let mut out = String::from("\n## Undo\n\nTo bring back exactly what this run deleted (GitHub restores within 30 days), run this step");
        out.push_str(if self.report.dry_run {
            " after the real run (these are the ids it would delete):\n\n"
        } else {
            ":\n\n"
        });
        out.push_str("```yaml\n");
        for ((owner, owner_type, package_type), UndoStep { packages, ids }) in &groups {
            let _ = write!(
                out,
                "- name: Undo package-retention\n  uses: package-retention/package-retention@v1\n  with:\n    mode: restore\n    owner: {owner}\n    owner-type: {owner_type}\n    package-type: {package_type}\n    packages: {}\n    version-ids: {}\n",
                packages.join(", "),
                ids
            );
        }
        out.push_str("```\n\nThe `version-ids` output holds the same ids, for a later step: `version-ids: ${{ steps.<id>.outputs.version-ids }}`.\n");
        if out.len() > room {
            return "\n## Undo\n\nToo many versions to list here: pass this run's `version-ids` output to a step with `mode: restore` and the same owner, package-type and packages.\n".to_string();
        }
        out
    }
}

fn version_json(entry: &Entry) -> Value {
    json!({
        "package": entry.package.name,
        "package_type": entry.package.package_type.as_str(),
        "id": entry.version.id,
        "name": entry.version.name,
        "tags": entry.version.tags,
        "created_at": format_timestamp(entry.version.created_at),
        "updated_at": format_timestamp(entry.version.updated_at),
    })
}

fn verb(mode: Mode, dry_run: bool) -> &'static str {
    match (mode, dry_run) {
        (Mode::Delete, false) => "delete",
        (Mode::Delete, true) => "would delete",
        (Mode::Restore, false) => "restore",
        (Mode::Restore, true) => "would restore",
    }
}

fn age(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        s if s < 3_600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3_600),
        s => format!("{}d", s / 86_400),
    }
}

/// Text safe in a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Text safe in a workflow command (`::error::…`).
fn escape(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn fold(out: &mut String, title: &str, body: &str, folded: bool) {
    if folded {
        let _ = write!(
            out,
            "<details><summary>{title}</summary>\n\n{body}\n</details>\n"
        );
    } else {
        out.push_str(body);
    }
}

/// One output: a heredoc with a delimiter no value can predict, or a `name=value` line.
fn output(
    out: &mut impl Write,
    heredoc: bool,
    name: &str,
    value: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    if heredoc {
        let delimiter = format!(
            "ghadelimiter_{}{}",
            crate::client::random_hex(),
            crate::client::random_hex()
        );
        writeln!(out, "{name}<<{delimiter}")?;
        value(out)?;
        write!(out, "\n{delimiter}\n")
    } else {
        write!(out, "{name}=")?;
        value(out)?;
        writeln!(out)
    }
}

pub fn append(path: &str, text: &str) -> io::Result<()> {
    open_append(path)?.write_all(text.as_bytes())
}

fn open_append(path: &str) -> io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

impl Tally<'_> {
    /// The outputs to `GITHUB_OUTPUT` when the runner gives one, else printed.
    pub fn emit_outputs(&self, github_output: Option<&str>) -> io::Result<()> {
        match github_output {
            Some(path) => {
                let mut file = io::BufWriter::new(open_append(path)?);
                self.write_outputs(&mut file, true)?;
                file.flush()
            }
            None => {
                let mut stdout = io::BufWriter::new(io::stdout().lock());
                writeln!(stdout, "\nOutputs:")?;
                self.write_outputs(&mut stdout, false)?;
                stdout.flush()
            }
        }
    }
}
