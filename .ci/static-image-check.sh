#!/usr/bin/env bash
# What can be proved about the released image without a Docker engine: the static musl binary
# (as .github/workflows/release.yml builds it) runs in an otherwise empty root that holds only
# the CA bundle, which is exactly what the final `FROM scratch` stage of Dockerfile and
# Dockerfile.release holds. Run from anywhere, as root or as a user with sudo (only `chroot` and
# `apt-get` need root; the build runs as the calling user):
#
#     bash .ci/static-image-check.sh      # or: bash .ci/run static
#
# Steps: build x86_64-unknown-linux-musl in release mode; check the binary is statically linked
# (`file`, `ldd`); build the root (/etc/ssl/certs/ca-certificates.crt, /package-retention, and
# the example versions file); run `--help` and the README's offline plan there with `chroot` and
# an empty environment but SSL_CERT_FILE (the image's ENV); check the TLS client finds its CA
# roots there (an https request to a closed local port must fail on the connection, not on the
# certificates); print the binary's size and the image's expected size.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TARGET=x86_64-unknown-linux-musl
BIN="$ROOT/target/$TARGET/release/package-retention"
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

note() {
    printf 'static-image-check: %s\n' "$*"
}
fail() {
    printf 'static-image-check: FAILED: %s\n' "$*" >&2
    exit 1
}

# chroot and apt-get need root: as root run them as they are, otherwise through sudo.
as_root() {
    if [[ "$(id -u)" == 0 ]]; then
        "$@"
    else
        sudo -n "$@"
    fi
}
if [[ "$(id -u)" != 0 ]] && ! sudo -n true 2> /dev/null; then
    fail "chroot needs root: run as root or with passwordless sudo"
fi
[[ -f "$CA_BUNDLE" ]] || fail "no CA bundle at $CA_BUNDLE (install ca-certificates)"

# ---------------------------------------------------------------- build

if ! rustup target list --installed | grep -qx "$TARGET"; then
    note "rustup target add $TARGET"
    rustup target add "$TARGET"
fi
if ! command -v musl-gcc > /dev/null; then
    # ring (rustls's crypto) compiles C and assembly: it needs a musl C compiler.
    note "installing musl-tools (musl-gcc)"
    as_root apt-get install -y musl-tools > /dev/null 2>&1 || {
        as_root apt-get update > /dev/null
        as_root apt-get install -y musl-tools > /dev/null
    }
fi
note "cargo build --release --locked --target $TARGET"
started=$SECONDS
CC_x86_64_unknown_linux_musl=musl-gcc \
    cargo build --release --locked --target "$TARGET" --bin package-retention
note "built in $((SECONDS - started)) s"

# ---------------------------------------------------------------- statically linked?

file_out="$(file -L "$BIN")"
printf '%s\n' "$file_out"
if ! grep -Eq 'statically linked|static-pie linked' <<< "$file_out"; then
    fail "file does not call the binary statically linked"
fi
if grep -q 'interpreter' <<< "$file_out"; then
    fail "the binary names a dynamic loader"
fi
ldd_out="$(ldd "$BIN" 2>&1 || true)"
printf 'ldd: %s\n' "$ldd_out"
if ! grep -Eq 'not a dynamic executable|statically linked' <<< "$ldd_out"; then
    fail "ldd finds shared libraries"
fi

# ---------------------------------------------------------------- the image's root

ROOTFS="$(mktemp -d)"
trap 'rm -rf "$ROOTFS" "$ROOTFS.crt"' EXIT
mkdir -p "$ROOTFS/etc/ssl/certs"
cp "$CA_BUNDLE" "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
cp "$BIN" "$ROOTFS/package-retention"
note "the image's root (what FROM scratch + two COPY lines hold):"
(cd "$ROOTFS" && find . -type f -printf '  /%P  %s bytes\n' | sort)

# Runs a command in the root with nothing but the image's environment (ENV SSL_CERT_FILE) and
# what the runner would pass; IMAGE_ENV adds variables.
IMAGE_ENV=()
CHROOT="$(PATH="$PATH:/usr/sbin:/sbin" command -v chroot)" || fail "no chroot command"
in_image() {
    as_root env -i SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt "${IMAGE_ENV[@]}" \
        "$CHROOT" "$ROOTFS" "$@"
}

note "chroot: /package-retention --help"
help_out="$(in_image /package-retention --help)"
printf '%s\n' "$help_out" | head -n 5
printf '  ... (%s lines)\n' "$(wc -l <<< "$help_out")"
grep -q -- '--versions-file' <<< "$help_out" || fail "--help does not mention --versions-file"

# The offline example needs its file inside the root; it is removed again before the size count.
cp examples/versions.json "$ROOTFS/versions.json"
note "chroot: the README's offline plan on /versions.json"
plan_out="$(in_image /package-retention --versions-file /versions.json --package-type npm \
    --packages my-lib --semver '<2.0.0' --prerelease exclude --keep-latest 2)"
printf '%s\n' "$plan_out"
[[ -n "$plan_out" ]] || fail "the offline plan printed nothing"
grep -q 'deleted-count' <<< "$plan_out" || fail "the offline plan printed no deleted-count"
rm -f "$ROOTFS/versions.json"

# TLS in the root: the client loads its CA roots from SSL_CERT_FILE (rustls-native-certs). An
# https request to a closed local port must get as far as the connection (refused).
closed_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
tls_run() {
    in_image /package-retention --owner acme --owner-type org --packages app --dry-run true \
        2>&1 || true
}
IMAGE_ENV=(PACKAGE_RETENTION_RETRY_BASE_MS=1 GITHUB_TOKEN=tls-probe
    GITHUB_API_URL="https://127.0.0.1:$closed_port")
note "chroot: an https request to a closed port (https://127.0.0.1:$closed_port)"
tls_out="$(tls_run)"
printf '%s\n' "$tls_out" | tail -n 3
grep -Eqi 'connect|refused' <<< "$tls_out" || fail "the https request did not reach the connection"
if grep -Eqi 'certificate|native root|CA cert' <<< "$tls_out"; then
    fail "the TLS client did not find its CA roots in the image"
fi
# The control: without the bundle the same run must stop at the CA roots (so the check above
# can tell an image without a bundle).
mv "$ROOTFS/etc/ssl/certs/ca-certificates.crt" "$ROOTFS.crt"
no_ca_out="$(tls_run)"
mv "$ROOTFS.crt" "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
note "control, the same run without the CA bundle: $(tail -n 1 <<< "$no_ca_out")"
grep -Eqi 'native root|certificate' <<< "$no_ca_out" ||
    fail "without the CA bundle the https request should fail on the CA roots"

# ---------------------------------------------------------------- sizes

bin_size="$(stat -c %s "$BIN")"
ca_size="$(stat -c %s "$ROOTFS/etc/ssl/certs/ca-certificates.crt")"
layer_gz="$(tar -C "$ROOTFS" -cf - . | gzip -9 | wc -c)"
mib() {
    awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'
}
note "binary: $bin_size bytes ($(mib "$bin_size"))"
note "CA bundle: $ca_size bytes ($(mib "$ca_size"))"
note "image (scratch + CA bundle + binary): $((bin_size + ca_size)) bytes uncompressed ($(mib $((bin_size + ca_size)))), about $layer_gz bytes gzip-compressed to pull ($(mib "$layer_gz"))"
note "OK: static binary, runs in an empty root holding only the CA bundle"
