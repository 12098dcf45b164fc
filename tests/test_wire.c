/*
 * Tests of the wire codec (engine/wire): the byte layout of README.md, a round trip of every
 * message type, each reject reason from a crafted frame, truncation at every length, encode's
 * assertions, and a million valid, mutated and random frames through the decoder, each frame
 * ending right before an inaccessible page so that any read past its end faults.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <replicore/limits.h>
#include <replicore/prng.h>
#include <replicore/raft.h>
#include <replicore/wire.h>

/* Under ASan the bytes before the frame are poisoned too, so reads before its start fault. */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef TEST_ASAN
#include <sanitizer/asan_interface.h>
#define TEST_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define TEST_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define TEST_POISON(p, n) ((void)(p), (void)(n))
#define TEST_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Room for any frame these tests build (the largest APPEND they make is about 12 KiB). */
#define TEST_FRAME_BYTES (32u * 1024u)
#define TEST_ENTRIES_MAX 16u
#define TEST_SEED 0x5eed0f3a11c0deull

/* Offsets the crafted frames patch; they restate README.md on purpose. */
#define OFF_MAGIC 0u
#define OFF_VERSION 2u
#define OFF_TYPE 3u
#define OFF_FROM 8u
#define OFF_TO 10u
#define OFF_BODY_BYTES 12u
#define OFF_RESERVED 24u
#define OFF_TERM 32u
#define OFF_RESP_FLAGS 40u
#define OFF_APPEND_COUNT 64u
#define OFF_APPEND_ENTRY0 68u
#define ENTRY_HEADER_BYTES 16u

/* Where the payload callback finds entry i's bytes: payloads[i] for entries[i]. */
struct test_payloads {
	const struct rc_raft_entry *entries;
	const uint8_t *const *payloads;
};

/* A message with the entries and payload bytes it points to. */
struct test_msg {
	struct rc_raft_msg m;
	struct rc_raft_entry entries[TEST_ENTRIES_MAX];
	const uint8_t *payloads[TEST_ENTRIES_MAX];
	uint8_t arena[TEST_ENTRIES_MAX * 320u + RC_ENTRY_BYTES_MAX];
};

/* Returns the payload of entry e, found by its position in ctx's entries. */
static const void *
test_payload(void *ctx, const struct rc_raft_entry *e)
{
	const struct test_payloads *tp = ctx;

	return tp->payloads[e - tp->entries];
}

/* Stores v as 2 little-endian bytes at p. */
static void
put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Stores v as 4 little-endian bytes at p. */
static void
put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

/* Stores v as 8 little-endian bytes at p. */
static void
put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/* Returns the little-endian u32 at p. */
static uint32_t
get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Encodes t with its payloads into buf; fails the test unless it fits. Returns the length. */
static uint32_t
encode_msg(uint8_t *buf, uint32_t cap, uint32_t cluster_id, uint64_t seq, const struct test_msg *t)
{
	struct test_payloads tp = { .entries = t->entries, .payloads = t->payloads };
	int32_t len = rc_wire_encode(buf, cap, cluster_id, seq, &t->m, test_payload, &tp);

	cr_assert_gt(len, 0, "encode of a %s failed: %d", rc_raft_msg_name(t->m.type), len);
	return (uint32_t)len;
}

/*
 * Fills t with a message of the given type: distinct values in every field the type carries,
 * zero elsewhere (as decode leaves them). An APPEND gets entry_count entries whose payloads
 * (sizes from 0 up) are patterned bytes in t's arena.
 */
static void
make_msg(struct test_msg *t, uint8_t type, uint32_t entry_count)
{
	uint32_t used = 0;
	uint32_t i;

	memset(t, 0, sizeof(*t));
	t->m.type = type;
	t->m.from = 3;
	t->m.to = RC_NODE_ID_MAX;
	t->m.term = 0x0102030405060708ull;
	switch (type) {
	case RC_MSG_VOTE:
	case RC_MSG_PREVOTE:
		t->m.index = 0x1111222233334444ull;
		t->m.log_term = 0x5555666677778888ull;
		break;
	case RC_MSG_VOTE_RESP:
	case RC_MSG_PREVOTE_RESP:
		t->m.reject = 1;
		break;
	case RC_MSG_APPEND:
		t->m.index = 41;
		t->m.log_term = 7;
		t->m.commit = 39;
		t->m.entry_count = entry_count;
		t->m.entries = t->entries;
		for (i = 0; i < entry_count; i++) {
			uint32_t bytes = (i * 37u) % 300u;
			uint32_t k;

			t->entries[i].term = 7 + i;
			t->entries[i].bytes = bytes;
			t->entries[i].type = (uint16_t)(i % RC_ENTRY_TYPE_COUNT);
			t->entries[i].ref = 1000 + i; /* not on the wire: decode sets 0 */
			for (k = 0; k < bytes; k++)
				t->arena[used + k] = (uint8_t)(i * 31u + k);
			t->payloads[i] = bytes > 0 ? &t->arena[used] : NULL;
			used += bytes;
		}
		break;
	case RC_MSG_APPEND_RESP:
		t->m.reject = 1;
		t->m.index = UINT64_MAX;
		t->m.log_term = 0xdeadbeefcafef00dull;
		t->m.hint_index = 12345;
		break;
	case RC_MSG_HEARTBEAT:
		t->m.commit = 0x8000000000000001ull;
		break;
	case RC_MSG_HEARTBEAT_RESP:
		break;
	default:
		cr_assert_fail("no such type %u", type);
	}
}

/* Asserts that two messages carry the same fields (entries compared separately). */
static void
assert_msg_fields_eq(const struct rc_raft_msg *a, const struct rc_raft_msg *b)
{
	cr_assert_eq(a->type, b->type);
	cr_assert_eq(a->reject, b->reject);
	cr_assert_eq(a->from, b->from);
	cr_assert_eq(a->to, b->to);
	cr_assert_eq(a->entry_count, b->entry_count);
	cr_assert_eq(a->term, b->term);
	cr_assert_eq(a->index, b->index);
	cr_assert_eq(a->log_term, b->log_term);
	cr_assert_eq(a->commit, b->commit);
	cr_assert_eq(a->hint_index, b->hint_index);
}

