//! The packages routes: listing, pagination, deletes, the deletion rules and restores.

use super::{api, Reply, TOKEN};
use crate::{days, digest, hours, FakeGithub, World};
use crate::{
    MSG_LAST_TAGGED_VERSION, MSG_LAST_VERSION, MSG_PACKAGE_NAME_TAKEN, MSG_PACKAGE_RESTORE_EXPIRED,
    MSG_TOO_MANY_DOWNLOADS, MSG_VERSION_NAME_TAKEN, MSG_VERSION_RESTORE_EXPIRED,
};

fn world() -> World {
    World::new().user("alice").org("acme").token(TOKEN, "alice")
}

const VERSIONS: &str = "/orgs/acme/packages/container/app/versions";

fn ids(reply: &Reply) -> Vec<u64> {
    reply
        .json()
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v["id"].as_u64().expect("an id"))
        .collect()
}

#[test]
fn versions_are_paginated_newest_first_with_github_link_headers() {
    let mut world = world();
    let app = world.add_package("acme", "container", "app");
    let mut created = Vec::new();
    for n in 0..250u64 {
        created.push(app.add_version(&digest(n), &[], hours(1000 - n)).id);
    }
    let fake = FakeGithub::start(world);
    let base = format!("{}{VERSIONS}", fake.url());

    let first = api(
        &fake,
        "GET",
        &format!("{VERSIONS}?state=active&per_page=100"),
    );
    assert_eq!(first.status, 200);
    let newest: Vec<u64> = created.iter().rev().take(100).copied().collect();
    assert_eq!(ids(&first), newest);
    assert_eq!(
        first.header("link"),
        Some(
            format!(
                "<{base}?state=active&page=2&per_page=100>; rel=\"next\", \
                 <{base}?state=active&page=3&per_page=100>; rel=\"last\""
            )
            .as_str()
        )
    );

    let middle = api(
        &fake,
        "GET",
        &format!("{VERSIONS}?state=active&per_page=100&page=2"),
    );
    assert_eq!(ids(&middle).len(), 100);
    assert_eq!(
        middle.header("link"),
        Some(
            format!(
                "<{base}?state=active&page=1&per_page=100>; rel=\"prev\", \
                 <{base}?state=active&page=3&per_page=100>; rel=\"next\", \
                 <{base}?state=active&page=3&per_page=100>; rel=\"last\", \
                 <{base}?state=active&page=1&per_page=100>; rel=\"first\""
            )
            .as_str()
        )
    );

    let last = api(
        &fake,
        "GET",
        &format!("{VERSIONS}?state=active&per_page=100&page=3"),
    );
    assert_eq!(
        ids(&last),
        created[..50].iter().rev().copied().collect::<Vec<_>>()
    );
    assert_eq!(
        last.header("link"),
        Some(
            format!(
                "<{base}?state=active&page=2&per_page=100>; rel=\"prev\", \
                 <{base}?state=active&page=1&per_page=100>; rel=\"first\""
            )
            .as_str()
        )
    );

    let default_page = api(&fake, "GET", VERSIONS);
    assert_eq!(ids(&default_page).len(), 30);
    assert!(default_page
        .header("link")
        .unwrap()
        .contains(&format!("<{base}?page=9&per_page=30>; rel=\"last\"")));
}

#[test]
fn a_single_page_has_no_link_header_and_the_version_shape_is_githubs() {
    let mut world = world();
    let app = world.add_package("acme", "container", "app");
    let id = app.add_version(&digest(1), &["v1", "latest"], days(2)).id;
    app.add_version(&digest(2), &[], days(3));
    let fake = FakeGithub::start(world);
    let reply = api(&fake, "GET", &format!("{VERSIONS}?per_page=100"));
    assert_eq!(reply.header("link"), None);
    assert_eq!(reply.header("x-ratelimit-resource"), Some("core"));
    let newest = &reply.json()[0];
    assert_eq!(newest["id"], id);
    let name = fake
        .world()
        .package("acme", "container", "app")
        .unwrap()
        .digest_of(&digest(1));
    assert_eq!(newest["name"], name);
    assert_eq!(newest["metadata"]["package_type"], "container");
    assert_eq!(newest["metadata"]["container"]["tags"][1], "latest");
    assert!(newest.get("deleted_at").is_none());
    assert_eq!(
        newest["url"],
        format!(
            "{}/orgs/acme/packages/container/app/versions/{id}",
            fake.url()
        )
    );
    for field in ["package_html_url", "html_url", "created_at", "updated_at"] {
        assert!(newest[field].is_string(), "{field} missing");
    }
}

