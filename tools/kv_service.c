/* rc-node's key-value client port (see kv_service.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <replicore/assert.h>
#include <replicore/client.h>
#include <replicore/rcu.h>

#include "kv_service.h"

/* Requests in flight at once; a request beyond them is answered BUSY. */
#define KV_SERVICE_SLOTS 4096u
/* Outcomes the node's thread can hand over before the service takes them (>= SLOTS). */
#define KV_SERVICE_ANSWERS 8192u
#define KV_SERVICE_DATAGRAM_MAX 9000u

_Static_assert((KV_SERVICE_ANSWERS & (KV_SERVICE_ANSWERS - 1)) == 0, "a power of two");
_Static_assert(KV_SERVICE_ANSWERS >= KV_SERVICE_SLOTS, "every slot's outcome fits");

/* A request waiting for the node. */
struct kv_slot {
	bool used;
	uint8_t op;
	uint64_t id;
	struct sockaddr_in from;
	uint16_t key_len;
	uint8_t key[RC_KV_KEY_BYTES_MAX];
	uint32_t next_free;
};

/* An outcome from the node's thread. */
struct kv_answer {
	uint32_t slot;
	uint8_t read;	/* a read's outcome, else a proposal's */
	uint8_t status; /* enum rc_propose_status or enum rc_read_status */
	uint8_t result; /* enum rc_kv_result of a committed write */
	uint64_t index;
};

struct kv_service {
	struct rc_node *node;
	struct rc_kv *kv;
	uint32_t cluster_id;
	int fd;
	pthread_t thread;
	_Atomic bool stop;
	struct kv_slot slots[KV_SERVICE_SLOTS];
	uint32_t free_head; /* KV_SERVICE_SLOTS: none free */
	struct kv_answer answers[KV_SERVICE_ANSWERS];
	_Alignas(64) _Atomic uint64_t answers_tail; /* the node's thread */
	_Alignas(64) _Atomic uint64_t answers_head; /* the service */
	_Atomic uint64_t requests, answered, malformed;
};

/* Sends one response to to. */
static void
kv_reply(struct kv_service *s, const struct sockaddr_in *to, const struct rc_client_response *r)
{
	uint8_t buf[KV_SERVICE_DATAGRAM_MAX];
	int32_t len = rc_client_encode_response(buf, sizeof(buf), s->cluster_id, r);

	RC_ASSERT(len > 0);
	sendto(s->fd, buf, (size_t)len, 0, (const struct sockaddr *)to, sizeof(*to));
	atomic_fetch_add_explicit(&s->answered, 1, memory_order_relaxed);
}

/* Answers with a status only (a failure, or a write's outcome). */
static void
kv_reply_status(struct kv_service *s, const struct sockaddr_in *to, uint64_t id, uint8_t status,
		uint64_t index)
{
	struct rc_client_response r = { .id = id, .status = status, .index = index };
	struct rc_node_status st;

	if (status == RC_CLIENT_NOT_LEADER) {
		rc_node_status(s->node, &st);
		r.leader = st.leader;
	}
	kv_reply(s, to, &r);
}

/* GETs key from this node's table and answers (index: the read index, or 0 for local). */
static void
kv_reply_get(struct kv_service *s, const struct sockaddr_in *to, uint64_t id, const uint8_t *key,
	     uint16_t key_len, uint64_t index)
{
	uint8_t value[RC_KV_VALUE_BYTES_MAX];
	uint32_t len = 0;
	struct rc_client_response r = { .id = id, .index = index };
	enum rc_kv_result kr = rc_kv_get(s->kv, key, key_len, value, sizeof(value), &len, NULL);

	r.status = kr == RC_KV_OK ? RC_CLIENT_OK : RC_CLIENT_NOT_FOUND;
	if (kr == RC_KV_OK) {
		r.value = value;
		r.value_len = (uint16_t)len;
	}
	kv_reply(s, to, &r);
}

/* Takes a free slot for a request, or returns KV_SERVICE_SLOTS when none is left. */
static uint32_t
kv_slot_take(struct kv_service *s)
{
	uint32_t i = s->free_head;

	if (i < KV_SERVICE_SLOTS) {
		s->free_head = s->slots[i].next_free;
		s->slots[i].used = true;
	}
	return i;
}

static void
kv_slot_free(struct kv_service *s, uint32_t i)
{
	s->slots[i].used = false;
	s->slots[i].next_free = s->free_head;
	s->free_head = i;
}

