/*
 * Tests of the linearizability checker (tools/lincheck/lincheck.h): hand-made histories with a
 * known verdict for each register operation, the planted stale read, operations of unknown
 * outcome, per-key independence, the shortest failing prefix, the parser's errors, randomized
 * histories generated from a real sequential register (accepted) and then corrupted (rejected),
 * and the time one 10,000-operation history takes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "lincheck.h"

static struct rc_lincheck_history t_history;
static struct rc_lincheck_result t_result;
static char t_err[256];

static void
t_fini(void)
{
	rc_lincheck_result_free(&t_result);
	rc_lincheck_history_free(&t_history);
}

TestSuite(lincheck, .fini = t_fini);

/* Parses text (lines separated by '\n') into t_history; asserts it parses. */
static void
t_parse(const char *text)
{
	char *copy = strdup(text);
	char *save = NULL;
	uint32_t line = 0;

	cr_assert_not_null(copy);
	rc_lincheck_history_free(&t_history);
	for (char *s = strtok_r(copy, "\n", &save); s != NULL; s = strtok_r(NULL, "\n", &save)) {
		int rc = rc_lincheck_parse_line(&t_history, s, ++line, t_err, sizeof(t_err));

		cr_assert_eq(rc, 0, "line %u: %s", line, t_err);
	}
	free(copy);
}

/* Checks t_history; returns whether it is linearizable. */
static bool
t_check_history(void)
{
	int rc;

	rc_lincheck_result_free(&t_result);
	rc = rc_lincheck_check(&t_history, &t_result, t_err, sizeof(t_err));
	cr_assert_eq(rc, 0, "%s", t_err);
	return t_result.violation_count == 0;
}

static bool
t_check(const char *text)
{
	t_parse(text);
	return t_check_history();
}

/* The result of key, which must exist. */
static const struct rc_lincheck_key_result *
t_key(const char *key)
{
	for (size_t i = 0; i < t_result.key_count; i++)
		if (strcmp(t_result.keys[i].key, key) == 0)
			return &t_result.keys[i];
	cr_assert_fail("no key %s", key);
	return NULL;
}

/* Parses one line alone and returns its error ("" if it parsed). */
static int
t_parse_error(const char *line)
{
	t_err[0] = '\0';
	return rc_lincheck_parse_line(&t_history, line, 7, t_err, sizeof(t_err));
}

#define PUT(c, k, v, t1, t2)                                                                       \
	"{\"client\":" #c ",\"op\":\"put\",\"key\":\"" k "\",\"value\":\"" v "\",\"call_ns\":" #t1 \
	",\"return_ns\":" #t2 ",\"ok\":true}\n"
#define GET(c, k, v, t1, t2)                                                                       \
	"{\"client\":" #c ",\"op\":\"get\",\"key\":\"" k "\",\"value\":" v ",\"call_ns\":" #t1     \
	",\"return_ns\":" #t2 ",\"ok\":true}\n"
#define CAS(c, k, e, v, t1, t2, ok)                                                                \
	"{\"client\":" #c ",\"op\":\"cas\",\"key\":\"" k "\",\"expect\":" e ",\"value\":\"" v      \
	"\",\"call_ns\":" #t1 ",\"return_ns\":" #t2 ",\"ok\":" #ok "}\n"
#define DEL(c, k, t1, t2, ok)                                                                      \
	"{\"client\":" #c ",\"op\":\"delete\",\"key\":\"" k "\",\"call_ns\":" #t1                  \
	",\"return_ns\":" #t2 ",\"ok\":" #ok "}\n"
/* A put whose client never learned the outcome. */
#define PUT_OPEN(c, k, v, t1)                                                                      \
	"{\"client\":" #c ",\"op\":\"put\",\"key\":\"" k "\",\"value\":\"" v "\",\"call_ns\":" #t1 \
	",\"ok\":null}\n"

/* ---- Hand-made histories ---------------------------------------------------------------- */

