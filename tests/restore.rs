//! Restore mode end to end, against the fake GitHub: the delete → restore round trip proven
//! equal on the full state in every namespace, restore by tags, semver, version globs and
//! `deleted-within`, restore of a whole deleted package, GitHub's refusals (30 days, reuse),
//! dry runs, the summary's Undo block pasted back as a step, conflicting inputs, and the
//! example restore workflow.

mod common;

use std::collections::BTreeMap;

use common::{Run, RunResult, OWNER, TOKEN};
use fake_github::{
    days, digest, hours, FakeGithub, Manifest, ScriptedFault, World, MSG_PACKAGE_NAME_TAKEN,
    MSG_PACKAGE_RESTORE_EXPIRED, MSG_VERSION_NAME_TAKEN, MSG_VERSION_RESTORE_EXPIRED,
};
use serde_yaml::Value as Yaml;

/// The user the token acts as (served through `/user`).
const ME: &str = "alice";

/// A restore run against `fake`, quick pacing.
fn restore(fake: &FakeGithub) -> Run {
    Run::new(fake)
        .input("mode", "restore")
        .env("PACKAGE_RETENTION_POINTS_PER_MINUTE", "100000")
}

/// A delete run against `fake`, quick pacing.
fn delete(fake: &FakeGithub) -> Run {
    Run::new(fake).env("PACKAGE_RETENTION_POINTS_PER_MINUTE", "100000")
}

fn base_world() -> World {
    World::new()
        .org(OWNER)
        .user(ME)
        .user("bob")
        .token(TOKEN, ME)
}

fn sorted(mut ids: Vec<u64>) -> Vec<u64> {
    ids.sort_unstable();
    ids
}

/// The ids of every version deleted in `world` (any package).
fn deleted_version_ids(world: &World) -> Vec<u64> {
    sorted(
        world
            .packages
            .iter()
            .flat_map(|p| p.versions.iter())
            .filter(|v| v.is_deleted())
            .map(|v| v.id)
            .collect(),
    )
}

/// Checks that the outputs agree with one another and with `expected` (restored ids), that
/// nothing is reported deleted, and that the summary lists each restored id.
fn assert_restored(result: &RunResult, expected: &[u64]) {
    let expected = sorted(expected.to_vec());
    assert_eq!(
        sorted(result.output_ids("version-ids")),
        expected,
        "version-ids\n{}",
        result.logs()
    );
    assert_eq!(
        sorted(result.output_json_ids("restored")),
        expected,
        "restored\n{}",
        result.logs()
    );
    assert_eq!(
        result.output_count("restored-count"),
        expected.len() as u64,
        "restored-count"
    );
    assert_eq!(result.output_count("deleted-count"), 0);
    assert_eq!(result.output_json_ids("deleted"), Vec::<u64>::new());
    assert!(
        result.summary.starts_with("# package-retention: restore"),
        "{}",
        result.summary
    );
    assert!(
        result
            .summary
            .contains("| kept | restored | untagged | failed | deferred | active after |"),
        "{}",
        result.summary
    );
    if !expected.is_empty() {
        // The headline's first figure.
        let noun = if expected.len() == 1 {
            "version"
        } else {
            "versions"
        };
        let heading = if result.summary.contains("DRY RUN") {
            format!("\n**{} {noun} would be restored** · ", expected.len())
        } else {
            format!("\n**{} {noun} restored** · ", expected.len())
        };
        assert!(
            result.summary.contains(&heading),
            "summary lacks {heading:?}:\n{}",
            result.summary
        );
        for id in &expected {
            assert!(
                result.summary.contains(&format!(" | {id} | ")),
                "summary does not list {id}:\n{}",
                result.summary
            );
        }
    }
    assert!(
        !result.summary.contains("## Undo"),
        "a restore run has no Undo block:\n{}",
        result.summary
    );
}

/// For each id: `true` when the version is active in `world`.
fn active(world: &World, id: u64) -> bool {
    !world.version(id).expect("a known version").is_deleted()
}

// --- 1. The round trip ----------------------------------------------------------------------

/// What the mixed world holds: every version the delete run below deletes.
struct Mixed {
    world: World,
    /// Ids the delete run deletes, per (owner, owner-type, package-type).
    doomed: BTreeMap<(String, String, String), Vec<u64>>,
    /// Versions deleted before the run: they must stay deleted.
    deleted_before: Vec<u64>,
}

