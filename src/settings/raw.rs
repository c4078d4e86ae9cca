//! The raw input values, before validation: from `INPUT_<NAME>` variables (as the runner
//! passes them), or from `--<input-name> <value>` flags on a laptop, every name from the
//! catalogue.

use super::catalogue::{self, Kind, INPUTS};
use super::InputError;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The raw input values, before validation.
#[derive(Debug, Default)]
pub struct RawInputs {
    pub(super) values: BTreeMap<String, String>,
    pub(super) versions_file: Option<PathBuf>,
    /// `GITHUB_WORKSPACE`: where workspace-relative paths start (else the current directory).
    pub(super) workspace: Option<PathBuf>,
    /// `GITHUB_REPOSITORY`: the workflow's repository (`owner/name`).
    pub(super) repository: Option<String>,
}

/// What the command line asks for.
pub enum Invocation {
    Run(RawInputs),
    Help,
}

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
            repository: env("GITHUB_REPOSITORY"),
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
                let input = catalogue::input(name);
                let known = name == "versions-file" || input.is_some();
                if !known {
                    return Err(InputError::new(name, arg, "unknown flag; see --help"));
                }
                let value = match inline {
                    Some(value) => value,
                    None if input.is_some_and(|input| input.kind == Kind::Flag)
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
    pub fn value(&self, name: &str) -> String {
        match self.values.get(name) {
            Some(value) => value.clone(),
            None => catalogue::input(name)
                .map(|s| s.default)
                .filter(|d| !d.starts_with("${{"))
                .unwrap_or("")
                .to_string(),
        }
    }
}
