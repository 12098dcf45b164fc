/*
 * The run-to-completion loop of one replica (see node.h): rx burst -> decode -> step ->
 * persist (mem) -> encode and tx burst -> apply and complete proposals. Every buffer is
 * allocated in rc_node_create(); rc_node_poll() only moves data between them.
 *
 * Payloads live in the committed log (engine/log): a slot per index, written when the entry
 * enters the log; the entry's term, type and size are sealed and published when it is applied,
 * and from then on any registered thread reads it without a lock. An AppendEntries built by the
 * core (pointing into its ring) finds its payloads by ring position -> index -> slot. The log
 * is compacted along with the core's ring.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <replicore/assert.h>
#include <replicore/log.h>
#include <replicore/mutation.h>
#include <replicore/node.h>
#include <replicore/rcu.h>
#include <replicore/snapshot.h>
#include <replicore/wire.h>

#include "mpsc.h"

#define NODE_RING_MASK (RC_LOG_ENTRIES_MAX - 1u)

_Static_assert(RC_WIRE_ERROR_COUNT <= 16, "rc_node_stats.rejected_by_reason holds every reason");
/* Rounds of execute -> persisted -> applied one poll runs before yielding to rx again. */
#define NODE_EXECUTE_ROUNDS_MAX 16u
/* Attempts to hand a burst to a full port before its frames are dropped (Raft resends). */
#define NODE_TX_RETRIES_MAX 64u

/* A queued proposal as it sits in a ring slot, payload after it. */
struct node_proposal {
	uint64_t cookie;
	uint32_t bytes;
	uint32_t reserved;
	uint8_t payload[];
};

/* A read request as it sits in its ring slot (after the slot's sequence word). */
struct node_read_request {
	uint64_t cookie;
	uint32_t flags;
	uint32_t reserved;
};
#define NODE_READ_SLOT_BYTES ((uint32_t)(sizeof(uint64_t) + sizeof(struct node_read_request)))

/* Reads confirmed by the core and waiting for this node to apply their index. */
#define NODE_READS_WAITING_MAX 4096u
_Static_assert((NODE_READS_WAITING_MAX & (NODE_READS_WAITING_MAX - 1)) == 0, "a power of two");
_Static_assert(NODE_READS_WAITING_MAX >= 2 * RC_READS_PENDING_MAX, "the core's reads fit");

struct node_read_waiting {
	uint64_t cookie;
	uint64_t index;
};

/* Writes handed to the write-ahead log and not durable yet, and messages waiting on them. */
#define NODE_WRITES_MAX 4096u
#define NODE_HELD_MAX 4096u
/* Staging bytes kept free for writes no intake check covers (hard state, a leader's no-op). */
#define NODE_WAL_SLACK (64u << 10)

struct node_write {
	uint64_t ticket; /* durable once rc_wal_durable() reaches it */
	uint64_t index;	 /* last entry of the write, 0 for a hard-state-only write */
	uint64_t term;
};

struct node_held {
	struct rc_raft_msg msg; /* an ack or a vote: no entries */
	uint64_t ticket;
};

/*
 * A snapshot image: the state machine saved into a memory file at one applied index. Shared by
 * the thread that writes it to disk and by transfers to followers; counted references, all
 * taken and dropped on the node's thread.
 */
struct node_image {
	int fd;
	const uint8_t *data;
	uint64_t bytes;
	uint64_t index, term;
	uint32_t crc;
	uint32_t refs;
};

/* The thread writing a snapshot file. */
struct node_snap_writer {
	pthread_t thread;
	struct node_image *image;
	const char *dir;
	_Atomic int done; /* 0 running, 1 written, -1 failed */
	char err[256];
};

/* InstallSnapshot: bytes in flight per follower, chunks per poll, silence before a resend. */
#define NODE_SNAP_WINDOW_BYTES (256u << 10)
#define NODE_SNAP_CHUNKS_PER_POLL 8u
#define NODE_SNAP_RESEND_NS 200000000ull
#define NODE_SNAP_BYTES_MAX_DEFAULT (1ull << 30)

/* A transfer to one follower (leader). */
struct node_snap_out {
	struct node_image *image; /* NULL: none */
	uint64_t term;		  /* the leader's term when it started */
	uint64_t acked, sent;	  /* bytes acknowledged, bytes sent */
	uint64_t progress_ns;	  /* when acked last moved */
};

/* The snapshot being received (follower). */
struct node_snap_in {
	uint8_t *buf;
	uint64_t have, total, index, snap_term, term;
	uint32_t crc;
	uint16_t leader;
};

/* A proposal taken by this leader and waiting for its entry to be applied. */
struct node_pending {
	uint64_t index; /* 0: free */
	uint64_t term;
	uint64_t cookie;
};

struct rc_node {
	struct rc_node_config cfg;
	struct rc_driver *drv;
	struct rc_raft *raft;
	struct rc_raft_update *upd;
	struct rc_log *log;	      /* payloads; the committed part readable by any reader */
	struct node_pending *pending; /* RC_LOG_ENTRIES_MAX, by ring slot */
	struct rc_mpsc propose_q;
	uint8_t *propose_slots;
	struct rc_mpsc read_q;
	uint8_t *read_slots;
	struct node_read_waiting *reads_waiting; /* FIFO ring of NODE_READS_WAITING_MAX */
	uint64_t reads_head, reads_tail;
	uint64_t reads_in_core; /* stepped into the core, not answered yet */
	uint64_t apply_target;	/* last committed index the core reported for applying */
	uint64_t apply_done;	/* last index applied here; Invariant: <= apply_target */
	uint64_t next_tick_ns;
	uint64_t tx_seq;
	/* Storage (cfg.wal; NULL: mem). FIFO rings of writes in flight and messages held. */
	struct rc_wal *wal;
	struct node_write *writes;
	uint64_t writes_head, writes_tail;
	struct node_held *held;
	uint64_t held_head, held_tail;
	uint64_t wal_ticket;			/* ticket of the last write handed over */
	uint64_t wal_done_index, wal_done_term; /* durable, not stepped as PERSISTED yet */
	/* Snapshots: the newest image, the writer, the index of the last durable one. */
	struct node_image *image;
	struct node_snap_writer *writer;
	uint64_t snap_durable;
	struct node_snap_out snap_out[RC_NODES_MAX];
	struct node_snap_in snap_in;
	uint64_t now_ns; /* the current poll's time */
	bool snap_unavailable_said;
	uint16_t spare_count; /* allocated tx frames not used yet */
	uint16_t tx_count[RC_NODES_MAX];
	uint16_t peer_id[RC_NODES_MAX]; /* voter slot -> node id */
	struct rc_frame spare[RC_BURST_MAX];
	struct rc_frame tx[RC_NODES_MAX][RC_BURST_MAX];
	struct rc_raft_entry rx_entries[RC_MSG_ENTRIES_MAX];
	const uint8_t *rx_payloads[RC_MSG_ENTRIES_MAX];
	struct rc_raft_entry prop_entries[RC_PROPOSE_ENTRIES_MAX];
	const struct node_proposal *props[RC_PROPOSE_ENTRIES_MAX];
	struct rc_node_stats stats;
	/* The pollable completion ring: the node produces, one consumer takes. */
	struct rc_completion *cq;
	uint32_t cq_mask;
	uint64_t cq_unsettled; /* proposals drained and not settled yet */
	_Alignas(64) _Atomic uint64_t cq_tail;
	_Alignas(64) _Atomic uint64_t cq_head;
	/* What rc_node_status() reads from other threads. */
	_Alignas(64) _Atomic uint64_t pub_term;
	_Atomic uint64_t pub_commit;
	_Atomic uint64_t pub_applied;
	_Atomic uint32_t pub_role_leader; /* role << 16 | leader */
};

static void node_image_put(struct node_image *im);
static void node_snap_installed(struct rc_node *n, const struct rc_raft_update *u);
static void node_snap_requests(struct rc_node *n, uint32_t peers);
static void node_snap_receive(struct rc_node *n, const struct rc_frame *f, uint8_t type);
static uint32_t node_snap_send(struct rc_node *n);

/* Returns a monotonic time in nanoseconds. */
uint64_t
rc_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Fills cfg with defaults: 1 ms ticks (elections after 50-100 ms), 64-byte payloads. */
void
rc_node_config_default(struct rc_node_config *cfg, uint16_t id, const uint16_t *voters,
		       uint16_t voter_count)
{
	memset(cfg, 0, sizeof(*cfg));
	rc_raft_config_default(&cfg->raft, id, voters, voter_count);
	cfg->raft.election_ticks = 50;
	cfg->raft.heartbeat_ticks = 10;
	cfg->raft.msg_entries_max = RC_MSG_ENTRIES_MAX;
	cfg->raft.msg_bytes_max = UINT32_MAX; /* lowered to the frame by rc_node_create() */
	cfg->raft.inflight_msgs_max = 32;
	cfg->raft.inflight_bytes_max = 4u << 20;
	cfg->cluster_id = 1;
	cfg->payload_bytes_max = 64;
	cfg->propose_ring_slots = 4096;
	cfg->propose_batch_max = 256;
	cfg->read_ring_slots = 4096;
	cfg->tick_ns = 1000000;
	cfg->snapshot_bytes_max = NODE_SNAP_BYTES_MAX_DEFAULT;
}

