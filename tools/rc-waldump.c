/*
 * rc-waldump: prints a write-ahead log directory (engine/include/replicore/wal.h) and checks it
 * with recovery's own rules, without changing a byte: the segment and snapshot files are opened
 * read-only and the records read through the format layer (rc_wal_scan, rc_wal_replay_record,
 * rc_wal_sync_after); rc_wal_open() is never called, since it zeroes a torn tail.
 *
 *   rc-waldump [--verify] [--records] DIR
 *
 * Prints each snapshot file (snapshot.h: name, index, term, body size, whether its header and
 * body check), each segment (file, number, data size, where its records end), with --records
 * every record, then what recovery would keep: the hard state and the log's range after the
 * newest snapshot, a torn tail it would drop, or the corruption that makes it refuse the log (a
 * damaged newest snapshot, a damaged record followed by a valid SYNC record, a damaged or
 * missing segment). As rc_wal_open() does, the newest snapshot is the replay's base: a compacted
 * log (its first segments deleted) starts with records the snapshot covers.
 *
 * Exit status: 0 printed (with --verify: and the log would open); 1 the directory or a file
 * cannot be read, or with --verify the log is corrupt; 2 bad usage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <replicore/snapshot.h>
#include <replicore/wal.h>

#define SEG_NAME_BYTES 32
#define VERDICT_BYTES 512

#define SNAP_NAME_BYTES 64

struct segment {
	uint64_t number;
	char name[SEG_NAME_BYTES];
	const uint8_t *map; /* PROT_READ */
	size_t file_bytes;
	uint64_t data_bytes;
};

/* A snapshot file: what its name says, and what checking it found. */
struct snapshot {
	uint64_t index; /* from the name, as rc_snap_latest() picks the newest */
	uint64_t term;
	char name[SNAP_NAME_BYTES];
	uint64_t file_bytes;
	uint64_t body_bytes; /* from the header (0 when the header is refused) */
	const char *why;     /* NULL: valid; else why snapshot.c refuses it */
	uint32_t why_offset; /* where: 0 (the header) or RC_SNAP_HEADER_BYTES (the body) */
};

/* The walk over the records, in log order. */
struct dump {
	bool records; /* --records: print each record */
	bool replay;  /* records still feed the replay (false past where recovery stops) */
	struct rc_wal_replay rp;   /* rp.base_index: the newest snapshot's index */
	enum rc_wal_status failed; /* the replay refused a record */
	uint64_t failed_offset;	   /* its data offset */
	uint64_t entries_at_sync;
	uint64_t count; /* records of the current segment */
};

/* Prints the usage text to out. */
static void
usage(FILE *out)
{
	fputs("usage: rc-waldump [--verify] [--records] DIR\n"
	      "Prints the write-ahead log in DIR (its snapshot files and segments, with --records\n"
	      "every record) and what recovery would keep: hard state, log range after the newest\n"
	      "snapshot, a torn tail it would drop, or the corruption that makes it refuse the\n"
	      "log.\n"
	      "Reads only: nothing is changed.\n"
	      "  --verify   exit 1 when the log is corrupt (a torn tail is not an error)\n"
	      "  --records  print every record (file offsets)\n"
	      "Exit status: 0 printed (--verify: the log would open), 1 unreadable or (--verify)\n"
	      "corrupt, 2 bad usage.\n",
	      out);
}

/* True when p[0..n) holds only zero bytes. */
static bool
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* Orders segments by number. */
static int
cmp_segment(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;

	return x->number < y->number ? -1 : x->number > y->number;
}

