/*
 * Recovery scenarios: three key-value nodes over the udp driver, each on a write-ahead log in a
 * fresh directory, polled from the test's thread. A node is "crashed" by destroying it and
 * closing its log (only what was handed to the log survives: a write not handed over is lost as
 * in a crash), then recreated from the same directory with an empty table. Every acknowledged
 * write must be there again, on every node, and the nodes must agree.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <replicore/kv.h>
#include <replicore/mutation.h>
#include <replicore/node.h>
#include <replicore/rcu.h>
#include <replicore/wal.h>

#include "udp.h"

#define NODES 3
#define KEYS 512

static struct rc_node *nodes[NODES];
static struct rc_kv *kvs[NODES];
static struct rc_wal *wals[NODES];
static struct rc_driver *drv;
static char root[64];
static uint64_t acked;	  /* PUTs that completed COMMITTED */
static uint64_t failed;	  /* PUTs that completed otherwise */
static uint64_t last_ack; /* highest index acknowledged */
static uint64_t snap_every;
/* node_up(): snapshot_entries */

static void
on_complete(void *ctx, uint64_t cookie, uint64_t index, enum rc_propose_status status)
{
	(void)ctx;
	(void)cookie;
	if (status == RC_PROPOSE_COMMITTED) {
		acked++;
		if (index > last_ack)
			last_ack = index;
	} else {
		failed++;
	}
}

/* Polls every live node for ms milliseconds (once at least). */
static void
poll_for(int ms)
{
	uint64_t end = rc_clock_ns() + (uint64_t)ms * 1000000ull;

	do {
		for (int i = 0; i < NODES; i++)
			if (nodes[i] != NULL)
				rc_node_poll(nodes[i], rc_clock_ns());
	} while (rc_clock_ns() < end);
}

static int
leader_slot(void)
{
	for (int i = 0; i < NODES; i++)
		if (nodes[i] != NULL && rc_node_is_leader(nodes[i]))
			return i;
	return -1;
}

/* Waits up to 5 s for a leader among the live nodes. */
static int
wait_leader(void)
{
	for (int t = 0; t < 250 && leader_slot() < 0; t++)
		poll_for(20);
	cr_assert_geq(leader_slot(), 0, "no leader elected");
	return leader_slot();
}

/* Creates node slot i on its log directory (recovering what it holds). */
static void
node_up(int i)
{
	uint16_t voters[NODES] = { 1, 2, 3 };
	struct rc_node_config cfg;
	struct rc_kv_config kc;
	struct rc_wal_config wc;
	char dir[128], err[512];

	snprintf(dir, sizeof(dir), "%s/node-%d", root, i + 1);
	rc_wal_config_default(&wc, dir);
	wc.segment_bytes = 64u << 10; /* several segments per test */
	wc.ring_bytes = 1u << 20;
	cr_assert_eq(rc_wal_open(&wc, &wals[i], err, sizeof(err)), 0, "%s", err);
	rc_kv_config_default(&kc, KEYS * 2, 16, 32);
	cr_assert_eq(rc_kv_create(&kc, &kvs[i]), 0);
	rc_node_config_default(&cfg, (uint16_t)(i + 1), voters, NODES);
	cfg.raft.seed = 11 + (uint64_t)i;
	cfg.complete = on_complete;
	cfg.apply = rc_kv_node_apply;
	cfg.apply_ctx = kvs[i];
	cfg.wal = wals[i];
	cfg.snapshot_save = rc_kv_node_snapshot_save;
	cfg.snapshot_restore = rc_kv_node_snapshot_restore;
	cfg.snapshot_entries = snap_every;
	cr_assert_eq(rc_node_create(&cfg, drv, &nodes[i]), 0);
}

/* Crashes node slot i: the node goes, its log keeps what was handed to it. */
static void
node_down(int i)
{
	rc_node_destroy(nodes[i]);
	rc_wal_close(wals[i]);
	rc_kv_destroy(kvs[i]);
	nodes[i] = NULL;
	wals[i] = NULL;
	kvs[i] = NULL;
}

