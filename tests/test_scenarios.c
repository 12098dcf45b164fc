/*
 * Scenario tests on the simulated cluster (drivers/sim): elections, split votes, partitions
 * symmetric and one-way, the paper's Figure 8, a lagging and a divergent follower, restarts of
 * one node and of all of them, and a cluster of one.
 *
 * Every scenario runs in a quiet world (no seeded faults, no client) and scripts the faults by
 * hand. The simulator's trace goes into memory next to the script's own notes; when a check
 * fails, the script so far and the end of the trace are printed, so a failing scenario reads
 * like a story (RC_SCENARIO_TRACE=1 prints the whole trace of every scenario). The simulator's
 * checkers run after every step throughout, and every scenario ends by demanding that they
 * found nothing. Checks that must hold at every instant of a phase (an entry that must never be
 * committed) are monitors, evaluated after every event of every run.
 *
 * To see the scenarios bite, build with -Dmutations=true and run with
 * RC_SCENARIO_MUTATION=<name> (see replicore/mutation.h): the planted bug is on in every world.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <replicore/mutation.h>
#include <replicore/raft.h>

#include "sim.h"

/* Clock units of ticks. */
#define SCN_UNITS(ticks) (RC_SIM_TICK_UNITS * (uint64_t)(ticks))
/* How long anything that must happen in a quiet world may take: 50 default election timeouts. */
#define SCN_WAIT SCN_UNITS(1000)
/* Trace bytes printed on failure (the end of the trace, where the failure is). */
#define SCN_TRACE_TAIL_BYTES (96u * 1024u)
/* Entries a monitor may forbid. */
#define SCN_FORBIDDEN_MAX 32u
#define SCN_TEXT_BYTES 512u

#define SCN_BIT(id) (1u << (id))

struct scn;

/* A check run after every event; returns false and explains in why when it is broken. */
typedef bool (*scn_monitor_fn)(struct scn *t, char *why, size_t why_bytes);

/* One scripted world with its trace and its script notes. */
struct scn {
	const char *name;
	struct rc_sim_config cfg;
	struct rc_sim *sim;
	FILE *trace; /* the simulator's trace and the notes, in order */
	char *trace_buf;
	size_t trace_bytes;
	FILE *script; /* the notes only */
	char *script_buf;
	size_t script_bytes;
	scn_monitor_fn monitor; /* NULL: none */
	const void *monitor_ctx;
	bool monitor_broken;
	char monitor_why[SCN_TEXT_BYTES];
};

/* Entries that must never be committed by any node (hence never applied). */
struct scn_forbidden {
	uint32_t count;
	uint64_t index[SCN_FORBIDDEN_MAX];
	uint64_t term[SCN_FORBIDDEN_MAX];
	uint64_t ref[SCN_FORBIDDEN_MAX];
	uint16_t type[SCN_FORBIDDEN_MAX];
};

/* ---- The harness ------------------------------------------------------------------------ */

/* Fills *c for a scripted world: the seed's Raft settings, no seeded faults, no client. */
static void
scn_config(struct rc_sim_config *c, uint64_t seed, uint16_t nodes)
{
	rc_sim_config_default(c, seed, nodes);
	c->faults = 0;
	c->client = false;
}

/* Prints the script so far and the end of the trace to out. */
static void
scn_dump(struct scn *t, FILE *out, bool whole)
{
	const char *p;
	size_t n;

	fflush(t->script);
	fflush(t->trace);
	fprintf(out, "---- script of %s (seed %" PRIu64 ") ----\n%.*s", t->name, t->cfg.seed,
		(int)t->script_bytes, t->script_buf);
	p = t->trace_buf;
	n = t->trace_bytes;
	if (!whole && n > SCN_TRACE_TAIL_BYTES) {
		const char *cut = p + n - SCN_TRACE_TAIL_BYTES;
		const char *nl = memchr(cut, '\n', SCN_TRACE_TAIL_BYTES);

		cut = nl != NULL ? nl + 1 : cut;
		fprintf(out, "---- trace: last %zu of %zu bytes ----\n", n - (size_t)(cut - p), n);
		n -= (size_t)(cut - p);
		p = cut;
	} else {
		fprintf(out, "---- trace ----\n");
	}
	fwrite(p, 1, n, out);
	fprintf(out, "---- end of trace of %s ----\n", t->name);
	fflush(out);
}

/* The printf-like helpers, declared so the compiler checks their formats. */
static void scn_fail(struct scn *t, const char *file, int line, const char *cond, const char *fmt,
		     ...) __attribute__((format(printf, 5, 6)));
