//! Registry storage per container package: the bytes its versions' blobs take before and after
//! the run, and what the run freed (or would free, in a dry run): the blobs that only the
//! versions it deleted named. Shown in binary units.

use super::{Counted, Tally};
use crate::outcome::Package;
use crate::plan::Mode;

/// A package's storage figures, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Storage {
    pub before: u64,
    pub after: u64,
    pub freed: u64,
}

impl Tally<'_> {
    /// The storage of a container package whose manifests were read, in delete mode; `None`
    /// otherwise (a restore brings back what its manifests name, read only once restored).
    pub(super) fn storage(&self, package: &Package) -> Option<Storage> {
        if self.report.mode != Mode::Delete {
            return None;
        }
        let stored = package.listing.storage.as_ref()?;
        let listed = self
            .entries
            .iter()
            .filter(|e| std::ptr::eq(e.package, package) && e.decision.is_some());
        let before = stored.bytes(listed.clone().map(|e| e.version.id));
        let after = stored.bytes(
            listed
                .filter(|e| e.counted != Counted::Changed)
                .map(|e| e.version.id),
        );
        Some(Storage {
            before,
            after,
            freed: before - after,
        })
    }

    /// The bytes the run freed over every package (output `bytes-freed`).
    pub(super) fn bytes_freed(&self) -> u64 {
        self.report
            .packages
            .iter()
            .filter_map(|p| self.storage(p))
            .map(|s| s.freed)
            .sum()
    }
}

/// Bytes in binary units: `512 B`, `1.5 KiB`, `17.0 MiB`, `449.2 GiB`.
pub fn binary(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::binary;

    #[test]
    fn binary_units() {
        assert_eq!(binary(0), "0 B");
        assert_eq!(binary(1023), "1023 B");
        assert_eq!(binary(1024), "1.0 KiB");
        assert_eq!(binary(1536), "1.5 KiB");
        assert_eq!(binary(17 * 1024 * 1024 + 5 * 1024), "17.0 MiB");
        assert_eq!(binary(449 * (1 << 30) + (1 << 29)), "449.5 GiB");
        assert_eq!(binary(u64::MAX), "16384.0 PiB");
    }
}
