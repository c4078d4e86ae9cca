//! The server's shared state and what happens to a request before its route answers it:
//! scripted faults, the in-flight limit, the primary budget, the secondary points window and
//! random server errors, plus the record of every request served.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::api;
use crate::config::{Config, FaultAction, PageFaultKind};
use crate::http::{Answer, RequestParts};
use crate::living;
use crate::push::{self, Blobs};
use crate::registry::{self, IssuedTokens};
use crate::registry_limit::RegistryLimiter;
use crate::world::World;

/// One request the fake served.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestRecord {
    pub method: String,
    /// The path as sent (percent-encoded).
    pub path: String,
    /// The query string as sent, without `?`.
    pub query: String,
    /// The status answered; 0 for a request left hanging by a scripted fault.
    pub status: u16,
    /// A registry request (`/v2/...`, `/token`) rather than a GitHub API request.
    pub registry: bool,
    /// Every `User-Agent` value the request carried, in order (GitHub wants one).
    pub user_agents: Vec<String>,
}

/// The state behind the server and the [`crate::FakeGithub`] handle.
pub(crate) type Shared = Arc<Mutex<State>>;

pub(crate) fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Points a request costs under GitHub's secondary limit.
fn points_of(req: &RequestParts) -> u64 {
    if req.is_write() {
        5
    } else {
        1
    }
}

const POINTS_WINDOW: Duration = Duration::from_secs(60);

pub(crate) struct State {
    pub world: World,
    pub config: Config,
    pub records: Vec<RequestRecord>,
    /// API requests with a write method, counted on arrival.
    pub writes: usize,
    pub in_flight: usize,
    pub max_in_flight_seen: usize,
    pub rate_limited_answers: usize,
    /// How many requests each scripted fault has matched so far.
    fault_matches: Vec<usize>,
    /// Points spent in the last minute, oldest first.
    points_spent: VecDeque<(Instant, u64)>,
    rng: XorShift,
    registry_tokens: IssuedTokens,
    registry_blobs: Blobs,
    pub registry_limiter: RegistryLimiter,
    /// Listing order of versions, kept between pages; emptied when the world may change.
    pub listing_cache: api::ListingCache,
    /// Opens (true) when the test releases the requests held by [`FaultAction::Hold`].
    gate: tokio::sync::watch::Sender<bool>,
    /// Requests held so far (released or not).
    pub held: usize,
}

/// What the arrival of a request decided.
pub(crate) struct Arrival {
    pub registry: bool,
    pub fault: Option<FaultAction>,
    /// The request counts as in flight until it is answered.
    pub in_flight: bool,
    /// Refused: too many API requests already in flight.
    pub over_in_flight_limit: bool,
    pub latency: Duration,
}

impl State {
    pub fn new(world: World, config: Config) -> State {
        let fault_matches = vec![0; config.scripted.len()];
        let rng = XorShift::new(config.seed);
        State {
            world,
            config,
            records: Vec::new(),
            writes: 0,
            in_flight: 0,
            max_in_flight_seen: 0,
            rate_limited_answers: 0,
            fault_matches,
            points_spent: VecDeque::new(),
            rng,
            registry_tokens: IssuedTokens::default(),
            registry_blobs: Blobs::default(),
            registry_limiter: RegistryLimiter::default(),
            listing_cache: api::ListingCache::default(),
            gate: tokio::sync::watch::Sender::new(false),
            held: 0,
        }
    }

    /// Counts a request in as held; it waits on the returned gate until the test opens it.
    pub fn hold(&mut self) -> tokio::sync::watch::Receiver<bool> {
        self.held += 1;
        self.gate.subscribe()
    }

    /// Lets every held request (and any held later) go on to its answer.
    pub fn release_held(&mut self) {
        self.gate.send_replace(true);
    }

    /// Applies a configuration change; fault counters restart when the scripted faults change
    /// and the error generator when the seed does.
    pub fn update_config(&mut self, change: impl FnOnce(&mut Config)) {
        let before = self.config.clone();
        change(&mut self.config);
        if self.config.unlisted_versions != before.unlisted_versions {
            self.listing_cache.clear();
        }
        if self.config.scripted != before.scripted {
            self.fault_matches = vec![0; self.config.scripted.len()];
        }
        if self.config.seed != before.seed {
            self.rng = XorShift::new(self.config.seed);
        }
    }

