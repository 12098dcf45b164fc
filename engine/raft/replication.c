/*
 * Log replication (§5.3): the leader's progress tracking, pipelined AppendEntries within each
 * follower's in-flight window, the commit rule, and the follower's consistency check.
 */
#include <stddef.h>

#include <replicore/raft.h>

#include "raft_internal.h"

/* Resets every follower to probe from our last index, and our own match to what is durable. */
void
replication_reset_progress(struct rc_raft *r)
{
	for (int i = 0; i < r->cfg.voter_count; i++) {
		struct rc_progress *pr = &r->progress[i];

		pr->match = i == r->self_slot ? r->persisted : 0;
		pr->next = r->last_index + 1;
		pr->state = RC_PROGRESS_PROBE;
		pr->probe_sent = false;
		pr->recent_active = true;
		pr->silent_ticks = 0;
		pr->read_seq_acked = 0;
		rc_inflights_reset(&pr->inflights, r->cfg.inflight_msgs_max,
				   r->cfg.inflight_bytes_max);
	}
}

/* Switches pr to optimistic pipelining from just after its match. */
static void
progress_become_replicate(struct rc_raft *r, struct rc_progress *pr)
{
	pr->state = RC_PROGRESS_REPLICATE;
	pr->next = pr->match + 1;
	pr->probe_sent = false;
	rc_inflights_reset(&pr->inflights, r->cfg.inflight_msgs_max, r->cfg.inflight_bytes_max);
}

_Static_assert(RC_NODES_MAX <= 32, "snapshot_peers holds a bit per voter slot");

/* Asks the caller, in the update, to send a snapshot to the (stalled) follower in slot. */
static void
replication_want_snapshot(const struct rc_raft *r, int slot, struct rc_raft_update *u)
{
	RC_ASSERT(slot != r->self_slot && r->progress[slot].state == RC_PROGRESS_STALLED);
	u->snapshot_peers |= 1u << slot;
	u->flags |= RC_UPDATE_SNAPSHOT;
}

/*
 * Asks again for a snapshot to every stalled follower (the leader's periodic heartbeat), so the
 * caller restarts a transfer that died.
 */
void
replication_ask_snapshots(const struct rc_raft *r, struct rc_raft_update *u)
{
	RC_ASSERT(r->role == RC_ROLE_LEADER);
	for (int i = 0; i < r->cfg.voter_count; i++)
		if (i != r->self_slot && r->progress[i].state == RC_PROGRESS_STALLED)
			replication_want_snapshot(r, i, u);
}

/*
 * Sends one AppendEntries to the follower in slot if its state allows: PROBE sends one (even
 * empty) and waits; REPLICATE sends while entries remain and the window has room, and an empty
 * one when allow_empty is set (to find out whether appends were lost). Returns true when a
 * message was queued.
 */
static bool
replication_send_append(struct rc_raft *r, int slot, bool allow_empty, struct rc_raft_update *u)
{
	struct rc_progress *pr = &r->progress[slot];
	uint64_t payload_bytes = 0;
	uint32_t n = 0;

	if (pr->state == RC_PROGRESS_STALLED ||
	    (pr->state == RC_PROGRESS_PROBE && pr->probe_sent) ||
	    (pr->state == RC_PROGRESS_REPLICATE && rc_inflights_full(&pr->inflights)))
		return false;
	if (pr->next <= r->snap_index) {
		pr->state = RC_PROGRESS_STALLED; /* needs a snapshot */
		replication_want_snapshot(r, slot, u);
		return false;
	}
	if (pr->next <= r->last_index)
		n = raft_log_contiguous(r, pr->next, r->cfg.msg_entries_max, r->cfg.msg_bytes_max,
					&payload_bytes);
	if (n == 0 && pr->state == RC_PROGRESS_REPLICATE && !allow_empty)
		return false;

	struct rc_raft_msg m = {
		.type = RC_MSG_APPEND,
		.from = r->cfg.id,
		.to = r->cfg.voters[slot],
		.term = r->term,
		.index = pr->next - 1,
		.log_term = rc_raft_term_at(r, pr->next - 1),
		.commit = r->commit,
		.entry_count = n,
		.entries = n > 0 ? &r->ring[pr->next & RAFT_RING_MASK] : NULL,
	};
	raft_send(u, &m);
	if (pr->state == RC_PROGRESS_REPLICATE && n > 0) {
		pr->next += n;
		rc_inflights_add(&pr->inflights, pr->next - 1, (uint32_t)payload_bytes);
	} else if (pr->state == RC_PROGRESS_PROBE) {
		pr->probe_sent = true;
	}
	return true;
}

