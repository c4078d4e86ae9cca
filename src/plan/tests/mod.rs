//! The plan's unit and property tests: filters, guards, the container graph, restore, the
//! run-level cuts, each against hand-built versions (no I/O, a fixed clock).

use super::*;
use crate::plan::cuts::UNTAG_API_REQUESTS;
use crate::plan::graph::ManifestRefs;
use crate::plan::graph::Relation;
use crate::plan::policy::{
    Exclusion, Filter, KeepLatestPer, Prerelease, ReleaseLine, TagSelection,
};
use crate::plan::protections::Protections;
use crate::plan::ranges::SemverRange;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

const NOW: Timestamp = 1_700_000_000;
const DAY: i64 = 86_400;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A version created `age_days` ago and not touched since.
fn v(id: u64, name: &str, tags: &[&str], age_days: i64) -> Version {
    Version {
        id,
        name: name.to_string(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        created_at: NOW - age_days * DAY,
        updated_at: NOW - age_days * DAY,
        deleted_at: None,
        html_url: None,
    }
}

fn globs(text: &str) -> Vec<glob::Pattern> {
    // As the `tags`/`versions` inputs give them: comma or newline separated.
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| glob::Pattern::new(item).unwrap())
        .collect()
}

fn semver(text: &str) -> Option<SemverRange> {
    Some(SemverRange::parse(text).unwrap())
}

fn ids(list: &[u64]) -> Option<BTreeSet<u64>> {
    Some(list.iter().copied().collect())
}

fn plan_with(
    mode: Mode,
    package_type: PackageType,
    versions: Vec<Version>,
    policy: &Policy,
    containers: Containers<'_>,
) -> PackagePlan {
    plan_package(PlanInput {
        mode,
        package_type,
        versions,
        policy,
        protections: &Protections::default(),
        now: NOW,
        containers,
    })
}

fn plan_npm(versions: Vec<Version>, policy: &Policy) -> PackagePlan {
    plan_with(
        Mode::Delete,
        PackageType::Npm,
        versions,
        policy,
        Containers::NotApplicable,
    )
}

fn plan_container(versions: Vec<Version>, policy: &Policy) -> PackagePlan {
    plan_with(
        Mode::Delete,
        PackageType::Container,
        versions,
        policy,
        Containers::NotApplicable,
    )
}

fn plan_graph(
    versions: Vec<Version>,
    manifests: &HashMap<String, ManifestRefs>,
    policy: &Policy,
) -> PackagePlan {
    let graph = Graph::build(&versions, manifests);
    plan_with(
        Mode::Delete,
        PackageType::Container,
        versions,
        policy,
        Containers::Known(&graph),
    )
}

fn acted_ids(plan: &PackagePlan) -> Vec<u64> {
    let mut ids: Vec<u64> = (plan.versions.iter().zip(&plan.decisions))
        .filter(|(_, d)| d.verdict.is_act())
        .map(|(v, _)| v.id)
        .collect();
    ids.sort_unstable();
    ids
}

fn decision(plan: &PackagePlan, id: u64) -> &Decision {
    let index = plan
        .versions
        .iter()
        .position(|v| v.id == id)
        .unwrap_or_else(|| panic!("no version {id}"));
    &plan.decisions[index]
}

fn verdict(plan: &PackagePlan, id: u64) -> &Verdict {
    &decision(plan, id).verdict
}

fn not_selected(filter: Filter) -> Verdict {
    Verdict::Keep(KeepReason::NotSelected(filter))
}

const SELECTED: Verdict = Verdict::Act(ActReason::Selected);

/// A container digest made of one repeated hex character.
fn digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

/// The cosign signature tag of a digest.
fn sig_tag(digest: &str) -> String {
    format!("{}.sig", digest.replace(':', "-"))
}

fn index_of(children: &[&str]) -> ManifestRefs {
    ManifestRefs {
        children: children.iter().map(|c| c.to_string()).collect(),
        subject: None,
        is_index: true,
        blobs: None,
    }
}

fn referrer_of(subject: &str) -> ManifestRefs {
    ManifestRefs {
        children: Vec::new(),
        subject: Some(subject.to_string()),
        is_index: false,
        blobs: None,
    }
}

// ---------------------------------------------------------------------------------------------
// Filters, one at a time
// ---------------------------------------------------------------------------------------------

#[test]
fn version_ids_alone() {
    let policy = Policy {
        version_ids: ids(&[2, 3]),
        ..Policy::default()
    };
    let plan = plan_npm(
        vec![
            v(1, "1.0.0", &[], 40),
            v(2, "1.1.0", &[], 30),
            v(3, "1.2.0", &[], 20),
            v(4, "1.3.0", &[], 10),
        ],
        &policy,
    );
    assert_eq!(acted_ids(&plan), vec![2, 3]);
    assert_eq!(verdict(&plan, 1), &not_selected(Filter::VersionIds));
    assert_eq!(verdict(&plan, 4), &not_selected(Filter::VersionIds));
    assert!(decision(&plan, 2).selected && !decision(&plan, 1).selected);
    assert!(!plan.delete_package);
}

#[test]
fn tags_globs_alone_any_tag_matches() {
    let policy = Policy {
        tags: globs("v1.*, dev"),
        ..Policy::default()
    };
    let plan = plan_container(
        vec![
            v(1, &digest('1'), &["v1.0"], 50),
            v(2, &digest('2'), &["latest", "v1.2"], 40),
            v(3, &digest('3'), &["v2.0"], 30),
            v(4, &digest('4'), &[], 20),
            v(5, &digest('5'), &["dev"], 15),
            v(6, &digest('6'), &["v10.0"], 10),
        ],
        &policy,
    );
    assert_eq!(acted_ids(&plan), vec![1, 2, 5]);
    for id in [3, 4, 6] {
        assert_eq!(
            verdict(&plan, id),
            &not_selected(Filter::Tags),
            "version {id}"
        );
    }
}

#[test]
fn tag_selection_tagged_and_untagged() {
    let versions = vec![
        v(1, &digest('1'), &["v1.0"], 50),
        v(2, &digest('2'), &[], 40),
        v(3, &digest('3'), &["v2.0", "latest"], 30),
        v(4, &digest('4'), &[], 20),
        v(5, &digest('5'), &["v3.0"], 10),
    ];
    let untagged = Policy {
        tag_selection: TagSelection::Untagged,
        ..Policy::default()
    };
    let plan = plan_container(versions.clone(), &untagged);
    assert_eq!(acted_ids(&plan), vec![2, 4]);
    assert_eq!(verdict(&plan, 1), &not_selected(Filter::TagSelection));

    let tagged = Policy {
        tag_selection: TagSelection::Tagged,
        version_ids: ids(&[1, 2, 3, 4]),
        ..Policy::default()
    };
    let plan = plan_container(versions, &tagged);
    assert_eq!(acted_ids(&plan), vec![1, 3]);
    assert_eq!(verdict(&plan, 2), &not_selected(Filter::TagSelection));
    assert_eq!(verdict(&plan, 4), &not_selected(Filter::TagSelection));
}

#[test]
fn versions_globs_alone() {
    let policy = Policy {
        versions: globs("1.*, *-rc.*"),
        ..Policy::default()
    };
    let plan = plan_npm(
        vec![
            v(1, "1.0.0", &[], 50),
            v(2, "1.9.3", &[], 40),
            v(3, "2.0.0-rc.1", &[], 30),
            v(4, "2.0.0", &[], 20),
            v(5, "11.0.0", &[], 10),
        ],
        &policy,
    );
    assert_eq!(acted_ids(&plan), vec![1, 2, 3]);
    assert_eq!(verdict(&plan, 4), &not_selected(Filter::Versions));
    assert_eq!(verdict(&plan, 5), &not_selected(Filter::Versions));
}

#[test]
fn semver_with_alternatives_and_comparator_sets() {
    let policy = Policy {
        semver: semver(">=1.0, <1.5 || ^3.1"),
        ..Policy::default()
    };
    let plan = plan_npm(
        vec![
            v(1, "0.9.0", &[], 90),
            v(2, "1.0.0", &[], 80),
            v(3, "1.4.9", &[], 70),
            v(4, "1.5.0", &[], 60),
            v(5, "3.0.9", &[], 50),
            v(6, "3.1.0", &[], 40),
            v(7, "3.9.9", &[], 30),
            v(8, "4.0.0", &[], 20),
            v(9, "latest", &[], 15),
            v(10, "1.0.0.1", &[], 10),
        ],
        &policy,
    );
    assert_eq!(acted_ids(&plan), vec![2, 3, 6, 7]);
    for id in [1, 4, 5, 8, 9, 10] {
        assert_eq!(
            verdict(&plan, id),
            &not_selected(Filter::Semver),
            "version {id}"
        );
    }
}

#[test]
fn semver_leading_v_and_short_forms() {
    // `v1.2` is a comparator without operator (^1.2.0); names `v1.2`, `1`, `v1.9` are versions.
    let policy = Policy {
        semver: semver("v1.2"),
        ..Policy::default()
    };
    let plan = plan_npm(
        vec![
            v(1, "v1.2", &[], 50),
            v(2, "1", &[], 45),
            v(3, "v1.9", &[], 40),
            v(4, "V2", &[], 30),
            v(5, "1.1.9", &[], 20),
            v(6, "2.0", &[], 10),
        ],
        &policy,
    );
    assert_eq!(acted_ids(&plan), vec![1, 3]);

    // Containers match on any tag, never on the digest.
    let policy = Policy {
        semver: semver("<2"),
        ..Policy::default()
    };
    let plan = plan_container(
        vec![
            v(1, &digest('1'), &["latest", "v1.4"], 50),
            v(2, &digest('2'), &["v2.0", "stable"], 40),
            v(3, &digest('3'), &[], 30),
            v(4, &digest('4'), &["1"], 20),
            v(5, &digest('5'), &["v3"], 10),
        ],
        &policy,
    );
    assert_eq!(acted_ids(&plan), vec![1, 4]);
    assert_eq!(verdict(&plan, 3), &not_selected(Filter::Semver));
}

