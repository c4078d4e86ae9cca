//! End-to-end: the `manifest-cache` file is verified, not trusted. Whoever can write it (a cache
//! restored from another branch, a file committed to the repository) cannot change the plan: an
//! entry is used only when the sha256 of the manifest bytes it keeps is its digest; a forged,
//! swapped or truncated entry is dropped with one warning and its manifest read again; an
//! old-format file is a full read; a file over 64 MiB is ignored unread.

mod common;

use std::path::{Path, PathBuf};

use base64::Engine;
use common::hostile::run_with_peak_rss;
use common::{Run, RunResult, OWNER, TOKEN};
use fake_github::{days, digest, FakeGithub, FaultAction, Manifest, Package, ScriptedFault, World};
use sha2::{Digest, Sha256};

const CACHE: &str = "cache/manifests";
const HEADER: &str = "package-retention manifest-cache 2";

/// The labels of [`image_world`]'s versions.
const INDEX: u64 = 1;
const PLATFORMS: [u64; 2] = [2, 3];
const ATTESTATION: u64 = 4;
const ORPHANS: [u64; 2] = [5, 6];
const LATEST: u64 = 7;

/// `v1` (kept: tagged) over two platform manifests, with an attestation (by `subject`); two old
/// untagged orphans; a recent `latest`. With `tag-selection: untagged`, the orphans go, nothing
/// else.
fn image_world() -> World {
    let mut world = World::new().org(OWNER).user("alice").token(TOKEN, "alice");
    let app = world.add_package(OWNER, "container", "app");
    for n in PLATFORMS {
        app.add_version(&digest(n), &[], days(30));
    }
    app.add_version(&digest(INDEX), &["v1"], days(30))
        .with_manifest(Manifest::index(&PLATFORMS.map(digest)));
    app.add_version(&digest(ATTESTATION), &[], days(30))
        .with_manifest(Manifest::referrer_of(&digest(INDEX)));
    for n in ORPHANS {
        app.add_version(&digest(n), &[], days(40));
    }
    app.add_version(&digest(LATEST), &["latest"], days(1));
    world
}

fn package(fake: &FakeGithub) -> Package {
    fake.world()
        .package(OWNER, "container", "app")
        .expect("package app")
        .clone()
}

/// A fresh directory standing for `GITHUB_WORKSPACE`.
/// Tests run in parallel and several of them plan the same world without a cache
/// (`deleted_without_cache`), so each call gets a folder of its own.
fn workspace(name: &str) -> PathBuf {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "package-retention-manifest-cache-{}-{name}-{call}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("cache")).unwrap();
    dir
}

fn cached_run(fake: &FakeGithub, workspace: &Path) -> Run {
    Run::new(fake)
        .input("packages", "app")
        .input("tag-selection", "untagged")
        .input("manifest-cache", CACHE)
        .env("GITHUB_WORKSPACE", workspace.to_str().unwrap())
}

/// Manifest GETs the registry answered, by the digest (or tag) asked for.
fn manifest_gets(fake: &FakeGithub) -> Vec<String> {
    let prefix = format!("/v2/{OWNER}/app/manifests/");
    let mut gets: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.registry && r.path.starts_with(&prefix))
        .map(|r| r.path[prefix.len()..].to_owned())
        .collect();
    gets.sort();
    gets
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// One cache line: the digest and the manifest bytes it keeps.
fn entry(digest: &str, bytes: &str) -> String {
    format!("{digest} {}", base64(bytes.as_bytes()))
}

/// The honest entries of every active version of `app`, by label, as the fake serves them.
fn honest_entries(fake: &FakeGithub) -> Vec<(u64, String, String)> {
    let app = package(fake);
    (1..=LATEST)
        .map(|label| {
            let digest = app.digest_of(&digest(label));
            let (_, bytes) = app.manifest_served(&digest).expect("served");
            (label, digest, bytes)
        })
        .collect()
}

fn write_cache(workspace: &Path, lines: &[String]) {
    let mut text = format!("{HEADER}\n");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    std::fs::write(workspace.join(CACHE), text).unwrap();
}

/// Every entry of the cache file proves itself: the sha256 of its bytes is its digest.
fn assert_every_entry_proves_itself(workspace: &Path) -> usize {
    let text = std::fs::read_to_string(workspace.join(CACHE)).expect("the cache is written");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(HEADER), "{text}");
    let mut count = 0;
    for line in lines {
        let (digest, encoded) = line.split_once(' ').unwrap_or_else(|| panic!("{line}"));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(sha256(&bytes), digest, "{line}");
        count += 1;
    }
    count
}

/// The labels of the deleted versions of `app` (each fake of a world has its own ids).
fn deleted_labels(fake: &FakeGithub) -> Vec<u64> {
    let app = package(fake);
    let mut labels: Vec<u64> = app
        .versions
        .iter()
        .filter(|v| v.is_deleted())
        .map(|v| {
            (1..=9)
                .find(|&n| v.label.as_deref() == Some(digest(n).as_str()))
                .expect("built from a label")
        })
        .collect();
    labels.sort_unstable();
    labels
}

