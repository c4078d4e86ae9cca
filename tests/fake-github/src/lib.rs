//! A stateful fake of GitHub for the tests and benchmarks of `package-retention`: the GitHub
//! Packages REST API (under `/orgs/{org}`, `/users/{username}` and `/user`, plus
//! `GET /user`, `GET /users/{username}`, `GET /orgs/{org}` and `GET /rate_limit`), the open
//! pull requests and branches of repositories (`GET /repos/{owner}/{repo}/pulls|branches`) and the OCI
//! registry routes (`/v2/...`, `/token`) on one base URL, over HTTP/1.1 on `127.0.0.1`.
//!
//! ```no_run
//! use fake_github::{days, digest, FakeGithub, World};
//!
//! let mut world = World::new().org("acme").user("alice").token("tok", "alice");
//! let app = world.add_package("acme", "container", "app");
//! app.add_version(&digest(1), &["v1"], days(3));
//! let fake = FakeGithub::start(world);
//! // ... run the binary with GITHUB_API_URL = fake.url() ...
//! assert_eq!(fake.count("DELETE", "/versions/"), 0);
//! ```
//!
//! Bodies and statuses follow GitHub's OpenAPI description (`shared/github-openapi`), and where
//! it is silent, what GitHub answers:
//!
//! | situation | status | message |
//! |---|---|---|
//! | API request without a `User-Agent` (checked first) | 403 | [`MSG_NO_USER_AGENT`], as plain text |
//! | no `Authorization` | 401 | `Requires authentication` (the account routes answer anyway) |
//! | unknown token | 401 | `Bad credentials` |
//! | `GET /user` with an installation token | 403 | `Resource not accessible by integration` |
//! | list packages, token without `can_list_packages` | 403 | `Resource not accessible by integration` |
//! | delete/restore without `can_delete`, or in another user's namespace | 403 | `Must have admin rights to Repository.` |
//! | the same, with a token whose refusals GitHub hides (`refused_as_not_found`, a `GITHUB_TOKEN` that may read but not delete) | 404 | `Package not found.` |
//! | package absent or deleted (any package route but restore) | 404 | `Package not found.` |
//! | version absent, or already deleted (delete) | 404 | `Package version not found.` |
//! | last tagged version of a container/docker package | 400 | `You cannot delete the last tagged version of a package. You must delete the package instead.` |
//! | last active version (any type) | 400 | `You cannot delete the last version of a package. You must delete the package instead.` |
//! | public package, version (or, for a package delete, any active version) with > 5000 downloads | 400 | `Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance.` |
//! | restore package: no deleted package of that name | 404 | `Package not found.` |
//! | restore package: deleted 30 days ago or more | 404 | `Package cannot be restored: it was deleted more than 30 days ago.` |
//! | restore package: an active package has the name | 403 | `Package cannot be restored: an active package with the same name already exists.` |
//! | restore version: version is active | 404 | `Package version cannot be restored: it is not deleted.` |
//! | restore version: deleted 30 days ago or more | 404 | `Package version cannot be restored: it was deleted more than 30 days ago.` |
//! | restore version: an active version has the same name | 403 | `Package version cannot be restored: an active version with the same name already exists.` |
//! | unknown `package_type` in a path | 400 | `Invalid package_type ...` |
//! | unknown route | 404 | `Not Found` |
//!
//! Checks run in this order: credentials, namespace, package exists, version exists, rights,
//! then the rules above. Deleted packages and versions stay listed (`state=deleted`) after 30
//! days; only their restore is refused.
//!
//! `tests/fake_prism.rs` checks every kind of answer through Stoplight Prism (`--errors`):
//! `PRISM_BIN=.ci/node_modules/.bin/prism cargo test --test fake_prism -- --ignored`. Only the
//! 400 of the deletion rules and the 403 of the rate limits carry statuses the description
//! does not document, as GitHub's do. The registry routes are not in the description: point
//! `registry-url` at the fake itself, not at Prism.
//!
//! Container worlds are content-addressed, as every registry is: [`FakeGithub::start`] seals the
//! world ([`World::seal`]), so each version's name is the sha256 of the exact manifest bytes the
//! registry serves for it, and so is every digest a manifest or a `sha256-<hex>` tag names; the
//! made-up digests of [`digest`] are labels, and [`Package::digest_of`] tells what each became.
//!
//! An image manifest names a config and layers with their sizes ([`Manifest::image_with`],
//! [`blob`]): images that name the same [`Blob`] share it, as images on one base layer do, and
//! [`Package::stored_bytes`] counts each blob of the active versions once, as the registry
//! stores it (the model behind the action's storage figures and `bytes-freed`).
//!
//! The registry also takes pushes (blob uploads, `HEAD` of a blob, `PUT` of a manifest by tag
//! or digest, digests checked): a manifest pushed becomes a version named by its digest, and
//! a tag pushed moves to it (see `push.rs`). A token without [`Token::can_push`] is refused
//! every registry write with 403 `DENIED` [`MSG_WRITE_DENIED`] (or distribution's 401
//! `insufficient_scope`, [`PushRefusal`]).
//!
//! Where registries differ, the registry answers as the CNCF distribution registry does
//! (`tests/interop.rs` runs the action against it), or as a test chooses in
//! [`Config::registry`] ([`RegistryAnswers`]):
//!
//! | situation | default (distribution) | mode |
//! |---|---|---|
//! | manifest of a repository the registry lacks | 404 `MANIFEST_UNKNOWN` | 404 `NAME_UNKNOWN` |
//! | upload `Location` | absolute URL with a `?_state=` query | a path, no query |
//! | `POST …/blobs/uploads/?digest=` with the bytes | 202, body ignored, an upload started | |
//! | manifest `PUT` without `Content-Type` | 400 `MANIFEST_INVALID` | |
//! | write with a token that may only pull | 403 `DENIED` (ghcr.io) | 401 `insufficient_scope` |
//! | over the registry's rate limit | no limit | 429 `TOOMANYREQUESTS`, `Retry-After` |
//!
//! Before any route: scripted faults, the in-flight limit, the primary budget, the secondary
//! points window, then random server errors (see [`Config`]).Then, around the route: a version in
//! [`Config::deleted_by_others`] is deleted by someone else just before the first `DELETE` of
//! it is answered; listings leave out [`Config::unlisted_versions`]; a listing page named by
//! [`Config::page_faults`] loses its `Link`, its items, or answers 404. Registry requests only see
//! scripted faults, latency, the registry rate limit and [`Config::manifest_status`].
//!
//! A living registry (`living.rs`): [`Config::listing_changes`] push or delete a version right
//! after a given listing page is served, [`Config::moved_tags`] move a tag right before the
//! first registry request naming it, and a [`FaultAction::Hold`] keeps a request unanswered
//! until [`FakeGithub::release_held`] (to signal a run while a write is in flight).

