/*
 * The write-ahead log on disk (see wal.h): recovery of the segment files, and a storage thread
 * that writes what the node hands over and makes it durable with one fdatasync per round (group
 * commit).
 *
 * The node and the storage thread share a byte ring that holds the exact image of the segments'
 * data: stream position p is byte p % segment_bytes of segment base_seg + p / segment_bytes.
 * The node encodes records into the ring (a record that does not fit its segment's rest is
 * preceded by a ROLL record and zeroes up to the segment's end), publishes the end of each write,
 * and learns which writes are durable from the position the storage thread publishes back. The
 * node thread never makes a system call on this path, except a futex wake when the storage
 * thread sleeps for want of work.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <replicore/assert.h>
#include <replicore/wal.h>

#include "../wire/wire_le.h"
#include "storage_err.h"

#define WAL_PATH_MAX 4096
/* Segments tracked for compaction; past this many, the oldest stays on disk untracked. */
#define WAL_LIVE_MAX 4096u
_Static_assert(RC_ENTRY_BYTES_MAX % RC_WAL_ALIGN == 0, "a largest entry needs no padding");
_Static_assert(RC_WAL_SEGMENT_DATA_MIN >= RC_WAL_RECORD_HEADER_BYTES + RC_ENTRY_BYTES_MAX +
					       RC_WAL_WRITE_OVERHEAD,
	       "a segment holds a largest entry and a write's SYNC records");

/* A recovered entry's place: segment (in segs[]) << 40 | offset of its record. */
#define WAL_LOC(seg, off) ((uint64_t)(seg) << 40 | (uint64_t)(off))

struct wal_segment {
	uint64_t number;
	uint64_t last_index; /* last entry (or snapshot record) it holds; 0: none */
	int fd;
	const uint8_t *map; /* recovery only */
	size_t map_bytes;
};

struct rc_wal {
	struct rc_wal_config cfg;
	char dir[WAL_PATH_MAX];
	int dirfd;
	int lockfd; /* flock()ed for the log's life */
	struct rc_wal_info info;
	uint64_t data_bytes; /* per segment */
	/* Recovery: the segments found, and where each entry first..last lives. */
	struct wal_segment *segs;
	uint32_t seg_count;
	uint64_t *loc;
	uint64_t loc_cap;
	/* The stream: position 0 is the start of segment base_seg's data. */
	uint64_t base_seg;
	uint8_t *ring;
	uint64_t ring_mask;
	/* Node side. */
	uint64_t prod; /* bytes encoded */
	/* Live segments, oldest first, with their last entry index: what compaction may drop. */
	struct {
		uint64_t number, last_index;
	} live[WAL_LIVE_MAX];
	uint64_t live_head, live_tail;
	uint64_t prod_seg; /* the segment prod is in */
	uint64_t seg_left; /* bytes left in the segment prod is in */
	/* Storage thread side. */
	uint64_t written;
	int cur_fd;	      /* segment the thread writes */
	uint64_t cur_seg;     /* its number */
	int next_fd;	      /* the following segment, created ahead */
	uint64_t next_filled; /* bytes of its data zero-filled so far */
	int prev_fd;	      /* a segment finished in this round, synced with it */
	pthread_t thread;
	bool started;
	/* Shared. */
	_Alignas(64) _Atomic uint64_t published;
	_Atomic uint32_t sleeping;
	_Atomic uint32_t wake_seq;
	_Atomic bool stop;
	_Alignas(64) _Atomic uint64_t durable;
	_Atomic int error;
	_Atomic uint64_t st_writes, st_syncs, st_bytes, st_ring_waits, st_deleted;
	/* Compaction: the thread deletes segments below delete_below, from deleted_next on. */
	_Atomic uint64_t delete_below;
	uint64_t deleted_next;
	uint64_t *samples; /* RC_WAL_SYNC_SAMPLES */
	_Atomic uint64_t sample_count;
};

static uint64_t
wal_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Starts tracking segment number for compaction (the oldest drops out when the table is full). */
static void
wal_live_push(struct rc_wal *w, uint64_t number)
{
	if (w->live_tail - w->live_head == WAL_LIVE_MAX)
		w->live_head++;
	w->live[w->live_tail % WAL_LIVE_MAX].number = number;
	w->live[w->live_tail % WAL_LIVE_MAX].last_index = 0;
	w->live_tail++;
}

/* Fills cfg with defaults: 64 MiB segments, a 32 MiB staging ring. */
void
rc_wal_config_default(struct rc_wal_config *cfg, const char *dir)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->dir = dir;
	cfg->segment_bytes = 64ull << 20;
	cfg->ring_bytes = 32ull << 20;
	cfg->cpu = -1;
}

static void
wal_seg_name(char *buf, size_t len, uint64_t number)
{
	snprintf(buf, len, "wal-%016" PRIx64 ".seg", number);
}

