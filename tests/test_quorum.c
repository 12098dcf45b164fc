/*
 * Table tests of the quorum maths: the index a majority of voters has reached (what a leader may
 * commit) and the outcome of an election from granted and rejected votes. Each table is checked
 * row by row, then every input of a small domain is checked against a definition written here
 * from the words of the paper, independent of the core's code.
 */
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include <replicore/raft.h>

/* "A majority of the servers in the full cluster" (Raft §5.2). */
static uint32_t
majority(uint32_t voter_count)
{
	return voter_count / 2 + 1;
}

/*
 * Reference: the largest index that at least a majority of the voters has reached ("a majority of
 * matchIndex[i] >= N", Figure 2). Quadratic on purpose: no sort to share a bug with.
 */
static uint64_t
ref_quorum_index(const uint64_t *matches, uint32_t count)
{
	uint64_t best = 0;
	uint32_t i, j, reached;

	for (i = 0; i < count; i++) {
		reached = 0;
		for (j = 0; j < count; j++)
			if (matches[j] >= matches[i])
				reached++;
		if (reached >= majority(count) && matches[i] > best)
			best = matches[i];
	}
	return best;
}

/* Reference: won once a majority granted; lost once a majority can no longer grant. */
static int
ref_vote_result(uint32_t granted, uint32_t rejected, uint32_t voter_count)
{
	uint32_t missing = voter_count - granted - rejected;

	if (granted >= majority(voter_count))
		return 1;
	if (granted + missing < majority(voter_count))
		return -1;
	return 0;
}

struct quorum_row {
	uint32_t count;
	uint64_t matches[RC_NODES_MAX];
	uint64_t want;
};

static const struct quorum_row quorum_rows[] = {
	/* one voter: its own index */
	{ 1, { 0 }, 0 },
	{ 1, { 5 }, 5 },
	/* two voters: both are needed, so the smaller */
	{ 2, { 5, 3 }, 3 },
	{ 2, { 3, 5 }, 3 },
	{ 2, { 0, 9 }, 0 },
	/* three voters: the median, whatever the order */
	{ 3, { 1, 2, 3 }, 2 },
	{ 3, { 3, 2, 1 }, 2 },
	{ 3, { 2, 3, 1 }, 2 },
	{ 3, { 0, 0, 0 }, 0 },
	{ 3, { 7, 0, 0 }, 0 },
	{ 3, { 0, 7, 7 }, 7 },
	{ 3, { 4, 4, 9 }, 4 },
	{ 3, { UINT64_MAX, 1, UINT64_MAX }, UINT64_MAX },
	/* four voters: three are needed */
	{ 4, { 1, 2, 3, 4 }, 2 },
	{ 4, { 4, 3, 2, 1 }, 2 },
	{ 4, { 4, 4, 1, 1 }, 1 },
	{ 4, { 1, 4, 4, 4 }, 4 },
	{ 4, { 0, 0, 5, 5 }, 0 },
	/* five voters */
	{ 5, { 5, 1, 4, 2, 3 }, 3 },
	{ 5, { 0, 0, 9, 9, 0 }, 0 },
	{ 5, { 9, 0, 9, 0, 9 }, 9 },
	{ 5, { 2, 2, 2, 2, 2 }, 2 },
	{ 5, { 8, 8, 3, 3, 3 }, 3 },
	/* six voters: four are needed */
	{ 6, { 6, 5, 4, 3, 2, 1 }, 3 },
	{ 6, { 1, 1, 1, 2, 2, 2 }, 1 },
	{ 6, { 2, 1, 2, 1, 2, 2 }, 2 },
	/* seven voters: four are needed */
	{ 7, { 7, 1, 6, 2, 5, 3, 4 }, 4 },
	{ 7, { 3, 3, 3, 3, 3, 3, 3 }, 3 },
	{ 7, { 10, 10, 10, 0, 0, 0, 0 }, 0 },
	{ 7, { 0, 10, 0, 10, 0, 10, 10 }, 10 },
	{ 7, { 0, 0, 0, 0, 0, 0, 0 }, 0 },
};

