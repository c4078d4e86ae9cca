//! Rate limits, faults and scale, end to end: the binary against the fake GitHub when the fake
//! refuses with a secondary limit, runs out of primary budget, answers 5xx, hangs, enforces a
//! points budget and counts requests in flight, and when a listing spans several pages.

mod common;

use std::time::{Duration, Instant};

use common::{Run, RunResult, OWNER, TOKEN};
use fake_github::{days, Config, FakeGithub, ScriptedFault, World};

/// `acme`'s npm package `app` with `count` (at most 100,000) versions `1.0.0`, `1.0.1`, … from
/// oldest to newest, a minute apart; returns the world and the version ids, oldest first.
fn world_with(count: u64) -> (World, Vec<u64>) {
    let mut world = World::new().org(OWNER).user("alice").token(TOKEN, "alice");
    let app = world.add_package(OWNER, "npm", "app");
    let ids = (0..count)
        .map(|n| {
            let age = days(100) - Duration::from_secs(60 * n);
            app.add_version(&format!("1.0.{n}"), &[], age).id
        })
        .collect();
    (world, ids)
}

/// A delete run of `app` keeping the `keep` newest versions.
fn keep_latest(fake: &FakeGithub, keep: usize) -> Run {
    Run::new(fake)
        .input("package-type", "npm")
        .input("packages", "app")
        .input("keep-latest", &keep.to_string())
}

/// Asserts the fake holds exactly `deleted` as deleted and `active` as active.
fn assert_state(fake: &FakeGithub, deleted: &[u64], active: &[u64], result: &RunResult) {
    let world = fake.world();
    let app = world.package(OWNER, "npm", "app").expect("app exists");
    assert_eq!(app.deleted_ids(), deleted, "deleted\n{}", result.logs());
    assert_eq!(app.active_ids(), active, "active\n{}", result.logs());
}

/// The `deleted` output as sorted ids.
fn reported_deleted(result: &RunResult) -> Vec<u64> {
    let mut ids = result.output_json_ids("deleted");
    ids.sort_unstable();
    ids
}

#[test]
fn a_secondary_limit_answer_mid_run_is_waited_out_and_the_run_succeeds() {
    let (world, ids) = world_with(10);
    let config = Config {
        scripted: vec![ScriptedFault::secondary_rate_limit(
            Some("DELETE"),
            "/versions/",
            3,
            1,
        )],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);

    let started = Instant::now();
    let result = keep_latest(&fake, 3).run();
    let elapsed = started.elapsed();

    result.assert_success();
    assert_state(&fake, &ids[..7], &ids[7..], &result);
    assert_eq!(reported_deleted(&result), ids[..7]);
    assert_eq!(result.output_count("failed-count"), 0);
    assert_eq!(result.output_count("deferred-count"), 0);
    assert_eq!(fake.rate_limited_answers(), 1);
    // Seven deletions plus the refused one, sent again after the wait.
    assert_eq!(fake.count("DELETE", "/versions/"), 8, "{}", result.logs());
    assert!(
        elapsed >= Duration::from_secs(1),
        "retry-after 1 was not waited out ({elapsed:?})\n{}",
        result.logs()
    );
}

#[test]
fn a_primary_budget_too_small_defers_the_newest_part_and_a_second_run_finishes() {
    let (world, ids) = world_with(12);
    // The run spends 2 requests before reading the budget (owner type, one page) and keeps 25
    // in reserve: 4 deletions fit.
    let config = Config {
        rate_limit_total: 5_000,
        rate_limit_remaining: 2 + 25 + 4,
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);

    let first = keep_latest(&fake, 2).run();

    first.assert_success();
    assert_state(&fake, &ids[..4], &ids[4..], &first);
    assert_eq!(reported_deleted(&first), ids[..4]);
    assert_eq!(first.output_count("deleted-count"), 4);
    assert_eq!(first.output_count("deferred-count"), 6);
    assert_eq!(first.output_count("failed-count"), 0);
    assert!(
        first.summary.contains("**6 versions deferred**"),
        "{}",
        first.summary
    );
    assert_eq!(
        fake.rate_limited_answers(),
        0,
        "the budget was overrun\n{}",
        first.logs()
    );

    fake.update_config(|config| config.rate_limit_remaining = 5_000);
    let second = keep_latest(&fake, 2).run();

    second.assert_success();
    assert_state(&fake, &ids[..10], &ids[10..], &second);
    assert_eq!(reported_deleted(&second), ids[4..10]);
    assert_eq!(second.output_count("deferred-count"), 0);
    assert_eq!(second.output_count("failed-count"), 0);
    assert_eq!(fake.count("DELETE", "/versions/"), 10);
}

