/*
 * The DPDK driver (see dpdk.h): EAL start, mbuf pool, the port-init sequence, and bursts of
 * Ethernet/IPv4/UDP frames whose UDP payload is a replicore frame body.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <replicore/assert.h>

#include "dpdk.h"

#define DPDK_RING_SLOTS_DEFAULT 4096u
#define DPDK_UDP_PORT_BASE_DEFAULT 7400u
#define DPDK_MBUF_CACHE 256u
#define DPDK_RX_DESC 1024u
#define DPDK_TX_DESC 1024u

/* One node's port and its counters, on a cache line of its own (no atomics: one writer). */
struct dpdk_port {
	uint16_t port_id;
	uint16_t udp_port;
	uint32_t ipv4;
	struct rte_ether_addr mac;
	struct rc_driver_stats stats;
} __rte_cache_aligned;

struct dpdk_driver {
	struct rc_driver base;
	uint16_t nodes;
	struct rte_mempool *pool;
	struct rte_ring *rings[RC_NODES_MAX + 1]; /* node id -> its receive ring */
	struct dpdk_port ports[RC_NODES_MAX + 1]; /* by node id */
};

/* Initialises the EAL; see dpdk.h. */
int
rc_dpdk_eal_init(int argc, char **argv)
{
	int rc = rte_eal_init(argc, argv);

	if (rc < 0)
		fprintf(stderr, "replicore: EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
	return rc;
}

/* Returns the driver a generic handle belongs to. */
static inline struct dpdk_driver *
dpdk_of(struct rc_driver *d)
{
	return (struct dpdk_driver *)d;
}

/*
 * Takes a received frame apart: checks Ethernet type, IPv4 header, UDP length and destination
 * port against the buffer before reading them. Returns false for anything else.
 */
static bool
dpdk_parse(const struct dpdk_port *p, struct rte_mbuf *m, struct rc_frame *f)
{
	const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)b;
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);
	uint32_t ip_bytes, udp_bytes;

	if (m->nb_segs != 1 || m->data_len < RC_FRAME_HEADER_BYTES ||
	    eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ip->version_ihl != RTE_IPV4_VHL_DEF || ip->next_proto_id != IPPROTO_UDP)
		return false;
	ip_bytes = rte_be_to_cpu_16(ip->total_length);
	udp_bytes = rte_be_to_cpu_16(udp->dgram_len);
	if (ip_bytes > m->data_len - sizeof(*eth) || udp_bytes + sizeof(*ip) != ip_bytes ||
	    udp_bytes < sizeof(*udp) || udp->dst_port != rte_cpu_to_be_16(p->udp_port))
		return false;
	f->body = (uint8_t *)(uintptr_t)(udp + 1);
	f->body_bytes = udp_bytes - (uint32_t)sizeof(*udp);
	f->body_cap = f->body_bytes;
	f->priv = m;
	return true;
}

/* Receives a burst for node: frames that are not replicore UDP for it are counted and freed. */
static uint16_t
dpdk_rx_burst(struct rc_driver *d, uint16_t node, struct rc_frame *frames, uint16_t n)
{
	struct dpdk_driver *dd = dpdk_of(d);
	struct dpdk_port *p = &dd->ports[node];
	struct rte_mbuf *mbufs[RC_BURST_MAX];
	uint16_t got, kept = 0;

	RC_ASSERT(n <= RC_BURST_MAX);
	got = rte_eth_rx_burst(p->port_id, 0, mbufs, n);
	for (uint16_t i = 0; i < got; i++) {
		if (dpdk_parse(p, mbufs[i], &frames[kept])) {
			p->stats.rx_bytes += frames[kept].body_bytes;
			kept++;
		} else {
			p->stats.rx_dropped++;
			rte_pktmbuf_free(mbufs[i]);
		}
	}
	p->stats.rx_frames += kept;
	return kept;
}

/* Returns frames (received or allocated) to the pool. */
static void
dpdk_free(struct rc_driver *d, uint16_t node, struct rc_frame *frames, uint16_t n)
{
	struct rte_mbuf *mbufs[RC_BURST_MAX];

	(void)d;
	(void)node;
	RC_ASSERT(n <= RC_BURST_MAX);
	for (uint16_t i = 0; i < n; i++)
		mbufs[i] = frames[i].priv;
	rte_pktmbuf_free_bulk(mbufs, n);
}

/* Allocates up to n frames whose bodies start after the Ethernet/IPv4/UDP headers. */
static uint16_t
dpdk_tx_alloc(struct rc_driver *d, uint16_t node, struct rc_frame *frames, uint16_t n)
{
	struct dpdk_driver *dd = dpdk_of(d);
	struct rte_mbuf *mbufs[RC_BURST_MAX];

	RC_ASSERT(n <= RC_BURST_MAX);
	if (rte_pktmbuf_alloc_bulk(dd->pool, mbufs, n) != 0) {
		dd->ports[node].stats.alloc_failed++;
		return 0;
	}
	for (uint16_t i = 0; i < n; i++) {
		frames[i].body = rte_pktmbuf_mtod(mbufs[i], uint8_t *) + RC_FRAME_HEADER_BYTES;
		frames[i].body_bytes = 0;
		frames[i].body_cap = d->body_bytes_max;
		frames[i].priv = mbufs[i];
	}
	return n;
}

