/*
 * The write-ahead log's record format and replay rules (see wal.h). No I/O: the runtime's
 * segment files and the simulator's disks both go through these functions.
 */
#include <errno.h>
#include <string.h>

#include <replicore/assert.h>
#include <replicore/mutation.h>
#include <replicore/wal.h>

#include "../wire/wire_le.h"

#if defined(__x86_64__) && defined(__SSE4_2__)
#include <nmmintrin.h>
#define WAL_CRC_HW 1
#elif defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>
#define WAL_CRC_DISPATCH 1
#endif

/* Table-driven CRC32C (reflected polynomial 0x82f63b78), for CPUs without the instruction. */
static uint32_t
crc32c_soft(uint32_t crc, const uint8_t *p, size_t len)
{
	static uint32_t table[256];
	static _Atomic int ready;

	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
			table[i] = c;
		}
		ready = 1;
	}
	while (len-- > 0)
		crc = table[(crc ^ *p++) & 0xffu] ^ (crc >> 8);
	return crc;
}

#if defined(WAL_CRC_HW) || defined(WAL_CRC_DISPATCH)
/* SSE4.2's crc32 instruction, 8 bytes at a time. */
__attribute__((target("sse4.2"))) static uint32_t
crc32c_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = crc;

	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = _mm_crc32_u64(c, v);
		p += 8;
		len -= 8;
	}
	crc = (uint32_t)c;
	while (len-- > 0)
		crc = _mm_crc32_u8(crc, *p++);
	return crc;
}
#endif

/* CRC32C of buf continuing crc (0 to start). */
uint32_t
rc_crc32c(uint32_t crc, const void *buf, size_t len)
{
	crc = ~crc;
#if defined(WAL_CRC_HW)
	crc = crc32c_hw(crc, buf, len);
#elif defined(WAL_CRC_DISPATCH)
	static int hw = -1;

	if (hw < 0) {
		unsigned a, b, c, d;

		hw = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_2) ? 1 : 0;
	}
	crc = hw ? crc32c_hw(crc, buf, len) : crc32c_soft(crc, buf, len);
#else
	crc = crc32c_soft(crc, buf, len);
#endif
	return ~crc;
}

/* Fills the header of a record at dst (payload already in place) and its CRC; returns size. */
static uint32_t
wal_finish(uint8_t *dst, uint8_t type, uint8_t entry_type, uint32_t len, uint64_t index,
	   uint64_t term)
{
	uint32_t total = rc_wal_record_bytes(len);

	wire_put_u16(dst + 4, RC_WAL_RECORD_MAGIC);
	dst[6] = type;
	dst[7] = entry_type;
	wire_put_u32(dst + 8, len);
	wire_put_u32(dst + 12, 0);
	wire_put_u64(dst + 16, index);
	wire_put_u64(dst + 24, term);
	memset(dst + RC_WAL_RECORD_HEADER_BYTES + len, 0, total - RC_WAL_RECORD_HEADER_BYTES - len);
	wire_put_u32(dst, rc_crc32c(0, dst + 4, total - 4));
	return total;
}

/* Writes an ENTRY record; see wal.h. */
uint32_t
rc_wal_encode_entry(void *dst, uint64_t index, const struct rc_raft_entry *e, const void *payload)
{
	uint8_t *d = dst;

	RC_ASSERT(e->bytes <= RC_ENTRY_BYTES_MAX);
	if (e->bytes > 0)
		memcpy(d + RC_WAL_RECORD_HEADER_BYTES, payload, e->bytes);
	return wal_finish(d, RC_WAL_ENTRY, (uint8_t)e->type, e->bytes, index, e->term);
}

/* Writes a SYNC record; see wal.h. */
uint32_t
rc_wal_encode_sync(void *dst, const struct rc_raft_hard_state *hs, uint64_t last_index,
		   uint64_t last_term)
{
	uint8_t *p = (uint8_t *)dst + RC_WAL_RECORD_HEADER_BYTES;

	wire_put_u64(p, hs->term);
	wire_put_u64(p + 8, hs->commit);
	wire_put_u16(p + 16, hs->vote);
	memset(p + 18, 0, 6);
	return wal_finish(dst, RC_WAL_SYNC, 0, RC_WAL_SYNC_PAYLOAD_BYTES, last_index, last_term);
}

