//! End-to-end: registries as they are in the field. Ghosts (listed versions whose manifest is
//! unknown), broken images, a dead registry given up after a few failures, image-aware restore,
//! and the `manifest-cache` file between runs.

mod common;

use std::path::{Path, PathBuf};

use common::{Run, RunResult, OWNER, TOKEN};
use fake_github::{
    days, digest, Config, FakeGithub, FaultAction, Manifest, Package, RegistryAnswers,
    RegistryRateLimit, ScriptedFault, World,
};

fn world() -> World {
    World::new().org(OWNER).user("alice").token(TOKEN, "alice")
}

fn package(fake: &FakeGithub, name: &str) -> Package {
    fake.world()
        .package(OWNER, "container", name)
        .unwrap_or_else(|| panic!("package {name} is in the fake"))
        .clone()
}

fn sorted(mut ids: Vec<u64>) -> Vec<u64> {
    ids.sort_unstable();
    ids
}

fn short(digest: &str) -> &str {
    &digest[..19]
}

/// Manifest GETs the registry answered for package `name`.
fn manifest_gets(fake: &FakeGithub, name: &str) -> usize {
    let prefix = format!("/v2/{OWNER}/{name}/manifests/");
    fake.requests()
        .iter()
        .filter(|r| r.registry && r.path.starts_with(&prefix))
        .count()
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

#[test]
fn a_ghost_goes_with_the_orphans_while_a_kept_image_keeps_its_platform_manifests() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let children = vec![
        app.add_version(&digest(2), &[], days(40)).id,
        app.add_version(&digest(3), &[], days(40)).id,
    ];
    let index = app
        .add_version(&digest(1), &["v1.0.0"], days(40))
        .with_manifest(Manifest::index(&[digest(2), digest(3)]))
        .id;
    let ghost = app
        .add_version(&digest(4), &[], days(35))
        .with_manifest(Manifest::Ghost)
        .id;
    let orphans = vec![
        app.add_version(&digest(5), &[], days(40)).id,
        app.add_version(&digest(6), &[], days(20)).id,
    ];
    let fake = FakeGithub::start(world);

    let result = run(&fake, &[("packages", "app"), ("tag-selection", "untagged")]);

    let app = package(&fake, "app");
    let mut gone = orphans.clone();
    gone.push(ghost);
    assert_eq!(app.deleted_ids(), sorted(gone.clone()), "{}", result.logs());
    assert_eq!(app.active_ids(), sorted([children, vec![index]].concat()));
    assert_eq!(sorted(result.output_ids("version-ids")), sorted(gone));
    assert_eq!(result.output_count("failed-count"), 0);
    assert!(
        result.annotations("warning").is_empty(),
        "{}",
        result.logs()
    );
    let ghost_line = result
        .summary
        .lines()
        .find(|l| l.contains("ghost"))
        .unwrap_or_else(|| panic!("the summary names the ghost:\n{}", result.summary));
    assert!(ghost_line.contains(short(&digest(4))), "{ghost_line}");
}

#[test]
fn a_broken_index_is_reported_and_nothing_more_is_deleted_for_it() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let present = app.add_version(&digest(2), &[], days(40)).id;
    let index = app
        .add_version(&digest(1), &["v2.0.0"], days(40))
        .with_manifest(Manifest::index(&[digest(2), digest(3)]))
        .id;
    // The platform manifest digest(3) was deleted by an old clean-up.
    let deleted = app
        .add_version(&digest(3), &[], days(40))
        .deleted_ago(days(10))
        .id;
    let orphan = app.add_version(&digest(5), &[], days(40)).id;
    let fake = FakeGithub::start(world);

    let result = run(&fake, &[("packages", "app"), ("tag-selection", "untagged")]);

    let app = package(&fake, "app");
    assert_eq!(
        app.deleted_ids(),
        sorted(vec![deleted, orphan]),
        "{}",
        result.logs()
    );
    assert_eq!(app.active_ids(), sorted(vec![present, index]));
    let warnings = result.annotations("warning");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains(&app.digest_of(&digest(1)))
                && w.contains(&app.digest_of(&digest(3)))
                && w.contains("v2.0.0")),
        "{warnings:#?}"
    );
    let section = result
        .summary
        .split_once("Broken images")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("a Broken images section:\n{}", result.summary));
    let row = section
        .lines()
        .find(|l| l.contains("v2.0.0"))
        .unwrap_or_else(|| panic!("a row for v2.0.0:\n{section}"));
    assert!(
        row.contains("app") && row.contains(&app.digest_of(&digest(3))),
        "{row}"
    );
    assert!(
        !row.contains(&app.digest_of(&digest(2))),
        "only the missing digest: {row}"
    );
}

