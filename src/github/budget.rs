//! The primary rate-limit budget: what is left of it (`GET /rate_limit`, which costs nothing).

use super::client::Client;

/// The primary budget left, or `None` when GitHub has none (GHES with rate limiting off) or
/// does not say.
pub async fn remaining(client: &Client) -> Option<usize> {
    #[derive(serde::Deserialize)]
    struct Limits {
        resources: Resources,
    }
    #[derive(serde::Deserialize)]
    struct Resources {
        core: Core,
    }
    #[derive(serde::Deserialize)]
    struct Core {
        remaining: usize,
    }
    let answer = client.get("/rate_limit").await.ok()?;
    if !answer.is_success() {
        return None;
    }
    answer
        .json::<Limits>()
        .ok()
        .map(|l| l.resources.core.remaining)
}
