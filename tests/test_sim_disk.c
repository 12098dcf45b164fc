/*
 * The simulator's disks (drivers/sim): each node's durable state is a byte image of write-ahead
 * log records (wal.h) that restarts recover with rc_wal_recover_image(), and the disk faults
 * act on that image. First rc_wal_recover_image() on buffers built with the log's encoders (the
 * recovery rule for one buffer), then scripted worlds: a restart from the image, a bit flip
 * that makes a node refuse its log (it stays down, the others go on), one in the last SYNC copy
 * that loses nothing, torn writes dropped or kept, a write error that stops its node, and a
 * sweep of seeded disk faults that keeps every checker quiet and the dead a minority.
 *
 * On a failed check the end of the world's trace is printed (RC_SIM_DISK_TRACE=1: always).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <replicore/raft.h>
#include <replicore/wal.h>

#include "sim.h"

/* How long anything that must happen in a quiet world may take, in clock units. */
#define DSK_WAIT (RC_SIM_TICK_UNITS * 1000u)
/* Trace bytes printed on failure. */
#define DSK_TRACE_TAIL_BYTES (64u * 1024u)
/* Bytes of the buffers the pure tests build. */
#define DSK_BUF_BYTES 4096u
#define DSK_SYNC_BYTES (RC_WAL_RECORD_HEADER_BYTES + RC_WAL_SYNC_PAYLOAD_BYTES)

/* ---- rc_wal_recover_image() on buffers ---------------------------------------------------- */

/* What the entry callback saw. */
struct dsk_seen {
	uint32_t count;
	uint64_t index[32];
	uint64_t term[32];
	uint64_t last;	     /* the log's end as the entries leave it */
	uint32_t stop_after; /* return false on this entry (1-based); 0: never */
};

/* Entry callback: records the entry (an index at or below the last one cuts the tail there). */
static bool
dsk_on_entry(void *ctx, const struct rc_wal_record *rec, uint64_t offset)
{
	struct dsk_seen *s = ctx;

	(void)offset;
	cr_assert(s->count < 32);
	s->index[s->count] = rec->index;
	s->term[s->count] = rec->term;
	s->count++;
	s->last = rec->index;
	return s->stop_after == 0 || s->count < s->stop_after;
}

/* Appends a write at buf + *len: entries first..last of term (payload: the index, 8 bytes),
 * then two SYNC records with hard state (term, commit, vote). Returns the write's offset. */
static uint64_t
dsk_write(uint8_t *buf, uint64_t *len, uint64_t first, uint64_t last, uint64_t term,
	  uint64_t commit, uint16_t vote)
{
	struct rc_raft_hard_state hs = { .term = term, .commit = commit, .vote = vote };
	uint64_t at = *len;

	for (uint64_t i = first; first != 0 && i <= last; i++) {
		struct rc_raft_entry e = { .term = term, .bytes = 8, .type = RC_ENTRY_NORMAL };
		uint8_t payload[8];

		memcpy(payload, &i, sizeof(payload));
		*len += rc_wal_encode_entry(buf + *len, i, &e, payload);
	}
	for (int copy = 0; copy < 2; copy++)
		*len += rc_wal_encode_sync(buf + *len, &hs, last, term);
	cr_assert(*len <= DSK_BUF_BYTES);
	return at;
}

Test(recover_image, empty_buffer_is_an_empty_log)
{
	static uint8_t buf[DSK_BUF_BYTES];
	struct rc_wal_image_result res;
	struct dsk_seen seen = { 0 };

	cr_assert_eq(rc_wal_recover_image(buf, 0, dsk_on_entry, &seen, &res), 0);
	cr_assert(!res.corrupt && res.keep_bytes == 0 && res.replay.syncs == 0);
	cr_assert_eq(rc_wal_recover_image(buf, sizeof(buf), dsk_on_entry, &seen, &res), 0);
	cr_assert(res.status == RC_WAL_END && res.stop_offset == 0 && res.keep_bytes == 0);
	cr_assert(seen.count == 0 && res.replay.synced_last == 0);
}

