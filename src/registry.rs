//! The OCI registry client for container packages: the token flow (a 401 challenge, then the
//! registry's token endpoint with the GitHub token) and manifest reads, several at a time, each
//! digest read at most once per run. Only what the reference graph needs comes back.

use crate::client::Client;
use crate::graph::ManifestRefs;
use crate::model::Version;
use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use futures::stream::{self, StreamExt};
use http::header::{ACCEPT, AUTHORIZATION};
use http::StatusCode;
use std::collections::HashMap;
use std::sync::Mutex;

pub mod push;

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const OCI_ARTIFACT: &str = "application/vnd.oci.artifact.manifest.v1+json";

/// Manifest reads at once, per package.
const CONCURRENT_READS: usize = 8;

/// A manifest that could not be read: the digest and the cause.
#[derive(Debug, Clone)]
pub struct Unreadable {
    pub digest: String,
    pub cause: String,
}

/// The registry's answer to `GET /v2/`: `None` when it needs no authorization, else the
/// parameters of its `Bearer` challenge.
type Challenge = Option<HashMap<String, String>>;

/// Reads manifests; remembers every one it read in this run (by manifest URL), and each
/// registry's challenge.
#[derive(Default)]
pub struct Registry {
    read: Mutex<HashMap<String, ManifestRefs>>,
    challenges: tokio::sync::Mutex<HashMap<String, Challenge>>,
}

impl Registry {
    /// The references of every version of a package, or the first manifest that failed.
    pub async fn references(
        &self,
        client: &Client,
        registry_url: &str,
        owner: &str,
        package: &str,
        versions: &[Version],
    ) -> Result<HashMap<String, ManifestRefs>, Unreadable> {
        let repository = format!("{}/{}", owner.to_lowercase(), package.to_lowercase());
        let base = format!(
            "{}/v2/{repository}/manifests",
            registry_url.trim_end_matches('/')
        );
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        {
            let read = self.read.lock().expect("registry cache lock");
            for version in versions {
                match read.get(&format!("{base}/{}", version.name)) {
                    Some(refs) => {
                        found.insert(version.name.clone(), refs.clone());
                    }
                    None => missing.push(version.name.clone()),
                }
            }
        }
        missing.sort();
        missing.dedup();
        let Some(first) = missing.first().cloned() else {
            return Ok(found);
        };
        // One challenge per registry and run (`GET /v2/`), one token per package: no manifest
        // is asked for twice.
        let challenge = {
            let mut challenges = self.challenges.lock().await;
            match challenges.get(registry_url) {
                Some(known) => Ok(known.clone()),
                None => challenge(client, registry_url).await.inspect(|fresh| {
                    challenges.insert(registry_url.to_string(), fresh.clone());
                }),
            }
        };
        let authorization = match challenge {
            Ok(challenge) => authorize(client, registry_url, challenge.as_ref(), &repository).await,
            Err(error) => Err(error),
        };
        let authorization = match authorization {
            Ok(authorization) => authorization,
            Err(error) => {
                return Err(Unreadable {
                    digest: first,
                    cause: format!("{error:#}"),
                })
            }
        };
        let results: Vec<(String, Result<ManifestRefs>)> = stream::iter(missing)
            .map(|digest| {
                let url = format!("{base}/{digest}");
                let authorization = authorization.clone();
                async move {
                    let refs = read_manifest(client, &url, authorization.as_deref()).await;
                    (digest, refs)
                }
            })
            .buffer_unordered(CONCURRENT_READS)
            .collect()
            .await;
        let mut read = self.read.lock().expect("registry cache lock");
        let mut failure = None;
        for (digest, refs) in results {
            match refs {
                Ok(refs) => {
                    read.insert(format!("{base}/{digest}"), refs.clone());
                    found.insert(digest, refs);
                }
                Err(error) => {
                    failure.get_or_insert(Unreadable {
                        digest,
                        cause: format!("{error:#}"),
                    });
                }
            }
        }
        match failure {
            Some(failure) => Err(failure),
            None => Ok(found),
        }
    }
}

/// Asks `GET /v2/` without credentials: `None` when the registry needs no authorization, else
/// its `Bearer` challenge.
async fn challenge(client: &Client, registry_url: &str) -> Result<Challenge> {
    let url = format!("{}/v2/", registry_url.trim_end_matches('/'));
    let answer = client
        .get_registry(&url, Vec::new())
        .await
        .context("the registry did not answer")?;
    if answer.status != StatusCode::UNAUTHORIZED {
        return Ok(None);
    }
    let challenge = answer
        .header("www-authenticate")
        .ok_or_else(|| anyhow!("the registry answered 401 without a WWW-Authenticate challenge"))?
        .to_string();
    let params = parse_challenge(&challenge)
        .ok_or_else(|| anyhow!("unsupported registry challenge {challenge:?}"))?;
    if !params.contains_key("realm") {
        bail!("the registry challenge names no realm: {challenge:?}");
    }
    Ok(Some(params))
}

