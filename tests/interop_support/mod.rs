//! The interoperability suite's set-up: a real registry (the CNCF distribution registry) with
//! and without token authentication, the world pushed into it, and the fake GitHub listing the
//! same versions. Used by `tests/interop.rs` only.

pub mod distribution;
pub mod front;
pub mod world;

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use fake_github::{FakeGithub, Manifest, Token, World};

use distribution::{Distribution, Scratch, TokenAuth};
use front::{Signer, StoredManifest, ISSUER, SERVICE};
use world::{AppWorld, Pushed};

/// The credential that may pull but not push (the fake's `Token::can_push: false`).
pub const READ_ONLY: &str = "read-only";

/// Two registries over one storage: `open` (no authentication, where the world is pushed) and
/// `guarded` (token authentication behind its front door, with the token server on its origin);
/// a third, `empty`, that has none of the repositories; and the fake GitHub listing the world.
pub struct Interop {
    pub open_url: String,
    /// The guarded registry's origin (its front door).
    pub guarded_url: String,
    pub empty_url: String,
    /// Tokens the guarded registry's token server has issued.
    pub tokens_issued: Arc<AtomicUsize>,
    pub app: AppWorld,
    pub legacy: Vec<Pushed>,
    pub fake: Arc<FakeGithub>,
    /// Stopped (and their storage removed) with the suite.
    _registries: [Distribution; 3],
    _storage: [Scratch; 2],
}

impl Interop {
    pub fn start() -> Interop {
        let storage = Scratch::new("storage");
        let empty_storage = Scratch::new("empty-storage");
        let open = Distribution::start(&storage.0, None);
        let empty = Distribution::start(&empty_storage.0, None);
        let app = world::push_app(&open.url());
        let legacy = world::push_legacy(&open.url());

        let mut world = World::new()
            .org("acme")
            .user("alice")
            .token(crate::common::TOKEN, "alice")
            .with_token(Token {
                can_push: false,
                ..Token::new(READ_ONLY, "alice")
            });
        world::list_in(world.add_package("acme", "container", "app"), &app.all());
        world::list_in(
            world.add_package("acme", "container", "legacy"),
            &legacy.iter().collect::<Vec<_>>(),
        );
        let fake = Arc::new(FakeGithub::start(world));

        let signer = Arc::new(Signer::new());
        let door = TcpListener::bind("127.0.0.1:0").expect("bind the front door");
        let guarded_url = format!("http://{}", door.local_addr().unwrap());
        let realm = format!("{guarded_url}/token");
        let guarded = Distribution::start(
            &storage.0,
            Some(TokenAuth {
                realm: &realm,
                service: SERVICE,
                issuer: ISSUER,
                cert_pem: &signer.cert_pem,
            }),
        );
        let grants: front::Grants = HashMap::from([
            (
                crate::common::TOKEN.to_owned(),
                vec!["pull", "push", "delete"],
            ),
            (READ_ONLY.to_owned(), vec!["pull"]),
        ]);
        let listing = fake.clone();
        let tokens_issued = front::serve(
            door,
            guarded.address,
            signer,
            grants,
            Arc::new(move |stored: &StoredManifest| list_pushed(&listing, stored)),
        );
        Interop {
            open_url: open.url(),
            guarded_url,
            empty_url: empty.url(),
            tokens_issued,
            app,
            legacy,
            fake,
            _registries: [open, guarded, empty],
            _storage: [storage, empty_storage],
        }
    }
}

/// What ghcr.io's API does when its registry stores a manifest: the digest is a version (new,
/// or the one that has it), and a tag pushed moves to it.
fn list_pushed(fake: &FakeGithub, stored: &StoredManifest) {
    let Some((owner, name)) = stored.repository.split_once('/') else {
        return;
    };
    fake.update_world(|world| {
        let Some(package) = world.package_mut(owner, "container", name) else {
            return;
        };
        let by_tag = !stored.reference.starts_with("sha256:");
        if by_tag {
            for version in package.versions.iter_mut().filter(|v| !v.is_deleted()) {
                version.tags.retain(|t| *t != stored.reference);
            }
        }
        let existing = package
            .versions
            .iter()
            .position(|v| !v.is_deleted() && v.name == stored.digest);
        let version = match existing {
            Some(at) => &mut package.versions[at],
            None => package
                .add_version(&stored.digest, &[], std::time::Duration::ZERO)
                .with_manifest(Manifest::raw(
                    &stored.media_type,
                    &String::from_utf8_lossy(&stored.body),
                )),
        };
        if by_tag {
            version.tags.push(stored.reference.clone());
        }
    });
}
