/*
 * The smallest program built against an installed replicore (pkg-config replicore): a
 * single-voter cluster driven through rc_raft_step(). It campaigns, proposes three entries,
 * reports its write durable and applies what commits, following the caller loop of raft.h.
 * Exits 0 when all three entries were committed and applied in order.
 */
#include <stdio.h>
#include <stdlib.h>

#include <replicore/raft.h>

int
main(void)
{
	static const uint16_t voters[] = { 1 };
	static struct rc_raft_update u;
	struct rc_raft_config cfg;
	struct rc_raft *r = malloc(sizeof(*r));
	struct rc_raft_entry entries[3] = { { .bytes = 8 }, { .bytes = 8 }, { .bytes = 8 } };
	struct rc_raft_event ev = { .type = RC_EVENT_CAMPAIGN };
	uint64_t applied = 0;

	rc_raft_config_default(&cfg, 1, voters, 1);
	if (r == NULL || rc_raft_init(r, &cfg, NULL, NULL, 0, 0) != 0)
		return 1;
	rc_raft_update_reset(&u);
	rc_raft_step(r, &ev, &u);
	ev = (struct rc_raft_event){ .type = RC_EVENT_PROPOSE };
	ev.propose.entries = entries;
	ev.propose.count = 3;
	rc_raft_step(r, &ev, &u);
	/* Step 2 of the loop: the write is durable (nothing to write in this example). */
	ev = (struct rc_raft_event){ .type = RC_EVENT_PERSISTED };
	ev.persisted.index = u.persist_last;
	ev.persisted.term = rc_raft_term_at(r, u.persist_last);
	rc_raft_step(r, &ev, &u);
	if (u.flags & RC_UPDATE_APPLY)
		applied = u.apply_last;
	printf("role %s, term %llu, commit %llu, applied %llu (no-op + 3 entries)\n",
	       rc_raft_role_name(r->role), (unsigned long long)r->term,
	       (unsigned long long)r->commit, (unsigned long long)applied);
	free(r);
	return applied == 4 ? 0 : 1;
}
