//! Credentials and the account routes.

use super::{api, send, TOKEN};
use crate::{FakeGithub, World, MSG_NOT_ACCESSIBLE};

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
