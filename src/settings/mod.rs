//! The first stage: the action's inputs, validated into `Settings`, one `Rule` per `config`
//! rule. Each input is declared once in `catalogue`; `raw` reads the values (`INPUT_*` or
//! flags), `config` the rules' YAML, `rule` each rule, `values` the small languages of values.
//! Bad input becomes an `InputError` naming the input and the value.

pub use crate::model::OwnerType;
use crate::model::PackageType;
use crate::plan::policy::Policy;
use crate::plan::Mode;
use crate::runner::files;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

pub mod catalogue;
mod config;
mod raw;
mod references;
pub mod repository_aware;
mod rule;
pub mod template;
pub mod values;
mod workspace_files;

use catalogue::{Scope, INPUTS};
pub use config::read_config_file;
#[cfg(test)]
use config::CONFIG_FILE_LIMIT;
pub use raw::{Invocation, RawInputs};
use rule::parse_rule;

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
    /// `keep-open-pull-requests`, `keep-live-branches`, `keep-referenced-in`.
    pub repository_aware: repository_aware::RepositoryAware,
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
    /// `report-file`: where the full JSON report goes, relative to the workspace, as given.
    pub report_file: Option<PathBuf>,
    /// `report-file` resolved inside the workspace (checked writable).
    pub report_path: Option<PathBuf>,
    /// `manifest-cache`: the cache file, resolved inside the workspace.
    pub manifest_cache: Option<PathBuf>,
    /// `GITHUB_WORKSPACE` (else the current directory): where `report-file` and `manifest-cache` are.
    pub workspace: PathBuf,
}

/// The settings of this invocation (`None`: `--help` was asked for).
pub fn from_environment(
    args: &[String],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<Settings>, InputError> {
    match RawInputs::from_environment(args, env)? {
        Invocation::Help => Ok(None),
        Invocation::Run(raw) => raw.into_settings(read_config_file).map(Some),
    }
}

/// `--help`: how to run it, and every input of the catalogue.
pub fn usage() -> String {
    let mut inputs = String::from("Inputs:");
    let mut line = inputs.len();
    for input in INPUTS {
        if line + 1 + input.name.len() > 88 {
            inputs.push_str("\n ");
            line = 1;
        }
        inputs.push(' ');
        inputs.push_str(input.name);
        line += 1 + input.name.len();
    }
    let mut each = String::new();
    for input in INPUTS {
        let scope = match input.scope {
            Scope::Rule => "per rule",
            Scope::Run => "per run",
        };
        let default = match input.default {
            "" => String::new(),
            default => format!("; default {default}"),
        };
        each.push_str(&format!(
            "\n  --{:<22} {} ({scope}{default})",
            input.name, input.help
        ));
    }
    format!(
        "\
package-retention: delete and restore GitHub Packages versions.

In a workflow it reads its inputs from INPUT_<NAME> variables (see action.yml).
By hand, each input is a flag:
  package-retention --owner acme --packages app --keep-latest 5 --dry-run
The token comes from GITHUB_TOKEN (or --token). Boolean flags may stand alone.
Offline, with no token and no network, plan against an exported versions file:
  package-retention --versions-file versions.json --package-type npm --packages my-lib --keep-latest 2
The full JSON report goes to --report-file PATH, a path inside GITHUB_WORKSPACE (the
current directory when it is not set).

{inputs}
Exit codes: 0 done, 1 a deletion or restore failed (with fail-on-error) or the run failed,
  2 bad input.

Each input:{each}"
    )
}

impl RawInputs {
    /// The rules: one from the plain inputs, or one per `config` rule, each starting from
    /// the plain inputs; `read_file` reads a `config` path.
    fn rules(
        &self,
        mode: Mode,
        offline: bool,
        read_file: &impl Fn(&str) -> Result<String, String>,
    ) -> Result<Vec<Rule>, InputError> {
        let defaults: BTreeMap<String, String> = INPUTS
            .iter()
            .filter(|s| s.scope == Scope::Rule)
            .map(|s| (s.name.to_string(), self.value(s.name)))
            .collect();
        let config = self.value("config");
        if config.trim().is_empty() {
            return Ok(vec![parse_rule(&defaults, mode, offline, "")?]);
        }
        let (text, shown) = match config.trim() {
            path if !path.contains('\n') && !path.contains(':') => (
                read_file(path).map_err(|problem| InputError::new("config", path, problem))?,
                path.to_string(),
            ),
            _ => (config.clone(), "(inline YAML)".to_string()),
        };
        config::config_rules(&text, &shown)?
            .into_iter()
            .enumerate()
            .map(|(index, overrides)| {
                let mut values = defaults.clone();
                values.extend(overrides);
                parse_rule(&values, mode, offline, &format!("config rules[{index}]: "))
            })
            .collect()
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

        let mut rules = self.rules(mode, offline, &read_file)?;
        let workspace = self.workspace.clone().unwrap_or_else(|| PathBuf::from("."));
        let in_config = !self.value("config").trim().is_empty();
        repository_aware::complete(&mut rules, self.repository.as_deref(), &workspace, |i| {
            if in_config {
                format!("config rules[{i}]: ")
            } else {
                String::new()
            }
        })?;
        let inside = |name: &str| -> Result<Option<(PathBuf, PathBuf)>, InputError> {
            let text = self.value(name);
            let Some(relative) = workspace_path(name, &text)? else {
                return Ok(None);
            };
            let resolved = files::resolve_inside(&workspace, &relative)
                .map_err(|problem| InputError::new(name, text.trim(), problem))?;
            Ok(Some((relative, resolved)))
        };
        let manifest_cache = inside("manifest-cache")?.map(|(_, resolved)| resolved);
        let report = inside("report-file")?;
        if let Some((relative, resolved)) = &report {
            files::check_writable(resolved).map_err(|problem| {
                InputError::new("report-file", &relative.display().to_string(), problem)
            })?;
        }
        let (report_file, report_path) = report.unzip();
        Ok(Settings {
            mode,
            dry_run,
            fail_on_error,
            max_deletions,
            token,
            rules: rules.into_iter().map(Arc::new).collect(),
            report_file,
            report_path,
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

pub(super) fn parse_bool(name: &str, text: &str) -> Result<bool, InputError> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(InputError::new(name, text, "must be `true` or `false`")),
    }
}

pub(super) fn parse_count(name: &str, text: &str) -> Result<usize, InputError> {
    text.trim()
        .parse::<usize>()
        .map_err(|_| InputError::new(name, text, "must be a whole number, 0 or more"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::policy::KeepLatestPer;

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
        let real = std::env::current_dir().unwrap().canonicalize().unwrap();
        assert_eq!(s.manifest_cache, Some(real.join(".cache/manifests")));
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