/* Creates segment number, preallocated, header written and synced, directory synced. */
static int
wal_seg_create(struct rc_wal *w, uint64_t number)
{
	char name[64];
	uint8_t h[RC_WAL_SEGMENT_HEADER_BYTES];
	int fd;

	wal_seg_name(name, sizeof(name), number);
	fd = openat(w->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST)
		fd = openat(w->dirfd, name, O_RDWR | O_CLOEXEC); /* created ahead before a crash */
	if (fd < 0)
		return -errno;
	rc_wal_segment_header_encode(h, number, w->data_bytes);
	/* posix_fallocate() returns its error; the others set errno. */
	int e = posix_fallocate(fd, 0, (off_t)(RC_WAL_SEGMENT_HEADER_BYTES + w->data_bytes));

	if (e == 0 && (pwrite(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) || fdatasync(fd) != 0 ||
		       fsync(w->dirfd) != 0))
		e = errno != 0 ? errno : EIO;
	if (e != 0) {
		close(fd);
		return -e;
	}
	return fd;
}

/* ---- Recovery ------------------------------------------------------------------------------ */

static int
wal_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Lists the segment numbers in the directory, sorted. Returns the count or -errno. */
static int
wal_list(struct rc_wal *w, uint64_t **out)
{
	DIR *d = fdopendir(dup(w->dirfd));
	struct dirent *de;
	uint64_t *v = NULL;
	int n = 0, cap = 0;

	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		uint64_t num;

		if (!rc_wal_parse_segment_name(de->d_name, &num))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			uint64_t *nv = realloc(v, (size_t)cap * sizeof(*v));

			if (nv == NULL) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = num;
	}
	closedir(d);
	if (n > 0)
		qsort(v, (size_t)n, sizeof(*v), wal_cmp_u64);
	*out = v;
	return n;
}

/* Recovery's per-record callback: replays, and notes where each entry lives. */
struct wal_recover_ctx {
	struct rc_wal *w;
	struct rc_wal_replay rp;
	uint32_t seg;
	enum rc_wal_status failed;
	uint64_t failed_offset;
	uint64_t stop_seg, stop_off;  /* replay up to here only (second pass); UINT64_MAX: all */
	uint64_t truncations_at_sync; /* rp.truncations at the last SYNC record */
	uint64_t entries_at_sync;     /* rp.entries at the last SYNC record */
};

static bool
wal_recover_record(void *arg, const struct rc_wal_record *rec, uint64_t offset)
{
	struct wal_recover_ctx *c = arg;
	struct rc_wal *w = c->w;
	enum rc_wal_status st;

	if (c->seg > c->stop_seg || (c->seg == c->stop_seg && offset >= c->stop_off))
		return false;
	st = rc_wal_replay_record(&c->rp, rec);
	if (st != RC_WAL_OK) {
		c->failed = st;
		c->failed_offset = offset;
		return false;
	}
	if (rec->type == RC_WAL_SYNC) {
		c->truncations_at_sync = c->rp.truncations;
		c->entries_at_sync = c->rp.entries;
	}
	if (rec->type == RC_WAL_ENTRY || rec->type == RC_WAL_SNAPSHOT)
		w->segs[c->seg].last_index = rec->index;
	if (rec->type != RC_WAL_ENTRY || rec->index <= c->rp.base_index)
		return true; /* entries the snapshot covers are not read again */
	uint64_t slot = rec->index - c->rp.base_index - 1;

	if (slot >= w->loc_cap) {
		uint64_t cap = w->loc_cap ? w->loc_cap * 2 : 1u << 16;
		uint64_t *nl = realloc(w->loc, cap * sizeof(*nl));

		if (nl == NULL) {
			c->failed = RC_WAL_STATUS_COUNT; /* out of memory */
			return false;
		}
		w->loc = nl;
		w->loc_cap = cap;
	}
	w->loc[slot] = WAL_LOC(c->seg, offset);
	return true;
}

/* True when p[0..n) holds only zero bytes. */
static bool
wal_all_zero(const uint8_t *p, size_t n)
{
	static const uint8_t zero[4096];

	for (size_t off = 0; off < n; off += sizeof(zero))
		if (memcmp(p + off, zero, n - off < sizeof(zero) ? n - off : sizeof(zero)) != 0)
			return false;
	return true;
}

/*
 * Maps segment i read-only and checks its header; returns 0, -errno / -EBADMSG, or 1 for an
 * unfinished last segment (all zeroes or empty: wal_seg_create() finishes it when it comes).
 */
static int
wal_recover_map(struct rc_wal *w, uint32_t i, char *err, size_t errlen)
{
	struct wal_segment *s = &w->segs[i];
	char name[64];
	struct stat st;
	uint64_t data_bytes;
	const char *why;

	wal_seg_name(name, sizeof(name), s->number);
	s->fd = openat(w->dirfd, name, O_RDWR | O_CLOEXEC);
	if (s->fd < 0 || fstat(s->fd, &st) != 0) {
		storage_err(err, errlen, "%s/%s: open: %s", w->dir, name, strerror(errno));
		return -errno;
	}
	s->map_bytes = (size_t)st.st_size;
	s->map = s->map_bytes == 0 ? NULL :
				     mmap(NULL, s->map_bytes, PROT_READ, MAP_SHARED, s->fd, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		storage_err(err, errlen, "%s/%s: mmap: %s", w->dir, name, strerror(errno));
		return -errno;
	}
	/* Recovery reads it front to back, once: read ahead (a cold 1 GiB log starts faster). */
	if (s->map != NULL)
		madvise((void *)s->map, s->map_bytes, MADV_WILLNEED);
	why = rc_wal_segment_header_check(s->map, s->map_bytes, s->number, &data_bytes);
	if (why != NULL && i + 1 == w->seg_count && wal_all_zero(s->map, s->map_bytes))
		return 1; /* created ahead, the crash came before its header was synced */
	if (why == NULL && i > 0 && s->number != w->segs[i - 1].number + 1)
		why = "a segment is missing before this one";
	if (why == NULL && i > 0 && data_bytes != w->data_bytes)
		why = "segment data size differs from the previous segment's";
	if (why != NULL) {
		storage_err(err, errlen, "%s/%s: offset 0: %s", w->dir, name, why);
		return -EBADMSG;
	}
	w->data_bytes = data_bytes;
	return 0;
}

