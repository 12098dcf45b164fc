#!/usr/bin/env bash
# mutation_list_check.sh RC_SIM NAME...: rc-sim --list-mutations names every expected mutation.
set -euo pipefail
rc_sim=$1
shift
listed=$("$rc_sim" --list-mutations)
for name in "$@"; do
	if ! echo "$listed" | grep -qx -- "$name"; then
		echo "mutation_list_check: '$name' missing from rc-sim --list-mutations" >&2
		exit 1
	fi
done
echo "all $# mutations listed"
