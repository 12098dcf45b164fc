/*
 * The DPDK driver: replicore frames as Ethernet/IPv4/UDP packets on ethdev ports. The EAL is
 * initialised from the usual arguments (-l, --vdev, --no-huge, --no-pci, --file-prefix, ...).
 * Two ways to open it, one frame code for both:
 *   - rc_dpdk_open_ring(): an in-process cluster over net_ring ports, where every node owns one
 *     port whose receive ring the other nodes' transmit queues feed (no hugepages, no NIC).
 *   - rc_dpdk_open_ports(): the local node(s) of a cluster spread over processes or hosts, each on
 *     ethdev ports the EAL found (net_memif, net_af_packet, net_af_xdp vdevs, or a PCI NIC),
 *     with a static address table (node id -> MAC, IPv4, UDP port). A node either reaches every
 *     peer through one port (a NIC on a switch) or has one port per peer (point-to-point links
 *     such as memif), and then polls all of them.
 * Received frames not addressed to the node (Ethernet type, MAC, IPv4 address, UDP port), with a
 * bad IPv4 checksum or malformed headers are freed and counted (struct rc_dpdk_rx_drops).
 */
#ifndef REPLICORE_DPDK_H
#define REPLICORE_DPDK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <replicore/driver.h>
#include <replicore/limits.h>

struct rte_eth_stats;

/* Ethdev ports one driver starts at most (DPDK's build allows 32). */
#define RC_DPDK_PORTS_MAX 32u
/* Descriptors of each rx and tx queue when the configuration says 0. */
#define RC_DPDK_RX_DESC_DEFAULT 1024u
#define RC_DPDK_TX_DESC_DEFAULT 1024u

struct rc_dpdk_config {
	uint32_t frame_bytes;	/* the MTU: 1500, or 9000 for jumbo frames */
	uint16_t nodes;		/* cluster size; node ids 1..nodes, all hosted in this process */
	uint32_t ring_slots;	/* per-node receive ring, a power of two (0: 4096) */
	uint32_t mbufs;		/* pool size (0: sized from nodes and ring_slots) */
	uint16_t udp_port_base; /* node id i listens on UDP port base + i (0: 7400) */
};

/* Where one node of the cluster receives: its Ethernet, IPv4 and UDP addresses. */
struct rc_dpdk_peer {
	uint16_t id;	   /* 1..RC_NODE_ID_MAX, unique in the table */
	uint8_t mac[6];	   /* ignored for a local node when mac_from_port is set */
	uint32_t ipv4_be;  /* network byte order; Invariant: (ipv4, udp_port) unique */
	uint16_t udp_port; /* host byte order, not 0 */
};

/* Which ethdev port of a local node reaches which peer. */
struct rc_dpdk_link {
	uint16_t peer;	  /* a node id of the table, or 0: every peer without a link of its own */
	uint16_t port_id; /* an ethdev port the EAL found (rte_eth_dev_get_port_by_name) */
};

/* One node this process runs, and its ports. */
struct rc_dpdk_local {
	uint16_t id;				 /* a node of the address table */
	uint16_t link_count;			 /* 1..RC_NODES_MAX */
	struct rc_dpdk_link links[RC_NODES_MAX]; /* every peer reached; a port serves one node */
};

struct rc_dpdk_ports_config {
	uint32_t frame_bytes; /* the MTU, RC_FRAME_BYTES_MIN..MAX; above 1500 the port must take
			       * it (rte_eth_dev_set_mtu) or the open fails saying so */
	uint16_t peer_count;  /* 1..RC_NODES_MAX: the whole cluster, local nodes included */
	struct rc_dpdk_peer peers[RC_NODES_MAX];
	uint16_t local_count; /* 1..RC_NODES_MAX */
	struct rc_dpdk_local locals[RC_NODES_MAX];
	/*
	 * false: a local node's MAC is its table entry; a port whose own MAC differs is put in
	 * promiscuous mode, or else given that MAC, or the open fails.
	 * true: a local node's MAC is its port's own MAC (one port per local node only); its table
	 * entry's MAC is ignored and the peers must be configured with the port's MAC.
	 */
	bool mac_from_port;
	bool promiscuous;      /* put every port in promiscuous mode (failure is an error) */
	uint32_t link_wait_ms; /* wait up to this for every link to come up (0: no wait) */
	uint32_t mbufs;	       /* pool size (0: sized from the ports' descriptors) */
	uint16_t rx_desc;      /* per rx queue (0: RC_DPDK_RX_DESC_DEFAULT) */
	uint16_t tx_desc;      /* per tx queue (0: RC_DPDK_TX_DESC_DEFAULT) */
};

/* Why received frames were dropped, per local node. Their sum is rc_driver_stats.rx_dropped. */
struct rc_dpdk_rx_drops {
	uint64_t malformed; /* chained, truncated, not IPv4 without options, not UDP, bad lengths */
	uint64_t bad_cksum; /* IPv4 header checksum wrong (the port's verdict, or software's) */
	uint64_t other_mac; /* Ethernet destination is not the node's MAC */
	uint64_t other_ipv4; /* IPv4 destination is not the node's address */
	uint64_t other_port; /* UDP destination port is not the node's */
};

/*
 * Initialises the EAL with argv (argv[0] is the program name). Returns the number of arguments
 * it consumed, or -1 after printing why it failed. Call once per process.
 */
int rc_dpdk_eal_init(int argc, char **argv);

/*
 * Opens an in-process cluster of cfg->nodes nodes over net_ring ports and one mbuf pool on the
 * caller's NUMA socket. Node i has MAC 02:00:00:00:00:i, IPv4 127.0.0.i and UDP port
 * udp_port_base + i. Returns 0 and *out, or -errno after printing which step failed (with the
 * port and the error).
 */
int rc_dpdk_open_ring(const struct rc_dpdk_config *cfg, struct rc_driver **out);

/*
 * Opens the local nodes of cfg on the ethdev ports it names: validates the configuration
 * (-EINVAL, printing the fault), creates one mbuf pool ("rc_mbufs") on the caller's socket, then
 * for each port, in order: configure (one rx and one tx queue, IPv4 checksum offload when the
 * port offers it), MTU (frame_bytes > 1500), rx and tx queue setup, start, MAC policy (see
 * mac_from_port, promiscuous). Every failure is printed with the port, its name and the error,
 * and undoes what was done. Then waits up to link_wait_ms for the links: a link still down is
 * reported on stderr and not an error (a memif peer may start later; frames sent meanwhile are
 * refused by the port and counted in tx_full). Returns 0 and *out, or -errno.
 */
int rc_dpdk_open_ports(const struct rc_dpdk_ports_config *cfg, struct rc_driver **out);

/* The ethdev counters of local node's ports, summed (rte_eth_stats_get). Returns 0 or -errno
 * (-EINVAL for a node the driver does not host). */
int rc_dpdk_eth_stats(struct rc_driver *d, uint16_t node, struct rte_eth_stats *st);

/* Copies why local node dropped received frames. Returns 0, or -EINVAL for a node not hosted. */
int rc_dpdk_rx_drops(struct rc_driver *d, uint16_t node, struct rc_dpdk_rx_drops *drops);

/*
 * Prints one line per port of local node: port id and name, driver, the peers it reaches, MAC,
 * link state, MTU and whether the IPv4 checksum is offloaded. Returns 0 or -EINVAL.
 */
int rc_dpdk_print_ports(struct rc_driver *d, uint16_t node, FILE *out);

#endif
