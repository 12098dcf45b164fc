/*
 * Invariant checkers of the simulator (see checker.h for the list). Every check reads the nodes
 * through their public state only; the first violation found is kept as one line of text.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <replicore/assert.h>

#include "checker.h"

/* The per-node state of node id (1..node_count). */
static struct rc_checker_node *
checker_node(struct rc_checker *c, uint16_t id)
{
	RC_ASSERT(id >= 1 && id <= c->node_count);
	return &c->nodes[id - 1];
}

/* Term of the entry at index in r's log, 0 when index is 0 or beyond the log. */
static uint64_t
checker_term_at(const struct rc_raft *r, uint64_t index)
{
	const struct rc_raft_entry *e;

	if (index == 0)
		return 0;
	e = rc_raft_entry_at(r, index);
	return e == NULL ? 0 : e->term;
}

/*
 * True when entry e (may be NULL) is the one known for its index. A NOOP carries no payload, so
 * its ref means nothing (the wire does not carry it); a NORMAL entry is named by its ref.
 */
static bool
checker_same(const struct rc_raft_entry *e, const struct rc_checker_entry *k)
{
	if (e == NULL || e->term != k->term || e->type != k->type)
		return false;
	return e->type != RC_ENTRY_NORMAL || e->ref == k->ref;
}

/* True when two descriptors name the same entry (refs compared for NORMAL entries only). */
static bool
checker_entries_equal(const struct rc_raft_entry *a, const struct rc_raft_entry *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->term != b->term || a->type != b->type)
		return false;
	return a->type != RC_ENTRY_NORMAL || a->ref == b->ref;
}

/* Allocates the term and committed-entry tables. Returns 0 or -ENOMEM. */
int
rc_checker_init(struct rc_checker *c)
{
	memset(c, 0, sizeof(*c));
	c->term_leader = calloc(RC_CHECKER_TERMS_MAX, sizeof(c->term_leader[0]));
	c->known = calloc(RC_LOG_ENTRIES_MAX, sizeof(c->known[0]));
	if (c->term_leader == NULL || c->known == NULL) {
		rc_checker_fini(c);
		return -ENOMEM;
	}
	return 0;
}

/* Frees the tables. */
void
rc_checker_fini(struct rc_checker *c)
{
	free(c->term_leader);
	free(c->known);
	c->term_leader = NULL;
	c->known = NULL;
}

/* Clears what the last world left (only the parts it used) and attaches the new world's nodes. */
void
rc_checker_reset(struct rc_checker *c, uint16_t node_count, struct rc_raft *const *rafts)
{
	uint16_t i;

	RC_ASSERT(node_count >= 1 && node_count <= RC_NODES_MAX);
	memset(c->term_leader, 0, (c->term_max + 1) * sizeof(c->term_leader[0]));
	memset(c->known, 0, (c->known_max + 1) * sizeof(c->known[0]));
	c->term_max = 0;
	c->known_max = 0;
	c->elections = 0;
	c->violated = false;
	c->text[0] = '\0';
	c->node_count = node_count;
	memset(c->nodes, 0, sizeof(c->nodes));
	for (i = 0; i < node_count; i++)
		c->nodes[i].raft = rafts[i];
}

/* Records the first violation; later ones are ignored (the run stops at the first). */
void
rc_checker_fail(struct rc_checker *c, const char *fmt, ...)
{
	va_list ap;

	if (c->violated)
		return;
	c->violated = true;
	va_start(ap, fmt);
	vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
}

/* The first violation, NULL when none. */
const char *
rc_checker_violation(const struct rc_checker *c)
{
	return c->violated ? c->text : NULL;
}

/*
 * Compares the logs of nodes a and b from index lo on: finds the highest index both hold with the
 * same term, then demands identical entries from lo to there and the same term at lo - 1 (below
 * lo, the pair matched when last checked). Reports log-matching on the first difference.
 */
