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
/// owner's repository of that name. Each part is a name GitHub allows (`[A-Za-z0-9._-]`, glob
/// characters aside), never `.` or `..`.
pub fn parse_repositories(text: &str, owner: &str) -> Result<Vec<glob::Pattern>, String> {
    let part_allowed = |part: &str| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-*?[]!".contains(c))
    };
    split_list(text)
        .map(|item| {
            let full = match item.split_once('/') {
                None if part_allowed(item) => format!("{owner}/{item}"),
                Some((repo_owner, name)) if part_allowed(repo_owner) && part_allowed(name) => {
                    item.to_string()
                }
                _ => {
                    return Err(format!(
                        "{item:?} is not a repository such as owner/name or name (letters, digits, `.`, `_` and `-`, not `.` or `..`)"
                    ))
                }
            };
            glob::Pattern::new(&full)
                .map_err(|error| format!("{item:?} is not a valid glob: {error}"))
        })
        .collect()
}

/// Why a value was refused: in words that may repeat it, or that must not (credentials).
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Shown(String),
    Secret(String),
}

/// `registry-url`: an http(s) origin with an optional path, without a trailing `/`; no user,
/// query or fragment; a port in 1–65535.
pub fn registry_url(text: &str) -> Result<String, Refusal> {
    let url = text.trim().trim_end_matches('/');
    let refuse = |why: &str| Err(Refusal::Shown(why.to_string()));
    let lower = url.to_ascii_lowercase();
    let Some(rest) = ["https://", "http://"]
        .iter()
        .find_map(|scheme| lower.starts_with(scheme).then(|| &url[scheme.len()..]))
    else {
        return refuse("must be an http(s) URL such as https://ghcr.io");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(Refusal::Secret(
            "holds credentials (`user:password@`), which are refused and not shown: the registry is given `token`".into(),
        ));
    }
    if rest.contains(['?', '#']) {
        return refuse("must not have a query (`?`) or a fragment (`#`): an http(s) origin with an optional path, such as https://ghcr.io");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return refuse("must not hold spaces or control characters");
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !authority.starts_with('[') || host.ends_with(']') => {
            (host, Some(port))
        }
        _ => (authority, None),
    };
    if host.is_empty() {
        return refuse("names no host");
    }
    if let Some(port) = port {
        if !matches!(port.parse::<u32>(), Ok(1..=65535)) {
            return refuse("has a port outside 1–65535");
        }
    }
    Ok(url.to_string())
}

/// `version-ids`: positive whole numbers separated by commas or line breaks. An empty entry
/// (`1,,2`, `, 1`) is refused; a line may end with a comma (ids wrapped over lines, as the
/// Undo block has them) and blank lines are nothing.
pub fn parse_ids(text: &str) -> Result<BTreeSet<u64>, String> {
    let mut ids = BTreeSet::new();
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
        let entries = line.strip_suffix(',').unwrap_or(line);
        for item in entries.split(',').map(str::trim) {
            if item.is_empty() {
                return Err(format!("{line:?} has an empty entry between commas"));
            }
            let id = item
                .parse::<u64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| format!("{item:?} is not a version id (a positive whole number)"))?;
            ids.insert(id);
        }
    }
    Ok(ids)
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
    use crate::model::{is_glob, repository_matches};

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
        assert_eq!(parse_ids("1,2,\n3,4\n\n").unwrap().len(), 4);
        for bad in ["1,,2", "1, ,2", ",1", "00", "-3", "1.5"] {
            assert!(parse_ids(bad).is_err(), "{bad}");
        }
        assert!(parse_globs("v1.*, [").is_err());
        assert_eq!(parse_globs("v1.*,\n latest").unwrap().len(), 2);
        assert!(is_glob("app-*") && !is_glob("app"));
    }

    #[test]
    fn registry_urls_are_origins_with_an_optional_path() {
        for good in [
            "https://ghcr.io",
            "https://ghcr.io/",
            "http://127.0.0.1:5000",
            "https://containers.example.com/prefix",
            "https://[::1]:8443",
        ] {
            assert!(registry_url(good).is_ok(), "{good}");
        }
        for bad in [
            "ghcr.io",
            "ftp://ghcr.io",
            "https://ghcr.io/p?q=1#f",
            "https://ghcr.io#f",
            "https://ghcr.io:99999",
            "https://ghcr.io:0",
            "https://",
            "https://:80",
            "https://gh cr.io",
        ] {
            assert!(matches!(registry_url(bad), Err(Refusal::Shown(_))), "{bad}");
        }
        let Err(Refusal::Secret(why)) = registry_url("https://robot:pa55@ghcr.io") else {
            panic!("credentials are a secret refusal");
        };
        assert!(!why.contains("pa55"));
    }

    #[test]
    fn repository_parts_are_names_github_allows() {
        for good in ["app", "acme/app", "acme/*", "acme/app-1.2_x", "a/.github"] {
            assert!(parse_repositories(good, "acme").is_ok(), "{good}");
        }
        for bad in [
            "../x",
            ".",
            "..",
            "acme/..",
            "acme/.",
            "acme/b c",
            "acme/b%2e",
            "acme\\app",
            "a/b/c",
            "/app",
            "acme/",
        ] {
            assert!(parse_repositories(bad, "acme").is_err(), "{bad}");
        }
    }
}
