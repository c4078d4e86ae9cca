//! The world the interop suite pushes into the real registry, with real blobs: an OCI index and
//! a Docker manifest list with their platform images, a single image with two tags, an orphan,
//! `sha256-<digest>.sig` signatures, an OCI 1.1 `subject` referrer, and (skopeo `--format v2s1`)
//! a Docker schema 1 image. Each manifest pushed is returned with its bytes, so the fake GitHub
//! can list the same versions (and serve the same bytes).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use fake_github::client::{send_body, Reply};
use fake_github::{days, sha256_digest, Manifest, Package};
use serde_json::{json, Value};

use super::distribution::Scratch;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_IMAGE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_IMAGE: &str = "application/vnd.docker.distribution.manifest.v2+json";
const TIMEOUT: Duration = Duration::from_secs(20);

/// A manifest in the registry, as the API lists it.
#[derive(Clone, Debug)]
pub struct Pushed {
    pub digest: String,
    pub media_type: String,
    pub body: String,
    pub tags: Vec<String>,
    pub age_days: u64,
    /// Served by the registry under a digest that is not the sha256 of its bytes (schema 1).
    pub not_content_addressed: bool,
}

impl Pushed {
    fn descriptor(&self) -> Value {
        json!({ "mediaType": self.media_type, "digest": self.digest, "size": self.body.len() })
    }

    /// `sha256-<hex>`: the tag prefix of the signatures of this manifest.
    pub fn signature_tag(&self) -> String {
        format!("{}.sig", self.digest.replace(':', "-"))
    }
}

/// Pushes blobs and manifests to one repository of a registry without authentication.
pub struct Pusher {
    pub registry: String,
    pub repository: String,
}

impl Pusher {
    fn send(&self, method: &str, target: &str, content_type: &str, body: &[u8]) -> Reply {
        let target = target.strip_prefix(&self.registry).unwrap_or(target);
        send_body(
            &self.registry,
            method,
            target,
            &[("Content-Type", content_type)],
            body,
            TIMEOUT,
        )
        .unwrap_or_else(|| panic!("no answer to {method} {target}"))
    }

    /// Uploads `bytes` (POST, then PUT to the `Location` with `&digest=`); their digest.
    pub fn blob(&self, bytes: &[u8]) -> String {
        let digest = sha256_digest(bytes);
        let started = self.send(
            "POST",
            &format!("/v2/{}/blobs/uploads/", self.repository),
            "application/octet-stream",
            &[],
        );
        assert_eq!(started.status, 202, "{}", started.body);
        let location = started.header("location").expect("a Location");
        let separator = if location.contains('?') { '&' } else { '?' };
        let stored = self.send(
            "PUT",
            &format!("{location}{separator}digest={digest}"),
            "application/octet-stream",
            bytes,
        );
        assert_eq!(stored.status, 201, "{}", stored.body);
        digest
    }

    /// Pushes a manifest under `tags` (by digest when there are none).
    pub fn manifest(&self, media_type: &str, body: Value, tags: &[&str], age_days: u64) -> Pushed {
        let body = body.to_string();
        let digest = sha256_digest(body.as_bytes());
        let references: Vec<&str> = if tags.is_empty() {
            vec![digest.as_str()]
        } else {
            tags.to_vec()
        };
        for reference in references {
            let stored = self.send(
                "PUT",
                &format!("/v2/{}/manifests/{reference}", self.repository),
                media_type,
                body.as_bytes(),
            );
            assert_eq!(stored.status, 201, "{reference}: {}", stored.body);
            assert_eq!(
                stored.header("docker-content-digest"),
                Some(digest.as_str())
            );
        }
        Pushed {
            digest,
            media_type: media_type.to_owned(),
            body,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            age_days,
            not_content_addressed: false,
        }
    }

    /// An image of one layer (`layer` bytes) for `architecture`, OCI or Docker media types.
    fn image(
        &self,
        docker: bool,
        architecture: &str,
        layer: &str,
        tags: &[&str],
        age: u64,
    ) -> Pushed {
        let config = json!({
            "architecture": architecture, "os": "linux",
            "rootfs": { "type": "layers", "diff_ids": [sha256_digest(layer.as_bytes())] },
        })
        .to_string();
        let (media_type, config_type, layer_type) = if docker {
            (
                DOCKER_IMAGE,
                "application/vnd.docker.container.image.v1+json",
                "application/vnd.docker.image.rootfs.diff.tar",
            )
        } else {
            (
                OCI_IMAGE,
                "application/vnd.oci.image.config.v1+json",
                "application/vnd.oci.image.layer.v1.tar",
            )
        };
        let body = json!({
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": { "mediaType": config_type, "digest": self.blob(config.as_bytes()), "size": config.len() },
            "layers": [{ "mediaType": layer_type, "digest": self.blob(layer.as_bytes()), "size": layer.len() }],
        });
        self.manifest(media_type, body, tags, age)
    }

