/*
 * Tests of the simulator's invariant checkers (drivers/sim/checker.h): every checker fires on a
 * crafted violation and stays silent on the legal situation next to it.
 *
 * Node states come from rc_raft_init() on a crafted disk and from the real core driven by
 * events. The checker is called in the order the simulator uses: reset, on_start per node, then
 * per batch batch_begin, after_step after every step, batch_end, on_apply per applied index.
 * Messages in the name of a peer whose core is not asked (a vote, an ack, a heartbeat) are
 * written by the test; where a violation needs a message no correct peer would send, the test
 * says so. The core is written into directly in one place only (commit-monotonic), where no
 * event can reach the state, and the comment there says why.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <replicore/raft.h>

#include "checker.h"

/* Nodes of every world unless a test starts a smaller one. */
#define T_NODES 3u

static struct rc_checker t_checker;
static struct rc_raft *t_raft[T_NODES + 1]; /* by node id; [0] unused */
static struct rc_raft_update *t_update;	    /* the batch in progress; one at a time */
static uint16_t t_node_count;

/* ---- The harness ------------------------------------------------------------------------ */

/* A NORMAL entry of term named ref, as a disk or an APPEND holds it. */
static struct rc_raft_entry
t_e(uint64_t term, uint64_t ref)
{
	struct rc_raft_entry e = { .term = term, .ref = ref, .type = RC_ENTRY_NORMAL };

	return e;
}

/* The NOOP a leader of term appends when it takes office. */
static struct rc_raft_entry
t_noop(uint64_t term)
{
	struct rc_raft_entry e = { .term = term, .type = RC_ENTRY_NOOP };

	return e;
}

/* Starts a new world of node_count nodes on the same cores (booted later with t_boot()). */
static void
t_world(uint16_t node_count)
{
	cr_assert(node_count >= 1 && node_count <= T_NODES, "bad world size %u", node_count);
	t_node_count = node_count;
	rc_checker_reset(&t_checker, node_count, &t_raft[1]);
}

/* Allocates the checker, the cores (about 1.6 MB each: never on the stack) and the update. */
static void
t_setup(void)
{
	uint16_t id;

	cr_assert_eq(rc_checker_init(&t_checker), 0, "checker tables");
	for (id = 1; id <= T_NODES; id++) {
		t_raft[id] = calloc(1, sizeof(*t_raft[id]));
		cr_assert_not_null(t_raft[id], "out of memory");
	}
	t_update = calloc(1, sizeof(*t_update));
	cr_assert_not_null(t_update, "out of memory");
	t_world(T_NODES);
}

/* Frees what t_setup() allocated. */
static void
t_teardown(void)
{
	uint16_t id;

	rc_checker_fini(&t_checker);
	for (id = 1; id <= T_NODES; id++) {
		free(t_raft[id]);
		t_raft[id] = NULL;
	}
	free(t_update);
	t_update = NULL;
}

TestSuite(checker, .init = t_setup, .fini = t_teardown);

/*
 * Boots node id of the current world from a crafted disk: hard state term (no vote) with a
 * commit hint, and entries[0..count) at indexes 1..count; then tells the checker it started (a
 * new life). Term 0 with no entries is a new node. Pre-vote and check-quorum are off, so CAMPAIGN
 * and the messages the tests write act by the paper's rules alone.
 */
static void
t_boot(uint16_t id, uint64_t term, uint64_t commit, const struct rc_raft_entry *entries,
       uint64_t count)
{
	struct rc_raft_hard_state hs = { .term = term, .commit = commit };
	uint16_t voters[T_NODES];
	struct rc_raft_config cfg;
	uint16_t i;

	cr_assert(id >= 1 && id <= t_node_count, "node %u outside the world", id);
	for (i = 0; i < t_node_count; i++)
		voters[i] = i + 1;
	rc_raft_config_default(&cfg, id, voters, t_node_count);
	cfg.pre_vote = false;
	cfg.check_quorum = false;
	cr_assert_eq(rc_raft_init(t_raft[id], &cfg, &hs, entries, 1, count), 0,
		     "node %u refused its crafted disk", id);
	rc_checker_on_start(&t_checker, id);
}

/* Boots node id as a new node: term 0, empty log. */
static void
t_boot_new(uint16_t id)
{
	t_boot(id, 0, 0, NULL, 0);
}

