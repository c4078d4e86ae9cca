//! A living registry: a version pushed or deleted between two pages of a listing (page 2 then
//! repeats or skips a version), a tag moved by CI right before a push under it, and a write held
//! open until the test releases it.

use std::time::Duration;

use super::push::{empty_image, push_token, send_body, upload_empty_blob};
use super::{api, send, Reply, TOKEN};
use crate::{
    days, digest, hours, Config, FakeGithub, ListingChange, ScriptedFault, TagMove, World,
};

const VERSIONS: &str = "/orgs/acme/packages/npm/app/versions";
const APP: (&str, &str, &str) = ("acme", "npm", "app");

/// npm package `app` of `acme` with `n` versions one hour apart, the first the oldest.
fn npm_world(n: u64) -> (World, Vec<u64>) {
    let mut world = World::new().user("alice").org("acme").token(TOKEN, "alice");
    let app = world.add_package("acme", "npm", "app");
    let ids = (0..n)
        .map(|i| app.add_version(&format!("1.0.{i}"), &[], hours(n - i)).id)
        .collect();
    (world, ids)
}

fn ids(reply: &Reply) -> Vec<u64> {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply
        .json()
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v["id"].as_u64().expect("an id"))
        .collect()
}

fn page(fake: &FakeGithub, number: u64) -> Vec<u64> {
    ids(&api(
        fake,
        "GET",
        &format!("{VERSIONS}?state=active&per_page=100&page={number}"),
    ))
}

fn newest_first(mut ids: Vec<u64>) -> Vec<u64> {
    ids.reverse();
    ids
}

