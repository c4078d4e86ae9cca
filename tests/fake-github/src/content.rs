//! Content addressing, as every OCI registry has it: a container version's name is the sha256
//! of the exact manifest bytes the registry serves for it, and so is every digest a manifest or
//! a tag names (index `manifests[].digest`, `subject`, `sha256-<hex>` tags).
//!
//! Tests build worlds with made-up digests ([`crate::digest`]) as labels: an index lists its
//! platform manifests by label before they exist. [`World::seal`] (run by
//! [`crate::FakeGithub::start`] and after every [`crate::FakeGithub::update_world`]) then names
//! every manifest by its content, bottom-up through indexes and referrers, and rewrites the labels
//! wherever they appear; [`Package::digest_of`] tells the digest a label became. A label naming
//! no manifest (a ghost, a digest no version has) stays as it is.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::push::sha256_digest;
use crate::world::{Blob, ImageBlobs, Manifest, Package, Version, World};

pub(crate) const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const IMAGE_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// The descriptor size of a manifest the package cannot serve (a ghost, a missing platform).
const UNKNOWN_MANIFEST_SIZE: usize = 1024;
/// How deep [`served`] follows indexes to size the manifests they list (a sealed world is
/// acyclic; this only bounds a world changed without sealing).
const MAX_SIZING_DEPTH: usize = 16;
const PLATFORMS: [(&str, &str); 4] = [
    ("amd64", ""),
    ("arm64", "v8"),
    ("arm", "v7"),
    ("ppc64le", ""),
];

/// What a manifest says about another manifest it names.
#[derive(Clone, Debug)]
struct Descriptor {
    media_type: String,
    digest: String,
    size: usize,
}

/// The media type and the exact body the registry serves for `version` of `package`; `None` for
/// a ghost. After [`World::seal`], the sha256 of the body is the version's name.
pub(crate) fn served(package: &Package, version: &Version) -> Option<(String, String)> {
    served_within(package, version, MAX_SIZING_DEPTH)
}

fn served_within(package: &Package, version: &Version, depth: usize) -> Option<(String, String)> {
    let describe = |digest: &str| {
        let named = package
            .version_named(digest)
            .filter(|_| depth > 0)
            .and_then(|v| served_within(package, v, depth - 1));
        match named {
            Some((media_type, body)) => Descriptor {
                media_type,
                digest: digest.to_owned(),
                size: body.len(),
            },
            None => unknown_descriptor(package, digest, digest),
        }
    };
    body(version, &describe)
}

/// A manifest that cannot be served, named `digest` (its label was `label`).
fn unknown_descriptor(package: &Package, label: &str, digest: &str) -> Descriptor {
    let media_type = match package
        .version_named(label)
        .and_then(|v| v.manifest.as_ref())
    {
        Some(Manifest::Index { .. }) => INDEX_MEDIA_TYPE.to_owned(),
        Some(Manifest::Raw { media_type, .. }) => media_type.clone(),
        _ => IMAGE_MEDIA_TYPE.to_owned(),
    };
    Descriptor {
        media_type,
        digest: digest.to_owned(),
        size: UNKNOWN_MANIFEST_SIZE,
    }
}

/// The body of `version`'s manifest, naming other manifests as `describe` describes them.
fn body(version: &Version, describe: &dyn Fn(&str) -> Descriptor) -> Option<(String, String)> {
    let descriptor_json = |digest: &str| {
        let d = describe(digest);
        json!({ "mediaType": d.media_type, "digest": d.digest, "size": d.size })
    };
    let body: Value = match &version.manifest {
        Some(Manifest::Ghost) => return None,
        Some(Manifest::Raw { media_type, body }) => {
            let renamed = rename_digests(body, &|d| describe(d).digest);
            return Some((media_type.clone(), renamed));
        }
        Some(Manifest::Index { children }) => json!({
            "schemaVersion": 2,
            "mediaType": INDEX_MEDIA_TYPE,
            "manifests": children.iter().enumerate().map(|(i, child)| {
                let (architecture, variant) = PLATFORMS[i % PLATFORMS.len()];
                let mut entry = descriptor_json(child);
                entry["platform"] = if variant.is_empty() {
                    json!({ "architecture": architecture, "os": "linux" })
                } else {
                    json!({ "architecture": architecture, "os": "linux", "variant": variant })
                };
                entry
            }).collect::<Vec<_>>(),
        }),
        Some(Manifest::Image { subject, blobs }) => image_body(
            seed_of(version),
            blobs.as_ref(),
            subject.as_deref().map(descriptor_json),
        ),
        None => image_body(seed_of(version), None, None),
    };
    let media_type = body["mediaType"].as_str().expect("set above").to_owned();
    Some((media_type, body.to_string()))
}

/// What makes an image's bytes its own: the label it was built with.
fn seed_of(version: &Version) -> &str {
    version.label.as_deref().unwrap_or(&version.name)
}

