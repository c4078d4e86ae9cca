//! A living registry, end to end: a push between two pages of a listing (distinct ids in the
//! guards and the outputs, no whole-package delete that would take the new version), a tag CI
//! moved before `untag` pushes under it, a token without delete rights (no write after the
//! first confirmed refusal), and cancelled runs — SIGTERM/SIGINT mid-run as PID 1 and as a plain
//! child, a write that never answers, restore mode, SIGKILL — checked against the fake's final
//! state, every output, the summary's Undo block and the report file.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{Run, RunResult, Running, OWNER, TOKEN};
use fake_github::{
    days, digest, hours, Config, FakeGithub, ListingChange, ScriptedFault, TagMove, World,
};
use serde_json::Value;

const APP: (&str, &str, &str) = (OWNER, "npm", "app");
const APP_VERSIONS: &str = "/orgs/acme/packages/npm/app/versions";

/// Organization `acme` with npm package `app` of `n` versions one hour apart (`1.0.0` the
/// oldest); the ids in that order.
fn npm_world(n: u64) -> (World, Vec<u64>) {
    let mut world = World::new().org(OWNER).user("alice").token(TOKEN, "alice");
    let app = world.add_package(OWNER, "npm", "app");
    let ids = (0..n)
        .map(|i| app.add_version(&format!("1.0.{i}"), &[], hours(n - i)).id)
        .collect();
    (world, ids)
}

fn npm_run(fake: &FakeGithub) -> Run {
    Run::new(fake)
        .input("package-type", "npm")
        .input("packages", "app")
        // Deletes are not paced in these tests: hundreds of them fit in one run.
        .env("PACKAGE_RETENTION_POINTS_PER_MINUTE", "100000")
}

fn sorted(ids: impl IntoIterator<Item = u64>) -> Vec<u64> {
    let mut ids: Vec<u64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids
}

/// Panics unless no id appears twice.
fn assert_distinct(what: &str, ids: &[u64]) {
    let distinct: BTreeSet<u64> = ids.iter().copied().collect();
    assert_eq!(distinct.len(), ids.len(), "{what} repeats an id: {ids:?}");
}

fn app(fake: &FakeGithub) -> fake_github::Package {
    fake.world()
        .package(OWNER, "npm", "app")
        .expect("package app")
        .clone()
}

fn json_ids(value: &Value) -> Vec<u64> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v["id"].as_u64().expect("an id"))
        .collect()
}

/// The ids of the summary's Undo block (`version-ids:` on its line and the lines that follow
/// it with nothing but ids).
fn undo_ids(summary: &str) -> Vec<u64> {
    let Some(at) = summary.find("## Undo") else {
        return Vec::new();
    };
    let mut ids = Vec::new();
    let mut in_ids = false;
    for line in summary[at..].lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("version-ids:") {
            in_ids = true;
            ids.extend(numbers(rest.trim_start_matches([' ', '|'])));
        } else if in_ids
            && !trimmed.is_empty()
            && trimmed
                .chars()
                .all(|c| c.is_ascii_digit() || c == ',' || c == ' ')
        {
            ids.extend(numbers(trimmed));
        } else {
            in_ids = false;
        }
    }
    ids
}

fn numbers(text: &str) -> Vec<u64> {
    text.split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("an id"))
        .collect()
}

/// Every list and count of a delete run names exactly `deleted`, each once.
fn assert_deleted_exactly(result: &RunResult, deleted: &[u64]) {
    let logs = result.logs();
    let want = sorted(deleted.iter().copied());
    let listed = json_ids(&result.output_json("deleted"));
    assert_distinct("deleted", &listed);
    assert_eq!(sorted(listed), want, "deleted\n{logs}");
    let version_ids = result.output_ids("version-ids");
    assert_distinct("version-ids", &version_ids);
    assert_eq!(sorted(version_ids), want, "version-ids\n{logs}");
    assert_eq!(result.output_count("deleted-count"), want.len() as u64);
    if want.is_empty() {
        assert!(!result.summary.contains("## Undo"), "{}", result.summary);
    } else {
        let undo = undo_ids(&result.summary);
        assert_distinct("the Undo block", &undo);
        assert_eq!(sorted(undo), want, "Undo block\n{}", result.summary);
    }
}