/* Zeroes every non-zero 4 KiB page of segment i's data from offset on; returns 0 or -errno. */
static int
wal_zero_from(struct rc_wal *w, uint32_t i, uint64_t offset, uint64_t *zeroed)
{
	static const uint8_t zero[4096];
	const struct wal_segment *s = &w->segs[i];
	const uint8_t *data = s->map + RC_WAL_SEGMENT_HEADER_BYTES;
	bool dirty = false;

	while (offset < w->data_bytes) {
		uint64_t end = (offset / 4096 + 1) * 4096;

		if (end > w->data_bytes)
			end = w->data_bytes;
		if (memcmp(data + offset, zero, end - offset) != 0) {
			if (pwrite(s->fd, zero, end - offset,
				   (off_t)(RC_WAL_SEGMENT_HEADER_BYTES + offset)) !=
			    (ssize_t)(end - offset))
				return errno != 0 ? -errno : -EIO;
			*zeroed += end - offset;
			dirty = true;
		}
		offset = end;
	}
	return dirty && fdatasync(s->fd) != 0 ? -errno : 0;
}

/* Runs the replay over every segment up to (stop_seg, stop_off); fills *out. */
static void
wal_replay_all(struct rc_wal *w, uint64_t stop_seg, uint64_t stop_off, struct wal_recover_ctx *c,
	       struct rc_wal_scan *scans)
{
	memset(c, 0, sizeof(*c));
	c->w = w;
	c->stop_seg = stop_seg;
	c->stop_off = stop_off;
	rc_wal_replay_init(&c->rp);
	c->rp.base_index = w->cfg.base_index;
	for (uint32_t i = 0; i < w->seg_count; i++) {
		c->seg = i;
		rc_wal_scan(w->segs[i].map + RC_WAL_SEGMENT_HEADER_BYTES, w->data_bytes,
			    wal_recover_record, c, &scans[i]);
		if (c->failed != RC_WAL_OK || i >= stop_seg || !scans[i].rolled ||
		    scans[i].status != RC_WAL_OK)
			return;
	}
}

/*
 * Scans every segment: finds the last valid SYNC, refuses damage that a valid SYNC follows,
 * and drops (zeroes) what follows the last SYNC. Returns 0 or a negative errno.
 */
