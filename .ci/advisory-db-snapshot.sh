#!/usr/bin/env bash
# Refreshes .ci/advisory-db/, the offline copy of the RustSec advisory database that `.ci/run deny`
# uses where github.com cannot be reached (GitHub-hosted CI fetches the live database instead).
# Usage: bash .ci/advisory-db-snapshot.sh GIT_DIR   (a clone or mirror of rustsec/advisory-db)
# It keeps only what cargo-deny reads (crates/**/*.md, as a deterministic xz-compressed tar from
# `git archive`) plus the licences (CC0-1.0, and CC-BY-4.0 for GHSA-derived advisories), and
# records the commit and its date in SNAPSHOT.
set -euo pipefail
git_dir="${1:?usage: $0 GIT_DIR of a rustsec/advisory-db clone}"
out="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/advisory-db"
mkdir -p "$out"
commit="$(git --git-dir="$git_dir" rev-parse 'HEAD^{commit}')"
date="$(git --git-dir="$git_dir" show -s --format=%cI "$commit")"
git --git-dir="$git_dir" archive --format=tar "$commit" crates | xz -9 --threads=1 > "$out/crates.tar.xz"
git --git-dir="$git_dir" show "$commit:LICENSE.txt" > "$out/LICENSE.txt"
for licence in CC0-1.0 CC-BY-4.0; do
    git --git-dir="$git_dir" show "$commit:LICENSES/$licence.txt" > "$out/$licence.txt"
done
count="$(git --git-dir="$git_dir" ls-tree -r --name-only "$commit" crates | grep -c '\.md$')"
cat > "$out/SNAPSHOT" << SNAP
source=https://github.com/rustsec/advisory-db
commit=$commit
date=$date
advisories=$count
SNAP
echo "advisory-db snapshot: $commit of $date, $count advisories, $(stat -c %s "$out/crates.tar.xz") bytes"