// --- Listings: distinct ids everywhere ----------------------------------------------------

#[test]
fn a_push_between_two_pages_leaves_keep_latest_its_count_of_distinct_versions() {
    // 150 versions; a push after page 1 shifts page 2 by one: the 100th newest is listed
    // twice, the new one never.
    let (world, ids) = npm_world(150);
    let config = Config {
        listing_changes: vec![ListingChange::push(APP, 1, "2.0.0", &[])],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);

    let result = npm_run(&fake).input("keep-latest", "100").run();

    result.assert_success();
    let app = app(&fake);
    let pushed = app.version_named("2.0.0").expect("pushed").id;
    assert_eq!(app.deleted_ids(), ids[..50], "the 50 oldest, not 51");
    assert_eq!(
        app.active_ids(),
        sorted(ids[50..].iter().copied().chain([pushed]))
    );
    assert_deleted_exactly(&result, &ids[..50]);
    assert_eq!(result.output_count("kept-count"), 100, "{}", result.logs());
    assert_eq!(
        fake.count("DELETE", APP_VERSIONS),
        50,
        "one DELETE a version"
    );
}

#[test]
fn a_version_listed_twice_counts_once_in_keep_latest_and_min_versions_to_keep() {
    // 101 versions; after a push between the pages, 1.0.1 (page 1's last) is listed twice.
    for (guard, value) in [("keep-latest", "1"), ("min-versions-to-keep", "100")] {
        let (world, ids) = npm_world(101);
        let config = Config {
            listing_changes: vec![ListingChange::push(APP, 1, "2.0.0", &[])],
            ..Config::default()
        };
        let fake = FakeGithub::start_with(world, config);

        let result = npm_run(&fake)
            .input("versions", "1.0.0, 1.0.1")
            .input(guard, value)
            .run();

        result.assert_success();
        assert_eq!(
            app(&fake).deleted_ids(),
            vec![ids[0]],
            "{guard}: {}",
            result.logs()
        );
        assert_deleted_exactly(&result, &[ids[0]]);
        assert_eq!(
            fake.count("DELETE", &format!("{APP_VERSIONS}/{}", ids[1])),
            0,
            "{guard}: 1.0.1 is spared whole"
        );
        let kept = result.output_count("kept-count");
        assert_eq!(kept, 100, "{guard}: 101 distinct listed, one deleted");
    }
}

#[test]
fn a_whole_package_delete_spares_a_version_pushed_during_the_listing() {
    // The duplicate makes the entries listed (151) equal version_count (151): only the ids
    // tell that a version was missed.
    let (world, ids) = npm_world(150);
    let config = Config {
        listing_changes: vec![ListingChange::push(APP, 1, "2.0.0", &[])],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);

    let result = npm_run(&fake).input("delete-empty-package", "true").run();

    result.assert_success();
    let app = app(&fake);
    assert!(!app.is_deleted(), "the package stays\n{}", result.logs());
    assert_eq!(fake.count("DELETE", "/orgs/acme/packages/npm/app"), 149);
    let pushed = app.version_named("2.0.0").expect("pushed").id;
    // Version by version, the newest listed spared as usual; the new one untouched.
    assert_eq!(app.active_ids(), vec![ids[149], pushed]);
    assert_deleted_exactly(&result, &ids[..149]);
    let warnings = result.annotations("warning").join("\n");
    assert!(
        warnings.contains("one by one") || warnings.contains("version by version"),
        "{warnings}"
    );
}

#[test]
fn a_whole_package_delete_is_refused_when_others_pushed_one_and_deleted_one_keeping_the_count() {
    // version_count agrees with the listing (3), but the ids do not.
    let (world, ids) = npm_world(3);
    let config = Config {
        listing_changes: vec![
            ListingChange::push(APP, 1, "2.0.0", &[]),
            ListingChange::delete(APP, 1, ids[1]),
        ],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);

    let result = npm_run(&fake).input("delete-empty-package", "true").run();

    result.assert_success();
    let app = app(&fake);
    assert!(!app.is_deleted(), "the package stays\n{}", result.logs());
    let pushed = app.version_named("2.0.0").expect("pushed").id;
    assert_eq!(app.active_ids(), vec![ids[2], pushed]);
    assert_eq!(
        fake.count("DELETE", &format!("{APP_VERSIONS}/{}", ids[2])),
        0,
        "the newest listed is spared"
    );
    // Listed twice: the plan's listing, then again right before the package delete.
    let listings = fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == APP_VERSIONS)
        .count();
    assert_eq!(listings, 2);
    assert!(result.output_ids("version-ids").contains(&ids[0]));
    assert!(!result.output_ids("version-ids").contains(&ids[2]));
}