/* Lists and maps (read-only) the segments of dir, sorted. Returns the count, or -1. */
static int
load_segments(const char *dir, struct segment **out)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct segment *v = NULL;
	int n = 0, cap = 0;

	if (d == NULL) {
		fprintf(stderr, "rc-waldump: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		uint64_t number;

		if (!rc_wal_parse_segment_name(de->d_name, &number))
			continue;
		if (n == cap) {
			struct segment *nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(v, (size_t)cap * sizeof(*v));
			if (nv == NULL) {
				fprintf(stderr, "rc-waldump: out of memory\n");
				exit(1);
			}
			v = nv;
		}
		memset(&v[n], 0, sizeof(v[n]));
		v[n].number = number;
		snprintf(v[n].name, sizeof(v[n].name), "%.31s", de->d_name); /* 24 bytes */
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(v, (size_t)n, sizeof(*v), cmp_segment);
	for (int i = 0; i < n; i++) {
		char path[4096 + SEG_NAME_BYTES];
		struct stat st;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, v[i].name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) != 0) {
			fprintf(stderr, "rc-waldump: %s: %s\n", path, strerror(errno));
			return -1;
		}
		v[i].file_bytes = (size_t)st.st_size;
		if (v[i].file_bytes > 0) {
			void *m = mmap(NULL, v[i].file_bytes, PROT_READ, MAP_SHARED, fd, 0);

			if (m == MAP_FAILED) {
				fprintf(stderr, "rc-waldump: %s: mmap: %s\n", path,
					strerror(errno));
				close(fd);
				return -1;
			}
			v[i].map = m;
		}
		close(fd);
	}
	*out = v;
	return n;
}

/* True for a snapshot's temporary file (snap-*.tmp): ignored, removed at the next start. */
static bool
snapshot_tmp_name(const char *name)
{
	size_t len = strlen(name);

	return strncmp(name, "snap-", 5) == 0 && strcmp(name + len - 4, ".tmp") == 0;
}

/* Checks a snapshot file's bytes p with snapshot.c's rules, header then body; sets s->why. */
static void
snapshot_check(struct snapshot *s, const uint8_t *p)
{
	struct rc_snap_info info;

	s->why = rc_snap_header_check(p, s->file_bytes, s->name, &info);
	s->why_offset = 0;
	if (s->why != NULL)
		return;
	s->body_bytes = info.bytes;
	if (info.crc != rc_crc32c(0, p + RC_SNAP_HEADER_BYTES, s->body_bytes)) {
		s->why = "snapshot body CRC32C mismatch";
		s->why_offset = RC_SNAP_HEADER_BYTES;
	}
}

/* Orders snapshots by index, then name. */
static int
cmp_snapshot(const void *a, const void *b)
{
	const struct snapshot *x = a, *y = b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * Lists the snapshot files of dir, oldest first, and checks each (mapped read-only). Counts
 * temporary files in *tmp_files and names in *newest the one rc_snap_latest() would pick: the
 * highest index, the first the directory lists on a tie. Returns the count, or -1.
 */
static int
load_snapshots(const char *dir, struct snapshot **out, int *tmp_files, char *newest)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct snapshot *v = NULL;
	uint64_t newest_index = 0;
	int n = 0, cap = 0;

	*tmp_files = 0;
	newest[0] = '\0';
	if (d == NULL) {
		fprintf(stderr, "rc-waldump: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		uint64_t index, term;

		*tmp_files += snapshot_tmp_name(de->d_name);
		if (!rc_snap_parse_name(de->d_name, &index, &term))
			continue;
		if (n == cap) {
			struct snapshot *nv;

			cap = cap ? cap * 2 : 4;
			nv = realloc(v, (size_t)cap * sizeof(*v));
			if (nv == NULL) {
				fprintf(stderr, "rc-waldump: out of memory\n");
				exit(1);
			}
			v = nv;
		}
		memset(&v[n], 0, sizeof(v[n]));
		v[n].index = index;
		v[n].term = term;
		snprintf(v[n].name, sizeof(v[n].name), "%s", de->d_name);
		if (index > newest_index) {
			newest_index = index;
			snprintf(newest, SNAP_NAME_BYTES, "%s", de->d_name);
		}
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(v, (size_t)n, sizeof(*v), cmp_snapshot);
	for (int i = 0; i < n; i++) {
		char path[4096 + SNAP_NAME_BYTES];
		struct stat st;
		void *m = NULL;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, v[i].name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) != 0) {
			fprintf(stderr, "rc-waldump: %s: %s\n", path, strerror(errno));
			return -1;
		}
		v[i].file_bytes = (uint64_t)st.st_size;
		if (v[i].file_bytes > 0) {
			m = mmap(NULL, v[i].file_bytes, PROT_READ, MAP_SHARED, fd, 0);
			if (m == MAP_FAILED) {
				fprintf(stderr, "rc-waldump: %s: mmap: %s\n", path,
					strerror(errno));
				close(fd);
				return -1;
			}
		}
		close(fd);
		snapshot_check(&v[i], m);
		if (m != NULL)
			munmap(m, v[i].file_bytes);
	}
	*out = v;
	return n;
}