static int
wal_recover(struct rc_wal *w, char *err, size_t errlen)
{
	struct rc_wal_scan *scans = calloc(w->seg_count, sizeof(*scans));
	struct wal_recover_ctx c;
	uint64_t cut_seg = 0, cut_off = 0; /* end of the last valid SYNC */
	uint32_t stopped;
	char name[64];
	int rc = 0;

	if (scans == NULL)
		return -ENOMEM;
	wal_replay_all(w, UINT64_MAX, 0, &c, scans);
	for (stopped = 0; stopped < w->seg_count; stopped++) {
		if (scans[stopped].last_sync_end > 0) {
			cut_seg = stopped;
			cut_off = scans[stopped].last_sync_end;
		}
		if (c.failed != RC_WAL_OK && c.seg == stopped)
			break;
		if (!scans[stopped].rolled || scans[stopped].status != RC_WAL_OK)
			break;
	}
	if (stopped == w->seg_count)
		stopped = w->seg_count - 1;
	if (c.failed == RC_WAL_STATUS_COUNT) {
		storage_err(err, errlen, "%s: out of memory indexing the log", w->dir);
		rc = -ENOMEM;
		goto out;
	}
	/* Where the valid records stop: a damaged record, a bad sequence, or zeroes. */
	enum rc_wal_status why = c.failed != RC_WAL_OK ? c.failed : scans[stopped].status;
	uint64_t stop_off = c.failed != RC_WAL_OK ? c.failed_offset : scans[stopped].stop_offset;

	if (why != RC_WAL_OK) {
		bool durable_after = rc_wal_sync_after(w->segs[stopped].map +
							       RC_WAL_SEGMENT_HEADER_BYTES,
						       w->data_bytes, stop_off + RC_WAL_ALIGN);

		for (uint32_t j = stopped + 1; j < w->seg_count && !durable_after; j++)
			durable_after = rc_wal_sync_after(
				w->segs[j].map + RC_WAL_SEGMENT_HEADER_BYTES, w->data_bytes, 0);
		if (durable_after) {
			wal_seg_name(name, sizeof(name), w->segs[stopped].number);
			storage_err(err, errlen,
				    "%s/%s: offset %" PRIu64
				    ": %s, and durable records follow: the "
				    "log is corrupt (nothing was changed)",
				    w->dir, name, RC_WAL_SEGMENT_HEADER_BYTES + stop_off,
				    rc_wal_strerror(why));
			rc = -EBADMSG;
			goto out;
		}
		if (why != RC_WAL_END) {
			wal_seg_name(name, sizeof(name), w->segs[stopped].number);
			snprintf(w->info.dropped_reason, sizeof(w->info.dropped_reason),
				 "%s offset %" PRIu64 ": %s (a write that never finished)", name,
				 RC_WAL_SEGMENT_HEADER_BYTES + stop_off, rc_wal_strerror(why));
		}
	}
	/* Keep what the last SYNC closes. Entries after it past its end are simply not used; one
	 * that replaced an entry it covers moved that entry's place: replay again up to the cut. */
	uint64_t unsynced = c.rp.entries - c.entries_at_sync;

	if (unsynced > 0 && w->info.dropped_reason[0] == '\0')
		snprintf(w->info.dropped_reason, sizeof(w->info.dropped_reason),
			 "%" PRIu64 " entry records after the last SYNC record (a write that never "
			 "finished)",
			 unsynced);
	if (c.rp.truncations != c.truncations_at_sync) {
		wal_replay_all(w, cut_seg, cut_off, &c, scans);
		RC_ASSERT(c.failed == RC_WAL_OK);
	}
	/* Zero everything after the cut, so later writes never sit before stale records. */
	for (uint32_t j = (uint32_t)cut_seg; j < w->seg_count; j++) {
		rc = wal_zero_from(w, j, j == cut_seg ? cut_off : 0, &w->info.dropped_bytes);
		if (rc != 0) {
			wal_seg_name(name, sizeof(name), w->segs[j].number);
			storage_err(err, errlen, "%s/%s: zeroing the unsynced tail: %s", w->dir,
				    name, strerror(-rc));
			goto out;
		}
	}
	if (w->info.dropped_bytes > 0 && w->info.dropped_reason[0] == '\0')
		snprintf(w->info.dropped_reason, sizeof(w->info.dropped_reason),
			 "records after the last SYNC record (a write that never finished)");
	w->info.hs = c.rp.hs;
	w->info.first_index = w->cfg.base_index + 1;
	w->info.last_index = c.rp.synced_last;
	w->info.last_term = c.rp.synced_term;
	if (w->info.last_index <= w->cfg.base_index) {
		/* Nothing after the snapshot: the log is the snapshot's last entry. */
		w->info.last_index = w->cfg.base_index;
		w->info.last_term = w->cfg.base_term;
	}
	if (w->info.hs.term < w->info.last_term)
		w->info.hs.term = w->info.last_term;
	w->info.bytes = cut_seg * w->data_bytes + cut_off;
	w->base_seg = w->segs[cut_seg].number;
	w->prod = cut_off;
out:
	free(scans);
	return rc;
}

