/* The switch board of planted bugs (see mutation.h). Empty in a normal build. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <replicore/mutation.h>

static const char *const mutation_names[RC_MUTATION_COUNT] = {
	[RC_MUTATION_NONE] = "none",
	[RC_MUTATION_COMMIT_PREVIOUS_TERM] = "commit-previous-term",
	[RC_MUTATION_VOTE_WITHOUT_UP_TO_DATE] = "vote-without-up-to-date",
	[RC_MUTATION_VOTE_BEFORE_PERSIST] = "vote-before-persist",
	[RC_MUTATION_TRUNCATE_COMMITTED] = "truncate-committed",
	[RC_MUTATION_ACCEPT_STALE_TERM] = "accept-stale-term",
	[RC_MUTATION_FORGET_VOTE_ON_RESTART] = "forget-vote-on-restart",
	[RC_MUTATION_COMMIT_PAST_DURABLE] = "commit-past-durable",
	[RC_MUTATION_ACK_BEFORE_SYNC] = "ack-before-sync",
	[RC_MUTATION_IGNORE_CRC] = "ignore-crc",
	[RC_MUTATION_SNAPSHOT_AHEAD] = "snapshot-ahead",
};

#ifdef RC_MUTATIONS
enum rc_mutation rc_mutation_active = RC_MUTATION_NONE;
#endif

/* Returns whether this build carries the planted bugs. */
bool
rc_mutations_built(void)
{
#ifdef RC_MUTATIONS
	return true;
#else
	return false;
#endif
}

/* Returns the name of m, or NULL when m is out of range. */
const char *
rc_mutation_name(enum rc_mutation m)
{
	if ((unsigned int)m >= RC_MUTATION_COUNT)
		return NULL;
	return mutation_names[m];
}

/* Turns mutation m on; returns 0, -EINVAL for an unknown one, -ENOTSUP in a normal build. */
int
rc_mutation_set(enum rc_mutation m)
{
	if ((unsigned int)m >= RC_MUTATION_COUNT)
		return -EINVAL;
#ifdef RC_MUTATIONS
	rc_mutation_active = m;
	return 0;
#else
	return m == RC_MUTATION_NONE ? 0 : -ENOTSUP;
#endif
}

/* Returns the mutation called name, or RC_MUTATION_NONE. */
enum rc_mutation
rc_mutation_find(const char *name)
{
	for (unsigned int m = 1; m < RC_MUTATION_COUNT; m++)
		if (strcmp(mutation_names[m], name) == 0)
			return (enum rc_mutation)m;
	return RC_MUTATION_NONE;
}