/* Begins a batch of steps on node id: an empty update, and the checker's snapshot. */
static void
t_begin(uint16_t id)
{
	rc_raft_update_reset(t_update);
	rc_checker_batch_begin(&t_checker, id);
}

/* Steps ev on node id into the batch's update, then runs the per-step checks. */
static void
t_step(uint16_t id, const struct rc_raft_event *ev)
{
	cr_assert(rc_raft_update_has_room(t_update), "node %u: update full", id);
	rc_raft_step(t_raft[id], ev, t_update);
	rc_checker_after_step(&t_checker, id);
}

/*
 * Executes the batch's update as the simulator does: batch_end, then on_apply for every index
 * the update reports committed, in order; nothing is applied once a violation is known.
 */
static void
t_end(uint16_t id)
{
	uint64_t i;

	rc_checker_batch_end(&t_checker, id, t_update);
	if (!(t_update->flags & RC_UPDATE_APPLY))
		return;
	for (i = t_update->apply_first;
	     i <= t_update->apply_last && rc_checker_violation(&t_checker) == NULL; i++)
		rc_checker_on_apply(&t_checker, id, i);
}

/* A message of type from -> to in term, every other field zero. */
static struct rc_raft_msg
t_msg(uint8_t type, uint16_t from, uint16_t to, uint64_t term)
{
	struct rc_raft_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.from = from;
	m.to = to;
	m.term = term;
	return m;
}

/* Steps the receipt of m on node m->to (inside a batch). */
static void
t_recv(const struct rc_raft_msg *m)
{
	struct rc_raft_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = RC_EVENT_RECEIVE;
	ev.msg = *m;
	t_step(m->to, &ev);
}

/* Steps an event without arguments (TICK, CAMPAIGN) on node id (inside a batch). */
static void
t_event(uint16_t id, uint8_t type)
{
	struct rc_raft_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	t_step(id, &ev);
}

/* Steps RC_EVENT_PERSISTED on node id for its whole log (inside a batch). */
static void
t_persisted(uint16_t id)
{
	struct rc_raft_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = RC_EVENT_PERSISTED;
	ev.persisted.index = t_raft[id]->last_index;
	ev.persisted.term = rc_raft_term_at(t_raft[id], t_raft[id]->last_index);
	t_step(id, &ev);
}

/* Steps a PROPOSE of count NORMAL entries named ref_first, ref_first + 1, ... (inside a batch). */
static void
t_propose(uint16_t id, uint32_t count, uint64_t ref_first)
{
	struct rc_raft_entry entries[4];
	struct rc_raft_event ev;
	uint32_t i;

	cr_assert_leq(count, 4u);
	memset(entries, 0, sizeof(entries));
	for (i = 0; i < count; i++)
		entries[i].ref = ref_first + i;
	memset(&ev, 0, sizeof(ev));
	ev.type = RC_EVENT_PROPOSE;
	ev.propose.entries = entries;
	ev.propose.count = count;
	t_step(id, &ev);
	cr_assert_eq(t_update->propose_accepted, count, "node %u refused a proposal", id);
}

/* One batch on node m->to: the receipt of m. */
static void
t_batch_recv(const struct rc_raft_msg *m)
{
	t_begin(m->to);
	t_recv(m);
	t_end(m->to);
}

/* One batch on node id: one event without arguments. */
static void
t_batch_event(uint16_t id, uint8_t type)
{
	t_begin(id);
	t_event(id, type);
	t_end(id);
}

/* One batch on follower id: a heartbeat from `from` in term carrying commit. */
static void
t_heartbeat(uint16_t from, uint16_t id, uint64_t term, uint64_t commit)
{
	struct rc_raft_msg m = t_msg(RC_MSG_HEARTBEAT, from, id, term);

	m.commit = commit;
	t_batch_recv(&m);
}

/*
 * Elects node id in its next term, in two batches: CAMPAIGN, then a granted VOTE_RESP in the
 * name of granter (whose core is not asked). On return the update holds the new leader's NOOP
 * write and its first APPENDs.
 */
static void
t_make_leader(uint16_t id, uint16_t granter)
{
	struct rc_raft_msg m;

	t_batch_event(id, RC_EVENT_CAMPAIGN);
	cr_assert_eq(t_raft[id]->role, RC_ROLE_CANDIDATE, "node %u did not campaign", id);
	m = t_msg(RC_MSG_VOTE_RESP, granter, id, t_raft[id]->term);
	t_batch_recv(&m);
	cr_assert_eq(t_raft[id]->role, RC_ROLE_LEADER, "node %u did not win", id);
}

