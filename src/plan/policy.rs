//! The selection policy of one rule: which versions the filters select, which the `exclude-*`
//! inputs protect, and the guard numbers. Also the parsers for the small languages the inputs
//! use (globs, semver requirements, ages). Pure: no I/O, no clock.

use crate::model::{PackageType, Timestamp, Version};
use semver::Version as SemVer;
use std::cmp::Ordering;
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

/// A version name as semver: a leading `v` is dropped, `1.2` means `1.2.0`, `1` means `1.0.0`;
/// four parts or anything else that is not a version gives `None`.
pub fn parse_version(text: &str) -> Option<SemVer> {
    let text = text.trim();
    let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
    let core_end = text.find(['-', '+']).unwrap_or(text.len());
    let (core, rest) = text.split_at(core_end);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    if parts
        .iter()
        .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut filled = parts.join(".");
    for _ in parts.len()..3 {
        filled.push_str(".0");
    }
    SemVer::parse(&format!("{filled}{rest}")).ok()
}

/// A semver requirement: alternatives separated by `||`, each a set of comparators separated by
/// `,`, all of which must hold. Partial versions in comparators are ranges as Cargo and npm read
/// them (`1.2` is every `1.2.x`, pre-releases included), never zero-filled; everything compares
/// by precedence only (`<2.0.0` holds for `2.0.0-rc.1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SemverRange {
    alternatives: Vec<Vec<Comparator>>,
}

/// One comparator as the interval of versions it admits.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Comparator {
    lower: Bound,
    upper: Bound,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Bound {
    Unbounded,
    Inclusive(SemVer),
    Exclusive(SemVer),
}

/// The version a comparator names: a full version is a single point, a partial one (`1`, `1.2`,
/// `1.x`, `1.2.*`) stands for every version that shares its given parts.
enum Operand {
    Full(SemVer),
    Partial { major: u64, minor: Option<u64> },
}

#[derive(Clone, Copy)]
enum Op {
    Exact,
    Greater,
    GreaterEq,
    Less,
    LessEq,
    Tilde,
    Caret,
}

/// `major.minor.patch-0`: the lowest version (by precedence) of that release, pre-releases included.
fn lowest(major: u64, minor: u64, patch: u64) -> SemVer {
    let mut version = SemVer::new(major, minor, patch);
    version.pre = semver::Prerelease::new("0").expect("0 is a pre-release");
    version
}

/// The first version past `major.minor.patch`, bumped at the given part, as its lowest version;
/// `None` past the largest number.
fn bumped(major: u64, minor: Option<u64>, patch: Option<u64>) -> Option<SemVer> {
    match (minor, patch) {
        (None, _) => Some(lowest(major.checked_add(1)?, 0, 0)),
        (Some(minor), None) => Some(lowest(major, minor.checked_add(1)?, 0)),
        (Some(minor), Some(patch)) => Some(lowest(major, minor, patch.checked_add(1)?)),
    }
}

impl SemverRange {
    pub fn parse(text: &str) -> Result<SemverRange, String> {
        let mut alternatives = Vec::new();
        for alternative in text.split("||") {
            let mut comparators = Vec::new();
            for comparator in alternative.split(',') {
                comparators.push(Comparator::parse(comparator.trim())?);
            }
            alternatives.push(comparators);
        }
        Ok(SemverRange { alternatives })
    }

    pub fn matches(&self, version: &SemVer) -> bool {
        self.alternatives
            .iter()
            .any(|comparators| comparators.iter().all(|c| c.matches(version)))
    }
}

