/*
 * Planted bugs that prove the simulator's checkers bite. Compiled in only with
 * -Dmutations=true; a normal build has none (RC_MUTATED() is the constant false there).
 */
#ifndef REPLICORE_MUTATION_H
#define REPLICORE_MUTATION_H

#include <stdbool.h>

enum rc_mutation {
	RC_MUTATION_NONE = 0,
	RC_MUTATION_COMMIT_PREVIOUS_TERM,    /* commit an old-term entry by counting (Figure 8) */
	RC_MUTATION_VOTE_WITHOUT_UP_TO_DATE, /* grant votes without the log comparison */
	RC_MUTATION_VOTE_BEFORE_PERSIST,     /* send the vote before term and vote are durable */
	RC_MUTATION_TRUNCATE_COMMITTED,	     /* replace the log after prev, committed or not */
	RC_MUTATION_ACCEPT_STALE_TERM,	     /* accept AppendEntries from an older term */
	RC_MUTATION_FORGET_VOTE_ON_RESTART,  /* drop the stored vote when restarting */
	RC_MUTATION_COMMIT_PAST_DURABLE,     /* leader counts entries it has not made durable */
	RC_MUTATION_ACK_BEFORE_SYNC,	     /* the simulator's disk sends acks and votes when it
					      * issues a write, not when it is durable */
	RC_MUTATION_IGNORE_CRC,		     /* the log's decoder skips the CRC32C comparison */
	RC_MUTATION_SNAPSHOT_AHEAD,	     /* a node labels a snapshot with an index past what its
					      * state machine applied */
	RC_MUTATION_COUNT
};

#ifdef RC_MUTATIONS
extern enum rc_mutation rc_mutation_active;
#define RC_MUTATED(m) (rc_mutation_active == (m))
#else
#define RC_MUTATED(m) false
#endif

/* True when this build carries the planted bugs. */
bool rc_mutations_built(void);
/* Name of a mutation ("commit-previous-term", ...), NULL when out of range. */
const char *rc_mutation_name(enum rc_mutation m);
/* Turns one mutation on (RC_MUTATION_NONE: all off). Returns 0, or -ENOTSUP without them built. */
int rc_mutation_set(enum rc_mutation m);
/* The mutation called name, or RC_MUTATION_NONE when none is. */
enum rc_mutation rc_mutation_find(const char *name);

#endif
