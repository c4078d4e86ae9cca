//! The data the action works on: package types, packages and versions as the plan sees them,
//! and how they are read from GitHub's REST answers (our own serde types: GitHub's real data is
//! looser than typed client models).

use serde::Deserialize;
use std::fmt;

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
    pub html_url: Option<String>,
}

impl Version {
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
    pub fn into_version(self) -> anyhow::Result<Version> {
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
            name: self.name,
            tags,
            html_url: self.html_url,
        })
    }
}

/// A package as the "list packages" route returns it (only the fields we use).
#[derive(Deserialize)]
pub struct RestPackage {
    pub name: String,
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
