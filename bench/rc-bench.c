/*
 * rc-bench: the main job. Starts a cluster in this process (default: 3 nodes over net_ring
 * ports, no hugepages, no NIC), waits for a leader, runs a closed-loop load that keeps
 * --inflight proposals outstanding, and reports commits/s, MB/s, commit latency percentiles,
 * frames/s, entries per frame and per-lcore busy share.
 *
 * A commit is counted when the leader applies an entry a majority holds and completes the
 * proposal; its latency runs from the proposal's submission to that completion. Proposals,
 * sends and acks are never counted.
 *
 *   rc-bench [options] [-- EAL arguments]
 *   rc-bench compare BASE.json NEW.json [--tolerance PCT]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <x86intrin.h>

#include <arpa/inet.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include <replicore/assert.h>
#include <replicore/kv.h>
#include <replicore/node.h>
#include <replicore/rcu.h>
#include <replicore/wal.h>
#include <replicore/wire.h>

#include "dpdk.h"
#include "histogram.h"
#include "loadgen.h"
#include "report.h"
#include "udp.h"

#define BENCH_NODES_PER_LCORE_MAX 4u
#define BENCH_LCORES_MAX RC_BENCH_LCORES_MAX
#define BENCH_ELECTION_WAIT_S 10u
#define BENCH_CHECK_ENTRIES 16384u
/* Loop threads of the udp driver (which has no EAL lcores). */
#define BENCH_UDP_THREADS 2u
#define BENCH_READERS_MAX 16u
/* A reader times one GET in this many (two TSC reads cost a good part of a local GET). */
#define BENCH_READ_SAMPLE 16u
/* Linearizable and lease reads a reader keeps outstanding (a power of two). */
#define BENCH_READS_INFLIGHT 128u
/* A read request's cookie: the reader in the top byte, its TSC stamp below. */
#define BENCH_READ_STAMP_MASK ((1ull << 56) - 1)
/* Cookies of PUTs proposed by reader threads carry this bit (TSC stamps never do). */
#define BENCH_READER_COOKIE (1ull << 63)
/* Bytes of a kv PUT's key: "key" and RC_LOADGEN_KEY_DIGITS digits. */
#define BENCH_KEY_BYTES (3u + RC_LOADGEN_KEY_DIGITS)

enum bench_phase {
	BENCH_ELECT = 0,
	BENCH_WARMUP = 1,
	BENCH_MEASURE = 2,
	BENCH_STOP = 3,
};

struct bench_opts {
	uint32_t nodes;
	uint32_t payload_bytes;
	uint32_t inflight;
	uint32_t batch_max;
	uint32_t window;
	uint32_t frame_bytes;
	double duration_s;
	double warmup_s;
	const char *driver;
	const char *json_path;
	bool loadgen_thread;
	bool raw;
	bool vs_udp;
	const char *workload;  /* "log" or "kv" */
	uint32_t readers;      /* kv: GET threads */
	const char *read_mode; /* kv: local (lease and linearizable need the runtime's ReadIndex) */
	double read_share;     /* kv: share of a reader's operations that are GETs */
	uint32_t keys;	       /* kv: keys written and read */
	const char *storage;   /* "mem" (volatile) or "wal" */
	const char *wal_dir;   /* wal: where each node's log directory is made */
	bool wal_keep;	       /* wal: leave the logs on disk after the run */
	uint64_t snapshot_entries; /* kv + wal: a snapshot every this many applied entries */
	uint64_t lag_entries;	   /* kv: pause a follower this many entries (InstallSnapshot) */
	const char *sweep;	   /* KEY=V1,V2,... */
	const char *sweep_out;	   /* PREFIX of PREFIX.csv and PREFIX.svg */
};

/* One lcore's loop state: the nodes it runs and what it measured. One writer: its lcore. */
struct bench_lcore {
	unsigned int lcore_id;
	uint32_t node_count;
	struct rc_node *nodes[BENCH_NODES_PER_LCORE_MAX];
	uint64_t busy_tsc;
	uint64_t total_tsc;
	struct rc_loadgen gen; /* the closed loop of the leader this lcore runs, if any */
	bool measuring;	       /* gen's window is open */
	uint64_t raw_rx_frames[BENCH_NODES_PER_LCORE_MAX]; /* --raw, measured phase, per node */
} __attribute__((aligned(64)));

static struct bench_opts opts = {
	.nodes = 3,
	.payload_bytes = 64,
	.inflight = 256,
	.batch_max = 256,
	.window = 32,
	.frame_bytes = 1500,
	.duration_s = 10,
	.warmup_s = 2,
	.driver = "ring",
	.workload = "log",
	.read_mode = "local",
	.read_share = 1.0,
	.keys = 100000,
	.sweep_out = "rc-bench-sweep",
	.storage = "mem",
};

/* --storage wal: each node's log, its directory, and the sync counts around the measured phase. */
static struct rc_wal *wals[RC_NODES_MAX];
static char wal_run_dir[4096];
static uint64_t wal_syncs_start[RC_NODES_MAX], wal_syncs_end[RC_NODES_MAX];

/* --lag-follower: the node whose loop is paused, and what the catch-up measured. */
static struct rc_node *bench_nodes[RC_NODES_MAX];
static struct rc_node *_Atomic paused_node;
static struct {
	uint16_t follower;
	uint64_t behind;    /* entries the leader committed while it was paused */
	uint64_t target;    /* the leader's commit when it resumed */
	double catch_up_s;  /* resume -> applied the target; < 0: not within the run */
	uint64_t committed; /* entries the leader committed during the catch-up */
	uint64_t installed; /* snapshots it installed */
} lag;

static struct bench_lcore lcores[BENCH_LCORES_MAX];
static uint32_t lcore_count;
static _Atomic int phase;
static _Atomic uint16_t leader_id;
static _Atomic uint64_t commits_live; /* for the progress line */
static _Atomic uint64_t p99_live_ns;  /* for the progress line */
static _Atomic int want_p99;
static _Atomic uint64_t thread_outstanding; /* --loadgen thread */
static uint8_t payload[RC_ENTRY_BYTES_MAX];
static struct rc_kv *kvs[RC_NODES_MAX]; /* --workload kv: each node's state machine */

/* One GET thread of the kv workload (--readers). */
struct bench_reader {
	pthread_t thread;
	uint32_t idx;
	struct rc_kv *kv;	/* the replica it reads */
	struct rc_node **nodes; /* for its PUTs, proposed to the leader */
	uint64_t seed;
	uint64_t reads; /* measured window */
	uint64_t found;
	uint64_t writes; /* PUTs proposed in the measured window */
	uint64_t write_pushback;
	uint64_t reads_failed;	 /* linearizable/lease: not leader, dropped, busy */
	uint32_t reads_inflight; /* linearizable/lease: requests not answered yet */
	struct rc_hist hist;	 /* GET latency, ns (local: sampled) */
	/* Answers to this reader's read requests, from the leader's loop (one producer). */
	_Alignas(64) _Atomic uint64_t ready_tail;
	_Alignas(64) _Atomic uint64_t ready_head;
	uint64_t ready_cookie[BENCH_READS_INFLIGHT];
	uint8_t ready_status[BENCH_READS_INFLIGHT];
} __attribute__((aligned(64)));

static struct bench_reader readers[BENCH_READERS_MAX];
static bool read_via_leader;			   /* --read-mode linearizable or lease */
static uint32_t read_flags;			   /* RC_READ_LEASE for lease */
static _Atomic uint64_t reader_writes_outstanding; /* bounded by --inflight */

/*
 * A proposal settled on the node's lcore. The thread generator counts its proposals in an atomic;
 * the generator's own count is raised first so that rc_loadgen_complete() settles it alike.
 */
static void
bench_complete(void *ctx, uint64_t cookie, uint64_t index, enum rc_propose_status status)
{
	struct bench_lcore *lc = ctx;

	(void)index;
	if (cookie & BENCH_READER_COOKIE) { /* a reader's PUT: counted with the load's commits */
		atomic_fetch_sub_explicit(&reader_writes_outstanding, 1, memory_order_relaxed);
		lc->gen.outstanding++;
		rc_loadgen_complete(&lc->gen, cookie & ~BENCH_READER_COOKIE, status);
		return;
	}
	if (opts.loadgen_thread) {
		atomic_fetch_sub_explicit(&thread_outstanding, 1, memory_order_relaxed);
		lc->gen.outstanding++;
	}
	rc_loadgen_complete(&lc->gen, cookie, status);
}

/* A read request settled on the leader's loop: handed to the reader that asked. */
static void
bench_read_ready(void *ctx, uint64_t cookie, uint64_t index, enum rc_read_status status)
{
	struct bench_reader *rd = &readers[cookie >> 56];
	uint64_t tail = atomic_load_explicit(&rd->ready_tail, memory_order_relaxed);

	(void)ctx;
	(void)index;
	/* A reader has at most BENCH_READS_INFLIGHT requests out, so there is room. */
	rd->ready_cookie[tail & (BENCH_READS_INFLIGHT - 1)] = cookie;
	rd->ready_status[tail & (BENCH_READS_INFLIGHT - 1)] = (uint8_t)status;
	atomic_store_explicit(&rd->ready_tail, tail + 1, memory_order_release);
}

/* Opens or closes this lcore's measured window when the phase says so. */
static void
bench_window(struct bench_lcore *lc, int ph)
{
	if (ph == BENCH_MEASURE && !lc->measuring) {
		rc_loadgen_measure_start(&lc->gen);
		lc->measuring = true;
	} else if (ph != BENCH_MEASURE && lc->measuring) {
		rc_loadgen_measure_stop(&lc->gen);
		lc->measuring = false;
	}
}

