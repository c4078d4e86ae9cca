//! Keeping the token out of everything the action prints or writes: the token and every base64
//! form of it (at any alignment, standard and URL-safe alphabets), and every piece of 8 or more
//! characters of one of them (a token cut anywhere), are replaced by `***`.

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::OnceLock;

/// What is replaced: every piece of [`SHORTEST`] bytes of a secret form, set once, when the
/// token is known, before anything is printed.
static SECRETS: OnceLock<Pieces> = OnceLock::new();

/// Forms, and pieces of them, shorter than this are not secrets worth hiding (and would mangle
/// ordinary text).
const SHORTEST: usize = 8;

/// The pieces of [`SHORTEST`] bytes of the secret forms (ASCII: a token and base64), and the
/// bytes that occur in them (a window holding any other byte is no piece).
struct Pieces {
    pieces: HashSet<[u8; SHORTEST]>,
    occurs: [bool; 256],
}

/// Registers the token; later calls are ignored (one token per run).
pub fn register(token: &str) {
    let _ = SECRETS.set(pieces(&forms(token)));
}

fn pieces(forms: &[String]) -> Pieces {
    let pieces: HashSet<[u8; SHORTEST]> = forms
        .iter()
        .flat_map(|form| form.as_bytes().windows(SHORTEST))
        .map(|window| window.try_into().expect("a window of SHORTEST bytes"))
        .collect();
    let mut occurs = [false; 256];
    for byte in pieces.iter().flatten() {
        occurs[usize::from(*byte)] = true;
    }
    Pieces { pieces, occurs }
}

/// The strings that reveal `token`: itself, and the base64 of it wherever it stands in an
/// encoded text (for each of the three byte alignments, the part of the encoding that depends
/// on the token's bytes only).
fn forms(token: &str) -> Vec<String> {
    let mut forms = vec![token.to_string()];
    let bytes = token.as_bytes();
    for skip in 0..3.min(bytes.len()) {
        let rest = &bytes[skip..];
        let whole = &rest[..rest.len() - rest.len() % 3];
        forms.push(STANDARD_NO_PAD.encode(whole));
        forms.push(URL_SAFE_NO_PAD.encode(whole));
    }
    forms.retain(|form| form.len() >= SHORTEST);
    // Longest first, so that a longer form is never left half-replaced by a shorter one.
    forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    forms.dedup();
    forms
}

/// `text` with every run of pieces of a secret form replaced by `***`.
pub fn clean(text: &str) -> Cow<'_, str> {
    let Some(pieces) = SECRETS.get() else {
        return Cow::Borrowed(text);
    };
    clean_with(pieces, text)
}

/// `text` redacted, then cut to its first `limit` characters: the cut can never leave a piece
/// of the token behind (the one way to shorten text from a server).
pub fn clean_and_cut(text: &str, limit: usize) -> String {
    clean(text).chars().take(limit).collect()
}

fn clean_with<'a>(pieces: &Pieces, text: &'a str) -> Cow<'a, str> {
    let bytes = text.as_bytes();
    if pieces.pieces.is_empty() || bytes.len() < SHORTEST {
        return Cow::Borrowed(text);
    }
    // Only a window of bytes that all occur in some piece can be one (most text has spaces
    // every few bytes: few windows are looked up).
    // Runs of bytes covered by pieces, merged where they touch or overlap.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut clean_since = 0; // bytes from here on all occur in pieces
    for end in 1..=bytes.len() {
        if !pieces.occurs[usize::from(bytes[end - 1])] {
            clean_since = end;
            continue;
        }
        if end - clean_since < SHORTEST {
            continue;
        }
        let start = end - SHORTEST;
        let window: &[u8; SHORTEST] = bytes[start..end]
            .try_into()
            .expect("a window of SHORTEST bytes");
        if pieces.pieces.contains(window) {
            match runs.last_mut() {
                Some(run) if start <= run.1 => run.1 = end,
                _ => runs.push((start, end)),
            }
        }
    }
    if runs.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut cleaned = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in runs {
        // Pieces are ASCII, so a run starts and ends on character boundaries.
        cleaned.push_str(&text[at..start]);
        cleaned.push_str("***");
        at = end;
    }
    cleaned.push_str(&text[at..]);
    Cow::Owned(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "ghp_0123456789abcdefghijABCDEFGHIJ012345";

    #[test]
    fn the_token_and_its_base64_forms_are_hidden_wherever_they_stand() {
        let secrets = pieces(&forms(TOKEN));
        for prefix in ["", "a", "ab", "package-retention:", "x-access-token:"] {
            let basic =
                base64::engine::general_purpose::STANDARD.encode(format!("{prefix}{TOKEN}"));
            let echoed = format!("denied: Authorization: Basic {basic} for Bearer {TOKEN}");
            let cleaned = clean_with(&secrets, &echoed);
            assert!(!cleaned.contains(TOKEN), "{cleaned}");
            // No piece of any encoding of the token is left (8 characters carry 6 bytes).
            for form in &forms(TOKEN) {
                for start in 0..form.len() - 8 {
                    let piece = &form[start..start + 8];
                    assert!(!cleaned.contains(piece), "{prefix:?}: {cleaned}");
                }
            }
            let url_safe = URL_SAFE_NO_PAD.encode(format!("{prefix}{TOKEN}"));
            assert!(clean_with(&secrets, &url_safe).contains("***"));
        }
    }

    #[test]
    fn short_tokens_do_not_mangle_text() {
        assert_eq!(forms("tok"), Vec::<String>::new());
        assert_eq!(clean_with(&pieces(&forms("tok")), "token tok"), "token tok");
    }

    #[test]
    fn every_piece_of_eight_or_more_is_hidden_wherever_the_token_was_cut() {
        let secrets = pieces(&forms(TOKEN));
        for cut in 0..TOKEN.len() {
            for text in [
                format!("error: {}", &TOKEN[..cut]),
                format!("{} was refused", &TOKEN[cut..]),
            ] {
                let cleaned = clean_with(&secrets, &text);
                for window in TOKEN.as_bytes().windows(SHORTEST) {
                    let window = std::str::from_utf8(window).unwrap();
                    assert!(!cleaned.contains(window), "{cleaned}");
                }
            }
        }
        assert_eq!(clean_with(&secrets, "ghp_0123 ü"), "*** ü");
        assert_eq!(clean_with(&secrets, "ghp_012 ü"), "ghp_012 ü");
        assert_eq!(
            clean_with(&secrets, &format!("a{TOKEN}b{TOKEN}")),
            "a***b***"
        );
    }
}
