//! The token stays home and answers stay bounded, end to end: `Link`s and registry realms on
//! other origins, redirects, huge and endless bodies (with the binary's peak memory), an absurd
//! last page, requests that cannot succeed, `config` paths that are not small files, bad names.

mod common;

use std::time::{Duration, Instant};

use common::hostile::{run_with_peak_rss, Hostile, HostileServer};
use common::{Run, RunResult, OWNER, TOKEN};
use fake_github::{days, digest, Config, FakeGithub, FaultAction, ScriptedFault, World};

/// Organization `acme` with npm package `lib` (three versions) and container package `app`
/// (one tagged image, two untagged versions).
fn world() -> World {
    let mut world = World::new().org(OWNER).user("alice").token(TOKEN, "alice");
    let lib = world.add_package(OWNER, "npm", "lib");
    for (name, age) in [("1.0.0", 3), ("1.1.0", 2), ("1.2.0", 1)] {
        lib.add_version(name, &[], days(age));
    }
    let app = world.add_package(OWNER, "container", "app");
    app.add_version(&digest(1), &["v1"], days(1));
    app.add_version(&digest(2), &[], days(2));
    app.add_version(&digest(3), &[], days(3));
    world
}

fn npm_run(fake: &FakeGithub) -> Run {
    Run::new(fake)
        .input("owner-type", "org")
        .input("package-type", "npm")
        .input("packages", "lib")
}

fn container_run(fake: &FakeGithub) -> Run {
    Run::new(fake)
        .input("owner-type", "org")
        .input("packages", "app")
        .input("tag-selection", "untagged")
}

