/*
 * The closed-loop load generator of rc-bench and rc-node (see loadgen.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <replicore/assert.h>

#include "loadgen.h"

/* Measures the TSC rate against the monotonic clock over 50 ms. */
double
rc_loadgen_calibrate(void)
{
	uint64_t ns0 = rc_clock_ns(), t0 = rc_loadgen_tsc();

	while (rc_clock_ns() - ns0 < 50000000ull)
		;
	return (double)(rc_clock_ns() - ns0) / (double)(rc_loadgen_tsc() - t0);
}

/* Prepares a generator; see loadgen.h. */
void
rc_loadgen_init(struct rc_loadgen *g, uint32_t inflight, const void *payload, uint32_t bytes,
		double ns_per_tsc)
{
	RC_ASSERT(inflight >= 1 && payload != NULL && bytes <= RC_ENTRY_BYTES_MAX &&
		  ns_per_tsc > 0);
	g->inflight = inflight;
	memcpy(g->payload, payload, bytes);
	g->payload_bytes = bytes;
	g->cookie_offset = 0;
	g->key_count = 0;
	g->key_seq = 0;
	g->ns_per_tsc = ns_per_tsc;
	g->measuring = false;
	g->measure_start_tsc = UINT64_MAX;
	g->outstanding = 0;
	g->commits = 0;
	g->refused = 0;
	rc_hist_reset(&g->hist);
}

/* Starts the measured window. */
void
rc_loadgen_measure_start(struct rc_loadgen *g)
{
	rc_hist_reset(&g->hist);
	g->commits = 0;
	g->measure_start_tsc = rc_loadgen_tsc();
	g->measuring = true;
}

/* Ends the measured window. */
void
rc_loadgen_measure_stop(struct rc_loadgen *g)
{
	g->measuring = false;
}

/* Settles one proposal; records its latency when it committed inside the window. */
void
rc_loadgen_complete(struct rc_loadgen *g, uint64_t cookie, enum rc_propose_status status)
{
	uint64_t now = rc_loadgen_tsc();

	RC_ASSERT(g->outstanding > 0);
	g->outstanding--;
	if (status != RC_PROPOSE_COMMITTED) {
		g->refused++;
		return;
	}
	if (g->measuring && cookie >= g->measure_start_tsc) {
		rc_hist_record(&g->hist, (uint64_t)((double)(now - cookie) * g->ns_per_tsc));
		g->commits++;
	}
}

/* Keeps inflight proposals outstanding on leader n. */
uint32_t
rc_loadgen_top_up(struct rc_loadgen *g, struct rc_node *n)
{
	uint32_t proposed = 0;

	while (g->outstanding < g->inflight) {
		uint64_t cookie = rc_loadgen_tsc();

		uint32_t room = g->payload_bytes - g->cookie_offset;

		memcpy(g->payload + g->cookie_offset, &cookie, room < 8 ? room : 8);
		if (g->key_count > 0)
			rc_loadgen_key_digits(
				g->payload + g->key_offset,
				(uint32_t)(g->key_seq++ * 2654435761u % g->key_count));
		if (rc_propose(n, g->payload, g->payload_bytes, cookie) != 0)
			break; /* ring full: back-pressure, try next iteration */
		g->outstanding++;
		proposed++;
	}
	return proposed;
}

/* Fills the figures of a result. */
void
rc_loadgen_result(const struct rc_loadgen *g, double duration_s,
		  const struct rc_loadgen_frames *frames, struct rc_bench_result *r)
{
	RC_ASSERT(duration_s > 0 && frames->seconds > 0);
	r->commits = g->commits;
	rc_bench_result_set_latency(r, &g->hist);
	r->commits_per_sec = (double)r->commits / duration_s;
	r->mb_per_sec = r->commits_per_sec * g->payload_bytes / 1e6;
	r->frames_per_sec = (double)frames->tx_frames / frames->seconds;
	r->entries_per_frame = frames->tx_append_frames == 0 ?
				       0 :
				       (double)frames->tx_entries /
					       (double)frames->tx_append_frames;
}

/* Prints the figure lines of a result. */
void
rc_loadgen_print(FILE *out, const struct rc_bench_result *r, const char *frames_scope)
{
	fprintf(out, "  commits/s          %14.0f   (%" PRIu64 " commits in %.1f s)\n",
		r->commits_per_sec, r->commits, r->params.duration_s);
	fprintf(out, "  MB/s               %14.1f\n", r->mb_per_sec);
	fprintf(out, "  latency us         p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
		r->latency_us.p50, r->latency_us.p90, r->latency_us.p99, r->latency_us.p999,
		r->latency_us.max);
	fprintf(out, "  frames/s           %14.0f   (%s)\n", r->frames_per_sec, frames_scope);
	fprintf(out, "  entries per frame  %14.1f   (AppendEntries frames carrying entries)\n",
		r->entries_per_frame);
}

/* Parses a seconds option value; exits 2 with a message when it is out of range. */
double
rc_loadgen_parse_seconds(const char *prog, const char *name, const char *v, bool zero_ok)
{
	char *end;
	double x = strtod(v, &end);

	if (*end != '\0' || end == v || !(x >= 0) || x > 3600 || (!zero_ok && x == 0)) {
		fprintf(stderr, "%s: --%s wants seconds %s 3600, not '%s'\n", prog, name,
			zero_ok ? "from 0 to" : "above 0, up to", v);
		exit(2);
	}
	return x;
}