/* Handles one datagram: decode, then answer at once or hand it to the node. */
static void
kv_request(struct kv_service *s, const uint8_t *buf, uint32_t len, const struct sockaddr_in *from)
{
	struct rc_client_request q;
	uint32_t cluster;
	uint8_t cmd[RC_ENTRY_BYTES_MAX];
	int32_t cmd_len = -EINVAL;

	atomic_fetch_add_explicit(&s->requests, 1, memory_order_relaxed);
	if (rc_client_decode_request(buf, len, &cluster, &q) != RC_WIRE_OK ||
	    cluster != s->cluster_id) {
		atomic_fetch_add_explicit(&s->malformed, 1, memory_order_relaxed);
		return; /* not ours to answer: no id we can trust */
	}
	if (q.op == RC_CLIENT_GET && q.consistency == RC_CLIENT_LOCAL) {
		kv_reply_get(s, from, q.id, q.key, q.key_len, 0);
		return;
	}
	if (q.op == RC_CLIENT_PUT)
		cmd_len = rc_kv_encode_put(cmd, sizeof(cmd), q.key, q.key_len, q.value,
					   q.value_len);
	else if (q.op == RC_CLIENT_DELETE)
		cmd_len = rc_kv_encode_delete(cmd, sizeof(cmd), q.key, q.key_len);
	else if (q.op == RC_CLIENT_CAS)
		cmd_len = rc_kv_encode_cas(cmd, sizeof(cmd), q.key, q.key_len,
					   q.expected_len == RC_KV_EXPECT_ABSENT ? NULL :
										   q.expected,
					   q.expected_len, q.value, q.value_len);
	if (q.op != RC_CLIENT_GET && cmd_len < 0) {
		kv_reply_status(s, from, q.id, RC_CLIENT_BAD_REQUEST, 0);
		return;
	}
	uint32_t i = kv_slot_take(s);

	if (i == KV_SERVICE_SLOTS) {
		kv_reply_status(s, from, q.id, RC_CLIENT_BUSY, 0);
		return;
	}
	struct kv_slot *sl = &s->slots[i];

	sl->op = q.op;
	sl->id = q.id;
	sl->from = *from;
	sl->key_len = q.key_len;
	memcpy(sl->key, q.key, q.key_len);
	int rc = q.op == RC_CLIENT_GET ?
			 rc_read_index(s->node, KV_SERVICE_COOKIE | i,
				       q.consistency == RC_CLIENT_LEASE ? RC_READ_LEASE : 0) :
			 rc_propose(s->node, cmd, (uint32_t)cmd_len, KV_SERVICE_COOKIE | i);

	if (rc != 0) {
		kv_slot_free(s, i);
		kv_reply_status(s, from, q.id,
				rc == -EMSGSIZE ? RC_CLIENT_BAD_REQUEST : RC_CLIENT_BUSY, 0);
	}
}

/* Answers a request whose outcome the node handed over. */
static void
kv_answer(struct kv_service *s, const struct kv_answer *a)
{
	struct kv_slot *sl = &s->slots[a->slot];
	uint8_t status;

	RC_ASSERT(sl->used);
	if (a->read) {
		if (a->status == RC_READ_OK) {
			/* This node has applied the read index: its table answers. */
			kv_reply_get(s, &sl->from, sl->id, sl->key, sl->key_len, a->index);
			kv_slot_free(s, a->slot);
			return;
		}
		status = a->status == RC_READ_BUSY ? RC_CLIENT_BUSY : RC_CLIENT_NOT_LEADER;
	} else if (a->status == RC_PROPOSE_COMMITTED) {
		static const uint8_t by_result[] = {
			[RC_KV_OK] = RC_CLIENT_OK,
			[RC_KV_NOT_FOUND] = RC_CLIENT_NOT_FOUND,
			[RC_KV_CAS_MISMATCH] = RC_CLIENT_CAS_MISMATCH,
			[RC_KV_FULL] = RC_CLIENT_FULL,
			[RC_KV_BAD_COMMAND] = RC_CLIENT_BAD_REQUEST,
		};

		status = a->result < sizeof(by_result) ? by_result[a->result] :
							 RC_CLIENT_BAD_REQUEST;
	} else if (a->status == RC_PROPOSE_LOG_FULL) {
		status = RC_CLIENT_BUSY;
	} else {
		/* Not leader, or superseded: this entry is not and will not be committed. */
		status = RC_CLIENT_NOT_LEADER;
	}
	kv_reply_status(s, &sl->from, sl->id, status,
			a->status == RC_PROPOSE_COMMITTED && !a->read ? a->index : 0);
	kv_slot_free(s, a->slot);
}

