/*
 * Tests of the latency histogram (bench/histogram): every bucket's edges against the mapping,
 * percentiles against the exact nearest-rank percentiles of sorted samples from several
 * distributions, merge against recording everything into one histogram, the empty histogram,
 * the value 0, the largest values, and the contract's aborts.
 */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <replicore/prng.h>

#include "histogram.h"

/* The bound the header promises (half a bucket of 1/128), and the 1% the benchmark needs. */
#define TEST_REL_ERROR_DESIGN (1.0 / 256.0)
#define TEST_REL_ERROR_MAX 0.01
#define TEST_SAMPLES 200000u

/* Histograms are 58 KiB: keep them off the stack. */
static struct rc_hist hist_a, hist_b, hist_all;
static uint64_t samples[TEST_SAMPLES], sorted[TEST_SAMPLES];

/* Orders two uint64_t for qsort. */
static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * Reference nearest rank, in integers: ceil(count * milli_pct / 100000) for a percentile given
 * in thousandths of a percent (99.9% = 99900), at least 1.
 */
static uint64_t
ref_rank(uint64_t count, uint64_t milli_pct)
{
	uint64_t rank = (count * milli_pct + 99999) / 100000;

	return rank == 0 ? 1 : rank;
}

/* |got - want| / want, with want 0 only matching got 0. */
static double
rel_error(uint64_t got, uint64_t want)
{
	if (want == 0)
		return got == 0 ? 0.0 : INFINITY;
	return fabs((double)got - (double)want) / (double)want;
}

/* A uniform double in (0, 1]. */
static double
unit_open(struct rc_prng *p)
{
	return (double)((rc_prng_next(p) >> 11) + 1) * 0x1.0p-53;
}

enum dist {
	DIST_UNIFORM,	  /* 1 us .. 1 ms */
	DIST_EXPONENTIAL, /* mean 50 us */
	DIST_BIMODAL,	  /* 90% near 20 us, 10% near 5 ms */
	DIST_CONSTANT,	  /* 12345 ns every time */
	DIST_LOG_SPAN,	  /* log-uniform over 1 ns .. 10 s */
	DIST_SMALL,	  /* 0 .. 300 ns: the exact buckets and the first linear ones */
	DIST_COUNT
};

/* Draws one value of the distribution, in nanoseconds. */
static uint64_t
draw(struct rc_prng *p, enum dist dist)
{
	switch (dist) {
	case DIST_UNIFORM:
		return 1000 + rc_prng_below(p, 999001);
	case DIST_EXPONENTIAL:
		return (uint64_t)(-50000.0 * log(unit_open(p)));
	case DIST_BIMODAL:
		if (rc_prng_below(p, 10) == 0)
			return 4500000 + rc_prng_below(p, 1000000);
		return 18000 + rc_prng_below(p, 4000);
	case DIST_CONSTANT:
		return 12345;
	case DIST_LOG_SPAN:
		return (uint64_t)exp(unit_open(p) * log(1e10));
	case DIST_SMALL:
		return rc_prng_below(p, 301);
	default:
		cr_assert_fail("no such distribution");
	}
	return 0;
}

/* Fills samples[0..n) from the distribution and records them into h. */
static void
fill(struct rc_hist *h, enum dist dist, uint64_t seed, uint32_t n)
{
	struct rc_prng p;
	uint32_t i;

	rc_prng_seed(&p, seed);
	rc_hist_reset(h);
	for (i = 0; i < n; i++) {
		samples[i] = draw(&p, dist);
		rc_hist_record(h, samples[i]);
	}
}

Test(histogram, empty_reports_zero_everywhere)
{
	rc_hist_reset(&hist_a);
	cr_assert_eq(rc_hist_count(&hist_a), 0);
	cr_assert_eq(rc_hist_min(&hist_a), 0);
	cr_assert_eq(rc_hist_max(&hist_a), 0);
	cr_assert_eq(rc_hist_mean(&hist_a), 0.0);
	cr_assert_eq(rc_hist_percentile(&hist_a, 0.0), 0);
	cr_assert_eq(rc_hist_percentile(&hist_a, 50.0), 0);
	cr_assert_eq(rc_hist_percentile(&hist_a, 100.0), 0);
}

