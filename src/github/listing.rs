//! Finding what to work on: the owner's namespace (`/orgs`, `/users` or `/user`), the package
//! names (globs expanded by listing the owner's packages), and every version of a package, in
//! pages of 100 (after the first page, the rest concurrently when `Link` names the last page);
//! a listing is complete or it is an error.

use super::client::{Answer, Client};
use super::routes::{api_error, segment, Namespace};
use crate::model::{
    is_glob, repository_matches, LinkPrefixes, OwnerType, PackageType, RestPackage, RestVersion,
    Version,
};
use anyhow::{anyhow, bail, Context, Result};
use futures::stream::{self, StreamExt};
use http::StatusCode;

const PER_PAGE: usize = 100;

/// Works out the owner's namespace. `auto` asks `GET /users/{owner}` for its type; a user who is
/// the token's own account (`GET /user`) is served through the `/user` routes.
pub async fn resolve_namespace(
    client: &Client,
    owner: &str,
    owner_type: OwnerType,
) -> Result<Namespace> {
    let is_org = match owner_type {
        OwnerType::Org => true,
        OwnerType::User => false,
        OwnerType::Auto => {
            #[derive(serde::Deserialize)]
            struct Account {
                #[serde(rename = "type")]
                kind: String,
            }
            let answer = client.get(&format!("/users/{}", segment(owner))).await?;
            match answer.status {
                StatusCode::OK => answer.json::<Account>()?.kind == "Organization",
                StatusCode::NOT_FOUND => {
                    bail!("owner `{owner}` was not found (GET /users/{owner} answered 404)")
                }
                _ => {
                    return Err(api_error(
                        &format!("could not look up owner `{owner}`"),
                        &answer,
                    ))
                }
            }
        }
    };
    if is_org {
        return Ok(Namespace::Org(owner.to_string()));
    }
    #[derive(serde::Deserialize)]
    struct Me {
        login: String,
    }
    let answer = client.get("/user").await?;
    if answer.is_success() && answer.json::<Me>()?.login.eq_ignore_ascii_case(owner) {
        return Ok(Namespace::Me(owner.to_string()));
    }
    Ok(Namespace::User(owner.to_string()))
}

