//! End-to-end container scenarios: the binary against the fake GitHub and its OCI registry.
//! Multi-platform indexes, signatures, attestations and referrers; fail closed on unreadable
//! manifests; what the registry side costs per package.

mod common;

use std::collections::BTreeMap;

use common::{Run, RunResult, OWNER, TOKEN};
use fake_github::{
    days, digest, Config, FakeGithub, Manifest, Package, RequestRecord, ScriptedFault, World,
};

const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

fn world() -> World {
    World::new().org(OWNER).user("alice").token(TOKEN, "alice")
}

fn package(fake: &FakeGithub, name: &str) -> Package {
    fake.world()
        .package(OWNER, "container", name)
        .unwrap_or_else(|| panic!("package {name} is in the fake"))
        .clone()
}

/// `sha256-<hex>.<suffix>`: the tag a signature (`sig`) or attestation (`att`) gets.
fn referrer_tag(of: &str, suffix: &str) -> String {
    format!("sha256-{}.{suffix}", hex(of))
}

fn hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").expect("a sha256 digest")
}

fn sorted(mut ids: Vec<u64>) -> Vec<u64> {
    ids.sort_unstable();
    ids
}

/// Registry requests for manifests of package `name`.
fn manifest_requests(fake: &FakeGithub, name: &str) -> Vec<RequestRecord> {
    let prefix = format!("/v2/{OWNER}/{name}/manifests/");
    fake.requests()
        .into_iter()
        .filter(|r| r.registry && r.path.starts_with(&prefix))
        .collect()
}

/// Registry GETs per manifest digest (by its hex) of package `name`, whatever their answer.
fn gets_per_digest(fake: &FakeGithub, name: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for request in manifest_requests(fake, name) {
        assert_eq!(request.method, "GET", "{request:?}");
        let hex = request.path[request.path.len().saturating_sub(64)..].to_owned();
        *counts.entry(hex).or_default() += 1;
    }
    counts
}

/// Token requests whose scope names package `name`.
fn token_requests(fake: &FakeGithub, name: &str) -> usize {
    let scope = format!("{OWNER}%2F{name}%3A");
    let plain = format!("{OWNER}/{name}:");
    fake.requests()
        .iter()
        .filter(|r| r.registry && r.path == "/token")
        .filter(|r| r.query.contains(&scope) || r.query.contains(&plain))
        .count()
}

/// Positions of the DELETE requests of these version ids in the fake's record.
fn delete_position(fake: &FakeGithub, id: u64) -> usize {
    let suffix = format!("/versions/{id}");
    let positions: Vec<usize> = fake
        .requests()
        .iter()
        .enumerate()
        .filter(|(_, r)| r.method == "DELETE" && r.path.ends_with(&suffix))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        positions.len(),
        1,
        "one DELETE of version {id}: {positions:?}"
    );
    positions[0]
}

fn run(fake: &FakeGithub, inputs: &[(&str, &str)]) -> RunResult {
    let mut run = Run::new(fake);
    for (name, value) in inputs {
        run = run.input(name, value);
    }
    let result = run.run();
    result.assert_success();
    result
}

/// The `Container images` line of the summary for package `name`.
fn container_line<'a>(result: &'a RunResult, name: &str) -> &'a str {
    let marker = format!("- `{name}`: ");
    let section = result
        .summary
        .split_once("\nContainer images:\n")
        .map_or("", |(_, rest)| rest);
    section
        .lines()
        .take_while(|line| line.starts_with("- "))
        .find(|line| line.starts_with(&marker))
        .unwrap_or_else(|| panic!("no {marker:?} line in the summary:\n{}", result.summary))
}

// 1 ------------------------------------------------------------------------------------------

#[test]
fn an_index_kept_by_exclude_tags_keeps_its_platform_manifests_while_orphans_go() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let platforms: Vec<u64> = (2..=4)
        .map(|n| app.add_version(&digest(n), &[], days(30)).id)
        .collect();
    let index = app
        .add_version(&digest(1), &["v1.0.0"], days(30))
        .with_manifest(Manifest::index(&[digest(2), digest(3), digest(4)]))
        .id;
    let orphans = vec![
        app.add_version(&digest(10), &[], days(40)).id,
        app.add_version(&digest(11), &[], days(20)).id,
    ];
    let latest = app
        .add_version(&digest(20), &["latest"], days(1))
        .with_manifest(Manifest::index(&[digest(21)]))
        .id;
    let latest_platform = app.add_version(&digest(21), &[], days(1)).id;
    let fake = FakeGithub::start(world);

    let result = run(
        &fake,
        &[
            ("packages", "app"),
            ("exclude-tags", "v1.*"),
            ("tag-selection", "untagged"),
        ],
    );

    let app = package(&fake, "app");
    assert_eq!(
        app.deleted_ids(),
        sorted(orphans.clone()),
        "{}",
        result.logs()
    );
    for id in platforms.iter().chain([&index, &latest, &latest_platform]) {
        assert!(
            app.active_ids().contains(id),
            "{id} kept: {}",
            result.logs()
        );
    }
    assert_eq!(sorted(result.output_ids("version-ids")), sorted(orphans));
    assert_eq!(result.output_count("deleted-count"), 2);
    assert_eq!(fake.count("DELETE", "/versions/"), 2);
    assert!(
        result.stdout.contains("platform manifest of kept v1.0.0"),
        "the log explains why: {}",
        result.logs()
    );
}

