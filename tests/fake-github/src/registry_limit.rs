//! The registry's own rate limit ([`RegistryRateLimit`]): reads and writes counted over a
//! sliding window; a request over it is answered 429 `TOOMANYREQUESTS` with `Retry-After`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::config::RegistryRateLimit;
use crate::http::{Answer, RequestParts};
use crate::registry::oci_error;

/// When the registry requests of the current window arrived, reads and writes apart.
#[derive(Debug, Default)]
pub(crate) struct RegistryLimiter {
    reads: VecDeque<Instant>,
    writes: VecDeque<Instant>,
    /// 429 answers given.
    pub refused: usize,
}

impl RegistryLimiter {
    /// Counts a registry request in; `Some(429)` when it is over `limit` (a refused request
    /// does not count). The token endpoint is not limited.
    pub(crate) fn admit(
        &mut self,
        limit: Option<&RegistryRateLimit>,
        req: &RequestParts,
    ) -> Option<Answer> {
        let limit = limit?;
        if !req.raw_path.starts_with("/v2/") {
            return None;
        }
        let (arrivals, allowed) = if req.is_write() {
            (&mut self.writes, limit.writes)
        } else {
            (&mut self.reads, limit.reads)
        };
        let now = Instant::now();
        while arrivals
            .front()
            .is_some_and(|&at| now.duration_since(at) >= limit.window)
        {
            arrivals.pop_front();
        }
        if (arrivals.len() as u64) < allowed {
            arrivals.push_back(now);
            return None;
        }
        let room_at = arrivals.front().map_or(now, |&at| at + limit.window);
        let wait = room_at.saturating_duration_since(now);
        self.refused += 1;
        Some(
            oci_error(429, "TOOMANYREQUESTS", "too many requests")
                .header("retry-after", whole_seconds(wait).to_string()),
        )
    }
}

/// `wait` rounded up to whole seconds, at least 1.
fn whole_seconds(wait: Duration) -> u64 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1_001)), 2);
        assert_eq!(whole_seconds(Duration::from_secs(60)), 60);
    }
}