/* Sends every follower what its window allows. */
void
replication_bcast_append(struct rc_raft *r, struct rc_raft_update *u)
{
	for (int i = 0; i < r->cfg.voter_count; i++) {
		if (i == r->self_slot)
			continue;
		while (replication_send_append(r, i, false, u))
			;
	}
}

/*
 * Sends every follower a heartbeat carrying the commit index as far as it is known to match, and
 * read round read_seq (0: none).
 */
void
replication_bcast_heartbeat(struct rc_raft *r, uint64_t read_seq, struct rc_raft_update *u)
{
	struct rc_raft_msg m = {
		.type = RC_MSG_HEARTBEAT,
		.from = r->cfg.id,
		.term = r->term,
		.read_seq = read_seq,
	};

	for (int i = 0; i < r->cfg.voter_count; i++) {
		if (i == r->self_slot)
			continue;
		m.to = r->cfg.voters[i];
		m.commit = r->progress[i].match < r->commit ? r->progress[i].match : r->commit;
		raft_send(u, &m);
	}
}

/*
 * The commit rule (§5.3, §5.4.2): the highest index a majority holds — the leader counting only
 * what it has made durable — becomes committed if it belongs to the current term. Entries of
 * earlier terms are committed only through it. Returns true when commit moved.
 */
bool
replication_maybe_commit(struct rc_raft *r)
{
	uint64_t matches[RC_NODES_MAX];
	uint64_t index;

	r->progress[r->self_slot].match = RC_MUTATED(RC_MUTATION_COMMIT_PAST_DURABLE) ?
						  r->last_index :
						  r->persisted;
	for (int i = 0; i < r->cfg.voter_count; i++)
		matches[i] = r->progress[i].match;
	index = rc_quorum_index(matches, r->cfg.voter_count);
	if (index <= r->commit)
		return false;
	if (rc_raft_term_at(r, index) != r->term && !RC_MUTATED(RC_MUTATION_COMMIT_PREVIOUS_TERM))
		return false;
	r->commit = index;
	return true;
}

/*
 * Handles a follower's answer to AppendEntries. An accept moves its match (and a prober into
 * pipelining); a reject moves next back, using the follower's conflict hint to skip whole
 * terms. Stale answers change nothing. A stalled follower leaves only through an accept at or
 * past our compaction point (it installed a snapshot): it probes from there and pipelines at
 * once; an accept below it (an old answer, or a snapshot older than what we compacted since)
 * asks for a snapshot again. Then sends what the window allows.
 */
void
replication_on_append_resp(struct rc_raft *r, const struct rc_raft_msg *m, struct rc_raft_update *u)
{
	int slot = raft_slot_of(r, m->from);
	struct rc_progress *pr = &r->progress[slot];

	pr->recent_active = true;
	pr->silent_ticks = 0;
	if (m->reject) {
		uint64_t hint = m->hint_index;

		if (m->log_term > 0)
			hint = raft_log_conflict_hint(r, m->hint_index, m->log_term);
		if (pr->state == RC_PROGRESS_REPLICATE) {
			if (m->index <= pr->match)
				return; /* stale */
		} else if (pr->state != RC_PROGRESS_PROBE || pr->next - 1 != m->index) {
			return; /* stale, or stalled */
		}
		pr->state = RC_PROGRESS_PROBE;
		pr->probe_sent = false;
		pr->next = hint + 1 < m->index ? hint + 1 : m->index;
		if (pr->next < pr->match + 1)
			pr->next = pr->match + 1;
		replication_send_append(r, slot, false, u);
		return;
	}
	if (m->index > r->last_index)
		return; /* cannot be ours: an answer to a log we no longer have */
	if (pr->state == RC_PROGRESS_STALLED) {
		RC_ASSERT(pr->match < pr->next && pr->next <= r->snap_index);
		if (m->index < r->snap_index) {
			replication_want_snapshot(r, slot, u);
			return;
		}
		pr->state = RC_PROGRESS_PROBE;
		pr->probe_sent = false;
	}
	if (m->index > pr->match) {
		pr->match = m->index;
		pr->probe_sent = false;
		if (pr->state == RC_PROGRESS_PROBE)
			progress_become_replicate(r, pr);
		if (pr->state == RC_PROGRESS_REPLICATE)
			rc_inflights_free_to(&pr->inflights, m->index);
		if (replication_maybe_commit(r)) {
			replication_bcast_append(r, u);
			return;
		}
	}
	if (pr->next < m->index + 1)
		pr->next = m->index + 1;
	while (replication_send_append(r, slot, false, u))
		;
}

