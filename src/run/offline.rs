//! The offline plan: one package's versions from an exported file (`--versions-file`), planned
//! with no token and no network; always a dry run.

use super::debug_plan;
use crate::github::client::Counters;
use crate::github::routes::Namespace;
use crate::model::{self, LinkPrefixes, PackageType, RestVersion, Version};
use crate::outcome::{Package, RunReport};
use crate::plan::protections::Protections;
use crate::plan::{self, Containers, Cost, DeferReason, Mode, PlanInput};
use crate::settings::Settings;
use anyhow::{Context, Result};

/// Plans against an exported versions file.
pub fn plan_offline(settings: &Settings) -> Result<RunReport> {
    let path = settings
        .versions_file
        .as_ref()
        .expect("offline run has a file");
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read --versions-file {}", path.display()))?;
    let rest: Vec<RestVersion> = serde_json::from_str(&text).with_context(|| {
        format!(
            "--versions-file {} is not a JSON array of package versions",
            path.display()
        )
    })?;
    let links = LinkPrefixes::default();
    let mut versions = Vec::with_capacity(rest.len());
    for version in rest {
        versions.push(version.into_version(&links)?);
    }
    let rule = &settings.rules[0];
    let name = rule.packages.first().cloned().unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let candidates: Vec<Version> = versions
        .into_iter()
        .filter(|v| v.deleted_at.is_some() == (settings.mode == Mode::Restore))
        .collect();
    let containers = if rule.package_type == PackageType::Container && settings.mode == Mode::Delete
    {
        Containers::NotRead
    } else {
        Containers::NotApplicable
    };
    let mut warnings = Vec::new();
    if matches!(containers, Containers::NotRead) {
        warnings.push("offline: container manifests were not read, so the plan does not protect platform manifests, signatures or attestations that kept images need; an online run does".to_string());
    }
    // No request is made: the namespace only names the owner.
    let namespace = Namespace::User(rule.owner.clone());
    let mut package = Package::new(rule.clone(), namespace, name);
    package.listing.active_before = (settings.mode == Mode::Delete).then_some(candidates.len());
    let mut plan = plan::plan_package(PlanInput {
        mode: settings.mode,
        package_type: rule.package_type,
        versions: candidates,
        policy: &rule.policy,
        protections: &Protections::default(),
        now: model::now(),
        containers,
    });
    if let Some(max) = settings.max_deletions {
        plan::defer_beyond(
            &mut [&mut plan],
            max,
            Cost::Versions,
            DeferReason::MaxDeletions,
        );
    }
    package.results.outcomes = vec![None; plan.versions.len()];
    if plan.delete_package {
        package.results.package_request = Some((Mode::Delete, None));
    }
    package.plan = Some(plan);
    debug_plan(settings.mode, &package);
    Ok(RunReport {
        mode: settings.mode,
        dry_run: true,
        offline: true,
        packages: vec![package],
        warnings,
        notes: Vec::new(),
        budget_remaining: None,
        counters: Counters::default(),
        manifests: None,
        stopped: false,
    })
}
