/* Every bound of replicore in one place, with the static assertions that relate them. */
#ifndef REPLICORE_LIMITS_H
#define REPLICORE_LIMITS_H

/* Voters in one cluster. Node ids run from 1 to RC_NODE_ID_MAX; 0 means "none". */
#define RC_NODES_MAX 7
#define RC_NODE_ID_MAX 0xfffe

/* Entry descriptors the core's log ring holds (a power of two). */
#define RC_LOG_ENTRIES_MAX (1u << 16)

/* Payload bytes of one entry. */
#define RC_ENTRY_BYTES_MAX 8192u

/* Largest frame any driver sends (jumbo), and the smallest one a cluster may be configured with. */
#define RC_FRAME_BYTES_MAX 9000u
#define RC_FRAME_BYTES_MIN 256u

/* Wire bytes of one entry's header inside an AppendEntries (term, length, type). */
#define RC_WIRE_ENTRY_HEADER_BYTES 16u

/* Entries one AppendEntries message carries. */
#define RC_MSG_ENTRIES_MAX 256u

/* Per-follower in-flight window: AppendEntries messages and payload bytes outstanding. */
#define RC_INFLIGHT_MSGS_MAX 64u
#define RC_INFLIGHT_BYTES_MAX (16u << 20)

/* Entries one PROPOSE event may carry. */
#define RC_PROPOSE_ENTRIES_MAX 1024u

/* Election timeout bounds, in ticks; the heartbeat interval must be shorter than the timeout. */
#define RC_ELECTION_TICKS_MIN 3u
#define RC_ELECTION_TICKS_MAX 10000u

/*
 * Messages one update holds. Per peer, one step sends at most a full window of appends plus one
 * heartbeat (plain or a read round's: at most one a step) and one election or response message;
 * the rest of the slack covers batching of several steps into one update (see
 * rc_raft_update_has_room()).
 */
#define RC_UPDATE_MSGS_PER_STEP_MAX ((RC_NODES_MAX - 1) * (RC_INFLIGHT_MSGS_MAX + 2))
#define RC_UPDATE_MSGS_MAX (2 * RC_UPDATE_MSGS_PER_STEP_MAX)
/* Messages held until the update's writes are durable: votes and acks, one per peer a step. */
#define RC_UPDATE_MSGS_AFTER_PERSIST_MAX (8 * RC_NODES_MAX)

/* Linearizable reads a leader holds at once (waiting for a commit in its term or a quorum
 * round); one more is refused as busy. A power of two: the queue is a ring. */
#define RC_READS_PENDING_MAX 256u
/* Read answers one update holds. One step answers at most every pending read plus the one it
 * was given; the slack covers batching of several steps, as for messages. */
#define RC_UPDATE_READS_PER_STEP_MAX (RC_READS_PENDING_MAX + 1u)
#define RC_UPDATE_READS_MAX (2u * RC_UPDATE_READS_PER_STEP_MAX)
/* Read rounds whose start tick the leader remembers for its lease (a power of two); a majority
 * echo of an older round gives no lease. */
#define RC_READ_ROUNDS_TRACKED 64u

_Static_assert((RC_LOG_ENTRIES_MAX & (RC_LOG_ENTRIES_MAX - 1)) == 0, "log ring is a power of two");
_Static_assert(RC_NODES_MAX >= 1 && RC_NODES_MAX <= 15, "quorum maths uses small sorts");
_Static_assert(RC_MSG_ENTRIES_MAX * 2 <= RC_LOG_ENTRIES_MAX, "a message is a small part of a log");
_Static_assert(RC_INFLIGHT_MSGS_MAX * RC_MSG_ENTRIES_MAX <= RC_LOG_ENTRIES_MAX,
	       "a full window fits in the log");
_Static_assert(RC_PROPOSE_ENTRIES_MAX <= RC_LOG_ENTRIES_MAX / 4, "a proposal batch fits the log");
_Static_assert(RC_ENTRY_BYTES_MAX <= RC_INFLIGHT_BYTES_MAX, "one entry fits the byte window");
_Static_assert(RC_FRAME_BYTES_MIN < RC_FRAME_BYTES_MAX, "frame bounds are ordered");
_Static_assert(RC_UPDATE_MSGS_AFTER_PERSIST_MAX >= 2 * RC_NODES_MAX, "a step's responses fit");
_Static_assert(RC_READS_PENDING_MAX > 0 &&
		       (RC_READS_PENDING_MAX & (RC_READS_PENDING_MAX - 1)) == 0,
	       "the read queue is a ring");
_Static_assert(RC_UPDATE_READS_PER_STEP_MAX > RC_READS_PENDING_MAX,
	       "one step may answer every pending read and the read it was given");
_Static_assert(RC_UPDATE_READS_MAX >= RC_UPDATE_READS_PER_STEP_MAX,
	       "a step's read answers fit an empty update");
_Static_assert((RC_READ_ROUNDS_TRACKED & (RC_READ_ROUNDS_TRACKED - 1)) == 0 &&
		       RC_READ_ROUNDS_TRACKED >= 2,
	       "the round clock is a ring");

#endif