static void
cluster_up(void)
{
	struct rc_udp_config ucfg = { 0 };

	snprintf(root, sizeof(root), "/tmp/rc-recovery-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	ucfg.frame_bytes = 1500;
	ucfg.local_count = NODES;
	for (uint16_t id = 1; id <= NODES; id++)
		ucfg.local_ids[id - 1] = id;
	rc_udp_loopback_peers(&ucfg, NODES, (uint16_t)(36000 + getpid() % 2000 * 8));
	ucfg.rx_buffers = 256;
	ucfg.tx_buffers = 256;
	cr_assert_eq(rc_udp_open(&ucfg, &drv), 0);
	acked = failed = last_ack = 0;
	for (int i = 0; i < NODES; i++)
		node_up(i);
	rc_rcu_register(RC_RCU_MEMB);
}

static void
cluster_down(void)
{
	char cmd[128];

	rc_rcu_unregister();
	for (int i = 0; i < NODES; i++)
		if (nodes[i] != NULL)
			node_down(i);
	drv->ops->close(drv);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}

/* The value written to key i in round r. */
static void
value_of(char *buf, size_t len, int i, int r)
{
	snprintf(buf, len, "v%d.%d", r, i);
}

/* PUTs round r of every key through the leader; waits until all are acknowledged. */
static void
write_round(int r)
{
	uint64_t want = acked + KEYS;

	for (int i = 0; i < KEYS; i++) {
		uint8_t cmd[64];
		char key[16], value[32];

		snprintf(key, sizeof(key), "k%d", i);
		value_of(value, sizeof(value), i, r);
		int32_t n = rc_kv_encode_put(cmd, sizeof(cmd), key, (uint32_t)strlen(key), value,
					     (uint32_t)strlen(value));

		for (;;) {
			int l = wait_leader();

			if (rc_propose(nodes[l], cmd, (uint32_t)n, (uint64_t)i) == 0)
				break;
			poll_for(1);
		}
		if (i % 64 == 63)
			poll_for(2);
	}
	for (int t = 0; t < 500 && acked + failed < want; t++)
		poll_for(10);
	cr_assert_eq(failed, 0, "%" PRIu64 " PUTs refused", failed);
	cr_assert_eq(acked, want, "%" PRIu64 " of %" PRIu64 " acknowledged", acked, want);
}

/*
 * Waits until every live node applied the same index; returns true when their tables' digests
 * of applied commands agree (a replica that skipped or doubled an entry differs forever).
 */
static bool
digests_agree(void)
{
	uint64_t applied[NODES];
	bool same = false;

	for (int t = 0; t < 500 && !same; t++) {
		same = true;
		for (int i = 0; i < NODES; i++) {
			struct rc_node_status st;

			if (nodes[i] == NULL)
				continue;
			rc_node_status(nodes[i], &st);
			applied[i] = st.applied;
			for (int j = 0; j < i; j++)
				same &= nodes[j] == NULL || applied[j] == applied[i];
		}
		if (!same)
			poll_for(10);
	}
	cr_assert(same, "the nodes did not settle on one applied index");
	for (int i = 1; i < NODES; i++)
		for (int j = 0; j < i; j++)
			if (nodes[i] != NULL && nodes[j] != NULL &&
			    rc_kv_digest(kvs[i]) != rc_kv_digest(kvs[j]))
				return false;
	return true;
}

/* Waits until every live node applied last_ack, then checks every key holds round r's value. */
static void
check_round(int r)
{
	for (int t = 0; t < 500; t++) {
		bool all = true;

		for (int i = 0; i < NODES; i++) {
			struct rc_node_status st;

			if (nodes[i] == NULL)
				continue;
			rc_node_status(nodes[i], &st);
			all &= st.applied >= last_ack;
		}
		if (all)
			break;
		poll_for(10);
	}
	for (int n = 0; n < NODES; n++) {
		struct rc_node_status st;

		if (nodes[n] == NULL)
			continue;
		rc_node_status(nodes[n], &st);
		cr_assert_geq(st.applied, last_ack, "node %d applied %" PRIu64 " < %" PRIu64, n + 1,
			      st.applied, last_ack);
		for (int i = 0; i < KEYS; i++) {
			char key[16], want[32], got[32];
			uint32_t len = 0;

			snprintf(key, sizeof(key), "k%d", i);
			value_of(want, sizeof(want), i, r);
			cr_assert_eq(rc_kv_get(kvs[n], key, (uint32_t)strlen(key), got, sizeof(got),
					       &len, NULL),
				     RC_KV_OK, "node %d lost %s", n + 1, key);
			cr_assert(len == strlen(want) && memcmp(got, want, len) == 0,
				  "node %d: %s = %.*s, want %s", n + 1, key, (int)len, got, want);
		}
	}
	cr_assert(digests_agree(), "the replicas' state machines diverged");
}

Test(recovery, a_whole_cluster_restarts_with_every_acknowledged_write)
{
	cluster_up();
	write_round(1);
	check_round(1);
	uint64_t before = last_ack;

	for (int i = 0; i < NODES; i++)
		node_down(i);
	for (int i = 0; i < NODES; i++) {
		node_up(i);
		const struct rc_raft *r = rc_node_raft(nodes[i]);

		cr_assert_geq(r->last_index, before, "node %d recovered only %" PRIu64, i + 1,
			      r->last_index);
		cr_assert_gt(rc_node_stats(nodes[i])->recovered_applied, 0,
			     "node %d applied nothing again from its log", i + 1);
	}
	check_round(1);
	write_round(2);
	check_round(2);
	cluster_down();
}

Test(recovery, a_follower_restarts_and_catches_up)
{
	cluster_up();
	write_round(1);
	int l = wait_leader(), f = (l + 1) % NODES;

	node_down(f);
	write_round(2);
	node_up(f);
	check_round(2);
	write_round(3);
	check_round(3);
	cluster_down();
}

Test(recovery, the_leader_restarts_and_rejoins)
{
	cluster_up();
	write_round(1);
	int l = wait_leader();
	uint64_t term = rc_node_raft(nodes[l])->term;

	node_down(l);
	write_round(2); /* under a new leader */
	int l2 = wait_leader();

	cr_assert_neq(l2, l);
	cr_assert_gt(rc_node_raft(nodes[l2])->term, term);
	node_up(l);
	cr_assert_geq(rc_node_raft(nodes[l])->term, term, "the term went back on restart");
	check_round(2);
	cluster_down();
}

Test(recovery, a_torn_tail_is_dropped_and_the_node_catches_up)
{
	cluster_up();
	write_round(1);
	int l = wait_leader(), f = (l + 1) % NODES;
	char dir[128];

	node_down(f);
	snprintf(dir, sizeof(dir), "%s/node-%d", root, f + 1);
	/* Garbage after the last record of the last segment: a write cut by the crash. */
	{
		struct rc_wal_config wc;
		struct rc_wal *w;
		char err[256], path[256];
		uint8_t junk[300];

		rc_wal_config_default(&wc, dir);
		wc.segment_bytes = 64u << 10;
		wc.ring_bytes = 1u << 20;
		cr_assert_eq(rc_wal_open(&wc, &w, err, sizeof(err)), 0, "%s", err);
		uint64_t bytes = rc_wal_info(w)->bytes, segs = rc_wal_info(w)->segments;

		rc_wal_close(w);
		snprintf(path, sizeof(path), "%s/wal-%016" PRIx64 ".seg", dir,
			 bytes / wc.segment_bytes);
		cr_assert_geq(segs, 1);
		int fd = open(path, O_WRONLY);

		cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
		/* A record header claiming a long entry, then noise: cut before its end. */
		memset(junk, 0x5a, sizeof(junk));
		junk[4] = 0x52;
		junk[5] = 0x57;
		junk[6] = RC_WAL_ENTRY;
		junk[7] = 0;
		cr_assert_eq(
			pwrite(fd, junk, sizeof(junk),
			       (off_t)(RC_WAL_SEGMENT_HEADER_BYTES + bytes % wc.segment_bytes)),
			(ssize_t)sizeof(junk));
		close(fd);
	}
	write_round(2);
	node_up(f);
	cr_assert_neq(rc_wal_info(wals[f])->dropped_reason[0], '\0',
		      "the torn tail went unnoticed");
	check_round(2);
	cluster_down();
}

Test(recovery, corruption_before_the_tail_refuses_to_start)
{
	cluster_up();
	write_round(1);
	int l = wait_leader(), f = (l + 1) % NODES;
	char dir[128], path[256], err[512];
	struct rc_wal_config wc;
	struct rc_wal *w = NULL;
	uint8_t b;

	node_down(f);
	snprintf(dir, sizeof(dir), "%s/node-%d", root, f + 1);
	snprintf(path, sizeof(path), "%s/wal-%016x.seg", dir, 0);
	int fd = open(path, O_RDWR);

	/* A bit inside the first record's payload area, long since durable. */
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &b, 1, RC_WAL_SEGMENT_HEADER_BYTES + 40), 1);
	b ^= 0x10;
	cr_assert_eq(pwrite(fd, &b, 1, RC_WAL_SEGMENT_HEADER_BYTES + 40), 1);
	close(fd);
	rc_wal_config_default(&wc, dir);
	wc.segment_bytes = 64u << 10;
	wc.ring_bytes = 1u << 20;
	err[0] = '\0';
	cr_assert_eq(rc_wal_open(&wc, &w, err, sizeof(err)), -EBADMSG);
	cr_assert_not_null(strstr(err, "wal-0000000000000000.seg"), "%s", err);
	cr_assert_not_null(strstr(err, "offset 64"), "%s", err);
	cr_assert_not_null(strstr(err, "CRC32C"), "%s", err);
	/* The other two carry on. */
	write_round(2);
	/* Repaired (the bit set back), the node starts and catches up. */
	fd = open(path, O_RDWR);
	b ^= 0x10;
	cr_assert_eq(pwrite(fd, &b, 1, RC_WAL_SEGMENT_HEADER_BYTES + 40), 1);
	close(fd);
	node_up(f);
	check_round(2);
	cluster_down();
}