/// Two namespaces (`/orgs/acme` and the token's own `/user`), five package types, a container
/// image with platform manifests, two whole-package deletes, and versions already deleted.
fn mixed_world() -> Mixed {
    let mut world = base_world();
    let mut doomed: BTreeMap<(String, String, String), Vec<u64>> = BTreeMap::new();
    let mut doom = |owner: &str, kind: &str, package_type: &str, id: u64| {
        doomed
            .entry((owner.into(), kind.into(), package_type.into()))
            .or_default()
            .push(id);
    };
    let mut deleted_before = Vec::new();

    let lib = world.add_package(OWNER, "npm", "lib");
    for (n, name) in ["1.0.0", "1.1.0", "1.2.0"].iter().enumerate() {
        let id = lib.add_version(name, &[], days(40 - 5 * n as u64)).id;
        doom(OWNER, "org", "npm", id);
    }
    lib.add_version("2.0.0", &[], days(2));
    deleted_before.push(
        lib.add_version("0.9.0", &[], days(60))
            .deleted_ago(days(3))
            .id,
    );

    let tool = world.add_package(OWNER, "maven", "com.acme.tool");
    doom(
        OWNER,
        "org",
        "maven",
        tool.add_version("1.0", &[], days(9)).id,
    );
    doom(
        OWNER,
        "org",
        "maven",
        tool.add_version("1.1", &[], days(8)).id,
    );
    deleted_before.push(
        tool.add_version("0.1", &[], days(20))
            .deleted_ago(days(5))
            .id,
    );

    let app = world.add_package(OWNER, "container", "app").public();
    doom(
        OWNER,
        "org",
        "container",
        app.add_version(&digest(11), &[], days(20)).id,
    );
    doom(
        OWNER,
        "org",
        "container",
        app.add_version(&digest(12), &[], days(20)).id,
    );
    doom(
        OWNER,
        "org",
        "container",
        app.add_version(&digest(10), &["old-1"], days(20))
            .with_manifest(Manifest::index(&[digest(11), digest(12)]))
            .id,
    );
    app.add_version(&digest(21), &[], days(1));
    app.add_version(&digest(20), &["latest"], days(1))
        .with_manifest(Manifest::index(&[digest(21)]));

    let gem = world.add_package(ME, "rubygems", "gem");
    doom(
        ME,
        "user",
        "rubygems",
        gem.add_version("0.1.0", &[], days(30)).id,
    );
    doom(
        ME,
        "user",
        "rubygems",
        gem.add_version("0.2.0", &[], days(20)).id,
    );
    gem.add_version("0.3.0", &[], days(10));

    let nuget = world.add_package(ME, "nuget", "Alice.Lib");
    doom(
        ME,
        "user",
        "nuget",
        nuget.add_version("1.0.0", &[], days(7)).id,
    );
    doom(
        ME,
        "user",
        "nuget",
        nuget.add_version("1.0.1", &[], days(6)).id,
    );

    // Bob's package is never touched.
    world
        .add_package("bob", "npm", "lib")
        .add_version("1.0.0", &[], days(50));

    Mixed {
        world,
        doomed,
        deleted_before,
    }
}

const MIXED_DELETE: &str = "rules:
  - {owner: acme, package-type: npm, packages: lib, keep-latest: 1}
  - {owner: acme, package-type: maven, packages: com.acme.tool, delete-empty-package: true}
  - {owner: acme, package-type: container, packages: app, tags: 'old-*'}
  - {owner: alice, package-type: rubygems, packages: gem, keep-latest: 1}
  - {owner: alice, package-type: nuget, packages: Alice.Lib, delete-empty-package: true}
";

const MIXED_RESTORE: &str = "rules:
  - {owner: acme, package-type: npm, packages: lib}
  - {owner: acme, package-type: maven, packages: com.acme.tool}
  - {owner: acme, package-type: container, packages: app}
  - {owner: alice, package-type: rubygems, packages: gem}
  - {owner: alice, package-type: nuget, packages: Alice.Lib}
";

/// Runs the mixed delete and checks it did exactly what `mixed` says.
fn run_mixed_delete(fake: &FakeGithub, mixed: &Mixed) -> RunResult {
    let result = delete(fake).input("config", MIXED_DELETE).run();
    result.assert_success();
    let all_doomed = sorted(mixed.doomed.values().flatten().copied().collect());
    assert_eq!(all_doomed.len(), 12);
    assert_eq!(sorted(result.output_ids("version-ids")), all_doomed);
    assert_eq!(result.output_count("deleted-count"), 12);
    let after = fake.world();
    // The whole packages went in one DELETE each; their versions stay active inside.
    for (owner, package_type, name) in [
        (OWNER, "maven", "com.acme.tool"),
        (ME, "nuget", "Alice.Lib"),
    ] {
        assert!(after
            .package(owner, package_type, name)
            .unwrap()
            .is_deleted());
    }
    assert_eq!(
        fake.count("DELETE", "/orgs/acme/packages/maven/com.acme.tool"),
        1
    );
    assert_eq!(fake.count("DELETE", "/user/packages/nuget/Alice.Lib"), 1);
    let individually: Vec<u64> = sorted(
        mixed
            .doomed
            .iter()
            .filter(|((_, _, t), _)| t != "maven" && t != "nuget")
            .flat_map(|(_, ids)| ids.iter().copied())
            .chain(mixed.deleted_before.iter().copied())
            .collect(),
    );
    assert_eq!(deleted_version_ids(&after), individually);
    // The user's own namespace was written through /user, never /users/alice.
    assert!(fake.count("DELETE", "/user/packages/rubygems/gem/versions/") == 2);
    assert_eq!(fake.count("DELETE", "/users/"), 0);
    result
}

