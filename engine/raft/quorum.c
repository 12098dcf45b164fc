/* Quorum maths: the index a majority holds and the outcome of a vote. Pure functions. */
#include <replicore/assert.h>
#include <replicore/raft.h>

/*
 * Returns the largest index that at least a majority of the count matches hold: sort a copy
 * descending (count is at most RC_NODES_MAX, so insertion sort) and take the element at
 * position count/2.
 */
uint64_t
rc_quorum_index(const uint64_t *matches, uint32_t count)
{
	uint64_t sorted[RC_NODES_MAX];

	RC_ASSERT(count >= 1 && count <= RC_NODES_MAX);
	for (uint32_t i = 0; i < count; i++) {
		uint64_t v = matches[i];
		uint32_t j = i;

		while (j > 0 && sorted[j - 1] < v) {
			sorted[j] = sorted[j - 1];
			j--;
		}
		sorted[j] = v;
	}
	return sorted[count / 2];
}

/* Returns 1 when granted votes form a majority, -1 when rejections make one impossible, else 0. */
int
rc_quorum_vote_result(uint32_t granted, uint32_t rejected, uint32_t voter_count)
{
	uint32_t majority = voter_count / 2 + 1;

	RC_ASSERT(voter_count >= 1 && granted + rejected <= voter_count);
	if (granted >= majority)
		return 1;
	if (voter_count - rejected < majority)
		return -1;
	return 0;
}
