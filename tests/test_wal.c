/*
 * The write-ahead log (engine/storage): CRC32C, the record format and every decode status, the
 * replay rules, and the log on disk in a fresh directory per test: round trips across reopen,
 * segment rolls, Raft truncations, torn tails dropped and zeroed, corruption refused without a
 * byte changed, the two SYNC copies, missing or damaged segments, hard-state-only writes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <replicore/wal.h>

#define SEG_BYTES (64u << 10)	    /* segment data bytes in most tests */
#define SMALL_SEG_BYTES (12u << 10) /* the smallest segment that holds a largest entry */
#define RING_BYTES (128u << 10)	    /* the roll test wraps it */
#define ERR_BYTES 512
#define LOG_MAX 2048
#define RECS_MAX 4096
#define DURABLE_WAIT_NS (5ull * 1000 * 1000 * 1000)

/* ---- Helpers: payloads, the expected log, the directory ------------------------------------ */

/*
 * The payload size of entry index written at term: 0..300 bytes; every 50th and 401..405 the
 * largest (one write of those crosses several small segments).
 */
static uint32_t
payload_bytes(uint64_t index, uint64_t term)
{
	if (index % 50 == 0 || (index >= 401 && index <= 405))
		return RC_ENTRY_BYTES_MAX;
	return (uint32_t)((index * 131 + term * 7) % 301);
}

/* Fills p with the payload of entry index at term. */
static void
payload_fill(uint8_t *p, uint64_t index, uint64_t term)
{
	uint32_t n = payload_bytes(index, term);

	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)(index * 31 + term * 17 + i * 13);
}

/* The entry type of index: every 7th a no-op. */
static uint16_t
entry_type(uint64_t index)
{
	return index % 7 == 0 ? RC_ENTRY_NOOP : RC_ENTRY_NORMAL;
}

/* What the log should hold after recovery. */
struct model {
	uint64_t last;
	uint64_t term[LOG_MAX + 1];
	struct rc_raft_hard_state hs;
};

static char dir[64];