Test(lincheck, sequential_history_is_linearizable)
{
	cr_assert(t_check(GET(1, "x", "null", 0, 5) PUT(1, "x", "a", 10, 20) GET(
		2, "x", "\"a\"", 30, 40) PUT(2, "x", "b", 50, 60) GET(1, "x", "\"b\"", 70, 80)));
	cr_assert_eq(t_result.key_count, 1);
	cr_assert(t_key("x")->linearizable);
	cr_assert_eq(t_key("x")->op_count, 5);
}

Test(lincheck, get_overlapping_a_put_may_see_either_value)
{
	cr_assert(t_check(PUT(1, "x", "a", 0, 100) GET(2, "x", "null", 10, 20)));
	cr_assert(t_check(PUT(1, "x", "a", 0, 100) GET(2, "x", "\"a\"", 10, 20)));
	/* Two overlapping gets may even see the put in opposite orders of their calls. */
	cr_assert(t_check(PUT(1, "x", "a", 0, 100) GET(2, "x", "\"a\"", 10, 20)
				  GET(3, "x", "null", 15, 25)));
	/* Touching intervals (a return and a call at the same time) count as concurrent. */
	cr_assert(t_check(PUT(1, "x", "a", 0, 10) GET(2, "x", "null", 10, 20)));
}

Test(lincheck, stale_read_after_a_returned_put_is_rejected)
{
	/* The planted stale read: b was written and acknowledged before the get was called. */
	cr_assert_not(t_check(PUT(1, "x", "a", 0, 10) PUT(2, "x", "b", 20, 30)
				      GET(3, "x", "\"a\"", 40, 50)));
	cr_assert_not(t_key("x")->linearizable);
	cr_assert_eq(t_result.violation_count, 1);
	/* The same reads overlapping the second put are fine. */
	cr_assert(t_check(PUT(1, "x", "a", 0, 10) PUT(2, "x", "b", 20, 45)
				  GET(3, "x", "\"a\"", 40, 50)));
	/* Reading b then a again, with no write of a in between, is not. */
	cr_assert_not(t_check(PUT(1, "x", "a", 0, 10) PUT(2, "x", "b", 20, 100)
				      GET(3, "x", "\"b\"", 30, 40) GET(3, "x", "\"a\"", 50, 60)));
}

Test(lincheck, shortest_failing_prefix_ends_at_the_stale_read)
{
	const struct rc_lincheck_key_result *kr;

	cr_assert_not(t_check(PUT(1, "x", "a", 0, 10) PUT(2, "x", "b", 20, 30) GET(
		3, "x", "\"b\"", 32, 38) GET(3, "x", "\"a\"", 40, 50) PUT(1, "x", "c", 45, 70)
				      GET(2, "x", "\"c\"", 80, 90) PUT(2, "x", "d", 100, 110)));
	kr = t_key("x");
	cr_assert_not(kr->linearizable);
	cr_assert_eq(kr->culprit_index, 3, "the stale get is the 4th line");
	/* Everything called before the stale get returned: 5 operations, the put of c pending. */
	cr_assert_eq(kr->prefix_op_count, 5);
	for (size_t i = 0; i < kr->prefix_op_count; i++)
		cr_assert_eq(kr->prefix_op_indexes[i], i);
}

Test(lincheck, cas_swaps_only_on_the_expected_value)
{
	/* Swapped on a match, then observed. */
	cr_assert(t_check(PUT(1, "x", "a", 0, 10) CAS(2, "x", "\"a\"", "b", 20, 30, true)
				  GET(3, "x", "\"b\"", 40, 50)));
	/* Not swapped on a mismatch, value unchanged. */
	cr_assert(t_check(PUT(1, "x", "a", 0, 10) CAS(2, "x", "\"z\"", "b", 20, 30, false)
				  GET(3, "x", "\"a\"", 40, 50)));
	/* A cas that reports a swap while the value was something else. */
	cr_assert_not(t_check(PUT(1, "x", "a", 0, 10) CAS(2, "x", "\"z\"", "b", 20, 30, true)));
	/* A cas that reports no swap although the value matched. */
	cr_assert_not(t_check(PUT(1, "x", "a", 0, 10) CAS(2, "x", "\"a\"", "b", 20, 30, false)));
	/* A failed cas has no effect: reading its value afterwards is wrong. */
	cr_assert_not(t_check(PUT(1, "x", "a", 0, 10) CAS(2, "x", "\"z\"", "b", 20, 30, false)
				      GET(3, "x", "\"b\"", 40, 50)));
	/* Expect null compares with a missing key. */
	cr_assert(t_check(CAS(1, "x", "null", "a", 0, 10, true) GET(2, "x", "\"a\"", 20, 30)));
	cr_assert_not(t_check(PUT(1, "x", "a", 0, 10) CAS(2, "x", "null", "b", 20, 30, true)));
	/* Two concurrent cas from the same value: only one may win. */
	cr_assert(t_check(PUT(1, "x", "a", 0, 10) CAS(2, "x", "\"a\"", "b", 20, 40, true)
				  CAS(3, "x", "\"a\"", "c", 20, 40, false)));
	cr_assert_not(t_check(PUT(1, "x", "a", 0, 10) CAS(2, "x", "\"a\"", "b", 20, 40, true)
				      CAS(3, "x", "\"a\"", "c", 20, 40, true)));
}