#[test]
fn delete_then_restore_with_version_ids_gives_back_the_exact_state() {
    let mixed = mixed_world();
    let fake = FakeGithub::start(mixed.world.clone());
    let before = fake.world();
    assert_eq!(before, mixed.world.clone().sealed());

    let deleted = run_mixed_delete(&fake, &mixed);
    assert_ne!(fake.world(), before);

    let ids = deleted.output("version-ids").to_owned();
    let restored = restore(&fake)
        .input("config", MIXED_RESTORE)
        .input("version-ids", &ids)
        .run();
    restored.assert_success();

    // The full state: every package and version, ids, timestamps, deleted_at.
    let after = fake.world();
    assert_eq!(after, before, "{}", restored.logs());
    for package in after.packages.iter().filter(|p| p.owner != "bob") {
        assert_eq!(package.deleted_at, None, "package {}", package.name);
        for version in &package.versions {
            let was_deleted = mixed.deleted_before.contains(&version.id);
            assert_eq!(version.deleted_at.is_some(), was_deleted, "{version:?}");
        }
    }
    assert_restored(&restored, &deleted.output_ids("version-ids"));
    assert_eq!(restored.output_count("failed-count"), 0);
    // Both whole packages came back with one POST each, then nothing else was needed there.
    assert_eq!(
        fake.count("POST", "/orgs/acme/packages/maven/com.acme.tool/restore"),
        1
    );
    assert_eq!(
        fake.count("POST", "/user/packages/nuget/Alice.Lib/restore"),
        1
    );
    assert_eq!(
        fake.count("POST", "/packages/maven/com.acme.tool/versions/"),
        0
    );
    assert_eq!(fake.count("POST", "/users/"), 0);
    // 8 versions restored one by one (npm 3, container 3, rubygems 2) + 2 packages.
    assert_eq!(fake.count("POST", "/restore"), 10);
    assert!(restored
        .summary
        .contains("Package `com.acme.tool` was restored; 2 versions came back with it"));
    // The same restore again changes nothing and fails nothing.
    let again = restore(&fake)
        .input("config", MIXED_RESTORE)
        .input("version-ids", &ids)
        .run();
    again.assert_success();
    assert_restored(&again, &[]);
    assert_eq!(fake.world(), before);
}

// --- 2. Selection among deleted versions ----------------------------------------------------

#[test]
fn restore_by_tag_glob_where_exclude_tags_wins() {
    let mut world = base_world();
    let web = world.add_package(OWNER, "container", "web");
    web.add_version(&digest(100), &["latest"], days(1));
    let v10 = web
        .add_version(&digest(101), &["v1.0"], days(10))
        .deleted_ago(days(2))
        .id;
    let v11 = web
        .add_version(&digest(102), &["v1.1", "stable"], days(9))
        .deleted_ago(days(2))
        .id;
    let broken = web
        .add_version(&digest(103), &["v1.2", "broken"], days(8))
        .deleted_ago(days(2))
        .id;
    let v20 = web
        .add_version(&digest(104), &["v2.0"], days(7))
        .deleted_ago(days(2))
        .id;
    let untagged = web
        .add_version(&digest(105), &[], days(7))
        .deleted_ago(days(2))
        .id;
    let fake = FakeGithub::start(world);

    let result = restore(&fake)
        .input("packages", "web")
        .input("tags", "v1.*")
        .input("exclude-tags", "broken")
        .run();
    result.assert_success();
    assert_restored(&result, &[v10, v11]);
    let after = fake.world();
    assert!(active(&after, v10) && active(&after, v11));
    for id in [broken, v20, untagged] {
        assert!(!active(&after, id), "{id} must stay deleted");
    }
    assert_eq!(fake.count("POST", "/restore"), 2);
    // Restore mode reads only the manifests of what it restored, once each, after the restore
    // (image-aware restore: the manifest is served again then).
    let requests = fake.requests();
    let mut manifests: Vec<&str> = requests
        .iter()
        .filter(|r| r.registry && r.path.contains("/manifests/"))
        .map(|r| &r.path[r.path.len() - 71..])
        .collect();
    manifests.sort_unstable();
    let web = fake
        .world()
        .package(OWNER, "container", "web")
        .unwrap()
        .clone();
    let mut expected = vec![web.digest_of(&digest(101)), web.digest_of(&digest(102))];
    expected.sort_unstable();
    assert_eq!(manifests, expected);
    let last_restore = requests.iter().rposition(|r| r.path.ends_with("/restore"));
    let first_manifest = requests.iter().position(|r| r.path.contains("/manifests/"));
    assert!(
        first_manifest > last_restore,
        "manifests are read after the restores"
    );
}

#[test]
fn restore_by_semver_on_names_and_container_tags() {
    let mut world = base_world();
    let lib = world.add_package(OWNER, "npm", "lib");
    lib.add_version("4.0.0", &[], days(1));
    let mut ids = BTreeMap::new();
    for (n, name) in [
        "1.0.0",
        "1.5.0",
        "2.0.0",
        "2.1.0-beta.1",
        "3.0.0",
        "nightly",
    ]
    .iter()
    .enumerate()
    {
        let id = lib
            .add_version(name, &[], days(30 - n as u64))
            .deleted_ago(days(1))
            .id;
        ids.insert(*name, id);
    }
    let web = world.add_package(OWNER, "container", "web");
    web.add_version(&digest(200), &["latest"], days(1));
    let tagged_1 = web
        .add_version(&digest(201), &["v1.4"], days(5))
        .deleted_ago(days(1))
        .id;
    let tagged_2 = web
        .add_version(&digest(202), &["v2.1.0"], days(5))
        .deleted_ago(days(1))
        .id;
    let fake = FakeGithub::start(world);

    let result = restore(&fake)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("semver", ">=1.5, <3")
        .input("exclude-versions", "2.0.0")
        .run();
    result.assert_success();
    assert_restored(&result, &[ids["1.5.0"], ids["2.1.0-beta.1"]]);
    let after = fake.world();
    for (name, id) in &ids {
        let expected = matches!(*name, "1.5.0" | "2.1.0-beta.1");
        assert_eq!(active(&after, *id), expected, "{name}");
    }

    let result = restore(&fake)
        .input("packages", "web")
        .input("semver", "^1")
        .run();
    result.assert_success();
    assert_restored(&result, &[tagged_1]);
    assert!(!active(&fake.world(), tagged_2));
}

