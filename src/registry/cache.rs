//! The `manifest-cache` file: the manifests read, kept whole between runs, each under its digest,
//! so that every entry proves itself (the sha256 of its bytes is its digest) and whoever can
//! write the file (another branch's cache, a file in the repository) cannot change the plan.
//!
//! ```text
//! package-retention manifest-cache 2
//! sha256:<hex> <the manifest's bytes, base64>
//! ```
//!
//! An entry that does not prove itself is dropped (one warning says how many) and its manifest
//! read again; a file in format 1 (references on trust) is a warning and a full read; a file
//! over [`MAX_BYTES`] is not read at all. Written atomically.

use super::{digest_of_bytes, self_described_refs};
use crate::plan::graph::ManifestRefs;
use anyhow::{Context, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

const HEADER: &str = "package-retention manifest-cache 2";
const OLD_HEADER: &str = "package-retention manifest-cache 1";
/// A larger file is ignored unread (a 238 MB one took 1.6 GB of memory).
pub const MAX_BYTES: u64 = 64 << 20;
/// A line longer than this cannot hold a manifest the registry would serve (4 MiB, base64).
const MAX_LINE: u64 = (4 << 20) / 3 * 4 + 200;

/// A manifest that proved itself: its bytes and what they reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub bytes: Box<[u8]>,
    pub refs: ManifestRefs,
}

/// The entries of the file at `path` that prove themselves, and at most one warning.
pub fn load(path: &Path, workspace: &Path) -> (HashMap<String, Verified>, Option<String>) {
    let warn = |why: String| Some(format!("manifest-cache `{}` {why}", path.display()));
    let empty = |why: String| {
        (
            HashMap::new(),
            warn(format!("{why}: every manifest is read from the registry")),
        )
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return empty("does not exist yet".into())
        }
        Err(error) => return empty(format!("cannot be read ({error})")),
    };
    if let Err(error) = crate::runner::files::check_opened(&file, workspace) {
        return empty(format!("cannot be read ({error})"));
    }
    match file.metadata() {
        Ok(metadata) if !metadata.is_file() => return empty("is not a regular file".into()),
        Ok(metadata) if metadata.len() > MAX_BYTES => {
            return empty(format!(
                "is over {} MiB ({} bytes): ignored unread",
                MAX_BYTES >> 20,
                metadata.len()
            ))
        }
        Ok(_) => {}
        Err(error) => return empty(format!("cannot be read ({error})")),
    }
    let mut reader = BufReader::new(file.take(MAX_BYTES + 1));
    let mut line = Vec::new();
    let header = match next_line(&mut reader, &mut line) {
        Ok(true) => String::from_utf8_lossy(&line).into_owned(),
        Ok(false) => String::new(),
        Err(error) => return empty(format!("cannot be read ({error})")),
    };
    if header == OLD_HEADER {
        return empty(
            "is in format 1, whose entries cannot be verified (it is rewritten in format 2)".into(),
        );
    }
    if header != HEADER {
        return empty("is not a package-retention manifest cache (format 2)".into());
    }
    let mut entries = HashMap::new();
    let mut dropped = 0usize;
    loop {
        match next_line(&mut reader, &mut line) {
            Ok(true) if line.is_empty() => {}
            Ok(true) => match verified(&line) {
                Some((digest, manifest)) => {
                    entries.insert(digest, manifest);
                }
                None => dropped += 1,
            },
            Ok(false) => break,
            Err(error) => return empty(format!("cannot be read ({error})")),
        }
    }
    let warning = (dropped > 0).then(|| {
        let entries = if dropped == 1 { "entry" } else { "entries" };
        format!(
            "manifest-cache `{}`: {dropped} {entries} did not prove {} (the sha256 of the bytes kept is not the digest, or the line is malformed) and {} dropped: {} read from the registry",
            path.display(),
            if dropped == 1 { "itself" } else { "themselves" },
            if dropped == 1 { "was" } else { "were" },
            if dropped == 1 { "its manifest is" } else { "their manifests are" },
        )
    });
    (entries, warning)
}

/// Reads one line (without its end) into `line`; `false` at the end of the file. A line longer
/// than [`MAX_LINE`] is read to its end and handed on whole, to be dropped as malformed.
fn next_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<bool> {
    line.clear();
    let read = reader.by_ref().take(MAX_LINE).read_until(b'\n', line)?;
    if read == 0 {
        return Ok(false);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    } else if read as u64 == MAX_LINE {
        // Too long: skip to the end of the line; what was read is not an entry.
        let mut rest = Vec::new();
        reader.read_until(b'\n', &mut rest)?;
        line.clear();
        line.push(b'!');
    }
    Ok(true)
}

