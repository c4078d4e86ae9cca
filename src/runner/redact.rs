//! Keeping the token out of everything the action prints or writes: the token and every base64
//! form of it (at any alignment, standard and URL-safe alphabets) are replaced by `***`.

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use std::borrow::Cow;
use std::sync::OnceLock;

/// What is replaced: set once, when the token is known, before anything is printed.
static SECRETS: OnceLock<Vec<String>> = OnceLock::new();

/// Forms shorter than this are not secrets worth hiding (and would mangle ordinary text).
const SHORTEST: usize = 8;

/// Registers the token; later calls are ignored (one token per run).
pub fn register(token: &str) {
    let _ = SECRETS.set(forms(token));
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

/// `text` with every secret form replaced by `***`.
pub fn clean(text: &str) -> Cow<'_, str> {
    let Some(secrets) = SECRETS.get() else {
        return Cow::Borrowed(text);
    };
    clean_with(secrets, text)
}

fn clean_with<'a>(secrets: &[String], text: &'a str) -> Cow<'a, str> {
    let mut text = Cow::Borrowed(text);
    for secret in secrets {
        if text.contains(secret.as_str()) {
            text = Cow::Owned(text.replace(secret.as_str(), "***"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "ghp_0123456789abcdefghijABCDEFGHIJ012345";

    #[test]
    fn the_token_and_its_base64_forms_are_hidden_wherever_they_stand() {
        let secrets = forms(TOKEN);
        for prefix in ["", "a", "ab", "package-retention:", "x-access-token:"] {
            let basic =
                base64::engine::general_purpose::STANDARD.encode(format!("{prefix}{TOKEN}"));
            let echoed = format!("denied: Authorization: Basic {basic} for Bearer {TOKEN}");
            let cleaned = clean_with(&secrets, &echoed);
            assert!(!cleaned.contains(TOKEN), "{cleaned}");
            // No piece of any encoding of the token is left (8 characters carry 6 bytes).
            for form in &secrets {
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
        assert_eq!(clean_with(&forms("tok"), "token tok"), "token tok");
    }
}
