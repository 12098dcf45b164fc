/*
 * The driver interface: one small ops table that moves replicore frame bodies (the bytes after
 * the UDP header, see wire.h) between the nodes of a cluster. Implementations: drivers/dpdk
 * (ethdev ports: net_ring, net_memif, net_af_xdp/af_packet, PCI NICs), drivers/udp (kernel
 * sockets), drivers/sim (the simulator, which drives the core directly).
 *
 * Bursts follow DPDK's rules: they return how many frames they took, and the caller owns the
 * rest. A driver hosts one or more local nodes (by node id); every call names the local node
 * it acts for, and is made only from the one thread that runs that node.
 */
#ifndef REPLICORE_DRIVER_H
#define REPLICORE_DRIVER_H

#include <stdint.h>

/* Frames one burst moves at most (DPDK's customary burst). */
#define RC_BURST_MAX 32u

/* One frame body handed between a driver and the runtime. */
struct rc_frame {
	uint8_t *body;	     /* first byte after the UDP header */
	uint32_t body_bytes; /* rx: bytes received; tx: bytes to send */
	uint32_t body_cap;   /* tx: room at body; Invariant: body_bytes <= body_cap */
	void *priv;	     /* the driver's handle (an mbuf, a buffer slot) */
};

/* Counters of one local node's traffic. */
struct rc_driver_stats {
	uint64_t rx_frames;
	uint64_t rx_bytes;
	uint64_t rx_dropped; /* not addressed to us, malformed headers, bad checksums */
	uint64_t tx_frames;
	uint64_t tx_bytes;
	uint64_t tx_full; /* frames the port refused (queue full) */
	uint64_t alloc_failed;
};

struct rc_driver;

struct rc_driver_ops {
	const char *name; /* "ring", "memif", "af_xdp", "pci", "udp" */
	/* Receives up to n (<= RC_BURST_MAX) frames addressed to local node; returns the count.
	 * Each frame's body points at its replicore header; give them back with rx_free. */
	uint16_t (*rx_burst)(struct rc_driver *d, uint16_t node, struct rc_frame *frames,
			     uint16_t n);
	void (*rx_free)(struct rc_driver *d, uint16_t node, struct rc_frame *frames, uint16_t n);
	/* Allocates up to n frames for node to fill (body_cap = body_bytes_max); returns count. */
	uint16_t (*tx_alloc)(struct rc_driver *d, uint16_t node, struct rc_frame *frames,
			     uint16_t n);
	/* Sends n filled frames from node to peer; returns how many were taken. The caller frees
	 * the rest with tx_free (or retries them). */
	uint16_t (*tx_burst)(struct rc_driver *d, uint16_t node, uint16_t peer,
			     struct rc_frame *frames, uint16_t n);
	void (*tx_free)(struct rc_driver *d, uint16_t node, struct rc_frame *frames, uint16_t n);
	/* Fills the counters of local node. */
	void (*stats)(struct rc_driver *d, uint16_t node, struct rc_driver_stats *st);
	/* Releases every resource; d is invalid afterwards. */
	void (*close)(struct rc_driver *d);
};

/* The part every driver shares; drivers embed it first in their own state. */
struct rc_driver {
	const struct rc_driver_ops *ops;
	uint32_t frame_bytes;	 /* the MTU: IPv4 packet bytes, 1500 or 9000 */
	uint32_t body_bytes_max; /* frame_bytes - 28 (IPv4 + UDP headers) */
};

/* Ethernet + IPv4 + UDP header bytes in front of every body; IPv4 + UDP alone. */
#define RC_FRAME_HEADER_BYTES 42u
#define RC_FRAME_IP_UDP_BYTES 28u

#endif
