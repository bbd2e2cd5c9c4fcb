#!/usr/bin/env bash
# Installs what the test suite needs beyond Rust/gcc/Python/Node, only what is missing (idempotent):
#   apt:   coturn (a real STUN/TURN peer for interop tests)      -- needs root
#          chromium (only if /usr/bin/chromium is missing), iproute2 (if `ip` is missing): the browser
#          interop harness in interop/ (headless Chromium in a loopback-only network namespace)
#          openssl (if missing): `openssl s_server -dtls1_2`, an RSA-certificate DTLS server
#          nftables, iptables (if `nft` / `iptables` are missing): netlab/ (NAT types, loss, duplication,
#          cuts; iptables only for the NFQUEUE rule of the delay emulator), and `tc` from iproute2
#   npm:   `npm ci` in interop/ (playwright-core, pinned) if node_modules is missing or older than the lock
#   cargo: cargo-fuzz (fuzz smoke runs)
set -euo pipefail
log() { echo "[install-test-deps] $*"; }

apt_pkgs=(coturn)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Checked by file, not by package: any working /usr/bin/chromium or `ip` will do.
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v nft >/dev/null 2>&1 || missing+=(nftables)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)   # s_server: the RSA DTLS peer of oxirtc-dtls's interop test
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

# The interop harness's JavaScript dependency. Never `npx playwright install`: it downloads a browser
# (which fails here); the harness uses Debian's /usr/bin/chromium.
interop_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/interop"
if [ -f "$interop_dir/package-lock.json" ]; then
  command -v npm >/dev/null 2>&1 || { echo "[install-test-deps] ERROR: npm is missing (needed for interop/)" >&2; exit 1; }
  # npm ci writes node_modules/.package-lock.json: older than the lock file means a stale install.
  stamp="$interop_dir/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$stamp" -ot "$interop_dir/package-lock.json" ]; then
    log "npm ci in interop/"
    (cd "$interop_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  log "cargo install cargo-fuzz"
  cargo install --locked -q cargo-fuzz
fi
log "ok"