/* Opens and recovers the log; see wal.h. */
int
rc_wal_open(const struct rc_wal_config *cfg, struct rc_wal **out, char *err, size_t errlen)
{
	struct rc_wal *w;
	uint64_t *nums = NULL;
	uint64_t t0 = wal_now_ns();
	int n, rc;

	if (cfg->dir == NULL || strlen(cfg->dir) >= WAL_PATH_MAX ||
	    cfg->segment_bytes < RC_WAL_SEGMENT_DATA_MIN || cfg->segment_bytes % 4096 != 0 ||
	    cfg->segment_bytes > (1ull << 40) || cfg->ring_bytes < (1u << 16) ||
	    (cfg->ring_bytes & (cfg->ring_bytes - 1)) != 0) {
		storage_err(err, errlen,
			    "wal: bad configuration (segment_bytes a multiple of 4096 and >= %u, "
			    "ring_bytes a power of two >= 64 KiB)",
			    RC_WAL_SEGMENT_DATA_MIN);
		return -EINVAL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->cfg = *cfg;
	snprintf(w->dir, sizeof(w->dir), "%s", cfg->dir);
	w->cfg.dir = w->dir;
	w->data_bytes = cfg->segment_bytes;
	w->cur_fd = w->next_fd = w->prev_fd = -1;
	w->dirfd = w->lockfd = -1;
	if (mkdir(w->dir, 0755) != 0 && errno != EEXIST) {
		storage_err(err, errlen, "%s: mkdir: %s", w->dir, strerror(errno));
		rc = -errno;
		goto fail;
	}
	w->dirfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0) {
		storage_err(err, errlen, "%s: open: %s", w->dir, strerror(errno));
		rc = -errno;
		goto fail;
	}
	/* One process at a time: a second one must not recover (zero a tail) under a writer. */
	w->lockfd = openat(w->dirfd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (w->lockfd < 0 || flock(w->lockfd, LOCK_EX | LOCK_NB) != 0) {
		rc = -errno;
		storage_err(err, errlen, "%s/LOCK: %s", w->dir,
			    rc == -EWOULDBLOCK ? "another process holds this log" : strerror(-rc));
		goto fail;
	}
	if (w->cfg.base_index == 0) {
		rc = rc_snap_latest(w->dir, &w->info.snap, err, errlen);
		if (rc != 0)
			goto fail;
		w->cfg.base_index = w->info.snap.index;
		w->cfg.base_term = w->info.snap.term;
	}
	n = wal_list(w, &nums);
	if (n < 0) {
		storage_err(err, errlen, "%s: listing segments: %s", w->dir, strerror(-n));
		rc = n;
		goto fail;
	}
	w->ring = aligned_alloc(4096, cfg->ring_bytes);
	w->samples = calloc(RC_WAL_SYNC_SAMPLES, sizeof(*w->samples));
	w->segs = calloc((size_t)n + 1, sizeof(*w->segs));
	if (w->ring == NULL || w->samples == NULL || w->segs == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	w->ring_mask = cfg->ring_bytes - 1;
	w->seg_count = (uint32_t)n;
	for (int i = 0; i < n; i++) {
		w->segs[i].number = nums[i];
		w->segs[i].fd = -1;
	}
	for (int i = 0; i < n; i++) {
		rc = wal_recover_map(w, (uint32_t)i, err, errlen);
		if (rc == 1) {
			if (w->segs[i].map != NULL)
				munmap((void *)w->segs[i].map, w->segs[i].map_bytes);
			close(w->segs[i].fd);
			w->segs[i].map = NULL;
			w->segs[i].fd = -1;
			w->seg_count--;
			rc = 0;
			break;
		}
		if (rc != 0)
			goto fail;
	}
	if (w->seg_count > 0) {
		rc = wal_recover(w, err, errlen);
		if (rc != 0)
			goto fail;
	} else {
		w->info.first_index = w->cfg.base_index + 1;
		w->info.last_index = w->cfg.base_index;
		w->info.last_term = w->cfg.base_term;
		w->info.hs.term = w->cfg.base_term;
		w->base_seg = n > 0 ? nums[0] : 0; /* an unfinished first segment is reused */
		w->prod = 0;
	}
	/* Compaction's view: every segment up to the current one, with its last entry. */
	for (int i = 0; i < n && w->segs[i].number <= w->base_seg; i++) {
		if (w->live_tail - w->live_head == WAL_LIVE_MAX)
			w->live_head++;
		w->live[w->live_tail % WAL_LIVE_MAX].number = w->segs[i].number;
		w->live[w->live_tail % WAL_LIVE_MAX].last_index = w->segs[i].last_index;
		w->live_tail++;
	}
	w->deleted_next = n > 0 ? w->segs[0].number : 0;
	atomic_store(&w->delete_below, w->deleted_next);
	w->prod_seg = w->base_seg;
	if (w->live_tail == w->live_head ||
	    w->live[(w->live_tail - 1) % WAL_LIVE_MAX].number != w->base_seg)
		wal_live_push(w, w->base_seg);
	w->info.segments = w->seg_count;
	w->written = w->prod;
	w->seg_left = w->data_bytes - w->prod;
	atomic_store(&w->published, w->prod);
	atomic_store(&w->durable, w->prod);
	w->info.recovery_ns = wal_now_ns() - t0;
	free(nums);
	*out = w;
	return 0;
fail:
	free(nums);
	rc_wal_close(w);
	return rc;
}

const struct rc_wal_info *
rc_wal_info(const struct rc_wal *w)
{
	return &w->info;
}

const char *
rc_wal_dir(const struct rc_wal *w)
{
	return w->dir;
}

/* A recovered entry; see wal.h. */
bool
rc_wal_entry(const struct rc_wal *w, uint64_t index, struct rc_raft_entry *e, const void **payload)
{
	struct rc_wal_record rec;
	uint32_t bytes;

	if (w->started || index < w->info.first_index || index > w->info.last_index)
		return false;
	uint64_t loc = w->loc[index - w->info.first_index];
	const struct wal_segment *s = &w->segs[loc >> 40];
	uint64_t off = loc & ((1ull << 40) - 1);

	if (rc_wal_decode(s->map + RC_WAL_SEGMENT_HEADER_BYTES + off, w->data_bytes - off, &rec,
			  &bytes) != RC_WAL_OK)
		return false;
	*e = (struct rc_raft_entry){ .term = rec.term, .bytes = rec.len, .type = rec.entry_type };
	*payload = rec.payload;
	return true;
}

/* Drops the recovery's maps and index. */
static void
wal_release_recovery(struct rc_wal *w)
{
	for (uint32_t i = 0; i < w->seg_count; i++) {
		if (w->segs[i].map != NULL)
			munmap((void *)w->segs[i].map, w->segs[i].map_bytes);
		w->segs[i].map = NULL;
		if (w->segs[i].fd >= 0 && w->segs[i].number != w->base_seg)
			close(w->segs[i].fd);
		else if (w->segs[i].fd >= 0)
			w->cur_fd = w->segs[i].fd;
		w->segs[i].fd = -1;
	}
	free(w->loc);
	w->loc = NULL;
}

/* ---- The storage thread -------------------------------------------------------------------- */

static long
wal_futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, (uint32_t *)addr, op, val, ts, NULL, 0);
}

static void
wal_fail(struct rc_wal *w, int e)
{
	int expected = 0;

	atomic_compare_exchange_strong(&w->error, &expected, e != 0 ? e : -EIO);
}