Test(histogram, reset_forgets_what_was_recorded)
{
	rc_hist_reset(&hist_a);
	rc_hist_record(&hist_a, 5);
	rc_hist_record(&hist_a, 500000);
	rc_hist_reset(&hist_a);
	cr_assert_eq(rc_hist_count(&hist_a), 0);
	cr_assert_eq(rc_hist_max(&hist_a), 0);
	rc_hist_record(&hist_a, 700);
	cr_assert_eq(rc_hist_min(&hist_a), 700);
	cr_assert_eq(rc_hist_max(&hist_a), 700);
	cr_assert_eq(rc_hist_percentile(&hist_a, 50.0), 700);
}

Test(histogram, zero_is_a_value_like_any_other)
{
	rc_hist_reset(&hist_a);
	rc_hist_record(&hist_a, 0);
	cr_assert_eq(rc_hist_count(&hist_a), 1);
	cr_assert_eq(rc_hist_min(&hist_a), 0);
	cr_assert_eq(rc_hist_max(&hist_a), 0);
	cr_assert_eq(rc_hist_mean(&hist_a), 0.0);
	cr_assert_eq(rc_hist_percentile(&hist_a, 99.0), 0);
	/* Two zeros and one 90: p50 is a zero, p100 the 90. */
	rc_hist_record(&hist_a, 0);
	rc_hist_record(&hist_a, 90);
	cr_assert_eq(rc_hist_count(&hist_a), 3);
	cr_assert_eq(rc_hist_percentile(&hist_a, 50.0), 0);
	cr_assert_eq(rc_hist_percentile(&hist_a, 66.0), 0);
	cr_assert_eq(rc_hist_percentile(&hist_a, 67.0), 90);
	cr_assert_eq(rc_hist_mean(&hist_a), 30.0);
}

/* Small values have buckets of their own, so percentiles are exact: checks the rank rule. */
Test(histogram, nearest_rank_on_exact_buckets)
{
	uint64_t v;

	rc_hist_reset(&hist_a);
	for (v = 10; v >= 1; v--)
		rc_hist_record(&hist_a, v);
	cr_assert_eq(rc_hist_percentile(&hist_a, 0.0), 1);
	cr_assert_eq(rc_hist_percentile(&hist_a, 10.0), 1);
	cr_assert_eq(rc_hist_percentile(&hist_a, 10.5), 2);
	cr_assert_eq(rc_hist_percentile(&hist_a, 50.0), 5);
	cr_assert_eq(rc_hist_percentile(&hist_a, 90.0), 9);
	cr_assert_eq(rc_hist_percentile(&hist_a, 90.01), 10);
	cr_assert_eq(rc_hist_percentile(&hist_a, 100.0), 10);
	cr_assert_eq(rc_hist_mean(&hist_a), 5.5);
}

/* The first and last ranks are the exact min and max, not their buckets' midpoints. */
Test(histogram, first_and_last_ranks_are_exact)
{
	rc_hist_reset(&hist_a);
	rc_hist_record(&hist_a, 70001);
	rc_hist_record(&hist_a, 2000);
	rc_hist_record(&hist_a, 1000); /* bucket [1000, 1003], midpoint 1001 */
	rc_hist_record(&hist_a, 1003);
	cr_assert_eq(rc_hist_percentile(&hist_a, 0.0), 1000);
	cr_assert_eq(rc_hist_percentile(&hist_a, 25.0), 1000);
	cr_assert_eq(rc_hist_percentile(&hist_a, 50.0), 1001,
		     "rank 2 (1003): its bucket's midpoint");
	cr_assert_eq(rc_hist_percentile(&hist_a, 100.0), 70001);
	cr_assert_neq(rc_hist_bucket_high(rc_hist_bucket_index(70001)), 70001);
}

