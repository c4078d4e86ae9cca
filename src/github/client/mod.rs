//! The one way the action talks HTTP: octocrab's generic requests, paced to GitHub's documented
//! secondary limits (and registry requests under the registry's own), retried on rate-limit
//! answers (a registry's 429 waited out, never spent as a failure), transient 5xx and connection
//! errors (with exponential back-off and jitter), each attempt under a timeout; counts what it sent.
//!
//! Its parts: `pacing.rs` (the tuning and the per-minute buckets), `origin.rs` (where the
//! token may go: the API's and the registries' origins), `answer.rs` (bodies read as a stream up
//! to their limit, GitHub's messages, the failure budget), `transport.rs` (one HTTPS transport,
//! the API's octocrab client with the token and GitHub's headers, a bare one for the registry,
//! both with exactly one `User-Agent`, ours). A request that cannot succeed is not retried.

mod answer;
mod origin;
mod pacing;
mod transport;

pub use answer::{Answer, FailureBudget, API_BODY_LIMIT, REGISTRY_BODY_LIMIT};
pub use origin::{check_realm, Origin};
pub use pacing::Tuning;

use answer::{read_limited, Failure};
use anyhow::{anyhow, bail, Context, Result};
use http::Method;
use octocrab::{OctoBody, Octocrab};
use pacing::{Pacer, Rate};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use transport::{api_octocrab, registry_octocrab, transport};

/// How many requests of each kind were sent, for the log and the benchmark.
#[derive(Debug, Default)]
pub struct Counters {
    pub get: AtomicUsize,
    pub delete: AtomicUsize,
    pub post: AtomicUsize,
    pub registry: AtomicUsize,
    pub rate_limited: AtomicUsize,
    pub retried: AtomicUsize,
}

/// The GitHub REST client (and the plain HTTP client for the registry).
pub struct Client {
    api: Octocrab,
    registry: Octocrab,
    /// Where requests may go: the API's origin first, then each registry's.
    origins: Vec<Origin>,
    token: String,
    tuning: Tuning,
    pacer: Pacer,
    registry_in_flight: Semaphore,
    /// Registry reads (`GET`, `HEAD`) and pushes (every other method), each paced on its own.
    registry_reads: Rate,
    registry_pushes: Rate,
    pub counters: Counters,
}

/// A write not sent: its turn came after the run was cancelled, or after its caller's check
/// ([`Client::write_if`]) said no.
#[derive(Debug)]
pub struct Withheld;

impl std::fmt::Display for Withheld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not sent")
    }
}

impl std::error::Error for Withheld {}

impl Withheld {
    /// Whether `error` is a write withheld.
    pub fn is(error: &anyhow::Error) -> bool {
        error.downcast_ref::<Withheld>().is_some()
    }
}

/// The body of a request that sends none.
const NO_BODY: bytes::Bytes = bytes::Bytes::new();

/// What a request is, for pacing, counting and retrying (a registry request may spend a
/// failure budget).
#[derive(Clone, Copy)]
enum Target<'a> {
    Api,
    Registry(Option<&'a FailureBudget>),
}

impl Target<'_> {
    fn is_api(self) -> bool {
        matches!(self, Target::Api)
    }
}

