#!/usr/bin/env bash
# Installs what replicore needs (scripts/setup.sh) and builds it in build/ (configured once,
# reused afterwards). scripts/bench.sh and scripts/demo.sh start with it.
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
