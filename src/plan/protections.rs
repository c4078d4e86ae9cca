//! What the repository protects in one package (`keep-open-pull-requests`, `keep-live-branches`,
//! `keep-referenced-in`): tags and digests, each with its reason. Pure: the run builds it from
//! what it read, the plan keeps what it names like `exclude-*` does.

use crate::model::Version;
use std::collections::HashMap;

/// Why the repository keeps a version: the input, and the reason in words ("pull request #12
/// is open", "branch feature/login exists", "referenced in deploy/prod.yaml line 12").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Protection {
    pub input: &'static str,
    pub reason: String,
}

/// The tags and digests the repository protects in one package. The first reason given for a
/// tag or digest is the one kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Protections {
    tags: HashMap<String, Protection>,
    /// `sha256:<hex>`, lower case.
    digests: HashMap<String, Protection>,
}

impl Protections {
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.digests.is_empty()
    }

    /// Protects the version carrying `tag`.
    pub fn protect_tag(&mut self, tag: String, input: &'static str, reason: String) {
        self.tags.entry(tag).or_insert(Protection { input, reason });
    }

    /// Protects the version named `digest`.
    pub fn protect_digest(&mut self, digest: &str, input: &'static str, reason: String) {
        self.digests
            .entry(digest.to_ascii_lowercase())
            .or_insert(Protection { input, reason });
    }

    /// The tags and digests protected by `input` that none of `versions` carries (`tag v9` or
    /// `digest sha256:…`), with their protection, in a stable order.
    pub fn unmatched(&self, input: &str, versions: &[Version]) -> Vec<(String, &Protection)> {
        let mut unmatched: Vec<(String, &Protection)> = Vec::new();
        for (tag, protection) in &self.tags {
            if protection.input == input && !versions.iter().any(|v| v.tags.contains(tag)) {
                unmatched.push((format!("tag {tag}"), protection));
            }
        }
        for (digest, protection) in &self.digests {
            if protection.input == input
                && !versions.iter().any(|v| v.name.eq_ignore_ascii_case(digest))
            {
                unmatched.push((format!("digest {digest}"), protection));
            }
        }
        unmatched.sort_by(|a, b| (&a.1.reason, &a.0).cmp(&(&b.1.reason, &b.0)));
        unmatched
    }

    /// What protects this version, if anything: its digest first, then its tags in order.
    pub fn of(&self, version: &Version) -> Option<&Protection> {
        if self.is_empty() {
            return None;
        }
        self.digests
            .get(&version.name.to_ascii_lowercase())
            .or_else(|| version.tags.iter().find_map(|tag| self.tags.get(tag)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(name: &str, tags: &[&str]) -> Version {
        Version {
            id: 1,
            name: name.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            created_at: 0,
            updated_at: 0,
            deleted_at: None,
            html_url: None,
        }
    }

    #[test]
    fn a_digest_or_any_tag_protects_and_the_first_reason_stays() {
        let mut protections = Protections::default();
        assert_eq!(protections.of(&version("sha256:aa", &["pr-1"])), None);
        protections.protect_tag(
            "pr-1".into(),
            "keep-open-pull-requests",
            "pull request #1 is open".into(),
        );
        protections.protect_tag("pr-1".into(), "keep-open-pull-requests", "second".into());
        protections.protect_digest(
            "SHA256:BB",
            "keep-referenced-in",
            "referenced in a.yaml line 2".into(),
        );
        let by_tag = protections
            .of(&version("sha256:aa", &["x", "pr-1"]))
            .unwrap();
        assert_eq!(by_tag.reason, "pull request #1 is open");
        let by_digest = protections.of(&version("sha256:bb", &["pr-1"])).unwrap();
        assert_eq!(by_digest.input, "keep-referenced-in");
        assert_eq!(
            protections.of(&version("sha256:cc", &["PR-1"])),
            None,
            "tags keep their case"
        );
        let listed = [version("sha256:cc", &["pr-1"])];
        let unmatched = protections.unmatched("keep-referenced-in", &listed);
        assert_eq!(unmatched.len(), 1);
        assert_eq!(unmatched[0].0, "digest sha256:bb");
        assert!(protections
            .unmatched("keep-open-pull-requests", &listed)
            .is_empty());
    }
}
