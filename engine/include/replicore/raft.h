/*
 * The pure Raft core: one state machine per node, driven by rc_raft_step().
 *
 * The core performs no I/O, reads no clock, takes no lock and allocates nothing after
 * rc_raft_init(). Time is ticks, randomness comes from a PRNG seeded in the configuration, so the
 * same events produce the same updates on every run: the simulator and the runtime drive the
 * very same code. Payload bytes never pass through the core; it sees entry descriptors (term,
 * byte count and an opaque reference the runtime resolves).
 *
 * The caller's loop, in order:
 *   1. rc_raft_step() with each event (a tick, a received message, proposals, a finished write)
 *      into one update, as long as rc_raft_update_has_room() says another step fits;
 *   2. write the hard state and the entry range the update names to stable storage (the disk log
 *      is first cut back to persist_first - 1), or hand the write to a storage thread;
 *   3. send update.msgs now (the leader sends appends while its own write is in flight);
 *   4. once every write requested so far is durable, send update.msgs_after_persist (votes and
 *      append acks must never leave before the state they promise) and step RC_EVENT_PERSISTED;
 *   5. apply entries apply_first..apply_last to the state machine, then step RC_EVENT_APPLIED;
 *      answer each read of update.reads[] (RC_UPDATE_READS): a failed one at once, an RC_READ_OK
 *      one once the state machine has applied up to its index;
 *   6. rc_raft_update_reset() and start again.
 *
 * Rules follow the Raft paper (Ongaro & Ousterhout, 2014) and thesis: pre-vote (thesis §9.6),
 * check-quorum (§6.2), commit of current-term entries only (paper §5.4.2), a no-op entry at the
 * start of each term (§8), fast backtracking with a conflict (term, index) hint (§5.3), and
 * linearizable reads without a log entry: ReadIndex and, as an option, leader leases (§6.4).
 *
 * Linearizable reads (RC_EVENT_READ_INDEX). A read asks the leader for a read index: an index
 * such that a state machine that has applied it answers the read as of some moment between the
 * request and the answer.
 *   - ReadIndex (thesis §6.4): the leader waits until it has committed an entry of its own term
 *     (its no-op: before that its commit index may lag what earlier leaders committed), takes its
 *     commit index, then proves it is still the leader: it starts a read round, a heartbeat to
 *     every peer carrying a new round sequence (rc_raft_msg.read_seq), and the reads become ready
 *     once a majority, itself included, echoed that sequence or a later one. Reads that arrive
 *     while a round's heartbeats are still in the update (not yet sent) join that round; reads
 *     that arrive once it is on the wire wait for the next one, started when the round in flight
 *     is confirmed or with the next periodic heartbeat, whichever comes first (so a lost round
 *     is retried every heartbeat_ticks). A single-voter cluster confirms a round at once.
 *   - Lease reads (thesis §6.4.1; config lease_reads, per read RC_READ_LEASE): the leader skips
 *     the round while a majority acknowledged a heartbeat it sent less than
 *     election_ticks - lease_drift_ticks ticks ago, and answers at its commit index at once.
 *     Safety rests on two assumptions. (1) Check-quorum's lease on votes: a voter that heard
 *     from a leader ignores (pre-)vote requests for election_ticks of its own ticks, so no other
 *     leader can be elected while a majority's leases run; a voter just started honours a lease
 *     it may have granted before it went down in the same way, for its first election_ticks
 *     ticks. (2) Bounded clocks: over one lease, a voter's ticks run at most lease_drift_ticks
 *     ahead of the leader's, tick phase included (so lease_drift_ticks >= 1). A leader whose
 *     clock stalls (a paused process, a VM migration) longer than that breaks (2): when in
 *     doubt, use ReadIndex. Leadership transfer, when it comes, must not cut a lease short.
 *     Outside its lease the leader falls back to a ReadIndex round.
 *   - Failures are reported, never dropped silently: RC_READ_NOT_LEADER on a non-leader,
 *     RC_READ_BUSY when RC_READS_PENDING_MAX reads already wait, RC_READ_DROPPED for every
 *     pending read of a leader that steps down (retry at the new leader).
 *
 * Snapshots (paper §7). The core keeps no state machine and moves no snapshot bytes: it decides
 * who needs a snapshot, and installs the result the runtime hands it.
 *   - Leader: a follower whose next entry is compacted (below the leader's snap_index, its
 *     compaction point, field rc_raft.snap_index) is RC_PROGRESS_STALLED: it gets heartbeats but
 *     no appends, and does not hold flow control back. The update asks for its snapshot
 *     (RC_UPDATE_SNAPSHOT, snapshot_peers) when it stalls and again at every periodic heartbeat
 *     while it stays stalled, so a transfer that died is restarted; a request for a peer whose
 *     transfer is still running is a repeat, not a new one. The caller sends that peer the
 *     state machine's snapshot taken at some applied index S >= the leader's snap_index (a
 *     snapshot at S < snap_index leaves the peer stalled), with term rc_raft_term_at(r, S)
 *     (read while S >= snap_index), the leader's term and id. The follower installs it and
 *     answers an accepted APPEND_RESP of index S; the leader then replicates from S + 1 (an
 *     answer of index < snap_index, the leader having compacted further meanwhile, keeps the
 *     peer stalled and asks again).
 *   - Follower: once all bytes arrived, the caller asks rc_raft_snapshot_wanted(); when true it
 *     restores the state machine to S (dropping entries reported for apply and not yet applied:
 *     they are all in the snapshot), makes the snapshot durable and steps RC_EVENT_SNAPSHOT,
 *     with no other step between the question and the event (one could commit past S). The
 *     update then reports RC_UPDATE_SNAPSHOT_INSTALLED: the caller makes the snapshot the base
 *     of its disk log (dropping entries <= S, all of them unless snapshot_tail_kept) before it
 *     writes the update's entry range, and sends the ack in msgs_after_persist as usual.
 */
