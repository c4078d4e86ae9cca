//! The repository routes: open pull requests and branches in GitHub's shapes and pages, 403 for
//! a token without the right, 404 for an unknown repository, and the listing faults.

use super::{api, send, Reply, TOKEN};
use crate::{Config, FakeGithub, PageFault, PageFaultKind, Token, World, MSG_NOT_ACCESSIBLE};

const PULLS: &str = "/repos/acme/app/pulls";
const BRANCHES: &str = "/repos/acme/app/branches";

/// `acme/app` with pull requests 1..=n, the odd ones open, each from branch `feature/n`.
fn world_with_pulls(n: u64) -> World {
    let mut world = World::new().user("alice").org("acme").token(TOKEN, "alice");
    let repository = world.add_repository("acme/app");
    for number in 1..=n {
        repository.open_pull_request(number, &format!("feature/{number}"));
        if number % 2 == 0 {
            repository.close_pull_request(number, number % 4 == 0);
        }
    }
    world
}

fn numbers(reply: &Reply) -> Vec<u64> {
    reply
        .json()
        .as_array()
        .expect("an array")
        .iter()
        .map(|p| p["number"].as_u64().expect("a number"))
        .collect()
}

fn names(reply: &Reply) -> Vec<String> {
    reply
        .json()
        .as_array()
        .expect("an array")
        .iter()
        .map(|b| b["name"].as_str().expect("a name").to_owned())
        .collect()
}

#[test]
fn open_pull_requests_are_listed_newest_first_in_pages_with_link_headers() {
    let fake = FakeGithub::start(world_with_pulls(250));
    let base = format!("{}{PULLS}", fake.url());

    let first = api(&fake, "GET", &format!("{PULLS}?state=open&per_page=100"));
    assert_eq!(first.status, 200);
    let open: Vec<u64> = (1..=250).rev().filter(|n| n % 2 == 1).collect();
    assert_eq!(numbers(&first), open[..100]);
    assert_eq!(
        first.header("link"),
        Some(
            format!(
                "<{base}?state=open&page=2&per_page=100>; rel=\"next\", \
                 <{base}?state=open&page=2&per_page=100>; rel=\"last\""
            )
            .as_str()
        )
    );
    let second = api(
        &fake,
        "GET",
        &format!("{PULLS}?state=open&per_page=100&page=2"),
    );
    assert_eq!(numbers(&second), open[100..]);
    assert!(second.header("link").unwrap().contains("rel=\"prev\""));
    assert!(!second.header("link").unwrap().contains("rel=\"next\""));

    // `state` defaults to open, pages to 30; `closed` and `all` are there too.
    let default = api(&fake, "GET", PULLS);
    assert_eq!(numbers(&default), open[..30]);
    let closed = api(&fake, "GET", &format!("{PULLS}?state=closed&per_page=100"));
    assert!(numbers(&closed).iter().all(|n| n % 2 == 0));
    let all = api(&fake, "GET", &format!("{PULLS}?state=all&per_page=5"));
    assert_eq!(numbers(&all), [250, 249, 248, 247, 246]);
    let invalid = api(&fake, "GET", &format!("{PULLS}?state=merged"));
    assert_eq!(invalid.status, 422);
}

#[test]
fn a_pull_request_has_the_shape_of_pull_request_simple() {
    let fake = FakeGithub::start(world_with_pulls(4));
    let closed = api(&fake, "GET", &format!("{PULLS}?state=all"));
    let pulls = closed.json();
    let merged = &pulls[0];
    assert_eq!(merged["number"], 4);
    assert_eq!(merged["state"], "closed");
    assert!(merged["merged_at"].is_string() && merged["closed_at"].is_string());
    let unmerged = &pulls[2];
    assert_eq!(unmerged["state"], "closed");
    assert!(unmerged["merged_at"].is_null() && unmerged["closed_at"].is_string());
    let open = &pulls[1];
    assert_eq!(open["state"], "open");
    assert!(open["closed_at"].is_null());
    assert_eq!(open["head"]["ref"], "feature/3");
    assert_eq!(open["head"]["label"], "acme:feature/3");
    assert_eq!(open["head"]["sha"].as_str().unwrap().len(), 40);
    assert_eq!(open["head"]["repo"]["full_name"], "acme/app");
    assert_eq!(open["base"]["ref"], "main");
    assert_eq!(open["user"]["login"], "acme");
    assert_eq!(open["html_url"], "https://github.com/acme/app/pull/3");
    for field in [
        "url",
        "id",
        "node_id",
        "diff_url",
        "patch_url",
        "issue_url",
        "commits_url",
        "review_comments_url",
        "review_comment_url",
        "comments_url",
        "statuses_url",
        "locked",
        "title",
        "body",
        "labels",
        "milestone",
        "active_lock_reason",
        "created_at",
        "updated_at",
        "merge_commit_sha",
        "assignee",
        "assignees",
        "requested_reviewers",
        "requested_teams",
        "_links",
        "author_association",
        "auto_merge",
        "draft",
    ] {
        assert!(open.get(field).is_some(), "pull-request-simple has {field}");
    }
}