/* The codec's payload callback: an entry of the core's ring finds its bytes by position. */
static const void *
node_payload_of(void *ctx, const struct rc_raft_entry *e)
{
	const struct rc_node *n = ctx;
	uint64_t slot = (uint64_t)(e - n->raft->ring);
	uint64_t first = (n->raft->snap_index + 1);

	RC_ASSERT(slot < RC_LOG_ENTRIES_MAX);
	return rc_log_slot_const(n->log, first + ((slot - first) & NODE_RING_MASK));
}

/*
 * Makes sure the log has slots for the next extra entries (and a new leader's no-op). Returns
 * how many of the extra it can take: fewer when a reader holds a grace period back and the
 * log's pool is dry (back-pressure, counted in the log's stalls).
 */
static uint32_t
node_log_room(struct rc_node *n, uint32_t extra)
{
	uint64_t last = n->raft->last_index;
	uint64_t got = rc_log_reserve(n->log, last + 1 + extra);

	if (got >= last + 1 + extra)
		return extra;
	return got > last + 1 ? (uint32_t)(got - last - 1) : 0;
}

/* Whether the log can take the next index (a no-op a step may append). */
static bool
node_log_has_next(struct rc_node *n)
{
	return rc_log_reserve(n->log, n->raft->last_index + 1) > n->raft->last_index;
}

/* Returns the bytes of one proposal ring slot for cfg. */
static uint32_t
node_propose_slot_bytes(const struct rc_node_config *cfg)
{
	return (uint32_t)(sizeof(uint64_t) + sizeof(struct node_proposal) +
			  ((cfg->payload_bytes_max + 7u) & ~7u));
}

/* Checks the configuration against the driver; prints why it is refused. */
static int
node_config_check(const struct rc_node_config *cfg, const struct rc_driver *d)
{
	uint32_t q = cfg->propose_ring_slots;

	if (cfg->payload_bytes_max == 0 || cfg->payload_bytes_max > RC_ENTRY_BYTES_MAX) {
		fprintf(stderr, "replicore: payload_bytes_max %u out of 1..%u\n",
			cfg->payload_bytes_max, RC_ENTRY_BYTES_MAX);
		return -EINVAL;
	}
	if (rc_wire_append_bytes(1, cfg->payload_bytes_max) > d->body_bytes_max) {
		fprintf(stderr,
			"replicore: a %u-byte payload does not fit a %u-byte frame "
			"(%u body bytes)\n",
			cfg->payload_bytes_max, d->frame_bytes, d->body_bytes_max);
		return -EINVAL;
	}
	uint32_t c = cfg->completion_ring_slots, rq = cfg->read_ring_slots;

	if (cfg->log_retain_entries > (1u << 24)) {
		fprintf(stderr, "replicore: log_retain_entries %u above %u\n",
			cfg->log_retain_entries, 1u << 24);
		return -EINVAL;
	}

	if (rq < 2 || (rq & (rq - 1)) != 0) {
		fprintf(stderr, "replicore: read ring of %u slots is not a power of two >= 2\n",
			rq);
		return -EINVAL;
	}

	if (c != 0 && (c < 2 || (c & (c - 1)) != 0)) {
		fprintf(stderr,
			"replicore: completion ring of %u slots is not a power of two >= 2\n", c);
		return -EINVAL;
	}
	if (q < 2 || (q & (q - 1)) != 0 || cfg->propose_batch_max < 1 ||
	    cfg->propose_batch_max > RC_PROPOSE_ENTRIES_MAX || cfg->tick_ns == 0) {
		fprintf(stderr, "replicore: bad proposal ring (%u slots, batch %u) or tick\n", q,
			cfg->propose_batch_max);
		return -EINVAL;
	}
	return 0;
}

/* Hands one recovered entry to the state machine, waiting while it asks to retry. */
static int
node_recover_apply(struct rc_node *n, uint64_t index, const void *payload, uint32_t bytes)
{
	void *ctx = n->cfg.apply_ctx != NULL ? n->cfg.apply_ctx : n->cfg.ctx;
	struct rc_apply_entry e = { .index = index, .payload = payload, .bytes = bytes };

	for (uint64_t tries = 0;; tries++) {
		bool done = n->cfg.apply_batch != NULL ? n->cfg.apply_batch(ctx, &e, 1) == 1 :
							 n->cfg.apply(ctx, index, payload, bytes);

		if (done)
			return 0;
		if (tries == 1000000) {
			fprintf(stderr,
				"replicore: node %u: the state machine keeps refusing "
				"entry %" PRIu64 " while recovering\n",
				n->cfg.raft.id, index);
			return -EAGAIN;
		}
		n->stats.apply_retries++;
		/* It waits for a grace period: let one pass. */
		if (rc_rcu_thread_flavor() == RC_RCU_QSBR)
			rc_rcu_quiescent();
		sched_yield();
	}
}

/* Replaces the state machine with the image in fd; checks it is at index. */
static int
node_restore_fd(struct rc_node *n, int fd, uint64_t index)
{
	void *ctx = n->cfg.apply_ctx != NULL ? n->cfg.apply_ctx : n->cfg.ctx;
	uint64_t got = 0;
	int rc;

	if (n->cfg.snapshot_restore == NULL)
		return -ENOTSUP;
	if (lseek(fd, 0, SEEK_SET) != 0)
		return -errno;
	rc = n->cfg.snapshot_restore(ctx, fd, &got);
	if (rc == 0 && got > index)
		rc = -EINVAL; /* (it may trail index over no-ops, see node_image_take) */
	return rc;
}

/* Restores the state machine from the snapshot file the log starts after. */
static int
node_restore_snapshot(struct rc_node *n, const struct rc_snap_info *snap)
{
	char err[512];
	void *body = NULL;
	int fd, rc;

	rc = rc_snap_read(rc_wal_dir(n->wal), snap, &body, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "replicore: node %u: %s\n", n->cfg.raft.id, err);
		return rc;
	}
	fd = memfd_create("rc-snapshot", MFD_CLOEXEC);
	if (fd < 0 || write(fd, body, snap->bytes) != (ssize_t)snap->bytes)
		rc = -errno;
	if (rc == 0)
		rc = node_restore_fd(n, fd, snap->index);
	if (fd >= 0)
		close(fd);
	free(body);
	if (rc != 0)
		fprintf(stderr,
			"replicore: node %u: the state machine did not take snapshot %s (%s)\n",
			n->cfg.raft.id, snap->name, strerror(-rc));
	n->snap_durable = snap->index;
	return rc;
}

/*
 * Recovers the node from its write-ahead log: the state machine applies the entries up to the
 * stored commit index again (they are committed: a majority holds them), the core and the log
 * take the rest. Returns 0, or -EINVAL / -ENOMEM / -EAGAIN after printing why.
 */
static int
node_recover(struct rc_node *n, uint64_t base)
{
	const struct rc_wal_info *info = rc_wal_info(n->wal);
	uint64_t count = info->last_index - base;
	struct rc_raft_entry *entries = calloc(count > 0 ? count : 1, sizeof(*entries));
	struct rc_raft_entry e;
	uint64_t base_term = 0;
	const void *payload;
	int rc = 0;

	if (entries == NULL)
		return -ENOMEM;
	if (info->snap.index > 0) {
		rc = node_restore_snapshot(n, &info->snap);
		base_term = info->snap.term;
	}
	for (uint64_t i = info->snap.index + 1; i <= base && rc == 0; i++) {
		if (!rc_wal_entry(n->wal, i, &e, &payload)) {
			rc = -EINVAL;
			break;
		}
		if (e.type == RC_ENTRY_NORMAL &&
		    (n->cfg.apply != NULL || n->cfg.apply_batch != NULL))
			rc = node_recover_apply(n, i, payload, e.bytes);
		base_term = e.term;
		n->stats.recovered_applied++;
	}
	if (rc == 0 && count > 0 && rc_log_reserve(n->log, info->last_index) < info->last_index)
		rc = -ENOMEM;
	for (uint64_t k = 0; k < count && rc == 0; k++) {
		if (!rc_wal_entry(n->wal, base + 1 + k, &entries[k], &payload)) {
			rc = -EINVAL;
			break;
		}
		memcpy(rc_log_slot(n->log, base + 1 + k), payload, entries[k].bytes);
	}
	if (rc == 0)
		rc = rc_raft_init_at(n->raft, &n->cfg.raft, &info->hs, base, base_term, entries,
				     count);
	free(entries);
	if (rc != 0) {
		fprintf(stderr, "replicore: node %u: cannot recover from its log (%s)\n",
			n->cfg.raft.id, strerror(-rc));
		return rc;
	}
	n->apply_done = n->apply_target = base;
	return 0;
}

