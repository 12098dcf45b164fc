/*
 * Linearizable reads in the pure core: ReadIndex (Raft thesis §6.4), leader-lease reads
 * (§6.4.1), and the read round sequence HEARTBEAT and HEARTBEAT_RESP carry on the wire. Each
 * test quotes the rule it checks and drives the core with rc_raft_step() directly (the
 * harness of test_raft_paper.c); the runs read like this:
 *
 *   1: leader t1, commit 1  <- READ ctx 7  => HEARTBEAT 1>2 seq 1, 1>3 seq 1, no answer yet
 *   1 <- HEARTBEAT_RESP seq 1 from 2       => READ ctx 7 ok at 1 (1 and 2: a majority of 3)
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include <replicore/limits.h>
#include <replicore/raft.h>
#include <replicore/wire.h>

#include "raft_harness.h"

#define E H_ELECTION_TICKS

/* ---- Helpers --------------------------------------------------------------------------------- */

/* Steps a READ_INDEX for ctx with flags into node id's update. */
static void
t_read(struct h_net *n, uint16_t id, uint64_t ctx, uint32_t flags)
{
	struct rc_raft_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = RC_EVENT_READ_INDEX;
	ev.read.ctx = ctx;
	ev.read.flags = flags;
	h_step(n, id, &ev);
}

/* The answer to read ctx in node id's update, or NULL; asserts it is there at most once. */
static const struct rc_raft_read *
t_answer(const struct h_net *n, uint16_t id, uint64_t ctx)
{
	const struct rc_raft_update *u = n->u[id];
	const struct rc_raft_read *found = NULL;
	uint32_t i;

	cr_assert_leq(u->read_count, RC_UPDATE_READS_MAX);
	cr_assert_eq(u->read_count > 0, (u->flags & RC_UPDATE_READS) != 0,
		     "READS flag disagrees with %u answers", u->read_count);
	for (i = 0; i < u->read_count; i++) {
		if (u->reads[i].ctx != ctx)
			continue;
		cr_assert_null(found, "read %lu answered twice", (unsigned long)ctx);
		found = &u->reads[i];
	}
	return found;
}

/* Asserts read ctx was answered in node id's update with status (and index, when OK). */
static void
t_expect_answer(const struct h_net *n, uint16_t id, uint64_t ctx, uint8_t status, uint64_t index)
{
	const struct rc_raft_read *a = t_answer(n, id, ctx);

	cr_assert_not_null(a, "read %lu not answered", (unsigned long)ctx);
	cr_expect_eq(a->status, status, "read %lu: status %u, want %u", (unsigned long)ctx,
		     a->status, status);
	cr_expect_eq(a->index, status == RC_READ_OK ? index : 0, "read %lu: index %lu, want %lu",
		     (unsigned long)ctx, (unsigned long)a->index, (unsigned long)index);
}

/* Delivers a HEARTBEAT_RESP echoing read round seq from peer to the leader. */
static void
t_echo(struct h_net *n, uint16_t leader, uint16_t peer, uint64_t seq)
{
	struct rc_raft_msg m = h_msg(RC_MSG_HEARTBEAT_RESP, peer, leader, n->r[leader]->term);

	m.read_seq = seq;
	h_recv(n, &m);
}

/* Asserts node id's update holds exactly one HEARTBEAT to each peer, all of read round seq. */
static void
t_expect_round(const struct h_net *n, uint16_t id, uint64_t seq)
{
	const struct rc_raft *r = n->r[id];
	const struct rc_raft_update *u = n->u[id];
	uint16_t i;

	for (i = 0; i < r->cfg.voter_count; i++) {
		uint16_t peer = r->cfg.voters[i];
		const struct rc_raft_msg *hb;

		if (peer == id)
			continue;
		cr_expect_eq(h_count_now(u, RC_MSG_HEARTBEAT, peer), 1,
			     "%u heartbeats to %u, want one",
			     h_count_now(u, RC_MSG_HEARTBEAT, peer), peer);
		hb = h_find_now(u, RC_MSG_HEARTBEAT, peer);
		if (hb != NULL)
			cr_expect_eq(hb->read_seq, seq, "heartbeat to %u: round %lu, want %lu",
				     peer, (unsigned long)hb->read_seq, (unsigned long)seq);
	}
}

/*
 * For a new leader whose followers are not simulated: persists its update and acks the APPENDs
 * it held from the followers in ack_mask (a bit per node id), leaving what the acks caused in
 * the update.
 */
static void
t_ack_appends_keep(struct h_net *n, uint16_t id, uint32_t ack_mask)
{
	struct rc_raft_msg acks[H_ACKS_MAX];
	uint32_t i, count = h_collect_acks(n, id, ack_mask, acks);

	h_persist(n, id);
	h_reset(n, id);
	for (i = 0; i < count; i++)
		h_recv(n, &acks[i]);
}

/* A configuration of node id in a cluster of voter_count with check-quorum and lease reads. */
static void
t_lease_config(struct rc_raft_config *cfg, uint16_t id, uint16_t voter_count)
{
	h_config(cfg, id, voter_count);
	cfg->check_quorum = true;
	cfg->lease_reads = true;
	cfg->lease_drift_ticks = 1;
}

/* ---- ReadIndex: who may answer --------------------------------------------------------------- */

