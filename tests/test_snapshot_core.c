/*
 * InstallSnapshot in the pure core (Raft paper §7): the leader asks for a snapshot for a
 * follower whose next entry it compacted (RC_UPDATE_SNAPSHOT, snapshot_peers), and the follower
 * installs the one the runtime restored (RC_EVENT_SNAPSHOT). The runtime's transfer of the bytes
 * is not modelled: a test steps the event as the runtime does once the state machine holds the
 * snapshot. The runs read like this:
 *
 *   1: leader t1, 3 silent, ~34k entries committed with 2, compacted to 1100
 *   3 back: HEARTBEAT_RESP 3>1        => 3 STALLED, SNAPSHOT peers {3}
 *   [tick] 1                          => HEARTBEAT 1>3, SNAPSHOT peers {3} again
 *   3 <- SNAPSHOT 1100 t1 from 1 t1    => log restarted at 1100, APPEND_RESP 3>1 1100
 *   1 <- APPEND_RESP 3>1 1100          => 3 REPLICATE, APPEND 1>3 prev 1100 ...
 */
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include <replicore/limits.h>
#include <replicore/raft.h>

#include "raft_harness.h"

#define E H_ELECTION_TICKS

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Rounds a t_run() may take before the cluster must be quiet. */
#define T_ROUNDS_MAX 400u

/* ---- Helpers --------------------------------------------------------------------------------- */

/* What t_run() saw in the updates it executed, per node id. */
struct t_seen {
	uint32_t snapshot_peers[RC_NODES_MAX + 1];  /* union of the SNAPSHOT requests */
	uint32_t installs[RC_NODES_MAX + 1];	    /* SNAPSHOT_INSTALLED updates */
	uint64_t apply_first_min[RC_NODES_MAX + 1]; /* lowest apply_first; UINT64_MAX: none */
};

/* Forgets what seen holds. */
static void
t_seen_reset(struct t_seen *seen)
{
	memset(seen, 0, sizeof(*seen));
	for (uint16_t id = 0; id <= RC_NODES_MAX; id++)
		seen->apply_first_min[id] = UINT64_MAX;
}

/* Notes in seen what node id's update (about to be executed) asks for. */
static void
t_seen_note(struct t_seen *seen, const struct h_net *n, uint16_t id)
{
	const struct rc_raft_update *u = n->u[id];

	cr_assert_eq((u->flags & RC_UPDATE_SNAPSHOT) != 0, u->snapshot_peers != 0,
		     "node %u: SNAPSHOT flag disagrees with peers 0x%x", id, u->snapshot_peers);
	seen->snapshot_peers[id] |= u->snapshot_peers;
	if (u->flags & RC_UPDATE_SNAPSHOT_INSTALLED)
		seen->installs[id]++;
	if ((u->flags & RC_UPDATE_APPLY) && u->apply_first < seen->apply_first_min[id])
		seen->apply_first_min[id] = u->apply_first;
}

/* Steps RC_EVENT_APPLIED on node id up to what the harness saw reported, as the runtime does. */
static void
t_applied(struct h_net *n, uint16_t id)
{
	struct rc_raft_event ev;

	if (!n->apply_seen[id] || n->applied_to[id] <= n->r[id]->applied)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = RC_EVENT_APPLIED;
	ev.applied.index = n->applied_to[id];
	h_step(n, id, &ev);
}

/*
 * h_run() that also applies what each node reported (so logs compact) and notes in seen what
 * the updates asked for. The trace restarts with this run.
 */
static void
t_run(struct h_net *n, struct t_seen *seen)
{
	n->trace_count = 0;
	for (uint32_t round = 0; round < T_ROUNDS_MAX; round++) {
		bool busy = false;

		n->q_count = 0;
		n->q_entry_count = 0;
		for (uint16_t id = 1; id <= RC_NODES_MAX; id++) {
			if (n->r[id] == NULL)
				continue;
			t_seen_note(seen, n, id);
			h_queue_take(n, n->u[id]->msgs, n->u[id]->msg_count);
			h_queue_take(n, n->u[id]->msgs_after_persist,
				     n->u[id]->msg_after_persist_count);
			busy |= h_persist(n, id);
			t_applied(n, id);
		}
		if (n->q_count == 0 && !busy)
			return;
		for (uint32_t i = 0; i < n->q_count; i++)
			if (n->r[n->q[i].to] != NULL)
				h_recv(n, &n->q[i]);
	}
	cr_assert_fail("the cluster is not quiet after %u rounds", T_ROUNDS_MAX);
}

