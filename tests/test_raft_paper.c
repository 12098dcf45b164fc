/*
 * The Raft paper's rules, one test each, named after the rule (Ongaro & Ousterhout, "In Search of
 * an Understandable Consensus Algorithm", extended version, Figure 2 and §5; the thesis for
 * pre-vote and check-quorum). Each test quotes the sentence it checks, builds the state the
 * sentence starts from through rc_raft_init()'s stored state, drives the core with events and
 * checks the update and the node's public fields. Scripted-trace comments read like the run:
 *
 *   [tick 10] 1: follower t1 -> candidate t2, vote 1, after-persist: VOTE 1>2, VOTE 1>3
 *
 * The core is driven directly: no simulator, no wire. Tests about the plain paper rule run with
 * pre-vote and check-quorum off (h_config()); the extensions have tests of their own.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include <replicore/raft.h>

#include "raft_harness.h"

#define E H_ELECTION_TICKS

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- §5.1: terms ---------------------------------------------------------------------------- */

/*
 * §5.1: "Current terms are exchanged whenever servers communicate; if one server's current term
 * is smaller than the other's, then it updates its current term to the larger value. If a
 * candidate or leader discovers that its term is out of date, it immediately reverts to follower
 * state."
 * Figure 2, Rules for All Servers: "If RPC request or response contains term T > currentTerm: set
 * currentTerm = T, convert to follower (§5.1)".
 *
 *   1: <role> tN  <- <any message> tN+1 from 2  => follower tN+1, hard state tN+1 to persist
 */
static void
check_update_term_from_message(uint8_t role)
{
	static const uint8_t types[] = {
		RC_MSG_APPEND,	    RC_MSG_HEARTBEAT, RC_MSG_VOTE,
		RC_MSG_APPEND_RESP, RC_MSG_VOTE_RESP, RC_MSG_HEARTBEAT_RESP,
	};
	static const uint64_t log[] = { 1 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		struct h_net *n = h_net_new();
		struct rc_raft *r = h_node(n, 1, 3, 1, 0, 0, log, 1);
		const struct rc_raft_update *u = n->u[1];
		const char *what = rc_raft_msg_name(types[i]);
		struct rc_raft_msg m;
		uint64_t term;

		if (role == RC_ROLE_CANDIDATE) {
			h_campaign(n, 1);
			h_persist(n, 1);
		} else if (role == RC_ROLE_LEADER) {
			h_make_leader(n, 1);
			h_persist(n, 1);
		}
		cr_assert_eq(r->role, role, "%s", what);
		h_reset(n, 1);
		term = r->term + 1;
		m = h_msg(types[i], 2, 1, term);
		if (types[i] == RC_MSG_APPEND) {
			m.index = 1;
			m.log_term = 1;
		} else if (types[i] == RC_MSG_VOTE) {
			m.index = r->last_index;
			m.log_term = rc_raft_term_at(r, r->last_index);
		}
		h_recv(n, &m);

		cr_expect_eq(r->term, term, "%s: term %lu, want %lu", what, (unsigned long)r->term,
			     (unsigned long)term);
		cr_expect_eq(r->role, RC_ROLE_FOLLOWER, "%s: role %s", what,
			     rc_raft_role_name(r->role));
		cr_expect(u->flags & RC_UPDATE_HARD_STATE, "%s: new term not persisted", what);
		cr_expect_eq(u->hard_state.term, term, "%s: hard state term", what);
		cr_expect(u->flags & RC_UPDATE_ROLE, "%s: term change not reported", what);
		cr_expect_eq(u->term, term, "%s: update term", what);
		cr_expect_eq(u->role, RC_ROLE_FOLLOWER, "%s: update role", what);
		if (types[i] == RC_MSG_APPEND || types[i] == RC_MSG_HEARTBEAT)
			cr_expect_eq(r->leader, 2, "%s: leader %u", what, r->leader);
		else
			cr_expect_eq(r->leader, 0, "%s: leader %u from a non-leader message", what,
				     r->leader);
		h_net_free(n);
	}
}

Test(raft_paper, follower_updates_term_from_message)
{
	check_update_term_from_message(RC_ROLE_FOLLOWER);
}

Test(raft_paper, candidate_updates_term_from_message)
{
	check_update_term_from_message(RC_ROLE_CANDIDATE);
}

Test(raft_paper, leader_updates_term_from_message)
{
	check_update_term_from_message(RC_ROLE_LEADER);
}

/*
 * §5.1: "If a server receives a request with a stale term number, it rejects the request."
 * Figure 2, AppendEntries and RequestVote receiver: "1. Reply false if term < currentTerm".
 *
 *   1: follower t2, log [1 1], commit 0  <- APPEND/HEARTBEAT/VOTE t1 from 2
 *      => nothing appended, committed, voted or recognised; any reply carries t2
 * With and without pre-vote and check-quorum (which answer a stale leader so it steps down).
 */
Test(raft_paper, rejects_stale_term_message)
{
	static const uint64_t log[] = { 1, 1 };
	static const struct rc_raft_entry entry = { .term = 1, .ref = 3, .bytes = 3 };
	static const uint8_t types[] = { RC_MSG_APPEND, RC_MSG_HEARTBEAT, RC_MSG_VOTE };
	char what[64];
	size_t i;
	uint32_t k;
	int extensions;

	for (extensions = 0; extensions <= 1; extensions++) {
		for (i = 0; i < ARRAY_SIZE(types); i++) {
			struct h_net *n = h_net_new();
			struct rc_raft_config cfg;
			struct rc_raft *r;
			const struct rc_raft_update *u = NULL;
			struct rc_raft_msg m = h_msg(types[i], 2, 1, 1);

			snprintf(what, sizeof(what), "%s%s", rc_raft_msg_name(types[i]),
				 extensions ? " (pre-vote, check-quorum)" : "");
			h_config(&cfg, 1, 3);
			cfg.pre_vote = extensions;
			cfg.check_quorum = extensions;
			r = h_node_cfg(n, &cfg, 2, 0, 0, log, 2);
			u = n->u[1];
			m.commit = 2;
			if (types[i] == RC_MSG_APPEND) {
				m.index = 2;
				m.log_term = 1;
				m.entries = &entry;
				m.entry_count = 1;
			} else if (types[i] == RC_MSG_VOTE) {
				m.index = 3;
				m.log_term = 1;
			}
			h_recv(n, &m);

			cr_expect_eq(r->term, 2, "%s: term changed to %lu", what,
				     (unsigned long)r->term);
			cr_expect_eq(r->role, RC_ROLE_FOLLOWER, "%s", what);
			cr_expect_eq(r->last_index, 2, "%s: stale entries appended", what);
			cr_expect_eq(r->commit, 0, "%s: stale commit taken", what);
			cr_expect_eq(r->vote, 0, "%s: voted in a stale term", what);
			cr_expect_eq(r->leader, 0, "%s: stale leader recognised", what);
			cr_expect(!(u->flags & RC_UPDATE_ENTRIES), "%s: write of stale entries",
				  what);
			for (k = 0; k < u->msg_count + u->msg_after_persist_count; k++) {
				const struct rc_raft_msg *out =
					k < u->msg_count ? &u->msgs[k] :
							   &u->msgs_after_persist[k - u->msg_count];

				cr_expect_eq(out->term, 2, "%s: reply %s in term %lu", what,
					     rc_raft_msg_name(out->type), (unsigned long)out->term);
				if (out->type == RC_MSG_VOTE_RESP)
					cr_expect(out->reject,
						  "%s: vote granted to a stale candidate", what);
			}
			h_net_free(n);
		}
	}
}

/*
 * Figure 2, Followers: "If election timeout elapses without receiving AppendEntries RPC from
 * current leader or granting vote to candidate: convert to candidate." A message of a stale term
 * is not from the current leader: it must not hold back the election, while a heartbeat of the
 * current term must.
 *
 *   1: follower t2 [tick timeout-1] <- HEARTBEAT t1 from 2 [tick] => candidate t3
 *   1: follower t2 [tick timeout-1] <- HEARTBEAT t2 from 2 [tick] => still follower t2
 */
Test(raft_paper, stale_term_message_does_not_reset_election_timer)
{
	uint64_t stale_term;

	for (stale_term = 1; stale_term <= 2; stale_term++) {
		struct h_net *n = h_net_new();
		struct rc_raft *r = h_node(n, 1, 3, 2, 0, 0, NULL, 0);
		uint32_t timeout = r->election_timeout;
		struct rc_raft_msg hb = h_msg(RC_MSG_HEARTBEAT, 2, 1, stale_term);

		h_tick(n, 1, timeout - 1);
		cr_assert_eq(r->role, RC_ROLE_FOLLOWER);
		h_recv(n, &hb);
		h_tick(n, 1, 1);
		if (stale_term == 1) {
			cr_expect_eq(r->role, RC_ROLE_CANDIDATE, "stale heartbeat reset the timer");
			cr_expect_eq(r->term, 3);
		} else {
			cr_expect_eq(r->role, RC_ROLE_FOLLOWER,
				     "leader's heartbeat did not reset it");
			cr_expect_eq(r->term, 2);
		}
		h_net_free(n);
	}
}

/* ---- §5.2: leader election ------------------------------------------------------------------- */

/*
 * §5.2: "When servers start up, they begin as followers."
 *
 *   new node                          => follower t0, no vote, no leader
 *   restart t5 vote 3, log [1 2 5]    => follower t5, vote 3 kept, log durable
 */
Test(raft_paper, starts_as_follower)
{
	static const uint64_t log[] = { 1, 2, 5 };
	struct h_net *n = h_net_new();
	struct rc_raft *fresh = h_node(n, 1, 3, 0, 0, 0, NULL, 0);
	struct rc_raft *restarted = h_node(n, 2, 3, 5, 3, 2, log, 3);

	cr_expect_eq(fresh->role, RC_ROLE_FOLLOWER);
	cr_expect_eq(fresh->term, 0);
	cr_expect_eq(fresh->vote, 0);
	cr_expect_eq(fresh->leader, 0);
	cr_expect_eq(fresh->last_index, 0);
	cr_expect_eq(fresh->commit, 0);
	cr_expect_eq(rc_raft_term_at(fresh, 0), 0);
	cr_expect_null(rc_raft_entry_at(fresh, 1));

	cr_expect_eq(restarted->role, RC_ROLE_FOLLOWER);
	cr_expect_eq(restarted->term, 5);
	cr_expect_eq(restarted->vote, 3, "the vote of the term survives a restart");
	cr_expect_eq(restarted->leader, 0);
	cr_expect_eq(restarted->last_index, 3);
	cr_expect_eq(restarted->persisted, 3, "entries read from storage are durable");
	cr_expect_leq(restarted->commit, 2);
	h_expect_log(restarted, log, 3, "restarted");
	cr_assert_not_null(rc_raft_entry_at(restarted, 2));
	cr_expect_eq(rc_raft_entry_at(restarted, 2)->ref, 2);
	cr_expect_eq(rc_raft_entry_at(restarted, 2)->bytes, 2);
	cr_expect_null(rc_raft_entry_at(restarted, 4));
	h_net_free(n);
}