/* Counts the files in dir whose names start with prefix. */
static int
count_files(const char *dir, const char *prefix)
{
	char cmd[256], out[32] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls %s | grep -c '^%s' || true", dir, prefix);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert_not_null(fgets(out, sizeof(out), p));
	pclose(p);
	return atoi(out);
}

Test(recovery, snapshots_compact_the_log_and_a_restart_starts_from_one)
{
	snap_every = 700;
	cluster_up();
	for (int r = 1; r <= 6; r++)
		write_round(r);
	check_round(6);
	poll_for(200); /* the last snapshot's file and compaction */
	for (int i = 0; i < NODES; i++) {
		char dir[128];
		struct rc_wal_stats st;

		snprintf(dir, sizeof(dir), "%s/node-%d", root, i + 1);
		rc_wal_stats(wals[i], &st);
		cr_assert_geq(rc_node_stats(nodes[i])->snapshots, 3,
			      "node %d: %" PRIu64 " snapshots", i + 1,
			      rc_node_stats(nodes[i])->snapshots);
		cr_assert_eq(count_files(dir, "snap-"), 1, "node %d keeps one snapshot", i + 1);
		cr_assert_gt(st.segments_deleted, 0, "node %d deleted no segment", i + 1);
	}
	uint64_t before = last_ack;

	for (int i = 0; i < NODES; i++)
		node_down(i);
	for (int i = 0; i < NODES; i++) {
		node_up(i);
		const struct rc_wal_info *info = rc_wal_info(wals[i]);

		cr_assert_gt(info->snap.index, 0, "node %d started without its snapshot", i + 1);
		cr_assert_geq(rc_node_raft(nodes[i])->last_index, before);
		/* Only what follows the snapshot was applied from the log again. */
		cr_assert_leq(rc_node_stats(nodes[i])->recovered_applied,
			      before - info->snap.index);
	}
	check_round(6);
	write_round(7);
	check_round(7);
	cluster_down();
	snap_every = 0;
}

