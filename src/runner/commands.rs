//! The one writer of workflow commands (`::error::`, `::warning::`, `::group::`, `::debug::`) and
//! of log lines built from API data: every piece of data is escaped and redacted here, and nowhere else.

use crate::runner::{hidden, redact};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether `::debug::` lines are printed: the runner sets `RUNNER_DEBUG=1` when debug logging is
/// on (a re-run with "Enable debug logging", or the `ACTIONS_STEP_DEBUG` secret).
static DEBUG: AtomicBool = AtomicBool::new(false);

/// Turns the `::debug::` lines on or off for the whole run.
pub fn enable_debug(enabled: bool) {
    DEBUG.store(enabled, Ordering::Relaxed);
}

/// Prints one `::debug::` line at once when debug logging is on; otherwise nothing (and the
/// message is not even made).
pub fn debug(message: impl FnOnce() -> String) {
    if DEBUG.load(Ordering::Relaxed) {
        let mut log = Log::new();
        log.debug(&message());
        log.print();
    }
}

/// Data inside a command's message or a log line: `%`, `\r` and `\n` percent-escaped (the runner
/// reads a line ended by either as a line), and the runner's older `##[…]` command form broken.
pub fn data(text: &str) -> String {
    let text = redact::clean(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            '[' if out.ends_with("##") => out.push_str("%5B"),
            c if hidden::is_hidden(c) => hidden::push_shown(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// Data inside a command's property (`title=…`): as [`data`], and `:` and `,` too.
pub fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The longest line the action writes to the log, in bytes: a longer one is cut, saying so.
pub const MAX_LOG_LINE: usize = 4_096;

/// The most items a line names before it counts the rest.
pub const NAMED: usize = 20;

/// `items` joined by `", "`: the first [`NAMED`], then "and N more", so that a line naming many
/// digests, ids or tags stays readable and short.
pub fn first_of<I>(items: I) -> String
where
    I: IntoIterator,
    I::Item: std::fmt::Display,
{
    let mut out = String::new();
    let mut more = 0usize;
    for (i, item) in items.into_iter().enumerate() {
        if i >= NAMED {
            more += 1;
            continue;
        }
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{item}");
    }
    if more > 0 {
        let _ = write!(out, " and {more} more");
    }
    out
}

/// Escaped `text` cut to at most `room` bytes, never inside a `%XX` escape nor a character,
/// saying how much was cut.
fn fit(text: String, room: usize) -> String {
    if text.len() <= room {
        return text;
    }
    // " … (cut: <20 digits> bytes more)" fits in 40 bytes.
    let mut end = room.saturating_sub(40);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let from = end.saturating_sub(2);
    if let Some(percent) = text.as_bytes()[from..end].iter().rposition(|b| *b == b'%') {
        end = from + percent;
    }
    format!("{} … (cut: {} bytes more)", &text[..end], text.len() - end)
}

/// A log being written: commands and lines, each ended by `\n`.
#[derive(Default)]
pub struct Log {
    text: String,
}

/// The title every annotation of the action carries.
pub const TITLE: &str = "package-retention";

impl Log {
    pub fn new() -> Log {
        Log::default()
    }

    /// An error annotation.
    pub fn error(&mut self, title: &str, message: &str) {
        self.command("error", Some(title), message);
    }

    /// A warning annotation.
    pub fn warning(&mut self, title: &str, message: &str) {
        self.command("warning", Some(title), message);
    }

    /// A debug line (shown only when the runner's debug logging is on).
    pub fn debug(&mut self, message: &str) {
        self.command("debug", None, message);
    }

    /// Opens a folded group; [`Log::end_group`] closes it.
    pub fn group(&mut self, title: &str) {
        self.command("group", None, title);
    }

    pub fn end_group(&mut self) {
        self.command("endgroup", None, "");
    }

    /// A plain line built from API data: escaped as data, so it can start no command.
    pub fn line(&mut self, text: &str) {
        let line = fit(data(text), MAX_LOG_LINE - 3);
        // The runner reads a line whose text starts with `::` after white space as a command.
        let start = line.len() - line.trim_start().len();
        self.text.push_str(&line[..start]);
        let rest = &line[start..];
        match rest.strip_prefix(':') {
            Some(rest) if rest.starts_with(':') => {
                self.text.push_str("%3A");
                self.text.push_str(rest);
            }
            _ => self.text.push_str(rest),
        }
        self.text.push('\n');
    }

    /// Lines whose commands the runner must not run whatever they hold (GitHub's own messages,
    /// verbatim): between `::stop-commands::<random>` and `::<random>::`.
    pub fn verbatim(&mut self, write: impl FnOnce(&mut Log)) {
        let resume = format!(
            "{}{}",
            crate::runner::random::hex(),
            crate::runner::random::hex()
        );
        let _ = writeln!(self.text, "::stop-commands::{resume}");
        write(self);
        let _ = writeln!(self.text, "::{resume}::");
    }

    fn command(&mut self, name: &str, title: Option<&str>, message: &str) {
        let start = self.text.len();
        let _ = write!(self.text, "::{name}");
        if let Some(title) = title {
            let _ = write!(self.text, " title={}", fit(property(title), 200));
        }
        let room = MAX_LOG_LINE.saturating_sub(self.text.len() - start + 2);
        let _ = writeln!(self.text, "::{}", fit(data(message), room));
    }

    pub fn into_text(self) -> String {
        self.text
    }

    /// Prints the log to standard output.
    pub fn print(self) {
        print!("{}", self.text);
    }
}

/// Prints one error annotation at once (for the paths that end the run).
pub fn print_error(title: &str, message: &str) {
    let mut log = Log::new();
    log.error(title, message);
    log.print();
}

/// Prints one warning annotation at once.
pub fn print_warning(title: &str, message: &str) {
    let mut log = Log::new();
    log.warning(title, message);
    log.print();
}

/// Prints a line built from API data to standard output and flushes it at once: the record of a
/// write done, which must be in the log even if the process is killed the next moment.
pub fn record(text: &str) {
    use std::io::Write as _;
    let mut log = Log::new();
    log.line(text);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(log.into_text().as_bytes());
    let _ = out.flush();
}

/// Prints a progress line built from API data to standard error, at once (while the run goes on).
pub fn progress(text: &str) {
    let mut log = Log::new();
    log.line(text);
    eprint!("{}", log.into_text());
}

#[cfg(test)]
mod tests {
    // The runner's rules for reading a log, shared with the end-to-end tests.
    use super::*;
    use fake_github::runner::{assert_no_command_from_data, commands};

    const HOSTILE: &str = "x\n::add-mask::secret\r::warning::owned %0A ##[set-env name=A]b, c: d";

    #[test]
    fn data_starts_no_command() {
        let mut log = Log::new();
        log.group(HOSTILE);
        log.line(&format!("delete 1 {HOSTILE}"));
        log.line(HOSTILE);
        log.line(&format!("::{HOSTILE}"));
        log.end_group();
        log.warning(HOSTILE, HOSTILE);
        log.error("title", HOSTILE);
        log.debug(HOSTILE);
        log.verbatim(|log| log.line(HOSTILE));
        let text = log.into_text();
        let commands = commands(&text);
        assert_eq!(commands.len(), 6, "{text}");
        for command in &commands {
            assert!(
                [
                    "group",
                    "endgroup",
                    "warning",
                    "error",
                    "debug",
                    "stop-commands"
                ]
                .contains(&command.name.as_str()),
                "{command:?}"
            );
        }
        assert_no_command_from_data(&text, "add-mask");
        assert!(text.contains("x%0A::add-mask::secret%0D::warning::owned %250A ##%5Bset-env"));
        assert!(text.contains("::warning title=x%0A%3A%3Aadd-mask%3A%3Asecret%0D"));
        assert!(text.contains("name=A]b%2C c%3A d::x%0A"));
        assert!(text.contains("\n::debug::x%0A::add-mask::secret%0D::warning::owned %250A"));
    }

    #[test]
    fn verbatim_text_sits_between_a_random_pair() {
        let mut log = Log::new();
        log.verbatim(|log| log.line("::error::raw"));
        let text = log.into_text();
        let lines: Vec<&str> = text.lines().collect();
        let token = lines[0].strip_prefix("::stop-commands::").unwrap();
        assert_eq!(token.len(), 32);
        assert_eq!(lines[2], format!("::{token}::"));
        assert!(commands(&text).iter().all(|c| !c.message.contains("raw")));
    }

    /// "No other code prints `::`": a workflow command's name after `::` appears in no other
    /// source file of the binary.
    #[test]
    fn no_other_module_writes_a_workflow_command() {
        let names = [
            "error",
            "warning",
            "notice",
            "debug",
            "group",
            "endgroup",
            "add-mask",
            "stop-commands",
            "set-output",
            "save-state",
            "echo",
            "add-matcher",
        ];
        let mut offenders = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.ends_with("commands.rs") {
                    continue;
                }
                let source = std::fs::read_to_string(&path).unwrap();
                for (at, _) in source.match_indices("::") {
                    let before = source[..at].chars().next_back().unwrap_or(' ');
                    let after = &source[at + 2..];
                    let word: String = after
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '-')
                        .collect();
                    let ident = before.is_alphanumeric() || before == '_' || before == '>';
                    if !ident && names.contains(&word.as_str()) {
                        offenders.push(format!("{}: ::{word}", path.display()));
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "{offenders:#?}");
    }
}
