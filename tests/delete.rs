//! Delete mode end to end: the compiled binary against the fake GitHub, checked through the
//! fake's final state, the step outputs and the job summary. Owners, package types, every
//! filter and guard alone and combined, glob package names, `config` rules, dry runs, the
//! failures GitHub answers, pagination, the `GITHUB_OUTPUT` format and the flags of a laptop run.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};

use common::{parse_github_output, Run, RunResult, OWNER, TOKEN};
use fake_github::{
    days, digest, hours, Config, FakeGithub, ScriptedFault, Token, World, MSG_NO_ADMIN_RIGHTS,
    MSG_TOO_MANY_DOWNLOADS,
};

// ---------------------------------------------------------------------------------------------
// Worlds

/// The usual world: organization `acme` (the default owner), users `alice` (the token's
/// account) and `bob`.
fn base_world() -> World {
    World::new()
        .org(OWNER)
        .user("alice")
        .user("bob")
        .token(TOKEN, "alice")
}

/// Adds a package of `owner` whose versions are `(name, age in days)`, listed oldest first;
/// returns their ids in the same order.
fn add(
    world: &mut World,
    owner: &str,
    kind: &str,
    name: &str,
    versions: &[(&str, u64)],
) -> Vec<u64> {
    let package = world.add_package(owner, kind, name);
    versions
        .iter()
        .map(|(version, age)| package.add_version(version, &[], days(*age)).id)
        .collect()
}

/// Adds a container-like package of `acme` whose versions are `(tags, age in days)`, oldest
/// first, each with a fresh digest; returns their ids in the same order.
fn add_tagged(world: &mut World, kind: &str, name: &str, versions: &[(&[&str], u64)]) -> Vec<u64> {
    static DIGESTS: AtomicU64 = AtomicU64::new(1);
    let package = world.add_package(OWNER, kind, name);
    versions
        .iter()
        .map(|(tags, age)| {
            let n = DIGESTS.fetch_add(1, Ordering::Relaxed);
            package.add_version(&digest(n), tags, days(*age)).id
        })
        .collect()
}

/// An npm package `app` of `acme` with these version names, the first the oldest (one day
/// apart); returns the ids in the same order.
fn npm_app(names: &[&str]) -> (FakeGithub, Vec<u64>) {
    let mut world = base_world();
    let versions: Vec<(&str, u64)> = names
        .iter()
        .enumerate()
        .map(|(i, name)| (*name, (names.len() - i) as u64 * 2))
        .collect();
    let ids = add(&mut world, OWNER, "npm", "app", &versions);
    (FakeGithub::start(world), ids)
}

/// `run` with these command-line arguments (a laptop run: the `INPUT_*` variables are ignored).
fn flags(run: Run, args: &[&str]) -> Run {
    args.iter().fold(run, |run, arg| run.arg(arg))
}

/// A run on the npm package `app` of `acme`.
fn npm_run(fake: &FakeGithub) -> Run {
    Run::new(fake)
        .input("package-type", "npm")
        .input("packages", "app")
}

// ---------------------------------------------------------------------------------------------
// Checks

fn sorted(mut ids: Vec<u64>) -> Vec<u64> {
    ids.sort_unstable();
    ids
}

fn pick(ids: &[u64], indices: &[usize]) -> Vec<u64> {
    sorted(indices.iter().map(|&i| ids[i]).collect())
}

/// Ids deleted in the fake's package `name` of `owner`.
fn deleted_of(fake: &FakeGithub, owner: &str, kind: &str, name: &str) -> Vec<u64> {
    fake.world()
        .package(owner, kind, name)
        .unwrap_or_else(|| panic!("no package {owner}/{kind}/{name}"))
        .deleted_ids()
}

/// Asserts that exactly `expected` were deleted in the fake's package `kind`/`name` of `acme`,
/// and that `deleted-count`, `deleted` and `version-ids` say exactly that.
fn assert_deleted(result: &RunResult, fake: &FakeGithub, kind: &str, name: &str, expected: &[u64]) {
    let expected = sorted(expected.to_vec());
    assert_eq!(
        deleted_of(fake, OWNER, kind, name),
        expected,
        "deleted in the fake\n{}",
        result.logs()
    );
    assert_outputs_list(result, &expected);
}

/// Asserts that the outputs list exactly `expected` as deleted.
fn assert_outputs_list(result: &RunResult, expected: &[u64]) {
    let expected = sorted(expected.to_vec());
    assert_eq!(
        sorted(result.output_ids("version-ids")),
        expected,
        "version-ids"
    );
    assert_eq!(
        sorted(result.output_json_ids("deleted")),
        expected,
        "deleted"
    );
    assert_eq!(result.output_count("deleted-count"), expected.len() as u64);
}

fn status_400s(fake: &FakeGithub) -> usize {
    fake.requests().iter().filter(|r| r.status == 400).count()
}

// ---------------------------------------------------------------------------------------------
// Owners

#[test]
fn an_organization_is_detected_and_served_through_orgs() {
    let (fake, ids) = npm_app(&["1.0.0", "1.1.0", "2.0.0"]);

    let result = npm_run(&fake).input("keep-latest", "1").run();

    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &ids[..2]);
    assert_eq!(
        fake.count("GET", "/users/acme"),
        1,
        "auto asks for the type"
    );
    assert_eq!(
        fake.count("DELETE", "/orgs/acme/packages/npm/app/versions/"),
        2
    );
    assert_eq!(fake.count("GET", "/user/"), 0);
    assert_eq!(fake.count("DELETE", "/user"), 0);
}

#[test]
fn an_explicit_org_owner_type_skips_the_lookup() {
    let (fake, ids) = npm_app(&["1.0.0", "2.0.0"]);

    let result = npm_run(&fake)
        .input("owner-type", "org")
        .input("keep-latest", "1")
        .run();

    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &ids[..1]);
    assert_eq!(
        fake.count("GET", "/users/"),
        0,
        "owner-type org needs no lookup"
    );
    assert_eq!(fake.count("GET", "/orgs/acme/packages/npm/app/versions"), 1);
}

#[test]
fn the_tokens_own_account_is_served_through_user() {
    let mut world = base_world();
    let ids = add(
        &mut world,
        "alice",
        "maven",
        "com.example.lib",
        &[("1.0", 5), ("1.1", 4), ("1.2", 1)],
    );
    let fake = FakeGithub::start(world);

    let result = Run::new(&fake)
        .input("owner", "alice")
        .input("package-type", "maven")
        .input("packages", "com.example.lib")
        .input("keep-latest", "1")
        .run();

    result.assert_success();
    assert_eq!(
        deleted_of(&fake, "alice", "maven", "com.example.lib"),
        pick(&ids, &[0, 1])
    );
    assert_outputs_list(&result, &pick(&ids, &[0, 1]));
    assert_eq!(
        fake.count("GET", "/users/alice"),
        1,
        "auto looks the owner up"
    );
    assert_eq!(
        fake.count("DELETE", "/user/packages/maven/com.example.lib/versions/"),
        2
    );
    assert_eq!(fake.count("DELETE", "/users/"), 0);
}

#[test]
fn an_explicit_user_owner_type_that_is_the_token_uses_user_routes() {
    let mut world = base_world();
    let ids = add(
        &mut world,
        "alice",
        "nuget",
        "Lib",
        &[("1.0.0", 5), ("2.0.0", 1)],
    );
    let fake = FakeGithub::start(world);

    let result = Run::new(&fake)
        .input("owner", "alice")
        .input("owner-type", "user")
        .input("package-type", "nuget")
        .input("packages", "Lib")
        .input("keep-latest", "1")
        .run();

    result.assert_success();
    assert_eq!(deleted_of(&fake, "alice", "nuget", "Lib"), vec![ids[0]]);
    assert_eq!(
        fake.count("GET", "/users/"),
        0,
        "owner-type user needs no lookup"
    );
    assert_eq!(
        fake.count("DELETE", "/user/packages/nuget/Lib/versions/"),
        1
    );
}

