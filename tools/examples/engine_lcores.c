/*
 * Embedding replicore, way 1: the engine owns its lcores.
 *
 * A DPDK application starts the EAL, opens an in-process cluster of three replicas over net_ring
 * ports, gives each a key-value state machine (engine/kv) and hands all three to rc_engine_start()
 * on a worker lcore. Its main thread then acts as a client: it proposes PUTs to the leader with
 * rc_propose(), collects their outcome from the leader's pollable completion ring, reads the keys
 * back on every replica with lock-free GETs (a memb RCU reader), and stops the engine.
 *
 *   engine_lcores [EAL arguments]   (default: -l 0-1 --no-huge --no-pci --no-shconf -m 256)
 *
 * Exits 0 when every PUT committed and every replica holds every value; 1 otherwise.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include <replicore/engine.h>
#include <replicore/kv.h>
#include <replicore/node.h>
#include <replicore/rcu.h>

#include "dpdk.h"

#define NODES 3
#define PUTS 10000u

/* The engine's loops run on EAL lcores. */
static int
launch(int (*fn)(void *), void *arg, unsigned int lcore, void *ctx)
{
	(void)ctx;
	return rte_eal_remote_launch(fn, arg, lcore);
}

static void
join(unsigned int lcore, void *ctx)
{
	(void)ctx;
	rte_eal_wait_lcore(lcore);
}

int
main(int argc, char **argv)
{
	char prefix[64];
	char *defaults[] = { argv[0],	    "-l", "0-1", "--no-huge", "--no-pci",
			     "--no-shconf", "-m", "256", prefix,      "--log-level=lib.eal:error" };
	struct rc_dpdk_config dcfg = { .frame_bytes = 1500, .nodes = NODES };
	struct rc_engine_config ecfg = { 0 };
	struct rc_node *nodes[NODES];
	struct rc_kv *kvs[NODES];
	struct rc_driver *drv;
	struct rc_engine *engine;
	uint16_t voters[NODES] = { 1, 2, 3 };
	int failures = 0;

	snprintf(prefix, sizeof(prefix), "--file-prefix=rc-example-engine-%d", (int)getpid());
	if (rc_dpdk_eal_init(argc > 1 ? argc : 10, argc > 1 ? argv : defaults) < 0)
		return 1;
	if (rte_lcore_count() < 2) {
		fprintf(stderr, "engine_lcores: needs a worker lcore (e.g. -l 0-1)\n");
		return 1;
	}
	if (rc_dpdk_open_ring(&dcfg, &drv) != 0)
		return 1;
	for (int i = 0; i < NODES; i++) {
		struct rc_node_config cfg;
		struct rc_kv_config kc;

		rc_kv_config_default(&kc, PUTS, 16, 32);
		if (rc_kv_create(&kc, &kvs[i]) != 0)
			return 1;
		rc_node_config_default(&cfg, (uint16_t)(i + 1), voters, NODES);
		cfg.payload_bytes_max = 64;
		cfg.apply_batch = rc_kv_node_apply_batch; /* batches of committed entries */
		cfg.apply_ctx = kvs[i];
		cfg.completion_ring_slots = 1024;
		if (rc_node_create(&cfg, drv, &nodes[i]) != 0)
			return 1;
		ecfg.nodes[ecfg.node_count++] = nodes[i];
	}
	/* Every node on the first worker lcore; the main lcore stays the application's. */
	ecfg.lane_count = 1;
	ecfg.lanes[0] = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
	ecfg.launch = launch;
	ecfg.join = join;
	if (rc_engine_start(&ecfg, &engine) != 0)
		return 1;

	/* Find the leader through the status any thread may read. */
	struct rc_node *leader = NULL;

	for (int tries = 0; leader == NULL && tries < 10000; tries++) {
		for (int i = 0; i < NODES; i++)
			if (rc_node_is_leader(nodes[i]))
				leader = nodes[i];
		usleep(1000);
	}
	if (leader == NULL) {
		fprintf(stderr, "engine_lcores: no leader within 10 s\n");
		rc_engine_stop(engine);
		return 1;
	}

	/* PUT key-N = value-N, keeping 256 in flight; outcomes come from the completion ring. */
	uint32_t proposed = 0, committed = 0, refused = 0;
	struct rc_completion done[64];

	while (committed + refused < PUTS) {
		while (proposed < PUTS && proposed - committed - refused < 256) {
			char key[16], value[32];
			uint8_t cmd[64];

			snprintf(key, sizeof(key), "key-%u", proposed);
			snprintf(value, sizeof(value), "value-%u", proposed);
			int32_t len = rc_kv_encode_put(cmd, sizeof(cmd), key, (uint32_t)strlen(key),
						       value, (uint32_t)strlen(value));

			if (rc_propose(leader, cmd, (uint32_t)len, proposed) != 0)
				break; /* -ENOBUFS: back-pressure, collect completions first */
			proposed++;
		}
		uint32_t n = rc_node_completions(leader, done, 64);

		for (uint32_t i = 0; i < n; i++) {
			if (done[i].status == RC_PROPOSE_COMMITTED)
				committed++;
			else
				refused++;
		}
	}

	/* Read every key back on every replica: lock-free GETs from this (memb) thread. */
	struct rc_node_status st;

	rc_rcu_register(RC_RCU_MEMB);
	for (int i = 0; i < NODES; i++) {
		uint32_t missing = 0;

		/* A follower may still be applying the last entries: wait for it. */
		for (int tries = 0; tries < 5000; tries++) {
			rc_node_status(nodes[i], &st);
			if (rc_kv_applied_index(kvs[i]) >= PUTS)
				break;
			usleep(1000);
		}
		for (uint32_t k = 0; k < PUTS; k++) {
			char key[16], want[32], got[32];
			uint32_t len = 0;

			snprintf(key, sizeof(key), "key-%u", k);
			snprintf(want, sizeof(want), "value-%u", k);
			if (rc_kv_get(kvs[i], key, (uint32_t)strlen(key), got, sizeof(got), &len,
				      NULL) != RC_KV_OK ||
			    len != strlen(want) || memcmp(got, want, len) != 0)
				missing++;
		}
		printf("node %u: %s, term %" PRIu64 ", commit %" PRIu64 ", applied %" PRIu64
		       ", %u of %u values missing\n",
		       st.id, st.role == RC_ROLE_LEADER ? "leader" : "follower", st.term, st.commit,
		       st.applied, missing, PUTS);
		failures += missing > 0;
	}
	rc_rcu_unregister();
	printf("%u PUTs committed, %u refused, %" PRIu64 " loop iterations\n", committed, refused,
	       rc_engine_iterations(engine));
	failures += committed != PUTS;
	rc_engine_stop(engine);
	for (int i = 0; i < NODES; i++) {
		rc_node_destroy(nodes[i]);
		rc_kv_destroy(kvs[i]);
	}
	drv->ops->close(drv);
	rte_eal_cleanup();
	return failures == 0 ? 0 : 1;
}
