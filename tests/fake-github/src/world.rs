//! The fake's state: accounts, tokens, packages and their versions, with builders that keep
//! test set-ups short.
//!
//! ```
//! use fake_github::{days, digest, Manifest, World};
//!
//! let mut world = World::new().user("alice").org("acme").token("tok", "alice");
//! let app = world.add_package("acme", "container", "app").public();
//! app.add_version(&digest(1), &["v1"], days(40));
//! app.add_version(&digest(2), &["latest"], days(1))
//!     .with_manifest(Manifest::index(&[digest(3)]));
//! app.add_version(&digest(3), &[], days(1));
//! assert_eq!(world.package("acme", "container", "app").unwrap().active_ids().len(), 3);
//!
//! // Content addressing (`FakeGithub::start` does it): the made-up digests were labels.
//! world.seal();
//! let app = world.package("acme", "container", "app").unwrap();
//! let platform = app.digest_of(&digest(3));
//! assert_ne!(platform, digest(3));
//! let index = app.version_named(&app.digest_of(&digest(2))).unwrap();
//! assert_eq!(index.manifest, Some(Manifest::index(&[platform])));
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Ids handed out by the builders: unique and increasing across every world of the process,
/// so a package id never equals a version id and a later version always has a larger id.
static NEXT_ID: AtomicU64 = AtomicU64::new(1_000);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// `now - age`, the instant `age` ago on the real clock.
pub fn ago(age: Duration) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::from_std(age).expect("age fits in chrono::Duration")
}

/// A duration of `n` days.
pub fn days(n: u64) -> Duration {
    Duration::from_secs(n * 86_400)
}

/// A duration of `n` hours.
pub fn hours(n: u64) -> Duration {
    Duration::from_secs(n * 3_600)
}

/// A made-up container digest derived from `n`: `sha256:` and 64 hex characters. Different `n`
/// give different digests; the same `n` always gives the same digest. Used as a label when
/// building a world: [`World::seal`] names each manifest by the sha256 of its bytes instead
/// ([`Package::digest_of`] tells which digest a label became).
pub fn digest(n: u64) -> String {
    let mut state = n;
    let mut hex = String::from("sha256:");
    for _ in 0..4 {
        hex.push_str(&format!("{:016x}", splitmix64(&mut state)));
    }
    hex
}

/// SplitMix64: a bijective mixer, so the first word already tells different seeds apart.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Everything the fake knows. Cloned out by [`crate::FakeGithub::world`] as a snapshot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct World {
    pub accounts: Vec<Account>,
    pub tokens: Vec<Token>,
    pub packages: Vec<Package>,
    /// Repositories with their pull requests and branches (see [`crate::Repository`]).
    pub repositories: Vec<crate::Repository>,
}

/// A GitHub user or organization. Its API id is its position in [`World::accounts`] plus one.
#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    pub login: String,
    pub kind: AccountKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountKind {
    User,
    Organization,
}

impl AccountKind {
    /// The `type` GitHub gives the account in JSON.
    pub fn as_github_type(self) -> &'static str {
        match self {
            AccountKind::User => "User",
            AccountKind::Organization => "Organization",
        }
    }
}

/// A credential the fake accepts, acting as the user `login`.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub value: String,
    pub login: String,
    /// `GET /{namespace}/packages` is allowed (otherwise 403).
    pub can_list_packages: bool,
    /// Deletes and restores are allowed (otherwise refused: 403, or 404 with
    /// `refused_as_not_found`).
    pub can_delete: bool,
    /// A refused delete or restore is answered 404 `Package not found.`, as GitHub answers a
    /// `GITHUB_TOKEN` that may read the package but not delete it (reads still work).
    pub refused_as_not_found: bool,
    /// Registry pushes are allowed (`packages: write`); otherwise the registry grants only
    /// pull and refuses writes with 403 `DENIED`.
    pub can_push: bool,
    /// A `GITHUB_TOKEN`-like installation token: `GET /user` answers 403
    /// "Resource not accessible by integration".
    pub is_installation: bool,
    /// `GET /repos/{owner}/{repo}/pulls` is allowed (`pull-requests: read`); otherwise 403.
    pub can_read_pull_requests: bool,
    /// `GET /repos/{owner}/{repo}/branches` is allowed (`contents: read`); otherwise 403.
    pub can_read_contents: bool,
}

