//! The OCI registry client for container packages: the token flow (a 401 challenge, then the
//! registry's token endpoint with the GitHub token, once per package) and manifest reads, many at
//! a time, each digest read at most once per run and not at all when the manifest cache knows it.
//! A 404 `MANIFEST_UNKNOWN` is a ghost; a registry that keeps failing is given up for the package,
//! and so is one that does not have the repository (`NAME_UNKNOWN`, or not one listed manifest).

use crate::github::client::{Client, FailureBudget};
use crate::model::Version;
use crate::plan::graph::ManifestRefs;
use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use futures::stream::{self, StreamExt};
use http::header::{ACCEPT, AUTHORIZATION};
use http::StatusCode;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

pub mod cache;
pub mod push;

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const OCI_ARTIFACT: &str = "application/vnd.oci.artifact.manifest.v1+json";
/// Docker schema 1, unsigned and signed: a registry serves it whatever the `Accept` header asks.
const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// Failed registry attempts (retries included) allowed per package before it is given up.
pub const FAILURES_PER_PACKAGE: usize = 5;

/// A manifest that could not be read: the digest and the cause.
#[derive(Debug, Clone)]
pub struct Unreadable {
    pub digest: String,
    pub cause: String,
}

/// What the registry has for a digest.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Known {
    Manifest(ManifestRefs),
    /// 404 `MANIFEST_UNKNOWN`.
    Ghost,
}

/// What the manifests of one package's versions say.
#[derive(Debug, Default)]
pub struct PackageManifests {
    /// By digest: what each listed version references (a ghost references nothing).
    pub refs: HashMap<String, ManifestRefs>,
    /// Listed versions whose manifest the registry does not have.
    pub ghosts: HashSet<String>,
    /// Indexes naming platform manifests that are neither listed nor readable: the index's
    /// digest and the missing digests.
    pub broken: Vec<(String, Vec<String>)>,
}

/// The registry's answer to `GET /v2/`: `None` when it needs no authorization, else the
/// parameters of its `Bearer` challenge.
type Challenge = Option<HashMap<String, String>>;

/// Reads manifests; remembers every one it read in this run (by manifest URL), each registry's
/// challenge and each repository's token, and what the manifest cache file held.
#[derive(Default)]
pub struct Registry {
    read: Mutex<HashMap<String, Known>>,
    /// The manifest cache file's entries that proved themselves, by digest (manifests never
    /// change for a digest).
    cache: HashMap<String, cache::Verified>,
    /// The bytes of the manifests read in this run that describe themselves, by digest, when a
    /// cache file keeps them (`cache_file`).
    bytes: Mutex<HashMap<String, Box<[u8]>>>,
    cache_file: bool,
    /// Digests the API listed in this run: the entries the cache file keeps.
    listed: Mutex<HashSet<String>>,
    challenges: tokio::sync::Mutex<HashMap<String, Challenge>>,
    authorizations: tokio::sync::Mutex<HashMap<String, Option<String>>>,
    reads: AtomicUsize,
    from_cache: AtomicUsize,
}

impl Registry {
    /// A registry reader starting from the manifest cache's verified entries, keeping the
    /// bytes of what it reads for the cache file.
    pub fn with_cache(cache: HashMap<String, cache::Verified>) -> Registry {
        Registry {
            cache,
            cache_file: true,
            ..Registry::default()
        }
    }

