//! Never report what did not happen, never act on a partial view: a token that may read but
//! not delete (GitHub answers its deletes 404), listings that end early (a page answering 404,
//! a page without `Link`, an empty page) and a listing that disagrees with `version_count`,
//! end to end against the fake, checked through its final state, every output and the summary.

mod common;

use common::{Run, RunResult, OWNER, TOKEN};
use fake_github::{hours, Config, FakeGithub, PageFault, PageFaultKind, World};
use serde_json::Value;

const APP_VERSIONS: &str = "/orgs/acme/packages/npm/app/versions";

/// Organization `acme` and user `alice`, with `token` making alice's token.
fn world(token: impl FnOnce(World) -> World) -> World {
    token(World::new().org(OWNER).user("alice"))
}

fn full_rights(world: World) -> World {
    world.token(TOKEN, "alice")
}

fn read_only(world: World) -> World {
    world.token_without_delete_rights(TOKEN, "alice")
}

/// Adds npm package `name` of `acme` with `n` versions one hour apart, the first the oldest;
/// returns their ids in that order.
fn add_npm(world: &mut World, name: &str, n: u64) -> Vec<u64> {
    let package = world.add_package(OWNER, "npm", name);
    (0..n)
        .map(|i| {
            package
                .add_version(&format!("1.0.{i}"), &[], hours(n - i))
                .id
        })
        .collect()
}

fn npm_run(fake: &FakeGithub, packages: &str) -> Run {
    Run::new(fake)
        .input("package-type", "npm")
        .input("packages", packages)
}

fn sorted(mut ids: Vec<u64>) -> Vec<u64> {
    ids.sort_unstable();
    ids
}

fn json_ids(value: &Value) -> Vec<u64> {
    sorted(
        value
            .as_array()
            .expect("an array")
            .iter()
            .map(|v| v["id"].as_u64().expect("an id"))
            .collect(),
    )
}

/// Every output of a delete run: the counts, the lists and the ids.
fn assert_outputs(result: &RunResult, deleted: &[u64], failed: &[u64], kept: u64, deferred: u64) {
    let logs = result.logs();
    assert_eq!(
        result.output_count("deleted-count"),
        deleted.len() as u64,
        "{logs}"
    );
    assert_eq!(result.output_count("restored-count"), 0, "{logs}");
    assert_eq!(
        result.output_count("failed-count"),
        failed.len() as u64,
        "{logs}"
    );
    assert_eq!(result.output_count("kept-count"), kept, "{logs}");
    assert_eq!(result.output_count("deferred-count"), deferred, "{logs}");
    assert_eq!(
        json_ids(&result.output_json("deleted")),
        sorted(deleted.to_vec())
    );
    assert_eq!(result.output_json("restored"), serde_json::json!([]));
    assert_eq!(
        json_ids(&result.output_json("failed")),
        sorted(failed.to_vec())
    );
    assert_eq!(
        sorted(result.output_ids("version-ids")),
        sorted(deleted.to_vec())
    );
}

fn deleted_in(fake: &FakeGithub, name: &str) -> Vec<u64> {
    fake.world()
        .package(OWNER, "npm", name)
        .unwrap_or_else(|| panic!("no package {name}"))
        .deleted_ids()
}

// --- A token that may read but not delete ------------------------------------------------

#[test]
fn a_token_without_delete_rights_deletes_nothing_says_why_and_stops_writing_to_the_package() {
    let mut world = world(read_only);
    let ids = add_npm(&mut world, "app", 12);
    let fake = FakeGithub::start(world);

    // One request at a time (two in the pipeline): the refusal is seen before most deletes.
    let result = npm_run(&fake, "app")
        .input("keep-latest", "1")
        .env("PACKAGE_RETENTION_MAX_IN_FLIGHT", "1")
        .run();

    result.assert_code(1);
    assert_eq!(
        deleted_in(&fake, "app"),
        Vec::<u64>::new(),
        "nothing changed"
    );
    let sent = fake.count("DELETE", APP_VERSIONS);
    assert!(
        (1..=2).contains(&sent),
        "no further deletes after the refusal: {sent} sent\n{}",
        result.logs()
    );
    assert_eq!(
        fake.count("GET", &format!("{APP_VERSIONS}/")),
        sent,
        "every 404 was confirmed with a GET of the version"
    );
    // Every selected version failed: the ones sent with GitHub's 404, the rest as not sent.
    assert_outputs(&result, &[], &ids[..11], 1, 0);
    let failed = result.output_json("failed");
    let failed = failed.as_array().unwrap();
    let refused: Vec<&Value> = failed.iter().filter(|f| f["status"] == 404).collect();
    assert_eq!(refused.len(), sent);
    assert!(refused.iter().all(|f| f["message"] == "Package not found."));
    let not_sent: Vec<&Value> = failed.iter().filter(|f| f["status"].is_null()).collect();
    assert_eq!(not_sent.len(), 11 - sent);
    assert!(not_sent
        .iter()
        .all(|f| f["message"].as_str().unwrap().starts_with("not sent:")));

    // The cause and the fix, in the log and the summary; no Undo for what did not happen.
    let errors = result.annotations("error").join("\n");
    assert!(errors.contains("lacks delete rights"), "{errors}");
    assert!(errors.contains("Manage Actions access: Admin"), "{errors}");
    assert!(errors.contains("delete:packages"), "{errors}");
    assert!(
        result.summary.contains("Manage Actions access: Admin"),
        "{}",
        result.summary
    );
    assert!(
        result.summary.contains("not attempted"),
        "{}",
        result.summary
    );
    assert!(!result.summary.contains("## Undo"), "{}", result.summary);
    assert!(
        !result.summary.contains("| package | id | version | tags |"),
        "{}",
        result.summary
    );
}

