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

#include <stddef.h>
#include <stdint.h>

#define RC_SNAP_HEADER_BYTES 64u

struct rc_snap_info {
	uint64_t index; /* 0: no snapshot */
	uint64_t term;
	uint64_t bytes; /* body */
	uint32_t crc;	/* CRC32C of the body */
	char name[64];	/* file name inside the directory */
};

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

#endif