/*
 * PUTs rounds first..last of every key, a round at a time and as fast as the leader takes them;
 * a round with refused PUTs (the leader's log full: back-pressure) is written again.
 */
static void
write_rounds_fast(int first, int last)
{
	for (int r = first; r <= last; r++) {
		uint64_t want = acked + failed + KEYS, failed_before = failed;

		for (int i = 0; i < KEYS; i++) {
			uint8_t cmd[64];
			char key[16], value[32];

			snprintf(key, sizeof(key), "k%d", i);
			value_of(value, sizeof(value), i, r);
			int32_t n = rc_kv_encode_put(cmd, sizeof(cmd), key, (uint32_t)strlen(key),
						     value, (uint32_t)strlen(value));

			while (rc_propose(nodes[wait_leader()], cmd, (uint32_t)n, 0) != 0)
				poll_for(0);
		}
		for (uint64_t end = rc_clock_ns() + 10000000000ull;
		     acked + failed < want && rc_clock_ns() < end;)
			poll_for(0);
		cr_assert_eq(acked + failed, want, "round %d: PUTs not settled", r);
		if (failed != failed_before)
			r--; /* again */
	}
	failed = 0;
}

/*
 * A follower far behind the leader's log comes back while the leader commits; returns the index
 * of the last round written.
 */
