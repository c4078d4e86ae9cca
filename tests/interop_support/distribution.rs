//! The CNCF distribution registry (Debian's `docker-registry`) as a child process on a free
//! port of 127.0.0.1, with its storage in a scratch folder; stopped when dropped.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The registry binary: `PACKAGE_RETENTION_INTEROP_REGISTRY`, else `docker-registry` (Debian's
/// name for distribution's `registry`).
fn registry_binary() -> String {
    std::env::var("PACKAGE_RETENTION_INTEROP_REGISTRY")
        .unwrap_or_else(|_| "docker-registry".to_owned())
}

/// A folder under the temporary directory, new for each call, removed by [`Scratch`]'s drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(what: &str) -> Scratch {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "package-retention-interop-{}-{what}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a scratch folder");
        Scratch(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A free port on 127.0.0.1 (free when this returns; the registry binds it right after).
pub fn free_address() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

/// Token authentication: the registry trusts tokens signed by the certificate in `cert_pem`
/// from `issuer` for `service`, and sends clients to `realm`.
pub struct TokenAuth<'a> {
    pub realm: &'a str,
    pub service: &'a str,
    pub issuer: &'a str,
    pub cert_pem: &'a Path,
}

/// A running registry.
pub struct Distribution {
    child: Child,
    pub address: SocketAddr,
    log: PathBuf,
    _config_dir: Scratch,
}

impl Distribution {
    /// Starts a registry storing under `storage` (several registries may share one), with no
    /// authentication or with `auth`; waits until it answers.
    pub fn start(storage: &Path, auth: Option<TokenAuth<'_>>) -> Distribution {
        let dir = Scratch::new("registry");
        let address = free_address();
        let auth = auth.map_or_else(String::new, |auth| {
            format!(
                "auth:\n  token:\n    realm: \"{}\"\n    service: \"{}\"\n    issuer: \"{}\"\n    rootcertbundle: \"{}\"\n",
                auth.realm,
                auth.service,
                auth.issuer,
                auth.cert_pem.display()
            )
        });
        // schema1 pushes (skopeo --format v2s1) need `compatibility.schema1`; `http.secret`
        // is shared so that an upload started on one registry could be finished on another.
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: \"{}\"\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: {address}\n  secret: interop-suite\ncompatibility:\n  schema1:\n    enabled: true\n{auth}",
            storage.display()
        );
        let config_path = dir.0.join("config.yml");
        std::fs::write(&config_path, config).expect("write the registry config");
        let log = dir.0.join("registry.log");
        let child = Command::new(registry_binary())
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).expect("log file"))
            .stderr(std::fs::File::create(dir.0.join("registry.err")).expect("log file"))
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start `{} serve` ({e}): install Debian's docker-registry (`bash .ci/run interop` does)",
                    registry_binary()
                )
            });
        let registry = Distribution {
            child,
            address,
            log,
            _config_dir: dir,
        };
        registry.wait_until_listening();
        registry
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect(self.address).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "the registry did not listen on {}: {}",
            self.address,
            self.logs()
        );
    }

    /// What the registry logged.
    pub fn logs(&self) -> String {
        let err = self.log.with_file_name("registry.err");
        format!(
            "{}{}",
            std::fs::read_to_string(&self.log).unwrap_or_default(),
            std::fs::read_to_string(err).unwrap_or_default()
        )
    }
}

impl Drop for Distribution {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
