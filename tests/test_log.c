/*
 * The committed log's readers (engine/log): distinct errors, compaction through grace periods,
 * back-pressure from a stalled reader of either flavour, and readers of both flavours racing a
 * writer that appends, compacts and poisons every chunk it gets back.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <replicore/log.h>
#include <replicore/rcu.h>

#define PAYLOAD 64u
#define WORDS (PAYLOAD / 8u)

/* The word every payload of index (at term) is filled with. */
static uint64_t
pattern(uint64_t index, uint64_t term)
{
	return index * 0x9e3779b97f4a7c15ull ^ term;
}

/* Writes index as a committed entry of term and publishes it. */
static void
append(struct rc_log *log, uint64_t index, uint64_t term)
{
	uint64_t *w;

	cr_assert_geq(rc_log_reserve(log, index), index);
	w = rc_log_slot(log, index);
	for (uint32_t i = 0; i < WORDS; i++)
		w[i] = pattern(index, term);
	rc_log_seal(log, index, term, 0, PAYLOAD);
	rc_log_publish(log, index);
}

/* Whether view holds exactly what append() wrote for its index. */
static bool
intact(const struct rc_log_view *v)
{
	uint64_t words[WORDS];

	if (v->bytes != PAYLOAD || v->term != v->index / 100 + 1)
		return false;
	memcpy(words, v->data, sizeof(words));
	for (uint32_t i = 0; i < WORDS; i++)
		if (words[i] != pattern(v->index, v->term))
			return false;
	return true;
}

static struct rc_log *
small_log(uint32_t chunk, uint32_t span, uint32_t spare)
{
	struct rc_log_config cfg;
	struct rc_log *log = NULL;

	rc_log_config_default(&cfg, PAYLOAD);
	cfg.chunk_entries = chunk;
	cfg.span_entries = span;
	cfg.spare_chunks = spare;
	cfg.poison = true;
	cr_assert_eq(rc_log_create(&cfg, 1, &log), 0);
	return log;
}

Test(log, errors_are_distinct_and_reads_see_committed_entries)
{
	struct rc_log *log = small_log(64, 256, 4);
	struct rc_log_view v, views[16];
	enum rc_log_status st;
	uint8_t small[8], big[PAYLOAD];

	cr_assert_eq(rc_log_read(log, 1, &v), RC_LOG_NOT_READER);
	cr_assert_eq(rc_rcu_register(RC_RCU_MEMB), 0);
	cr_assert_eq(rc_rcu_register(RC_RCU_QSBR), -EALREADY);
	rc_rcu_read_lock();
	cr_assert_eq(rc_log_read(log, 1, &v), RC_LOG_NOT_COMMITTED);
	rc_rcu_read_unlock();
	for (uint64_t i = 1; i <= 10; i++)
		append(log, i, i / 100 + 1);
	rc_rcu_read_lock();
	cr_assert_eq(rc_log_read(log, 5, &v), RC_LOG_OK);
	cr_assert_eq(v.index, 5);
	cr_assert(intact(&v));
	cr_assert_eq(rc_log_read(log, 11, &v), RC_LOG_NOT_COMMITTED);
	rc_rcu_read_unlock();

	rc_log_compact(log, 6);
	cr_assert_eq(rc_log_first_index(log), 6);
	rc_rcu_read_lock();
	cr_assert_eq(rc_log_read(log, 5, &v), RC_LOG_COMPACTED);
	cr_assert_eq(rc_log_read(log, 6, &v), RC_LOG_OK);
	cr_assert_eq(rc_log_read_batch(log, 6, views, 16, &st), 5);
	cr_assert_eq(st, RC_LOG_OK);
	for (int i = 0; i < 5; i++)
		cr_assert(intact(&views[i]) && views[i].index == 6u + (uint64_t)i);
	cr_assert_eq(rc_log_read_batch(log, 2, views, 16, &st), 0);
	cr_assert_eq(st, RC_LOG_COMPACTED);
	rc_rcu_read_unlock();
	cr_assert_eq(rc_log_copy(log, 7, small, sizeof(small), &v), RC_LOG_TOO_SMALL);
	cr_assert_eq(rc_log_copy(log, 7, big, sizeof(big), &v), RC_LOG_OK);
	cr_assert(intact(&v) && v.data == big);
	/* Compaction never passes the commit index. */
	rc_log_compact(log, 100);
	cr_assert_eq(rc_log_first_index(log), 11);
	const char *names[] = { rc_log_strerror(RC_LOG_OK), rc_log_strerror(RC_LOG_COMPACTED),
				rc_log_strerror(RC_LOG_NOT_COMMITTED),
				rc_log_strerror(RC_LOG_NOT_READER),
				rc_log_strerror(RC_LOG_TOO_SMALL) };
	for (int i = 0; i < 5; i++)
		for (int j = i + 1; j < 5; j++)
			cr_assert_str_neq(names[i], names[j]);
	rc_rcu_unregister();
	rc_log_destroy(log);
}

