//! One source of truth for the action's interface: `action.yml` (parsed with `serde_yaml`)
//! against what the binary reads and writes, and against the README's tables.
//!
//! How the binary's inputs are read: integration tests cannot import a binary crate's
//! modules, so the catalogue of inputs (`src/settings/catalogue.rs`: name, default, kind and
//! scope of every input the binary reads; the binary reads `INPUT_*` variables, accepts
//! `--<name>` flags and `config` keys only through it) is compiled into this test from the
//! source itself: always the source being tested, with no parser, binary or help text in
//! between. The binary's behaviour is checked as well: it must accept `--<name>` for every
//! declared input and refuse an undeclared one, and `--help` must name every input.
//!
//! The outputs the binary writes are taken from a real run: offline, on
//! `examples/versions.json`, with `GITHUB_OUTPUT` set (every output is written on every run).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{parse_github_output, BINARY};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The binary's catalogue of inputs, compiled from its source.
#[path = "../src/settings/catalogue.rs"]
#[allow(dead_code)]
mod catalogue;

// ------------------------------------------------------------------------------- sources

/// The catalogue's inputs: (name, default), in order.
fn binary_inputs() -> Vec<(String, String)> {
    catalogue::INPUTS
        .iter()
        .map(|input| (input.name.to_owned(), input.default.to_owned()))
        .collect()
}

struct ActionInput {
    /// `None` when `action.yml` gives no default.
    default: Option<String>,
    required: bool,
}

fn action_yml() -> serde_yaml::Value {
    let text = std::fs::read_to_string(Path::new(ROOT).join("action.yml")).expect("action.yml");
    serde_yaml::from_str(&text).expect("action.yml is YAML")
}