Test(quorum, index_table)
{
	uint64_t copy[RC_NODES_MAX];
	size_t i;

	for (i = 0; i < sizeof(quorum_rows) / sizeof(quorum_rows[0]); i++) {
		const struct quorum_row *row = &quorum_rows[i];
		uint64_t got;

		/* The table itself agrees with the reference definition. */
		cr_assert_eq(ref_quorum_index(row->matches, row->count), row->want, "row %zu", i);
		memcpy(copy, row->matches, sizeof(copy));
		got = rc_quorum_index(copy, row->count);
		cr_expect_eq(got, row->want, "row %zu (%u voters): got %lu, want %lu", i,
			     row->count, (unsigned long)got, (unsigned long)row->want);
		cr_expect_arr_eq(copy, row->matches, sizeof(copy), "row %zu: input modified", i);
	}
}

/* Steps v through every vector of count digits in [0, base); returns false after the last. */
static bool
next_vector(uint64_t *v, uint32_t count, uint64_t base)
{
	uint32_t i;

	for (i = 0; i < count; i++) {
		if (++v[i] < base)
			return true;
		v[i] = 0;
	}
	return false;
}

Test(quorum, index_every_small_input)
{
	uint64_t v[RC_NODES_MAX], copy[RC_NODES_MAX];
	uint32_t count, checked = 0;
	uint64_t base;

	for (count = 1; count <= RC_NODES_MAX; count++) {
		/* Every vector over {0..4} up to 5 voters, {0..2} for 6 and 7: ties and zeros. */
		base = count <= 5 ? 5 : 3;
		memset(v, 0, sizeof(v));
		do {
			uint64_t want = ref_quorum_index(v, count);
			uint64_t got;

			memcpy(copy, v, sizeof(copy));
			got = rc_quorum_index(copy, count);
			checked++;
			cr_assert_eq(got, want,
				     "%u voters {%lu,%lu,%lu,%lu,%lu,%lu,%lu}: got %lu, want %lu",
				     count, (unsigned long)v[0], (unsigned long)v[1],
				     (unsigned long)v[2], (unsigned long)v[3], (unsigned long)v[4],
				     (unsigned long)v[5], (unsigned long)v[6], (unsigned long)got,
				     (unsigned long)want);
			cr_assert_arr_eq(copy, v, sizeof(copy), "input modified");
		} while (next_vector(v, count, base));
	}
	cr_assert_gt(checked, 4000u);
}

Test(quorum, index_all_equal)
{
	uint64_t v[RC_NODES_MAX];
	uint32_t count, i;

	for (count = 1; count <= RC_NODES_MAX; count++) {
		for (i = 0; i < RC_NODES_MAX; i++)
			v[i] = 42;
		cr_expect_eq(rc_quorum_index(v, count), 42, "%u voters", count);
	}
}

/* Unused slots past count must not be read: poison them. */
Test(quorum, index_reads_only_count_matches)
{
	uint64_t v[RC_NODES_MAX];
	uint32_t count, i;

	for (count = 1; count < RC_NODES_MAX; count++) {
		for (i = 0; i < RC_NODES_MAX; i++)
			v[i] = i < count ? 3 : UINT64_MAX;
		cr_expect_eq(rc_quorum_index(v, count), 3, "%u voters", count);
	}
}

struct vote_row {
	uint32_t voter_count;
	uint32_t granted;
	uint32_t rejected;
	int want; /* 1 won, -1 lost, 0 pending */
};

