/*
 * The key-value state machine (engine/kv): command encoding and strict decoding, PUT / GET /
 * DELETE / CAS semantics, deterministic capacity, back-pressure from a stalled reader, and
 * readers of both flavours racing the apply loop.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <replicore/kv.h>
#include <replicore/rcu.h>

/* Encodes and applies one command at index; returns its outcome. */
static enum rc_kv_result
put(struct rc_kv *kv, uint64_t index, const char *key, const char *value)
{
	uint8_t cmd[512];
	int32_t n = rc_kv_encode_put(cmd, sizeof(cmd), key, (uint32_t)strlen(key), value,
				     (uint32_t)strlen(value));
	enum rc_kv_result r;

	cr_assert_gt(n, 0);
	cr_assert(rc_kv_apply(kv, index, cmd, (uint32_t)n, &r));
	return r;
}

static enum rc_kv_result
cas(struct rc_kv *kv, uint64_t index, const char *key, const char *expected, const char *value)
{
	uint8_t cmd[512];
	int32_t n = rc_kv_encode_cas(cmd, sizeof(cmd), key, (uint32_t)strlen(key), expected,
				     expected ? (uint32_t)strlen(expected) : 0, value,
				     (uint32_t)strlen(value));
	enum rc_kv_result r;

	cr_assert_gt(n, 0);
	cr_assert(rc_kv_apply(kv, index, cmd, (uint32_t)n, &r));
	return r;
}

static enum rc_kv_result
del(struct rc_kv *kv, uint64_t index, const char *key)
{
	uint8_t cmd[512];
	int32_t n = rc_kv_encode_delete(cmd, sizeof(cmd), key, (uint32_t)strlen(key));
	enum rc_kv_result r;

	cr_assert_gt(n, 0);
	cr_assert(rc_kv_apply(kv, index, cmd, (uint32_t)n, &r));
	return r;
}

/* GETs key as a string ("" when absent); returns the outcome. */
static enum rc_kv_result
get(struct rc_kv *kv, const char *key, char *out, uint64_t *version)
{
	uint32_t len = 0;
	enum rc_kv_result r = rc_kv_get(kv, key, (uint32_t)strlen(key), out, 255, &len, version);

	out[r == RC_KV_OK ? len : 0] = '\0';
	return r;
}

static struct rc_kv *
small_kv(uint32_t capacity, uint32_t spare)
{
	struct rc_kv_config cfg;
	struct rc_kv *kv = NULL;

	rc_kv_config_default(&cfg, capacity, 32, 128);
	cfg.spare_items = spare;
	cr_assert_eq(rc_kv_create(&cfg, &kv), 0);
	return kv;
}

