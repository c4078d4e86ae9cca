//! Repositories with their pull requests and branches, and the two routes that list them:
//! `GET /repos/{owner}/{repo}/pulls` (`pull-request-simple` items) and
//! `GET /repos/{owner}/{repo}/branches` (`short-branch` items), paged like every listing.
//!
//! | situation | status | message |
//! |---|---|---|
//! | unknown repository, or a private one asked without a token | 404 | `Not Found` |
//! | pulls, token without [`crate::Token::can_read_pull_requests`] | 403 | `Resource not accessible by integration` |
//! | branches, token without [`crate::Token::can_read_contents`] | 403 | `Resource not accessible by integration` |
//! | `state` other than `open`, `closed` or `all` | 422 | `Validation Failed` |

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::api::{
    error, merge, minimal_repository_json, paged_json, simple_user_json, Auth, Page,
    MSG_NOT_ACCESSIBLE,
};
use crate::http::{Answer, RequestParts};
use crate::world::World;

const PULLS_DOCS: &str = "https://docs.github.com/rest/pulls/pulls#list-pull-requests";
const BRANCHES_DOCS: &str = "https://docs.github.com/rest/branches/branches#list-branches";

/// A repository `owner/name` (compared without case, as GitHub does).
#[derive(Clone, Debug, PartialEq)]
pub struct Repository {
    pub owner: String,
    pub name: String,
    pub private: bool,
    pub default_branch: String,
    pub pull_requests: Vec<PullRequest>,
    pub branches: Vec<Branch>,
}

/// A pull request of a repository.
#[derive(Clone, Debug, PartialEq)]
pub struct PullRequest {
    pub number: u64,
    pub title: String,
    /// `open` or `closed`.
    pub state: String,
    /// The branch it would merge (`head.ref`).
    pub head_ref: String,
    pub created_at: DateTime<Utc>,
    /// When it was merged (closed pull requests only; `None`: closed without merging).
    pub merged_at: Option<DateTime<Utc>>,
}

/// A branch of a repository.
#[derive(Clone, Debug, PartialEq)]
pub struct Branch {
    pub name: String,
    /// The commit it points at (40 hex characters).
    pub sha: String,
    pub protected: bool,
}

impl World {
    /// Adds a private repository `owner/name` with a branch `main` and no pull requests.
    pub fn add_repository(&mut self, full_name: &str) -> &mut Repository {
        let (owner, name) = full_name
            .split_once('/')
            .expect("a repository is named owner/name");
        self.repositories.push(Repository {
            owner: owner.to_owned(),
            name: name.to_owned(),
            private: true,
            default_branch: "main".to_owned(),
            pull_requests: Vec::new(),
            branches: vec![Branch {
                name: "main".to_owned(),
                sha: commit_sha("main"),
                protected: true,
            }],
        });
        self.repositories.last_mut().expect("just pushed")
    }

    /// The repository `owner/name` (case-insensitive).
    pub fn repository(&self, owner: &str, name: &str) -> Option<&Repository> {
        self.repositories
            .iter()
            .find(|r| r.owner.eq_ignore_ascii_case(owner) && r.name.eq_ignore_ascii_case(name))
    }

    /// Like [`World::repository`], mutable.
    pub fn repository_mut(&mut self, owner: &str, name: &str) -> Option<&mut Repository> {
        self.repositories
            .iter_mut()
            .find(|r| r.owner.eq_ignore_ascii_case(owner) && r.name.eq_ignore_ascii_case(name))
    }
}

impl Repository {
    /// `owner/name`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    /// Makes the repository public (readable without a token).
    pub fn public(&mut self) -> &mut Repository {
        self.private = false;
        self
    }

    /// Adds an open pull request `number` from branch `head_ref` (the branch is not created).
    pub fn open_pull_request(&mut self, number: u64, head_ref: &str) -> &mut Repository {
        self.pull_requests.push(PullRequest {
            number,
            title: format!("Change {number}"),
            state: "open".to_owned(),
            head_ref: head_ref.to_owned(),
            // A later number, a later pull request: GitHub's default order is by creation.
            created_at: Utc::now() - chrono::Duration::days(30)
                + chrono::Duration::seconds(number.min(1_000_000) as i64),
            merged_at: None,
        });
        self
    }

