#!/usr/bin/env bash
# Checks every C source and header (tracked, or untracked and not ignored) under engine/,
# drivers/, bench/, tests/ and tools/ against .clang-format. Lists the files that differ and
# exits 1 if any does; scripts/format.sh fixes them.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v clang-format >/dev/null 2>&1; then
	echo "check-format: clang-format not found (bash scripts/setup.sh installs it)" >&2
	exit 1
fi
# A broken .clang-format would otherwise read as "every file differs".
clang-format --style=file --dump-config --assume-filename=engine/x.c >/dev/null

files=()
while IFS= read -r -d '' f; do
	# git ls-files -c also lists tracked files deleted from the working tree.
	if [ -f "$f" ]; then
		files+=("$f")
	fi
done < <(git ls-files -z -co --exclude-standard -- \
	'engine/*.[ch]' 'drivers/*.[ch]' 'bench/*.[ch]' 'tests/*.[ch]' 'tools/*.[ch]')

echo "check-format: $(clang-format --version | head -n 1); ${#files[@]} files"
bad=()
for f in "${files[@]}"; do
	if ! clang-format --style=file --dry-run -Werror "$f" >/dev/null 2>&1; then
		bad+=("$f")
	fi
done

if [ ${#bad[@]} -ne 0 ]; then
	echo "check-format: ${#bad[@]} file(s) not formatted as .clang-format says:"
	printf '  %s\n' "${bad[@]}"
	echo "check-format: see the changes with: clang-format --style=file FILE | diff -u FILE -"
	echo "check-format: fix them with: bash scripts/format.sh"
	exit 1
fi
# clang-format leaves long comments alone (ReflowComments is off): check the 100 columns here,
# tabs 8 wide, counting characters rather than bytes.
long=$(python3 - "${files[@]}" <<'PY'
import sys
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if len(line.rstrip("\n").expandtabs(8)) > 100:
                print(f"  {path}:{n}")
PY
)
if [ -n "$long" ]; then
	echo "check-format: lines over 100 columns:"
	echo "$long"
	exit 1
fi
echo "check-format: all files formatted"
