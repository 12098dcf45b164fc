/*
 * The engine owns its poll loops: one loop per lane (a CPU, or a DPDK lcore), each polling the
 * nodes placed on it with rc_node_poll() until rc_engine_stop(). This is the first way to embed
 * replicore; the second is to call rc_node_poll() from a loop the application already has
 * (node.h, and tools/examples/app_poll.c).
 *
 * Each loop registers as a QSBR reader (rcu.h) and announces a quiescent state once per
 * iteration, so the state machines it applies may read RCU-protected data. By default a loop is
 * a pthread pinned to its CPU; an application that has started DPDK passes launch/join
 * functions that run it on an EAL lcore instead (rte_eal_remote_launch, rte_eal_wait_lcore).
 */
#ifndef REPLICORE_ENGINE_H
#define REPLICORE_ENGINE_H

#include <stdint.h>

#include <replicore/limits.h>
#include <replicore/node.h>

#define RC_ENGINE_LANES_MAX 64u

/* Runs fn(arg) on lane (a CPU or an lcore id); returns 0 or a negative errno. */
typedef int (*rc_engine_launch_fn)(int (*fn)(void *), void *arg, unsigned int lane, void *ctx);
/* Waits until the function launched on lane returned. */
typedef void (*rc_engine_join_fn)(unsigned int lane, void *ctx);

struct rc_engine_config {
	uint32_t lane_count;			 /* 1..RC_ENGINE_LANES_MAX */
	unsigned int lanes[RC_ENGINE_LANES_MAX]; /* the CPU (or lcore) of each loop */
	uint32_t node_count;			 /* 1..RC_NODES_MAX */
	struct rc_node *nodes[RC_NODES_MAX];	 /* node i runs on lane i mod lane_count */
	rc_engine_launch_fn launch;		 /* NULL: pthreads pinned to lanes[] */
	rc_engine_join_fn join;			 /* set exactly when launch is */
	void *launch_ctx;
};

struct rc_engine;

/*
 * Starts one loop per lane. The nodes must not be polled by anyone else until rc_engine_stop().
 * Returns 0 and *out, -EINVAL (bad configuration) or the launch error (loops already started
 * are stopped again).
 */
int rc_engine_start(const struct rc_engine_config *cfg, struct rc_engine **out);

/* Stops every loop, waits for them and frees the engine (the nodes stay, stopped). */
void rc_engine_stop(struct rc_engine *e);

/* Iterations all loops ran so far (any thread). */
uint64_t rc_engine_iterations(const struct rc_engine *e);

#endif
