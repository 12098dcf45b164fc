/*
 * A replica at run time: the pure Raft core (raft.h) wired to a driver (driver.h), volatile
 * `mem` storage, a payload arena and a proposal ring. rc_node_poll() is one bounded iteration
 * of the run-to-completion loop: rx burst -> decode -> step -> persist -> encode and tx burst ->
 * apply and complete proposals. It allocates nothing, takes no lock and makes no syscall of its
 * own (the driver's bursts are the only I/O), so a DPDK lcore, a thread of an application, or a
 * test may call it in a loop. Several nodes may share one thread.
 *
 * Storage is `mem` for now: an entry counts as durable once it is in this process's memory, so
 * a crash of the process loses it. Every report made with it says "not durable".
 */
#ifndef REPLICORE_NODE_H
#define REPLICORE_NODE_H

#include <stdbool.h>
#include <stdint.h>

#include <replicore/driver.h>
#include <replicore/log.h>
#include <replicore/raft.h>
#include <replicore/wal.h>

/* Status a proposal completes with. */
enum rc_propose_status {
	RC_PROPOSE_COMMITTED = 0,  /* held by a majority and applied by this leader */
	RC_PROPOSE_NOT_LEADER = 1, /* this node was not leader when the proposal was drained */
	RC_PROPOSE_LOG_FULL = 2,   /* the log had no room; retry later */
	RC_PROPOSE_SUPERSEDED = 3, /* leadership changed and the entry was replaced */
};

/*
 * Called on the node's thread when a proposal is settled: committed at index (and applied), or
 * refused (index 0). cookie is the caller's.
 */
typedef void (*rc_node_complete_fn)(void *ctx, uint64_t cookie, uint64_t index,
				    enum rc_propose_status status);

/*
 * Called on the node's thread for every committed entry, in index order. Returns true once the
 * entry is applied, or false to be called again with the same entry on a later poll (the state
 * machine is out of memory a grace period still holds): the node applies nothing past it
 * meanwhile, and its log compacts nothing past it either.
 */
typedef bool (*rc_node_apply_fn)(void *ctx, uint64_t index, const void *payload, uint32_t bytes);

/* What a completion settles. */
enum rc_completion_kind {
	RC_COMPLETION_PROPOSAL = 0, /* status: enum rc_propose_status */
	RC_COMPLETION_READ = 1,	    /* status: enum rc_read_status (raft.h) */
};

/* A settled proposal or read, as the pollable completion ring hands it out. */
struct rc_completion {
	uint64_t cookie; /* the caller's */
	uint64_t index;	 /* proposal: the entry's index when committed; read: its read index */
	uint32_t status; /* enum rc_propose_status or enum rc_read_status, by kind */
	uint32_t kind;	 /* enum rc_completion_kind */
};

/*
 * Called on the node's thread when a linearizable read (rc_read_index) is settled: RC_READ_OK
 * once this node, the leader, has applied up to the read index (the state machine may then be
 * read and the answer is linearizable), or a failure (index 0): not the leader, dropped by a
 * leader that stepped down, or busy. cookie is the caller's.
 */
typedef void (*rc_node_read_fn)(void *ctx, uint64_t cookie, uint64_t index,
				enum rc_read_status status);

/* Entries handed to a state machine at once (apply_batch). */
#define RC_APPLY_BATCH_MAX 64u

/* One committed entry as a state machine's batch apply sees it. */
struct rc_apply_entry {
	uint64_t index;
	const void *payload; /* valid during the call */
	uint32_t bytes;
};

/*
 * Called on the node's thread with up to RC_APPLY_BATCH_MAX consecutive committed entries (in
 * index order; the leaders' no-ops are not passed). Returns how many it applied, from the first:
 * fewer than count asks the node to call again with the rest on a later poll.
 */
typedef uint32_t (*rc_node_apply_batch_fn)(void *ctx, const struct rc_apply_entry *entries,
					   uint32_t count);

/*
 * Snapshots of the state machine (with a write-ahead log). save writes the state as of the last
 * entry applied to fd and stores that index; restore replaces the state with the snapshot read
 * from fd and stores its index. Both run on the node's thread; 0 or -errno.
 * rc_kv_node_snapshot_save / rc_kv_node_snapshot_restore fit.
 */
typedef int (*rc_node_snapshot_fn)(void *ctx, int fd, uint64_t *index);

