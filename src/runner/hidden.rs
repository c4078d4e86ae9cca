//! Characters that change how text reads without being seen: invisible (zero-width, format) and
//! direction-changing characters in names, tags and messages from the API. The log and Markdown
//! writers show them escaped (`\u{202e}`); JSON is written with them JSON-escaped (`\u202e`),
//! so one name cannot pass for another, and JSON still reads back the very text.

#[cfg(test)]
use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is invisible or changes the direction of text: Unicode's format characters
/// (general category Cf: U+200B–U+200F, U+202A–U+202E, U+2060–U+206F, U+FEFF, the soft
/// hyphen, tag characters …) and the fillers that render as nothing.
pub fn is_hidden(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
        | 0x0600..=0x0605 | 0x06DD | 0x070F | 0x0890 | 0x0891 | 0x08E2
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
}

/// Writes `c` as it is shown: `\u{202e}` (lower-case hex, as Rust writes it).
pub fn push_shown(out: &mut String, c: char) {
    let _ = write!(out, "\\u{{{:x}}}", c as u32);
}

/// `text` with every hidden character shown as [`push_shown`] writes it.
#[cfg(test)]
pub fn show_hidden(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_hidden(c) {
            push_shown(&mut shown, c);
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}

/// A JSON formatter that writes hidden characters as `\uXXXX` escapes (surrogate pairs above
/// U+FFFF), so JSON read by people shows them and still parses back to the very text.
#[derive(Clone, Copy, Debug, Default)]
struct JsonEscapingHidden;

impl serde_json::ser::Formatter for JsonEscapingHidden {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            if is_hidden(c) {
                writer.write_all(&fragment.as_bytes()[start..at])?;
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
                start = at + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// `value` as compact JSON (as `Value::to_string` writes it), hidden characters escaped.
pub fn json(value: &serde_json::Value) -> String {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, JsonEscapingHidden);
    serde::Serialize::serialize(value, &mut serializer).expect("a JSON value serializes");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_are_shown_and_nothing_else_changes() {
        assert_eq!(show_hidden("v1.0"), "v1.0");
        assert!(matches!(show_hidden("café ü 日本"), Cow::Borrowed(_)));
        assert_eq!(show_hidden("1.0\u{202e}exe"), "1.0\\u{202e}exe");
        assert_eq!(
            show_hidden("\u{feff}a\u{200b}b\u{2066}c\u{e0041}"),
            "\\u{feff}a\\u{200b}b\\u{2066}c\\u{e0041}"
        );
    }

    #[test]
    fn json_escapes_them_and_reads_back_the_same() {
        let name = "1.0\u{202e}exe \u{e0041} \"q\" ü";
        let json = json(&serde_json::json!({ "name": name }));
        assert!(
            json.contains("\\u202e") && json.contains("\\udb40\\udc41"),
            "{json}"
        );
        assert!(!json.chars().any(is_hidden));
        assert!(json.contains('ü'));
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["name"], name);
    }
}