    /// Counts the request in and decides what can be decided on arrival.
    pub fn arrive(&mut self, req: &RequestParts) -> Arrival {
        let registry = registry::is_registry_path(&req.raw_path);
        let mut fault = None;
        for (index, scripted) in self.config.scripted.iter().enumerate() {
            if scripted.matches(&req.method, &req.raw_path) {
                self.fault_matches[index] += 1;
                let fires = scripted.nth == 0 || scripted.nth == self.fault_matches[index];
                if fires && fault.is_none() {
                    fault = Some(scripted.action.clone());
                }
            }
        }
        let mut arrival = Arrival {
            registry,
            fault,
            in_flight: false,
            over_in_flight_limit: false,
            latency: self.config.latency,
        };
        if registry {
            return arrival;
        }
        if req.is_write() {
            self.writes += 1;
        }
        if self
            .config
            .max_in_flight
            .is_some_and(|limit| self.in_flight >= limit)
        {
            arrival.over_in_flight_limit = true;
        } else {
            arrival.in_flight = true;
            self.in_flight += 1;
            self.max_in_flight_seen = self.max_in_flight_seen.max(self.in_flight);
        }
        arrival
    }

    pub fn leave_in_flight(&mut self) {
        self.in_flight -= 1;
    }

    pub fn record(&mut self, req: &RequestParts, status: u16, registry: bool) {
        self.records.push(RequestRecord {
            method: req.method.clone(),
            path: req.raw_path.clone(),
            query: req.query.clone(),
            status,
            registry,
            user_agents: req.user_agents.clone(),
        });
    }

    /// The answer of a scripted `Respond` fault.
    pub fn scripted_answer(
        &mut self,
        status: u16,
        headers: &[(String, String)],
        body: &str,
    ) -> Answer {
        let mut answer = Answer {
            status,
            headers: headers.to_vec(),
            body: body.to_owned(),
        };
        if answer.header_value("content-type").is_none() {
            answer = answer.header("content-type", "application/json; charset=utf-8");
        }
        if matches!(status, 403 | 429) && body.to_ascii_lowercase().contains("rate limit") {
            self.rate_limited_answers += 1;
        }
        answer
    }

    /// The secondary-limit refusal, telling the client to wait `retry_after_secs`.
    fn secondary_limit_answer(&mut self, retry_after_secs: u64) -> Answer {
        self.rate_limited_answers += 1;
        Answer::json(403, &api::secondary_rate_limit_body())
            .header("retry-after", retry_after_secs.max(1).to_string())
    }

    /// The refusal of a request that arrived over the in-flight limit.
    pub fn in_flight_refusal(&mut self) -> Answer {
        let answer = self.secondary_limit_answer(1);
        self.with_rate_limit_headers(answer)
    }

    pub fn registry_answer(&mut self, req: &RequestParts) -> Answer {
        let limit = self.config.registry.rate_limit.as_ref();
        if let Some(refusal) = self.registry_limiter.admit(limit, req) {
            return refusal;
        }
        if living::before_registry_request(&mut self.config.moved_tags, &mut self.world, req) {
            self.listing_cache.clear();
        }
        if push::handles(req) {
            let answer = push::route(
                &mut self.world,
                &self.registry_tokens,
                &mut self.registry_blobs,
                &self.config.registry,
                req,
            );
            if req.method == "PUT" && answer.status == 201 {
                self.listing_cache.clear();
            }
            return answer;
        }
        registry::route(
            &self.world,
            &mut self.registry_tokens,
            &self.config.manifest_status,
            &self.config.registry,
            req,
        )
    }

    /// Answers an API request through the limits, then its route.
    pub fn api_answer(&mut self, req: &RequestParts) -> Answer {
        if req.user_agents.iter().all(|agent| agent.trim().is_empty()) {
            return api::no_user_agent_answer();
        }
        let answer = self.limited_api_answer(req);
        self.with_rate_limit_headers(answer)
    }

    fn limited_api_answer(&mut self, req: &RequestParts) -> Answer {
        self.refill_primary_budget();
        let rate_limit_query = req.method == "GET" && req.raw_path == "/rate_limit";
        if rate_limit_query {
            return match api::authenticate(&self.world, req) {
                api::Auth::Invalid => api::route(
                    &mut self.world,
                    &mut self.listing_cache,
                    &self.config.unlisted_versions,
                    req,
                ),
                _ => Answer::json(
                    200,
                    &api::rate_limit_overview(
                        self.config.rate_limit_total,
                        self.config.rate_limit_remaining,
                        self.config.rate_limit_reset,
                    ),
                ),
            };
        }
        if self.config.rate_limit_remaining == 0 {
            self.rate_limited_answers += 1;
            return api::primary_rate_limit_answer();
        }
        self.config.rate_limit_remaining -= 1;
        if let Some(retry_after) = self.spend_points(points_of(req)) {
            return self.secondary_limit_answer(retry_after);
        }
        if self.config.server_error_rate > 0.0 && self.rng.unit() < self.config.server_error_rate {
            return server_error(self.rng.next() & 1 == 0);
        }
        self.delete_by_others(req);
        let answer = api::route(
            &mut self.world,
            &mut self.listing_cache,
            &self.config.unlisted_versions,
            req,
        );
        let answer = self.misbehave_as_page(req, answer);
        if answer.status == 200
            && living::after_listing_page(&mut self.config.listing_changes, &mut self.world, req)
        {
            self.listing_cache.clear();
        }
        answer
    }

