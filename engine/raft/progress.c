/*
 * The in-flight window of one follower: a ring of the appends sent and not yet acknowledged,
 * bounded in messages and in bytes, so the leader can pipeline without flooding a follower.
 */
#include <replicore/assert.h>
#include <replicore/raft.h>

/* Empties the window and sets its bounds. */
void
rc_inflights_reset(struct rc_inflights *in, uint32_t cap, uint64_t bytes_cap)
{
	RC_ASSERT(cap >= 1 && cap <= RC_INFLIGHT_MSGS_MAX);
	RC_ASSERT(bytes_cap >= 1);
	in->start = 0;
	in->count = 0;
	in->bytes = 0;
	in->cap = cap;
	in->bytes_cap = bytes_cap;
}

/* Returns true when the window holds cap messages or at least bytes_cap bytes. */
bool
rc_inflights_full(const struct rc_inflights *in)
{
	return in->count == in->cap || in->bytes >= in->bytes_cap;
}

/* Records a message ending at last_index; indexes must increase and the window not be full. */
void
rc_inflights_add(struct rc_inflights *in, uint64_t last_index, uint32_t msg_bytes)
{
	RC_ASSERT(!rc_inflights_full(in));
	if (in->count > 0) {
		uint32_t newest = (in->start + in->count - 1) % RC_INFLIGHT_MSGS_MAX;

		RC_ASSERT(in->last_index[newest] < last_index);
	}
	uint32_t slot = (in->start + in->count) % RC_INFLIGHT_MSGS_MAX;

	in->last_index[slot] = last_index;
	in->msg_bytes[slot] = msg_bytes;
	in->count++;
	in->bytes += msg_bytes;
}

/* Drops every message whose last index is <= index, oldest first. */
void
rc_inflights_free_to(struct rc_inflights *in, uint64_t index)
{
	while (in->count > 0 && in->last_index[in->start] <= index) {
		RC_ASSERT(in->bytes >= in->msg_bytes[in->start]);
		in->bytes -= in->msg_bytes[in->start];
		in->start = (in->start + 1) % RC_INFLIGHT_MSGS_MAX;
		in->count--;
	}
	if (in->count == 0)
		in->start = 0;
}
