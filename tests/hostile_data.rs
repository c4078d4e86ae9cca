//! Names, tags, versions and messages from a hostile server stay data, end to end: the log read
//! by the runner's own rules holds no command made by data, the token (and its base64 forms)
//! appears nowhere even when the server echoes it, and the summary, rendered as GitHub renders
//! it, keeps its table shapes, links only to GitHub over https, holds no HTML and an Undo YAML
//! that reads back to the true names and ids.

mod common;

use base64::Engine as _;
use common::gfm::{assert_renders_safely, render, Rendered};
use common::runner::{assert_no_command_from_data, commands};
use common::{Run, RunResult, OWNER};
use fake_github::{days, digest, Config, FakeGithub, ScriptedFault, World};

/// A token that can be searched for.
const SECRET: &str = "ghp_S3cretTokenValue0123456789abcdef";

/// What every hostile string carries right where an injected command would begin.
const MARKER: &str = "INJECTED";

/// Data shaped to break out of a log line, a command, a table cell or a Markdown paragraph.
fn hostile(n: usize) -> String {
    let forms = [
        "x\n::warning::INJECTED-lf",
        "x\r::add-mask::INJECTED-cr",
        "x\r\n::error title=INJECTED::INJECTED-crlf",
        "x%0A::warning::INJECTED-percent",
        "x ##[error]INJECTED-legacy",
        "x\n::stop-commands::INJECTED\n::warning::INJECTED-stop",
        "x | cell | INJECTED-pipe",
        "x `code` ``` INJECTED-ticks",
        "<img src=x onerror=alert(1)><script>INJECTED</script>",
        "[INJECTED-link](https://evil.example/x) https://evil.example/bare www.evil.example",
        "x\n\n# INJECTED-heading\n- list",
        "x&lt;b&gt;INJECTED-entity &#60;i&#62;",
        "x` <b>INJECTED-after-tick</b> [a](https://evil.example/t) `",
        "x`` <i>INJECTED-after-ticks</i> ``",
    ];
    forms[n % forms.len()].to_owned()
}

const FORMS: usize = 14;

/// Organization `acme` whose token is [`SECRET`]: npm package `lib` with a version named by
/// each hostile form (and a clean newest one), container package `app` with an image tagged by
/// each hostile form (and a clean newest one).
fn world() -> World {
    let mut world = World::new().org(OWNER).user("alice").token(SECRET, "alice");
    let lib = world.add_package(OWNER, "npm", "lib");
    for n in 0..FORMS {
        lib.add_version(&format!("1.0.{n}-{}", hostile(n)), &[], days(40 - n as u64));
    }
    lib.add_version("2.0.0", &[], days(1));
    let app = world.add_package(OWNER, "container", "app");
    for n in 0..FORMS {
        let tag = hostile(n);
        app.add_version(&digest(100 + n as u64), &[&tag], days(40 - n as u64));
    }
    app.add_version(&digest(999), &["latest"], days(1));
    world
}

fn run(fake: &FakeGithub, package_type: &str, package: &str) -> Run {
    Run::new(fake)
        .input("token", SECRET)
        .input("owner-type", "org")
        .input("package-type", package_type)
        .input("packages", package)
        .input("keep-latest", "1")
        .env("GITHUB_SERVER_URL", "https://github.com")
}

/// Every form of the token the action sends: itself, and base64 of `user:token` for Basic.
fn secret_forms() -> Vec<String> {
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    vec![
        SECRET.to_owned(),
        b64(SECRET),
        b64(&format!("package-retention:{SECRET}")),
        b64(&format!("x-access-token:{SECRET}")),
    ]
}

/// Everything the run printed or wrote.
fn everything(result: &RunResult) -> String {
    let mut all = format!("{}\n{}\n{}\n", result.stdout, result.stderr, result.summary);
    for (name, value) in &result.outputs {
        all.push_str(&format!("{name}={value}\n"));
    }
    all
}

fn assert_no_secret(result: &RunResult) {
    let all = everything(result);
    for form in secret_forms() {
        assert!(!all.contains(&form), "the token ({form}) was shown:\n{all}");
    }
}

