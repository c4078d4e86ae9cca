//! Pacing at GitHub's documented secondary limits: the tuning read from the environment, and a
//! token bucket of points per minute with a shared pause after a rate-limit answer.

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
            || tuning.request_timeout.is_zero()
        {
            return Err(anyhow!(
                "PACKAGE_RETENTION_POINTS_PER_MINUTE, PACKAGE_RETENTION_MAX_IN_FLIGHT, PACKAGE_RETENTION_REGISTRY_IN_FLIGHT and PACKAGE_RETENTION_REQUEST_TIMEOUT must be above 0"
            ));
        }
        Ok(tuning)
    }
}

/// Points per minute as a token bucket filled at 97% of the limit with a 3% burst, so that no
/// 60-second window ever spends more than the limit; plus a shared pause after a rate-limit
/// answer, and the cap on requests in flight.
pub(super) struct Pacer {
    bucket: Mutex<Bucket>,
    rate_per_sec: f64,
    capacity: f64,
    pub(super) in_flight: Semaphore,
}

struct Bucket {
    tokens: f64,
    last: Instant,
    paused_until: Option<Instant>,
}

impl Pacer {
    pub(super) fn new(points_per_minute: u32, max_in_flight: usize) -> Pacer {
        let limit = f64::from(points_per_minute);
        let capacity = (limit * 0.03).max(5.0);
        Pacer {
            bucket: Mutex::new(Bucket {
                tokens: capacity,
                last: Instant::now(),
                paused_until: None,
            }),
            rate_per_sec: limit * 0.97 / 60.0,
            capacity,
            in_flight: Semaphore::new(max_in_flight),
        }
    }

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

    pub(super) fn pause(&self, wait: Duration) {
        let mut bucket = self.bucket.lock().expect("pacer lock");
        let until = Instant::now() + wait;
        if bucket.paused_until.is_none_or(|current| current < until) {
            bucket.paused_until = Some(until);
        }
        bucket.tokens = 0.0;
    }
}