// --- untag: a tag CI moved is left alone ---------------------------------------------------

#[test]
fn untag_leaves_a_tag_ci_moved_before_the_push_and_reports_the_version_failed() {
    let mut world = World::new().org(OWNER).user("alice").token(TOKEN, "alice");
    let package = world.add_package(OWNER, "container", "app");
    let release = package
        .add_version(&digest(1), &["pr-12", "v1.2.0"], days(3))
        .id;
    package.add_version(&digest(2), &["v1.1.0"], days(9));
    let config = Config {
        moved_tags: vec![TagMove::new(OWNER, "app", "pr-12", &digest(99))],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);

    let result = Run::new(&fake)
        .input("packages", "app")
        .input("tags", "pr-*")
        .input("untag", "true")
        .run();

    result.assert_code(1);
    let world = fake.world();
    let package = world.package(OWNER, "container", "app").unwrap();
    let fresh_digest = package.digest_of(&digest(99));
    let fresh = package
        .version_named(&fresh_digest)
        .expect("CI's fresh build");
    assert_eq!(fresh.tags, vec!["pr-12"], "the fresh build keeps its tag");
    assert_eq!(package.version(release).unwrap().tags, vec!["v1.2.0"]);
    assert_eq!(package.active_ids().len(), 3, "no throw-away version left");
    assert_eq!(fake.count("PUT", "/manifests/pr-12"), 0, "nothing pushed");
    assert_eq!(result.output_json("untagged"), serde_json::json!([]));
    let failed = result.output_json("failed");
    assert_eq!(json_ids(&failed), vec![release]);
    let message = failed[0]["message"].as_str().unwrap();
    assert!(message.contains("moved"), "{message}");
    assert!(message.contains(&fresh_digest), "{message}");
    assert!(!result.summary.contains("crane tag"), "{}", result.summary);
    assert_eq!(result.output_count("deleted-count"), 0);
}

// --- Missing delete rights: no write after the first confirmation ---------------------------

#[test]
fn a_token_without_delete_rights_gets_no_write_after_the_refusal_and_one_confirming_get() {
    let mut world = World::new()
        .org(OWNER)
        .user("alice")
        .token_without_delete_rights(TOKEN, "alice");
    let package = world.add_package(OWNER, "npm", "app");
    for i in 0..40u64 {
        package.add_version(&format!("1.0.{i}"), &[], hours(40 - i));
    }
    let fake = FakeGithub::start(world);

    let result = npm_run(&fake)
        .input("keep-latest", "1")
        .env("PACKAGE_RETENTION_MAX_IN_FLIGHT", "8")
        .run();

    result.assert_code(1);
    assert!(app(&fake).deleted_ids().is_empty());
    let deletes = fake.count("DELETE", APP_VERSIONS);
    assert!(
        deletes <= 8,
        "only the writes already in flight when the first 404 came: {deletes}\n{}",
        result.logs()
    );
    let confirmations = fake.count("GET", &format!("{APP_VERSIONS}/"));
    assert_eq!(confirmations, 1, "one confirming GET\n{}", result.logs());
    assert_eq!(result.output_count("failed-count"), 39);
    assert_deleted_exactly(&result, &[]);
}

// --- Cancelled runs -----------------------------------------------------------------------

/// A fresh directory to serve as `GITHUB_WORKSPACE`.
fn workspace() -> PathBuf {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "package-retention-living-{}-{}",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the workspace");
    dir
}