#[test]
fn prerelease_only_and_exclude_with_precedence() {
    let versions = vec![
        v(1, "1.0.0", &[], 60),
        v(2, "1.5.0-rc.1", &[], 50),
        v(3, "2.0.0-rc.1", &[], 40),
        v(4, "2.0.0", &[], 30),
        v(5, "2.1.0-beta", &[], 20),
        v(6, "3.0.0", &[], 10),
    ];
    // `<2.0.0` compares by precedence: both release candidates are below 2.0.0.
    let below_two = Policy {
        semver: semver("<2.0.0"),
        ..Policy::default()
    };
    assert_eq!(
        acted_ids(&plan_npm(versions.clone(), &below_two)),
        vec![1, 2, 3]
    );

    let only = Policy {
        prerelease: Prerelease::Only,
        ..below_two.clone()
    };
    let plan = plan_npm(versions.clone(), &only);
    assert_eq!(acted_ids(&plan), vec![2, 3]);
    assert_eq!(verdict(&plan, 1), &not_selected(Filter::Prerelease));

    let exclude = Policy {
        prerelease: Prerelease::Exclude,
        ..below_two
    };
    let plan = plan_npm(versions.clone(), &exclude);
    assert_eq!(acted_ids(&plan), vec![1]);
    assert_eq!(verdict(&plan, 2), &not_selected(Filter::Prerelease));

    // Alone.
    let only = Policy {
        prerelease: Prerelease::Only,
        ..Policy::default()
    };
    assert_eq!(acted_ids(&plan_npm(versions.clone(), &only)), vec![2, 3, 5]);
    let exclude = Policy {
        prerelease: Prerelease::Exclude,
        keep_latest: 0,
        ..Policy::default()
    };
    let plan = plan_npm(versions, &exclude);
    assert_eq!(acted_ids(&plan), vec![1, 4, 6]);

    // Containers: a pre-release when any tag has a pre-release part.
    let only = Policy {
        prerelease: Prerelease::Only,
        ..Policy::default()
    };
    let plan = plan_container(
        vec![
            v(1, &digest('1'), &["latest", "v2.0-rc.1"], 30),
            v(2, &digest('2'), &["v1.0"], 20),
            v(3, &digest('3'), &["dev"], 10),
        ],
        &only,
    );
    assert_eq!(acted_ids(&plan), vec![1]);
}

#[test]
fn older_than_goes_by_updated_at() {
    let policy = Policy {
        older_than: Some(90 * DAY),
        ..Policy::default()
    };
    let mut touched = v(1, "1.0.0", &[], 200);
    touched.updated_at = NOW - DAY;
    let mut old = v(2, "1.1.0", &[], 150);
    old.updated_at = NOW - 95 * DAY;
    let young = v(3, "1.2.0", &[], 30);
    let plan = plan_npm(vec![touched, old, young], &policy);
    assert_eq!(acted_ids(&plan), vec![2]);
    assert_eq!(verdict(&plan, 1), &not_selected(Filter::OlderThan));
    assert_eq!(verdict(&plan, 3), &not_selected(Filter::OlderThan));
}

#[test]
fn filters_combine_with_and() {
    let policy = Policy {
        tags: globs("v*"),
        semver: semver("<2"),
        older_than: Some(30 * DAY),
        tag_selection: TagSelection::Tagged,
        ..Policy::default()
    };
    let plan = plan_container(
        vec![
            v(1, &digest('1'), &["v1.0"], 60),      // all hold
            v(2, &digest('2'), &["v1.1"], 10),      // too young
            v(3, &digest('3'), &["v2.0"], 60),      // semver fails
            v(4, &digest('4'), &["1.0"], 60),       // tags fails
            v(5, &digest('5'), &["v1.2", "x"], 40), // all hold
            v(6, &digest('6'), &["latest"], 5),
        ],
        &policy,
    );
    assert_eq!(acted_ids(&plan), vec![1, 5]);
    assert_eq!(verdict(&plan, 2), &not_selected(Filter::OlderThan));
    assert_eq!(verdict(&plan, 3), &not_selected(Filter::Semver));
    assert_eq!(verdict(&plan, 4), &not_selected(Filter::Tags));
}

#[test]
fn no_filter_selects_everything_but_guards_still_apply() {
    let plan = plan_npm(
        vec![
            v(1, "1.0.0", &[], 30),
            v(2, "1.1.0", &[], 20),
            v(3, "1.2.0", &[], 10),
        ],
        &Policy::default(),
    );
    assert_eq!(acted_ids(&plan), vec![1, 2]);
    assert_eq!(
        verdict(&plan, 3),
        &Verdict::Keep(KeepReason::LastVersion { tagged: false })
    );
}

// ---------------------------------------------------------------------------------------------
// exclude-*
// ---------------------------------------------------------------------------------------------

#[test]
fn exclude_tags_and_versions_beat_every_filter() {
    let policy = Policy {
        version_ids: ids(&[1, 2, 3, 4]),
        tags: globs("v*"),
        exclude_tags: globs("v1.1, *-keep"),
        versions: globs("sha256:*"),
        exclude_versions: globs(&digest('3')),
        tag_selection: TagSelection::Tagged,
        semver: semver("<5"),
        older_than: Some(DAY),
        ..Policy::default()
    };
    let versions = vec![
        v(1, &digest('1'), &["v1.0"], 50),
        v(2, &digest('2'), &["v1.1"], 40),
        v(3, &digest('3'), &["v1.2"], 30),
        v(4, &digest('4'), &["v1.3", "v1.3-keep"], 20),
        v(5, &digest('5'), &["latest"], 10),
    ];
    let plan = plan_container(versions.clone(), &policy);
    assert_eq!(acted_ids(&plan), vec![1]);
    assert_eq!(
        verdict(&plan, 2),
        &Verdict::Keep(KeepReason::Excluded(Box::new(Exclusion {
            input: "exclude-tags",
            pattern: "v1.1".into(),
            matched: "v1.1".into(),
        })))
    );
    assert_eq!(
        verdict(&plan, 3),
        &Verdict::Keep(KeepReason::Excluded(Box::new(Exclusion {
            input: "exclude-versions",
            pattern: digest('3'),
            matched: digest('3'),
        })))
    );
    assert!(matches!(
        verdict(&plan, 4),
        Verdict::Keep(KeepReason::Excluded(exclusion)) if exclusion.input == "exclude-tags"
    ));
    for id in [2, 3, 4] {
        assert!(!decision(&plan, id).selected);
    }

    // The same in restore mode.
    let deleted: Vec<Version> = versions
        .into_iter()
        .map(|mut v| {
            v.deleted_at = Some(NOW - DAY);
            v
        })
        .collect();
    let plan = plan_with(
        Mode::Restore,
        PackageType::Container,
        deleted,
        &policy,
        Containers::NotApplicable,
    );
    assert_eq!(acted_ids(&plan), vec![1]);
}