/*
 * §6.4: "If the leader has not yet marked an entry from its current term committed, it waits
 * until it has done so." Only the leader answers; anyone else says so at once, never silently.
 *
 *   1: follower  <- READ ctx 42                => READ ctx 42 not-leader, nothing sent
 *   1: candidate <- READ ctx 43                => READ ctx 43 not-leader
 */
Test(readindex, follower_and_candidate_fail_read_not_leader)
{
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 3, 1, 0, 0, NULL, 0);

	t_read(n, 1, 42, 0);
	t_expect_answer(n, 1, 42, RC_READ_NOT_LEADER, 0);
	cr_expect_eq(n->u[1]->msg_count, 0);
	cr_expect_eq(r->read_count, 0);
	h_reset(n, 1);
	cr_expect_eq(n->u[1]->read_count, 0, "reset empties the answers");

	h_campaign(n, 1);
	cr_assert_eq(r->role, RC_ROLE_CANDIDATE);
	t_read(n, 1, 43, RC_READ_LEASE);
	t_expect_answer(n, 1, 43, RC_READ_NOT_LEADER, 0);
	h_net_free(n);
}

/*
 * §6.4 step 1: a new leader's commit index may lag what its predecessors committed, so a read
 * waits for the leader's no-op to commit, even when a majority confirms its leadership
 * meanwhile; its read index is the commit index then ("save its current commit index in a local
 * variable readIndex").
 *
 *   1: log [1 1], commit 1 (2 may be committed too); leader t2, NOOP at 3 not committed
 *   1 <- READ ctx 7                   => no answer, no read round
 *   [tick] 1 <- HEARTBEAT_RESP from 2  => still no answer: commit 1 is not a read index
 *   1 <- APPEND_RESP 3 from 2          => commit 3, HEARTBEAT 1>2 and 1>3 of a new round
 *   1 <- HEARTBEAT_RESP of it from 3   => READ ctx 7 ok at 3
 */
Test(readindex, leader_waits_for_commit_in_its_term_then_serves)
{
	static const uint64_t log[] = { 1, 1 };
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 3, 1, 0, 1, log, 2);
	uint64_t seq;

	h_make_leader(n, 1);
	cr_assert_eq(r->term, 2);
	cr_assert_eq(r->commit, 1);
	t_read(n, 1, 7, 0);
	cr_expect_null(t_answer(n, 1, 7), "answered before the leader committed in its term");
	cr_expect_eq(h_count_now(n->u[1], RC_MSG_HEARTBEAT, 0), 0, "a round without a read index");
	cr_expect_eq(r->read_count, 1);
	h_persist(n, 1);
	h_reset(n, 1);
	h_tick(n, 1, H_HEARTBEAT_TICKS);
	seq = r->read_seq;
	t_echo(n, 1, 2, seq);
	t_echo(n, 1, 3, seq);
	cr_expect_null(t_answer(n, 1, 7), "answered at a commit index of an earlier term");
	cr_assert_eq(r->commit, 1);

	t_ack_appends_keep(n, 1, 1u << 2);
	cr_assert_eq(r->commit, 3, "NOOP committed with one ack");
	cr_expect_null(t_answer(n, 1, 7), "answered before a round");
	t_expect_round(n, 1, seq + 1);
	h_reset(n, 1);

	t_echo(n, 1, 3, seq + 1);
	t_expect_answer(n, 1, 7, RC_READ_OK, 3);
	cr_expect_eq(r->read_count, 0);
	h_net_free(n);
}

/* ---- ReadIndex: rounds ----------------------------------------------------------------------- */

/*
 * §6.4: "To improve efficiency further, the leader can amortize the cost of confirming its
 * leadership: it can use a single round of heartbeats for any number of read-only queries that
 * it has accumulated." Reads that arrive while the round's heartbeats are still in the update
 * join it.
 *
 *   1: leader t1, commit 1  <- READ 1..5  => one HEARTBEAT per peer, round 1; no answer
 *   1 <- HEARTBEAT_RESP seq 1 from 2     => READ 1..5 ok at 1, in the order asked
 */
Test(readindex, reads_batched_into_one_round)
{
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 3, 0, 0, 0, NULL, 0);
	const struct rc_raft_update *u = n->u[1];
	uint64_t ctx;

	h_make_stable_leader(n, 1);
	for (ctx = 1; ctx <= 5; ctx++)
		t_read(n, 1, ctx, 0);
	t_expect_round(n, 1, 1);
	cr_expect_eq(u->msg_count, 2, "only the round's heartbeats");
	cr_expect_eq(u->read_count, 0);
	h_reset(n, 1);

	t_echo(n, 1, 2, 1);
	cr_assert_eq(u->read_count, 5);
	for (ctx = 1; ctx <= 5; ctx++) {
		cr_expect_eq(u->reads[ctx - 1].ctx, ctx, "answers out of order");
		t_expect_answer(n, 1, ctx, RC_READ_OK, r->commit);
	}
	h_net_free(n);
}