fn read_report(workspace: &Path) -> Value {
    let path = workspace.join("report.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("report {} not written: {e}", path.display()));
    serde_json::from_str(&text).expect("the report is JSON")
}

/// 10 versions, `keep-latest: 1`: 9 deletions one at a time; the 4th DELETE is `held`.
fn cancellable(held: ScriptedFault) -> (FakeGithub, Vec<u64>, PathBuf, Run) {
    let (world, ids) = npm_world(10);
    let config = Config {
        scripted: vec![held],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let workspace = workspace();
    let run = npm_run(&fake)
        .input("keep-latest", "1")
        .input("report-file", "report.json")
        .env("GITHUB_WORKSPACE", workspace.to_str().unwrap())
        .env("PACKAGE_RETENTION_MAX_IN_FLIGHT", "1")
        .timeout(Duration::from_secs(60));
    (fake, ids, workspace, run)
}

/// Signals the run while its 4th write is held, lets that write finish, and checks that the
/// run sent nothing more, exited non-zero within 7 s, and recorded exactly what the fake
/// deleted: outputs, summary, Undo block, report file, the `::error::`.
fn assert_cancelled_cleanly(signal: i32, under: &[&str], mode_restore: bool) {
    let (fake, ids, workspace, run) = if mode_restore {
        restorable()
    } else {
        cancellable(ScriptedFault::hold(Some("DELETE"), "/versions/", 4))
    };
    let running = run.start_under(under);
    assert!(
        fake.wait_until_held(1, Duration::from_secs(30)),
        "the 4th write never came\n{}",
        running.stdout_so_far()
    );
    let writes_at_signal = fake.writes();
    running.signal(signal);
    let signalled = Instant::now();
    // The write in flight finishes once the run has taken the signal in.
    let acknowledged = running.wait_for_stdout(Duration::from_secs(5), |log| {
        log.contains(&format!("Cancelled by {}", signal_name(signal)))
    });
    assert!(acknowledged, "{}", running.stdout_so_far());
    fake.release_held();
    let result = running.wait();
    let took = signalled.elapsed();

    let logs = result.logs();
    assert!(
        took < Duration::from_secs(7),
        "exit {took:?} after the signal\n{logs}"
    );
    assert_eq!(result.code, 128 + signal, "{logs}");
    assert_eq!(
        fake.writes(),
        writes_at_signal,
        "no write after the signal\n{logs}"
    );
    let errors = result.annotations("error").join("\n");
    assert!(errors.contains("cancelled"), "{errors}\n{logs}");
    assert!(
        result
            .summary
            .contains("deferred** (the run was cancelled before it sent them"),
        "{}",
        result.summary
    );

    let changed = if mode_restore { "restored" } else { "deleted" };
    let done: Vec<u64> = if mode_restore {
        sorted(
            ids.iter()
                .copied()
                .filter(|id| !app(&fake).deleted_ids().contains(id)),
        )
    } else {
        app(&fake).deleted_ids()
    };
    assert_eq!(
        done.len(),
        4,
        "three answered, the held one finished\n{logs}"
    );
    assert_eq!(
        sorted(json_ids(&result.output_json(changed))),
        done,
        "{logs}"
    );
    assert_eq!(sorted(result.output_ids("version-ids")), done);
    assert_eq!(result.output_count(&format!("{changed}-count")), 4);
    assert_eq!(result.output_count("failed-count"), 0, "{logs}");
    let planned = if mode_restore { 10 } else { 9 };
    assert_eq!(
        result.output_count("deferred-count"),
        planned - 4,
        "the rest, not sent\n{logs}"
    );
    if !mode_restore {
        assert_eq!(
            sorted(undo_ids(&result.summary)),
            done,
            "{}",
            result.summary
        );
    }
    let report = read_report(&workspace);
    assert_eq!(sorted(json_ids(&report[changed])), done);
    let report_ids: Vec<u64> = report["version_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(sorted(report_ids), done);
    assert_eq!(
        report["deferred"].as_array().unwrap().len(),
        planned as usize - 4
    );
    let _ = std::fs::remove_dir_all(&workspace);
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        _ => "SIGTERM",
    }
}

/// Whether this process may run a child as PID 1 of a new PID namespace; the reason when not.
fn pid_namespaces() -> Result<(), String> {
    let probe = std::process::Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .output();
    match probe {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
        Err(e) => Err(format!("unshare: {e}")),
    }
}

/// As the container runs it: the binary is PID 1 of its PID namespace, where a signal without
/// a handler is ignored, and the signal comes from outside (as `docker stop` sends it).
const AS_PID_1: [&str; 4] = ["unshare", "--pid", "--fork", "--mount-proc"];

/// Root (CI) must be able to run it; elsewhere the test says why it cannot and passes.
fn as_pid_1_or_why_not() -> bool {
    match pid_namespaces() {
        Ok(()) => true,
        // SAFETY: geteuid has no preconditions.
        Err(why) if unsafe { libc::geteuid() } == 0 => {
            panic!("root cannot make a PID namespace here: {why}")
        }
        Err(why) => {
            eprintln!("skipped: running the binary as PID 1 needs root (unshare --pid): {why}");
            false
        }
    }
}

#[test]
fn sigterm_as_pid_1_stops_writing_and_records_exactly_what_was_deleted() {
    if as_pid_1_or_why_not() {
        assert_cancelled_cleanly(libc::SIGTERM, &AS_PID_1, false);
    }
}

#[test]
fn sigint_as_pid_1_too() {
    if as_pid_1_or_why_not() {
        assert_cancelled_cleanly(libc::SIGINT, &AS_PID_1, false);
    }
}

#[test]
fn sigterm_as_a_plain_child_stops_writing_and_records_exactly_what_was_deleted() {
    assert_cancelled_cleanly(libc::SIGTERM, &[], false);
}

#[test]
fn sigint_as_a_plain_child_too() {
    assert_cancelled_cleanly(libc::SIGINT, &[], false);
}

/// 10 deleted versions to restore one at a time; the 4th restore is held.
fn restorable() -> (FakeGithub, Vec<u64>, PathBuf, Run) {
    let mut world = World::new().org(OWNER).user("alice").token(TOKEN, "alice");
    let package = world.add_package(OWNER, "npm", "app");
    let ids: Vec<u64> = (0..10u64)
        .map(|i| {
            package
                .add_version(&format!("1.0.{i}"), &[], hours(20 - i))
                .deleted_ago(hours(1))
                .id
        })
        .collect();
    package.add_version("2.0.0", &[], hours(1));
    let config = Config {
        scripted: vec![ScriptedFault::hold(Some("POST"), "/restore", 4)],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let workspace = workspace();
    let run = npm_run(&fake)
        .input("mode", "restore")
        .input("report-file", "report.json")
        .env("GITHUB_WORKSPACE", workspace.to_str().unwrap())
        .env("PACKAGE_RETENTION_MAX_IN_FLIGHT", "1")
        .timeout(Duration::from_secs(60));
    (fake, ids, workspace, run)
}

#[test]
fn sigterm_in_restore_mode_records_exactly_what_was_restored() {
    assert_cancelled_cleanly(libc::SIGTERM, &[], true);
}

#[test]
fn a_write_that_never_answers_is_given_up_and_the_run_still_exits_within_7_s() {
    let (fake, ids, workspace, run) =
        cancellable(ScriptedFault::hang(Some("DELETE"), "/versions/", 4));
    let running = run.start();
    // The hung DELETE is recorded (status 0) when it starts hanging.
    let started = Instant::now();
    while fake.count("DELETE", APP_VERSIONS) < 4 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the 4th write never came"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let hung = fake
        .requests()
        .iter()
        .any(|r| r.method == "DELETE" && r.status == 0);
    assert!(hung);
    running.signal(libc::SIGTERM);
    let signalled = Instant::now();
    let result = running.wait();
    let took = signalled.elapsed();

    let logs = result.logs();
    assert!(
        took < Duration::from_secs(7),
        "exit {took:?} after the signal\n{logs}"
    );
    assert!(
        took >= Duration::from_secs(4),
        "waited for the write in flight: {took:?}"
    );
    assert_eq!(result.code, 128 + libc::SIGTERM, "{logs}");
    assert_eq!(fake.count("DELETE", APP_VERSIONS), 4, "{logs}");
    let deleted = app(&fake).deleted_ids();
    assert_eq!(deleted.len(), 3);
    assert_deleted_exactly(&result, &deleted);
    // The unanswered one is not claimed: its fate is unknown, and it says so.
    let failed = result.output_json("failed");
    let unanswered = json_ids(&failed);
    assert_eq!(unanswered.len(), 1, "{logs}");
    assert!(ids.contains(&unanswered[0]) && !deleted.contains(&unanswered[0]));
    assert_eq!(result.output_count("deferred-count"), 5, "{logs}");
    let message = failed[0]["message"].as_str().unwrap();
    assert!(message.contains("cancelled"), "{message}");
    assert_eq!(
        sorted(json_ids(&read_report(&workspace)["deleted"])),
        deleted
    );
    let _ = std::fs::remove_dir_all(&workspace);
}

#[test]
fn untag_removals_not_begun_when_the_run_is_cancelled_are_deferred() {
    // pr-1 alone goes whole (a DELETE, held); pr-2 is removed from v2 afterwards, never begun.
    let mut world = World::new().org(OWNER).user("alice").token(TOKEN, "alice");
    let package = world.add_package(OWNER, "container", "app");
    let whole = package.add_version(&digest(1), &["pr-1"], days(3)).id;
    let release = package.add_version(&digest(2), &["pr-2", "v2"], days(2)).id;
    package.add_version(&digest(3), &["latest"], days(1));
    let config = Config {
        scripted: vec![ScriptedFault::hold(Some("DELETE"), "/versions/", 1)],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let running = Run::new(&fake)
        .input("packages", "app")
        .input("tags", "pr-*")
        .input("untag", "true")
        .timeout(Duration::from_secs(60))
        .start();
    assert!(fake.wait_until_held(1, Duration::from_secs(30)));
    running.signal(libc::SIGTERM);
    assert!(running.wait_for_stdout(Duration::from_secs(5), |log| log
        .contains("Cancelled by SIGTERM")));
    fake.release_held();
    let result = running.wait();

    let logs = result.logs();
    assert_eq!(result.code, 128 + libc::SIGTERM, "{logs}");
    assert_eq!(
        fake.count("PUT", "/manifests/"),
        0,
        "no push after the signal"
    );
    let world = fake.world();
    let package = world.package(OWNER, "container", "app").unwrap();
    assert!(package.version(whole).unwrap().is_deleted());
    assert_eq!(package.version(release).unwrap().tags, vec!["pr-2", "v2"]);
    assert_deleted_exactly(&result, &[whole]);
    assert_eq!(result.output_json("untagged"), serde_json::json!([]));
    assert_eq!(result.output_count("deferred-count"), 1, "{logs}");
    assert_eq!(result.output_count("failed-count"), 0, "{logs}");
}

// --- SIGKILL: the log holds every id changed ----------------------------------------------

/// The ids of the lines `deleted version <id> …` in a log.
fn logged_deletions(log: &str) -> Vec<u64> {
    log.lines()
        .filter_map(|line| line.strip_prefix("deleted version "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|id| id.parse().expect("an id"))
        .collect()
}

fn kill_mid_run(running: &Running, fake: &FakeGithub) -> Vec<u64> {
    assert!(fake.wait_until_held(1, Duration::from_secs(30)));
    // Every write answered so far has its line (it is printed as its answer arrives).
    let answered = app(fake).deleted_ids();
    let logged = running.wait_for_stdout(Duration::from_secs(10), |log| {
        sorted(logged_deletions(log)) == answered
    });
    assert!(
        logged,
        "deleted {answered:?}, but the log so far names {:?}\n{}",
        logged_deletions(&running.stdout_so_far()),
        running.stdout_so_far()
    );
    running.signal(libc::SIGKILL);
    answered
}

#[test]
fn after_sigkill_the_log_names_every_version_deleted() {
    let (fake, _, workspace, run) =
        cancellable(ScriptedFault::hold(Some("DELETE"), "/versions/", 4));
    let running = run.start();
    let answered = kill_mid_run(&running, &fake);
    let result = running.wait();

    assert_eq!(result.code, -1, "killed");
    assert_eq!(answered.len(), 3);
    let deleted = app(&fake).deleted_ids();
    assert_eq!(deleted, answered, "nothing deleted after the kill");
    assert_eq!(sorted(logged_deletions(&result.stdout)), deleted);
    assert!(
        result.outputs.is_empty(),
        "a killed run writes nothing more"
    );
    // Each line names the package and the version too.
    for line in result
        .stdout
        .lines()
        .filter(|l| l.starts_with("deleted version "))
    {
        assert!(line.contains("npm package app"), "{line}");
        assert!(line.contains("1.0."), "{line}");
    }
    let _ = std::fs::remove_dir_all(&workspace);
}
