/*
 * The UDP driver (see udp.h): per local node one non-blocking socket, one rx pool the kernel
 * receives into and one tx pool the caller fills, each a stack of free fixed-size slots. A frame's
 * priv is its slot index; every free checks the slot against the pool (range, address, lent), so
 * a frame given back twice or to the wrong node aborts.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <replicore/assert.h>
#include <replicore/driver.h>
#include <replicore/limits.h>

#include "udp.h"

/* Buffer slots start on cache lines. */
#define UDP_ALIGN_BYTES 64u

_Static_assert(RC_FRAME_BYTES_MIN > RC_FRAME_IP_UDP_BYTES, "every frame has room for a body");
_Static_assert(RC_BURST_MAX <= UINT16_MAX, "burst counts fit uint16_t");
_Static_assert((uint64_t)RC_UDP_BUFFERS_MAX * RC_FRAME_BYTES_MAX < (1ull << 40),
	       "pool bytes stay far below size_t");

/* Equal buffers with a stack of the free ones. */
struct udp_pool {
	uint8_t *mem;	      /* count buffers of stride bytes */
	uint32_t *free_slots; /* the free slots, free_count of them */
	uint8_t *lent;	      /* per slot: 1 while a caller holds it */
	uint32_t count;
	uint32_t free_count; /* Invariant: free_count <= count; free_count + lent slots == count */
	uint32_t stride;     /* Invariant: a multiple of UDP_ALIGN_BYTES, >= body_bytes_max */
};

/* One local node: its socket, pools, counters and the scratch of one burst. */
struct udp_node {
	uint16_t id;
	int fd; /* -1 until open */
	struct rc_driver_stats stats;
	uint64_t rx_errors; /* recvmmsg failures other than "nothing to read" */
	uint64_t tx_errors; /* frames lost to sendmmsg failures other than a full queue */
	struct udp_pool rx;
	struct udp_pool tx;
	struct mmsghdr msgs[RC_BURST_MAX];
	struct iovec iovs[RC_BURST_MAX];
	struct sockaddr_in names[RC_BURST_MAX];
} __attribute__((aligned(UDP_ALIGN_BYTES)));

/* The driver: the shared part first, then the address table and the local nodes. */
struct udp_driver {
	struct rc_driver base;
	uint16_t peer_count;
	uint16_t node_count;
	struct rc_udp_peer peers[RC_NODES_MAX];
	struct sockaddr_in peer_addrs[RC_NODES_MAX]; /* peer_addrs[i] is where peers[i] listens */
	struct udp_node nodes[RC_NODES_MAX];
};

static const struct rc_driver_ops udp_ops;

/* Returns the UDP driver that embeds d; aborts when d is another driver. */
static struct udp_driver *
udp_driver_of(struct rc_driver *d)
{
	RC_ASSERT(d != NULL);
	RC_ASSERT(d->ops == &udp_ops);
	return (struct udp_driver *)d;
}

/* Returns the local node with id; a call for a node this driver does not host aborts. */
static struct udp_node *
udp_node_find(struct udp_driver *u, uint16_t id)
{
	uint16_t i;

	for (i = 0; i < u->node_count; i++) {
		if (u->nodes[i].id == id)
			return &u->nodes[i];
	}
	RC_ASSERT(!"call for a node this driver does not host");
	return NULL;
}

/* Returns the index of peer id in the address table, or -1 when it is not there. */
static int
udp_peer_index(const struct rc_udp_peer *peers, uint16_t peer_count, uint16_t id)
{
	uint16_t i;

	for (i = 0; i < peer_count; i++) {
		if (peers[i].id == id)
			return i;
	}
	return -1;
}

/* Returns true when a received datagram's source is a node of the address table. */
static bool
udp_source_known(const struct udp_driver *u, const struct sockaddr_in *src, socklen_t src_bytes)
{
	uint16_t i;

	if (src_bytes != sizeof(*src) || src->sin_family != AF_INET)
		return false;
	for (i = 0; i < u->peer_count; i++) {
		if (u->peer_addrs[i].sin_addr.s_addr == src->sin_addr.s_addr &&
		    u->peer_addrs[i].sin_port == src->sin_port)
			return true;
	}
	return false;
}