    /// Adds a pull request `number` from `head_ref` that was merged and closed.
    pub fn merged_pull_request(&mut self, number: u64, head_ref: &str) -> &mut Repository {
        self.open_pull_request(number, head_ref);
        self.close_pull_request(number, true);
        self
    }

    /// Closes pull request `number` (merged or not).
    pub fn close_pull_request(&mut self, number: u64, merged: bool) -> &mut Repository {
        let pull = self
            .pull_requests
            .iter_mut()
            .find(|p| p.number == number)
            .expect("a pull request with this number");
        pull.state = "closed".to_owned();
        pull.merged_at = merged.then(Utc::now);
        self
    }

    /// Adds an unprotected branch `name`.
    pub fn add_branch(&mut self, name: &str) -> &mut Repository {
        self.branches.push(Branch {
            name: name.to_owned(),
            sha: commit_sha(name),
            protected: false,
        });
        self
    }

    /// Deletes branch `name`.
    pub fn delete_branch(&mut self, name: &str) -> &mut Repository {
        self.branches.retain(|b| b.name != name);
        self
    }
}

/// A stable 40-hex commit id for a branch name (FNV-1a, repeated).
fn commit_sha(seed: &str) -> String {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    let mut hex = String::new();
    for round in 0..3u8 {
        for byte in seed.bytes().chain([round]) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        hex.push_str(&format!("{hash:016x}"));
    }
    hex.truncate(40);
    hex
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Answers `/repos/{owner}/{repo}/...` (`rest` is what follows the repository's name).
pub(crate) fn route(
    world: &World,
    req: &RequestParts,
    auth: &Auth,
    owner: &str,
    name: &str,
    rest: &[&str],
) -> Answer {
    let (docs, listing): (&str, Listing) = match (req.method.as_str(), rest) {
        ("GET", ["pulls"]) => (PULLS_DOCS, Listing::Pulls),
        ("GET", ["branches"]) => (BRANCHES_DOCS, Listing::Branches),
        _ => return crate::api::not_found(),
    };
    let repository = world
        .repository(owner, name)
        .filter(|r| !r.private || matches!(auth, Auth::Valid(_)));
    let Some(repository) = repository else {
        return error(404, "Not Found", docs);
    };
    if let Auth::Valid(token) = auth {
        let allowed = match listing {
            Listing::Pulls => token.can_read_pull_requests,
            Listing::Branches => token.can_read_contents,
        };
        if !allowed {
            return error(403, MSG_NOT_ACCESSIBLE, docs);
        }
    }
    match listing {
        Listing::Pulls => list_pulls(world, req, repository),
        Listing::Branches => list_branches(req, repository),
    }
}

enum Listing {
    Pulls,
    Branches,
}

/// Pull requests in `state` (default `open`), newest first (GitHub's default sort).
fn list_pulls(world: &World, req: &RequestParts, repository: &Repository) -> Answer {
    let state = req
        .query_param("state")
        .unwrap_or_else(|| "open".to_owned());
    if !matches!(state.as_str(), "open" | "closed" | "all") {
        return Answer::json(
            422,
            &json!({
                "message": "Validation Failed",
                "errors": [{ "resource": "Issue", "field": "state", "code": "invalid" }],
                "documentation_url": PULLS_DOCS,
                "status": "422",
            }),
        );
    }
    let mut pulls: Vec<&PullRequest> = repository
        .pull_requests
        .iter()
        .filter(|p| state == "all" || p.state == state)
        .collect();
    pulls.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then(b.number.cmp(&a.number))
    });
    let (shown, link) = Page::of(req).cut(req, &pulls);
    let base = req.base_url();
    let items = shown
        .iter()
        .map(|p| pull_json(world, repository, p, &base))
        .collect();
    paged_json(200, items, link)
}

