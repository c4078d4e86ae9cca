//! The lists: the versions that failed, were deleted or restored (id, version or short digest,
//! tags, age, why, link), folded when long; deferred versions; container notes (ghosts, images
//! kept or gone whole, broken images); tags removed with their `crane tag` lines; throw-away
//! versions left behind; warnings. Cut first when the summary would pass its limit: each list
//! that does not fit says where the whole of it is.

use super::super::{Counted, Entry, Tally};
use super::{age, fold, plural, SummaryContext};
use crate::outcome::{Outcome, Package};
use crate::plan::{label, short_name, Mode, Verdict};
use crate::runner::commands::first_of;
use crate::runner::markdown;
use std::fmt::Write as _;

/// Rows of a list shown unfolded; longer lists fold.
const UNFOLDED: usize = 20;
/// Ghosts and broken images listed per package before the rest are counted.
const LISTED: usize = 20;
/// Warnings listed, and the characters shown of each (the log has them whole).
const WARNINGS: usize = 50;
const WARNING_CHARS: usize = 1_000;

/// `body` folded under `title` when `folded`, else `body`.
fn fold_when(folded: bool, title: &str, body: &str) -> String {
    if folded {
        fold(title, body)
    } else {
        body.to_string()
    }
}

impl Tally<'_> {
    /// Every list, in order, in at most `room` bytes: the version list takes what the others
    /// leave, and a list that does not fit is replaced by a line saying where it is whole.
    pub(super) fn lists(&self, context: &SummaryContext, room: usize) -> String {
        let mut parts = [
            self.failed_list(context),
            String::new(),
            self.notes(),
            self.broken_images(),
            self.tags_removed(room / 4),
            self.protected_list(room / 4),
            self.leftovers_list(),
            self.warnings_list(),
        ];
        let mut left = room;
        for part in parts.iter_mut() {
            if part.len() > left / 2 {
                *part = self.elsewhere();
            }
            left = left.saturating_sub(part.len());
        }
        parts[1] = self.changed_list(context, left);
        parts.concat()
    }

    /// Where a list cut from the summary is whole.
    fn elsewhere(&self) -> String {
        match &self.report_file {
            Some(path) => format!(
                "\n… a list too long for the summary: the report file {} holds it whole.\n",
                markdown::code(path)
            ),
            None => "\n… a list too long for the summary: the outputs hold it (up to 1,000,000 bytes each); set `report-file` to keep everything.\n".to_string(),
        }
    }

    /// The versions that failed, with GitHub's message and the likely cause.
    fn failed_list(&self, context: &SummaryContext) -> String {
        let failures: Vec<&Entry> = self.with(Counted::Failed).collect();
        if failures.is_empty() {
            return String::new();
        }
        let _ = context;
        let mut table = String::from(
            "| package | id | version | status | GitHub's message | likely cause |\n|---|---:|---|---:|---|---|\n",
        );
        for entry in &failures {
            let failure = entry.failure();
            let _ = writeln!(
                table,
                "| {} | {} | {} | {} | {} | {} |",
                markdown::code(&entry.package.name),
                entry.version.id,
                markdown::code(&label(entry.version)),
                failure
                    .status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "–".into()),
                markdown::text(failure.message),
                self.cause_of(entry)
            );
        }
        let title = format!("{} failed", plural(failures.len(), "version"));
        format!(
            "\n**{title}**\n\n{}",
            fold_when(failures.len() > UNFOLDED, &title, &table)
        )
    }

    /// The versions deleted or restored, their rows cut to `room` bytes.
    fn changed_list(&self, context: &SummaryContext, room: usize) -> String {
        let report = self.report;
        let changed: Vec<&Entry> = self.with(Counted::Changed).collect();
        if changed.is_empty() {
            return String::new();
        }
        let title = format!(
            "{} {}{}",
            plural(changed.len(), "version"),
            if report.dry_run { "would be " } else { "" },
            match report.mode {
                Mode::Delete => "deleted",
                Mode::Restore => "restored",
            }
        );
        let mut table = String::from(
            "| package | id | version | tags | age | why | link |\n|---|---:|---|---|---:|---|---|\n",
        );
        let budget = room.saturating_sub(600);
        let mut cut = 0;
        for entry in &changed {
            if table.len() > budget {
                cut += 1;
                continue;
            }
            let link = entry
                .version
                .link()
                .and_then(|url| markdown::link("view", &url, context.web))
                .unwrap_or_default();
            let _ = writeln!(
                table,
                "| {} | {} | {} | {} | {} | {} | {link} |",
                markdown::code(&entry.package.name),
                entry.version.id,
                markdown::code(&short_name(&entry.version.name)),
                first_of(entry.version.tags.iter().map(|t| markdown::code(t))),
                age(context.now - entry.version.created_at),
                markdown::text(&short_reason(
                    entry.shown_reason(report.mode, report.dry_run)
                )),
            );
        }
        if cut > 0 {
            let output = match report.mode {
                Mode::Delete => "deleted",
                Mode::Restore => "restored",
            };
            let _ = match &self.report_file {
                Some(path) => writeln!(
                    table,
                    "\n… and {cut} more: the report file {} lists them all.",
                    markdown::code(path)
                ),
                None => writeln!(
                    table,
                    "\n… and {cut} more: the `{output}` output lists them (up to 1,000,000 bytes; `report-file` keeps them all)."
                ),
            };
        }
        let body = fold_when(changed.len() > UNFOLDED, &title, &table);
        if changed.len() > UNFOLDED {
            format!("\n{body}")
        } else {
            format!("\n**{title}**\n\n{body}")
        }
    }

    /// Deferred versions, packages restored first, and what the container images did.
    fn notes(&self) -> String {
        let report = self.report;
        let mut out = String::new();
        let deferred = self.count(Counted::Deferred);
        let cancelled = self.with(Counted::Deferred).filter(|e| e.cancelled).count();
        if deferred > 0 {
            let _ = writeln!(
                out,
                "\n**{} deferred** ({}{}): the next run continues with them, oldest first.",
                plural(deferred, "version"),
                match cancelled {
                    0 => "max-deletions or the rate-limit budget".to_string(),
                    n if n == deferred => "the run was cancelled before it sent them".to_string(),
                    n => format!("{n} not sent because the run was cancelled, the rest by max-deletions or the rate-limit budget"),
                },
                report
                    .budget_remaining
                    .map(|r| format!("; {r} requests were left when writing began"))
                    .unwrap_or_default()
            );
        }
        for package in &report.packages {
            if let Some((Mode::Restore, outcome)) = &package.results.package_request {
                let _ = writeln!(
                    out,
                    "\nPackage {} {}.",
                    markdown::code(&package.name),
                    package_restore(package, outcome.as_ref())
                );
            }
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
                    "- {}: {needed} versions kept because a kept image needs them; {with_parent} {} with their parent image",
                    markdown::code(&package.name),
                    if report.dry_run { "would go" } else { "went" }
                );
            }
        }
        images.push_str(&self.image_lines());
        if !images.is_empty() {
            let _ = write!(out, "\nContainer images:\n{images}");
        }
        out
    }

    /// `untag`'s throw-away versions that could not be deleted.
    fn leftovers_list(&self) -> String {
        if self.leftovers.is_empty() {
            return String::new();
        }
        let mut out = String::from("\n## Throw-away versions left behind\n\n`untag` moved these tags to throw-away versions that could not be deleted: delete them by hand (they carry only the removed tags).\n\n");
        for (package, leftover, tags) in &self.leftovers {
            let _ = writeln!(
                out,
                "- {} id {} ({}), tags {}: {}",
                markdown::code(&package.name),
                leftover
                    .id
                    .map_or_else(|| "unknown".to_string(), |id| id.to_string()),
                markdown::code(&leftover.digest),
                first_of(tags.iter().map(|t| markdown::code(t))),
                markdown::text(&leftover.message)
            );
        }
        out
    }

    /// The run's warnings (the first of them, each cut; the log has them whole).
    fn warnings_list(&self) -> String {
        let report = self.report;
        let warnings: Vec<&String> = report
            .warnings
            .iter()
            .chain(report.packages.iter().flat_map(|p| &p.warnings))
            .collect();
        if warnings.is_empty() {
            return String::new();
        }
        let mut out = String::from("\n## Warnings\n\n");
        for warning in warnings.iter().take(WARNINGS) {
            let shown: String = warning.chars().take(WARNING_CHARS).collect();
            let cut = if shown.len() < warning.len() {
                " …"
            } else {
                ""
            };
            let _ = writeln!(out, "- {}{cut}", markdown::text(&shown));
        }
        if warnings.len() > WARNINGS {
            let _ = writeln!(
                out,
                "\n… and {} more in the log.",
                warnings.len() - WARNINGS
            );
        }
        out
    }
    /// Per container package: its ghosts, and in restore mode what came back with an image.
    fn image_lines(&self) -> String {
        let report = self.report;
        let mut lines = String::new();
        for package in &report.packages {
            if !package.listing.ghosts.is_empty() {
                let plan = package.plan.as_ref();
                let names: Vec<String> = package
                    .listing
                    .ghosts
                    .iter()
                    .take(LISTED)
                    .filter_map(|id| plan?.versions.iter().find(|v| v.id == *id))
                    .map(|v| format!("{} ({})", markdown::code(&short_name(&v.name)), v.id))
                    .collect();
                let more = package.listing.ghosts.len().saturating_sub(LISTED);
                let _ = writeln!(
                    lines,
                    "- {}: {} ghost{} (listed, but the registry has no manifest: {} nothing, selected like any version): {}{}",
                    markdown::code(&package.name),
                    package.listing.ghosts.len(),
                    if package.listing.ghosts.len() == 1 { "" } else { "s" },
                    if package.listing.ghosts.len() == 1 { "it references" } else { "they reference" },
                    names.join(", "),
                    if more > 0 { format!(" and {more} more") } else { String::new() }
                );
            }
            let came_back = self
                .entries
                .iter()
                .filter(|e| {
                    std::ptr::eq(e.package, package)
                        && e.counted == Counted::Changed
                        && e.came_back_with_image()
                })
                .count();
            if came_back > 0 {
                let _ = writeln!(
                    lines,
                    "- {}: {came_back} versions {} with the image they belong to (platform manifests, signatures, attestations)",
                    markdown::code(&package.name),
                    if report.dry_run { "would be restored" } else { "were restored" }
                );
            }
        }
        lines
    }

    /// The "Broken images" table: indexes naming platform manifests that are neither versions
    /// nor in the registry.
    fn broken_images(&self) -> String {
        let broken: Vec<_> = self
            .report
            .packages
            .iter()
            .flat_map(|p| p.listing.broken_images.iter().map(move |b| (p, b)))
            .collect();
        if broken.is_empty() {
            return String::new();
        }
        let mut table =
            String::from("| package | index | tags | missing digests |\n|---|---|---|---|\n");
        // A row names the first digests of each list and counts the rest.
        for (package, image) in broken.iter().take(LISTED * 5) {
            let tags = first_of(image.tags.iter().map(|t| markdown::code(t)));
            let missing = first_of(image.missing.iter().map(|d| markdown::code(d)));
            let _ = writeln!(
                table,
                "| {} | {} ({}) | {} | {} |",
                markdown::code(&package.name),
                markdown::code(&short_name(&image.digest)),
                image.id,
                tags,
                missing
            );
        }
        if broken.len() > LISTED * 5 {
            let _ = writeln!(
                table,
                "\n… and {} more (see the warnings in the log)",
                broken.len() - LISTED * 5
            );
        }
        format!(
            "\n### Broken images\n\nThese indexes name platform manifests that are neither versions nor in the registry (an interrupted push, an old clean-up): the images cannot be pulled whole. Nothing more is deleted because of them; push the image again, or delete it.\n\n{table}"
        )
    }

    /// `untag`: the table of tags removed, and the `crane tag` commands that put each back.
    fn tags_removed(&self, room: usize) -> String {
        let untagged: Vec<&Entry> = self.untagged().collect();
        if untagged.is_empty() {
            return String::new();
        }
        let dry_run = self.report.dry_run;
        let title = format!(
            "Tags {}removed from {} versions",
            if dry_run { "that would be " } else { "" },
            untagged.len()
        );
        let mut table = String::from(
            "| package | id | version | tags removed | tags kept |\n|---|---:|---|---|---|\n",
        );
        let mut commands = String::new();
        let mut unwritable = 0;
        for entry in &untagged {
            let kept: Vec<&str> = entry
                .version
                .tags
                .iter()
                .filter(|t| !entry.removed.contains(t))
                .map(String::as_str)
                .collect();
            let _ = writeln!(
                table,
                "| {} | {} | {} | {} | {} |",
                markdown::code(&entry.package.name),
                entry.version.id,
                markdown::code(&short_name(&entry.version.name)),
                first_of(entry.removed.iter().map(|t| markdown::code(t))),
                first_of(kept.iter().map(|t| markdown::code(t))),
            );
            for tag in entry.removed {
                match crane_tag(entry.package, &entry.version.name, tag) {
                    Some(line) => {
                        commands.push_str(&line);
                        commands.push('\n');
                    }
                    None => unwritable += 1,
                }
            }
        }
        let mut out = format!("\n## {title}\n\n");
        out.push_str(&fold_when(untagged.len() > 20, &title, &table));
        let _ = write!(
            out,
            "\nThe versions stay, with their other tags. To put the tags back on the same images{}:\n\n",
            if dry_run { " after the real run" } else { "" }
        );
        let fence = markdown::block_fence(&commands);
        let _ = write!(out, "{fence}sh\n{commands}{fence}\n");
        if unwritable > 0 {
            let _ = writeln!(
                out,
                "\n{unwritable} tags or names hold characters an image reference cannot: the `untagged` output lists them."
            );
        }
        if out.len() > room {
            return format!(
                "\n## {title}\n\nToo many to list here: the `untagged` output names every version and the tags it lost; `crane tag <registry>/<owner>/<package>@<name> <tag>` puts a tag back.\n"
            );
        }
        out
    }
}

