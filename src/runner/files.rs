//! Files in the workspace: a path an input names (`report-file`, `manifest-cache`, the files of
//! `keep-referenced-in`) resolved inside the workspace without following a symlink out of it (a
//! folder on the way or the file itself), what was opened checked again by what the kernel says
//! it is (not by its text), and a file written so that no reader ever sees it half-written: into
//! a temporary file beside it, then renamed into place (its folders made first; the temporary
//! file removed on failure).

use std::fs::File;
use std::io::{self, BufWriter, ErrorKind};
use std::path::{Component, Path, PathBuf};

/// Resolves `relative` (relative, without `..`: see `settings::workspace_path`) inside
/// `workspace`: every symlink on the way is followed only while it stays inside the (real)
/// workspace. The real path, with the parts that do not exist yet appended as named; the error
/// says why, for the error annotation.
pub fn resolve_inside(workspace: &Path, relative: &Path) -> Result<PathBuf, String> {
    let root = workspace.canonicalize().map_err(|error| {
        format!(
            "cannot be resolved: the workspace {} cannot be read ({error})",
            workspace.display()
        )
    })?;
    let mut at = root.clone();
    let mut components = relative.components();
    while let Some(component) = components.next() {
        let name = match component {
            Component::Normal(name) => name,
            Component::CurDir => continue,
            _ => return Err("must be a path relative to the workspace, without `..`".into()),
        };
        let next = at.join(name);
        match std::fs::symlink_metadata(&next) {
            Err(error) if error.kind() == ErrorKind::NotFound => {
                at = next;
                at.extend(components.filter(|c| matches!(c, Component::Normal(_))));
                break;
            }
            Err(error) => return Err(format!("cannot be read ({error})")),
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let target = symlink_target(&next)?;
                if !target.starts_with(&root) {
                    return Err(format!(
                        "leads out of the workspace through the symlink `{}` (to {}): refused",
                        next.strip_prefix(&root).unwrap_or(&next).display(),
                        target.display()
                    ));
                }
                at = target;
            }
            Ok(_) => at = next,
        }
    }
    Ok(at)
}

/// Where a symlink leads, as a real path: its target's, or for a target that does not exist
/// (yet), its folder's real path and its name.
fn symlink_target(link: &Path) -> Result<PathBuf, String> {
    match link.canonicalize() {
        Ok(target) => Ok(target),
        Err(error) if error.kind() == ErrorKind::NotFound => {
            let target = std::fs::read_link(link).map_err(|e| format!("cannot be read ({e})"))?;
            let target = link.parent().unwrap_or(Path::new("/")).join(target);
            let (Some(folder), Some(name)) = (target.parent(), target.file_name()) else {
                return Err("is a symlink that leads nowhere".into());
            };
            let folder = folder.canonicalize().map_err(|_| {
                format!(
                    "is a symlink to {}, whose folder does not exist",
                    target.display()
                )
            })?;
            Ok(folder.join(name))
        }
        Err(error) => Err(format!("cannot be read ({error})")),
    }
}

/// Checks that an opened file is inside `workspace` by what the kernel says it is
/// (`/proc/self/fd`), so that a symlink swapped in after [`resolve_inside`] is caught too. Where
/// `/proc` is not mounted (not Linux), the resolution is all there is.
pub fn check_opened(file: &File, workspace: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let Ok(real) = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())) else {
        return Ok(());
    };
    if real.starts_with(workspace.canonicalize()?) {
        Ok(())
    } else {
        Err(io::Error::new(
            ErrorKind::PermissionDenied,
            format!("{} is outside the workspace: refused", real.display()),
        ))
    }
}