/* Writes the Ethernet, IPv4 and UDP headers of a frame from src to dst around its body. */
static void
dpdk_fill_headers(const struct dpdk_port *src, const struct dpdk_port *dst, struct rc_frame *f)
{
	struct rte_mbuf *m = f->priv;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint16_t udp_bytes = (uint16_t)(f->body_bytes + sizeof(*udp));

	RC_ASSERT(f->body_bytes <= f->body_cap);
	rte_ether_addr_copy(&dst->mac, &eth->dst_addr);
	rte_ether_addr_copy(&src->mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(udp_bytes + sizeof(*ip)));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = src->ipv4;
	ip->dst_addr = dst->ipv4;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(src->udp_port);
	udp->dst_port = rte_cpu_to_be_16(dst->udp_port);
	udp->dgram_len = rte_cpu_to_be_16(udp_bytes);
	udp->dgram_cksum = 0; /* optional in IPv4; the ring cannot corrupt, NICs check the FCS */
	m->data_len = (uint16_t)(RC_FRAME_HEADER_BYTES + f->body_bytes);
	m->pkt_len = m->data_len;
}

/* Sends frames from node to peer on the port's queue for that peer; returns how many left. */
static uint16_t
dpdk_tx_burst(struct rc_driver *d, uint16_t node, uint16_t peer, struct rc_frame *frames,
	      uint16_t n)
{
	struct dpdk_driver *dd = dpdk_of(d);
	struct dpdk_port *src = &dd->ports[node];
	struct rte_mbuf *mbufs[RC_BURST_MAX];
	uint16_t sent;

	RC_ASSERT(n <= RC_BURST_MAX && peer >= 1 && peer <= dd->nodes && peer != node);
	for (uint16_t i = 0; i < n; i++) {
		dpdk_fill_headers(src, &dd->ports[peer], &frames[i]);
		mbufs[i] = frames[i].priv;
		src->stats.tx_bytes += frames[i].body_bytes;
	}
	sent = rte_eth_tx_burst(src->port_id, (uint16_t)(peer - 1), mbufs, n);
	for (uint16_t i = sent; i < n; i++)
		src->stats.tx_bytes -= frames[i].body_bytes;
	src->stats.tx_frames += sent;
	src->stats.tx_full += n - sent;
	return sent;
}

/* Copies node's counters. */
static void
dpdk_stats(struct rc_driver *d, uint16_t node, struct rc_driver_stats *st)
{
	*st = dpdk_of(d)->ports[node].stats;
}

/* Stops and closes every port, frees rings and the pool. */
static void
dpdk_close(struct rc_driver *d)
{
	struct dpdk_driver *dd = dpdk_of(d);

	for (uint16_t id = 1; id <= dd->nodes; id++) {
		if (dd->ports[id].port_id != RTE_MAX_ETHPORTS) {
			rte_eth_dev_stop(dd->ports[id].port_id);
			rte_eth_dev_close(dd->ports[id].port_id);
		}
		rte_ring_free(dd->rings[id]);
	}
	rte_mempool_free(dd->pool);
	rte_free(dd);
}

static const struct rc_driver_ops dpdk_ring_ops = {
	.name = "ring",
	.rx_burst = dpdk_rx_burst,
	.rx_free = dpdk_free,
	.tx_alloc = dpdk_tx_alloc,
	.tx_burst = dpdk_tx_burst,
	.tx_free = dpdk_free,
	.stats = dpdk_stats,
	.close = dpdk_close,
};