#[test]
fn restore_by_version_globs() {
    let mut world = base_world();
    let lib = world.add_package(OWNER, "maven", "com.acme.lib");
    lib.add_version("2.0", &[], days(1));
    let a = lib
        .add_version("1.2.3", &[], days(9))
        .deleted_ago(days(1))
        .id;
    let b = lib
        .add_version("1.2.4", &[], days(8))
        .deleted_ago(days(1))
        .id;
    let c = lib
        .add_version("1.3.0", &[], days(7))
        .deleted_ago(days(1))
        .id;
    let snapshot = lib
        .add_version("1.2.5-SNAPSHOT", &[], days(7))
        .deleted_ago(days(1))
        .id;
    let fake = FakeGithub::start(world);

    let result = restore(&fake)
        .input("package-type", "maven")
        .input("packages", "com.acme.lib")
        .input("versions", "1.2.*")
        .input("exclude-versions", "*-SNAPSHOT")
        .run();
    result.assert_success();
    assert_restored(&result, &[a, b]);
    let after = fake.world();
    assert!(!active(&after, c) && !active(&after, snapshot));
}

#[test]
fn tag_selection_prerelease_and_older_than_apply_to_deleted_versions() {
    let mut world = base_world();
    let web = world.add_package(OWNER, "container", "web");
    web.add_version(&digest(300), &["latest"], days(1));
    let tagged = web
        .add_version(&digest(301), &["v1.0"], days(5))
        .deleted_ago(days(1))
        .id;
    let untagged = web
        .add_version(&digest(302), &[], days(5))
        .deleted_ago(days(1))
        .id;
    let lib = world.add_package(OWNER, "npm", "lib");
    lib.add_version("3.0.0", &[], days(1));
    let rc_old = lib
        .add_version("2.0.0-rc.1", &[], days(60))
        .deleted_ago(days(1))
        .id;
    let rc_new = lib
        .add_version("2.1.0-rc.1", &[], days(3))
        .deleted_ago(days(1))
        .id;
    let release_old = lib
        .add_version("1.0.0", &[], days(60))
        .deleted_ago(days(1))
        .id;
    let fake = FakeGithub::start(world);

    let result = restore(&fake)
        .input("packages", "web")
        .input("tag-selection", "untagged")
        .run();
    result.assert_success();
    assert_restored(&result, &[untagged]);
    assert!(!active(&fake.world(), tagged));

    let result = restore(&fake)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("prerelease", "only")
        .input("older-than", "30d")
        .run();
    result.assert_success();
    assert_restored(&result, &[rc_old]);
    let after = fake.world();
    assert!(!active(&after, rc_new) && !active(&after, release_old));
}

// --- 3. deleted-within --------------------------------------------------------------------

#[test]
fn deleted_within_restores_only_recent_deletions() {
    let mut world = base_world();
    let lib = world.add_package(OWNER, "npm", "lib");
    lib.add_version("9.0.0", &[], days(1));
    let five_hours = lib
        .add_version("1.0.0", &[], days(100))
        .deleted_ago(hours(5))
        .id;
    let one_day = lib
        .add_version("1.1.0", &[], days(100))
        .deleted_ago(days(1))
        .id;
    let three_days = lib
        .add_version("1.2.0", &[], days(2))
        .deleted_ago(days(3))
        .id;
    let ten_days = lib
        .add_version("1.3.0", &[], days(1))
        .deleted_ago(days(10))
        .id;
    let fake = FakeGithub::start(world);

    let result = restore(&fake)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("deleted-within", "2d")
        .run();
    result.assert_success();
    // By deleted_at, not by age: the two old versions deleted recently come back.
    assert_restored(&result, &[five_hours, one_day]);
    let after = fake.world();
    assert!(!active(&after, three_days) && !active(&after, ten_days));
    assert_eq!(result.output_count("kept-count"), 2);
}

// --- 4. A whole deleted package -----------------------------------------------------------