impl Client {
    /// A client for the API at `api_url` that sends requests there and to `registry_urls` only.
    pub fn new(
        api_url: &str,
        registry_urls: &[&str],
        token: &str,
        tuning: Tuning,
    ) -> Result<Client> {
        let mut origins = vec![Origin::of(api_url).context("GITHUB_API_URL")?];
        for url in registry_urls {
            let origin = Origin::of(url).context("registry-url")?;
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        let transport = transport()?;
        Ok(Client {
            origins,
            api: api_octocrab(transport.clone(), api_url, token)?,
            registry: registry_octocrab(transport),
            token: token.to_string(),
            pacer: Pacer::new(tuning.points_per_minute, tuning.max_in_flight),
            registry_in_flight: Semaphore::new(tuning.registry_in_flight),
            registry_reads: Rate::per_minute(tuning.registry_reads_per_minute),
            registry_pushes: Rate::per_minute(tuning.registry_pushes_per_minute),
            tuning,
            counters: Counters::default(),
        })
    }

    /// A GET of an API path (completed by the base URI), or of a full URL (a `Link` page).
    pub async fn get(&self, path: &str) -> Result<Answer> {
        self.send(Method::GET, path, Vec::new(), NO_BODY, Target::Api)
            .await
    }

    pub async fn delete(&self, path: &str) -> Result<Answer> {
        self.send(Method::DELETE, path, Vec::new(), NO_BODY, Target::Api)
            .await
    }

    pub async fn post(&self, path: &str) -> Result<Answer> {
        self.send(Method::POST, path, Vec::new(), NO_BODY, Target::Api)
            .await
    }

    /// A DELETE or POST of an API path, sent only if `may_send()` still holds when its turn
    /// comes (its slot and its points, and each retry): `Err(`[`Withheld`]`)` when not.
    pub async fn write_if(
        &self,
        method: Method,
        path: &str,
        may_send: &dyn Fn() -> bool,
    ) -> Result<Answer> {
        self.send_gated(method, path, Vec::new(), NO_BODY, Target::Api, may_send)
            .await
    }

    /// A GET to another host (the OCI registry): not paced with the API's points, never given the
    /// GitHub token unless `headers` carries it; its failed attempts spend `budget` (when given),
    /// and none is retried once the budget is spent.
    pub async fn get_registry(
        &self,
        url: &str,
        headers: Vec<(http::HeaderName, String)>,
        budget: Option<&FailureBudget>,
    ) -> Result<Answer> {
        self.send(Method::GET, url, headers, NO_BODY, Target::Registry(budget))
            .await
    }

    /// A request to the OCI registry with any method and a body (pushes): paced and counted as
    /// registry requests, never given the GitHub token unless `headers` carries it.
    pub async fn registry_request(
        &self,
        method: Method,
        url: &str,
        headers: Vec<(http::HeaderName, String)>,
        body: bytes::Bytes,
    ) -> Result<Answer> {
        self.send(method, url, headers, body, Target::Registry(None))
            .await
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Ok when `url` is on the API's origin (a `Link` to follow); else the error that says why
    /// it is not followed.
    pub fn check_api_origin(&self, url: &str) -> Result<()> {
        let origin = Origin::of(url)?;
        if origin != self.origins[0] {
            bail!(
                "{url:?} is not on the API's origin ({}): it is not followed, and the token is not sent there",
                self.origins[0]
            );
        }
        Ok(())
    }

    /// The cap on API requests in flight.
    pub fn max_in_flight(&self) -> usize {
        self.tuning.max_in_flight
    }

    /// The cap on registry requests in flight.
    pub fn registry_in_flight(&self) -> usize {
        self.tuning.registry_in_flight
    }

    /// One request to its end (retries included), with a debug line about it when debug
    /// logging is on.
    async fn send(
        &self,
        method: Method,
        url: &str,
        headers: Vec<(http::HeaderName, String)>,
        body: bytes::Bytes,
        target: Target<'_>,
    ) -> Result<Answer> {
        self.send_gated(method, url, headers, body, target, &|| true)
            .await
    }

    /// [`Client::send`], a write sent only while `may_send()` holds and the run is not cancelled.
    async fn send_gated(
        &self,
        method: Method,
        url: &str,
        headers: Vec<(http::HeaderName, String)>,
        body: bytes::Bytes,
        target: Target<'_>,
        may_send: &dyn Fn() -> bool,
    ) -> Result<Answer> {
        // An API path is completed by the base URI: it is on the API's origin.
        let on_api_path = target.is_api() && url.starts_with('/');
        let refused = match Origin::of(url) {
            _ if on_api_path => None,
            Ok(origin) if self.origins.contains(&origin) => None,
            Ok(origin) => Some(anyhow!(
                "{origin} is neither the API's origin nor a registry's: no request is sent there"
            )),
            Err(error) => Some(error),
        };
        if let Some(error) = refused {
            return Err(error.context(format!("{method} {url} refused")));
        }
        let started = Instant::now();
        let mut trace = Trace::default();
        let result = self
            .send_until_done(
                &method,
                url,
                Payload { headers, body },
                target,
                may_send,
                &mut trace,
            )
            .await;
        crate::runner::commands::debug(|| {
            let status = match (&result, trace.status) {
                (Ok(answer), _) => answer.status.as_u16().to_string(),
                (Err(_), Some(status)) => format!("{status}, given up"),
                (Err(_), None) => "no answer".to_string(),
            };
            format!(
                "{}{method} {} -> {status} in {} ms, {} retries",
                if target.is_api() { "" } else { "registry " },
                path_of(url),
                started.elapsed().as_millis(),
                trace.attempts.saturating_sub(1)
            )
        });
        result
    }

    async fn send_until_done(
        &self,
        method: &Method,
        url: &str,
        payload: Payload,
        target: Target<'_>,
        may_send: &dyn Fn() -> bool,
        trace: &mut Trace,
    ) -> Result<Answer> {
        let mut failures = 0u32;
        let mut rate_limit_waits = 0u32;
        loop {
            trace.attempts += 1;
            let attempt = self.paced_attempt(method, url, &payload, target, may_send);
            let error = match attempt.await {
                Ok(Ok(answer)) => {
                    trace.status = Some(answer.status.as_u16());
                    match self.rate_limit_wait(&answer, target) {
                        Some(wait) => {
                            self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
                            rate_limit_waits += 1;
                            if wait > self.tuning.max_rate_limit_wait || rate_limit_waits > 10 {
                                return Ok(answer);
                            }
                            let rate = match target {
                                Target::Api => &self.pacer.points,
                                Target::Registry(_) => self.registry_rate(method),
                            };
                            // A registry's 429 is waited out, never spent as a failure.
                            if rate.pause(wait) {
                                crate::runner::commands::progress(&format!(
                                    "Rate limited on {method} {url} ({}): waiting {}s",
                                    answer.message(),
                                    wait.as_secs()
                                ));
                            }
                            continue;
                        }
                        None if answer.status.is_server_error() => {
                            anyhow!("{} {}", answer.status.as_u16(), answer.message())
                        }
                        None => return Ok(answer),
                    }
                }
                Ok(Err(Failure::Transient(error))) => error,
                Ok(Err(Failure::Withheld)) => return Err(anyhow::Error::new(Withheld)),
                Ok(Err(Failure::Final(error))) => {
                    return Err(error.context(format!("{method} {url} cannot succeed")))
                }
                Err(_) => anyhow!(
                    "no answer within {}s",
                    self.tuning.request_timeout.as_secs()
                ),
            };
            failures += 1;
            let budget_left = match target {
                Target::Registry(Some(budget)) => budget.spend(),
                Target::Registry(None) => true,
                Target::Api => true,
            };
            if failures > self.tuning.max_retries || !budget_left {
                return Err(error.context(format!("{method} {url} failed {failures} times")));
            }
            self.counters.retried.fetch_add(1, Ordering::Relaxed);
            self.back_off(failures).await;
        }
    }

    /// The pacing of registry requests of this method: reads, or pushes.
    fn registry_rate(&self, method: &Method) -> &Rate {
        if method == Method::GET || method == Method::HEAD {
            &self.registry_reads
        } else {
            &self.registry_pushes
        }
    }

    /// How long to wait before trying again, for a rate-limit answer: GitHub's 403/429 (see
    /// [`Answer::rate_limit_wait`]), or a registry's 429 (`Retry-After`, else a minute).
    fn rate_limit_wait(&self, answer: &Answer, target: Target<'_>) -> Option<Duration> {
        let now = chrono::Utc::now().timestamp();
        match target {
            Target::Api => answer.rate_limit_wait(now),
            Target::Registry(_) if answer.status == http::StatusCode::TOO_MANY_REQUESTS => {
                answer.rate_limit_wait(now)
            }
            Target::Registry(_) => None,
        }
    }

    /// One attempt: within the pacing (API) or the registry's in-flight limit, counted, under
    /// the request timeout (`Err`: it ran out); a write is withheld when its turn comes after the
    /// run was cancelled or `may_send()` says no.
    async fn paced_attempt(
        &self,
        method: &Method,
        url: &str,
        payload: &Payload,
        target: Target<'_>,
        may_send: &dyn Fn() -> bool,
    ) -> Result<Result<Answer, Failure>, tokio::time::error::Elapsed> {
        let points = if method == Method::GET { 1.0 } else { 5.0 };
        let _permit = match target {
            Target::Api => {
                let permit = self.pacer.in_flight.acquire().await;
                self.pacer.points.take(points).await;
                permit
            }
            Target::Registry(_) => {
                let permit = self.registry_in_flight.acquire().await;
                self.registry_rate(method).take(1.0).await;
                permit
            }
        };
        // Checked when the write would leave, not before it waited for its turn.
        let write = method != Method::GET && method != Method::HEAD;
        if write && (crate::runner::cancel::received().is_some() || !may_send()) {
            return Ok(Err(Failure::Withheld));
        }
        self.count(method, target);
        tokio::time::timeout(
            self.tuning.request_timeout,
            self.attempt(
                method.clone(),
                url,
                &payload.headers,
                payload.body.clone(),
                target,
            ),
        )
        .await
    }

    /// Waits before the next try after `failures` failures: exponential back-off with jitter,
    /// at most a minute.
    async fn back_off(&self, failures: u32) {
        let backoff = self
            .tuning
            .retry_base
            .saturating_mul(1 << (failures - 1).min(10));
        let jitter = backoff.mul_f64(crate::runner::random::fraction() * 0.5);
        tokio::time::sleep((backoff + jitter).min(Duration::from_secs(60))).await;
    }

    fn count(&self, method: &Method, target: Target<'_>) {
        let counter = match (target, method) {
            (Target::Registry(_), _) => &self.counters.registry,
            (_, &Method::GET) => &self.counters.get,
            (_, &Method::DELETE) => &self.counters.delete,
            _ => &self.counters.post,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    async fn attempt(
        &self,
        method: Method,
        url: &str,
        headers: &[(http::HeaderName, String)],
        body: bytes::Bytes,
        target: Target<'_>,
    ) -> Result<Answer, Failure> {
        let mut request = http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        // An invalid URL or header never becomes valid by trying again.
        let request = request.body(OctoBody::from(body)).map_err(|error| {
            Failure::Final(anyhow!("the request is invalid (a URL or header): {error}"))
        })?;
        let octocrab = match target {
            Target::Api => &self.api,
            Target::Registry(_) => &self.registry,
        };
        let response = octocrab
            .execute(request)
            .await
            .map_err(|error| Failure::Transient(anyhow!("connection failed: {error}")))?;
        let (parts, body) = response.into_parts();
        let limit = match target {
            Target::Api => API_BODY_LIMIT,
            Target::Registry(_) => REGISTRY_BODY_LIMIT,
        };
        let body = read_limited(body, &parts.headers, limit).await?;
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}

/// What a request carries besides its method and URL.
struct Payload {
    headers: Vec<(http::HeaderName, String)>,
    body: bytes::Bytes,
}

/// What a request went through, for its debug line.
#[derive(Default)]
struct Trace {
    attempts: u32,
    /// The status of the last answer, if any came.
    status: Option<u16>,
}

/// The path and query of `url` (an API path is one already): hosts are the same for every
/// request, and the debug line stays short.
fn path_of(url: &str) -> &str {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]),
        None => url,
    }
}
