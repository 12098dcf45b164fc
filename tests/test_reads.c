/*
 * Lock-free readers against a running cluster: three nodes over the udp driver (kernel sockets,
 * so the test also runs under ThreadSanitizer, which cannot follow DPDK's rings), two poll
 * threads (QSBR readers themselves) committing key-value PUTs as fast as they can, so that the
 * logs compact and recycle their chunks many times over; four reader threads (two QSBR, two
 * memb) read the logs and the tables of every node for RC_READS_SECONDS (default 30).
 *
 * Every read must return a committed value or a clear error, never a torn or a freed one:
 *   - a GET's value is "KEY:N" for its own key, and when the entry that wrote it (its version)
 *     is still in that node's log, the entry is a PUT of exactly that key and value;
 *   - a log read returns a well-formed PUT (or a leader's no-op), and the same index read from
 *     another node's log holds the same bytes;
 *   - anything else is RC_LOG_COMPACTED, RC_LOG_NOT_COMMITTED or RC_KV_NOT_FOUND.
 * Recycled log chunks are poisoned (0xdb), so a read of a reused chunk cannot pass.
 *
 * Built with -DREADS_MAIN it is a plain program instead of a Criterion test: Criterion cannot
 * start under ThreadSanitizer (Snaipe/Criterion#274), and the TSan build runs it that way.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef READS_MAIN
#include <criterion/criterion.h>
#endif

#include <replicore/assert.h>
#include <replicore/kv.h>
#include <replicore/log.h>
#include <replicore/node.h>
#include <replicore/rcu.h>

#include "udp.h"

#define NODES 3
#define KEYS 200
#define OUTSTANDING 64

static struct rc_node *nodes[NODES];
static struct rc_kv *kvs[NODES];
static atomic_bool stop;
static _Atomic uint64_t commits;

/* One poll thread: its nodes, and the proposals it keeps outstanding on a leader among them. */
struct poller {
	int first, count;
	uint32_t outstanding;
	uint64_t seq;
	uint64_t chunks_returned;
};

static void
on_complete(void *ctx, uint64_t cookie, uint64_t index, enum rc_propose_status status)
{
	struct poller *p = ctx;

	(void)cookie;
	(void)index;
	p->outstanding--;
	if (status == RC_PROPOSE_COMMITTED)
		atomic_fetch_add_explicit(&commits, 1, memory_order_relaxed);
}

/* Proposes PUT "kNNN" = "kNNN:SEQ" on leader n until OUTSTANDING are in flight. */
static void
top_up(struct poller *p, struct rc_node *n)
{
	uint8_t cmd[64];
	char key[8], value[32];

	while (p->outstanding < OUTSTANDING) {
		snprintf(key, sizeof(key), "k%03u", (unsigned)(p->seq * 7919 % KEYS));
		snprintf(value, sizeof(value), "%s:%" PRIu64, key, p->seq);
		int32_t len = rc_kv_encode_put(cmd, sizeof(cmd), key, (uint32_t)strlen(key), value,
					       (uint32_t)strlen(value));

		RC_ASSERT(len > 0);
		if (rc_propose(n, cmd, (uint32_t)len, p->seq) != 0)
			break;
		p->seq++;
		p->outstanding++;
	}
}

static void *
poller_main(void *arg)
{
	struct poller *p = arg;

	rc_rcu_register(RC_RCU_QSBR);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t now = rc_clock_ns();

		for (int i = p->first; i < p->first + p->count; i++) {
			rc_node_poll(nodes[i], now);
			if (rc_node_raft(nodes[i])->role == RC_ROLE_LEADER)
				top_up(p, nodes[i]);
		}
		rc_rcu_quiescent();
	}
	for (int i = p->first; i < p->first + p->count; i++)
		p->chunks_returned += rc_node_log_stats(nodes[i])->chunks_returned;
	rc_rcu_unregister();
	return NULL;
}

/* Parses a PUT command; returns false when it is not one this test proposes. */
static bool
parse_put(const uint8_t *p, uint32_t bytes, char *key, char *value)
{
	if (bytes < RC_KV_COMMAND_HEADER_BYTES || p[0] != RC_KV_PUT)
		return false;
	uint32_t klen = p[1], vlen = (uint32_t)p[2] | (uint32_t)p[3] << 8;

	if (klen != 4 || vlen >= 32 || RC_KV_COMMAND_HEADER_BYTES + klen + vlen != bytes)
		return false;
	memcpy(key, p + RC_KV_COMMAND_HEADER_BYTES, klen);
	key[klen] = '\0';
	memcpy(value, p + RC_KV_COMMAND_HEADER_BYTES + klen, vlen);
	value[vlen] = '\0';
	return strncmp(value, key, klen) == 0 && value[klen] == ':';
}