#[test]
fn exclude_tags_keeps_an_index_with_its_children_when_every_version_is_selected() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let old_children = vec![
        app.add_version(&digest(2), &[], days(50)).id,
        app.add_version(&digest(3), &[], days(50)).id,
    ];
    let old = app
        .add_version(&digest(1), &["v0.9.0"], days(50))
        .with_manifest(Manifest::index(&[digest(2), digest(3)]))
        .id;
    let kept_children = vec![
        app.add_version(&digest(5), &[], days(40)).id,
        app.add_version(&digest(6), &[], days(40)).id,
    ];
    let kept = app
        .add_version(&digest(4), &["v1.0.0"], days(40))
        .with_manifest(Manifest::index(&[digest(5), digest(6)]))
        .id;
    let fake = FakeGithub::start(world);

    // No filter selects everything; only exclude-tags protects v1.0.0.
    let result = run(&fake, &[("packages", "app"), ("exclude-tags", "v1.0.0")]);

    let app = package(&fake, "app");
    let mut gone = old_children;
    gone.push(old);
    assert_eq!(app.deleted_ids(), sorted(gone), "{}", result.logs());
    let mut stay = kept_children;
    stay.push(kept);
    assert_eq!(app.active_ids(), sorted(stay));
}

// 2 ------------------------------------------------------------------------------------------

#[test]
fn deleting_a_tagged_index_deletes_its_platforms_signature_attestation_and_referrer_index_first() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let image = digest(1);
    let platforms = vec![
        app.add_version(&digest(2), &[], days(10)).id,
        app.add_version(&digest(3), &[], days(10)).id,
    ];
    let index = app
        .add_version(&image, &["pr-17"], days(10))
        .with_manifest(Manifest::index(&[digest(2), digest(3)]))
        .id;
    let signature = app
        .add_version(&digest(4), &[&referrer_tag(&image, "sig")], days(10))
        .id;
    let attestation = app
        .add_version(&digest(5), &[&referrer_tag(&image, "att")], days(10))
        .id;
    let referrer = app
        .add_version(&digest(6), &[], days(10))
        .with_manifest(Manifest::referrer_of(&image))
        .id;
    // A kept image, so that GitHub's last-tagged-version rule does not interfere.
    let main = app
        .add_version(&digest(20), &["main"], days(2))
        .with_manifest(Manifest::index(&[digest(21)]))
        .id;
    let main_platform = app.add_version(&digest(21), &[], days(2)).id;
    let fake = FakeGithub::start(world);

    let result = run(&fake, &[("packages", "app"), ("tags", "pr-*")]);

    let app = package(&fake, "app");
    let mut gone = platforms.clone();
    gone.extend([index, signature, attestation, referrer]);
    assert_eq!(app.deleted_ids(), sorted(gone.clone()), "{}", result.logs());
    assert_eq!(app.active_ids(), sorted(vec![main, main_platform]));
    assert_eq!(
        sorted(result.output_ids("version-ids")),
        sorted(gone.clone())
    );
    assert_eq!(sorted(result.output_json_ids("deleted")), sorted(gone));
    assert_eq!(result.output_count("deleted-count"), 6);
    assert_eq!(result.output_count("failed-count"), 0);

    let index_at = delete_position(&fake, index);
    for child in platforms
        .iter()
        .chain([&signature, &attestation, &referrer])
    {
        assert!(
            index_at < delete_position(&fake, *child),
            "the index is deleted before {child}: {:?}",
            fake.requests()
        );
    }
}

// 3 ------------------------------------------------------------------------------------------

