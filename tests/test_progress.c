/*
 * The per-follower in-flight window (rc_inflights_*): a ring of the appends a leader sent and has
 * no answer for, bounded in messages and in payload bytes. Checked against a plain model kept
 * here: a FIFO of (last index, bytes).
 */
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include <replicore/raft.h>

/* What the window should hold: the oldest message first. */
struct model {
	uint32_t head;
	uint32_t count;
	uint64_t bytes;
	uint64_t last_index[4096];
	uint32_t msg_bytes[4096];
};

static void
model_add(struct model *m, uint64_t last_index, uint32_t msg_bytes)
{
	cr_assert_lt(m->head + m->count, 4096u);
	m->last_index[m->head + m->count] = last_index;
	m->msg_bytes[m->head + m->count] = msg_bytes;
	m->count++;
	m->bytes += msg_bytes;
}

static void
model_free_to(struct model *m, uint64_t index)
{
	while (m->count > 0 && m->last_index[m->head] <= index) {
		m->bytes -= m->msg_bytes[m->head];
		m->head++;
		m->count--;
	}
}

/* Asserts that the window agrees with the model on what the header makes public. */
static void
expect_window(const struct rc_inflights *in, const struct model *m, const char *where)
{
	cr_assert_eq(in->count, m->count, "%s: count %u, want %u", where, in->count, m->count);
	cr_assert_eq(in->bytes, m->bytes, "%s: bytes %lu, want %lu", where,
		     (unsigned long)in->bytes, (unsigned long)m->bytes);
	cr_assert_leq(in->count, in->cap, "%s: count above cap", where);
	cr_assert_eq(rc_inflights_full(in), in->count == in->cap || in->bytes >= in->bytes_cap,
		     "%s: full is %d with %u/%u msgs, %lu/%lu bytes", where, rc_inflights_full(in),
		     in->count, in->cap, (unsigned long)in->bytes, (unsigned long)in->bytes_cap);
}

static struct rc_inflights *
window_new(uint32_t cap, uint64_t bytes_cap)
{
	static struct rc_inflights in;

	/* Garbage first: reset must not rely on a zeroed struct. */
	memset(&in, 0xa5, sizeof(in));
	rc_inflights_reset(&in, cap, bytes_cap);
	return &in;
}

Test(inflights, reset_is_empty)
{
	struct rc_inflights *in = window_new(8, 1000);

	cr_expect_eq(in->count, 0);
	cr_expect_eq(in->bytes, 0);
	cr_expect_eq(in->cap, 8);
	cr_expect_eq(in->bytes_cap, 1000);
	cr_expect_not(rc_inflights_full(in));
}

Test(inflights, full_at_message_cap)
{
	struct rc_inflights *in = window_new(4, RC_INFLIGHT_BYTES_MAX);
	uint64_t i;

	for (i = 1; i <= 4; i++) {
		cr_assert_not(rc_inflights_full(in), "full after %lu of 4", (unsigned long)(i - 1));
		rc_inflights_add(in, i * 10, 100);
		cr_expect_eq(in->count, i);
		cr_expect_eq(in->bytes, i * 100);
	}
	cr_expect(rc_inflights_full(in), "4 of 4 messages is full");
	rc_inflights_free_to(in, 10);
	cr_expect_eq(in->count, 3);
	cr_expect_eq(in->bytes, 300);
	cr_expect_not(rc_inflights_full(in), "one freed: room again");
}

Test(inflights, full_at_byte_cap)
{
	struct rc_inflights *in = window_new(RC_INFLIGHT_MSGS_MAX, 1000);

	rc_inflights_add(in, 1, 400);
	cr_expect_not(rc_inflights_full(in), "400 of 1000 bytes");
	rc_inflights_add(in, 2, 599);
	cr_expect_not(rc_inflights_full(in), "999 of 1000 bytes");
	rc_inflights_add(in, 3, 1);
	cr_expect(rc_inflights_full(in), "1000 of 1000 bytes is full");
	cr_expect_eq(in->count, 3);
	rc_inflights_free_to(in, 1);
	cr_expect_eq(in->bytes, 600);
	cr_expect_not(rc_inflights_full(in), "600 of 1000 bytes");
}

