//! The package table: a row per package of short numbers (active before, selected, kept,
//! deleted or restored, untagged, failed, deferred, active after, bytes freed) and a Total row
//! when there are several; the reasons for keeping counted in a fold, and the registry storage
//! in another.

use super::super::storage::binary;
use super::super::{Counted, Tally};
use super::fold;
use crate::model::PackageType;
use crate::outcome::Package;
use crate::plan::{Mode, Verdict};
use crate::runner::markdown;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One row's numbers (`None`: unknown).
#[derive(Clone, Copy, Default)]
struct Row {
    before: Option<usize>,
    selected: usize,
    kept: usize,
    changed: usize,
    untagged: usize,
    failed: usize,
    deferred: usize,
    after: Option<usize>,
    freed: Option<u64>,
}

impl Row {
    fn add(self, other: Row) -> Row {
        let sum = |a: Option<usize>, b: Option<usize>| Some(a.unwrap_or(0) + b.unwrap_or(0));
        Row {
            before: sum(self.before, other.before),
            selected: self.selected + other.selected,
            kept: self.kept + other.kept,
            changed: self.changed + other.changed,
            untagged: self.untagged + other.untagged,
            failed: self.failed + other.failed,
            deferred: self.deferred + other.deferred,
            after: sum(self.after, other.after),
            freed: Some(self.freed.unwrap_or(0) + other.freed.unwrap_or(0)),
        }
    }

    fn cells(&self, freed_column: bool) -> String {
        let known = |n: Option<usize>| n.map_or_else(|| "?".to_string(), |n| n.to_string());
        let mut cells = format!(
            "{} | {} | {} | {} | {} | {} | {} | {}",
            known(self.before),
            self.selected,
            self.kept,
            self.changed,
            self.untagged,
            self.failed,
            self.deferred,
            known(self.after)
        );
        if freed_column {
            let freed = self.freed.map_or_else(|| "–".to_string(), binary);
            let _ = write!(cells, " | {freed}");
        }
        cells
    }
}

impl Tally<'_> {
    /// The table, then the folds of reasons and storage.
    pub(super) fn package_table(&self) -> String {
        let report = self.report;
        let changed = match report.mode {
            Mode::Delete => "deleted",
            Mode::Restore => "restored",
        };
        let freed_column = report.mode == Mode::Delete
            && report
                .packages
                .iter()
                .any(|p| p.package_type() == PackageType::Container);
        let mut out = format!(
            "| package | active before | selected | kept | {changed} | untagged | failed | deferred | active after |{}\n|---|---:|---:|---:|---:|---:|---:|---:|---:|{}\n",
            if freed_column { " freed |" } else { "" },
            if freed_column { "---:|" } else { "" },
        );
        let mut total = Row::default();
        for package in &report.packages {
            let row = self.row(package);
            total = total.add(row);
            let status = if package.problem.is_some() {
                " ⚠️"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "| {}{status} | {} |",
                markdown::code(&package.name),
                row.cells(freed_column)
            );
        }
        if report.packages.len() > 1 {
            let _ = writeln!(out, "| **Total** | {} |", total.cells(freed_column));
        }
        out.push('\n');
        out.push_str(&self.reasons());
        out.push_str(&self.storage_fold());
        out
    }

    fn row(&self, package: &Package) -> Row {
        let mine = |counted: Counted| {
            self.entries
                .iter()
                .filter(|e| std::ptr::eq(e.package, package) && e.counted == counted)
                .count()
        };
        let changed = mine(Counted::Changed);
        let before = package.listing.active_before;
        Row {
            before,
            selected: package
                .plan
                .as_ref()
                .map_or(0, |p| p.decisions.iter().filter(|d| d.selected).count()),
            kept: mine(Counted::Kept),
            changed,
            untagged: mine(Counted::Untagged),
            failed: mine(Counted::Failed),
            deferred: mine(Counted::Deferred),
            after: before.map(|before| match self.report.mode {
                Mode::Delete => before.saturating_sub(changed),
                Mode::Restore => before + changed,
            }),
            freed: self.storage(package).map(|s| s.freed),
        }
    }

    /// "Why versions were kept": per package and reason, how many; and the manifests read.
    fn reasons(&self) -> String {
        let mut table = String::from("| package | kept because | versions |\n|---|---|---:|\n");
        let mut any = false;
        for package in &self.report.packages {
            let Some(plan) = &package.plan else { continue };
            let mut why: BTreeMap<&str, usize> = BTreeMap::new();
            for decision in &plan.decisions {
                if let Verdict::Keep(reason) = &decision.verdict {
                    *why.entry(reason.kind()).or_default() += 1;
                }
            }
            for (reason, count) in why {
                any = true;
                let _ = writeln!(
                    table,
                    "| {} | {reason} | {count} |",
                    markdown::code(&package.name)
                );
            }
        }
        let manifests = self.report.manifests.map(|(read, from_cache)| {
            format!("\nContainer manifests: {read} read, {from_cache} from cache.\n")
        });
        match (any, manifests) {
            (false, None) => String::new(),
            (false, Some(manifests)) => fold("Container manifests", manifests.trim()),
            (true, manifests) => {
                table.push_str(&manifests.unwrap_or_default());
                fold("Why versions were kept", &table)
            }
        }
    }

    /// The registry storage of the container packages whose manifests were read.
    fn storage_fold(&self) -> String {
        let mut table =
            String::from("| package | before | after | freed |\n|---|---:|---:|---:|\n");
        let (mut before, mut after) = (0, 0);
        let mut any = false;
        for package in &self.report.packages {
            let Some(storage) = self.storage(package) else {
                continue;
            };
            any = true;
            before += storage.before;
            after += storage.after;
            let _ = writeln!(
                table,
                "| {} | {} | {} | {} |",
                markdown::code(&package.name),
                binary(storage.before),
                binary(storage.after),
                binary(storage.freed)
            );
        }
        if !any {
            return String::new();
        }
        table.push_str("\nEach blob (image config or layer) counts once per package; a blob that a remaining version names frees nothing.\n");
        fold(
            &format!("Registry storage: {} → {}", binary(before), binary(after)),
            &table,
        )
    }
}
