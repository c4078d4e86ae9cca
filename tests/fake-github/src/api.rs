//! The GitHub REST routes: accounts and the packages routes under `/orgs/{org}`,
//! `/users/{username}` and `/user` (and `/repos/...`, in [`crate::repos`]), answering in the shapes of GitHub's OpenAPI description.
//!
//! Rate limiting, faults and `GET /rate_limit` are handled before these routes, in
//! [`crate::state`].

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::http::{percent_encode, Answer, RequestParts};
use crate::world::{AccountKind, Package, Token, Version, World};

/// The package types GitHub knows.
pub(crate) const PACKAGE_TYPES: [&str; 6] =
    ["npm", "maven", "rubygems", "docker", "nuget", "container"];

/// How long a deleted package or version can be restored.
const RESTORE_WINDOW_DAYS: i64 = 30;
/// Public versions downloaded more than this many times cannot be deleted.
const MAX_DELETABLE_DOWNLOADS: u64 = 5_000;
/// The largest `page * per_page` the packages list accepts.
const MAX_LISTED_PACKAGES: u64 = 10_000;

pub(crate) const PACKAGES_DOCS: &str = "https://docs.github.com/rest/packages/packages";
const USERS_DOCS: &str = "https://docs.github.com/rest/users/users";
const RATE_LIMIT_DOCS: &str = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api";

pub const MSG_LAST_TAGGED_VERSION: &str =
    "You cannot delete the last tagged version of a package. You must delete the package instead.";
pub const MSG_LAST_VERSION: &str =
    "You cannot delete the last version of a package. You must delete the package instead.";
pub const MSG_TOO_MANY_DOWNLOADS: &str = "Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance.";
pub const MSG_NO_ADMIN_RIGHTS: &str = "Must have admin rights to Repository.";
pub const MSG_NOT_ACCESSIBLE: &str = "Resource not accessible by integration";
pub const MSG_PACKAGE_NOT_FOUND: &str = "Package not found.";
pub const MSG_VERSION_NOT_FOUND: &str = "Package version not found.";
pub const MSG_PACKAGE_RESTORE_EXPIRED: &str =
    "Package cannot be restored: it was deleted more than 30 days ago.";
pub const MSG_PACKAGE_NAME_TAKEN: &str =
    "Package cannot be restored: an active package with the same name already exists.";
pub const MSG_VERSION_NOT_DELETED: &str = "Package version cannot be restored: it is not deleted.";
pub const MSG_VERSION_RESTORE_EXPIRED: &str =
    "Package version cannot be restored: it was deleted more than 30 days ago.";
pub const MSG_VERSION_NAME_TAKEN: &str =
    "Package version cannot be restored: an active version with the same name already exists.";

/// A GitHub error body (`basic-error`).
pub(crate) fn error(status: u16, message: &str, documentation_url: &str) -> Answer {
    Answer::json(
        status,
        &json!({
            "message": message,
            "documentation_url": documentation_url,
            "status": status.to_string(),
        }),
    )
}

pub(crate) fn not_found() -> Answer {
    error(404, "Not Found", "https://docs.github.com/rest")
}

fn bad_credentials() -> Answer {
    error(401, "Bad credentials", "https://docs.github.com/rest")
}

fn requires_authentication() -> Answer {
    error(
        401,
        "Requires authentication",
        "https://docs.github.com/rest",
    )
}

/// What GitHub answers a request without a `User-Agent` (403, plain text): it refuses them
/// before anything else.
pub const MSG_NO_USER_AGENT: &str = "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.";

/// The refusal of a request without a `User-Agent`.
pub(crate) fn no_user_agent_answer() -> Answer {
    Answer::with_type(
        403,
        "text/plain; charset=utf-8",
        format!("{MSG_NO_USER_AGENT}\n"),
    )
}

/// The primary rate limit answer (403).
pub(crate) fn primary_rate_limit_answer() -> Answer {
    error(
        403,
        "API rate limit exceeded for user ID 1.",
        RATE_LIMIT_DOCS,
    )
}

/// GitHub's secondary rate limit body.
pub(crate) fn secondary_rate_limit_body() -> Value {
    json!({
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:FAKE:0000000:0000000:00000000.",
        "documentation_url": format!("{RATE_LIMIT_DOCS}#about-secondary-rate-limits"),
    })
}

