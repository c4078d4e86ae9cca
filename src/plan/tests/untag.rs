//! `untag`: selection per tag, the guards that spare all tags of a version, and how a removal
//! counts against the run-level cuts. Unit tests, then properties.

use super::*;

fn untag_policy(tags: &str, exclude_tags: &str) -> Policy {
    Policy {
        tags: globs(tags),
        exclude_tags: globs(exclude_tags),
        untag: true,
        ..Policy::default()
    }
}

fn removes(tags: &[&str]) -> Verdict {
    Verdict::Untag(tags.iter().map(|t| t.to_string()).collect())
}

fn releases() -> Vec<Version> {
    vec![
        v(1, &digest('1'), &["pr-12", "v1.2.0"], 10),
        v(2, &digest('2'), &["pr-13"], 9),
        v(3, &digest('3'), &["v1.1.0"], 8),
        v(4, &digest('4'), &["pr-14", "latest"], 7),
        v(5, &digest('5'), &["pr-15", "pr-16", "v1.3.0"], 6),
    ]
}

#[test]
fn a_version_that_keeps_a_tag_loses_only_its_selected_tags() {
    let plan = plan_container(releases(), &untag_policy("pr-*", "v*"));
    assert_eq!(verdict(&plan, 1), &removes(&["pr-12"]));
    assert_eq!(
        verdict(&plan, 2),
        &SELECTED,
        "every tag selected: whole version"
    );
    assert!(matches!(
        verdict(&plan, 3),
        Verdict::Keep(KeepReason::Excluded(_))
    ));
    assert_eq!(
        verdict(&plan, 4),
        &removes(&["pr-14"]),
        "latest is not selected"
    );
    assert_eq!(verdict(&plan, 5), &removes(&["pr-15", "pr-16"]));
    for id in [1, 2, 4, 5] {
        assert!(decision(&plan, id).selected, "{id}");
    }
    assert!(!decision(&plan, 3).selected);

    // Without untag, the same filters spare or delete whole versions.
    let whole = plan_container(
        releases(),
        &Policy {
            untag: false,
            ..untag_policy("pr-*", "v*")
        },
    );
    assert!(matches!(
        verdict(&whole, 1),
        Verdict::Keep(KeepReason::Excluded(_))
    ));
    assert_eq!(verdict(&whole, 4), &SELECTED);
}

#[test]
fn other_filters_and_exclude_versions_still_hold_for_the_whole_version() {
    let policy = Policy {
        older_than: Some(8 * DAY),
        exclude_versions: globs(&digest('5')),
        ..untag_policy("pr-*", "v*")
    };
    let mut versions = releases();
    versions.push(v(6, &digest('6'), &["pr-17", "v2"], 20));
    versions[4].created_at = NOW - 30 * DAY;
    versions[4].updated_at = NOW - 30 * DAY;
    let plan = plan_container(versions, &policy);
    assert_eq!(verdict(&plan, 1), &removes(&["pr-12"]));
    assert_eq!(verdict(&plan, 4), &not_selected(Filter::OlderThan));
    assert!(matches!(
        verdict(&plan, 5),
        Verdict::Keep(KeepReason::Excluded(e)) if e.input == "exclude-versions"
    ));
    assert_eq!(verdict(&plan, 6), &removes(&["pr-17"]));
}

#[test]
fn keep_latest_counts_removals_and_spares_them_whole() {
    let policy = Policy {
        keep_latest: 2,
        ..untag_policy("pr-*", "v*")
    };
    let plan = plan_container(releases(), &policy);
    assert_eq!(verdict(&plan, 5), &Verdict::Keep(KeepReason::KeepLatest(2)));
    assert_eq!(verdict(&plan, 4), &Verdict::Keep(KeepReason::KeepLatest(2)));
    assert_eq!(verdict(&plan, 2), &SELECTED);
    assert_eq!(verdict(&plan, 1), &removes(&["pr-12"]));
}

#[test]
fn min_versions_to_keep_is_unaffected_by_removals() {
    // Five active versions; two of them lose tags but stay: three remain without the guard's
    // help once version 2 goes, so min-versions-to-keep 4 spares one more than that.
    let policy = Policy {
        min_versions_to_keep: 4,
        ..untag_policy("pr-*", "v*")
    };
    let plan = plan_container(releases(), &policy);
    assert_eq!(verdict(&plan, 1), &removes(&["pr-12"]));
    assert_eq!(verdict(&plan, 4), &removes(&["pr-14"]));
    assert_eq!(verdict(&plan, 5), &removes(&["pr-15", "pr-16"]));
    assert_eq!(verdict(&plan, 2), &SELECTED, "4 of 5 stay already");
    let policy = Policy {
        min_versions_to_keep: 5,
        ..untag_policy("pr-*", "v*")
    };
    let plan = plan_container(releases(), &policy);
    assert_eq!(
        verdict(&plan, 2),
        &Verdict::Keep(KeepReason::MinVersionsToKeep(5))
    );
    assert_eq!(verdict(&plan, 1), &removes(&["pr-12"]));
}

#[test]
fn the_last_version_rule_counts_a_version_that_keeps_a_tag() {
    let versions = vec![
        v(1, &digest('1'), &["pr-1", "v1"], 5),
        v(2, &digest('2'), &["pr-2"], 1),
    ];
    let plan = plan_container(versions.clone(), &untag_policy("pr-*", ""));
    assert_eq!(verdict(&plan, 1), &removes(&["pr-1"]));
    assert_eq!(verdict(&plan, 2), &SELECTED, "version 1 stays tagged");
    // Every tag selected: the newest is spared whole, tags and all.
    let plan = plan_container(versions, &untag_policy("*", ""));
    assert_eq!(
        verdict(&plan, 2),
        &Verdict::Keep(KeepReason::LastVersion { tagged: true })
    );
    assert_eq!(verdict(&plan, 1), &SELECTED);
}

