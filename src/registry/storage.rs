//! What a container package stores in the registry: the blobs (configs and layers) its versions'
//! manifests name, each stored once per package however many manifests name it. The bytes a set
//! of versions keeps are those of the distinct blobs they name; what a run frees is what only
//! the versions it removed named.

use crate::model::Version;
use crate::plan::graph::{Blob, ManifestRefs};
use std::collections::{HashMap, HashSet};

/// The blobs each listed version names, by version id, with every blob's size.
#[derive(Debug, Default)]
pub struct StoredBlobs {
    sizes: HashMap<u64, u64>,
    by_version: HashMap<u64, Box<[u64]>>,
}

impl StoredBlobs {
    /// The blobs of `versions` from their manifests (`refs`, by digest; `ghosts` name nothing);
    /// `None` when a version's blobs are unknown (a manifest from an older cache, a blob
    /// without a size), as then no figure would be true.
    pub fn of(
        versions: &[Version],
        refs: &HashMap<String, ManifestRefs>,
        ghosts: &HashSet<String>,
    ) -> Option<StoredBlobs> {
        let mut stored = StoredBlobs::default();
        for version in versions {
            if ghosts.contains(&version.name) {
                continue;
            }
            let blobs: &[Blob] = refs.get(&version.name)?.blobs.as_deref()?;
            for blob in blobs {
                stored.sizes.insert(blob.key, blob.size);
            }
            let keys: Box<[u64]> = blobs.iter().map(|b| b.key).collect();
            if !keys.is_empty() {
                stored.by_version.insert(version.id, keys);
            }
        }
        Some(stored)
    }

    /// The bytes the versions with these ids keep: each blob they name, once.
    pub fn bytes(&self, ids: impl IntoIterator<Item = u64>) -> u64 {
        let mut seen = HashSet::new();
        ids.into_iter()
            .filter_map(|id| self.by_version.get(&id))
            .flat_map(|keys| keys.iter())
            .filter(|key| seen.insert(**key))
            .map(|key| self.sizes.get(key).copied().unwrap_or(0))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(id: u64) -> Version {
        Version {
            id,
            name: format!("sha256:{id:064x}"),
            tags: Vec::new(),
            created_at: 0,
            updated_at: 0,
            deleted_at: None,
            html_url: None,
        }
    }

    fn image(blobs: &[(&str, u64)]) -> ManifestRefs {
        ManifestRefs {
            blobs: Some(blobs.iter().map(|(d, s)| Blob::new(d, *s)).collect()),
            ..ManifestRefs::default()
        }
    }

    #[test]
    fn a_shared_blob_is_counted_once_and_kept_while_one_version_names_it() {
        let versions: Vec<Version> = (1..=4).map(version).collect();
        let refs = HashMap::from([
            (
                versions[0].name.clone(),
                image(&[("c1", 10), ("base", 1000), ("l1", 100)]),
            ),
            (
                versions[1].name.clone(),
                image(&[("c2", 20), ("base", 1000), ("l2", 200)]),
            ),
            (
                versions[2].name.clone(),
                ManifestRefs {
                    is_index: true,
                    blobs: Some(Box::new([])),
                    ..ManifestRefs::default()
                },
            ),
        ]);
        let ghosts = HashSet::from([versions[3].name.clone()]);
        let stored = StoredBlobs::of(&versions, &refs, &ghosts).unwrap();
        assert_eq!(stored.bytes([1, 2, 3, 4]), 10 + 1000 + 100 + 20 + 200);
        assert_eq!(stored.bytes([2, 3, 4]), 20 + 1000 + 200);
        assert_eq!(stored.bytes([3, 4]), 0);
        assert_eq!(stored.bytes([1, 1]), 1110);
    }

    #[test]
    fn unknown_blobs_make_the_storage_unknown() {
        let versions = vec![version(1)];
        let cached = HashMap::from([(versions[0].name.clone(), ManifestRefs::default())]);
        assert!(StoredBlobs::of(&versions, &cached, &HashSet::new()).is_none());
        assert!(StoredBlobs::of(&versions, &HashMap::new(), &HashSet::new()).is_none());
    }
}