/* Proposes count (<= RC_PROPOSE_ENTRIES_MAX) one-byte entries at the leader; all must fit. */
static void
t_propose(struct h_net *n, uint16_t id, uint32_t count)
{
	static struct rc_raft_entry ents[RC_PROPOSE_ENTRIES_MAX];
	struct rc_raft_event ev;

	cr_assert_leq(count, RC_PROPOSE_ENTRIES_MAX);
	for (uint32_t i = 0; i < count; i++)
		ents[i] = (struct rc_raft_entry){ .ref = 5000 + i, .bytes = 1 };
	memset(&ev, 0, sizeof(ev));
	ev.type = RC_EVENT_PROPOSE;
	ev.propose.entries = ents;
	ev.propose.count = count;
	h_step(n, id, &ev);
	cr_assert_eq(n->u[id]->propose_accepted, count, "leader took %u of %u entries",
		     n->u[id]->propose_accepted, count);
}

/* Steps RC_EVENT_SNAPSHOT on node id: the snapshot (index, term) of leader in leader_term. */
static void
t_snapshot(struct h_net *n, uint16_t id, uint64_t index, uint64_t term, uint64_t leader_term,
	   uint16_t leader)
{
	struct rc_raft_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = RC_EVENT_SNAPSHOT;
	ev.snapshot.index = index;
	ev.snapshot.term = term;
	ev.snapshot.leader_term = leader_term;
	ev.snapshot.leader = leader;
	h_step(n, id, &ev);
}

/*
 * The runtime's side of an install on node id: asks rc_raft_snapshot_wanted() (it must say
 * yes), "restores the state machine" (the harness' applied mark jumps to index), steps the
 * event.
 */
static void
t_install(struct h_net *n, uint16_t id, uint64_t index, uint64_t term, uint64_t leader_term,
	  uint16_t leader)
{
	cr_assert(rc_raft_snapshot_wanted(n->r[id], index, leader_term),
		  "node %u does not want snapshot %lu (commit %lu)", id, (unsigned long)index,
		  (unsigned long)n->r[id]->commit);
	n->apply_seen[id] = true;
	n->applied_to[id] = index;
	t_snapshot(n, id, index, term, leader_term, leader);
}

/* Asserts that node id's update holds one accepted APPEND_RESP to `to` of index, after persist. */
static void
t_expect_ack(const struct h_net *n, uint16_t id, uint16_t to, uint64_t index)
{
	const struct rc_raft_update *u = n->u[id];
	const struct rc_raft_msg *m = h_find_after(u, RC_MSG_APPEND_RESP, to);

	cr_assert_not_null(m, "node %u: no APPEND_RESP to %u after persist", id, to);
	cr_expect_eq(h_count_any(u, RC_MSG_APPEND_RESP, to), 1);
	cr_expect_eq(m->reject, 0, "node %u: the ack is a reject", id);
	cr_expect_eq(m->index, index, "node %u: ack of %lu, want %lu", id, (unsigned long)m->index,
		     (unsigned long)index);
	cr_expect_eq(m->term, n->r[id]->term);
}