#[test]
fn a_platform_manifest_shared_by_two_indexes_survives_while_either_is_kept() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let shared = app.add_version(&digest(100), &[], days(30)).id;
    let old_only = app.add_version(&digest(11), &[], days(30)).id;
    let old = app
        .add_version(&digest(10), &["old"], days(30))
        .with_manifest(Manifest::index(&[digest(100), digest(11)]))
        .id;
    let new_only = app.add_version(&digest(21), &[], days(20)).id;
    let new = app
        .add_version(&digest(20), &["new"], days(20))
        .with_manifest(Manifest::index(&[digest(100), digest(21)]))
        .id;
    let latest = app.add_version(&digest(30), &["latest"], days(1)).id;
    let fake = FakeGithub::start(world);

    // First `old` goes: the shared platform manifest stays for `new`.
    let first = run(&fake, &[("packages", "app"), ("tags", "old")]);
    let app = package(&fake, "app");
    assert_eq!(
        app.deleted_ids(),
        sorted(vec![old, old_only]),
        "{}",
        first.logs()
    );
    assert!(app.active_ids().contains(&shared));
    assert!(
        first.stdout.contains("platform manifest of kept new"),
        "{}",
        first.logs()
    );

    // Untagged selection with both... only `new` left: the shared one still stays.
    let second = run(&fake, &[("packages", "app"), ("tag-selection", "untagged")]);
    assert_eq!(second.output_count("deleted-count"), 0, "{}", second.logs());
    assert!(package(&fake, "app").active_ids().contains(&shared));

    // Then `new` goes too: now nothing keeps the shared one, and it goes with its parent.
    let third = run(&fake, &[("packages", "app"), ("tags", "new")]);
    let app = package(&fake, "app");
    assert_eq!(
        sorted(third.output_ids("version-ids")),
        sorted(vec![new, new_only, shared]),
        "{}",
        third.logs()
    );
    assert_eq!(app.active_ids(), vec![latest]);
}

#[test]
fn a_platform_manifest_shared_by_a_deleted_and_a_kept_index_stays_in_one_run() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let shared = app.add_version(&digest(100), &[], days(30)).id;
    let a_only = app.add_version(&digest(11), &[], days(30)).id;
    let a = app
        .add_version(&digest(10), &["pr-1"], days(30))
        .with_manifest(Manifest::index(&[digest(100), digest(11)]))
        .id;
    let b = app
        .add_version(&digest(20), &["release"], days(20))
        .with_manifest(Manifest::index(&[digest(100)]))
        .id;
    let fake = FakeGithub::start(world);

    let result = run(&fake, &[("packages", "app"), ("tags", "pr-*")]);

    let app = package(&fake, "app");
    assert_eq!(
        app.deleted_ids(),
        sorted(vec![a, a_only]),
        "{}",
        result.logs()
    );
    assert_eq!(app.active_ids(), sorted(vec![shared, b]));
}

// 4 ------------------------------------------------------------------------------------------

fn unreadable_world() -> (World, Vec<u64>, Vec<u64>, String) {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let mut app_ids = Vec::new();
    for n in 1..=4 {
        app_ids.push(app.add_version(&digest(n), &[], days(40)).id);
    }
    app_ids.push(
        app.add_version(&digest(9), &["latest"], days(1))
            .with_manifest(Manifest::index(&[digest(1)]))
            .id,
    );
    let web = world.add_package(OWNER, "container", "web");
    let web_orphans = vec![
        web.add_version(&digest(50), &[], days(40)).id,
        web.add_version(&digest(51), &[], days(40)).id,
    ];
    web.add_version(&digest(52), &["latest"], days(1));
    let world = world.sealed();
    let faulty = world
        .package(OWNER, "container", "app")
        .unwrap()
        .digest_of(&digest(3));
    (world, app_ids, web_orphans, faulty)
}

fn assert_fails_closed(fake: &FakeGithub, result: &RunResult, app_ids: &[u64], faulty: &str) {
    let app = package(fake, "app");
    assert_eq!(app.deleted_ids(), Vec::<u64>::new(), "{}", result.logs());
    assert_eq!(app.active_ids(), sorted(app_ids.to_vec()));
    assert_eq!(
        fake.count("DELETE", "/container/app/versions/"),
        0,
        "{}",
        result.logs()
    );
    let warnings = result.annotations("warning");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains(faulty) && w.contains("500")),
        "a warning names {faulty} and the 500: {warnings:#?}\n{}",
        result.logs()
    );
}

