//! Reading one manifest: the media types asked for, the bytes proven by their digest, read
//! into what they reference (an index's platform manifests, a subject); a 404
//! `MANIFEST_UNKNOWN` is a ghost, `NAME_UNKNOWN` a registry without the repository; OCI error
//! bodies read in one place.

use super::Repository;
use crate::github::client::{Client, FailureBudget};
use crate::plan::graph::{Blob, ManifestRefs};
use anyhow::{bail, Context, Result};
use base64::Engine;
use http::header::{ACCEPT, AUTHORIZATION};
use http::StatusCode;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const OCI_ARTIFACT: &str = "application/vnd.oci.artifact.manifest.v1+json";
/// Docker schema 1, unsigned and signed: a registry serves it whatever the `Accept` header asks.
pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
pub const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// What the registry has for a digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Known {
    Manifest(ManifestRefs),
    /// 404 `MANIFEST_UNKNOWN`.
    Ghost,
}

/// The `Accept` of a manifest read: every manifest type the action knows.
pub(super) fn accept() -> String {
    [
        OCI_INDEX,
        OCI_MANIFEST,
        DOCKER_LIST,
        DOCKER_MANIFEST,
        OCI_ARTIFACT,
    ]
    .join(", ")
}

/// The `(code, message)` pairs of an OCI error body (`{"errors":[{"code":…,"message":…}]}`);
/// none when the body is not one.
pub fn oci_errors(body: &[u8]) -> Vec<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<Error>,
    }
    #[derive(serde::Deserialize)]
    struct Error {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    serde_json::from_slice::<Errors>(body)
        .map(|e| e.errors.into_iter().map(|e| (e.code, e.message)).collect())
        .unwrap_or_default()
}

/// Whether an OCI error body carries this code.
fn has_error_code(body: &[u8], code: &str) -> bool {
    oci_errors(body).iter().any(|(c, _)| c == code)
}

/// Reads the manifest `digest` at `url`: a ghost, or what it references and, when it describes
/// itself (its own `mediaType`), its bytes. The bytes must hash to the digest (a registry serves
/// exactly those): anything else is a failure for that manifest.
pub async fn read_manifest(
    client: &Client,
    repository: &Repository,
    url: &str,
    digest: &str,
    authorization: Option<&str>,
    budget: &FailureBudget,
) -> Result<(Known, Option<Box<[u8]>>)> {
    let mut headers = vec![(ACCEPT, accept())];
    if let Some(authorization) = authorization {
        headers.push((AUTHORIZATION, authorization.to_string()));
    }
    let answer = client.get_registry(url, headers, Some(budget)).await?;
    if answer.status == StatusCode::NOT_FOUND && has_error_code(&answer.body, "MANIFEST_UNKNOWN") {
        return Ok((Known::Ghost, None));
    }
    if answer.status == StatusCode::NOT_FOUND && has_error_code(&answer.body, "NAME_UNKNOWN") {
        bail!("{}", repository.not_there("404 NAME_UNKNOWN"));
    }
    if answer.status != StatusCode::OK {
        bail!(
            "the registry answered {} {}",
            answer.status.as_u16(),
            answer.message()
        );
    }
    match digest_of_bytes(digest, &answer.body) {
        Some(actual) if actual == digest => {}
        // A signed schema 1 manifest is named by its payload, without the signatures.
        Some(_)
            if schema1_payload(&answer.body)
                .and_then(|payload| digest_of_bytes(digest, &payload))
                .is_some_and(|actual| actual == digest) => {}
        Some(actual) => {
            bail!("the registry served bytes whose digest is {actual}, not the {digest} asked for")
        }
        None => bail!("{digest} is not a digest the action can verify (sha256 or sha512)"),
    }
    let header_type = answer
        .header("content-type")
        .map(|t| t.split(';').next().unwrap_or("").trim().to_string())
        .filter(|t| !t.is_empty() && t != "application/json");
    let (refs, described) = manifest_refs(&answer.body, header_type.as_deref())?;
    let bytes = described.then(|| answer.body.to_vec().into_boxed_slice());
    Ok((Known::Manifest(refs), bytes))
}