Test(recover_image, keeps_every_write_in_order)
{
	static uint8_t buf[DSK_BUF_BYTES];
	struct rc_wal_image_result res;
	struct dsk_seen seen = { 0 };
	uint64_t len = 0;

	dsk_write(buf, &len, 1, 3, 1, 0, 1);
	dsk_write(buf, &len, 4, 4, 2, 3, 2);
	cr_assert_eq(rc_wal_recover_image(buf, sizeof(buf), dsk_on_entry, &seen, &res), 0);
	cr_assert(!res.corrupt && res.keep_bytes == len && res.dropped_entries == 0);
	cr_assert(seen.count == 4 && seen.index[0] == 1 && seen.index[3] == 4 && seen.term[3] == 2);
	cr_assert(res.replay.synced_last == 4 && res.replay.synced_term == 2);
	cr_assert(res.replay.hs.term == 2 && res.replay.hs.commit == 3 && res.replay.hs.vote == 2);
	cr_assert_eq(res.replay.syncs, 4);
}

Test(recover_image, an_entry_that_replaces_cuts_the_tail)
{
	static uint8_t buf[DSK_BUF_BYTES];
	struct rc_wal_image_result res;
	struct dsk_seen seen = { 0 };
	uint64_t len = 0;

	dsk_write(buf, &len, 1, 3, 1, 1, 1);
	dsk_write(buf, &len, 2, 2, 2, 1, 2); /* a leader of term 2 replaced 2..3 */
	cr_assert_eq(rc_wal_recover_image(buf, sizeof(buf), dsk_on_entry, &seen, &res), 0);
	cr_assert(seen.count == 4 && seen.index[3] == 2 && seen.term[3] == 2 && seen.last == 2);
	cr_assert(res.replay.synced_last == 2 && res.replay.synced_term == 2);
	cr_assert_eq(res.replay.truncations, 1);
}

Test(recover_image, damage_before_a_valid_sync_is_refused)
{
	static uint8_t buf[DSK_BUF_BYTES];
	struct rc_wal_image_result res;
	struct dsk_seen seen = { 0 };
	uint64_t len = 0;
	uint64_t second;

	dsk_write(buf, &len, 1, 2, 1, 0, 1);
	second = dsk_write(buf, &len, 3, 3, 1, 2, 1);
	buf[second + RC_WAL_RECORD_HEADER_BYTES] ^= 0x10; /* entry 3's payload */
	cr_assert_eq(rc_wal_recover_image(buf, sizeof(buf), dsk_on_entry, &seen, &res), -EBADMSG);
	cr_assert(res.corrupt && res.status == RC_WAL_BAD_CRC && res.stop_offset == second);
	buf[second + RC_WAL_RECORD_HEADER_BYTES] ^= 0x10;
	buf[len - 2 * DSK_SYNC_BYTES + 20] ^= 0x01; /* the first SYNC copy of the last write */
	cr_assert_eq(rc_wal_recover_image(buf, sizeof(buf), dsk_on_entry, &seen, &res), -EBADMSG,
		     "the valid second copy follows the damaged first one");
	cr_assert_eq(res.stop_offset, len - 2 * DSK_SYNC_BYTES);
}

Test(recover_image, damage_in_the_last_sync_copy_loses_nothing)
{
	static uint8_t buf[DSK_BUF_BYTES];
	struct rc_wal_image_result res;
	struct dsk_seen seen = { 0 };
	uint64_t len = 0;

	dsk_write(buf, &len, 1, 2, 1, 0, 1);
	dsk_write(buf, &len, 3, 3, 1, 2, 1);
	buf[len - 1] ^= 0x80;
	cr_assert_eq(rc_wal_recover_image(buf, sizeof(buf), dsk_on_entry, &seen, &res), 0);
	cr_assert(!res.corrupt && res.status == RC_WAL_BAD_CRC);
	cr_assert_eq(res.keep_bytes, len - DSK_SYNC_BYTES);
	cr_assert(seen.count == 3 && res.replay.synced_last == 3 && res.replay.hs.commit == 2);
}

