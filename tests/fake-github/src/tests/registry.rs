//! The OCI registry routes and their token flow.

use std::collections::HashMap;

use base64::Engine;

use super::{send, Reply, TOKEN};
use crate::{days, digest, Config, FakeGithub, Manifest, World};

struct Images {
    fake: FakeGithub,
    index: String,
    platform: String,
    signature: String,
}

fn images(config: Config) -> Images {
    let mut world = World::new().user("alice").org("Acme").token(TOKEN, "alice");
    let app = world.add_package("Acme", "container", "team/app");
    let (index, platform, signature) = (digest(1), digest(2), digest(3));
    app.add_version(&index, &["latest"], days(1))
        .with_manifest(Manifest::index(std::slice::from_ref(&platform)));
    app.add_version(&platform, &[], days(1));
    app.add_version(&signature, &["sha256-abc.sig"], days(1))
        .with_manifest(Manifest::referrer_of(&index));
    app.add_version(&digest(4), &[], days(2))
        .deleted_ago(days(1));
    Images {
        fake: FakeGithub::start_with(world, config),
        index,
        platform,
        signature,
    }
}

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

fn registry_token(fake: &FakeGithub, scope: &str) -> String {
    let reply = send(
        fake,
        "GET",
        &format!("/token?scope={scope}&service=fake-registry"),
        &[("Authorization", &basic("x", TOKEN))],
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["token"], reply.json()["access_token"]);
    reply.json()["token"].as_str().unwrap().to_owned()
}

fn manifest(fake: &FakeGithub, bearer: &str, reference: &str) -> Reply {
    send(
        fake,
        "GET",
        &format!("/v2/acme/team/app/manifests/{reference}"),
        &[("Authorization", &format!("Bearer {bearer}"))],
    )
}

#[test]
fn manifests_need_a_token_for_their_scope() {
    let Images { fake, index, .. } = images(Config::default());
    let path = format!("/v2/acme/team/app/manifests/{index}");
    let challenged = send(&fake, "GET", &path, &[]);
    assert_eq!(challenged.status, 401);
    assert_eq!(
        challenged.header("www-authenticate"),
        Some(
            format!(
                "Bearer realm=\"{}/token\",service=\"fake-registry\",scope=\"repository:acme/team/app:pull\"",
                fake.url()
            )
            .as_str()
        )
    );
    let refused = send(
        &fake,
        "GET",
        "/token?scope=repository:acme/team/app:pull",
        &[("Authorization", &basic("x", "wrong"))],
    );
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json()["errors"][0]["code"], "UNAUTHORIZED");

    let other = registry_token(&fake, "repository:acme/other:pull");
    assert_eq!(manifest(&fake, &other, &index).status, 401);
    let token = registry_token(&fake, "repository:acme/team/app:pull");
    assert_eq!(manifest(&fake, &token, &index).status, 200);
}

