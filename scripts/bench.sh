#!/usr/bin/env bash
# The main job: installs what replicore needs, builds it in build/ and runs rc-bench on its
# in-process default (3 nodes over net_ring ports, no hugepages, no NIC, mem storage).
# Arguments are passed to rc-bench (e.g. --duration 5 --json out.json).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "=== setup: Debian packages (scripts/setup.sh)"
bash scripts/setup.sh

echo "=== build: build/"
if [ -f build/meson-private/coredata.dat ]; then
	echo "+ reusing build/ (configured earlier)"
else
	echo "+ meson setup build"
	meson setup build
fi
echo "+ ninja -C build -j $(nproc)"
ninja -C build -j "$(nproc)"

echo "=== bench: ./build/bench/rc-bench $*"
exec ./build/bench/rc-bench "$@"
