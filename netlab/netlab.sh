#!/usr/bin/env bash
# oxirtc netlab: a private host behind a NAT router and a public host, each in its own network
# namespace, with the NAT behaviours of RFC 4787 and link impairments. See netlab/README.md.
#
#   $P-priv  eth0 10.77.1.2/24 (default via .1)
#      |  veth
#   $P-nat   lan 10.77.1.1/24  |  wan 203.0.113.1/24      NAT, loss, dup, delay, rate, MTU, cut
#      |  veth
#   $P-pub   eth0 203.0.113.2/24 + 203.0.113.3/24          two addresses (RFC 5780 discovery)
#
# Nothing joins the root namespace: lab traffic cannot leave the machine, and the root namespace's
# routes, rules and sysctls are never touched.
set -euo pipefail

P="${NETLAB_PREFIX:-ox}"
LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PRIV_IP=10.77.1.2 LAN_IP=10.77.1.1 LAN_NET=10.77.1.0/24
WAN_IP=203.0.113.1 PUB_IP=203.0.113.2 PUB_IP2=203.0.113.3
QUEUE=77 # NFQUEUE number of the delayer (queues are per namespace)

usage() {
	cat <<'EOF'
usage: netlab.sh up [--nat none|fullcone|arc|prc|symmetric] [--loss PCT] [--dup PCT]
                    [--delay MS] [--jitter MS] [--keep-order] [--rate RATE] [--mtu BYTES]
                    [--udp-timeout SECS] [--seed N]
       netlab.sh down               stop what runs inside, delete the namespaces (idempotent)
       netlab.sh status             the running lab's settings, or "down" (exit 1)
       netlab.sh selftest           bring labs up and check every NAT type and impairment
       netlab.sh cut [up|down|both] drop forwarded packets: up = priv->pub, down = pub->priv
       netlab.sh restore            undo cut
       netlab.sh remap              the NAT forgets every mapping (conntrack flushed, as on a reboot)
       netlab.sh counters           JSON: forwarded UDP packets each way, and those cut
       netlab.sh nattype            JSON: the NAT type measured from the private host
       netlab.sh exec priv|nat|pub CMD [ARG...]
NAT types (RFC 4787 §4.1 mapping, §5 filtering):
  none       routed, the public host has a route back to the private network
  fullcone   endpoint-independent mapping and filtering
  arc        endpoint-independent mapping, address-dependent filtering
  prc        endpoint-independent mapping, address-and-port-dependent filtering (default)
  symmetric  address-and-port-dependent mapping (a new random port per destination)
Loss and duplication apply to each direction, delay is one-way (a round trip sees it twice).
Environment: NETLAB_PREFIX (default "ox", [a-z][a-z0-9]{0,5}) names the namespaces PREFIX-priv,
PREFIX-nat, PREFIX-pub, so several labs can run side by side.
EOF
}

fail() { echo "netlab: $*" >&2; exit 1; }
missing() { echo "netlab: missing: $*" >&2; exit 2; }

[[ "$P" =~ ^[a-z][a-z0-9]{0,5}$ ]] || fail "NETLAB_PREFIX must match [a-z][a-z0-9]{0,5}"
NS_PRIV="$P-priv" NS_NAT="$P-nat" NS_PUB="$P-pub"
STATE="/run/oxirtc-netlab/$P"

in_ns() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }
has_ns() { [ -e "/run/netns/$1" ]; }
require_root() { [ "$(id -u)" = 0 ] || fail "needs root (network namespaces)"; }
require_cmd() { command -v "$1" >/dev/null 2>&1 || missing "command $1 (scripts/install-test-deps.sh installs it)"; }

