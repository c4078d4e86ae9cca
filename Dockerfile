# Builds package-retention from source: what `runs: image: Dockerfile` in action.yml uses on
# main and in forks. Released versions use the prebuilt multi-platform image instead
# (Dockerfile.release, see .github/workflows/release.yml).

# ---- build: a static musl binary (Alpine's Rust targets *-unknown-linux-musl natively) ----
FROM rust:1.95-alpine AS build
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev ca-certificates
WORKDIR /src
COPY . .
# Static even if a future image stops defaulting to it.
ENV RUSTFLAGS="-C target-feature=+crt-static"
RUN cargo build --locked --release --bin package-retention \
 && cp target/release/package-retention /package-retention \
 && /package-retention --help > /dev/null

# ---- final: nothing but the CA bundle and the binary ----
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /package-retention /package-retention
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
# GitHub runs Docker actions as root (it mounts the workspace and GITHUB_OUTPUT owned by the
# runner user), so the image sets no USER.
ENTRYPOINT ["/package-retention"]