/* One batch on leader id: its write is durable, and `acker` acknowledges its log up to index. */
static void
t_leader_acked(uint16_t id, uint16_t acker, uint64_t index)
{
	struct rc_raft_msg m = t_msg(RC_MSG_APPEND_RESP, acker, id, t_raft[id]->term);

	m.index = index;
	t_begin(id);
	t_persisted(id);
	t_recv(&m);
	t_end(id);
}

/* A copy of the first message of type to node `to` in the update (now or after persist). */
static struct rc_raft_msg
t_take(uint8_t type, uint16_t to)
{
	uint32_t i;

	for (i = 0; i < t_update->msg_count; i++)
		if (t_update->msgs[i].type == type && t_update->msgs[i].to == to)
			return t_update->msgs[i];
	for (i = 0; i < t_update->msg_after_persist_count; i++)
		if (t_update->msgs_after_persist[i].type == type &&
		    t_update->msgs_after_persist[i].to == to)
			return t_update->msgs_after_persist[i];
	cr_assert_fail("no %s to node %u in the update", rc_raft_msg_name(type), to);
	return t_msg(RC_MSG_NONE, 0, 0, 0);
}

/* Asserts that the checker found nothing. */
static void
t_expect_clean(void)
{
	const char *v = rc_checker_violation(&t_checker);

	cr_assert_null(v, "unexpected violation: %s", v == NULL ? "" : v);
}

/* Asserts that the checker's first violation starts with prefix; returns its text. */
static const char *
t_expect_violation(const char *prefix)
{
	const char *v = rc_checker_violation(&t_checker);

	cr_assert_not_null(v, "no violation; expected one starting '%s'", prefix);
	cr_assert(strncmp(v, prefix, strlen(prefix)) == 0,
		  "violation '%s' does not start with '%s'", v, prefix);
	return v;
}

/* ---- election-safety ---------------------------------------------------------------------- */

Test(checker, election_safety_two_leaders_in_one_term)
{
	t_boot_new(1);
	t_boot_new(2);
	t_boot_new(3);
	t_make_leader(1, 3);
	cr_assert_eq(t_raft[1]->term, 1);
	t_expect_clean();
	/* n3's vote is given twice in term 1: what a node that forgot its vote would do. */
	t_make_leader(2, 3);
	cr_assert_eq(t_raft[2]->term, 1);
	cr_assert_str_eq(t_expect_violation("election-safety:"),
			 "election-safety: two leaders in term 1: n1 and n2");
}

Test(checker, election_safety_holds_across_a_crash_of_the_first_leader)
{
	t_boot_new(1);
	t_boot_new(2);
	t_boot_new(3);
	t_make_leader(1, 3);
	rc_checker_on_crash(&t_checker, 1);
	t_make_leader(2, 3);
	cr_assert_str_eq(t_expect_violation("election-safety:"),
			 "election-safety: two leaders in term 1: n1 and n2");
}

Test(checker, election_safety_leaders_of_different_terms_are_fine)
{
	t_boot_new(1);
	t_boot(2, 1, 0, NULL, 0); /* n2 has seen term 1: it campaigns in term 2 */
	t_boot_new(3);
	t_make_leader(1, 3);
	t_make_leader(2, 3);
	cr_assert_eq(t_raft[1]->term, 1);
	cr_assert_eq(t_raft[2]->term, 2);
	/* The deposed leader of term 1 keeps stepping until it hears of term 2: still fine. */
	t_batch_event(1, RC_EVENT_TICK);
	cr_assert_eq(t_raft[1]->role, RC_ROLE_LEADER);
	t_heartbeat(2, 1, 2, 0);
	cr_assert_eq(t_raft[1]->role, RC_ROLE_FOLLOWER);
	cr_assert_eq(t_checker.elections, 2);
	t_expect_clean();
}

/*
 * A single voter wins at once inside the CAMPAIGN step; if it crashes before the write of its
 * new term is durable, nobody else heard of that term, and after the restart it leads the same
 * term again. The same node twice is one leader, not two.
 */
