/*
 * The Raft node: initialisation, the step entry point, roles, terms and elections (with
 * pre-vote and check-quorum). Replication lives in replication.c, the log in log.c.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <replicore/raft.h>

#include "raft_internal.h"

/* Fills cfg with defaults: election after 10-20 ticks, heartbeat every 2, pre-vote and
 * check-quorum on, 64 entries or a 1500-byte frame per append, 16 appends in flight, lease reads
 * off (with a drift bound of 1 tick when turned on). */
void
rc_raft_config_default(struct rc_raft_config *cfg, uint16_t id, const uint16_t *voters,
		       uint16_t voter_count)
{
	memset(cfg, 0, sizeof(*cfg));
	RC_ASSERT(voter_count >= 1 && voter_count <= RC_NODES_MAX);
	cfg->id = id;
	cfg->voter_count = voter_count;
	memcpy(cfg->voters, voters, voter_count * sizeof(voters[0]));
	cfg->election_ticks = 10;
	cfg->heartbeat_ticks = 2;
	cfg->pre_vote = true;
	cfg->check_quorum = true;
	cfg->msg_entries_max = 64;
	cfg->msg_bytes_max = 1400;
	cfg->inflight_msgs_max = 16;
	cfg->inflight_bytes_max = 1u << 20;
	cfg->seed = id;
	cfg->lease_reads = false;
	cfg->lease_drift_ticks = 1;
}

/* Returns the slot of id in the voter list, or -1 when id is not a voter. */
int
raft_slot_of(const struct rc_raft *r, uint16_t id)
{
	for (int i = 0; i < r->cfg.voter_count; i++)
		if (r->cfg.voters[i] == id)
			return i;
	return -1;
}

/* Returns true when every bound of the configuration holds. */
static bool
raft_config_valid(const struct rc_raft_config *c)
{
	bool self = false;

	if (c->voter_count < 1 || c->voter_count > RC_NODES_MAX)
		return false;
	for (int i = 0; i < c->voter_count; i++) {
		if (c->voters[i] == 0 || c->voters[i] > RC_NODE_ID_MAX)
			return false;
		for (int j = 0; j < i; j++)
			if (c->voters[j] == c->voters[i])
				return false;
		self |= c->voters[i] == c->id;
	}
	return self && c->election_ticks >= RC_ELECTION_TICKS_MIN &&
	       c->election_ticks <= RC_ELECTION_TICKS_MAX && c->heartbeat_ticks > 0 &&
	       c->heartbeat_ticks < c->election_ticks && c->msg_entries_max >= 1 &&
	       c->msg_entries_max <= RC_MSG_ENTRIES_MAX && c->msg_bytes_max >= 1 &&
	       c->inflight_msgs_max >= 1 && c->inflight_msgs_max <= RC_INFLIGHT_MSGS_MAX &&
	       c->inflight_bytes_max >= 1 && c->inflight_bytes_max <= RC_INFLIGHT_BYTES_MAX &&
	       (!c->lease_reads || (c->check_quorum && c->lease_drift_ticks >= 1 &&
				    c->lease_drift_ticks < c->election_ticks));
}

/*
 * Returns true when stored entries (snap_index+1 ..) are well formed, fit the ring and agree
 * with the hard state and the compaction point (snap_index, snap_term).
 */
static bool
raft_stored_valid(const struct rc_raft_hard_state *hs, uint64_t snap_index, uint64_t snap_term,
		  const struct rc_raft_entry *entries, uint64_t count)
{
	uint64_t prev_term = snap_term;

	if ((snap_index == 0) != (snap_term == 0) || (snap_index > 0 && hs == NULL))
		return false;
	if (count > 0 && (entries == NULL || count > RC_LOG_ENTRIES_MAX))
		return false;
	for (uint64_t i = 0; i < count; i++) {
		if (entries[i].term < prev_term || entries[i].term == 0 ||
		    entries[i].bytes > RC_ENTRY_BYTES_MAX || entries[i].type >= RC_ENTRY_TYPE_COUNT)
			return false;
		prev_term = entries[i].term;
	}
	return (count == 0 && snap_index == 0) || (hs != NULL && hs->term >= prev_term);
}

