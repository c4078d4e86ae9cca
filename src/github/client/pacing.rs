//! Pacing at GitHub's documented secondary limits and under the registry's own: the tuning read
//! from the environment, and token buckets of points (or requests) per minute, each with a
//! shared pause after a rate-limit answer.

use anyhow::{anyhow, Result};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Tuning, from the documented environment variables.
#[derive(Clone, Debug)]
pub struct Tuning {
    pub points_per_minute: u32,
    pub max_in_flight: usize,
    /// Registry requests at once (`PACKAGE_RETENTION_REGISTRY_IN_FLIGHT`), over every package.
    pub registry_in_flight: usize,
    /// Registry reads (manifests, tokens, blob checks) per minute
    /// (`PACKAGE_RETENTION_REGISTRY_PER_MINUTE`): under ghcr.io's ~44,000.
    pub registry_reads_per_minute: u32,
    /// Registry pushes (uploads, manifest `PUT`s) per minute
    /// (`PACKAGE_RETENTION_REGISTRY_PUSHES_PER_MINUTE`): under ghcr.io's ~2,000.
    pub registry_pushes_per_minute: u32,
    pub request_timeout: Duration,
    pub retry_base: Duration,
    pub max_retries: u32,
    /// Longest rate-limit wait the run accepts; a longer one defers the work.
    pub max_rate_limit_wait: Duration,
}

impl Tuning {
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Tuning> {
        fn number<T: std::str::FromStr>(
            env: &dyn Fn(&str) -> Option<String>,
            name: &str,
            default: T,
        ) -> Result<T> {
            match env(name) {
                None => Ok(default),
                Some(text) if text.trim().is_empty() => Ok(default),
                Some(text) => text
                    .trim()
                    .parse()
                    .map_err(|_| anyhow!("{name} must be a positive whole number, not {text:?}")),
            }
        }
        let tuning = Tuning {
            points_per_minute: number(&env, "PACKAGE_RETENTION_POINTS_PER_MINUTE", 900)?,
            max_in_flight: number(&env, "PACKAGE_RETENTION_MAX_IN_FLIGHT", 16)?,
            registry_in_flight: number(&env, "PACKAGE_RETENTION_REGISTRY_IN_FLIGHT", 32)?,
            registry_reads_per_minute: number(
                &env,
                "PACKAGE_RETENTION_REGISTRY_PER_MINUTE",
                REGISTRY_READS_PER_MINUTE,
            )?,
            registry_pushes_per_minute: number(
                &env,
                "PACKAGE_RETENTION_REGISTRY_PUSHES_PER_MINUTE",
                REGISTRY_PUSHES_PER_MINUTE,
            )?,
            request_timeout: Duration::from_secs(number(
                &env,
                "PACKAGE_RETENTION_REQUEST_TIMEOUT",
                30,
            )?),
            retry_base: Duration::from_millis(number(
                &env,
                "PACKAGE_RETENTION_RETRY_BASE_MS",
                1000,
            )?),
            max_retries: 5,
            max_rate_limit_wait: Duration::from_secs(600),
        };
        if tuning.points_per_minute == 0
            || tuning.max_in_flight == 0
            || tuning.registry_in_flight == 0
            || tuning.registry_reads_per_minute == 0
            || tuning.registry_pushes_per_minute == 0
            || tuning.request_timeout.is_zero()
        {
            return Err(anyhow!(
                "PACKAGE_RETENTION_POINTS_PER_MINUTE, PACKAGE_RETENTION_MAX_IN_FLIGHT, PACKAGE_RETENTION_REGISTRY_IN_FLIGHT, PACKAGE_RETENTION_REGISTRY_PER_MINUTE, PACKAGE_RETENTION_REGISTRY_PUSHES_PER_MINUTE and PACKAGE_RETENTION_REQUEST_TIMEOUT must be above 0"
            ));
        }
        Ok(tuning)
    }
}

/// Registry reads a minute by default: under the ~44,000 manifest reads at which ghcr.io
/// answers 429.
const REGISTRY_READS_PER_MINUTE: u32 = 40_000;
/// Registry pushes a minute by default: under the ~2,000 at which ghcr.io answers 429.
const REGISTRY_PUSHES_PER_MINUTE: u32 = 1_800;

/// The API's pacing: its points per minute, and the cap on requests in flight.
pub(super) struct Pacer {
    pub(super) points: Rate,
    pub(super) in_flight: Semaphore,
}

