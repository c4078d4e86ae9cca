//! The data the action works on: package types, packages and versions as the plan sees them,
//! and how they are read from GitHub's REST answers (our own serde types: GitHub's real data is
//! looser than typed client models).

use serde::Deserialize;
use std::fmt;
use std::sync::{Arc, Mutex};

/// Seconds since the Unix epoch (UTC).
pub type Timestamp = i64;

/// The six package types GitHub Packages knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PackageType {
    Npm,
    Maven,
    Rubygems,
    Nuget,
    Docker,
    Container,
}

impl PackageType {
    pub const ALL: [PackageType; 6] = [
        PackageType::Npm,
        PackageType::Maven,
        PackageType::Rubygems,
        PackageType::Nuget,
        PackageType::Docker,
        PackageType::Container,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PackageType::Npm => "npm",
            PackageType::Maven => "maven",
            PackageType::Rubygems => "rubygems",
            PackageType::Nuget => "nuget",
            PackageType::Docker => "docker",
            PackageType::Container => "container",
        }
    }

    pub fn parse(text: &str) -> Option<PackageType> {
        PackageType::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// Container-like types carry tags, and GitHub refuses to delete their last *tagged* version.
    pub fn has_tags(self) -> bool {
        matches!(self, PackageType::Docker | PackageType::Container)
    }
}

/// Why `name` cannot be a GitHub package name, if it cannot: GitHub's names are ASCII letters,
/// digits, `.`, `_`, `-` and (containers) `/` between non-empty segments, never `.` or `..`.
/// With `glob`, the glob characters `*`, `?`, `[`, `]`, `!` are allowed too.
pub fn package_name_problem(name: &str, glob: bool) -> Option<&'static str> {
    let allowed = |c: char| {
        c.is_ascii_alphanumeric()
            || matches!(c, '.' | '_' | '-' | '/')
            || (glob && matches!(c, '*' | '?' | '[' | ']' | '!'))
    };
    if name.is_empty() {
        return Some("a package name cannot be empty");
    }
    if !name.chars().all(allowed) {
        return Some("GitHub package names hold only ASCII letters, digits, `.`, `_`, `-` and `/`");
    }
    if name
        .split('/')
        .any(|segment| matches!(segment, "" | "." | ".."))
    {
        return Some("a package name (or a `/` part of it) cannot be empty, `.` or `..`");
    }
    None
}

/// How an owner is looked up: `auto` asks GitHub whether it is a user or an organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OwnerType {
    Auto,
    User,
    Org,
}

/// Whether a package linked to `full_name` (`None`: to no repository) is one `repository`
/// names. Case-insensitive, as GitHub's names are.
pub fn repository_matches(patterns: &[glob::Pattern], full_name: Option<&str>) -> bool {
    let options = glob::MatchOptions {
        case_sensitive: false,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    full_name.is_some_and(|name| patterns.iter().any(|p| p.matches_with(name, options)))
}

/// Whether a package name is a glob (and so expanded by listing the owner's packages).
pub fn is_glob(name: &str) -> bool {
    name.contains(['*', '?', '['])
}

impl fmt::Display for PackageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One package version, reduced to what the plan and the report need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub id: u64,
    /// npm/maven/nuget/rubygems version, or the container manifest digest.
    pub name: String,
    pub tags: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
    pub html_url: Option<VersionLink>,
}

/// A version's web page. The pages of one package's versions differ only at the end (the id,
/// or `?version=<name>`), so versions share the beginning instead of each keeping a copy: at
/// 100,000 versions that is megabytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionLink {
    ById(Arc<str>),
    ByName(Arc<str>),
    Other(Box<str>),
}

/// Hands out the shared beginnings of version links while a package is read.
#[derive(Default)]
pub struct LinkPrefixes(Mutex<Option<Arc<str>>>);

impl LinkPrefixes {
    fn link(&self, url: String, id: u64, name: &str) -> VersionLink {
        let by_id = url.strip_suffix(&id.to_string());
        let by_name = url
            .strip_suffix(name)
            .and_then(|p| p.strip_suffix("?version="));
        let (prefix, by_name) = match (by_id, by_name) {
            (Some(prefix), _) => (prefix, false),
            (None, Some(prefix)) => (prefix, true),
            (None, None) => return VersionLink::Other(url.into_boxed_str()),
        };
        let mut shared = self.0.lock().expect("link prefixes lock");
        let prefix = match shared.as_ref() {
            Some(known) if **known == *prefix => known.clone(),
            _ => shared.insert(Arc::from(prefix)).clone(),
        };
        if by_name {
            VersionLink::ByName(prefix)
        } else {
            VersionLink::ById(prefix)
        }
    }
}

