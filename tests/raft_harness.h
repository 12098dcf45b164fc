/*
 * Test harness for the pure Raft core: nodes, their updates, and a small in-memory network that
 * runs the caller's loop of raft.h (write, send, PERSISTED, deliver) by hand. Static inline helpers
 * only; one test file includes it. Every helper asserts what it relies on, so a test that goes
 * wrong stops at the helper that noticed, with the node id in the message.
 */
#ifndef REPLICORE_TESTS_RAFT_HARNESS_H
#define REPLICORE_TESTS_RAFT_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <replicore/raft.h>

/* Timing every test uses unless it says otherwise: the paper's rules, not the extensions. */
#define H_ELECTION_TICKS 10u
#define H_HEARTBEAT_TICKS 1u

/* Messages and entries one round of the network holds, and the trace it keeps. */
#define H_QUEUE_MSGS_MAX 8192u
#define H_QUEUE_ENTRIES_MAX 65536u
#define H_TRACE_MSGS_MAX 4096u

/* Entries a stored log or an APPEND built by a test may have. */
#define H_LOG_ENTRIES_MAX 64u

struct h_net {
	struct rc_raft *r[RC_NODES_MAX + 1];	    /* by node id; NULL: not simulated (dropped) */
	struct rc_raft_update *u[RC_NODES_MAX + 1]; /* what the node's steps asked for so far */
	bool apply_seen[RC_NODES_MAX + 1];
	uint64_t apply_first[RC_NODES_MAX + 1]; /* apply_first of the first APPLY seen */
	uint64_t applied_to[RC_NODES_MAX + 1];	/* apply_last of the last APPLY seen */
	/* One round of messages in flight, with the entries they carry copied out of the cores. */
	uint32_t q_count;
	uint32_t q_entry_count;
	struct rc_raft_msg q[H_QUEUE_MSGS_MAX];
	struct rc_raft_entry q_entries[H_QUEUE_ENTRIES_MAX];
	/* Every message h_run() delivered or dropped, in order (entries not kept). */
	uint32_t trace_count;
	struct rc_raft_msg trace[H_TRACE_MSGS_MAX];
};

static inline struct h_net *
h_net_new(void)
{
	struct h_net *n = calloc(1, sizeof(*n));

	cr_assert_not_null(n, "out of memory");
	return n;
}

static inline void
h_net_free(struct h_net *n)
{
	uint16_t id;

	for (id = 0; id <= RC_NODES_MAX; id++) {
		free(n->r[id]);
		free(n->u[id]);
	}
	free(n);
}

/*
 * Fills cfg for node id of a cluster of voters 1..voter_count with the test timing: election in
 * [10, 20) ticks, a heartbeat every tick, no pre-vote, no check-quorum, a seed per node.
 */
static inline void
h_config(struct rc_raft_config *cfg, uint16_t id, uint16_t voter_count)
{
	uint16_t voters[RC_NODES_MAX];
	uint16_t i;

	cr_assert(voter_count >= 1 && voter_count <= RC_NODES_MAX, "bad cluster size %u",
		  voter_count);
	for (i = 0; i < voter_count; i++)
		voters[i] = (uint16_t)(i + 1);
	memset(cfg, 0, sizeof(*cfg));
	rc_raft_config_default(cfg, id, voters, voter_count);
	cr_assert_eq(cfg->id, id);
	cr_assert_eq(cfg->voter_count, voter_count);
	cfg->election_ticks = H_ELECTION_TICKS;
	cfg->heartbeat_ticks = H_HEARTBEAT_TICKS;
	cfg->pre_vote = false;
	cfg->check_quorum = false;
	cfg->seed = 0x5eed0000u + id;
}

/*
 * Adds node cfg->id with what its stable storage holds: hard state (term, vote, commit) and
 * entries 1..count of the given terms (entry i has ref i and i bytes). Returns the node.
 */
