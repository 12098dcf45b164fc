/*
 * Snapshot files' names and headers (see snapshot.h). No I/O: the runtime's snapshot files and
 * rc-waldump check them with the same code.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <replicore/snapshot.h>
#include <replicore/wal.h>

#include "../wire/wire_le.h"

#define SNAP_MAGIC "RCSNAP01"
#define SNAP_VERSION 1u

/* Encodes a snapshot file's header; see snapshot.h. */
void
rc_snap_header_encode(uint8_t *h, uint64_t index, uint64_t term, uint64_t bytes, uint32_t crc)
{
	memset(h, 0, RC_SNAP_HEADER_BYTES);
	memcpy(h, SNAP_MAGIC, 8);
	wire_put_u32(h + 8, SNAP_VERSION);
	wire_put_u64(h + 16, index);
	wire_put_u64(h + 24, term);
	wire_put_u64(h + 32, bytes);
	wire_put_u32(h + 40, crc);
	wire_put_u32(h + 60, rc_crc32c(0, h, 60));
}

/* Parses a snapshot file's name; see snapshot.h. */
bool
rc_snap_parse_name(const char *name, uint64_t *index, uint64_t *term)
{
	char tail[8];

	return strlen(name) == 43 && strcmp(name + 38, ".snap") == 0 &&
	       sscanf(name, "snap-%16" SCNx64 "-%16" SCNx64 ".sna%1s", index, term, tail) == 3;
}

/* Checks a snapshot file's header against its name and size; see snapshot.h. */
const char *
rc_snap_header_check(const uint8_t *h, uint64_t file_bytes, const char *name,
		     struct rc_snap_info *info)
{
	uint64_t index = 0, term = 0;

	memset(info, 0, sizeof(*info));
	if (file_bytes < RC_SNAP_HEADER_BYTES)
		return "shorter than a snapshot header";
	if (memcmp(h, SNAP_MAGIC, 8) != 0)
		return "bad snapshot magic";
	if (wire_get_u32(h + 60) != rc_crc32c(0, h, 60))
		return "snapshot header CRC32C mismatch";
	if (wire_get_u32(h + 8) != SNAP_VERSION)
		return "unknown snapshot version";
	rc_snap_parse_name(name, &index, &term);
	info->index = wire_get_u64(h + 16);
	info->term = wire_get_u64(h + 24);
	info->bytes = wire_get_u64(h + 32);
	info->crc = wire_get_u32(h + 40);
	if (info->index != index || info->term != term || info->index == 0 || info->term == 0)
		return "index or term differ from the file name";
	if (file_bytes != RC_SNAP_HEADER_BYTES + info->bytes)
		return "file size does not match the header";
	snprintf(info->name, sizeof(info->name), "%.63s", name);
	return NULL;
}
