//! Runs the compiled `package-retention` binary against a [`FakeGithub`] exactly as the
//! Actions runner runs the action: a cleared environment, every input as `INPUT_<NAME>`
//! (upper case, hyphens kept) with the defaults of `action.yml`, and fresh `GITHUB_OUTPUT` and
//! `GITHUB_STEP_SUMMARY` files, which are read back into a [`RunResult`].
//!
//! ```ignore
//! mod common;
//! use common::Run;
//!
//! let result = Run::new(&fake).input("packages", "app").input("keep-latest", "2").run();
//! result.assert_success();
//! assert_eq!(result.output_ids("version-ids"), vec![101, 102]);
//! ```
//!
//! Defaults: token `tok`, owner `acme`, `GITHUB_API_URL` and `registry-url` the fake's URL,
//! `PACKAGE_RETENTION_RETRY_BASE_MS=10` so that retries are quick.

#![allow(dead_code)] // Each test file uses its own part of the harness.

pub mod gfm;
pub mod hostile;
pub mod showcase;
/// The runner's rules for reading a log: in the fake's crate, which the binary's unit tests reach too.
#[allow(unused_imports)] // Not every test file reads a log.
pub use fake_github::runner;

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fake_github::FakeGithub;
use serde_json::Value;

/// The binary under test.
pub const BINARY: &str = env!("CARGO_BIN_EXE_package-retention");

/// The token [`Run::new`] passes; give it to the world (`World::token(TOKEN, login)`).
pub const TOKEN: &str = "tok";

/// The owner [`Run::new`] passes.
pub const OWNER: &str = "acme";

/// Every input of `action.yml` with the value the runner gives when a workflow sets none
/// (`token`, `owner` and `registry-url` are set by [`Run::new`]).
pub const INPUT_DEFAULTS: [(&str, &str); 32] = [
    ("token", ""),
    ("owner", ""),
    ("owner-type", "auto"),
    ("package-type", "container"),
    ("packages", ""),
    ("mode", "delete"),
    ("dry-run", "false"),
    ("version-ids", ""),
    ("tags", ""),
    ("exclude-tags", ""),
    ("tag-selection", "any"),
    ("versions", ""),
    ("exclude-versions", ""),
    ("semver", ""),
    ("prerelease", "any"),
    ("older-than", ""),
    ("deleted-within", ""),
    ("keep-latest", "0"),
    ("min-versions-to-keep", "0"),
    ("delete-empty-package", "false"),
    ("max-deletions", ""),
    ("registry-url", ""),
    ("config", ""),
    ("fail-on-error", "true"),
    ("keep-latest-per", "all"),
    ("report-file", ""),
    ("untag", "false"),
    ("repository", ""),
    ("manifest-cache", ""),
    ("keep-open-pull-requests", ""),
    ("keep-live-branches", ""),
    ("keep-referenced-in", ""),
];

/// How long a run may take before the harness kills it and fails the test.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// Variables kept from the test's own environment (nothing GitHub-ish).
const KEPT_VARIABLES: [&str; 4] = ["PATH", "HOME", "TMPDIR", "RUST_BACKTRACE"];

/// One invocation of the binary, built up and then [`Run::run`].
#[derive(Clone, Debug)]
pub struct Run {
    inputs: BTreeMap<String, String>,
    env: BTreeMap<String, String>,
    args: Vec<String>,
    timeout: Duration,
}

