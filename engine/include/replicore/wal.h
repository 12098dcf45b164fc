/*
 * The write-ahead log: Raft's durable state (entries, term, vote) in preallocated segment files.
 *
 * Format (all integers little-endian, every record 8-byte aligned):
 *   segment file  wal-<16 hex digits>.seg: a 64-byte header (magic "RCWALSG1", version, the
 *                 segment's number, its data size, a CRC32C of the header), then records.
 *   record        32-byte header: crc32c u32 (of everything after it: header rest and payload),
 *                 magic u16 "RW", type u8, entry type u8, payload length u32, reserved u32,
 *                 index u64, term u64; then the payload, zero-padded to 8 bytes.
 *   ENTRY         a log entry: index, term, entry type, payload = the entry's bytes. An entry at
 *                 an index the log already holds replaces it and everything after it (a Raft
 *                 truncation is written as the entry that replaces).
 *   SYNC          closes a write: index/term = the log's last entry, payload = the hard state
 *                 (term u64, commit u64, vote u16, 6 reserved bytes). Every write ends with two
 *                 identical SYNC records and is made durable by one fdatasync that may cover
 *                 several writes (group commit).
 *   ROLL          the rest of the segment is unused; the log continues in the next one.
 *   SNAPSHOT      the log was replaced by a snapshot installed from the leader: index/term =
 *                 its last entry; everything before is superseded, the log goes on at index+1.
 *                 Written after the snapshot file is durable (snapshot.h).
 *
 * Compaction: once a snapshot at index S is durable, segments holding only entries <= S are
 * deleted (the last two segments always stay). Recovery is then given S (config base_index) and
 * takes the log from S+1 on; the first remaining entry must not lie after S+1.
 *
 * Recovery keeps what the last valid SYNC record closes and drops everything after it (a write
 * that never finished its sync: nothing that depended on it left the node). A damaged record
 * followed, anywhere later, by a valid SYNC record is corruption of data that was durable: the
 * log refuses to open, naming the file, the offset and the reason, and changes nothing. The second
 * SYNC copy makes a single damaged record in the last durable write detectable: a damaged first
 * copy is followed by the valid second one. Limitation: if the kernel wrote back a write's last
 * page (its SYNC records) but not an earlier one before a crash, that unfinished write reads as
 * corruption (a refusal, never a silent loss).
 *
 * The format layer (rc_wal_encode_*, rc_wal_decode, rc_wal_scan) does no I/O: the simulator's
 * disk uses it on memory buffers, so the simulator recovers with this very code.
 */
#ifndef REPLICORE_WAL_H
#define REPLICORE_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <replicore/raft.h>
#include <replicore/snapshot.h>

#define RC_WAL_ALIGN 8u
#define RC_WAL_RECORD_HEADER_BYTES 32u
#define RC_WAL_SYNC_PAYLOAD_BYTES 24u
#define RC_WAL_SEGMENT_HEADER_BYTES 64u
#define RC_WAL_RECORD_MAGIC 0x5752u /* "RW" */

enum rc_wal_record_type {
	RC_WAL_ENTRY = 1,
	RC_WAL_SYNC = 2,
	RC_WAL_ROLL = 3,
	RC_WAL_SNAPSHOT = 4,
};

/* The outcome of decoding one record. Every code is distinct; rc_wal_strerror() names them. */
enum rc_wal_status {
	RC_WAL_OK = 0,
	RC_WAL_END = 1,		 /* an all-zero header: no record was ever written here */
	RC_WAL_SHORT = 2,	 /* the record runs past the end of the data */
	RC_WAL_BAD_MAGIC = 3,	 /* the header's magic is wrong */
	RC_WAL_BAD_TYPE = 4,	 /* unknown record type or entry type */
	RC_WAL_BAD_LENGTH = 5,	 /* payload length out of bounds for the type */
	RC_WAL_BAD_CRC = 6,	 /* the CRC32C does not match the bytes */
	RC_WAL_BAD_SEQUENCE = 7, /* a valid record that does not follow the log (a gap, a term
				  * going back) */
	RC_WAL_BAD_HEADER = 8,	 /* a segment header that is damaged or out of order */
	RC_WAL_STATUS_COUNT
};