/*
 * §5.2: "Leaders send periodic heartbeats (AppendEntries RPCs that carry no log entries) to all
 * followers in order to maintain their authority." Figure 2, Leaders: "repeat during idle periods
 * to prevent election timeouts". Heartbeats carry min(commit, the follower's match) (raft.h).
 *
 *   1: leader t1, heartbeat every 3 ticks, 2 matched the NOOP, 3 silent
 *   [tick 1, 2] nothing  [tick 3] HEARTBEAT 1>2 commit=1, 1>3 commit=0  [tick 4, 5] nothing
 *   [tick 6] again
 */
Test(raft_paper, leader_broadcasts_heartbeat)
{
	struct h_net *n = h_net_new();
	struct rc_raft_config cfg;
	struct rc_raft *r;
	const struct rc_raft_update *u;
	const struct rc_raft_msg *hb2, *hb3;
	uint32_t round, t;

	h_config(&cfg, 1, 3);
	cfg.heartbeat_ticks = 3;
	r = h_node_cfg(n, &cfg, 0, 0, 0, NULL, 0);
	u = n->u[1];
	h_make_leader(n, 1);
	h_ack_appends(n, 1, 1u << 2);
	cr_assert_eq(r->commit, 1, "NOOP committed by 1 and 2");

	for (round = 0; round < 2; round++) {
		for (t = 1; t < 3; t++) {
			h_tick(n, 1, 1);
			cr_expect_eq(h_count_any(u, RC_MSG_HEARTBEAT, 0), 0,
				     "round %u: heartbeat after %u of 3 ticks", round, t);
			h_reset(n, 1);
		}
		h_tick(n, 1, 1);
		cr_expect_eq(h_count_now(u, RC_MSG_HEARTBEAT, 2), 1, "round %u: to 2", round);
		cr_expect_eq(h_count_now(u, RC_MSG_HEARTBEAT, 3), 1, "round %u: to 3", round);
		cr_expect_eq(h_count_after(u, RC_MSG_HEARTBEAT, 0), 0,
			     "heartbeats wait for nothing");
		hb2 = h_find_now(u, RC_MSG_HEARTBEAT, 2);
		hb3 = h_find_now(u, RC_MSG_HEARTBEAT, 3);
		if (hb2 != NULL && hb3 != NULL) {
			cr_expect_eq(hb2->from, 1);
			cr_expect_eq(hb2->term, r->term);
			cr_expect_eq(hb2->entry_count, 0);
			cr_expect_eq(hb2->commit, 1, "2 matches the NOOP: commit 1");
			cr_expect_eq(hb3->term, r->term);
			cr_expect_eq(hb3->commit, 0, "3 matches nothing yet: commit 0");
		}
		cr_expect_eq(r->role, RC_ROLE_LEADER);
		h_reset(n, 1);
	}
	h_net_free(n);
}

/*
 * §5.2: "If a follower receives no communication over a period of time called the election
 * timeout, then it assumes there is no viable leader and begins an election to choose a new
 * leader. To begin an election, a follower increments its current term and transitions to
 * candidate state. It then votes for itself and issues RequestVote RPCs in parallel to each of
 * the other servers in the cluster."
 * Figure 2: "Persistent state on all servers: (Updated on stable storage before responding to
 * RPCs)": the requests wait until term and vote are durable.
 *
 *   1: follower t1, log [1 1]  [tick timeout-1] still follower
 *   [tick timeout] candidate t2, vote 1, hard state t2/1, after-persist: VOTE 1>2, 1>3 (2, t1)
 */
Test(raft_paper, follower_starts_election_after_timeout)
{
	static const uint64_t log[] = { 1, 1 };
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 3, 1, 0, 0, log, 2);
	const struct rc_raft_update *u = n->u[1];
	uint32_t timeout = r->election_timeout;
	uint16_t to;

	cr_assert(timeout >= E && timeout < 2 * E, "timeout %u outside [E, 2E)", timeout);
	h_tick(n, 1, timeout - 1);
	cr_expect_eq(r->role, RC_ROLE_FOLLOWER, "campaigned before the timeout");
	cr_expect_eq(r->term, 1);
	cr_expect_eq(h_count_any(u, RC_MSG_VOTE, 0), 0);
	h_reset(n, 1);

	h_tick(n, 1, 1);
	cr_expect_eq(r->role, RC_ROLE_CANDIDATE);
	cr_expect_eq(r->term, 2);
	cr_expect_eq(r->vote, 1, "votes for itself");
	cr_expect(u->flags & RC_UPDATE_HARD_STATE);
	cr_expect_eq(u->hard_state.term, 2);
	cr_expect_eq(u->hard_state.vote, 1);
	cr_expect(u->flags & RC_UPDATE_ROLE);
	cr_expect_eq(u->role, RC_ROLE_CANDIDATE);
	cr_expect_eq(h_count_now(u, RC_MSG_VOTE, 0), 0,
		     "VOTE sent before term and vote are durable");
	for (to = 2; to <= 3; to++) {
		const struct rc_raft_msg *m = h_find_after(u, RC_MSG_VOTE, to);

		cr_expect_eq(h_count_after(u, RC_MSG_VOTE, to), 1, "one VOTE to %u", to);
		if (m == NULL)
			continue;
		cr_expect_eq(m->from, 1);
		cr_expect_eq(m->term, 2);
		cr_expect_eq(m->index, 2, "candidate's last index");
		cr_expect_eq(m->log_term, 1, "candidate's last term");
	}
	cr_expect_eq(h_count_after(u, RC_MSG_VOTE, 1), 0, "no VOTE to itself");
	h_net_free(n);
}

/*
 * §5.2: "When this happens, each candidate will time out and start a new election by incrementing
 * its term and initiating another round of RequestVote RPCs." Figure 2, Candidates: "If election
 * timeout elapses: start new election".
 *
 *   1: candidate t2 (no answers)  [tick timeout-1] still t2  [tick] candidate t3, VOTE 1>2, 1>3 t3
 */
Test(raft_paper, candidate_starts_new_election_after_timeout)
{
	static const uint64_t log[] = { 1, 1 };
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 3, 1, 0, 0, log, 2);
	const struct rc_raft_update *u = n->u[1];
	uint32_t timeout;
	const struct rc_raft_msg *m;

	h_campaign(n, 1);
	h_persist(n, 1);
	cr_assert_eq(r->role, RC_ROLE_CANDIDATE);
	cr_assert_eq(r->term, 2);
	h_reset(n, 1);
	timeout = r->election_timeout;
	cr_assert(timeout >= E && timeout < 2 * E, "timeout %u outside [E, 2E)", timeout);

	h_tick(n, 1, timeout - 1);
	cr_expect_eq(r->role, RC_ROLE_CANDIDATE);
	cr_expect_eq(r->term, 2, "new election before the timeout");
	h_reset(n, 1);
	h_tick(n, 1, 1);
	cr_expect_eq(r->role, RC_ROLE_CANDIDATE);
	cr_expect_eq(r->term, 3);
	cr_expect_eq(r->vote, 1);
	cr_expect(u->flags & RC_UPDATE_HARD_STATE);
	cr_expect_eq(u->hard_state.term, 3);
	cr_expect_eq(u->hard_state.vote, 1);
	m = h_find_after(u, RC_MSG_VOTE, 2);
	cr_expect(m != NULL && m->term == 3, "VOTE for t3 to 2");
	m = h_find_after(u, RC_MSG_VOTE, 3);
	cr_expect(m != NULL && m->term == 3, "VOTE for t3 to 3");
	h_net_free(n);
}

/*
 * §5.2: "A candidate wins an election if it receives votes from a majority of the servers in the
 * full cluster for the same term." and "a candidate continues in this state until one of three
 * things happens: (a) it wins the election, (b) another server establishes itself as leader, or
 * (c) a period of time goes by with no winner."
 * Once a majority has refused, the election cannot be won: the candidate returns to follower in
 * the same term (as etcd-io/raft does; the paper would also let it wait for its timeout). Either
 * way it keeps its vote for the term.
 *
 *   1: CAMPAIGN t1, votes <row>  => leader | follower (lost) | candidate (pending)
 */
enum outcome {
	WON,
	LOST,
	PENDING
};

struct election_row {
	uint16_t size;
	uint16_t vote_count;
	struct {
		uint16_t from;
		bool granted;
	} votes[RC_NODES_MAX];
	enum outcome want;
};

static const struct election_row election_rows[] = {
	{ 1, 0, { { 0, false } }, WON },
	{ 2, 1, { { 2, true } }, WON },
	{ 3, 2, { { 2, true }, { 3, true } }, WON },
	{ 3, 1, { { 2, true } }, WON },
	{ 4, 2, { { 2, true }, { 3, true } }, WON },
	{ 5, 4, { { 2, true }, { 3, true }, { 4, true }, { 5, true } }, WON },
	{ 5, 3, { { 2, true }, { 3, true }, { 4, true } }, WON },
	{ 5, 2, { { 2, true }, { 3, true } }, WON },
	{ 5, 4, { { 2, false }, { 3, true }, { 4, false }, { 5, true } }, WON },
	{ 7, 3, { { 2, true }, { 3, true }, { 4, true } }, WON },
	{ 2, 1, { { 2, false } }, LOST },
	{ 3, 2, { { 2, false }, { 3, false } }, LOST },
	{ 4, 2, { { 2, false }, { 3, false } }, LOST },
	{ 5, 4, { { 2, false }, { 3, false }, { 4, false }, { 5, false } }, LOST },
	{ 5, 4, { { 2, true }, { 3, false }, { 4, false }, { 5, false } }, LOST },
	{ 5, 3, { { 2, false }, { 3, false }, { 4, false } }, LOST },
	{ 7, 4, { { 2, false }, { 3, false }, { 4, false }, { 5, false } }, LOST },
	{ 3, 0, { { 0, false } }, PENDING },
	{ 3, 1, { { 2, false } }, PENDING },
	{ 4, 1, { { 2, true } }, PENDING },
	{ 5, 1, { { 2, true } }, PENDING },
	{ 5, 2, { { 2, false }, { 3, false } }, PENDING },
	{ 5, 0, { { 0, false } }, PENDING },
	{ 5, 2, { { 2, true }, { 2, true } }, PENDING }, /* one voter counts once */
	{ 5, 3, { { 2, true }, { 2, true }, { 2, true } }, PENDING },
	{ 7, 2, { { 2, true }, { 3, true } }, PENDING },
	{ 7, 3, { { 2, false }, { 3, false }, { 4, false } }, PENDING },
};

