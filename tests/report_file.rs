//! What the run tells, when it is long or when the runner's files fail: every output at most
//! 1,000,000 bytes (lists cut to their first entries, still valid, `truncated: true`, a warning
//! pointing at `report-file`), the `report-file` with everything, and a `GITHUB_OUTPUT` that
//! cannot be written (the summary and the log still carry every id, exit 1).

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use common::{Run, RunResult, OWNER, TOKEN};
use fake_github::{FakeGithub, World, MSG_TOO_MANY_DOWNLOADS};
use serde_json::Value;

/// The cap GitHub's 1 MiB per output leaves.
const OUTPUT_LIMIT: usize = 1_000_000;

/// A fresh directory to serve as `GITHUB_WORKSPACE`.
fn workspace() -> PathBuf {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "package-retention-workspace-{}-{}",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the workspace");
    dir
}

/// Organization `acme` with npm package `app` of `n` versions one minute apart, the first the
/// oldest; returns the world and the ids in that order.
fn npm_world(n: u64) -> (World, Vec<u64>) {
    npm_world_named(n, |i| format!("1.0.{i}"))
}

/// The same, with version names made by `name`.
fn npm_world_named(n: u64, name: impl Fn(u64) -> String) -> (World, Vec<u64>) {
    let mut world = World::new().org(OWNER).user("alice").token(TOKEN, "alice");
    let app = world.add_package(OWNER, "npm", "app");
    let ids = (0..n)
        .map(|i| {
            let age = std::time::Duration::from_secs((n - i) * 60);
            app.add_version(&name(i), &[], age).id
        })
        .collect();
    (world, ids)
}

fn npm_run(fake: &FakeGithub, workspace: &std::path::Path) -> Run {
    Run::new(fake)
        .input("package-type", "npm")
        .input("packages", "app")
        .env("GITHUB_WORKSPACE", workspace.to_str().unwrap())
}

fn read_json(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("report {} not written: {e}", path.display()));
    serde_json::from_str(&text).expect("the report is JSON")
}

fn ids_of(list: &Value) -> Vec<u64> {
    let mut ids: Vec<u64> = list
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v["id"].as_u64().expect("an id"))
        .collect();
    ids.sort_unstable();
    ids
}

fn assert_every_output_fits(result: &RunResult) {
    for (name, value) in &result.outputs {
        assert!(
            value.len() <= OUTPUT_LIMIT,
            "output {name} is {} bytes",
            value.len()
        );
    }
}

