#!/usr/bin/env bash
# coturn's turnserver and `oxirtc turn` side by side on loopback under the same load (issue 4
# "Benchmark"). Not a test: run it on an otherwise idle machine.
#   bench/turn/turn-bench.sh     env: MSGS=5000 CLIENTS=16 LEN=1000 ALLOCS=10000 THREADS=<cores>
#                                     RELAY_CLIENTS=16 RELAY_SECS=5 RELAY_WINDOW=8
#   smoke run of the script itself: PROFILE=dev MSGS=200 CLIENTS=2 ALLOCS=300 RELAY_SECS=1 bench/turn/turn-bench.sh
# Prints per server, and as the ratio oxirtc/coturn: relayed packets/s and MB/s (turnutils_uclient
# against a turnutils_peer echo), server CPU seconds per GB relayed, the same two under turn-load's
# relay mode, peak RSS per allocation at ALLOCS allocations and allocations per second (bench/turn's
# turn-load, our sans-IO client on many sockets).
# uclient paces itself (neither server nor uclient is CPU-bound during its run), so its packets/s
# measure uclient; `turn-load relay` keeps RELAY_WINDOW ChannelData messages in flight per
# allocation against an in-process echo peer and loads the server as far as the shared cores allow.
# "CPU us per relayed packet" under that load is the per-core efficiency figure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
MSGS=${MSGS:-5000}; CLIENTS=${CLIENTS:-16}; LEN=${LEN:-1000}; ALLOCS=${ALLOCS:-10000}
RELAY_CLIENTS=${RELAY_CLIENTS:-16}; RELAY_SECS=${RELAY_SECS:-5}; RELAY_WINDOW=${RELAY_WINDOW:-8}
THREADS=${THREADS:-$(nproc)}
USER_=bench; PASS=bench-pass; REALM=bench
for t in turnserver turnutils_uclient turnutils_peer python3; do
  command -v $t >/dev/null || { echo "$t missing: run scripts/install-test-deps.sh" >&2; exit 2; }