/* The loop of one lcore: poll its nodes, feed the leader, account busy time. */
static int
bench_lcore_loop(void *arg)
{
	struct bench_lcore *lc = arg;

	for (;;) {
		int ph = atomic_load_explicit(&phase, memory_order_relaxed);
		uint64_t t0 = rc_loadgen_tsc();
		uint64_t now_ns = rc_clock_ns();
		uint32_t work = 0;

		bench_window(lc, ph);
		if (ph == BENCH_STOP)
			break;
		for (uint32_t i = 0; i < lc->node_count; i++) {
			struct rc_node *n = lc->nodes[i];
			const struct rc_raft *r;

			if (n == atomic_load_explicit(&paused_node, memory_order_relaxed))
				continue; /* --lag-follower: as if its process stopped */
			work += rc_node_poll(n, now_ns);
			r = rc_node_raft(n);
			if (r->role != RC_ROLE_LEADER)
				continue;
			atomic_store_explicit(&leader_id, r->cfg.id, memory_order_relaxed);
			if (ph >= BENCH_WARMUP && !opts.loadgen_thread)
				rc_loadgen_top_up(&lc->gen, n);
			if (atomic_load_explicit(&want_p99, memory_order_relaxed)) {
				atomic_store_explicit(&p99_live_ns,
						      rc_hist_percentile(&lc->gen.hist, 99),
						      memory_order_relaxed);
				atomic_store_explicit(&want_p99, 0, memory_order_relaxed);
			}
			atomic_store_explicit(&commits_live, lc->gen.commits, memory_order_relaxed);
		}
		uint64_t spent = rc_loadgen_tsc() - t0;

		if (ph == BENCH_MEASURE) {
			lc->total_tsc += spent;
			if (work > 0)
				lc->busy_tsc += spent;
		}
	}
	return 0;
}

/* Opens the udp driver: every node in this process on 127.0.0.1, ports from a per-process base.
 * Returns 0 or -1 after printing why. */
static int
bench_open_udp(struct rc_driver **drv)
{
	struct rc_udp_config cfg = { 0 };
	uint16_t base = (uint16_t)(20000 + (getpid() % 4000) * 8);

	cfg.frame_bytes = opts.frame_bytes;
	cfg.local_count = (uint16_t)opts.nodes;
	for (uint16_t id = 1; id <= opts.nodes; id++)
		cfg.local_ids[id - 1] = id;
	rc_udp_loopback_peers(&cfg, (uint16_t)opts.nodes, base);
	cfg.rx_buffers = 4096;
	cfg.tx_buffers = 4096;
	return rc_udp_open(&cfg, drv) == 0 ? 0 : -1;
}

/*
 * Moves the calling thread off the lcores' CPUs (threads created after rte_eal_init() inherit
 * the main lcore's pinning, and would then share its core). Warns when no CPU is left.
 */
static void
bench_unpin(bool use_eal)
{
	cpu_set_t set;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int lcore_id;

	CPU_ZERO(&set);
	for (long c = 0; c < cpus && c < CPU_SETSIZE; c++)
		CPU_SET((int)c, &set);
	if (use_eal) {
		RTE_LCORE_FOREACH(lcore_id) {
			CPU_CLR((int)rte_lcore_to_cpu_id((int)lcore_id), &set);
		}
	}
	if (CPU_COUNT(&set) == 0) {
		fprintf(stderr, "rc-bench: warning: the load generator thread shares a core with "
				"an lcore (give the EAL fewer lcores with -l)\n");
		for (long c = 0; c < cpus && c < CPU_SETSIZE; c++)
			CPU_SET((int)c, &set);
	}
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* --loadgen thread: proposes from a plain thread through the nodes' rings. */
static void *
bench_loadgen_thread(void *arg)
{
	struct rc_node **nodes = arg;

	bench_unpin(strcmp(opts.driver, "udp") != 0);
	while (atomic_load_explicit(&phase, memory_order_relaxed) != BENCH_STOP) {
		uint16_t id = atomic_load_explicit(&leader_id, memory_order_relaxed);

		if (atomic_load_explicit(&phase, memory_order_relaxed) < BENCH_WARMUP || id == 0 ||
		    atomic_load_explicit(&thread_outstanding, memory_order_relaxed) >=
			    opts.inflight)
			continue;
		atomic_fetch_add_explicit(&thread_outstanding, 1, memory_order_relaxed);
		if (rc_propose(nodes[id - 1], payload, opts.payload_bytes, rc_loadgen_tsc()) != 0)
			atomic_fetch_sub_explicit(&thread_outstanding, 1, memory_order_relaxed);
	}
	return NULL;
}

/* Builds a kv PUT of opts.payload_bytes into buf: key "key00000000", value 0xab bytes. */
static void
bench_kv_put_template(uint8_t *buf)
{
	uint8_t key[BENCH_KEY_BYTES], value[RC_ENTRY_BYTES_MAX];
	uint32_t value_len = opts.payload_bytes - RC_KV_COMMAND_HEADER_BYTES - BENCH_KEY_BYTES;

	memcpy(key, "key", 3);
	rc_loadgen_key_digits(key + 3, 0);
	memset(value, 0xab, value_len);
	RC_ASSERT(rc_kv_encode_put(buf, opts.payload_bytes, key, BENCH_KEY_BYTES, value,
				   value_len) == (int32_t)opts.payload_bytes);
}

/*
 * Asks the leader for a linearizable (or lease) read, up to BENCH_READS_INFLIGHT at a time.
 */
static void
bench_reader_request(struct bench_reader *rd, bool measuring)
{
	uint16_t id = atomic_load_explicit(&leader_id, memory_order_relaxed);
	uint64_t cookie = (uint64_t)rd->idx << 56 | (rc_loadgen_tsc() & BENCH_READ_STAMP_MASK);

	if (id == 0 || rd->reads_inflight >= BENCH_READS_INFLIGHT)
		return;
	if (rc_read_index(rd->nodes[id - 1], cookie, read_flags) != 0) {
		if (measuring)
			rd->write_pushback++; /* the request ring is full */
		return;
	}
	rd->reads_inflight++;
}

/*
 * Serves the answered read requests: a GET of a random key on the leader that confirmed it (it
 * has applied the read index), timed from the request.
 */
static void
bench_reader_serve(struct bench_reader *rd, uint8_t *key, uint8_t *value, bool measuring)
{
	uint64_t head = atomic_load_explicit(&rd->ready_head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&rd->ready_tail, memory_order_acquire);
	uint16_t id = atomic_load_explicit(&leader_id, memory_order_relaxed);
	uint32_t len;

	for (; head < tail; head++) {
		uint64_t cookie = rd->ready_cookie[head & (BENCH_READS_INFLIGHT - 1)];
		uint8_t status = rd->ready_status[head & (BENCH_READS_INFLIGHT - 1)];

		rd->reads_inflight--;
		if (status != RC_READ_OK || id == 0) {
			rd->reads_failed += measuring;
			continue;
		}
		rd->seed = rd->seed * 6364136223846793005ull + 1442695040888963407ull;
		rc_loadgen_key_digits(key + 3, (uint32_t)((rd->seed >> 24) % opts.keys));
		enum rc_kv_result r = rc_kv_get(kvs[id - 1], key, BENCH_KEY_BYTES, value,
						RC_ENTRY_BYTES_MAX, &len, NULL);
		uint64_t now = rc_loadgen_tsc() & BENCH_READ_STAMP_MASK;

		if (measuring) {
			rc_hist_record(&rd->hist,
				       (uint64_t)((double)((now - cookie) & BENCH_READ_STAMP_MASK) *
						  lcores[0].gen.ns_per_tsc));
			rd->reads++;
			rd->found += r == RC_KV_OK;
		}
	}
	atomic_store_explicit(&rd->ready_head, head, memory_order_release);
}

/*
 * A --readers thread: GETs of random keys on its replica (read-share of its operations), and
 * PUTs proposed to the leader for the rest, until the run stops. Counts the measured phase only.
 */
static void *
bench_reader_main(void *arg)
{
	struct bench_reader *rd = arg;
	uint8_t key[BENCH_KEY_BYTES], value[RC_ENTRY_BYTES_MAX], put[RC_ENTRY_BYTES_MAX];
	uint64_t seed = 0x9e3779b97f4a7c15ull * (rd->idx + 1);
	uint64_t share = (uint64_t)(opts.read_share * 65536.0);
	uint32_t len, sample = 0;

	bench_unpin(strcmp(opts.driver, "udp") != 0);
	rc_rcu_register(RC_RCU_MEMB);
	bench_kv_put_template(put);
	memcpy(key, "key", 3);
	rc_hist_reset(&rd->hist);
	for (;;) {
		int ph = atomic_load_explicit(&phase, memory_order_relaxed);

		if (ph == BENCH_STOP)
			break;
		bool measuring = ph == BENCH_MEASURE;

		/* Batches of 64 operations between looks at the phase. */
		for (int k = 0; k < 64; k++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			rc_loadgen_key_digits(key + 3, (uint32_t)((seed >> 24) % opts.keys));
			if (((seed >> 8) & 0xffff) >= share) {
				uint16_t id = atomic_load_explicit(&leader_id,
								   memory_order_relaxed);

				if (id == 0 ||
				    atomic_load_explicit(&reader_writes_outstanding,
							 memory_order_relaxed) >= opts.inflight) {
					rd->write_pushback++;
					continue;
				}
				memcpy(put + RC_KV_COMMAND_HEADER_BYTES, key, BENCH_KEY_BYTES);
				atomic_fetch_add_explicit(&reader_writes_outstanding, 1,
							  memory_order_relaxed);
				if (rc_propose(rd->nodes[id - 1], put, opts.payload_bytes,
					       rc_loadgen_tsc() | BENCH_READER_COOKIE) != 0) {
					atomic_fetch_sub_explicit(&reader_writes_outstanding, 1,
								  memory_order_relaxed);
					rd->write_pushback++;
				} else if (measuring) {
					rd->writes++;
				}
				continue;
			}
			if (read_via_leader) {
				bench_reader_request(rd, measuring);
				continue;
			}
			bool timed = measuring && ++sample == BENCH_READ_SAMPLE;
			uint64_t t0 = timed ? rc_loadgen_tsc() : 0;
			enum rc_kv_result r = rc_kv_get(rd->kv, key, BENCH_KEY_BYTES, value,
							sizeof(value), &len, NULL);

			if (timed) {
				rc_hist_record(&rd->hist,
					       (uint64_t)((double)(rc_loadgen_tsc() - t0) *
							  lcores[0].gen.ns_per_tsc));
				sample = 0;
			}
			if (measuring) {
				rd->reads++;
				rd->found += r == RC_KV_OK;
			}
		}
		/* (Yielding when idle was tried: the loop sharing the CPU keeps it for a whole
		 * time slice, and reads fell tenfold.) */
		if (read_via_leader)
			bench_reader_serve(rd, key, value, measuring);
	}
	/* Wait for the answers still out (the loops run until every thread saw STOP). */
	for (int tries = 0; rd->reads_inflight > 0 && tries < 100000; tries++)
		bench_reader_serve(rd, key, value, false);
	rc_rcu_unregister();
	return NULL;
}

static void
bench_usage(FILE *f)
{
	fprintf(f,
		"usage: rc-bench [options] [-- EAL arguments]\n"
		"       rc-bench compare BASE.json NEW.json [--tolerance PCT]\n"
		"Runs a Raft cluster in this process and measures commits per second and commit\n"
		"latency (proposal to the leader's apply of an entry a majority holds).\n"
		"  --nodes N        voters, 1..%u (default 3)\n"
		"  --payload B      bytes per entry (default 64)\n"
		"  --inflight N     proposals kept outstanding (default 256)\n"
		"  --batch-max N    proposals per PROPOSE event, 1..%u (default 256)\n"
		"  --window N       AppendEntries in flight per follower, 1..%u (default 32)\n"
		"  --frame B        MTU in bytes: 1500, or up to 9000 for jumbo (default 1500)\n"
		"  --duration S     measured seconds (default 10)\n"
		"  --warmup S       seconds run before measuring (default 2)\n"
		"  --driver NAME    ring (net_ring ports in this process; default), memif\n"
		"                   (a memif link per pair of nodes, in this process), or udp\n"
		"                   (kernel sockets on 127.0.0.1, %u threads, no EAL)\n"
		"  --loadgen WHERE  leader (in the leader's loop; default) or thread\n"
		"  --json FILE      write parameters, environment and results (bench/SCHEMA.md)\n"
		"  --workload W     log (opaque entries; default) or kv (key-value PUTs\n"
		"                   applied to a lock-free table on every node)\n"
		"  --readers N      kv: threads doing GETs on the replicas (thread i reads node\n"
		"                   i+2, a follower first), 0..%u (default 0)\n"
		"  --read-share F   kv: share of a reader's operations that are GETs, the\n"
		"                   rest PUTs to the leader (YCSB-A 0.5, YCSB-B 0.95;\n"
		"                   default 1.0)\n"
		"  --read-mode M    kv: local (this replica's applied state, possibly stale;\n"
		"                   default), linearizable (ReadIndex on the leader, %u\n"
		"                   requests in flight per reader) or lease (the leader's\n"
		"                   lease, ReadIndex outside it)\n"
		"  --keys N         kv: keys written and read (default 100000)\n"
		"  --raw            then stream full-size frames over the same ports with no Raft\n"
		"                   for the same duration, and print Raft's share of that rate\n"
		"  --vs-udp         then the same bench over the udp driver in a fresh process,\n"
		"                   printed beside, with the ratio\n"
		"  --sweep K=V1,V2  run once per value of K (nodes, payload, inflight, batch-max,\n"
		"                   window, frame), each in a fresh process; write PREFIX.csv and\n"
		"                   PREFIX.svg (gnuplot): commits/s and p99 against K\n"
		"  --sweep-out P    PREFIX for --sweep (default rc-bench-sweep)\n"
		"  --storage S      mem (volatile: figures are NOT DURABLE; default) or wal (a\n"
		"                   write-ahead log per node, group commit, fdatasync)\n"
		"  --wal-dir DIR    wal: the logs go to DIR/rc-bench-PID/node-N, removed after\n"
		"                   the run (put DIR on the disk to measure)\n"
		"  --wal-keep       wal: keep the logs (inspect them with rc-waldump)\n"
		"  --snapshot-entries N  kv + wal: save a snapshot every N applied entries and\n"
		"                   compact the log (default: never)\n"
		"  --lag-follower N kv: pause a follower's loop while the leader commits N\n"
		"                   entries, then time its catch-up (InstallSnapshot)\n"
		"EAL arguments default to: -l 0-1 --no-huge --no-pci --no-shconf -m 512\n"
		"  --file-prefix rc-bench-PID --log-level lib.eal:error\n",
		RC_NODES_MAX, RC_PROPOSE_ENTRIES_MAX, RC_INFLIGHT_MSGS_MAX, BENCH_UDP_THREADS,
		BENCH_READERS_MAX, BENCH_READS_INFLIGHT);
}

/* Parses an unsigned option value within [lo, hi]; exits 2 naming the option otherwise. */
static uint32_t
bench_parse_u32(const char *name, const char *v, uint32_t lo, uint32_t hi)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || end == v || x < lo || x > hi) {
		fprintf(stderr, "rc-bench: --%s wants a whole number in %u..%u, not '%s'\n", name,
			lo, hi, v);
		exit(2);
	}
	return (uint32_t)x;
}

