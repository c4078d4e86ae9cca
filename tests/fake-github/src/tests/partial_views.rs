//! What GitHub does that can give a client a false or partial view: a token whose refusals
//! are answered 404, a version deleted by someone else between a listing and its `DELETE`,
//! listing pages that answer 404, lose their `Link` or their items, and a listing that lags
//! behind `version_count`.

use super::{api, Reply, TOKEN};
use crate::{hours, Config, FakeGithub, PageFault, PageFaultKind, World, MSG_PACKAGE_NOT_FOUND};

const PACKAGE: &str = "/orgs/acme/packages/npm/app";
const VERSIONS: &str = "/orgs/acme/packages/npm/app/versions";

/// Organization `acme` with an npm package `app` of `n` versions (the first the oldest);
/// `token` is the world's only token, of `alice`.
fn world_with(n: u64, token: impl FnOnce(World) -> World) -> (World, Vec<u64>) {
    let mut world = token(World::new().user("alice").org("acme"));
    let app = world.add_package("acme", "npm", "app");
    let ids = (0..n)
        .map(|i| app.add_version(&format!("1.0.{i}"), &[], hours(n - i)).id)
        .collect();
    (world, ids)
}

fn full_token(world: World) -> World {
    world.token(TOKEN, "alice")
}

fn ids(reply: &Reply) -> Vec<u64> {
    reply
        .json()
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v["id"].as_u64().expect("an id"))
        .collect()
}

fn page(fake: &FakeGithub, number: u64) -> Reply {
    api(
        fake,
        "GET",
        &format!("{VERSIONS}?state=active&per_page=100&page={number}"),
    )
}

#[test]
fn a_token_without_delete_rights_reads_but_its_writes_are_answered_404_and_change_nothing() {
    let (world, ids) = world_with(3, |w| w.token_without_delete_rights(TOKEN, "alice"));
    let fake = FakeGithub::start(world);

    assert_eq!(api(&fake, "GET", VERSIONS).status, 200);
    assert_eq!(api(&fake, "GET", PACKAGE).status, 200);
    let version = format!("{VERSIONS}/{}", ids[0]);
    assert_eq!(api(&fake, "GET", &version).status, 200);

    let refused = api(&fake, "DELETE", &version);
    assert_eq!(refused.status, 404);
    assert_eq!(refused.message(), MSG_PACKAGE_NOT_FOUND);
    let refused = api(&fake, "DELETE", PACKAGE);
    assert_eq!(refused.status, 404);
    assert_eq!(refused.message(), MSG_PACKAGE_NOT_FOUND);

    // Still there, and GET says so.
    let still = api(&fake, "GET", &version);
    assert_eq!(still.status, 200);
    assert!(still.json().get("deleted_at").is_none());
    let world = fake.world();
    let app = world.package("acme", "npm", "app").unwrap();
    assert!(!app.is_deleted());
    assert_eq!(app.active_ids(), ids);
}

#[test]
fn a_version_deleted_by_someone_else_is_gone_when_the_delete_arrives() {
    let (world, ids) = world_with(3, full_token);
    let config = Config {
        deleted_by_others: vec![ids[0]],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let listed = page(&fake, 1);
    assert!(
        self::ids(&listed).contains(&ids[0]),
        "listed before the race"
    );

    let version = format!("{VERSIONS}/{}", ids[0]);
    let gone = api(&fake, "DELETE", &version);
    assert_eq!(gone.status, 404);
    let after = api(&fake, "GET", &version);
    assert_eq!(after.status, 200);
    assert!(
        after.json()["deleted_at"].is_string(),
        "GET shows deleted_at"
    );
    assert!(fake.config().deleted_by_others.is_empty(), "fires once");
    // Other versions are untouched by the race and deletable.
    assert_eq!(
        api(&fake, "DELETE", &format!("{VERSIONS}/{}", ids[1])).status,
        204
    );
    let world = fake.world();
    let app = world.package("acme", "npm", "app").unwrap();
    assert_eq!(app.deleted_ids(), vec![ids[0], ids[1]]);
}

#[test]
fn a_page_can_answer_404_while_the_others_answer() {
    let (world, _) = world_with(250, full_token);
    let config = Config {
        page_faults: vec![PageFault::new(VERSIONS, 2, PageFaultKind::NotFound)],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    assert_eq!(page(&fake, 1).status, 200);
    let missing = page(&fake, 2);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.message(), MSG_PACKAGE_NOT_FOUND);
    assert_eq!(ids(&page(&fake, 3)).len(), 50);
    // The package itself is there.
    assert_eq!(api(&fake, "GET", PACKAGE).status, 200);
}

#[test]
fn a_page_can_lose_its_link_header() {
    let (world, _) = world_with(250, full_token);
    let config = Config {
        page_faults: vec![PageFault::new(VERSIONS, 1, PageFaultKind::WithoutLink)],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let first = page(&fake, 1);
    assert_eq!(first.status, 200);
    assert_eq!(ids(&first).len(), 100);
    assert_eq!(first.header("link"), None);
    let second = page(&fake, 2);
    assert_eq!(ids(&second).len(), 100, "more versions exist");
    assert!(second.header("link").is_some());
}

#[test]
fn a_page_can_come_back_empty_while_more_versions_exist() {
    let (world, _) = world_with(250, full_token);
    let config = Config {
        page_faults: vec![PageFault::new(VERSIONS, 2, PageFaultKind::Empty)],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let first = page(&fake, 1);
    assert!(first.header("link").unwrap().contains("page=3"));
    let empty = page(&fake, 2);
    assert_eq!(empty.status, 200);
    assert_eq!(ids(&empty), Vec::<u64>::new());
    assert!(empty.header("link").unwrap().contains("rel=\"last\""));
    assert_eq!(ids(&page(&fake, 3)).len(), 50);
}

#[test]
fn a_listing_can_lag_behind_version_count() {
    let (world, ids) = world_with(5, full_token);
    let config = Config {
        unlisted_versions: vec![ids[4]],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let listed = self::ids(&page(&fake, 1));
    assert_eq!(listed.len(), 4);
    assert!(!listed.contains(&ids[4]));
    assert_eq!(api(&fake, "GET", PACKAGE).json()["version_count"], 5);
    assert_eq!(
        api(&fake, "GET", &format!("{VERSIONS}/{}", ids[4])).status,
        200
    );
    // When the listing catches up, the version is listed again.
    fake.update_config(|c| c.unlisted_versions.clear());
    assert_eq!(self::ids(&page(&fake, 1)).len(), 5);
}