#[test]
fn six_thousand_deletions_keep_every_output_under_a_megabyte_and_the_report_file_holds_all() {
    // Build metadata in the names, as CI builds publish them: about 190 bytes an entry.
    let (world, ids) = npm_world_named(6_001, |i| format!("1.0.{i}+build.{i:040}"));
    let fake = FakeGithub::start(world);
    let workspace = workspace();

    let result = npm_run(&fake, &workspace)
        .input("keep-latest", "1")
        .input("report-file", "reports/retention.json")
        .env("PACKAGE_RETENTION_POINTS_PER_MINUTE", "100000000")
        .env("PACKAGE_RETENTION_MAX_IN_FLIGHT", "32")
        .timeout(std::time::Duration::from_secs(600))
        .run();

    result.assert_success();
    let gone = ids[..6_000].to_vec();
    let after = fake.world();
    let app = after.package(OWNER, "npm", "app").unwrap();
    assert_eq!(app.deleted_ids(), gone, "every deletion happened");
    assert_eq!(app.active_ids(), vec![ids[6_000]]);

    // Every output is there and fits; `deleted` (about 1.2 MB whole) is cut, still valid JSON,
    // its entries the first ones of the full list.
    assert_every_output_fits(&result);
    assert_eq!(result.output_count("deleted-count"), 6_000);
    assert_eq!(result.output_count("restored-count"), 0);
    assert_eq!(result.output_count("failed-count"), 0);
    assert_eq!(result.output_count("kept-count"), 1);
    assert_eq!(result.output_count("deferred-count"), 0);
    assert_eq!(result.output("truncated"), "true");
    assert_eq!(result.output("report-file"), "reports/retention.json");
    let deleted = result.output_json("deleted");
    let listed = deleted.as_array().unwrap();
    assert!(
        (4_000..6_000).contains(&listed.len()),
        "{} entries",
        listed.len()
    );
    assert!(result.output("deleted").len() > OUTPUT_LIMIT - 1_000);
    assert_eq!(result.output_json("restored"), serde_json::json!([]));
    assert_eq!(result.output_json("failed"), serde_json::json!([]));
    // version-ids (about 48 kB) is whole.
    let mut version_ids = result.output_ids("version-ids");
    version_ids.sort_unstable();
    assert_eq!(version_ids, gone);
    let warnings = result.annotations("warning").join("\n");
    assert!(
        warnings.contains("output `deleted` holds the first")
            && warnings.contains("of 6000 entries")
            && warnings.contains("reports/retention.json"),
        "{warnings}"
    );
    assert!(!warnings.contains("version-ids"), "{warnings}");

    // The report file holds everything.
    let report = read_json(&workspace.join("reports/retention.json"));
    assert_eq!(report["mode"], "delete");
    assert_eq!(report["dry_run"], false);
    assert_eq!(report["counts"]["deleted"], 6_000);
    assert_eq!(report["counts"]["kept"], 1);
    assert_eq!(ids_of(&report["deleted"]), gone);
    assert_eq!(report["deleted"][0]["package"], "app");
    assert!(report["deleted"][0]["name"]
        .as_str()
        .unwrap()
        .contains("+build."));
    assert_eq!(report["deleted"][0]["owner"], OWNER);
    // No filter is given: keep-latest alone spares the newest.
    assert_eq!(
        report["deleted"][0]["reason"],
        "selected: no filter is given, so every version is"
    );
    assert_eq!(ids_of(&report["kept"]), vec![ids[6_000]]);
    assert!(report["kept"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("keep-latest"));
    assert_eq!(report["failed"], serde_json::json!([]));
    assert_eq!(report["deferred"], serde_json::json!([]));
    let mut report_ids: Vec<u64> = report["version_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    report_ids.sort_unstable();
    assert_eq!(report_ids, gone);

    // The summary stays under 1 MiB, says where the rest is, and still has its Undo block.
    assert!(result.summary.len() < 1024 * 1024);
    assert!(result.summary.contains("## Undo"), "no Undo block");
    assert!(result.summary.contains("reports/retention.json"));
    let _ = std::fs::remove_dir_all(&workspace);
}

#[test]
fn the_report_file_says_why_each_version_was_kept_failed_or_deferred() {
    let (mut world, ids) = npm_world(6);
    let app = world.package_mut(OWNER, "npm", "app").unwrap();
    app.public();
    app.version_mut(ids[1]).unwrap().with_downloads(9_000);
    let fake = FakeGithub::start(world);
    let workspace = workspace();

    // Oldest first: ids[0] deleted, ids[1] refused, ids[2] deferred by max-deletions; the two
    // newest kept.
    let result = npm_run(&fake, &workspace)
        .input("keep-latest", "2")
        .input("max-deletions", "2")
        .input("report-file", "report.json")
        .input("fail-on-error", "false")
        .run();

    result.assert_success();
    assert_eq!(
        fake.world()
            .package(OWNER, "npm", "app")
            .unwrap()
            .deleted_ids(),
        vec![ids[0]]
    );
    assert_eq!(result.output("truncated"), "false");
    assert_eq!(result.output("report-file"), "report.json");
    assert_eq!(result.output_count("deleted-count"), 1);
    assert_eq!(result.output_count("failed-count"), 1);
    assert_eq!(result.output_count("deferred-count"), 2);
    assert_eq!(result.output_count("kept-count"), 2);
    let report = read_json(&workspace.join("report.json"));
    assert_eq!(ids_of(&report["deleted"]), vec![ids[0]]);
    assert_eq!(ids_of(&report["failed"]), vec![ids[1]]);
    let failed = &report["failed"][0];
    assert_eq!(failed["status"], 400);
    assert_eq!(failed["message"], MSG_TOO_MANY_DOWNLOADS);
    assert!(failed["cause"].as_str().unwrap().contains("5,000"));
    assert_eq!(ids_of(&report["deferred"]), vec![ids[2], ids[3]]);
    assert!(report["deferred"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("max-deletions"));
    assert_eq!(ids_of(&report["kept"]), vec![ids[4], ids[5]]);
    assert_eq!(report["packages"][0]["name"], "app");
    assert_eq!(report["packages"][0]["active_before"], 6);
    assert_eq!(report["version_ids"], serde_json::json!([ids[0]]));
    let _ = std::fs::remove_dir_all(&workspace);
}

#[test]
fn a_dry_run_writes_the_report_of_what_it_would_do() {
    let (world, ids) = npm_world(3);
    let fake = FakeGithub::start(world);
    let workspace = workspace();

    let result = npm_run(&fake, &workspace)
        .input("keep-latest", "1")
        .input("dry-run", "true")
        .input("report-file", "./out/dry.json")
        .run();

    result.assert_success();
    assert_eq!(fake.writes(), 0);
    let report = read_json(&workspace.join("out/dry.json"));
    assert_eq!(report["dry_run"], true);
    assert_eq!(ids_of(&report["deleted"]), ids[..2].to_vec());
    assert_eq!(result.output("report-file"), "./out/dry.json");
    let _ = std::fs::remove_dir_all(&workspace);
}

#[test]
fn a_report_file_outside_the_workspace_is_bad_input_before_any_request() {
    let (world, _) = npm_world(2);
    let fake = FakeGithub::start(world);
    let workspace = workspace();
    for path in [
        "/tmp/report.json",
        "../report.json",
        "reports/../../x.json",
        "reports/",
    ] {
        let result = npm_run(&fake, &workspace).input("report-file", path).run();
        result.assert_code(2);
        let errors = result.annotations("error").join("\n");
        assert!(errors.contains("report-file"), "{path}: {errors}");
    }
    assert!(fake.requests().is_empty(), "no request at all");
    let _ = std::fs::remove_dir_all(&workspace);
}

#[test]
fn a_report_file_that_cannot_be_written_is_bad_input_before_any_change() {
    let (world, _) = npm_world(3);
    let fake = FakeGithub::start(world);
    let workspace = workspace();
    // A directory stands where the file should go: found out before anything is deleted (it
    // was found out only after the deletions).
    std::fs::create_dir_all(workspace.join("taken")).unwrap();

    let result = npm_run(&fake, &workspace)
        .input("keep-latest", "1")
        .input("report-file", "taken")
        .run();

    result.assert_code(2);
    assert_eq!(
        fake.world()
            .package(OWNER, "npm", "app")
            .unwrap()
            .deleted_ids(),
        Vec::<u64>::new()
    );
    assert!(fake.requests().is_empty(), "no request at all");
    let errors = result.annotations("error").join("\n");
    assert!(
        errors.contains("`report-file`") && errors.contains("is a folder, not a file"),
        "{errors}"
    );
    let _ = std::fs::remove_dir_all(&workspace);
}

#[test]
fn an_unwritable_github_output_still_gives_the_summary_and_every_id_in_the_log() {
    let (world, ids) = npm_world(1_301);
    let fake = FakeGithub::start(world);
    let workspace = workspace();

    let result = npm_run(&fake, &workspace)
        .input("keep-latest", "1")
        .env("GITHUB_OUTPUT", "/nonexistent-directory/github_output")
        .env("PACKAGE_RETENTION_POINTS_PER_MINUTE", "100000000")
        .env("PACKAGE_RETENTION_MAX_IN_FLIGHT", "32")
        .timeout(std::time::Duration::from_secs(300))
        .run();

    result.assert_code(1);
    let gone = ids[..1_300].to_vec();
    assert_eq!(
        fake.world()
            .package(OWNER, "npm", "app")
            .unwrap()
            .deleted_ids(),
        gone
    );
    assert!(result.outputs.is_empty());
    let errors = result.annotations("error").join("\n");
    assert!(errors.contains("cannot write GITHUB_OUTPUT"), "{errors}");
    // Every id is in the log, beyond the 1,000 lines the per-version log shows.
    let logged: Vec<u64> = result
        .stdout
        .lines()
        .skip_while(|line| !line.starts_with("Version ids deleted in npm app of acme (1300):"))
        .skip(1)
        .take_while(|line| line.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .flat_map(|line| line.split(',').map(|id| id.parse::<u64>().unwrap()))
        .collect();
    let mut logged = logged;
    logged.sort_unstable();
    assert_eq!(logged, gone, "{}", result.stdout);
    // The summary, with its Undo block holding every id.
    assert!(result.summary.contains("## Undo"), "{}", result.summary);
    let undo = &result.summary[result.summary.find("## Undo").unwrap()..];
    for id in &gone {
        assert!(
            undo.contains(&id.to_string()),
            "{id} missing from the Undo block"
        );
    }
    let _ = std::fs::remove_dir_all(&workspace);
}

#[test]
fn hostile_version_names_stay_data_in_the_log_and_the_report_file() {
    // Package names are validated before use; version names come from the API as they are.
    let hostile = "1.0.0\r\n::error::owned %0A | `x` <b>";
    let mut world = World::new().org(OWNER).user("alice").token(TOKEN, "alice");
    let package = world.add_package(OWNER, "npm", "app");
    let old = package
        .add_version(hostile, &[], std::time::Duration::from_secs(7_200))
        .id;
    package.add_version("2.0.0", &[], std::time::Duration::from_secs(60));
    let fake = FakeGithub::start(world);
    let workspace = workspace();

    let result = npm_run(&fake, &workspace)
        .input("keep-latest", "1")
        .input("report-file", "report.json")
        .env("GITHUB_OUTPUT", "/nonexistent-directory/github_output")
        .run();

    result.assert_code(1);
    assert_eq!(
        fake.world()
            .package(OWNER, "npm", "app")
            .unwrap()
            .deleted_ids(),
        vec![old]
    );
    // No line of the log is a command the name started.
    for line in result.stdout.lines() {
        assert!(!line.starts_with("::error::owned"), "{}", result.stdout);
    }
    assert!(result
        .stdout
        .lines()
        .any(|line| line == "Version ids deleted in npm app of acme (1):"));
    assert!(result.stdout.lines().any(|line| line == old.to_string()));
    let report = read_json(&workspace.join("report.json"));
    assert_eq!(report["deleted"][0]["name"], hostile);
    assert!(result.summary.contains("## Undo"));
    let _ = std::fs::remove_dir_all(&workspace);
}

#[test]
fn a_run_that_stops_early_says_why_in_the_report_file_and_the_summary() {
    // The owner does not exist: the run stops before any package, and changes nothing.
    let (world, _) = npm_world(3);
    let fake = FakeGithub::start(world);
    let workspace = workspace();
    let result = npm_run(&fake, &workspace)
        .input("owner", "nobody-here")
        .input("report-file", "report.json")
        .run();

    result.assert_code(1);
    assert_eq!(fake.writes(), 0);
    assert_eq!(result.output_count("deleted-count"), 0);
    assert_eq!(result.output("report-file"), "report.json");
    let report = read_json(&workspace.join("report.json"));
    assert_eq!(report["deleted"], serde_json::json!([]));
    let warning = report["warnings"][0].as_str().unwrap();
    assert!(
        warning.starts_with("the run stopped before it changed anything: "),
        "{warning}"
    );
    assert!(warning.contains("nobody-here"), "{warning}");
    assert!(
        result
            .summary
            .contains("the run stopped before it changed anything"),
        "{}",
        result.summary
    );
    assert!(!result.summary.contains("## Undo"), "{}", result.summary);
}
