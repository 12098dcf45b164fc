/*
 * rc-bench results: the schema table that drives the JSON writer and reader, a strict
 * recursive-descent JSON parser, and the compare of a run against a baseline.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <replicore/assert.h>

#include "report.h"

/* ---- The schema: one table for the writer, the reader and the compare ---------------------- */

enum schema_kind {
	SCHEMA_VERSION,	    /* an integer, which must be RC_BENCH_SCHEMA_VERSION (nothing stored) */
	SCHEMA_U32,	    /* a non-negative integer below 2^32, into uint32_t */
	SCHEMA_U64,	    /* a non-negative integer below 2^64, into uint64_t */
	SCHEMA_NUM,	    /* a number, into double */
	SCHEMA_NUM_OPT,	    /* as SCHEMA_NUM, but 0 ("not measured") is written as null */
	SCHEMA_BOOL,	    /* true or false, into bool */
	SCHEMA_STR,	    /* a string without NUL, shorter than RC_BENCH_STR_BYTES, into char[] */
	SCHEMA_OBJ,	    /* an object; its fields' offsets count from this field's offset */
	SCHEMA_OBJ_OR_NULL, /* as SCHEMA_OBJ, or null when the bool at aux_offset is false */
	SCHEMA_SHARES, /* an array of numbers into double[RC_BENCH_LCORES_MAX]; the count is the
			     * uint32_t at aux_offset */
};

struct schema_field {
	const char *key; /* NULL ends a table */
	enum schema_kind kind;
	bool required; /* the reader refuses a file without it; an optional number may be null */
	size_t offset; /* of the value, from the base of the enclosing object's struct */
	size_t aux_offset;
	const struct schema_field *fields; /* SCHEMA_OBJ, SCHEMA_OBJ_OR_NULL: the members */
};

#define SCHEMA_FIELD(key, kind, required, type, member)                                            \
	{                                                                                          \
		(key), (kind), (required), offsetof(type, member), 0, NULL                         \
	}
#define SCHEMA_END                                                                                 \
	{                                                                                          \
		NULL, SCHEMA_VERSION, false, 0, 0, NULL                                            \
	}

static const struct schema_field schema_latency[] = {
	SCHEMA_FIELD("p50", SCHEMA_NUM, true, struct rc_bench_latency_us, p50),
	SCHEMA_FIELD("p90", SCHEMA_NUM, true, struct rc_bench_latency_us, p90),
	SCHEMA_FIELD("p99", SCHEMA_NUM, true, struct rc_bench_latency_us, p99),
	SCHEMA_FIELD("p999", SCHEMA_NUM, true, struct rc_bench_latency_us, p999),
	SCHEMA_FIELD("max", SCHEMA_NUM, true, struct rc_bench_latency_us, max),
	SCHEMA_FIELD("mean", SCHEMA_NUM, false, struct rc_bench_latency_us, mean),
	SCHEMA_END,
};

static const struct schema_field schema_params[] = {
	SCHEMA_FIELD("nodes", SCHEMA_U32, false, struct rc_bench_params, nodes),
	SCHEMA_FIELD("payload_bytes", SCHEMA_U32, false, struct rc_bench_params, payload_bytes),
	SCHEMA_FIELD("inflight", SCHEMA_U32, false, struct rc_bench_params, inflight),
	SCHEMA_FIELD("batch_max", SCHEMA_U32, false, struct rc_bench_params, batch_max),
	SCHEMA_FIELD("window", SCHEMA_U32, false, struct rc_bench_params, window),
	SCHEMA_FIELD("frame_bytes", SCHEMA_U32, false, struct rc_bench_params, frame_bytes),
	SCHEMA_FIELD("duration_s", SCHEMA_NUM, false, struct rc_bench_params, duration_s),
	SCHEMA_FIELD("warmup_s", SCHEMA_NUM, false, struct rc_bench_params, warmup_s),
	SCHEMA_FIELD("driver", SCHEMA_STR, false, struct rc_bench_params, driver),
	SCHEMA_FIELD("storage", SCHEMA_STR, false, struct rc_bench_params, storage),
	SCHEMA_FIELD("durable", SCHEMA_BOOL, false, struct rc_bench_params, durable),
	SCHEMA_FIELD("loadgen", SCHEMA_STR, false, struct rc_bench_params, loadgen),
	SCHEMA_FIELD("workload", SCHEMA_STR, false, struct rc_bench_params, workload),
	SCHEMA_FIELD("read_mode", SCHEMA_STR, false, struct rc_bench_params, read_mode),
	SCHEMA_FIELD("readers", SCHEMA_U32, false, struct rc_bench_params, readers),
	SCHEMA_FIELD("read_share", SCHEMA_NUM, false, struct rc_bench_params, read_share),
	SCHEMA_END,
};

static const struct schema_field schema_env[] = {
	SCHEMA_FIELD("git_rev", SCHEMA_STR, false, struct rc_bench_env, git_rev),
	SCHEMA_FIELD("cpu_model", SCHEMA_STR, false, struct rc_bench_env, cpu_model),
	SCHEMA_FIELD("lcores", SCHEMA_U32, false, struct rc_bench_env, lcore_count),
	SCHEMA_FIELD("hostname", SCHEMA_STR, false, struct rc_bench_env, hostname),
	SCHEMA_END,
};

static const struct schema_field schema_udp[] = {
	SCHEMA_FIELD("commits_per_sec", SCHEMA_NUM, true, struct rc_bench_udp, commits_per_sec),
	SCHEMA_FIELD("mb_per_sec", SCHEMA_NUM, true, struct rc_bench_udp, mb_per_sec),
	{ "latency_us", SCHEMA_OBJ, true, offsetof(struct rc_bench_udp, latency_us), 0,
	  schema_latency },
	SCHEMA_END,
};

