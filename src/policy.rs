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
    pub min_versions_to_keep: usize,
    pub delete_empty_package: bool,
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
        self.exclude_versions
            .iter()
            .find(|p| p.matches(&version.name))
            .map(|pattern| Exclusion {
                input: "exclude-versions",
                pattern: pattern.as_str().to_string(),
                matched: version.name.clone(),
            })
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
/// `,`, all of which must hold. Compared by precedence only (`<2.0.0` holds for `2.0.0-rc.1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SemverRange {
    alternatives: Vec<Vec<Comparator>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Comparator {
    op: Op,
    version: SemVer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Exact,
    Greater,
    GreaterEq,
    Less,
    LessEq,
    Tilde,
    Caret,
    Any,
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
        if text == "*" {
            return Ok(Comparator {
                op: Op::Any,
                version: SemVer::new(0, 0, 0),
            });
        }
        let (op, rest) = [
            (">=", Op::GreaterEq),
            ("<=", Op::LessEq),
            (">", Op::Greater),
            ("<", Op::Less),
            ("=", Op::Exact),
            ("~", Op::Tilde),
            ("^", Op::Caret),
        ]
        .into_iter()
        .find_map(|(prefix, op)| text.strip_prefix(prefix).map(|rest| (op, rest)))
        .unwrap_or((Op::Caret, text));
        let rest = rest.trim();
        let version = parse_version(rest)
            .filter(|_| !rest.contains('+'))
            .ok_or_else(|| {
                format!("{rest:?} is not a version such as 1.2.3, v1.2 or 2.0.0-rc.1")
            })?;
        Ok(Comparator { op, version })
    }

    fn matches(&self, candidate: &SemVer) -> bool {
        let order = candidate.cmp_precedence(&self.version);
        let below = |upper: SemVer| candidate.cmp_precedence(&upper) == Ordering::Less;
        let at_least = order != Ordering::Less;
        let v = &self.version;
        match self.op {
            Op::Any => true,
            Op::Exact => order == Ordering::Equal,
            Op::Greater => order == Ordering::Greater,
            Op::GreaterEq => at_least,
            Op::Less => order == Ordering::Less,
            Op::LessEq => order != Ordering::Greater,
            Op::Tilde => at_least && below(SemVer::new(v.major, v.minor + 1, 0)),
            Op::Caret => {
                let upper = if v.major > 0 {
                    SemVer::new(v.major + 1, 0, 0)
                } else if v.minor > 0 {
                    SemVer::new(0, v.minor + 1, 0)
                } else {
                    SemVer::new(0, 0, v.patch + 1)
                };
                at_least && below(upper)
            }
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
        assert!(holds("1.2", "1.9.0"), "no operator means ^");
        assert!(!holds("1.2", "2.0.0"));
        assert!(holds("~1.2", "1.2.9"));
        assert!(!holds("~1.2", "1.3.0"));
        assert!(holds("^0.2.3", "0.2.9"));
        assert!(!holds("^0.2.3", "0.3.0"));
        assert!(holds("=v1.2", "1.2.0"));
        assert!(holds("*", "0.0.1"));
        assert!(holds("> 1.0", "1.0.1"));
    }

    #[test]
    fn malformed_requirements_are_refused() {
        for bad in ["", ">=", "1.0.0.1", ">=1.0,", "||", "abc", "=>1.0", "1.x"] {
            assert!(
                SemverRange::parse(bad).is_err(),
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
