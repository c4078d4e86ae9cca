//! Retention that knows the repository: `keep-open-pull-requests`, `keep-live-branches` and
//! `keep-referenced-in`, end to end against the fake's pull requests, branches and registry.

mod common;

use std::path::{Path, PathBuf};

use common::{Run, RunResult, OWNER, TOKEN};
use fake_github::{
    days, digest, hours, Config, FakeGithub, Manifest, PageFault, PageFaultKind, Token, World,
};
use serde_json::Value;

const REPOSITORY: &str = "acme/app";

fn world() -> World {
    let mut world = World::new().org(OWNER).user("alice").token(TOKEN, "alice");
    world.add_repository(REPOSITORY);
    world
}

/// A run in a workflow of `acme/app` whose workspace is `workspace`.
fn run_in(fake: &FakeGithub, workspace: &Path) -> Run {
    Run::new(fake)
        .env("GITHUB_REPOSITORY", REPOSITORY)
        .env("GITHUB_WORKSPACE", workspace.to_str().unwrap())
}

/// A fresh, empty workspace folder.
fn workspace() -> PathBuf {
    static SEQUENCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "repository-aware-{}-{}",
        std::process::id(),
        SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(workspace: &Path, path: &str, text: &str) {
    let path = workspace.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn sorted(mut ids: Vec<u64>) -> Vec<u64> {
    ids.sort_unstable();
    ids
}

fn deleted_ids(fake: &FakeGithub, package: &str) -> Vec<u64> {
    fake.world()
        .package(OWNER, "container", package)
        .unwrap()
        .deleted_ids()
}

fn report(workspace: &Path) -> Value {
    let text = std::fs::read_to_string(workspace.join("report.json")).expect("the report file");
    serde_json::from_str(&text).expect("the report is JSON")
}

/// The reason the report gives for keeping version `id`.
fn kept_reason(report: &Value, id: u64) -> String {
    report["kept"]
        .as_array()
        .expect("kept is an array")
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("version {id} is not among the kept: {report:#}"))["reason"]
        .as_str()
        .expect("a reason")
        .to_owned()
}

/// GET requests of the API whose path contains `path`.
fn gets(fake: &FakeGithub, path: &str) -> usize {
    fake.count("GET", path)
}

fn assert_bad_input(result: &RunResult, fake: &FakeGithub, input: &str, words: &str) {
    result.assert_code(2);
    let errors = result.annotations("error").join("\n");
    assert!(
        errors.contains(input) && errors.contains(words),
        "an error naming {input} ({words}):\n{}",
        result.logs()
    );
    assert!(
        fake.requests().is_empty(),
        "no request before bad input is reported"
    );
}

// Pull requests ----------------------------------------------------------------------------

/// `acme/app` with pull requests 1..=230 (the multiples of 3 closed: 154 open, two pages),
/// and package `app` with an image tagged `pr-N` for every N in `tagged`, plus `v1.0.0`.
fn pull_request_world(
    tagged: &[u64],
    template: impl Fn(u64) -> String,
) -> (World, Vec<(u64, u64)>) {
    let mut world = world();
    let repository = world.repository_mut(OWNER, "app").unwrap();
    for number in 1..=230 {
        repository.open_pull_request(number, &format!("feature/{number}"));
        if number % 3 == 0 {
            repository.close_pull_request(number, number % 2 == 0);
        }
    }
    let app = world.add_package(OWNER, "container", "app");
    app.add_version(&digest(10_000), &["v1.0.0"], days(30));
    let images = tagged
        .iter()
        .map(|&n| {
            (
                n,
                app.add_version(&digest(n), &[&template(n)], hours(500 - n))
                    .id,
            )
        })
        .collect();
    (world, images)
}

#[test]
fn images_of_open_pull_requests_on_both_pages_stay_those_of_closed_ones_go() {
    // 1 and 229 are open (229 is on the second page: newest first, 154 open), 3, 6 and 228 closed.
    let (world, images) = pull_request_world(&[1, 3, 6, 228, 229], |n| format!("pr-{n}"));
    let fake = FakeGithub::start(world);
    let workspace = workspace();

    let result = run_in(&fake, &workspace)
        .input("packages", "app")
        .input("tags", "pr-*")
        .input("keep-open-pull-requests", "true")
        .input("report-file", "report.json")
        .run();

    result.assert_success();
    let id = |n: u64| images.iter().find(|(m, _)| *m == n).unwrap().1;
    let gone = sorted(vec![id(3), id(6), id(228)]);
    assert_eq!(deleted_ids(&fake, "app"), gone);
    assert_eq!(sorted(result.output_ids("version-ids")), gone);
    assert_eq!(result.output_count("deleted-count"), 3);
    // Every page of open pull requests, once.
    assert_eq!(gets(&fake, "/repos/acme/app/pulls"), 2);
    assert!(fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/pulls"))
        .all(|r| r.query.contains("state=open") && r.query.contains("per_page=100")));

    let report = report(&workspace);
    assert_eq!(kept_reason(&report, id(1)), "pull request #1 is open");
    assert_eq!(kept_reason(&report, id(229)), "pull request #229 is open");
    assert!(
        result.summary.contains("pull request #229 is open"),
        "{}",
        result.summary
    );
    assert!(
        result.stdout.contains("pull request #1 is open"),
        "{}",
        result.logs()
    );
}

#[test]
fn a_custom_pull_request_template_and_one_reading_for_every_rule() {
    let (mut world, images) = pull_request_world(&[5, 9], |n| format!("pr{n}-build"));
    let api = world.add_package(OWNER, "container", "api");
    api.add_version(&digest(20_000), &["v1"], days(9));
    let api_pr = api.add_version(&digest(20_001), &["pr5-build"], days(2)).id;
    let api_closed = api.add_version(&digest(20_002), &["pr9-build"], days(2)).id;
    let fake = FakeGithub::start(world);
    let workspace = workspace();
    let config = "rules:\n  - packages: app\n    tags: 'pr*'\n  - packages: api\n    tags: 'pr*'\n";

    let result = run_in(&fake, &workspace)
        .input("config", config)
        .input("keep-open-pull-requests", "pr{number}-build")
        .input("report-file", "report.json")
        .run();

    result.assert_success();
    assert_eq!(deleted_ids(&fake, "app"), vec![images[1].1]);
    assert_eq!(deleted_ids(&fake, "api"), vec![api_closed]);
    assert_eq!(
        gets(&fake, "/repos/acme/app/pulls"),
        2,
        "read once for both rules"
    );
    let report = report(&workspace);
    assert_eq!(kept_reason(&report, images[0].1), "pull request #5 is open");
    assert_eq!(kept_reason(&report, api_pr), "pull request #5 is open");
}

#[test]
fn the_repository_input_names_whose_pull_requests_count() {
    let mut world = world();
    world
        .add_repository("acme/site")
        .open_pull_request(3, "docs");
    world
        .repository_mut(OWNER, "app")
        .unwrap()
        .open_pull_request(4, "x");
    let site = world.add_package(OWNER, "container", "site");
    site.linked_to("acme/site");
    site.add_version(&digest(1), &["v1"], days(9));
    let open = site.add_version(&digest(2), &["pr-3"], days(2)).id;
    let closed = site.add_version(&digest(3), &["pr-4"], days(2)).id;
    let fake = FakeGithub::start(world);

    let result = run_in(&fake, &workspace())
        .input("packages", "site")
        .input("repository", "site")
        .input("tags", "pr-*")
        .input("keep-open-pull-requests", "true")
        .run();

    result.assert_success();
    assert_eq!(deleted_ids(&fake, "site"), vec![closed]);
    assert!(fake
        .world()
        .package(OWNER, "container", "site")
        .unwrap()
        .active_ids()
        .contains(&open));
    assert_eq!(gets(&fake, "/repos/acme/site/pulls"), 1);
    assert_eq!(gets(&fake, "/repos/acme/app/pulls"), 0);
}

// Branches ---------------------------------------------------------------------------------

#[test]
fn images_of_live_branches_with_slashes_stay_those_of_deleted_branches_go() {
    let mut world = world();
    let repository = world.repository_mut(OWNER, "app").unwrap();
    for name in [
        "feature/login",
        "fix/a/b",
        "release/1.x",
        "dependabot/npm_and_yarn/x-1.2",
    ] {
        repository.add_branch(name);
    }
    for n in 0..120 {
        repository.add_branch(&format!("chore/{n}"));
    }
    let app = world.add_package(OWNER, "container", "app");
    let mut add = |tag: &str| app.add_version(&digest(app_seed(tag)), &[tag], days(3)).id;
    let main = add("main");
    let login = add("feature-login");
    let fix = add("fix-a-b");
    let bot = add("dependabot-npm_and_yarn-x-1.2");
    let late = add("chore-119");
    let gone_branch = add("feature-logout");
    let gone_fix = add("fix-a");
    let fake = FakeGithub::start(world);
    let workspace = workspace();

    let result = run_in(&fake, &workspace)
        .input("packages", "app")
        .input("keep-live-branches", "true")
        .input("report-file", "report.json")
        .run();

    result.assert_success();
    assert_eq!(
        deleted_ids(&fake, "app"),
        sorted(vec![gone_branch, gone_fix])
    );
    assert_eq!(
        gets(&fake, "/repos/acme/app/branches"),
        2,
        "both pages, once"
    );
    let report = report(&workspace);
    assert_eq!(kept_reason(&report, login), "branch feature/login exists");
    assert_eq!(kept_reason(&report, fix), "branch fix/a/b exists");
    assert_eq!(
        kept_reason(&report, bot),
        "branch dependabot/npm_and_yarn/x-1.2 exists"
    );
    assert_eq!(kept_reason(&report, late), "branch chore/119 exists");
    assert_eq!(kept_reason(&report, main), "branch main exists");
    assert!(
        result.summary.contains("branch feature/login exists"),
        "{}",
        result.summary
    );
}

fn app_seed(tag: &str) -> u64 {
    tag.bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
}

#[test]
fn a_custom_branch_template() {
    let mut world = world();
    world
        .repository_mut(OWNER, "app")
        .unwrap()
        .add_branch("feature/login");
    let app = world.add_package(OWNER, "container", "app");
    app.add_version(&digest(1), &["v1"], days(9));
    let live = app
        .add_version(&digest(2), &["branch-feature-login"], days(2))
        .id;
    let plain = app.add_version(&digest(3), &["feature-login"], days(2)).id;
    let dead = app.add_version(&digest(4), &["branch-gone"], days(2)).id;
    let fake = FakeGithub::start(world);

    let result = run_in(&fake, &workspace())
        .input("packages", "app")
        .input("tags", "branch-*, feature-*")
        .input("keep-live-branches", "branch-{branch}")
        .run();

    result.assert_success();
    assert_eq!(deleted_ids(&fake, "app"), sorted(vec![plain, dead]));
    assert!(!deleted_ids(&fake, "app").contains(&live));
}

// Fail closed ------------------------------------------------------------------------------

/// `app` (protected by the input under test) and `other` (not), each with a selected version.
fn two_packages(world: &mut World) -> (u64, u64) {
    let app = world.add_package(OWNER, "container", "app");
    app.add_version(&digest(1), &["v1"], days(9));
    let app_old = app
        .add_version(&digest(2), &["pr-7", "feature-x"], days(5))
        .id;
    let other = world.add_package(OWNER, "container", "other");
    other.add_version(&digest(3), &["v1"], days(9));
    let other_old = other
        .add_version(&digest(4), &["pr-7", "feature-x"], days(5))
        .id;
    (app_old, other_old)
}

fn fail_closed_run(fake: &FakeGithub, input: &str) -> RunResult {
    fail_closed_run_of(run_in(fake, &workspace()), input)
}

fn fail_closed_run_of(run: Run, input: &str) -> RunResult {
    let config = format!(
        "rules:\n  - packages: app\n    tags: '*-*'\n    {input}: 'true'\n  - packages: other\n    tags: '*-*'\n"
    );
    run.input("config", &config).run()
}

fn assert_failed_closed(
    fake: &FakeGithub,
    result: &RunResult,
    input: &str,
    permission: &str,
    other_old: u64,
) {
    assert_ne!(result.code, 0, "{}", result.logs());
    assert_ne!(result.code, 2, "not bad input: {}", result.logs());
    assert_eq!(
        deleted_ids(fake, "app"),
        Vec::<u64>::new(),
        "nothing deleted in app"
    );
    assert_eq!(deleted_ids(fake, "other"), vec![other_old], "other goes on");
    let errors = result.annotations("error").join("\n");
    assert!(
        errors.contains(input) && errors.contains(permission),
        "an error naming {input} and {permission}:\n{}",
        result.logs()
    );
    assert!(result.summary.contains(input), "{}", result.summary);
}

#[test]
fn pull_requests_a_token_may_not_read_fail_the_packages_they_cover_closed() {
    let mut world = World::new().org(OWNER).user("alice").with_token(Token {
        can_read_pull_requests: false,
        ..Token::new(TOKEN, "alice")
    });
    world.add_repository(REPOSITORY).open_pull_request(7, "x");
    let (_, other_old) = two_packages(&mut world);
    let fake = FakeGithub::start(world);

    let result = fail_closed_run(&fake, "keep-open-pull-requests");

    assert_failed_closed(
        &fake,
        &result,
        "keep-open-pull-requests",
        "pull-requests: read",
        other_old,
    );
}

#[test]
fn branches_a_token_may_not_read_fail_the_packages_they_cover_closed() {
    let mut world = World::new().org(OWNER).user("alice").with_token(Token {
        can_read_contents: false,
        ..Token::new(TOKEN, "alice")
    });
    world.add_repository(REPOSITORY).add_branch("feature/x");
    let (_, other_old) = two_packages(&mut world);
    let fake = FakeGithub::start(world);

    let result = fail_closed_run(&fake, "keep-live-branches");

    assert_failed_closed(
        &fake,
        &result,
        "keep-live-branches",
        "contents: read",
        other_old,
    );
}

#[test]
fn an_unknown_repository_or_an_incomplete_listing_fails_closed_too() {
    // Unknown repository: 404.
    let mut world = world();
    let (_, other_old) = two_packages(&mut world);
    let fake = FakeGithub::start(world);
    let run = run_in(&fake, &workspace()).env("GITHUB_REPOSITORY", "acme/gone");
    let result = fail_closed_run_of(run, "keep-open-pull-requests");
    assert_failed_closed(
        &fake,
        &result,
        "keep-open-pull-requests",
        "pull-requests: read",
        other_old,
    );

    // The second page of pull requests answers 404.
    let mut world = self::world();
    let repository = world.repository_mut(OWNER, "app").unwrap();
    for number in 1..=150 {
        repository.open_pull_request(number, "x");
    }
    let (_, other_old) = two_packages(&mut world);
    let config = Config {
        page_faults: vec![PageFault {
            path_contains: "/pulls".to_owned(),
            page: 2,
            kind: PageFaultKind::NotFound,
        }],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let result = fail_closed_run(&fake, "keep-open-pull-requests");
    assert_failed_closed(
        &fake,
        &result,
        "keep-open-pull-requests",
        "pull-requests: read",
        other_old,
    );
}

// References in workspace files ------------------------------------------------------------

/// `app`: a multi-platform image `v1.2.0` (two platforms and a signature), an image `v1.1.0`
/// (index, two platforms), `v1.0.0`, `v0.9.0` and an index `v0.8.0` with one platform.
struct Images {
    v120: u64,
    v120_platforms: Vec<u64>,
    v120_signature: u64,
    v110: u64,
    v110_platforms: Vec<u64>,
    v100: u64,
    v090: u64,
    v080: u64,
    v080_platform: u64,
}

fn image_world() -> (World, Images) {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let v080_platform = app.add_version(&digest(81), &[], days(50)).id;
    let v080 = app
        .add_version(&digest(80), &["v0.8.0"], days(50))
        .with_manifest(Manifest::index(&[digest(81)]))
        .id;
    let v090 = app.add_version(&digest(90), &["v0.9.0"], days(40)).id;
    let v100 = app.add_version(&digest(100), &["v1.0.0"], days(30)).id;
    let v110_platforms = vec![
        app.add_version(&digest(111), &[], days(20)).id,
        app.add_version(&digest(112), &[], days(20)).id,
    ];
    let v110 = app
        .add_version(&digest(110), &["v1.1.0"], days(20))
        .with_manifest(Manifest::index(&[digest(111), digest(112)]))
        .id;
    let v120_platforms = vec![
        app.add_version(&digest(121), &[], days(10)).id,
        app.add_version(&digest(122), &[], days(10)).id,
    ];
    let v120 = app
        .add_version(&digest(120), &["v1.2.0"], days(10))
        .with_manifest(Manifest::index(&[digest(121), digest(122)]))
        .id;
    let signature_tag = format!("sha256-{}.sig", &digest(120)["sha256:".len()..]);
    let v120_signature = app
        .add_version(&digest(123), &[&signature_tag], days(10))
        .with_manifest(Manifest::referrer_of(&digest(120)))
        .id;
    let images = Images {
        v120,
        v120_platforms,
        v120_signature,
        v110,
        v110_platforms,
        v100,
        v090,
        v080,
        v080_platform,
    };
    (world, images)
}

/// The registry host of the fake as references name it (`127.0.0.1:PORT`).
fn host(fake: &FakeGithub) -> String {
    fake.url().trim_start_matches("http://").to_owned()
}

/// The digest the version built as `digest(label)` has in the running fake.
fn sealed(fake: &FakeGithub, label: u64) -> String {
    fake.world()
        .package(OWNER, "container", "app")
        .unwrap()
        .digest_of(&digest(label))
}

#[test]
fn referenced_images_stay_whole_by_tag_digest_and_both_in_kubernetes_and_helm_files() {
    let (world, images) = image_world();
    let fake = FakeGithub::start(world);
    // The registry by name, so that the host can be written in mixed case.
    let port = fake.url().rsplit(':').next().unwrap().to_owned();
    let host = format!("localhost:{port}");
    let workspace = workspace();
    write(
        &workspace,
        "deploy/prod/app.yaml",
        &format!(
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: LocalHost:{port}/ACME/App:v1.2.0\n"
        ),
    );
    write(
        &workspace,
        "charts/app/values-prod.yaml",
        &format!(
            "image:\n  full: \"{host}/acme/app@{}\"\n",
            sealed(&fake, 110)
        ),
    );
    write(
        &workspace,
        "deploy/staging.yaml",
        &format!(
            "image: '{host}/Acme/app:anything@{}' # pinned\n",
            sealed(&fake, 100)
                .to_uppercase()
                .replace("SHA256:", "sha256:")
        ),
    );
    // Not matched by the globs, so not read.
    write(
        &workspace,
        "docs/old.yaml",
        &format!("image: {host}/acme/app:v0.9.0\n"),
    );

    let result = run_in(&fake, &workspace)
        .input("packages", "app")
        .input(
            "keep-referenced-in",
            "deploy/**/*.yaml, charts/**/values*.yaml",
        )
        .input("registry-url", &format!("http://localhost:{port}"))
        .input("report-file", "report.json")
        .run();

    result.assert_success();
    assert_eq!(
        deleted_ids(&fake, "app"),
        sorted(vec![images.v090, images.v080, images.v080_platform])
    );
    let report = report(&workspace);
    assert_eq!(
        kept_reason(&report, images.v120),
        "referenced in deploy/prod/app.yaml line 8"
    );
    assert_eq!(
        kept_reason(&report, images.v110),
        "referenced in charts/app/values-prod.yaml line 2"
    );
    assert_eq!(
        kept_reason(&report, images.v100),
        "referenced in deploy/staging.yaml line 1"
    );
    for platform in images.v120_platforms.iter().chain(&images.v110_platforms) {
        assert!(
            kept_reason(&report, *platform).contains("of kept"),
            "{report:#}"
        );
    }
    assert!(kept_reason(&report, images.v120_signature).contains("of kept"));
    assert!(
        result
            .summary
            .contains("referenced in deploy/prod/app.yaml line 8"),
        "{}",
        result.summary
    );
    assert!(
        result.annotations("warning").is_empty(),
        "{}",
        result.logs()
    );
}

#[test]
fn a_reference_to_nothing_is_a_warning_and_another_package_is_no_reference() {
    let (world, images) = image_world();
    let fake = FakeGithub::start(world);
    let host = host(&fake);
    let workspace = workspace();
    write(
        &workspace,
        "deploy/prod.yaml",
        &format!(
            "a: {host}/acme/app:v9.9.9\nb: {host}/acme/app@{}\nc: {host}/acme/app-other:v0.9.0\nd: {host}/acme/app:v1.2.0\n",
            digest(999)
        ),
    );
    let unknown_digest = digest(999);

    let result = run_in(&fake, &workspace)
        .input("packages", "app")
        .input("tags", "v*")
        .input("keep-referenced-in", "deploy/*.yaml")
        .run();

    result.assert_success();
    let warnings = result.annotations("warning").join("\n");
    assert!(
        warnings.contains("deploy/prod.yaml line 1") && warnings.contains("v9.9.9"),
        "{}",
        result.logs()
    );
    assert!(
        warnings.contains("deploy/prod.yaml line 2") && warnings.contains(&unknown_digest),
        "{}",
        result.logs()
    );
    assert!(
        !warnings.contains("line 3"),
        "app-other is not app: {warnings}"
    );
    let deleted = deleted_ids(&fake, "app");
    assert!(
        deleted.contains(&images.v090),
        "app-other:v0.9.0 protects nothing"
    );
    assert!(!deleted.contains(&images.v120));
}

#[test]
fn a_symlinked_file_or_folder_is_skipped_with_a_warning() {
    let (world, images) = image_world();
    let fake = FakeGithub::start(world);
    let host = host(&fake);
    let workspace = workspace();
    let outside = workspace.with_extension("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        outside.join("evil.yaml"),
        format!("image: {host}/acme/app:v0.9.0\n"),
    )
    .unwrap();
    write(
        &workspace,
        "deploy/prod.yaml",
        &format!("image: {host}/acme/app:v1.0.0\n"),
    );
    std::os::unix::fs::symlink(
        outside.join("evil.yaml"),
        workspace.join("deploy/link.yaml"),
    )
    .unwrap();
    std::os::unix::fs::symlink(&outside, workspace.join("deploy/ext")).unwrap();

    let result = run_in(&fake, &workspace)
        .input("packages", "app")
        .input("tags", "v*")
        .input("keep-referenced-in", "deploy/**/*.yaml")
        .run();

    result.assert_success();
    let warnings = result.annotations("warning").join("\n");
    assert!(warnings.contains("deploy/link.yaml"), "{}", result.logs());
    let deleted = deleted_ids(&fake, "app");
    assert!(
        deleted.contains(&images.v090),
        "the file outside protects nothing"
    );
    assert!(!deleted.contains(&images.v100));
    let _ = std::fs::remove_dir_all(&outside);
}

#[test]
fn referenced_in_a_dry_run_writes_the_reasons_and_changes_nothing() {
    let (world, images) = image_world();
    let fake = FakeGithub::start(world);
    let host = host(&fake);
    let workspace = workspace();
    write(
        &workspace,
        "k8s.yml",
        &format!("image: {host}/acme/app:v1.0.0\n"),
    );

    let result = run_in(&fake, &workspace)
        .input("packages", "app")
        .input("tags", "v*")
        .input("dry-run", "true")
        .input("keep-referenced-in", "*.yml")
        .input("report-file", "report.json")
        .run();

    result.assert_success();
    assert_eq!(fake.writes(), 0);
    assert_eq!(
        kept_reason(&report(&workspace), images.v100),
        "referenced in k8s.yml line 1"
    );
}

// Bad input --------------------------------------------------------------------------------

#[test]
fn bad_templates_are_bad_input_before_any_request() {
    for (input, value, words) in [
        ("keep-open-pull-requests", "pr-", "{number}"),
        (
            "keep-open-pull-requests",
            "pr-{number}-{number}",
            "{number}",
        ),
        ("keep-open-pull-requests", "pr/{number}", "'/'"),
        ("keep-open-pull-requests", "{branch}", "{number}"),
        ("keep-live-branches", "branch:{branch}", "':'"),
        ("keep-live-branches", "pr-{number}", "{branch}"),
        ("keep-live-branches", "yes", "{branch}"),
    ] {
        let fake = FakeGithub::start(world());
        let result = run_in(&fake, &workspace())
            .input("packages", "app")
            .input(input, value)
            .run();
        assert_bad_input(&result, &fake, input, words);
        assert!(
            result.annotations("error").join("\n").contains(value),
            "{}",
            result.logs()
        );
    }
}

#[test]
fn the_inputs_on_another_package_type_or_in_restore_mode_are_bad_input() {
    for (input, value) in [
        ("keep-open-pull-requests", "true"),
        ("keep-live-branches", "true"),
        ("keep-referenced-in", "deploy/*.yaml"),
    ] {
        let fake = FakeGithub::start(world());
        let result = run_in(&fake, &workspace())
            .input("packages", "app")
            .input("package-type", "npm")
            .input(input, value)
            .run();
        assert_bad_input(&result, &fake, input, "container");

        let fake = FakeGithub::start(world());
        let result = run_in(&fake, &workspace())
            .input("packages", "app")
            .input("mode", "restore")
            .input(input, value)
            .run();
        assert_bad_input(&result, &fake, input, "restore");
    }
}

#[test]
fn a_glob_leading_out_of_the_workspace_is_bad_input() {
    for glob in ["../deploy/*.yaml", "/etc/*.conf", "deploy/../../x.yaml"] {
        let fake = FakeGithub::start(world());
        let result = run_in(&fake, &workspace())
            .input("packages", "app")
            .input("keep-referenced-in", glob)
            .run();
        assert_bad_input(&result, &fake, "keep-referenced-in", glob);
    }
}

// Hostile names ----------------------------------------------------------------------------

#[test]
fn hostile_branch_and_file_names_stay_text_in_the_summary_and_the_log() {
    let mut world = world();
    let evil = "x/|<img src=y>`%0A::warning::z";
    world.repository_mut(OWNER, "app").unwrap().add_branch(evil);
    let app = world.add_package(OWNER, "container", "app");
    app.add_version(&digest(1), &["v1"], days(9));
    let branch = app
        .add_version(&digest(2), &["x-img-src-y-0A-warning-z"], days(2))
        .id;
    let referenced = app.add_version(&digest(3), &["v0"], days(8)).id;
    let gone = app.add_version(&digest(4), &["old"], days(8)).id;
    let fake = FakeGithub::start(world);
    let host = host(&fake);
    let workspace = workspace();
    let file = "deploy/a|b<i>%0A::error::c.yaml";
    write(&workspace, file, &format!("image: {host}/acme/app:v0\n"));

    let result = run_in(&fake, &workspace)
        .input("packages", "app")
        .input("tags", "x-*, v0, old")
        .input("keep-live-branches", "true")
        .input("keep-referenced-in", "deploy/*.yaml")
        .run();

    result.assert_success();
    assert_eq!(deleted_ids(&fake, "app"), vec![gone]);
    assert!(!deleted_ids(&fake, "app").contains(&branch));
    assert!(!deleted_ids(&fake, "app").contains(&referenced));
    assert!(
        !result.summary.contains("<img src=y>"),
        "{}",
        result.summary
    );
    assert!(!result.summary.contains("<i>"), "{}", result.summary);
    let kept_section = result
        .summary
        .split_once("kept for the repository")
        .expect("the section")
        .1;
    for row in kept_section.lines().filter(|l| l.starts_with("| `app`")) {
        // Four cells, whatever the names hold.
        assert_eq!(row.matches(" | ").count(), 3, "{row}");
    }
    assert!(result.annotations("error").is_empty(), "{}", result.logs());
    assert!(
        result.annotations("warning").is_empty(),
        "{}",
        result.logs()
    );
}