/* Draws a new randomized election timeout in [election_ticks, 2 * election_ticks). */
static void
raft_reset_election_timeout(struct rc_raft *r)
{
	r->election_elapsed = 0;
	r->election_timeout = r->cfg.election_ticks +
			      (uint32_t)rc_prng_below(&r->prng, r->cfg.election_ticks);
}

/* Initialises r from a log never compacted; see raft.h. */
int
rc_raft_init(struct rc_raft *r, const struct rc_raft_config *cfg,
	     const struct rc_raft_hard_state *hs, const struct rc_raft_entry *entries,
	     uint64_t first_index, uint64_t count)
{
	if (count > 0 && first_index != 1)
		return -EINVAL; /* a compacted log: rc_raft_init_at() */
	return rc_raft_init_at(r, cfg, hs, 0, 0, entries, count);
}

/*
 * Initialises r from cfg and stored state (see raft.h). Returns 0 or -EINVAL. The ring is not
 * cleared: only the stored entries are written.
 */
int
rc_raft_init_at(struct rc_raft *r, const struct rc_raft_config *cfg,
		const struct rc_raft_hard_state *hs, uint64_t snap_index, uint64_t snap_term,
		const struct rc_raft_entry *entries, uint64_t count)
{
	if (cfg == NULL || !raft_config_valid(cfg) ||
	    !raft_stored_valid(hs, snap_index, snap_term, entries, count))
		return -EINVAL;
	if (hs != NULL && hs->vote > RC_NODE_ID_MAX)
		return -EINVAL;
	memset(r, 0, offsetof(struct rc_raft, ring));
	r->cfg = *cfg;
	rc_prng_seed(&r->prng, cfg->seed);
	r->self_slot = (uint16_t)raft_slot_of(r, cfg->id);
	for (uint64_t i = 0; i < count; i++)
		r->ring[(snap_index + 1 + i) & RAFT_RING_MASK] = entries[i];
	r->snap_index = snap_index;
	r->snap_term = snap_term;
	r->last_index = snap_index + count;
	r->persisted = r->last_index;
	r->applied = snap_index;
	r->apply_next = snap_index + 1;
	r->commit = snap_index;
	if (hs != NULL) {
		r->term = hs->term;
		r->vote = RC_MUTATED(RC_MUTATION_FORGET_VOTE_ON_RESTART) ? 0 : hs->vote;
		if (hs->commit > r->commit)
			r->commit = hs->commit < r->last_index ? hs->commit : r->last_index;
	}
	r->role = RC_ROLE_FOLLOWER;
	r->reported_term = r->term;
	r->reported_vote = r->vote;
	r->reported_role = r->role;
	raft_reset_election_timeout(r);
	return 0;
}

/* Empties an update. */
void
rc_raft_update_reset(struct rc_raft_update *u)
{
	u->flags = 0;
	u->msg_count = 0;
	u->msg_after_persist_count = 0;
	u->persist_first = 0;
	u->persist_last = 0;
	u->apply_first = 0;
	u->apply_last = 0;
	u->propose_accepted = 0;
	u->read_count = 0;
	u->read_round_seq = 0;
	u->snapshot_peers = 0;
	u->snapshot_index = 0;
	u->snapshot_term = 0;
	u->snapshot_tail_kept = false;
}

/* Returns true while a worst-case step still fits in the update. */
bool
rc_raft_update_has_room(const struct rc_raft_update *u)
{
	return u->msg_count + RC_UPDATE_MSGS_PER_STEP_MAX <= RC_UPDATE_MSGS_MAX &&
	       u->msg_after_persist_count + RC_NODES_MAX <= RC_UPDATE_MSGS_AFTER_PERSIST_MAX &&
	       u->read_count + RC_UPDATE_READS_PER_STEP_MAX <= RC_UPDATE_READS_MAX;
}