#[test]
fn injected_server_errors_are_retried_and_the_final_state_is_exact() {
    let (world, ids) = world_with(40);
    let config = Config {
        server_error_rate: 0.2,
        seed: 7,
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);

    let result = keep_latest(&fake, 5).run();

    result.assert_success();
    assert_state(&fake, &ids[..35], &ids[35..], &result);
    assert_eq!(reported_deleted(&result), ids[..35]);
    assert_eq!(result.output_count("failed-count"), 0);
    let errors = fake
        .requests()
        .iter()
        .filter(|r| matches!(r.status, 502 | 503))
        .count();
    assert!(
        errors >= 3,
        "too few 5xx injected ({errors}) to test retries"
    );
    let deletes_answered = fake
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE" && r.status == 204)
        .count();
    assert_eq!(deletes_answered, 35, "{}", result.logs());
}

#[test]
fn a_request_that_hangs_times_out_and_is_retried() {
    let (world, ids) = world_with(6);
    let config = Config {
        scripted: vec![ScriptedFault::hang(Some("DELETE"), "/versions/", 2)],
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);

    let started = Instant::now();
    let result = keep_latest(&fake, 2)
        .env("PACKAGE_RETENTION_REQUEST_TIMEOUT", "1")
        .timeout(Duration::from_secs(60))
        .run();
    let elapsed = started.elapsed();

    result.assert_success();
    assert_state(&fake, &ids[..4], &ids[4..], &result);
    assert_eq!(reported_deleted(&result), ids[..4]);
    assert_eq!(result.output_count("failed-count"), 0);
    let hung: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.status == 0)
        .collect();
    assert_eq!(hung.len(), 1, "{hung:?}");
    assert_eq!(hung[0].method, "DELETE");
    assert_eq!(fake.count("DELETE", "/versions/"), 5, "{}", result.logs());
    assert!(
        elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(20),
        "the hung request should time out after 1 s ({elapsed:?})"
    );
}

#[test]
fn deletions_run_concurrently_but_never_above_max_in_flight() {
    let (world, ids) = world_with(41);
    let config = Config {
        latency: Duration::from_millis(40),
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);

    let result = keep_latest(&fake, 1)
        .env("PACKAGE_RETENTION_MAX_IN_FLIGHT", "4")
        .run();

    result.assert_success();
    assert_state(&fake, &ids[..40], &ids[40..], &result);
    let seen = fake.max_in_flight();
    assert!(seen <= 4, "{seen} requests in flight with a cap of 4");
    assert!(
        seen >= 3,
        "deletions did not run concurrently ({seen} at most)"
    );
    assert_eq!(fake.rate_limited_answers(), 0);
}

/// Spending more points than the fake allows in a minute necessarily takes a minute when paced,
/// so this test takes about 61 s: 48 deletions (240 points) and 2 GETs against 240 a minute.
#[test]
fn pacing_keeps_a_run_that_needs_more_than_a_minute_of_points_under_the_secondary_limit() {
    let (world, ids) = world_with(49);
    let config = Config {
        points_per_minute: Some(240),
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);

    let started = Instant::now();
    let result = keep_latest(&fake, 1)
        .env("PACKAGE_RETENTION_POINTS_PER_MINUTE", "240")
        .timeout(Duration::from_secs(150))
        .run();
    let elapsed = started.elapsed();

    result.assert_success();
    assert_eq!(
        fake.rate_limited_answers(),
        0,
        "secondary-limit answers while paced at the fake's budget\n{}",
        result.logs()
    );
    assert_state(&fake, &ids[..48], &ids[48..], &result);
    assert_eq!(fake.count("DELETE", "/versions/"), 48);
    // Paced at 97% of the budget after a 3% burst: about 61 s, not much slower.
    assert!(
        elapsed < Duration::from_secs(80),
        "pacing slower than the budget allows: {elapsed:?}"
    );
}

#[test]
fn listing_takes_exactly_one_request_per_page_and_fetches_pages_concurrently() {
    let (world, _) = world_with(1_050);
    let config = Config {
        latency: Duration::from_millis(30),
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);

    let result = keep_latest(&fake, 0)
        .input("versions", "no-such-version")
        .input("dry-run", "true")
        .run();

    result.assert_success();
    let requests = fake.requests();
    let mut pages: Vec<String> = requests
        .iter()
        .filter(|r| r.path.ends_with("/packages/npm/app/versions"))
        .map(|r| {
            r.query
                .split('&')
                .find_map(|pair| pair.strip_prefix("page="))
                .unwrap_or("none")
                .to_owned()
        })
        .collect();
    pages.sort_by_key(|page| page.parse::<u32>().unwrap_or(0));
    let expected: Vec<String> = (1..=11).map(|page| page.to_string()).collect();
    assert_eq!(
        pages, expected,
        "one GET per page of 100 for 1,050 versions"
    );
    assert!(requests
        .iter()
        .filter(|r| r.path.ends_with("/versions"))
        .all(|r| r.query.contains("per_page=100") && r.status == 200));
    let others: Vec<String> = requests
        .iter()
        .filter(|r| !r.path.ends_with("/versions"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(others, ["GET /users/acme", "GET /rate_limit"]);
    assert_eq!(fake.writes(), 0);
    assert!(
        fake.max_in_flight() >= 3,
        "pages 2..11 were not fetched concurrently"
    );
    assert_eq!(result.output_count("deleted-count"), 0);
}