#ifndef REPLICORE_RAFT_H
#define REPLICORE_RAFT_H

#include <stdbool.h>
#include <stdint.h>

#include <replicore/limits.h>
#include <replicore/prng.h>

/* ---- Entries ------------------------------------------------------------------------------- */

enum rc_entry_type {
	RC_ENTRY_NORMAL = 0, /* application payload */
	RC_ENTRY_NOOP = 1,   /* appended by a new leader to commit its predecessors' entries */
	RC_ENTRY_TYPE_COUNT
};

/* The descriptor the core keeps per log entry; the payload lives with the runtime. */
struct rc_raft_entry {
	uint64_t term;
	uint64_t ref;	/* opaque to the core: where the runtime keeps the payload */
	uint32_t bytes; /* payload size; Invariant: bytes <= RC_ENTRY_BYTES_MAX */
	uint16_t type;	/* enum rc_entry_type */
	uint16_t reserved;
};

/* ---- Messages ------------------------------------------------------------------------------ */

enum rc_msg_type {
	RC_MSG_NONE = 0,
	RC_MSG_VOTE = 1, /* RequestVote */
	RC_MSG_VOTE_RESP = 2,
	RC_MSG_PREVOTE = 3, /* RequestVote of the pre-vote phase: changes no state */
	RC_MSG_PREVOTE_RESP = 4,
	RC_MSG_APPEND = 5, /* AppendEntries carrying entries (or none, to probe) */
	RC_MSG_APPEND_RESP = 6,
	RC_MSG_HEARTBEAT = 7, /* leader liveness and commit index, no log check */
	RC_MSG_HEARTBEAT_RESP = 8,
	RC_MSG_TYPE_COUNT
};

/*
 * One Raft message. Field use per type:
 *   VOTE, PREVOTE:        index = candidate's last log index, log_term = its term.
 *                         For PREVOTE, term is the term the candidate would campaign in.
 *   VOTE_RESP, PREVOTE_RESP: reject = vote refused.
 *   APPEND:               index = prev log index, log_term = prev log term, commit = leader's
 *                         commit, entries[0..entry_count) are indexes index+1, index+2, ...
 *   APPEND_RESP:          accepted: index = highest index known to match the leader's log.
 *                         rejected: index = the prev index refused, hint_index/log_term = the
 *                         follower's last index whose term is <= the refused prev term, and that
 *                         term (fast backtracking).
 *   HEARTBEAT:            commit = min(leader commit, follower's match); read_seq = the read
 *                         round this heartbeat belongs to, 0 for none (see the top of this file).
 *   HEARTBEAT_RESP:       read_seq = the read_seq of the heartbeat answered (0: none).
 * In an update, an APPEND's entries point into the core's log ring. They stay valid until the
 * update is reset: the core reuses a ring slot only after compacting the entry it held, and it
 * compacts only entries older than any it still sends.
 */