done
ulimit -n $((ALLOCS * 2 + 4096)) 2>/dev/null || { echo "cannot raise the fd limit to $((ALLOCS * 2 + 4096))" >&2; exit 2; }
TARGET=${CARGO_TARGET_DIR:-../../target}
PROFILE=${PROFILE:-release}   # PROFILE=dev for a quick smoke run of this script
cargo build --profile "$PROFILE" -q --manifest-path ../../Cargo.toml -p oxirtc-cli
cargo build --profile "$PROFILE" -q
DIR=$PROFILE; [ "$PROFILE" = dev ] && DIR=debug
OXIRTC=$TARGET/$DIR/oxirtc; LOAD=$TARGET/$DIR/turn-load
WORK=$(mktemp -d "${TMPDIR:-/tmp}/turn-bench.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
wait_stun() { for _ in $(seq 50); do timeout 1 turnutils_stunclient -p "$1" 127.0.0.1 >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }

start_server() {  # name port -> pid in SERVER_PID
  local name=$1 port=$2
  if [ "$name" = coturn ]; then
    turnserver -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port="$port" \
      --min-port=20000 --max-port=45000 --lt-cred-mech --user="$USER_:$PASS" --realm="$REALM" \
      --no-tls --no-dtls --allow-loopback-peers --no-cli --relay-threads="$THREADS" \
      --userdb="$WORK/turndb-$port" --pidfile="$WORK/pid-$port" --log-file=/dev/null >/dev/null 2>&1 &
  else
    "$OXIRTC" turn --listen "127.0.0.1:$port" --min-port 20000 --max-port 45000 --realm "$REALM" \
      --user "$USER_:$PASS" --allow-loopback-peers --threads "$THREADS" \
      --drain-timeout 1 >/dev/null 2>&1 &
  fi
  SERVER_PID=$!; PIDS+=("$SERVER_PID")
  wait_stun "$port" || { echo "$name did not start" >&2; exit 1; }
}

declare -A R
run_one() {  # name
  local name=$1 port peer
  port=$(free_port); peer=$(free_port)
  start_server "$name" "$port"; local pid=$SERVER_PID
  turnutils_peer -L 127.0.0.1 -p "$peer" >/dev/null 2>&1 & PIDS+=($!)
  sleep 0.3
  local c0 t0 t1 c1 out
  c0=$(cpu_ticks "$pid"); t0=$(date +%s.%N)
  out=$(turnutils_uclient -e 127.0.0.1 -r "$peer" -n "$MSGS" -m "$CLIENTS" -l "$LEN" -z 0 -c \
        -u "$USER_" -w "$PASS" -p "$port" 127.0.0.1 2>&1 | grep -E "tot_send_msgs|tot_send_bytes|Total lost" | tail -3)
  t1=$(date +%s.%N); c1=$(cpu_ticks "$pid")
  local msgs bytes
  msgs=$(grep -o "tot_send_msgs=[0-9]*, tot_recv_msgs=[0-9]*" <<<"$out" | tail -1 | grep -o "[0-9]*" | paste -sd+ | bc)
  bytes=$(grep -o "tot_send_bytes ~ [0-9]*, tot_recv_bytes ~ [0-9]*" <<<"$out" | tail -1 | grep -o "[0-9]*$\|~ [0-9]*" | grep -o "[0-9]*" | paste -sd+ | bc)
  local secs cpu
  secs=$(echo "$t1 - $t0" | bc -l); cpu=$(echo "($c1 - $c0) / $hz" | bc -l)
  R[$name,pps]=$(echo "$msgs / $secs" | bc -l)
  R[$name,mbps]=$(echo "$bytes / $secs / 1000000" | bc -l)
  R[$name,cpu_gb]=$(echo "$cpu / ($bytes / 1000000000)" | bc -l)
  R[$name,lost]=$(grep -o "Total lost packets [0-9]*" <<<"$out" | grep -o "[0-9]*$" || echo "?")
  # Relay throughput under our generator: the server's CPU is sampled over the blast only.
  "$LOAD" relay "127.0.0.1:$port" "$USER_" "$PASS" "$RELAY_CLIENTS" "$RELAY_SECS" "$LEN" "$RELAY_WINDOW" \
    >"$WORK/relay-$name" 2>&1 &
  local rp=$! rc0 rc1
  while ! grep -q BLASTING "$WORK/relay-$name" 2>/dev/null; do sleep 0.05; kill -0 $rp 2>/dev/null || break; done
  rc0=$(cpu_ticks "$pid")
  wait $rp || true
  rc1=$(cpu_ticks "$pid")
  local echoed relay_secs
  echoed=$(grep -o "echoed [0-9]*" "$WORK/relay-$name" | grep -o "[0-9]*" || echo 0)
  relay_secs=$(grep -o "in [0-9.]* s" "$WORK/relay-$name" | grep -o "[0-9.]*" || echo 1)
  R[$name,rpps]=$(echo "2 * $echoed / $relay_secs" | bc -l)
  R[$name,rmbps]=$(echo "2 * $echoed * $LEN / $relay_secs / 1000000" | bc -l)
  R[$name,rus_pkt]=$(echo "($rc1 - $rc0) / $hz * 1000000 / (2 * $echoed + 0.000001)" | bc -l)
  R[$name,rcpu_gb]=$(echo "($rc1 - $rc0) / $hz / (2 * $echoed * $LEN / 1000000000 + 0.000001)" | bc -l)
  # Allocation rate and memory.
  local rss0 line
  rss0=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
  "$LOAD" "127.0.0.1:$port" "$USER_" "$PASS" "$ALLOCS" 3 >"$WORK/load-$name" 2>&1 &
  local lp=$!
  while ! grep -q HOLDING "$WORK/load-$name" 2>/dev/null; do sleep 0.2; kill -0 $lp 2>/dev/null || break; done
  sleep 1
  local rss1; rss1=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
  wait $lp || true
  line=$(head -1 "$WORK/load-$name")
  local n; n=$(awk '{print $2}' <<<"$line")
  R[$name,aps]=$(grep -o "[0-9]* allocations/s" <<<"$line" | grep -o "^[0-9]*")
  R[$name,allocs]=$n
  R[$name,kb_alloc]=$(echo "($rss1 - $rss0) / ($n + 0.000001)" | bc -l)
  R[$name,peak]=$(awk '/VmHWM/{print $2}' "/proc/$pid/status")
  kill "$pid" 2>/dev/null || true
}

run_one coturn
run_one oxirtc
printf "%-28s %14s %14s %10s\n" metric coturn oxirtc ratio
row() { printf "%-28s %14.2f %14.2f %10.2f\n" "$1" "${R[coturn,$2]}" "${R[oxirtc,$2]}" "$(echo "${R[oxirtc,$2]} / (${R[coturn,$2]} + 0.000001)" | bc -l)"; }
row "relayed packets/s (uclient)" pps
row "relayed MB/s (uclient)" mbps
row "CPU s per GB (uclient)" cpu_gb
row "relay pkts/s (turn-load)" rpps
row "relay MB/s (turn-load)" rmbps
row "CPU s/GB (turn-load)" rcpu_gb
row "CPU us/packet (turn-load)" rus_pkt
row "RSS KiB per allocation" kb_alloc
row "allocations/s" aps
echo "lost packets: coturn ${R[coturn,lost]} oxirtc ${R[oxirtc,lost]}; allocations held: coturn ${R[coturn,allocs]} oxirtc ${R[oxirtc,allocs]} of $ALLOCS; peak RSS KiB coturn ${R[coturn,peak]} oxirtc ${R[oxirtc,peak]}; $THREADS threads"
echo "load: $(uptime)"