Test(recover_image, a_torn_write_is_dropped)
{
	static uint8_t buf[DSK_BUF_BYTES];
	struct rc_wal_image_result res;
	struct dsk_seen seen = { 0 };
	uint64_t len = 0;
	uint64_t third;

	dsk_write(buf, &len, 1, 2, 1, 0, 1);
	third = dsk_write(buf, &len, 3, 5, 2, 2, 3);
	memset(buf + third + 100, 0, len - third - 100); /* 100 bytes landed: 2.5 entries */
	cr_assert_eq(rc_wal_recover_image(buf, sizeof(buf), dsk_on_entry, &seen, &res), 0);
	cr_assert(!res.corrupt && res.keep_bytes == third && res.dropped_entries == 2);
	cr_assert(res.status == RC_WAL_BAD_CRC && res.stop_offset == third + 80);
	cr_assert(seen.count == 4 && res.replay.synced_last == 2 && res.replay.hs.term == 1);
}

Test(recover_image, a_torn_write_that_replaced_entries_is_undone)
{
	static uint8_t buf[DSK_BUF_BYTES];
	struct rc_wal_image_result res;
	struct dsk_seen seen = { 0 };
	struct rc_raft_entry e = { .term = 2, .bytes = 8, .type = RC_ENTRY_NORMAL };
	uint64_t len = 0;

	dsk_write(buf, &len, 1, 3, 1, 1, 1);
	len += rc_wal_encode_entry(buf + len, 2, &e, "replaced"); /* no SYNC: never finished */
	cr_assert_eq(rc_wal_recover_image(buf, sizeof(buf), dsk_on_entry, &seen, &res), 0);
	cr_assert(res.dropped_entries == 1 && res.keep_bytes == len - 40);
	cr_assert(res.replay.synced_last == 3 && res.replay.last_index == 3 &&
		  res.replay.truncations == 0);
	cr_assert_eq(seen.count, 4 + 3, "1..3, 2 (dropped), then 1..3 again");
	cr_assert(seen.index[4] == 1 && seen.last == 3 && seen.term[6] == 1);
}

Test(recover_image, a_torn_write_that_only_appends_is_read_once)
{
	static uint8_t buf[DSK_BUF_BYTES];
	struct rc_wal_image_result res;
	struct dsk_seen seen = { 0 };
	uint64_t len = 0;
	uint64_t second;

	dsk_write(buf, &len, 1, 3, 1, 1, 1);
	second = dsk_write(buf, &len, 4, 5, 1, 3, 1);
	memset(buf + second + 80, 0, len - second - 80); /* both entries, no SYNC */
	cr_assert_eq(rc_wal_recover_image(buf, sizeof(buf), dsk_on_entry, &seen, &res), 0);
	cr_assert(res.dropped_entries == 2 && res.keep_bytes == second);
	cr_assert(seen.count == 5 && res.replay.synced_last == 3 && res.replay.entries == 3);
}

Test(recover_image, zeroes_before_a_valid_sync_are_refused)
{
	static uint8_t buf[DSK_BUF_BYTES];
	struct rc_wal_image_result res;
	uint64_t len = 0;
	uint64_t second;

	dsk_write(buf, &len, 1, 2, 1, 0, 1);
	second = dsk_write(buf, &len, 3, 4, 1, 2, 1);
	memset(buf + second, 0, RC_WAL_RECORD_HEADER_BYTES + 8); /* a page never written back */
	cr_assert_eq(rc_wal_recover_image(buf, sizeof(buf), NULL, NULL, &res), -EBADMSG);
	cr_assert(res.corrupt && res.status == RC_WAL_END && res.stop_offset == second);
}