/// The body of `GET /rate_limit` (`rate-limit-overview`).
pub(crate) fn rate_limit_overview(limit: u64, remaining: u64, reset: i64) -> Value {
    let core = json!({
        "limit": limit,
        "used": limit.saturating_sub(remaining),
        "remaining": remaining,
        "reset": reset,
    });
    let other =
        |limit: u64| json!({ "limit": limit, "used": 0, "remaining": limit, "reset": reset });
    json!({
        "resources": {
            "core": core,
            "search": other(30),
            "graphql": other(5_000),
            "integration_manifest": other(5_000),
            "code_search": other(10),
        },
        "rate": core,
    })
}

/// The outcome of reading the `Authorization` header.
pub(crate) enum Auth {
    None,
    Valid(Token),
    Invalid,
}

pub(crate) fn authenticate(world: &World, req: &RequestParts) -> Auth {
    if req.authorization.is_none() {
        return Auth::None;
    }
    match req
        .credential(&["Bearer", "token"])
        .and_then(|value| world.find_token(&value))
    {
        Some(token) => Auth::Valid(token.clone()),
        None => Auth::Invalid,
    }
}

/// Which account a route is about.
enum Namespace {
    /// `/user`: the token's own account.
    Me,
    User(String),
    Org(String),
}

/// The versions of a package in listing order (newest first), by package id and state
/// (deleted or not), kept between the pages of a listing so that listing n versions in pages
/// of 100 does not filter and sort all n for every page. Emptied whenever the world may change
/// (every write request, [`crate::FakeGithub::update_world`]), so answers are the same as
/// without it.
#[derive(Default)]
pub(crate) struct ListingCache {
    orders: HashMap<(u64, bool), Vec<usize>>,
}

impl ListingCache {
    pub fn clear(&mut self) {
        self.orders.clear();
    }
}