Test(kv, put_get_delete_cas)
{
	struct rc_kv *kv = small_kv(16, 16);
	char v[256];
	uint64_t ver = 0;

	cr_assert_eq(get(kv, "a", v, NULL), RC_KV_NOT_READER);
	cr_assert_eq(rc_rcu_register(RC_RCU_MEMB), 0);
	cr_assert_eq(get(kv, "a", v, NULL), RC_KV_NOT_FOUND);
	cr_assert_eq(put(kv, 1, "a", "one"), RC_KV_OK);
	cr_assert_eq(get(kv, "a", v, &ver), RC_KV_OK);
	cr_assert_str_eq(v, "one");
	cr_assert_eq(ver, 1);
	cr_assert_eq(put(kv, 2, "a", "two"), RC_KV_OK);
	cr_assert_eq(get(kv, "a", v, &ver), RC_KV_OK);
	cr_assert_str_eq(v, "two");
	cr_assert_eq(ver, 2);
	cr_assert_eq(cas(kv, 3, "a", "one", "three"), RC_KV_CAS_MISMATCH);
	cr_assert_eq(cas(kv, 4, "a", "two", "four"), RC_KV_OK);
	cr_assert_eq(get(kv, "a", v, NULL), RC_KV_OK);
	cr_assert_str_eq(v, "four");
	cr_assert_eq(cas(kv, 5, "b", NULL, "new"), RC_KV_OK);
	cr_assert_eq(cas(kv, 6, "b", NULL, "again"), RC_KV_CAS_MISMATCH);
	cr_assert_eq(cas(kv, 7, "zz", "x", "y"), RC_KV_CAS_MISMATCH);
	cr_assert_eq(del(kv, 8, "a"), RC_KV_OK);
	cr_assert_eq(del(kv, 9, "a"), RC_KV_NOT_FOUND);
	cr_assert_eq(get(kv, "a", v, NULL), RC_KV_NOT_FOUND);
	cr_assert_eq(put(kv, 10, "e", ""), RC_KV_OK); /* empty values are values */
	cr_assert_eq(get(kv, "e", v, NULL), RC_KV_OK);
	cr_assert_eq(rc_kv_get(kv, "b", 1, v, 1, NULL, NULL), RC_KV_TOO_SMALL);
	cr_assert_eq(rc_kv_applied_index(kv), 10);
	const struct rc_kv_stats *st = rc_kv_stats(kv);

	cr_assert_eq(st->keys, 2);
	cr_assert_eq(st->puts, 3);
	cr_assert_eq(st->cas_ok, 2);
	cr_assert_eq(st->cas_mismatch, 3);
	cr_assert_eq(st->deletes, 1);
	rc_rcu_unregister();
	rc_kv_destroy(kv);
}

Test(kv, malformed_commands_are_refused_the_same_way_everywhere)
{
	struct rc_kv *kv = small_kv(16, 16);
	uint8_t cmd[512];
	enum rc_kv_result r;
	int32_t n = rc_kv_encode_put(cmd, sizeof(cmd), "key", 3, "value", 5);

	cr_assert_eq(n, 8 + 3 + 5);
	/* Every shorter or longer length, a bad op, a reserved bit, a key above the limit. */
	for (int32_t len = 0; len < n; len++) {
		cr_assert(rc_kv_apply(kv, 1, cmd, (uint32_t)len, &r));
		cr_assert_eq(r, RC_KV_BAD_COMMAND, "length %d", len);
	}
	cr_assert(rc_kv_apply(kv, 1, cmd, (uint32_t)n + 1, &r));
	cr_assert_eq(r, RC_KV_BAD_COMMAND);
	cmd[0] = 9;
	cr_assert(rc_kv_apply(kv, 1, cmd, (uint32_t)n, &r));
	cr_assert_eq(r, RC_KV_BAD_COMMAND);
	cmd[0] = RC_KV_PUT;
	cmd[7] = 1;
	cr_assert(rc_kv_apply(kv, 1, cmd, (uint32_t)n, &r));
	cr_assert_eq(r, RC_KV_BAD_COMMAND);
	char longkey[40];

	memset(longkey, 'k', sizeof(longkey));
	n = rc_kv_encode_put(cmd, sizeof(cmd), longkey, sizeof(longkey), "v", 1);
	cr_assert_gt(n, 0); /* the codec allows it; this table's key limit (32) does not */
	cr_assert(rc_kv_apply(kv, 1, cmd, (uint32_t)n, &r));
	cr_assert_eq(r, RC_KV_BAD_COMMAND);
	cr_assert_eq(rc_kv_encode_put(cmd, 10, "key", 3, "value", 5), -EMSGSIZE);
	cr_assert_eq(rc_kv_encode_put(cmd, sizeof(cmd), "", 0, "value", 5), -EINVAL);
	cr_assert_eq(rc_kv_stats(kv)->keys, 0);
	cr_assert_eq(rc_kv_stats(kv)->bad_commands, (uint64_t)(8 + 3 + 5) + 4);
	rc_kv_destroy(kv);
}

