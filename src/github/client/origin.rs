//! Where the token may go: the origin (scheme, host, port) of a URL, and the check of a
//! registry's token realm against the registry's own origin.

use anyhow::{anyhow, bail, Result};

/// Scheme, host and port of a URL: the unit the token is trusted to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of an absolute `http`/`https` URL.
    pub fn of(url: &str) -> Result<Origin> {
        let uri: http::Uri = url
            .parse()
            .map_err(|_| anyhow!("{url:?} is not a valid URL"))?;
        let scheme = uri.scheme_str().unwrap_or("").to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => bail!("{url:?} is not an http(s) URL"),
        };
        let host = uri
            .host()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| anyhow!("{url:?} names no host"))?
            .to_ascii_lowercase();
        Ok(Origin {
            scheme,
            host,
            port: uri.port_u16().unwrap_or(default_port),
        })
    }

    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }

    /// `localhost`, `127.0.0.0/8` or `::1`: a server on this machine.
    pub fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// Whether a registry's token endpoint (`realm`) may be given the token: only on the registry
/// URL's own origin; never over plain http when the registry is https (a loopback registry
/// aside, as a test setup has it); never on another host.
pub fn check_realm(registry_url: &str, realm: &str) -> Result<()> {
    let registry = Origin::of(registry_url)?;
    let realm_origin = Origin::of(realm)
        .map_err(|error| anyhow!("the registry's token realm is refused: {error}"))?;
    if realm_origin.host != registry.host {
        bail!(
            "the registry's token realm {realm:?} is on another host than the registry ({registry}): the token is not sent there"
        );
    }
    if registry.is_https() && !realm_origin.is_https() && !registry.is_loopback() {
        bail!(
            "the registry's token realm {realm:?} is plain http while the registry is https: the token is not sent there"
        );
    }
    if realm_origin.port != registry.port && realm_origin.scheme == registry.scheme {
        bail!(
            "the registry's token realm {realm:?} is on another port than the registry ({registry}): the token is not sent there"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port() {
        let api = Origin::of("https://api.github.com").unwrap();
        assert_eq!(
            api,
            Origin::of("https://API.github.com:443/x?page=2").unwrap()
        );
        assert_ne!(api, Origin::of("http://api.github.com").unwrap());
        assert_ne!(api, Origin::of("https://api.github.com:8443").unwrap());
        assert_ne!(
            api,
            Origin::of("https://api.github.com.evil.example").unwrap()
        );
        assert!(Origin::of("ftp://api.github.com").is_err());
        assert!(Origin::of("/relative/path").is_err());
        assert!(Origin::of("https://exa mple.com").is_err());
        assert!(Origin::of("http://127.0.0.1:9").unwrap().is_loopback());
        assert!(Origin::of("http://[::1]:9").unwrap().is_loopback());
        assert!(!Origin::of("https://ghcr.io").unwrap().is_loopback());
    }

    #[test]
    fn a_realm_must_be_on_the_registry_origin() {
        check_realm("https://ghcr.io", "https://ghcr.io/token").unwrap();
        check_realm("https://ghcr.io/", "https://GHCR.io:443/token").unwrap();
        let other_host = check_realm("https://ghcr.io", "https://evil.example/token");
        assert!(format!("{:#}", other_host.unwrap_err()).contains("another host"));
        let plain = check_realm("https://ghcr.io", "http://ghcr.io/token");
        assert!(format!("{:#}", plain.unwrap_err()).contains("plain http"));
        let port = check_realm("https://ghcr.io", "https://ghcr.io:8443/token");
        assert!(format!("{:#}", port.unwrap_err()).contains("another port"));
        assert!(check_realm("https://ghcr.io", "not a url").is_err());
        // A registry on this machine (a test setup) may use plain http for its realm.
        check_realm("https://127.0.0.1:5000", "http://127.0.0.1:5000/token").unwrap();
    }
}
