//! One rule from its input values (the plain inputs, overridden by a `config` rule's keys):
//! where to look (owner, type, packages, repositories, registry) and the policy, each value
//! read as its catalogue kind says, then the checks across inputs. Errors name the input (with
//! `config rules[i]: ` before it for a config rule) and its value.

use super::catalogue::{self, Kind};
use super::repository_aware::{self, RepositoryAware};
use super::{values, InputError, OwnerType, Rule};
use crate::model::PackageType;
use crate::plan::policy::{KeepLatestPer, Policy, Prerelease, TagSelection};
use crate::plan::ranges::SemverRange;
use crate::plan::Mode;
use std::collections::BTreeMap;

/// A rule's values, read as the catalogue declares them.
pub struct Values<'a> {
    values: &'a BTreeMap<String, String>,
    /// `config rules[i]: `, or nothing for the plain inputs.
    context: &'a str,
}

impl<'a> Values<'a> {
    pub fn new(values: &'a BTreeMap<String, String>, context: &'a str) -> Values<'a> {
        Values { values, context }
    }

    /// The value as given (empty when not given).
    pub fn get(&self, name: &str) -> String {
        self.values.get(name).cloned().unwrap_or_default()
    }

    /// An error about this input of the rule.
    pub fn error(&self, name: &str, problem: impl Into<String>) -> InputError {
        InputError::new(&format!("{}{name}", self.context), &self.get(name), problem)
    }

    fn kind(name: &str) -> Kind {
        catalogue::input(name)
            .unwrap_or_else(|| panic!("`{name}` is not in the catalogue"))
            .kind
    }

    /// A [`Kind::Choice`] input: its word, in lower case.
    pub fn choice(&self, name: &str) -> Result<String, InputError> {
        let Kind::Choice(choices) = Self::kind(name) else {
            panic!("`{name}` is not a choice");
        };
        let value = self.get(name).trim().to_ascii_lowercase();
        if choices.contains(&value.as_str()) {
            Ok(value)
        } else {
            Err(self.error(name, format!("must be one of: {}", choices.join(", "))))
        }
    }

    /// A [`Kind::Flag`] input.
    pub fn flag(&self, name: &str) -> Result<bool, InputError> {
        debug_assert_eq!(Self::kind(name), Kind::Flag, "{name}");
        super::parse_bool(name, &self.get(name)).map_err(|e| self.error(name, e.problem))
    }

    /// A [`Kind::Count`] input.
    pub fn count(&self, name: &str) -> Result<usize, InputError> {
        debug_assert_eq!(Self::kind(name), Kind::Count, "{name}");
        super::parse_count(name, &self.get(name)).map_err(|e| self.error(name, e.problem))
    }

    /// A [`Kind::List`] input of globs.
    pub fn globs(&self, name: &str) -> Result<Vec<glob::Pattern>, InputError> {
        debug_assert_eq!(Self::kind(name), Kind::List, "{name}");
        values::parse_globs(&self.get(name)).map_err(|problem| self.error(name, problem))
    }

    /// A [`Kind::Age`] input, in seconds; `None` when not given.
    pub fn age(&self, name: &str) -> Result<Option<i64>, InputError> {
        debug_assert_eq!(Self::kind(name), Kind::Age, "{name}");
        match self.get(name).trim() {
            "" => Ok(None),
            text => values::parse_age(text)
                .map(Some)
                .map_err(|problem| self.error(name, problem)),
        }
    }
}

/// Reads and checks one rule.
pub fn parse_rule(
    values: &BTreeMap<String, String>,
    mode: Mode,
    offline: bool,
    context: &str,
) -> Result<Rule, InputError> {
    let values = Values::new(values, context);
    // In this order, which is the order the inputs are checked in.
    let mut rule = read_place(&values, offline)?;
    let mut policy = read_choices(&values)?;
    rule.registry_url = read_registry_url(&values)?;
    read_filters_and_guards(&values, &mut policy)?;
    rule.policy = policy;
    check_tags(&values, &rule.policy, rule.package_type)?;
    check_mode(&values, &rule.policy, rule.package_type, mode)?;
    rule.repository_aware = repository_aware::read(
        &values,
        rule.package_type,
        &rule.repositories,
        mode,
        offline,
    )?;
    Ok(rule)
}

