/*
 * rc-node's client port: a thread that serves the key-value client protocol (replicore/client.h)
 * on a kernel UDP socket, off the node's data-plane lcore. Writes become proposals (rc_propose),
 * linearizable and lease GETs become read requests (rc_read_index), local GETs read the table
 * at once; the node's callbacks hand outcomes back through a single-producer ring, and the
 * thread answers each request once.
 */
#ifndef REPLICORE_TOOLS_KV_SERVICE_H
#define REPLICORE_TOOLS_KV_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include <replicore/kv.h>
#include <replicore/node.h>

/* Cookies of the service's proposals and reads carry this bit (rc-node's bench's never do). */
#define KV_SERVICE_COOKIE (1ull << 62)

struct kv_service;

/*
 * Binds 0.0.0.0:port and starts the service thread for node n and its table kv. Returns 0, or
 * -errno after printing why.
 */
int kv_service_start(struct kv_service **out, struct rc_node *n, struct rc_kv *kv,
		     uint32_t cluster_id, uint16_t port);

/* Stops the thread, closes the socket, frees the service. */
void kv_service_stop(struct kv_service *s);

/*
 * From the node's complete and read_ready callbacks (the node's thread): takes the outcome of a
 * service cookie. The table's result of the entry just applied is read here (rc_kv_result_of).
 */
void kv_service_on_complete(struct kv_service *s, uint64_t cookie, uint64_t index,
			    enum rc_propose_status status);
void kv_service_on_read(struct kv_service *s, uint64_t cookie, uint64_t index,
			enum rc_read_status status);

/* Requests answered so far, by outcome (any thread; for the final counters). */
void kv_service_counts(const struct kv_service *s, uint64_t *requests, uint64_t *answered,
		       uint64_t *malformed);

#endif