#[test]
fn another_user_is_served_through_users_and_githubs_refusal_is_reported() {
    let mut world = base_world();
    let package = world.add_package("bob", "npm", "tool");
    package.public();
    let old = package.add_version("0.1.0", &[], days(9)).id;
    let new = package.add_version("0.2.0", &[], days(1)).id;
    let fake = FakeGithub::start(world);

    let result = Run::new(&fake)
        .input("owner", "bob")
        .input("package-type", "npm")
        .input("packages", "tool")
        .input("keep-latest", "1")
        .run();

    // GitHub lets nobody delete in another user's namespace: a failure, quoted.
    result.assert_code(1);
    assert_eq!(
        fake.count("GET", "/users/bob/packages/npm/tool/versions"),
        1
    );
    assert_eq!(
        fake.count("DELETE", "/users/bob/packages/npm/tool/versions/"),
        1
    );
    assert_eq!(fake.count("GET", "/user/"), 0);
    assert!(deleted_of(&fake, "bob", "npm", "tool").is_empty());
    assert!(fake.world().version(new).is_some_and(|v| !v.is_deleted()));
    let failed = result.output_json("failed");
    assert_eq!(failed[0]["id"], old);
    assert_eq!(failed[0]["status"], 403);
    assert_eq!(failed[0]["message"], MSG_NO_ADMIN_RIGHTS);
    assert_eq!(result.output_count("failed-count"), 1);
    assert_eq!(result.output_count("deleted-count"), 0);
    assert_eq!(result.output_count("kept-count"), 1);
    assert!(
        result.summary.contains(MSG_NO_ADMIN_RIGHTS),
        "{}",
        result.summary
    );
}

#[test]
fn an_installation_token_whose_get_user_is_refused_still_deletes_its_own_packages() {
    let mut world = World::new()
        .org(OWNER)
        .user("alice")
        .installation_token(TOKEN, "alice");
    let ids = add(
        &mut world,
        "alice",
        "rubygems",
        "gem",
        &[("0.9.0", 5), ("1.0.0", 1)],
    );
    let fake = FakeGithub::start(world);

    let result = Run::new(&fake)
        .input("owner", "alice")
        .input("package-type", "rubygems")
        .input("packages", "gem")
        .input("keep-latest", "1")
        .run();

    result.assert_success();
    assert_eq!(deleted_of(&fake, "alice", "rubygems", "gem"), vec![ids[0]]);
    assert_outputs_list(&result, &ids[..1]);
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.method == "GET" && r.path == "/user" && r.status == 403),
        "GET /user was asked and refused"
    );
    assert_eq!(
        fake.count("DELETE", "/users/alice/packages/rubygems/gem/versions/"),
        1
    );
}

// ---------------------------------------------------------------------------------------------
// Package types

#[test]
fn every_versioned_package_type_deletes_all_but_the_latest() {
    for kind in ["npm", "maven", "nuget", "rubygems"] {
        let mut world = base_world();
        let ids = add(
            &mut world,
            OWNER,
            kind,
            "lib",
            &[("1.0.0", 30), ("1.1.0", 20), ("1.2.0", 10)],
        );
        let untouched = add(
            &mut world,
            OWNER,
            kind,
            "other",
            &[("1.0.0", 30), ("2.0.0", 1)],
        );
        let fake = FakeGithub::start(world);

        let result = Run::new(&fake)
            .input("package-type", kind)
            .input("packages", "lib")
            .input("keep-latest", "1")
            .run();

        result.assert_success();
        assert_deleted(&result, &fake, kind, "lib", &ids[..2]);
        let json = result.output_json("deleted");
        for entry in json.as_array().unwrap() {
            assert_eq!(entry["package"], "lib", "{kind}");
            assert_eq!(entry["package_type"], kind);
            assert!(entry["created_at"].as_str().unwrap().ends_with('Z'));
            assert!(entry["updated_at"].is_string());
            assert!(entry["tags"].is_array());
        }
        assert_eq!(
            json[0]["name"].as_str().map(|n| n.starts_with("1.")),
            Some(true)
        );
        assert_eq!(result.output_count("kept-count"), 1, "{kind}");
        assert!(
            deleted_of(&fake, OWNER, kind, "other").is_empty(),
            "{kind}: {untouched:?}"
        );
    }
}

#[test]
fn container_and_docker_packages_delete_by_tag() {
    for kind in ["container", "docker"] {
        let mut world = base_world();
        let ids = add_tagged(
            &mut world,
            kind,
            "app",
            &[
                (&["pr-1"], 9),
                (&["v1.0.0"], 8),
                (&["pr-2"], 7),
                (&["latest", "v1.1.0"], 1),
            ],
        );
        let fake = FakeGithub::start(world);

        let result = Run::new(&fake)
            .input("package-type", kind)
            .input("packages", "app")
            .input("tags", "pr-*")
            .run();

        result.assert_success();
        assert_deleted(&result, &fake, kind, "app", &pick(&ids, &[0, 2]));
        let tags: Vec<String> = result
            .output_json("deleted")
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["tags"][0].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(sorted_strings(tags), vec!["pr-1", "pr-2"], "{kind}");
        assert_eq!(result.output_count("kept-count"), 2);
    }
}

fn sorted_strings(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items
}

// ---------------------------------------------------------------------------------------------
// Filters, one at a time

#[test]
fn version_ids_select_only_those_versions() {
    let (fake, ids) = npm_app(&["1.0.0", "1.1.0", "1.2.0", "1.3.0"]);

    let result = npm_run(&fake)
        .input("version-ids", &format!("{}\n{}", ids[0], ids[2]))
        .run();

    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &pick(&ids, &[0, 2]));
    assert_eq!(result.output_count("kept-count"), 2);
}

#[test]
fn a_version_id_of_another_package_touches_nothing() {
    let mut world = base_world();
    let app = add(
        &mut world,
        OWNER,
        "npm",
        "app",
        &[("1.0.0", 3), ("2.0.0", 1)],
    );
    let other = add(
        &mut world,
        OWNER,
        "npm",
        "other",
        &[("1.0.0", 3), ("2.0.0", 1)],
    );
    let fake = FakeGithub::start(world);

    let result = npm_run(&fake)
        .input("version-ids", &other[0].to_string())
        .run();

    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &[]);
    assert!(deleted_of(&fake, OWNER, "npm", "other").is_empty());
    assert_eq!(fake.writes(), 0);
    assert_eq!(result.output_count("kept-count"), app.len() as u64);
}

fn tagged_app() -> (FakeGithub, Vec<u64>) {
    let mut world = base_world();
    let ids = add_tagged(
        &mut world,
        "container",
        "app",
        &[
            (&[], 20),                   // 0 untagged
            (&["v1.0.0"], 19),           // 1
            (&["v1.1.0-rc.1"], 18),      // 2
            (&[], 17),                   // 3 untagged
            (&["v1.1.0", "stable"], 16), // 4
            (&["dev-abc"], 15),          // 5
            (&["v2.0.0"], 2),            // 6
            (&["latest", "v2.1.0"], 1),  // 7
        ],
    );
    (FakeGithub::start(world), ids)
}

fn container_run(fake: &FakeGithub) -> Run {
    Run::new(fake).input("packages", "app")
}

#[test]
fn tags_select_versions_with_a_matching_tag() {
    let (fake, ids) = tagged_app();

    let result = container_run(&fake).input("tags", "v1.*, dev-*").run();

    result.assert_success();
    assert_deleted(
        &result,
        &fake,
        "container",
        "app",
        &pick(&ids, &[1, 2, 4, 5]),
    );
}

#[test]
fn exclude_tags_alone_protects_matching_versions_from_everything_else() {
    let (fake, ids) = tagged_app();

    let result = container_run(&fake)
        .input("exclude-tags", "v2.*\nstable")
        .run();

    result.assert_success();
    assert_deleted(
        &result,
        &fake,
        "container",
        "app",
        &pick(&ids, &[0, 1, 2, 3, 5]),
    );
    assert_eq!(result.output_count("kept-count"), 3);
}

#[test]
fn tag_selection_untagged_deletes_only_untagged_versions() {
    let (fake, ids) = tagged_app();

    let result = container_run(&fake)
        .input("tag-selection", "untagged")
        .run();

    result.assert_success();
    assert_deleted(&result, &fake, "container", "app", &pick(&ids, &[0, 3]));
}

#[test]
fn tag_selection_tagged_deletes_tagged_versions_but_the_newest_one() {
    let (fake, ids) = tagged_app();

    let result = container_run(&fake).input("tag-selection", "tagged").run();

    result.assert_success();
    // Every tagged version is selected: GitHub refuses the last tagged one, so it stays.
    assert_deleted(
        &result,
        &fake,
        "container",
        "app",
        &pick(&ids, &[1, 2, 4, 5, 6]),
    );
    assert_eq!(status_400s(&fake), 0, "no refused request was sent");
    assert!(
        result.stdout.contains("last tagged version"),
        "{}",
        result.logs()
    );
}