/* Queues m to be sent as soon as the update is executed. */
void
raft_send(struct rc_raft_update *u, const struct rc_raft_msg *m)
{
	RC_ASSERT(u->msg_count < RC_UPDATE_MSGS_MAX);
	RC_ASSERT(m->to != 0 && m->from != m->to);
	u->msgs[u->msg_count++] = *m;
	u->flags |= RC_UPDATE_MSGS;
}

/* Queues m to be sent once every write requested so far is durable. */
void
raft_send_after_persist(struct rc_raft_update *u, const struct rc_raft_msg *m)
{
	RC_ASSERT(u->msg_after_persist_count < RC_UPDATE_MSGS_AFTER_PERSIST_MAX);
	RC_ASSERT(m->to != 0 && m->from != m->to);
	u->msgs_after_persist[u->msg_after_persist_count++] = *m;
	u->flags |= RC_UPDATE_MSGS_AFTER_PERSIST;
}

/* Clears the tally of an election round. */
static void
raft_reset_votes(struct rc_raft *r)
{
	r->votes_granted = 0;
	r->votes_rejected = 0;
}

/* Becomes a follower in term (forgetting the vote when the term moves) of leader (0: unknown). */
void
raft_become_follower(struct rc_raft *r, uint64_t term, uint16_t leader)
{
	RC_ASSERT(term >= r->term);
	if (term > r->term) {
		r->term = term;
		r->vote = 0;
	}
	r->role = RC_ROLE_FOLLOWER;
	r->leader = leader;
	r->heartbeat_elapsed = 0;
	raft_reset_votes(r);
	raft_reset_election_timeout(r);
}

/*
 * Becomes leader of the current term (§5.2): resets every follower's progress to probe from our
 * last index, appends the term's no-op entry (§8: it lets the leader commit its predecessors'
 * entries) and sends it to everyone.
 */
static void
raft_become_leader(struct rc_raft *r, struct rc_raft_update *u)
{
	struct rc_raft_entry noop = { .term = r->term, .type = RC_ENTRY_NOOP };

	RC_ASSERT(r->role == RC_ROLE_CANDIDATE);
	r->role = RC_ROLE_LEADER;
	r->leader = r->cfg.id;
	r->heartbeat_elapsed = 0;
	r->election_elapsed = 0;
	replication_reset_progress(r);
	read_on_become_leader(r);
	if (raft_log_room(r) > 0)
		raft_log_append(r, &noop, u);
	replication_bcast_append(r, u);
}

/* Sends a (pre-)vote request for term to every other voter. */
static void
raft_request_votes(struct rc_raft *r, uint8_t type, uint64_t term, struct rc_raft_update *u)
{
	struct rc_raft_msg m = {
		.type = type,
		.from = r->cfg.id,
		.term = term,
		.index = r->last_index,
		.log_term = rc_raft_term_at(r, r->last_index),
	};

	for (int i = 0; i < r->cfg.voter_count; i++) {
		if (i == r->self_slot)
			continue;
		m.to = r->cfg.voters[i];
		/* A vote request promises our term and self-vote: they must be durable first. */
		if (type == RC_MSG_VOTE)
			raft_send_after_persist(u, &m);
		else
			raft_send(u, &m);
	}
}

/* Records one voter's answer; returns 1 won, -1 lost, 0 still open. */
static int
raft_tally(struct rc_raft *r, int slot, bool granted)
{
	uint32_t bit = 1u << slot;

	if (granted)
		r->votes_granted |= bit;
	else
		r->votes_rejected |= bit;
	return rc_quorum_vote_result((uint32_t)__builtin_popcount(r->votes_granted),
				     (uint32_t)__builtin_popcount(r->votes_rejected),
				     r->cfg.voter_count);
}

/*
 * Starts an election (§5.2). With pre_vote and pre set, first asks whether a vote could be won
 * (thesis §9.6) without touching the term; otherwise raises the term and votes for itself.
 * A single-voter cluster wins at once.
 */