Test(kv, capacity_is_deterministic)
{
	struct rc_kv *kv = small_kv(4, 16);
	char key[8];

	for (int i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		cr_assert_eq(put(kv, (uint64_t)i + 1, key, "v"), RC_KV_OK);
	}
	cr_assert_eq(put(kv, 5, "k9", "v"), RC_KV_FULL);
	cr_assert_eq(cas(kv, 6, "k9", NULL, "v"), RC_KV_FULL);
	cr_assert_eq(put(kv, 7, "k1", "replaced"), RC_KV_OK); /* existing keys still change */
	cr_assert_eq(del(kv, 8, "k0"), RC_KV_OK);
	cr_assert_eq(put(kv, 9, "k9", "v"), RC_KV_OK);
	cr_assert_eq(rc_kv_stats(kv)->full, 2);
	rc_kv_destroy(kv);
}

struct holder {
	atomic_int state; /* 1 holding, 2 release asked, 3 done */
};

static void *
holder_main(void *arg)
{
	struct holder *h = arg;

	rc_rcu_register(RC_RCU_MEMB);
	rc_rcu_read_lock();
	atomic_store(&h->state, 1);
	while (atomic_load(&h->state) != 2)
		usleep(1000);
	rc_rcu_read_unlock();
	rc_rcu_unregister();
	atomic_store(&h->state, 3);
	return NULL;
}

Test(kv, a_stalled_reader_makes_apply_retry_and_memory_stays_fixed)
{
	struct rc_kv *kv = small_kv(4, 8);
	struct holder h = { 0 };
	pthread_t t;
	uint8_t cmd[64];
	enum rc_kv_result r;
	uint64_t index = 1;

	cr_assert_eq(pthread_create(&t, NULL, holder_main, &h), 0);
	while (atomic_load(&h.state) != 1)
		usleep(1000);
	/* Replacing one key retires an item per PUT: the 8 spares run out, then apply refuses. */
	int32_t n = rc_kv_encode_put(cmd, sizeof(cmd), "k", 1, "v", 1);

	while (rc_kv_apply(kv, index, cmd, (uint32_t)n, &r)) {
		index++;
		cr_assert_lt(index, 20, "the pool never ran dry");
	}
	cr_assert_eq(rc_kv_stats(kv)->retries, 1);
	cr_assert_eq(rc_kv_applied_index(kv), index - 1, "a refused entry is not applied");
	atomic_store(&h.state, 2);
	for (int tries = 0; !rc_kv_apply(kv, index, cmd, (uint32_t)n, &r); tries++) {
		cr_assert_lt(tries, 5000, "items never came back after the reader left");
		usleep(1000);
	}
	cr_assert_eq(r, RC_KV_OK);
	pthread_join(t, NULL);
	rc_kv_destroy(kv);
}

/* A reader racing the apply loop: every value must be "key:version" of its own key. */
struct racer {
	struct rc_kv *kv;
	enum rc_rcu_flavor flavor;
	atomic_bool *stop;
	uint64_t seed, ok, missing, bad;
};

static void *
racer_main(void *arg)
{
	struct racer *r = arg;
	char key[16], value[64], want[64];

	rc_rcu_register(r->flavor);
	while (!atomic_load_explicit(r->stop, memory_order_relaxed)) {
		r->seed = r->seed * 6364136223846793005ull + 1442695040888963407ull;
		snprintf(key, sizeof(key), "key%u", (unsigned)((r->seed >> 33) % 1000));
		uint32_t len = 0;
		uint64_t ver = 0;
		enum rc_kv_result res = rc_kv_get(r->kv, key, (uint32_t)strlen(key), value,
						  sizeof(value) - 1, &len, &ver);

		if (res == RC_KV_OK) {
			value[len] = '\0';
			snprintf(want, sizeof(want), "%s:%" PRIu64, key, ver);
			if (strcmp(value, want) != 0)
				r->bad++;
			r->ok++;
		} else if (res == RC_KV_NOT_FOUND) {
			r->missing++;
		} else {
			r->bad++;
		}
		rc_rcu_quiescent();
	}
	rc_rcu_unregister();
	return NULL;
}

