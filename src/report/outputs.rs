//! The step outputs: every output of `action.yml`, written straight to `GITHUB_OUTPUT` as heredocs
//! with a random delimiter (or printed as `name=value` lines on a laptop), redacted.

use super::{open_append, Entry, Fate, Tally};
use crate::model::format_timestamp;
use crate::plan::Mode;
use crate::redact;
use serde_json::{json, Value};
use std::io::{self, Write};

impl Tally<'_> {
    /// The outputs to `GITHUB_OUTPUT` when the runner gives one, else printed.
    pub fn emit_outputs(&self, github_output: Option<&str>) -> io::Result<()> {
        match github_output {
            Some(path) => {
                let mut file = io::BufWriter::new(open_append(path)?);
                self.write_outputs(&mut file, true)?;
                file.flush()
            }
            None => {
                let mut stdout = io::BufWriter::new(io::stdout().lock());
                writeln!(stdout, "\nOutputs:")?;
                self.write_outputs(&mut stdout, false)?;
                stdout.flush()
            }
        }
    }

    /// Writes every output of the action, in `action.yml`'s order, straight to `out`: as
    /// `GITHUB_OUTPUT` heredocs with a random delimiter, or as `name=value` lines to print. The
    /// JSON lists go out an entry at a time (at 100,000 versions they are megabytes).
    pub fn write_outputs(&self, out: &mut impl Write, heredoc: bool) -> io::Result<()> {
        let (deleted, restored) = match self.report.mode {
            Mode::Delete => (Some(Fate::Changed), None),
            Mode::Restore => (None, Some(Fate::Changed)),
        };
        let count = |fate: Option<Fate>| fate.map_or(0, |fate| self.count(fate));
        let numbers = [
            ("deleted-count", count(deleted)),
            ("restored-count", count(restored)),
            ("failed-count", self.count(Fate::Failed)),
            ("kept-count", self.count(Fate::Kept)),
            ("deferred-count", self.count(Fate::Deferred)),
        ];
        for (name, number) in numbers {
            output(out, heredoc, name, |w| write!(w, "{number}"))?;
        }
        output(out, heredoc, "deleted", |w| self.write_json(w, deleted))?;
        output(out, heredoc, "restored", |w| self.write_json(w, restored))?;
        output(out, heredoc, "failed", |w| {
            self.write_json(w, Some(Fate::Failed))
        })?;
        output(out, heredoc, "version-ids", |w| {
            for (i, entry) in self.with(Fate::Changed).enumerate() {
                let comma = if i == 0 { "" } else { "," };
                write!(w, "{comma}{}", entry.version.id)?;
            }
            Ok(())
        })
    }

    /// A JSON array of the versions that came to `fate` (failures with status and message).
    fn write_json(&self, w: &mut dyn Write, fate: Option<Fate>) -> io::Result<()> {
        w.write_all(b"[")?;
        for (i, entry) in fate
            .into_iter()
            .flat_map(|fate| self.with(fate))
            .enumerate()
        {
            if i > 0 {
                w.write_all(b",")?;
            }
            let mut value = version_json(entry);
            if let Some((status, message)) = entry.failure {
                value["status"] = json!(status);
                value["message"] = json!(message);
            }
            // Names, tags and messages come from the server, which may echo the token.
            w.write_all(redact::clean(&value.to_string()).as_bytes())?;
        }
        w.write_all(b"]")
    }
}

fn version_json(entry: &Entry) -> Value {
    json!({
        "package": entry.package.name,
        "package_type": entry.package.package_type.as_str(),
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
            crate::client::random_hex(),
            crate::client::random_hex()
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
