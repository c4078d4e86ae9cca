//! The selection policy of one rule: which versions the filters select, which the `exclude-*`
//! inputs protect, and the guard numbers. Pure: no I/O, no clock.

use super::ranges::{parse_version, SemverRange};
use crate::model::{PackageType, Timestamp, Version};
use semver::Version as SemVer;
use std::collections::BTreeSet;

/// Everything one rule says about which versions to act on and which to spare.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub version_ids: Option<BTreeSet<u64>>,
    pub tags: Vec<glob::Pattern>,
    pub exclude_tags: Vec<glob::Pattern>,
    pub tag_selection: TagSelection,
    pub versions: Vec<glob::Pattern>,
    pub exclude_versions: Vec<glob::Pattern>,
    pub semver: Option<SemverRange>,
    pub prerelease: Prerelease,
    /// Seconds; compared with `updated_at`.
    pub older_than: Option<i64>,
    /// Seconds; restore mode, compared with `deleted_at`.
    pub deleted_within: Option<i64>,
    pub keep_latest: usize,
    pub keep_latest_per: KeepLatestPer,
    pub min_versions_to_keep: usize,
    pub delete_empty_package: bool,
    /// `untag`: a version that keeps a tag loses only its selected tags (containers, with `tags`).
    pub untag: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TagSelection {
    #[default]
    Any,
    Tagged,
    Untagged,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Prerelease {
    #[default]
    Any,
    Only,
    Exclude,
}

/// `keep-latest-per`: the groups of selected versions within which `keep-latest` counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KeepLatestPer {
    #[default]
    All,
    Major,
    Minor,
}

impl KeepLatestPer {
    pub fn as_str(self) -> &'static str {
        match self {
            KeepLatestPer::All => "all",
            KeepLatestPer::Major => "major",
            KeepLatestPer::Minor => "minor",
        }
    }
}

/// The group a version is counted in by `keep-latest`: a release line of its version (the
/// name; for containers the highest semver tag), or the versions without one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReleaseLine {
    /// `keep-latest-per: all`: one group.
    All,
    Major(u64),
    Minor(u64, u64),
    /// No semver version: one group of their own, under this `keep-latest-per`.
    Unversioned(KeepLatestPer),
}

impl ReleaseLine {
    /// The input value that made the group.
    pub fn per(self) -> KeepLatestPer {
        match self {
            ReleaseLine::All => KeepLatestPer::All,
            ReleaseLine::Major(_) => KeepLatestPer::Major,
            ReleaseLine::Minor(..) => KeepLatestPer::Minor,
            ReleaseLine::Unversioned(per) => per,
        }
    }
}

impl std::fmt::Display for ReleaseLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReleaseLine::All => f.write_str("the selected versions"),
            ReleaseLine::Major(major) => write!(f, "{major}.x"),
            ReleaseLine::Minor(major, minor) => write!(f, "{major}.{minor}.x"),
            ReleaseLine::Unversioned(_) => f.write_str("the versions without a semver version"),
        }
    }
}

/// The filter that a version did not pass, named as the input that holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    VersionIds,
    Tags,
    TagSelection,
    Versions,
    Semver,
    Prerelease,
    OlderThan,
    DeletedWithin,
}

impl Filter {
    pub fn input(self) -> &'static str {
        match self {
            Filter::VersionIds => "version-ids",
            Filter::Tags => "tags",
            Filter::TagSelection => "tag-selection",
            Filter::Versions => "versions",
            Filter::Semver => "semver",
            Filter::Prerelease => "prerelease",
            Filter::OlderThan => "older-than",
            Filter::DeletedWithin => "deleted-within",
        }
    }
}

/// Why an `exclude-*` input protects a version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exclusion {
    pub input: &'static str,
    pub pattern: String,
    pub matched: String,
}

