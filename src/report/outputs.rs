//! The step outputs: every output of `action.yml`, written straight to `GITHUB_OUTPUT` as heredocs
//! with a random delimiter (or printed as `name=value` lines on a laptop), redacted, each at most
//! 1,000,000 bytes (GitHub refuses a step output over 1 MiB): a list keeps its first entries that
//! fit, and `truncated` says so.

use super::{open_append, Counted, Entry, Tally};
use crate::model::format_timestamp;
use crate::outcome::{Leftover, Package};
use crate::plan::Mode;
use crate::runner::{hidden, redact};
use serde_json::{json, Value};
use std::io::{self, Write};

/// The longest value any output has: GitHub refuses a step output over 1 MiB.
pub const OUTPUT_LIMIT: usize = 1_000_000;

/// A list output cut to fit [`OUTPUT_LIMIT`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cut {
    pub output: &'static str,
    pub kept: usize,
    pub total: usize,
}

impl Tally<'_> {
    /// The outputs to `GITHUB_OUTPUT` when the runner gives one, else printed; the lists that
    /// had to be cut come back.
    pub fn emit_outputs(&self, github_output: Option<&str>) -> io::Result<Vec<Cut>> {
        match github_output {
            Some(path) => {
                let mut file = io::BufWriter::new(open_append(path)?);
                let cuts = self.write_outputs(&mut file, true)?;
                file.flush()?;
                Ok(cuts)
            }
            None => {
                let mut stdout = io::BufWriter::new(io::stdout().lock());
                writeln!(stdout, "\nOutputs:")?;
                let cuts = self.write_outputs(&mut stdout, false)?;
                stdout.flush()?;
                Ok(cuts)
            }
        }
    }

    /// Writes every output of the action, in `action.yml`'s order, straight to `out`: as
    /// `GITHUB_OUTPUT` heredocs with a random delimiter, or as `name=value` lines to print. The
    /// JSON lists go out an entry at a time (at 100,000 versions they are megabytes), each list
    /// stopping before the entry that would take it over [`OUTPUT_LIMIT`].
    pub fn write_outputs(&self, out: &mut impl Write, heredoc: bool) -> io::Result<Vec<Cut>> {
        let (deleted, restored) = match self.report.mode {
            Mode::Delete => (Some(Counted::Changed), None),
            Mode::Restore => (None, Some(Counted::Changed)),
        };
        let count = |counted: Option<Counted>| counted.map_or(0, |counted| self.count(counted));
        let numbers = [
            ("deleted-count", count(deleted)),
            ("restored-count", count(restored)),
            ("failed-count", self.failed_count()),
            ("kept-count", self.count(Counted::Kept)),
            ("deferred-count", self.count(Counted::Deferred)),
        ];
        for (name, number) in numbers {
            output(out, heredoc, name, |w| write!(w, "{number}"))?;
        }
        let mut cuts = Vec::new();
        let lists = [
            ("deleted", deleted),
            ("restored", restored),
            ("failed", Some(Counted::Failed)),
        ];
        for (name, counted) in lists {
            let total = match counted {
                Some(Counted::Failed) => self.failed_count(),
                counted => counted.map_or(0, |counted| self.count(counted)),
            };
            list_output(out, heredoc, name, total, &mut cuts, |w| {
                self.write_json(w, counted)
            })?;
        }
        let total = self.count(Counted::Changed);
        list_output(out, heredoc, "version-ids", total, &mut cuts, |w| {
            self.write_ids(w)
        })?;
        let total = self.untagged().count();
        list_output(out, heredoc, "untagged", total, &mut cuts, |w| {
            self.write_untagged(w)
        })?;
        let truncated = !cuts.is_empty();
        output(out, heredoc, "truncated", |w| write!(w, "{truncated}"))?;
        output(out, heredoc, "report-file", |w| {
            w.write_all(self.report_file.as_deref().unwrap_or("").as_bytes())
        })?;
        let freed = self.bytes_freed();
        output(out, heredoc, "bytes-freed", |w| write!(w, "{freed}"))?;
        Ok(cuts)
    }

    /// A JSON array of the versions counted in `counted` (failures with status and message): its
    /// first entries that fit in [`OUTPUT_LIMIT`]. Returns how many were written.
    fn write_json(&self, w: &mut dyn Write, counted: Option<Counted>) -> io::Result<usize> {
        let mut list = Bounded::json(w)?;
        for entry in counted.into_iter().flat_map(|counted| self.with(counted)) {
            // Names, tags and messages come from the server, which may echo the token.
            if !list.push(&redact::clean(&hidden::json(&output_json(entry))))? {
                return list.close();
            }
        }
        if counted == Some(Counted::Failed) {
            // `untag`: throw-away versions left behind, after the versions that failed.
            for (package, leftover, tags) in &self.leftovers {
                let value = leftover_json(package, leftover, tags);
                if !list.push(&redact::clean(&hidden::json(&value)))? {
                    break;
                }
            }
        }
        list.close()
    }

    /// The ids changed, comma-separated: the first whole ids that fit in [`OUTPUT_LIMIT`].
    /// Returns how many were written.
    fn write_ids(&self, w: &mut dyn Write) -> io::Result<usize> {
        let mut list = Bounded::new(w, None);
        for entry in self.with(Counted::Changed) {
            if !list.push(&entry.version.id.to_string())? {
                break;
            }
        }
        list.close()
    }

    /// `untagged`: a JSON array of `{package, id, name, tags}` (the tags removed), its first
    /// entries that fit in [`OUTPUT_LIMIT`]. Returns how many were written.
    fn write_untagged(&self, w: &mut dyn Write) -> io::Result<usize> {
        let mut list = Bounded::json(w)?;
        for entry in self.untagged() {
            let value = json!({
                "package": entry.package.name,
                "id": entry.version.id,
                "name": entry.version.name,
                "tags": entry.removed,
            });
            if !list.push(&redact::clean(&hidden::json(&value)))? {
                break;
            }
        }
        list.close()
    }
}