/* "results" is a JSON object of its own, but its fields live in struct rc_bench_result itself. */
static const struct schema_field schema_results[] = {
	SCHEMA_FIELD("commits", SCHEMA_U64, false, struct rc_bench_result, commits),
	SCHEMA_FIELD("frames_per_sec", SCHEMA_NUM, false, struct rc_bench_result, frames_per_sec),
	SCHEMA_FIELD("entries_per_frame", SCHEMA_NUM, false, struct rc_bench_result,
		     entries_per_frame),
	{ "lcore_busy_share", SCHEMA_SHARES, false,
	  offsetof(struct rc_bench_result, lcore_busy_share),
	  offsetof(struct rc_bench_result, lcore_busy_count), NULL },
	SCHEMA_FIELD("raw_frames_per_sec", SCHEMA_NUM_OPT, false, struct rc_bench_result,
		     raw_frames_per_sec),
	SCHEMA_FIELD("raft_share", SCHEMA_NUM_OPT, false, struct rc_bench_result, raft_share),
	{ "udp", SCHEMA_OBJ_OR_NULL, false, offsetof(struct rc_bench_result, udp),
	  offsetof(struct rc_bench_result, udp.measured), schema_udp },
	SCHEMA_FIELD("syncs_per_sec", SCHEMA_NUM_OPT, false, struct rc_bench_result, syncs_per_sec),
	{ "sync_latency_us", SCHEMA_OBJ_OR_NULL, false,
	  offsetof(struct rc_bench_result, sync_latency_us),
	  offsetof(struct rc_bench_result, syncs_measured), schema_latency },
	SCHEMA_END,
};

static const struct schema_field schema_top[] = {
	{ "schema_version", SCHEMA_VERSION, true, 0, 0, NULL },
	SCHEMA_FIELD("commits_per_sec", SCHEMA_NUM, true, struct rc_bench_result, commits_per_sec),
	SCHEMA_FIELD("mb_per_sec", SCHEMA_NUM, true, struct rc_bench_result, mb_per_sec),
	{ "latency_us", SCHEMA_OBJ, true, offsetof(struct rc_bench_result, latency_us), 0,
	  schema_latency },
	SCHEMA_FIELD("reads_per_sec", SCHEMA_NUM_OPT, false, struct rc_bench_result, reads_per_sec),
	SCHEMA_FIELD("writes_per_sec", SCHEMA_NUM_OPT, false, struct rc_bench_result,
		     writes_per_sec),
	{ "read_latency_us", SCHEMA_OBJ_OR_NULL, false,
	  offsetof(struct rc_bench_result, read_latency_us),
	  offsetof(struct rc_bench_result, reads_measured), schema_latency },
	{ "params", SCHEMA_OBJ, false, offsetof(struct rc_bench_result, params), 0, schema_params },
	{ "env", SCHEMA_OBJ, false, offsetof(struct rc_bench_result, env), 0, schema_env },
	{ "results", SCHEMA_OBJ, false, 0, 0, schema_results },
	SCHEMA_END,
};

/* Copies src into dst[size], cut to size - 1 bytes, always NUL-terminated. */
static void
str_copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	RC_ASSERT(size > 0);
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Joins a parent path and a key with a dot ("params" + "nodes" -> "params.nodes"). */
static void
schema_path(char *dst, size_t size, const char *parent, const char *key)
{
	if (parent[0] == '\0')
		snprintf(dst, size, "%s", key);
	else
		snprintf(dst, size, "%s.%s", parent, key);
}

/* ---- Measurements ------------------------------------------------------------------------- */

/* Converts the histogram's nanosecond figures into r's microsecond latencies. */
void
rc_bench_result_set_latency(struct rc_bench_result *r, const struct rc_hist *h)
{
	rc_bench_latency_from_hist(&r->latency_us, h);
}

/* Converts a histogram of nanoseconds into microsecond percentiles. */
void
rc_bench_latency_from_hist(struct rc_bench_latency_us *l, const struct rc_hist *h)
{
	l->p50 = (double)rc_hist_percentile(h, 50.0) / 1e3;
	l->p90 = (double)rc_hist_percentile(h, 90.0) / 1e3;
	l->p99 = (double)rc_hist_percentile(h, 99.0) / 1e3;
	l->p999 = (double)rc_hist_percentile(h, 99.9) / 1e3;
	l->max = (double)rc_hist_max(h) / 1e3;
	l->mean = rc_hist_mean(h) / 1e3;
}

/* Reads the first "model name" line of /proc/cpuinfo, then the host name. */
void
rc_bench_env_probe(struct rc_bench_env *env)
{
	char line[512], *value;
	FILE *f;

	str_copy(env->cpu_model, sizeof(env->cpu_model), "unknown");
	f = fopen("/proc/cpuinfo", "r");
	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			if (strncmp(line, "model name", 10) != 0 || strchr(line, ':') == NULL)
				continue;
			value = strchr(line, ':') + 1;
			value += strspn(value, " \t");
			value[strcspn(value, "\n")] = '\0';
			if (value[0] != '\0')
				str_copy(env->cpu_model, sizeof(env->cpu_model), value);
			break;
		}
		fclose(f);
	}
	if (gethostname(line, sizeof(line)) != 0)
		str_copy(line, sizeof(line), "unknown");
	line[sizeof(line) - 1] = '\0';
	str_copy(env->hostname, sizeof(env->hostname), line);
}

/* ---- UTF-8 ------------------------------------------------------------------------------- */

/*
 * Returns the length (2 to 4) of the well-formed UTF-8 sequence of a code point above U+007F at
 * s, of which avail bytes are readable, or 0 when the bytes are not one (a stray continuation
 * byte, an overlong form, a surrogate, a code point above U+10FFFF, or a cut sequence).
 */