Test(checker, election_safety_same_node_leads_its_term_again_after_a_restart)
{
	t_world(1);
	t_boot_new(1);
	t_batch_event(1, RC_EVENT_CAMPAIGN);
	cr_assert_eq(t_raft[1]->role, RC_ROLE_LEADER);
	cr_assert_eq(t_raft[1]->term, 1);
	cr_assert_eq(t_raft[1]->commit, 0, "nothing durable, nothing committed");
	rc_checker_on_crash(&t_checker, 1);
	t_boot_new(1); /* the write of term 1 was lost with the crash */
	t_batch_event(1, RC_EVENT_CAMPAIGN);
	cr_assert_eq(t_raft[1]->role, RC_ROLE_LEADER);
	cr_assert_eq(t_raft[1]->term, 1);
	cr_assert_eq(t_checker.elections, 1);
	t_expect_clean();
}

Test(checker, reset_forgets_the_leaders_of_the_last_world)
{
	t_boot_new(1);
	t_boot_new(2);
	t_boot_new(3);
	t_make_leader(1, 3);
	t_world(T_NODES);
	t_boot_new(1);
	t_boot_new(2);
	t_boot_new(3);
	t_make_leader(2, 3);
	cr_assert_eq(t_raft[2]->term, 1);
	t_expect_clean();
}

/* ---- log-matching ------------------------------------------------------------------------- */

Test(checker, log_matching_same_index_and_term_over_different_earlier_entries)
{
	const struct rc_raft_entry a[] = { t_e(1, 10), t_e(1, 11), t_e(2, 12) };
	const struct rc_raft_entry b[] = { t_e(1, 10), t_e(2, 20), t_e(2, 12) };

	t_boot(1, 2, 0, a, 3);
	t_expect_clean();
	t_boot(2, 2, 0, b, 3);
	t_expect_violation("log-matching: n2 and n1 share index 3 term 2 but differ at index 2");
}

Test(checker, log_matching_same_index_and_term_different_entry)
{
	const struct rc_raft_entry a[] = { t_e(1, 10), t_e(1, 11) };
	const struct rc_raft_entry b[] = { t_e(1, 10), t_e(1, 99) };

	t_boot(1, 1, 0, a, 2);
	t_boot(2, 1, 0, b, 2);
	t_expect_violation("log-matching: n2 and n1 share index 2 term 1 but differ at index 2");
}

Test(checker, log_matching_diverging_tails_and_prefixes_are_fine)
{
	const struct rc_raft_entry a[] = { t_e(1, 10), t_e(1, 11), t_e(2, 12) };
	const struct rc_raft_entry b[] = { t_e(1, 10), t_e(1, 11), t_e(3, 30) };
	const struct rc_raft_entry c[] = { t_e(1, 10) };

	t_boot(1, 2, 0, a, 3);
	t_boot(2, 3, 0, b, 3);
	t_boot(3, 1, 0, c, 1);
	rc_checker_full(&t_checker);
	t_expect_clean();
}

/* n2 takes an APPEND, in the name of n3, that makes index 2 differ under a shared (3, t2). */
static void
t_diverging_append(bool end_batch)
{
	const struct rc_raft_entry a[] = { t_e(1, 10), t_e(1, 11), t_e(2, 12) };
	const struct rc_raft_entry b[] = { t_e(1, 10), t_e(1, 11) };
	const struct rc_raft_entry sent[] = { t_e(2, 20), t_e(2, 12) };
	struct rc_raft_msg m = t_msg(RC_MSG_APPEND, 3, 2, 2);

	t_boot(1, 2, 0, a, 3);
	t_boot(2, 2, 0, b, 2);
	t_expect_clean();
	m.index = 1;
	m.log_term = 1;
	m.entries = sent;
	m.entry_count = 2;
	t_begin(2);
	t_recv(&m);
	cr_assert_eq(t_raft[2]->last_index, 3);
	cr_assert_eq(rc_raft_term_at(t_raft[2], 2), 2);
	t_expect_clean(); /* after_step does not compare logs */
	if (end_batch)
		t_end(2);
	else
		rc_checker_full(&t_checker);
}

Test(checker, log_matching_batch_end_checks_the_range_written)
{
	t_diverging_append(true);
	t_expect_violation("log-matching: n2 and n1 share index 3 term 2 but differ at index 2");
}

Test(checker, log_matching_full_check_compares_whole_logs)
{
	t_diverging_append(false);
	t_expect_violation("log-matching: n1 and n2 share index 3 term 2 but differ at index 2");
}