#[test]
fn a_dead_registry_is_given_up_after_a_few_failures_and_the_other_package_is_cleaned() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let mut app_ids = Vec::new();
    for n in 0..79 {
        app_ids.push(app.add_version(&digest(100 + n), &[], days(40)).id);
    }
    app_ids.push(app.add_version(&digest(1), &["latest"], days(1)).id);
    let web = world.add_package(OWNER, "container", "web");
    let web_orphan = web.add_version(&digest(50), &[], days(40)).id;
    web.add_version(&digest(51), &["latest"], days(1));
    let config = Config {
        scripted: vec![ScriptedFault::respond(
            Some("GET"),
            "/v2/acme/app/manifests/",
            0,
            500,
            "registry down",
        )],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);

    let result = run(
        &fake,
        &[("packages", "app, web"), ("tag-selection", "untagged")],
    );

    assert_eq!(package(&fake, "app").active_ids(), sorted(app_ids));
    assert_eq!(fake.count("DELETE", "/container/app/"), 0);
    assert_eq!(package(&fake, "web").deleted_ids(), vec![web_orphan]);
    let registry_requests = fake.requests().iter().filter(|r| r.registry).count();
    let app_requests = manifest_gets(&fake, "app");
    assert!(
        registry_requests <= 20,
        "{registry_requests} registry requests ({app_requests} for app's manifests)"
    );
    assert!(app_requests <= 6, "{app_requests} manifest GETs for app");
    let warnings = result.annotations("warning");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("app") && w.contains("500") && w.contains("given up")),
        "{warnings:#?}"
    );
    eprintln!("dead registry: {registry_requests} registry requests in all, {app_requests} manifest GETs for the 80-version package");
}

/// `app` with a deleted multi-platform image `v1.2.0` (two platform manifests, a signature
/// tagged for the index, a signature of a platform manifest) and an unrelated deleted version.
struct Deleted {
    fake: FakeGithub,
    index: u64,
    platforms: Vec<u64>,
    signature: u64,
    platform_signature: u64,
    unrelated: u64,
}

fn deleted_image() -> Deleted {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let sig = |of: &str, suffix: &str| format!("sha256-{}.{suffix}", &of["sha256:".len()..]);
    let platforms = vec![
        app.add_version(&digest(2), &[], days(5))
            .deleted_ago(days(1))
            .id,
        app.add_version(&digest(3), &[], days(5))
            .deleted_ago(days(1))
            .id,
    ];
    let index = app
        .add_version(&digest(1), &["v1.2.0"], days(5))
        .with_manifest(Manifest::index(&[digest(2), digest(3)]))
        .deleted_ago(days(1))
        .id;
    let signature = app
        .add_version(&digest(4), &[&sig(&digest(1), "sig")], days(5))
        .with_manifest(Manifest::referrer_of(&digest(1)))
        .deleted_ago(days(1))
        .id;
    let platform_signature = app
        .add_version(&digest(5), &[&sig(&digest(3), "att")], days(5))
        .deleted_ago(days(1))
        .id;
    let unrelated = app
        .add_version(&digest(6), &[], days(5))
        .deleted_ago(days(1))
        .id;
    app.add_version(&digest(9), &["latest"], days(1));
    Deleted {
        fake: FakeGithub::start(world),
        index,
        platforms,
        signature,
        platform_signature,
        unrelated,
    }
}

