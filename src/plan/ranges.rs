//! Semver ranges: the `semver` input's language (comparators joined by `,`, alternatives by
//! `||`, partial versions read as npm and Cargo read them), and version names read as semver.

use semver::Version as SemVer;
use std::cmp::Ordering;

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
}