Test(checker, log_matching_append_that_agrees_is_fine)
{
	const struct rc_raft_entry a[] = { t_e(1, 10), t_e(1, 11), t_e(2, 12) };
	const struct rc_raft_entry b[] = { t_e(1, 10), t_e(1, 11) };
	const struct rc_raft_entry sent[] = { t_e(1, 11), t_e(2, 12) };
	struct rc_raft_msg m = t_msg(RC_MSG_APPEND, 3, 2, 2);

	t_boot(1, 2, 0, a, 3);
	t_boot(2, 2, 0, b, 2);
	m.index = 1;
	m.log_term = 1;
	m.entries = sent;
	m.entry_count = 2;
	t_batch_recv(&m);
	cr_assert_eq(t_raft[2]->last_index, 3);
	rc_checker_full(&t_checker);
	t_expect_clean();
}

/*
 * n1 and n2 hold [t1, t1]; n1 leads term 2. A forged APPEND in n1's name (n1 itself never sends
 * it: it holds t1 at index 2) makes n2 replace its index 2 with a t2 entry.
 */
Test(checker, log_matching_follower_removes_an_entry_its_leader_holds)
{
	const struct rc_raft_entry log[] = { t_e(1, 10), t_e(1, 11) };
	const struct rc_raft_entry forged[] = { t_e(2, 99) };
	struct rc_raft_msg m = t_msg(RC_MSG_APPEND, 1, 2, 2);

	t_boot(1, 1, 0, log, 2);
	t_boot(2, 1, 0, log, 2);
	t_boot_new(3);
	t_make_leader(1, 3);
	cr_assert_eq(t_raft[1]->term, 2);
	m.index = 1;
	m.log_term = 1;
	m.entries = forged;
	m.entry_count = 1;
	t_batch_recv(&m);
	cr_assert_eq(t_raft[2]->last_index, 2);
	cr_assert_eq(rc_raft_term_at(t_raft[2], 2), 2);
	cr_assert_str_eq(t_expect_violation("log-matching:"),
			 "log-matching: n2 removed index 2 (t1) that n1, leader of its term 2, "
			 "holds");
}

/* n2 holds an extra t1 entry n1 never had; n1's own APPEND replaces it with its term-2 NOOP. */
Test(checker, log_matching_follower_removes_an_entry_its_leader_lacks_is_fine)
{
	const struct rc_raft_entry a[] = { t_e(1, 10), t_e(1, 11) };
	const struct rc_raft_entry b[] = { t_e(1, 10), t_e(1, 11), t_e(1, 12) };
	struct rc_raft_msg m;

	t_boot(1, 1, 0, a, 2);
	t_boot(2, 1, 0, b, 3);
	t_boot_new(3);
	t_make_leader(1, 3);
	m = t_take(RC_MSG_APPEND, 2);
	cr_assert_eq(m.index, 2);
	cr_assert_eq(m.entry_count, 1);
	t_batch_recv(&m);
	cr_assert_eq(t_raft[2]->last_index, 3);
	cr_assert_eq(rc_raft_term_at(t_raft[2], 3), 2, "n2's index 3 was replaced");
	rc_checker_full(&t_checker);
	t_expect_clean();
}

/* ---- leader-append-only ------------------------------------------------------------------- */

/* n1 leads term 1 and proposes two entries in a second batch: log [NOOP, 100, 101]. */
static void
t_leader_with_proposals(void)
{
	t_boot_new(1);
	t_boot_new(2);
	t_boot_new(3);
	t_make_leader(1, 3);
	t_begin(1);
	t_propose(1, 2, 100);
	cr_assert(t_update->flags & RC_UPDATE_ENTRIES);
	cr_assert_eq(t_update->persist_first, 2);
	cr_assert_eq(t_update->persist_last, 3);
	t_end(1);
}

Test(checker, leader_append_only_rewrite_from_below_the_last_index)
{
	t_leader_with_proposals();
	t_expect_clean();
	t_begin(1);
	t_propose(1, 1, 102);
	cr_assert_eq(t_update->persist_first, 4);
	/* The core never asks for this: the update is what a leader that rewrote its index 3
	 * would report (the update is the caller's; the core's state is not touched). */
	t_update->persist_first = 3;
	t_end(1);
	cr_assert_str_eq(t_expect_violation("leader-append-only:"),
			 "leader-append-only: n1, leader of term 1, rewrote its log from index 3 "
			 "(its last index was 3)");
}