/* Parses rc-bench's own options (before "--"); exits 2 on a bad one. */
static void
bench_parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "nodes", required_argument, NULL, 'n' },
		{ "payload", required_argument, NULL, 'p' },
		{ "inflight", required_argument, NULL, 'i' },
		{ "batch-max", required_argument, NULL, 'b' },
		{ "window", required_argument, NULL, 'w' },
		{ "frame", required_argument, NULL, 'f' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'u' },
		{ "driver", required_argument, NULL, 'D' },
		{ "loadgen", required_argument, NULL, 'L' },
		{ "json", required_argument, NULL, 'j' },
		{ "raw", no_argument, NULL, 'r' },
		{ "vs-udp", no_argument, NULL, 'V' },
		{ "workload", required_argument, NULL, 'W' },
		{ "readers", required_argument, NULL, 'R' },
		{ "read-share", required_argument, NULL, 'S' },
		{ "read-mode", required_argument, NULL, 'M' },
		{ "keys", required_argument, NULL, 'K' },
		{ "storage", required_argument, NULL, 'T' },
		{ "wal-dir", required_argument, NULL, 'Y' },
		{ "wal-keep", no_argument, NULL, 'k' },
		{ "snapshot-entries", required_argument, NULL, 'e' },
		{ "lag-follower", required_argument, NULL, 'g' },
		{ "sweep", required_argument, NULL, 's' },
		{ "sweep-out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			opts.nodes = bench_parse_u32("nodes", optarg, 1, RC_NODES_MAX);
			break;
		case 'p':
			opts.payload_bytes = bench_parse_u32("payload", optarg, 1,
							     RC_ENTRY_BYTES_MAX);
			break;
		case 'i':
			opts.inflight = bench_parse_u32("inflight", optarg, 1, 65536);
			break;
		case 'b':
			opts.batch_max = bench_parse_u32("batch-max", optarg, 1,
							 RC_PROPOSE_ENTRIES_MAX);
			break;
		case 'w':
			opts.window = bench_parse_u32("window", optarg, 1, RC_INFLIGHT_MSGS_MAX);
			break;
		case 'f':
			opts.frame_bytes = bench_parse_u32("frame", optarg, RC_FRAME_BYTES_MIN,
							   RC_FRAME_BYTES_MAX);
			break;
		case 'd':
			opts.duration_s = rc_loadgen_parse_seconds("rc-bench", "duration", optarg,
								   false);
			break;
		case 'u':
			opts.warmup_s = rc_loadgen_parse_seconds("rc-bench", "warmup", optarg,
								 true);
			break;
		case 'D':
			opts.driver = optarg;
			break;
		case 'L':
			if (strcmp(optarg, "thread") != 0 && strcmp(optarg, "leader") != 0) {
				fprintf(stderr, "rc-bench: --loadgen is 'leader' or 'thread'\n");
				exit(2);
			}
			opts.loadgen_thread = strcmp(optarg, "thread") == 0;
			break;
		case 'j':
			opts.json_path = optarg;
			break;
		case 'r':
			opts.raw = true;
			break;
		case 'V':
			opts.vs_udp = true;
			break;
		case 'W':
			if (strcmp(optarg, "log") != 0 && strcmp(optarg, "kv") != 0) {
				fprintf(stderr, "rc-bench: --workload is 'log' or 'kv'\n");
				exit(2);
			}
			opts.workload = optarg;
			break;
		case 'R':
			opts.readers = bench_parse_u32("readers", optarg, 0, BENCH_READERS_MAX);
			break;
		case 'S': {
			char *end;

			errno = 0;
			opts.read_share = strtod(optarg, &end);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    !(opts.read_share >= 0) || opts.read_share > 1) {
				fprintf(stderr,
					"rc-bench: --read-share wants a number in [0, 1], "
					"not '%s'\n",
					optarg);
				exit(2);
			}
			break;
		}
		case 'M':
			if (strcmp(optarg, "local") != 0 && strcmp(optarg, "lease") != 0 &&
			    strcmp(optarg, "linearizable") != 0) {
				fprintf(stderr, "rc-bench: --read-mode is local, lease or "
						"linearizable\n");
				exit(2);
			}
			opts.read_mode = optarg;
			read_via_leader = strcmp(optarg, "local") != 0;
			read_flags = strcmp(optarg, "lease") == 0 ? RC_READ_LEASE : 0;
			break;
		case 'K':
			opts.keys = bench_parse_u32("keys", optarg, 1, 10000000);
			break;
		case 'T':
			if (strcmp(optarg, "mem") != 0 && strcmp(optarg, "wal") != 0) {
				fprintf(stderr, "rc-bench: --storage is 'mem' or 'wal'\n");
				exit(2);
			}
			opts.storage = optarg;
			break;
		case 'Y':
			opts.wal_dir = optarg;
			break;
		case 'k':
			opts.wal_keep = true;
			break;
		case 'e':
			opts.snapshot_entries = bench_parse_u32("snapshot-entries", optarg, 1,
								UINT32_MAX);
			break;
		case 'g':
			opts.lag_entries = bench_parse_u32("lag-follower", optarg, 1, UINT32_MAX);
			break;
		case 's':
			opts.sweep = optarg;
			break;
		case 'o':
			opts.sweep_out = optarg;
			break;
		case 'h':
			bench_usage(stdout);
			exit(0);
		default:
			fprintf(stderr,
				"rc-bench: unknown option or missing value: '%s' (see --help)\n",
				argv[optind - 1]);
			exit(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "rc-bench: unexpected argument '%s' (see --help)\n", argv[optind]);
		exit(2);
	}
	if (strcmp(opts.driver, "ring") != 0 && strcmp(opts.driver, "udp") != 0 &&
	    strcmp(opts.driver, "memif") != 0) {
		fprintf(stderr,
			"rc-bench: driver '%s' is not available (ring, memif or udp; af_xdp and "
			"pci run one node per process: tools/rc-node)\n",
			opts.driver);
		exit(2);
	}
	bool kv = strcmp(opts.workload, "kv") == 0;

	if ((strcmp(opts.storage, "wal") == 0) != (opts.wal_dir != NULL) ||
	    (opts.wal_keep && opts.wal_dir == NULL)) {
		fprintf(stderr, "rc-bench: --storage wal needs --wal-dir DIR, and --wal-dir and "
				"--wal-keep need --storage wal\n");
		exit(2);
	}
	if (!kv && (opts.lag_entries > 0 || opts.snapshot_entries > 0)) {
		fprintf(stderr,
			"rc-bench: --lag-follower and --snapshot-entries need --workload kv "
			"(a snapshot is the state machine's)\n");
		exit(2);
	}
	if (opts.lag_entries > 0 && opts.nodes < 3) {
		fprintf(stderr, "rc-bench: --lag-follower needs at least 3 nodes\n");
		exit(2);
	}
	if (!kv && (opts.readers > 0 || opts.read_share != 1.0)) {
		fprintf(stderr, "rc-bench: --readers and --read-share need --workload kv\n");
		exit(2);
	}
	if (kv && opts.payload_bytes < RC_KV_COMMAND_HEADER_BYTES + BENCH_KEY_BYTES + 8) {
		fprintf(stderr, "rc-bench: --workload kv needs --payload of at least %u bytes\n",
			RC_KV_COMMAND_HEADER_BYTES + BENCH_KEY_BYTES + 8);
		exit(2);
	}
	if (kv && opts.read_share < 1.0 && opts.readers == 0) {
		fprintf(stderr, "rc-bench: --read-share needs --readers\n");
		exit(2);
	}
	if (rc_wire_append_bytes(1, opts.payload_bytes) >
	    opts.frame_bytes - RC_FRAME_IP_UDP_BYTES) {
		fprintf(stderr, "rc-bench: a %u-byte payload does not fit a %u-byte frame\n",
			opts.payload_bytes, opts.frame_bytes);
		exit(2);
	}
}

