/*
 * The simulator's invariant checkers: Raft's safety properties (paper Figure 3) checked against
 * the nodes' public state after every step, so that the first violation names the step that
 * caused it. The checker only reads the nodes (public fields and rc_raft_entry_at()); the
 * simulator tells it when a node starts, crashes, ends a batch of steps and applies an entry.
 *
 * Checkers and the names their violations start with:
 *   election-safety       at most one leader per term, ever (across crashes);
 *   log-matching          same index and term on two nodes => identical logs up to there;
 *                         a follower never removes an entry its leader holds (§5.3);
 *   leader-append-only    a leader never removes or rewrites its own entries in its term;
 *   leader-completeness   an entry committed in term t is in every leader's log of terms > t;
 *   state-machine-safety  every node applies the same entry at an index, in order, no gaps;
 *                         a committed entry never changes;
 *   commit-monotonic      a node's commit index never goes back during one life;
 *   acknowledged-lost     an acknowledged proposal is missing from a node's committed log;
 * and, reported by the simulator through rc_checker_fail():
 *   liveness              no leader, or no progress, once the faults are healed;
 *   disk-recovery         a restart recovered from the disk image a hard state or entry that
 *                         the finished writes did not leave there;
 *   restart               a node refused its own disk (no fault explains it), or the core's
 *                         rc_raft_init() refused what recovery read;
 *   persist-contract      an update asked to write entries after a gap in the disk's log.
 */
#ifndef REPLICORE_SIM_CHECKER_H
#define REPLICORE_SIM_CHECKER_H

#include <stdbool.h>
#include <stdint.h>

#include <replicore/raft.h>

/* Terms the election-safety table covers; a run going past it is a simulator sizing error. */
#define RC_CHECKER_TERMS_MAX (1u << 20)
#define RC_CHECKER_TEXT_BYTES 256u

/* What the checker knows of one committed index, from every node that committed or applied it. */
struct rc_checker_entry {
	uint64_t term;
	uint64_t ref;
	uint64_t commit_term; /* lowest term in which a node was seen holding it committed */
	uint16_t type;
	bool set;
};

/* Per node, for its current life. */
struct rc_checker_node {
	const struct rc_raft *raft;
	bool up;
	uint64_t commit;    /* commit index last seen; Invariant: never decreases in a life */
	uint64_t applied;   /* last index applied in this life */
	uint8_t batch_role; /* role, term and last index when the current batch began */
	uint64_t batch_term;
	uint64_t batch_last_index;
	uint64_t batch_last_term;
};

struct rc_checker {
	uint16_t node_count;
	struct rc_checker_node nodes[RC_NODES_MAX]; /* node id i at nodes[i - 1] */
	uint16_t *term_leader;			    /* [RC_CHECKER_TERMS_MAX]: leader id, 0 none */
	uint64_t term_max;			    /* highest term entered in term_leader */
	struct rc_checker_entry *known;		    /* [RC_LOG_ENTRIES_MAX]: committed entries */
	uint64_t known_max;			    /* highest index entered in known */
	uint64_t elections;			    /* distinct (term, leader) pairs seen */
	bool violated;
	char text[RC_CHECKER_TEXT_BYTES]; /* the first violation */
};

/* Allocates the checker's tables. Returns 0 or -ENOMEM. */
int rc_checker_init(struct rc_checker *c);
void rc_checker_fini(struct rc_checker *c);

/* Forgets everything for a new world of node_count nodes whose cores are rafts[0..count). */
void rc_checker_reset(struct rc_checker *c, uint16_t node_count, struct rc_raft *const *rafts);

/* Node id was (re)initialised from its disk: a new life. Checks its log and commit index. */
void rc_checker_on_start(struct rc_checker *c, uint16_t id);
/* Node id crashed: its in-memory state no longer counts. */
void rc_checker_on_crash(struct rc_checker *c, uint16_t id);

/* Before the first step of a batch on node id (one update): remembers role, term, last index. */
void rc_checker_batch_begin(struct rc_checker *c, uint16_t id);
/* After every step on node id: election safety, commit monotonic, leader completeness. */
void rc_checker_after_step(struct rc_checker *c, uint16_t id);
/* When the batch's update u is executed: leader append-only, log matching on the written range. */
void rc_checker_batch_end(struct rc_checker *c, uint16_t id, const struct rc_raft_update *u);
/* Node id's state machine applies index (read from its log). */
void rc_checker_on_apply(struct rc_checker *c, uint16_t id, uint64_t index);

/* Log matching across every pair of up nodes, whole logs. */
void rc_checker_full(struct rc_checker *c);
/* Acknowledged proposal (index, ref) must be committed on every up node. */
void rc_checker_acknowledged(struct rc_checker *c, uint64_t index, uint64_t ref);

/* Records a violation found outside the checker (the first one wins). */
void rc_checker_fail(struct rc_checker *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The first violation's text, NULL when none. */
const char *rc_checker_violation(const struct rc_checker *c);

#endif