Test(lincheck, delete_makes_the_key_missing)
{
	cr_assert(t_check(PUT(1, "x", "a", 0, 10) DEL(2, "x", 20, 30, true)
				  GET(3, "x", "null", 40, 50)));
	cr_assert_not(t_check(PUT(1, "x", "a", 0, 10) DEL(2, "x", 20, 30, true)
				      GET(3, "x", "\"a\"", 40, 50)));
	/* A delete that failed had no effect. */
	cr_assert(t_check(PUT(1, "x", "a", 0, 10) DEL(2, "x", 20, 30, false)
				  GET(3, "x", "\"a\"", 40, 50)));
	cr_assert_not(t_check(PUT(1, "x", "a", 0, 10) DEL(2, "x", 20, 30, false)
				      GET(3, "x", "null", 40, 50)));
}

Test(lincheck, put_of_unknown_outcome_may_or_may_not_have_happened)
{
	/* Never observed, or observed: both readings are linearizable. */
	cr_assert(t_check(PUT(1, "x", "a", 0, 10) PUT_OPEN(2, "x", "b", 20)
				  GET(3, "x", "\"a\"", 40, 50) GET(3, "x", "\"a\"", 60, 70)));
	cr_assert(t_check(PUT(1, "x", "a", 0, 10) PUT_OPEN(2, "x", "b", 20)
				  GET(3, "x", "\"a\"", 40, 50) GET(3, "x", "\"b\"", 60, 70)));
	/* Observed, then contradicted: once it took effect it cannot be undone. */
	cr_assert_not(t_check(PUT(1, "x", "a", 0, 10) PUT_OPEN(2, "x", "b", 20)
				      GET(3, "x", "\"b\"", 40, 50) GET(3, "x", "\"a\"", 60, 70)));
	/* It stays open forever, so it may take effect after a later put. */
	cr_assert(t_check(PUT_OPEN(2, "x", "b", 0) PUT(1, "x", "a", 100, 110)
				  GET(3, "x", "\"b\"", 200, 210)));
	/* ok:null with a return time is unknown too. */
	cr_assert(t_check(PUT(1, "x", "a", 0,
			      10) "{\"client\":2,\"op\":\"put\",\"key\":\"x\",\"value\":\"b\","
				  "\"call_ns\":20,\"return_ns\":30,\"ok\":null}\n" GET(
					  3, "x", "\"a\"", 40, 50) GET(3, "x", "\"b\"", 60, 70)));
	cr_assert_eq(t_history.ops[1].outcome, RC_LINCHECK_UNKNOWN);
	cr_assert_eq(t_history.ops[1].return_ns, RC_LINCHECK_NS_INFINITE);
}

Test(lincheck, keys_are_checked_independently)
{
	/* On one key this would be a stale read; on two keys each history is fine. */
	cr_assert(t_check(PUT(1, "a", "1", 0, 10) PUT(2, "b", "2", 20, 30)
				  GET(3, "a", "\"1\"", 40, 50)));
	cr_assert_eq(t_result.key_count, 2);
	/* A violation on one key leaves the other linearizable. */
	cr_assert_not(t_check(PUT(1, "a", "1", 0, 10) PUT(1, "b", "1", 0, 10) PUT(
		2, "a", "2", 20, 30) PUT(2, "b", "2", 20, 30) GET(3, "a", "\"2\"", 40, 50)
				      GET(3, "b", "\"1\"", 40, 50)));
	cr_assert_eq(t_result.violation_count, 1);
	cr_assert(t_key("a")->linearizable);
	cr_assert_not(t_key("b")->linearizable);
	cr_assert_eq(t_key("b")->culprit_index, 5);
}