/* Runs `rc-bench compare BASE NEW [--tolerance PCT]`; returns the exit status. */
static int
bench_compare_main(int argc, char **argv)
{
	struct rc_bench_result base, cur;
	char err[256];
	double tolerance = 5;

	if (argc == 5 && strcmp(argv[3], "--tolerance") == 0) {
		char *end;

		tolerance = strtod(argv[4], &end);
		if (*end != '\0' || end == argv[4] || !(tolerance >= 0) || tolerance > 1000) {
			fprintf(stderr, "rc-bench compare: --tolerance wants a percentage\n");
			return 2;
		}
	} else if (argc != 3) {
		fprintf(stderr, "usage: rc-bench compare BASE.json NEW.json [--tolerance PCT]\n");
		return 2;
	}
	if (rc_bench_json_read(argv[1], &base, err, sizeof(err)) != 0 ||
	    rc_bench_json_read(argv[2], &cur, err, sizeof(err)) != 0) {
		fprintf(stderr, "rc-bench compare: %s\n", err);
		return 2;
	}
	return rc_bench_compare(&base, &cur, tolerance, stdout) != 0 ? 1 : 0;
}

/* Builds the EAL argument vector: the user's after "--", else the in-process defaults. */
static int
bench_eal_args(int argc, char **argv, int split, char **eal, char *prefix, size_t prefix_len)
{
	int n = 0;

	eal[n++] = argv[0];
	if (split < argc) {
		for (int i = split + 1; i < argc && n < 48; i++)
			eal[n++] = argv[i];
		return n;
	}
	snprintf(prefix, prefix_len, "--file-prefix=rc-bench-%d", (int)getpid());
	static char *defaults[] = {
		"-l",	       "0-1", "--no-huge", "--no-pci",
		"--no-shconf", "-m",  "512",	   "--log-level=lib.eal:error"
	};
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		eal[n++] = defaults[i];
	eal[n++] = prefix;
	return n;
}

/* memif vdevs of the in-process mesh: one link (server and client port) per pair of nodes. */
static char memif_vdev[RC_NODES_MAX * (RC_NODES_MAX - 1)][256];

/* Returns the vdev name of the memif port node a uses to reach node b. */
static void
bench_memif_name(char *buf, size_t len, uint16_t a, uint16_t b)
{
	snprintf(buf, len, "net_memif_%c%u%u", a < b ? 's' : 'c', a < b ? a : b, a < b ? b : a);
}

/* Returns the socket path of the memif link between a and b (a < b). */
static void
bench_memif_socket(char *buf, size_t len, uint16_t a, uint16_t b)
{
	snprintf(buf, len, "/tmp/rc-bench-%d-memif-%u-%u.sock", (int)getpid(), a, b);
}

/* Appends to eal the --vdev arguments of a full memif mesh between opts.nodes nodes. */
static int
bench_memif_args(char **eal, int n)
{
	uint32_t v = 0;

	for (uint16_t a = 1; a <= opts.nodes; a++) {
		for (uint16_t b = 1; b <= opts.nodes; b++) {
			char name[32], sock[96];

			if (a == b)
				continue;
			bench_memif_name(name, sizeof(name), a, b);
			bench_memif_socket(sock, sizeof(sock), a < b ? a : b, a < b ? b : a);
			snprintf(memif_vdev[v], sizeof(memif_vdev[v]),
				 "--vdev=%s,role=%s,id=0,socket=%s,socket-abstract=no", name,
				 a < b ? "server" : "client", sock);
			eal[n++] = memif_vdev[v++];
		}
	}
	return n;
}

/* Opens the ports driver over the memif mesh. Returns 0, or -1 after printing why. */
static int
bench_open_memif(struct rc_driver **drv)
{
	static struct rc_dpdk_ports_config cfg;

	cfg.frame_bytes = opts.frame_bytes;
	cfg.peer_count = (uint16_t)opts.nodes;
	cfg.local_count = (uint16_t)opts.nodes;
	cfg.link_wait_ms = 5000;
	for (uint16_t id = 1; id <= opts.nodes; id++) {
		struct rc_dpdk_peer *p = &cfg.peers[id - 1];
		struct rc_dpdk_local *l = &cfg.locals[id - 1];

		*p = (struct rc_dpdk_peer){ .id = id,
					    .mac = { 0x02, 0, 0, 0, 0, (uint8_t)id },
					    .ipv4_be = htonl(0x7f000000u | id),
					    .udp_port = (uint16_t)(7400 + id) };
		l->id = id;
		for (uint16_t peer = 1; peer <= opts.nodes; peer++) {
			char name[32];
			uint16_t port;

			if (peer == id)
				continue;
			bench_memif_name(name, sizeof(name), id, peer);
			if (rte_eth_dev_get_port_by_name(name, &port) != 0) {
				fprintf(stderr, "rc-bench: memif port %s not found\n", name);
				return -1;
			}
			l->links[l->link_count++] = (struct rc_dpdk_link){ peer, port };
		}
	}
	return rc_dpdk_open_ports(&cfg, drv) == 0 ? 0 : -1;
}

