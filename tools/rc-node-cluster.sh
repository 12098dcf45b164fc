#!/usr/bin/env bash
# rc-node-cluster.sh: a 3-process replicore cluster on this host over net_memif, one rc-node
# process per replica; runs the bench load on whichever node becomes leader and prints its figures.
#
# Topology: memif links are point to point, so every pair of nodes gets a link of its own (a unix
# socket in a private temporary directory) and every node one memif port per peer:
#   node 1 -- net_memif_1_2 -- node 2
#   node 1 -- net_memif_1_3 -- node 3
#   node 2 -- net_memif_2_3 -- node 3
# The lower id of a pair is the memif server. Each port carries its node's MAC (memif's mac=
# devarg), so no promiscuous mode is needed; the driver polls both ports of a node and sends to each
# peer on the port of that peer's link. Traffic never leaves this host (shared memory).
#
# Cores: three polling processes on a 2-core host cannot each own a core. The default lets each
# process's main lcore float over both cores (--lcores 0@(0-1), --cores "0-1,0-1,0-1") and has every
# process yield its core after 8 idle polls in a row (idle_yield_polls), so that the kernel runs
# whichever node has frames waiting; without the yield a follower waits whole scheduler slices for
# its turn (p99 in milliseconds). --cores "1,0,0" pins node 1 alone on core 1 and nodes 2 and 3 on
# core 0 (-l C); it measured the same commits/s here when node 1 led, with a longer p99.9 tail. With
# one core per node, give each its own (--cores "1,2,3") and --idle-yield 0 (pure polling).
# Every process runs with --no-huge --no-pci --no-shconf -m 256 and a --file-prefix of its own.
#
# Checks, any failure exits non-zero: all three processes start and stay up, a leader is elected and
# reports commits > 0, the three logs agree (same commit index and digest of the newest committed
# entries, through SIGUSR1), and every process exits 0 on SIGTERM (clients of a memif link stop
# before its server). Every process started is stopped on exit (trap), whatever happens.
#
# Key-value mode (--kv-load S): instead of the bench, every node serves the key-value client
# protocol on a UDP client port, and tools/rc-kv drives S seconds of closed-loop GETs (ReadIndex),
# PUTs and CASes from 4 clients, following the leader, recording a history; --kill-leader
# SIGKILLs the leader halfway through (the two others elect a new one and the load goes on).
# Then rc-lincheck must find the history linearizable, and the surviving logs must agree.
#
# usage: tools/rc-node-cluster.sh [--rc-node PATH] [--duration S] [--warmup S] [--inflight N]
#            [--payload B] [--cores C1,C2,C3] [--idle-yield N] [--json FILE] [--keep]
#            [--kv-load S [--kill-leader] [--rc-kv PATH] [--rc-lincheck PATH]]
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rc_node="$here/../build/tools/rc-node"
duration=5
warmup=1
inflight=256
payload=64
cores="0-1,0-1,0-1"
idle_yield=8
json=""
keep=0
nodes=3
kv_load=""
kill_leader=0
rc_kv="$here/../build/tools/rc-kv"
rc_lincheck="$here/../build/tools/rc-lincheck"

usage() {
	sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case "$1" in
	--rc-node) rc_node="$2"; shift 2 ;;
	--duration) duration="$2"; shift 2 ;;
	--warmup) warmup="$2"; shift 2 ;;
	--inflight) inflight="$2"; shift 2 ;;
	--payload) payload="$2"; shift 2 ;;
	--cores) cores="$2"; shift 2 ;;
	--idle-yield) idle_yield="$2"; shift 2 ;;
	--json) json="$2"; shift 2 ;;
	--keep) keep=1; shift ;;
	--kv-load) kv_load="$2"; shift 2 ;;
	--kill-leader) kill_leader=1; shift ;;
	--rc-kv) rc_kv="$2"; shift 2 ;;
	--rc-lincheck) rc_lincheck="$2"; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "rc-node-cluster: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done