/// The digest of `bytes` in the algorithm `digest` names (`sha256:`, `sha512:`); `None` for
/// another algorithm.
pub fn digest_of_bytes(digest: &str, bytes: &[u8]) -> Option<String> {
    use sha2::Digest;
    let hex = |hash: &[u8]| hash.iter().map(|b| format!("{b:02x}")).collect::<String>();
    match digest.split_once(':')?.0 {
        "sha256" => Some(format!("sha256:{}", hex(&sha2::Sha256::digest(bytes)))),
        "sha512" => Some(format!("sha512:{}", hex(&sha2::Sha512::digest(bytes)))),
        _ => None,
    }
}

/// The payload a signed Docker schema 1 manifest (JWS, `…v1+prettyjws`) is named by: the bytes
/// before its signatures (`formatLength` of the first signature's protected header) and the
/// `formatTail` that closes them. `None` for anything else.
fn schema1_payload(body: &[u8]) -> Option<Vec<u8>> {
    #[derive(serde::Deserialize)]
    struct Signed {
        #[serde(rename = "schemaVersion")]
        schema_version: u32,
        signatures: Vec<Signature>,
    }
    #[derive(serde::Deserialize)]
    struct Signature {
        protected: String,
    }
    #[derive(serde::Deserialize)]
    struct Protected {
        #[serde(rename = "formatLength")]
        format_length: usize,
        #[serde(rename = "formatTail")]
        format_tail: String,
    }
    let url = &base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let signed: Signed = serde_json::from_slice(body).ok()?;
    let first = signed
        .signatures
        .first()
        .filter(|_| signed.schema_version == 1)?;
    let protected: Protected = serde_json::from_slice(&url.decode(&first.protected).ok()?).ok()?;
    let mut payload = body.get(..protected.format_length)?.to_vec();
    payload.extend(url.decode(&protected.format_tail).ok()?);
    Some(payload)
}

/// `sha256:<hex>` of `bytes`.
#[cfg(test)]
pub fn sha256_digest(bytes: &[u8]) -> String {
    digest_of_bytes("sha256:", bytes).expect("sha256 is known")
}

/// What a manifest that names its own media type (`mediaType`) references: all a cache entry
/// may be read by, since its bytes are proven and a media type beside them would not be.
pub fn self_described_refs(bytes: &[u8]) -> Option<ManifestRefs> {
    match manifest_refs(bytes, None) {
        Ok((refs, true)) => Some(refs),
        _ => None,
    }
}

