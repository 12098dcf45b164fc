/* Poll loops owned by the engine (see engine.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <replicore/engine.h>
#include <replicore/rcu.h>

struct engine_lane {
	struct rc_engine *engine;
	unsigned int lane;
	uint32_t node_count;
	struct rc_node *nodes[RC_NODES_MAX];
	pthread_t thread; /* default launch only */
	bool started;
	_Alignas(64) _Atomic uint64_t iterations;
};

struct rc_engine {
	struct rc_engine_config cfg;
	_Atomic bool stop;
	struct engine_lane lanes[RC_ENGINE_LANES_MAX];
};

/* One lane's loop: poll its nodes, announce a quiescent state, until asked to stop. */
static int
engine_loop(void *arg)
{
	struct engine_lane *l = arg;
	/* The application may have registered this lcore already (with either flavour). */
	bool registered_here = rc_rcu_register(RC_RCU_QSBR) == 0;

	while (!atomic_load_explicit(&l->engine->stop, memory_order_relaxed)) {
		uint64_t now = rc_clock_ns();

		for (uint32_t i = 0; i < l->node_count; i++)
			rc_node_poll(l->nodes[i], now);
		rc_rcu_quiescent(); /* a no-op unless the thread is a QSBR reader */
		atomic_store_explicit(&l->iterations,
				      atomic_load_explicit(&l->iterations, memory_order_relaxed) +
					      1,
				      memory_order_relaxed);
	}
	if (registered_here)
		rc_rcu_unregister();
	return 0;
}

/* The default launch: a pthread pinned to CPU lane. */
static void *
engine_thread(void *arg)
{
	engine_loop(arg);
	return NULL;
}

static int
engine_pthread_launch(struct engine_lane *l)
{
	cpu_set_t set;
	int rc = pthread_create(&l->thread, NULL, engine_thread, l);

	if (rc != 0)
		return -rc;
	CPU_ZERO(&set);
	CPU_SET(l->lane, &set);
	pthread_setaffinity_np(l->thread, sizeof(set), &set); /* best effort */
	return 0;
}

/* Starts the loops; see engine.h. */
int
rc_engine_start(const struct rc_engine_config *cfg, struct rc_engine **out)
{
	struct rc_engine *e;
	int rc = 0;

	if (cfg->lane_count == 0 || cfg->lane_count > RC_ENGINE_LANES_MAX || cfg->node_count == 0 ||
	    cfg->node_count > RC_NODES_MAX || (cfg->launch == NULL) != (cfg->join == NULL)) {
		fprintf(stderr, "replicore: engine: bad configuration (%u lanes, %u nodes)\n",
			cfg->lane_count, cfg->node_count);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < cfg->node_count; i++)
		if (cfg->nodes[i] == NULL)
			return -EINVAL;
	e = aligned_alloc(64, (sizeof(*e) + 63) & ~(size_t)63);
	if (e == NULL)
		return -ENOMEM;
	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	for (uint32_t i = 0; i < cfg->lane_count; i++) {
		e->lanes[i].engine = e;
		e->lanes[i].lane = cfg->lanes[i];
	}
	for (uint32_t i = 0; i < cfg->node_count; i++) {
		struct engine_lane *l = &e->lanes[i % cfg->lane_count];

		l->nodes[l->node_count++] = cfg->nodes[i];
	}
	for (uint32_t i = 0; i < cfg->lane_count && rc == 0; i++) {
		struct engine_lane *l = &e->lanes[i];

		if (l->node_count == 0)
			continue;
		rc = cfg->launch != NULL ? cfg->launch(engine_loop, l, l->lane, cfg->launch_ctx) :
					   engine_pthread_launch(l);
		if (rc == 0)
			l->started = true;
		else
			fprintf(stderr, "replicore: engine: lane %u did not start: %s\n", l->lane,
				strerror(rc < 0 ? -rc : rc));
	}
	if (rc != 0) {
		rc_engine_stop(e);
		return rc < 0 ? rc : -rc;
	}
	*out = e;
	return 0;
}

/* Stops and joins every loop, then frees the engine. */
void
rc_engine_stop(struct rc_engine *e)
{
	if (e == NULL)
		return;
	atomic_store(&e->stop, true);
	for (uint32_t i = 0; i < e->cfg.lane_count; i++) {
		struct engine_lane *l = &e->lanes[i];

		if (!l->started)
			continue;
		if (e->cfg.join != NULL)
			e->cfg.join(l->lane, e->cfg.launch_ctx);
		else
			pthread_join(l->thread, NULL);
	}
	free(e);
}

/* Iterations of all loops. */
uint64_t
rc_engine_iterations(const struct rc_engine *e)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < e->cfg.lane_count; i++)
		sum += atomic_load_explicit(&e->lanes[i].iterations, memory_order_relaxed);
	return sum;
}