/* The buckets tile [0, UINT64_MAX] without gap or overlap, each at most 1/128 of its low edge. */
Test(histogram, buckets_tile_the_whole_range)
{
	uint64_t low, high;
	uint32_t i;

	cr_assert_eq(rc_hist_bucket_low(0), 0);
	cr_assert_eq(rc_hist_bucket_high(RC_HIST_BUCKETS - 1), UINT64_MAX);
	cr_assert_eq(rc_hist_bucket_index(UINT64_MAX), RC_HIST_BUCKETS - 1);
	for (i = 0; i < RC_HIST_BUCKETS; i++) {
		low = rc_hist_bucket_low(i);
		high = rc_hist_bucket_high(i);
		cr_assert_leq(low, high, "bucket %u", i);
		cr_assert_eq(rc_hist_bucket_index(low), i, "low edge of bucket %u", i);
		cr_assert_eq(rc_hist_bucket_index(high), i, "high edge of bucket %u", i);
		if (i + 1 < RC_HIST_BUCKETS)
			cr_assert_eq(rc_hist_bucket_low(i + 1), high + 1, "gap after bucket %u", i);
		if (low < 2 * RC_HIST_SUB_BUCKETS)
			cr_assert_eq(low, high, "values below 256 are exact (bucket %u)", i);
		else
			cr_assert_leq((double)(high - low + 1) / (double)low, 1.0 / 128.0,
				      "bucket %u too wide", i);
	}
}

Test(histogram, random_values_fall_inside_their_bucket)
{
	struct rc_prng p;
	uint64_t v;
	uint32_t i, index;

	rc_prng_seed(&p, 7);
	for (i = 0; i < 1000000; i++) {
		v = rc_prng_next(&p) >> rc_prng_below(&p, 64);
		index = rc_hist_bucket_index(v);
		cr_assert_lt(index, RC_HIST_BUCKETS);
		cr_assert(rc_hist_bucket_low(index) <= v && v <= rc_hist_bucket_high(index),
			  "value %lu outside bucket %u", (unsigned long)v, index);
	}
}

/*
 * A value surrounded by far smaller and far larger ones is reported as its bucket's midpoint (no
 * clamp to min or max applies): the bound holds at both edges of every power of two.
 */
Test(histogram, midpoint_error_bound_at_every_power_of_two)
{
	uint64_t v, got, cases[4];
	uint32_t e, c;

	for (e = 1; e < 63; e++) {
		cases[0] = (UINT64_C(1) << e) - 1;
		cases[1] = UINT64_C(1) << e;
		cases[2] = (UINT64_C(1) << e) + 1;
		cases[3] = (UINT64_C(1) << e) + (UINT64_C(1) << (e - 1)) - 1;
		for (c = 0; c < 4; c++) {
			v = cases[c];
			rc_hist_reset(&hist_a);
			rc_hist_record(&hist_a, 0);
			rc_hist_record(&hist_a, v);
			rc_hist_record(&hist_a, v);
			rc_hist_record(&hist_a, v);
			rc_hist_record(&hist_a, UINT64_MAX);
			got = rc_hist_percentile(&hist_a, 50.0);
			cr_assert_leq(rel_error(got, v), TEST_REL_ERROR_DESIGN,
				      "value %lu: got %lu", (unsigned long)v, (unsigned long)got);
		}
	}
}

/*
 * Records TEST_SAMPLES draws, then checks min, max, mean and p0..p100 against the sorted
 * samples: within 1/256 (the design) and so within 1% (the requirement).
 */