# A percentage as an integer out of 10000 (nft numgen), e.g. 1.5 -> 150.
per10k() {
	awk -v p="$1" 'BEGIN { if (p !~ /^[0-9]+(\.[0-9]+)?$/ || p > 100) exit 1; printf "%d", p * 100 + 0.5 }' ||
		fail "not a percentage: $1"
}
is_number() { [[ "$1" =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "not a number: $1"; }

# --- down ------------------------------------------------------------------------------------------

# Kills every process in the namespace (anything a test started there), politely first.
kill_inside() {
	local pids
	pids="$(ip netns pids "$1" 2>/dev/null | tr '\n' ' ')"
	[ -n "${pids// /}" ] || return 0
	kill $pids 2>/dev/null || true
	for _ in $(seq 20); do
		pids="$(ip netns pids "$1" 2>/dev/null | tr '\n' ' ')"
		[ -n "${pids// /}" ] || return 0
		sleep 0.1
	done
	kill -9 $pids 2>/dev/null || true
}

cmd_down() {
	require_root
	for ns in "$NS_PRIV" "$NS_PUB" "$NS_NAT"; do
		has_ns "$ns" || continue
		kill_inside "$ns"
		ip netns del "$ns"
	done
	rm -rf "$STATE"
}

# --- up --------------------------------------------------------------------------------------------

links() {
	ip netns add "$NS_PRIV"
	ip netns add "$NS_NAT"
	ip netns add "$NS_PUB"
	for ns in "$NS_PRIV" "$NS_NAT" "$NS_PUB"; do ip -n "$ns" link set lo up; done
	ip link add eth0 netns "$NS_PRIV" type veth peer name lan netns "$NS_NAT"
	ip link add wan netns "$NS_NAT" type veth peer name eth0 netns "$NS_PUB"
	ip -n "$NS_PRIV" addr add "$PRIV_IP/24" dev eth0
	ip -n "$NS_NAT" addr add "$LAN_IP/24" dev lan
	ip -n "$NS_NAT" addr add "$WAN_IP/24" dev wan
	ip -n "$NS_PUB" addr add "$PUB_IP/24" dev eth0
	ip -n "$NS_PUB" addr add "$PUB_IP2/24" dev eth0
	# the bottleneck link's MTU: both ends of the WAN veth
	if [ -n "$MTU" ]; then
		ip -n "$NS_NAT" link set wan mtu "$MTU"
		ip -n "$NS_PUB" link set eth0 mtu "$MTU"
	fi
	# One datagram per packet: without this, UDP GSO and TCP TSO hand the veths 64 KiB super-packets
	# that nft would count, drop, duplicate and delay as one (loss of 1 % would drop bursts).
	for dev in "$NS_PRIV:eth0" "$NS_NAT:lan" "$NS_NAT:wan" "$NS_PUB:eth0"; do
		ip -n "${dev%%:*}" link set dev "${dev#*:}" gso_max_segs 1
	done
	ip -n "$NS_PRIV" link set eth0 up
	ip -n "$NS_NAT" link set lan up
	ip -n "$NS_NAT" link set wan up
	ip -n "$NS_PUB" link set eth0 up
	ip -n "$NS_PRIV" route add default via "$LAN_IP"
	in_ns "$NS_NAT" sysctl -qw net.ipv4.ip_forward=1
	if [ "$NAT" = none ]; then ip -n "$NS_PUB" route add "$LAN_NET" via "$WAN_IP"; fi
	if [ -n "$UDP_TIMEOUT" ]; then
		# conntrack is per namespace: this is the NAT's UDP mapping lifetime (RFC 4787 REQ-5)
		in_ns "$NS_NAT" sysctl -qw net.netfilter.nf_conntrack_udp_timeout="$UDP_TIMEOUT" \
			net.netfilter.nf_conntrack_udp_timeout_stream="$UDP_TIMEOUT"
	fi
}

# The NAT of RFC 4787. Linux conntrack's `snat` keeps the source port when it is free and drops
# unsolicited inbound packets: endpoint-independent mapping with address-and-port-dependent
# filtering (prc). Looser filtering is added by DNAT-ing inbound packets that match a dynamic set
# learnt from outbound ones; `fully-random` gives a fresh random port per 5-tuple (symmetric).
nat_rules() {
	[ "$NAT" != none ] || return 0
	local ttl="${UDP_TIMEOUT:-120}" learn="" admit="" snat="snat ip to $WAN_IP"
	case "$NAT" in
	symmetric) snat="snat ip to $WAN_IP fully-random" ;;
	fullcone)
		learn="iifname \"lan\" meta l4proto udp update @open_ports { udp sport }"
		admit="iifname \"wan\" udp dport @open_ports dnat ip to $PRIV_IP"
		;;
	arc)
		learn="iifname \"lan\" meta l4proto udp update @open_peers { ip daddr . udp sport }"
		admit="iifname \"wan\" ip saddr . udp dport @open_peers dnat ip to $PRIV_IP"
		;;
	esac
	in_ns "$NS_NAT" nft -f - <<EOF
