//! End-to-end `untag`: the binary against the fake GitHub and its registry. A version that
//! keeps a tag loses only the selected ones (through a throw-away version pushed to the
//! registry and deleted through the REST API); what one removal costs; refusals and dry runs.

mod common;

use common::{Run, RunResult, OWNER, TOKEN};
use fake_github::{
    days, digest, Config, FakeGithub, FaultAction, Manifest, Package, PushRefusal, RegistryAnswers,
    ScriptedFault, Token, World, MSG_WRITE_DENIED,
};
use serde_json::json;

/// A token of alice that may delete but not push (no `packages: write` for the registry).
const READ_ONLY: &str = "read-only";

fn world() -> World {
    World::new()
        .org(OWNER)
        .user("alice")
        .token(TOKEN, "alice")
        .with_token(Token {
            can_push: false,
            ..Token::new(READ_ONLY, "alice")
        })
}

fn package(fake: &FakeGithub) -> Package {
    fake.world()
        .package(OWNER, "container", "app")
        .expect("package app")
        .clone()
}

fn untag_run(fake: &FakeGithub) -> Run {
    Run::new(fake)
        .input("packages", "app")
        .input("tags", "pr-*")
        .input("exclude-tags", "v*")
        .input("untag", "true")
}

fn count(fake: &FakeGithub, method: &str, path_contains: &str) -> usize {
    fake.count(method, path_contains)
}

/// `{pr-12, v1.2.0}`, `{pr-13}` and an older `{v1.1.0}`.
fn releases() -> (World, u64, u64, u64) {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let old = app.add_version(&digest(3), &["v1.1.0"], days(10)).id;
    let release = app
        .add_version(&digest(1), &["pr-12", "v1.2.0"], days(5))
        .id;
    let preview = app.add_version(&digest(2), &["pr-13"], days(4)).id;
    (world, release, preview, old)
}

/// The summary has the `crane tag` line giving `tag` back to the version built as `label`.
fn assert_crane_line(result: &RunResult, fake: &FakeGithub, label: &str, tag: &str) {
    let digest = package(fake).digest_of(label);
    let host = fake.url().trim_start_matches("http://").to_owned();
    let line = format!("crane tag {host}/{OWNER}/app@{digest} {tag}");
    assert!(
        result.summary.lines().any(|l| l == line),
        "{line:?} not in the summary:\n{}",
        result.summary
    );
}

