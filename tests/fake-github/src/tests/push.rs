//! The registry's push routes: blob uploads, manifest pushes by tag, and how they show in the
//! REST state.

use std::time::Duration;

use base64::Engine;

use super::{api, send, Reply, TOKEN};
use crate::{days, digest, sha256_digest, FakeGithub, Token, World, MSG_WRITE_DENIED};

const EMPTY: &[u8] = b"{}";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn release_world() -> (World, u64) {
    let mut world = World::new()
        .user("alice")
        .user("bob")
        .org("acme")
        .token(TOKEN, "alice")
        .with_token(Token {
            can_push: false,
            ..Token::new("read-only", "alice")
        });
    let app = world.add_package("acme", "container", "app");
    let id = app
        .add_version(&digest(1), &["pr-12", "v1.2.0"], days(3))
        .id;
    app.add_version(&digest(2), &["v1.1.0"], days(9));
    (world, id)
}

pub(super) fn push_token(fake: &FakeGithub, credential: &str, repository: &str) -> String {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("x:{credential}"));
    let reply = send(
        fake,
        "GET",
        &format!("/token?scope=repository:{repository}:pull,push&service=fake-registry"),
        &[("Authorization", &format!("Basic {basic}"))],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["token"].as_str().unwrap().to_owned()
}

pub(super) fn send_body(
    fake: &FakeGithub,
    method: &str,
    target: &str,
    bearer: &str,
    content_type: &str,
    body: &[u8],
) -> Reply {
    crate::client::send_body(
        &fake.url(),
        method,
        target,
        &[
            ("Authorization", &format!("Bearer {bearer}")),
            ("Content-Type", content_type),
        ],
        body,
        Duration::from_secs(10),
    )
    .expect("an answer")
}

pub(super) fn empty_image(note: &str) -> Vec<u8> {
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": sha256_digest(EMPTY),
            "size": 2,
        },
        "layers": [],
        "annotations": { "note": note },
    })
    .to_string()
    .into_bytes()
}

/// Uploads the empty blob monolithically: POST, then PUT with the digest.
pub(super) fn upload_empty_blob(fake: &FakeGithub, bearer: &str) {
    let started = send_body(
        fake,
        "POST",
        "/v2/acme/app/blobs/uploads/",
        bearer,
        "application/octet-stream",
        &[],
    );
    assert_eq!(started.status, 202, "{}", started.body);
    let location = started.header("location").unwrap().to_owned();
    let wrong = send_body(
        fake,
        "PUT",
        &format!("{location}&digest={}", digest(7)),
        bearer,
        "application/octet-stream",
        EMPTY,
    );
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.json()["errors"][0]["code"], "DIGEST_INVALID");
    let stored = send_body(
        fake,
        "PUT",
        &format!("{location}&digest={}", sha256_digest(EMPTY)),
        bearer,
        "application/octet-stream",
        EMPTY,
    );
    assert_eq!(stored.status, 201, "{}", stored.body);
    assert_eq!(
        stored.header("docker-content-digest"),
        Some(sha256_digest(EMPTY).as_str())
    );
}

fn head_empty_blob(fake: &FakeGithub, bearer: &str) -> u16 {
    send(
        fake,
        "HEAD",
        &format!("/v2/acme/app/blobs/{}", sha256_digest(EMPTY)),
        &[("Authorization", &format!("Bearer {bearer}"))],
    )
    .status
}

#[test]
fn a_pushed_tag_moves_to_the_version_of_the_pushed_digest() {
    let (world, original) = release_world();
    let fake = FakeGithub::start(world);
    let token = push_token(&fake, TOKEN, "acme/app");
    assert_eq!(head_empty_blob(&fake, &token), 404);
    upload_empty_blob(&fake, &token);
    assert_eq!(head_empty_blob(&fake, &token), 200);

    let manifest = empty_image("from sha256:1");
    let pushed = send_body(
        &fake,
        "PUT",
        "/v2/acme/app/manifests/pr-12",
        &token,
        OCI_MANIFEST,
        &manifest,
    );
    assert_eq!(pushed.status, 201, "{}", pushed.body);
    let pushed_digest = sha256_digest(&manifest);
    assert_eq!(
        pushed.header("docker-content-digest"),
        Some(pushed_digest.as_str())
    );

    let world = fake.world();
    let app = world.package("acme", "container", "app").unwrap();
    let kept = app.version(original).unwrap();
    assert_eq!(kept.tags, ["v1.2.0"], "the original keeps its other tag");
    assert_eq!(kept.name, app.digest_of(&digest(1)));
    let new = app.version_named(&pushed_digest).expect("a new version");
    assert_ne!(new.id, original);
    assert_eq!(new.tags, ["pr-12"]);

    // The REST listing shows it first (newest), with the tag.
    let listed = api(&fake, "GET", "/orgs/acme/packages/container/app/versions").json();
    assert_eq!(listed[0]["name"], pushed_digest);
    assert_eq!(listed[0]["metadata"]["container"]["tags"][0], "pr-12");

    // The registry serves the bytes pushed, by tag.
    let served = send(
        &fake,
        "GET",
        "/v2/acme/app/manifests/pr-12",
        &[("Authorization", &format!("Bearer {token}"))],
    );
    assert_eq!(served.body.as_bytes(), manifest.as_slice());
    assert_eq!(served.header("content-type"), Some(OCI_MANIFEST));

    // The same bytes under another tag reuse the version.
    let again = send_body(
        &fake,
        "PUT",
        "/v2/acme/app/manifests/v1.1.0",
        &token,
        OCI_MANIFEST,
        &manifest,
    );
    assert_eq!(again.status, 201);
    let world = fake.world();
    let app = world.package("acme", "container", "app").unwrap();
    assert_eq!(app.versions.len(), 3);
    assert_eq!(
        app.version_named(&pushed_digest).unwrap().tags,
        ["pr-12", "v1.1.0"]
    );
    assert!(app
        .version_named(&app.digest_of(&digest(2)))
        .unwrap()
        .tags
        .is_empty());
    assert_eq!(fake.writes(), 0, "registry writes are not API writes");
}