/// Branches by name (filtered by `protected=true|false` when given).
fn list_branches(req: &RequestParts, repository: &Repository) -> Answer {
    let protected = req.query_param("protected").map(|p| p == "true");
    let mut branches: Vec<&Branch> = repository
        .branches
        .iter()
        .filter(|b| protected.is_none_or(|p| b.protected == p))
        .collect();
    branches.sort_by(|a, b| a.name.cmp(&b.name));
    let (shown, link) = Page::of(req).cut(req, &branches);
    let base = req.base_url();
    let url = format!("{base}/repos/{}", repository.full_name());
    let items = shown
        .iter()
        .map(|b| {
            let mut branch = json!({
                "name": b.name,
                "commit": { "sha": b.sha, "url": format!("{url}/commits/{}", b.sha) },
                "protected": b.protected,
            });
            if b.protected {
                let protection_url = format!("{url}/branches/{}/protection", b.name);
                merge(&mut branch, json!({ "protection_url": protection_url }));
            }
            branch
        })
        .collect();
    paged_json(200, items, link)
}

/// `pull-request-simple`.
fn pull_json(world: &World, repository: &Repository, pull: &PullRequest, base: &str) -> Value {
    let full_name = repository.full_name();
    let repo = minimal_repository_json(world, &full_name, repository.private, base);
    let user = simple_user_json(world, &repository.owner, base);
    let url = format!("{base}/repos/{full_name}/pulls/{}", pull.number);
    let issue_url = format!("{base}/repos/{full_name}/issues/{}", pull.number);
    let html_url = format!("https://github.com/{full_name}/pull/{}", pull.number);
    let head_sha = commit_sha(&pull.head_ref);
    let statuses_url = format!("{base}/repos/{full_name}/statuses/{head_sha}");
    let side = |reference: &str, sha: &str| {
        json!({
            "label": format!("{}:{reference}", repository.owner),
            "ref": reference,
            "repo": repo,
            "sha": sha,
            "user": user,
        })
    };
    let closed_at =
        (pull.state == "closed").then(|| timestamp(pull.merged_at.unwrap_or(pull.created_at)));
    let link = |href: &str| json!({ "href": href });
    json!({
        "url": url,
        "id": 100_000 + pull.number,
        "node_id": format!("PR_fake{}", pull.number),
        "html_url": html_url,
        "diff_url": format!("{html_url}.diff"),
        "patch_url": format!("{html_url}.patch"),
        "issue_url": issue_url,
        "commits_url": format!("{url}/commits"),
        "review_comments_url": format!("{url}/comments"),
        "review_comment_url": format!("{base}/repos/{full_name}/pulls/comments{{/number}}"),
        "comments_url": format!("{issue_url}/comments"),
        "statuses_url": statuses_url,
        "number": pull.number,
        "state": pull.state,
        "locked": false,
        "title": pull.title,
        "user": user,
        "body": null,
        "labels": [],
        "milestone": null,
        "active_lock_reason": null,
        "created_at": timestamp(pull.created_at),
        "updated_at": timestamp(pull.merged_at.unwrap_or(pull.created_at)),
        "closed_at": closed_at,
        "merged_at": pull.merged_at.map(timestamp),
        "merge_commit_sha": null,
        "assignee": null,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": side(&pull.head_ref, &head_sha),
        "base": side(&repository.default_branch, &commit_sha(&repository.default_branch)),
        "_links": {
            "self": link(&url),
            "html": link(&html_url),
            "issue": link(&issue_url),
            "comments": link(&format!("{issue_url}/comments")),
            "review_comments": link(&format!("{url}/comments")),
            "review_comment": link(&format!("{base}/repos/{full_name}/pulls/comments{{/number}}")),
            "commits": link(&format!("{url}/commits")),
            "statuses": link(&statuses_url),
        },
        "author_association": "MEMBER",
        "auto_merge": null,
        "draft": false,
    })
}
