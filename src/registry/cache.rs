//! The `manifest-cache` file: what each manifest references, by digest, kept between runs
//! (manifests never change for their digest). A versioned line format, written atomically.
//!
//! ```text
//! package-retention manifest-cache 1
//! sha256:<hex> i sha256:<child> sha256:<child>     an index and its platform manifests
//! sha256:<hex> m ^sha256:<subject>                 an image (or artifact) with a subject
//! sha256:<hex> m                                   an image
//! ```

use crate::plan::graph::ManifestRefs;
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

const HEADER: &str = "package-retention manifest-cache 1";
/// A larger file is not read (a million manifests take about 80 MB).
const MAX_BYTES: u64 = 256 * 1024 * 1024;

/// The entries of the file at `path`. A missing, unreadable or foreign file gives an empty cache
/// and a warning, never a failure.
pub fn load(path: &Path) -> (HashMap<String, ManifestRefs>, Option<String>) {
    let warn = |why: String| {
        (
            HashMap::new(),
            Some(format!(
                "manifest-cache `{}` {why}: starting from an empty cache (every manifest is read)",
                path.display()
            )),
        )
    };
    let size = match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_file() => metadata.len(),
        Ok(_) => return warn("is not a regular file".into()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return warn("does not exist yet".into())
        }
        Err(error) => return warn(format!("cannot be read ({error})")),
    };
    if size > MAX_BYTES {
        return warn(format!("is larger than {MAX_BYTES} bytes"));
    }
    match std::fs::read(path) {
        Ok(bytes) => match parse(&bytes) {
            Ok(entries) => (entries, None),
            Err(error) => warn(format!("{error:#}")),
        },
        Err(error) => warn(format!("cannot be read ({error})")),
    }
}

/// Writes the entries to `path` atomically: a temporary file next to it, then a rename.
pub fn save(path: &Path, entries: &[(String, ManifestRefs)]) -> Result<()> {
    crate::runner::files::write_atomically(path, |out| out.write_all(render(entries).as_bytes()))
        .with_context(|| format!("cannot write {}", path.display()))
}

fn render(entries: &[(String, ManifestRefs)]) -> String {
    let mut text = String::with_capacity(16 + entries.len() * 80);
    text.push_str(HEADER);
    text.push('\n');
    for (digest, refs) in entries {
        text.push_str(digest);
        text.push_str(if refs.is_index { " i" } else { " m" });
        if let Some(subject) = &refs.subject {
            text.push_str(" ^");
            text.push_str(subject);
        }
        for child in &refs.children {
            text.push(' ');
            text.push_str(child);
        }
        text.push('\n');
    }
    text
}

fn parse(bytes: &[u8]) -> Result<HashMap<String, ManifestRefs>> {
    let text = std::str::from_utf8(bytes).context("is not text")?;
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        bail!("is not a package-retention manifest cache (version 1)");
    }
    let mut entries = HashMap::new();
    for (number, line) in lines.enumerate() {
        let mut words = line.split(' ');
        let digest = words.next().filter(|d| is_digest(d));
        let is_index = match words.next() {
            Some("i") => true,
            Some("m") => false,
            _ => None.with_context(|| format!("line {} is corrupt", number + 2))?,
        };
        let Some(digest) = digest else {
            bail!("line {} is corrupt", number + 2);
        };
        let mut refs = ManifestRefs {
            is_index,
            ..ManifestRefs::default()
        };
        for word in words {
            match word.strip_prefix('^') {
                Some(subject) if is_digest(subject) && refs.subject.is_none() => {
                    refs.subject = Some(subject.to_string());
                }
                None if is_digest(word) => refs.children.push(word.to_string()),
                _ => bail!("line {} is corrupt", number + 2),
            }
        }
        entries.insert(digest.to_string(), refs);
    }
    Ok(entries)
}

/// `algorithm:encoded` as OCI writes digests.
fn is_digest(text: &str) -> bool {
    text.split_once(':').is_some_and(|(algorithm, encoded)| {
        !algorithm.is_empty()
            && !encoded.is_empty()
            && algorithm
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b))
            && encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(n: u8) -> String {
        format!("sha256:{}", format!("{n:02x}").repeat(32))
    }

    fn entries() -> Vec<(String, ManifestRefs)> {
        vec![
            (
                digest(1),
                ManifestRefs {
                    children: vec![digest(2), digest(3)],
                    subject: None,
                    is_index: true,
                },
            ),
            (digest(2), ManifestRefs::default()),
            (
                digest(4),
                ManifestRefs {
                    children: Vec::new(),
                    subject: Some(digest(1)),
                    is_index: false,
                },
            ),
        ]
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "package-retention-cache-test-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn entries_round_trip_through_the_file() {
        let dir = scratch("round-trip");
        let path = dir.join("nested").join("manifests");
        save(&path, &entries()).unwrap();
        let (loaded, warning) = load(&path);
        assert_eq!(warning, None);
        let expected: HashMap<String, ManifestRefs> = entries().into_iter().collect();
        assert_eq!(loaded, expected);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(HEADER), "{text}");
        assert_eq!(text.lines().count(), 4, "one line per manifest: {text}");
        // Nothing but the file is left behind.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("manifests")]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_corrupt_and_foreign_files_are_an_empty_cache_with_a_warning() {
        let dir = scratch("bad");
        std::fs::create_dir_all(&dir).unwrap();
        let missing = load(&dir.join("none"));
        assert!(missing.0.is_empty());
        assert!(missing.1.unwrap().contains("does not exist"));
        for (name, content) in [
            ("foreign", "{\"cache\": 1}\n".to_string()),
            (
                "other-version",
                "package-retention manifest-cache 2\n".to_string(),
            ),
            ("corrupt", format!("{HEADER}\n{} x\n", digest(1))),
            ("bad-digest", format!("{HEADER}\nnot-a-digest m\n")),
            (
                "bad-child",
                format!("{HEADER}\n{} i %0A::error::\n", digest(1)),
            ),
            ("binary", "\u{0}\u{1}".to_string()),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, content).unwrap();
            let (loaded, warning) = load(&path);
            assert!(loaded.is_empty(), "{name}");
            assert!(warning.is_some_and(|w| w.contains("empty cache")), "{name}");
        }
        let (loaded, warning) = load(&dir);
        assert!(loaded.is_empty() && warning.is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
