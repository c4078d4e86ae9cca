//! The OCI registry client for container packages: the token flow (a 401 challenge, then the
//! registry's token endpoint with the GitHub token, once per package) and manifest reads, many at
//! a time, each digest read at most once per run and not at all when the manifest cache knows it.
//! A 404 `MANIFEST_UNKNOWN` is a ghost; a registry that keeps failing is given up for the package,
//! and so is one that does not have the repository (`NAME_UNKNOWN`, or not one listed manifest).

use crate::github::client::{Client, FailureBudget};
use crate::model::Version;
use crate::plan::graph::ManifestRefs;
use anyhow::Result;
use futures::stream::{self, StreamExt};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

mod auth;
pub mod cache;
mod manifest;
pub mod push;
pub mod storage;

use auth::{authorize, challenge, Challenge};
#[cfg(test)]
use manifest::sha256_digest;
use manifest::{digest_of_bytes, read_manifest, self_described_refs, Known};

/// Failed registry attempts (retries included) allowed per package before it is given up.
pub const FAILURES_PER_PACKAGE: usize = 5;

/// A manifest that could not be read: the digest and the cause.
#[derive(Debug, Clone)]
pub struct Unreadable {
    pub digest: String,
    pub cause: String,
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
    /// again), by digest. Consumes the reader, so the bytes move into the file, not copied.
    pub fn into_cache_entries(self) -> Vec<(String, Box<[u8]>)> {
        let listed = self.listed.into_inner().expect("registry lock");
        let mut entries: HashMap<String, Box<[u8]>> = self
            .cache
            .into_iter()
            .filter(|(digest, _)| listed.contains(digest))
            .map(|(digest, verified)| (digest, verified.bytes))
            .collect();
        for (digest, bytes) in self.bytes.into_inner().expect("registry lock") {
            if listed.contains(&digest) {
                entries.insert(digest, bytes);
            }
        }
        let mut entries: Vec<(String, Box<[u8]>)> = entries.into_iter().collect();
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
        manifests.broken = broken_images(&manifests.refs, &children);
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
        let (mut found, missing) = self.already_known(repository, digests, listed);
        let Some(first) = missing.first().cloned() else {
            return Ok(found);
        };
        let authorization = self
            .authorization(client, repository, budget)
            .await
            .map_err(|error| unreadable(&first, error))?;
        let authorization = authorization.as_deref();
        let results = read_all(client, repository, authorization, missing, budget).await;
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

    /// What this run read already, or the cache file knows (for listed digests), and the
    /// digests still to read.
    fn already_known(
        &self,
        repository: &Repository,
        digests: Vec<String>,
        listed: bool,
    ) -> (Vec<(String, Known)>, Vec<String>) {
        let mut found = Vec::with_capacity(digests.len());
        let mut missing = Vec::new();
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
        (found, missing)
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

/// The indexes among `refs` naming platform manifests that `children` (what the registry has
/// of the unlisted ones) shows missing: each index's digest with the missing digests.
fn broken_images(
    refs: &HashMap<String, ManifestRefs>,
    children: &[(String, Known)],
) -> Vec<(String, Vec<String>)> {
    let missing: HashSet<&String> = children
        .iter()
        .filter(|(_, known)| *known == Known::Ghost)
        .map(|(digest, _)| digest)
        .collect();
    let mut broken: Vec<(String, Vec<String>)> = refs
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
    broken
}

/// A manifest that could not be read, for `error`.
fn unreadable(digest: &str, error: anyhow::Error) -> Unreadable {
    Unreadable {
        digest: digest.to_string(),
        cause: format!("{error:#}"),
    }
}

/// What reading a manifest came to: what it is, with its bytes when they describe themselves.
type Read = Result<(Known, Option<Box<[u8]>>)>;

/// Reads the manifests of `digests`: the first alone, then, if it was read, the others many at
/// once; after the first failure (or with the failure budget spent), none more is asked for
/// (`None`).
async fn read_all(
    client: &Client,
    repository: &Repository,
    authorization: Option<&str>,
    digests: Vec<String>,
    budget: &FailureBudget,
) -> Vec<(String, Option<Read>)> {
    let stop = AtomicBool::new(false);
    let read_one = |digest: String| {
        let url = repository.url(&digest);
        let stop = &stop;
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
    let mut rest = digests.into_iter();
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
    results
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