struct rc_raft_msg {
	uint8_t type;	/* enum rc_msg_type */
	uint8_t reject; /* 0 or 1 */
	uint16_t from;
	uint16_t to;
	uint16_t reserved;
	uint32_t entry_count; /* Invariant: entry_count <= RC_MSG_ENTRIES_MAX */
	uint64_t term;
	uint64_t index;
	uint64_t log_term;
	uint64_t commit;
	uint64_t hint_index;
	uint64_t read_seq; /* HEARTBEAT, HEARTBEAT_RESP only */
	const struct rc_raft_entry *entries;
};

/* ---- Durable state ------------------------------------------------------------------------- */

/* What must be on stable storage before any message that depends on it leaves the node. */
struct rc_raft_hard_state {
	uint64_t term;
	uint64_t commit; /* a hint for restart; safety does not depend on it */
	uint16_t vote;	 /* 0: no vote in term */
	uint16_t reserved[3];
};

/* ---- Configuration ------------------------------------------------------------------------- */

struct rc_raft_config {
	uint16_t id;		       /* this node, one of voters[] */
	uint16_t voter_count;	       /* 1..RC_NODES_MAX */
	uint16_t voters[RC_NODES_MAX]; /* distinct ids in 1..RC_NODE_ID_MAX */
	uint32_t election_ticks;       /* base election timeout; randomized in [base, 2*base) */
	uint32_t heartbeat_ticks;      /* Invariant: 0 < heartbeat_ticks < election_ticks */
	bool pre_vote;		       /* run a pre-vote round before raising the term */
	bool check_quorum;	       /* leader steps down without a live quorum; lease on votes */
	uint32_t msg_entries_max;      /* entries per AppendEntries, 1..RC_MSG_ENTRIES_MAX */
	/* Entry bytes per AppendEntries, each entry counted as bytes + RC_WIRE_ENTRY_HEADER_BYTES;
	 * one entry is always allowed, whatever its size. */
	uint32_t msg_bytes_max;
	uint32_t inflight_msgs_max;  /* per-follower window, 1..RC_INFLIGHT_MSGS_MAX */
	uint32_t inflight_bytes_max; /* per-follower window in bytes, <= RC_INFLIGHT_BYTES_MAX */
	uint64_t seed;		     /* PRNG seed for election timeouts */
	/* Serve RC_READ_LEASE reads from the leader lease (see the top of this file); needs
	 * check_quorum. Off by default. */
	bool lease_reads;
	/* How far a voter's ticks may run ahead of the leader's over one lease, tick phase
	 * included. Invariant (lease_reads): 1 <= lease_drift_ticks < election_ticks. */
	uint32_t lease_drift_ticks;
};

/* Fills a configuration with sound defaults for node id among voters[0..voter_count). */
void rc_raft_config_default(struct rc_raft_config *cfg, uint16_t id, const uint16_t *voters,
			    uint16_t voter_count);

/* ---- Events -------------------------------------------------------------------------------- */

enum rc_event_type {
	RC_EVENT_TICK = 1,	 /* one unit of logical time passed */
	RC_EVENT_RECEIVE = 2,	 /* a decoded message for this node */
	RC_EVENT_PROPOSE = 3,	 /* application entries to append (leader only) */
	RC_EVENT_PERSISTED = 4,	 /* every write requested so far is durable */
	RC_EVENT_APPLIED = 5,	 /* the state machine applied entries up to an index */
	RC_EVENT_CAMPAIGN = 6,	 /* start an election now, skipping pre-vote (tests, operators) */
	RC_EVENT_READ_INDEX = 7, /* a linearizable read asks for its read index */
	RC_EVENT_SNAPSHOT = 8,	 /* the state machine was restored from a leader's snapshot */
};

/* Flags of RC_EVENT_READ_INDEX. */
enum rc_read_flags {
	/* Serve from the leader lease when config lease_reads is on and the lease holds; else
	 * (or without this flag) a ReadIndex round. */
	RC_READ_LEASE = 1u << 0,
};

