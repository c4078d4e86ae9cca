//! What the repository protects (open pull requests, live branches, references in files): kept
//! like `exclude-*`, whole (no tag removed by `untag`), with everything it needs.

use super::*;
use crate::plan::protections::Protections;

fn plan_protected(
    versions: Vec<Version>,
    manifests: &HashMap<String, ManifestRefs>,
    policy: &Policy,
    protections: &Protections,
) -> PackagePlan {
    let graph = Graph::build(&versions, manifests);
    plan_package(PlanInput {
        mode: Mode::Delete,
        package_type: PackageType::Container,
        versions,
        policy,
        protections,
        now: NOW,
        containers: Containers::Known(&graph),
    })
}

fn protected(input: &'static str, reason: &str) -> Verdict {
    Verdict::Keep(KeepReason::Protected(Box::new(
        crate::plan::protections::Protection {
            input,
            reason: reason.to_string(),
        },
    )))
}

#[test]
fn a_protected_index_stays_with_its_platforms_and_signature_and_loses_no_tag() {
    let (index, amd, arm, sig) = (digest('a'), digest('b'), digest('c'), digest('d'));
    let versions = vec![
        v(1, &index, &["pr-12", "v1"], 5),
        v(2, &amd, &[], 5),
        v(3, &arm, &[], 5),
        v(4, &sig, &[&sig_tag(&index)], 5),
        v(5, &digest('e'), &["pr-13"], 4),
        v(6, &digest('f'), &["latest"], 1),
    ];
    let manifests = HashMap::from([
        (index.clone(), index_of(&[&amd, &arm])),
        (sig.clone(), referrer_of(&index)),
    ]);
    let mut protections = Protections::default();
    protections.protect_tag(
        "pr-12".into(),
        "keep-open-pull-requests",
        "pull request #12 is open".into(),
    );
    let policy = Policy {
        tags: globs("pr-*"),
        untag: true,
        ..Policy::default()
    };
    let plan = plan_protected(versions.clone(), &manifests, &policy, &protections);
    assert_eq!(
        verdict(&plan, 1),
        &protected("keep-open-pull-requests", "pull request #12 is open")
    );
    for id in [2, 3, 4] {
        assert!(
            matches!(
                verdict(&plan, id),
                Verdict::Keep(KeepReason::NeededBy { .. })
            ),
            "{id}: {:?}",
            verdict(&plan, id)
        );
    }
    assert_eq!(acted_ids(&plan), vec![5]);

    // By digest, the same image is kept whole too; without protections it would lose pr-12.
    let mut by_digest = Protections::default();
    by_digest.protect_digest(
        &index.to_uppercase().replace("SHA256", "sha256"),
        "keep-referenced-in",
        "referenced in deploy/prod.yaml line 3".into(),
    );
    let plan = plan_protected(versions.clone(), &manifests, &policy, &by_digest);
    assert_eq!(
        verdict(&plan, 1).describe(Mode::Delete),
        "referenced in deploy/prod.yaml line 3"
    );
    assert_eq!(acted_ids(&plan), vec![5]);
    let plan = plan_protected(versions, &manifests, &policy, &Protections::default());
    assert_eq!(verdict(&plan, 1), &Verdict::Untag(vec!["pr-12".into()]));
}