static void
checker_pair(struct rc_checker *c, uint16_t a, uint16_t b, uint64_t lo)
{
	const struct rc_raft *ra = checker_node(c, a)->raft;
	const struct rc_raft *rb = checker_node(c, b)->raft;
	uint64_t hi = ra->last_index < rb->last_index ? ra->last_index : rb->last_index;
	uint64_t i;

	while (hi >= lo && hi > 0 && checker_term_at(ra, hi) != checker_term_at(rb, hi))
		hi--;
	if (hi < lo || hi == 0)
		return;
	if (lo > 1 && checker_term_at(ra, lo - 1) != checker_term_at(rb, lo - 1)) {
		rc_checker_fail(c,
				"log-matching: n%u and n%u share index %" PRIu64 " term %" PRIu64
				" but differ at index %" PRIu64 " (terms %" PRIu64 " and %" PRIu64
				")",
				a, b, hi, checker_term_at(ra, hi), lo - 1,
				checker_term_at(ra, lo - 1), checker_term_at(rb, lo - 1));
		return;
	}
	for (i = lo; i <= hi; i++) {
		const struct rc_raft_entry *ea = rc_raft_entry_at(ra, i);
		const struct rc_raft_entry *eb = rc_raft_entry_at(rb, i);

		if (checker_entries_equal(ea, eb))
			continue;
		rc_checker_fail(c,
				"log-matching: n%u and n%u share index %" PRIu64 " term %" PRIu64
				" but differ at index %" PRIu64 " (t%" PRIu64 " ref %" PRIu64
				" vs t%" PRIu64 " ref %" PRIu64 ")",
				a, b, hi, checker_term_at(ra, hi), i, checker_term_at(ra, i),
				ea == NULL ? 0 : ea->ref, checker_term_at(rb, i),
				eb == NULL ? 0 : eb->ref);
		return;
	}
}

/* Log matching of node id against every other up node, from index lo on. */
static void
checker_match_node(struct rc_checker *c, uint16_t id, uint64_t lo)
{
	uint16_t other;

	for (other = 1; other <= c->node_count && !c->violated; other++) {
		if (other != id && checker_node(c, other)->up)
			checker_pair(c, id, other, lo);
	}
}

/* Log matching across every pair of up nodes, whole logs. */
void
rc_checker_full(struct rc_checker *c)
{
	uint16_t a;
	uint16_t b;

	for (a = 1; a <= c->node_count; a++) {
		for (b = a + 1; b <= c->node_count && !c->violated; b++) {
			if (checker_node(c, a)->up && checker_node(c, b)->up)
				checker_pair(c, a, b, 1);
		}
	}
}

/* Leader completeness for node id, leader of its current term: it must hold every entry known
 * committed in an earlier term. */
static void
checker_leader_complete(struct rc_checker *c, uint16_t id)
{
	const struct rc_raft *r = checker_node(c, id)->raft;
	uint64_t i;

	for (i = 1; i <= c->known_max; i++) {
		const struct rc_checker_entry *k = &c->known[i];
		const struct rc_raft_entry *e;

		if (!k->set || k->commit_term >= r->term)
			continue;
		e = rc_raft_entry_at(r, i);
		if (checker_same(e, k))
			continue;
		rc_checker_fail(c,
				"leader-completeness: n%u, leader of term %" PRIu64
				", lacks index %" PRIu64 " (t%" PRIu64 " ref %" PRIu64
				") committed by term %" PRIu64 "; it holds t%" PRIu64
				" ref %" PRIu64,
				id, r->term, i, k->term, k->ref, k->commit_term,
				e == NULL ? 0 : e->term, e == NULL ? 0 : e->ref);
		return;
	}
}

