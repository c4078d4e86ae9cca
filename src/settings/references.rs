//! The scanner of `keep-referenced-in`: finds, in a file's text, the references to an owner's
//! images on the registry host (`<host>/<owner>/<package>:<tag>`, `…@sha256:<hex>`, both).
//! Pure: text in, references with their line numbers out.

/// One image reference found in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageReference {
    /// The package as written, lowercased (host, owner and package compare without case).
    pub package: String,
    pub tag: Option<String>,
    /// `sha256:<hex>`, lowercased.
    pub digest: Option<String>,
    /// 1-based.
    pub line: usize,
}

/// Where references point: the registry's host (with its port and path, if any) and the owner.
pub struct ReferenceScanner {
    /// `<host>/<owner>/`, lowercased.
    prefix: String,
}

const MAX_TAG_LEN: usize = 128;
const SHA256_HEX_LEN: usize = 64;

impl ReferenceScanner {
    /// A scanner for `owner`'s images on `registry` (`ghcr.io`, `localhost:5000`, `host/path`:
    /// the registry URL without its scheme).
    pub fn new(registry: &str, owner: &str) -> ReferenceScanner {
        let registry = registry.trim_end_matches('/');
        ReferenceScanner {
            prefix: format!("{registry}/{owner}/").to_ascii_lowercase(),
        }
    }

    /// Every reference in `text` with a tag, a digest or both, in order.
    pub fn scan(&self, text: &str) -> Vec<ImageReference> {
        let mut found = Vec::new();
        for (index, line) in text.lines().enumerate() {
            if line.len() < self.prefix.len() {
                continue;
            }
            let lower = line.to_ascii_lowercase();
            let mut from = 0;
            while let Some(at) = lower[from..].find(&self.prefix).map(|i| i + from) {
                from = at + self.prefix.len();
                if at > 0 && continues_a_name(lower.as_bytes()[at - 1]) {
                    continue;
                }
                if let Some(reference) = parse_after_prefix(&line[from..], &lower[from..]) {
                    found.push(ImageReference {
                        line: index + 1,
                        ..reference
                    });
                }
            }
        }
        found
    }
}

/// A byte that would make the prefix part of a longer host name (`evilghcr.io`).
fn continues_a_name(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_')
}

fn is_path_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-' | b'/')
}

fn is_tag_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-')
}