/// What the fake answers to the first page of `lib`'s versions, read with the token.
fn first_page(fake: &FakeGithub) -> String {
    let reply = fake_github::client::send(
        &fake.url(),
        "GET",
        "/orgs/acme/packages/npm/lib/versions?state=active&per_page=100&page=1",
        &[("Authorization", &format!("Bearer {TOKEN}"))],
        Duration::from_secs(10),
    )
    .expect("the fake answers");
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

/// The fake answering the first listing of `lib` with `status`, the headers `headers` makes
/// from the fake's URL, and `body` (the true first page when empty).
fn scripted_listing(
    status: u16,
    headers: impl Fn(&str) -> Vec<(String, String)>,
    body: &str,
) -> FakeGithub {
    let fake = FakeGithub::start(world());
    let body = if body.is_empty() {
        first_page(&fake)
    } else {
        body.to_owned()
    };
    let headers = headers(&fake.url());
    fake.update_config(|config| {
        config.scripted.push(ScriptedFault {
            method: Some("GET".into()),
            path_contains: "/packages/npm/lib/versions".into(),
            nth: 1,
            action: FaultAction::Respond {
                status,
                headers,
                body,
            },
        })
    });
    fake
}

fn assert_nothing_changed(fake: &FakeGithub, result: &RunResult) {
    assert_eq!(fake.writes(), 0, "{}", result.logs());
    assert_eq!(result.output("deleted"), "[]");
    assert_eq!(result.output("version-ids"), "");
}

fn link(url: &str, rel: &str) -> (String, String) {
    ("link".into(), format!("<{url}>; rel=\"{rel}\""))
}

#[test]
fn a_link_to_another_origin_is_an_error_for_the_package_not_a_request() {
    let foreign = FakeGithub::start(world());
    let cursor = format!(
        "{}/orgs/acme/packages/npm/lib/versions?after=abc",
        foreign.url()
    );
    let fake = scripted_listing(200, |_| vec![link(&cursor, "next")], "");

    let result = npm_run(&fake).run();

    assert!(foreign.requests().is_empty(), "the token went to {cursor}");
    assert_nothing_changed(&fake, &result);
    assert_ne!(result.code, 0, "{}", result.logs());
    assert!(
        result.stdout.contains("another origin"),
        "{}",
        result.logs()
    );
}

#[test]
fn a_last_link_to_another_origin_is_refused_too() {
    let foreign = FakeGithub::start(world());
    let last = format!(
        "{}/orgs/acme/packages/npm/lib/versions?page=3",
        foreign.url()
    );
    let fake = scripted_listing(200, |_| vec![link(&last, "last")], "");

    let result = npm_run(&fake).run();

    assert!(foreign.requests().is_empty());
    assert_nothing_changed(&fake, &result);
    assert!(
        result.stdout.contains("another origin"),
        "{}",
        result.logs()
    );
}

#[test]
fn an_absurd_last_page_is_an_error_not_a_billion_requests() {
    let fake = scripted_listing(
        200,
        |url| {
            let last = format!(
                "{url}/orgs/acme/packages/npm/lib/versions?state=active&per_page=100&page=999999999"
            );
            vec![link(&last, "last")]
        },
        "",
    );

    let before = fake.count("GET", "/packages/npm/lib/versions");

    let result = npm_run(&fake).run();

    assert_nothing_changed(&fake, &result);
    let listings = fake.count("GET", "/packages/npm/lib/versions") - before;
    assert_eq!(listings, 1, "{}", result.logs());
    assert!(
        result.stdout.contains("beyond 10000 pages"),
        "{}",
        result.logs()
    );
}

#[test]
fn a_redirect_is_not_followed() {
    let foreign = FakeGithub::start(world());
    let location = format!(
        "{}/orgs/acme/packages/npm/lib/versions?state=active&per_page=100&page=1",
        foreign.url()
    );
    let fake = scripted_listing(
        302,
        |_| vec![("location".into(), location.clone())],
        "{\"message\": \"Moved\"}",
    );

    let result = npm_run(&fake).run();

    assert!(foreign.requests().is_empty(), "followed to {location}");
    assert_nothing_changed(&fake, &result);
    assert!(result.stdout.contains("302"), "{}", result.logs());
}

#[test]
fn a_registry_realm_on_another_host_gets_no_token_and_the_package_fails_closed() {
    let collector = HostileServer::start(|_| Hostile::json(200, "{\"token\": \"stolen\"}"));
    // Same machine, another host name: the registry is 127.0.0.1, the realm `localhost`.
    let realm = collector.url().replace("127.0.0.1", "localhost");
    let fake = FakeGithub::start_with(
        world(),
        Config {
            scripted: vec![ScriptedFault {
                method: Some("GET".into()),
                path_contains: "/v2/".into(),
                nth: 1,
                action: FaultAction::Respond {
                    status: 401,
                    headers: vec![(
                        "www-authenticate".into(),
                        format!("Bearer realm=\"{realm}/token\",service=\"evil\""),
                    )],
                    body: "{\"errors\": []}".into(),
                },
            }],
            ..Config::default()
        },
    );

    let result = container_run(&fake).run();

    assert!(
        collector.requests().is_empty(),
        "{:?}",
        collector.requests()
    );
    assert_nothing_changed(&fake, &result);
    result.assert_success();
    let warnings = result.annotations("warning");
    assert!(
        warnings.iter().any(|w| w.contains("another host")),
        "{}",
        result.logs()
    );
}

#[test]
fn a_huge_or_endless_api_body_is_an_error_read_in_bounded_memory() {
    const GIB: u64 = 1 << 30;
    for announce in [false, true] {
        let server = HostileServer::start(move |_| Hostile::Huge {
            prefix: "[".into(),
            length: GIB,
            announce,
        });
        let run = Run::new(&FakeGithub::start(world()))
            .env("GITHUB_API_URL", &server.url())
            .input("registry-url", &server.url())
            .input("owner-type", "org")
            .input("package-type", "npm")
            .input("packages", "lib");

        let (result, peak) = run_with_peak_rss(run);

        assert_eq!(result.code, 1, "{}", result.logs());
        assert!(result.stdout.contains("32 MiB"), "{}", result.logs());
        // An answer over the limit is final: not asked again.
        let listings = server.requests();
        let listings: Vec<&String> = listings
            .iter()
            .filter(|r| r.contains("/versions"))
            .collect();
        assert_eq!(listings.len(), 1, "{listings:?}");
        assert!(
            peak < 100 << 20,
            "peak RSS {} MiB on a 1 GiB body (announced: {announce})",
            peak >> 20
        );
        println!(
            "peak RSS on a 1 GiB body (announced: {announce}): {} MiB",
            peak >> 20
        );
    }
}

#[test]
fn a_manifest_over_4_mib_fails_its_package_closed() {
    let registry = HostileServer::start(|head| {
        if head.starts_with("GET /v2/ ") {
            Hostile::json(200, "{}")
        } else {
            Hostile::Huge {
                prefix: "{\"schemaVersion\": 2, \"x\": \"".into(),
                length: 64 << 20,
                announce: false,
            }
        }
    });
    let fake = FakeGithub::start(world());

    let result = container_run(&fake)
        .input("registry-url", &registry.url())
        .run();

    assert_nothing_changed(&fake, &result);
    result.assert_success();
    let warnings = result.annotations("warning");
    assert!(
        warnings.iter().any(|w| w.contains("4 MiB")),
        "{}",
        result.logs()
    );
}

#[test]
fn a_request_that_cannot_succeed_is_not_retried() {
    // A registry token with a control character cannot be put in a header: the manifest
    // request can never be sent, so it is not tried again (five retries would wait 1+2+4+8+16 s).
    let fake = FakeGithub::start_with(
        world(),
        Config {
            scripted: vec![ScriptedFault {
                method: Some("GET".into()),
                path_contains: "/token".into(),
                nth: 0,
                action: FaultAction::Respond {
                    status: 200,
                    headers: Vec::new(),
                    body: "{\"token\": \"reg\\u0001istry\"}".into(),
                },
            }],
            ..Config::default()
        },
    );
    let started = Instant::now();

    let result = container_run(&fake)
        .env("PACKAGE_RETENTION_RETRY_BASE_MS", "1000")
        .run();

    assert_nothing_changed(&fake, &result);
    result.assert_success();
    assert_eq!(fake.count("GET", "/manifests/"), 0, "{}", result.logs());
    let warnings = result.annotations("warning");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("invalid") && !w.contains("times")),
        "{}",
        result.logs()
    );
    assert!(started.elapsed() < Duration::from_secs(20));

    // A token a header cannot carry: nothing is sent at all.
    let fresh = FakeGithub::start(world());
    let result = npm_run(&fresh).input("token", "tok\u{1}en").run();
    assert_eq!(result.code, 1, "{}", result.logs());
    assert!(fresh.requests().is_empty(), "{}", result.logs());
}