/* Leader completeness of one index for every up leader of a term above its commit term. */
static void
checker_leaders_hold(struct rc_checker *c, uint64_t index)
{
	const struct rc_checker_entry *k = &c->known[index];
	uint16_t id;

	for (id = 1; id <= c->node_count; id++) {
		const struct rc_checker_node *n = checker_node(c, id);
		const struct rc_raft_entry *e;

		if (!n->up || n->raft->role != RC_ROLE_LEADER || n->raft->term <= k->commit_term)
			continue;
		e = rc_raft_entry_at(n->raft, index);
		if (checker_same(e, k))
			continue;
		rc_checker_fail(c,
				"leader-completeness: n%u, leader of term %" PRIu64
				", lacks index %" PRIu64 " (t%" PRIu64 " ref %" PRIu64
				") committed by term %" PRIu64,
				id, n->raft->term, index, k->term, k->ref, k->commit_term);
		return;
	}
}

/* Node id holds index committed: enters it in the known table or compares it with it. */
static void
checker_committed(struct rc_checker *c, uint16_t id, uint64_t index)
{
	const struct rc_raft *r = checker_node(c, id)->raft;
	const struct rc_raft_entry *e = rc_raft_entry_at(r, index);
	struct rc_checker_entry *k = &c->known[index];

	RC_ASSERT(index >= 1 && index < RC_LOG_ENTRIES_MAX);
	if (e == NULL) {
		rc_checker_fail(c,
				"state-machine-safety: n%u commit %" PRIu64
				" is beyond its log (last index %" PRIu64 ") in term %" PRIu64,
				id, r->commit, r->last_index, r->term);
		return;
	}
	if (!k->set) {
		k->set = true;
		k->term = e->term;
		k->ref = e->ref;
		k->type = e->type;
		k->commit_term = r->term;
		if (index > c->known_max)
			c->known_max = index;
		checker_leaders_hold(c, index);
		return;
	}
	if (!checker_same(e, k)) {
		rc_checker_fail(c,
				"state-machine-safety: n%u committed t%" PRIu64 " ref %" PRIu64
				" at index %" PRIu64 " in term %" PRIu64
				", another node committed t%" PRIu64 " ref %" PRIu64,
				id, e->term, e->ref, index, r->term, k->term, k->ref);
		return;
	}
	if (r->term < k->commit_term) {
		k->commit_term = r->term;
		checker_leaders_hold(c, index);
	}
}

/* Commit index of node id: never back in a life; every newly committed index is recorded. */
static void
checker_commit(struct rc_checker *c, uint16_t id)
{
	struct rc_checker_node *n = checker_node(c, id);
	const struct rc_raft *r = n->raft;
	uint64_t i;

	if (r->commit < n->commit) {
		rc_checker_fail(c,
				"commit-monotonic: n%u commit went back from %" PRIu64
				" to %" PRIu64 " in term %" PRIu64,
				id, n->commit, r->commit, r->term);
		return;
	}
	for (i = n->commit + 1; i <= r->commit && !c->violated; i++)
		checker_committed(c, id, i);
	n->commit = r->commit;
}

/* Election safety for node id, leader now: one leader per term, ever. */
static void
checker_leader(struct rc_checker *c, uint16_t id)
{
	const struct rc_raft *r = checker_node(c, id)->raft;
	uint16_t owner;

	RC_ASSERT(r->term < RC_CHECKER_TERMS_MAX);
	owner = c->term_leader[r->term];
	if (owner == id)
		return;
	if (owner != 0) {
		rc_checker_fail(c, "election-safety: two leaders in term %" PRIu64 ": n%u and n%u",
				r->term, owner, id);
		return;
	}
	c->term_leader[r->term] = id;
	if (r->term > c->term_max)
		c->term_max = r->term;
	c->elections++;
	checker_leader_complete(c, id);
}

/* Node id was (re)initialised from its disk: a new life with its own commit and apply marks. */
void
rc_checker_on_start(struct rc_checker *c, uint16_t id)
{
	struct rc_checker_node *n = checker_node(c, id);
	uint64_t i;

	n->up = true;
	n->commit = n->raft->commit;
	n->applied = n->raft->applied;
	if (n->raft->commit > n->raft->last_index) {
		rc_checker_fail(c,
				"state-machine-safety: n%u restarted with commit %" PRIu64
				" beyond its log (last index %" PRIu64 ")",
				id, n->raft->commit, n->raft->last_index);
		return;
	}
	for (i = 1; i <= n->commit && !c->violated; i++)
		checker_committed(c, id, i);
	checker_match_node(c, id, 1);
}

