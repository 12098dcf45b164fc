#!/usr/bin/env bash
# replay_check.sh RC_SIM MUTATION: the planted bug must be caught within the seed budget, and
# the first failing seed must fail the same way when replayed, with and without --trace.
set -euo pipefail
rc_sim=$1
mutation=$2
seeds=${RC_MUTATION_SEEDS:-1-5000}

out=$("$rc_sim" --mutation "$mutation" --seeds "$seeds" --nodes 5 --faults all --expect-violation)
echo "$out" | tail -n 3
line=$(echo "$out" | grep -m1 -E '^seed [0-9]+: ' || true)
if [ -z "$line" ]; then
	echo "replay_check: mutation $mutation was not caught in seeds $seeds" >&2
	exit 1
fi
seed=$(echo "$line" | sed -E 's/^seed ([0-9]+): .*/\1/')
echo "first failing seed: $seed"

again=$("$rc_sim" --mutation "$mutation" --seed "$seed" --nodes 5 --faults all --expect-violation |
	grep -m1 -E '^seed [0-9]+: ' || true)
trace1=$(mktemp)
trace2=$(mktemp)
trap 'rm -f "$trace1" "$trace2"' EXIT
"$rc_sim" --mutation "$mutation" --seed "$seed" --nodes 5 --faults all --trace >"$trace1" || true
"$rc_sim" --mutation "$mutation" --seed "$seed" --nodes 5 --faults all --trace >"$trace2" || true
if [ "$again" != "$line" ]; then
	echo "replay_check: seed $seed replayed differently:" >&2
	echo "  first:  $line" >&2
	echo "  replay: $again" >&2
	exit 1
fi
if ! cmp -s "$trace1" "$trace2"; then
	echo "replay_check: two traces of seed $seed differ" >&2
	exit 1
fi
if ! grep -qF -- "$line" "$trace1"; then
	echo "replay_check: the trace of seed $seed does not end in the same violation" >&2
	tail -n 5 "$trace1" >&2
	exit 1
fi
echo "seed $seed replays identically ($(wc -l <"$trace1") trace lines)"