    /// Manifests read from the registry, and found in the cache, in this run.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.reads.load(Ordering::Relaxed),
            self.from_cache.load(Ordering::Relaxed),
        )
    }

    /// What the manifest cache knows of these versions, without asking the registry.
    pub fn cached(&self, versions: &[Version]) -> HashMap<String, ManifestRefs> {
        let known: HashMap<String, ManifestRefs> = versions
            .iter()
            .filter_map(|v| Some((v.name.clone(), self.cache.get(&v.name)?.refs.clone())))
            .collect();
        self.from_cache.fetch_add(known.len(), Ordering::Relaxed);
        known
    }

    /// Remembers that the API listed these versions (the cache keeps their entries).
    pub fn note_listed<'a>(&self, names: impl IntoIterator<Item = &'a str>) {
        let mut listed = self.listed.lock().expect("registry lock");
        listed.extend(names.into_iter().map(str::to_string));
    }

    /// What the manifest cache file holds after this run: the bytes of every listed digest
    /// whose manifest is known and describes itself (ghosts are not kept: they may be pushed
    /// again), by digest.
    pub fn cache_entries(&self) -> Vec<(String, Box<[u8]>)> {
        let listed = self.listed.lock().expect("registry lock");
        let bytes = self.bytes.lock().expect("registry lock");
        let mut entries: HashMap<&str, &[u8]> = HashMap::new();
        for (digest, verified) in &self.cache {
            if listed.contains(digest) {
                entries.insert(digest, &verified.bytes);
            }
        }
        for (digest, read) in bytes.iter() {
            if listed.contains(digest) {
                entries.insert(digest, read);
            }
        }
        let mut entries: Vec<(String, Box<[u8]>)> = entries
            .into_iter()
            .map(|(digest, bytes)| (digest.to_string(), bytes.into()))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries
    }

    /// The references of every version of a package, its ghosts and broken images, or the
    /// first manifest that failed (after which the package is given up).
    pub async fn references(
        &self,
        client: &Client,
        registry_url: &str,
        owner: &str,
        package: &str,
        versions: &[Version],
    ) -> Result<PackageManifests, Unreadable> {
        let budget = FailureBudget::new(FAILURES_PER_PACKAGE);
        let repository = Repository::new(registry_url, owner, package);
        let digests: Vec<String> = versions.iter().map(|v| v.name.clone()).collect();
        let known = self
            .known(client, &repository, digests, true, &budget)
            .await?;
        // Real registries answer MANIFEST_UNKNOWN for every manifest of a repository they lack:
        // with not one manifest there, this is the wrong registry, not a package of ghosts.
        if !known.iter().any(|(_, k)| matches!(k, Known::Manifest(_))) {
            if let Some((digest, _)) = known.first() {
                return Err(Unreadable {
                    digest: digest.clone(),
                    cause: repository.not_there(&format!(
                        "not one of the {} listed versions' manifests is there (404 MANIFEST_UNKNOWN)",
                        known.len()
                    )),
                });
            }
        }
        let mut manifests = PackageManifests::default();
        for (digest, known) in known {
            match known {
                Known::Manifest(refs) => {
                    manifests.refs.insert(digest, refs);
                }
                Known::Ghost => {
                    manifests
                        .refs
                        .insert(digest.clone(), ManifestRefs::default());
                    manifests.ghosts.insert(digest);
                }
            }
        }
        // Platform manifests an index names that are not listed: read them; those the registry
        // does not have make the index a broken image.
        let mut unlisted: Vec<String> = manifests
            .refs
            .values()
            .filter(|refs| refs.is_index)
            .flat_map(|refs| &refs.children)
            .filter(|child| !manifests.refs.contains_key(*child))
            .cloned()
            .collect();
        unlisted.sort();
        unlisted.dedup();
        if unlisted.is_empty() {
            return Ok(manifests);
        }
        let children = self
            .known(client, &repository, unlisted, false, &budget)
            .await?;
        let missing: HashSet<&String> = children
            .iter()
            .filter(|(_, known)| *known == Known::Ghost)
            .map(|(digest, _)| digest)
            .collect();
        let mut broken: Vec<(String, Vec<String>)> = manifests
            .refs
            .iter()
            .filter(|(_, refs)| refs.is_index)
            .filter_map(|(digest, refs)| {
                let gone: Vec<String> = refs
                    .children
                    .iter()
                    .filter(|child| missing.contains(child))
                    .cloned()
                    .collect();
                (!gone.is_empty()).then(|| (digest.clone(), gone))
            })
            .collect();
        broken.sort();
        manifests.broken = broken;
        Ok(manifests)
    }

    /// What the manifests of versions just restored reference (they are served again). A
    /// manifest that cannot be read is left out, with its cause.
    pub async fn restored(
        &self,
        client: &Client,
        registry_url: &str,
        owner: &str,
        package: &str,
        digests: Vec<String>,
    ) -> Result<HashMap<String, ManifestRefs>, Unreadable> {
        let budget = FailureBudget::new(FAILURES_PER_PACKAGE);
        let repository = Repository::new(registry_url, owner, package);
        // A restored version may have been asked for (and been unknown) while it was deleted.
        {
            let mut read = self.read.lock().expect("registry lock");
            for digest in &digests {
                if read.get(&repository.url(digest)) == Some(&Known::Ghost) {
                    read.remove(&repository.url(digest));
                }
            }
        }
        let known = self
            .known(client, &repository, digests, true, &budget)
            .await?;
        Ok(known
            .into_iter()
            .filter_map(|(digest, known)| match known {
                Known::Manifest(refs) => Some((digest, refs)),
                Known::Ghost => None,
            })
            .collect())
    }

    /// What the registry has for each digest: from this run's reads, the cache file (for listed
    /// versions: an unlisted digest may be gone since), or the registry (the first read alone,
    /// then many at once; the first failure ends the reading). Listed digests are counted.
    async fn known(
        &self,
        client: &Client,
        repository: &Repository,
        mut digests: Vec<String>,
        listed: bool,
        budget: &FailureBudget,
    ) -> Result<Vec<(String, Known)>, Unreadable> {
        digests.sort();
        digests.dedup();
        let mut found = Vec::with_capacity(digests.len());
        let mut missing = Vec::new();
        {
            let read = self.read.lock().expect("registry lock");
            for digest in digests {
                if let Some(known) = read.get(&repository.url(&digest)) {
                    found.push((digest, known.clone()));
                } else if let Some(cached) = self.cache.get(&digest).filter(|_| listed) {
                    self.from_cache.fetch_add(1, Ordering::Relaxed);
                    found.push((digest, Known::Manifest(cached.refs.clone())));
                } else {
                    missing.push(digest);
                }
            }
        }
        let Some(first) = missing.first().cloned() else {
            return Ok(found);
        };
        let unreadable = |digest: &str, error: anyhow::Error| Unreadable {
            digest: digest.to_string(),
            cause: format!("{error:#}"),
        };
        let authorization = self
            .authorization(client, repository, budget)
            .await
            .map_err(|error| unreadable(&first, error))?;
        let stop = AtomicBool::new(false);
        let read_one = |digest: String| {
            let url = repository.url(&digest);
            let (authorization, stop) = (authorization.as_deref(), &stop);
            async move {
                if stop.load(Ordering::Relaxed) || budget.is_spent() {
                    return (digest, None);
                }
                let known =
                    read_manifest(client, repository, &url, &digest, authorization, budget).await;
                if known.is_err() {
                    stop.store(true, Ordering::Relaxed);
                }
                (digest, Some(known))
            }
        };
        let mut rest = missing.into_iter();
        let first_read = read_one(rest.next().expect("one is missing")).await;
        let mut results = vec![first_read];
        if matches!(results[0].1, Some(Ok(_))) {
            let others: Vec<_> = stream::iter(rest)
                .map(read_one)
                .buffer_unordered(client.registry_in_flight())
                .collect()
                .await;
            results.extend(others);
        }
        let mut read = self.read.lock().expect("registry lock");
        let mut kept_bytes = self.bytes.lock().expect("registry lock");
        let mut failure = None;
        for (digest, known) in results {
            match known {
                Some(Ok((known, bytes))) => {
                    if listed {
                        self.reads.fetch_add(1, Ordering::Relaxed);
                    }
                    if let Some(bytes) = bytes.filter(|_| self.cache_file) {
                        kept_bytes.insert(digest.clone(), bytes);
                    }
                    read.insert(repository.url(&digest), known.clone());
                    found.push((digest, known));
                }
                Some(Err(error)) if failure.is_none() => {
                    let error = if budget.is_spent() {
                        error.context(format!(
                            "the registry failed {FAILURES_PER_PACKAGE} times for this package: it is given up for this run"
                        ))
                    } else {
                        error
                    };
                    failure = Some(unreadable(&digest, error));
                }
                Some(Err(_)) | None => {}
            }
        }
        match failure {
            Some(failure) => Err(failure),
            None => Ok(found),
        }
    }

    /// The `Authorization` header for a repository: one token per repository and run.
    async fn authorization(
        &self,
        client: &Client,
        repository: &Repository,
        budget: &FailureBudget,
    ) -> Result<Option<String>> {
        let mut authorizations = self.authorizations.lock().await;
        if let Some(known) = authorizations.get(&repository.base) {
            return Ok(known.clone());
        }
        // One challenge per registry and run (`GET /v2/`).
        let challenge = {
            let mut challenges = self.challenges.lock().await;
            match challenges.get(&repository.registry_url) {
                Some(known) => known.clone(),
                None => {
                    let fresh = challenge(client, &repository.registry_url, Some(budget)).await?;
                    challenges.insert(repository.registry_url.clone(), fresh.clone());
                    fresh
                }
            }
        };
        let authorization = authorize(
            client,
            &repository.registry_url,
            challenge.as_ref(),
            &repository.name,
            budget,
        )
        .await?;
        authorizations.insert(repository.base.clone(), authorization.clone());
        Ok(authorization)
    }
}

