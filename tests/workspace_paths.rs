//! End-to-end: the files the action writes in the workspace (`report-file`, `manifest-cache`)
//! stay in it. A path that leads out through a symlink (a folder or the file itself) is bad
//! input, exit 2 before any request, and nothing is written outside; a symlink that stays
//! inside is followed. A report file that cannot be written is found out before any change.

mod common;

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use common::{Run, RunResult, OWNER, TOKEN};
use fake_github::{days, FakeGithub, World};

/// A fresh directory: the workspace, and beside it a folder outside the workspace.
struct Dirs {
    workspace: PathBuf,
    outside: PathBuf,
}

impl Dirs {
    fn new() -> Dirs {
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let root = std::env::temp_dir().join(format!(
            "package-retention-paths-{}-{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        let (workspace, outside) = (root.join("workspace"), root.join("elsewhere"));
        std::fs::create_dir_all(&workspace).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("keep.txt"), "precious\n").unwrap();
        Dirs { workspace, outside }
    }

    /// The files outside, with their contents: unchanged by a refused run.
    fn outside_files(&self) -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = std::fs::read_dir(&self.outside)
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                (
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    text,
                )
            })
            .collect();
        files.sort();
        files
    }
}

impl Drop for Dirs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.workspace.parent().unwrap());
    }
}

/// npm package `lib` with an old version a run would delete.
fn fake() -> FakeGithub {
    let mut world = World::new().org(OWNER).user("alice").token(TOKEN, "alice");
    let lib = world.add_package(OWNER, "npm", "lib");
    lib.add_version("1.0.0", &[], days(40));
    lib.add_version("2.0.0", &[], days(1));
    FakeGithub::start(world)
}

fn run(fake: &FakeGithub, workspace: &Path, input: &str, path: &str) -> RunResult {
    Run::new(fake)
        .input("package-type", "npm")
        .input("packages", "lib")
        .input("keep-latest", "1")
        .input(input, path)
        .env("GITHUB_WORKSPACE", workspace.to_str().unwrap())
        .run()
}

/// Exit 2, an `::error` naming the input and the path, no request at all, nothing written
/// outside the workspace.
fn assert_refused(result: &RunResult, fake: &FakeGithub, dirs: &Dirs, input: &str, path: &str) {
    let before = vec![("keep.txt".to_owned(), "precious\n".to_owned())];
    result.assert_code(2);
    let errors = result.annotations("error");
    assert!(
        errors
            .iter()
            .any(|e| e.contains(&format!("`{input}`")) && e.contains(path)),
        "an ::error naming `{input}` and {path:?}:\n{}",
        result.logs()
    );
    assert_eq!(
        fake.requests(),
        Vec::new(),
        "no request:\n{}",
        result.logs()
    );
    let mut expected = before;
    if let Ok(text) = std::fs::read_to_string(dirs.outside.join("target.json")) {
        // A file the test put outside, unchanged.
        assert_eq!(text, "{}\n");
        expected.push(("target.json".to_owned(), text));
        expected.sort();
    }
    assert_eq!(dirs.outside_files(), expected, "nothing written outside");
}

#[test]
fn a_symlinked_folder_leading_out_is_refused_for_both_files() {
    for input in ["report-file", "manifest-cache"] {
        let dirs = Dirs::new();
        symlink(&dirs.outside, dirs.workspace.join("out")).unwrap();
        let fake = fake();
        let result = run(&fake, &dirs.workspace, input, "out/file.json");
        assert_refused(&result, &fake, &dirs, input, "out/file.json");
    }
}

#[test]
fn a_symlink_deeper_in_the_path_is_refused_too() {
    let dirs = Dirs::new();
    std::fs::create_dir_all(dirs.workspace.join("a/b")).unwrap();
    symlink(&dirs.outside, dirs.workspace.join("a/b/c")).unwrap();
    let fake = fake();
    let result = run(&fake, &dirs.workspace, "report-file", "a/b/c/report.json");
    assert_refused(&result, &fake, &dirs, "report-file", "a/b/c/report.json");
}

#[test]
fn a_symlinked_file_leading_out_is_refused_existing_or_not() {
    for (input, target_exists) in [
        ("report-file", true),
        ("report-file", false),
        ("manifest-cache", true),
        ("manifest-cache", false),
    ] {
        let dirs = Dirs::new();
        let target = dirs.outside.join("target.json");
        if target_exists {
            std::fs::write(&target, "{}\n").unwrap();
        }
        symlink(&target, dirs.workspace.join("file.json")).unwrap();
        let fake = fake();
        let result = run(&fake, &dirs.workspace, input, "file.json");
        assert_refused(&result, &fake, &dirs, input, "file.json");
        assert_eq!(target.exists(), target_exists, "{input}");
    }
}

#[test]
fn a_symlink_that_stays_inside_the_workspace_is_followed() {
    let dirs = Dirs::new();
    std::fs::create_dir_all(dirs.workspace.join("reports")).unwrap();
    symlink("reports", dirs.workspace.join("latest")).unwrap();
    let fake = fake();
    let result = run(&fake, &dirs.workspace, "report-file", "latest/report.json");
    result.assert_success();
    let written = dirs.workspace.join("reports/report.json");
    let text = std::fs::read_to_string(&written).expect("the report is in the workspace");
    assert!(text.contains("\"1.0.0\""), "{text}");
    assert_eq!(result.output_count("deleted-count"), 1);
}

#[test]
fn a_report_file_that_cannot_be_written_is_refused_before_any_change() {
    // Its folder is a file; the report file is a folder.
    for (setup, path) in [
        ("a file", "notes.txt/report.json"),
        ("a folder", "report.json"),
    ] {
        let dirs = Dirs::new();
        std::fs::write(dirs.workspace.join("notes.txt"), "notes\n").unwrap();
        std::fs::create_dir_all(dirs.workspace.join("report.json")).unwrap();
        let fake = fake();
        let result = run(&fake, &dirs.workspace, "report-file", path);
        assert_refused(&result, &fake, &dirs, "report-file", path);
        assert_eq!(fake.writes(), 0, "{setup}");
        assert_eq!(
            std::fs::read_to_string(dirs.workspace.join("notes.txt")).unwrap(),
            "notes\n"
        );
    }
}