#[test]
fn versions_globs_match_the_version_name() {
    let (fake, ids) = npm_app(&["1.0.0", "1.0.1", "1.1.0", "2.0.0-beta.1", "2.0.0"]);

    let result = npm_run(&fake).input("versions", "1.0.*, *-beta*").run();

    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &pick(&ids, &[0, 1, 3]));
}

#[test]
fn exclude_versions_alone_spares_matching_names() {
    let (fake, ids) = npm_app(&["1.0.0", "1.0.1", "1.1.0", "2.0.0"]);

    let result = npm_run(&fake).input("exclude-versions", "1.0.*").run();

    result.assert_success();
    // 1.1.0 and 2.0.0 are selected; the excluded ones remain, so no last-version rule.
    assert_deleted(&result, &fake, "npm", "app", &pick(&ids, &[2, 3]));
}

#[test]
fn semver_alternatives_and_comparator_sets() {
    let (fake, ids) = npm_app(&[
        "0.9.0", "1.0.0", "1.5.0", "2.0.0", "3.0.0", "3.2.0", "4.0.0",
    ]);

    let result = npm_run(&fake).input("semver", ">=1.0, <2.0 || ^3.1").run();

    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &pick(&ids, &[1, 2, 5]));
}

#[test]
fn semver_accepts_a_leading_v_and_short_forms_and_skips_non_versions() {
    let (fake, ids) = npm_app(&["v1.2", "1.3.0", "1.0.0.1", "nightly", "2", "v2.0.1"]);

    let result = npm_run(&fake).input("semver", "<=v1.3").run();

    result.assert_success();
    // v1.2 is 1.2.0 and 1.3 is 1.3.0; four parts or a word are not versions.
    assert_deleted(&result, &fake, "npm", "app", &pick(&ids, &[0, 1]));

    let (fake, ids) = npm_app(&["1.9.9", "v2", "2.0.0-rc.1", "2.1", "3.0.0"]);
    let result = npm_run(&fake).input("semver", "2").run();
    result.assert_success();
    // `2` alone means ^2: every 2.x.y, its pre-releases included (from 2.0.0-0), up to 3.0.0-0.
    assert_deleted(&result, &fake, "npm", "app", &pick(&ids, &[1, 2, 3]));
}

#[test]
fn semver_partial_versions_are_ranges_as_npm_and_cargo_read_them() {
    let names = [
        "0.0.3",
        "0.9.0",
        "1.0.0",
        "1.2.0-rc.1",
        "1.2.0",
        "1.2.7",
        "1.3.0-rc.1",
        "1.3.0",
        "2.0.0",
    ];
    // (requirement, the indices of `names` it deletes)
    let cases: &[(&str, &[usize])] = &[
        // Zero-filled, `>1.2` was `>1.2.0` and deleted the 1.2.x patches.
        (">1.2", &[6, 7, 8]),
        // Zero-filled, `<=1.2` was `<=1.2.0` and kept 1.2.7.
        ("<=1.2", &[0, 1, 2, 3, 4, 5]),
        // Zero-filled, `~1` was `~1.0.0` (1.0.x only).
        ("~1", &[2, 3, 4, 5, 6, 7]),
        // Zero-filled, `^0` was `^0.0.0` (0.0.0 only).
        ("^0", &[0, 1]),
        (">1", &[8]),
        ("1.2.x", &[3, 4, 5]),
        ("=1.2 || >=2", &[3, 4, 5, 8]),
    ];
    for (requirement, deleted) in cases {
        let (fake, ids) = npm_app(&names);
        let result = npm_run(&fake).input("semver", requirement).run();
        result.assert_success();
        assert_deleted(&result, &fake, "npm", "app", &pick(&ids, deleted));
    }
}

#[test]
fn semver_compares_pre_releases_by_precedence() {
    let (fake, ids) = npm_app(&[
        "1.5.0-beta.1",
        "1.9.0",
        "2.0.0-rc.1",
        "2.0.0",
        "2.1.0-alpha",
    ]);

    let result = npm_run(&fake).input("semver", "<2.0.0").run();

    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &pick(&ids, &[0, 1, 2]));
}

#[test]
fn semver_on_containers_matches_any_tag() {
    let (fake, ids) = tagged_app();

    let result = container_run(&fake).input("semver", ">=1.0.0, <2").run();

    result.assert_success();
    // v1.0.0, v1.1.0-rc.1 (precedence), v1.1.0+stable; untagged and dev-abc are not versions.
    assert_deleted(&result, &fake, "container", "app", &pick(&ids, &[1, 2, 4]));
}

#[test]
fn prerelease_only_and_exclude() {
    let names = [
        "1.0.0",
        "1.1.0-rc.1",
        "1.1.0",
        "2.0.0-beta",
        "2.0.0",
        "nightly",
    ];

    let (fake, ids) = npm_app(&names);
    let result = npm_run(&fake).input("prerelease", "only").run();
    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &pick(&ids, &[1, 3]));

    let (fake, ids) = npm_app(&names);
    let result = npm_run(&fake)
        .input("prerelease", "exclude")
        .input("keep-latest", "1")
        .run();
    result.assert_success();
    // Not pre-releases: 1.0.0, 1.1.0, 2.0.0 and `nightly` (not a version); the newest is kept.
    assert_deleted(&result, &fake, "npm", "app", &pick(&ids, &[0, 2, 4]));
}

#[test]
fn prerelease_only_on_containers_looks_at_the_tags() {
    let (fake, ids) = tagged_app();

    let result = container_run(&fake)
        .input("prerelease", "only")
        .input("tag-selection", "tagged")
        .run();

    result.assert_success();
    assert_deleted(&result, &fake, "container", "app", &pick(&ids, &[2]));
}

#[test]
fn older_than_compares_updated_at() {
    let mut world = base_world();
    let package = world.add_package(OWNER, "npm", "app");
    let old = package.add_version("1.0.0", &[], days(100)).id;
    let touched = package
        .add_version("1.1.0", &[], days(95))
        .updated_ago(days(2))
        .id;
    let recent_hours = package.add_version("1.2.0", &[], hours(30)).id;
    let fresh = package.add_version("1.3.0", &[], hours(1)).id;
    let fake = FakeGithub::start(world);

    let result = npm_run(&fake).input("older-than", "1d").run();

    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &[old, touched, recent_hours]);
    let _ = fresh;

    // The same world, 90 days: the version created long ago but updated two days ago stays.
    let mut world = base_world();
    let package = world.add_package(OWNER, "npm", "app");
    let old = package.add_version("1.0.0", &[], days(100)).id;
    package
        .add_version("1.1.0", &[], days(95))
        .updated_ago(days(2));
    package.add_version("1.3.0", &[], hours(1));
    let fake = FakeGithub::start(world);
    let result = npm_run(&fake).input("older-than", "12w").run();
    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &[old]);
}

// ---------------------------------------------------------------------------------------------
// Filters combined, and exclusions winning

#[test]
fn filters_combine_with_and_and_exclusions_win() {
    let (fake, ids) = tagged_app();

    let result = container_run(&fake)
        .input("tags", "v*")
        .input("older-than", "10d")
        .input("exclude-tags", "stable")
        .input("prerelease", "exclude")
        .run();

    result.assert_success();
    // v-tags older than 10 days: 1, 2, 4; 2 is a pre-release; 4 is tagged stable.
    assert_deleted(&result, &fake, "container", "app", &pick(&ids, &[1]));
    assert!(
        result.stdout.contains("excluded: exclude-tags `stable`"),
        "{}",
        result.logs()
    );
}

#[test]
fn exclude_versions_wins_over_version_ids() {
    let (fake, ids) = npm_app(&["1.0.0", "1.1.0", "2.0.0"]);

    let result = npm_run(&fake)
        .input("version-ids", &format!("{},{}", ids[0], ids[1]))
        .input("exclude-versions", "1.1.*")
        .input("semver", "<2")
        .run();

    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &[ids[0]]);
}

// ---------------------------------------------------------------------------------------------
// Guards

