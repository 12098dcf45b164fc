/*
 * Linearizability checker for key-value histories: parses JSON-lines histories of put, get, cas
 * and delete, and decides per key whether a single-register model explains them (Wing & Gong's
 * search with Lowe's memoisation, one key at a time as Porcupine does).
 */
#ifndef RC_LINCHECK_H
#define RC_LINCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The most operations one key may have; a check of a key with more fails with -E2BIG. */
#define RC_LINCHECK_KEY_OPS_MAX 4096u
/* The most bytes the memo cache of one key's search may hold; beyond it the check fails. */
#define RC_LINCHECK_CACHE_BYTES_MAX (256u << 20)
/* Return time of an operation whose outcome is unknown: it stays open forever. */
#define RC_LINCHECK_NS_INFINITE UINT64_MAX

enum rc_lincheck_kind {
	RC_LINCHECK_PUT,
	RC_LINCHECK_GET,
	RC_LINCHECK_CAS,
	RC_LINCHECK_DELETE,
};

enum rc_lincheck_outcome {
	RC_LINCHECK_OK,	     /* "ok":true */
	RC_LINCHECK_FAILED,  /* "ok":false: a cas that did not swap; any other op had no effect */
	RC_LINCHECK_UNKNOWN, /* "ok":null or no return_ns: may or may not have taken effect */
};

/* One operation of a history, as one line of the file gave it. */
struct rc_lincheck_op {
	enum rc_lincheck_kind kind;
	enum rc_lincheck_outcome outcome;
	uint64_t client;
	char *key;    /* never NULL */
	char *value;  /* put/cas: the value written; get: the value read; NULL = key missing */
	char *expect; /* cas only: the compared value; NULL = key missing */
	uint64_t call_ns;
	uint64_t return_ns; /* RC_LINCHECK_NS_INFINITE when the outcome is unknown */
	uint32_t line;	    /* 1-based line of the file (0 when built in memory) */
};

/* A parsed history; owns its operations and their strings. Zero-initialise before use. */
struct rc_lincheck_history {
	struct rc_lincheck_op *ops;
	size_t op_count;
	size_t op_capacity;
};

/*
 * Parses one line of the history format (without its newline) and appends the operation to
 * history. A line of only blanks adds nothing. Returns 0, or -EINVAL with "LINE:COLUMN: why"
 * written to err (err_size bytes, NUL-terminated), or -ENOMEM.
 */
int rc_lincheck_parse_line(struct rc_lincheck_history *history, const char *text, uint32_t line,
			   char *err, size_t err_size);

/* Reads every line of file into history with rc_lincheck_parse_line(); the first error stops it
 * and is returned as that function returns it (-EIO when reading fails). */
int rc_lincheck_parse_file(struct rc_lincheck_history *history, FILE *file, char *err,
			   size_t err_size);

/* Frees the operations and their strings; the history may be reused after. */
void rc_lincheck_history_free(struct rc_lincheck_history *history);

/* The verdict on one key. */
struct rc_lincheck_key_result {
	const char *key; /* points into the history, which must outlive the result */
	size_t op_count; /* operations on the key */
	bool linearizable;
	/*
	 * On a violation: the operations (history indexes, in call order) of the shortest prefix
	 * of the key's history that has no linearization. The prefix ends at the return of
	 * culprit_index; operations called before it and not yet returned are in it as pending
	 * (they may or may not have taken effect).
	 */
	size_t *prefix_op_indexes;
	size_t prefix_op_count;
	size_t culprit_index;
};

/* The verdict on a whole history: one entry per key, in key order (strcmp). */
struct rc_lincheck_result {
	struct rc_lincheck_key_result *keys;
	size_t key_count;
	size_t violation_count; /* keys that are not linearizable; 0 = the history is */
};

/*
 * Checks history key by key and fills result (which must be freed with
 * rc_lincheck_result_free() after a 0 return). Returns 0 whatever the verdict, or -E2BIG (a key
 * has more than RC_LINCHECK_KEY_OPS_MAX operations), -ENOSPC (a search outgrew
 * RC_LINCHECK_CACHE_BYTES_MAX) or -ENOMEM, with the reason in err; result is then empty.
 */
int rc_lincheck_check(const struct rc_lincheck_history *history, struct rc_lincheck_result *result,
		      char *err, size_t err_size);

/* Frees what rc_lincheck_check() allocated. */
void rc_lincheck_result_free(struct rc_lincheck_result *result);

/* Writes one line per key and, for each violation, its prefix with clients and times. */
void rc_lincheck_result_print(FILE *out, const struct rc_lincheck_history *history,
			      const struct rc_lincheck_result *result);

/* Writes one operation on one line, e.g. "client 2 cas(k, a -> b) = ok [100, 250] (line 7)". */
void rc_lincheck_op_print(FILE *out, const struct rc_lincheck_op *op);

#endif