/* Decodes buf[0..len) with room for TEST_ENTRIES_MAX entries and returns the verdict. */
static enum rc_wire_error
decode(const uint8_t *buf, uint32_t len)
{
	struct rc_wire_header h;
	struct rc_raft_msg m;
	struct rc_raft_entry entries[TEST_ENTRIES_MAX];
	const uint8_t *payloads[TEST_ENTRIES_MAX];

	return rc_wire_decode(buf, len, &h, &m, entries, payloads, TEST_ENTRIES_MAX);
}

/* Asserts that decoding buf[0..len) is refused for the reason want. */
static void
assert_reject(const uint8_t *buf, uint32_t len, enum rc_wire_error want, const char *what)
{
	enum rc_wire_error got = decode(buf, len);

	cr_assert_eq(got, want, "%s: got %s, want %s", what, rc_wire_strerror(got),
		     rc_wire_strerror(want));
}

Test(wire, strerror_names_every_reason_once)
{
	int a, b;

	for (a = 0; a < RC_WIRE_ERROR_COUNT; a++) {
		cr_assert_str_neq(rc_wire_strerror((enum rc_wire_error)a), "unknown");
		for (b = a + 1; b < RC_WIRE_ERROR_COUNT; b++)
			cr_assert_str_neq(rc_wire_strerror((enum rc_wire_error)a),
					  rc_wire_strerror((enum rc_wire_error)b));
	}
	cr_assert_str_eq(rc_wire_strerror(RC_WIRE_OK), "ok");
	cr_assert_str_eq(rc_wire_strerror(RC_WIRE_ESHORT), "short");
	cr_assert_str_eq(rc_wire_strerror(RC_WIRE_ERROR_COUNT), "unknown");
}

/* The HEARTBEAT layout of README.md, byte by byte. */
Test(wire, heartbeat_bytes_match_the_documented_layout)
{
	static const uint8_t want[] = {
		0x52, 0x43, 0x01, 0x07, 0xd4, 0xc3, 0xb2, 0xa1, /* magic, version, type, cluster */
		0x02, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x00, /* from, to, body_bytes = 16 */
		0x11, 0x10, 0x0f, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, /* seq */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* reserved */
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* term */
		0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11, /* commit */
	};
	struct rc_raft_msg m = {
		.type = RC_MSG_HEARTBEAT,
		.from = 2,
		.to = 3,
		.term = 0x0102030405060708ull,
		.commit = 0x1112131415161718ull,
	};
	uint8_t buf[64];
	int32_t len = rc_wire_encode(buf, sizeof(buf), 0xa1b2c3d4u, 0x0a0b0c0d0e0f1011ull, &m, NULL,
				     NULL);

	cr_assert_eq(len, (int32_t)sizeof(want));
	cr_assert_arr_eq(buf, want, sizeof(want));
}

/* The APPEND layout of README.md (its worked example), byte by byte. */
Test(wire, append_bytes_match_the_documented_layout)
{
	static const uint8_t want[] = {
		0x52, 0x43, 0x01, 0x05, 0x07, 0x00, 0x00, 0x00, /* magic, version, type, cluster */
		0x01, 0x00, 0x02, 0x00, 0x37, 0x00, 0x00, 0x00, /* from, to, body_bytes = 55 */
		0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* seq */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* reserved */
		0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* term */
		0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* prev index */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* prev log_term */
		0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* commit */
		0x01, 0x00, 0x00, 0x00,				/* entry_count */
		0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* entry term */
		0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* bytes, type, reserved */
		0x61, 0x62, 0x63,				/* payload "abc" */
	};
	static const uint8_t abc[] = { 'a', 'b', 'c' };
	const uint8_t *payloads[1] = { abc };
	struct rc_raft_entry e = { .term = 3, .bytes = 3, .type = RC_ENTRY_NORMAL };
	struct test_payloads tp = { .entries = &e, .payloads = payloads };
	struct rc_raft_msg m = {
		.type = RC_MSG_APPEND,
		.from = 1,
		.to = 2,
		.term = 3,
		.index = 5,
		.log_term = 2,
		.commit = 4,
		.entry_count = 1,
		.entries = &e,
	};
	uint8_t buf[128];
	int32_t len = rc_wire_encode(buf, sizeof(buf), 7, 1, &m, test_payload, &tp);

	cr_assert_eq(len, (int32_t)sizeof(want));
	cr_assert_arr_eq(buf, want, sizeof(want));
	cr_assert_eq(rc_wire_append_bytes(1, 3), sizeof(want));
}

/* Encodes one message, decodes it and checks every field, entry and payload byte. */
static void
roundtrip(uint8_t type, uint32_t entry_count)
{
	static struct test_msg t;
	static uint8_t buf[TEST_FRAME_BYTES], again[TEST_FRAME_BYTES];
	struct rc_wire_header h;
	struct rc_raft_msg m;
	struct rc_raft_entry entries[TEST_ENTRIES_MAX];
	const uint8_t *payloads[TEST_ENTRIES_MAX];
	struct test_payloads tp = { .entries = entries, .payloads = payloads };
	enum rc_wire_error err;
	uint32_t len, i;

	make_msg(&t, type, entry_count);
	len = encode_msg(buf, sizeof(buf), 0xc0ffee01u, 0x1234567890abcdefull, &t);
	err = rc_wire_decode(buf, len, &h, &m, entries, payloads, TEST_ENTRIES_MAX);
	cr_assert_eq(err, RC_WIRE_OK, "%s: %s", rc_raft_msg_name(type), rc_wire_strerror(err));

	cr_assert_eq(h.magic, RC_WIRE_MAGIC);
	cr_assert_eq(h.version, RC_WIRE_VERSION);
	cr_assert_eq(h.type, type);
	cr_assert_eq(h.cluster_id, 0xc0ffee01u);
	cr_assert_eq(h.from, t.m.from);
	cr_assert_eq(h.to, t.m.to);
	cr_assert_eq(h.body_bytes, len - RC_WIRE_HEADER_BYTES);
	cr_assert_eq(h.seq, 0x1234567890abcdefull);
	cr_assert_eq(h.reserved, 0);
	assert_msg_fields_eq(&m, &t.m);
	if (type == RC_MSG_APPEND)
		cr_assert_eq(m.entries, entries);
	else
		cr_assert_null(m.entries);
	for (i = 0; i < m.entry_count; i++) {
		cr_assert_eq(entries[i].term, t.entries[i].term);
		cr_assert_eq(entries[i].bytes, t.entries[i].bytes);
		cr_assert_eq(entries[i].type, t.entries[i].type);
		cr_assert_eq(entries[i].ref, 0);
		cr_assert_eq(entries[i].reserved, 0);
		cr_assert(payloads[i] >= buf && payloads[i] + entries[i].bytes <= buf + len);
		if (entries[i].bytes > 0)
			cr_assert_arr_eq(payloads[i], t.payloads[i], entries[i].bytes);
	}
	/* And back: the decoded message encodes to the same bytes. */
	cr_assert_eq(rc_wire_encode(again, sizeof(again), h.cluster_id, h.seq, &m, test_payload,
				    &tp),
		     (int32_t)len);
	cr_assert_arr_eq(again, buf, len);
}

