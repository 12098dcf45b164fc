/*
 * The UDP driver: the driver interface of driver.h over kernel UDP sockets, one non-blocking
 * socket per local node, batched with recvmmsg/sendmmsg. It serves hosts without DPDK and is the
 * side-by-side baseline that shows what kernel bypass buys.
 *
 * A frame body is the whole UDP payload: the kernel adds the IPv4 and UDP headers, so
 * body_bytes_max = frame_bytes - RC_FRAME_IP_UDP_BYTES. Every buffer is allocated (and touched)
 * by rc_udp_open(); nothing is allocated afterwards.
 *
 * Ownership follows driver.h: rx frames point into the node's rx buffers until rx_free; tx
 * frames come from the node's tx pool (tx_alloc) and go back to it when tx_burst takes them
 * (the kernel has copied the bytes by then) or when the caller gives them to tx_free.
 */
#ifndef REPLICORE_UDP_H
#define REPLICORE_UDP_H

#include <stdint.h>

#include <replicore/driver.h>
#include <replicore/limits.h>

/* Buffers one pool (rx or tx, of one local node) holds at most. */
#define RC_UDP_BUFFERS_MAX (1u << 20)

/* Socket buffer bytes asked for with SO_RCVBUF and SO_SNDBUF; less is warned about, not fatal. */
#define RC_UDP_SOCKET_BUFFER_BYTES (4u << 20)

/* Where one node of the cluster listens. */
struct rc_udp_peer {
	uint16_t id;	  /* 1..RC_NODE_ID_MAX, unique in the table */
	uint32_t ipv4_be; /* IPv4 address, network byte order */
	uint16_t port;	  /* UDP port, host byte order; not 0. Invariant: (ipv4, port) unique */
};

/* One driver: the local nodes it hosts and the address table of the whole cluster. */
struct rc_udp_config {
	/* The MTU (IPv4 packet bytes), usually 1500 or 9000: RC_FRAME_BYTES_MIN..MAX. */
	uint32_t frame_bytes;
	uint16_t local_count;		  /* 1..RC_NODES_MAX */
	uint16_t local_ids[RC_NODES_MAX]; /* unique; each one is in peers */
	uint16_t peer_count;		  /* 1..RC_NODES_MAX */
	/* Every node of the cluster, local ones included: where each listens. Datagrams from any
	 * other source are dropped. */
	struct rc_udp_peer peers[RC_NODES_MAX];
	uint32_t rx_buffers; /* per local node: 1..RC_UDP_BUFFERS_MAX, frame_bytes each */
	uint32_t tx_buffers; /* per local node: 1..RC_UDP_BUFFERS_MAX, frame_bytes each */
};

/*
 * Opens the driver of cfg: validates it, allocates every buffer, then opens one non-blocking
 * UDP socket per local node bound to that node's address in peers (SO_RCVBUF and SO_SNDBUF
 * raised to RC_UDP_SOCKET_BUFFER_BYTES; a shortfall there is only warned about).
 * Returns 0 and sets *out, or returns -errno, leaves *out untouched and prints one line to
 * stderr naming the failing step, the node and the reason: -EINVAL for a bad config, -ENOMEM,
 * or the socket call's errno (e.g. -EADDRINUSE when a bind fails). Nothing is left open on
 * failure. The driver's rx_burst drops (and counts in rx_dropped) datagrams longer than
 * body_bytes_max and datagrams whose source address is not in peers.
 */
int rc_udp_open(const struct rc_udp_config *cfg, struct rc_driver **out);

/*
 * Fills cfg's peer table with nodes 1..nodes at 127.0.0.1, port port_base + id, and sets
 * peer_count; leaves the rest of cfg alone. Requires 1 <= nodes <= RC_NODES_MAX and
 * port_base + nodes <= 65535 (asserted).
 */
void rc_udp_loopback_peers(struct rc_udp_config *cfg, uint16_t nodes, uint16_t port_base);

#endif
