/*
 * A replicated key-value state machine: PUT, DELETE and compare-and-set travel through Raft as
 * log entries (the encoders below build them); every replica applies them in log order to a
 * liburcu lock-free hash table (cds_lfht). GETs run on any registered thread without a lock
 * while the apply loop writes: an item is never changed once readers can see it (a PUT
 * replaces it with a new one) and a replaced or deleted item goes back to a fixed pool only
 * after a grace period of both RCU flavours.
 *
 * Reads through rc_kv_get() are `local`: they see this replica's applied state, which may lag
 * the leader's (stale, never torn, never uncommitted). Linearizable reads go through the node's
 * ReadIndex and wait until this replica has applied the read index; see node.h.
 *
 * Capacity is deterministic: a PUT or CAS that would create a key beyond `capacity` fails with
 * RC_KV_FULL on every replica alike. When the pool is dry only because a stalled reader holds
 * a grace period, rc_kv_apply() asks the node to retry the entry later (back-pressure), so a
 * stalled reader never makes memory grow.
 */
#ifndef REPLICORE_KV_H
#define REPLICORE_KV_H

#include <stdbool.h>
#include <stdint.h>

#include <replicore/node.h>

#define RC_KV_KEY_BYTES_MAX 255u
#define RC_KV_VALUE_BYTES_MAX 4096u
/* Bytes of a command's header (op, key length, value length, expected length, reserved). */
#define RC_KV_COMMAND_HEADER_BYTES 8u
/* A CAS whose expected length is this requires the key to be absent. */
#define RC_KV_EXPECT_ABSENT 0xffffu

enum rc_kv_op {
	RC_KV_PUT = 1,
	RC_KV_DELETE = 2,
	RC_KV_CAS = 3,
};

/* The outcome of a command or a read. Every replica reaches the same outcome for a command. */
enum rc_kv_result {
	RC_KV_OK = 0,
	RC_KV_NOT_FOUND = 1,	/* DELETE or GET of an absent key */
	RC_KV_CAS_MISMATCH = 2, /* the current value is not the expected one */
	RC_KV_FULL = 3,		/* the table holds `capacity` keys already */
	RC_KV_BAD_COMMAND = 4,	/* a malformed entry: applied as a no-op */
	RC_KV_TOO_SMALL = 5,	/* GET: the caller's buffer is smaller than the value */
	RC_KV_NOT_READER = 6,	/* GET from a thread not registered with rc_rcu_register() */
};

struct rc_kv_config {
	uint32_t capacity;	  /* most keys the table holds */
	uint32_t key_bytes_max;	  /* 1..RC_KV_KEY_BYTES_MAX */
	uint32_t value_bytes_max; /* 0..RC_KV_VALUE_BYTES_MAX */
	uint32_t spare_items;	  /* items beyond capacity, for replaced ones in a grace period */
};

struct rc_kv_stats {
	uint64_t applied; /* commands applied */
	uint64_t puts, deletes, cas_ok, cas_mismatch, full, bad_commands;
	uint64_t retries; /* applies refused because every spare item waits for a grace period */
	uint64_t keys;	  /* keys in the table now */
};

struct rc_kv;

/* Fills cfg with defaults for capacity keys of up to key_max and value_max bytes. */
void rc_kv_config_default(struct rc_kv_config *cfg, uint32_t capacity, uint32_t key_max,
			  uint32_t value_max);

/* Creates an empty table; allocates every item now. Returns 0, -EINVAL or -ENOMEM. */
int rc_kv_create(const struct rc_kv_config *cfg, struct rc_kv **out);

/* Frees the table after every deferred item came back (blocks; readers must be done). */
void rc_kv_destroy(struct rc_kv *kv);

/* ---- Commands (any thread) ----------------------------------------------------------------- */

/* Encodes PUT key=value into buf. Returns the bytes, -EINVAL (bad length) or -EMSGSIZE. */
int32_t rc_kv_encode_put(void *buf, uint32_t cap, const void *key, uint32_t key_len,
			 const void *value, uint32_t value_len);

/* Encodes DELETE key. */
int32_t rc_kv_encode_delete(void *buf, uint32_t cap, const void *key, uint32_t key_len);

/*
 * Encodes CAS key: expected -> value. expected == NULL requires the key to be absent (create
 * if absent).
 */
int32_t rc_kv_encode_cas(void *buf, uint32_t cap, const void *key, uint32_t key_len,
			 const void *expected, uint32_t expected_len, const void *value,
			 uint32_t value_len);