Test(wire, roundtrip_every_message_type)
{
	uint8_t type;

	for (type = 1; type < RC_MSG_TYPE_COUNT; type++)
		roundtrip(type, 0);
}

Test(wire, roundtrip_append_with_entries)
{
	uint32_t count;

	for (count = 0; count <= TEST_ENTRIES_MAX; count++)
		roundtrip(RC_MSG_APPEND, count);
}

Test(wire, roundtrip_append_with_largest_entries)
{
	static struct rc_raft_entry entries[RC_MSG_ENTRIES_MAX];
	static const uint8_t *payloads[RC_MSG_ENTRIES_MAX];
	static struct rc_raft_entry got_entries[RC_MSG_ENTRIES_MAX];
	static const uint8_t *got_payloads[RC_MSG_ENTRIES_MAX];
	static uint8_t payload[RC_ENTRY_BYTES_MAX];
	struct test_payloads tp = { .entries = entries, .payloads = payloads };
	struct rc_raft_msg m = {
		.type = RC_MSG_APPEND,
		.from = 1,
		.to = 2,
		.term = 9,
		.entry_count = RC_MSG_ENTRIES_MAX,
		.entries = entries,
	};
	uint32_t want = rc_wire_append_bytes(RC_MSG_ENTRIES_MAX,
					     (uint64_t)RC_MSG_ENTRIES_MAX * RC_ENTRY_BYTES_MAX);
	uint8_t *buf = malloc(want);
	struct rc_wire_header h;
	struct rc_raft_msg got;
	uint32_t i;

	cr_assert_not_null(buf);
	for (i = 0; i < RC_ENTRY_BYTES_MAX; i++)
		payload[i] = (uint8_t)(i * 7u);
	for (i = 0; i < RC_MSG_ENTRIES_MAX; i++) {
		entries[i] = (struct rc_raft_entry){ .term = 9, .bytes = RC_ENTRY_BYTES_MAX };
		payloads[i] = payload;
	}
	cr_assert_eq(rc_wire_encode(buf, want, 1, 1, &m, test_payload, &tp), (int32_t)want);
	cr_assert_eq(rc_wire_decode(buf, want, &h, &got, got_entries, got_payloads,
				    RC_MSG_ENTRIES_MAX),
		     RC_WIRE_OK);
	cr_assert_eq(got.entry_count, RC_MSG_ENTRIES_MAX);
	cr_assert_arr_eq(got_payloads[RC_MSG_ENTRIES_MAX - 1], payload, RC_ENTRY_BYTES_MAX);
	/* One entry less room than the frame carries. */
	cr_assert_eq(rc_wire_decode(buf, want, &h, &got, got_entries, got_payloads,
				    RC_MSG_ENTRIES_MAX - 1),
		     RC_WIRE_ECOUNT);
	free(buf);
}

Test(wire, decode_append_without_entries_needs_no_arrays)
{
	struct test_msg t;
	uint8_t buf[256];
	struct rc_wire_header h;
	struct rc_raft_msg m;
	uint32_t len;

	make_msg(&t, RC_MSG_APPEND, 0);
	len = encode_msg(buf, sizeof(buf), 1, 1, &t);
	cr_assert_eq(rc_wire_decode(buf, len, &h, &m, NULL, NULL, 0), RC_WIRE_OK);
	cr_assert_eq(m.entry_count, 0);

	make_msg(&t, RC_MSG_APPEND, 1);
	len = encode_msg(buf, sizeof(buf), 1, 1, &t);
	cr_assert_eq(rc_wire_decode(buf, len, &h, &m, NULL, NULL, 0), RC_WIRE_ECOUNT);
}

Test(wire, append_bytes_is_the_encoded_length)
{
	struct test_msg t;
	static uint8_t buf[TEST_FRAME_BYTES];
	uint32_t count, i;
	uint64_t payload_bytes;

	for (count = 0; count <= TEST_ENTRIES_MAX; count++) {
		make_msg(&t, RC_MSG_APPEND, count);
		payload_bytes = 0;
		for (i = 0; i < count; i++)
			payload_bytes += t.entries[i].bytes;
		cr_assert_eq(encode_msg(buf, sizeof(buf), 1, 1, &t),
			     rc_wire_append_bytes(count, payload_bytes));
	}
	cr_assert_eq(rc_wire_append_bytes(0, 0), RC_WIRE_HEADER_BYTES + 36u);
	cr_assert_eq(rc_wire_append_bytes(2, 10), RC_WIRE_HEADER_BYTES + 36u + 2 * 16u + 10u);
	/* Absurd sizes saturate instead of wrapping to something small. */
	cr_assert_eq(rc_wire_append_bytes(UINT32_MAX, 0), UINT32_MAX);
	cr_assert_eq(rc_wire_append_bytes(0, UINT64_MAX), UINT32_MAX);
	cr_assert_eq(rc_wire_append_bytes(1, UINT32_MAX - 40u), UINT32_MAX);
}

Test(wire, encode_refuses_every_short_buffer)
{
	static struct test_msg t;
	static uint8_t buf[TEST_FRAME_BYTES];
	struct test_payloads tp;
	uint8_t type;
	uint32_t len, cap;

	for (type = 1; type < RC_MSG_TYPE_COUNT; type++) {
		make_msg(&t, type, type == RC_MSG_APPEND ? 5 : 0);
		tp = (struct test_payloads){ .entries = t.entries, .payloads = t.payloads };
		len = encode_msg(buf, sizeof(buf), 1, 1, &t);
		for (cap = 0; cap < len; cap++)
			cr_assert_eq(rc_wire_encode(buf, cap, 1, 1, &t.m, test_payload, &tp),
				     -ENOSPC, "%s cap %u of %u", rc_raft_msg_name(type), cap, len);
		cr_assert_eq(rc_wire_encode(buf, len, 1, 1, &t.m, test_payload, &tp), (int32_t)len);
	}
}

/* ---- Each reject reason from a crafted frame ---------------------------------------------- */

