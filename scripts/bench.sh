#!/usr/bin/env bash
# The main job: installs what replicore needs, builds it in build/ and runs rc-bench on its
# in-process default (3 nodes over net_ring ports, no hugepages, no NIC, mem storage).
# Arguments are passed to rc-bench (e.g. --duration 5 --json out.json).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/build.sh
echo "=== bench: ./build/bench/rc-bench $*"
exec ./build/bench/rc-bench "$@"