if [ ! -x "$rc_node" ]; then
	echo "rc-node-cluster: no rc-node at $rc_node (build it: ninja -C build)" >&2
	exit 2
fi
IFS=, read -r -a core_of <<<"$cores"
if [ "${#core_of[@]}" -ne "$nodes" ]; then
	echo "rc-node-cluster: --cores wants $nodes comma-separated core ids, not '$cores'" >&2
	exit 2
fi

dir="$(mktemp -d /tmp/rc-node-cluster.XXXXXX)"
tag="rc-cluster-$$"
declare -a pids=()

# Stops every process still running: SIGTERM, up to 5 s, then SIGKILL. Removes the EAL runtime
# directories of our file prefixes and, unless --keep, the working directory.
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${pids[@]}"; do
		[ -z "$pid" ] && continue
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "rc-node-cluster: pid $pid ignored SIGTERM for 5 s: SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	done
	for id in $(seq "$nodes"); do
		rm -rf "/var/run/dpdk/$tag-$id" "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk/$tag-$id" \
			2>/dev/null
	done
	if [ "$keep" -eq 1 ]; then
		echo "rc-node-cluster: configs and logs kept in $dir"
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'echo "rc-node-cluster: interrupted" >&2; exit 130' INT TERM

fail() {
	echo "rc-node-cluster: FAILED: $*" >&2
	for id in $(seq "$nodes"); do
		if [ -f "$dir/node$id.log" ]; then
			echo "--- node $id log (last 25 lines) ---" >&2
			tail -n 25 "$dir/node$id.log" >&2
		fi
	done
	exit 1
}

# -l C pins the main lcore to core C; a range A-B lets it float there (--lcores 0@(A-B)).
lcore_arg() {
	case "$1" in
	*-*) echo "--lcores=0@($1)" ;;
	*) echo "-l $1" ;;
	esac
}

mac_of() { printf '02:00:00:00:00:%02x' "$1"; }

# Writes node id's config: the address table, one memif vdev and link per peer, the EAL arguments.
write_config() {
	local id=$1 peer a b role f="$dir/node$1.conf"
	{
		echo "# node $id of a $nodes-node memif cluster (written by rc-node-cluster.sh)"
		echo "cluster_id = 77"
		echo "node_id = $id"
		for peer in $(seq "$nodes"); do
			echo "peer = $peer $(mac_of "$peer") 10.77.0.$peer $((7400 + peer))"
		done
		for peer in $(seq "$nodes"); do
			[ "$peer" -eq "$id" ] && continue
			if [ "$id" -lt "$peer" ]; then a=$id b=$peer role=server; else a=$peer b=$id role=client; fi
			echo "vdev = net_memif_${a}_${b},role=$role,id=0,socket=$dir/memif-$a-$b.sock,socket-abstract=no,mac=$(mac_of "$id")"
			echo "link = $peer net_memif_${a}_${b}"
		done
		echo "frame_bytes = 1500"
		echo "payload_bytes = $payload"
		echo "tick_us = 1000"
		echo "link_wait_ms = 10000"
		echo "idle_yield_polls = $idle_yield"
		[ -n "$kv_load" ] && echo "client_port = $((client_base + id))"
		echo "eal = $(lcore_arg "${core_of[$((id - 1))]}") --no-huge --no-pci --no-shconf -m 256 --file-prefix=$tag-$id --log-level=lib.eal:error"
	} >"$f"
}

client_base=$((20000 + ($$ % 2000) * 8))
declare -a dead=()
for id in $(seq "$nodes"); do
	write_config "$id"
done

bench_args=(--bench-inflight "$inflight" --bench-duration "$duration" --bench-warmup "$warmup"
	--json "$dir/bench.json")
if [ -n "$kv_load" ]; then
	bench_args=()
	[ -x "$rc_kv" ] || { echo "rc-node-cluster: no rc-kv at $rc_kv" >&2; exit 2; }
	[ -x "$rc_lincheck" ] || { echo "rc-node-cluster: no rc-lincheck at $rc_lincheck" >&2; exit 2; }