#[test]
fn a_deleted_package_is_restored_first_then_filters_choose_among_its_deleted_versions() {
    let mut world = base_world();
    let gone = world.add_package(OWNER, "npm", "gone");
    let came_back = [
        gone.add_version("1.0.0", &[], days(10)).id,
        gone.add_version("1.1.0", &[], days(9)).id,
    ];
    let chosen = gone
        .add_version("0.9.0", &[], days(20))
        .deleted_ago(days(2))
        .id;
    let left = gone
        .add_version("0.8.0", &[], days(21))
        .deleted_ago(days(2))
        .id;
    gone.deleted_ago(days(1));
    let other = world.add_package(OWNER, "npm", "other");
    other.add_version("5.0.0", &[], days(1));
    let other_chosen = other
        .add_version("0.9.1", &[], days(30))
        .deleted_ago(days(1))
        .id;
    let fake = FakeGithub::start(world);

    let result = restore(&fake)
        .input("package-type", "npm")
        .input("packages", "gone, other")
        .input("versions", "0.9.*")
        .run();
    result.assert_success();

    let after = fake.world();
    let package = after.package(OWNER, "npm", "gone").unwrap();
    assert_eq!(package.deleted_at, None);
    assert_eq!(
        package.active_ids(),
        sorted(vec![came_back[0], came_back[1], chosen])
    );
    assert_eq!(package.deleted_ids(), vec![left]);
    assert!(active(&after, other_chosen));
    assert_eq!(
        fake.count("POST", "/orgs/acme/packages/npm/gone/restore"),
        1
    );
    // The package restore came before any version restore of it.
    let posts: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.contains("/npm/gone/"))
        .map(|r| r.path)
        .collect();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(posts[0].ends_with("/npm/gone/restore"), "{posts:?}");

    assert_restored(&result, &[came_back[0], came_back[1], chosen, other_chosen]);
    assert!(
        result
            .summary
            .contains("Package `gone` was restored; 2 versions came back with it"),
        "{}",
        result.summary
    );
    // Active after: the 2 that came back + the one chosen.
    assert!(
        result
            .summary
            .contains("| `gone` | 0 | 1 | 1 | 3 | 0 | 0 | 0 | 3 |"),
        "{}",
        result.summary
    );
}

// --- 5. Refusals ---------------------------------------------------------------------------

fn refusing_world() -> (World, u64, u64, u64) {
    let mut world = base_world();
    let lib = world.add_package(OWNER, "npm", "lib");
    // 1.0.0 was deleted, then published again: the name is taken.
    let reused = lib
        .add_version("1.0.0", &[], days(20))
        .deleted_ago(days(2))
        .id;
    lib.add_version("1.0.0", &[], days(1));
    let expired = lib
        .add_version("0.5.0", &[], days(90))
        .deleted_ago(days(40))
        .id;
    let fine = lib
        .add_version("0.9.0", &[], days(30))
        .deleted_ago(days(1))
        .id;
    (world, reused, expired, fine)
}

fn assert_refusals_reported(result: &RunResult, reused: u64, expired: u64, fine: u64) {
    assert_restored(result, &[fine]);
    assert_eq!(result.output_count("failed-count"), 2);
    let failed = result.output_json("failed");
    let failed = failed.as_array().unwrap();
    let entry = |id: u64| {
        failed
            .iter()
            .find(|f| f["id"].as_u64() == Some(id))
            .unwrap_or_else(|| panic!("{id} not in failed: {failed:?}"))
    };
    assert_eq!(entry(expired)["status"], 404);
    assert_eq!(entry(expired)["message"], MSG_VERSION_RESTORE_EXPIRED);
    assert_eq!(entry(expired)["name"], "0.5.0");
    assert_eq!(entry(reused)["status"], 403);
    assert_eq!(entry(reused)["message"], MSG_VERSION_NAME_TAKEN);
    assert_eq!(entry(reused)["package"], "lib");

    let summary = &result.summary;
    assert!(summary.contains("> [!CAUTION]"), "{summary}");
    let row = |id: u64| {
        summary
            .lines()
            .find(|l| l.starts_with("| `lib` |") && l.contains(&format!("| {id} |")))
            .unwrap_or_else(|| panic!("no failure row for {id}:\n{summary}"))
    };
    let expired_row = row(expired);
    assert!(expired_row.contains("| 404 |") && expired_row.contains(MSG_VERSION_RESTORE_EXPIRED));
    assert!(
        expired_row.contains("more than 30 days ago"),
        "plain cause for the 30 days: {expired_row}"
    );
    let reused_row = row(reused);
    assert!(reused_row.contains("| 403 |") && reused_row.contains(MSG_VERSION_NAME_TAKEN));
    assert!(
        reused_row.contains("published again"),
        "plain cause for the reuse: {reused_row}"
    );
    assert!(
        !reused_row.contains("token"),
        "a reused name is not a token problem: {reused_row}"
    );

    let errors = result.annotations("error");
    assert_eq!(errors.len(), 2, "{}", result.logs());
    for (id, message) in [
        (expired, MSG_VERSION_RESTORE_EXPIRED),
        (reused, MSG_VERSION_NAME_TAKEN),
    ] {
        assert!(
            errors
                .iter()
                .any(|e| e.contains(&format!("version {id} ")) && e.contains(message)),
            "no ::error for {id}: {errors:?}"
        );
    }
}

#[test]
fn refused_version_restores_are_reported_and_the_others_go_on() {
    for (fail_on_error, code) in [("true", 1), ("false", 0)] {
        let (world, reused, expired, fine) = refusing_world();
        let fake = FakeGithub::start(world);
        let result = restore(&fake)
            .input("package-type", "npm")
            .input("packages", "lib")
            .input("fail-on-error", fail_on_error)
            .run();
        result.assert_code(code);
        assert_refusals_reported(&result, reused, expired, fine);
        let after = fake.world();
        assert!(active(&after, fine));
        assert!(!active(&after, reused) && !active(&after, expired));
        assert_eq!(fake.count("POST", "/restore"), 3);
    }
}

