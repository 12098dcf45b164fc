/*
 * Snapshot files: a state machine's image as of one applied index, kept beside the write-ahead
 * log so that the log can be compacted up to that index.
 *
 * File snap-<index 16 hex>-<term 16 hex>.snap: a 64-byte header (magic "RCSNAP01", version,
 * index, term, body bytes, CRC32C of the body, CRC32C of the header), then the body: the state
 * machine's bytes, opaque here. A snapshot is written to a .tmp file, fsynced, renamed, and the
 * directory fsynced: a crash leaves either the whole new file or none (a stray .tmp is ignored
 * and removed at the next start). Only the newest snapshot is kept once a newer one is durable.
 */
#ifndef REPLICORE_SNAPSHOT_H
#define REPLICORE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <replicore/wire.h>

#define RC_SNAP_HEADER_BYTES 64u

struct rc_snap_info {
	uint64_t index; /* 0: no snapshot */
	uint64_t term;
	uint64_t bytes; /* body */
	uint32_t crc;	/* CRC32C of the body */
	char name[64];	/* file name inside the directory */
};

/* ---- Names and headers (core library: no I/O) --------------------------------------------- */

/* Writes the 64-byte header of a snapshot of bytes body bytes whose CRC32C is crc. */
void rc_snap_header_encode(uint8_t *h, uint64_t index, uint64_t term, uint64_t bytes, uint32_t crc);
/* True for "snap-<16 hex>-<16 hex>.snap", with the index and term it names. */
bool rc_snap_parse_name(const char *name, uint64_t *index, uint64_t *term);
/*
 * Checks the header h of the snapshot file name (file_bytes long) against its name and size;
 * returns NULL with *info filled (the body's CRC is info->crc), or why it is refused.
 */
const char *rc_snap_header_check(const uint8_t *h, uint64_t file_bytes, const char *name,
				 struct rc_snap_info *info);

/* ---- Files (runtime) ------------------------------------------------------------------------ */

/*
 * Writes a snapshot of bytes body bytes durably into dir (temp file, fsync, rename, directory
 * fsync). Returns 0 or -errno, with the failing step in err.
 */
int rc_snap_write(const char *dir, uint64_t index, uint64_t term, const void *body, size_t bytes,
		  char *err, size_t errlen);

/*
 * Finds the newest snapshot in dir and checks its header and body. Returns 0 with info->index 0
 * when there is none, 0 with *info filled, or -EBADMSG when the newest one is damaged (err names
 * the file, the offset and the reason; nothing is changed), or -errno.
 */
int rc_snap_latest(const char *dir, struct rc_snap_info *info, char *err, size_t errlen);

/*
 * Reads the body of the snapshot info describes into a new buffer (*body, malloc'd; the caller
 * frees it) and checks its CRC again. Returns 0, -EBADMSG or -errno.
 */
int rc_snap_read(const char *dir, const struct rc_snap_info *info, void **body, char *err,
		 size_t errlen);

/* Removes every snapshot older than index, and stray temp files. Returns how many went. */
int rc_snap_remove_older(const char *dir, uint64_t index);

/* ---- InstallSnapshot frames (core library) -------------------------------------------------
 *
 * A leader sends a follower that needs compacted entries its state machine's snapshot in chunks
 * that fit a frame; the follower acknowledges the bytes it holds, so a transfer resumes where it
 * stopped and never has more than a window of chunks in flight. Both frames carry the replicore
 * header (wire.h) with from, to and a sequence:
 *   CHUNK (type 66): term u64 (leader's), index u64 and snap_term u64 (the snapshot's last
 *                    entry), total u64 (snapshot bytes), offset u64, crc u32 (CRC32C of the whole
 *                    snapshot), len u32; then len bytes of the snapshot from offset.
 *   ACK (type 67):   term u64 (follower's), index u64 (snapshot acknowledged), next u64 (bytes
 *                    held from the start), status u32 (enum rc_snap_ack_status), reserved u32.
 */
#define RC_WIRE_SNAP_CHUNK 66u
#define RC_WIRE_SNAP_ACK 67u
#define RC_SNAP_CHUNK_BYTES 48u /* body bytes before the data */
#define RC_SNAP_ACK_BYTES 32u

enum rc_snap_ack_status {
	RC_SNAP_RECEIVING = 0, /* send from next on */
	RC_SNAP_INSTALLED = 1, /* restored and durable: the transfer is over */
	RC_SNAP_REFUSED =
		2, /* stale, too large, or it failed its CRC: stop (the core asks again) */
};

struct rc_snap_chunk {
	uint16_t from, to;
	uint64_t term, index, snap_term, total, offset;
	uint32_t crc, len;
	const uint8_t *data; /* decode: points into the frame */
};

struct rc_snap_ack {
	uint16_t from, to;
	uint64_t term, index, next;
	uint32_t status;
};

/* Encodes a chunk frame; returns the body length or -ENOSPC. */
int32_t rc_snap_encode_chunk(uint8_t *buf, uint32_t cap, uint32_t cluster_id, uint64_t seq,
			     const struct rc_snap_chunk *c);
int32_t rc_snap_encode_ack(uint8_t *buf, uint32_t cap, uint32_t cluster_id, uint64_t seq,
			   const struct rc_snap_ack *a);
/* Decodes them, checking every field; the frame's type must match. */
enum rc_wire_error rc_snap_decode_chunk(const uint8_t *buf, uint32_t len, uint32_t *cluster_id,
					struct rc_snap_chunk *c);
enum rc_wire_error rc_snap_decode_ack(const uint8_t *buf, uint32_t len, uint32_t *cluster_id,
				      struct rc_snap_ack *a);
/* The frame type of a body that starts with a replicore header, or 0. */
uint8_t rc_wire_frame_type(const uint8_t *buf, uint32_t len);

#endif