#[test]
fn keep_latest_spares_the_newest_selected_versions_only() {
    let (fake, ids) = npm_app(&["1.0.0", "1.1.0", "1.2.0", "1.3.0", "2.0.0", "2.1.0"]);

    let result = npm_run(&fake)
        .input("semver", "^1")
        .input("keep-latest", "2")
        .run();

    result.assert_success();
    // The 2.x versions are newer but not selected: keep-latest counts among the selected.
    assert_deleted(&result, &fake, "npm", "app", &pick(&ids, &[0, 1]));
    assert_eq!(result.output_count("kept-count"), 4);
    assert!(result.summary.contains("keep-latest"), "{}", result.summary);
}

#[test]
fn keep_latest_per_minor_keeps_the_latest_of_every_line_with_backports_published_later() {
    // Oldest first, one day apart: the 1.3 and 1.4 backports come after the 2.0 releases.
    let names = [
        "1.3.0", "1.3.1", "1.4.0", "1.4.1", "2.0.0", "2.0.1", "1.4.2", "1.3.2", "2.0.2", "nightly",
    ];
    let (fake, ids) = npm_app(&names);

    let result = npm_run(&fake)
        .input("keep-latest", "2")
        .input("keep-latest-per", "minor")
        .run();

    result.assert_success();
    // 1.3.x keeps 1.3.2 and 1.3.1, 1.4.x keeps 1.4.2 and 1.4.1, 2.0.x keeps 2.0.2 and 2.0.1;
    // `nightly` has no semver: a group of its own.
    assert_deleted(&result, &fake, "npm", "app", &pick(&ids, &[0, 2, 4]));
    assert_eq!(result.output_count("kept-count"), 7);
    let kept_line = result
        .stdout
        .lines()
        .find(|line| line.contains(&ids[6].to_string()))
        .unwrap_or_else(|| panic!("no log line for 1.4.2:\n{}", result.logs()));
    assert!(
        kept_line.contains("one of the 2 most recent of 1.4.x (keep-latest-per minor)"),
        "{kept_line}"
    );
    assert!(
        result
            .stdout
            .contains("one of the 2 most recent of the versions without a semver version (keep-latest-per minor)"),
        "{}",
        result.logs()
    );

    // Per major, the same versions: 1.x keeps its 2 most recent (the backports), 2.x its own.
    let (fake, ids) = npm_app(&names);
    let result = npm_run(&fake)
        .input("keep-latest", "2")
        .input("keep-latest-per", "major")
        .run();
    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &pick(&ids, &[0, 1, 2, 3, 4]));
    assert!(
        result
            .stdout
            .contains("one of the 2 most recent of 1.x (keep-latest-per major)"),
        "{}",
        result.logs()
    );
}

#[test]
fn keep_latest_per_groups_containers_by_their_highest_semver_tag() {
    let mut world = base_world();
    let ids = add_tagged(
        &mut world,
        "container",
        "app",
        &[
            (&["v1.3.0"], 9),               // 0: 1.3.x
            (&["1.3.1", "v1.4.0-rc.1"], 8), // 1: 1.4.x (its highest tag)
            (&["1.4.0", "1.4", "1"], 7),    // 2: 1.4.x
            (&["v1.3.2"], 6),               // 3: 1.3.x
            (&["main"], 5),                 // 4: no semver tag
            (&["edge"], 4),                 // 5: no semver tag
            (&["v2.0.0", "latest"], 3),     // 6: 2.0.x
        ],
    );
    let fake = FakeGithub::start(world);

    let result = container_run(&fake)
        .input("keep-latest", "1")
        .input("keep-latest-per", "minor")
        .run();

    result.assert_success();
    assert_deleted(&result, &fake, "container", "app", &pick(&ids, &[0, 1, 4]));
    assert!(
        result
            .stdout
            .contains("one of the 1 most recent of 1.4.x (keep-latest-per minor)"),
        "{}",
        result.logs()
    );
}

#[test]
fn keep_latest_goes_by_created_at() {
    let mut world = base_world();
    let package = world.add_package(OWNER, "npm", "app");
    // Published out of order: the newer version number was created first.
    let newer_name = package.add_version("2.0.0", &[], days(1)).id;
    let created_earlier = package.add_version("1.0.0", &[], days(10)).id;
    let middle = package.add_version("1.5.0", &[], days(5)).id;
    let fake = FakeGithub::start(world);

    let result = npm_run(&fake).input("keep-latest", "2").run();

    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &[created_earlier]);
    let _ = (newer_name, middle);
}

#[test]
fn min_versions_to_keep_leaves_enough_active_versions() {
    let (fake, ids) = npm_app(&["1.0.0", "1.1.0", "1.2.0", "1.3.0", "2.0.0"]);

    let result = npm_run(&fake)
        .input("semver", "^1")
        .input("min-versions-to-keep", "3")
        .run();

    result.assert_success();
    // 4 selected, 1 not: 3 must stay, so the 2 newest selected are spared.
    assert_deleted(&result, &fake, "npm", "app", &pick(&ids, &[0, 1]));
    let active = fake
        .world()
        .package(OWNER, "npm", "app")
        .unwrap()
        .active_ids();
    assert_eq!(active.len(), 3);
    assert!(
        result.summary.contains("min-versions-to-keep"),
        "{}",
        result.summary
    );
}

#[test]
fn keep_latest_and_min_versions_to_keep_together() {
    let (fake, ids) = npm_app(&["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.5.0"]);

    let result = npm_run(&fake)
        .input("keep-latest", "1")
        .input("min-versions-to-keep", "4")
        .run();

    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &pick(&ids, &[0, 1]));
}

#[test]
fn max_deletions_takes_the_oldest_and_defers_the_rest() {
    let (fake, ids) = npm_app(&["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0", "2.0.0"]);

    let result = npm_run(&fake)
        .input("keep-latest", "1")
        .input("max-deletions", "2")
        .run();

    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &pick(&ids, &[0, 1]));
    assert_eq!(result.output_count("deferred-count"), 3);
    assert_eq!(result.output_count("kept-count"), 1);
    assert_eq!(fake.count("DELETE", "/versions/"), 2);
    assert!(
        result.summary.contains("3 versions deferred"),
        "{}",
        result.summary
    );

    // The next run continues where this one stopped.
    let again = npm_run(&fake)
        .input("keep-latest", "1")
        .input("max-deletions", "2")
        .run();
    again.assert_success();
    assert_eq!(sorted(again.output_ids("version-ids")), pick(&ids, &[2, 3]));
    assert_eq!(again.output_count("deferred-count"), 1);
}

#[test]
fn max_deletions_is_one_cut_over_every_package_oldest_first() {
    let mut world = base_world();
    let a = add(
        &mut world,
        OWNER,
        "npm",
        "a",
        &[("1.0.0", 10), ("1.1.0", 7), ("2.0.0", 1)],
    );
    let b = add(
        &mut world,
        OWNER,
        "npm",
        "b",
        &[("1.0.0", 9), ("1.1.0", 6), ("2.0.0", 1)],
    );
    let fake = FakeGithub::start(world);

    let result = Run::new(&fake)
        .input("package-type", "npm")
        .input("packages", "a, b")
        .input("keep-latest", "1")
        .input("max-deletions", "3")
        .run();

    result.assert_success();
    // Candidates oldest first: a 1.0.0, b 1.0.0, a 1.1.0, b 1.1.0: the last one waits.
    assert_eq!(deleted_of(&fake, OWNER, "npm", "a"), pick(&a, &[0, 1]));
    assert_eq!(deleted_of(&fake, OWNER, "npm", "b"), vec![b[0]]);
    assert_eq!(result.output_count("deferred-count"), 1);
    assert_eq!(result.output_count("deleted-count"), 3);
}

#[test]
fn max_deletions_zero_defers_everything() {
    let (fake, _) = npm_app(&["1.0.0", "1.1.0", "2.0.0"]);

    let result = npm_run(&fake)
        .input("keep-latest", "1")
        .input("max-deletions", "0")
        .run();

    result.assert_success();
    assert_eq!(fake.writes(), 0);
    assert_outputs_list(&result, &[]);
    assert_eq!(result.output_count("deferred-count"), 2);
}

// ---------------------------------------------------------------------------------------------
// The last-version rule