/* Creates a node on d; see node.h. */
int
rc_node_create(const struct rc_node_config *cfg, struct rc_driver *d, struct rc_node **out)
{
	struct rc_node *n;
	int rc = node_config_check(cfg, d);

	if (rc != 0)
		return rc;
	n = aligned_alloc(64, (sizeof(*n) + 63) & ~(size_t)63);
	if (n == NULL)
		return -ENOMEM;
	memset(n, 0, sizeof(*n));
	n->cfg = *cfg;
	n->drv = d;
	/* The largest AppendEntries the frame holds: header and fixed body, then entries. */
	uint32_t fit = d->body_bytes_max - rc_wire_append_bytes(0, 0);

	if (n->cfg.raft.msg_bytes_max > fit)
		n->cfg.raft.msg_bytes_max = fit;
	n->raft = malloc(sizeof(*n->raft));
	n->upd = malloc(sizeof(*n->upd));
	struct rc_log_config lc;

	rc_log_config_default(&lc, cfg->payload_bytes_max);
	lc.poison = cfg->log_poison;
	/* Retained entries widen the span the log holds, and its spare chunks with it. */
	lc.span_entries += cfg->log_retain_entries;
	lc.spare_chunks += cfg->log_retain_entries / lc.chunk_entries;
	/* Recovering: the log starts after the entries the state machine applies again. */
	uint64_t base = 0;

	if (cfg->wal != NULL) {
		const struct rc_wal_info *info = rc_wal_info(cfg->wal);

		base = info->hs.commit > info->snap.index ? info->hs.commit : info->snap.index;
		if (base > info->last_index)
			base = info->last_index;
		if (info->last_index - base > RC_LOG_ENTRIES_MAX) {
			fprintf(stderr,
				"replicore: node %u: the log holds %" PRIu64
				" entries past its commit index, more than %u\n",
				cfg->raft.id, info->last_index - base, RC_LOG_ENTRIES_MAX);
			free(n->raft);
			free(n->upd);
			free(n);
			return -EINVAL;
		}
		n->wal = cfg->wal;
		n->writes = calloc(NODE_WRITES_MAX, sizeof(*n->writes));
		n->held = calloc(NODE_HELD_MAX, sizeof(*n->held));
	}
	if (rc_log_create(&lc, base + 1, &n->log) != 0)
		n->log = NULL;
	n->pending = calloc(RC_LOG_ENTRIES_MAX, sizeof(*n->pending));
	n->read_slots = aligned_alloc(64, (size_t)n->cfg.read_ring_slots * NODE_READ_SLOT_BYTES);
	n->reads_waiting = calloc(NODE_READS_WAITING_MAX, sizeof(*n->reads_waiting));
	if (cfg->completion_ring_slots > 0) {
		n->cq = calloc(cfg->completion_ring_slots, sizeof(*n->cq));
		n->cq_mask = cfg->completion_ring_slots - 1;
	}
	n->propose_slots = aligned_alloc(64, (size_t)cfg->propose_ring_slots *
						     node_propose_slot_bytes(cfg));
	if (n->raft == NULL || n->upd == NULL || n->log == NULL || n->pending == NULL ||
	    (cfg->completion_ring_slots > 0 && n->cq == NULL) || n->read_slots == NULL ||
	    n->reads_waiting == NULL || n->propose_slots == NULL ||
	    (n->wal != NULL && (n->writes == NULL || n->held == NULL))) {
		fprintf(stderr, "replicore: node %u: out of memory\n", cfg->raft.id);
		rc_node_destroy(n);
		return -ENOMEM;
	}
	rc = rc_raft_init(n->raft, &n->cfg.raft, NULL, NULL, 0, 0);
	if (rc != 0) {
		fprintf(stderr, "replicore: node %u: bad Raft configuration\n", cfg->raft.id);
		rc_node_destroy(n);
		return rc;
	}
	if (n->wal != NULL) {
		rc = node_recover(n, base);
		if (rc == 0 && (rc = rc_wal_start(n->wal)) != 0)
			fprintf(stderr, "replicore: node %u: cannot start the storage thread: %s\n",
				cfg->raft.id, strerror(-rc));
		if (rc != 0) {
			rc_node_destroy(n);
			return rc;
		}
	}
	for (int i = 0; i < cfg->raft.voter_count; i++)
		n->peer_id[i] = cfg->raft.voters[i];
	rc_mpsc_init(&n->propose_q, n->propose_slots, cfg->propose_ring_slots,
		     node_propose_slot_bytes(cfg));
	rc_mpsc_init(&n->read_q, n->read_slots, n->cfg.read_ring_slots, NODE_READ_SLOT_BYTES);
	rc_raft_update_reset(n->upd);
	*out = n;
	return 0;
}

/* Frees everything the node holds (frames still staged go back to the driver). */
void
rc_node_destroy(struct rc_node *n)
{
	if (n == NULL)
		return;
	for (int i = 0; i < RC_NODES_MAX; i++)
		if (n->tx_count[i] > 0)
			n->drv->ops->tx_free(n->drv, n->cfg.raft.id, n->tx[i], n->tx_count[i]);
	if (n->spare_count > 0)
		n->drv->ops->tx_free(n->drv, n->cfg.raft.id, n->spare, n->spare_count);
	free(n->raft);
	free(n->upd);
	rc_log_destroy(n->log);
	free(n->cq);
	free(n->pending);
	free(n->propose_slots);
	free(n->read_slots);
	free(n->reads_waiting);
	free(n->writes);
	free(n->held);
	if (n->writer != NULL) {
		pthread_join(n->writer->thread, NULL);
		node_image_put(n->writer->image);
		free(n->writer);
	}
	node_image_put(n->image);
	for (int i = 0; i < RC_NODES_MAX; i++)
		node_image_put(n->snap_out[i].image);
	free(n->snap_in.buf);
	free(n);
}

/* Submits a proposal from any thread; see node.h. */
int
rc_propose(struct rc_node *n, const void *payload, uint32_t bytes, uint64_t cookie)
{
	struct node_proposal *p;
	uint64_t pos;

	if (bytes > n->cfg.payload_bytes_max)
		return -EMSGSIZE;
	p = rc_mpsc_claim(&n->propose_q, &pos);
	if (p == NULL)
		return -ENOBUFS;
	p->cookie = cookie;
	p->bytes = bytes;
	memcpy(p->payload, payload, bytes);
	rc_mpsc_publish(&n->propose_q, pos);
	return 0;
}

/* Hands the frames staged for the peer in slot to the driver; drops what a full port refuses. */
static void
node_flush(struct rc_node *n, int slot)
{
	uint16_t count = n->tx_count[slot];
	uint16_t sent = 0;

	for (uint32_t tries = 0; sent < count && tries < NODE_TX_RETRIES_MAX; tries++)
		sent += n->drv->ops->tx_burst(n->drv, n->cfg.raft.id, n->peer_id[slot],
					      n->tx[slot] + sent, (uint16_t)(count - sent));
	if (sent < count) {
		n->drv->ops->tx_free(n->drv, n->cfg.raft.id, n->tx[slot] + sent,
				     (uint16_t)(count - sent));
		n->stats.tx_dropped += count - sent;
	}
	n->stats.tx_frames += sent;
	n->tx_count[slot] = 0;
}

/* Returns the voter slot of node id. */
static int
node_slot_of(const struct rc_node *n, uint16_t id)
{
	for (int i = 0; i < n->cfg.raft.voter_count; i++)
		if (n->peer_id[i] == id)
			return i;
	return -1;
}

/* A free tx frame, or NULL (counted as a drop: Raft resends what matters). */
static struct rc_frame *
node_frame(struct rc_node *n)
{
	if (n->spare_count == 0) {
		n->spare_count = n->drv->ops->tx_alloc(n->drv, n->cfg.raft.id, n->spare,
						       RC_BURST_MAX);
		if (n->spare_count == 0) {
			n->stats.tx_dropped++;
			return NULL;
		}
	}
	return &n->spare[--n->spare_count];
}

/* Stages an encoded frame for the peer in slot, flushing a full burst. */
static void
node_stage(struct rc_node *n, int slot, const struct rc_frame *f)
{
	n->tx[slot][n->tx_count[slot]++] = *f;
	if (n->tx_count[slot] == RC_BURST_MAX)
		node_flush(n, slot);
}

/* Encodes m into a frame staged for its destination. */
static void
node_send(struct rc_node *n, const struct rc_raft_msg *m)
{
	int slot = node_slot_of(n, m->to);
	struct rc_frame *f = node_frame(n);
	int32_t len;

	RC_ASSERT(slot >= 0);
	if (f == NULL)
		return;
	len = rc_wire_encode(f->body, f->body_cap, n->cfg.cluster_id, n->tx_seq++, m,
			     node_payload_of, n);
	RC_ASSERT(len > 0); /* msg_bytes_max was sized to the frame */
	f->body_bytes = (uint32_t)len;
	if (m->type == RC_MSG_APPEND && m->entry_count > 0) {
		n->stats.tx_append_frames++;
		n->stats.tx_entries += m->entry_count;
	}
	node_stage(n, slot, f);
}

