/*
 * rc-walbench: the write-ahead log alone, without Raft or a network.
 *   rc-walbench write DIR [--mib N] [--payload B] [--batch N]
 *       appends entries of B bytes (default 64) in writes of N entries (default 1024) until
 *       the log holds N MiB (default 1024), keeping up to 64 writes in flight (group commit),
 *       and prints entries/s, MB/s, fdatasync calls and their latency;
 *   rc-walbench recover DIR
 *       opens the log as a node's start does (scan, every CRC checked, a torn tail dropped),
 *       reads every entry back, and prints the time each step took.
 * Exit status: 0 done, 1 a failure (said on stderr), 2 bad usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <replicore/wal.h>

#define WALBENCH_INFLIGHT 64u

static uint64_t
walbench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
walbench_usage(FILE *f)
{
	fprintf(f, "usage: rc-walbench write DIR [--mib N] [--payload B] [--batch N]\n"
		   "       rc-walbench recover DIR\n"
		   "Measures the write-ahead log alone: group-committed appends, or a start-up\n"
		   "(recovery) of the log in DIR.\n");
}

static int
walbench_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Appends until the log holds mib MiB. */
static int
walbench_write(const char *dir, uint64_t mib, uint32_t payload_bytes, uint32_t batch)
{
	struct rc_wal_config cfg;
	struct rc_wal *w;
	char err[512];
	uint8_t payload[RC_ENTRY_BYTES_MAX];
	uint64_t tickets[WALBENCH_INFLIGHT] = { 0 };
	uint64_t index = 0, writes = 0, t0;
	uint64_t goal = mib << 20;
	struct rc_wal_stats st;
	int rc;

	rc_wal_config_default(&cfg, dir);
	rc = rc_wal_open(&cfg, &w, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "rc-walbench: %s\n", err);
		return 1;
	}
	index = rc_wal_info(w)->last_index;
	if (index != 0) {
		fprintf(stderr, "rc-walbench: %s holds a log already; write wants an empty one\n",
			dir);
		rc_wal_close(w);
		return 1;
	}
	if ((rc = rc_wal_start(w)) != 0) {
		fprintf(stderr, "rc-walbench: cannot start the log: %s\n", strerror(-rc));
		rc_wal_close(w);
		return 1;
	}
	memset(payload, 0xa5, sizeof(payload));
	t0 = walbench_now_ns();
	while ((uint64_t)index * rc_wal_record_bytes(payload_bytes) < goal) {
		struct rc_raft_entry e = { .term = 1, .bytes = payload_bytes };
		struct rc_raft_hard_state hs = { .term = 1, .vote = 1 };
		uint64_t *slot = &tickets[writes % WALBENCH_INFLIGHT];

		while (*slot > rc_wal_durable(w)) /* the oldest of the writes in flight */
			if (rc_wal_error(w) != 0)
				break;
		for (uint32_t k = 0; k < batch; k++)
			rc_wal_append(w, ++index, &e, payload);
		hs.commit = index > batch ? index - batch : 0;
		*slot = rc_wal_commit(w, &hs, index, 1);
		writes++;
		if (rc_wal_error(w) != 0)
			break;
	}
	while (rc_wal_durable(w) < tickets[(writes - 1) % WALBENCH_INFLIGHT] &&
	       rc_wal_error(w) == 0)
		;
	double s = (double)(walbench_now_ns() - t0) / 1e9;

	if (rc_wal_error(w) != 0) {
		fprintf(stderr, "rc-walbench: the log failed: %s\n", strerror(-rc_wal_error(w)));
		rc_wal_close(w);
		return 1;
	}
	rc_wal_stats(w, &st);

	static uint64_t samples[RC_WAL_SYNC_SAMPLES];
	uint32_t n = rc_wal_sync_samples(w, samples, RC_WAL_SYNC_SAMPLES);

	qsort(samples, n, sizeof(samples[0]), walbench_cmp);
	printf("wrote %" PRIu64 " entries of %u B (%" PRIu64 " MB) in %.2f s: %.0f entries/s, "
	       "%.1f MB/s\n",
	       index, payload_bytes, st.bytes / 1000000, s, (double)index / s,
	       (double)st.bytes / s / 1e6);
	printf("fdatasync: %" PRIu64 " calls, %.0f entries each; latency p50 %.0f us, p99 %.0f "
	       "us, max %.0f us\n",
	       st.syncs, st.syncs > 0 ? (double)index / (double)st.syncs : 0,
	       n > 0 ? (double)samples[n / 2] / 1e3 : 0,
	       n > 0 ? (double)samples[(uint64_t)n * 99 / 100] / 1e3 : 0,
	       n > 0 ? (double)samples[n - 1] / 1e3 : 0);
	rc_wal_close(w);
	return 0;
}

