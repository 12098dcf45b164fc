/*
 * The committed log with lock-free readers (see log.h).
 *
 * Index i lives in the chunk whose base is i rounded down to chunk_entries, found through a
 * table of chunk pointers indexed by (i / chunk_entries) mod the table size. The table is
 * larger than the span the writer may hold plus one chunk, so two live chunks never share a
 * table slot; a reader still checks the chunk's base, because the slot it looked at may have
 * been emptied and refilled for a later base while it read.
 *
 * Publication order (writer, release stores; readers, acquire loads):
 *   payload written at append -> term/type/size sealed at commit -> commit index published;
 *   first index published -> chunk unhooked from the table -> chunk deferred (grace period) ->
 *   chunk pushed on the returned stack by the call_rcu thread -> popped by the writer.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/lfstack.h>

#include <replicore/assert.h>
#include <replicore/limits.h>
#include <replicore/log.h>
#include <replicore/rcu.h>

#include "../rcu/tsan.h"

/* What a reader needs of one entry besides its payload. */
struct log_meta {
	uint64_t term;
	uint32_t bytes;
	uint16_t type;
	uint16_t reserved;
};

struct log_chunk {
	struct rc_rcu_head rcu;
	struct cds_lfs_node returned_node;
	struct rc_log *log;
	struct log_chunk *next_free; /* the writer's free list */
	uint64_t base;		     /* first index; set before the chunk is hooked */
	struct log_meta *meta;	     /* chunk_entries of them */
	uint8_t *payload;	     /* chunk_entries slots of payload_bytes_max */
};

struct rc_log {
	/* Read by every reader. */
	_Alignas(64) _Atomic uint64_t commit; /* highest index readers may read */
	_Atomic uint64_t first;		      /* lowest index readers may read */
	_Atomic(struct log_chunk *) *table;
	uint32_t shift; /* log2(chunk_entries) */
	uint32_t table_mask;
	uint32_t payload_bytes_max;

	/* The writer's. */
	_Alignas(64) struct rc_log_config cfg;
	uint32_t chunk_count;
	struct log_chunk *chunks;
	uint8_t *memory;
	struct log_chunk *free_list;
	uint64_t sealed; /* highest index whose term/type/size is written */
	/* The chunks the writer used last to append, to seal and to send (each stream mostly
	 * stays in one chunk, and the three may be chunks apart); NULL after compaction. */
	struct log_chunk *last_append, *last_seal, *last_send;
	/* Unhooked chunks not handed to a grace period yet (chained through next_free). */
	struct log_chunk *retiring;
	uint32_t retiring_count;
	uint32_t retire_batch; /* retiring chunks handed over at once */
	uint64_t hooked_lo;    /* base of the lowest hooked chunk */
	uint64_t hooked_end;   /* one past the last index a hooked chunk covers */
	struct rc_log_stats stats;

	/* Written by call_rcu threads. */
	_Alignas(64) struct __cds_lfs_stack returned;
	_Atomic uint32_t in_flight;
};

/* Fills cfg with defaults (see log.h). */
void
rc_log_config_default(struct rc_log_config *cfg, uint32_t payload_bytes_max)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->payload_bytes_max = payload_bytes_max;
	cfg->chunk_entries = 4096;
	cfg->span_entries = RC_LOG_ENTRIES_MAX;
	cfg->spare_chunks = 4 * RC_LOG_ENTRIES_MAX / 4096;
}

/* Returns the table slot of index. */
static inline _Atomic(struct log_chunk *) *
log_table_slot(const struct rc_log *log, uint64_t index)
{
	return &log->table[(index >> log->shift) & log->table_mask];
}