/// Where the rule looks: owner, type, packages and repositories (registry and policy empty).
fn read_place(values: &Values, offline: bool) -> Result<Rule, InputError> {
    let owner = values.get("owner").trim().to_string();
    if owner.is_empty() && !offline {
        return Err(values.error("owner", "an owner (user or organization) is needed"));
    }
    let owner_type = match values.choice("owner-type")?.as_str() {
        "user" => OwnerType::User,
        "org" => OwnerType::Org,
        _ => OwnerType::Auto,
    };
    let package_type = PackageType::parse(&values.get("package-type")).ok_or_else(|| {
        values.error(
            "package-type",
            "must be one of: npm, maven, rubygems, nuget, docker, container",
        )
    })?;
    let packages = read_packages(values, offline)?;
    let repositories = values::parse_repositories(&values.get("repository"), &owner)
        .map_err(|problem| values.error("repository", problem))?;
    if !repositories.is_empty() && offline {
        return Err(values.error(
            "repository",
            "conflicts with --versions-file: a versions file has no package, so no repository to match",
        ));
    }
    Ok(Rule {
        owner,
        owner_type,
        package_type,
        packages,
        repositories,
        registry_url: String::new(),
        policy: Policy::default(),
        repository_aware: RepositoryAware::default(),
    })
}

/// `packages`: names GitHub could give, or valid globs; at least one, unless offline.
fn read_packages(values: &Values, offline: bool) -> Result<Vec<String>, InputError> {
    let packages: Vec<String> = values::split_list(&values.get("packages"))
        .map(str::to_string)
        .collect();
    if packages.is_empty() && !offline {
        return Err(values.error("packages", "name at least one package (names or globs)"));
    }
    for name in &packages {
        let glob = crate::model::is_glob(name);
        if let Some(problem) = crate::model::package_name_problem(name, glob) {
            return Err(values.error(
                "packages",
                format!("{name:?} is not a package name: {problem}"),
            ));
        }
        if glob {
            glob::Pattern::new(name).map_err(|e| {
                values.error("packages", format!("{name:?} is not a valid glob: {e}"))
            })?;
        }
    }
    Ok(packages)
}

/// `registry-url`: an http(s) origin with an optional path, without a trailing `/`; no user,
/// query or fragment; a port in 1–65535. A value holding credentials is not repeated.
fn read_registry_url(values: &Values) -> Result<String, InputError> {
    let text = values.get("registry-url");
    match values::registry_url(&text) {
        Ok(url) if crate::github::client::Origin::of(&url).is_ok() => Ok(url),
        Ok(_) => Err(values.error(
            "registry-url",
            "must be an http(s) URL such as https://ghcr.io",
        )),
        Err(values::Refusal::Shown(problem)) => Err(values.error("registry-url", problem)),
        Err(values::Refusal::Secret(problem)) => {
            let mut error = values.error("registry-url", problem);
            error.value = "(not shown: it holds credentials)".to_string();
            Err(error)
        }
    }
}

/// The policy's choices, version ids and semver range (the rest of it empty).
fn read_choices(values: &Values) -> Result<Policy, InputError> {
    let tag_selection = match values.choice("tag-selection")?.as_str() {
        "tagged" => TagSelection::Tagged,
        "untagged" => TagSelection::Untagged,
        _ => TagSelection::Any,
    };
    let keep_latest_per = match values.choice("keep-latest-per")?.as_str() {
        "major" => KeepLatestPer::Major,
        "minor" => KeepLatestPer::Minor,
        _ => KeepLatestPer::All,
    };
    let prerelease = match values.choice("prerelease")?.as_str() {
        "only" => Prerelease::Only,
        "exclude" => Prerelease::Exclude,
        _ => Prerelease::Any,
    };
    let version_ids = match values.get("version-ids").trim() {
        "" => None,
        text => {
            Some(values::parse_ids(text).map_err(|problem| values.error("version-ids", problem))?)
        }
    };
    let semver = match values.get("semver").trim() {
        "" => None,
        text => Some(SemverRange::parse(text).map_err(|problem| values.error("semver", problem))?),
    };
    Ok(Policy {
        version_ids,
        tag_selection,
        semver,
        prerelease,
        keep_latest_per,
        ..Policy::default()
    })
}

