//! Scale benchmark: the release binary against the fake GitHub, run as the Actions runner runs
//! it, with a chosen latency, limits and data.
//!
//! ```sh
//! cargo bench --bench scale              # every scenario
//! cargo bench --bench scale -- delete    # one: list, delete, faults, memory, images, references (or a-f)
//! ```
//!
//! Each scenario prints a table: requests by method, wall time, deletions per minute, the fake's
//! highest in-flight count, rate-limit answers, peak RSS (the binary's `VmHWM`), and its checks.
//! The process exits 1 when a correctness check fails (exit code, final state, exact request
//! counts, failures, secondary-limit answers); speed and memory targets are printed, never
//! failed on.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../tests/common/mod.rs"]
mod common;

use fake_github::{
    days, digest, Config, FakeGithub, Manifest, RegistryAnswers, RegistryRateLimit, World,
};

const BINARY: &str = env!("CARGO_BIN_EXE_package-retention");
const TOKEN: &str = "bench-token";
const OWNER: &str = "acme";
/// A run taking longer than this is killed and counted as failed.
const RUN_LIMIT: Duration = Duration::from_secs(15 * 60);

fn main() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    let scenarios: [Scenario; 6] = [
        ("a", "list", list),
        ("b", "delete", delete),
        ("c", "faults", faults),
        ("d", "memory", memory),
        ("e", "images", images),
        ("f", "references", references),
    ];
    let unknown: Vec<&String> = wanted
        .iter()
        .filter(|w| !scenarios.iter().any(|(l, n, _)| w == l || w == n))
        .collect();
    if !unknown.is_empty() {
        eprintln!(
            "unknown scenario {unknown:?}: choose among list, delete, faults, memory, images, references (a-f)"
        );
        std::process::exit(2);
    }
    let mut checks = Checks::default();
    for (letter, name, scenario) in scenarios {
        if wanted.is_empty() || wanted.iter().any(|w| w == letter || w == name) {
            scenario(&mut checks);
        }
    }
    if checks.failed.is_empty() {
        println!("All correctness checks passed.");
    } else {
        println!("FAILED correctness checks:");
        for failure in &checks.failed {
            println!("  - {failure}");
        }
        std::process::exit(1);
    }
}

/// A scenario: its letter, its name, and what runs it.
type Scenario = (&'static str, &'static str, fn(&mut Checks));

/// Correctness checks (fail the benchmark) and the printed table rows.
#[derive(Default)]
struct Checks {
    failed: Vec<String>,
}

/// One table being printed.
struct Table {
    rows: Vec<(String, String)>,
    scenario: &'static str,
}

impl Table {
    fn new(title: &str, scenario: &'static str) -> Table {
        println!("\n== {title} ==");
        Table {
            rows: Vec::new(),
            scenario,
        }
    }

    fn row(&mut self, name: &str, value: impl Into<String>) {
        self.rows.push((name.to_owned(), value.into()));
    }

    /// A correctness check: printed, and failing the benchmark when false.
    fn check(&mut self, checks: &mut Checks, name: &str, ok: bool, detail: impl Into<String>) {
        let detail = detail.into();
        self.row(
            &format!("check: {name}"),
            format!("{} {detail}", if ok { "ok" } else { "FAILED" }),
        );
        if !ok {
            checks
                .failed
                .push(format!("({}) {name}: {detail}", self.scenario));
        }
    }

    /// A target: printed as met or missed, never failing.
    fn target(&mut self, name: &str, met: bool, detail: impl Into<String>) {
        self.row(
            &format!("target: {name}"),
            format!("{} {}", if met { "met" } else { "MISSED" }, detail.into()),
        );
    }

    fn print(self) {
        let width = self.rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        println!("| {:width$} | value", "metric");
        println!("|-{:-<width$}-|------", "");
        for (name, value) in self.rows {
            println!("| {name:width$} | {value}");
        }
    }
}

/// What one run of the binary did.
struct Measured {
    code: i32,
    wall: Duration,
    peak_rss_kb: Option<u64>,
    /// Since the start: the first and the last time the fake's write count rose.
    first_write: Option<Duration>,
    last_write: Option<Duration>,
    outputs: HashMap<String, String>,
    /// The `report-file` the run wrote (`Null` when none): the outputs stop at 1,000,000 bytes.
    report: serde_json::Value,
    stdout: String,
    stderr: String,
}