struct reader {
	enum rc_rcu_flavor flavor;
	uint64_t seed;
	uint64_t gets_ok, gets_checked, gets_absent;
	uint64_t log_ok, log_compared, log_compacted, log_uncommitted;
	uint64_t bad;
	char first_bad[160];
};

static void
reader_bad(struct reader *r, const char *what, int node, uint64_t index)
{
	if (r->bad++ == 0)
		snprintf(r->first_bad, sizeof(r->first_bad), "%s (node %d, index %" PRIu64 ")",
			 what, node + 1, index);
}

/* A GET on node i, checked against the entry that wrote the value when the log still has it. */
static void
reader_get(struct reader *r, int i)
{
	char key[8], value[40], lkey[8], lvalue[40];
	uint32_t len = 0;
	uint64_t version = 0;
	struct rc_log_view v;

	snprintf(key, sizeof(key), "k%03u", (unsigned)((r->seed >> 33) % KEYS));
	enum rc_kv_result res = rc_kv_get(kvs[i], key, 4, value, sizeof(value) - 1, &len, &version);

	if (res == RC_KV_NOT_FOUND) {
		r->gets_absent++;
		return;
	}
	if (res != RC_KV_OK) {
		reader_bad(r, rc_kv_strerror(res), i, 0);
		return;
	}
	value[len] = '\0';
	if (strncmp(value, key, 4) != 0 || value[4] != ':') {
		reader_bad(r, "a GET returned another key's value", i, version);
		return;
	}
	r->gets_ok++;
	rc_rcu_read_lock();
	if (rc_log_read(rc_node_log(nodes[i]), version, &v) == RC_LOG_OK) {
		if (!parse_put(v.data, v.bytes, lkey, lvalue) || strcmp(lkey, key) != 0 ||
		    strcmp(lvalue, value) != 0)
			reader_bad(r, "a GET's value is not what its entry wrote", i, version);
		r->gets_checked++;
	}
	rc_rcu_read_unlock();
}

/* A log read on node i, compared with another node's copy of the same index. */
static void
reader_log(struct reader *r, int i)
{
	const struct rc_log *log = rc_node_log(nodes[i]);
	const struct rc_log *other = rc_node_log(nodes[(i + 1) % NODES]);
	struct rc_log_view v, w;
	char key[8], value[40];

	rc_rcu_read_lock();
	uint64_t first = rc_log_first_index(log), commit = rc_log_commit_index(log);
	/* Mostly inside [first, commit], some just outside on either side. */
	uint64_t lo = first > 16 ? first - 16 : 1;
	uint64_t index = lo + (r->seed >> 35) % (commit - lo + 32);

	switch (rc_log_read(log, index, &v)) {
	case RC_LOG_OK:
		r->log_ok++;
		if (v.index != index || (v.type == 0 && !parse_put(v.data, v.bytes, key, value)) ||
		    (v.type != 0 && v.bytes != 0))
			reader_bad(r, "a log entry is torn or foreign", i, index);
		else if (rc_log_read(other, index, &w) == RC_LOG_OK) {
			r->log_compared++;
			if (w.term != v.term || w.type != v.type || w.bytes != v.bytes ||
			    memcmp(w.data, v.data, v.bytes) != 0)
				reader_bad(r, "two nodes committed different entries", i, index);
		}
		break;
	case RC_LOG_COMPACTED:
		r->log_compacted++;
		break;
	case RC_LOG_NOT_COMMITTED:
		r->log_uncommitted++;
		break;
	default:
		reader_bad(r, "a log read failed with an unexpected status", i, index);
	}
	rc_rcu_read_unlock();
}

static void *
reader_main(void *arg)
{
	struct reader *r = arg;

	rc_rcu_register(r->flavor);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (int k = 0; k < 32; k++) {
			r->seed = r->seed * 6364136223846793005ull + 1442695040888963407ull;
			int i = (int)((r->seed >> 20) % NODES);

			if ((r->seed >> 24) & 1)
				reader_get(r, i);
			else
				reader_log(r, i);
		}
		rc_rcu_quiescent();
	}
	rc_rcu_unregister();
	return NULL;
}

/* Fails the run: records why (the first reason only) and counts it. */
static int
run_fail(char *why, size_t len, int failures, const char *reason)
{
	if (failures == 0)
		snprintf(why, len, "%s", reason);
	return failures + 1;
}