/* Asserts a and b hold the same entries (term and ref) from index from to their common end. */
static void
t_expect_same_tail(const struct rc_raft *a, const struct rc_raft *b, uint64_t from)
{
	cr_assert_eq(a->last_index, b->last_index, "last index %lu vs %lu",
		     (unsigned long)a->last_index, (unsigned long)b->last_index);
	for (uint64_t i = from; i <= a->last_index; i++) {
		const struct rc_raft_entry *ea = rc_raft_entry_at(a, i);
		const struct rc_raft_entry *eb = rc_raft_entry_at(b, i);

		cr_assert(ea != NULL && eb != NULL, "entry %lu missing", (unsigned long)i);
		cr_assert(ea->term == eb->term && ea->ref == eb->ref,
			  "entry %lu: term %lu ref %lu vs term %lu ref %lu", (unsigned long)i,
			  (unsigned long)ea->term, (unsigned long)ea->ref, (unsigned long)eb->term,
			  (unsigned long)eb->ref);
	}
}

/* The 3-node cluster: node 1 leads in term 1, its NOOP committed everywhere. */
static struct h_net *
t_cluster(struct t_seen *seen)
{
	struct h_net *n = h_net_new();

	for (uint16_t id = 1; id <= 3; id++)
		h_node(n, id, 3, 0, 0, 0, NULL, 0);
	h_campaign(n, 1);
	t_run(n, seen);
	cr_assert_eq(n->r[1]->role, RC_ROLE_LEADER);
	h_tick(n, 1, 1); /* a heartbeat carries the commit index */
	t_run(n, seen);
	for (uint16_t id = 1; id <= 3; id++)
		cr_assert_eq(n->r[id]->commit, 1, "node %u: commit %lu", id,
			     (unsigned long)n->r[id]->commit);
	return n;
}

/*
 * The cluster with node 3 cut off while 1 and 2 commit until the leader compacts past 3's next
 * entry; node 3 is back on return, not yet heard from. Returns node 3, cut off meanwhile.
 */
static struct h_net *
t_cluster_lagging(struct t_seen *seen)
{
	struct h_net *n = t_cluster(seen);
	struct rc_raft *r1 = n->r[1];
	struct rc_raft *r3 = n->r[3];
	uint32_t rounds;

	n->r[3] = NULL; /* its messages are dropped */
	for (uint32_t t = 0; t < E; t++) {
		h_tick(n, 1, 1);
		t_run(n, seen);
	}
	/* Silent for an election timeout: 3 no longer holds flow control back. */
	for (rounds = 0; r1->snap_index < h_progress(r1, 3)->next; rounds++) {
		cr_assert_lt(rounds, 2 * RC_LOG_ENTRIES_MAX / RC_PROPOSE_ENTRIES_MAX,
			     "the leader never compacted past node 3");
		t_propose(n, 1, RC_PROPOSE_ENTRIES_MAX);
		t_run(n, seen);
		cr_assert_eq(r1->commit, r1->last_index);
	}
	cr_assert_eq(h_progress(r1, 3)->state, RC_PROGRESS_REPLICATE, "stalls only once heard");
	cr_assert_eq(r3->last_index, 1);
	n->r[3] = r3;
	return n;
}

/* Brings node 3 of t_cluster_lagging() back: a heartbeat round makes the leader stall it. */
static struct h_net *
t_cluster_stalled(struct t_seen *seen)
{
	struct h_net *n = t_cluster_lagging(seen);

	t_seen_reset(seen);
	h_tick(n, 1, 1);
	t_run(n, seen);
	cr_assert_eq(h_progress(n->r[1], 3)->state, RC_PROGRESS_STALLED);
	return n;
}

/* ---- The leader asks for snapshots ----------------------------------------------------------- */

/*
 * §7: "the leader must occasionally send snapshots to followers that lag behind. This happens
 * when the leader has already discarded the next log entry that it needs to send to a
 * follower." The update names the follower when it stalls and at every heartbeat after, the
 * heartbeats to it go on, and the others keep committing.
 */
