/*
 * Linearizable reads through the runtime (rc_read_index): three nodes over the udp driver,
 * polled from the test's thread. A follower refuses, the leader answers once a quorum confirmed
 * it and it applied the read index, a read asked after a write completed sees that write, lease
 * reads are served, reads settle in the completion ring too, and an isolated leader never
 * answers a read OK: it drops it when it steps down.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <replicore/kv.h>
#include <replicore/node.h>
#include <replicore/rcu.h>

#include "udp.h"

#define NODES 3

static struct rc_node *nodes[NODES];
static struct rc_kv *kvs[NODES];
static struct rc_driver *drv;

/* What the callbacks saw. */
static struct {
	uint64_t read_cookie, read_index;
	int read_status; /* -1: not settled yet */
	int reads_settled;
	uint64_t put_index;
	int put_status;
} seen;

static void
on_complete(void *ctx, uint64_t cookie, uint64_t index, enum rc_propose_status status)
{
	(void)ctx;
	(void)cookie;
	seen.put_index = index;
	seen.put_status = (int)status;
}

static void
on_read(void *ctx, uint64_t cookie, uint64_t index, enum rc_read_status status)
{
	(void)ctx;
	seen.read_cookie = cookie;
	seen.read_index = index;
	seen.read_status = (int)status;
	seen.reads_settled++;
}

/* Polls the nodes in mask (bit i: node i+1) for ms milliseconds, or until *until != -1. */
static void
poll_for(unsigned mask, int ms, const int *until)
{
	uint64_t end = rc_clock_ns() + (uint64_t)ms * 1000000ull;

	while (rc_clock_ns() < end && (until == NULL || *until == -1))
		for (int i = 0; i < NODES; i++)
			if (mask & (1u << i))
				rc_node_poll(nodes[i], rc_clock_ns());
}

static int
leader_slot(void)
{
	for (int i = 0; i < NODES; i++)
		if (rc_node_is_leader(nodes[i]))
			return i;
	return -1;
}

static uint32_t retain_entries; /* cluster_up(): log_retain_entries of every node */

static void
cluster_up(bool lease)
{
	struct rc_udp_config ucfg = { 0 };
	uint16_t voters[NODES] = { 1, 2, 3 };

	ucfg.frame_bytes = 1500;
	ucfg.local_count = NODES;
	for (uint16_t id = 1; id <= NODES; id++)
		ucfg.local_ids[id - 1] = id;
	rc_udp_loopback_peers(&ucfg, NODES, (uint16_t)(34000 + getpid() % 2000 * 8));
	ucfg.rx_buffers = 256;
	ucfg.tx_buffers = 256;
	cr_assert_eq(rc_udp_open(&ucfg, &drv), 0);
	for (int i = 0; i < NODES; i++) {
		struct rc_node_config cfg;
		struct rc_kv_config kc;

		rc_kv_config_default(&kc, 64, 16, 32);
		cr_assert_eq(rc_kv_create(&kc, &kvs[i]), 0);
		rc_node_config_default(&cfg, (uint16_t)(i + 1), voters, NODES);
		cfg.raft.seed = 5 + (uint64_t)i;
		cfg.raft.lease_reads = lease;
		cfg.complete = on_complete;
		cfg.read_ready = on_read;
		cfg.apply = rc_kv_node_apply;
		cfg.apply_ctx = kvs[i];
		cfg.completion_ring_slots = 64;
		cfg.log_retain_entries = retain_entries;
		cr_assert_eq(rc_node_create(&cfg, drv, &nodes[i]), 0);
	}
	for (int t = 0; t < 100 && leader_slot() < 0; t++)
		poll_for(7, 20, NULL);
	cr_assert_geq(leader_slot(), 0, "no leader elected");
	rc_rcu_register(RC_RCU_MEMB);
	memset(&seen, 0, sizeof(seen));
}

static void
cluster_down(void)
{
	rc_rcu_unregister();
	for (int i = 0; i < NODES; i++) {
		rc_node_destroy(nodes[i]);
		rc_kv_destroy(kvs[i]);
	}
	drv->ops->close(drv);
}

/* Reads on node slot s and waits for the outcome (polling every node in mask). */
static int
read_on(int s, uint64_t cookie, uint32_t flags, unsigned mask, int ms)
{
	seen.read_status = -1;
	cr_assert_eq(rc_read_index(nodes[s], cookie, flags), 0);
	poll_for(mask, ms, &seen.read_status);
	return seen.read_status;
}