Test(raft_paper, leader_election_in_one_round)
{
	size_t i;
	uint16_t v;

	for (i = 0; i < ARRAY_SIZE(election_rows); i++) {
		const struct election_row *row = &election_rows[i];
		struct h_net *n = h_net_new();
		struct rc_raft *r = h_node(n, 1, row->size, 0, 0, 0, NULL, 0);
		struct rc_raft_msg m;

		h_campaign(n, 1);
		h_persist(n, 1);
		for (v = 0; v < row->vote_count; v++) {
			m = h_msg(RC_MSG_VOTE_RESP, row->votes[v].from, 1, 1);
			m.reject = !row->votes[v].granted;
			h_recv(n, &m);
		}
		h_persist(n, 1);
		switch (row->want) {
		case WON:
			cr_expect_eq(r->role, RC_ROLE_LEADER, "row %zu: %s, want leader", i,
				     rc_raft_role_name(r->role));
			cr_expect_eq(r->leader, 1, "row %zu: knows itself as leader", i);
			break;
		case LOST:
			cr_expect_eq(r->role, RC_ROLE_FOLLOWER, "row %zu: %s, want follower (lost)",
				     i, rc_raft_role_name(r->role));
			break;
		case PENDING:
			cr_expect_eq(r->role, RC_ROLE_CANDIDATE, "row %zu: %s, want candidate", i,
				     rc_raft_role_name(r->role));
			break;
		}
		cr_expect_eq(r->term, 1, "row %zu: term %lu", i, (unsigned long)r->term);
		cr_expect_eq(r->vote, 1, "row %zu: vote of the term lost", i);
		h_net_free(n);
	}
}

/*
 * §5.2: "Each server will vote for at most one candidate in a given term, on a
 * first-come-first-served basis". Figure 2, RequestVote receiver: "If votedFor is null or
 * candidateId, and candidate's log is at least as up-to-date as receiver's log, grant vote".
 *
 *   1: follower t1 vote <row>  <- VOTE t1 from <row>  => grant | reject
 *   1: follower t1  <- VOTE from 2 => grant;  <- VOTE from 3 => reject;  <- VOTE from 2 => grant
 */
struct follower_vote_row {
	uint16_t vote;
	uint16_t candidate;
	bool reject;
};

static const struct follower_vote_row follower_vote_rows[] = {
	/* no vote in the term yet: the first candidate to ask gets it */
	{ 0, 2, false },
	{ 0, 3, false },
	/* the candidate it voted for asks again (a retransmission) */
	{ 2, 2, false },
	{ 3, 3, false },
	/* another candidate of the same term */
	{ 2, 3, true },
	{ 3, 2, true },
};

static const struct rc_raft_msg *
vote_reply(const struct rc_raft_update *u, uint16_t to, const char *what)
{
	const struct rc_raft_msg *m = h_find_any(u, RC_MSG_VOTE_RESP, to);

	cr_expect_eq(h_count_any(u, RC_MSG_VOTE_RESP, to), 1, "%s: one reply", what);
	cr_assert_not_null(m, "%s: no VOTE_RESP to %u", what, to);
	if (!m->reject)
		cr_expect_null(h_find_now(u, RC_MSG_VOTE_RESP, to),
			       "%s: grant sent before the vote is durable", what);
	return m;
}

Test(raft_paper, follower_votes_first_come_first_served)
{
	char what[64];
	size_t i;
	uint16_t c;

	for (i = 0; i < ARRAY_SIZE(follower_vote_rows); i++) {
		const struct follower_vote_row *row = &follower_vote_rows[i];
		struct h_net *n = h_net_new();
		struct rc_raft *r = h_node(n, 1, 3, 1, row->vote, 0, NULL, 0);
		struct rc_raft_msg m = h_msg(RC_MSG_VOTE, row->candidate, 1, 1);
		const struct rc_raft_msg *reply;

		snprintf(what, sizeof(what), "row %zu", i);
		h_recv(n, &m);
		reply = vote_reply(n->u[1], row->candidate, what);
		cr_expect_eq(reply->reject, row->reject, "%s: reject %u", what, reply->reject);
		cr_expect_eq(reply->term, 1, "%s", what);
		cr_expect_eq(reply->from, 1, "%s", what);
		cr_expect_eq(r->vote, row->vote != 0 ? row->vote : row->candidate, "%s: vote %u",
			     what, r->vote);
		cr_expect_eq(r->term, 1);
		h_net_free(n);
	}

	/* First come, first served, within one term and across the updates of it. */
	{
		static const uint16_t order[] = { 2, 3, 2 };
		static const bool reject[] = { false, true, false };
		struct h_net *n = h_net_new();
		struct rc_raft *r = h_node(n, 1, 3, 1, 0, 0, NULL, 0);

		for (c = 0; c < ARRAY_SIZE(order); c++) {
			struct rc_raft_msg m = h_msg(RC_MSG_VOTE, order[c], 1, 1);
			const struct rc_raft_msg *reply;

			snprintf(what, sizeof(what), "request %u from %u", c, order[c]);
			h_recv(n, &m);
			reply = vote_reply(n->u[1], order[c], what);
			cr_expect_eq(reply->reject, reject[c], "%s", what);
			cr_expect_eq(r->vote, 2, "%s", what);
			h_persist(n, 1);
		}
		h_net_free(n);
	}
}

/*
 * §5.2: "While waiting for votes, a candidate may receive an AppendEntries RPC from another server
 * claiming to be leader. If the leader's term (included in its RPC) is at least as large as the
 * candidate's current term, then the candidate recognizes the leader as legitimate and returns to
 * follower state. If the term in the RPC is smaller than the candidate's current term, then the
 * candidate rejects the RPC and continues in candidate state."
 *
 *   1: candidate t2  <- APPEND t2 | APPEND t3 | HEARTBEAT t2 from 2 => follower, leader 2
 *   1: candidate t2  <- APPEND t1 from 2                            => still candidate t2
 */
Test(raft_paper, candidate_falls_back_to_follower_on_append_from_leader)
{
	static const struct {
		uint8_t type;
		uint64_t term;
		uint8_t role;
		uint16_t leader;
	} rows[] = {
		{ RC_MSG_APPEND, 2, RC_ROLE_FOLLOWER, 2 },
		{ RC_MSG_APPEND, 3, RC_ROLE_FOLLOWER, 2 },
		{ RC_MSG_HEARTBEAT, 2, RC_ROLE_FOLLOWER, 2 },
		{ RC_MSG_APPEND, 1, RC_ROLE_CANDIDATE, 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct h_net *n = h_net_new();
		struct rc_raft *r = h_node(n, 1, 3, 1, 0, 0, NULL, 0);
		struct rc_raft_msg m = h_msg(rows[i].type, 2, 1, rows[i].term);

		h_campaign(n, 1);
		h_persist(n, 1);
		cr_assert_eq(r->role, RC_ROLE_CANDIDATE);
		cr_assert_eq(r->term, 2);
		h_recv(n, &m);
		cr_expect_eq(r->role, rows[i].role, "row %zu: %s", i, rc_raft_role_name(r->role));
		cr_expect_eq(r->term, rows[i].term > 2 ? rows[i].term : 2, "row %zu", i);
		cr_expect_eq(r->leader, rows[i].leader, "row %zu: leader %u", i, r->leader);
		h_net_free(n);
	}
}

/*
 * §5.2: "A candidate wins an election if it receives votes from a majority of the servers in the
 * full cluster for the same term."
 *
 *   1: candidate t2 of 3  <- VOTE_RESP grant t1 from 2 and 3 (answers to an older election)
 *      => still candidate;  <- VOTE_RESP grant t2 from 3  => leader
 */
Test(raft_paper, candidate_counts_only_votes_of_its_term)
{
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 3, 1, 0, 0, NULL, 0);
	struct rc_raft_msg m;
	uint16_t from;

	h_campaign(n, 1);
	h_persist(n, 1);
	cr_assert_eq(r->term, 2);
	for (from = 2; from <= 3; from++) {
		m = h_msg(RC_MSG_VOTE_RESP, from, 1, 1);
		h_recv(n, &m);
	}
	cr_expect_eq(r->role, RC_ROLE_CANDIDATE, "won with votes of term 1: %s",
		     rc_raft_role_name(r->role));
	m = h_msg(RC_MSG_VOTE_RESP, 3, 1, 2);
	h_recv(n, &m);
	cr_expect_eq(r->role, RC_ROLE_LEADER);
	cr_expect_eq(r->term, 2);
	h_net_free(n);
}

/*
 * Figure 2, Followers: "If election timeout elapses without receiving AppendEntries RPC from
 * current leader or granting vote to candidate: convert to candidate." Granting a vote restarts
 * the timer; refusing one does not.
 *
 *   1: follower t2, log [1]  [tick timeout-1]  <- VOTE t2 from 2, up to date  => grant
 *   [tick] still follower t2
 *   1: follower t2, log [1]  [tick timeout-1]  <- VOTE t2 from 2, log behind  => refuse
 *   [tick] candidate t3
 */
Test(raft_paper, follower_granting_vote_resets_election_timer)
{
	static const uint64_t log[] = { 1 };
	int grant;

	for (grant = 1; grant >= 0; grant--) {
		struct h_net *n = h_net_new();
		struct rc_raft *r = h_node(n, 1, 3, 2, 0, 0, log, 1);
		struct rc_raft_msg m = h_msg(RC_MSG_VOTE, 2, 1, 2);
		const struct rc_raft_msg *reply;

		m.index = grant ? 1 : 0;
		m.log_term = grant ? 1 : 0;
		h_tick(n, 1, r->election_timeout - 1);
		cr_assert_eq(r->role, RC_ROLE_FOLLOWER);
		h_recv(n, &m);
		reply = h_find_any(n->u[1], RC_MSG_VOTE_RESP, 2);
		cr_assert_not_null(reply);
		cr_assert_eq(reply->reject, !grant);
		h_tick(n, 1, 1);
		if (grant) {
			cr_expect_eq(r->role, RC_ROLE_FOLLOWER, "timer not restarted by the grant");
			cr_expect_eq(r->term, 2);
		} else {
			cr_expect_eq(r->role, RC_ROLE_CANDIDATE, "timer restarted by a refusal");
			cr_expect_eq(r->term, 3);
		}
		h_net_free(n);
	}
}

/*
 * §5.2: "Raft uses randomized election timeouts to ensure that split votes are rare and that they
 * are resolved quickly. To prevent split votes in the first place, election timeouts are chosen
 * randomly from a fixed interval". Figure 2, Candidates: "On conversion to candidate, start
 * election: ... Reset election timer". raft.h: in [election_ticks, 2*election_ticks).
 *
 * Three ways: across seeds; across the elections of one candidate; across the terms of one
 * follower that hears from a new leader each time. Every value of [E, 2E) occurs, none outside.
 */
static void
expect_every_timeout(const uint32_t *seen, const char *what)
{
	uint32_t t;

	for (t = 0; t < 2 * E + 2; t++) {
		if (t >= E && t < 2 * E)
			cr_expect_gt(seen[t], 0, "%s: timeout %u never drawn", what, t);
		else
			cr_expect_eq(seen[t], 0, "%s: timeout %u outside [E, 2E)", what, t);
	}
}

