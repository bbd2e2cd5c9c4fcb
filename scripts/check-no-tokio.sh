#!/usr/bin/env bash
# Protocol crates are sans-IO (CONTRIBUTING.md): no crate under crates/ except oxirtc-tokio may depend on
# tokio, directly or through another dependency.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
fail=0
for manifest in crates/*/Cargo.toml; do
  name=$(basename "$(dirname "$manifest")")
  [ "$name" = oxirtc-tokio ] && continue
  tree=$(cargo tree -p "$name" -e normal --prefix none --locked) || { echo "ERROR: cargo tree -p $name failed" >&2; exit 1; }
  if grep -qE '^tokio v' <<<"$tree"; then
    echo "ERROR: $name depends on tokio; only oxirtc-tokio may (sans-IO rule, docs/architecture.md)" >&2
    fail=1
  fi
done
[ $fail = 0 ] && echo "ok: no sans-IO crate depends on tokio"
exit $fail