#[test]
fn a_kept_parent_spares_the_tags_of_what_it_needs_and_an_index_keeps_its_children() {
    let (index, child, sig, kept_index, tagged_child) = (
        digest('1'),
        digest('2'),
        digest('3'),
        digest('4'),
        digest('5'),
    );
    let versions = vec![
        v(1, &index, &["pr-1", "v1"], 5),
        v(2, &child, &[], 5),
        v(3, &sig, &[&sig_tag(&index)], 5),
        v(4, &kept_index, &["v2"], 4),
        v(5, &tagged_child, &["pr-2", "arm64"], 4),
    ];
    let manifests = HashMap::from([
        (index.clone(), index_of(&[&child])),
        (kept_index.clone(), index_of(&[&tagged_child])),
    ]);
    let plan = plan_graph(versions, &manifests, &untag_policy("pr-*", ""));
    assert_eq!(verdict(&plan, 1), &removes(&["pr-1"]));
    for id in [2, 3] {
        assert!(
            matches!(
                verdict(&plan, id),
                Verdict::Keep(KeepReason::NeededBy { .. })
            ),
            "{id}: {:?}",
            verdict(&plan, id)
        );
    }
    assert!(matches!(
        verdict(&plan, 5),
        Verdict::Keep(KeepReason::NeededBy { by, .. }) if by == "v2"
    ));
}

#[test]
fn an_unreadable_manifest_spares_removals_too() {
    let plan = plan_with(
        Mode::Delete,
        PackageType::Container,
        releases(),
        &untag_policy("pr-*", "v*"),
        Containers::Unreadable {
            digest: digest('9'),
            cause: "503".into(),
        },
    );
    assert!(plan.decisions.iter().all(|d| !d.verdict.is_change()));
}

#[test]
fn restore_mode_ignores_untag() {
    let mut versions = releases();
    for version in &mut versions {
        version.deleted_at = Some(NOW - DAY);
    }
    let plan = plan_with(
        Mode::Restore,
        PackageType::Container,
        versions,
        &untag_policy("pr-*", "v*"),
        Containers::NotApplicable,
    );
    assert!(plan
        .decisions
        .iter()
        .all(|d| d.verdict.untag_tags().is_none()));
    assert_eq!(verdict(&plan, 4), &SELECTED);
}

#[test]
fn a_removal_counts_as_one_deletion_and_two_api_requests() {
    let mut plan = plan_container(releases(), &untag_policy("pr-*", "v*"));
    // Oldest first: 1 (removal), 2 (deletion), 4 (removal), 5 (removal).
    defer_beyond(
        &mut [&mut plan],
        2,
        Cost::Versions,
        DeferReason::MaxDeletions,
    );
    assert_eq!(verdict(&plan, 1), &removes(&["pr-12"]));
    assert_eq!(verdict(&plan, 2), &SELECTED);
    for id in [4, 5] {
        assert_eq!(
            verdict(&plan, id),
            &Verdict::Defer(DeferReason::MaxDeletions)
        );
    }
    let mut plan = plan_container(releases(), &untag_policy("pr-*", "v*"));
    defer_beyond(
        &mut [&mut plan],
        UNTAG_API_REQUESTS + 1,
        Cost::Requests,
        DeferReason::RateLimitBudget,
    );
    assert_eq!(verdict(&plan, 1), &removes(&["pr-12"]));
    assert_eq!(verdict(&plan, 2), &SELECTED);
    assert_eq!(
        verdict(&plan, 4),
        &Verdict::Defer(DeferReason::RateLimitBudget)
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// With `untag`, no version that carries a tag `tags` does not select, or one `exclude-tags`
    /// protects, is deleted for its own sake; a removal takes only selected, unprotected tags and
    /// leaves at least one; and the version ids spared without `untag` by an exclusion are never
    /// deleted with it.
    #[test]
    fn prop_untag_removes_only_selected_tags_and_deletes_no_kept_tag(
        raw in prop::collection::vec(raw_version(), 0..=40),
        mut policy in policy_strategy(),
        with_graph in any::<bool>(),
        tags in pick_globs(TAG_GLOBS),
    ) {
        policy.untag = true;
        if policy.tags.is_empty() {
            policy.tags = tags;
        }
        prop_assume!(!policy.tags.is_empty());
        if policy.tag_selection == TagSelection::Untagged {
            policy.tag_selection = TagSelection::Any;
        }
        let package = build_package(&raw, true, 0);
        let plan = run_plan(Mode::Delete, PackageType::Container, &package, &policy, with_graph);
        for (version, decision) in plan.versions.iter().zip(&plan.decisions) {
            let removable = policy.removable_tags(version);
            match &decision.verdict {
                Verdict::Untag(tags) => {
                    prop_assert_eq!(tags, &removable);
                    prop_assert!(!tags.is_empty() && tags.len() < version.tags.len());
                    prop_assert!(decision.selected);
                    prop_assert!(policy.version_exclusion(version).is_none());
                }
                Verdict::Act(ActReason::Selected) => {
                    prop_assert_eq!(&removable, &version.tags, "{:?}", version);
                }
                _ => {}
            }
            if policy.version_exclusion(version).is_some() {
                prop_assert!(!decision.verdict.is_change());
            }
        }
    }
}
