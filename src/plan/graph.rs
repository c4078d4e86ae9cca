//! The reference graph of a container package: which versions a version needs. An index needs
//! its platform manifests; an image needs its signatures and attestations (versions tagged
//! `sha256-<hex>` or `sha256-<hex>.<anything>` for its digest) and its referrers (versions whose
//! manifest names it as `subject`). Pure: built from versions and already-read manifests.

use crate::model::Version;
use std::collections::{HashMap, VecDeque};

/// What one manifest points at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManifestRefs {
    /// The `manifests` of an index or manifest list.
    pub children: Vec<String>,
    /// The `subject` of a referrer (signature, attestation, SBOM…).
    pub subject: Option<String>,
    /// An index or manifest list (a multi-platform image), not an image manifest.
    pub is_index: bool,
    /// The blobs it names (an image's config and layers; none for an index), for the storage
    /// figures, not the graph; `None` when unknown (an entry of an older manifest cache).
    pub blobs: Option<Box<[Blob]>>,
}

/// A blob a manifest names: a key of its digest (stored blobs are told apart by digest within a
/// package; 64 bits of a sha256 are as good as the whole here) and its size in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blob {
    pub key: u64,
    pub size: u64,
}

impl Blob {
    /// The blob of a descriptor: its digest and size.
    pub fn new(digest: &str, size: u64) -> Blob {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::hash::DefaultHasher::new();
        digest.hash(&mut hasher);
        Blob {
            key: hasher.finish(),
            size,
        }
    }
}

/// How a version is needed by another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    PlatformManifest,
    TaggedReferrer,
    SubjectReferrer,
}

impl Relation {
    pub fn describe(self) -> &'static str {
        match self {
            Relation::PlatformManifest => "platform manifest",
            Relation::TaggedReferrer => "signature or attestation",
            Relation::SubjectReferrer => "referrer",
        }
    }
}

/// Edges between the versions of one package, by index into its version list.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    needs: Vec<Vec<(usize, Relation)>>,
    needed_by_count: Vec<usize>,
}

impl Graph {
    pub fn build(versions: &[Version], manifests: &HashMap<String, ManifestRefs>) -> Graph {
        let by_digest: HashMap<&str, usize> = versions
            .iter()
            .enumerate()
            .map(|(index, version)| (version.name.as_str(), index))
            .collect();
        let mut needs = vec![Vec::new(); versions.len()];
        for (index, version) in versions.iter().enumerate() {
            // Tag edges come from the version's tags alone, whether or not its manifest is known.
            for tag in &version.tags {
                if let Some(subject) = tagged_subject(tag) {
                    if let Some(&subject_index) = by_digest.get(subject.as_str()) {
                        needs[subject_index].push((index, Relation::TaggedReferrer));
                    }
                }
            }
            let Some(refs) = manifests.get(&version.name) else {
                continue;
            };
            for child in &refs.children {
                if let Some(&child_index) = by_digest.get(child.as_str()) {
                    needs[index].push((child_index, Relation::PlatformManifest));
                }
            }
            if let Some(&subject_index) = refs.subject.as_deref().and_then(|s| by_digest.get(s)) {
                needs[subject_index].push((index, Relation::SubjectReferrer));
            }
        }
        let mut needed_by_count = vec![0; versions.len()];
        for edges in &mut needs {
            edges.sort_unstable_by_key(|(target, _)| *target);
            edges.dedup_by_key(|(target, _)| *target);
            for (target, _) in edges.iter() {
                needed_by_count[*target] += 1;
            }
        }
        Graph {
            needs,
            needed_by_count,
        }
    }

    pub fn len(&self) -> usize {
        self.needs.len()
    }

    /// Whether any version of the package needs this one.
    pub fn is_needed(&self, index: usize) -> bool {
        self.needed_by_count.get(index).copied().unwrap_or(0) > 0
    }

    pub fn needs(&self, index: usize) -> &[(usize, Relation)] {
        self.needs.get(index).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Everything the roots reach (roots excluded), each with the version that first reached it
    /// (breadth first) and how.
    pub fn reach(&self, roots: impl IntoIterator<Item = usize>) -> Vec<Option<(usize, Relation)>> {
        let mut reached_from = vec![None; self.len()];
        let mut seen = vec![false; self.len()];
        let mut queue = VecDeque::new();
        for root in roots {
            if !seen[root] {
                seen[root] = true;
                queue.push_back(root);
            }
        }
        while let Some(node) = queue.pop_front() {
            for &(target, relation) in &self.needs[node] {
                if !seen[target] {
                    seen[target] = true;
                    reached_from[target] = Some((node, relation));
                    queue.push_back(target);
                }
            }
        }
        reached_from
    }
}

/// `sha256-<hex>` or `sha256-<hex>.<anything>` → `sha256:<hex>`.
fn tagged_subject(tag: &str) -> Option<String> {
    let rest = tag.strip_prefix("sha256-")?;
    let hex = rest.split_once('.').map_or(rest, |(hex, _)| hex);
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| format!("sha256:{hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_tags_name_their_subject() {
        let hex = "a".repeat(64);
        assert_eq!(
            tagged_subject(&format!("sha256-{hex}.sig")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(
            tagged_subject(&format!("sha256-{hex}")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(tagged_subject("sha256-abc.sig"), None);
        assert_eq!(tagged_subject("v1.0"), None);
    }
}
