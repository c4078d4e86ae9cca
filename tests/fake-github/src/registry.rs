//! The OCI registry routes, with ghcr.io's token flow: `GET /v2/{owner}/{name...}/manifests/{reference}`
//! answers 401 with a `WWW-Authenticate` challenge until the client brings a bearer token from
//! `GET /token`, which wants `Basic base64(user:GITHUB_TOKEN)`.
//!
//! A manifest is served as `content.rs` builds it from the version's [`crate::Manifest`]: the
//! exact bytes whose sha256 is the version's name (`Docker-Content-Digest`). Only active
//! versions are served: a deleted version's manifest is `MANIFEST_UNKNOWN` until it is restored,
//! and so is a ghost's ([`crate::Manifest::Ghost`]), which the API lists all the same. A
//! repository the registry lacks answers `MANIFEST_UNKNOWN` for every manifest, as
//! distribution does (`NAME_UNKNOWN` with
//! [`RegistryAnswers::unknown_repository_is_name_unknown`]).

use std::collections::HashMap;

use base64::Engine;
use chrono::{SecondsFormat, Utc};
use serde_json::json;

use crate::config::RegistryAnswers;
use crate::content;
use crate::http::{Answer, RequestParts};
use crate::world::{Version, World};

const SERVICE: &str = "fake-registry";

/// Whether a path belongs to the registry rather than the GitHub API.
pub(crate) fn is_registry_path(path: &str) -> bool {
    path == "/token" || path == "/v2" || path.starts_with("/v2/")
}

/// Registry tokens handed out by `GET /token`, with the scopes they were asked for.
#[derive(Debug, Default)]
pub(crate) struct IssuedTokens {
    scopes_by_token: HashMap<String, Vec<String>>,
}

impl IssuedTokens {
    pub(crate) fn issue(&mut self, scopes: Vec<String>) -> String {
        let token = format!("fake-registry-token-{}", self.scopes_by_token.len() + 1);
        self.scopes_by_token.insert(token.clone(), scopes);
        token
    }

    /// Whether `token` was issued with a scope granting pull on `repository`.
    fn grants_pull(&self, token: &str, repository: &str) -> bool {
        self.grants(token, repository, "pull")
    }

    /// Whether `token` was issued with a scope granting `action` on `repository`.
    pub(crate) fn grants(&self, token: &str, repository: &str, action: &str) -> bool {
        self.scopes_by_token.get(token).is_some_and(|scopes| {
            scopes.iter().any(|scope| {
                let mut parts = scope.splitn(3, ':');
                parts.next() == Some("repository")
                    && parts
                        .next()
                        .is_some_and(|name| name.eq_ignore_ascii_case(repository))
                    && parts
                        .next()
                        .is_some_and(|actions| actions.split(',').any(|a| a == action || a == "*"))
            })
        })
    }
}

pub(crate) fn oci_error(status: u16, code: &str, message: &str) -> Answer {
    Answer::json(
        status,
        &json!({ "errors": [{ "code": code, "message": message }] }),
    )
}

pub(crate) fn challenge(req: &RequestParts, scope: Option<&str>) -> Answer {
    let mut header = format!(
        "Bearer realm=\"{}/token\",service=\"{SERVICE}\"",
        req.base_url()
    );
    if let Some(scope) = scope {
        header.push_str(&format!(",scope=\"{scope}\""));
    }
    oci_error(401, "UNAUTHORIZED", "authentication required").header("www-authenticate", header)
}

/// Answers a registry request.
pub(crate) fn route(
    world: &World,
    tokens: &mut IssuedTokens,
    manifest_status: &HashMap<String, u16>,
    answers: &RegistryAnswers,
    req: &RequestParts,
) -> Answer {
    if req.raw_path == "/token" {
        return issue_token(world, tokens, req);
    }
    let bearer = req.credential(&["Bearer"]);
    let segments = req.segments();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (req.method.as_str(), segments.as_slice()) {
        ("GET" | "HEAD", ["v2"]) => match bearer {
            Some(token) if tokens.scopes_by_token.contains_key(&token) => {
                Answer::json(200, &json!({}))
            }
            _ => challenge(req, None),
        },
        ("GET" | "HEAD", ["v2", owner, name @ .., "manifests", reference]) if !name.is_empty() => {
            let repository = format!("{owner}/{}", name.join("/")).to_lowercase();
            if !bearer.is_some_and(|token| tokens.grants_pull(&token, &repository)) {
                return challenge(req, Some(&format!("repository:{repository}:pull")));
            }
            manifest(world, manifest_status, owner, &name.join("/"), reference)
                .unwrap_or_else(|| unknown_repository_answer(answers))
        }
        _ => oci_error(404, "NOT_FOUND", "not found"),
    }
}

/// A registry that lacks the repository answers `MANIFEST_UNKNOWN` for every manifest
/// (distribution), or `NAME_UNKNOWN` in that mode.
fn unknown_repository_answer(answers: &RegistryAnswers) -> Answer {
    if answers.unknown_repository_is_name_unknown {
        oci_error(404, "NAME_UNKNOWN", "repository name not known to registry")
    } else {
        oci_error(404, "MANIFEST_UNKNOWN", "manifest unknown")
    }
}

fn issue_token(world: &World, tokens: &mut IssuedTokens, req: &RequestParts) -> Answer {
    let password = req
        .credential(&["Basic"])
        .and_then(|encoded| {
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()
        })
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(_, password)| password.to_owned())
        });
    let Some(credential) = password.and_then(|p| world.find_token(&p)) else {
        return oci_error(401, "UNAUTHORIZED", "authentication required");
    };
    let scopes = req
        .query_pairs()
        .into_iter()
        .filter(|(key, _)| key == "scope")
        .flat_map(|(_, value)| value.split(' ').map(str::to_owned).collect::<Vec<_>>())
        .map(|scope| crate::push::granted_scope(world, credential, &scope))
        .collect();
    let token = tokens.issue(scopes);
    Answer::json(
        200,
        &json!({
            "token": token,
            "access_token": token,
            "expires_in": 300,
            "issued_at": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        }),
    )
}

/// The answer for a manifest of a repository the registry has; `None` when it lacks the
/// repository.
fn manifest(
    world: &World,
    manifest_status: &HashMap<String, u16>,
    owner: &str,
    name: &str,
    reference: &str,
) -> Option<Answer> {
    let injected = |digest: &str| {
        manifest_status
            .get(digest)
            .map(|&status| oci_error(status, "UNKNOWN", "fault injected by the fake registry"))
    };
    if let Some(fault) = injected(reference) {
        return Some(fault);
    }
    let package = world.packages.iter().find(|p| {
        p.package_type == "container"
            && !p.is_deleted()
            && p.owner.eq_ignore_ascii_case(owner)
            && p.name.eq_ignore_ascii_case(name)
    })?;
    let by_reference = |v: &&Version| {
        if reference.starts_with("sha256:") {
            v.name == reference
        } else {
            v.tags.iter().any(|t| t == reference)
        }
    };
    let unknown = || oci_error(404, "MANIFEST_UNKNOWN", "manifest unknown");
    let Some(version) = package.active_versions().find(by_reference) else {
        return Some(unknown());
    };
    if let Some(fault) = injected(&version.name) {
        return Some(fault);
    }
    match content::served(package, version) {
        Some((media_type, body)) => Some(
            Answer::with_type(200, &media_type, body)
                .header("docker-content-digest", version.name.clone()),
        ),
        None => Some(unknown()),
    }
}