#[test]
fn refused_package_restores_are_reported_and_other_packages_go_on() {
    for (fail_on_error, code) in [("true", 1), ("false", 0)] {
        let mut world = base_world();
        // Deleted 40 days ago: past GitHub's window.
        let old = world.add_package(OWNER, "npm", "old");
        old.add_version("1.0.0", &[], days(50));
        old.deleted_ago(days(40));
        // Deleted yesterday, and a new package of that name was published while this run
        // went on (the listing still found none: scripted below).
        let raced = world.add_package(OWNER, "npm", "raced");
        raced.add_version("1.0.0", &[], days(5));
        raced.deleted_ago(days(1));
        world
            .add_package(OWNER, "npm", "raced")
            .add_version("2.0.0", &[], hours(1));
        let fine = world.add_package(OWNER, "npm", "fine");
        fine.add_version("2.0.0", &[], days(1));
        let fine_id = fine
            .add_version("1.0.0", &[], days(3))
            .deleted_ago(days(1))
            .id;
        let fake = FakeGithub::start(world);
        fake.update_config(|config| {
            config.scripted.push(ScriptedFault::respond(
                Some("GET"),
                "/orgs/acme/packages/npm/raced/versions",
                1,
                404,
                "Package not found.",
            ))
        });
        let before = fake.world();

        let result = restore(&fake)
            .input("package-type", "npm")
            .input("packages", "old, raced, fine")
            .input("fail-on-error", fail_on_error)
            .run();
        result.assert_code(code);
        assert_restored(&result, &[fine_id]);
        assert_eq!(fake.count("POST", "/npm/old/restore"), 1);
        assert_eq!(fake.count("POST", "/npm/raced/restore"), 1);

        let after = fake.world();
        assert!(active(&after, fine_id));
        // Nothing else changed: both packages stay as they were.
        let mut expected = before.clone();
        expected
            .package_mut(OWNER, "npm", "fine")
            .unwrap()
            .version_mut(fine_id)
            .unwrap()
            .deleted_at = None;
        assert_eq!(after, expected);

        let summary = &result.summary;
        for (name, status, message, cause) in [
            (
                "old",
                404,
                MSG_PACKAGE_RESTORE_EXPIRED,
                "more than 30 days ago",
            ),
            ("raced", 403, MSG_PACKAGE_NAME_TAKEN, "published again"),
        ] {
            let line = summary
                .lines()
                .find(|l| l.starts_with(&format!("> - `{name}` (npm) could not be worked on:")))
                .unwrap_or_else(|| panic!("no failure line for {name}:\n{summary}"));
            assert!(
                line.contains(&format!("{status} \"{message}\"")),
                "{name}: {line}"
            );
            assert!(line.contains(cause), "{name}: plain cause missing: {line}");
            assert!(
                !line.contains("token"),
                "{name}: not a token problem: {line}"
            );
            assert!(
                result
                    .annotations("error")
                    .iter()
                    .any(|e| e.contains(&format!("npm package {name} of acme"))
                        && e.contains(message)),
                "no ::error for {name}:\n{}",
                result.logs()
            );
        }
    }
}

#[test]
fn another_users_namespace_refuses_restores_as_a_rights_problem() {
    let mut world = base_world();
    let theirs = world.add_package("bob", "npm", "lib").public();
    theirs.add_version("2.0.0", &[], days(1));
    let id = theirs
        .add_version("1.0.0", &[], days(5))
        .deleted_ago(days(1))
        .id;
    let fake = FakeGithub::start(world);
    let before = fake.world();

    let result = restore(&fake)
        .input("owner", "bob")
        .input("package-type", "npm")
        .input("packages", "lib")
        .run();
    result.assert_code(1);
    assert_eq!(fake.world(), before);
    assert_eq!(
        fake.count("POST", "/users/bob/packages/npm/lib/versions/"),
        1
    );
    assert_restored(&result, &[]);
    let failed = result.output_json("failed");
    assert_eq!(failed[0]["id"].as_u64(), Some(id));
    assert_eq!(failed[0]["status"], 403);
    let row = result
        .summary
        .lines()
        .find(|l| l.contains(&format!("| {id} |")))
        .expect("a failure row");
    assert!(row.contains("token lacks the rights"), "{row}");
}

// --- 6. Dry run -----------------------------------------------------------------------------

