/*
 * libFuzzer target: the input is read as the field values of a message of any type (up to
 * FUZZ_ENTRIES_MAX entries whose payloads are the input's own bytes). The message is encoded
 * into a buffer of exactly its length, decoded, and every field compared with what the type
 * carries (fields it does not carry must decode as zero); then the decoded message re-encodes
 * to the same bytes and one byte less room gives -ENOSPC. Any mismatch aborts.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <replicore/limits.h>
#include <replicore/raft.h>
#include <replicore/wire.h>

#define FUZZ_ENTRIES_MAX 6u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The unread rest of the fuzzer's input; reads past the end give zeros. */
struct fuzz_input {
	const uint8_t *p;
	size_t left;
};

/* Where the payload callback finds entry i's bytes: payloads[i] for entries[i]. */
struct fuzz_payloads {
	const struct rc_raft_entry *entries;
	const uint8_t *const *payloads;
};

/* Returns the payload of entry e, found by its position in ctx's entries. */
static const void *
fuzz_payload(void *ctx, const struct rc_raft_entry *e)
{
	const struct fuzz_payloads *fp = ctx;

	return fp->payloads[e - fp->entries];
}

/* Returns the next n (<= 8) input bytes as a little-endian number, zeros past the end. */
static uint64_t
fuzz_take(struct fuzz_input *in, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n && in->left > 0; i++, in->p++, in->left--)
		v |= (uint64_t)in->p[0] << (8 * i);
	return v;
}

/* Prints what differs and aborts. */
__attribute__((noreturn)) static void
fuzz_fail(const char *what, const struct rc_raft_msg *m)
{
	fprintf(stderr, "round trip of message type %u: %s differs\n", m->type, what);
	abort();
}

/* Aborts unless the decoded message equals the expected one, field by field. */
static void
fuzz_check_msg(const struct rc_raft_msg *got, const struct rc_raft_msg *want)
{
	if (got->type != want->type)
		fuzz_fail("type", want);
	if (got->reject != want->reject)
		fuzz_fail("reject", want);
	if (got->from != want->from || got->to != want->to)
		fuzz_fail("from/to", want);
	if (got->reserved != 0)
		fuzz_fail("reserved", want);
	if (got->entry_count != want->entry_count)
		fuzz_fail("entry_count", want);
	if (got->term != want->term)
		fuzz_fail("term", want);
	if (got->index != want->index)
		fuzz_fail("index", want);
	if (got->log_term != want->log_term)
		fuzz_fail("log_term", want);
	if (got->commit != want->commit)
		fuzz_fail("commit", want);
	if (got->hint_index != want->hint_index)
		fuzz_fail("hint_index", want);
}

/*
 * Builds the message from the input into *m (every field filled, carried or not; entries and
 * payloads in the given arrays) and the decoded form expected back into *want.
 */
static void
fuzz_build(struct fuzz_input *in, struct rc_raft_msg *m, struct rc_raft_msg *want,
	   struct rc_raft_entry *entries, const uint8_t **payloads)
{
	uint32_t i;

	memset(m, 0, sizeof(*m));
	m->type = (uint8_t)(1 + fuzz_take(in, 1) % (RC_MSG_TYPE_COUNT - 1));
	m->reject = (uint8_t)(fuzz_take(in, 1) & 1);
	m->from = (uint16_t)(1 + fuzz_take(in, 2) % RC_NODE_ID_MAX);
	m->to = (uint16_t)(1 + fuzz_take(in, 2) % RC_NODE_ID_MAX);
	m->reserved = (uint16_t)fuzz_take(in, 2);
	m->term = fuzz_take(in, 8);
	m->index = fuzz_take(in, 8);
	m->log_term = fuzz_take(in, 8);
	m->commit = fuzz_take(in, 8);
	m->hint_index = fuzz_take(in, 8);
	m->entry_count = (uint32_t)(fuzz_take(in, 1) % (FUZZ_ENTRIES_MAX + 1));
	m->entries = entries;
	for (i = 0; i < m->entry_count; i++) {
		uint32_t bytes = (uint32_t)(fuzz_take(in, 2) % (RC_ENTRY_BYTES_MAX + 1));

		entries[i].term = fuzz_take(in, 8);
		entries[i].type = (uint16_t)(fuzz_take(in, 1) % RC_ENTRY_TYPE_COUNT);
		entries[i].reserved = (uint16_t)fuzz_take(in, 2); /* not on the wire */
		entries[i].ref = fuzz_take(in, 8);		  /* not on the wire */
		if (bytes > in->left)
			bytes = (uint32_t)in->left;
		entries[i].bytes = bytes;
		payloads[i] = bytes > 0 ? in->p : NULL;
		in->p += bytes;
		in->left -= bytes;
	}