Test(raft_paper, election_timeouts_are_randomized)
{
	uint32_t seen[2 * E + 2];
	struct h_net *n;
	struct rc_raft *r;
	uint32_t round, t;
	uint64_t seed;

	/* Across seeds: the configuration's seed drives the draw. */
	memset(seen, 0, sizeof(seen));
	for (seed = 1; seed <= 500; seed++) {
		struct rc_raft_config cfg;

		n = h_net_new();
		h_config(&cfg, 1, 3);
		cfg.seed = seed * 0x9e3779b97f4a7c15ull;
		r = h_node_cfg(n, &cfg, 0, 0, 0, NULL, 0);
		seen[r->election_timeout < 2 * E + 1 ? r->election_timeout : 2 * E + 1]++;
		h_net_free(n);
	}
	expect_every_timeout(seen, "across seeds");

	/* One candidate's successive elections: ticks from one term to the next. */
	memset(seen, 0, sizeof(seen));
	n = h_net_new();
	r = h_node(n, 1, 3, 0, 0, 0, NULL, 0);
	for (round = 0; round < 50 * E; round++) {
		uint64_t term = r->term;

		for (t = 1; t <= 2 * E && r->term == term; t++) {
			h_tick(n, 1, 1);
			h_persist(n, 1);
		}
		cr_assert_eq(r->term, term + 1, "round %u: no election within 2E ticks", round);
		cr_assert_eq(r->role, RC_ROLE_CANDIDATE);
		seen[t - 1 < 2 * E + 1 ? t - 1 : 2 * E + 1]++;
	}
	expect_every_timeout(seen, "candidate");
	h_net_free(n);

	/* One follower, hearing from a new leader each round, then silence. */
	memset(seen, 0, sizeof(seen));
	n = h_net_new();
	r = h_node(n, 1, 3, 0, 0, 0, NULL, 0);
	for (round = 0; round < 50 * E; round++) {
		struct rc_raft_msg hb = h_msg(RC_MSG_HEARTBEAT, 2, 1, r->term + 1);
		uint64_t term;

		h_recv(n, &hb);
		h_persist(n, 1);
		cr_assert_eq(r->role, RC_ROLE_FOLLOWER);
		term = r->term;
		for (t = 1; t <= 2 * E && r->term == term; t++) {
			h_tick(n, 1, 1);
			h_persist(n, 1);
		}
		cr_assert_eq(r->role, RC_ROLE_CANDIDATE, "round %u: no election within 2E ticks",
			     round);
		seen[t - 1 < 2 * E + 1 ? t - 1 : 2 * E + 1]++;
	}
	expect_every_timeout(seen, "follower");
	h_net_free(n);
}

/*
 * §5.2: "This spreads out the servers so that in most cases only a single server will time out;
 * it wins the election and sends heartbeats before any other servers time out."
 * Five followers seeded apart hear from a leader, then silence: over 1000 rounds, the first tick
 * at which any of them times out has two or more timing out together at most 30% of the time
 * (with independent uniform draws over 10 values it is about 23%).
 */
Test(raft_paper, election_timeouts_rarely_collide_between_nodes)
{
	const uint16_t size = 5;
	struct h_net *n = h_net_new();
	uint32_t round, ticks, conflicts = 0, timed_out;
	uint64_t term = 0;
	uint16_t id;

	for (id = 1; id <= size; id++)
		h_node(n, id, size, 0, 0, 0, NULL, 0);
	for (round = 0; round < 1000; round++) {
		for (id = 1; id <= size; id++)
			if (n->r[id]->term > term)
				term = n->r[id]->term;
		term++;
		for (id = 1; id <= size; id++) {
			/* Each hears from some other node, leader of a new term. */
			struct rc_raft_msg hb = h_msg(RC_MSG_HEARTBEAT, id % size + 1, id, term);

			h_recv(n, &hb);
			h_persist(n, id);
			cr_assert_eq(n->r[id]->role, RC_ROLE_FOLLOWER);
		}
		timed_out = 0;
		for (ticks = 0; ticks < 2 * E && timed_out == 0; ticks++) {
			for (id = 1; id <= size; id++) {
				h_tick(n, id, 1);
				h_persist(n, id);
				if (n->r[id]->term > term)
					timed_out++;
			}
		}
		cr_assert_gt(timed_out, 0, "round %u: nobody timed out in 2E ticks", round);
		if (timed_out > 1)
			conflicts++;
	}
	cr_expect_leq(conflicts, 300, "%u of 1000 rounds had several nodes time out together",
		      conflicts);
	h_net_free(n);
}

/* ---- §5.3: log replication ------------------------------------------------------------------- */

/*
 * §5.3: "The leader appends the command to its log as a new entry, then issues AppendEntries RPCs
 * in parallel to each of the other servers to replicate the entry." and "When sending an
 * AppendEntries RPC, the leader includes the index and term of the entry in its log that
 * immediately precedes the new entries." raft.h: "the leader sends appends while its own write is
 * in flight".
 *
 *   1: leader t1, NOOP committed (li=1)  <- PROPOSE 1 entry (100 bytes)
 *   => log [1 1], write 2..2, APPEND 1>2 and 1>3 now: prev (1, t1), entry t1, commit 1
 */
Test(raft_paper, leader_starts_replication)
{
	struct h_net *n = h_net_new();
	struct rc_raft *r;
	const struct rc_raft_update *u = NULL;
	const struct rc_raft_entry *e;
	uint64_t li;
	uint16_t to;

	h_node(n, 1, 3, 0, 0, 0, NULL, 0);
	r = h_make_stable_leader(n, 1);
	u = n->u[1];
	li = r->last_index;
	cr_assert_eq(h_propose(n, 1, 1, 100), 1);

	cr_expect_eq(r->last_index, li + 1);
	cr_expect_eq(r->commit, li, "committed before anyone has it");
	cr_expect_eq(u->propose_first, li + 1);
	cr_expect_eq(u->propose_term, r->term);
	e = rc_raft_entry_at(r, li + 1);
	cr_assert_not_null(e);
	cr_expect_eq(e->term, r->term);
	cr_expect_eq(e->type, RC_ENTRY_NORMAL);
	cr_expect_eq(e->ref, 1000);
	cr_expect_eq(e->bytes, 100);
	cr_expect(u->flags & RC_UPDATE_ENTRIES, "the new entry is not written");
	cr_expect_eq(u->persist_first, li + 1);
	cr_expect_eq(u->persist_last, li + 1);
	for (to = 2; to <= 3; to++) {
		const struct rc_raft_msg *m = h_find_now(u, RC_MSG_APPEND, to);

		cr_expect_eq(h_count_now(u, RC_MSG_APPEND, to), 1, "one APPEND to %u", to);
		cr_assert_not_null(m, "no APPEND to %u", to);
		cr_expect_eq(m->from, 1);
		cr_expect_eq(m->term, r->term);
		cr_expect_eq(m->index, li, "prev index");
		cr_expect_eq(m->log_term, r->term, "prev term");
		cr_expect_eq(m->commit, li);
		cr_assert_eq(m->entry_count, 1);
		cr_expect_eq(m->entries[0].term, r->term);
		cr_expect_eq(m->entries[0].ref, 1000);
		cr_expect_eq(m->entries[0].bytes, 100);
	}
	cr_expect_eq(h_count_after(u, RC_MSG_APPEND, 0), 0, "appends wait for the leader's disk");
	h_net_free(n);
}

/*
 * §5.3: "A log entry is committed once the leader that created the entry has replicated it on a
 * majority of the servers" and "The leader keeps track of the highest index it knows to be
 * committed, and it includes that index in future AppendEntries RPCs (including heartbeats) so
 * that the other servers eventually find out."
 *
 *   1: leader t1, li=1  <- PROPOSE; persisted  <- APPEND_RESP 2 (index 2)
 *   => commit 2, APPLY ..2; HEARTBEAT 1>2 commit 2, 1>3 commit 1; next APPEND commit 2
 */
Test(raft_paper, leader_commits_entry_on_majority)
{
	struct h_net *n = h_net_new();
	struct rc_raft *r;
	const struct rc_raft_update *u;
	const struct rc_raft_msg *m;
	struct rc_raft_msg app2, ack;
	uint64_t li;

	h_node(n, 1, 3, 0, 0, 0, NULL, 0);
	r = h_make_stable_leader(n, 1);
	u = n->u[1];
	li = r->last_index;
	h_propose(n, 1, 1, 10);
	m = h_find_now(u, RC_MSG_APPEND, 2);
	cr_assert_not_null(m);
	app2 = *m;
	h_persist(n, 1);
	cr_expect_eq(r->commit, li, "only the leader has it");

	ack = h_ack(&app2);
	h_recv(n, &ack);
	cr_expect_eq(r->commit, li + 1, "leader and 2 are a majority of 3");
	cr_expect(u->flags & RC_UPDATE_APPLY, "committed entry not handed to the state machine");
	cr_expect_eq(u->apply_last, li + 1);
	h_persist(n, 1);
	h_reset(n, 1);

	h_tick(n, 1, H_HEARTBEAT_TICKS);
	m = h_find_now(u, RC_MSG_HEARTBEAT, 2);
	cr_expect(m != NULL && m->commit == li + 1, "heartbeat to 2 carries the new commit");
	m = h_find_now(u, RC_MSG_HEARTBEAT, 3);
	cr_expect(m != NULL && m->commit == li, "heartbeat to 3 carries min(commit, its match)");
	h_reset(n, 1);

	h_propose(n, 1, 1, 10);
	m = h_find_now(u, RC_MSG_APPEND, 2);
	cr_expect(m != NULL && m->commit == li + 1, "next append carries the new commit");
	h_net_free(n);
}

/*
 * §5.3: "A log entry is committed once the leader that created the entry has replicated it on a
 * majority of the servers". Figure 2, Leaders: "If there exists an N such that N > commitIndex,
 * a majority of matchIndex[i] >= N, and log[N].term == currentTerm: set commitIndex = N".
 *
 *   1: leader of <size>, entry li+1 durable on 1  <- acks from <row>  => committed iff majority
 */
struct ack_row {
	uint16_t size;
	uint32_t ackers; /* bit per node id */
	bool committed;
};

static const struct ack_row ack_rows[] = {
	{ 1, 0, true },
	{ 2, 0, false },
	{ 2, 1u << 2, true },
	{ 3, 0, false },
	{ 3, 1u << 2, true },
	{ 3, 1u << 3, true },
	{ 3, (1u << 2) | (1u << 3), true },
	{ 4, 1u << 2, false },
	{ 4, (1u << 2) | (1u << 4), true },
	{ 5, 0, false },
	{ 5, 1u << 2, false },
	{ 5, 1u << 5, false },
	{ 5, (1u << 2) | (1u << 3), true },
	{ 5, (1u << 4) | (1u << 5), true },
	{ 5, (1u << 2) | (1u << 3) | (1u << 4), true },
	{ 5, (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5), true },
	{ 6, (1u << 2) | (1u << 3), false },
	{ 6, (1u << 2) | (1u << 3) | (1u << 6), true },
	{ 7, (1u << 2) | (1u << 3), false },
	{ 7, (1u << 5) | (1u << 6) | (1u << 7), true },
};