#[test]
fn restoring_an_image_by_tag_restores_its_platform_manifests_and_signatures() {
    let d = deleted_image();

    let result = run(
        &d.fake,
        &[("packages", "app"), ("mode", "restore"), ("tags", "v1.2.0")],
    );

    let expected = sorted(vec![
        d.index,
        d.platforms[0],
        d.platforms[1],
        d.signature,
        d.platform_signature,
    ]);
    let app = package(&d.fake, "app");
    assert_eq!(app.deleted_ids(), vec![d.unrelated], "{}", result.logs());
    assert_eq!(sorted(result.output_ids("version-ids")), expected);
    assert_eq!(sorted(result.output_json_ids("restored")), expected);
    assert_eq!(result.output_count("restored-count"), 5);
    assert_eq!(result.output_count("failed-count"), 0);
    // The index and its platform manifests are served again: the image can be pulled.
    assert!(
        result.stdout.contains("restored with v1.2.0"),
        "{}",
        result.logs()
    );
}

#[test]
fn exclude_versions_still_protects_a_platform_manifest_from_an_image_aware_restore() {
    let d = deleted_image();
    let platform = package(&d.fake, "app").digest_of(&digest(3));

    let result = run(
        &d.fake,
        &[
            ("packages", "app"),
            ("mode", "restore"),
            ("tags", "v1.2.0"),
            ("exclude-versions", &platform),
        ],
    );

    let app = package(&d.fake, "app");
    // digest(3) stays deleted, and so does the attestation only it reaches.
    assert_eq!(
        app.deleted_ids(),
        sorted(vec![d.platforms[1], d.platform_signature, d.unrelated]),
        "{}",
        result.logs()
    );
    assert_eq!(
        sorted(result.output_ids("version-ids")),
        sorted(vec![d.index, d.platforms[0], d.signature])
    );
}

#[test]
fn a_restore_dry_run_shows_what_comes_back_by_tag_and_restores_nothing() {
    let d = deleted_image();

    let result = run(
        &d.fake,
        &[
            ("packages", "app"),
            ("mode", "restore"),
            ("tags", "v1.2.0"),
            ("dry-run", "true"),
        ],
    );

    assert_eq!(d.fake.writes(), 0);
    // Without the manifest, the dry run finds the signature by its tag.
    assert_eq!(
        sorted(result.output_ids("version-ids")),
        sorted(vec![d.index, d.signature])
    );
    assert!(
        result.summary.contains("would be restored with v1.2.0")
            && result.stdout.contains("would be restored with v1.2.0"),
        "{}\n{}",
        result.summary,
        result.logs()
    );
}

/// A fresh directory standing for `GITHUB_WORKSPACE`.
fn workspace(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "package-retention-registries-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn cached_run(fake: &FakeGithub, workspace: &Path) -> RunResult {
    let result = Run::new(fake)
        .input("packages", "app")
        .input("tag-selection", "untagged")
        .input("dry-run", "true")
        .input("manifest-cache", "cache/manifests")
        .env("GITHUB_WORKSPACE", workspace.to_str().unwrap())
        .run();
    result.assert_success();
    result
}