/* Writes a ROLL record; see wal.h. */
uint32_t
rc_wal_encode_roll(void *dst)
{
	return wal_finish(dst, RC_WAL_ROLL, 0, 0, 0, 0);
}

/* Writes a SNAPSHOT record; see wal.h. */
uint32_t
rc_wal_encode_snapshot(void *dst, uint64_t index, uint64_t term)
{
	return wal_finish(dst, RC_WAL_SNAPSHOT, 0, 0, index, term);
}

#define WAL_SEGMENT_MAGIC "RCWALSG1"
#define WAL_SEGMENT_VERSION 1u

/* Parses a segment file name; see wal.h. */
bool
rc_wal_parse_segment_name(const char *name, uint64_t *number)
{
	if (strlen(name) != 24 || strncmp(name, "wal-", 4) != 0 || strcmp(name + 20, ".seg") != 0)
		return false;
	*number = 0;
	for (int i = 4; i < 20; i++) {
		char c = name[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		*number = *number << 4 | d;
	}
	return true;
}

/* Encodes a segment header; see wal.h. */
void
rc_wal_segment_header_encode(uint8_t *h, uint64_t number, uint64_t data_bytes)
{
	memset(h, 0, RC_WAL_SEGMENT_HEADER_BYTES);
	memcpy(h, WAL_SEGMENT_MAGIC, 8);
	wire_put_u32(h + 8, WAL_SEGMENT_VERSION);
	wire_put_u64(h + 16, number);
	wire_put_u64(h + 24, data_bytes);
	wire_put_u32(h + 60, rc_crc32c(0, h, 60));
}

/* Checks a segment header; see wal.h. */
const char *
rc_wal_segment_header_check(const uint8_t *h, uint64_t file_bytes, uint64_t number,
			    uint64_t *data_bytes)
{
	if (file_bytes < RC_WAL_SEGMENT_HEADER_BYTES)
		return "shorter than a segment header";
	if (memcmp(h, WAL_SEGMENT_MAGIC, 8) != 0)
		return "bad segment magic";
	if (wire_get_u32(h + 60) != rc_crc32c(0, h, 60))
		return "segment header CRC32C mismatch";
	if (wire_get_u32(h + 8) != WAL_SEGMENT_VERSION)
		return "unknown segment version";
	if (wire_get_u64(h + 16) != number)
		return "segment number differs from the file name";
	*data_bytes = wire_get_u64(h + 24);
	if (*data_bytes < RC_WAL_SEGMENT_DATA_MIN || *data_bytes % RC_WAL_ALIGN != 0 ||
	    file_bytes < RC_WAL_SEGMENT_HEADER_BYTES + *data_bytes)
		return "segment data size does not match the file";
	return NULL;
}

/* Decodes one record; see wal.h. */
enum rc_wal_status
rc_wal_decode(const void *buf, size_t avail, struct rc_wal_record *rec, uint32_t *bytes)
{
	static const uint8_t zero[RC_WAL_RECORD_HEADER_BYTES];
	const uint8_t *p = buf;
	uint32_t len, total;
	uint8_t type, etype;

	if (avail < RC_WAL_RECORD_HEADER_BYTES)
		return avail > 0 && memcmp(p, zero, avail) != 0 ? RC_WAL_SHORT : RC_WAL_END;
	if (memcmp(p, zero, sizeof(zero)) == 0)
		return RC_WAL_END;
	if (wire_get_u16(p + 4) != RC_WAL_RECORD_MAGIC)
		return RC_WAL_BAD_MAGIC;
	type = p[6];
	etype = p[7];
	len = wire_get_u32(p + 8);
	if (type < RC_WAL_ENTRY || type > RC_WAL_SNAPSHOT ||
	    (type == RC_WAL_ENTRY && etype >= RC_ENTRY_TYPE_COUNT) ||
	    (type != RC_WAL_ENTRY && etype != 0))
		return RC_WAL_BAD_TYPE;
	if ((type == RC_WAL_ENTRY && len > RC_ENTRY_BYTES_MAX) ||
	    (type == RC_WAL_SYNC && len != RC_WAL_SYNC_PAYLOAD_BYTES) ||
	    ((type == RC_WAL_ROLL || type == RC_WAL_SNAPSHOT) && len != 0))
		return RC_WAL_BAD_LENGTH;
	total = rc_wal_record_bytes(len);
	if (total > avail)
		return RC_WAL_SHORT;
	if (wire_get_u32(p) != rc_crc32c(0, p + 4, total - 4) &&
	    !RC_MUTATED(RC_MUTATION_IGNORE_CRC))
		return RC_WAL_BAD_CRC;
	memset(rec, 0, sizeof(*rec));
	rec->type = type;
	rec->entry_type = etype;
	rec->len = len;
	rec->index = wire_get_u64(p + 16);
	rec->term = wire_get_u64(p + 24);
	rec->payload = p + RC_WAL_RECORD_HEADER_BYTES;
	if (type == RC_WAL_SYNC) {
		rec->hs.term = wire_get_u64(rec->payload);
		rec->hs.commit = wire_get_u64(rec->payload + 8);
		rec->hs.vote = wire_get_u16(rec->payload + 16);
	}
	*bytes = total;
	return RC_WAL_OK;
}

/* Starts an empty replay. */
void
rc_wal_replay_init(struct rc_wal_replay *rp)
{
	memset(rp, 0, sizeof(*rp));
	rp->first_index = 1;
}

/* Applies one record to the replay; see wal.h. */
enum rc_wal_status
rc_wal_replay_record(struct rc_wal_replay *rp, const struct rc_wal_record *rec)
{
	switch (rec->type) {
	case RC_WAL_ENTRY: {
		uint64_t prev_term;

		/* The first entry after a compaction: any the snapshot covers, or the next. */
		if (rp->entries == 0 && rp->syncs == 0 && rp->last_index == 0 && rec->index > 1 &&
		    rec->index <= rp->base_index + 1)
			rp->last_index = rec->index - 1;
		if (rec->index < rp->first_index || rec->index > rp->last_index + 1 ||
		    rec->term == 0)
			return RC_WAL_BAD_SEQUENCE;
		if (rec->index <= rp->last_index) {
			/* Replaces the tail. Only entries past the last sync's commit can go. */
			if (rec->index <= rp->hs.commit)
				return RC_WAL_BAD_SEQUENCE;
			rp->truncations++;
		}
		/* The previous entry's term: the replay does not keep terms, so a truncation can
		 * only be checked against the record's own term (a term never goes back within
		 * an append; the node's core checks the whole log again at start). */
		prev_term = rec->index - 1 == rp->last_index ? rp->last_term : 0;
		if (rec->term < prev_term)
			return RC_WAL_BAD_SEQUENCE;
		rp->last_index = rec->index;
		rp->last_term = rec->term;
		rp->entries++;
		return RC_WAL_OK;
	}
	case RC_WAL_SYNC:
		/* After a compaction the log may go on with the end of a write whose entries went
		 * with deleted segments: all of them covered by the snapshot. */
		if (rp->entries == 0 && rp->syncs == 0 && rp->last_index == 0 && rec->index > 0 &&
		    rec->index <= rp->base_index) {
			rp->last_index = rec->index;
			rp->last_term = rec->term;
		}
		if (rec->index != rp->last_index || rec->term != rp->last_term ||
		    rec->hs.term < rec->term || rec->hs.term < rp->hs.term ||
		    rec->hs.commit > rec->index || rec->hs.vote > RC_NODE_ID_MAX)
			return RC_WAL_BAD_SEQUENCE;
		rp->hs = rec->hs;
		rp->synced_last = rp->last_index;
		rp->synced_term = rp->last_term;
		rp->syncs++;
		return RC_WAL_OK;
	case RC_WAL_ROLL:
		return RC_WAL_OK;
	case RC_WAL_SNAPSHOT:
		/* Installed from the leader: the snapshot file (base_index) holds it already. */
		if (rec->index == 0 || rec->term == 0 || rec->index > rp->base_index)
			return RC_WAL_BAD_SEQUENCE;
		rp->last_index = rec->index;
		rp->last_term = rec->term;
		if (rp->first_index <= rec->index)
			rp->first_index = rec->index + 1;
		return RC_WAL_OK;
	default:
		return RC_WAL_BAD_TYPE;
	}
}

/* Decodes records of one segment's data; see wal.h. */
void
rc_wal_scan(const uint8_t *data, size_t len, rc_wal_record_fn fn, void *ctx,
	    struct rc_wal_scan *out)
{
	uint64_t off = 0;

	memset(out, 0, sizeof(*out));
	while (off + RC_WAL_RECORD_HEADER_BYTES <= len) {
		struct rc_wal_record rec;
		uint32_t bytes;
		enum rc_wal_status st = rc_wal_decode(data + off, len - off, &rec, &bytes);

		if (st != RC_WAL_OK) {
			out->status = st;
			out->stop_offset = off;
			out->end_offset = off;
			return;
		}
		if (rec.type == RC_WAL_ROLL) {
			out->rolled = true;
			out->stop_offset = off;
			out->end_offset = off + bytes;
			return;
		}
		if (fn != NULL && !fn(ctx, &rec, off)) {
			out->stop_offset = off;
			out->end_offset = off;
			return;
		}
		off += bytes;
		if (rec.type == RC_WAL_SYNC)
			out->last_sync_end = off;
	}
	/* Fewer bytes than a header remain: the writer rolls over such a rest unwritten. */
	if (off < len && rc_wal_decode(data + off, len - off, NULL, NULL) == RC_WAL_SHORT) {
		out->status = RC_WAL_SHORT;
		out->stop_offset = off;
		out->end_offset = off;
		return;
	}
	out->rolled = true;
	out->stop_offset = off;
	out->end_offset = off;
}

/* True when a valid SYNC record lies in data[from..len); see wal.h. */
bool
rc_wal_sync_after(const uint8_t *data, size_t len, uint64_t from)
{
	for (uint64_t off = (from + RC_WAL_ALIGN - 1) & ~(uint64_t)(RC_WAL_ALIGN - 1);
	     off + RC_WAL_RECORD_HEADER_BYTES <= len; off += RC_WAL_ALIGN) {
		struct rc_wal_record rec;
		uint32_t bytes;

		/* The magic and type first: most offsets fail there, without a CRC. */
		if (data[off + 4] != (RC_WAL_RECORD_MAGIC & 0xff) ||
		    data[off + 5] != (RC_WAL_RECORD_MAGIC >> 8) || data[off + 6] != RC_WAL_SYNC)
			continue;
		if (rc_wal_decode(data + off, len - off, &rec, &bytes) == RC_WAL_OK &&
		    rec.type == RC_WAL_SYNC)
			return true;
	}
	return false;
}

/* Names a status. */
const char *
rc_wal_strerror(enum rc_wal_status s)
{
	static const char *const names[RC_WAL_STATUS_COUNT] = {
		[RC_WAL_OK] = "ok",
		[RC_WAL_END] = "no record (zeroes)",
		[RC_WAL_SHORT] = "record cut short",
		[RC_WAL_BAD_MAGIC] = "bad record magic",
		[RC_WAL_BAD_TYPE] = "bad record type",
		[RC_WAL_BAD_LENGTH] = "bad record length",
		[RC_WAL_BAD_CRC] = "CRC32C mismatch",
		[RC_WAL_BAD_SEQUENCE] = "record out of sequence",
		[RC_WAL_BAD_HEADER] = "bad segment header",
	};

	return (unsigned)s < RC_WAL_STATUS_COUNT ? names[s] : "unknown";
}

/* ---- Recovering one buffer ------------------------------------------------------------------ */

/* One pass of rc_wal_recover_image() over the records. */
struct wal_image_pass {
	struct rc_wal_replay rp;
	struct rc_wal_replay at_sync; /* rp as the last SYNC record left it */
	enum rc_wal_status failed;    /* a record out of sequence stopped the pass; OK: none did */
	uint64_t failed_offset;
	rc_wal_record_fn on_entry; /* the caller's, or NULL */
	void *ctx;
	bool cancelled; /* on_entry returned false */
};

/* Replays one record of a pass, then hands an ENTRY record to the caller's callback, if any.
 * Returns false (stopping the scan) on a record out of sequence or when the callback says so. */
static bool
wal_image_record(void *arg, const struct rc_wal_record *rec, uint64_t offset)
{
	struct wal_image_pass *p = arg;
	enum rc_wal_status st = rc_wal_replay_record(&p->rp, rec);

	if (st != RC_WAL_OK) {
		p->failed = st;
		p->failed_offset = offset;
		return false;
	}
	if (rec->type == RC_WAL_SYNC)
		p->at_sync = p->rp;
	if (rec->type == RC_WAL_ENTRY && p->on_entry != NULL && !p->on_entry(p->ctx, rec, offset)) {
		p->cancelled = true;
		return false;
	}
	return true;
}

/* Scans data[0..len) with a fresh replay, handing entries to on_entry. */
static void
wal_image_pass(struct wal_image_pass *p, const uint8_t *data, size_t len, rc_wal_record_fn on_entry,
	       void *ctx, struct rc_wal_scan *scan)
{
	memset(p, 0, sizeof(*p));
	rc_wal_replay_init(&p->rp);
	p->at_sync = p->rp;
	p->on_entry = on_entry;
	p->ctx = ctx;
	rc_wal_scan(data, len, wal_image_record, p, scan);
}

/*
 * Recovers one buffer; see wal.h. One pass scans and replays everything, handing the entries to
 * the caller as it goes, and finds where the valid records stop and the end of the last valid
 * SYNC; a valid SYNC after the stop is corruption. A second pass, up to the cut only, is needed
 * only when an entry past the cut replaced one before it: the caller's log must then be rebuilt.
 * Returns 0, -EBADMSG or -ECANCELED.
 */
int
rc_wal_recover_image(const uint8_t *data, size_t len, rc_wal_record_fn on_entry, void *ctx,
		     struct rc_wal_image_result *out)
{
	struct wal_image_pass p;
	struct rc_wal_scan scan;

	memset(out, 0, sizeof(*out));
	wal_image_pass(&p, data, len, on_entry, ctx, &scan);
	if (p.cancelled)
		return -ECANCELED;
	out->status = p.failed != RC_WAL_OK ? p.failed : scan.status;
	out->stop_offset = p.failed != RC_WAL_OK ? p.failed_offset : scan.stop_offset;
	out->keep_bytes = scan.last_sync_end;
	out->dropped_entries = p.rp.entries - p.at_sync.entries;
	RC_ASSERT(out->keep_bytes <= out->stop_offset);
	if (out->status != RC_WAL_OK &&
	    rc_wal_sync_after(data, len, out->stop_offset + RC_WAL_ALIGN)) {
		out->corrupt = true;
		return -EBADMSG;
	}
	out->replay = p.at_sync;
	if (p.rp.truncations == p.at_sync.truncations)
		return 0;
	wal_image_pass(&p, data, out->keep_bytes, on_entry, ctx, &scan);
	if (p.cancelled)
		return -ECANCELED;
	/* Everything before the cut was valid and in sequence in the first pass. */
	RC_ASSERT(p.failed == RC_WAL_OK && scan.status == RC_WAL_OK &&
		  scan.last_sync_end == out->keep_bytes && p.rp.entries == out->replay.entries);
	return 0;
}
