//! Checks that fake-github answers in the shapes of GitHub's OpenAPI description: every
//! route and refusal the fake has is exercised through Stoplight Prism in proxy mode with
//! `--errors`, which turns any request or response that breaks the description into an error.
//!
//! Ignored by default: run with `PRISM_BIN=path/to/prism cargo test --test fake_prism -- --ignored`
//! (the description is `../shared/github-openapi/packages.json`, or `OPENAPI_SPEC`).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_github::client::{send, Reply};
use fake_github::{days, digest, Config, FakeGithub, FaultAction, ScriptedFault, World};

/// A Prism proxy in front of the fake, stopped on drop.
struct Prism {
    child: Child,
    url: String,
}

impl Prism {
    fn start(prism_bin: &str, spec: &str, upstream: &str) -> Prism {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(prism_bin)
            .args([
                "proxy",
                spec,
                upstream,
                "--errors",
                "--host",
                "127.0.0.1",
                "-p",
            ])
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prism");
        let prism = Prism {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "prism did not start"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        prism
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn world() -> (World, u64, u64, u64) {
    let mut world = World::new()
        .user("alice")
        .user("bob")
        .org("acme")
        .token("tok", "alice")
        .installation_token("ghs", "alice");
    let app = world
        .add_package("acme", "container", "app")
        .public()
        .linked_to("acme/app-repo");
    let first = app.add_version(&digest(1), &["v1"], days(3)).id;
    let deleted = app
        .add_version(&digest(2), &[], days(3))
        .deleted_ago(days(1))
        .id;
    let popular = app
        .add_version(&digest(3), &["latest"], days(2))
        .with_downloads(9_000)
        .id;
    let docker = world.add_package("acme", "docker", "old");
    docker.add_version("sha256:1", &["x"], days(2));
    docker.add_version("sha256:2", &["y"], days(1));
    world
        .add_package("bob", "npm", "tool")
        .public()
        .add_version("1.0.0", &[], days(1));
    let lib = world.add_package("alice", "npm", "lib");
    lib.add_version("1.0.0", &[], days(1));
    world
        .add_package("acme", "maven", "gone")
        .deleted_ago(days(2))
        .add_version("1.0", &[], days(5));
    (world, first, deleted, popular)
}

/// Statuses GitHub really answers where the description documents none: the 400 of the
/// deletion rules and the 403 of the rate limits on routes that only document 200.
const UNDOCUMENTED_STATUSES: [(&str, u16); 2] = [("DELETE", 400), ("GET", 403)];

#[test]
#[ignore = "needs Stoplight Prism: PRISM_BIN=... cargo test --test fake_prism -- --ignored"]
fn every_answer_of_the_fake_conforms_to_the_openapi_description() {
    let Ok(prism_bin) = std::env::var("PRISM_BIN") else {
        panic!("set PRISM_BIN to the prism executable");
    };
    let spec = std::env::var("OPENAPI_SPEC").unwrap_or_else(|_| {
        format!(
            "{}/../shared/github-openapi/packages.json",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    let (world, first, deleted, popular) = world();
    let fake = FakeGithub::start_with(
        world,
        Config {
            scripted: vec![
                ScriptedFault::secondary_rate_limit(None, "/secondary", 0, 3),
                ScriptedFault {
                    method: None,
                    path_contains: "/broken".into(),
                    nth: 0,
                    action: FaultAction::Respond {
                        status: 200,
                        headers: Vec::new(),
                        body: r#"{"id":"not a number"}"#.into(),
                    },
                },
            ],
            ..Config::default()
        },
    );
    let prism = Prism::start(&prism_bin, &spec, &fake.url());

    let versions = "/orgs/acme/packages/container/app/versions";
    let cases: Vec<(&str, String, &str, u16)> = vec![
        ("GET", "/user".into(), "tok", 200),
        ("GET", "/user".into(), "ghs", 403),
        ("GET", "/user".into(), "nope", 401),
        ("GET", "/users/alice".into(), "tok", 200),
        ("GET", "/users/acme".into(), "tok", 200),
        ("GET", "/users/nobody".into(), "tok", 404),
        ("GET", "/orgs/acme".into(), "tok", 200),
        ("GET", "/orgs/nobody-here".into(), "tok", 404),
        ("GET", "/rate_limit".into(), "tok", 200),
        (
            "GET",
            "/orgs/acme/packages?package_type=container".into(),
            "tok",
            200,
        ),
        (
            "GET",
            "/orgs/acme/packages?package_type=docker&per_page=1&page=1".into(),
            "tok",
            200,
        ),
        (
            "GET",
            "/users/alice/packages?package_type=npm".into(),
            "tok",
            200,
        ),
        ("GET", "/user/packages?package_type=npm".into(), "tok", 200),
        (
            "GET",
            "/orgs/acme/packages/container/app".into(),
            "tok",
            200,
        ),
        ("GET", format!("{versions}?per_page=1&page=2"), "tok", 200),
        ("GET", format!("{versions}?state=deleted"), "tok", 200),
        (
            "GET",
            "/orgs/acme/packages/docker/old/versions".into(),
            "tok",
            200,
        ),
        ("GET", "/user/packages/npm/lib/versions".into(), "tok", 200),
        (
            "GET",
            "/users/alice/packages/npm/lib/versions".into(),
            "tok",
            200,
        ),
        ("GET", format!("{versions}/{first}"), "tok", 200),
        (
            "GET",
            "/orgs/acme/packages/maven/gone/versions".into(),
            "tok",
            404,
        ),
        (
            "GET",
            "/orgs/acme/packages/container/app/versions".into(),
            "nope",
            401,
        ),
        (
            "GET",
            "/orgs/acme/packages?package_type=npm".into(),
            "nope",
            401,
        ),
        (
            "GET",
            "/orgs/acme/packages?package_type=npm&per_page=100&page=101".into(),
            "tok",
            400,
        ),
        ("DELETE", format!("{versions}/{popular}"), "tok", 400),
        ("DELETE", format!("{versions}/999999999"), "tok", 404),
        ("DELETE", "/users/bob/packages/npm/tool".into(), "tok", 403),
        ("POST", format!("{versions}/{deleted}/restore"), "tok", 204),
        ("POST", format!("{versions}/{deleted}/restore"), "tok", 404),
        (
            "POST",
            "/orgs/acme/packages/maven/gone/restore".into(),
            "tok",
            204,
        ),
        (
            "DELETE",
            "/orgs/acme/packages/maven/gone".into(),
            "tok",
            204,
        ),
        (
            "DELETE",
            "/user/packages/npm/lib/versions/1".into(),
            "tok",
            404,
        ),
        ("DELETE", format!("{versions}/{first}"), "tok", 204),
        (
            "GET",
            "/orgs/acme/packages/container/secondary".into(),
            "tok",
            403,
        ),
    ];
    // The control: a body that breaks the description must be caught.
    let broken = send(
        &prism.url,
        "GET",
        "/orgs/acme/packages/container/broken",
        &[("Authorization", "Bearer tok")],
        Duration::from_secs(30),
    )
    .expect("an answer through prism");
    assert!(
        broken.status >= 500 || broken.header("sl-violations").is_some(),
        "prism let a broken body through: {} {}",
        broken.status,
        broken.body
    );

    let mut failures = Vec::new();
    for (method, target, token, expected) in &cases {
        let auth = format!("Bearer {token}");
        let reply: Reply = send(
            &prism.url,
            method,
            target,
            &[("Authorization", &auth)],
            Duration::from_secs(30),
        )
        .unwrap_or_else(|| panic!("no answer through prism to {method} {target}"));
        if reply.status != *expected {
            failures.push(format!(
                "{method} {target}: {} (expected {expected})\n  {}",
                reply.status, reply.body
            ));
        }
        let violations = reply.header("sl-violations").unwrap_or("[]");
        let violations: serde_json::Value =
            serde_json::from_str(violations).expect("JSON violations");
        let undocumented_status = UNDOCUMENTED_STATUSES.contains(&(*method, *expected));
        let unexpected: Vec<&serde_json::Value> = violations
            .as_array()
            .expect("an array of violations")
            .iter()
            .filter(|v| {
                !(undocumented_status
                    && v["severity"] == "Warning"
                    && v["message"]
                        .as_str()
                        .is_some_and(|m| m.starts_with("Unable to match the returned status code")))
            })
            .collect();
        if !unexpected.is_empty() {
            failures.push(format!("{method} {target}: violations {unexpected:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "through prism:\n{}",
        failures.join("\n")
    );
}