/* One message may overshoot the byte cap (a large entry must still go out); then it is full. */
Test(inflights, one_message_may_overshoot_bytes)
{
	struct rc_inflights *in = window_new(RC_INFLIGHT_MSGS_MAX, 1000);

	rc_inflights_add(in, 5, 5000);
	cr_expect_eq(in->bytes, 5000);
	cr_expect(rc_inflights_full(in));
	rc_inflights_free_to(in, 5);
	cr_expect_eq(in->count, 0);
	cr_expect_eq(in->bytes, 0);
	cr_expect_not(rc_inflights_full(in));
}

/* Empty appends (probes, or entries without payload) count against the message cap only. */
Test(inflights, empty_messages_count_messages)
{
	struct rc_inflights *in = window_new(3, 10);

	rc_inflights_add(in, 1, 0);
	rc_inflights_add(in, 2, 0);
	cr_expect_not(rc_inflights_full(in));
	rc_inflights_add(in, 3, 0);
	cr_expect(rc_inflights_full(in));
	cr_expect_eq(in->bytes, 0);
}

Test(inflights, free_to_below_oldest_is_noop)
{
	struct rc_inflights *in = window_new(8, 10000);
	struct model m = { 0 };
	uint64_t i;

	for (i = 5; i <= 7; i++) {
		rc_inflights_add(in, i, (uint32_t)i);
		model_add(&m, i, (uint32_t)i);
	}
	rc_inflights_free_to(in, 4);
	expect_window(in, &m, "free_to(4)");
	rc_inflights_free_to(in, 0);
	expect_window(in, &m, "free_to(0)");
	/* A stale ack after a newer one frees nothing more. */
	rc_inflights_free_to(in, 6);
	model_free_to(&m, 6);
	expect_window(in, &m, "free_to(6)");
	cr_expect_eq(in->count, 1);
	rc_inflights_free_to(in, 5);
	expect_window(in, &m, "free_to(5) after free_to(6)");
}

/* Frees up to index, which need not be the last index of a message. */
Test(inflights, free_to_between_messages)
{
	struct rc_inflights *in = window_new(8, 10000);

	rc_inflights_add(in, 10, 1);
	rc_inflights_add(in, 20, 2);
	rc_inflights_add(in, 30, 4);
	rc_inflights_free_to(in, 25);
	cr_expect_eq(in->count, 1);
	cr_expect_eq(in->bytes, 4);
	rc_inflights_free_to(in, 29);
	cr_expect_eq(in->count, 1);
	rc_inflights_free_to(in, 30);
	cr_expect_eq(in->count, 0);
	cr_expect_eq(in->bytes, 0);
}

Test(inflights, free_everything_then_reuse)
{
	struct rc_inflights *in = window_new(5, 10000);
	struct model m = { 0 };
	uint64_t i;

	for (i = 1; i <= 5; i++) {
		rc_inflights_add(in, i, 10);
		model_add(&m, i, 10);
	}
	cr_expect(rc_inflights_full(in));
	rc_inflights_free_to(in, UINT64_MAX);
	model_free_to(&m, UINT64_MAX);
	expect_window(in, &m, "freed all");
	cr_expect_not(rc_inflights_full(in));
	/* The ring starts wherever it was left and still holds cap messages. */
	for (i = 6; i <= 10; i++) {
		rc_inflights_add(in, i, 10);
		model_add(&m, i, 10);
		expect_window(in, &m, "refill");
	}
	cr_expect(rc_inflights_full(in));
	rc_inflights_free_to(in, 7);
	model_free_to(&m, 7);
	expect_window(in, &m, "free_to(7) after refill");
}

/*
 * A sliding window over many messages: the ring wraps many times, at every cap from 1 to the
 * largest, with frees of one, several and all messages, against the model.
 */