/*
 * §6.4 step 3: "The leader sends a new round of heartbeats, and waits for their
 * acknowledgments. Once a majority has acknowledged, the leader knows it was still the leader
 * when the read arrived." A minority echo is not enough.
 *
 *   1: leader t1 of 5  <- READ ctx 9           => round 1
 *   1 <- HEARTBEAT_RESP seq 1 from 2           => nothing (1, 2: 2 of 5)
 *   1 <- HEARTBEAT_RESP seq 1 from 2 again     => nothing (the same voter twice)
 *   1 <- HEARTBEAT_RESP seq 1 from 4           => READ ctx 9 ok (1, 2, 4: 3 of 5)
 */
Test(readindex, read_ready_only_after_majority_echo)
{
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 5, 0, 0, 0, NULL, 0);

	h_make_stable_leader(n, 1);
	t_read(n, 1, 9, 0);
	t_expect_round(n, 1, 1);
	h_reset(n, 1);
	t_echo(n, 1, 2, 1);
	cr_expect_null(t_answer(n, 1, 9), "ready with 2 of 5");
	t_echo(n, 1, 2, 1);
	cr_expect_null(t_answer(n, 1, 9), "one voter counted twice");
	t_echo(n, 1, 4, 1);
	t_expect_answer(n, 1, 9, RC_READ_OK, r->commit);
	h_net_free(n);
}

/*
 * An echo of an earlier round proves nothing about a read that arrived after it was sent, and an
 * echo of a round never started is not believed.
 *
 *   1: leader t1  <- READ a, HEARTBEAT_RESP seq 1 from 2   => a ok (round 1)
 *   1 <- READ b                                          => round 2
 *   1 <- HEARTBEAT_RESP seq 1 from 2, from 3             => nothing: stale
 *   1 <- HEARTBEAT_RESP seq 99 from 3                    => nothing: never sent
 *   1 <- HEARTBEAT_RESP seq 2 from 3                     => b ok
 */
Test(readindex, stale_echo_does_not_confirm)
{
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 3, 0, 0, 0, NULL, 0);

	h_make_stable_leader(n, 1);
	t_read(n, 1, 100, 0);
	h_reset(n, 1);
	t_echo(n, 1, 2, 1);
	t_expect_answer(n, 1, 100, RC_READ_OK, r->commit);
	h_reset(n, 1);

	t_read(n, 1, 200, 0);
	t_expect_round(n, 1, 2);
	h_reset(n, 1);
	t_echo(n, 1, 2, 1);
	t_echo(n, 1, 3, 1);
	cr_expect_null(t_answer(n, 1, 200), "confirmed by echoes of an older round");
	t_echo(n, 1, 3, 99);
	cr_expect_null(t_answer(n, 1, 200), "confirmed by a round never started");
	cr_expect_eq(h_progress(r, 3)->read_seq_acked, 1);
	t_echo(n, 1, 3, 2);
	t_expect_answer(n, 1, 200, RC_READ_OK, r->commit);
	h_net_free(n);
}

/*
 * One round in flight: a read that arrives once the round's heartbeats left waits, and gets the
 * next round as soon as the one in flight is confirmed. Its read index is the commit index when
 * it arrived.
 *
 *   1: leader t1  <- READ a  => round 1 (sent)
 *   1 <- PROPOSE, acks       => commit 2
 *   1 <- READ b              => nothing sent: round 1 in flight
 *   1 <- HEARTBEAT_RESP seq 1 from 2  => a ok at 1, round 2 for b
 *   1 <- HEARTBEAT_RESP seq 2 from 3  => b ok at 2
 */
Test(readindex, read_after_round_left_joins_next_round)
{
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 3, 0, 0, 0, NULL, 0);
	const struct rc_raft_update *u = n->u[1];

	h_make_stable_leader(n, 1);
	t_read(n, 1, 1, 0);
	t_expect_round(n, 1, 1);
	h_reset(n, 1);
	cr_assert_eq(h_propose(n, 1, 1, 8), 1);
	h_ack_appends(n, 1, ~0u);
	cr_assert_eq(r->commit, 2);

	t_read(n, 1, 2, 0);
	cr_expect_eq(h_count_now(u, RC_MSG_HEARTBEAT, 0), 0, "a second round while one flies");
	t_echo(n, 1, 2, 1);
	t_expect_answer(n, 1, 1, RC_READ_OK, 1);
	cr_expect_null(t_answer(n, 1, 2), "b confirmed by a round sent before it arrived");
	t_expect_round(n, 1, 2);
	h_reset(n, 1);
	t_echo(n, 1, 3, 2);
	t_expect_answer(n, 1, 2, RC_READ_OK, 2);
	h_net_free(n);
}

/*
 * A round whose heartbeats were lost is retried: while reads are pending, every periodic
 * heartbeat is a new round.
 *
 *   1: leader t1  <- READ a  => round 1, lost
 *   [tick]                   => HEARTBEAT round 2 to each peer
 *   1 <- HEARTBEAT_RESP seq 2 from 3  => a ok
 */
Test(readindex, lost_round_is_retried_by_the_next_heartbeat)
{
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 3, 0, 0, 0, NULL, 0);

	h_make_stable_leader(n, 1);
	t_read(n, 1, 5, 0);
	h_reset(n, 1);
	h_tick(n, 1, H_HEARTBEAT_TICKS);
	t_expect_round(n, 1, 2);
	h_reset(n, 1);
	t_echo(n, 1, 3, 2);
	t_expect_answer(n, 1, 5, RC_READ_OK, r->commit);

	/* With nothing pending and no leases, heartbeats carry no round. */
	h_reset(n, 1);
	h_tick(n, 1, H_HEARTBEAT_TICKS);
	t_expect_round(n, 1, 0);
	h_net_free(n);
}