struct rc_raft_event {
	uint8_t type; /* enum rc_event_type */
	union {
		struct rc_raft_msg msg; /* RECEIVE */
		struct {
			const struct rc_raft_entry *entries; /* term and type are set by the core */
			uint32_t count; /* Invariant: count <= RC_PROPOSE_ENTRIES_MAX */
		} propose;
		struct {
			uint64_t index; /* last entry index of the finished write, 0 if none */
			uint64_t term;	/* term of that entry */
		} persisted;
		struct {
			uint64_t index; /* Invariant: index <= the last apply_last reported */
		} applied;
		struct {
			uint64_t ctx;	/* the caller's id of the read, given back in the update */
			uint32_t flags; /* enum rc_read_flags */
		} read;
		/*
		 * SNAPSHOT: stepped once the state machine holds every entry up to index and the
		 * snapshot is durable, only when rc_raft_snapshot_wanted() said so just before (see
		 * the top of this file). Invariants: index == 0 || 1 <= term <= leader_term; leader
		 * is a voter other than this node.
		 */
		struct {
			uint64_t index;	      /* the snapshot's last included entry ... */
			uint64_t term;	      /* ... and its term */
			uint64_t leader_term; /* term of the leader that sent it */
			uint16_t leader;      /* id of that leader */
		} snapshot;
	};
};

/* ---- Updates ------------------------------------------------------------------------------- */

enum rc_update_flags {
	RC_UPDATE_HARD_STATE = 1u << 0, /* persist hard_state */
	RC_UPDATE_ENTRIES = 1u << 1,	/* persist entries persist_first..persist_last */
	RC_UPDATE_MSGS = 1u << 2,	/* msgs[] to send now */
	RC_UPDATE_MSGS_AFTER_PERSIST = 1u << 3,
	RC_UPDATE_APPLY = 1u << 4,    /* entries apply_first..apply_last are committed */
	RC_UPDATE_ROLE = 1u << 5,     /* role, term or leader changed */
	RC_UPDATE_PROPOSED = 1u << 6, /* a PROPOSE was handled; see propose_* */
	RC_UPDATE_READS = 1u << 7,    /* reads[] holds answers to READ_INDEX events */
	RC_UPDATE_SNAPSHOT = 1u << 8, /* send a snapshot to the voters in snapshot_peers */
	/* A SNAPSHOT event replaced the log's start: see snapshot_index, _term, _tail_kept. */
	RC_UPDATE_SNAPSHOT_INSTALLED = 1u << 9,
};

/* The outcome of a read, in the update. */
enum rc_read_status {
	RC_READ_OK = 0,		/* serve once the state machine applied up to index */
	RC_READ_NOT_LEADER = 1, /* this node is not the leader: ask the leader */
	RC_READ_DROPPED = 2,	/* the leader stepped down before confirming it: retry */
	RC_READ_BUSY = 3,	/* RC_READS_PENDING_MAX reads were pending: retry later */
};

/* One answered read. */
struct rc_raft_read {
	uint64_t ctx;	/* as given in the READ_INDEX event */
	uint64_t index; /* RC_READ_OK: the read index; 0 otherwise */
	uint8_t status; /* enum rc_read_status */
	uint8_t reserved[7];
};

enum rc_role {
	RC_ROLE_FOLLOWER = 0,
	RC_ROLE_PRE_CANDIDATE = 1,
	RC_ROLE_CANDIDATE = 2,
	RC_ROLE_LEADER = 3,
};

/* What the caller must do after one or more steps; see the loop at the top of this file. */
struct rc_raft_update {
	uint32_t flags; /* enum rc_update_flags */
	struct rc_raft_hard_state hard_state;
	/* Invariant (ENTRIES): persist_first <= persist_last; the write replaces everything from
	 * persist_first on. Entries are read with rc_raft_entry_at() before the next step. */
	uint64_t persist_first;
	uint64_t persist_last;
	uint64_t apply_first; /* Invariant (APPLY): apply_first <= apply_last <= commit */
	uint64_t apply_last;
	uint32_t propose_accepted; /* entries of the PROPOSE appended; the rest were refused */
	uint64_t propose_first;	   /* index given to the first accepted entry */
	uint64_t propose_term;
	uint8_t role;	 /* enum rc_role, current when ROLE is set */
	uint16_t leader; /* 0 when unknown */
	uint64_t term;
	uint32_t msg_count;
	uint32_t msg_after_persist_count;
	uint32_t read_count; /* Invariant: read_count <= RC_UPDATE_READS_MAX */
	/* The core's own note: the read round whose heartbeats msgs[] holds (not yet sent, so a
	 * read may still join it); 0 after rc_raft_update_reset(). */
	uint64_t read_round_seq;
	/* SNAPSHOT: bit i asks for a snapshot to voter cfg.voters[i], a follower the leader
	 * cannot send appends to (RC_PROGRESS_STALLED). */
	uint32_t snapshot_peers;
	/*
	 * SNAPSHOT_INSTALLED: the log now starts after the snapshot (snapshot_index,
	 * snapshot_term), which the state machine holds; nothing up to snapshot_index is reported
	 * for apply. snapshot_tail_kept: the entries after it were kept (the log held the
	 * snapshot's last entry); false: the log was emptied and the caller drops every stored
	 * entry. Several installs in one update: the last one, kept only if all kept theirs.
	 */
	uint64_t snapshot_index;
	uint64_t snapshot_term;
	bool snapshot_tail_kept;
	struct rc_raft_msg msgs[RC_UPDATE_MSGS_MAX];
	struct rc_raft_msg msgs_after_persist[RC_UPDATE_MSGS_AFTER_PERSIST_MAX];
	struct rc_raft_read reads[RC_UPDATE_READS_MAX]; /* in the order they were decided */
};