#[test]
fn a_restore_dry_run_writes_nothing_and_says_what_it_would_restore() {
    let mut world = base_world();
    let lib = world.add_package(OWNER, "npm", "lib");
    lib.add_version("3.0.0", &[], days(1));
    let a = lib
        .add_version("1.0.0", &[], days(9))
        .deleted_ago(days(1))
        .id;
    let b = lib
        .add_version("1.1.0", &[], days(8))
        .deleted_ago(days(1))
        .id;
    lib.add_version("2.0.0", &[], days(7)).deleted_ago(days(1));
    let gone = world.add_package(OWNER, "npm", "gone");
    gone.add_version("1.0.0", &[], days(9));
    gone.deleted_ago(days(1));
    let fake = FakeGithub::start(world);
    let before = fake.world();

    let result = restore(&fake)
        .input("package-type", "npm")
        .input("packages", "lib, gone")
        .input("versions", "1.*")
        .input("dry-run", "true")
        .run();
    result.assert_success();
    assert_eq!(fake.writes(), 0, "{}", result.logs());
    assert_eq!(fake.world(), before);
    assert_restored(&result, &[a, b]);
    assert_eq!(result.output_count("failed-count"), 0);
    let head: String = result
        .summary
        .lines()
        .take(4)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(head.contains("DRY RUN"), "{}", result.summary);
    assert!(result
        .summary
        .contains("Package `gone` would be restored first"));
    assert!(result.stdout.contains("would restore"), "{}", result.logs());
}

// --- 7. The Undo block ----------------------------------------------------------------------