/// An image manifest of `blobs`, or of a config and a layer derived from `seed`.
fn image_body(seed: &str, blobs: Option<&ImageBlobs>, subject: Option<Value>) -> Value {
    let own;
    let blobs = match blobs {
        Some(blobs) => blobs,
        None => {
            own = ImageBlobs {
                config: Blob {
                    digest: sha256_digest(format!("config of {seed}").as_bytes()),
                    size: 1469,
                },
                layers: vec![Blob {
                    digest: sha256_digest(format!("layer of {seed}").as_bytes()),
                    size: 3_145_728,
                }],
            };
            &own
        }
    };
    let descriptor = |media_type: &str, blob: &Blob| json!({ "mediaType": media_type, "digest": blob.digest, "size": blob.size });
    let mut body = json!({
        "schemaVersion": 2,
        "mediaType": IMAGE_MEDIA_TYPE,
        "config": descriptor(CONFIG_MEDIA_TYPE, &blobs.config),
        "layers": blobs.layers.iter().map(|l| descriptor(LAYER_MEDIA_TYPE, l)).collect::<Vec<_>>(),
    });
    if let Some(subject) = subject {
        body["subject"] = subject;
    }
    body
}

/// `text` with every `sha256:<64 hex>` in it replaced by `rename` of it.
fn rename_digests(text: &str, rename: &dyn Fn(&str) -> String) -> String {
    const PREFIX: &str = "sha256:";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(PREFIX) {
        let end = at + PREFIX.len() + 64;
        let candidate = rest.get(at..end).filter(|d| is_digest(d));
        out.push_str(&rest[..at]);
        match candidate {
            Some(digest) => {
                out.push_str(&rename(digest));
                rest = &rest[end..];
            }
            None => {
                out.push_str(PREFIX);
                rest = &rest[at + PREFIX.len()..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `sha256:` and 64 lower-case hex digits.
fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// A tag `sha256-<hex>[.<anything>]` with its digest renamed.
fn rename_tag(tag: &str, rename: &dyn Fn(&str) -> String) -> String {
    match tag_label(tag) {
        Some(label) => {
            let suffix = &tag["sha256-".len() + 64..];
            format!("sha256-{}{suffix}", &rename(&label)["sha256:".len()..])
        }
        None => tag.to_owned(),
    }
}

/// A manifest's digest, media type and size once sealed.
#[derive(Clone, Debug)]
struct Sealed {
    digest: String,
    media_type: String,
    size: usize,
}

/// The sealing of one package: labels resolved to digests, bottom-up, each once.
struct Sealing<'a> {
    package: &'a Package,
    /// Label → the version [`Package::version_named`] finds for it.
    by_name: HashMap<&'a str, usize>,
    resolved: HashMap<String, Option<Sealed>>,
    /// Labels being resolved, to refuse a cycle (no content can name itself).
    open: Vec<String>,
}

impl<'a> Sealing<'a> {
    fn new(package: &'a Package) -> Sealing<'a> {
        let mut by_name: HashMap<&str, usize> = HashMap::new();
        for (index, version) in package.versions.iter().enumerate() {
            let slot = by_name.entry(&version.name).or_insert(index);
            if package.versions[*slot].is_deleted() && !version.is_deleted() {
                *slot = index;
            }
        }
        Sealing {
            package,
            by_name,
            resolved: HashMap::new(),
            open: Vec::new(),
        }
    }

    /// The digest `label` becomes: itself when no version serves a manifest for it.
    fn rename(&mut self, label: &str) -> String {
        self.resolve(label)
            .map_or_else(|| label.to_owned(), |sealed| sealed.digest)
    }

    fn resolve(&mut self, label: &str) -> Option<Sealed> {
        if let Some(known) = self.resolved.get(label) {
            return known.clone();
        }
        assert!(
            !self.open.iter().any(|open| open == label),
            "package {}: the manifests {:?} name each other in a cycle, which content addressing \
             cannot express",
            self.package.name,
            self.open
        );
        let version = self.by_name.get(label).map(|&i| &self.package.versions[i]);
        self.open.push(label.to_owned());
        let sealed = version.and_then(|v| self.seal(v));
        self.open.pop();
        self.resolved.insert(label.to_owned(), sealed.clone());
        sealed
    }

    /// The sealed form of `version`: its body with every label renamed, hashed.
    fn seal(&mut self, version: &Version) -> Option<Sealed> {
        let labels = labels_named_by(version);
        let mut descriptors: HashMap<String, Descriptor> = HashMap::new();
        for label in labels {
            let descriptor = match self.resolve(&label) {
                Some(sealed) => Descriptor {
                    media_type: sealed.media_type,
                    digest: sealed.digest,
                    size: sealed.size,
                },
                None => unknown_descriptor(self.package, &label, &label),
            };
            descriptors.insert(label, descriptor);
        }
        let describe = |label: &str| descriptors[label].clone();
        let (media_type, body) = body(version, &describe)?;
        Some(Sealed {
            digest: sha256_digest(body.as_bytes()),
            media_type,
            size: body.len(),
        })
    }
}

/// The labels `version`'s manifest names: its platform manifests, its subject, the digests in
/// a raw body.
fn labels_named_by(version: &Version) -> Vec<String> {
    match &version.manifest {
        Some(Manifest::Index { children }) => children.clone(),
        Some(Manifest::Image {
            subject: Some(subject),
            ..
        }) => vec![subject.clone()],
        Some(Manifest::Raw { body, .. }) => {
            let found = std::cell::RefCell::new(Vec::new());
            rename_digests(body, &|d| {
                found.borrow_mut().push(d.to_owned());
                d.to_owned()
            });
            found.into_inner()
        }
        _ => Vec::new(),
    }
}

impl World {
    /// Names every container manifest by its content (see the module doc). Idempotent.
    pub fn seal(&mut self) {
        for package in &mut self.packages {
            if package.package_type == "container" {
                seal_package(package);
            }
        }
    }

    /// This world, sealed.
    pub fn sealed(mut self) -> World {
        self.seal();
        self
    }
}

fn seal_package(package: &mut Package) {
    let mut sealing = Sealing::new(package);
    let renames: Vec<(Option<String>, HashMap<String, String>)> = package
        .versions
        .iter()
        .map(|version| {
            let own = sealing.seal(version).map(|sealed| sealed.digest);
            let mut named: Vec<String> = labels_named_by(version);
            named.extend(version.tags.iter().filter_map(|tag| tag_label(tag)));
            let renamed = named
                .into_iter()
                .map(|label| {
                    let digest = sealing.rename(&label);
                    (label, digest)
                })
                .collect();
            (own, renamed)
        })
        .collect();
    for (version, (own, renamed)) in package.versions.iter_mut().zip(renames) {
        let rename = |label: &str| {
            renamed
                .get(label)
                .cloned()
                .unwrap_or_else(|| label.to_owned())
        };
        version.label.get_or_insert_with(|| version.name.clone());
        if let Some(digest) = own {
            version.name = digest;
        }
        version.tags = version
            .tags
            .iter()
            .map(|t| rename_tag(t, &rename))
            .collect();
        match &mut version.manifest {
            Some(Manifest::Index { children }) => {
                for child in children {
                    *child = rename(child);
                }
            }
            Some(Manifest::Image {
                subject: Some(subject),
                ..
            }) => *subject = rename(subject),
            Some(Manifest::Raw { body, .. }) => *body = rename_digests(body, &rename),
            _ => {}
        }
    }
}

/// The label a `sha256-<hex>[.x]` tag names.
fn tag_label(tag: &str) -> Option<String> {
    let rest = tag.strip_prefix("sha256-")?;
    let hex = &rest[..rest.find('.').unwrap_or(rest.len())];
    let label = format!("sha256:{hex}");
    is_digest(&label).then_some(label)
}

impl Package {
    /// The media type and the exact bytes the registry serves for the active version named
    /// `digest`; `None` for a ghost or a digest no active version has.
    pub fn manifest_served(&self, digest: &str) -> Option<(String, String)> {
        let version = self.active_versions().find(|v| v.name == digest)?;
        served(self, version)
    }

    /// The digest of the version built with the name `label` (see [`World::seal`]): its name
    /// once sealed; `label` itself when no version has it (a ghost keeps its label).
    pub fn digest_of(&self, label: &str) -> String {
        let mut built = self
            .versions
            .iter()
            .filter(|v| v.label.as_deref() == Some(label) || v.name == label);
        let first = built.clone().next();
        built
            .find(|v| !v.is_deleted())
            .or(first)
            .map_or_else(|| label.to_owned(), |v| v.name.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{days, digest};

    #[test]
    fn digests_in_raw_text_and_tags_are_renamed_and_nothing_else() {
        let label = digest(1);
        let rename = |d: &str| {
            if d == label {
                "sha256:".to_owned() + &"a".repeat(64)
            } else {
                d.to_owned()
            }
        };
        let text = format!("[\"{label}\", \"sha256:12\", \"{}\"]", digest(2));
        assert_eq!(
            rename_digests(&text, &rename),
            format!(
                "[\"sha256:{}\", \"sha256:12\", \"{}\"]",
                "a".repeat(64),
                digest(2)
            )
        );
        let tag = format!("sha256-{}.sig", &label[7..]);
        assert_eq!(
            rename_tag(&tag, &rename),
            format!("sha256-{}.sig", "a".repeat(64))
        );
        assert_eq!(rename_tag("sha256-abc.sig", &rename), "sha256-abc.sig");
        assert_eq!(rename_tag("v1", &rename), "v1");
    }

    #[test]
    #[should_panic(expected = "cycle")]
    fn a_cycle_cannot_be_sealed() {
        let mut world = World::new().org("acme");
        let app = world.add_package("acme", "container", "app");
        app.add_version(&digest(1), &[], days(1))
            .with_manifest(Manifest::index(&[digest(2)]));
        app.add_version(&digest(2), &[], days(1))
            .with_manifest(Manifest::referrer_of(&digest(1)));
        world.seal();
    }
}