#[test]
fn npm_with_every_version_selected_keeps_the_newest_and_sends_no_refused_request() {
    let (fake, ids) = npm_app(&["1.0.0", "1.1.0", "1.2.0"]);

    let result = npm_run(&fake).input("older-than", "1h").run();

    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &pick(&ids, &[0, 1]));
    assert_eq!(status_400s(&fake), 0);
    assert_eq!(fake.count("DELETE", "/versions/"), 2);
    assert_eq!(result.output_count("kept-count"), 1);
    assert!(result.stdout.contains("last version"), "{}", result.logs());
    assert!(!fake
        .world()
        .package(OWNER, "npm", "app")
        .unwrap()
        .is_deleted());
}

#[test]
fn delete_empty_package_deletes_the_whole_package_in_one_request() {
    let (fake, ids) = npm_app(&["1.0.0", "1.1.0", "1.2.0"]);

    let result = npm_run(&fake)
        .input("older-than", "1h")
        .input("delete-empty-package", "true")
        .run();

    result.assert_success();
    let requests = fake.requests();
    let deletes: Vec<_> = requests.iter().filter(|r| r.method == "DELETE").collect();
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert_eq!(deletes[0].path, "/orgs/acme/packages/npm/app");
    assert_eq!(deletes[0].status, 204);
    assert!(fake
        .world()
        .package(OWNER, "npm", "app")
        .unwrap()
        .is_deleted());
    // It counts as every active version deleted, so a restore run of those ids undoes it.
    assert_outputs_list(&result, &ids);
    assert!(result.stdout.contains("whole package"), "{}", result.logs());
}

#[test]
fn delete_empty_package_does_nothing_special_when_something_remains() {
    let (fake, ids) = npm_app(&["1.0.0", "1.1.0", "1.2.0"]);

    let result = npm_run(&fake)
        .input("keep-latest", "1")
        .input("delete-empty-package", "true")
        .run();

    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &pick(&ids, &[0, 1]));
    assert!(!fake
        .world()
        .package(OWNER, "npm", "app")
        .unwrap()
        .is_deleted());
    assert_eq!(
        fake.count("DELETE", "/orgs/acme/packages/npm/app/versions/"),
        2
    );
}

#[test]
fn a_container_keeps_its_last_tagged_version_but_loses_its_untagged_ones() {
    let mut world = base_world();
    let ids = add_tagged(
        &mut world,
        "container",
        "app",
        &[(&[], 9), (&["v1"], 8), (&[], 7), (&["v2"], 6)],
    );
    let fake = FakeGithub::start(world);

    let result = container_run(&fake).input("older-than", "1d").run();

    result.assert_success();
    assert_deleted(&result, &fake, "container", "app", &pick(&ids, &[0, 1, 2]));
    assert_eq!(status_400s(&fake), 0);
    assert!(
        result.stdout.contains("last tagged version"),
        "{}",
        result.logs()
    );
}

// ---------------------------------------------------------------------------------------------
// Package names: lists and globs

#[test]
fn a_glob_is_expanded_by_listing_the_owners_packages() {
    let mut world = base_world();
    let web = add(
        &mut world,
        OWNER,
        "npm",
        "app-web",
        &[("1.0.0", 5), ("2.0.0", 1)],
    );
    let api = add(
        &mut world,
        OWNER,
        "npm",
        "app-api",
        &[("1.0.0", 5), ("2.0.0", 1)],
    );
    add(
        &mut world,
        OWNER,
        "npm",
        "other",
        &[("1.0.0", 5), ("2.0.0", 1)],
    );
    add(
        &mut world,
        OWNER,
        "maven",
        "app-jvm",
        &[("1.0.0", 5), ("2.0.0", 1)],
    );
    let exact = add(
        &mut world,
        OWNER,
        "npm",
        "lib",
        &[("1.0.0", 5), ("2.0.0", 1)],
    );
    let fake = FakeGithub::start(world);

    let result = Run::new(&fake)
        .input("package-type", "npm")
        .input("packages", "app-*\nlib")
        .input("keep-latest", "1")
        .run();

    result.assert_success();
    assert_eq!(deleted_of(&fake, OWNER, "npm", "app-web"), vec![web[0]]);
    assert_eq!(deleted_of(&fake, OWNER, "npm", "app-api"), vec![api[0]]);
    assert_eq!(deleted_of(&fake, OWNER, "npm", "lib"), vec![exact[0]]);
    assert!(deleted_of(&fake, OWNER, "npm", "other").is_empty());
    assert!(deleted_of(&fake, OWNER, "maven", "app-jvm").is_empty());
    assert_outputs_list(&result, &[web[0], api[0], exact[0]]);
    assert_eq!(
        fake.count("GET", "/orgs/acme/packages"),
        1 + 3,
        "one listing of packages, one of each package's versions"
    );
    let listing = fake
        .requests()
        .into_iter()
        .find(|r| r.path == "/orgs/acme/packages")
        .expect("the owner's packages were listed");
    assert!(listing.query.contains("package_type=npm"), "{listing:?}");
    let names: Vec<String> = result
        .output_json("deleted")
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["package"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sorted_strings(names), vec!["app-api", "app-web", "lib"]);
}

/// Npm packages of `acme`, each with versions 1.0.0 (old) and 2.0.0, linked to these
/// repositories (`None`: to none); returns each package's id of 1.0.0.
fn linked_world(packages: &[(&str, Option<&str>)]) -> (World, Vec<u64>) {
    let mut world = base_world();
    let olds = packages
        .iter()
        .map(|(name, repository)| {
            let package = world.add_package(OWNER, "npm", name);
            if let Some(repository) = repository {
                package.linked_to(repository);
            }
            let old = package.add_version("1.0.0", &[], days(5)).id;
            package.add_version("2.0.0", &[], days(1));
            old
        })
        .collect();
    (world, olds)
}

#[test]
fn repository_narrows_a_glob_to_the_packages_linked_to_those_repositories() {
    let (world, olds) = linked_world(&[
        ("api", Some("acme/api")),
        ("web", Some("acme/Web-Frontend")),
        ("tools", Some("bob/tools")),
        ("loose", None),
        ("docs", Some("acme/docs")),
    ]);
    let fake = FakeGithub::start(world);

    let result = Run::new(&fake)
        .input("package-type", "npm")
        .input("packages", "*")
        // A bare name is acme's repository; globs and other owners' repositories work too,
        // case-insensitively.
        .input("repository", "api\nacme/web-*, bob/*, */doc")
        .input("keep-latest", "1")
        .run();

    result.assert_success();
    assert_outputs_list(&result, &olds[..3]);
    for (name, old) in [("api", olds[0]), ("web", olds[1]), ("tools", olds[2])] {
        assert_eq!(deleted_of(&fake, OWNER, "npm", name), vec![old], "{name}");
    }
    for name in ["loose", "docs"] {
        assert!(deleted_of(&fake, OWNER, "npm", name).is_empty(), "{name}");
    }
    assert_eq!(
        fake.count("GET", "/orgs/acme/packages"),
        1 + 3,
        "one listing of packages (it shows their repositories), one of each kept package's versions"
    );
    assert!(
        result.annotations("warning").is_empty(),
        "{}",
        result.logs()
    );

    // A glob whose packages are all linked elsewhere (or to nothing) warns and changes nothing.
    let (world, _) = linked_world(&[("api", Some("acme/api")), ("loose", None)]);
    let fake = FakeGithub::start(world);
    let result = Run::new(&fake)
        .input("package-type", "npm")
        .input("packages", "*")
        .input("repository", "acme/web")
        .run();
    result.assert_success();
    assert_eq!(fake.writes(), 0);
    assert_outputs_list(&result, &[]);
    let warnings = result.annotations("warning");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("matched 2 npm packages") && w.contains("`repository`")),
        "{}",
        result.logs()
    );
}