Test(snapshot_core, leader_asks_for_snapshot_of_a_follower_behind_compaction)
{
	struct t_seen seen;
	struct h_net *n;
	struct rc_raft *r1;
	uint32_t bit3;
	uint64_t last3;

	t_seen_reset(&seen);
	n = t_cluster_stalled(&seen);
	r1 = n->r[1];
	bit3 = 1u << h_slot(r1, 3);
	cr_expect_eq(seen.snapshot_peers[1], bit3, "asked for peers 0x%x, want 0x%x",
		     seen.snapshot_peers[1], bit3);
	cr_expect_eq(seen.snapshot_peers[2] | seen.snapshot_peers[3], 0, "followers ask nothing");
	cr_expect_null(h_trace_find(n, RC_MSG_APPEND, 1, 3, 0), "no append for a stalled peer");

	/* The next heartbeat asks again, and still reaches 3 (lost here: the update is reset). */
	h_tick(n, 1, 1);
	cr_expect(n->u[1]->flags & RC_UPDATE_SNAPSHOT);
	cr_expect_eq(n->u[1]->snapshot_peers, bit3);
	cr_expect_not_null(h_find_now(n->u[1], RC_MSG_HEARTBEAT, 3));
	rc_raft_update_reset(n->u[1]);
	cr_expect_eq(n->u[1]->snapshot_peers, 0, "reset clears the request");
	cr_expect_eq(n->u[1]->flags, 0);

	/* Meanwhile 1 and 2 commit, and 3, though heard from, holds nothing back. */
	last3 = n->r[3]->last_index;
	t_seen_reset(&seen);
	t_propose(n, 1, RC_PROPOSE_ENTRIES_MAX);
	t_run(n, &seen);
	h_tick(n, 1, 1); /* the heartbeat tells 2 the commit index, and asks for 3 again */
	t_run(n, &seen);
	cr_expect_eq(r1->commit, r1->last_index);
	cr_expect_eq(n->r[2]->commit, r1->last_index);
	cr_expect_eq(h_progress(r1, 3)->state, RC_PROGRESS_STALLED);
	cr_expect_eq(seen.snapshot_peers[1], bit3);
	cr_expect_eq(n->r[3]->last_index, last3);
	h_net_free(n);
}

/*
 * An accepted answer below the leader's compaction point (an old one, or a snapshot older than
 * what the leader compacted since) leaves the follower stalled and asks again; a rejected one
 * changes nothing.
 */
Test(snapshot_core, ack_below_compaction_point_keeps_the_follower_stalled)
{
	struct t_seen seen;
	struct h_net *n;
	struct rc_raft *r1;
	struct rc_raft_msg m;

	t_seen_reset(&seen);
	n = t_cluster_stalled(&seen);
	r1 = n->r[1];
	m = h_msg(RC_MSG_APPEND_RESP, 3, 1, r1->term);
	m.index = r1->snap_index - 1;
	h_recv(n, &m);
	cr_expect_eq(h_progress(r1, 3)->state, RC_PROGRESS_STALLED);
	cr_expect_eq(n->u[1]->snapshot_peers, 1u << h_slot(r1, 3));
	cr_expect_eq(h_count_now(n->u[1], RC_MSG_APPEND, 3), 0);
	h_reset(n, 1);

	m.reject = 1;
	m.index = h_progress(r1, 3)->next - 1;
	h_recv(n, &m);
	cr_expect_eq(h_progress(r1, 3)->state, RC_PROGRESS_STALLED);
	cr_expect_eq(n->u[1]->msg_count, 0);
	h_net_free(n);
}

/* ---- The follower installs ------------------------------------------------------------------- */

/*
 * §7: "the follower discards its entire log; it is all superseded by the snapshot", then
 * replication goes on from the snapshot: the leader moves the follower to REPLICATE on its ack
 * and sends the entries after the snapshot, the follower's log ends up as the leader's, and the
 * follower never applies an entry the snapshot holds.
 */
