//! What a container package stores in the registry: the config and layer blobs its active
//! versions' manifests name, each once however many manifests name it (a shared base layer
//! is stored once). The model a run's storage figures and `bytes-freed` are checked against.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::content::served;
use crate::world::Package;

impl Package {
    /// The blobs (digest → size) named by the manifests the registry serves for the active
    /// versions (an index names manifests, not blobs; a ghost names nothing).
    pub fn stored_blobs(&self) -> BTreeMap<String, u64> {
        let mut blobs = BTreeMap::new();
        for version in self.active_versions() {
            let Some((_, body)) = served(self, version) else {
                continue;
            };
            let Ok(body) = serde_json::from_str::<Value>(&body) else {
                continue;
            };
            let layers = body["layers"].as_array().into_iter().flatten();
            for descriptor in std::iter::once(&body["config"]).chain(layers) {
                if let (Some(digest), Some(size)) =
                    (descriptor["digest"].as_str(), descriptor["size"].as_u64())
                {
                    blobs.insert(digest.to_owned(), size);
                }
            }
        }
        blobs
    }

    /// The bytes of [`Package::stored_blobs`].
    pub fn stored_bytes(&self) -> u64 {
        self.stored_blobs().values().sum()
    }
}