fi
echo "rc-node-cluster: $nodes rc-node processes over net_memif, cores $cores, idle_yield_polls $idle_yield"
# A memif client does not retry a server socket that is not there yet, so the nodes start in id
# order, each once the server sockets of the nodes before it exist (the EAL creates them at probe).
for id in $(seq "$nodes"); do
	"$rc_node" --config "$dir/node$id.conf" "${bench_args[@]}" >"$dir/node$id.log" 2>&1 &
	pids[$id]=$!
	for peer in $(seq $((id + 1)) "$nodes"); do
		for _ in $(seq 100); do
			[ -S "$dir/memif-$id-$peer.sock" ] && break
			kill -0 "${pids[$id]}" 2>/dev/null || fail "node $id exited during start-up"
			sleep 0.1
		done
		[ -S "$dir/memif-$id-$peer.sock" ] || fail "node $id made no memif socket for node $peer in 10 s"
	done
done

# The node that said last that it is leader (its log's latest leadership line), or nothing.
current_leader() {
	local id line best="" best_term=-1 term
	for id in $(seq "$nodes"); do
		[ -n "${dead[$id]:-}" ] && continue
		line=$(grep -E '^rc-node: node [0-9]+ (is leader|is no longer leader)' "$dir/node$id.log" | tail -n 1)
		case "$line" in
		*"is leader"*)
			term=$(sed -n 's/.*(term \([0-9]*\)).*/\1/p' <<<"$line")
			if [ "$term" -gt "$best_term" ]; then best=$id best_term=$term; fi ;;
		esac
	done
	echo "$best"
}

leader=""
if [ -n "$kv_load" ]; then
	for _ in $(seq 100); do
		[ -n "$(current_leader)" ] && break
		sleep 0.1
	done
	[ -n "$(current_leader)" ] || fail "no leader within 10 s"
	addrs=$(for id in $(seq "$nodes"); do printf '127.0.0.1:%d,' $((client_base + id)); done)
	"$rc_kv" --nodes "${addrs%,}" --cluster 77 --timeout-ms 500 load --clients 4 --keys 4 \
		--duration "$kv_load" --history "$dir/history.jsonl" >"$dir/rc-kv.log" 2>&1 &
	kv_pid=$!
	if [ "$kill_leader" -eq 1 ]; then
		sleep "$(awk -v s="$kv_load" 'BEGIN { print s / 2 }')"
		victim=$(current_leader)
		[ -n "$victim" ] || fail "no leader to kill halfway through the load"
		echo "rc-node-cluster: SIGKILL to the leader, node $victim"
		kill -KILL "${pids[$victim]}"
		wait "${pids[$victim]}" 2>/dev/null
		pids[$victim]=""
		dead[$victim]=1
	fi
	wait "$kv_pid" || { cat "$dir/rc-kv.log" >&2; fail "rc-kv load failed"; }
	cat "$dir/rc-kv.log"
	"$rc_lincheck" "$dir/history.jsonl" >"$dir/lincheck.log" 2>&1
	lc=$?
	cat "$dir/lincheck.log"
	[ "$lc" -eq 0 ] || fail "the history is not linearizable (rc-lincheck exit $lc)"
	leader=$(current_leader)
	[ -n "$leader" ] || fail "no leader after the load"
fi

# Waits until some log says the bench is done; fails when a process exits or time runs out.
deadline=$((SECONDS + 30 + ${warmup%.*} + ${duration%.*}))
[ -n "$kv_load" ] && deadline=$((SECONDS + 30))
while [ -z "$leader" ]; do
	for id in $(seq "$nodes"); do
		if grep -q '^rc-node: bench done' "$dir/node$id.log" 2>/dev/null; then
			leader=$id
			break
		fi
		if ! kill -0 "${pids[$id]}" 2>/dev/null; then
			wait "${pids[$id]}"
			rc=$?
			pids[$id]=""
			fail "node $id exited early (status $rc)"
		fi
	done
	[ -n "$leader" ] && break
	[ "$SECONDS" -ge "$deadline" ] && fail "no bench result within $((deadline - SECONDS + 0)) s of the deadline (no leader elected, or links down)"
	sleep 0.2