    /// An OCI 1.1 artifact (empty config, one layer of `content`) with optional `subject`.
    fn artifact(
        &self,
        artifact_type: &str,
        content: &str,
        subject: Option<&Pushed>,
        tags: &[&str],
        age: u64,
    ) -> Pushed {
        let empty = self.blob(b"{}");
        let mut body = json!({
            "schemaVersion": 2,
            "mediaType": OCI_IMAGE,
            "artifactType": artifact_type,
            "config": { "mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2 },
            "layers": [{ "mediaType": artifact_type, "digest": self.blob(content.as_bytes()), "size": content.len() }],
        });
        if let Some(subject) = subject {
            body["subject"] = subject.descriptor();
        }
        self.manifest(OCI_IMAGE, body, tags, age)
    }
}

/// The versions of `acme/app` and their roles.
pub struct AppWorld {
    pub oci_platforms: Vec<Pushed>,
    pub oci_index: Pushed,
    pub index_signature: Pushed,
    pub docker_platforms: Vec<Pushed>,
    pub docker_list: Pushed,
    pub list_signature: Pushed,
    /// Tagged `v1.1.0` and `pr-7`.
    pub single: Pushed,
    /// An SBOM whose `subject` is `single`.
    pub sbom: Pushed,
    pub orphan: Pushed,
}

impl AppWorld {
    pub fn all(&self) -> Vec<&Pushed> {
        let mut all: Vec<&Pushed> = self.oci_platforms.iter().collect();
        all.extend([&self.oci_index, &self.index_signature]);
        all.extend(self.docker_platforms.iter());
        all.extend([
            &self.docker_list,
            &self.list_signature,
            &self.single,
            &self.sbom,
            &self.orphan,
        ]);
        all
    }