/*
 * A heartbeat answer: the follower lives, and has seen the read round it echoes (a round we never
 * started is not believed). If it still lags, appends may have been lost: a paused prober tries
 * again, and a pipeline frees its oldest slot and sends (an empty append when nothing is left to
 * send), which the follower rejects if it misses entries.
 */
void
replication_on_heartbeat_resp(struct rc_raft *r, const struct rc_raft_msg *m,
			      struct rc_raft_update *u)
{
	int slot = raft_slot_of(r, m->from);
	struct rc_progress *pr = &r->progress[slot];
	struct rc_inflights *in = &pr->inflights;

	pr->recent_active = true;
	pr->silent_ticks = 0;
	pr->probe_sent = false;
	if (m->read_seq > pr->read_seq_acked && m->read_seq <= r->read_seq)
		pr->read_seq_acked = m->read_seq;
	if (pr->match >= r->last_index)
		return;
	if (pr->state == RC_PROGRESS_REPLICATE && rc_inflights_full(in))
		rc_inflights_free_to(in, in->last_index[in->start]);
	if (replication_send_append(r, slot, true, u))
		while (replication_send_append(r, slot, false, u))
			;
}

/*
 * Flow control: how many new entries the leader takes. Besides the ring's room, a follower heard
 * from within the last election timeout must stay within the newest half of the ring, the part
 * compaction keeps; otherwise it would need a snapshot to catch up. A follower silent for longer
 * does not hold the cluster back.
 */
static uint64_t
replication_room(const struct rc_raft *r)
{
	uint64_t floor = r->last_index;
	uint64_t room = raft_log_room(r);

	for (int i = 0; i < r->cfg.voter_count; i++) {
		const struct rc_progress *pr = &r->progress[i];

		if (i != r->self_slot && pr->silent_ticks < r->cfg.election_ticks &&
		    pr->state != RC_PROGRESS_STALLED && pr->match < floor)
			floor = pr->match;
	}
	if (floor + RC_LOG_ENTRIES_MAX / 2 <= r->last_index)
		return 0;
	if (floor + RC_LOG_ENTRIES_MAX / 2 - r->last_index < room)
		room = floor + RC_LOG_ENTRIES_MAX / 2 - r->last_index;
	return room;
}

/*
 * The leader takes application entries (§5.3): stamps them with its term, appends as many as
 * the log has room for and sends them out. Returns in the update how many were taken and at
 * which index; a non-leader takes none.
 */
void
replication_propose(struct rc_raft *r, const struct rc_raft_entry *entries, uint32_t count,
		    struct rc_raft_update *u)
{
	uint64_t room = replication_room(r);
	uint32_t n = count < room ? count : (uint32_t)room;

	RC_ASSERT(count <= RC_PROPOSE_ENTRIES_MAX);
	u->flags |= RC_UPDATE_PROPOSED;
	u->propose_accepted = 0;
	u->propose_first = r->last_index + 1;
	u->propose_term = r->term;
	if (r->role != RC_ROLE_LEADER || n == 0)
		return;
	for (uint32_t i = 0; i < n; i++) {
		struct rc_raft_entry e = entries[i];

		e.term = r->term;
		RC_ASSERT(e.type == RC_ENTRY_NORMAL);
		raft_log_append(r, &e, u);
	}
	u->propose_accepted = n;
	replication_bcast_append(r, u);
}

/*
 * Appends the entries of m after its matching prev entry, cutting our log at the first entry
 * whose term differs (§5.3 receiver rule 3; only uncommitted entries can differ). Returns the
 * index of the last entry of m that is now in our log.
 */
static uint64_t
replication_append_entries(struct rc_raft *r, const struct rc_raft_msg *m, struct rc_raft_update *u)
{
	uint32_t i = 0;

	if (RC_MUTATED(RC_MUTATION_TRUNCATE_COMMITTED)) {
		raft_log_truncate(r, m->index);
	} else {
		while (i < m->entry_count && m->index + 1 + i <= r->last_index &&
		       rc_raft_term_at(r, m->index + 1 + i) == m->entries[i].term)
			i++;
		if (i < m->entry_count && m->index + 1 + i <= r->last_index)
			raft_log_truncate(r, m->index + i);
	}
	for (; i < m->entry_count && raft_log_room(r) > 0; i++)
		raft_log_append(r, &m->entries[i], u);
	return m->index + i;
}