#[test]
fn repository_checks_exact_names_and_skips_the_others_with_a_log_line() {
    let (world, olds) = linked_world(&[
        ("api", Some("acme/api")),
        ("other", Some("acme/other")),
        ("loose", None),
        ("hostile", Some("acme/evil\n::error::injected%0A")),
    ]);
    let fake = FakeGithub::start(world);

    let result = Run::new(&fake)
        .input("package-type", "npm")
        .input("packages", "api, other, loose, hostile, missing")
        .input("repository", "api")
        .input("keep-latest", "1")
        .run();

    result.assert_success();
    assert_eq!(deleted_of(&fake, OWNER, "npm", "api"), vec![olds[0]]);
    for name in ["other", "loose", "hostile"] {
        assert!(deleted_of(&fake, OWNER, "npm", name).is_empty(), "{name}");
        assert_eq!(
            fake.count("GET", &format!("/orgs/acme/packages/npm/{name}/versions")),
            0,
            "{name} is skipped before its versions are listed"
        );
    }
    assert_outputs_list(&result, &[olds[0]]);
    assert!(
        result.stdout.contains(
            "npm package `other` is linked to repository `acme/other`, which `repository` does not name: skipped"
        ),
        "{}",
        result.logs()
    );
    assert!(
        result
            .stdout
            .contains("npm package `loose` is linked to no repository, which `repository` does not name: skipped"),
        "{}",
        result.logs()
    );
    // The repository's name is API data: escaped in the log line, it starts no command.
    assert!(
        result
            .stdout
            .contains("`acme/evil%0A::error::injected%250A`"),
        "{}",
        result.logs()
    );
    assert!(result.annotations("error").is_empty(), "{}", result.logs());
    // A package that is not found cannot be checked: skipped, with a warning.
    let warnings = result.annotations("warning");
    assert_eq!(warnings.len(), 1, "{}", result.logs());
    assert!(
        warnings[0].contains("`missing`") && warnings[0].contains("skipped"),
        "{}",
        warnings[0]
    );
    // Exact names are read once each (the package object carries `repository`).
    for name in ["api", "other", "loose", "hostile", "missing"] {
        let path = format!("/orgs/acme/packages/npm/{name}");
        let reads = fake
            .requests()
            .into_iter()
            .filter(|r| r.method == "GET" && r.path == path)
            .count();
        assert_eq!(reads, 1, "{path}");
    }
    assert_eq!(fake.count("GET", "/orgs/acme/packages?"), 0);
}

#[test]
fn repository_in_restore_mode_skips_a_deleted_package_it_cannot_check() {
    let (mut world, olds) = linked_world(&[("api", Some("acme/api")), ("gone", Some("acme/api"))]);
    let api = world.package_mut(OWNER, "npm", "api").unwrap();
    api.version_mut(olds[0]).unwrap().deleted_ago(days(1));
    world
        .package_mut(OWNER, "npm", "gone")
        .unwrap()
        .deleted_ago(days(1));
    let fake = FakeGithub::start(world);

    let result = Run::new(&fake)
        .input("package-type", "npm")
        .input("packages", "api, gone")
        .input("repository", "api")
        .input("mode", "restore")
        .run();

    result.assert_success();
    assert_eq!(result.output_ids("version-ids"), vec![olds[0]]);
    let world = fake.world();
    assert!(!world.version(olds[0]).unwrap().is_deleted());
    assert!(world.package(OWNER, "npm", "gone").unwrap().is_deleted());
    assert!(
        result
            .annotations("warning")
            .iter()
            .any(|w| w.contains("`gone`") && w.contains("cannot be checked")),
        "{}",
        result.logs()
    );
}

#[test]
fn a_glob_that_matches_nothing_warns_and_changes_nothing() {
    let mut world = base_world();
    add(
        &mut world,
        OWNER,
        "npm",
        "lib",
        &[("1.0.0", 5), ("2.0.0", 1)],
    );
    let fake = FakeGithub::start(world);

    let result = Run::new(&fake)
        .input("package-type", "npm")
        .input("packages", "app-*")
        .run();

    result.assert_success();
    assert_eq!(fake.writes(), 0);
    assert_outputs_list(&result, &[]);
    assert!(
        result
            .annotations("warning")
            .iter()
            .any(|w| w.contains("app-*")),
        "{}",
        result.logs()
    );
}

#[test]
fn a_token_that_cannot_list_packages_is_asked_for_exact_names() {
    let mut world = World::new().org(OWNER).with_token(Token {
        can_list_packages: false,
        ..Token::new(TOKEN, "alice")
    });
    world.add_account("alice", fake_github::AccountKind::User);
    add(
        &mut world,
        OWNER,
        "npm",
        "app-web",
        &[("1.0.0", 5), ("2.0.0", 1)],
    );
    let fake = FakeGithub::start(world);

    let result = Run::new(&fake)
        .input("package-type", "npm")
        .input("packages", "app-*")
        .input("keep-latest", "1")
        .run();

    assert_ne!(result.code, 0, "{}", result.logs());
    assert_eq!(fake.writes(), 0);
    let errors = result.annotations("error");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("cannot list") && e.contains("exactly") && e.contains("403")),
        "{}",
        result.logs()
    );

    assert_outputs_list(&result, &[]);

    // The same token with the exact name works.
    let result = Run::new(&fake)
        .input("package-type", "npm")
        .input("packages", "app-web")
        .input("keep-latest", "1")
        .run();
    result.assert_success();
    assert_eq!(result.output_count("deleted-count"), 1);
}

#[test]
fn a_package_that_does_not_exist_is_a_warning_not_a_failure() {
    let (fake, ids) = npm_app(&["1.0.0", "2.0.0"]);

    let result = Run::new(&fake)
        .input("package-type", "npm")
        .input("packages", "missing, app")
        .input("keep-latest", "1")
        .run();

    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &ids[..1]);
    assert!(
        result
            .annotations("warning")
            .iter()
            .any(|w| w.contains("missing")),
        "{}",
        result.logs()
    );
}

// ---------------------------------------------------------------------------------------------
// config rules

#[test]
fn config_rules_apply_on_top_of_the_plain_inputs() {
    let mut world = base_world();
    let web = add(
        &mut world,
        OWNER,
        "npm",
        "web",
        &[("1.0.0", 9), ("1.1.0", 8), ("1.2.0", 7), ("1.3.0", 6)],
    );
    let lib = add(
        &mut world,
        OWNER,
        "npm",
        "lib",
        &[("1.0.0", 9), ("1.1.0", 8), ("1.2.0", 7), ("1.3.0", 6)],
    );
    let img = add_tagged(
        &mut world,
        "container",
        "img",
        &[(&["pr-1"], 9), (&["v1"], 8), (&["pr-2"], 7)],
    );
    let fake = FakeGithub::start(world);

    let config = "\
rules:
  - packages: web
    keep-latest: 2
  - packages: [lib]
  - package-type: container
    packages: img
    tags: pr-*
    keep-latest: 0
";
    let result = Run::new(&fake)
        .input("package-type", "npm")
        .input("keep-latest", "1")
        .input("packages", "ignored-by-rules")
        .input("config", config)
        .run();

    result.assert_success();
    assert_eq!(deleted_of(&fake, OWNER, "npm", "web"), pick(&web, &[0, 1]));
    assert_eq!(
        deleted_of(&fake, OWNER, "npm", "lib"),
        pick(&lib, &[0, 1, 2])
    );
    assert_eq!(
        deleted_of(&fake, OWNER, "container", "img"),
        pick(&img, &[0, 2])
    );
    let mut all = pick(&web, &[0, 1]);
    all.extend(pick(&lib, &[0, 1, 2]));
    all.extend(pick(&img, &[0, 2]));
    assert_outputs_list(&result, &all);
    assert_eq!(fake.count("GET", "ignored-by-rules"), 0);
}

// ---------------------------------------------------------------------------------------------
// Dry run

#[test]
fn a_dry_run_changes_nothing_and_describes_what_would_happen() {
    let (fake, ids) = npm_app(&["1.0.0", "1.1.0", "1.2.0", "2.0.0"]);
    let before = fake.world();

    let result = npm_run(&fake)
        .input("keep-latest", "1")
        .input("dry-run", "TRUE")
        .run();

    result.assert_success();
    assert_eq!(fake.writes(), 0);
    assert_eq!(fake.world(), before);
    assert_outputs_list(&result, &pick(&ids, &[0, 1, 2]));
    assert_eq!(result.output_count("kept-count"), 1);
    assert_eq!(result.output_count("failed-count"), 0);
    let top: String = result
        .summary
        .lines()
        .take(5)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(top.contains("DRY RUN"), "{}", result.summary);
    assert!(
        result.summary.contains("would be deleted"),
        "{}",
        result.summary
    );
    assert!(result.stdout.contains("would delete"), "{}", result.logs());
}

#[test]
fn a_dry_run_of_delete_empty_package_sends_no_package_delete() {
    let (fake, ids) = npm_app(&["1.0.0", "1.1.0"]);

    let result = npm_run(&fake)
        .input("delete-empty-package", "true")
        .input("dry-run", "true")
        .run();

    result.assert_success();
    assert_eq!(fake.writes(), 0);
    assert_outputs_list(&result, &ids);
}