/* A follower echoes the read round of the heartbeat it answers. */
Test(readindex, follower_echoes_read_round)
{
	struct h_net *n = h_net_new();
	struct rc_raft_msg hb = h_msg(RC_MSG_HEARTBEAT, 2, 1, 1);
	const struct rc_raft_msg *resp;

	h_node(n, 1, 3, 1, 0, 0, NULL, 0);
	hb.read_seq = 0x1122334455667788ull;
	h_recv(n, &hb);
	resp = h_find_now(n->u[1], RC_MSG_HEARTBEAT_RESP, 2);
	cr_assert_not_null(resp);
	cr_expect_eq(resp->read_seq, hb.read_seq);
	h_net_free(n);
}

/* ---- Leadership lost ------------------------------------------------------------------------- */

/*
 * A leader that steps down (here: a heartbeat of a later term) fails every pending read, in the
 * order they came, with RC_READ_DROPPED; the reads waiting for a commit in its term included.
 *
 *   1: leader t1  <- READ 1, 2 (round 1), READ 3 (waits)  <- HEARTBEAT t2 from 2
 *     => follower t2, READ 1, 2, 3 dropped; READ 4 not-leader
 */
Test(readindex, leader_stepping_down_fails_pending_reads)
{
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 3, 0, 0, 0, NULL, 0);
	const struct rc_raft_update *u = n->u[1];
	struct rc_raft_msg hb;
	uint64_t ctx;

	h_make_stable_leader(n, 1);
	t_read(n, 1, 1, 0);
	t_read(n, 1, 2, 0);
	h_reset(n, 1);
	t_read(n, 1, 3, 0);
	cr_assert_eq(r->read_count, 3);
	h_reset(n, 1);

	hb = h_msg(RC_MSG_HEARTBEAT, 2, 1, r->term + 1);
	h_recv(n, &hb);
	cr_assert_eq(r->role, RC_ROLE_FOLLOWER);
	cr_assert_eq(u->read_count, 3);
	for (ctx = 1; ctx <= 3; ctx++) {
		cr_expect_eq(u->reads[ctx - 1].ctx, ctx);
		t_expect_answer(n, 1, ctx, RC_READ_DROPPED, 0);
	}
	cr_expect_eq(r->read_count, 0);
	t_read(n, 1, 4, 0);
	t_expect_answer(n, 1, 4, RC_READ_NOT_LEADER, 0);
	h_net_free(n);
}

/*
 * The stale read ReadIndex exists to prevent (§6.4): a leader cut off from the others keeps
 * believing it leads while a new leader commits a write. A read at the old leader must never be
 * answered with its old commit index. Without check-quorum it waits until it hears of the new
 * term, then fails; with check-quorum it steps down by itself after an election timeout.
 *
 *   1: leader t1 of {1,2,3}, commit 1; 1 partitioned
 *   2 or 3: times out, wins t2, commits its NOOP and a write at 3
 *   1 <- READ  [ticks]  => rounds sent, never confirmed, never answered ok
 *   1 <- HEARTBEAT t2 from the new leader (heal)  => READ dropped
 */
static void
check_partitioned_old_leader(bool check_quorum)
{
	struct h_net *n = h_net_new();
	struct rc_raft_config cfg;
	struct rc_raft *old, *r2;
	struct rc_raft_update *old_u;
	const struct rc_raft_msg *hb;
	uint16_t id, new_id;
	uint32_t t;

	for (id = 1; id <= 3; id++) {
		h_config(&cfg, id, 3);
		cfg.check_quorum = check_quorum;
		h_node_cfg(n, &cfg, 0, 0, 0, NULL, 0);
	}
	h_make_leader(n, 1);
	h_run(n, 20);
	old = n->r[1];
	old_u = n->u[1];
	cr_assert_eq(old->role, RC_ROLE_LEADER);
	cr_assert_eq(old->commit, 1);

	/* Partition: the harness drops whatever goes to or comes from a node it does not run. 2
	 * and 3 time out (after their lease on 1, under check-quorum) and elect one of them. */
	n->r[1] = NULL;
	n->u[1] = NULL;
	for (t = 0; t < 4 * E && n->r[2]->role != RC_ROLE_LEADER && n->r[3]->role != RC_ROLE_LEADER;
	     t++) {
		h_tick(n, 2, 1);
		h_tick(n, 3, 1);
		h_run(n, 20);
	}
	new_id = n->r[2]->role == RC_ROLE_LEADER ? 2 : 3;
	r2 = n->r[new_id];
	cr_assert_eq(r2->role, RC_ROLE_LEADER);
	cr_assert_eq(h_propose(n, new_id, 1, 4), 1);
	h_run(n, 20);
	cr_assert_eq(r2->commit, 3, "the new leader committed a write");
	n->r[1] = old;
	n->u[1] = old_u;

	rc_raft_update_reset(old_u);
	t_read(n, 1, 77, 0);
	for (t = 0; t < 3 * E && old->role == RC_ROLE_LEADER; t++) {
		cr_expect_null(t_answer(n, 1, 77), "stale read answered at tick %u", t);
		rc_raft_update_reset(old_u);
		h_tick(n, 1, 1);
	}
	if (check_quorum) {
		cr_expect_eq(old->role, RC_ROLE_FOLLOWER, "no step-down without a quorum");
		t_expect_answer(n, 1, 77, RC_READ_DROPPED, 0);
	} else {
		cr_expect_eq(old->role, RC_ROLE_LEADER);
		cr_expect_null(t_answer(n, 1, 77), "stale read answered");
		rc_raft_update_reset(old_u);
		/* Heal: the new leader's next heartbeat reaches 1. */
		rc_raft_update_reset(n->u[new_id]);
		h_tick(n, new_id, r2->cfg.heartbeat_ticks);
		hb = h_find_now(n->u[new_id], RC_MSG_HEARTBEAT, 1);
		cr_assert_not_null(hb);
		h_recv(n, hb);
		cr_expect_eq(old->role, RC_ROLE_FOLLOWER);
		t_expect_answer(n, 1, 77, RC_READ_DROPPED, 0);
	}
	h_net_free(n);
}