/* Encodes the test message of type (APPEND: 3 entries) into buf and returns its length. */
static uint32_t
valid_frame(uint8_t *buf, uint32_t cap, uint8_t type)
{
	static struct test_msg t;

	make_msg(&t, type, type == RC_MSG_APPEND ? 3 : 0);
	return encode_msg(buf, cap, 1, 1, &t);
}

Test(wire, reject_short)
{
	uint8_t buf[256];
	uint32_t len = valid_frame(buf, sizeof(buf), RC_MSG_HEARTBEAT_RESP);

	cr_assert_eq(len, RC_WIRE_HEADER_BYTES + 8u);
	assert_reject(buf, 0, RC_WIRE_ESHORT, "empty");
	assert_reject(NULL, 0, RC_WIRE_ESHORT, "NULL and empty");
	assert_reject(buf, RC_WIRE_HEADER_BYTES - 1, RC_WIRE_ESHORT, "one byte short of a header");
}

Test(wire, reject_magic)
{
	uint8_t buf[256];
	uint32_t len = valid_frame(buf, sizeof(buf), RC_MSG_HEARTBEAT);

	buf[OFF_MAGIC] ^= 0x01;
	assert_reject(buf, len, RC_WIRE_EMAGIC, "low magic byte");
	buf[OFF_MAGIC] ^= 0x01;
	buf[OFF_MAGIC + 1] = 0x52; /* "RR" */
	assert_reject(buf, len, RC_WIRE_EMAGIC, "high magic byte");
	put_le16(buf + OFF_MAGIC, 0x5243); /* the magic with its bytes swapped */
	assert_reject(buf, len, RC_WIRE_EMAGIC, "big-endian magic");
}

Test(wire, reject_version)
{
	uint8_t buf[256];
	uint32_t len = valid_frame(buf, sizeof(buf), RC_MSG_HEARTBEAT);

	buf[OFF_VERSION] = 0;
	assert_reject(buf, len, RC_WIRE_EVERSION, "version 0");
	buf[OFF_VERSION] = RC_WIRE_VERSION + 1;
	assert_reject(buf, len, RC_WIRE_EVERSION, "version 2");
}

Test(wire, reject_type)
{
	uint8_t buf[256];
	uint32_t len = valid_frame(buf, sizeof(buf), RC_MSG_HEARTBEAT);

	buf[OFF_TYPE] = RC_MSG_NONE;
	assert_reject(buf, len, RC_WIRE_ETYPE, "type NONE");
	buf[OFF_TYPE] = RC_MSG_TYPE_COUNT;
	assert_reject(buf, len, RC_WIRE_ETYPE, "type COUNT");
	buf[OFF_TYPE] = 0xff;
	assert_reject(buf, len, RC_WIRE_ETYPE, "type 255");
}

Test(wire, reject_body_length)
{
	uint8_t buf[512];
	uint32_t len = valid_frame(buf, sizeof(buf), RC_MSG_HEARTBEAT);
	uint8_t type;

	put_le32(buf + OFF_BODY_BYTES, len - RC_WIRE_HEADER_BYTES + 1);
	assert_reject(buf, len, RC_WIRE_EBODY, "body_bytes one more than the buffer");
	put_le32(buf + OFF_BODY_BYTES, len - RC_WIRE_HEADER_BYTES - 1);
	assert_reject(buf, len, RC_WIRE_EBODY, "body_bytes one less than the buffer");
	put_le32(buf + OFF_BODY_BYTES, UINT32_MAX);
	assert_reject(buf, len, RC_WIRE_EBODY, "body_bytes huge");

	/* A header that agrees with the buffer but a body too short for its type. */
	for (type = 1; type < RC_MSG_TYPE_COUNT; type++) {
		len = valid_frame(buf, sizeof(buf), type);
		if (type == RC_MSG_APPEND)
			len = RC_WIRE_HEADER_BYTES + 36u; /* cut before the first entry */
		put_le32(buf + OFF_BODY_BYTES, len - RC_WIRE_HEADER_BYTES - 1);
		assert_reject(buf, len - 1, RC_WIRE_EBODY, rc_raft_msg_name(type));
		put_le32(buf + OFF_BODY_BYTES, 0);
		assert_reject(buf, RC_WIRE_HEADER_BYTES, RC_WIRE_EBODY, rc_raft_msg_name(type));
	}
}

Test(wire, reject_field)
{
	uint8_t buf[512];
	uint32_t len;
	uint32_t i;

	len = valid_frame(buf, sizeof(buf), RC_MSG_HEARTBEAT);
	put_le16(buf + OFF_FROM, 0);
	assert_reject(buf, len, RC_WIRE_EFIELD, "from 0");
	put_le16(buf + OFF_FROM, RC_NODE_ID_MAX + 1);
	assert_reject(buf, len, RC_WIRE_EFIELD, "from above RC_NODE_ID_MAX");
	put_le16(buf + OFF_FROM, RC_NODE_ID_MAX);
	cr_assert_eq(decode(buf, len), RC_WIRE_OK);
	put_le16(buf + OFF_TO, 0);
	assert_reject(buf, len, RC_WIRE_EFIELD, "to 0");
	put_le16(buf + OFF_TO, 0xffff);
	assert_reject(buf, len, RC_WIRE_EFIELD, "to 0xffff");
	put_le16(buf + OFF_TO, 1);
	cr_assert_eq(decode(buf, len), RC_WIRE_OK);
	for (i = 0; i < 8; i++) {
		buf[OFF_RESERVED + i] = 0x80;
		assert_reject(buf, len, RC_WIRE_EFIELD, "reserved byte set");
		buf[OFF_RESERVED + i] = 0;
	}

	len = valid_frame(buf, sizeof(buf), RC_MSG_VOTE_RESP);
	buf[OFF_RESP_FLAGS] = 0x02;
	assert_reject(buf, len, RC_WIRE_EFIELD, "VOTE_RESP unknown flag");
	len = valid_frame(buf, sizeof(buf), RC_MSG_PREVOTE_RESP);
	buf[OFF_RESP_FLAGS] = 0x81;
	assert_reject(buf, len, RC_WIRE_EFIELD, "PREVOTE_RESP unknown flag");
	len = valid_frame(buf, sizeof(buf), RC_MSG_APPEND_RESP);
	buf[OFF_RESP_FLAGS] = 0xff;
	assert_reject(buf, len, RC_WIRE_EFIELD, "APPEND_RESP unknown flag");
	buf[OFF_RESP_FLAGS] = 0x00;
	cr_assert_eq(decode(buf, len), RC_WIRE_OK);

	len = valid_frame(buf, sizeof(buf), RC_MSG_APPEND);
	put_le16(buf + OFF_APPEND_ENTRY0 + 12, RC_ENTRY_TYPE_COUNT);
	assert_reject(buf, len, RC_WIRE_EFIELD, "entry type COUNT");
	put_le16(buf + OFF_APPEND_ENTRY0 + 12, RC_ENTRY_NOOP);
	cr_assert_eq(decode(buf, len), RC_WIRE_OK);
	put_le16(buf + OFF_APPEND_ENTRY0 + 14, 1);
	assert_reject(buf, len, RC_WIRE_EFIELD, "entry reserved set");
}

