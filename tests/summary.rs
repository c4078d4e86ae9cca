//! End-to-end job summary: the binary against the fake, its summary read as a person reads it
//! (the headline, failures before any table, one table with a Total row, folded charts only for
//! the packages the run changed, the Undo block that restores exactly what went), the registry
//! storage it frees against worlds computed by hand, and the caps (1,000,000 bytes a summary,
//! 4,096 bytes a log line) whatever the data.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use common::gfm::{self, Table};
use common::showcase::{large_run, large_world, small_run, small_world};
use common::{Run, RunResult, OWNER, TOKEN};
use fake_github::{blob, days, digest, Blob, FakeGithub, Manifest, World};
use serde_json::Value;

const MIB: u64 = 1024 * 1024;
const KIB: u64 = 1024;

// ---------------------------------------------------------------------------------------------
// Reading a summary

/// The headline: the first line after the title (and the DRY RUN note), as `what → number`
/// (`deleted`, `tags removed`, `failed`, `deferred`, `freed`, `packages`); `freed` keeps its
/// text (`1.5 GiB`).
fn headline(summary: &str) -> BTreeMap<&'static str, String> {
    let mut lines = summary.lines().filter(|l| !l.trim().is_empty());
    let title = lines.next().expect("a title");
    assert!(title.starts_with("# package-retention: "), "{summary}");
    let line = lines
        .find(|l| !l.starts_with('>'))
        .expect("a headline")
        .replace("**", "");
    let mut parts = BTreeMap::new();
    for part in line.split(" · ") {
        let (number, rest) = part
            .split_once(' ')
            .unwrap_or_else(|| panic!("{part:?} in {line:?}"));
        let key = [
            ("version", "changed"),
            ("tag", "tags removed"),
            ("failed", "failed"),
            ("deferred", "deferred"),
            ("freed", "freed"),
            ("package", "packages"),
        ]
        .into_iter()
        .find(|(word, _)| rest.contains(word))
        .map(|(_, key)| key)
        .unwrap_or_else(|| panic!("an unknown part {part:?} of the headline {line:?}"));
        let value = if key == "freed" {
            let unit = rest.split(' ').next().unwrap();
            format!("{number} {unit}")
        } else {
            number.to_string()
        };
        parts.insert(key, value);
    }
    parts
}

/// The package table: the first table of the summary.
fn package_table(summary: &str) -> Table {
    let rendered = gfm::render(summary);
    let table = rendered.tables.into_iter().next().expect("a package table");
    assert_eq!(table.rows[0][0], "package", "{summary}");
    table
}

/// The cell of `row` under the header `column`.
fn cell<'a>(table: &'a Table, row: &'a [String], column: &str) -> &'a str {
    let at = table.rows[0]
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("no column {column:?} in {:?}", table.rows[0]));
    &row[at]
}

fn number(text: &str) -> u64 {
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("{text:?} is not a number: {e}"))
}

/// The binary unit text of a byte count, as the summary writes it.
fn binary(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Each Mermaid block with the text of the `<details>` fold around it (`None` when unfolded).
fn charts(summary: &str) -> Vec<(Option<String>, String)> {
    let mut charts = Vec::new();
    let mut fold: Option<String> = None;
    let mut lines = summary.lines();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("<details><summary>") {
            fold = Some(rest.trim_end_matches("</summary>").to_string());
        } else if line.starts_with("</details>") {
            fold = None;
        } else if line.trim() == "```mermaid" {
            let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            charts.push((fold.clone(), body.join("\n")));
        }
    }
    charts
}

/// The values of a chart line such as `bar [1, 2]` or `x-axis "month" ["Jan 2026"]`.
fn chart_list(chart: &str, start: &str) -> Vec<String> {
    let line = chart
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no {start:?} in {chart}"));
    let list = &line[line.find('[').expect("a list") + 1..line.rfind(']').expect("a list end")];
    list.split(", ")
        .map(|v| v.trim_matches('"').to_string())
        .collect()
}

