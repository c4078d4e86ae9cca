//! The registry's push routes, as the distribution registry answers them: blob uploads
//! (`POST …/blobs/uploads/`, then `PUT <location>&digest=`; a `POST …?digest=` only starts an
//! upload, its body ignored), `HEAD`/`GET …/blobs/<digest>`, and `PUT …/manifests/<reference>`
//! (400 `MANIFEST_INVALID` without a `Content-Type` that matches the manifest). Upload
//! `Location`s are absolute URLs with a `?_state=` query (paths without a query with
//! [`RegistryAnswers::relative_upload_location`]). Digests are checked against the bytes
//! (SHA-256). A manifest pushed is a version of the package in the REST state: its name is the
//! digest of the bytes pushed (an active version with that name is reused, else a new one is
//! made, the package too on a first push), and a tag pushed moves to it from whichever version
//! carried it.
//!
//! A token the registry grants only `pull` (no `packages: write`, or another user's namespace)
//! is refused every write: 403 `DENIED` `permission_denied: write_package` as ghcr.io answers,
//! or 401 with `error="insufficient_scope"` as distribution does ([`PushRefusal`]); no valid
//! registry token at all gets the 401 challenge naming `pull,push`.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::{PushRefusal, RegistryAnswers};
use crate::content::{IMAGE_MEDIA_TYPE, INDEX_MEDIA_TYPE};
use crate::http::{Answer, RequestParts};
use crate::registry::{challenge, oci_error, IssuedTokens};
use crate::world::{Manifest, Token, World};

/// GHCR's message when a token may not write the package.
pub const MSG_WRITE_DENIED: &str = "permission_denied: write_package";

/// Blobs stored and uploads in progress, per repository (`owner/name`, lower case).
#[derive(Debug, Default)]
pub(crate) struct Blobs {
    stored: HashMap<String, HashSet<String>>,
    /// Upload id → repository.
    uploads: HashMap<String, String>,
    next_upload: u64,
}