static void scn_note(struct scn *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Fails the scenario: prints what was expected, the first violation, the script and the trace
 * to stderr, then aborts the test through Criterion.
 */
static void
scn_fail(struct scn *t, const char *file, int line, const char *cond, const char *fmt, ...)
{
	char text[SCN_TEXT_BYTES];
	const char *violation = t->sim != NULL ? rc_sim_violation(t->sim) : NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fprintf(stderr,
		"\n==== scenario %s failed at %s:%d (seed %" PRIu64 ", clock %" PRIu64 ")\n",
		t->name, file, line, t->cfg.seed, t->sim != NULL ? rc_sim_now(t->sim) : 0);
	fprintf(stderr, "expected: %s\n  (%s)\nviolation: %s\nmonitor: %s\n", text, cond,
		violation != NULL ? violation : "none",
		t->monitor_broken ? t->monitor_why : "held");
	scn_dump(t, stderr, false);
	cr_assert_fail("%s:%d: scenario %s: %s (violation: %s; monitor: %s)", file, line, t->name,
		       text, violation != NULL ? violation : "none",
		       t->monitor_broken ? t->monitor_why : "held");
}

/* Checks cond; on failure tells the story (see scn_fail()) and ends the test. */
#define SCN_CHECK(t, cond, ...)                                                                    \
	do {                                                                                       \
		if (!(cond))                                                                       \
			scn_fail((t), __FILE__, __LINE__, #cond, __VA_ARGS__);                     \
	} while (0)

/* Writes one line of the script, stamped with the clock, to the script and to the trace. */
static void
scn_note(struct scn *t, const char *fmt, ...)
{
	char text[SCN_TEXT_BYTES];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fprintf(t->script, "[%8" PRIu64 "] # %s\n", rc_sim_now(t->sim), text);
	fprintf(t->trace, "[%8" PRIu64 "] # %s\n", rc_sim_now(t->sim), text);
}

/* Turns on the planted bug RC_SCENARIO_MUTATION names, if any; fails when it cannot. */
static void
scn_mutation(void)
{
	const char *name = getenv("RC_SCENARIO_MUTATION");
	enum rc_mutation m;

	if (name == NULL)
		return;
	m = rc_mutation_find(name);
	cr_assert(m != RC_MUTATION_NONE && rc_mutation_set(m) == 0,
		  "RC_SCENARIO_MUTATION=%s: unknown, or this build has no planted bugs "
		  "(-Dmutations=true)",
		  name);
}

/* Creates the world of *c named name, its trace in memory. */
static void
scn_start(struct scn *t, const char *name, const struct rc_sim_config *c)
{
	const struct rc_raft_config *rc;

	scn_mutation();
	memset(t, 0, sizeof(*t));
	t->name = name;
	t->cfg = *c;
	t->trace = open_memstream(&t->trace_buf, &t->trace_bytes);
	t->script = open_memstream(&t->script_buf, &t->script_bytes);
	cr_assert(t->trace != NULL && t->script != NULL, "open_memstream failed");
	t->cfg.trace = t->trace;
	t->sim = rc_sim_create(&t->cfg);
	cr_assert(t->sim != NULL, "rc_sim_create failed for %s", name);
	rc = rc_sim_raft_config(t->sim, 1);
	scn_note(t,
		 "scenario %s: seed %" PRIu64 ", %u nodes, pre_vote %d, check_quorum %d, "
		 "msg_entries_max %u, election_ticks %u, heartbeat_ticks %u",
		 name, c->seed, c->nodes, rc->pre_vote, rc->check_quorum, rc->msg_entries_max,
		 rc->election_ticks, rc->heartbeat_ticks);
}

/* Ends a scenario: no violation and no broken monitor; frees the world and its trace. */
static void
scn_end(struct scn *t)
{
	SCN_CHECK(t, !t->monitor_broken, "monitor: %s", t->monitor_why);
	SCN_CHECK(t, rc_sim_violation(t->sim) == NULL, "no checker violation");
	scn_note(t, "scenario %s passed", t->name);
	if (getenv("RC_SCENARIO_TRACE") != NULL)
		scn_dump(t, stderr, true);
	rc_sim_destroy(t->sim);
	fclose(t->trace);
	fclose(t->script);
	free(t->trace_buf);
	free(t->script_buf);
	memset(t, 0, sizeof(*t));
}

/* Leaders the world has seen so far (one per term at most). */
static uint64_t
scn_elections(const struct scn *t)
{
	struct rc_sim_stats st;

	rc_sim_stats(t->sim, &st);
	return st.elections;
}

/* Node id's core. */
static const struct rc_raft *
scn_node(const struct scn *t, uint16_t id)
{
	return rc_sim_node(t->sim, id);
}

/* The bits of every node id of the world. */
static uint32_t
scn_all(const struct scn *t)
{
	return ((1u << (rc_sim_node_count(t->sim) + 1u)) - 1u) & ~1u;
}

/* The slot of id among r's voters (the index of its progress), -1 when it is none of them. */
static int
scn_slot(const struct rc_raft *r, uint16_t id)
{
	for (int i = 0; i < r->cfg.voter_count; i++)
		if (r->cfg.voters[i] == id)
			return i;
	return -1;
}

/* Term of the entry at index in r's log, 0 when r does not hold it. */
static uint64_t
scn_term_at(const struct rc_raft *r, uint64_t index)
{
	const struct rc_raft_entry *e = rc_raft_entry_at(r, index);

	return e == NULL ? 0 : e->term;
}

/* What one run waits for, and the scenario whose monitor runs along. */
struct scn_wait {
	struct scn *t;
	rc_sim_pred_fn pred;
	void *ctx;
};

/* The predicate handed to the simulator: the monitor first (a broken one ends the run). */
static bool
scn_wait_pred(struct rc_sim *s, void *ctx)
{
	struct scn_wait *w = ctx;
	struct scn *t = w->t;

	if (t->monitor != NULL && !t->monitor_broken &&
	    !t->monitor(t, t->monitor_why, sizeof(t->monitor_why))) {
		t->monitor_broken = true;
		return true;
	}
	return w->pred(s, w->ctx);
}

/*
 * Runs until pred holds, for at most timeout_units, with the monitor after every event.
 * Returns true when pred held, false on a timeout, a violation or a broken monitor (the
 * caller's check then fails and scn_fail() prints which).
 */
static bool
scn_run_until(struct scn *t, rc_sim_pred_fn pred, void *ctx, uint64_t timeout_units)
{
	struct scn_wait w = { .t = t, .pred = pred, .ctx = ctx };
	bool held = rc_sim_run_until(t->sim, scn_wait_pred, &w, timeout_units);

	return held && !t->monitor_broken && rc_sim_violation(t->sim) == NULL;
}

/* A predicate that never holds: runs go their full length. */
static bool
pred_never(struct rc_sim *s, void *ctx)
{
	(void)s;
	(void)ctx;
	return false;
}

/* Runs for units, with the monitor after every event; fails on a violation or the monitor. */
static void
scn_run_for(struct scn *t, uint64_t units)
{
	scn_run_until(t, pred_never, NULL, units);
	SCN_CHECK(t, !t->monitor_broken && rc_sim_violation(t->sim) == NULL,
		  "nothing breaks while running %" PRIu64 " units", units);
}

/* What pred_applied waits for. */
struct scn_applied {
	uint64_t index;
	uint32_t mask;
};

/* Every node of the mask is up and applied the index in its current life. */
static bool
pred_applied(struct rc_sim *s, void *ctx)
{
	const struct scn_applied *a = ctx;

	return rc_sim_all_applied(s, a->index, a->mask);
}

/*
 * Runs until every node of mask applied index: through rc_sim_wait_applied(), or through
 * scn_run_until() while a monitor is on. Fails the scenario on a timeout.
 */
static void
scn_wait_applied(struct scn *t, uint64_t index, uint32_t mask, uint64_t timeout_units)
{
	struct scn_applied a = { .index = index, .mask = mask };
	bool done;

	if (t->monitor != NULL) {
		done = scn_run_until(t, pred_applied, &a, timeout_units);
	} else {
		done = rc_sim_wait_applied(t->sim, index, mask, timeout_units);
		SCN_CHECK(t, rc_sim_violation(t->sim) == NULL, "no checker violation");
	}
	SCN_CHECK(t, done, "nodes of mask 0x%x applied index %" PRIu64 " within %" PRIu64 " units",
		  mask, index, timeout_units);
}

/* Some up leader is followed, in its term, by a majority of the up nodes (itself included). */
static bool
pred_leader_known(struct rc_sim *s, void *ctx)
{
	uint16_t leader = rc_sim_leader(s);
	uint32_t up = 0;
	uint32_t known = 0;

	(void)ctx;
	if (leader == 0)
		return false;
	for (uint16_t id = 1; id <= rc_sim_node_count(s); id++) {
		const struct rc_raft *r = rc_sim_node(s, id);

		if (!rc_sim_is_up(s, id))
			continue;
		up++;
		known += r->leader == leader && r->term == rc_sim_node(s, leader)->term;
	}
	return known > up / 2;
}

/*
 * Runs until a leader is known to a majority of the up nodes: through rc_sim_wait_leader(), or
 * through scn_run_until() while a monitor is on. Fails the scenario on a timeout. Returns it.
 */
static uint16_t
scn_wait_leader(struct scn *t, uint64_t timeout_units)
{
	uint16_t leader = 0;

	if (t->monitor != NULL) {
		if (scn_run_until(t, pred_leader_known, NULL, timeout_units))
			leader = rc_sim_leader(t->sim);
	} else {
		leader = rc_sim_wait_leader(t->sim, timeout_units);
		SCN_CHECK(t, rc_sim_violation(t->sim) == NULL, "no checker violation");
	}
	SCN_CHECK(t, leader != 0, "a leader within %" PRIu64 " units", timeout_units);
	scn_note(t, "n%u is leader of term %" PRIu64, leader, scn_node(t, leader)->term);
	return leader;
}

/* Every up node follows the same up leader in its term. */
static bool
pred_all_know_leader(struct rc_sim *s, void *ctx)
{
	uint16_t leader = rc_sim_leader(s);

	(void)ctx;
	if (leader == 0)
		return false;
	for (uint16_t id = 1; id <= rc_sim_node_count(s); id++) {
		const struct rc_raft *r = rc_sim_node(s, id);

		if (rc_sim_is_up(s, id) &&
		    (r->leader != leader || r->term != rc_sim_node(s, leader)->term))
			return false;
	}
	return true;
}

/* Counts the up nodes whose role is leader; *leader gets the last one found. */
static uint32_t
scn_leader_count(const struct scn *t, uint16_t *leader)
{
	uint32_t count = 0;

	for (uint16_t id = 1; id <= rc_sim_node_count(t->sim); id++) {
		if (rc_sim_is_up(t->sim, id) && scn_node(t, id)->role == RC_ROLE_LEADER) {
			count++;
			*leader = id;
		}
	}
	return count;
}

/*
 * Runs until every up node follows one leader, then checks there is exactly one leader, known
 * by all, every node in its term, and that term is at least term_min. Returns the leader.
 */
static uint16_t
scn_check_one_leader(struct scn *t, uint64_t term_min)
{
	uint16_t leader = 0;
	uint32_t count;

	SCN_CHECK(t, scn_run_until(t, pred_all_know_leader, NULL, SCN_WAIT),
		  "every up node follows one leader");
	count = scn_leader_count(t, &leader);
	SCN_CHECK(t, count == 1, "exactly one leader, found %u", count);
	SCN_CHECK(t, leader == rc_sim_leader(t->sim), "n%u is the simulator's leader n%u", leader,
		  rc_sim_leader(t->sim));
	SCN_CHECK(t, scn_node(t, leader)->term >= term_min, "leader term %" PRIu64 " >= %" PRIu64,
		  scn_node(t, leader)->term, term_min);
	for (uint16_t id = 1; id <= rc_sim_node_count(t->sim); id++) {
		const struct rc_raft *r = scn_node(t, id);

		if (!rc_sim_is_up(t->sim, id))
			continue;
		SCN_CHECK(t, r->leader == leader && r->term == scn_node(t, leader)->term,
			  "n%u follows n%u in term %" PRIu64 " (it says n%u, term %" PRIu64 ")", id,
			  leader, scn_node(t, leader)->term, r->leader, r->term);
	}
	return leader;
}

/* Proposes count entries in batches of batch, running between them; returns the last index. */
static uint64_t
scn_propose(struct scn *t, uint32_t count, uint32_t batch)
{
	uint64_t first = 0;
	uint64_t last = 0;

	for (uint32_t done = 0; done < count; done += batch) {
		uint32_t n = count - done < batch ? count - done : batch;
		uint32_t accepted = rc_sim_propose(t->sim, n, &first);

		SCN_CHECK(t, accepted == n, "the leader accepted %u of %u entries", accepted, n);
		last = first + n - 1;
		scn_run_for(t, SCN_UNITS(1));
	}
	scn_note(t, "proposed %u entries to n%u, up to index %" PRIu64, count,
		 rc_sim_leader(t->sim), last);
	return last;
}

/* Logs of every pair of nodes of mask are equal. */
static bool
scn_logs_equal(const struct scn *t, uint32_t mask)
{
	for (uint16_t a = 1; a <= rc_sim_node_count(t->sim); a++)
		for (uint16_t b = a + 1; b <= rc_sim_node_count(t->sim); b++)
			if ((mask & SCN_BIT(a)) && (mask & SCN_BIT(b)) &&
			    !rc_sim_logs_equal(t->sim, a, b))
				return false;
	return true;
}

/* What pred_converged waits for: every node of mask up, logs equal, index applied. */
struct scn_converged {
	const struct scn *t;
	uint32_t mask;
	uint64_t index;
};

/* Every node of the mask applied index and all their logs are equal. */
static bool
pred_converged(struct rc_sim *s, void *ctx)
{
	const struct scn_converged *c = ctx;
	struct scn_applied a = { .index = c->index, .mask = c->mask };

	return pred_applied(s, &a) && scn_logs_equal(c->t, c->mask);
}

/* Runs until the nodes of mask converged on a log of which they applied index. */
static void
scn_wait_converged(struct scn *t, uint32_t mask, uint64_t index)
{
	struct scn_converged c = { .t = t, .mask = mask, .index = index };

	SCN_CHECK(t, scn_run_until(t, pred_converged, &c, SCN_WAIT),
		  "nodes of mask 0x%x hold equal logs and applied index %" PRIu64, mask, index);
	for (uint16_t id = 1; id <= rc_sim_node_count(t->sim); id++)
		if (mask & SCN_BIT(id))
			SCN_CHECK(t,
				  rc_sim_applied_count(t->sim, id) ==
					  rc_sim_applied_index(t->sim, id),
				  "n%u applied every index once in this life (%" PRIu64
				  " entries, up to %" PRIu64 ")",
				  id, rc_sim_applied_count(t->sim, id),
				  rc_sim_applied_index(t->sim, id));
}

/* True when entry e is forbidden entry i (NORMAL entries are named by ref as well). */
static bool
scn_is_forbidden(const struct scn_forbidden *f, uint32_t i, const struct rc_raft_entry *e)
{
	if (e == NULL || e->term != f->term[i] || e->type != f->type[i])
		return false;
	return e->type != RC_ENTRY_NORMAL || e->ref == f->ref[i];
}

/* Adds entries first..last of node id's log to the forbidden set. */
static void
scn_forbid(struct scn *t, struct scn_forbidden *f, uint16_t id, uint64_t first, uint64_t last)
{
	for (uint64_t i = first; i <= last; i++) {
		const struct rc_raft_entry *e = rc_raft_entry_at(scn_node(t, id), i);

		SCN_CHECK(t, e != NULL && f->count < SCN_FORBIDDEN_MAX,
			  "n%u holds index %" PRIu64 " to forbid", id, i);
		f->index[f->count] = i;
		f->term[f->count] = e->term;
		f->ref[f->count] = e->ref;
		f->type[f->count] = e->type;
		f->count++;
	}
}

/* Monitor: no up node's commit index covers a forbidden entry it holds. */
static bool
monitor_forbidden(struct scn *t, char *why, size_t why_bytes)
{
	const struct scn_forbidden *f = t->monitor_ctx;

	for (uint16_t id = 1; id <= rc_sim_node_count(t->sim); id++) {
		const struct rc_raft *r = scn_node(t, id);

		if (!rc_sim_is_up(t->sim, id))
			continue;
		for (uint32_t i = 0; i < f->count; i++) {
			if (r->commit < f->index[i] ||
			    !scn_is_forbidden(f, i, rc_raft_entry_at(r, f->index[i])))
				continue;
			snprintf(why, why_bytes,
				 "n%u committed index %" PRIu64 " (t%" PRIu64 " ref %" PRIu64
				 ") that must never be committed (its commit is %" PRIu64
				 ", term %" PRIu64 ")",
				 id, f->index[i], f->term[i], f->ref[i], r->commit, r->term);
			return false;
		}
	}
	return true;
}

/* Checks that no node's log still holds a forbidden entry. */
static void
scn_check_forbidden_gone(struct scn *t, const struct scn_forbidden *f)
{
	for (uint16_t id = 1; id <= rc_sim_node_count(t->sim); id++)
		for (uint32_t i = 0; i < f->count; i++)
			SCN_CHECK(t,
				  !scn_is_forbidden(f, i,
						    rc_raft_entry_at(scn_node(t, id), f->index[i])),
				  "n%u no longer holds index %" PRIu64 " t%" PRIu64, id,
				  f->index[i], f->term[i]);
}

/* What pred_leader_elected waits for: an up leader other than exclude of term >= term_min. */
struct scn_elected {
	uint16_t exclude;
	uint64_t term_min;
	uint16_t leader; /* out */
};

/* Some up node other than exclude is leader in a term of at least term_min. */
static bool
pred_leader_elected(struct rc_sim *s, void *ctx)
{
	struct scn_elected *e = ctx;

	for (uint16_t id = 1; id <= rc_sim_node_count(s); id++) {
		const struct rc_raft *r = rc_sim_node(s, id);

		if (id != e->exclude && rc_sim_is_up(s, id) && r->role == RC_ROLE_LEADER &&
		    r->term >= e->term_min) {
			e->leader = id;
			return true;
		}
	}
	return false;
}

/* Runs until some up node other than exclude leads a term >= term_min. Returns it. */
static uint16_t
scn_wait_elected(struct scn *t, uint16_t exclude, uint64_t term_min)
{
	struct scn_elected e = { .exclude = exclude, .term_min = term_min };

	SCN_CHECK(t, scn_run_until(t, pred_leader_elected, &e, SCN_WAIT),
		  "a leader other than n%u of term >= %" PRIu64, exclude, term_min);
	scn_note(t, "n%u is leader of term %" PRIu64, e.leader, scn_node(t, e.leader)->term);
	return e.leader;
}

/* Node *(uint16_t *)ctx is not leader. */
static bool
pred_not_leader(struct rc_sim *s, void *ctx)
{
	return rc_sim_node(s, *(const uint16_t *)ctx)->role != RC_ROLE_LEADER;
}

/* What pred_holds waits for: node id holds index with term. */
struct scn_holds {
	uint16_t id;
	uint64_t index;
	uint64_t term;
};

/* Node id holds an entry of the term at the index. */
static bool
pred_holds(struct rc_sim *s, void *ctx)
{
	const struct scn_holds *h = ctx;

	return scn_term_at(rc_sim_node(s, h->id), h->index) == h->term;
}

/* What pred_match waits for: leader knows peer matches its log up to index. */
struct scn_match {
	uint16_t leader;
	uint16_t peer;
	uint64_t index;
};

/* The leader's progress says the peer holds its log up to the index. */
static bool
pred_match(struct rc_sim *s, void *ctx)
{
	const struct scn_match *m = ctx;
	const struct rc_raft *r = rc_sim_node(s, m->leader);
	int slot = scn_slot(r, m->peer);

	return r->role == RC_ROLE_LEADER && slot >= 0 && r->progress[slot].match >= m->index;
}

/* What pred_disk waits for: node id's disk reaches index. */
struct scn_disk {
	uint16_t id;
	uint64_t index;
};

/* Node id's disk holds entries up to the index. */
static bool
pred_disk(struct rc_sim *s, void *ctx)
{
	const struct scn_disk *d = ctx;

	return rc_sim_disk_last_index(s, d->id) >= d->index;
}

/* Runs until node id's disk holds index; fails the scenario otherwise. */
static void
scn_wait_disk(struct scn *t, uint16_t id, uint64_t index)
{
	struct scn_disk d = { .id = id, .index = index };

	SCN_CHECK(t, scn_run_until(t, pred_disk, &d, SCN_WAIT),
		  "n%u's disk holds index %" PRIu64 " (it holds %" PRIu64 ")", id, index,
		  rc_sim_disk_last_index(t->sim, id));
}

/* Crashes node id, with a note. */
static void
scn_crash(struct scn *t, uint16_t id)
{
	scn_note(t, "crash n%u (term %" PRIu64 ", last index %" PRIu64 ", disk %" PRIu64 ")", id,
		 scn_node(t, id)->term, scn_node(t, id)->last_index,
		 rc_sim_disk_last_index(t->sim, id));
	rc_sim_crash(t->sim, id);
	SCN_CHECK(t, !rc_sim_is_up(t->sim, id), "n%u is down", id);
}

/* Restarts node id from its disk, with a note. */
static void
scn_restart(struct scn *t, uint16_t id)
{
	bool ok = rc_sim_restart(t->sim, id);

	SCN_CHECK(t, ok && rc_sim_violation(t->sim) == NULL, "n%u restarts without violation", id);
	SCN_CHECK(t, rc_sim_is_up(t->sim, id), "n%u is up", id);
	scn_note(t,
		 "restart n%u: term %" PRIu64 ", vote n%u, last index %" PRIu64 ", commit %" PRIu64,
		 id, scn_node(t, id)->term, scn_node(t, id)->vote, scn_node(t, id)->last_index,
		 scn_node(t, id)->commit);
}

/*
 * Lets every message on the network arrive or be dropped: runs longer than the simulator's
 * largest delay without seeded reordering (40 units). A message keeps flying when its sender
 * crashes, and reaches a crashed receiver that restarted before it arrived; scripts that crash
 * nodes to hide a message from them drain before restarting them.
 */
static void
scn_drain(struct scn *t)
{
	scn_note(t, "let the network drain");
	scn_run_for(t, SCN_UNITS(10));
}

/* Steps a campaign on node id, with a note. */
static void
scn_campaign(struct scn *t, uint16_t id)
{
	bool ok = rc_sim_campaign(t->sim, id);

	SCN_CHECK(t, ok && rc_sim_violation(t->sim) == NULL, "n%u campaigns without violation", id);
	scn_note(t, "n%u campaigns: term %" PRIu64 ", role %s", id, scn_node(t, id)->term,
		 rc_raft_role_name(scn_node(t, id)->role));
}

/* ---- (1) Elections ---------------------------------------------------------------------- */

/*
 * A fresh cluster of nodes elects exactly one leader, known by all, in a term >= 1; then ten
 * election timeouts of heartbeats change nothing (no new election, same leader and term).
 */
static void
scenario_election(const char *name, uint16_t nodes, uint64_t seed, int8_t pre_vote)
{
	struct rc_sim_config c;
	struct scn t;
	uint16_t leader;
	uint64_t term;
	uint64_t elections;

	scn_config(&c, seed, nodes);
	c.pre_vote = pre_vote;
	scn_start(&t, name, &c);
	scn_wait_leader(&t, SCN_WAIT);
	leader = scn_check_one_leader(&t, 1);
	term = scn_node(&t, leader)->term;
	elections = scn_elections(&t);
	scn_note(&t, "run 10 election timeouts: the leader must stay");
	scn_run_for(&t, SCN_UNITS(10 * 2 * rc_sim_raft_config(t.sim, 1)->election_ticks));
	SCN_CHECK(&t,
		  scn_check_one_leader(&t, term) == leader && scn_node(&t, leader)->term == term,
		  "n%u still leads term %" PRIu64, leader, term);
	SCN_CHECK(&t, scn_elections(&t) == elections,
		  "no new election (%" PRIu64 " then %" PRIu64 ")", elections, scn_elections(&t));
	scn_end(&t);
}

/* Eight seeds: pre-vote on for the odd ones, off for the even ones. */
Test(scenario, election_3_nodes_one_leader)
{
	for (uint64_t seed = 1; seed <= 8; seed++)
		scenario_election("election_3_nodes_one_leader", 3, seed, (int8_t)(seed & 1));
}

/* Eight seeds: pre-vote on for the odd ones, off for the even ones. */
Test(scenario, election_5_nodes_one_leader)
{
	for (uint64_t seed = 1; seed <= 8; seed++)
		scenario_election("election_5_nodes_one_leader", 5, seed, (int8_t)(seed & 1));
}

/* ---- (2) Split vote --------------------------------------------------------------------- */

/* n1 and n2 each hold two votes of term 1 and one refusal: term 1 can elect nobody. */
static bool
pred_split(struct rc_sim *s, void *ctx)
{
	(void)ctx;
	for (uint16_t id = 1; id <= 2; id++) {
		const struct rc_raft *r = rc_sim_node(s, id);

		if (r->role != RC_ROLE_CANDIDATE || __builtin_popcount(r->votes_granted) != 2 ||
		    __builtin_popcount(r->votes_rejected) != 1)
			return false;
	}
	return true;
}

/*
 * Two nodes of four campaign at the same instant (pre-vote off). One-way cuts make the split
 * certain rather than a matter of arrival order: n1's request reaches only n3, n2's only n4, so
 * each candidate holds two votes of the three it needs and refuses the other. Term 1 can elect
 * nobody; once healed, a single leader still emerges, in a later term.
 */
Test(scenario, split_vote_resolves)
{
	struct rc_sim_config c;
	struct scn t;
	uint16_t leader = 0;

	scn_config(&c, 2, 4);
	c.pre_vote = 0;
	scn_start(&t, "split_vote_resolves", &c);
	scn_note(&t, "cut n1->n4 and n2->n3: n1's vote request reaches only n3, n2's only n4");
	rc_sim_cut(t.sim, 1, 4);
	rc_sim_cut(t.sim, 2, 3);
	scn_campaign(&t, 1);
	scn_campaign(&t, 2);
	SCN_CHECK(&t, scn_run_until(&t, pred_split, NULL, SCN_WAIT),
		  "n1 and n2 each hold 2 votes and 1 refusal in term 1");
	SCN_CHECK(&t, scn_node(&t, 3)->vote == 1 && scn_node(&t, 4)->vote == 2,
		  "n3 voted n1, n4 voted n2 (votes n%u, n%u)", scn_node(&t, 3)->vote,
		  scn_node(&t, 4)->vote);
	SCN_CHECK(&t, scn_leader_count(&t, &leader) == 0, "the vote is split: no leader");
	for (uint16_t id = 1; id <= 4; id++)
		SCN_CHECK(&t, scn_node(&t, id)->term == 1, "n%u is in term 1", id);
	scn_note(&t, "split vote in term 1; heal the cuts");
	rc_sim_heal(t.sim);
	scn_wait_leader(&t, SCN_WAIT);
	scn_check_one_leader(&t, 2);
	SCN_CHECK(&t, scn_elections(&t) == 1, "one election won, %" PRIu64, scn_elections(&t));
	scn_end(&t);
}

/* ---- (3) Isolated leader ---------------------------------------------------------------- */

/*
 * Five nodes, pre-vote and check-quorum on. The leader is cut off from everyone and takes three
 * proposals it can never commit. It steps down within two election timeouts (check-quorum);
 * the four others elect a leader of a higher term and commit new proposals. After healing the
 * logs are equal and the isolated leader's proposals were never committed (so never applied)
 * anywhere: a monitor checks that after every event.
 */
Test(scenario, leader_isolated_majority_elects_new_leader_and_commits)
{
	struct rc_sim_config c;
	struct scn_forbidden f = { 0 };
	struct scn t;
	uint16_t old;
	uint16_t leader;
	uint64_t term;
	uint64_t first = 0;
	uint64_t last;
	uint64_t isolated_at;
	uint64_t stepped_down_after;
	uint32_t election_ticks;
	uint32_t accepted;

	scn_config(&c, 3, 5);
	c.pre_vote = 1;
	c.check_quorum = 1;
	scn_start(&t, "leader_isolated_majority_elects_new_leader_and_commits", &c);
	election_ticks = rc_sim_raft_config(t.sim, 1)->election_ticks;
	old = scn_wait_leader(&t, SCN_WAIT);
	last = scn_propose(&t, 3, 3);
	scn_wait_applied(&t, last, scn_all(&t), SCN_WAIT);
	term = scn_node(&t, old)->term;

	scn_note(&t, "isolate leader n%u and propose 3 entries to it", old);
	rc_sim_isolate(t.sim, old);
	isolated_at = rc_sim_now(t.sim);
	SCN_CHECK(&t, rc_sim_leader(t.sim) == old, "n%u is still the only leader", old);
	accepted = rc_sim_propose(t.sim, 3, &first);
	SCN_CHECK(&t, accepted == 3 && first == last + 1,
		  "n%u took 3 entries from index %" PRIu64 " (took %u at %" PRIu64 ")", old,
		  last + 1, accepted, first);
	scn_forbid(&t, &f, old, first, first + 2);
	t.monitor = monitor_forbidden;
	t.monitor_ctx = &f;

	SCN_CHECK(&t, scn_run_until(&t, pred_not_leader, &old, SCN_UNITS(4 * election_ticks)),
		  "isolated n%u steps down", old);
	stepped_down_after = rc_sim_now(t.sim) - isolated_at;
	scn_note(&t, "n%u stepped down %" PRIu64 " units after its isolation", old,
		 stepped_down_after);
	SCN_CHECK(&t, stepped_down_after <= SCN_UNITS(2 * election_ticks + 2),
		  "check-quorum: n%u steps down within 2 election timeouts (%u ticks)", old,
		  2 * election_ticks);

	leader = scn_wait_elected(&t, old, term + 1);
	SCN_CHECK(&t, rc_sim_leader(t.sim) == leader, "proposals go to n%u", leader);
	last = scn_propose(&t, 5, 5);
	scn_wait_applied(&t, last, scn_all(&t) & ~SCN_BIT(old), SCN_WAIT);
	SCN_CHECK(&t, scn_node(&t, old)->commit < first, "isolated n%u committed nothing new", old);

	scn_note(&t, "heal");
	rc_sim_heal(t.sim);
	scn_wait_converged(&t, scn_all(&t), last);
	scn_check_forbidden_gone(&t, &f);
	SCN_CHECK(&t, scn_node(&t, old)->role == RC_ROLE_FOLLOWER, "n%u follows", old);
	scn_end(&t);
}

/* ---- (4) One-way partition -------------------------------------------------------------- */

/*
 * Three nodes, pre-vote and check-quorum on. First the link leader -> follower F is cut: F hears
 * nothing, but its pre-votes cannot disturb a leader the others still hear, and the leader
 * commits with the third node. Then, healed, the link F -> leader is cut: F still follows, the
 * leader commits again. The leader and its term never change; after healing F catches up.
 */
Test(scenario, one_way_partition)
{
	struct rc_sim_config c;
	struct scn t;
	uint16_t leader;
	uint16_t f;
	uint64_t term;
	uint64_t last;
	uint64_t elections;
	uint32_t others;

	scn_config(&c, 4, 3);
	c.pre_vote = 1;
	c.check_quorum = 1;
	scn_start(&t, "one_way_partition", &c);
	leader = scn_wait_leader(&t, SCN_WAIT);
	f = leader % 3 + 1;
	others = scn_all(&t) & ~SCN_BIT(f);
	last = scn_propose(&t, 2, 2);
	scn_wait_applied(&t, last, scn_all(&t), SCN_WAIT);
	term = scn_node(&t, leader)->term;
	elections = scn_elections(&t);

	scn_note(&t, "cut n%u -> n%u only", leader, f);
	rc_sim_cut(t.sim, leader, f);
	last = scn_propose(&t, 30, 5);
	scn_wait_applied(&t, last, others, SCN_WAIT);
	scn_run_for(&t, SCN_UNITS(5 * 2 * rc_sim_raft_config(t.sim, 1)->election_ticks));
	SCN_CHECK(&t, rc_sim_leader(t.sim) == leader && scn_node(&t, leader)->term == term,
		  "n%u still leads term %" PRIu64 " (leader n%u, term %" PRIu64 ")", leader, term,
		  rc_sim_leader(t.sim), scn_node(&t, leader)->term);
	SCN_CHECK(&t, scn_node(&t, f)->last_index < last, "n%u got nothing over the cut link", f);
	SCN_CHECK(&t, scn_elections(&t) == elections, "no new election");

	scn_note(&t, "heal, then cut n%u -> n%u only", f, leader);
	rc_sim_heal(t.sim);
	scn_wait_converged(&t, scn_all(&t), last);
	rc_sim_cut(t.sim, f, leader);
	last = scn_propose(&t, 30, 5);
	scn_wait_applied(&t, last, others, SCN_WAIT);
	scn_run_for(&t, SCN_UNITS(5 * 2 * rc_sim_raft_config(t.sim, 1)->election_ticks));
	SCN_CHECK(&t, rc_sim_leader(t.sim) == leader && scn_node(&t, leader)->term == term,
		  "n%u still leads term %" PRIu64, leader, term);
	SCN_CHECK(&t,
		  scn_node(&t, f)->role == RC_ROLE_FOLLOWER && scn_node(&t, f)->leader == leader,
		  "n%u still follows n%u", f, leader);
	SCN_CHECK(&t, scn_elections(&t) == elections, "no new election");

	scn_note(&t, "heal");
	rc_sim_heal(t.sim);
	scn_wait_converged(&t, scn_all(&t), last);
	scn_end(&t);
}

/* ---- (5) Figure 8 ----------------------------------------------------------------------- */

/* Checks that the term-2 entry at index 2 is held by exactly the nodes of mask (among up ones). */
static void
fig8_check_holders(struct scn *t, uint32_t mask)
{
	for (uint16_t id = 1; id <= 5; id++) {
		bool holds = rc_sim_is_up(t->sim, id) && scn_term_at(scn_node(t, id), 2) == 2;

		SCN_CHECK(t, holds == !!(mask & SCN_BIT(id)), "n%u %s index 2 of term 2", id,
			  (mask & SCN_BIT(id)) ? "holds" : "does not hold");
	}
}

/* Checks that no up node has committed index 2 (or anything past it). */
static void
fig8_check_uncommitted(struct scn *t)
{
	for (uint16_t id = 1; id <= 5; id++)
		if (rc_sim_is_up(t->sim, id))
			SCN_CHECK(t, scn_node(t, id)->commit < 2,
				  "n%u has not committed index 2 (commit %" PRIu64 ")", id,
				  scn_node(t, id)->commit);
}

/*
 * The paper's Figure 8 (§5.4.2) on five nodes, scripted with crashes and one cut. Every leader
 * appends a no-op when elected, so the no-op of a term is "the entry of that term". Pre-vote
 * and check-quorum are off (the paper's plain Raft), one entry per AppendEntries, and elections
 * happen only when the script calls them (election timeouts of 100+ ticks).
 *
 *   (0) n2 leads term 1: index 1 (t1) is committed everywhere.
 *   (a) n1 wins term 2 (every node votes), and the instant it is leader n3, n4, n5 crash, so its
 *       no-op, index 2 of term 2, reaches n2 only. n1 and n2 crash.
 *   (b) n3, n4, n5 restart; n5 wins term 3 with the votes of n3 and n4, which crash the instant
 *       it is leader: index 2 of term 3 stays on n5 alone. n5 crashes.
 *   (c) n1, n2, n3 restart; n1 campaigns twice (term 3 is lost: n3 voted n5 in it) and wins
 *       term 4 with n2 and n3. Its no-op, index 3 of term 4, reaches n2. n3 lacks index 2: once
 *       it took index 2 of term 2 from n1, the link n1 -> n3 is cut, so the no-op of term 4
 *       never reaches it. Now n1, n2, n3 — a majority — hold index 2 of term 2 and n1 knows it,
 *       but no entry of term 4 is on a majority: index 2 must NOT be committed.
 *   (d) n1 crashes; n4 and n5 restart. n5 campaigns twice and wins term 5 with n3 and n4 (in
 *       the paper n2 votes too; here n2 holds the term-4 no-op, which is more up to date than
 *       n5's log, so it refuses). n5 overwrites index 2 with its term-3 entry on every node.
 *
 * A message keeps flying when its sender crashes and reaches a receiver that restarted in the
 * meantime, so before nodes that must not see a message come back, the network drains.
 *
 * Had index 2 of term 2 been committed in (c), (d) would have erased a committed entry. A
 * monitor checks after every event that no node ever commits index 2 while it holds the term-2
 * entry there, so no node ever applied it; the checkers see no violation; in the end every
 * node, n1 included, holds index 2 of term 3.
 */
Test(scenario, figure_8_scenario)
{
	struct rc_sim_config c;
	struct scn_forbidden f = {
		.count = 1, .index = { 2 }, .term = { 2 }, .type = { RC_ENTRY_NOOP }
	};
	struct scn_elected e = { 0 };
	struct scn_holds h;
	struct scn_match m;
	struct scn t;
	uint64_t final_last;

	scn_config(&c, 5, 5);
	c.pre_vote = 0;
	c.check_quorum = 0;
	c.msg_entries_max = 1;
	c.election_ticks = 100;
	scn_start(&t, "figure_8_scenario", &c);
	t.monitor = monitor_forbidden;
	t.monitor_ctx = &f;

	scn_note(&t, "(0) n2 leads term 1; its no-op, index 1, is committed everywhere");
	scn_campaign(&t, 2);
	scn_wait_applied(&t, 1, scn_all(&t), SCN_WAIT);
	SCN_CHECK(&t, scn_node(&t, 2)->role == RC_ROLE_LEADER && scn_node(&t, 2)->term == 1,
		  "n2 leads term 1");

	scn_note(&t, "(a) n1 wins term 2; n3, n4, n5 crash the instant it leads");
	scn_campaign(&t, 1);
	e = (struct scn_elected){ .exclude = 0, .term_min = 2 };
	SCN_CHECK(&t, scn_run_until(&t, pred_leader_elected, &e, SCN_WAIT) && e.leader == 1,
		  "n1 leads term 2 (leader n%u)", e.leader);
	SCN_CHECK(&t, scn_node(&t, 1)->term == 2 && scn_term_at(scn_node(&t, 1), 2) == 2,
		  "n1 leads term 2 with its no-op at index 2");
	scn_crash(&t, 3);
	scn_crash(&t, 4);
	scn_crash(&t, 5);
	scn_wait_disk(&t, 1, 2);
	scn_wait_disk(&t, 2, 2);
	fig8_check_holders(&t, SCN_BIT(1) | SCN_BIT(2));
	fig8_check_uncommitted(&t);
	scn_crash(&t, 1);
	scn_crash(&t, 2);
	scn_drain(&t);

	scn_note(&t, "(b) n5 wins term 3 with n3 and n4, which crash the instant it leads");
	scn_restart(&t, 3);
	scn_restart(&t, 4);
	scn_restart(&t, 5);
	scn_campaign(&t, 5);
	e = (struct scn_elected){ .exclude = 0, .term_min = 3 };
	SCN_CHECK(&t, scn_run_until(&t, pred_leader_elected, &e, SCN_WAIT) && e.leader == 5,
		  "n5 leads term 3 (leader n%u)", e.leader);
	scn_crash(&t, 3);
	scn_crash(&t, 4);
	scn_wait_disk(&t, 5, 2);
	SCN_CHECK(&t, scn_term_at(scn_node(&t, 5), 2) == 3 && scn_node(&t, 5)->last_index == 2,
		  "n5 holds index 2 of term 3, alone");
	scn_crash(&t, 5);
	scn_drain(&t);

	scn_note(&t, "(c) n1 wins term 4 with n2 and n3, replicates index 2 of term 2 to n3");
	scn_restart(&t, 1);
	scn_restart(&t, 2);
	scn_restart(&t, 3);
	SCN_CHECK(&t, scn_node(&t, 3)->term == 3 && scn_node(&t, 3)->vote == 5,
		  "n3 remembers its vote for n5 in term 3");
	scn_campaign(&t, 1);
	scn_campaign(&t, 1);
	h = (struct scn_holds){ .id = 3, .index = 2, .term = 2 };
	SCN_CHECK(&t, scn_run_until(&t, pred_holds, &h, SCN_WAIT), "n3 takes index 2 of term 2");
	SCN_CHECK(&t, scn_node(&t, 1)->role == RC_ROLE_LEADER && scn_node(&t, 1)->term == 4,
		  "n1 leads term 4 (role %s, term %" PRIu64 ")",
		  rc_raft_role_name(scn_node(&t, 1)->role), scn_node(&t, 1)->term);
	scn_note(&t, "cut n1 -> n3: the no-op of term 4 must not reach n3");
	rc_sim_cut(t.sim, 1, 3);
	m = (struct scn_match){ .leader = 1, .peer = 3, .index = 2 };
	SCN_CHECK(&t, scn_run_until(&t, pred_match, &m, SCN_WAIT),
		  "n1 learns that n3 holds index 2");
	scn_run_for(&t, SCN_UNITS(10));
	fig8_check_holders(&t, SCN_BIT(1) | SCN_BIT(2) | SCN_BIT(3));
	SCN_CHECK(&t, scn_term_at(scn_node(&t, 1), 3) == 4 && scn_node(&t, 3)->last_index == 2,
		  "n1's term-4 no-op is not on n3 (n3's last index %" PRIu64 ")",
		  scn_node(&t, 3)->last_index);
	SCN_CHECK(&t, scn_node(&t, 1)->role == RC_ROLE_LEADER && scn_node(&t, 1)->term == 4,
		  "n1 still leads term 4");
	fig8_check_uncommitted(&t);
	scn_note(&t,
		 "n1, n2, n3 hold index 2 of term 2, n1 knows it; commits: n1 %" PRIu64
		 ", n2 %" PRIu64 ", n3 %" PRIu64 ": n1 crashes",
		 scn_node(&t, 1)->commit, scn_node(&t, 2)->commit, scn_node(&t, 3)->commit);
	scn_crash(&t, 1);
	scn_drain(&t);

	scn_note(&t, "(d) n5 wins term 5 with n3 and n4 and overwrites index 2");
	rc_sim_heal(t.sim);
	scn_restart(&t, 4);
	scn_restart(&t, 5);
	scn_campaign(&t, 5);
	scn_campaign(&t, 5);
	e = (struct scn_elected){ .exclude = 0, .term_min = 5 };
	SCN_CHECK(&t, scn_run_until(&t, pred_leader_elected, &e, SCN_WAIT) && e.leader == 5,
		  "n5 leads term 5 (leader n%u)", e.leader);
	SCN_CHECK(&t, scn_node(&t, 5)->term == 5, "n5 leads term 5");
	final_last = scn_node(&t, 5)->last_index;
	scn_wait_converged(&t, scn_all(&t) & ~SCN_BIT(1), final_last);
	scn_note(&t, "n1 restarts and is repaired");
	scn_restart(&t, 1);
	scn_wait_converged(&t, scn_all(&t), final_last);
	for (uint16_t id = 1; id <= 5; id++)
		SCN_CHECK(&t, scn_term_at(scn_node(&t, id), 2) == 3,
			  "n%u holds index 2 of term 3 (term %" PRIu64 ")", id,
			  scn_term_at(scn_node(&t, id), 2));
	scn_check_forbidden_gone(&t, &f);
	scn_end(&t);
}

/* ---- (6) Lagging follower --------------------------------------------------------------- */

/* What pred_caught_up waits for: follower id equals the current leader and applied it all. */
struct scn_caught_up {
	const struct scn *t;
	uint16_t id;
};

/* The follower's log equals the leader's and it applied everything the leader committed. */
static bool
pred_caught_up(struct rc_sim *s, void *ctx)
{
	const struct scn_caught_up *c = ctx;
	uint16_t leader = rc_sim_leader(s);
	const struct rc_raft *l;

	if (leader == 0)
		return false;
	l = rc_sim_node(s, leader);
	return l->commit == l->last_index && rc_sim_logs_equal(s, c->id, leader) &&
	       rc_sim_applied_index(s, c->id) == l->last_index;
}

/*
 * Three nodes. A follower crashes, the other two commit 200 entries, the follower restarts from
 * its disk and catches up: its log equals the leader's and it applied every entry, once.
 */
Test(scenario, lagging_follower_catches_up)
{
	struct rc_sim_config c;
	struct scn t;
	struct scn_caught_up cu;
	uint16_t leader;
	uint16_t f;
	uint64_t last;

	scn_config(&c, 6, 3);
	scn_start(&t, "lagging_follower_catches_up", &c);
	leader = scn_wait_leader(&t, SCN_WAIT);
	f = leader % 3 + 1;
	scn_wait_applied(&t, scn_node(&t, leader)->last_index, scn_all(&t), SCN_WAIT);
	scn_crash(&t, f);
	last = scn_propose(&t, 200, 10);
	scn_wait_applied(&t, last, scn_all(&t) & ~SCN_BIT(f), SCN_WAIT);
	SCN_CHECK(&t, rc_sim_disk_last_index(t.sim, f) < last - 199, "n%u lags 200 entries", f);
	scn_restart(&t, f);
	SCN_CHECK(&t, rc_sim_applied_index(t.sim, f) == 0, "a restarted node applied nothing yet");
	cu = (struct scn_caught_up){ .t = &t, .id = f };
	SCN_CHECK(&t, scn_run_until(&t, pred_caught_up, &cu, SCN_WAIT),
		  "n%u catches up with the leader", f);
	SCN_CHECK(&t,
		  rc_sim_applied_index(t.sim, f) == last && rc_sim_applied_count(t.sim, f) == last,
		  "n%u applied indexes 1..%" PRIu64 " once each (index %" PRIu64 ", count %" PRIu64
		  ")",
		  f, last, rc_sim_applied_index(t.sim, f), rc_sim_applied_count(t.sim, f));
	SCN_CHECK(&t, scn_logs_equal(&t, scn_all(&t)), "all logs are equal");
	scn_end(&t);
}

/* ---- (6b) Election restriction ---------------------------------------------------------- */

/* Monitor: node *(uint16_t *)monitor_ctx never leads. */
static bool
monitor_never_leader(struct scn *t, char *why, size_t why_bytes)
{
	uint16_t id = *(const uint16_t *)t->monitor_ctx;
	const struct rc_raft *r = scn_node(t, id);

	if (!rc_sim_is_up(t->sim, id) || r->role != RC_ROLE_LEADER)
		return true;
	snprintf(why, why_bytes, "n%u leads term %" PRIu64 " with a log ending at %" PRIu64, id,
		 r->term, r->last_index);
	return false;
}

/* Node *(uint16_t *)ctx is a follower. */
static bool
pred_follower(struct rc_sim *s, void *ctx)
{
	return rc_sim_node(s, *(const uint16_t *)ctx)->role == RC_ROLE_FOLLOWER;
}

/*
 * The election restriction (§5.4.1). Three nodes, check-quorum off (so votes are judged on the
 * logs, not refused under a leader's lease). A follower crashes while the others commit 20
 * entries, restarts and campaigns at once: both others refuse a candidate whose log is behind
 * theirs, so it loses (a monitor checks it never leads), a node holding the 20 entries leads
 * next, and the stale node catches up.
 */
Test(scenario, stale_node_cannot_win_election)
{
	struct rc_sim_config c;
	struct scn t;
	uint16_t leader;
	uint16_t f;
	uint64_t last;
	uint64_t term;

	scn_config(&c, 11, 3);
	c.check_quorum = 0;
	scn_start(&t, "stale_node_cannot_win_election", &c);
	leader = scn_wait_leader(&t, SCN_WAIT);
	f = leader % 3 + 1;
	scn_wait_applied(&t, scn_node(&t, leader)->last_index, scn_all(&t), SCN_WAIT);
	scn_crash(&t, f);
	last = scn_propose(&t, 20, 5);
	scn_wait_applied(&t, last, scn_all(&t) & ~SCN_BIT(f), SCN_WAIT);
	scn_restart(&t, f);
	t.monitor = monitor_never_leader;
	t.monitor_ctx = &f;
	scn_campaign(&t, f);
	term = scn_node(&t, f)->term;
	SCN_CHECK(&t, scn_run_until(&t, pred_follower, &f, SCN_WAIT),
		  "n%u loses the election of term %" PRIu64, f, term);
	SCN_CHECK(&t, scn_node(&t, f)->term == term,
		  "n%u lost term %" PRIu64 " (now in %" PRIu64 ")", f, term, scn_node(&t, f)->term);
	leader = scn_wait_elected(&t, f, term);
	SCN_CHECK(&t, scn_node(&t, leader)->last_index > last, "the new leader n%u holds the 20",
		  leader);
	scn_wait_converged(&t, scn_all(&t), scn_node(&t, leader)->last_index);
	scn_end(&t);
}

/* ---- (7) Divergent follower ------------------------------------------------------------- */

/*
 * Five nodes, pre-vote and check-quorum off (an isolated leader keeps leading). The leader is
 * isolated and takes 20 entries it cannot commit; the four others elect a new leader, which
 * commits its no-op and 3 entries at the same indexes. After healing, the old leader learns the
 * new term, becomes a follower and has its longer, older tail truncated and replaced: all logs
 * are equal and no node ever committed (so never applied) one of the 20.
 */
Test(scenario, divergent_follower_is_repaired)
{
	struct rc_sim_config c;
	struct scn_forbidden f = { 0 };
	struct scn t;
	uint16_t old;
	uint16_t leader;
	uint64_t term;
	uint64_t base;
	uint64_t first = 0;
	uint64_t last;
	uint32_t accepted;

	scn_config(&c, 7, 5);
	c.pre_vote = 0;
	c.check_quorum = 0;
	scn_start(&t, "divergent_follower_is_repaired", &c);
	old = scn_wait_leader(&t, SCN_WAIT);
	base = scn_propose(&t, 2, 2);
	scn_wait_applied(&t, base, scn_all(&t), SCN_WAIT);
	term = scn_node(&t, old)->term;

	scn_note(&t, "isolate leader n%u and propose 20 entries to it", old);
	rc_sim_isolate(t.sim, old);
	SCN_CHECK(&t, rc_sim_leader(t.sim) == old, "n%u is still the only leader", old);
	accepted = rc_sim_propose(t.sim, 20, &first);
	SCN_CHECK(&t, accepted == 20 && first == base + 1, "n%u took 20 entries from %" PRIu64, old,
		  base + 1);
	scn_forbid(&t, &f, old, first, first + 19);
	t.monitor = monitor_forbidden;
	t.monitor_ctx = &f;

	leader = scn_wait_elected(&t, old, term + 1);
	SCN_CHECK(&t, rc_sim_leader(t.sim) == leader, "proposals go to n%u", leader);
	last = scn_propose(&t, 3, 3);
	SCN_CHECK(&t, last > base + 1 && last < first + 19,
		  "the new entries (to index %" PRIu64 ") take indexes of the old ones", last);
	scn_wait_applied(&t, last, scn_all(&t) & ~SCN_BIT(old), SCN_WAIT);
	SCN_CHECK(&t,
		  scn_node(&t, old)->role == RC_ROLE_LEADER && scn_node(&t, old)->term == term &&
			  scn_node(&t, old)->last_index == base + 20 &&
			  scn_node(&t, old)->commit <= base,
		  "isolated n%u still leads term %" PRIu64 " with 20 uncommitted entries", old,
		  term);

	scn_note(&t, "heal: n%u must drop its 20 entries for the new leader's", old);
	rc_sim_heal(t.sim);
	scn_wait_converged(&t, scn_all(&t), last);
	SCN_CHECK(&t,
		  scn_node(&t, old)->role == RC_ROLE_FOLLOWER &&
			  scn_node(&t, old)->term == scn_node(&t, leader)->term &&
			  scn_node(&t, old)->last_index == scn_node(&t, leader)->last_index,
		  "n%u follows in term %" PRIu64 " with the leader's log (last index %" PRIu64 ")",
		  old, scn_node(&t, leader)->term, scn_node(&t, old)->last_index);
	scn_check_forbidden_gone(&t, &f);
	scn_end(&t);
}

/* ---- (8) Restart keeps term and vote ---------------------------------------------------- */

/* What pred_voted waits for: node id voted for vote in term. */
struct scn_voted {
	uint16_t id;
	uint64_t term;
	uint16_t vote;
};

/* Node id (in memory) voted as expected. */
static bool
pred_voted(struct rc_sim *s, void *ctx)
{
	const struct scn_voted *v = ctx;
	const struct rc_raft *r = rc_sim_node(s, v->id);

	return r->term == v->term && r->vote == v->vote;
}

/* The first voter other than leader whose vote the leader counted, 0 when none. */
static uint16_t
scn_counted_voter(const struct scn *t, uint16_t leader)
{
	const struct rc_raft *l = scn_node(t, leader);

	for (uint16_t id = 1; id <= rc_sim_node_count(t->sim); id++)
		if (id != leader && (l->votes_granted & (1u << scn_slot(l, id))))
			return id;
	return 0;
}

/*
 * Three nodes, pre-vote and check-quorum off, elections only when the script calls them
 * (election timeouts of 50+ ticks). A node's term and vote after a restart are what its disk
 * held, and a vote leaves a node only once durable:
 *   (1) n2 grants n1 a vote in term 1 and crashes before the write lands (disk writes take 1+
 *       units; the crash is at the same instant). It restarts in term 0 without a vote — the
 *       grant never left, so n1 does not lead — and may then vote for n3 in term 1. (With the
 *       grant sent before the write, n1 and n3 would both lead term 1.)
 *   (2) n1 wins term 2; a voter whose vote n1 counted (so it was durable) crashes the instant
 *       n1 leads: it restarts in term 2 with its vote for n1.
 *   (3) another node wins term 3 from everyone; once each node applied that term's no-op,
 *       everything it wrote before (term 3, its vote) is durable. All crash and restart: each
 *       comes back with exactly that term and vote, and the cluster goes on.
 */
Test(scenario, restart_keeps_term_and_vote)
{
	struct rc_sim_config c;
	struct scn_elected e;
	struct scn_voted v;
	struct scn t;
	uint64_t term[4];
	uint16_t vote[4];
	uint16_t voter;
	uint16_t other;
	uint64_t last;

	scn_config(&c, 8, 3);
	c.pre_vote = 0;
	c.check_quorum = 0;
	c.election_ticks = 50;
	scn_start(&t, "restart_keeps_term_and_vote", &c);

	scn_note(&t, "(1) cut n1 -> n3; n1 campaigns; n2 crashes the instant it grants, unsynced");
	rc_sim_cut(t.sim, 1, 3);
	scn_campaign(&t, 1);
	v = (struct scn_voted){ .id = 2, .term = 1, .vote = 1 };
	SCN_CHECK(&t, scn_run_until(&t, pred_voted, &v, SCN_WAIT), "n2 votes n1 in term 1");
	SCN_CHECK(&t, rc_sim_disk_last_index(t.sim, 2) == 0, "n2's disk holds no entry");
	scn_crash(&t, 2);
	scn_restart(&t, 2);
	SCN_CHECK(&t, scn_node(&t, 2)->term == 0 && scn_node(&t, 2)->vote == 0,
		  "n2 restarted with what its disk held: term 0, no vote (term %" PRIu64
		  ", vote n%u)",
		  scn_node(&t, 2)->term, scn_node(&t, 2)->vote);
	scn_campaign(&t, 3);
	e = (struct scn_elected){ .exclude = 1, .term_min = 1 };
	SCN_CHECK(&t,
		  scn_run_until(&t, pred_leader_elected, &e, SCN_WAIT) && e.leader == 3 &&
			  scn_node(&t, 3)->term == 1,
		  "n3 leads term 1 with n2's vote (leader n%u)", e.leader);
	SCN_CHECK(&t, scn_node(&t, 1)->role != RC_ROLE_LEADER, "n1 never got n2's lost vote");
	scn_note(&t, "heal");
	rc_sim_heal(t.sim);
	scn_wait_applied(&t, scn_node(&t, 3)->last_index, scn_all(&t), SCN_WAIT);

	scn_note(&t, "(2) n1 wins term 2; a voter it counted crashes the instant it leads");
	scn_campaign(&t, 1);
	e = (struct scn_elected){ .exclude = 0, .term_min = 2 };
	SCN_CHECK(&t, scn_run_until(&t, pred_leader_elected, &e, SCN_WAIT) && e.leader == 1,
		  "n1 leads term 2 (leader n%u)", e.leader);
	voter = scn_counted_voter(&t, 1);
	SCN_CHECK(&t, voter != 0, "n1 counted a vote");
	scn_note(&t, "n1 counted n%u's vote, so it is durable", voter);
	scn_crash(&t, voter);
	scn_restart(&t, voter);
	SCN_CHECK(&t, scn_node(&t, voter)->term == 2 && scn_node(&t, voter)->vote == 1,
		  "n%u restarted in term 2 with its vote for n1 (term %" PRIu64 ", vote n%u)",
		  voter, scn_node(&t, voter)->term, scn_node(&t, voter)->vote);
	scn_wait_applied(&t, scn_node(&t, 1)->last_index, scn_all(&t), SCN_WAIT);

	other = voter == 2 ? 3 : 2;
	scn_note(&t, "(3) n%u wins term 3; once all applied its no-op, all crash and restart",
		 other);
	scn_campaign(&t, other);
	e = (struct scn_elected){ .exclude = 0, .term_min = 3 };
	SCN_CHECK(&t, scn_run_until(&t, pred_leader_elected, &e, SCN_WAIT) && e.leader == other,
		  "n%u leads term 3 (leader n%u)", other, e.leader);
	scn_wait_applied(&t, scn_node(&t, other)->last_index, scn_all(&t), SCN_WAIT);
	for (uint16_t id = 1; id <= 3; id++) {
		term[id] = scn_node(&t, id)->term;
		vote[id] = scn_node(&t, id)->vote;
		SCN_CHECK(&t, term[id] == 3 && vote[id] == other,
			  "n%u is in term 3 and voted n%u (term %" PRIu64 ", vote n%u)", id, other,
			  term[id], vote[id]);
	}
	for (uint16_t id = 1; id <= 3; id++)
		scn_crash(&t, id);
	for (uint16_t id = 1; id <= 3; id++) {
		scn_restart(&t, id);
		SCN_CHECK(&t,
			  scn_node(&t, id)->term == term[id] && scn_node(&t, id)->vote == vote[id],
			  "n%u restarted with term %" PRIu64 " and vote n%u (has %" PRIu64 ", n%u)",
			  id, term[id], vote[id], scn_node(&t, id)->term, scn_node(&t, id)->vote);
	}
	scn_wait_leader(&t, SCN_WAIT);
	scn_check_one_leader(&t, 4);
	last = scn_propose(&t, 3, 3);
	scn_wait_converged(&t, scn_all(&t), last);
	scn_end(&t);
}

/* ---- (9) Whole-cluster crash ------------------------------------------------------------ */

/*
 * Three nodes commit 50 entries, then every node crashes. All restart from their disks, elect a
 * leader, and every committed entry is still there, with the same term and payload reference,
 * applied again by every node; new proposals commit after it.
 */
Test(scenario, crash_all_then_recover)
{
	struct rc_sim_config c;
	struct rc_raft_entry before[64];
	struct scn t;
	uint16_t leader;
	uint64_t last;

	scn_config(&c, 9, 3);
	scn_start(&t, "crash_all_then_recover", &c);
	leader = scn_wait_leader(&t, SCN_WAIT);
	last = scn_propose(&t, 50, 10);
	cr_assert(last < 64, "the committed log fits the copy");
	scn_wait_applied(&t, last, scn_all(&t), SCN_WAIT);
	for (uint64_t i = 1; i <= last; i++)
		before[i] = *rc_raft_entry_at(scn_node(&t, leader), i);

	scn_note(&t, "every node crashes, then restarts");
	for (uint16_t id = 1; id <= 3; id++)
		scn_crash(&t, id);
	for (uint16_t id = 1; id <= 3; id++) {
		scn_restart(&t, id);
		SCN_CHECK(&t, rc_sim_applied_index(t.sim, id) == 0, "n%u starts a new life", id);
	}
	scn_wait_leader(&t, SCN_WAIT);
	scn_wait_applied(&t, last, scn_all(&t), SCN_WAIT);
	for (uint16_t id = 1; id <= 3; id++) {
		for (uint64_t i = 1; i <= last; i++) {
			const struct rc_raft_entry *e = rc_raft_entry_at(scn_node(&t, id), i);

			SCN_CHECK(&t,
				  e != NULL && e->term == before[i].term &&
					  e->type == before[i].type &&
					  (e->type != RC_ENTRY_NORMAL || e->ref == before[i].ref),
				  "n%u still holds committed index %" PRIu64 " (t%" PRIu64
				  " ref %" PRIu64 ")",
				  id, i, before[i].term, before[i].ref);
		}
		SCN_CHECK(&t, rc_sim_applied_count(t.sim, id) >= last,
			  "n%u applied the %" PRIu64 " committed entries again", id, last);
	}
	last = scn_propose(&t, 5, 5);
	scn_wait_converged(&t, scn_all(&t), last);
	scn_end(&t);
}

/* ---- (10) One node ---------------------------------------------------------------------- */

/* What pred_committed waits for: node id's commit index reaches index. */
struct scn_committed {
	uint16_t id;
	uint64_t index;
};

/* Node id committed the index. */
static bool
pred_committed(struct rc_sim *s, void *ctx)
{
	const struct scn_committed *c = ctx;

	return rc_sim_node(s, c->id)->commit >= c->index;
}

/*
 * A cluster of one elects itself and commits alone: its own durable write is the quorum. It
 * crashes the instant its commit index covers 10 new entries; it restarts with all of them on
 * its disk, elects itself again in a later term and applies its log again.
 */
Test(scenario, single_node_commits_alone)
{
	struct rc_sim_config c;
	struct rc_raft_entry before[16];
	struct scn_committed cm;
	struct scn t;
	uint64_t term;
	uint64_t first = 0;
	uint32_t accepted;

	scn_config(&c, 10, 1);
	scn_start(&t, "single_node_commits_alone", &c);
	SCN_CHECK(&t, scn_wait_leader(&t, SCN_WAIT) == 1, "n1 leads");
	term = scn_node(&t, 1)->term;
	SCN_CHECK(&t, term >= 1, "term %" PRIu64 " >= 1", term);
	scn_wait_applied(&t, scn_node(&t, 1)->last_index, SCN_BIT(1), SCN_WAIT);
	accepted = rc_sim_propose(t.sim, 10, &first);
	SCN_CHECK(&t, accepted == 10 && first + 9 < 16, "n1 took 10 entries (took %u)", accepted);
	scn_note(&t, "proposed 10 entries, indexes %" PRIu64 "..%" PRIu64, first, first + 9);
	cm = (struct scn_committed){ .id = 1, .index = first + 9 };
	SCN_CHECK(&t, scn_run_until(&t, pred_committed, &cm, SCN_WAIT), "n1 commits index %" PRIu64,
		  first + 9);
	for (uint64_t i = 1; i <= first + 9; i++)
		before[i] = *rc_raft_entry_at(scn_node(&t, 1), i);
	scn_crash(&t, 1);
	scn_restart(&t, 1);
	for (uint64_t i = 1; i <= first + 9; i++) {
		const struct rc_raft_entry *e = rc_raft_entry_at(scn_node(&t, 1), i);

		SCN_CHECK(&t,
			  e != NULL && e->term == before[i].term &&
				  (e->type != RC_ENTRY_NORMAL || e->ref == before[i].ref),
			  "committed index %" PRIu64 " survived the crash", i);
	}
	SCN_CHECK(&t, scn_wait_leader(&t, SCN_WAIT) == 1 && scn_node(&t, 1)->term > term,
		  "n1 leads again in a later term");
	scn_wait_applied(&t, first + 10, SCN_BIT(1), SCN_WAIT);
	SCN_CHECK(&t, rc_sim_applied_count(t.sim, 1) == first + 10,
		  "n1 applied its %" PRIu64 " entries and the new no-op once each", first + 9);
	scn_end(&t);
}