/* Creates the log; see log.h. */
int
rc_log_create(const struct rc_log_config *cfg, uint64_t first_index, struct rc_log **out)
{
	uint32_t ce = cfg->chunk_entries;
	struct rc_log *log;

	if (cfg->payload_bytes_max == 0 || cfg->payload_bytes_max > RC_ENTRY_BYTES_MAX || ce < 64 ||
	    ce > 65536 || (ce & (ce - 1)) != 0 || cfg->span_entries == 0 || first_index == 0) {
		fprintf(stderr,
			"replicore: log: bad configuration (payload %u, chunk %u, span %u)\n",
			cfg->payload_bytes_max, ce, cfg->span_entries);
		return -EINVAL;
	}
	log = aligned_alloc(64, sizeof(*log));
	if (log == NULL)
		return -ENOMEM;
	memset(log, 0, sizeof(*log));
	log->cfg = *cfg;
	log->shift = (uint32_t)__builtin_ctz(ce);
	log->payload_bytes_max = cfg->payload_bytes_max;
	/* Chunks the span can touch: a span not aligned to chunks straddles one more. */
	uint32_t span_chunks = (cfg->span_entries + ce - 1) / ce + 1;
	uint32_t table_slots = 1;

	while (table_slots < span_chunks + 1)
		table_slots <<= 1;
	log->table_mask = table_slots - 1;
	log->chunk_count = span_chunks + cfg->spare_chunks;
	/* A span's worth of chunks per grace period, at most half the spares (at least one). */
	log->retire_batch = span_chunks < cfg->spare_chunks / 2 ? span_chunks :
								  cfg->spare_chunks / 2;
	if (log->retire_batch == 0)
		log->retire_batch = 1;
	log->table = calloc(table_slots, sizeof(*log->table));
	log->chunks = calloc(log->chunk_count, sizeof(*log->chunks));
	log->memory = calloc((size_t)log->chunk_count * ce,
			     sizeof(struct log_meta) + cfg->payload_bytes_max);
	if (log->table == NULL || log->chunks == NULL || log->memory == NULL) {
		free(log->table);
		free(log->chunks);
		free(log->memory);
		free(log);
		return -ENOMEM;
	}
	uint8_t *p = log->memory;

	for (uint32_t i = 0; i < log->chunk_count; i++) {
		struct log_chunk *c = &log->chunks[i];

		c->log = log;
		c->meta = (struct log_meta *)(void *)p;
		p += (size_t)ce * sizeof(struct log_meta);
		c->payload = p;
		p += (size_t)ce * cfg->payload_bytes_max;
		c->next_free = log->free_list;
		log->free_list = c;
	}
	__cds_lfs_init(&log->returned);
	atomic_init(&log->commit, first_index - 1);
	atomic_init(&log->first, first_index);
	log->sealed = first_index - 1;
	log->hooked_lo = first_index & ~(uint64_t)(ce - 1);
	log->hooked_end = log->hooked_lo;
	*out = log;
	return 0;
}

static void log_retire_flush(struct rc_log *log);

/* Hands the chunks compaction unhooked to a grace period now. */
void
rc_log_flush(struct rc_log *log)
{
	log_retire_flush(log);
}

/* Frees the log after every deferred chunk came back. */
void
rc_log_destroy(struct rc_log *log)
{
	if (log == NULL)
		return;
	log_retire_flush(log);
	if (atomic_load(&log->in_flight) > 0)
		rc_rcu_barrier();
	RC_ASSERT(atomic_load(&log->in_flight) == 0);
	free(log->table);
	free(log->chunks);
	free(log->memory);
	free(log);
}

/*
 * Runs on a call_rcu thread once no reader can hold the chunks of one compaction (chained
 * through next_free from the first): back to the writer.
 */
static void
log_chunks_returned(struct rc_rcu_head *h)
{
	struct log_chunk *c = (struct log_chunk *)(void *)h;
	struct rc_log *log = c->log;

	while (c != NULL) {
		struct log_chunk *next = c->next_free;

		RC_TSAN_RELEASE(c);
		cds_lfs_push(&log->returned, &c->returned_node);
		atomic_fetch_sub_explicit(&log->in_flight, 1, memory_order_release);
		c = next;
	}
}