/*
 * Sends the update's acknowledgements: of several accepted APPEND_RESPs to one leader only the
 * last (highest) is needed, so the others are skipped (acks coalesce per burst).
 */
static void
node_send_after_persist(struct rc_node *n, const struct rc_raft_update *u)
{
	uint32_t last_ack[RC_NODES_MAX];

	for (int i = 0; i < RC_NODES_MAX; i++)
		last_ack[i] = UINT32_MAX;
	for (uint32_t i = 0; i < u->msg_after_persist_count; i++) {
		const struct rc_raft_msg *m = &u->msgs_after_persist[i];

		if (m->type == RC_MSG_APPEND_RESP && !m->reject)
			last_ack[node_slot_of(n, m->to)] = i;
	}
	for (uint32_t i = 0; i < u->msg_after_persist_count; i++) {
		const struct rc_raft_msg *m = &u->msgs_after_persist[i];

		if (m->type == RC_MSG_APPEND_RESP && !m->reject &&
		    last_ack[node_slot_of(n, m->to)] != i) {
			n->stats.acks_coalesced++;
			continue;
		}
		node_send(n, m);
	}
}

static void node_execute(struct rc_node *n);
static void node_cq_push(struct rc_node *n, uint64_t cookie, uint64_t index, uint32_t status,
			 uint32_t kind);
static uint32_t node_cq_room(const struct rc_node *n);

/* Steps one event into the node's update, executing the update first if it might not fit. */
static void
node_step(struct rc_node *n, const struct rc_raft_event *ev)
{
	if (!rc_raft_update_has_room(n->upd))
		node_execute(n);
	rc_raft_step(n->raft, ev, n->upd);
	n->stats.steps++;
}

/* Settles the proposal pending at index's slot, if any, with status. */
static void
node_complete(struct rc_node *n, struct node_pending *p, enum rc_propose_status status)
{
	uint64_t index = status == RC_PROPOSE_COMMITTED ? p->index : 0;

	if (status == RC_PROPOSE_COMMITTED)
		n->stats.committed++;
	else
		n->stats.refused++;
	p->index = 0;
	if (n->cfg.complete != NULL)
		n->cfg.complete(n->cfg.ctx, p->cookie, index, status);
	node_cq_push(n, p->cookie, index, status, RC_COMPLETION_PROPOSAL);
}

/* Settles a read: the callback, and the completion ring. */
static void
node_read_settle(struct rc_node *n, uint64_t cookie, uint64_t index, enum rc_read_status status)
{
	if (status == RC_READ_OK)
		n->stats.reads_served++;
	else
		n->stats.reads_failed++;
	if (n->cfg.read_ready != NULL)
		n->cfg.read_ready(n->cfg.ctx, cookie, index, status);
	node_cq_push(n, cookie, index, status, RC_COMPLETION_READ);
}

/* Takes the core's answers to reads: failures settle now, confirmed reads wait to be applied. */
static void
node_reads_answered(struct rc_node *n, const struct rc_raft_update *u)
{
	for (uint32_t i = 0; i < u->read_count; i++) {
		const struct rc_raft_read *rd = &u->reads[i];

		RC_ASSERT(n->reads_in_core > 0);
		n->reads_in_core--;
		if (rd->status != RC_READ_OK) {
			node_read_settle(n, rd->ctx, 0, (enum rc_read_status)rd->status);
			continue;
		}
		RC_ASSERT(n->reads_tail - n->reads_head < NODE_READS_WAITING_MAX);
		n->reads_waiting[n->reads_tail++ & (NODE_READS_WAITING_MAX - 1)] =
			(struct node_read_waiting){ .cookie = rd->ctx, .index = rd->index };
	}
}

/* Serves the waiting reads whose index this node has applied, oldest first. */
static void
node_reads_serve(struct rc_node *n)
{
	while (n->reads_head < n->reads_tail) {
		const struct node_read_waiting *w =
			&n->reads_waiting[n->reads_head & (NODE_READS_WAITING_MAX - 1)];

		if (w->index > n->apply_done)
			break;
		n->reads_head++;
		node_read_settle(n, w->cookie, w->index, RC_READ_OK);
	}
}

/* Queues a linearizable read; see node.h. */
int
rc_read_index(struct rc_node *n, uint64_t cookie, uint32_t flags)
{
	struct node_read_request *r;
	uint64_t pos;

	r = rc_mpsc_claim(&n->read_q, &pos);
	if (r == NULL)
		return -ENOBUFS;
	r->cookie = cookie;
	r->flags = flags;
	rc_mpsc_publish(&n->read_q, pos);
	return 0;
}

/* Steps queued read requests into the core, as many as can be settled without overflowing. */
static uint32_t
node_reads_drain(struct rc_node *n)
{
	uint64_t room = NODE_READS_WAITING_MAX - (n->reads_tail - n->reads_head) - n->reads_in_core;
	uint32_t cq_room = node_cq_room(n);
	uint32_t count = 0;

	if (cq_room < room)
		room = cq_room;
	while (count < room) {
		const struct node_read_request *r = rc_mpsc_peek(&n->read_q, count);
		struct rc_raft_event ev = { .type = RC_EVENT_READ_INDEX };

		if (r == NULL)
			break;
		ev.read.ctx = r->cookie;
		ev.read.flags = r->flags & RC_READ_LEASE;
		n->reads_in_core++;
		if (n->cq != NULL)
			n->cq_unsettled++;
		node_step(n, &ev);
		count++;
	}
	rc_mpsc_pop(&n->read_q, count);
	n->stats.reads_requested += count;
	return count;
}

/* Queues one settlement in the completion ring (room was reserved when it was drained). */
static void
node_cq_push(struct rc_node *n, uint64_t cookie, uint64_t index, uint32_t status, uint32_t kind)
{
	if (n->cq == NULL)
		return;
	uint64_t tail = atomic_load_explicit(&n->cq_tail, memory_order_relaxed);

	RC_ASSERT(tail - atomic_load_explicit(&n->cq_head, memory_order_acquire) <= n->cq_mask);
	n->cq[tail & n->cq_mask] = (struct rc_completion){
		.cookie = cookie, .index = index, .status = status, .kind = kind
	};
	atomic_store_explicit(&n->cq_tail, tail + 1, memory_order_release);
	RC_ASSERT(n->cq_unsettled > 0);
	n->cq_unsettled--;
}

/* Takes settled proposals from the completion ring; see node.h. */
uint32_t
rc_node_completions(struct rc_node *n, struct rc_completion *out, uint32_t max)
{
	uint64_t head = atomic_load_explicit(&n->cq_head, memory_order_relaxed);
	uint64_t tail;
	uint32_t count = 0;

	if (n->cq == NULL)
		return 0;
	tail = atomic_load_explicit(&n->cq_tail, memory_order_acquire);
	while (head + count < tail && count < max) {
		out[count] = n->cq[(head + count) & n->cq_mask];
		count++;
	}
	atomic_store_explicit(&n->cq_head, head + count, memory_order_release);
	return count;
}

/* Proposals the completion ring can still take without overflowing (UINT32_MAX: no ring). */
static uint32_t
node_cq_room(const struct rc_node *n)
{
	if (n->cq == NULL)
		return UINT32_MAX;
	uint64_t used = atomic_load_explicit(&n->cq_tail, memory_order_relaxed) -
			atomic_load_explicit(&n->cq_head, memory_order_acquire);

	return (uint32_t)(n->cq_mask + 1 - used - n->cq_unsettled);
}

/* Publishes the status other threads read (only what changed is stored). */
static void
node_publish_status(struct rc_node *n)
{
	const struct rc_raft *r = n->raft;
	uint32_t rl = (uint32_t)r->role << 16 | r->leader;

	if (atomic_load_explicit(&n->pub_term, memory_order_relaxed) != r->term)
		atomic_store_explicit(&n->pub_term, r->term, memory_order_relaxed);
	if (atomic_load_explicit(&n->pub_commit, memory_order_relaxed) != r->commit)
		atomic_store_explicit(&n->pub_commit, r->commit, memory_order_relaxed);
	if (atomic_load_explicit(&n->pub_applied, memory_order_relaxed) != n->apply_done)
		atomic_store_explicit(&n->pub_applied, n->apply_done, memory_order_release);
	if (atomic_load_explicit(&n->pub_role_leader, memory_order_relaxed) != rl)
		atomic_store_explicit(&n->pub_role_leader, rl, memory_order_relaxed);
}