struct rc_node_config {
	struct rc_raft_config raft;   /* id, voters, timeouts, windows (rc_raft_config_default) */
	uint32_t cluster_id;	      /* frames of other clusters are dropped */
	uint32_t payload_bytes_max;   /* largest entry payload; sizes the arena */
	uint32_t propose_ring_slots;  /* power of two, >= 2 */
	uint32_t propose_batch_max;   /* proposals drained into one PROPOSE, 1..1024 */
	uint64_t tick_ns;	      /* length of one Raft tick */
	rc_node_complete_fn complete; /* may be NULL */
	rc_node_apply_fn apply;	      /* may be NULL */
	void *ctx;		      /* complete()'s, and apply()'s unless apply_ctx is set */
	void *apply_ctx;	      /* apply()'s context when not NULL (a state machine) */
	rc_node_apply_batch_fn apply_batch; /* used instead of apply when set; gets apply_ctx */
	bool log_poison; /* fill recycled log chunks with 0xdb (tests, debugging) */
	/* Committed entries the log keeps readable below the last applied one, beyond what the
	 * core keeps for replication (0: only those; at most 2^24). Memory grows with it. */
	uint32_t log_retain_entries;
	/* Slots of the pollable completion ring (a power of two; 0: none). When set, every settled
	 * proposal is also queued there for rc_node_completions(); the node drains no more
	 * proposals than the ring can settle, so a slow consumer causes back-pressure (rc_propose
	 * returns -ENOBUFS) and no completion is ever lost. */
	uint32_t completion_ring_slots;
	rc_node_read_fn read_ready; /* may be NULL; gets ctx */
	uint32_t read_ring_slots;   /* read requests queued from other threads, power of two */
	/*
	 * Storage. NULL: `mem`, volatile (a write counts as durable at once; NOT durable across a
	 * restart). Otherwise a write-ahead log opened by rc_wal_open() and not started: the node
	 * recovers from it in rc_node_create() (the entries up to the stored commit index are
	 * applied again through apply/apply_batch, so the state machine must be ready), starts
	 * it, and from then on sends acknowledgements and votes only once what they promise is
	 * durable. The node does not own it: rc_wal_close() it after rc_node_destroy().
	 */
	struct rc_wal *wal;
	/*
	 * Snapshots (wal only; both callbacks get apply_ctx). Every snapshot_entries applied
	 * entries (0: never) the node saves the state machine into memory (the loop stops for
	 * that long), a thread writes it beside the log (temp file, fsync, rename), and the log's
	 * segments it covers are deleted. A follower the leader can no longer reach with entries
	 * receives the newest state this way (InstallSnapshot, in chunks that fit frames), up to
	 * snapshot_bytes_max bytes (default 1 GiB).
	 */
	rc_node_snapshot_fn snapshot_save;
	rc_node_snapshot_fn snapshot_restore;
	uint64_t snapshot_entries;
	uint64_t snapshot_bytes_max;
};

/* Counters of one node, written only by its thread. */
struct rc_node_stats {
	uint64_t iterations;
	uint64_t busy_iterations; /* iterations that did any work */
	uint64_t rx_frames;
	uint64_t rx_rejected; /* frames the codec refused */
	uint64_t rx_foreign;  /* frames of another cluster or for another node */
	uint64_t rx_log_full; /* frames dropped: the log had no slot for what they may append */
	uint64_t tx_frames;
	uint64_t tx_append_frames; /* AppendEntries frames with at least one entry */
	uint64_t tx_entries;	   /* entries carried by them */
	uint64_t tx_dropped;	   /* frames the driver refused after retries */
	uint64_t acks_coalesced;
	uint64_t proposed;
	uint64_t committed;	  /* proposals completed as committed */
	uint64_t refused;	  /* proposals completed with an error */
	uint64_t applied;	  /* entries applied (every node) */
	uint64_t apply_retries;	  /* times the state machine asked to retry an entry later */
	uint64_t reads_requested; /* rc_read_index() requests stepped into the core */
	uint64_t reads_served;	  /* settled RC_READ_OK */
	uint64_t reads_failed;	  /* settled with a failure */
	uint64_t steps;
	uint64_t rejected_by_reason[16]; /* by enum rc_wire_error */
	/* Storage (wal only). */
	uint64_t rx_wal_full;	    /* frames dropped: the staging ring had no room for them */
	uint64_t wal_writes;	    /* writes handed to the storage thread */
	uint64_t wal_persisted;	    /* RC_EVENT_PERSISTED steps */
	uint64_t held_dropped;	    /* acks or votes dropped: too many waited (Raft resends) */
	uint64_t recovered_applied; /* entries applied again from the log at start */
	uint64_t snapshots;	    /* snapshots saved and made durable */
	uint64_t snapshot_save_ns;  /* time the last save held the loop */
	uint64_t snapshots_sent;    /* InstallSnapshot transfers finished (leader) */
	uint64_t snapshot_chunks_sent;
	uint64_t snapshots_installed; /* snapshots received and installed (follower) */
};

