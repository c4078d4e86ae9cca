//! Tag templates of `keep-open-pull-requests` (`pr-{number}`) and `keep-live-branches`
//! (`{branch}`): parsed once from the input, then turned into the tag of a pull request or branch.

use std::fmt;

/// What a template's one placeholder stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placeholder {
    /// `{number}`: a pull request's number.
    Number,
    /// `{branch}`: a branch name made a tag (see [`branch_tag`]).
    Branch,
}

impl Placeholder {
    fn text(self) -> &'static str {
        match self {
            Placeholder::Number => "{number}",
            Placeholder::Branch => "{branch}",
        }
    }

    /// What `true` means: docker/metadata-action's default tags.
    fn default_template(self) -> &'static str {
        match self {
            Placeholder::Number => "pr-{number}",
            Placeholder::Branch => "{branch}",
        }
    }
}

/// A tag with one placeholder: the text before and after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagTemplate {
    placeholder: Placeholder,
    before: String,
    after: String,
}

/// The longest tag a registry accepts.
const MAX_TAG_LEN: usize = 128;

impl TagTemplate {
    /// The template an input gives: `None` when off (empty or `false`, any case), the default
    /// for `true`; an error (what is wrong) for a template without exactly one `placeholder`
    /// or with a character a tag cannot hold.
    pub fn parse(value: &str, placeholder: Placeholder) -> Result<Option<TagTemplate>, String> {
        let value = value.trim();
        if value.is_empty() || value.eq_ignore_ascii_case("false") {
            return Ok(None);
        }
        let value = if value.eq_ignore_ascii_case("true") {
            placeholder.default_template()
        } else {
            value
        };
        let wanted = placeholder.text();
        let Some((before, after)) = value.split_once(wanted) else {
            return Err(format!("it has no {wanted}"));
        };
        if after.contains(wanted) {
            return Err(format!("it has {wanted} more than once"));
        }
        let fixed = || before.chars().chain(after.chars());
        if let Some(bad) = fixed().find(|c| !is_tag_char(*c)) {
            return Err(format!(
                "{bad:?} cannot be in a tag (only A-Z, a-z, 0-9, `.`, `_`, `-` and one {wanted})"
            ));
        }
        if before.starts_with(['.', '-']) {
            return Err("a tag cannot start with `.` or `-`".to_owned());
        }
        if before.len() + after.len() >= MAX_TAG_LEN {
            return Err(format!("a tag has at most {MAX_TAG_LEN} characters"));
        }
        Ok(Some(TagTemplate {
            placeholder,
            before: before.to_owned(),
            after: after.to_owned(),
        }))
    }

    /// The tag of pull request `number`.
    pub fn pull_request_tag(&self, number: u64) -> String {
        debug_assert_eq!(self.placeholder, Placeholder::Number);
        format!("{}{number}{}", self.before, self.after)
    }

    /// The tag of branch `name`, made a tag as docker/metadata-action does.
    pub fn branch_tag(&self, name: &str) -> String {
        debug_assert_eq!(self.placeholder, Placeholder::Branch);
        format!("{}{}{}", self.before, branch_tag(name), self.after)
    }
}

impl fmt::Display for TagTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}",
            self.before,
            self.placeholder.text(),
            self.after
        )
    }
}

fn is_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// A branch name as docker/metadata-action makes it a tag: each run of characters outside
/// `[A-Za-z0-9._-]` becomes one `-` (`feature/login` → `feature-login`).
pub fn branch_tag(name: &str) -> String {
    let mut tag = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if is_tag_char(c) {
            tag.push(c);
            in_run = false;
        } else if !in_run {
            tag.push('-');
            in_run = true;
        }
    }
    tag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_branch_name_becomes_a_tag_as_docker_metadata_action_makes_it() {
        assert_eq!(branch_tag("feature/login"), "feature-login");
        assert_eq!(branch_tag("main"), "main");
        assert_eq!(
            branch_tag("dependabot/npm_and_yarn/a-1.2"),
            "dependabot-npm_and_yarn-a-1.2"
        );
        assert_eq!(branch_tag("a//b  c"), "a-b-c");
        assert_eq!(branch_tag("fix/ümlaut"), "fix-mlaut");
        assert_eq!(branch_tag("Release/V1"), "Release-V1");
    }

    #[test]
    fn true_false_and_custom_templates() {
        let pr = |v| TagTemplate::parse(v, Placeholder::Number);
        let branch = |v| TagTemplate::parse(v, Placeholder::Branch);
        assert_eq!(pr("").unwrap(), None);
        assert_eq!(pr("FALSE").unwrap(), None);
        assert_eq!(pr("true").unwrap().unwrap().pull_request_tag(12), "pr-12");
        assert_eq!(
            pr("pr{number}-dev").unwrap().unwrap().pull_request_tag(7),
            "pr7-dev"
        );
        assert_eq!(pr(" True ").unwrap().unwrap().to_string(), "pr-{number}");
        assert_eq!(
            branch("true").unwrap().unwrap().branch_tag("feature/x"),
            "feature-x"
        );
        let custom = branch("branch-{branch}").unwrap().unwrap();
        assert_eq!(custom.branch_tag("a/b"), "branch-a-b");
    }

    #[test]
    fn bad_templates_say_what_is_wrong() {
        let pr = |v| TagTemplate::parse(v, Placeholder::Number).unwrap_err();
        assert!(pr("pr-").contains("no {number}"));
        assert!(pr("pr-{branch}").contains("no {number}"));
        assert!(pr("{number}-{number}").contains("more than once"));
        assert!(pr("pr/{number}").contains("'/'"));
        assert!(pr("pr {number}").contains("' '"));
        assert!(pr("pr-{number}:x").contains("':'"));
        assert!(pr("-{number}").contains("start"));
        assert!(pr(&format!("{}{{number}}", "a".repeat(130))).contains("128"));
        let branch = |v| TagTemplate::parse(v, Placeholder::Branch).unwrap_err();
        assert!(branch("{number}").contains("no {branch}"));
        assert!(branch("{branch}{").contains("'{'"));
    }
}