#[test]
fn a_token_without_delete_rights_cannot_delete_a_whole_package_either() {
    let mut world = world(read_only);
    let ids = add_npm(&mut world, "app", 3);
    let fake = FakeGithub::start(world);

    let result = npm_run(&fake, "app")
        .input("delete-empty-package", "true")
        .run();

    result.assert_code(1);
    let world = fake.world();
    let app = world.package(OWNER, "npm", "app").unwrap();
    assert!(!app.is_deleted());
    assert_eq!(app.active_ids(), ids);
    assert_eq!(fake.count("DELETE", "/orgs/acme/packages/npm/app"), 1);
    // version_count before the delete, and the confirmation after its 404.
    let package_gets = fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/orgs/acme/packages/npm/app")
        .count();
    assert_eq!(package_gets, 2);
    assert_outputs(&result, &[], &ids, 0, 0);
    assert!(
        result.summary.contains("Manage Actions access: Admin"),
        "{}",
        result.summary
    );
    assert!(!result.summary.contains("## Undo"), "{}", result.summary);
}

#[test]
fn with_fail_on_error_false_the_refusal_is_still_reported_but_the_step_passes() {
    let mut world = world(read_only);
    let ids = add_npm(&mut world, "app", 2);
    let fake = FakeGithub::start(world);

    let result = npm_run(&fake, "app")
        .input("keep-latest", "1")
        .input("fail-on-error", "false")
        .run();

    result.assert_success();
    assert_eq!(deleted_in(&fake, "app"), Vec::<u64>::new());
    assert_outputs(&result, &[], &ids[..1], 1, 0);
    assert!(
        result.summary.contains("lacks delete rights"),
        "{}",
        result.summary
    );
}

// --- Listings that end early ---------------------------------------------------------------

/// `app` (250 versions, its listing misbehaving as `fault` says) and `other` (3 versions), with
/// `keep-latest: 1`: `app` is an error with nothing changed, `other` goes on.
fn assert_partial_listing_is_an_error(kind: PageFaultKind, page: u64, explanation: &str) {
    let mut world = world(full_rights);
    add_npm(&mut world, "app", 250);
    let other = add_npm(&mut world, "other", 3);
    let config = Config {
        page_faults: vec![PageFault::new(APP_VERSIONS, page, kind)],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);

    let result = npm_run(&fake, "app, other")
        .input("keep-latest", "1")
        .input("delete-empty-package", "true")
        .run();

    result.assert_code(1);
    assert_eq!(
        fake.count("DELETE", "/npm/app"),
        0,
        "{kind:?}: app untouched"
    );
    assert!(!fake
        .world()
        .package(OWNER, "npm", "app")
        .unwrap()
        .is_deleted());
    assert_eq!(deleted_in(&fake, "app"), Vec::<u64>::new());
    assert_eq!(
        deleted_in(&fake, "other"),
        other[..2].to_vec(),
        "other goes on"
    );
    assert_outputs(&result, &other[..2], &[], 1, 0);
    let errors = result.annotations("error").join("\n");
    assert!(
        errors.contains("could not all be listed"),
        "{kind:?}: {errors}"
    );
    assert!(errors.contains(explanation), "{kind:?}: {errors}");
    assert!(
        result.summary.contains("could not all be listed") && result.summary.contains(explanation),
        "{kind:?}: {}",
        result.summary
    );
    assert!(
        result.summary.contains("| `app` ⚠️ |"),
        "{}",
        result.summary
    );
}

#[test]
fn a_later_page_answering_404_is_an_error_for_that_package_not_a_missing_package() {
    assert_partial_listing_is_an_error(PageFaultKind::NotFound, 2, "page 2 answered 404");
}

#[test]
fn a_page_without_link_while_versions_remain_is_an_error_for_that_package() {
    assert_partial_listing_is_an_error(
        PageFaultKind::WithoutLink,
        1,
        "header, yet page 2 holds 100 more items",
    );
}

#[test]
fn an_empty_page_while_versions_remain_is_an_error_for_that_package() {
    assert_partial_listing_is_an_error(PageFaultKind::Empty, 2, "page 2 of 3 holds 0 items");
}

#[test]
fn a_short_last_page_promised_by_link_is_an_error_too() {
    assert_partial_listing_is_an_error(PageFaultKind::Empty, 3, "page 3 of 3 holds 0 items");
}