/// `<package>[:<tag>][@sha256:<hex>]` at the start of `rest` (`lower` is it lowercased).
fn parse_after_prefix(rest: &str, lower: &str) -> Option<ImageReference> {
    let bytes = lower.as_bytes();
    let name_len = bytes.iter().take_while(|b| is_path_byte(**b)).count();
    let package = lower[..name_len].trim_end_matches('/');
    if package.is_empty() || !package.as_bytes()[0].is_ascii_alphanumeric() {
        return None;
    }
    let mut at = name_len;
    let mut tag = None;
    if bytes.get(at) == Some(&b':') {
        let len = bytes[at + 1..]
            .iter()
            .take_while(|b| is_tag_byte(**b))
            .count();
        let candidate = &rest[at + 1..at + 1 + len];
        let valid = (1..=MAX_TAG_LEN).contains(&len)
            && (candidate.as_bytes()[0].is_ascii_alphanumeric() || candidate.starts_with('_'));
        if !valid {
            return None;
        }
        tag = Some(candidate.to_owned());
        at += 1 + len;
    }
    let mut digest = None;
    if lower[at..].starts_with("@sha256:") {
        let hex_from = at + "@sha256:".len();
        let len = bytes[hex_from..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if len != SHA256_HEX_LEN || bytes.get(hex_from + len).is_some_and(|b| is_tag_byte(*b)) {
            return None;
        }
        digest = Some(lower[at + 1..hex_from + len].to_owned());
    }
    (tag.is_some() || digest.is_some()).then(|| ImageReference {
        package: package.to_owned(),
        tag,
        digest,
        line: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(c: char) -> String {
        std::iter::repeat_n(c, 64).collect()
    }

    fn scan(text: &str) -> Vec<ImageReference> {
        ReferenceScanner::new("ghcr.io", "acme").scan(text)
    }

    fn reference(
        package: &str,
        tag: Option<&str>,
        digest: Option<&str>,
        line: usize,
    ) -> ImageReference {
        ImageReference {
            package: package.to_owned(),
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
            line,
        }
    }

    #[test]
    fn kubernetes_yaml_by_tag_digest_and_both() {
        let a = hex('a');
        let text = format!(
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  containers:\n    - image: ghcr.io/acme/app:v1.2.0\n    - image: \"ghcr.io/acme/app@sha256:{a}\"\n    - image: 'ghcr.io/acme/worker:prod@sha256:{a}' # pinned\n"
        );
        let digest = format!("sha256:{a}");
        assert_eq!(
            scan(&text),
            [
                reference("app", Some("v1.2.0"), None, 5),
                reference("app", None, Some(&digest), 6),
                reference("worker", Some("prod"), Some(&digest), 7),
            ]
        );
    }

    #[test]
    fn host_owner_and_package_compare_without_case_the_tag_keeps_its_case() {
        let upper = hex('B');
        let found = scan(&format!(
            "image: GHCR.IO/Acme/App:Prod-1\nx: Ghcr.io/ACME/app@SHA256:{upper}"
        ));
        assert_eq!(
            found,
            [
                reference("app", Some("Prod-1"), None, 1),
                reference("app", None, Some(&format!("sha256:{}", hex('b'))), 2),
            ]
        );
    }

    #[test]
    fn a_longer_package_name_other_owners_and_hosts_are_not_references() {
        let text = "image: ghcr.io/acme/app-other:v1\n\
                    image: ghcr.io/acme/apps:v1\n\
                    image: ghcr.io/acmeco/app:v1\n\
                    image: evilghcr.io/acme/app:v1\n\
                    image: docker.io/acme/app:v1\n\
                    image: ghcr.io/acme/app\n\
                    image: ghcr.io/acme/app:\n\
                    image: ghcr.io/acme/app@sha256:abc\n\
                    image: ghcr.io/acme/app:-bad\n";
        let found = scan(text);
        let packages: Vec<&str> = found.iter().map(|r| r.package.as_str()).collect();
        assert_eq!(packages, ["app-other", "apps"]);
        assert!(found.iter().all(|r| r.package != "app"));
    }

    #[test]
    fn helm_values_nested_packages_urls_and_several_references_on_a_line() {
        let text = "image:\n  repository: ghcr.io/acme/app\n  tag: v1\n\
                    sidecar: ghcr.io/acme/tools/cli:2.0, other=ghcr.io/acme/app:latest\n\
                    url: docker://ghcr.io/acme/app:edge\n";
        assert_eq!(
            scan(text),
            [
                reference("tools/cli", Some("2.0"), None, 4),
                reference("app", Some("latest"), None, 4),
                reference("app", Some("edge"), None, 5),
            ]
        );
    }

    #[test]
    fn a_registry_with_a_port_or_path_is_a_prefix_like_any_other() {
        let scanner = ReferenceScanner::new("127.0.0.1:5000/", "acme");
        let found =
            scanner.scan("image: 127.0.0.1:5000/acme/app:v1\nimage: 127.0.0.1:50001/acme/app:v1");
        assert_eq!(found, [reference("app", Some("v1"), None, 1)]);
    }

    #[test]
    fn a_tag_over_128_characters_is_not_a_reference() {
        let long = "a".repeat(129);
        assert!(scan(&format!("ghcr.io/acme/app:{long}")).is_empty());
        let longest = "a".repeat(128);
        assert_eq!(scan(&format!("ghcr.io/acme/app:{longest}")).len(), 1);
    }

    #[test]
    fn multi_byte_text_around_references_is_read_safely() {
        let found = scan("ümläut ghcr.io/acme/app:v1 → ghcr.io/acme/app:v2 ✓\n");
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].tag.as_deref(), Some("v2"));
    }
}