#[test]
fn a_manifest_is_checked_before_anything_changes() {
    let (world, _) = release_world();
    let fake = FakeGithub::start(world);
    let before = fake.world();
    let token = push_token(&fake, TOKEN, "acme/app");
    let manifest = empty_image("x");
    // The config blob was never uploaded.
    let unknown_blob = send_body(
        &fake,
        "PUT",
        "/v2/acme/app/manifests/pr-12",
        &token,
        OCI_MANIFEST,
        &manifest,
    );
    assert_eq!(unknown_blob.status, 400);
    assert_eq!(
        unknown_blob.json()["errors"][0]["code"],
        "MANIFEST_BLOB_UNKNOWN"
    );
    upload_empty_blob(&fake, &token);
    let mismatched = send_body(
        &fake,
        "PUT",
        "/v2/acme/app/manifests/pr-12",
        &token,
        "application/vnd.oci.image.index.v1+json",
        &manifest,
    );
    assert_eq!(mismatched.status, 400);
    assert_eq!(mismatched.json()["errors"][0]["code"], "MANIFEST_INVALID");
    let wrong_digest = send_body(
        &fake,
        "PUT",
        &format!("/v2/acme/app/manifests/{}", digest(9)),
        &token,
        OCI_MANIFEST,
        &manifest,
    );
    assert_eq!(wrong_digest.status, 400);
    assert_eq!(wrong_digest.json()["errors"][0]["code"], "DIGEST_INVALID");
    assert_eq!(fake.world(), before);

    let by_digest = send_body(
        &fake,
        "PUT",
        &format!("/v2/acme/app/manifests/{}", sha256_digest(&manifest)),
        &token,
        OCI_MANIFEST,
        &manifest,
    );
    assert_eq!(by_digest.status, 201);
    let world = fake.world();
    let app = world.package("acme", "container", "app").unwrap();
    let untagged = app.version_named(&sha256_digest(&manifest)).unwrap();
    assert!(untagged.tags.is_empty(), "a push by digest moves no tag");
    assert_eq!(
        app.version_named(&app.digest_of(&digest(1))).unwrap().tags,
        ["pr-12", "v1.2.0"]
    );
}

#[test]
fn a_token_without_write_rights_is_refused_every_write() {
    let (world, _) = release_world();
    let fake = FakeGithub::start(world);
    let before = fake.world();

    let challenged = send_body(
        &fake,
        "POST",
        "/v2/acme/app/blobs/uploads/",
        "not-a-token",
        "application/octet-stream",
        &[],
    );
    assert_eq!(challenged.status, 401);
    assert!(challenged
        .header("www-authenticate")
        .unwrap()
        .contains("scope=\"repository:acme/app:pull,push\""));

    let read_only = push_token(&fake, "read-only", "acme/app");
    assert_eq!(head_empty_blob(&fake, &read_only), 404, "pull is granted");
    let refused_upload = send_body(
        &fake,
        "POST",
        "/v2/acme/app/blobs/uploads/",
        &read_only,
        "application/octet-stream",
        &[],
    );
    assert_eq!(refused_upload.status, 403);
    assert_eq!(refused_upload.json()["errors"][0]["code"], "DENIED");
    assert_eq!(
        refused_upload.json()["errors"][0]["message"],
        MSG_WRITE_DENIED
    );
    let refused_manifest = send_body(
        &fake,
        "PUT",
        "/v2/acme/app/manifests/pr-12",
        &read_only,
        OCI_MANIFEST,
        &empty_image("x"),
    );
    assert_eq!(refused_manifest.status, 403);
    assert_eq!(refused_manifest.json()["errors"][0]["code"], "DENIED");

    // Another user's namespace: pull, but no push, even with every right.
    let theirs = push_token(&fake, TOKEN, "bob/app");
    let refused = send_body(
        &fake,
        "POST",
        "/v2/bob/app/blobs/uploads/",
        &theirs,
        "application/octet-stream",
        &[],
    );
    assert_eq!(refused.status, 403);
    assert_eq!(fake.world(), before);
}