/* Writes "a.b.c.d:port" of a peer into buf (at least INET_ADDRSTRLEN + 6 bytes); returns buf. */
static const char *
udp_peer_format(const struct rc_udp_peer *p, char *buf, size_t buf_bytes)
{
	char ip[INET_ADDRSTRLEN];
	struct in_addr a = { .s_addr = p->ipv4_be };

	if (inet_ntop(AF_INET, &a, ip, sizeof(ip)) == NULL)
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, buf_bytes, "%s:%u", ip, (unsigned)p->port);
	return buf;
}

/*
 * Reports a socket call that failed while running: prints the first failure of each kind and
 * then every power-of-two'th one, so a persistent fault is visible without flooding stderr.
 */
static void
udp_report_run_error(uint16_t node, const char *step, int err, uint64_t count)
{
	if ((count & (count - 1)) != 0)
		return;
	fprintf(stderr, "udp: node %u: %s failed: %s (%llu so far)\n", (unsigned)node, step,
		strerror(err), (unsigned long long)count);
}

/*
 * Allocates count buffers of frame_bytes (rounded up to a cache line) and their free stack, all
 * free, and touches every byte so no page fault is left for the data path. Returns 0 or -ENOMEM
 * (the caller frees a partial pool with udp_pool_fini).
 */
static int
udp_pool_init(struct udp_pool *p, uint32_t count, uint32_t frame_bytes)
{
	size_t mem_bytes;
	void *mem = NULL;
	uint32_t i;

	p->stride = (frame_bytes + UDP_ALIGN_BYTES - 1) & ~(UDP_ALIGN_BYTES - 1);
	p->count = count;
	p->free_count = 0;
	mem_bytes = (size_t)count * p->stride;
	if (posix_memalign(&mem, UDP_ALIGN_BYTES, mem_bytes) != 0)
		return -ENOMEM;
	p->mem = mem;
	p->free_slots = calloc(count, sizeof(*p->free_slots));
	p->lent = calloc(count, sizeof(*p->lent));
	if (p->free_slots == NULL || p->lent == NULL)
		return -ENOMEM;
	memset(p->mem, 0, mem_bytes);
	/* Slot 0 on top of the stack: the first frames use the lowest addresses. */
	for (i = 0; i < count; i++)
		p->free_slots[i] = count - 1 - i;
	p->free_count = count;
	return 0;
}

/* Frees a pool's memory, initialised or partly so; the pool is empty afterwards. */
static void
udp_pool_fini(struct udp_pool *p)
{
	free(p->mem);
	free(p->free_slots);
	free(p->lent);
	memset(p, 0, sizeof(*p));
}

/* Takes a free slot (the caller checked free_count) and marks it lent; returns the slot. */
static uint32_t
udp_pool_take(struct udp_pool *p)
{
	uint32_t slot;

	RC_ASSERT(p->free_count > 0);
	slot = p->free_slots[--p->free_count];
	RC_ASSERT(slot < p->count && !p->lent[slot]);
	p->lent[slot] = 1;
	return slot;
}

/* Returns the first byte of a slot. */
static uint8_t *
udp_pool_buffer(const struct udp_pool *p, uint32_t slot)
{
	RC_ASSERT(slot < p->count);
	return p->mem + (size_t)slot * p->stride;
}

/* Returns the slot of a frame lent from p; aborts when the frame is not one p has lent. */
static uint32_t
udp_pool_slot_of(const struct udp_pool *p, const struct rc_frame *f)
{
	uintptr_t slot = (uintptr_t)f->priv;

	RC_ASSERT(slot < p->count);
	RC_ASSERT(f->body == udp_pool_buffer(p, (uint32_t)slot));
	RC_ASSERT(p->lent[slot]);
	return (uint32_t)slot;
}

/* Puts a lent slot back on the free stack. */
static void
udp_pool_put(struct udp_pool *p, uint32_t slot)
{
	RC_ASSERT(slot < p->count && p->lent[slot]);
	RC_ASSERT(p->free_count < p->count);
	p->lent[slot] = 0;
	p->free_slots[p->free_count++] = slot;
}