table ip oxnat {
  set open_ports { type inet_service; flags dynamic,timeout; timeout ${ttl}s; }
  set open_peers { type ipv4_addr . inet_service; flags dynamic,timeout; timeout ${ttl}s; }
  chain learn { type filter hook forward priority filter; ${learn:+$learn;} }
  chain admit { type nat hook prerouting priority dstnat; ${admit:+$admit;} }
  chain out   { type nat hook postrouting priority srcnat; oifname "wan" $snat; }
}
EOF
}

# Counting and cutting come first in the forward path (before the delayer's queue at -150), loss in
# the filter hook, duplication after source NAT so that copies carry the translated addresses.
impair_rules() {
	local loss dup
	loss="$(per10k "$LOSS")" dup="$(per10k "$DUP")"
	local lose="" copy=""
	if [ "$loss" != 0 ]; then
		lose="numgen random mod 10000 < $loss counter name \"lost\" drop"
	fi
	if [ "$dup" != 0 ]; then
		copy="oifname \"wan\" numgen random mod 10000 < $dup counter name \"copies\" dup to $PUB_IP device \"wan\";
    oifname \"lan\" numgen random mod 10000 < $dup counter name \"copies\" dup to $PRIV_IP device \"lan\";"
	fi
	in_ns "$NS_NAT" nft -f - <<EOF
table inet oxlab {
  counter up {}
  counter down {}
  counter cut {}
  counter lost {}
  chain gate { type filter hook forward priority -200;
    iifname "lan" meta l4proto udp counter name "up";
    iifname "wan" meta l4proto udp counter name "down";
  }
  chain cut { type filter hook forward priority -199; }
  chain lose { type filter hook forward priority 10; ${lose:+$lose;} }
}
table ip oxdup {
  counter copies {}
  chain copy { type filter hook postrouting priority 300; $copy }
}
EOF
}

rate_rules() {
	[ -n "$RATE" ] || return 0
	require_cmd tc
	for dev in lan wan; do
		in_ns "$NS_NAT" tc qdisc add dev "$dev" root tbf rate "$RATE" burst 32kbit latency 300ms ||
			missing "tc tbf (CONFIG_NET_SCH_TBF)"
	done
}

# This kernel has no sch_netem: delay and jitter come from our own NFQUEUE delayer.
delay_rules() {
	awk -v d="$DELAY" -v j="$JITTER" 'BEGIN { exit !(d > 0 || j > 0) }' || return 0
	require_cmd iptables
	require_cmd python3
	in_ns "$NS_NAT" iptables -t mangle -A FORWARD -j NFQUEUE --queue-num "$QUEUE" --queue-bypass ||
		missing "iptables NFQUEUE (CONFIG_NETFILTER_XT_TARGET_NFQUEUE)"
	local args=(--queue "$QUEUE" --delay "$DELAY" --jitter "$JITTER")
	[ "$KEEP_ORDER" = 1 ] && args+=(--keep-order)
	[ -n "$SEED" ] && args+=(--seed "$SEED")
	# setsid: the delayer outlives this script; `down` finds it among the nat namespace's pids
	in_ns "$NS_NAT" setsid python3 "$LIB/delayer.py" "${args[@]}" >"$STATE/delayer.log" 2>&1 </dev/null &
	for _ in $(seq 50); do
		grep -q '^ready' "$STATE/delayer.log" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$STATE/delayer.log" >&2
	missing "the NFQUEUE delayer did not start (CONFIG_NETFILTER_NETLINK_QUEUE)"
}

