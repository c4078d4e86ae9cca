//! A rule's repository-aware inputs (`keep-open-pull-requests`, `keep-live-branches`,
//! `keep-referenced-in`): the templates and globs read and checked, the repositories they read,
//! and, once every rule is read, the references found in the workspace files (bad input when
//! the files cannot all be read: a missed reference could delete what production runs).

use super::references::{ImageReference, ReferenceScanner};
use super::rule::Values;
use super::template::{Placeholder, TagTemplate};
use super::workspace_files::{read_files, FileGlobs};
use super::InputError;
use crate::model::PackageType;
use crate::plan::Mode;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

pub const OPEN_PULL_REQUESTS: &str = "keep-open-pull-requests";
pub const LIVE_BRANCHES: &str = "keep-live-branches";
pub const REFERENCED_IN: &str = "keep-referenced-in";

/// What a rule asks of its repository.
#[derive(Clone, Debug, Default)]
pub struct RepositoryAware {
    pub open_pull_requests: Option<TagTemplate>,
    pub live_branches: Option<TagTemplate>,
    /// `owner/name` of each repository whose pull requests and branches count: those
    /// `repository` names exactly, else the workflow's (`GITHUB_REPOSITORY`).
    pub repositories: Vec<String>,
    pub referenced_in: Option<FileGlobs>,
    /// What the files of `referenced_in` hold (shared by the rules that read the same files).
    pub references: Arc<References>,
}

/// The distinct references found in the files, each with where it was first seen.
#[derive(Debug, Default)]
pub struct References {
    /// By package (lower case): the tag or digest referenced and its place
    /// (`deploy/prod.yaml line 12`).
    pub by_package: BTreeMap<String, Vec<(Target, String)>>,
    /// Files skipped, with why (symlinks that lead out of the workspace).
    pub skipped: Vec<String>,
    pub files_read: usize,
}

/// What a reference pins: a tag, or (with or without a tag) a digest, which is what runs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Tag(String),
    Digest(String),
}

impl RepositoryAware {
    /// Whether pull requests or branches are read.
    pub fn reads_repository(&self) -> bool {
        self.open_pull_requests.is_some() || self.live_branches.is_some()
    }

    fn given(&self) -> Option<&'static str> {
        [
            (self.open_pull_requests.is_some(), OPEN_PULL_REQUESTS),
            (self.live_branches.is_some(), LIVE_BRANCHES),
            (self.referenced_in.is_some(), REFERENCED_IN),
        ]
        .into_iter()
        .find_map(|(given, name)| given.then_some(name))
    }
}

/// Reads and checks the three inputs of a rule: templates with one placeholder and a tag's
/// characters, globs inside the workspace; container packages only, delete mode only, online.
pub fn read(
    values: &Values,
    package_type: PackageType,
    repositories: &[glob::Pattern],
    mode: Mode,
    offline: bool,
) -> Result<RepositoryAware, InputError> {
    let template = |name: &str, placeholder| {
        TagTemplate::parse(&values.get(name), placeholder)
            .map_err(|problem| values.error(name, format!("not a tag template: {problem}")))
    };
    let aware = RepositoryAware {
        open_pull_requests: template(OPEN_PULL_REQUESTS, Placeholder::Number)?,
        live_branches: template(LIVE_BRANCHES, Placeholder::Branch)?,
        referenced_in: FileGlobs::parse(&values.get(REFERENCED_IN))
            .map_err(|problem| values.error(REFERENCED_IN, problem))?,
        // Exact names only: `repository` globs are not read for this.
        repositories: repositories
            .iter()
            .map(glob::Pattern::as_str)
            .filter(|name| !name.contains(['*', '?', '[']))
            .map(str::to_string)
            .collect(),
        references: Arc::default(),
    };
    let Some(name) = aware.given() else {
        return Ok(aware);
    };
    if package_type != PackageType::Container {
        return Err(values.error(
            name,
            format!("applies to container packages only, not {package_type}"),
        ));
    }
    if mode == Mode::Restore {
        return Err(values.error(
            name,
            "conflicts with mode `restore`: it protects versions from deletion (mode `delete` only)",
        ));
    }
    if offline {
        return Err(values.error(
            name,
            "conflicts with --versions-file: an offline plan reads neither the repository nor the workspace",
        ));
    }
    Ok(aware)
}

