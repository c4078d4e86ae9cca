//! Writes the job summaries of the showcase runs (`tests/common/showcase.rs`) for
//! `.ci/render-summary.mjs`, which renders them as GitHub does (`.ci/run summary`):
//!
//! ```sh
//! SUMMARY_DIR=target/summaries cargo test --test showcase -- --ignored
//! ```

mod common;

use common::showcase::{large_run, large_world, small_run, small_world};
use fake_github::FakeGithub;

/// Where the summaries go: `SUMMARY_DIR`, else `target/summaries`.
fn summary_dir() -> std::path::PathBuf {
    std::env::var_os("SUMMARY_DIR")
        .map(Into::into)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/target/summaries").into())
}

fn write(name: &str, summary: &str) {
    let dir = summary_dir();
    std::fs::create_dir_all(&dir).expect("create the summary folder");
    let path = dir.join(format!("{name}.md"));
    std::fs::write(&path, summary).expect("write the summary");
    println!("{}: {} bytes", path.display(), summary.len());
}

#[test]
#[ignore = "writes files for .ci/run summary"]
fn write_the_summaries_of_a_small_and_a_large_run() {
    let fake = FakeGithub::start(small_world());
    let small = small_run(&fake).run();
    small.assert_success();
    assert!(small.output_count("deleted-count") > 0, "{}", small.logs());
    write("small", &small.summary);

    let fake = FakeGithub::start(large_world());
    let large = large_run(&fake).run();
    large.assert_code(1);
    assert!(large.output_count("failed-count") > 0, "{}", large.logs());
    assert!(large.output_count("deleted-count") > 0, "{}", large.logs());
    assert_ne!(large.output("untagged"), "[]", "{}", large.logs());
    write("large", &large.summary);
}
