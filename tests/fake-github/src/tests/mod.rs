//! Tests of the fake over real HTTP, with the crate's minimal [`crate::client`].

mod accounts;
mod limits;
mod living;
mod packages;
mod partial_views;
mod push;
mod registry;
mod registry_answers;
mod repos;
mod storage;

use std::time::Duration;

pub(crate) use crate::client::Reply;
use crate::FakeGithub;

/// The token every test world gives `alice` with all rights.
pub(crate) const TOKEN: &str = "tok";

/// Sends one request and waits up to 10 s for its answer.
pub(crate) fn send(
    fake: &FakeGithub,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> Reply {
    crate::client::send(
        &fake.url(),
        method,
        target,
        headers,
        Duration::from_secs(10),
    )
    .unwrap_or_else(|| panic!("no answer to {method} {target}"))
}

/// Sends an API request with `Authorization: Bearer tok`.
pub(crate) fn api(fake: &FakeGithub, method: &str, target: &str) -> Reply {
    send(fake, method, target, &[("Authorization", "Bearer tok")])
}
