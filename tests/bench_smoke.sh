#!/usr/bin/env bash
# Smoke test of rc-bench: a short run over net_ring in this process writes a JSON report that
# bench/SCHEMA.md describes (types, ordered percentiles, mem storage not durable), and a run on
# write-ahead logs reports itself durable with its fdatasync figures; compare passes
# a report against itself and fails a planted regression (half the commits, twice the p99); bad
# flags exit 2 with a message; an EAL that cannot start exits non-zero with one line of its own.
#
#   tests/bench_smoke.sh RC_BENCH
set -uo pipefail

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: bench_smoke.sh RC_BENCH" >&2
	exit 2
fi
bench=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/rc-smoke.XXXXXX")
failures=0
runtime_root=${XDG_RUNTIME_DIR:-/var/run}/dpdk
if [ "$(id -u)" -ne 0 ] && [ -z "${XDG_RUNTIME_DIR:-}" ]; then
	runtime_root=/tmp/dpdk
fi

cleanup() {
	rm -rf "$work"
	# The EAL leaves its (empty) runtime directory behind; remove ours only.
	rmdir "$runtime_root/rc-smoke-$$" "$runtime_root/rc-smoke-bad-$$" 2>/dev/null || true
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

pass() {
	echo "ok: $*"
}

# Runs the benchmark with the given arguments; stdout and stderr land in $work/NAME.{out,err},
# the exit status in $status.
run() {
	local name=$1
	shift
	"$bench" "$@" >"$work/$name.out" 2>"$work/$name.err"
	status=$?
}

# ---- A short run ---------------------------------------------------------------------------
out=$work/out.json
run main --duration 2 --warmup 1 --json "$out" -- -l 0-1 --no-huge --no-pci --no-shconf \
	-m 512 --file-prefix=rc-smoke-$$ --log-level=lib.eal:error
if [ "$status" -ne 0 ]; then
	fail "rc-bench run exited $status"
	sed 's/^/  | /' "$work/main.out" "$work/main.err" >&2
	exit 1
fi
pass "rc-bench --duration 2 --warmup 1 exited 0"
if ! grep -q "NOT DURABLE" "$work/main.out"; then
	fail "the summary does not say the figures are not durable"
fi

if python3 - "$out" <<'PY'; then
import json
import math
import sys

path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    r = json.load(f)
errors = []


def number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def need(obj, key, kind, where):
    if not isinstance(obj, dict) or key not in obj:
        errors.append(f"missing key {where}{key}")
        return None
    v = obj[key]
    ok = {
        "num": number(v),
        "int": isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        "str": isinstance(v, str),
        "bool": isinstance(v, bool),
        "obj": isinstance(v, dict),
    }[kind]
    if not ok:
        errors.append(f"{where}{key}: expected {kind}, found {v!r}")
        return None
    return v


if need(r, "schema_version", "int", "") not in (None, 1):
    errors.append(f"schema_version is {r['schema_version']}, not 1")
cps = need(r, "commits_per_sec", "num", "")
if cps is not None and not cps > 0:
    errors.append(f"commits_per_sec is {cps}, not above 0")
mbps = need(r, "mb_per_sec", "num", "")
if mbps is not None and not mbps > 0:
    errors.append(f"mb_per_sec is {mbps}, not above 0")
lat = need(r, "latency_us", "obj", "")
if lat is not None:
    order = ["p50", "p90", "p99", "p999", "max"]
    vals = [need(lat, k, "num", "latency_us.") for k in order]
    if None not in vals:
        if not vals[0] > 0:
            errors.append(f"latency_us.p50 is {vals[0]}, not above 0")
        for (a, va), (b, vb) in zip(zip(order, vals), zip(order[1:], vals[1:])):
            if not va <= vb:
                errors.append(f"latency_us.{a} {va} > latency_us.{b} {vb}")
    need(lat, "mean", "num", "latency_us.")
params = need(r, "params", "obj", "")
if params is not None:
    for k in ["nodes", "payload_bytes", "inflight", "batch_max", "window", "frame_bytes"]:
        need(params, k, "int", "params.")
    for k in ["duration_s", "warmup_s"]:
        need(params, k, "num", "params.")
    for k in ["driver", "storage", "loadgen"]:
        need(params, k, "str", "params.")
    if params.get("storage") != "mem":
        errors.append(f"params.storage is {params.get('storage')!r}, not 'mem'")
    if need(params, "durable", "bool", "params.") is not False:
        errors.append(f"params.durable is {params.get('durable')!r}, not false")
    if params.get("duration_s") != 2 or params.get("warmup_s") != 1:
        errors.append("params.duration_s/warmup_s do not echo --duration 2 --warmup 1")
    if params.get("nodes") != 3:
        errors.append(f"params.nodes is {params.get('nodes')!r}, not the default 3")
    pb = params.get("payload_bytes")
    if cps is not None and mbps is not None and number(pb):
        if not math.isclose(mbps, cps * pb / 1e6, rel_tol=1e-9):
            errors.append(f"mb_per_sec {mbps} is not commits_per_sec * payload_bytes / 10^6")
env = need(r, "env", "obj", "")
if env is not None:
    for k in ["git_rev", "cpu_model", "hostname"]:
        need(env, k, "str", "env.")
    need(env, "lcores", "int", "env.")
res = need(r, "results", "obj", "")
if res is not None:
    commits = need(res, "commits", "int", "results.")
    if commits is not None and cps is not None and params is not None:
        if not math.isclose(cps, commits / params.get("duration_s", 0), rel_tol=1e-9):
            errors.append(f"commits_per_sec {cps} is not results.commits / duration_s")
    for k in ["frames_per_sec", "entries_per_frame"]:
        need(res, k, "num", "results.")
    share = res.get("lcore_busy_share")
    if not isinstance(share, list) or not all(number(x) and 0 <= x <= 1 for x in share):
        errors.append(f"results.lcore_busy_share is {share!r}, not fractions in [0, 1]")
    for k in ["raw_frames_per_sec", "raft_share"]:
        if k not in res or not (res[k] is None or number(res[k])):
            errors.append(f"results.{k}: expected a number or null")
    if "udp" not in res or not (res["udp"] is None or isinstance(res["udp"], dict)):
        errors.append("results.udp: expected an object or null")
for e in errors:
    print(f"  {path}: {e}", file=sys.stderr)
sys.exit(1 if errors else 0)
PY
	pass "the JSON report holds every required key with its type"
else
	fail "the JSON report does not follow bench/SCHEMA.md"
	sed 's/^/  | /' "$out" >&2
fi

# ---- Compare: itself passes, a planted regression fails ----------------------------------------
regressed=$work/regressed.json
python3 - "$out" "$regressed" <<'PY'
import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    r = json.load(f)
r["commits_per_sec"] /= 2
r["mb_per_sec"] /= 2
r["latency_us"]["p99"] *= 2
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(r, f, indent=2)
    f.write("\n")
PY
run cmp_same compare "$out" "$out" --tolerance 10
if [ "$status" -eq 0 ]; then
	pass "compare OUT OUT --tolerance 10 exits 0"
else
	fail "compare OUT OUT --tolerance 10 exited $status"
	sed 's/^/  | /' "$work/cmp_same.out" "$work/cmp_same.err" >&2
fi
run cmp_bad compare "$out" "$regressed" --tolerance 10
if [ "$status" -eq 1 ] && grep -q "REGRESSION" "$work/cmp_bad.out"; then
	pass "compare OUT REGRESSED --tolerance 10 exits 1 and says REGRESSION"
else
	fail "compare OUT REGRESSED --tolerance 10 exited $status"
	sed 's/^/  | /' "$work/cmp_bad.out" "$work/cmp_bad.err" >&2
fi
# The same planted change within a 150% tolerance is no regression (the gate reads the figures).
run cmp_wide compare "$out" "$regressed" --tolerance 150
if [ "$status" -ne 0 ]; then
	fail "compare OUT REGRESSED --tolerance 150 exited $status"
fi
run cmp_missing compare "$out" "$work/no-such.json"
if [ "$status" -ne 2 ] || ! grep -q "no-such.json" "$work/cmp_missing.err"; then
	fail "compare with a missing file exited $status without naming it"
fi

# ---- Bad flags: exit 2 with one line that names the fault ---------------------------------------
# Arguments, then a word the message must contain.
bad_flag() {
	local want=$1
	shift
	run flag "$@"
	if [ "$status" -ne 2 ]; then
		fail "rc-bench $* exited $status, not 2"
	elif [ "$(wc -l <"$work/flag.err")" -ne 1 ] || ! grep -q -- "$want" "$work/flag.err"; then
		fail "rc-bench $*: stderr is not one line naming '$want'"
		sed 's/^/  | /' "$work/flag.err" >&2
	else
		pass "rc-bench $* exits 2: $(cat "$work/flag.err")"
	fi
}
bad_flag "--nodes" --nodes 99
bad_flag "--nodes" --nodes 0
bad_flag "payload" --payload 9000 --frame 1500
bad_flag "does not fit" --payload 2000 --frame 1500
bad_flag "nosuch" --driver nosuch
bad_flag "--duration" --duration -1
bad_flag "--bogus" --bogus

# ---- Durable storage: a write-ahead log per node ------------------------------------------------
walout=$work/wal.json
run wal --storage wal --wal-dir "$work/wal" --duration 1 --warmup 0.5 --json "$walout" -- \
	-l 0-1 --no-huge --no-pci --no-shconf -m 512 --file-prefix=rc-smoke-wal-$$ \
	--log-level=lib.eal:error
if [ "$status" -ne 0 ]; then
	fail "rc-bench --storage wal exited $status"
	sed 's/^/  | /' "$work/wal.out" "$work/wal.err" >&2
elif grep -q "NOT DURABLE" "$work/wal.out" || ! grep -q "fdatasync us" "$work/wal.out"; then
	fail "the wal summary calls itself not durable, or has no fdatasync latency"
elif ! python3 - "$walout" <<'PY'; then
import json
import sys

r = json.load(open(sys.argv[1], encoding="utf-8"))
p, res = r["params"], r["results"]
ok = (p["storage"] == "wal" and p["durable"] is True and res["syncs_per_sec"] > 0 and
      0 < res["sync_latency_us"]["p50"] <= res["sync_latency_us"]["p99"])
sys.exit(0 if ok else 1)
PY
	fail "the wal JSON report lacks storage wal, durable true or the fdatasync figures"
	sed 's/^/  | /' "$walout" >&2
elif [ -n "$(ls -A "$work/wal")" ]; then
	fail "rc-bench --storage wal left its logs behind without --wal-keep"
else
	pass "rc-bench --storage wal: durable, fdatasync rate and latency reported, logs removed"
fi
rmdir "$runtime_root/rc-smoke-wal-$$" 2>/dev/null || true
bad_flag "--wal-dir" --storage wal
bad_flag "--wal-dir" --wal-dir "$work/x"
bad_flag "--storage" --storage disk
bad_flag "--workload kv" --lag-follower 1000

# ---- The EAL cannot start: non-zero, one line of rc-bench's own --------------------------------
run eal -- --vdev=net_nosuchpmd0 --no-huge --no-pci --no-shconf --file-prefix=rc-smoke-bad-$$
# Lines starting "EAL: " are the EAL's own log; what is left is rc-bench's.
own=$(grep -v '^EAL: ' "$work/eal.err")
if [ "$status" -eq 0 ]; then
	fail "rc-bench with an unknown vdev exited 0"
elif [ "$(printf '%s\n' "$own" | grep -c .)" -ne 1 ] || ! grep -q "EAL" <<<"$own"; then
	fail "rc-bench with an unknown vdev exited $status without one line naming the EAL"
	sed 's/^/  | /' "$work/eal.err" >&2
else
	pass "rc-bench with an unknown vdev exits $status: $own"
fi

# ---- The other drivers: a memif mesh in this process with --raw, and kernel UDP sockets ------
for drv in memif udp; do
	if [ "$drv" = memif ]; then
		run "$drv" --driver memif --raw --duration 1 --warmup 0.5 -- -l 0-1 --no-huge \
			--no-pci --no-shconf -m 512 --file-prefix=rc-smoke-memif-$$ \
			--log-level=lib.eal:error
	else
		run "$drv" --driver udp --duration 1 --warmup 0.5
	fi
	commits=$(sed -n 's/^  commits\/s *\([0-9]*\) .*/\1/p' "$work/$drv.out")
	if [ "$status" -ne 0 ] || [ -z "$commits" ] || [ "$commits" -le 0 ]; then
		fail "rc-bench --driver $drv exited $status with '${commits:-no}' commits/s"
		sed 's/^/  | /' "$work/$drv.out" "$work/$drv.err" >&2
	elif ! grep -q "logs of all 3 nodes agree" "$work/$drv.out"; then
		fail "rc-bench --driver $drv did not check the logs"
	elif [ "$drv" = memif ] && ! grep -q "Raft's share" "$work/$drv.out"; then
		fail "rc-bench --driver memif --raw printed no share of the raw rate"
	else
		pass "rc-bench --driver $drv: $commits commits/s, logs agree"
	fi
done
rmdir "$runtime_root/rc-smoke-memif-$$" 2>/dev/null || true

# ---- The key-value workload with readers of each consistency --------------------------------
for mode in local linearizable lease; do
	kv_json=$work/kv-$mode.json
	run "kv-$mode" --workload kv --keys 1000 --readers 1 --read-mode "$mode" --duration 1 \
		--warmup 0.5 --json "$kv_json" -- -l 0-1 --no-huge --no-pci --no-shconf -m 512 \
		--file-prefix=rc-smoke-kv-$mode-$$ --log-level=lib.eal:error
	if [ "$status" -ne 0 ]; then
		fail "rc-bench --workload kv --read-mode $mode exited $status"
		sed 's/^/  | /' "$work/kv-$mode.out" "$work/kv-$mode.err" >&2
	elif python3 - "$kv_json" "$mode" <<'PY'; then
import json
import sys

r = json.load(open(sys.argv[1], encoding="utf-8"))
ok = (r["params"]["workload"] == "kv" and r["params"]["read_mode"] == sys.argv[2]
      and r["reads_per_sec"] > 0 and r["writes_per_sec"] > 0
      and r["read_latency_us"]["p50"] <= r["read_latency_us"]["p99"])
sys.exit(0 if ok else 1)
PY
		pass "rc-bench --workload kv --read-mode $mode: reads and writes in the JSON"
	else
		fail "rc-bench --workload kv --read-mode $mode: JSON lacks reads or writes"
	fi
done

if [ "$failures" -ne 0 ]; then
	echo "bench-smoke: $failures check(s) failed" >&2
	exit 1
fi
echo "bench-smoke: all checks passed"