/// A package's repository on a registry.
struct Repository {
    registry_url: String,
    /// `owner/package`, lower case.
    name: String,
    /// `{registry}/v2/{name}/manifests`.
    base: String,
}

impl Repository {
    fn new(registry_url: &str, owner: &str, package: &str) -> Repository {
        let name = format!("{}/{}", owner.to_lowercase(), package.to_lowercase());
        let base = format!("{}/v2/{name}/manifests", registry_url.trim_end_matches('/'));
        Repository {
            registry_url: registry_url.to_string(),
            name,
            base,
        }
    }

    fn url(&self, digest: &str) -> String {
        format!("{}/{digest}", self.base)
    }

    /// The cause of a package given up because the registry does not have its repository.
    fn not_there(&self, evidence: &str) -> String {
        format!(
            "the registry {} does not have the repository {}: {evidence}; is registry-url the registry of these packages?",
            self.registry_url, self.name
        )
    }
}

/// Asks `GET /v2/` without credentials: `None` when the registry needs no authorization, else
/// its `Bearer` challenge. Failed attempts spend `budget`, when given.
async fn challenge(
    client: &Client,
    registry_url: &str,
    budget: Option<&FailureBudget>,
) -> Result<Challenge> {
    let url = format!("{}/v2/", registry_url.trim_end_matches('/'));
    let answer = client
        .get_registry(&url, Vec::new(), budget)
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
    budget: &FailureBudget,
) -> Result<Option<String>> {
    authorize_for(
        client,
        registry_url,
        challenge,
        repository,
        "pull",
        Some(budget),
    )
    .await
}