#[test]
fn branches_are_listed_by_name_in_pages_with_their_commit_and_protection() {
    let mut world = world_with_pulls(0);
    let repository = world.repository_mut("acme", "app").unwrap();
    for n in 0..150 {
        repository.add_branch(&format!("feature/x-{n:03}"));
    }
    repository
        .add_branch("release/1.x")
        .delete_branch("feature/x-007");
    let fake = FakeGithub::start(world);

    let first = api(&fake, "GET", &format!("{BRANCHES}?per_page=100"));
    assert_eq!(first.status, 200);
    let shown = names(&first);
    assert_eq!(shown.len(), 100);
    assert_eq!(shown[0], "feature/x-000");
    assert!(!shown.contains(&"feature/x-007".to_owned()));
    assert!(first
        .header("link")
        .unwrap()
        .contains("page=2&per_page=100>; rel=\"last\""));
    let second = api(&fake, "GET", &format!("{BRANCHES}?per_page=100&page=2"));
    let rest = names(&second);
    assert_eq!(rest.len(), 151 - 100);
    assert_eq!(rest[rest.len() - 2..], ["main", "release/1.x"]);

    let main = &second.json()[rest.len() - 2];
    assert_eq!(main["protected"], true);
    assert_eq!(main["commit"]["sha"].as_str().unwrap().len(), 40);
    assert!(main["commit"]["url"].as_str().unwrap().ends_with(&format!(
        "/repos/acme/app/commits/{}",
        main["commit"]["sha"].as_str().unwrap()
    )));
    assert!(main["protection_url"]
        .as_str()
        .unwrap()
        .ends_with("/branches/main/protection"));
    let protected = api(&fake, "GET", &format!("{BRANCHES}?protected=true"));
    assert_eq!(names(&protected), ["main"]);
}

#[test]
fn a_token_without_the_right_is_refused_403_and_an_unknown_repository_is_404() {
    let mut world = world_with_pulls(3).with_token(Token {
        can_read_pull_requests: false,
        can_read_contents: false,
        ..Token::new("no-repo-rights", "alice")
    });
    world.add_repository("acme/site").public();
    let fake = FakeGithub::start(world);
    let without_rights = |target: &str| {
        send(
            &fake,
            "GET",
            target,
            &[("Authorization", "Bearer no-repo-rights")],
        )
    };
    for target in [PULLS, BRANCHES] {
        let refused = without_rights(target);
        assert_eq!(refused.status, 403, "{target}");
        assert_eq!(refused.message(), MSG_NOT_ACCESSIBLE);
        let unknown = api(&fake, "GET", &target.replace("/app/", "/gone/"));
        assert_eq!(unknown.status, 404);
        assert_eq!(unknown.message(), "Not Found");
        // A private repository is unknown without a token; a public one is readable.
        assert_eq!(send(&fake, "GET", target, &[]).status, 404);
        let public = send(&fake, "GET", &target.replace("/app/", "/site/"), &[]);
        assert_eq!(public.status, 200);
        assert_eq!(
            send(&fake, "GET", target, &[("Authorization", "Bearer nope")]).status,
            401
        );
    }
    // The repository's owner and name are compared without case.
    assert_eq!(api(&fake, "GET", "/repos/ACME/App/pulls").status, 200);
}

#[test]
fn listing_faults_apply_to_pull_requests_and_branches() {
    let config = Config {
        page_faults: vec![
            PageFault {
                path_contains: "/pulls".to_owned(),
                page: 2,
                kind: PageFaultKind::NotFound,
            },
            PageFault {
                path_contains: "/branches".to_owned(),
                page: 1,
                kind: PageFaultKind::WithoutLink,
            },
        ],
        ..Config::default()
    };
    let mut world = world_with_pulls(300);
    let repository = world.repository_mut("acme", "app").unwrap();
    for n in 0..120 {
        repository.add_branch(&format!("b{n}"));
    }
    let fake = FakeGithub::start_with(world, config);
    assert_eq!(
        api(&fake, "GET", &format!("{PULLS}?per_page=100&page=2")).status,
        404
    );
    let first = api(&fake, "GET", &format!("{BRANCHES}?per_page=100"));
    assert_eq!(names(&first).len(), 100);
    assert_eq!(first.header("link"), None);
}