    /// What a clean-up of everything older than a week deletes: the Docker manifest list with
    /// its platform images and signature, the single image with its SBOM, and the orphan; the
    /// OCI index keeps its (old) platform images and signature.
    pub fn older_than_a_week_deletes(&self) -> Vec<&Pushed> {
        let mut gone: Vec<&Pushed> = self.docker_platforms.iter().collect();
        gone.extend([
            &self.docker_list,
            &self.list_signature,
            &self.single,
            &self.sbom,
            &self.orphan,
        ]);
        gone
    }
}

/// Pushes `acme/app` (see the module doc) to `registry`.
pub fn push_app(registry: &str) -> AppWorld {
    let pusher = Pusher {
        registry: registry.to_owned(),
        repository: "acme/app".to_owned(),
    };
    let oci_platforms: Vec<Pushed> = ["amd64", "arm64"]
        .iter()
        .map(|arch| pusher.image(false, arch, &format!("oci layer {arch}"), &[], 20))
        .collect();
    let platform_list = |platforms: &[Pushed]| -> Vec<Value> {
        platforms
            .iter()
            .zip(["amd64", "arm64"])
            .map(|(p, arch)| {
                let mut d = p.descriptor();
                d["platform"] = json!({ "architecture": arch, "os": "linux" });
                d
            })
            .collect()
    };
    let oci_index = pusher.manifest(
        OCI_INDEX,
        json!({ "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": platform_list(&oci_platforms) }),
        &["v2.0.0", "latest"],
        2,
    );
    let signature = "application/vnd.dev.cosign.simplesigning.v1+json";
    let index_signature = pusher.artifact(
        signature,
        &format!("signed {}", oci_index.digest),
        None,
        &[&oci_index.signature_tag()],
        20,
    );
    let docker_platforms: Vec<Pushed> = ["amd64", "arm64"]
        .iter()
        .map(|arch| pusher.image(true, arch, &format!("docker layer {arch}"), &[], 40))
        .collect();
    let docker_list = pusher.manifest(
        DOCKER_LIST,
        json!({ "schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests": platform_list(&docker_platforms) }),
        &["v1.0.0"],
        40,
    );
    let list_signature = pusher.artifact(
        signature,
        &format!("signed {}", docker_list.digest),
        None,
        &[&docker_list.signature_tag()],
        40,
    );
    let single = pusher.image(false, "amd64", "single layer", &["v1.1.0", "pr-7"], 30);
    let sbom = pusher.artifact(
        "application/spdx+json",
        "{\"spdxVersion\":\"SPDX-2.3\"}",
        Some(&single),
        &[],
        30,
    );
    let orphan = pusher.image(false, "amd64", "orphan layer", &[], 50);
    AppWorld {
        oci_platforms,
        oci_index,
        index_signature,
        docker_platforms,
        docker_list,
        list_signature,
        single,
        sbom,
        orphan,
    }
}

/// Pushes `acme/legacy`: a Docker schema 1 image tagged `old` (skopeo converts and signs it),
/// 100 days old, and a current OCI image tagged `current`.
pub fn push_legacy(registry: &str) -> Vec<Pushed> {
    let pusher = Pusher {
        registry: registry.to_owned(),
        repository: "acme/legacy".to_owned(),
    };
    let current = pusher.image(false, "amd64", "current layer", &["current"], 1);
    let layout = Scratch::new("oci-layout");
    write_oci_layout(&layout.0, "old");
    let host = registry.trim_start_matches("http://");
    let out = Command::new("skopeo")
        .args([
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--format",
            "v2s1",
        ])
        .arg(format!("oci:{}:old", layout.0.display()))
        .arg(format!("docker://{host}/acme/legacy:old"))
        .output()
        .expect("skopeo (install it: `bash .ci/run interop` does)");
    assert!(
        out.status.success(),
        "skopeo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let served = send_body(
        registry,
        "GET",
        "/v2/acme/legacy/manifests/old",
        &[("Accept", &format!("{OCI_IMAGE}, {DOCKER_IMAGE}"))],
        &[],
        TIMEOUT,
    )
    .expect("the schema 1 manifest");
    assert_eq!(served.status, 200, "{}", served.body);
    let media_type = served.header("content-type").unwrap_or_default().to_owned();
    assert_eq!(
        media_type,
        "application/vnd.docker.distribution.manifest.v1+prettyjws"
    );
    let digest = served.header("docker-content-digest").unwrap().to_owned();
    assert_ne!(
        digest,
        sha256_digest(served.body.as_bytes()),
        "schema 1 digests leave out the signatures"
    );
    let old = Pushed {
        digest,
        media_type,
        body: served.body,
        tags: vec!["old".to_owned()],
        age_days: 100,
        not_content_addressed: true,
    };
    vec![old, current]
}

/// An OCI image layout holding one image (a gzipped tar layer) tagged `tag`.
fn write_oci_layout(dir: &Path, tag: &str) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let write_blob = |bytes: &[u8]| {
        let digest = sha256_digest(bytes);
        std::fs::write(blobs.join(&digest["sha256:".len()..]), bytes).unwrap();
        (digest, bytes.len())
    };
    let layer = gzip_stored(&tar_of_one_file("hello", b"hello from schema 1\n"));
    let tar_digest = sha256_digest(&tar_of_one_file("hello", b"hello from schema 1\n"));
    let (layer_digest, layer_size) = write_blob(&layer);
    let config = json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": { "type": "layers", "diff_ids": [tar_digest] },
        "history": [{ "created_by": "interop suite" }],
    })
    .to_string();
    let (config_digest, config_size) = write_blob(config.as_bytes());
    let manifest = json!({
        "schemaVersion": 2, "mediaType": OCI_IMAGE,
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size },
        "layers": [{ "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer_size }],
    })
    .to_string();
    let (manifest_digest, manifest_size) = write_blob(manifest.as_bytes());
    let index = json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": OCI_IMAGE, "digest": manifest_digest, "size": manifest_size,
            "annotations": { "org.opencontainers.image.ref.name": tag },
        }],
    });
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

/// A ustar archive of one regular file.
fn tar_of_one_file(name: &str, content: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    let octal = |field: &mut [u8], value: u64| {
        let text = format!("{value:0width$o}\0", width = field.len() - 1);
        field.copy_from_slice(text.as_bytes());
    };
    octal(&mut header[100..108], 0o644);
    octal(&mut header[108..116], 0);
    octal(&mut header[116..124], 0);
    octal(&mut header[124..136], content.len() as u64);
    octal(&mut header[136..148], 0);
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u64 = header.iter().map(|&b| u64::from(b)).sum();
    octal(&mut header[148..155], sum);
    header[155] = b' ';
    let mut tar = header.to_vec();
    tar.extend_from_slice(content);
    tar.resize(tar.len().div_ceil(512) * 512 + 1024, 0);
    tar
}

/// `data` in a gzip member of stored (uncompressed) deflate blocks.
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let mut chunks = data.chunks(65_535).peekable();
    while let Some(chunk) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Lists `pushed` as versions of `package`, serving the same bytes. A manifest the registry does
/// not name by the sha256 of its bytes (schema 1) is listed as a ghost in the fake's registry:
/// the fake names every manifest by its content, so only the real registry serves it.
pub fn list_in(package: &mut Package, pushed: &[&Pushed]) {
    for manifest in pushed {
        let tags: Vec<&str> = manifest.tags.iter().map(String::as_str).collect();
        let served = if manifest.not_content_addressed {
            Manifest::Ghost
        } else {
            Manifest::raw(&manifest.media_type, &manifest.body)
        };
        package
            .add_version(&manifest.digest, &tags, days(manifest.age_days))
            .with_manifest(served);
    }
}
