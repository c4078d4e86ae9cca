//! The small languages of input values: comma/newline lists, globs, repositories, version
//! ids and ages, each read into what the plan and the listing use.

use std::collections::BTreeSet;

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
