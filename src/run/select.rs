//! The first stage: every rule's owner resolved to its namespace (once per owner), its package
//! names expanded (globs, `repository`), and one record per package; a package named by two
//! rules goes with the first.

use crate::github::client::Client;
use crate::github::listing;
use crate::github::routes::Namespace;
use crate::outcome::Package;
use crate::settings::{OwnerType, Settings};
use anyhow::Result;
use std::collections::HashMap;

/// The packages of the run, in the rules' order.
pub async fn packages(
    client: &Client,
    settings: &Settings,
    warnings: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<Vec<Package>> {
    let mut namespaces: HashMap<(String, OwnerType), Namespace> = HashMap::new();
    let mut packages: Vec<Package> = Vec::new();
    for rule in &settings.rules {
        let key = (rule.owner.to_lowercase(), rule.owner_type);
        let namespace = match namespaces.get(&key) {
            Some(namespace) => namespace.clone(),
            None => {
                let namespace =
                    listing::resolve_namespace(client, &rule.owner, rule.owner_type).await?;
                namespaces.insert(key, namespace.clone());
                namespace
            }
        };
        let names = listing::expand_packages(
            client,
            &namespace,
            rule.package_type,
            &rule.packages,
            &rule.repositories,
            warnings,
            notes,
        )
        .await?;
        for name in names {
            let duplicate = packages.iter().any(|other| {
                other.namespace == namespace
                    && other.name == name
                    && other.package_type() == rule.package_type
            });
            if duplicate {
                warnings.push(format!(
                    "package `{name}` is named by more than one rule: the first rule that names it applies"
                ));
            } else {
                packages.push(Package::new(rule.clone(), namespace.clone(), name));
            }
        }
    }
    Ok(packages)
}