static void
raft_campaign(struct rc_raft *r, bool pre, struct rc_raft_update *u)
{
	RC_ASSERT(r->role != RC_ROLE_LEADER);
	r->leader = 0;
	r->heartbeat_elapsed = 0;
	raft_reset_votes(r);
	raft_reset_election_timeout(r);
	if (pre) {
		r->role = RC_ROLE_PRE_CANDIDATE;
		if (raft_tally(r, r->self_slot, true) == 1)
			raft_campaign(r, false, u);
		else
			raft_request_votes(r, RC_MSG_PREVOTE, r->term + 1, u);
		return;
	}
	r->role = RC_ROLE_CANDIDATE;
	r->term++;
	r->vote = r->cfg.id;
	if (raft_tally(r, r->self_slot, true) == 1)
		raft_become_leader(r, u);
	else
		raft_request_votes(r, RC_MSG_VOTE, r->term, u);
}

/*
 * A leader's election-timeout round: returns whether a majority was heard from since the last
 * round, and starts a new round. With check-quorum (§6.2) the leader steps down on false; the
 * activity marks also steer flow control (replication_room()).
 */
static bool
raft_check_quorum(struct rc_raft *r)
{
	uint32_t active = 0;

	for (int i = 0; i < r->cfg.voter_count; i++) {
		if (i == r->self_slot || r->progress[i].recent_active)
			active++;
		r->progress[i].recent_active = false;
	}
	return active >= r->cfg.voter_count / 2u + 1;
}

/*
 * One tick: leaders heartbeat (a read round when reads need one) and check their quorum; others
 * start an election on timeout.
 */
static void
raft_tick(struct rc_raft *r, struct rc_raft_update *u)
{
	r->ticks++;
	r->election_elapsed++;
	if (r->role != RC_ROLE_LEADER) {
		if (r->election_elapsed >= r->election_timeout)
			raft_campaign(r, r->cfg.pre_vote, u);
		return;
	}
	for (int i = 0; i < r->cfg.voter_count; i++)
		if (r->progress[i].silent_ticks < UINT32_MAX)
			r->progress[i].silent_ticks++;
	if (r->election_elapsed >= r->cfg.election_ticks) {
		r->election_elapsed = 0;
		if (!raft_check_quorum(r) && r->cfg.check_quorum) {
			raft_become_follower(r, r->term, 0);
			return;
		}
	}
	if (++r->heartbeat_elapsed >= r->cfg.heartbeat_ticks) {
		r->heartbeat_elapsed = 0;
		replication_ask_snapshots(r, u);
		read_on_heartbeat_timeout(r, u);
	}
}

/*
 * RequestVote receiver (§5.2, §5.4.1): grants when it has not voted for someone else in this
 * term (or the request is a pre-vote for a later term) and the candidate's log is at least as
 * up-to-date as its own. A granted vote is sent only once the vote is durable.
 */
static void
raft_on_vote_request(struct rc_raft *r, const struct rc_raft_msg *m, struct rc_raft_update *u)
{
	bool pre = m->type == RC_MSG_PREVOTE;
	bool can_vote = r->vote == m->from || (r->vote == 0 && r->leader == 0) ||
			(pre && m->term > r->term);
	bool up_to_date = raft_log_up_to_date(r, m->index, m->log_term) ||
			  RC_MUTATED(RC_MUTATION_VOTE_WITHOUT_UP_TO_DATE);
	struct rc_raft_msg resp = {
		.type = pre ? RC_MSG_PREVOTE_RESP : RC_MSG_VOTE_RESP,
		.from = r->cfg.id,
		.to = m->from,
		.term = r->term,
		.reject = 1,
	};

	if (!can_vote || !up_to_date) {
		raft_send(u, &resp);
		return;
	}
	resp.reject = 0;
	resp.term = m->term;
	if (pre) {
		raft_send(u, &resp);
		return;
	}
	r->vote = m->from;
	r->election_elapsed = 0;
	if (RC_MUTATED(RC_MUTATION_VOTE_BEFORE_PERSIST))
		raft_send(u, &resp);
	else
		raft_send_after_persist(u, &resp);
}

