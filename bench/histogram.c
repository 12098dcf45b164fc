/* The log-linear latency histogram: bucket edges, merge and the percentile walk. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <replicore/assert.h>

#include "histogram.h"

/* Empties the histogram. */
void
rc_hist_reset(struct rc_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min_ns = UINT64_MAX;
}

/*
 * Returns the number of low bits bucket index drops: 0 for the 256 exact buckets (values 0..255),
 * then one more for every further 128 buckets.
 */
static uint32_t
hist_bucket_shift(uint32_t index)
{
	RC_ASSERT(index < RC_HIST_BUCKETS);
	if (index < 2 * RC_HIST_SUB_BUCKETS)
		return 0;
	return (index >> RC_HIST_SUB_BUCKET_BITS) - 1;
}

/* Returns the smallest value of bucket index: its mantissa (the index's low part) shifted back. */
uint64_t
rc_hist_bucket_low(uint32_t index)
{
	uint32_t shift = hist_bucket_shift(index);

	return (uint64_t)(index - (shift << RC_HIST_SUB_BUCKET_BITS)) << shift;
}

/* Returns the largest value of bucket index: its low edge plus its width less one. */
uint64_t
rc_hist_bucket_high(uint32_t index)
{
	return rc_hist_bucket_low(index) + ((UINT64_C(1) << hist_bucket_shift(index)) - 1);
}

/*
 * Adds src's buckets, count and sum to dst and widens dst's [min, max] to cover src's (an empty
 * src's UINT64_MAX and 0 widen nothing).
 */
void
rc_hist_merge(struct rc_hist *dst, const struct rc_hist *src)
{
	uint32_t i;

	RC_ASSERT(dst != src);
	RC_ASSERT(dst->count + src->count >= dst->count);
	for (i = 0; i < RC_HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
	if (src->min_ns < dst->min_ns)
		dst->min_ns = src->min_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
}

/* Returns the number of values recorded. */
uint64_t
rc_hist_count(const struct rc_hist *h)
{
	return h->count;
}

/*
 * Returns the nearest rank of percentile p among count values: ceil(p * count / 100), at least 1
 * and at most count. The product comes first so that whole ranks (p = 90, count = 10) stay exact.
 */
static uint64_t
hist_rank(double p, uint64_t count)
{
	double want = ceil(p * (double)count / 100.0);

	if (want < 1.0)
		return 1;
	if (want >= (double)count)
		return count;
	return (uint64_t)want;
}

/*
 * Returns the exact min or max for the first and last ranks. Otherwise walks the buckets from
 * the lowest, summing counts until the rank of p is reached, and returns that bucket's midpoint
 * clamped to [min, max].
 */
uint64_t
rc_hist_percentile(const struct rc_hist *h, double p)
{
	uint64_t rank, seen = 0, low, high, mid;
	uint32_t i;

	RC_ASSERT(p >= 0.0 && p <= 100.0);
	if (h->count == 0)
		return 0;
	rank = hist_rank(p, h->count);
	if (rank == 1)
		return h->min_ns;
	if (rank == h->count)
		return h->max_ns;
	for (i = rc_hist_bucket_index(h->min_ns); i < RC_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank)
			break;
	}
	RC_ASSERT(i < RC_HIST_BUCKETS);
	low = rc_hist_bucket_low(i);
	high = rc_hist_bucket_high(i);
	mid = low + ((high - low) >> 1);
	if (mid < h->min_ns)
		return h->min_ns;
	if (mid > h->max_ns)
		return h->max_ns;
	return mid;
}

/* Returns the largest value recorded, or 0 when empty. */
uint64_t
rc_hist_max(const struct rc_hist *h)
{
	return h->count == 0 ? 0 : h->max_ns;
}

/* Returns the smallest value recorded, or 0 when empty. */
uint64_t
rc_hist_min(const struct rc_hist *h)
{
	return h->count == 0 ? 0 : h->min_ns;
}

/* Returns sum / count from the exact 128-bit sum, or 0 when empty. */
double
rc_hist_mean(const struct rc_hist *h)
{
	if (h->count == 0)
		return 0.0;
	return (double)h->sum_ns / (double)h->count;
}