/* Removes the memif socket files of this run. */
static void
bench_memif_cleanup(void)
{
	for (uint16_t a = 1; a <= opts.nodes; a++) {
		for (uint16_t b = (uint16_t)(a + 1); b <= opts.nodes; b++) {
			char sock[96];

			bench_memif_socket(sock, sizeof(sock), a, b);
			unlink(sock);
		}
	}
}

/* --storage wal: opens node id's log in a fresh directory of this run; exits 1 on failure. */
static struct rc_wal *
bench_wal_open(uint16_t id)
{
	struct rc_wal_config wc;
	struct rc_wal *w;
	char dir[4200], err[512];

	if (wal_run_dir[0] == '\0') {
		snprintf(wal_run_dir, sizeof(wal_run_dir), "%s/rc-bench-%d", opts.wal_dir,
			 (int)getpid());
		if ((mkdir(opts.wal_dir, 0755) != 0 && errno != EEXIST) ||
		    mkdir(wal_run_dir, 0755) != 0) {
			fprintf(stderr, "rc-bench: cannot make %s: %s\n", wal_run_dir,
				strerror(errno));
			exit(1);
		}
	}
	snprintf(dir, sizeof(dir), "%s/node-%u", wal_run_dir, id);
	rc_wal_config_default(&wc, dir);
	if (rc_wal_open(&wc, &w, err, sizeof(err)) != 0) {
		fprintf(stderr, "rc-bench: node %u: %s\n", id, err);
		exit(1);
	}
	return w;
}

/* Removes the run's logs (segment files, then the directories), unless --wal-keep. */
static void
bench_wal_remove(void)
{
	char path[4400];

	if (wal_run_dir[0] == '\0')
		return;
	if (opts.wal_keep) {
		printf("  logs kept in %s (tools/rc-waldump DIR/node-N)\n", wal_run_dir);
		return;
	}
	for (uint32_t id = 1; id <= opts.nodes; id++) {
		snprintf(path, sizeof(path), "%s/node-%u", wal_run_dir, id);
		DIR *d = opendir(path);
		struct dirent *de;

		while (d != NULL && (de = readdir(d)) != NULL) {
			/* The log's files only: segments, snapshots, the lock. */
			if (strncmp(de->d_name, "wal-", 4) == 0 ||
			    strncmp(de->d_name, "snap-", 5) == 0 ||
			    strcmp(de->d_name, "LOCK") == 0) {
				snprintf(path, sizeof(path), "%s/node-%u/%s", wal_run_dir, id,
					 de->d_name);
				unlink(path);
			}
		}
		if (d != NULL)
			closedir(d);
		snprintf(path, sizeof(path), "%s/node-%u", wal_run_dir, id);
		rmdir(path);
	}
	rmdir(wal_run_dir);
}

/* Sync counts of every node's log, for the measured phase. */
static void
bench_wal_syncs(uint64_t *out)
{
	for (uint32_t i = 0; i < opts.nodes; i++) {
		struct rc_wal_stats st = { 0 };

		if (wals[i] != NULL)
			rc_wal_stats(wals[i], &st);
		out[i] = st.syncs;
	}
}

/* --storage wal: syncs per second and the latency of one fdatasync, all nodes together. */
static void
bench_collect_syncs(struct rc_bench_result *r)
{
	static struct rc_hist hist;
	static uint64_t samples[RC_WAL_SYNC_SAMPLES];
	uint64_t syncs = 0;

	if (wals[0] == NULL)
		return;
	rc_hist_reset(&hist);
	for (uint32_t i = 0; i < opts.nodes; i++) {
		uint32_t n = rc_wal_sync_samples(wals[i], samples, RC_WAL_SYNC_SAMPLES);

		for (uint32_t k = 0; k < n; k++)
			rc_hist_record(&hist, samples[k]);
		syncs += wal_syncs_end[i] - wal_syncs_start[i];
	}
	r->syncs_measured = true;
	r->syncs_per_sec = (double)syncs / opts.duration_s;
	rc_bench_latency_from_hist(&r->sync_latency_us, &hist);
}

/* Creates the nodes and places node i on lcore (i - 1) % lcores. Returns 0 or exits 1. */
static void
bench_place(struct rc_driver *drv, struct rc_node **nodes)
{
	uint16_t voters[RC_NODES_MAX];
	unsigned int lcore_id;
	uint32_t count = 0;

	if (strcmp(opts.driver, "udp") == 0) {
		for (count = 0; count < BENCH_UDP_THREADS; count++)
			lcores[count].lcore_id = count;
	} else {
		RTE_LCORE_FOREACH(lcore_id) {
			if (count < BENCH_LCORES_MAX)
				lcores[count++].lcore_id = lcore_id;
		}
	}
	lcore_count = count;
	if (opts.nodes > lcore_count * BENCH_NODES_PER_LCORE_MAX) {
		fprintf(stderr, "rc-bench: %u nodes do not fit %u lcores (%u nodes per lcore)\n",
			opts.nodes, lcore_count, BENCH_NODES_PER_LCORE_MAX);
		exit(1);
	}
	for (uint16_t id = 1; id <= opts.nodes; id++)
		voters[id - 1] = id;
	for (uint16_t id = 1; id <= opts.nodes; id++) {
		struct bench_lcore *lc = &lcores[(id - 1) % lcore_count];
		struct rc_node_config cfg;

		rc_node_config_default(&cfg, id, voters, (uint16_t)opts.nodes);
		cfg.raft.seed = 1000 + id;
		cfg.raft.inflight_msgs_max = opts.window;
		cfg.payload_bytes_max = opts.payload_bytes;
		cfg.propose_batch_max = opts.batch_max;
		cfg.propose_ring_slots = 1;
		while (cfg.propose_ring_slots < 2 * opts.inflight)
			cfg.propose_ring_slots <<= 1;
		cfg.complete = bench_complete;
		cfg.read_ready = bench_read_ready;
		cfg.raft.lease_reads = strcmp(opts.read_mode, "lease") == 0;
		cfg.ctx = lc;
		if (strcmp(opts.workload, "kv") == 0) {
			struct rc_kv_config kc;

			rc_kv_config_default(&kc, opts.keys, BENCH_KEY_BYTES, opts.payload_bytes);
			if (rc_kv_create(&kc, &kvs[id - 1]) != 0) {
				fprintf(stderr, "rc-bench: node %u: no memory for the kv table\n",
					id);
				exit(1);
			}
			cfg.apply_batch = rc_kv_node_apply_batch;
			cfg.apply_ctx = kvs[id - 1];
			cfg.snapshot_save = rc_kv_node_snapshot_save;
			cfg.snapshot_restore = rc_kv_node_snapshot_restore;
			cfg.snapshot_entries = opts.snapshot_entries;
		}
		if (strcmp(opts.storage, "wal") == 0)
			cfg.wal = wals[id - 1] = bench_wal_open(id);
		if (rc_node_create(&cfg, drv, &nodes[id - 1]) != 0) {
			fprintf(stderr, "rc-bench: node %u could not be created\n", id);
			exit(1);
		}
		lc->nodes[lc->node_count++] = nodes[id - 1];
		bench_nodes[id - 1] = nodes[id - 1];
	}
}

/* The node status of id (1-based). */
static struct rc_node_status
bench_status(uint16_t id)
{
	struct rc_node_status st;

	rc_node_status(bench_nodes[id - 1], &st);
	return st;
}

/*
 * --lag-follower: pauses a follower's loop until the leader committed lag_entries more, resumes
 * it, and times its catch-up to the leader's commit at that moment (InstallSnapshot once it fell
 * behind the leader's log), while the load goes on.
 */
static void *
bench_lag(void *arg)
{
	uint16_t leader = atomic_load(&leader_id);
	uint64_t start, t0;

	(void)arg;
	lag.catch_up_s = -1;
	for (uint16_t id = (uint16_t)opts.nodes; id >= 1; id--)
		if (id != leader) {
			lag.follower = id;
			break;
		}
	start = bench_status(leader).commit;
	atomic_store(&paused_node, bench_nodes[lag.follower - 1]);
	while (atomic_load(&phase) == BENCH_MEASURE &&
	       bench_status(leader).commit < start + opts.lag_entries)
		usleep(1000);
	lag.target = bench_status(leader).commit;
	lag.behind = lag.target - bench_status(lag.follower).applied;
	atomic_store(&paused_node, NULL);
	t0 = rc_clock_ns();
	while (atomic_load(&phase) == BENCH_MEASURE) {
		if (bench_status(lag.follower).applied >= lag.target) {
			lag.catch_up_s = (double)(rc_clock_ns() - t0) / 1e9;
			lag.committed = bench_status(leader).commit - lag.target;
			break;
		}
		usleep(1000);
	}
	return NULL;
}

/* Waits for a leader, runs warm-up and the measured phase with a progress line each second.
 * Always ends the run (phase STOP). */
