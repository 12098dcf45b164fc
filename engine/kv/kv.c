/*
 * The key-value state machine on a liburcu lock-free hash table (see kv.h).
 *
 * The table never resizes (its buckets are sized for the capacity at creation), so liburcu's
 * resize worker and its flavour-bound grace periods never run: every grace period this table
 * needs comes from rc_rcu_defer(), which waits for readers of both flavours.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <urcu/urcu-memb.h>

#include <urcu/lfstack.h>
#include <urcu/rculfhash.h>

#include <replicore/assert.h>
#include <replicore/kv.h>
#include <replicore/rcu.h>

#include "../rcu/tsan.h"

struct kv_item {
	struct cds_lfht_node node;
	struct rc_rcu_head rcu;
	struct cds_lfs_node returned_node;
	struct rc_kv *kv;
	struct kv_item *next_free;
	uint64_t version; /* index of the entry that wrote it */
	uint16_t key_len;
	uint16_t value_len;
	uint8_t data[]; /* key, then value */
};

/* Items unlinked by the apply loop are handed to a grace period this many at a time: a deferral
 * wakes liburcu's threads, and one per PUT would cost more than the PUT. */
#define KV_RETIRE_BATCH 256u

struct rc_kv {
	struct cds_lfht *ht;
	struct kv_item *retiring; /* unlinked, not deferred yet (chained through next_free) */
	uint32_t retiring_count;
	struct rc_kv_config cfg;
	uint32_t item_bytes;
	uint8_t *items;
	struct kv_item *free_list;
	_Atomic uint64_t applied_index;
	/* FNV-1a over every applied command (index, then bytes): replicas that applied the same
	 * entries hold the same digest. */
	_Atomic uint64_t digest;
	/* Outcomes of the entries the node's apply callbacks applied last. */
	uint64_t results_first;
	uint32_t results_count;
	uint8_t results[RC_APPLY_BATCH_MAX];
	struct rc_kv_stats stats;
	_Alignas(64) struct __cds_lfs_stack returned;
	_Atomic uint64_t in_flight;
};

/* Fills cfg with defaults: one spare item for every key. */
void
rc_kv_config_default(struct rc_kv_config *cfg, uint32_t capacity, uint32_t key_max,
		     uint32_t value_max)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->capacity = capacity;
	cfg->key_bytes_max = key_max;
	cfg->value_bytes_max = value_max;
	cfg->spare_items = capacity < 65536 ? 65536 : capacity;
}

/* Creates the table; see kv.h. */
int
rc_kv_create(const struct rc_kv_config *cfg, struct rc_kv **out)
{
	struct rc_kv *kv;
	unsigned long buckets = 1;

	if (cfg->capacity == 0 || cfg->capacity > (1u << 28) || cfg->key_bytes_max == 0 ||
	    cfg->key_bytes_max > RC_KV_KEY_BYTES_MAX ||
	    cfg->value_bytes_max > RC_KV_VALUE_BYTES_MAX) {
		fprintf(stderr,
			"replicore: kv: bad configuration (capacity %u, key %u, value %u)\n",
			cfg->capacity, cfg->key_bytes_max, cfg->value_bytes_max);
		return -EINVAL;
	}
	while (buckets < cfg->capacity)
		buckets <<= 1;
	kv = aligned_alloc(64, sizeof(*kv));
	if (kv == NULL)
		return -ENOMEM;
	memset(kv, 0, sizeof(*kv));
	kv->cfg = *cfg;
	kv->item_bytes = (uint32_t)((sizeof(struct kv_item) + cfg->key_bytes_max +
				     cfg->value_bytes_max + 63) &
				    ~(size_t)63);
	size_t count = (size_t)cfg->capacity + cfg->spare_items;

	kv->items = aligned_alloc(64, count * kv->item_bytes);
	kv->ht = cds_lfht_new_flavor(buckets, buckets, buckets, 0, &urcu_memb_flavor, NULL);
	if (kv->items == NULL || kv->ht == NULL) {
		if (kv->ht != NULL)
			cds_lfht_destroy(kv->ht, NULL);
		free(kv->items);
		free(kv);
		return -ENOMEM;
	}
	for (size_t i = count; i-- > 0;) {
		struct kv_item *it = (struct kv_item *)(void *)(kv->items + i * kv->item_bytes);

		it->kv = kv;
		it->next_free = kv->free_list;
		kv->free_list = it;
	}
	__cds_lfs_init(&kv->returned);
	*out = kv;
	return 0;
}