#[test]
fn a_manifest_answering_500_keeps_its_package_whole_and_the_other_package_is_cleaned() {
    let (world, app_ids, web_orphans, faulty) = unreadable_world();
    let config = Config {
        manifest_status: [(faulty.clone(), 500)].into_iter().collect(),
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);

    let result = run(
        &fake,
        &[("packages", "app, web"), ("tag-selection", "untagged")],
    );

    assert_fails_closed(&fake, &result, &app_ids, &faulty);
    assert_eq!(
        package(&fake, "web").deleted_ids(),
        sorted(web_orphans.clone())
    );
    assert_eq!(
        sorted(result.output_ids("version-ids")),
        sorted(web_orphans)
    );
    assert_eq!(result.output_count("failed-count"), 0);
    assert!(
        result.summary.contains("manifest unreadable"),
        "{}",
        result.summary
    );
}

#[test]
fn a_500_on_the_first_manifest_read_is_named_too() {
    let (world, app_ids, web_orphans, _) = unreadable_world();
    // Whichever digest the client reads first (the lowest, or the first listed), it answers 500.
    let app = world.package(OWNER, "container", "app").unwrap();
    let mut digests: Vec<String> = [1, 2, 3, 4, 9].map(|n| app.digest_of(&digest(n))).to_vec();
    digests.sort();
    for faulty in [digests[0].clone(), app.digest_of(&digest(1))] {
        let config = Config {
            manifest_status: [(faulty.clone(), 500)].into_iter().collect(),
            ..Config::default()
        };
        let fake = FakeGithub::start_with(world.clone(), config);
        let result = run(
            &fake,
            &[("packages", "app, web"), ("tag-selection", "untagged")],
        );
        assert_fails_closed(&fake, &result, &app_ids, &faulty);
        assert_eq!(
            package(&fake, "web").deleted_ids(),
            sorted(web_orphans.clone())
        );
    }
}

// 5 ------------------------------------------------------------------------------------------

#[test]
fn a_dry_run_reads_manifests_but_writes_nothing() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let platform = app.add_version(&digest(2), &[], days(10)).id;
    let index = app
        .add_version(&digest(1), &["pr-3"], days(10))
        .with_manifest(Manifest::index(&[digest(2)]))
        .id;
    let orphan = app.add_version(&digest(3), &[], days(10)).id;
    app.add_version(&digest(4), &["latest"], days(1));
    let fake = FakeGithub::start(world);
    let before = fake.world();

    let result = run(
        &fake,
        &[("packages", "app"), ("tags", "pr-*"), ("dry-run", "true")],
    );

    assert_eq!(fake.writes(), 0, "{}", result.logs());
    assert_eq!(fake.world(), before);
    assert!(
        fake.requests().iter().filter(|r| r.registry).count() > 0,
        "a dry run reads manifests"
    );
    assert!(manifest_requests(&fake, "app").len() >= 4);
    assert_eq!(
        sorted(result.output_ids("version-ids")),
        sorted(vec![platform, index]),
        "{}",
        result.logs()
    );
    assert!(!result.output_ids("version-ids").contains(&orphan));
    assert!(result.summary.contains("DRY RUN"));
    assert!(
        container_line(&result, "app").contains("1 would go with their parent image"),
        "{}",
        result.summary
    );
}

// 6 ------------------------------------------------------------------------------------------

#[test]
fn untagged_selection_never_deletes_a_platform_manifest_of_a_kept_index() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let mut needed = Vec::new();
    // Platform manifests older than everything, an OCI index, a Docker manifest list, and an
    // index of an index (its grandchildren are needed too).
    for n in 2..=5 {
        needed.push(app.add_version(&digest(n), &[], days(90)).id);
    }
    needed.push(
        app.add_version(&digest(1), &["v1"], days(60))
            .with_manifest(Manifest::index(&[digest(2), digest(3)]))
            .id,
    );
    let list_body = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_LIST,
        "manifests": [
            {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": digest(4), "size": 1},
            {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": digest(5), "size": 1},
        ],
    })
    .to_string();
    needed.push(
        app.add_version(&digest(6), &["v2"], days(50))
            .with_manifest(Manifest::raw(DOCKER_LIST, &list_body))
            .id,
    );
    for n in 8..=9 {
        needed.push(app.add_version(&digest(n), &[], days(80)).id);
    }
    // An untagged inner index reached through a tagged outer one.
    needed.push(
        app.add_version(&digest(7), &[], days(80))
            .with_manifest(Manifest::index(&[digest(8), digest(9)]))
            .id,
    );
    needed.push(
        app.add_version(&digest(10), &["v3"], days(40))
            .with_manifest(Manifest::index(&[digest(7)]))
            .id,
    );
    let orphans = vec![
        app.add_version(&digest(30), &[], days(100)).id,
        app.add_version(&digest(31), &[], days(1)).id,
    ];
    let fake = FakeGithub::start(world);

    let result = run(&fake, &[("packages", "app"), ("tag-selection", "untagged")]);

    let app = package(&fake, "app");
    assert_eq!(app.deleted_ids(), sorted(orphans), "{}", result.logs());
    assert_eq!(app.active_ids(), sorted(needed));
}