/// Panics unless every chart is folded, has at most 12 columns named as months, quarters or
/// years (and its x-axis says which), whole-number counts and a y-axis whose ticks are whole
/// numbers (Mermaid draws d3's ten ticks: whole steps from a top of 10 on).
fn assert_charts_read_at_a_glance(summary: &str) {
    let charts = charts(summary);
    assert!(!charts.is_empty(), "no chart:\n{summary}");
    for (fold, chart) in &charts {
        assert!(fold.is_some(), "a chart outside a fold:\n{chart}");
        let labels = chart_list(chart, "x-axis");
        assert!(
            (1..=12).contains(&labels.len()),
            "{} columns:\n{chart}",
            labels.len()
        );
        let axis = chart
            .lines()
            .find(|l| l.trim().starts_with("x-axis"))
            .unwrap();
        let month = |l: &str| {
            let (m, y) = l.split_once(' ').unwrap_or(("", ""));
            [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ]
            .contains(&m)
                && y.len() == 4
                && y.parse::<u32>().is_ok()
        };
        let quarter = |l: &str| {
            l.split_once(" Q")
                .is_some_and(|(y, q)| y.len() == 4 && ["1", "2", "3", "4"].contains(&q))
        };
        let year = |l: &str| l.len() == 4 && l.parse::<u32>().is_ok();
        let years = |l: &str| l.split_once('–').is_some_and(|(a, b)| year(a) && year(b));
        let named = if labels.iter().all(|l| month(l)) {
            "month"
        } else if labels.iter().all(|l| quarter(l)) {
            "quarter"
        } else if labels.iter().all(|l| year(l)) {
            "year"
        } else {
            assert!(labels.iter().all(|l| years(l)), "labels {labels:?}");
            "years"
        };
        assert!(axis.contains(&format!("\"{named} created\"")), "{axis}");
        for series in ["bar", "line"] {
            let values = chart_list(chart, series);
            assert_eq!(values.len(), labels.len(), "{chart}");
            assert!(values.iter().all(|v| v.parse::<u64>().is_ok()), "{chart}");
        }
        let y = chart
            .lines()
            .find(|l| l.trim().starts_with("y-axis"))
            .unwrap();
        let (low, high) = y
            .rsplit_once(" --> ")
            .map(|(a, b)| (a.rsplit(' ').next().unwrap(), b.trim()))
            .unwrap();
        assert_eq!(low, "0", "{y}");
        let high: u64 = high.parse().unwrap_or_else(|_| panic!("{y}"));
        assert!(
            high >= 10,
            "d3 draws fractional ticks below a top of 10: {y}"
        );
        assert!(
            chart.contains("plotColorPalette"),
            "colours set for both themes:\n{chart}"
        );
    }
}

/// The Undo block's steps, parsed as YAML: `(packages, version ids)` per step, with a check
/// that the ids come as `version-ids: |`, at most 10 a line.
fn undo_steps(summary: &str) -> Vec<(String, Vec<u64>)> {
    let at = summary.find("## Undo").expect("an Undo block");
    let rest = &summary[at..];
    let start = rest.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let yaml = &rest[start..start + rest[start..].find("\n```").expect("its end")];
    assert!(yaml.contains("version-ids: |\n"), "{yaml}");
    let mut in_ids = false;
    for line in yaml.lines() {
        if line.trim_start().starts_with("version-ids: |") {
            in_ids = true;
            continue;
        }
        if in_ids && line.starts_with("      ") {
            let ids = line.split(',').filter(|id| !id.trim().is_empty()).count();
            assert!((1..=10).contains(&ids), "{ids} ids on a line: {line:?}");
        } else {
            in_ids = false;
        }
    }
    let steps: Vec<Value> = serde_yaml::from_str(yaml).expect("the Undo block is YAML");
    steps
        .iter()
        .map(|step| {
            let with = &step["with"];
            assert_eq!(with["mode"], "restore", "{yaml}");
            let ids = with["version-ids"]
                .as_str()
                .expect("version-ids is a string")
                .split([',', '\n'])
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(|id| id.parse().expect("an id"))
                .collect();
            (with["packages"].as_str().unwrap().to_string(), ids)
        })
        .collect()
}

fn sorted(mut ids: Vec<u64>) -> Vec<u64> {
    ids.sort_unstable();
    ids
}