/// Answers an API request (the rate limits have already let it through). Version listings
/// leave out the `unlisted` version ids.
pub(crate) fn route(
    world: &mut World,
    cache: &mut ListingCache,
    unlisted: &[u64],
    req: &RequestParts,
) -> Answer {
    if req.is_write() {
        cache.clear();
    }
    let auth = authenticate(world, req);
    if matches!(auth, Auth::Invalid) {
        return bad_credentials();
    }
    let segments = req.segments();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let (namespace, rest) = match segments.as_slice() {
        ["user", rest @ ..] => (Namespace::Me, rest),
        ["users", user, rest @ ..] => (Namespace::User((*user).to_owned()), rest),
        ["orgs", org, rest @ ..] => (Namespace::Org((*org).to_owned()), rest),
        ["repos", owner, name, rest @ ..] => {
            return crate::repos::route(world, req, &auth, owner, name, rest)
        }
        _ => return not_found(),
    };
    match (req.method.as_str(), rest) {
        ("GET", []) => account(world, req, &auth, &namespace),
        (_, ["packages", package_rest @ ..]) => match auth {
            Auth::Valid(token) => packages(
                world,
                cache,
                unlisted,
                req,
                &token,
                &namespace,
                package_rest,
            ),
            _ => requires_authentication(),
        },
        _ => not_found(),
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The date every fake account was created.
const ACCOUNTS_CREATED_AT: &str = "2020-01-01T00:00:00Z";

fn account(world: &World, req: &RequestParts, auth: &Auth, namespace: &Namespace) -> Answer {
    let base = req.base_url();
    match namespace {
        Namespace::Me => match auth {
            Auth::Valid(token) if token.is_installation => error(
                403,
                MSG_NOT_ACCESSIBLE,
                &format!("{USERS_DOCS}#get-the-authenticated-user"),
            ),
            Auth::Valid(token) => Answer::json(200, &private_user_json(world, &token.login, &base)),
            _ => requires_authentication(),
        },
        Namespace::User(login) => match world.account(login) {
            Some(account) => Answer::json(200, &public_user_json(world, &account.login, &base)),
            None => error(404, "Not Found", &format!("{USERS_DOCS}#get-a-user")),
        },
        Namespace::Org(login) => match world.account(login) {
            Some(account) if account.kind == AccountKind::Organization => {
                Answer::json(200, &organization_json(world, &account.login, &base))
            }
            _ => error(
                404,
                "Not Found",
                "https://docs.github.com/rest/orgs/orgs#get-an-organization",
            ),
        },
    }
}

/// The account's kind, `User` for an owner that has no account.
fn kind_of(world: &World, login: &str) -> AccountKind {
    world.account(login).map_or(AccountKind::User, |a| a.kind)
}

/// `simple-user`.
pub(crate) fn simple_user_json(world: &World, login: &str, base: &str) -> Value {
    let id = world.account_id(login);
    let url = format!("{base}/users/{login}");
    json!({
        "login": login,
        "id": id,
        "node_id": format!("U_fake{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "",
        "url": url,
        "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{url}/followers"),
        "following_url": format!("{url}/following{{/other_user}}"),
        "gists_url": format!("{url}/gists{{/gist_id}}"),
        "starred_url": format!("{url}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{url}/subscriptions"),
        "organizations_url": format!("{url}/orgs"),
        "repos_url": format!("{url}/repos"),
        "events_url": format!("{url}/events{{/privacy}}"),
        "received_events_url": format!("{url}/received_events"),
        "type": kind_of(world, login).as_github_type(),
        "user_view_type": "public",
        "site_admin": false,
    })
}

/// `public-user`.
fn public_user_json(world: &World, login: &str, base: &str) -> Value {
    let mut user = simple_user_json(world, login, base);
    let fields = json!({
        "name": login,
        "company": null,
        "blog": "",
        "location": null,
        "email": null,
        "hireable": null,
        "bio": null,
        "twitter_username": null,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": ACCOUNTS_CREATED_AT,
        "updated_at": ACCOUNTS_CREATED_AT,
    });
    merge(&mut user, fields);
    user
}

/// `private-user`: what `GET /user` shows its owner.
fn private_user_json(world: &World, login: &str, base: &str) -> Value {
    let mut user = public_user_json(world, login, base);
    let fields = json!({
        "user_view_type": "private",
        "private_gists": 0,
        "total_private_repos": 0,
        "owned_private_repos": 0,
        "disk_usage": 0,
        "collaborators": 0,
        "two_factor_authentication": true,
    });
    merge(&mut user, fields);
    user
}

/// `organization-full`.
fn organization_json(world: &World, login: &str, base: &str) -> Value {
    let id = world.account_id(login);
    let url = format!("{base}/orgs/{login}");
    json!({
        "login": login,
        "id": id,
        "node_id": format!("O_fake{id}"),
        "url": url,
        "repos_url": format!("{url}/repos"),
        "events_url": format!("{url}/events"),
        "hooks_url": format!("{url}/hooks"),
        "issues_url": format!("{url}/issues"),
        "members_url": format!("{url}/members{{/member}}"),
        "public_members_url": format!("{url}/public_members{{/member}}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "description": null,
        "html_url": format!("https://github.com/{login}"),
        "has_organization_projects": true,
        "has_repository_projects": true,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "type": "Organization",
        "created_at": ACCOUNTS_CREATED_AT,
        "updated_at": ACCOUNTS_CREATED_AT,
        "archived_at": null,
    })
}

pub(crate) fn merge(target: &mut Value, fields: Value) {
    if let (Value::Object(target), Value::Object(fields)) = (target, fields) {
        target.extend(fields);
    }
}

/// `/orgs/{owner}` or `/users/{owner}`: where an owner's packages live in URLs.
fn owner_path(world: &World, owner: &str) -> String {
    match kind_of(world, owner) {
        AccountKind::Organization => format!("orgs/{owner}"),
        AccountKind::User => format!("users/{owner}"),
    }
}

/// `package`.
fn package_json(world: &World, package: &Package, base: &str) -> Value {
    let owner_path = owner_path(world, &package.owner);
    let name = percent_encode(&package.name);
    let mut body = json!({
        "id": package.id,
        "name": package.name,
        "package_type": package.package_type,
        "owner": simple_user_json(world, &package.owner, base),
        "version_count": package.active_versions().count(),
        "visibility": package.visibility,
        "url": format!("{base}/{owner_path}/packages/{}/{name}", package.package_type),
        "created_at": timestamp(package.created_at),
        "updated_at": timestamp(package.updated_at),
        "html_url": format!("https://github.com/{owner_path}/packages/{}/package/{name}", package.package_type),
    });
    if let Some(full_name) = &package.repository {
        let repository = minimal_repository_json(world, full_name, !package.is_public(), base);
        merge(&mut body, json!({ "repository": repository }));
    }
    body
}

/// `minimal-repository`: the repository `full_name` (`owner/name`) a package is linked to.
pub(crate) fn minimal_repository_json(
    world: &World,
    full_name: &str,
    private: bool,
    base: &str,
) -> Value {
    let (owner, name) = full_name.split_once('/').unwrap_or(("", full_name));
    // A stable id from the name (FNV-1a), below 2^53 so every JSON reader keeps it exact.
    let id = full_name
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
        >> 11;
    let url = format!("{base}/repos/{full_name}");
    let mut repository = json!({
        "id": id,
        "node_id": format!("R_fake{id}"),
        "name": name,
        "full_name": full_name,
        "owner": simple_user_json(world, owner, base),
        "private": private,
        "html_url": format!("https://github.com/{full_name}"),
        "description": null,
        "fork": false,
        "url": url,
    });
    let links = [
        ("archive_url", "/{archive_format}{/ref}"),
        ("assignees_url", "/assignees{/user}"),
        ("blobs_url", "/git/blobs{/sha}"),
        ("branches_url", "/branches{/branch}"),
        ("collaborators_url", "/collaborators{/collaborator}"),
        ("comments_url", "/comments{/number}"),
        ("commits_url", "/commits{/sha}"),
        ("compare_url", "/compare/{base}...{head}"),
        ("contents_url", "/contents/{+path}"),
        ("contributors_url", "/contributors"),
        ("deployments_url", "/deployments"),
        ("downloads_url", "/downloads"),
        ("events_url", "/events"),
        ("forks_url", "/forks"),
        ("git_commits_url", "/git/commits{/sha}"),
        ("git_refs_url", "/git/refs{/sha}"),
        ("git_tags_url", "/git/tags{/sha}"),
        ("hooks_url", "/hooks"),
        ("issue_comment_url", "/issues/comments{/number}"),
        ("issue_events_url", "/issues/events{/number}"),
        ("issues_url", "/issues{/number}"),
        ("keys_url", "/keys{/key_id}"),
        ("labels_url", "/labels{/name}"),
        ("languages_url", "/languages"),
        ("merges_url", "/merges"),
        ("milestones_url", "/milestones{/number}"),
        (
            "notifications_url",
            "/notifications{?since,all,participating}",
        ),
        ("pulls_url", "/pulls{/number}"),
        ("releases_url", "/releases{/id}"),
        ("stargazers_url", "/stargazers"),
        ("statuses_url", "/statuses/{sha}"),
        ("subscribers_url", "/subscribers"),
        ("subscription_url", "/subscription"),
        ("tags_url", "/tags"),
        ("teams_url", "/teams"),
        ("trees_url", "/git/trees{/sha}"),
    ];
    for (field, tail) in links {
        merge(&mut repository, json!({ field: format!("{url}{tail}") }));
    }
    repository
}

/// `package-version`.
fn version_json(world: &World, package: &Package, version: &Version, base: &str) -> Value {
    let owner_path = owner_path(world, &package.owner);
    let kind = &package.package_type;
    let name = percent_encode(&package.name);
    let mut metadata = json!({ "package_type": kind });
    match kind.as_str() {
        "container" => merge(
            &mut metadata,
            json!({ "container": { "tags": version.tags } }),
        ),
        // The description names the field `tag` but requires `tags`: give both.
        "docker" => merge(
            &mut metadata,
            json!({ "docker": { "tag": version.tags, "tags": version.tags } }),
        ),
        _ => {}
    }
    let mut body = json!({
        "id": version.id,
        "name": version.name,
        "url": format!("{base}/{owner_path}/packages/{kind}/{name}/versions/{}", version.id),
        "package_html_url": format!("https://github.com/{owner_path}/packages/{kind}/package/{name}"),
        "html_url": format!("https://github.com/{owner_path}/packages/{kind}/{name}/{}", version.id),
        "created_at": timestamp(version.created_at),
        "updated_at": timestamp(version.updated_at),
        "metadata": metadata,
    });
    if let Some(deleted_at) = version.deleted_at {
        merge(&mut body, json!({ "deleted_at": timestamp(deleted_at) }));
    }
    body
}

/// What a token may do in a namespace.
struct Access {
    owner: String,
    /// Private packages are visible (own namespace or an organization).
    sees_private: bool,
    /// Deletes and restores are allowed by the namespace (the token's rights still apply).
    may_write: bool,
}

fn access(token: &Token, namespace: &Namespace) -> Access {
    match namespace {
        Namespace::Me => Access {
            owner: token.login.clone(),
            sees_private: true,
            may_write: true,
        },
        Namespace::User(user) => {
            let own = user.eq_ignore_ascii_case(&token.login);
            Access {
                owner: user.clone(),
                sees_private: own,
                may_write: own,
            }
        }
        Namespace::Org(org) => Access {
            owner: org.clone(),
            sees_private: true,
            may_write: true,
        },
    }
}

fn packages(
    world: &mut World,
    cache: &mut ListingCache,
    unlisted: &[u64],
    req: &RequestParts,
    token: &Token,
    namespace: &Namespace,
    rest: &[&str],
) -> Answer {
    if let Namespace::Org(org) = namespace {
        if world
            .account(org)
            .is_some_and(|a| a.kind == AccountKind::User)
        {
            return not_found();
        }
    }
    let access = access(token, namespace);
    let method = req.method.as_str();
    let (package_type, name, tail) = match (method, rest) {
        ("GET", []) => return list_packages(world, req, token, &access),
        (_, [package_type, name, tail @ ..]) => (*package_type, *name, tail),
        _ => return not_found(),
    };
    if !PACKAGE_TYPES.contains(&package_type) {
        return error(
            400,
            &format!("Invalid package_type `{package_type}`: must be one of npm, maven, rubygems, docker, nuget, container."),
            PACKAGES_DOCS,
        );
    }
    let target = Target {
        access,
        token,
        package_type,
        name,
    };
    match (method, tail) {
        ("GET", []) => get_package(world, req, &target),
        ("DELETE", []) => delete_package(world, &target),
        ("POST", ["restore"]) => restore_package(world, &target),
        ("GET", ["versions"]) => list_versions(world, cache, unlisted, req, &target),
        ("GET", ["versions", id]) => get_version(world, req, &target, id),
        ("DELETE", ["versions", id]) => delete_version(world, &target, id),
        ("POST", ["versions", id, "restore"]) => restore_version(world, &target, id),
        _ => not_found(),
    }
}

/// The package a `/{namespace}/packages/{type}/{name}...` route is about.
struct Target<'a> {
    access: Access,
    token: &'a Token,
    package_type: &'a str,
    name: &'a str,
}

impl Target<'_> {
    fn visible(&self, package: &Package) -> bool {
        package.is(&self.access.owner, self.package_type, self.name)
            && (self.access.sees_private || package.is_public())
    }

    /// Index of the active package.
    fn active(&self, world: &World) -> Option<usize> {
        world
            .packages
            .iter()
            .position(|p| self.visible(p) && !p.is_deleted())
    }

    /// 403 unless the token may delete and restore here (404 for a token whose refusals
    /// GitHub hides as "not found").
    fn check_write(&self) -> Result<(), Answer> {
        if self.access.may_write && self.token.can_delete {
            Ok(())
        } else if self.token.refused_as_not_found {
            Err(package_not_found())
        } else {
            Err(error(403, MSG_NO_ADMIN_RIGHTS, PACKAGES_DOCS))
        }
    }
}

fn package_not_found() -> Answer {
    error(404, MSG_PACKAGE_NOT_FOUND, PACKAGES_DOCS)
}

fn version_not_found() -> Answer {
    error(404, MSG_VERSION_NOT_FOUND, PACKAGES_DOCS)
}

/// `page` and `per_page` as GitHub reads them.
pub(crate) struct Page {
    number: u64,
    size: u64,
}

impl Page {
    pub(crate) fn of(req: &RequestParts) -> Page {
        let read = |name: &str| req.query_param(name).and_then(|v| v.parse::<u64>().ok());
        Page {
            number: read("page").filter(|&n| n >= 1).unwrap_or(1),
            size: read("per_page").filter(|&n| n >= 1).unwrap_or(30).min(100),
        }
    }

    /// This page of `items` and its `Link` header value, if any.
    pub(crate) fn cut<T: Clone>(
        &self,
        req: &RequestParts,
        items: &[T],
    ) -> (Vec<T>, Option<String>) {
        let total = items.len() as u64;
        let last = total.div_ceil(self.size).max(1);
        let start = ((self.number - 1).saturating_mul(self.size)).min(total) as usize;
        let end = (start as u64 + self.size).min(total) as usize;
        let mut links = Vec::new();
        if self.number > 1 {
            links.push((self.number - 1, "prev"));
        }
        if self.number < last {
            links.push((self.number + 1, "next"));
            links.push((last, "last"));
        }
        if self.number > 1 {
            links.push((1, "first"));
        }
        let link = (!links.is_empty()).then(|| {
            links
                .iter()
                .map(|(number, rel)| format!("<{}>; rel=\"{rel}\"", self.url(req, *number)))
                .collect::<Vec<_>>()
                .join(", ")
        });
        (items[start..end].to_vec(), link)
    }

    /// The request's URL for page `number`, other query parameters kept as sent.
    fn url(&self, req: &RequestParts, number: u64) -> String {
        let mut query: Vec<String> = req
            .query
            .split('&')
            .filter(|pair| {
                let key = pair.split_once('=').map_or(*pair, |(k, _)| k);
                !pair.is_empty() && key != "page" && key != "per_page"
            })
            .map(str::to_owned)
            .collect();
        query.push(format!("page={number}"));
        query.push(format!("per_page={}", self.size));
        format!("{}{}?{}", req.base_url(), req.raw_path, query.join("&"))
    }
}

pub(crate) fn paged_json(status: u16, items: Vec<Value>, link: Option<String>) -> Answer {
    let answer = Answer::json(status, &Value::Array(items));
    match link {
        Some(link) => answer.header("link", link),
        None => answer,
    }
}

fn list_packages(world: &World, req: &RequestParts, token: &Token, access: &Access) -> Answer {
    let package_type = req.query_param("package_type").unwrap_or_default();
    if !PACKAGE_TYPES.contains(&package_type.as_str()) {
        return error(
            400,
            "package_type is required and must be one of npm, maven, rubygems, docker, nuget, container.",
            PACKAGES_DOCS,
        );
    }
    let page = Page::of(req);
    if page.number.saturating_mul(page.size) > MAX_LISTED_PACKAGES {
        return error(
            400,
            "The value of `per_page` multiplied by `page` cannot be greater than 10000.",
            PACKAGES_DOCS,
        );
    }
    if !token.can_list_packages {
        return error(403, MSG_NOT_ACCESSIBLE, PACKAGES_DOCS);
    }
    // `internal` is `private` outside the registries with granular permissions.
    let visibility = req.query_param("visibility").map(|v| {
        if v == "internal" {
            "private".to_owned()
        } else {
            v
        }
    });
    let listed: Vec<&Package> = world
        .packages
        .iter()
        .filter(|p| {
            p.owner.eq_ignore_ascii_case(&access.owner)
                && p.package_type == package_type
                && !p.is_deleted()
                && (access.sees_private || p.is_public())
                && visibility.as_ref().is_none_or(|v| &p.visibility == v)
        })
        .collect();
    let (shown, link) = page.cut(req, &listed);
    let base = req.base_url();
    let items = shown
        .iter()
        .map(|p| package_json(world, p, &base))
        .collect();
    paged_json(200, items, link)
}

fn get_package(world: &World, req: &RequestParts, target: &Target) -> Answer {
    match target.active(world) {
        Some(index) => Answer::json(
            200,
            &package_json(world, &world.packages[index], &req.base_url()),
        ),
        None => package_not_found(),
    }
}

fn delete_package(world: &mut World, target: &Target) -> Answer {
    let Some(index) = target.active(world) else {
        return package_not_found();
    };
    if let Err(refusal) = target.check_write() {
        return refusal;
    }
    let package = &mut world.packages[index];
    if package.is_public()
        && package
            .active_versions()
            .any(|v| v.downloads > MAX_DELETABLE_DOWNLOADS)
    {
        return error(400, MSG_TOO_MANY_DOWNLOADS, PACKAGES_DOCS);
    }
    package.deleted_at = Some(Utc::now());
    Answer::no_content()
}

fn within_restore_window(deleted_at: DateTime<Utc>) -> bool {
    Utc::now() - deleted_at < chrono::Duration::days(RESTORE_WINDOW_DAYS)
}

fn restore_package(world: &mut World, target: &Target) -> Answer {
    let latest_deleted = world
        .packages
        .iter()
        .enumerate()
        .filter(|(_, p)| target.visible(p) && p.is_deleted())
        .max_by_key(|(_, p)| p.deleted_at)
        .map(|(i, _)| i);
    let Some(index) = latest_deleted else {
        return package_not_found();
    };
    if let Err(refusal) = target.check_write() {
        return refusal;
    }
    let deleted_at = world.packages[index].deleted_at.expect("a deleted package");
    if !within_restore_window(deleted_at) {
        return error(404, MSG_PACKAGE_RESTORE_EXPIRED, PACKAGES_DOCS);
    }
    if target.active(world).is_some() {
        return error(403, MSG_PACKAGE_NAME_TAKEN, PACKAGES_DOCS);
    }
    world.packages[index].deleted_at = None;
    Answer::no_content()
}

/// Positions in `versions` of those in this state, newest first: `created_at` descending, then
/// id descending.
fn newest_first(versions: &[Version], want_deleted: bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..versions.len())
        .filter(|&i| versions[i].is_deleted() == want_deleted)
        .collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&versions[a], &versions[b]);
        b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id))
    });
    order
}