Test(inflights, ring_wraps_around)
{
	static struct model m;
	struct rc_inflights *in;
	uint32_t cap, step, bytes;
	uint64_t next, upto;
	char where[64];

	for (cap = 1; cap <= RC_INFLIGHT_MSGS_MAX; cap = cap < 8 ? cap + 1 : cap * 2) {
		memset(&m, 0, sizeof(m));
		in = window_new(cap, RC_INFLIGHT_BYTES_MAX);
		next = 1;
		for (step = 0; step < 3 * RC_INFLIGHT_MSGS_MAX + 7; step++) {
			while (!rc_inflights_full(in)) {
				bytes = (uint32_t)(next % 97);
				rc_inflights_add(in, next, bytes);
				model_add(&m, next, bytes);
				next++;
			}
			snprintf(where, sizeof(where), "cap %u step %u filled", cap, step);
			expect_window(in, &m, where);
			cr_assert_eq(in->count, cap, "%s", where);
			/* Free one, two or three of the oldest; every 16th step, all of them. */
			upto = step % 16 == 15 ? next : m.last_index[m.head] + step % 3;
			rc_inflights_free_to(in, upto);
			model_free_to(&m, upto);
			snprintf(where, sizeof(where), "cap %u step %u freed", cap, step);
			expect_window(in, &m, where);
			if (m.head > 2048) {
				memmove(m.last_index, &m.last_index[m.head],
					m.count * sizeof(m.last_index[0]));
				memmove(m.msg_bytes, &m.msg_bytes[m.head],
					m.count * sizeof(m.msg_bytes[0]));
				m.head = 0;
			}
		}
	}
}

Test(inflights, reset_forgets_everything)
{
	struct rc_inflights *in = window_new(4, 1000);

	rc_inflights_add(in, 1, 500);
	rc_inflights_add(in, 2, 500);
	cr_expect(rc_inflights_full(in));
	rc_inflights_reset(in, 2, 300);
	cr_expect_eq(in->count, 0);
	cr_expect_eq(in->bytes, 0);
	cr_expect_eq(in->cap, 2);
	cr_expect_eq(in->bytes_cap, 300);
	cr_expect_not(rc_inflights_full(in));
	/* The new caps apply. */
	rc_inflights_add(in, 3, 100);
	rc_inflights_add(in, 4, 100);
	cr_expect(rc_inflights_full(in), "2 of 2 messages");
	rc_inflights_free_to(in, 2);
	cr_expect_eq(in->count, 2, "indexes of before the reset are gone");
	rc_inflights_free_to(in, 4);
	cr_expect_eq(in->count, 0);
}

Test(inflights, largest_window)
{
	struct rc_inflights *in = window_new(RC_INFLIGHT_MSGS_MAX, RC_INFLIGHT_BYTES_MAX);
	uint64_t i;

	for (i = 1; i <= RC_INFLIGHT_MSGS_MAX; i++)
		rc_inflights_add(in, i, 1);
	cr_expect(rc_inflights_full(in));
	cr_expect_eq(in->count, RC_INFLIGHT_MSGS_MAX);
	rc_inflights_free_to(in, RC_INFLIGHT_MSGS_MAX - 1);
	cr_expect_eq(in->count, 1);
	cr_expect_eq(in->bytes, 1);
}

/* Negative space: adding to a full window is a programmer error. */
Test(inflights, add_to_full_window_aborts, .signal = SIGABRT)
{
	struct rc_inflights *in = window_new(2, 1000);

	rc_inflights_add(in, 1, 1);
	rc_inflights_add(in, 2, 1);
	rc_inflights_add(in, 3, 1);
}

Test(inflights, add_past_byte_cap_aborts, .signal = SIGABRT)
{
	struct rc_inflights *in = window_new(8, 1000);

	rc_inflights_add(in, 1, 1000);
	rc_inflights_add(in, 2, 1);
}

Test(inflights, add_after_wrap_to_full_window_aborts, .signal = SIGABRT)
{
	struct rc_inflights *in = window_new(3, 1000);
	uint64_t i;

	for (i = 1; i <= 3; i++)
		rc_inflights_add(in, i, 1);
	rc_inflights_free_to(in, 2);
	rc_inflights_add(in, 4, 1);
	rc_inflights_add(in, 5, 1);
	rc_inflights_add(in, 6, 1);
}
