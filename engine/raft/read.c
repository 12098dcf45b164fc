/*
 * Linearizable reads (Raft thesis §6.4): the leader's bounded queue of pending reads, read
 * rounds (a heartbeat sequence a majority must echo before the reads of the round are ready),
 * and the leader lease that lets a read skip the round. The contract is in raft.h, "Linearizable
 * reads".
 *
 * A pending read moves through three waits, in queue order:
 *   index 0          the leader has not committed an entry of its term yet;
 *   seq 0            it has a read index and waits for a round to be started for it;
 *   seq > confirmed  its round is on the wire; a majority echo of seq or later makes it ready.
 */
#include <stddef.h>
#include <string.h>

#include <replicore/raft.h>

#include "raft_internal.h"

#define READ_QUEUE_MASK (RC_READS_PENDING_MAX - 1u)
#define READ_ROUND_MASK (RC_READ_ROUNDS_TRACKED - 1u)

/* Returns the pending read at queue position pos (0: the oldest). */
static struct rc_raft_read_pending *
read_at(struct rc_raft *r, uint32_t pos)
{
	RC_ASSERT(pos < r->read_count);
	return &r->reads[(r->read_head + pos) & READ_QUEUE_MASK];
}

/* Adds the answer to one read to the update: an index with RC_READ_OK, 0 with a failure. */
static void
read_report(struct rc_raft_update *u, uint64_t ctx, uint64_t index, uint8_t status)
{
	struct rc_raft_read *a;

	RC_ASSERT(u->read_count < RC_UPDATE_READS_MAX);
	RC_ASSERT((status == RC_READ_OK) == (index != 0));
	a = &u->reads[u->read_count++];
	memset(a, 0, sizeof(*a));
	a->ctx = ctx;
	a->index = index;
	a->status = status;
	u->flags |= RC_UPDATE_READS;
}

/* Removes the oldest pending read and answers it with status (its index when RC_READ_OK). */
static void
read_pop(struct rc_raft *r, uint8_t status, struct rc_raft_update *u)
{
	const struct rc_raft_read_pending *p = read_at(r, 0);

	read_report(u, p->ctx, status == RC_READ_OK ? p->index : 0, status);
	r->read_head = (r->read_head + 1) & READ_QUEUE_MASK;
	r->read_count--;
}

/*
 * True once the leader committed an entry of its own term (thesis §6.4 step 1): before that, its
 * commit index may be below entries earlier leaders committed.
 */
static bool
read_committed_in_term(const struct rc_raft *r)
{
	return rc_raft_term_at(r, r->commit) == r->term;
}

/*
 * Returns the highest read round a majority of voters is known to have seen: the leader counts
 * itself at its latest round, each peer at the round it last echoed in this term.
 */
static uint64_t
read_quorum_seq(const struct rc_raft *r)
{
	uint64_t acked[RC_NODES_MAX];

	for (int i = 0; i < r->cfg.voter_count; i++)
		acked[i] = i == r->self_slot ? r->read_seq : r->progress[i].read_seq_acked;
	return rc_quorum_index(acked, r->cfg.voter_count);
}

/*
 * True while the leader lease holds (thesis §6.4.1): a majority echoed a round that started less
 * than election_ticks - lease_drift_ticks ticks ago. Each of them heard from this leader after
 * the round started, so (raft.h's assumptions) none grants a vote before the lease ends. A round
 * older than the RC_READ_ROUNDS_TRACKED last gives no lease.
 */
static bool
read_lease_holds(const struct rc_raft *r)
{
	uint64_t seq;
	uint64_t started;

	if (!r->cfg.lease_reads || !r->cfg.check_quorum)
		return false;
	seq = read_quorum_seq(r);
	if (seq == 0 || r->read_seq - seq >= RC_READ_ROUNDS_TRACKED)
		return false;
	started = r->read_round_tick[seq & READ_ROUND_MASK];
	RC_ASSERT(started <= r->ticks);
	return r->ticks - started < r->cfg.election_ticks - r->cfg.lease_drift_ticks;
}

/* Puts every read that has a read index but no round into round seq (the newest). */
static void
read_join(struct rc_raft *r, uint64_t seq)
{
	uint32_t pos = r->read_count;

	RC_ASSERT(seq == r->read_seq);
	while (pos > 0 && read_at(r, pos - 1)->seq == 0)
		pos--;
	for (; pos < r->read_count; pos++) {
		struct rc_raft_read_pending *p = read_at(r, pos);

		if (p->index != 0)
			p->seq = seq;
	}
}

/*
 * Starts read round read_seq + 1: notes its start on the lease clock, puts the reads waiting for
 * a round in it, notes in the update that its heartbeats are not sent yet (so later reads join
 * it), and sends every peer a heartbeat carrying it.
 */