/* A fresh directory per test (the suite's init). */
static void
dir_make(void)
{
	snprintf(dir, sizeof(dir), "/tmp/rc-wal-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

/* Removes the test's directory and every file in it. */
static void
dir_remove(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	rmdir(dir);
}

/* The path of segment number in the test directory. */
static void
seg_path(char *buf, size_t len, uint64_t number)
{
	snprintf(buf, len, "%s/wal-%016" PRIx64 ".seg", dir, number);
}

/* Opens the log in the test directory. Returns rc_wal_open()'s result. */
static int
wal_open_dir(uint64_t segment_bytes, struct rc_wal **w, char *err)
{
	struct rc_wal_config cfg;

	rc_wal_config_default(&cfg, dir);
	cfg.segment_bytes = segment_bytes;
	cfg.ring_bytes = RING_BYTES;
	err[0] = '\0';
	return rc_wal_open(&cfg, w, err, ERR_BYTES);
}

/* Opens a log that must open, and starts it when start is set. */
static struct rc_wal *
wal_open_ok(uint64_t segment_bytes, bool start)
{
	struct rc_wal *w = NULL;
	char err[ERR_BYTES];
	int rc = wal_open_dir(segment_bytes, &w, err);

	cr_assert_eq(rc, 0, "rc_wal_open: %d: %s", rc, err);
	cr_assert_not_null(w);
	if (start)
		cr_assert_eq(rc_wal_start(w), 0);
	return w;
}

/* Waits until the write of ticket is durable (at most DURABLE_WAIT_NS). */
static void
wait_durable(struct rc_wal *w, uint64_t ticket)
{
	struct timespec ts = { 0, 100 * 1000 };

	for (uint64_t waited = 0; rc_wal_durable(w) < ticket; waited += (uint64_t)ts.tv_nsec) {
		cr_assert_eq(rc_wal_error(w), 0, "wal error %d", rc_wal_error(w));
		cr_assert_lt(waited, DURABLE_WAIT_NS, "ticket %" PRIu64 " not durable", ticket);
		nanosleep(&ts, NULL);
	}
}

/*
 * One write: entries first..last at term (replacing what the model holds from first on), then
 * the hard state {term, commit, vote}. Returns the ticket.
 */
static uint64_t
write_entries(struct rc_wal *w, struct model *m, uint64_t first, uint64_t last, uint64_t term,
	      uint64_t commit, uint16_t vote)
{
	static uint8_t buf[RC_ENTRY_BYTES_MAX];

	cr_assert_leq(first, m->last + 1);
	cr_assert_leq(last, LOG_MAX);
	for (uint64_t i = first; i <= last; i++) {
		struct rc_raft_entry e = { .term = term,
					   .bytes = payload_bytes(i, term),
					   .type = entry_type(i) };

		payload_fill(buf, i, term);
		rc_wal_append(w, i, &e, buf);
		m->term[i] = term;
	}
	if (last >= first)
		m->last = last;
	m->hs = (struct rc_raft_hard_state){ .term = term, .commit = commit, .vote = vote };
	return rc_wal_commit(w, &m->hs, m->last, m->last > 0 ? m->term[m->last] : 0);
}

/* Checks the recovered hard state, log range and every entry against the model. */
static void
check_log(const struct rc_wal *w, const struct model *m)
{
	const struct rc_wal_info *info = rc_wal_info(w);
	static uint8_t want[RC_ENTRY_BYTES_MAX];
	struct rc_raft_entry e;
	const void *payload;

	cr_assert_eq(info->hs.term, m->hs.term);
	cr_assert_eq(info->hs.commit, m->hs.commit);
	cr_assert_eq(info->hs.vote, m->hs.vote);
	cr_assert_eq(info->first_index, 1);
	cr_assert_eq(info->last_index, m->last, "last index %" PRIu64 ", want %" PRIu64,
		     info->last_index, m->last);
	cr_assert_eq(info->last_term, m->last > 0 ? m->term[m->last] : 0);
	for (uint64_t i = 1; i <= m->last; i++) {
		cr_assert(rc_wal_entry(w, i, &e, &payload), "entry %" PRIu64, i);
		cr_assert_eq(e.term, m->term[i], "entry %" PRIu64 " term", i);
		cr_assert_eq(e.type, entry_type(i));
		cr_assert_eq(e.bytes, payload_bytes(i, m->term[i]), "entry %" PRIu64 " bytes", i);
		payload_fill(want, i, m->term[i]);
		cr_assert_eq(memcmp(payload, want, e.bytes), 0, "entry %" PRIu64 " payload", i);
	}
	cr_assert_not(rc_wal_entry(w, 0, &e, &payload));
	cr_assert_not(rc_wal_entry(w, m->last + 1, &e, &payload));
}

/* Reopens the log and checks it against the model; returns the open log (not started). */
static struct rc_wal *
reopen_check(uint64_t segment_bytes, const struct model *m)
{
	struct rc_wal *w = wal_open_ok(segment_bytes, false);

	check_log(w, m);
	return w;
}

/* Reads a whole file; returns a malloc'd buffer and its size in *len. */
static uint8_t *
file_read(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

/* Writes len bytes at offset off of an existing file. */
static void
file_write_at(const char *path, uint64_t off, const void *src, size_t len)
{
	int fd = open(path, O_WRONLY);

	cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(pwrite(fd, src, len, (off_t)off), (ssize_t)len);
	close(fd);
}

/* Flips bit of the byte at file offset off. */
static void
flip_bit(const char *path, uint64_t off, unsigned bit)
{
	uint8_t b;
	int fd = open(path, O_RDWR);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &b, 1, (off_t)off), 1);
	b ^= (uint8_t)(1u << bit);
	cr_assert_eq(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

/* Zeroes file bytes [from, to). */
static void
file_zero(const char *path, uint64_t from, uint64_t to)
{
	static const uint8_t zero[4096];

	while (from < to) {
		size_t n = to - from < sizeof(zero) ? (size_t)(to - from) : sizeof(zero);

		file_write_at(path, from, zero, n);
		from += n;
	}
}

/* Orders names for dir_image(). */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file of the directory (name, size, bytes) in one buffer, to compare before and after. */
static uint8_t *
dir_image(size_t *len)
{
	char *names[64];
	size_t n = 0, total = 0;
	uint8_t *img = NULL;
	DIR *d = opendir(dir);
	struct dirent *de;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		cr_assert_lt(n, 64);
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char path[128];
		size_t flen, nlen = strlen(names[i]) + 1;
		uint8_t *f;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		f = file_read(path, &flen);
		img = realloc(img, total + nlen + sizeof(flen) + flen);
		cr_assert_not_null(img);
		memcpy(img + total, names[i], nlen);
		memcpy(img + total + nlen, &flen, sizeof(flen));
		memcpy(img + total + nlen + sizeof(flen), f, flen);
		total += nlen + sizeof(flen) + flen;
		free(f);
		free(names[i]);
	}
	*len = total;
	return img;
}

/* Asserts that the directory still holds exactly the image taken before. */
static void
dir_unchanged(const uint8_t *before, size_t before_len)
{
	size_t len;
	uint8_t *now = dir_image(&len);

	cr_assert_eq(len, before_len, "the directory changed size");
	cr_assert_eq(memcmp(now, before, len), 0, "the directory's bytes changed");
	free(now);
}

/* A record found in a segment file: its type, index and place (file offsets). */
struct rec_loc {
	uint8_t type;
	uint64_t index;
	uint64_t off; /* file offset of the record */
	uint64_t end; /* file offset just after it */
};

struct rec_list {
	struct rec_loc r[RECS_MAX];
	uint32_t n;
};

/* rc_wal_scan() callback: notes each record's type, index and file offsets. */
static bool
collect_record(void *ctx, const struct rc_wal_record *rec, uint64_t offset)
{
	struct rec_list *l = ctx;

	cr_assert_lt(l->n, RECS_MAX);
	l->r[l->n++] = (struct rec_loc){
		.type = rec->type,
		.index = rec->index,
		.off = RC_WAL_SEGMENT_HEADER_BYTES + offset,
		.end = RC_WAL_SEGMENT_HEADER_BYTES + offset + rc_wal_record_bytes(rec->len),
	};
	return true;
}

/* Lists the valid records of segment number (up to the first damage or zeroes). */
static void
seg_records(uint64_t number, struct rec_list *l)
{
	char path[128];
	size_t len;
	uint8_t *f;
	struct rc_wal_scan scan;

	seg_path(path, sizeof(path), number);
	f = file_read(path, &len);
	cr_assert_gt(len, RC_WAL_SEGMENT_HEADER_BYTES);
	l->n = 0;
	rc_wal_scan(f + RC_WAL_SEGMENT_HEADER_BYTES, len - RC_WAL_SEGMENT_HEADER_BYTES,
		    collect_record, l, &scan);
	free(f);
}

/* The i-th record of type from the end of the list (0: the last one). */
static const struct rec_loc *
rec_last(const struct rec_list *l, uint8_t type, uint32_t i)
{
	for (uint32_t k = l->n; k-- > 0;)
		if (l->r[k].type == type && i-- == 0)
			return &l->r[k];
	cr_assert_fail("no such record");
	return NULL;
}

/* The ENTRY record of index (the last one written for it). */
static const struct rec_loc *
rec_entry(const struct rec_list *l, uint64_t index)
{
	for (uint32_t k = l->n; k-- > 0;)
		if (l->r[k].type == RC_WAL_ENTRY && l->r[k].index == index)
			return &l->r[k];
	cr_assert_fail("no entry %" PRIu64, index);
	return NULL;
}

/* Asserts that file bytes [from, to) are all zero. */
static void
check_zero(const char *path, uint64_t from, uint64_t to)
{
	size_t len;
	uint8_t *f = file_read(path, &len);

	cr_assert_leq(to, len);
	for (uint64_t i = from; i < to; i++)
		cr_assert_eq(f[i], 0, "byte %" PRIu64 " of %s not zeroed", i, path);
	free(f);
}

/*
 * The log most torn-tail and corruption tests start from, in segment 0: write 1 holds entries
 * 1..5 (commit 2), write 2 entries 6..9 (commit 5, vote 1). Closed on return.
 */
static void
two_writes(struct model *m)
{
	struct rc_wal *w = wal_open_ok(SEG_BYTES, true);

	memset(m, 0, sizeof(*m));
	write_entries(w, m, 1, 5, 1, 2, 0);
	wait_durable(w, write_entries(w, m, 6, 9, 1, 5, 1));
	rc_wal_close(w);
}

/* The model of two_writes() with only its first write. */
static void
first_write_only(struct model *m)
{
	m->last = 5;
	m->hs = (struct rc_raft_hard_state){ .term = 1, .commit = 2, .vote = 0 };
}

/* ---- CRC32C ---------------------------------------------------------------------------------- */

/* Bit at a time, straight from the definition (reflected polynomial 0x82f63b78). */
static uint32_t
crc32c_reference(const uint8_t *p, size_t len)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
	}
	return ~c;
}