#[test]
fn the_manifest_cache_spares_every_read_on_the_second_run_and_a_corrupt_one_is_a_warning() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    for n in 2..=5 {
        app.add_version(&digest(n), &[], days(40));
    }
    app.add_version(&digest(1), &["v1"], days(30))
        .with_manifest(Manifest::index(&[digest(2), digest(3)]));
    app.add_version(&digest(6), &["sha256-x.sig"], days(30))
        .with_manifest(Manifest::referrer_of(&digest(1)));
    let fake = FakeGithub::start(world);
    let dir = workspace("cache");

    let first = cached_run(&fake, &dir);
    assert_eq!(manifest_gets(&fake, "app"), 6, "{}", first.logs());
    let file = dir.join("cache/manifests");
    let text = std::fs::read_to_string(&file).expect("the cache file is written");
    assert_eq!(
        text.lines().count(),
        7,
        "a header and a line per manifest:\n{text}"
    );
    assert!(
        first.summary.contains("manifests: 6 read, 0 from cache"),
        "{}",
        first.summary
    );

    let second = cached_run(&fake, &dir);
    assert_eq!(manifest_gets(&fake, "app"), 6, "no manifest read again");
    assert_eq!(
        sorted(second.output_ids("version-ids")),
        sorted(first.output_ids("version-ids"))
    );
    assert_eq!(second.output("deleted"), first.output("deleted"));
    assert!(
        second.summary.contains("manifests: 0 read, 6 from cache"),
        "{}",
        second.summary
    );
    assert!(
        second.annotations("warning").is_empty(),
        "{}",
        second.logs()
    );

    // A version deleted since: its entry is dropped.
    let gone = package(&fake, "app").digest_of(&digest(4));
    fake.update_world(|w| {
        let app = w.package_mut(OWNER, "container", "app").unwrap();
        let id = app.version_named(&gone).unwrap().id;
        app.version_mut(id).unwrap().deleted_ago(days(0));
    });
    cached_run(&fake, &dir);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(&gone), "{text}");
    assert_eq!(text.lines().count(), 6, "{text}");

    std::fs::write(&file, "{\"not\": \"ours\"}\n").unwrap();
    let corrupt = cached_run(&fake, &dir);
    let warnings = corrupt.annotations("warning");
    assert!(
        warnings.iter().any(|w| w.contains("manifest-cache")),
        "{warnings:#?}"
    );
    assert_eq!(
        manifest_gets(&fake, "app"),
        6 + 5,
        "a full read of the 5 listed"
    );
    assert_eq!(
        sorted(corrupt.output_ids("version-ids")),
        sorted(first.output_ids("version-ids"))
            .into_iter()
            .filter(|id| *id != package(&fake, "app").deleted_ids()[0])
            .collect::<Vec<_>>()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A registry that does not have the repository (a mistyped `registry-url`, a GHES host that
/// serves another registry): distribution answers `MANIFEST_UNKNOWN` for every manifest, others
/// `NAME_UNKNOWN`. Not a package of ghosts: the package fails closed, with a warning that names
/// the registry and the package; the other package goes on.
#[test]
fn a_registry_without_the_repository_fails_the_package_closed_and_names_the_registry() {
    for name_unknown in [false, true] {
        let mut world = world();
        let app = world.add_package(OWNER, "container", "app");
        app.add_version(&digest(1), &["v1"], days(1))
            .with_manifest(Manifest::index(&[digest(2), digest(3)]));
        app.add_version(&digest(2), &[], days(40));
        app.add_version(&digest(3), &[], days(40));
        app.add_version(&digest(4), &[], days(40));
        let fake = FakeGithub::start(world);
        // Another registry: it knows the token, not the repository.
        let elsewhere = FakeGithub::start_with(
            World::new().org(OWNER).user("alice").token(TOKEN, "alice"),
            Config {
                registry: RegistryAnswers {
                    unknown_repository_is_name_unknown: name_unknown,
                    ..RegistryAnswers::default()
                },
                ..Config::default()
            },
        );
        let result = run(
            &fake,
            &[
                ("packages", "app"),
                ("tag-selection", "untagged"),
                ("registry-url", &elsewhere.url()),
            ],
        );
        assert_eq!(fake.count("DELETE", ""), 0, "nothing deleted");
        assert_eq!(result.output_count("deleted-count"), 0);
        assert!(!result.stdout.contains("ghost"), "{}", result.stdout);
        let warnings = result.annotations("warning");
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(&elsewhere.url()) && w.contains("app")),
            "NAME_UNKNOWN {name_unknown}: {warnings:#?}"
        );
    }
}