Test(checker, leader_append_only_appending_is_fine)
{
	t_leader_with_proposals();
	t_begin(1);
	t_propose(1, 1, 102);
	t_end(1);
	cr_assert_eq(t_raft[1]->last_index, 4);
	t_expect_clean();
}

/* A leader deposed inside the batch may have its log cut: the rule holds within its term. */
Test(checker, leader_append_only_deposed_leader_cut_in_the_batch_is_fine)
{
	const struct rc_raft_entry sent[] = { t_e(2, 20) };
	struct rc_raft_msg m = t_msg(RC_MSG_APPEND, 2, 1, 2);

	t_boot_new(1);
	t_boot_new(2);
	t_boot_new(3);
	t_make_leader(1, 3);
	cr_assert_eq(t_raft[1]->last_index, 1);
	m.entries = sent;
	m.entry_count = 1;
	t_batch_recv(&m);
	cr_assert_eq(t_raft[1]->role, RC_ROLE_FOLLOWER);
	cr_assert_eq(t_raft[1]->term, 2);
	cr_assert(t_update->flags & RC_UPDATE_ENTRIES);
	cr_assert_eq(t_update->persist_first, 1, "the batch rewrote index 1");
	cr_assert_eq(rc_raft_term_at(t_raft[1], 1), 2);
	t_expect_clean();
}

/* ---- leader-completeness ------------------------------------------------------------------ */

/* n1 leads term 1 with [NOOP t1]; n2 has seen term 1 and holds n2_log[0..n2_count). */
static void
t_completeness_world(const struct rc_raft_entry *n2_log, uint64_t n2_count)
{
	t_boot_new(1);
	t_boot(2, 1, 0, n2_log, n2_count);
	t_boot_new(3);
	t_make_leader(1, 3);
	cr_assert_eq(t_raft[1]->last_index, 1);
}

Test(checker, leader_completeness_new_leader_lacks_a_committed_entry)
{
	t_completeness_world(NULL, 0);
	t_leader_acked(1, 3, 1);
	cr_assert_eq(t_raft[1]->commit, 1);
	t_expect_clean();
	/* n3's vote for a candidate whose log is behind: the election restriction broken. */
	t_make_leader(2, 3);
	cr_assert_str_eq(t_expect_violation("leader-completeness:"),
			 "leader-completeness: n2, leader of term 2, lacks index 1 (t1 ref 0) "
			 "committed by term 1; it holds t2 ref 0");
}

/* The stale leader of term 1 commits its NOOP after n2, lacking it, was elected in term 2. */
Test(checker, leader_completeness_entry_committed_after_a_newer_leader_lacking_it)
{
	t_completeness_world(NULL, 0);
	t_batch_event(1, RC_EVENT_TICK);
	t_make_leader(2, 3);
	t_expect_clean();
	/* n3 acknowledges for term 1 after voting in term 2: no correct n3 does both. */
	t_leader_acked(1, 3, 1);
	cr_assert_eq(t_raft[1]->commit, 1);
	cr_assert_str_eq(t_expect_violation("leader-completeness:"),
			 "leader-completeness: n2, leader of term 2, lacks index 1 (t1 ref 0) "
			 "committed by term 1");
}

Test(checker, leader_completeness_new_leader_holding_the_entry_is_fine)
{
	const struct rc_raft_entry n2_log[] = { t_noop(1) };

	t_completeness_world(n2_log, 1);
	t_leader_acked(1, 3, 1);
	cr_assert_eq(t_raft[1]->commit, 1);
	t_make_leader(2, 3);
	cr_assert_eq(t_raft[2]->term, 2);
	cr_assert_eq(t_checker.elections, 2);
	t_expect_clean();
}

Test(checker, leader_completeness_commit_under_a_newer_leader_holding_it_is_fine)
{
	const struct rc_raft_entry n2_log[] = { t_noop(1) };

	t_completeness_world(n2_log, 1);
	t_make_leader(2, 3);
	t_leader_acked(1, 3, 1);
	cr_assert_eq(t_raft[1]->commit, 1);
	cr_assert(t_checker.known[1].set, "index 1 was recorded committed");
	cr_assert_eq(t_checker.known[1].commit_term, 1);
	t_expect_clean();
}

/* ---- state-machine-safety ----------------------------------------------------------------- */

