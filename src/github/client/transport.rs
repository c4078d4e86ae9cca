//! The HTTPS transport and the two octocrab clients built on it from octocrab's own layers: the
//! API one (base URI, the token to the API's origin only, GitHub's headers) and a bare registry one.

use anyhow::{anyhow, Context, Result};
use octocrab::service::middleware::{
    auth_header::AuthHeaderLayer, base_uri::BaseUriLayer, extra_headers::ExtraHeadersLayer,
};
use octocrab::{AuthState, OctoBody, Octocrab, OctocrabBuilder};
use std::sync::Arc;

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
pub(super) type Transport = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    OctoBody,
>;

pub(super) fn transport() -> Result<Transport> {
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
pub(super) fn api_octocrab(transport: Transport, api_url: &str, token: &str) -> Result<Octocrab> {
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
pub(super) fn registry_octocrab(transport: Transport) -> Octocrab {
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
