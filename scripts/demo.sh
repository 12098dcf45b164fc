#!/usr/bin/env bash
# Installs what replicore needs, builds it in build/ and runs the simulator's 5-node demonstration.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/build.sh
echo "=== demo: ./build/tools/rc-sim --demo"
exec ./build/tools/rc-sim --demo
