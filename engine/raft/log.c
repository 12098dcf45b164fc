/*
 * The core's log: a ring of entry descriptors. Indexes snap_index+1..last_index are held at
 * ring[index & mask]; snap_index/snap_term describe the last compacted entry. Only entries
 * above the commit index are ever truncated, and compaction only drops applied entries.
 */
#include <stddef.h>

#include <replicore/raft.h>

#include "raft_internal.h"

/* Returns the descriptor at index, or NULL when it is compacted or beyond the log. */
const struct rc_raft_entry *
rc_raft_entry_at(const struct rc_raft *r, uint64_t index)
{
	if (index <= r->snap_index || index > r->last_index)
		return NULL;
	return &r->ring[index & RAFT_RING_MASK];
}

/* Returns the term at index; index must lie in snap_index..last_index (0 for index 0). */
uint64_t
rc_raft_term_at(const struct rc_raft *r, uint64_t index)
{
	if (index == r->snap_index)
		return r->snap_term;
	RC_ASSERT(index > r->snap_index && index <= r->last_index);
	return r->ring[index & RAFT_RING_MASK].term;
}

/* Returns how many more entries the ring can hold. */
uint64_t
raft_log_room(const struct rc_raft *r)
{
	return RC_LOG_ENTRIES_MAX - (r->last_index - r->snap_index);
}

/* Returns true when the log holds an entry at index with this term (index 0 matches term 0). */
bool
raft_log_match_term(const struct rc_raft *r, uint64_t index, uint64_t term)
{
	if (index < r->snap_index || index > r->last_index)
		return false;
	return rc_raft_term_at(r, index) == term;
}

/*
 * Returns true when a candidate's log ending at (last_index, last_term) is at least as
 * up-to-date as ours (Raft §5.4.1): a later last term wins, equal terms compare length.
 */
bool
raft_log_up_to_date(const struct rc_raft *r, uint64_t last_index, uint64_t last_term)
{
	uint64_t our_term = rc_raft_term_at(r, r->last_index);

	return last_term > our_term || (last_term == our_term && last_index >= r->last_index);
}

/*
 * Fast backtracking (§5.3): returns the largest index <= index (clamped to our log) whose term
 * is <= term. Every entry above it, up to index, has a term the other side cannot match.
 */
uint64_t
raft_log_conflict_hint(const struct rc_raft *r, uint64_t index, uint64_t term)
{
	uint64_t i = index < r->last_index ? index : r->last_index;

	while (i > r->snap_index && rc_raft_term_at(r, i) > term)
		i--;
	return i;
}

/* Appends e at last_index + 1 and widens the update's persist range to cover it. */
void
raft_log_append(struct rc_raft *r, const struct rc_raft_entry *e, struct rc_raft_update *u)
{
	RC_ASSERT(raft_log_room(r) > 0);
	RC_ASSERT(e->term >= rc_raft_term_at(r, r->last_index));
	RC_ASSERT(e->bytes <= RC_ENTRY_BYTES_MAX && e->type < RC_ENTRY_TYPE_COUNT);
	r->last_index++;
	r->ring[r->last_index & RAFT_RING_MASK] = *e;
	if (!(u->flags & RC_UPDATE_ENTRIES) || u->persist_first > r->last_index)
		u->persist_first = r->last_index;
	u->persist_last = r->last_index;
	u->flags |= RC_UPDATE_ENTRIES;
}

/* Drops every entry after last_kept; they must all be uncommitted. */
void
raft_log_truncate(struct rc_raft *r, uint64_t last_kept)
{
	RAFT_ASSERT_UNMUTATED(last_kept >= r->commit);
	RC_ASSERT(last_kept >= r->snap_index && last_kept <= r->last_index);
	r->last_index = last_kept;
	if (r->persisted > last_kept)
		r->persisted = last_kept;
	if (r->commit > last_kept)
		r->commit = last_kept; /* only reachable with a planted bug */
}

/*
 * Compacts applied entries once the ring is more than half full, keeping the newest half for
 * followers that lag behind. A follower that needs compacted entries waits for a snapshot. The
 * compaction point never moves back.
 */
void
raft_log_maybe_compact(struct rc_raft *r)
{
	uint64_t keep_from = r->last_index > RC_LOG_ENTRIES_MAX / 2 ?
				     r->last_index - RC_LOG_ENTRIES_MAX / 2 :
				     0;
	uint64_t target = r->applied < keep_from ? r->applied : keep_from;

	if (target <= r->snap_index)
		return;
	r->snap_term = rc_raft_term_at(r, target);
	r->snap_index = target;
}

/*
 * Restarts the log at an installed snapshot ending at (index, term), past our compaction point:
 * when the log holds index with that term, the entries after it stay (Log Matching: everything
 * up to index is the snapshot's); otherwise the whole log goes and ends at index. Entries up to
 * index count as durable (the snapshot is). Returns true when the tail was kept.
 */
bool
raft_log_restart_at(struct rc_raft *r, uint64_t index, uint64_t term)
{
	bool kept = raft_log_match_term(r, index, term);

	RC_ASSERT(index > r->snap_index && term >= r->snap_term);
	if (!kept) {
		r->last_index = index;
		r->persisted = index;
	} else if (r->persisted < index) {
		r->persisted = index;
	}
	r->snap_index = index;
	r->snap_term = term;
	RC_ASSERT(r->persisted <= r->last_index);
	return kept;
}

/*
 * Counts the entries from index from that one AppendEntries may carry: at most count_max, at
 * most bytes_max wire bytes (but always one entry), not past the log's end and not across the
 * ring's wrap, so the message can point into the ring. Stores their payload bytes in *bytes_out.
 */
uint32_t
raft_log_contiguous(const struct rc_raft *r, uint64_t from, uint32_t count_max, uint32_t bytes_max,
		    uint64_t *bytes_out)
{
	uint64_t wire_bytes = 0;
	uint64_t payload_bytes = 0;
	uint32_t n = 0;

	RC_ASSERT(from > r->snap_index);
	while (from + n <= r->last_index && n < count_max) {
		const struct rc_raft_entry *e = &r->ring[(from + n) & RAFT_RING_MASK];
		uint64_t cost = (uint64_t)e->bytes + RC_WIRE_ENTRY_HEADER_BYTES;

		if (n > 0 && wire_bytes + cost > bytes_max)
			break;
		wire_bytes += cost;
		payload_bytes += e->bytes;
		n++;
		if (((from + n) & RAFT_RING_MASK) == 0)
			break; /* the next entry sits at the ring's start */
	}
	*bytes_out = payload_bytes;
	return n;
}