/* Hands every unhooked chunk to one grace period. */
static void
log_retire_flush(struct rc_log *log)
{
	if (log->retiring == NULL)
		return;
	rc_rcu_defer(&log->retiring->rcu, log_chunks_returned);
	log->retiring = NULL;
	log->retiring_count = 0;
}

/* Moves every chunk the grace periods gave back onto the writer's free list. */
static void
log_take_returned(struct rc_log *log)
{
	struct cds_lfs_head *head = __cds_lfs_pop_all(&log->returned);
	struct cds_lfs_node *node, *next;

	if (head == NULL)
		return;
	cds_lfs_for_each_safe(head, node, next)
	{
		struct log_chunk *c = caa_container_of(node, struct log_chunk, returned_node);

		RC_TSAN_ACQUIRE(c);
		if (log->cfg.poison) {
			memset(c->meta, 0xdb, (size_t)log->cfg.chunk_entries * sizeof(*c->meta));
			memset(c->payload, 0xdb,
			       (size_t)log->cfg.chunk_entries * log->payload_bytes_max);
		}
		c->next_free = log->free_list;
		log->free_list = c;
		log->stats.chunks_returned++;
	}
}

/* Hooks chunks until every index up to last has a slot; see log.h. */
uint64_t
rc_log_reserve(struct rc_log *log, uint64_t last)
{
	uint64_t ce = log->cfg.chunk_entries;

	while (log->hooked_end <= last) {
		_Atomic(struct log_chunk *) *slot = log_table_slot(log, log->hooked_end);
		struct log_chunk *c;

		if (log->free_list == NULL) {
			log_retire_flush(log); /* what waits must be on its way back */
			log_take_returned(log);
		}
		/* The pool is dry, or the writer holds more than its span: refuse. */
		if (log->free_list == NULL ||
		    atomic_load_explicit(slot, memory_order_relaxed) != NULL) {
			log->stats.stalls++;
			break;
		}
		c = log->free_list;
		log->free_list = c->next_free;
		c->base = log->hooked_end;
		atomic_store_explicit(slot, c, memory_order_release);
		log->hooked_end += ce;
		log->stats.chunks_taken++;
	}
	return log->hooked_end - 1;
}

/*
 * Returns the writer's chunk of index, which must be hooked: *last when it holds index (most
 * often), else the table's, remembered in *last.
 */
static inline struct log_chunk *
log_writer_chunk(const struct rc_log *log, uint64_t index, struct log_chunk **last)
{
	struct log_chunk *c = *last;

	if (c != NULL && index - c->base < log->cfg.chunk_entries)
		return c;
	c = atomic_load_explicit(log_table_slot(log, index), memory_order_relaxed);
	RC_ASSERT(c != NULL && c->base == (index & ~(uint64_t)(log->cfg.chunk_entries - 1)));
	*last = c;
	return c;
}

/* The payload slot of an index above the commit index. */
void *
rc_log_slot(struct rc_log *log, uint64_t index)
{
	RC_ASSERT(index > log->sealed && index < log->hooked_end);
	struct log_chunk *c = log_writer_chunk(log, index, &log->last_append);

	return c->payload + (size_t)(index & (log->cfg.chunk_entries - 1)) * log->payload_bytes_max;
}

/* The payload slot of a held index, for the writer's reads. */
const void *
rc_log_slot_const(const struct rc_log *log, uint64_t index)
{
	RC_ASSERT(index >= log->hooked_lo && index < log->hooked_end);
	/* The writer's own cache, in a log its caller may only read. */
	const struct log_chunk *c = log_writer_chunk(log, index,
						     &((struct rc_log *)(uintptr_t)log)->last_send);

	return c->payload + (size_t)(index & (log->cfg.chunk_entries - 1)) * log->payload_bytes_max;
}

