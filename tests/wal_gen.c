/*
 * wal_gen DIR ENTRIES [SEGMENT_BYTES [SNAP_INDEX [install]]]: writes a write-ahead log for
 * tests/waldump_check.sh: entries 1..ENTRIES at term 1 (payloads of 1..200 bytes), in writes of
 * 7 with the hard state {term 1, commit: the write's first index - 1, vote 1}, each made durable
 * before the next. With SNAP_INDEX it then writes a snapshot file with rc_snap_write() and
 * compacts the log as a node does: rc_wal_compact(), then one more write after which the storage
 * thread deletes, before rc_wal_close() returns, the segments holding only entries <= SNAP_INDEX
 * (the last two always stay). The snapshot is the node's own at (SNAP_INDEX <= ENTRIES, term 1),
 * the last write {term 1, commit ENTRIES, vote 1} closing 1..ENTRIES; or with "install" one a
 * leader sent at (SNAP_INDEX, term 2): the last write is a SNAPSHOT record and the hard state
 * {term 2, commit SNAP_INDEX, vote 0} closing a log that ends at (SNAP_INDEX, 2).
 * Exit status: 0 written, 1 a failure, 2 bad usage.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <replicore/wal.h>

#define WRITE_ENTRIES 7u
#define SNAP_BODY_BYTES 1000u

/* Waits until ticket is durable; returns 0, or the log's error. */
static int
wait_durable(struct rc_wal *w, uint64_t ticket)
{
	struct timespec ts = { 0, 100 * 1000 };

	while (rc_wal_durable(w) < ticket) {
		if (rc_wal_error(w) != 0)
			return rc_wal_error(w);
		nanosleep(&ts, NULL);
	}
	return 0;
}

/*
 * Writes a snapshot at index whose body is SNAP_BODY_BYTES of a pattern, has the log (1..last,
 * term 1) compacted up to it, and waits for one more write, so that the storage thread deletes
 * the segments it covers: see the top of this file for the two kinds (install: a leader's
 * snapshot replacing the log). Returns 0 or a negative errno (err says which step failed).
 */
static int
snapshot_and_compact(struct rc_wal *w, uint64_t index, uint64_t last, bool install, char *err,
		     size_t errlen)
{
	uint64_t term = install ? 2 : 1;
	struct rc_raft_hard_state hs = { .term = term,
					 .commit = install ? index : last,
					 .vote = install ? 0 : 1 };
	uint8_t body[SNAP_BODY_BYTES];
	int rc;

	for (uint32_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7 + index);
	rc = rc_snap_write(rc_wal_dir(w), index, term, body, sizeof(body), err, errlen);
	if (rc != 0)
		return rc;
	if (install) {
		rc_wal_append_snapshot(w, index, term);
		last = index;
	}
	rc_wal_compact(w, index);
	snprintf(err, errlen, "%s: writing after the compaction", rc_wal_dir(w));
	return wait_durable(w, rc_wal_commit(w, &hs, last, term));
}

/* Writes the log described at the top of this file. */
int
main(int argc, char **argv)
{
	struct rc_wal_config cfg;
	struct rc_wal *w;
	char err[512];
	uint8_t payload[200];
	uint64_t entries, snap_index = 0;
	bool install = argc == 6 && strcmp(argv[5], "install") == 0;
	int rc;

	if (argc < 3 || argc > 6 || (argc == 6 && !install)) {
		fprintf(stderr,
			"usage: wal_gen DIR ENTRIES [SEGMENT_BYTES [SNAP_INDEX [install]]]\n");
		return 2;
	}
	entries = strtoull(argv[2], NULL, 10);
	rc_wal_config_default(&cfg, argv[1]);
	cfg.ring_bytes = 1u << 20;
	if (argc >= 4)
		cfg.segment_bytes = strtoull(argv[3], NULL, 10);
	if (argc >= 5)
		snap_index = strtoull(argv[4], NULL, 10);
	if (argc >= 5 && (snap_index == 0 || (snap_index > entries && !install))) {
		fprintf(stderr,
			"wal_gen: SNAP_INDEX must be 1..ENTRIES (any above 0 to install)\n");
		return 2;
	}
	rc = rc_wal_open(&cfg, &w, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "wal_gen: %s\n", err);
		return 1;
	}
	rc = rc_wal_start(w);
	for (uint64_t first = 1; rc == 0 && first <= entries; first += WRITE_ENTRIES) {
		uint64_t last = first + WRITE_ENTRIES - 1 < entries ? first + WRITE_ENTRIES - 1 :
								      entries;
		struct rc_raft_hard_state hs = { .term = 1, .commit = first - 1, .vote = 1 };

		for (uint64_t i = first; i <= last; i++) {
			struct rc_raft_entry e = { .term = 1, .bytes = (uint32_t)(1 + i % 200) };

			memset(payload, (int)(i & 0xff), sizeof(payload));
			rc_wal_append(w, i, &e, payload);
		}
		rc = wait_durable(w, rc_wal_commit(w, &hs, last, 1));
	}
	snprintf(err, sizeof(err), "%s", argv[1]);
	if (rc == 0 && snap_index > 0)
		rc = snapshot_and_compact(w, snap_index, entries, install, err, sizeof(err));
	rc_wal_close(w);
	if (rc != 0) {
		fprintf(stderr, "wal_gen: %s: %s\n", err, strerror(-rc));
		return 1;
	}
	printf("wal_gen: %" PRIu64 " entries in %s", entries, argv[1]);
	if (snap_index > 0)
		printf(", snapshot at %" PRIu64 "%s, compacted", snap_index,
		       install ? " installed" : "");
	printf("\n");
	return 0;
}
