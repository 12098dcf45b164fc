/*
 * The wire codec: struct rc_raft_msg to and from the replicore frame body. Every integer is
 * little-endian and goes through the byte-wise helpers below, so the code is the same on any
 * host byte order and never forms an unaligned pointer. The layout is in engine/wire/README.md;
 * the sizes here and the tables there must move together.
 *
 * Encode and decode are paired: whatever decode refuses, encode asserts it never writes, and
 * every frame decode accepts re-encodes to the very same bytes (tests/test_wire.c and the fuzz
 * targets check both directions).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <replicore/assert.h>
#include <replicore/limits.h>
#include <replicore/raft.h>
#include <replicore/wire.h>

#include "wire_le.h"

/* Offsets of the header fields (see README.md, "Header"). */
#define WIRE_OFF_MAGIC 0u
#define WIRE_OFF_VERSION 2u
#define WIRE_OFF_TYPE 3u
#define WIRE_OFF_CLUSTER_ID 4u
#define WIRE_OFF_FROM 8u
#define WIRE_OFF_TO 10u
#define WIRE_OFF_BODY_BYTES 12u
#define WIRE_OFF_SEQ 16u
#define WIRE_OFF_RESERVED 24u

/* Fixed body sizes per message type (the term comes first in all of them). */
#define WIRE_BODY_VOTE_BYTES 24u	  /* term, index, log_term */
#define WIRE_BODY_VOTE_RESP_BYTES 9u	  /* term, flags */
#define WIRE_BODY_APPEND_BYTES 36u	  /* term, index, log_term, commit, entry_count */
#define WIRE_BODY_APPEND_RESP_BYTES 33u	  /* term, flags, index, log_term, hint_index */
#define WIRE_BODY_HEARTBEAT_BYTES 16u	  /* term, commit */
#define WIRE_BODY_HEARTBEAT_RESP_BYTES 8u /* term */

/*
 * HEARTBEAT and HEARTBEAT_RESP end with an optional read_seq (u64): present exactly when it is
 * not 0, so a frame without a read round keeps the version-1 layout and every frame decode
 * accepts still has one encoding.
 */
#define WIRE_READ_SEQ_BYTES 8u

/* Each entry of an APPEND: term u64, bytes u32, type u16, reserved u16, then the payload. */
#define WIRE_ENTRY_HEADER_BYTES 16u

/* Bits of the flags byte of VOTE_RESP, PREVOTE_RESP and APPEND_RESP. */
#define WIRE_FLAG_REJECT 0x01u

_Static_assert(RC_WIRE_HEADER_BYTES == WIRE_OFF_RESERVED + 8u, "header fields fill the header");
_Static_assert(RC_MSG_TYPE_COUNT <= 256, "message type fits its byte");
_Static_assert(RC_ENTRY_TYPE_COUNT <= 65536, "entry type fits its u16");
_Static_assert(RC_NODE_ID_MAX <= 0xffff, "node ids fit their u16");
_Static_assert((uint64_t)RC_WIRE_HEADER_BYTES + WIRE_BODY_APPEND_BYTES +
			       (uint64_t)RC_MSG_ENTRIES_MAX *
				       (WIRE_ENTRY_HEADER_BYTES + RC_ENTRY_BYTES_MAX) <=
		       INT32_MAX,
	       "the largest APPEND frame length fits the int32_t encode returns");

/* Returns the fixed body size of a message type (the entries of an APPEND not included). */
static uint32_t
wire_body_fixed_bytes(uint8_t type)
{
	switch (type) {
	case RC_MSG_VOTE:
	case RC_MSG_PREVOTE:
		return WIRE_BODY_VOTE_BYTES;
	case RC_MSG_VOTE_RESP:
	case RC_MSG_PREVOTE_RESP:
		return WIRE_BODY_VOTE_RESP_BYTES;
	case RC_MSG_APPEND:
		return WIRE_BODY_APPEND_BYTES;
	case RC_MSG_APPEND_RESP:
		return WIRE_BODY_APPEND_RESP_BYTES;
	case RC_MSG_HEARTBEAT:
		return WIRE_BODY_HEARTBEAT_BYTES;
	case RC_MSG_HEARTBEAT_RESP:
		return WIRE_BODY_HEARTBEAT_RESP_BYTES;
	default:
		RC_ASSERT(0 && "message type checked by the caller");
	}
}

/* Returns true when a message type may end with the optional read_seq. */
static inline int
wire_type_has_read_seq(uint8_t type)
{
	return type == RC_MSG_HEARTBEAT || type == RC_MSG_HEARTBEAT_RESP;
}