/* The node's last published status; any thread. */
void
rc_node_status(const struct rc_node *n, struct rc_node_status *st)
{
	uint32_t rl = atomic_load_explicit(&n->pub_role_leader, memory_order_relaxed);

	st->id = n->cfg.raft.id;
	st->term = atomic_load_explicit(&n->pub_term, memory_order_relaxed);
	st->commit = atomic_load_explicit(&n->pub_commit, memory_order_relaxed);
	st->applied = atomic_load_explicit(&n->pub_applied, memory_order_acquire);
	st->role = (uint8_t)(rl >> 16);
	st->leader = (uint16_t)rl;
}

/* Whether the node was leader at its last poll. */
bool
rc_node_is_leader(const struct rc_node *n)
{
	return (atomic_load_explicit(&n->pub_role_leader, memory_order_relaxed) >> 16) ==
	       RC_ROLE_LEADER;
}

/*
 * Entry i is applied: seal and publish it to the log's readers, then settle its proposal (so a
 * proposer that hears "committed" can read it).
 */
static void
node_applied(struct rc_node *n, uint64_t i, const struct rc_raft_entry *e)
{
	struct node_pending *p = &n->pending[i & NODE_RING_MASK];

	rc_log_seal(n->log, i, e->term, e->type, e->bytes);
	rc_log_publish(n->log, i);
	if (p->index == i)
		node_complete(n, p,
			      p->term == e->term ? RC_PROPOSE_COMMITTED : RC_PROPOSE_SUPERSEDED);
	n->apply_done = i;
}

/*
 * Hands the run of normal entries from first (up to RC_APPLY_BATCH_MAX, up to apply_target) to
 * apply_batch, then settles what it applied. Returns how many it applied.
 */
static uint32_t
node_apply_batch(struct rc_node *n, void *ctx, uint64_t first)
{
	struct rc_apply_entry batch[RC_APPLY_BATCH_MAX];
	uint32_t count = 0, done;

	while (count < RC_APPLY_BATCH_MAX && first + count <= n->apply_target) {
		const struct rc_raft_entry *e = rc_raft_entry_at(n->raft, first + count);

		if (e->type != RC_ENTRY_NORMAL)
			break;
		batch[count] = (struct rc_apply_entry){ .index = first + count,
							.payload = rc_log_slot_const(n->log,
										     first + count),
							.bytes = e->bytes };
		count++;
	}
	done = n->cfg.apply_batch(ctx, batch, count);
	RC_ASSERT(done <= count);
	for (uint32_t k = 0; k < done; k++)
		node_applied(n, first + k, rc_raft_entry_at(n->raft, first + k));
	return done;
}

/*
 * Applies the committed entries the core reported and this node has not applied yet, in order,
 * completing the proposals they settle, until the state machine asks to retry an entry later.
 * Publishes what was applied to the log's readers. Returns the last index applied now, or 0.
 */
static uint64_t
node_apply(struct rc_node *n)
{
	uint64_t first = n->apply_done + 1;
	void *ctx = n->cfg.apply_ctx != NULL ? n->cfg.apply_ctx : n->cfg.ctx;

	for (uint64_t i = first; i <= n->apply_target; i++) {
		const struct rc_raft_entry *e = rc_raft_entry_at(n->raft, i);

		RC_ASSERT(e != NULL);
		if (e->type == RC_ENTRY_NORMAL && n->cfg.apply_batch != NULL) {
			/* A run of normal entries from i goes to the state machine at once. */
			uint32_t count = node_apply_batch(n, ctx, i);

			if (count == 0) {
				n->stats.apply_retries++;
				break;
			}
			i += count - 1;
			continue;
		}
		if (e->type == RC_ENTRY_NORMAL && n->cfg.apply != NULL &&
		    !n->cfg.apply(ctx, i, rc_log_slot_const(n->log, i), e->bytes)) {
			n->stats.apply_retries++;
			break;
		}
		node_applied(n, i, e);
	}
	if (n->apply_done < first)
		return 0;
	n->stats.applied += n->apply_done - first + 1;
	return n->apply_done;
}

/* ---- Storage: the write-ahead log ---------------------------------------------------------- */

/* The hard state the core holds now (what every write closes with). */
static struct rc_raft_hard_state
node_hard_state(const struct rc_node *n)
{
	return (struct rc_raft_hard_state){ .term = n->raft->term,
					    .commit = n->raft->commit,
					    .vote = n->raft->vote };
}

/* Sends, in order, the held messages whose writes are durable. */
static void
node_wal_release(struct rc_node *n, uint64_t durable)
{
	while (n->held_head != n->held_tail) {
		struct node_held *h = &n->held[n->held_head % NODE_HELD_MAX];

		if (h->ticket > durable)
			break;
		node_send(n, &h->msg);
		n->held_head++;
	}
}

/* Retires the writes the storage thread made durable, noting the last entry they cover. */
static uint64_t
node_wal_collect(struct rc_node *n)
{
	uint64_t durable = rc_wal_durable(n->wal);

	while (n->writes_head != n->writes_tail) {
		const struct node_write *w = &n->writes[n->writes_head % NODE_WRITES_MAX];

		if (w->ticket > durable)
			break;
		if (w->index != 0) {
			n->wal_done_index = w->index;
			n->wal_done_term = w->term;
		}
		n->writes_head++;
	}
	return durable;
}

/*
 * Collects the writes the storage thread made durable: releases the messages that waited on
 * them and steps RC_EVENT_PERSISTED for the last entry they cover. Returns true when it stepped.
 */
static bool
node_wal_poll(struct rc_node *n)
{
	node_wal_release(n, node_wal_collect(n));
	if (n->wal_done_index == 0)
		return false;
	struct rc_raft_event ev = { .type = RC_EVENT_PERSISTED };

	ev.persisted.index = n->wal_done_index;
	ev.persisted.term = n->wal_done_term;
	n->wal_done_index = 0;
	node_step(n, &ev);
	n->stats.wal_persisted++;
	return true;
}

/*
 * Hands the update's write (its entries, closed by the current hard state) to the storage
 * thread, and holds its after-persist messages until every write so far is durable. Of
 * consecutive accepted acks to one leader only the highest is kept.
 */
static void
node_wal_write(struct rc_node *n, const struct rc_raft_update *u)
{
	if (u->flags & (RC_UPDATE_ENTRIES | RC_UPDATE_HARD_STATE | RC_UPDATE_SNAPSHOT_INSTALLED)) {
		uint64_t last = n->raft->last_index;
		struct rc_raft_hard_state hs = node_hard_state(n);

		if (u->flags & RC_UPDATE_ENTRIES) {
			for (uint64_t i = u->persist_first; i <= u->persist_last; i++)
				rc_wal_append(n->wal, i, rc_raft_entry_at(n->raft, i),
					      rc_log_slot_const(n->log, i));
		}
		while (n->writes_tail - n->writes_head == NODE_WRITES_MAX)
			node_wal_collect(n); /* the storage thread retires writes in order */
		n->wal_ticket = rc_wal_commit(n->wal, &hs, last, rc_raft_term_at(n->raft, last));
		n->writes[n->writes_tail++ % NODE_WRITES_MAX] = (struct node_write){
			.ticket = n->wal_ticket,
			.index = (u->flags & RC_UPDATE_ENTRIES) ? u->persist_last : 0,
			.term = (u->flags & RC_UPDATE_ENTRIES) ?
					rc_raft_term_at(n->raft, u->persist_last) :
					0,
		};
		n->stats.wal_writes++;
	}
	for (uint32_t i = 0; i < u->msg_after_persist_count; i++) {
		const struct rc_raft_msg *m = &u->msgs_after_persist[i];
		struct node_held *tail = n->held_tail != n->held_head ?
						 &n->held[(n->held_tail - 1) % NODE_HELD_MAX] :
						 NULL;

		if (m->type == RC_MSG_APPEND_RESP && !m->reject && tail != NULL &&
		    tail->msg.type == RC_MSG_APPEND_RESP && !tail->msg.reject &&
		    tail->msg.to == m->to && tail->msg.term == m->term) {
			if (m->index > tail->msg.index)
				tail->msg = *m;
			tail->ticket = n->wal_ticket;
			n->stats.acks_coalesced++;
			continue;
		}
		if (n->held_tail - n->held_head == NODE_HELD_MAX) {
			n->stats.held_dropped++; /* safe: the peer retries */
			continue;
		}
		n->held[n->held_tail++ % NODE_HELD_MAX] = (struct node_held){
			.msg = *m, .ticket = n->wal_ticket
		};
	}
}

/* Drops a reference to an image; the last one unmaps and closes it. */
static void
node_image_put(struct node_image *im)
{
	if (im == NULL || --im->refs > 0)
		return;
	if (im->data != NULL)
		munmap((void *)im->data, im->bytes > 0 ? im->bytes : 1);
	close(im->fd);
	free(im);
}

/*
 * Saves the state machine into a new memory-file image at the last applied index (the loop
 * waits for the save). Returns it with one reference, or NULL after printing why.
 */