cmd_up() {
	require_root
	require_cmd ip
	require_cmd nft
	NAT=prc LOSS=0 DUP=0 DELAY=0 JITTER=0 KEEP_ORDER=0 RATE="" MTU="" UDP_TIMEOUT="" SEED=""
	while [ $# -gt 0 ]; do
		case "$1" in
		--nat) NAT="$2" ;;
		--loss) LOSS="$2" ;;
		--dup) DUP="$2" ;;
		--delay) DELAY="$2" ;;
		--jitter) JITTER="$2" ;;
		--rate) RATE="$2" ;;
		--mtu) MTU="$2" ;;
		--udp-timeout) UDP_TIMEOUT="$2" ;;
		--seed) SEED="$2" ;;
		--keep-order) KEEP_ORDER=1; shift; continue ;;
		-h | --help) usage; exit 0 ;;
		*) fail "unknown option $1 (see --help)" ;;
		esac
		[ $# -ge 2 ] || fail "$1 needs a value"
		shift 2
	done
	case "$NAT" in none | fullcone | arc | prc | symmetric) ;; *) fail "unknown NAT type $NAT" ;; esac
	per10k "$LOSS" >/dev/null
	per10k "$DUP" >/dev/null
	is_number "$DELAY"
	is_number "$JITTER"
	[ -z "$RATE" ] || [[ "$RATE" =~ ^[0-9]+(\.[0-9]+)?[kmgKMG]?(bit|bps)$ ]] || fail "not a rate: $RATE (e.g. 10mbit)"
	[ -z "$MTU" ] || [[ "$MTU" =~ ^[0-9]+$ ]] || fail "not an MTU: $MTU"
	[ -z "$UDP_TIMEOUT" ] || [[ "$UDP_TIMEOUT" =~ ^[0-9]+$ ]] || fail "not a timeout: $UDP_TIMEOUT"
	[ -z "$SEED" ] || [[ "$SEED" =~ ^[0-9]+$ ]] || fail "not a seed: $SEED"

	cmd_down # idempotent: always from a clean slate
	mkdir -p "$STATE"
	# any failure (a command, or `missing` exiting 2) tears down what was built
	trap 'rc=$?; if [ $rc != 0 ]; then echo "netlab: up failed; cleaning up" >&2; cmd_down; fi; exit $rc' EXIT
	trap 'exit 1' ERR
	links
	nat_rules
	impair_rules
	rate_rules
	delay_rules
	trap - ERR EXIT
	echo "nat=$NAT loss=$LOSS dup=$DUP delay=$DELAY jitter=$JITTER keep_order=$KEEP_ORDER" \
		"rate=${RATE:-none} mtu=${MTU:-1500} udp_timeout=${UDP_TIMEOUT:-default} seed=${SEED:-none}" \
		>"$STATE/config"
	cmd_status
}

# --- operations on a running lab ------------------------------------------------------------------

require_up() { has_ns "$NS_NAT" || fail "lab $P is down"; }

cmd_status() {
	if ! has_ns "$NS_NAT"; then
		echo "netlab $P: down"
		return 1
	fi
	echo "netlab $P: up: $(cat "$STATE/config" 2>/dev/null || echo '(no config)')"
	echo "  $NS_PRIV  $PRIV_IP (private host)    $NS_NAT  $LAN_IP | $WAN_IP    $NS_PUB  $PUB_IP $PUB_IP2"
}

cmd_cut() {
	require_root
	require_up
	local dir="${1:-both}" rules=""
	case "$dir" in
	up) rules="iifname \"lan\" counter name \"cut\" drop;" ;;
	down) rules="iifname \"wan\" counter name \"cut\" drop;" ;;
	both) rules="counter name \"cut\" drop;" ;;
	*) fail "cut takes up, down or both" ;;
	esac
	in_ns "$NS_NAT" nft -f - <<EOF
flush chain inet oxlab cut
table inet oxlab {
  chain cut {
    $rules
  }
}
EOF
}

cmd_restore() {
	require_root
	require_up
	in_ns "$NS_NAT" nft flush chain inet oxlab cut
}

cmd_remap() {
	require_root
	require_up
	in_ns "$NS_NAT" python3 "$LIB/probe.py" flush-conntrack
}

counter_packets() { # FAMILY TABLE NAME
	in_ns "$NS_NAT" nft list counter "$1" "$2" "$3" | awk '/packets/ { print $2; exit }'
}

cmd_counters() {
	require_root
	require_up
	printf '{"up":%s,"down":%s,"cut":%s,"lost":%s,"duplicated":%s}\n' "$(counter_packets inet oxlab up)" \
		"$(counter_packets inet oxlab down)" "$(counter_packets inet oxlab cut)" \
		"$(counter_packets inet oxlab lost)" "$(counter_packets ip oxdup copies)"
}

cmd_nattype() {
	require_root
	require_up
	require_cmd python3
	in_ns "$NS_PUB" python3 "$LIB/probe.py" serve "$PUB_IP" "$PUB_IP2" >"$STATE/probe.log" 2>&1 &
	local server=$!
	for _ in $(seq 30); do
		grep -q '^ready' "$STATE/probe.log" 2>/dev/null && break
		sleep 0.1
	done
	local rc=0
	in_ns "$NS_PRIV" python3 "$LIB/probe.py" nattype "$PUB_IP" "$PUB_IP2" || rc=$?
	kill "$server" 2>/dev/null || true
	wait "$server" 2>/dev/null || true
	return $rc
}