done

# The logs must agree: same commit index and digest on every node (the load has stopped).
agree=0
for _ in 1 2 3; do
	sleep 0.5
	declare -A seen=()
	for id in $(seq "$nodes"); do
		[ -n "${dead[$id]:-}" ] && continue
		seen[$id]=$(grep -c '^rc-node: state' "$dir/node$id.log")
		kill -USR1 "${pids[$id]}"
	done
	for id in $(seq "$nodes"); do
		[ -n "${dead[$id]:-}" ] && continue
		for _ in $(seq 30); do
			[ "$(grep -c '^rc-node: state' "$dir/node$id.log")" -gt "${seen[$id]}" ] && break
			sleep 0.1
		done
	done
	states=$(for id in $(seq "$nodes"); do
		[ -n "${dead[$id]:-}" ] && continue
		grep '^rc-node: state' "$dir/node$id.log" | tail -n 1 | awk '{print $10, $12}'
	done | sort -u)
	if [ "$(printf '%s\n' "$states" | wc -l)" -eq 1 ] && [ -n "$states" ]; then
		agree=1
		break
	fi
done
for id in $(seq "$nodes"); do
	grep '^rc-node: state' "$dir/node$id.log" | tail -n 1
done
[ "$agree" -eq 1 ] || fail "the nodes' logs disagree (commit index and digest above)"

# Stops the nodes, clients of each memif link before its server: node 3, then 2, then 1.
for id in $(seq "$nodes" -1 1); do
	[ -n "${dead[$id]:-}" ] && continue
	kill -TERM "${pids[$id]}"
	rc=""
	for _ in $(seq 100); do
		if ! kill -0 "${pids[$id]}" 2>/dev/null; then
			wait "${pids[$id]}"
			rc=$?
			break
		fi
		sleep 0.1
	done
	[ -n "$rc" ] || fail "node $id did not stop within 10 s of SIGTERM"
	pids[$id]=""
	[ "$rc" -eq 0 ] || fail "node $id exited with status $rc"
done

if [ -n "$kv_load" ]; then
	killed=""
	[ "$kill_leader" -eq 1 ] && killed=", leader node $victim killed halfway"
	echo "rc-node-cluster: OK (key-value load of $kv_load s$killed; history linearizable; the surviving logs agree)"
	exit 0
fi
echo "rc-node-cluster: leader node $leader; its figures:"
sed -n '/^rc-node: node [0-9]* of [0-9]* over/,/^rc-node: bench done/p' "$dir/node$leader.log"
commits=$(sed -n 's/^  commits\/s *[0-9.]* *(\([0-9]*\) commits.*/\1/p' "$dir/node$leader.log" | head -n 1)
[ -n "$commits" ] && [ "$commits" -gt 0 ] || fail "the leader reported no commits"
if [ -n "$json" ]; then
	cp "$dir/bench.json" "$json" || fail "cannot copy the JSON report to $json"
fi
for id in $(seq "$nodes"); do
	grep -q '^  dropped  0 ' "$dir/node$id.log" ||
		echo "rc-node-cluster: note: node $id dropped frames: $(grep '^  dropped' "$dir/node$id.log")"
	# memif's probe complains about its multi-process hook under --no-shconf: harmless here.
	if grep -v -e '^  ' -e 'Failed to register mp action callback' "$dir/node$id.log" |
		grep -q -i -e 'error' -e 'fail'; then
		echo "rc-node-cluster: note: node $id logged errors:"
		grep -v -e '^  ' -e 'Failed to register mp action callback' "$dir/node$id.log" |
			grep -i -e 'error' -e 'fail' | sed 's/^/    /'
	fi
done
echo "rc-node-cluster: OK ($commits commits, logs agree, all $nodes processes exited 0)"
