/*
 * Linearizability checker for key-value histories (see lincheck.h).
 *
 * The parser reads exactly one JSON object per line with the fields of the history format and
 * nothing else. The checker splits the history by key (linearizability is compositional) and
 * runs, per key, Wing & Gong's backtracking search over the call/return events with Lowe's
 * memoisation: a configuration (set of linearized operations, register state) seen once is
 * never explored again. On a violation it searches for the shortest failing prefix by
 * bisection over the key's return events.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <replicore/assert.h>

#include "lincheck.h"

/* ---- Parser ----------------------------------------------------------------------------- */

struct parser {
	const char *text;
	size_t pos;
	uint32_t line;
	char *err;
	size_t err_size;
};

/* Writes "LINE:COLUMN: why" for the parser's position and returns -EINVAL. */
__attribute__((format(printf, 2, 3))) static int
parser_fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->err_size == 0)
		return -EINVAL;
	n = snprintf(p->err, p->err_size, "%" PRIu32 ":%zu: ", p->line, p->pos + 1);
	if (n >= 0 && (size_t)n < p->err_size) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->err_size - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void
parser_skip_blanks(struct parser *p)
{
	while (p->text[p->pos] == ' ' || p->text[p->pos] == '\t' || p->text[p->pos] == '\r')
		p->pos++;
}

/* Consumes literal word if it is next; returns whether it was. */
static bool
parser_word(struct parser *p, const char *word)
{
	size_t len = strlen(word);

	if (strncmp(p->text + p->pos, word, len) != 0)
		return false;
	p->pos += len;
	return true;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads the 4 hex digits of a \u escape at p->pos into *unit. */
static int
parser_hex4(struct parser *p, uint32_t *unit)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		int d = hex_digit(p->text[p->pos]);

		if (d < 0)
			return parser_fail(p, "bad \\u escape: expected 4 hex digits");
		v = v * 16 + (uint32_t)d;
		p->pos++;
	}
	*unit = v;
	return 0;
}

/* Appends code point cp as UTF-8 to out (which has room for 4 more bytes). */
static size_t
utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Parses a JSON string at p->pos (the opening quote) into a new NUL-terminated *out. */
static int
parser_string(struct parser *p, char **out)
{
	size_t start;
	size_t len = 0;
	char *s;

	if (p->text[p->pos] != '"')
		return parser_fail(p, "expected a string");
	p->pos++;
	start = p->pos;
	/* The decoded string is never longer than its source text. */
	s = malloc(strlen(p->text + start) + 1);
	if (s == NULL)
		return -ENOMEM;
	for (;;) {
		unsigned char c = (unsigned char)p->text[p->pos];
		uint32_t cp, low;
		int rc;

		if (c == '"')
			break;
		if (c == '\0') {
			free(s);
			return parser_fail(p, "unterminated string");
		}
		if (c < 0x20) {
			free(s);
			return parser_fail(p, "control character in string");
		}
		if (c != '\\') {
			s[len++] = (char)c;
			p->pos++;
			continue;
		}
		p->pos++;
		c = (unsigned char)p->text[p->pos++];
		switch (c) {
		case '"':
		case '\\':
		case '/':
			s[len++] = (char)c;
			continue;
		case 'b':
			s[len++] = '\b';
			continue;
		case 'f':
			s[len++] = '\f';
			continue;
		case 'n':
			s[len++] = '\n';
			continue;
		case 'r':
			s[len++] = '\r';
			continue;
		case 't':
			s[len++] = '\t';
			continue;
		case 'u':
			break;
		default:
			p->pos--;
			free(s);
			return parser_fail(p, "bad escape in string");
		}
		rc = parser_hex4(p, &cp);
		if (rc == 0 && cp >= 0xdc00 && cp <= 0xdfff)
			rc = parser_fail(p, "lone low surrogate in \\u escape");
		if (rc == 0 && cp >= 0xd800 && cp <= 0xdbff) {
			if (!parser_word(p, "\\u"))
				rc = parser_fail(p, "high surrogate without its low half");
			if (rc == 0)
				rc = parser_hex4(p, &low);
			if (rc == 0 && (low < 0xdc00 || low > 0xdfff))
				rc = parser_fail(p, "high surrogate without its low half");
			if (rc == 0)
				cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
		}
		if (rc == 0 && cp == 0)
			rc = parser_fail(p, "\\u0000 is not allowed in a string");
		if (rc != 0) {
			free(s);
			return rc;
		}
		/* An escape is at least 6 source bytes and at most 4 output bytes. */
		len += utf8_put(s + len, cp);
	}
	p->pos++;
	s[len] = '\0';
	*out = s;
	return 0;
}