Test(wire, reject_count)
{
	uint8_t buf[512];
	uint32_t len = valid_frame(buf, sizeof(buf), RC_MSG_APPEND);
	struct rc_wire_header h;
	struct rc_raft_msg m;
	struct rc_raft_entry entries[3];
	const uint8_t *payloads[3];

	put_le32(buf + OFF_APPEND_COUNT, RC_MSG_ENTRIES_MAX + 1);
	assert_reject(buf, len, RC_WIRE_ECOUNT, "count above RC_MSG_ENTRIES_MAX");
	put_le32(buf + OFF_APPEND_COUNT, UINT32_MAX);
	assert_reject(buf, len, RC_WIRE_ECOUNT, "count 2^32-1");
	put_le32(buf + OFF_APPEND_COUNT, 3);
	cr_assert_eq(rc_wire_decode(buf, len, &h, &m, entries, payloads, 3), RC_WIRE_OK);
	cr_assert_eq(rc_wire_decode(buf, len, &h, &m, entries, payloads, 2), RC_WIRE_ECOUNT);
}

Test(wire, reject_entry)
{
	uint8_t buf[1024];
	uint32_t len = valid_frame(buf, sizeof(buf), RC_MSG_APPEND);
	uint32_t bytes0 = get_le32(buf + OFF_APPEND_ENTRY0 + 8);
	uint32_t off1 = OFF_APPEND_ENTRY0 + ENTRY_HEADER_BYTES + bytes0;

	/* More entry headers than the body holds: refused before the loop. */
	uint32_t count = (len - OFF_APPEND_ENTRY0) / ENTRY_HEADER_BYTES + 1;

	cr_assert_leq(count, TEST_ENTRIES_MAX);
	put_le32(buf + OFF_APPEND_COUNT, count);
	assert_reject(buf, len, RC_WIRE_EENTRY, "count of headers past the body");
	put_le32(buf + OFF_APPEND_COUNT, 3);

	put_le32(buf + off1 + 8, RC_ENTRY_BYTES_MAX + 1);
	assert_reject(buf, len, RC_WIRE_EENTRY, "entry above RC_ENTRY_BYTES_MAX");
	put_le32(buf + off1 + 8, UINT32_MAX);
	assert_reject(buf, len, RC_WIRE_EENTRY, "entry bytes 2^32-1");
	put_le32(buf + off1 + 8, len - off1 - ENTRY_HEADER_BYTES + 1);
	assert_reject(buf, len, RC_WIRE_EENTRY, "entry one byte past the body");

	/* A frame whose body is padded out to RC_ENTRY_BYTES_MAX + 1 of payload: the bound, not
	 * the body, refuses it. */
	{
		static uint8_t big[2 * RC_ENTRY_BYTES_MAX];
		uint32_t big_len = OFF_APPEND_ENTRY0 + ENTRY_HEADER_BYTES + RC_ENTRY_BYTES_MAX + 1;

		memcpy(big, buf, OFF_APPEND_ENTRY0 + ENTRY_HEADER_BYTES);
		put_le32(big + OFF_BODY_BYTES, big_len - RC_WIRE_HEADER_BYTES);
		put_le32(big + OFF_APPEND_COUNT, 1);
		put_le32(big + OFF_APPEND_ENTRY0 + 8, RC_ENTRY_BYTES_MAX + 1);
		assert_reject(big, big_len, RC_WIRE_EENTRY, "payload fits body, not the bound");
		put_le32(big + OFF_APPEND_ENTRY0 + 8, RC_ENTRY_BYTES_MAX);
		assert_reject(big, big_len, RC_WIRE_ETRAILING, "one byte after the largest entry");
		put_le32(big + OFF_BODY_BYTES, big_len - 1 - RC_WIRE_HEADER_BYTES);
		cr_assert_eq(decode(big, big_len - 1), RC_WIRE_OK);
	}
}

Test(wire, reject_trailing)
{
	uint8_t buf[512];
	uint8_t type;
	uint32_t len;

	for (type = 1; type < RC_MSG_TYPE_COUNT; type++) {
		len = valid_frame(buf, sizeof(buf), type);
		buf[len] = 0;
		put_le32(buf + OFF_BODY_BYTES, len + 1 - RC_WIRE_HEADER_BYTES);
		assert_reject(buf, len + 1, RC_WIRE_ETRAILING, rc_raft_msg_name(type));
	}
	/* An APPEND whose count is one short of the entries it carries. */
	len = valid_frame(buf, sizeof(buf), RC_MSG_APPEND);
	put_le32(buf + OFF_APPEND_COUNT, 2);
	assert_reject(buf, len, RC_WIRE_ETRAILING, "APPEND count one short");
}

/* ---- Truncation ---------------------------------------------------------------------------- */

Test(wire, every_truncation_is_refused)
{
	static uint8_t buf[TEST_FRAME_BYTES];
	static uint8_t cut[TEST_FRAME_BYTES];
	uint8_t type;
	uint32_t len, n;
	enum rc_wire_error err;

	for (type = 1; type < RC_MSG_TYPE_COUNT; type++) {
		len = valid_frame(buf, sizeof(buf), type);
		cr_assert_eq(decode(buf, len), RC_WIRE_OK);
		for (n = 0; n < len; n++) {
			/* As received: the header still claims the full body. */
			memcpy(cut, buf, n);
			err = decode(cut, n);
			cr_assert_eq(err, n < RC_WIRE_HEADER_BYTES ? RC_WIRE_ESHORT : RC_WIRE_EBODY,
				     "%s cut at %u: %s", rc_raft_msg_name(type), n,
				     rc_wire_strerror(err));
			if (n < RC_WIRE_HEADER_BYTES)
				continue;
			/* Forged: body_bytes made to agree, so the body checks must catch it. */
			put_le32(cut + OFF_BODY_BYTES, n - RC_WIRE_HEADER_BYTES);
			err = decode(cut, n);
			if (type == RC_MSG_APPEND && n >= OFF_APPEND_ENTRY0)
				cr_assert_eq(err, RC_WIRE_EENTRY, "APPEND cut at %u: %s", n,
					     rc_wire_strerror(err));
			else
				cr_assert_eq(err, RC_WIRE_EBODY, "%s cut at %u: %s",
					     rc_raft_msg_name(type), n, rc_wire_strerror(err));
		}
	}
}