/*
 * Prints the snapshot files, oldest first. Returns the newest (rc_wal_open()'s base: the log
 * goes on after it), or NULL when there is none; when it is damaged, writes to verdict why
 * recovery refuses the log. Older snapshots are not read by recovery: damage there is noted only.
 */
static const struct snapshot *
dump_snapshots(const char *dir, const struct snapshot *snaps, int n, int tmp_files,
	       const char *newest_name, char *verdict, size_t verdict_bytes)
{
	const struct snapshot *newest = NULL;

	if (n == 0)
		printf("snapshots: none\n");
	for (int i = 0; i < n; i++) {
		const struct snapshot *s = &snaps[i];
		bool is_newest = strcmp(s->name, newest_name) == 0;
		const char *role = !is_newest	  ? "older: recovery ignores it" :
				   s->why == NULL ? "newest: the log goes on after it" :
						    "newest: recovery refuses the log";

		if (is_newest)
			newest = s;
		if (s->why == NULL)
			printf("snapshot %s: index %" PRIu64 " term %" PRIu64 ", body %" PRIu64
			       " bytes, header CRC32C ok, body CRC32C ok (%s)\n",
			       s->name, s->index, s->term, s->body_bytes, role);
		else if (s->why_offset > 0)
			printf("snapshot %s: index %" PRIu64 " term %" PRIu64 ", body %" PRIu64
			       " bytes, header CRC32C ok, damaged: offset %" PRIu32 ": %s (%s)\n",
			       s->name, s->index, s->term, s->body_bytes, s->why_offset, s->why,
			       role);
		else
			printf("snapshot %s: index %" PRIu64 " term %" PRIu64
			       " (its name), %" PRIu64
			       " file bytes, damaged: offset 0: %s, body not checked (%s)\n",
			       s->name, s->index, s->term, s->file_bytes, s->why, role);
	}
	if (tmp_files > 0)
		printf("snapshots: %d temporary files (snap-*.tmp: a write that never finished; "
		       "ignored)\n",
		       tmp_files);
	if (newest != NULL && newest->why != NULL)
		snprintf(verdict, verdict_bytes, "%s/%s: offset %" PRIu32 ": %s", dir, newest->name,
			 newest->why_offset, newest->why);
	return newest;
}

/* Names an entry type. */
static const char *
entry_type_name(uint8_t type)
{
	return type == RC_ENTRY_NORMAL ? "normal" : type == RC_ENTRY_NOOP ? "noop" : "?";
}