/// The plan without a cache: what a run against a fresh fake of the same world deletes.
fn deleted_without_cache() -> Vec<u64> {
    let fake = FakeGithub::start(image_world());
    let dir = workspace("reference");
    let result = Run::new(&fake)
        .input("packages", "app")
        .input("tag-selection", "untagged")
        .env("GITHUB_WORKSPACE", dir.to_str().unwrap())
        .run();
    result.assert_success();
    let deleted = deleted_labels(&fake);
    assert_eq!(deleted, ORPHANS.to_vec(), "{}", result.logs());
    let _ = std::fs::remove_dir_all(&dir);
    deleted
}

/// The one `manifest-cache` warning of a run.
fn cache_warning(result: &RunResult) -> String {
    let warnings: Vec<&str> = result
        .annotations("warning")
        .into_iter()
        .filter(|w| w.contains("manifest-cache"))
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "one warning: {warnings:#?}\n{}",
        result.logs()
    );
    warnings[0].to_owned()
}

#[test]
fn an_honest_cache_spares_every_read_and_keeps_whole_manifests() {
    let fake = FakeGithub::start(image_world());
    let dir = workspace("honest");
    let first = cached_run(&fake, &dir).input("dry-run", "true").run();
    first.assert_success();
    assert_eq!(assert_every_entry_proves_itself(&dir), 7);
    let reads = manifest_gets(&fake).len();
    let second = cached_run(&fake, &dir).input("dry-run", "true").run();
    second.assert_success();
    assert_eq!(manifest_gets(&fake).len(), reads, "no manifest read again");
    assert!(
        second.annotations("warning").is_empty(),
        "{}",
        second.logs()
    );
    assert_eq!(second.output("deleted"), first.output("deleted"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn swapped_entries_are_dropped_and_read_again_and_the_plan_is_the_plan_without_a_cache() {
    let expected = deleted_without_cache();
    let fake = FakeGithub::start(image_world());
    let dir = workspace("swapped");
    let entries = honest_entries(&fake);
    // The index keeps the bytes of a platform manifest (no children) and the other way round:
    // trusted, both platform manifests of the kept `v1` would go.
    let bytes_of = |label: u64| entries.iter().find(|e| e.0 == label).unwrap().2.clone();
    let lines: Vec<String> = entries
        .iter()
        .map(|(label, digest, bytes)| match *label {
            INDEX => entry(digest, &bytes_of(PLATFORMS[0])),
            n if n == PLATFORMS[0] => entry(digest, &bytes_of(INDEX)),
            _ => entry(digest, bytes),
        })
        .collect();
    write_cache(&dir, &lines);

    let result = cached_run(&fake, &dir).run();
    result.assert_success();
    assert_eq!(deleted_labels(&fake), expected, "{}", result.logs());
    let warning = cache_warning(&result);
    assert!(warning.contains("2 entries"), "{warning}");
    let app = package(&fake);
    let mut read_again = vec![
        app.digest_of(&digest(INDEX)),
        app.digest_of(&digest(PLATFORMS[0])),
    ];
    read_again.sort();
    assert_eq!(
        manifest_gets(&fake),
        read_again,
        "only the dropped entries are read"
    );
    assert_every_entry_proves_itself(&dir);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_false_edge_is_dropped_and_deletes_nothing_more() {
    let expected = deleted_without_cache();
    let fake = FakeGithub::start(image_world());
    let dir = workspace("false-edge");
    let app = package(&fake);
    let attestation = app.digest_of(&digest(ATTESTATION));
    // An orphan claims to be an index over the kept image's attestation, and the attestation
    // claims to have no subject: trusted, the attestation would go "with its parent".
    let forged_index = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{attestation}","size":1}}]}}"#
    );
    let plain = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
    let lines: Vec<String> = honest_entries(&fake)
        .iter()
        .map(|(label, digest, bytes)| match *label {
            n if n == ORPHANS[0] => entry(digest, &forged_index),
            ATTESTATION => entry(digest, plain),
            _ => entry(digest, bytes),
        })
        .collect();
    write_cache(&dir, &lines);

    let result = cached_run(&fake, &dir).run();
    result.assert_success();
    assert_eq!(deleted_labels(&fake), expected, "{}", result.logs());
    assert!(cache_warning(&result).contains("2 entries"));
    assert_eq!(manifest_gets(&fake).len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn truncated_and_malformed_entries_are_dropped_too() {
    let expected = deleted_without_cache();
    let fake = FakeGithub::start(image_world());
    let dir = workspace("truncated");
    let mut lines: Vec<String> = honest_entries(&fake)
        .iter()
        .map(|(label, digest, bytes)| match *label {
            INDEX => entry(digest, &bytes[..bytes.len() / 2]),
            n if n == PLATFORMS[1] => format!("{digest} not-base64!"),
            _ => entry(digest, bytes),
        })
        .collect();
    lines.push("sha256:1234 AAAA".to_owned());
    write_cache(&dir, &lines);

    let result = cached_run(&fake, &dir).run();
    result.assert_success();
    assert_eq!(deleted_labels(&fake), expected, "{}", result.logs());
    assert!(cache_warning(&result).contains("3 entries"));
    assert_eq!(manifest_gets(&fake).len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_old_format_cache_is_a_warning_and_a_full_read_even_with_a_false_edge() {
    let expected = deleted_without_cache();
    let fake = FakeGithub::start(image_world());
    let dir = workspace("old-format");
    // The format before digests were proven: what each manifest references, on trust. It says
    // the kept index `v1` has no children.
    let mut text = String::from("package-retention manifest-cache 1\n");
    for (_, digest, _) in honest_entries(&fake) {
        text.push_str(&format!("{digest} m\n"));
    }
    std::fs::write(dir.join(CACHE), text).unwrap();

    let result = cached_run(&fake, &dir).run();
    result.assert_success();
    assert_eq!(deleted_labels(&fake), expected, "{}", result.logs());
    let warning = cache_warning(&result);
    assert!(warning.contains("format"), "{warning}");
    assert_eq!(manifest_gets(&fake).len(), 7, "a full read");
    assert_every_entry_proves_itself(&dir);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_forged_edge_brings_back_nothing_in_restore_mode() {
    let mut world = World::new().org(OWNER).user("alice").token(TOKEN, "alice");
    let app = world.add_package(OWNER, "container", "app");
    for n in PLATFORMS {
        app.add_version(&digest(n), &[], days(30))
            .deleted_ago(days(2));
    }
    app.add_version(&digest(INDEX), &["v1"], days(30))
        .with_manifest(Manifest::index(&PLATFORMS.map(digest)))
        .deleted_ago(days(2));
    // Deleted on purpose; nothing references it.
    app.add_version(&digest(9), &["bad"], days(30))
        .deleted_ago(days(2));
    app.add_version(&digest(LATEST), &["latest"], days(1));
    let fake = FakeGithub::start(world);
    let dir = workspace("restore");
    let app = package(&fake);
    let (index, unwanted) = (app.digest_of(&digest(INDEX)), app.digest_of(&digest(9)));
    let forged = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{unwanted}","size":1}}]}}"#
    );
    write_cache(&dir, &[entry(&index, &forged)]);

    let result = Run::new(&fake)
        .input("packages", "app")
        .input("mode", "restore")
        .input("tags", "v1")
        .input("manifest-cache", CACHE)
        .env("GITHUB_WORKSPACE", dir.to_str().unwrap())
        .run();
    result.assert_success();
    let unwanted_id = app.version_named(&unwanted).unwrap().id;
    assert!(
        package(&fake).version(unwanted_id).unwrap().is_deleted(),
        "{}",
        result.logs()
    );
    assert_eq!(
        result.output_count("restored-count"),
        3,
        "{}",
        result.logs()
    );
    assert!(cache_warning(&result).contains("1 entr"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_cache_file_over_64_mib_is_ignored_unread() {
    let expected = deleted_without_cache();
    let fake = FakeGithub::start(image_world());
    let dir = workspace("huge");
    let file = std::fs::File::create(dir.join(CACHE)).unwrap();
    file.set_len(100 << 20).unwrap(); // 100 MiB (sparse: no disk used)
    drop(file);

    let (result, peak) = run_with_peak_rss(cached_run(&fake, &dir));
    result.assert_success();
    assert_eq!(deleted_labels(&fake), expected, "{}", result.logs());
    let warning = cache_warning(&result);
    assert!(warning.contains("64 MiB"), "{warning}");
    assert!(
        peak < 48 << 20,
        "peak RSS {} MiB with a 100 MiB cache file",
        peak >> 20
    );
    eprintln!("peak RSS with a 100 MiB cache file: {} MiB", peak >> 20);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_manifest_whose_bytes_do_not_hash_to_its_digest_fails_closed() {
    let fake = FakeGithub::start(image_world());
    let app = package(&fake);
    let platform = app.digest_of(&digest(PLATFORMS[0]));
    let (media_type, other_bytes) = app
        .manifest_served(&app.digest_of(&digest(PLATFORMS[1])))
        .unwrap();
    // The registry answers the first platform manifest with the bytes of the second.
    fake.update_config(|config| {
        config.scripted.push(ScriptedFault {
            method: Some("GET".into()),
            path_contains: format!("/manifests/{platform}"),
            nth: 0,
            action: FaultAction::Respond {
                status: 200,
                headers: vec![("content-type".into(), media_type)],
                body: other_bytes,
            },
        });
    });
    let dir = workspace("mismatch");
    let result = cached_run(&fake, &dir).run();
    result.assert_success();
    assert_eq!(
        deleted_labels(&fake),
        Vec::<u64>::new(),
        "{}",
        result.logs()
    );
    let warnings = result.annotations("warning");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains(&platform) && w.contains("not the") && w.contains("asked for")),
        "{warnings:#?}"
    );
    // Only verified bytes enter the cache.
    let text = std::fs::read_to_string(dir.join(CACHE)).unwrap();
    assert!(!text.contains(&platform), "{text}");
    assert_every_entry_proves_itself(&dir);
    let _ = std::fs::remove_dir_all(&dir);
}
