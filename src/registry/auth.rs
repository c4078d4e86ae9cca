//! The registry's token flow: its `Bearer` challenge (`GET /v2/`, once per registry and run),
//! then a token from its realm (on the registry's own origin only) with the GitHub token, for
//! `pull` or `pull,push` on one repository.

use crate::github::client::{Client, FailureBudget};
use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use http::header::AUTHORIZATION;
use http::StatusCode;
use std::collections::HashMap;

/// The registry's answer to `GET /v2/`: `None` when it needs no authorization, else the
/// parameters of its `Bearer` challenge.
pub type Challenge = Option<HashMap<String, String>>;

/// Asks `GET /v2/` without credentials: `None` when the registry needs no authorization, else
/// its `Bearer` challenge. Failed attempts spend `budget`, when given.
pub async fn challenge(
    client: &Client,
    registry_url: &str,
    budget: Option<&FailureBudget>,
) -> Result<Challenge> {
    let url = format!("{}/v2/", registry_url.trim_end_matches('/'));
    let answer = client
        .get_registry(&url, Vec::new(), budget)
        .await
        .context("the registry did not answer")?;
    if answer.status != StatusCode::UNAUTHORIZED {
        return Ok(None);
    }
    let challenge = answer
        .header("www-authenticate")
        .ok_or_else(|| anyhow!("the registry answered 401 without a WWW-Authenticate challenge"))?
        .to_string();
    let params = parse_challenge(&challenge)
        .ok_or_else(|| anyhow!("unsupported registry challenge {challenge:?}"))?;
    if !params.contains_key("realm") {
        bail!("the registry challenge names no realm: {challenge:?}");
    }
    Ok(Some(params))
}

/// On a `Bearer` challenge, gets a registry token for pulling `repository` with the GitHub
/// token, from a realm on the registry's own origin only. `None` when the registry needs no
/// authorization.
pub async fn authorize(
    client: &Client,
    registry_url: &str,
    challenge: Option<&HashMap<String, String>>,
    repository: &str,
    budget: &FailureBudget,
) -> Result<Option<String>> {
    authorize_for(
        client,
        registry_url,
        challenge,
        repository,
        "pull",
        Some(budget),
    )
    .await
}

/// As [`authorize`], for `actions` (`pull`, or `pull,push`) on `repository`; failed attempts
/// spend `budget`, when given.
pub async fn authorize_for(
    client: &Client,
    registry_url: &str,
    challenge: Option<&HashMap<String, String>>,
    repository: &str,
    actions: &str,
    budget: Option<&FailureBudget>,
) -> Result<Option<String>> {
    let Some(params) = challenge else {
        return Ok(None);
    };
    crate::github::client::check_realm(registry_url, &params["realm"])?;
    let encode = |value: &str| {
        percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let mut token_url = format!("{}?", params["realm"]);
    if let Some(service) = params.get("service") {
        token_url.push_str(&format!("service={}&", encode(service)));
    }
    token_url.push_str(&format!(
        "scope={}",
        encode(&format!("repository:{repository}:{actions}"))
    ));
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("package-retention:{}", client.token()));
    let answer = client
        .get_registry(
            &token_url,
            vec![(AUTHORIZATION, format!("Basic {basic}"))],
            budget,
        )
        .await
        .context("the registry's token endpoint did not answer")?;
    if !answer.is_success() {
        bail!(
            "the registry refused a token ({} {})",
            answer.status.as_u16(),
            answer.message()
        );
    }
    #[derive(serde::Deserialize)]
    struct Token {
        token: Option<String>,
        access_token: Option<String>,
    }
    let token: Token = answer.json()?;
    let token = token
        .token
        .or(token.access_token)
        .ok_or_else(|| anyhow!("the registry's token answer holds no token"))?;
    Ok(Some(format!("Bearer {token}")))
}

/// `Bearer realm="…",service="…",scope="…"` → its parameters.
pub(super) fn parse_challenge(challenge: &str) -> Option<HashMap<String, String>> {
    let rest = challenge.trim().strip_prefix("Bearer ")?;
    let mut params = HashMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let after = after.strip_prefix('"')?;
        let (value, after) = after.split_once('"')?;
        params.insert(key.trim().to_ascii_lowercase(), value.to_string());
        rest = after.trim_start_matches([',', ' ']);
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let params = parse_challenge(
            r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/app:pull""#,
        )
        .unwrap();
        assert_eq!(params["realm"], "https://ghcr.io/token");
        assert_eq!(params["scope"], "repository:acme/app:pull");
        assert!(parse_challenge("Basic realm=\"x\"").is_none());
    }
}
