#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this). Installs what it needs first.
#   FUZZ_SECONDS=20 (per fuzz target)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
T0=$SECONDS
step() { echo; echo "=== $* ($((SECONDS - T0)) s)"; }

step "install test dependencies"
bash scripts/install-test-deps.sh

step "cargo fmt --check"
cargo fmt --all -- --check
(cd fuzz && cargo fmt -- --check)

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

# The fuzz crate is outside the workspace (cargo-fuzz's layout), so clippy above does not see it:
# an API change that breaks a target must fail here, not after the tests in the fuzz smoke step.
step "fuzz targets compile"
(cd fuzz && cargo check --bins --locked)

step "no tokio below the async driver"
bash scripts/check-no-tokio.sh

step "rust-version covers every locked dependency"
bash scripts/check-msrv.sh

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step "cargo test"
OXIRTC_REQUIRE_INTEROP=1 OXIRTC_REQUIRE_FFMPEG=1 cargo test --workspace --locked

# Packages every publishable crate as crates.io would receive it (license files, README, versioned
# path dependencies) and builds each package on its own against the packages of the others; uploads
# nothing, but needs crates.io (the index). --allow-dirty: local edits are packaged as they are.
# Cargo treats our packages like registry crates of an unchanged version: it reuses their unpacked
# sources (registry/src/-<hash>/, the temporary local registry) and their compiled artifacts even
# after the code changed, and would verify stale code. So the step builds in its own target dir and
# first removes those copies, only oxirtc's; the external dependencies stay built there (warm: ~30 s).
step "cargo publish --dry-run"
publish_target="${CARGO_TARGET_DIR:-target}/publish-check"
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/oxirtc-* \
    "$publish_target"/debug/.fingerprint/oxirtc-* "$publish_target"/debug/deps/*oxirtc_*
CARGO_TARGET_DIR="$publish_target" cargo publish --dry-run --workspace --locked --allow-dirty

step "fuzz smoke"
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
for target in $(cd fuzz && cargo fuzz list); do
  mkdir -p "fuzz/corpus/$target"
  (cd fuzz && cargo fuzz run "$target" -s none "corpus/$target" -- \
      -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -timeout=10 2>&1 | tail -3)
done

step "all green in $((SECONDS - T0)) s"
