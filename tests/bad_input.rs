//! Bad input end to end: every malformed or conflicting input makes the binary exit 2 with a
//! `::error` annotation that names the input and the value, before any request at all (so
//! certainly before any request that changes something).

mod common;

use common::{Run, RunResult, OWNER, TOKEN};
use fake_github::{days, digest, FakeGithub, World};

/// A world where every run below would delete something if its input were accepted.
fn fake() -> FakeGithub {
    let mut world = World::new().org(OWNER).user("alice").token(TOKEN, "alice");
    let image = world.add_package(OWNER, "container", "app");
    image.add_version(&digest(1), &["v1"], days(40));
    image.add_version(&digest(2), &["v2"], days(30));
    image.add_version(&digest(3), &["latest"], days(1));
    let lib = world.add_package(OWNER, "npm", "app");
    lib.add_version("1.0.0", &[], days(40));
    lib.add_version("2.0.0", &[], days(1));
    FakeGithub::start(world)
}

/// A run that is valid as it stands (it would delete the two old container versions).
fn valid(fake: &FakeGithub) -> Run {
    Run::new(fake)
        .input("packages", "app")
        .input("keep-latest", "1")
}

/// Asserts exit code 2, an `::error` naming `input` and showing `shown` (the value, or the
/// part of it that identifies it), and not one request served.
fn assert_refused(result: &RunResult, fake: &FakeGithub, input: &str, shown: &str) {
    result.assert_code(2);
    let errors = result.annotations("error");
    assert!(
        errors
            .iter()
            .any(|line| line.contains(&format!("`{input}`")) && line.contains(shown)),
        "expected an ::error naming `{input}` and {shown:?}:\n{}",
        result.logs()
    );
    assert_eq!(fake.writes(), 0, "{}", result.logs());
    assert_eq!(
        fake.requests(),
        Vec::new(),
        "no request at all:\n{}",
        result.logs()
    );
    for count in ["deleted-count", "restored-count"] {
        if let Some(value) = result.outputs.get(count) {
            assert_eq!(value, "0", "{count}");
        }
    }
}

/// Runs `valid` with `input` set to `value` and checks that it is refused, naming both.
fn refuse(input: &str, value: &str) {
    refuse_with(&[(input, value)], input, value);
}

/// Runs `valid` with these inputs and checks that it is refused naming `input` and `shown`.
fn refuse_with(inputs: &[(&str, &str)], input: &str, shown: &str) {
    let fake = fake();
    let run = inputs
        .iter()
        .fold(valid(&fake), |run, (name, value)| run.input(name, value));
    let result = run.run();
    assert_refused(&result, &fake, input, shown);
}

#[test]
fn the_valid_baseline_is_accepted() {
    // Every test below changes one thing of this run; this one proves the rest is fine.
    let fake = fake();
    let result = valid(&fake).run();
    result.assert_success();
    assert_eq!(result.output_count("deleted-count"), 2);
    assert!(fake.writes() > 0);
}

#[test]
fn unknown_choices() {
    refuse("mode", "purge");
    refuse("package-type", "pip");
    refuse("package-type", "containers");
    refuse("owner-type", "team");
    refuse("tag-selection", "some");
    refuse("prerelease", "maybe");
}

#[test]
fn malformed_globs() {
    refuse("tags", "v1.[");
    refuse("exclude-tags", "[abc");
    refuse("versions", "1.[0");
    refuse("exclude-versions", "[!");
    refuse("packages", "app-[");
}

#[test]
fn malformed_glob_among_good_ones_is_still_refused() {
    refuse("tags", "latest, v[1");
    refuse_with(&[("packages", "app\nweb-[")], "packages", "web-[");
}

#[test]
fn malformed_semver() {
    refuse("semver", ">=1.0.0.1");
    refuse("semver", ">= banana");
    refuse("semver", "~>1");
    refuse("semver", ">=1.0 ||");
    refuse("semver", "1.0,,2.0");
}

#[test]
fn keep_latest_per_values_and_its_conflict() {
    refuse("keep-latest-per", "patch");
    // `major` or `minor` says how keep-latest counts: without keep-latest it is a conflict.
    refuse_with(
        &[("keep-latest", "0"), ("keep-latest-per", "minor")],
        "keep-latest-per",
        "minor",
    );
}

