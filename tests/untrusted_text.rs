//! End-to-end: text from a server, hostile in two more ways. A token echoed where the text is
//! cut: redacted first, so no piece of it of 8 or more characters is written anywhere. Invisible
//! and direction-changing characters in names, tags and messages: escaped (`\u{202e}`) in the
//! log and the summary, JSON-escaped (`\u202e`) in the report and the JSON outputs, so one name
//! cannot pass for another.

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use common::{Run, RunResult, OWNER};
use fake_github::{days, digest, Config, FakeGithub, FaultAction, ScriptedFault, World};
use serde_json::Value;

/// A token shaped like GitHub's: 40 characters, the last ones a checksum.
const LONG_TOKEN: &str = "ghp_Zq7Lw2Xv9Kp4Rt6Ys1Bn8Mc3Hd5Jf0Ga2Qe4";

fn workspace() -> PathBuf {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "package-retention-untrusted-{}-{}",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every text the run wrote: log, outputs, summary, report file.
fn everything_written(result: &RunResult, report: &str) -> Vec<(String, String)> {
    let mut texts = vec![
        ("stdout".to_owned(), result.stdout.clone()),
        ("stderr".to_owned(), result.stderr.clone()),
        ("summary".to_owned(), result.summary.clone()),
        ("report".to_owned(), report.to_owned()),
    ];
    for (name, value) in &result.outputs {
        texts.push((format!("output {name}"), value.clone()));
    }
    texts
}

fn failing_delete(status: u16, content_type: &str, body: String) -> ScriptedFault {
    ScriptedFault {
        method: Some("DELETE".into()),
        path_contains: "/versions/".into(),
        nth: 0,
        action: FaultAction::Respond {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body,
        },
    }
}

#[test]
fn a_token_straddling_the_cut_of_a_plain_text_error_leaves_no_piece_behind() {
    assert_eq!(LONG_TOKEN.len(), 40);
    for before in [199, 192, 190, 180, 168, 161, 150] {
        let mut world = World::new()
            .org(OWNER)
            .user("alice")
            .token(LONG_TOKEN, "alice");
        let lib = world.add_package(OWNER, "npm", "lib");
        lib.add_version("1.0.0", &[], days(40));
        lib.add_version("2.0.0", &[], days(1));
        // A proxy's plain-text 422 that echoes the request's Authorization header.
        let body = format!("{}{LONG_TOKEN} was refused", "e".repeat(before));
        let fake = FakeGithub::start_with(
            world,
            Config {
                scripted: vec![failing_delete(422, "text/plain", body)],
                ..Config::default()
            },
        );
        let dir = workspace();
        let result = Run::new(&fake)
            .input("token", LONG_TOKEN)
            .input("package-type", "npm")
            .input("packages", "lib")
            .input("keep-latest", "1")
            .input("report-file", "report.json")
            .env("GITHUB_WORKSPACE", dir.to_str().unwrap())
            .run();
        assert_eq!(result.output_count("failed-count"), 1, "{}", result.logs());
        let report = std::fs::read_to_string(dir.join("report.json")).expect("a report");
        for (place, text) in everything_written(&result, &report) {
            for piece in LONG_TOKEN.as_bytes().windows(8) {
                let piece = std::str::from_utf8(piece).unwrap();
                assert!(
                    !text.contains(piece),
                    "token at {before}: {piece:?} of the token in the {place}:\n{text}"
                );
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Characters that change how text reads without being seen.
const HIDDEN: [char; 10] = [
    '\u{200b}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202e}', '\u{2060}', '\u{2066}', '\u{2069}',
    '\u{feff}', '\u{00ad}',
];

fn assert_no_hidden_character(place: &str, text: &str) {
    if let Some(c) = text.chars().find(|c| HIDDEN.contains(c)) {
        panic!("U+{:04X} raw in the {place}:\n{text}", c as u32);
    }
}

#[test]
fn invisible_and_direction_changing_characters_are_shown_escaped() {
    let old_npm = "1.0.0-\u{202e}exe.txt";
    let old_tag = "v1\u{200b}";
    let message = "denied \u{2066}by policy\u{2069} \u{feff}";
    let mut world = World::new().org(OWNER).user("alice").token("tok", "alice");
    let lib = world.add_package(OWNER, "npm", "lib");
    lib.add_version(old_npm, &[], days(40));
    lib.add_version("2.0.0\u{200f}", &[], days(1));
    let app = world.add_package(OWNER, "container", "app");
    app.add_version(&digest(1), &[old_tag, "\u{00ad}old"], days(40));
    app.add_version(&digest(2), &["latest"], days(1));
    let fault = ScriptedFault {
        path_contains: "/container/app/versions/".into(),
        ..failing_delete(
            422,
            "application/json",
            serde_json::json!({ "message": message }).to_string(),
        )
    };
    let fake = FakeGithub::start_with(
        world,
        Config {
            scripted: vec![fault],
            ..Config::default()
        },
    );
    let dir = workspace();
    let result = Run::new(&fake)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("config", "rules:\n  - package-type: npm\n    packages: lib\n    keep-latest: 1\n  - package-type: container\n    packages: app\n    keep-latest: 1\n")
        .input("report-file", "report.json")
        .env("GITHUB_WORKSPACE", dir.to_str().unwrap())
        .run();
    assert_eq!(result.output_count("deleted-count"), 1, "{}", result.logs());
    assert_eq!(result.output_count("failed-count"), 1, "{}", result.logs());
    let report = std::fs::read_to_string(dir.join("report.json")).expect("a report");
    for (place, text) in everything_written(&result, &report) {
        assert_no_hidden_character(&place, &text);
    }
    // Shown escaped where people read.
    for (place, text) in [("log", &result.stdout), ("summary", &result.summary)] {
        for shown in ["1.0.0-\\u{202e}exe.txt", "v1\\u{200b}"] {
            assert!(text.contains(shown), "{shown} in the {place}:\n{text}");
        }
        assert!(
            text.contains("\\u{2066}by policy\\u{2069}"),
            "{place}:\n{text}"
        );
    }
    assert!(result.stdout.contains("\\u{ad}old"), "{}", result.stdout);
    // JSON-escaped in JSON, which reads back as the very name.
    let deleted: Value = serde_json::from_str(result.output("deleted")).unwrap();
    assert_eq!(deleted[0]["name"], old_npm);
    assert!(result.output("deleted").contains("\\u202e"));
    let failed: Value = serde_json::from_str(result.output("failed")).unwrap();
    assert_eq!(failed[0]["tags"][0], old_tag);
    assert!(
        failed[0]["message"]
            .as_str()
            .unwrap()
            .contains(message.trim_end()),
        "{failed}"
    );
    let report: Value = serde_json::from_str(&report).unwrap();
    let text = report.to_string();
    assert!(text.contains(old_npm) && text.contains(old_tag), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