/* Counts a (pre-)vote answer of the round we are in; wins or loses the election. */
static void
raft_on_vote_resp(struct rc_raft *r, const struct rc_raft_msg *m, int slot,
		  struct rc_raft_update *u)
{
	bool pre = m->type == RC_MSG_PREVOTE_RESP;
	int result;

	if (pre ? r->role != RC_ROLE_PRE_CANDIDATE || (!m->reject && m->term != r->term + 1) :
		  r->role != RC_ROLE_CANDIDATE)
		return; /* an answer to a round we are no longer in */
	result = raft_tally(r, slot, !m->reject);
	if (result == 1 && pre)
		raft_campaign(r, false, u);
	else if (result == 1)
		raft_become_leader(r, u);
	else if (result == -1)
		raft_become_follower(r, r->term, 0);
}

/*
 * Applies the term rules to m before any other handling (§5.1): a later term makes us a
 * follower (except for pre-votes, which change nothing, and votes received while we still hear
 * from a leader, which are ignored under check-quorum); an earlier term is answered so the
 * stale sender learns of ours, or dropped. Returns true when m is to be handled further.
 * With lease reads, a node in its first election_ticks ticks also ignores votes: it may have
 * heard from a leader, whose lease it must honour, before it went down.
 */
static bool
raft_check_term(struct rc_raft *r, const struct rc_raft_msg *m, struct rc_raft_update *u)
{
	bool from_leader = m->type == RC_MSG_APPEND || m->type == RC_MSG_HEARTBEAT;
	bool vote_req = m->type == RC_MSG_VOTE || m->type == RC_MSG_PREVOTE;

	if (m->term > r->term) {
		bool lease = r->leader != 0 ||
			     (r->cfg.lease_reads && r->ticks < r->cfg.election_ticks);

		/* Leader lease: a live leader is not disrupted by election traffic, requests
		 * or (stale) answers alike: a rejected (pre-)vote reply from an earlier
		 * campaign must not raise our term and make us forget the leader whose lease
		 * we honour. */
		bool election = vote_req || m->type == RC_MSG_VOTE_RESP ||
				m->type == RC_MSG_PREVOTE_RESP;

		if (election && r->cfg.check_quorum && lease &&
		    r->election_elapsed < r->cfg.election_ticks)
			return false;
		if (m->type == RC_MSG_PREVOTE || (m->type == RC_MSG_PREVOTE_RESP && !m->reject))
			return true; /* the term is the one the candidate would use */
		raft_become_follower(r, m->term, from_leader ? m->from : 0);
		return true;
	}
	if (m->term == r->term)
		return true;
	if (RC_MUTATED(RC_MUTATION_ACCEPT_STALE_TERM) && m->type == RC_MSG_APPEND) {
		replication_on_append(r, m, u);
		return false;
	}
	if (from_leader && (r->cfg.check_quorum || r->cfg.pre_vote)) {
		struct rc_raft_msg resp = {
			.type = RC_MSG_APPEND_RESP,
			.from = r->cfg.id,
			.to = m->from,
			.term = r->term,
			.reject = 1,
		};
		raft_send(u, &resp);
	} else if (m->type == RC_MSG_PREVOTE) {
		struct rc_raft_msg resp = {
			.type = RC_MSG_PREVOTE_RESP,
			.from = r->cfg.id,
			.to = m->from,
			.term = r->term,
			.reject = 1,
		};
		raft_send(u, &resp);
	}
	return false;
}