#[test]
fn malformed_repository() {
    refuse("repository", "acme/app/extra");
    refuse("repository", "/app");
    refuse("repository", "app-[");
    refuse_with(
        &[("config", "rules:\n  - repository: \"a//b\"\n")],
        "config rules[0]: repository",
        "a//b",
    );
}

#[test]
fn malformed_durations() {
    refuse("older-than", "3 days");
    refuse("older-than", "90x");
    refuse("older-than", "d");
    refuse("older-than", "-5d");
}

#[test]
fn malformed_version_ids() {
    refuse("version-ids", "12,abc");
    refuse("version-ids", "-3");
    refuse("version-ids", "1.5");
}

#[test]
fn negative_or_non_numeric_counts() {
    for input in ["keep-latest", "min-versions-to-keep", "max-deletions"] {
        refuse(input, "-1");
        refuse(input, "two");
        refuse(input, "1.5");
    }
}

#[test]
fn non_boolean_flags() {
    refuse("dry-run", "yes");
    refuse("dry-run", "1");
    refuse("fail-on-error", "maybe");
    refuse("delete-empty-package", "on");
}

#[test]
fn an_empty_token() {
    let fake = fake();
    let result = valid(&fake).input("token", "").run();
    assert_refused(&result, &fake, "token", "\"\"");

    let fake = self::fake();
    let result = valid(&fake).input("token", "   ").run();
    assert_refused(&result, &fake, "token", "token");
}

#[test]
fn empty_packages() {
    refuse("packages", "");
    refuse_with(&[("packages", " ,\n , ")], "packages", "packages");
}

#[test]
fn an_empty_owner() {
    refuse("owner", "");
}

#[test]
fn a_registry_url_that_is_not_a_url() {
    refuse("registry-url", "ghcr.io");
}

#[test]
fn invalid_yaml_config() {
    refuse_with(&[("config", "rules: [\n")], "config", "YAML");
    refuse_with(
        &[("config", "rules:\n  - packages: [a\n")],
        "config",
        "YAML",
    );
}

#[test]
fn config_shapes_and_keys() {
    refuse_with(
        &[("config", "rules:\n  - keep-lastest: 3\n")],
        "config",
        "keep-lastest",
    );
    refuse_with(
        &[("config", "rulez:\n  - keep-latest: 3\n")],
        "config",
        "rulez",
    );
    refuse_with(&[("config", "rules: []\n")], "config", "empty");
    refuse_with(
        &[("config", "rules:\n  - token: other\n")],
        "config",
        "token",
    );
    refuse_with(
        &[("config", "rules:\n  - dry-run: true\n")],
        "config",
        "dry-run",
    );
    refuse_with(&[("config", "rules: 3\n")], "config", "rules");
}

#[test]
fn a_bad_value_inside_a_config_rule_names_the_rule_and_the_input() {
    refuse_with(
        &[("config", "rules:\n  - packages: app\n  - keep-latest: -2\n")],
        "config rules[1]: keep-latest",
        "-2",
    );
    refuse_with(
        &[("config", "rules:\n  - semver: \">=1.0.0.1\"\n")],
        "config rules[0]: semver",
        ">=1.0.0.1",
    );
    refuse_with(
        &[("config", "rules:\n  - package-type: npm\n    tags: v1\n")],
        "config rules[0]: tags",
        "v1",
    );
}

#[test]
fn a_config_file_that_does_not_exist() {
    refuse_with(&[("config", "retention.yml")], "config", "retention.yml");
}

#[test]
fn conflicting_inputs() {
    refuse("deleted-within", "7d");
    refuse_with(&[("mode", "restore")], "keep-latest", "1");
    refuse_with(
        &[
            ("mode", "restore"),
            ("keep-latest", "0"),
            ("min-versions-to-keep", "2"),
        ],
        "min-versions-to-keep",
        "2",
    );
    refuse_with(
        &[
            ("mode", "restore"),
            ("keep-latest", "0"),
            ("max-deletions", "5"),
        ],
        "max-deletions",
        "5",
    );
    refuse_with(
        &[
            ("mode", "restore"),
            ("keep-latest", "0"),
            ("delete-empty-package", "true"),
        ],
        "delete-empty-package",
        "true",
    );
    refuse_with(&[("package-type", "npm"), ("tags", "v1")], "tags", "v1");
    refuse_with(
        &[("package-type", "maven"), ("exclude-tags", "latest")],
        "exclude-tags",
        "latest",
    );
    refuse_with(
        &[("package-type", "nuget"), ("tag-selection", "untagged")],
        "tag-selection",
        "untagged",
    );
    refuse_with(
        &[("tags", "v1"), ("tag-selection", "untagged")],
        "tag-selection",
        "untagged",
    );
}