/*
 * Prepares the next segment a piece at a time: creates it, then writes zeroes over its data, a
 * MiB per call, starting their write-back at once. fdatasync of a preallocated but unwritten
 * range also commits the file system's extent changes (about 4 ms here, against 0.3 ms for a
 * range written before), so a segment is written once with zeroes, off the latency path.
 */
static void
wal_prepare_next(struct rc_wal *w)
{
	static const uint8_t zero[1u << 16];

	if (atomic_load(&w->error) != 0)
		return;
	if (w->next_fd < 0) {
		w->next_fd = wal_seg_create(w, w->cur_seg + 1);
		w->next_filled = 0;
		if (w->next_fd < 0) {
			wal_fail(w, w->next_fd);
			w->next_fd = -1;
		}
		return;
	}
	for (uint32_t k = 0; k < 16 && w->next_filled < w->data_bytes; k++) {
		uint64_t n = w->data_bytes - w->next_filled;

		if (n > sizeof(zero))
			n = sizeof(zero);
		if (pwrite(w->next_fd, zero, n,
			   (off_t)(RC_WAL_SEGMENT_HEADER_BYTES + w->next_filled)) != (ssize_t)n) {
			wal_fail(w, errno != 0 ? -errno : -EIO);
			return;
		}
		sync_file_range(w->next_fd, (off_t)(RC_WAL_SEGMENT_HEADER_BYTES + w->next_filled),
				(off_t)n, SYNC_FILE_RANGE_WRITE);
		w->next_filled += n;
	}
}

/* Moves the thread to segment cur_seg + 1 (created ahead when possible). */
static int
wal_next_segment(struct rc_wal *w)
{
	/* A round that crosses two segment ends: the one finished first is synced here, since
	 * the round's end syncs only the last two. */
	if (w->prev_fd >= 0) {
		int rc = fdatasync(w->prev_fd) != 0 ? -errno : 0;

		close(w->prev_fd);
		w->prev_fd = -1;
		if (rc != 0)
			return rc;
	}
	w->prev_fd = w->cur_fd;
	w->cur_seg++;
	if (w->next_fd >= 0) {
		w->cur_fd = w->next_fd;
		w->next_fd = -1;
	} else {
		w->cur_fd = wal_seg_create(w, w->cur_seg);
	}
	return w->cur_fd < 0 ? w->cur_fd : 0;
}

/* Writes stream bytes [from, to) to their segments. Returns 0 or -errno. */
static int
wal_write_range(struct rc_wal *w, uint64_t from, uint64_t to)
{
	while (from < to) {
		uint64_t seg = w->base_seg + from / w->data_bytes;
		uint64_t off = from % w->data_bytes;
		uint64_t len = to - from;
		uint64_t ring_off = from & w->ring_mask;

		if (seg != w->cur_seg) {
			int rc = wal_next_segment(w);

			if (rc != 0)
				return rc;
		}
		if (len > w->data_bytes - off)
			len = w->data_bytes - off;
		if (len > w->ring_mask + 1 - ring_off)
			len = w->ring_mask + 1 - ring_off;
		ssize_t n = pwrite(w->cur_fd, w->ring + ring_off, len,
				   (off_t)(RC_WAL_SEGMENT_HEADER_BYTES + off));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		from += (uint64_t)n;
		atomic_fetch_add_explicit(&w->st_bytes, (uint64_t)n, memory_order_relaxed);
	}
	return 0;
}

/* Deletes the segments compaction gave up (storage thread), then syncs the directory. */
static void
wal_delete_old(struct rc_wal *w)
{
	uint64_t below = atomic_load_explicit(&w->delete_below, memory_order_acquire);
	bool any = false;

	while (w->deleted_next < below && w->deleted_next < w->cur_seg) {
		char name[64];

		wal_seg_name(name, sizeof(name), w->deleted_next);
		if (unlinkat(w->dirfd, name, 0) == 0 || errno == ENOENT)
			any = true;
		atomic_fetch_add_explicit(&w->st_deleted, 1, memory_order_relaxed);
		w->deleted_next++;
	}
	if (any)
		fsync(w->dirfd);
}

