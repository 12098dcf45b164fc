/* What the files of the Raft core share and nobody else sees. */
#ifndef REPLICORE_RAFT_INTERNAL_H
#define REPLICORE_RAFT_INTERNAL_H

#include <replicore/assert.h>
#include <replicore/mutation.h>
#include <replicore/raft.h>

#define RAFT_RING_MASK (RC_LOG_ENTRIES_MAX - 1u)

/*
 * An assertion a planted bug is allowed to break: with a mutation on, the simulator's checkers
 * must see the damage rather than the core aborting first.
 */
#ifdef RC_MUTATIONS
#define RAFT_ASSERT_UNMUTATED(expr) RC_ASSERT(rc_mutation_active != RC_MUTATION_NONE || (expr))
#else
#define RAFT_ASSERT_UNMUTATED(expr) RC_ASSERT(expr)
#endif

/* log.c: the ring of entry descriptors. */
uint64_t raft_log_room(const struct rc_raft *r);
bool raft_log_match_term(const struct rc_raft *r, uint64_t index, uint64_t term);
bool raft_log_up_to_date(const struct rc_raft *r, uint64_t last_index, uint64_t last_term);
uint64_t raft_log_conflict_hint(const struct rc_raft *r, uint64_t index, uint64_t term);
void raft_log_append(struct rc_raft *r, const struct rc_raft_entry *e, struct rc_raft_update *u);
void raft_log_truncate(struct rc_raft *r, uint64_t last_kept);
void raft_log_maybe_compact(struct rc_raft *r);
bool raft_log_restart_at(struct rc_raft *r, uint64_t index, uint64_t term);
uint32_t raft_log_contiguous(const struct rc_raft *r, uint64_t from, uint32_t count_max,
			     uint32_t bytes_max, uint64_t *bytes_out);

/* raft.c: roles, elections and the message plumbing. */
void raft_send(struct rc_raft_update *u, const struct rc_raft_msg *m);
void raft_send_after_persist(struct rc_raft_update *u, const struct rc_raft_msg *m);
void raft_become_follower(struct rc_raft *r, uint64_t term, uint16_t leader);
int raft_slot_of(const struct rc_raft *r, uint16_t id);

/* replication.c: the leader's side and the follower's side of AppendEntries. */
void replication_reset_progress(struct rc_raft *r);
void replication_bcast_append(struct rc_raft *r, struct rc_raft_update *u);
void replication_bcast_heartbeat(struct rc_raft *r, uint64_t read_seq, struct rc_raft_update *u);
void replication_ask_snapshots(const struct rc_raft *r, struct rc_raft_update *u);
void replication_on_append(struct rc_raft *r, const struct rc_raft_msg *m,
			   struct rc_raft_update *u);
void replication_on_append_resp(struct rc_raft *r, const struct rc_raft_msg *m,
				struct rc_raft_update *u);
void replication_on_heartbeat(struct rc_raft *r, const struct rc_raft_msg *m,
			      struct rc_raft_update *u);
void replication_on_heartbeat_resp(struct rc_raft *r, const struct rc_raft_msg *m,
				   struct rc_raft_update *u);
bool replication_maybe_commit(struct rc_raft *r);
void replication_on_snapshot(struct rc_raft *r, uint16_t leader, uint64_t index, uint64_t term,
			     struct rc_raft_update *u);
void replication_propose(struct rc_raft *r, const struct rc_raft_entry *entries, uint32_t count,
			 struct rc_raft_update *u);

/* read.c: linearizable reads (ReadIndex rounds, the leader lease, the pending queue). */
void read_on_become_leader(struct rc_raft *r);
void read_on_request(struct rc_raft *r, uint64_t ctx, uint32_t flags, struct rc_raft_update *u);
void read_on_heartbeat_timeout(struct rc_raft *r, struct rc_raft_update *u);
void read_advance(struct rc_raft *r, uint64_t term_before, struct rc_raft_update *u);

#endif