/*
 * Receives up to n datagrams for node into free rx buffers with one recvmmsg. Datagrams cut
 * short (longer than body_bytes_max) and datagrams from sources outside the address table go
 * straight back to the pool and count in rx_dropped. Returns the frames kept; with no free
 * buffer it receives nothing.
 */
static uint16_t
udp_rx_burst(struct rc_driver *d, uint16_t node_id, struct rc_frame *frames, uint16_t n)
{
	struct udp_driver *u = udp_driver_of(d);
	struct udp_node *node = udp_node_find(u, node_id);
	uint32_t slots[RC_BURST_MAX];
	uint16_t want, kept = 0;
	int i, got;

	RC_ASSERT(n <= RC_BURST_MAX);
	want = n < node->rx.free_count ? n : (uint16_t)node->rx.free_count;
	if (want == 0)
		return 0;
	for (i = 0; i < want; i++) {
		slots[i] = udp_pool_take(&node->rx);
		node->iovs[i].iov_base = udp_pool_buffer(&node->rx, slots[i]);
		node->iovs[i].iov_len = d->body_bytes_max;
		node->msgs[i].msg_hdr = (struct msghdr){
			.msg_name = &node->names[i],
			.msg_namelen = sizeof(node->names[i]),
			.msg_iov = &node->iovs[i],
			.msg_iovlen = 1,
		};
		node->msgs[i].msg_len = 0;
	}
	got = recvmmsg(node->fd, node->msgs, want, MSG_DONTWAIT, NULL);
	if (got < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			udp_report_run_error(node->id, "recvmmsg", errno, ++node->rx_errors);
		got = 0;
	}
	RC_ASSERT(got <= want);
	for (i = 0; i < got; i++) {
		const struct msghdr *h = &node->msgs[i].msg_hdr;

		if ((h->msg_flags & MSG_TRUNC) != 0 ||
		    !udp_source_known(u, &node->names[i], h->msg_namelen)) {
			node->stats.rx_dropped++;
			udp_pool_put(&node->rx, slots[i]);
			continue;
		}
		RC_ASSERT(node->msgs[i].msg_len <= d->body_bytes_max);
		frames[kept] = (struct rc_frame){
			.body = node->iovs[i].iov_base,
			.body_bytes = node->msgs[i].msg_len,
			.body_cap = d->body_bytes_max,
			.priv = (void *)(uintptr_t)slots[i],
		};
		node->stats.rx_frames++;
		node->stats.rx_bytes += node->msgs[i].msg_len;
		kept++;
	}
	/* Buffers recvmmsg did not fill go back, the last taken first: the stack is as before. */
	for (i = want - 1; i >= got; i--)
		udp_pool_put(&node->rx, slots[i]);
	return kept;
}

/* Gives n received frames of node back to its rx pool; a frame it did not lend aborts. */
static void
udp_rx_free(struct rc_driver *d, uint16_t node_id, struct rc_frame *frames, uint16_t n)
{
	struct udp_node *node = udp_node_find(udp_driver_of(d), node_id);
	uint16_t i;

	for (i = 0; i < n; i++)
		udp_pool_put(&node->rx, udp_pool_slot_of(&node->rx, &frames[i]));
}

/*
 * Lends up to n empty frames of node's tx pool (body_bytes 0, body_cap body_bytes_max). Returns
 * how many; the frames it could not lend count in alloc_failed.
 */
static uint16_t
udp_tx_alloc(struct rc_driver *d, uint16_t node_id, struct rc_frame *frames, uint16_t n)
{
	struct udp_node *node = udp_node_find(udp_driver_of(d), node_id);
	uint16_t got, i;

	got = n < node->tx.free_count ? n : (uint16_t)node->tx.free_count;
	for (i = 0; i < got; i++) {
		uint32_t slot = udp_pool_take(&node->tx);

		frames[i] = (struct rc_frame){
			.body = udp_pool_buffer(&node->tx, slot),
			.body_bytes = 0,
			.body_cap = d->body_bytes_max,
			.priv = (void *)(uintptr_t)slot,
		};
	}
	node->stats.alloc_failed += n - got;
	return got;
}