fn list_versions(
    world: &World,
    cache: &mut ListingCache,
    unlisted: &[u64],
    req: &RequestParts,
    target: &Target,
) -> Answer {
    let Some(index) = target.active(world) else {
        return package_not_found();
    };
    let want_deleted = match req.query_param("state").as_deref() {
        None | Some("active") => false,
        Some("deleted") => true,
        Some(other) => {
            return error(
                400,
                &format!("Invalid state `{other}`: must be active or deleted."),
                PACKAGES_DOCS,
            )
        }
    };
    let package = &world.packages[index];
    let order = cache
        .orders
        .entry((package.id, want_deleted))
        .or_insert_with(|| {
            let mut order = newest_first(&package.versions, want_deleted);
            order.retain(|&i| !unlisted.contains(&package.versions[i].id));
            order
        });
    let (shown, link) = Page::of(req).cut(req, order);
    let base = req.base_url();
    let items = shown
        .iter()
        .map(|&i| version_json(world, package, &package.versions[i], &base))
        .collect();
    paged_json(200, items, link)
}

fn get_version(world: &World, req: &RequestParts, target: &Target, id: &str) -> Answer {
    let Some(index) = target.active(world) else {
        return package_not_found();
    };
    let package = &world.packages[index];
    match id.parse().ok().and_then(|id| package.version(id)) {
        Some(version) => Answer::json(200, &version_json(world, package, version, &req.base_url())),
        None => version_not_found(),
    }
}

