//! Rate limits, latency and injected faults.

use std::time::{Duration, Instant};

use super::{api, TOKEN};
use crate::client;
use crate::{days, digest, Config, FakeGithub, ScriptedFault, World};

const VERSIONS: &str = "/orgs/acme/packages/container/app/versions";

/// `acme/app` with `count` untagged versions and a tagged newest one; returns the untagged ids.
fn world_with_versions(count: u64) -> (World, Vec<u64>) {
    let mut world = World::new().user("alice").org("acme").token(TOKEN, "alice");
    let app = world.add_package("acme", "container", "app");
    let ids = (0..count)
        .map(|n| app.add_version(&digest(n), &[], days(10 + n)).id)
        .collect();
    app.add_version(&digest(1_000), &["latest"], days(1));
    (world, ids)
}

#[test]
fn every_api_answer_carries_the_primary_budget_and_rate_limit_is_free() {
    let (world, _) = world_with_versions(1);
    let config = Config {
        rate_limit_total: 5_000,
        rate_limit_remaining: 3,
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let overview = api(&fake, "GET", "/rate_limit");
    assert_eq!(overview.json()["resources"]["core"]["remaining"], 3);
    assert_eq!(overview.json()["rate"]["used"], 4_997);
    let first = api(&fake, "GET", VERSIONS);
    assert_eq!(first.header("x-ratelimit-limit"), Some("5000"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("2"));
    assert_eq!(first.header("x-ratelimit-used"), Some("4998"));
    assert_eq!(first.header("x-ratelimit-resource"), Some("core"));
    let reset = fake.config().rate_limit_reset.to_string();
    assert_eq!(first.header("x-ratelimit-reset"), Some(reset.as_str()));
    api(&fake, "GET", VERSIONS);
    api(&fake, "GET", VERSIONS);
    let refused = api(&fake, "GET", VERSIONS);
    assert_eq!(refused.status, 403);
    assert_eq!(refused.message(), "API rate limit exceeded for user ID 1.");
    assert_eq!(refused.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(api(&fake, "GET", "/rate_limit").status, 200);
    assert_eq!(fake.rate_limited_answers(), 1);

    fake.update_config(|c| c.rate_limit_reset = 0);
    assert_eq!(
        api(&fake, "GET", VERSIONS).header("x-ratelimit-remaining"),
        Some("4999")
    );
}

#[test]
fn the_secondary_points_limit_refuses_with_retry_after() {
    let (world, ids) = world_with_versions(3);
    let config = Config {
        points_per_minute: Some(11),
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    assert_eq!(
        api(&fake, "DELETE", &format!("{VERSIONS}/{}", ids[0])).status,
        204
    );
    assert_eq!(
        api(&fake, "DELETE", &format!("{VERSIONS}/{}", ids[1])).status,
        204
    );
    assert_eq!(api(&fake, "GET", VERSIONS).status, 200);
    let refused = api(&fake, "DELETE", &format!("{VERSIONS}/{}", ids[2]));
    assert_eq!(refused.status, 403);
    assert!(refused
        .message()
        .starts_with("You have exceeded a secondary rate limit"));
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (58..=60).contains(&retry_after),
        "retry-after {retry_after}"
    );
    assert_eq!(fake.rate_limited_answers(), 1);
    assert_eq!(
        fake.world()
            .package("acme", "container", "app")
            .unwrap()
            .deleted_ids()
            .len(),
        2
    );
    assert_eq!(fake.writes(), 3);
}

#[test]
fn requests_over_the_in_flight_limit_are_refused_and_concurrency_is_measured() {
    let (world, _) = world_with_versions(1);
    let config = Config {
        latency: Duration::from_millis(300),
        max_in_flight: Some(2),
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3)
            .map(|n| {
                let fake = &fake;
                scope.spawn(move || {
                    std::thread::sleep(Duration::from_millis(50 * n));
                    api(fake, "GET", VERSIONS).status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(statuses, vec![200, 200, 403]);
    assert_eq!(fake.max_in_flight(), 2);
    assert_eq!(fake.rate_limited_answers(), 1);
}

#[test]
fn latency_delays_every_answer() {
    let (world, _) = world_with_versions(1);
    let config = Config {
        latency: Duration::from_millis(200),
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let started = Instant::now();
    api(&fake, "GET", VERSIONS);
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[test]
fn random_server_errors_change_nothing() {
    let (world, ids) = world_with_versions(2);
    let config = Config {
        server_error_rate: 1.0,
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let before = fake.world();
    for id in &ids {
        let status = api(&fake, "DELETE", &format!("{VERSIONS}/{id}")).status;
        assert!(status == 502 || status == 503, "status {status}");
    }
    assert_eq!(fake.world(), before);

    fake.update_config(|c| c.server_error_rate = 0.5);
    let statuses: Vec<u16> = (0..40)
        .map(|_| api(&fake, "GET", VERSIONS).status)
        .collect();
    let failed = statuses.iter().filter(|s| **s >= 500).count();
    assert!((5..=35).contains(&failed), "{failed} of 40 failed");
}

#[test]
fn scripted_faults_fire_on_the_nth_match_without_changing_state() {
    let (world, ids) = world_with_versions(4);
    let config = Config {
        scripted: vec![
            ScriptedFault::respond(Some("DELETE"), "/versions/", 2, 500, "boom"),
            ScriptedFault::secondary_rate_limit(Some("delete"), "/versions/", 3, 7),
        ],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let delete = |id: u64| api(&fake, "DELETE", &format!("{VERSIONS}/{id}"));
    assert_eq!(delete(ids[0]).status, 204);
    let failed = delete(ids[1]);
    assert_eq!((failed.status, failed.message().as_str()), (500, "boom"));
    let limited = delete(ids[2]);
    assert_eq!(
        (limited.status, limited.header("retry-after")),
        (403, Some("7"))
    );
    assert_eq!(delete(ids[1]).status, 204);
    let deleted = fake
        .world()
        .package("acme", "container", "app")
        .unwrap()
        .deleted_ids();
    assert_eq!(deleted, vec![ids[0], ids[1]]);
    assert_eq!(fake.rate_limited_answers(), 1);
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![204, 500, 403, 204]);
}

#[test]
fn a_hanging_request_never_answers_but_is_recorded() {
    let (world, _) = world_with_versions(1);
    let config = Config {
        scripted: vec![ScriptedFault::hang(Some("GET"), "/versions", 1)],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let auth = [("Authorization", "Bearer tok")];
    let hung = client::send(
        &fake.url(),
        "GET",
        VERSIONS,
        &auth,
        Duration::from_millis(500),
    );
    assert!(hung.is_none());
    let next = client::send(&fake.url(), "GET", VERSIONS, &auth, Duration::from_secs(5));
    assert_eq!(next.map(|r| r.status), Some(200));
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![0, 200]);
}

#[test]
fn an_echoing_fault_puts_the_requests_own_authorization_in_its_message() {
    let (world, ids) = world_with_versions(1);
    let config = Config {
        scripted: vec![ScriptedFault::echo_authorization(
            Some("DELETE"),
            "/versions/",
            1,
            401,
            "Bad credentials: {authorization}",
        )],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let echoed = api(&fake, "DELETE", &format!("{VERSIONS}/{}", ids[0]));
    assert_eq!(
        (echoed.status, echoed.message()),
        (401, format!("Bad credentials: Bearer {TOKEN}"))
    );
    // Nothing changed: the next DELETE goes through.
    assert_eq!(
        api(&fake, "DELETE", &format!("{VERSIONS}/{}", ids[0])).status,
        204
    );
}