Test(recover_image, a_callback_that_stops_cancels)
{
	static uint8_t buf[DSK_BUF_BYTES];
	struct rc_wal_image_result res;
	struct dsk_seen seen = { .stop_after = 2 };
	uint64_t len = 0;

	dsk_write(buf, &len, 1, 4, 1, 0, 1);
	cr_assert_eq(rc_wal_recover_image(buf, len, dsk_on_entry, &seen, &res), -ECANCELED);
	cr_assert_eq(seen.count, 2);
}

/* ---- Scripted worlds --------------------------------------------------------------------- */

/* One scripted world and its trace in memory. */
struct dsk {
	const char *name;
	struct rc_sim *sim;
	FILE *trace;
	char *trace_buf;
	size_t trace_bytes;
};

static void dsk_fail(struct dsk *t, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prints the check that failed, the violation and the end of the trace, then fails the test. */
static void
dsk_fail(struct dsk *t, int line, const char *fmt, ...)
{
	const char *v = rc_sim_violation(t->sim);
	char text[256];
	const char *p;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fflush(t->trace);
	p = t->trace_buf;
	n = t->trace_bytes;
	if (n > DSK_TRACE_TAIL_BYTES) {
		p += n - DSK_TRACE_TAIL_BYTES;
		n = DSK_TRACE_TAIL_BYTES;
	}
	fprintf(stderr, "\n==== %s: line %d: %s\nviolation: %s\n---- trace (end) ----\n%.*s\n",
		t->name, line, text, v != NULL ? v : "none", (int)n, p);
	cr_assert_fail("%s: line %d: %s (violation: %s)", t->name, line, text,
		       v != NULL ? v : "none");
}

/* Checks cond; on failure prints the story (dsk_fail()). */
#define DSK_CHECK(t, cond, ...)                                                                    \
	do {                                                                                       \
		if (!(cond))                                                                       \
			dsk_fail((t), __LINE__, __VA_ARGS__);                                      \
	} while (0)

/* Creates a quiet world of 3 nodes (no seeded faults, no client) from seed. */
static void
dsk_start(struct dsk *t, const char *name, uint64_t seed)
{
	struct rc_sim_config c;

	memset(t, 0, sizeof(*t));
	t->name = name;
	t->trace = open_memstream(&t->trace_buf, &t->trace_bytes);
	cr_assert(t->trace != NULL);
	rc_sim_config_default(&c, seed, 3);
	c.faults = 0;
	c.client = false;
	c.pre_vote = 1;
	c.check_quorum = 1;
	c.trace = t->trace;
	t->sim = rc_sim_create(&c);
	cr_assert(t->sim != NULL);
}

/* Ends a world: no violation; frees it. */
static void
dsk_end(struct dsk *t)
{
	DSK_CHECK(t, rc_sim_violation(t->sim) == NULL, "no checker violation");
	if (getenv("RC_SIM_DISK_TRACE") != NULL) {
		fflush(t->trace);
		fwrite(t->trace_buf, 1, t->trace_bytes, stderr);
	}
	rc_sim_destroy(t->sim);
	fclose(t->trace);
	free(t->trace_buf);
}

/* The ids (bit id set) of the nodes up. */
static uint32_t
dsk_up_mask(const struct dsk *t)
{
	uint32_t mask = 0;

	for (uint16_t id = 1; id <= rc_sim_node_count(t->sim); id++)
		mask |= rc_sim_is_up(t->sim, id) ? 1u << id : 0;
	return mask;
}

/* Waits for a leader, proposes count entries to it and waits until every node up applied
 * them. Returns the leader. */
static uint16_t
dsk_commit(struct dsk *t, uint32_t count)
{
	uint16_t leader = rc_sim_wait_leader(t->sim, DSK_WAIT);
	uint64_t first = 0;
	uint32_t n;

	DSK_CHECK(t, leader != 0, "a leader is elected");
	n = rc_sim_propose(t->sim, count, &first);
	DSK_CHECK(t, n == count, "the leader takes %u entries (took %u)", count, n);
	DSK_CHECK(t, rc_sim_wait_applied(t->sim, first + count - 1, dsk_up_mask(t), DSK_WAIT),
		  "every node up applies up to %" PRIu64, first + count - 1);
	return leader;
}

/* A follower of leader (the lowest id that is not it). */
static uint16_t
dsk_follower(uint16_t leader)
{
	return leader == 1 ? 2 : 1;
}

/* Offset of the first ENTRY record with a payload in node id's image (UINT64_MAX: none), and
 * of its last record. */
static void
dsk_records(struct dsk *t, uint16_t id, uint64_t *entry, uint64_t *last)
{
	uint64_t bytes;
	const uint8_t *img = rc_sim_disk_image(t->sim, id, &bytes);
	uint64_t off = 0;

	*entry = UINT64_MAX;
	*last = UINT64_MAX;
	while (off < bytes) {
		struct rc_wal_record rec;
		uint32_t size;

		DSK_CHECK(t, rc_wal_decode(img + off, bytes - off, &rec, &size) == RC_WAL_OK,
			  "n%u's image decodes at %" PRIu64, id, off);
		if (rec.type == RC_WAL_ENTRY && rec.len > 0 && *entry == UINT64_MAX)
			*entry = off;
		*last = off;
		off += size;
	}
}

Test(sim_disk, restart_recovers_the_image)
{
	struct rc_wal_image_result res;
	const uint8_t *img;
	uint64_t bytes;
	uint16_t leader;
	uint16_t f;
	struct dsk t;

	dsk_start(&t, "restart_recovers_the_image", 11);
	leader = dsk_commit(&t, 20);
	f = dsk_follower(leader);
	img = rc_sim_disk_image(t.sim, f, &bytes);
	DSK_CHECK(&t, bytes > 0, "n%u's image holds records", f);
	DSK_CHECK(&t, rc_wal_recover_image(img, bytes, NULL, NULL, &res) == 0,
		  "n%u's image recovers", f);
	DSK_CHECK(&t,
		  res.keep_bytes == bytes &&
			  res.replay.synced_last == rc_sim_disk_last_index(t.sim, f),
		  "recovery keeps all %" PRIu64 " bytes, log 1..%" PRIu64, bytes,
		  res.replay.synced_last);
	rc_sim_crash(t.sim, f);
	DSK_CHECK(&t, rc_sim_restart(t.sim, f) && rc_sim_is_up(t.sim, f), "n%u restarts", f);
	DSK_CHECK(&t,
		  rc_sim_node(t.sim, f)->last_index == res.replay.synced_last &&
			  rc_sim_node(t.sim, f)->term == res.replay.hs.term,
		  "n%u starts from the recovered log and term", f);
	dsk_commit(&t, 5);
	DSK_CHECK(&t, rc_sim_logs_equal(t.sim, f, leader), "n%u's log matches the leader's", f);
	dsk_end(&t);
}

Test(sim_disk, flipped_entry_is_refused_and_the_node_stays_down)
{
	struct rc_sim_stats st;
	uint64_t entry;
	uint64_t last;
	uint16_t leader;
	uint16_t f;
	struct dsk t;

	dsk_start(&t, "flipped_entry_is_refused_and_the_node_stays_down", 12);
	leader = dsk_commit(&t, 20);
	f = dsk_follower(leader);
	rc_sim_crash(t.sim, f);
	dsk_records(&t, f, &entry, &last);
	DSK_CHECK(&t, entry != UINT64_MAX, "n%u's image holds an entry", f);
	rc_sim_disk_flip(t.sim, f, entry + RC_WAL_RECORD_HEADER_BYTES, 0);
	DSK_CHECK(&t, rc_sim_restart(t.sim, f), "a refusal is no violation");
	DSK_CHECK(&t, !rc_sim_is_up(t.sim, f) && rc_sim_is_dead(t.sim, f),
		  "n%u refused its corrupt log and stays down", f);
	DSK_CHECK(&t, rc_sim_restart(t.sim, f) && rc_sim_is_dead(t.sim, f),
		  "a dead node never restarts");
	rc_sim_stats(t.sim, &st);
	DSK_CHECK(&t, st.bit_flips == 1 && st.refused == 1,
		  "one flip, one refusal (%" PRIu64 ", %" PRIu64 ")", st.bit_flips, st.refused);
	dsk_commit(&t, 10);
	dsk_end(&t);
}

Test(sim_disk, flipped_last_sync_copy_loses_nothing)
{
	const struct rc_raft *r;
	uint64_t disk_last;
	uint64_t term;
	uint64_t entry;
	uint64_t last;
	uint16_t leader;
	uint16_t vote;
	uint16_t f;
	struct dsk t;

	dsk_start(&t, "flipped_last_sync_copy_loses_nothing", 13);
	leader = dsk_commit(&t, 20);
	f = dsk_follower(leader);
	term = rc_sim_node(t.sim, f)->term;
	vote = rc_sim_node(t.sim, f)->vote;
	disk_last = rc_sim_disk_last_index(t.sim, f);
	rc_sim_crash(t.sim, f);
	dsk_records(&t, f, &entry, &last);
	rc_sim_disk_flip(t.sim, f, last + 7, 3);
	DSK_CHECK(&t, rc_sim_restart(t.sim, f) && rc_sim_is_up(t.sim, f),
		  "n%u restarts: its last write's first SYNC copy is valid", f);
	r = rc_sim_node(t.sim, f);
	DSK_CHECK(&t, r->last_index == disk_last && r->term == term && r->vote == vote,
		  "n%u lost nothing: log 1..%" PRIu64 ", term %" PRIu64 ", vote n%u", f,
		  r->last_index, r->term, r->vote);
	dsk_commit(&t, 5);
	dsk_end(&t);
}

/* Proposes count entries to the leader and crashes it at once, landed bytes of its write of
 * them on its disk. Returns the leader; *before gets its disk's last index before. */
static uint16_t
dsk_propose_and_tear(struct dsk *t, uint32_t count, uint64_t landed, uint64_t *before)
{
	uint16_t leader = rc_sim_wait_leader(t->sim, DSK_WAIT);
	uint64_t first;

	DSK_CHECK(t, leader != 0, "a leader is elected");
	rc_sim_run_for(t->sim, 100); /* the writes of the last commit finish */
	*before = rc_sim_disk_last_index(t->sim, leader);
	DSK_CHECK(t, rc_sim_propose(t->sim, count, &first) == count, "the leader takes them");
	rc_sim_crash_torn(t->sim, leader, landed);
	return leader;
}

Test(sim_disk, torn_write_is_dropped_or_kept_whole)
{
	struct rc_sim_stats st;
	uint64_t before;
	uint16_t leader;
	struct dsk t;

	dsk_start(&t, "torn_write_is_dropped_or_kept_whole", 14);
	dsk_commit(&t, 10);
	/* 4 entries are 160 bytes of ENTRY records: 100 bytes cut the third. */
	leader = dsk_propose_and_tear(&t, 4, 100, &before);
	DSK_CHECK(&t, rc_sim_restart(t.sim, leader) && rc_sim_is_up(t.sim, leader), "n%u restarts",
		  leader);
	DSK_CHECK(&t,
		  rc_sim_disk_last_index(t.sim, leader) == before &&
			  rc_sim_node(t.sim, leader)->last_index == before,
		  "n%u dropped the torn write (log 1..%" PRIu64 ")", leader,
		  rc_sim_node(t.sim, leader)->last_index);
	dsk_commit(&t, 5);
	/* 4 entries and the first SYNC record: 216 bytes; 220 landed. */
	leader = dsk_propose_and_tear(&t, 4, 220, &before);
	DSK_CHECK(&t, rc_sim_restart(t.sim, leader) && rc_sim_is_up(t.sim, leader), "n%u restarts",
		  leader);
	DSK_CHECK(&t, rc_sim_node(t.sim, leader)->last_index == before + 4,
		  "n%u kept the write whose first SYNC record landed (log 1..%" PRIu64 ")", leader,
		  rc_sim_node(t.sim, leader)->last_index);
	rc_sim_stats(t.sim, &st);
	DSK_CHECK(&t, st.torn_writes == 2, "two torn writes (%" PRIu64 ")", st.torn_writes);
	dsk_commit(&t, 5);
	dsk_end(&t);
}

/* Predicate: node ctx (a uint16_t) is down. */
static bool
dsk_pred_down(struct rc_sim *s, void *ctx)
{
	return !rc_sim_is_up(s, *(const uint16_t *)ctx);
}

Test(sim_disk, write_error_stops_the_node)
{
	struct rc_sim_stats st;
	uint64_t before;
	uint16_t leader;
	uint16_t f;
	struct dsk t;

	dsk_start(&t, "write_error_stops_the_node", 15);
	leader = dsk_commit(&t, 10);
	f = dsk_follower(leader);
	before = rc_sim_disk_last_index(t.sim, f);
	rc_sim_disk_fail_next(t.sim, f);
	DSK_CHECK(&t, rc_sim_propose(t.sim, 3, NULL) == 3, "the leader takes 3 entries");
	DSK_CHECK(&t, rc_sim_run_until(t.sim, dsk_pred_down, &f, DSK_WAIT),
		  "n%u stops on its failed write", f);
	DSK_CHECK(&t, rc_sim_disk_last_index(t.sim, f) == before,
		  "the failed write is not durable on n%u", f);
	rc_sim_stats(t.sim, &st);
	DSK_CHECK(&t, st.write_errors == 1 && st.crashes == 1, "one write error, one crash");
	DSK_CHECK(&t, rc_sim_restart(t.sim, f) && rc_sim_node(t.sim, f)->last_index == before,
		  "n%u restarts from what is durable", f);
	dsk_commit(&t, 5);
	DSK_CHECK(&t, rc_sim_logs_equal(t.sim, f, leader), "n%u catches up", f);
	dsk_end(&t);
}

/*
 * Seeded disk faults with crashes, partitions and drops: every world passes its checkers and
 * its liveness phase, the dead stay a minority, and every kind of disk fault happened.
 */
Test(sim_disk, seeded_disk_faults)
{
	struct rc_sim_stats total = { 0 };
	struct rc_sim_config c;
	struct rc_sim *s = NULL;
	uint32_t faults;

	cr_assert_eq(rc_sim_faults_parse("crash,torn,bitflip,eio,partition,drop,disk", &faults), 0);
	for (uint64_t seed = 1; seed <= 150; seed++) {
		uint16_t nodes = seed % 2 ? 5 : 3;
		struct rc_sim_stats st;
		uint32_t dead = 0;

		rc_sim_config_default(&c, seed, nodes);
		c.faults = faults;
		c.safety_ticks = 2000;
		if (s == NULL)
			s = rc_sim_create(&c);
		else
			cr_assert_eq(rc_sim_reset(s, &c), 0);
		cr_assert(s != NULL);
		cr_assert(rc_sim_run_seed(s), "seed %" PRIu64 ": %s", seed, rc_sim_violation(s));
		for (uint16_t id = 1; id <= nodes; id++)
			dead += rc_sim_is_dead(s, id) ? 1 : 0;
		cr_assert(dead <= (nodes - 1u) / 2, "seed %" PRIu64 ": %u of %u nodes dead", seed,
			  dead, nodes);
		rc_sim_stats(s, &st);
		cr_assert_eq(st.refused, dead);
		total.torn_writes += st.torn_writes;
		total.bit_flips += st.bit_flips;
		total.refused += st.refused;
		total.write_errors += st.write_errors;
	}
	rc_sim_destroy(s);
	cr_assert(total.torn_writes > 0 && total.bit_flips > total.refused && total.refused > 0 &&
			  total.write_errors > 0,
		  "every disk fault happened: %" PRIu64 " torn, %" PRIu64 " flips (%" PRIu64
		  " refused), %" PRIu64 " EIO",
		  total.torn_writes, total.bit_flips, total.refused, total.write_errors);
}