Test(snapshot_core, install_then_leader_replicates_after_the_snapshot)
{
	struct t_seen seen;
	struct h_net *n;
	struct rc_raft *r1, *r3;
	const struct rc_raft_update *u3;
	const struct rc_raft_msg *m;
	struct rc_raft *r2;
	uint64_t s, s_term;

	t_seen_reset(&seen);
	n = t_cluster_stalled(&seen);
	r1 = n->r[1];
	r3 = n->r[3];
	/* The oldest snapshot the leader takes: at its compaction point, 32k entries back. */
	s = r1->snap_index;
	s_term = rc_raft_term_at(r1, s);
	h_reset(n, 3);
	t_install(n, 3, s, s_term, r1->term, 1);

	u3 = n->u[3];
	cr_expect(u3->flags & RC_UPDATE_SNAPSHOT_INSTALLED);
	cr_expect_eq(u3->snapshot_index, s);
	cr_expect_eq(u3->snapshot_term, s_term);
	cr_expect_not(u3->snapshot_tail_kept, "3 held only entry 1: its log goes");
	cr_expect_not(u3->flags & (RC_UPDATE_APPLY | RC_UPDATE_ENTRIES));
	t_expect_ack(n, 3, 1, s);
	cr_expect_eq(r3->snap_index, s);
	cr_expect_eq(r3->snap_term, s_term);
	cr_expect_eq(r3->last_index, s);
	cr_expect_eq(r3->commit, s);
	cr_expect_eq(r3->persisted, s);
	cr_expect_eq(r3->applied, s);
	cr_expect_eq(r3->apply_next, s + 1);
	cr_expect_eq(rc_raft_term_at(r3, s), s_term);
	cr_expect_null(rc_raft_entry_at(r3, s));
	cr_expect_null(rc_raft_entry_at(r3, 1));

	t_seen_reset(&seen);
	t_run(n, &seen);
	m = h_trace_find(n, RC_MSG_APPEND, 1, 3, 0);
	cr_assert_not_null(m, "no append to 3 after its ack");
	cr_expect_eq(m->index, s, "first append after prev %lu, want %lu", (unsigned long)m->index,
		     (unsigned long)s);
	cr_expect_eq(m->log_term, s_term);
	cr_expect_gt(m->entry_count, 0);
	cr_expect_eq(h_progress(r1, 3)->state, RC_PROGRESS_REPLICATE);
	cr_expect_eq(h_progress(r1, 3)->match, r1->last_index);
	cr_expect_eq(seen.snapshot_peers[1], 0, "nobody left to ask for");
	t_expect_same_tail(r1, r3, s + 1);
	cr_expect_eq(r3->commit, r1->commit);
	/* The apply ranges after the install start past the snapshot and run to the commit. */
	cr_expect_eq(seen.apply_first_min[3], s + 1);
	cr_expect_eq(n->applied_to[3], r3->commit);

	/* And 3 counts again: with 2 cut off, new entries commit with 3. */
	r2 = n->r[2];
	n->r[2] = NULL;
	t_propose(n, 1, 8);
	t_run(n, &seen);
	h_tick(n, 1, 1);
	t_run(n, &seen);
	n->r[2] = r2;
	cr_expect_eq(r1->commit, r1->last_index);
	cr_expect_eq(r3->commit, r1->last_index);
	h_net_free(n);
}

/*
 * A snapshot from an earlier term, or one within the commit index, changes nothing: the state
 * machine never goes back. rc_raft_snapshot_wanted() says so before the runtime restores.
 */
