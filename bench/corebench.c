/*
 * rc-corebench: how fast the pure Raft core steps, with no network, disk or payload copies.
 *
 * Leader: a 3-voter leader takes PROPOSE batches of 64-byte entries, its own write completes
 * (PERSISTED), each follower acknowledges the batch (one APPEND_RESP per follower, as acks
 * coalesce per burst), the batch commits and is applied (APPLIED). Follower: a follower takes
 * AppendEntries of full messages and persists them. Every entry counted is committed and
 * applied by the core's own rules; the loop checks it. Figures: entries/s and events/s.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <replicore/assert.h>
#include <replicore/raft.h>

#define BENCH_PAYLOAD_BYTES 64u

static struct rc_raft_update bench_update;

/* Returns a monotonic time in nanoseconds. */
static uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Steps one event into the shared update. */
static void
bench_step(struct rc_raft *r, const struct rc_raft_event *ev)
{
	rc_raft_step(r, ev, &bench_update);
}

/* Makes node 1 of {1,2,3} the leader of term 1 with its no-op entry durable. */
static void
bench_make_leader(struct rc_raft *r, uint32_t window)
{
	static const uint16_t voters[] = { 1, 2, 3 };
	struct rc_raft_config cfg;
	struct rc_raft_event ev = { .type = RC_EVENT_CAMPAIGN };

	rc_raft_config_default(&cfg, 1, voters, 3);
	cfg.pre_vote = false;
	cfg.msg_entries_max = RC_MSG_ENTRIES_MAX;
	cfg.msg_bytes_max = RC_FRAME_BYTES_MAX - 128;
	cfg.inflight_msgs_max = window;
	cfg.inflight_bytes_max = RC_INFLIGHT_BYTES_MAX;
	RC_ASSERT(rc_raft_init(r, &cfg, NULL, NULL, 0, 0) == 0);
	rc_raft_update_reset(&bench_update);
	bench_step(r, &ev);
	ev = (struct rc_raft_event){ .type = RC_EVENT_RECEIVE };
	ev.msg = (struct rc_raft_msg){ .type = RC_MSG_VOTE_RESP, .from = 2, .to = 1, .term = 1 };
	bench_step(r, &ev);
	RC_ASSERT(r->role == RC_ROLE_LEADER);
	rc_raft_update_reset(&bench_update);
}

/*
 * Runs the leader loop for entries_total entries in batches of batch; returns the events
 * stepped and stores the elapsed nanoseconds.
 */
static uint64_t
bench_leader(struct rc_raft *r, uint32_t batch, uint64_t entries_total, uint64_t *elapsed_ns)
{
	static struct rc_raft_entry entries[RC_PROPOSE_ENTRIES_MAX];
	uint64_t events = 0;
	uint64_t start;

	for (uint32_t i = 0; i < batch; i++)
		entries[i] = (struct rc_raft_entry){ .bytes = BENCH_PAYLOAD_BYTES, .ref = i };
	start = bench_now_ns();
	for (uint64_t done = 0; done < entries_total; done += batch) {
		struct rc_raft_event ev = { .type = RC_EVENT_PROPOSE };

		ev.propose.entries = entries;
		ev.propose.count = batch;
		bench_step(r, &ev);
		RC_ASSERT(bench_update.propose_accepted == batch);
		ev = (struct rc_raft_event){ .type = RC_EVENT_PERSISTED };
		ev.persisted.index = r->last_index;
		ev.persisted.term = r->term;
		bench_step(r, &ev);
		for (uint16_t peer = 2; peer <= 3; peer++) {
			ev = (struct rc_raft_event){ .type = RC_EVENT_RECEIVE };
			ev.msg = (struct rc_raft_msg){ .type = RC_MSG_APPEND_RESP,
						       .from = peer,
						       .to = 1,
						       .term = r->term,
						       .index = r->last_index };
			bench_step(r, &ev);
		}
		RC_ASSERT(r->commit == r->last_index);
		RC_ASSERT(bench_update.flags & RC_UPDATE_APPLY);
		ev = (struct rc_raft_event){ .type = RC_EVENT_APPLIED };
		ev.applied.index = bench_update.apply_last;
		bench_step(r, &ev);
		events += 5;
		rc_raft_update_reset(&bench_update);
	}
	*elapsed_ns = bench_now_ns() - start;
	return events;
}