// ---------------------------------------------------------------------------------------------
// Failures GitHub answers

fn popular_app() -> (FakeGithub, Vec<u64>) {
    let mut world = base_world();
    let package = world.add_package(OWNER, "npm", "app");
    package.public();
    let ids = vec![
        package.add_version("1.0.0", &[], days(9)).id,
        package
            .add_version("1.1.0", &[], days(8))
            .with_downloads(5_001)
            .id,
        package.add_version("1.2.0", &[], days(7)).id,
        package
            .add_version("2.0.0", &[], days(1))
            .with_downloads(100_000)
            .id,
    ];
    (FakeGithub::start(world), ids)
}

#[test]
fn a_popular_public_version_is_a_reported_failure_and_the_rest_still_goes() {
    let (fake, ids) = popular_app();

    let result = npm_run(&fake).input("keep-latest", "1").run();

    result.assert_code(1);
    assert_deleted(&result, &fake, "npm", "app", &pick(&ids, &[0, 2]));
    assert_eq!(result.output_count("failed-count"), 1);
    let failed = result.output_json("failed");
    assert_eq!(failed.as_array().unwrap().len(), 1);
    assert_eq!(failed[0]["id"], ids[1]);
    assert_eq!(failed[0]["name"], "1.1.0");
    assert_eq!(failed[0]["package"], "app");
    assert_eq!(failed[0]["status"], 400);
    assert_eq!(failed[0]["message"], MSG_TOO_MANY_DOWNLOADS);
    assert!(
        result.summary.contains(MSG_TOO_MANY_DOWNLOADS),
        "{}",
        result.summary
    );
    assert!(
        result
            .annotations("error")
            .iter()
            .any(|e| e.contains("5000 downloads")),
        "{}",
        result.logs()
    );
}

#[test]
fn fail_on_error_false_turns_the_same_failure_into_success() {
    let (fake, ids) = popular_app();

    let result = npm_run(&fake)
        .input("keep-latest", "1")
        .input("fail-on-error", "false")
        .run();

    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &pick(&ids, &[0, 2]));
    assert_eq!(result.output_count("failed-count"), 1);
    assert!(result.summary.contains(MSG_TOO_MANY_DOWNLOADS));
}

#[test]
fn a_version_deleted_by_someone_else_before_our_delete_counts_as_deleted() {
    let (fake, ids) = npm_app(&["1.0.0", "1.1.0", "2.0.0"]);
    // Someone else deletes 1.0.0 between the listing and our DELETE: GitHub answers 404, and
    // the GET that checks it shows `deleted_at`.
    let vanished = ids[0];
    fake.update_config(|config: &mut Config| config.deleted_by_others.push(vanished));

    let result = npm_run(&fake).input("keep-latest", "1").run();

    result.assert_success();
    assert!(
        fake.requests().iter().any(|r| r.method == "DELETE"
            && r.path.ends_with(&vanished.to_string())
            && r.status == 404),
        "the 404 was answered"
    );
    assert_eq!(
        fake.count("GET", &format!("/versions/{vanished}")),
        1,
        "the 404 was confirmed"
    );
    assert_eq!(deleted_of(&fake, OWNER, "npm", "app"), pick(&ids, &[0, 1]));
    assert_outputs_list(&result, &ids[..2]);
    assert_eq!(result.output_count("failed-count"), 0);
    assert_eq!(result.output_json("failed"), serde_json::json!([]));
    assert!(result.stdout.contains("already gone"), "{}", result.logs());
    assert!(result.summary.contains("## Undo"), "{}", result.summary);
}

// ---------------------------------------------------------------------------------------------
// Pagination

#[test]
fn listing_follows_every_page_of_one_hundred() {
    for n in [100_u64, 101, 350] {
        let mut world = base_world();
        let package = world.add_package(OWNER, "npm", "big");
        let ids: Vec<u64> = (0..n)
            .map(|i| {
                package
                    .add_version(&format!("1.0.{i}"), &[], hours(n - i + 1))
                    .id
            })
            .collect();
        let fake = FakeGithub::start(world);

        let result = Run::new(&fake)
            .input("package-type", "npm")
            .input("packages", "big")
            .input("semver", "<1.0.10")
            .run();

        result.assert_success();
        assert_deleted(&result, &fake, "npm", "big", &ids[..10]);
        assert_eq!(
            result.output_count("kept-count"),
            n - 10,
            "every page was read"
        );
        // A full page without `Link` (100 versions) is followed by asking for the next one.
        let pages = if n == 100 {
            2
        } else {
            n.div_ceil(100) as usize
        };
        assert_eq!(
            fake.count("GET", "/versions"),
            pages,
            "{n} versions: one GET per page"
        );
        assert!(fake
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/versions"))
            .all(|r| r.query.contains("per_page=100")));
    }
}

// ---------------------------------------------------------------------------------------------
// Outputs, summary and the laptop

#[test]
fn outputs_are_heredocs_with_random_delimiters_and_every_output_is_written() {
    let (fake, ids) = npm_app(&["1.0.0", "2.0.0"]);
    let dir = std::env::temp_dir().join(format!("delete-rs-output-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("out");
    std::fs::write(&path, "earlier=kept\n").unwrap();

    let result = npm_run(&fake)
        .input("keep-latest", "1")
        .env("GITHUB_OUTPUT", path.to_str().unwrap())
        .run();
    result.assert_success();
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    assert!(
        text.starts_with("earlier=kept\n"),
        "appended, not overwritten: {text}"
    );
    let outputs = parse_github_output(&text);
    for name in [
        "deleted-count",
        "restored-count",
        "failed-count",
        "kept-count",
        "deferred-count",
        "deleted",
        "restored",
        "failed",
        "version-ids",
    ] {
        assert!(outputs.contains_key(name), "{name} missing: {text}");
    }
    assert_eq!(outputs["version-ids"], ids[0].to_string());
    assert_eq!(outputs["restored"], "[]");
    assert_eq!(outputs["failed"], "[]");
    assert_eq!(outputs["restored-count"], "0");
    let delimiters: Vec<&str> = text
        .lines()
        .filter_map(|line| line.split_once("<<").map(|(_, d)| d))
        .collect();
    assert!(
        !delimiters.is_empty(),
        "the JSON uses the heredoc form: {text}"
    );
    let deleted_line = text
        .lines()
        .find(|line| line.starts_with("deleted<<"))
        .expect("deleted as a heredoc");
    let delimiter = &deleted_line["deleted<<".len()..];
    assert!(delimiter.len() >= 16, "a random delimiter: {delimiter}");
    let mut unique = delimiters.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        delimiters.len(),
        "each delimiter is fresh: {text}"
    );
    let json: serde_json::Value = serde_json::from_str(&outputs["deleted"]).unwrap();
    assert_eq!(json[0]["id"], ids[0]);
}

#[test]
fn the_summary_tells_the_story_with_an_undo_block() {
    let (fake, ids) = npm_app(&["1.0.0", "1.1.0", "2.0.0"]);

    let result = npm_run(&fake).input("keep-latest", "1").run();

    result.assert_success();
    let summary = &result.summary;
    assert!(!summary.contains("DRY RUN"), "{summary}");
    assert!(summary.contains("| `app` | 3 | 3 |"), "{summary}");
    assert!(summary.contains("## Undo"), "{summary}");
    assert!(summary.contains("mode: restore"), "{summary}");
    let undo_ids = format!(
        "version-ids: |\n      {}\n",
        result.output("version-ids").replace(',', ", ")
    );
    assert!(summary.contains(&undo_ids), "{summary}");
    for id in &ids[..2] {
        assert!(summary.contains(&id.to_string()), "{summary}");
    }
    assert!(summary.len() < 1024 * 1024);
}

#[test]
fn a_run_that_deletes_nothing_writes_zeros_and_empty_lists() {
    let (fake, _) = npm_app(&["1.0.0", "2.0.0"]);

    let result = npm_run(&fake).input("versions", "9.*").run();

    result.assert_success();
    assert_eq!(fake.writes(), 0);
    for count in [
        "deleted-count",
        "restored-count",
        "failed-count",
        "deferred-count",
    ] {
        assert_eq!(result.output_count(count), 0, "{count}");
    }
    assert_eq!(result.output_count("kept-count"), 2);
    assert_eq!(result.output("deleted"), "[]");
    assert_eq!(result.output("version-ids"), "");
    assert!(!result.summary.contains("## Undo"), "{}", result.summary);
}

#[test]
fn flags_by_hand_take_the_token_from_github_token() {
    let (fake, ids) = npm_app(&["1.0.0", "1.1.0", "2.0.0"]);

    // The INPUT_* variables the harness sets are ignored when flags are given.
    let result = Run::new(&fake)
        .input("packages", "")
        .env("GITHUB_TOKEN", TOKEN);
    let result = flags(
        result,
        &[
            "--owner",
            "acme",
            "--package-type",
            "npm",
            "--packages",
            "app",
            "--keep-latest",
            "1",
            "--dry-run",
        ],
    )
    .run();

    result.assert_success();
    assert_eq!(fake.writes(), 0);
    assert_outputs_list(&result, &ids[..2]);
    assert!(result.summary.contains("DRY RUN"));

    // Without --dry-run, and without GITHUB_OUTPUT and GITHUB_STEP_SUMMARY (a laptop): it
    // deletes and prints the outputs and the summary.
    let laptop = Run::new(&fake)
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_OUTPUT", "")
        .env("GITHUB_STEP_SUMMARY", "");
    let result = flags(
        laptop,
        &[
            "--owner=acme",
            "--package-type",
            "npm",
            "--packages",
            "app",
            "--keep-latest",
            "1",
        ],
    )
    .run();

    result.assert_success();
    assert_eq!(deleted_of(&fake, OWNER, "npm", "app"), pick(&ids, &[0, 1]));
    assert!(result.outputs.is_empty());
    assert!(
        result.stdout.contains("deleted-count=2"),
        "{}",
        result.logs()
    );
    assert!(result.stdout.contains("## Undo"), "{}", result.logs());
}

// ---------------------------------------------------------------------------------------------
// More edges

#[test]
fn a_container_name_with_a_slash_is_one_path_segment() {
    let mut world = base_world();
    let ids = add_tagged(
        &mut world,
        "container",
        "team/app",
        &[(&["pr-1"], 5), (&["latest"], 1)],
    );
    let fake = FakeGithub::start(world);

    let result = Run::new(&fake)
        .input("packages", "team/app")
        .input("tags", "pr-*")
        .run();

    result.assert_success();
    assert_deleted(&result, &fake, "container", "team/app", &ids[..1]);
    assert_eq!(
        fake.count(
            "DELETE",
            "/orgs/acme/packages/container/team%2Fapp/versions/"
        ),
        1
    );
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.registry && r.path.contains("/v2/acme/team/app/manifests/") && r.status == 200));
}

