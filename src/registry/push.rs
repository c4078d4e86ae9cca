//! `untag` at the registry: a push session per package (a `pull,push` registry token, the empty
//! config blob uploaded once, skipped when `HEAD` finds it) and the throw-away manifest pushed
//! under each tag to remove, which moves the tag to a version of its own.

use super::auth::{authorize_for, challenge, Challenge};
use super::manifest::oci_errors;
use super::Registry;
use crate::github::client::{Answer, Client};
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::Method;
use sha2::{Digest, Sha256};

const OCI_MANIFEST: &str = super::manifest::OCI_MANIFEST;
/// The OCI empty descriptor's media type and content (`{}`).
const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
const EMPTY_CONFIG: &[u8] = b"{}";
/// The `artifactType` of a throw-away manifest: what it is, since its config says nothing (the
/// OCI image spec 1.1 requires one with the empty config).
pub const THROWAWAY_ARTIFACT_TYPE: &str = "application/vnd.package-retention.untagged.v1";
/// The annotation that names the version whose tags a throw-away manifest carries away.
const UNTAGGED_FROM: &str = "io.github.package-retention.untagged-from";

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let mut text = String::from("sha256:");
    for byte in Sha256::digest(bytes) {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

/// The minimal OCI 1.1 artifact manifest pushed under the tags removed from the version
/// `original` (a digest), as the image spec guides an artifact without content: an
/// `artifactType` of its own, the empty descriptor as config and as its one layer, and an
/// annotation naming `original`, so that each version's tags move to a throw-away version of
/// their own.
pub fn throwaway_manifest(original: &str) -> Vec<u8> {
    let empty = serde_json::json!({
        "mediaType": OCI_EMPTY,
        "digest": sha256_digest(EMPTY_CONFIG),
        "size": EMPTY_CONFIG.len(),
    });
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": THROWAWAY_ARTIFACT_TYPE,
        "config": empty,
        "layers": [empty],
        "annotations": { UNTAGGED_FROM: original },
    })
    .to_string()
    .into_bytes()
}

/// A registry step that failed: the status (none when the registry did not answer) and the
/// registry's own message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushFailure {
    pub status: Option<u16>,
    pub message: String,
    /// Not sent: the tag is not one the registry accepts.
    pub invalid_tag: bool,
}

impl PushFailure {
    /// A tag the registry does not accept: nothing is sent for it.
    pub fn invalid_tag(tag: &str) -> PushFailure {
        PushFailure {
            status: None,
            message: format!(
                "the tag {tag} was not pushed: it is not a tag the registry accepts, so it cannot be moved"
            ),
            invalid_tag: true,
        }
    }

    fn answered(what: &str, answer: &Answer) -> PushFailure {
        // A token without the push action: distribution says so only in its challenge.
        let challenge_error = answer
            .header("www-authenticate")
            .and_then(super::auth::parse_challenge)
            .and_then(|params| params.get("error").cloned())
            .map(|error| format!(" (the registry's challenge: error=\"{error}\")"))
            .unwrap_or_default();
        PushFailure {
            status: Some(answer.status.as_u16()),
            message: format!("{what}: {}{challenge_error}", registry_message(answer)),
            invalid_tag: false,
        }
    }

    fn unanswered(what: &str, error: anyhow::Error) -> PushFailure {
        PushFailure {
            status: None,
            message: format!("{what}: {error:#}"),
            invalid_tag: false,
        }
    }
}