static void *
bench_control(void *arg)
{
	(void)arg;
	uint64_t t0 = rc_clock_ns();

	while (atomic_load(&leader_id) == 0) {
		if (rc_clock_ns() - t0 > BENCH_ELECTION_WAIT_S * 1000000000ull) {
			fprintf(stderr, "rc-bench: no leader elected within %u s\n",
				BENCH_ELECTION_WAIT_S);
			atomic_store(&phase, BENCH_STOP);
			return NULL;
		}
		usleep(1000);
	}
	printf("leader: node %u after %.1f ms\n", atomic_load(&leader_id),
	       (double)(rc_clock_ns() - t0) / 1e6);
	atomic_store(&phase, BENCH_WARMUP);
	usleep((useconds_t)(opts.warmup_s * 1e6));
	bench_wal_syncs(wal_syncs_start);
	atomic_store(&phase, BENCH_MEASURE);
	if (opts.lag_entries > 0) {
		pthread_t t;

		if (pthread_create(&t, NULL, bench_lag, NULL) == 0)
			pthread_detach(t);
	}
	for (uint32_t s = 1; s <= (uint32_t)opts.duration_s; s++) {
		usleep(1000000);
		atomic_store(&want_p99, 1);
		usleep(1000);
		printf("[%3u s] %12.0f commits/s so far, p99 %8.1f us\n", s,
		       (double)atomic_load(&commits_live) / s,
		       (double)atomic_load(&p99_live_ns) / 1000.0);
		fflush(stdout);
	}
	double rest = opts.duration_s - (uint32_t)opts.duration_s;

	if (rest > 0)
		usleep((useconds_t)(rest * 1e6));
	bench_wal_syncs(wal_syncs_end);
	atomic_store(&phase, BENCH_STOP);
	return NULL;
}

/* Gathers the lcores' measurements into r: their windows merged, frames of all nodes. */
static void
bench_collect(struct rc_node **nodes, struct rc_bench_result *r)
{
	static struct rc_loadgen total;
	struct rc_loadgen_frames frames = { .seconds = opts.duration_s + opts.warmup_s };

	total = lcores[0].gen;
	for (uint32_t i = 0; i < lcore_count; i++) {
		if (i > 0) {
			rc_hist_merge(&total.hist, &lcores[i].gen.hist);
			total.commits += lcores[i].gen.commits;
		}
		r->lcore_busy_share[i] = lcores[i].total_tsc == 0 ?
						 0 :
						 (double)lcores[i].busy_tsc /
							 (double)lcores[i].total_tsc;
	}
	r->lcore_busy_count = lcore_count;
	for (uint32_t i = 0; i < opts.nodes; i++) {
		frames.tx_frames += rc_node_stats(nodes[i])->tx_frames;
		frames.tx_entries += rc_node_stats(nodes[i])->tx_entries;
		frames.tx_append_frames += rc_node_stats(nodes[i])->tx_append_frames;
	}
	/* Frames are counted over the whole run (warm-up included). */
	rc_loadgen_result(&total, opts.duration_s, &frames, r);
}

/*
 * After the run: every node must hold the same entries (term and payload) up to the lowest
 * commit index; checks the last BENCH_CHECK_ENTRIES of them. Returns 0, or -1 after printing
 * the first disagreement.
 */
static int
bench_check_logs(struct rc_node **nodes)
{
	uint64_t commit = UINT64_MAX;

	for (uint32_t i = 0; i < opts.nodes; i++) {
		uint64_t c = rc_node_raft(nodes[i])->commit;

		commit = c < commit ? c : commit;
	}
	uint64_t first = commit > BENCH_CHECK_ENTRIES ? commit - BENCH_CHECK_ENTRIES + 1 : 1;

	/* Only what every node still holds: compaction keeps the newest half of each ring. */
	for (uint32_t i = 0; i < opts.nodes; i++)
		if (rc_node_raft(nodes[i])->snap_index >= first)
			first = rc_node_raft(nodes[i])->snap_index + 1;

	for (uint64_t index = first; index <= commit; index++) {
		const struct rc_raft *r0 = rc_node_raft(nodes[0]);
		uint32_t bytes0, bytes;
		const void *p0 = rc_node_payload(nodes[0], index, &bytes0);

		for (uint32_t i = 1; i < opts.nodes; i++) {
			const struct rc_raft *r = rc_node_raft(nodes[i]);
			const void *p = rc_node_payload(nodes[i], index, &bytes);

			if (p0 == NULL || p == NULL ||
			    rc_raft_term_at(r, index) != rc_raft_term_at(r0, index) ||
			    bytes != bytes0 || memcmp(p, p0, bytes) != 0) {
				fprintf(stderr,
					"rc-bench: nodes 1 and %u disagree at index %" PRIu64
					" (commit indexes %" PRIu64 " and %" PRIu64 ")\n",
					i + 1, index, r0->commit, r->commit);
				return -1;
			}
		}
	}
	printf("  check              logs of all %u nodes agree on entries %" PRIu64 "..%" PRIu64
	       " (lowest commit)\n",
	       opts.nodes, first, commit);
	return 0;
}

/* Gathers the readers' counts and latency samples into r (kv workload). */
static void
bench_collect_reads(struct rc_bench_result *r)
{
	static struct rc_hist hist;
	uint64_t reads = 0, found = 0, pushback = 0, failed = 0;

	rc_hist_reset(&hist);
	for (uint32_t i = 0; i < opts.readers; i++) {
		reads += readers[i].reads;
		found += readers[i].found;
		pushback += readers[i].write_pushback;
		failed += readers[i].reads_failed;
		rc_hist_merge(&hist, &readers[i].hist);
	}
	r->writes_per_sec = r->commits_per_sec;
	r->reads_measured = opts.readers > 0 && reads > 0;
	if (r->reads_measured) {
		r->reads_per_sec = (double)reads / opts.duration_s;
		rc_bench_latency_from_hist(&r->read_latency_us, &hist);
		printf("  reads              %" PRIu64 " GETs (%s), %.1f%% found; %" PRIu64
		       " reads refused (not leader, dropped, busy); %" PRIu64
		       " requests pushed back\n",
		       reads, opts.read_mode, 100.0 * (double)found / (double)reads, failed,
		       pushback);
	}
}

/* Prints the summary table. */
static void
bench_print(const struct rc_bench_result *r)
{
	printf("\nrc-bench: %u nodes over %s, storage %s, payload %u B, "
	       "frame %u B,\n"
	       "          inflight %u, batch-max %u, window %u, load generator: %s\n",
	       opts.nodes, opts.driver,
	       r->params.durable ? "wal (durable: fdatasync before acks)" : "mem (NOT DURABLE)",
	       opts.payload_bytes, opts.frame_bytes, opts.inflight, opts.batch_max, opts.window,
	       opts.loadgen_thread ? "separate thread" : "in the leader's loop");
	rc_loadgen_print(stdout, r, "all nodes");
	if (opts.lag_entries > 0) {
		lag.installed = rc_node_stats(bench_nodes[lag.follower - 1])->snapshots_installed;
		if (lag.catch_up_s >= 0)
			printf("  lagging follower   node %u, %" PRIu64
			       " entries behind: caught up in %.1f ms (polled every ms) "
			       "through %" PRIu64
			       " snapshot(s), while the leader committed %" PRIu64 " more\n",
			       lag.follower, lag.behind, lag.catch_up_s * 1e3, lag.installed,
			       lag.committed);
		else
			printf("  lagging follower   node %u, %" PRIu64
			       " entries behind: NOT caught up within the run (%" PRIu64
			       " snapshot(s) installed)\n",
			       lag.follower, lag.behind, lag.installed);
	}
	if (r->syncs_measured) {
		printf("  fdatasync          %.0f/s (all nodes), %.1f commits per sync and node\n",
		       r->syncs_per_sec,
		       r->syncs_per_sec > 0 ? r->commits_per_sec * opts.nodes / r->syncs_per_sec :
					      0);
		printf("  fdatasync us       p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f   "
		       "(commit p99 / fdatasync p99: %.2f)\n",
		       r->sync_latency_us.p50, r->sync_latency_us.p90, r->sync_latency_us.p99,
		       r->sync_latency_us.p999, r->sync_latency_us.max,
		       r->sync_latency_us.p99 > 0 ? r->latency_us.p99 / r->sync_latency_us.p99 : 0);
	}
	if (strcmp(opts.workload, "kv") == 0) {
		printf("  workload           kv: %u keys, %u readers (%s), read share %.2f\n",
		       opts.keys, opts.readers, opts.read_mode, opts.read_share);
		printf("  writes/s           %14.0f   (committed PUTs, applied on every node)\n",
		       r->writes_per_sec);
		if (r->reads_measured) {
			printf("  reads/s            %14.0f\n", r->reads_per_sec);
			printf("  read latency us    p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max "
			       "%.1f\n",
			       r->read_latency_us.p50, r->read_latency_us.p90,
			       r->read_latency_us.p99, r->read_latency_us.p999,
			       r->read_latency_us.max);
		}
	}
	if (r->raw_frames_per_sec > 0)
		printf("  raw (no Raft)      %14.0f frames/s to followers, %.0f entries/s to each;"
		       " Raft's share %.1f%%\n",
		       r->raw_frames_per_sec, r->commits_per_sec / r->raft_share,
		       r->raft_share * 100);
	if (r->udp.measured)
		printf("  udp, same load     %14.0f commits/s, p50 %.1f us, p99 %.1f us;"
		       " %s/udp = %.2fx\n",
		       r->udp.commits_per_sec, r->udp.latency_us.p50, r->udp.latency_us.p99,
		       opts.driver, r->commits_per_sec / r->udp.commits_per_sec);
	printf("  lcore busy         ");
	for (uint32_t i = 0; i < r->lcore_busy_count; i++)
		printf(" lcore%u %.0f%%", lcores[i].lcore_id, r->lcore_busy_share[i] * 100);
	printf("\n");
}

/* A plain thread running one loop (the udp driver has no EAL lcores). */
struct bench_thread_arg {
	int (*fn)(void *);
	void *arg;
};

static void *
bench_thread_main(void *p)
{
	struct bench_thread_arg *t = p;

	t->fn(t->arg);
	return NULL;
}