Test(log, compaction_gives_chunks_back_after_grace_periods)
{
	struct rc_log *log = small_log(64, 256, 4);
	const struct rc_log_stats *st;

	for (uint64_t i = 1; i <= 5000; i++) {
		/* The writer may outrun the grace periods: then it waits, as a node would. */
		for (int tries = 0; rc_log_reserve(log, i) < i; tries++) {
			cr_assert_lt(tries, 5000, "chunks never came back");
			usleep(1000);
		}
		append(log, i, i / 100 + 1);
		if (i > 200)
			rc_log_compact(log, i - 200);
	}
	rc_log_flush(log);
	rc_rcu_barrier();
	st = rc_log_stats(log);
	cr_assert_gt(st->chunks_retired, 60);
	cr_assert_eq(st->chunks_returned, st->chunks_retired);
	cr_assert_eq(st->chunks_in_flight, 0);
	/* The pool is fixed: hooked chunks plus free ones is every chunk there is. */
	cr_assert_eq(st->chunks_taken - st->chunks_retired + st->chunks_free, 256 / 64 + 1 + 4);
	rc_log_destroy(log);
}

/* A reader that enters a read-side section (and, for QSBR, stops announcing quiescent states). */
struct staller {
	enum rc_rcu_flavor flavor;
	atomic_int state; /* 0 start, 1 holding, 2 release asked, 3 done */
};

static void *
staller_main(void *arg)
{
	struct staller *s = arg;

	rc_rcu_register(s->flavor);
	rc_rcu_read_lock();
	atomic_store(&s->state, 1);
	while (atomic_load(&s->state) != 2)
		usleep(1000);
	rc_rcu_read_unlock();
	rc_rcu_quiescent();
	rc_rcu_unregister();
	atomic_store(&s->state, 3);
	return NULL;
}

/* A stalled reader makes the writer refuse new entries, counts it, and memory stays fixed. */
static void
stalled_reader_backpressure(enum rc_rcu_flavor flavor)
{
	struct rc_log *log = small_log(64, 256, 4);
	struct staller s = { .flavor = flavor };
	pthread_t t;
	uint64_t next = 1;

	cr_assert_eq(pthread_create(&t, NULL, staller_main, &s), 0);
	while (atomic_load(&s.state) != 1)
		usleep(1000);
	/* Append and compact until the pool runs dry: it must, within the pool's size. */
	for (;;) {
		if (rc_log_reserve(log, next) < next)
			break;
		append(log, next, next / 100 + 1);
		if (next > 200)
			rc_log_compact(log, next - 200);
		next++;
		cr_assert_lt(next, 64u * (256 / 64 + 1 + 4) + 64, "the pool never ran dry");
	}
	const struct rc_log_stats *st = rc_log_stats(log);

	cr_assert_gt(st->stalls, 0);
	cr_assert_gt(st->chunks_in_flight, 0);
	cr_assert_eq(st->chunks_returned, 0, "a chunk came back while a reader held it");
	/* Still refused a little later: the grace period cannot end. */
	usleep(20000);
	cr_assert_lt(rc_log_reserve(log, next), next);
	/* Release the reader: the chunks come back and the writer goes on. */
	atomic_store(&s.state, 2);
	for (int tries = 0; rc_log_reserve(log, next) < next; tries++) {
		cr_assert_lt(tries, 5000, "chunks never came back after the reader left");
		usleep(1000);
	}
	append(log, next, next / 100 + 1);
	pthread_join(t, NULL);
	rc_log_destroy(log);
}