/* One decoded record; payload points into the decoded buffer. */
struct rc_wal_record {
	uint8_t type;	    /* enum rc_wal_record_type */
	uint8_t entry_type; /* ENTRY: enum rc_entry_type */
	uint32_t len;	    /* payload bytes */
	uint64_t index;
	uint64_t term;
	const uint8_t *payload;
	struct rc_raft_hard_state hs; /* SYNC: decoded payload */
};

/* CRC32C (Castagnoli), hardware instructions where the CPU has them. Pass 0 to start. */
uint32_t rc_crc32c(uint32_t crc, const void *buf, size_t len);

/* Bytes a record with a payload of len bytes takes, padding included. */
static inline uint32_t
rc_wal_record_bytes(uint32_t len)
{
	return RC_WAL_RECORD_HEADER_BYTES + ((len + RC_WAL_ALIGN - 1) & ~(RC_WAL_ALIGN - 1));
}

/* Writes an ENTRY record to dst (rc_wal_record_bytes(e->bytes) bytes). Returns its size. */
uint32_t rc_wal_encode_entry(void *dst, uint64_t index, const struct rc_raft_entry *e,
			     const void *payload);
/* Writes one SYNC record (last_index/last_term: the log's end). Returns its size. */
uint32_t rc_wal_encode_sync(void *dst, const struct rc_raft_hard_state *hs, uint64_t last_index,
			    uint64_t last_term);
/* Writes a ROLL record. Returns its size (RC_WAL_RECORD_HEADER_BYTES). */
uint32_t rc_wal_encode_roll(void *dst);
/* Writes a SNAPSHOT record (the log replaced by a snapshot ending at index, term). */
uint32_t rc_wal_encode_snapshot(void *dst, uint64_t index, uint64_t term);

/* The smallest segment data size: whole 4 KiB pages that hold the largest entry record (a
 * record never spans two segments). */
#define RC_WAL_SEGMENT_DATA_MIN                                                                    \
	((RC_WAL_RECORD_HEADER_BYTES + RC_ENTRY_BYTES_MAX + 4095u) / 4096u * 4096u)

/* True for "wal-" 16 hex digits ".seg", the names rc_wal_open() reads; sets *number. */
bool rc_wal_parse_segment_name(const char *name, uint64_t *number);
/* Writes the 64-byte header of segment number with data_bytes of data. */
void rc_wal_segment_header_encode(uint8_t *h, uint64_t number, uint64_t data_bytes);
/*
 * Checks the header h of segment file number (file_bytes long); returns NULL and its data size,
 * or why it is refused.
 */
const char *rc_wal_segment_header_check(const uint8_t *h, uint64_t file_bytes, uint64_t number,
					uint64_t *data_bytes);

/* Decodes the record at buf (avail bytes readable). On RC_WAL_OK fills *rec and *bytes. */
enum rc_wal_status rc_wal_decode(const void *buf, size_t avail, struct rc_wal_record *rec,
				 uint32_t *bytes);

/* ---- Replaying records into a log -------------------------------------------------------- */

/*
 * What a sequence of records leaves: the log first..last as of the last SYNC, and the hard
 * state. Feed records in order with rc_wal_replay_record(); entry positions are the caller's.
 */
struct rc_wal_replay {
	struct rc_raft_hard_state hs;
	/* Set after rc_wal_replay_init(): the snapshot the log starts after (0: none). The first
	 * entry may then be any index up to base_index + 1. */
	uint64_t base_index;
	uint64_t first_index; /* lowest index an entry may replace: 1, or after a SNAPSHOT */
	uint64_t last_index;  /* last entry as the records so far leave it (SYNC or not) */
	uint64_t last_term;
	uint64_t synced_last; /* the log's last index at the last SYNC */
	uint64_t synced_term;
	uint64_t syncs;	  /* SYNC records seen */
	uint64_t entries; /* ENTRY records seen */
	uint64_t truncations;
};

void rc_wal_replay_init(struct rc_wal_replay *rp);
/*
 * Applies one valid record. Returns RC_WAL_OK, or RC_WAL_BAD_SEQUENCE when it cannot follow
 * what came before (an entry after a gap, a term lower than its predecessor's, a SYNC whose
 * last index is not the log's end or whose term is below an entry's).
 */
enum rc_wal_status rc_wal_replay_record(struct rc_wal_replay *rp, const struct rc_wal_record *rec);

/* ---- Scanning a segment's data ----------------------------------------------------------- */