/// The text of a YAML scalar, as a workflow's `with:` passes it.
fn yaml_text(value: &Yaml) -> String {
    match value {
        Yaml::String(text) => text.clone(),
        Yaml::Number(number) => number.to_string(),
        Yaml::Bool(flag) => flag.to_string(),
        Yaml::Null => String::new(),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// The steps of the summary's Undo block.
fn undo_steps(summary: &str) -> Vec<Yaml> {
    let at = summary
        .find("\n## Undo\n")
        .unwrap_or_else(|| panic!("no Undo section:\n{summary}"));
    let undo = &summary[at + 1..];
    assert!(
        !undo[3..].contains("\n## "),
        "the Undo section must be the last one:\n{summary}"
    );
    let start = undo.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let end = start + undo[start..].find("```").expect("the block ends");
    let steps: Yaml = serde_yaml::from_str(&undo[start..end])
        .unwrap_or_else(|e| panic!("Undo block is not YAML ({e}):\n{}", &undo[start..end]));
    steps.as_sequence().expect("a list of steps").clone()
}

#[test]
fn the_undo_block_pasted_as_steps_restores_exactly_what_was_deleted() {
    let mixed = mixed_world();
    let fake = FakeGithub::start(mixed.world.clone());
    let before = fake.world();
    let deleted = run_mixed_delete(&fake, &mixed);

    let steps = undo_steps(&deleted.summary);
    assert_eq!(steps.len(), mixed.doomed.len(), "{}", deleted.summary);
    let mut seen = BTreeMap::new();
    for step in &steps {
        assert_eq!(
            step["uses"].as_str(),
            Some("package-retention/package-retention@v1")
        );
        let with: BTreeMap<String, String> = step["with"]
            .as_mapping()
            .expect("with: a map")
            .iter()
            .map(|(k, v)| (yaml_text(k), yaml_text(v)))
            .collect();
        assert_eq!(with["mode"], "restore");
        let key = (
            with["owner"].clone(),
            with["owner-type"].clone(),
            with["package-type"].clone(),
        );
        let ids: Vec<u64> = with["version-ids"]
            .split(',')
            .map(|id| id.trim().parse().expect("an id"))
            .collect();
        assert_eq!(sorted(ids), sorted(mixed.doomed[&key].clone()), "{key:?}");
        seen.insert(key, with);
    }
    assert_eq!(
        seen.keys().collect::<Vec<_>>(),
        mixed.doomed.keys().collect::<Vec<_>>()
    );
    assert_eq!(
        seen[&(OWNER.into(), "org".into(), "maven".into())]["packages"],
        "com.acme.tool"
    );
    assert_eq!(
        seen[&(ME.into(), "user".into(), "nuget".into())]["packages"],
        "Alice.Lib"
    );

    // Paste: each step's `with:` as the inputs of a restore run (the token is the default).
    let mut restored = Vec::new();
    for with in seen.values() {
        let mut run = restore(&fake);
        for (name, value) in with {
            run = run.input(name, value);
        }
        let result = run.run();
        result.assert_success();
        assert_eq!(result.output_count("failed-count"), 0);
        restored.extend(result.output_ids("version-ids"));
    }
    assert_eq!(sorted(restored), sorted(deleted.output_ids("version-ids")));
    assert_eq!(fake.world(), before);
}

// --- 8. Conflicting inputs -------------------------------------------------------------------

#[test]
fn delete_only_inputs_in_restore_mode_are_bad_input_before_any_request() {
    for (name, value) in [
        ("keep-latest", "2"),
        ("min-versions-to-keep", "1"),
        ("delete-empty-package", "true"),
        ("max-deletions", "5"),
    ] {
        let mut world = base_world();
        world
            .add_package(OWNER, "npm", "lib")
            .add_version("1.0.0", &[], days(1))
            .deleted_ago(days(1));
        let fake = FakeGithub::start(world);
        let result = restore(&fake)
            .input("package-type", "npm")
            .input("packages", "lib")
            .input(name, value)
            .run();
        result.assert_code(2);
        assert!(
            fake.requests().is_empty(),
            "{name}: requests were made: {:?}",
            fake.requests()
        );
        let errors = result.annotations("error");
        assert!(
            errors
                .iter()
                .any(|e| e.contains(name) && e.contains(value) && e.contains("restore")),
            "{name}: {errors:?}"
        );
    }
}

// --- The example restore workflow -----------------------------------------------------------

fn read_yaml(path: &str) -> Yaml {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// `${{ inputs.NAME }}` → `NAME`.
fn input_reference(value: &str) -> Option<&str> {
    value
        .trim()
        .strip_prefix("${{")?
        .strip_suffix("}}")?
        .trim()
        .strip_prefix("inputs.")
}

#[test]
fn the_example_restore_workflow_matches_the_action_and_works() {
    let action = read_yaml("action.yml");
    let action_inputs = action["inputs"].as_mapping().expect("action inputs");
    let action_outputs = action["outputs"].as_mapping().expect("action outputs");
    let workflow = read_yaml("examples/workflows/restore.yml");
    // `on` is a YAML 1.1 boolean to some parsers: accept either key.
    let on = workflow
        .get("on")
        .or_else(|| workflow.get(Yaml::Bool(true)))
        .expect("on:");
    let dispatch = on["workflow_dispatch"]["inputs"]
        .as_mapping()
        .expect("workflow_dispatch inputs");
    let dispatch_names: Vec<String> = dispatch.keys().map(yaml_text).collect();
    for wanted in ["package", "version-ids", "tags", "dry-run"] {
        assert!(
            dispatch_names.iter().any(|n| n == wanted),
            "dispatch input {wanted} missing: {dispatch_names:?}"
        );
    }
    assert_eq!(
        on["workflow_dispatch"]["inputs"]["dry-run"]["type"],
        "boolean"
    );
    assert_eq!(workflow["permissions"]["packages"], "write");

    let steps = workflow["jobs"]["restore"]["steps"]
        .as_sequence()
        .expect("steps");
    let step = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("package-retention/package-retention@"))
        })
        .expect("a step using the action");
    let with = step["with"].as_mapping().expect("with:");
    let mut wired = BTreeMap::new();
    for (name, value) in with {
        let name = yaml_text(name);
        let value = yaml_text(value);
        assert!(
            action_inputs.contains_key(name.as_str()),
            "with: {name} is not an input of action.yml"
        );
        if let Some(input) = input_reference(&value) {
            assert!(
                dispatch_names.iter().any(|n| n == input),
                "with: {name} uses undeclared inputs.{input}"
            );
            wired.insert(name, input.to_owned());
        } else {
            assert_eq!((name.as_str(), value.as_str()), ("mode", "restore"));
        }
    }
    for (name, input) in [
        ("packages", "package"),
        ("version-ids", "version-ids"),
        ("tags", "tags"),
        ("dry-run", "dry-run"),
    ] {
        assert_eq!(wired.get(name).map(String::as_str), Some(input), "{name}");
    }
    // Later steps read only outputs the action has.
    let id = step["id"].as_str().expect("the step has an id");
    let text = std::fs::read_to_string(format!(
        "{}/examples/workflows/restore.yml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let prefix = format!("steps.{id}.outputs.");
    for (at, _) in text.match_indices(&prefix) {
        let output: String = text[at + prefix.len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        assert!(
            action_outputs.contains_key(output.as_str()),
            "steps.{id}.outputs.{output} is not an output of action.yml"
        );
    }

    // Dispatched with a package and ids (tags left empty, dry-run off), the step restores them.
    let mut world = base_world();
    let lib = world.add_package(OWNER, "npm", "lib");
    lib.add_version("2.0.0", &[], days(1));
    let a = lib
        .add_version("1.0.0", &[], days(9))
        .deleted_ago(days(1))
        .id;
    let b = lib
        .add_version("1.1.0", &[], days(8))
        .deleted_ago(days(1))
        .id;
    let fake = FakeGithub::start(world);
    let dispatched: BTreeMap<&str, String> = [
        ("package", "lib".to_owned()),
        ("package-type", "npm".to_owned()),
        ("version-ids", a.to_string()),
        ("tags", String::new()),
        ("dry-run", "false".to_owned()),
    ]
    .into_iter()
    .collect();
    let mut run = Run::new(&fake);
    for (name, value) in with {
        let name = yaml_text(name);
        let value = yaml_text(value);
        let value = match input_reference(&value) {
            Some(input) => dispatched[input].clone(),
            None => value,
        };
        run = run.input(&name, &value);
    }
    let result = run.run();
    result.assert_success();
    assert_restored(&result, &[a]);
    assert!(!active(&fake.world(), b));
}

#[test]
fn version_ids_that_are_not_deleted_versions_are_warned_about() {
    let mut world = base_world();
    let lib = world.add_package(OWNER, "npm", "lib");
    let still_active = lib.add_version("2.0.0", &[], days(1)).id;
    let deleted = lib
        .add_version("1.0.0", &[], days(9))
        .deleted_ago(days(1))
        .id;
    let fake = FakeGithub::start(world);

    let result = restore(&fake)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input(
            "version-ids",
            &format!("{deleted},{still_active},999999999"),
        )
        .run();
    result.assert_success();
    assert_restored(&result, &[deleted]);
    let warnings = result.annotations("warning");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains(&still_active.to_string())
                && w.contains("999999999")
                && w.contains("not among the deleted versions")),
        "{warnings:?}"
    );
    assert!(!warnings.iter().any(|w| w.contains(&format!("{deleted},"))));
}