# UDP round trips from the private host (probe.py ping): JSON with sent/received/duplicates/rtt_ms.
probe_ping() {
	in_ns "$NS_PUB" python3 "$LIB/probe.py" serve "$PUB_IP" "$PUB_IP2" >"$STATE/probe.log" 2>&1 &
	local server=$!
	for _ in $(seq 30); do
		grep -q '^ready' "$STATE/probe.log" 2>/dev/null && break
		sleep 0.1
	done
	in_ns "$NS_PRIV" python3 "$LIB/probe.py" ping "$PUB_IP" "$@" || true
	kill "$server" 2>/dev/null || true
	wait "$server" 2>/dev/null || true
}

cmd_exec() {
	require_up
	local where="${1:-}"
	shift || true
	case "$where" in
	priv) in_ns "$NS_PRIV" "$@" ;;
	nat) in_ns "$NS_NAT" "$@" ;;
	pub) in_ns "$NS_PUB" "$@" ;;
	*) fail "exec needs priv, nat or pub" ;;
	esac
}

# --- selftest -------------------------------------------------------------------------------------

json_field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$1"; }

# probe_ping ... | expect 'PYTHON CONDITION ON r': exit status of the condition on the JSON result.
expect() { python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(not eval(sys.argv[1]))' "$1"; }

cmd_selftest() {
	require_root
	local passed=0 failed=0 got
	check() { # NAME STATUS DETAIL
		if [ "$2" = 0 ]; then
			passed=$((passed + 1)) && echo "PASS $1: $3"
		else
			failed=$((failed + 1)) && echo "FAIL $1: $3"
		fi
	}
	lab() { "$LIB/netlab.sh" "$@" >/dev/null; }
	local nat rc
	for nat in none fullcone arc prc symmetric; do
		got="(up failed)"
		lab up --nat "$nat" && got="$(cmd_nattype | json_field type)"
		[ "$got" = "$nat" ] && rc=0 || rc=1
		check "nat $nat" $rc "measured $got"
	done
	# name | up options | ping count, gap | condition on the result
	while IFS='|' read -r name opts pings cond; do
		got="(up failed)" rc=1
		# shellcheck disable=SC2086 # word splitting of the options is intended
		if lab up $opts; then
			got="$(probe_ping $pings)"
			echo "$got" | expect "$cond" && rc=0
		fi
		check "$name" $rc "$got"
	done <<'EOF'
loss 20% each way|--nat prc --loss 20|300 0.005|0.50 < r["received"] / r["sent"] < 0.78
dup 50% each way|--nat prc --dup 50|100 0.01|r["duplicates"] > 20
delay 30+-5 ms each way|--nat prc --delay 30 --jitter 5|20 0.05|r["received"] == 20 and 55 <= r["rtt_ms_median"] < 90
rate 2mbit|--nat prc --rate 2mbit|20 0.01|r["received"] == 20
mtu 1200|--nat symmetric --mtu 1200|20 0.01|r["received"] == 20
EOF
	got="(up failed)" rc=1
	if lab up --nat prc; then
		cmd_cut down
		got="$(probe_ping 20 0.01)"
		echo "$got" | expect 'r["received"] == 0' && rc=0
		got="$got $(cmd_counters)"
	fi
	check "cut down" $rc "$got"
	rc=1
	if has_ns "$NS_NAT"; then
		cmd_restore
		got="$(probe_ping 20 0.01)"
		echo "$got" | expect 'r["received"] == 20' && rc=0
	fi
	check "restore" $rc "$got"
	lab down
	has_ns "$NS_NAT" && rc=1 || rc=0
	check "down" $rc "namespaces of $P removed"
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}

case "${1:-}" in
up) shift; cmd_up "$@" ;;
down) cmd_down ;;
status) cmd_status ;;
cut) shift; cmd_cut "$@" ;;
restore) cmd_restore ;;
remap) cmd_remap ;;
counters) cmd_counters ;;
nattype) cmd_nattype ;;
exec) shift; cmd_exec "$@" ;;
selftest) cmd_selftest ;;
-h | --help | help) usage ;;
*) usage >&2; exit 1 ;;
esac
