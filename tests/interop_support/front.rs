//! The registry's front door on its own origin, as ghcr.io has it: `GET /token` answered by a
//! small token server (JWTs signed with an RSA key whose self-signed certificate the registry
//! trusts), every other request forwarded to the registry. A manifest the registry stores is
//! also reported to a hook, so the fake GitHub's REST side can list it (on ghcr.io the API and
//! the registry are one system).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde_json::{json, Value};

use super::distribution::Scratch;

/// Who the token server knows: a password (the `GITHUB_TOKEN` a client sends as Basic
/// credentials) and the actions it may be granted.
pub type Grants = HashMap<String, Vec<&'static str>>;

/// A manifest the registry stored through the front door.
#[derive(Clone, Debug)]
pub struct StoredManifest {
    /// `owner/name`.
    pub repository: String,
    /// The tag or digest it was pushed under.
    pub reference: String,
    pub digest: String,
    pub media_type: String,
    pub body: Vec<u8>,
}

pub type PushHook = Arc<dyn Fn(&StoredManifest) + Send + Sync>;

/// Signs registry tokens: an RSA key and its self-signed certificate, made by `openssl`.
pub struct Signer {
    key: PathBuf,
    pub cert_pem: PathBuf,
    x5c: String,
    _dir: Scratch,
}

pub const ISSUER: &str = "interop-token-server";
pub const SERVICE: &str = "interop-registry";

impl Signer {
    pub fn new() -> Signer {
        let dir = Scratch::new("signer");
        let key = dir.0.join("key.pem");
        let cert_pem = dir.0.join("cert.pem");
        openssl(
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=interop-token-server",
                "-keyout",
            ],
            &[key.to_str().unwrap(), "-out", cert_pem.to_str().unwrap()],
            &[],
        );
        let der = openssl(
            &["x509", "-outform", "DER", "-in"],
            &[cert_pem.to_str().unwrap()],
            &[],
        );
        Signer {
            key,
            cert_pem,
            x5c: base64::engine::general_purpose::STANDARD.encode(der),
            _dir: dir,
        }
    }

    /// A JWT for `subject` granting `access` (distribution's `access` claim), valid 5 minutes.
    pub fn token(&self, subject: &str, access: &Value) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        let header = json!({ "typ": "JWT", "alg": "RS256", "x5c": [self.x5c] });
        let claims = json!({
            "iss": ISSUER, "sub": subject, "aud": SERVICE,
            "exp": now + 300, "nbf": now - 10, "iat": now,
            "jti": format!("interop-{}", NEXT.fetch_add(1, Ordering::Relaxed)),
            "access": access,
        });
        let url = &base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let signed = format!(
            "{}.{}",
            url.encode(header.to_string()),
            url.encode(claims.to_string())
        );
        let signature = openssl(
            &["dgst", "-sha256", "-sign"],
            &[self.key.to_str().unwrap()],
            signed.as_bytes(),
        );
        format!("{signed}.{}", url.encode(signature))
    }
}

fn openssl(args: &[&str], more: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(args)
        .args(more)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl (the interop suite signs its registry tokens with it)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write to openssl");
    let out = child.wait_with_output().expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A request as read off the wire.
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// An answer to write back.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Serves the front door on `listener` (bound before the registry started, so that the
/// registry's `realm` could name it) until the process ends; counts the tokens issued.
pub fn serve(
    listener: TcpListener,
    upstream: SocketAddr,
    signer: Arc<Signer>,
    grants: Grants,
    on_push: PushHook,
) -> Arc<AtomicUsize> {
    let door = Arc::new(Door {
        upstream,
        signer,
        grants,
        on_push,
        tokens_issued: Arc::new(AtomicUsize::new(0)),
    });
    let tokens_issued = door.tokens_issued.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let door = door.clone();
            std::thread::spawn(move || {
                let _ = connection(stream, &door);
            });
        }
    });
    tokens_issued
}

/// What the front door knows.
struct Door {
    upstream: SocketAddr,
    signer: Arc<Signer>,
    grants: Grants,
    on_push: PushHook,
    tokens_issued: Arc<AtomicUsize>,
}

/// Answers the requests of one client connection, kept alive between them.
fn connection(stream: TcpStream, door: &Door) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    while let Some(request) = read_request(&mut reader)? {
        let answer = if request.target.starts_with("/token") {
            let answer = token_answer(&request, &door.signer, &door.grants);
            if answer.status == 200 {
                door.tokens_issued.fetch_add(1, Ordering::Relaxed);
            }
            answer
        } else {
            let answer = forward(&request, door.upstream)?;
            report_stored_manifest(&request, &answer, &door.on_push);
            answer
        };
        write_answer(&mut writer, &answer, request.method == "HEAD")?;
        if request
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"))
        {
            break;
        }
    }
    Ok(())
}

fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let (method, target) = (method.to_owned(), target.to_owned());
    let headers = read_headers(reader)?;
    let length = header(&headers, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Some(Request {
        method,
        target,
        headers,
        body,
    }))
}

fn read_headers(reader: &mut impl BufRead) -> std::io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            return Ok(headers);
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
}

/// Sends the request to the registry on a connection of its own and reads the whole answer.
fn forward(request: &Request, upstream: SocketAddr) -> std::io::Result<Answer> {
    let mut stream = TcpStream::connect(upstream)?;
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.target);
    for (name, value) in &request.headers {
        if !["connection", "keep-alive", "content-length"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
        {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        request.body.len()
    ));
    stream.write_all(head.as_bytes())?;
    stream.write_all(&request.body)?;
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line)?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(502);
    let headers = read_headers(&mut reader)?;
    let mut raw = Vec::new();
    reader.read_to_end(&mut raw)?;
    let chunked =
        header(&headers, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let body = if chunked { dechunk(&raw) } else { raw };
    Ok(Answer {
        status,
        headers,
        body,
    })
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&rest[..end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        body.extend_from_slice(&rest[start..start + size]);
        rest = &rest[(start + size + 2).min(rest.len())..];
    }
    body
}

fn write_answer(writer: &mut TcpStream, answer: &Answer, head_only: bool) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} Interop\r\n", answer.status);
    let mut length = answer.body.len().to_string();
    for (name, value) in &answer.headers {
        if name.eq_ignore_ascii_case("content-length") {
            if head_only {
                length = value.clone();
            }
            continue;
        }
        if ["connection", "transfer-encoding", "keep-alive"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
        {
            continue;
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {length}\r\n\r\n"));
    writer.write_all(head.as_bytes())?;
    if !head_only {
        writer.write_all(&answer.body)?;
    }
    writer.flush()
}

/// `GET /token?scope=…&service=…` with `Basic base64(user:password)`: a token granting each
/// requested scope the actions the password may have (distribution's token server protocol).
fn token_answer(request: &Request, signer: &Signer, grants: &Grants) -> Answer {
    let credential = request
        .header("authorization")
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(u, p)| (u.to_owned(), p.to_owned()))
        });
    let Some((user, allowed)) =
        credential.and_then(|(user, password)| grants.get(&password).map(|a| (user, a)))
    else {
        return Answer {
            status: 401,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: br#"{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}"#.to_vec(),
        };
    };
    let query = request.target.split_once('?').map_or("", |(_, q)| q);
    let access: Vec<Value> = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(key, _)| *key == "scope")
        .flat_map(|(_, value)| {
            let value = value.replace('+', " ");
            let value = percent_encoding::percent_decode_str(&value).decode_utf8_lossy();
            value.split(' ').map(str::to_owned).collect::<Vec<_>>()
        })
        .filter_map(|scope| {
            let mut parts = scope.splitn(3, ':');
            let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
            let granted: Vec<&str> = actions.split(',').filter(|a| allowed.contains(a)).collect();
            Some(json!({ "type": kind, "name": name, "actions": granted }))
        })
        .collect();
    let token = signer.token(&user, &Value::Array(access));
    Answer {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: json!({ "token": token, "access_token": token, "expires_in": 300 })
            .to_string()
            .into_bytes(),
    }
}

/// A `PUT …/manifests/<reference>` the registry answered 201: reported to the hook.
fn report_stored_manifest(request: &Request, answer: &Answer, on_push: &PushHook) {
    if request.method != "PUT" || answer.status != 201 {
        return;
    }
    let path = request.target.split('?').next().unwrap_or_default();
    let Some((repository, reference)) = path
        .strip_prefix("/v2/")
        .and_then(|rest| rest.rsplit_once("/manifests/"))
    else {
        return;
    };
    on_push(&StoredManifest {
        repository: repository.to_owned(),
        reference: reference.to_owned(),
        digest: header(&answer.headers, "docker-content-digest")
            .unwrap_or_default()
            .to_owned(),
        media_type: request
            .header("content-type")
            .unwrap_or_default()
            .to_owned(),
        body: request.body.clone(),
    });
}