/* ---- Encode's contract ---------------------------------------------------------------------- */

/* Encodes m into a scratch buffer; the tests below expect it to abort. */
static void
encode_bad(const struct rc_raft_msg *m, rc_wire_payload_fn payload, void *ctx)
{
	static uint8_t buf[TEST_FRAME_BYTES];

	rc_wire_encode(buf, sizeof(buf), 1, 1, m, payload, ctx);
}

Test(wire, encode_aborts_on_type_none, .signal = SIGABRT)
{
	struct rc_raft_msg m = { .type = RC_MSG_NONE, .from = 1, .to = 2 };

	encode_bad(&m, NULL, NULL);
}

Test(wire, encode_aborts_on_type_past_count, .signal = SIGABRT)
{
	struct rc_raft_msg m = { .type = RC_MSG_TYPE_COUNT, .from = 1, .to = 2 };

	encode_bad(&m, NULL, NULL);
}

Test(wire, encode_aborts_on_node_zero, .signal = SIGABRT)
{
	struct rc_raft_msg m = { .type = RC_MSG_HEARTBEAT, .from = 1, .to = 0 };

	encode_bad(&m, NULL, NULL);
}

Test(wire, encode_aborts_on_too_many_entries, .signal = SIGABRT)
{
	static struct rc_raft_entry entries[RC_MSG_ENTRIES_MAX + 1];
	struct rc_raft_msg m = {
		.type = RC_MSG_APPEND,
		.from = 1,
		.to = 2,
		.entry_count = RC_MSG_ENTRIES_MAX + 1,
		.entries = entries,
	};

	encode_bad(&m, NULL, NULL);
}

Test(wire, encode_aborts_on_missing_entries, .signal = SIGABRT)
{
	struct rc_raft_msg m = { .type = RC_MSG_APPEND, .from = 1, .to = 2, .entry_count = 1 };

	encode_bad(&m, NULL, NULL);
}

Test(wire, encode_aborts_on_oversized_entry, .signal = SIGABRT)
{
	struct rc_raft_entry e = { .term = 1, .bytes = RC_ENTRY_BYTES_MAX + 1 };
	struct rc_raft_msg m = {
		.type = RC_MSG_APPEND, .from = 1, .to = 2, .entry_count = 1, .entries = &e
	};

	encode_bad(&m, NULL, NULL);
}

Test(wire, encode_aborts_on_unknown_entry_type, .signal = SIGABRT)
{
	struct rc_raft_entry e = { .term = 1, .type = RC_ENTRY_TYPE_COUNT };
	struct rc_raft_msg m = {
		.type = RC_MSG_APPEND, .from = 1, .to = 2, .entry_count = 1, .entries = &e
	};

	encode_bad(&m, NULL, NULL);
}

/* A payload callback that has no bytes to give. */
static const void *
null_payload(void *ctx, const struct rc_raft_entry *e)
{
	(void)ctx;
	(void)e;
	return NULL;
}

Test(wire, encode_aborts_on_missing_payload, .signal = SIGABRT)
{
	struct rc_raft_entry e = { .term = 1, .bytes = 1 };
	struct rc_raft_msg m = {
		.type = RC_MSG_APPEND, .from = 1, .to = 2, .entry_count = 1, .entries = &e
	};

	encode_bad(&m, null_payload, NULL);
}

Test(wire, encode_takes_no_payload_for_empty_entries)
{
	struct rc_raft_entry e[2] = { { .term = 1, .type = RC_ENTRY_NOOP }, { .term = 2 } };
	struct rc_raft_msg m = {
		.type = RC_MSG_APPEND, .from = 1, .to = 2, .entry_count = 2, .entries = e
	};
	uint8_t buf[256];

	cr_assert_eq(rc_wire_encode(buf, sizeof(buf), 1, 1, &m, null_payload, NULL),
		     (int32_t)rc_wire_append_bytes(2, 0));
	cr_assert_eq(rc_wire_encode(buf, sizeof(buf), 1, 1, &m, NULL, NULL),
		     (int32_t)rc_wire_append_bytes(2, 0));
}

/* ---- A million frames --------------------------------------------------------------------- */

#define MILLION_FRAMES 1000000u
#define POOL_FRAMES 512u

/* A valid frame and the offsets of its entry headers, to aim mutations at. */
struct pool_frame {
	uint8_t *bytes;
	uint32_t len;
	uint32_t entry_count;
	uint32_t entry_off[TEST_ENTRIES_MAX];
};

/*
 * The frame under test ends at the first byte of a PROT_NONE page, so any read past its end
 * faults in every build; under ASan the bytes before it are poisoned as well.
 */
struct guarded {
	uint8_t *map;
	size_t map_bytes;
	uint8_t *end; /* first byte of the guard page */
};

/* Maps TEST_FRAME_BYTES (rounded up to pages) followed by an inaccessible guard page. */
static void
guarded_init(struct guarded *g)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (TEST_FRAME_BYTES + page - 1) / page * page;

	g->map_bytes = data + page;
	g->map = mmap(NULL, g->map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		      0);
	cr_assert_neq(g->map, MAP_FAILED);
	cr_assert_eq(mprotect(g->map + data, page, PROT_NONE), 0);
	g->end = g->map + data;
}

/* Returns a uniformly random u64 from a few that sit on boundaries, or a random one. */
static uint64_t
pick_u64(struct rc_prng *p)
{
	static const uint64_t edges[] = { 0, 1, 2, 0x7fffffffffffffffull, UINT64_MAX, UINT32_MAX };
	uint64_t r = rc_prng_below(p, 8);

	if (r < 6)
		return edges[r];
	return r == 6 ? rc_prng_below(p, 1000) : rc_prng_next(p);
}