Test(readindex, partitioned_old_leader_cannot_confirm_read)
{
	check_partitioned_old_leader(false);
}

Test(readindex, partitioned_old_leader_with_check_quorum_fails_read)
{
	check_partitioned_old_leader(true);
}

/* ---- Bounds and the single node -------------------------------------------------------------- */

/*
 * The queue of pending reads is bounded (RC_READS_PENDING_MAX): one more read is refused at
 * once as busy, and the queued ones are all answered, in order, when their round is confirmed.
 */
Test(readindex, queue_full_fails_read_busy)
{
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 3, 0, 0, 0, NULL, 0);
	const struct rc_raft_update *u = n->u[1];
	uint64_t ctx;

	h_make_stable_leader(n, 1);
	for (ctx = 0; ctx < RC_READS_PENDING_MAX; ctx++)
		t_read(n, 1, ctx, 0);
	cr_expect_eq(u->read_count, 0);
	t_expect_round(n, 1, 1);
	t_read(n, 1, 1000, 0);
	t_expect_answer(n, 1, 1000, RC_READ_BUSY, 0);
	cr_expect_eq(r->read_count, RC_READS_PENDING_MAX);
	h_reset(n, 1);

	t_echo(n, 1, 3, 1);
	cr_assert_eq(u->read_count, RC_READS_PENDING_MAX);
	for (ctx = 0; ctx < RC_READS_PENDING_MAX; ctx++) {
		cr_expect_eq(u->reads[ctx].ctx, ctx);
		cr_expect_eq(u->reads[ctx].status, RC_READ_OK);
	}
	cr_expect_eq(r->read_count, 0);
	h_reset(n, 1);
	t_read(n, 1, 1001, 0);
	cr_expect_null(t_answer(n, 1, 1001), "room again, queued");
	cr_expect_eq(r->read_count, 1);
	h_net_free(n);
}

/*
 * A single voter is its own majority: a read is ready as soon as the node committed in its
 * term, with no message.
 *
 *   1: single voter, leader t1, NOOP not durable  <- READ a  => nothing
 *   PERSISTED                                     => commit 1, READ a ok at 1
 *   1 <- READ b                                   => READ b ok at 1, no message
 */
Test(readindex, single_node_read_is_ready_at_once)
{
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 1, 0, 0, 0, NULL, 0);

	h_campaign(n, 1);
	cr_assert_eq(r->role, RC_ROLE_LEADER);
	t_read(n, 1, 1, 0);
	cr_expect_null(t_answer(n, 1, 1));
	h_persist(n, 1);
	cr_assert_eq(r->commit, 1);
	t_expect_answer(n, 1, 1, RC_READ_OK, 1);
	h_reset(n, 1);
	t_read(n, 1, 2, 0);
	t_expect_answer(n, 1, 2, RC_READ_OK, 1);
	t_read(n, 1, 3, RC_READ_LEASE);
	t_expect_answer(n, 1, 3, RC_READ_OK, 1);
	cr_expect_eq(n->u[1]->msg_count, 0);
	h_net_free(n);
}

/* ---- Leases ---------------------------------------------------------------------------------- */

/*
 * §6.4.1: with a lease, "the leader would use its clock to start a lease at the time it sent
 * the heartbeats to followers, then once a majority acknowledges, extend the lease" — here to
 * election_ticks - lease_drift_ticks ticks after the round started. Inside it a lease read is
 * answered at once at the commit index, with no round; past it, the read falls back to a round.
 *
 *   1: leader t1, check-quorum, leases; no echo yet  <- LEASE READ a  => round 1 (fallback)
 *   1 <- HEARTBEAT_RESP seq 1 from 2                                 => a ok
 *   1 <- LEASE READ b                                                => b ok at once, no round
 *   [8 ticks, no echo]  1 <- LEASE READ c   => c ok at once (8 < 10 - 1)
 *   [9th tick]          1 <- LEASE READ d   => no answer: a round, then ok on its echo
 */