static void
check_distribution(enum dist dist, uint64_t seed)
{
	static const uint64_t milli_pcts[] = { 0,     1000,  25000, 50000, 75000,
					       90000, 99000, 99900, 99990, 100000 };
	uint64_t want, got;
	double sum = 0.0, err;
	uint32_t i;

	fill(&hist_a, dist, seed, TEST_SAMPLES);
	memcpy(sorted, samples, sizeof(samples));
	qsort(sorted, TEST_SAMPLES, sizeof(sorted[0]), cmp_u64);
	cr_assert_eq(rc_hist_count(&hist_a), TEST_SAMPLES);
	cr_assert_eq(rc_hist_min(&hist_a), sorted[0]);
	cr_assert_eq(rc_hist_max(&hist_a), sorted[TEST_SAMPLES - 1]);
	cr_assert_eq(rc_hist_percentile(&hist_a, 0.0), sorted[0], "the first rank is exact");
	cr_assert_eq(rc_hist_percentile(&hist_a, 100.0), sorted[TEST_SAMPLES - 1],
		     "the last rank is exact");
	for (i = 0; i < TEST_SAMPLES; i++)
		sum += (double)sorted[i];
	cr_assert_leq(fabs(rc_hist_mean(&hist_a) - sum / TEST_SAMPLES), 1e-9 * sum / TEST_SAMPLES,
		      "distribution %d: mean", dist);
	for (i = 0; i < sizeof(milli_pcts) / sizeof(milli_pcts[0]); i++) {
		want = sorted[ref_rank(TEST_SAMPLES, milli_pcts[i]) - 1];
		got = rc_hist_percentile(&hist_a, (double)milli_pcts[i] / 1000.0);
		err = rel_error(got, want);
		cr_assert_leq(err, TEST_REL_ERROR_DESIGN,
			      "distribution %d, p%.3f: got %lu, exact %lu (error %.5f)", dist,
			      (double)milli_pcts[i] / 1000.0, (unsigned long)got,
			      (unsigned long)want, err);
		cr_assert_leq(err, TEST_REL_ERROR_MAX);
	}
}

Test(histogram, percentiles_of_uniform_samples)
{
	check_distribution(DIST_UNIFORM, 1);
}

Test(histogram, percentiles_of_exponential_samples)
{
	check_distribution(DIST_EXPONENTIAL, 2);
}

Test(histogram, percentiles_of_bimodal_samples)
{
	check_distribution(DIST_BIMODAL, 3);
}

Test(histogram, percentiles_of_a_constant)
{
	check_distribution(DIST_CONSTANT, 4);
	cr_assert_eq(rc_hist_percentile(&hist_a, 50.0), 12345);
	cr_assert_eq(rc_hist_percentile(&hist_a, 99.9), 12345);
}

Test(histogram, percentiles_of_samples_from_1ns_to_10s)
{
	check_distribution(DIST_LOG_SPAN, 5);
	cr_assert_lt(rc_hist_min(&hist_a), 10);
	cr_assert_gt(rc_hist_max(&hist_a), UINT64_C(5000000000));
}

Test(histogram, percentiles_of_small_values)
{
	check_distribution(DIST_SMALL, 6);
}

Test(histogram, percentile_never_decreases_with_p)
{
	uint64_t prev = 0, got;
	uint32_t milli;

	fill(&hist_a, DIST_BIMODAL, 8, 10000);
	for (milli = 0; milli <= 100000; milli += 10) {
		got = rc_hist_percentile(&hist_a, milli / 1000.0);
		cr_assert_geq(got, prev, "p%.2f", milli / 1000.0);
		prev = got;
	}
	cr_assert_eq(prev, rc_hist_max(&hist_a));
}