/// An entry that proves itself: `<digest> <base64>`, the bytes hashing to the digest and
/// holding a manifest that declares its media type.
fn verified(line: &[u8]) -> Option<(String, Verified)> {
    let text = std::str::from_utf8(line).ok()?;
    let (digest, encoded) = text.split_once(' ')?;
    let bytes = STANDARD.decode(encoded).ok()?;
    if digest_of_bytes(digest, &bytes).as_deref() != Some(digest) {
        return None;
    }
    let refs = self_described_refs(&bytes)?;
    Some((
        digest.to_string(),
        Verified {
            bytes: bytes.into_boxed_slice(),
            refs,
        },
    ))
}

/// Writes the entries (digest, manifest bytes) to `path` atomically: a temporary file next to
/// it, then a rename.
pub fn save(path: &Path, workspace: &Path, entries: &[(String, Box<[u8]>)]) -> Result<()> {
    crate::runner::files::write_atomically(path, workspace, |out| {
        out.write_all(HEADER.as_bytes())?;
        out.write_all(b"\n")?;
        let mut line = String::new();
        for (digest, bytes) in entries {
            line.clear();
            line.push_str(digest);
            line.push(' ');
            STANDARD.encode_string(bytes, &mut line);
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    })
    .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(n: u8) -> Vec<u8> {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"digest":"sha256:{}"}},"layers":[]}}"#,
            format!("{n:02x}").repeat(32)
        )
        .into_bytes()
    }

    fn index_of(children: &[&str]) -> Vec<u8> {
        let manifests: Vec<String> = children
            .iter()
            .map(|c| format!(r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{c}","size":1}}"#))
            .collect();
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{}]}}"#,
            manifests.join(",")
        )
        .into_bytes()
    }

    fn entry(bytes: Vec<u8>) -> (String, Box<[u8]>) {
        (
            super::super::sha256_digest(&bytes),
            bytes.into_boxed_slice(),
        )
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "package-retention-cache-test-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn entries_round_trip_and_prove_themselves() {
        let dir = scratch("round-trip");
        let path = dir.join("nested").join("manifests");
        let (a, b) = (entry(image(1)), entry(image(2)));
        let index = entry(index_of(&[&a.0, &b.0]));
        save(&path, &dir, &[a.clone(), b.clone(), index.clone()]).unwrap();
        let (loaded, warning) = load(&path, &dir);
        assert_eq!(warning, None);
        assert_eq!(loaded.len(), 3);
        assert_eq!(loaded[&index.0].bytes, index.1);
        assert_eq!(
            loaded[&index.0].refs.children,
            vec![a.0.clone(), b.0.clone()]
        );
        assert!(loaded[&index.0].refs.is_index);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(HEADER), "{text}");
        assert_eq!(text.lines().count(), 4, "one line per manifest: {text}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn entries_that_do_not_prove_themselves_are_dropped_and_counted() {
        let dir = scratch("forged");
        let path = dir.join("manifests");
        let (a, b) = (entry(image(1)), entry(image(2)));
        let swapped = (a.0.clone(), b.1.clone());
        let truncated = (b.0.clone(), b.1[..10].to_vec().into_boxed_slice());
        let undeclared = entry(br#"{"schemaVersion":2,"manifests":[]}"#.to_vec());
        let good = entry(image(3));
        save(&path, &dir, &[swapped, truncated, undeclared, good.clone()]).unwrap();
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("not-a-digest AAAA\nsha256:12 !!\n\n");
        std::fs::write(&path, text).unwrap();
        let (loaded, warning) = load(&path, &dir);
        assert_eq!(loaded.keys().collect::<Vec<_>>(), vec![&good.0]);
        let warning = warning.unwrap();
        assert!(
            warning.contains("5 entries did not prove themselves"),
            "{warning}"
        );
    }

    #[test]
    fn missing_old_foreign_and_huge_files_are_an_empty_cache_with_a_warning() {
        let dir = scratch("bad");
        let missing = load(&dir.join("none"), &dir);
        assert!(missing.0.is_empty());
        assert!(missing.1.unwrap().contains("does not exist"));
        for (name, content, says) in [
            (
                "foreign",
                "{\"cache\": 1}\n",
                "not a package-retention manifest cache",
            ),
            (
                "old",
                "package-retention manifest-cache 1\nsha256:ab m\n",
                "format 1",
            ),
            ("binary", "\u{0}\u{1}", "not a package-retention"),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, content).unwrap();
            let (loaded, warning) = load(&path, &dir);
            assert!(loaded.is_empty(), "{name}");
            assert!(warning.is_some_and(|w| w.contains(says)), "{name}");
        }
        let huge = dir.join("huge");
        std::fs::File::create(&huge)
            .unwrap()
            .set_len(MAX_BYTES + 1)
            .unwrap();
        let (loaded, warning) = load(&huge, &dir);
        assert!(loaded.is_empty() && warning.unwrap().contains("ignored unread"));
        let (loaded, warning) = load(&dir, &dir);
        assert!(loaded.is_empty() && warning.is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