Test(snapshot_core, stale_snapshot_changes_nothing)
{
	static const uint64_t terms[] = { 1, 1, 2, 2, 3 };
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 2, 3, 3, 0, 4, terms, ARRAY_SIZE(terms));
	struct rc_raft *before = malloc(sizeof(*before));
	struct rc_raft_event ev;

	cr_assert_not_null(before);
	/* Hand out and apply what the node starts with committed. */
	h_tick(n, 2, 1);
	h_reset(n, 2);
	memset(&ev, 0, sizeof(ev));
	ev.type = RC_EVENT_APPLIED;
	ev.applied.index = 4;
	h_step(n, 2, &ev);
	h_reset(n, 2);

	/* An earlier term: no answer, not a bit changed. */
	cr_expect_not(rc_raft_snapshot_wanted(r, 9, 2));
	memcpy(before, r, sizeof(*r));
	t_snapshot(n, 2, 9, 2, 2, 1);
	cr_expect_eq(memcmp(before, r, sizeof(*r)), 0, "a stale snapshot changed the node");
	cr_expect_eq(n->u[2]->flags, 0, "a stale snapshot produced 0x%x", n->u[2]->flags);
	cr_expect_eq(n->u[2]->msg_count + n->u[2]->msg_after_persist_count, 0);

	/* Within the commit, in our term: the leader learns our commit, the log stays. */
	cr_expect_not(rc_raft_snapshot_wanted(r, 4, 3));
	cr_expect_not(rc_raft_snapshot_wanted(r, 3, 3));
	cr_expect(rc_raft_snapshot_wanted(r, 5, 3));
	t_snapshot(n, 2, 3, 2, 3, 1);
	cr_expect_not(n->u[2]->flags & (RC_UPDATE_SNAPSHOT_INSTALLED | RC_UPDATE_APPLY));
	t_expect_ack(n, 2, 1, 4);
	cr_expect_eq(r->leader, 1);
	cr_expect_eq(r->snap_index, 0);
	cr_expect_eq(r->last_index, 5);
	cr_expect_eq(r->commit, 4);
	cr_expect_eq(r->applied, 4);
	h_reset(n, 2);

	/* Within the commit, from a later term: we follow that leader, and install nothing. */
	cr_expect_not(rc_raft_snapshot_wanted(r, 4, 7));
	t_snapshot(n, 2, 4, 3, 7, 3);
	cr_expect_eq(r->term, 7);
	cr_expect_eq(r->leader, 3);
	cr_expect_eq(r->role, RC_ROLE_FOLLOWER);
	cr_expect(n->u[2]->flags & RC_UPDATE_HARD_STATE);
	cr_expect_not(n->u[2]->flags & RC_UPDATE_SNAPSHOT_INSTALLED);
	t_expect_ack(n, 2, 3, 4);
	cr_expect_eq(r->last_index, 5);
	free(before);
	h_net_free(n);
}

/* The leader of a term never takes a snapshot of its own term from anyone. */
Test(snapshot_core, leader_ignores_snapshot_of_its_own_term)
{
	struct h_net *n = h_net_new();
	struct rc_raft *r;

	for (uint16_t id = 1; id <= 3; id++)
		h_node(n, id, 3, 0, 0, 0, NULL, 0);
	r = h_make_stable_leader(n, 1);
	cr_expect_not(rc_raft_snapshot_wanted(r, 100, r->term));
	t_snapshot(n, 1, 100, r->term, r->term, 2);
	cr_expect_eq(r->role, RC_ROLE_LEADER);
	cr_expect_eq(r->last_index, 1);
	cr_expect_eq(n->u[1]->msg_count + n->u[1]->msg_after_persist_count, 0);
	cr_expect(rc_raft_snapshot_wanted(r, 100, r->term + 1), "a later leader's snapshot");
	h_net_free(n);
}

/*
 * §7: "If the follower receives a snapshot that describes a prefix of its log (due to
 * retransmission or by mistake), then log entries covered by the snapshot are deleted but
 * entries following the snapshot are still valid and must be retained."
 */
Test(snapshot_core, install_keeps_the_tail_after_a_matching_entry)
{
	static const uint64_t terms[] = { 1, 1, 2, 2, 3, 3 };
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 2, 3, 3, 0, 2, terms, ARRAY_SIZE(terms));
	const struct rc_raft_update *u = n->u[2];

	t_install(n, 2, 4, 2, 3, 1);
	cr_expect(u->flags & RC_UPDATE_SNAPSHOT_INSTALLED);
	cr_expect(u->snapshot_tail_kept);
	cr_expect_eq(u->snapshot_index, 4);
	cr_expect_eq(u->snapshot_term, 2);
	cr_expect_not(u->flags & RC_UPDATE_APPLY, "entries 1..2 are in the snapshot");
	t_expect_ack(n, 2, 1, 4);
	cr_expect_eq(r->snap_index, 4);
	cr_expect_eq(r->last_index, 6);
	cr_expect_eq(r->persisted, 6);
	cr_expect_eq(r->commit, 4);
	cr_expect_eq(r->applied, 4);
	cr_expect_null(rc_raft_entry_at(r, 4));
	cr_expect_eq(rc_raft_term_at(r, 4), 2);
	cr_expect_eq(rc_raft_entry_at(r, 5)->ref, 5);
	cr_expect_eq(rc_raft_entry_at(r, 6)->term, 3);
	h_reset(n, 2);

	/* The leader's commit reaches the kept tail, which is applied from 5 on. */
	struct rc_raft_msg hb = h_msg(RC_MSG_HEARTBEAT, 1, 2, 3);

	hb.commit = 6;
	h_recv(n, &hb);
	cr_expect(u->flags & RC_UPDATE_APPLY);
	cr_expect_eq(u->apply_first, 5);
	cr_expect_eq(u->apply_last, 6);
	h_reset(n, 2);
	h_net_free(n);
}