/* Parses a non-negative integer without sign, fraction or exponent into *out. */
static int
parser_uint(struct parser *p, uint64_t *out)
{
	uint64_t v = 0;
	size_t start = p->pos;

	if (p->text[p->pos] == '-')
		return parser_fail(p, "expected a non-negative integer");
	while (p->text[p->pos] >= '0' && p->text[p->pos] <= '9') {
		uint64_t d = (uint64_t)(p->text[p->pos] - '0');

		if (p->pos > start && v == 0)
			return parser_fail(p, "leading zero in integer");
		if (v > (UINT64_MAX - d) / 10) {
			p->pos = start;
			return parser_fail(p, "integer out of range");
		}
		v = v * 10 + d;
		p->pos++;
	}
	if (p->pos == start)
		return parser_fail(p, "expected a non-negative integer");
	if (p->text[p->pos] == '.' || p->text[p->pos] == 'e' || p->text[p->pos] == 'E')
		return parser_fail(p, "expected an integer, not a fraction or exponent");
	*out = v;
	return 0;
}

/* A string or null at p->pos; null gives *out = NULL. */
static int
parser_string_or_null(struct parser *p, char **out)
{
	if (parser_word(p, "null")) {
		*out = NULL;
		return 0;
	}
	return parser_string(p, out);
}

enum field {
	F_CLIENT,
	F_OP,
	F_KEY,
	F_VALUE,
	F_EXPECT,
	F_CALL_NS,
	F_RETURN_NS,
	F_OK,
	F_COUNT,
};

static const char *const field_names[F_COUNT] = {
	"client", "op", "key", "value", "expect", "call_ns", "return_ns", "ok",
};

/* Everything one line gave, before the checks that relate fields. */
struct parsed_line {
	bool seen[F_COUNT];
	uint64_t client, call_ns, return_ns;
	bool return_null;
	char *op, *key, *value, *expect;
	int ok; /* 1, 0, -1 = null */
	size_t field_pos[F_COUNT];
};

/* Parses the value of field f at p->pos into pl. */
static int
parser_field_value(struct parser *p, struct parsed_line *pl, enum field f)
{
	switch (f) {
	case F_CLIENT:
		return parser_uint(p, &pl->client);
	case F_CALL_NS:
		return parser_uint(p, &pl->call_ns);
	case F_RETURN_NS:
		if (parser_word(p, "null")) {
			pl->return_null = true;
			return 0;
		}
		return parser_uint(p, &pl->return_ns);
	case F_OP:
		return parser_string(p, &pl->op);
	case F_KEY:
		return parser_string(p, &pl->key);
	case F_VALUE:
		return parser_string_or_null(p, &pl->value);
	case F_EXPECT:
		return parser_string_or_null(p, &pl->expect);
	case F_OK:
		if (parser_word(p, "true"))
			pl->ok = 1;
		else if (parser_word(p, "false"))
			pl->ok = 0;
		else if (parser_word(p, "null"))
			pl->ok = -1;
		else
			return parser_fail(p, "\"ok\" must be true, false or null");
		return 0;
	case F_COUNT:
		break;
	}
	RC_ASSERT(false);
	return -EINVAL;
}

/* Parses the object of one line into pl: every field once, no other field, nothing after. */
static int
parser_object(struct parser *p, struct parsed_line *pl)
{
	parser_skip_blanks(p);
	if (p->text[p->pos] != '{')
		return parser_fail(p, "expected '{'");
	p->pos++;
	parser_skip_blanks(p);
	if (p->text[p->pos] == '}')
		return parser_fail(p, "empty object");
	for (;;) {
		char *name = NULL;
		size_t name_pos = p->pos;
		enum field f;
		int rc;

		rc = parser_string(p, &name);
		if (rc != 0)
			return rc;
		for (f = 0; f < F_COUNT; f++)
			if (strcmp(name, field_names[f]) == 0)
				break;
		free(name);
		if (f == F_COUNT) {
			p->pos = name_pos;
			return parser_fail(p, "unknown field");
		}
		if (pl->seen[f]) {
			p->pos = name_pos;
			return parser_fail(p, "duplicate field \"%s\"", field_names[f]);
		}
		pl->seen[f] = true;
		pl->field_pos[f] = name_pos;
		parser_skip_blanks(p);
		if (p->text[p->pos] != ':')
			return parser_fail(p, "expected ':'");
		p->pos++;
		parser_skip_blanks(p);
		rc = parser_field_value(p, pl, f);
		if (rc != 0)
			return rc;
		parser_skip_blanks(p);
		if (p->text[p->pos] == '}')
			break;
		if (p->text[p->pos] != ',')
			return parser_fail(p, "expected ',' or '}'");
		p->pos++;
		parser_skip_blanks(p);
	}
	p->pos++;
	parser_skip_blanks(p);
	if (p->text[p->pos] != '\0')
		return parser_fail(p, "unexpected text after the object");
	return 0;
}

static int
parse_kind(const char *op, enum rc_lincheck_kind *kind)
{
	static const char *const names[] = { "put", "get", "cas", "delete" };
	static const enum rc_lincheck_kind kinds[] = { RC_LINCHECK_PUT, RC_LINCHECK_GET,
						       RC_LINCHECK_CAS, RC_LINCHECK_DELETE };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(op, names[i]) == 0) {
			*kind = kinds[i];
			return 0;
		}
	}
	return -EINVAL;
}

