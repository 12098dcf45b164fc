/*
 * The deterministic simulator: a cluster of real Raft cores (struct rc_raft) over an in-memory
 * network and disk, driven through the caller loop of raft.h, with every fault drawn from one
 * seed. One seed fixes one world: the same seed replays the same run, trace or no trace.
 *
 * Time is an integer clock in units; a node ticks about every RC_SIM_TICK_UNITS units. Node ids
 * run 1..nodes. Every checker of checker.h runs after each step, so a run stops at the step that
 * broke an invariant and rc_sim_violation() says which.
 *
 * Two ways to drive it:
 *   - seed sweeps (rc-sim): rc_sim_run_seed() runs the safety phase with seeded faults, heals
 *     everything, then demands liveness and checks that no acknowledged proposal was lost;
 *   - scripted scenarios (tests, --demo): create a quiet world (faults 0, client off) and call
 *     partition / crash / propose / run_until by hand.
 *
 * An optional key-value workload (config kv_clients) runs beside the entry client: each client
 * issues one operation at a time (GET, PUT or CAS on a few keys) to the node it believes leads,
 * every node applies the committed commands to its own small map, and every operation is
 * recorded with its call and return times as a history that tools/lincheck checks (see
 * rc_sim_kv_history_line()). A write returns ok when its leader applied it in the life it was
 * proposed in; one that was appended but never seen applied stays of unknown outcome. A GET asks
 * its node for a read index (RC_EVENT_READ_INDEX) and returns that node's value once it applied
 * the index; GETs that fail are recorded as failed ("ok":false), which constrains nothing.
 * With config lease_reads, every node's Raft configuration serves leader-lease reads and the
 * GETs ask with RC_READ_LEASE: a leader inside its lease answers at once, else the core falls
 * back to a ReadIndex round. The lease's drift bound comes from the skew model below
 * (rc_sim_lease_drift_ticks()).
 *
 * Each node's disk is a byte image in the write-ahead log's format (wal.h), one in-memory
 * segment: a write that finishes appends its ENTRY records and two SYNC records carrying the hard
 * state, made by the real encoders, and a restart recovers the hard state and log it hands to
 * rc_raft_init() from the image with rc_wal_recover_image(), then checks them against what the
 * finished writes held (disk-recovery). Disk faults: a crash loses the writes not finished
 * (RC_SIM_FAULT_CRASH); with RC_SIM_FAULT_TORN it lands a random prefix of the first of them
 * (recovery keeps it only when its first SYNC record landed whole: it then counts as finished);
 * with RC_SIM_FAULT_BITFLIP it flips one bit of a durable record, and the restart either refuses
 * the corrupt log, leaving the node dead (down for the rest of the world), or, when only the
 * last SYNC copy was hit, loses nothing; with RC_SIM_FAULT_EIO a write fails and the node stops
 * at once (fail-stop), to restart later from what is durable. Flips are drawn only while the
 * nodes dead or holding a flipped image stay a minority, and only in worlds whose nodes use
 * pre-vote (without it, a bare majority left alive can fail to elect under tick skew).
 */
#ifndef REPLICORE_SIM_H
#define REPLICORE_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <replicore/raft.h>

/* Clock units between two ticks of a node without skew. */
#define RC_SIM_TICK_UNITS 10u
/* Base election timeout of a world whose configuration leaves it at 0. */
#define RC_SIM_ELECTION_TICKS_DEFAULT 10u
/*
 * The skew model (RC_SIM_FAULT_SKEW): each node ticks every period, in hundredths of a clock
 * unit, drawn once per world in [MIN, MAX] (RC_SIM_TICK_UNITS within +-25%); without skew the
 * period is RC_SIM_TICK_UNITS exactly. Tick k of a node falls at floor((phase + k * period) /
 * 100) units. Nothing else moves a node's ticks: no pause, no jump, and a crashed node's clock
 * runs on. rc_sim_lease_drift_ticks() bounds leases by exactly this model.
 */
#define RC_SIM_SKEW_PERIOD_CENTI_MIN (RC_SIM_TICK_UNITS * 75u)
#define RC_SIM_SKEW_PERIOD_CENTI_MAX (RC_SIM_TICK_UNITS * 125u)

/* Entries the client proposes in one world at most: logs stay far below RC_LOG_ENTRIES_MAX. */
#define RC_SIM_PROPOSALS_MAX 3000u

/* Key-value clients of one world at most. */
#define RC_SIM_KV_CLIENTS_MAX 8u
/* Key-value operations one world records at most (then its clients stop); with the keys they
 * share, no key comes near tools/lincheck's bound of operations per key. */