/* Handles a received message: term rules first, then by type and role. */
static void
raft_receive(struct rc_raft *r, const struct rc_raft_msg *m, struct rc_raft_update *u)
{
	int slot = raft_slot_of(r, m->from);

	if (m->to != r->cfg.id || slot < 0 || slot == r->self_slot)
		return;
	if (!raft_check_term(r, m, u))
		return;
	switch (m->type) {
	case RC_MSG_VOTE:
	case RC_MSG_PREVOTE:
		raft_on_vote_request(r, m, u);
		break;
	case RC_MSG_VOTE_RESP:
	case RC_MSG_PREVOTE_RESP:
		raft_on_vote_resp(r, m, slot, u);
		break;
	case RC_MSG_APPEND:
	case RC_MSG_HEARTBEAT:
		if (r->role == RC_ROLE_LEADER)
			break; /* another leader in our term cannot exist; never act on one */
		if (r->role != RC_ROLE_FOLLOWER || r->leader != m->from)
			raft_become_follower(r, m->term, m->from);
		r->election_elapsed = 0;
		if (m->type == RC_MSG_APPEND)
			replication_on_append(r, m, u);
		else
			replication_on_heartbeat(r, m, u);
		break;
	case RC_MSG_APPEND_RESP:
		if (r->role == RC_ROLE_LEADER)
			replication_on_append_resp(r, m, u);
		break;
	case RC_MSG_HEARTBEAT_RESP:
		if (r->role == RC_ROLE_LEADER)
			replication_on_heartbeat_resp(r, m, u);
		break;
	default:
		RC_ASSERT(!"unknown message type: the codec lets none through");
	}
}

/*
 * True when a snapshot from the leader of leader_term is no older than what we know: a later
 * term, or ours while we are not its leader ourselves.
 */
static bool
raft_snapshot_current(const struct rc_raft *r, uint64_t leader_term)
{
	return leader_term > r->term || (leader_term == r->term && r->role != RC_ROLE_LEADER);
}

/* Says whether RC_EVENT_SNAPSHOT would install a snapshot ending at index now; see raft.h. */
bool
rc_raft_snapshot_wanted(const struct rc_raft *r, uint64_t index, uint64_t leader_term)
{
	return raft_snapshot_current(r, leader_term) && index > r->commit;
}

/*
 * RC_EVENT_SNAPSHOT: a snapshot from an earlier term is dropped without an answer (the caller
 * asked rc_raft_snapshot_wanted() first, so it restored nothing). Otherwise the sender is our
 * leader, as on its AppendEntries (a later term makes us its follower in that term), and the
 * snapshot is installed.
 */
static void
raft_on_snapshot(struct rc_raft *r, const struct rc_raft_event *ev, struct rc_raft_update *u)
{
	uint64_t leader_term = ev->snapshot.leader_term;
	uint16_t leader = ev->snapshot.leader;
	int slot = raft_slot_of(r, leader);

	RC_ASSERT(slot >= 0 && slot != r->self_slot);
	RC_ASSERT(ev->snapshot.index == 0 ||
		  (ev->snapshot.term >= 1 && ev->snapshot.term <= leader_term));
	if (!raft_snapshot_current(r, leader_term))
		return;
	if (r->role != RC_ROLE_FOLLOWER || r->term != leader_term || r->leader != leader)
		raft_become_follower(r, leader_term, leader);
	r->election_elapsed = 0;
	replication_on_snapshot(r, leader, ev->snapshot.index, ev->snapshot.term, u);
}

/*
 * The storage finished a write ending at (index, term): our durable index moves up unless that
 * entry was replaced meanwhile. A leader counts its own durable entries toward commit (§10.2.1).
 */
static void
raft_on_persisted(struct rc_raft *r, uint64_t index, uint64_t term, struct rc_raft_update *u)
{
	if (index <= r->persisted || index > r->last_index || index <= r->snap_index ||
	    rc_raft_term_at(r, index) != term)
		return;
	r->persisted = index;
	if (r->role == RC_ROLE_LEADER && replication_maybe_commit(r))
		replication_bcast_append(r, u);
}

