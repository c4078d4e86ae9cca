//! The end-to-end harness itself: parsing `GITHUB_OUTPUT`, and smoke runs of the binary
//! against the fake (a dry run, a delete run, a container run through the registry).

mod common;

use common::{parse_github_output, Run, OWNER, TOKEN};
use fake_github::{days, digest, FakeGithub, World};

#[test]
fn github_output_lines_and_heredocs_are_parsed() {
    let text = "deleted-count=2\n\ndeleted<<ghadelimiter_1\n[\n{\"id\": 1}\n]\nghadelimiter_1\nempty=\nsummary<<EOF\nEOF\nurl=a=b\n";
    let outputs = parse_github_output(text);
    assert_eq!(outputs["deleted-count"], "2");
    assert_eq!(outputs["deleted"], "[\n{\"id\": 1}\n]");
    assert_eq!(outputs["empty"], "");
    assert_eq!(outputs["summary"], "");
    assert_eq!(outputs["url"], "a=b");
    assert_eq!(outputs.len(), 5);
}

#[test]
#[should_panic(expected = "malformed GITHUB_OUTPUT line")]
fn a_line_without_a_name_is_malformed() {
    parse_github_output("just text\n");
}

#[test]
#[should_panic(expected = "never ends")]
fn an_unterminated_heredoc_is_malformed() {
    parse_github_output("deleted<<END\n[]\n");
}

#[test]
fn a_dry_run_against_the_fake_writes_outputs_and_changes_nothing() {
    let mut world = World::new().org(OWNER).user("alice").token(TOKEN, "alice");
    let app = world.add_package(OWNER, "npm", "app");
    app.add_version("1.0.0", &[], days(30));
    app.add_version("2.0.0", &[], days(1));
    world
        .add_package(OWNER, "container", "image")
        .add_version(&digest(1), &["latest"], days(1));
    let fake = FakeGithub::start(world);
    let before = fake.world();

    let result = Run::new(&fake)
        .input("package-type", "npm")
        .input("packages", "app")
        .input("dry-run", "true")
        .run();

    result.assert_success();
    assert_eq!(
        fake.writes(),
        0,
        "a dry run must not write:\n{}",
        result.logs()
    );
    assert_eq!(fake.world(), before);
    for count in [
        "deleted-count",
        "restored-count",
        "failed-count",
        "kept-count",
        "deferred-count",
    ] {
        result.output_count(count);
    }
    assert!(result.output_json("deleted").is_array());
    assert!(!result.summary.is_empty());
    assert!(fake.count("GET", "/packages/npm/app/versions") >= 1);
}

#[test]
fn a_delete_run_reports_exactly_what_the_fake_deleted() {
    let mut world = World::new().org(OWNER).user("alice").token(TOKEN, "alice");
    let app = world.add_package(OWNER, "npm", "app");
    for (n, version) in ["1.0.0", "1.1.0", "1.2.0", "2.0.0"].iter().enumerate() {
        app.add_version(version, &[], days(40 - n as u64));
    }
    let fake = FakeGithub::start(world);

    let result = Run::new(&fake)
        .input("package-type", "npm")
        .input("packages", "app")
        .input("keep-latest", "2")
        .run();

    result.assert_success();
    let deleted = fake
        .world()
        .package(OWNER, "npm", "app")
        .unwrap()
        .deleted_ids();
    assert_eq!(deleted.len(), 2, "{}", result.logs());
    let mut reported = result.output_ids("version-ids");
    reported.sort_unstable();
    assert_eq!(reported, deleted);
    assert_eq!(result.output_count("deleted-count"), 2);
    assert_eq!(fake.count("DELETE", "/versions/"), 2);
}

#[test]
fn a_container_run_reads_manifests_through_the_registry_token_flow() {
    use fake_github::Manifest;
    let mut world = World::new().org(OWNER).user("alice").token(TOKEN, "alice");
    let app = world.add_package(OWNER, "container", "app");
    let platform = app.add_version(&digest(2), &[], days(10)).id;
    app.add_version(&digest(1), &["latest"], days(10))
        .with_manifest(Manifest::index(&[digest(2)]));
    let stray = app.add_version(&digest(3), &[], days(20)).id;
    let fake = FakeGithub::start(world);

    let result = Run::new(&fake)
        .input("packages", "app")
        .input("tag-selection", "untagged")
        .run();

    result.assert_success();
    let package = fake.world();
    let package = package.package(OWNER, "container", "app").unwrap();
    assert_eq!(package.deleted_ids(), vec![stray], "{}", result.logs());
    assert!(package.active_ids().contains(&platform));
    assert!(fake.count("GET", "/token") >= 1, "{}", result.logs());
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.registry && r.status == 200 && r.path.contains("/manifests/")));
}