Test(lincheck, too_many_operations_on_one_key_is_an_error)
{
	char line[160];

	for (uint32_t i = 0; i <= RC_LINCHECK_KEY_OPS_MAX; i++) {
		snprintf(line, sizeof(line),
			 "{\"client\":1,\"op\":\"get\",\"key\":\"k\","
			 "\"call_ns\":%u,\"return_ns\":%u,\"ok\":true}",
			 2 * i, 2 * i + 1);
		cr_assert_eq(rc_lincheck_parse_line(&t_history, line, i + 1, t_err, sizeof(t_err)),
			     0);
	}
	cr_assert_eq(rc_lincheck_check(&t_history, &t_result, t_err, sizeof(t_err)), -E2BIG);
	cr_assert_str_eq(t_err, "key \"k\" has 4097 operations; at most 4096 are checked");
	cr_assert_eq(t_result.key_count, 0);
	cr_assert_null(t_result.keys);
	/* One fewer is checked. */
	free(t_history.ops[--t_history.op_count].key);
	cr_assert(t_check_history());
}

/* ---- Parser ----------------------------------------------------------------------------- */

Test(lincheck, parser_reads_every_field)
{
	const struct rc_lincheck_op *op;

	t_parse(" { \"ok\" : false , \"return_ns\":20,\"call_ns\":10,"
		"\"expect\":\"e\\u00e9\\n\",\"value\":\"v\",\"key\":\"k\\\"\",\"op\":\"cas\","
		"\"client\":18446744073709551615}");
	cr_assert_eq(t_history.op_count, 1);
	op = &t_history.ops[0];
	cr_assert_eq(op->kind, RC_LINCHECK_CAS);
	cr_assert_eq(op->outcome, RC_LINCHECK_FAILED);
	cr_assert_eq(op->client, UINT64_MAX);
	cr_assert_str_eq(op->key, "k\"");
	cr_assert_str_eq(op->value, "v");
	cr_assert_str_eq(op->expect, "e\xc3\xa9\n");
	cr_assert_eq(op->call_ns, 10);
	cr_assert_eq(op->return_ns, 20);
	cr_assert_eq(op->line, 1);
	/* Blank lines add nothing; a get without value read a missing key. */
	t_parse("   \n{\"client\":1,\"op\":\"get\",\"key\":\"k\",\"call_ns\":1,\"return_ns\":2,"
		"\"ok\":true}");
	cr_assert_eq(t_history.op_count, 1);
	cr_assert_null(t_history.ops[0].value);
	cr_assert_eq(t_history.ops[0].line, 2);
}