mod api;
pub mod client;
mod config;
mod content;
mod http;
mod living;
mod push;
mod registry;
mod registry_limit;
mod repos;
pub mod runner;
mod server;
mod state;
mod storage;
mod world;

#[cfg(test)]
mod tests;

use std::net::TcpListener as StdTcpListener;

use tokio::runtime::Runtime;

pub use api::{
    MSG_LAST_TAGGED_VERSION, MSG_LAST_VERSION, MSG_NOT_ACCESSIBLE, MSG_NO_ADMIN_RIGHTS,
    MSG_NO_USER_AGENT, MSG_PACKAGE_NAME_TAKEN, MSG_PACKAGE_NOT_FOUND, MSG_PACKAGE_RESTORE_EXPIRED,
    MSG_TOO_MANY_DOWNLOADS, MSG_VERSION_NAME_TAKEN, MSG_VERSION_NOT_DELETED, MSG_VERSION_NOT_FOUND,
    MSG_VERSION_RESTORE_EXPIRED,
};
pub use config::{
    Config, FaultAction, PageFault, PageFaultKind, PushRefusal, RegistryAnswers, RegistryRateLimit,
    ScriptedFault,
};
pub use living::{Change, ListingChange, TagMove};
pub use push::{sha256_digest, MSG_WRITE_DENIED};
pub use repos::{Branch, PullRequest, Repository};
pub use state::RequestRecord;
pub use world::{
    ago, blob, days, digest, hours, Account, AccountKind, Blob, ImageBlobs, Manifest, Package,
    Token, Version, World,
};

