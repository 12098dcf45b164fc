/*
 * Tests of rc-bench's report (bench/report): the JSON writer and reader in a round trip of every
 * field, the writer's output against python3's json module and a hand-written key set, malformed
 * and ill-typed documents each refused with a message naming the offset, truncation at every
 * length and random mutations read from right before an inaccessible page, and the compare's
 * verdict on planted regressions.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <replicore/prng.h>

#include "histogram.h"
#include "report.h"

#define TEST_DOC_BYTES_MAX 8192u

static char err[512];

/* A result with every field set to a distinctive value, strings that need escaping included. */
static void
full_result(struct rc_bench_result *r)
{
	uint32_t i;

	memset(r, 0, sizeof(*r));
	r->params.nodes = 5;
	r->params.payload_bytes = 4096;
	r->params.inflight = 1024;
	r->params.batch_max = 256;
	r->params.window = 32;
	r->params.frame_bytes = 9000;
	r->params.duration_s = 10.5;
	r->params.warmup_s = 0.25;
	snprintf(r->params.driver, sizeof(r->params.driver), "net_ring");
	snprintf(r->params.storage, sizeof(r->params.storage), "mem");
	r->params.durable = true;
	snprintf(r->params.loadgen, sizeof(r->params.loadgen), "thread");
	snprintf(r->env.git_rev, sizeof(r->env.git_rev), "v0.1.0-3-g148e412-dirty");
	snprintf(r->env.cpu_model, sizeof(r->env.cpu_model),
		 "Caf\xc3\xa9 \"CPU\" \\ tab\there\nline\x01 \xe2\x82\xac \xf0\x9f\x9a\x80");
	r->env.lcore_count = 3;
	snprintf(r->env.hostname, sizeof(r->env.hostname), "bench-host.example");
	r->commits = UINT64_C(12345678901234567);
	r->commits_per_sec = 1234567.891;
	r->mb_per_sec = 5056.789012345678;
	r->latency_us.p50 = 12.5;
	r->latency_us.p90 = 20.125;
	r->latency_us.p99 = 48.0625;
	r->latency_us.p999 = 1e-7;
	r->latency_us.max = 123456.789;
	r->latency_us.mean = 0.1;
	r->frames_per_sec = 2.5e6;
	r->entries_per_frame = 7.333333333333333;
	r->lcore_busy_count = 5;
	for (i = 0; i < r->lcore_busy_count; i++)
		r->lcore_busy_share[i] = 1.0 / (i + 1);
	r->raw_frames_per_sec = 9.75e6;
	r->raft_share = 0.42;
	r->udp.measured = true;
	r->udp.commits_per_sec = 87654.5;
	r->udp.mb_per_sec = 359.0;
	r->udp.latency_us = (struct rc_bench_latency_us){ 80, 95, 150, 900, 2000, 85.5 };
	snprintf(r->params.workload, sizeof(r->params.workload), "kv");
	snprintf(r->params.read_mode, sizeof(r->params.read_mode), "local");
	r->params.readers = 4;
	r->params.read_share = 0.95;
	r->reads_measured = true;
	r->reads_per_sec = 1.25e7;
	r->writes_per_sec = 1234567.891;
	r->read_latency_us = (struct rc_bench_latency_us){ 0.04, 0.06, 0.08, 0.2, 90, 0.05 };
	r->syncs_measured = true;
	r->syncs_per_sec = 2400.5;
	r->sync_latency_us = (struct rc_bench_latency_us){ 290, 800, 1700, 2500, 4000, 410 };
}

/* Asserts two latency sets are equal, field by field (exact: the writer round-trips doubles). */
static void
assert_latency_eq(const struct rc_bench_latency_us *a, const struct rc_bench_latency_us *b)
{
	cr_assert_eq(a->p50, b->p50);
	cr_assert_eq(a->p90, b->p90);
	cr_assert_eq(a->p99, b->p99);
	cr_assert_eq(a->p999, b->p999);
	cr_assert_eq(a->max, b->max);
	cr_assert_eq(a->mean, b->mean);
}

