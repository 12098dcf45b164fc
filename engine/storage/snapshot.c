/*
 * Snapshot files (see snapshot.h): written through a temporary file and a rename, checked with
 * CRC32C when found.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <replicore/snapshot.h>
#include <replicore/wal.h>

#include "../wire/wire_le.h"
#include "storage_err.h"

/* Writes all of buf at fd; returns 0 or -errno. */
static int
snap_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes a snapshot durably; see snapshot.h. */
int
rc_snap_write(const char *dir, uint64_t index, uint64_t term, const void *body, size_t bytes,
	      char *err, size_t errlen)
{
	char tmp[4220], path[4200];
	uint8_t h[RC_SNAP_HEADER_BYTES];
	int fd, dfd, rc = 0;

	snprintf(path, sizeof(path), "%s/snap-%016" PRIx64 "-%016" PRIx64 ".snap", dir, index,
		 term);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	rc_snap_header_encode(h, index, term, bytes, rc_crc32c(0, body, bytes));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		storage_err(err, errlen, "%s: open: %s", tmp, strerror(errno));
		return -errno;
	}
	rc = snap_write_all(fd, h, sizeof(h));
	if (rc == 0)
		rc = snap_write_all(fd, body, bytes);
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc == 0) {
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fsync(dfd) != 0)
			rc = -errno;
		if (dfd >= 0)
			close(dfd);
	}
	if (rc != 0) {
		storage_err(err, errlen, "%s: writing the snapshot: %s", tmp, strerror(-rc));
		unlink(tmp);
	}
	return rc;
}

/* Reads and checks the header of dir/name into *info; NULL or why it is refused. */
static const char *
snap_check_header(int fd, const char *name, struct rc_snap_info *info)
{
	uint8_t h[RC_SNAP_HEADER_BYTES];
	struct stat st;

	if (fstat(fd, &st) != 0 || pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return "shorter than a snapshot header";
	return rc_snap_header_check(h, (uint64_t)st.st_size, name, info);
}

/* Reads the body of an open snapshot and checks its CRC; 0 or a negative errno. */
static int
snap_read_body(int fd, const struct rc_snap_info *info, void **body)
{
	uint8_t *buf = malloc(info->bytes > 0 ? info->bytes : 1);
	uint64_t off = 0;

	if (buf == NULL)
		return -ENOMEM;
	while (off < info->bytes) {
		ssize_t n = pread(fd, buf + off, info->bytes - off,
				  (off_t)(RC_SNAP_HEADER_BYTES + off));

		if (n <= 0) {
			free(buf);
			return n < 0 ? -errno : -EIO;
		}
		off += (uint64_t)n;
	}
	if (rc_crc32c(0, buf, info->bytes) != info->crc) {
		free(buf);
		return -EBADMSG;
	}
	*body = buf;
	return 0;
}

/* Finds and checks the newest snapshot; see snapshot.h. */
int
rc_snap_latest(const char *dir, struct rc_snap_info *info, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char best[256] = "";
	uint64_t best_index = 0;

	memset(info, 0, sizeof(*info));
	if (d == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) != NULL) {
		uint64_t index, term;

		if (rc_snap_parse_name(de->d_name, &index, &term) && index > best_index) {
			best_index = index;
			memcpy(best, de->d_name, strlen(de->d_name) + 1); /* 43 bytes */
		}
	}
	closedir(d);
	if (best_index == 0)
		return 0;

	char path[4200];
	const char *why;
	void *body = NULL;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, best);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		storage_err(err, errlen, "%s: open: %s", path, strerror(errno));
		return -errno;
	}
	why = snap_check_header(fd, best, info);
	if (why != NULL) {
		close(fd);
		storage_err(err, errlen,
			    "%s: offset 0: %s: the snapshot is corrupt (nothing was changed)", path,
			    why);
		memset(info, 0, sizeof(*info));
		return -EBADMSG;
	}
	rc = snap_read_body(fd, info, &body);
	close(fd);
	free(body);
	if (rc != 0) {
		storage_err(err, errlen, "%s: offset %u: %s (nothing was changed)", path,
			    RC_SNAP_HEADER_BYTES,
			    rc == -EBADMSG ?
				    "snapshot body CRC32C mismatch: the snapshot is corrupt" :
				    strerror(-rc));
		memset(info, 0, sizeof(*info));
		return rc;
	}
	return 0;
}

/* Reads a snapshot's body; see snapshot.h. */
int
rc_snap_read(const char *dir, const struct rc_snap_info *info, void **body, char *err,
	     size_t errlen)
{
	char path[4200];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, info->name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		storage_err(err, errlen, "%s: open: %s", path, strerror(errno));
		return -errno;
	}
	rc = snap_read_body(fd, info, body);
	close(fd);
	if (rc != 0)
		storage_err(err, errlen, "%s: offset %u: %s", path, RC_SNAP_HEADER_BYTES,
			    rc == -EBADMSG ? "snapshot body CRC32C mismatch" : strerror(-rc));
	return rc;
}

/* Removes snapshots older than index and stray temp files; see snapshot.h. */
int
rc_snap_remove_older(const char *dir, uint64_t index)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4200];
	int removed = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		uint64_t i, t;
		size_t len = strlen(de->d_name);
		bool tmp = len > 4 && strncmp(de->d_name, "snap-", 5) == 0 &&
			   strcmp(de->d_name + len - 4, ".tmp") == 0;

		if (tmp || (rc_snap_parse_name(de->d_name, &i, &t) && i < index)) {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			removed += unlink(path) == 0;
		}
	}
	closedir(d);
	return removed;
}