Test(kv, readers_of_both_flavours_see_whole_values_while_the_table_churns)
{
	struct rc_kv *kv = small_kv(1000, 256);
	atomic_bool stop = false;
	struct racer r[4];
	pthread_t t[4];
	struct timespec t0, now;
	uint64_t index = 1, seed = 7;
	uint8_t cmd[128];
	char key[16], value[64];

	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){ .kv = kv,
				       .flavor = i % 2 ? RC_RCU_MEMB : RC_RCU_QSBR,
				       .stop = &stop,
				       .seed = (uint64_t)i + 11 };
		cr_assert_eq(pthread_create(&t[i], NULL, racer_main, &r[i]), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int k = 0; k < 256; k++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			snprintf(key, sizeof(key), "key%u", (unsigned)((seed >> 33) % 1000));
			snprintf(value, sizeof(value), "%s:%" PRIu64, key, index);
			int32_t n = (seed >> 20) % 8 == 0 ?
					    rc_kv_encode_delete(cmd, sizeof(cmd), key,
								(uint32_t)strlen(key)) :
					    rc_kv_encode_put(cmd, sizeof(cmd), key,
							     (uint32_t)strlen(key), value,
							     (uint32_t)strlen(value));
			enum rc_kv_result res;

			if (!rc_kv_apply(kv, index, cmd, (uint32_t)n, &res))
				break; /* back-pressure: let the grace periods catch up */
			index++;
		}
		sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - t0.tv_sec < 2);
	atomic_store(&stop, true);
	uint64_t ok = 0, missing = 0, bad = 0;

	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ok += r[i].ok;
		missing += r[i].missing;
		bad += r[i].bad;
	}
	cr_log_info("%" PRIu64 " commands, %" PRIu64 " gets ok, %" PRIu64 " absent", index, ok,
		    missing);
	cr_assert_eq(bad, 0, "%" PRIu64 " torn or foreign values", bad);
	cr_assert_gt(ok, 1000);
	cr_assert_gt(index, 2000, "the table must churn through its 256 spare items many times");
	rc_kv_destroy(kv);
}

