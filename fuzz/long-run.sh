#!/usr/bin/env bash
# The long fuzzing run of issue 7 §4: every target (or the ones named) for MINUTES minutes each,
# PARALLEL targets at a time, with libFuzzer's memory limits (a single allocation over 256 MB or an
# RSS over 2 GB is reported as a crash) and a 10 s per-input timeout (a hang is a crash too).
#   fuzz/long-run.sh                       # all targets, 10 minutes each, 1 at a time
#   MINUTES=1 PARALLEL=2 fuzz/long-run.sh sdp stun
# Prints one line per target (executions, corpus size, result) and exits non-zero if any target
# found a crash, a hang or an out-of-memory input; the input is kept in fuzz/artifacts/<target>/.
# A found input becomes a regression test: copy it into fuzz/corpus/<target>/ (the smoke pass of
# scripts/test.sh replays the corpus) and add a unit test beside the code that was fixed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
MINUTES=${MINUTES:-10}
PARALLEL=${PARALLEL:-1}
LOGS=${LOGS:-target/long-run}
mkdir -p "$LOGS"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && mapfile -t targets < <(cargo fuzz list)
cargo fuzz build -s none -O "${targets[@]}" >/dev/null 2>&1 || cargo fuzz build -s none -O

run_one() {
  local t=$1 log="$LOGS/$1.log"
  mkdir -p "corpus/$t" "artifacts/$t"
  local before; before=$(find "artifacts/$t" -type f | wc -l)
  cargo fuzz run -s none -O "$t" "corpus/$t" -- -max_total_time=$((MINUTES * 60)) \
    -rss_limit_mb=2048 -malloc_limit_mb=256 -timeout=10 -print_final_stats=1 >"$log" 2>&1
  local rc=$? after; after=$(find "artifacts/$t" -type f | wc -l)
  local execs; execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  local corpus; corpus=$(find "corpus/$t" -type f | wc -l)
  if [ "$rc" -eq 0 ] && [ "$after" -eq "$before" ]; then
    printf '%-16s ok     %12s execs in %d min, corpus %d\n' "$t" "${execs:-?}" "$MINUTES" "$corpus"
  else
    printf '%-16s FAILED (exit %d; see %s and artifacts/%s)\n' "$t" "$rc" "$log" "$t"
    return 1
  fi
}

status=0
running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$PARALLEL" ]; then
    wait -n || status=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || status=1
  running=$((running - 1))
done
exit $status