static void kv_retire_flush(struct rc_kv *kv);

/* Frees the table once every deferred item came back. */
void
rc_kv_destroy(struct rc_kv *kv)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;

	if (kv == NULL)
		return;
	kv_retire_flush(kv);
	if (atomic_load(&kv->in_flight) > 0)
		rc_rcu_barrier();
	/* Readers are gone: empty the table without deferring, then free it. */
	cds_lfht_for_each(kv->ht, &iter, node)
		cds_lfht_del(kv->ht, node);
	cds_lfht_destroy(kv->ht, NULL);
	free(kv->items);
	free(kv);
}

/* The hash of a key: FNV-1a, then a finalizer that spreads it over the buckets. */
static uint64_t
kv_hash(const uint8_t *key, uint32_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint32_t i = 0; i < len; i++)
		h = (h ^ key[i]) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

/* The lookup key handed to cds_lfht's match function. */
struct kv_key {
	const uint8_t *bytes;
	uint32_t len;
};

/* cds_lfht's match function: the node's key equals the looked-up one. */
static int
kv_match(struct cds_lfht_node *node, const void *arg)
{
	const struct kv_item *it = caa_container_of(node, struct kv_item, node);
	const struct kv_key *k = arg;

	RC_TSAN_ACQUIRE(it); /* cds_lfht published it: see rc_kv_apply() */
	return it->key_len == k->len && memcmp(it->data, k->bytes, k->len) == 0;
}

/* Looks key up; the caller is in a read-side section or is the writer. */
static struct kv_item *
kv_lookup(const struct rc_kv *kv, const uint8_t *key, uint32_t len, uint64_t hash)
{
	struct kv_key k = { .bytes = key, .len = len };
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;

	cds_lfht_lookup(kv->ht, hash, kv_match, &k, &iter);
	node = cds_lfht_iter_get_node(&iter);
	return node == NULL ? NULL : caa_container_of(node, struct kv_item, node);
}

/* ---- Commands ------------------------------------------------------------------------------ */

/* Decodes a command and checks it against the table's own limits. */
static bool
kv_decode(const struct rc_kv *kv, const uint8_t *p, uint32_t bytes, struct rc_kv_command *c)
{
	return rc_kv_command_decode(p, bytes, c) && c->key_len <= kv->cfg.key_bytes_max &&
	       c->value_len <= kv->cfg.value_bytes_max;
}

/* ---- Applying ------------------------------------------------------------------------------ */

/*
 * Runs on a call_rcu thread once no reader can hold a batch of items (chained through next_free
 * from the first): back to the apply thread.
 */
static void
kv_items_returned(struct rc_rcu_head *h)
{
	struct kv_item *it = caa_container_of(h, struct kv_item, rcu);
	struct rc_kv *kv = it->kv;

	while (it != NULL) {
		struct kv_item *next = it->next_free;

		RC_TSAN_RELEASE(it);
		cds_lfs_push(&kv->returned, &it->returned_node);
		atomic_fetch_sub_explicit(&kv->in_flight, 1, memory_order_release);
		it = next;
	}
}

/* Hands the items unlinked so far to one grace period. */
static void
kv_retire_flush(struct rc_kv *kv)
{
	if (kv->retiring == NULL)
		return;
	atomic_fetch_add_explicit(&kv->in_flight, kv->retiring_count, memory_order_relaxed);
	rc_rcu_defer(&kv->retiring->rcu, kv_items_returned);
	kv->retiring = NULL;
	kv->retiring_count = 0;
}