#define RC_SIM_KV_OPS_MAX 4096u
/* Nanoseconds of history time per clock unit: a tick (RC_SIM_TICK_UNITS units) reads as 1 ms. */
#define RC_SIM_KV_NS_PER_UNIT 100000u

/* Fault classes a world may draw from (a mask). */
enum rc_sim_fault {
	RC_SIM_FAULT_DROP = 1u << 0,	  /* lost messages */
	RC_SIM_FAULT_DUP = 1u << 1,	  /* duplicated messages */
	RC_SIM_FAULT_REORDER = 1u << 2,	  /* independent delays per message, long tails */
	RC_SIM_FAULT_PARTITION = 1u << 3, /* symmetric splits, isolating the leader */
	RC_SIM_FAULT_ONEWAY = 1u << 4,	  /* links cut in one direction only */
	RC_SIM_FAULT_CRASH = 1u << 5,	  /* crash and restart from disk */
	RC_SIM_FAULT_SKEW = 1u << 6,	  /* tick period per node within +-25% (see above) */
	RC_SIM_FAULT_DISK = 1u << 7,	  /* slow and variable disk latency */
	RC_SIM_FAULT_TORN = 1u << 8,	  /* a crash lands a prefix of the write in progress */
	RC_SIM_FAULT_BITFLIP = 1u << 9,	  /* a crash flips a bit of a durable record */
	RC_SIM_FAULT_EIO = 1u << 10,	  /* a write fails: the node stops, restarts later */
	RC_SIM_FAULT_ALL = (1u << 11) - 1,
};

/* Fault classes, one bit each. */
#define RC_SIM_FAULT_CLASSES 11u

/* Name of one fault class bit ("drop", ...), NULL when f is not a single class. */
const char *rc_sim_fault_name(uint32_t f);

/*
 * Parses a comma list of fault names, "all" or "none" into *mask.
 * Returns 0, or -1 when a name is unknown (*mask is then unchanged).
 */
int rc_sim_faults_parse(const char *list, uint32_t *mask);

/* One world. Raft overrides left at their "from the seed" value are drawn from the seed. */
struct rc_sim_config {
	uint64_t seed;
	uint16_t nodes;		    /* 1..RC_NODES_MAX */
	uint32_t faults;	    /* enum rc_sim_fault mask: classes the seed draws from */
	bool client;		    /* propose batches at a seeded rate while running */
	uint64_t safety_ticks;	    /* length of rc_sim_run_seed()'s safety phase, in ticks */
	int8_t pre_vote;	    /* -1: from the seed; 0 off; 1 on */
	int8_t check_quorum;	    /* -1: from the seed; 0 off; 1 on */
	uint32_t msg_entries_max;   /* 0: from the seed, one of 1, 2, 3, 8, 64 */
	uint32_t inflight_msgs_max; /* 0: from the seed, 1..16 */
	uint32_t election_ticks;    /* 0: RC_SIM_ELECTION_TICKS_DEFAULT */
	uint32_t heartbeat_ticks;   /* 0: from the seed, 2 or 3 */
	FILE *trace;		    /* NULL: no trace; else one line per event */
	uint16_t kv_clients;	    /* 0: no key-value workload; else 1..RC_SIM_KV_CLIENTS_MAX */
	/* Planted bug for the linearizability checker: GETs read the local map of any node at
	 * once, without a read index (a lagging follower or a deposed leader answers stale). */
	bool kv_stale_reads;
	/* Leader-lease reads: lease_reads on in every node's Raft configuration (check-quorum
	 * on too, whatever the seed drew: leases need it), and the key-value GETs ask with
	 * RC_READ_LEASE. Refused (create, reset) when check_quorum is 0 or the skew model has
	 * no bound (rc_sim_lease_drift_ticks() is 0). */
	bool lease_reads;
	/* lease_reads: 0 gives the nodes rc_sim_lease_drift_ticks(); else this bound, in
	 * 1..election_ticks - 1 (one below the derived bound is unsafe: for showing it matters). */
	uint32_t lease_drift_ticks;
};

/* Counters of one world. */
struct rc_sim_stats {
	uint64_t steps;	    /* rc_raft_step() calls */
	uint64_t msgs_sent; /* frames put on the network, duplicates included */
	uint64_t msgs_delivered;
	uint64_t msgs_dropped; /* by fault, partition, down receiver or full pool */
	uint64_t pool_full;    /* frames dropped because the packet pool was full */
	uint64_t proposed;     /* entries the leaders accepted */
	uint64_t acknowledged; /* proposals applied by the leader they were given to */
	uint64_t crashes;
	uint64_t elections;    /* leaders seen (one per term at most) */
	uint64_t torn_writes;  /* crashes that landed part of a write */
	uint64_t bit_flips;    /* bits flipped in durable records */
	uint64_t refused;      /* restarts refused on a corrupt log: nodes dead for good */
	uint64_t write_errors; /* writes that failed (EIO), each stopping its node */
};