fn assert_log_lines_fit(result: &RunResult) {
    for line in result.stdout.lines().chain(result.stderr.lines()) {
        assert!(
            line.len() <= 4_096,
            "a log line of {} bytes: {}…",
            line.len(),
            &line[..200]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Structure on real runs

#[test]
fn the_small_run_reads_title_headline_table_list_fold_and_undo_in_that_order() {
    let fake = FakeGithub::start(small_world());
    let result = small_run(&fake).run();
    result.assert_success();
    let summary = &result.summary;
    gfm::assert_renders_safely(summary, "https://github.com");

    assert!(
        summary.starts_with("# package-retention: delete\n"),
        "{summary}"
    );
    let head = headline(summary);
    assert_eq!(head["changed"], "4", "{summary}");
    assert_eq!(head["packages"], "1");
    assert_eq!(head["freed"], binary(result.output_count("bytes-freed")));
    assert!(
        !summary.contains("[!CAUTION]"),
        "nothing failed:\n{summary}"
    );

    let table = package_table(summary);
    assert_eq!(
        table.rows.len(),
        2,
        "one package, no Total row: {:?}",
        table.rows
    );
    let row = &table.rows[1];
    assert_eq!(cell(&table, row, "package"), "app");
    assert_eq!(number(cell(&table, row, "active before")), 8);
    assert_eq!(number(cell(&table, row, "deleted")), 4);
    assert_eq!(number(cell(&table, row, "active after")), 4);
    for cell in row {
        assert!(cell.len() <= 24, "a long cell {cell:?}");
    }

    let order = [
        "# package-retention",
        "| package |",
        "| package | id |",
        "```mermaid",
        "## Undo",
    ];
    let at: Vec<usize> = order
        .iter()
        .map(|m| {
            summary
                .find(m)
                .unwrap_or_else(|| panic!("no {m:?} in\n{summary}"))
        })
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "{order:?} at {at:?}:\n{summary}"
    );
    assert_charts_read_at_a_glance(summary);
    assert!(!summary.contains("1 versions"), "{summary}");

    let steps = undo_steps(summary);
    assert_eq!(steps.len(), 1);
    assert_eq!(
        sorted(steps[0].1.clone()),
        sorted(result.output_ids("version-ids"))
    );
}

#[test]
fn the_large_run_puts_failures_first_totals_its_table_and_charts_only_what_changed() {
    let fake = FakeGithub::start(large_world());
    let result = large_run(&fake).run();
    result.assert_code(1);
    let summary = &result.summary;
    gfm::assert_renders_safely(summary, "https://github.com");

    // The headline holds the run's totals, as the outputs give them.
    let head = headline(summary);
    let deleted = result.output_count("deleted-count");
    let failed = result.output_count("failed-count");
    let untagged = result.output_json("untagged");
    let tags_removed: usize = untagged
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["tags"].as_array().unwrap().len())
        .sum();
    assert_eq!(number(&head["changed"]), deleted, "{summary}");
    assert_eq!(number(&head["failed"]), failed);
    assert_eq!(number(&head["tags removed"]), tags_removed as u64);
    assert_eq!(number(&head["deferred"]), 0);
    assert_eq!(head["packages"], "4");
    assert_eq!(head["freed"], binary(result.output_count("bytes-freed")));
    assert!(tags_removed > 0 && failed > 0 && deleted > 0);

    // The failures, with their cause and fix, come before any table.
    let caution = summary.find("> [!CAUTION]").expect("a CAUTION block");
    let first_table = summary.find("\n|").expect("a table");
    assert!(caution < first_table, "{summary}");
    let block: Vec<&str> = summary[caution..]
        .lines()
        .take_while(|l| l.starts_with('>'))
        .collect();
    let block = block.join("\n");
    assert!(block.contains(&format!("{failed} ")), "{block}");
    assert!(block.contains("5,000"), "the likely cause: {block}");

    // One table, a row per package and a Total row equal to the sums.
    let table = package_table(summary);
    assert_eq!(table.rows.len(), 1 + 4 + 1, "{:?}", table.rows);
    let total = table.rows.last().unwrap();
    assert_eq!(total[0], "Total");
    for column in [
        "active before",
        "selected",
        "kept",
        "deleted",
        "untagged",
        "failed",
        "deferred",
        "active after",
    ] {
        let sum: u64 = table.rows[1..5]
            .iter()
            .map(|row| number(cell(&table, row, column)))
            .sum();
        assert_eq!(number(cell(&table, total, column)), sum, "{column}");
    }
    assert_eq!(number(cell(&table, total, "deleted")), deleted);
    assert_eq!(cell(&table, total, "freed"), head["freed"]);
    for row in &table.rows {
        for cell in row {
            assert!(cell.len() <= 24, "a long cell {cell:?}");
        }
    }
    // The reasons for keeping are counted in a fold, not in the cells.
    assert!(
        summary.contains("<details><summary>Why versions were kept"),
        "{summary}"
    );

    // Charts: folded, one for each package the run changed, none for `worker`.
    assert_charts_read_at_a_glance(summary);
    let folds: Vec<String> = charts(summary).into_iter().filter_map(|(f, _)| f).collect();
    for package in ["web", "api", "cache"] {
        assert!(
            folds
                .iter()
                .any(|f| f.starts_with(&format!("Chart of {package}: "))),
            "no chart of {package}: {folds:?}"
        );
    }
    assert!(!folds.iter().any(|f| f.contains("worker")), "{folds:?}");
    assert_eq!(folds.len(), 3);

    // No heading repeats its fold; the Undo block lists exactly the deleted ids.
    assert!(
        !summary.contains("selected: no filter is given"),
        "{summary}"
    );
    let steps = undo_steps(summary);
    let undo: Vec<u64> = steps.iter().flat_map(|(_, ids)| ids.clone()).collect();
    assert_eq!(sorted(undo), sorted(result.output_ids("version-ids")));
    assert_log_lines_fit(&result);
}

#[test]
fn the_undo_block_given_to_a_restore_run_brings_back_exactly_what_went() {
    let fake = FakeGithub::start(large_world());
    let result = large_run(&fake).run();
    let deleted = sorted(result.output_ids("version-ids"));
    assert!(deleted.len() > 10, "ids over several lines");
    for (packages, ids) in undo_steps(&result.summary) {
        let yaml_ids = ids
            .chunks(10)
            .map(|line| {
                line.iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect::<Vec<_>>()
            .join("\n");
        Run::new(&fake)
            .env("PACKAGE_RETENTION_POINTS_PER_MINUTE", "100000000")
            .input("mode", "restore")
            .input("packages", &packages)
            .input("version-ids", &format!("{yaml_ids}\n"))
            .run()
            .assert_success();
    }
    let world = fake.world();
    let mut restored = Vec::new();
    for name in ["web", "api", "worker", "cache"] {
        let package = world.package(OWNER, "container", name).unwrap();
        assert!(package.deleted_ids().iter().all(|id| !deleted.contains(id)));
        restored.extend(
            package
                .active_ids()
                .into_iter()
                .filter(|id| deleted.contains(id)),
        );
    }
    assert_eq!(sorted(restored), deleted);
}

// ---------------------------------------------------------------------------------------------
// Storage against worlds computed by hand

fn world() -> World {
    World::new().org(OWNER).user("alice").token(TOKEN, "alice")
}

/// A fresh directory to serve as `GITHUB_WORKSPACE`.
fn workspace() -> PathBuf {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "package-retention-summary-{}-{}",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the workspace");
    dir
}

/// The storage figures of `package` in the report file: before, after, freed.
fn report_storage(workspace: &std::path::Path, package: &str) -> (u64, u64, u64) {
    let text = std::fs::read_to_string(workspace.join("report.json")).expect("a report file");
    let report: Value = serde_json::from_str(&text).expect("JSON");
    let entry = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == package)
        .unwrap_or_else(|| panic!("no {package} in {text}"));
    let storage = &entry["storage"];
    let figure = |key: &str| {
        storage[key]
            .as_u64()
            .unwrap_or_else(|| panic!("no storage.{key} in {entry}"))
    };
    (figure("before"), figure("after"), figure("freed"))
}

/// `app`: v1 and v2 on the same 50 MiB base layer, each with its own config and layer; v3 on
/// another base. The run deletes v1 and v3 (keep-latest 1 spares v2, the newest).
fn shared_base() -> (World, u64) {
    let base = blob("base", 50 * MIB);
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let image = |config: Blob, layers: &[Blob]| Manifest::image_with(config, layers);
    app.add_version(&digest(1), &["v1"], days(30))
        .with_manifest(image(
            blob("config v1", 2 * KIB),
            &[base.clone(), blob("app v1", 10 * MIB)],
        ));
    app.add_version(&digest(3), &["v3"], days(20))
        .with_manifest(image(
            blob("config v3", 3 * KIB),
            &[blob("other base", 7 * MIB)],
        ));
    app.add_version(&digest(2), &["v2"], days(10))
        .with_manifest(image(
            blob("config v2", 2 * KIB),
            &[base, blob("app v2", 20 * MIB)],
        ));
    // Freed: v1's config and own layer, all of v3; the base stays with v2.
    let freed = (2 * KIB + 10 * MIB) + (3 * KIB + 7 * MIB);
    (world, freed)
}

#[test]
fn a_shared_base_layer_frees_nothing_while_a_kept_image_uses_it() {
    let (world, freed) = shared_base();
    let before = 50 * MIB + (2 * KIB + 10 * MIB) + (3 * KIB + 7 * MIB) + (2 * KIB + 20 * MIB);
    let fake = FakeGithub::start(world);
    let workspace = workspace();
    let result = Run::new(&fake)
        .input("packages", "app")
        .input("keep-latest", "1")
        .input("report-file", "report.json")
        .env("GITHUB_WORKSPACE", workspace.to_str().unwrap())
        .run();
    result.assert_success();
    assert_eq!(result.output_count("deleted-count"), 2);
    assert_eq!(result.output_count("bytes-freed"), freed);
    assert_eq!(
        report_storage(&workspace, "app"),
        (before, before - freed, freed)
    );
    let head = headline(&result.summary);
    assert_eq!(head["freed"], binary(freed));
    assert_eq!(binary(freed), "17.0 MiB");
    // The storage fold shows before and after in binary units.
    assert!(
        result.summary.contains(&binary(before))
            && result.summary.contains(&binary(before - freed)),
        "{}",
        result.summary
    );
    let _ = std::fs::remove_dir_all(&workspace);
}

#[test]
fn deleting_every_image_of_a_base_frees_the_base_once() {
    let base = blob("base", 50 * MIB);
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    for (n, own) in [(1u64, MIB), (2, 2 * MIB), (3, 4 * MIB)] {
        app.add_version(&digest(n), &[&format!("pr-{n}")], days(30 - n))
            .with_manifest(Manifest::image_with(
                blob(&format!("config {n}"), KIB),
                &[base.clone(), blob(&format!("own {n}"), own)],
            ));
    }
    app.add_version(&digest(9), &["v1"], days(1))
        .with_manifest(Manifest::image_with(
            blob("config 9", KIB),
            &[blob("v1", MIB)],
        ));
    let fake = FakeGithub::start(world);
    let result = Run::new(&fake)
        .input("packages", "app")
        .input("tags", "pr-*")
        .run();
    result.assert_success();
    assert_eq!(result.output_count("deleted-count"), 3);
    assert_eq!(
        result.output_count("bytes-freed"),
        50 * MIB + 3 * KIB + 7 * MIB
    );
}

/// `app`: a multi-platform release `v1` (amd64, arm64) and `v2` (amd64, arm64); each platform
/// image is a per-architecture base shared by both releases plus a layer of its own.
fn multi_platform() -> (World, u64, u64) {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let base_amd64 = blob("base amd64", 30 * MIB);
    let base_arm64 = blob("base arm64", 28 * MIB);
    for (release, age, amd64_own, arm64_own) in
        [(1u64, 20, 5 * MIB, 6 * MIB), (2, 10, 7 * MIB, 8 * MIB)]
    {
        let (index, amd64, arm64) = (release * 10, release * 10 + 1, release * 10 + 2);
        app.add_version(&digest(amd64), &[], days(age))
            .with_manifest(Manifest::image_with(
                blob(&format!("config {release} amd64"), KIB),
                &[
                    base_amd64.clone(),
                    blob(&format!("{release} amd64"), amd64_own),
                ],
            ));
        app.add_version(&digest(arm64), &[], days(age))
            .with_manifest(Manifest::image_with(
                blob(&format!("config {release} arm64"), KIB),
                &[
                    base_arm64.clone(),
                    blob(&format!("{release} arm64"), arm64_own),
                ],
            ));
        app.add_version(&digest(index), &[&format!("v{release}")], days(age))
            .with_manifest(Manifest::index(&[digest(amd64), digest(arm64)]));
    }
    let before = 30 * MIB + 28 * MIB + 4 * KIB + (5 + 6 + 7 + 8) * MIB;
    // v1 goes with its platform manifests: their configs and own layers, not the bases.
    let freed = 2 * KIB + (5 + 6) * MIB;
    (world, before, freed)
}

#[test]
fn a_multi_platform_image_frees_its_platforms_own_layers() {
    let (world, before, freed) = multi_platform();
    let fake = FakeGithub::start(world);
    let workspace = workspace();
    let result = Run::new(&fake)
        .input("packages", "app")
        .input("tags", "v1")
        .input("report-file", "report.json")
        .env("GITHUB_WORKSPACE", workspace.to_str().unwrap())
        .run();
    result.assert_success();
    assert_eq!(
        result.output_count("deleted-count"),
        3,
        "the index and its platforms"
    );
    assert_eq!(result.output_count("bytes-freed"), freed);
    assert_eq!(
        report_storage(&workspace, "app"),
        (before, before - freed, freed)
    );
    let _ = std::fs::remove_dir_all(&workspace);
}

#[test]
fn a_cached_run_gives_the_same_figures_without_reading_a_manifest() {
    let (world, before, freed) = multi_platform();
    let fake = FakeGithub::start(world);
    let workspace = workspace();
    let run = || {
        Run::new(&fake)
            .input("packages", "app")
            .input("tags", "v1")
            .input("dry-run", "true")
            .input("manifest-cache", "manifests.cache")
            .input("report-file", "report.json")
            .env("GITHUB_WORKSPACE", workspace.to_str().unwrap())
            .run()
    };
    let first = run();
    first.assert_success();
    let reads = fake.count("GET", "/manifests/");
    assert!(reads > 0);
    let first_storage = report_storage(&workspace, "app");
    assert_eq!(first_storage, (before, before - freed, freed));

    let second = run();
    second.assert_success();
    assert_eq!(fake.count("GET", "/manifests/"), reads, "no manifest read");
    assert_eq!(report_storage(&workspace, "app"), first_storage);
    assert_eq!(second.output("bytes-freed"), first.output("bytes-freed"));
    assert_eq!(
        headline(&second.summary)["freed"],
        headline(&first.summary)["freed"]
    );
    let _ = std::fs::remove_dir_all(&workspace);
}

#[test]
fn other_package_types_free_nothing_and_show_no_storage() {
    let mut world = world();
    let lib = world.add_package(OWNER, "npm", "lib");
    for n in 0..4u64 {
        lib.add_version(&format!("1.0.{n}"), &[], days(10 - n));
    }
    let fake = FakeGithub::start(world);
    let result = Run::new(&fake)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("keep-latest", "1")
        .run();
    result.assert_success();
    assert_eq!(result.output("bytes-freed"), "0");
    assert!(
        !headline(&result.summary).contains_key("freed"),
        "{}",
        result.summary
    );
}

// ---------------------------------------------------------------------------------------------
// Caps

#[test]
fn broken_images_missing_twenty_thousand_platforms_keep_the_summary_and_log_lines_in_bounds() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    // 20,000 missing platform manifests, in two indexes of 10,000 (an index of 20,000 would be
    // over the 4 MiB a manifest may take, and so unreadable).
    let missing: Vec<String> = (0..20_000u64).map(|n| digest(1_000_000 + n)).collect();
    app.add_version(&digest(1), &["v1"], days(1))
        .with_manifest(Manifest::index(&missing[..10_000]));
    app.add_version(&digest(2), &["v2"], days(1))
        .with_manifest(Manifest::index(&missing[10_000..]));
    let mut gone = BTreeSet::new();
    for n in 0..30u64 {
        gone.insert(
            app.add_version(&digest(100 + n), &[&format!("pr-{n}")], days(40 - n))
                .with_manifest(Manifest::image())
                .id,
        );
    }
    let fake = FakeGithub::start(world);
    let result = Run::new(&fake)
        .env("PACKAGE_RETENTION_POINTS_PER_MINUTE", "100000000")
        .input("packages", "app")
        .input("tags", "pr-*")
        .run();
    result.assert_success();
    let summary = &result.summary;
    assert!(summary.len() <= 1_000_000, "{} bytes", summary.len());
    assert!(
        summary.contains("Broken images"),
        "named in the summary:\n{}",
        &summary[..summary.len().min(3000)]
    );
    assert_log_lines_fit(&result);
    let warning = result
        .annotations("warning")
        .into_iter()
        .find(|w| w.contains(&missing[0]))
        .expect("a warning names the broken image's missing digests");
    assert!(
        warning.contains(&missing[19]) && !warning.contains(&missing[20]),
        "{warning}"
    );
    assert!(warning.contains("9980 more"), "{warning}");
    let steps = undo_steps(summary);
    let undo: BTreeSet<u64> = steps.into_iter().flat_map(|(_, ids)| ids).collect();
    assert_eq!(undo, gone, "the Undo block whole");
}