// 7 ------------------------------------------------------------------------------------------

#[test]
fn an_unknown_media_type_fails_closed() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let strange = digest(5);
    let ids = vec![
        app.add_version(&digest(1), &[], days(40)).id,
        app.add_version(&digest(2), &[], days(40)).id,
        app.add_version(&strange, &["odd"], days(30))
            .with_manifest(Manifest::raw(
                "application/vnd.example+json",
                &format!(r#"{{"manifests":[{{"digest":"{}"}}]}}"#, digest(1)),
            ))
            .id,
        app.add_version(&digest(3), &["latest"], days(1)).id,
    ];
    let fake = FakeGithub::start(world);

    let result = run(&fake, &[("packages", "app"), ("tag-selection", "untagged")]);

    let app = package(&fake, "app");
    assert_eq!(app.deleted_ids(), Vec::<u64>::new(), "{}", result.logs());
    assert_eq!(app.active_ids(), sorted(ids));
    assert_eq!(fake.writes(), 0);
    let warnings = result.annotations("warning");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains(&app.digest_of(&strange))
                && w.contains("application/vnd.example+json")),
        "{warnings:#?}"
    );
}

// 8 ------------------------------------------------------------------------------------------

#[test]
fn registry_cost_one_token_and_one_read_per_manifest_and_nothing_when_nothing_is_selected() {
    const N: u64 = 12;
    let mut world = world();
    // `app`: N versions, two orphans selected by untagged.
    let app = world.add_package(OWNER, "container", "app");
    for n in 1..=8 {
        app.add_version(&digest(n), &[], days(30));
    }
    app.add_version(&digest(9), &["v1"], days(20))
        .with_manifest(Manifest::index(&[
            digest(1),
            digest(2),
            digest(3),
            digest(4),
        ]));
    app.add_version(&digest(10), &["v2"], days(10))
        .with_manifest(Manifest::index(&[
            digest(3),
            digest(4),
            digest(5),
            digest(6),
        ]));
    app.add_version(&digest(11), &[&referrer_tag(&digest(10), "sig")], days(10));
    app.add_version(&digest(12), &[], days(10))
        .with_manifest(Manifest::referrer_of(&digest(10)));
    // `web`: N versions, two orphans too.
    let web = world.add_package(OWNER, "container", "web");
    for n in 101..=110 {
        web.add_version(&digest(n), &[], days(30));
    }
    web.add_version(&digest(111), &["v1"], days(2))
        .with_manifest(Manifest::index(&[digest(101), digest(102)]));
    web.add_version(&digest(112), &["v2"], days(1))
        .with_manifest(Manifest::index(&[
            digest(103),
            digest(104),
            digest(105),
            digest(106),
            digest(107),
            digest(108),
        ]));
    // `idle`: N tagged versions, nothing untagged: nothing selected.
    let idle = world.add_package(OWNER, "container", "idle");
    for n in 201..=212 {
        let tag = format!("t{n}");
        idle.add_version(&digest(n), &[&tag], days(5));
    }
    let fake = FakeGithub::start(world);

    let result = run(
        &fake,
        &[
            ("packages", "app\nweb\nidle"),
            ("tag-selection", "untagged"),
        ],
    );

    assert_eq!(
        package(&fake, "app").deleted_ids().len(),
        2,
        "{}",
        result.logs()
    );
    assert_eq!(package(&fake, "web").deleted_ids().len(), 2);
    for name in ["app", "web"] {
        let per_digest = gets_per_digest(&fake, name);
        assert_eq!(
            per_digest.len() as u64,
            N,
            "{name}: every manifest is read: {per_digest:?}"
        );
        assert!(
            per_digest.values().all(|&n| n == 1),
            "{name}: no manifest is fetched twice: {per_digest:?}"
        );
        assert_eq!(token_requests(&fake, name), 1, "{name}: one token request");
        let successful = manifest_requests(&fake, name)
            .iter()
            .filter(|r| r.status == 200)
            .count() as u64;
        assert_eq!(successful, N);
    }
    assert_eq!(manifest_requests(&fake, "idle").len(), 0);
    assert_eq!(token_requests(&fake, "idle"), 0);
    // Everything the registry saw, exactly: per package with a selection, one token and N
    // manifest GETs; per package without one, nothing; per run, one `GET /v2/` challenge.
    let registry: Vec<RequestRecord> = fake.requests().into_iter().filter(|r| r.registry).collect();
    for name in ["app", "web"] {
        let repository = format!("/v2/{OWNER}/{name}/");
        let per_package = registry
            .iter()
            .filter(|r| r.path.starts_with(&repository))
            .count()
            + token_requests(&fake, name);
        assert_eq!(per_package as u64, 1 + N, "{name}: {registry:#?}");
    }
    let challenges: Vec<&RequestRecord> = registry
        .iter()
        .filter(|r| r.path == "/v2/" || r.path == "/v2")
        .collect();
    assert_eq!(challenges.len(), 1, "one challenge per run: {registry:#?}");
    assert_eq!(challenges[0].status, 401);
    assert_eq!(registry.len() as u64, 1 + 2 * (1 + N), "{registry:#?}");
    assert!(registry.iter().all(|r| r.method == "GET"));
    eprintln!(
        "registry requests: {} in all for 3 packages of {N} versions: per package with a selection 1 token + {N} manifest GETs, per package without one 0, per run 1 challenge",
        registry.len()
    );
}