/// One list output (`name`, of `total` entries) written by `write`, which says how many entries
/// fitted; a list cut short is added to `cuts`.
fn list_output(
    out: &mut impl Write,
    heredoc: bool,
    name: &'static str,
    total: usize,
    cuts: &mut Vec<Cut>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<usize>,
) -> io::Result<()> {
    let mut kept = 0;
    output(out, heredoc, name, |w| {
        kept = write(w)?;
        Ok(())
    })?;
    if kept < total {
        cuts.push(Cut {
            output: name,
            kept,
            total,
        });
    }
    Ok(())
}

/// A comma-separated list being written within [`OUTPUT_LIMIT`] (a JSON array when it has
/// brackets): it takes items until the first that would not fit, and none after it.
struct Bounded<'w> {
    w: &'w mut dyn Write,
    closing: Option<&'static [u8]>,
    written: usize,
    kept: usize,
}

impl<'w> Bounded<'w> {
    fn new(w: &'w mut dyn Write, closing: Option<&'static [u8]>) -> Bounded<'w> {
        let written = closing.map_or(0, |c| c.len());
        Bounded {
            w,
            closing,
            written,
            kept: 0,
        }
    }

    /// A JSON array: `[` written now, `]` at [`Bounded::close`].
    fn json(w: &'w mut dyn Write) -> io::Result<Bounded<'w>> {
        w.write_all(b"[")?;
        let mut list = Bounded::new(w, Some(b"]"));
        list.written += 1;
        Ok(list)
    }

    /// Writes `item` when it fits; `false` when it did not (the list is then full).
    fn push(&mut self, item: &str) -> io::Result<bool> {
        let comma = usize::from(self.kept > 0);
        if self.written + comma + item.len() > OUTPUT_LIMIT {
            return Ok(false);
        }
        if comma > 0 {
            self.w.write_all(b",")?;
        }
        self.w.write_all(item.as_bytes())?;
        self.written += comma + item.len();
        self.kept += 1;
        Ok(true)
    }

    /// Ends the list; how many items it holds.
    fn close(self) -> io::Result<usize> {
        if let Some(closing) = self.closing {
            self.w.write_all(closing)?;
        }
        Ok(self.kept)
    }
}

/// A throw-away version that `untag` left behind, as an entry of `failed` (the run never read
/// its dates).
pub(super) fn leftover_json(package: &Package, leftover: &Leftover, tags: &[String]) -> Value {
    json!({
        "package": package.name,
        "package_type": package.package_type().as_str(),
        "id": leftover.id,
        "name": leftover.digest,
        "tags": tags,
        "created_at": null,
        "updated_at": null,
        "status": leftover.status,
        "message": leftover.describe(tags),
    })
}

/// An entry of the `deleted`, `restored` and `failed` outputs.
fn output_json(entry: &Entry) -> Value {
    let mut value = version_json(entry);
    if let Some(failure) = entry.failure {
        value["status"] = json!(failure.status);
        value["message"] = json!(failure.message);
    }
    value
}

/// A version as the outputs and the report file give it.
pub(super) fn version_json(entry: &Entry) -> Value {
    json!({
        "package": entry.package.name,
        "package_type": entry.package.package_type().as_str(),
        "id": entry.version.id,
        "name": entry.version.name,
        "tags": entry.version.tags,
        "created_at": format_timestamp(entry.version.created_at),
        "updated_at": format_timestamp(entry.version.updated_at),
    })
}

/// One output: a heredoc with a delimiter no value can predict, or a `name=value` line.
fn output(
    out: &mut impl Write,
    heredoc: bool,
    name: &str,
    value: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    if heredoc {
        let delimiter = format!(
            "ghadelimiter_{}{}",
            crate::runner::random::hex(),
            crate::runner::random::hex()
        );
        writeln!(out, "{name}<<{delimiter}")?;
        value(out)?;
        write!(out, "\n{delimiter}\n")
    } else {
        write!(out, "{name}=")?;
        value(out)?;
        writeln!(out)
    }
}