/// What came of restoring a deleted package first.
fn package_restore(package: &Package, outcome: Option<&Outcome>) -> String {
    match outcome {
        None => "would be restored first (a dry run cannot list its versions)".to_string(),
        Some(Outcome::Done) => format!(
            "was restored; {} versions came back with it",
            package.listing.restored_with_package.len()
        ),
        Some(Outcome::Failed {
            status, message, ..
        }) => format!(
            "could not be restored: {} {}",
            status.map(|s| s.to_string()).unwrap_or_default(),
            markdown::text(message)
        ),
        Some(_) => "could not be restored".to_string(),
    }
}

/// A reason as the list shows it: short.
fn short_reason(reason: String) -> String {
    match reason.strip_prefix("selected: no filter is given, so every version is") {
        Some(rest) => format!("selected (no filter){rest}"),
        None => reason,
    }
}

/// `crane tag <host>/<owner>/<package>@<digest> <tag>`, when every part is one an image
/// reference allows (so nothing from the API can add a line or a command).
fn crane_tag(package: &Package, digest: &str, tag: &str) -> Option<String> {
    let host = package
        .rule
        .registry_url
        .split_once("://")
        .map_or(package.rule.registry_url.as_str(), |(_, rest)| rest)
        .trim_end_matches('/');
    let repository = format!("{}/{}", package.owner(), package.name).to_lowercase();
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '/'));
    let repository_ok = repository.chars().all(|c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '/')
    });
    let digest_ok = digest
        .strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()));
    (host_ok && repository_ok && digest_ok && crate::registry::push::is_valid_tag(tag))
        .then(|| format!("crane tag {host}/{repository}@{digest} {tag}"))
}