impl Policy {
    /// The inputs that select versions under this policy (every version passed all of them):
    /// what a selected version was "selected by".
    pub fn selecting_inputs(&self) -> Vec<&'static str> {
        let given = [
            (self.version_ids.is_some(), Filter::VersionIds),
            (!self.tags.is_empty(), Filter::Tags),
            (
                self.tag_selection != TagSelection::Any,
                Filter::TagSelection,
            ),
            (!self.versions.is_empty(), Filter::Versions),
            (self.semver.is_some(), Filter::Semver),
            (self.prerelease != Prerelease::Any, Filter::Prerelease),
            (self.older_than.is_some(), Filter::OlderThan),
            (self.deleted_within.is_some(), Filter::DeletedWithin),
        ];
        given
            .into_iter()
            .filter(|(set, _)| *set)
            .map(|(_, filter)| filter.input())
            .collect()
    }

    /// The `exclude-*` pattern that protects this version, if any.
    pub fn exclusion(&self, version: &Version) -> Option<Exclusion> {
        for tag in &version.tags {
            if let Some(pattern) = self.exclude_tags.iter().find(|p| p.matches(tag)) {
                return Some(Exclusion {
                    input: "exclude-tags",
                    pattern: pattern.as_str().to_string(),
                    matched: tag.clone(),
                });
            }
        }
        self.version_exclusion(version)
    }

    /// The `exclude-versions` pattern that protects this version, if any.
    pub fn version_exclusion(&self, version: &Version) -> Option<Exclusion> {
        self.exclude_versions
            .iter()
            .find(|p| p.matches(&version.name))
            .map(|pattern| Exclusion {
                input: "exclude-versions",
                pattern: pattern.as_str().to_string(),
                matched: version.name.clone(),
            })
    }

    /// `untag`: the tags of this version that `tags` selects and `exclude-tags` does not protect.
    pub fn removable_tags(&self, version: &Version) -> Vec<String> {
        version
            .tags
            .iter()
            .filter(|tag| self.tags.iter().any(|p| p.matches(tag)))
            .filter(|tag| !self.exclude_tags.iter().any(|p| p.matches(tag)))
            .cloned()
            .collect()
    }

    /// `Ok` when every filter that is given holds (AND), else the first filter that does not.
    pub fn selects(
        &self,
        version: &Version,
        package_type: PackageType,
        now: Timestamp,
    ) -> Result<(), Filter> {
        let check = |holds: bool, filter: Filter| if holds { Ok(()) } else { Err(filter) };
        if let Some(ids) = &self.version_ids {
            check(ids.contains(&version.id), Filter::VersionIds)?;
        }
        if !self.tags.is_empty() {
            let any = version
                .tags
                .iter()
                .any(|tag| self.tags.iter().any(|p| p.matches(tag)));
            check(any, Filter::Tags)?;
        }
        match self.tag_selection {
            TagSelection::Any => {}
            TagSelection::Tagged => check(!version.tags.is_empty(), Filter::TagSelection)?,
            TagSelection::Untagged => check(version.tags.is_empty(), Filter::TagSelection)?,
        }
        if !self.versions.is_empty() {
            check(
                self.versions.iter().any(|p| p.matches(&version.name)),
                Filter::Versions,
            )?;
        }
        let semvers = version_semvers(version, package_type);
        if let Some(range) = &self.semver {
            check(semvers.iter().any(|v| range.matches(v)), Filter::Semver)?;
        }
        let is_prerelease = semvers.iter().any(|v| !v.pre.is_empty());
        match self.prerelease {
            Prerelease::Any => {}
            Prerelease::Only => check(is_prerelease, Filter::Prerelease)?,
            Prerelease::Exclude => check(!is_prerelease, Filter::Prerelease)?,
        }
        if let Some(age) = self.older_than {
            check(version.updated_at <= now - age, Filter::OlderThan)?;
        }
        if let Some(age) = self.deleted_within {
            let recent = version.deleted_at.is_some_and(|at| at >= now - age);
            check(recent, Filter::DeletedWithin)?;
        }
        Ok(())
    }
}

impl Policy {
    /// The group `keep-latest` counts this version in (`keep-latest-per`).
    pub fn release_line(&self, version: &Version, package_type: PackageType) -> ReleaseLine {
        if self.keep_latest_per == KeepLatestPer::All {
            return ReleaseLine::All;
        }
        let highest = version_semvers(version, package_type)
            .into_iter()
            .max_by(|a, b| a.cmp_precedence(b));
        match (highest, self.keep_latest_per) {
            (None, per) => ReleaseLine::Unversioned(per),
            (Some(v), KeepLatestPer::Major) => ReleaseLine::Major(v.major),
            (Some(v), _) => ReleaseLine::Minor(v.major, v.minor),
        }
    }
}

/// The semantic versions a version stands for: its name, or for containers its tags.
fn version_semvers(version: &Version, package_type: PackageType) -> Vec<SemVer> {
    if package_type.has_tags() {
        version
            .tags
            .iter()
            .filter_map(|t| parse_version(t))
            .collect()
    } else {
        parse_version(&version.name).into_iter().collect()
    }
}