impl Comparator {
    fn parse(text: &str) -> Result<Comparator, String> {
        if text.is_empty() {
            return Err("an empty comparator (check the `,` and `||` separators)".into());
        }
        if ["*", "x", "X"].contains(&text) {
            return Ok(Comparator {
                lower: Bound::Unbounded,
                upper: Bound::Unbounded,
            });
        }
        let operator = [
            (">=", Op::GreaterEq),
            ("<=", Op::LessEq),
            (">", Op::Greater),
            ("<", Op::Less),
            ("=", Op::Exact),
            ("~", Op::Tilde),
            ("^", Op::Caret),
        ]
        .into_iter()
        .find_map(|(prefix, op)| text.strip_prefix(prefix).map(|rest| (op, rest)));
        let rest = operator.map_or(text, |(_, rest)| rest).trim();
        // Without an operator a version means `^`, but one with a wildcard (`1.2.*`) means its
        // range (`=`), as Cargo and npm read them.
        let core = rest.split('-').next().unwrap_or(rest);
        let op = match operator {
            Some((op, _)) => op,
            None if core.contains(['x', 'X', '*']) => Op::Exact,
            None => Op::Caret,
        };
        let operand = Operand::parse(rest).map_err(|problem| {
            let hint = if rest.contains(char::is_whitespace) {
                " (separate comparators with `,`: npm's `>=1.2 <2` is `>=1.2, <2` here)"
            } else {
                ""
            };
            format!(
                "{rest:?} is not a version such as 1.2.3, v1.2, 1.x or 2.0.0-rc.1: {problem}{hint}"
            )
        })?;
        Ok(Comparator::of(op, operand))
    }

    /// The interval an operator makes of its operand.
    fn of(op: Op, operand: Operand) -> Comparator {
        use Bound::{Exclusive, Inclusive, Unbounded};
        // Beyond the largest version there is nothing: an empty interval.
        let above_all = || Exclusive(SemVer::new(u64::MAX, u64::MAX, u64::MAX));
        let until = |upper: Option<SemVer>| upper.map_or(Unbounded, Exclusive);
        let (lower, upper) = match (op, operand) {
            (op, Operand::Partial { major, minor }) => {
                let low = lowest(major, minor.unwrap_or(0), 0);
                let high = bumped(major, minor, None);
                match op {
                    Op::Exact | Op::Tilde => (Inclusive(low), until(high)),
                    Op::Greater => (high.map_or_else(above_all, Inclusive), Unbounded),
                    Op::GreaterEq => (Inclusive(low), Unbounded),
                    Op::Less => (Unbounded, Exclusive(low)),
                    Op::LessEq => (Unbounded, until(high)),
                    Op::Caret => {
                        let high = match minor {
                            Some(minor) if major == 0 => bumped(0, Some(minor), None),
                            _ => bumped(major, None, None),
                        };
                        (Inclusive(low), until(high))
                    }
                }
            }
            (op, Operand::Full(version)) => {
                let (major, minor, patch) = (version.major, version.minor, version.patch);
                match op {
                    Op::Exact => (Inclusive(version.clone()), Inclusive(version)),
                    Op::Greater => (Exclusive(version), Unbounded),
                    Op::GreaterEq => (Inclusive(version), Unbounded),
                    Op::Less => (Unbounded, Exclusive(version)),
                    Op::LessEq => (Unbounded, Inclusive(version)),
                    Op::Tilde => (Inclusive(version), until(bumped(major, Some(minor), None))),
                    Op::Caret => {
                        let high = if major > 0 {
                            bumped(major, None, None)
                        } else if minor > 0 {
                            bumped(0, Some(minor), None)
                        } else {
                            bumped(0, Some(0), Some(patch))
                        };
                        (Inclusive(version), until(high))
                    }
                }
            }
        };
        Comparator { lower, upper }
    }

    fn matches(&self, candidate: &SemVer) -> bool {
        let above_lower = match &self.lower {
            Bound::Unbounded => true,
            Bound::Inclusive(low) => candidate.cmp_precedence(low) != Ordering::Less,
            Bound::Exclusive(low) => candidate.cmp_precedence(low) == Ordering::Greater,
        };
        let below_upper = match &self.upper {
            Bound::Unbounded => true,
            Bound::Inclusive(high) => candidate.cmp_precedence(high) != Ordering::Greater,
            Bound::Exclusive(high) => candidate.cmp_precedence(high) == Ordering::Less,
        };
        above_lower && below_upper
    }
}