struct rc_sim;

/* Fills *c for a world of nodes from seed: all faults, client on, overrides from the seed. */
void rc_sim_config_default(struct rc_sim_config *c, uint64_t seed, uint16_t nodes);

/*
 * The smallest lease_drift_ticks that makes a leader lease safe against the tick skew worlds of
 * *c can produce (its faults and election_ticks; the derivation is at the definition): over a
 * lease, no voter's ticks run further ahead of the leader's. Returns 0 when no bound below
 * election_ticks exists (lease reads are then refused).
 */
uint32_t rc_sim_lease_drift_ticks(const struct rc_sim_config *c);

/* Allocates a world (about 4 MB per node and a disk image of up to 16 MB per node, pages
 * taken as written; 18 MB of packet pool) and starts it from *c.
 * Returns NULL when memory runs out or *c is out of bounds. */
struct rc_sim *rc_sim_create(const struct rc_sim_config *c);

/* Starts a fresh world from *c in the memory of s (the way seed sweeps reuse it).
 * Returns 0, or -1 when *c is out of bounds (s is then unusable until a good reset). */
int rc_sim_reset(struct rc_sim *s, const struct rc_sim_config *c);

void rc_sim_destroy(struct rc_sim *s);

/* Sends the trace to f from now on (NULL: off). Tracing never changes what happens. */
void rc_sim_set_trace(struct rc_sim *s, FILE *f);

/*
 * The whole seed-sweep run: safety phase of c->safety_ticks ticks with seeded faults and client,
 * heal, liveness phase, final checks. Returns true when no checker found a violation.
 */
bool rc_sim_run_seed(struct rc_sim *s);

/* ---- Scripted control ---------------------------------------------------------------------- */

/* Runs the world for units clock units. Returns false once a violation is found (it stops). */
bool rc_sim_run_for(struct rc_sim *s, uint64_t units);

typedef bool (*rc_sim_pred_fn)(struct rc_sim *s, void *ctx);

/* Runs until pred(s, ctx) holds (checked after each event), timeout_units pass, or a violation.
 * Returns true when the predicate held. */
bool rc_sim_run_until(struct rc_sim *s, rc_sim_pred_fn pred, void *ctx, uint64_t timeout_units);

/* Runs until some node is a leader known to a majority of up nodes, for at most timeout_units
 * (returns at once when one already is: after a campaign, run the world a little first).
 * Returns the leader's id, 0 on timeout or violation. */
uint16_t rc_sim_wait_leader(struct rc_sim *s, uint64_t timeout_units);

/* True when every node of id_mask (bit id set) is up and has applied index in this life. */
bool rc_sim_all_applied(const struct rc_sim *s, uint64_t index, uint32_t id_mask);

/* Runs until every node of id_mask (bit id set) has applied index. Returns true when done. */
bool rc_sim_wait_applied(struct rc_sim *s, uint64_t index, uint32_t id_mask,
			 uint64_t timeout_units);

/* Cuts the network in two: nodes whose bit (1 << id) is in group_mask, and the others. */
void rc_sim_partition(struct rc_sim *s, uint32_t group_mask);
/* Cuts node id off from every other node, both ways. */
void rc_sim_isolate(struct rc_sim *s, uint16_t id);
/* Drops every message from node from to node to; the other direction keeps working. */
void rc_sim_cut(struct rc_sim *s, uint16_t from, uint16_t to);
/* Removes every partition and cut (crashed nodes stay down). */
void rc_sim_heal(struct rc_sim *s);

/* Crashes node id: it loses volatile state, unsynced writes and the messages waiting on them. */
void rc_sim_crash(struct rc_sim *s, uint16_t id);
/*
 * Restarts node id from its disk image with rc_raft_init(). A corrupt image after a bit flip is
 * refused: the node stays down for good (rc_sim_is_dead()). Returns false on a violation (a
 * corrupt image without a flip, a recovered state that differs from what was written, ...).
 */
bool rc_sim_restart(struct rc_sim *s, uint16_t id);

/*
 * Crashes node id (up) while the first of its pending writes is in progress: landed bytes of
 * it (fewer than its size) reach the disk image, the rest of it and the later writes are lost.
 * Without a pending write this is rc_sim_crash().
 */
void rc_sim_crash_torn(struct rc_sim *s, uint16_t id, uint64_t landed);
/* Flips bit (0..7) of byte (below the durable bytes) of the disk image of node id (down). */
void rc_sim_disk_flip(struct rc_sim *s, uint16_t id, uint64_t byte, uint8_t bit);
/* The next write of node id to finish fails with EIO: the node stops (restart it by hand). */
void rc_sim_disk_fail_next(struct rc_sim *s, uint16_t id);