fn delete_version(world: &mut World, target: &Target, id: &str) -> Answer {
    let Some(index) = target.active(world) else {
        return package_not_found();
    };
    let package = &mut world.packages[index];
    let Some(version) = id
        .parse()
        .ok()
        .and_then(|id| package.version(id))
        .filter(|v| !v.is_deleted())
    else {
        return version_not_found();
    };
    if let Err(refusal) = target.check_write() {
        return refusal;
    }
    if package.is_public() && version.downloads > MAX_DELETABLE_DOWNLOADS {
        return error(400, MSG_TOO_MANY_DOWNLOADS, PACKAGES_DOCS);
    }
    let has_tags = matches!(package.package_type.as_str(), "container" | "docker");
    let others = || package.active_versions().filter(|v| v.id != version.id);
    if has_tags && !version.tags.is_empty() && !others().any(|v| !v.tags.is_empty()) {
        return error(400, MSG_LAST_TAGGED_VERSION, PACKAGES_DOCS);
    }
    if others().next().is_none() {
        return error(400, MSG_LAST_VERSION, PACKAGES_DOCS);
    }
    let id = version.id;
    package.version_mut(id).expect("found above").deleted_at = Some(Utc::now());
    Answer::no_content()
}

fn restore_version(world: &mut World, target: &Target, id: &str) -> Answer {
    let Some(index) = target.active(world) else {
        return package_not_found();
    };
    let package = &mut world.packages[index];
    let Some(version) = id.parse().ok().and_then(|id| package.version(id)) else {
        return version_not_found();
    };
    if let Err(refusal) = target.check_write() {
        return refusal;
    }
    let Some(deleted_at) = version.deleted_at else {
        return error(404, MSG_VERSION_NOT_DELETED, PACKAGES_DOCS);
    };
    if !within_restore_window(deleted_at) {
        return error(404, MSG_VERSION_RESTORE_EXPIRED, PACKAGES_DOCS);
    }
    if package
        .active_versions()
        .any(|v| v.name == version.name && v.id != version.id)
    {
        return error(403, MSG_VERSION_NAME_TAKEN, PACKAGES_DOCS);
    }
    let id = version.id;
    package.version_mut(id).expect("found above").deleted_at = None;
    Answer::no_content()
}
