//! The contract check: the real binary, run as the Actions runner runs it, talks to the fake
//! GitHub through Stoplight Prism in proxy mode with GitHub's own OpenAPI description
//! (`../shared/github-openapi/packages.json`) and `--errors`, so that any request the action
//! sends or any answer the fake gives that breaks the description becomes an error answer
//! (422 for a request, 500 for a response) with an `sl-violations` header.
//!
//! ```text
//! binary --GITHUB_API_URL--> Recorder --> Prism proxy --errors --> fake GitHub
//!        --registry-url------------------------------------------> fake GitHub (OCI routes)
//! ```
//!
//! The [`Recorder`] is a small HTTP/1.1 relay in front of Prism that keeps every exchange
//! (method, target, status, `sl-violations`), so each test can assert, besides what the run
//! did to the fake's state:
//!
//! - no answer carried `sl-violations` (not even a warning), none was a Prism error (422, 5xx),
//!   and the binary's logs quote no Prism error;
//! - Prism's own log has no violation and no terminated request;
//! - every query parameter the binary sends is one the description documents for the route
//!   (Prism does not check this: it accepts unknown query parameters silently), apart from the
//!   one documented gap in [`KNOWN_DOCUMENTATION_GAPS`];
//! - together, the scenarios touch every route the action uses, in all three namespaces.
//!
//! The registry routes (`/v2/...`, `/token`) are not in the description: `registry-url` points
//! at the fake directly.
//!
//! Outside this contract, on purpose: GitHub's real but undocumented answers, the 400 of the
//! deletion rules (last version, last tagged version, more than 5000 downloads) and the 403
//! rate-limit refusals on routes that document only 200. The description has no such status
//! for those routes, so Prism would rightly flag them; the scenarios never trigger them
//! (`tests/fake_prism.rs` covers how the fake answers them).
//!
//! Ignored by default (needs Prism):
//! `PRISM_BIN=.ci/node_modules/.bin/prism cargo test --test contract -- --ignored`
//! (`bash .ci/run contract` does this). `OPENAPI_SPEC` overrides the description's path.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Run, RunResult};
use fake_github::client::send;
use fake_github::{days, digest, Config, FakeGithub, Manifest, ScriptedFault, World};
use serde_json::Value;

const ORG: &str = "acme";
const USER: &str = "alice";
/// A classic PAT of `alice`: `GET /user` answers, so her own packages go through `/user`.
const PAT: &str = "tok";
/// A `GITHUB_TOKEN`-like token of `alice`: `GET /user` is refused (403), so her packages go
/// through `/users/alice`.
const INSTALLATION: &str = "ghs";

/// Query parameters GitHub accepts on a route whose description does not list them. GitHub's
/// `GET /users/{username}/packages/{package_type}/{package_name}/versions` pages and filters
/// like its `/orgs` and `/user` twins (which document `page`, `per_page` and `state`); without
/// them a restore run could not list deleted versions, so the binary keeps sending them.
const KNOWN_DOCUMENTATION_GAPS: [(&str, &str, &[&str]); 1] = [(
    "GET",
    "/users/{username}/packages/{package_type}/{package_name}/versions",
    &["page", "per_page", "state"],
)];

// ------------------------------------------------------------------------------- the description

fn spec_path() -> PathBuf {
    std::env::var_os("OPENAPI_SPEC").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/github-openapi/packages.json"),
        PathBuf::from,
    )
}

/// One operation of the description.
struct Operation {
    method: String,
    template: String,
    query: BTreeSet<String>,
}

impl Operation {
    fn matches(&self, method: &str, path: &str) -> bool {
        if !self.method.eq_ignore_ascii_case(method) {
            return false;
        }
        let want: Vec<&str> = self.template.split('/').collect();
        let got: Vec<&str> = path.split('/').collect();
        want.len() == got.len()
            && want
                .iter()
                .zip(&got)
                .all(|(w, g)| (w.starts_with('{') && !g.is_empty()) || w == g)
    }
}