/* Empties an update for the next round of steps. */
void rc_raft_update_reset(struct rc_raft_update *u);

/* True while one more step is sure to fit in the update. */
bool rc_raft_update_has_room(const struct rc_raft_update *u);

/* ---- Progress of one follower, as the leader tracks it ------------------------------------ */

enum rc_progress_state {
	RC_PROGRESS_PROBE = 0,	   /* one append at a time until the match point is found */
	RC_PROGRESS_REPLICATE = 1, /* optimistic pipelining within the in-flight window */
	RC_PROGRESS_STALLED = 2,   /* needs entries the leader compacted: waits for a snapshot */
};

/* Ring of in-flight appends, oldest first: last index and payload bytes of each. */
struct rc_inflights {
	uint32_t start;
	uint32_t count;	    /* Invariant: count <= cap */
	uint32_t cap;	    /* messages allowed in flight */
	uint64_t bytes;	    /* payload bytes in flight */
	uint64_t bytes_cap; /* bytes allowed in flight */
	uint64_t last_index[RC_INFLIGHT_MSGS_MAX];
	uint32_t msg_bytes[RC_INFLIGHT_MSGS_MAX];
};

struct rc_progress {
	uint64_t match; /* Invariant: match < next */
	uint64_t next;
	uint8_t state;	       /* enum rc_progress_state */
	bool probe_sent;       /* PROBE: an append is out, wait for its answer or a heartbeat ack */
	bool recent_active;    /* heard from since the last check-quorum round */
	uint32_t silent_ticks; /* leader ticks since it last heard from this follower */
	uint64_t read_seq_acked; /* highest read round it echoed this term; <= rc_raft.read_seq */
	struct rc_inflights inflights;
};

/* Adds a message of msg_bytes ending at last_index to the window; the window must not be full. */
void rc_inflights_add(struct rc_inflights *in, uint64_t last_index, uint32_t msg_bytes);
/* Frees every message whose last index is <= index. */
void rc_inflights_free_to(struct rc_inflights *in, uint64_t index);
/* True when no further message may be sent. */
bool rc_inflights_full(const struct rc_inflights *in);
void rc_inflights_reset(struct rc_inflights *in, uint32_t cap, uint64_t bytes_cap);

/*
 * The index a majority of voters has reached: the median-type order statistic of matches[]
 * (the (count/2+1)-th largest). count must be at least 1.
 */
uint64_t rc_quorum_index(const uint64_t *matches, uint32_t count);
/* Votes: granted and rejected out of voter_count. Returns 1 won, -1 lost, 0 pending. */
int rc_quorum_vote_result(uint32_t granted, uint32_t rejected, uint32_t voter_count);

/* ---- The node ------------------------------------------------------------------------------ */

/* A read the leader holds: waiting for a commit in its term (index 0), for a round (seq 0), or
 * for its round to be confirmed. */
struct rc_raft_read_pending {
	uint64_t ctx;
	uint64_t index; /* read index; 0 until the leader committed in its term */
	uint64_t seq;	/* read round; 0 until one was started for it */
};

