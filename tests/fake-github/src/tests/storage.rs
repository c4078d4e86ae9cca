//! Images with layers of given sizes, shared between images, and the package's storage.

use super::{send, TOKEN};
use crate::{blob, days, digest, FakeGithub, Manifest, World};

const MIB: u64 = 1024 * 1024;

/// `app`: `v1` and `v2` on one base layer, each with its own config and layer, and a
/// multi-platform `v3` whose platform image shares that base too.
fn layered() -> World {
    let mut world = World::new().user("alice").org("acme").token(TOKEN, "alice");
    let app = world.add_package("acme", "container", "app");
    let base = blob("base", 50 * MIB);
    app.add_version(&digest(1), &["v1"], days(3))
        .with_manifest(Manifest::image_with(
            blob("config 1", 1_000),
            &[base.clone(), blob("own 1", 10 * MIB)],
        ));
    app.add_version(&digest(2), &["v2"], days(2))
        .with_manifest(Manifest::image_with(
            blob("config 2", 2_000),
            &[base.clone(), blob("own 2", 20 * MIB)],
        ));
    app.add_version(&digest(4), &[], days(1))
        .with_manifest(Manifest::image_with(blob("config 4", 4_000), &[base]));
    app.add_version(&digest(3), &["v3"], days(1))
        .with_manifest(Manifest::index(&[digest(4)]));
    world
}

fn served(fake: &FakeGithub, reference: &str) -> serde_json::Value {
    let token = send(
        fake,
        "GET",
        "/token?scope=repository:acme/app:pull&service=fake-registry",
        &[("Authorization", "Basic eDp0b2s=")],
    )
    .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = send(
        fake,
        "GET",
        &format!("/v2/acme/app/manifests/{reference}"),
        &[("Authorization", &format!("Bearer {token}"))],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

fn blobs_of(body: &serde_json::Value) -> Vec<(String, u64)> {
    std::iter::once(&body["config"])
        .chain(body["layers"].as_array().unwrap())
        .map(|d| {
            (
                d["digest"].as_str().unwrap().to_owned(),
                d["size"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn an_image_names_its_config_and_layers_with_their_sizes_and_shares_a_base_by_digest() {
    let fake = FakeGithub::start(layered());
    let v1 = served(&fake, "v1");
    let v2 = served(&fake, "v2");
    assert_eq!(
        v1["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    assert_eq!(
        v1["layers"][0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    let base = blob("base", 50 * MIB);
    assert_eq!(
        blobs_of(&v1),
        [
            (blob("config 1", 0).digest, 1_000),
            (base.digest.clone(), 50 * MIB),
            (blob("own 1", 0).digest, 10 * MIB)
        ]
    );
    assert_eq!(blobs_of(&v2)[1], (base.digest.clone(), 50 * MIB));
    assert_ne!(blobs_of(&v1)[2], blobs_of(&v2)[2]);
    // The index names its platform image, which names the base.
    let index = served(&fake, "v3");
    let platform = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    assert_eq!(blobs_of(&served(&fake, &platform))[1].0, base.digest);
}

#[test]
fn a_plain_image_has_a_config_and_a_layer_of_its_own() {
    let mut world = World::new().user("alice").org("acme").token(TOKEN, "alice");
    let app = world.add_package("acme", "container", "app");
    app.add_version(&digest(1), &["a"], days(1));
    app.add_version(&digest(2), &["b"], days(1))
        .with_manifest(Manifest::image());
    let fake = FakeGithub::start(world);
    let (a, b) = (blobs_of(&served(&fake, "a")), blobs_of(&served(&fake, "b")));
    assert_eq!(
        a.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
        [1469, 3_145_728]
    );
    assert!(a.iter().all(|blob| !b.contains(blob)), "{a:?} {b:?}");
}

#[test]
fn a_package_stores_each_blob_of_its_active_versions_once() {
    let world = layered().sealed();
    let app = world.package("acme", "container", "app").unwrap();
    let all = 50 * MIB + 1_000 + 10 * MIB + 2_000 + 20 * MIB + 4_000;
    assert_eq!(app.stored_bytes(), all);
    assert_eq!(app.stored_blobs().len(), 6);

    // v1 deleted: its config and own layer go; the base stays with v2 and v3's platform.
    let mut world = world.clone();
    let app = world.package_mut("acme", "container", "app").unwrap();
    let v1 = app.versions.iter().position(|v| v.tags == ["v1"]).unwrap();
    app.versions[v1].deleted_ago(days(0));
    assert_eq!(app.stored_bytes(), all - 1_000 - 10 * MIB);

    // Every image on the base deleted: the base goes once.
    for version in &mut app.versions {
        version.deleted_ago(days(0));
    }
    assert_eq!(app.stored_bytes(), 0);
}
