//! The one way the action talks HTTP: octocrab's generic requests, paced to GitHub's documented
//! secondary limits (points per minute, requests in flight), retried on rate-limit answers
//! (after `retry-after` or `x-ratelimit-reset`), on transient 5xx and on connection errors (with
//! exponential back-off and jitter), each attempt under a timeout. Counts what it sent.
//!
//! Two octocrab clients share one HTTPS transport: the API one, built with octocrab's own layers
//! for the base URI, the token (only to the API's origin) and the default headers; and a bare one
//! for the registry. Both send exactly one `User-Agent`, ours ([`UserAgentLayer`]).
//!
//! It also decides where requests may go at all (the API's and the registries' origins) and how
//! big an answer may be (read as a stream, cut at the limit); a request that cannot succeed is
//! not retried.

use anyhow::{anyhow, bail, Context, Result};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::BodyExt;
use octocrab::service::middleware::{
    auth_header::AuthHeaderLayer, base_uri::BaseUriLayer, extra_headers::ExtraHeadersLayer,
};
use octocrab::{AuthState, OctoBody, Octocrab, OctocrabBuilder};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
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

/// The largest API answer body read; a longer one is an error.
pub const API_BODY_LIMIT: usize = 32 << 20;

/// The largest registry answer body (manifests, tokens) read; a longer one is an error.
pub const REGISTRY_BODY_LIMIT: usize = 4 << 20;

/// Scheme, host and port of a URL: the unit the token is trusted to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of an absolute `http`/`https` URL.
    pub fn of(url: &str) -> Result<Origin> {
        let uri: http::Uri = url
            .parse()
            .map_err(|_| anyhow!("{url:?} is not a valid URL"))?;
        let scheme = uri.scheme_str().unwrap_or("").to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => bail!("{url:?} is not an http(s) URL"),
        };
        let host = uri
            .host()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| anyhow!("{url:?} names no host"))?
            .to_ascii_lowercase();
        Ok(Origin {
            scheme,
            host,
            port: uri.port_u16().unwrap_or(default_port),
        })
    }

    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }

    /// `localhost`, `127.0.0.0/8` or `::1`: a server on this machine.
    pub fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// Whether a registry's token endpoint (`realm`) may be given the token: only on the registry
/// URL's own origin; never over plain http when the registry is https (a loopback registry
/// aside, as a test setup has it); never on another host.
pub fn check_realm(registry_url: &str, realm: &str) -> Result<()> {
    let registry = Origin::of(registry_url)?;
    let realm_origin = Origin::of(realm)
        .map_err(|error| anyhow!("the registry's token realm is refused: {error}"))?;
    if realm_origin.host != registry.host {
        bail!(
            "the registry's token realm {realm:?} is on another host than the registry ({registry}): the token is not sent there"
        );
    }
    if registry.is_https() && !realm_origin.is_https() && !registry.is_loopback() {
        bail!(
            "the registry's token realm {realm:?} is plain http while the registry is https: the token is not sent there"
        );
    }
    if realm_origin.port != registry.port && realm_origin.scheme == registry.scheme {
        bail!(
            "the registry's token realm {realm:?} is on another port than the registry ({registry}): the token is not sent there"
        );
    }
    Ok(())
}