/* Returns the bytes m's optional read_seq takes on the wire: 8 when carried, else 0. */
static inline uint32_t
wire_read_seq_bytes(const struct rc_raft_msg *m)
{
	return wire_type_has_read_seq(m->type) && m->read_seq != 0 ? WIRE_READ_SEQ_BYTES : 0;
}

/* Returns true when id names a node (1..RC_NODE_ID_MAX). */
static inline int
wire_node_id_valid(uint16_t id)
{
	return id != 0 && id <= RC_NODE_ID_MAX;
}

/* Returns a short, stable name for a reject reason, "unknown" when e is out of range. */
const char *
rc_wire_strerror(enum rc_wire_error e)
{
	switch (e) {
	case RC_WIRE_OK:
		return "ok";
	case RC_WIRE_ESHORT:
		return "short";
	case RC_WIRE_EMAGIC:
		return "magic";
	case RC_WIRE_EVERSION:
		return "version";
	case RC_WIRE_ETYPE:
		return "type";
	case RC_WIRE_EBODY:
		return "body";
	case RC_WIRE_ECOUNT:
		return "count";
	case RC_WIRE_EENTRY:
		return "entry";
	case RC_WIRE_EFIELD:
		return "field";
	case RC_WIRE_ETRAILING:
		return "trailing";
	case RC_WIRE_ERROR_COUNT:
		break;
	}
	return "unknown";
}

/*
 * Returns the bytes of an APPEND frame (header included) carrying entry_count entries with
 * payload_bytes payload bytes in all. Saturates at UINT32_MAX, a length no frame has, so a
 * caller asking "does one more entry fit?" gets a plain "no" for absurd inputs.
 */
uint32_t
rc_wire_append_bytes(uint32_t entry_count, uint64_t payload_bytes)
{
	uint64_t bytes = (uint64_t)RC_WIRE_HEADER_BYTES + WIRE_BODY_APPEND_BYTES +
			 (uint64_t)entry_count * WIRE_ENTRY_HEADER_BYTES;

	if (payload_bytes >= UINT32_MAX || bytes + payload_bytes >= UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)(bytes + payload_bytes);
}

/*
 * Checks the entries of an APPEND about to be encoded (the programmer-error half of the entry
 * checks decode makes) and returns the sum of their payload bytes.
 */
static uint64_t
wire_append_payload_bytes(const struct rc_raft_msg *m)
{
	uint64_t payload_bytes = 0;
	uint32_t i;

	RC_ASSERT(m->entry_count <= RC_MSG_ENTRIES_MAX);
	RC_ASSERT(m->entry_count == 0 || m->entries != NULL);
	for (i = 0; i < m->entry_count; i++) {
		RC_ASSERT(m->entries[i].bytes <= RC_ENTRY_BYTES_MAX);
		RC_ASSERT(m->entries[i].type < RC_ENTRY_TYPE_COUNT);
		payload_bytes += m->entries[i].bytes;
	}
	return payload_bytes;
}

/*
 * Writes the entries of an APPEND at p, which has room for all of them: each entry header,
 * then the payload the callback gives. Returns the bytes written.
 */
static uint32_t
wire_encode_entries(uint8_t *p, const struct rc_raft_msg *m, rc_wire_payload_fn payload, void *ctx)
{
	uint32_t off = 0;
	uint32_t i;

	for (i = 0; i < m->entry_count; i++) {
		const struct rc_raft_entry *e = &m->entries[i];

		wire_put_u64(p + off, e->term);
		wire_put_u32(p + off + 8, e->bytes);
		wire_put_u16(p + off + 12, e->type);
		wire_put_u16(p + off + 14, 0);
		off += WIRE_ENTRY_HEADER_BYTES;
		if (e->bytes > 0) {
			const void *src;

			RC_ASSERT(payload != NULL);
			src = payload(ctx, e);
			RC_ASSERT(src != NULL);
			memcpy(p + off, src, e->bytes);
			off += e->bytes;
		}
	}
	return off;
}

/*
 * Writes the fixed body of m at p (room checked by the caller): the term, then the fields of
 * m's type in the order of README.md, then the read_seq of a heartbeat or its answer when it is
 * not 0. Returns the bytes written.
 */
