//! Credentials and the account routes.

use super::{api, send, TOKEN};
use crate::{FakeGithub, World, MSG_NOT_ACCESSIBLE, MSG_NO_USER_AGENT};

fn fake() -> FakeGithub {
    FakeGithub::start(
        World::new()
            .user("alice")
            .org("acme")
            .token(TOKEN, "alice")
            .installation_token("ghs_installation", "alice"),
    )
}

#[test]
fn credentials_are_required_and_checked() {
    let fake = fake();
    let missing = send(&fake, "GET", "/orgs/acme/packages?package_type=npm", &[]);
    assert_eq!(
        (missing.status, missing.message().as_str()),
        (401, "Requires authentication")
    );
    let unknown = send(&fake, "GET", "/user", &[("Authorization", "token nope")]);
    assert_eq!(
        (unknown.status, unknown.message().as_str()),
        (401, "Bad credentials")
    );
    let token_scheme = send(&fake, "GET", "/user", &[("Authorization", "token tok")]);
    assert_eq!(token_scheme.status, 200);
}

#[test]
fn an_api_request_without_a_user_agent_is_refused_and_every_user_agent_is_recorded() {
    let fake = fake();
    let auth = ("Authorization", "Bearer tok");
    let none = send(&fake, "GET", "/user", &[auth, ("User-Agent", "")]);
    assert_eq!(none.status, 403);
    assert_eq!(none.body.trim_end(), MSG_NO_USER_AGENT);
    assert!(none
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    let two = send(
        &fake,
        "GET",
        "/user",
        &[auth, ("User-Agent", "ours/1"), ("User-Agent", "octocrab")],
    );
    assert_eq!(
        two.status, 200,
        "the fake records, GitHub accepts, two of them"
    );
    let one = api(&fake, "GET", "/user");
    assert_eq!(one.status, 200);
    let agents: Vec<Vec<String>> = fake
        .requests()
        .into_iter()
        .map(|record| record.user_agents)
        .collect();
    assert_eq!(
        agents,
        vec![
            vec![],
            vec!["ours/1".to_owned(), "octocrab".to_owned()],
            vec![crate::client::DEFAULT_USER_AGENT.to_owned()],
        ]
    );
}

#[test]
fn accounts_answer_with_their_type() {
    let fake = fake();
    let me = api(&fake, "GET", "/user");
    assert_eq!(me.json()["login"], "alice");
    assert_eq!(me.json()["type"], "User");
    assert_eq!(me.json()["user_view_type"], "private");
    assert_eq!(
        api(&fake, "GET", "/users/acme").json()["type"],
        "Organization"
    );
    assert_eq!(api(&fake, "GET", "/users/alice").json()["id"], 1);
    assert_eq!(api(&fake, "GET", "/users/nobody").status, 404);
    assert_eq!(api(&fake, "GET", "/orgs/acme").json()["login"], "acme");
    assert_eq!(api(&fake, "GET", "/orgs/alice").status, 404);
    assert_eq!(api(&fake, "GET", "/nowhere").status, 404);
    assert_eq!(api(&fake, "GET", "/nowhere").message(), "Not Found");
}

#[test]
fn installation_tokens_cannot_read_the_authenticated_user() {
    let fake = fake();
    let reply = send(
        &fake,
        "GET",
        "/user",
        &[("Authorization", "Bearer ghs_installation")],
    );
    assert_eq!(
        (reply.status, reply.message().as_str()),
        (403, MSG_NOT_ACCESSIBLE)
    );
    let packages = send(
        &fake,
        "GET",
        "/orgs/acme/packages?package_type=container",
        &[("Authorization", "Bearer ghs_installation")],
    );
    assert_eq!(packages.status, 200);
}
