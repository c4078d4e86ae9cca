//! Reading the action's inputs: from `INPUT_<NAME>` variables (as the runner passes them), or
//! from `--<input-name> <value>` flags on a laptop; then validating them into `Settings`, one
//! `Rule` per `config` rule. Bad input becomes an `InputError` naming the input and the value.

use crate::model::PackageType;
use crate::plan::policy::{KeepLatestPer, Policy, Prerelease, TagSelection};
use crate::plan::ranges::SemverRange;
use crate::plan::Mode;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

pub mod values;

/// One input of the action, with its default in `action.yml`.
pub struct InputSpec {
    pub name: &'static str,
    pub default: &'static str,
}

const fn input(name: &'static str, default: &'static str) -> InputSpec {
    InputSpec { name, default }
}

/// Every input the binary reads, with the default `action.yml` declares.
pub const INPUTS: &[InputSpec] = &[
    input("token", "${{ github.token }}"),
    input("owner", "${{ github.repository_owner }}"),
    input("owner-type", "auto"),
    input("package-type", "container"),
    input("packages", ""),
    input("mode", "delete"),
    input("dry-run", "false"),
    input("version-ids", ""),
    input("tags", ""),
    input("exclude-tags", ""),
    input("tag-selection", "any"),
    input("versions", ""),
    input("exclude-versions", ""),
    input("semver", ""),
    input("prerelease", "any"),
    input("older-than", ""),
    input("deleted-within", ""),
    input("keep-latest", "0"),
    input("min-versions-to-keep", "0"),
    input("delete-empty-package", "false"),
    input("max-deletions", ""),
    input("registry-url", "https://ghcr.io"),
    input("config", ""),
    input("fail-on-error", "true"),
    input("keep-latest-per", "all"),
    input("report-file", ""),
    input("untag", "false"),
    input("repository", ""),
    input("manifest-cache", ""),
];

/// Inputs that hold for the whole run and cannot be set per `config` rule.
const RUN_LEVEL: &[&str] = &[
    "token",
    "config",
    "mode",
    "dry-run",
    "max-deletions",
    "fail-on-error",
    "report-file",
    "manifest-cache",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub input: String,
    pub value: String,
    pub problem: String,
}