Test(raft_paper, leader_acknowledges_commit)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ack_rows); i++) {
		struct h_net *n = h_net_new();
		struct rc_raft *r;
		uint64_t li;

		h_node(n, 1, ack_rows[i].size, 0, 0, 0, NULL, 0);
		r = h_make_stable_leader(n, 1);
		li = r->last_index;
		h_propose(n, 1, 1, 10);
		h_ack_appends(n, 1, ack_rows[i].ackers);
		cr_expect_eq(r->commit > li, ack_rows[i].committed,
			     "row %zu: %u voters: commit %lu", i, ack_rows[i].size,
			     (unsigned long)r->commit);
		cr_expect_leq(r->commit, li + 1);
		h_net_free(n);
	}
}

/*
 * §5.3: "This also commits all preceding entries in the leader's log, including entries created
 * by previous leaders." and "Once a follower learns that a log entry is committed, it applies the
 * entry to its local state machine (in log order)."
 *
 *   1: t2, log <row>, nothing committed; 2, 3 hold the same log
 *   CAMPAIGN t3, NOOP, PROPOSE; run  => commit li+2, APPLY 1..li+2 in order on the leader
 */
Test(raft_paper, leader_commits_preceding_entries)
{
	static const struct {
		uint64_t count;
		uint64_t terms[2];
	} rows[] = {
		{ 0, { 0 } },
		{ 1, { 2 } },
		{ 2, { 1, 2 } },
		{ 1, { 1 } },
	};
	size_t i;
	uint16_t id;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct h_net *n = h_net_new();
		uint64_t li = rows[i].count;
		struct rc_raft *r;
		const struct rc_raft_entry *e;

		for (id = 1; id <= 3; id++)
			h_node(n, id, 3, 2, 0, 0, rows[i].terms, li);
		r = h_make_leader(n, 1);
		cr_assert_eq(r->term, 3);
		cr_assert_eq(h_propose(n, 1, 1, 10), 1);
		h_run(n, 50);

		cr_expect_eq(r->last_index, li + 2, "row %zu", i);
		e = rc_raft_entry_at(r, li + 1);
		cr_expect(e != NULL && e->type == RC_ENTRY_NOOP && e->term == 3, "row %zu: NOOP",
			  i);
		e = rc_raft_entry_at(r, li + 2);
		cr_expect(e != NULL && e->type == RC_ENTRY_NORMAL && e->term == 3, "row %zu", i);
		cr_expect_eq(r->commit, li + 2, "row %zu: commit %lu", i, (unsigned long)r->commit);
		cr_expect(n->apply_seen[1], "row %zu: nothing applied", i);
		cr_expect_eq(n->apply_first[1], 1, "row %zu: applying starts at %lu", i,
			     (unsigned long)n->apply_first[1]);
		cr_expect_eq(n->applied_to[1], li + 2, "row %zu: applied to %lu", i,
			     (unsigned long)n->applied_to[1]);
		h_net_free(n);
	}
}

/*
 * §5.3: "Once a follower learns that a log entry is committed, it applies the entry to its local
 * state machine (in log order)." Figure 2, AppendEntries receiver: "5. If leaderCommit >
 * commitIndex, set commitIndex = min(leaderCommit, index of last new entry)". The last new
 * entry, not the last entry: what lies past it may still differ from the leader's log.
 *
 *   1: follower t1, log <row>  <- APPEND t1 from 2: prev <row>, entries <row>, commit <row>
 *   persist  => commit min(leader commit, last new), APPLY 1..commit in order
 */
Test(raft_paper, follower_commits_entry)
{
	static const struct {
		uint64_t stored; /* entries of term 1 already in the follower's log */
		uint64_t prev;
		uint32_t count;
		uint64_t leader_commit;
		uint64_t want;
	} rows[] = {
		{ 0, 0, 1, 1, 1 },
		{ 0, 0, 2, 2, 2 },
		{ 0, 0, 2, 1, 1 },
		{ 0, 0, 2, 5, 2 },
		{ 0, 0, 3, 0, 0 },
		/* the follower holds 1..3; the leader vouches for 1..2 only */
		{ 3, 1, 1, 3, 2 },
		{ 3, 1, 0, 3, 1 },
		{ 3, 3, 0, 3, 3 },
	};
	static const uint64_t stored_terms[] = { 1, 1, 1 };
	struct rc_raft_entry ents[3];
	size_t i;
	uint32_t k;

	for (k = 0; k < 3; k++) {
		memset(&ents[k], 0, sizeof(ents[k]));
		ents[k].term = 1;
		ents[k].ref = 100 + k;
		ents[k].bytes = 8;
	}
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct h_net *n = h_net_new();
		struct rc_raft *r = h_node(n, 1, 3, 1, 0, 0, stored_terms, rows[i].stored);
		struct rc_raft_msg m = h_msg(RC_MSG_APPEND, 2, 1, 1);
		uint64_t last = rows[i].prev + rows[i].count;

		m.index = rows[i].prev;
		m.log_term = rows[i].prev > 0 ? 1 : 0;
		m.entries = rows[i].count > 0 ? ents : NULL;
		m.entry_count = rows[i].count;
		m.commit = rows[i].leader_commit;
		h_recv(n, &m);
		h_persist(n, 1);
		h_reset(n, 1);

		cr_expect_eq(r->last_index, last > rows[i].stored ? last : rows[i].stored,
			     "row %zu", i);
		cr_expect_eq(r->commit, rows[i].want, "row %zu: commit %lu, want %lu", i,
			     (unsigned long)r->commit, (unsigned long)rows[i].want);
		if (rows[i].want == 0) {
			cr_expect_not(n->apply_seen[1], "row %zu: applied uncommitted entries", i);
			h_net_free(n);
			continue;
		}
		cr_expect(n->apply_seen[1], "row %zu: nothing applied", i);
		cr_expect_eq(n->apply_first[1], 1, "row %zu", i);
		cr_expect_eq(n->applied_to[1], rows[i].want, "row %zu: applied to %lu", i,
			     (unsigned long)n->applied_to[1]);
		h_net_free(n);
	}
}

/*
 * §5.3: "If the follower does not find an entry in its log with the same index and term, then it
 * refuses the new entries." Figure 2, AppendEntries receiver: "2. Reply false if log doesn't
 * contain an entry at prevLogIndex whose term matches prevLogTerm". raft.h: a refusal names the
 * refused prev index and hints the follower's last index whose term is <= the refused prev term.
 *
 *   1: follower t3, log <row>, commit 1  <- APPEND t3 from 2, prev <row>, no entries
 *   [1 2]:         prev (0,0), (1,t1), (2,t2)  => accept, index = highest known match
 *                  prev (2,t1)                 => reject index 2, hint (1, t1)
 *                  prev (3,t3)                 => reject index 3, hint (2, t2)
 *   [1 1 1 3 3 3]: prev (5,t2)                 => reject index 5, hint (3, t1): skips term 3
 *                  prev (9,t4)                 => reject index 9, hint (6, t3)
 *                  prev (6,t3)                 => accept 6
 */
Test(raft_paper, follower_checks_append_consistency)
{
	static const uint64_t short_log[] = { 1, 2 };
	static const uint64_t long_log[] = { 1, 1, 1, 3, 3, 3 };
	static const struct {
		const uint64_t *log;
		uint64_t log_count;
		uint64_t prev_term, prev_index;
		bool reject;
		uint64_t index, index_alt; /* accepted: either is right (see below) */
		uint64_t hint_index, hint_term;
	} rows[] = {
		/* prev 0 proves nothing past 0; index 1 is known to match too: it is committed */
		{ short_log, 2, 0, 0, false, 0, 1, 0, 0 },
		{ short_log, 2, 1, 1, false, 1, 1, 0, 0 },
		{ short_log, 2, 2, 2, false, 2, 2, 0, 0 },
		{ short_log, 2, 1, 2, true, 2, 2, 1, 1 },
		{ short_log, 2, 3, 3, true, 3, 3, 2, 2 },
		{ long_log, 6, 2, 5, true, 5, 5, 3, 1 },
		{ long_log, 6, 4, 9, true, 9, 9, 6, 3 },
		{ long_log, 6, 3, 6, false, 6, 6, 0, 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct h_net *n = h_net_new();
		struct rc_raft *r = h_node(n, 1, 3, 3, 0, 1, rows[i].log, rows[i].log_count);
		struct rc_raft_msg m = h_msg(RC_MSG_APPEND, 2, 1, 3);
		const struct rc_raft_msg *reply;

		m.index = rows[i].prev_index;
		m.log_term = rows[i].prev_term;
		m.commit = 1;
		h_recv(n, &m);
		cr_expect_eq(h_count_any(n->u[1], RC_MSG_APPEND_RESP, 2), 1, "row %zu: one reply",
			     i);
		reply = h_find_any(n->u[1], RC_MSG_APPEND_RESP, 2);
		cr_assert_not_null(reply, "row %zu: no reply", i);
		cr_expect_eq(reply->term, 3, "row %zu", i);
		cr_expect_eq(reply->reject, rows[i].reject, "row %zu: reject %u", i, reply->reject);
		cr_expect(reply->index == rows[i].index || reply->index == rows[i].index_alt,
			  "row %zu: index %lu", i, (unsigned long)reply->index);
		if (rows[i].reject) {
			cr_expect_eq(reply->hint_index, rows[i].hint_index,
				     "row %zu: hint index %lu", i,
				     (unsigned long)reply->hint_index);
			cr_expect_eq(reply->log_term, rows[i].hint_term, "row %zu: hint term %lu",
				     i, (unsigned long)reply->log_term);
		}
		h_expect_log(r, rows[i].log, rows[i].log_count, "log after the check");
		cr_expect_eq(r->leader, 2, "row %zu", i);
		h_net_free(n);
	}
}

/*
 * §5.3: "it includes that index in future AppendEntries RPCs (including heartbeats) so that the
 * other servers eventually find out." raft.h: a heartbeat's commit is already clamped to what the
 * follower matches.
 *
 *   1: follower t1, log [1 1 1], commit 0  <- HEARTBEAT t1 from 2, commit 2
 *   => commit 2, APPLY 1..2, leader 2, HEARTBEAT_RESP t1 to 2
 */
Test(raft_paper, follower_commits_from_heartbeat)
{
	static const uint64_t log[] = { 1, 1, 1 };
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 3, 1, 0, 0, log, 3);
	struct rc_raft_msg hb = h_msg(RC_MSG_HEARTBEAT, 2, 1, 1);
	const struct rc_raft_msg *reply;

	hb.commit = 2;
	h_recv(n, &hb);
	cr_expect_eq(r->commit, 2);
	cr_expect_eq(r->leader, 2);
	reply = h_find_any(n->u[1], RC_MSG_HEARTBEAT_RESP, 2);
	cr_assert_not_null(reply, "heartbeat not answered");
	cr_expect_eq(reply->term, 1);
	h_persist(n, 1);
	cr_expect(n->apply_seen[1]);
	cr_expect_eq(n->apply_first[1], 1);
	cr_expect_eq(n->applied_to[1], 2);

	/* A later heartbeat with a smaller commit (reordered) never moves it back. */
	hb.commit = 1;
	h_recv(n, &hb);
	cr_expect_eq(r->commit, 2);
	h_net_free(n);
}

