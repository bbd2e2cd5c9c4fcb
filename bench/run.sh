#!/usr/bin/env bash
# Builds the side-by-side benchmark in release mode and runs it: oxirtc against webrtc-rs and str0m,
# two peers in one process over loopback UDP. Arguments go to the binary (--quick for a smoke run,
# --runs N, --stacks oxirtc,str0m, --figures bulk64,small,media,media-memory, --oxirtc-plain, ...;
# see README.md). `run.sh srtp [--runs N ...]` runs the SRTP benchmark (srtp-bench) instead.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --locked
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(uname -sr)"
if [ "${1:-}" = srtp ]; then
    shift
    exec "$CARGO_TARGET_DIR/release/srtp-bench" "$@"
fi
exec "$CARGO_TARGET_DIR/release/oxirtc-bench" "$@"