/// Completes the rules' repository-aware inputs: the workflow's repository where a rule names
/// none, and the references of the workspace files (each distinct set of globs, registry and
/// owner read once). `context(i)` is how errors name rule `i` (`config rules[i]: `).
pub fn complete(
    rules: &mut [super::Rule],
    workflow_repository: Option<&str>,
    workspace: &Path,
    context: impl Fn(usize) -> String,
) -> Result<(), InputError> {
    let mut scanned: HashMap<(String, String, String), Arc<References>> = HashMap::new();
    for (index, rule) in rules.iter_mut().enumerate() {
        let aware = &mut rule.repository_aware;
        if aware.reads_repository() && aware.repositories.is_empty() {
            let input = if aware.open_pull_requests.is_some() {
                OPEN_PULL_REQUESTS
            } else {
                LIVE_BRANCHES
            };
            match workflow_repository.map(str::trim).filter(|r| r.contains('/')) {
                Some(repository) => aware.repositories.push(repository.to_string()),
                None => {
                    return Err(InputError::new(
                        &format!("{}{input}", context(index)),
                        "",
                        "needs a repository: name it in `repository` (owner/name), or run in a workflow (GITHUB_REPOSITORY)",
                    ))
                }
            }
        }
        let Some(globs) = &aware.referenced_in else {
            continue;
        };
        let host = registry_host(&rule.registry_url);
        let key = (
            globs.to_string(),
            host.clone(),
            rule.owner.to_ascii_lowercase(),
        );
        if let Some(found) = scanned.get(&key) {
            aware.references = found.clone();
            continue;
        }
        let found = scan(workspace, globs, &host, &rule.owner).map_err(|problem| {
            InputError::new(
                &format!("{}{REFERENCED_IN}", context(index)),
                &globs.to_string(),
                problem,
            )
        })?;
        let found = Arc::new(found);
        aware.references = found.clone();
        scanned.insert(key, found);
    }
    Ok(())
}

/// `registry-url` as references name it: without its scheme (`ghcr.io`, `host:5000/path`).
fn registry_host(registry_url: &str) -> String {
    registry_url
        .split_once("://")
        .map_or(registry_url, |(_, rest)| rest)
        .trim_end_matches('/')
        .to_string()
}

/// Reads the files and keeps the distinct references to `owner`'s images on `host`.
fn scan(
    workspace: &Path,
    globs: &FileGlobs,
    host: &str,
    owner: &str,
) -> Result<References, String> {
    let scanner = ReferenceScanner::new(host, owner);
    let mut references = References::default();
    let mut seen: HashMap<(String, Target), ()> = HashMap::new();
    let walk = read_files(workspace, globs, |path, text| {
        for ImageReference {
            package,
            tag,
            digest,
            line,
        } in scanner.scan(text)
        {
            let target = match (digest, tag) {
                (Some(digest), _) => Target::Digest(digest),
                (None, Some(tag)) => Target::Tag(tag),
                (None, None) => continue,
            };
            if seen.insert((package.clone(), target.clone()), ()).is_none() {
                references
                    .by_package
                    .entry(package)
                    .or_default()
                    .push((target, format!("{path} line {line}")));
            }
        }
    })
    .map_err(|error| error.to_string())?;
    references.files_read = walk.read.len();
    references.skipped = walk
        .skipped
        .into_iter()
        .map(|(path, why)| format!("keep-referenced-in: `{path}` is skipped: {why}"))
        .collect();
    Ok(references)
}