/* Opens the log as a start does and reads every entry back. */
static int
walbench_recover(const char *dir)
{
	struct rc_wal_config cfg;
	struct rc_wal *w;
	char err[512];
	uint64_t t0 = walbench_now_ns(), bytes = 0;
	int rc;

	rc_wal_config_default(&cfg, dir);
	rc = rc_wal_open(&cfg, &w, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "rc-walbench: %s\n", err);
		return 1;
	}
	double open_s = (double)(walbench_now_ns() - t0) / 1e9;
	const struct rc_wal_info *info = rc_wal_info(w);
	uint64_t t1 = walbench_now_ns();

	for (uint64_t i = info->first_index; i <= info->last_index; i++) {
		struct rc_raft_entry e;
		const void *payload;

		if (!rc_wal_entry(w, i, &e, &payload)) {
			fprintf(stderr, "rc-walbench: entry %" PRIu64 " unreadable\n", i);
			rc_wal_close(w);
			return 1;
		}
		bytes += e.bytes;
	}
	double read_s = (double)(walbench_now_ns() - t1) / 1e9;

	printf("recovered %s: %" PRIu64 " segments, %" PRIu64 " MB of records, entries %" PRIu64
	       "..%" PRIu64 " (term %" PRIu64 "), snapshot %" PRIu64 "\n",
	       dir, info->segments, info->bytes / 1000000, info->first_index, info->last_index,
	       info->last_term, info->snap.index);
	printf("open (scan, CRC32C of every record, index): %.3f s; reading every entry back: "
	       "%.3f s (%" PRIu64 " MB of payload)%s%s\n",
	       open_s, read_s, bytes / 1000000, info->dropped_reason[0] ? "; dropped: " : "",
	       info->dropped_reason);
	rc_wal_close(w);
	return 0;
}

/* Parses a positive number option; exits 2 on a bad one. */
static uint64_t
walbench_number(const char *name, const char *v, uint64_t max)
{
	char *end;
	unsigned long long x = strtoull(v, &end, 10);

	if (*v == '\0' || *end != '\0' || x == 0 || x > max) {
		fprintf(stderr, "rc-walbench: %s wants a number in 1..%" PRIu64 ", not '%s'\n",
			name, max, v);
		exit(2);
	}
	return x;
}

int
main(int argc, char **argv)
{
	uint64_t mib = 1024;
	uint32_t payload = 64, batch = 1024;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		walbench_usage(stdout);
		return 0;
	}
	if (argc < 3) {
		walbench_usage(stderr);
		return 2;
	}
	for (int i = 3; i < argc; i += 2) {
		if (i + 1 >= argc) {
			fprintf(stderr, "rc-walbench: %s wants a value\n", argv[i]);
			return 2;
		}
		if (strcmp(argv[i], "--mib") == 0)
			mib = walbench_number("--mib", argv[i + 1], 1u << 20);
		else if (strcmp(argv[i], "--payload") == 0)
			payload = (uint32_t)walbench_number("--payload", argv[i + 1],
							    RC_ENTRY_BYTES_MAX);
		else if (strcmp(argv[i], "--batch") == 0)
			batch = (uint32_t)walbench_number("--batch", argv[i + 1], 65536);
		else {
			fprintf(stderr, "rc-walbench: unknown option '%s' (see --help)\n", argv[i]);
			return 2;
		}
	}
	if ((uint64_t)batch * rc_wal_record_bytes(payload) > (16u << 20)) {
		fprintf(stderr, "rc-walbench: a write of --batch entries must stay under 16 MiB\n");
		return 2;
	}
	if (strcmp(argv[1], "write") == 0)
		return walbench_write(argv[2], mib, payload, batch);
	if (strcmp(argv[1], "recover") == 0 && argc == 3)
		return walbench_recover(argv[2]);
	walbench_usage(stderr);
	return 2;
}
