/*
 * The DPDK driver: replicore frames as Ethernet/IPv4/UDP packets on ethdev ports. The EAL is
 * initialised from the usual arguments (-l, --vdev, --no-huge, --no-pci, --file-prefix, ...).
 * Today's port kind is net_ring: an in-process cluster where every node owns one port whose
 * receive ring the other nodes' transmit queues feed (no hugepages, no NIC needed).
 */
#ifndef REPLICORE_DPDK_H
#define REPLICORE_DPDK_H

#include <stdint.h>

#include <replicore/driver.h>
#include <replicore/limits.h>

struct rte_eth_stats;

struct rc_dpdk_config {
	uint32_t frame_bytes;	/* the MTU: 1500, or 9000 for jumbo frames */
	uint16_t nodes;		/* cluster size; node ids 1..nodes, all hosted in this process */
	uint32_t ring_slots;	/* per-node receive ring, a power of two (0: 4096) */
	uint32_t mbufs;		/* pool size (0: sized from nodes and ring_slots) */
	uint16_t udp_port_base; /* node id i listens on UDP port base + i (0: 7400) */
};

/*
 * Initialises the EAL with argv (argv[0] is the program name). Returns the number of arguments
 * it consumed, or -1 after printing why it failed. Call once per process.
 */
int rc_dpdk_eal_init(int argc, char **argv);

/*
 * Opens an in-process cluster of cfg->nodes nodes over net_ring ports and one mbuf pool on the
 * caller's NUMA socket. Returns 0 and *out, or -errno after printing which step failed (with
 * the port and the error).
 */
int rc_dpdk_open_ring(const struct rc_dpdk_config *cfg, struct rc_driver **out);

/* The ethdev counters of node's port (rte_eth_stats_get). Returns 0 or -errno. */
int rc_dpdk_eth_stats(struct rc_driver *d, uint16_t node, struct rte_eth_stats *st);

#endif