/// `CODE: message` of an OCI error body, else GitHub's message or the body's start.
fn registry_message(answer: &Answer) -> String {
    let errors = oci_errors(&answer.body);
    if errors.is_empty() {
        return answer.message();
    }
    errors
        .iter()
        .map(|(code, message)| format!("{code}: {message}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether `tag` is a tag the distribution spec allows (so it is safe in a URL path).
pub fn is_valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && tag.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// The registry's challenge, asked once per registry and run (shared with the manifest reads).
async fn known_challenge(
    client: &Client,
    registry: &Registry,
    registry_url: &str,
) -> anyhow::Result<Challenge> {
    let mut challenges = registry.challenges.lock().await;
    if let Some(known) = challenges.get(registry_url) {
        return Ok(known.clone());
    }
    let fresh = challenge(client, registry_url, None).await?;
    challenges.insert(registry_url.to_string(), fresh.clone());
    Ok(fresh)
}

/// Pushes to one package's repository with a `pull,push` token.
pub struct PushSession<'a> {
    client: &'a Client,
    /// `https://host`: where upload locations may point.
    origin: String,
    /// `<registry>/v2/<owner>/<package>`.
    base: String,
    authorization: Option<String>,
}

impl<'a> PushSession<'a> {
    /// Gets a push token for `owner/package` and makes sure the empty config blob is there.
    pub async fn open(
        client: &'a Client,
        registry: &Registry,
        registry_url: &str,
        owner: &str,
        package: &str,
    ) -> Result<PushSession<'a>, PushFailure> {
        let repository = format!("{}/{}", owner.to_lowercase(), package.to_lowercase());
        let challenge = known_challenge(client, registry, registry_url)
            .await
            .map_err(|e| PushFailure::unanswered("the registry's challenge", e))?;
        let registry_url = registry_url.trim_end_matches('/');
        let authorization = authorize_for(
            client,
            registry_url,
            challenge.as_ref(),
            &repository,
            "pull,push",
            None,
        )
        .await
        .map_err(|e| PushFailure::unanswered("a push token", e))?;
        let scheme_end = registry_url.find("://").map_or(0, |i| i + 3);
        let host_end = registry_url[scheme_end..]
            .find('/')
            .map_or(registry_url.len(), |i| scheme_end + i);
        let session = PushSession {
            client,
            origin: registry_url[..host_end].to_string(),
            base: format!("{registry_url}/v2/{repository}"),
            authorization,
        };
        session.ensure_empty_config().await?;
        Ok(session)
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> anyhow::Result<Answer> {
        let mut headers = Vec::new();
        if let Some(authorization) = &self.authorization {
            headers.push((AUTHORIZATION, authorization.clone()));
        }
        if let Some(content_type) = content_type {
            headers.push((CONTENT_TYPE, content_type.to_string()));
        }
        self.client
            .registry_request(method, url, headers, body.into())
            .await
    }

    /// `HEAD` the empty config blob; upload it (`POST`, then `PUT ?digest=`) when it is missing.
    async fn ensure_empty_config(&self) -> Result<(), PushFailure> {
        let digest = sha256_digest(EMPTY_CONFIG);
        let what = "checking the empty config blob";
        let head = self
            .send(
                Method::HEAD,
                &format!("{}/blobs/{digest}", self.base),
                None,
                Vec::new(),
            )
            .await
            .map_err(|e| PushFailure::unanswered(what, e))?;
        if head.is_success() {
            return Ok(());
        }
        if head.status != http::StatusCode::NOT_FOUND {
            return Err(PushFailure::answered(what, &head));
        }
        let what = "starting the upload of the empty config blob";
        let started = self
            .send(
                Method::POST,
                &format!("{}/blobs/uploads/", self.base),
                None,
                Vec::new(),
            )
            .await
            .map_err(|e| PushFailure::unanswered(what, e))?;
        if !started.is_success() {
            return Err(PushFailure::answered(what, &started));
        }
        let location = started.header("location").unwrap_or_default();
        let location = if location.starts_with('/') {
            format!("{}{location}", self.origin)
        } else {
            location.to_string()
        };
        if !location.starts_with(&format!("{}/", self.origin)) {
            return Err(PushFailure {
                status: Some(started.status.as_u16()),
                message: format!(
                    "{what}: the registry named an upload location off its own origin: {location:?}"
                ),
                invalid_tag: false,
            });
        }
        let separator = if location.contains('?') { '&' } else { '?' };
        let what = "uploading the empty config blob";
        let stored = self
            .send(
                Method::PUT,
                &format!("{location}{separator}digest={digest}"),
                Some("application/octet-stream"),
                EMPTY_CONFIG.to_vec(),
            )
            .await
            .map_err(|e| PushFailure::unanswered(what, e))?;
        if !stored.is_success() {
            return Err(PushFailure::answered(what, &stored));
        }
        Ok(())
    }

    /// The digest `tag` points at now (a `HEAD` of the manifest by tag), read right before a
    /// push under it; `None` when the registry no longer knows the tag.
    pub async fn tag_target(&self, tag: &str) -> Result<Option<String>, PushFailure> {
        let what = format!("reading what the tag {tag} points at");
        if !is_valid_tag(tag) {
            return Err(PushFailure::invalid_tag(tag));
        }
        let mut headers = vec![(ACCEPT, super::manifest::accept())];
        if let Some(authorization) = &self.authorization {
            headers.push((AUTHORIZATION, authorization.clone()));
        }
        let url = format!("{}/manifests/{tag}", self.base);
        let answer = self
            .client
            .registry_request(Method::HEAD, &url, headers, bytes::Bytes::new())
            .await
            .map_err(|e| PushFailure::unanswered(&what, e))?;
        if answer.status == http::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !answer.is_success() {
            return Err(PushFailure::answered(&what, &answer));
        }
        match answer.header("docker-content-digest") {
            Some(digest) => Ok(Some(digest.trim().to_string())),
            None => Err(PushFailure {
                status: Some(answer.status.as_u16()),
                message: format!("{what}: the registry did not say (no Docker-Content-Digest)"),
                invalid_tag: false,
            }),
        }
    }

    /// Pushes `manifest` (whose digest is `digest`) under `tag`, which moves the tag to it.
    pub async fn push_tag(
        &self,
        manifest: &[u8],
        digest: &str,
        tag: &str,
    ) -> Result<(), PushFailure> {
        let what = format!("pushing the throw-away manifest under the tag {tag}");
        if !is_valid_tag(tag) {
            return Err(PushFailure::invalid_tag(tag));
        }
        let answer = self
            .send(
                Method::PUT,
                &format!("{}/manifests/{tag}", self.base),
                Some(OCI_MANIFEST),
                manifest.to_vec(),
            )
            .await
            .map_err(|e| PushFailure::unanswered(&what, e))?;
        if !answer.is_success() {
            return Err(PushFailure::answered(&what, &answer));
        }
        match answer.header("docker-content-digest") {
            Some(stored) if stored.trim() != digest => Err(PushFailure {
                status: Some(answer.status.as_u16()),
                message: format!("{what}: the registry stored it as {stored}, not {digest}"),
                invalid_tag: false,
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_config_has_the_well_known_digest() {
        assert_eq!(
            sha256_digest(EMPTY_CONFIG),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn each_version_gets_its_own_minimal_manifest() {
        let a = throwaway_manifest("sha256:aa");
        let b = throwaway_manifest("sha256:bb");
        assert_ne!(sha256_digest(&a), sha256_digest(&b));
        assert_eq!(a, throwaway_manifest("sha256:aa"), "stable across runs");
        let manifest: serde_json::Value = serde_json::from_slice(&a).unwrap();
        assert_eq!(manifest["mediaType"], OCI_MANIFEST);
        assert_eq!(manifest["config"]["mediaType"], OCI_EMPTY);
        assert_eq!(manifest["config"]["size"], 2);
        assert_eq!(manifest["artifactType"], THROWAWAY_ARTIFACT_TYPE);
        assert_eq!(manifest["layers"], serde_json::json!([manifest["config"]]));
        assert_eq!(manifest["annotations"][UNTAGGED_FROM], "sha256:aa");
    }

    #[test]
    fn only_registry_tags_are_pushed() {
        for tag in ["pr-12", "v1.2.0", "_x", "sha256-abc.sig"] {
            assert!(is_valid_tag(tag), "{tag}");
        }
        for tag in [
            "",
            "-x",
            ".x",
            "a/b",
            "a b",
            "a%2F",
            "a\nb",
            &"x".repeat(129),
        ] {
            assert!(!is_valid_tag(tag), "{tag:?}");
        }
    }
}
