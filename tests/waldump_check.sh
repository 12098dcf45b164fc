#!/usr/bin/env bash
# waldump_check.sh RC_WALDUMP WAL_GEN: rc-waldump on a log written by wal_gen. A clean log
# verifies; garbage after the last SYNC record is a torn tail (reported, not an error); a bit
# flipped in an entry before the last SYNC fails --verify naming the file and the offset. The
# tool never changes a byte of the log.
set -euo pipefail
waldump=$1
wal_gen=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log=$tmp/log

fail() {
	echo "waldump_check: $*" >&2
	exit 1
}

# expect_rc RC COMMAND...: runs COMMAND (output to $tmp/out, $tmp/err), checks its exit status.
expect_rc() {
	local want=$1 rc=0
	shift
	"$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		cat "$tmp/out" "$tmp/err" >&2
		fail "'$*' exited $rc, expected $want"
	fi
}

# expect_text FILE TEXT: FILE contains the fixed string TEXT.
expect_text() {
	grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "no '$2' in the output"; }
}

sums() {
	sha256sum "$log"/*
}

# flip_byte FILE OFFSET: flips the lowest bit of the byte at OFFSET.
flip_byte() {
	local v
	v=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf '%03o' $((v ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# Usage.
expect_rc 0 "$waldump" --help
expect_text "$tmp/out" "usage: rc-waldump"
expect_rc 2 "$waldump" --bogus "$tmp"
expect_rc 2 "$waldump"
expect_rc 1 "$waldump" "$tmp/missing"

# An empty directory is an empty log.
mkdir "$tmp/empty"
expect_rc 0 "$waldump" --verify "$tmp/empty"
expect_text "$tmp/out" "log: empty"

# A clean log over several segments.
"$wal_gen" "$log" 300 12288 >/dev/null
expect_rc 0 "$waldump" --verify --records "$log"
expect_text "$tmp/out" "segment wal-0000000000000000.seg: number 0, data 12288 bytes"
expect_text "$tmp/out" "segment wal-0000000000000001.seg: number 1"
expect_text "$tmp/out" "ENTRY index 1 term 1 type normal len 2"
expect_text "$tmp/out" "hard state term 1 commit 294 vote 1"
expect_text "$tmp/out" "hard state: term 1 commit 294 vote 1"
expect_text "$tmp/out" "log: 1..300 (last term 1)"
expect_text "$tmp/out" "snapshots: none"
if grep -q "torn tail\|corrupt" "$tmp/out"; then
	fail "a clean log reported damage"
fi
clean=$(sums)

# The file and offset of the last SYNC record, and of the first ENTRY record.
read -r sync_file sync_off < <(awk '/^segment / { f = $2; sub(":", "", f) }
	/: SYNC / { o = $2; sub(":", "", o); last = f " " o } END { print last }' "$tmp/out")
read -r entry_file entry_off < <(awk '/^segment / { f = $2; sub(":", "", f) }
	/: ENTRY / { o = $2; sub(":", "", o); print f " " o; exit }' "$tmp/out")
[ -n "$sync_off" ] && [ -n "$entry_off" ] || fail "no SYNC or ENTRY record listed"

# A torn tail: garbage after the last SYNC record (56 bytes long) is not an error.
tail_off=$((sync_off + 56))
head -c 100 /dev/urandom | dd of="$log/$sync_file" bs=1 seek="$tail_off" conv=notrunc status=none
torn=$(sums)
expect_rc 0 "$waldump" --verify "$log"
expect_text "$tmp/out" "torn tail (would be dropped)"
expect_text "$tmp/out" "log: 1..300"
[ "$(sums)" = "$torn" ] || fail "rc-waldump changed the log (torn tail)"
dd if=/dev/zero of="$log/$sync_file" bs=1 seek="$tail_off" count=100 conv=notrunc status=none
[ "$(sums)" = "$clean" ] || fail "could not restore the clean log"

# Corruption: a bit of the first entry's index field, durable records after it.
flip_byte "$log/$entry_file" $((entry_off + 16))
corrupt=$(sums)
expect_rc 1 "$waldump" --verify "$log"
expect_text "$tmp/err" "$entry_file: offset $entry_off: CRC32C mismatch"
[ "$(sums)" = "$corrupt" ] || fail "rc-waldump --verify changed the log (corruption)"
# Without --verify the dump still succeeds and says why recovery refuses.
expect_rc 0 "$waldump" --records "$log"
expect_text "$tmp/out" "corrupt: $log/$entry_file: offset $entry_off: CRC32C mismatch"
[ "$(sums)" = "$corrupt" ] || fail "rc-waldump changed the log (corruption)"

# A missing middle segment.
flip_byte "$log/$entry_file" $((entry_off + 16))
[ "$(sums)" = "$clean" ] || fail "could not restore the clean log"
mv "$log/wal-0000000000000001.seg" "$tmp/"
expect_rc 1 "$waldump" --verify "$log"
expect_text "$tmp/err" "wal-0000000000000002.seg: offset 0: a segment is missing"
echo "waldump_check: ok"