/* Relates the fields of pl and fills op; the strings move from pl to op. */
static int
parser_make_op(struct parser *p, struct parsed_line *pl, struct rc_lincheck_op *op)
{
	static const enum field required[] = { F_CLIENT, F_OP, F_KEY, F_CALL_NS };

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!pl->seen[required[i]])
			return parser_fail(p, "missing field \"%s\"", field_names[required[i]]);
	p->pos = pl->field_pos[F_OP];
	if (parse_kind(pl->op, &op->kind) != 0)
		return parser_fail(p, "\"op\" must be put, get, cas or delete");
	if (pl->seen[F_EXPECT] && op->kind != RC_LINCHECK_CAS) {
		p->pos = pl->field_pos[F_EXPECT];
		return parser_fail(p, "\"expect\" is only for cas");
	}
	if (op->kind == RC_LINCHECK_CAS && !pl->seen[F_EXPECT])
		return parser_fail(p, "cas needs \"expect\"");
	if ((op->kind == RC_LINCHECK_PUT || op->kind == RC_LINCHECK_CAS) && pl->value == NULL)
		return parser_fail(p, "%s needs a string \"value\"", pl->op);
	if (op->kind == RC_LINCHECK_DELETE && pl->value != NULL) {
		p->pos = pl->field_pos[F_VALUE];
		return parser_fail(p, "delete takes no \"value\"");
	}
	if (!pl->seen[F_RETURN_NS] || pl->return_null || (pl->seen[F_OK] && pl->ok == -1)) {
		op->outcome = RC_LINCHECK_UNKNOWN;
		op->return_ns = RC_LINCHECK_NS_INFINITE;
	} else {
		if (!pl->seen[F_OK])
			return parser_fail(p, "a returned operation needs \"ok\"");
		if (pl->return_ns < pl->call_ns) {
			p->pos = pl->field_pos[F_RETURN_NS];
			return parser_fail(p, "return_ns is before call_ns");
		}
		if (pl->return_ns == RC_LINCHECK_NS_INFINITE) {
			p->pos = pl->field_pos[F_RETURN_NS];
			return parser_fail(p, "return_ns out of range");
		}
		op->outcome = pl->ok == 1 ? RC_LINCHECK_OK : RC_LINCHECK_FAILED;
		op->return_ns = pl->return_ns;
	}
	op->client = pl->client;
	op->call_ns = pl->call_ns;
	op->line = p->line;
	op->key = pl->key;
	op->value = pl->value;
	op->expect = pl->expect;
	pl->key = pl->value = pl->expect = NULL;
	return 0;
}

static bool
line_is_blank(const char *text)
{
	for (; *text != '\0'; text++)
		if (*text != ' ' && *text != '\t' && *text != '\r')
			return false;
	return true;
}

int
rc_lincheck_parse_line(struct rc_lincheck_history *history, const char *text, uint32_t line,
		       char *err, size_t err_size)
{
	struct parser p = { .text = text, .line = line, .err = err, .err_size = err_size };
	struct parsed_line pl = { .ok = -1 };
	struct rc_lincheck_op op;
	int rc;

	RC_ASSERT(history != NULL && text != NULL);
	if (line_is_blank(text))
		return 0;
	if (history->op_count == history->op_capacity) {
		size_t capacity = history->op_capacity == 0 ? 64 : history->op_capacity * 2;
		struct rc_lincheck_op *ops = realloc(history->ops, capacity * sizeof(*ops));

		if (ops == NULL)
			return -ENOMEM;
		history->ops = ops;
		history->op_capacity = capacity;
	}
	memset(&op, 0, sizeof(op));
	rc = parser_object(&p, &pl);
	if (rc == 0)
		rc = parser_make_op(&p, &pl, &op);
	free(pl.op);
	free(pl.key);
	free(pl.value);
	free(pl.expect);
	if (rc != 0)
		return rc;
	history->ops[history->op_count++] = op;
	RC_ASSERT(history->op_count <= history->op_capacity);
	return 0;
}