impl Operand {
    /// `[v]MAJOR[.MINOR[.PATCH[-PRE]]]`, where MINOR and PATCH may be `x`, `X` or `*` (and
    /// then every part after them too); a pre-release needs all three numbers.
    fn parse(text: &str) -> Result<Operand, String> {
        let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
        if text.contains('+') {
            return Err("build metadata (`+…`) has no place in a requirement".into());
        }
        let core_end = text.find('-').unwrap_or(text.len());
        let (core, pre) = text.split_at(core_end);
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() > 3 {
            return Err("more than three parts".into());
        }
        let mut numbers = Vec::new();
        for (index, part) in parts.iter().enumerate() {
            let wildcard = ["x", "X", "*"].contains(part);
            if wildcard && index == 0 {
                return Err("a wildcard major version is `*` alone".into());
            }
            if wildcard {
                continue;
            }
            if numbers.len() < index {
                return Err(format!("`{part}` after a wildcard"));
            }
            let valid = !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_digit())
                && (part.len() == 1 || !part.starts_with('0'));
            if !valid {
                return Err(format!(
                    "`{part}` is not a number (no sign, no leading zero)"
                ));
            }
            let number = part
                .parse::<u64>()
                .map_err(|_| format!("`{part}` is too large"))?;
            numbers.push(number);
        }
        match numbers[..] {
            [major, minor, patch] => {
                let mut version = SemVer::new(major, minor, patch);
                if let Some(pre) = pre.strip_prefix('-') {
                    version.pre = semver::Prerelease::new(pre)
                        .ok()
                        .filter(|p| !p.is_empty())
                        .ok_or_else(|| format!("`{pre}` is not a pre-release"))?;
                }
                Ok(Operand::Full(version))
            }
            _ if !pre.is_empty() => {
                Err("a pre-release needs a full version such as 1.2.0-rc.1".into())
            }
            [major, minor] => Ok(Operand::Partial {
                major,
                minor: Some(minor),
            }),
            [major] => Ok(Operand::Partial { major, minor: None }),
            _ => Err("no version".into()),
        }
    }
}

/// A comma/newline separated list of globs.
pub fn parse_globs(text: &str) -> Result<Vec<glob::Pattern>, String> {
    split_list(text)
        .map(|item| {
            glob::Pattern::new(item)
                .map_err(|error| format!("{item:?} is not a valid glob: {error}"))
        })
        .collect()
}

/// `repository`: globs on a repository's `owner/name`, a bare name (`api-*`) standing for the
/// owner's repository of that name.
pub fn parse_repositories(text: &str, owner: &str) -> Result<Vec<glob::Pattern>, String> {
    split_list(text)
        .map(|item| {
            let full = match item.split_once('/') {
                None => format!("{owner}/{item}"),
                Some((repo_owner, name))
                    if !repo_owner.is_empty() && !name.is_empty() && !name.contains('/') =>
                {
                    item.to_string()
                }
                Some(_) => {
                    return Err(format!(
                        "{item:?} is not a repository such as owner/name or name"
                    ))
                }
            };
            glob::Pattern::new(&full)
                .map_err(|error| format!("{item:?} is not a valid glob: {error}"))
        })
        .collect()
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

/// A comma/newline separated list of version ids.
pub fn parse_ids(text: &str) -> Result<BTreeSet<u64>, String> {
    split_list(text)
        .map(|item| {
            item.parse::<u64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| format!("{item:?} is not a version id (a positive whole number)"))
        })
        .collect()
}

/// Items separated by commas or newlines, trimmed, empty ones dropped.
pub fn split_list(text: &str) -> impl Iterator<Item = &str> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

