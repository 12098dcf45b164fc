/*
 * A log-linear latency histogram over nanosecond values (HdrHistogram's layout, fixed-size).
 *
 * Values below 2^RC_HIST_SUB_BUCKET_BITS (128 ns) each have their own bucket. Above, every power
 * of two [2^e, 2^(e+1)) is cut into 128 buckets of equal width 2^(e-7), so a bucket is never wider
 * than 1/128 of its lower edge. The buckets cover every uint64_t value (0 ns to 584 years): no
 * value is clamped or dropped. The struct holds every bucket (58 KiB); nothing is allocated.
 *
 * A reported percentile is the midpoint of the bucket that holds the sample of that rank,
 * clamped to [min, max]: relative error at most 2^-(RC_HIST_SUB_BUCKET_BITS + 1), i.e. 0.39%.
 * Count, min, max and sum are exact, and so are the first and last ranks.
 *
 * One histogram belongs to one thread (no atomics); per-lcore histograms are merged at the end.
 */
#ifndef REPLICORE_BENCH_HISTOGRAM_H
#define REPLICORE_BENCH_HISTOGRAM_H

#include <stdint.h>

/* Linear sub-buckets per power of two: 2^7 = 128. */
#define RC_HIST_SUB_BUCKET_BITS 7u
#define RC_HIST_SUB_BUCKETS (1u << RC_HIST_SUB_BUCKET_BITS)
/*
 * Buckets: 128 exact ones for 0..127, then 128 for each power of two from 2^7 to 2^63. The
 * largest index, of UINT64_MAX, is (63 - 7) * 128 + 255.
 */
#define RC_HIST_BUCKETS ((64u - RC_HIST_SUB_BUCKET_BITS + 1u) * RC_HIST_SUB_BUCKETS)

_Static_assert(RC_HIST_SUB_BUCKET_BITS >= 7, "sub-buckets keep the relative error under 0.4%");
_Static_assert(RC_HIST_BUCKETS == (63u - RC_HIST_SUB_BUCKET_BITS) * RC_HIST_SUB_BUCKETS +
						 2u * RC_HIST_SUB_BUCKETS,
	       "the bucket of UINT64_MAX is the last one");

struct rc_hist {
	uint64_t count;		  /* values recorded; Invariant: the sum of buckets[] */
	uint64_t min_ns;	  /* UINT64_MAX while count == 0 */
	uint64_t max_ns;	  /* 0 while count == 0 */
	unsigned __int128 sum_ns; /* exact: cannot overflow below 2^64 values */
	uint64_t buckets[RC_HIST_BUCKETS];
};

/* Empties the histogram: count 0, min UINT64_MAX, max 0, every bucket 0. */
void rc_hist_reset(struct rc_hist *h);

/*
 * Returns the bucket index of value_ns, below RC_HIST_BUCKETS. Values under 128 map to
 * themselves; above, the shift is the number of low bits the bucket drops.
 */
static inline uint32_t
rc_hist_bucket_index(uint64_t value_ns)
{
	/* 63 - clz(value | 128) is log2 of value, but at least 7: values under 128 get shift 0. */
	uint32_t shift = (uint32_t)(63 - __builtin_clzll(value_ns | RC_HIST_SUB_BUCKETS)) -
			 RC_HIST_SUB_BUCKET_BITS;

	return (shift << RC_HIST_SUB_BUCKET_BITS) + (uint32_t)(value_ns >> shift);
}

/*
 * Records one value: O(1), no branch but the min/max selects (conditional moves). Belongs on the
 * hot path; the caller's thread must own h.
 */
static inline void
rc_hist_record(struct rc_hist *h, uint64_t value_ns)
{
	h->buckets[rc_hist_bucket_index(value_ns)]++;
	h->count++;
	h->sum_ns += value_ns;
	h->min_ns = value_ns < h->min_ns ? value_ns : h->min_ns;
	h->max_ns = value_ns > h->max_ns ? value_ns : h->max_ns;
}

/* Returns the smallest value that falls in bucket index; index must be below RC_HIST_BUCKETS. */
uint64_t rc_hist_bucket_low(uint32_t index);

/* Returns the largest value that falls in bucket index; index must be below RC_HIST_BUCKETS. */
uint64_t rc_hist_bucket_high(uint32_t index);

/* Adds every value recorded in src to dst, as if each had been recorded into dst too. */
void rc_hist_merge(struct rc_hist *dst, const struct rc_hist *src);

/* Returns the number of values recorded. */
uint64_t rc_hist_count(const struct rc_hist *h);

/*
 * Returns the p-th percentile, p in [0, 100] (aborts otherwise, NaN included), by nearest rank:
 * the value of rank ceil(p / 100 * count) (at least 1) in sorted order, as the midpoint of its
 * bucket clamped to [min, max]. Relative error at most 0.39%; the first rank (p = 0) is the
 * exact min and the last (p = 100) the exact max. Returns 0 on an empty histogram.
 */
uint64_t rc_hist_percentile(const struct rc_hist *h, double p);

/* Returns the largest value recorded (exact), or 0 on an empty histogram. */
uint64_t rc_hist_max(const struct rc_hist *h);

/* Returns the smallest value recorded (exact), or 0 on an empty histogram. */
uint64_t rc_hist_min(const struct rc_hist *h);

/* Returns the arithmetic mean of the values recorded (from an exact sum), or 0 when empty. */
double rc_hist_mean(const struct rc_hist *h);

#endif
