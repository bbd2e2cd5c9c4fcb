#!/usr/bin/env bash
# Installs what the test suite needs beyond Rust/gcc/Python/Node, only what is missing (idempotent):
#   apt:   coturn (a real STUN/TURN peer for interop tests)      -- needs root
#          chromium (only if /usr/bin/chromium is missing), iproute2 (if `ip` is missing): the browser
#          interop harness in interop/ (headless Chromium in a loopback-only network namespace)
#          openssl (if missing): `openssl s_server -dtls1_2`, an RSA-certificate DTLS server
#          nftables, iptables (if `nft` / `iptables` are missing): netlab/ (NAT types, loss, duplication,
#          cuts; iptables only for the NFQUEUE rule of the delay emulator), and `tc` from iproute2
#          ffmpeg (if `ffmpeg` or `ffprobe` is missing): oxirtc-media-file's tests decode the recordings it writes
#          golang-go, golang-github-pion-webrtc.v3-dev: Pion 3.1.56 for the peer interop cells, built offline
#          (GOPATH mode against Debian's /usr/share/gocode) into interop/.build/pion-peer
#          ffmpeg (if `ffmpeg` / `ffprobe` are missing): the Pion media cells send a VP8 IVF and an Opus Ogg
#          made by ffmpeg at test time and decode what comes back with ffprobe
#   npm:   `npm ci` in interop/ (playwright-core, werift, node-datachannel, pinned) if node_modules is missing
#          or older than the lock
#   pip:   aiortc and its dependencies (interop/peers/requirements.txt, pinned) into interop/.venv
#   cargo: cargo-fuzz (fuzz smoke runs)
set -euo pipefail
log() { echo "[install-test-deps] $*"; }

apt_pkgs=(coturn golang-go golang-github-pion-webrtc.v3-dev)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Checked by file, not by package: any working /usr/bin/chromium or `ip` will do.
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v nft >/dev/null 2>&1 || missing+=(nftables)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
# oxirtc-media-file's tests/ffmpeg.rs (run with OXIRTC_REQUIRE_FFMPEG=1, in scripts/test.sh) and
# the Pion media cells of peers_interop.rs.
{ command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; } || missing+=(ffmpeg)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)   # s_server: the RSA DTLS peer of oxirtc-dtls's interop test
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "[install-test-deps] ERROR: missing Debian packages (${missing[*]}); run as root or install them" >&2
    exit 1
  fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  aptlog=$(mktemp)
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$aptlog" 2>&1; then
    tail -20 "$aptlog" >&2; rm -f "$aptlog"
    echo "[install-test-deps] ERROR: apt-get install ${missing[*]} failed (output above)" >&2
    exit 1
  fi
  rm -f "$aptlog"
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
  # node-datachannel's native addon comes from an npm package of its own (@node-datachannel/<platform>).
  ls "$interop_dir"/node_modules/@node-datachannel/*/node_datachannel.node >/dev/null 2>&1 ||
    { echo "[install-test-deps] ERROR: node-datachannel's native addon is missing after npm ci in interop/" >&2; exit 1; }
fi

# aiortc (pinned with its dependencies, binary wheels from PyPI) in a venv of its own.
venv="$interop_dir/.venv"
want_aiortc=$(sed -n 's/^aiortc==//p' "$interop_dir/peers/requirements.txt")
have_aiortc=$("$venv/bin/python" -c 'import aiortc; print(aiortc.__version__)' 2>/dev/null || true)
if [ "$have_aiortc" != "$want_aiortc" ]; then
  log "python venv with aiortc $want_aiortc in interop/.venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" ||
    { echo "[install-test-deps] ERROR: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$interop_dir/peers/requirements.txt" ||
    { echo "[install-test-deps] ERROR: pip install -r interop/peers/requirements.txt failed" >&2; exit 1; }
  "$venv/bin/python" -c 'import aiortc' || { echo "[install-test-deps] ERROR: aiortc does not import" >&2; exit 1; }
fi

# The Pion peer: Debian's pion/webrtc v3 has no module proxy behind it here, so build in GOPATH mode
# against /usr/share/gocode (a go.mod beside the sources maps the .../webrtc/v3 imports onto Debian's
# unversioned directory). Rebuilt when a source is newer than the binary.
pion_bin="$interop_dir/.build/pion-peer"
stale=0
[ -x "$pion_bin" ] || stale=1
for f in "$interop_dir"/peers/pion-peer/*.go; do [ "$f" -nt "$pion_bin" ] && stale=1; done
if [ $stale = 1 ]; then
  log "go build interop/.build/pion-peer (Pion $(dpkg-query -W -f='${Version}' golang-github-pion-webrtc.v3-dev))"
  build="$interop_dir/.build"
  src="$build/gopath/src/pionpeer"
  rm -rf "$src" && mkdir -p "$src" && cp "$interop_dir"/peers/pion-peer/*.go "$src/"
  printf 'module pionpeer\n\ngo 1.19\n' >"$src/go.mod"
  (cd "$build" && GO111MODULE=off GOPATH="$build/gopath:/usr/share/gocode" GOCACHE="$build/gocache" GOFLAGS= \
    go build -ldflags "-X main.pionVersion=$(dpkg-query -W -f='${Version}' golang-github-pion-webrtc.v3-dev)" \
    -o "$pion_bin" ./gopath/src/pionpeer) ||
    { echo "[install-test-deps] ERROR: building the Pion peer failed (output above)" >&2; exit 1; }
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  log "cargo install cargo-fuzz"
  cargo install --locked -q cargo-fuzz
fi
log "ok"