/* n1 commits and applies [t1 ref 10]; then n2 commits [t2 ref 20] at the same index. */
Test(checker, state_machine_safety_two_nodes_commit_different_entries_at_one_index)
{
	const struct rc_raft_entry a[] = { t_e(1, 10) };
	const struct rc_raft_entry b[] = { t_e(2, 20) };

	t_boot(1, 1, 0, a, 1);
	t_boot(2, 2, 0, b, 1);
	t_boot_new(3);
	t_heartbeat(3, 1, 1, 1);
	cr_assert_eq(t_raft[1]->commit, 1);
	cr_assert_eq(t_checker.nodes[0].applied, 1, "n1 applied index 1");
	t_expect_clean();
	/* A heartbeat of term 2 committing index 1 where no leader of term 2 holds t2 ref 20. */
	t_heartbeat(3, 2, 2, 1);
	cr_assert_eq(t_raft[2]->commit, 1);
	cr_assert_str_eq(t_expect_violation("state-machine-safety:"),
			 "state-machine-safety: n2 committed t2 ref 20 at index 1 in term 2, "
			 "another node committed t1 ref 10");
}

Test(checker, state_machine_safety_apply_with_a_gap)
{
	const struct rc_raft_entry log[] = { t_e(1, 10), t_e(1, 11), t_e(1, 12) };

	t_boot(1, 1, 3, log, 3);
	t_begin(1);
	t_event(1, RC_EVENT_TICK);
	rc_checker_batch_end(&t_checker, 1, t_update);
	cr_assert(t_update->flags & RC_UPDATE_APPLY);
	cr_assert_eq(t_update->apply_first, 1);
	cr_assert_eq(t_update->apply_last, 3);
	rc_checker_on_apply(&t_checker, 1, 1);
	t_expect_clean();
	rc_checker_on_apply(&t_checker, 1, 3);
	cr_assert_str_eq(t_expect_violation("state-machine-safety:"),
			 "state-machine-safety: n1 applied index 3 after 1 (out of order or gap)");
}

Test(checker, state_machine_safety_apply_above_commit)
{
	const struct rc_raft_entry log[] = { t_e(1, 10), t_e(1, 11), t_e(1, 12) };

	t_boot(1, 1, 1, log, 3);
	t_batch_event(1, RC_EVENT_TICK);
	cr_assert_eq(t_update->apply_last, 1);
	t_expect_clean();
	rc_checker_on_apply(&t_checker, 1, 2);
	t_expect_violation("state-machine-safety: n1 applied index 2 above its commit 1");
}

Test(checker, state_machine_safety_apply_in_order_in_every_life_is_fine)
{
	const struct rc_raft_entry log[] = { t_e(1, 10), t_e(1, 11), t_e(1, 12) };

	t_boot(1, 1, 3, log, 3);
	t_batch_event(1, RC_EVENT_TICK);
	cr_assert_eq(t_checker.nodes[0].applied, 3);
	rc_checker_on_crash(&t_checker, 1);
	t_boot(1, 1, 3, log, 3);
	t_batch_event(1, RC_EVENT_TICK);
	cr_assert_eq(t_checker.nodes[0].applied, 3, "applied again from 1 in the new life");
	t_expect_clean();
}

Test(checker, state_machine_safety_restart_with_a_different_committed_entry)
{
	const struct rc_raft_entry log[] = { t_e(1, 10) };
	const struct rc_raft_entry other[] = { t_e(1, 99) };

	t_boot(1, 1, 1, log, 1);
	t_expect_clean();
	rc_checker_on_crash(&t_checker, 1);
	t_boot(1, 1, 1, other, 1);
	cr_assert_str_eq(t_expect_violation("state-machine-safety:"),
			 "state-machine-safety: n1 committed t1 ref 99 at index 1 in term 1, "
			 "another node committed t1 ref 10");
}

/* ---- commit-monotonic --------------------------------------------------------------------- */

/* n1 holds [t1 ref 10, t1 ref 11] and learns commit 2 from a heartbeat of n3. */
static void
t_committed_two(void)
{
	const struct rc_raft_entry log[] = { t_e(1, 10), t_e(1, 11) };

	t_boot(1, 1, 0, log, 2);
	t_heartbeat(3, 1, 1, 2);
	cr_assert_eq(t_raft[1]->commit, 2);
}

