//! The job summary (`GITHUB_STEP_SUMMARY`), most important first, one file per section:
//! the title and headline (`headline.rs`), failures (`failures.rs`), the package table
//! (`table.rs`), the version lists (`lists.rs`, with the versions the repository kept in
//! `protected.rs`), the charts (`charts.rs`), the Undo block
//! (`undo.rs`). API text goes through `runner::markdown`. Never over [`LIMIT`] bytes.

mod charts;
mod failures;
mod headline;
mod lists;
mod protected;
mod table;
mod undo;

pub use undo::undo_action;

use super::Tally;
use crate::model::Timestamp;

/// GitHub drops a summary over 1 MiB whole: this one never exceeds 1,000,000 bytes.
pub const LIMIT: usize = 1_000_000;

/// What the summary is written for.
pub struct SummaryContext<'a> {
    pub now: Timestamp,
    /// The GitHub web host (`https://github.com`), the only host links may go to.
    pub web: &'a str,
    /// The Undo block's `uses:` (see [`undo_action`]).
    pub action: &'a str,
    /// Mermaid charts: in the job summary, where GitHub draws them; not in a log.
    pub charts: bool,
}

impl Tally<'_> {
    /// The job summary: the head (title, headline, failures, table) and the Undo block always,
    /// whole; the version lists take the room left, cut first with a line pointing at
    /// `report-file`; the charts only when they fit.
    pub fn summary(&self, context: &SummaryContext) -> String {
        let mut head = self.headline();
        head.push_str(&self.caution());
        head.push_str(&self.package_table());
        let charts = if context.charts {
            self.charts()
        } else {
            String::new()
        };
        let undo = self.undo(context.action, LIMIT.saturating_sub(head.len()) / 2);
        let head = cut_to(head, LIMIT.saturating_sub(undo.len()));
        let mut room = LIMIT.saturating_sub(head.len() + undo.len());
        let charts = if charts.len() <= room / 2 {
            room -= charts.len();
            charts
        } else {
            String::new()
        };
        let lists = self.lists(context, room);
        let mut out = head;
        out.push_str(&lists);
        out.push_str(&charts);
        out.push_str(&undo);
        out
    }
}

/// `text` cut at a line end to at most `limit` bytes, saying so when it is cut.
fn cut_to(text: String, limit: usize) -> String {
    const NOTE: &str = "\n… cut here: GitHub shows at most 1 MiB of a summary.\n";
    if text.len() <= limit {
        return text;
    }
    let mut end = limit.saturating_sub(NOTE.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').map_or(0, |at| at + 1);
    let mut cut = text[..end].to_string();
    cut.push_str(NOTE);
    cut
}

/// `body` in a `<details>` fold titled `title` (GitHub renders Markdown inside it).
fn fold(title: &str, body: &str) -> String {
    format!("<details><summary>{title}</summary>\n\n{body}\n</details>\n")
}

/// "1 version", "2 versions".
fn plural(count: usize, word: &str) -> String {
    if count == 1 {
        format!("{count} {word}")
    } else {
        format!("{count} {word}s")
    }
}

/// An age in minutes, hours or days.
fn age(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        s if s < 3_600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3_600),
        s => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_ends_at_a_line_and_says_so() {
        let text = "line one\nline two\nline three\n".repeat(10);
        let cut = cut_to(text.clone(), 120);
        assert!(cut.len() <= 120, "{cut}");
        assert!(cut.ends_with("of a summary.\n"));
        assert!(cut.starts_with("line one\n"));
        assert_eq!(cut_to(text.clone(), 10_000), text);
    }

    #[test]
    fn plurals_and_ages() {
        assert_eq!(plural(1, "version"), "1 version");
        assert_eq!(plural(2, "version"), "2 versions");
        assert_eq!(age(59), "0m");
        assert_eq!(age(7_200), "2h");
        assert_eq!(age(86_400 * 3), "3d");
    }
}
