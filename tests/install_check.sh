#!/usr/bin/env bash
# install_check.sh BUILD_DIR SOURCE_DIR: `meson install` into a scratch root, then
# `pkg-config --cflags --libs replicore` must work and tools/examples/embed_core.c must build
# against the installed library and run.
set -euo pipefail
build=$1
src=$2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

meson install -C "$build" --destdir "$root" --no-rebuild --quiet
pc=$(find "$root" -name replicore.pc | head -n 1)
if [ -z "$pc" ]; then
	echo "install_check: no replicore.pc installed" >&2
	exit 1
fi
export PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_SYSROOT_DIR=$root
flags=$(pkg-config --cflags --libs replicore)
echo "pkg-config --cflags --libs replicore: $flags"
cc -std=gnu11 -Wall -Wextra -Werror "$src/tools/examples/embed_core.c" $flags -o "$root/embed_core"
libdir=$(dirname "$(find "$root" -name 'libreplicore.so' | head -n 1)")
LD_LIBRARY_PATH=$libdir "$root/embed_core"
