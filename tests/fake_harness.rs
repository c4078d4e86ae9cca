//! The end-to-end harness itself: parsing `GITHUB_OUTPUT`, and one dry run of the binary
//! against the fake.

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
