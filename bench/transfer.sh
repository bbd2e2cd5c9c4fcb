#!/usr/bin/env bash
# The file-transfer figures of issue 6 ("Speed") and issue 17 §4, for one file size, on loopback:
#   the raw Chromium data channel between two pages (no page code: same message size and send-queue
#   bounds as the page, no hashing, no disk; the ceiling of the next figure, goal >= 0.9x of it),
#   browser -> browser, CLI -> browser, browser -> CLI  (headless Chromium pages of `oxirtc serve`'s web
#   UI driven by interop/serve-ui.mjs --bench, in its loopback-only network namespace), and
#   CLI -> CLI (`oxirtc send` -> `oxirtc recv`, timed two ways: by the harness from starting `send` to
#   `recv` printing `received`, set-up included; and "direct", the rate `recv` prints itself, first byte
#   to verified file), then the ratios against browser -> browser.
#
#   bench/transfer.sh [--mib 256] [--runs 1] [--no-build]
#
# Needs Chromium and interop/node_modules (scripts/install-test-deps.sh) and root (network namespace).
# Builds the release `oxirtc` (target dir: $CARGO_TARGET_DIR or target/). On a shared machine run it under
# the bench lock: `flock /work/helper-notes/bench.lock bench/transfer.sh`. Prints one line per run and a
# final JSON line `{"figure":"transfer","mib":..,"runs":[...],"median":{...}}`.
set -euo pipefail

MIB=256
RUNS=1
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --mib) MIB="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    *) echo "usage: bench/transfer.sh [--mib N] [--runs N] [--no-build]" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
if [ "$BUILD" = 1 ]; then
  (cd "$ROOT" && cargo build --release -p oxirtc-cli >&2)
fi
BIN="$TARGET/release/oxirtc"
[ -x "$BIN" ] || { echo "no $BIN (build it or drop --no-build)" >&2; exit 2; }

OUT="$(mktemp -d "${TMPDIR:-/tmp}/oxirtc-transfer-bench.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT
echo "load: $(uptime | sed 's/.*load average: //')  (2 cores shared? figures move by tens of percent)" >&2

RESULTS=()
for run in $(seq "$RUNS"); do
  JSON="$OUT/run-$run.json"
  (cd "$ROOT/interop" && node serve-ui.mjs --oxirtc "$BIN" --out "$OUT/ui" --bench \
      --mib "$MIB" --cli-mib "$MIB" --cli-to-cli) > "$JSON" || {
    echo "run $run: the harness failed:" >&2; cat "$JSON" >&2; exit 1; }
  LINE="$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const i = r.info, m = /, ([0-9.]+) MB\/s/.exec(i.cliToCliRecvLine || "");
    const f = { rawChannel: i.rawChannelMBps, browserToBrowser: i.browserToBrowserMBps, cliToBrowser: i.cliToBrowserMBps,
      browserToCli: i.browserToCliMBps, cliToCli: i.cliToCliMBps, cliToCliDirect: m ? Number(m[1]) : null };
    console.log(JSON.stringify(f));' "$JSON")"
  RESULTS+=("$LINE")
  echo "run $run: $LINE" >&2
done

MIB="$MIB" node -e '
  const runs = process.argv.slice(1).map((l) => JSON.parse(l));
  const med = (k) => { const v = runs.map((r) => r[k]).sort((a, b) => a - b); return v[(v.length - 1) >> 1]; };
  const m = {}; for (const k of Object.keys(runs[0])) m[k] = med(k);
  const bb = m.browserToBrowser, f = (x) => x.toFixed(1).padStart(7);
  const row = (name, k, goal) => console.log(`${name.padEnd(34)}${f(m[k])} MB/s ${k === "browserToBrowser" || k === "rawChannel" ? "" : `${(m[k] / bb).toFixed(2).padStart(6)}x b<->b  ${goal}`}`);
  console.log(`median of ${runs.length} run(s), ${process.env.MIB} MiB, MB/s = 10^6 bytes/s`);
  row("raw data channel (page to page)", "rawChannel", "");
  console.log(`${"browser -> browser (the web UI)".padEnd(34)}${f(bb)} MB/s ${(bb / m.rawChannel).toFixed(2).padStart(6)}x raw    (goal >= 0.90x)`);
  row("CLI -> browser", "cliToBrowser", "(goal >= 0.90x)");
  row("browser -> CLI", "browserToCli", "(goal >= 0.90x)");
  row("CLI -> CLI (start-up included)", "cliToCli", "(goal >= 10x)");
  row("CLI -> CLI (recv first byte->done)", "cliToCliDirect", "(goal >= 10x)");
  console.log(JSON.stringify({ figure: "transfer", mib: Number(process.env.MIB), runs, median: m }));
' "${RESULTS[@]}"
