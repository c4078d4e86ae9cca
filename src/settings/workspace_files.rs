//! The files of `keep-referenced-in`: the workspace's regular files that its globs match, read one
//! at a time (bounded: at most 10,000 files of at most 4 MiB, a bounded walk), never through a
//! symlink that leads out of the workspace.

use std::fmt;
use std::path::{Component, Path};

use glob::{MatchOptions, Pattern};

/// At most this many files are read.
pub const MAX_FILES: usize = 10_000;
/// A file larger than this is not read.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// The walk looks at no more entries than this (a workspace with a huge `node_modules` and a
/// glob `**/*.yaml` ends with an error, not an hour of listing).
pub const MAX_ENTRIES_WALKED: usize = 1_000_000;

const MATCH: MatchOptions = MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

/// The globs of the input, checked: relative, inside the workspace, valid.
#[derive(Clone, Debug)]
pub struct FileGlobs {
    patterns: Vec<(String, Pattern)>,
}

impl fmt::Display for FileGlobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let texts: Vec<&str> = self
            .patterns
            .iter()
            .map(|(text, _)| text.as_str())
            .collect();
        f.write_str(&texts.join(", "))
    }
}

impl FileGlobs {
    /// Parses the comma or newline separated globs; `Err` says what is wrong with which one.
    pub fn parse(value: &str) -> Result<Option<FileGlobs>, String> {
        let mut patterns = Vec::new();
        for glob in value
            .split([',', '\n'])
            .map(str::trim)
            .filter(|g| !g.is_empty())
        {
            let path = Path::new(glob);
            let inside = path
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
            if !inside {
                return Err(format!(
                    "`{glob}` leads out of the workspace: a glob is relative to the workspace, without a leading `/` or `..`"
                ));
            }
            let normal = glob.trim_start_matches("./");
            let pattern =
                Pattern::new(normal).map_err(|e| format!("`{glob}` is not a glob: {e}"))?;
            patterns.push((normal.to_owned(), pattern));
        }
        Ok((!patterns.is_empty()).then_some(FileGlobs { patterns }))
    }

    fn matches(&self, relative: &str) -> bool {
        self.patterns
            .iter()
            .any(|(_, p)| p.matches_with(relative, MATCH))
    }

    /// The folders where the walk starts: each glob's leading components without a wildcard.
    fn roots(&self) -> Vec<String> {
        let mut roots: Vec<String> = self
            .patterns
            .iter()
            .map(|(text, _)| {
                let literal: Vec<&str> = text
                    .split('/')
                    .take_while(|part| !part.contains(['*', '?', '[']))
                    .collect();
                // The last literal part may be the file itself.
                let folders = if literal.len() == text.split('/').count() {
                    &literal[..literal.len() - 1]
                } else {
                    &literal[..]
                };
                folders.join("/")
            })
            .collect();
        roots.sort();
        roots.dedup();
        // A root inside another root is walked with it.
        let all = roots.clone();
        roots.retain(|r| {
            !all.iter()
                .any(|o| o != r && (o.is_empty() || r.starts_with(&format!("{o}/"))))
        });
        roots
    }
}

/// What reading the files found.
#[derive(Debug, Default)]
pub struct Walk {
    /// Paths relative to the workspace (with `/`) of the files read, in walk order.
    pub read: Vec<String>,
    /// Paths skipped, with why (a symlink leading out of the workspace).
    pub skipped: Vec<(String, String)>,
}

/// Why the files cannot be read as a whole (bad input: nothing may be decided without them).
#[derive(Debug, PartialEq, Eq)]
pub enum WalkError {
    TooManyFiles,
    TooLarge { path: String, bytes: u64 },
    TooManyEntries,
    Unreadable { path: String, cause: String },
}

impl fmt::Display for WalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalkError::TooManyFiles => write!(f, "the globs match more than {MAX_FILES} files: narrow them"),
            WalkError::TooLarge { path, bytes } => write!(
                f,
                "`{path}` is {bytes} bytes, over the {} MiB a file may have",
                MAX_FILE_BYTES / 1024 / 1024
            ),
            WalkError::TooManyEntries => write!(
                f,
                "finding the files walks more than {MAX_ENTRIES_WALKED} entries of the workspace: start the globs with a folder"
            ),
            WalkError::Unreadable { path, cause } => write!(f, "`{path}` cannot be read: {cause}"),
        }
    }
}

