//! How the fake misbehaves: latency, rate limits, random server errors, scripted faults and
//! registry failures. [`Config::default`] misbehaves in no way.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;

use crate::living::{ListingChange, TagMove};

/// Faults and limits, changeable while the server runs ([`crate::FakeGithub::update_config`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Added before every answer, API and registry alike.
    pub latency: Duration,
    /// Primary budget: `x-ratelimit-limit`.
    pub rate_limit_total: u64,
    /// Primary budget left; every API request but `GET /rate_limit` spends one (except those
    /// answered by a scripted fault or refused by the in-flight limit). At 0 the API answers
    /// 403 "API rate limit exceeded" with `x-ratelimit-remaining: 0`.
    pub rate_limit_remaining: u64,
    /// Epoch seconds when the primary budget refills to `rate_limit_total` (then it is set an
    /// hour later).
    pub rate_limit_reset: i64,
    /// Secondary limit: points allowed over any sliding 60 s window (GET/HEAD 1 point,
    /// DELETE/POST/PUT/PATCH 5 points).
    pub points_per_minute: Option<u64>,
    /// Secondary limit: a request arriving while this many API requests are being served is
    /// refused.
    pub max_in_flight: Option<usize>,
    /// Fraction (0..1) of API requests answered 502 or 503 without changing anything.
    pub server_error_rate: f64,
    /// Seed of the generator that picks those requests.
    pub seed: u64,
    /// Faults fired on matching requests, checked in order; the first that fires wins.
    pub scripted: Vec<ScriptedFault>,
    /// The registry answers this status (with an OCI error body) for these manifest digests.
    pub manifest_status: HashMap<String, u16>,
    /// Version ids that someone else deletes just before the first `DELETE` of them arrives
    /// (the race between a listing and its deletions): that `DELETE` finds them gone (404).
    pub deleted_by_others: Vec<u64>,
    /// Listing pages that misbehave (a `GET` answered 200 by its route, then changed).
    pub page_faults: Vec<PageFault>,
    /// Active version ids that version listings leave out (GitHub's listing lagging behind
    /// its packages): pages and `Link` are computed without them, while `version_count`, `GET`
    /// of the version and `DELETE` still see them.
    pub unlisted_versions: Vec<u64>,
    /// How the registry answers the things real registries disagree on (the defaults are what
    /// the CNCF distribution registry answers).
    pub registry: RegistryAnswers,
    /// Versions pushed or deleted by someone else right after a given listing page is served
    /// (each fires once): a listing read page by page while the package changes.
    pub listing_changes: Vec<ListingChange>,
    /// Tags CI moves to another version right before the first registry request naming them
    /// (each fires once): a tag moved between a plan and a push under it.
    pub moved_tags: Vec<TagMove>,
}

/// The registry's answers where registries differ. [`RegistryAnswers::default`] answers as the
/// CNCF distribution registry (2.8) does, checked against it by `tests/interop.rs`, except
/// where ghcr.io's own answer is documented (a push without rights).
#[derive(Clone, Debug, PartialEq)]
pub struct RegistryAnswers {
    /// A manifest `GET` in a repository the registry lacks answers 404 `NAME_UNKNOWN` (some
    /// registries), not `MANIFEST_UNKNOWN` (distribution, the default).
    pub unknown_repository_is_name_unknown: bool,
    /// How a token that may pull but not push is refused a write.
    pub push_refusal: PushRefusal,
    /// The `Location` of an upload is a path (`/v2/…/blobs/uploads/<id>`, no query), not an
    /// absolute URL with a `?_state=` query (distribution, the default).
    pub relative_upload_location: bool,
    /// The registry's own rate limit, `None` (the default): no limit.
    pub rate_limit: Option<RegistryRateLimit>,
}

impl Default for RegistryAnswers {
    fn default() -> RegistryAnswers {
        RegistryAnswers {
            unknown_repository_is_name_unknown: false,
            push_refusal: PushRefusal::Denied,
            relative_upload_location: false,
            rate_limit: None,
        }
    }
}

/// How a registry refuses a write to a token without push rights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushRefusal {
    /// 403 `DENIED` `permission_denied: write_package`, as ghcr.io answers.
    Denied,
    /// 401 `UNAUTHORIZED` with a challenge carrying `error="insufficient_scope"`, as the
    /// distribution registry answers a token that lacks the `push` action.
    InsufficientScope,
}

/// A registry rate limit, as ghcr.io's (about 44,000 manifest reads and 2,000 pushes a
/// minute): over it, 429 `TOOMANYREQUESTS` with `Retry-After` (whole seconds until the window
/// has room again).
#[derive(Clone, Debug, PartialEq)]
pub struct RegistryRateLimit {
    /// Manifest and blob reads (`GET`/`HEAD`) allowed per window.
    pub reads: u64,
    /// Writes (`POST`, `PUT`, `PATCH`, `DELETE`) allowed per window.
    pub writes: u64,
    /// The sliding window (a minute on ghcr.io; shorter in tests).
    pub window: Duration,
}