/* Writes a snapshot of kv into a temporary file and returns its descriptor, rewound. */
static int
snapshot_file(struct rc_kv *kv, uint64_t *index)
{
	char path[] = "/tmp/rc-kv-snap-XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	unlink(path);
	cr_assert_eq(rc_kv_snapshot_save(kv, fd, index), 0);
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

Test(kv, a_snapshot_restores_the_same_table_at_the_same_index)
{
	struct rc_kv *a = small_kv(64, 64), *b = small_kv(64, 64);
	char key[8], value[16], v[256];
	uint64_t index = 0, restored = 0, ver = 0;

	rc_rcu_register(RC_RCU_MEMB);
	for (uint64_t i = 1; i <= 100; i++) {
		snprintf(key, sizeof(key), "k%u", (unsigned)(i % 40));
		snprintf(value, sizeof(value), "v%u", (unsigned)i);
		cr_assert_eq(put(a, i, key, value), RC_KV_OK);
	}
	cr_assert_eq(del(a, 101, "k7"), RC_KV_OK);
	cr_assert_eq(put(b, 1, "stale", "gone after restore"), RC_KV_OK);
	int fd = snapshot_file(a, &index);

	cr_assert_eq(index, 101);
	cr_assert_eq(rc_kv_snapshot_restore(b, fd, &restored), 0);
	close(fd);
	cr_assert_eq(restored, 101);
	cr_assert_eq(rc_kv_applied_index(b), 101);
	cr_assert_eq(rc_kv_stats(b)->keys, 39);
	cr_assert_eq(get(b, "stale", v, NULL), RC_KV_NOT_FOUND);
	cr_assert_eq(get(b, "k7", v, NULL), RC_KV_NOT_FOUND);
	for (unsigned k = 0; k < 40; k++) {
		char want[256];

		if (k == 7)
			continue;
		snprintf(key, sizeof(key), "k%u", k);
		cr_assert_eq(get(a, key, want, &index), RC_KV_OK);
		cr_assert_eq(get(b, key, v, &ver), RC_KV_OK);
		cr_assert_str_eq(v, want);
		cr_assert_eq(ver, index, "%s keeps the index that wrote it", key);
	}
	/* The restored table goes on applying like the original. */
	cr_assert_eq(cas(b, 102, "k1", "v81", "after"), RC_KV_OK);
	rc_rcu_unregister();
	rc_kv_destroy(a);
	rc_kv_destroy(b);
}

Test(kv, a_damaged_snapshot_is_refused_and_the_table_kept)
{
	struct rc_kv *a = small_kv(64, 64), *b = small_kv(64, 64), *tiny = small_kv(2, 8);
	uint8_t file[4096];
	char v[256];
	uint64_t index;

	rc_rcu_register(RC_RCU_MEMB);
	cr_assert_eq(put(a, 1, "x", "1"), RC_KV_OK);
	cr_assert_eq(put(a, 2, "y", "2"), RC_KV_OK);
	cr_assert_eq(put(a, 3, "z", "3"), RC_KV_OK);
	cr_assert_eq(put(b, 1, "keep", "me"), RC_KV_OK);
	int fd = snapshot_file(a, &index);
	ssize_t len = read(fd, file, sizeof(file));

	close(fd);
	cr_assert_gt(len, 32);
	/* Every truncation, a flipped bit anywhere, and a table too small for it: all refused. */
	for (ssize_t cut = 0; cut < len; cut++) {
		int p[2];

		cr_assert_eq(pipe(p), 0);
		cr_assert_eq(write(p[1], file, (size_t)cut), cut);
		close(p[1]);
		cr_assert_eq(rc_kv_snapshot_restore(b, p[0], NULL), -EINVAL, "cut at %zd", cut);
		close(p[0]);
	}
	for (ssize_t i = 0; i < len; i++) {
		int p[2];

		file[i] ^= 0x10;
		cr_assert_eq(pipe(p), 0);
		cr_assert_eq(write(p[1], file, (size_t)len), len);
		close(p[1]);
		cr_assert_eq(rc_kv_snapshot_restore(b, p[0], NULL), -EINVAL, "bit flipped at %zd",
			     i);
		close(p[0]);
		file[i] ^= 0x10;
	}
	int p[2];

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], file, (size_t)len), len);
	close(p[1]);
	cr_assert_eq(rc_kv_snapshot_restore(tiny, p[0], NULL), -EINVAL, "3 keys, capacity 2");
	close(p[0]);
	cr_assert_eq(get(b, "keep", v, NULL), RC_KV_OK);
	cr_assert_str_eq(v, "me");
	cr_assert_eq(rc_kv_applied_index(b), 1);
	rc_rcu_unregister();
	rc_kv_destroy(a);
	rc_kv_destroy(b);
	rc_kv_destroy(tiny);
}

Test(kv, restore_on_a_qsbr_thread_waits_out_its_own_grace_periods)
{
	/* 64 keys and 8 spare items: reloading needs the items the restore itself retired, which
	 * come back only if the restoring QSBR thread goes quiescent while it waits. */
	struct rc_kv *kv = small_kv(64, 8);
	char key[8];
	uint64_t index;

	rc_rcu_register(RC_RCU_QSBR);
	for (unsigned i = 0; i < 64; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		cr_assert_eq(put(kv, i + 1, key, "v"), RC_KV_OK);
		rc_rcu_quiescent();
	}
	int fd = snapshot_file(kv, &index);

	cr_assert_eq(rc_kv_snapshot_restore(kv, fd, &index), 0);
	close(fd);
	cr_assert_eq(index, 64);
	cr_assert_eq(rc_kv_stats(kv)->keys, 64);
	rc_rcu_unregister();
	rc_kv_destroy(kv);
}