static inline struct rc_raft *
h_node_cfg(struct h_net *n, const struct rc_raft_config *cfg, uint64_t term, uint16_t vote,
	   uint64_t commit, const uint64_t *terms, uint64_t count)
{
	struct rc_raft_entry ents[H_LOG_ENTRIES_MAX];
	struct rc_raft_hard_state hs;
	uint16_t id = cfg->id;
	uint64_t i;
	int rc;

	cr_assert(id >= 1 && id <= RC_NODES_MAX, "node id %u out of the harness' range", id);
	cr_assert_null(n->r[id], "node %u added twice", id);
	cr_assert_leq(count, H_LOG_ENTRIES_MAX);
	memset(ents, 0, sizeof(ents));
	for (i = 0; i < count; i++) {
		ents[i].term = terms[i];
		ents[i].ref = i + 1;
		ents[i].bytes = (uint32_t)(i + 1);
		ents[i].type = RC_ENTRY_NORMAL;
	}
	memset(&hs, 0, sizeof(hs));
	hs.term = term;
	hs.vote = vote;
	hs.commit = commit;
	n->r[id] = calloc(1, sizeof(*n->r[id]));
	n->u[id] = calloc(1, sizeof(*n->u[id]));
	cr_assert(n->r[id] != NULL && n->u[id] != NULL, "out of memory");
	rc_raft_update_reset(n->u[id]);
	rc = rc_raft_init(n->r[id], cfg, &hs, count > 0 ? ents : NULL, 1, count);
	cr_assert_eq(rc, 0, "rc_raft_init of node %u: %d", id, rc);
	cr_assert_eq(n->r[id]->role, RC_ROLE_FOLLOWER);
	return n->r[id];
}

/* h_node_cfg() with h_config()'s configuration. */
static inline struct rc_raft *
h_node(struct h_net *n, uint16_t id, uint16_t voter_count, uint64_t term, uint16_t vote,
       uint64_t commit, const uint64_t *terms, uint64_t count)
{
	struct rc_raft_config cfg;

	h_config(&cfg, id, voter_count);
	return h_node_cfg(n, &cfg, term, vote, commit, terms, count);
}

/* The slot of node id in r's configuration. */
static inline uint16_t
h_slot(const struct rc_raft *r, uint16_t id)
{
	uint16_t i;

	for (i = 0; i < r->cfg.voter_count; i++)
		if (r->cfg.voters[i] == id)
			return i;
	cr_assert_fail("node %u is not a voter", id);
	return 0;
}

/* The progress node r, as leader, keeps of node id. */
static inline const struct rc_progress *
h_progress(const struct rc_raft *r, uint16_t id)
{
	return &r->progress[h_slot(r, id)];
}

/* A message of type from -> to in term, every other field zero. */
static inline struct rc_raft_msg
h_msg(uint8_t type, uint16_t from, uint16_t to, uint64_t term)
{
	struct rc_raft_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.from = from;
	m.to = to;
	m.term = term;
	return m;
}

/* Steps ev into node id's update, which must have room. */
static inline void
h_step(struct h_net *n, uint16_t id, const struct rc_raft_event *ev)
{
	cr_assert_not_null(n->r[id], "node %u is not simulated", id);
	cr_assert(rc_raft_update_has_room(n->u[id]), "node %u: update full", id);
	rc_raft_step(n->r[id], ev, n->u[id]);
}

/* Delivers m to node m->to. */
static inline void
h_recv(struct h_net *n, const struct rc_raft_msg *m)
{
	struct rc_raft_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = RC_EVENT_RECEIVE;
	ev.msg = *m;
	h_step(n, m->to, &ev);
}

static inline void
h_tick(struct h_net *n, uint16_t id, uint32_t ticks)
{
	struct rc_raft_event ev;
	uint32_t i;

	memset(&ev, 0, sizeof(ev));
	ev.type = RC_EVENT_TICK;
	for (i = 0; i < ticks; i++)
		h_step(n, id, &ev);
}

static inline void
h_campaign(struct h_net *n, uint16_t id)
{
	struct rc_raft_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = RC_EVENT_CAMPAIGN;
	h_step(n, id, &ev);
}

