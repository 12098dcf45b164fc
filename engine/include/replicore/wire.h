/*
 * The wire codec: Raft messages to and from the replicore frame body (what follows the UDP
 * header). Decoding never trusts its input: every length and count is checked against the
 * buffer before use, and a rejected frame comes back with the reason. Byte layout:
 * engine/wire/README.md.
 */
#ifndef REPLICORE_WIRE_H
#define REPLICORE_WIRE_H

#include <stdint.h>

#include <replicore/raft.h>

#define RC_WIRE_MAGIC 0x4352u /* "RC" as little-endian bytes 'R','C' */
#define RC_WIRE_VERSION 1u
#define RC_WIRE_HEADER_BYTES 32u

/* The replicore header every frame body starts with. */
struct rc_wire_header {
	uint16_t magic;
	uint8_t version;
	uint8_t type; /* enum rc_msg_type */
	uint32_t cluster_id;
	uint16_t from;
	uint16_t to;
	uint32_t body_bytes; /* bytes after the header */
	uint64_t seq;	     /* sender's frame sequence, for loss and reorder accounting */
	uint64_t reserved;   /* zero; room for an epoch or MAC key id */
};

/* Why a frame was refused. */
enum rc_wire_error {
	RC_WIRE_OK = 0,
	RC_WIRE_ESHORT,	   /* shorter than the header */
	RC_WIRE_EMAGIC,	   /* wrong magic */
	RC_WIRE_EVERSION,  /* unknown version */
	RC_WIRE_ETYPE,	   /* unknown message type */
	RC_WIRE_EBODY,	   /* body length disagrees with the buffer or the type */
	RC_WIRE_ECOUNT,	   /* entry count above RC_MSG_ENTRIES_MAX or the caller's room */
	RC_WIRE_EENTRY,	   /* an entry runs past the body or exceeds RC_ENTRY_BYTES_MAX */
	RC_WIRE_EFIELD,	   /* a field out of range: node id, flag, entry type, reserved bits */
	RC_WIRE_ETRAILING, /* bytes left after the last entry */
	RC_WIRE_ERROR_COUNT
};

/* A short, stable name for a reject reason ("short", "magic", ...). */
const char *rc_wire_strerror(enum rc_wire_error e);

/* Gives the payload bytes of an entry being encoded (entry->bytes of them). */
typedef const void *(*rc_wire_payload_fn)(void *ctx, const struct rc_raft_entry *entry);

/*
 * Encodes m (with m->entries and their payloads, when m->type is RC_MSG_APPEND) into buf.
 * Returns the frame body length, or -ENOSPC when cap is too small (buf is then undefined).
 * m must be a well-formed message from the core; violations abort.
 */
int32_t rc_wire_encode(uint8_t *buf, uint32_t cap, uint32_t cluster_id, uint64_t seq,
		       const struct rc_raft_msg *m, rc_wire_payload_fn payload, void *ctx);

/* Bytes an APPEND with these entries takes on the wire (header included). */
uint32_t rc_wire_append_bytes(uint32_t entry_count, uint64_t payload_bytes);

/*
 * Decodes a frame body of len bytes. On RC_WIRE_OK: *h and *m are filled, m->entries points to
 * entries[0..m->entry_count) (each ref set to 0) and payloads[i] points into buf at entry i's
 * payload. entries_cap is the room of entries[] and payloads[]. On error, nothing the caller
 * can rely on is filled in and the return says why.
 */
enum rc_wire_error rc_wire_decode(const uint8_t *buf, uint32_t len, struct rc_wire_header *h,
				  struct rc_raft_msg *m, struct rc_raft_entry *entries,
				  const uint8_t **payloads, uint32_t entries_cap);

#endif