Test(checker, commit_monotonic_commit_goes_back_within_a_life)
{
	t_committed_two();
	t_expect_clean();
	t_begin(1);
	/*
	 * Written directly: no event lowers the commit index of a correct core (truncation below
	 * commit aborts unless a planted mutation is built in), and a restart starts a new life.
	 * This is what a core bug that lowered it would leave.
	 */
	t_raft[1]->commit = 1;
	t_event(1, RC_EVENT_TICK);
	cr_assert_str_eq(t_expect_violation("commit-monotonic:"),
			 "commit-monotonic: n1 commit went back from 2 to 1 in term 1");
}

Test(checker, commit_monotonic_lower_commit_after_a_restart_is_fine)
{
	const struct rc_raft_entry log[] = { t_e(1, 10), t_e(1, 11) };

	t_committed_two();
	rc_checker_on_crash(&t_checker, 1);
	t_boot(1, 1, 0, log, 2); /* the disk's commit hint was 0 */
	cr_assert_eq(t_raft[1]->commit, 0);
	t_batch_event(1, RC_EVENT_TICK);
	t_heartbeat(3, 1, 1, 2);
	cr_assert_eq(t_raft[1]->commit, 2);
	t_expect_clean();
}

/* ---- acknowledged-lost -------------------------------------------------------------------- */

/* n1 and n2 hold [t1 ref 10, t1 ref 11] with index 1 committed; n3 is new (empty), up or not. */
static void
t_ack_world(bool n3_up)
{
	const struct rc_raft_entry log[] = { t_e(1, 10), t_e(1, 11) };

	t_boot(1, 1, 1, log, 2);
	t_boot(2, 1, 1, log, 2);
	t_boot_new(3);
	if (!n3_up)
		rc_checker_on_crash(&t_checker, 3);
	t_expect_clean();
}

Test(checker, acknowledged_lost_committed_on_every_up_node_is_fine)
{
	t_ack_world(false);
	rc_checker_acknowledged(&t_checker, 1, 10);
	t_expect_clean();
}

Test(checker, acknowledged_lost_index_not_committed)
{
	t_ack_world(false);
	rc_checker_acknowledged(&t_checker, 2, 11);
	cr_assert_str_eq(t_expect_violation("acknowledged-lost:"),
			 "acknowledged-lost: proposal ref 11 acknowledged at index 2 is not "
			 "committed on n1 (commit 1, holds t1 ref 11)");
}

Test(checker, acknowledged_lost_other_entry_at_the_index)
{
	t_ack_world(false);
	rc_checker_acknowledged(&t_checker, 1, 99);
	t_expect_violation("acknowledged-lost: proposal ref 99 acknowledged at index 1");
}

Test(checker, acknowledged_lost_up_node_lacks_it)
{
	t_ack_world(true);
	rc_checker_acknowledged(&t_checker, 1, 10);
	cr_assert_str_eq(t_expect_violation("acknowledged-lost:"),
			 "acknowledged-lost: proposal ref 10 acknowledged at index 1 is not "
			 "committed on n3 (commit 0, holds t0 ref 0)");
}

/* ---- rc_checker_fail ---------------------------------------------------------------------- */

Test(checker, fail_first_violation_wins)
{
	t_boot_new(1);
	t_boot_new(2);
	t_boot_new(3);
	cr_assert_null(rc_checker_violation(&t_checker));
	rc_checker_fail(&t_checker, "liveness: no leader within %u ticks", 500u);
	rc_checker_fail(&t_checker, "liveness: a second one");
	/* Two leaders in term 1 now: found, but the first violation stays. */
	t_make_leader(1, 3);
	t_make_leader(2, 3);
	cr_assert_str_eq(rc_checker_violation(&t_checker), "liveness: no leader within 500 ticks");
}

Test(checker, fail_after_a_checker_violation_keeps_the_checker_text)
{
	t_boot_new(1);
	t_boot_new(2);
	t_boot_new(3);
	t_make_leader(1, 3);
	t_make_leader(2, 3);
	rc_checker_fail(&t_checker, "liveness: too late");
	t_expect_violation("election-safety:");
}

Test(checker, fail_text_is_cut_to_its_buffer_and_reset_forgets_it)
{
	char long_text[2 * RC_CHECKER_TEXT_BYTES];
	const char *v;

	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	rc_checker_fail(&t_checker, "liveness: %s", long_text);
	v = t_expect_violation("liveness: xxx");
	cr_assert_eq(strlen(v), RC_CHECKER_TEXT_BYTES - 1);
	t_world(T_NODES);
	cr_assert_null(rc_checker_violation(&t_checker));
}