Test(crc32c, known_answers)
{
	uint8_t buf[32];

	cr_assert_eq(rc_crc32c(0, "123456789", 9), 0xe3069283u);
	cr_assert_eq(rc_crc32c(0, "", 0), 0);
	/* RFC 3720 (iSCSI), appendix B.4. */
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(rc_crc32c(0, buf, sizeof(buf)), 0x8a9136aau);
	memset(buf, 0xff, sizeof(buf));
	cr_assert_eq(rc_crc32c(0, buf, sizeof(buf)), 0x62a8ab43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	cr_assert_eq(rc_crc32c(0, buf, sizeof(buf)), 0x46dd794eu);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	cr_assert_eq(rc_crc32c(0, buf, sizeof(buf)), 0x113fdb5cu);
	/* Continuing a CRC equals one pass. */
	cr_assert_eq(rc_crc32c(rc_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
}

/*
 * rc_crc32c() takes the path the CPU allows (the instruction where present); a bitwise
 * reference must agree at every length and alignment, and when continued at any split.
 */
Test(crc32c, matches_bitwise_reference)
{
	uint8_t buf[600];
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < sizeof(buf); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
	for (size_t start = 0; start < 8; start++)
		for (size_t len = 0; len + start <= 300; len++)
			cr_assert_eq(rc_crc32c(0, buf + start, len),
				     crc32c_reference(buf + start, len), "start %zu len %zu", start,
				     len);
	for (size_t split = 0; split <= sizeof(buf); split += 37)
		cr_assert_eq(rc_crc32c(rc_crc32c(0, buf, split), buf + split, sizeof(buf) - split),
			     crc32c_reference(buf, sizeof(buf)));
}

/* ---- The record format ----------------------------------------------------------------------- */

Test(wal_format, record_bytes_pad_to_eight)
{
	cr_assert_eq(rc_wal_record_bytes(0), 32);
	cr_assert_eq(rc_wal_record_bytes(1), 40);
	cr_assert_eq(rc_wal_record_bytes(8), 40);
	cr_assert_eq(rc_wal_record_bytes(9), 48);
	cr_assert_eq(rc_wal_record_bytes(RC_WAL_SYNC_PAYLOAD_BYTES), 56);
	cr_assert_eq(rc_wal_record_bytes(RC_ENTRY_BYTES_MAX), 32 + RC_ENTRY_BYTES_MAX);
}

Test(wal_format, entry_round_trip)
{
	static const uint32_t sizes[] = { 0, 1, 7, 8, 9, 300, RC_ENTRY_BYTES_MAX };
	static uint8_t buf[RC_WAL_RECORD_HEADER_BYTES + RC_ENTRY_BYTES_MAX + 64];
	static uint8_t payload[RC_ENTRY_BYTES_MAX];

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct rc_raft_entry e = { .term = 77 + k,
					   .bytes = sizes[k],
					   .type = RC_ENTRY_NOOP };
		struct rc_wal_record rec;
		uint32_t bytes = 0, n;

		for (uint32_t i = 0; i < sizes[k]; i++)
			payload[i] = (uint8_t)(i * 7 + k);
		memset(buf, 0xee, sizeof(buf));
		n = rc_wal_encode_entry(buf, 1000 + k, &e, payload);
		cr_assert_eq(n, rc_wal_record_bytes(sizes[k]));
		for (uint32_t i = RC_WAL_RECORD_HEADER_BYTES + sizes[k]; i < n; i++)
			cr_assert_eq(buf[i], 0, "padding byte %u", i);
		cr_assert_eq(rc_wal_decode(buf, n, &rec, &bytes), RC_WAL_OK);
		cr_assert_eq(bytes, n);
		cr_assert_eq(rec.type, RC_WAL_ENTRY);
		cr_assert_eq(rec.entry_type, RC_ENTRY_NOOP);
		cr_assert_eq(rec.len, sizes[k]);
		cr_assert_eq(rec.index, 1000 + k);
		cr_assert_eq(rec.term, 77 + k);
		cr_assert_eq(memcmp(rec.payload, payload, sizes[k]), 0);
		/* One byte less than the record is not the record. */
		cr_assert_eq(rc_wal_decode(buf, n - 1, &rec, &bytes), RC_WAL_SHORT);
	}
}

Test(wal_format, sync_and_roll_round_trip)
{
	uint8_t buf[128];
	struct rc_raft_hard_state hs = { .term = 9, .commit = 41, .vote = RC_NODE_ID_MAX };
	struct rc_wal_record rec;
	uint32_t bytes;

	cr_assert_eq(rc_wal_encode_sync(buf, &hs, 42, 8), 56);
	cr_assert_eq(rc_wal_decode(buf, sizeof(buf), &rec, &bytes), RC_WAL_OK);
	cr_assert_eq(bytes, 56);
	cr_assert_eq(rec.type, RC_WAL_SYNC);
	cr_assert_eq(rec.len, RC_WAL_SYNC_PAYLOAD_BYTES);
	cr_assert_eq(rec.index, 42);
	cr_assert_eq(rec.term, 8);
	cr_assert_eq(rec.hs.term, 9);
	cr_assert_eq(rec.hs.commit, 41);
	cr_assert_eq(rec.hs.vote, RC_NODE_ID_MAX);

	cr_assert_eq(rc_wal_encode_roll(buf), RC_WAL_RECORD_HEADER_BYTES);
	cr_assert_eq(rc_wal_decode(buf, RC_WAL_RECORD_HEADER_BYTES, &rec, &bytes), RC_WAL_OK);
	cr_assert_eq(rec.type, RC_WAL_ROLL);
	cr_assert_eq(rec.len, 0);
	cr_assert_eq(bytes, RC_WAL_RECORD_HEADER_BYTES);
}

/* Encodes a 16-byte ENTRY (index 3, term 2) to buf, 48 bytes. */
static void
good_entry(uint8_t *buf)
{
	struct rc_raft_entry e = { .term = 2, .bytes = 16, .type = RC_ENTRY_NORMAL };

	cr_assert_eq(rc_wal_encode_entry(buf, 3, &e, "0123456789abcdef"), 48);
}

Test(wal_format, every_decode_status)
{
	uint8_t buf[256];
	struct rc_wal_record rec;
	uint32_t bytes;

	/* END: zeroes, or nothing at all. */
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(rc_wal_decode(buf, sizeof(buf), &rec, &bytes), RC_WAL_END);
	cr_assert_eq(rc_wal_decode(buf, 0, &rec, &bytes), RC_WAL_END);
	cr_assert_eq(rc_wal_decode(buf, 20, &rec, &bytes), RC_WAL_END);
	/* SHORT: a non-zero rest shorter than a header, or a payload past the end. */
	buf[3] = 1;
	cr_assert_eq(rc_wal_decode(buf, 20, &rec, &bytes), RC_WAL_SHORT);
	good_entry(buf);
	cr_assert_eq(rc_wal_decode(buf, 47, &rec, &bytes), RC_WAL_SHORT);
	cr_assert_eq(rc_wal_decode(buf, 48, &rec, &bytes), RC_WAL_OK);
	/* BAD_MAGIC. */
	good_entry(buf);
	buf[4] ^= 1;
	cr_assert_eq(rc_wal_decode(buf, sizeof(buf), &rec, &bytes), RC_WAL_BAD_MAGIC);
	/* BAD_TYPE: unknown record types, an unknown entry type, an entry type on a SYNC. */
	static const uint8_t unknown_types[] = { 0, 0x7f, 0xff };

	for (size_t k = 0; k < sizeof(unknown_types); k++) {
		good_entry(buf);
		buf[6] = unknown_types[k];
		cr_assert_eq(rc_wal_decode(buf, sizeof(buf), &rec, &bytes), RC_WAL_BAD_TYPE);
	}
	good_entry(buf);
	buf[7] = RC_ENTRY_TYPE_COUNT;
	cr_assert_eq(rc_wal_decode(buf, sizeof(buf), &rec, &bytes), RC_WAL_BAD_TYPE);
	rc_wal_encode_sync(buf, &(struct rc_raft_hard_state){ .term = 1 }, 0, 0);
	buf[7] = 1;
	cr_assert_eq(rc_wal_decode(buf, sizeof(buf), &rec, &bytes), RC_WAL_BAD_TYPE);
	/* BAD_LENGTH: an entry over the bound, a SYNC of another size, a ROLL with a payload. */
	good_entry(buf);
	buf[8] = 0x01; /* 0x2001: 8193 bytes */
	buf[9] = 0x20;
	cr_assert_eq(rc_wal_decode(buf, sizeof(buf), &rec, &bytes), RC_WAL_BAD_LENGTH);
	rc_wal_encode_sync(buf, &(struct rc_raft_hard_state){ .term = 1 }, 0, 0);
	buf[8] = 16;
	cr_assert_eq(rc_wal_decode(buf, sizeof(buf), &rec, &bytes), RC_WAL_BAD_LENGTH);
	rc_wal_encode_roll(buf);
	buf[8] = 8;
	cr_assert_eq(rc_wal_decode(buf, sizeof(buf), &rec, &bytes), RC_WAL_BAD_LENGTH);
	/* BAD_CRC: any one bit of the payload, the header or the CRC itself. */
	for (unsigned byte = 0; byte < 48; byte += 5) {
		if (byte >= 4 && byte < 12)
			continue; /* magic, type, length: caught above, before the CRC */
		good_entry(buf);
		buf[byte] ^= 0x10;
		cr_assert_eq(rc_wal_decode(buf, sizeof(buf), &rec, &bytes), RC_WAL_BAD_CRC,
			     "byte %u", byte);
	}
	/* A non-zero padding byte is damage too. */
	{
		struct rc_raft_entry e = { .term = 2, .bytes = 3, .type = RC_ENTRY_NORMAL };

		cr_assert_eq(rc_wal_encode_entry(buf, 3, &e, "abc"), 40);
		buf[39] = 1;
		cr_assert_eq(rc_wal_decode(buf, 40, &rec, &bytes), RC_WAL_BAD_CRC);
	}
}

Test(wal_format, status_names_are_distinct)
{
	for (int a = 0; a < RC_WAL_STATUS_COUNT; a++) {
		cr_assert_not_null(rc_wal_strerror(a));
		cr_assert_neq(strcmp(rc_wal_strerror(a), "unknown"), 0);
		for (int b = a + 1; b < RC_WAL_STATUS_COUNT; b++)
			cr_assert_neq(strcmp(rc_wal_strerror(a), rc_wal_strerror(b)), 0);
	}
	cr_assert_str_eq(rc_wal_strerror(RC_WAL_STATUS_COUNT), "unknown");
}

/* ---- Scanning -------------------------------------------------------------------------------- */

/* rc_wal_scan() callback: counts the records. */
static bool
count_record(void *ctx, const struct rc_wal_record *rec, uint64_t offset)
{
	(void)rec;
	(void)offset;
	(*(int *)ctx)++;
	return true;
}

/* rc_wal_scan() callback: counts, and stops at the first SYNC record. */
static bool
stop_at_sync(void *ctx, const struct rc_wal_record *rec, uint64_t offset)
{
	(void)offset;
	(*(int *)ctx)++;
	return rec->type != RC_WAL_SYNC;
}

/* Encodes ENTRY 1, ENTRY 2, SYNC, SYNC into buf; returns the bytes. */
static uint32_t
scan_fixture(uint8_t *buf)
{
	struct rc_raft_entry e = { .term = 1, .bytes = 5, .type = RC_ENTRY_NORMAL };
	struct rc_raft_hard_state hs = { .term = 1, .commit = 1 };
	uint32_t off = 0;

	off += rc_wal_encode_entry(buf + off, 1, &e, "hello");
	off += rc_wal_encode_entry(buf + off, 2, &e, "world");
	off += rc_wal_encode_sync(buf + off, &hs, 2, 1);
	off += rc_wal_encode_sync(buf + off, &hs, 2, 1);
	return off; /* 40 + 40 + 56 + 56 */
}

Test(wal_format, scan_stops_at_zeroes_roll_damage_and_callback)
{
	static uint8_t buf[1024];
	struct rc_wal_scan s;
	uint32_t end;
	int n = 0;

	memset(buf, 0, sizeof(buf));
	end = scan_fixture(buf);
	cr_assert_eq(end, 192);
	/* Zeroes after the records. */
	rc_wal_scan(buf, sizeof(buf), count_record, &n, &s);
	cr_assert_eq(n, 4);
	cr_assert_eq(s.status, RC_WAL_END);
	cr_assert_eq(s.stop_offset, end);
	cr_assert_eq(s.end_offset, end);
	cr_assert_eq(s.last_sync_end, end);
	cr_assert_not(s.rolled);
	/* The data ends exactly after the records: rolled over. */
	rc_wal_scan(buf, end, NULL, NULL, &s);
	cr_assert_eq(s.status, RC_WAL_OK);
	cr_assert(s.rolled);
	/* A rest shorter than a header: zeroes roll over, anything else is cut short. */
	rc_wal_scan(buf, end + 24, NULL, NULL, &s);
	cr_assert(s.rolled);
	cr_assert_eq(s.status, RC_WAL_OK);
	buf[end + 3] = 9;
	rc_wal_scan(buf, end + 24, NULL, NULL, &s);
	cr_assert_eq(s.status, RC_WAL_SHORT);
	cr_assert_eq(s.stop_offset, end);
	buf[end + 3] = 0;
	/* A ROLL record ends the segment's data. */
	rc_wal_encode_roll(buf + end);
	rc_wal_scan(buf, sizeof(buf), NULL, NULL, &s);
	cr_assert(s.rolled);
	cr_assert_eq(s.status, RC_WAL_OK);
	cr_assert_eq(s.stop_offset, end);
	cr_assert_eq(s.end_offset, end + RC_WAL_RECORD_HEADER_BYTES);
	/* Damage in the second entry. */
	buf[40 + 33] ^= 4;
	n = 0;
	rc_wal_scan(buf, sizeof(buf), count_record, &n, &s);
	cr_assert_eq(n, 1);
	cr_assert_eq(s.status, RC_WAL_BAD_CRC);
	cr_assert_eq(s.stop_offset, 40);
	cr_assert_eq(s.last_sync_end, 0);
	cr_assert(rc_wal_sync_after(buf, sizeof(buf), 48));
	cr_assert_not(rc_wal_sync_after(buf, sizeof(buf), end - 48));
	buf[40 + 33] ^= 4;
	/* A callback that stops. */
	n = 0;
	rc_wal_scan(buf, sizeof(buf), stop_at_sync, &n, &s);
	cr_assert_eq(n, 3);
	cr_assert_eq(s.status, RC_WAL_OK);
	cr_assert_not(s.rolled);
	cr_assert_eq(s.stop_offset, 80);
	cr_assert_eq(s.last_sync_end, 0);
}

/* ---- Replay rules ---------------------------------------------------------------------------- */

/* Replays an ENTRY record of index at term. */
static enum rc_wal_status
replay_entry(struct rc_wal_replay *rp, uint64_t index, uint64_t term)
{
	struct rc_wal_record rec = { .type = RC_WAL_ENTRY, .index = index, .term = term };

	return rc_wal_replay_record(rp, &rec);
}

/* Replays a SYNC record: log end last/last_term, hard state {term, commit, vote}. */
static enum rc_wal_status
replay_sync(struct rc_wal_replay *rp, uint64_t last, uint64_t last_term, uint64_t term,
	    uint64_t commit, uint16_t vote)
{
	struct rc_wal_record rec = {
		.type = RC_WAL_SYNC,
		.len = RC_WAL_SYNC_PAYLOAD_BYTES,
		.index = last,
		.term = last_term,
		.hs = { .term = term, .commit = commit, .vote = vote },
	};

	return rc_wal_replay_record(rp, &rec);
}

Test(wal_replay, appends_and_syncs)
{
	struct rc_wal_replay rp;

	rc_wal_replay_init(&rp);
	cr_assert_eq(rp.first_index, 1);
	cr_assert_eq(replay_sync(&rp, 0, 0, 3, 0, 2), RC_WAL_OK); /* hard state only */
	cr_assert_eq(rp.hs.term, 3);
	cr_assert_eq(rp.hs.vote, 2);
	for (uint64_t i = 1; i <= 4; i++)
		cr_assert_eq(replay_entry(&rp, i, i < 3 ? 1 : 3), RC_WAL_OK);
	cr_assert_eq(rp.last_index, 4);
	cr_assert_eq(rp.synced_last, 0);
	cr_assert_eq(replay_sync(&rp, 4, 3, 3, 2, 2), RC_WAL_OK);
	cr_assert_eq(rp.synced_last, 4);
	cr_assert_eq(rp.synced_term, 3);
	cr_assert_eq(rp.entries, 4);
	cr_assert_eq(rp.syncs, 2);
	cr_assert_eq(rc_wal_replay_record(&rp, &(struct rc_wal_record){ .type = RC_WAL_ROLL }),
		     RC_WAL_OK);
	cr_assert_eq(rc_wal_replay_record(&rp, &(struct rc_wal_record){ .type = 9 }),
		     RC_WAL_BAD_TYPE);
}

Test(wal_replay, refuses_what_cannot_follow)
{
	struct rc_wal_replay rp;

	rc_wal_replay_init(&rp);
	cr_assert_eq(replay_entry(&rp, 0, 1), RC_WAL_BAD_SEQUENCE); /* index 0 */
	cr_assert_eq(replay_entry(&rp, 2, 1), RC_WAL_BAD_SEQUENCE); /* a gap */
	cr_assert_eq(replay_entry(&rp, 1, 0), RC_WAL_BAD_SEQUENCE); /* term 0 */
	cr_assert_eq(replay_entry(&rp, 1, 2), RC_WAL_OK);
	cr_assert_eq(replay_entry(&rp, 2, 1), RC_WAL_BAD_SEQUENCE); /* term going back */
	cr_assert_eq(replay_entry(&rp, 4, 2), RC_WAL_BAD_SEQUENCE); /* a gap */
	cr_assert_eq(replay_entry(&rp, 2, 2), RC_WAL_OK);
	/* SYNC: not at the log's end, the wrong last term, a term below the last entry's, a
	 * commit past the end, a vote past the last node id, a term going back. */
	cr_assert_eq(replay_sync(&rp, 1, 2, 2, 0, 0), RC_WAL_BAD_SEQUENCE);
	cr_assert_eq(replay_sync(&rp, 3, 2, 2, 0, 0), RC_WAL_BAD_SEQUENCE);
	cr_assert_eq(replay_sync(&rp, 2, 1, 2, 0, 0), RC_WAL_BAD_SEQUENCE);
	cr_assert_eq(replay_sync(&rp, 2, 2, 1, 0, 0), RC_WAL_BAD_SEQUENCE);
	cr_assert_eq(replay_sync(&rp, 2, 2, 2, 3, 0), RC_WAL_BAD_SEQUENCE);
	cr_assert_eq(replay_sync(&rp, 2, 2, 2, 0, RC_NODE_ID_MAX + 1), RC_WAL_BAD_SEQUENCE);
	cr_assert_eq(rp.syncs, 0);
	cr_assert_eq(replay_sync(&rp, 2, 2, 5, 1, 1), RC_WAL_OK);
	cr_assert_eq(replay_sync(&rp, 2, 2, 4, 1, 1), RC_WAL_BAD_SEQUENCE);
	cr_assert_eq(replay_sync(&rp, 2, 2, 5, 2, 0), RC_WAL_OK);
}

Test(wal_replay, truncation_replaces_the_tail_but_never_committed_entries)
{
	struct rc_wal_replay rp;

	rc_wal_replay_init(&rp);
	for (uint64_t i = 1; i <= 10; i++)
		cr_assert_eq(replay_entry(&rp, i, 1), RC_WAL_OK);
	cr_assert_eq(replay_sync(&rp, 10, 1, 1, 3, 0), RC_WAL_OK);
	/* Entries 1..3 are committed: replacing one is out of sequence. */
	cr_assert_eq(replay_entry(&rp, 3, 2), RC_WAL_BAD_SEQUENCE);
	cr_assert_eq(replay_entry(&rp, 1, 2), RC_WAL_BAD_SEQUENCE);
	cr_assert_eq(rp.truncations, 0);
	/* Entry 6 at term 2 replaces 6..10. */
	cr_assert_eq(replay_entry(&rp, 6, 2), RC_WAL_OK);
	cr_assert_eq(rp.truncations, 1);
	cr_assert_eq(rp.last_index, 6);
	cr_assert_eq(rp.last_term, 2);
	cr_assert_eq(replay_entry(&rp, 7, 2), RC_WAL_OK);
	cr_assert_eq(replay_entry(&rp, 8, 2), RC_WAL_OK);
	/* The old end is gone: a SYNC naming it is out of sequence. */
	cr_assert_eq(replay_sync(&rp, 10, 1, 2, 3, 0), RC_WAL_BAD_SEQUENCE);
	cr_assert_eq(replay_sync(&rp, 8, 2, 2, 3, 0), RC_WAL_OK);
	cr_assert_eq(rp.synced_last, 8);
	cr_assert_eq(rp.synced_term, 2);
}

/* ---- The log on disk ------------------------------------------------------------------------- */

TestSuite(wal_disk, .init = dir_make, .fini = dir_remove);

Test(wal_disk, bad_configuration_is_refused)
{
	struct rc_wal_config cfg;
	struct rc_wal *w = NULL;
	char err[ERR_BYTES] = "";

	rc_wal_config_default(&cfg, dir);
	cfg.segment_bytes = 4096; /* cannot hold a largest entry */
	cr_assert_eq(rc_wal_open(&cfg, &w, err, sizeof(err)), -EINVAL);
	cr_assert_neq(err[0], '\0');
	rc_wal_config_default(&cfg, dir);
	cfg.segment_bytes = SMALL_SEG_BYTES + 100;
	cr_assert_eq(rc_wal_open(&cfg, &w, err, sizeof(err)), -EINVAL);
	rc_wal_config_default(&cfg, dir);
	cfg.ring_bytes = 3u << 16;
	cr_assert_eq(rc_wal_open(&cfg, &w, err, sizeof(err)), -EINVAL);
	cr_assert_null(w);
}

Test(wal_disk, empty_directory_opens_empty)
{
	struct rc_wal *w = wal_open_ok(SEG_BYTES, false);
	const struct rc_wal_info *info = rc_wal_info(w);

	cr_assert_eq(info->first_index, 1);
	cr_assert_eq(info->last_index, 0);
	cr_assert_eq(info->hs.term, 0);
	cr_assert_eq(info->segments, 0);
	cr_assert_eq(info->dropped_reason[0], '\0');
	rc_wal_close(w);
	/* Started and closed with nothing written: still empty. */
	w = wal_open_ok(SEG_BYTES, true);
	rc_wal_close(w);
	w = wal_open_ok(SEG_BYTES, false);
	cr_assert_eq(rc_wal_info(w)->last_index, 0);
	cr_assert_eq(rc_wal_info(w)->dropped_reason[0], '\0');
	rc_wal_close(w);
}

Test(wal_disk, entries_and_hard_state_survive_reopen)
{
	static struct model m;
	struct rc_wal *w = wal_open_ok(SEG_BYTES, true);
	struct rc_wal_stats st;
	uint64_t samples[4], ticket = 0;
	struct rc_raft_entry e;
	const void *payload;

	for (uint64_t first = 1; first <= 120; first += 8)
		ticket = write_entries(w, &m, first, first + 7, 3, first, 2);
	wait_durable(w, ticket);
	cr_assert_eq(rc_wal_error(w), 0);
	rc_wal_stats(w, &st);
	cr_assert_eq(st.writes, 15);
	cr_assert_geq(st.syncs, 1);
	cr_assert_leq(st.syncs, 15);
	cr_assert_eq(st.bytes, ticket);
	cr_assert_geq(rc_wal_sync_samples(w, samples, 4), 1);
	cr_assert_not(rc_wal_entry(w, 1, &e, &payload)); /* started: no recovered entries */
	rc_wal_close(w);

	w = reopen_check(SEG_BYTES, &m);
	cr_assert_eq(rc_wal_info(w)->dropped_reason[0], '\0');
	cr_assert_eq(rc_wal_info(w)->dropped_bytes, 0);
	cr_assert_gt(rc_wal_info(w)->bytes, 0);
	/* More after the reopen continues the same segment. */
	cr_assert_eq(rc_wal_start(w), 0);
	wait_durable(w, write_entries(w, &m, 121, 130, 4, 120, 0));
	rc_wal_close(w);
	w = reopen_check(SEG_BYTES, &m);
	rc_wal_close(w);
}

Test(wal_disk, segments_roll_and_recover)
{
	static struct model m;
	struct rc_wal *w = wal_open_ok(SMALL_SEG_BYTES, true);
	uint64_t ticket = 0;

	/* Writes of 1..23 entries, not waited for one by one (group commit). */
	for (uint64_t first = 1, k = 1; first <= 400; first += k, k = k % 23 + 1)
		ticket = write_entries(w, &m, first, first + k - 1 > 400 ? 400 : first + k - 1, 1,
				       first - 1, 1);
	/* One write (largest entries first) that crosses several segment ends at once. */
	ticket = write_entries(w, &m, 401, 450, 2, 400, 0);
	wait_durable(w, ticket);
	rc_wal_close(w);

	w = reopen_check(SMALL_SEG_BYTES, &m);
	cr_assert_geq(rc_wal_info(w)->segments, 8, "segments %" PRIu64, rc_wal_info(w)->segments);
	cr_assert_eq(rc_wal_info(w)->dropped_reason[0], '\0');
	cr_assert_eq(rc_wal_start(w), 0);
	for (uint64_t first = 451; first <= 600; first += 10)
		ticket = write_entries(w, &m, first, first + 9, 3, 450, 3);
	wait_durable(w, ticket);
	rc_wal_close(w);
	w = reopen_check(SMALL_SEG_BYTES, &m);
	rc_wal_close(w);
}

Test(wal_disk, raft_truncation_replaces_the_tail)
{
	static struct model m;
	struct rc_wal *w = wal_open_ok(SEG_BYTES, true);

	write_entries(w, &m, 1, 10, 1, 3, 1);
	wait_durable(w, write_entries(w, &m, 6, 8, 2, 3, 0));
	rc_wal_close(w);
	cr_assert_eq(m.last, 8);
	w = reopen_check(SEG_BYTES, &m);
	cr_assert_eq(rc_wal_info(w)->last_term, 2);
	cr_assert_eq(rc_wal_info(w)->dropped_reason[0], '\0');
	cr_assert_eq(rc_wal_start(w), 0);
	wait_durable(w, write_entries(w, &m, 9, 12, 2, 8, 0));
	rc_wal_close(w);
	w = reopen_check(SEG_BYTES, &m);
	rc_wal_close(w);
}

/*
 * A truncation whose SYNC records never made it: the log is the one before it, entries 6..10 at
 * term 1 with their old payloads (recovery must not use the replacing records).
 */
Test(wal_disk, unsynced_truncation_keeps_the_old_entries)
{
	static struct model m, before;
	static struct rec_list l;
	struct rc_wal *w = wal_open_ok(SEG_BYTES, true);
	char path[128];

	wait_durable(w, write_entries(w, &m, 1, 10, 1, 3, 1));
	before = m;
	wait_durable(w, write_entries(w, &m, 6, 8, 2, 3, 0));
	rc_wal_close(w);
	seg_records(0, &l);
	seg_path(path, sizeof(path), 0);
	file_zero(path, rec_last(&l, RC_WAL_SYNC, 1)->off, rec_last(&l, RC_WAL_SYNC, 0)->end);

	w = reopen_check(SEG_BYTES, &before);
	cr_assert_neq(rc_wal_info(w)->dropped_reason[0], '\0');
	cr_assert(strstr(rc_wal_info(w)->dropped_reason, "3 entry records") != NULL, "%s",
		  rc_wal_info(w)->dropped_reason);
	rc_wal_close(w);
}

/* Writes junk after the last SYNC of two_writes() and checks it is dropped and zeroed. */
static void
torn_tail_case(const void *junk, size_t junk_bytes)
{
	static struct model m;
	static struct rec_list l;
	struct rc_wal *w;
	char path[128];
	uint64_t cut;

	two_writes(&m);
	seg_records(0, &l);
	cut = rec_last(&l, RC_WAL_SYNC, 0)->end;
	seg_path(path, sizeof(path), 0);
	file_write_at(path, cut, junk, junk_bytes);

	w = reopen_check(SEG_BYTES, &m);
	cr_assert_neq(rc_wal_info(w)->dropped_reason[0], '\0');
	cr_assert(strstr(rc_wal_info(w)->dropped_reason, "wal-0000000000000000.seg") != NULL, "%s",
		  rc_wal_info(w)->dropped_reason);
	cr_assert_gt(rc_wal_info(w)->dropped_bytes, 0);
	check_zero(path, cut, cut + junk_bytes);
	rc_wal_close(w);
	/* The second reopen finds a clean log. */
	w = reopen_check(SEG_BYTES, &m);
	cr_assert_eq(rc_wal_info(w)->dropped_reason[0], '\0', "%s", rc_wal_info(w)->dropped_reason);
	cr_assert_eq(rc_wal_info(w)->dropped_bytes, 0);
	/* And takes more. */
	cr_assert_eq(rc_wal_start(w), 0);
	wait_durable(w, write_entries(w, &m, 10, 14, 2, 9, 0));
	rc_wal_close(w);
	w = reopen_check(SEG_BYTES, &m);
	cr_assert_eq(rc_wal_info(w)->dropped_reason[0], '\0');
	rc_wal_close(w);
}

Test(wal_disk, torn_tail_of_garbage_is_dropped_and_zeroed)
{
	uint8_t junk[300];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 73 + 5);
	torn_tail_case(junk, sizeof(junk));
}

Test(wal_disk, torn_tail_of_a_partial_record_is_dropped_and_zeroed)
{
	static uint8_t rec[RC_WAL_RECORD_HEADER_BYTES + 200];
	struct rc_raft_entry e = { .term = 2, .bytes = 200, .type = RC_ENTRY_NORMAL };
	uint8_t payload[200];

	memset(payload, 0x5a, sizeof(payload));
	rc_wal_encode_entry(rec, 10, &e, payload);
	torn_tail_case(rec, RC_WAL_RECORD_HEADER_BYTES + 100); /* the rest never reached disk */
}

Test(wal_disk, a_write_cut_mid_record_is_dropped)
{
	static struct model m;
	static struct rec_list l;
	const struct rec_loc *r;
	struct rc_wal *w;
	char path[128];

	two_writes(&m);
	seg_records(0, &l);
	r = rec_entry(&l, 7);
	seg_path(path, sizeof(path), 0);
	/* Entry 7's second half and everything after it never reached disk. */
	file_zero(path, r->off + (r->end - r->off) / 2, rec_last(&l, RC_WAL_SYNC, 0)->end);
	first_write_only(&m);
	w = reopen_check(SEG_BYTES, &m);
	cr_assert(strstr(rc_wal_info(w)->dropped_reason, rc_wal_strerror(RC_WAL_BAD_CRC)) != NULL,
		  "%s", rc_wal_info(w)->dropped_reason);
	rc_wal_close(w);
	w = reopen_check(SEG_BYTES, &m);
	cr_assert_eq(rc_wal_info(w)->dropped_reason[0], '\0');
	rc_wal_close(w);
}

Test(wal_disk, entries_whose_sync_records_are_cut_are_dropped)
{
	static struct model m;
	static struct rec_list l;
	struct rc_wal *w;
	char path[128];

	two_writes(&m);
	seg_records(0, &l);
	seg_path(path, sizeof(path), 0);
	file_zero(path, rec_last(&l, RC_WAL_SYNC, 1)->off, rec_last(&l, RC_WAL_SYNC, 0)->end);
	first_write_only(&m);
	w = reopen_check(SEG_BYTES, &m);
	cr_assert(strstr(rc_wal_info(w)->dropped_reason, "4 entry records") != NULL, "%s",
		  rc_wal_info(w)->dropped_reason);
	cr_assert_gt(rc_wal_info(w)->dropped_bytes, 0);
	rc_wal_close(w);
	check_zero(path, rec_entry(&l, 6)->off, rec_entry(&l, 9)->end);
}

/*
 * Flips one bit at file offset off of segment 0, inside the record at rec_off, and checks the
 * open is refused, naming the file, the record's offset and the reason, and changes nothing.
 */
static void
refused_case(uint64_t rec_off, uint64_t off, const char *reason)
{
	struct rc_wal *w = NULL;
	char path[128], err[ERR_BYTES], want[64];
	size_t before_len;
	uint8_t *before;

	seg_path(path, sizeof(path), 0);
	flip_bit(path, off, 3);
	before = dir_image(&before_len);
	cr_assert_eq(wal_open_dir(SEG_BYTES, &w, err), -EBADMSG, "%s", err);
	cr_assert_null(w);
	cr_assert(strstr(err, "wal-0000000000000000.seg") != NULL, "%s", err);
	snprintf(want, sizeof(want), "offset %" PRIu64 ":", rec_off);
	cr_assert(strstr(err, want) != NULL, "'%s' does not say '%s'", err, want);
	cr_assert(strstr(err, reason) != NULL, "'%s' does not say '%s'", err, reason);
	dir_unchanged(before, before_len);
	free(before);
}

Test(wal_disk, corruption_before_the_tail_is_refused_unchanged)
{
	static struct model m;
	static struct rec_list l;
	const struct rec_loc *r;

	two_writes(&m);
	seg_records(0, &l);
	/* Entry 3's payload (write 1, two writes' SYNC records follow). */
	r = rec_entry(&l, 3);
	refused_case(r->off, r->off + RC_WAL_RECORD_HEADER_BYTES + 1, "CRC32C mismatch");
}

Test(wal_disk, corruption_in_the_last_write_is_refused)
{
	static struct model m;
	static struct rec_list l;
	const struct rec_loc *r;

	two_writes(&m);
	seg_records(0, &l);
	/* Entry 7's term field (its SYNC records follow). */
	r = rec_entry(&l, 7);
	refused_case(r->off, r->off + 24, "CRC32C mismatch");
}

Test(wal_disk, damaged_first_sync_copy_is_refused)
{
	static struct model m;
	static struct rec_list l;

	two_writes(&m);
	seg_records(0, &l);
	const struct rec_loc *first_copy = rec_last(&l, RC_WAL_SYNC, 1);

	refused_case(first_copy->off, first_copy->off + 40, "CRC32C mismatch");
}

Test(wal_disk, damaged_second_sync_copy_loses_nothing)
{
	static struct model m;
	static struct rec_list l;
	struct rc_wal *w;
	char path[128];

	two_writes(&m);
	seg_records(0, &l);
	seg_path(path, sizeof(path), 0);
	flip_bit(path, rec_last(&l, RC_WAL_SYNC, 0)->off + 40, 0);
	w = reopen_check(SEG_BYTES, &m);
	cr_assert_neq(rc_wal_info(w)->dropped_reason[0], '\0');
	rc_wal_close(w);
	w = reopen_check(SEG_BYTES, &m);
	cr_assert_eq(rc_wal_info(w)->dropped_reason[0], '\0');
	cr_assert_eq(rc_wal_start(w), 0);
	wait_durable(w, write_entries(w, &m, 10, 11, 1, 9, 1));
	rc_wal_close(w);
	w = reopen_check(SEG_BYTES, &m);
	rc_wal_close(w);
}

/* Fills several small segments; returns the highest segment number in the directory. */
static uint64_t
several_segments(struct model *m)
{
	struct rc_wal *w = wal_open_ok(SMALL_SEG_BYTES, true);
	uint64_t ticket = 0, top = 0;
	char path[128];

	memset(m, 0, sizeof(*m));
	for (uint64_t first = 1; first <= 160; first += 8)
		ticket = write_entries(w, m, first, first + 7, 1, first - 1, 1);
	wait_durable(w, ticket);
	rc_wal_close(w);
	for (;;) {
		seg_path(path, sizeof(path), top + 1);
		if (access(path, F_OK) != 0)
			break;
		top++;
	}
	cr_assert_geq(top, 3, "only %" PRIu64 " segments", top + 1);
	return top;
}

/* Opens expecting a refusal that names file and says why; the directory is left unchanged. */
static void
refused_names(const char *file, const char *reason)
{
	struct rc_wal *w = NULL;
	char err[ERR_BYTES];
	size_t before_len;
	uint8_t *before = dir_image(&before_len);

	cr_assert_eq(wal_open_dir(SMALL_SEG_BYTES, &w, err), -EBADMSG, "%s", err);
	cr_assert(strstr(err, file) != NULL, "'%s' does not name %s", err, file);
	cr_assert(strstr(err, reason) != NULL, "'%s' does not say '%s'", err, reason);
	dir_unchanged(before, before_len);
	free(before);
}

Test(wal_disk, missing_middle_segment_is_refused)
{
	static struct model m;
	char path[128];

	several_segments(&m);
	seg_path(path, sizeof(path), 1);
	cr_assert_eq(unlink(path), 0);
	refused_names("wal-0000000000000002.seg", "missing");
}

Test(wal_disk, damaged_segment_header_is_refused)
{
	static struct model m;
	char path[128];

	several_segments(&m);
	seg_path(path, sizeof(path), 1);
	flip_bit(path, 20, 1); /* the segment number */
	refused_names("wal-0000000000000001.seg", "segment header");
}

Test(wal_disk, damaged_header_of_the_last_segment_is_refused)
{
	static struct model m;
	uint64_t top = several_segments(&m);
	char path[128], name[64];

	seg_path(path, sizeof(path), top);
	flip_bit(path, 2, 0); /* the magic */
	snprintf(name, sizeof(name), "wal-%016" PRIx64 ".seg", top);
	refused_names(name, "magic");
}

/* Corruption in an early segment with durable writes in later ones. */
Test(wal_disk, corruption_in_an_earlier_segment_is_refused)
{
	static struct model m;
	static struct rec_list l;
	char path[128];

	several_segments(&m);
	seg_records(0, &l);
	seg_path(path, sizeof(path), 0);
	flip_bit(path, l.r[l.n / 2].off + 30, 6);
	refused_names("wal-0000000000000000.seg", "CRC32C mismatch");
}

/* The highest segment holding a valid SYNC record; its records in *l. */
static uint64_t
last_sync_segment(uint64_t top, struct rec_list *l)
{
	for (uint64_t n = top + 1; n-- > 0;) {
		seg_records(n, l);
		for (uint32_t k = 0; k < l->n; k++)
			if (l->r[k].type == RC_WAL_SYNC)
				return n;
	}
	cr_assert_fail("no SYNC record in any segment");
	return 0;
}

/*
 * A write of largest entries spans three segments or more; its SYNC records never reached disk.
 * Everything it wrote, in every segment, is dropped and zeroed, and the log goes on from the
 * previous write's end.
 */
Test(wal_disk, torn_write_across_segments_is_dropped_everywhere)
{
	static struct model m, before;
	static struct rec_list l;
	struct rc_wal *w = wal_open_ok(SMALL_SEG_BYTES, true);
	uint64_t top = 0, cut_seg, last_seg;
	char path[128];

	for (uint64_t first = 1; first <= 400; first += 40)
		write_entries(w, &m, first, first + 39, 1, first - 1, 1);
	wait_durable(w, write_entries(w, &m, 401, 401, 1, 400, 1));
	before = m;
	wait_durable(w, write_entries(w, &m, 402, 405, 2, 401, 0));
	rc_wal_close(w);
	for (;;) {
		seg_path(path, sizeof(path), top + 1);
		if (access(path, F_OK) != 0)
			break;
		top++;
	}
	last_seg = last_sync_segment(top, &l);
	seg_path(path, sizeof(path), last_seg);
	file_zero(path, rec_last(&l, RC_WAL_SYNC, 1)->off, rec_last(&l, RC_WAL_SYNC, 0)->end);
	cut_seg = last_sync_segment(top, &l);
	cr_assert_geq(last_seg, cut_seg + 2, "the write spans %" PRIu64 " segments",
		      last_seg - cut_seg + 1);

	w = reopen_check(SMALL_SEG_BYTES, &before);
	cr_assert(strstr(rc_wal_info(w)->dropped_reason, "4 entry records") != NULL, "%s",
		  rc_wal_info(w)->dropped_reason);
	rc_wal_close(w);
	seg_path(path, sizeof(path), cut_seg);
	check_zero(path, rec_last(&l, RC_WAL_SYNC, 0)->end,
		   RC_WAL_SEGMENT_HEADER_BYTES + SMALL_SEG_BYTES);
	for (uint64_t n = cut_seg + 1; n <= top; n++) {
		seg_path(path, sizeof(path), n);
		check_zero(path, RC_WAL_SEGMENT_HEADER_BYTES,
			   RC_WAL_SEGMENT_HEADER_BYTES + SMALL_SEG_BYTES);
	}
	m = before;
	w = reopen_check(SMALL_SEG_BYTES, &m);
	cr_assert_eq(rc_wal_info(w)->dropped_reason[0], '\0');
	cr_assert_eq(rc_wal_start(w), 0);
	wait_durable(w, write_entries(w, &m, 402, 420, 3, 401, 0));
	rc_wal_close(w);
	w = reopen_check(SMALL_SEG_BYTES, &m);
	rc_wal_close(w);
}

/*
 * A segment created ahead whose header never reached disk (empty, or preallocated zeroes): a
 * crash inside segment creation. The log opens, and the segment is finished when needed.
 */
Test(wal_disk, unfinished_last_segment_is_reused)
{
	static struct model m;
	uint64_t top = several_segments(&m), ticket = 0;
	struct rc_wal *w;
	char path[128];

	seg_path(path, sizeof(path), top + 1);
	int fd = open(path, O_CREAT | O_WRONLY, 0644);

	cr_assert_geq(fd, 0);
	close(fd);
	w = reopen_check(SMALL_SEG_BYTES, &m);
	rc_wal_close(w);
	cr_assert_eq(truncate(path, RC_WAL_SEGMENT_HEADER_BYTES + SMALL_SEG_BYTES), 0);
	w = reopen_check(SMALL_SEG_BYTES, &m);
	cr_assert_eq(rc_wal_start(w), 0);
	for (uint64_t first = m.last + 1; first <= 400; first += 8)
		ticket = write_entries(w, &m, first, first + 7, 2, first - 1, 0);
	wait_durable(w, ticket);
	rc_wal_close(w);
	w = reopen_check(SMALL_SEG_BYTES, &m);
	cr_assert_eq(rc_wal_info(w)->dropped_reason[0], '\0');
	rc_wal_close(w);
}

Test(wal_disk, hard_state_alone_persists)
{
	static struct model m;
	struct rc_wal *w = wal_open_ok(SEG_BYTES, true);

	wait_durable(w, write_entries(w, &m, 1, 0, 5, 0, 2));
	rc_wal_close(w);
	w = reopen_check(SEG_BYTES, &m);
	cr_assert_eq(rc_wal_info(w)->hs.term, 5);
	cr_assert_eq(rc_wal_info(w)->hs.vote, 2);
	cr_assert_eq(rc_wal_info(w)->last_index, 0);
	cr_assert_eq(rc_wal_start(w), 0);
	wait_durable(w, write_entries(w, &m, 1, 0, 6, 0, 0));
	wait_durable(w, write_entries(w, &m, 1, 3, 6, 0, 0));
	wait_durable(w, write_entries(w, &m, 4, 3, 7, 3, 3)); /* a vote after entries */
	rc_wal_close(w);
	w = reopen_check(SEG_BYTES, &m);
	cr_assert_eq(rc_wal_info(w)->hs.term, 7);
	cr_assert_eq(rc_wal_info(w)->hs.vote, 3);
	cr_assert_eq(rc_wal_info(w)->last_index, 3);
	cr_assert_eq(rc_wal_info(w)->last_term, 6);
	rc_wal_close(w);
}

/* A write larger than the staging ring can never be handed over: a programmer error. */
Test(wal_disk, write_larger_than_the_ring_aborts, .signal = SIGABRT)
{
	static uint8_t buf[RC_ENTRY_BYTES_MAX];
	struct rc_wal_config cfg;
	struct rc_wal *w = NULL;
	char err[ERR_BYTES];
	struct rc_raft_entry e = { .term = 1, .bytes = RC_ENTRY_BYTES_MAX };

	rc_wal_config_default(&cfg, dir);
	cfg.ring_bytes = 1u << 16;
	cr_assert_eq(rc_wal_open(&cfg, &w, err, sizeof(err)), 0, "%s", err);
	dir_remove(); /* nothing is written before rc_wal_start(): leave nothing behind */
	for (uint64_t i = 1; i <= 9; i++)
		rc_wal_append(w, i, &e, buf);
}
