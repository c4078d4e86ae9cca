//! The answers the distribution registry gives where registries differ (checked against it by
//! `tests/interop.rs`), and the modes that give the other answers.

use std::time::Duration;

use base64::Engine;

use super::{send, Reply, TOKEN};
use crate::{
    days, digest, sha256_digest, Config, FakeGithub, PushRefusal, RegistryAnswers,
    RegistryRateLimit, Token, World,
};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const EMPTY: &[u8] = b"{}";

fn start(answers: RegistryAnswers) -> FakeGithub {
    let mut world = World::new()
        .user("alice")
        .org("acme")
        .token(TOKEN, "alice")
        .with_token(Token {
            can_push: false,
            ..Token::new("read-only", "alice")
        });
    let app = world.add_package("acme", "container", "app");
    app.add_version(&digest(1), &["v1"], days(3));
    let config = Config {
        registry: answers,
        ..Config::default()
    };
    FakeGithub::start_with(world, config)
}

fn bearer(fake: &FakeGithub, credential: &str, scope: &str) -> String {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("x:{credential}"));
    let reply = send(
        fake,
        "GET",
        &format!("/token?scope={scope}&service=fake-registry"),
        &[("Authorization", &format!("Basic {basic}"))],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    format!("Bearer {}", reply.json()["token"].as_str().unwrap())
}

fn request(
    fake: &FakeGithub,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    crate::client::send_body(
        &fake.url(),
        method,
        target,
        headers,
        body,
        Duration::from_secs(10),
    )
    .expect("an answer")
}

fn error_code(reply: &Reply) -> String {
    reply.json()["errors"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_repository_the_registry_lacks_answers_manifest_unknown_or_name_unknown_in_that_mode() {
    for (answers, code) in [
        (RegistryAnswers::default(), "MANIFEST_UNKNOWN"),
        (
            RegistryAnswers {
                unknown_repository_is_name_unknown: true,
                ..RegistryAnswers::default()
            },
            "NAME_UNKNOWN",
        ),
    ] {
        let fake = start(answers);
        let auth = bearer(&fake, TOKEN, "repository:acme/other:pull");
        for reference in [digest(1).as_str(), "v1"] {
            let reply = send(
                &fake,
                "GET",
                &format!("/v2/acme/other/manifests/{reference}"),
                &[("Authorization", &auth)],
            );
            assert_eq!((reply.status, error_code(&reply).as_str()), (404, code));
        }
        // A repository it has: a missing manifest is MANIFEST_UNKNOWN either way.
        let auth = bearer(&fake, TOKEN, "repository:acme/app:pull");
        let reply = send(
            &fake,
            "GET",
            &format!("/v2/acme/app/manifests/{}", digest(2)),
            &[("Authorization", &auth)],
        );
        assert_eq!(reply.status, 404);
        assert_eq!(error_code(&reply), "MANIFEST_UNKNOWN");
    }
}

/// Starts an upload and returns its `Location`.
fn start_upload(fake: &FakeGithub, auth: &str, target: &str, body: &[u8]) -> String {
    let started = request(fake, "POST", target, &[("Authorization", auth)], body);
    assert_eq!(started.status, 202, "{}", started.body);
    assert_eq!(started.body, "", "no body");
    started.header("location").unwrap().to_owned()
}

fn head_blob(fake: &FakeGithub, auth: &str, digest: &str) -> u16 {
    send(
        fake,
        "HEAD",
        &format!("/v2/acme/app/blobs/{digest}"),
        &[("Authorization", auth)],
    )
    .status
}

#[test]
fn uploads_start_at_an_absolute_location_with_a_query_and_a_monolithic_post_stores_nothing() {
    let fake = start(RegistryAnswers::default());
    let auth = bearer(&fake, TOKEN, "repository:acme/app:pull,push");
    let empty = sha256_digest(EMPTY);

    // A monolithic POST with the digest and the bytes: an upload starts, nothing is stored.
    let location = start_upload(
        &fake,
        &auth,
        &format!("/v2/acme/app/blobs/uploads/?digest={empty}"),
        EMPTY,
    );
    assert_eq!(head_blob(&fake, &auth, &empty), 404, "the body is ignored");
    let prefix = format!("{}/v2/acme/app/blobs/uploads/", fake.url());
    assert!(location.starts_with(&prefix), "{location}");
    assert!(location.contains("?_state="), "{location}");

    // The bytes go with a PUT to the location, the digest appended to its query.
    let stored = request(
        &fake,
        "PUT",
        &format!("{location}&digest={empty}"),
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/octet-stream"),
        ],
        EMPTY,
    );
    assert_eq!(stored.status, 201, "{}", stored.body);
    assert_eq!(head_blob(&fake, &auth, &empty), 200);

    // The mode of registries that answer a path without a query.
    let fake = start(RegistryAnswers {
        relative_upload_location: true,
        ..RegistryAnswers::default()
    });
    let auth = bearer(&fake, TOKEN, "repository:acme/app:pull,push");
    let location = start_upload(&fake, &auth, "/v2/acme/app/blobs/uploads/", &[]);
    assert!(
        location.starts_with("/v2/acme/app/blobs/uploads/"),
        "{location}"
    );
    assert!(!location.contains('?'), "{location}");
    let stored = request(
        &fake,
        "PUT",
        &format!("{location}?digest={empty}"),
        &[("Authorization", &auth)],
        EMPTY,
    );
    assert_eq!(stored.status, 201, "{}", stored.body);
}

fn empty_image() -> Vec<u8> {
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": sha256_digest(EMPTY),
            "size": 2,
        },
        "layers": [],
    })
    .to_string()
    .into_bytes()
}