/// Every table keeps its columns: in the columns the action fills itself (ids, counts, ages,
/// statuses, links, causes) a data row holds what they hold, never data pushed over from a
/// neighbouring cell; and a data row's hostile text stays in one cell.
fn assert_tables_keep_their_columns(rendered: &Rendered, summary: &str) {
    for table in &rendered.tables {
        let header = &table.rows[0];
        for row in &table.rows[1..] {
            for (column, cell) in header.iter().zip(row) {
                let numeric = || !cell.is_empty() && cell.chars().all(|c| c.is_ascii_digit());
                let fits = match column.as_str() {
                    "id" | "status" => numeric(),
                    "age" => cell.ends_with(['m', 'h', 'd']),
                    "link" => cell == "view" || cell.is_empty(),
                    "package" => cell
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c)),
                    _ => true,
                };
                assert!(
                    fits,
                    "column {column:?} holds {cell:?} in {row:?}\n{summary}"
                );
            }
            let hostile_cells = row.iter().filter(|cell| cell.contains(MARKER)).count();
            assert!(
                hostile_cells <= 2,
                "data spread over cells: {row:?}\n{summary}"
            );
        }
    }
}

/// The Undo block parses back to exactly the restore step: the true owner, package and ids, and
/// no key a name could add.
fn assert_undo_reads_back(result: &RunResult, rendered: &Rendered, package: &str, kind: &str) {
    let yaml: Vec<&String> = rendered
        .code_blocks
        .iter()
        .filter(|(info, _)| info == "yaml")
        .map(|(_, text)| text)
        .collect();
    assert_eq!(yaml.len(), 1, "{}", result.summary);
    let steps: serde_yaml::Value = serde_yaml::from_str(yaml[0]).expect("the Undo block is YAML");
    let step = steps[0].as_mapping().expect("one step");
    let keys: Vec<&str> = step.keys().filter_map(|k| k.as_str()).collect();
    assert_eq!(keys, ["name", "uses", "with"], "{}", result.summary);
    let with = steps[0]["with"].as_mapping().expect("with:");
    let text = |key: &str| match &with[key] {
        serde_yaml::Value::String(text) => text.clone(),
        serde_yaml::Value::Number(number) => number.to_string(),
        other => panic!("{key}: {other:?}"),
    };
    let keys: Vec<&str> = with.keys().filter_map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "mode",
            "owner",
            "owner-type",
            "package-type",
            "packages",
            "version-ids"
        ]
    );
    assert_eq!(text("mode"), "restore");
    assert_eq!(text("owner"), OWNER);
    assert_eq!(text("package-type"), kind);
    assert_eq!(text("packages"), package);
    // At most 10 ids a line (`version-ids: |`), the same ids as the output.
    let ids = |list: &str| -> Vec<String> {
        list.split([',', '\n'])
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_string)
            .collect()
    };
    assert_eq!(ids(&text("version-ids")), ids(result.output("version-ids")));
    assert!(text("version-ids")
        .lines()
        .all(|l| l.split(',').count() <= 10));
}

/// The log and the summary of a run hold no command, link, cell, HTML or secret from data.
fn assert_stays_data(result: &RunResult) -> Rendered {
    assert_no_command_from_data(&result.stdout, MARKER);
    assert_no_command_from_data(&result.stderr, MARKER);
    assert_no_secret(result);
    let rendered = assert_renders_safely(&result.summary, "https://github.com");
    assert_tables_keep_their_columns(&rendered, &result.summary);
    rendered
}

#[test]
fn the_runner_rules_parser_reads_lines_as_the_runner_does() {
    let log = "plain\n::warning::one\r::add-mask::two\n  ::error title=t::three\nx ##[error]four\n::stop-commands::abc\n::error::hidden\n::ABC::\n::group::five";
    let names: Vec<String> = commands(log).into_iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "warning",
            "add-mask",
            "error",
            "##[error]",
            "stop-commands",
            "group"
        ]
    );
    let injected = std::panic::catch_unwind(|| {
        assert_no_command_from_data("ok\nx\n::warning::INJECTED\n", MARKER)
    });
    assert!(injected.is_err(), "a command made by data must be found");
}