#[test]
fn a_package_where_nothing_is_selected_reads_no_manifests() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    app.add_version(&digest(2), &[], days(10));
    app.add_version(&digest(1), &["v1"], days(10))
        .with_manifest(Manifest::index(&[digest(2)]));
    let fake = FakeGithub::start(world);

    let result = run(&fake, &[("packages", "app"), ("tags", "nothing-*")]);

    assert_eq!(result.output_count("deleted-count"), 0);
    assert_eq!(
        fake.requests().iter().filter(|r| r.registry).count(),
        0,
        "{:?}",
        fake.requests()
    );
    assert_eq!(fake.writes(), 0);
}

// 9 ------------------------------------------------------------------------------------------

#[test]
fn the_last_tagged_image_is_kept_with_its_platform_manifests() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let mut all = Vec::new();
    for n in 2..=3 {
        all.push(app.add_version(&digest(n), &[], days(10)).id);
    }
    all.push(
        app.add_version(&digest(1), &["v1"], days(10))
            .with_manifest(Manifest::index(&[digest(2), digest(3)]))
            .id,
    );
    all.push(
        app.add_version(&digest(4), &[&referrer_tag(&digest(1), "sig")], days(9))
            .id,
    );
    let fake = FakeGithub::start(world);

    // The only image is selected; GitHub refuses to delete the last tagged version, so the plan
    // spares it, and it keeps what it needs: its platform manifests and its signature (newer
    // than the image, and tagged too, but a signature of a kept image, not an image).
    let result = run(&fake, &[("packages", "app"), ("tags", "v*")]);

    let app = package(&fake, "app");
    assert_eq!(app.deleted_ids(), Vec::<u64>::new(), "{}", result.logs());
    assert_eq!(app.active_ids(), sorted(all));
    assert_eq!(result.output_count("failed-count"), 0);
    assert_eq!(fake.writes(), 0);
}

#[test]
fn keep_latest_keeps_the_newest_index_with_its_children_and_the_older_goes_whole() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let old_children = vec![
        app.add_version(&digest(2), &[], days(20)).id,
        app.add_version(&digest(3), &[], days(20)).id,
    ];
    let old = app
        .add_version(&digest(1), &["v1"], days(20))
        .with_manifest(Manifest::index(&[digest(2), digest(3)]))
        .id;
    let new_children = vec![
        app.add_version(&digest(12), &[], days(5)).id,
        app.add_version(&digest(13), &[], days(5)).id,
    ];
    let new = app
        .add_version(&digest(11), &["v2"], days(5))
        .with_manifest(Manifest::index(&[digest(12), digest(13)]))
        .id;
    let fake = FakeGithub::start(world);

    // Both indexes are selected; keep-latest 1 spares v2, which keeps its platform manifests;
    // v1 goes with its own.
    let result = run(
        &fake,
        &[("packages", "app"), ("tags", "v*"), ("keep-latest", "1")],
    );

    let app = package(&fake, "app");
    let mut gone = old_children;
    gone.push(old);
    assert_eq!(app.deleted_ids(), sorted(gone), "{}", result.logs());
    let mut stay = new_children;
    stay.push(new);
    assert_eq!(app.active_ids(), sorted(stay));
}

// 10 -----------------------------------------------------------------------------------------