/// The policy's globs, ages, guards and flags.
fn read_filters_and_guards(values: &Values, policy: &mut Policy) -> Result<(), InputError> {
    policy.tags = values.globs("tags")?;
    policy.exclude_tags = values.globs("exclude-tags")?;
    policy.versions = values.globs("versions")?;
    policy.exclude_versions = values.globs("exclude-versions")?;
    policy.older_than = values.age("older-than")?;
    policy.deleted_within = values.age("deleted-within")?;
    policy.keep_latest = values.count("keep-latest")?;
    policy.min_versions_to_keep = values.count("min-versions-to-keep")?;
    policy.delete_empty_package = values.flag("delete-empty-package")?;
    policy.untag = values.flag("untag")?;
    Ok(())
}

/// The tag inputs apply to types with tags, and agree with each other.
fn check_tags(
    values: &Values,
    policy: &Policy,
    package_type: PackageType,
) -> Result<(), InputError> {
    let tag_inputs_given = !policy.tags.is_empty()
        || !policy.exclude_tags.is_empty()
        || policy.tag_selection != TagSelection::Any;
    if tag_inputs_given && !package_type.has_tags() {
        let name = ["tags", "exclude-tags", "tag-selection"]
            .into_iter()
            .find(|n| !values.get(n).trim().is_empty() && values.get(n).trim() != "any")
            .unwrap_or("tags");
        return Err(values.error(
            name,
            format!("{package_type} packages have no tags: tag inputs apply to container and docker packages"),
        ));
    }
    if !policy.tags.is_empty() && policy.tag_selection == TagSelection::Untagged {
        return Err(values.error(
            "tag-selection",
            "`untagged` conflicts with `tags`: a version matching a tag is tagged",
        ));
    }
    if policy.keep_latest_per != KeepLatestPer::All && policy.keep_latest == 0 {
        return Err(values.error(
            "keep-latest-per",
            "conflicts with `keep-latest` 0: it says how `keep-latest` counts (delete mode), so it needs `keep-latest`",
        ));
    }
    Ok(())
}

/// `untag`'s needs, and the inputs that apply to one mode only.
fn check_mode(
    values: &Values,
    policy: &Policy,
    package_type: PackageType,
    mode: Mode,
) -> Result<(), InputError> {
    if policy.untag {
        untag_conflict(policy, package_type, mode)
            .map_err(|problem| values.error("untag", problem))?;
    }
    match mode {
        Mode::Restore => {
            for (name, given) in [
                ("keep-latest", policy.keep_latest > 0),
                ("min-versions-to-keep", policy.min_versions_to_keep > 0),
                ("delete-empty-package", policy.delete_empty_package),
            ] {
                if given {
                    return Err(values.error(
                        name,
                        "conflicts with mode `restore`: it applies to mode `delete` only",
                    ));
                }
            }
        }
        Mode::Delete => {
            if policy.deleted_within.is_some() {
                return Err(values.error(
                    "deleted-within",
                    "conflicts with mode `delete`: it applies to mode `restore` only",
                ));
            }
        }
    }
    Ok(())
}

/// Why `untag: true` cannot apply to this rule, if it cannot.
fn untag_conflict(policy: &Policy, package_type: PackageType, mode: Mode) -> Result<(), String> {
    if package_type != PackageType::Container {
        return Err(format!(
            "untag applies to container packages only, not {package_type}"
        ));
    }
    if policy.tags.is_empty() {
        return Err("untag needs `tags`: the globs of the tags to remove".into());
    }
    if mode == Mode::Restore {
        return Err("conflicts with mode `restore`: it applies to mode `delete` only".into());
    }
    Ok(())
}