static void *
wal_thread(void *arg)
{
	struct rc_wal *w = arg;

	if (w->cfg.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cfg.cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	for (;;) {
		uint64_t pub = atomic_load(&w->published);

		if (pub == w->written) {
			if (atomic_load(&w->stop))
				break;
			/* Prepare the next segment ahead, off the latency path. */
			if (w->next_fd < 0 || w->next_filled < w->data_bytes) {
				wal_prepare_next(w);
				continue;
			}
			wal_delete_old(w);
			uint32_t seq = atomic_load(&w->wake_seq);

			atomic_store(&w->sleeping, 1);
			if (atomic_load(&w->published) == w->written && !atomic_load(&w->stop)) {
				struct timespec ts = { 0, 50 * 1000 * 1000 };

				wal_futex(&w->wake_seq, FUTEX_WAIT_PRIVATE, seq, &ts);
			}
			atomic_store(&w->sleeping, 0);
			continue;
		}
		if (atomic_load(&w->error) != 0) {
			/* After a failed write or sync nothing is trusted again (no retry). */
			struct timespec ts = { 0, 1000 * 1000 };

			if (atomic_load(&w->stop))
				break;
			nanosleep(&ts, NULL);
			continue;
		}
		int rc = wal_write_range(w, w->written, pub);
		uint64_t t0 = wal_now_ns();

		if (rc == 0 && w->prev_fd >= 0 && fdatasync(w->prev_fd) != 0)
			rc = -errno;
		if (rc == 0 && fdatasync(w->cur_fd) != 0)
			rc = -errno;
		if (rc != 0) {
			fprintf(stderr, "replicore: wal %s: write or fdatasync failed: %s\n",
				w->dir, strerror(-rc));
			wal_fail(w, rc);
			continue;
		}
		if (w->prev_fd >= 0) {
			close(w->prev_fd);
			w->prev_fd = -1;
		}
		uint64_t k = atomic_load_explicit(&w->sample_count, memory_order_relaxed);

		w->samples[k % RC_WAL_SYNC_SAMPLES] = wal_now_ns() - t0;
		atomic_store_explicit(&w->sample_count, k + 1, memory_order_release);
		atomic_fetch_add_explicit(&w->st_syncs, 1, memory_order_relaxed);
		w->written = pub;
		atomic_store_explicit(&w->durable, pub, memory_order_release);
		/* Housekeeping after the round is published, never before. */
		if (w->next_fd < 0 || w->next_filled < w->data_bytes)
			wal_prepare_next(w);
		wal_delete_old(w);
	}
	return NULL;
}

/* Starts the storage thread; see wal.h. */
int
rc_wal_start(struct rc_wal *w)
{
	int rc;

	RC_ASSERT(!w->started);
	wal_release_recovery(w);
	w->cur_seg = w->base_seg;
	if (w->cur_fd < 0) {
		w->cur_fd = wal_seg_create(w, w->base_seg);
		if (w->cur_fd < 0)
			return w->cur_fd;
	}
	/* The current segment's unused rest is written with zeroes too (see wal_prepare_next). */
	for (uint64_t off = w->prod; off < w->data_bytes;) {
		static const uint8_t zero[1u << 16];
		uint64_t n = w->data_bytes - off < sizeof(zero) ? w->data_bytes - off :
								  sizeof(zero);

		if (pwrite(w->cur_fd, zero, n, (off_t)(RC_WAL_SEGMENT_HEADER_BYTES + off)) !=
		    (ssize_t)n)
			return errno != 0 ? -errno : -EIO;
		off += n;
	}
	if (fdatasync(w->cur_fd) != 0)
		return -errno;
	rc = pthread_create(&w->thread, NULL, wal_thread, w);
	if (rc != 0)
		return -rc;
	w->started = true;
	return 0;
}

/* ---- The node's side ----------------------------------------------------------------------- */

uint64_t
rc_wal_room(const struct rc_wal *w)
{
	return w->ring_mask + 1 -
	       (w->prod - atomic_load_explicit(&w->durable, memory_order_acquire));
}

/* Waits until the ring has bytes of room (the storage thread drains it). */
static void
wal_wait_room(struct rc_wal *w, uint64_t bytes)
{
	/* The write being built is not handed over yet: room for it never comes if the ring cannot
	 * hold all of it. */
	RC_ASSERT(w->prod + bytes - atomic_load_explicit(&w->published, memory_order_relaxed) <=
		  w->ring_mask + 1);
	if (rc_wal_room(w) >= bytes)
		return;
	atomic_fetch_add_explicit(&w->st_ring_waits, 1, memory_order_relaxed);
	/* Make sure the thread sees what is published, then wait for it. */
	atomic_fetch_add(&w->wake_seq, 1);
	wal_futex(&w->wake_seq, FUTEX_WAKE_PRIVATE, 1, NULL);
	while (rc_wal_room(w) < bytes && atomic_load(&w->error) == 0)
		sched_yield();
}

/* Copies n bytes into the ring at prod (wrapping). */
static void
wal_put(struct rc_wal *w, const void *src, uint64_t n)
{
	uint64_t off = w->prod & w->ring_mask;
	uint64_t first = n < w->ring_mask + 1 - off ? n : w->ring_mask + 1 - off;

	memcpy(w->ring + off, src, first);
	memcpy(w->ring, (const uint8_t *)src + first, n - first);
	w->prod += n;
	w->seg_left -= n;
}

/* Reserves room for a record of bytes, rolling to the next segment when it does not fit. */
static void
wal_reserve(struct rc_wal *w, uint32_t bytes)
{
	uint8_t rec[RC_WAL_RECORD_HEADER_BYTES];

	if (bytes <= w->seg_left)
		return;
	wal_wait_room(w, w->seg_left);
	if (w->seg_left >= RC_WAL_RECORD_HEADER_BYTES) {
		rc_wal_encode_roll(rec);
		wal_put(w, rec, sizeof(rec));
	}
	w->prod_seg++;
	wal_live_push(w, w->prod_seg);
	while (w->seg_left > 0) {
		static const uint8_t zero[256];
		uint64_t n = w->seg_left < sizeof(zero) ? w->seg_left : sizeof(zero);

		wal_put(w, zero, n);
	}
	w->seg_left = w->data_bytes;
}

/* Copies one encoded record of bytes to the stream. */
static void
wal_record(struct rc_wal *w, uint32_t bytes, const uint8_t *tmp)
{
	wal_reserve(w, bytes);
	wal_wait_room(w, bytes);
	wal_put(w, tmp, bytes);
}

void
rc_wal_append(struct rc_wal *w, uint64_t index, const struct rc_raft_entry *e, const void *payload)
{
	uint32_t bytes = rc_wal_record_bytes(e->bytes);
	uint64_t off;

	wal_reserve(w, bytes);
	wal_wait_room(w, bytes);
	off = w->prod & w->ring_mask;
	if (off + bytes <= w->ring_mask + 1) {
		rc_wal_encode_entry(w->ring + off, index, e, payload); /* in place: no copy */
		w->prod += bytes;
		w->seg_left -= bytes;
	} else {
		uint8_t tmp[RC_WAL_RECORD_HEADER_BYTES + RC_ENTRY_BYTES_MAX];

		rc_wal_encode_entry(tmp, index, e, payload);
		wal_put(w, tmp, bytes);
	}
	w->live[(w->live_tail - 1) % WAL_LIVE_MAX].last_index = index;
}

/* Writes a SNAPSHOT record; see wal.h. */
void
rc_wal_append_snapshot(struct rc_wal *w, uint64_t index, uint64_t term)
{
	uint8_t rec[RC_WAL_RECORD_HEADER_BYTES];

	rc_wal_encode_snapshot(rec, index, term);
	wal_record(w, sizeof(rec), rec);
	w->live[(w->live_tail - 1) % WAL_LIVE_MAX].last_index = index;
}

/* Lets the storage thread delete the segments a durable snapshot at index covers; see wal.h. */
void
rc_wal_compact(struct rc_wal *w, uint64_t index)
{
	while (w->live_tail - w->live_head > 2 &&
	       w->live[w->live_head % WAL_LIVE_MAX].last_index <= index)
		w->live_head++;
	atomic_store_explicit(&w->delete_below, w->live[w->live_head % WAL_LIVE_MAX].number,
			      memory_order_release);
}

uint64_t
rc_wal_commit(struct rc_wal *w, const struct rc_raft_hard_state *hs, uint64_t last_index,
	      uint64_t last_term)
{
	uint8_t rec[RC_WAL_RECORD_HEADER_BYTES + RC_WAL_SYNC_PAYLOAD_BYTES];
	uint32_t bytes = rc_wal_encode_sync(rec, hs, last_index, last_term);

	/* Both copies in one segment: a damaged first copy is then always followed by the
	 * second. */
	wal_reserve(w, 2 * bytes);
	wal_record(w, bytes, rec);
	wal_record(w, bytes, rec);
	atomic_store(&w->published, w->prod);
	atomic_fetch_add_explicit(&w->st_writes, 1, memory_order_relaxed);
	if (atomic_load(&w->sleeping)) {
		atomic_fetch_add(&w->wake_seq, 1);
		wal_futex(&w->wake_seq, FUTEX_WAKE_PRIVATE, 1, NULL);
	}
	return w->prod;
}

uint64_t
rc_wal_durable(const struct rc_wal *w)
{
	return atomic_load_explicit(&w->durable, memory_order_acquire);
}

int
rc_wal_error(const struct rc_wal *w)
{
	return atomic_load_explicit(&w->error, memory_order_relaxed);
}

void
rc_wal_stats(const struct rc_wal *w, struct rc_wal_stats *out)
{
	out->writes = atomic_load_explicit(&w->st_writes, memory_order_relaxed);
	out->syncs = atomic_load_explicit(&w->st_syncs, memory_order_relaxed);
	out->bytes = atomic_load_explicit(&w->st_bytes, memory_order_relaxed);
	out->ring_waits = atomic_load_explicit(&w->st_ring_waits, memory_order_relaxed);
	out->segments_deleted = atomic_load_explicit(&w->st_deleted, memory_order_relaxed);
}

uint32_t
rc_wal_sync_samples(const struct rc_wal *w, uint64_t *out, uint32_t max)
{
	uint64_t k = atomic_load_explicit(&w->sample_count, memory_order_acquire);
	uint64_t n = k < RC_WAL_SYNC_SAMPLES ? k : RC_WAL_SYNC_SAMPLES;

	if (n > max)
		n = max;
	for (uint64_t i = 0; i < n; i++)
		out[i] = w->samples[(k - n + i) % RC_WAL_SYNC_SAMPLES];
	return (uint32_t)n;
}

/* Stops the thread after everything handed over is durable, and frees the log. */
void
rc_wal_close(struct rc_wal *w)
{
	if (w == NULL)
		return;
	if (w->started) {
		atomic_store(&w->stop, true);
		atomic_fetch_add(&w->wake_seq, 1);
		wal_futex(&w->wake_seq, FUTEX_WAKE_PRIVATE, 1, NULL);
		pthread_join(w->thread, NULL);
	}
	wal_release_recovery(w);
	if (w->cur_fd >= 0)
		close(w->cur_fd);
	if (w->next_fd >= 0)
		close(w->next_fd);
	if (w->prev_fd >= 0)
		close(w->prev_fd);
	if (w->dirfd >= 0)
		close(w->dirfd);
	if (w->lockfd >= 0)
		close(w->lockfd); /* the lock goes with it */
	free(w->segs);
	free(w->ring);
	free(w->samples);
	free(w);
}