/* Asserts two results are equal, field by field. */
static void
assert_result_eq(const struct rc_bench_result *a, const struct rc_bench_result *b)
{
	uint32_t i;

	cr_assert_eq(a->params.nodes, b->params.nodes);
	cr_assert_eq(a->params.payload_bytes, b->params.payload_bytes);
	cr_assert_eq(a->params.inflight, b->params.inflight);
	cr_assert_eq(a->params.batch_max, b->params.batch_max);
	cr_assert_eq(a->params.window, b->params.window);
	cr_assert_eq(a->params.frame_bytes, b->params.frame_bytes);
	cr_assert_eq(a->params.duration_s, b->params.duration_s);
	cr_assert_eq(a->params.warmup_s, b->params.warmup_s);
	cr_assert_str_eq(a->params.driver, b->params.driver);
	cr_assert_str_eq(a->params.storage, b->params.storage);
	cr_assert_eq(a->params.durable, b->params.durable);
	cr_assert_str_eq(a->params.loadgen, b->params.loadgen);
	cr_assert_str_eq(a->env.git_rev, b->env.git_rev);
	cr_assert_str_eq(a->env.cpu_model, b->env.cpu_model);
	cr_assert_eq(a->env.lcore_count, b->env.lcore_count);
	cr_assert_str_eq(a->env.hostname, b->env.hostname);
	cr_assert_eq(a->commits, b->commits);
	cr_assert_eq(a->commits_per_sec, b->commits_per_sec);
	cr_assert_eq(a->mb_per_sec, b->mb_per_sec);
	assert_latency_eq(&a->latency_us, &b->latency_us);
	cr_assert_eq(a->frames_per_sec, b->frames_per_sec);
	cr_assert_eq(a->entries_per_frame, b->entries_per_frame);
	cr_assert_eq(a->lcore_busy_count, b->lcore_busy_count);
	for (i = 0; i < a->lcore_busy_count; i++)
		cr_assert_eq(a->lcore_busy_share[i], b->lcore_busy_share[i], "lcore %u", i);
	cr_assert_eq(a->raw_frames_per_sec, b->raw_frames_per_sec);
	cr_assert_eq(a->raft_share, b->raft_share);
	cr_assert_eq(a->udp.measured, b->udp.measured);
	cr_assert_eq(a->udp.commits_per_sec, b->udp.commits_per_sec);
	cr_assert_eq(a->udp.mb_per_sec, b->udp.mb_per_sec);
	assert_latency_eq(&a->udp.latency_us, &b->udp.latency_us);
}

/* Writes r into buf (NUL-terminated) through a memory stream; returns the length. */
static size_t
write_to_buffer(const struct rc_bench_result *r, char *buf, size_t size)
{
	FILE *f = fmemopen(buf, size, "w");
	size_t len;

	cr_assert_not_null(f);
	cr_assert_eq(rc_bench_json_write(f, r), 0);
	len = (size_t)ftell(f);
	fclose(f);
	cr_assert_lt(len, size);
	buf[len] = '\0';
	return len;
}