impl Version {
    /// The version's web page, when GitHub gave one.
    pub fn link(&self) -> Option<String> {
        self.html_url.as_ref().map(|link| match link {
            VersionLink::ById(prefix) => format!("{prefix}{}", self.id),
            VersionLink::ByName(prefix) => format!("{prefix}?version={}", self.name),
            VersionLink::Other(url) => url.to_string(),
        })
    }

    /// Newest first: by `created_at`, the id breaking ties.
    pub fn recency_key(&self) -> (Timestamp, u64) {
        (self.created_at, self.id)
    }
}

/// A package version exactly as the REST API returns it (only the fields we use).
#[derive(Deserialize)]
pub struct RestVersion {
    pub id: u64,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub deleted_at: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub metadata: Option<RestMetadata>,
}

#[derive(Deserialize, Default)]
pub struct RestMetadata {
    #[serde(default)]
    pub container: Option<RestTags>,
    #[serde(default)]
    pub docker: Option<RestDockerTags>,
}

#[derive(Deserialize, Default)]
pub struct RestTags {
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Deserialize, Default)]
pub struct RestDockerTags {
    #[serde(default)]
    pub tag: Vec<String>,
}

impl RestVersion {
    pub fn into_version(self, links: &LinkPrefixes) -> anyhow::Result<Version> {
        let tags = match self.metadata {
            Some(RestMetadata {
                container: Some(container),
                ..
            }) => container.tags,
            Some(RestMetadata {
                docker: Some(docker),
                ..
            }) => docker.tag,
            _ => Vec::new(),
        };
        Ok(Version {
            id: self.id,
            created_at: parse_timestamp(&self.created_at)?,
            updated_at: parse_timestamp(&self.updated_at)?,
            deleted_at: self
                .deleted_at
                .as_deref()
                .map(parse_timestamp)
                .transpose()?,
            html_url: self
                .html_url
                .map(|url| links.link(url, self.id, &self.name)),
            name: self.name,
            tags,
        })
    }
}

/// A package as the "list packages" route returns it (only the fields we use).
#[derive(Deserialize)]
pub struct RestPackage {
    pub name: String,
    /// The repository the package is linked to, if any.
    #[serde(default)]
    pub repository: Option<RestRepository>,
}

#[derive(Deserialize)]
pub struct RestRepository {
    pub full_name: String,
}

impl RestPackage {
    /// `owner/name` of the repository the package is linked to.
    pub fn repository_name(&self) -> Option<&str> {
        self.repository.as_ref().map(|r| r.full_name.as_str())
    }
}

pub fn parse_timestamp(text: &str) -> anyhow::Result<Timestamp> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|time| time.timestamp())
        .map_err(|error| anyhow::anyhow!("bad timestamp {text:?}: {error}"))
}

pub fn format_timestamp(time: Timestamp) -> String {
    chrono::DateTime::from_timestamp(time, 0)
        .map(|time| time.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

pub fn now() -> Timestamp {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_links_share_their_beginning_and_read_back_whole() {
        let links = LinkPrefixes::default();
        let by_id = links.link(
            "https://github.com/orgs/acme/packages/container/app/42".into(),
            42,
            "sha256:ab",
        );
        let by_name = links.link(
            "https://github.com/acme/lib/packages/7?version=1.2.0".into(),
            9,
            "1.2.0",
        );
        let other = links.link("https://example.com/x".into(), 1, "1.0");
        let again = links.link(
            "https://github.com/acme/lib/packages/7?version=1.3.0".into(),
            10,
            "1.3.0",
        );
        let (VersionLink::ByName(first), VersionLink::ByName(second)) = (&by_name, &again) else {
            panic!("{by_name:?} {again:?}");
        };
        assert!(Arc::ptr_eq(first, second), "one shared prefix");
        let version = |id: u64, name: &str, link: VersionLink| Version {
            id,
            name: name.into(),
            tags: Vec::new(),
            created_at: 0,
            updated_at: 0,
            deleted_at: None,
            html_url: Some(link),
        };
        assert_eq!(
            version(42, "sha256:ab", by_id).link().unwrap(),
            "https://github.com/orgs/acme/packages/container/app/42"
        );
        assert_eq!(
            version(10, "1.3.0", again).link().unwrap(),
            "https://github.com/acme/lib/packages/7?version=1.3.0"
        );
        assert_eq!(
            version(1, "1.0", other).link().unwrap(),
            "https://example.com/x"
        );
    }
}