static struct node_image *
node_image_take(struct rc_node *n)
{
	void *ctx = n->cfg.apply_ctx != NULL ? n->cfg.apply_ctx : n->cfg.ctx;
	struct node_image *im = calloc(1, sizeof(*im));
	uint64_t t0 = rc_clock_ns();
	struct stat st;
	int rc = -ENOMEM;

	if (im == NULL)
		return NULL;
	im->refs = 1;
	im->fd = memfd_create("rc-snapshot", MFD_CLOEXEC);
	if (im->fd < 0)
		rc = -errno;
	else
		rc = n->cfg.snapshot_save(ctx, im->fd, &im->index);
	if (rc == 0 && (fstat(im->fd, &st) != 0 || st.st_size == 0))
		rc = -EIO;
	/* The state machine's own index trails the node's over leaders' no-ops (it never sees
	 * them); past the node's, it holds entries the node never gave it. */
	if (rc == 0 && im->index > n->apply_done)
		rc = -EINVAL;
	im->index = n->apply_done;
	if (RC_MUTATED(RC_MUTATION_SNAPSHOT_AHEAD) && n->raft->last_index > im->index)
		im->index += (n->raft->last_index - im->index + 1) / 2; /* a planted bug */
	if (rc == 0) {
		im->bytes = (uint64_t)st.st_size;
		im->data = mmap(NULL, im->bytes, PROT_READ, MAP_SHARED, im->fd, 0);
		if (im->data == MAP_FAILED) {
			im->data = NULL;
			rc = -errno;
		}
	}
	if (rc != 0) {
		fprintf(stderr, "replicore: node %u: saving a snapshot failed: %s\n",
			n->cfg.raft.id, strerror(-rc));
		if (im->fd >= 0)
			close(im->fd);
		free(im);
		return NULL;
	}
	im->term = rc_raft_term_at(n->raft, im->index);
	im->crc = rc_crc32c(0, im->data, im->bytes);
	n->stats.snapshot_save_ns = rc_clock_ns() - t0;
	return im;
}

static void *
node_snap_writer_main(void *arg)
{
	struct node_snap_writer *wr = arg;
	int rc = rc_snap_write(wr->dir, wr->image->index, wr->image->term, wr->image->data,
			       wr->image->bytes, wr->err, sizeof(wr->err));

	if (rc == 0)
		rc_snap_remove_older(wr->dir, wr->image->index);
	atomic_store_explicit(&wr->done, rc == 0 ? 1 : -1, memory_order_release);
	return NULL;
}

/*
 * Local snapshots: every snapshot_entries applied entries, an image is saved and handed to a
 * thread that writes it; once it is durable the log's segments it covers go.
 */
static void
node_snapshot_tick(struct rc_node *n)
{
	struct node_snap_writer *wr = n->writer;

	if (wr != NULL) {
		int done = atomic_load_explicit(&wr->done, memory_order_acquire);

		if (done == 0)
			return;
		pthread_join(wr->thread, NULL);
		if (done > 0) {
			n->snap_durable = wr->image->index;
			rc_wal_compact(n->wal, wr->image->index);
			n->stats.snapshots++;
		} else {
			fprintf(stderr, "replicore: node %u: %s\n", n->cfg.raft.id, wr->err);
		}
		node_image_put(wr->image);
		free(wr);
		n->writer = NULL;
	}
	if (n->cfg.snapshot_entries == 0 || n->cfg.snapshot_save == NULL ||
	    n->apply_done < n->snap_durable + n->cfg.snapshot_entries)
		return;
	struct node_image *im = node_image_take(n);

	wr = calloc(1, sizeof(*wr));
	if (im == NULL || wr == NULL) {
		node_image_put(im);
		free(wr);
		n->snap_durable = n->apply_done; /* try again a period later */
		return;
	}
	node_image_put(n->image);
	n->image = im;
	im->refs++;
	wr->image = im;
	wr->dir = rc_wal_dir(n->wal);
	if (pthread_create(&wr->thread, NULL, node_snap_writer_main, wr) != 0) {
		node_image_put(im);
		free(wr);
		return;
	}
	n->writer = wr;
}

/* Bytes of staging room an append of count entries needs, with a write's overhead. */
static uint64_t
node_wal_need(const struct rc_node *n, uint32_t count)
{
	return (uint64_t)count * rc_wal_record_bytes(n->cfg.payload_bytes_max) +
	       RC_WAL_WRITE_OVERHEAD + NODE_WAL_SLACK;
}

/* How many entries of up to payload_bytes_max the staging ring takes now (beyond the slack). */
static uint32_t
node_wal_room_entries(const struct rc_node *n)
{
	uint64_t room = rc_wal_room(n->wal);
	uint64_t need = node_wal_need(n, 0);

	if (room <= need)
		return 0;
	room = (room - need) / rc_wal_record_bytes(n->cfg.payload_bytes_max);
	return room > UINT32_MAX ? UINT32_MAX : (uint32_t)room;
}

/*
 * Executes the update until the core is quiet: hands its write to the log (with `mem` storage a
 * write is durable at once, so acknowledgements go out with the rest and the write is reported
 * persisted at once; with a write-ahead log they wait for the storage thread), sends its
 * messages, applies what is committed. Bounded by NODE_EXECUTE_ROUNDS_MAX rounds.
 */
static void
node_execute(struct rc_node *n)
{
	struct rc_raft_update *u = n->upd;

	for (uint32_t round = 0; round < NODE_EXECUTE_ROUNDS_MAX; round++) {
		uint32_t flags = u->flags;
		uint64_t persist_last = u->persist_last;
		uint64_t apply_first = u->apply_first, apply_last = u->apply_last;

		(void)apply_first; /* checked only */
		struct rc_raft_event ev;

		if ((flags & (RC_UPDATE_ENTRIES | RC_UPDATE_MSGS | RC_UPDATE_MSGS_AFTER_PERSIST |
			      RC_UPDATE_APPLY | RC_UPDATE_HARD_STATE | RC_UPDATE_READS |
			      RC_UPDATE_SNAPSHOT | RC_UPDATE_SNAPSHOT_INSTALLED)) == 0 &&
		    n->apply_done >= n->apply_target)
			break;
		if (flags & RC_UPDATE_SNAPSHOT_INSTALLED)
			node_snap_installed(
				n, u); /* before the write: it goes on after the snapshot */
		if (flags & RC_UPDATE_SNAPSHOT)
			node_snap_requests(n, u->snapshot_peers);
		if (n->wal != NULL)
			node_wal_write(n, u); /* before the appends go out: they may come back */
		for (uint32_t i = 0; i < u->msg_count; i++)
			node_send(n, &u->msgs[i]);
		if (n->wal == NULL)
			node_send_after_persist(n, u);
		node_reads_answered(n, u);
		rc_raft_update_reset(u);
		if (n->wal != NULL) {
			node_wal_poll(n);
		} else if (flags & RC_UPDATE_ENTRIES) {
			ev = (struct rc_raft_event){ .type = RC_EVENT_PERSISTED };
			ev.persisted.index = persist_last;
			ev.persisted.term = rc_raft_term_at(n->raft, persist_last);
			rc_raft_step(n->raft, &ev, u);
			n->stats.steps++;
		}
		if (flags & RC_UPDATE_APPLY) {
			RC_ASSERT(apply_first == n->apply_target + 1);
			n->apply_target = apply_last;
		}
		if (n->apply_done < n->apply_target) {
			ev = (struct rc_raft_event){ .type = RC_EVENT_APPLIED };
			ev.applied.index = node_apply(n);
			if (ev.applied.index == 0)
				break; /* the state machine asked to retry: next poll */
			rc_raft_step(n->raft, &ev, u);
			n->stats.steps++;
		}
	}
}

/*
 * Decodes one received frame and steps it. Payloads are copied into the arena only for the
 * entries the core holds afterwards with the same term (appended now, or identical already),
 * so a refused AppendEntries never overwrites a slot of our log.
 */
static void
node_receive(struct rc_node *n, const struct rc_frame *f)
{
	struct rc_wire_header h;
	struct rc_raft_event ev = { .type = RC_EVENT_RECEIVE };
	uint8_t type = rc_wire_frame_type(f->body, f->body_bytes);

	if (type == RC_WIRE_SNAP_CHUNK || type == RC_WIRE_SNAP_ACK) {
		node_snap_receive(n, f, type);
		return;
	}
	enum rc_wire_error err = rc_wire_decode(f->body, f->body_bytes, &h, &ev.msg, n->rx_entries,
						n->rx_payloads, RC_MSG_ENTRIES_MAX);

	if (err != RC_WIRE_OK) {
		n->stats.rx_rejected++;
		n->stats.rejected_by_reason[err]++;
		return;
	}
	if (h.cluster_id != n->cfg.cluster_id || ev.msg.to != n->cfg.raft.id) {
		n->stats.rx_foreign++;
		return;
	}
	for (uint32_t i = 0; i < ev.msg.entry_count; i++) {
		if (n->rx_entries[i].bytes > n->cfg.payload_bytes_max) {
			n->stats.rx_rejected++; /* a peer configured for larger payloads */
			return;
		}
	}
	/* No slots for what this message may append: drop it, the leader resends. */
	uint64_t need = ev.msg.index + ev.msg.entry_count;

	if (!node_log_has_next(n) ||
	    (need > n->raft->last_index && rc_log_reserve(n->log, need) < need)) {
		n->stats.rx_log_full++;
		return;
	}
	if (n->wal != NULL && ev.msg.entry_count > 0 &&
	    rc_wal_room(n->wal) < node_wal_need(n, ev.msg.entry_count)) {
		n->stats.rx_wal_full++; /* the leader resends */
		return;
	}
	node_step(n, &ev);
	for (uint32_t i = 0; i < ev.msg.entry_count; i++) {
		uint64_t index = ev.msg.index + 1 + i;
		const struct rc_raft_entry *e = rc_raft_entry_at(n->raft, index);

		/* Committed slots are immutable (readers may hold them): they hold these bytes. */
		if (e != NULL && e->term == n->rx_entries[i].term &&
		    index > rc_log_sealed_index(n->log))
			memcpy(rc_log_slot(n->log, index), n->rx_payloads[i],
			       n->rx_entries[i].bytes);
	}
}

