//! The interoperability suite: the binary against a real registry, the CNCF distribution
//! registry (Debian's `docker-registry` 2.8), with images pushed with real blobs (and skopeo for
//! a schema 1 image), with token authentication (a token server on the registry's origin) and
//! without. The fake GitHub lists the same versions. Ignored by `cargo test`; `bash .ci/run
//! interop` installs the registry and skopeo and runs `cargo test --test interop -- --ignored`.

mod common;
mod interop_support;

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{Run, RunResult};
use fake_github::client::send;
use interop_support::world::{Pushed, DOCKER_IMAGE, DOCKER_LIST, OCI_IMAGE, OCI_INDEX};
use interop_support::Interop;
use serde_json::Value;

/// A dry run of `package`, clean-up of everything older than a week, reading `registry_url`.
fn dry_run(interop: &Interop, package: &str, registry_url: &str) -> RunResult {
    let result = Run::new(&interop.fake)
        .input("packages", package)
        .input("older-than", "7d")
        .input("dry-run", "true")
        .input("registry-url", registry_url)
        .run();
    result.assert_success();
    result
}

/// The plan a run shows: (id, name) of each version it deletes, the kept and failed counts,
/// and its warnings.
fn plan(result: &RunResult) -> (BTreeSet<(u64, String)>, u64, u64, Vec<String>) {
    let deleted = result
        .output_json("deleted")
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| {
            (
                v["id"].as_u64().unwrap(),
                v["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let warnings = result
        .annotations("warning")
        .iter()
        .map(|w| (*w).to_owned())
        .collect();
    (
        deleted,
        result.output_count("kept-count"),
        result.output_count("failed-count"),
        warnings,
    )
}

fn names(pushed: &[&Pushed]) -> BTreeSet<String> {
    pushed.iter().map(|p| p.digest.clone()).collect()
}

/// The digest the registry at `url` (without authentication) serves for `reference`.
fn served_digest(url: &str, repository: &str, reference: &str) -> Option<String> {
    let accept = [OCI_IMAGE, OCI_INDEX, DOCKER_IMAGE, DOCKER_LIST].join(", ");
    let reply = send(
        url,
        "GET",
        &format!("/v2/{repository}/manifests/{reference}"),
        &[("Accept", &accept)],
        Duration::from_secs(10),
    )?;
    (reply.status == 200).then(|| reply.header("docker-content-digest").unwrap().to_owned())
}

#[test]
#[ignore = "needs the distribution registry and skopeo: bash .ci/run interop"]
fn the_dry_run_plan_against_the_real_registry_equals_the_fakes() {
    let interop = Interop::start();
    let expected = names(&interop.app.older_than_a_week_deletes());

    let against_fake = plan(&dry_run(&interop, "app", &interop.fake.url()));
    let deleted: BTreeSet<String> = against_fake.0.iter().map(|(_, n)| n.clone()).collect();
    assert_eq!(deleted, expected, "the fake's plan");
    assert_eq!(
        against_fake.1, 4,
        "the OCI index, its two platforms and its signature"
    );
    assert_eq!(
        (against_fake.2, against_fake.3.len()),
        (0, 0),
        "{:?}",
        against_fake.3
    );

    for registry in [&interop.open_url, &interop.guarded_url] {
        let against_real = plan(&dry_run(&interop, "app", registry));
        assert_eq!(against_real, against_fake, "against {registry}");
    }
    assert!(
        interop.tokens_issued.load(Ordering::Relaxed) > 0,
        "the guarded registry was read with tokens from its token server"
    );
    assert_eq!(interop.fake.writes(), 0, "a dry run");
}

#[test]
#[ignore = "needs the distribution registry and skopeo: bash .ci/run interop"]
fn untag_moves_the_tag_in_the_real_registry_and_leaves_the_other() {
    let interop = Interop::start();
    let single = &interop.app.single;
    let open = &interop.open_url;
    assert_eq!(
        served_digest(open, "acme/app", "pr-7").as_ref(),
        Some(&single.digest)
    );

    let result = Run::new(&interop.fake)
        .input("packages", "app")
        .input("tags", "pr-*")
        .input("untag", "true")
        .input("registry-url", &interop.guarded_url)
        .run();
    result.assert_success();
    let untagged = result.output_json("untagged");
    assert_eq!(untagged.as_array().map(Vec::len), Some(1), "{untagged}");
    assert_eq!(untagged[0]["name"], Value::from(single.digest.clone()));
    assert_eq!(untagged[0]["tags"], serde_json::json!(["pr-7"]));
    assert_eq!(result.output_count("deleted-count"), 0);
    assert_eq!(result.output_count("failed-count"), 0, "{}", result.logs());

    // In the registry: pr-7 names the throw-away manifest, v1.1.0 still the image.
    let moved = served_digest(open, "acme/app", "pr-7").expect("pr-7 still resolves");
    assert_ne!(moved, single.digest);
    // The throw-away manifest the registry took is a valid OCI 1.1 artifact.
    let throwaway = send(
        open,
        "GET",
        &format!("/v2/acme/app/manifests/{moved}"),
        &[("Accept", OCI_IMAGE)],
        Duration::from_secs(10),
    )
    .expect("the throw-away manifest")
    .json();
    assert_eq!(
        throwaway["artifactType"],
        "application/vnd.package-retention.untagged.v1"
    );
    assert_eq!(
        throwaway["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert_eq!(
        throwaway["layers"],
        serde_json::json!([throwaway["config"]])
    );
    assert_eq!(
        served_digest(open, "acme/app", "v1.1.0").as_ref(),
        Some(&single.digest)
    );
    // Through the API: the image keeps v1.1.0, the throw-away version is deleted.
    let world = interop.fake.world();
    let app = world.package("acme", "container", "app").unwrap();
    let kept = app.version_named(&single.digest).unwrap();
    assert!(!kept.is_deleted());
    assert_eq!(kept.tags, ["v1.1.0"]);
    let throwaway = app
        .version_named(&moved)
        .expect("the throw-away version was listed");
    assert!(throwaway.is_deleted(), "and deleted through the API");
}

/// An OCI error body's first code.
fn error_code(body: &str) -> String {
    serde_json::from_str::<Value>(body).map_or_else(
        |_| String::new(),
        |v| {
            v["errors"][0]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        },
    )
}

/// Each answer the fake registry models as distribution's, asked of distribution itself.
#[test]
#[ignore = "needs the distribution registry and skopeo: bash .ci/run interop"]
fn the_real_registry_answers_as_the_fake_models_it() {
    let interop = Interop::start();
    let open = interop.open_url.as_str();
    let timeout = Duration::from_secs(10);
    let ask = |method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]| {
        fake_github::client::send_body(open, method, target, headers, body, timeout)
            .expect("an answer")
    };

    // A repository it lacks: MANIFEST_UNKNOWN for every manifest, by digest or tag.
    for reference in [interop.app.single.digest.as_str(), "v1.1.0"] {
        let reply = ask(
            "GET",
            &format!("/v2/acme/nothing/manifests/{reference}"),
            &[],
            &[],
        );
        assert_eq!(
            (reply.status, error_code(&reply.body)),
            (404, "MANIFEST_UNKNOWN".into())
        );
    }

    // Uploads: an absolute Location with a query; a monolithic POST ?digest= stores nothing.
    let bytes = b"monolithic";
    let digest = fake_github::sha256_digest(bytes);
    let started = ask(
        "POST",
        &format!("/v2/acme/app/blobs/uploads/?digest={digest}"),
        &[],
        bytes,
    );
    assert_eq!(started.status, 202, "{}", started.body);
    let location = started.header("location").unwrap();
    assert!(
        location.starts_with(&format!("{open}/v2/acme/app/blobs/uploads/")),
        "{location}"
    );
    assert!(location.contains("?_state="), "{location}");
    let head = ask("HEAD", &format!("/v2/acme/app/blobs/{digest}"), &[], &[]);
    assert_eq!(head.status, 404, "the body of the POST was ignored");

    // A manifest PUT without Content-Type.
    let single = &interop.app.single;
    let without = ask(
        "PUT",
        "/v2/acme/app/manifests/again",
        &[],
        single.body.as_bytes(),
    );
    assert_eq!(
        (without.status, error_code(&without.body)),
        (400, "MANIFEST_INVALID".into())
    );

    // A push with a token that may only pull: 401, insufficient_scope.
    let guarded = interop.guarded_url.as_str();
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("x:{}", interop_support::READ_ONLY),
    );
    let token = fake_github::client::send(
        guarded,
        "GET",
        "/token?scope=repository:acme/app:pull,push&service=interop-registry",
        &[("Authorization", &format!("Basic {basic}"))],
        timeout,
    )
    .expect("a token");
    let bearer = format!("Bearer {}", token.json()["token"].as_str().unwrap());
    let refused = fake_github::client::send_body(
        guarded,
        "POST",
        "/v2/acme/app/blobs/uploads/",
        &[("Authorization", &bearer)],
        &[],
        timeout,
    )
    .unwrap();
    assert_eq!(refused.status, 401, "{}", refused.body);
    let challenge = refused.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(
        challenge.starts_with(&format!("Bearer realm=\"{guarded}/token\"")),
        "{challenge}"
    );

    // Schema 1: served as such whatever the Accept header asks for.
    let old = &interop.legacy[0];
    let served = ask(
        "GET",
        "/v2/acme/legacy/manifests/old",
        &[("Accept", OCI_IMAGE)],
        &[],
    );
    assert_eq!(served.status, 200);
    assert_eq!(served.header("content-type"), Some(old.media_type.as_str()));
    assert_eq!(
        served.header("docker-content-digest"),
        Some(old.digest.as_str())
    );
}

/// The registry does not have the repository (a mistyped `registry-url`): distribution answers
/// `MANIFEST_UNKNOWN` for every manifest. Not a package of ghosts: nothing is deleted, and a
/// warning names the registry and the package.
#[test]
#[ignore = "needs the distribution registry and skopeo: bash .ci/run interop"]
fn a_wrong_registry_url_fails_closed_with_a_warning_naming_it() {
    let interop = Interop::start();
    let result = Run::new(&interop.fake)
        .input("packages", "app")
        .input("older-than", "7d")
        .input("registry-url", &interop.empty_url)
        .run();
    result.assert_success();
    assert_eq!(result.output_count("deleted-count"), 0, "{}", result.logs());
    assert_eq!(interop.fake.writes(), 0, "nothing deleted");
    let warnings = result.annotations("warning");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains(&interop.empty_url) && w.contains("app")),
        "{warnings:?}"
    );
}