/// Checks, before any change, that the file at `path` (a real path from [`resolve_inside`]) can
/// be written: it is a regular file that opens for writing, or absent; its folder (or the
/// nearest one above that exists, where the missing ones will be made) is a folder where a file
/// can be made. Nothing is changed.
pub fn check_writable(path: &Path) -> Result<(), String> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_dir() => return Err("is a folder, not a file".into()),
        Ok(metadata) if !metadata.is_file() => return Err("is not a regular file".into()),
        Ok(_) => {
            std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .map_err(|error| format!("cannot be written ({error})"))?;
        }
        Err(error) if matches!(error.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {}
        Err(error) => return Err(format!("cannot be read ({error})")),
    }
    let mut folder = path.parent();
    while let Some(candidate) = folder {
        match std::fs::metadata(candidate) {
            Ok(metadata) if metadata.is_dir() => break,
            Ok(_) => {
                return Err(format!(
                    "cannot be written: {} is not a folder",
                    candidate.display()
                ))
            }
            Err(_) => folder = candidate.parent(),
        }
    }
    let folder = folder.unwrap_or(Path::new("/"));
    let probe = folder.join(format!(
        ".package-retention-probe.{}",
        crate::runner::random::hex()
    ));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(error) => Err(format!(
            "cannot be written: no file can be made in {} ({error})",
            folder.display()
        )),
    }
}

/// Writes `path` whole with `write`, or leaves it as it was; the file written must be inside
/// `workspace` (checked on the opened file).
pub fn write_atomically(
    path: &Path,
    workspace: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", crate::runner::random::hex()));
    let written = File::create(&temporary).and_then(|file| {
        check_opened(&file, workspace)?;
        let mut out = BufWriter::new(file);
        write(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&temporary, path)
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn dirs(name: &str) -> (PathBuf, PathBuf) {
        let root = std::env::temp_dir().join(format!(
            "package-retention-files-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&root);
        let (workspace, outside) = (root.join("ws"), root.join("out"));
        std::fs::create_dir_all(&workspace).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        (
            workspace.canonicalize().unwrap(),
            outside.canonicalize().unwrap(),
        )
    }

    #[test]
    fn symlinks_are_followed_only_while_they_stay_inside() {
        let (ws, out) = dirs("inside");
        std::fs::create_dir_all(ws.join("real/deep")).unwrap();
        symlink("real", ws.join("link")).unwrap();
        symlink(&out, ws.join("real/away")).unwrap();
        symlink(out.join("f.json"), ws.join("file.json")).unwrap();
        symlink("../real/deep/x.json", ws.join("real/rel.json")).unwrap();
        let ok = |p: &str| resolve_inside(&ws, Path::new(p)).unwrap();
        assert_eq!(ok("a/b.json"), ws.join("a/b.json"));
        assert_eq!(ok("./link/deep/r.json"), ws.join("real/deep/r.json"));
        assert_eq!(ok("real/rel.json"), ws.join("real/deep/x.json"));
        for bad in ["real/away/r.json", "link/away/r.json", "file.json"] {
            let error = resolve_inside(&ws, Path::new(bad)).unwrap_err();
            assert!(error.contains("symlink"), "{bad}: {error}");
        }
        assert!(check_opened(&File::open(ws.join("real")).unwrap(), &ws).is_ok());
        assert!(check_opened(&File::open(&out).unwrap(), &ws).is_err());
        let _ = std::fs::remove_dir_all(ws.parent().unwrap());
    }

    #[test]
    fn a_file_that_cannot_be_written_is_found_out_without_a_change() {
        let (ws, _) = dirs("writable");
        std::fs::write(ws.join("notes.txt"), "notes\n").unwrap();
        std::fs::create_dir_all(ws.join("folder")).unwrap();
        assert!(check_writable(&ws.join("new/deeper/report.json")).is_ok());
        assert!(check_writable(&ws.join("notes.txt")).is_ok());
        assert!(check_writable(&ws.join("folder"))
            .unwrap_err()
            .contains("folder"));
        assert!(check_writable(&ws.join("notes.txt/report.json"))
            .unwrap_err()
            .contains("not a folder"));
        assert_eq!(
            std::fs::read_to_string(ws.join("notes.txt")).unwrap(),
            "notes\n"
        );
        let mut names: Vec<_> = std::fs::read_dir(&ws)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["folder", "notes.txt"], "no probe left behind");
        let _ = std::fs::remove_dir_all(ws.parent().unwrap());
    }
}
