/*
 * The committed log, readable from any thread without a lock (DESIGN.md §2).
 *
 * One writer (the thread that runs the node) stores each entry's payload in a slot of a
 * fixed-size chunk when the entry enters the log, its term and type when it commits, then
 * publishes the new commit index. Chunks come from a pool allocated at creation and cover
 * chunk_entries consecutive indexes each. Readers registered with rc_rcu_register() (QSBR on
 * poll loops, memb elsewhere) read entries at or below the published commit index, which are
 * immutable; truncation by the core only ever touches uncommitted slots. Compaction publishes a
 * new first index, unhooks the chunks below it and gives them back to the pool through
 * rc_rcu_defer(), after a grace period: the writer never waits for readers.
 *
 * A reader that holds a grace period back (a QSBR thread that stops announcing quiescent states,
 * a memb thread stuck inside a read) keeps retired chunks from coming back. The pool then runs
 * dry and the writer refuses new entries (rc_log_reserve() fails, `stalls` counts it): the node
 * stops taking proposals and AppendEntries until memory returns, and memory never grows.
 */
#ifndef REPLICORE_LOG_H
#define REPLICORE_LOG_H

#include <stdbool.h>
#include <stdint.h>

/* What a read returns. Every code is distinct; rc_log_strerror() names them. */
enum rc_log_status {
	RC_LOG_OK = 0,
	RC_LOG_COMPACTED = 1,	  /* the index is below the first one the log still holds */
	RC_LOG_NOT_COMMITTED = 2, /* the index is above the published commit index */
	RC_LOG_NOT_READER = 3,	  /* the calling thread is not registered with rc_rcu_register() */
	RC_LOG_TOO_SMALL = 4, /* rc_log_copy(): the caller's buffer is smaller than the payload */
};

struct rc_log_config {
	uint32_t payload_bytes_max; /* largest payload of one entry, 1..RC_ENTRY_BYTES_MAX */
	uint32_t chunk_entries;	    /* indexes per chunk, a power of two, 64..65536 */
	uint32_t span_entries;	    /* most indexes the writer holds at once (first..last) */
	uint32_t spare_chunks;	    /* chunks beyond the span, for retired ones in a grace period */
	bool poison; /* fill a chunk with 0xdb when it comes back (tests, debugging) */
};

/* One committed entry as a reader sees it; data stays valid until the read-side section ends. */
struct rc_log_view {
	uint64_t index;
	uint64_t term;
	uint32_t bytes;
	uint16_t type; /* enum rc_entry_type */
	const void *data;
};

/* Counters, written by the writer only. */
struct rc_log_stats {
	uint64_t chunks_taken;	   /* chunks hooked in from the pool */
	uint64_t chunks_retired;   /* chunks unhooked and deferred */
	uint64_t chunks_returned;  /* chunks back in the pool after a grace period */
	uint64_t stalls;	   /* reserve attempts refused because the pool was empty */
	uint32_t chunks_free;	   /* in the pool now, returned ones included */
	uint32_t chunks_in_flight; /* retired, waiting for a grace period */
};

struct rc_log;

/*
 * Fills cfg with defaults for payloads up to payload_bytes_max and the core's ring: 4096-entry
 * chunks, and four rings' worth of spare chunks, because a grace period takes milliseconds when
 * liburcu's call_rcu threads have to share the cores of busy poll loops, and at millions of
 * commits per second a few milliseconds are a few rings.
 */
void rc_log_config_default(struct rc_log_config *cfg, uint32_t payload_bytes_max);

/*
 * Creates an empty log whose next entry will be first_index. Allocates every chunk now.
 * Returns 0 and *out, -EINVAL (bad configuration) or -ENOMEM.
 */
int rc_log_create(const struct rc_log_config *cfg, uint64_t first_index, struct rc_log **out);

/*
 * Frees the log once no reader can hold it: waits for every deferred chunk (rc_rcu_barrier), so
 * it blocks; call it after the readers are done with this log.
 */
void rc_log_destroy(struct rc_log *log);

/* ---- Writer (the node's thread) ------------------------------------------------------------ */

/*
 * Makes sure slots exist for every index up to last, taking chunks back from grace periods that
 * ended, then from the pool. Returns the highest index that has a slot: below last (a stall,
 * counted) when the pool cannot cover them, and the caller must not add the rest yet.
 */
uint64_t rc_log_reserve(struct rc_log *log, uint64_t last);

/* The payload slot of index (reserved, above the commit index): payload_bytes_max bytes. */
void *rc_log_slot(struct rc_log *log, uint64_t index);

/* The payload slot of index for the writer's own reads (held, at or above the first index). */
const void *rc_log_slot_const(const struct rc_log *log, uint64_t index);

/*
 * Records the term, type and size of a newly committed index (index = commit + 1 + k, in
 * order), without publishing it yet.
 */
void rc_log_seal(struct rc_log *log, uint64_t index, uint64_t term, uint16_t type, uint32_t bytes);

/* Publishes every sealed index up to commit to readers. Never moves back. */
void rc_log_publish(struct rc_log *log, uint64_t commit);

/*
 * Drops every index below first (at most the published commit + 1): readers get
 * RC_LOG_COMPACTED for them at once; whole chunks below first are retired and return to the
 * pool after a grace period. Never moves back.
 */
void rc_log_compact(struct rc_log *log, uint64_t first);

/*
 * Starts the log again after index (a snapshot installed from the leader): every index up to it
 * is dropped for readers at once, index counts as sealed and published, and the writer goes on
 * at index + 1. index must not lie below the sealed index.
 */
void rc_log_restart(struct rc_log *log, uint64_t index);

/*
 * Compaction hands unhooked chunks to grace periods a batch at a time (each grace period wakes
 * liburcu's threads); this hands over the ones waiting now (before rc_rcu_barrier(), say).
 */
void rc_log_flush(struct rc_log *log);

/* The highest sealed index: slots at or below it are immutable, the writer must not touch them. */
uint64_t rc_log_sealed_index(const struct rc_log *log);

/* The writer's counters. */
const struct rc_log_stats *rc_log_stats(struct rc_log *log);

/* ---- Readers (any registered thread) ------------------------------------------------------- */

/*
 * Reads index into *view. Call inside rc_rcu_read_lock()/rc_rcu_read_unlock(); view->data is
 * valid until the unlock. Returns RC_LOG_OK, RC_LOG_COMPACTED or RC_LOG_NOT_COMMITTED.
 */
enum rc_log_status rc_log_read(const struct rc_log *log, uint64_t index, struct rc_log_view *view);

/*
 * Reads up to count consecutive entries from index into views[] (same rules as rc_log_read).
 * Returns how many were read (0: see *status), stopping at the commit index.
 */
uint32_t rc_log_read_batch(const struct rc_log *log, uint64_t index, struct rc_log_view *views,
			   uint32_t count, enum rc_log_status *status);

/*
 * Copies index's payload into buf (cap bytes) in a read-side section of its own: the simple form
 * for a registered thread that keeps no view. Fills *view with data = buf.
 */
enum rc_log_status rc_log_copy(const struct rc_log *log, uint64_t index, void *buf, uint32_t cap,
			       struct rc_log_view *view);

/* The published commit index and the first index still held (either may move meanwhile). */
uint64_t rc_log_commit_index(const struct rc_log *log);
uint64_t rc_log_first_index(const struct rc_log *log);

/* A short name for a status ("ok", "compacted", ...). */
const char *rc_log_strerror(enum rc_log_status s);

#endif