#[test]
fn a_manifest_put_without_content_type_is_invalid() {
    let fake = start(RegistryAnswers::default());
    let auth = bearer(&fake, TOKEN, "repository:acme/app:pull,push");
    let empty = sha256_digest(EMPTY);
    let location = start_upload(&fake, &auth, "/v2/acme/app/blobs/uploads/", &[]);
    let stored = request(
        &fake,
        "PUT",
        &format!("{location}&digest={empty}"),
        &[("Authorization", &auth)],
        EMPTY,
    );
    assert_eq!(stored.status, 201);
    let before = fake.world();
    let manifest = empty_image();
    let without = request(
        &fake,
        "PUT",
        "/v2/acme/app/manifests/v2",
        &[("Authorization", &auth)],
        &manifest,
    );
    assert_eq!(without.status, 400, "{}", without.body);
    assert_eq!(error_code(&without), "MANIFEST_INVALID");
    assert_eq!(fake.world(), before, "nothing stored");
    let with = request(
        &fake,
        "PUT",
        "/v2/acme/app/manifests/v2",
        &[("Authorization", &auth), ("Content-Type", OCI_MANIFEST)],
        &manifest,
    );
    assert_eq!(with.status, 201, "{}", with.body);
}

#[test]
fn a_token_without_push_rights_is_refused_with_denied_or_insufficient_scope() {
    for refusal in [PushRefusal::Denied, PushRefusal::InsufficientScope] {
        let fake = start(RegistryAnswers {
            push_refusal: refusal,
            ..RegistryAnswers::default()
        });
        let auth = bearer(&fake, "read-only", "repository:acme/app:pull,push");
        let refused = request(
            &fake,
            "POST",
            "/v2/acme/app/blobs/uploads/",
            &[("Authorization", &auth)],
            &[],
        );
        let challenge = refused.header("www-authenticate").unwrap_or_default();
        match refusal {
            PushRefusal::Denied => {
                assert_eq!(refused.status, 403);
                assert_eq!(error_code(&refused), "DENIED");
                assert_eq!(challenge, "");
            }
            PushRefusal::InsufficientScope => {
                assert_eq!(refused.status, 401);
                assert_eq!(error_code(&refused), "UNAUTHORIZED");
                assert!(
                    challenge.starts_with(&format!("Bearer realm=\"{}/token\"", fake.url()))
                        && challenge.contains("scope=\"repository:acme/app:pull,push\"")
                        && challenge.ends_with(",error=\"insufficient_scope\""),
                    "{challenge}"
                );
            }
        }
        // Pulls still work.
        let read = send(
            &fake,
            "GET",
            "/v2/acme/app/manifests/v1",
            &[("Authorization", &auth)],
        );
        assert_eq!(read.status, 200, "{}", read.body);
    }
}

#[test]
fn over_the_registry_rate_limit_a_request_is_answered_429_with_retry_after() {
    let window = Duration::from_millis(1_500);
    let fake = start(RegistryAnswers {
        rate_limit: Some(RegistryRateLimit {
            reads: 3,
            writes: 1,
            window,
        }),
        ..RegistryAnswers::default()
    });
    // The token endpoint is not limited.
    let auth = bearer(&fake, TOKEN, "repository:acme/app:pull,push");
    let _ = bearer(&fake, TOKEN, "repository:acme/app:pull,push");
    let read = || {
        send(
            &fake,
            "GET",
            "/v2/acme/app/manifests/v1",
            &[("Authorization", &auth)],
        )
    };
    assert_eq!(read().status, 200);
    // The first read arrived before this instant: its window has ended by `window` after it.
    let first_answered = std::time::Instant::now();
    for _ in 0..2 {
        assert_eq!(read().status, 200);
    }
    let refused = read();
    assert_eq!(refused.status, 429);
    assert_eq!(error_code(&refused), "TOOMANYREQUESTS");
    let retry_after = refused.header("retry-after").unwrap_or_default();
    assert!(
        ["1", "2"].contains(&retry_after),
        "the rest of 1.5 s, in whole seconds rounded up: {retry_after}"
    );
    // Writes have their own count.
    let write = || {
        request(
            &fake,
            "POST",
            "/v2/acme/app/blobs/uploads/",
            &[("Authorization", &auth)],
            &[],
        )
    };
    assert_eq!(write().status, 202);
    assert_eq!(write().status, 429);
    assert_eq!(fake.registry_rate_limited_answers(), 2);
    // A refused request does not count: once the window has passed, reads go through again.
    std::thread::sleep(window.saturating_sub(first_answered.elapsed()) + Duration::from_millis(50));
    assert_eq!(read().status, 200);
    assert_eq!(fake.rate_limited_answers(), 0, "not an API rate limit");
}