/*
 * Figure 2, AppendEntries receiver: "3. If an existing entry conflicts with a new one (same index
 * but different terms), delete the existing entry and all that follow it (§5.3)" and "4. Append
 * any new entries not already in the log". §5.3: "conflicting entries in follower logs will be
 * overwritten with entries from the leader's log".
 *
 *   1: follower t2, log [1 2]  <- APPEND t4 from 2, prev <row>, entries <row>
 *   => log <row>, write exactly the new part (none when nothing is new)
 */
Test(raft_paper, follower_appends_and_truncates_conflicts)
{
	static const uint64_t log[] = { 1, 2 };
	static const struct {
		uint64_t prev_index, prev_term;
		uint32_t count;
		uint64_t terms[3];
		uint64_t want_count;
		uint64_t want[3];
		uint64_t write_first; /* 0: no write of entries */
	} rows[] = {
		{ 2, 2, 1, { 3 }, 3, { 1, 2, 3 }, 3 },
		{ 1, 1, 2, { 3, 4 }, 3, { 1, 3, 4 }, 2 },
		{ 0, 0, 1, { 1 }, 2, { 1, 2 }, 0 },
		{ 0, 0, 2, { 1, 2 }, 2, { 1, 2 }, 0 },
		{ 0, 0, 1, { 3 }, 1, { 3 }, 1 },
		{ 1, 1, 2, { 2, 4 }, 3, { 1, 2, 4 }, 3 },
		{ 0, 0, 3, { 1, 2, 4 }, 3, { 1, 2, 4 }, 3 },
	};
	struct rc_raft_entry ents[3];
	char what[32];
	size_t i;
	uint32_t k;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct h_net *n = h_net_new();
		struct rc_raft *r = h_node(n, 1, 3, 2, 0, 0, log, 2);
		const struct rc_raft_update *u = n->u[1];
		struct rc_raft_msg m = h_msg(RC_MSG_APPEND, 2, 1, 4);
		const struct rc_raft_msg *reply;

		snprintf(what, sizeof(what), "row %zu", i);
		memset(ents, 0, sizeof(ents));
		for (k = 0; k < rows[i].count; k++) {
			ents[k].term = rows[i].terms[k];
			ents[k].ref = 50 + k;
		}
		m.index = rows[i].prev_index;
		m.log_term = rows[i].prev_term;
		m.entries = ents;
		m.entry_count = rows[i].count;
		h_recv(n, &m);

		h_expect_log(r, rows[i].want, rows[i].want_count, what);
		if (rows[i].write_first == 0) {
			cr_expect(!(u->flags & RC_UPDATE_ENTRIES), "%s: rewrites entries it has",
				  what);
		} else {
			cr_expect(u->flags & RC_UPDATE_ENTRIES, "%s: new entries not written",
				  what);
			cr_expect_eq(u->persist_first, rows[i].write_first, "%s: write from %lu",
				     what, (unsigned long)u->persist_first);
			cr_expect_eq(u->persist_last, rows[i].want_count, "%s: write to %lu", what,
				     (unsigned long)u->persist_last);
		}
		reply = h_find_any(u, RC_MSG_APPEND_RESP, 2);
		cr_assert_not_null(reply, "%s: no reply", what);
		cr_expect_not(reply->reject, "%s", what);
		cr_expect_eq(reply->index, rows[i].prev_index + rows[i].count, "%s: acked %lu",
			     what, (unsigned long)reply->index);
		h_persist(n, 1);
		cr_expect_eq(r->persisted, r->last_index, "%s: persisted %lu", what,
			     (unsigned long)r->persisted);
		h_net_free(n);
	}
}

/*
 * §5.3: "In Raft, the leader handles inconsistencies by forcing the followers' logs to duplicate
 * its own." and Figure 7: "When the leader at the top comes to power, it is possible that any of
 * scenarios (a-f) could occur in follower logs."
 * The leader of term 8 (log 1 1 1 4 4 5 5 6 6 6) is elected in term 9 with node 3's vote and
 * proposes one entry; leader and follower exchange messages until quiet: the follower's log is
 * the leader's, whether it was missing entries (a, b, e), had extra ones (c, d) or both (e, f).
 */
Test(raft_paper, leader_syncs_divergent_follower_log)
{
	static const uint64_t leader_log[] = { 1, 1, 1, 4, 4, 5, 5, 6, 6, 6 };
	static const struct {
		const char *name;
		uint64_t count;
		uint64_t terms[12];
	} followers[] = {
		{ "a", 9, { 1, 1, 1, 4, 4, 5, 5, 6, 6 } },
		{ "b", 4, { 1, 1, 1, 4 } },
		{ "c", 11, { 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6 } },
		{ "d", 12, { 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7 } },
		{ "e", 7, { 1, 1, 1, 4, 4, 4, 4 } },
		{ "f", 11, { 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3 } },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(followers); i++) {
		struct h_net *n = h_net_new();
		struct rc_raft *lead = h_node(n, 1, 3, 8, 0, 10, leader_log, 10);
		struct rc_raft *follower = h_node(n, 2, 3, 7, 0, 0, followers[i].terms,
						  followers[i].count);
		char what[32];

		snprintf(what, sizeof(what), "follower (%s)", followers[i].name);
		/* Node 3 is not simulated: its vote is given by hand, its messages are dropped. */
		h_make_leader(n, 1);
		cr_assert_eq(lead->term, 9);
		cr_assert_eq(h_propose(n, 1, 1, 10), 1);
		h_run(n, 100);

		h_expect_same_log(lead, follower, what);
		cr_expect_eq(lead->last_index, 12, "%s: NOOP and proposal", what);
		cr_expect_eq(rc_raft_term_at(follower, 12), 9, "%s", what);
		cr_expect_eq(follower->persisted, follower->last_index, "%s", what);
		cr_expect_eq(lead->commit, 12, "%s: leader and follower are a majority", what);
		cr_expect_eq(follower->term, 9, "%s", what);
		cr_expect_eq(follower->leader, 1, "%s", what);
		h_net_free(n);
	}
}

/* ---- §5.4: safety ---------------------------------------------------------------------------- */

/*
 * §5.4.1: "Raft determines which of two logs is more up-to-date by comparing the index and term of
 * the last entries in the logs. If the logs have last entries with different terms, then the log
 * with the later term is more up-to-date. If the logs end with the same term, then whichever log
 * is longer is more up-to-date." and "the voter denies its vote if its own log is more up-to-date
 * than that of the candidate."
 *
 *   1: follower, log <row>  <- VOTE t3 from 2, last (index, term) <row>  => grant | reject
 */
Test(raft_paper, votes_only_for_up_to_date_candidates)
{
	static const struct {
		uint64_t count;
		uint64_t terms[2];
		uint64_t last_term, last_index;
		bool reject;
	} rows[] = {
		/* same last term: the longer log wins, a tie is up to date */
		{ 1, { 1 }, 1, 1, false },
		{ 1, { 1 }, 1, 2, false },
		{ 2, { 1, 1 }, 1, 1, true },
		/* candidate's last term later: up to date whatever the length */
		{ 1, { 1 }, 2, 1, false },
		{ 1, { 1 }, 2, 2, false },
		{ 2, { 1, 1 }, 2, 1, false },
		/* voter's last term later: refused whatever the length */
		{ 1, { 2 }, 1, 1, true },
		{ 1, { 2 }, 1, 2, true },
		{ 2, { 2, 2 }, 1, 1, true },
		{ 2, { 1, 2 }, 1, 3, true },
		/* empty logs */
		{ 0, { 0 }, 0, 0, false },
		{ 1, { 1 }, 0, 0, true },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct h_net *n = h_net_new();
		uint64_t term = rows[i].count > 0 ? rows[i].terms[rows[i].count - 1] : 0;
		struct rc_raft *r = h_node(n, 1, 2, term, 0, 0, rows[i].terms, rows[i].count);
		struct rc_raft_msg m = h_msg(RC_MSG_VOTE, 2, 1, 3);
		const struct rc_raft_msg *reply;

		m.index = rows[i].last_index;
		m.log_term = rows[i].last_term;
		h_recv(n, &m);
		cr_expect_eq(h_count_any(n->u[1], RC_MSG_VOTE_RESP, 2), 1, "row %zu: one reply", i);
		reply = h_find_any(n->u[1], RC_MSG_VOTE_RESP, 2);
		cr_assert_not_null(reply, "row %zu: no reply", i);
		cr_expect_eq(reply->reject, rows[i].reject, "row %zu: reject %u", i, reply->reject);
		cr_expect_eq(reply->term, 3, "row %zu", i);
		cr_expect_eq(r->term, 3, "row %zu", i);
		cr_expect_eq(r->vote, rows[i].reject ? 0 : 2, "row %zu: vote %u", i, r->vote);
		h_net_free(n);
	}
}

/*
 * §5.4.2: "Raft never commits log entries from previous terms by counting replicas. Only log
 * entries from the leader's current term are committed by counting replicas; once an entry from
 * the current term has been committed in this way, then all prior entries are committed
 * indirectly because of the Log Matching Property." (Figure 8.)
 *
 *   1: t2, log [1 2], of {1, 2}; CAMPAIGN t3 => NOOP at 3; PROPOSE => 4; all durable on 1
 *   <- APPEND_RESP from 2, index 1 | 2  => commit 0 (old terms)
 *   <- index 3 | 4                      => commit 3 | 4 (current term, and 1..2 with it)
 */
Test(raft_paper, leader_only_commits_current_term_entries_by_counting)
{
	static const uint64_t log[] = { 1, 2 };
	static const struct {
		uint64_t acked;
		uint64_t want;
	} rows[] = {
		{ 1, 0 },
		{ 2, 0 },
		{ 3, 3 },
		{ 4, 4 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct h_net *n = h_net_new();
		struct rc_raft *r = h_node(n, 1, 2, 2, 0, 0, log, 2);
		struct rc_raft_msg ack;

		h_make_leader(n, 1);
		cr_assert_eq(r->term, 3);
		h_persist(n, 1);
		h_propose(n, 1, 1, 10);
		h_persist(n, 1);
		cr_assert_eq(r->persisted, 4);
		cr_assert_eq(r->commit, 0);

		ack = h_msg(RC_MSG_APPEND_RESP, 2, 1, 3);
		ack.index = rows[i].acked;
		h_recv(n, &ack);
		h_persist(n, 1);
		cr_expect_eq(r->commit, rows[i].want, "row %zu: 2 acked %lu: commit %lu", i,
			     (unsigned long)rows[i].acked, (unsigned long)r->commit);
		h_net_free(n);
	}
}

/*
 * Figure 8 with five servers, the way the paper draws it: S1 leads term 4 after an entry of term 2
 * reached S1, S2 and S3 (a majority). It must not commit that entry by counting; once its own
 * term-4 entry reaches the same majority, both commit.
 *
 *   1: t3, log [1 2], of 5  CAMPAIGN t4 => NOOP at 3
 *   <- acks index 2 from 2 and 3   => commit 0
 *   <- acks index 3 from 2 and 3   => commit 3
 */
Test(raft_paper, leader_does_not_commit_old_term_entry_on_majority)
{
	static const uint64_t log[] = { 1, 2 };
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 5, 3, 0, 0, log, 2);
	struct rc_raft_msg ack;
	uint16_t from;

	h_make_leader(n, 1);
	cr_assert_eq(r->term, 4);
	h_persist(n, 1);
	for (from = 2; from <= 3; from++) {
		ack = h_msg(RC_MSG_APPEND_RESP, from, 1, 4);
		ack.index = 2;
		h_recv(n, &ack);
	}
	cr_expect_eq(r->commit, 0, "entry of term 2 committed by counting in term 4");
	for (from = 2; from <= 3; from++) {
		ack = h_msg(RC_MSG_APPEND_RESP, from, 1, 4);
		ack.index = 3;
		h_recv(n, &ack);
	}
	cr_expect_eq(r->commit, 3, "the term-4 NOOP on a majority commits it and all before");
	h_net_free(n);
}