use state::{lock, Shared, State};

/// A running fake. Dropping it stops the server (requests left hanging are dropped too).
pub struct FakeGithub {
    shared: Shared,
    url: String,
    runtime: Option<Runtime>,
}

impl FakeGithub {
    /// Starts a fake serving `world` with the default [`Config`] (no faults).
    pub fn start(world: World) -> FakeGithub {
        FakeGithub::start_with(world, Config::default())
    }

    /// Starts a fake serving `world`, sealed ([`World::seal`]), with `config`, on a free port of
    /// 127.0.0.1, with its own tokio runtime.
    pub fn start_with(world: World, config: Config) -> FakeGithub {
        let world = world.sealed();
        let listener = StdTcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let url = format!("http://{}", listener.local_addr().expect("bound address"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fake-github")
            .enable_all()
            .build()
            .expect("tokio runtime");
        let shared: Shared = std::sync::Arc::new(std::sync::Mutex::new(State::new(world, config)));
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(listener).expect("tokio listener")
        };
        runtime.spawn(server::serve(listener, shared.clone()));
        FakeGithub {
            shared,
            url,
            runtime: Some(runtime),
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash: the API and registry base URL.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// A snapshot of the current state.
    pub fn world(&self) -> World {
        lock(&self.shared).world.clone()
    }

    /// Changes the state in place, then seals it again ([`World::seal`]: labels of versions
    /// added become digests).
    pub fn update_world(&self, change: impl FnOnce(&mut World)) {
        let mut state = lock(&self.shared);
        state.listing_cache.clear();
        change(&mut state.world);
        state.world.seal();
    }

    /// A snapshot of the current configuration (the primary budget left included).
    pub fn config(&self) -> Config {
        lock(&self.shared).config.clone()
    }

    /// Changes the configuration; fault counters restart when `scripted` changes.
    pub fn update_config(&self, change: impl FnOnce(&mut Config)) {
        lock(&self.shared).update_config(change);
    }

    /// Every request served, in the order they were answered (a hung request is recorded,
    /// with status 0, when it starts hanging).
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared).records.clone()
    }

    /// API requests with method DELETE, POST, PUT or PATCH, counted on arrival whatever
    /// their answer.
    pub fn writes(&self) -> usize {
        lock(&self.shared).writes
    }

    /// Recorded requests with this method (case-insensitive) whose raw path contains
    /// `path_contains`.
    pub fn count(&self, method: &str, path_contains: &str) -> usize {
        lock(&self.shared)
            .records
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path.contains(path_contains))
            .count()
    }

    /// Registry requests refused 429 by [`Config::registry`]'s rate limit.
    pub fn registry_rate_limited_answers(&self) -> usize {
        lock(&self.shared).registry_limiter.refused
    }

    /// Requests held by a [`FaultAction::Hold`] fault so far (released or not).
    pub fn held(&self) -> usize {
        lock(&self.shared).held
    }

    /// Waits until at least `n` requests have been held; false when `timeout` passes first.
    pub fn wait_until_held(&self, n: usize, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        while self.held() < n {
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        true
    }

    /// Lets every held request go on to its normal answer (and any matched later).
    pub fn release_held(&self) {
        lock(&self.shared).release_held();
    }

    /// The highest number of API requests that were being served at once.
    pub fn max_in_flight(&self) -> usize {
        lock(&self.shared).max_in_flight_seen
    }

    /// Rate-limit refusals (403/429) given: primary, secondary points, in-flight, and scripted
    /// 403/429 answers whose body mentions "rate limit".
    pub fn rate_limited_answers(&self) -> usize {
        lock(&self.shared).rate_limited_answers
    }
}

impl Drop for FakeGithub {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