#[test]
fn bad_flags_by_hand() {
    let fake = fake();
    let result = Run::new(&fake)
        .env("GITHUB_TOKEN", TOKEN)
        .arg("--owner")
        .arg(OWNER)
        .arg("--packages")
        .arg("app")
        .arg("--keep-lastest")
        .arg("1")
        .run();
    assert_refused(&result, &fake, "keep-lastest", "--keep-lastest");

    let fake = self::fake();
    let result = Run::new(&fake)
        .env("GITHUB_TOKEN", TOKEN)
        .arg("--packages")
        .arg("app")
        .arg("--owner")
        .run();
    assert_refused(&result, &fake, "owner", "value");

    let fake = self::fake();
    let result = Run::new(&fake)
        .env("GITHUB_TOKEN", TOKEN)
        .arg("--owner")
        .arg(OWNER)
        .arg("--packages")
        .arg("app")
        .arg("--older-than")
        .arg("soon")
        .run();
    assert_refused(&result, &fake, "older-than", "soon");
}

/// A config file in a fresh directory, named by its absolute path.
fn config_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!(
        "package-retention-bad-input-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("retention.yml");
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn a_deeply_nested_config_is_refused_fast() {
    const DEPTH: usize = 200_000;
    for (name, text) in [
        (
            "sequences",
            format!("rules: {}{}\n", "[".repeat(DEPTH), "]".repeat(DEPTH)),
        ),
        (
            "maps",
            format!("rules: {}1{}\n", "{a: ".repeat(DEPTH), "}".repeat(DEPTH)),
        ),
    ] {
        assert!(text.len() < 1 << 20, "under the 1 MiB cap of a config file");
        let path = config_file(name, &text);
        let fake = fake();
        let started = std::time::Instant::now();
        let result = valid(&fake)
            .input("config", &path)
            .timeout(std::time::Duration::from_secs(30))
            .run();
        let took = started.elapsed();
        assert_refused(&result, &fake, "config", "64");
        // Today's parser took 101 s on this; the check before it takes milliseconds (a
        // generous bound for a loaded machine, not a benchmark).
        assert!(took.as_secs() < 5, "{name}: refused after {took:?}");
        let _ = std::fs::remove_dir_all(std::path::Path::new(&path).parent().unwrap());
    }
}

#[test]
fn a_registry_url_must_be_an_http_origin_with_an_optional_path() {
    refuse("registry-url", "https://ghcr.io/path?q=1#f");
    refuse("registry-url", "https://ghcr.io/path?q=1");
    refuse("registry-url", "https://ghcr.io#f");
    refuse("registry-url", "https://ghcr.io:99999");
    refuse("registry-url", "https://ghcr.io:0");
    refuse("registry-url", "ftp://ghcr.io");
}

#[test]
fn a_registry_url_with_credentials_is_refused_without_echoing_them() {
    let fake = fake();
    let result = valid(&fake)
        .input("registry-url", "https://robot:s3cr3t-pa55@ghcr.io")
        .run();
    assert_refused(&result, &fake, "registry-url", "credentials");
    let everything = format!(
        "{}{}{:?}{}",
        result.stdout, result.stderr, result.outputs, result.summary
    );
    assert!(!everything.contains("s3cr3t-pa55"), "{everything}");
    assert!(!everything.contains("robot:"), "{everything}");
}

#[test]
fn repository_entries_are_names_github_allows() {
    for value in [
        "../x",
        ".",
        "..",
        "acme/..",
        "acme/.",
        "acme/b c",
        "acme/b+c",
        "acme\\app",
    ] {
        refuse_with(
            &[("repository", value)],
            "repository",
            "is not a repository such as",
        );
    }
}

#[test]
fn version_ids_are_positive_integers_without_empty_entries() {
    for value in ["1,,2", "0", "1, ,2", ",1", "00"] {
        refuse("version-ids", value);
    }
}