impl Token {
    /// A personal token of `login` with every right.
    pub fn new(value: &str, login: &str) -> Token {
        Token {
            value: value.to_owned(),
            login: login.to_owned(),
            can_list_packages: true,
            can_delete: true,
            refused_as_not_found: false,
            can_push: true,
            is_installation: false,
            can_read_pull_requests: true,
            can_read_contents: true,
        }
    }
}

/// A package. Several packages may share owner, type and name: at most one active, the
/// others deleted (GitHub lets a name be reused after a delete).
#[derive(Clone, Debug, PartialEq)]
pub struct Package {
    pub id: u64,
    pub owner: String,
    pub package_type: String,
    pub name: String,
    /// `public` or `private`.
    pub visibility: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// The repository the package is linked to (`owner/name`), shown as the package's
    /// `repository`; `None`: not linked, no `repository` field.
    pub repository: Option<String>,
    pub versions: Vec<Version>,
}

/// A package version. For containers, `name` is the manifest digest.
#[derive(Clone, Debug, PartialEq)]
pub struct Version {
    pub id: u64,
    pub name: String,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub downloads: u64,
    /// The manifest the registry serves for a container version; `None` is served as a plain
    /// image manifest without subject.
    pub manifest: Option<Manifest>,
    /// The name the version was built with, kept by [`World::seal`] when it names a container
    /// version by its content; an image's bytes derive from it.
    pub label: Option<String>,
}

/// What the OCI registry answers for a container version.
#[derive(Clone, Debug, PartialEq)]
pub enum Manifest {
    /// An image index (multi-platform image) listing the digests of its platform manifests.
    Index { children: Vec<String> },
    /// An image manifest, optionally pointing at another manifest through `subject`
    /// (signatures, attestations). Its config and layers are `blobs`, or, when `None`, a config
    /// and a layer of its own (1,469 and 3,145,728 bytes) derived from the version's label.
    Image {
        subject: Option<String>,
        blobs: Option<ImageBlobs>,
    },
    /// A body served verbatim with this media type.
    Raw { media_type: String, body: String },
    /// A ghost: the API lists the version, but the registry has no manifest for it and answers
    /// 404 `MANIFEST_UNKNOWN` (an interrupted push, an old clean-up).
    Ghost,
}

impl Manifest {
    /// An index listing `children` (digests).
    pub fn index<S: AsRef<str>>(children: &[S]) -> Manifest {
        Manifest::Index {
            children: children.iter().map(|c| c.as_ref().to_owned()).collect(),
        }
    }

    /// A plain image manifest, with a config and a layer of its own.
    pub fn image() -> Manifest {
        Manifest::Image {
            subject: None,
            blobs: None,
        }
    }

    /// An image manifest of this config and these layers (in order): an image that names a
    /// [`Blob`] another image names shares it, as images built on one base layer do.
    pub fn image_with(config: Blob, layers: &[Blob]) -> Manifest {
        Manifest::Image {
            subject: None,
            blobs: Some(ImageBlobs {
                config,
                layers: layers.to_vec(),
            }),
        }
    }

    /// An image manifest whose `subject` is `digest` (a signature or attestation of it).
    pub fn referrer_of(digest: &str) -> Manifest {
        Manifest::Image {
            subject: Some(digest.to_owned()),
            blobs: None,
        }
    }

    /// A body served verbatim.
    pub fn raw(media_type: &str, body: &str) -> Manifest {
        Manifest::Raw {
            media_type: media_type.to_owned(),
            body: body.to_owned(),
        }
    }
}

/// A blob of the registry (an image's config or a layer): stored once per package however many
/// manifests name it, the unit of a package's storage.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Blob {
    /// `sha256:` and 64 hex digits.
    pub digest: String,
    /// Bytes, as the manifest's descriptor gives them.
    pub size: u64,
}

/// A blob named `name` of `size` bytes: its digest is the sha256 of the name, so the same
/// name is the same blob (a shared base layer) and different names are different blobs.
pub fn blob(name: &str, size: u64) -> Blob {
    Blob {
        digest: crate::push::sha256_digest(format!("blob {name}").as_bytes()),
        size,
    }
}

/// The config and layers an image manifest names.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageBlobs {
    pub config: Blob,
    pub layers: Vec<Blob>,
}

impl World {
    /// An empty world.
    pub fn new() -> World {
        World::default()
    }