/// As [`authorize`], for `actions` (`pull`, or `pull,push`) on `repository`; failed attempts
/// spend `budget`, when given.
async fn authorize_for(
    client: &Client,
    registry_url: &str,
    challenge: Option<&HashMap<String, String>>,
    repository: &str,
    actions: &str,
    budget: Option<&FailureBudget>,
) -> Result<Option<String>> {
    let Some(params) = challenge else {
        return Ok(None);
    };
    crate::github::client::check_realm(registry_url, &params["realm"])?;
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
        .get_registry(
            &token_url,
            vec![(AUTHORIZATION, format!("Basic {basic}"))],
            budget,
        )
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

/// The `(code, message)` pairs of an OCI error body (`{"errors":[{"code":…,"message":…}]}`);
/// none when the body is not one.
fn oci_errors(body: &[u8]) -> Vec<(String, String)> {
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
async fn read_manifest(
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
        },
        // Schema 1 names layers only (`fsLayers`): a leaf.
        DOCKER_SCHEMA1 | DOCKER_SCHEMA1_SIGNED => ManifestRefs::default(),
        OCI_MANIFEST | DOCKER_MANIFEST | OCI_ARTIFACT => ManifestRefs {
            children: Vec::new(),
            subject: manifest.subject.map(|d| d.digest),
            is_index: false,
        },
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
    fn challenges() {
        let params = parse_challenge(
            r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/app:pull""#,
        )
        .unwrap();
        assert_eq!(params["realm"], "https://ghcr.io/token");
        assert_eq!(params["scope"], "repository:acme/app:pull");
        assert!(parse_challenge("Basic realm=\"x\"").is_none());
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