/*
 * Sends n frames of node to peer with sendmmsg, calling again after a partial send. Stops at a
 * full queue (EAGAIN, ENOBUFS): the frames not taken count in tx_full and stay the caller's.
 * Another error loses the one frame it hit, as the wire would (counted, reported), and sending
 * goes on. Taken frames go back to the tx pool (the kernel holds a copy). Returns how many
 * frames were taken: the first ones of frames.
 */
static uint16_t
udp_tx_burst(struct rc_driver *d, uint16_t node_id, uint16_t peer, struct rc_frame *frames,
	     uint16_t n)
{
	struct udp_driver *u = udp_driver_of(d);
	struct udp_node *node = udp_node_find(u, node_id);
	int peer_index = udp_peer_index(u->peers, u->peer_count, peer);
	uint16_t i, taken = 0;

	RC_ASSERT(n <= RC_BURST_MAX);
	RC_ASSERT(peer_index >= 0);
	for (i = 0; i < n; i++) {
		udp_pool_slot_of(&node->tx, &frames[i]);
		RC_ASSERT(frames[i].body_bytes <= d->body_bytes_max);
		node->iovs[i].iov_base = frames[i].body;
		node->iovs[i].iov_len = frames[i].body_bytes;
		node->msgs[i].msg_hdr = (struct msghdr){
			.msg_name = &u->peer_addrs[peer_index],
			.msg_namelen = sizeof(u->peer_addrs[peer_index]),
			.msg_iov = &node->iovs[i],
			.msg_iovlen = 1,
		};
	}
	/* Each pass takes at least one frame or stops: at most n passes. */
	while (taken < n) {
		int sent = sendmmsg(node->fd, &node->msgs[taken], n - taken, MSG_DONTWAIT);

		if (sent > 0) {
			RC_ASSERT(sent <= n - taken);
			for (i = taken; i < taken + sent; i++) {
				node->stats.tx_frames++;
				node->stats.tx_bytes += frames[i].body_bytes;
			}
			taken += (uint16_t)sent;
			continue;
		}
		RC_ASSERT(sent < 0);
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == EINTR) {
			node->stats.tx_full += n - taken;
			break;
		}
		udp_report_run_error(node->id, "sendmmsg", errno, ++node->tx_errors);
		taken++;
	}
	for (i = 0; i < taken; i++)
		udp_pool_put(&node->tx, udp_pool_slot_of(&node->tx, &frames[i]));
	return taken;
}

/* Gives n unsent frames of node back to its tx pool; a frame it did not lend aborts. */
static void
udp_tx_free(struct rc_driver *d, uint16_t node_id, struct rc_frame *frames, uint16_t n)
{
	struct udp_node *node = udp_node_find(udp_driver_of(d), node_id);
	uint16_t i;

	for (i = 0; i < n; i++)
		udp_pool_put(&node->tx, udp_pool_slot_of(&node->tx, &frames[i]));
}

/* Copies the counters of node into st. */
static void
udp_stats(struct rc_driver *d, uint16_t node_id, struct rc_driver_stats *st)
{
	struct udp_node *node = udp_node_find(udp_driver_of(d), node_id);

	RC_ASSERT(st != NULL);
	*st = node->stats;
}

/* Closes every socket and frees every buffer and the driver itself; also undoes a partial open. */
static void
udp_close(struct rc_driver *d)
{
	struct udp_driver *u = udp_driver_of(d);
	uint16_t i;

	for (i = 0; i < u->node_count; i++) {
		if (u->nodes[i].fd >= 0)
			close(u->nodes[i].fd);
		udp_pool_fini(&u->nodes[i].rx);
		udp_pool_fini(&u->nodes[i].tx);
	}
	memset(u, 0, sizeof(*u));
	free(u);
}

static const struct rc_driver_ops udp_ops = {
	.name = "udp",
	.rx_burst = udp_rx_burst,
	.rx_free = udp_rx_free,
	.tx_alloc = udp_tx_alloc,
	.tx_burst = udp_tx_burst,
	.tx_free = udp_tx_free,
	.stats = udp_stats,
	.close = udp_close,
};

/* Checks a count against lo..hi; prints why and returns false when it is outside. */
static bool
udp_config_range(const char *what, uint32_t value, uint32_t lo, uint32_t hi)
{
	if (value >= lo && value <= hi)
		return true;
	fprintf(stderr, "udp: config: %s %u is outside %u..%u\n", what, value, lo, hi);
	return false;
}

