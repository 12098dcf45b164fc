#!/usr/bin/env bash
# Installs every Debian 12 package replicore needs to build, test, fuzz and plot.
# Idempotent: when all of them are installed already it touches nothing (no apt at all).
# Runs as root, or through sudo for another user.
set -euo pipefail

packages=(
	build-essential     # gcc, make, libc headers
	git                 # scripts/check-format.sh lists files with git ls-files
	meson
	ninja-build
	pkg-config
	libdpdk-dev         # drivers/dpdk
	liburcu-dev         # RCU readers of the committed log
	libcriterion-dev    # unit and scenario tests
	clang               # fuzz targets (-Dfuzz=true)
	clang-format        # scripts/check-format.sh, scripts/format.sh
	libclang-rt-14-dev  # libFuzzer and sanitizer runtimes for clang 14
	python3
	gnuplot-nox         # plots of bench results
)

# A package counts as present only when dpkg says "install ok installed".
missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	if [ "$status" != "install ok installed" ]; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "setup: all ${#packages[@]} packages already installed; nothing to do"
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	sudo=()
elif command -v sudo >/dev/null 2>&1; then
	sudo=(sudo)
else
	echo "setup: missing packages: ${missing[*]}" >&2
	echo "setup: installing them needs root, and sudo is not available; run this script as root" >&2
	exit 1
fi

echo "setup: missing packages: ${missing[*]}"
echo "setup: ${sudo[*]:+${sudo[*]} }apt-get update"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
echo "setup: ${sudo[*]:+${sudo[*]} }apt-get install -y --no-install-recommends ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y --no-install-recommends "${missing[@]}"
echo "setup: done"
