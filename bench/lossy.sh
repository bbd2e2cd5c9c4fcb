#!/usr/bin/env bash
# The lossy-path figure (issue 5): goodput of a reliable ordered oxirtc data channel against TCP on the
# same emulated path, in netlab (netlab/README.md): no NAT, 40 ms delay and 1 % loss each way.
#
#   sudo bench/lossy.sh [--mib N] [--runs R] [--delay MS] [--jitter MS] [--loss PCT]
#                       [--tcp-cc "default cubic"] [--bin PATH]
#
# Each run moves the same N MiB private -> public: `oxirtc send` (priv) to `oxirtc recv` (pub) through
# `oxirtc serve` (pub), then one TCP connection per congestion control in --tcp-cc ("default" = the
# namespace's net.ipv4.tcp_congestion_control, BBR on some boxes; "cubic" = Linux's loss-based default,
# RFC 9438), alternating. --jitter adds ±MS uniform jitter each way (packets reorder when it exceeds
# their spacing). Every transfer is checked by SHA-256.
# Prints min/median/max per contender, the ratio of the medians against each and one JSON line:
#   {"figure":"lossy_goodput_mbps","oxirtc":..,"tcp":..,"tcp_cc":"..","ratio":..,
#    "tcp_cubic":..,"ratio_cubic":..,...}   (MB/s, 10^6 bytes)
# Needs root; builds the release binary unless --bin is given (CARGO_TARGET_DIR is honoured).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MIB=16 RUNS=3 DELAY=40 JITTER=0 LOSS=1 TCP_CCS="default cubic" BIN=""
while [ $# -gt 0 ]; do
	case "$1" in
	--mib) MIB="$2" ;;
	--runs) RUNS="$2" ;;
	--delay) DELAY="$2" ;;
	--jitter) JITTER="$2" ;;
	--loss) LOSS="$2" ;;
	--tcp-cc) TCP_CCS="$2" ;;
	--bin) BIN="$2" ;;
	-h | --help) sed -n '2,17p' "$0"; exit 0 ;;
	*) echo "lossy.sh: unknown option $1" >&2; exit 1 ;;
	esac
	shift 2
done
[ "$(id -u)" = 0 ] || { echo "lossy.sh: needs root (network namespaces)" >&2; exit 1; }
if [ -z "$BIN" ]; then
	(cd "$ROOT" && cargo build --release --locked -q -p oxirtc-cli)
	BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/oxirtc"
fi