fn scalar(value: &serde_yaml::Value) -> String {
    match value {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Number(n) => n.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

fn action_inputs() -> BTreeMap<String, ActionInput> {
    let yml = action_yml();
    yml["inputs"]
        .as_mapping()
        .expect("action.yml has inputs")
        .iter()
        .map(|(name, spec)| {
            let name = scalar(name);
            let required = match spec.get("required") {
                None => false,
                Some(serde_yaml::Value::Bool(b)) => *b,
                Some(other) => panic!("input {name}: required is not a boolean: {other:?}"),
            };
            (
                name,
                ActionInput {
                    default: spec.get("default").map(scalar),
                    required,
                },
            )
        })
        .collect()
}

fn action_outputs() -> BTreeSet<String> {
    action_yml()["outputs"]
        .as_mapping()
        .expect("action.yml has outputs")
        .keys()
        .map(scalar)
        .collect()
}

/// The rows of the README table whose header row is `header`, as cells (backticks kept).
fn readme_table(readme: &str, header: &str) -> Vec<Vec<String>> {
    let mut lines = readme.lines().skip_while(|line| line.trim() != header);
    assert!(
        lines.next().is_some(),
        "README.md has no table headed {header}"
    );
    let separator = lines.next().unwrap_or_default();
    assert!(separator.starts_with("|---"), "{header}: no separator row");
    lines
        .take_while(|line| line.trim_start().starts_with('|'))
        .map(split_row)
        .collect()
}

/// The cells of a Markdown table row; `\|` is a pipe inside a cell.
fn split_row(line: &str) -> Vec<String> {
    let line = line.trim();
    let inner = line
        .strip_prefix('|')
        .and_then(|l| l.strip_suffix('|'))
        .unwrap_or(line);
    let mut cells = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().unwrap().push('|');
                chars.next();
            }
            '|' => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    cells.iter().map(|c| c.trim().to_owned()).collect()
}

/// `` `name` `` → `name`; a cell that is not one code span is returned as it is.
fn code(cell: &str) -> String {
    cell.strip_prefix('`')
        .and_then(|c| c.strip_suffix('`'))
        .filter(|c| !c.contains('`'))
        .unwrap_or(cell)
        .to_owned()
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README.md")
}

fn run_binary(args: &[&str], output_file: Option<&Path>) -> Output {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(ROOT)
        // A `--report-file` given by a test lands in the temporary directory, not the checkout.
        .env("GITHUB_WORKSPACE", std::env::temp_dir())
        .stdin(Stdio::null());
    if let Some(file) = output_file {
        command.env("GITHUB_OUTPUT", file);
    }
    command.output().expect("run package-retention")
}

fn differences<T: Ord + std::fmt::Debug + Clone>(
    what: &str,
    left_name: &str,
    left: &BTreeSet<T>,
    right_name: &str,
    right: &BTreeSet<T>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for item in left.difference(right) {
        problems.push(format!(
            "{what} {item:?}: in {left_name}, not in {right_name}"
        ));
    }
    for item in right.difference(left) {
        problems.push(format!(
            "{what} {item:?}: in {right_name}, not in {left_name}"
        ));
    }
    problems
}

fn assert_none(problems: Vec<String>) {
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

// ------------------------------------------------------------------------------- the checks

#[test]
fn readme_rows_split_on_unescaped_pipes() {
    assert_eq!(
        split_row(r"| `a` | `x \|\| y` | z |"),
        ["`a`", "`x || y`", "z"]
    );
}

#[test]
fn action_yml_declares_exactly_the_inputs_the_binary_reads_with_the_same_defaults() {
    let binary = binary_inputs();
    let declared = action_inputs();
    let binary_names: BTreeSet<String> = binary.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(
        binary_names.len(),
        binary.len(),
        "INPUTS names an input twice"
    );
    let declared_names: BTreeSet<String> = declared.keys().cloned().collect();
    let mut problems = differences(
        "input",
        "src/settings/catalogue.rs",
        &binary_names,
        "action.yml",
        &declared_names,
    );
    for (name, default) in &binary {
        let Some(input) = declared.get(name) else {
            continue;
        };
        let declared_default = input.default.clone().unwrap_or_default();
        if &declared_default != default {
            problems.push(format!(
                "input {name:?}: default {declared_default:?} in action.yml, {default:?} in src/settings/catalogue.rs"
            ));
        }
        if input.required && input.default.is_some() {
            problems.push(format!("input {name:?}: required but has a default"));
        }
    }
    assert_none(problems);
}

#[test]
fn the_binary_accepts_a_flag_for_every_declared_input_and_refuses_others() {
    let versions = format!("{ROOT}/examples/versions.json");
    let mut problems = Vec::new();
    let mut names: Vec<String> = action_inputs().into_keys().collect();
    names.push("no-such-input".into());
    for name in &names {
        let flag = format!("--{name}");
        let output = run_binary(
            &[
                "--versions-file",
                &versions,
                "--packages",
                "my-lib",
                &flag,
                "x",
            ],
            None,
        );
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        let refused = text.contains("unknown flag");
        if refused != (name == "no-such-input") {
            problems.push(format!(
                "--{name}: {} ({:?})\n{text}",
                if refused { "refused" } else { "accepted" },
                output.status.code()
            ));
        }
    }
    assert_none(problems);
}

#[test]
fn help_names_every_input() {
    let output = run_binary(&["--help"], None);
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    let listed = help
        .split_once("Inputs:")
        .expect("--help has an Inputs: list")
        .1;
    let listed = listed.split_once("Exit codes").map_or(listed, |(l, _)| l);
    let listed: BTreeSet<String> = listed.split_whitespace().map(str::to_owned).collect();
    let declared: BTreeSet<String> = action_inputs().into_keys().collect();
    assert_none(differences(
        "input",
        "--help",
        &listed,
        "action.yml",
        &declared,
    ));
}

#[test]
fn readme_inputs_table_matches_action_yml() {
    let declared = action_inputs();
    let rows = readme_table(&readme(), "| input | default | meaning |");
    let mut problems = Vec::new();
    let mut documented = BTreeSet::new();
    for row in &rows {
        let [name, default, meaning] = row.as_slice() else {
            problems.push(format!(
                "README inputs row with {} cells: {row:?}",
                row.len()
            ));
            continue;
        };
        let name = code(name);
        if !documented.insert(name.clone()) {
            problems.push(format!("input {name:?} is in the README table twice"));
        }
        let Some(input) = declared.get(&name) else {
            continue;
        };
        let want = input.default.clone().unwrap_or_default();
        if code(default) != want {
            problems.push(format!(
                "input {name:?}: README default {default:?}, action.yml {want:?}"
            ));
        }
        if input.required && !meaning.to_lowercase().contains("required") {
            problems.push(format!(
                "input {name:?} is required in action.yml; the README should say so"
            ));
        }
    }
    let declared_names: BTreeSet<String> = declared.keys().cloned().collect();
    problems.extend(differences(
        "input",
        "README.md",
        &documented,
        "action.yml",
        &declared_names,
    ));
    assert_none(problems);
}

#[test]
fn readme_outputs_table_matches_action_yml() {
    let rows = readme_table(&readme(), "| output | meaning |");
    let mut problems = Vec::new();
    let mut documented = BTreeSet::new();
    for row in &rows {
        match row.as_slice() {
            [name, meaning] if !meaning.is_empty() => {
                if !documented.insert(code(name)) {
                    problems.push(format!("output {name} is in the README table twice"));
                }
            }
            _ => problems.push(format!("README outputs row: {row:?}")),
        }
    }
    problems.extend(differences(
        "output",
        "README.md",
        &documented,
        "action.yml",
        &action_outputs(),
    ));
    assert_none(problems);
}

#[test]
fn action_yml_declares_exactly_the_outputs_the_binary_writes() {
    let dir = std::env::temp_dir().join(format!(
        "package-retention-consistency-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let output_file = dir.join("github_output");
    std::fs::write(&output_file, "").expect("GITHUB_OUTPUT");
    let versions = format!("{ROOT}/examples/versions.json");
    let output = run_binary(
        &[
            "--versions-file",
            &versions,
            "--package-type",
            "npm",
            "--packages",
            "my-lib",
            "--keep-latest",
            "2",
        ],
        Some(&output_file),
    );
    let written = std::fs::read_to_string(&output_file).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        output.status.success(),
        "the offline run failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let outputs = parse_github_output(&written);
    let written: BTreeSet<String> = outputs.keys().cloned().collect();
    assert!(
        outputs["deleted-count"].parse::<u64>().unwrap_or(0) > 0,
        "the example run should plan deletions: {outputs:?}"
    );
    assert_none(differences(
        "output",
        "the binary's GITHUB_OUTPUT",
        &written,
        "action.yml",
        &action_outputs(),
    ));
}
