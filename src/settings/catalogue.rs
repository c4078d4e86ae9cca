//! The catalogue of inputs: each input of the action declared once (name, default, kind, per
//! rule or per run, help). `--help`, the flags, the `INPUT_*` variables read, the `config` rule
//! keys and the check against `action.yml` (tests/consistency.rs) all derive from [`INPUTS`].
//! Adding an input is adding its entry here, then reading it where it is used (`rule.rs` for a
//! per-rule input, `mod.rs` for a per-run one). Self-contained: the consistency test compiles
//! this file on its own.

/// How an input's value is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Free text: a name, a token, YAML.
    Text,
    /// `true` or `false`; as a flag, it may stand alone (`--dry-run`).
    Flag,
    /// A whole number, 0 or more.
    Count,
    /// One of these words, in any case.
    Choice(&'static [&'static str]),
    /// Items separated by commas or newlines (names, globs, ids).
    List,
    /// An age such as `90d`, `2w`, `36h` or `45m`.
    Age,
    /// A semver requirement.
    Semver,
    /// An http(s) URL.
    Url,
    /// A file inside the workspace.
    Path,
}

/// Whether an input may differ from one `config` rule to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Set per `config` rule; the plain input is every rule's default.
    Rule,
    /// Holds for the whole run: an input only, never a `config` key.
    Run,
}

/// One input of the action.
#[derive(Debug)]
pub struct Input {
    pub name: &'static str,
    /// Its default in `action.yml` (an expression such as `${{ github.token }}` is the
    /// runner's: the binary reads none).
    pub default: &'static str,
    pub kind: Kind,
    pub scope: Scope,
    /// One line for `--help`.
    pub help: &'static str,
}

const fn rule(name: &'static str, default: &'static str, kind: Kind, help: &'static str) -> Input {
    Input {
        name,
        default,
        kind,
        scope: Scope::Rule,
        help,
    }
}

const fn run(name: &'static str, default: &'static str, kind: Kind, help: &'static str) -> Input {
    Input {
        name,
        default,
        kind,
        scope: Scope::Run,
        help,
    }
}

/// Every input the binary reads, in `action.yml`'s order.
pub const INPUTS: &[Input] = &[
    run(
        "token",
        "${{ github.token }}",
        Kind::Text,
        "token with package admin rights (by hand: GITHUB_TOKEN)",
    ),
    rule(
        "owner",
        "${{ github.repository_owner }}",
        Kind::Text,
        "user or organization that owns the packages",
    ),
    rule(
        "owner-type",
        "auto",
        Kind::Choice(&["auto", "user", "org"]),
        "auto, user or org",
    ),
    rule(
        "package-type",
        "container",
        Kind::Choice(&["npm", "maven", "rubygems", "nuget", "docker", "container"]),
        "npm, maven, rubygems, nuget, docker or container",
    ),
    rule(
        "packages",
        "",
        Kind::List,
        "package names or globs (required)",
    ),
    run(
        "mode",
        "delete",
        Kind::Choice(&["delete", "restore"]),
        "delete or restore",
    ),
    run(
        "dry-run",
        "false",
        Kind::Flag,
        "plan, log, write outputs and summary, change nothing",
    ),
    rule("version-ids", "", Kind::List, "only these version ids"),
    rule(
        "tags",
        "",
        Kind::List,
        "globs: a version is selected if any of its tags matches one",
    ),
    rule(
        "exclude-tags",
        "",
        Kind::List,
        "globs: a version with a matching tag is never touched",
    ),
    rule(
        "tag-selection",
        "any",
        Kind::Choice(&["any", "tagged", "untagged"]),
        "any, tagged or untagged",
    ),
    rule("versions", "", Kind::List, "globs on the version name"),
    rule(
        "exclude-versions",
        "",
        Kind::List,
        "globs on the version name: matching versions are never touched",
    ),
    rule(
        "semver",
        "",
        Kind::Semver,
        "semver requirement on the name (containers: any tag)",
    ),
    rule(
        "prerelease",
        "any",
        Kind::Choice(&["any", "only", "exclude"]),
        "any, only or exclude",
    ),
    rule(
        "older-than",
        "",
        Kind::Age,
        "only versions not updated for this long (90d, 2w, 36h)",
    ),
    rule(
        "deleted-within",
        "",
        Kind::Age,
        "restore: only versions deleted within this age",
    ),
    rule(
        "keep-latest",
        "0",
        Kind::Count,
        "spare the N most recent of the versions selected",
    ),
    rule(
        "min-versions-to-keep",
        "0",
        Kind::Count,
        "keep at least N active versions",
    ),
    rule(
        "delete-empty-package",
        "false",
        Kind::Flag,
        "delete the whole package when nothing would remain",
    ),
    run(
        "max-deletions",
        "",
        Kind::Count,
        "at most N deletions this run, oldest first",
    ),
    rule(
        "registry-url",
        "https://ghcr.io",
        Kind::Url,
        "OCI registry of container manifests",
    ),
    run(
        "config",
        "",
        Kind::Text,
        "YAML (or a file) with a list of rules of per-rule inputs",
    ),
    run(
        "fail-on-error",
        "true",
        Kind::Flag,
        "exit non-zero when a deletion or restore failed",
    ),
    rule(
        "keep-latest-per",
        "all",
        Kind::Choice(&["all", "major", "minor"]),
        "all, major or minor: how keep-latest counts",
    ),
    run(
        "report-file",
        "",
        Kind::Path,
        "where the full JSON report goes, in the workspace",
    ),
    rule(
        "untag",
        "false",
        Kind::Flag,
        "containers: remove only the selected tags",
    ),
    rule(
        "repository",
        "",
        Kind::List,
        "only packages linked to these repositories",
    ),
    run(
        "manifest-cache",
        "",
        Kind::Path,
        "containers: a file that keeps manifests' references between runs",
    ),
    rule(
        "keep-open-pull-requests",
        "",
        Kind::Text,
        "containers: keep the tag this template (pr-{number}, or true) gives each open pull request",
    ),
    rule(
        "keep-live-branches",
        "",
        Kind::Text,
        "containers: keep the tag this template ({branch}, or true) gives each branch",
    ),
    rule(
        "keep-referenced-in",
        "",
        Kind::List,
        "containers: keep the images that these workspace files (globs) reference",
    ),
];

/// The input of that name.
pub fn input(name: &str) -> Option<&'static Input> {
    INPUTS.iter().find(|input| input.name == name)
}
