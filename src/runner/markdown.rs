//! The one place that renders Markdown from untrusted text (names, tags, GitHub's messages): no
//! text can add a table cell, a line, a link, an image or HTML; links go only to the GitHub web host.

use crate::runner::{hidden, redact};
use std::fmt::Write as _;

/// Inline text, safe in a paragraph, a list item or a table cell: the characters that make
/// Markdown (emphasis, code, links, HTML, entities, cells, math) backslash-escaped, and any ASCII
/// punctuation that starts the text (a heading, a quote, a list), control characters shown as
/// escapes (no new line), and the triggers of GFM's extended autolinks (`://`, `www.`, `@`)
/// broken by a zero-width space, so that no address becomes a link.
pub fn text(text: &str) -> String {
    let text = redact::clean(text);
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        match c {
            c if c.is_control() || is_line_break(c) || hidden::is_hidden(c) => {
                push_escaped(&mut out, c)
            }
            c if "\\`*_~[]<>&|$".contains(c) || (first && c.is_ascii_punctuation()) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
        let www = c == '.' && {
            let end = out.as_bytes();
            end.len() >= 4 && end[end.len() - 4..].eq_ignore_ascii_case(b"www.")
        };
        let scheme = c == ':' && chars.peek() == Some(&'/');
        if www || scheme || c == '@' {
            out.push_str("&#8203;");
        }
        first = false;
    }
    out
}

/// A code span holding `text` verbatim, safe in a table cell: the fence is longer than any run of
/// backticks inside, `|` is escaped (GFM splits cells before it reads spans), control characters
/// are shown as escapes.
pub fn code(text: &str) -> String {
    let text = redact::clean(text);
    let mut body = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            '|' => body.push_str("\\|"),
            c if c.is_control() || is_line_break(c) || hidden::is_hidden(c) => {
                push_escaped(&mut body, c)
            }
            c => body.push(c),
        }
    }
    if body.is_empty() {
        return String::new();
    }
    let fence = "`".repeat(longest_run(&body, '`') + 1);
    // A space on each side keeps a leading or trailing backtick apart from the fence (and keeps
    // spaces at the ends); CommonMark strips exactly one on each side.
    let pad = [body.starts_with(['`', ' ']), body.ends_with(['`', ' '])];
    if pad.contains(&true) {
        format!("{fence} {body} {fence}")
    } else {
        format!("{fence}{body}{fence}")
    }
}

/// A fence for a fenced code block that `content` cannot close.
pub fn block_fence(content: &str) -> String {
    "`".repeat((longest_run(content, '`') + 1).max(3))
}

/// A link to `url` when it is an https address on the GitHub web host `web` (such as
/// `https://github.com`), else `None`. The address is percent-encoded where Markdown could read it
/// otherwise.
pub fn link(label: &str, url: &str, web: &str) -> Option<String> {
    let web = web.trim_end_matches('/');
    let rest = url.strip_prefix(web)?;
    if !web.starts_with("https://") || !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let mut address = String::from(web);
    for byte in rest.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~%?=&#+".contains(&byte) {
            address.push(byte as char);
        } else {
            let _ = write!(address, "%{byte:02X}");
        }
    }
    Some(format!("[{}]({address})", text(label)))
}

/// A YAML double-quoted scalar holding `text` exactly (it parses back to the same string), on one line.
pub fn yaml_string(text: &str) -> String {
    let text = redact::clean(text);
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || is_line_break(c) || hidden::is_hidden(c) => {
                if u32::from(c) <= 0xFFFF {
                    let _ = write!(out, "\\u{:04X}", c as u32);
                } else {
                    let _ = write!(out, "\\U{:08X}", c as u32);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_line_break(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

fn longest_run(text: &str, wanted: char) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == wanted { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_has_no_markup_left() {
        let hostile = "a|b `c` <img src=x> [l](https://evil.example) www.evil.example me@evil.example *e*\nline";
        let safe = text(hostile);
        assert!(!safe.contains('\n'));
        assert!(!safe.contains("|") || safe.matches('|').count() == safe.matches("\\|").count());
        assert!(safe.contains("\\<img") && safe.matches('<').count() == 1);
        assert!(safe.contains("https:&#8203;//evil"));
        assert!(safe.contains("www.&#8203;evil"));
        assert!(safe.contains("me@&#8203;evil"));
        assert!(safe.contains("\\*e\\*"));
        assert_eq!(text("# h"), "\\# h");
        assert_eq!(
            text("Package cannot be restored: it was deleted."),
            "Package cannot be restored: it was deleted."
        );
    }

    #[test]
    fn code_spans_cannot_be_closed_or_split() {
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("x|y\nz"), "`x\\|y\\nz`");
        assert_eq!(code("`a"), "`` `a ``");
        assert_eq!(code("```"), "```` ``` ````");
        assert_eq!(code(""), "");
    }

    #[test]
    fn links_only_to_the_github_web_host_over_https() {
        let web = "https://github.com";
        assert_eq!(
            link(
                "view",
                "https://github.com/acme/app/pkgs/container/app/1",
                web
            )
            .unwrap(),
            "[view](https://github.com/acme/app/pkgs/container/app/1)"
        );
        assert_eq!(link("v", "https://github.com.evil.example/x", web), None);
        assert_eq!(link("v", "http://github.com/x", "http://github.com"), None);
        assert_eq!(link("v", "javascript:alert(1)", web), None);
        assert_eq!(
            link("v", "https://github.com/a b)(<c>", web).unwrap(),
            "[v](https://github.com/a%20b%29%28%3Cc%3E)"
        );
    }

    #[test]
    fn yaml_strings_stay_on_one_line_and_read_back() {
        for name in [
            "app",
            "a\"b",
            "x\ny: 1",
            "back\\slash",
            "#c",
            "- item",
            "\u{2028}",
        ] {
            let quoted = yaml_string(name);
            assert!(!quoted.contains('\n'));
            let back: String = serde_yaml::from_str(&quoted).unwrap();
            assert_eq!(back, name);
        }
    }
}