impl Measured {
    fn count(&self, name: &str) -> Option<u64> {
        self.outputs.get(name).and_then(|v| v.trim().parse().ok())
    }

    /// Every version deleted (or that would be), from the report file.
    fn deleted_ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.report["deleted"]
            .as_array()
            .map(|entries| entries.iter().filter_map(|e| e["id"].as_u64()).collect())
            .unwrap_or_default();
        ids.sort_unstable();
        ids
    }

    /// The longest output value, in bytes.
    fn largest_output(&self) -> usize {
        self.outputs.values().map(String::len).max().unwrap_or(0)
    }

    /// The binary's own count of what it sent (its log's `Requests:` line).
    fn own_count(&self) -> String {
        self.stdout
            .lines()
            .find(|l| l.starts_with("Requests:"))
            .unwrap_or("(no Requests: line)")
            .to_owned()
    }

    fn tail(&self) -> String {
        let last = |text: &str| {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(15)..].join("\n")
        };
        format!(
            "--- stdout (end) ---\n{}\n--- stderr (end) ---\n{}",
            last(&self.stdout),
            last(&self.stderr)
        )
    }
}

/// Runs the release binary against `fake` as the runner does: a cleared environment, every
/// input as `INPUT_*`, `GITHUB_API_URL`, and fresh `GITHUB_OUTPUT`/`GITHUB_STEP_SUMMARY` files.
/// Polls its peak RSS and the fake's writes while it runs.
fn run(fake: &FakeGithub, inputs: &[(&str, &str)], env: &[(&str, &str)]) -> Measured {
    let dir = temp_dir();
    let output_file = dir.join("github_output");
    let summary_file = dir.join("step_summary");
    std::fs::write(&output_file, "").expect("create GITHUB_OUTPUT");
    std::fs::write(&summary_file, "").expect("create GITHUB_STEP_SUMMARY");
    let mut values: BTreeMap<&str, String> = common::INPUT_DEFAULTS
        .iter()
        .map(|(name, value)| (*name, (*value).to_owned()))
        .collect();
    values.insert("token", TOKEN.to_owned());
    values.insert("owner", OWNER.to_owned());
    values.insert("registry-url", fake.url());
    values.insert("report-file", "report.json".to_owned());
    for (name, value) in inputs {
        values.insert(name, (*value).to_owned());
    }
    // The workspace: the run's own directory, unless the scenario keeps one across runs.
    let workspace = env
        .iter()
        .find(|(name, _)| *name == "GITHUB_WORKSPACE")
        .map_or_else(|| dir.clone(), |(_, path)| PathBuf::from(path));
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("GITHUB_API_URL", fake.url())
        .env("GITHUB_OUTPUT", &output_file)
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .env("GITHUB_WORKSPACE", &workspace);
    for name in ["PATH", "HOME", "TMPDIR"] {
        if let Ok(value) = std::env::var(name) {
            command.env(name, value);
        }
    }
    for (name, value) in &values {
        command.env(format!("INPUT_{}", name.to_uppercase()), value);
    }
    for (name, value) in env {
        command.env(name, value);
    }

    let started = Instant::now();
    let mut child = command.spawn().expect("start the release binary");
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_rss_kb = None;
    let (mut writes, mut first_write, mut last_write) = (fake.writes(), None, None);
    let status = loop {
        if let Some(kb) = std::fs::read_to_string(&status_path)
            .ok()
            .as_deref()
            .and_then(vm_hwm_kb)
        {
            peak_rss_kb = Some(kb);
        }
        let now_writes = fake.writes();
        if now_writes > writes {
            first_write.get_or_insert(started.elapsed());
            last_write = Some(started.elapsed());
            writes = now_writes;
        }
        if let Some(status) = child.try_wait().expect("wait for the binary") {
            break Some(status);
        }
        if started.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = started.elapsed();
    if fake.writes() > writes {
        first_write.get_or_insert(wall);
        last_write = Some(wall);
    }
    let outputs = parse_github_output(&std::fs::read_to_string(&output_file).unwrap_or_default());
    let report = std::fs::read_to_string(workspace.join("report.json"))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    Measured {
        code: status.and_then(|s| s.code()).unwrap_or(-1),
        wall,
        peak_rss_kb,
        first_write,
        last_write,
        outputs,
        report,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

fn vm_hwm_kb(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn temp_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "package-retention-bench-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("create a temp dir");
    dir
}

/// `name=value` lines and `name<<DELIMITER` blocks, as the runner reads `GITHUB_OUTPUT`.
fn parse_github_output(text: &str) -> HashMap<String, String> {
    let mut outputs = HashMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<").filter(|(n, _)| !n.contains('=')) {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            outputs.insert(name.to_owned(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            outputs.insert(name.to_owned(), value.to_owned());
        }
    }
    outputs
}

/// `acme`'s package `app` of this type with `count` versions from oldest to newest, a minute
/// apart (containers: digests, every tenth version tagged); the ids, oldest first.
fn world_with(package_type: &str, count: u64) -> (World, Vec<u64>) {
    let mut world = World::new().org(OWNER).user("bench").token(TOKEN, "bench");
    let app = world.add_package(OWNER, package_type, "app");
    let ids = (0..count)
        .map(|n| {
            let age = days(200) - Duration::from_secs(60 * n);
            if package_type == "container" {
                let tag = format!("build-{n}");
                let tags: &[&str] = if n % 10 == 0 { &[&tag] } else { &[] };
                app.add_version(&digest(n), tags, age).id
            } else {
                app.add_version(&format!("1.0.{n}"), &[], age).id
            }
        })
        .collect();
    (world, ids)
}

/// Rows common to every scenario: requests by method, wall time, in flight, rate-limit answers,
/// peak RSS.
fn common_rows(table: &mut Table, fake: &FakeGithub, measured: &Measured) {
    let requests = fake.requests();
    let mut by_method: BTreeMap<String, usize> = BTreeMap::new();
    for request in &requests {
        let key = if request.registry {
            format!("registry {}", request.method)
        } else {
            request.method.clone()
        };
        *by_method.entry(key).or_default() += 1;
    }
    let by_method: Vec<String> = by_method
        .iter()
        .map(|(method, count)| format!("{method} {count}"))
        .collect();
    table.row("requests by method (fake)", by_method.join(", "));
    table.row("requests (binary's log)", measured.own_count());
    let statuses: BTreeMap<u16, usize> = requests.iter().fold(BTreeMap::new(), |mut map, r| {
        *map.entry(r.status).or_default() += 1;
        map
    });
    table.row("answers by status", format!("{statuses:?}"));
    table.row("wall time", format!("{:.2} s", measured.wall.as_secs_f64()));
    table.row("highest in flight (fake)", fake.max_in_flight().to_string());
    table.row(
        "rate-limit answers (fake)",
        fake.rate_limited_answers().to_string(),
    );
    table.row(
        "peak RSS (VmHWM)",
        measured.peak_rss_kb.map_or("unknown".to_owned(), |kb| {
            format!("{:.1} MB", kb as f64 / 1024.0)
        }),
    );
}

fn list_requests(fake: &FakeGithub) -> (usize, Vec<String>) {
    let requests = fake.requests();
    let list = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/packages/container/app/versions"))
        .count();
    let fixed = requests
        .iter()
        .filter(|r| !r.path.ends_with("/versions"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    (list, fixed)
}

/// (a) Listing 100,000 versions of one package at 100 ms latency.
fn list(checks: &mut Checks) {
    const COUNT: u64 = 100_000;
    const POINTS: &str = "1000000";
    const IN_FLIGHT: &str = "64";
    let (world, _) = world_with("container", COUNT);
    let config = Config {
        latency: Duration::from_millis(100),
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let measured = run(
        &fake,
        &[
            ("packages", "app"),
            ("tags", "no-such-tag"),
            ("dry-run", "true"),
        ],
        &[
            ("PACKAGE_RETENTION_POINTS_PER_MINUTE", POINTS),
            ("PACKAGE_RETENTION_MAX_IN_FLIGHT", IN_FLIGHT),
        ],
    );
    let mut table = Table::new(
        "(a) list 100,000 container versions of one package at 100 ms latency (dry run, a filter selecting nothing)",
        "a",
    );
    table.row(
        "settings",
        format!("PACKAGE_RETENTION_POINTS_PER_MINUTE={POINTS}, PACKAGE_RETENTION_MAX_IN_FLIGHT={IN_FLIGHT}; fake: latency 100 ms, no secondary limits"),
    );
    common_rows(&mut table, &fake, &measured);
    let (pages, fixed) = list_requests(&fake);
    let expected_pages = COUNT.div_ceil(100) as usize;
    table.row(
        "list requests",
        format!("{pages} (ceil(100000/100) = {expected_pages})"),
    );
    table.row("fixed calls", fixed.join(", "));
    table.check(
        checks,
        "exit code",
        measured.code == 0,
        format!("{}", measured.code),
    );
    table.check(
        checks,
        "list requests exactly ceil(n/100)",
        pages == expected_pages,
        format!("{pages}"),
    );
    table.check(
        checks,
        "fixed calls: owner type and budget only",
        fixed == ["GET /users/acme", "GET /rate_limit"],
        fixed.join(", "),
    );
    table.check(
        checks,
        "nothing written",
        fake.writes() == 0,
        format!("{} writes", fake.writes()),
    );
    table.target(
        "wall time < 15 s",
        measured.wall < Duration::from_secs(15),
        format!("{:.2} s", measured.wall.as_secs_f64()),
    );
    table.target(
        "peak RSS < 50 MB",
        measured.peak_rss_kb.is_some_and(|kb| kb < 50 * 1024),
        "",
    );
    table.print();
    if measured.code != 0 {
        println!("{}", measured.tail());
    }
}

/// (b) and (c): 5,000 deletions under a fake enforcing 30,000 points a minute.
fn delete_scenario(checks: &mut Checks, error_rate: f64, title: &str, scenario: &'static str) {
    const DELETIONS: u64 = 5_000;
    const KEEP: u64 = 10;
    const POINTS: u64 = 30_000;
    let (world, ids) = world_with("npm", DELETIONS + KEEP);
    let config = Config {
        latency: Duration::from_millis(100),
        points_per_minute: Some(POINTS),
        max_in_flight: Some(100),
        server_error_rate: error_rate,
        seed: 42,
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let before = fake.world();
    let measured = run(
        &fake,
        &[
            ("package-type", "npm"),
            ("packages", "app"),
            ("keep-latest", &KEEP.to_string()),
        ],
        &[("PACKAGE_RETENTION_POINTS_PER_MINUTE", &POINTS.to_string())],
    );
    let mut table = Table::new(title, scenario);
    table.row(
        "settings",
        format!("PACKAGE_RETENTION_POINTS_PER_MINUTE={POINTS}, PACKAGE_RETENTION_MAX_IN_FLIGHT default (16); fake: latency 100 ms, {POINTS} points/min (DELETE 5), at most 100 in flight, {:.0}% 5xx", error_rate * 100.0),
    );
    common_rows(&mut table, &fake, &measured);
    let deleted = measured.count("deleted-count").unwrap_or(0);
    let ceiling = POINTS as f64 / 5.0;
    let per_minute = deleted as f64 / measured.wall.as_secs_f64() * 60.0;
    table.row(
        "deletions per minute",
        format!(
            "{per_minute:.0} over the whole run ({:.1}% of the ceiling {ceiling:.0})",
            per_minute / ceiling * 100.0
        ),
    );
    if let (Some(first), Some(last)) = (measured.first_write, measured.last_write) {
        let phase = (last - first).as_secs_f64().max(0.001);
        table.row(
            "deletion phase",
            format!(
                "{:.2} s from the first to the last write: {:.0} deletions/min",
                phase,
                deleted as f64 / phase * 60.0
            ),
        );
    }
    let requests = fake.requests();
    let injected = requests
        .iter()
        .filter(|r| matches!(r.status, 502 | 503))
        .count();
    let answered_deletes = requests
        .iter()
        .filter(|r| r.method == "DELETE" && r.status == 204)
        .count();
    if let (Some(first), Some(last)) = (measured.first_write, measured.last_write) {
        let phase = (last - first).as_secs_f64().max(0.001);
        let sent = requests.iter().filter(|r| r.method == "DELETE").count();
        table.row(
            "DELETE requests per minute",
            format!(
                "{:.0} in the deletion phase, retries included ({:.1}% of the ceiling)",
                sent as f64 / phase * 60.0,
                sent as f64 / phase * 60.0 / ceiling * 100.0
            ),
        );
    }
    table.row("5xx injected (fake)", injected.to_string());
    table.row("DELETE answered 204 (fake)", answered_deletes.to_string());
    let world = fake.world();
    let app = world.package(OWNER, "npm", "app").expect("the package");
    let expected_deleted = &ids[..DELETIONS as usize];
    let expected_active = &ids[DELETIONS as usize..];
    table.check(
        checks,
        "exit code",
        measured.code == 0,
        format!("{}", measured.code),
    );
    table.check(
        checks,
        "final state exact",
        app.deleted_ids() == expected_deleted && app.active_ids() == expected_active,
        format!(
            "{} deleted, {} active (expected {}, {})",
            app.deleted_ids().len(),
            app.active_ids().len(),
            expected_deleted.len(),
            expected_active.len()
        ),
    );
    table.check(
        checks,
        "kept versions untouched",
        expected_active
            .iter()
            .all(|id| world.version(*id) == before.version(*id)),
        "",
    );
    table.check(
        checks,
        "report-file deleted = what the fake deleted",
        measured.deleted_ids() == expected_deleted,
        format!("{} reported", measured.deleted_ids().len()),
    );
    table.check(
        checks,
        "every output at most 1,000,000 bytes",
        measured.largest_output() <= 1_000_000,
        format!("largest {} bytes", measured.largest_output()),
    );
    table.check(
        checks,
        "one successful DELETE per deletion",
        answered_deletes == DELETIONS as usize,
        format!("{answered_deletes}"),
    );
    table.check(
        checks,
        "zero failed, zero deferred",
        measured.count("failed-count") == Some(0) && measured.count("deferred-count") == Some(0),
        format!(
            "failed {:?}, deferred {:?}",
            measured.count("failed-count"),
            measured.count("deferred-count")
        ),
    );
    table.check(
        checks,
        "zero secondary-limit answers",
        fake.rate_limited_answers() == 0,
        format!("{}", fake.rate_limited_answers()),
    );
    if error_rate > 0.0 {
        table.check(
            checks,
            "5xx were injected",
            injected > 0,
            format!("{injected}"),
        );
    }
    let note = if error_rate > 0.0 {
        " (failed attempts spend points too: at 5% 5xx, 95% is the most a paced run can reach)"
    } else {
        ""
    };
    table.target(
        "deletions/min >= 95% of the ceiling",
        per_minute >= 0.95 * ceiling,
        format!("{:.1}%{note}", per_minute / ceiling * 100.0),
    );
    table.print();
    if measured.code != 0 {
        println!("{}", measured.tail());
    }
}

fn delete(checks: &mut Checks) {
    delete_scenario(
        checks,
        0.0,
        "(b) delete 5,000 npm versions, fake enforcing 30,000 points/min, binary paced at the same",
        "b",
    );
}

fn faults(checks: &mut Checks) {
    delete_scenario(
        checks,
        0.05,
        "(c) the same with 5% injected 5xx (502/503)",
        "c",
    );
}

/// (d) Peak memory at 100,000 versions: listed, planned and reported (a dry run selecting all
/// but the 10 newest, so the plan and the outputs hold 99,990 versions).
fn memory(checks: &mut Checks) {
    const COUNT: u64 = 100_000;
    const POINTS: &str = "1000000";
    const IN_FLIGHT: &str = "64";
    let (world, _) = world_with("npm", COUNT);
    let config = Config {
        latency: Duration::from_millis(100),
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let measured = run(
        &fake,
        &[
            ("package-type", "npm"),
            ("packages", "app"),
            ("keep-latest", "10"),
            ("dry-run", "true"),
        ],
        &[
            ("PACKAGE_RETENTION_POINTS_PER_MINUTE", POINTS),
            ("PACKAGE_RETENTION_MAX_IN_FLIGHT", IN_FLIGHT),
        ],
    );
    let mut table = Table::new(
        "(d) peak RSS at 100,000 npm versions: listed, planned, reported (dry run selecting 99,990)",
        "d",
    );
    table.row(
        "settings",
        format!("PACKAGE_RETENTION_POINTS_PER_MINUTE={POINTS}, PACKAGE_RETENTION_MAX_IN_FLIGHT={IN_FLIGHT}; fake: latency 100 ms"),
    );
    common_rows(&mut table, &fake, &measured);
    table.row(
        "GITHUB_OUTPUT deleted",
        format!(
            "{} bytes",
            measured.outputs.get("deleted").map_or(0, String::len)
        ),
    );
    table.check(
        checks,
        "exit code",
        measured.code == 0,
        format!("{}", measured.code),
    );
    table.check(
        checks,
        "99,990 planned, nothing written",
        fake.writes() == 0 && measured.deleted_ids().len() == 99_990,
        format!(
            "{} writes, {} in the report file's deleted",
            fake.writes(),
            measured.deleted_ids().len()
        ),
    );
    table.check(
        checks,
        "every output at most 1,000,000 bytes, truncated",
        measured.largest_output() <= 1_000_000
            && measured.outputs.get("truncated").map(String::as_str) == Some("true"),
        format!(
            "largest {} bytes, truncated {:?}",
            measured.largest_output(),
            measured.outputs.get("truncated")
        ),
    );
    table.target(
        "peak RSS < 50 MB",
        measured.peak_rss_kb.is_some_and(|kb| kb < 50 * 1024),
        measured.peak_rss_kb.map_or("unknown".to_owned(), |kb| {
            format!("{:.1} MB", kb as f64 / 1024.0)
        }),
    );
    table.print();
    if measured.code != 0 {
        println!("{}", measured.tail());
    }
}

/// `acme`'s container package `app` of `count` versions, oldest first, spread evenly over the
/// last 200 days: of every 8 images, 1 is multi-platform (2 untagged platform manifests, then
/// its index, tagged `v{n}` every other time) and 7 single-platform (tagged every tenth), so
/// 30% of the versions belong to multi-platform images.
fn image_world(count: u64) -> (World, Vec<Image>) {
    let mut world = World::new().org(OWNER).user("bench").token(TOKEN, "bench");
    let app = world.add_package(OWNER, "container", "app");
    let step = days(200).as_secs() / count;
    // Half a step off, so that no version sits right on a whole-day boundary.
    let age = |n: u64| Duration::from_secs(days(200).as_secs() - step * n - step / 2);
    let mut images = Vec::new();
    let (mut n, mut image) = (0, 0u64);
    while n < count {
        if image % 8 == 0 && n + 3 <= count {
            let children = [digest(n), digest(n + 1)];
            let mut ids: Vec<u64> = children
                .iter()
                .enumerate()
                .map(|(i, child)| app.add_version(child, &[], age(n + i as u64)).id)
                .collect();
            let tag = format!("v{image}");
            let tags: &[&str] = if image % 16 == 0 { &[&tag] } else { &[] };
            let index = app
                .add_version(&digest(n + 2), tags, age(n + 2))
                .with_manifest(Manifest::index(&children));
            ids.push(index.id);
            images.push(Image {
                ids,
                tagged: !tags.is_empty(),
                age: age(n + 2),
            });
            n += 3;
        } else {
            let tag = format!("build-{image}");
            let tags: &[&str] = if image % 10 == 0 { &[&tag] } else { &[] };
            let id = app.add_version(&digest(n), tags, age(n)).id;
            images.push(Image {
                ids: vec![id],
                tagged: !tags.is_empty(),
                age: age(n),
            });
            n += 1;
        }
        image += 1;
    }
    (world, images)
}

/// An image of [`image_world`]: its version ids (platform manifests first, the index last),
/// whether its top version is tagged, and that version's age when the world was made.
struct Image {
    ids: Vec<u64>,
    tagged: bool,
    age: Duration,
}

/// The ids a dry run selecting untagged versions older than 30 days plans to delete, `elapsed`
/// after the world was made: every version of an untagged image whose top version is that old
/// (platform manifests are older than their index, and a kept index keeps them).
fn expected_untagged_old(images: &[Image], elapsed: Duration) -> Vec<u64> {
    let mut ids: Vec<u64> = images
        .iter()
        .filter(|image| !image.tagged && image.age + elapsed > days(30))
        .flat_map(|image| image.ids.iter().copied())
        .collect();
    ids.sort_unstable();
    ids
}

/// Registry requests by kind: challenges (`GET /v2/`), tokens (`GET /token`), manifests.
fn registry_rows(table: &mut Table, fake: &FakeGithub, since: usize) -> usize {
    let requests = fake.requests();
    let registry: Vec<_> = requests[since..].iter().filter(|r| r.registry).collect();
    let kind = |path: &str| {
        if path.contains("/manifests/") {
            "manifest"
        } else if path.starts_with("/token") {
            "token"
        } else {
            "challenge (/v2/)"
        }
    };
    let mut by_kind: BTreeMap<(&str, u16), usize> = BTreeMap::new();
    for request in &registry {
        *by_kind
            .entry((kind(&request.path), request.status))
            .or_default() += 1;
    }
    let rows: Vec<String> = by_kind
        .iter()
        .map(|((kind, status), count)| format!("{kind} {status}: {count}"))
        .collect();
    table.row(
        "registry requests by kind",
        format!("{} in all; {}", registry.len(), rows.join(", ")),
    );
    registry
        .iter()
        .filter(|r| r.path.contains("/manifests/"))
        .count()
}

/// (e) 20,000 container versions, 30% in multi-platform images, registry and API at 50 ms:
/// a dry run selecting untagged versions older than 30 days, run twice with the same
/// `manifest-cache` file (the second run finds every manifest there).
fn images(checks: &mut Checks) {
    const COUNT: u64 = 20_000;
    const POINTS: &str = "1000000";
    const IN_FLIGHT: &str = "64";
    let (world, images) = image_world(COUNT);
    let made = Instant::now();
    let config = Config {
        latency: Duration::from_millis(50),
        // ghcr.io's own limit: the action's default pacing stays under it.
        registry: RegistryAnswers {
            rate_limit: Some(RegistryRateLimit::ghcr()),
            ..RegistryAnswers::default()
        },
        ..Config::default()
    };
    let fake = FakeGithub::start_with(world, config);
    let workspace = temp_dir();
    let workspace_text = workspace.to_string_lossy().into_owned();
    let inputs = [
        ("packages", "app"),
        ("tag-selection", "untagged"),
        ("older-than", "30d"),
        ("dry-run", "true"),
        ("manifest-cache", ".package-retention/manifests"),
    ];
    let env = [
        ("PACKAGE_RETENTION_POINTS_PER_MINUTE", POINTS),
        ("PACKAGE_RETENTION_MAX_IN_FLIGHT", IN_FLIGHT),
        ("GITHUB_WORKSPACE", workspace_text.as_str()),
    ];
    let mut first_ids = Vec::new();
    for (round, title) in [
        (1, "(e1) 20,000 container versions (30% multi-platform) at 50 ms, dry run: untagged, older than 30 days; first run, empty manifest-cache"),
        (2, "(e2) the same again with the manifest-cache the first run wrote"),
    ] {
        let since = fake.requests().len();
        let expected = expected_untagged_old(&images, made.elapsed());
        let measured = run(&fake, &inputs, &env);
        let mut table = Table::new(title, "e");
        table.row(
            "settings",
            format!("PACKAGE_RETENTION_POINTS_PER_MINUTE={POINTS}, PACKAGE_RETENTION_MAX_IN_FLIGHT={IN_FLIGHT}, registry in flight and pacing default; fake: latency 50 ms (API and registry), ghcr.io's registry limit (44,000 reads, 2,000 writes a minute)"),
        );
        table.row("wall time", format!("{:.2} s", measured.wall.as_secs_f64()));
        table.row("requests (binary's log)", measured.own_count());
        let manifests = registry_rows(&mut table, &fake, since);
        let api = fake.requests()[since..]
            .iter()
            .filter(|r| !r.registry)
            .count();
        table.row("API requests (fake)", api.to_string());
        table.row(
            "peak RSS (VmHWM)",
            measured.peak_rss_kb.map_or("unknown".to_owned(), |kb| {
                format!("{:.1} MB", kb as f64 / 1024.0)
            }),
        );
        if let Ok(file) = std::fs::metadata(workspace.join(".package-retention/manifests")) {
            table.row("manifest-cache file", format!("{} bytes", file.len()));
        }
        if let Some(line) = measured.stdout.lines().find(|l| l.contains("manifests:")) {
            table.row("the binary says", line.trim().to_owned());
        }
        table.check(
            checks,
            "exit code",
            measured.code == 0,
            format!("{}", measured.code),
        );
        let ids = measured.deleted_ids();
        table.check(
            checks,
            "the plan: exactly the untagged old versions not needed by a kept index",
            ids == expected,
            format!("{} planned, {} expected", ids.len(), expected.len()),
        );
        table.check(
            checks,
            "nothing written",
            fake.writes() == 0,
            format!("{} writes", fake.writes()),
        );
        table.check(
            checks,
            "no registry 429 under ghcr.io's limit (44,000 reads a minute), default pacing",
            fake.registry_rate_limited_answers() == 0,
            format!("{} answers 429", fake.registry_rate_limited_answers()),
        );
        if round == 1 {
            table.target(
                "wall time < 40 s",
                measured.wall < Duration::from_secs(40),
                format!("{:.2} s", measured.wall.as_secs_f64()),
            );
            first_ids = ids;
        } else {
            table.check(
                checks,
                "same plan as the first run",
                ids == first_ids,
                "",
            );
            table.target(
                "no manifest read",
                manifests == 0,
                format!("{manifests} manifest GETs"),
            );
            table.target(
                "wall time < 5 s",
                measured.wall < Duration::from_secs(5),
                format!("{:.2} s", measured.wall.as_secs_f64()),
            );
        }
        table.print();
        if measured.code != 0 {
            println!("{}", measured.tail());
        }
    }
    let _ = std::fs::remove_dir_all(&workspace);
}

/// `keep-referenced-in` over 10,000 Kubernetes files (100 folders, about 8 KB each, 40 image
/// references each): a dry run of a package of 200 tagged images, of which the files reference
/// the first 100, once without the input and once with it; the difference is the scan.
fn references(checks: &mut Checks) {
    const FILES: usize = 10_000;
    const VERSIONS: u64 = 200;
    let mut world = World::new().org(OWNER).user("bench").token(TOKEN, "bench");
    let app = world.add_package(OWNER, "container", "app");
    let ids: Vec<u64> = (0..VERSIONS)
        .map(|n| {
            let tag = format!("v1.0.{n}");
            app.add_version(&digest(n), &[&tag], days(200) - Duration::from_secs(60 * n))
                .id
        })
        .collect();
    let fake = FakeGithub::start(world);
    let host = fake.url().trim_start_matches("http://").to_owned();
    let workspace = temp_dir();
    let mut bytes = 0;
    for i in 0..FILES {
        let folder = workspace.join(format!("deploy/team{}", i % 100));
        std::fs::create_dir_all(&folder).expect("a folder");
        let mut text = format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc-{i}\nspec:\n  template:\n    spec:\n      containers:\n");
        for c in 0..40 {
            let image = if c == 0 {
                format!("{host}/acme/app:v1.0.{}", i % 100)
            } else {
                format!("{host}/acme/service-{c}:v1.{}.{c}", i % 50)
            };
            text.push_str(&format!("        - name: c{c}\n          image: {image}\n          env:\n            - name: LOG_LEVEL\n              value: info\n"));
        }
        bytes += text.len();
        std::fs::write(folder.join(format!("svc-{i}.yaml")), text).expect("a file");
    }
    let workspace_text = workspace.to_string_lossy().into_owned();
    let env = [("GITHUB_WORKSPACE", workspace_text.as_str())];
    let base = [("packages", "app"), ("tags", "v*"), ("dry-run", "true")];
    let without = run(&fake, &base, &env);
    let mut with_input = base.to_vec();
    with_input.push(("keep-referenced-in", "deploy/**/*.yaml"));
    let with = run(&fake, &with_input, &env);
    let mut table = Table::new(
        &format!("(f) keep-referenced-in: {FILES} files ({:.1} MB, {} references), dry run of 200 images", bytes as f64 / 1e6, FILES * 40),
        "f",
    );
    let rss = |m: &Measured| {
        m.peak_rss_kb.map_or("unknown".to_owned(), |kb| {
            format!("{:.1} MB", kb as f64 / 1024.0)
        })
    };
    table.row(
        "wall time without the input",
        format!("{:.2} s", without.wall.as_secs_f64()),
    );
    table.row(
        "wall time with it",
        format!("{:.2} s", with.wall.as_secs_f64()),
    );
    table.row("peak RSS (VmHWM) without the input", rss(&without));
    table.row("peak RSS (VmHWM) with it", rss(&with));
    table.check(
        checks,
        "exit codes",
        without.code == 0 && with.code == 0,
        format!("{} and {}", without.code, with.code),
    );
    let expected: Vec<u64> = ids[100..].to_vec();
    let planned = with.deleted_ids();
    table.check(
        checks,
        "the plan: exactly the 100 images no file references",
        planned == expected,
        format!("{} planned, {} expected", planned.len(), expected.len()),
    );
    table.check(
        checks,
        "nothing written",
        fake.writes() == 0,
        format!("{} writes", fake.writes()),
    );
    table.print();
    let _ = std::fs::remove_dir_all(&workspace);
}