fn operations() -> Vec<Operation> {
    let path = spec_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read the description {}: {e}", path.display()));
    let spec: Value = serde_json::from_str(&text).expect("the description is JSON");
    let mut operations = Vec::new();
    for (template, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            if method == "parameters" {
                continue;
            }
            let query = operation["parameters"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|p| match p["$ref"].as_str() {
                    Some(reference) => {
                        let name = reference.rsplit('/').next().expect("a $ref name");
                        &spec["components"]["parameters"][name]
                    }
                    None => p,
                })
                .filter(|p| p["in"] == "query")
                .map(|p| p["name"].as_str().expect("a parameter name").to_owned())
                .collect();
            operations.push(Operation {
                method: method.to_uppercase(),
                template: template.clone(),
                query,
            });
        }
    }
    assert!(operations.len() > 20, "too few operations in {path:?}");
    operations
}

// ------------------------------------------------------------------------------- Prism

/// A Prism proxy in front of `upstream`, killed on drop (also when a test panics).
struct Prism {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Prism {
    fn start(upstream: &str) -> Prism {
        let Ok(prism_bin) = std::env::var("PRISM_BIN") else {
            panic!("set PRISM_BIN to the prism executable (bash .ci/run contract does)");
        };
        let port = free_port();
        let log = std::env::temp_dir().join(format!(
            "package-retention-prism-{}-{port}.log",
            std::process::id()
        ));
        let log_file = std::fs::File::create(&log).expect("create the Prism log");
        let child = Command::new(&prism_bin)
            .arg("proxy")
            .arg(spec_path())
            .arg(upstream)
            .args(["--errors", "--host", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("start {prism_bin}: {e}"));
        let mut prism = Prism {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = prism.child.try_wait() {
                panic!("prism exited ({status}):\n{}", prism.log_text());
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "prism did not listen within 90 s:\n{}",
                prism.log_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        prism
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Lines of Prism's log that report a violation or a request it terminated with an error.
    fn complaints(&self) -> Vec<String> {
        self.log_text()
            .lines()
            .filter(|line| {
                line.contains("Violation")
                    || line.contains("✖")
                    || line.contains("terminated with error")
            })
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

// ------------------------------------------------------------------------------- the recorder

/// One request relayed to Prism, and what Prism answered.
#[derive(Clone, Debug)]
struct Exchange {
    method: String,
    target: String,
    /// 0 when Prism gave no answer.
    status: u16,
    violations: Option<String>,
    body: String,
}

impl Exchange {
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    fn query_names(&self) -> Vec<String> {
        self.target
            .split_once('?')
            .map(|(_, query)| {
                query
                    .split('&')
                    .filter(|pair| !pair.is_empty())
                    .map(|pair| pair.split('=').next().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// An HTTP/1.1 relay (keep-alive, bodiless requests as the binary sends them) in front of
/// Prism that records every exchange.
struct Recorder {
    url: String,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl Recorder {
    fn start(prism_url: &str) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the recorder");
        let port = listener.local_addr().expect("recorder address").port();
        let exchanges = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (upstream, log, stopped) = (prism_url.to_owned(), exchanges.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (upstream, log) = (upstream.clone(), log.clone());
                std::thread::spawn(move || relay(stream, &upstream, &log));
            }
        });
        Recorder {
            url: format!("http://127.0.0.1:{port}"),
            exchanges,
            stop,
            port,
        }
    }

    fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Serves one client connection: request after request, each sent on to Prism.
fn relay(stream: TcpStream, upstream: &str, log: &Mutex<Vec<Exchange>>) {
    let mut writer = match stream.try_clone() {
        Ok(writer) => writer,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            return;
        };
        let (method, target) = (method.to_owned(), target.to_owned());
        let mut headers = Vec::new();
        let mut body_length = 0usize;
        let mut close = false;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let Some((name, value)) = line.split_once(':') else {
                return;
            };
            let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
            if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
                close = true;
            }
            if name.eq_ignore_ascii_case("content-length") {
                body_length = value.parse().unwrap_or(0);
            }
            let hop_by_hop = ["host", "connection", "content-length", "keep-alive"]
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h));
            if !hop_by_hop {
                headers.push((name, value));
            }
        }
        let mut body = vec![0; body_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        assert!(
            body.is_empty(),
            "the recorder relays bodiless requests only"
        );
        let header_refs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let reply = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            send(
                upstream,
                &method,
                &target,
                &header_refs,
                Duration::from_secs(60),
            )
        }))
        .ok()
        .flatten();
        let exchange = Exchange {
            method: method.clone(),
            target: target.clone(),
            status: reply.as_ref().map_or(0, |r| r.status),
            violations: reply
                .as_ref()
                .and_then(|r| r.header("sl-violations").map(str::to_owned)),
            body: reply.as_ref().map(|r| r.body.clone()).unwrap_or_default(),
        };
        log.lock().unwrap_or_else(|p| p.into_inner()).push(exchange);
        let Some(reply) = reply else { return };
        let mut head = format!("HTTP/1.1 {} Relayed\r\n", reply.status);
        for (name, value) in &reply.headers {
            let skip = [
                "content-length",
                "transfer-encoding",
                "connection",
                "keep-alive",
            ]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h));
            if !skip {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        if reply.status != 204 && reply.status != 304 {
            head.push_str(&format!("content-length: {}\r\n", reply.body.len()));
        }
        head.push_str(if close {
            "connection: close\r\n\r\n"
        } else {
            "connection: keep-alive\r\n\r\n"
        });
        let sent = writer
            .write_all(head.as_bytes())
            .and_then(|()| writer.write_all(reply.body.as_bytes()))
            .and_then(|()| writer.flush());
        if sent.is_err() || close {
            return;
        }
    }
}

// ------------------------------------------------------------------------------- the setup

/// The fake, Prism in front of it, and the recorder in front of Prism.
struct Contract {
    fake: FakeGithub,
    // Field order is drop order: the recorder stops before Prism is killed.
    recorder: Recorder,
    prism: Prism,
    /// Every run's logs, to look for Prism errors the binary quoted.
    runs: Vec<RunResult>,
}

impl Contract {
    fn start(world: World, config: Config) -> Contract {
        let fake = FakeGithub::start_with(world, config);
        let prism = Prism::start(&fake.url());
        let recorder = Recorder::start(&prism.url);
        Contract {
            fake,
            recorder,
            prism,
            runs: Vec::new(),
        }
    }

    /// A run of the binary with the API through Prism, the registry at the fake directly.
    fn run(&self) -> Run {
        Run::new(&self.fake)
            .env("GITHUB_API_URL", &self.recorder.url)
            .input("registry-url", &self.fake.url())
    }

    /// Runs and keeps the result for [`Contract::assert_clean`].
    fn keep(&mut self, run: Run) -> RunResult {
        let result = run.run();
        self.runs.push(result.clone());
        result
    }

    /// Everything the check finds wrong with what went through Prism so far.
    fn problems(&self, operations: &[Operation]) -> Vec<String> {
        let mut problems = Vec::new();
        for exchange in self.recorder.exchanges() {
            let what = format!("{} {}", exchange.method, exchange.target);
            if let Some(violations) = &exchange.violations {
                problems.push(format!(
                    "{what}: {} with sl-violations {violations}",
                    exchange.status
                ));
            }
            if exchange.status == 0 || exchange.status == 422 || exchange.status >= 500 {
                problems.push(format!(
                    "{what}: Prism answered {}: {}",
                    exchange.status, exchange.body
                ));
            }
            let Some(operation) = operations
                .iter()
                .find(|o| o.matches(&exchange.method, exchange.path()))
            else {
                problems.push(format!("{what}: no such route in the description"));
                continue;
            };
            let gap: &[&str] = KNOWN_DOCUMENTATION_GAPS
                .iter()
                .find(|(m, t, _)| *m == operation.method && *t == operation.template)
                .map_or(&[], |(_, _, names)| names);
            for name in exchange.query_names() {
                if !operation.query.contains(&name) && !gap.contains(&name.as_str()) {
                    problems.push(format!(
                        "{what}: query parameter `{name}` is not documented for {} {}",
                        operation.method, operation.template
                    ));
                }
            }
        }
        for line in self.prism.complaints() {
            problems.push(format!("prism log: {line}"));
        }
        for result in &self.runs {
            let logs = result.logs();
            if logs.contains("stoplight") || logs.contains("sl-violations") {
                problems.push(format!("a run quoted a Prism error:\n{logs}"));
            }
        }
        problems
    }

    /// Zero violations, and the routes (as templates) that went through Prism.
    fn assert_clean(&self) -> BTreeSet<String> {
        let operations = operations();
        let problems = self.problems(&operations);
        assert!(
            problems.is_empty(),
            "the contract is broken:\n{}",
            problems.join("\n")
        );
        let exchanges = self.recorder.exchanges();
        assert!(!exchanges.is_empty(), "nothing went through Prism");
        exchanges
            .iter()
            .filter_map(|e| {
                operations
                    .iter()
                    .find(|o| o.matches(&e.method, e.path()))
                    .map(|o| format!("{} {}", o.method, o.template))
            })
            .collect()
    }
}

/// Fails unless every one of `expected` (`METHOD /template`) went through Prism.
fn assert_covered(seen: &BTreeSet<String>, expected: &[String]) {
    let missing: Vec<&String> = expected.iter().filter(|r| !seen.contains(*r)).collect();
    assert!(
        missing.is_empty(),
        "routes the scenarios should have used but did not: {missing:?}\nseen: {seen:#?}"
    );
}

/// The package routes of one namespace (`/orgs/{org}`, `/users/{username}` or `/user`) that
/// the action uses.
fn package_routes(prefix: &str) -> Vec<String> {
    let package = format!("{prefix}/packages/{{package_type}}/{{package_name}}");
    vec![
        format!("GET {prefix}/packages"),
        format!("GET {package}/versions"),
        format!("DELETE {package}/versions/{{package_version_id}}"),
        format!("POST {package}/versions/{{package_version_id}}/restore"),
        format!("DELETE {package}"),
        format!("POST {package}/restore"),
    ]
}

// ------------------------------------------------------------------------------- scenarios

/// Every test's world: the organization `acme`, the user `alice` with a PAT and a
/// `GITHUB_TOKEN`-like token, and three npm packages owned by `owner`.
fn world_with_packages(owner: &str) -> World {
    let mut world = World::new()
        .org(ORG)
        .user(USER)
        .user("bob")
        .token(PAT, USER)
        .installation_token(INSTALLATION, USER);
    let a = world.add_package(owner, "npm", "lib-a");
    for (name, age) in [
        ("1.0.0", 40),
        ("1.1.0", 30),
        ("2.0.0-rc.1", 20),
        ("2.0.0", 10),
    ] {
        a.add_version(name, &[], days(age));
    }
    let b = world.add_package(owner, "npm", "lib-b");
    for (name, age) in [("1.0.0", 40), ("1.1.0", 30)] {
        b.add_version(name, &[], days(age));
    }
    let solo = world.add_package(owner, "npm", "solo");
    for (name, age) in [("0.1.0", 50), ("0.2.0", 45)] {
        solo.add_version(name, &[], days(age));
    }
    // Someone else's package: must not be listed or touched.
    world
        .add_package("bob", "npm", "lib-bob")
        .add_version("1.0.0", &[], days(40));
    world
}

fn ids_named(world: &World, owner: &str, package: &str, names: &[&str]) -> Vec<u64> {
    let package = world.package(owner, "npm", package).expect("the package");
    let mut ids: Vec<u64> = names
        .iter()
        .map(|name| package.version_named(name).expect("the version").id)
        .collect();
    ids.sort_unstable();
    ids
}

fn sorted(mut ids: Vec<u64>) -> Vec<u64> {
    ids.sort_unstable();
    ids
}

/// The whole life cycle in one namespace, each step through Prism: a dry run with a glob, the
/// real delete, a restore of exactly those ids, a whole-package delete, a package restore.
fn life_cycle(contract: &mut Contract, owner: &str, token: &str, owner_type: &str) {
    let before = contract.fake.world();
    let base = |contract: &Contract| {
        contract
            .run()
            .input("owner", owner)
            .input("token", token)
            .input("owner-type", owner_type)
            .input("package-type", "npm")
    };
    let select = |run: Run| {
        run.input("packages", "lib-*")
            .input("semver", "<2.0.0")
            .input("keep-latest", "1")
    };
    // lib-a: <2.0.0 selects 1.0.0, 1.1.0 and 2.0.0-rc.1 (by precedence); the newest is kept.
    // lib-b: 1.0.0 and 1.1.0; the newest is kept.
    let mut expected = ids_named(&before, owner, "lib-a", &["1.0.0", "1.1.0"]);
    expected.extend(ids_named(&before, owner, "lib-b", &["1.0.0"]));
    let expected = sorted(expected);

    // 1. Dry run: plans through the glob, changes nothing.
    let result = contract.keep(select(base(contract)).input("dry-run", "true"));
    result.assert_success();
    assert_eq!(
        contract.fake.writes(),
        0,
        "a dry run wrote:\n{}",
        result.logs()
    );
    assert_eq!(contract.fake.world(), before);
    assert_eq!(
        sorted(result.output_json_ids("deleted")),
        expected,
        "{}",
        result.logs()
    );

    // 2. The real delete.
    let result = contract.keep(select(base(contract)));
    result.assert_success();
    let world = contract.fake.world();
    let mut deleted = world.package(owner, "npm", "lib-a").unwrap().deleted_ids();
    deleted.extend(world.package(owner, "npm", "lib-b").unwrap().deleted_ids());
    assert_eq!(sorted(deleted), expected, "{}", result.logs());
    assert_eq!(sorted(result.output_ids("version-ids")), expected);
    assert_eq!(result.output_count("deleted-count"), 3);
    assert_eq!(result.output_count("failed-count"), 0);

    // 3. Restore exactly those ids.
    let ids = result.output("version-ids").to_owned();
    let result = contract.keep(
        base(contract)
            .input("mode", "restore")
            .input("packages", "lib-*")
            .input("version-ids", &ids),
    );
    result.assert_success();
    assert_eq!(sorted(result.output_ids("version-ids")), expected);
    assert_eq!(result.output_count("restored-count"), 3);
    let world = contract.fake.world();
    for package in ["lib-a", "lib-b"] {
        assert!(
            world
                .package(owner, "npm", package)
                .unwrap()
                .deleted_ids()
                .is_empty(),
            "{package} still has deleted versions:\n{}",
            result.logs()
        );
    }

    // 4. Nothing would remain of `solo`: one DELETE of the whole package.
    let solo_ids = ids_named(&before, owner, "solo", &["0.1.0", "0.2.0"]);
    let result = contract.keep(
        base(contract)
            .input("packages", "solo")
            .input("delete-empty-package", "true"),
    );
    result.assert_success();
    assert!(
        contract
            .fake
            .world()
            .package(owner, "npm", "solo")
            .is_none()
            || contract
                .fake
                .world()
                .package(owner, "npm", "solo")
                .unwrap()
                .is_deleted(),
        "solo is still there:\n{}",
        result.logs()
    );
    assert_eq!(sorted(result.output_ids("version-ids")), solo_ids);

    // 5. Restore brings the package back whole.
    let result = contract.keep(
        base(contract)
            .input("mode", "restore")
            .input("packages", "solo")
            .input("version-ids", &format!("{},{}", solo_ids[0], solo_ids[1])),
    );
    result.assert_success();
    let world = contract.fake.world();
    let solo = world.package(owner, "npm", "solo").expect("solo");
    assert!(!solo.is_deleted(), "solo not restored:\n{}", result.logs());
    assert_eq!(sorted(solo.active_ids()), solo_ids);
    assert_eq!(
        result.output_count("restored-count"),
        2,
        "{}",
        result.logs()
    );

    // Bob's package was neither listed as ours nor touched.
    assert_eq!(
        world.package("bob", "npm", "lib-bob"),
        before.package("bob", "npm", "lib-bob")
    );
}

#[test]
#[ignore = "needs Stoplight Prism: PRISM_BIN=... cargo test --test contract -- --ignored"]
fn organization_namespace_through_prism() {
    let mut contract = Contract::start(world_with_packages(ORG), Config::default());
    // owner-type auto: GET /users/acme says Organization.
    life_cycle(&mut contract, ORG, PAT, "auto");
    let seen = contract.assert_clean();
    let mut expected = package_routes("/orgs/{org}");
    expected.extend(["GET /users/{username}".into(), "GET /rate_limit".into()]);
    assert_covered(&seen, &expected);
}

#[test]
#[ignore = "needs Stoplight Prism: PRISM_BIN=... cargo test --test contract -- --ignored"]
fn repository_and_keep_latest_per_through_prism() {
    let mut world = world_with_packages(ORG);
    world
        .package_mut(ORG, "npm", "lib-a")
        .unwrap()
        .linked_to("acme/libs");
    world
        .package_mut(ORG, "npm", "lib-b")
        .unwrap()
        .linked_to("acme/other");
    world
        .package_mut(ORG, "npm", "solo")
        .unwrap()
        .linked_to("acme/libs");
    let before = world.clone();
    let mut contract = Contract::start(world, Config::default());
    // The listing (for the glob) and the GET of `solo` (an exact name) carry `repository`.
    let result = contract.keep(
        contract
            .run()
            .input("package-type", "npm")
            .input("packages", "lib-*, solo")
            .input("repository", "libs")
            .input("keep-latest", "1")
            .input("keep-latest-per", "major"),
    );
    result.assert_success();
    // lib-a: 1.x keeps 1.1.0, 2.x keeps 2.0.0; solo: 0.x keeps 0.2.0; lib-b is another repository's.
    let mut expected = ids_named(&before, ORG, "lib-a", &["1.0.0", "2.0.0-rc.1"]);
    expected.extend(ids_named(&before, ORG, "solo", &["0.1.0"]));
    assert_eq!(
        sorted(result.output_ids("version-ids")),
        sorted(expected),
        "{}",
        result.logs()
    );
    let world = contract.fake.world();
    assert!(world
        .package(ORG, "npm", "lib-b")
        .unwrap()
        .deleted_ids()
        .is_empty());
    let seen = contract.assert_clean();
    assert_covered(
        &seen,
        &[
            "GET /orgs/{org}/packages".into(),
            "GET /orgs/{org}/packages/{package_type}/{package_name}".into(),
        ],
    );
}

#[test]
#[ignore = "needs Stoplight Prism: PRISM_BIN=... cargo test --test contract -- --ignored"]
fn own_user_namespace_through_prism() {
    let mut contract = Contract::start(world_with_packages(USER), Config::default());
    // owner-type user: GET /user says the token is alice's own, so the /user routes.
    life_cycle(&mut contract, USER, PAT, "user");
    let seen = contract.assert_clean();
    let mut expected = package_routes("/user");
    expected.extend(["GET /user".into(), "GET /rate_limit".into()]);
    assert_covered(&seen, &expected);
    assert!(
        !seen
            .iter()
            .any(|r| r.contains("/users/{username}/packages")),
        "the token's own packages should go through /user: {seen:?}"
    );
}

#[test]
#[ignore = "needs Stoplight Prism: PRISM_BIN=... cargo test --test contract -- --ignored"]
fn other_user_namespace_through_prism() {
    let mut contract = Contract::start(world_with_packages(USER), Config::default());
    // A GITHUB_TOKEN-like token: GET /users/alice says User, GET /user is refused (403, as
    // documented), so the /users/{username} routes.
    life_cycle(&mut contract, USER, INSTALLATION, "auto");
    let seen = contract.assert_clean();
    let mut expected = package_routes("/users/{username}");
    expected.extend([
        "GET /users/{username}".into(),
        "GET /user".into(),
        "GET /rate_limit".into(),
    ]);
    assert_covered(&seen, &expected);
    assert!(
        contract
            .recorder
            .exchanges()
            .iter()
            .any(|e| e.target == "/user" && e.status == 403),
        "GET /user with an installation token should be refused"
    );
}

#[test]
#[ignore = "needs Stoplight Prism: PRISM_BIN=... cargo test --test contract -- --ignored"]
fn refusals_and_already_deleted_versions_through_prism() {
    let mut world = world_with_packages(ORG);
    // A container package: `old` goes, `latest` stays. The manifest of `latest` hangs once
    // (the registry is the fake itself, not Prism); once the run has read the manifest of `old`,
    // the test deletes `old` behind the run's back: its DELETE then really answers 404, which
    // counts as deleted.
    let app = world.add_package(ORG, "container", "app");
    let old = app
        .add_version(&digest(1), &["old"], days(20))
        .with_manifest(Manifest::image())
        .id;
    app.add_version(&digest(2), &["latest"], days(1))
        .with_manifest(Manifest::image());
    // An npm version deleted and then published again under the same name: GitHub refuses to
    // restore it (403).
    let lib = world.add_package(ORG, "npm", "republished");
    let gone = lib
        .add_version("1.0.0", &[], days(20))
        .deleted_ago(days(2))
        .id;
    lib.add_version("1.0.0", &[], days(1));
    lib.add_version("1.1.0", &[], days(1));
    let world = world.sealed();
    let app = world.package(ORG, "container", "app").expect("app");
    let hex = |n: u64| app.digest_of(&digest(n))["sha256:".len()..].to_owned();
    let (old_hex, latest_hex) = (hex(1), hex(2));
    let config = Config {
        scripted: vec![ScriptedFault::hang(Some("GET"), &latest_hex, 1)],
        ..Config::default()
    };
    let mut contract = Contract::start(world, config);

    // 404 on the delete of a version someone else deleted first.
    let run = contract
        .run()
        .input("packages", "app")
        .input("tags", "old")
        .env("PACKAGE_RETENTION_REQUEST_TIMEOUT", "2");
    let handle = std::thread::spawn(move || run.run());
    let started = Instant::now();
    let manifest_read = |digest: &str, status: u16| {
        contract
            .fake
            .requests()
            .iter()
            .any(|r| r.registry && r.status == status && r.path.contains(digest))
    };
    while !(manifest_read(&old_hex, 200) && manifest_read(&latest_hex, 0)) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the manifest read never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    contract.fake.update_world(|world| {
        world
            .package_mut(ORG, "container", "app")
            .expect("app")
            .version_mut(old)
            .expect("old")
            .deleted_ago(days(0));
    });
    let result = handle.join().expect("the run");
    contract.runs.push(result.clone());
    result.assert_success();
    assert_eq!(
        result.output_ids("version-ids"),
        vec![old],
        "{}",
        result.logs()
    );
    assert_eq!(result.output_count("failed-count"), 0);
    assert!(
        contract
            .recorder
            .exchanges()
            .iter()
            .any(|e| e.method == "DELETE"
                && e.target.ends_with(&format!("/{old}"))
                && e.status == 404),
        "the DELETE of the deleted version should have answered 404"
    );

    // A version restore GitHub refuses: the run fails, GitHub's message in `failed`.
    let result = contract.keep(
        contract
            .run()
            .input("package-type", "npm")
            .input("packages", "republished")
            .input("mode", "restore")
            .input("version-ids", &gone.to_string()),
    );
    result.assert_code(1);
    assert_eq!(result.output_count("failed-count"), 1, "{}", result.logs());
    let failed = result.output_json("failed");
    assert_eq!(failed[0]["id"], gone);
    assert_eq!(failed[0]["status"], 403);
    assert!(
        failed[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("same name")),
        "{failed}"
    );
    assert!(contract
        .fake
        .world()
        .package(ORG, "npm", "republished")
        .unwrap()
        .version(gone)
        .unwrap()
        .is_deleted());

    // A package restore GitHub refuses (no such deleted package: 404).
    let before = contract.fake.world();
    let result = contract.keep(
        contract
            .run()
            .input("package-type", "npm")
            .input("packages", "never-existed")
            .input("mode", "restore"),
    );
    assert_ne!(result.code, 0, "{}", result.logs());
    assert!(
        result.stdout.contains("Package not found."),
        "GitHub's message should be quoted:\n{}",
        result.logs()
    );
    assert_eq!(contract.fake.world(), before);

    let seen = contract.assert_clean();
    assert_covered(
        &seen,
        &[
            "DELETE /orgs/{org}/packages/{package_type}/{package_name}/versions/{package_version_id}"
                .into(),
            "POST /orgs/{org}/packages/{package_type}/{package_name}/versions/{package_version_id}/restore"
                .into(),
            "POST /orgs/{org}/packages/{package_type}/{package_name}/restore".into(),
        ],
    );
}

/// The check itself can fail: a request that breaks the description (a version id that is not
/// an integer) and an answer that breaks it (a body of the wrong shape) are both reported.
#[test]
#[ignore = "needs Stoplight Prism: PRISM_BIN=... cargo test --test contract -- --ignored"]
fn the_check_catches_violations() {
    let config = Config {
        scripted: vec![ScriptedFault {
            method: Some("GET".into()),
            path_contains: "/rate_limit".into(),
            nth: 0,
            action: fake_github::FaultAction::Respond {
                status: 200,
                headers: Vec::new(),
                body: r#"{"resources": "not an object"}"#.into(),
            },
        }],
        ..Config::default()
    };
    let contract = Contract::start(world_with_packages(ORG), config);
    let auth = format!("Bearer {PAT}");
    let headers = [("Authorization", auth.as_str())];
    let bad_request = send(
        &contract.recorder.url,
        "DELETE",
        "/orgs/acme/packages/npm/lib-a/versions/not-a-number",
        &headers,
        Duration::from_secs(30),
    )
    .expect("an answer");
    let bad_answer = send(
        &contract.recorder.url,
        "GET",
        "/rate_limit",
        &headers,
        Duration::from_secs(30),
    )
    .expect("an answer");
    let undocumented_query = send(
        &contract.recorder.url,
        "GET",
        "/users/acme?per_page=5",
        &headers,
        Duration::from_secs(30),
    )
    .expect("an answer");
    assert_eq!(undocumented_query.status, 200);
    let problems = contract.problems(&operations());
    let joined = problems.join("\n");
    assert!(
        joined.contains("versions/not-a-number: Prism answered 422"),
        "the bad request ({}) was not reported:\n{joined}",
        bad_request.status
    );
    assert!(
        joined.contains("GET /rate_limit: 500"),
        "the bad answer ({}) was not reported:\n{joined}",
        bad_answer.status
    );
    assert!(
        joined.contains("query parameter `per_page` is not documented"),
        "the undocumented query parameter was not reported:\n{joined}"
    );
    assert!(joined.contains("prism log:"), "{joined}");
}