#[test]
fn a_push_after_page_1_shifts_page_2_so_one_version_is_listed_twice_and_the_new_one_never() {
    let (world, ids) = npm_world(150);
    let config = Config {
        listing_changes: vec![ListingChange::push(APP, 1, "2.0.0", &[])],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let newest = newest_first(ids.clone());

    let first = page(&fake, 1);
    assert_eq!(first, newest[..100]);
    let pushed = fake
        .world()
        .package("acme", "npm", "app")
        .unwrap()
        .version_named("2.0.0")
        .expect("pushed right after page 1")
        .id;
    let second = page(&fake, 2);
    assert_eq!(second, newest[99..], "page 2 starts with page 1's last");
    assert!(!first.contains(&pushed) && !second.contains(&pushed));
    assert!(fake.config().listing_changes.is_empty(), "fires once");

    // Listed again from page 1, the package holds the new version first, once each.
    let again: Vec<u64> = [page(&fake, 1), page(&fake, 2)].concat();
    assert_eq!(again.len(), 151);
    assert_eq!(again[0], pushed);
    assert_eq!(again[1..], newest[..]);
}

#[test]
fn a_delete_after_page_1_shifts_page_2_so_one_version_is_never_listed() {
    let (world, ids) = npm_world(150);
    let newest = newest_first(ids.clone());
    let gone = newest[10];
    let config = Config {
        listing_changes: vec![ListingChange::delete(APP, 1, gone)],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);

    let first = page(&fake, 1);
    assert!(first.contains(&gone), "listed before someone deleted it");
    let second = page(&fake, 2);
    assert_eq!(second, newest[101..], "page 2 skips page 1's last");
    let never_seen = newest[100];
    assert!(!first.contains(&never_seen) && !second.contains(&never_seen));
    let world = fake.world();
    assert_eq!(
        world.package("acme", "npm", "app").unwrap().deleted_ids(),
        vec![gone]
    );
}

#[test]
fn a_listing_change_waits_for_its_page_and_its_package() {
    let (mut world, ids) = npm_world(3);
    let other = world.add_package("acme", "npm", "other");
    other.add_version("1.0.0", &[], days(1));
    let config = Config {
        listing_changes: vec![ListingChange::push(APP, 2, "2.0.0", &[])],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);

    // Page 1 of app, the other package's pages, a single version: nothing fires.
    assert_eq!(page(&fake, 1), newest_first(ids.clone()));
    let others = api(
        &fake,
        "GET",
        "/orgs/acme/packages/npm/other/versions?page=2",
    );
    assert_eq!(ids_of_len(&others), 0);
    let one = api(&fake, "GET", &format!("{VERSIONS}/{}", ids[0]));
    assert_eq!(one.status, 200);
    assert_eq!(fake.config().listing_changes.len(), 1);
    assert_eq!(page(&fake, 2), Vec::<u64>::new(), "page 2 of 3 versions");
    assert!(fake.config().listing_changes.is_empty());
    assert_eq!(page(&fake, 1).len(), 4, "pushed after page 2");
}

fn ids_of_len(reply: &Reply) -> usize {
    ids(reply).len()
}

#[test]
fn a_push_of_a_container_moves_its_tags_from_the_version_that_carried_them() {
    let mut world = World::new().user("alice").org("acme").token(TOKEN, "alice");
    let app = world.add_package("acme", "container", "app");
    let old = app.add_version(&digest(1), &["latest", "v1"], days(2)).id;
    let config = Config {
        listing_changes: vec![ListingChange::push(
            ("acme", "container", "app"),
            1,
            &digest(2),
            &["latest"],
        )],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let listed = api(&fake, "GET", "/orgs/acme/packages/container/app/versions");
    assert_eq!(ids(&listed), vec![old]);

    let world = fake.world();
    let app = world.package("acme", "container", "app").unwrap();
    assert_eq!(app.version(old).unwrap().tags, vec!["v1"]);
    let new = app.version_named(&app.digest_of(&digest(2))).unwrap();
    assert_eq!(new.tags, vec!["latest"]);
    assert!(new.created_at > app.version(old).unwrap().created_at);
}

/// Container package `app` of `acme` whose version `digest(1)` carries `pr-12` and `v1.2.0`.
fn tagged_world() -> (World, u64) {
    let mut world = World::new().user("alice").org("acme").token(TOKEN, "alice");
    let app = world.add_package("acme", "container", "app");
    let id = app
        .add_version(&digest(1), &["pr-12", "v1.2.0"], days(3))
        .id;
    app.add_version(&digest(2), &["v1.1.0"], days(9));
    (world, id)
}

fn moved_pr_12() -> Config {
    Config {
        moved_tags: vec![TagMove::new("acme", "app", "pr-12", &digest(99))],
        ..Config::default()
    }
}

/// The tags of the active version built with `label` (or named `label`).
fn tags_of(fake: &FakeGithub, label: &str) -> Vec<String> {
    let world = fake.world();
    let app = world.package("acme", "container", "app").unwrap();
    let name = app.digest_of(label);
    let version = app.active_versions().find(|v| v.name == name);
    version.map(|v| v.tags.clone()).unwrap_or_default()
}

fn digest_of(fake: &FakeGithub, label: &str) -> String {
    let world = fake.world();
    world
        .package("acme", "container", "app")
        .unwrap()
        .digest_of(label)
}

#[test]
fn a_tag_moved_before_a_read_of_it_is_seen_moved() {
    let (world, _) = tagged_world();
    let fake = FakeGithub::start_with(world, moved_pr_12());
    let bearer = push_token(&fake, TOKEN, "acme/app");
    let auth = format!("Bearer {bearer}");

    // A read by digest does not fire it; a read of another tag neither.
    let release = digest_of(&fake, &digest(1));
    for reference in [release.clone(), "v1.2.0".to_owned()] {
        let read = send(
            &fake,
            "HEAD",
            &format!("/v2/acme/app/manifests/{reference}"),
            &[("Authorization", &auth)],
        );
        assert_eq!(read.header("docker-content-digest"), Some(&*release));
    }
    assert_eq!(tags_of(&fake, &digest(1)), vec!["pr-12", "v1.2.0"]);

    let read = send(
        &fake,
        "HEAD",
        "/v2/acme/app/manifests/pr-12",
        &[("Authorization", &auth)],
    );
    assert_eq!(read.status, 200);
    let fresh = digest_of(&fake, &digest(99));
    assert_ne!(fresh, digest(99), "named by its content");
    assert_eq!(read.header("docker-content-digest"), Some(&*fresh));
    assert_eq!(tags_of(&fake, &digest(1)), vec!["v1.2.0"]);
    assert_eq!(tags_of(&fake, &digest(99)), vec!["pr-12"]);
    assert!(fake.config().moved_tags.is_empty(), "fires once");
    let listed = api(&fake, "GET", "/orgs/acme/packages/container/app/versions");
    assert_eq!(ids(&listed).len(), 3, "the fresh build is listed");
}

#[test]
fn a_push_under_a_tag_moved_just_before_takes_it_from_the_fresh_build() {
    let (world, _) = tagged_world();
    let fake = FakeGithub::start_with(world, moved_pr_12());
    let bearer = push_token(&fake, TOKEN, "acme/app");
    upload_empty_blob(&fake, &bearer);

    let manifest = empty_image("throw-away");
    let pushed = send_body(
        &fake,
        "PUT",
        "/v2/acme/app/manifests/pr-12",
        &bearer,
        "application/vnd.oci.image.manifest.v1+json",
        &manifest,
    );
    assert_eq!(pushed.status, 201, "{}", pushed.body);
    // CI's fresh build got the tag just before the push, and lost it to the push.
    assert_eq!(tags_of(&fake, &digest(99)), Vec::<String>::new());
    assert_eq!(tags_of(&fake, &digest(1)), vec!["v1.2.0"]);
    assert_eq!(
        tags_of(&fake, &crate::sha256_digest(&manifest)),
        vec!["pr-12"]
    );
}

#[test]
fn a_held_delete_is_answered_only_once_released() {
    let (world, ids) = npm_world(3);
    let config = Config {
        scripted: vec![ScriptedFault::hold(Some("DELETE"), "/versions/", 2)],
        ..Config::default()
    };
    let fake = std::sync::Arc::new(FakeGithub::start_with(world, config));
    let first = api(&fake, "DELETE", &format!("{VERSIONS}/{}", ids[0]));
    assert_eq!(first.status, 204, "the first is not held");
    assert_eq!(fake.held(), 0);

    let sender = {
        let fake = fake.clone();
        let path = format!("{VERSIONS}/{}", ids[1]);
        std::thread::spawn(move || api(&fake, "DELETE", &path).status)
    };
    assert!(fake.wait_until_held(1, Duration::from_secs(10)));
    // Held: arrived (a write counted), not answered, nothing changed; other requests go on.
    assert_eq!(fake.writes(), 2);
    assert_eq!(page(&fake, 1).len(), 2);
    let app_deleted = || {
        fake.world()
            .package("acme", "npm", "app")
            .unwrap()
            .deleted_ids()
    };
    assert_eq!(app_deleted(), vec![ids[0]]);
    assert!(!sender.is_finished());

    fake.release_held();
    assert_eq!(sender.join().unwrap(), 204);
    assert_eq!(app_deleted(), vec![ids[0], ids[1]]);
    assert_eq!(fake.held(), 1);
}