/// Reads every regular file of `workspace` that `globs` match, handing each (relative path,
/// text) to `visit` and keeping nothing of it. A symlink is followed only when it ends inside the
/// workspace at a regular file; one that leads out is skipped (in [`Walk::skipped`]); symlinked
/// folders are not walked into.
pub fn read_files(
    workspace: &Path,
    globs: &FileGlobs,
    mut visit: impl FnMut(&str, &str),
) -> Result<Walk, WalkError> {
    let real_workspace = workspace
        .canonicalize()
        .map_err(|e| WalkError::Unreadable {
            path: workspace.display().to_string(),
            cause: e.to_string(),
        })?;
    let mut walk = Walk::default();
    let mut entries = 0usize;
    let mut stack: Vec<String> = globs.roots();
    while let Some(folder) = stack.pop() {
        let dir = if folder.is_empty() {
            workspace.to_path_buf()
        } else {
            workspace.join(&folder)
        };
        // A glob's leading folder may itself be a symlink (walked folders never are).
        if dir.exists() && leads_out(&folder, &real_workspace) {
            let why = "a symlinked folder that leads out of the workspace";
            walk.skipped.push((folder, why.to_owned()));
            continue;
        }
        let Ok(listing) = std::fs::read_dir(&dir) else {
            continue; // A root that does not exist matches nothing.
        };
        let mut names: Vec<String> = listing
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        for name in names {
            entries += 1;
            if entries > MAX_ENTRIES_WALKED {
                return Err(WalkError::TooManyEntries);
            }
            let relative = if folder.is_empty() {
                name
            } else {
                format!("{folder}/{name}")
            };
            let path = workspace.join(&relative);
            let bytes = match entry(&path, &relative, globs, &real_workspace, walk.read.len())? {
                Entry::Folder => {
                    stack.push(relative);
                    continue;
                }
                Entry::Skipped(why) => {
                    walk.skipped.push((relative, why.to_owned()));
                    continue;
                }
                Entry::Ignored => continue,
                Entry::File(bytes) => bytes,
            };
            visit(&relative, &String::from_utf8_lossy(&bytes));
            walk.read.push(relative);
        }
    }
    Ok(walk)
}

/// What the walk does with one entry of a folder.
enum Entry {
    /// A folder (not a symlink) that may hold a match: walked.
    Folder,
    /// A file the globs match: its bytes.
    File(Vec<u8>),
    /// Matched (or would be walked), but it leads out of the workspace: why it is skipped.
    Skipped(&'static str),
    Ignored,
}

/// Looks at one entry: `read` files were read before it.
fn entry(
    path: &Path,
    relative: &str,
    globs: &FileGlobs,
    real_workspace: &Path,
    read: usize,
) -> Result<Entry, WalkError> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(Entry::Ignored);
    };
    let symlink = meta.file_type().is_symlink();
    if meta.is_dir() {
        let walked = name_may_lead_to_a_match(globs, relative);
        return Ok(if walked {
            Entry::Folder
        } else {
            Entry::Ignored
        });
    }
    if !globs.matches(relative) {
        let folder_out = symlink && is_dir_target(path) && leads_out(relative, real_workspace);
        return Ok(if folder_out && name_may_lead_to_a_match(globs, relative) {
            Entry::Skipped("a symlinked folder that leads out of the workspace")
        } else {
            Entry::Ignored
        });
    }
    if symlink && leads_out(relative, real_workspace) {
        return Ok(Entry::Skipped("a symlink that leads out of the workspace"));
    }
    let Ok(target) = std::fs::metadata(path) else {
        return Ok(Entry::Ignored);
    };
    if !target.is_file() {
        return Ok(Entry::Ignored);
    }
    if read == MAX_FILES {
        return Err(WalkError::TooManyFiles);
    }
    if target.len() > MAX_FILE_BYTES {
        return Err(WalkError::TooLarge {
            path: relative.to_owned(),
            bytes: target.len(),
        });
    }
    read_bounded(path)
        .map(Entry::File)
        .map_err(|cause| WalkError::Unreadable {
            path: relative.to_owned(),
            cause,
        })
}

/// Whether a folder could hold a match: some glob, cut to the folder's depth, matches it
/// (`**` matches any depth).
fn name_may_lead_to_a_match(globs: &FileGlobs, folder: &str) -> bool {
    let depth = folder.split('/').count();
    globs.patterns.iter().any(|(text, _)| {
        let parts: Vec<&str> = text.split('/').collect();
        let mut prefix = Vec::new();
        for part in parts.iter().take(depth) {
            if *part == "**" {
                return true;
            }
            prefix.push(*part);
        }
        prefix.len() == depth
            && parts.len() > depth
            && Pattern::new(&prefix.join("/")).is_ok_and(|p| p.matches_with(folder, MATCH))
    })
}

/// Whether following the symlinks of `relative` leaves the workspace (the one resolver of
/// workspace paths, shared with `report-file` and `manifest-cache`).
fn leads_out(relative: &str, real_workspace: &Path) -> bool {
    crate::runner::files::resolve_inside(real_workspace, Path::new(relative)).is_err()
}