#[test]
fn delete_answers_204_then_404_and_the_version_moves_to_deleted() {
    let mut world = world();
    let app = world.add_package("acme", "container", "app");
    let old = app.add_version(&digest(1), &[], days(5)).id;
    app.add_version(&digest(2), &["latest"], days(1));
    let fake = FakeGithub::start(world);

    let path = format!("{VERSIONS}/{old}");
    assert_eq!(api(&fake, "DELETE", &path).status, 204);
    let again = api(&fake, "DELETE", &path);
    assert_eq!(again.status, 404);
    assert_eq!(again.message(), "Package version not found.");

    let snapshot = fake.world();
    let package = snapshot.package("acme", "container", "app").unwrap();
    assert_eq!(package.deleted_ids(), vec![old]);
    assert!(!ids(&api(&fake, "GET", VERSIONS)).contains(&old));
    let deleted = api(&fake, "GET", &format!("{VERSIONS}?state=deleted"));
    assert_eq!(ids(&deleted), vec![old]);
    assert!(deleted.json()[0]["deleted_at"].is_string());
    assert_eq!(api(&fake, "GET", &path).status, 200);
    assert_eq!(fake.writes(), 2);
    assert_eq!(fake.count("DELETE", "/versions/"), 2);
}

#[test]
fn the_last_tagged_container_version_and_the_last_version_cannot_be_deleted() {
    let mut world = world();
    let app = world.add_package("acme", "container", "app");
    let tagged_old = app.add_version(&digest(1), &["v1"], days(3)).id;
    let tagged_new = app.add_version(&digest(2), &["v2"], days(2)).id;
    let untagged = app.add_version(&digest(3), &[], days(1)).id;
    let lib = world.add_package("acme", "npm", "lib");
    let only = lib.add_version("1.0.0", &[], days(1)).id;
    let fake = FakeGithub::start(world);

    assert_eq!(
        api(&fake, "DELETE", &format!("{VERSIONS}/{tagged_old}")).status,
        204
    );
    let refused = api(&fake, "DELETE", &format!("{VERSIONS}/{tagged_new}"));
    assert_eq!(refused.status, 400);
    assert_eq!(refused.message(), MSG_LAST_TAGGED_VERSION);
    assert_eq!(
        api(&fake, "DELETE", &format!("{VERSIONS}/{untagged}")).status,
        204
    );

    let npm = api(
        &fake,
        "DELETE",
        &format!("/orgs/acme/packages/npm/lib/versions/{only}"),
    );
    assert_eq!(npm.status, 400);
    assert_eq!(npm.message(), MSG_LAST_VERSION);
    let snapshot = fake.world();
    assert_eq!(
        snapshot
            .package("acme", "container", "app")
            .unwrap()
            .active_ids(),
        vec![tagged_new]
    );
    assert_eq!(
        snapshot.package("acme", "npm", "lib").unwrap().active_ids(),
        vec![only]
    );
}

#[test]
fn public_versions_with_more_than_5000_downloads_cannot_be_deleted() {
    let mut world = world();
    let public = world.add_package("acme", "container", "app").public();
    let popular = public
        .add_version(&digest(1), &[], days(3))
        .with_downloads(5_001)
        .id;
    public.add_version(&digest(2), &["latest"], days(1));
    let private = world.add_package("acme", "container", "internal");
    let hidden = private
        .add_version(&digest(3), &[], days(3))
        .with_downloads(9_000)
        .id;
    private.add_version(&digest(4), &["latest"], days(1));
    let fake = FakeGithub::start(world);

    let refused = api(&fake, "DELETE", &format!("{VERSIONS}/{popular}"));
    assert_eq!(refused.status, 400);
    assert_eq!(refused.message(), MSG_TOO_MANY_DOWNLOADS);
    let whole = api(&fake, "DELETE", "/orgs/acme/packages/container/app");
    assert_eq!(whole.status, 400);
    assert_eq!(whole.message(), MSG_TOO_MANY_DOWNLOADS);
    let path = format!("/orgs/acme/packages/container/internal/versions/{hidden}");
    assert_eq!(api(&fake, "DELETE", &path).status, 204);
}

