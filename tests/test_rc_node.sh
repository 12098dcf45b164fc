#!/usr/bin/env bash
# rc-node, one replica per process: a bad config line is refused naming FILE:LINE (exit 2), so are
# DPDK lines with transport = udp and snapshot_entries without wal_dir; then
# tools/rc-node-cluster.sh runs a 3-process cluster over net_memif for a short bench and must exit 0
# with commits > 0 in its report and in the JSON, the logs of the three nodes agreeing, and no
# process of the run left behind.
#
# usage: test_rc_node.sh RC_NODE CLUSTER_SCRIPT
set -uo pipefail

rc_node=$1
cluster=$2
work="$(mktemp -d /tmp/rc-node-test.XXXXXX)"
trap 'rm -rf "$work"' EXIT

fail() {
	echo "test_rc_node: FAILED: $*" >&2
	exit 1
}

# 1. A bad line: the error names the file and line, the exit status is 2 (no EAL is started).
cat >"$work/bad.conf" <<'EOF'
node_id = 1
peer = 1 02:00:00:00:00:01 10.0.0.1 7401
peer = 2 02:00:00:00:00:zz 10.0.0.2 7402
EOF
"$rc_node" --config "$work/bad.conf" >"$work/bad.out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "bad config: exit status $rc, wanted 2"
grep -q "$work/bad.conf:3: peer 2: '02:00:00:00:00:zz' is not a MAC address" "$work/bad.out" ||
	fail "bad config: no FILE:LINE error: $(cat "$work/bad.out")"

# 1b. Lines the chosen transport or storage cannot use are refused the same way, before any
# transport or log is opened; --help documents the write-ahead log.
cat >"$work/udp-vdev.conf" <<'EOF'
node_id = 1
transport = udp
peer = 1 - 127.0.0.1 7401
vdev = net_memif_1_2,role=server
EOF
"$rc_node" --config "$work/udp-vdev.conf" >"$work/udp-vdev.out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "vdev with transport udp: exit status $rc, wanted 2"
grep -q "$work/udp-vdev.conf:4: vdev: only with transport = dpdk" "$work/udp-vdev.out" ||
	fail "vdev with transport udp: no FILE:LINE error: $(cat "$work/udp-vdev.out")"
cat >"$work/snap.conf" <<'EOF'
node_id = 1
transport = udp
peer = 1 - 127.0.0.1 7401
snapshot_entries = 1000
EOF
"$rc_node" --config "$work/snap.conf" >"$work/snap.out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "snapshot_entries without wal_dir: exit status $rc, wanted 2"
grep -q "$work/snap.conf:4: snapshot_entries needs a write-ahead log" "$work/snap.out" ||
	fail "snapshot_entries without wal_dir: no FILE:LINE error: $(cat "$work/snap.out")"
"$rc_node" --help | grep -q "wal_dir = DIR" || fail "--help does not document wal_dir"

# 2. The cluster: 3 processes, a short bench on the leader.
timeout 90 bash "$cluster" --rc-node "$rc_node" --duration 2 --warmup 0.5 --json "$work/bench.json" \
	--keep >"$work/cluster.out" 2>&1
rc=$?
cat "$work/cluster.out"
dir=$(sed -n 's/^rc-node-cluster: configs and logs kept in //p' "$work/cluster.out")
if [ -n "$dir" ]; then
	# Every process of the run had its config under $dir: none may be left.
	if pgrep -f "$dir/node" >/dev/null; then
		pgrep -af "$dir/node" >&2
		fail "rc-node processes of the run are still running"
	fi
	rm -rf "$dir"
fi
[ "$rc" -eq 0 ] || fail "rc-node-cluster.sh exited with status $rc"
commits=$(sed -n 's/^rc-node-cluster: OK (\([0-9]*\) commits.*/\1/p' "$work/cluster.out")
[ -n "$commits" ] && [ "$commits" -gt 0 ] || fail "no commits reported"
grep -q '^  latency us  *p50 [0-9.]*  p90' "$work/cluster.out" || fail "no latency line"
if command -v python3 >/dev/null 2>&1; then
	python3 - "$work/bench.json" "$commits" <<'EOF' || fail "the JSON report disagrees"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema_version"] == 1
assert r["commits_per_sec"] > 0 and r["latency_us"]["p99"] > 0, r
assert r["results"]["commits"] == int(sys.argv[2]), (r["results"]["commits"], sys.argv[2])
assert r["params"]["driver"] == "net_memif" and r["params"]["nodes"] == 3, r["params"]
EOF
fi
echo "test_rc_node: OK ($commits commits over 3 processes)"