/* Runs the cluster and the readers for seconds; returns 0, or the failures with why. */
static int
reads_run(int seconds, char *why, size_t why_len)
{
	struct rc_udp_config ucfg = { 0 };
	struct rc_driver *drv;
	uint16_t voters[NODES] = { 1, 2, 3 };
	struct poller pollers[2] = { { .first = 0, .count = 2 }, { .first = 2, .count = 1 } };
	struct reader readers[4];
	pthread_t pt[2], rt[4];
	int failures = 0;
	char line[256];

	ucfg.frame_bytes = 1500;
	ucfg.local_count = NODES;
	for (uint16_t id = 1; id <= NODES; id++)
		ucfg.local_ids[id - 1] = id;
	rc_udp_loopback_peers(&ucfg, NODES, (uint16_t)(30000 + getpid() % 2000 * 8));
	ucfg.rx_buffers = 1024;
	ucfg.tx_buffers = 1024;
	if (rc_udp_open(&ucfg, &drv) != 0)
		return run_fail(why, why_len, 0, "the udp driver did not open");
	for (int i = 0; i < NODES; i++) {
		struct rc_node_config cfg;
		struct rc_kv_config kc;

		rc_kv_config_default(&kc, KEYS, 8, 32);
		RC_ASSERT(rc_kv_create(&kc, &kvs[i]) == 0);
		rc_node_config_default(&cfg, (uint16_t)(i + 1), voters, NODES);
		cfg.raft.seed = 77 + (uint64_t)i;
		cfg.payload_bytes_max = 64;
		cfg.log_poison = true;
		cfg.complete = on_complete;
		cfg.ctx = &pollers[i < 2 ? 0 : 1];
		cfg.apply = rc_kv_node_apply;
		cfg.apply_ctx = kvs[i];
		RC_ASSERT(rc_node_create(&cfg, drv, &nodes[i]) == 0);
	}
	for (int i = 0; i < 2; i++)
		RC_ASSERT(pthread_create(&pt[i], NULL, poller_main, &pollers[i]) == 0);
	for (int i = 0; i < 4; i++) {
		readers[i] = (struct reader){ .flavor = i % 2 ? RC_RCU_MEMB : RC_RCU_QSBR,
					      .seed = 0x1234567ull * (uint64_t)(i + 1) };
		RC_ASSERT(pthread_create(&rt[i], NULL, reader_main, &readers[i]) == 0);
	}
	sleep((unsigned)seconds);
	atomic_store(&stop, true);
	struct reader sum = { 0 };

	for (int i = 0; i < 4; i++) {
		pthread_join(rt[i], NULL);
		sum.gets_ok += readers[i].gets_ok;
		sum.gets_checked += readers[i].gets_checked;
		sum.gets_absent += readers[i].gets_absent;
		sum.log_ok += readers[i].log_ok;
		sum.log_compared += readers[i].log_compared;
		sum.log_compacted += readers[i].log_compacted;
		sum.log_uncommitted += readers[i].log_uncommitted;
		if (readers[i].bad != 0) {
			snprintf(line, sizeof(line), "reader %d: %" PRIu64 " bad reads, first: %s",
				 i, readers[i].bad, readers[i].first_bad);
			failures = run_fail(why, why_len, failures, line);
		}
	}
	for (int i = 0; i < 2; i++)
		pthread_join(pt[i], NULL);
	uint64_t returned = pollers[0].chunks_returned + pollers[1].chunks_returned;

	printf("reads: %d s: %" PRIu64 " commits; GETs %" PRIu64 " ok (%" PRIu64
	       " checked against the log), %" PRIu64 " absent; log reads %" PRIu64 " ok (%" PRIu64
	       " compared across nodes), %" PRIu64 " compacted, %" PRIu64 " not committed; %" PRIu64
	       " log chunks recycled\n",
	       seconds, atomic_load(&commits), sum.gets_ok, sum.gets_checked, sum.gets_absent,
	       sum.log_ok, sum.log_compared, sum.log_compacted, sum.log_uncommitted, returned);
	if (atomic_load(&commits) <= 1000)
		failures = run_fail(why, why_len, failures, "the cluster hardly committed");
	if (sum.gets_checked == 0 || sum.log_compared == 0)
		failures = run_fail(why, why_len, failures, "no read could be checked");
	if (sum.log_compacted == 0)
		failures = run_fail(why, why_len, failures, "no read met a compacted index");
	if (returned == 0)
		failures = run_fail(why, why_len, failures,
				    "no log chunk was recycled: compaction never ran");
	for (int i = 0; i < NODES; i++) {
		rc_node_destroy(nodes[i]);
		rc_kv_destroy(kvs[i]);
	}
	drv->ops->close(drv);
	return failures;
}

/* The run's length: RC_READS_SECONDS, 30 by default. */
static int
reads_seconds(void)
{
	const char *env = getenv("RC_READS_SECONDS");

	return env != NULL && atoi(env) > 0 ? atoi(env) : 30;
}

#ifdef READS_MAIN
int
main(void)
{
	char why[256] = "";
	int failures = reads_run(reads_seconds(), why, sizeof(why));

	if (failures != 0)
		fprintf(stderr, "reads: FAILED (%d): %s\n", failures, why);
	return failures == 0 ? 0 : 1;
}
#else
Test(reads, four_readers_against_a_committing_compacting_cluster, .timeout = 600)
{
	char why[256] = "";

	cr_assert_eq(reads_run(reads_seconds(), why, sizeof(why)), 0, "%s", why);
}
#endif