/* Runs a follower taking full AppendEntries of msg_entries entries; returns events stepped. */
static uint64_t
bench_follower(struct rc_raft *r, uint32_t msg_entries, uint64_t entries_total,
	       uint64_t *elapsed_ns)
{
	static const uint16_t voters[] = { 1, 2, 3 };
	static struct rc_raft_entry entries[RC_MSG_ENTRIES_MAX];
	struct rc_raft_config cfg;
	uint64_t events = 0;
	uint64_t start;

	rc_raft_config_default(&cfg, 2, voters, 3);
	RC_ASSERT(rc_raft_init(r, &cfg, NULL, NULL, 0, 0) == 0);
	rc_raft_update_reset(&bench_update);
	for (uint32_t i = 0; i < msg_entries; i++)
		entries[i] = (struct rc_raft_entry){ .term = 1, .bytes = BENCH_PAYLOAD_BYTES };
	start = bench_now_ns();
	for (uint64_t done = 0; done < entries_total; done += msg_entries) {
		struct rc_raft_event ev = { .type = RC_EVENT_RECEIVE };

		ev.msg = (struct rc_raft_msg){ .type = RC_MSG_APPEND,
					       .from = 1,
					       .to = 2,
					       .term = 1,
					       .index = r->last_index,
					       .log_term = r->last_index > 0 ? 1 : 0,
					       .commit = r->last_index,
					       .entry_count = msg_entries,
					       .entries = entries };
		bench_step(r, &ev);
		RC_ASSERT(bench_update.msg_after_persist_count == 1);
		ev = (struct rc_raft_event){ .type = RC_EVENT_PERSISTED };
		ev.persisted.index = r->last_index;
		ev.persisted.term = 1;
		bench_step(r, &ev);
		if (bench_update.flags & RC_UPDATE_APPLY) {
			ev = (struct rc_raft_event){ .type = RC_EVENT_APPLIED };
			ev.applied.index = bench_update.apply_last;
			bench_step(r, &ev);
			events++;
		}
		events += 2;
		rc_raft_update_reset(&bench_update);
	}
	*elapsed_ns = bench_now_ns() - start;
	return events;
}

static void
bench_usage(FILE *f)
{
	fprintf(f, "usage: rc-corebench [--entries N] [--runs N]\n"
		   "Steps the pure Raft core with no I/O and prints entries/s and events/s for a\n"
		   "leader (proposals + persist + 2 acks + apply per batch) and a follower.\n"
		   "  --entries N   entries per measurement (default 20000000)\n"
		   "  --runs N      repetitions; the median is printed (default 5)\n");
}

/* Orders doubles for qsort. */
static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = { { "entries", required_argument, NULL, 'e' },
					      { "runs", required_argument, NULL, 'r' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	static const uint32_t batches[] = { 1, 16, 64, 256, 1024 };
	uint64_t entries_total = 20000000;
	long runs = 5;
	struct rc_raft *r;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'e':
			entries_total = strtoull(optarg, &end, 10);
			if (*end != '\0' || entries_total < 1024) {
				fprintf(stderr, "rc-corebench: --entries wants a number >= 1024\n");
				return 2;
			}
			break;
		case 'r':
			runs = strtol(optarg, &end, 10);
			if (*end != '\0' || runs < 1 || runs > 99) {
				fprintf(stderr, "rc-corebench: --runs wants 1..99\n");
				return 2;
			}
			break;
		case 'h':
			bench_usage(stdout);
			return 0;
		default:
			bench_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "rc-corebench: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	r = malloc(sizeof(*r));
	if (r == NULL) {
		fprintf(stderr, "rc-corebench: out of memory\n");
		return 1;
	}
	printf("%-10s %8s %16s %16s  (median of %ld runs, %u-byte entries)\n", "role", "batch",
	       "entries/s", "events/s", runs, BENCH_PAYLOAD_BYTES);
	for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]) + 1; b++) {
		bool follower = b == sizeof(batches) / sizeof(batches[0]);
		uint32_t batch = follower ? 64 : batches[b];
		double rate[99], ev_rate[99];

		for (long i = 0; i < runs; i++) {
			uint64_t ns, events;

			if (follower) {
				events = bench_follower(r, batch, entries_total, &ns);
			} else {
				bench_make_leader(r, RC_INFLIGHT_MSGS_MAX);
				events = bench_leader(r, batch, entries_total, &ns);
			}
			rate[i] = (double)entries_total * 1e9 / (double)ns;
			ev_rate[i] = (double)events * 1e9 / (double)ns;
		}
		qsort(rate, (size_t)runs, sizeof(rate[0]), bench_cmp);
		qsort(ev_rate, (size_t)runs, sizeof(ev_rate[0]), bench_cmp);
		printf("%-10s %8u %16.0f %16.0f\n", follower ? "follower" : "leader", batch,
		       rate[runs / 2], ev_rate[runs / 2]);
	}
	free(r);
	return 0;
}