#[test]
fn versions_restore_within_30_days_unless_their_name_is_taken() {
    let mut world = world();
    let lib = world.add_package("acme", "npm", "lib");
    lib.add_version("1.0.0", &[], days(60));
    let recent = lib
        .add_version("1.1.0", &[], days(50))
        .deleted_ago(days(2))
        .id;
    let expired = lib
        .add_version("1.2.0", &[], days(50))
        .deleted_ago(days(31))
        .id;
    let reused = lib
        .add_version("2.0.0", &[], days(40))
        .deleted_ago(days(1))
        .id;
    lib.add_version("2.0.0", &[], days(1));
    let fake = FakeGithub::start(world);
    let restore = |id: u64| {
        api(
            &fake,
            "POST",
            &format!("/orgs/acme/packages/npm/lib/versions/{id}/restore"),
        )
    };

    assert_eq!(restore(recent).status, 204);
    let again = restore(recent);
    assert_eq!(again.status, 404);
    let too_old = restore(expired);
    assert_eq!(
        (too_old.status, too_old.message().as_str()),
        (404, MSG_VERSION_RESTORE_EXPIRED)
    );
    let taken = restore(reused);
    assert_eq!(
        (taken.status, taken.message().as_str()),
        (403, MSG_VERSION_NAME_TAKEN)
    );
    assert_eq!(restore(999_999_999).status, 404);

    let snapshot = fake.world();
    let lib = snapshot.package("acme", "npm", "lib").unwrap();
    assert_eq!(lib.deleted_ids(), vec![expired, reused]);
    assert!(lib.version(recent).unwrap().deleted_at.is_none());
}

#[test]
fn packages_delete_and_restore_with_the_namespace_and_window_rules() {
    let mut world = world();
    let app = world.add_package("acme", "container", "app");
    let kept = app.add_version(&digest(1), &["v1"], days(1)).id;
    let gone = app
        .add_version(&digest(2), &[], days(2))
        .deleted_ago(days(1))
        .id;
    let old = world.add_package("acme", "npm", "old");
    old.add_version("1.0.0", &[], days(90));
    old.deleted_ago(days(40));
    let fake = FakeGithub::start(world);
    let package = "/orgs/acme/packages/container/app";

    assert_eq!(api(&fake, "DELETE", package).status, 204);
    assert_eq!(api(&fake, "GET", package).status, 404);
    assert_eq!(api(&fake, "GET", VERSIONS).status, 404);
    assert_eq!(api(&fake, "DELETE", package).status, 404);

    // A new package takes the name: the deleted one cannot come back.
    fake.update_world(|w| {
        w.add_package("acme", "container", "app")
            .add_version(&digest(9), &["new"], days(0));
    });
    let taken = api(&fake, "POST", &format!("{package}/restore"));
    assert_eq!(
        (taken.status, taken.message().as_str()),
        (403, MSG_PACKAGE_NAME_TAKEN)
    );
    fake.update_world(|w| w.packages.retain(|p| p.name != "app" || p.is_deleted()));

    assert_eq!(
        api(&fake, "POST", &format!("{package}/restore")).status,
        204
    );
    let snapshot = fake.world();
    let restored = snapshot.package("acme", "container", "app").unwrap();
    assert!(!restored.is_deleted());
    assert_eq!(
        (restored.active_ids(), restored.deleted_ids()),
        (vec![kept], vec![gone])
    );

    let expired = api(&fake, "POST", "/orgs/acme/packages/npm/old/restore");
    assert_eq!(
        (expired.status, expired.message().as_str()),
        (404, MSG_PACKAGE_RESTORE_EXPIRED)
    );
    assert_eq!(
        api(&fake, "POST", "/orgs/acme/packages/npm/none/restore").status,
        404
    );
}

