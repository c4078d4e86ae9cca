//! What comes back: an answer read as a stream up to its limit (32 MiB from the API, 4 MiB from a
//! registry), GitHub's message and rate-limit hints in it, and the failure budget of retries.

use anyhow::{anyhow, Context, Result};
use http::{HeaderMap, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::BodyExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The largest API answer body read; a longer one is an error.
pub const API_BODY_LIMIT: usize = 32 << 20;

/// The largest registry answer body (manifests, tokens) read; a longer one is an error.
pub const REGISTRY_BODY_LIMIT: usize = 4 << 20;

/// Why an attempt failed: worth another try, or never going to succeed.
pub(super) enum Failure {
    Transient(anyhow::Error),
    Final(anyhow::Error),
    /// A write whose turn came after the run was cancelled or its caller's check said no.
    Withheld,
}

/// An HTTP answer, body read whole (up to its limit).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// GitHub's `message`, or the body's start.
    pub fn message(&self) -> String {
        #[derive(serde::Deserialize)]
        struct Message {
            message: String,
        }
        match serde_json::from_slice::<Message>(&self.body) {
            Ok(parsed) => parsed.message,
            Err(_) => {
                let text = String::from_utf8_lossy(&self.body);
                let text = text.trim();
                if text.is_empty() {
                    self.status
                        .canonical_reason()
                        .unwrap_or("no message")
                        .to_string()
                } else {
                    crate::runner::redact::clean_and_cut(text, 200)
                }
            }
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A 403/429 that says "rate limit": how long to wait before trying again.
    pub fn rate_limit_wait(&self, now_epoch: i64) -> Option<Duration> {
        if self.status != StatusCode::FORBIDDEN && self.status != StatusCode::TOO_MANY_REQUESTS {
            return None;
        }
        if let Some(seconds) = self
            .header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            return Some(Duration::from_secs(seconds));
        }
        if self.header("x-ratelimit-remaining").map(str::trim) == Some("0") {
            let reset = self
                .header("x-ratelimit-reset")
                .and_then(|v| v.trim().parse::<i64>().ok())
                .unwrap_or(now_epoch + 60);
            return Some(Duration::from_secs((reset - now_epoch).max(0) as u64 + 1));
        }
        let says_rate_limit = self.message().to_ascii_lowercase().contains("rate limit");
        (says_rate_limit || self.status == StatusCode::TOO_MANY_REQUESTS)
            .then(|| Duration::from_secs(60))
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).context("GitHub answered JSON of an unexpected shape")
    }
}

/// The failed attempts a caller allows over many requests (the registry, per package): each
/// failed attempt spends one, and once none is left nothing is retried and callers send no more.
#[derive(Debug)]
pub struct FailureBudget {
    left: AtomicUsize,
}

impl FailureBudget {
    pub fn new(failures: usize) -> FailureBudget {
        FailureBudget {
            left: AtomicUsize::new(failures),
        }
    }

    /// Spends one failure: whether any is left after it.
    pub(super) fn spend(&self) -> bool {
        let before = self
            .left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                Some(left.saturating_sub(1))
            })
            .unwrap_or(0);
        before > 1
    }

    pub fn is_spent(&self) -> bool {
        self.left.load(Ordering::Relaxed) == 0
    }
}

/// Reads a body as it streams in, and stops with an error as soon as it (or its announced
/// `content-length`) passes `limit` bytes: no body is ever held beyond the limit.
pub(super) async fn read_limited<E: std::fmt::Display>(
    mut body: BoxBody<bytes::Bytes, E>,
    headers: &HeaderMap,
    limit: usize,
) -> Result<bytes::Bytes, Failure> {
    let too_big = || {
        Failure::Final(anyhow!(
            "the answer's body is over the {} MiB limit",
            limit >> 20
        ))
    };
    let announced = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit as u64) {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(announced.unwrap_or(0) as usize);
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|error| Failure::Transient(anyhow!("the answer broke off: {error}")))?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > limit {
                return Err(too_big());
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{Full, StreamBody};

    #[test]
    fn a_failure_budget_allows_retries_until_it_is_spent() {
        let budget = FailureBudget::new(3);
        assert!(budget.spend(), "2 left: try again");
        assert!(budget.spend(), "1 left: try again");
        assert!(!budget.is_spent());
        assert!(!budget.spend(), "none left: give up");
        assert!(budget.is_spent());
        assert!(!budget.spend(), "stays spent");
    }

    fn boxed<B>(body: B) -> BoxBody<bytes::Bytes, String>
    where
        B: http_body::Body<Data = bytes::Bytes> + Send + Sync + 'static,
        B::Error: std::fmt::Display,
    {
        body.map_err(|e| e.to_string()).boxed()
    }

    #[tokio::test]
    async fn bodies_are_read_up_to_their_limit_only() {
        let small = boxed(Full::new(bytes::Bytes::from_static(b"[1,2]")));
        let read = read_limited(small, &HeaderMap::new(), 16).await;
        assert_eq!(read.ok().unwrap(), bytes::Bytes::from_static(b"[1,2]"));

        // An endless stream stops at the limit, not at the end.
        let chunks = futures::stream::repeat_with(|| {
            Ok::<_, std::convert::Infallible>(http_body::Frame::data(bytes::Bytes::from(vec![
                b' ';
                1024
            ])))
        });
        let endless = boxed(StreamBody::new(chunks));
        match read_limited(endless, &HeaderMap::new(), 64 * 1024).await {
            Err(Failure::Final(error)) => assert!(error.to_string().contains("limit")),
            _ => panic!("an endless body must be a final error"),
        }

        // An announced length over the limit is refused before reading anything.
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_LENGTH, "1073741824".parse().unwrap());
        let pending = boxed(StreamBody::new(futures::stream::pending::<
            Result<http_body::Frame<bytes::Bytes>, std::convert::Infallible>,
        >()));
        assert!(matches!(
            read_limited(pending, &headers, 1024).await,
            Err(Failure::Final(_))
        ));
    }
}