impl Run {
    /// A run against `fake` with the action's defaults, token [`TOKEN`] and owner [`OWNER`].
    pub fn new(fake: &FakeGithub) -> Run {
        let mut inputs: BTreeMap<String, String> = INPUT_DEFAULTS
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        inputs.insert("token".into(), TOKEN.into());
        inputs.insert("owner".into(), OWNER.into());
        inputs.insert("registry-url".into(), fake.url());
        let mut env = BTreeMap::new();
        env.insert("GITHUB_API_URL".to_owned(), fake.url());
        env.insert(
            "PACKAGE_RETENTION_RETRY_BASE_MS".to_owned(),
            "10".to_owned(),
        );
        Run {
            inputs,
            env,
            args: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Sets input `name` (as written in `action.yml`, e.g. `keep-latest`).
    pub fn input(mut self, name: &str, value: &str) -> Run {
        self.inputs.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Removes input `name` entirely (as if `action.yml` did not declare it).
    pub fn without_input(mut self, name: &str) -> Run {
        self.inputs.remove(name);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, name: &str, value: &str) -> Run {
        self.env.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Adds a command-line argument.
    pub fn arg(mut self, arg: &str) -> Run {
        self.args.push(arg.to_owned());
        self
    }

    /// Changes how long the run may take (default 120 s).
    pub fn timeout(mut self, timeout: Duration) -> Run {
        self.timeout = timeout;
        self
    }

    /// Runs the binary to its end and reads what it wrote.
    pub fn run(self) -> RunResult {
        self.start().wait()
    }

    /// Starts the binary and returns at once (to signal it mid-run).
    pub fn start(self) -> Running {
        self.start_under(&[])
    }

    /// Starts the binary as the last argument of `wrapper` (e.g. `unshare --pid --fork`), which
    /// runs it as its child; [`Running::binary_pid`] finds it.
    pub fn start_under(self, wrapper: &[&str]) -> Running {
        let dir = fresh_dir();
        let output_file = dir.join("github_output");
        let summary_file = dir.join("step_summary");
        std::fs::write(&output_file, "").expect("create GITHUB_OUTPUT");
        std::fs::write(&summary_file, "").expect("create GITHUB_STEP_SUMMARY");

        let mut command = match wrapper.split_first() {
            None => Command::new(BINARY),
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(BINARY);
                command
            }
        };
        command
            .args(&self.args)
            .env_clear()
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for name in KEPT_VARIABLES {
            if let Ok(value) = std::env::var(name) {
                command.env(name, value);
            }
        }
        command
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_STEP_SUMMARY", &summary_file);
        for (name, value) in &self.inputs {
            command.env(format!("INPUT_{}", name.to_uppercase()), value);
        }
        command.envs(&self.env);

        let mut child = command.spawn().expect("start package-retention");
        let stdout = Captured::drain(child.stdout.take().expect("piped stdout"));
        let stderr = Captured::drain(child.stderr.take().expect("piped stderr"));
        Running {
            child,
            wrapped: !wrapper.is_empty(),
            dir,
            stdout,
            stderr,
            timeout: self.timeout,
        }
    }
}

/// A run under way.
pub struct Running {
    child: Child,
    /// Started under a wrapper: the binary is the wrapper's child.
    wrapped: bool,
    dir: PathBuf,
    stdout: Captured,
    stderr: Captured,
    timeout: Duration,
}

impl Running {
    /// The process id of the binary itself (under a wrapper: the wrapper's child, once it runs
    /// the binary), as the test's own PID namespace sees it.
    pub fn binary_pid(&self) -> u32 {
        let pid = self.child.id();
        if !self.wrapped {
            return pid;
        }
        let started = Instant::now();
        loop {
            let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                .unwrap_or_default();
            if let Some(child) = children.split_whitespace().next() {
                let exe = std::fs::read_link(format!("/proc/{child}/exe")).unwrap_or_default();
                if exe.as_path() == Path::new(BINARY) {
                    return child.parse().expect("a pid");
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the wrapper never ran the binary"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sends `signal` (`libc::SIGTERM`, …) to the binary.
    pub fn signal(&self, signal: i32) {
        let pid = self.binary_pid() as i32;
        // SAFETY: kill(2) has no memory effects; the pid is our child's (or its child's).
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0, "kill({pid}, {signal}) failed");
    }

    /// What the binary has printed on stdout so far.
    pub fn stdout_so_far(&self) -> String {
        self.stdout.text()
    }

    /// Waits until `found` holds for stdout so far; false when `timeout` passes first.
    pub fn wait_for_stdout(&self, timeout: Duration, found: impl Fn(&str) -> bool) -> bool {
        let started = Instant::now();
        while !found(&self.stdout_so_far()) {
            if started.elapsed() > timeout {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }

    /// Waits for the end of the run (killing it and panicking after the run's timeout) and
    /// reads what it wrote.
    pub fn wait(mut self) -> RunResult {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for package-retention") {
                break Some(status);
            }
            if started.elapsed() > self.timeout {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let stdout = self.stdout.finish();
        let stderr = self.stderr.finish();
        let Some(status) = status else {
            panic!(
                "package-retention still running after {:?}; killed.\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
                self.timeout
            );
        };
        let outputs = parse_github_output(&read(&self.dir.join("github_output")));
        let summary = read(&self.dir.join("step_summary"));
        let _ = std::fs::remove_dir_all(&self.dir);
        RunResult {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
            outputs,
            summary,
        }
    }
}

/// A pipe read to its end by a thread of its own, readable meanwhile.
struct Captured {
    bytes: Arc<Mutex<Vec<u8>>>,
    reader: JoinHandle<()>,
}

impl Captured {
    fn drain(mut pipe: impl Read + Send + 'static) -> Captured {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let sink = bytes.clone();
        let reader = std::thread::spawn(move || {
            let mut chunk = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                sink.lock().expect("capture").extend_from_slice(&chunk[..n]);
            }
        });
        Captured { bytes, reader }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().expect("capture")).into_owned()
    }

    fn finish(self) -> String {
        let Captured { bytes, reader } = self;
        let _ = reader.join();
        let bytes = bytes.lock().expect("capture");
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// What a run left behind.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The step outputs written to `GITHUB_OUTPUT`.
    pub outputs: HashMap<String, String>,
    /// What was written to `GITHUB_STEP_SUMMARY`.
    pub summary: String,
}

impl RunResult {
    /// Panics, showing the logs, unless the run exited 0.
    pub fn assert_success(&self) -> &RunResult {
        assert_eq!(self.code, 0, "the run failed:\n{}", self.logs());
        self
    }

    /// Panics, showing the logs, unless the run exited with `code`.
    pub fn assert_code(&self, code: i32) -> &RunResult {
        assert_eq!(self.code, code, "unexpected exit code:\n{}", self.logs());
        self
    }

    /// stdout and stderr, for failure messages.
    pub fn logs(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout, self.stderr
        )
    }

    /// Output `name`; panics when it was not written.
    pub fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| {
                panic!(
                    "output {name:?} not written; outputs: {:?}\n{}",
                    self.outputs,
                    self.logs()
                )
            })
    }

    /// Output `name` parsed as JSON.
    pub fn output_json(&self, name: &str) -> Value {
        let raw = self.output(name);
        serde_json::from_str(raw)
            .unwrap_or_else(|e| panic!("output {name:?} is not JSON ({e}): {raw:?}"))
    }

    /// Output `name` parsed as an integer (the `*-count` outputs).
    pub fn output_count(&self, name: &str) -> u64 {
        let raw = self.output(name);
        raw.trim()
            .parse()
            .unwrap_or_else(|e| panic!("output {name:?} is not a count ({e}): {raw:?}"))
    }

    /// Output `name` as comma-separated ids (`version-ids`); empty gives none.
    pub fn output_ids(&self, name: &str) -> Vec<u64> {
        let raw = self.output(name);
        raw.split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(|id| {
                id.parse().unwrap_or_else(|e| {
                    panic!("output {name:?} has a bad id {id:?} ({e}): {raw:?}")
                })
            })
            .collect()
    }

    /// The ids in a JSON array output of versions (`deleted`, `restored`, `failed`).
    pub fn output_json_ids(&self, name: &str) -> Vec<u64> {
        self.output_json(name)
            .as_array()
            .unwrap_or_else(|| panic!("output {name:?} is not an array"))
            .iter()
            .map(|entry| entry["id"].as_u64().expect("an id in each entry"))
            .collect()
    }

    /// Workflow command lines of this kind (`error`, `warning`, `notice`) from stdout.
    pub fn annotations(&self, kind: &str) -> Vec<&str> {
        let prefix = format!("::{kind}");
        self.stdout
            .lines()
            .filter(|line| {
                line.strip_prefix(&prefix)
                    .is_some_and(|rest| rest.starts_with("::") || rest.starts_with(' '))
            })
            .collect()
    }
}

/// Parses a `GITHUB_OUTPUT` file as the runner does: `name=value` lines and
/// `name<<DELIMITER` … `DELIMITER` blocks; blank lines between entries are skipped. Panics on
/// anything else, and on an unterminated block.
pub fn parse_github_output(text: &str) -> HashMap<String, String> {
    let mut outputs = HashMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        let heredoc = line.find("<<");
        let assignment = line.find('=');
        match (heredoc, assignment) {
            (Some(at), equals) if equals.is_none_or(|e| at < e) => {
                let name = &line[..at];
                let delimiter = &line[at + 2..];
                assert!(
                    !name.is_empty() && !delimiter.is_empty(),
                    "malformed GITHUB_OUTPUT line {line:?}"
                );
                let mut value = Vec::new();
                loop {
                    let next = lines.next().unwrap_or_else(|| {
                        panic!("GITHUB_OUTPUT block {name:?} never ends with {delimiter:?}")
                    });
                    if next == delimiter {
                        break;
                    }
                    value.push(next);
                }
                outputs.insert(name.to_owned(), value.join("\n"));
            }
            (_, Some(at)) if at > 0 => {
                outputs.insert(line[..at].to_owned(), line[at + 1..].to_owned());
            }
            _ => panic!("malformed GITHUB_OUTPUT line {line:?}"),
        }
    }
    outputs
}

/// A new empty directory under the system temp dir, unique to this call.
fn fresh_dir() -> PathBuf {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!(
        "package-retention-test-{}-{}-{nanos}",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create a temp dir");
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Reads a pipe to its end on a thread of its own.
fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}