#[test]
fn the_gfm_checks_see_what_a_reader_sees() {
    let page = "| a | b |\n|---|---|\n| 1 | 2 | 3 |\n\n[x](https://evil.example) <b>x</b>\n";
    let rendered = render(page);
    assert_eq!(rendered.tables[0].columns, 2);
    assert_eq!(rendered.links, ["https://evil.example"]);
    assert_eq!(rendered.html, ["<b>", "</b>"]);
    assert!(
        std::panic::catch_unwind(|| assert_renders_safely(page, "https://github.com")).is_err()
    );
}

#[test]
fn hostile_versions_and_tags_stay_data_in_the_log_the_outputs_and_the_summary() {
    let fake = FakeGithub::start(world());
    for (kind, package) in [("npm", "lib"), ("container", "app")] {
        let result = run(&fake, kind, package).run();
        result.assert_success();
        assert_eq!(result.output_count("deleted-count"), FORMS as u64);
        let rendered = assert_stays_data(&result);
        assert_undo_reads_back(&result, &rendered, package, kind);
        // The package table and the list of versions deleted (the folds of reasons and storage
        // have tables of their own).
        let rows: usize = rendered
            .tables
            .iter()
            .filter(|t| ["active before", "id"].contains(&t.rows[0][1].as_str()))
            .map(|t| t.rows.len() - 1)
            .sum();
        assert_eq!(rows, 1 + FORMS, "a row per package and per version deleted");
    }
}

#[test]
fn server_messages_and_echoed_tokens_stay_data_and_hidden() {
    // The first deletions answer a hostile message each; the last ones echo the credentials.
    let mut scripted: Vec<ScriptedFault> = (0..FORMS - 2)
        .map(|n| ScriptedFault::respond(Some("DELETE"), "/versions/", n + 1, 422, &hostile(n)))
        .collect();
    scripted.push(ScriptedFault::echo_authorization(
        Some("DELETE"),
        "/versions/",
        0,
        401,
        "Bad credentials for {authorization}\n::warning::INJECTED-echo",
    ));
    let fake = FakeGithub::start_with(
        world(),
        Config {
            scripted,
            ..Config::default()
        },
    );
    let result = run(&fake, "npm", "lib").run();
    assert_eq!(result.code, 1, "{}", result.logs());
    assert_eq!(result.output_count("failed-count"), FORMS as u64);
    let echoed = result
        .output("failed")
        .matches("Bad credentials for")
        .count();
    assert_eq!(echoed, 2, "{}", result.output("failed"));
    assert_stays_data(&result);
}

#[test]
fn a_registry_that_echoes_the_basic_credentials_never_shows_them() {
    let fake = FakeGithub::start_with(
        world(),
        Config {
            scripted: vec![ScriptedFault::echo_authorization(
                Some("GET"),
                "/token",
                0,
                401,
                "denied: {authorization}\r::add-mask::INJECTED-registry",
            )],
            ..Config::default()
        },
    );
    let result = run(&fake, "container", "app").run();
    result.assert_success();
    assert_eq!(fake.writes(), 0);
    assert!(result.stdout.contains("denied"), "{}", result.logs());
    assert_stays_data(&result);
}

#[test]
fn package_names_yaml_would_misread_read_back_as_themselves_in_the_undo_block() {
    // Valid GitHub names that a bare YAML scalar would turn into a number, a null or a boolean.
    let names = ["1.10", "null", "no", "0x1F"];
    let mut world = World::new().org(OWNER).user("alice").token(SECRET, "alice");
    for name in names {
        let package = world.add_package(OWNER, "npm", name);
        package.add_version("1.0.0", &[], days(3));
        package.add_version("2.0.0", &[], days(1));
    }
    let fake = FakeGithub::start(world);
    for name in names {
        let result = run(&fake, "npm", name).run();

        result.assert_success();
        assert_eq!(result.output_count("deleted-count"), 1);
        let rendered = assert_stays_data(&result);
        assert_undo_reads_back(&result, &rendered, name, "npm");
    }
}