/* A command as decoded from an entry; pointers point into the entry. */
struct rc_kv_command {
	uint8_t op;	       /* enum rc_kv_op */
	uint32_t key_len;      /* 1..255 */
	uint32_t value_len;    /* 0..RC_KV_VALUE_BYTES_MAX; 0 for DELETE */
	uint32_t expected_len; /* CAS: its length or RC_KV_EXPECT_ABSENT; else 0 */
	const uint8_t *key, *value, *expected;
};

/*
 * Decodes an entry as a command, checking every length against the entry and the protocol's
 * limits (a table checks its own key and value limits on top). Returns false for a malformed
 * one. The encoders and this decoder live in the core library: no liburcu needed.
 */
bool rc_kv_command_decode(const void *cmd, uint32_t bytes, struct rc_kv_command *c);

/* ---- The apply loop (one thread) ----------------------------------------------------------- */

/*
 * Applies the command committed at index. Returns false when the entry must be retried later
 * (see above); otherwise true with the outcome in *result. The thread must be registered with
 * rc_rcu_register() or be the table's only user.
 */
bool rc_kv_apply(struct rc_kv *kv, uint64_t index, const void *cmd, uint32_t bytes,
		 enum rc_kv_result *result);

/*
 * rc_kv_apply() as a node's apply callback (rc_node_apply_fn, ctx = the table), and as its batch
 * apply (rc_node_apply_batch_fn: the batch in one read-side section). The outcome of each entry
 * of the last call is kept for the completion callbacks that follow it (rc_kv_result_of).
 */
bool rc_kv_node_apply(void *kv, uint64_t index, const void *cmd, uint32_t bytes);
uint32_t rc_kv_node_apply_batch(void *kv, const struct rc_apply_entry *entries, uint32_t count);

/*
 * The outcome of entry index if the last rc_kv_node_apply[_batch]() call applied it (true), for
 * a node's complete callback; false otherwise. Apply thread only.
 */
bool rc_kv_result_of(const struct rc_kv *kv, uint64_t index, enum rc_kv_result *result);

/*
 * Snapshots. rc_kv_snapshot_save() writes the whole table as of the last applied index to fd
 * (from the current offset): "RCKVSNAP", a version, the applied index, the key count, the digest
 * of applied commands (rc_kv_digest), then per
 * key its length, value length, version, key and value, then a 64-bit checksum of all that (all
 * little-endian). Call it on the apply thread between two applies, so that the snapshot is the
 * state at exactly one index (writing it off the loop comes with the write-ahead log).
 * Returns 0 and the index in *index, or -errno.
 *
 * rc_kv_snapshot_restore() reads a snapshot from fd and checks all of it (magic, version, every
 * length against this table's limits and capacity, the count, the checksum, nothing after it)
 * before it touches the table; then it replaces the table's contents and applied index. A fault
 * in the file returns -EINVAL (a read error -errno) with the table unchanged. Loading waits (up to
 * ten seconds) for items a grace period holds; a reader that stalls longer makes it return -ENOMEM
 * with the table partly loaded. Apply thread only.
 */
int rc_kv_snapshot_save(struct rc_kv *kv, int fd, uint64_t *index);
int rc_kv_snapshot_restore(struct rc_kv *kv, int fd, uint64_t *index);
/* The same, shaped as a node's snapshot_save / snapshot_restore (ctx: the struct rc_kv). */
int rc_kv_node_snapshot_save(void *kv, int fd, uint64_t *index);
int rc_kv_node_snapshot_restore(void *kv, int fd, uint64_t *index);

/* The counters (apply thread). */
const struct rc_kv_stats *rc_kv_stats(const struct rc_kv *kv);

/* ---- Reads (any registered thread) --------------------------------------------------------- */

/*
 * Local read: copies key's value into buf (cap bytes), its length into *value_len and the log
 * index that wrote it into *version (either may be NULL). Lock-free; possibly stale.
 */
enum rc_kv_result rc_kv_get(const struct rc_kv *kv, const void *key, uint32_t key_len, void *buf,
			    uint32_t cap, uint32_t *value_len, uint64_t *version);

/*
 * A digest of every command applied so far (their indexes and bytes, FNV-1a; carried by
 * snapshots): two replicas that applied the same entries up to the same index hold the same one.
 * Read it between applies (the node's thread, or once the node is idle).
 */
uint64_t rc_kv_digest(const struct rc_kv *kv);

/* The last index applied to the table (readers may see it move on). */
uint64_t rc_kv_applied_index(const struct rc_kv *kv);

/* A short name for a result ("ok", "not found", ...). */
const char *rc_kv_strerror(enum rc_kv_result r);

#endif
