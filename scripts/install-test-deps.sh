#!/usr/bin/env bash
# Installs what the test suite needs beyond Rust/gcc/Python/Node, only what is missing (idempotent):
#   apt:   coturn (a real STUN/TURN peer for interop tests)      -- needs root
#   cargo: cargo-fuzz (fuzz smoke runs)
set -euo pipefail
log() { echo "[install-test-deps] $*"; }

apt_pkgs=(coturn)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "[install-test-deps] ERROR: missing Debian packages (${missing[*]}); run as root or install them" >&2
    exit 1
  fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian package may start a system turnserver on 3478 under an init system; our tests use their
# own ports and never touch it.

if ! cargo fuzz --version >/dev/null 2>&1; then
  log "cargo install cargo-fuzz"
  cargo install --locked -q cargo-fuzz
fi
log "ok"