int
rc_lincheck_parse_file(struct rc_lincheck_history *history, FILE *file, char *err, size_t err_size)
{
	char *buf = NULL;
	size_t buf_size = 0;
	uint32_t line = 0;
	ssize_t len;
	int rc = 0;

	while ((len = getline(&buf, &buf_size, file)) >= 0) {
		line++;
		if (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		if (strlen(buf) != (size_t)len) {
			snprintf(err, err_size, "%" PRIu32 ":%zu: NUL byte in line", line,
				 strlen(buf) + 1);
			rc = -EINVAL;
			break;
		}
		rc = rc_lincheck_parse_line(history, buf, line, err, err_size);
		if (rc != 0)
			break;
	}
	if (rc == 0 && ferror(file)) {
		snprintf(err, err_size, "read error after line %" PRIu32, line);
		rc = -EIO;
	}
	free(buf);
	return rc;
}

void
rc_lincheck_history_free(struct rc_lincheck_history *history)
{
	for (size_t i = 0; i < history->op_count; i++) {
		free(history->ops[i].key);
		free(history->ops[i].value);
		free(history->ops[i].expect);
	}
	free(history->ops);
	memset(history, 0, sizeof(*history));
}

/* ---- Checker ---------------------------------------------------------------------------- */

#define NODE_NIL UINT32_MAX
#define NODE_HEAD 0u
/* A register state: 0 is "key missing", any other number a value of the key. */
#define STATE_MISSING 0u

/* One operation of one key, its strings replaced by value numbers. */
struct kop {
	enum rc_lincheck_kind kind;
	enum rc_lincheck_outcome outcome;
	uint32_t value;
	uint32_t expect;
	size_t index; /* in the history */
};

/* A call or a return; sorted by time, calls before returns at equal times (so touching
 * intervals count as concurrent), then by operation. */
struct event {
	uint64_t ns;
	uint32_t op;
	bool is_return;
};

/* An event in the search's doubly linked list; node 0 is the head. */
struct node {
	uint32_t prev;
	uint32_t next;
	uint32_t op;
	uint32_t match; /* a call's return node; NODE_NIL for a return */
};

/* A step of the search taken, to undo when it leads nowhere. */
struct frame {
	uint32_t node;
	uint32_t state; /* the state before the step */
};

struct memo_entry {
	uint64_t hash;
	uint32_t state;
	uint32_t bits_slot; /* 1 + index of the bitset in the arena; 0 = empty entry */
};

/* Everything one key's check needs; allocated per key and freed after it. */
struct key_check {
	struct kop *ops;
	uint32_t op_count;
	struct event *events; /* 2 * op_count */
	uint32_t *call_pos;   /* per op: its call's position in events */
	uint32_t *return_pos; /* per op: its return's position in events */
	bool *unknown;	      /* per op, per search: outcome unknown or pending at the cut */
	struct node *nodes;   /* 1 + 2 * op_count */
	struct frame *stack;  /* op_count */
	uint64_t *bits;	      /* the linearized set, words_per_set words */
	size_t words_per_set;
	/* Lowe's memo: the (linearized set, state) pairs already explored. */
	struct memo_entry *memo;
	size_t memo_capacity; /* a power of two */
	size_t memo_count;
	uint64_t *arena;
	size_t arena_sets;
	size_t arena_capacity_sets;
	const char *key;
	char *err;
	size_t err_size;
};

static uint64_t
mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The register model: applies op to state. Returns whether op may happen there. An operation of
 * unknown outcome always may: if it did not take effect, it is linearized after everything
 * else, where nothing observes it. */
static bool
model_step(uint32_t state, const struct kop *op, bool unknown, uint32_t *next)
{
	*next = state;
	switch (op->kind) {
	case RC_LINCHECK_PUT:
		if (unknown || op->outcome == RC_LINCHECK_OK)
			*next = op->value;
		return true;
	case RC_LINCHECK_DELETE:
		if (unknown || op->outcome == RC_LINCHECK_OK)
			*next = STATE_MISSING;
		return true;
	case RC_LINCHECK_GET:
		return unknown || op->outcome == RC_LINCHECK_FAILED || state == op->value;
	case RC_LINCHECK_CAS:
		if (unknown) {
			if (state == op->expect)
				*next = op->value;
			return true;
		}
		if (op->outcome == RC_LINCHECK_FAILED)
			return state != op->expect;
		if (state != op->expect)
			return false;
		*next = op->value;
		return true;
	}
	RC_ASSERT(false);
	return false;
}

static size_t
memo_bytes(size_t capacity, size_t sets, size_t words_per_set)
{
	return capacity * sizeof(struct memo_entry) + sets * words_per_set * sizeof(uint64_t);
}

static int
memo_fail_full(struct key_check *kc)
{
	snprintf(kc->err, kc->err_size,
		 "key \"%s\": the search outgrew its %u MiB memo cache (%zu configurations)",
		 kc->key, RC_LINCHECK_CACHE_BYTES_MAX >> 20, kc->memo_count);
	return -ENOSPC;
}

/* Doubles the memo table, rehashing its entries. */
static int
memo_grow(struct key_check *kc)
{
	size_t capacity = kc->memo_capacity * 2;
	struct memo_entry *memo;

	if (memo_bytes(capacity, kc->arena_capacity_sets, kc->words_per_set) >
	    RC_LINCHECK_CACHE_BYTES_MAX)
		return memo_fail_full(kc);
	memo = calloc(capacity, sizeof(*memo));
	if (memo == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < kc->memo_capacity; i++) {
		size_t j;

		if (kc->memo[i].bits_slot == 0)
			continue;
		for (j = kc->memo[i].hash & (capacity - 1); memo[j].bits_slot != 0;
		     j = (j + 1) & (capacity - 1))
			;
		memo[j] = kc->memo[i];
	}
	free(kc->memo);
	kc->memo = memo;
	kc->memo_capacity = capacity;
	return 0;
}

/* Adds (kc->bits, state) with hash to the memo. Returns 1 if it is new, 0 if it was there,
 * or a negative errno. */
static int
memo_insert(struct key_check *kc, uint64_t hash, uint32_t state)
{
	size_t set_bytes = kc->words_per_set * sizeof(uint64_t);
	size_t i;
	int rc;

	for (i = hash & (kc->memo_capacity - 1); kc->memo[i].bits_slot != 0;
	     i = (i + 1) & (kc->memo_capacity - 1)) {
		const struct memo_entry *e = &kc->memo[i];
		const uint64_t *set = kc->arena + (size_t)(e->bits_slot - 1) * kc->words_per_set;

		if (e->hash == hash && e->state == state && memcmp(set, kc->bits, set_bytes) == 0)
			return 0;
	}
	if (kc->arena_sets == kc->arena_capacity_sets) {
		size_t capacity = kc->arena_capacity_sets * 2;
		uint64_t *arena;

		if (memo_bytes(kc->memo_capacity, capacity, kc->words_per_set) >
		    RC_LINCHECK_CACHE_BYTES_MAX)
			return memo_fail_full(kc);
		arena = realloc(kc->arena, capacity * set_bytes);
		if (arena == NULL)
			return -ENOMEM;
		kc->arena = arena;
		kc->arena_capacity_sets = capacity;
	}
	memcpy(kc->arena + kc->arena_sets * kc->words_per_set, kc->bits, set_bytes);
	kc->arena_sets++;
	kc->memo[i].hash = hash;
	kc->memo[i].state = state;
	kc->memo[i].bits_slot = (uint32_t)kc->arena_sets;
	kc->memo_count++;
	if (kc->memo_count * 2 > kc->memo_capacity) {
		rc = memo_grow(kc);
		if (rc != 0)
			return rc;
	}
	return 1;
}

/* Takes a call node and its return out of the list. */
static void
list_lift(struct node *nodes, uint32_t call)
{
	uint32_t ret = nodes[call].match;

	nodes[nodes[call].prev].next = nodes[call].next;
	if (nodes[call].next != NODE_NIL)
		nodes[nodes[call].next].prev = nodes[call].prev;
	nodes[nodes[ret].prev].next = nodes[ret].next;
	if (nodes[ret].next != NODE_NIL)
		nodes[nodes[ret].next].prev = nodes[ret].prev;
}

/* Puts back what list_lift(call) took out; lifts are undone in reverse order. */
static void
list_unlift(struct node *nodes, uint32_t call)
{
	uint32_t ret = nodes[call].match;

	nodes[nodes[ret].prev].next = ret;
	if (nodes[ret].next != NODE_NIL)
		nodes[nodes[ret].next].prev = ret;
	nodes[nodes[call].prev].next = call;
	if (nodes[call].next != NODE_NIL)
		nodes[nodes[call].next].prev = call;
}

static void
list_append(struct node *nodes, uint32_t *tail, uint32_t node, uint32_t op)
{
	nodes[node].prev = *tail;
	nodes[node].next = NODE_NIL;
	nodes[node].op = op;
	nodes[node].match = NODE_NIL;
	nodes[*tail].next = node;
	*tail = node;
}

/*
 * Builds the event list of the prefix that ends at events[cut] (inclusive): operations called
 * by then are in it; those not returned by then are pending, their returns at the end.
 */
static void
search_build(struct key_check *kc, uint32_t cut)
{
	uint32_t tail = NODE_HEAD;
	uint32_t next_node = 1;

	kc->nodes[NODE_HEAD].prev = NODE_NIL;
	kc->nodes[NODE_HEAD].next = NODE_NIL;
	kc->nodes[NODE_HEAD].op = NODE_NIL;
	kc->nodes[NODE_HEAD].match = NODE_NIL;
	for (uint32_t i = 0; i < kc->op_count; i++)
		kc->unknown[i] = kc->ops[i].outcome == RC_LINCHECK_UNKNOWN ||
				 kc->return_pos[i] > cut;
	/* Until the search starts, stack[op].node holds the node of op's call. */
	for (uint32_t pos = 0; pos <= cut; pos++) {
		const struct event *ev = &kc->events[pos];
		uint32_t node = next_node++;

		list_append(kc->nodes, &tail, node, ev->op);
		if (ev->is_return)
			kc->nodes[kc->stack[ev->op].node].match = node;
		else
			kc->stack[ev->op].node = node;
	}
	for (uint32_t i = 0; i < kc->op_count; i++) {
		if (kc->call_pos[i] <= cut && kc->return_pos[i] > cut) {
			uint32_t node = next_node++;

			list_append(kc->nodes, &tail, node, i);
			kc->nodes[kc->stack[i].node].match = node;
		}
	}
	RC_ASSERT(next_node <= 1 + 2 * kc->op_count);
}

/*
 * Wing & Gong's search with Lowe's memo over the prefix ending at events[cut]. Returns 1 if it
 * has a linearization, 0 if not, or a negative errno (memo too large, no memory).
 */
static int
search_run(struct key_check *kc, uint32_t cut)
{
	uint32_t state = STATE_MISSING;
	uint32_t depth = 0;
	uint64_t hash = 0;
	uint32_t entry;

	search_build(kc, cut);
	memset(kc->bits, 0, kc->words_per_set * sizeof(uint64_t));
	memset(kc->memo, 0, kc->memo_capacity * sizeof(*kc->memo));
	kc->memo_count = 0;
	kc->arena_sets = 0;
	entry = kc->nodes[NODE_HEAD].next;
	while (kc->nodes[NODE_HEAD].next != NODE_NIL) {
		const struct node *n;
		uint32_t next_state;

		RC_ASSERT(entry != NODE_NIL);
		n = &kc->nodes[entry];
		if (n->match == NODE_NIL) {
			/* A return whose call could not be linearized before it: backtrack. */
			if (depth == 0)
				return 0;
			depth--;
			entry = kc->stack[depth].node;
			state = kc->stack[depth].state;
			kc->bits[kc->nodes[entry].op / 64] &= ~(1ull << (kc->nodes[entry].op % 64));
			hash ^= mix64(kc->nodes[entry].op);
			list_unlift(kc->nodes, entry);
			entry = kc->nodes[entry].next;
			continue;
		}
		if (model_step(state, &kc->ops[n->op], kc->unknown[n->op], &next_state)) {
			uint64_t op_hash = mix64(n->op);
			int rc;

			kc->bits[n->op / 64] |= 1ull << (n->op % 64);
			rc = memo_insert(kc, (hash ^ op_hash) ^ mix64(0x100000000ull | next_state),
					 next_state);
			if (rc < 0)
				return rc;
			if (rc == 1) {
				RC_ASSERT(depth < kc->op_count);
				kc->stack[depth].node = entry;
				kc->stack[depth].state = state;
				depth++;
				hash ^= op_hash;
				state = next_state;
				list_lift(kc->nodes, entry);
				entry = kc->nodes[NODE_HEAD].next;
				continue;
			}
			kc->bits[n->op / 64] &= ~(1ull << (n->op % 64));
		}
		entry = n->next;
	}
	return 1;
}

static int
event_compare(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns < y->ns ? -1 : 1;
	if (x->is_return != y->is_return)
		return x->is_return ? 1 : -1;
	return x->op < y->op ? -1 : x->op > y->op;
}

static void
key_check_free(struct key_check *kc)
{
	free(kc->ops);
	free(kc->events);
	free(kc->call_pos);
	free(kc->return_pos);
	free(kc->unknown);
	free(kc->nodes);
	free(kc->stack);
	free(kc->bits);
	free(kc->memo);
	free(kc->arena);
	memset(kc, 0, sizeof(*kc));
}

/* Numbers a value of the key: 0 for missing, the same number for equal strings. */
static uint32_t
value_number(const char **values, uint32_t *value_count, const char *value)
{
	if (value == NULL)
		return STATE_MISSING;
	for (uint32_t i = 0; i < *value_count; i++)
		if (strcmp(values[i], value) == 0)
			return i + 1;
	values[*value_count] = value;
	return ++*value_count;
}

/* Allocates kc for the count operations of one key, history indexes in indexes (call order not
 * needed), and sorts their events. */
static int
key_check_init(struct key_check *kc, const struct rc_lincheck_history *history,
	       const size_t *indexes, uint32_t count)
{
	const char **values;
	uint32_t value_count = 0;

	kc->op_count = count;
	kc->words_per_set = count / 64 + 1;
	kc->memo_capacity = 1024;
	kc->arena_capacity_sets = 256;
	kc->ops = calloc(count, sizeof(*kc->ops));
	kc->events = calloc(2 * (size_t)count, sizeof(*kc->events));
	kc->call_pos = calloc(count, sizeof(*kc->call_pos));
	kc->return_pos = calloc(count, sizeof(*kc->return_pos));
	kc->unknown = calloc(count, sizeof(*kc->unknown));
	kc->nodes = calloc(1 + 2 * (size_t)count, sizeof(*kc->nodes));
	kc->stack = calloc(count, sizeof(*kc->stack));
	kc->bits = calloc(kc->words_per_set, sizeof(*kc->bits));
	kc->memo = calloc(kc->memo_capacity, sizeof(*kc->memo));
	kc->arena = calloc(kc->arena_capacity_sets * kc->words_per_set, sizeof(*kc->arena));
	values = calloc(2 * (size_t)count, sizeof(*values));
	if (kc->ops == NULL || kc->events == NULL || kc->call_pos == NULL ||
	    kc->return_pos == NULL || kc->unknown == NULL || kc->nodes == NULL ||
	    kc->stack == NULL || kc->bits == NULL || kc->memo == NULL || kc->arena == NULL ||
	    values == NULL) {
		free(values);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < count; i++) {
		const struct rc_lincheck_op *op = &history->ops[indexes[i]];
		struct kop *k = &kc->ops[i];

		k->kind = op->kind;
		k->outcome = op->outcome;
		k->index = indexes[i];
		k->value = value_number(values, &value_count, op->value);
		k->expect = value_number(values, &value_count, op->expect);
		kc->events[2 * i] = (struct event){ .ns = op->call_ns, .op = i };
		kc->events[2 * i + 1] = (struct event){
			.ns = op->outcome == RC_LINCHECK_UNKNOWN ? RC_LINCHECK_NS_INFINITE :
								   op->return_ns,
			.op = i,
			.is_return = true,
		};
	}
	free(values);
	qsort(kc->events, 2 * (size_t)count, sizeof(*kc->events), event_compare);
	for (uint32_t pos = 0; pos < 2 * count; pos++) {
		if (kc->events[pos].is_return)
			kc->return_pos[kc->events[pos].op] = pos;
		else
			kc->call_pos[kc->events[pos].op] = pos;
	}
	for (uint32_t i = 0; i < count; i++)
		RC_ASSERT(kc->call_pos[i] < kc->return_pos[i]);
	return 0;
}

/*
 * Fills kr with the shortest failing prefix of a key whose whole history failed: bisection over
 * the positions of returns of known outcome (a prefix that fails keeps failing when it grows,
 * and the prefix at the last such return fails as the whole history does).
 */
static int
key_check_shortest_prefix(struct key_check *kc, struct rc_lincheck_key_result *kr)
{
	uint32_t *returns = calloc(kc->op_count, sizeof(*returns));
	uint32_t return_count = 0;
	uint32_t lo, hi, cut;

	if (returns == NULL)
		return -ENOMEM;
	for (uint32_t pos = 0; pos < 2 * kc->op_count; pos++)
		if (kc->events[pos].is_return && kc->events[pos].ns != RC_LINCHECK_NS_INFINITE)
			returns[return_count++] = pos;
	RC_ASSERT(return_count > 0); /* unknown outcomes alone always linearize */
	lo = 0;
	hi = return_count - 1; /* Invariant: the prefix at returns[hi] fails */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int rc = search_run(kc, returns[mid]);

		if (rc < 0) {
			free(returns);
			return rc;
		}
		if (rc == 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	cut = returns[hi];
	free(returns);
	kr->culprit_index = kc->ops[kc->events[cut].op].index;
	kr->prefix_op_indexes = calloc(kc->op_count, sizeof(*kr->prefix_op_indexes));
	if (kr->prefix_op_indexes == NULL)
		return -ENOMEM;
	for (uint32_t pos = 0; pos < cut; pos++)
		if (!kc->events[pos].is_return)
			kr->prefix_op_indexes[kr->prefix_op_count++] =
				kc->ops[kc->events[pos].op].index;
	return 0;
}

/* Checks the count operations (history indexes) of one key into kr. */
static int
check_key(const struct rc_lincheck_history *history, const size_t *indexes, uint32_t count,
	  struct rc_lincheck_key_result *kr, char *err, size_t err_size)
{
	struct key_check kc = { .key = kr->key, .err = err, .err_size = err_size };
	int rc;

	rc = key_check_init(&kc, history, indexes, count);
	if (rc == 0)
		rc = search_run(&kc, 2 * count - 1);
	if (rc == 1) {
		kr->linearizable = true;
		rc = 0;
	} else if (rc == 0) {
		rc = key_check_shortest_prefix(&kc, kr);
	}
	if (rc == -ENOMEM)
		snprintf(err, err_size, "key \"%s\": out of memory", kr->key);
	key_check_free(&kc);
	return rc;
}

struct key_index {
	const char *key;
	size_t index;
};

static int
key_index_compare(const void *a, const void *b)
{
	const struct key_index *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Checks each run of equal keys in sorted (op_count entries) into result. */
static int
check_keys(const struct rc_lincheck_history *history, const struct key_index *sorted,
	   size_t *indexes, struct rc_lincheck_result *result, char *err, size_t err_size)
{
	size_t start = 0;

	while (start < history->op_count) {
		struct rc_lincheck_key_result *kr = &result->keys[result->key_count];
		size_t end = start;
		int rc;

		while (end < history->op_count && strcmp(sorted[end].key, sorted[start].key) == 0) {
			indexes[end - start] = sorted[end].index;
			end++;
		}
		kr->key = sorted[start].key;
		kr->op_count = end - start;
		result->key_count++;
		if (kr->op_count > RC_LINCHECK_KEY_OPS_MAX) {
			snprintf(err, err_size,
				 "key \"%s\" has %zu operations; at most %u are checked", kr->key,
				 kr->op_count, RC_LINCHECK_KEY_OPS_MAX);
			return -E2BIG;
		}
		rc = check_key(history, indexes, (uint32_t)kr->op_count, kr, err, err_size);
		if (rc != 0)
			return rc;
		if (!kr->linearizable)
			result->violation_count++;
		start = end;
	}
	return 0;
}

int
rc_lincheck_check(const struct rc_lincheck_history *history, struct rc_lincheck_result *result,
		  char *err, size_t err_size)
{
	struct key_index *sorted;
	size_t *indexes;
	int rc;

	RC_ASSERT(history != NULL && result != NULL);
	memset(result, 0, sizeof(*result));
	if (history->op_count == 0)
		return 0;
	sorted = calloc(history->op_count, sizeof(*sorted));
	indexes = calloc(history->op_count, sizeof(*indexes));
	result->keys = calloc(history->op_count, sizeof(*result->keys));
	if (sorted == NULL || indexes == NULL || result->keys == NULL) {
		snprintf(err, err_size, "out of memory");
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < history->op_count; i++)
		sorted[i] = (struct key_index){ .key = history->ops[i].key, .index = i };
	qsort(sorted, history->op_count, sizeof(*sorted), key_index_compare);
	rc = check_keys(history, sorted, indexes, result, err, err_size);
out:
	free(sorted);
	free(indexes);
	if (rc != 0)
		rc_lincheck_result_free(result);
	return rc;
}

void
rc_lincheck_result_free(struct rc_lincheck_result *result)
{
	if (result->keys != NULL)
		for (size_t i = 0; i < result->key_count; i++)
			free(result->keys[i].prefix_op_indexes);
	free(result->keys);
	memset(result, 0, sizeof(*result));
}

/* ---- Report ----------------------------------------------------------------------------- */

/* The most operations of a failing prefix printed; the latest ones are kept. */
#define PRINT_PREFIX_OPS_MAX 40u

static void
print_value(FILE *out, const char *value)
{
	if (value == NULL)
		fputs("missing", out);
	else
		fprintf(out, "\"%s\"", value);
}

void
rc_lincheck_op_print(FILE *out, const struct rc_lincheck_op *op)
{
	bool known = op->outcome != RC_LINCHECK_UNKNOWN;

	fprintf(out, "client %" PRIu64 " ", op->client);
	switch (op->kind) {
	case RC_LINCHECK_PUT:
		fprintf(out, "put(\"%s\", ", op->key);
		print_value(out, op->value);
		fputs(")", out);
		break;
	case RC_LINCHECK_GET:
		fprintf(out, "get(\"%s\")", op->key);
		if (op->outcome == RC_LINCHECK_OK) {
			fputs(" -> ", out);
			print_value(out, op->value);
		}
		break;
	case RC_LINCHECK_CAS:
		fprintf(out, "cas(\"%s\", ", op->key);
		print_value(out, op->expect);
		fputs(" => ", out);
		print_value(out, op->value);
		fputs(")", out);
		break;
	case RC_LINCHECK_DELETE:
		fprintf(out, "delete(\"%s\")", op->key);
		break;
	}
	if (!known)
		fputs(" outcome unknown", out);
	else if (op->kind == RC_LINCHECK_CAS)
		fputs(op->outcome == RC_LINCHECK_OK ? " swapped" : " not swapped", out);
	else if (op->outcome == RC_LINCHECK_FAILED)
		fputs(" failed", out);
	fprintf(out, " [%" PRIu64 ", ", op->call_ns);
	if (known)
		fprintf(out, "%" PRIu64 "]", op->return_ns);
	else
		fputs("open]", out);
	if (op->line != 0)
		fprintf(out, " (line %" PRIu32 ")", op->line);
	fputc('\n', out);
}

static void
print_violation(FILE *out, const struct rc_lincheck_history *history,
		const struct rc_lincheck_key_result *kr)
{
	const struct rc_lincheck_op *culprit = &history->ops[kr->culprit_index];
	size_t first = 0;

	fprintf(out, "  no linearization of its first %zu operations, up to the return of:\n    ",
		kr->prefix_op_count);
	rc_lincheck_op_print(out, culprit);
	if (kr->prefix_op_count > PRINT_PREFIX_OPS_MAX) {
		first = kr->prefix_op_count - PRINT_PREFIX_OPS_MAX;
		fprintf(out, "  (%zu earlier operations not shown)\n", first);
	}
	for (size_t i = first; i < kr->prefix_op_count; i++) {
		const struct rc_lincheck_op *op = &history->ops[kr->prefix_op_indexes[i]];
		bool pending = op->outcome != RC_LINCHECK_UNKNOWN &&
			       op->return_ns > culprit->return_ns;

		fputs(pending ? "    pending: " : "    ", out);
		rc_lincheck_op_print(out, op);
	}
}

void
rc_lincheck_result_print(FILE *out, const struct rc_lincheck_history *history,
			 const struct rc_lincheck_result *result)
{
	for (size_t i = 0; i < result->key_count; i++) {
		const struct rc_lincheck_key_result *kr = &result->keys[i];

		fprintf(out, "key \"%s\": %s (%zu operations)\n", kr->key,
			kr->linearizable ? "linearizable" : "NOT linearizable", kr->op_count);
		if (!kr->linearizable)
			print_violation(out, history, kr);
	}
}
