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
    let world = world.sealed();
    let app = world.package("acme", "container", "team/app").unwrap();
    let (index, platform, signature) = (
        app.digest_of(&index),
        app.digest_of(&platform),
        app.digest_of(&signature),
    );
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

    let deleted = fake
        .world()
        .package("acme", "container", "team/app")
        .unwrap()
        .digest_of(&digest(4));
    for unknown in [deleted, digest(99)] {
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
    let Images { fake, platform, .. } = images(Config::default());
    fake.update_config(|config| {
        config.manifest_status = HashMap::from([(platform.clone(), 500)]);
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

/// A world with every shape of manifest naming another: an index, an index of that index, a
/// referrer by `subject` and by tag, a raw body naming a label, a ghost, a broken index.
fn content_world() -> World {
    let mut world = World::new().user("alice").org("acme").token(TOKEN, "alice");
    let app = world.add_package("acme", "container", "app");
    let index = digest(1);
    app.add_version(&index, &["v1"], days(3))
        .with_manifest(Manifest::index(&[digest(2), digest(3)]));
    app.add_version(&digest(2), &[], days(3));
    app.add_version(&digest(3), &[], days(3));
    app.add_version(
        &digest(4),
        &[&format!("sha256-{}.sig", &index[7..])],
        days(2),
    )
    .with_manifest(Manifest::referrer_of(&index));
    app.add_version(&digest(5), &[], days(2))
        .with_manifest(Manifest::raw(
            "application/vnd.oci.image.manifest.v1+json",
            &format!(r#"{{"schemaVersion":2,"subject":{{"digest":"{index}","size":1}}}}"#),
        ));
    app.add_version(&digest(6), &["all"], days(1))
        .with_manifest(Manifest::index(&[digest(1)]));
    app.add_version(&digest(7), &[], days(1))
        .with_manifest(Manifest::Ghost);
    app.add_version(&digest(8), &["broken"], days(1))
        .with_manifest(Manifest::index(&[digest(2), digest(99)]));
    world
}

/// The digests of manifests a served body names, with the sizes it gives them.
fn named_manifests(body: &serde_json::Value) -> Vec<(String, Option<u64>)> {
    let mut descriptors: Vec<&serde_json::Value> =
        body["manifests"].as_array().into_iter().flatten().collect();
    descriptors.extend(body.get("subject"));
    descriptors
        .into_iter()
        .map(|d| (d["digest"].as_str().unwrap().to_owned(), d["size"].as_u64()))
        .collect()
}

#[test]
fn every_manifest_served_hashes_to_its_digest_and_names_others_by_theirs() {
    let fake = FakeGithub::start(content_world());
    let world = fake.world();
    let app = world.package("acme", "container", "app").unwrap();
    let token = registry_token(&fake, "repository:acme/app:pull");
    let get = |reference: &str| {
        send(
            &fake,
            "GET",
            &format!("/v2/acme/app/manifests/{reference}"),
            &[("Authorization", &format!("Bearer {token}"))],
        )
    };
    let mut served = HashMap::new();
    for version in app.active_versions() {
        let reply = get(&version.name);
        if version.manifest == Some(Manifest::Ghost) {
            assert_eq!(reply.status, 404);
            assert_eq!(version.name, digest(7), "a ghost keeps its label");
            continue;
        }
        assert_eq!(reply.status, 200, "{}", version.name);
        assert_eq!(
            app.manifest_served(&version.name),
            Some((
                reply.header("content-type").unwrap().to_owned(),
                reply.body.clone()
            ))
        );
        assert_eq!(crate::sha256_digest(reply.body.as_bytes()), version.name);
        assert_eq!(
            reply.header("docker-content-digest"),
            Some(version.name.as_str())
        );
        assert_ne!(Some(&version.name), version.label.as_ref(), "renamed");
        served.insert(version.name.clone(), reply.body);
    }
    assert_eq!(served.len(), 7);
    // Every digest a body names is the hash of what the registry serves for it, and its size.
    let raw = &served[&app.digest_of(&digest(5))];
    let mut named = 0;
    for body in served.values() {
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        for (digest_named, size) in named_manifests(&json) {
            if digest_named == digest(99) {
                continue; // the broken index's missing platform keeps its label
            }
            let target = &served[&digest_named];
            assert_eq!(crate::sha256_digest(target.as_bytes()), digest_named);
            if body != raw {
                assert_eq!(size, Some(target.len() as u64), "{body}");
            }
            named += 1;
        }
    }
    assert_eq!(
        named,
        2 + 1 + 1 + 1 + 1,
        "index, referrer, raw, index of index, broken"
    );
    let index = app.digest_of(&digest(1));
    assert_eq!(app.version_named(&index).unwrap().tags, ["v1"]);
    assert_eq!(
        app.version_named(&app.digest_of(&digest(4))).unwrap().tags,
        [format!("sha256-{}.sig", &index[7..])],
        "a sha256-<hex> tag names the digest"
    );
    assert!(
        served[&app.digest_of(&digest(5))].contains(&index),
        "a raw body's label renamed"
    );
    assert!(served[&app.digest_of(&digest(8))].contains(&digest(99)));
    assert_eq!(get("all").body, served[&app.digest_of(&digest(6))]);
}

#[test]
fn sealing_is_idempotent_and_a_version_added_later_is_sealed_too() {
    let fake = FakeGithub::start(content_world());
    let before = fake.world();
    assert_eq!(before.clone().sealed(), before);
    fake.update_world(|w| {
        let app = w.package_mut("acme", "container", "app").unwrap();
        let index = app.digest_of(&digest(1));
        app.add_version(&digest(10), &[], days(0))
            .with_manifest(Manifest::referrer_of(&index));
    });
    let after = fake.world();
    let app = after.package("acme", "container", "app").unwrap();
    let added = app.digest_of(&digest(10));
    assert_ne!(added, digest(10));
    let unchanged: Vec<&str> = app.versions.iter().map(|v| v.name.as_str()).collect();
    let old = before.package("acme", "container", "app").unwrap();
    let old_names: Vec<&str> = old.versions.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(&unchanged[..old_names.len()], old_names.as_slice());
    // Same labels, same structure: same digests in another world (ids play no part).
    let again = content_world().sealed();
    assert_eq!(
        again
            .package("acme", "container", "app")
            .unwrap()
            .digest_of(&digest(1)),
        app.digest_of(&digest(1))
    );
}
