//! Two runs whose job summaries the README shows and `.ci/run summary` renders as GitHub does:
//! a small one (one package, a few versions) and a large one (several packages over two years,
//! multi-platform images, failures, `untag`, a package the run leaves unchanged).
//!
//! `tests/showcase.rs` writes their summaries; `tests/summary.rs` checks their structure.

use fake_github::{days, digest, FakeGithub, Manifest, World};

use super::{Run, OWNER, TOKEN};

/// Labels of digests: a different range per package, so no two versions share one.
const APP: u64 = 1_000;
const WEB: u64 = 2_000;
const API: u64 = 3_000;
const WORKER: u64 = 4_000;

/// A world with the run's owner and token.
fn base() -> World {
    World::new().org(OWNER).user("alice").token(TOKEN, "alice")
}

/// One container package `app`, eight images a week apart: the run deletes those older than
/// 30 days but the newest two.
pub fn small_world() -> World {
    let mut world = base();
    let app = world.add_package(OWNER, "container", "app");
    for i in 0..8u64 {
        let tag = format!("v1.{i}.0");
        app.add_version(&digest(APP + i), &[&tag], days(70 - i * 7))
            .with_manifest(Manifest::image());
    }
    world
}

/// The small run: `app`, older than 30 days, keep the latest 2.
pub fn small_run(fake: &FakeGithub) -> Run {
    Run::new(fake)
        .input("packages", "app")
        .input("older-than", "30d")
        .input("keep-latest", "2")
}

/// Four container packages:
/// - `web`: a multi-platform release (an index and two platform images) every three weeks for
///   two years, tagged `v1.N.0`, the recent ones also `pr-N`; and a `pr-N`-only preview image
///   between releases. The run deletes the previews older than 14 days and removes `pr-*`
///   from releases (`untag`), keeping every `v*` tag.
/// - `api`: public, an image a week for a year, some pulled more than 5,000 times (GitHub
///   refuses to delete those): the run deletes those older than 90 days but the latest 5.
/// - `worker`: ten images, none tagged `nightly-*`: the run changes nothing there.
/// - `cache`: untagged build caches, all deleted but the newest.
pub fn large_world() -> World {
    let mut world = base();
    let web = world.add_package(OWNER, "container", "web");
    for n in 0..35u64 {
        let age = 735 - n * 21;
        let index = WEB + n * 10;
        let (amd64, arm64) = (index + 1, index + 2);
        web.add_version(&digest(amd64), &[], days(age))
            .with_manifest(Manifest::image());
        web.add_version(&digest(arm64), &[], days(age))
            .with_manifest(Manifest::image());
        let release = format!("v1.{n}.0");
        let pr = format!("pr-{}", 100 + n);
        let tags: Vec<&str> = if n >= 25 {
            vec![&release, &pr]
        } else {
            vec![&release]
        };
        web.add_version(&digest(index), &tags, days(age))
            .with_manifest(Manifest::index(&[digest(amd64), digest(arm64)]));
        let preview = format!("pr-{}", 200 + n);
        web.add_version(
            &digest(index + 3),
            &[&preview],
            days(age.saturating_sub(10)),
        )
        .with_manifest(Manifest::image());
    }
    let api = world.add_package(OWNER, "container", "api").public();
    for n in 0..52u64 {
        let tag = format!("2.{n}.0");
        let version = api
            .add_version(&digest(API + n), &[&tag], days(364 - n * 7))
            .with_manifest(Manifest::image());
        if n % 9 == 4 {
            version.with_downloads(12_000);
        }
    }
    let worker = world.add_package(OWNER, "container", "worker");
    for n in 0..10u64 {
        let tag = format!("build-{n}");
        worker
            .add_version(&digest(WORKER + n), &[&tag], days(300 - n * 30))
            .with_manifest(Manifest::image());
    }
    let cache = world.add_package(OWNER, "container", "cache");
    for n in 0..12u64 {
        cache
            .add_version(&digest(WORKER + 100 + n), &[], days(40 - n * 3))
            .with_manifest(Manifest::image());
    }
    world
}

/// The rules of the large run (one `config`).
pub const LARGE_CONFIG: &str = "\
rules:
  - packages: web
    tags: pr-*
    exclude-tags: v*
    untag: true
    older-than: 14d
  - packages: api
    older-than: 90d
    keep-latest: 5
  - packages: worker
    tags: nightly-*
  - packages: cache
    tag-selection: untagged
";

/// The large run: [`LARGE_CONFIG`] over [`large_world`]; it fails (some `api` versions cannot
/// be deleted), so it exits 1.
pub fn large_run(fake: &FakeGithub) -> Run {
    Run::new(fake)
        .env("PACKAGE_RETENTION_POINTS_PER_MINUTE", "100000000")
        .input("packages", "web, api, worker, cache")
        .input("config", LARGE_CONFIG)
}