/* Drains up to propose_batch_max queued proposals into one PROPOSE; returns how many. */
static uint32_t
node_propose(struct rc_node *n)
{
	struct rc_raft_event ev = { .type = RC_EVENT_PROPOSE };
	uint32_t count = 0, accepted;
	uint64_t first, term;

	uint32_t room = node_log_room(n, n->cfg.propose_batch_max);
	uint32_t cq_room = node_cq_room(n);

	if (cq_room < room)
		room = cq_room; /* every drained proposal settles into the completion ring */
	if (n->wal != NULL) {
		uint32_t wal_room = node_wal_room_entries(n);

		if (wal_room < room)
			room = wal_room; /* the storage thread is behind: back-pressure */
	}

	while (count < room) {
		const struct node_proposal *p = rc_mpsc_peek(&n->propose_q, count);

		if (p == NULL)
			break;
		n->props[count] = p;
		n->prop_entries[count] = (struct rc_raft_entry){ .bytes = p->bytes };
		count++;
	}
	if (count == 0)
		return 0;
	ev.propose.entries = n->prop_entries;
	ev.propose.count = count;
	if (n->cq != NULL)
		n->cq_unsettled += count;
	node_step(n, &ev);
	accepted = n->upd->propose_accepted;
	first = n->upd->propose_first;
	term = n->upd->propose_term;
	for (uint32_t i = 0; i < count; i++) {
		const struct node_proposal *p = n->props[i];
		struct node_pending *pend = &n->pending[(first + i) & NODE_RING_MASK];

		if (i >= accepted) {
			struct node_pending refused = { .cookie = p->cookie };

			node_complete(n, &refused,
				      n->raft->role == RC_ROLE_LEADER ? RC_PROPOSE_LOG_FULL :
									RC_PROPOSE_NOT_LEADER);
			continue;
		}
		if (pend->index != 0)
			node_complete(n, pend, RC_PROPOSE_SUPERSEDED); /* its slot is reused */
		memcpy(rc_log_slot(n->log, first + i), p->payload, p->bytes);
		*pend = (struct node_pending){ .index = first + i,
					       .term = term,
					       .cookie = p->cookie };
	}
	rc_mpsc_pop(&n->propose_q, count);
	n->stats.proposed += accepted;
	return count;
}

/*
 * Where the log may be compacted to: what the core still holds (its payloads are needed to
 * send), and no further than log_retain_entries below the last applied index.
 */
static uint64_t
node_log_compact_point(const struct rc_node *n)
{
	uint64_t first = n->raft->snap_index + 1;
	uint64_t retain = n->cfg.log_retain_entries;

	if (retain == 0)
		return first;
	if (n->apply_done + 1 <= retain)
		return 1;
	return first < n->apply_done + 1 - retain ? first : n->apply_done + 1 - retain;
}

/* One iteration of the loop; see node.h. */
uint32_t
rc_node_poll(struct rc_node *n, uint64_t now_ns)
{
	struct rc_frame frames[RC_BURST_MAX];
	uint16_t id = n->cfg.raft.id;
	uint16_t rx = n->drv->ops->rx_burst(n->drv, id, frames, RC_BURST_MAX);
	uint32_t work = rx;

	n->now_ns = now_ns;
	for (uint16_t i = 0; i < rx; i++)
		node_receive(n, &frames[i]);
	if (rx > 0)
		n->drv->ops->rx_free(n->drv, id, frames, rx);
	n->stats.rx_frames += rx;
	if (n->next_tick_ns == 0)
		n->next_tick_ns = now_ns + n->cfg.tick_ns;
	if (now_ns >= n->next_tick_ns && node_log_has_next(n)) {
		struct rc_raft_event ev = { .type = RC_EVENT_TICK };

		node_step(n, &ev);
		/* One tick per iteration; a loop that fell behind does not burst ticks. */
		n->next_tick_ns = now_ns - n->next_tick_ns > n->cfg.tick_ns ?
					  now_ns + n->cfg.tick_ns :
					  n->next_tick_ns + n->cfg.tick_ns;
		work++;
	}
	if (n->wal != NULL && node_wal_poll(n))
		work++;
	work += node_propose(n);
	work += node_reads_drain(n);
	work += node_snap_send(n);
	node_execute(n);
	node_reads_serve(n);
	if (n->wal != NULL)
		node_snapshot_tick(n);
	rc_log_compact(n->log, node_log_compact_point(n));
	for (int i = 0; i < n->cfg.raft.voter_count; i++)
		if (n->tx_count[i] > 0)
			node_flush(n, i);
	node_publish_status(n);
	n->stats.iterations++;
	if (work > 0)
		n->stats.busy_iterations++;
	return work;
}

/* The node's core, for reading its state from the node's thread. */
const struct rc_raft *
rc_node_raft(const struct rc_node *n)
{
	return n->raft;
}

/* The node's counters. */
const struct rc_node_stats *
rc_node_stats(const struct rc_node *n)
{
	return &n->stats;
}

/* The payload the node holds for index, or NULL when the log does not hold index. */
const void *
rc_node_payload(const struct rc_node *n, uint64_t index, uint32_t *bytes)
{
	const struct rc_raft_entry *e = rc_raft_entry_at(n->raft, index);

	if (e == NULL)
		return NULL;
	*bytes = e->bytes;
	return rc_log_slot_const(n->log, index);
}

/* The node's committed log, for readers on any registered thread. */
const struct rc_log *
rc_node_log(const struct rc_node *n)
{
	return n->log;
}

/* The log's counters (node's thread only). */
const struct rc_log_stats *
rc_node_log_stats(struct rc_node *n)
{
	return rc_log_stats(n->log);
}

/* ---- InstallSnapshot ----------------------------------------------------------------------- */

/* Ends a transfer to a follower. */
static void
node_snap_out_end(struct node_snap_out *o)
{
	node_image_put(o->image);
	o->image = NULL;
}

/*
 * The core asks for snapshots to the followers in peers (voter slots): each gets a transfer of
 * the newest image at or past the core's compaction point (saved now when there is none). A
 * transfer still running is left alone: it resends on its own when acknowledgements stop.
 */
static void
node_snap_requests(struct rc_node *n, uint32_t peers)
{
	for (int slot = 0; slot < n->cfg.raft.voter_count; slot++) {
		struct node_snap_out *o = &n->snap_out[slot];

		if (!(peers & (1u << slot)) || (o->image != NULL && o->term == n->raft->term))
			continue;
		node_snap_out_end(o);
		if (n->cfg.snapshot_save == NULL) {
			if (!n->snap_unavailable_said)
				fprintf(stderr,
					"replicore: node %u: follower %u needs a snapshot, "
					"and there is no snapshot_save\n",
					n->cfg.raft.id, n->peer_id[slot]);
			n->snap_unavailable_said = true;
			continue;
		}
		if (n->image == NULL || n->image->index < n->raft->snap_index) {
			struct node_image *im = node_image_take(n);

			if (im == NULL)
				continue;
			node_image_put(n->image);
			n->image = im;
		}
		n->image->refs++;
		*o = (struct node_snap_out){ .image = n->image,
					     .term = n->raft->term,
					     .progress_ns = n->now_ns };
	}
}