export NETLAB_PREFIX="${NETLAB_PREFIX:-lossy}"
LAB="$ROOT/netlab/netlab.sh"
WORK="$(mktemp -d /tmp/oxirtc-lossy.XXXXXX)"
cleanup() { "$LAB" down >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
PUB=203.0.113.2

"$LAB" up --nat none --delay "$DELAY" --jitter "$JITTER" --loss "$LOSS" >/dev/null
BYTES=$((MIB << 20))
head -c "$BYTES" /dev/urandom >"$WORK/lossy.bin"
WANT="$(sha256sum "$WORK/lossy.bin" | cut -d' ' -f1)"
mkdir -p "$WORK/in"

"$LAB" exec pub "$BIN" serve --listen "$PUB:8080" --no-turn --drain-timeout 1 >"$WORK/serve.log" 2>&1 &
for _ in $(seq 50); do grep -qs http "$WORK/serve.log" && break; sleep 0.1; done

# One oxirtc transfer; prints its goodput in MB/s (from `oxirtc send`'s own timing: first chunk to
# the receiver's `done`, so connection set-up is not counted, as for TCP).
oxirtc_run() {
	rm -f "$WORK/in/"*
	"$LAB" exec priv "$BIN" send "$WORK/lossy.bin" --server "http://$PUB:8080" >"$WORK/send.out" 2>"$WORK/send.err" &
	local sender=$! code=""
	for _ in $(seq 100); do
		code="$(sed -n 's/^code: //p' "$WORK/send.out")"
		[ -n "$code" ] && break
		sleep 0.1
	done
	[ -n "$code" ] || { cat "$WORK/send.err" >&2; echo "lossy.sh: oxirtc send printed no code" >&2; return 1; }
	"$LAB" exec pub "$BIN" recv "$code" --server "http://$PUB:8080" --dir "$WORK/in" --force \
		>"$WORK/recv.out" 2>"$WORK/recv.err" || { cat "$WORK/recv.err" >&2; return 1; }
	wait "$sender" || { cat "$WORK/send.err" >&2; return 1; }
	[ "$(sha256sum "$WORK/in/lossy.bin" | cut -d' ' -f1)" = "$WANT" ] ||
		{ echo "lossy.sh: oxirtc: received file differs" >&2; return 1; }
	sed -n 's/^sent .* in \([0-9.]*\) s, .*/\1/p' "$WORK/send.out" | awk -v b="$BYTES" '{ printf "%.3f\n", b / $1 / 1e6 }'
}

# One TCP transfer with congestion control $1 ("default" or a name); prints MB/s (JSON goes to the log).
tcp_run() {
	local cc="$1"
	[ "$cc" = default ] && cc=""
	rm -f "$WORK/tcp-recv.out" # a stale "ready" from the previous run must not be read as this one's
	"$LAB" exec pub python3 "$ROOT/bench/lossy_tcp.py" recv "$PUB" 5201 >"$WORK/tcp-recv.out" 2>&1 &
	local receiver=$!
	for _ in $(seq 50); do grep -qs ready "$WORK/tcp-recv.out" && break; sleep 0.1; done
	"$LAB" exec priv python3 "$ROOT/bench/lossy_tcp.py" send "$PUB" 5201 "$BYTES" $cc >"$WORK/tcp.json"
	wait "$receiver"
	cat "$WORK/tcp.json" >>"$WORK/tcp.log"
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mb_per_s"])' "$WORK/tcp.json"
}

stats() { # min median max of the numbers on stdin
	sort -g | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
		printf "%.3f %.3f %.3f\n", v[1], m, v[NR] }'
}

echo "path: netlab --nat none --delay $DELAY --jitter $JITTER --loss $LOSS (each way), $MIB MiB private -> public, $RUNS runs"
echo "machine: $(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
DEFAULT_CC="$("$LAB" exec priv sysctl -n net.ipv4.tcp_congestion_control)"
: >"$WORK/oxirtc.txt"
for cc in $TCP_CCS; do : >"$WORK/tcp-$cc.txt"; done
for run in $(seq "$RUNS"); do
	ox="$(oxirtc_run)"
	echo "$ox" >>"$WORK/oxirtc.txt"
	line="run $run: oxirtc $ox MB/s"
	for cc in $TCP_CCS; do
		t="$(tcp_run "$cc")"
		echo "$t" >>"$WORK/tcp-$cc.txt"
		line="$line, tcp-$cc $t MB/s"
	done
	echo "$line"
done

read -r omin omed omax < <(stats <"$WORK/oxirtc.txt")
printf '%-28s %8s %8s %8s\n' "goodput MB/s" min median max
printf '%-28s %8s %8s %8s\n' oxirtc "$omin" "$omed" "$omax"
json="{\"figure\":\"lossy_goodput_mbps\",\"oxirtc\":$omed"
first=1
for cc in $TCP_CCS; do
	read -r tmin tmed tmax < <(stats <"$WORK/tcp-$cc.txt")
	name="$cc"
	[ "$cc" = default ] && name="$DEFAULT_CC"
	printf '%-28s %8s %8s %8s   oxirtc/tcp %s\n' "tcp ($name)" "$tmin" "$tmed" "$tmax" \
		"$(awk -v a="$omed" -v b="$tmed" 'BEGIN { printf "%.2f", a / b }')"
	if [ $first = 1 ]; then
		json="$json,\"tcp\":$tmed,\"tcp_cc\":\"$name\",\"ratio\":$(awk -v a="$omed" -v b="$tmed" 'BEGIN { printf "%.3f", a / b }')"
		first=0
	else
		json="$json,\"tcp_$name\":$tmed,\"ratio_$name\":$(awk -v a="$omed" -v b="$tmed" 'BEGIN { printf "%.3f", a / b }')"
	fi
done
echo "$json,\"mib\":$MIB,\"runs\":$RUNS,\"delay_ms\":$DELAY,\"jitter_ms\":$JITTER,\"loss_pct\":$LOSS}"