#[test]
fn exclusion_wins_over_going_with_a_parent() {
    let (index, platform, sig) = (digest('a'), digest('b'), digest('c'));
    let manifests = HashMap::from([(index.clone(), index_of(&[&platform]))]);
    let policy = Policy {
        exclude_tags: globs("*.sig"),
        exclude_versions: globs(&platform),
        tags: globs("v1"),
        ..Policy::default()
    };
    let plan = plan_graph(
        vec![
            v(1, &index, &["v1"], 30),
            v(2, &platform, &[], 30),
            v(3, &sig, &[&sig_tag(&index)], 29),
            v(4, &digest('d'), &["latest"], 1),
        ],
        &manifests,
        &policy,
    );
    assert_eq!(acted_ids(&plan), vec![1]);
    assert!(matches!(
        verdict(&plan, 2),
        Verdict::Keep(KeepReason::Excluded(_))
    ));
    assert!(matches!(
        verdict(&plan, 3),
        Verdict::Keep(KeepReason::Excluded(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Guards
// ---------------------------------------------------------------------------------------------

#[test]
fn keep_latest_spares_most_recent_selected_ids_breaking_ties() {
    let policy = Policy {
        versions: globs("1.*"),
        keep_latest: 2,
        ..Policy::default()
    };
    let plan = plan_npm(
        vec![
            v(1, "1.0.0", &[], 50),
            v(2, "1.1.0", &[], 20),
            v(3, "1.2.0", &[], 20), // same created_at as 2: the higher id is more recent
            v(4, "1.3.0", &[], 30),
            v(5, "2.0.0", &[], 1), // newest, but not selected: does not count
        ],
        &policy,
    );
    assert_eq!(acted_ids(&plan), vec![1, 4]);
    assert_eq!(verdict(&plan, 2), &Verdict::Keep(KeepReason::KeepLatest(2)));
    assert_eq!(verdict(&plan, 3), &Verdict::Keep(KeepReason::KeepLatest(2)));
    assert_eq!(verdict(&plan, 5), &not_selected(Filter::Versions));
    assert!(
        decision(&plan, 2).selected,
        "spared versions are still selected"
    );

    let plan = plan_npm(
        vec![
            v(3, "1.2.0", &[], 20),
            v(2, "1.1.0", &[], 20),
            v(1, "1.0.0", &[], 50),
            v(5, "2.0.0", &[], 1),
        ],
        &Policy {
            keep_latest: 1,
            ..policy
        },
    );
    assert_eq!(acted_ids(&plan), vec![1, 2]);
    assert_eq!(verdict(&plan, 3), &Verdict::Keep(KeepReason::KeepLatest(1)));
}

#[test]
fn keep_latest_per_minor_counts_within_each_release_line_backports_included() {
    let policy = Policy {
        keep_latest: 2,
        keep_latest_per: KeepLatestPer::Minor,
        ..Policy::default()
    };
    // Backports to 1.4 and 1.3 published after 2.0: each line keeps its own 2 most recent.
    let plan = plan_npm(
        vec![
            v(1, "1.3.0", &[], 90),
            v(2, "1.3.1", &[], 80),
            v(3, "1.4.0", &[], 70),
            v(4, "1.4.1", &[], 60),
            v(5, "2.0.0", &[], 50),
            v(6, "2.0.1", &[], 40),
            v(7, "1.4.2", &[], 30), // backport after 2.0.x
            v(8, "1.3.2", &[], 20), // backport after 2.0.x
            v(9, "2.0.2", &[], 10),
            v(10, "nightly", &[], 5),    // no semver: a group of its own
            v(11, "1.4.3-rc.1", &[], 3), // a pre-release of 1.4: in 1.4.x
        ],
        &policy,
    );
    assert_eq!(acted_ids(&plan), vec![1, 3, 4, 5]);
    let kept = |line| Verdict::Keep(KeepReason::KeepLatestOf(2, line));
    assert_eq!(verdict(&plan, 2), &kept(ReleaseLine::Minor(1, 3)));
    assert_eq!(verdict(&plan, 8), &kept(ReleaseLine::Minor(1, 3)));
    assert_eq!(verdict(&plan, 7), &kept(ReleaseLine::Minor(1, 4)));
    assert_eq!(verdict(&plan, 11), &kept(ReleaseLine::Minor(1, 4)));
    assert_eq!(verdict(&plan, 6), &kept(ReleaseLine::Minor(2, 0)));
    assert_eq!(verdict(&plan, 9), &kept(ReleaseLine::Minor(2, 0)));
    assert_eq!(
        verdict(&plan, 10),
        &kept(ReleaseLine::Unversioned(KeepLatestPer::Minor))
    );
    assert_eq!(
        verdict(&plan, 7).describe(Mode::Delete),
        "one of the 2 most recent of 1.4.x (keep-latest-per minor)"
    );
    assert_eq!(
        verdict(&plan, 10).describe(Mode::Delete),
        "one of the 2 most recent of the versions without a semver version (keep-latest-per minor)"
    );

    // Per major: 1.x keeps its 2 most recent (the backports), 2.x its own.
    let plan = plan_npm(
        plan.versions.clone(),
        &Policy {
            keep_latest_per: KeepLatestPer::Major,
            ..policy.clone()
        },
    );
    assert_eq!(acted_ids(&plan), vec![1, 2, 3, 4, 5, 7]);
    assert_eq!(
        verdict(&plan, 8).describe(Mode::Delete),
        "one of the 2 most recent of 1.x (keep-latest-per major)"
    );
    assert_eq!(verdict(&plan, 11), &kept(ReleaseLine::Major(1)));

    // `all` (the default): the 2 most recent of everything selected, as before.
    let plan = plan_npm(
        plan.versions.clone(),
        &Policy {
            keep_latest_per: KeepLatestPer::All,
            ..policy
        },
    );
    assert_eq!(acted_ids(&plan), vec![1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(
        verdict(&plan, 10),
        &Verdict::Keep(KeepReason::KeepLatest(2))
    );
}

#[test]
fn keep_latest_per_counts_only_selected_versions_and_guards_follow() {
    // Not selected and excluded versions are in no group; min-versions-to-keep comes after.
    let policy = Policy {
        versions: globs("1.*"),
        exclude_versions: globs("1.2.0"),
        keep_latest: 1,
        keep_latest_per: KeepLatestPer::Minor,
        ..Policy::default()
    };
    let plan = plan_npm(
        vec![
            v(1, "1.1.0", &[], 60),
            v(2, "1.1.1", &[], 50),
            v(3, "1.2.0", &[], 5), // excluded: does not count in 1.2.x
            v(4, "1.2.1", &[], 30),
            v(5, "1.2.2", &[], 20),
            v(6, "2.0.0", &[], 1), // not selected
        ],
        &policy,
    );
    assert_eq!(acted_ids(&plan), vec![1, 4]);
    assert_eq!(
        verdict(&plan, 5),
        &Verdict::Keep(KeepReason::KeepLatestOf(1, ReleaseLine::Minor(1, 2)))
    );
    assert_eq!(verdict(&plan, 6), &not_selected(Filter::Versions));
}

#[test]
fn keep_latest_per_groups_containers_by_their_highest_semver_tag() {
    let policy = Policy {
        keep_latest: 1,
        keep_latest_per: KeepLatestPer::Minor,
        ..Policy::default()
    };
    let plan = plan_container(
        vec![
            v(1, &digest('1'), &["v1.3.0", "1.3"], 60),
            v(2, &digest('2'), &["1.3.1", "v1.4.0-rc.1"], 50), // highest: 1.4.0-rc.1
            v(3, &digest('3'), &["1.4.0", "1.4", "1", "latest"], 40), // highest: 1.4.0
            v(4, &digest('4'), &["v1.3.2"], 30),
            v(5, &digest('5'), &["main", "sha-abc"], 20), // no semver tag
            v(6, &digest('6'), &[], 10),                  // untagged: no semver either
            v(7, &digest('7'), &["v2.0.0", "latest-2"], 70),
        ],
        &policy,
    );
    // 1.3.x: 1 and 4 (4 newer); 1.4.x: 2 and 3 (3 newer); 2.0.x: 7; no semver: 5 and 6.
    assert_eq!(acted_ids(&plan), vec![1, 2, 5]);
    let kept = |line| Verdict::Keep(KeepReason::KeepLatestOf(1, line));
    assert_eq!(verdict(&plan, 4), &kept(ReleaseLine::Minor(1, 3)));
    assert_eq!(verdict(&plan, 3), &kept(ReleaseLine::Minor(1, 4)));
    assert_eq!(verdict(&plan, 7), &kept(ReleaseLine::Minor(2, 0)));
    assert_eq!(
        verdict(&plan, 6),
        &kept(ReleaseLine::Unversioned(KeepLatestPer::Minor))
    );
    assert_eq!(
        verdict(&plan, 3).describe(Mode::Delete),
        "one of the 1 most recent of 1.4.x (keep-latest-per minor)"
    );
}

#[test]
fn min_versions_to_keep_spares_the_newest_selected() {
    let policy = Policy {
        versions: globs("1.*"),
        min_versions_to_keep: 3,
        ..Policy::default()
    };
    let plan = plan_npm(
        vec![
            v(1, "1.0.0", &[], 50),
            v(2, "1.1.0", &[], 40),
            v(3, "1.2.0", &[], 30),
            v(4, "1.3.0", &[], 20),
            v(5, "2.0.0", &[], 60), // not selected: it counts as remaining
        ],
        &policy,
    );
    assert_eq!(acted_ids(&plan), vec![1, 2]);
    assert_eq!(
        verdict(&plan, 3),
        &Verdict::Keep(KeepReason::MinVersionsToKeep(3))
    );
    assert_eq!(
        verdict(&plan, 4),
        &Verdict::Keep(KeepReason::MinVersionsToKeep(3))
    );

    // Versions spared by keep-latest count too.
    let plan = plan_npm(
        vec![
            v(1, "1.0.0", &[], 50),
            v(2, "1.1.0", &[], 40),
            v(3, "1.2.0", &[], 30),
            v(4, "1.3.0", &[], 20),
        ],
        &Policy {
            keep_latest: 1,
            min_versions_to_keep: 2,
            ..Policy::default()
        },
    );
    assert_eq!(acted_ids(&plan), vec![1, 2]);
    assert_eq!(verdict(&plan, 4), &Verdict::Keep(KeepReason::KeepLatest(1)));
    assert_eq!(
        verdict(&plan, 3),
        &Verdict::Keep(KeepReason::MinVersionsToKeep(2))
    );

    // More than there are: everything stays.
    let plan = plan_npm(
        vec![v(1, "1.0.0", &[], 50), v(2, "1.1.0", &[], 40)],
        &Policy {
            min_versions_to_keep: 5,
            delete_empty_package: true,
            ..Policy::default()
        },
    );
    assert!(acted_ids(&plan).is_empty());
    assert!(!plan.delete_package);
}

#[test]
fn last_version_rule_for_npm() {
    let plan = plan_npm(
        vec![
            v(1, "1.0.0", &[], 50),
            v(2, "1.1.0", &[], 10),
            v(3, "1.2.0", &[], 10), // tie on created_at: the higher id is newest
            v(4, "0.1.0", &[], 60),
        ],
        &Policy::default(),
    );
    assert_eq!(acted_ids(&plan), vec![1, 2, 4]);
    assert_eq!(
        verdict(&plan, 3),
        &Verdict::Keep(KeepReason::LastVersion { tagged: false })
    );
    assert!(!plan.delete_package);

    // Not when something else stays anyway.
    let plan = plan_npm(
        vec![v(1, "1.0.0", &[], 50), v(2, "2.0.0", &[], 10)],
        &Policy {
            versions: globs("1.*"),
            ..Policy::default()
        },
    );
    assert_eq!(acted_ids(&plan), vec![1]);
}

#[test]
fn last_version_rule_for_containers_counts_tagged_versions() {
    let plan = plan_container(
        vec![
            v(1, &digest('1'), &["v1"], 50),
            v(2, &digest('2'), &["v2"], 30),
            v(3, &digest('3'), &[], 10), // newest, but untagged: may go
            v(4, &digest('4'), &[], 40),
        ],
        &Policy::default(),
    );
    assert_eq!(acted_ids(&plan), vec![1, 3, 4]);
    assert_eq!(
        verdict(&plan, 2),
        &Verdict::Keep(KeepReason::LastVersion { tagged: true })
    );

    // Every tagged version selected, some untagged kept: the rule still spares a tagged one.
    let plan = plan_container(
        vec![
            v(1, &digest('1'), &["v1"], 50),
            v(2, &digest('2'), &["v2"], 30),
            v(3, &digest('3'), &[], 10),
        ],
        &Policy {
            tag_selection: TagSelection::Tagged,
            ..Policy::default()
        },
    );
    assert_eq!(acted_ids(&plan), vec![1]);
    assert_eq!(
        verdict(&plan, 2),
        &Verdict::Keep(KeepReason::LastVersion { tagged: true })
    );

    // Only untagged versions: the newest stays, as an untagged last version.
    let plan = plan_container(
        vec![v(1, &digest('1'), &[], 50), v(2, &digest('2'), &[], 30)],
        &Policy::default(),
    );
    assert_eq!(acted_ids(&plan), vec![1]);
    assert_eq!(
        verdict(&plan, 2),
        &Verdict::Keep(KeepReason::LastVersion { tagged: false })
    );
}

#[test]
fn delete_empty_package_when_everything_would_go() {
    let policy = Policy {
        delete_empty_package: true,
        ..Policy::default()
    };
    let plan = plan_npm(
        vec![v(1, "1.0.0", &[], 50), v(2, "1.1.0", &[], 10)],
        &policy,
    );
    assert!(plan.delete_package);
    assert_eq!(acted_ids(&plan), vec![1, 2]);
    assert_eq!(plan.decisions[0].unit, plan.decisions[1].unit, "one unit");

    // Something stays: no package deletion, and no last-version sparing needed.
    let plan = plan_npm(
        vec![v(1, "1.0.0", &[], 50), v(2, "2.0.0", &[], 10)],
        &Policy {
            versions: globs("1.*"),
            ..policy.clone()
        },
    );
    assert!(!plan.delete_package);
    assert_eq!(acted_ids(&plan), vec![1]);

    // Containers: every version, tagged or not.
    let plan = plan_container(
        vec![v(1, &digest('1'), &["v1"], 50), v(2, &digest('2'), &[], 10)],
        &policy,
    );
    assert!(plan.delete_package);
    assert_eq!(acted_ids(&plan), vec![1, 2]);

    // All tagged versions selected, an untagged one kept: the last tagged is spared instead.
    let plan = plan_container(
        vec![
            v(1, &digest('1'), &["v1"], 50),
            v(2, &digest('2'), &["v2"], 40),
            v(3, &digest('3'), &[], 10),
        ],
        &Policy {
            tag_selection: TagSelection::Tagged,
            ..policy
        },
    );
    assert!(!plan.delete_package);
    assert_eq!(acted_ids(&plan), vec![1]);
    assert_eq!(
        verdict(&plan, 2),
        &Verdict::Keep(KeepReason::LastVersion { tagged: true })
    );
}

#[test]
fn restore_mode_filters_on_deleted_within_without_delete_guards() {
    let deleted = |id: u64, name: &str, age_days: i64, deleted_days: Option<i64>| {
        let mut version = v(id, name, &[], age_days);
        version.deleted_at = deleted_days.map(|d| NOW - d * DAY);
        version
    };
    let versions = vec![
        deleted(1, "1.0.0", 90, Some(20)),
        deleted(2, "1.1.0", 80, Some(2)),
        deleted(3, "1.2.0", 70, Some(1)),
        deleted(4, "2.0.0", 60, Some(1)),
        deleted(5, "1.3.0", 50, None),
    ];
    let policy = Policy {
        versions: globs("1.*"),
        deleted_within: Some(7 * DAY),
        min_versions_to_keep: 10,
        ..Policy::default()
    };
    let plan = plan_with(
        Mode::Restore,
        PackageType::Npm,
        versions.clone(),
        &policy,
        Containers::NotApplicable,
    );
    assert_eq!(acted_ids(&plan), vec![2, 3]);
    assert_eq!(verdict(&plan, 1), &not_selected(Filter::DeletedWithin));
    assert_eq!(verdict(&plan, 5), &not_selected(Filter::DeletedWithin));
    assert_eq!(verdict(&plan, 4), &not_selected(Filter::Versions));

    // Everything selected: all restored, no last-version rule, no package deletion.
    let plan = plan_with(
        Mode::Restore,
        PackageType::Npm,
        versions[..4].to_vec(),
        &Policy {
            delete_empty_package: true,
            min_versions_to_keep: 3,
            ..Policy::default()
        },
        Containers::NotApplicable,
    );
    assert_eq!(acted_ids(&plan), vec![1, 2, 3, 4]);
    assert!(!plan.delete_package);

    // Containers in restore mode: all tagged versions restored too.
    let mut tagged: Vec<Version> = vec![
        v(1, &digest('1'), &["v1"], 50),
        v(2, &digest('2'), &["v2"], 30),
    ];
    tagged
        .iter_mut()
        .for_each(|v| v.deleted_at = Some(NOW - DAY));
    let plan = plan_with(
        Mode::Restore,
        PackageType::Container,
        tagged,
        &Policy::default(),
        Containers::NotApplicable,
    );
    assert_eq!(acted_ids(&plan), vec![1, 2]);
}

// ---------------------------------------------------------------------------------------------
// The run-level cut
// ---------------------------------------------------------------------------------------------

/// Plan A: versions 1 (50d), 2 (30d), 3 (10d) selected, 4 not. Plan B: 11 (40d), 12, 13, all
/// selected with delete-empty-package: one whole-package unit of 3 whose oldest is 40d.
fn two_plans() -> (PackagePlan, PackagePlan) {
    let a = plan_npm(
        vec![
            v(1, "1.0.0", &[], 50),
            v(2, "1.1.0", &[], 30),
            v(3, "1.2.0", &[], 10),
            v(4, "1.3.0", &[], 1),
        ],
        &Policy {
            version_ids: ids(&[1, 2, 3]),
            ..Policy::default()
        },
    );
    let b = plan_npm(
        vec![
            v(11, "1.0.0", &[], 40),
            v(12, "1.1.0", &[], 20),
            v(13, "1.2.0", &[], 5),
        ],
        &Policy {
            delete_empty_package: true,
            ..Policy::default()
        },
    );
    assert_eq!(acted_ids(&a), vec![1, 2, 3]);
    assert!(b.delete_package);
    (a, b)
}

fn deferred_ids(plan: &PackagePlan) -> Vec<u64> {
    let mut ids: Vec<u64> = plan
        .versions
        .iter()
        .zip(&plan.decisions)
        .filter(|(_, d)| matches!(d.verdict, Verdict::Defer(_)))
        .map(|(v, _)| v.id)
        .collect();
    ids.sort_unstable();
    ids
}

#[test]
fn defer_beyond_versions_oldest_first_and_whole_package_whole() {
    // Units oldest first: A1 (1), B (3), A2 (1), A3 (1).
    let (mut a, mut b) = two_plans();
    defer_beyond(
        &mut [&mut a, &mut b],
        3,
        Cost::Versions,
        DeferReason::MaxDeletions,
    );
    // A1 fits; B (3 versions) does not: it and everything after it wait, though A2 would fit.
    assert_eq!(acted_ids(&a), vec![1]);
    assert_eq!(deferred_ids(&a), vec![2, 3]);
    assert_eq!(acted_ids(&b), Vec::<u64>::new());
    assert_eq!(deferred_ids(&b), vec![11, 12, 13]);
    assert!(!b.delete_package, "a deferred package is not deleted");
    assert_eq!(verdict(&a, 2), &Verdict::Defer(DeferReason::MaxDeletions));
    assert_eq!(verdict(&a, 4), &not_selected(Filter::VersionIds));

    let (mut a, mut b) = two_plans();
    defer_beyond(
        &mut [&mut a, &mut b],
        4,
        Cost::Versions,
        DeferReason::MaxDeletions,
    );
    assert_eq!(acted_ids(&a), vec![1]);
    assert_eq!(acted_ids(&b), vec![11, 12, 13]);
    assert!(b.delete_package);
    assert_eq!(deferred_ids(&a), vec![2, 3]);

    let (mut a, mut b) = two_plans();
    defer_beyond(
        &mut [&mut a, &mut b],
        6,
        Cost::Versions,
        DeferReason::MaxDeletions,
    );
    assert_eq!(acted_ids(&a), vec![1, 2, 3]);
    assert!(b.delete_package);

    let (mut a, mut b) = two_plans();
    defer_beyond(
        &mut [&mut a, &mut b],
        0,
        Cost::Versions,
        DeferReason::MaxDeletions,
    );
    assert!(acted_ids(&a).is_empty() && acted_ids(&b).is_empty());
    assert!(!b.delete_package);
}

#[test]
fn defer_beyond_requests_counts_a_whole_package_as_one() {
    let (mut a, mut b) = two_plans();
    defer_beyond(
        &mut [&mut a, &mut b],
        2,
        Cost::Requests,
        DeferReason::RateLimitBudget,
    );
    assert_eq!(acted_ids(&a), vec![1]);
    assert_eq!(acted_ids(&b), vec![11, 12, 13]);
    assert!(b.delete_package);
    assert_eq!(
        verdict(&a, 2),
        &Verdict::Defer(DeferReason::RateLimitBudget)
    );
    assert_eq!(
        verdict(&a, 3),
        &Verdict::Defer(DeferReason::RateLimitBudget)
    );

    let (mut a, mut b) = two_plans();
    defer_beyond(
        &mut [&mut b, &mut a],
        1,
        Cost::Requests,
        DeferReason::RateLimitBudget,
    );
    assert_eq!(acted_ids(&a), vec![1]);
    assert_eq!(deferred_ids(&b), vec![11, 12, 13]);
    assert!(!b.delete_package);
}

#[test]
fn defer_beyond_never_splits_an_image() {
    let (index, p1, p2) = (digest('a'), digest('b'), digest('c'));
    let manifests = HashMap::from([(index.clone(), index_of(&[&p1, &p2]))]);
    let mut plan = plan_graph(
        vec![
            v(1, &digest('0'), &[], 60), // an orphan, oldest
            v(2, &index, &["v1"], 50),
            v(3, &p1, &[], 50),
            v(4, &p2, &[], 50),
            v(5, &digest('d'), &["latest"], 1),
        ],
        &manifests,
        &Policy {
            exclude_tags: globs("latest"),
            ..Policy::default()
        },
    );
    assert_eq!(acted_ids(&plan), vec![1, 2, 3, 4]);
    defer_beyond(
        &mut [&mut plan],
        3,
        Cost::Versions,
        DeferReason::MaxDeletions,
    );
    assert_eq!(acted_ids(&plan), vec![1]);
    assert_eq!(deferred_ids(&plan), vec![2, 3, 4]);
}

// ---------------------------------------------------------------------------------------------
// Container reference graph
// ---------------------------------------------------------------------------------------------

#[test]
fn excluded_index_keeps_its_platform_manifests_while_an_orphan_goes() {
    let (index, p1, p2, orphan) = (digest('a'), digest('b'), digest('c'), digest('d'));
    let manifests = HashMap::from([(index.clone(), index_of(&[&p1, &p2]))]);
    let plan = plan_graph(
        vec![
            v(1, &index, &["v1.0"], 30),
            v(2, &p1, &[], 30),
            v(3, &p2, &[], 30),
            v(4, &orphan, &[], 20),
            v(5, &digest('e'), &["dev"], 40),
        ],
        &manifests,
        &Policy {
            exclude_tags: globs("v1.*"),
            ..Policy::default()
        },
    );
    assert_eq!(acted_ids(&plan), vec![4, 5]);
    assert!(matches!(
        verdict(&plan, 1),
        Verdict::Keep(KeepReason::Excluded(_))
    ));
    for id in [2, 3] {
        assert_eq!(
            verdict(&plan, id),
            &Verdict::Keep(KeepReason::NeededBy {
                by: "v1.0".into(),
                relation: Relation::PlatformManifest,
            }),
            "version {id}"
        );
        assert!(decision(&plan, id).selected, "selected, but needed");
    }
    assert_eq!(verdict(&plan, 4), &SELECTED);
}

#[test]
fn deleting_an_index_takes_what_only_it_references_in_one_unit() {
    let (index, p1, p2, sig, referrer) = (
        digest('a'),
        digest('b'),
        digest('c'),
        digest('d'),
        digest('e'),
    );
    let (kept, kept_platform) = (digest('f'), digest('1'));
    let manifests = HashMap::from([
        (index.clone(), index_of(&[&p1, &p2])),
        (referrer.clone(), referrer_of(&index)),
        (kept.clone(), index_of(&[&kept_platform])),
    ]);
    let plan = plan_graph(
        vec![
            v(1, &index, &["v1.0"], 30),
            v(2, &p1, &[], 30),
            v(3, &p2, &[], 30),
            v(4, &sig, &[&sig_tag(&index)], 29),
            v(5, &referrer, &[], 29),
            v(6, &kept, &["latest"], 5),
            v(7, &kept_platform, &[], 5),
            v(8, &digest('2'), &["v0.9"], 50),
        ],
        &manifests,
        &Policy {
            tags: globs("v1.*"),
            ..Policy::default()
        },
    );
    assert_eq!(acted_ids(&plan), vec![1, 2, 3, 4, 5]);
    assert_eq!(verdict(&plan, 1), &SELECTED);
    let with_parent = |relation| {
        Verdict::Act(ActReason::WithParent {
            parent: "v1.0".into(),
            relation,
        })
    };
    assert_eq!(verdict(&plan, 2), &with_parent(Relation::PlatformManifest));
    assert_eq!(verdict(&plan, 3), &with_parent(Relation::PlatformManifest));
    assert_eq!(verdict(&plan, 4), &with_parent(Relation::TaggedReferrer));
    assert_eq!(verdict(&plan, 5), &with_parent(Relation::SubjectReferrer));
    assert!(!decision(&plan, 2).selected);
    let unit = decision(&plan, 1).unit;
    assert_eq!(decision(&plan, 1).depth, 0);
    for id in 2..=5 {
        assert_eq!(
            decision(&plan, id).unit,
            unit,
            "version {id} in the index's unit"
        );
        assert!(
            decision(&plan, id).depth >= 1,
            "version {id} after the index"
        );
    }
    // The other image and its platform manifest are untouched, in other units.
    assert_eq!(verdict(&plan, 6), &not_selected(Filter::Tags));
    assert_eq!(
        verdict(&plan, 7),
        &Verdict::Keep(KeepReason::NeededBy {
            by: "latest".into(),
            relation: Relation::PlatformManifest,
        })
    );
    assert_ne!(decision(&plan, 6).unit, unit);
    assert_eq!(verdict(&plan, 8), &not_selected(Filter::Tags));
}

#[test]
fn nested_references_get_deeper_depths() {
    // index → platform manifest → its signature (by tag).
    let (index, platform, sig) = (digest('a'), digest('b'), digest('c'));
    let manifests = HashMap::from([(index.clone(), index_of(&[&platform]))]);
    let plan = plan_graph(
        vec![
            v(1, &index, &["v1"], 30),
            v(2, &platform, &[], 30),
            v(3, &sig, &[&sig_tag(&platform)], 29),
            v(4, &digest('d'), &["latest"], 1),
        ],
        &manifests,
        &Policy {
            tags: globs("v1"),
            ..Policy::default()
        },
    );
    assert_eq!(acted_ids(&plan), vec![1, 2, 3]);
    assert_eq!(decision(&plan, 1).depth, 0);
    assert_eq!(decision(&plan, 2).depth, 1);
    assert_eq!(decision(&plan, 3).depth, 2);
    assert_eq!(decision(&plan, 1).unit, decision(&plan, 3).unit);
}

#[test]
fn a_shared_platform_manifest_survives_while_either_index_is_kept() {
    let (i1, i2, shared, own1, own2) = (
        digest('a'),
        digest('b'),
        digest('c'),
        digest('d'),
        digest('e'),
    );
    let manifests = HashMap::from([
        (i1.clone(), index_of(&[&shared, &own1])),
        (i2.clone(), index_of(&[&shared, &own2])),
    ]);
    let versions = vec![
        v(1, &i1, &["v1"], 30),
        v(2, &i2, &["v2"], 20),
        v(3, &shared, &[], 30),
        v(4, &own1, &[], 30),
        v(5, &own2, &[], 20),
        v(6, &digest('f'), &["latest"], 1),
    ];
    // Only the first index goes: the shared manifest stays with the second.
    let plan = plan_graph(
        versions.clone(),
        &manifests,
        &Policy {
            tags: globs("v1"),
            ..Policy::default()
        },
    );
    assert_eq!(acted_ids(&plan), vec![1, 4]);
    assert_eq!(
        verdict(&plan, 3),
        &Verdict::Keep(KeepReason::NeededBy {
            by: "v2".into(),
            relation: Relation::PlatformManifest,
        })
    );
    // Only the second goes.
    let plan = plan_graph(
        versions.clone(),
        &manifests,
        &Policy {
            tags: globs("v2"),
            ..Policy::default()
        },
    );
    assert_eq!(acted_ids(&plan), vec![2, 5]);
    assert!(matches!(
        verdict(&plan, 3),
        Verdict::Keep(KeepReason::NeededBy { .. })
    ));
    // Both go: the shared one goes too, and both indexes share one unit.
    let plan = plan_graph(
        versions,
        &manifests,
        &Policy {
            tags: globs("v[12]"),
            ..Policy::default()
        },
    );
    assert_eq!(acted_ids(&plan), vec![1, 2, 3, 4, 5]);
    assert_eq!(decision(&plan, 1).unit, decision(&plan, 2).unit);
}

#[test]
fn a_cycle_of_unselected_versions_does_not_go() {
    // A lists B, C has B as subject, C lists A: A → B → C → A, none of them selected.
    let (a, b, c) = (digest('a'), digest('b'), digest('c'));
    let manifests = HashMap::from([
        (a.clone(), index_of(&[&b])),
        (
            c.clone(),
            ManifestRefs {
                children: vec![a.clone()],
                subject: Some(b.clone()),
                is_index: true,
                blobs: None,
            },
        ),
    ]);
    let plan = plan_graph(
        vec![
            v(1, &a, &["latest"], 30),
            v(2, &b, &[], 30),
            v(3, &c, &[], 29),
            v(4, &digest('d'), &["v1"], 40),
            v(5, &digest('e'), &["v2"], 10),
        ],
        &manifests,
        &Policy {
            tags: globs("v1"),
            ..Policy::default()
        },
    );
    assert_eq!(acted_ids(&plan), vec![4]);
    assert!(!decision(&plan, 2).verdict.is_act());
    assert!(!decision(&plan, 3).verdict.is_act());
    assert!(!decision(&plan, 1).verdict.is_act());
}

#[test]
fn an_unreadable_manifest_keeps_everything() {
    let policy = Policy::default();
    let plan = plan_with(
        Mode::Delete,
        PackageType::Container,
        vec![
            v(1, &digest('a'), &["v1"], 30),
            v(2, &digest('b'), &[], 20),
            v(3, &digest('c'), &["v2"], 10),
        ],
        &policy,
        Containers::Unreadable {
            digest: digest('b'),
            cause: "401".into(),
        },
    );
    assert!(acted_ids(&plan).is_empty());
    for decision in &plan.decisions {
        assert_eq!(
            decision.verdict,
            Verdict::Keep(KeepReason::ManifestUnreadable {
                digest: digest('b').into(),
                cause: "401".into(),
            })
        );
    }
    assert!(!plan.delete_package);
}

#[test]
fn tag_selection_untagged_never_deletes_a_platform_manifest_of_a_kept_index() {
    let (index, p1, p2, orphan, signature) = (
        digest('a'),
        digest('b'),
        digest('c'),
        digest('d'),
        digest('e'),
    );
    let manifests = HashMap::from([
        (index.clone(), index_of(&[&p1, &p2])),
        (signature.clone(), referrer_of(&index)),
    ]);
    let plan = plan_graph(
        vec![
            v(1, &index, &["v1"], 30),
            v(2, &p1, &[], 30),
            v(3, &p2, &[], 30),
            v(4, &orphan, &[], 20),
            v(5, &signature, &[], 29),
        ],
        &manifests,
        &Policy {
            tag_selection: TagSelection::Untagged,
            ..Policy::default()
        },
    );
    assert_eq!(acted_ids(&plan), vec![4]);
    assert_eq!(verdict(&plan, 1), &not_selected(Filter::TagSelection));
    for id in [2, 3, 5] {
        assert!(
            matches!(
                verdict(&plan, id),
                Verdict::Keep(KeepReason::NeededBy { .. })
            ),
            "version {id}"
        );
    }
}

#[test]
fn the_last_version_rule_sparing_an_index_keeps_its_children() {
    let (old, old_p, new, new_p1, new_p2) = (
        digest('a'),
        digest('b'),
        digest('c'),
        digest('d'),
        digest('e'),
    );
    let manifests = HashMap::from([
        (old.clone(), index_of(&[&old_p])),
        (new.clone(), index_of(&[&new_p1, &new_p2])),
    ]);
    let plan = plan_graph(
        vec![
            v(1, &old, &["v1"], 30),
            v(2, &old_p, &[], 30),
            v(3, &new, &["v2"], 10),
            v(4, &new_p1, &[], 10),
            v(5, &new_p2, &[], 9), // newer than its index, untagged
            v(6, &digest('f'), &[], 40),
        ],
        &manifests,
        &Policy::default(),
    );
    assert_eq!(
        verdict(&plan, 3),
        &Verdict::Keep(KeepReason::LastVersion { tagged: true })
    );
    for id in [4, 5] {
        assert_eq!(
            verdict(&plan, id),
            &Verdict::Keep(KeepReason::NeededBy {
                by: "v2".into(),
                relation: Relation::PlatformManifest,
            })
        );
    }
    assert_eq!(acted_ids(&plan), vec![1, 2, 6]);
}

#[test]
fn restore_mode_follows_the_graph_down_from_what_is_restored_only() {
    let (index, p1) = (digest('a'), digest('b'));
    let manifests = HashMap::from([(index.clone(), index_of(&[&p1]))]);
    let mut versions = vec![v(1, &index, &["v1"], 30), v(2, &p1, &[], 30)];
    versions
        .iter_mut()
        .for_each(|v| v.deleted_at = Some(NOW - DAY));
    let graph = Graph::build(&versions, &manifests);
    let plan = plan_with(
        Mode::Restore,
        PackageType::Container,
        versions,
        &Policy {
            tag_selection: TagSelection::Tagged,
            ..Policy::default()
        },
        Containers::Known(&graph),
    );
    // The platform manifest comes back with its index (image-aware restore) …
    assert_eq!(acted_ids(&plan), vec![1, 2]);
    assert_eq!(
        verdict(&plan, 2),
        &Verdict::Act(ActReason::RestoredWith {
            parent: "v1".into(),
            relation: Relation::PlatformManifest,
        })
    );
    // … but restoring a platform manifest alone never brings back its index.
    let versions = plan.versions.clone();
    let graph = Graph::build(&versions, &manifests);
    let plan = plan_with(
        Mode::Restore,
        PackageType::Container,
        versions,
        &Policy {
            tag_selection: TagSelection::Untagged,
            ..Policy::default()
        },
        Containers::Known(&graph),
    );
    assert_eq!(acted_ids(&plan), vec![2]);
    assert_eq!(verdict(&plan, 1), &not_selected(Filter::TagSelection));
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const TAGS: &[&str] = &[
    "v1.0",
    "v1.1",
    "v2.0-rc.1",
    "latest",
    "dev",
    "1.5.0-rc.1",
    "v3.2",
    "stable",
];
const NAMES: &[&str] = &[
    "1.0.0",
    "1.1.0",
    "v2.0",
    "2.0.0-rc.1",
    "1.5.0-rc.1",
    "3.1.4",
    "latest",
    "1.0.0.1",
    "0.9",
];
const TAG_GLOBS: &[&str] = &["v1.*", "v*", "latest", "dev", "*rc*", "sha256-*", "*"];
const NAME_GLOBS: &[&str] = &["1.*", "*rc*", "v*", "*", "sha256:0*", "sha256:*1"];
const RANGES: &[&str] = &[
    ">=1.0, <2.0 || ^3.1",
    "<2.0.0",
    "^1",
    "~1.1",
    ">=2.0.0-rc.1",
    "*",
];

#[derive(Clone, Debug)]
struct RawVersion {
    tags: Vec<&'static str>,
    name: &'static str,
    created_day: i64,
    updated_extra: i64,
    deleted_day: Option<i64>,
    children: Vec<usize>,
    subject: Option<usize>,
    signs: Option<usize>,
}

fn raw_version() -> impl Strategy<Value = RawVersion> {
    (
        prop::sample::subsequence(TAGS, 0..=2),
        prop::sample::select(NAMES),
        0i64..20,
        0i64..60,
        prop::option::of(0i64..40),
        prop::collection::vec(any::<usize>(), 0..=3),
        prop::option::weighted(0.2, any::<usize>()),
        prop::option::weighted(0.2, any::<usize>()),
    )
        .prop_map(
            |(tags, name, created_day, updated_extra, deleted_day, children, subject, signs)| {
                RawVersion {
                    tags,
                    name,
                    created_day,
                    updated_extra,
                    deleted_day,
                    children,
                    subject,
                    signs,
                }
            },
        )
}

fn digest_of(index: usize) -> String {
    format!("sha256:{:064x}", index * 7919 + 1)
}

/// A package: versions (container digests as names when `container`) and their manifests.
#[derive(Clone, Debug)]
struct Package {
    versions: Vec<Version>,
    manifests: HashMap<String, ManifestRefs>,
}

fn build_package(raw: &[RawVersion], container: bool, id_shift: u64) -> Package {
    let n = raw.len();
    let mut versions: Vec<Version> = raw
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let created_at = NOW - (100 - r.created_day) * DAY / 2;
            Version {
                id: id_shift + ((i as u64) * 3) % 97 + 1,
                name: if container {
                    digest_of(i)
                } else {
                    r.name.to_string()
                },
                tags: if container {
                    r.tags.iter().map(|t| t.to_string()).collect()
                } else {
                    Vec::new()
                },
                created_at,
                updated_at: (created_at + r.updated_extra * DAY).min(NOW),
                deleted_at: r.deleted_day.map(|d| NOW - d * DAY),
                html_url: None,
            }
        })
        .collect();
    let mut manifests = HashMap::new();
    if container && n > 0 {
        for (i, r) in raw.iter().enumerate() {
            let children: Vec<String> = r
                .children
                .iter()
                .map(|c| c % n)
                .filter(|&c| c != i)
                .map(digest_of)
                .collect();
            let subject = r.subject.map(|s| s % n).filter(|&s| s != i).map(digest_of);
            if !children.is_empty() || subject.is_some() {
                let is_index = !children.is_empty();
                manifests.insert(
                    digest_of(i),
                    ManifestRefs {
                        children,
                        subject,
                        is_index,
                        blobs: None,
                    },
                );
            }
            if let Some(s) = r.signs.map(|s| s % n).filter(|&s| s != i) {
                let tag = sig_tag(&digest_of(s));
                versions[i].tags.push(if s % 2 == 0 {
                    tag
                } else {
                    tag.trim_end_matches(".sig").to_string()
                });
            }
        }
    }
    Package {
        versions,
        manifests,
    }
}

fn pick_globs(pool: &'static [&'static str]) -> impl Strategy<Value = Vec<glob::Pattern>> {
    prop::option::weighted(0.4, prop::sample::subsequence(pool, 1..=2)).prop_map(|chosen| {
        chosen
            .unwrap_or_default()
            .into_iter()
            .map(|p| glob::Pattern::new(p).unwrap())
            .collect()
    })
}

fn policy_strategy() -> impl Strategy<Value = Policy> {
    let filters = (
        prop::option::weighted(0.15, prop::collection::btree_set(1u64..60, 0..10)),
        pick_globs(TAG_GLOBS),
        pick_globs(TAG_GLOBS),
        prop::sample::select(
            &[
                TagSelection::Any,
                TagSelection::Tagged,
                TagSelection::Untagged,
            ][..],
        ),
        pick_globs(NAME_GLOBS),
        pick_globs(NAME_GLOBS),
        prop::option::weighted(0.3, prop::sample::select(RANGES)),
        prop::sample::select(&[Prerelease::Any, Prerelease::Only, Prerelease::Exclude][..]),
    );
    let ages = (
        prop::option::weighted(0.3, prop::sample::select(&[0i64, 5, 15, 30][..])),
        prop::option::weighted(0.3, prop::sample::select(&[1i64, 7, 20][..])),
    );
    let guards = (
        0usize..=5,
        prop::sample::select(
            &[
                KeepLatestPer::All,
                KeepLatestPer::Major,
                KeepLatestPer::Minor,
            ][..],
        ),
        0usize..=5,
        any::<bool>(),
    );
    (filters, ages, guards).prop_map(
        |(
            (
                version_ids,
                tags,
                exclude_tags,
                tag_selection,
                versions,
                exclude_versions,
                range,
                pre,
            ),
            (older_than, deleted_within),
            (keep_latest, keep_latest_per, min_versions_to_keep, delete_empty_package),
        )| Policy {
            version_ids,
            tags,
            exclude_tags,
            tag_selection,
            versions,
            exclude_versions,
            semver: range.map(|r| SemverRange::parse(r).unwrap()),
            prerelease: pre,
            older_than: older_than.map(|d| d * DAY),
            deleted_within: deleted_within.map(|d| d * DAY),
            keep_latest,
            keep_latest_per,
            min_versions_to_keep,
            delete_empty_package,
            untag: false,
        },
    )
}

fn package_type_strategy() -> impl Strategy<Value = PackageType> {
    prop::sample::select(
        &[
            PackageType::Npm,
            PackageType::Maven,
            PackageType::Container,
            PackageType::Docker,
        ][..],
    )
}

fn is_selected(policy: &Policy, version: &Version, package_type: PackageType) -> bool {
    policy.exclusion(version).is_none() && policy.selects(version, package_type, NOW).is_ok()
}

/// Plans a package of the given type; a container package gets its graph when `with_graph`.
fn run_plan(
    mode: Mode,
    package_type: PackageType,
    package: &Package,
    policy: &Policy,
    with_graph: bool,
) -> PackagePlan {
    let graph = Graph::build(&package.versions, &package.manifests);
    let containers = if with_graph && package_type == PackageType::Container {
        Containers::Known(&graph)
    } else {
        Containers::NotApplicable
    };
    plan_with(
        mode,
        package_type,
        package.versions.clone(),
        policy,
        containers,
    )
}

/// Everything `from` reaches through `Graph::needs` (itself excluded unless on a cycle).
fn reachable(graph: &Graph, from: usize) -> Vec<usize> {
    let mut seen = vec![false; graph.len()];
    let mut stack = vec![from];
    let mut out = Vec::new();
    while let Some(node) = stack.pop() {
        for &(target, _) in graph.needs(node) {
            if !seen[target] {
                seen[target] = true;
                out.push(target);
                stack.push(target);
            }
        }
    }
    out
}

fn mode_strategy() -> impl Strategy<Value = Mode> {
    prop::sample::select(&[Mode::Delete, Mode::Restore][..])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// 1. `exclude-*` always wins, in both modes, with or without a graph.
    #[test]
    fn prop_exclusions_always_win(
        raw in prop::collection::vec(raw_version(), 0..=40),
        policy in policy_strategy(),
        package_type in package_type_strategy(),
        mode in mode_strategy(),
        with_graph in any::<bool>(),
        allowance in 0usize..40,
    ) {
        let package = build_package(&raw, package_type.has_tags(), 0);
        let mut plan = run_plan(mode, package_type, &package, &policy, with_graph);
        for (version, decision) in plan.versions.iter().zip(&plan.decisions) {
            if let Some(exclusion) = policy.exclusion(version) {
                prop_assert_eq!(
                    &decision.verdict,
                    &Verdict::Keep(KeepReason::Excluded(Box::new(exclusion))),
                    "version {:?}", version
                );
                prop_assert!(!decision.selected);
            }
        }
        prop_assert!(!plan.delete_package || plan.versions.iter().all(|v| policy.exclusion(v).is_none()));
        defer_beyond(&mut [&mut plan], allowance, Cost::Versions, DeferReason::MaxDeletions);
        for (version, decision) in plan.versions.iter().zip(&plan.decisions) {
            if policy.exclusion(version).is_some() {
                prop_assert!(!decision.verdict.is_act());
            }
        }
    }

    /// 2. The `keep_latest` most recent of the selected versions of each group
    /// (`keep-latest-per`: one group, or a release line each) are never acted on.
    #[test]
    fn prop_keep_latest_always_holds(
        raw in prop::collection::vec(raw_version(), 0..=40),
        policy in policy_strategy(),
        package_type in package_type_strategy(),
        mode in mode_strategy(),
        with_graph in any::<bool>(),
    ) {
        let package = build_package(&raw, package_type.has_tags(), 0);
        let plan = run_plan(mode, package_type, &package, &policy, with_graph);
        let mut selected: Vec<usize> = (0..plan.versions.len())
            .filter(|&i| is_selected(&policy, &plan.versions[i], package_type))
            .collect();
        selected.sort_by_key(|&i| std::cmp::Reverse(plan.versions[i].recency_key()));
        let mut counted: HashMap<ReleaseLine, usize> = HashMap::new();
        for &i in &selected {
            let count = counted
                .entry(policy.release_line(&plan.versions[i], package_type))
                .or_default();
            *count += 1;
            if *count <= policy.keep_latest {
                prop_assert!(!plan.decisions[i].verdict.is_act(), "version {:?}", plan.versions[i]);
                prop_assert!(plan.decisions[i].selected);
            }
        }
        for (i, decision) in plan.decisions.iter().enumerate() {
            prop_assert_eq!(decision.selected, selected.contains(&i));
        }
    }

    /// 3. Without a graph, at least min(min-versions-to-keep, n) versions are not acted on.
    #[test]
    fn prop_min_versions_to_keep_holds_without_a_graph(
        raw in prop::collection::vec(raw_version(), 0..=40),
        policy in policy_strategy(),
        package_type in package_type_strategy(),
    ) {
        let package = build_package(&raw, package_type.has_tags(), 0);
        let plan = run_plan(Mode::Delete, package_type, &package, &policy, false);
        let kept = plan.decisions.iter().filter(|d| !d.verdict.is_act()).count();
        if plan.delete_package {
            prop_assert_eq!(kept, 0);
            prop_assert!(policy.delete_empty_package && policy.min_versions_to_keep == 0);
        } else {
            prop_assert!(
                kept >= policy.min_versions_to_keep.min(plan.versions.len()),
                "kept {} of {}", kept, plan.versions.len()
            );
        }
    }

    /// 4. Without a graph, a plan never acts on a version the filters do not select.
    #[test]
    fn prop_no_graph_acts_only_on_selected(
        raw in prop::collection::vec(raw_version(), 0..=40),
        policy in policy_strategy(),
        package_type in package_type_strategy(),
        mode in mode_strategy(),
    ) {
        let package = build_package(&raw, package_type.has_tags(), 0);
        let plan = run_plan(mode, package_type, &package, &policy, false);
        for (version, decision) in plan.versions.iter().zip(&plan.decisions) {
            if !is_selected(&policy, version, package_type) {
                prop_assert!(!decision.verdict.is_act(), "version {:?}: {:?}", version, decision);
            } else {
                prop_assert!(matches!(
                    decision.verdict,
                    Verdict::Act(ActReason::Selected) | Verdict::Keep(_)
                ));
            }
        }
        if mode == Mode::Restore {
            prop_assert!(!plan.delete_package);
        }
    }

    /// 5. With a graph, no kept version reaches an acted-on one, before and after a cut.
    #[test]
    fn prop_kept_versions_never_lose_what_they_need(
        raw in prop::collection::vec(raw_version(), 0..=40),
        policy in policy_strategy(),
        allowance in 0usize..40,
    ) {
        let package = build_package(&raw, true, 0);
        let graph = Graph::build(&package.versions, &package.manifests);
        let mut plan = plan_with(
            Mode::Delete,
            PackageType::Container,
            package.versions.clone(),
            &policy,
            Containers::Known(&graph),
        );
        let check = |plan: &PackagePlan| -> Result<(), TestCaseError> {
            for i in 0..plan.versions.len() {
                if plan.decisions[i].verdict.is_act() {
                    continue;
                }
                for j in reachable(&graph, i) {
                    prop_assert!(
                        !plan.decisions[j].verdict.is_act(),
                        "kept {} ({:?}) reaches acted {} ({:?})",
                        i, plan.decisions[i].verdict, j, plan.decisions[j].verdict
                    );
                }
            }
            Ok(())
        };
        check(&plan)?;
        // Parents go before their children (real graphs have no cycles; random ones may).
        let acyclic = (0..plan.versions.len()).all(|i| !reachable(&graph, i).contains(&i));
        for i in (0..plan.versions.len()).filter(|&i| plan.decisions[i].verdict.is_act()) {
            for &(j, _) in graph.needs(i) {
                if acyclic && plan.decisions[j].verdict.is_act() {
                    prop_assert!(plan.decisions[j].depth > plan.decisions[i].depth);
                    prop_assert_eq!(plan.decisions[j].unit, plan.decisions[i].unit);
                }
            }
        }
        defer_beyond(&mut [&mut plan], allowance, Cost::Versions, DeferReason::MaxDeletions);
        check(&plan)?;
    }

    /// 6. The last-version rule: without delete_package, a delete plan never acts on every
    /// version, nor (tagged types) on every tagged version.
    #[test]
    fn prop_last_version_rule(
        raw in prop::collection::vec(raw_version(), 0..=40),
        policy in policy_strategy(),
        package_type in package_type_strategy(),
        with_graph in any::<bool>(),
    ) {
        let package = build_package(&raw, package_type.has_tags(), 0);
        let plan = run_plan(Mode::Delete, package_type, &package, &policy, with_graph);
        let n = plan.versions.len();
        let acted = plan.count(Verdict::is_act);
        if plan.delete_package {
            prop_assert_eq!(acted, n);
            prop_assert!(policy.delete_empty_package);
        } else {
            prop_assert!(n == 0 || acted < n, "acted on all {} versions", n);
            if package_type.has_tags() {
                let tagged: Vec<usize> = (0..n).filter(|&i| !plan.versions[i].tags.is_empty()).collect();
                prop_assert!(
                    tagged.is_empty() || tagged.iter().any(|&i| !plan.decisions[i].verdict.is_act()),
                    "acted on every tagged version"
                );
            }
        }
    }

    /// 7. A run-level cut never leaves more than the allowance acted on, never splits a unit,
    /// takes units oldest first, and changes nothing but Act into Defer.
    #[test]
    fn prop_defer_beyond_respects_allowance_and_units(
        packages in prop::collection::vec(
            (
                prop::collection::vec(raw_version(), 0..=20),
                policy_strategy(),
                package_type_strategy(),
                any::<bool>(),
            ),
            1..=3,
        ),
        allowance in 0usize..30,
        by_requests in any::<bool>(),
    ) {
        let cost = if by_requests { Cost::Requests } else { Cost::Versions };
        let mut plans: Vec<PackagePlan> = packages
            .iter()
            .enumerate()
            .map(|(p, (raw, policy, package_type, with_graph))| {
                let package = build_package(raw, package_type.has_tags(), 1000 * p as u64);
                run_plan(Mode::Delete, *package_type, &package, policy, *with_graph)
            })
            .collect();
        let before = plans.clone();
        let mut refs: Vec<&mut PackagePlan> = plans.iter_mut().collect();
        defer_beyond(&mut refs, allowance, cost, DeferReason::MaxDeletions);

        let cost_of = |plan: &PackagePlan, acted: usize| {
            if plan.delete_package && cost == Cost::Requests { 1 } else { acted }
        };
        let mut spent = 0;
        let mut total_before = 0;
        // (oldest, plan) of the units taken, and of the units deferred.
        let mut taken: Vec<((Timestamp, u64), usize)> = Vec::new();
        let mut deferred: Vec<((Timestamp, u64), usize)> = Vec::new();
        for (p, (after, before)) in plans.iter().zip(&before).enumerate() {
            spent += cost_of(after, after.count(Verdict::is_act));
            total_before += cost_of(before, before.count(Verdict::is_act));
            if after.delete_package {
                prop_assert!(before.delete_package);
                prop_assert!(after.decisions.iter().all(|d| d.verdict.is_act()));
            }
            let mut units: BTreeMap<usize, (Vec<bool>, (Timestamp, u64))> = BTreeMap::new();
            for (i, (b, a)) in before.decisions.iter().zip(&after.decisions).enumerate() {
                if b.verdict.is_act() {
                    prop_assert!(a.verdict.is_act() || a.verdict == Verdict::Defer(DeferReason::MaxDeletions));
                    let entry = units.entry(b.unit).or_insert((Vec::new(), (Timestamp::MAX, u64::MAX)));
                    entry.0.push(a.verdict.is_act());
                    entry.1 = entry.1.min(before.versions[i].recency_key());
                } else {
                    prop_assert_eq!(&a.verdict, &b.verdict);
                }
                prop_assert_eq!(a.unit, b.unit);
            }
            for (unit, (members, oldest)) in units {
                let all = members.iter().all(|&m| m);
                let none = members.iter().all(|&m| !m);
                prop_assert!(all || none, "unit {} of plan {} split: {:?}", unit, p, members);
                if all { taken.push((oldest, p)) } else { deferred.push((oldest, p)) }
            }
        }
        prop_assert!(spent <= allowance, "spent {} of {}", spent, allowance);
        if total_before <= allowance {
            prop_assert!(deferred.is_empty());
        }
        if let (Some(last_taken), Some(first_deferred)) = (taken.iter().max(), deferred.iter().min()) {
            prop_assert!(last_taken < first_deferred, "taken {:?} after deferred {:?}", last_taken, first_deferred);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// 8. With a graph, a version the filters do not select goes only with a selected version
    /// that goes (it is reached from one).
    #[test]
    fn prop_unselected_versions_go_only_with_a_selected_parent(
        raw in prop::collection::vec(raw_version(), 0..=40),
        policy in policy_strategy(),
    ) {
        let package = build_package(&raw, true, 0);
        let graph = Graph::build(&package.versions, &package.manifests);
        let plan = plan_with(
            Mode::Delete,
            PackageType::Container,
            package.versions.clone(),
            &policy,
            Containers::Known(&graph),
        );
        let going_selected: Vec<usize> = (0..plan.versions.len())
            .filter(|&i| plan.decisions[i].verdict == Verdict::Act(ActReason::Selected))
            .collect();
        let mut reached = vec![false; plan.versions.len()];
        for &i in &going_selected {
            for j in reachable(&graph, i) {
                reached[j] = true;
            }
        }
        for (i, decision) in plan.decisions.iter().enumerate() {
            if decision.verdict.is_act() && !decision.selected {
                prop_assert!(
                    reached[i],
                    "version {} goes with no selected parent: {:?}; edges {:?}; verdicts {:?}",
                    i,
                    decision,
                    (0..graph.len()).map(|k| (k, graph.needs(k).to_vec())).filter(|(_, e)| !e.is_empty()).collect::<Vec<_>>(),
                    plan.decisions.iter().map(|d| &d.verdict).collect::<Vec<_>>()
                );
                let with_parent = matches!(decision.verdict, Verdict::Act(ActReason::WithParent { .. }));
                prop_assert!(with_parent, "{:?}", decision);
            }
        }
    }
}

#[test]
fn min_versions_to_keep_counts_images_not_their_platform_manifests() {
    // Two multi-platform images (index + 2 platform manifests each); keep at least 1 image.
    let (old, old_a, old_b) = (digest('a'), digest('b'), digest('c'));
    let (new, new_a, new_b) = (digest('d'), digest('e'), digest('f'));
    let manifests = HashMap::from([
        (old.clone(), index_of(&[&old_a, &old_b])),
        (new.clone(), index_of(&[&new_a, &new_b])),
    ]);
    let plan = plan_graph(
        vec![
            v(1, &old, &["v1"], 30),
            v(2, &old_a, &[], 30),
            v(3, &old_b, &[], 30),
            v(4, &new, &["v2"], 10),
            v(5, &new_a, &[], 10),
            v(6, &new_b, &[], 10),
        ],
        &manifests,
        &Policy {
            tag_selection: crate::plan::policy::TagSelection::Tagged,
            min_versions_to_keep: 1,
            ..Policy::default()
        },
    );
    // Counting every version, the 4 untagged ones would have satisfied the guard and both
    // images would have gone; counting images, the newest image stays with its manifests.
    assert_eq!(acted_ids(&plan), vec![1, 2, 3]);
    assert_eq!(
        verdict(&plan, 4),
        &Verdict::Keep(KeepReason::MinVersionsToKeep(1))
    );
    assert!(matches!(
        verdict(&plan, 5),
        Verdict::Keep(KeepReason::NeededBy { .. })
    ));
}

mod protections;
mod untag;
// ---------------------------------------------------------------------------------------------
// Image-aware restore
// ---------------------------------------------------------------------------------------------

/// A deleted version (restore-mode candidate).
fn deleted(id: u64, name: &str, tags: &[&str]) -> Version {
    Version {
        deleted_at: Some(NOW - DAY),
        ..v(id, name, tags, 5)
    }
}

#[test]
fn a_restored_index_brings_back_its_platform_manifests_and_signatures_unless_excluded() {
    let (index, amd, arm, other) = (digest('1'), digest('2'), digest('3'), digest('4'));
    let versions = vec![
        deleted(1, &index, &["v1.2.0"]),
        deleted(2, &amd, &[]),
        deleted(3, &arm, &[]),
        deleted(4, &digest('5'), &[&sig_tag(&index)]),
        deleted(5, &digest('6'), &[&sig_tag(&arm)]),
        deleted(6, &other, &[]),
    ];
    let manifests = HashMap::from([(index.clone(), index_of(&[&amd, &arm]))]);
    let graph = Graph::build(&versions, &manifests);
    let policy = Policy {
        tags: globs("v1.2.0"),
        exclude_versions: globs(&arm),
        ..Policy::default()
    };
    let plan = plan_with(
        Mode::Restore,
        PackageType::Container,
        versions,
        &policy,
        Containers::Known(&graph),
    );
    assert_eq!(acted_ids(&plan), vec![1, 2, 4]);
    assert_eq!(
        verdict(&plan, 2),
        &Verdict::Act(ActReason::RestoredWith {
            parent: "v1.2.0".into(),
            relation: Relation::PlatformManifest,
        })
    );
    assert!(verdict(&plan, 2)
        .describe(Mode::Restore)
        .contains("restored with v1.2.0"));
    // The excluded platform manifest stays, and so does the signature only it reaches.
    assert!(matches!(
        verdict(&plan, 3),
        Verdict::Keep(KeepReason::Excluded(_))
    ));
    assert!(!verdict(&plan, 5).is_act());
    assert!(!verdict(&plan, 6).is_act());
}

#[test]
fn manifests_read_after_a_restore_bring_back_what_they_reach_repeatedly() {
    let (index, amd) = (digest('1'), digest('2'));
    let versions = vec![
        deleted(1, &index, &["v1"]),
        deleted(2, &amd, &[]),
        deleted(3, &digest('5'), &[&sig_tag(&amd)]),
    ];
    let policy = Policy {
        tags: globs("v1"),
        ..Policy::default()
    };
    // Nothing is known of the deleted index's manifest when planning.
    let unknown = Graph::build(&versions, &HashMap::new());
    let mut plan = plan_with(
        Mode::Restore,
        PackageType::Container,
        versions,
        &policy,
        Containers::Known(&unknown),
    );
    assert_eq!(acted_ids(&plan), vec![1]);
    // Once restored, its manifest names the platform manifest, whose signature follows.
    let read = HashMap::from([(index.clone(), index_of(&[&amd]))]);
    let graph = Graph::build(&plan.versions, &read);
    let mut added = plan.restore_reached(&graph);
    added.sort_unstable();
    assert_eq!(added, vec![1, 2]);
    assert_eq!(acted_ids(&plan), vec![1, 2, 3]);
    assert!(plan.restore_reached(&graph).is_empty());
}
