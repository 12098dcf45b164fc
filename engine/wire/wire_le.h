/* Little-endian loads and stores of the frame codecs (wire.c, client.c). */
#ifndef REPLICORE_WIRE_LE_H
#define REPLICORE_WIRE_LE_H

#include <stdint.h>

#include <replicore/wire.h>

/* Stores v at p as 2 little-endian bytes. */
static inline void
wire_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Stores v at p as 4 little-endian bytes. */
static inline void
wire_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Stores v at p as 8 little-endian bytes. */
static inline void
wire_put_u64(uint8_t *p, uint64_t v)
{
	wire_put_u32(p, (uint32_t)v);
	wire_put_u32(p + 4, (uint32_t)(v >> 32));
}

/* Returns the little-endian u16 at p. */
static inline uint16_t
wire_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

/* Returns the little-endian u32 at p. */
static inline uint32_t
wire_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Returns the little-endian u64 at p. */
static inline uint64_t
wire_get_u64(const uint8_t *p)
{
	return (uint64_t)wire_get_u32(p) | (uint64_t)wire_get_u32(p + 4) << 32;
}

/*
 * Writes the replicore frame header (wire.h) at p: magic, version, type, cluster, from, to, body
 * length and sequence; reserved bytes zero.
 */
static inline void
wire_put_header(uint8_t *p, uint8_t type, uint32_t cluster_id, uint16_t from, uint16_t to,
		uint32_t body, uint64_t seq)
{
	for (uint32_t i = 0; i < RC_WIRE_HEADER_BYTES; i++)
		p[i] = 0;
	wire_put_u16(p, RC_WIRE_MAGIC);
	p[2] = RC_WIRE_VERSION;
	p[3] = type;
	wire_put_u32(p + 4, cluster_id);
	wire_put_u16(p + 8, from);
	wire_put_u16(p + 10, to);
	wire_put_u32(p + 12, body);
	wire_put_u64(p + 16, seq);
}

/*
 * Checks the replicore header of a frame body p (len bytes) of type with at least body_min body
 * bytes: magic, version, type, body length, reserved bytes. Fills the cluster, the sender, the
 * receiver and the sequence; the caller checks from and to for its frame kind.
 */
static inline enum rc_wire_error
wire_check_header(const uint8_t *p, uint32_t len, uint8_t type, uint32_t body_min,
		  uint32_t *cluster_id, uint16_t *from, uint16_t *to, uint64_t *seq)
{
	if (len < RC_WIRE_HEADER_BYTES + body_min)
		return RC_WIRE_ESHORT;
	if (wire_get_u16(p) != RC_WIRE_MAGIC)
		return RC_WIRE_EMAGIC;
	if (p[2] != RC_WIRE_VERSION)
		return RC_WIRE_EVERSION;
	if (p[3] != type)
		return RC_WIRE_ETYPE;
	if (wire_get_u32(p + 12) != len - RC_WIRE_HEADER_BYTES)
		return RC_WIRE_EBODY;
	if (wire_get_u64(p + 24) != 0)
		return RC_WIRE_EFIELD;
	*cluster_id = wire_get_u32(p + 4);
	*from = wire_get_u16(p + 8);
	*to = wire_get_u16(p + 10);
	*seq = wire_get_u64(p + 16);
	return RC_WIRE_OK;
}

#endif