/// The package names to work on: exact names as given, globs matched against the owner's
/// packages of that type; with `repository`, only the packages linked to a repository it names
/// (the listing shows each package's repository; an exact name is read with a `GET`).
pub async fn expand_packages(
    client: &Client,
    namespace: &Namespace,
    package_type: PackageType,
    names: &[String],
    repositories: &[glob::Pattern],
    warnings: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<Vec<String>> {
    let globs: Vec<&String> = names.iter().filter(|n| is_glob(n)).collect();
    let exact: Vec<&String> = names.iter().filter(|n| !is_glob(n)).collect();
    let mut expanded: Vec<String> = if repositories.is_empty() {
        exact.into_iter().cloned().collect()
    } else {
        linked_exact_names(
            client,
            namespace,
            package_type,
            &exact,
            repositories,
            warnings,
            notes,
        )
        .await?
    };
    if globs.is_empty() {
        return Ok(expanded);
    }
    let listed = list_packages(client, namespace, package_type).await?;
    for pattern in globs {
        let matched = glob_matches(
            pattern,
            &listed,
            repositories,
            namespace,
            package_type,
            warnings,
        )?;
        expanded.extend(matched);
    }
    let mut seen = std::collections::HashSet::new();
    expanded.retain(|name| seen.insert(name.clone()));
    Ok(expanded)
}

/// Every package of the owner of that type (to expand globs); a token that may not list them
/// is an error that says what to do.
async fn list_packages(
    client: &Client,
    namespace: &Namespace,
    package_type: PackageType,
) -> Result<Vec<RestPackage>> {
    let path = format!(
        "{}/packages?package_type={package_type}",
        namespace.prefix()
    );
    let pages = fetch_pages(client, &path, |answer| answer.json::<Vec<RestPackage>>())
    .await
    .with_context(|| {
        format!(
            "the {package_type} packages of `{}` could not all be listed, so the globs in `packages` cannot be expanded",
            namespace.owner()
        )
    })?;
    match pages {
        Pages::Complete(listed) => Ok(listed),
        Pages::Refused(answer) => match answer.status {
            StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED | StatusCode::NOT_FOUND => bail!(
                "the token cannot list the {package_type} packages of `{}` (GitHub answered {} \"{}\"), so the globs in `packages` cannot be expanded: name the packages exactly, or use a token that can list them (a classic PAT with read:packages)",
                namespace.owner(),
                answer.status.as_u16(),
                answer.message()
            ),
            _ => Err(api_error("could not list packages", &answer)),
        },
    }
}

/// The listed packages a `packages` glob names (and `repository`, when given), with a warning
/// when it names none, or skips a listed name that is not a package name.
fn glob_matches(
    pattern: &str,
    listed: &[RestPackage],
    repositories: &[glob::Pattern],
    namespace: &Namespace,
    package_type: PackageType,
    warnings: &mut Vec<String>,
) -> Result<Vec<String>> {
    let compiled = glob::Pattern::new(pattern)?;
    let mut matched: Vec<&RestPackage> = listed
        .iter()
        .filter(|package| compiled.matches(&package.name))
        .collect();
    // A name GitHub would never give is not put into a path: skipped, and said.
    matched.retain(
        |package| match crate::model::package_name_problem(&package.name, false) {
            None => true,
            Some(problem) => {
                warnings.push(format!(
                    "`packages` glob `{pattern}` matched a listed name that is not a package name ({problem}): {:?} is skipped",
                    package.name
                ));
                false
            }
        },
    );
    if matched.is_empty() {
        warnings.push(format!(
            "`packages` glob `{pattern}` matched no {package_type} package of `{}`",
            namespace.owner()
        ));
    }
    let linked: Vec<&RestPackage> = matched
        .iter()
        .copied()
        .filter(|package| {
            repositories.is_empty() || repository_matches(repositories, package.repository_name())
        })
        .collect();
    if linked.is_empty() && !matched.is_empty() {
        warnings.push(format!(
            "`packages` glob `{pattern}` matched {} {package_type} packages of `{}`, none linked to a repository that `repository` names",
            matched.len(),
            namespace.owner()
        ));
    }
    Ok(linked
        .into_iter()
        .map(|package| package.name.clone())
        .collect())
}

/// The exact names whose package is linked to a repository `repository` names (each read with
/// a `GET`, as only the package object says its repository). The others are skipped with a log
/// line; a package that is not found (or is deleted) cannot be checked: skipped with a warning.
async fn linked_exact_names(
    client: &Client,
    namespace: &Namespace,
    package_type: PackageType,
    names: &[&String],
    repositories: &[glob::Pattern],
    warnings: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<Vec<String>> {
    let paths: Vec<String> = names
        .iter()
        .map(|name| namespace.package_path(package_type, name))
        .collect();
    let answers = futures::future::join_all(paths.iter().map(|path| client.get(path))).await;
    let mut linked = Vec::new();
    for (name, answer) in names.iter().zip(answers) {
        let answer = answer?;
        match answer.status {
            StatusCode::OK => {
                let package = answer.json::<RestPackage>()?;
                let repository = package.repository_name();
                if repository_matches(repositories, repository) {
                    linked.push(name.to_string());
                } else {
                    let linked_to = repository.map_or("no repository".to_string(), |full| {
                        format!("repository `{full}`")
                    });
                    notes.push(format!(
                        "{package_type} package `{name}` is linked to {linked_to}, which `repository` does not name: skipped"
                    ));
                }
            }
            StatusCode::NOT_FOUND => warnings.push(format!(
                "{package_type} package `{name}` of `{}` was not found (or is deleted), so its repository cannot be checked against `repository`: skipped",
                namespace.owner()
            )),
            _ => {
                return Err(api_error(
                    &format!("could not read the {package_type} package `{name}` to check its repository"),
                    &answer,
                ))
            }
        }
    }
    Ok(linked)
}

/// Versions in one state, or `None` when the package does not exist (or was deleted): the
/// first page answered 404. A listing that ends early is an error.
pub async fn list_versions(
    client: &Client,
    namespace: &Namespace,
    package_type: PackageType,
    name: &str,
    state: &str,
) -> Result<Option<Vec<Version>>> {
    let path = format!(
        "{}/versions?state={state}",
        namespace.package_path(package_type, name)
    );
    let links = LinkPrefixes::default();
    let pages = fetch_pages(client, &path, |answer| {
        answer
            .json::<Vec<RestVersion>>()?
            .into_iter()
            .map(|version| version.into_version(&links))
            .collect()
    })
    .await
    .with_context(|| {
        format!("the {state} versions of `{name}` could not all be listed, so nothing in this package is changed in this run")
    })?;
    match pages {
        Pages::Complete(versions) => Ok(Some(distinct(versions))),
        Pages::Refused(answer) if answer.status == StatusCode::NOT_FOUND => Ok(None),
        Pages::Refused(answer) => Err(api_error(
            &format!("could not list the versions of `{name}`"),
            &answer,
        )),
    }
}

/// Each version once, at its first place: a version pushed (or deleted) while the pages are read
/// shifts the later pages, so one version can show on two pages (and another on none).
fn distinct(mut versions: Vec<Version>) -> Vec<Version> {
    let mut seen = std::collections::HashSet::with_capacity(versions.len());
    versions.retain(|version| seen.insert(version.id));
    versions
}

/// The package's `version_count` (`GET` of the package): what GitHub counts as its active
/// versions. `Err` when GitHub does not say.
pub async fn version_count(
    client: &Client,
    namespace: &Namespace,
    package_type: PackageType,
    name: &str,
) -> Result<usize> {
    #[derive(serde::Deserialize)]
    struct Package {
        version_count: usize,
    }
    let answer = client
        .get(&namespace.package_path(package_type, name))
        .await?;
    if answer.status != StatusCode::OK {
        return Err(api_error("GET of the package", &answer));
    }
    Ok(answer.json::<Package>()?.version_count)
}

/// How a listing answered: every item of every page, or the first page's refusal (a missing
/// package or namespace, a token that may not list). Anything in between is an error.
pub(super) enum Pages<T> {
    Complete(Vec<T>),
    Refused(Answer),
}

/// The furthest a listing goes (a million versions, in pages of 100).
const MAX_PAGES: usize = 10_000;

/// Every page of a listing, each read into items by `read` as soon as it arrives (so no page's
/// JSON outlives its reading): the first page, then the rest concurrently when `Link` names the
/// last page, else page after page. The view is complete or it is an error: every page answers
/// 200, each page but the last holds a full 100 items and the last at least one, and a full
/// page without a `next` link is followed by asking for the next page, which must be empty.
pub(super) async fn fetch_pages<T>(
    client: &Client,
    path: &str,
    read: impl Fn(&Answer) -> Result<Vec<T>>,
) -> Result<Pages<T>> {
    let first = client.get(&page_path(path, 1)).await?;
    if first.status != StatusCode::OK {
        return Ok(Pages::Refused(first));
    }
    let links = Links::parse(first.header("link").unwrap_or(""));
    links.check(client, path)?;
    let items = read(&first)?;
    drop(first);
    match links.last_page.filter(|&last| last > 1) {
        Some(last) => pages_at_once(client, path, &read, items, last).await,
        None => pages_in_turn(client, path, &read, items, links.next.is_some()).await,
    }
}

/// The `page` of a listing at `path`.
fn page_path(path: &str, page: usize) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}per_page={PER_PAGE}&page={page}")
}