/* Node id crashed: it stops counting until it starts again. */
void
rc_checker_on_crash(struct rc_checker *c, uint16_t id)
{
	checker_node(c, id)->up = false;
}

/* Remembers where node id stood before the steps of one update. */
void
rc_checker_batch_begin(struct rc_checker *c, uint16_t id)
{
	struct rc_checker_node *n = checker_node(c, id);

	RC_ASSERT(n->up);
	n->batch_role = n->raft->role;
	n->batch_term = n->raft->term;
	n->batch_last_index = n->raft->last_index;
	n->batch_last_term = checker_term_at(n->raft, n->raft->last_index);
}

/* The per-step checks: election safety and leader completeness, commit monotonic. */
void
rc_checker_after_step(struct rc_checker *c, uint16_t id)
{
	const struct rc_raft *r = checker_node(c, id)->raft;

	if (r->role == RC_ROLE_LEADER)
		checker_leader(c, id);
	checker_commit(c, id);
}

/* A leader that stayed leader of the same term through the batch only appended. */
static void
checker_append_only(struct rc_checker *c, uint16_t id, const struct rc_raft_update *u)
{
	const struct rc_checker_node *n = checker_node(c, id);
	const struct rc_raft *r = n->raft;

	if (n->batch_role != RC_ROLE_LEADER || r->role != RC_ROLE_LEADER ||
	    r->term != n->batch_term)
		return;
	if ((u->flags & RC_UPDATE_ENTRIES) && u->persist_first <= n->batch_last_index) {
		rc_checker_fail(c,
				"leader-append-only: n%u, leader of term %" PRIu64
				", rewrote its log from index %" PRIu64
				" (its last index was %" PRIu64 ")",
				id, r->term, u->persist_first, n->batch_last_index);
	} else if (r->last_index < n->batch_last_index) {
		rc_checker_fail(c,
				"leader-append-only: n%u, leader of term %" PRIu64
				", shrank its log from %" PRIu64 " to %" PRIu64,
				id, r->term, n->batch_last_index, r->last_index);
	}
}

/* Entries node id rewrote from index first on must not change what it had committed. */
static void
checker_committed_kept(struct rc_checker *c, uint16_t id, uint64_t first)
{
	const struct rc_checker_node *n = checker_node(c, id);
	const struct rc_raft *r = n->raft;
	uint64_t i;

	if (r->last_index < n->commit) {
		rc_checker_fail(
			c,
			"state-machine-safety: n%u removed committed entries (commit %" PRIu64
			", last index now %" PRIu64 ") in term %" PRIu64,
			id, n->commit, r->last_index, r->term);
		return;
	}
	for (i = first; i <= n->commit; i++) {
		const struct rc_raft_entry *e = rc_raft_entry_at(r, i);
		const struct rc_checker_entry *k = &c->known[i];

		if (checker_same(e, k))
			continue;
		rc_checker_fail(c,
				"state-machine-safety: n%u overwrote committed index %" PRIu64
				" (t%" PRIu64 " ref %" PRIu64 " -> t%" PRIu64 " ref %" PRIu64
				") in term %" PRIu64,
				id, i, k->term, k->ref, e == NULL ? 0 : e->term,
				e == NULL ? 0 : e->ref, r->term);
		return;
	}
}

/*
 * A follower that rewrote its log from index first on must not have removed an entry that the
 * leader of its term holds: it only cuts entries that conflict with the leader's (§5.3). Checked
 * on its last entry before the batch, whose term the batch began with.
 */