#[test]
fn the_summary_counts_per_package_what_was_needed_and_what_went_with_its_parent() {
    let mut world = world();
    // app: a kept index needing 2 platforms + a signature; a deleted index with 3 platforms.
    let app = world.add_package(OWNER, "container", "app");
    for n in 2..=3 {
        app.add_version(&digest(n), &[], days(5));
    }
    app.add_version(&digest(1), &["main"], days(5))
        .with_manifest(Manifest::index(&[digest(2), digest(3)]));
    app.add_version(&digest(4), &[&referrer_tag(&digest(1), "sig")], days(5));
    for n in 12..=14 {
        app.add_version(&digest(n), &[], days(30));
    }
    app.add_version(&digest(11), &["pr-1"], days(30))
        .with_manifest(Manifest::index(&[digest(12), digest(13), digest(14)]));
    // web: a kept index needing 1 platform; a deleted image with its attestation.
    let web = world.add_package(OWNER, "container", "web");
    web.add_version(&digest(102), &[], days(5));
    web.add_version(&digest(101), &["main"], days(5))
        .with_manifest(Manifest::index(&[digest(102)]));
    web.add_version(&digest(111), &["pr-2"], days(30));
    web.add_version(
        &digest(112),
        &[&referrer_tag(&digest(111), "att")],
        days(30),
    );
    let fake = FakeGithub::start(world);

    let result = run(&fake, &[("packages", "app, web"), ("tags", "pr-*")]);

    assert_eq!(
        package(&fake, "app").deleted_ids().len(),
        4,
        "{}",
        result.logs()
    );
    assert_eq!(package(&fake, "web").deleted_ids().len(), 2);
    let app_line = container_line(&result, "app");
    assert!(
        app_line.contains("3 versions kept because a kept image needs them")
            && app_line.contains("3 went with their parent image"),
        "{app_line}"
    );
    let web_line = container_line(&result, "web");
    assert!(
        web_line.contains("1 versions kept because a kept image needs them")
            && web_line.contains("1 went with their parent image"),
        "{web_line}"
    );
}

/// `app`: the multi-platform image `pr-7` (an index and its two platform manifests) and `v1`.
fn pull_request_image_world() -> World {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    app.add_version(&digest(11), &[], days(40));
    app.add_version(&digest(12), &[], days(40));
    app.add_version(&digest(10), &["pr-7"], days(40))
        .with_manifest(Manifest::index(&[digest(11), digest(12)]));
    app.add_version(&digest(20), &["v1"], days(1));
    world
}

#[test]
fn every_request_to_the_api_and_the_registry_carries_exactly_one_user_agent_ours() {
    let fake = FakeGithub::start(pull_request_image_world());

    let result = run(&fake, &[("packages", "app"), ("tags", "pr-*")]);

    assert_eq!(result.output_count("deleted-count"), 3, "{}", result.logs());
    let requests = fake.requests();
    assert!(
        requests.iter().any(|r| r.registry),
        "the registry was asked"
    );
    assert!(requests.iter().any(|r| r.method == "DELETE"));
    let ours = format!("package-retention/{}", env!("CARGO_PKG_VERSION"));
    for request in &requests {
        assert_eq!(request.user_agents, vec![ours.clone()], "{request:?}");
    }
}

#[test]
fn runner_debug_prints_a_debug_line_per_request_and_the_plan_counts_and_nothing_without_it() {
    let fake = FakeGithub::start(pull_request_image_world());
    // One 502 on the first listing page: that request is retried once.
    fake.update_config(|config| {
        config.scripted = vec![ScriptedFault::respond(
            Some("GET"),
            "/packages/container/app/versions",
            1,
            502,
            "Bad gateway",
        )];
    });
    let result = Run::new(&fake)
        .input("packages", "app")
        .input("tags", "pr-*")
        .env("RUNNER_DEBUG", "1")
        .run();
    result.assert_success();
    assert_eq!(result.output_count("deleted-count"), 3);

    let debug = result.annotations("debug");
    let (plans, requests): (Vec<&str>, Vec<&str>) = debug
        .iter()
        .partition(|line| line.starts_with("::debug::plan "));
    assert_eq!(
        plans,
        vec![
            "::debug::plan container app of acme: 4 candidates, 1 selected; 3 to delete, 1 kept (1 not selected), 0 deferred"
        ],
        "{}",
        result.logs()
    );
    // One line per request, whatever its retries: the fake saw one more (the 502).
    let served = fake.requests();
    assert_eq!(requests.len() + 1, served.len(), "{}", result.logs());
    for record in &served {
        if record.status == 502 {
            continue;
        }
        let target = if record.query.is_empty() {
            record.path.clone()
        } else {
            format!("{}?{}", record.path, record.query)
        };
        // The runner reads `%25` in a command as `%`.
        let target = target.replace('%', "%25");
        let start = format!(
            "::debug::{}{} {target} -> {} in ",
            if record.registry { "registry " } else { "" },
            record.method,
            record.status
        );
        let line = requests
            .iter()
            .find(|line| line.starts_with(&start))
            .unwrap_or_else(|| panic!("no debug line {start:?} in:\n{}", result.logs()));
        let retries = if record.path.ends_with("/packages/container/app/versions") {
            "1 retries"
        } else {
            "0 retries"
        };
        assert!(line.ends_with(&format!(" ms, {retries}")), "{line}");
    }

    let quiet = FakeGithub::start(pull_request_image_world());
    let result = run(&quiet, &[("packages", "app"), ("tags", "pr-*")]);
    assert_eq!(result.output_count("deleted-count"), 3);
    assert!(result.annotations("debug").is_empty(), "{}", result.logs());
    assert!(!result.stdout.contains("::debug::"), "{}", result.logs());
}