Test(readindex, lease_read_served_within_lease_then_falls_back)
{
	struct h_net *n = h_net_new();
	struct rc_raft_config cfg;
	struct rc_raft *r;
	uint64_t seq;
	uint32_t t;

	t_lease_config(&cfg, 1, 3);
	r = h_node_cfg(n, &cfg, 0, 0, 0, NULL, 0);
	h_make_stable_leader(n, 1);
	t_read(n, 1, 1, RC_READ_LEASE);
	cr_expect_null(t_answer(n, 1, 1), "lease read without a lease");
	t_expect_round(n, 1, 1);
	h_reset(n, 1);
	t_echo(n, 1, 2, 1);
	t_expect_answer(n, 1, 1, RC_READ_OK, r->commit);
	h_reset(n, 1);

	t_read(n, 1, 2, RC_READ_LEASE);
	t_expect_answer(n, 1, 2, RC_READ_OK, r->commit);
	cr_expect_eq(n->u[1]->msg_count, 0, "a lease read sends nothing");
	cr_expect_eq(r->read_count, 0);
	t_read(n, 1, 3, 0);
	cr_expect_null(t_answer(n, 1, 3), "a plain read used the lease");
	h_reset(n, 1);
	t_echo(n, 1, 2, 2);
	t_expect_answer(n, 1, 3, RC_READ_OK, r->commit);

	/* Round 2 (started with read 3, echoed) is the newest a majority saw. */
	for (t = 1; t <= E - cfg.lease_drift_ticks - 1; t++) {
		h_reset(n, 1);
		h_tick(n, 1, 1);
	}
	cr_assert_eq(r->role, RC_ROLE_LEADER);
	h_reset(n, 1);
	t_read(n, 1, 4, RC_READ_LEASE);
	t_expect_answer(n, 1, 4, RC_READ_OK, r->commit);
	h_reset(n, 1);
	h_tick(n, 1, 1);
	cr_assert_eq(r->role, RC_ROLE_LEADER);
	seq = r->read_seq;
	h_reset(n, 1);
	t_read(n, 1, 5, RC_READ_LEASE);
	cr_expect_null(t_answer(n, 1, 5), "lease read past the lease");
	cr_expect_eq(r->read_count, 1);
	/* The last periodic round is in flight: the read waits for the next one. */
	h_tick(n, 1, 1);
	t_expect_round(n, 1, seq + 1);
	h_reset(n, 1);
	t_echo(n, 1, 3, seq + 1);
	t_expect_answer(n, 1, 5, RC_READ_OK, r->commit);
	h_net_free(n);
}

/* A lease read on a node whose configuration has no leases is a plain ReadIndex read. */
Test(readindex, lease_read_without_lease_config_uses_a_round)
{
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 1, 3, 0, 0, 0, NULL, 0);

	h_make_stable_leader(n, 1);
	t_read(n, 1, 1, 0);
	h_reset(n, 1);
	t_echo(n, 1, 2, 1);
	t_expect_answer(n, 1, 1, RC_READ_OK, r->commit);
	h_reset(n, 1);
	t_read(n, 1, 2, RC_READ_LEASE);
	cr_expect_null(t_answer(n, 1, 2), "served from a lease the configuration does not allow");
	t_expect_round(n, 1, 2);
	h_net_free(n);
}

/*
 * The lease rests on voters ignoring vote requests for election_ticks after hearing from the
 * leader; a voter that just started may have heard from it before going down, so with leases it
 * ignores them for its first election_ticks ticks too.
 *
 *   1: new node, leases  <- VOTE t5 from 2 (tick 0 .. 9)  => ignored
 *   [tick 10]            <- VOTE t5 from 2                => granted
 */
Test(readindex, started_voter_honours_a_lease_it_may_have_granted)
{
	struct h_net *n = h_net_new();
	struct rc_raft_config cfg;
	struct rc_raft *r;
	struct rc_raft_msg vote = h_msg(RC_MSG_VOTE, 2, 1, 5);

	t_lease_config(&cfg, 1, 3);
	r = h_node_cfg(n, &cfg, 1, 0, 0, NULL, 0);
	h_tick(n, 1, E - 1);
	h_recv(n, &vote);
	cr_expect_eq(r->term, 1, "vote request inside the start-up lease moved the term");
	cr_expect_eq(h_count_any(n->u[1], RC_MSG_VOTE_RESP, 2), 0);
	h_reset(n, 1);
	h_tick(n, 1, 1);
	h_recv(n, &vote);
	cr_expect_eq(r->term, 5);
	cr_expect_eq(r->vote, 2, "vote refused after the start-up lease");
	h_net_free(n);
}

/*
 * A stale answer to an earlier campaign must not end a lease either (found by rc-sim
 * --lease-reads, seed 3424): node 1 pre-campaigned, then heard leader 2 of term 3; a rejected
 * (pre-)vote reply carrying term 6 arrives late. Were the term raised, node 1 would forget its
 * leader and could vote a second leader in while leader 2 still serves reads from its lease.
 *
 *   1: follower of 2 (term 3) <- PREVOTE_RESP reject term 6   => term 3, leader 2
 *   1: follower of 2 (term 3) <- VOTE_RESP reject term 6      => term 3, leader 2
 *   1: election_ticks later, without the leader              => the next one raises the term
 */
