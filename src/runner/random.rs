//! Randomness without a crate: the standard library's per-process random keys, for the
//! delimiters no data can predict (heredocs, `stop-commands`, temporary files) and for jitter.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Instant;

/// A fraction in [0, 1).
pub fn fraction() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(Instant::now().elapsed().as_nanos() as u64);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// A random hex string of 16 digits.
pub fn hex() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u8(0);
    format!("{:016x}", hasher.finish())
}