static uint32_t
wire_encode_fixed(uint8_t *p, const struct rc_raft_msg *m)
{
	uint32_t read_seq_bytes = wire_read_seq_bytes(m);

	wire_put_u64(p, m->term);
	switch (m->type) {
	case RC_MSG_VOTE:
	case RC_MSG_PREVOTE:
		wire_put_u64(p + 8, m->index);
		wire_put_u64(p + 16, m->log_term);
		return WIRE_BODY_VOTE_BYTES;
	case RC_MSG_VOTE_RESP:
	case RC_MSG_PREVOTE_RESP:
		p[8] = m->reject ? WIRE_FLAG_REJECT : 0;
		return WIRE_BODY_VOTE_RESP_BYTES;
	case RC_MSG_APPEND:
		wire_put_u64(p + 8, m->index);
		wire_put_u64(p + 16, m->log_term);
		wire_put_u64(p + 24, m->commit);
		wire_put_u32(p + 32, m->entry_count);
		return WIRE_BODY_APPEND_BYTES;
	case RC_MSG_APPEND_RESP:
		p[8] = m->reject ? WIRE_FLAG_REJECT : 0;
		wire_put_u64(p + 9, m->index);
		wire_put_u64(p + 17, m->log_term);
		wire_put_u64(p + 25, m->hint_index);
		return WIRE_BODY_APPEND_RESP_BYTES;
	case RC_MSG_HEARTBEAT:
		wire_put_u64(p + 8, m->commit);
		if (read_seq_bytes != 0)
			wire_put_u64(p + WIRE_BODY_HEARTBEAT_BYTES, m->read_seq);
		return WIRE_BODY_HEARTBEAT_BYTES + read_seq_bytes;
	case RC_MSG_HEARTBEAT_RESP:
		if (read_seq_bytes != 0)
			wire_put_u64(p + WIRE_BODY_HEARTBEAT_RESP_BYTES, m->read_seq);
		return WIRE_BODY_HEARTBEAT_RESP_BYTES + read_seq_bytes;
	default:
		RC_ASSERT(0 && "message type checked by the caller");
	}
}

/*
 * Encodes m into buf: checks m is well formed (aborts otherwise), computes the frame length,
 * returns -ENOSPC when cap is below it, else writes the header, the fixed body and, for an
 * APPEND, every entry with its payload. Returns the frame length. Fields m's type does not
 * carry (see README.md) are ignored.
 */
int32_t
rc_wire_encode(uint8_t *buf, uint32_t cap, uint32_t cluster_id, uint64_t seq,
	       const struct rc_raft_msg *m, rc_wire_payload_fn payload, void *ctx)
{
	uint32_t body_bytes;
	uint32_t off;

	RC_ASSERT(m != NULL);
	RC_ASSERT(m->type != RC_MSG_NONE && m->type < RC_MSG_TYPE_COUNT);
	RC_ASSERT(wire_node_id_valid(m->from));
	RC_ASSERT(wire_node_id_valid(m->to));
	RC_ASSERT(m->reject <= 1);

	body_bytes = wire_body_fixed_bytes(m->type) + wire_read_seq_bytes(m);
	if (m->type == RC_MSG_APPEND) {
		uint64_t payload_bytes = wire_append_payload_bytes(m);

		body_bytes = rc_wire_append_bytes(m->entry_count, payload_bytes) -
			     RC_WIRE_HEADER_BYTES;
	}
	if (cap < RC_WIRE_HEADER_BYTES || cap - RC_WIRE_HEADER_BYTES < body_bytes)
		return -ENOSPC;
	RC_ASSERT(buf != NULL);

	wire_put_u16(buf + WIRE_OFF_MAGIC, RC_WIRE_MAGIC);
	buf[WIRE_OFF_VERSION] = RC_WIRE_VERSION;
	buf[WIRE_OFF_TYPE] = m->type;
	wire_put_u32(buf + WIRE_OFF_CLUSTER_ID, cluster_id);
	wire_put_u16(buf + WIRE_OFF_FROM, m->from);
	wire_put_u16(buf + WIRE_OFF_TO, m->to);
	wire_put_u32(buf + WIRE_OFF_BODY_BYTES, body_bytes);
	wire_put_u64(buf + WIRE_OFF_SEQ, seq);
	wire_put_u64(buf + WIRE_OFF_RESERVED, 0);

	off = RC_WIRE_HEADER_BYTES;
	off += wire_encode_fixed(buf + off, m);
	if (m->type == RC_MSG_APPEND)
		off += wire_encode_entries(buf + off, m, payload, ctx);
	RC_ASSERT(off == RC_WIRE_HEADER_BYTES + body_bytes);
	return (int32_t)off;
}