static void
read_round_start(struct rc_raft *r, struct rc_raft_update *u)
{
	RC_ASSERT(r->role == RC_ROLE_LEADER);
	r->read_seq++;
	r->read_round_tick[r->read_seq & READ_ROUND_MASK] = r->ticks;
	u->read_round_seq = r->read_seq;
	read_join(r, r->read_seq);
	replication_bcast_heartbeat(r, r->read_seq, u);
}

/* Answers, oldest first, every pending read whose round a majority has seen. */
static void
read_confirm(struct rc_raft *r, struct rc_raft_update *u)
{
	uint64_t seq = read_quorum_seq(r);

	if (seq > r->read_seq_confirmed)
		r->read_seq_confirmed = seq;
	RC_ASSERT(r->read_seq_confirmed <= r->read_seq);
	while (r->read_count > 0) {
		const struct rc_raft_read_pending *p = read_at(r, 0);

		if (p->seq == 0 || p->seq > r->read_seq_confirmed)
			break;
		read_pop(r, RC_READ_OK, u);
	}
}

/* A new leader starts with no read pending and no round in flight. */
void
read_on_become_leader(struct rc_raft *r)
{
	RC_ASSERT(r->read_count == 0);
	r->read_seq_confirmed = r->read_seq;
}

/*
 * RC_EVENT_READ_INDEX: a non-leader fails the read (NOT_LEADER); a leader inside its lease,
 * asked for a lease read, answers at its commit index at once; otherwise the read is queued
 * (BUSY when the queue is full), with its read index when the leader has committed in its term.
 * read_advance(), at the end of the step, gives it a round.
 */
void
read_on_request(struct rc_raft *r, uint64_t ctx, uint32_t flags, struct rc_raft_update *u)
{
	struct rc_raft_read_pending *p;

	RC_ASSERT((flags & ~(uint32_t)RC_READ_LEASE) == 0);
	if (r->role != RC_ROLE_LEADER) {
		read_report(u, ctx, 0, RC_READ_NOT_LEADER);
		return;
	}
	if ((flags & RC_READ_LEASE) && read_committed_in_term(r) && read_lease_holds(r)) {
		read_report(u, ctx, r->commit, RC_READ_OK);
		return;
	}
	if (r->read_count == RC_READS_PENDING_MAX) {
		read_report(u, ctx, 0, RC_READ_BUSY);
		return;
	}
	r->read_count++;
	p = read_at(r, r->read_count - 1);
	p->ctx = ctx;
	p->index = read_committed_in_term(r) ? r->commit : 0;
	p->seq = 0;
}

/*
 * A leader's heartbeat timeout: while reads are pending or leases are in use, the heartbeat is
 * a new read round (which retries a round whose heartbeats were lost, and renews the lease);
 * otherwise a plain one.
 */
void
read_on_heartbeat_timeout(struct rc_raft *r, struct rc_raft_update *u)
{
	if (r->read_count > 0 || r->cfg.lease_reads)
		read_round_start(r, u);
	else
		replication_bcast_heartbeat(r, 0, u);
}

/*
 * Runs at the end of every step. A node that is no longer the leader of the term the reads were
 * queued in fails them all (DROPPED). Otherwise: reads waiting for a commit in the term get the
 * commit index once there is one; confirmed reads are answered; reads still without a round join
 * the round whose heartbeats are still in the update, or get a new round when none is in flight
 * (else they wait for the next heartbeat or confirmation).
 */
void
read_advance(struct rc_raft *r, uint64_t term_before, struct rc_raft_update *u)
{
	struct rc_raft_read_pending *last;

	if (r->read_count == 0)
		return;
	if (r->role != RC_ROLE_LEADER || r->term != term_before) {
		while (r->read_count > 0)
			read_pop(r, RC_READ_DROPPED, u);
		return;
	}
	/* Reads without an index are the newest ones: they all arrived before the commit. */
	for (uint32_t pos = r->read_count; pos > 0 && read_committed_in_term(r); pos--) {
		struct rc_raft_read_pending *p = read_at(r, pos - 1);

		if (p->index != 0)
			break;
		p->index = r->commit;
	}
	read_confirm(r, u);
	if (r->read_count == 0)
		return;
	last = read_at(r, r->read_count - 1);
	if (last->seq != 0 || last->index == 0)
		return;
	if (u->read_round_seq == r->read_seq && r->read_seq > r->read_seq_confirmed)
		read_join(r, r->read_seq);
	else if (r->read_seq == r->read_seq_confirmed)
		read_round_start(r, u);
	read_confirm(r, u);
}
