/* The InstallSnapshot frames' codec (see snapshot.h). Decoding checks every field. */
#include <errno.h>
#include <string.h>

#include <replicore/snapshot.h>

#include "wire_le.h"

/* Checks the header of a frame of type; fills the sender, receiver and cluster. */
static enum rc_wire_error
snap_check_header(const uint8_t *p, uint32_t len, uint8_t type, uint32_t body, uint32_t *cluster_id,
		  uint16_t *from, uint16_t *to)
{
	uint64_t seq;
	enum rc_wire_error e = wire_check_header(p, len, type, body, cluster_id, from, to, &seq);

	if (e == RC_WIRE_OK && (*from == 0 || *from > RC_NODE_ID_MAX || *to == 0 ||
				*to > RC_NODE_ID_MAX || *from == *to))
		e = RC_WIRE_EFIELD;
	return e;
}

/* Encodes a chunk; see snapshot.h. */
int32_t
rc_snap_encode_chunk(uint8_t *buf, uint32_t cap, uint32_t cluster_id, uint64_t seq,
		     const struct rc_snap_chunk *c)
{
	uint32_t body = RC_SNAP_CHUNK_BYTES + c->len;
	uint8_t *p = buf + RC_WIRE_HEADER_BYTES;

	if (cap < RC_WIRE_HEADER_BYTES + body)
		return -ENOSPC;
	wire_put_header(buf, RC_WIRE_SNAP_CHUNK, cluster_id, c->from, c->to, body, seq);
	wire_put_u64(p, c->term);
	wire_put_u64(p + 8, c->index);
	wire_put_u64(p + 16, c->snap_term);
	wire_put_u64(p + 24, c->total);
	wire_put_u64(p + 32, c->offset);
	wire_put_u32(p + 40, c->crc);
	wire_put_u32(p + 44, c->len);
	memcpy(p + RC_SNAP_CHUNK_BYTES, c->data, c->len);
	return (int32_t)(RC_WIRE_HEADER_BYTES + body);
}

/* Encodes an acknowledgement; see snapshot.h. */
int32_t
rc_snap_encode_ack(uint8_t *buf, uint32_t cap, uint32_t cluster_id, uint64_t seq,
		   const struct rc_snap_ack *a)
{
	uint8_t *p = buf + RC_WIRE_HEADER_BYTES;

	if (cap < RC_WIRE_HEADER_BYTES + RC_SNAP_ACK_BYTES)
		return -ENOSPC;
	wire_put_header(buf, RC_WIRE_SNAP_ACK, cluster_id, a->from, a->to, RC_SNAP_ACK_BYTES, seq);
	wire_put_u64(p, a->term);
	wire_put_u64(p + 8, a->index);
	wire_put_u64(p + 16, a->next);
	wire_put_u32(p + 24, a->status);
	wire_put_u32(p + 28, 0);
	return (int32_t)(RC_WIRE_HEADER_BYTES + RC_SNAP_ACK_BYTES);
}

/* Decodes a chunk; see snapshot.h. */
enum rc_wire_error
rc_snap_decode_chunk(const uint8_t *buf, uint32_t len, uint32_t *cluster_id,
		     struct rc_snap_chunk *c)
{
	const uint8_t *p = buf + RC_WIRE_HEADER_BYTES;
	enum rc_wire_error e = snap_check_header(buf, len, RC_WIRE_SNAP_CHUNK, RC_SNAP_CHUNK_BYTES,
						 cluster_id, &c->from, &c->to);

	if (e != RC_WIRE_OK)
		return e;
	c->term = wire_get_u64(p);
	c->index = wire_get_u64(p + 8);
	c->snap_term = wire_get_u64(p + 16);
	c->total = wire_get_u64(p + 24);
	c->offset = wire_get_u64(p + 32);
	c->crc = wire_get_u32(p + 40);
	c->len = wire_get_u32(p + 44);
	c->data = p + RC_SNAP_CHUNK_BYTES;
	if (c->len != len - RC_WIRE_HEADER_BYTES - RC_SNAP_CHUNK_BYTES)
		return RC_WIRE_EBODY;
	if (c->index == 0 || c->snap_term == 0 || c->term < c->snap_term || c->offset > c->total ||
	    c->len > c->total - c->offset || (c->len == 0 && c->total > 0))
		return RC_WIRE_EFIELD;
	return RC_WIRE_OK;
}

/* Decodes an acknowledgement; see snapshot.h. */
enum rc_wire_error
rc_snap_decode_ack(const uint8_t *buf, uint32_t len, uint32_t *cluster_id, struct rc_snap_ack *a)
{
	const uint8_t *p = buf + RC_WIRE_HEADER_BYTES;
	enum rc_wire_error e = snap_check_header(buf, len, RC_WIRE_SNAP_ACK, RC_SNAP_ACK_BYTES,
						 cluster_id, &a->from, &a->to);

	if (e != RC_WIRE_OK)
		return e;
	if (len != RC_WIRE_HEADER_BYTES + RC_SNAP_ACK_BYTES)
		return RC_WIRE_EBODY;
	a->term = wire_get_u64(p);
	a->index = wire_get_u64(p + 8);
	a->next = wire_get_u64(p + 16);
	a->status = wire_get_u32(p + 24);
	if (a->index == 0 || a->status > RC_SNAP_REFUSED || wire_get_u32(p + 28) != 0)
		return RC_WIRE_EFIELD;
	return RC_WIRE_OK;
}

/* The type byte of a frame with a replicore header, or 0. */
uint8_t
rc_wire_frame_type(const uint8_t *buf, uint32_t len)
{
	if (len < RC_WIRE_HEADER_BYTES || wire_get_u16(buf) != RC_WIRE_MAGIC)
		return 0;
	return buf[3];
}