/// On a `Bearer` challenge, gets a registry token for pulling `repository` with the GitHub
/// token, from a realm on the registry's own origin only. `None` when the registry needs no
/// authorization.
async fn authorize(
    client: &Client,
    registry_url: &str,
    challenge: Option<&HashMap<String, String>>,
    repository: &str,
) -> Result<Option<String>> {
    authorize_for(client, registry_url, challenge, repository, "pull").await
}

/// As [`authorize`], for `actions` (`pull`, or `pull,push`) on `repository`.
async fn authorize_for(
    client: &Client,
    registry_url: &str,
    challenge: Option<&HashMap<String, String>>,
    repository: &str,
    actions: &str,
) -> Result<Option<String>> {
    let Some(params) = challenge else {
        return Ok(None);
    };
    crate::client::check_realm(registry_url, &params["realm"])?;
    let encode = |value: &str| {
        percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let mut token_url = format!("{}?", params["realm"]);
    if let Some(service) = params.get("service") {
        token_url.push_str(&format!("service={}&", encode(service)));
    }
    token_url.push_str(&format!(
        "scope={}",
        encode(&format!("repository:{repository}:{actions}"))
    ));
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("package-retention:{}", client.token()));
    let answer = client
        .get_registry(&token_url, vec![(AUTHORIZATION, format!("Basic {basic}"))])
        .await
        .context("the registry's token endpoint did not answer")?;
    if !answer.is_success() {
        bail!(
            "the registry refused a token ({} {})",
            answer.status.as_u16(),
            answer.message()
        );
    }
    #[derive(serde::Deserialize)]
    struct Token {
        token: Option<String>,
        access_token: Option<String>,
    }
    let token: Token = answer.json()?;
    let token = token
        .token
        .or(token.access_token)
        .ok_or_else(|| anyhow!("the registry's token answer holds no token"))?;
    Ok(Some(format!("Bearer {token}")))
}

fn accept() -> String {
    [
        OCI_INDEX,
        OCI_MANIFEST,
        DOCKER_LIST,
        DOCKER_MANIFEST,
        OCI_ARTIFACT,
    ]
    .join(", ")
}

/// `Bearer realm="…",service="…",scope="…"` → its parameters.
fn parse_challenge(challenge: &str) -> Option<HashMap<String, String>> {
    let rest = challenge.trim().strip_prefix("Bearer ")?;
    let mut params = HashMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let after = after.strip_prefix('"')?;
        let (value, after) = after.split_once('"')?;
        params.insert(key.trim().to_ascii_lowercase(), value.to_string());
        rest = after.trim_start_matches([',', ' ']);
    }
    Some(params)
}

async fn read_manifest(
    client: &Client,
    url: &str,
    authorization: Option<&str>,
) -> Result<ManifestRefs> {
    let mut headers = vec![(ACCEPT, accept())];
    if let Some(authorization) = authorization {
        headers.push((AUTHORIZATION, authorization.to_string()));
    }
    let answer = client.get_registry(url, headers).await?;
    if answer.status != StatusCode::OK {
        bail!(
            "the registry answered {} {}",
            answer.status.as_u16(),
            answer.message()
        );
    }
    #[derive(serde::Deserialize)]
    struct Descriptor {
        digest: String,
    }
    #[derive(serde::Deserialize)]
    struct Manifest {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        #[serde(default)]
        manifests: Vec<Descriptor>,
        subject: Option<Descriptor>,
    }
    let manifest: Manifest =
        serde_json::from_slice(&answer.body).context("the manifest is not valid JSON")?;
    let header_type = answer
        .header("content-type")
        .map(|t| t.split(';').next().unwrap_or("").trim().to_string())
        .filter(|t| !t.is_empty() && t != "application/json");
    let media_type = header_type.or(manifest.media_type).unwrap_or_default();
    match media_type.as_str() {
        OCI_INDEX | DOCKER_LIST => Ok(ManifestRefs {
            children: manifest.manifests.into_iter().map(|d| d.digest).collect(),
            subject: manifest.subject.map(|d| d.digest),
        }),
        OCI_MANIFEST | DOCKER_MANIFEST | OCI_ARTIFACT => Ok(ManifestRefs {
            children: Vec::new(),
            subject: manifest.subject.map(|d| d.digest),
        }),
        other => bail!("unknown manifest media type {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let params = parse_challenge(
            r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/app:pull""#,
        )
        .unwrap();
        assert_eq!(params["realm"], "https://ghcr.io/token");
        assert_eq!(params["scope"], "repository:acme/app:pull");
        assert!(parse_challenge("Basic realm=\"x\"").is_none());
    }
}