/// A page after the first that did not answer 200.
fn refused(page: usize, answer: &Answer) -> anyhow::Error {
    anyhow!(
        "the listing is incomplete: page {page} answered {} \"{}\" after page 1 answered 200",
        answer.status.as_u16(),
        answer.message()
    )
}

/// The pages after the first when `Link` names the `last`: concurrently, each full but the last.
async fn pages_at_once<T>(
    client: &Client,
    path: &str,
    read: &impl Fn(&Answer) -> Result<Vec<T>>,
    mut items: Vec<T>,
    last: usize,
) -> Result<Pages<T>> {
    if items.len() != PER_PAGE {
        bail!(
            "the listing is incomplete: page 1 of {last} holds {} items, not {PER_PAGE}",
            items.len()
        );
    }
    // In order, a window of pages at a time: each page's versions join the list as soon as
    // the pages before it are in, so pages never pile up beside the list.
    let mut pages = stream::iter(2..=last)
        .map(|page| {
            let path = page_path(path, page);
            async move {
                let answer = client.get(&path).await?;
                if answer.status != StatusCode::OK {
                    return Err(refused(page, &answer));
                }
                Ok((page, read(&answer)?))
            }
        })
        .buffered(client.max_in_flight());
    items.reserve(last.saturating_sub(1) * PER_PAGE);
    while let Some(page) = pages.next().await {
        let (page, read) = page?;
        let expected = if page == last {
            1..=PER_PAGE
        } else {
            PER_PAGE..=PER_PAGE
        };
        if !expected.contains(&read.len()) {
            bail!(
                "the listing is incomplete: page {page} of {last} holds {} items where {} were due",
                read.len(),
                if page == last {
                    "1 to 100".to_string()
                } else {
                    PER_PAGE.to_string()
                }
            );
        }
        items.extend(read);
    }
    Ok(Pages::Complete(items))
}

