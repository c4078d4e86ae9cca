//! A small hostile HTTP server for the trust tests: it answers every request with what the test
//! scripts (fixed answers, endless or huge bodies) and records each request head, so a test
//! can say whether the token ever reached it. Also runs the binary measuring its peak RSS.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Run, RunResult};

/// What the hostile server answers to one request.
pub enum Hostile {
    /// A complete answer.
    Fixed {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// `200` with a body of `length` spaces after `prefix` (closed, not announced, when
    /// `announce` is false), written until the client stops reading.
    Huge {
        prefix: String,
        length: u64,
        announce: bool,
    },
}

impl Hostile {
    /// A JSON answer.
    pub fn json(status: u16, body: &str) -> Hostile {
        Hostile::Fixed {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_owned(),
        }
    }
}

type Responder = dyn Fn(&str) -> Hostile + Send + Sync;

/// A running hostile server on 127.0.0.1 (it stops with the test process).
pub struct HostileServer {
    url: String,
    heads: Arc<Mutex<Vec<String>>>,
}

impl HostileServer {
    /// Serves every request with `respond(request head)`.
    pub fn start(respond: impl Fn(&str) -> Hostile + Send + Sync + 'static) -> HostileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let url = format!("http://{}", listener.local_addr().expect("bound address"));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let respond: Arc<Responder> = Arc::new(respond);
        let recorded = heads.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let respond = respond.clone();
                let recorded = recorded.clone();
                std::thread::spawn(move || serve(stream, &*respond, &recorded));
            }
        });
        HostileServer { url, heads }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The heads (request line and headers) of every request received so far.
    pub fn requests(&self) -> Vec<String> {
        self.heads.lock().expect("heads lock").clone()
    }
}

fn serve(stream: TcpStream, respond: &Responder, heads: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(clone) => clone,
        Err(_) => return,
    });
    let mut stream = stream;
    loop {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        heads.lock().expect("heads lock").push(head.clone());
        let written = match respond(&head) {
            Hostile::Fixed {
                status,
                headers,
                body,
            } => {
                let mut text = format!(
                    "HTTP/1.1 {status} Hostile\r\ncontent-length: {}\r\n",
                    body.len()
                );
                for (name, value) in headers {
                    text.push_str(&format!("{name}: {value}\r\n"));
                }
                text.push_str("\r\n");
                text.push_str(&body);
                stream.write_all(text.as_bytes())
            }
            Hostile::Huge {
                prefix,
                length,
                announce,
            } => {
                let mut text = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n".to_owned();
                if announce {
                    text.push_str(&format!(
                        "content-length: {}\r\n",
                        prefix.len() as u64 + length
                    ));
                } else {
                    text.push_str("connection: close\r\n");
                }
                text.push_str("\r\n");
                text.push_str(&prefix);
                let chunk = vec![b' '; 64 * 1024];
                let mut left = length;
                let mut result = stream.write_all(text.as_bytes());
                while result.is_ok() && left > 0 {
                    let size = left.min(chunk.len() as u64) as usize;
                    result = stream.write_all(&chunk[..size]);
                    left -= size as u64;
                }
                // A close-delimited body ends the connection.
                return;
            }
        };
        if written.is_err() {
            return;
        }
    }
}

/// Runs like [`Run::run`] and also gives the child's peak resident set size in bytes, from the
/// kernel's own accounting of the reaped child (`wait4`'s `ru_maxrss`).
pub fn run_with_peak_rss(run: Run) -> (RunResult, u64) {
    let dir = super::fresh_dir();
    let output_file = dir.join("github_output");
    let summary_file = dir.join("step_summary");
    std::fs::write(&output_file, "").expect("create GITHUB_OUTPUT");
    std::fs::write(&summary_file, "").expect("create GITHUB_STEP_SUMMARY");
    let mut command = std::process::Command::new(super::BINARY);
    command
        .args(&run.args)
        .env_clear()
        .current_dir(&dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for name in super::KEPT_VARIABLES {
        if let Ok(value) = std::env::var(name) {
            command.env(name, value);
        }
    }
    command
        .env("GITHUB_OUTPUT", &output_file)
        .env("GITHUB_STEP_SUMMARY", &summary_file);
    for (name, value) in &run.inputs {
        command.env(format!("INPUT_{}", name.to_uppercase()), value);
    }
    command.envs(&run.env);
    #[allow(clippy::zombie_processes)] // Reaped by `wait4` below, which also gives the usage.
    let mut child = command.spawn().expect("start package-retention");
    let stdout = super::drain(child.stdout.take().expect("piped stdout"));
    let stderr = super::drain(child.stderr.take().expect("piped stderr"));
    let pid = child.id() as libc::pid_t;
    let started = Instant::now();
    let (code, peak) = loop {
        let mut status = 0;
        // SAFETY: `rusage` is plain data the kernel fills in; `pid` is our own child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if reaped == pid {
            let code = if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                -1
            };
            // Linux gives kilobytes.
            break (code, usage.ru_maxrss as u64 * 1024);
        }
        assert!(reaped == 0, "wait4 failed");
        if started.elapsed() > run.timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "package-retention still running after {:?}; killed",
                run.timeout
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let result = RunResult {
        code,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        outputs: super::parse_github_output(&super::read(&output_file)),
        summary: super::read(&summary_file),
    };
    let _ = std::fs::remove_dir_all(&dir);
    (result, peak)
}