    /// Before the first `DELETE` of a version in [`Config::deleted_by_others`], someone else
    /// deletes it.
    fn delete_by_others(&mut self, req: &RequestParts) {
        if req.method != "DELETE" {
            return;
        }
        let Some(id) = req
            .raw_path
            .rsplit_once("/versions/")
            .and_then(|(_, id)| id.parse::<u64>().ok())
        else {
            return;
        };
        let Some(position) = self.config.deleted_by_others.iter().position(|&v| v == id) else {
            return;
        };
        self.config.deleted_by_others.remove(position);
        for package in &mut self.world.packages {
            if let Some(version) = package.version_mut(id) {
                version.deleted_at.get_or_insert_with(Utc::now);
            }
        }
        self.listing_cache.clear();
    }

    /// Applies the first matching [`Config::page_faults`] to a listing page answered 200.
    fn misbehave_as_page(&self, req: &RequestParts, answer: Answer) -> Answer {
        if req.method != "GET" || answer.status != 200 {
            return answer;
        }
        let page = req
            .query_param("page")
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(1);
        let fault = self
            .config
            .page_faults
            .iter()
            .find(|f| f.page == page && req.raw_path.contains(&f.path_contains));
        match fault.map(|f| f.kind) {
            None => answer,
            Some(PageFaultKind::NotFound) => {
                api::error(404, api::MSG_PACKAGE_NOT_FOUND, api::PACKAGES_DOCS)
            }
            Some(PageFaultKind::WithoutLink) => Answer {
                headers: answer
                    .headers
                    .into_iter()
                    .filter(|(name, _)| !name.eq_ignore_ascii_case("link"))
                    .collect(),
                ..answer
            },
            Some(PageFaultKind::Empty) => Answer {
                body: "[]".to_owned(),
                ..answer
            },
        }
    }

    /// Past `rate_limit_reset`, the primary budget is whole again until an hour later.
    fn refill_primary_budget(&mut self) {
        let now = Utc::now().timestamp();
        if now >= self.config.rate_limit_reset {
            self.config.rate_limit_remaining = self.config.rate_limit_total;
            self.config.rate_limit_reset = now + 3_600;
        }
    }

    /// Spends `cost` points in the sliding window, or tells how many seconds to wait.
    fn spend_points(&mut self, cost: u64) -> Option<u64> {
        let limit = self.config.points_per_minute?;
        let now = Instant::now();
        while self
            .points_spent
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) >= POINTS_WINDOW)
        {
            self.points_spent.pop_front();
        }
        let spent: u64 = self.points_spent.iter().map(|(_, points)| points).sum();
        if spent + cost <= limit {
            self.points_spent.push_back((now, cost));
            return None;
        }
        // Wait until enough of the oldest spending leaves the window.
        let mut still_spent = spent;
        for (at, points) in &self.points_spent {
            still_spent -= points;
            if still_spent + cost <= limit {
                let frees_in = POINTS_WINDOW.saturating_sub(now.duration_since(*at));
                return Some(frees_in.as_secs_f64().ceil() as u64);
            }
        }
        Some(POINTS_WINDOW.as_secs())
    }

    fn with_rate_limit_headers(&self, answer: Answer) -> Answer {
        let config = &self.config;
        answer
            .header("x-ratelimit-limit", config.rate_limit_total.to_string())
            .header(
                "x-ratelimit-remaining",
                config.rate_limit_remaining.to_string(),
            )
            .header(
                "x-ratelimit-used",
                config
                    .rate_limit_total
                    .saturating_sub(config.rate_limit_remaining)
                    .to_string(),
            )
            .header("x-ratelimit-reset", config.rate_limit_reset.to_string())
            .header("x-ratelimit-resource", "core")
    }
}

/// A 502 with an HTML page (as GitHub's front end sends) or a 503 with a JSON body.
fn server_error(html: bool) -> Answer {
    if html {
        Answer::with_type(
            502,
            "text/html",
            "<html><body><h1>502 Bad Gateway</h1><p>Server Error</p></body></html>".to_owned(),
        )
    } else {
        api::error(503, "Service Unavailable", "https://docs.github.com/rest")
    }
}

/// Xorshift64*: enough randomness to pick failing requests reproducibly.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        // Zero is a fixed point of xorshift: move it.
        XorShift(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}