#[test]
fn a_pr_tag_leaves_a_release_that_keeps_its_id_and_no_throw_away_version_stays() {
    let (world, release, preview, old) = releases();
    let fake = FakeGithub::start(world);
    let result = untag_run(&fake).run();
    result.assert_success();

    let app = package(&fake);
    let kept = app.version(release).unwrap();
    assert!(!kept.is_deleted());
    assert_eq!(kept.tags, ["v1.2.0"]);
    assert_eq!(kept.name, app.digest_of(&digest(1)));
    assert!(
        app.version(preview).unwrap().is_deleted(),
        "{{pr-13}} goes whole"
    );
    assert_eq!(
        app.active_ids(),
        [old, release],
        "no throw-away version is left"
    );
    let throwaway: Vec<_> = app
        .versions
        .iter()
        .filter(|v| ![old, release, preview].contains(&v.id))
        .collect();
    assert_eq!(throwaway.len(), 1);
    assert!(throwaway[0].is_deleted());
    assert_eq!(throwaway[0].tags, ["pr-12"]);
    // A valid OCI 1.1 artifact: an artifactType, the empty config and the empty layer.
    let Some(Manifest::Raw { media_type, body }) = &throwaway[0].manifest else {
        panic!("the pushed manifest is kept: {:?}", throwaway[0].manifest);
    };
    assert_eq!(media_type, "application/vnd.oci.image.manifest.v1+json");
    let pushed: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        pushed["artifactType"],
        "application/vnd.package-retention.untagged.v1"
    );
    assert_eq!(
        pushed["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert_eq!(pushed["layers"], json!([pushed["config"]]));

    assert_eq!(result.output_json_ids("deleted"), [preview]);
    assert_eq!(result.output_count("deleted-count"), 1);
    assert_eq!(result.output_count("failed-count"), 0);
    assert_eq!(result.output_count("kept-count"), 1);
    assert_eq!(
        result.output_json("untagged"),
        json!([{ "package": "app", "id": release, "name": package(&fake).digest_of(&digest(1)), "tags": ["pr-12"] }])
    );
    assert_eq!(result.output_ids("version-ids"), [preview]);
    assert!(result.summary.contains("## Tags removed from 1 versions"));
    assert_crane_line(&result, &fake, &digest(1), "pr-12");
    assert!(result.stdout.contains("untag"), "{}", result.stdout);
}

#[test]
fn a_version_whose_every_tag_is_selected_is_deleted_whole() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let old = app.add_version(&digest(3), &["v1.1.0"], days(10)).id;
    let preview = app.add_version(&digest(2), &["pr-13"], days(4)).id;
    let fake = FakeGithub::start(world);
    let result = untag_run(&fake).run();
    result.assert_success();
    assert_eq!(package(&fake).active_ids(), [old]);
    assert_eq!(result.output_json_ids("deleted"), [preview]);
    assert_eq!(result.output_json("untagged"), json!([]));
    assert_eq!(count(&fake, "PUT", "/manifests/"), 0, "nothing pushed");
    assert!(!result.summary.contains("Tags removed"));
}

#[test]
fn a_multi_platform_index_loses_a_tag_and_its_children_are_untouched() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let (amd64, arm64) = (digest(11), digest(12));
    let index = app
        .add_version(&digest(10), &["pr-7", "v2.0.0"], days(3))
        .with_manifest(Manifest::index(&[&amd64, &arm64]))
        .id;
    let children = [
        app.add_version(&amd64, &[], days(3)).id,
        app.add_version(&arm64, &[], days(3)).id,
    ];
    let fake = FakeGithub::start(world);
    let result = untag_run(&fake).run();
    result.assert_success();

    let app = package(&fake);
    assert_eq!(app.version(index).unwrap().tags, ["v2.0.0"]);
    let mut expected = vec![index, children[0], children[1]];
    expected.sort_unstable();
    assert_eq!(
        app.active_ids(),
        expected,
        "children stay, no throw-away left"
    );
    assert_eq!(result.output_count("deleted-count"), 0);
    assert_eq!(result.output_json_ids("untagged"), [index]);
    assert_crane_line(&result, &fake, &digest(10), "pr-7");
}

#[test]
fn two_tags_removed_from_one_version_cost_one_push_each_and_one_delete() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let release = app
        .add_version(&digest(1), &["pr-1", "pr-2", "v1"], days(3))
        .id;
    app.add_version(&digest(2), &["v0"], days(9));
    let fake = FakeGithub::start(world);
    let result = untag_run(&fake).run();
    result.assert_success();

    assert_eq!(package(&fake).version(release).unwrap().tags, ["v1"]);
    assert_eq!(package(&fake).active_ids().len(), 2);
    assert_eq!(count(&fake, "PUT", "/v2/acme/app/manifests/pr-1"), 1);
    assert_eq!(count(&fake, "PUT", "/v2/acme/app/manifests/pr-2"), 1);
    assert_eq!(count(&fake, "PUT", "/manifests/"), 2);
    assert_eq!(count(&fake, "DELETE", "/versions/"), 1);
    // The empty config blob: looked for, then uploaded once.
    assert_eq!(count(&fake, "HEAD", "/v2/acme/app/blobs/"), 1);
    assert_eq!(count(&fake, "POST", "/v2/acme/app/blobs/uploads/"), 1);
    assert_eq!(count(&fake, "PUT", "/v2/acme/app/blobs/uploads/"), 1);
    assert_eq!(
        result.output_json("untagged")[0]["tags"],
        json!(["pr-1", "pr-2"])
    );
    assert_crane_line(&result, &fake, &digest(1), "pr-1");
    assert_crane_line(&result, &fake, &digest(1), "pr-2");

    // A second version in a later run: the blob is found, not uploaded again.
    fake.update_world(|w| {
        w.package_mut(OWNER, "container", "app")
            .unwrap()
            .add_version(&digest(4), &["pr-3", "v1.1"], days(1));
    });
    untag_run(&fake).run().assert_success();
    assert_eq!(count(&fake, "HEAD", "/v2/acme/app/blobs/"), 2);
    assert_eq!(count(&fake, "POST", "/v2/acme/app/blobs/uploads/"), 1);
    assert_eq!(count(&fake, "DELETE", "/versions/"), 2);
}