/* Writes r into a new temporary file whose path goes to path[64]. */
static void
write_to_file(const struct rc_bench_result *r, char *path)
{
	FILE *f;
	int fd;

	snprintf(path, 64, "/tmp/rc-report-test-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	cr_assert_eq(rc_bench_json_write(f, r), 0);
	cr_assert_eq(fclose(f), 0);
}

Test(report, round_trip_of_every_field_through_a_file)
{
	struct rc_bench_result out, in;
	char path[64];

	full_result(&out);
	write_to_file(&out, path);
	memset(&in, 0xa5, sizeof(in));
	cr_assert_eq(rc_bench_json_read(path, &in, err, sizeof(err)), 0, "%s", err);
	unlink(path);
	assert_result_eq(&out, &in);
}

/* Optional figures left at 0 are written as null (or []), and read back as 0. */
Test(report, round_trip_with_nothing_optional_measured)
{
	struct rc_bench_result out, in;
	char text[TEST_DOC_BYTES_MAX];
	size_t len;

	full_result(&out);
	out.raw_frames_per_sec = 0;
	out.raft_share = 0;
	out.lcore_busy_count = 0;
	memset(&out.udp, 0, sizeof(out.udp));
	len = write_to_buffer(&out, text, sizeof(text));
	cr_assert_not_null(strstr(text, "\"raw_frames_per_sec\": null"), "%s", text);
	cr_assert_not_null(strstr(text, "\"raft_share\": null"), "%s", text);
	cr_assert_not_null(strstr(text, "\"udp\": null"), "%s", text);
	cr_assert_not_null(strstr(text, "\"lcore_busy_share\": []"), "%s", text);
	memset(&in, 0xa5, sizeof(in));
	cr_assert_eq(rc_bench_json_parse(text, len, &in, err, sizeof(err)), 0, "%s", err);
	assert_result_eq(&out, &in);
}

/* Strings with bytes that are not UTF-8 are written with U+FFFD, so the output stays valid. */
Test(report, malformed_utf8_in_a_string_is_replaced)
{
	struct rc_bench_result out, in;
	char text[TEST_DOC_BYTES_MAX];
	size_t len;

	full_result(&out);
	snprintf(out.env.cpu_model, sizeof(out.env.cpu_model),
		 "a\xff"
		 "b\xc3");
	len = write_to_buffer(&out, text, sizeof(text));
	cr_assert_not_null(strstr(text, "\"a\\ufffdb\\ufffd\""), "%s", text);
	cr_assert_eq(rc_bench_json_parse(text, len, &in, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(in.env.cpu_model, "a\xef\xbf\xbd"
					   "b\xef\xbf\xbd");
}

/*
 * python3's json module loads the writer's output, and the document's keys, as dotted paths, are
 * exactly the schema's (bench/SCHEMA.md). Skipped where python3 is missing.
 */
Test(report, output_loads_in_python_with_the_documented_keys)
{
	static const char *const want =
		"commits_per_sec\n"
		"env\nenv.cpu_model\nenv.git_rev\nenv.hostname\nenv.lcores\n"
		"latency_us\nlatency_us.max\nlatency_us.mean\nlatency_us.p50\nlatency_us.p90\n"
		"latency_us.p99\nlatency_us.p999\n"
		"mb_per_sec\n"
		"params\nparams.batch_max\nparams.driver\nparams.durable\nparams.duration_s\n"
		"params.frame_bytes\nparams.inflight\nparams.loadgen\nparams.nodes\n"
		"params.payload_bytes\nparams.read_mode\nparams.read_share\nparams.readers\n"
		"params.storage\nparams.warmup_s\nparams.window\nparams.workload\n"
		"read_latency_us\nread_latency_us.max\nread_latency_us.mean\n"
		"read_latency_us.p50\nread_latency_us.p90\nread_latency_us.p99\n"
		"read_latency_us.p999\nreads_per_sec\n"
		"results\nresults.commits\nresults.entries_per_frame\nresults.frames_per_sec\n"
		"results.lcore_busy_share\nresults.raft_share\nresults.raw_frames_per_sec\n"
		"results.sync_latency_us\nresults.sync_latency_us.max\n"
		"results.sync_latency_us.mean\nresults.sync_latency_us.p50\n"
		"results.sync_latency_us.p90\nresults.sync_latency_us.p99\n"
		"results.sync_latency_us.p999\nresults.syncs_per_sec\n"
		"results.udp\nresults.udp.commits_per_sec\nresults.udp.latency_us\n"
		"results.udp.latency_us.max\nresults.udp.latency_us.mean\n"
		"results.udp.latency_us.p50\nresults.udp.latency_us.p90\n"
		"results.udp.latency_us.p99\nresults.udp.latency_us.p999\n"
		"results.udp.mb_per_sec\n"
		"schema_version\n"
		"writes_per_sec\n";
	struct rc_bench_result out;
	char path[64], keys_path[80], cmd[512], got[4096];
	size_t len;
	FILE *f;
	int rc;

	if (system("command -v python3 >/dev/null 2>&1") != 0)
		cr_skip_test("python3 not found");
	full_result(&out);
	write_to_file(&out, path);
	snprintf(keys_path, sizeof(keys_path), "%s.keys", path);
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys\n"
		 "d = json.load(open(sys.argv[1], encoding=\"utf-8\"))\n"
		 "assert d[\"commits_per_sec\"] == 1234567.891 and d[\"schema_version\"] == 1\n"
		 "def walk(o, p):\n"
		 "    for k, v in o.items():\n"
		 "        yield p + k\n"
		 "        if isinstance(v, dict):\n"
		 "            yield from walk(v, p + k + \".\")\n"
		 "print(\"\\n\".join(sorted(walk(d, \"\"))))' %s > %s",
		 path, keys_path);
	rc = system(cmd);
	len = 0;
	f = fopen(keys_path, "r");
	if (f != NULL) {
		len = fread(got, 1, sizeof(got) - 1, f);
		fclose(f);
	}
	got[len] = '\0';
	unlink(keys_path);
	cr_assert_eq(rc, 0, "python3 could not load %s (kept)", path);
	unlink(path);
	cr_assert_str_eq(got, want);
}

/*
 * A minimal valid document with one placeholder "@" where a test splices a fragment in; the
 * fragment's own keys come after the required ones, so a later duplicate is one of them.
 */
static const char doc_head[] = "{\"schema_version\": 1, \"commits_per_sec\": 1000, "
			       "\"mb_per_sec\": 0.064, \"latency_us\": {\"p50\": 10, \"p90\": 20, "
			       "\"p99\": 30, \"p999\": 40, \"max\": 50}";

/* Parses text, which must be refused with an error containing want and an offset. */
static void
assert_refused(const char *text, const char *want)
{
	struct rc_bench_result r, sentinel;

	memset(&r, 0x5a, sizeof(r));
	memcpy(&sentinel, &r, sizeof(r));
	err[0] = '\0';
	cr_assert_eq(rc_bench_json_parse(text, strlen(text), &r, err, sizeof(err)), -1,
		     "accepted: %s", text);
	cr_assert_not_null(strstr(err, want), "document %s\nerror '%s'\nwanted '%s'", text, err,
			   want);
	cr_assert_eq(strncmp(err, "offset ", 7), 0, "error without an offset: %s", err);
	cr_assert_eq(memcmp(&r, &sentinel, sizeof(r)), 0, "a refused parse changed the result");
}

/* Splices extra (", key: value" members) into the minimal document before its closing brace. */
static void
assert_refused_with(const char *extra, const char *want)
{
	char text[TEST_DOC_BYTES_MAX];

	snprintf(text, sizeof(text), "%s%s}", doc_head, extra);
	assert_refused(text, want);
}

Test(report, minimal_document_is_accepted)
{
	struct rc_bench_result r;
	char text[TEST_DOC_BYTES_MAX];

	snprintf(text, sizeof(text), "%s}", doc_head);
	cr_assert_eq(rc_bench_json_parse(text, strlen(text), &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.commits_per_sec, 1000);
	cr_assert_eq(r.latency_us.p99, 30);
	cr_assert_eq(r.latency_us.mean, 0);
	cr_assert_eq(r.params.nodes, 0);
	cr_assert_eq(r.udp.measured, false);
	/* Unknown keys are ignored; escapes and whitespace are fine. */
	snprintf(text, sizeof(text),
		 " \r\n\t%s, \"future\": [1, {\"x\": null}], \"params\": {\"driver\": "
		 "\"n\\u0065t_\\/ring\\ud83d\\ude80\", \"nodes\": 3, \"durable\": false}} \n",
		 doc_head);
	cr_assert_eq(rc_bench_json_parse(text, strlen(text), &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(r.params.driver, "net_/ring\xf0\x9f\x9a\x80");
	cr_assert_eq(r.params.nodes, 3);
}

Test(report, syntax_errors_are_refused_with_their_offset)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{ "", "offset 0 (line 1, column 1): expected a value, found end of input" },
		{ "   ", "offset 3 (line 1, column 4): expected a value, found end of input" },
		{ "{", "expected a string key, found end of input" },
		{ "{\"a\" 1}", "offset 5 (line 1, column 6): expected ':' after a key, found '1'" },
		{ "{\"a\": 1,}", "expected a string key, found '}'" },
		{ "{\"a\": 1 \"b\": 2}", "expected ',' or '}' after an object member, found '\"'" },
		{ "{'a': 1}", "expected a string key, found '''" },
		{ "{\"a\": [1, 2,]}",
		  "offset 12 (line 1, column 13): expected a value, found ']'" },
		{ "{\"a\": [1 2]}", "expected ',' or ']' after an array element, found '2'" },
		{ "{\"a\": 1} // c", "offset 9 (line 1, column 10): trailing characters" },
		{ "{\"a\": 1}\n\n}", "offset 10 (line 3, column 1): trailing characters" },
		{ "{\"a\": 01}", "number with a leading zero" },
		{ "{\"a\": 1.}", "expected a digit after the decimal point" },
		{ "{\"a\": .5}", "expected a value, found '.'" },
		{ "{\"a\": +1}", "expected a value, found '+'" },
		{ "{\"a\": -}", "expected a digit in a number" },
		{ "{\"a\": 1e}", "expected a digit in the exponent" },
		{ "{\"a\": 1e999}", "out of the range of a double" },
		{ "{\"a\": NaN}", "expected a value, found 'N'" },
		{ "{\"a\": Infinity}", "expected a value, found 'I'" },
		{ "{\"a\": tru}", "invalid literal (expected true)" },
		{ "{\"a\": nul}", "invalid literal (expected null)" },
		{ "{\"a\": \"x}", "string not closed before the end of input" },
		{ "{\"a\": \"\\x\"}", "offset 7 (line 1, column 8): invalid escape" },
		{ "{\"a\": \"\\u12g4\"}", "expected four hex digits after \\u" },
		{ "{\"a\": \"\\udc00\"}", "low surrogate \\udc00 without a high one" },
		{ "{\"a\": \"\\ud800x\"}", "high surrogate \\ud800 without a low one" },
		{ "{\"a\": \"\\ud800\\u0041\"}", "high surrogate \\ud800 without a low one" },
		{ "{\"a\": \"tab\there\"}", "control character 0x09 inside a string" },
		{ "{\"a\": \"\xc0\x80\"}", "offset 7 (line 1, column 8): invalid UTF-8" },
		{ "{\"a\": \"\xed\xa0\x80\"}", "invalid UTF-8" },
		{ "{\"a\": \"\xf4\x90\x80\x80\"}", "invalid UTF-8" },
		{ "{\"a\": \"\xe2\x82\"}", "invalid UTF-8" },
		{ "{\"a\": \"\xff\"}", "invalid UTF-8" },
		{ "{\"a\": \x01}", "expected a value, found byte 0x01" },
		{ "\xef\xbb\xbf{}", "expected a value, found byte 0xef" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_refused(cases[i].text, cases[i].want);
}

Test(report, nesting_deeper_than_the_bound_is_refused)
{
	char text[256];
	uint32_t i;

	/* RC_BENCH_JSON_DEPTH_MAX levels parse (as an unknown key); one more does not. */
	for (i = 0; i < 2; i++) {
		uint32_t depth = RC_BENCH_JSON_DEPTH_MAX - 1 + i, d, n;

		n = (uint32_t)snprintf(text, sizeof(text), "%s, \"deep\": ", doc_head);
		for (d = 0; d < depth; d++)
			text[n++] = '[';
		for (d = 0; d < depth; d++)
			text[n++] = ']';
		text[n++] = '}';
		text[n] = '\0';
		if (i == 0)
			cr_assert_eq(rc_bench_json_parse(text, n, &(struct rc_bench_result){ 0 },
							 err, sizeof(err)),
				     0, "%s", err);
		else
			assert_refused(text, "nested deeper than");
	}
}

Test(report, wrong_types_are_refused_naming_the_key)
{
	static const struct {
		const char *extra;
		const char *want;
	} cases[] = {
		{ ", \"params\": []", "params: expected an object, found an array" },
		{ ", \"params\": {\"nodes\": \"3\"}",
		  "params.nodes: expected an integer, found a string" },
		{ ", \"params\": {\"nodes\": -3}",
		  "params.nodes: expected a non-negative integer" },
		{ ", \"params\": {\"nodes\": 1.5}",
		  "params.nodes: expected a non-negative integer" },
		{ ", \"params\": {\"nodes\": 3e0}",
		  "params.nodes: expected a non-negative integer" },
		{ ", \"params\": {\"nodes\": 4294967296}",
		  "params.nodes: 4294967296 is larger than 4294967295" },
		{ ", \"results\": {\"commits\": 18446744073709551616}", "results.commits: " },
		{ ", \"params\": {\"durable\": 1}", "params.durable: expected true or false" },
		{ ", \"params\": {\"driver\": 5}",
		  "params.driver: expected a string, found a number" },
		{ ", \"params\": {\"driver\": \"a\\u0000b\"}",
		  "params.driver: string contains a NUL" },
		{ ", \"params\": {\"duration_s\": \"10\"}",
		  "params.duration_s: expected a number, found a string" },
		{ ", \"env\": {\"hostname\": "
		  "\"0123456789012345678901234567890123456789012345678901234567890123"
		  "0123456789012345678901234567890123456789012345678901234567890123\"}",
		  "env.hostname: string longer than 127 bytes" },
		{ ", \"results\": {\"lcore_busy_share\": {}}",
		  "results.lcore_busy_share: expected an array, found an object" },
		{ ", \"results\": {\"lcore_busy_share\": [0.5, \"x\"]}",
		  "results.lcore_busy_share[1]: expected a number, found a string" },
		{ ", \"results\": {\"lcore_busy_share\": [0.5, null]}",
		  "results.lcore_busy_share[1]: expected a number, found null" },
		{ ", \"results\": {\"raft_share\": true}",
		  "results.raft_share: expected a number, found a boolean" },
		{ ", \"results\": {\"udp\": 3}",
		  "results.udp: expected an object, found a number" },
		{ ", \"results\": {\"udp\": {\"commits_per_sec\": 1, \"mb_per_sec\": 1}}",
		  "missing key \"results.udp.latency_us\"" },
		{ ", \"commits_per_sec\": 5", "commits_per_sec: duplicate key" },
		{ ", \"params\": {}, \"params\": {}", "params: duplicate key" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_refused_with(cases[i].extra, cases[i].want);
}

/* RC_BENCH_LCORES_MAX busy shares are taken, one more is not. */
Test(report, more_busy_shares_than_lcores_are_refused)
{
	char extra[1024], text[TEST_DOC_BYTES_MAX];
	struct rc_bench_result r;
	uint32_t i;
	size_t n;

	n = (size_t)snprintf(extra, sizeof(extra), ", \"results\": {\"lcore_busy_share\": [0");
	for (i = 1; i < RC_BENCH_LCORES_MAX; i++)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, ", 0.5");
	snprintf(text, sizeof(text), "%s%s]}}", doc_head, extra);
	cr_assert_eq(rc_bench_json_parse(text, strlen(text), &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.lcore_busy_count, RC_BENCH_LCORES_MAX);
	cr_assert_eq(r.lcore_busy_share[RC_BENCH_LCORES_MAX - 1], 0.5);
	snprintf(extra + n, sizeof(extra) - n, ", 0.5]}");
	assert_refused_with(extra, "results.lcore_busy_share: 65 elements, more than 64");
}

Test(report, required_numbers_refuse_null_and_strings)
{
	assert_refused(
		"{\"schema_version\": 1, \"commits_per_sec\": null, \"mb_per_sec\": 1, "
		"\"latency_us\": {\"p50\": 1, \"p90\": 1, \"p99\": 1, \"p999\": 1, \"max\": 1}}",
		"commits_per_sec: expected a number, found null");
	assert_refused(
		"{\"schema_version\": 1, \"commits_per_sec\": 1, \"mb_per_sec\": 1, "
		"\"latency_us\": {\"p50\": 1, \"p90\": 1, \"p99\": \"1\", \"p999\": 1, "
		"\"max\": 1}}",
		"offset 103 (line 1, column 104): latency_us.p99: expected a number, found a "
		"string");
	assert_refused("{\"schema_version\": 1, \"commits_per_sec\": 1, \"mb_per_sec\": 1, "
		       "\"latency_us\": [1, 2, 3, 4, 5]}",
		       "latency_us: expected an object, found an array");
	assert_refused("[]", "top level: expected an object, found an array");
	assert_refused("{\"schema_version\": 2, \"commits_per_sec\": 1}",
		       "schema_version: version 2, this reader knows 1");
	assert_refused("{\"schema_version\": \"1\"}", "schema_version: expected an integer");
}

/* Removing any one required key from the writer's own output makes the reader refuse it. */
Test(report, each_required_key_missing_is_named)
{
	static const struct {
		const char *key;  /* as written, with its quotes and colon */
		const char *path; /* as the message names it */
	} required[] = {
		{ "\"schema_version\": ", "schema_version" },
		{ "\"commits_per_sec\": ", "commits_per_sec" },
		{ "\"mb_per_sec\": ", "mb_per_sec" },
		{ "\"latency_us\": ", "latency_us" },
		{ "\"p50\": ", "latency_us.p50" },
		{ "\"p90\": ", "latency_us.p90" },
		{ "\"p99\": ", "latency_us.p99" },
		{ "\"p999\": ", "latency_us.p999" },
		{ "\"max\": ", "latency_us.max" },
	};
	struct rc_bench_result out;
	char text[TEST_DOC_BYTES_MAX], cut[TEST_DOC_BYTES_MAX], want[64], renamed[32];
	char *at;
	size_t i;

	full_result(&out);
	out.udp.measured = false; /* so that the first "p50" is the top-level one */
	write_to_buffer(&out, text, sizeof(text));
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		/* Rename the key's first occurrence ("p99" -> "xp99"): the member is gone. */
		memcpy(cut, text, sizeof(text));
		at = strstr(cut, required[i].key);
		cr_assert_not_null(at, "%s not written", required[i].key);
		snprintf(renamed, sizeof(renamed), "\"x%s", required[i].key + 1);
		memmove(at + 1, at, strlen(at) + 1);
		memcpy(at, renamed, strlen(renamed));
		snprintf(want, sizeof(want), "missing key \"%s\"", required[i].path);
		assert_refused(cut, want);
	}
}

/* Every proper prefix of a document is refused; the whole of it (final newline or not) is not. */
Test(report, truncated_at_every_length)
{
	struct rc_bench_result out, in;
	char text[TEST_DOC_BYTES_MAX];
	size_t len, cut;

	full_result(&out);
	len = write_to_buffer(&out, text, sizeof(text));
	cr_assert_eq(text[len - 1], '\n');
	cr_assert_eq(text[len - 2], '}');
	for (cut = 0; cut < len - 1; cut++) {
		cr_assert_eq(rc_bench_json_parse(text, cut, &in, err, sizeof(err)), -1,
			     "prefix of %zu bytes accepted", cut);
		cr_assert_eq(strncmp(err, "offset ", 7), 0, "%s", err);
	}
	cr_assert_eq(rc_bench_json_parse(text, len - 1, &in, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(rc_bench_json_parse(text, len, &in, err, sizeof(err)), 0, "%s", err);
}

/*
 * A million random mutations (byte flips, insertions of JSON punctuation, cuts) of a valid
 * document, each parsed from the end of a page followed by an inaccessible one: the parser never
 * reads past the end, never crashes, and either accepts or explains.
 */
Test(report, mutated_documents_never_crash_the_reader)
{
	static const char punct[] = "{}[]:,\"\\-0123456789.eE+tfnul \n\x80\xc3\xff";
	struct rc_bench_result out, in;
	char text[TEST_DOC_BYTES_MAX], *page, *doc;
	long page_bytes = sysconf(_SC_PAGESIZE);
	size_t len, mlen, area, k, flips;
	struct rc_prng p;
	uint32_t i;

	full_result(&out);
	len = write_to_buffer(&out, text, sizeof(text));
	area = ((len + 64) / (size_t)page_bytes + 1) * (size_t)page_bytes;
	page = mmap(NULL, area + (size_t)page_bytes, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(page, MAP_FAILED);
	cr_assert_eq(mprotect(page + area, (size_t)page_bytes, PROT_NONE), 0);
	rc_prng_seed(&p, 42);
	for (i = 0; i < 200000; i++) {
		mlen = len;
		if (rc_prng_below(&p, 4) == 0)
			mlen = rc_prng_below(&p, len + 1);
		doc = page + area - mlen;
		memcpy(doc, text, mlen);
		flips = 1 + rc_prng_below(&p, 3);
		for (k = 0; k < flips && mlen > 0; k++) {
			if (rc_prng_below(&p, 2) == 0)
				doc[rc_prng_below(&p, mlen)] = (char)rc_prng_next(&p);
			else
				doc[rc_prng_below(&p, mlen)] =
					punct[rc_prng_below(&p, sizeof(punct) - 1)];
		}
		err[0] = '\0';
		if (rc_bench_json_parse(doc, mlen, &in, err, sizeof(err)) != 0)
			cr_assert_eq(strncmp(err, "offset ", 7), 0, "no message: '%s'", err);
	}
	munmap(page, area + (size_t)page_bytes);
}

Test(report, read_names_the_path_of_a_missing_file)
{
	struct rc_bench_result r;

	cr_assert_eq(rc_bench_json_read("/nonexistent/rc-bench.json", &r, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "/nonexistent/rc-bench.json: No such file or directory");
}

Test(report, read_names_the_path_and_offset_of_a_bad_file)
{
	struct rc_bench_result r;
	char path[64], want[256];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/rc-report-test-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	fputs("{\"schema_version\": 1,\n \"commits_per_sec\": 12,,\n}", f);
	fclose(f);
	cr_assert_eq(rc_bench_json_read(path, &r, err, sizeof(err)), -1);
	unlink(path);
	snprintf(want, sizeof(want),
		 "%s: offset 45 (line 2, column 24): expected a string key, "
		 "found ','",
		 path);
	cr_assert_str_eq(err, want);
}

Test(report, read_refuses_a_file_over_the_size_bound)
{
	struct rc_bench_result r;
	char path[64];
	FILE *f;
	size_t i;
	int fd;

	snprintf(path, sizeof(path), "/tmp/rc-report-test-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	fputs("{\"pad\": \"", f);
	for (i = 0; i < RC_BENCH_JSON_BYTES_MAX; i++)
		fputc('x', f);
	fputs("\"}", f);
	fclose(f);
	cr_assert_eq(rc_bench_json_read(path, &r, err, sizeof(err)), -1);
	unlink(path);
	cr_assert_not_null(strstr(err, "larger than the 1048576 bytes"), "%s", err);
}

/* Runs the compare into a string; returns its verdict. */
static int
compare_to_string(const struct rc_bench_result *base, const struct rc_bench_result *cur,
		  double tolerance_pct, char *buf, size_t size)
{
	FILE *f = fmemopen(buf, size, "w");
	int rc;

	cr_assert_not_null(f);
	rc = rc_bench_compare(base, cur, tolerance_pct, f);
	fputc('\0', f);
	fclose(f);
	return rc;
}

Test(report, compare_flags_a_throughput_regression)
{
	struct rc_bench_result base, cur;
	char out[4096];

	full_result(&base);
	full_result(&cur);
	cur.commits_per_sec = base.commits_per_sec * 0.90;
	cr_assert_eq(compare_to_string(&base, &cur, 5.0, out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "-10.00%  REGRESSION"), "%s", out);
	cr_assert_not_null(strstr(out, "compare: REGRESSION"), "%s", out);
	/* The same drop within a wider tolerance passes. */
	cr_assert_eq(compare_to_string(&base, &cur, 10.5, out, sizeof(out)), 0, "%s", out);
}

Test(report, compare_flags_a_p99_regression)
{
	struct rc_bench_result base, cur;
	char out[4096];

	full_result(&base);
	full_result(&cur);
	cur.latency_us.p99 = base.latency_us.p99 * 1.06;
	cr_assert_eq(compare_to_string(&base, &cur, 5.0, out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "+6.00%  REGRESSION"), "%s", out);
	/* Other latencies, however bad, do not gate. */
	cur.latency_us.p99 = base.latency_us.p99;
	cur.latency_us.max = base.latency_us.max * 3;
	cur.latency_us.p50 = base.latency_us.p50 * 3;
	cr_assert_eq(compare_to_string(&base, &cur, 5.0, out, sizeof(out)), 0, "%s", out);
	cr_assert_null(strstr(out, "REGRESSION"), "%s", out);
}

Test(report, compare_passes_within_tolerance_and_on_improvement)
{
	struct rc_bench_result base, cur;
	char out[4096];

	full_result(&base);
	full_result(&cur);
	cr_assert_eq(compare_to_string(&base, &cur, 0.0, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "compare: ok"), "%s", out);
	cur.commits_per_sec = base.commits_per_sec * 0.951;
	cur.latency_us.p99 = base.latency_us.p99 * 1.049;
	cr_assert_eq(compare_to_string(&base, &cur, 5.0, out, sizeof(out)), 0, "%s", out);
	cur.commits_per_sec = base.commits_per_sec * 2;
	cur.latency_us.p99 = base.latency_us.p99 / 2;
	cr_assert_eq(compare_to_string(&base, &cur, 0.0, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "+100.00%"), "%s", out);
	cr_assert_not_null(strstr(out, "-50.00%"), "%s", out);
}

Test(report, compare_notes_parameters_that_differ)
{
	struct rc_bench_result base, cur;
	char out[4096];

	full_result(&base);
	full_result(&cur);
	cur.params.payload_bytes = 64;
	snprintf(cur.params.driver, sizeof(cur.params.driver), "udp");
	cr_assert_eq(compare_to_string(&base, &cur, 5.0, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "note: params.payload_bytes differs: 4096 -> 64"), "%s",
			   out);
	cr_assert_not_null(strstr(out, "note: params.driver differs: \"net_ring\" -> \"udp\""),
			   "%s", out);
	cr_assert_null(strstr(out, "params.nodes"), "%s", out);
}

/* A baseline without a p99 (0) flags any p99; one without throughput flags nothing on it. */
Test(report, compare_against_zero_baselines)
{
	struct rc_bench_result base, cur;
	char out[4096];

	full_result(&base);
	full_result(&cur);
	base.commits_per_sec = 0;
	cr_assert_eq(compare_to_string(&base, &cur, 5.0, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "n/a"), "%s", out);
	base.latency_us.p99 = 0;
	cr_assert_eq(compare_to_string(&base, &cur, 5.0, out, sizeof(out)), 1, "%s", out);
}

Test(report, compare_with_a_negative_tolerance_aborts, .signal = SIGABRT)
{
	struct rc_bench_result r;

	full_result(&r);
	rc_bench_compare(&r, &r, -1.0, stderr);
}

/* The result's latencies are the histogram's figures in microseconds. */
Test(report, latency_from_a_histogram)
{
	static struct rc_hist h;
	struct rc_bench_result r;
	uint64_t v;

	memset(&r, 0, sizeof(r));
	rc_hist_reset(&h);
	for (v = 1; v <= 100000; v++)
		rc_hist_record(&h, v * 100); /* 0.1 us .. 10 ms */
	rc_bench_result_set_latency(&r, &h);
	cr_assert_eq(r.latency_us.p50, (double)rc_hist_percentile(&h, 50.0) / 1e3);
	cr_assert_eq(r.latency_us.p999, (double)rc_hist_percentile(&h, 99.9) / 1e3);
	cr_assert_eq(r.latency_us.max, 10000.0);
	cr_assert_leq(fabs(r.latency_us.p99 / 9900.0 - 1.0), 0.01);
	cr_assert_leq(fabs(r.latency_us.p90 / 9000.0 - 1.0), 0.01);
	cr_assert_leq(fabs(r.latency_us.mean - 5000.05), 1e-6);
	rc_hist_reset(&h);
	rc_bench_result_set_latency(&r, &h);
	cr_assert_eq(r.latency_us.p99, 0.0);
	cr_assert_eq(r.latency_us.max, 0.0);
}

Test(report, env_probe_names_the_host_and_cpu)
{
	struct rc_bench_env env;
	char host[256] = "";

	memset(&env, 0x5a, sizeof(env));
	rc_bench_env_probe(&env);
	cr_assert_lt(strlen(env.cpu_model), RC_BENCH_STR_BYTES);
	cr_assert_gt(strlen(env.cpu_model), 0);
	cr_assert_eq(gethostname(host, sizeof(host) - 1), 0);
	cr_assert_str_eq(env.hostname, host);
}
