/*
 * wal_gen DIR ENTRIES [SEGMENT_BYTES]: writes a write-ahead log for tests/waldump_check.sh:
 * entries 1..ENTRIES at term 1 (payloads of 1..200 bytes), in writes of 7 with the hard state
 * {term 1, commit: the write's first index - 1, vote 1}, each made durable before the next.
 * Exit status: 0 written, 1 a failure, 2 bad usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <replicore/wal.h>

#define WRITE_ENTRIES 7u

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

/* Writes the log described at the top of this file. */
int
main(int argc, char **argv)
{
	struct rc_wal_config cfg;
	struct rc_wal *w;
	char err[512];
	uint8_t payload[200];
	uint64_t entries;
	int rc;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: wal_gen DIR ENTRIES [SEGMENT_BYTES]\n");
		return 2;
	}
	entries = strtoull(argv[2], NULL, 10);
	rc_wal_config_default(&cfg, argv[1]);
	cfg.ring_bytes = 1u << 20;
	if (argc == 4)
		cfg.segment_bytes = strtoull(argv[3], NULL, 10);
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
	rc_wal_close(w);
	if (rc != 0) {
		fprintf(stderr, "wal_gen: %s: %s\n", argv[1], strerror(-rc));
		return 1;
	}
	printf("wal_gen: %" PRIu64 " entries in %s\n", entries, argv[1]);
	return 0;
}