static void
checker_follower_kept(struct rc_checker *c, uint16_t id, uint64_t first)
{
	const struct rc_checker_node *n = checker_node(c, id);
	const struct rc_raft *r = n->raft;
	uint64_t i = n->batch_last_index;
	const struct rc_checker_node *l;
	uint16_t leader;

	if (first > i || i == 0 || checker_term_at(r, i) == n->batch_last_term ||
	    r->term >= RC_CHECKER_TERMS_MAX)
		return;
	leader = c->term_leader[r->term];
	if (leader == 0 || leader == id)
		return;
	l = checker_node(c, leader);
	if (!l->up || l->raft->term != r->term || l->raft->role != RC_ROLE_LEADER ||
	    checker_term_at(l->raft, i) != n->batch_last_term)
		return;
	rc_checker_fail(c,
			"log-matching: n%u removed index %" PRIu64 " (t%" PRIu64
			") that n%u, leader of its term %" PRIu64 ", holds",
			id, i, n->batch_last_term, leader, r->term);
}

/* Checks on an executed update: leader append-only, committed entries kept, log matching on the
 * range it rewrote. */
void
rc_checker_batch_end(struct rc_checker *c, uint16_t id, const struct rc_raft_update *u)
{
	checker_append_only(c, id, u);
	if (c->violated)
		return;
	if (u->flags & RC_UPDATE_ENTRIES) {
		checker_committed_kept(c, id, u->persist_first);
		if (!c->violated)
			checker_follower_kept(c, id, u->persist_first);
		if (!c->violated)
			checker_match_node(c, id, u->persist_first);
	} else if (checker_node(c, id)->raft->last_index < checker_node(c, id)->commit) {
		checker_committed_kept(c, id, 1);
	}
}

/* Node id's state machine applies index: in order, committed, the same entry on every node. */
void
rc_checker_on_apply(struct rc_checker *c, uint16_t id, uint64_t index)
{
	struct rc_checker_node *n = checker_node(c, id);
	const struct rc_raft *r = n->raft;
	const struct rc_raft_entry *e = rc_raft_entry_at(r, index);
	const struct rc_checker_entry *k;

	if (index != n->applied + 1) {
		rc_checker_fail(c,
				"state-machine-safety: n%u applied index %" PRIu64 " after %" PRIu64
				" (out of order or gap)",
				id, index, n->applied);
		return;
	}
	n->applied = index;
	if (index > r->commit || e == NULL) {
		rc_checker_fail(c,
				"state-machine-safety: n%u applied index %" PRIu64
				" above its commit %" PRIu64 " or log (last index %" PRIu64 ")",
				id, index, r->commit, r->last_index);
		return;
	}
	k = &c->known[index];
	if (!k->set) { /* the step that raised commit records it: a hole is a checker bug */
		rc_checker_fail(c,
				"state-machine-safety: n%u applied index %" PRIu64
				" never seen committed",
				id, index);
		return;
	}
	if (checker_same(e, k))
		return;
	rc_checker_fail(c,
			"state-machine-safety: n%u applied t%" PRIu64 " ref %" PRIu64
			" at index %" PRIu64 " where t%" PRIu64 " ref %" PRIu64 " was committed",
			id, e->term, e->ref, index, k->term, k->ref);
}

/* An acknowledged proposal must be in the committed log of every up node. */
void
rc_checker_acknowledged(struct rc_checker *c, uint64_t index, uint64_t ref)
{
	uint16_t id;

	for (id = 1; id <= c->node_count && !c->violated; id++) {
		const struct rc_checker_node *n = checker_node(c, id);
		const struct rc_raft_entry *e;

		if (!n->up)
			continue;
		e = rc_raft_entry_at(n->raft, index);
		if (n->raft->commit >= index && e != NULL && e->ref == ref &&
		    e->type == RC_ENTRY_NORMAL)
			continue;
		rc_checker_fail(c,
				"acknowledged-lost: proposal ref %" PRIu64
				" acknowledged at index %" PRIu64
				" is not committed on n%u (commit %" PRIu64 ", holds t%" PRIu64
				" ref %" PRIu64 ")",
				ref, index, id, n->raft->commit, e == NULL ? 0 : e->term,
				e == NULL ? 0 : e->ref);
	}
}