/*
 * Runs fn on every loop (lcore 0 on the calling thread; the others on EAL lcores, or on plain
 * threads for the udp driver) and control on a thread of its own, until all return. Returns 0,
 * or -1 after printing why a thread could not start.
 */
static int
bench_run_loops(int (*fn)(void *), void *(*control)(void *), bool use_eal)
{
	static struct bench_thread_arg targs[BENCH_LCORES_MAX];
	pthread_t threads[BENCH_LCORES_MAX], control_thread;

	for (uint32_t i = 1; i < lcore_count; i++) {
		targs[i] = (struct bench_thread_arg){ fn, &lcores[i] };
		if (use_eal) {
			rte_eal_remote_launch(fn, &lcores[i], lcores[i].lcore_id);
		} else if (pthread_create(&threads[i], NULL, bench_thread_main, &targs[i]) != 0) {
			fprintf(stderr, "rc-bench: cannot start loop thread %u\n", i);
			return -1;
		}
	}
	if (pthread_create(&control_thread, NULL, control, NULL) != 0) {
		fprintf(stderr, "rc-bench: cannot start the control thread\n");
		return -1;
	}
	fn(&lcores[0]);
	for (uint32_t i = 1; i < lcore_count; i++)
		if (!use_eal)
			pthread_join(threads[i], NULL);
	if (use_eal)
		rte_eal_mp_wait_lcore();
	pthread_join(control_thread, NULL);
	return 0;
}

/* Entries a full AppendEntries frame carries with opts' payload, and its body bytes. */
static uint32_t
bench_full_frame(const struct rc_driver *drv, uint32_t *body_bytes)
{
	uint32_t room = drv->body_bytes_max - rc_wire_append_bytes(0, 0);
	uint32_t k = room / (RC_WIRE_ENTRY_HEADER_BYTES + opts.payload_bytes);

	if (k > RC_MSG_ENTRIES_MAX)
		k = RC_MSG_ENTRIES_MAX;
	*body_bytes = rc_wire_append_bytes(k, (uint64_t)k * opts.payload_bytes);
	return k;
}

static struct rc_driver *raw_drv;

/*
 * --raw loop: the leader's node streams full-size frames round-robin to its followers (writing
 * every body byte, as encoding does); every node receives and frees what reaches it, counting
 * frames in the measured phase.
 */
static int
bench_raw_loop(void *arg)
{
	struct bench_lcore *lc = arg;
	uint16_t sender = atomic_load(&leader_id);
	uint32_t body_bytes;
	uint16_t peer = 0;

	bench_full_frame(raw_drv, &body_bytes);
	while (atomic_load_explicit(&phase, memory_order_relaxed) != BENCH_STOP) {
		bool measure = atomic_load_explicit(&phase, memory_order_relaxed) == BENCH_MEASURE;

		for (uint32_t i = 0; i < lc->node_count; i++) {
			uint16_t id = rc_node_raft(lc->nodes[i])->cfg.id;
			struct rc_frame f[RC_BURST_MAX];
			uint16_t n = raw_drv->ops->rx_burst(raw_drv, id, f, RC_BURST_MAX);

			if (n > 0)
				raw_drv->ops->rx_free(raw_drv, id, f, n);
			if (measure)
				lc->raw_rx_frames[i] += n;
			if (id != sender)
				continue;
			peer = (uint16_t)(peer % opts.nodes + 1);
			if (peer == sender)
				peer = (uint16_t)(peer % opts.nodes + 1);
			n = raw_drv->ops->tx_alloc(raw_drv, id, f, RC_BURST_MAX);
			for (uint16_t j = 0; j < n; j++) {
				memset(f[j].body, 0x5a, body_bytes);
				f[j].body_bytes = body_bytes;
			}
			uint16_t sent = raw_drv->ops->tx_burst(raw_drv, id, peer, f, n);

			if (sent < n)
				raw_drv->ops->tx_free(raw_drv, id, f + sent, (uint16_t)(n - sent));
		}
	}
	return 0;
}

/* --raw control: a short warm-up, then the measured phase for --duration seconds. */
static void *
bench_raw_control(void *arg)
{
	(void)arg;
	usleep(500000);
	atomic_store(&phase, BENCH_MEASURE);
	usleep((useconds_t)(opts.duration_s * 1e6));
	atomic_store(&phase, BENCH_STOP);
	return NULL;
}

/* Runs the raw phase over drv and fills r's raw figures. Returns 0 or -1. */
static int
bench_raw(struct rc_driver *drv, bool use_eal, struct rc_bench_result *r)
{
	uint64_t total = 0, slowest = UINT64_MAX;
	uint16_t sender = atomic_load(&leader_id);
	uint32_t body_bytes, k = bench_full_frame(drv, &body_bytes);

	printf("raw: streaming %u-byte frames (%u entries of %u B each) from node %u, no Raft\n",
	       body_bytes, k, opts.payload_bytes, sender);
	raw_drv = drv;
	atomic_store(&phase, BENCH_ELECT);
	if (bench_run_loops(bench_raw_loop, bench_raw_control, use_eal) != 0)
		return -1;
	for (uint32_t l = 0; l < lcore_count; l++) {
		for (uint32_t i = 0; i < lcores[l].node_count; i++) {
			uint64_t got = lcores[l].raw_rx_frames[i];

			if (rc_node_raft(lcores[l].nodes[i])->cfg.id == sender)
				continue;
			total += got;
			slowest = got < slowest ? got : slowest;
		}
	}
	r->raw_frames_per_sec = (double)total / opts.duration_s;
	if (slowest == 0 || slowest == UINT64_MAX) {
		fprintf(stderr, "rc-bench: --raw: a follower received no frames\n");
		return -1;
	}
	r->raft_share = r->commits_per_sec / ((double)slowest * k / opts.duration_s);
	return 0;
}

static const char *const bench_sweep_keys[] = { "nodes",     "payload", "inflight",
						"batch-max", "window",	"frame" };

/*
 * How many arguments from argv[i] a child run leaves out: the options that make the parent
 * start children or write its own files (with their values).
 */
static int
bench_child_skip(char **argv, int i)
{
	static const char *const with_value[] = { "--sweep", "--sweep-out", "--json" };
	static const char *const alone[] = { "--raw", "--vs-udp" };

	for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++) {
		size_t len = strlen(with_value[k]);

		if (strcmp(argv[i], with_value[k]) == 0)
			return 2;
		if (strncmp(argv[i], with_value[k], len) == 0 && argv[i][len] == '=')
			return 1;
	}
	for (size_t k = 0; k < sizeof(alone) / sizeof(alone[0]); k++)
		if (strcmp(argv[i], alone[k]) == 0)
			return 1;
	return 0;
}

/*
 * Runs this program again in a fresh process with the user's arguments (minus those of
 * bench_child_skip()), plus --KEY value --json tmp, and the EAL arguments when pass_eal.
 * Returns 0 and fills *r, or -1 after printing why.
 */
static int
bench_child_run(int argc, char **argv, int split, const char *key, const char *value, bool pass_eal,
		struct rc_bench_result *r)
{
	char *child[160], flag[600], json[64], err[256];
	int n = 0, status;
	pid_t pid;

	child[n++] = argv[0];
	for (int i = 1; i < split && n < 150;) {
		int skip = bench_child_skip(argv, i);

		if (skip == 0)
			child[n++] = argv[i++];
		else
			i += skip;
	}
	snprintf(flag, sizeof(flag), "--%s", key);
	snprintf(json, sizeof(json), "/tmp/rc-bench-sweep-%d.json", (int)getpid());
	child[n++] = flag;
	child[n++] = (char *)(uintptr_t)value;
	child[n++] = "--json";
	child[n++] = json;
	for (int i = split; pass_eal && i < argc && n < 159; i++)
		child[n++] = argv[i];
	child[n] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		cpu_set_t all;

		/* The forking thread is pinned to its lcore's CPU; the child starts unpinned. */
		CPU_ZERO(&all);
		for (long c = 0; c < sysconf(_SC_NPROCESSORS_ONLN) && c < CPU_SETSIZE; c++)
			CPU_SET((int)c, &all);
		sched_setaffinity(0, sizeof(all), &all);
		execv("/proc/self/exe", child);
		fprintf(stderr, "rc-bench: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "rc-bench: the child run with --%s %s failed\n", key, value);
		return -1;
	}
	if (rc_bench_json_read(json, r, err, sizeof(err)) != 0) {
		fprintf(stderr, "rc-bench: child run: %s\n", err);
		return -1;
	}
	unlink(json);
	return 0;
}

/* Plots PREFIX.csv into PREFIX.svg with gnuplot. Returns 0 or -1 after printing why. */
static int
bench_sweep_plot(const char *key)
{
	char cmd[1024];
	FILE *gp;

	snprintf(cmd, sizeof(cmd), "gnuplot");
	gp = popen(cmd, "w");
	if (gp == NULL) {
		fprintf(stderr, "rc-bench: --sweep: cannot run gnuplot (bash scripts/setup.sh)\n");
		return -1;
	}
	fprintf(gp,
		"set terminal svg size 800,480 dynamic\n"
		"set output '%s.svg'\n"
		"set datafile separator ','\n"
		"set title 'rc-bench: commits/s and p99 commit latency against %s'\n"
		"set xlabel '%s'\n"
		"set ylabel 'commits/s'\n"
		"set y2label 'p99 latency (us)'\n"
		"set ytics nomirror\n"
		"set y2tics\n"
		"set key top left\n"
		"set grid\n"
		"plot '%s.csv' every ::1 using 2:3 with linespoints title 'commits/s' axes x1y1, "
		"'' every ::1 using 2:7 with linespoints title 'p99 us' axes x1y2\n",
		opts.sweep_out, key, key, opts.sweep_out);
	if (pclose(gp) != 0) {
		fprintf(stderr, "rc-bench: --sweep: gnuplot failed (is gnuplot-nox installed?)\n");
		return -1;
	}
	return 0;
}