/* ---- §8 and the thesis: the parts the paper leaves to implementations ------------------------ */

/*
 * §8: "Raft handles this by having each leader commit a blank no-op entry into the log at the
 * start of its term." Figure 2, Leaders: "Upon election: send initial empty AppendEntries RPCs
 * (heartbeat) to each server".
 *
 *   1: t1, log [1 1]  CAMPAIGN t2, votes  => NOOP t2 at 3, write 3..3, APPEND 1>2, 1>3 now:
 *      prev (2, t1), entries [NOOP t2]
 */
Test(raft_paper, no_op_entry_appended_on_election)
{
	static const uint64_t log[] = { 1, 1 };
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 3, 1, 0, 0, log, 2);
	const struct rc_raft_update *u = n->u[1];
	const struct rc_raft_entry *e;
	uint16_t to;

	h_make_leader(n, 1);
	cr_expect_eq(r->term, 2);
	cr_expect_eq(r->leader, 1);
	cr_expect_eq(r->last_index, 3);
	e = rc_raft_entry_at(r, 3);
	cr_assert_not_null(e);
	cr_expect_eq(e->type, RC_ENTRY_NOOP);
	cr_expect_eq(e->term, 2);
	cr_expect_eq(e->bytes, 0);
	cr_expect(u->flags & RC_UPDATE_ENTRIES, "NOOP not written");
	cr_expect_eq(u->persist_first, 3);
	cr_expect_eq(u->persist_last, 3);
	cr_expect(u->flags & RC_UPDATE_ROLE);
	cr_expect_eq(u->role, RC_ROLE_LEADER);
	cr_expect_eq(u->leader, 1);
	for (to = 2; to <= 3; to++) {
		const struct rc_raft_msg *m = h_find_now(u, RC_MSG_APPEND, to);

		cr_assert_not_null(m, "no APPEND to %u", to);
		cr_expect_eq(m->term, 2);
		cr_expect_eq(m->index, 2, "prev index");
		cr_expect_eq(m->log_term, 1, "prev term");
		cr_assert_geq(m->entry_count, 1);
		cr_expect_eq(m->entries[0].type, RC_ENTRY_NOOP);
		cr_expect_eq(m->entries[0].term, 2);
	}
	cr_expect_eq(r->commit, 0, "NOOP committed before anyone has it");
	h_net_free(n);
}

/*
 * Figure 2: "Persistent state on all servers: (Updated on stable storage before responding to
 * RPCs)". raft.h: votes leave in msgs_after_persist, with the hard state that promises them.
 *
 *   1: follower t1  <- VOTE t2 from 2  => hard state t2 vote 2; VOTE_RESP grant after persist only
 */
Test(raft_paper, vote_responses_wait_for_persistence)
{
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 3, 1, 0, 0, NULL, 0);
	const struct rc_raft_update *u = n->u[1];
	struct rc_raft_msg m = h_msg(RC_MSG_VOTE, 2, 1, 2);
	const struct rc_raft_msg *reply;

	h_recv(n, &m);
	cr_expect_eq(r->vote, 2);
	cr_expect(u->flags & RC_UPDATE_HARD_STATE, "vote not persisted");
	cr_expect_eq(u->hard_state.term, 2);
	cr_expect_eq(u->hard_state.vote, 2);
	cr_expect_null(h_find_now(u, RC_MSG_VOTE_RESP, 2), "grant sent before the vote is durable");
	reply = h_find_after(u, RC_MSG_VOTE_RESP, 2);
	cr_assert_not_null(reply, "no grant after persist");
	cr_expect_not(reply->reject);
	cr_expect_eq(reply->term, 2);

	/* A candidate's own requests wait for its new term and self-vote the same way. */
	h_persist(n, 1);
	h_reset(n, 1);
	h_campaign(n, 1);
	cr_expect(u->flags & RC_UPDATE_HARD_STATE);
	cr_expect_eq(h_count_now(u, RC_MSG_VOTE, 0), 0,
		     "VOTE sent before term and vote are durable");
	cr_expect_eq(h_count_after(u, RC_MSG_VOTE, 0), 2);
	h_net_free(n);
}

/*
 * Figure 2: "(Updated on stable storage before responding to RPCs)"; DESIGN.md §3: "followers
 * acknowledge only durable entries".
 *
 *   1: follower t1  <- APPEND t1 from 2, entries t1 t1  => write 1..2; ack index 2 after persist
 *   only; persisted 0 until PERSISTED, then 2
 */
Test(raft_paper, append_acks_wait_for_persistence)
{
	static const struct rc_raft_entry ents[2] = {
		{ .term = 1, .ref = 1, .bytes = 4 },
		{ .term = 1, .ref = 2, .bytes = 4 },
	};
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 3, 1, 0, 0, NULL, 0);
	const struct rc_raft_update *u = n->u[1];
	struct rc_raft_msg m = h_msg(RC_MSG_APPEND, 2, 1, 1);
	const struct rc_raft_msg *ack;

	m.entries = ents;
	m.entry_count = 2;
	h_recv(n, &m);
	cr_expect_eq(r->last_index, 2);
	cr_expect_eq(r->persisted, 0, "entries durable before the write");
	cr_expect(u->flags & RC_UPDATE_ENTRIES);
	cr_expect_eq(u->persist_first, 1);
	cr_expect_eq(u->persist_last, 2);
	cr_expect_eq(h_count_now(u, RC_MSG_APPEND_RESP, 0), 0, "ack sent before the write");
	ack = h_find_after(u, RC_MSG_APPEND_RESP, 2);
	cr_assert_not_null(ack, "no ack after persist");
	cr_expect_not(ack->reject);
	cr_expect_eq(ack->index, 2);
	h_persist(n, 1);
	cr_expect_eq(r->persisted, 2);
	h_net_free(n);
}

/*
 * DESIGN.md §3: "The leader counts itself toward the quorum only once its own write is durable."
 * (Thesis §10.2.1 lets the leader write in parallel with replication; followers that hold the
 * entry durably may commit it without the leader.)
 *
 *   1: leader t1 of 5, NOOP at 1 not yet durable on 1
 *   <- acks from 2, 3   => commit 0 (1 has not written it: 2 of 5)
 *   PERSISTED (1, t1)   => persisted 1, own match 1, commit 1
 *   and with acks from 2, 3, 4 => commit 1 without the leader's write
 */
Test(raft_paper, leader_counts_itself_only_when_durable)
{
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 5, 0, 0, 0, NULL, 0);
	const struct rc_raft_update *u = n->u[1];
	struct rc_raft_event ev;
	struct rc_raft_msg ack;
	uint16_t from;

	h_make_leader(n, 1);
	cr_assert_eq(r->last_index, 1);
	cr_assert(u->flags & RC_UPDATE_ENTRIES);
	cr_expect_eq(r->persisted, 0);
	for (from = 2; from <= 3; from++) {
		ack = h_msg(RC_MSG_APPEND_RESP, from, 1, 1);
		ack.index = 1;
		h_recv(n, &ack);
	}
	cr_expect_eq(r->commit, 0, "leader counted a write that is not durable");
	cr_expect_lt(h_progress(r, 1)->match, 1, "leader's own match ahead of its disk");

	memset(&ev, 0, sizeof(ev));
	ev.type = RC_EVENT_PERSISTED;
	ev.persisted.index = 1;
	ev.persisted.term = 1;
	h_reset(n, 1);
	h_step(n, 1, &ev);
	cr_expect_eq(r->persisted, 1);
	cr_expect_eq(h_progress(r, 1)->match, 1, "leader's own match is its persisted index");
	cr_expect_eq(r->commit, 1, "durable on 1, 2, 3 of 5");
	h_net_free(n);

	n = h_net_new();
	r = h_node(n, 1, 5, 0, 0, 0, NULL, 0);
	h_make_leader(n, 1);
	for (from = 2; from <= 4; from++) {
		ack = h_msg(RC_MSG_APPEND_RESP, from, 1, 1);
		ack.index = 1;
		h_recv(n, &ack);
	}
	cr_expect_eq(r->commit, 1, "three followers of five hold it durably");
	h_net_free(n);
}

/*
 * Thesis §9.6: "In the PreVote algorithm, a candidate only increments its term if it first learns
 * from a majority of the cluster that they would be willing to grant the candidate their votes".
 *
 *   1: follower t1, log [1], pre-vote  [ticks] => pre-candidate t1, vote 0, PREVOTE t2 (1, t1) now
 *   <- PREVOTE_RESP grant t2 from 2  => candidate t2, vote 1, VOTE after persist
 *   2: follower t1  <- PREVOTE t2 from 1  => grants, stays t1 with no vote
 */
Test(raft_paper, pre_vote_does_not_raise_term)
{
	static const uint64_t log[] = { 1 };
	struct h_net *n = h_net_new();
	struct rc_raft_config cfg;
	struct rc_raft *r, *voter;
	const struct rc_raft_update *u;
	const struct rc_raft_msg *m;
	struct rc_raft_msg grant, req;
	uint32_t t;
	uint16_t to;

	h_config(&cfg, 1, 3);
	cfg.pre_vote = true;
	r = h_node_cfg(n, &cfg, 1, 0, 0, log, 1);
	h_config(&cfg, 2, 3);
	cfg.pre_vote = true;
	voter = h_node_cfg(n, &cfg, 1, 0, 0, log, 1);
	u = n->u[1];

	for (t = 0; t < 2 * E && r->role == RC_ROLE_FOLLOWER; t++)
		h_tick(n, 1, 1);
	cr_assert_eq(r->role, RC_ROLE_PRE_CANDIDATE, "%s after the timeout",
		     rc_raft_role_name(r->role));
	cr_expect_eq(r->term, 1, "pre-vote raised the term");
	cr_expect_eq(r->vote, 0, "pre-vote cast a vote");
	cr_expect(!(u->flags & RC_UPDATE_HARD_STATE) || u->hard_state.term == 1,
		  "pre-vote persisted a new term");
	cr_expect_eq(h_count_any(u, RC_MSG_VOTE, 0), 0);
	for (to = 2; to <= 3; to++) {
		m = h_find_now(u, RC_MSG_PREVOTE, to);
		cr_assert_not_null(m, "no PREVOTE to %u", to);
		cr_expect_eq(m->term, 2, "PREVOTE names the term it would campaign in");
		cr_expect_eq(m->index, 1);
		cr_expect_eq(m->log_term, 1);
	}
	req = *h_find_now(u, RC_MSG_PREVOTE, 2);
	req.entries = NULL;

	/* The voter answers without changing its own state. */
	h_recv(n, &req);
	cr_expect_eq(voter->term, 1, "a PREVOTE raised the voter's term");
	cr_expect_eq(voter->vote, 0, "a PREVOTE cast the voter's vote");
	cr_expect_eq(voter->role, RC_ROLE_FOLLOWER);
	m = h_find_any(n->u[2], RC_MSG_PREVOTE_RESP, 1);
	cr_assert_not_null(m, "no PREVOTE_RESP");
	cr_expect_not(m->reject, "up-to-date pre-candidate refused by a leaderless voter");
	cr_expect(!(n->u[2]->flags & RC_UPDATE_HARD_STATE) || n->u[2]->hard_state.term == 1);

	/* A majority of pre-votes: now the real election, with a new term. */
	h_reset(n, 1);
	grant = h_msg(RC_MSG_PREVOTE_RESP, 2, 1, 2);
	h_recv(n, &grant);
	cr_expect_eq(r->role, RC_ROLE_CANDIDATE);
	cr_expect_eq(r->term, 2);
	cr_expect_eq(r->vote, 1);
	cr_expect(u->flags & RC_UPDATE_HARD_STATE);
	cr_expect_eq(h_count_after(u, RC_MSG_VOTE, 0), 2);
	h_net_free(n);
}