fn is_dir_target(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_dir())
}

/// Reads a file of at most [`MAX_FILE_BYTES`] (it may have grown since its size was read).
fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "it grew over {} MiB while read",
            MAX_FILE_BYTES / 1024 / 1024
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn tree(files: &[&str]) -> PathBuf {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "walk-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for file in files {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, file).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn read(dir: &Path, globs: &str) -> Walk {
        let globs = FileGlobs::parse(globs).unwrap().unwrap();
        let mut seen = Vec::new();
        let walk = read_files(dir, &globs, |path, text| {
            assert!(dir.join(text).exists(), "{path}: the file's own text");
            seen.push(path.to_owned());
        })
        .unwrap();
        assert_eq!(seen, walk.read);
        walk
    }

    fn sorted(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v
    }

    #[test]
    fn double_star_matches_any_depth_including_none_and_single_star_one_level() {
        let dir = tree(&[
            "deploy/prod.yaml",
            "deploy/eu/prod.yaml",
            "deploy/eu/west/x.yaml",
            "deploy/notes.txt",
            "charts/app/values.yaml",
            "charts/app/values-prod.yaml",
            "charts/app/templates/deploy.yaml",
            "other/prod.yaml",
            ".hidden/deploy.yaml",
        ]);
        let walk = read(&dir, "deploy/**/*.yaml, charts/**/values*.yaml");
        assert_eq!(
            sorted(walk.read),
            [
                "charts/app/values-prod.yaml",
                "charts/app/values.yaml",
                "deploy/eu/prod.yaml",
                "deploy/eu/west/x.yaml",
                "deploy/prod.yaml",
            ]
        );
        assert_eq!(read(&dir, "deploy/*.yaml").read, ["deploy/prod.yaml"]);
        assert_eq!(read(&dir, "./deploy/prod.yaml").read, ["deploy/prod.yaml"]);
        assert_eq!(read(&dir, "*/prod.yaml").read.len(), 2);
        assert_eq!(read(&dir, "**/deploy.yaml").read.len(), 2);
        assert!(read(&dir, "missing/**/*.yaml").read.is_empty());
    }

    #[test]
    fn symlinks_out_are_skipped_symlinks_in_are_read_symlinked_folders_are_not_walked() {
        let dir = tree(&["deploy/prod.yaml", "real/inside.yaml"]);
        let outside = tree(&["evil.yaml", "sub/evil.yaml"]);
        std::os::unix::fs::symlink(outside.join("evil.yaml"), dir.join("deploy/link.yaml"))
            .unwrap();
        std::os::unix::fs::symlink(dir.join("real/inside.yaml"), dir.join("deploy/inside.yaml"))
            .unwrap();
        std::os::unix::fs::symlink(outside.join("sub"), dir.join("deploy/ext")).unwrap();
        std::os::unix::fs::symlink(dir.join("nowhere"), dir.join("deploy/dangling.yaml")).unwrap();
        let walk = read(&dir, "deploy/**/*.yaml");
        assert_eq!(
            sorted(walk.read),
            ["deploy/inside.yaml", "deploy/prod.yaml"]
        );
        let through_root = read(&dir, "deploy/ext/*.yaml");
        assert!(through_root.read.is_empty(), "{:?}", through_root.read);
        assert_eq!(through_root.skipped[0].0, "deploy/ext");
        let skipped: Vec<&str> = walk.skipped.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            sorted(skipped.iter().map(|s| s.to_string()).collect()),
            ["deploy/ext", "deploy/link.yaml"]
        );
    }

    #[test]
    fn globs_out_of_the_workspace_and_broken_globs_are_refused() {
        for bad in ["../x/*.yaml", "/etc/*.conf", "a/../../b", "a/[b"] {
            assert!(FileGlobs::parse(bad).is_err(), "{bad}");
        }
        assert!(FileGlobs::parse(" , \n").unwrap().is_none());
    }

    #[test]
    fn too_large_a_file_and_too_many_files_are_errors() {
        let dir = tree(&["a.yaml"]);
        std::fs::write(
            dir.join("big.yaml"),
            vec![b'x'; MAX_FILE_BYTES as usize + 1],
        )
        .unwrap();
        let globs = FileGlobs::parse("*.yaml").unwrap().unwrap();
        let error = read_files(&dir, &globs, |_, _| {}).unwrap_err();
        assert!(matches!(error, WalkError::TooLarge { ref path, .. } if path == "big.yaml"));
        let many = tree(&[]);
        for i in 0..=MAX_FILES {
            std::fs::write(many.join(format!("{i}.yaml")), "").unwrap();
        }
        assert_eq!(
            read_files(&many, &globs, |_, _| {}).unwrap_err(),
            WalkError::TooManyFiles
        );
    }
}