/* Records a newly committed entry's term, type and size. */
void
rc_log_seal(struct rc_log *log, uint64_t index, uint64_t term, uint16_t type, uint32_t bytes)
{
	RC_ASSERT(index == log->sealed + 1 && bytes <= log->payload_bytes_max);
	struct log_chunk *c = log_writer_chunk(log, index, &log->last_seal);

	c->meta[index & (log->cfg.chunk_entries - 1)] = (struct log_meta){ .term = term,
									   .bytes = bytes,
									   .type = type };
	log->sealed = index;
}

/* Publishes the sealed entries up to commit. */
void
rc_log_publish(struct rc_log *log, uint64_t commit)
{
	RC_ASSERT(commit <= log->sealed);
	if (commit > atomic_load_explicit(&log->commit, memory_order_relaxed))
		atomic_store_explicit(&log->commit, commit, memory_order_release);
}

static void log_retire_below(struct rc_log *log, uint64_t first);

/* Drops indexes below first and retires the chunks that fall wholly below it. */
void
rc_log_compact(struct rc_log *log, uint64_t first)
{
	uint64_t commit = atomic_load_explicit(&log->commit, memory_order_relaxed);

	if (first > commit + 1)
		first = commit + 1;
	if (first <= atomic_load_explicit(&log->first, memory_order_relaxed))
		return;
	atomic_store_explicit(&log->first, first, memory_order_release);
	log_retire_below(log, first);
}

/* Starts the log again after index; see log.h. */
void
rc_log_restart(struct rc_log *log, uint64_t index)
{
	RC_ASSERT(index >= log->sealed);
	/* first moves past commit before commit follows: no reader finds an index never sealed. */
	atomic_store_explicit(&log->first, index + 1, memory_order_release);
	log->sealed = index;
	atomic_store_explicit(&log->commit, index, memory_order_release);
	log_retire_below(log, index + 1);
}

/* Retires the chunks that lie wholly below first (the writer's, after first moved). */
static void
log_retire_below(struct rc_log *log, uint64_t first)
{
	uint64_t ce = log->cfg.chunk_entries;

	/* Any of them may be one of the chunks retired below. */
	log->last_append = log->last_seal = log->last_send = NULL;
	while (log->hooked_lo + ce <= first && log->hooked_lo < log->hooked_end) {
		_Atomic(struct log_chunk *) *slot = log_table_slot(log, log->hooked_lo);
		struct log_chunk *c = atomic_load_explicit(slot, memory_order_relaxed);

		atomic_store_explicit(slot, NULL, memory_order_release);
		atomic_fetch_add_explicit(&log->in_flight, 1, memory_order_relaxed);
		c->next_free = log->retiring;
		log->retiring = c;
		log->retiring_count++;
		log->stats.chunks_retired++;
		log->hooked_lo += ce;
	}
	/* Grace periods wake liburcu's threads onto the cores of the poll loops: hand chunks over a
	 * span's worth at a time (or sooner, when the pool runs low: rc_log_reserve). */
	if (log->retiring_count >= log->retire_batch)
		log_retire_flush(log);
	if (log->hooked_lo >= log->hooked_end) /* nothing hooked: start again at first's chunk */
		log->hooked_lo = log->hooked_end = first & ~(ce - 1);
}

/* The highest sealed index. */
uint64_t
rc_log_sealed_index(const struct rc_log *log)
{
	return log->sealed;
}

/* The writer's counters. */
const struct rc_log_stats *
rc_log_stats(struct rc_log *log)
{
	uint32_t free_count = 0;

	log_take_returned(log);
	for (const struct log_chunk *c = log->free_list; c != NULL; c = c->next_free)
		free_count++;
	log->stats.chunks_free = free_count;
	log->stats.chunks_in_flight = atomic_load_explicit(&log->in_flight, memory_order_relaxed);
	return &log->stats;
}