/* Hands an outcome to the service (the node's thread). */
static void
kv_push(struct kv_service *s, uint64_t cookie, bool read, uint8_t status, uint8_t result,
	uint64_t index)
{
	uint64_t tail = atomic_load_explicit(&s->answers_tail, memory_order_relaxed);

	/* At most KV_SERVICE_SLOTS requests are out, so the ring has room. */
	RC_ASSERT(tail - atomic_load_explicit(&s->answers_head, memory_order_acquire) <
		  KV_SERVICE_ANSWERS);
	s->answers[tail & (KV_SERVICE_ANSWERS - 1)] = (struct kv_answer){
		.slot = (uint32_t)(cookie & ~KV_SERVICE_COOKIE),
		.read = read,
		.status = status,
		.result = result,
		.index = index,
	};
	atomic_store_explicit(&s->answers_tail, tail + 1, memory_order_release);
}

/* A proposal of the service settled. */
void
kv_service_on_complete(struct kv_service *s, uint64_t cookie, uint64_t index,
		       enum rc_propose_status status)
{
	enum rc_kv_result r = RC_KV_BAD_COMMAND;

	/* The node completes a proposal right after the apply call that applied its entry. */
	if (status == RC_PROPOSE_COMMITTED) {
		bool known = rc_kv_result_of(s->kv, index, &r);

		RC_ASSERT(known);
	}
	kv_push(s, cookie, false, (uint8_t)status, (uint8_t)r, index);
}

/* A read of the service settled. */
void
kv_service_on_read(struct kv_service *s, uint64_t cookie, uint64_t index,
		   enum rc_read_status status)
{
	kv_push(s, cookie, true, (uint8_t)status, 0, index);
}

/* The service thread: datagrams in, outcomes out, until stopped. */
static void *
kv_service_main(void *arg)
{
	struct kv_service *s = arg;
	uint8_t buf[KV_SERVICE_DATAGRAM_MAX];

	rc_rcu_register(RC_RCU_MEMB);
	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		bool idle = true;

		for (int k = 0; k < 64; k++) {
			struct sockaddr_in from;
			socklen_t flen = sizeof(from);
			ssize_t n = recvfrom(s->fd, buf, sizeof(buf), MSG_DONTWAIT,
					     (struct sockaddr *)&from, &flen);

			if (n < 0)
				break;
			idle = false;
			kv_request(s, buf, (uint32_t)n, &from);
		}
		uint64_t head = atomic_load_explicit(&s->answers_head, memory_order_relaxed);
		uint64_t tail = atomic_load_explicit(&s->answers_tail, memory_order_acquire);

		for (; head < tail; head++) {
			kv_answer(s, &s->answers[head & (KV_SERVICE_ANSWERS - 1)]);
			idle = false;
		}
		atomic_store_explicit(&s->answers_head, head, memory_order_release);
		if (idle)
			usleep(50); /* not a data-plane thread: sleep when there is nothing to do */
	}
	rc_rcu_unregister();
	return NULL;
}

/* Binds the port and starts the thread. */
int
kv_service_start(struct kv_service **out, struct rc_node *n, struct rc_kv *kv, uint32_t cluster_id,
		 uint16_t port)
{
	struct kv_service *s = aligned_alloc(64, (sizeof(*s) + 63) & ~(size_t)63);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
	int rc;

	if (s == NULL)
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	s->node = n;
	s->kv = kv;
	s->cluster_id = cluster_id;
	for (uint32_t i = 0; i < KV_SERVICE_SLOTS; i++)
		s->slots[i].next_free = i + 1;
	s->free_head = 0;
	addr.sin_addr.s_addr = htonl(INADDR_ANY);
	s->fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		rc = -errno;
		fprintf(stderr, "rc-node: client port %u: %s\n", port, strerror(errno));
		if (s->fd >= 0)
			close(s->fd);
		free(s);
		return rc;
	}
	rc = pthread_create(&s->thread, NULL, kv_service_main, s);
	if (rc != 0) {
		fprintf(stderr, "rc-node: client port thread: %s\n", strerror(rc));
		close(s->fd);
		free(s);
		return -rc;
	}
	*out = s;
	return 0;
}

/* Stops the thread and frees the service. */
void
kv_service_stop(struct kv_service *s)
{
	if (s == NULL)
		return;
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	close(s->fd);
	free(s);
}

/* The service's counts. */
void
kv_service_counts(const struct kv_service *s, uint64_t *requests, uint64_t *answered,
		  uint64_t *malformed)
{
	*requests = atomic_load(&s->requests);
	*answered = atomic_load(&s->answered);
	*malformed = atomic_load(&s->malformed);
}
