//! A repository's open pull requests (`GET /repos/{owner}/{repo}/pulls?state=open`) and its
//! branches (`GET /repos/{owner}/{repo}/branches`), every page, through the one HTTP path; a
//! listing is complete or it is an error, as for versions.

use super::client::Client;
use super::listing::{fetch_pages, Pages};
use super::routes::{api_error, segment};
use anyhow::{anyhow, Result};

/// The numbers of the open pull requests of `full_name` (`owner/name`).
pub async fn open_pull_requests(client: &Client, full_name: &str) -> Result<Vec<u64>> {
    #[derive(serde::Deserialize)]
    struct PullRequest {
        number: u64,
    }
    let path = format!("{}/pulls?state=open", repository_path(full_name)?);
    let pages = fetch_pages(client, &path, |answer| {
        Ok(answer
            .json::<Vec<PullRequest>>()?
            .into_iter()
            .map(|pull| pull.number)
            .collect())
    })
    .await?;
    complete(pages, "the open pull requests")
}

/// The names of the branches of `full_name` (`owner/name`).
pub async fn branches(client: &Client, full_name: &str) -> Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Branch {
        name: String,
    }
    let path = format!("{}/branches", repository_path(full_name)?);
    let pages = fetch_pages(client, &path, |answer| {
        Ok(answer
            .json::<Vec<Branch>>()?
            .into_iter()
            .map(|branch| branch.name)
            .collect())
    })
    .await?;
    complete(pages, "the branches")
}

/// `/repos/{owner}/{repo}`, each part one encoded segment.
fn repository_path(full_name: &str) -> Result<String> {
    let (owner, name) = full_name
        .split_once('/')
        .ok_or_else(|| anyhow!("`{full_name}` is not a repository such as owner/name"))?;
    Ok(format!("/repos/{}/{}", segment(owner), segment(name)))
}

fn complete<T>(pages: Pages<T>, what: &str) -> Result<Vec<T>> {
    match pages {
        Pages::Complete(items) => Ok(items),
        Pages::Refused(answer) => Err(api_error(&format!("could not list {what}"), &answer)),
    }
}