/// The pages after the first when `Link` names no last page: one after the other, until a
/// short page with no next one.
async fn pages_in_turn<T>(
    client: &Client,
    path: &str,
    read: &impl Fn(&Answer) -> Result<Vec<T>>,
    mut items: Vec<T>,
    mut has_next: bool,
) -> Result<Pages<T>> {
    let mut page = 1;
    let mut on_page = items.len();
    while on_page >= PER_PAGE || has_next {
        if has_next && on_page < PER_PAGE {
            bail!(
                "the listing is incomplete: page {page} holds {on_page} items, yet `Link` names a next page"
            );
        }
        page += 1;
        if page > MAX_PAGES {
            bail!("the listing did not end within {MAX_PAGES} pages");
        }
        let answer = client.get(&page_path(path, page)).await?;
        if answer.status != StatusCode::OK {
            return Err(refused(page, &answer));
        }
        let read = read(&answer)?;
        if !has_next && !read.is_empty() {
            bail!(
                "the listing is incomplete: page {} came without a `Link` header, yet page {page} holds {} more items",
                page - 1,
                read.len()
            );
        }
        let links = Links::parse(answer.header("link").unwrap_or(""));
        links.check(client, path)?;
        has_next = links.next.is_some();
        on_page = read.len();
        items.extend(read);
    }
    Ok(Pages::Complete(items))
}

/// The parts of a `Link` header that pagination needs.
#[derive(Debug, Default, PartialEq, Eq)]
struct Links {
    next: Option<String>,
    last: Option<String>,
    last_page: Option<usize>,
}

impl Links {
    /// An error when a link leaves the API's origin (the token would follow it) or promises
    /// more than [`MAX_PAGES`] pages.
    fn check(&self, client: &Client, path: &str) -> Result<()> {
        for url in self.next.iter().chain(&self.last) {
            client
                .check_api_origin(url)
                .with_context(|| format!("the listing {path} links to another origin"))?;
        }
        if let Some(last) = self.last_page.filter(|&last| last > MAX_PAGES) {
            bail!(
                "the listing {path} says its last page is {last}, beyond {MAX_PAGES} pages (a million versions): not followed"
            );
        }
        Ok(())
    }

    fn parse(header: &str) -> Links {
        let mut links = Links::default();
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let Some(url) = pieces.next().map(str::trim) else {
                continue;
            };
            let url = url
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string();
            for rel in pieces.map(str::trim) {
                match rel {
                    r#"rel="next""# => links.next = Some(url.clone()),
                    r#"rel="last""# => {
                        links.last_page = page_number(&url);
                        links.last = Some(url.clone());
                    }
                    _ => {}
                }
            }
        }
        links
    }
}

fn page_number(url: &str) -> Option<usize> {
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("page="))
        .and_then(|page| page.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        let header = r#"<https://api.github.com/user/packages/npm/x/versions?per_page=100&page=2>; rel="next", <https://api.github.com/user/packages/npm/x/versions?per_page=100&page=7>; rel="last""#;
        let links = Links::parse(header);
        assert_eq!(links.last_page, Some(7));
        assert!(links.next.unwrap().ends_with("page=2"));
        assert_eq!(Links::parse(""), Links::default());
    }

    #[test]
    fn a_version_on_two_pages_is_kept_once_at_its_first_place() {
        let version = |id: u64, name: &str| Version {
            id,
            name: name.to_string(),
            tags: Vec::new(),
            created_at: 0,
            updated_at: 0,
            deleted_at: None,
            html_url: None,
        };
        let listed = vec![
            version(3, "a"),
            version(2, "b"),
            version(2, "b"),
            version(1, "c"),
        ];
        let ids: Vec<u64> = distinct(listed).iter().map(|v| v.id).collect();
        assert_eq!(ids, vec![3, 2, 1]);
    }
}