/* Runs --sweep KEY=V1,V2,...: one fresh process per value, a CSV row each, then the plot. */
static int
bench_sweep_main(int argc, char **argv, int split)
{
	char spec[512], path[512], *key, *values, *save = NULL;
	bool known = false;
	FILE *csv;

	snprintf(spec, sizeof(spec), "%s", opts.sweep);
	key = spec;
	values = strchr(spec, '=');
	if (values == NULL || values[1] == '\0') {
		fprintf(stderr, "rc-bench: --sweep wants KEY=V1,V2,... (e.g. inflight=1,16,256)\n");
		return 2;
	}
	*values++ = '\0';
	for (size_t i = 0; i < sizeof(bench_sweep_keys) / sizeof(bench_sweep_keys[0]); i++)
		known |= strcmp(key, bench_sweep_keys[i]) == 0;
	if (!known) {
		fprintf(stderr,
			"rc-bench: --sweep: cannot sweep '%s' (nodes, payload, inflight, "
			"batch-max, window, frame)\n",
			key);
		return 2;
	}
	snprintf(path, sizeof(path), "%s.csv", opts.sweep_out);
	csv = fopen(path, "w");
	if (csv == NULL) {
		fprintf(stderr, "rc-bench: --sweep: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(csv, "%s,value,commits_per_sec,mb_per_sec,p50_us,p90_us,p99_us,p999_us,max_us\n",
		key);
	for (char *v = strtok_r(values, ",", &save); v != NULL; v = strtok_r(NULL, ",", &save)) {
		struct rc_bench_result r;

		printf("=== sweep: --%s %s\n", key, v);
		if (bench_child_run(argc, argv, split, key, v, true, &r) != 0) {
			fclose(csv);
			return 1;
		}
		fprintf(csv, "%s,%s,%.0f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f\n", key, v,
			r.commits_per_sec, r.mb_per_sec, r.latency_us.p50, r.latency_us.p90,
			r.latency_us.p99, r.latency_us.p999, r.latency_us.max);
		fflush(csv);
	}
	if (fclose(csv) != 0) {
		fprintf(stderr, "rc-bench: --sweep: cannot write %s\n", path);
		return 1;
	}
	if (bench_sweep_plot(key) != 0)
		return 1;
	printf("sweep: wrote %s.csv and %s.svg\n", opts.sweep_out, opts.sweep_out);
	return 0;
}

/* --vs-udp: the same bench over kernel UDP sockets in a fresh process, into r->udp. */
static int
bench_vs_udp(int argc, char **argv, int split, struct rc_bench_result *r)
{
	static struct rc_bench_result u;

	printf("=== the same bench over udp (kernel sockets), for comparison\n");
	if (bench_child_run(argc, argv, split, "driver", "udp", false, &u) != 0)
		return -1;
	r->udp.measured = u.commits_per_sec > 0;
	r->udp.commits_per_sec = u.commits_per_sec;
	r->udp.mb_per_sec = u.mb_per_sec;
	r->udp.latency_us = u.latency_us;
	return r->udp.measured ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static struct rc_node *nodes[RC_NODES_MAX];
	static struct rc_bench_result result;
	char *eal[96], prefix[64];
	struct rc_dpdk_config dcfg = { 0 };
	struct rc_driver *drv;
	pthread_t loadgen;
	int split = argc, eal_argc, rc;
	bool use_eal;

	if (argc >= 2 && strcmp(argv[1], "compare") == 0)
		return bench_compare_main(argc - 1, argv + 1);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			split = i;
			break;
		}
	}
	bench_parse(split, argv);
	if (opts.sweep != NULL)
		return bench_sweep_main(argc, argv, split);
	use_eal = strcmp(opts.driver, "udp") != 0;
	if (use_eal) {
		bool memif = strcmp(opts.driver, "memif") == 0;

		eal_argc = bench_eal_args(argc, argv, split, eal, prefix, sizeof(prefix));
		if (memif)
			eal_argc = bench_memif_args(eal, eal_argc);
		if (rc_dpdk_eal_init(eal_argc, eal) < 0)
			return 1;
		dcfg.frame_bytes = opts.frame_bytes;
		dcfg.nodes = (uint16_t)opts.nodes;
		if (memif) {
			atexit(bench_memif_cleanup);
			if (bench_open_memif(&drv) != 0)
				return 1;
		} else if (rc_dpdk_open_ring(&dcfg, &drv) != 0) {
			return 1;
		}
	} else if (split < argc) {
		fprintf(stderr, "rc-bench: the udp driver takes no EAL arguments\n");
		return 2;
	} else if (bench_open_udp(&drv) != 0) {
		return 1;
	}
	bool kv = strcmp(opts.workload, "kv") == 0;

	memset(payload, 0xab, sizeof(payload));
	if (kv)
		bench_kv_put_template(payload);
	bench_place(drv, nodes);
	double ns_per_tsc = rc_loadgen_calibrate();

	for (uint32_t i = 0; i < lcore_count; i++) {
		struct rc_loadgen *g = &lcores[i].gen;

		rc_loadgen_init(g, opts.inflight, payload, opts.payload_bytes, ns_per_tsc);
		if (kv) { /* the cookie at the end of the value, a new key each proposal */
			g->cookie_offset = opts.payload_bytes - 8;
			g->key_offset = RC_KV_COMMAND_HEADER_BYTES + 3;
			g->key_count = opts.keys;
		}
	}
	for (uint32_t i = 0; i < opts.readers; i++) {
		readers[i] = (struct bench_reader){ .idx = i,
						    .kv = kvs[(i + 1) % opts.nodes],
						    .nodes = nodes };
		if (pthread_create(&readers[i].thread, NULL, bench_reader_main, &readers[i])) {
			fprintf(stderr, "rc-bench: cannot start reader thread %u\n", i);
			return 1;
		}
	}
	if (opts.loadgen_thread && pthread_create(&loadgen, NULL, bench_loadgen_thread, nodes)) {
		fprintf(stderr, "rc-bench: cannot start the load generator thread\n");
		return 1;
	}
	if (bench_run_loops(bench_lcore_loop, bench_control, use_eal) != 0)
		return 1;
	if (opts.loadgen_thread)
		pthread_join(loadgen, NULL);
	for (uint32_t i = 0; i < opts.readers; i++)
		pthread_join(readers[i].thread, NULL);

	rc = 0;
	if (atomic_load(&leader_id) == 0) {
		rc = 1;
	} else {
		result.params.nodes = opts.nodes;
		result.params.payload_bytes = opts.payload_bytes;
		result.params.inflight = opts.inflight;
		result.params.batch_max = opts.batch_max;
		result.params.window = opts.window;
		result.params.frame_bytes = opts.frame_bytes;
		result.params.duration_s = opts.duration_s;
		result.params.warmup_s = opts.warmup_s;
		snprintf(result.params.driver, sizeof(result.params.driver), "%s", opts.driver);
		snprintf(result.params.storage, sizeof(result.params.storage), "%s", opts.storage);
		result.params.durable = wals[0] != NULL;
		snprintf(result.params.loadgen, sizeof(result.params.loadgen), "%s",
			 opts.loadgen_thread ? "thread" : "leader-loop");
		snprintf(result.params.workload, sizeof(result.params.workload), "%s",
			 opts.workload);
		if (kv) {
			snprintf(result.params.read_mode, sizeof(result.params.read_mode), "%s",
				 opts.read_mode);
			result.params.readers = opts.readers;
			result.params.read_share = opts.read_share;
		}
		rc_bench_env_probe(&result.env);
		snprintf(result.env.git_rev, sizeof(result.env.git_rev), "%s", RC_GIT_REV);
		result.env.lcore_count = lcore_count;
		bench_collect(nodes, &result);
		if (kv)
			bench_collect_reads(&result);
		bench_collect_syncs(&result);
		if (opts.raw && bench_raw(drv, use_eal, &result) != 0)
			rc = 1;
		if (opts.vs_udp && bench_vs_udp(argc, argv, split, &result) != 0)
			rc = 1;
		bench_print(&result);
		if (bench_check_logs(nodes) != 0)
			rc = 1;
		if (opts.lag_entries > 0 && lag.catch_up_s < 0)
			rc = 1;
		if (opts.json_path != NULL) {
			FILE *f = fopen(opts.json_path, "w");

			if (f == NULL || rc_bench_json_write(f, &result) != 0 || fclose(f) != 0) {
				fprintf(stderr, "rc-bench: cannot write %s: %s\n", opts.json_path,
					strerror(errno));
				rc = 1;
			}
		}
	}
	for (uint32_t i = 0; i < opts.nodes; i++) {
		rc_node_destroy(nodes[i]);
		rc_wal_close(wals[i]);
		rc_kv_destroy(kvs[i]);
	}
	bench_wal_remove();
	drv->ops->close(drv);
	/* memif handles its peers' disconnects on the EAL interrupt thread, after the ports are
	 * closed: give it time before the EAL's memory goes (an ASan run once crashed there). */
	if (strcmp(opts.driver, "memif") == 0)
		usleep(200000);
	if (use_eal)
		rte_eal_cleanup();
	return rc;
}
