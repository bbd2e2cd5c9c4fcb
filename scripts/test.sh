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

step "no tokio below the async driver"
bash scripts/check-no-tokio.sh

step "cargo test"
OXIRTC_REQUIRE_INTEROP=1 cargo test --workspace --locked

step "fuzz smoke"
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
for target in $(cd fuzz && cargo fuzz list); do
  mkdir -p "fuzz/corpus/$target"
  (cd fuzz && cargo fuzz run "$target" -s none "corpus/$target" -- \
      -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -timeout=10 2>&1 | tail -3)
done

step "all green in $((SECONDS - T0)) s"