/*
 * AppendEntries receiver (§5.3): rejects when our log has no entry at prev index with prev
 * term, with a hint to skip back a whole term; otherwise appends, advances commit to
 * min(leader commit, last new entry), and acknowledges once the entries are durable.
 */
void
replication_on_append(struct rc_raft *r, const struct rc_raft_msg *m, struct rc_raft_update *u)
{
	struct rc_raft_msg resp = {
		.type = RC_MSG_APPEND_RESP,
		.from = r->cfg.id,
		.to = m->from,
		.term = r->term,
	};

	if (m->index < r->commit) {
		resp.index = r->commit; /* an old message: everything up to commit matches */
		raft_send_after_persist(u, &resp);
		return;
	}
	if (!raft_log_match_term(r, m->index, m->log_term)) {
		resp.reject = 1;
		resp.index = m->index;
		resp.hint_index = raft_log_conflict_hint(r, m->index, m->log_term);
		resp.log_term = rc_raft_term_at(r, resp.hint_index);
		raft_send(u, &resp);
		return;
	}
	uint64_t last_new = replication_append_entries(r, m, u);

	if (m->commit > r->commit) {
		uint64_t commit = m->commit < last_new ? m->commit : last_new;

		if (commit > r->commit)
			r->commit = commit;
	}
	resp.index = last_new;
	raft_send_after_persist(u, &resp);
}

/*
 * InstallSnapshot, the follower's side (§7), once the state machine holds the leader's snapshot
 * ending at (index, term) and it is durable; the term rules were applied. A snapshot within our
 * commit installs nothing (the state machine never goes back). Otherwise the log restarts at
 * the snapshot (keeping the entries after it when we hold its last entry), which is committed
 * and applied; the update drops what it held for entries up to index (apply range, writes) and
 * reports the install. Either way the leader gets an accepted answer for the index we match.
 */
void
replication_on_snapshot(struct rc_raft *r, uint16_t leader, uint64_t index, uint64_t term,
			struct rc_raft_update *u)
{
	struct rc_raft_msg resp = {
		.type = RC_MSG_APPEND_RESP,
		.from = r->cfg.id,
		.to = leader,
		.term = r->term,
	};
	bool kept;

	RC_ASSERT(r->role == RC_ROLE_FOLLOWER && r->leader == leader);
	if (index <= r->commit) {
		resp.index = r->commit; /* an old snapshot: everything up to commit matches */
		raft_send_after_persist(u, &resp);
		return;
	}
	kept = raft_log_restart_at(r, index, term);
	r->commit = index;
	r->applied = index;
	r->apply_next = index + 1;
	/* Entries the update handed out for applying are within the old commit: in the snapshot. */
	RC_ASSERT(!(u->flags & RC_UPDATE_APPLY) || u->apply_last < index);
	u->flags &= ~(uint32_t)RC_UPDATE_APPLY;
	u->apply_first = 0;
	u->apply_last = 0;
	if ((u->flags & RC_UPDATE_ENTRIES) && (!kept || u->persist_last <= index)) {
		u->flags &= ~(uint32_t)RC_UPDATE_ENTRIES;
		u->persist_first = 0;
		u->persist_last = 0;
	} else if ((u->flags & RC_UPDATE_ENTRIES) && u->persist_first <= index) {
		u->persist_first = index + 1;
	}
	u->snapshot_tail_kept = kept && (!(u->flags & RC_UPDATE_SNAPSHOT_INSTALLED) ||
					 u->snapshot_tail_kept);
	u->snapshot_index = index;
	u->snapshot_term = term;
	u->flags |= RC_UPDATE_SNAPSHOT_INSTALLED;
	resp.index = index;
	raft_send_after_persist(u, &resp);
}

/*
 * A heartbeat: the leader's commit (already clamped to what we match) moves ours up; the answer
 * echoes the heartbeat's read round.
 */
void
replication_on_heartbeat(struct rc_raft *r, const struct rc_raft_msg *m, struct rc_raft_update *u)
{
	struct rc_raft_msg resp = {
		.type = RC_MSG_HEARTBEAT_RESP,
		.from = r->cfg.id,
		.to = m->from,
		.term = r->term,
		.read_seq = m->read_seq,
	};

	/* A correct leader never sends more than our match; clamp anyway, a peer's word is not
	 * our invariant. */
	if (m->commit > r->commit)
		r->commit = m->commit < r->last_index ? m->commit : r->last_index;
	raft_send(u, &resp);
}