Test(lincheck, parser_rejects_malformed_lines_naming_line_and_column)
{
	static const struct {
		const char *line;
		const char *err;
	} cases[] = {
		{ "[]", "7:1: expected '{'" },
		{ "{}", "7:2: empty object" },
		{ "{\"client\":1,\"op\":\"put\",\"key\":\"k\",\"value\":\"v\",\"call_ns\":1,"
		  "\"return_ns\":2,\"ok\":true",
		  "7:81: expected ',' or '}'" },
		{ "{\"client\":1,\"client\":2}", "7:13: duplicate field \"client\"" },
		{ "{\"clients\":1}", "7:2: unknown field" },
		{ "{\"client\":-1}", "7:11: expected a non-negative integer" },
		{ "{\"client\":01}", "7:12: leading zero in integer" },
		{ "{\"client\":1.5}", "7:12: expected an integer, not a fraction or exponent" },
		{ "{\"client\":18446744073709551616}", "7:11: integer out of range" },
		{ "{\"client\":1,\"key\":\"a\\qb\"}", "7:22: bad escape in string" },
		{ "{\"client\":1,\"key\":\"ab}", "7:23: unterminated string" },
		{ "{\"client\":1} x", "7:14: unexpected text after the object" },
		{ "{\"client\":1,\"ok\":yes}", "7:18: \"ok\" must be true, false or null" },
		{ "{\"client\":1,\"op\":\"get\",\"key\":\"k\"}",
		  "7:34: missing field \"call_ns\"" },
		{ "{\"client\":1,\"op\":\"inc\",\"key\":\"k\",\"call_ns\":1}",
		  "7:13: \"op\" must be put, get, cas or delete" },
		{ "{\"client\":1,\"op\":\"put\",\"key\":\"k\",\"call_ns\":1,\"return_ns\":2,"
		  "\"ok\":true}",
		  "7:13: put needs a string \"value\"" },
		{ "{\"client\":1,\"op\":\"get\",\"key\":\"k\",\"expect\":\"a\",\"call_ns\":1}",
		  "7:34: \"expect\" is only for cas" },
		{ "{\"client\":1,\"op\":\"get\",\"key\":\"k\",\"call_ns\":5,\"return_ns\":2,"
		  "\"ok\":true}",
		  "7:46: return_ns is before call_ns" },
		{ "{\"client\":1,\"op\":\"get\",\"key\":\"k\",\"call_ns\":1,\"return_ns\":2}",
		  "7:13: a returned operation needs \"ok\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(t_parse_error(cases[i].line), -EINVAL, "accepted: %s", cases[i].line);
		cr_assert_str_eq(t_err, cases[i].err, "for %s: %s", cases[i].line, t_err);
	}
	cr_assert_eq(t_history.op_count, 0);
}

Test(lincheck, parse_file_stops_at_the_first_bad_line)
{
	static const char text[] = PUT(1, "x", "a", 0, 10) "\n" GET(
		2, "x", "\"a\"", 20, 30) "{\"client\":1,\"op\":\"get\"\n" GET(2, "x", "\"a\"", 40,
									      50);
	FILE *file = fmemopen((void *)text, sizeof(text) - 1, "r");

	cr_assert_not_null(file);
	cr_assert_eq(rc_lincheck_parse_file(&t_history, file, t_err, sizeof(t_err)), -EINVAL);
	fclose(file);
	cr_assert_str_eq(t_err, "4:23: expected ',' or '}'");
	cr_assert_eq(t_history.op_count, 2);
}

/* ---- Randomized histories from a real register ------------------------------------------ */

static uint64_t t_rng;

static uint32_t
t_rand(uint32_t bound)
{
	t_rng ^= t_rng << 13;
	t_rng ^= t_rng >> 7;
	t_rng ^= t_rng << 17;
	return (uint32_t)(t_rng % bound);
}

/* Appends one line to t_history. */
static void
t_add(const char *line)
{
	cr_assert_eq(rc_lincheck_parse_line(&t_history, line, (uint32_t)t_history.op_count + 1,
					    t_err, sizeof(t_err)),
		     0, "%s: %s", line, t_err);
}

/*
 * Generates op_count operations over key_count keys by running them one at a time on a real
 * register per key: operation i takes effect at time 100 * i and its interval is stretched
 * around that point by up to spread_ns either side, so the order of effects is a linearization
 * by construction. A few puts (1 in unknown_one_in, 0 = none) report an unknown outcome.
 */
static void
t_generate(uint32_t op_count, uint32_t key_count, uint32_t spread_ns, uint32_t unknown_one_in)
{
	int reg[16];
	char line[256];

	cr_assert(key_count <= 16);
	for (uint32_t k = 0; k < key_count; k++)
		reg[k] = -1; /* missing */
	rc_lincheck_history_free(&t_history);
	for (uint32_t i = 0; i < op_count; i++) {
		uint64_t at = 1000 + 100 * (uint64_t)i;
		uint64_t call = at - t_rand(spread_ns + 1), ret = at + t_rand(spread_ns + 1);
		uint32_t k = t_rand(key_count), kind = t_rand(4), client = t_rand(3) + 1;
		int v = (int)t_rand(5), expect = (int)t_rand(6) - 1;
		char val[32], exp[32];

		snprintf(val, sizeof(val), "\"v%d\"", reg[k]);
		snprintf(exp, sizeof(exp), "\"v%d\"", expect);
		if (kind == 0 && unknown_one_in != 0 && t_rand(unknown_one_in) == 0) {
			snprintf(line, sizeof(line),
				 "{\"client\":%u,\"op\":\"put\",\"key\":\"k%u\",\"value\":\"v%d\","
				 "\"call_ns\":%" PRIu64 ",\"ok\":null}",
				 client, k, v, call);
			reg[k] = v;
		} else if (kind == 0) {
			snprintf(line, sizeof(line),
				 "{\"client\":%u,\"op\":\"put\",\"key\":\"k%u\",\"value\":\"v%d\","
				 "\"call_ns\":%" PRIu64 ",\"return_ns\":%" PRIu64 ",\"ok\":true}",
				 client, k, v, call, ret);
			reg[k] = v;
		} else if (kind == 1) {
			snprintf(line, sizeof(line),
				 "{\"client\":%u,\"op\":\"get\",\"key\":\"k%u\",\"value\":%s,"
				 "\"call_ns\":%" PRIu64 ",\"return_ns\":%" PRIu64 ",\"ok\":true}",
				 client, k, reg[k] < 0 ? "null" : val, call, ret);
		} else if (kind == 2) {
			bool swap = expect == reg[k];

			snprintf(line, sizeof(line),
				 "{\"client\":%u,\"op\":\"cas\",\"key\":\"k%u\",\"expect\":%s,"
				 "\"value\":\"v%d\",\"call_ns\":%" PRIu64 ",\"return_ns\":%" PRIu64
				 ",\"ok\":%s}",
				 client, k, expect < 0 ? "null" : exp, v, call, ret,
				 swap ? "true" : "false");
			if (swap)
				reg[k] = v;
		} else {
			snprintf(line, sizeof(line),
				 "{\"client\":%u,\"op\":\"delete\",\"key\":\"k%u\","
				 "\"call_ns\":%" PRIu64 ",\"return_ns\":%" PRIu64 ",\"ok\":true}",
				 client, k, call, ret);
			reg[k] = -1;
		}
		t_add(line);
	}
}

Test(lincheck, random_register_histories_pass_and_a_corrupted_read_fails)
{
	for (uint64_t seed = 1; seed <= 200; seed++) {
		size_t gets[400];
		size_t get_count = 0;
		struct rc_lincheck_op *op;
		char *old;

		t_rng = seed * 0x9e3779b97f4a7c15ull;
		t_generate(200 + t_rand(200), 1 + t_rand(3), 50 + t_rand(400), 20);
		cr_assert(t_check_history(), "seed %" PRIu64 ": a generated history was rejected",
			  seed);
		for (size_t i = 0; i < t_history.op_count; i++)
			if (t_history.ops[i].kind == RC_LINCHECK_GET)
				gets[get_count++] = i;
		cr_assert_gt(get_count, 0);
		/* A read of a value never written anywhere. */
		op = &t_history.ops[gets[t_rand((uint32_t)get_count)]];
		old = op->value;
		op->value = strdup("never-written");
		free(old);
		cr_assert_not(t_check_history(), "seed %" PRIu64 ": a corrupted read passed", seed);
		cr_assert_eq(t_result.violation_count, 1);
		cr_assert_eq(t_key(op->key)->culprit_index, (size_t)(op - t_history.ops),
			     "seed %" PRIu64 ": the corrupted get ends the failing prefix", seed);
	}
}

Test(lincheck, ten_thousand_operations_over_ten_keys_check_in_well_under_a_second)
{
	struct timespec start, end;
	double seconds;

	t_rng = 42;
	/* Up to 150 ns either side of points 100 ns apart: each op overlaps about 3 others. */
	t_generate(10000, 10, 150, 0);
	clock_gettime(CLOCK_MONOTONIC, &start);
	cr_assert(t_check_history());
	clock_gettime(CLOCK_MONOTONIC, &end);
	seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
	cr_log_info("10,000 operations checked in %.3f s", seconds);
	cr_assert_lt(seconds, 0.5, "took %.3f s", seconds);
	cr_assert_eq(t_result.key_count, 10);
}