/*
 * §7: "If instead the follower receives a snapshot that describes [entries] not already in the
 * recipient's log, the follower discards its entire log": here the log holds the snapshot's
 * index with another term.
 */
Test(snapshot_core, install_discards_a_conflicting_log)
{
	static const uint64_t terms[] = { 1, 1, 2, 2, 2, 2 };
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 2, 3, 2, 0, 2, terms, ARRAY_SIZE(terms));
	const struct rc_raft_update *u = n->u[2];

	t_install(n, 2, 4, 3, 3, 1);
	cr_expect(u->flags & RC_UPDATE_SNAPSHOT_INSTALLED);
	cr_expect_not(u->snapshot_tail_kept);
	cr_expect_eq(u->snapshot_index, 4);
	cr_expect_eq(u->snapshot_term, 3);
	cr_expect(u->flags & RC_UPDATE_ROLE, "a later term");
	t_expect_ack(n, 2, 1, 4);
	cr_expect_eq(r->term, 3);
	cr_expect_eq(r->leader, 1);
	cr_expect_eq(r->last_index, 4);
	cr_expect_eq(r->persisted, 4);
	cr_expect_eq(r->commit, 4);
	cr_expect_eq(rc_raft_term_at(r, 4), 3);
	cr_expect_null(rc_raft_entry_at(r, 5));
	h_reset(n, 2);

	/* The leader goes on after the snapshot. */
	struct rc_raft_entry e = { .term = 3, .ref = 77, .bytes = 7 };
	struct rc_raft_msg app = h_msg(RC_MSG_APPEND, 1, 2, 3);

	app.index = 4;
	app.log_term = 3;
	app.commit = 5;
	app.entries = &e;
	app.entry_count = 1;
	h_recv(n, &app);
	t_expect_ack(n, 2, 1, 5);
	cr_expect_eq(u->persist_first, 5);
	cr_expect_eq(u->persist_last, 5);
	h_persist(n, 2);
	cr_expect(u->flags & RC_UPDATE_APPLY);
	cr_expect_eq(u->apply_first, 5, "apply after the snapshot, not from 1");
	cr_expect_eq(u->apply_last, 5);
	h_reset(n, 2);
	h_net_free(n);
}

/*
 * Work the update held for entries the snapshot covers goes: writes of entries up to the
 * snapshot (the rest of the range stays when the tail is kept), and the apply range, which is
 * within the old commit. Nothing up to the snapshot is ever handed out for applying.
 */