	/* What decode gives back: the fields m's type carries, zero for the rest. */
	memset(want, 0, sizeof(*want));
	want->type = m->type;
	want->from = m->from;
	want->to = m->to;
	want->term = m->term;
	switch (m->type) {
	case RC_MSG_VOTE:
	case RC_MSG_PREVOTE:
		want->index = m->index;
		want->log_term = m->log_term;
		break;
	case RC_MSG_VOTE_RESP:
	case RC_MSG_PREVOTE_RESP:
		want->reject = m->reject;
		break;
	case RC_MSG_APPEND:
		want->index = m->index;
		want->log_term = m->log_term;
		want->commit = m->commit;
		want->entry_count = m->entry_count;
		break;
	case RC_MSG_APPEND_RESP:
		want->reject = m->reject;
		want->index = m->index;
		want->log_term = m->log_term;
		want->hint_index = m->hint_index;
		break;
	case RC_MSG_HEARTBEAT:
		want->commit = m->commit;
		break;
	default:
		break;
	}
}

/* Builds, encodes, decodes and compares one message; aborts on any difference. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rc_raft_entry entries[FUZZ_ENTRIES_MAX];
	static const uint8_t *payloads[FUZZ_ENTRIES_MAX];
	static struct rc_raft_entry got_entries[FUZZ_ENTRIES_MAX];
	static const uint8_t *got_payloads[FUZZ_ENTRIES_MAX];
	struct fuzz_payloads fp = { .entries = entries, .payloads = payloads };
	struct fuzz_payloads got_fp = { .entries = got_entries, .payloads = got_payloads };
	struct fuzz_input in = { .p = data, .left = size };
	struct rc_raft_msg m, want, got;
	struct rc_wire_header h;
	enum rc_wire_error err;
	uint32_t cluster_id, len, i;
	uint64_t seq, payload_bytes = 0;
	uint8_t *scratch, *buf, *again;
	int32_t n;

	fuzz_build(&in, &m, &want, entries, payloads);
	cluster_id = (uint32_t)fuzz_take(&in, 4);
	seq = fuzz_take(&in, 8);
	for (i = 0; i < want.entry_count; i++)
		payload_bytes += entries[i].bytes;
	len = m.type == RC_MSG_APPEND ? rc_wire_append_bytes(m.entry_count, payload_bytes) :
					RC_WIRE_HEADER_BYTES + 64u; /* above any fixed body */

	scratch = malloc(len);
	if (scratch == NULL)
		abort();
	n = rc_wire_encode(scratch, len, cluster_id, seq, &m, fuzz_payload, &fp);
	if (n <= 0 || (uint32_t)n > len)
		fuzz_fail("encoded length", &m);
	if (m.type == RC_MSG_APPEND && (uint32_t)n != len)
		fuzz_fail("rc_wire_append_bytes", &m);
	len = (uint32_t)n;
	if (rc_wire_encode(scratch, len - 1, cluster_id, seq, &m, fuzz_payload, &fp) != -ENOSPC)
		fuzz_fail("-ENOSPC one byte short", &m);
	/* Encode again into exactly len bytes, so ASan sees any write or read past the frame. */
	buf = malloc(len);
	again = malloc(len);
	if (buf == NULL || again == NULL)
		abort();
	if (rc_wire_encode(buf, len, cluster_id, seq, &m, fuzz_payload, &fp) != n)
		fuzz_fail("encoded length with exact room", &m);
	free(scratch);

	err = rc_wire_decode(buf, len, &h, &got, got_entries, got_payloads, FUZZ_ENTRIES_MAX);
	if (err != RC_WIRE_OK) {
		fprintf(stderr, "encoded message of type %u refused: %s\n", m.type,
			rc_wire_strerror(err));
		abort();
	}
	if (h.magic != RC_WIRE_MAGIC || h.version != RC_WIRE_VERSION || h.type != m.type ||
	    h.cluster_id != cluster_id || h.from != m.from || h.to != m.to ||
	    h.body_bytes != len - RC_WIRE_HEADER_BYTES || h.seq != seq || h.reserved != 0)
		fuzz_fail("header", &m);
	fuzz_check_msg(&got, &want);
	for (i = 0; i < want.entry_count; i++) {
		if (got_entries[i].term != entries[i].term ||
		    got_entries[i].bytes != entries[i].bytes ||
		    got_entries[i].type != entries[i].type || got_entries[i].ref != 0 ||
		    got_entries[i].reserved != 0)
			fuzz_fail("entry", &m);
		if (entries[i].bytes > 0 &&
		    memcmp(got_payloads[i], payloads[i], entries[i].bytes) != 0)
			fuzz_fail("payload", &m);
	}

	/* And back again: the decoded message gives the very same bytes. */
	memset(again, 0, len);
	if (rc_wire_encode(again, len, h.cluster_id, h.seq, &got, fuzz_payload, &got_fp) !=
		    (int32_t)len ||
	    memcmp(again, buf, len) != 0)
		fuzz_fail("re-encoding", &m);
	free(again);
	free(buf);
	return 0;
}