static size_t
utf8_sequence_len(const unsigned char *s, size_t avail)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0; /* overlong below U+0800 */
		else if (s[0] == 0xed)
			hi = 0x9f; /* surrogates U+D800..U+DFFF */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90; /* overlong below U+10000 */
		else if (s[0] == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (avail < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* Writes code point cp (at most U+10FFFF, not a surrogate) as UTF-8 at dst; returns the bytes. */
static size_t
utf8_encode(uint32_t cp, char *dst)
{
	RC_ASSERT(cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff));
	if (cp < 0x80) {
		dst[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		dst[0] = (char)(0xc0 | (cp >> 6));
		dst[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		dst[0] = (char)(0xe0 | (cp >> 12));
		dst[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		dst[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	dst[0] = (char)(0xf0 | (cp >> 18));
	dst[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	dst[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	dst[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* ---- Writer ------------------------------------------------------------------------------ */

/* Copies the UTF-8 sequence at p, or writes U+FFFD for its first byte when it is malformed. */
static size_t
json_write_utf8(FILE *f, const unsigned char *p, size_t avail)
{
	size_t n = utf8_sequence_len(p, avail);

	if (n == 0) {
		fputs("\\ufffd", f);
		return 1;
	}
	fwrite(p, 1, n, f);
	return n;
}

/*
 * Writes s as a JSON string: quotes, backslashes and control characters escaped, well-formed
 * UTF-8 copied, and each byte of malformed UTF-8 replaced by U+FFFD so the output stays valid.
 */
static void
json_write_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t avail = strlen(s), n;

	fputc('"', f);
	while (avail > 0) {
		n = 1;
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p == '\r')
			fputs("\\r", f);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else if (*p < 0x80)
			fputc(*p, f);
		else
			n = json_write_utf8(f, p, avail);
		p += n;
		avail -= n;
	}
	fputc('"', f);
}

/*
 * Writes v with the fewest significant digits (15 to 17) that read back as the same double, so
 * a round trip is exact; a non-finite v (not JSON) is written as null.
 */
static void
json_write_number(FILE *f, double v)
{
	char buf[40];
	int digits;

	if (!isfinite(v)) {
		fputs("null", f);
		return;
	}
	for (digits = 15; digits <= 17; digits++) {
		snprintf(buf, sizeof(buf), "%.*g", digits, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fputs(buf, f);
}

static void json_write_object(FILE *f, const struct schema_field *fields, const char *base,
			      unsigned int indent);

/* Writes the value of one schema field, read from base + field->offset. */
static void
json_write_value(FILE *f, const struct schema_field *field, const char *base, unsigned int indent)
{
	const char *at = base + field->offset;
	uint32_t i, count;
	double v;

	switch (field->kind) {
	case SCHEMA_VERSION:
		fprintf(f, "%u", RC_BENCH_SCHEMA_VERSION);
		break;
	case SCHEMA_U32:
		fprintf(f, "%" PRIu32, *(const uint32_t *)at);
		break;
	case SCHEMA_U64:
		fprintf(f, "%" PRIu64, *(const uint64_t *)at);
		break;
	case SCHEMA_NUM:
	case SCHEMA_NUM_OPT:
		v = *(const double *)at;
		if (field->kind == SCHEMA_NUM_OPT && v == 0.0)
			fputs("null", f);
		else
			json_write_number(f, v);
		break;
	case SCHEMA_BOOL:
		fputs(*(const bool *)at ? "true" : "false", f);
		break;
	case SCHEMA_STR:
		json_write_string(f, at);
		break;
	case SCHEMA_OBJ:
		json_write_object(f, field->fields, at, indent);
		break;
	case SCHEMA_OBJ_OR_NULL:
		if (*(const bool *)(base + field->aux_offset))
			json_write_object(f, field->fields, at, indent);
		else
			fputs("null", f);
		break;
	case SCHEMA_SHARES:
		count = *(const uint32_t *)(base + field->aux_offset);
		RC_ASSERT(count <= RC_BENCH_LCORES_MAX);
		fputc('[', f);
		for (i = 0; i < count; i++) {
			if (i > 0)
				fputs(", ", f);
			json_write_number(f, ((const double *)at)[i]);
		}
		fputc(']', f);
		break;
	}
}

/* Writes the members of fields as a JSON object, one per line, indented by indent levels. */
static void
json_write_object(FILE *f, const struct schema_field *fields, const char *base, unsigned int indent)
{
	const struct schema_field *field;

	fputs("{\n", f);
	for (field = fields; field->key != NULL; field++) {
		fprintf(f, "%*s\"%s\": ", (int)(2 * (indent + 1)), "", field->key);
		json_write_value(f, field, base, indent + 1);
		fputs(field[1].key != NULL ? ",\n" : "\n", f);
	}
	fprintf(f, "%*s}", (int)(2 * indent), "");
}

/* Writes the top-level object, then a newline; reports the stream's error state. */
int
rc_bench_json_write(FILE *f, const struct rc_bench_result *r)
{
	RC_ASSERT(r->lcore_busy_count <= RC_BENCH_LCORES_MAX);
	json_write_object(f, schema_top, (const char *)r, 0);
	fputc('\n', f);
	if (fflush(f) != 0 || ferror(f))
		return -1;
	return 0;
}

/* ---- Parser ------------------------------------------------------------------------------ */

#define JSON_NONE UINT32_MAX
/* Characters of the longest number token the parser takes. */
#define JSON_NUMBER_CHARS_MAX 63u

enum json_type {
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

/* One parsed value. Children are linked through next; an object's are key, value, key, ... */
struct json_node {
	enum json_type type;
	uint32_t offset; /* of the value's first byte in the text */
	uint32_t len;	 /* JSON_NUMBER: token bytes; JSON_STRING: decoded bytes */
	uint32_t str;	 /* JSON_STRING: where the decoded bytes start in the arena */
	uint32_t child;	 /* JSON_ARRAY, JSON_OBJECT: the first element or key, or JSON_NONE */
	uint32_t next;	 /* the next sibling, or JSON_NONE */
	uint32_t count;	 /* JSON_ARRAY: elements; JSON_OBJECT: members */
	double number;	 /* JSON_NUMBER */
};

struct json_doc {
	const char *text;
	uint32_t len;
	uint32_t pos; /* Invariant: pos <= len */
	struct json_node *nodes;
	uint32_t node_count;
	uint32_t node_cap;
	char *arena; /* decoded strings, each NUL-terminated; len + 1 bytes always suffice */
	uint32_t arena_used;
	uint32_t arena_cap;
	char *err;
	size_t err_len;
	bool failed;
};

/*
 * Records the first failure: "offset N (line L, column C): message". Later failures, raised
 * while unwinding, are dropped. Returns JSON_NONE so that parse functions can return it.
 */
__attribute__((format(printf, 3, 4))) static uint32_t
json_fail(struct json_doc *d, uint32_t offset, const char *fmt, ...)
{
	uint32_t line = 1, column = 1, i;
	char msg[256];
	va_list ap;

	if (d->failed)
		return JSON_NONE;
	d->failed = true;
	RC_ASSERT(offset <= d->len);
	for (i = 0; i < offset; i++) {
		column++;
		if (d->text[i] == '\n') {
			line++;
			column = 1;
		}
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->err_len > 0)
		snprintf(d->err, d->err_len,
			 "offset %" PRIu32 " (line %" PRIu32 ", column %" PRIu32 "): %s", offset,
			 line, column, msg);
	return JSON_NONE;
}

/* Describes the byte at the parse position for a message: 'c', byte 0xNN or end of input. */
static const char *
json_found(const struct json_doc *d, char *buf, size_t size)
{
	unsigned char c;

	if (d->pos >= d->len)
		return "end of input";
	c = (unsigned char)d->text[d->pos];
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, size, "'%c'", c);
	else
		snprintf(buf, size, "byte 0x%02x", c);
	return buf;
}

/* Returns a new node of the given type starting at offset, or JSON_NONE when out of memory. */
static uint32_t
json_node_new(struct json_doc *d, enum json_type type, uint32_t offset)
{
	struct json_node *grown;
	uint32_t cap;

	if (d->node_count == d->node_cap) {
		cap = d->node_cap == 0 ? 64 : 2 * d->node_cap;
		grown = realloc(d->nodes, (size_t)cap * sizeof(*grown));
		if (grown == NULL)
			return json_fail(d, offset, "out of memory");
		d->nodes = grown;
		d->node_cap = cap;
	}
	d->nodes[d->node_count] = (struct json_node){
		.type = type, .offset = offset, .child = JSON_NONE, .next = JSON_NONE
	};
	return d->node_count++;
}

/* Skips the four whitespace characters JSON allows. */
static void
json_skip_space(struct json_doc *d)
{
	while (d->pos < d->len && (d->text[d->pos] == ' ' || d->text[d->pos] == '\t' ||
				   d->text[d->pos] == '\n' || d->text[d->pos] == '\r'))
		d->pos++;
}

/* Returns the value of the hex digit c, or -1. */
static int
json_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads the four hex digits of a \u escape at pos (just past the "u"); returns 0 or -1. */
static int
json_parse_hex4(struct json_doc *d, uint32_t *unit)
{
	int i, v;

	*unit = 0;
	for (i = 0; i < 4; i++) {
		if (d->pos >= d->len || (v = json_hex_digit(d->text[d->pos])) < 0) {
			json_fail(d, d->pos, "expected four hex digits after \\u");
			return -1;
		}
		*unit = (*unit << 4) | (uint32_t)v;
		d->pos++;
	}
	return 0;
}

/*
 * Decodes the escape at pos (the backslash) into the arena: the two-character escapes and
 * \uXXXX, where a high surrogate must be followed by an escaped low one. Returns 0 or -1.
 */
static int
json_parse_escape(struct json_doc *d)
{
	static const char plain_from[] = "\"\\/bfnrt", plain_to[] = "\"\\/\b\f\n\r\t";
	uint32_t at = d->pos, unit, low;
	const char *hit;

	d->pos++;
	if (d->pos >= d->len) {
		json_fail(d, at, "end of input inside an escape");
		return -1;
	}
	if (d->text[d->pos] != 'u') {
		hit = strchr(plain_from, d->text[d->pos]);
		if (hit == NULL || d->text[d->pos] == '\0') {
			json_fail(d, at, "invalid escape");
			return -1;
		}
		d->arena[d->arena_used++] = plain_to[hit - plain_from];
		d->pos++;
		return 0;
	}
	d->pos++;
	if (json_parse_hex4(d, &unit) != 0)
		return -1;
	if (unit >= 0xdc00 && unit <= 0xdfff) {
		json_fail(d, at, "low surrogate \\u%04" PRIx32 " without a high one", unit);
		return -1;
	}
	if (unit >= 0xd800 && unit <= 0xdbff) {
		if (d->len - d->pos < 2 || d->text[d->pos] != '\\' || d->text[d->pos + 1] != 'u') {
			json_fail(d, at, "high surrogate \\u%04" PRIx32 " without a low one", unit);
			return -1;
		}
		d->pos += 2;
		if (json_parse_hex4(d, &low) != 0)
			return -1;
		if (low < 0xdc00 || low > 0xdfff) {
			json_fail(d, at, "high surrogate \\u%04" PRIx32 " without a low one", unit);
			return -1;
		}
		unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
	}
	d->arena_used += (uint32_t)utf8_encode(unit, d->arena + d->arena_used);
	return 0;
}

/*
 * Parses the string at pos (the opening quote), decoding it into the arena with a NUL after it.
 * Raw control characters and malformed UTF-8 are refused. Returns the node or JSON_NONE.
 */
static uint32_t
json_parse_string(struct json_doc *d)
{
	uint32_t at = d->pos, start = d->arena_used, idx;
	unsigned char c;
	size_t n;

	d->pos++;
	for (;;) {
		/* A string decodes to fewer bytes than its quoted text: the arena never fills. */
		RC_ASSERT(d->arena_used + 4 < d->arena_cap);
		if (d->pos >= d->len)
			return json_fail(d, at, "string not closed before the end of input");
		c = (unsigned char)d->text[d->pos];
		if (c == '"')
			break;
		if (c == '\\') {
			if (json_parse_escape(d) != 0)
				return JSON_NONE;
		} else if (c < 0x20) {
			return json_fail(d, d->pos, "control character 0x%02x inside a string", c);
		} else if (c < 0x80) {
			d->arena[d->arena_used++] = (char)c;
			d->pos++;
		} else {
			n = utf8_sequence_len((const unsigned char *)d->text + d->pos,
					      d->len - d->pos);
			if (n == 0)
				return json_fail(d, d->pos, "invalid UTF-8 inside a string");
			memcpy(d->arena + d->arena_used, d->text + d->pos, n);
			d->arena_used += (uint32_t)n;
			d->pos += (uint32_t)n;
		}
	}
	d->pos++;
	d->arena[d->arena_used] = '\0';
	idx = json_node_new(d, JSON_STRING, at);
	if (idx == JSON_NONE)
		return JSON_NONE;
	d->nodes[idx].str = start;
	d->nodes[idx].len = d->arena_used - start;
	d->arena_used++;
	return idx;
}

/* Advances pos over a run of decimal digits; returns how many there were. */
static uint32_t
json_skip_digits(struct json_doc *d)
{
	uint32_t start = d->pos;

	while (d->pos < d->len && d->text[d->pos] >= '0' && d->text[d->pos] <= '9')
		d->pos++;
	return d->pos - start;
}

/*
 * Parses the number at pos by RFC 8259's grammar (-, int, frac, exp: no leading zeros, no '+',
 * no bare '.'), then converts the token with strtod. Returns the node or JSON_NONE.
 */
static uint32_t
json_parse_number(struct json_doc *d)
{
	char token[JSON_NUMBER_CHARS_MAX + 1];
	uint32_t at = d->pos, idx;
	double v;

	if (d->text[d->pos] == '-')
		d->pos++;
	if (d->pos < d->len && d->text[d->pos] == '0') {
		d->pos++;
		if (d->pos < d->len && d->text[d->pos] >= '0' && d->text[d->pos] <= '9')
			return json_fail(d, at, "number with a leading zero");
	} else if (json_skip_digits(d) == 0) {
		return json_fail(d, at, "expected a digit in a number");
	}
	if (d->pos < d->len && d->text[d->pos] == '.') {
		d->pos++;
		if (json_skip_digits(d) == 0)
			return json_fail(d, d->pos, "expected a digit after the decimal point");
	}
	if (d->pos < d->len && (d->text[d->pos] == 'e' || d->text[d->pos] == 'E')) {
		d->pos++;
		if (d->pos < d->len && (d->text[d->pos] == '+' || d->text[d->pos] == '-'))
			d->pos++;
		if (json_skip_digits(d) == 0)
			return json_fail(d, d->pos, "expected a digit in the exponent");
	}
	if (d->pos - at > JSON_NUMBER_CHARS_MAX)
		return json_fail(d, at, "number longer than %u characters", JSON_NUMBER_CHARS_MAX);
	memcpy(token, d->text + at, d->pos - at);
	token[d->pos - at] = '\0';
	v = strtod(token, NULL);
	if (!isfinite(v))
		return json_fail(d, at, "number out of the range of a double");
	idx = json_node_new(d, JSON_NUMBER, at);
	if (idx == JSON_NONE)
		return JSON_NONE;
	d->nodes[idx].len = d->pos - at;
	d->nodes[idx].number = v;
	return idx;
}

/* Parses true, false or null at pos; anything else starting with t, f or n is refused. */
static uint32_t
json_parse_literal(struct json_doc *d, const char *word, enum json_type type)
{
	uint32_t at = d->pos, n = (uint32_t)strlen(word);

	if (d->len - d->pos < n || memcmp(d->text + d->pos, word, n) != 0)
		return json_fail(d, at, "invalid literal (expected %s)", word);
	d->pos += n;
	return json_node_new(d, type, at);
}

static uint32_t json_parse_value(struct json_doc *d, uint32_t depth);

/* Links child after prev (or as parent's first child when prev is JSON_NONE). */
static void
json_link(struct json_doc *d, uint32_t parent, uint32_t prev, uint32_t child)
{
	if (prev == JSON_NONE)
		d->nodes[parent].child = child;
	else
		d->nodes[prev].next = child;
}

/*
 * Parses the object at pos ('{'): string keys, ':', values, separated by commas, no trailing
 * comma. Duplicate keys are found later, by the schema lookup. Returns the node or JSON_NONE.
 */
static uint32_t
json_parse_object(struct json_doc *d, uint32_t depth)
{
	uint32_t idx, key, value, prev = JSON_NONE;
	char found[16];

	idx = json_node_new(d, JSON_OBJECT, d->pos);
	if (idx == JSON_NONE)
		return JSON_NONE;
	d->pos++;
	json_skip_space(d);
	if (d->pos < d->len && d->text[d->pos] == '}') {
		d->pos++;
		return idx;
	}
	for (;;) {
		json_skip_space(d);
		if (d->pos >= d->len || d->text[d->pos] != '"')
			return json_fail(d, d->pos, "expected a string key, found %s",
					 json_found(d, found, sizeof(found)));
		key = json_parse_string(d);
		if (key == JSON_NONE)
			return JSON_NONE;
		json_skip_space(d);
		if (d->pos >= d->len || d->text[d->pos] != ':')
			return json_fail(d, d->pos, "expected ':' after a key, found %s",
					 json_found(d, found, sizeof(found)));
		d->pos++;
		value = json_parse_value(d, depth + 1);
		if (value == JSON_NONE)
			return JSON_NONE;
		json_link(d, idx, prev, key);
		d->nodes[key].next = value;
		prev = value;
		d->nodes[idx].count++;
		json_skip_space(d);
		if (d->pos < d->len && d->text[d->pos] == ',') {
			d->pos++;
			continue;
		}
		if (d->pos < d->len && d->text[d->pos] == '}') {
			d->pos++;
			return idx;
		}
		return json_fail(d, d->pos, "expected ',' or '}' after an object member, found %s",
				 json_found(d, found, sizeof(found)));
	}
}

/* Parses the array at pos ('['): values separated by commas, no trailing comma. */
static uint32_t
json_parse_array(struct json_doc *d, uint32_t depth)
{
	uint32_t idx, value, prev = JSON_NONE;
	char found[16];

	idx = json_node_new(d, JSON_ARRAY, d->pos);
	if (idx == JSON_NONE)
		return JSON_NONE;
	d->pos++;
	json_skip_space(d);
	if (d->pos < d->len && d->text[d->pos] == ']') {
		d->pos++;
		return idx;
	}
	for (;;) {
		value = json_parse_value(d, depth + 1);
		if (value == JSON_NONE)
			return JSON_NONE;
		json_link(d, idx, prev, value);
		prev = value;
		d->nodes[idx].count++;
		json_skip_space(d);
		if (d->pos < d->len && d->text[d->pos] == ',') {
			d->pos++;
			continue;
		}
		if (d->pos < d->len && d->text[d->pos] == ']') {
			d->pos++;
			return idx;
		}
		return json_fail(d, d->pos, "expected ',' or ']' after an array element, found %s",
				 json_found(d, found, sizeof(found)));
	}
}

/*
 * Parses one value after optional whitespace, dispatching on its first character. depth counts
 * the arrays and objects around it. Returns the node or JSON_NONE.
 */
static uint32_t
json_parse_value(struct json_doc *d, uint32_t depth)
{
	char found[16], c;

	json_skip_space(d);
	if (d->pos >= d->len)
		return json_fail(d, d->pos, "expected a value, found end of input");
	c = d->text[d->pos];
	if ((c == '{' || c == '[') && depth >= RC_BENCH_JSON_DEPTH_MAX)
		return json_fail(d, d->pos, "arrays and objects nested deeper than %u",
				 RC_BENCH_JSON_DEPTH_MAX);
	switch (c) {
	case '{':
		return json_parse_object(d, depth);
	case '[':
		return json_parse_array(d, depth);
	case '"':
		return json_parse_string(d);
	case 't':
		return json_parse_literal(d, "true", JSON_TRUE);
	case 'f':
		return json_parse_literal(d, "false", JSON_FALSE);
	case 'n':
		return json_parse_literal(d, "null", JSON_NULL);
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return json_parse_number(d);
		return json_fail(d, d->pos, "expected a value, found %s",
				 json_found(d, found, sizeof(found)));
	}
}

/* ---- Schema reader ------------------------------------------------------------------------- */

/* Names a node's type for messages. */
static const char *
json_type_name(enum json_type type)
{
	switch (type) {
	case JSON_NULL:
		return "null";
	case JSON_FALSE:
	case JSON_TRUE:
		return "a boolean";
	case JSON_NUMBER:
		return "a number";
	case JSON_STRING:
		return "a string";
	case JSON_ARRAY:
		return "an array";
	case JSON_OBJECT:
		return "an object";
	}
	return "?";
}

/*
 * Returns the value of member key in object obj, or JSON_NONE when absent. A key present twice
 * fails the parse (path names it for the message).
 */
static uint32_t
json_member(struct json_doc *d, uint32_t obj, const char *key, const char *path)
{
	uint32_t k, found = JSON_NONE;
	size_t key_len = strlen(key);
	const struct json_node *n;

	for (k = d->nodes[obj].child; k != JSON_NONE; k = d->nodes[d->nodes[k].next].next) {
		n = &d->nodes[k];
		if (n->len != key_len || memcmp(d->arena + n->str, key, key_len) != 0)
			continue;
		if (found != JSON_NONE)
			return json_fail(d, n->offset, "%s: duplicate key", path);
		found = n->next;
	}
	return found;
}

/*
 * Reads a number node that must be a non-negative integer no larger than max, from its token
 * (not the double, which would round above 2^53). Returns 0 or -1.
 */
static int
schema_read_integer(struct json_doc *d, uint32_t v, const char *path, uint64_t max, uint64_t *out)
{
	char token[JSON_NUMBER_CHARS_MAX + 1];
	const struct json_node *n = &d->nodes[v];
	unsigned long long parsed;

	if (n->type != JSON_NUMBER) {
		json_fail(d, n->offset, "%s: expected an integer, found %s", path,
			  json_type_name(n->type));
		return -1;
	}
	memcpy(token, d->text + n->offset, n->len);
	token[n->len] = '\0';
	if (strpbrk(token, "-.eE") != NULL) {
		json_fail(d, n->offset, "%s: expected a non-negative integer, found %s", path,
			  token);
		return -1;
	}
	errno = 0;
	parsed = strtoull(token, NULL, 10);
	if (errno != 0 || parsed > max) {
		json_fail(d, n->offset, "%s: %s is larger than %" PRIu64, path, token, max);
		return -1;
	}
	*out = parsed;
	return 0;
}

/* Reads a number node into *out; null reads as 0 where the field is optional. */
static int
schema_read_number(struct json_doc *d, uint32_t v, const struct schema_field *field,
		   const char *path, double *out)
{
	const struct json_node *n = &d->nodes[v];

	if (n->type == JSON_NULL && !field->required) {
		*out = 0.0;
		return 0;
	}
	if (n->type != JSON_NUMBER) {
		json_fail(d, n->offset, "%s: expected a number, found %s", path,
			  json_type_name(n->type));
		return -1;
	}
	*out = n->number;
	return 0;
}

/* Reads a string node into a char[RC_BENCH_STR_BYTES]: no NUL inside, room for the last one. */
static int
schema_read_string(struct json_doc *d, uint32_t v, const char *path, char *out)
{
	const struct json_node *n = &d->nodes[v];

	if (n->type != JSON_STRING) {
		json_fail(d, n->offset, "%s: expected a string, found %s", path,
			  json_type_name(n->type));
		return -1;
	}
	if (memchr(d->arena + n->str, '\0', n->len) != NULL) {
		json_fail(d, n->offset, "%s: string contains a NUL character", path);
		return -1;
	}
	if (n->len >= RC_BENCH_STR_BYTES) {
		json_fail(d, n->offset, "%s: string longer than %u bytes", path,
			  RC_BENCH_STR_BYTES - 1);
		return -1;
	}
	memcpy(out, d->arena + n->str, (size_t)n->len + 1);
	return 0;
}

/* Reads an array of at most RC_BENCH_LCORES_MAX numbers into out[], its length into *count. */
static int
schema_read_shares(struct json_doc *d, uint32_t v, const char *path, double *out, uint32_t *count)
{
	const struct json_node *n = &d->nodes[v];
	uint32_t e, i = 0;

	if (n->type != JSON_ARRAY) {
		json_fail(d, n->offset, "%s: expected an array, found %s", path,
			  json_type_name(n->type));
		return -1;
	}
	if (n->count > RC_BENCH_LCORES_MAX) {
		json_fail(d, n->offset, "%s: %" PRIu32 " elements, more than %u", path, n->count,
			  RC_BENCH_LCORES_MAX);
		return -1;
	}
	for (e = n->child; e != JSON_NONE; e = d->nodes[e].next) {
		if (d->nodes[e].type != JSON_NUMBER) {
			json_fail(d, d->nodes[e].offset,
				  "%s[%" PRIu32 "]: expected a number, found %s", path, i,
				  json_type_name(d->nodes[e].type));
			return -1;
		}
		out[i++] = d->nodes[e].number;
	}
	*count = i;
	return 0;
}

static int schema_read_object(struct json_doc *d, uint32_t obj, const struct schema_field *fields,
			      char *base, const char *path);

/* Reads node v as field (of the object whose struct starts at base) into that struct. */
static int
schema_read_value(struct json_doc *d, uint32_t v, const struct schema_field *field, char *base,
		  const char *path)
{
	char *at = base + field->offset;
	const struct json_node *n = &d->nodes[v];
	uint64_t u;

	switch (field->kind) {
	case SCHEMA_VERSION:
		if (schema_read_integer(d, v, path, UINT64_MAX, &u) != 0)
			return -1;
		if (u != RC_BENCH_SCHEMA_VERSION) {
			json_fail(d, n->offset, "%s: version %" PRIu64 ", this reader knows %u",
				  path, u, RC_BENCH_SCHEMA_VERSION);
			return -1;
		}
		return 0;
	case SCHEMA_U32:
		if (schema_read_integer(d, v, path, UINT32_MAX, &u) != 0)
			return -1;
		*(uint32_t *)at = (uint32_t)u;
		return 0;
	case SCHEMA_U64:
		return schema_read_integer(d, v, path, UINT64_MAX, (uint64_t *)at);
	case SCHEMA_NUM:
	case SCHEMA_NUM_OPT:
		return schema_read_number(d, v, field, path, (double *)at);
	case SCHEMA_BOOL:
		if (n->type != JSON_TRUE && n->type != JSON_FALSE) {
			json_fail(d, n->offset, "%s: expected true or false, found %s", path,
				  json_type_name(n->type));
			return -1;
		}
		*(bool *)at = n->type == JSON_TRUE;
		return 0;
	case SCHEMA_STR:
		return schema_read_string(d, v, path, at);
	case SCHEMA_OBJ_OR_NULL:
		*(bool *)(base + field->aux_offset) = n->type != JSON_NULL;
		if (n->type == JSON_NULL)
			return 0;
		/* fall through */
	case SCHEMA_OBJ:
		return schema_read_object(d, v, field->fields, at, path);
	case SCHEMA_SHARES:
		return schema_read_shares(d, v, path, (double *)at,
					  (uint32_t *)(base + field->aux_offset));
	}
	return -1;
}

/*
 * Reads every field of the table from object obj into the struct at base: a missing required
 * key or a key of the wrong type fails; keys not in the table are ignored.
 */
static int
schema_read_object(struct json_doc *d, uint32_t obj, const struct schema_field *fields, char *base,
		   const char *path)
{
	const struct schema_field *field;
	char field_path[128];
	uint32_t v;

	if (d->nodes[obj].type != JSON_OBJECT) {
		json_fail(d, d->nodes[obj].offset, "%s: expected an object, found %s",
			  path[0] != '\0' ? path : "top level", json_type_name(d->nodes[obj].type));
		return -1;
	}
	for (field = fields; field->key != NULL; field++) {
		schema_path(field_path, sizeof(field_path), path, field->key);
		v = json_member(d, obj, field->key, field_path);
		if (d->failed)
			return -1;
		if (v == JSON_NONE) {
			if (!field->required)
				continue;
			json_fail(d, d->nodes[obj].offset, "missing key \"%s\"", field_path);
			return -1;
		}
		if (schema_read_value(d, v, field, base, field_path) != 0)
			return -1;
	}
	return 0;
}

/* Parses the whole text into a tree, checks nothing follows the value, then reads the schema. */
int
rc_bench_json_parse(const char *text, size_t len, struct rc_bench_result *r, char *err,
		    size_t err_len)
{
	struct json_doc d = { .text = text, .err = err, .err_len = err_len };
	struct rc_bench_result parsed;
	uint32_t root;
	int rc = -1;

	if (err_len > 0)
		err[0] = '\0';
	if (len > RC_BENCH_JSON_BYTES_MAX) {
		if (err_len > 0)
			snprintf(err, err_len, "%zu bytes, more than the %u the reader takes", len,
				 RC_BENCH_JSON_BYTES_MAX);
		return -1;
	}
	d.len = (uint32_t)len;
	d.arena_cap = d.len + 8;
	d.arena = malloc(d.arena_cap);
	if (d.arena == NULL) {
		json_fail(&d, 0, "out of memory");
		return -1;
	}
	memset(&parsed, 0, sizeof(parsed));
	root = json_parse_value(&d, 0);
	if (root != JSON_NONE) {
		json_skip_space(&d);
		if (d.pos != d.len)
			json_fail(&d, d.pos, "trailing characters after the JSON value");
		else if (schema_read_object(&d, root, schema_top, (char *)&parsed, "") == 0)
			rc = 0;
	}
	RC_ASSERT(rc == 0 || d.failed);
	if (rc == 0)
		*r = parsed;
	free(d.nodes);
	free(d.arena);
	return rc;
}

/* Reads the file whole (refusing more than RC_BENCH_JSON_BYTES_MAX bytes), then parses it. */
int
rc_bench_json_read(const char *path, struct rc_bench_result *r, char *err, size_t err_len)
{
	char msg[384], *text;
	size_t len;
	FILE *f;
	int rc;

	f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	text = malloc(RC_BENCH_JSON_BYTES_MAX + 1);
	if (text == NULL) {
		fclose(f);
		snprintf(err, err_len, "%s: out of memory", path);
		return -1;
	}
	len = fread(text, 1, RC_BENCH_JSON_BYTES_MAX + 1, f);
	if (ferror(f)) {
		snprintf(err, err_len, "%s: read error", path);
		rc = -1;
	} else if (len > RC_BENCH_JSON_BYTES_MAX) {
		snprintf(err, err_len, "%s: larger than the %u bytes the reader takes", path,
			 RC_BENCH_JSON_BYTES_MAX);
		rc = -1;
	} else {
		rc = rc_bench_json_parse(text, len, r, msg, sizeof(msg));
		if (rc != 0)
			snprintf(err, err_len, "%s: %s", path, msg);
	}
	free(text);
	fclose(f);
	return rc;
}

/* ---- Compare ------------------------------------------------------------------------------ */

/* Formats a scalar schema field of the struct at base for the parameter notes. */
static void
schema_format(const struct schema_field *field, const char *base, char *buf, size_t size)
{
	const char *at = base + field->offset;

	switch (field->kind) {
	case SCHEMA_U32:
		snprintf(buf, size, "%" PRIu32, *(const uint32_t *)at);
		break;
	case SCHEMA_U64:
		snprintf(buf, size, "%" PRIu64, *(const uint64_t *)at);
		break;
	case SCHEMA_NUM:
	case SCHEMA_NUM_OPT:
		snprintf(buf, size, "%g", *(const double *)at);
		break;
	case SCHEMA_BOOL:
		snprintf(buf, size, "%s", *(const bool *)at ? "true" : "false");
		break;
	case SCHEMA_STR:
		snprintf(buf, size, "\"%s\"", at);
		break;
	default:
		RC_ASSERT(0);
	}
}

/* Prints one "note:" line per scalar field of the table whose value differs between a and b. */
static void
compare_notes(FILE *out, const char *path, const struct schema_field *fields, const char *a,
	      const char *b)
{
	char va[RC_BENCH_STR_BYTES + 8], vb[RC_BENCH_STR_BYTES + 8];
	const struct schema_field *field;

	for (field = fields; field->key != NULL; field++) {
		schema_format(field, a, va, sizeof(va));
		schema_format(field, b, vb, sizeof(vb));
		if (strcmp(va, vb) != 0)
			fprintf(out, "note: %s.%s differs: %s -> %s\n", path, field->key, va, vb);
	}
}

struct compare_row {
	const char *name;
	size_t offset; /* of the double in struct rc_bench_result */
	int gate;      /* -1: a fall beyond tolerance regresses; +1: a rise does; 0: shown only */
};

static const struct compare_row compare_rows[] = {
	{ "commits_per_sec", offsetof(struct rc_bench_result, commits_per_sec), -1 },
	{ "mb_per_sec", offsetof(struct rc_bench_result, mb_per_sec), 0 },
	{ "latency_us.p50", offsetof(struct rc_bench_result, latency_us.p50), 0 },
	{ "latency_us.p90", offsetof(struct rc_bench_result, latency_us.p90), 0 },
	{ "latency_us.p99", offsetof(struct rc_bench_result, latency_us.p99), +1 },
	{ "latency_us.p999", offsetof(struct rc_bench_result, latency_us.p999), 0 },
	{ "latency_us.max", offsetof(struct rc_bench_result, latency_us.max), 0 },
	{ "latency_us.mean", offsetof(struct rc_bench_result, latency_us.mean), 0 },
	{ "frames_per_sec", offsetof(struct rc_bench_result, frames_per_sec), 0 },
	{ "entries_per_frame", offsetof(struct rc_bench_result, entries_per_frame), 0 },
};

/*
 * Returns whether cur regressed from base on a gated row: below base * (1 - tol) for a gate of
 * -1, above base * (1 + tol) for +1. A change of exactly the tolerance passes.
 */
static bool
compare_regressed(int gate, double base, double cur, double tolerance_pct)
{
	if (gate < 0)
		return cur < base * (1.0 - tolerance_pct / 100.0);
	if (gate > 0)
		return cur > base * (1.0 + tolerance_pct / 100.0);
	return false;
}

/* Prints the notes, the table and the verdict; returns 1 on a regression of a gated row. */
int
rc_bench_compare(const struct rc_bench_result *base, const struct rc_bench_result *cur,
		 double tolerance_pct, FILE *out)
{
	char change[32];
	double b, c;
	bool bad;
	size_t i;
	int regressions = 0;

	RC_ASSERT(isfinite(tolerance_pct) && tolerance_pct >= 0.0);
	compare_notes(out, "params", schema_params, (const char *)&base->params,
		      (const char *)&cur->params);
	compare_notes(out, "env", schema_env, (const char *)&base->env, (const char *)&cur->env);
	fprintf(out, "%-18s %16s %16s %10s\n", "metric", "base", "new", "change");
	for (i = 0; i < sizeof(compare_rows) / sizeof(compare_rows[0]); i++) {
		b = *(const double *)((const char *)base + compare_rows[i].offset);
		c = *(const double *)((const char *)cur + compare_rows[i].offset);
		if (b != 0.0)
			snprintf(change, sizeof(change), "%+.2f%%", (c - b) / b * 100.0);
		else
			snprintf(change, sizeof(change), "n/a");
		bad = compare_regressed(compare_rows[i].gate, b, c, tolerance_pct);
		regressions += bad;
		fprintf(out, "%-18s %16.3f %16.3f %10s%s\n", compare_rows[i].name, b, c, change,
			bad ? "  REGRESSION" : "");
	}
	if (regressions > 0)
		fprintf(out,
			"compare: REGRESSION: commits_per_sec fell or latency_us.p99 rose by "
			"more than %.2f%%\n",
			tolerance_pct);
	else
		fprintf(out, "compare: ok: within %.2f%% on commits_per_sec and latency_us.p99\n",
			tolerance_pct);
	return regressions > 0 ? 1 : 0;
}