/// Docker schema 1 manifests (served as such whatever the `Accept` header asks) reference no
/// manifest: they are leaves, deleted like any image, and the package is not frozen.
#[test]
fn schema_1_manifests_are_leaves() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let schema1 = |tag: &str| {
        format!(
            r#"{{"schemaVersion":1,"name":"acme/app","tag":"{tag}","architecture":"amd64","fsLayers":[{{"blobSum":"{}"}}],"history":[{{"v1Compatibility":"{{}}"}}]}}"#,
            digest(90)
        )
    };
    let signed = app
        .add_version(&digest(1), &["old"], days(100))
        .with_manifest(Manifest::raw(
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
            &schema1("old"),
        ))
        .id;
    let unsigned = app
        .add_version(&digest(2), &["older"], days(200))
        .with_manifest(Manifest::raw(
            "application/vnd.docker.distribution.manifest.v1+json",
            &schema1("older"),
        ))
        .id;
    app.add_version(&digest(3), &["current"], days(1));
    let fake = FakeGithub::start(world);
    let result = run(&fake, &[("packages", "app"), ("older-than", "30d")]);
    assert_eq!(
        package(&fake, "app").deleted_ids(),
        sorted(vec![signed, unsigned])
    );
    assert!(
        result.annotations("warning").is_empty(),
        "{}",
        result.stdout
    );
}

/// The registry's own rate limit (ghcr.io answers 429 above about 44,000 manifest reads a
/// minute): a 429 is waited out (`Retry-After`), never spent as a failure. A 20,000-manifest
/// package, read as fast as the fake lets it (the action's pacing set far above the limit), is
/// cleaned with no package given up. The fake's limit (1,500 reads a second) bites on a fast
/// machine; eight 429s more than the 5 failures a package may spend come anyway, scripted.
#[test]
fn a_registry_rate_limit_is_waited_out_and_no_package_is_given_up() {
    const VERSIONS: u64 = 20_000;
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    for n in 0..VERSIONS {
        app.add_version(&digest(1_000 + n), &[], days(40));
    }
    app.add_version(&digest(1), &["latest"], days(1));
    let config = Config {
        registry: RegistryAnswers {
            rate_limit: Some(RegistryRateLimit {
                reads: 1_500,
                writes: 100,
                window: std::time::Duration::from_secs(1),
            }),
            ..RegistryAnswers::default()
        },
        scripted: (1..=8)
            .map(|n| ScriptedFault {
                method: Some("GET".to_owned()),
                path_contains: "/v2/acme/app/manifests/".to_owned(),
                nth: n * 2_000,
                action: FaultAction::Respond {
                    status: 429,
                    headers: vec![("retry-after".to_owned(), "1".to_owned())],
                    body: r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"retry later"}]}"#
                        .to_owned(),
                },
            })
            .collect(),
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let result = Run::new(&fake)
        .input("packages", "app")
        .input("tag-selection", "untagged")
        .input("dry-run", "true")
        .env("PACKAGE_RETENTION_POINTS_PER_MINUTE", "100000000")
        .env("PACKAGE_RETENTION_REGISTRY_PER_MINUTE", "100000000")
        .env("PACKAGE_RETENTION_REGISTRY_IN_FLIGHT", "64")
        .run();
    result.assert_success();
    let refused = fake.requests().iter().filter(|r| r.status == 429).count();
    assert!(refused >= 8, "{refused} answers 429");
    assert_eq!(result.output_count("deleted-count"), VERSIONS);
    assert_eq!(result.output_count("failed-count"), 0);
    let warnings = result.annotations("warning");
    assert!(
        warnings
            .iter()
            .all(|w| w.contains("output `deleted` holds the first")),
        "only the output cut to 1 MB: {warnings:#?}"
    );
    eprintln!(
        "registry rate limit: {refused} answers 429 ({} by the limit), {VERSIONS} manifests read",
        fake.registry_rate_limited_answers()
    );
}