/// An age such as `90d`, `2w`, `36h`, `45m`, `30s`, or several together (`1d12h`), in seconds.
pub fn parse_age(text: &str) -> Result<i64, String> {
    let invalid = || format!("{text:?} is not an age such as 90d, 2w, 36h or 45m");
    let mut total: i64 = 0;
    let mut digits = String::new();
    let mut units = 0;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let seconds = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(invalid()),
        };
        let amount: i64 = digits.parse().map_err(|_| invalid())?;
        total = amount
            .checked_mul(seconds)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(invalid)?;
        digits.clear();
        units += 1;
    }
    if units == 0 || !digits.is_empty() {
        return Err(invalid());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(text: &str) -> SemverRange {
        SemverRange::parse(text).unwrap()
    }

    fn holds(requirement: &str, version: &str) -> bool {
        range(requirement).matches(&parse_version(version).unwrap())
    }

    #[test]
    fn versions_are_read_loosely_but_not_too_loosely() {
        assert_eq!(parse_version("v1.2"), Some(SemVer::new(1, 2, 0)));
        assert_eq!(parse_version("3"), Some(SemVer::new(3, 0, 0)));
        assert_eq!(parse_version("1.2-rc.1").unwrap().pre.as_str(), "rc.1");
        assert_eq!(parse_version("1.0.0.1"), None);
        assert_eq!(parse_version("latest"), None);
        assert_eq!(parse_version("sha256:abc"), None);
        assert_eq!(parse_version("1..2"), None);
    }

    #[test]
    fn ranges_compare_by_precedence_only() {
        assert!(holds("<2.0.0", "2.0.0-rc.1"));
        assert!(holds("<2.0.0", "1.5.0-rc.1"));
        assert!(!holds(">=1.0.0", "1.0.0-rc.1"));
        assert!(holds(">=1.0, <2.0 || ^3.1", "3.4.0"));
        assert!(!holds(">=1.0, <2.0 || ^3.1", "3.0.9"));
        assert!(holds(">=1.0, <2.0 || ^3.1", "v1.9"));
        assert!(!holds(">=1.0, <2.0 || ^3.1", "2.0.0"));
        assert!(holds("=v1.2", "1.2.0"));
        assert!(
            holds("=1.2.3", "1.2.3+build.7"),
            "build metadata has no precedence"
        );
        assert!(holds("> 1.0", "1.1.0"));
        assert!(!holds("> 1.0", "1.0.1"));
    }

    /// Every operator, with a partial and a full version and with pre-releases: for each
    /// requirement, the versions it selects and the versions it does not.
    #[test]
    fn every_operator_with_partial_and_full_versions() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            // A partial version is the range of every version sharing its parts.
            (
                "=1",
                &["1.0.0-0", "1.0.0", "1.9.9", "1.5.0-rc.1"],
                &["0.9.9", "2.0.0-rc.1", "2.0.0"],
            ),
            (
                "=1.2",
                &["1.2.0-rc.1", "1.2.0", "1.2.9"],
                &["1.1.9", "1.3.0-0", "1.3.0"],
            ),
            (
                "1.2.*",
                &["1.2.0-0", "1.2.0", "1.2.99"],
                &["1.1.0", "1.3.0-alpha", "1.3.0"],
            ),
            ("1.2.x", &["1.2.5"], &["1.3.0", "1.1.0"]),
            (
                "1.x",
                &["1.0.0", "1.99.0", "1.3.0-rc.1"],
                &["2.0.0", "0.9.0", "2.0.0-rc.1"],
            ),
            ("1.X.x", &["1.4.2"], &["2.0.0"]),
            ("*", &["0.0.0-0", "0.0.1", "9.9.9", "2.0.0-rc.1"], &[]),
            (
                ">1",
                &["2.0.0-0", "2.0.0-rc.1", "2.0.0", "3.1.0"],
                &["1.0.1", "1.9.9", "1.0.0"],
            ),
            (
                ">1.2",
                &["1.3.0-0", "1.3.0", "2.0.0"],
                &["1.2.0", "1.2.9", "1.2.9-rc.1"],
            ),
            (">1.x", &["2.0.0"], &["1.9.0"]),
            (
                ">=1",
                &["1.0.0-0", "1.0.0-rc.1", "1.0.0", "5.0.0"],
                &["0.9.9", "0.9.9-rc.1"],
            ),
            (
                ">=1.2",
                &["1.2.0-rc.1", "1.2.0", "1.3.0"],
                &["1.1.9", "1.1.9-rc.1"],
            ),
            (
                "<1",
                &["0.9.9", "0.0.0-0"],
                &["1.0.0-0", "1.0.0-rc.1", "1.0.0"],
            ),
            (
                "<1.2",
                &["1.1.9", "1.1.9-rc.1"],
                &["1.2.0-rc.1", "1.2.0", "1.2.1"],
            ),
            (
                "<=1",
                &["1.9.9", "1.99.0-rc.1", "0.1.0"],
                &["2.0.0-0", "2.0.0"],
            ),
            (
                "<=1.2",
                &["1.2.0", "1.2.9", "1.2.9-rc.1"],
                &["1.3.0-0", "1.3.0"],
            ),
            ("<=1.2.x", &["1.2.9"], &["1.3.0"]),
            // A full version is a single point, compared by precedence.
            (
                "=1.2.3",
                &["1.2.3", "v1.2.3"],
                &["1.2.3-rc.1", "1.2.4", "1.2.4-rc.1"],
            ),
            (
                ">1.2.3",
                &["1.2.4-rc.1", "1.2.4", "2.0.0"],
                &["1.2.3", "1.2.3-rc.1"],
            ),
            (">=1.2.3", &["1.2.3", "1.2.4-0"], &["1.2.3-rc.1", "1.2.2"]),
            ("<1.2.3", &["1.2.3-rc.1", "1.2.2"], &["1.2.3", "1.2.4-0"]),
            ("<=1.2.3", &["1.2.3", "1.2.3-rc.1"], &["1.2.4-0", "1.2.4"]),
            ("=2.0.0-rc.1", &["2.0.0-rc.1"], &["2.0.0-rc.2", "2.0.0"]),
            (
                ">2.0.0-rc.1",
                &["2.0.0-rc.2", "2.0.0"],
                &["2.0.0-rc.1", "2.0.0-beta"],
            ),
            (
                "<2.0.0-rc.1",
                &["2.0.0-beta", "1.9.9"],
                &["2.0.0-rc.1", "2.0.0"],
            ),
            // Tilde: patch updates from a full version; a partial one is its range.
            (
                "~1.2.3",
                &["1.2.3", "1.2.9", "1.2.9-rc.1"],
                &["1.2.2", "1.2.3-rc.1", "1.3.0-0", "1.3.0"],
            ),
            (
                "~1.2.3-rc.1",
                &["1.2.3-rc.1", "1.2.3", "1.2.5"],
                &["1.2.3-beta", "1.3.0"],
            ),
            (
                "~1.2",
                &["1.2.0-0", "1.2.0", "1.2.9"],
                &["1.1.9", "1.3.0-0", "1.3.0"],
            ),
            (
                "~1",
                &["1.0.0-0", "1.0.0", "1.9.9"],
                &["0.9.9", "2.0.0-0", "2.0.0"],
            ),
            ("~0", &["0.0.1", "0.9.0"], &["1.0.0"]),
            ("~1.x", &["1.5.0"], &["2.0.0"]),
            // Caret: up to the next change of the first non-zero part.
            (
                "^1.2.3",
                &["1.2.3", "1.9.0", "1.9.0-rc.1"],
                &["1.2.2", "1.2.3-rc.1", "2.0.0-0", "2.0.0"],
            ),
            (
                "^0.2.3",
                &["0.2.3", "0.2.9"],
                &["0.2.2", "0.3.0-0", "0.3.0"],
            ),
            (
                "^0.0.3",
                &["0.0.3"],
                &["0.0.3-rc.1", "0.0.4-0", "0.0.4", "0.0.2"],
            ),
            (
                "^0.0.3-rc.1",
                &["0.0.3-rc.1", "0.0.3"],
                &["0.0.3-beta", "0.0.4"],
            ),
            (
                "^1.2",
                &["1.2.0-0", "1.2.0", "1.9.9"],
                &["1.1.9", "2.0.0-0"],
            ),
            ("^1", &["1.0.0-0", "1.9.9"], &["0.9.9", "2.0.0-0"]),
            (
                "^0.2",
                &["0.2.0-0", "0.2.0", "0.2.9"],
                &["0.1.9", "0.3.0-0", "0.3.0"],
            ),
            ("^0.0", &["0.0.0-0", "0.0.9"], &["0.1.0-0", "0.1.0"]),
            (
                "^0",
                &["0.0.0-0", "0.0.1", "0.9.9", "0.9.9-rc.1"],
                &["1.0.0-0", "1.0.0"],
            ),
            ("^0.x", &["0.5.0"], &["1.0.0"]),
            // No operator means `^`.
            ("1.2.3", &["1.2.3", "1.9.0"], &["1.2.2", "2.0.0"]),
            ("1.2", &["1.2.0", "1.9.0"], &["1.1.0", "2.0.0"]),
            ("0.2", &["0.2.5"], &["0.3.0"]),
            ("1", &["1.0.0", "1.9.9"], &["2.0.0"]),
            // A leading `v`, `,` conjunctions and `||` alternatives.
            ("v1.2", &["1.9.0"], &["2.0.0"]),
            (
                ">=v1.2.3, <v1.3",
                &["1.2.3", "1.2.9"],
                &["1.3.0-0", "1.2.2"],
            ),
            (">1.2, <=1.4", &["1.3.0", "1.4.9"], &["1.2.9", "1.5.0-0"]),
            (
                "~1.2 || ^3",
                &["1.2.1", "3.9.0"],
                &["1.3.0", "2.0.0", "4.0.0"],
            ),
            (
                "<1 || >=2.0.0-0, <2.1",
                &["0.5.0", "2.0.0-rc.1", "2.0.5"],
                &["1.0.0", "2.1.0"],
            ),
        ];
        for (requirement, inside, outside) in cases {
            for version in *inside {
                assert!(
                    holds(requirement, version),
                    "{requirement} should select {version}"
                );
            }
            for version in *outside {
                assert!(
                    !holds(requirement, version),
                    "{requirement} should not select {version}"
                );
            }
        }
    }

    #[test]
    fn names_and_tags_stay_zero_filled() {
        // Read as versions, a name `1.2` is the single version 1.2.0, whatever the requirement.
        assert!(holds(">1.1.9", "1.2"));
        assert!(!holds(">1.2.0", "v1.2"));
        assert!(holds("=1.2.0", "1.2"));
        assert!(!holds("=1.2.1", "1.2"));
    }

    #[test]
    fn malformed_requirements_are_refused() {
        for bad in [
            "",
            ">=",
            "1.0.0.1",
            ">=1.0,",
            "||",
            "abc",
            "=>1.0",
            "x.1",
            ">*",
            "1.x.3",
            "1.*.3",
            "1.2-rc.1",
            "1.x-rc.1",
            "1.2.3+build",
            "01.2",
            "1.2.3-",
            ">=1.2 <2",
            "1.2.3 - 2.0.0",
            "~>1.2",
            "99999999999999999999",
        ] {
            assert!(
                SemverRange::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
        let npm_style = SemverRange::parse(">=1.2 <2").unwrap_err();
        assert!(npm_style.contains("`,`"), "{npm_style}");
    }

    /// The `semver` crate's requirement, when it can read the requirement at all.
    fn cargo_requirement(text: &str) -> semver::VersionReq {
        semver::VersionReq::parse(text).unwrap_or_else(|e| panic!("semver refuses {text:?}: {e}"))
    }

    fn single_comparator() -> impl Strategy<Value = String> {
        let op = prop::sample::select(vec!["", "=", ">", ">=", "<", "<=", "~", "^"]);
        let number = 0u64..4;
        let wildcard = prop::sample::select(vec!["x", "X", "*"]);
        let pre = prop::sample::select(vec!["alpha", "rc.1", "0", "beta.2"]);
        let version = prop_oneof![
            number.clone().prop_map(|m| m.to_string()),
            (number.clone(), number.clone()).prop_map(|(m, n)| format!("{m}.{n}")),
            (number.clone(), number.clone(), number.clone())
                .prop_map(|(m, n, p)| format!("{m}.{n}.{p}")),
            (number.clone(), wildcard.clone()).prop_map(|(m, w)| format!("{m}.{w}")),
            (number.clone(), wildcard.clone(), wildcard.clone())
                .prop_map(|(m, w, v)| format!("{m}.{w}.{v}")),
            (number.clone(), number.clone(), wildcard).prop_map(|(m, n, w)| format!("{m}.{n}.{w}")),
            (number.clone(), number.clone(), number, pre)
                .prop_map(|(m, n, p, r)| format!("{m}.{n}.{p}-{r}")),
        ];
        prop_oneof![
            1 => Just("*".to_string()),
            30 => (op, version).prop_map(|(op, version)| format!("{op}{version}")),
        ]
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        /// On release versions (no pre-release, where the two differ on purpose: the crate hides
        /// pre-releases from comparators without one), every single-comparator requirement
        /// selects exactly what Cargo's `semver::VersionReq::matches` selects.
        #[test]
        fn single_comparators_agree_with_cargo_on_release_versions(
            requirement in single_comparator(),
            major in 0u64..5,
            minor in 0u64..5,
            patch in 0u64..5,
        ) {
            let ours = SemverRange::parse(&requirement).unwrap();
            let cargo = cargo_requirement(&requirement);
            let version = SemVer::new(major, minor, patch);
            prop_assert_eq!(
                ours.matches(&version),
                cargo.matches(&version),
                "{} on {}", requirement, version
            );
        }
    }

    #[test]
    fn repositories_are_owner_name_globs_and_unlinked_packages_never_match() {
        let patterns = parse_repositories("api, web-*\nbob/tools, */shared", "acme").unwrap();
        let matches = |name: Option<&str>| repository_matches(&patterns, name);
        assert!(matches(Some("acme/api")));
        assert!(
            matches(Some("ACME/Api")),
            "GitHub's names are case-insensitive"
        );
        assert!(matches(Some("acme/web-frontend")));
        assert!(matches(Some("bob/tools")));
        assert!(matches(Some("carol/shared")));
        assert!(
            !matches(Some("bob/api")),
            "a bare name is the owner's repository"
        );
        assert!(!matches(Some("acme/api-server")));
        assert!(
            !matches(None),
            "a package linked to no repository never matches"
        );
        assert!(parse_repositories("", "acme").unwrap().is_empty());
        for bad in ["a/b/c", "/api", "acme/", "api-[", "a//b"] {
            assert!(
                parse_repositories(bad, "acme").is_err(),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("90d"), Ok(90 * 86_400));
        assert_eq!(parse_age("2w"), Ok(2 * 604_800));
        assert_eq!(parse_age("36h"), Ok(36 * 3_600));
        assert_eq!(parse_age("45m"), Ok(45 * 60));
        assert_eq!(parse_age("1d12h"), Ok(86_400 + 12 * 3_600));
        for bad in ["", "d", "90", "-1d", "1y", "1.5d", "d90"] {
            assert!(parse_age(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn lists_and_ids() {
        assert_eq!(parse_ids("1, 2\n3,").unwrap().len(), 3);
        assert!(parse_ids("1,x").is_err());
        assert!(parse_ids("0").is_err());
        assert!(parse_globs("v1.*, [").is_err());
        assert_eq!(parse_globs("v1.*,\n latest").unwrap().len(), 2);
        assert!(is_glob("app-*") && !is_glob("app"));
    }
}