    /// Adds a user account.
    pub fn user(mut self, login: &str) -> World {
        self.add_account(login, AccountKind::User);
        self
    }

    /// Adds an organization account.
    pub fn org(mut self, login: &str) -> World {
        self.add_account(login, AccountKind::Organization);
        self
    }

    /// Adds a personal token `value` of `login` with every right.
    pub fn token(mut self, value: &str, login: &str) -> World {
        self.tokens.push(Token::new(value, login));
        self
    }

    /// Adds a `GITHUB_TOKEN`-like installation token acting as `login` (every package right,
    /// but `GET /user` is refused).
    pub fn installation_token(mut self, value: &str, login: &str) -> World {
        self.tokens.push(Token {
            is_installation: true,
            ..Token::new(value, login)
        });
        self
    }

    /// Adds a `GITHUB_TOKEN`-like installation token of `login` that may read packages but not
    /// delete or restore them: GitHub answers its writes 404 `Package not found.`, not 403.
    pub fn token_without_delete_rights(mut self, value: &str, login: &str) -> World {
        self.tokens.push(Token {
            can_delete: false,
            refused_as_not_found: true,
            is_installation: true,
            ..Token::new(value, login)
        });
        self
    }

    /// Adds any token.
    pub fn with_token(mut self, token: Token) -> World {
        self.tokens.push(token);
        self
    }

    /// Adds an account (in place).
    pub fn add_account(&mut self, login: &str, kind: AccountKind) {
        self.accounts.push(Account {
            login: login.to_owned(),
            kind,
        });
    }

    /// Adds an active, private package with no versions, created now.
    pub fn add_package(&mut self, owner: &str, package_type: &str, name: &str) -> &mut Package {
        let now = Utc::now();
        self.packages.push(Package {
            id: next_id(),
            owner: owner.to_owned(),
            package_type: package_type.to_owned(),
            name: name.to_owned(),
            visibility: "private".to_owned(),
            created_at: now,
            updated_at: now,
            deleted_at: None,
            repository: None,
            versions: Vec::new(),
        });
        self.packages.last_mut().expect("just pushed")
    }

    /// The account with this login (case-insensitive).
    pub fn account(&self, login: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| a.login.eq_ignore_ascii_case(login))
    }

    /// The API id of an account: its position plus one, or 0 for an owner with no account.
    pub fn account_id(&self, login: &str) -> u64 {
        self.accounts
            .iter()
            .position(|a| a.login.eq_ignore_ascii_case(login))
            .map_or(0, |i| i as u64 + 1)
    }

    /// The token with this value.
    pub fn find_token(&self, value: &str) -> Option<&Token> {
        self.tokens.iter().find(|t| t.value == value)
    }

    /// The package with this owner (case-insensitive), type and name: the active one if there
    /// is one, else the most recently deleted one.
    pub fn package(&self, owner: &str, package_type: &str, name: &str) -> Option<&Package> {
        let index = self.package_index(owner, package_type, name)?;
        Some(&self.packages[index])
    }

    /// Like [`World::package`], mutable.
    pub fn package_mut(
        &mut self,
        owner: &str,
        package_type: &str,
        name: &str,
    ) -> Option<&mut Package> {
        let index = self.package_index(owner, package_type, name)?;
        Some(&mut self.packages[index])
    }

    fn package_index(&self, owner: &str, package_type: &str, name: &str) -> Option<usize> {
        let same = |p: &Package| p.is(owner, package_type, name);
        self.packages
            .iter()
            .position(|p| same(p) && !p.is_deleted())
            .or_else(|| {
                self.packages
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| same(p))
                    .max_by_key(|(_, p)| p.deleted_at)
                    .map(|(i, _)| i)
            })
    }

    /// The version with this id, in any package.
    pub fn version(&self, id: u64) -> Option<&Version> {
        self.packages.iter().find_map(|p| p.version(id))
    }
}

impl Package {
    /// Whether this package has this owner (case-insensitive), type and name.
    pub fn is(&self, owner: &str, package_type: &str, name: &str) -> bool {
        self.owner.eq_ignore_ascii_case(owner)
            && self.package_type == package_type
            && self.name == name
    }

    /// Makes the package public.
    pub fn public(&mut self) -> &mut Package {
        self.visibility = "public".to_owned();
        self
    }