/// A Docker schema 1 image (served as such whatever the Accept header asks) is a leaf: it is
/// deleted like any image, and the package is not frozen.
#[test]
#[ignore = "needs the distribution registry and skopeo: bash .ci/run interop"]
fn a_schema_1_image_is_a_leaf() {
    let interop = Interop::start();
    let old = &interop.legacy[0];
    for registry in [&interop.open_url, &interop.guarded_url] {
        let (deleted, kept, failed, warnings) = plan(&dry_run(&interop, "legacy", registry));
        let deleted: Vec<&str> = deleted.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(deleted, [old.digest.as_str()], "against {registry}");
        assert_eq!((kept, failed), (1, 0));
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}

/// A token that may pull but not push: distribution refuses the push with 401 and
/// `error="insufficient_scope"`; the cause named is the token's push rights, not its validity.
#[test]
#[ignore = "needs the distribution registry and skopeo: bash .ci/run interop"]
fn a_push_refused_for_rights_names_the_push_rights() {
    let interop = Interop::start();
    let result = Run::new(&interop.fake)
        .input("token", interop_support::READ_ONLY)
        .input("packages", "app")
        .input("tags", "pr-*")
        .input("untag", "true")
        .input("registry-url", &interop.guarded_url)
        .run();
    result.assert_code(1);
    let failed = result.output_json("failed");
    assert_eq!(failed[0]["status"], 401, "{failed}");
    let message = failed[0]["message"].as_str().unwrap();
    assert!(message.contains("insufficient_scope"), "{message}");
    assert!(
        result.stdout.contains("packages: write"),
        "{}",
        result.stdout
    );
    assert!(
        !result.stdout.contains("invalid or expired"),
        "{}",
        result.stdout
    );
    assert_eq!(
        served_digest(&interop.open_url, "acme/app", "pr-7").as_ref(),
        Some(&interop.app.single.digest),
        "nothing moved"
    );
}