/* Proposes count entries of bytes each (ref 1000 + i); returns how many the core accepted. */
static inline uint32_t
h_propose(struct h_net *n, uint16_t id, uint32_t count, uint32_t bytes)
{
	struct rc_raft_entry ents[H_LOG_ENTRIES_MAX];
	struct rc_raft_event ev;
	uint32_t i;

	cr_assert_leq(count, H_LOG_ENTRIES_MAX);
	memset(ents, 0, sizeof(ents));
	for (i = 0; i < count; i++) {
		ents[i].ref = 1000 + i;
		ents[i].bytes = bytes;
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = RC_EVENT_PROPOSE;
	ev.propose.entries = ents;
	ev.propose.count = count;
	h_step(n, id, &ev);
	cr_assert(n->u[id]->flags & RC_UPDATE_PROPOSED, "node %u: PROPOSE not reported", id);
	return n->u[id]->propose_accepted;
}

/*
 * Empties node id's update. The APPLY range it reported is checked and remembered first:
 * committed entries are handed to the state machine once each, in log order, without gaps.
 */
static inline void
h_reset(struct h_net *n, uint16_t id)
{
	const struct rc_raft_update *u = n->u[id];

	if (u->flags & RC_UPDATE_APPLY) {
		cr_assert_leq(u->apply_first, u->apply_last, "node %u: empty APPLY range", id);
		cr_assert_leq(u->apply_last, n->r[id]->commit, "node %u: applies past commit", id);
		if (n->apply_seen[id])
			cr_assert_eq(u->apply_first, n->applied_to[id] + 1,
				     "node %u: APPLY %lu.. after ..%lu", id,
				     (unsigned long)u->apply_first,
				     (unsigned long)n->applied_to[id]);
		else
			n->apply_first[id] = u->apply_first;
		n->apply_seen[id] = true;
		n->applied_to[id] = u->apply_last;
	}
	rc_raft_update_reset(n->u[id]);
}

/*
 * Executes node id's update the way the runtime does once the write is durable: empties it
 * (h_reset()) and, when it asked for a write, steps RC_EVENT_PERSISTED with the last index and
 * term of its entry range (0, 0 when it wrote the hard state only). Messages of the old update
 * are dropped: take what you need first. Returns true when there was a write.
 */
static inline bool
h_persist(struct h_net *n, uint16_t id)
{
	const struct rc_raft_update *u = n->u[id];
	struct rc_raft_event ev;
	bool write = (u->flags & (RC_UPDATE_HARD_STATE | RC_UPDATE_ENTRIES)) != 0;

	memset(&ev, 0, sizeof(ev));
	ev.type = RC_EVENT_PERSISTED;
	if (u->flags & RC_UPDATE_ENTRIES) {
		cr_assert_leq(u->persist_first, u->persist_last, "node %u: bad write range", id);
		cr_assert_leq(u->persist_last, n->r[id]->last_index, "node %u: writes past log",
			      id);
		ev.persisted.index = u->persist_last;
		ev.persisted.term = rc_raft_term_at(n->r[id], u->persist_last);
	}
	h_reset(n, id);
	if (write)
		h_step(n, id, &ev);
	return write;
}

/* The first message of type to node `to` (0: to anyone) in msgs[0..count), or NULL. */
static inline const struct rc_raft_msg *
h_find_in(const struct rc_raft_msg *msgs, uint32_t count, uint8_t type, uint16_t to)
{
	uint32_t i;

	for (i = 0; i < count; i++)
		if (msgs[i].type == type && (to == 0 || msgs[i].to == to))
			return &msgs[i];
	return NULL;
}

/* How many messages of type to node `to` (0: to anyone) msgs[0..count) holds. */
static inline uint32_t
h_count_in(const struct rc_raft_msg *msgs, uint32_t count, uint8_t type, uint16_t to)
{
	uint32_t i, found = 0;

	for (i = 0; i < count; i++)
		if (msgs[i].type == type && (to == 0 || msgs[i].to == to))
			found++;
	return found;
}

/* In the messages to send now. */
static inline const struct rc_raft_msg *
h_find_now(const struct rc_raft_update *u, uint8_t type, uint16_t to)
{
	return h_find_in(u->msgs, u->msg_count, type, to);
}

/* In the messages to send once the update's writes are durable. */
static inline const struct rc_raft_msg *
h_find_after(const struct rc_raft_update *u, uint8_t type, uint16_t to)
{
	return h_find_in(u->msgs_after_persist, u->msg_after_persist_count, type, to);
}

/* In either list; now first. */
static inline const struct rc_raft_msg *
h_find_any(const struct rc_raft_update *u, uint8_t type, uint16_t to)
{
	const struct rc_raft_msg *m = h_find_now(u, type, to);

	return m != NULL ? m : h_find_after(u, type, to);
}

static inline uint32_t
h_count_now(const struct rc_raft_update *u, uint8_t type, uint16_t to)
{
	return h_count_in(u->msgs, u->msg_count, type, to);
}

static inline uint32_t
h_count_after(const struct rc_raft_update *u, uint8_t type, uint16_t to)
{
	return h_count_in(u->msgs_after_persist, u->msg_after_persist_count, type, to);
}

static inline uint32_t
h_count_any(const struct rc_raft_update *u, uint8_t type, uint16_t to)
{
	return h_count_now(u, type, to) + h_count_after(u, type, to);
}

/* The reply of a follower that accepted APPEND m: it matches up to m's last entry. */
static inline struct rc_raft_msg
h_ack(const struct rc_raft_msg *m)
{
	struct rc_raft_msg a = h_msg(RC_MSG_APPEND_RESP, m->to, m->from, m->term);

	cr_assert_eq(m->type, RC_MSG_APPEND, "acking a %s", rc_raft_msg_name(m->type));
	a.index = m->index + m->entry_count;
	return a;
}

/*
 * Elects node id: CAMPAIGN (through a granted pre-vote round when the node runs one), persist
 * the candidate's hard state, then grants from the other voters in order until it leads. The
 * request messages are dropped. On return the update holds the new leader's NOOP write and its
 * first APPENDs, not yet persisted.
 */
static inline struct rc_raft *
h_make_leader(struct h_net *n, uint16_t id)
{
	struct rc_raft *r = n->r[id];
	struct rc_raft_msg m;
	uint16_t i, peer;

	h_campaign(n, id);
	for (i = 0; i < r->cfg.voter_count && r->role == RC_ROLE_PRE_CANDIDATE; i++) {
		peer = r->cfg.voters[i];
		if (peer == id)
			continue;
		m = h_msg(RC_MSG_PREVOTE_RESP, peer, id, r->term + 1);
		h_recv(n, &m);
	}
	if (r->role == RC_ROLE_LEADER)
		return r;
	cr_assert_eq(r->role, RC_ROLE_CANDIDATE, "node %u: %s after CAMPAIGN", id,
		     rc_raft_role_name(r->role));
	h_persist(n, id);
	for (i = 0; i < r->cfg.voter_count && r->role == RC_ROLE_CANDIDATE; i++) {
		peer = r->cfg.voters[i];
		if (peer == id)
			continue;
		m = h_msg(RC_MSG_VOTE_RESP, peer, id, r->term);
		h_recv(n, &m);
	}
	cr_assert_eq(r->role, RC_ROLE_LEADER, "node %u: %s after a majority of votes", id,
		     rc_raft_role_name(r->role));
	return r;
}

/* Room for the acks h_collect_acks() makes. */
#define H_ACKS_MAX (RC_NODES_MAX * 8)

/*
 * Fills acks[H_ACKS_MAX] with the ack each follower in ack_mask (a bit per node id) would send
 * for the APPENDs in node id's update; returns how many.
 */
static inline uint32_t
h_collect_acks(const struct h_net *n, uint16_t id, uint32_t ack_mask, struct rc_raft_msg *acks)
{
	const struct rc_raft_update *u = n->u[id];
	uint32_t count = 0;

	for (uint32_t i = 0; i < u->msg_count; i++) {
		if (u->msgs[i].type != RC_MSG_APPEND || !(ack_mask & (1u << u->msgs[i].to)))
			continue;
		cr_assert_lt(count, H_ACKS_MAX);
		acks[count++] = h_ack(&u->msgs[i]);
	}
	return count;
}

/*
 * For a leader whose followers are not simulated: persists the leader's update and acks every
 * APPEND it held as if each follower took it (only those to followers in ack_mask, a bit per
 * node id; ~0u for all). Ends with an empty update.
 */
static inline void
h_ack_appends(struct h_net *n, uint16_t id, uint32_t ack_mask)
{
	struct rc_raft_msg acks[H_ACKS_MAX];
	uint32_t i, count = h_collect_acks(n, id, ack_mask, acks);

	h_persist(n, id);
	for (i = 0; i < count; i++)
		h_recv(n, &acks[i]);
	h_persist(n, id);
	h_reset(n, id);
}

/* Elects node id (followers not simulated) and commits its NOOP with acks from every follower. */
static inline struct rc_raft *
h_make_stable_leader(struct h_net *n, uint16_t id)
{
	struct rc_raft *r = h_make_leader(n, id);

	h_ack_appends(n, id, ~0u);
	cr_assert_eq(r->commit, r->last_index, "node %u: NOOP not committed with every ack", id);
	cr_assert_eq(rc_raft_term_at(r, r->commit), r->term);
	return r;
}

/* Copies msgs into this round's queue, with the entries they carry, and into the trace. */
static inline void
h_queue_take(struct h_net *n, const struct rc_raft_msg *msgs, uint32_t count)
{
	struct rc_raft_msg *m;
	uint32_t i, e;

	for (i = 0; i < count; i++) {
		cr_assert_lt(n->q_count, H_QUEUE_MSGS_MAX, "network queue full");
		m = &n->q[n->q_count++];
		*m = msgs[i];
		if (n->trace_count < H_TRACE_MSGS_MAX) {
			n->trace[n->trace_count] = *m;
			n->trace[n->trace_count].entries = NULL;
		}
		n->trace_count++;
		if (m->entry_count == 0) {
			m->entries = NULL;
			continue;
		}
		cr_assert_not_null(m->entries, "%s with entries but no pointer",
				   rc_raft_msg_name(m->type));
		cr_assert_leq(m->entry_count, H_QUEUE_ENTRIES_MAX - n->q_entry_count,
			      "network entry pool full");
		for (e = 0; e < m->entry_count; e++)
			n->q_entries[n->q_entry_count + e] = m->entries[e];
		m->entries = &n->q_entries[n->q_entry_count];
		n->q_entry_count += m->entry_count;
	}
}

/*
 * Runs the loop of raft.h for every simulated node until the cluster is quiet: each round, every
 * node's messages (now and after-persist: the harness' disk is instant) go to the queue, its
 * write is persisted, then the queue is delivered. Messages to nodes not simulated are dropped.
 * Asserts quiet within rounds_max rounds; returns the rounds used.
 */
static inline uint32_t
h_run(struct h_net *n, uint32_t rounds_max)
{
	uint32_t round, i;
	uint16_t id;
	bool busy;

	for (round = 0; round < rounds_max; round++) {
		busy = false;
		n->q_count = 0;
		n->q_entry_count = 0;
		for (id = 1; id <= RC_NODES_MAX; id++) {
			if (n->r[id] == NULL)
				continue;
			h_queue_take(n, n->u[id]->msgs, n->u[id]->msg_count);
			h_queue_take(n, n->u[id]->msgs_after_persist,
				     n->u[id]->msg_after_persist_count);
			if (h_persist(n, id))
				busy = true;
		}
		if (n->q_count == 0 && !busy)
			return round;
		for (i = 0; i < n->q_count; i++)
			if (n->q[i].to >= 1 && n->q[i].to <= RC_NODES_MAX &&
			    n->r[n->q[i].to] != NULL)
				h_recv(n, &n->q[i]);
	}
	cr_assert_fail("the cluster is not quiet after %u rounds", rounds_max);
	return rounds_max;
}

/* The i-th message of type from -> to in the trace (0-based), or NULL. */
static inline const struct rc_raft_msg *
h_trace_find(const struct h_net *n, uint8_t type, uint16_t from, uint16_t to, uint32_t nth)
{
	uint32_t i, count = n->trace_count < H_TRACE_MSGS_MAX ? n->trace_count : H_TRACE_MSGS_MAX;

	for (i = 0; i < count; i++) {
		const struct rc_raft_msg *m = &n->trace[i];

		if (m->type == type && m->from == from && m->to == to && nth-- == 0)
			return m;
	}
	return NULL;
}

/* Asserts that node r's log holds exactly the entries of terms[0..count) at 1..count. */
static inline void
h_expect_log(const struct rc_raft *r, const uint64_t *terms, uint64_t count, const char *what)
{
	uint64_t i;

	cr_expect_eq(r->last_index, count, "%s: last index %lu, want %lu", what,
		     (unsigned long)r->last_index, (unsigned long)count);
	for (i = 1; i <= count && i <= r->last_index; i++)
		cr_expect_eq(rc_raft_term_at(r, i), terms[i - 1],
			     "%s: term at %lu is %lu, want %lu", what, (unsigned long)i,
			     (unsigned long)rc_raft_term_at(r, i), (unsigned long)terms[i - 1]);
}

/* Asserts that two nodes hold the same log. */
static inline void
h_expect_same_log(const struct rc_raft *a, const struct rc_raft *b, const char *what)
{
	uint64_t i;

	cr_expect_eq(a->last_index, b->last_index, "%s: last index %lu vs %lu", what,
		     (unsigned long)a->last_index, (unsigned long)b->last_index);
	for (i = 1; i <= a->last_index && i <= b->last_index; i++)
		cr_expect_eq(rc_raft_term_at(a, i), rc_raft_term_at(b, i),
			     "%s: at %lu, term %lu vs %lu", what, (unsigned long)i,
			     (unsigned long)rc_raft_term_at(a, i),
			     (unsigned long)rc_raft_term_at(b, i));
}

#endif
