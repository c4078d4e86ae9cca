//! The request and answer shapes the routes work on, independent of hyper, and the small
//! URL helpers they need.

use serde_json::Value;

/// The parts of a request the routes look at.
#[derive(Clone, Debug)]
pub(crate) struct RequestParts {
    pub method: String,
    /// The path as sent (still percent-encoded).
    pub raw_path: String,
    /// The query string as sent, without `?`.
    pub query: String,
    /// The `Host` header, used to build absolute URLs.
    pub host: String,
    pub authorization: Option<String>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The request body as sent.
    pub body: Vec<u8>,
    /// Every `User-Agent` value the request carried, in order.
    pub user_agents: Vec<String>,
}

impl RequestParts {
    /// Decoded path segments, empty ones dropped (`a%2Fb` stays one segment `a/b`).
    pub fn segments(&self) -> Vec<String> {
        self.raw_path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect()
    }

    /// Decoded query parameters, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (
                    percent_decode(&key.replace('+', " ")),
                    percent_decode(&value.replace('+', " ")),
                )
            })
            .collect()
    }

    /// The first value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The credential of an `Authorization: <scheme> <credential>` header if the scheme is one
    /// of `schemes` (case-insensitive).
    pub fn credential(&self, schemes: &[&str]) -> Option<String> {
        let header = self.authorization.as_deref()?.trim();
        let (scheme, credential) = header.split_once(' ')?;
        schemes
            .iter()
            .any(|s| s.eq_ignore_ascii_case(scheme))
            .then(|| credential.trim().to_owned())
    }

    /// `http://HOST`, the base of absolute URLs in answers.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.host)
    }

    /// Whether the method changes state (GitHub's secondary limits weigh these 5 points).
    pub fn is_write(&self) -> bool {
        matches!(self.method.as_str(), "DELETE" | "POST" | "PUT" | "PATCH")
    }
}

/// An answer before it becomes a hyper response.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn json(status: u16, body: &Value) -> Answer {
        Answer::with_type(status, "application/json; charset=utf-8", body.to_string())
    }

    pub fn with_type(status: u16, content_type: &str, body: String) -> Answer {
        Answer {
            status,
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
            body,
        }
    }

    pub fn no_content() -> Answer {
        Answer {
            status: 204,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Answer {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes `%XX` escapes; invalid escapes and invalid UTF-8 are kept as they are.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// Encodes everything but RFC 3986 unreserved characters, so `a/b` becomes `a%2Fb`.
pub(crate) fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_coding_round_trips_slashes() {
        assert_eq!(percent_encode("a/b c"), "a%2Fb%20c");
        assert_eq!(percent_decode("a%2Fb%20c"), "a/b c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
