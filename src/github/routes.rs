//! Every REST route the action calls, built in one place: an owner's namespace (`/orgs`,
//! `/users` or `/user`) and the package and version paths under it, names encoded as one path
//! segment each; and GitHub's refusals quoted as errors.

use super::client::Answer;
use crate::model::PackageType;
use anyhow::anyhow;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Path segment encoding: everything but unreserved characters (so `/` in a name is `%2F`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub fn segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// Where an owner's packages live in the REST API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Namespace {
    Org(String),
    User(String),
    /// The token's own account, through `/user`.
    Me(String),
}

impl Namespace {
    /// The owner's name, as the rule gives it.
    pub fn owner(&self) -> &str {
        match self {
            Namespace::Org(name) | Namespace::User(name) | Namespace::Me(name) => name,
        }
    }

    pub fn prefix(&self) -> String {
        match self {
            Namespace::Org(org) => format!("/orgs/{}", segment(org)),
            Namespace::User(user) => format!("/users/{}", segment(user)),
            Namespace::Me(_) => "/user".to_string(),
        }
    }

    /// `org` or `user`, as the `owner-type` input says it.
    pub fn owner_type(&self) -> &'static str {
        match self {
            Namespace::Org(_) => "org",
            Namespace::User(_) | Namespace::Me(_) => "user",
        }
    }

    pub fn package_path(&self, package_type: PackageType, name: &str) -> String {
        format!(
            "{}/packages/{}/{}",
            self.prefix(),
            package_type,
            segment(name)
        )
    }

    pub fn version_path(&self, package_type: PackageType, name: &str, id: u64) -> String {
        format!("{}/versions/{id}", self.package_path(package_type, name))
    }
}

/// A failed answer as an error that quotes GitHub.
pub fn api_error(what: &str, answer: &Answer) -> anyhow::Error {
    anyhow!(
        "{what}: GitHub answered {} \"{}\"",
        answer.status.as_u16(),
        answer.message()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_encoded_as_one_segment() {
        let ns = Namespace::Org("acme".into());
        assert_eq!(
            ns.version_path(PackageType::Container, "team/app", 7),
            "/orgs/acme/packages/container/team%2Fapp/versions/7"
        );
        assert_eq!(Namespace::Me("me".into()).prefix(), "/user");
    }
}