#[test]
fn a_refused_push_leaves_everything_as_it_was_and_says_why() {
    for refusal in [PushRefusal::Denied, PushRefusal::InsufficientScope] {
        refused_push_says_why(refusal);
    }
}

/// A push refused for rights, as ghcr.io refuses it (403 `DENIED`) or as the distribution
/// registry does (401 with `insufficient_scope`): the cause is the token's push rights, never
/// an invalid token.
fn refused_push_says_why(refusal: PushRefusal) {
    let (world, release, _, _) = releases();
    let config = Config {
        registry: RegistryAnswers {
            push_refusal: refusal,
            ..RegistryAnswers::default()
        },
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let before = package(&fake);
    let result = untag_run(&fake)
        .input("token", READ_ONLY)
        .input("tags", "pr-12")
        .run();
    result.assert_code(1);

    assert_eq!(package(&fake), before, "nothing changed");
    assert_eq!(count(&fake, "DELETE", ""), 0);
    assert_eq!(count(&fake, "PUT", ""), 0);
    assert_eq!(result.output_count("failed-count"), 1);
    let failed = result.output_json("failed");
    assert_eq!(failed[0]["id"], release);
    let message = failed[0]["message"].as_str().unwrap();
    match refusal {
        PushRefusal::Denied => {
            assert_eq!(failed[0]["status"], 403);
            assert!(message.contains(MSG_WRITE_DENIED), "{message}");
            assert!(result
                .annotations("error")
                .iter()
                .any(|line| line.contains("write_package")));
        }
        PushRefusal::InsufficientScope => {
            assert_eq!(failed[0]["status"], 401);
            assert!(message.contains("insufficient_scope"), "{message}");
        }
    }
    assert!(message.contains("no tag was removed"), "{message}");
    assert_eq!(result.output_json("untagged"), json!([]));
    assert!(result.summary.contains("> [!CAUTION]"));
    assert!(!result.summary.contains("Tags removed"));
    for said in [&result.stdout, &result.summary] {
        assert!(
            !said.contains("invalid or expired"),
            "{refusal:?}: the token is valid, it may not push:\n{said}"
        );
        assert!(said.contains("packages: write"), "{refusal:?}:\n{said}");
    }
}

#[test]
fn a_throw_away_version_that_cannot_be_deleted_is_reported_with_its_id() {
    let (world, release, _, old) = releases();
    let fake = FakeGithub::start_with(
        world,
        Config {
            scripted: vec![ScriptedFault::respond(
                Some("DELETE"),
                "/versions/",
                0,
                403,
                "Must have admin rights to Repository.",
            )],
            ..Config::default()
        },
    );
    let workspace = std::env::temp_dir().join(format!(
        "package-retention-untag-leftover-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&workspace).unwrap();
    let result = untag_run(&fake)
        .input("tags", "pr-12")
        .input("report-file", "report.json")
        .env("GITHUB_WORKSPACE", workspace.to_str().unwrap())
        .run();
    result.assert_code(1);

    let app = package(&fake);
    assert_eq!(
        app.version(release).unwrap().tags,
        ["v1.2.0"],
        "the tag moved"
    );
    let leftover = app
        .active_versions()
        .find(|v| ![old, release].contains(&v.id) && v.tags == ["pr-12"])
        .expect("the throw-away version is still there")
        .clone();
    assert_eq!(result.output_json_ids("untagged"), [release]);
    let failed = result.output_json("failed");
    assert_eq!(failed.as_array().unwrap().len(), 1);
    assert_eq!(
        result.output_count("failed-count"),
        1,
        "the count of its list"
    );
    assert_eq!(failed[0]["id"], leftover.id);
    assert_eq!(failed[0]["name"], leftover.name);
    let message = failed[0]["message"].as_str().unwrap().to_lowercase();
    assert!(message.contains("delete it by hand"), "{message}");
    assert!(message.contains("admin rights"), "{message}");
    // The report file lists it among the failures too, with its owner.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(workspace.join("report.json")).unwrap())
            .unwrap();
    std::fs::remove_dir_all(&workspace).unwrap();
    assert_eq!(report["counts"]["failed"], 1);
    assert_eq!(report["failed"].as_array().unwrap().len(), 1);
    assert_eq!(report["failed"][0]["id"], leftover.id);
    assert_eq!(report["failed"][0]["owner"], "acme");
    assert!(report["failed"][0]["message"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("delete it by hand"));
    assert!(result
        .summary
        .contains("## Throw-away versions left behind"));
    assert!(result
        .summary
        .contains(&format!("id {} (`{}`)", leftover.id, leftover.name)));
}

#[test]
fn a_dry_run_pushes_nothing_and_shows_what_would_be_removed() {
    let (world, release, preview, _) = releases();
    let fake = FakeGithub::start(world);
    let before = fake.world();
    let result = untag_run(&fake).input("dry-run", "true").run();
    result.assert_success();

    assert_eq!(fake.world(), before);
    for method in ["PUT", "POST", "DELETE", "PATCH"] {
        assert_eq!(count(&fake, method, ""), 0, "{method}");
    }
    assert_eq!(
        result.output_json("untagged"),
        json!([{ "package": "app", "id": release, "name": package(&fake).digest_of(&digest(1)), "tags": ["pr-12"] }])
    );
    assert_eq!(result.output_json_ids("deleted"), [preview]);
    assert!(result
        .summary
        .contains("## Tags that would be removed from 1 versions"));
    assert_crane_line(&result, &fake, &digest(1), "pr-12");
    assert!(result.stdout.contains("would untag"), "{}", result.stdout);
}

#[test]
fn untag_without_tags_is_bad_input_and_changes_nothing() {
    let (world, ..) = releases();
    let fake = FakeGithub::start(world);
    let result = Run::new(&fake)
        .input("packages", "app")
        .input("untag", "true")
        .run();
    result.assert_code(2);
    assert!(result
        .annotations("error")
        .iter()
        .any(|line| line.contains("untag")));
    assert!(fake.requests().is_empty());
}

/// A tag the registry would never accept, full of what could start a workflow command, break a
/// table or add a line to the summary's commands.
const HOSTILE: &str = "pr-9`|<b>x</b>%0A\n::error::boom";

fn hostile_world() -> (World, u64) {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    app.add_version(&digest(3), &["v1.1.0"], days(10));
    let id = app
        .add_version(&digest(1), &[HOSTILE, "v1.2.0"], days(5))
        .id;
    (world, id)
}

fn assert_contained(result: &RunResult) {
    assert!(
        !result
            .stdout
            .lines()
            .any(|l| l.starts_with("::error::boom")),
        "{}",
        result.stdout
    );
    assert!(!result.summary.lines().any(|l| l.starts_with("::error")));
    // Every table row keeps its header's cells: no `|` from the tag splits one.
    let cells = |line: &str| line.replace("\\|", "").matches('|').count();
    let mut header_cells = None;
    for line in result.summary.lines() {
        if !line.starts_with('|') {
            header_cells = None;
            continue;
        }
        let expected = *header_cells.get_or_insert(cells(line));
        assert_eq!(cells(line), expected, "{line}");
    }
    assert!(
        !result.summary.contains("crane tag"),
        "no command is written for such a tag:\n{}",
        result.summary
    );
}

#[test]
fn a_hostile_tag_is_not_pushed_and_cannot_add_a_command_a_cell_or_a_line() {
    let (world, id) = hostile_world();
    let fake = FakeGithub::start(world);
    let before = package(&fake);
    let result = untag_run(&fake).run();
    result.assert_code(1);
    assert_eq!(package(&fake), before, "nothing changed");
    assert_eq!(count(&fake, "PUT", ""), 0);
    assert_eq!(count(&fake, "DELETE", ""), 0);
    let failed = result.output_json("failed");
    assert_eq!(failed[0]["id"], id);
    assert!(failed[0]["message"]
        .as_str()
        .unwrap()
        .contains("not a tag the registry accepts"));
    assert_contained(&result);

    let dry = untag_run(&fake).input("dry-run", "true").run();
    dry.assert_success();
    assert_eq!(
        dry.output_json("untagged")[0]["tags"],
        json!([HOSTILE]),
        "the output keeps the tag as it is (JSON-escaped)"
    );
    assert!(dry
        .summary
        .contains("1 tags or names hold characters an image reference cannot"));
    assert_contained(&dry);
}

#[test]
fn max_deletions_counts_a_removal_as_one_deletion_oldest_first() {
    let mut world = world();
    let app = world.add_package(OWNER, "container", "app");
    let release = app.add_version(&digest(1), &["pr-1", "v1"], days(9)).id;
    let first = app.add_version(&digest(2), &["pr-2"], days(8)).id;
    let newest = app.add_version(&digest(3), &["pr-3"], days(7)).id;
    app.add_version(&digest(4), &["v0"], days(20));
    let fake = FakeGithub::start(world);
    let result = untag_run(&fake).input("max-deletions", "2").run();
    result.assert_success();
    assert_eq!(result.output_json_ids("untagged"), [release]);
    assert_eq!(result.output_json_ids("deleted"), [first]);
    assert_eq!(result.output_count("deferred-count"), 1);
    let app = package(&fake);
    assert!(!app.version(newest).unwrap().is_deleted());
    assert_eq!(app.version(release).unwrap().tags, ["v1"]);
}

/// A registry that does not allow the push (405, as a read-only mirror answers): the failure
/// names the registry's message once, and one cause.
#[test]
fn a_push_the_registry_does_not_allow_names_its_message_and_one_cause() {
    let (world, release, _, _) = releases();
    let fake = FakeGithub::start_with(
        world,
        Config {
            scripted: vec![ScriptedFault {
                method: Some("PUT".to_owned()),
                path_contains: "/manifests/".to_owned(),
                nth: 0,
                action: FaultAction::Respond {
                    status: 405,
                    headers: Vec::new(),
                    body: r#"{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}"#
                        .to_owned(),
                },
            }],
            ..Config::default()
        },
    );
    let result = untag_run(&fake).input("tags", "pr-12").run();
    result.assert_code(1);
    let failed = result.output_json("failed");
    assert_eq!(failed[0]["id"], release);
    assert_eq!(failed[0]["status"], 405);
    let line = result
        .annotations("error")
        .into_iter()
        .find(|line| line.contains("405"))
        .unwrap_or_else(|| panic!("an error line for the 405:\n{}", result.stdout))
        .to_owned();
    assert_eq!(line.matches("UNSUPPORTED").count(), 1, "{line}");
    assert!(!line.contains("GitHub's message"), "{line}");
    assert_eq!(line.matches("message").count(), 1, "one cause: {line}");
}