impl Blobs {
    fn has(&self, repository: &str, digest: &str) -> bool {
        self.stored
            .get(repository)
            .is_some_and(|blobs| blobs.contains(digest))
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut text = String::from("sha256:");
    for byte in hash {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

/// The scope a credential is granted of the `scope` it asked for: `push` (and `*`) only when
/// the token may write packages in that repository's namespace.
pub(crate) fn granted_scope(world: &World, token: &Token, scope: &str) -> String {
    let mut parts = scope.splitn(3, ':');
    let (Some("repository"), Some(repository), Some(actions)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return scope.to_owned();
    };
    let owner = repository.split('/').next().unwrap_or_default();
    let own_or_org = owner.eq_ignore_ascii_case(&token.login)
        || world
            .account(owner)
            .is_some_and(|a| a.kind == crate::world::AccountKind::Organization);
    let may_write = token.can_push && own_or_org;
    let actions: Vec<&str> = actions
        .split(',')
        .filter(|a| may_write || (*a != "push" && *a != "*"))
        .collect();
    format!("repository:{repository}:{}", actions.join(","))
}

/// Whether this request is one of the routes of this module.
pub(crate) fn handles(req: &RequestParts) -> bool {
    let segments = req.segments();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    matches!(
        (req.method.as_str(), segments.as_slice()),
        ("POST", ["v2", _, .., "blobs", "uploads"])
            | ("PUT" | "PATCH", ["v2", _, .., "blobs", "uploads", _])
            | ("GET" | "HEAD", ["v2", _, .., "blobs", _])
            | ("PUT", ["v2", _, .., "manifests", _])
    )
}

/// Answers a push route; `world` changes when a manifest is pushed.
pub(crate) fn route(
    world: &mut World,
    tokens: &IssuedTokens,
    blobs: &mut Blobs,
    answers: &RegistryAnswers,
    req: &RequestParts,
) -> Answer {
    let segments = req.segments();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let (repository, tail) = match split_repository(&req.method, &segments) {
        Some(split) => split,
        None => return oci_error(404, "NAME_INVALID", "invalid repository name"),
    };
    let bearer = req.credential(&["Bearer"]);
    let write = req.method != "GET" && req.method != "HEAD";
    let wanted = if write { "push" } else { "pull" };
    let Some(token) = bearer.filter(|t| tokens.grants(t, &repository, "pull")) else {
        let scope = if write {
            format!("repository:{repository}:pull,push")
        } else {
            format!("repository:{repository}:pull")
        };
        return challenge(req, Some(&scope));
    };
    if !tokens.grants(&token, &repository, wanted) {
        return match answers.push_refusal {
            PushRefusal::Denied => oci_error(403, "DENIED", MSG_WRITE_DENIED),
            PushRefusal::InsufficientScope => insufficient_scope(req, &repository),
        };
    }
    match (req.method.as_str(), tail.as_slice()) {
        ("POST", ["blobs", "uploads"]) => start_upload(blobs, &repository, answers, req),
        ("PUT", ["blobs", "uploads", id]) => finish_upload(blobs, &repository, id, req),
        ("PATCH", ["blobs", "uploads", _]) => oci_error(
            400,
            "UNSUPPORTED",
            "chunked uploads are not modelled by the fake",
        ),
        ("GET" | "HEAD", ["blobs", digest]) => {
            if blobs.has(&repository, digest) {
                Answer::with_type(200, "application/octet-stream", String::new())
                    .header("docker-content-digest", *digest)
            } else {
                oci_error(404, "BLOB_UNKNOWN", "blob unknown to registry")
            }
        }
        ("PUT", ["manifests", reference]) => {
            put_manifest(world, blobs, &repository, reference, req)
        }
        _ => oci_error(404, "NOT_FOUND", "not found"),
    }
}

/// `["v2", owner, name…, rest…]` → (`owner/name`, rest): rest is `manifests/<reference>`,
/// `blobs/<digest>`, `blobs/uploads` or `blobs/uploads/<id>` (as [`handles`] matched it).
fn split_repository<'a>(method: &str, segments: &[&'a str]) -> Option<(String, Vec<&'a str>)> {
    let n = segments.len();
    let from_end = match (method, segments.get(n.checked_sub(3)?..)?) {
        ("PUT" | "PATCH", ["blobs", "uploads", _]) => 3,
        _ => 2,
    };
    let at = n.checked_sub(from_end)?;
    let name = segments.get(1..at).filter(|n| n.len() >= 2)?;
    Some((name.join("/").to_lowercase(), segments[at..].to_vec()))
}

/// distribution's refusal of a token without the `push` action: the challenge again, saying
/// the scope is insufficient.
fn insufficient_scope(req: &RequestParts, repository: &str) -> Answer {
    let mut answer = challenge(req, Some(&format!("repository:{repository}:pull,push")));
    for (name, value) in &mut answer.headers {
        if name.eq_ignore_ascii_case("www-authenticate") {
            value.push_str(",error=\"insufficient_scope\"");
        }
    }
    answer
}

/// Starts an upload session. A `?digest=` (a monolithic upload) changes nothing: distribution
/// ignores the body and answers 202 like any start, so the client must still `PUT` the bytes.
fn start_upload(
    blobs: &mut Blobs,
    repository: &str,
    answers: &RegistryAnswers,
    req: &RequestParts,
) -> Answer {
    blobs.next_upload += 1;
    let id = format!("upload-{}", blobs.next_upload);
    blobs.uploads.insert(id.clone(), repository.to_owned());
    let path = format!("/v2/{repository}/blobs/uploads/{id}");
    let location = if answers.relative_upload_location {
        path
    } else {
        format!("{}{path}?_state=fake-{id}", req.base_url())
    };
    Answer {
        status: 202,
        headers: Vec::new(),
        body: String::new(),
    }
    .header("location", location)
    .header("docker-upload-uuid", id)
    .header("range", "0-0")
}

fn finish_upload(blobs: &mut Blobs, repository: &str, id: &str, req: &RequestParts) -> Answer {
    if blobs.uploads.get(id).map(String::as_str) != Some(repository) {
        return oci_error(
            404,
            "BLOB_UPLOAD_UNKNOWN",
            "blob upload unknown to registry",
        );
    }
    let Some(digest) = req.query_param("digest") else {
        return oci_error(
            400,
            "DIGEST_INVALID",
            "provided digest did not match uploaded content",
        );
    };
    let answer = store_blob(blobs, repository, &digest, &req.body);
    if answer.status == 201 {
        blobs.uploads.remove(id);
    }
    answer
}

fn store_blob(blobs: &mut Blobs, repository: &str, digest: &str, body: &[u8]) -> Answer {
    if sha256_digest(body) != digest {
        return oci_error(
            400,
            "DIGEST_INVALID",
            "provided digest did not match uploaded content",
        );
    }
    blobs
        .stored
        .entry(repository.to_owned())
        .or_default()
        .insert(digest.to_owned());
    Answer {
        status: 201,
        headers: Vec::new(),
        body: String::new(),
    }
    .header("location", format!("/v2/{repository}/blobs/{digest}"))
    .header("docker-content-digest", digest)
}

fn put_manifest(
    world: &mut World,
    blobs: &Blobs,
    repository: &str,
    reference: &str,
    req: &RequestParts,
) -> Answer {
    let invalid = |why: &str| oci_error(400, "MANIFEST_INVALID", why);
    let Ok(manifest) = serde_json::from_slice::<Value>(&req.body) else {
        return invalid("manifest invalid: not JSON");
    };
    let content_type = req
        .content_type
        .as_deref()
        .map(|t| t.split(';').next().unwrap_or_default().trim().to_owned())
        .unwrap_or_default();
    if content_type.is_empty() {
        return invalid("manifest invalid: no Content-Type");
    }
    let media_type = manifest["mediaType"].as_str().unwrap_or(&content_type);
    if media_type != content_type {
        return invalid("manifest invalid: mediaType does not match Content-Type");
    }
    let children: Vec<String> = match media_type {
        IMAGE_MEDIA_TYPE => {
            let mut referenced = vec![&manifest["config"]];
            referenced.extend(manifest["layers"].as_array().into_iter().flatten());
            for descriptor in referenced {
                let digest = descriptor["digest"].as_str().unwrap_or_default();
                if !blobs.has(repository, digest) {
                    return oci_error(400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry");
                }
            }
            Vec::new()
        }
        INDEX_MEDIA_TYPE => manifest["manifests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["digest"].as_str().map(str::to_owned))
            .collect(),
        _ => return invalid("manifest invalid: unsupported media type"),
    };
    let digest = sha256_digest(&req.body);
    let is_digest = reference.starts_with("sha256:");
    if is_digest && reference != digest {
        return oci_error(
            400,
            "DIGEST_INVALID",
            "provided digest did not match uploaded content",
        );
    }
    let (owner, name) = repository.split_once('/').expect("owner/name");
    let package = match world.packages.iter().position(|p| {
        !p.is_deleted()
            && p.package_type == "container"
            && p.owner.eq_ignore_ascii_case(owner)
            && p.name.eq_ignore_ascii_case(name)
    }) {
        Some(index) => &mut world.packages[index],
        None => world.add_package(owner, "container", name),
    };
    if media_type == INDEX_MEDIA_TYPE
        && children
            .iter()
            .any(|child| !package.active_versions().any(|v| &v.name == child))
    {
        return oci_error(400, "MANIFEST_BLOB_UNKNOWN", "manifest unknown to registry");
    }
    let now = Utc::now();
    let existing = package
        .active_versions()
        .find(|v| v.name == digest)
        .map(|v| v.id);
    let id = match existing {
        Some(id) => id,
        None => {
            let body = String::from_utf8_lossy(&req.body).into_owned();
            package
                .add_version(&digest, &[], std::time::Duration::ZERO)
                .with_manifest(Manifest::raw(media_type, &body))
                .id
        }
    };
    if !is_digest {
        for version in package.versions.iter_mut().filter(|v| !v.is_deleted()) {
            if version.id == id {
                if !version.tags.iter().any(|t| t == reference) {
                    version.tags.push(reference.to_owned());
                }
                version.updated_at = now;
            } else if let Some(at) = version.tags.iter().position(|t| t == reference) {
                version.tags.remove(at);
                version.updated_at = now;
            }
        }
    }
    package.updated_at = now;
    Answer {
        status: 201,
        headers: Vec::new(),
        body: String::new(),
    }
    .header("location", format!("/v2/{repository}/manifests/{digest}"))
    .header("docker-content-digest", digest)
}