#[test]
fn a_full_page_without_link_is_complete_when_the_next_page_is_empty() {
    let mut world = world(full_rights);
    let ids = add_npm(&mut world, "app", 100);
    let fake = FakeGithub::start(world);

    let result = npm_run(&fake, "app").input("keep-latest", "99").run();

    result.assert_success();
    assert_eq!(fake.count("GET", APP_VERSIONS), 2, "page 2 was asked for");
    assert_eq!(deleted_in(&fake, "app"), vec![ids[0]]);
    assert_outputs(&result, &[ids[0]], &[], 99, 0);
}

#[test]
fn a_later_page_answering_404_in_restore_mode_restores_no_package() {
    let mut world = world(full_rights);
    let app = world.add_package(OWNER, "npm", "app");
    app.add_version("9.0.0", &[], hours(1));
    for i in 0..150 {
        app.add_version(&format!("1.0.{i}"), &[], hours(300 - i))
            .deleted_ago(hours(2));
    }
    let config = Config {
        page_faults: vec![PageFault::new(APP_VERSIONS, 2, PageFaultKind::NotFound)],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let before = fake.world();

    let result = npm_run(&fake, "app").input("mode", "restore").run();

    result.assert_code(1);
    assert_eq!(fake.count("POST", "/"), 0, "no restore of any kind");
    assert_eq!(fake.world(), before, "nothing changed");
    assert_eq!(result.output_count("restored-count"), 0);
    assert_eq!(result.output_count("deleted-count"), 0);
    assert_eq!(result.output_count("failed-count"), 0);
    assert_eq!(result.output_json("restored"), serde_json::json!([]));
    assert_eq!(result.output("version-ids"), "");
    assert!(
        result.summary.contains("page 2 answered 404"),
        "{}",
        result.summary
    );
}

// --- version_count before a whole-package delete ------------------------------------------

#[test]
fn a_whole_package_is_deleted_only_when_version_count_agrees_with_the_listing() {
    let mut world = world(full_rights);
    let ids = add_npm(&mut world, "app", 5);
    // GitHub's listing lags: one version exists that the listing does not show.
    let unlisted = ids[2];
    let config = Config {
        unlisted_versions: vec![unlisted],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);

    let result = npm_run(&fake, "app")
        .input("delete-empty-package", "true")
        .run();

    result.assert_success();
    let world = fake.world();
    let app = world.package(OWNER, "npm", "app").unwrap();
    assert!(!app.is_deleted(), "the package stays");
    assert_eq!(fake.count("DELETE", "/orgs/acme/packages/npm/app"), 3);
    assert!(fake
        .requests()
        .iter()
        .all(|r| !(r.method == "DELETE" && r.path == "/orgs/acme/packages/npm/app")));
    // Version by version: the newest listed is kept (GitHub keeps a package's last version),
    // and the version the listing missed is untouched.
    let gone = vec![ids[0], ids[1], ids[3]];
    assert_eq!(app.deleted_ids(), gone);
    assert_eq!(app.active_ids(), vec![unlisted, ids[4]]);
    assert_outputs(&result, &gone, &[], 1, 0);
    assert!(
        result
            .summary
            .contains("GitHub counts 5 active versions but the listing gave 4"),
        "{}",
        result.summary
    );
    assert!(
        result
            .annotations("warning")
            .join("\n")
            .contains("version by version")
            || result
                .annotations("warning")
                .join("\n")
                .contains("one by one")
    );

    // Once the listing has caught up, the counts agree and the rest goes whole.
    fake.update_config(|c| c.unlisted_versions.clear());
    let result = npm_run(&fake, "app")
        .input("delete-empty-package", "true")
        .run();
    result.assert_success();
    assert!(fake
        .world()
        .package(OWNER, "npm", "app")
        .is_none_or(|p| p.is_deleted()));
    assert_outputs(&result, &[unlisted, ids[4]], &[], 0, 0);
}

#[test]
fn a_token_without_rights_in_restore_mode_is_told_the_404_may_be_the_rights() {
    let mut world = world(read_only);
    let app = world.add_package(OWNER, "npm", "app");
    app.add_version("2.0.0", &[], hours(1));
    let gone = app
        .add_version("1.0.0", &[], hours(5))
        .deleted_ago(hours(2))
        .id;
    let fake = FakeGithub::start(world);
    let before = fake.world();

    let result = npm_run(&fake, "app").input("mode", "restore").run();

    result.assert_code(1);
    assert_eq!(fake.world(), before, "nothing changed");
    assert_eq!(result.output_count("restored-count"), 0);
    assert_eq!(result.output_count("failed-count"), 1);
    assert_eq!(json_ids(&result.output_json("failed")), vec![gone]);
    assert_eq!(result.output("version-ids"), "");
    let errors = result.annotations("error").join("\n");
    assert!(
        errors.contains("may read the package but not restore it")
            && errors.contains("Manage Actions access: Admin"),
        "{errors}"
    );
    assert!(result.summary.contains("Manage Actions access: Admin"));
}