#[test]
fn a_container_with_delete_empty_package_is_deleted_whole() {
    let mut world = base_world();
    let ids = add_tagged(
        &mut world,
        "container",
        "app",
        &[(&[], 5), (&["v1"], 4), (&["latest"], 1)],
    );
    let fake = FakeGithub::start(world);

    let result = container_run(&fake)
        .input("delete-empty-package", "true")
        .run();

    result.assert_success();
    assert_eq!(fake.count("DELETE", "/"), 1);
    assert_eq!(fake.count("DELETE", "/orgs/acme/packages/container/app"), 1);
    assert!(fake
        .world()
        .package(OWNER, "container", "app")
        .unwrap()
        .is_deleted());
    assert_outputs_list(&result, &ids);
}

#[test]
fn a_popular_public_package_cannot_be_deleted_whole_either() {
    let (fake, _) = {
        let mut world = base_world();
        let package = world.add_package(OWNER, "npm", "app");
        package.public();
        package
            .add_version("1.0.0", &[], days(9))
            .with_downloads(9_999);
        package.add_version("2.0.0", &[], days(1));
        (FakeGithub::start(world), ())
    };

    let result = npm_run(&fake).input("delete-empty-package", "true").run();

    result.assert_code(1);
    assert_eq!(fake.count("DELETE", "/"), 1);
    assert!(!fake
        .world()
        .package(OWNER, "npm", "app")
        .unwrap()
        .is_deleted());
    assert_outputs_list(&result, &[]);
    let failed = result.output_json("failed");
    assert!(!failed.as_array().unwrap().is_empty(), "{}", result.logs());
    assert!(failed
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["message"] == MSG_TOO_MANY_DOWNLOADS && f["status"] == 400));
    assert!(result.summary.contains(MSG_TOO_MANY_DOWNLOADS));
}

#[test]
fn a_transient_server_error_on_delete_is_retried() {
    let (fake, ids) = npm_app(&["1.0.0", "1.1.0", "2.0.0"]);
    let flaky = ids[0];
    fake.update_config(|config: &mut Config| {
        config.scripted.push(ScriptedFault::respond(
            Some("DELETE"),
            &format!("/versions/{flaky}"),
            1,
            502,
            "Server Error",
        ));
    });

    let result = npm_run(&fake).input("keep-latest", "1").run();

    result.assert_success();
    assert_deleted(&result, &fake, "npm", "app", &ids[..2]);
    assert_eq!(fake.count("DELETE", &format!("/versions/{flaky}")), 2);
    assert_eq!(result.output_count("failed-count"), 0);
}

#[test]
fn an_owner_that_does_not_exist_is_a_clear_error() {
    let (fake, _) = npm_app(&["1.0.0", "2.0.0"]);

    let result = npm_run(&fake).input("owner", "nobody").run();

    assert_eq!(result.code, 1, "{}", result.logs());
    assert_eq!(fake.writes(), 0);
    assert!(
        result
            .annotations("error")
            .iter()
            .any(|e| e.contains("nobody") && e.contains("not found")),
        "{}",
        result.logs()
    );
    // Every output is written on every run.
    assert_eq!(result.output_count("deleted-count"), 0, "{}", result.logs());
    assert_eq!(result.output("deleted"), "[]");
    assert_eq!(result.output("version-ids"), "");
}

#[test]
fn a_glob_is_expanded_over_every_page_of_the_owners_packages() {
    let mut world = base_world();
    let mut wanted = Vec::new();
    for i in 0..250 {
        let package = world.add_package(OWNER, "npm", &format!("pkg-{i:03}"));
        let old = package.add_version("1.0.0", &[], days(5)).id;
        package.add_version("2.0.0", &[], days(1));
        // The last ones listed (GitHub lists by name) are on the third page.
        if i >= 245 {
            wanted.push(old);
        }
    }
    let fake = FakeGithub::start(world);

    let result = Run::new(&fake)
        .input("package-type", "npm")
        .input("packages", "pkg-24[5-9]")
        .input("keep-latest", "1")
        .run();

    result.assert_success();
    assert_outputs_list(&result, &wanted);
    let listings = fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/orgs/acme/packages")
        .count();
    assert_eq!(listings, 3, "250 packages: three pages");
}

#[test]
fn keep_latest_breaks_created_at_ties_by_id() {
    let mut world = base_world();
    let package = world.add_package(OWNER, "npm", "app");
    let at = fake_github::ago(days(3));
    let ids: Vec<u64> = ["b", "a", "c"]
        .iter()
        .map(|name| {
            let version = package.add_version(name, &[], days(3));
            version.created_at = at;
            version.updated_at = at;
            version.id
        })
        .collect();
    let fake = FakeGithub::start(world);

    let result = npm_run(&fake).input("keep-latest", "1").run();

    result.assert_success();
    // Same created_at: the highest id is the most recent.
    assert_deleted(&result, &fake, "npm", "app", &ids[..2]);
}

#[test]
fn max_deletions_counts_a_whole_package_as_all_its_versions() {
    let (fake, _) = npm_app(&["1.0.0", "1.1.0", "1.2.0"]);

    let result = npm_run(&fake)
        .input("delete-empty-package", "true")
        .input("max-deletions", "2")
        .run();

    result.assert_success();
    assert_eq!(fake.writes(), 0, "{}", result.logs());
    assert!(!fake
        .world()
        .package(OWNER, "npm", "app")
        .unwrap()
        .is_deleted());
    assert_outputs_list(&result, &[]);
    assert_eq!(result.output_count("deferred-count"), 3);

    let result = npm_run(&fake)
        .input("delete-empty-package", "true")
        .input("max-deletions", "3")
        .run();
    result.assert_success();
    assert!(fake
        .world()
        .package(OWNER, "npm", "app")
        .unwrap()
        .is_deleted());
    assert_eq!(result.output_count("deleted-count"), 3);
}
