/*
 * Embedding replicore, way 2: an existing DPDK application polls the nodes from its own loop.
 *
 * The application already has a run-to-completion loop on its lcore (here it counts its own
 * "work" items). It adds rc_node_poll() for each replica it hosts to that loop, proposes from the
 * same loop, and learns each proposal's outcome from the node's complete callback, which runs
 * inside rc_node_poll() on that lcore: no thread, no lock, no queue of its own.
 *
 *   app_poll [EAL arguments]   (default: -l 0 --no-huge --no-pci --no-shconf -m 256)
 *
 * Exits 0 when every proposal committed and was applied on every replica, in order; 1 otherwise.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>

#include <replicore/node.h>

#include "dpdk.h"

#define NODES 3
#define PROPOSALS 20000u

struct app {
	uint64_t committed, refused;
	uint64_t applied[NODES];    /* entries each replica applied */
	uint64_t next_value[NODES]; /* the value each replica must apply next */
	uint64_t out_of_order;
	uint64_t own_work; /* the application's own work, interleaved with the polls */
};

static struct app app;

static void
on_complete(void *ctx, uint64_t cookie, uint64_t index, enum rc_propose_status status)
{
	(void)ctx;
	(void)cookie;
	(void)index;
	if (status == RC_PROPOSE_COMMITTED)
		app.committed++;
	else
		app.refused++;
}

/* Each replica's state machine: the applied values must be 0, 1, 2, ... in log order. */
static bool
on_apply(void *ctx, uint64_t index, const void *payload, uint32_t bytes)
{
	int node = (int)(uintptr_t)ctx;
	uint64_t value;

	(void)index;
	if (bytes != sizeof(value))
		return true;
	memcpy(&value, payload, sizeof(value));
	if (value != app.next_value[node])
		app.out_of_order++;
	app.next_value[node] = value + 1;
	app.applied[node]++;
	return true;
}

int
main(int argc, char **argv)
{
	char prefix[64];
	char *defaults[] = { argv[0],	    "-l", "0",	 "--no-huge", "--no-pci",
			     "--no-shconf", "-m", "256", prefix,      "--log-level=lib.eal:error" };
	struct rc_dpdk_config dcfg = { .frame_bytes = 1500, .nodes = NODES };
	struct rc_node *nodes[NODES];
	struct rc_driver *drv;
	uint16_t voters[NODES] = { 1, 2, 3 };
	uint64_t proposed = 0, t0;

	snprintf(prefix, sizeof(prefix), "--file-prefix=rc-example-poll-%d", (int)getpid());
	if (rc_dpdk_eal_init(argc > 1 ? argc : 10, argc > 1 ? argv : defaults) < 0)
		return 1;
	if (rc_dpdk_open_ring(&dcfg, &drv) != 0)
		return 1;
	for (int i = 0; i < NODES; i++) {
		struct rc_node_config cfg;

		rc_node_config_default(&cfg, (uint16_t)(i + 1), voters, NODES);
		cfg.payload_bytes_max = 64;
		cfg.complete = on_complete;
		cfg.apply = on_apply;
		cfg.apply_ctx = (void *)(uintptr_t)i;
		if (rc_node_create(&cfg, drv, &nodes[i]) != 0)
			return 1;
	}
	t0 = rc_clock_ns();
	/* The application's loop: its own work, then the replicas, then its proposals. */
	while (app.committed + app.refused < PROPOSALS) {
		uint64_t now = rc_clock_ns();

		if (now - t0 > 20000000000ull) {
			fprintf(stderr, "app_poll: not done within 20 s\n");
			return 1;
		}
		app.own_work++;
		for (int i = 0; i < NODES; i++)
			rc_node_poll(nodes[i], now);
		for (int i = 0; i < NODES; i++) {
			if (!rc_node_is_leader(nodes[i]))
				continue;
			while (proposed < PROPOSALS &&
			       proposed - app.committed - app.refused < 256 &&
			       rc_propose(nodes[i], &proposed, sizeof(proposed), proposed) == 0)
				proposed++;
		}
	}
	/* Let the followers apply the last entries (a few more polls). */
	for (int k = 0; k < 100000; k++) {
		bool all = true;

		for (int i = 0; i < NODES; i++) {
			rc_node_poll(nodes[i], rc_clock_ns());
			all = all && app.applied[i] >= PROPOSALS;
		}
		if (all)
			break;
	}
	int failures = app.committed != PROPOSALS || app.out_of_order != 0;

	for (int i = 0; i < NODES; i++) {
		printf("node %d applied %" PRIu64 " entries\n", i + 1, app.applied[i]);
		failures += app.applied[i] != PROPOSALS;
	}
	printf("%" PRIu64 " committed, %" PRIu64 " refused, %" PRIu64 " out of order, %" PRIu64
	       " iterations of the application's loop\n",
	       app.committed, app.refused, app.out_of_order, app.own_work);
	for (int i = 0; i < NODES; i++)
		rc_node_destroy(nodes[i]);
	drv->ops->close(drv);
	rte_eal_cleanup();
	return failures == 0 ? 0 : 1;
}