impl InputError {
    fn new(input: &str, value: &str, problem: impl Into<String>) -> InputError {
        InputError {
            input: input.to_string(),
            value: value.to_string(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "input `{}` has the value {:?}: {}",
            self.input, self.value, self.problem
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OwnerType {
    Auto,
    User,
    Org,
}

/// One rule: where to look and what to choose.
#[derive(Clone, Debug)]
pub struct Rule {
    pub owner: String,
    pub owner_type: OwnerType,
    pub package_type: PackageType,
    pub packages: Vec<String>,
    /// `repository`: only packages linked to a repository these match (empty: no filter).
    pub repositories: Vec<glob::Pattern>,
    pub registry_url: String,
    pub policy: Policy,
}

/// Everything a run needs to know, validated.
#[derive(Debug)]
pub struct Settings {
    pub mode: Mode,
    pub dry_run: bool,
    pub fail_on_error: bool,
    pub max_deletions: Option<usize>,
    pub token: String,
    /// The rules, shared with the package records they name.
    pub rules: Vec<Arc<Rule>>,
    /// `--versions-file`: plan offline against this file.
    pub versions_file: Option<PathBuf>,
    /// `report-file`: where the full JSON report goes, relative to the workspace.
    pub report_file: Option<PathBuf>,
    /// `manifest-cache`: the cache file, in the workspace.
    pub manifest_cache: Option<PathBuf>,
    /// `GITHUB_WORKSPACE` (else the current directory): where `report-file` and `manifest-cache` are.
    pub workspace: PathBuf,
}

/// The raw input values, before validation.
#[derive(Debug, Default)]
pub struct RawInputs {
    values: BTreeMap<String, String>,
    versions_file: Option<PathBuf>,
    /// `GITHUB_WORKSPACE`: where workspace-relative paths start (else the current directory).
    workspace: Option<PathBuf>,
}

/// What the command line asks for.
pub enum Invocation {
    Run(RawInputs),
    Help,
}

pub const USAGE: &str = "\
package-retention: delete and restore GitHub Packages versions.

In a workflow it reads its inputs from INPUT_<NAME> variables (see action.yml).
By hand, each input is a flag:
  package-retention --owner acme --packages app --keep-latest 5 --dry-run
The token comes from GITHUB_TOKEN (or --token). Boolean flags may stand alone.
Offline, with no token and no network, plan against an exported versions file:
  package-retention --versions-file versions.json --package-type npm --packages my-lib --keep-latest 2
The full JSON report goes to --report-file PATH, a path inside GITHUB_WORKSPACE (the
current directory when it is not set).

Inputs: token owner owner-type package-type packages mode dry-run version-ids tags
  exclude-tags tag-selection versions exclude-versions semver prerelease older-than
  deleted-within keep-latest min-versions-to-keep delete-empty-package max-deletions
  registry-url config fail-on-error keep-latest-per report-file untag repository manifest-cache
Exit codes: 0 done, 1 a deletion or restore failed (with fail-on-error) or the run failed,
  2 bad input.";

const BOOLEAN_INPUTS: &[&str] = &["dry-run", "delete-empty-package", "fail-on-error", "untag"];

impl RawInputs {
    /// Reads `INPUT_*` variables (in a workflow) or flags (by hand).
    pub fn from_environment(
        args: &[String],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Invocation, InputError> {
        let mut raw = RawInputs {
            workspace: env("GITHUB_WORKSPACE")
                .filter(|w| !w.trim().is_empty())
                .map(PathBuf::from),
            ..RawInputs::default()
        };
        if args.is_empty() {
            for spec in INPUTS {
                let key = format!("INPUT_{}", spec.name.to_uppercase());
                if let Some(value) = env(&key) {
                    raw.values.insert(spec.name.to_string(), value);
                }
            }
        } else {
            let mut args = args.iter().peekable();
            while let Some(arg) = args.next() {
                if arg == "--help" || arg == "-h" {
                    return Ok(Invocation::Help);
                }
                let Some(flag) = arg.strip_prefix("--") else {
                    return Err(InputError::new(
                        arg,
                        arg,
                        "expected a flag such as --owner acme",
                    ));
                };
                let (name, inline) = match flag.split_once('=') {
                    Some((name, value)) => (name, Some(value.to_string())),
                    None => (flag, None),
                };
                let known = name == "versions-file" || INPUTS.iter().any(|s| s.name == name);
                if !known {
                    return Err(InputError::new(name, arg, "unknown flag; see --help"));
                }
                let value = match inline {
                    Some(value) => value,
                    None if BOOLEAN_INPUTS.contains(&name)
                        && args.peek().is_none_or(|next| next.starts_with("--")) =>
                    {
                        "true".to_string()
                    }
                    None => args
                        .next()
                        .cloned()
                        .ok_or_else(|| InputError::new(name, "", "the flag needs a value"))?,
                };
                if name == "versions-file" {
                    raw.versions_file = Some(PathBuf::from(value));
                } else {
                    raw.values.insert(name.to_string(), value);
                }
            }
            if !raw.values.contains_key("token") {
                if let Some(token) = env("GITHUB_TOKEN") {
                    raw.values.insert("token".into(), token);
                }
            }
            if !raw.values.contains_key("owner") {
                if let Some(owner) = env("GITHUB_REPOSITORY_OWNER") {
                    raw.values.insert("owner".into(), owner);
                }
            }
        }
        Ok(Invocation::Run(raw))
    }

    /// The value given, or the binary's default (`action.yml`'s, expressions aside).
    fn value(&self, name: &str) -> String {
        match self.values.get(name) {
            Some(value) => value.clone(),
            None => INPUTS
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.default)
                .filter(|d| !d.starts_with("${{"))
                .unwrap_or("")
                .to_string(),
        }
    }

    /// Validates every input; `read_file` reads a `config` path (see [`read_config_file`]).
    pub fn into_settings(
        self,
        read_file: impl Fn(&str) -> Result<String, String>,
    ) -> Result<Settings, InputError> {
        let offline = self.versions_file.is_some();
        let mode = match self.value("mode").trim().to_ascii_lowercase().as_str() {
            "delete" => Mode::Delete,
            "restore" => Mode::Restore,
            _ => return Err(invalid(&self, "mode", "must be `delete` or `restore`")),
        };
        let dry_run = parse_bool("dry-run", &self.value("dry-run"))?;
        let fail_on_error = parse_bool("fail-on-error", &self.value("fail-on-error"))?;
        let max_deletions = match self.value("max-deletions").trim() {
            "" => None,
            text => Some(parse_count("max-deletions", text)?),
        };
        if mode == Mode::Restore && max_deletions.is_some() {
            return Err(conflict(
                &self,
                "max-deletions",
                "it applies to mode `delete` only",
            ));
        }
        let token = self.value("token").trim().to_string();
        if token.is_empty() && !offline {
            return Err(InputError::new(
                "token",
                "",
                "a token is needed (GITHUB_TOKEN with package admin rights, or a classic PAT)",
            ));
        }

        let defaults: BTreeMap<String, String> = INPUTS
            .iter()
            .filter(|s| !RUN_LEVEL.contains(&s.name))
            .map(|s| (s.name.to_string(), self.value(s.name)))
            .collect();
        let config = self.value("config");
        let rules = if config.trim().is_empty() {
            vec![parse_rule(&defaults, mode, offline, "")?]
        } else {
            let (text, shown) = match config.trim() {
                path if !path.contains('\n') && !path.contains(':') => (
                    read_file(path).map_err(|problem| InputError::new("config", path, problem))?,
                    path.to_string(),
                ),
                _ => (config.clone(), "(inline YAML)".to_string()),
            };
            config_rules(&text, &shown)?
                .into_iter()
                .enumerate()
                .map(|(index, overrides)| {
                    let mut values = defaults.clone();
                    values.extend(overrides);
                    parse_rule(&values, mode, offline, &format!("config rules[{index}]: "))
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        let workspace = self.workspace.clone().unwrap_or_else(|| PathBuf::from("."));
        let manifest_cache = workspace_path("manifest-cache", &self.value("manifest-cache"))?
            .map(|path| workspace.join(path));
        Ok(Settings {
            mode,
            dry_run,
            fail_on_error,
            max_deletions,
            token,
            rules: rules.into_iter().map(Arc::new).collect(),
            report_file: workspace_path("report-file", &self.value("report-file"))?,
            versions_file: self.versions_file,
            manifest_cache,
            workspace,
        })
    }
}

/// A file input that names a path inside the workspace: relative, without `..`, or empty for
/// none. An absolute path or one that climbs out is bad input (the runner maps only the
/// workspace into the container, so anything else would be lost or land where it must not).
pub fn workspace_path(name: &str, text: &str) -> Result<Option<PathBuf>, InputError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let path = PathBuf::from(text);
    let escapes = path.components().any(|c| {
        !matches!(
            c,
            std::path::Component::Normal(_) | std::path::Component::CurDir
        )
    });
    if escapes {
        return Err(InputError::new(
            name,
            text,
            "must be a path relative to the workspace (GITHUB_WORKSPACE) that stays inside it: no leading `/`, no `..`",
        ));
    }
    if path.components().all(|c| c == std::path::Component::CurDir) || text.ends_with('/') {
        return Err(InputError::new(
            name,
            text,
            "must name a file, not a directory",
        ));
    }
    Ok(Some(path))
}

fn invalid(raw: &RawInputs, name: &str, problem: &str) -> InputError {
    InputError::new(name, &raw.value(name), problem)
}

fn conflict(raw: &RawInputs, name: &str, problem: &str) -> InputError {
    InputError::new(
        name,
        &raw.value(name),
        format!("conflicts with mode `restore`: {problem}"),
    )
}

fn parse_bool(name: &str, text: &str) -> Result<bool, InputError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(InputError::new(name, text, "must be `true` or `false`")),
    }
}

fn parse_count(name: &str, text: &str) -> Result<usize, InputError> {
    text.trim()
        .parse::<usize>()
        .map_err(|_| InputError::new(name, text, "must be a whole number, 0 or more"))
}

/// The largest `config` file read.
pub const CONFIG_FILE_LIMIT: u64 = 1 << 20;

/// Reads a `config` path: a regular file (not a FIFO, a device or a directory) under
/// [`CONFIG_FILE_LIMIT`], read no further than the limit. The error says why, never what is in it.
pub fn read_config_file(path: &str) -> Result<String, String> {
    use std::io::Read;
    let too_big = || {
        format!(
            "is over the {} MiB limit of a config file",
            CONFIG_FILE_LIMIT >> 20
        )
    };
    let metadata = std::fs::metadata(path).map_err(|error| format!("cannot be read: {error}"))?;
    if !metadata.is_file() {
        return Err("is not a regular file (a FIFO, device or directory is refused)".into());
    }
    if metadata.len() > CONFIG_FILE_LIMIT {
        return Err(too_big());
    }
    let file = std::fs::File::open(path).map_err(|error| format!("cannot be read: {error}"))?;
    let mut bytes = Vec::new();
    file.take(CONFIG_FILE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| format!("cannot be read: {error}"))?;
    if bytes.len() as u64 > CONFIG_FILE_LIMIT {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".into())
}

/// A key of the `config` YAML as it may be shown: a name shaped like an input, or nothing (a
/// key could be anything from a file that is not a config at all).
fn shown_key(key: &str) -> String {
    let input_like = !key.is_empty()
        && key.len() <= 40
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if input_like {
        format!("`{key}`")
    } else {
        "(not shown: not the name of an input)".to_string()
    }
}

/// The `config` YAML: `rules:` (or a bare list) of maps from input names to values. Errors
/// show `shown` (the path, or that it was inline) and a line number, never the content.
fn config_rules(text: &str, shown: &str) -> Result<Vec<BTreeMap<String, String>>, InputError> {
    let bad = |problem: String| InputError::new("config", shown, problem);
    let document: serde_yaml::Value = serde_yaml::from_str(text).map_err(|error| {
        bad(match error.location() {
            Some(at) => format!("line {}: is not valid YAML", at.line()),
            None => "is not valid YAML".to_string(),
        })
    })?;
    let rules = match document {
        serde_yaml::Value::Sequence(rules) => rules,
        serde_yaml::Value::Mapping(mut top) => {
            if let Some(key) = top.keys().find(|k| k.as_str() != Some("rules")) {
                return Err(bad(format!(
                    "unknown top-level key {}; expected `rules`",
                    shown_key(key.as_str().unwrap_or(""))
                )));
            }
            match top.remove("rules") {
                Some(serde_yaml::Value::Sequence(rules)) => rules,
                _ => return Err(bad("`rules` must be a list of rules".into())),
            }
        }
        _ => return Err(bad("must be a map with `rules:`, a list of rules".into())),
    };
    if rules.is_empty() {
        return Err(bad("`rules` is empty".into()));
    }
    rules
        .into_iter()
        .enumerate()
        .map(|(index, rule)| {
            let serde_yaml::Value::Mapping(map) = rule else {
                return Err(bad(format!("rules[{index}] must be a map of inputs")));
            };
            map.into_iter()
                .map(|(key, value)| {
                    let key = key
                        .as_str()
                        .ok_or_else(|| bad(format!("rules[{index}] has a key that is not text")))?
                        .to_string();
                    if !INPUTS.iter().any(|s| s.name == key) {
                        return Err(bad(format!(
                            "rules[{index}] has an unknown key {}",
                            shown_key(&key)
                        )));
                    }
                    if RUN_LEVEL.contains(&key.as_str()) {
                        return Err(bad(format!(
                            "rules[{index}] sets `{key}`, which holds for the whole run: give it as an input"
                        )));
                    }
                    let value = match value {
                        serde_yaml::Value::Sequence(items) => {
                            items.iter().map(yaml_text).collect::<Vec<_>>().join(",")
                        }
                        other => yaml_text(&other),
                    };
                    Ok((key, value))
                })
                .collect()
        })
        .collect()
}

fn yaml_text(value: &serde_yaml::Value) -> String {
    match value {
        serde_yaml::Value::String(text) => text.clone(),
        serde_yaml::Value::Number(number) => number.to_string(),
        serde_yaml::Value::Bool(flag) => flag.to_string(),
        serde_yaml::Value::Null => String::new(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

fn parse_rule(
    values: &BTreeMap<String, String>,
    mode: Mode,
    offline: bool,
    context: &str,
) -> Result<Rule, InputError> {
    let get = |name: &str| values.get(name).cloned().unwrap_or_default();
    let err = |name: &str, problem: String| {
        InputError::new(&format!("{context}{name}"), &get(name), problem)
    };
    let choice = |name: &str, choices: &[&str]| -> Result<String, InputError> {
        let value = get(name).trim().to_ascii_lowercase();
        if choices.contains(&value.as_str()) {
            Ok(value)
        } else {
            Err(err(name, format!("must be one of: {}", choices.join(", "))))
        }
    };
    let globs = |name: &str| values::parse_globs(&get(name)).map_err(|problem| err(name, problem));
    let age = |name: &str| match get(name).trim() {
        "" => Ok(None),
        text => values::parse_age(text)
            .map(Some)
            .map_err(|problem| err(name, problem)),
    };
    let count = |name: &str| parse_count(name, &get(name)).map_err(|e| err(name, e.problem));

    let owner = get("owner").trim().to_string();
    if owner.is_empty() && !offline {
        return Err(err(
            "owner",
            "an owner (user or organization) is needed".into(),
        ));
    }
    let owner_type = match choice("owner-type", &["auto", "user", "org"])?.as_str() {
        "user" => OwnerType::User,
        "org" => OwnerType::Org,
        _ => OwnerType::Auto,
    };
    let package_type = PackageType::parse(&get("package-type")).ok_or_else(|| {
        err(
            "package-type",
            "must be one of: npm, maven, rubygems, nuget, docker, container".into(),
        )
    })?;
    let packages: Vec<String> = values::split_list(&get("packages"))
        .map(str::to_string)
        .collect();
    if packages.is_empty() && !offline {
        return Err(err(
            "packages",
            "name at least one package (names or globs)".into(),
        ));
    }
    for name in &packages {
        let glob = values::is_glob(name);
        if let Some(problem) = crate::model::package_name_problem(name, glob) {
            return Err(err(
                "packages",
                format!("{name:?} is not a package name: {problem}"),
            ));
        }
        if glob {
            glob::Pattern::new(name)
                .map_err(|e| err("packages", format!("{name:?} is not a valid glob: {e}")))?;
        }
    }
    let repositories = values::parse_repositories(&get("repository"), &owner)
        .map_err(|problem| err("repository", problem))?;
    if !repositories.is_empty() && offline {
        return Err(err(
            "repository",
            "conflicts with --versions-file: a versions file has no package, so no repository to match".into(),
        ));
    }
    let tag_selection = match choice("tag-selection", &["any", "tagged", "untagged"])?.as_str() {
        "tagged" => TagSelection::Tagged,
        "untagged" => TagSelection::Untagged,
        _ => TagSelection::Any,
    };
    let keep_latest_per = match choice("keep-latest-per", &["all", "major", "minor"])?.as_str() {
        "major" => KeepLatestPer::Major,
        "minor" => KeepLatestPer::Minor,
        _ => KeepLatestPer::All,
    };
    let prerelease = match choice("prerelease", &["any", "only", "exclude"])?.as_str() {
        "only" => Prerelease::Only,
        "exclude" => Prerelease::Exclude,
        _ => Prerelease::Any,
    };
    let version_ids = match get("version-ids").trim() {
        "" => None,
        text => Some(values::parse_ids(text).map_err(|problem| err("version-ids", problem))?),
    };
    let semver = match get("semver").trim() {
        "" => None,
        text => Some(SemverRange::parse(text).map_err(|problem| err("semver", problem))?),
    };
    let registry_url = get("registry-url").trim().trim_end_matches('/').to_string();
    if !(registry_url.starts_with("https://") || registry_url.starts_with("http://"))
        || crate::github::client::Origin::of(&registry_url).is_err()
    {
        return Err(err(
            "registry-url",
            "must be an http(s) URL such as https://ghcr.io".into(),
        ));
    }
    let policy = Policy {
        version_ids,
        tags: globs("tags")?,
        exclude_tags: globs("exclude-tags")?,
        tag_selection,
        versions: globs("versions")?,
        exclude_versions: globs("exclude-versions")?,
        semver,
        prerelease,
        older_than: age("older-than")?,
        deleted_within: age("deleted-within")?,
        keep_latest: count("keep-latest")?,
        keep_latest_per,
        min_versions_to_keep: count("min-versions-to-keep")?,
        delete_empty_package: parse_bool("delete-empty-package", &get("delete-empty-package"))
            .map_err(|e| err("delete-empty-package", e.problem))?,
        untag: parse_bool("untag", &get("untag")).map_err(|e| err("untag", e.problem))?,
    };

    let tag_inputs_given = !policy.tags.is_empty()
        || !policy.exclude_tags.is_empty()
        || policy.tag_selection != TagSelection::Any;
    if tag_inputs_given && !package_type.has_tags() {
        let name = ["tags", "exclude-tags", "tag-selection"]
            .into_iter()
            .find(|n| !get(n).trim().is_empty() && get(n).trim() != "any")
            .unwrap_or("tags");
        return Err(err(
            name,
            format!("{package_type} packages have no tags: tag inputs apply to container and docker packages"),
        ));
    }
    if !policy.tags.is_empty() && policy.tag_selection == TagSelection::Untagged {
        return Err(err(
            "tag-selection",
            "`untagged` conflicts with `tags`: a version matching a tag is tagged".into(),
        ));
    }
    if policy.keep_latest_per != KeepLatestPer::All && policy.keep_latest == 0 {
        return Err(err(
            "keep-latest-per",
            "conflicts with `keep-latest` 0: it says how `keep-latest` counts (delete mode), so it needs `keep-latest`".into(),
        ));
    }
    if policy.untag {
        untag_conflict(&policy, package_type, mode).map_err(|problem| err("untag", problem))?;
    }
    match mode {
        Mode::Restore => {
            for (name, given) in [
                ("keep-latest", policy.keep_latest > 0),
                ("min-versions-to-keep", policy.min_versions_to_keep > 0),
                ("delete-empty-package", policy.delete_empty_package),
            ] {
                if given {
                    return Err(err(
                        name,
                        "conflicts with mode `restore`: it applies to mode `delete` only".into(),
                    ));
                }
            }
        }
        Mode::Delete => {
            if policy.deleted_within.is_some() {
                return Err(err(
                    "deleted-within",
                    "conflicts with mode `delete`: it applies to mode `restore` only".into(),
                ));
            }
        }
    }
    Ok(Rule {
        owner,
        owner_type,
        package_type,
        packages,
        repositories,
        registry_url,
        policy,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, InputError> {
        let env: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (format!("INPUT_{}", k.to_uppercase()), v.to_string()))
            .collect();
        let Invocation::Run(raw) = RawInputs::from_environment(&[], |k| env.get(k).cloned())?
        else {
            panic!("no help without flags");
        };
        raw.into_settings(|_| Err("no files here".into()))
    }

    const BASE: &[(&str, &str)] = &[("token", "t"), ("owner", "acme"), ("packages", "app")];

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        BASE.iter().chain(extra).copied().collect()
    }

    #[test]
    fn manifest_cache_is_a_path_inside_the_workspace() {
        assert_eq!(settings(BASE).unwrap().manifest_cache, None);
        let s = settings(&with(&[("manifest-cache", " .cache/manifests ")])).unwrap();
        assert_eq!(s.manifest_cache, Some(PathBuf::from("./.cache/manifests")));
        assert_eq!(s.workspace, PathBuf::from("."));
        for bad in ["/etc/passwd", "../outside", "a/../../b", "dir/"] {
            let error = settings(&with(&[("manifest-cache", bad)])).unwrap_err();
            assert_eq!(error.input, "manifest-cache", "{bad}");
        }
    }

    #[test]
    fn defaults_make_a_valid_delete_run() {
        let s = settings(BASE).unwrap();
        assert_eq!(s.mode, Mode::Delete);
        assert!(!s.dry_run && s.fail_on_error);
        assert_eq!(s.rules[0].package_type, PackageType::Container);
        assert_eq!(s.rules[0].registry_url, "https://ghcr.io");
    }

    #[test]
    fn bad_inputs_name_the_input() {
        for (name, value) in [
            ("mode", "purge"),
            ("package-type", "pip"),
            ("owner-type", "team"),
            ("tag-selection", "some"),
            ("prerelease", "maybe"),
            ("dry-run", "yes"),
            ("keep-latest", "-1"),
            ("min-versions-to-keep", "many"),
            ("older-than", "3 days"),
            ("version-ids", "12,abc"),
            ("semver", ">=1.0.0.1"),
            ("tags", "v1.["),
            ("registry-url", "ghcr.io"),
            ("registry-url", "https://exa mple.com"),
            ("registry-url", "https://"),
            ("keep-latest-per", "patch"),
            ("repository", "acme/api/x"),
        ] {
            let error = settings(&with(&[(name, value)])).unwrap_err();
            assert!(error.input.ends_with(name), "{name}: {error}");
            assert_eq!(error.value, value);
        }
        assert_eq!(
            settings(&[("owner", "a"), ("packages", "p")])
                .unwrap_err()
                .input,
            "token"
        );
        assert_eq!(
            settings(&[("token", "t"), ("owner", "a")])
                .unwrap_err()
                .input,
            "packages"
        );
    }

    #[test]
    fn conflicts_are_refused() {
        let e = settings(&with(&[("mode", "restore"), ("keep-latest", "2")])).unwrap_err();
        assert_eq!(e.input, "keep-latest");
        let e = settings(&with(&[("deleted-within", "2d")])).unwrap_err();
        assert_eq!(e.input, "deleted-within");
        let e = settings(&with(&[("package-type", "npm"), ("tags", "v1")])).unwrap_err();
        assert_eq!(e.input, "tags");
        let e = settings(&with(&[("tags", "v1"), ("tag-selection", "untagged")])).unwrap_err();
        assert_eq!(e.input, "tag-selection");
        let e = settings(&with(&[("keep-latest-per", "minor")])).unwrap_err();
        assert!(
            e.input == "keep-latest-per" && e.problem.contains("keep-latest"),
            "{e}"
        );
        let s = settings(&with(&[("keep-latest-per", "Major"), ("keep-latest", "3")])).unwrap();
        assert_eq!(s.rules[0].policy.keep_latest_per, KeepLatestPer::Major);
        let s = settings(&with(&[("keep-latest-per", "all")])).unwrap();
        assert_eq!(s.rules[0].policy.keep_latest_per, KeepLatestPer::All);
    }

    #[test]
    fn untag_needs_a_container_rule_with_tags_in_delete_mode() {
        let ok = settings(&with(&[("untag", "true"), ("tags", "pr-*")])).unwrap();
        assert!(ok.rules[0].policy.untag);
        assert!(!settings(&with(&[])).unwrap().rules[0].policy.untag);
        for (extra, problem) in [
            (vec![("untag", "true")], "needs `tags`"),
            (
                vec![
                    ("untag", "true"),
                    ("tags", "pr-*"),
                    ("package-type", "docker"),
                ],
                "container packages only",
            ),
            (
                vec![("untag", "true"), ("tags", "pr-*"), ("mode", "restore")],
                "mode `restore`",
            ),
            (
                vec![("untag", "yes"), ("tags", "pr-*")],
                "`true` or `false`",
            ),
        ] {
            let e = settings(&with(&extra)).unwrap_err();
            assert_eq!(e.input, "untag", "{extra:?}");
            assert!(e.problem.contains(problem), "{extra:?}: {}", e.problem);
        }
    }

    #[test]
    fn config_rules_inherit_the_plain_inputs() {
        let config = "rules:\n  - packages: [web, api]\n    keep-latest: 3\n  - package-type: npm\n    packages: lib\n";
        let s = settings(&with(&[("config", config), ("keep-latest", "1")])).unwrap();
        assert_eq!(s.rules.len(), 2);
        assert_eq!(s.rules[0].packages, vec!["web", "api"]);
        assert_eq!(s.rules[0].policy.keep_latest, 3);
        assert_eq!(s.rules[1].policy.keep_latest, 1);
        assert_eq!(s.rules[1].package_type, PackageType::Npm);
        let e = settings(&with(&[("config", "rules:\n  - keep-lastest: 3\n")])).unwrap_err();
        assert!(
            e.input == "config" && e.problem.contains("keep-lastest"),
            "{e}"
        );
        let config = "rules:\n  - keep-latest: 2\n    keep-latest-per: minor\n  - packages: lib\n";
        let s = settings(&with(&[("config", config)])).unwrap();
        assert_eq!(s.rules[0].policy.keep_latest_per, KeepLatestPer::Minor);
        assert_eq!(s.rules[1].policy.keep_latest_per, KeepLatestPer::All);
        let config = "rules:\n  - keep-latest-per: major\n";
        let e = settings(&with(&[("config", config)])).unwrap_err();
        assert_eq!(e.input, "config rules[0]: keep-latest-per");
        let e = settings(&with(&[("config", "rules: [\n")])).unwrap_err();
        assert!(e.problem.contains("YAML"), "{e}");
        let e = settings(&with(&[("config", "rules:\n  - keep-latest: -2\n")])).unwrap_err();
        assert_eq!(e.input, "config rules[0]: keep-latest");
        let e = settings(&with(&[("config", "rules:\n  - dry-run: true\n")])).unwrap_err();
        assert!(e.problem.contains("whole run"), "{e}");
    }

    #[test]
    fn repository_needs_the_api() {
        let s = settings(&with(&[("repository", "api, bob/*")])).unwrap();
        assert_eq!(s.rules[0].repositories.len(), 2);
        assert_eq!(s.rules[0].repositories[0].as_str(), "acme/api");
        let args: Vec<String> = ["--versions-file", "v.json", "--repository", "api"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let Invocation::Run(raw) = RawInputs::from_environment(&args, |_| None).unwrap() else {
            panic!()
        };
        let e = raw
            .into_settings(|_| Err("no files here".into()))
            .unwrap_err();
        assert!(
            e.input == "repository" && e.problem.contains("--versions-file"),
            "{e}"
        );
    }

    #[test]
    fn flags_work_by_hand() {
        let args: Vec<String> = [
            "--owner",
            "acme",
            "--packages",
            "app",
            "--keep-latest",
            "5",
            "--dry-run",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let Invocation::Run(raw) =
            RawInputs::from_environment(&args, |k| (k == "GITHUB_TOKEN").then(|| "tok".into()))
                .unwrap()
        else {
            panic!()
        };
        let s = raw.into_settings(|_| Err("no files here".into())).unwrap();
        assert!(s.dry_run);
        assert_eq!(s.token, "tok");
        assert_eq!(s.rules[0].policy.keep_latest, 5);
    }

    #[test]
    fn package_names_github_never_gives_are_bad_input() {
        for name in [
            ".",
            "..",
            "a/../b",
            "a//b",
            "/app",
            "app\n::warning::x",
            "a b",
            "a%2Fb",
            "a|b",
            "a`b",
            "<b>",
        ] {
            let error = settings(&with(&[("packages", name)])).unwrap_err();
            assert_eq!(error.input, "packages", "{name:?}: {error}");
        }
        for name in [
            "app",
            "team/app",
            "com.example.my-app",
            "Octokit.Core",
            "my_gem",
            "app-*",
            "[ab]*",
        ] {
            let s = settings(&with(&[("packages", name)])).unwrap();
            assert_eq!(s.rules[0].packages, vec![name.to_string()]);
        }
        let config = "rules:\n  - packages: ['..']\n";
        let error = settings(&with(&[("config", config)])).unwrap_err();
        assert_eq!(error.input, "config rules[0]: packages");
    }

    fn temp_path(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("pr-inputs-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        dir
    }

    #[test]
    fn a_config_path_must_be_a_small_regular_file() {
        let fifo = temp_path("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|status| status.success()) {
            let problem = read_config_file(fifo.to_str().unwrap()).unwrap_err();
            assert!(problem.contains("not a regular file"), "{problem}");
            let _ = std::fs::remove_file(&fifo);
        }
        let problem = read_config_file("/dev/zero").unwrap_err();
        assert!(problem.contains("not a regular file"), "{problem}");
        let problem = read_config_file("/").unwrap_err();
        assert!(problem.contains("not a regular file"), "{problem}");
        let big = temp_path("big.yml");
        std::fs::write(&big, vec![b'#'; (CONFIG_FILE_LIMIT + 1) as usize]).unwrap();
        let problem = read_config_file(big.to_str().unwrap()).unwrap_err();
        assert!(problem.contains("1 MiB"), "{problem}");
        let _ = std::fs::remove_file(&big);
        let small = temp_path("small.yml");
        std::fs::write(&small, "rules:\n  - keep-latest: 2\n").unwrap();
        assert!(read_config_file(small.to_str().unwrap())
            .unwrap()
            .contains("keep-latest"));
        let _ = std::fs::remove_file(&small);
    }

    #[test]
    fn config_errors_never_echo_the_content() {
        let secret = "s3cr3t-value-from-a-file";
        let read = |_: &str| Ok(format!("root: {secret}\nAPI_KEY: {secret}\n"));
        let env: BTreeMap<String, String> = with(&[("config", "/etc/some-file")])
            .iter()
            .map(|(k, v)| (format!("INPUT_{}", k.to_uppercase()), v.to_string()))
            .collect();
        let Invocation::Run(raw) =
            RawInputs::from_environment(&[], |k| env.get(k).cloned()).unwrap()
        else {
            panic!("no help without flags");
        };
        let error = raw.into_settings(read).unwrap_err();
        assert_eq!(error.value, "/etc/some-file");
        assert!(!error.to_string().contains(secret), "{error}");
        assert!(!error.to_string().contains("API_KEY"), "{error}");

        let inline = "rules:\n  - keep-latest: 1\n s3cr3t-value-from-a-file: [\n";
        let error = settings(&with(&[("config", inline)])).unwrap_err();
        assert!(!error.to_string().contains(secret), "{error}");
        assert!(error.problem.starts_with("line "), "{error}");
    }
}
