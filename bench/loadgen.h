/*
 * The closed-loop load of a benchmark, driven from the leader's own loop (rc-bench's default
 * "leader-loop" generator, and rc-node's bench mode): it keeps `inflight` proposals outstanding
 * on the leader, stamps each with the time stamp counter as its cookie, and records the latency
 * of the ones that commit inside the measured window. Then it turns what it measured, with the
 * node's frame counters, into the figures of struct rc_bench_result and prints them.
 *
 * One generator belongs to the thread that polls its node (no atomics): rc_loadgen_top_up() and
 * rc_loadgen_complete() (from the node's complete callback) run there.
 */
#ifndef REPLICORE_BENCH_LOADGEN_H
#define REPLICORE_BENCH_LOADGEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <x86intrin.h>

#include <replicore/limits.h>
#include <replicore/node.h>

#include "histogram.h"
#include "report.h"

struct rc_loadgen {
	uint32_t inflight;	/* proposals kept outstanding; >= 1 */
	uint32_t payload_bytes; /* bytes of every proposal */
	uint32_t cookie_offset; /* where the cookie goes in the payload (default 0) */
	/* When key_count > 0: KEY_DIGITS decimal digits of a key number in [0, key_count), spread
	 * over the keys proposal after proposal, are written at key_offset (a key-value PUT). */
	uint32_t key_offset;
	uint32_t key_count;
	uint64_t key_seq;
	/* The bytes proposed: the caller's pattern, each proposal's cookie written over its first
	 * (up to) 8 bytes, so that entries differ and comparing logs means something. */
	uint8_t payload[RC_ENTRY_BYTES_MAX];
	double ns_per_tsc; /* from rc_loadgen_calibrate() */
	bool measuring;
	uint64_t measure_start_tsc; /* proposals stamped before it are not measured */
	uint64_t outstanding;	    /* Invariant: <= inflight */
	uint64_t commits;	    /* measured window only */
	uint64_t refused;    /* proposals settled with an error (not leader, superseded, ...) */
	struct rc_hist hist; /* commit latency in ns, measured window only */
};

/* Returns the time stamp counter: the clock of proposal cookies and latencies. */
static inline uint64_t
rc_loadgen_tsc(void)
{
	return __rdtsc();
}

/* Decimal digits of a key number written by a key-value load. */
#define RC_LOADGEN_KEY_DIGITS 8u

/* Writes key number k as RC_LOADGEN_KEY_DIGITS decimal digits at p. */
static inline void
rc_loadgen_key_digits(uint8_t *p, uint32_t k)
{
	for (int i = (int)RC_LOADGEN_KEY_DIGITS - 1; i >= 0; i--) {
		p[i] = (uint8_t)('0' + k % 10);
		k /= 10;
	}
}

/* Measures the TSC rate against the monotonic clock over 50 ms; returns ns per TSC tick. */
double rc_loadgen_calibrate(void);

/*
 * Prepares g to keep inflight proposals of bytes (<= RC_ENTRY_BYTES_MAX) outstanding, copied from
 * payload with each proposal's cookie over the first 8 bytes; not measuring yet.
 */
void rc_loadgen_init(struct rc_loadgen *g, uint32_t inflight, const void *payload, uint32_t bytes,
		     double ns_per_tsc);

/* Starts the measured window now: proposals stamped from now on count. Empties the histogram. */
void rc_loadgen_measure_start(struct rc_loadgen *g);

/* Ends the measured window: completions from now on are not recorded. */
void rc_loadgen_measure_stop(struct rc_loadgen *g);

/*
 * Settles one proposal (call it from the node's complete callback): outstanding drops by one, and
 * a commit of a proposal stamped inside the measured window is counted and its latency recorded.
 */
void rc_loadgen_complete(struct rc_loadgen *g, uint64_t cookie, enum rc_propose_status status);

/*
 * Proposes on leader n until inflight proposals are outstanding or the node's proposal ring
 * pushes back (then the next call goes on). Returns the number proposed.
 */
uint32_t rc_loadgen_top_up(struct rc_loadgen *g, struct rc_node *n);

/* What the node(s) sent, for the frame figures of a result. */
struct rc_loadgen_frames {
	uint64_t tx_frames;	   /* frames sent */
	uint64_t tx_append_frames; /* AppendEntries frames with at least one entry */
	uint64_t tx_entries;	   /* entries they carried */
	double seconds;		   /* over which the frames were counted */
};

/*
 * Fills r's figures from g and the frame counters: commits, commits_per_sec and mb_per_sec over
 * duration_s, latency_us from the histogram, frames_per_sec and entries_per_frame. Leaves params,
 * env and the other results to the caller.
 */
void rc_loadgen_result(const struct rc_loadgen *g, double duration_s,
		       const struct rc_loadgen_frames *frames, struct rc_bench_result *r);

/*
 * Prints the figure lines of a result (commits/s, MB/s, latency percentiles, frames/s, entries per
 * frame) in rc-bench's layout; frames_scope says whose frames were counted ("all nodes").
 */
void rc_loadgen_print(FILE *out, const struct rc_bench_result *r, const char *frames_scope);

/*
 * Parses a command-line seconds value v of option --name for program prog: a number in
 * (0, 3600], or [0, 3600] with zero_ok. Prints one line and exits 2 otherwise.
 */
double rc_loadgen_parse_seconds(const char *prog, const char *name, const char *v, bool zero_ok);

#endif