/* Merging two halves gives the histogram of the whole: same buckets, count, sum, min and max. */
Test(histogram, merge_equals_recording_everything)
{
	struct rc_prng p;
	uint32_t i;

	fill(&hist_all, DIST_LOG_SPAN, 9, TEST_SAMPLES);
	rc_hist_reset(&hist_a);
	rc_hist_reset(&hist_b);
	rc_prng_seed(&p, 10);
	for (i = 0; i < TEST_SAMPLES; i++)
		rc_hist_record(rc_prng_below(&p, 3) == 0 ? &hist_a : &hist_b, samples[i]);
	cr_assert_neq(rc_hist_count(&hist_a), 0);
	cr_assert_neq(rc_hist_count(&hist_b), 0);
	rc_hist_merge(&hist_a, &hist_b);
	cr_assert_eq(memcmp(hist_a.buckets, hist_all.buckets, sizeof(hist_all.buckets)), 0);
	cr_assert_eq(rc_hist_count(&hist_a), rc_hist_count(&hist_all));
	cr_assert(hist_a.sum_ns == hist_all.sum_ns);
	cr_assert_eq(rc_hist_min(&hist_a), rc_hist_min(&hist_all));
	cr_assert_eq(rc_hist_max(&hist_a), rc_hist_max(&hist_all));
	cr_assert_eq(rc_hist_percentile(&hist_a, 99.0), rc_hist_percentile(&hist_all, 99.0));
	cr_assert_eq(rc_hist_mean(&hist_a), rc_hist_mean(&hist_all));
}

Test(histogram, merge_with_an_empty_histogram)
{
	fill(&hist_all, DIST_UNIFORM, 11, 1000);
	/* empty into full: nothing changes, min included */
	memcpy(&hist_a, &hist_all, sizeof(hist_a));
	rc_hist_reset(&hist_b);
	rc_hist_merge(&hist_a, &hist_b);
	cr_assert_eq(memcmp(&hist_a, &hist_all, sizeof(hist_a)), 0);
	/* full into empty: a copy */
	rc_hist_reset(&hist_b);
	rc_hist_merge(&hist_b, &hist_all);
	cr_assert_eq(memcmp(hist_b.buckets, hist_all.buckets, sizeof(hist_all.buckets)), 0);
	cr_assert_eq(rc_hist_min(&hist_b), rc_hist_min(&hist_all));
	cr_assert_eq(rc_hist_max(&hist_b), rc_hist_max(&hist_all));
	cr_assert_eq(rc_hist_count(&hist_b), 1000);
}

/* The sum is 128 bits wide: huge values neither wrap the mean nor lose the max. */
Test(histogram, largest_values)
{
	rc_hist_reset(&hist_a);
	rc_hist_record(&hist_a, UINT64_MAX);
	rc_hist_record(&hist_a, UINT64_MAX);
	rc_hist_record(&hist_a, UINT64_C(1) << 63);
	cr_assert_eq(rc_hist_max(&hist_a), UINT64_MAX);
	cr_assert_eq(rc_hist_min(&hist_a), UINT64_C(1) << 63);
	cr_assert_eq(rc_hist_percentile(&hist_a, 100.0), UINT64_MAX);
	cr_assert_leq(rel_error(rc_hist_percentile(&hist_a, 50.0), UINT64_MAX),
		      TEST_REL_ERROR_DESIGN);
	cr_assert_leq(fabs(rc_hist_mean(&hist_a) / (5.0 / 3.0 * 0x1.0p63) - 1.0), 1e-12);
}

Test(histogram, percentile_above_100_aborts, .signal = SIGABRT)
{
	rc_hist_reset(&hist_a);
	rc_hist_percentile(&hist_a, 100.5);
}

Test(histogram, percentile_below_0_aborts, .signal = SIGABRT)
{
	rc_hist_reset(&hist_a);
	rc_hist_percentile(&hist_a, -1.0);
}

Test(histogram, percentile_of_nan_aborts, .signal = SIGABRT)
{
	rc_hist_reset(&hist_a);
	rc_hist_percentile(&hist_a, NAN);
}

Test(histogram, merge_into_itself_aborts, .signal = SIGABRT)
{
	rc_hist_reset(&hist_a);
	rc_hist_merge(&hist_a, &hist_a);
}