/* Returns a random valid node id, often an edge of the range. */
static uint16_t
pick_node(struct rc_prng *p)
{
	uint64_t r = rc_prng_below(p, 4);

	if (r == 0)
		return 1;
	if (r == 1)
		return RC_NODE_ID_MAX;
	return (uint16_t)(1 + rc_prng_below(p, RC_NODE_ID_MAX));
}

/* Fills t with a random well-formed message (fields its type does not carry left zero). */
static void
random_msg(struct rc_prng *p, struct test_msg *t)
{
	uint32_t used = 0;
	uint32_t i, k;

	memset(&t->m, 0, sizeof(t->m));
	t->m.type = (uint8_t)(1 + rc_prng_below(p, RC_MSG_TYPE_COUNT - 1));
	t->m.from = pick_node(p);
	t->m.to = pick_node(p);
	t->m.term = pick_u64(p);
	switch (t->m.type) {
	case RC_MSG_VOTE:
	case RC_MSG_PREVOTE:
		t->m.index = pick_u64(p);
		t->m.log_term = pick_u64(p);
		break;
	case RC_MSG_VOTE_RESP:
	case RC_MSG_PREVOTE_RESP:
		t->m.reject = (uint8_t)rc_prng_below(p, 2);
		break;
	case RC_MSG_APPEND:
		t->m.index = pick_u64(p);
		t->m.log_term = pick_u64(p);
		t->m.commit = pick_u64(p);
		t->m.entry_count = (uint32_t)rc_prng_below(p, TEST_ENTRIES_MAX + 1);
		t->m.entries = t->entries;
		for (i = 0; i < t->m.entry_count; i++) {
			uint32_t bytes = (uint32_t)rc_prng_below(p, 300);

			if (i == 0 && rc_prng_chance(p, 30000))
				bytes = RC_ENTRY_BYTES_MAX - (uint32_t)rc_prng_below(p, 2);
			t->entries[i] = (struct rc_raft_entry){
				.term = pick_u64(p),
				.bytes = bytes,
				.type = (uint16_t)rc_prng_below(p, RC_ENTRY_TYPE_COUNT),
			};
			for (k = 0; k < bytes; k++)
				t->arena[used + k] = (uint8_t)rc_prng_next(p);
			t->payloads[i] = &t->arena[used];
			used += bytes;
		}
		break;
	case RC_MSG_APPEND_RESP:
		t->m.reject = (uint8_t)rc_prng_below(p, 2);
		t->m.index = pick_u64(p);
		t->m.log_term = pick_u64(p);
		t->m.hint_index = pick_u64(p);
		break;
	case RC_MSG_HEARTBEAT:
		t->m.commit = pick_u64(p);
		break;
	default:
		break;
	}
}

/* Fills pool[] with random valid frames, each checked to decode. */
static void
pool_init(struct rc_prng *p, struct pool_frame *pool)
{
	static struct test_msg t;
	static uint8_t buf[TEST_FRAME_BYTES];
	uint32_t i, k, off;

	for (i = 0; i < POOL_FRAMES; i++) {
		random_msg(p, &t);
		pool[i].len = encode_msg(buf, sizeof(buf), (uint32_t)rc_prng_next(p),
					 rc_prng_next(p), &t);
		pool[i].bytes = malloc(pool[i].len);
		cr_assert_not_null(pool[i].bytes);
		memcpy(pool[i].bytes, buf, pool[i].len);
		cr_assert_eq(decode(pool[i].bytes, pool[i].len), RC_WIRE_OK);
		pool[i].entry_count = t.m.entry_count;
		off = OFF_APPEND_ENTRY0;
		for (k = 0; k < t.m.entry_count; k++) {
			pool[i].entry_off[k] = off;
			off += ENTRY_HEADER_BYTES + t.entries[k].bytes;
		}
	}
}

/* Writes a random u32 that is often huge or just off a bound into buf at off, if it fits. */
static void
mutate_u32_field(struct rc_prng *p, uint8_t *buf, uint32_t len, uint32_t off)
{
	static const uint32_t huge[] = {
		UINT32_MAX, 0x80000000u, RC_MSG_ENTRIES_MAX + 1, RC_ENTRY_BYTES_MAX + 1, 0, 1
	};
	uint64_t r = rc_prng_below(p, 10);
	uint32_t v;

	if (off + 4 > len)
		return;
	if (r < 6)
		v = huge[r];
	else if (r < 8)
		v = get_le32(buf + off) + (uint32_t)rc_prng_below(p, 5) - 2u;
	else
		v = (uint32_t)rc_prng_next(p);
	put_le32(buf + off, v);
}

/*
 * Applies 1..4 random mutations to the frame in buf (from pool frame f): bit flips, byte
 * overwrites, truncation, extension, huge body/count/entry-length fields; then, more often than
 * not, makes body_bytes agree with the new length so the body checks get exercised.
 * Returns the new length.
 */
static uint32_t
mutate(struct rc_prng *p, uint8_t *buf, uint32_t len, const struct pool_frame *f)
{
	uint32_t n = 1 + (uint32_t)rc_prng_below(p, 4);
	uint32_t i, k;

	for (i = 0; i < n; i++) {
		switch (rc_prng_below(p, 8)) {
		case 0: /* bit flip */
			if (len > 0)
				buf[rc_prng_below(p, len)] ^= (uint8_t)(1u << rc_prng_below(p, 8));
			break;
		case 1: /* byte overwrite */
			if (len > 0)
				buf[rc_prng_below(p, len)] = (uint8_t)rc_prng_next(p);
			break;
		case 2: /* truncation */
			len = (uint32_t)rc_prng_below(p, len + 1);
			break;
		case 3: /* extension */
			k = 1 + (uint32_t)rc_prng_below(p, 64);
			if (len + k > TEST_FRAME_BYTES)
				break;
			while (k-- > 0)
				buf[len++] = (uint8_t)rc_prng_next(p);
			break;
		case 4: /* body length */
			mutate_u32_field(p, buf, len, OFF_BODY_BYTES);
			break;
		case 5: /* entry count */
			mutate_u32_field(p, buf, len, OFF_APPEND_COUNT);
			break;
		case 6: /* one entry's byte count */
			if (f->entry_count > 0)
				mutate_u32_field(p, buf, len,
						 f->entry_off[rc_prng_below(p, f->entry_count)] +
							 8u);
			break;
		default: /* a node id, set to an edge or a random value */
			if (len >= RC_WIRE_HEADER_BYTES)
				put_le16(buf + (rc_prng_below(p, 2) ? OFF_FROM : OFF_TO),
					 (uint16_t)pick_u64(p));
			break;
		}
	}
	if (len >= RC_WIRE_HEADER_BYTES && rc_prng_chance(p, 700000))
		put_le32(buf + OFF_BODY_BYTES, len - RC_WIRE_HEADER_BYTES);
	return len;
}