/// Why an attempt failed: worth another try, or never going to succeed.
enum Failure {
    Transient(anyhow::Error),
    Final(anyhow::Error),
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
                    text.chars().take(200).collect()
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
    fn spend(&self) -> bool {
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

/// Points per minute as a token bucket filled at 97% of the limit with a 3% burst, so that no
/// 60-second window ever spends more than the limit; plus a shared pause after a rate-limit
/// answer, and the cap on requests in flight.
struct Pacer {
    bucket: Mutex<Bucket>,
    rate_per_sec: f64,
    capacity: f64,
    in_flight: Semaphore,
}

struct Bucket {
    tokens: f64,
    last: Instant,
    paused_until: Option<Instant>,
}

impl Pacer {
    fn new(points_per_minute: u32, max_in_flight: usize) -> Pacer {
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

    async fn take(&self, points: f64) {
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

    fn pause(&self, wait: Duration) {
        let mut bucket = self.bucket.lock().expect("pacer lock");
        let until = Instant::now() + wait;
        if bucket.paused_until.is_none_or(|current| current < until) {
            bucket.paused_until = Some(until);
        }
        bucket.tokens = 0.0;
    }
}

/// The `User-Agent` of every request, API and registry alike.
pub const USER_AGENT: &str = concat!("package-retention/", env!("CARGO_PKG_VERSION"));

/// Sets the one `User-Agent` of a request, replacing any other: octocrab adds its own
/// (`octocrab`) in its default build and offers no way to replace it there, so the clients are
/// built from its parts with this layer nearest the wire.
#[derive(Clone, Copy)]
struct UserAgentLayer;

impl<S> tower::Layer<S> for UserAgentLayer {
    type Service = UserAgent<S>;

    fn layer(&self, inner: S) -> UserAgent<S> {
        UserAgent { inner }
    }
}

#[derive(Clone)]
struct UserAgent<S> {
    inner: S,
}

impl<S, B> tower::Service<http::Request<B>> for UserAgent<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> S::Future {
        request.headers_mut().insert(
            http::header::USER_AGENT,
            http::HeaderValue::from_static(USER_AGENT),
        );
        self.inner.call(request)
    }
}

/// HTTPS (and plain HTTP, for local fakes) over HTTP/1.1 with the system's CA roots: what
/// octocrab's default build makes.
type Transport = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    OctoBody,
>;

fn transport() -> Result<Transport> {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(Arc::new(rustls::crypto::ring::default_provider()))
        .context("could not load the system's CA certificates")?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(connector),
    )
}

/// The GitHub API client: requests name a path (or a full URL, for `Link` pages), the base URI
/// completes it, the token goes only to the API's own origin, with GitHub's JSON headers.
fn api_octocrab(transport: Transport, api_url: &str, token: &str) -> Result<Octocrab> {
    let base: http::Uri = api_url
        .parse()
        .with_context(|| format!("GITHUB_API_URL is not a URL: {api_url:?}"))?;
    let bearer = http::HeaderValue::try_from(format!("Bearer {token}"))
        .map_err(|_| anyhow!("the token holds characters a header cannot carry"))?;
    let mut bearer = bearer;
    bearer.set_sensitive(true);
    let headers = vec![
        (
            http::header::ACCEPT,
            http::HeaderValue::from_static("application/vnd.github+json"),
        ),
        (
            http::HeaderName::from_static("x-github-api-version"),
            http::HeaderValue::from_static("2022-11-28"),
        ),
    ];
    let octocrab = OctocrabBuilder::new_empty()
        .with_service(transport)
        .with_layer(&UserAgentLayer)
        .with_layer(&ExtraHeadersLayer::new(Arc::new(headers)))
        .with_layer(&BaseUriLayer::new(base.clone()))
        .with_layer(&AuthHeaderLayer::new(Some(bearer), base.clone(), base))
        .with_auth(AuthState::None)
        .build();
    Ok(match octocrab {
        Ok(octocrab) => octocrab,
        Err(never) => match never {},
    })
}

/// The registry client: no GitHub token, no GitHub headers; the caller gives what it needs.
fn registry_octocrab(transport: Transport) -> Octocrab {
    let octocrab = OctocrabBuilder::new_empty()
        .with_service(transport)
        .with_layer(&UserAgentLayer)
        .with_auth(AuthState::None)
        .build();
    match octocrab {
        Ok(octocrab) => octocrab,
        Err(never) => match never {},
    }
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
    pub counters: Counters,
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
            .send_until_done(&method, url, headers, body, target, &mut trace)
            .await;
        crate::commands::debug(|| {
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
        headers: Vec<(http::HeaderName, String)>,
        body: bytes::Bytes,
        target: Target<'_>,
        trace: &mut Trace,
    ) -> Result<Answer> {
        let points = if method == Method::GET { 1.0 } else { 5.0 };
        let mut failures = 0u32;
        let mut rate_limit_waits = 0u32;
        loop {
            trace.attempts += 1;
            let attempt = async {
                let _permit = match target {
                    Target::Api => {
                        let permit = self.pacer.in_flight.acquire().await;
                        self.pacer.take(points).await;
                        permit
                    }
                    Target::Registry(_) => self.registry_in_flight.acquire().await,
                };
                self.count(method, target);
                tokio::time::timeout(
                    self.tuning.request_timeout,
                    self.attempt(method.clone(), url, &headers, body.clone(), target),
                )
                .await
            };
            let error = match attempt.await {
                Ok(Ok(answer)) => {
                    trace.status = Some(answer.status.as_u16());
                    let wait = target
                        .is_api()
                        .then(|| answer.rate_limit_wait(chrono::Utc::now().timestamp()))
                        .flatten();
                    match wait {
                        Some(wait) => {
                            self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
                            rate_limit_waits += 1;
                            if wait > self.tuning.max_rate_limit_wait || rate_limit_waits > 10 {
                                return Ok(answer);
                            }
                            crate::commands::progress(&format!(
                                "Rate limited on {method} {url} ({}): waiting {}s",
                                answer.message(),
                                wait.as_secs()
                            ));
                            self.pacer.pause(wait);
                            continue;
                        }
                        None if answer.status.is_server_error() => {
                            anyhow!("{} {}", answer.status.as_u16(), answer.message())
                        }
                        None => return Ok(answer),
                    }
                }
                Ok(Err(Failure::Transient(error))) => error,
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
            let backoff = self
                .tuning
                .retry_base
                .saturating_mul(1 << (failures - 1).min(10));
            let jitter = backoff.mul_f64(random_fraction() * 0.5);
            tokio::time::sleep((backoff + jitter).min(Duration::from_secs(60))).await;
        }
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

/// Reads a body as it streams in, and stops with an error as soon as it (or its announced
/// `content-length`) passes `limit` bytes: no body is ever held beyond the limit.
async fn read_limited<E: std::fmt::Display>(
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

/// A fraction in [0, 1) from the standard library's per-process random keys.
pub fn random_fraction() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(Instant::now().elapsed().as_nanos() as u64);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// A random hex string (heredoc delimiters).
pub fn random_hex() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u8(0);
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full, StreamBody};

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

    #[test]
    fn origins_are_scheme_host_and_port() {
        let api = Origin::of("https://api.github.com").unwrap();
        assert_eq!(
            api,
            Origin::of("https://API.github.com:443/x?page=2").unwrap()
        );
        assert_ne!(api, Origin::of("http://api.github.com").unwrap());
        assert_ne!(api, Origin::of("https://api.github.com:8443").unwrap());
        assert_ne!(
            api,
            Origin::of("https://api.github.com.evil.example").unwrap()
        );
        assert!(Origin::of("ftp://api.github.com").is_err());
        assert!(Origin::of("/relative/path").is_err());
        assert!(Origin::of("https://exa mple.com").is_err());
        assert!(Origin::of("http://127.0.0.1:9").unwrap().is_loopback());
        assert!(Origin::of("http://[::1]:9").unwrap().is_loopback());
        assert!(!Origin::of("https://ghcr.io").unwrap().is_loopback());
    }

    #[test]
    fn a_realm_must_be_on_the_registry_origin() {
        check_realm("https://ghcr.io", "https://ghcr.io/token").unwrap();
        check_realm("https://ghcr.io/", "https://GHCR.io:443/token").unwrap();
        let other_host = check_realm("https://ghcr.io", "https://evil.example/token");
        assert!(format!("{:#}", other_host.unwrap_err()).contains("another host"));
        let plain = check_realm("https://ghcr.io", "http://ghcr.io/token");
        assert!(format!("{:#}", plain.unwrap_err()).contains("plain http"));
        let port = check_realm("https://ghcr.io", "https://ghcr.io:8443/token");
        assert!(format!("{:#}", port.unwrap_err()).contains("another port"));
        assert!(check_realm("https://ghcr.io", "not a url").is_err());
        // A registry on this machine (a test setup) may use plain http for its realm.
        check_realm("https://127.0.0.1:5000", "http://127.0.0.1:5000/token").unwrap();
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