impl RegistryRateLimit {
    /// ghcr.io's limits as its 429 answers quote them.
    pub fn ghcr() -> RegistryRateLimit {
        RegistryRateLimit {
            reads: 44_000,
            writes: 2_000,
            window: Duration::from_secs(60),
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            latency: Duration::ZERO,
            rate_limit_total: 1_000_000,
            rate_limit_remaining: 1_000_000,
            rate_limit_reset: Utc::now().timestamp() + 3_600,
            points_per_minute: None,
            max_in_flight: None,
            server_error_rate: 0.0,
            seed: 1,
            scripted: Vec::new(),
            manifest_status: HashMap::new(),
            deleted_by_others: Vec::new(),
            page_faults: Vec::new(),
            unlisted_versions: Vec::new(),
            registry: RegistryAnswers::default(),
            listing_changes: Vec::new(),
            moved_tags: Vec::new(),
        }
    }
}

/// A listing page that misbehaves: every `GET` whose raw path contains `path_contains` and
/// whose `page` parameter (1 when absent) is `page`, when its route answers 200.
#[derive(Clone, Debug, PartialEq)]
pub struct PageFault {
    pub path_contains: String,
    pub page: u64,
    pub kind: PageFaultKind,
}

/// How a listing page misbehaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageFaultKind {
    /// 404 `Package not found.` instead of the page.
    NotFound,
    /// The page without its `Link` header.
    WithoutLink,
    /// `[]` instead of the page's items (its `Link` kept).
    Empty,
}

impl PageFault {
    pub fn new(path_contains: &str, page: u64, kind: PageFaultKind) -> PageFault {
        PageFault {
            path_contains: path_contains.to_owned(),
            page,
            kind,
        }
    }
}

/// A fault fired on requests whose method and path match.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptedFault {
    /// HTTP method to match (case-insensitive); `None` matches any.
    pub method: Option<String>,
    /// Substring of the raw request path (as sent, percent-encoded) to match.
    pub path_contains: String,
    /// Fires on the nth matching request (1-based); 0 fires on every match.
    pub nth: usize,
    pub action: FaultAction,
}

/// What a scripted fault does instead of the normal answer. None changes any state, but a held
/// request is answered by its route once released.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultAction {
    /// Answer this (a `content-type: application/json` header is added unless given).
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Never answer.
    Hang,
    /// Answer normally, but only once [`crate::FakeGithub::release_held`] is called (the
    /// request stays in flight meanwhile): a write a test holds open while it signals the run.
    Hold,
    /// A hostile server: answer `status` with a GitHub error body whose message is `message`
    /// with `{authorization}` replaced by the request's own `Authorization` header (empty when
    /// none), as a proxy or a misconfigured server that echoes credentials would.
    EchoAuthorization { status: u16, message: String },
}

impl ScriptedFault {
    /// Answers `status` with a GitHub error body `{"message": message}` on the nth match.
    pub fn respond(
        method: Option<&str>,
        path_contains: &str,
        nth: usize,
        status: u16,
        message: &str,
    ) -> ScriptedFault {
        ScriptedFault {
            method: method.map(str::to_owned),
            path_contains: path_contains.to_owned(),
            nth,
            action: FaultAction::Respond {
                status,
                headers: Vec::new(),
                body: serde_json::json!({ "message": message }).to_string(),
            },
        }
    }

    /// Answers GitHub's secondary-rate-limit 403 with `retry-after: retry_after_secs` on the
    /// nth match.
    pub fn secondary_rate_limit(
        method: Option<&str>,
        path_contains: &str,
        nth: usize,
        retry_after_secs: u64,
    ) -> ScriptedFault {
        ScriptedFault {
            method: method.map(str::to_owned),
            path_contains: path_contains.to_owned(),
            nth,
            action: FaultAction::Respond {
                status: 403,
                headers: vec![("retry-after".to_owned(), retry_after_secs.to_string())],
                body: crate::api::secondary_rate_limit_body().to_string(),
            },
        }
    }

    /// Answers `status` with `message`, its `{authorization}` replaced by the request's
    /// `Authorization` header, on the nth match.
    pub fn echo_authorization(
        method: Option<&str>,
        path_contains: &str,
        nth: usize,
        status: u16,
        message: &str,
    ) -> ScriptedFault {
        ScriptedFault {
            method: method.map(str::to_owned),
            path_contains: path_contains.to_owned(),
            nth,
            action: FaultAction::EchoAuthorization {
                status,
                message: message.to_owned(),
            },
        }
    }

    /// Holds the nth match until [`crate::FakeGithub::release_held`], then answers it normally.
    pub fn hold(method: Option<&str>, path_contains: &str, nth: usize) -> ScriptedFault {
        ScriptedFault {
            method: method.map(str::to_owned),
            path_contains: path_contains.to_owned(),
            nth,
            action: FaultAction::Hold,
        }
    }

    /// Never answers the nth match.
    pub fn hang(method: Option<&str>, path_contains: &str, nth: usize) -> ScriptedFault {
        ScriptedFault {
            method: method.map(str::to_owned),
            path_contains: path_contains.to_owned(),
            nth,
            action: FaultAction::Hang,
        }
    }

    pub(crate) fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path.contains(&self.path_contains)
    }
}