/* Adds the committed, durable entries not yet handed out to the update's apply range. */
static void
raft_report_apply(struct rc_raft *r, struct rc_raft_update *u)
{
	uint64_t limit = r->commit < r->persisted ? r->commit : r->persisted;

	if (limit < r->apply_next)
		return;
	if (!(u->flags & RC_UPDATE_APPLY))
		u->apply_first = r->apply_next;
	u->apply_last = limit;
	u->flags |= RC_UPDATE_APPLY;
	r->apply_next = limit + 1;
}

/* Reports hard state, role, term and leader when they changed since the last report. */
static void
raft_report_state(struct rc_raft *r, struct rc_raft_update *u)
{
	u->hard_state.term = r->term;
	u->hard_state.vote = r->vote;
	u->hard_state.commit = r->commit;
	u->role = r->role;
	u->leader = r->leader;
	u->term = r->term;
	if (r->term != r->reported_term || r->vote != r->reported_vote) {
		u->flags |= RC_UPDATE_HARD_STATE;
		r->reported_term = r->term;
		r->reported_vote = r->vote;
	}
	if (r->role != r->reported_role || r->leader != r->reported_leader) {
		u->flags |= RC_UPDATE_ROLE;
		r->reported_role = r->role;
		r->reported_leader = r->leader;
	}
}

/* Feeds one event to the node; see raft.h for the caller's side of the contract. */
void
rc_raft_step(struct rc_raft *r, const struct rc_raft_event *ev, struct rc_raft_update *u)
{
	uint64_t term_before = r->term;

	RC_ASSERT(rc_raft_update_has_room(u));
	switch (ev->type) {
	case RC_EVENT_TICK:
		raft_tick(r, u);
		break;
	case RC_EVENT_RECEIVE:
		raft_receive(r, &ev->msg, u);
		break;
	case RC_EVENT_PROPOSE:
		replication_propose(r, ev->propose.entries, ev->propose.count, u);
		break;
	case RC_EVENT_PERSISTED:
		raft_on_persisted(r, ev->persisted.index, ev->persisted.term, u);
		break;
	case RC_EVENT_APPLIED:
		RC_ASSERT(ev->applied.index < r->apply_next);
		if (ev->applied.index > r->applied)
			r->applied = ev->applied.index;
		raft_log_maybe_compact(r);
		break;
	case RC_EVENT_CAMPAIGN:
		if (r->role != RC_ROLE_LEADER)
			raft_campaign(r, false, u);
		break;
	case RC_EVENT_READ_INDEX:
		read_on_request(r, ev->read.ctx, ev->read.flags, u);
		break;
	case RC_EVENT_SNAPSHOT:
		raft_on_snapshot(r, ev, u);
		break;
	default:
		RC_ASSERT(!"unknown event type");
	}
	RC_ASSERT(r->term >= term_before);
	RAFT_ASSERT_UNMUTATED(r->commit <= r->last_index && r->persisted <= r->last_index);
	RC_ASSERT(r->snap_index <= r->applied && r->applied < r->apply_next);
	if (r->term != term_before)
		u->flags |= RC_UPDATE_ROLE;
	read_advance(r, term_before, u);
	RC_ASSERT(r->read_count <= RC_READS_PENDING_MAX);
	RC_ASSERT(r->read_count == 0 || r->role == RC_ROLE_LEADER);
	raft_report_apply(r, u);
	raft_report_state(r, u);
}

/* Returns a short name of role for traces. */
const char *
rc_raft_role_name(uint8_t role)
{
	static const char *const names[] = { "follower", "pre-candidate", "candidate", "leader" };

	return role < 4 ? names[role] : "?";
}

/* Returns a short name of a message type for traces. */
const char *
rc_raft_msg_name(uint8_t type)
{
	static const char *const names[RC_MSG_TYPE_COUNT] = {
		"none",	  "vote",	 "vote-resp", "prevote",	"prevote-resp",
		"append", "append-resp", "heartbeat", "heartbeat-resp",
	};

	return type < RC_MSG_TYPE_COUNT ? names[type] : "?";
}