/* Prints one record with its file offset (--records); base_index: the snapshot's. */
static void
print_record(const struct rc_wal_record *rec, uint64_t offset, uint64_t base_index)
{
	uint64_t off = RC_WAL_SEGMENT_HEADER_BYTES + offset;

	switch (rec->type) {
	case RC_WAL_ENTRY:
		printf("  offset %" PRIu64 ": ENTRY index %" PRIu64 " term %" PRIu64
		       " type %s len %" PRIu32 "%s\n",
		       off, rec->index, rec->term, entry_type_name(rec->entry_type), rec->len,
		       rec->index <= base_index ? " (in the snapshot)" : "");
		break;
	case RC_WAL_SYNC:
		printf("  offset %" PRIu64 ": SYNC index %" PRIu64 " term %" PRIu64
		       " hard state term %" PRIu64 " commit %" PRIu64 " vote %u\n",
		       off, rec->index, rec->term, rec->hs.term, rec->hs.commit,
		       (unsigned)rec->hs.vote);
		break;
	case RC_WAL_ROLL:
		printf("  offset %" PRIu64 ": ROLL\n", off);
		break;
	case RC_WAL_SNAPSHOT:
		printf("  offset %" PRIu64 ": SNAPSHOT index %" PRIu64 " term %" PRIu64
		       " (the log replaced by an installed snapshot)\n",
		       off, rec->index, rec->term);
		break;
	default:
		printf("  offset %" PRIu64 ": record type %u index %" PRIu64 " term %" PRIu64 "\n",
		       off, (unsigned)rec->type, rec->index, rec->term);
		break;
	}
}

/* rc_wal_scan()'s callback: prints (--records) and replays while recovery would. */
static bool
on_record(void *ctx, const struct rc_wal_record *rec, uint64_t offset)
{
	struct dump *d = ctx;

	if (d->replay) {
		enum rc_wal_status st = rc_wal_replay_record(&d->rp, rec);

		if (st != RC_WAL_OK) {
			if (d->records)
				printf("  offset %" PRIu64 ": %s\n",
				       RC_WAL_SEGMENT_HEADER_BYTES + offset, rc_wal_strerror(st));
			d->failed = st;
			d->failed_offset = offset;
			return false;
		}
		if (rec->type == RC_WAL_SYNC)
			d->entries_at_sync = d->rp.entries;
	}
	d->count++;
	if (d->records)
		print_record(rec, offset, d->rp.base_index);
	return true;
}

/* Prints one segment's records and where they end; fills *scan. */
static void
dump_segment(struct dump *d, const struct segment *s, struct rc_wal_scan *scan)
{
	const char *how;

	d->count = 0;
	rc_wal_scan(s->map + RC_WAL_SEGMENT_HEADER_BYTES, s->data_bytes, on_record, d, scan);
	if (d->failed != RC_WAL_OK && d->replay)
		how = rc_wal_strerror(d->failed);
	else if (scan->status != RC_WAL_OK)
		how = rc_wal_strerror(scan->status);
	else if (scan->rolled && scan->stop_offset < s->data_bytes)
		how = scan->end_offset > scan->stop_offset ? "ROLL" : "rest shorter than a record";
	else
		how = "data full";
	printf("  %" PRIu64 " records, end at offset %" PRIu64 " (%s)", d->count,
	       RC_WAL_SEGMENT_HEADER_BYTES + scan->stop_offset, how);
	if (scan->last_sync_end > 0)
		printf(", last SYNC record ends at offset %" PRIu64,
		       RC_WAL_SEGMENT_HEADER_BYTES + scan->last_sync_end);
	printf("\n");
}

/* True when any byte of the segments' data after (seg, off) is not zero. */
static bool
bytes_after(const struct segment *segs, int n, int seg, uint64_t off)
{
	for (int j = seg; j < n; j++) {
		uint64_t from = j == seg ? off : 0;

		if (!all_zero(segs[j].map + RC_WAL_SEGMENT_HEADER_BYTES + from,
			      segs[j].data_bytes - from))
			return true;
	}
	return false;
}

