//! Tests of the fake over real HTTP, with a minimal client on `std::net::TcpStream`.

mod accounts;
mod limits;
mod packages;
mod registry;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

use crate::FakeGithub;

/// The token every test world gives `alice` with all rights.
pub(crate) const TOKEN: &str = "tok";

/// An answer as read off the wire.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    pub fn message(&self) -> String {
        self.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// Sends one request on a fresh connection (`Connection: close`) and reads the whole answer.
/// Fails with `None` when nothing arrives within `timeout`.
pub(crate) fn try_send(
    fake: &FakeGithub,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> Option<Reply> {
    let address = fake.url().trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).expect("connect to the fake");
    stream.set_read_timeout(Some(timeout)).expect("timeout");
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: 0\r\n"
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let raw = String::from_utf8(raw).expect("UTF-8 answer");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a head and a body");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers = lines
        .map(|line| {
            let (name, value) = line.split_once(':').expect("a header line");
            (name.to_owned(), value.trim().to_owned())
        })
        .collect();
    Some(Reply {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// Sends one request and waits up to 10 s for its answer.
pub(crate) fn send(
    fake: &FakeGithub,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> Reply {
    try_send(fake, method, target, headers, Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no answer to {method} {target}"))
}

/// Sends an API request with `Authorization: Bearer tok`.
pub(crate) fn api(fake: &FakeGithub, method: &str, target: &str) -> Reply {
    send(fake, method, target, &[("Authorization", "Bearer tok")])
}