fn assert_bad_config(result: &RunResult, path: &str, problem: &str) {
    result.assert_code(2);
    let errors = result.annotations("error");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("`config`") && e.contains(path) && e.contains(problem)),
        "{}",
        result.logs()
    );
}

#[test]
fn a_config_path_that_is_not_a_small_regular_file_is_bad_input() {
    let fake = FakeGithub::start(world());
    // /dev/zero would grow without end; a FIFO would hang until a writer came.
    let result = npm_run(&fake).input("config", "/dev/zero").run();
    assert_bad_config(&result, "/dev/zero", "not a regular file");

    let dir = std::env::temp_dir().join(format!("trust-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("fifo");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let result = npm_run(&fake)
        .input("config", fifo.to_str().unwrap())
        .timeout(Duration::from_secs(20))
        .run();
    assert_bad_config(&result, "fifo", "not a regular file");

    let big = dir.join("big.yml");
    std::fs::write(
        &big,
        format!("rules:\n  - keep-latest: 1\n{}", "#".repeat(1 << 20)),
    )
    .unwrap();
    let result = npm_run(&fake).input("config", big.to_str().unwrap()).run();
    assert_bad_config(&result, "big.yml", "1 MiB");

    // Any readable file that is not a config: its content never reaches the log.
    let secret = dir.join("secret.txt");
    std::fs::write(
        &secret,
        "password: hunter2-s3cr3t\nAWS_KEY: AKIA-s3cr3t\nnot: [yaml\n",
    )
    .unwrap();
    let result = npm_run(&fake)
        .input("config", secret.to_str().unwrap())
        .run();
    assert_bad_config(&result, "secret.txt", "line ");
    assert!(!result.stdout.contains("s3cr3t") && !result.stderr.contains("s3cr3t"));
    let secret_map = dir.join("secret.yml");
    std::fs::write(&secret_map, "AWS_KEY: AKIA-s3cr3t\n").unwrap();
    let result = npm_run(&fake)
        .input("config", secret_map.to_str().unwrap())
        .run();
    assert_bad_config(&result, "secret.yml", "top-level key");
    assert!(!result.stdout.contains("AKIA") && !result.stdout.contains("AWS_KEY"));
    assert!(fake.requests().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dot_segments_and_foreign_characters_in_package_names_are_bad_input() {
    let fake = FakeGithub::start(world());
    for name in ["..", ".", "lib/../../user", "lib%2F..", "lib\n::warning::x"] {
        let result = npm_run(&fake).input("packages", name).run();
        result.assert_code(2);
        let errors = result.annotations("error");
        assert!(
            errors.iter().any(|e| e.contains("`packages`")),
            "{name:?}: {}",
            result.logs()
        );
    }
    assert!(fake.requests().is_empty());
}

#[test]
fn a_listed_name_github_never_gives_is_skipped_with_a_warning_never_put_in_a_path() {
    let mut world = world();
    for name in ["..", "lib\r\n::add-mask::x", "lib%2e%2e"] {
        world
            .add_package(OWNER, "npm", name)
            .add_version("9.9.9", &[], days(1));
    }
    let fake = FakeGithub::start(world);

    let result = npm_run(&fake)
        .input("packages", "*")
        .input("keep-latest", "1")
        .run();

    result.assert_success();
    let skipped = result
        .annotations("warning")
        .iter()
        .filter(|w| w.contains("not a package name"))
        .count();
    assert_eq!(skipped, 3, "{}", result.logs());
    for request in fake.requests() {
        assert!(
            !request.path.contains("..")
                && !request.path.contains("%2e")
                && !request.path.contains("add-mask"),
            "{request:?}"
        );
    }
    assert_eq!(fake.count("DELETE", "/packages/npm/lib/versions/"), 2);
}
