//! A living registry: what others do while a run goes on, each fired once at a chosen moment —
//! a version pushed or deleted right after a given page of a listing is served
//! ([`Config::listing_changes`]), and a tag moved by CI right before the first registry request
//! that names it ([`Config::moved_tags`]).
//!
//! [`Config::listing_changes`]: crate::Config::listing_changes
//! [`Config::moved_tags`]: crate::Config::moved_tags

use chrono::Utc;

use crate::http::{percent_encode, RequestParts};
use crate::world::{Manifest, Package, World};

/// A change someone else makes right after a page of a package's version listing is answered
/// 200 (the next page is then cut from the changed listing, as GitHub's page numbers are).
#[derive(Clone, Debug, PartialEq)]
pub struct ListingChange {
    pub owner: String,
    pub package_type: String,
    pub package: String,
    /// After this page (1 when the request names none) of the listing `…/versions`, any
    /// `state`.
    pub page: u64,
    pub change: Change,
}

/// What someone else does to a package.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// CI pushes a new version `name` with `tags`, created now (so it is listed first); for a
    /// container, each tag moves to it from whichever version carried it.
    Push { name: String, tags: Vec<String> },
    /// Someone deletes the version with this id.
    Delete { id: u64 },
}

impl ListingChange {
    /// After page `page` of the versions of `owner`'s `package_type` package `package`, a
    /// version `name` with `tags` is pushed.
    pub fn push(
        (owner, package_type, package): (&str, &str, &str),
        page: u64,
        name: &str,
        tags: &[&str],
    ) -> ListingChange {
        ListingChange {
            owner: owner.to_owned(),
            package_type: package_type.to_owned(),
            package: package.to_owned(),
            page,
            change: Change::Push {
                name: name.to_owned(),
                tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            },
        }
    }

    /// After page `page` of the versions of that package, version `id` is deleted.
    pub fn delete(
        (owner, package_type, package): (&str, &str, &str),
        page: u64,
        id: u64,
    ) -> ListingChange {
        ListingChange {
            owner: owner.to_owned(),
            package_type: package_type.to_owned(),
            package: package.to_owned(),
            page,
            change: Change::Delete { id },
        }
    }

    /// Whether `req`, answered 200, is that page of that listing.
    fn fires_after(&self, req: &RequestParts) -> bool {
        let suffix = format!(
            "/packages/{}/{}/versions",
            self.package_type,
            percent_encode(&self.package)
        );
        let page = req
            .query_param("page")
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(1);
        req.method == "GET" && req.raw_path.ends_with(&suffix) && page == self.page
    }

    fn apply(&self, world: &mut World) {
        let Some(package) = world
            .packages
            .iter_mut()
            .find(|p| !p.is_deleted() && p.is(&self.owner, &self.package_type, &self.package))
        else {
            return;
        };
        match &self.change {
            Change::Push { name, tags } => {
                let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
                push_version(package, name, &tags);
            }
            Change::Delete { id } => {
                if let Some(version) = package.version_mut(*id) {
                    version.deleted_at.get_or_insert_with(Utc::now);
                }
            }
        }
    }
}

/// CI moves `tag` of the container package `owner/package` to the version `to` (a digest or a
/// label; pushed now when no active version has that name, then named by its content) right before the first registry request
/// that names the tag as a manifest reference arrives: a read of the tag right before a push
/// sees it moved, and a push without that read moves it off the fresh build.
#[derive(Clone, Debug, PartialEq)]
pub struct TagMove {
    pub owner: String,
    pub package: String,
    pub tag: String,
    pub to: String,
}

impl TagMove {
    pub fn new(owner: &str, package: &str, tag: &str, to: &str) -> TagMove {
        TagMove {
            owner: owner.to_owned(),
            package: package.to_owned(),
            tag: tag.to_owned(),
            to: to.to_owned(),
        }
    }

    /// Whether `req` names this tag of this package as a manifest reference.
    fn fires_before(&self, req: &RequestParts) -> bool {
        let segments = req.segments();
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        match segments.as_slice() {
            ["v2", owner, name @ .., "manifests", reference] => {
                owner.eq_ignore_ascii_case(&self.owner)
                    && name.join("/").eq_ignore_ascii_case(&self.package)
                    && *reference == self.tag
            }
            _ => false,
        }
    }

    fn apply(&self, world: &mut World) {
        if let Some(package) = world
            .packages
            .iter_mut()
            .find(|p| !p.is_deleted() && p.is(&self.owner, "container", &self.package))
        {
            push_version(package, &self.to, &[&self.tag]);
        }
    }
}

/// Makes `name` an active version of `package` carrying `tags` (a new one, created now, unless
/// an active version has that name or was built with it); for tagged types each tag leaves every
/// other version. A container version's `name` is a label until the world is sealed again.
fn push_version(package: &mut Package, name: &str, tags: &[&str]) {
    let now = Utc::now();
    let existing = package
        .active_versions()
        .find(|v| v.name == name || v.label.as_deref() == Some(name))
        .map(|v| v.id);
    let tagged = matches!(package.package_type.as_str(), "container" | "docker");
    let has_manifest = package.package_type == "container";
    let id = match existing {
        Some(id) => id,
        None => {
            let version = package.add_version(name, &[], std::time::Duration::ZERO);
            if has_manifest {
                version.with_manifest(Manifest::image());
            }
            version.id
        }
    };
    for version in package.versions.iter_mut().filter(|v| !v.is_deleted()) {
        for tag in tags {
            let has = version.tags.iter().any(|t| t == tag);
            if version.id == id && !has {
                version.tags.push((*tag).to_owned());
                version.updated_at = now;
            } else if version.id != id && has && tagged {
                version.tags.retain(|t| t != tag);
                version.updated_at = now;
            }
        }
    }
    package.updated_at = now;
}

/// Applies (and forgets) the listing changes that fire after `req` was answered 200; whether
/// any did.
pub(crate) fn after_listing_page(
    changes: &mut Vec<ListingChange>,
    world: &mut World,
    req: &RequestParts,
) -> bool {
    let firing = take_firing(changes, |c| c.fires_after(req));
    for change in &firing {
        change.apply(world);
    }
    seal_if(world, !firing.is_empty())
}

/// Applies (and forgets) the tag moves that fire before the registry answers `req`; whether
/// any did.
pub(crate) fn before_registry_request(
    moves: &mut Vec<TagMove>,
    world: &mut World,
    req: &RequestParts,
) -> bool {
    let firing = take_firing(moves, |m| m.fires_before(req));
    for tag_move in &firing {
        tag_move.apply(world);
    }
    seal_if(world, !firing.is_empty())
}

/// Removes from `pending` and returns the entries that fire now, keeping the others in order.
fn take_firing<T>(pending: &mut Vec<T>, fires: impl Fn(&T) -> bool) -> Vec<T> {
    let (firing, waiting) = std::mem::take(pending).into_iter().partition(fires);
    *pending = waiting;
    firing
}

/// Seals the world after a change (a pushed container version is named by its content).
fn seal_if(world: &mut World, changed: bool) -> bool {
    if changed {
        world.seal();
    }
    changed
}
