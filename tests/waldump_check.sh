#!/usr/bin/env bash
# waldump_check.sh RC_WALDUMP WAL_GEN: rc-waldump on a log written by wal_gen. A clean log
# verifies; garbage after the last SYNC record is a torn tail (reported, not an error); a bit
# flipped in an entry before the last SYNC fails --verify naming the file and the offset. A
# compacted log (a snapshot, the segments it covers deleted) verifies with the snapshot as its
# base, fails without it, and fails naming the snapshot when a byte of the snapshot is flipped;
# an older damaged snapshot is ignored; a log replaced by an installed snapshot (a SNAPSHOT
# record) verifies. The tool never changes a byte of the log.
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

# sums [DIR]: the checksums of the files of DIR (default: $log).
sums() {
	sha256sum "${1:-$log}"/*
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

# A compacted log: a snapshot at 400 (term 1), the segments holding only entries <= 400 deleted
# by rc_wal_compact(). The snapshot is the replay's base, as in rc_wal_open(): the first records
# (indexes <= 400) are accepted and the log is 401..600.
comp=$tmp/compact
snap="snap-0000000000000190-0000000000000001.snap"
"$wal_gen" "$comp" 600 12288 400 >/dev/null
[ -f "$comp/$snap" ] || fail "wal_gen wrote no $snap"
[ ! -e "$comp/wal-0000000000000000.seg" ] || fail "the compaction deleted no segment"
compacted=$(sums "$comp")
expect_rc 0 "$waldump" --verify --records "$comp"
expect_text "$tmp/out" \
	"snapshot $snap: index 400 term 1, body 1000 bytes, header CRC32C ok, body CRC32C ok (newest"
expect_text "$tmp/out" "(in the snapshot)"
expect_text "$tmp/out" "hard state: term 1 commit 600 vote 1"
expect_text "$tmp/out" "log: 401..600 (last term 1) after the snapshot at index 400 term 1"
if grep -q "torn tail\|corrupt\|snapshots: none" "$tmp/out"; then
	fail "a clean compacted log reported damage or no snapshot"
fi
[ "$(sums "$comp")" = "$compacted" ] || fail "rc-waldump changed the log (compacted)"

# Without its snapshot the compacted log does not start at index 1: refused.
mv "$comp/$snap" "$tmp/"
expect_rc 1 "$waldump" --verify "$comp"
expect_text "$tmp/err" "record out of sequence"
mv "$tmp/$snap" "$comp/"

# An older damaged snapshot (its header says 400, its name 16) and a temporary file are ignored,
# as recovery ignores them.
old="snap-0000000000000010-0000000000000001.snap"
cp "$comp/$snap" "$comp/$old"
: >"$comp/$snap.tmp"
expect_rc 0 "$waldump" --verify "$comp"
expect_text "$tmp/out" "snapshot $old: index 16 term 1 (its name), 1064 file bytes, damaged:"
expect_text "$tmp/out" \
	"index or term differ from the file name, body not checked (older: recovery ignores it)"
expect_text "$tmp/out" "snapshots: 1 temporary files"
rm "$comp/$old" "$comp/$snap.tmp"
[ "$(sums "$comp")" = "$compacted" ] || fail "could not restore the compacted log"

# A byte flipped in the newest snapshot's body, then in its header: recovery refuses the log,
# --verify names the snapshot file and the offset.
flip_byte "$comp/$snap" 100
damaged=$(sums "$comp")
expect_rc 1 "$waldump" --verify "$comp"
expect_text "$tmp/err" "$comp/$snap: offset 64: snapshot body CRC32C mismatch"
[ "$(sums "$comp")" = "$damaged" ] || fail "rc-waldump --verify changed the log (snapshot body)"
expect_rc 0 "$waldump" "$comp"
expect_text "$tmp/out" \
	"damaged: offset 64: snapshot body CRC32C mismatch (newest: recovery refuses the log)"
expect_text "$tmp/out" "corrupt: $comp/$snap: offset 64: snapshot body CRC32C mismatch"
flip_byte "$comp/$snap" 100
flip_byte "$comp/$snap" 20
expect_rc 1 "$waldump" --verify "$comp"
expect_text "$tmp/err" "$comp/$snap: offset 0: snapshot header CRC32C mismatch"
flip_byte "$comp/$snap" 20
[ "$(sums "$comp")" = "$compacted" ] || fail "could not restore the compacted log"

# A snapshot installed from a leader past the log's end: a SNAPSHOT record replaces the log,
# which then ends at the snapshot's (1000, term 2).
inst=$tmp/install
"$wal_gen" "$inst" 600 12288 1000 install >/dev/null
installed=$(sums "$inst")
expect_rc 0 "$waldump" --verify --records "$inst"
expect_text "$tmp/out" "snapshot snap-00000000000003e8-0000000000000002.snap: index 1000 term 2"
expect_text "$tmp/out" ": SNAPSHOT index 1000 term 2"
expect_text "$tmp/out" "hard state: term 2 commit 1000 vote 0"
expect_text "$tmp/out" "log: empty after the snapshot at index 1000 term 2"
if grep -q "torn tail\|corrupt" "$tmp/out"; then
	fail "a log with an installed snapshot reported damage"
fi
[ "$(sums "$inst")" = "$installed" ] || fail "rc-waldump changed the log (installed snapshot)"
echo "waldump_check: ok"