Test(readindex, stale_vote_rejection_does_not_end_a_lease)
{
	struct h_net *n = h_net_new();
	struct rc_raft_config cfg;
	struct rc_raft *r;
	struct rc_raft_msg hb = h_msg(RC_MSG_HEARTBEAT, 2, 1, 3);
	struct rc_raft_msg pre = h_msg(RC_MSG_PREVOTE_RESP, 3, 1, 6);
	struct rc_raft_msg vote = h_msg(RC_MSG_VOTE_RESP, 3, 1, 6);

	t_lease_config(&cfg, 1, 3);
	r = h_node_cfg(n, &cfg, 1, 0, 0, NULL, 0);
	h_tick(n, 1, E);
	h_recv(n, &hb);
	cr_assert_eq(r->term, 3);
	cr_assert_eq(r->leader, 2);
	pre.reject = 1;
	vote.reject = 1;
	h_recv(n, &pre);
	cr_expect_eq(r->term, 3, "a stale pre-vote rejection raised the term");
	cr_expect_eq(r->leader, 2);
	h_recv(n, &vote);
	cr_expect_eq(r->term, 3, "a stale vote rejection raised the term");
	cr_expect_eq(r->leader, 2);
	h_reset(n, 1);
	h_tick(n, 1, E); /* the lease runs out */
	h_recv(n, &vote);
	cr_expect_eq(r->term, 6, "outside the lease a higher term is taken");
	h_net_free(n);
}

/* Leases need check-quorum and 1 <= lease_drift_ticks < election_ticks; rc_raft_init says so. */
Test(readindex, lease_config_is_checked)
{
	static struct rc_raft r;
	struct rc_raft_config cfg;

	t_lease_config(&cfg, 1, 3);
	cr_expect_eq(rc_raft_init(&r, &cfg, NULL, NULL, 1, 0), 0);
	cfg.check_quorum = false;
	cr_expect_eq(rc_raft_init(&r, &cfg, NULL, NULL, 1, 0), -EINVAL, "lease without quorum");
	t_lease_config(&cfg, 1, 3);
	cfg.lease_drift_ticks = 0;
	cr_expect_eq(rc_raft_init(&r, &cfg, NULL, NULL, 1, 0), -EINVAL, "no drift bound");
	cfg.lease_drift_ticks = cfg.election_ticks;
	cr_expect_eq(rc_raft_init(&r, &cfg, NULL, NULL, 1, 0), -EINVAL, "drift eats the lease");
	cfg.lease_reads = false;
	cr_expect_eq(rc_raft_init(&r, &cfg, NULL, NULL, 1, 0), 0, "drift unused without leases");

	h_config(&cfg, 1, 3);
	cr_expect(!cfg.lease_reads, "leases are off by default");
	cr_expect_eq(cfg.lease_drift_ticks, 1);
}

/* An unknown read flag is a programmer error. */
Test(readindex, unknown_read_flag_aborts, .signal = SIGABRT)
{
	struct h_net *n = h_net_new();

	h_node(n, 1, 3, 0, 0, 0, NULL, 0);
	t_read(n, 1, 1, 1u << 7);
}

/* ---- Wire: the read round sequence ----------------------------------------------------------- */

/* Encodes m (cluster 7, frame seq 2) into buf; returns the frame length. */
static uint32_t
t_encode(uint8_t *buf, uint32_t cap, const struct rc_raft_msg *m)
{
	int32_t len = rc_wire_encode(buf, cap, 7, 2, m, NULL, NULL);

	cr_assert_gt(len, 0, "encode: %d", len);
	return (uint32_t)len;
}

/* Decodes buf[0..len) into *m; returns the verdict. */
static enum rc_wire_error
t_decode(const uint8_t *buf, uint32_t len, struct rc_raft_msg *m)
{
	struct rc_wire_header h;

	return rc_wire_decode(buf, len, &h, m, NULL, NULL, 0);
}

/* read_seq survives a round trip in HEARTBEAT and HEARTBEAT_RESP, 8 more bytes when not 0. */
Test(readindex, wire_read_seq_round_trip)
{
	static const uint8_t types[] = { RC_MSG_HEARTBEAT, RC_MSG_HEARTBEAT_RESP };
	static const uint64_t seqs[] = { 0, 1, 0x0102030405060708ull, UINT64_MAX };
	static const uint32_t bodies[] = { 16, 8 };

	for (size_t i = 0; i < sizeof(types); i++) {
		for (size_t k = 0; k < sizeof(seqs) / sizeof(seqs[0]); k++) {
			struct rc_raft_msg m = h_msg(types[i], 1, 2, 3);
			struct rc_raft_msg got;
			uint8_t buf[128], again[128];
			uint32_t len;

			if (types[i] == RC_MSG_HEARTBEAT)
				m.commit = 6;
			m.read_seq = seqs[k];
			len = t_encode(buf, sizeof(buf), &m);
			cr_expect_eq(len, RC_WIRE_HEADER_BYTES + bodies[i] + (seqs[k] ? 8u : 0u),
				     "%s seq %lx: %u bytes", rc_raft_msg_name(types[i]),
				     (unsigned long)seqs[k], len);
			cr_assert_eq(t_decode(buf, len, &got), RC_WIRE_OK);
			cr_expect_eq(got.read_seq, seqs[k]);
			cr_expect_eq(got.commit, m.commit);
			cr_expect_eq(got.term, 3);
			cr_expect_eq(t_encode(again, sizeof(again), &got), len);
			cr_expect_arr_eq(again, buf, len);
			cr_expect_eq(rc_wire_encode(buf, len - 1, 7, 2, &m, NULL, NULL), -ENOSPC);
		}
	}
}