Test(node_reads, a_follower_refuses_and_the_leader_answers_after_its_writes)
{
	cluster_up(false);
	int l = leader_slot(), f = (l + 1) % NODES;
	uint8_t cmd[64];
	char value[32];
	uint32_t len = 0;
	struct rc_completion c[8];

	cr_assert_eq(read_on(f, 7, 0, 7, 1000), RC_READ_NOT_LEADER);
	cr_assert_eq(seen.read_cookie, 7);
	/* A PUT completes, then a read asked afterwards must see it. */
	int32_t n = rc_kv_encode_put(cmd, sizeof(cmd), "k", 1, "v1", 2);

	seen.put_status = -1;
	cr_assert_eq(rc_propose(nodes[l], cmd, (uint32_t)n, 1), 0);
	poll_for(7, 1000, &seen.put_status);
	cr_assert_eq(seen.put_status, RC_PROPOSE_COMMITTED);
	cr_assert_eq(read_on(l, 8, 0, 7, 1000), RC_READ_OK);
	cr_assert_eq(seen.read_cookie, 8);
	cr_assert_geq(seen.read_index, seen.put_index, "read index %" PRIu64 " < write %" PRIu64,
		      seen.read_index, seen.put_index);
	cr_assert_eq(rc_kv_get(kvs[l], "k", 1, value, sizeof(value), &len, NULL), RC_KV_OK);
	cr_assert_eq(len, 2);
	cr_assert_eq(memcmp(value, "v1", 2), 0);
	/* The same outcomes are in the leader's completion ring, read after the write. */
	uint32_t got = rc_node_completions(nodes[l], c, 8);

	cr_assert_eq(got, 2);
	cr_assert_eq(c[0].kind, RC_COMPLETION_PROPOSAL);
	cr_assert_eq(c[1].kind, RC_COMPLETION_READ);
	cr_assert_eq(c[1].status, RC_READ_OK);
	cr_assert_eq(c[1].cookie, 8);
	cr_assert_eq(rc_node_completions(nodes[f], c, 8), 1);
	cr_assert_eq(c[0].status, RC_READ_NOT_LEADER);
	/* Many reads at once share quorum rounds: all of them are answered. */
	seen.reads_settled = 0;
	for (uint64_t i = 0; i < 200; i++)
		cr_assert_eq(rc_read_index(nodes[l], 100 + i, 0), 0);
	/* The completion ring (64 slots) holds back what it cannot settle until drained. */
	poll_for(7, 100, NULL);
	cr_assert_eq(seen.reads_settled, 64, "back-pressure from the full completion ring");
	for (int t = 0; t < 100 && seen.reads_settled < 200; t++) {
		while (rc_node_completions(nodes[l], c, 8) > 0)
			;
		poll_for(7, 10, NULL);
	}
	cr_assert_eq(seen.reads_settled, 200,
		     "%d of 200 settled; served %" PRIu64 " failed %" PRIu64, seen.reads_settled,
		     rc_node_stats(nodes[l])->reads_served, rc_node_stats(nodes[l])->reads_failed);
	cr_assert_eq(rc_node_stats(nodes[l])->reads_served, 201);
	cluster_down();
}

Test(node_reads, lease_reads_are_served)
{
	cluster_up(true);
	int l = leader_slot();

	/* The first may need a round (no lease yet); then the lease holds. */
	cr_assert_eq(read_on(l, 1, RC_READ_LEASE, 7, 1000), RC_READ_OK);
	poll_for(7, 50, NULL);
	cr_assert_eq(read_on(l, 2, RC_READ_LEASE, 7, 1000), RC_READ_OK);
	cr_assert_eq(seen.read_cookie, 2);
	cluster_down();
}

Test(node_reads, an_isolated_leader_never_answers_ok)
{
	cluster_up(false);
	int l = leader_slot();

	/* Only the leader runs: no quorum confirms the read; check-quorum deposes the leader, and
	 * the pending read is dropped, never served. */
	cr_assert_eq(read_on(l, 9, 0, 1u << l, 3000), RC_READ_DROPPED);
	cr_assert_eq(seen.read_cookie, 9);
	cr_assert(!rc_node_is_leader(nodes[l]));
	cluster_down();
}

/* Proposes count entries on the leader, keeping 256 in flight, and waits for all of them. */
static void
propose_many(int l, uint64_t count)
{
	uint64_t proposed = 0, done = 0;
	struct rc_completion c[64];
	uint8_t cmd[64];
	int32_t n = rc_kv_encode_put(cmd, sizeof(cmd), "k", 1, "v", 1);

	for (int t = 0; done < count && t < 20000; t++) {
		while (proposed < count && proposed - done < 256 &&
		       rc_propose(nodes[l], cmd, (uint32_t)n, proposed) == 0)
			proposed++;
		poll_for(7, 1, NULL);
		done += rc_node_completions(nodes[l], c, 64);
	}
	cr_assert_eq(done, count);
}

/* With and without log_retain_entries: how far back the leader's log stays readable. */
static uint64_t
first_readable_after(uint32_t retain, uint64_t entries)
{
	struct rc_log_view v;

	retain_entries = retain;
	cluster_up(false);
	int l = leader_slot();

	propose_many(l, entries);
	uint64_t first = rc_log_first_index(rc_node_log(nodes[l]));

	rc_rcu_read_lock();
	cr_assert_eq(rc_log_read(rc_node_log(nodes[l]), first, &v), RC_LOG_OK);
	if (first > 1)
		cr_assert_eq(rc_log_read(rc_node_log(nodes[l]), first - 1, &v), RC_LOG_COMPACTED);
	rc_rcu_read_unlock();
	cluster_down();
	retain_entries = 0;
	return first;
}

Test(node_reads, log_retain_entries_keeps_older_entries_readable)
{
	/* 100,000 entries: the core's ring (65,536) compacts; only retention keeps index 1. */
	cr_assert_gt(first_readable_after(0, 100000), 1);
	cr_assert_eq(first_readable_after(200000, 100000), 1);
}