/* Called for each valid record in order; returning false stops the scan (status OK). */
typedef bool (*rc_wal_record_fn)(void *ctx, const struct rc_wal_record *rec, uint64_t offset);

struct rc_wal_scan {
	enum rc_wal_status status; /* why the scan stopped: OK (ROLL or the data's end), END,
				    * or the damage found */
	uint64_t stop_offset;	   /* where it stopped */
	uint64_t end_offset;	   /* just after the last valid record */
	uint64_t last_sync_end;	   /* just after the last valid SYNC record (0: none) */
	bool rolled;		   /* stopped at a ROLL record */
};

/* Decodes records from data[0..len) until a ROLL record, the end, or damage. */
void rc_wal_scan(const uint8_t *data, size_t len, rc_wal_record_fn fn, void *ctx,
		 struct rc_wal_scan *out);

/* True when a valid SYNC record lies anywhere in data[from..len) (8-byte aligned offsets). */
bool rc_wal_sync_after(const uint8_t *data, size_t len, uint64_t from);

const char *rc_wal_strerror(enum rc_wal_status s);

/* ---- Recovering one buffer --------------------------------------------------------------- */

/* What rc_wal_recover_image() found in one buffer of records. */
struct rc_wal_image_result {
	struct rc_wal_replay replay; /* the log and hard state as the last valid SYNC leaves them */
	enum rc_wal_status status;   /* where the valid records stop: OK (the data's end or a
				      * ROLL), END (zeroes), or the damage found */
	uint64_t stop_offset;	     /* the offset of that stop */
	uint64_t keep_bytes;	     /* the cut: data[0..keep_bytes) ends with the last valid SYNC
				      * (0: none); everything after it is dropped */
	uint64_t dropped_entries;    /* ENTRY records past the cut (a write that never finished) */
	bool corrupt;		     /* damage followed by a valid SYNC: refused */
};

/*
 * Recovers the log a single buffer of records holds (the simulator's disk image; the runtime's
 * rc_wal_open() applies the same rule over several segment files): decodes and replays records
 * from offset 0 until the data's end, a ROLL record, zeroes, damage or a record out of sequence;
 * keeps what the last valid SYNC record closes. Calls on_entry (may be NULL) for each ENTRY
 * record as it reads it, in order: an index at or below the previous one replaces the tail from
 * there. Entries past out->replay.synced_last are not part of the recovered log (a write that
 * never finished); when one of them replaced an entry the last SYNC covers, the entries up to
 * the cut are handed over once more from the buffer's start (index 1 again: the whole tail
 * replaced). When valid records stop before the data's end and a valid SYNC record lies anywhere
 * after the stop, durable data is damaged: returns -EBADMSG with out->corrupt set, status and
 * stop_offset naming the damage, and what on_entry got means nothing. Otherwise fills *out and
 * returns 0; -ECANCELED when on_entry returned false (out is then partial). The caller drops
 * (zeroes) data[keep_bytes..len) before writing after it.
 */
int rc_wal_recover_image(const uint8_t *data, size_t len, rc_wal_record_fn on_entry, void *ctx,
			 struct rc_wal_image_result *out);

/* ---- The on-disk log (runtime) ----------------------------------------------------------- */

struct rc_wal_config {
	const char *dir;	/* created if missing */
	uint64_t segment_bytes; /* data bytes per segment file (default 64 MiB) */
	uint64_t ring_bytes;	/* staging ring between the node and the storage thread, a power
				 * of two (default 32 MiB) */
	int cpu;		/* pin the storage thread to this CPU; -1: no pinning */
	/* The snapshot the state machine starts from, 0 for none: the log is recovered from
	 * base_index + 1 on. Left 0, rc_wal_open() takes the newest snapshot file in dir. */
	uint64_t base_index;
	uint64_t base_term;
};

void rc_wal_config_default(struct rc_wal_config *cfg, const char *dir);

/* What recovery found. */
struct rc_wal_info {
	struct rc_raft_hard_state hs;
	uint64_t first_index; /* base_index + 1 */
	uint64_t last_index;  /* base_index when the log holds nothing after it */
	uint64_t last_term;   /* base_term then */
	uint64_t segments;
	uint64_t bytes;		  /* bytes of records kept */
	uint64_t dropped_bytes;	  /* unsynced tail dropped (torn write) */
	uint64_t recovery_ns;	  /* time rc_wal_open() spent scanning */
	char dropped_reason[160]; /* why the tail was dropped; empty when nothing was */
	/* The newest snapshot in the directory (snap.index 0: none); the log goes on after it. */
	struct rc_snap_info snap;
};