#[test]
fn manifests_are_served_by_digest_and_tag_with_their_references() {
    let Images {
        fake,
        index,
        platform,
        signature,
    } = images(Config::default());
    let token = registry_token(&fake, "repository:acme/team/app:pull");

    let by_tag = manifest(&fake, &token, "latest");
    assert_eq!(
        by_tag.header("content-type"),
        Some("application/vnd.oci.image.index.v1+json")
    );
    assert_eq!(by_tag.header("docker-content-digest"), Some(index.as_str()));
    let body = by_tag.json();
    assert_eq!(body["manifests"][0]["digest"], platform);
    assert_eq!(body["manifests"][0]["platform"]["os"], "linux");

    let plain = manifest(&fake, &token, &platform);
    assert_eq!(
        plain.header("content-type"),
        Some("application/vnd.oci.image.manifest.v1+json")
    );
    assert!(plain.json().get("subject").is_none());
    assert!(plain.json()["layers"][0]["digest"].is_string());

    let referrer = manifest(&fake, &token, &signature).json();
    assert_eq!(referrer["subject"]["digest"], index);
    assert_eq!(
        referrer["subject"]["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );

    for unknown in [digest(4), digest(99)] {
        let missing = manifest(&fake, &token, &unknown);
        assert_eq!(missing.status, 404);
        assert_eq!(missing.json()["errors"][0]["code"], "MANIFEST_UNKNOWN");
    }

    let records = fake.requests();
    assert!(records.iter().all(|r| r.registry));
    assert_eq!(
        fake.config().rate_limit_remaining,
        Config::default().rate_limit_total
    );
    assert_eq!(fake.writes(), 0);
}

#[test]
fn manifest_status_faults_and_raw_manifests() {
    let mut faults = HashMap::new();
    faults.insert(digest(2), 500);
    let Images { fake, platform, .. } = images(Config {
        manifest_status: faults,
        ..Config::default()
    });
    fake.update_world(|w| {
        w.package_mut("acme", "container", "team/app")
            .unwrap()
            .add_version(&digest(5), &["raw"], days(1))
            .with_manifest(Manifest::raw(
                "application/vnd.docker.distribution.manifest.v2+json",
                "{\"schemaVersion\":2}",
            ));
    });
    let token = registry_token(&fake, "repository:acme/team/app:pull");
    assert_eq!(manifest(&fake, &token, &platform).status, 500);
    let raw = manifest(&fake, &token, "raw");
    assert_eq!(
        raw.header("content-type"),
        Some("application/vnd.docker.distribution.manifest.v2+json")
    );
    assert_eq!(raw.body, "{\"schemaVersion\":2}");
}

#[test]
fn a_ghost_is_listed_by_the_api_but_its_manifest_is_unknown() {
    let Images { fake, .. } = images(Config::default());
    let ghost = digest(6);
    fake.update_world(|w| {
        w.package_mut("acme", "container", "team/app")
            .unwrap()
            .add_version(&ghost, &["half-pushed"], days(1))
            .with_manifest(Manifest::Ghost);
    });
    let listed = send(
        &fake,
        "GET",
        "/orgs/Acme/packages/container/team%2Fapp/versions",
        &[("Authorization", &format!("Bearer {TOKEN}"))],
    );
    assert_eq!(listed.status, 200);
    assert!(
        listed
            .json()
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["name"] == ghost.as_str()),
        "{}",
        listed.body
    );
    let token = registry_token(&fake, "repository:acme/team/app:pull");
    for reference in [ghost.as_str(), "half-pushed"] {
        let missing = manifest(&fake, &token, reference);
        assert_eq!(missing.status, 404, "{reference}");
        assert_eq!(missing.json()["errors"][0]["code"], "MANIFEST_UNKNOWN");
    }
}

#[test]
fn a_deleted_version_is_unknown_to_the_registry_until_it_is_restored() {
    let Images { fake, platform, .. } = images(Config::default());
    let id = fake
        .world()
        .package("acme", "container", "team/app")
        .unwrap()
        .version_named(&platform)
        .unwrap()
        .id;
    let token = registry_token(&fake, "repository:acme/team/app:pull");
    let served = manifest(&fake, &token, &platform);
    assert_eq!(served.status, 200);
    let version = format!("/orgs/Acme/packages/container/team%2Fapp/versions/{id}");
    let auth = format!("Bearer {TOKEN}");
    assert_eq!(
        send(&fake, "DELETE", &version, &[("Authorization", &auth)]).status,
        204
    );
    let gone = manifest(&fake, &token, &platform);
    assert_eq!(gone.status, 404);
    assert_eq!(gone.json()["errors"][0]["code"], "MANIFEST_UNKNOWN");
    let restore = format!("{version}/restore");
    assert_eq!(
        send(&fake, "POST", &restore, &[("Authorization", &auth)]).status,
        204
    );
    let again = manifest(&fake, &token, &platform);
    assert_eq!(again.status, 200);
    assert_eq!(again.body, served.body);
}
