#!/usr/bin/env bash
# Reformats in place, with .clang-format, every C source and header (tracked, or untracked and
# not ignored) under engine/, drivers/, bench/, tests/ and tools/, or only the files given.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v clang-format >/dev/null 2>&1; then
	echo "format: clang-format not found (bash scripts/setup.sh installs it)" >&2
	exit 1
fi
# A broken .clang-format would otherwise read as "every file differs".
clang-format --style=file --dump-config --assume-filename=engine/x.c >/dev/null

files=()
if [ $# -gt 0 ]; then
	files=("$@")
else
	while IFS= read -r -d '' f; do
		if [ -f "$f" ]; then
			files+=("$f")
		fi
	done < <(git ls-files -z -co --exclude-standard -- \
		'engine/*.[ch]' 'drivers/*.[ch]' 'bench/*.[ch]' 'tests/*.[ch]' 'tools/*.[ch]')
fi

changed=0
for f in "${files[@]}"; do
	if ! clang-format --style=file --dry-run -Werror "$f" >/dev/null 2>&1; then
		clang-format --style=file -i "$f"
		echo "format: $f"
		changed=$((changed + 1))
	fi
done
echo "format: ${#files[@]} files checked, $changed reformatted"