/* Takes an item from the pool, or NULL when every free one waits for a grace period. */
static struct kv_item *
kv_item_take(struct rc_kv *kv)
{
	struct kv_item *it;

	if (kv->free_list == NULL) {
		struct cds_lfs_head *head = __cds_lfs_pop_all(&kv->returned);
		struct cds_lfs_node *node, *next;

		if (head != NULL) {
			cds_lfs_for_each_safe(head, node, next)
			{
				it = caa_container_of(node, struct kv_item, returned_node);
				RC_TSAN_ACQUIRE(it);
				it->next_free = kv->free_list;
				kv->free_list = it;
			}
		}
	}
	it = kv->free_list;
	if (it != NULL)
		kv->free_list = it->next_free;
	else
		kv_retire_flush(kv); /* dry: make sure what waits is on its way back */
	return it;
}

/* Queues an unlinked item for a grace period (deferred a batch at a time). */
static void
kv_item_retire(struct rc_kv *kv, struct kv_item *it)
{
	it->next_free = kv->retiring;
	kv->retiring = it;
	if (++kv->retiring_count == KV_RETIRE_BATCH)
		kv_retire_flush(kv);
}

/* Whether the item holds value (len bytes); len RC_KV_EXPECT_ABSENT matches no item. */
static bool
kv_item_equals(const struct kv_item *it, const uint8_t *value, uint32_t len)
{
	return it->value_len == len && memcmp(it->data + it->key_len, value, len) == 0;
}

/* Applies one decoded command (PUT or a CAS whose check passed, or DELETE). */
static bool
kv_write(struct rc_kv *kv, uint64_t index, const struct rc_kv_command *c, struct kv_item *old,
	 uint64_t hash, enum rc_kv_result *result)
{
	struct kv_item *it;

	if (c->op == RC_KV_DELETE) {
		if (old == NULL) {
			*result = RC_KV_NOT_FOUND;
			return true;
		}
		RC_ASSERT(cds_lfht_del(kv->ht, &old->node) == 0);
		kv_item_retire(kv, old);
		kv->stats.keys--;
		kv->stats.deletes++;
		*result = RC_KV_OK;
		return true;
	}
	if (old == NULL && kv->stats.keys >= kv->cfg.capacity) {
		kv->stats.full++;
		*result = RC_KV_FULL;
		return true;
	}
	it = kv_item_take(kv);
	if (it == NULL)
		return false; /* every spare item waits for a grace period: retry later */
	it->version = index;
	it->key_len = (uint16_t)c->key_len;
	it->value_len = (uint16_t)c->value_len;
	memcpy(it->data, c->key, c->key_len);
	memcpy(it->data + c->key_len, c->value, c->value_len);
	cds_lfht_node_init(&it->node);
	RC_TSAN_RELEASE(it); /* published by cds_lfht below */
	if (old == NULL) {
		cds_lfht_add(kv->ht, hash, &it->node);
		kv->stats.keys++;
	} else {
		struct kv_key k = { .bytes = c->key, .len = c->key_len };
		struct cds_lfht_iter iter;

		cds_lfht_lookup(kv->ht, hash, kv_match, &k, &iter);
		RC_ASSERT(cds_lfht_iter_get_node(&iter) == &old->node);
		RC_ASSERT(cds_lfht_replace(kv->ht, &iter, hash, kv_match, &k, &it->node) == 0);
		kv_item_retire(kv, old);
	}
	*result = RC_KV_OK;
	return true;
}