/*
 * Proposes count (1..RC_PROPOSE_ENTRIES_MAX) fresh entries to the current leader (see
 * rc_sim_leader()). Returns the number the leader accepted, 0 without a leader; *first_index
 * (may be NULL) gets the index of the first accepted entry.
 */
uint32_t rc_sim_propose(struct rc_sim *s, uint32_t count, uint64_t *first_index);

/* Steps RC_EVENT_CAMPAIGN on node id (up). Returns false on a violation. */
bool rc_sim_campaign(struct rc_sim *s, uint16_t id);

/* ---- Queries ------------------------------------------------------------------------------- */

uint64_t rc_sim_now(const struct rc_sim *s);
uint16_t rc_sim_node_count(const struct rc_sim *s);
/* The up leader with the highest term, 0 when no up node is leader. */
uint16_t rc_sim_leader(const struct rc_sim *s);
/* Node id's core, for reading its public fields. */
const struct rc_raft *rc_sim_node(const struct rc_sim *s, uint16_t id);
bool rc_sim_is_up(const struct rc_sim *s, uint16_t id);
/* Highest index node id's state machine applied in its current life (a restart starts it at the
 * core's applied index after rc_raft_init()). */
uint64_t rc_sim_applied_index(const struct rc_sim *s, uint16_t id);
/* Entries node id's state machine applied in its current life. */
uint64_t rc_sim_applied_count(const struct rc_sim *s, uint16_t id);
/* Last index on node id's disk. */
uint64_t rc_sim_disk_last_index(const struct rc_sim *s, uint16_t id);
/* Node id's disk image: its durable bytes (*bytes of them) in the write-ahead log's format. */
const uint8_t *rc_sim_disk_image(const struct rc_sim *s, uint16_t id, uint64_t *bytes);
/* True when node id refused its corrupt disk: it stays down for the rest of the world. */
bool rc_sim_is_dead(const struct rc_sim *s, uint16_t id);
/* True when nodes a and b hold the same entries 1..max(last_index). */
bool rc_sim_logs_equal(const struct rc_sim *s, uint16_t a, uint16_t b);
/* The first violation's one-line description ("election-safety: ..."), NULL when none. */
const char *rc_sim_violation(const struct rc_sim *s);
/* Copies the world's counters into *out. */
void rc_sim_stats(const struct rc_sim *s, struct rc_sim_stats *out);

/* ---- Key-value history --------------------------------------------------------------------- */

/* What the key-value clients did in one world, as its history shows it. */
struct rc_sim_kv_stats {
	uint64_t lines; /* operations in the history (the lines rc_sim_kv_history_line writes) */
	uint64_t writes_ok;  /* put and cas that returned ok (a cas that swapped) */
	uint64_t cas_failed; /* cas that returned having compared unequal */
	uint64_t unknown;    /* writes appended but never seen applied: "ok":null */
	uint64_t reads_ok;   /* gets that returned a value (or the key's absence) */
	uint64_t failed;     /* puts and gets that certainly had no effect: "ok":false */
	uint64_t left_out;   /* operations with no effect and no return left out of the history */
	/* Of reads_ok, those whose read index came in the very step that asked for it: with 2
	 * voters or more, the reads a leader answered inside its lease, without a round. */
	uint64_t reads_at_once;
};

/* Operations recorded so far (lines and left-out ones): indexes 0..count-1. */
uint32_t rc_sim_kv_op_count(const struct rc_sim *s);

/*
 * Formats operation i (< rc_sim_kv_op_count()) as one line of tools/lincheck's history format,
 * without a newline, into buf of size bytes. An operation still in progress counts as given up
 * now: a write that was appended is of unknown outcome, one never appended and a get in
 * progress are left out. Returns the length of the line (truncated when >= size, as snprintf),
 * or 0 when operation i is left out of the history (a cas refused before it was appended: its
 * "ok":false would mean that it compared unequal).
 */
int rc_sim_kv_history_line(const struct rc_sim *s, uint32_t i, char *buf, size_t size);

/* Writes every line of the history to f, in call order. Returns 0, or -EIO when a write fails. */
int rc_sim_kv_write_history(const struct rc_sim *s, FILE *f);

/* Counts the operations of the history by outcome into *out. */
void rc_sim_kv_stats(const struct rc_sim *s, struct rc_sim_kv_stats *out);
/* The Raft configuration the world gave node id (pre_vote, msg_entries_max, ...). */
const struct rc_raft_config *rc_sim_raft_config(const struct rc_sim *s, uint16_t id);

#endif