/* Sends each running transfer what its window allows. Returns the chunks sent. */
static uint32_t
node_snap_send(struct rc_node *n)
{
	uint32_t work = 0;

	for (int slot = 0; slot < n->cfg.raft.voter_count; slot++) {
		struct node_snap_out *o = &n->snap_out[slot];
		const struct node_image *im = o->image;

		if (im == NULL)
			continue;
		if (n->raft->role != RC_ROLE_LEADER || n->raft->term != o->term) {
			node_snap_out_end(o);
			continue;
		}
		if (o->sent > o->acked && n->now_ns - o->progress_ns > NODE_SNAP_RESEND_NS) {
			o->sent =
				o->acked; /* chunks or acks were lost: resume from what it holds */
			o->progress_ns = n->now_ns;
		}
		for (uint32_t k = 0; k < NODE_SNAP_CHUNKS_PER_POLL && o->sent < im->bytes &&
				     o->sent - o->acked < NODE_SNAP_WINDOW_BYTES;
		     k++) {
			struct rc_frame *f = node_frame(n);

			if (f == NULL)
				break;
			uint64_t room = f->body_cap - RC_WIRE_HEADER_BYTES - RC_SNAP_CHUNK_BYTES;
			struct rc_snap_chunk c = {
				.from = n->cfg.raft.id,
				.to = n->peer_id[slot],
				.term = o->term,
				.index = im->index,
				.snap_term = im->term,
				.total = im->bytes,
				.offset = o->sent,
				.crc = im->crc,
				.len = (uint32_t)(im->bytes - o->sent < room ? im->bytes - o->sent :
									       room),
				.data = im->data + o->sent,
			};
			int32_t len = rc_snap_encode_chunk(f->body, f->body_cap, n->cfg.cluster_id,
							   n->tx_seq++, &c);

			RC_ASSERT(len > 0);
			f->body_bytes = (uint32_t)len;
			node_stage(n, slot, f);
			o->sent += c.len;
			n->stats.snapshot_chunks_sent++;
			work++;
		}
	}
	return work;
}

/* Sends a transfer acknowledgement. */
static void
node_snap_ack(struct rc_node *n, const struct rc_snap_ack *a)
{
	int slot = node_slot_of(n, a->to);
	struct rc_frame *f;

	if (slot < 0 || (f = node_frame(n)) == NULL)
		return;
	int32_t len = rc_snap_encode_ack(f->body, f->body_cap, n->cfg.cluster_id, n->tx_seq++, a);

	RC_ASSERT(len > 0);
	f->body_bytes = (uint32_t)len;
	node_stage(n, slot, f);
}

/* An acknowledgement of a transfer this leader runs. */
static void
node_snap_on_ack(struct rc_node *n, const struct rc_snap_ack *a)
{
	int slot = node_slot_of(n, a->from);
	struct node_snap_out *o = slot >= 0 ? &n->snap_out[slot] : NULL;

	if (o == NULL || o->image == NULL || a->index != o->image->index)
		return;
	if (a->status == RC_SNAP_INSTALLED || a->status == RC_SNAP_REFUSED) {
		n->stats.snapshots_sent += a->status == RC_SNAP_INSTALLED;
		node_snap_out_end(o); /* refused: the core asks again if it still needs one */
		return;
	}
	if (a->next > o->image->bytes)
		return;
	if (a->next != o->acked)
		o->progress_ns = n->now_ns;
	o->acked = a->next; /* lower: the follower started over */
	if (o->sent < o->acked || a->next == 0)
		o->sent = o->acked;
}

/*
 * The whole snapshot arrived: checks it, restores the state machine, makes it durable (a file
 * beside the log) and steps RC_EVENT_SNAPSHOT. Returns the acknowledgement's status; a CRC
 * mismatch starts the transfer over.
 */
static uint32_t
node_snap_install(struct rc_node *n)
{
	struct node_snap_in *in = &n->snap_in;
	struct rc_raft_event ev = { .type = RC_EVENT_SNAPSHOT };
	char err[512];
	int fd, rc = 0;

	if (rc_crc32c(0, in->buf, in->total) != in->crc) {
		in->have = 0;
		return RC_SNAP_RECEIVING;
	}
	if (!rc_raft_snapshot_wanted(n->raft, in->index, in->term))
		return RC_SNAP_REFUSED;
	fd = memfd_create("rc-snapshot", MFD_CLOEXEC);
	if (fd < 0 || write(fd, in->buf, in->total) != (ssize_t)in->total)
		rc = -errno;
	if (rc == 0)
		rc = node_restore_fd(n, fd, in->index);
	if (fd >= 0)
		close(fd);
	if (rc != 0) {
		fprintf(stderr, "replicore: node %u: snapshot %" PRIu64 " not restored: %s\n",
			n->cfg.raft.id, in->index, strerror(-rc));
		return RC_SNAP_REFUSED;
	}
	if (n->wal != NULL) {
		rc = rc_snap_write(rc_wal_dir(n->wal), in->index, in->snap_term, in->buf, in->total,
				   err, sizeof(err));
		if (rc != 0) {
			/* The state machine moved and its base cannot be made durable: stop. */
			fprintf(stderr, "replicore: node %u: %s\n", n->cfg.raft.id, err);
			RC_ASSERT(!"a snapshot could not be made durable");
		}
		rc_snap_remove_older(rc_wal_dir(n->wal), in->index);
	}
	ev.snapshot.index = in->index;
	ev.snapshot.term = in->snap_term;
	ev.snapshot.leader_term = in->term;
	ev.snapshot.leader = in->leader;
	node_step(n, &ev);
	/* The payload log starts again after it at once: entries that follow in this burst go
	 * after the snapshot. */
	rc_log_restart(n->log, in->index);
	n->apply_done = n->apply_target = in->index;
	n->snap_durable = in->index;
	n->stats.snapshots_installed++;
	return RC_SNAP_INSTALLED;
}

/* A chunk of a snapshot from the leader: kept when it continues what arrived, acknowledged. */
static void
node_snap_on_chunk(struct rc_node *n, const struct rc_snap_chunk *c)
{
	struct node_snap_in *in = &n->snap_in;
	struct rc_snap_ack a = { .from = n->cfg.raft.id,
				 .to = c->from,
				 .term = n->raft->term,
				 .index = c->index,
				 .status = RC_SNAP_RECEIVING };

	if (c->term < n->raft->term || c->total > n->cfg.snapshot_bytes_max ||
	    n->cfg.snapshot_restore == NULL || node_slot_of(n, c->from) < 0) {
		a.status = RC_SNAP_REFUSED;
		node_snap_ack(n, &a);
		return;
	}
	if (in->buf == NULL || in->index != c->index || in->snap_term != c->snap_term ||
	    in->total != c->total || in->crc != c->crc || in->leader != c->from ||
	    in->term != c->term) {
		if (c->offset != 0) {
			node_snap_ack(n, &a); /* next 0: start from the beginning */
			return;
		}
		uint8_t *buf = realloc(in->buf, c->total > 0 ? c->total : 1);

		if (buf == NULL) {
			a.status = RC_SNAP_REFUSED;
			node_snap_ack(n, &a);
			return;
		}
		*in = (struct node_snap_in){ .buf = buf,
					     .total = c->total,
					     .index = c->index,
					     .snap_term = c->snap_term,
					     .term = c->term,
					     .crc = c->crc,
					     .leader = c->from };
	}
	if (c->offset == in->have) {
		memcpy(in->buf + in->have, c->data, c->len);
		in->have += c->len;
		if (in->have == in->total) {
			a.status = node_snap_install(n);
			if (a.status != RC_SNAP_RECEIVING) {
				free(in->buf);
				*in = (struct node_snap_in){ 0 };
			}
		}
	}
	a.next = in->have;
	node_snap_ack(n, &a);
}

/* A snapshot transfer frame: decoded, then handed to the leader's or the follower's side. */
static void
node_snap_receive(struct rc_node *n, const struct rc_frame *f, uint8_t type)
{
	uint32_t cluster = 0;
	enum rc_wire_error err;
	uint16_t to = 0;

	if (type == RC_WIRE_SNAP_CHUNK) {
		struct rc_snap_chunk c;

		err = rc_snap_decode_chunk(f->body, f->body_bytes, &cluster, &c);
		to = c.to;
		if (err == RC_WIRE_OK && cluster == n->cfg.cluster_id && to == n->cfg.raft.id)
			node_snap_on_chunk(n, &c);
	} else {
		struct rc_snap_ack a;

		err = rc_snap_decode_ack(f->body, f->body_bytes, &cluster, &a);
		to = a.to;
		if (err == RC_WIRE_OK && cluster == n->cfg.cluster_id && to == n->cfg.raft.id)
			node_snap_on_ack(n, &a);
	}
	if (err != RC_WIRE_OK) {
		n->stats.rx_rejected++;
		n->stats.rejected_by_reason[err]++;
	} else if (cluster != n->cfg.cluster_id || to != n->cfg.raft.id) {
		n->stats.rx_foreign++;
	}
}

/*
 * The core installed a snapshot (node_snap_install() moved the payload log and the apply point
 * already): the disk log goes on after it (a SNAPSHOT record when the old log was dropped), and
 * the segments it covers may go.
 */
static void
node_snap_installed(struct rc_node *n, const struct rc_raft_update *u)
{
	uint64_t s = u->snapshot_index;

	if (n->wal != NULL) {
		if (!u->snapshot_tail_kept)
			rc_wal_append_snapshot(n->wal, s, u->snapshot_term);
		rc_wal_compact(n->wal, s);
	}
}