Test(log, stalled_memb_reader_causes_back_pressure_not_growth)
{
	stalled_reader_backpressure(RC_RCU_MEMB);
}

Test(log, stalled_qsbr_reader_causes_back_pressure_not_growth)
{
	stalled_reader_backpressure(RC_RCU_QSBR);
}

/* One of the racing readers. */
struct racer {
	struct rc_log *log;
	enum rc_rcu_flavor flavor;
	atomic_bool *stop;
	uint64_t seed;
	uint64_t ok, compacted, uncommitted, torn;
};

static void *
racer_main(void *arg)
{
	struct racer *r = arg;
	struct rc_log_view v;

	rc_rcu_register(r->flavor);
	while (!atomic_load_explicit(r->stop, memory_order_relaxed)) {
		rc_rcu_read_lock();
		uint64_t commit = rc_log_commit_index(r->log);
		uint64_t first = rc_log_first_index(r->log);

		for (int i = 0; i < 64; i++) {
			r->seed = r->seed * 6364136223846793005ull + 1442695040888963407ull;
			/* Mostly inside [first, commit], some just outside on either side. */
			uint64_t span = commit - first + 64;
			uint64_t index = first - (first > 32 ? 32 : first - 1) +
					 (r->seed >> 33) % span;

			switch (rc_log_read(r->log, index, &v)) {
			case RC_LOG_OK:
				r->ok++;
				if (v.index != index || !intact(&v))
					r->torn++;
				break;
			case RC_LOG_COMPACTED:
				r->compacted++;
				break;
			case RC_LOG_NOT_COMMITTED:
				r->uncommitted++;
				break;
			default:
				r->torn++;
			}
		}
		rc_rcu_read_unlock();
		rc_rcu_quiescent();
	}
	rc_rcu_unregister();
	return NULL;
}

Test(log, readers_of_both_flavours_never_see_a_torn_or_reused_entry)
{
	struct rc_log *log = small_log(64, 1024, 8);
	atomic_bool stop = false;
	struct racer r[4];
	pthread_t t[4];
	struct timespec t0, now;
	uint64_t next = 1;

	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){ .log = log,
				       .flavor = i % 2 ? RC_RCU_MEMB : RC_RCU_QSBR,
				       .stop = &stop,
				       .seed = (uint64_t)i + 1 };
		cr_assert_eq(pthread_create(&t[i], NULL, racer_main, &r[i]), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int k = 0; k < 256; k++) {
			if (rc_log_reserve(log, next) < next)
				break; /* back-pressure: let the grace periods catch up */
			append(log, next, next / 100 + 1);
			if (next > 700)
				rc_log_compact(log, next - 700);
			next++;
		}
		sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - t0.tv_sec < 2);
	atomic_store(&stop, true);
	uint64_t ok = 0, compacted = 0, torn = 0;

	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ok += r[i].ok;
		compacted += r[i].compacted;
		torn += r[i].torn;
	}
	const struct rc_log_stats *st = rc_log_stats(log);

	cr_log_info("%lu entries, %lu reads ok, %lu compacted, %lu chunks recycled",
		    (unsigned long)next, (unsigned long)ok, (unsigned long)compacted,
		    (unsigned long)st->chunks_returned);
	cr_assert_eq(torn, 0, "%lu torn or reused reads", (unsigned long)torn);
	cr_assert_gt(ok, 1000);
	cr_assert_gt(compacted, 0);
	cr_assert_gt(st->chunks_returned, 10, "chunks must be recycled under the readers");
	rc_log_destroy(log);
}