/* Configures and starts port_id with one receive queue and one transmit queue per node. */
static int
dpdk_port_start(struct dpdk_driver *dd, uint16_t id)
{
	struct rte_eth_conf conf = { 0 };
	uint16_t port = dd->ports[id].port_id;
	int socket = rte_eth_dev_socket_id(port);
	int rc;

	rc = rte_eth_dev_configure(port, 1, dd->nodes, &conf);
	if (rc != 0) {
		fprintf(stderr, "replicore: port %u (node %u): configure: %s\n", port, id,
			strerror(-rc));
		return rc;
	}
	rc = rte_eth_rx_queue_setup(port, 0, DPDK_RX_DESC, (unsigned int)socket, NULL, dd->pool);
	if (rc != 0) {
		fprintf(stderr, "replicore: port %u (node %u): rx queue: %s\n", port, id,
			strerror(-rc));
		return rc;
	}
	for (uint16_t q = 0; q < dd->nodes; q++) {
		rc = rte_eth_tx_queue_setup(port, q, DPDK_TX_DESC, (unsigned int)socket, NULL);
		if (rc != 0) {
			fprintf(stderr, "replicore: port %u (node %u): tx queue %u: %s\n", port, id,
				q, strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_start(port);
	if (rc != 0)
		fprintf(stderr, "replicore: port %u (node %u): start: %s\n", port, id,
			strerror(-rc));
	return rc;
}

/* Creates node id's receive ring and its net_ring port transmitting into every node's ring. */
static int
dpdk_ring_port(struct dpdk_driver *dd, uint16_t id, uint32_t slots)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "rc_rx%u", id);
	dd->rings[id] = rte_ring_create(name, slots, (int)rte_socket_id(), RING_F_SC_DEQ);
	if (dd->rings[id] == NULL) {
		fprintf(stderr, "replicore: node %u: ring of %u slots: %s\n", id, slots,
			rte_strerror(rte_errno));
		return -rte_errno;
	}
	return 0;
}

/* Opens the in-process net_ring cluster; see dpdk.h. */
int
rc_dpdk_open_ring(const struct rc_dpdk_config *cfg, struct rc_driver **out)
{
	uint32_t slots = cfg->ring_slots != 0 ? cfg->ring_slots : DPDK_RING_SLOTS_DEFAULT;
	uint16_t udp_base = cfg->udp_port_base != 0 ? cfg->udp_port_base :
						      DPDK_UDP_PORT_BASE_DEFAULT;
	uint32_t mbufs = cfg->mbufs != 0 ? cfg->mbufs : cfg->nodes * (slots + 2048u);
	uint16_t data_room = (uint16_t)(RTE_PKTMBUF_HEADROOM + RTE_ETHER_HDR_LEN +
					cfg->frame_bytes);
	struct dpdk_driver *dd;
	int rc = 0;

	if (cfg->nodes < 1 || cfg->nodes > RC_NODES_MAX || cfg->frame_bytes < RC_FRAME_BYTES_MIN ||
	    cfg->frame_bytes > RC_FRAME_BYTES_MAX || (slots & (slots - 1)) != 0) {
		fprintf(stderr, "replicore: ring driver: bad configuration (%u nodes, frame %u)\n",
			cfg->nodes, cfg->frame_bytes);
		return -EINVAL;
	}
	dd = rte_zmalloc_socket("rc_dpdk", sizeof(*dd), RTE_CACHE_LINE_SIZE, (int)rte_socket_id());
	if (dd == NULL)
		return -ENOMEM;
	dd->base.ops = &dpdk_ring_ops;
	dd->base.frame_bytes = cfg->frame_bytes;
	dd->base.body_bytes_max = cfg->frame_bytes - RC_FRAME_IP_UDP_BYTES;
	dd->nodes = cfg->nodes;
	for (uint16_t id = 0; id <= RC_NODES_MAX; id++)
		dd->ports[id].port_id = RTE_MAX_ETHPORTS;
	dd->pool = rte_pktmbuf_pool_create("rc_mbufs", mbufs, DPDK_MBUF_CACHE, 0, data_room,
					   (int)rte_socket_id());
	if (dd->pool == NULL) {
		fprintf(stderr, "replicore: mbuf pool of %u x %u bytes: %s\n", mbufs, data_room,
			rte_strerror(rte_errno));
		rte_free(dd);
		return -ENOMEM;
	}
	for (uint16_t id = 1; id <= cfg->nodes && rc == 0; id++) {
		rc = dpdk_ring_port(dd, id, slots);
		dd->ports[id].udp_port = (uint16_t)(udp_base + id);
		dd->ports[id].ipv4 = rte_cpu_to_be_32(RTE_IPV4(127, 0, 0, id));
		dd->ports[id].mac = (struct rte_ether_addr){ { 0x02, 0, 0, 0, 0, (uint8_t)id } };
	}
	for (uint16_t id = 1; id <= cfg->nodes && rc == 0; id++) {
		char name[32];
		int port;

		snprintf(name, sizeof(name), "rc_ring%u", id);
		port = rte_eth_from_rings(name, &dd->rings[id], 1, &dd->rings[1], cfg->nodes,
					  rte_socket_id());
		if (port < 0) {
			fprintf(stderr, "replicore: node %u: net_ring port: %s\n", id,
				rte_strerror(rte_errno));
			rc = -rte_errno;
			break;
		}
		dd->ports[id].port_id = (uint16_t)port;
		rc = dpdk_port_start(dd, id);
	}
	if (rc != 0) {
		dpdk_close(&dd->base);
		return rc;
	}
	*out = &dd->base;
	return 0;
}

/* The ethdev counters of node's port. */
int
rc_dpdk_eth_stats(struct rc_driver *d, uint16_t node, struct rte_eth_stats *st)
{
	struct dpdk_driver *dd = dpdk_of(d);

	if (node < 1 || node > dd->nodes)
		return -EINVAL;
	return rte_eth_stats_get(dd->ports[node].port_id, st);
}