/*
 * Reads and checks the header of a frame of len bytes into *h. Checks, in order: length
 * (ESHORT), magic (EMAGIC), version (EVERSION), type (ETYPE), body_bytes == len - header
 * (EBODY), node ids and reserved (EFIELD). Returns RC_WIRE_OK or the first failed check.
 */
static enum rc_wire_error
wire_decode_header(const uint8_t *buf, uint32_t len, struct rc_wire_header *h)
{
	if (len < RC_WIRE_HEADER_BYTES)
		return RC_WIRE_ESHORT;
	h->magic = wire_get_u16(buf + WIRE_OFF_MAGIC);
	h->version = buf[WIRE_OFF_VERSION];
	h->type = buf[WIRE_OFF_TYPE];
	h->cluster_id = wire_get_u32(buf + WIRE_OFF_CLUSTER_ID);
	h->from = wire_get_u16(buf + WIRE_OFF_FROM);
	h->to = wire_get_u16(buf + WIRE_OFF_TO);
	h->body_bytes = wire_get_u32(buf + WIRE_OFF_BODY_BYTES);
	h->seq = wire_get_u64(buf + WIRE_OFF_SEQ);
	h->reserved = wire_get_u64(buf + WIRE_OFF_RESERVED);

	if (h->magic != RC_WIRE_MAGIC)
		return RC_WIRE_EMAGIC;
	if (h->version != RC_WIRE_VERSION)
		return RC_WIRE_EVERSION;
	if (h->type == RC_MSG_NONE || h->type >= RC_MSG_TYPE_COUNT)
		return RC_WIRE_ETYPE;
	if (h->body_bytes != len - RC_WIRE_HEADER_BYTES)
		return RC_WIRE_EBODY;
	if (!wire_node_id_valid(h->from) || !wire_node_id_valid(h->to) || h->reserved != 0)
		return RC_WIRE_EFIELD;
	return RC_WIRE_OK;
}

/*
 * Reads a flags byte into *reject. Returns RC_WIRE_EFIELD when a bit other than REJECT is set.
 */
static enum rc_wire_error
wire_decode_flags(uint8_t flags, uint8_t *reject)
{
	if ((flags & ~WIRE_FLAG_REJECT) != 0)
		return RC_WIRE_EFIELD;
	*reject = (flags & WIRE_FLAG_REJECT) != 0;
	return RC_WIRE_OK;
}

/*
 * Reads the fixed body of a message of m->type from p, which holds at least the fixed size of
 * that type. Returns RC_WIRE_OK or EFIELD (flags bits).
 */
static enum rc_wire_error
wire_decode_fixed(const uint8_t *p, struct rc_raft_msg *m)
{
	m->term = wire_get_u64(p);
	switch (m->type) {
	case RC_MSG_VOTE:
	case RC_MSG_PREVOTE:
		m->index = wire_get_u64(p + 8);
		m->log_term = wire_get_u64(p + 16);
		return RC_WIRE_OK;
	case RC_MSG_VOTE_RESP:
	case RC_MSG_PREVOTE_RESP:
		return wire_decode_flags(p[8], &m->reject);
	case RC_MSG_APPEND:
		m->index = wire_get_u64(p + 8);
		m->log_term = wire_get_u64(p + 16);
		m->commit = wire_get_u64(p + 24);
		m->entry_count = wire_get_u32(p + 32);
		return RC_WIRE_OK;
	case RC_MSG_APPEND_RESP:
		m->index = wire_get_u64(p + 9);
		m->log_term = wire_get_u64(p + 17);
		m->hint_index = wire_get_u64(p + 25);
		return wire_decode_flags(p[8], &m->reject);
	case RC_MSG_HEARTBEAT:
		m->commit = wire_get_u64(p + 8);
		return RC_WIRE_OK;
	case RC_MSG_HEARTBEAT_RESP:
		return RC_WIRE_OK;
	default:
		RC_ASSERT(0 && "message type checked by the caller");
	}
}

/*
 * Reads the m->entry_count entries that fill the left bytes at p into entries[] and
 * payloads[]. Checks first that the count fits RC_MSG_ENTRIES_MAX and entries_cap (ECOUNT) and
 * that its entry headers alone fit the bytes left (EENTRY, in 64 bits so no count wraps), then
 * per entry: header and payload inside the body (EENTRY), bytes <= RC_ENTRY_BYTES_MAX (EENTRY),
 * known type and zero reserved (EFIELD); last, that no byte is left (ETRAILING).
 */