impl Pacer {
    pub(super) fn new(points_per_minute: u32, max_in_flight: usize) -> Pacer {
        Pacer {
            points: Rate::per_minute(points_per_minute),
            in_flight: Semaphore::new(max_in_flight),
        }
    }
}

/// A limit per minute as a token bucket filled at 97% of it with a 3% burst, so that no
/// 60-second window ever spends more than the limit; plus a shared pause after a rate-limit
/// answer.
pub(super) struct Rate {
    bucket: Mutex<Bucket>,
    rate_per_sec: f64,
    capacity: f64,
}

struct Bucket {
    tokens: f64,
    last: Instant,
    paused_until: Option<Instant>,
}

impl Rate {
    pub(super) fn per_minute(limit: u32) -> Rate {
        let limit = f64::from(limit);
        let capacity = (limit * 0.03).max(5.0);
        Rate {
            bucket: Mutex::new(Bucket {
                tokens: capacity,
                last: Instant::now(),
                paused_until: None,
            }),
            rate_per_sec: limit * 0.97 / 60.0,
            capacity,
        }
    }

    /// Waits until `points` may be spent (and the pause is over), then spends them.
    pub(super) async fn take(&self, points: f64) {
        loop {
            let wait = {
                let mut bucket = self.bucket.lock().expect("pacer lock");
                let now = Instant::now();
                match bucket.paused_until {
                    Some(until) if until > now => until - now,
                    _ => {
                        let elapsed = now.duration_since(bucket.last).as_secs_f64();
                        bucket.tokens =
                            (bucket.tokens + elapsed * self.rate_per_sec).min(self.capacity);
                        bucket.last = now;
                        let points = points.min(self.capacity);
                        if bucket.tokens >= points {
                            bucket.tokens -= points;
                            return;
                        }
                        Duration::from_secs_f64((points - bucket.tokens) / self.rate_per_sec)
                    }
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Pauses every request for `wait` (from now; a longer pause already set stands): whether
    /// this pause is new (or longer), so that one line, not one per request, says so.
    pub(super) fn pause(&self, wait: Duration) -> bool {
        let mut bucket = self.bucket.lock().expect("pacer lock");
        let until = Instant::now() + wait;
        let longer = bucket
            .paused_until
            .is_none_or(|current| current + Duration::from_millis(500) < until);
        if bucket.paused_until.is_none_or(|current| current < until) {
            bucket.paused_until = Some(until);
        }
        bucket.tokens = 0.0;
        longer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_of_three_percent_then_ninety_seven_percent_of_the_limit() {
        // 6,000 a minute: 180 at once, then 97 a second.
        let rate = Rate::per_minute(6_000);
        let started = Instant::now();
        for _ in 0..180 {
            rate.take(1.0).await;
        }
        assert!(started.elapsed() < Duration::from_millis(500), "the burst");
        for _ in 0..97 {
            rate.take(1.0).await;
        }
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(950), "{took:?}");
        assert!(took < Duration::from_secs(3), "{took:?}");
    }

    #[tokio::test]
    async fn a_pause_holds_every_request_and_is_said_once() {
        let rate = Rate::per_minute(60_000);
        assert!(rate.pause(Duration::from_millis(300)));
        assert!(!rate.pause(Duration::from_millis(300)), "the same pause");
        let started = Instant::now();
        rate.take(1.0).await;
        assert!(started.elapsed() >= Duration::from_millis(250));
        assert!(rate.pause(Duration::from_secs(5)), "a longer one");
    }

    #[test]
    fn registry_limits_default_under_ghcr_io_and_are_tunable() {
        let tuning = Tuning::from_env(|_| None).unwrap();
        assert_eq!(
            (
                tuning.registry_reads_per_minute,
                tuning.registry_pushes_per_minute
            ),
            (40_000, 1_800)
        );
        let tuning = Tuning::from_env(|name| {
            (name == "PACKAGE_RETENTION_REGISTRY_PER_MINUTE").then(|| "100".to_string())
        })
        .unwrap();
        assert_eq!(tuning.registry_reads_per_minute, 100);
        assert!(Tuning::from_env(|name| {
            (name == "PACKAGE_RETENTION_REGISTRY_PUSHES_PER_MINUTE").then(|| "0".to_string())
        })
        .is_err());
    }
}