/*
 * Thesis §6.2: "a leader in Raft steps down if an election timeout elapses without a successful
 * round of heartbeats to a majority of its cluster".
 *
 *   1: leader t1 of 3, check-quorum, nobody answers  [tick E-1] leader  [tick up to 2E] follower t1
 *   1: leader t1 of 3, 2 answers every heartbeat      [tick 5E] still leader
 */
Test(raft_paper, check_quorum_leader_steps_down_without_quorum)
{
	struct rc_raft_config cfg;
	struct h_net *n;
	struct rc_raft *r;
	uint32_t t;

	n = h_net_new();
	h_config(&cfg, 1, 3);
	cfg.check_quorum = true;
	r = h_node_cfg(n, &cfg, 0, 0, 0, NULL, 0);
	h_make_leader(n, 1);
	h_persist(n, 1);
	for (t = 0; t < E - 1; t++) {
		h_tick(n, 1, 1);
		h_persist(n, 1);
	}
	cr_expect_eq(r->role, RC_ROLE_LEADER, "stepped down before an election timeout");
	for (; t < 2 * E && r->role == RC_ROLE_LEADER; t++) {
		h_tick(n, 1, 1);
		h_persist(n, 1);
	}
	cr_expect_eq(r->role, RC_ROLE_FOLLOWER, "still %s after 2E ticks without a quorum",
		     rc_raft_role_name(r->role));
	cr_expect_eq(r->term, 1, "stepping down is not a new term");
	cr_expect_eq(r->leader, 0);
	h_net_free(n);

	n = h_net_new();
	r = h_node_cfg(n, &cfg, 0, 0, 0, NULL, 0);
	h_make_leader(n, 1);
	h_persist(n, 1);
	for (t = 0; t < 5 * E; t++) {
		const struct rc_raft_msg *hb;
		struct rc_raft_msg resp;

		h_tick(n, 1, 1);
		hb = h_find_now(n->u[1], RC_MSG_HEARTBEAT, 2);
		resp = h_msg(RC_MSG_HEARTBEAT_RESP, 2, 1, r->term);
		h_persist(n, 1);
		if (hb != NULL)
			h_recv(n, &resp);
		cr_assert_eq(r->role, RC_ROLE_LEADER, "stepped down at tick %u with 2 answering",
			     t);
	}
	h_net_free(n);
}

/*
 * §5.3: "the follower can include the term of the conflicting entry and the first index it stores
 * for that term. With this information, the leader can decrement nextIndex to bypass all of the
 * conflicting entries in that term; one AppendEntries RPC will be required for each term with
 * conflicting entries, rather than one RPC per entry." raft.h uses etcd-io/raft's form of it: the
 * follower hints its last index whose term is <= the refused prev term, and the leader resumes at
 * its own last index whose term is <= the hinted term.
 *
 *   1: t4, log [1 1 1 4 4 4 4 4]   2: t2, log [1 1 1 2 2 2 2 2 2 2 2]
 *   CAMPAIGN t5 => NOOP at 9; APPEND 1>2 prev (8, t4)
 *   2 > reject index 8, hint (8, t2)          (its entry 8 has term 2)
 *   1 > APPEND prev (3, t1): the leader's last entry of term <= 2, not 7
 *   2 > accept; logs match after one refusal
 */
Test(raft_paper, fast_backtracking_uses_conflict_hint)
{
	static const uint64_t leader_log[] = { 1, 1, 1, 4, 4, 4, 4, 4 };
	static const uint64_t follower_log[] = { 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2 };
	struct h_net *n = h_net_new();
	struct rc_raft *lead = h_node(n, 1, 3, 4, 0, 0, leader_log, 8);
	struct rc_raft *follower = h_node(n, 2, 3, 2, 0, 0, follower_log, 11);
	const struct rc_raft_msg *first, *reject, *second, *m;
	uint32_t i, rejects = 0;

	h_make_leader(n, 1);
	cr_assert_eq(lead->term, 5);
	h_run(n, 50);

	first = h_trace_find(n, RC_MSG_APPEND, 1, 2, 0);
	reject = h_trace_find(n, RC_MSG_APPEND_RESP, 2, 1, 0);
	second = h_trace_find(n, RC_MSG_APPEND, 1, 2, 1);
	cr_assert(first != NULL && reject != NULL && second != NULL, "the exchange is too short");
	cr_expect_eq(first->index, 8);
	cr_expect_eq(first->log_term, 4);
	cr_expect(reject->reject, "prev (8, t4) accepted by a log whose entry 8 has term 2");
	cr_expect_eq(reject->index, 8);
	cr_expect_eq(reject->hint_index, 8);
	cr_expect_eq(reject->log_term, 2);
	cr_expect_eq(second->index, 3, "after one refusal the leader resumes at %lu, not 3",
		     (unsigned long)second->index);
	cr_expect_eq(second->log_term, 1);
	for (i = 0; (m = h_trace_find(n, RC_MSG_APPEND_RESP, 2, 1, i)) != NULL; i++)
		rejects += m->reject;
	cr_expect_eq(rejects, 1, "%u refusals to find the match point", rejects);
	h_expect_same_log(lead, follower, "after backtracking");
	cr_expect_eq(follower->last_index, 9);
	h_net_free(n);
}

/*
 * Figure 2, Leaders: "If last log index >= nextIndex for a follower: send AppendEntries RPC with
 * log entries starting at nextIndex", bounded by the per-follower in-flight window (DESIGN.md §1:
 * "pipelining with a per-follower in-flight window (probe -> replicate)").
 *
 *   probe:     1: leader, NOOP unacked; PROPOSE x4 => no APPEND to 2 beyond the NOOP's
 *   replicate: 1: leader, window 3 msgs, 1 entry per msg; PROPOSE x10 => 3 APPENDs to 2
 *              <- ack of the first => exactly one more, prev li+3
 *   bytes:     window 10000 bytes, 4000-byte entries => 3 APPENDs (0, 4000, 8000 < 10000)
 */
static struct rc_raft *
pipelining_leader(struct h_net *n, uint32_t msgs_max, uint32_t bytes_max)
{
	struct rc_raft_config cfg;

	h_config(&cfg, 1, 3);
	cfg.msg_entries_max = 1;
	cfg.msg_bytes_max = 8192;
	cfg.inflight_msgs_max = msgs_max;
	cfg.inflight_bytes_max = bytes_max;
	h_node_cfg(n, &cfg, 0, 0, 0, NULL, 0);
	return h_make_stable_leader(n, 1);
}

Test(raft_paper, probe_state_sends_one_append_at_a_time)
{
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 3, 0, 0, 0, NULL, 0);
	const struct rc_raft_update *u = n->u[1];
	uint32_t i;

	h_make_leader(n, 1);
	cr_expect_eq(h_progress(r, 2)->state, RC_PROGRESS_PROBE, "new leader probes first");
	cr_expect_eq(h_count_now(u, RC_MSG_APPEND, 2), 1);
	for (i = 0; i < 4; i++)
		h_propose(n, 1, 1, 10);
	cr_expect_eq(h_count_now(u, RC_MSG_APPEND, 2), 1, "%u APPENDs to a follower in probe",
		     h_count_now(u, RC_MSG_APPEND, 2));
	h_net_free(n);
}

Test(raft_paper, inflight_window_bounds_pipelining)
{
	struct h_net *n = h_net_new();
	struct rc_raft *r = pipelining_leader(n, 3, RC_INFLIGHT_BYTES_MAX);
	const struct rc_raft_update *u = n->u[1];
	const struct rc_raft_msg *m;
	struct rc_raft_msg first, ack;
	uint64_t li = r->last_index;
	uint32_t i;

	cr_assert_eq(h_progress(r, 2)->state, RC_PROGRESS_REPLICATE, "2 acked: replicate");
	for (i = 0; i < 10; i++)
		cr_assert_eq(h_propose(n, 1, 1, 10), 1);
	cr_expect_eq(h_count_now(u, RC_MSG_APPEND, 2), 3, "%u APPENDs with a window of 3",
		     h_count_now(u, RC_MSG_APPEND, 2));
	cr_expect_eq(h_progress(r, 2)->inflights.count, 3);
	cr_expect(rc_inflights_full(&h_progress(r, 2)->inflights));
	m = h_find_now(u, RC_MSG_APPEND, 2);
	cr_assert_not_null(m);
	cr_expect_eq(m->index, li, "pipelining starts after the match");
	first = *m;
	h_persist(n, 1);

	ack = h_ack(&first);
	h_recv(n, &ack);
	cr_expect_eq(h_count_now(u, RC_MSG_APPEND, 2), 1, "one ack frees one slot: %u APPENDs",
		     h_count_now(u, RC_MSG_APPEND, 2));
	m = h_find_now(u, RC_MSG_APPEND, 2);
	if (m != NULL) {
		cr_expect_eq(m->index, li + 3, "continues after the appends in flight");
		cr_expect_eq(m->entry_count, 1);
	}
	h_net_free(n);

	n = h_net_new();
	r = pipelining_leader(n, RC_INFLIGHT_MSGS_MAX, 10000);
	u = n->u[1];
	for (i = 0; i < 10; i++)
		cr_assert_eq(h_propose(n, 1, 1, 4000), 1);
	cr_expect_eq(h_count_now(u, RC_MSG_APPEND, 2), 3, "%u APPENDs of 4000 bytes, window 10000",
		     h_count_now(u, RC_MSG_APPEND, 2));
	cr_expect_eq(h_progress(r, 2)->inflights.bytes, 12000);
	h_net_free(n);
}