Test(snapshot_core, install_drops_update_work_the_snapshot_covers)
{
	static const uint64_t terms[] = { 1, 1, 1, 1 };
	struct rc_raft_entry ents[4] = {
		{ .term = 1, .ref = 13, .bytes = 1 },
		{ .term = 1, .ref = 14, .bytes = 1 },
		{ .term = 1, .ref = 15, .bytes = 1 },
		{ .term = 1, .ref = 16, .bytes = 1 },
	};
	struct h_net *n = h_net_new();
	struct rc_raft *r = h_node(n, 2, 3, 1, 0, 0, terms, ARRAY_SIZE(terms));
	const struct rc_raft_update *u = n->u[2];
	struct rc_raft_msg app = h_msg(RC_MSG_APPEND, 1, 2, 1);

	/* One update: entries 5..8 to write, 1..3 committed and handed out, then a snapshot at 6
	 * the log holds. */
	app.index = 4;
	app.log_term = 1;
	app.commit = 3;
	app.entries = ents;
	app.entry_count = 4;
	h_recv(n, &app);
	cr_assert(u->flags & RC_UPDATE_APPLY);
	cr_assert_eq(u->apply_last, 3);
	cr_assert_eq(u->persist_first, 5);
	t_install(n, 2, 6, 1, 1, 1);
	cr_expect_not(u->flags & RC_UPDATE_APPLY, "1..3 are in the snapshot");
	cr_expect(u->snapshot_tail_kept);
	cr_expect(u->flags & RC_UPDATE_ENTRIES);
	cr_expect_eq(u->persist_first, 7, "entries up to 6 are not written");
	cr_expect_eq(u->persist_last, 8);
	cr_expect_eq(r->persisted, 6);
	h_persist(n, 2);
	cr_expect_eq(r->persisted, 8);
	cr_expect_eq(n->applied_to[2], 6, "nothing applied past the snapshot yet");

	/* A snapshot past the log in a later term empties it: no write, no apply left. */
	app.index = 8;
	app.commit = 8;
	app.entries = ents;
	app.entry_count = 2;
	h_recv(n, &app);
	cr_assert(u->flags & RC_UPDATE_ENTRIES);
	cr_assert(u->flags & RC_UPDATE_APPLY);
	cr_assert_eq(u->apply_first, 7);
	t_install(n, 2, 12, 2, 2, 1);
	cr_expect_not(u->flags & (RC_UPDATE_ENTRIES | RC_UPDATE_APPLY));
	cr_expect_not(u->snapshot_tail_kept);
	cr_expect_eq(u->snapshot_index, 12);
	cr_expect_eq(r->last_index, 12);
	cr_expect_eq(r->apply_next, 13);

	/* A second install in the same update keeps its tail, but the update still says the
	 * stored log goes: the first one emptied it. */
	app = h_msg(RC_MSG_APPEND, 1, 2, 2);
	ents[0].term = 2;
	ents[1].term = 2;
	app.index = 12;
	app.log_term = 2;
	app.commit = 12;
	app.entries = ents;
	app.entry_count = 2;
	h_recv(n, &app);
	t_install(n, 2, 13, 2, 2, 1);
	cr_expect_eq(u->snapshot_index, 13);
	cr_expect_not(u->snapshot_tail_kept);
	cr_expect(u->flags & RC_UPDATE_ENTRIES);
	cr_expect_eq(u->persist_first, 14);
	cr_expect_eq(u->persist_last, 14);
	cr_expect_eq(r->last_index, 14);
	h_persist(n, 2);
	h_reset(n, 2);
	cr_expect_eq(r->persisted, 14);
	cr_expect_eq(n->applied_to[2], 13, "nothing up to a snapshot is handed out");
	h_net_free(n);
}

/* The event's contract: the snapshot comes from another voter, with a term its leader had. */
Test(snapshot_core, snapshot_from_unknown_leader_aborts, .signal = SIGABRT)
{
	struct h_net *n = h_net_new();

	h_node(n, 2, 3, 1, 0, 0, NULL, 0);
	t_snapshot(n, 2, 5, 1, 1, 9);
}

Test(snapshot_core, snapshot_from_self_aborts, .signal = SIGABRT)
{
	struct h_net *n = h_net_new();

	h_node(n, 2, 3, 1, 0, 0, NULL, 0);
	t_snapshot(n, 2, 5, 1, 1, 2);
}

Test(snapshot_core, snapshot_term_past_leader_term_aborts, .signal = SIGABRT)
{
	struct h_net *n = h_net_new();

	h_node(n, 2, 3, 1, 0, 0, NULL, 0);
	t_snapshot(n, 2, 5, 3, 2, 1);
}