/* Parses the arguments, dumps the log, and says what recovery would do with it. */
int
main(int argc, char **argv)
{
	bool verify = false, records = false, corrupt = false, torn = false;
	const char *dir = NULL;
	struct segment *segs = NULL, *unfinished = NULL;
	struct snapshot *snaps = NULL;
	const struct snapshot *base;
	struct rc_wal_scan *scans;
	struct dump d = { 0 };
	char verdict[VERDICT_BYTES] = "", snap_verdict[VERDICT_BYTES] = "";
	char newest_name[SNAP_NAME_BYTES];
	int n, snap_count, tmp_files, stopped = -1, cut_seg = 0;
	uint64_t cut_off = 0, base_index, base_term, last_index, last_term;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--verify") == 0) {
			verify = true;
		} else if (strcmp(argv[i], "--records") == 0) {
			records = true;
		} else if (argv[i][0] == '-' || dir != NULL) {
			fprintf(stderr, "rc-waldump: unexpected argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		} else {
			dir = argv[i];
		}
	}
	if (dir == NULL) {
		fprintf(stderr, "rc-waldump: no directory given\n");
		usage(stderr);
		return 2;
	}
	n = load_segments(dir, &segs);
	if (n < 0)
		return 1;
	snap_count = load_snapshots(dir, &snaps, &tmp_files, newest_name);
	if (snap_count < 0)
		return 1;
	scans = calloc((size_t)n + 1, sizeof(*scans));
	if (scans == NULL) {
		fprintf(stderr, "rc-waldump: out of memory\n");
		return 1;
	}
	printf("wal %s: %d segment files, %d snapshot files\n", dir, n, snap_count);

	/* The newest snapshot first, as rc_wal_open() reads it: the log goes on after it. When it
	 * is damaged recovery refuses the log; the records are still shown after the index its
	 * name carries. */
	base = dump_snapshots(dir, snaps, snap_count, tmp_files, newest_name, snap_verdict,
			      sizeof(snap_verdict));
	base_index = base != NULL ? base->index : 0;
	base_term = base != NULL ? base->term : 0;

	/* Headers, in order, with rc_wal_open()'s rules: the first refused one ends the log. A
	 * last segment of zeroes is one created ahead before a crash: recovery reuses it. */
	for (int i = 0; i < n; i++) {
		const char *why = rc_wal_segment_header_check(segs[i].map, segs[i].file_bytes,
							      segs[i].number, &segs[i].data_bytes);

		if (why != NULL && i == n - 1 && all_zero(segs[i].map, segs[i].file_bytes)) {
			unfinished = &segs[i];
			n--;
			break;
		}
		if (why == NULL && i > 0 && segs[i].number != segs[i - 1].number + 1)
			why = "a segment is missing before this one";
		if (why == NULL && i > 0 && segs[i].data_bytes != segs[0].data_bytes)
			why = "segment data size differs from the previous segment's";
		if (why != NULL) {
			snprintf(verdict, sizeof(verdict), "%s/%s: offset 0: %s", dir, segs[i].name,
				 why);
			printf("segment %s: number %" PRIu64 ": %s\n", segs[i].name, segs[i].number,
			       why);
			corrupt = true;
			n = i;
			break;
		}
	}

	/* Records, in log order, as recovery replays them: up to the first segment that does not
	 * roll over, damage, or a record out of sequence. */
	d.records = records;
	d.replay = true; /* a refused header ends the list above: the segments before it replay */
	rc_wal_replay_init(&d.rp);
	d.rp.base_index = base_index;
	for (int i = 0; i < n; i++) {
		const char *note = "";

		if (!d.replay)
			note = all_zero(segs[i].map + RC_WAL_SEGMENT_HEADER_BYTES,
					segs[i].data_bytes) ?
				       " (empty: created ahead)" :
				       " (past where recovery stops)";
		printf("segment %s: number %" PRIu64 ", data %" PRIu64 " bytes%s\n", segs[i].name,
		       segs[i].number, segs[i].data_bytes, note);
		dump_segment(&d, &segs[i], &scans[i]);
		if (!d.replay)
			continue;
		if (scans[i].last_sync_end > 0) {
			cut_seg = i;
			cut_off = scans[i].last_sync_end;
		}
		if (d.failed != RC_WAL_OK || !scans[i].rolled || scans[i].status != RC_WAL_OK) {
			stopped = i;
			d.replay = false;
		}
	}

	if (unfinished != NULL)
		printf("segment %s: number %" PRIu64 ", unfinished (all zeroes: created ahead "
		       "before a crash; recovery reuses it)\n",
		       unfinished->name, unfinished->number);

	if (!corrupt && stopped >= 0) {
		enum rc_wal_status why = d.failed != RC_WAL_OK ? d.failed : scans[stopped].status;
		uint64_t stop_off = d.failed != RC_WAL_OK ? d.failed_offset :
							    scans[stopped].stop_offset;
		const struct segment *s = &segs[stopped];
		bool durable_after = rc_wal_sync_after(s->map + RC_WAL_SEGMENT_HEADER_BYTES,
						       s->data_bytes, stop_off + RC_WAL_ALIGN);

		for (int j = stopped + 1; j < n && !durable_after; j++)
			durable_after = rc_wal_sync_after(segs[j].map + RC_WAL_SEGMENT_HEADER_BYTES,
							  segs[j].data_bytes, 0);
		if (durable_after) {
			corrupt = true;
			snprintf(verdict, sizeof(verdict),
				 "%s/%s: offset %" PRIu64 ": %s, and durable records follow", dir,
				 s->name, RC_WAL_SEGMENT_HEADER_BYTES + stop_off,
				 rc_wal_strerror(why));
		} else if (why != RC_WAL_END) {
			torn = true;
			printf("torn tail (would be dropped): %s offset %" PRIu64 ": %s\n", s->name,
			       RC_WAL_SEGMENT_HEADER_BYTES + stop_off, rc_wal_strerror(why));
		}
	}
	if (!corrupt && d.rp.entries > d.entries_at_sync)
		printf("torn tail (would be dropped): %" PRIu64
		       " entry records after the last SYNC record\n",
		       d.rp.entries - d.entries_at_sync);
	else if (!corrupt && !torn && n > 0 && bytes_after(segs, n, cut_seg, cut_off))
		printf("torn tail (would be dropped): records after the last SYNC record\n");

	if (snap_verdict[0] != '\0')
		printf("corrupt: %s: recovery refuses this log\n", snap_verdict);
	if (corrupt) {
		printf("corrupt: %s: recovery refuses this log\n", verdict);
		printf("valid before the damage:\n");
	} else if (snap_verdict[0] != '\0') {
		printf("the records, read after the damaged snapshot's index:\n");
	}

	/* What rc_wal_open() reports: the log from base_index + 1 to the last SYNC's end, or just
	 * the snapshot's last entry when nothing follows it; the term at least the log's last. */
	last_index = d.rp.synced_last > base_index ? d.rp.synced_last : base_index;
	last_term = d.rp.synced_last > base_index ? d.rp.synced_term : base_term;
	if (d.rp.hs.term < last_term)
		d.rp.hs.term = last_term;
	printf("hard state: term %" PRIu64 " commit %" PRIu64 " vote %u\n", d.rp.hs.term,
	       d.rp.hs.commit, (unsigned)d.rp.hs.vote);
	if (last_index == 0)
		printf("log: empty\n");
	else if (last_index == base_index)
		printf("log: empty after the snapshot at index %" PRIu64 " term %" PRIu64 "\n",
		       base_index, base_term);
	else if (base_index > 0)
		printf("log: %" PRIu64 "..%" PRIu64 " (last term %" PRIu64 ") after the snapshot "
		       "at index %" PRIu64 " term %" PRIu64 "\n",
		       base_index + 1, last_index, last_term, base_index, base_term);
	else
		printf("log: %" PRIu64 "..%" PRIu64 " (last term %" PRIu64 ")\n", d.rp.first_index,
		       last_index, last_term);
	if (verify && snap_verdict[0] != '\0')
		fprintf(stderr, "rc-waldump: corrupt: %s\n", snap_verdict);
	if (verify && corrupt)
		fprintf(stderr, "rc-waldump: corrupt: %s\n", verdict);
	free(scans); /* the mappings go with the process */
	free(segs);
	free(snaps);
	return verify && (corrupt || snap_verdict[0] != '\0') ? 1 : 0;
}
