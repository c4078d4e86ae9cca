//! The job summary (`GITHUB_STEP_SUMMARY`): Markdown a person reads at a glance, under 1 MiB,
//! with a chart per package and an Undo block after a delete; API text goes through `markdown`.

use super::{chart, Counted, Entry, Tally};
use crate::model::Timestamp;
use crate::outcome::{Outcome, Package};
use crate::plan::{label, short_name, Mode, Verdict};
use crate::runner::markdown;
use std::collections::BTreeMap;
use std::fmt::Write as _;

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

/// What the summary is written for.
pub struct SummaryContext<'a> {
    pub now: Timestamp,
    /// The GitHub web host (`https://github.com`), the only host links may go to.
    pub web: &'a str,
    /// The Undo block's `uses:` (see [`undo_action`]).
    pub action: &'a str,
    /// Mermaid charts: in the job summary, where GitHub draws them; not in a log.
    pub charts: bool,
}

/// Charts drawn at most: the first packages of the run.
const MAX_CHARTS: usize = 20;
/// Ghosts and broken images listed per package before the rest are counted.
const LISTED: usize = 20;

impl Tally<'_> {
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
        for (package, image) in broken.iter().take(LISTED * 5) {
            let tags: Vec<String> = image.tags.iter().map(|t| markdown::code(t)).collect();
            let missing: Vec<String> = image.missing.iter().map(|d| markdown::code(d)).collect();
            let _ = writeln!(
                table,
                "| {} | {} ({}) | {} | {} |",
                markdown::code(&package.name),
                markdown::code(&short_name(&image.digest)),
                image.id,
                tags.join(", "),
                missing.join(", ")
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

    /// The job summary.
    pub fn summary(&self, context: &SummaryContext) -> String {
        const LIMIT: usize = 1024 * 1024 - 4096;
        let SummaryContext { now, web, .. } = *context;
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
            let mine = |counted: Counted| {
                self.entries
                    .iter()
                    .filter(|e| std::ptr::eq(e.package, package) && e.counted == counted)
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
            let kept = mine(Counted::Kept);
            let why: Vec<String> = why.iter().map(|(k, n)| format!("{n} {k}")).collect();
            let changed = mine(Counted::Changed);
            let after = package
                .listing
                .active_before
                .map(|before| match report.mode {
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
                "| {}{status} | {} | {} | {selected} | {kept}{} | {changed} | {} | {} | {} |",
                markdown::code(&package.name),
                package.package_type(),
                package
                    .listing
                    .active_before
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "?".into()),
                if why.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", why.join(", "))
                },
                mine(Counted::Failed),
                mine(Counted::Deferred),
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
        if context.charts {
            out.push_str(&self.charts());
        }
        if let Some((read, from_cache)) = report.manifests {
            let _ = writeln!(
                out,
                "\nContainer manifests: {read} read, {from_cache} from cache."
            );
        }
        out.push_str(&self.broken_images());
        let deferred = self.count(Counted::Deferred);
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
            if let Some((Mode::Restore, outcome)) = &package.results.package_request {
                let what = match outcome {
                    None => {
                        "would be restored first (a dry run cannot list its versions)".to_string()
                    }
                    Some(Outcome::Done) => format!(
                        "was restored; {} versions came back with it",
                        package.listing.restored_with_package.len()
                    ),
                    Some(Outcome::Failed { status, message }) => format!(
                        "could not be restored: {} {}",
                        status.map(|s| s.to_string()).unwrap_or_default(),
                        markdown::text(message)
                    ),
                    Some(_) => "could not be restored".to_string(),
                };
                let _ = writeln!(out, "\nPackage {} {what}.", markdown::code(&package.name));
            }
        }

        let problems: Vec<&Package> = self.problems().collect();
        let failures: Vec<&Entry> = self.with(Counted::Failed).collect();
        if !problems.is_empty() || !failures.is_empty() {
            let _ = writeln!(out, "\n## Failures\n");
            for package in problems {
                let _ = writeln!(
                    out,
                    "- {} ({}): {}",
                    markdown::code(&package.name),
                    package.package_type(),
                    markdown::text(package.problem.as_deref().unwrap_or_default())
                );
            }
            if !failures.is_empty() {
                let mut table = String::from(
                    "| package | id | version | status | GitHub's message | likely cause |\n|---|---:|---|---:|---|---|\n",
                );
                for entry in &failures {
                    let failure = entry.failure();
                    let (status, message) = (failure.status, failure.message);
                    // An untag failure's message already names its cause.
                    let cause = if entry
                        .decision
                        .is_some_and(|d| d.verdict.untag_tags().is_some())
                    {
                        "see the message (untag)"
                    } else {
                        failure.cause(report.mode)
                    };
                    let _ = writeln!(
                        table,
                        "| {} | {} | {} | {} | {} | {} |",
                        markdown::code(&entry.package.name),
                        entry.version.id,
                        markdown::code(&label(entry.version)),
                        status.map(|s| s.to_string()).unwrap_or_else(|| "–".into()),
                        markdown::text(message),
                        cause
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

        let changed: Vec<&Entry> = self.with(Counted::Changed).collect();
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
                "| package | id | version | tags | age | why | link |\n|---|---:|---|---|---:|---|---|\n",
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
                    .and_then(|url| markdown::link("view", &url, web))
                    .unwrap_or_default();
                let _ = writeln!(
                    table,
                    "| {} | {} | {} | {} | {} | {} | {link} |",
                    markdown::code(&entry.package.name),
                    entry.version.id,
                    markdown::code(&short_name(&entry.version.name)),
                    markdown::code(&entry.version.tags.join(", ")),
                    age(now - entry.version.created_at),
                    markdown::text(&entry.shown_reason(report.mode, report.dry_run)),
                );
            }
            if cut > 0 {
                let output = if report.mode == Mode::Delete {
                    "deleted"
                } else {
                    "restored"
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
            fold(&mut out, &title, &table, changed.len() > 20);
        }

        if !self.leftovers.is_empty() {
            let _ = writeln!(
                out,
                "\n## Throw-away versions left behind\n\n`untag` moved these tags to throw-away versions that could not be deleted: delete them by hand (they carry only the removed tags).\n"
            );
            for (package, leftover, tags) in &self.leftovers {
                let _ = writeln!(
                    out,
                    "- {} id {} ({}), tags {}: {}",
                    markdown::code(&package.name),
                    leftover
                        .id
                        .map_or_else(|| "unknown".to_string(), |id| id.to_string()),
                    markdown::code(&leftover.digest),
                    markdown::code(&tags.join(", ")),
                    markdown::text(&leftover.message)
                );
            }
        }
        out.push_str(&self.tags_removed(LIMIT.saturating_sub(out.len()) / 2));

        let warnings: Vec<&String> = report
            .warnings
            .iter()
            .chain(report.packages.iter().flat_map(|p| &p.warnings))
            .collect();
        if !warnings.is_empty() {
            let _ = writeln!(out, "\n## Warnings\n");
            for warning in warnings {
                let _ = writeln!(out, "- {}", markdown::text(warning));
            }
        }

        if report.mode == Mode::Delete && !changed.is_empty() && !report.offline {
            out.push_str(&self.undo(context.action, LIMIT.saturating_sub(out.len())));
        }
        out
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
                markdown::code(&entry.removed.join(", ")),
                markdown::code(&kept.join(", ")),
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
        fold(&mut out, &title, &table, untagged.len() > 20);
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

    /// The ready workflow step that restores exactly the deleted versions.
    fn undo(&self, action: &str, room: usize) -> String {
        /// The deleted versions of one owner and package type: one restore step.
        #[derive(Default)]
        struct UndoStep {
            packages: Vec<String>,
            ids: String,
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
            let comma = if step.ids.is_empty() { "" } else { "," };
            let _ = write!(step.ids, "{comma}{}", entry.version.id);
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
                "- name: Undo package-retention\n  uses: {action}\n  with:\n    mode: restore\n    owner: {}\n    owner-type: {owner_type}\n    package-type: {package_type}\n    packages: {}\n    version-ids: {ids}\n",
                markdown::yaml_string(owner),
                markdown::yaml_string(&packages.join(", ")),
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

impl Tally<'_> {
    /// A chart per package (the first [`MAX_CHARTS`]): its versions per month of creation before
    /// the run (bars) and after it (the line); folded when there are more than three.
    fn charts(&self) -> String {
        let report = self.report;
        let (state, after) = match (report.mode, report.dry_run) {
            (Mode::Delete, false) => ("Active", "after the run"),
            (Mode::Delete, true) => ("Active", "after a real run"),
            (Mode::Restore, false) => ("Deleted", "after the run"),
            (Mode::Restore, true) => ("Deleted", "after a real run"),
        };
        let title = format!("{state} versions per month created: before (bars), {after} (line)");
        let mut charts = Vec::new();
        let mut left_out = 0;
        for package in &report.packages {
            let mine = || {
                self.entries
                    .iter()
                    .filter(|e| std::ptr::eq(e.package, package))
            };
            let before = mine()
                .filter(|e| e.decision.is_some())
                .map(|e| e.version.created_at);
            let remaining = mine()
                .filter(|e| e.decision.is_some() && e.counted != Counted::Changed)
                .map(|e| e.version.created_at);
            let (count_before, count_after) = (before.clone().count(), remaining.clone().count());
            if count_before == 0 {
                continue;
            }
            if charts.len() == MAX_CHARTS {
                left_out += 1;
                continue;
            }
            if let Some(chart) = chart::versions_by_month(&title, before, remaining) {
                charts.push(format!(
                    "{} ({}): {count_before} → {count_after}\n\n{chart}",
                    markdown::code(&package.name),
                    package.package_type(),
                ));
            }
        }
        if charts.is_empty() {
            return String::new();
        }
        let mut body = charts.join("\n");
        if left_out > 0 {
            let _ = writeln!(body, "\n… and {left_out} more packages, not charted.");
        }
        let mut out = String::new();
        let heading = format!("{state} versions by month, before and {after}");
        if charts.len() > 3 {
            let _ = writeln!(out);
            fold(&mut out, &heading, &body, true);
        } else {
            let _ = write!(out, "\n### {heading}\n\n{body}");
        }
        out
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

#[cfg(test)]
mod tests {
    use super::*;

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