/* Counters of the storage thread; read from any thread (relaxed). */
struct rc_wal_stats {
	uint64_t writes;     /* node writes handed over (rc_wal_commit calls) */
	uint64_t syncs;	     /* fdatasync calls */
	uint64_t bytes;	     /* bytes written */
	uint64_t ring_waits; /* times the node found the staging ring full */
	uint64_t segments_deleted;
};

/* Sync latencies the storage thread keeps, the last RC_WAL_SYNC_SAMPLES of them (ns). */
#define RC_WAL_SYNC_SAMPLES 65536u

struct rc_wal;

/*
 * Opens (creating if empty) the log in cfg->dir and recovers it: every segment scanned, every
 * CRC checked, an unsynced tail dropped (its bytes zeroed on disk). On corruption before the tail
 * returns -EBADMSG and writes "file ...: offset N: reason" to err; nothing on disk changes. The
 * directory is locked (DIR/LOCK, flock) until rc_wal_close(): a second opener gets -EWOULDBLOCK.
 * Other errors: -errno with the failing call in err.
 */
int rc_wal_open(const struct rc_wal_config *cfg, struct rc_wal **out, char *err, size_t errlen);
const struct rc_wal_info *rc_wal_info(const struct rc_wal *w);
/* The log's directory (snapshot files live there too). */
const char *rc_wal_dir(const struct rc_wal *w);

/*
 * A recovered entry (first_index..last_index), before rc_wal_start(): descriptor and payload
 * (valid until rc_wal_start()). Returns false when index is out of range.
 */
bool rc_wal_entry(const struct rc_wal *w, uint64_t index, struct rc_raft_entry *e,
		  const void **payload);

/* Starts the storage thread; recovered payloads are released. Returns 0 or -errno. */
int rc_wal_start(struct rc_wal *w);

/*
 * The node's side (one thread). Bytes of records the ring can take now; a write needs
 * rc_wal_record_bytes() per entry plus RC_WAL_WRITE_OVERHEAD.
 */
#define RC_WAL_WRITE_OVERHEAD                                                                      \
	(2u * (RC_WAL_RECORD_HEADER_BYTES + RC_WAL_SYNC_PAYLOAD_BYTES) +                           \
	 2u * RC_WAL_RECORD_HEADER_BYTES)
uint64_t rc_wal_room(const struct rc_wal *w);
/* Adds entry index to the current write (waits for room when the ring is full). */
void rc_wal_append(struct rc_wal *w, uint64_t index, const struct rc_raft_entry *e,
		   const void *payload);
/*
 * Closes the current write with the hard state and the log's end and hands it to the storage
 * thread. Returns the write's ticket: it is durable once rc_wal_durable() >= ticket.
 */
uint64_t rc_wal_commit(struct rc_wal *w, const struct rc_raft_hard_state *hs, uint64_t last_index,
		       uint64_t last_term);
/*
 * Writes a SNAPSHOT record: the log now ends at (index, term), everything before superseded.
 * Hand the snapshot file to rc_snap_write() first. Close it with rc_wal_commit() as usual.
 */
void rc_wal_append_snapshot(struct rc_wal *w, uint64_t index, uint64_t term);
/*
 * A snapshot at index is durable: segments holding only entries <= index may go (the storage
 * thread deletes them; the last two segments always stay).
 */
void rc_wal_compact(struct rc_wal *w, uint64_t index);

/* Highest ticket made durable. */
uint64_t rc_wal_durable(const struct rc_wal *w);
/* 0, or the -errno of a failed write or sync: the log is unusable and the node must stop. */
int rc_wal_error(const struct rc_wal *w);

void rc_wal_stats(const struct rc_wal *w, struct rc_wal_stats *out);
/* Copies up to max recent sync latencies (ns) to out; returns how many. */
uint32_t rc_wal_sync_samples(const struct rc_wal *w, uint64_t *out, uint32_t max);

/* Stops the storage thread after it made everything handed over durable, and closes. */
void rc_wal_close(struct rc_wal *w);

#endif