/* Other types do not carry read_seq: the encoder ignores it, the decoder leaves it 0. */
Test(readindex, wire_read_seq_only_on_heartbeats)
{
	struct rc_raft_msg m = h_msg(RC_MSG_VOTE_RESP, 1, 2, 3);
	struct rc_raft_msg got;
	uint8_t buf[128];
	uint32_t len;

	m.read_seq = 5;
	len = t_encode(buf, sizeof(buf), &m);
	cr_expect_eq(len, RC_WIRE_HEADER_BYTES + 9u);
	cr_assert_eq(t_decode(buf, len, &got), RC_WIRE_OK);
	cr_expect_eq(got.read_seq, 0);
}

/* The HEARTBEAT example of engine/wire/README.md, byte by byte, and its answer. */
Test(readindex, wire_heartbeat_with_read_seq_matches_the_documented_layout)
{
	static const uint8_t want_hb[] = {
		0x52, 0x43, 0x01, 0x07, 0x07, 0x00, 0x00, 0x00, /* magic, version, type, cluster */
		0x01, 0x00, 0x02, 0x00, 0x18, 0x00, 0x00, 0x00, /* from, to, body_bytes = 24 */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* seq */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* reserved */
		0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* term */
		0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* commit */
		0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* read_seq */
	};
	static const uint8_t want_resp[] = {
		0x52, 0x43, 0x01, 0x08, 0x07, 0x00, 0x00, 0x00, /* magic, version, type, cluster */
		0x02, 0x00, 0x01, 0x00, 0x10, 0x00, 0x00, 0x00, /* from, to, body_bytes = 16 */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* seq */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* reserved */
		0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* term */
		0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* read_seq */
	};
	struct rc_raft_msg hb = h_msg(RC_MSG_HEARTBEAT, 1, 2, 3);
	struct rc_raft_msg resp = h_msg(RC_MSG_HEARTBEAT_RESP, 2, 1, 3);
	uint8_t buf[128];

	hb.commit = 6;
	hb.read_seq = 5;
	resp.read_seq = 5;
	cr_assert_eq(t_encode(buf, sizeof(buf), &hb), sizeof(want_hb));
	cr_expect_arr_eq(buf, want_hb, sizeof(want_hb));
	cr_assert_eq(t_encode(buf, sizeof(buf), &resp), sizeof(want_resp));
	cr_expect_arr_eq(buf, want_resp, sizeof(want_resp));
}

/*
 * Decode stays strict: a read_seq present but 0 is refused (its canonical frame is the one
 * without), and a body that is neither length of its type is refused. Every cut of a frame with
 * a read_seq, body_bytes forged to agree, is refused, except the one at the end of the fixed
 * part: that is a valid frame without a round (the reader then confirms nothing with it).
 */
Test(readindex, wire_read_seq_decode_is_strict)
{
	static const uint8_t types[] = { RC_MSG_HEARTBEAT, RC_MSG_HEARTBEAT_RESP };
	static const uint32_t bodies[] = { 16, 8 };

	for (size_t i = 0; i < sizeof(types); i++) {
		struct rc_raft_msg m = h_msg(types[i], 1, 2, 3);
		struct rc_raft_msg got;
		uint8_t buf[128], cut[128];
		uint32_t len, fixed = RC_WIRE_HEADER_BYTES + bodies[i];
		enum rc_wire_error err;

		m.read_seq = 0x0102030405060708ull;
		len = t_encode(buf, sizeof(buf), &m);
		cr_assert_eq(len, fixed + 8);

		memcpy(cut, buf, len);
		memset(cut + fixed, 0, 8);
		cr_expect_eq(t_decode(cut, len, &got), RC_WIRE_EFIELD, "read_seq 0 on the wire");

		memcpy(cut, buf, len);
		cut[len] = 0;
		cut[12] = (uint8_t)(len + 1 - RC_WIRE_HEADER_BYTES);
		cr_expect_eq(t_decode(cut, len + 1, &got), RC_WIRE_ETRAILING, "a byte over");

		for (uint32_t k = RC_WIRE_HEADER_BYTES; k < len; k++) {
			memcpy(cut, buf, k);
			err = t_decode(cut, k, &got);
			cr_expect_eq(err, RC_WIRE_EBODY, "cut at %u, body_bytes as sent: %s", k,
				     rc_wire_strerror(err));
			cut[12] = (uint8_t)(k - RC_WIRE_HEADER_BYTES);
			err = t_decode(cut, k, &got);
			if (k < fixed)
				cr_expect_eq(err, RC_WIRE_EBODY, "cut at %u: %s", k,
					     rc_wire_strerror(err));
			else if (k == fixed)
				cr_expect(err == RC_WIRE_OK && got.read_seq == 0, "cut at %u: %s",
					  k, rc_wire_strerror(err));
			else
				cr_expect_eq(err, RC_WIRE_ETRAILING, "cut at %u: %s", k,
					     rc_wire_strerror(err));
		}
	}
}