#[test]
fn packages_are_listed_by_type_and_visibility_with_slashes_in_names() {
    let mut world = world().user("bob");
    world
        .add_package("acme", "container", "team/app")
        .add_version(&digest(1), &[], days(1));
    world.add_package("acme", "npm", "lib");
    world
        .add_package("bob", "container", "public-tool")
        .public();
    world.add_package("bob", "container", "secret");
    world.add_package("alice", "container", "mine");
    let fake = FakeGithub::start(world);

    let listed = api(&fake, "GET", "/orgs/acme/packages?package_type=container");
    assert_eq!(listed.status, 200);
    let package = &listed.json()[0];
    assert_eq!(package["name"], "team/app");
    assert_eq!(package["version_count"], 1);
    assert_eq!(package["owner"]["login"], "acme");
    assert_eq!(package["owner"]["type"], "Organization");
    assert_eq!(listed.json().as_array().unwrap().len(), 1);

    let versions = api(
        &fake,
        "GET",
        "/orgs/acme/packages/container/team%2Fapp/versions",
    );
    assert_eq!(versions.status, 200);
    assert_eq!(ids(&versions).len(), 1);

    let bobs = api(&fake, "GET", "/users/bob/packages?package_type=container");
    let names: Vec<String> = bobs
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, vec!["public-tool"]);
    let mine = api(&fake, "GET", "/user/packages?package_type=container");
    assert_eq!(mine.json()[0]["name"], "mine");

    assert_eq!(api(&fake, "GET", "/orgs/acme/packages").status, 400);
    assert_eq!(
        api(&fake, "GET", "/orgs/acme/packages?package_type=pip").status,
        400
    );
    assert_eq!(
        api(&fake, "GET", "/orgs/acme/packages/pip/x/versions").status,
        400
    );
    assert_eq!(
        api(&fake, "DELETE", "/users/bob/packages/container/public-tool").status,
        403
    );

    fake.update_world(|w| w.tokens[0].can_list_packages = false);
    assert_eq!(
        api(&fake, "GET", "/orgs/acme/packages?package_type=container").status,
        403
    );
    fake.update_world(|w| w.tokens[0].can_delete = false);
    let versions = api(
        &fake,
        "GET",
        "/orgs/acme/packages/container/team%2Fapp/versions",
    );
    let id = ids(&versions)[0];
    let refused = api(
        &fake,
        "DELETE",
        &format!("/orgs/acme/packages/container/team%2Fapp/versions/{id}"),
    );
    assert_eq!(refused.status, 403);
}

#[test]
fn packages_show_the_repository_they_are_linked_to() {
    let mut world = world().user("bob");
    world
        .add_package("acme", "container", "api")
        .linked_to("acme/api-server")
        .add_version(&digest(1), &["v1"], days(1));
    world.add_package("acme", "container", "loose");
    world
        .add_package("acme", "npm", "lib")
        .public()
        .linked_to("bob/libs");
    let fake = FakeGithub::start(world);

    let listed = api(&fake, "GET", "/orgs/acme/packages?package_type=container");
    assert_eq!(listed.status, 200);
    let listed = listed.json();
    let api_package = &listed[0];
    assert_eq!(api_package["name"], "api");
    let repository = &api_package["repository"];
    assert_eq!(repository["full_name"], "acme/api-server");
    assert_eq!(repository["name"], "api-server");
    assert_eq!(repository["owner"]["login"], "acme");
    assert_eq!(repository["owner"]["type"], "Organization");
    assert_eq!(repository["private"], true);
    assert_eq!(repository["html_url"], "https://github.com/acme/api-server");
    assert!(repository["id"].as_u64().is_some_and(|id| id < 1 << 53));
    assert_eq!(listed[1]["name"], "loose");
    assert!(
        listed[1].get("repository").is_none(),
        "a package linked to no repository has no `repository`"
    );

    let one = api(&fake, "GET", "/orgs/acme/packages/container/api");
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["repository"], *repository);
    let lib = api(&fake, "GET", "/orgs/acme/packages/npm/lib");
    assert_eq!(lib.json()["repository"]["full_name"], "bob/libs");
    assert_eq!(lib.json()["repository"]["owner"]["type"], "User");
    assert_eq!(lib.json()["repository"]["private"], false);
    let loose = api(&fake, "GET", "/orgs/acme/packages/container/loose");
    assert!(loose.json().get("repository").is_none());
}
