//! End-to-end: text from a server, hostile in one more way. A token echoed where the text is
//! cut: redacted first, so no piece of it of 8 or more characters is written anywhere.

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use common::{Run, RunResult, OWNER};
use fake_github::{days, Config, FakeGithub, FaultAction, ScriptedFault, World};

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
