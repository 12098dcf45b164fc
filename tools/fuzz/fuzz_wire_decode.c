/*
 * libFuzzer target: arbitrary bytes into rc_wire_decode(). A refused frame must name a known
 * reason; an accepted one must re-encode to exactly the bytes received (into a buffer of exactly
 * that size, so ASan sees any encoder overrun). Any mismatch aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <replicore/limits.h>
#include <replicore/raft.h>
#include <replicore/wire.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Where the payload callback finds entry i's bytes: payloads[i] for entries[i]. */
struct fuzz_payloads {
	const struct rc_raft_entry *entries;
	const uint8_t *const *payloads;
};

/* Returns the payload of entry e, found by its position in ctx's entries. */
static const void *
fuzz_payload(void *ctx, const struct rc_raft_entry *e)
{
	const struct fuzz_payloads *fp = ctx;

	return fp->payloads[e - fp->entries];
}

/* Decodes the input; on success re-encodes it and aborts unless the bytes are identical. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rc_raft_entry entries[RC_MSG_ENTRIES_MAX];
	static const uint8_t *payloads[RC_MSG_ENTRIES_MAX];
	struct fuzz_payloads fp = { .entries = entries, .payloads = payloads };
	struct rc_wire_header h;
	struct rc_raft_msg m;
	enum rc_wire_error err;
	uint8_t *again;
	int32_t len;

	if (size > UINT32_MAX)
		return 0;
	err = rc_wire_decode(data, (uint32_t)size, &h, &m, entries, payloads, RC_MSG_ENTRIES_MAX);
	if ((unsigned)err >= RC_WIRE_ERROR_COUNT) {
		fprintf(stderr, "verdict %d out of range\n", (int)err);
		abort();
	}
	if (err != RC_WIRE_OK)
		return 0;
	if (m.entry_count > RC_MSG_ENTRIES_MAX || (m.type != RC_MSG_APPEND && m.entry_count != 0))
		abort();

	again = malloc(size);
	if (again == NULL)
		abort();
	len = rc_wire_encode(again, (uint32_t)size, h.cluster_id, h.seq, &m, fuzz_payload, &fp);
	if (len != (int32_t)size || memcmp(again, data, size) != 0) {
		fprintf(stderr,
			"accepted frame of type %u, %zu bytes, re-encodes to %d different bytes\n",
			m.type, size, len);
		abort();
	}
	free(again);
	return 0;
}