struct rc_node;

/* Fills cfg with defaults for node id among voters (1 ms ticks, 64-byte payloads). */
void rc_node_config_default(struct rc_node_config *cfg, uint16_t id, const uint16_t *voters,
			    uint16_t voter_count);

/*
 * Creates a node on driver d (which must host cfg->raft.id). Allocates everything the node will
 * ever use. Returns 0 and *out, or -EINVAL (bad configuration) or -ENOMEM, after printing why.
 */
int rc_node_create(const struct rc_node_config *cfg, struct rc_driver *d, struct rc_node **out);
void rc_node_destroy(struct rc_node *n);

/*
 * One iteration of the node's loop at time now_ns (a monotonic clock). Returns the amount of
 * work done (frames, proposals, entries); 0 means the loop was idle.
 */
uint32_t rc_node_poll(struct rc_node *n, uint64_t now_ns);

/*
 * Submits a proposal from any thread (lock-free, multi-producer). The payload is copied.
 * Returns 0, -EMSGSIZE when bytes > payload_bytes_max, or -ENOBUFS when the ring is full
 * (back-pressure: nothing was queued, retry later). The outcome arrives through complete().
 */
int rc_propose(struct rc_node *n, const void *payload, uint32_t bytes, uint64_t cookie);

/*
 * Takes up to max settled proposals from the completion ring, oldest first (one consumer thread
 * at a time, any thread). Returns how many were copied to out.
 */
uint32_t rc_node_completions(struct rc_node *n, struct rc_completion *out, uint32_t max);

/* What any thread may ask a running node; published by the node once per poll. */
struct rc_node_status {
	uint64_t term;
	uint64_t commit;  /* highest index known committed */
	uint64_t applied; /* highest index applied (and readable in the log) */
	uint16_t id;
	uint16_t leader; /* the leader this node knows of, 0 if none */
	uint8_t role;	 /* enum rc_role */
};

/* Fills *st with the node's last published status. Any thread; lock-free. */
void rc_node_status(const struct rc_node *n, struct rc_node_status *st);

/* Whether the node was leader at its last poll. Any thread. */
bool rc_node_is_leader(const struct rc_node *n);

/*
 * Asks for a linearizable read from any thread (lock-free, multi-producer): the leader confirms
 * its leadership with a quorum round shared by every read that arrives meanwhile (ReadIndex),
 * or, with flags RC_READ_LEASE and config raft.lease_reads, answers inside its lease. The outcome
 * arrives through read_ready() and/or the completion ring (kind RC_COMPLETION_READ). Returns 0,
 * or -ENOBUFS when the request ring is full (nothing was queued; retry later).
 */
int rc_read_index(struct rc_node *n, uint64_t cookie, uint32_t flags);

/* The node's core, for reading role, term, commit (only from the node's thread). */
const struct rc_raft *rc_node_raft(const struct rc_node *n);
const struct rc_node_stats *rc_node_stats(const struct rc_node *n);
/* The payload of a log entry the node holds, or NULL. Node's thread only. */
const void *rc_node_payload(const struct rc_node *n, uint64_t index, uint32_t *bytes);

/*
 * The node's committed log. Any thread registered with rc_rcu_register() may read it (log.h)
 * while the node runs; it lives until rc_node_destroy().
 */
const struct rc_log *rc_node_log(const struct rc_node *n);

/* The log's counters: chunks, grace periods in flight, stalls (node's thread only). */
const struct rc_log_stats *rc_node_log_stats(struct rc_node *n);

/* Returns a monotonic time in nanoseconds (CLOCK_MONOTONIC through the vDSO: no syscall). */
uint64_t rc_clock_ns(void);

#endif