static enum rc_wire_error
wire_decode_entries(const uint8_t *p, uint32_t left, uint32_t count, struct rc_raft_entry *entries,
		    const uint8_t **payloads, uint32_t entries_cap)
{
	uint32_t i;

	if (count > RC_MSG_ENTRIES_MAX || count > entries_cap)
		return RC_WIRE_ECOUNT;
	if ((uint64_t)count * WIRE_ENTRY_HEADER_BYTES > (uint64_t)left)
		return RC_WIRE_EENTRY;
	for (i = 0; i < count; i++) {
		struct rc_raft_entry *e = &entries[i];
		uint16_t reserved;

		if (left < WIRE_ENTRY_HEADER_BYTES)
			return RC_WIRE_EENTRY;
		e->term = wire_get_u64(p);
		e->bytes = wire_get_u32(p + 8);
		e->type = wire_get_u16(p + 12);
		reserved = wire_get_u16(p + 14);
		e->reserved = 0;
		e->ref = 0;
		p += WIRE_ENTRY_HEADER_BYTES;
		left -= WIRE_ENTRY_HEADER_BYTES;
		if (e->bytes > RC_ENTRY_BYTES_MAX || e->bytes > left)
			return RC_WIRE_EENTRY;
		if (e->type >= RC_ENTRY_TYPE_COUNT || reserved != 0)
			return RC_WIRE_EFIELD;
		payloads[i] = p;
		p += e->bytes;
		left -= e->bytes;
	}
	return left == 0 ? RC_WIRE_OK : RC_WIRE_ETRAILING;
}

/*
 * Decodes a frame body: the header, then the fixed body of its type (EBODY when short,
 * ETRAILING when a fixed-size type has bytes over, other than a heartbeat's or heartbeat
 * answer's read_seq, EFIELD when that read_seq is 0), then an APPEND's entries. *h and *m are
 * written only on RC_WIRE_OK; entries[] and payloads[] may be partly written on a reject.
 * Returns RC_WIRE_OK or the reason of the first failed check.
 */
enum rc_wire_error
rc_wire_decode(const uint8_t *buf, uint32_t len, struct rc_wire_header *h, struct rc_raft_msg *m,
	       struct rc_raft_entry *entries, const uint8_t **payloads, uint32_t entries_cap)
{
	struct rc_wire_header hdr;
	struct rc_raft_msg msg;
	enum rc_wire_error err;
	uint32_t body_bytes;
	uint32_t fixed_bytes;

	RC_ASSERT(buf != NULL || len == 0);
	RC_ASSERT(h != NULL && m != NULL);
	RC_ASSERT(entries_cap == 0 || (entries != NULL && payloads != NULL));

	err = wire_decode_header(buf, len, &hdr);
	if (err != RC_WIRE_OK)
		return err;
	body_bytes = len - RC_WIRE_HEADER_BYTES;
	fixed_bytes = wire_body_fixed_bytes(hdr.type);
	if (body_bytes < fixed_bytes)
		return RC_WIRE_EBODY;
	if (hdr.type != RC_MSG_APPEND && body_bytes > fixed_bytes &&
	    !(wire_type_has_read_seq(hdr.type) && body_bytes == fixed_bytes + WIRE_READ_SEQ_BYTES))
		return RC_WIRE_ETRAILING;

	memset(&msg, 0, sizeof(msg));
	msg.type = hdr.type;
	msg.from = hdr.from;
	msg.to = hdr.to;
	err = wire_decode_fixed(buf + RC_WIRE_HEADER_BYTES, &msg);
	if (err != RC_WIRE_OK)
		return err;
	if (hdr.type != RC_MSG_APPEND && body_bytes > fixed_bytes) {
		/* The optional read_seq: only a non-zero one is ever sent (one encoding). */
		msg.read_seq = wire_get_u64(buf + RC_WIRE_HEADER_BYTES + fixed_bytes);
		if (msg.read_seq == 0)
			return RC_WIRE_EFIELD;
	}
	if (msg.type == RC_MSG_APPEND) {
		err = wire_decode_entries(buf + RC_WIRE_HEADER_BYTES + fixed_bytes,
					  body_bytes - fixed_bytes, msg.entry_count, entries,
					  payloads, entries_cap);
		if (err != RC_WIRE_OK)
			return err;
		msg.entries = entries;
	}
	RC_ASSERT(msg.entry_count <= RC_MSG_ENTRIES_MAX);
	RC_ASSERT(msg.entry_count <= entries_cap);
	*h = hdr;
	*m = msg;
	return RC_WIRE_OK;
}