/* All state of one Raft node. Fields are read through the accessors below; never written. */
struct rc_raft {
	struct rc_raft_config cfg;
	struct rc_prng prng;
	uint64_t term;
	uint16_t vote;
	uint16_t leader;
	uint8_t role; /* enum rc_role */
	uint16_t self_slot;
	/* The log ring: indexes first_index..last_index live at ring[index & mask]. Entries below
	 * first_index are compacted; snap_index/snap_term describe the entry just before. */
	uint64_t snap_index;
	uint64_t snap_term;
	uint64_t last_index;
	uint64_t commit;     /* Invariant: commit <= last_index */
	uint64_t persisted;  /* last index durable on this node; Invariant: <= last_index */
	uint64_t apply_next; /* next index to report for applying */
	uint64_t applied;    /* Invariant: applied < apply_next */
	uint32_t election_elapsed;
	uint32_t heartbeat_elapsed;
	uint32_t election_timeout; /* randomized, in [election_ticks, 2*election_ticks) */
	uint32_t votes_granted;	   /* bit per voter slot */
	uint32_t votes_rejected;
	/* What the last update reported, to flag changes in the next one. */
	uint64_t reported_term;
	uint16_t reported_vote;
	uint16_t reported_leader;
	uint8_t reported_role;
	struct rc_progress progress[RC_NODES_MAX];
	/* Linearizable reads (read.c). ticks is the node's clock: ticks stepped since init. */
	uint64_t ticks;
	uint64_t read_seq; /* last read round started; never goes back */
	/* Highest round a majority echoed this term (read_seq when the term began: no round in
	 * flight). Invariant: read_seq_confirmed <= read_seq. */
	uint64_t read_seq_confirmed;
	/* Pending reads, a FIFO ring from read_head. Invariant: read_count <=
	 * RC_READS_PENDING_MAX, only a leader holds any, and the reads with a round come first,
	 * their seqs in order. */
	uint32_t read_head;
	uint32_t read_count;
	struct rc_raft_read_pending reads[RC_READS_PENDING_MAX];
	/* ticks when round seq was started, at [seq % RC_READ_ROUNDS_TRACKED]: the lease clock */
	uint64_t read_round_tick[RC_READ_ROUNDS_TRACKED];
	struct rc_raft_entry ring[RC_LOG_ENTRIES_MAX];
};

/*
 * Initialises a node from its configuration and what stable storage holds: the hard state and
 * entries first_index..first_index+count-1 (first_index is 1 on a log never compacted). Pass
 * NULL / 0 for a new node. Returns 0, or -EINVAL when the configuration is out of bounds or the
 * stored state is inconsistent (nothing is changed then). A stored commit beyond the stored log
 * is lowered to its end (commit is a hint). Starts as a follower.
 */
int rc_raft_init(struct rc_raft *r, const struct rc_raft_config *cfg,
		 const struct rc_raft_hard_state *hs, const struct rc_raft_entry *entries,
		 uint64_t first_index, uint64_t count);

/*
 * Initialises a node whose log was compacted up to snap_index (the entry there had snap_term):
 * entries[0..count) are indexes snap_index+1 ... The state machine must already hold every
 * entry up to snap_index: the node starts with it applied. snap_index 0 (snap_term 0) is a log
 * never compacted. Returns 0 or -EINVAL, like rc_raft_init().
 */
int rc_raft_init_at(struct rc_raft *r, const struct rc_raft_config *cfg,
		    const struct rc_raft_hard_state *hs, uint64_t snap_index, uint64_t snap_term,
		    const struct rc_raft_entry *entries, uint64_t count);

/*
 * Feeds one event to the node and adds what the caller must do to *u. Never fails: malformed
 * input is stopped by the wire codec; a message for another node or cluster member unknown to
 * this node is ignored. The caller must have checked rc_raft_update_has_room(u).
 */
void rc_raft_step(struct rc_raft *r, const struct rc_raft_event *ev, struct rc_raft_update *u);

/*
 * True when a snapshot ending at index, sent by the leader of leader_term, would be installed by
 * RC_EVENT_SNAPSHOT now: leader_term >= our term and index > our commit (the state machine never
 * goes back); always false on the leader of leader_term itself (no other leader has its term).
 * The caller asks right before restoring the state machine, and restores only on true.
 */
bool rc_raft_snapshot_wanted(const struct rc_raft *r, uint64_t index, uint64_t leader_term);

/* The descriptor of the entry at index, or NULL when index is compacted or beyond the log. */
const struct rc_raft_entry *rc_raft_entry_at(const struct rc_raft *r, uint64_t index);

/* Term of the entry at index (snap_term for snap_index, 0 for index 0); index must be known. */
uint64_t rc_raft_term_at(const struct rc_raft *r, uint64_t index);

/* Names for traces and errors. */
const char *rc_raft_role_name(uint8_t role);
const char *rc_raft_msg_name(uint8_t type);

#endif
