#!/usr/bin/env bash
# Builds replicore four ways and runs everything that checks it:
#   (a) build/       the normal build, every test suite;
#   (b) build-asan/  ASan + UBSan, every test suite;
#   (b2) build-tsan/ ThreadSanitizer, the readers-against-a-cluster test (suite reads);
#   (c) build-mut/   -Dmutations=true, the 'mutations' suite (planted bugs the checkers must catch);
#   (d) build-fuzz/  clang, -Dfuzz=true: every libFuzzer target for 20 s;
#   (e) scripts/check-format.sh.
# Stops at the first failure. Build directories are reused between runs. The last line is the
# total over all meson test runs: "N passed, M failed" (passed: Ok and Expected Fail; failed:
# Fail, Unexpected Pass and Timeout).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
jobs=$(nproc)
fuzz_seconds=${RC_FUZZ_SECONDS:-20}
logs="$root/build-logs"
mkdir -p "$logs"

passed=0
failed=0
tests_ran=0
step="setup"
t_start=$SECONDS

header()
{
	step="$1"
	echo
	echo "=== [$(date +%H:%M:%S)] $1"
}

# The closing line, also when a step fails (then after the reason).
finish()
{
	local rc=$?

	echo
	if [ "$rc" -ne 0 ]; then
		echo "test.sh: FAILED in step: $step (exit $rc, after $((SECONDS - t_start)) s)"
	else
		echo "test.sh: all steps passed in $((SECONDS - t_start)) s"
	fi
	if [ "$tests_ran" -gt 0 ]; then
		echo "$passed passed, $failed failed"
	fi
}
trap finish EXIT

# meson setup DIR [OPTIONS...]: configures a new build directory, or reconfigures an existing
# one with the same options (so a second run reuses what the first one built).
meson_setup()
{
	local dir="$1"
	shift
	if [ -f "$dir/meson-private/coredata.dat" ]; then
		echo "+ meson setup --reconfigure $dir $*"
		meson setup --reconfigure "$dir" "$@"
	else
		echo "+ meson setup $dir $*"
		meson setup "$dir" "$@"
	fi
}

build()
{
	echo "+ ninja -C $1 -j $jobs"
	ninja -C "$1" -j "$jobs"
}

# Adds the counts of one meson test log to the totals. A run of zero tests is a failure: a suite
# that silently vanished checks nothing.
count_results()
{
	local log="$1" counts ok bad

	# meson's summary: "Ok:  5", "Expected Fail:  0", "Fail:  0", "Unexpected Pass:  0", ...
	counts=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | awk -F: '
		{ v = $2; gsub(/[ \t]/, "", v) }
		$1 == "Ok" || $1 == "Expected Fail" { good[$1] = v }
		$1 == "Fail" || $1 == "Unexpected Pass" || $1 == "Timeout" { bad[$1] = v }
		END {
			g = 0; b = 0
			for (k in good) g += good[k]
			for (k in bad) b += bad[k]
			print g, b
		}')
	read -r ok bad <<<"$counts"
	passed=$((passed + ok))
	failed=$((failed + bad))
	tests_ran=$((tests_ran + ok + bad))
	if [ $((ok + bad)) -eq 0 ]; then
		echo "test.sh: no test ran in this step (see $log)" >&2
		return 1
	fi
}

# meson_test NAME DIR [ARGS...]: runs meson test, keeps its output in build-logs/NAME.log.
meson_test()
{
	local name="$1" dir="$2" log="$logs/$1.log" rc=0
	shift 2
	echo "+ meson test -C $dir --print-errorlogs $*"
	meson test -C "$dir" --print-errorlogs "$@" 2>&1 | tee "$log" || rc=$?
	count_results "$log"
	return "$rc"
}

header "setup: Debian packages (scripts/setup.sh)"
bash scripts/setup.sh

header "(a) normal build: build/, all test suites"
meson_setup build
build build
meson_test normal build

header "(b) sanitizer build: build-asan/ (ASan + UBSan), all test suites"
meson_setup build-asan -Db_sanitize=address,undefined -Db_lundef=false
build build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson_test asan build-asan

header "(b2) ThreadSanitizer build: build-tsan/, suite 'reads' (readers against a cluster)"
meson_setup build-tsan -Db_sanitize=thread -Db_lundef=false -Ddpdk=disabled
echo "+ ninja -C build-tsan tests/test_reads"
ninja -C build-tsan tests/test_reads
TSAN_OPTIONS="halt_on_error=1:suppressions=$PWD/tests/tsan.supp" \
	meson_test tsan build-tsan --no-rebuild --suite reads

header "(c) mutation build: build-mut/ (-Dmutations=true), suite 'mutations'"
meson_setup build-mut -Dmutations=true
build build-mut
meson_test mutations build-mut --suite mutations

header "(d) fuzz build: build-fuzz/ (clang, -Dfuzz=true), each target for ${fuzz_seconds} s"
CC=clang meson_setup build-fuzz -Dfuzz=true -Dtests=disabled
build build-fuzz
targets=()
for t in build-fuzz/tools/fuzz_*; do
	if [ -f "$t" ] && [ -x "$t" ]; then
		targets+=("$t")
	fi
done
if [ ${#targets[@]} -eq 0 ]; then
	echo "test.sh: no fuzz target found under build-fuzz/tools/" >&2
	exit 1
fi
for t in "${targets[@]}"; do
	name=$(basename "$t")
	# The corpus grows across runs; findings land in build-fuzz/artifacts/.
	corpus="build-fuzz/corpus/$name"
	mkdir -p "$corpus" build-fuzz/artifacts
	seeds=()
	for d in "tools/fuzz/corpus/$name" "tests/fuzz/corpus/$name"; do
		if [ -d "$d" ]; then
			seeds+=("$d")
		fi
	done
	echo "+ $t -max_total_time=$fuzz_seconds $corpus ${seeds[*]} > $logs/$name.log"
	rc=0
	"$t" -max_total_time="$fuzz_seconds" -print_final_stats=1 \
		-artifact_prefix="build-fuzz/artifacts/$name-" "$corpus" "${seeds[@]}" \
		>"$logs/$name.log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		tail -n 60 "$logs/$name.log"
		echo "test.sh: $name failed (exit $rc); input saved under build-fuzz/artifacts/" >&2
		exit 1
	fi
	grep -E '^(Done |stat::number_of_executed_units|stat::peak_rss_mb)' "$logs/$name.log" || true
done

header "(e) format: scripts/check-format.sh"
bash scripts/check-format.sh