static const struct vote_row vote_rows[] = {
	/* one voter: its own vote decides */
	{ 1, 0, 0, 0 },
	{ 1, 1, 0, 1 },
	{ 1, 0, 1, -1 },
	/* two voters: one refusal loses */
	{ 2, 1, 0, 0 },
	{ 2, 2, 0, 1 },
	{ 2, 1, 1, -1 },
	{ 2, 0, 1, -1 },
	/* three voters: two decide */
	{ 3, 1, 0, 0 },
	{ 3, 2, 0, 1 },
	{ 3, 1, 1, 0 },
	{ 3, 2, 1, 1 },
	{ 3, 1, 2, -1 },
	{ 3, 0, 2, -1 },
	/* four voters: three are needed, so a 2-2 tie is lost (nobody is left to break it) */
	{ 4, 2, 0, 0 },
	{ 4, 2, 1, 0 },
	{ 4, 3, 0, 1 },
	{ 4, 2, 2, -1 },
	{ 4, 0, 2, -1 },
	{ 4, 1, 1, 0 },
	/* five voters */
	{ 5, 3, 0, 1 },
	{ 5, 2, 2, 0 },
	{ 5, 2, 3, -1 },
	{ 5, 0, 3, -1 },
	{ 5, 1, 2, 0 },
	/* six voters: four are needed */
	{ 6, 4, 0, 1 },
	{ 6, 3, 2, 0 },
	{ 6, 3, 3, -1 },
	{ 6, 0, 3, -1 },
	/* seven voters: four are needed */
	{ 7, 4, 0, 1 },
	{ 7, 4, 3, 1 },
	{ 7, 3, 3, 0 },
	{ 7, 0, 4, -1 },
	{ 7, 3, 4, -1 },
	{ 7, 1, 0, 0 },
};

Test(quorum, vote_result_table)
{
	size_t i;

	for (i = 0; i < sizeof(vote_rows) / sizeof(vote_rows[0]); i++) {
		const struct vote_row *row = &vote_rows[i];
		int got = rc_quorum_vote_result(row->granted, row->rejected, row->voter_count);

		cr_assert_eq(ref_vote_result(row->granted, row->rejected, row->voter_count),
			     row->want, "row %zu", i);
		cr_expect_eq(got, row->want, "row %zu: %u voters, %u granted, %u rejected: got %d",
			     i, row->voter_count, row->granted, row->rejected, got);
	}
}

Test(quorum, vote_result_every_combination)
{
	uint32_t voters, granted, rejected, checked = 0;
	uint32_t outcomes[3] = { 0 };

	for (voters = 1; voters <= RC_NODES_MAX; voters++) {
		for (granted = 0; granted <= voters; granted++) {
			for (rejected = 0; granted + rejected <= voters; rejected++) {
				int want = ref_vote_result(granted, rejected, voters);
				int got = rc_quorum_vote_result(granted, rejected, voters);

				cr_expect_eq(got, want,
					     "%u voters, %u granted, %u rejected: got %d, want %d",
					     voters, granted, rejected, got, want);
				outcomes[want + 1]++;
				checked++;
			}
		}
	}
	/* Sum over n = 1..7 of (n+1)(n+2)/2; and every outcome occurs. */
	cr_assert_eq(checked, 3u + 6 + 10 + 15 + 21 + 28 + 36);
	cr_assert(outcomes[0] > 0 && outcomes[1] > 0 && outcomes[2] > 0);
}

/* A result, once won or lost, stays so as more votes arrive (monotone in granted and rejected). */
Test(quorum, vote_result_is_final)
{
	uint32_t voters, granted, rejected;

	for (voters = 1; voters <= RC_NODES_MAX; voters++) {
		for (granted = 0; granted <= voters; granted++) {
			for (rejected = 0; granted + rejected < voters; rejected++) {
				int now = rc_quorum_vote_result(granted, rejected, voters);

				if (now == 0)
					continue;
				cr_expect_eq(rc_quorum_vote_result(granted + 1, rejected, voters),
					     now, "%u/%u/%u", voters, granted, rejected);
				cr_expect_eq(rc_quorum_vote_result(granted, rejected + 1, voters),
					     now, "%u/%u/%u", voters, granted, rejected);
			}
		}
	}
}