/// The numbers of the `bar` and `line` rows of every Mermaid chart in `summary`.
fn chart_rows(summary: &str) -> Vec<(Vec<u64>, Vec<u64>)> {
    let numbers = |row: &str| -> Vec<u64> {
        row.trim_matches(['[', ']'])
            .split(", ")
            .map(|n| n.parse().expect("a count"))
            .collect()
    };
    summary
        .split("```mermaid\n")
        .skip(1)
        .map(|block| {
            let block = &block[..block.find("```").expect("the chart ends")];
            assert!(block.contains("\nxychart-beta\n"), "{block}");
            let row = |name: &str| {
                block
                    .lines()
                    .find_map(|line| line.trim().strip_prefix(name))
                    .unwrap_or_else(|| panic!("no {name:?} row in {block}"))
            };
            (numbers(row("bar ")), numbers(row("line ")))
        })
        .collect()
}

#[test]
fn the_summary_charts_each_package_says_why_each_version_went_and_undoes_with_the_running_action() {
    let fake = FakeGithub::start(pull_request_image_world());
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let result = Run::new(&fake)
        .input("packages", "app")
        .input("tags", "pr-*")
        .env("GITHUB_ACTION_REPOSITORY", "me/package-retention-fork")
        .env("GITHUB_ACTION_REF", sha)
        .run();
    result.assert_success();
    let summary = &result.summary;

    // Before: the four versions; after: v1 alone.
    let charts = chart_rows(summary);
    assert_eq!(charts.len(), 1, "{summary}");
    let (bars, line) = &charts[0];
    assert_eq!((bars.iter().sum::<u64>(), line.iter().sum::<u64>()), (4, 1));
    assert!(
        summary.contains("Chart of app: 4 → 1 active versions"),
        "{summary}"
    );
    assert!(!result.stdout.contains("mermaid"), "no chart in the log");

    // Each deleted version with its reason, in the summary as in the log.
    let app = package(&fake, "app");
    let id = |n: u64| {
        app.version_named(&app.digest_of(&digest(n)))
            .expect("in the fake")
            .id
    };
    for (id, why) in [
        (id(10), "selected by tags"),
        (id(11), "platform manifest only of pr-7, which goes"),
        (id(12), "platform manifest only of pr-7, which goes"),
    ] {
        let row = summary
            .lines()
            .find(|line| line.starts_with(&format!("| `app` | {id} |")))
            .unwrap_or_else(|| panic!("no row for {id}:\n{summary}"));
        assert!(row.contains(&format!("| {why} |")), "{row}");
    }
    assert!(
        result.stdout.contains("selected by tags"),
        "{}",
        result.logs()
    );
    assert!(
        summary.contains(&format!("  uses: me/package-retention-fork@{sha}\n")),
        "{summary}"
    );
}

#[test]
fn a_summary_printed_to_the_log_has_no_chart() {
    let fake = FakeGithub::start(pull_request_image_world());
    let result = Run::new(&fake)
        .input("packages", "app")
        .input("tags", "pr-*")
        .env("GITHUB_STEP_SUMMARY", "")
        .run();
    result.assert_success();
    assert!(
        result.stdout.contains("# package-retention: delete"),
        "{}",
        result.logs()
    );
    let app = package(&fake, "app");
    let platform = app
        .version_named(&app.digest_of(&digest(11)))
        .expect("in the fake")
        .id;
    assert!(
        result.stdout.contains(&format!("| `app` | {platform} |")),
        "{}",
        result.logs()
    );
    assert!(!result.stdout.contains("mermaid"), "{}", result.logs());
    assert!(!result.stdout.contains("xychart"), "{}", result.logs());
}