/* Fills view from index's chunk, or says why it cannot. commit and first were loaded already. */
static inline enum rc_log_status
log_read_one(const struct rc_log *log, uint64_t index, uint64_t commit, uint64_t first,
	     struct rc_log_view *view)
{
	if (index > commit)
		return RC_LOG_NOT_COMMITTED;
	if (index < first)
		return RC_LOG_COMPACTED;
	const struct log_chunk *c = atomic_load_explicit(log_table_slot(log, index),
							 memory_order_acquire);
	uint64_t off = index & ((1ull << log->shift) - 1);

	/* Unhooked (or replaced by a later chunk) since first was loaded: compacted meanwhile. */
	if (c == NULL || c->base != index - off)
		return RC_LOG_COMPACTED;
	const struct log_meta *m = &c->meta[off];

	view->index = index;
	view->term = m->term;
	view->bytes = m->bytes;
	view->type = m->type;
	view->data = c->payload + off * log->payload_bytes_max;
	return RC_LOG_OK;
}

/* Reads one committed entry; see log.h. */
enum rc_log_status
rc_log_read(const struct rc_log *log, uint64_t index, struct rc_log_view *view)
{
	if (rc_rcu_thread_flavor() == RC_RCU_NONE)
		return RC_LOG_NOT_READER;
	uint64_t commit = atomic_load_explicit(&log->commit, memory_order_acquire);
	uint64_t first = atomic_load_explicit(&log->first, memory_order_acquire);

	return log_read_one(log, index, commit, first, view);
}

/* Reads consecutive committed entries; see log.h. */
uint32_t
rc_log_read_batch(const struct rc_log *log, uint64_t index, struct rc_log_view *views,
		  uint32_t count, enum rc_log_status *status)
{
	uint32_t n = 0;

	*status = RC_LOG_OK;
	if (rc_rcu_thread_flavor() == RC_RCU_NONE) {
		*status = RC_LOG_NOT_READER;
		return 0;
	}
	uint64_t commit = atomic_load_explicit(&log->commit, memory_order_acquire);
	uint64_t first = atomic_load_explicit(&log->first, memory_order_acquire);

	while (n < count) {
		enum rc_log_status s = log_read_one(log, index + n, commit, first, &views[n]);

		if (s != RC_LOG_OK) {
			if (n == 0)
				*status = s;
			break;
		}
		n++;
	}
	return n;
}

/* Copies one committed entry out in a read-side section of its own. */
enum rc_log_status
rc_log_copy(const struct rc_log *log, uint64_t index, void *buf, uint32_t cap,
	    struct rc_log_view *view)
{
	enum rc_log_status s;

	if (rc_rcu_thread_flavor() == RC_RCU_NONE)
		return RC_LOG_NOT_READER;
	rc_rcu_read_lock();
	s = rc_log_read(log, index, view);
	if (s == RC_LOG_OK) {
		if (view->bytes > cap) {
			s = RC_LOG_TOO_SMALL;
		} else {
			memcpy(buf, view->data, view->bytes);
			view->data = buf;
		}
	}
	rc_rcu_read_unlock();
	return s;
}

/* The published commit index. */
uint64_t
rc_log_commit_index(const struct rc_log *log)
{
	return atomic_load_explicit(&log->commit, memory_order_acquire);
}

/* The first index readers may read. */
uint64_t
rc_log_first_index(const struct rc_log *log)
{
	return atomic_load_explicit(&log->first, memory_order_acquire);
}

/* Names a status. */
const char *
rc_log_strerror(enum rc_log_status s)
{
	switch (s) {
	case RC_LOG_OK:
		return "ok";
	case RC_LOG_COMPACTED:
		return "compacted";
	case RC_LOG_NOT_COMMITTED:
		return "not committed";
	case RC_LOG_NOT_READER:
		return "not a registered reader";
	case RC_LOG_TOO_SMALL:
		return "buffer too small";
	}
	return "unknown";
}
