#!/usr/bin/env bash
# Installs what replicore needs, builds it in build/ and runs the simulator's 5-node demonstration.
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

echo "=== demo: ./build/tools/rc-sim --demo"
exec ./build/tools/rc-sim --demo
