#!/usr/bin/env bash
# sim_lincheck.sh RC_SIM RC_LINCHECK [SEEDS]: key-value histories of simulated 3-node clusters
# with every fault class (partitions, leader isolation, crashes of the leader, drops, ...) must
# be linearizable, seed after seed (rc-sim --lincheck, in process); the planted stale read
# (GETs served from the asked node's map without a read index) must be caught; the same seeds
# with leader-lease reads (rc-sim --lease-reads: the drift bound derived from the tick-skew model)
# must be linearizable too; and a history written to a file must get the same verdicts from the
# rc-lincheck command line, and the same bytes when the seed runs again.
set -euo pipefail
rc_sim=$1
rc_lincheck=$2
seeds=${3:-1-300}
first=${seeds%-*}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "sim_lincheck: $*" >&2
	exit 1
}

# 1. Every seed's history is linearizable (exit 0: no violation, nothing undecided).
start_ns=$(date +%s%N)
if ! "$rc_sim" --nodes 3 --faults all --seeds "$seeds" --lincheck >"$tmp/sweep.txt"; then
	grep -v '^ ' "$tmp/sweep.txt" | tail -n 20 >&2
	fail "seeds $seeds: a history is not linearizable or a seed failed (above)"
fi
ms=$((($(date +%s%N) - start_ns) / 1000000))
kv_line=$(grep '^kv: ' "$tmp/sweep.txt")
ops=$(echo "$kv_line" | sed -E 's/^kv: ([0-9]+) operations.*/\1/')
grep -q "0 not linearizable" <<<"$kv_line" || fail "unexpected summary: $kv_line"
echo "$kv_line"

# 1b. The same seeds with leader-lease reads: linearizable, and the lease answers reads.
start_ns=$(date +%s%N)
if ! "$rc_sim" --nodes 3 --faults all --seeds "$seeds" --lincheck --lease-reads \
	>"$tmp/lease.txt"; then
	grep -v '^ ' "$tmp/lease.txt" | tail -n 20 >&2
	fail "seeds $seeds, lease reads: a history is not linearizable or a seed failed (above)"
fi
lease_ms=$((($(date +%s%N) - start_ns) / 1000000))
lease_line=$(grep '^kv: ' "$tmp/lease.txt")
grep -qE '[^0-9]0 not linearizable' <<<"$lease_line" || fail "unexpected lease summary: $lease_line"
echo "$lease_line"
lease_ops=$(echo "$lease_line" | sed -E 's/^kv: ([0-9]+) operations.*/\1/')
lease_drift=$(echo "$lease_line" | sed -nE 's/.*lease reads \(drift bound ([0-9]+) ticks.*/\1/p')
lease_reads=$(echo "$lease_line" |
	sed -nE 's/.*\): ([0-9]+ of [0-9]+) reads answered at once.*/\1/p')
[ -n "$lease_drift" ] && [ -n "$lease_reads" ] || fail "no lease figures in: $lease_line"
[ "${lease_reads%% *}" -gt 0 ] || fail "lease reads: no read was answered by a lease"

# 2. The planted stale read is caught.
if ! "$rc_sim" --nodes 3 --faults all --seeds "$seeds" --lincheck --stale-reads \
	--expect-violation >"$tmp/stale.txt"; then
	tail -n 3 "$tmp/stale.txt" >&2
	fail "the planted stale read was not caught in seeds $seeds"
fi
stale_line=$(grep -m1 -E '^seed [0-9]+: linearizability: ' "$tmp/stale.txt" || true)
[ -n "$stale_line" ] || fail "stale reads: no linearizability violation reported"
stale_seed=$(echo "$stale_line" | sed -E 's/^seed ([0-9]+): .*/\1/')

# 3. The history file of one seed: rc-lincheck accepts it, and it replays byte for byte.
"$rc_sim" --nodes 3 --faults all --seed "$first" --kv-history "$tmp/h.jsonl" >/dev/null
"$rc_sim" --nodes 3 --faults all --seed "$first" --kv-history "$tmp/h2.jsonl" >/dev/null
cmp -s "$tmp/h.jsonl" "$tmp/h2.jsonl" || fail "seed $first wrote two different histories"
if ! "$rc_lincheck" "$tmp/h.jsonl" >"$tmp/lc.txt"; then
	tail -n 20 "$tmp/lc.txt" >&2
	fail "rc-lincheck rejects the history of seed $first"
fi
lines=$(wc -l <"$tmp/h.jsonl")

# 4. The stale seed's history file: rc-lincheck rejects it too (exit 1, not 2).
"$rc_sim" --nodes 3 --faults all --seed "$stale_seed" --stale-reads \
	--kv-history "$tmp/stale.jsonl" >/dev/null
set +e
"$rc_lincheck" "$tmp/stale.jsonl" >"$tmp/lc_stale.txt"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "rc-lincheck exits $rc on the stale history of seed $stale_seed (want 1)"

printf 'sim_lincheck: seeds %s: %s operations checked in %d.%01d s, all linearizable; ' \
	"$seeds" "$ops" $((ms / 1000)) $((ms % 1000 / 100))
printf 'lease reads (drift %s ticks): %s operations, %s reads by lease, all linearizable ' \
	"$lease_drift" "$lease_ops" "$lease_reads"
printf 'in %d.%01d s; ' $((lease_ms / 1000)) $((lease_ms % 1000 / 100))
printf 'stale reads caught at seed %s; rc-lincheck: seed %s (%s lines) ok, ' \
	"$stale_seed" "$first" "$lines"
printf 'stale seed %s rejected\n' "$stale_seed"