/// What a manifest references, by its media type: its own `mediaType` when it names one (the
/// bytes are proven by their digest; a header is not), else the `Content-Type` it came with;
/// and whether it named its own.
fn manifest_refs(body: &[u8], header_type: Option<&str>) -> Result<(ManifestRefs, bool)> {
    #[derive(serde::Deserialize)]
    struct Descriptor {
        digest: String,
        size: Option<u64>,
    }
    #[derive(serde::Deserialize)]
    struct Manifest {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        #[serde(default)]
        manifests: Vec<Descriptor>,
        subject: Option<Descriptor>,
        config: Option<Descriptor>,
        /// An image's layers (`blobs` in the short-lived OCI artifact manifest).
        #[serde(default, alias = "blobs")]
        layers: Vec<Descriptor>,
    }
    let manifest: Manifest =
        serde_json::from_slice(body).context("the manifest is not valid JSON")?;
    let described = manifest.media_type.is_some();
    let media_type = manifest
        .media_type
        .or(header_type.map(str::to_string))
        .unwrap_or_default();
    let refs = match media_type.as_str() {
        OCI_INDEX | DOCKER_LIST => ManifestRefs {
            children: manifest.manifests.into_iter().map(|d| d.digest).collect(),
            subject: manifest.subject.map(|d| d.digest),
            is_index: true,
            blobs: Some(Box::new([])),
        },
        // Schema 1 names layers only (`fsLayers`, without sizes): a leaf whose storage is
        // unknown.
        DOCKER_SCHEMA1 | DOCKER_SCHEMA1_SIGNED => ManifestRefs::default(),
        OCI_MANIFEST | DOCKER_MANIFEST | OCI_ARTIFACT => {
            // A blob without a size cannot be counted: the storage is then unknown.
            let blobs = manifest
                .config
                .iter()
                .chain(&manifest.layers)
                .map(|d| Some(Blob::new(&d.digest, d.size?)))
                .collect::<Option<Box<[Blob]>>>();
            ManifestRefs {
                children: Vec::new(),
                subject: manifest.subject.map(|d| d.digest),
                is_index: false,
                blobs,
            }
        }
        other => bail!("unknown manifest media type {other:?}"),
    };
    Ok((refs, described))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A schema 1 manifest as skopeo signed it and the distribution registry served it, under
    /// the digest that registry gave it.
    const SIGNED_SCHEMA1: &str = r#"{"name":"acme/app","tag":"old","architecture":"amd64","fsLayers":[{"blobSum":"sha256:62f4f909cae3fbf87aa69472853ccabdc55b8fd6e5b25aca2eab82ea62f2b42a"}],"history":[{"v1Compatibility":"{\"architecture\":\"amd64\",\"config\":{},\"id\":\"1edbbc69d05f68e99c13c08cde8184bccf8e3f1b946f7cef35e4d073628ac485\",\"os\":\"linux\"}"}],"schemaVersion":1,"signatures":[{"header":{"jwk":{"crv":"P-256","kid":"5UFG:HJXL:DQDH:LCAZ:TFUI:IQXL:5JMR:SUAB:7ZTI:WUCH:BJ62:AAJQ","kty":"EC","x":"Z5vEeH3wukSmPhr2xiCTUbrkZgkPW_oz14Lb3kE0IoM","y":"r-bE8ouWoKQXxuqLi5PGa926DNdLLTwsEZ6IThaFjSo"},"alg":"ES256"},"signature":"XC4nSgR1VRH2ge0l9s2Tl88-vxQ0lAXtHdXOaHUMd9RNA3b4tCzf8QejfGlsQU8d9_YuXzDnmTX1a5kuLRabRA","protected":"eyJmb3JtYXRMZW5ndGgiOjM0MCwiZm9ybWF0VGFpbCI6ImZRIiwidGltZSI6IjIwMjYtMTItMDZUMDM6NTk6NTJaIn0"}]}"#;

    #[test]
    fn a_signed_schema_1_manifest_is_named_by_its_payload() {
        let named = "sha256:727a1a0fe1bc8f339e2d562a912213d6884d8babcd1adb0a308791f58db6f8fd";
        assert_ne!(sha256_digest(SIGNED_SCHEMA1.as_bytes()), named);
        let payload = schema1_payload(SIGNED_SCHEMA1.as_bytes()).unwrap();
        assert_eq!(sha256_digest(&payload), named);
        assert!(schema1_payload(br#"{"schemaVersion":2,"signatures":[]}"#).is_none());
        assert!(schema1_payload(b"not json").is_none());
        let (refs, described) =
            manifest_refs(SIGNED_SCHEMA1.as_bytes(), Some(DOCKER_SCHEMA1_SIGNED)).unwrap();
        assert_eq!(
            (refs, described),
            (ManifestRefs::default(), false),
            "a leaf"
        );
    }

    #[test]
    fn only_manifest_unknown_makes_a_ghost() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
        assert!(has_error_code(body, "MANIFEST_UNKNOWN"));
        assert!(!has_error_code(
            br#"{"errors":[{"code":"NAME_UNKNOWN"}]}"#,
            "MANIFEST_UNKNOWN"
        ));
        assert!(!has_error_code(b"not found", "MANIFEST_UNKNOWN"));
    }
}