/*
 * Checks the address table: ids in range and unique, ports set, addresses unique (a source
 * address must name one node). Prints the first problem; returns 0 or -EINVAL.
 */
static int
udp_config_check_peers(const struct rc_udp_config *cfg)
{
	char a[INET_ADDRSTRLEN + 8];
	uint16_t i, j;

	for (i = 0; i < cfg->peer_count; i++) {
		const struct rc_udp_peer *p = &cfg->peers[i];

		if (!udp_config_range("peer id", p->id, 1, RC_NODE_ID_MAX))
			return -EINVAL;
		if (p->port == 0) {
			fprintf(stderr, "udp: config: node %u has port 0\n", (unsigned)p->id);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (cfg->peers[j].id == p->id) {
				fprintf(stderr, "udp: config: node %u is in the peer table twice\n",
					(unsigned)p->id);
				return -EINVAL;
			}
			if (cfg->peers[j].ipv4_be == p->ipv4_be && cfg->peers[j].port == p->port) {
				fprintf(stderr, "udp: config: nodes %u and %u share address %s\n",
					(unsigned)cfg->peers[j].id, (unsigned)p->id,
					udp_peer_format(p, a, sizeof(a)));
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* Checks every field of cfg; prints the first problem. Returns 0 or -EINVAL. */
static int
udp_config_check(const struct rc_udp_config *cfg)
{
	uint16_t i, j;

	if (!udp_config_range("frame_bytes", cfg->frame_bytes, RC_FRAME_BYTES_MIN,
			      RC_FRAME_BYTES_MAX) ||
	    !udp_config_range("local_count", cfg->local_count, 1, RC_NODES_MAX) ||
	    !udp_config_range("peer_count", cfg->peer_count, 1, RC_NODES_MAX) ||
	    !udp_config_range("rx_buffers", cfg->rx_buffers, 1, RC_UDP_BUFFERS_MAX) ||
	    !udp_config_range("tx_buffers", cfg->tx_buffers, 1, RC_UDP_BUFFERS_MAX))
		return -EINVAL;
	if (udp_config_check_peers(cfg) != 0)
		return -EINVAL;
	for (i = 0; i < cfg->local_count; i++) {
		if (udp_peer_index(cfg->peers, cfg->peer_count, cfg->local_ids[i]) < 0) {
			fprintf(stderr, "udp: config: local node %u is not in the peer table\n",
				(unsigned)cfg->local_ids[i]);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (cfg->local_ids[j] == cfg->local_ids[i]) {
				fprintf(stderr, "udp: config: local node %u is listed twice\n",
					(unsigned)cfg->local_ids[i]);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/*
 * Asks for RC_UDP_SOCKET_BUFFER_BYTES of receive and send buffer on fd and warns (one line)
 * when the kernel grants less; never fails. Linux reports twice the bytes it was asked for.
 */
static void
udp_socket_buffers(int fd, uint16_t node)
{
	static const struct {
		int opt;
		const char *name;
		const char *sysctl;
	} bufs[] = {
		{ SO_RCVBUF, "SO_RCVBUF", "net.core.rmem_max" },
		{ SO_SNDBUF, "SO_SNDBUF", "net.core.wmem_max" },
	};
	int want = (int)RC_UDP_SOCKET_BUFFER_BYTES;
	size_t i;

	for (i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) {
		int have = 0;
		socklen_t have_bytes = sizeof(have);

		if (setsockopt(fd, SOL_SOCKET, bufs[i].opt, &want, sizeof(want)) != 0 ||
		    getsockopt(fd, SOL_SOCKET, bufs[i].opt, &have, &have_bytes) != 0) {
			fprintf(stderr, "udp: node %u: warning: %s of %d bytes failed: %s\n",
				(unsigned)node, bufs[i].name, want, strerror(errno));
			continue;
		}
		if (have < want)
			fprintf(stderr,
				"udp: node %u: warning: %s is %d bytes, asked for %d (raise %s)\n",
				(unsigned)node, bufs[i].name, have, want, bufs[i].sysctl);
	}
}

/*
 * Opens local node id of u: allocates its pools, then a non-blocking socket bound to its
 * address. Prints the failing step and returns -errno; the caller closes what was opened.
 */
static int
udp_node_open(struct udp_driver *u, struct udp_node *node, const struct rc_udp_config *cfg)
{
	int peer_index = udp_peer_index(u->peers, u->peer_count, node->id);
	char a[INET_ADDRSTRLEN + 8];
	int err;

	RC_ASSERT(peer_index >= 0);
	if (udp_pool_init(&node->rx, cfg->rx_buffers, cfg->frame_bytes) != 0 ||
	    udp_pool_init(&node->tx, cfg->tx_buffers, cfg->frame_bytes) != 0) {
		fprintf(stderr, "udp: node %u: allocating %u rx and %u tx buffers failed: %s\n",
			(unsigned)node->id, cfg->rx_buffers, cfg->tx_buffers, strerror(ENOMEM));
		return -ENOMEM;
	}
	node->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (node->fd < 0) {
		err = errno;
		fprintf(stderr, "udp: node %u: socket failed: %s\n", (unsigned)node->id,
			strerror(err));
		return -err;
	}
	udp_socket_buffers(node->fd, node->id);
	if (bind(node->fd, (const struct sockaddr *)&u->peer_addrs[peer_index],
		 sizeof(u->peer_addrs[peer_index])) != 0) {
		err = errno;
		fprintf(stderr, "udp: node %u: bind of %s failed: %s\n", (unsigned)node->id,
			udp_peer_format(&u->peers[peer_index], a, sizeof(a)), strerror(err));
		return -err;
	}
	return 0;
}

int
rc_udp_open(const struct rc_udp_config *cfg, struct rc_driver **out)
{
	struct udp_driver *u;
	void *mem = NULL;
	uint16_t i;
	int rc;

	RC_ASSERT(cfg != NULL && out != NULL);
	rc = udp_config_check(cfg);
	if (rc != 0)
		return rc;
	if (posix_memalign(&mem, UDP_ALIGN_BYTES, sizeof(*u)) != 0) {
		fprintf(stderr, "udp: allocating the driver failed: %s\n", strerror(ENOMEM));
		return -ENOMEM;
	}
	u = mem;
	memset(u, 0, sizeof(*u));
	u->base.ops = &udp_ops;
	u->base.frame_bytes = cfg->frame_bytes;
	u->base.body_bytes_max = cfg->frame_bytes - RC_FRAME_IP_UDP_BYTES;
	u->peer_count = cfg->peer_count;
	for (i = 0; i < cfg->peer_count; i++) {
		u->peers[i] = cfg->peers[i];
		u->peer_addrs[i] = (struct sockaddr_in){
			.sin_family = AF_INET,
			.sin_port = htons(cfg->peers[i].port),
			.sin_addr.s_addr = cfg->peers[i].ipv4_be,
		};
	}
	/* Every node is closable before any is opened: udp_close undoes a partial open. */
	u->node_count = cfg->local_count;
	for (i = 0; i < cfg->local_count; i++) {
		u->nodes[i].id = cfg->local_ids[i];
		u->nodes[i].fd = -1;
	}
	for (i = 0; i < cfg->local_count; i++) {
		rc = udp_node_open(u, &u->nodes[i], cfg);
		if (rc != 0) {
			udp_close(&u->base);
			return rc;
		}
	}
	RC_ASSERT(u->base.body_bytes_max + RC_FRAME_IP_UDP_BYTES == u->base.frame_bytes);
	*out = &u->base;
	return 0;
}

void
rc_udp_loopback_peers(struct rc_udp_config *cfg, uint16_t nodes, uint16_t port_base)
{
	uint16_t i;

	RC_ASSERT(cfg != NULL);
	RC_ASSERT(nodes >= 1 && nodes <= RC_NODES_MAX);
	RC_ASSERT((uint32_t)port_base + nodes <= UINT16_MAX);
	for (i = 0; i < nodes; i++) {
		cfg->peers[i] = (struct rc_udp_peer){
			.id = (uint16_t)(i + 1),
			.ipv4_be = htonl(INADDR_LOOPBACK),
			.port = (uint16_t)(port_base + i + 1),
		};
	}
	cfg->peer_count = nodes;
}
