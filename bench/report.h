/*
 * What one rc-bench run measured, its JSON form and the regression compare of two runs.
 *
 * The JSON schema is bench/SCHEMA.md. One table in report.c drives both the writer and the
 * reader, so every key written is a key read, with the same type. The reader is strict about
 * syntax (RFC 8259: no comments, no trailing commas, valid UTF-8, one value and nothing after
 * it) and about the type of every key it knows; it ignores keys it does not know.
 */
#ifndef REPLICORE_BENCH_REPORT_H
#define REPLICORE_BENCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "histogram.h"

/* The "schema_version" written; the reader accepts this version only. */
#define RC_BENCH_SCHEMA_VERSION 1u
/* Bytes of every string field, its terminating NUL included. */
#define RC_BENCH_STR_BYTES 128u
/* Entries of the per-lcore busy share array. */
#define RC_BENCH_LCORES_MAX 64u
/* Largest JSON file the reader takes, and the deepest nesting of arrays and objects. */
#define RC_BENCH_JSON_BYTES_MAX (1u << 20)
#define RC_BENCH_JSON_DEPTH_MAX 32u

/* Latency percentiles of committed proposals, in microseconds (JSON: "latency_us"). */
struct rc_bench_latency_us {
	double p50;
	double p90;
	double p99;
	double p999; /* 99.9th percentile */
	double max;
	double mean;
};

/* How the run was configured (JSON: "params"). */
struct rc_bench_params {
	uint32_t nodes;			 /* voters in the cluster */
	uint32_t payload_bytes;		 /* bytes of every proposed entry */
	uint32_t inflight;		 /* proposals the load generator keeps outstanding */
	uint32_t batch_max;		 /* entries one PROPOSE event carries at most */
	uint32_t window;		 /* AppendEntries messages in flight per follower at most */
	uint32_t frame_bytes;		 /* largest frame sent */
	double duration_s;		 /* the measured phase */
	double warmup_s;		 /* run before measuring; not counted */
	char driver[RC_BENCH_STR_BYTES]; /* "net_ring", "net_memif", "udp", ... */
	char storage[RC_BENCH_STR_BYTES]; /* "mem" or "wal" */
	bool durable; /* writes reach stable storage before acks; false for mem */
	char loadgen[RC_BENCH_STR_BYTES];  /* load generator placement: "leader-loop" or "thread" */
	char workload[RC_BENCH_STR_BYTES]; /* "log" (opaque entries) or "kv" (key-value PUTs) */
	char read_mode[RC_BENCH_STR_BYTES]; /* kv: "local", "lease" or "linearizable" */
	uint32_t readers;		    /* kv: reader threads */
	double read_share;		    /* kv: share of the readers' operations that are GETs */
};

/* Where the run ran (JSON: "env"). */
struct rc_bench_env {
	char git_rev[RC_BENCH_STR_BYTES];   /* e.g. "v0.1.0-12-g148e412-dirty" */
	char cpu_model[RC_BENCH_STR_BYTES]; /* /proc/cpuinfo's "model name" */
	uint32_t lcore_count;		    /* lcores the run used */
	char hostname[RC_BENCH_STR_BYTES];
};

/* The same load over the kernel UDP driver, for the side-by-side comparison (JSON: "udp"). */
struct rc_bench_udp {
	bool measured; /* false: written as null, and every other field is 0 */
	double commits_per_sec;
	double mb_per_sec;
	struct rc_bench_latency_us latency_us;
};

/*
 * One run. Fields ending in _per_sec are over params.duration_s; MB is 10^6 bytes of payload.
 * Zero it (memset) before filling it in: zero means "not measured" for the optional fields.
 */
struct rc_bench_result {
	struct rc_bench_params params;
	struct rc_bench_env env;
	uint64_t commits;	/* entries committed and acknowledged while measuring */
	double commits_per_sec; /* commits / duration_s */
	double mb_per_sec;	/* commits * payload_bytes / duration_s / 10^6 */
	struct rc_bench_latency_us latency_us; /* proposal submitted -> commit acknowledged */
	double frames_per_sec;		       /* frames sent, all nodes together */
	double entries_per_frame;	       /* mean entries per AppendEntries frame */
	uint32_t lcore_busy_count;	       /* Invariant: <= RC_BENCH_LCORES_MAX */
	double lcore_busy_share[RC_BENCH_LCORES_MAX]; /* per lcore: busy time / time, in [0, 1] */
	double raw_frames_per_sec; /* the driver alone, no Raft; 0: not measured (JSON null) */
	double raft_share; /* commits/s over raw entries/s to every follower; 0: not measured */
	struct rc_bench_udp udp;
	/* The kv workload with readers (reads_measured false: the three below are null). */
	bool reads_measured;
	double reads_per_sec;			    /* GETs completed, all readers together */
	double writes_per_sec;			    /* committed writes (commits_per_sec) */
	struct rc_bench_latency_us read_latency_us; /* one GET, sampled */
	/* Storage wal (syncs_measured false: the two below are null). */
	bool syncs_measured;
	double syncs_per_sec;			    /* fdatasync calls, all nodes together */
	struct rc_bench_latency_us sync_latency_us; /* one fdatasync, the same run */
};

/*
 * Fills r->latency_us from a histogram of nanosecond latencies: p50, p90, p99, p99.9, max and
 * mean, in microseconds. An empty histogram gives zeros.
 */
void rc_bench_result_set_latency(struct rc_bench_result *r, const struct rc_hist *h);

/* Converts a histogram of nanoseconds into the microsecond percentiles of l. */
void rc_bench_latency_from_hist(struct rc_bench_latency_us *l, const struct rc_hist *h);

/*
 * Fills env->cpu_model from /proc/cpuinfo ("unknown" when it names none) and env->hostname from
 * gethostname() ("unknown" when that fails). Leaves git_rev and lcore_count to the caller.
 */
void rc_bench_env_probe(struct rc_bench_env *env);

/*
 * Writes r to f as one JSON object (bench/SCHEMA.md), two-space indented, ending with a newline.
 * Numbers are written with the fewest digits that read back to the same double; a non-finite
 * number is written as null, which the reader refuses where a number is required. Returns 0, or
 * -1 when the stream reports an error (errno set by stdio).
 */
int rc_bench_json_write(FILE *f, const struct rc_bench_result *r);

/*
 * Parses len bytes of JSON text into *r. Returns 0 on success. On failure returns -1, leaves *r
 * unchanged and writes into err (when err_len > 0) one line that names the byte offset, line and
 * column of the fault and, for schema faults, the key: "offset 57 (line 4, column 12):
 * latency_us.p99: expected a number, found a string".
 */
int rc_bench_json_parse(const char *text, size_t len, struct rc_bench_result *r, char *err,
			size_t err_len);

/*
 * Reads the JSON file at path into *r, as rc_bench_json_parse(). Returns 0, or -1 with err
 * starting with the path (a file that cannot be read, is larger than RC_BENCH_JSON_BYTES_MAX, or
 * does not parse); *r is then unchanged.
 */
int rc_bench_json_read(const char *path, struct rc_bench_result *r, char *err, size_t err_len);

/*
 * Prints to out the parameters that differ between base and cur, then a table of metric, base,
 * new and change in percent, then a verdict line. Returns 1 when cur regressed: commits_per_sec
 * fell by more than tolerance_pct percent of base's, or latency_us.p99 rose by more than
 * tolerance_pct percent of base's; else 0. tolerance_pct must be finite and >= 0.
 */
int rc_bench_compare(const struct rc_bench_result *base, const struct rc_bench_result *cur,
		     double tolerance_pct, FILE *out);

#endif