    /// Links the package to the repository `full_name` (`owner/name`).
    pub fn linked_to(&mut self, full_name: &str) -> &mut Package {
        self.repository = Some(full_name.to_owned());
        self
    }

    /// Makes the package private.
    pub fn private(&mut self) -> &mut Package {
        self.visibility = "private".to_owned();
        self
    }

    pub fn is_public(&self) -> bool {
        self.visibility == "public"
    }

    /// Marks the whole package deleted `age` ago (its versions keep their own states).
    pub fn deleted_ago(&mut self, age: Duration) -> &mut Package {
        self.deleted_at = Some(ago(age));
        self
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Adds an active version created and updated `age` ago, with a fresh id.
    pub fn add_version(&mut self, name: &str, tags: &[&str], age: Duration) -> &mut Version {
        let at = ago(age);
        self.versions.push(Version {
            id: next_id(),
            name: name.to_owned(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            created_at: at,
            updated_at: at,
            deleted_at: None,
            downloads: 0,
            manifest: None,
            label: None,
        });
        self.versions.last_mut().expect("just pushed")
    }

    /// The version with this id.
    pub fn version(&self, id: u64) -> Option<&Version> {
        self.versions.iter().find(|v| v.id == id)
    }

    /// The version with this id, mutable.
    pub fn version_mut(&mut self, id: u64) -> Option<&mut Version> {
        self.versions.iter_mut().find(|v| v.id == id)
    }

    /// The version with this name: the active one if there is one, else any.
    pub fn version_named(&self, name: &str) -> Option<&Version> {
        let mut named = self.versions.iter().filter(|v| v.name == name);
        let first = named.clone().next();
        named.find(|v| !v.is_deleted()).or(first)
    }

    /// The active versions, in insertion order.
    pub fn active_versions(&self) -> impl Iterator<Item = &Version> + '_ {
        self.versions.iter().filter(|v| !v.is_deleted())
    }

    /// Ids of the active versions, ascending.
    pub fn active_ids(&self) -> Vec<u64> {
        self.ids_where(|v| !v.is_deleted())
    }

    /// Ids of the deleted versions, ascending.
    pub fn deleted_ids(&self) -> Vec<u64> {
        self.ids_where(Version::is_deleted)
    }

    fn ids_where(&self, keep: impl Fn(&Version) -> bool) -> Vec<u64> {
        let mut ids: Vec<u64> = self
            .versions
            .iter()
            .filter(|v| keep(v))
            .map(|v| v.id)
            .collect();
        ids.sort_unstable();
        ids
    }
}

impl Version {
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Sets the download count.
    pub fn with_downloads(&mut self, downloads: u64) -> &mut Version {
        self.downloads = downloads;
        self
    }

    /// Sets the manifest the registry serves.
    pub fn with_manifest(&mut self, manifest: Manifest) -> &mut Version {
        self.manifest = Some(manifest);
        self
    }

    /// Sets `updated_at` to `age` ago (leaves `created_at`).
    pub fn updated_ago(&mut self, age: Duration) -> &mut Version {
        self.updated_at = ago(age);
        self
    }

    /// Marks the version deleted `age` ago.
    pub fn deleted_ago(&mut self, age: Duration) -> &mut Version {
        self.deleted_at = Some(ago(age));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_distinct_and_well_formed() {
        let a = digest(1);
        assert_eq!(a.len(), "sha256:".len() + 64);
        assert!(a["sha256:".len()..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, digest(2));
        assert_eq!(a, digest(1));
    }

    #[test]
    fn ids_increase_and_lookups_prefer_the_active_package() {
        let mut world = World::new().org("acme");
        let old = world.add_package("acme", "npm", "lib");
        old.deleted_ago(days(2));
        let old_id = old.id;
        let first = old.add_version("1.0.0", &[], days(3)).id;
        let second = old.add_version("1.0.1", &[], days(2)).id;
        assert!(second > first && first > old_id);
        let new_id = world.add_package("ACME", "npm", "lib").id;
        assert_eq!(world.package("acme", "npm", "lib").unwrap().id, new_id);
        world
            .package_mut("acme", "npm", "lib")
            .unwrap()
            .deleted_ago(days(1));
        assert_eq!(world.package("acme", "npm", "lib").unwrap().id, new_id);
        assert_eq!(world.version(second).unwrap().name, "1.0.1");
    }
}