static int
far_behind_follower(int *leader, int *follower)
{
	write_round(1);
	int l = wait_leader(), f = (l + 1) % NODES;

	node_down(f);
	/* Far past what the leader's log keeps (RC_LOG_ENTRIES_MAX / 2 entries). */
	write_rounds_fast(2, 2 + 3 * RC_LOG_ENTRIES_MAX / KEYS);
	int last = 2 + 3 * RC_LOG_ENTRIES_MAX / KEYS;

	node_up(f);
	/* The leader keeps committing while the follower catches up. */
	write_rounds_fast(last + 1, last + 20);
	*leader = wait_leader();
	*follower = f;
	return last + 20;
}

Test(recovery, mutation_snapshot_ahead_is_caught, .timeout = 120)
{
	int l, f;

	if (!rc_mutations_built())
		cr_skip_test("planted bugs are built with -Dmutations=true only");
	rc_mutation_set(RC_MUTATION_SNAPSHOT_AHEAD);
	snap_every = 50000;
	cluster_up();
	far_behind_follower(&l, &f);
	cr_assert_geq(rc_node_stats(nodes[f])->snapshots_installed, 1);
	cr_assert(!digests_agree(), "a snapshot labelled past its state went unnoticed");
	cluster_down();
	rc_mutation_set(RC_MUTATION_NONE);
	snap_every = 0;
}

Test(recovery, a_follower_far_behind_catches_up_through_install_snapshot, .timeout = 120)
{
	int l, f, last;

	snap_every = 50000;
	cluster_up();
	last = far_behind_follower(&l, &f);
	check_round(last);
	cr_assert_geq(rc_node_stats(nodes[f])->snapshots_installed, 1,
		      "the follower caught up without a snapshot");
	cr_assert_geq(rc_node_stats(nodes[l])->snapshots_sent, 1);
	/* A restart of the follower now starts from the snapshot it received. */
	node_down(f);
	node_up(f);
	cr_assert_gt(rc_wal_info(wals[f])->snap.index, 0);
	write_round(last + 1);
	check_round(last + 1);
	cluster_down();
	snap_every = 0;
}

Test(recovery, a_log_in_use_cannot_be_opened_again)
{
	char dir[64] = "/tmp/rc-recovery-XXXXXX", err[256] = "", cmd[96];
	struct rc_wal_config wc;
	struct rc_wal *a, *b = NULL;

	cr_assert_not_null(mkdtemp(dir));
	rc_wal_config_default(&wc, dir);
	cr_assert_eq(rc_wal_open(&wc, &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rc_wal_open(&wc, &b, err, sizeof(err)), -EWOULDBLOCK);
	cr_assert_not_null(strstr(err, "another process holds this log"), "%s", err);
	rc_wal_close(a);
	cr_assert_eq(rc_wal_open(&wc, &b, err, sizeof(err)), 0, "%s", err);
	rc_wal_close(b);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}