/* Fills buf with a header that passes every header check and len - 32 random body bytes. */
static uint32_t
random_body(struct rc_prng *p, uint8_t *buf)
{
	uint32_t len = RC_WIRE_HEADER_BYTES + (uint32_t)rc_prng_below(p, 600);
	uint32_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)rc_prng_next(p);
	put_le16(buf + OFF_MAGIC, RC_WIRE_MAGIC);
	buf[OFF_VERSION] = RC_WIRE_VERSION;
	buf[OFF_TYPE] = (uint8_t)(1 + rc_prng_below(p, RC_MSG_TYPE_COUNT - 1));
	put_le16(buf + OFF_FROM, pick_node(p));
	put_le16(buf + OFF_TO, pick_node(p));
	put_le32(buf + OFF_BODY_BYTES, len - RC_WIRE_HEADER_BYTES);
	put_le64(buf + OFF_RESERVED, 0);
	if (buf[OFF_TYPE] == RC_MSG_APPEND && len >= OFF_APPEND_ENTRY0)
		put_le32(buf + OFF_APPEND_COUNT, (uint32_t)rc_prng_below(p, 4));
	return len;
}

/* Fills buf with 0..2048 uniformly random bytes. Returns the length. */
static uint32_t
random_bytes(struct rc_prng *p, uint8_t *buf)
{
	uint32_t len = (uint32_t)rc_prng_below(p, 2049);
	uint32_t i;
	uint64_t r = 0;

	for (i = 0; i < len; i++) {
		if (i % 8 == 0)
			r = rc_prng_next(p);
		buf[i] = (uint8_t)(r >> (8 * (i % 8)));
	}
	return len;
}

/*
 * Checks one accepted frame: payload pointers inside the frame, and the decoded message
 * re-encodes to exactly the bytes received. Returns 0, or -1 after logging what differs.
 */
static int
check_accepted(const uint8_t *frame, uint32_t len, const struct rc_wire_header *h,
	       const struct rc_raft_msg *m, const struct rc_raft_entry *entries,
	       const uint8_t *const *payloads, uint8_t *again)
{
	struct test_payloads tp = { .entries = entries, .payloads = payloads };
	int32_t again_len;
	uint32_t i;

	if (m->entry_count > TEST_ENTRIES_MAX)
		return -1;
	for (i = 0; i < m->entry_count; i++)
		if (payloads[i] < frame || payloads[i] + entries[i].bytes > frame + len)
			return -1;
	again_len = rc_wire_encode(again, TEST_FRAME_BYTES, h->cluster_id, h->seq, m, test_payload,
				   &tp);
	if (again_len != (int32_t)len || memcmp(again, frame, len) != 0)
		return -1;
	return 0;
}

Test(wire, a_million_random_and_mutated_frames, .timeout = 300)
{
	static struct pool_frame pool[POOL_FRAMES];
	static uint8_t scratch[TEST_FRAME_BYTES], again[TEST_FRAME_BYTES];
	uint64_t verdicts[RC_WIRE_ERROR_COUNT] = { 0 };
	uint64_t kinds[3] = { 0 };
	struct rc_wire_header h;
	struct rc_raft_msg m;
	struct rc_raft_entry entries[TEST_ENTRIES_MAX];
	const uint8_t *payloads[TEST_ENTRIES_MAX];
	struct guarded g;
	struct rc_prng p;
	uint32_t i, len;
	int e;

	rc_prng_seed(&p, TEST_SEED);
	pool_init(&p, pool);
	guarded_init(&g);

	for (i = 0; i < MILLION_FRAMES; i++) {
		uint64_t kind = rc_prng_below(&p, 100);
		enum rc_wire_error err;
		uint8_t *frame;

		if (kind < 15) {
			len = random_bytes(&p, scratch);
			kinds[0]++;
		} else if (kind < 25) {
			len = random_body(&p, scratch);
			kinds[1]++;
		} else {
			const struct pool_frame *f = &pool[rc_prng_below(&p, POOL_FRAMES)];

			memcpy(scratch, f->bytes, f->len);
			len = mutate(&p, scratch, f->len, f);
			kinds[2]++;
		}
		frame = g.end - len;
		TEST_UNPOISON(g.map, (size_t)(g.end - g.map));
		memcpy(frame, scratch, len);
		TEST_POISON(g.map, (size_t)(frame - g.map));
		err = rc_wire_decode(frame, len, &h, &m, entries, payloads, TEST_ENTRIES_MAX);
		if ((unsigned)err >= RC_WIRE_ERROR_COUNT)
			cr_assert_fail("frame %u (seed %#llx): verdict %d out of range", i,
				       (unsigned long long)TEST_SEED, (int)err);
		verdicts[err]++;
		if (err == RC_WIRE_OK &&
		    check_accepted(frame, len, &h, &m, entries, payloads, again) != 0)
			cr_assert_fail("frame %u (seed %#llx, %u bytes, %s): accepted but does "
				       "not re-encode to the same bytes",
				       i, (unsigned long long)TEST_SEED, len,
				       rc_raft_msg_name(m.type));
	}

	cr_log_info("wire: %u frames: %llu random, %llu random body, %llu mutated", MILLION_FRAMES,
		    (unsigned long long)kinds[0], (unsigned long long)kinds[1],
		    (unsigned long long)kinds[2]);
	for (e = 0; e < RC_WIRE_ERROR_COUNT; e++)
		cr_log_info("wire: %-9s %llu", rc_wire_strerror((enum rc_wire_error)e),
			    (unsigned long long)verdicts[e]);
	/* The mix reaches every verdict; a decoder that refused (or took) everything fails. */
	for (e = 0; e < RC_WIRE_ERROR_COUNT; e++)
		cr_expect_gt(verdicts[e], 1000, "verdict %s seen only %llu times",
			     rc_wire_strerror((enum rc_wire_error)e),
			     (unsigned long long)verdicts[e]);

	TEST_UNPOISON(g.map, (size_t)(g.end - g.map));
	munmap(g.map, g.map_bytes);
	for (i = 0; i < POOL_FRAMES; i++)
		free(pool[i].bytes);
}