/* Folds one applied command into a digest (FNV-1a 64). */
static uint64_t
kv_digest_fold(uint64_t h, uint64_t index, const void *cmd, uint32_t bytes)
{
	const uint8_t *p = cmd;

	for (int i = 0; i < 8; i++)
		h = (h ^ (uint8_t)(index >> (8 * i))) * 0x100000001b3ull;
	for (uint32_t i = 0; i < bytes; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* Applies the command committed at index; see kv.h. */
bool
rc_kv_apply(struct rc_kv *kv, uint64_t index, const void *cmd, uint32_t bytes,
	    enum rc_kv_result *result)
{
	struct rc_kv_command c;
	bool reader = rc_rcu_thread_flavor() != RC_RCU_NONE;
	bool done = true;

	if (!kv_decode(kv, cmd, bytes, &c)) {
		kv->stats.bad_commands++;
		*result = RC_KV_BAD_COMMAND;
	} else {
		uint64_t hash = kv_hash(c.key, c.key_len);

		if (reader)
			rc_rcu_read_lock();
		struct kv_item *old = kv_lookup(kv, c.key, c.key_len, hash);

		if (c.op == RC_KV_CAS &&
		    (c.expected_len == RC_KV_EXPECT_ABSENT ?
			     old != NULL :
			     old == NULL || !kv_item_equals(old, c.expected, c.expected_len))) {
			kv->stats.cas_mismatch++;
			*result = RC_KV_CAS_MISMATCH;
		} else {
			done = kv_write(kv, index, &c, old, hash, result);
			if (done && *result == RC_KV_OK && c.op == RC_KV_PUT)
				kv->stats.puts++;
			if (done && *result == RC_KV_OK && c.op == RC_KV_CAS)
				kv->stats.cas_ok++;
		}
		if (reader)
			rc_rcu_read_unlock();
	}
	if (!done) {
		kv->stats.retries++;
		return false;
	}
	kv->stats.applied++;
	atomic_store_explicit(&kv->digest, kv_digest_fold(kv->digest, index, cmd, bytes),
			      memory_order_relaxed);
	atomic_store_explicit(&kv->applied_index, index, memory_order_release);
	return true;
}

/* rc_kv_apply() as a node's apply callback. */
bool
rc_kv_node_apply(void *ctx, uint64_t index, const void *cmd, uint32_t bytes)
{
	struct rc_kv *kv = ctx;
	enum rc_kv_result r;

	if (!rc_kv_apply(kv, index, cmd, bytes, &r))
		return false;
	kv->results_first = index;
	kv->results_count = 1;
	kv->results[0] = (uint8_t)r;
	return true;
}

/* rc_kv_apply() for a batch, in one read-side section. */
uint32_t
rc_kv_node_apply_batch(void *ctx, const struct rc_apply_entry *entries, uint32_t count)
{
	struct rc_kv *kv = ctx;
	bool reader = rc_rcu_thread_flavor() != RC_RCU_NONE;
	uint32_t done = 0;

	RC_ASSERT(count <= RC_APPLY_BATCH_MAX);
	if (reader)
		rc_rcu_read_lock(); /* the applies' own sections nest inside it */
	for (; done < count; done++) {
		enum rc_kv_result r;

		if (!rc_kv_apply(kv, entries[done].index, entries[done].payload,
				 entries[done].bytes, &r))
			break;
		kv->results[done] = (uint8_t)r;
	}
	if (reader)
		rc_rcu_read_unlock();
	kv->results_first = count > 0 ? entries[0].index : 0;
	kv->results_count = done;
	return done;
}

/* The outcome of an entry the node's apply callbacks applied last. */
bool
rc_kv_result_of(const struct rc_kv *kv, uint64_t index, enum rc_kv_result *result)
{
	if (index < kv->results_first || index - kv->results_first >= kv->results_count)
		return false;
	*result = (enum rc_kv_result)kv->results[index - kv->results_first];
	return true;
}

/* The counters. */
const struct rc_kv_stats *
rc_kv_stats(const struct rc_kv *kv)
{
	return &kv->stats;
}

/* ---- Snapshots ----------------------------------------------------------------------------- */

#define KV_SNAP_MAGIC "RCKVSNAP"
#define KV_SNAP_VERSION 2u
/* magic 8, version 4, reserved 4, index 8, count 8, digest 8 */
#define KV_SNAP_HEADER_BYTES 40u
#define KV_SNAP_RECORD_BYTES 12u /* key length 2, value length 2, version 8 */

/* A growing buffer the snapshot is built in, then written in one go. */
struct kv_buf {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

static void
kv_buf_put(struct kv_buf *b, const void *data, size_t len)
{
	if (b->failed)
		return;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + len)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);

		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void
kv_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
kv_get_le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* FNV-1a over a snapshot's bytes (a CRC32C comes with the write-ahead log's records). */
static uint64_t
kv_checksum(const uint8_t *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* Writes a snapshot of the table; see kv.h. */
int
rc_kv_snapshot_save(struct rc_kv *kv, int fd, uint64_t *index)
{
	struct kv_buf b = { 0 };
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	uint8_t hdr[KV_SNAP_HEADER_BYTES] = { 0 }, rec[KV_SNAP_RECORD_BYTES], sum[8];
	uint64_t applied = atomic_load_explicit(&kv->applied_index, memory_order_relaxed);
	int rc = 0;

	memcpy(hdr, KV_SNAP_MAGIC, 8);
	kv_le(hdr + 8, KV_SNAP_VERSION, 4);
	kv_le(hdr + 16, applied, 8);
	kv_le(hdr + 24, kv->stats.keys, 8);
	kv_le(hdr + 32, atomic_load_explicit(&kv->digest, memory_order_relaxed), 8);
	kv_buf_put(&b, hdr, sizeof(hdr));
	cds_lfht_for_each(kv->ht, &iter, node) {
		const struct kv_item *it = caa_container_of(node, struct kv_item, node);

		kv_le(rec, it->key_len, 2);
		kv_le(rec + 2, it->value_len, 2);
		kv_le(rec + 4, it->version, 8);
		kv_buf_put(&b, rec, sizeof(rec));
		kv_buf_put(&b, it->data, (size_t)it->key_len + it->value_len);
	}
	kv_le(sum, kv_checksum(b.p, b.len), 8);
	kv_buf_put(&b, sum, sizeof(sum));
	if (b.failed) {
		free(b.p);
		return -ENOMEM;
	}
	for (size_t off = 0; off < b.len;) {
		ssize_t w = write(fd, b.p + off, b.len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = w < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)w;
	}
	free(b.p);
	if (rc == 0 && index != NULL)
		*index = applied;
	return rc;
}

/* Reads fd to its end into a buffer; returns 0 or -errno. */
static int
kv_read_all(int fd, struct kv_buf *b)
{
	uint8_t chunk[65536];

	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return b->failed ? -ENOMEM : 0;
		kv_buf_put(b, chunk, (size_t)r);
	}
}

/* Checks a whole snapshot against this table; returns its key count, or -1. */
static int64_t
kv_snapshot_check(const struct rc_kv *kv, const uint8_t *p, size_t len)
{
	if (len < KV_SNAP_HEADER_BYTES + 8 || memcmp(p, KV_SNAP_MAGIC, 8) != 0 ||
	    kv_get_le(p + 8, 4) != KV_SNAP_VERSION || kv_get_le(p + 12, 4) != 0)
		return -1;
	uint64_t count = kv_get_le(p + 24, 8);

	if (count > kv->cfg.capacity || kv_get_le(p + len - 8, 8) != kv_checksum(p, len - 8))
		return -1;
	size_t off = KV_SNAP_HEADER_BYTES;

	for (uint64_t i = 0; i < count; i++) {
		if (off + KV_SNAP_RECORD_BYTES > len - 8)
			return -1;
		uint32_t klen = (uint32_t)kv_get_le(p + off, 2),
			 vlen = (uint32_t)kv_get_le(p + off + 2, 2);

		if (klen == 0 || klen > kv->cfg.key_bytes_max || vlen > kv->cfg.value_bytes_max)
			return -1;
		off += KV_SNAP_RECORD_BYTES;
		if (off + klen + vlen > len - 8)
			return -1;
		off += (size_t)klen + vlen;
	}
	return off == len - 8 ? (int64_t)count : -1;
}

/* Replaces the table with a snapshot; see kv.h. */
int
rc_kv_snapshot_restore(struct rc_kv *kv, int fd, uint64_t *index)
{
	struct kv_buf b = { 0 };
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	int rc = kv_read_all(fd, &b);
	int64_t count;

	if (rc != 0) {
		free(b.p);
		return rc;
	}
	count = kv_snapshot_check(kv, b.p, b.len);
	if (count < 0) {
		free(b.p);
		return -EINVAL;
	}
	bool reader = rc_rcu_thread_flavor() != RC_RCU_NONE;

	if (reader)
		rc_rcu_read_lock();
	/* Empty the table: every item goes back through a grace period. */
	cds_lfht_for_each(kv->ht, &iter, node) {
		struct kv_item *it = caa_container_of(node, struct kv_item, node);

		RC_ASSERT(cds_lfht_del(kv->ht, node) == 0);
		kv_item_retire(kv, it);
	}
	kv->stats.keys = 0;
	kv_retire_flush(kv);
	size_t off = KV_SNAP_HEADER_BYTES;
	int64_t loaded = 0;

	for (; loaded < count; loaded++) {
		const uint8_t *rec = b.p + off;
		struct rc_kv_command c = { .op = RC_KV_PUT };
		enum rc_kv_result r;

		c.key_len = (uint32_t)kv_get_le(rec, 2);
		c.value_len = (uint32_t)kv_get_le(rec + 2, 2);
		c.key = rec + KV_SNAP_RECORD_BYTES;
		c.value = c.key + c.key_len;
		/* Items still in a grace period come back while we wait (the pool holds them). */
		for (int tries = 0;
		     !kv_write(kv, kv_get_le(rec + 4, 8), &c, NULL, kv_hash(c.key, c.key_len), &r);
		     tries++) {
			if (tries == 100000) {
				rc = -ENOMEM;
				break;
			}
			/* Out of the read section, and offline for QSBR: our own grace period. */
			if (reader)
				rc_rcu_read_unlock();
			rc_rcu_offline();
			usleep(100);
			rc_rcu_online();
			if (reader)
				rc_rcu_read_lock();
		}
		if (rc != 0)
			break;
		off += KV_SNAP_RECORD_BYTES + c.key_len + c.value_len;
	}
	if (reader)
		rc_rcu_read_unlock();
	if (rc == 0) {
		uint64_t applied = kv_get_le(b.p + 16, 8);

		atomic_store_explicit(&kv->digest, kv_get_le(b.p + 32, 8), memory_order_relaxed);
		atomic_store_explicit(&kv->applied_index, applied, memory_order_release);
		if (index != NULL)
			*index = applied;
	}
	free(b.p);
	return rc;
}

/* ---- Reads --------------------------------------------------------------------------------- */

/* A local, lock-free read; see kv.h. */
enum rc_kv_result
rc_kv_get(const struct rc_kv *kv, const void *key, uint32_t key_len, void *buf, uint32_t cap,
	  uint32_t *value_len, uint64_t *version)
{
	enum rc_kv_result r = RC_KV_NOT_FOUND;

	if (rc_rcu_thread_flavor() == RC_RCU_NONE)
		return RC_KV_NOT_READER;
	rc_rcu_read_lock();
	const struct kv_item *it = kv_lookup(kv, key, key_len, kv_hash(key, key_len));

	if (it != NULL) {
		RC_TSAN_ACQUIRE(it);
		if (value_len != NULL)
			*value_len = it->value_len;
		if (version != NULL)
			*version = it->version;
		if (it->value_len > cap) {
			r = RC_KV_TOO_SMALL;
		} else {
			memcpy(buf, it->data + it->key_len, it->value_len);
			r = RC_KV_OK;
		}
	}
	rc_rcu_read_unlock();
	return r;
}

/* The digest of every command applied so far. */
uint64_t
rc_kv_digest(const struct rc_kv *kv)
{
	return atomic_load_explicit(&kv->digest, memory_order_acquire);
}

/* The last index applied. */
uint64_t
rc_kv_applied_index(const struct rc_kv *kv)
{
	return atomic_load_explicit(&kv->applied_index, memory_order_acquire);
}

/* Names a result. */
const char *
rc_kv_strerror(enum rc_kv_result r)
{
	switch (r) {
	case RC_KV_OK:
		return "ok";
	case RC_KV_NOT_FOUND:
		return "not found";
	case RC_KV_CAS_MISMATCH:
		return "cas mismatch";
	case RC_KV_FULL:
		return "full";
	case RC_KV_BAD_COMMAND:
		return "bad command";
	case RC_KV_TOO_SMALL:
		return "buffer too small";
	case RC_KV_NOT_READER:
		return "not a registered reader";
	}
	return "unknown";
}

/* rc_kv_snapshot_save() as a node's snapshot_save. */
int
rc_kv_node_snapshot_save(void *kv, int fd, uint64_t *index)
{
	return rc_kv_snapshot_save(kv, fd, index);
}

/* rc_kv_snapshot_restore() as a node's snapshot_restore. */
int
rc_kv_node_snapshot_restore(void *kv, int fd, uint64_t *index)
{
	return rc_kv_snapshot_restore(kv, fd, index);
}
