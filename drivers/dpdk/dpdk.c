/*
 * The DPDK driver (see dpdk.h): EAL start, mbuf pool, the port-init sequence, and bursts of
 * Ethernet/IPv4/UDP frames whose UDP payload is a replicore frame body.
 *
 * Both ways to open it (net_ring in one process, ethdev ports found by the EAL) build the same
 * driver state: an address table (node id -> MAC, IPv4, UDP port), the ports started, and per
 * local node the ports it polls and, per peer, the port and tx queue that reach it. One parse,
 * one header fill and one set of bursts serve both.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
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
/* Data room of a ports driver's mbuf at least: a memif buffer (2048 bytes) fits one mbuf. */
#define DPDK_MBUF_DATA_MIN 2048u
/* Pause between two looks at the links while waiting for them. */
#define DPDK_LINK_POLL_US 10000u
/* No port: a peer index a node has no port for (itself). */
#define DPDK_SLOT_NONE UINT8_MAX

_Static_assert(RC_DPDK_PORTS_MAX < DPDK_SLOT_NONE, "port slots fit uint8_t");
_Static_assert(RC_NODES_MAX <= RC_DPDK_PORTS_MAX, "every node of a ring cluster has a port");
_Static_assert(RC_FRAME_HEADER_BYTES == RTE_ETHER_HDR_LEN + RC_FRAME_IP_UDP_BYTES,
	       "header bytes are Ethernet + IPv4 + UDP");

/* A node's addresses as they go on the wire. */
struct dpdk_addr {
	uint16_t id;
	rte_be16_t udp_port_be;
	rte_be32_t ipv4_be;
	struct rte_ether_addr mac;
};

/* One ethdev port the driver set up. */
struct dpdk_port {
	uint16_t port_id;
	uint16_t node;	    /* index of the local node that owns it */
	bool cksum_offload; /* the port computes the IPv4 header checksum on tx */
	bool started;
};

/* One local node: its addresses, ports and counters; one writer (its thread), no atomics. */
struct dpdk_node {
	uint16_t id;
	uint16_t rx_count; /* ports polled; Invariant: 1 <= rx_count <= RC_NODES_MAX */
	uint16_t rx_next;  /* the port polled first next time (fairness across ports) */
	struct dpdk_addr self;
	uint8_t rx_slots[RC_NODES_MAX];	 /* slots in dpdk_driver.ports */
	uint8_t tx_slot[RC_NODES_MAX];	 /* per address index: port slot, or DPDK_SLOT_NONE */
	uint16_t tx_queue[RC_NODES_MAX]; /* per address index: tx queue of that port */
	struct rc_driver_stats stats;
	struct rc_dpdk_rx_drops drops;
} __rte_cache_aligned;

struct dpdk_driver {
	struct rc_driver base;
	struct rte_mempool *pool;
	uint16_t addr_count; /* Invariant: <= RC_NODES_MAX */
	uint16_t node_count; /* Invariant: <= addr_count */
	uint16_t port_count; /* Invariant: <= RC_DPDK_PORTS_MAX */
	uint16_t ring_count;
	struct dpdk_addr addrs[RC_NODES_MAX];
	struct dpdk_port ports[RC_DPDK_PORTS_MAX];
	struct rte_ring *rings[RC_NODES_MAX]; /* net_ring only: node i + 1's receive ring */
	struct dpdk_node nodes[RC_NODES_MAX];
};

/* Why a received frame is not the node's. */
enum dpdk_verdict {
	DPDK_KEEP = 0,
	DPDK_MALFORMED,
	DPDK_BAD_CKSUM,
	DPDK_OTHER_MAC,
	DPDK_OTHER_IPV4,
	DPDK_OTHER_PORT,
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

/* Returns local node id's state, or NULL when the driver does not host it. */
static inline struct dpdk_node *
dpdk_node_find(struct dpdk_driver *dd, uint16_t id)
{
	/* A ring cluster hosts ids 1..n at index id - 1: one comparison. */
	if (id >= 1 && id <= dd->node_count && dd->nodes[id - 1].id == id)
		return &dd->nodes[id - 1];
	for (uint16_t i = 0; i < dd->node_count; i++)
		if (dd->nodes[i].id == id)
			return &dd->nodes[i];
	return NULL;
}

/* Returns local node id's state; a call for a node the driver does not host aborts. */
static inline struct dpdk_node *
dpdk_node_of(struct dpdk_driver *dd, uint16_t id)
{
	struct dpdk_node *nd = dpdk_node_find(dd, id);

	RC_ASSERT(nd != NULL);
	return nd;
}

/* Returns the index of node id in the address table, or -1. */
static inline int
dpdk_addr_index(const struct dpdk_driver *dd, uint16_t id)
{
	if (id >= 1 && id <= dd->addr_count && dd->addrs[id - 1].id == id)
		return id - 1;
	for (uint16_t i = 0; i < dd->addr_count; i++)
		if (dd->addrs[i].id == id)
			return i;
	return -1;
}

/* Returns true when the IPv4 header checksum of m holds: the port's verdict, else software's. */
static inline bool
dpdk_ipv4_cksum_ok(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip)
{
	switch (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
	case RTE_MBUF_F_RX_IP_CKSUM_GOOD:
	case RTE_MBUF_F_RX_IP_CKSUM_NONE: /* the header is intact, its checksum field unset */
		return true;
	case RTE_MBUF_F_RX_IP_CKSUM_BAD:
		return false;
	default:
		/* Summing a header with a correct checksum field gives 0xffff. */
		return rte_ipv4_cksum(ip) == 0;
	}
}

/*
 * Takes a received frame apart for node nd: checks every length against the buffer before
 * reading what it covers, then Ethernet type, IPv4 (no options) and UDP, the IPv4 checksum and
 * the destination MAC, address and port. Fills f and returns DPDK_KEEP, or says why not.
 */
static enum dpdk_verdict
dpdk_parse(const struct dpdk_node *nd, struct rte_mbuf *m, struct rc_frame *f)
{
	const uint8_t *b = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)b;
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);
	uint32_t ip_bytes, udp_bytes;

	if (m->nb_segs != 1 || m->data_len < RC_FRAME_HEADER_BYTES ||
	    eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ip->version_ihl != RTE_IPV4_VHL_DEF || ip->next_proto_id != IPPROTO_UDP)
		return DPDK_MALFORMED;
	ip_bytes = rte_be_to_cpu_16(ip->total_length);
	udp_bytes = rte_be_to_cpu_16(udp->dgram_len);
	if (ip_bytes > m->data_len - sizeof(*eth) || udp_bytes + sizeof(*ip) != ip_bytes ||
	    udp_bytes < sizeof(*udp))
		return DPDK_MALFORMED;
	if (!dpdk_ipv4_cksum_ok(m, ip))
		return DPDK_BAD_CKSUM;
	if (!rte_is_same_ether_addr(&eth->dst_addr, &nd->self.mac))
		return DPDK_OTHER_MAC;
	if (ip->dst_addr != nd->self.ipv4_be)
		return DPDK_OTHER_IPV4;
	if (udp->dst_port != nd->self.udp_port_be)
		return DPDK_OTHER_PORT;
	f->body = (uint8_t *)(uintptr_t)(udp + 1);
	f->body_bytes = udp_bytes - (uint32_t)sizeof(*udp);
	f->body_cap = f->body_bytes;
	f->priv = m;
	return DPDK_KEEP;
}

/* Counts a dropped frame under its reason. */
static inline void
dpdk_count_drop(struct dpdk_node *nd, enum dpdk_verdict v)
{
	switch (v) {
	case DPDK_BAD_CKSUM:
		nd->drops.bad_cksum++;
		break;
	case DPDK_OTHER_MAC:
		nd->drops.other_mac++;
		break;
	case DPDK_OTHER_IPV4:
		nd->drops.other_ipv4++;
		break;
	case DPDK_OTHER_PORT:
		nd->drops.other_port++;
		break;
	default:
		nd->drops.malformed++;
		break;
	}
	nd->stats.rx_dropped++;
}

/*
 * Receives a burst for node from its ports, starting each call with the next port so that a
 * busy one cannot starve the others. Frames that are not replicore UDP for it are counted and
 * freed.
 */
static uint16_t
dpdk_rx_burst(struct rc_driver *d, uint16_t node, struct rc_frame *frames, uint16_t n)
{
	struct dpdk_driver *dd = dpdk_of(d);
	struct dpdk_node *nd = dpdk_node_of(dd, node);
	struct rte_mbuf *mbufs[RC_BURST_MAX];
	uint16_t got = 0, kept = 0, k = nd->rx_next;

	RC_ASSERT(n <= RC_BURST_MAX);
	for (uint16_t i = 0; i < nd->rx_count && got < n; i++) {
		got += rte_eth_rx_burst(dd->ports[nd->rx_slots[k]].port_id, 0, mbufs + got,
					(uint16_t)(n - got));
		if (++k == nd->rx_count)
			k = 0;
	}
	nd->rx_next = nd->rx_next + 1u == nd->rx_count ? 0 : (uint16_t)(nd->rx_next + 1u);
	for (uint16_t i = 0; i < got; i++) {
		enum dpdk_verdict v = dpdk_parse(nd, mbufs[i], &frames[kept]);

		if (v == DPDK_KEEP) {
			nd->stats.rx_bytes += frames[kept].body_bytes;
			kept++;
		} else {
			dpdk_count_drop(nd, v);
			rte_pktmbuf_free(mbufs[i]);
		}
	}
	nd->stats.rx_frames += kept;
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
		dpdk_node_of(dd, node)->stats.alloc_failed++;
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

/*
 * Writes the Ethernet, IPv4 and UDP headers of a frame from src to dst around its body. With
 * offload the port computes the IPv4 checksum (the mbuf says where the headers are); otherwise
 * it is computed here. The UDP checksum is left 0 (optional in IPv4; links check their FCS).
 */
static void
dpdk_fill_headers(const struct dpdk_addr *src, const struct dpdk_addr *dst, bool offload,
		  struct rc_frame *f)
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
	ip->src_addr = src->ipv4_be;
	ip->dst_addr = dst->ipv4_be;
	if (offload) {
		m->l2_len = sizeof(*eth);
		m->l3_len = sizeof(*ip);
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	} else {
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	udp->src_port = src->udp_port_be;
	udp->dst_port = dst->udp_port_be;
	udp->dgram_len = rte_cpu_to_be_16(udp_bytes);
	udp->dgram_cksum = 0;
	m->data_len = (uint16_t)(RC_FRAME_HEADER_BYTES + f->body_bytes);
	m->pkt_len = m->data_len;
}

/* Sends frames from node to peer on the port and queue that reach it; returns how many left. */
static uint16_t
dpdk_tx_burst(struct rc_driver *d, uint16_t node, uint16_t peer, struct rc_frame *frames,
	      uint16_t n)
{
	struct dpdk_driver *dd = dpdk_of(d);
	struct dpdk_node *nd = dpdk_node_of(dd, node);
	struct rte_mbuf *mbufs[RC_BURST_MAX];
	const struct dpdk_port *p;
	int a = dpdk_addr_index(dd, peer);
	uint16_t sent;

	RC_ASSERT(n <= RC_BURST_MAX && a >= 0 && nd->tx_slot[a] != DPDK_SLOT_NONE);
	p = &dd->ports[nd->tx_slot[a]];
	for (uint16_t i = 0; i < n; i++) {
		dpdk_fill_headers(&nd->self, &dd->addrs[a], p->cksum_offload, &frames[i]);
		mbufs[i] = frames[i].priv;
		nd->stats.tx_bytes += frames[i].body_bytes;
	}
	sent = rte_eth_tx_burst(p->port_id, nd->tx_queue[a], mbufs, n);
	for (uint16_t i = sent; i < n; i++)
		nd->stats.tx_bytes -= frames[i].body_bytes;
	nd->stats.tx_frames += sent;
	nd->stats.tx_full += n - sent;
	return sent;
}

/* Copies node's counters. */
static void
dpdk_stats(struct rc_driver *d, uint16_t node, struct rc_driver_stats *st)
{
	*st = dpdk_node_of(dpdk_of(d), node)->stats;
}

/*
 * Stops every port the driver started and, when close_ports is set, closes every port it holds
 * (which releases a vdev's resources, e.g. a memif socket); then frees rings, pool and state.
 */
static void
dpdk_release(struct dpdk_driver *dd, bool close_ports)
{
	for (uint16_t s = 0; s < dd->port_count; s++) {
		int rc;

		if (dd->ports[s].started) {
			rc = rte_eth_dev_stop(dd->ports[s].port_id);
			if (rc != 0)
				fprintf(stderr, "replicore: port %u: stop: %s\n",
					dd->ports[s].port_id, strerror(-rc));
		}
		if (!close_ports)
			continue;
		rc = rte_eth_dev_close(dd->ports[s].port_id);
		if (rc != 0)
			fprintf(stderr, "replicore: port %u: close: %s\n", dd->ports[s].port_id,
				strerror(-rc));
	}
	for (uint16_t i = 0; i < dd->ring_count; i++)
		rte_ring_free(dd->rings[i]);
	rte_mempool_free(dd->pool);
	rte_free(dd);
}

/* Stops and closes every port, frees rings and the pool. */
static void
dpdk_close(struct rc_driver *d)
{
	dpdk_release(dpdk_of(d), true);
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

static const struct rc_driver_ops dpdk_ports_ops = {
	.name = "ethdev",
	.rx_burst = dpdk_rx_burst,
	.rx_free = dpdk_free,
	.tx_alloc = dpdk_tx_alloc,
	.tx_burst = dpdk_tx_burst,
	.tx_free = dpdk_free,
	.stats = dpdk_stats,
	.close = dpdk_close,
};

/* Returns the ethdev name of port (or "?"), for messages. */
static const char *
dpdk_port_name(uint16_t port, char *buf, size_t len)
{
	if (rte_eth_dev_get_name_by_port(port, buf) != 0)
		snprintf(buf, len, "?");
	return buf;
}

/*
 * Sets the MTU of a configured port to frame_bytes when that exceeds 1500. A port without an
 * MTU setting is taken when it receives frames that long anyway (net_ring). Returns 0, or
 * -errno after saying that the port does not take jumbo frames.
 */
static int
dpdk_port_mtu(uint16_t port, const char *name, const struct rte_eth_dev_info *info,
	      uint32_t frame_bytes)
{
	int rc;

	if (frame_bytes <= RTE_ETHER_MTU)
		return 0;
	rc = rte_eth_dev_set_mtu(port, (uint16_t)frame_bytes);
	if (rc == -ENOTSUP && info->max_rx_pktlen >= frame_bytes + RTE_ETHER_HDR_LEN)
		return 0;
	if (rc != 0)
		fprintf(stderr,
			"replicore: port %u (%s): MTU %u refused: %s (the port takes frames of up "
			"to %u bytes): it cannot carry jumbo frames, use a frame size of 1500\n",
			port, name, frame_bytes, strerror(-rc), info->max_rx_pktlen);
	return rc;
}

/*
 * The port-init sequence of one port: device info, configure with one rx queue and tx_queues tx
 * queues (IPv4 checksum offload on tx, and its verdict on rx, when the port offers them), MTU,
 * descriptor counts, queue setup, start. Every failure is printed with the port and the error.
 * Returns 0 or -errno.
 */
static int
dpdk_port_setup(struct dpdk_driver *dd, struct dpdk_port *p, uint16_t node_id, uint16_t tx_queues,
		uint16_t rx_desc, uint16_t tx_desc)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	struct rte_eth_rxconf rxconf;
	struct rte_eth_txconf txconf;
	uint16_t port = p->port_id;
	int socket = rte_eth_dev_socket_id(port);
	char name[RTE_ETH_NAME_MAX_LEN];
	const char *step;
	int rc;

	dpdk_port_name(port, name, sizeof(name));
	if (socket < 0)
		socket = (int)rte_socket_id();
	step = "device info";
	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0)
		goto fail;
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		p->cksum_offload = true;
	}
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	step = "configure";
	rc = rte_eth_dev_configure(port, 1, tx_queues, &conf);
	if (rc != 0)
		goto fail;
	rc = dpdk_port_mtu(port, name, &info, dd->base.frame_bytes);
	if (rc != 0)
		return rc;
	step = "descriptor counts";
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_desc, &tx_desc);
	if (rc != 0)
		goto fail;
	step = "rx queue";
	rxconf = info.default_rxconf;
	rxconf.offloads = conf.rxmode.offloads;
	rc = rte_eth_rx_queue_setup(port, 0, rx_desc, (unsigned int)socket, &rxconf, dd->pool);
	if (rc != 0)
		goto fail;
	step = "tx queue";
	txconf = info.default_txconf;
	txconf.offloads = conf.txmode.offloads;
	for (uint16_t q = 0; q < tx_queues; q++) {
		rc = rte_eth_tx_queue_setup(port, q, tx_desc, (unsigned int)socket, &txconf);
		if (rc != 0)
			goto fail;
	}
	step = "start";
	rc = rte_eth_dev_start(port);
	if (rc != 0)
		goto fail;
	p->started = true;
	return 0;
fail:
	fprintf(stderr, "replicore: port %u (%s, node %u): %s: %s\n", port, name, node_id, step,
		strerror(-rc));
	return rc;
}

/* Allocates the driver state with its shared part filled in. Returns NULL on no memory. */
static struct dpdk_driver *
dpdk_alloc(const struct rc_driver_ops *ops, uint32_t frame_bytes)
{
	struct dpdk_driver *dd;

	dd = rte_zmalloc_socket("rc_dpdk", sizeof(*dd), RTE_CACHE_LINE_SIZE, (int)rte_socket_id());
	if (dd == NULL) {
		fprintf(stderr, "replicore: DPDK driver state: out of memory\n");
		return NULL;
	}
	dd->base.ops = ops;
	dd->base.frame_bytes = frame_bytes;
	dd->base.body_bytes_max = frame_bytes - RC_FRAME_IP_UDP_BYTES;
	return dd;
}

/* Creates the driver's mbuf pool "rc_mbufs". Returns 0 or -ENOMEM after printing why. */
static int
dpdk_pool_create(struct dpdk_driver *dd, uint32_t mbufs, uint16_t data_room)
{
	dd->pool = rte_pktmbuf_pool_create("rc_mbufs", mbufs, DPDK_MBUF_CACHE, 0, data_room,
					   (int)rte_socket_id());
	if (dd->pool == NULL) {
		fprintf(stderr, "replicore: mbuf pool of %u x %u bytes: %s\n", mbufs, data_room,
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
	return 0;
}

/* Creates node id's receive ring and its net_ring port transmitting into every node's ring. */
static int
dpdk_ring_create(struct dpdk_driver *dd, uint16_t id, uint32_t slots)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "rc_rx%u", id);
	dd->rings[id - 1] = rte_ring_create(name, slots, (int)rte_socket_id(), RING_F_SC_DEQ);
	if (dd->rings[id - 1] == NULL) {
		fprintf(stderr, "replicore: node %u: ring of %u slots: %s\n", id, slots,
			rte_strerror(rte_errno));
		return -rte_errno;
	}
	dd->ring_count++;
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
	dd = dpdk_alloc(&dpdk_ring_ops, cfg->frame_bytes);
	if (dd == NULL)
		return -ENOMEM;
	rc = dpdk_pool_create(dd, mbufs, data_room);
	dd->addr_count = cfg->nodes;
	for (uint16_t id = 1; id <= cfg->nodes && rc == 0; id++) {
		struct dpdk_addr *a = &dd->addrs[id - 1];

		a->id = id;
		a->udp_port_be = rte_cpu_to_be_16((uint16_t)(udp_base + id));
		a->ipv4_be = rte_cpu_to_be_32(RTE_IPV4(127, 0, 0, id));
		a->mac = (struct rte_ether_addr){ { 0x02, 0, 0, 0, 0, (uint8_t)id } };
		rc = dpdk_ring_create(dd, id, slots);
	}
	for (uint16_t id = 1; id <= cfg->nodes && rc == 0; id++) {
		struct dpdk_node *nd = &dd->nodes[id - 1];
		struct dpdk_port *p = &dd->ports[id - 1];
		char name[32];
		int port;

		snprintf(name, sizeof(name), "rc_ring%u", id);
		port = rte_eth_from_rings(name, &dd->rings[id - 1], 1, dd->rings, cfg->nodes,
					  rte_socket_id());
		if (port < 0) {
			fprintf(stderr, "replicore: node %u: net_ring port: %s\n", id,
				rte_strerror(rte_errno));
			rc = -rte_errno;
			break;
		}
		p->port_id = (uint16_t)port;
		p->node = (uint16_t)(id - 1);
		dd->port_count++;
		dd->node_count++;
		nd->id = id;
		nd->self = dd->addrs[id - 1];
		nd->rx_count = 1;
		nd->rx_slots[0] = (uint8_t)(id - 1);
		/* Transmit queue q of every port feeds node q + 1's ring. */
		for (uint16_t q = 0; q < cfg->nodes; q++) {
			nd->tx_slot[q] = q + 1u == id ? DPDK_SLOT_NONE : (uint8_t)(id - 1);
			nd->tx_queue[q] = q;
		}
		rc = dpdk_port_setup(dd, p, id, cfg->nodes, RC_DPDK_RX_DESC_DEFAULT,
				     RC_DPDK_TX_DESC_DEFAULT);
	}
	if (rc != 0) {
		dpdk_close(&dd->base);
		return rc;
	}
	*out = &dd->base;
	return 0;
}

/* ---- Ports the EAL found ------------------------------------------------------------------ */

/* Prints a configuration fault of the ports driver (printf format) and returns -EINVAL. */
static int __attribute__((format(printf, 1, 2))) dpdk_bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "replicore: ports driver: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return -EINVAL;
}

/* Checks the address table: ids, ports and (ipv4, port) pairs unique. Returns 0 or -EINVAL. */
static int
dpdk_check_peers(const struct rc_dpdk_ports_config *cfg)
{
	if (cfg->frame_bytes < RC_FRAME_BYTES_MIN || cfg->frame_bytes > RC_FRAME_BYTES_MAX)
		return dpdk_bad("frame size %u out of %u..%u", cfg->frame_bytes, RC_FRAME_BYTES_MIN,
				RC_FRAME_BYTES_MAX);
	if (cfg->peer_count < 1 || cfg->peer_count > RC_NODES_MAX)
		return dpdk_bad("%u nodes in the address table, not 1..%u", cfg->peer_count,
				RC_NODES_MAX);
	for (uint16_t i = 0; i < cfg->peer_count; i++) {
		const struct rc_dpdk_peer *p = &cfg->peers[i];

		if (p->id < 1 || p->id > RC_NODE_ID_MAX || p->udp_port == 0)
			return dpdk_bad("node %u: id out of 1..%u or UDP port 0", p->id,
					RC_NODE_ID_MAX);
		for (uint16_t j = 0; j < i; j++) {
			if (cfg->peers[j].id == p->id)
				return dpdk_bad("node %u is in the address table twice", p->id);
			if (cfg->peers[j].ipv4_be == p->ipv4_be &&
			    cfg->peers[j].udp_port == p->udp_port)
				return dpdk_bad(
					"nodes %u and %u share an IPv4 address and UDP port",
					cfg->peers[j].id, p->id);
		}
	}
	return 0;
}

/* Returns the slot of port in dd->ports, adding it for local node index ni; -1 when it belongs
 * to another local node or the driver has no room left. */
static int
dpdk_port_slot(struct dpdk_driver *dd, uint16_t port, uint16_t ni)
{
	for (uint16_t s = 0; s < dd->port_count; s++)
		if (dd->ports[s].port_id == port)
			return dd->ports[s].node == ni ? s : -1;
	if (dd->port_count == RC_DPDK_PORTS_MAX)
		return -1;
	dd->ports[dd->port_count] = (struct dpdk_port){ .port_id = port, .node = ni };
	return dd->port_count++;
}

/* Fills local node index ni of dd from its configuration: addresses, rx ports, tx map. */
static int
dpdk_local_map(struct dpdk_driver *dd, const struct rc_dpdk_ports_config *cfg, uint16_t ni)
{
	const struct rc_dpdk_local *l = &cfg->locals[ni];
	struct dpdk_node *nd = &dd->nodes[ni];
	int self = dpdk_addr_index(dd, l->id), dflt = -1;

	if (self < 0 || dpdk_node_find(dd, l->id) != NULL)
		return dpdk_bad("local node %u is not in the address table, or listed twice",
				l->id);
	if (l->link_count < 1 || l->link_count > RC_NODES_MAX)
		return dpdk_bad("local node %u: %u links", l->id, l->link_count);
	nd->id = l->id;
	nd->self = dd->addrs[self];
	for (uint16_t a = 0; a < dd->addr_count; a++)
		nd->tx_slot[a] = DPDK_SLOT_NONE;
	for (uint16_t k = 0; k < l->link_count; k++) {
		const struct rc_dpdk_link *ln = &l->links[k];
		int a = ln->peer == 0 ? -1 : dpdk_addr_index(dd, ln->peer);
		int s;
		bool polled = false;

		if ((ln->peer != 0 && (a < 0 || a == self)) || (ln->peer == 0 && dflt >= 0))
			return dpdk_bad("local node %u: link to node %u is not a peer, or repeated",
					l->id, ln->peer);
		if (!rte_eth_dev_is_valid_port(ln->port_id))
			return dpdk_bad("local node %u: no ethdev port %u (did the EAL create it? "
					"see --vdev)",
					l->id, ln->port_id);
		s = dpdk_port_slot(dd, ln->port_id, ni);
		if (s < 0)
			return dpdk_bad("port %u serves another local node (node %u)", ln->port_id,
					l->id);
		if (ln->peer == 0)
			dflt = s;
		else if (nd->tx_slot[a] != DPDK_SLOT_NONE)
			return dpdk_bad("local node %u: two links to node %u", l->id, ln->peer);
		else
			nd->tx_slot[a] = (uint8_t)s;
		for (uint16_t r = 0; r < nd->rx_count; r++)
			polled = polled || nd->rx_slots[r] == s;
		if (!polled)
			nd->rx_slots[nd->rx_count++] = (uint8_t)s;
	}
	for (uint16_t a = 0; a < dd->addr_count; a++) {
		if (a == self || nd->tx_slot[a] != DPDK_SLOT_NONE)
			continue;
		if (dflt < 0)
			return dpdk_bad("local node %u has no port that reaches node %u", l->id,
					dd->addrs[a].id);
		nd->tx_slot[a] = (uint8_t)dflt;
	}
	if (cfg->mac_from_port && nd->rx_count != 1)
		return dpdk_bad("local node %u: the MAC of its port needs one port, not %u", l->id,
				nd->rx_count);
	dd->node_count++;
	return 0;
}

/*
 * Applies the MAC policy to a started port of local node nd: with mac_from_port the node takes
 * the port's MAC; otherwise a port whose MAC differs from the node's is put in promiscuous mode,
 * or failing that given the node's MAC. Returns 0 or -errno after printing why.
 */
static int
dpdk_port_mac(const struct rc_dpdk_ports_config *cfg, struct dpdk_node *nd, uint16_t port)
{
	struct rte_ether_addr mac;
	char name[RTE_ETH_NAME_MAX_LEN];
	int rc, rc_mac;

	dpdk_port_name(port, name, sizeof(name));
	rc = rte_eth_macaddr_get(port, &mac);
	if (rc != 0) {
		fprintf(stderr, "replicore: port %u (%s): MAC address: %s\n", port, name,
			strerror(-rc));
		return rc;
	}
	if (cfg->mac_from_port)
		nd->self.mac = mac;
	if (cfg->promiscuous || !rte_is_same_ether_addr(&mac, &nd->self.mac)) {
		rc = rte_eth_promiscuous_enable(port);
		if (rc == 0 || cfg->promiscuous) {
			if (rc != 0)
				fprintf(stderr, "replicore: port %u (%s): promiscuous mode: %s\n",
					port, name, strerror(-rc));
			return rc;
		}
		rc_mac = rte_eth_dev_default_mac_addr_set(port, &nd->self.mac);
		if (rc_mac != 0) {
			fprintf(stderr,
				"replicore: port %u (%s): its MAC " RTE_ETHER_ADDR_PRT_FMT
				" is not node %u's, and neither promiscuous mode (%s) nor that "
				"MAC (%s) can be set: give the port the node's MAC, or use the "
				"port's\n",
				port, name, RTE_ETHER_ADDR_BYTES(&mac), nd->id, strerror(-rc),
				strerror(-rc_mac));
			return rc_mac;
		}
	}
	return 0;
}

/* Waits up to wait_ms for every port's link; reports the ones still down. */
static void
dpdk_link_wait(const struct dpdk_driver *dd, uint32_t wait_ms)
{
	uint64_t deadline = rte_get_timer_cycles() + rte_get_timer_hz() * wait_ms / 1000u;
	struct rte_eth_link link;
	uint16_t down;

	for (;;) {
		down = 0;
		for (uint16_t s = 0; s < dd->port_count; s++)
			if (rte_eth_link_get_nowait(dd->ports[s].port_id, &link) != 0 ||
			    link.link_status != RTE_ETH_LINK_UP)
				down++;
		if (down == 0 || rte_get_timer_cycles() >= deadline)
			break;
		rte_delay_us_sleep(DPDK_LINK_POLL_US);
	}
	for (uint16_t s = 0; s < dd->port_count && down > 0; s++) {
		char name[RTE_ETH_NAME_MAX_LEN];

		if (rte_eth_link_get_nowait(dd->ports[s].port_id, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP)
			continue;
		fprintf(stderr,
			"replicore: port %u (%s): link still down after %u ms; frames to it wait "
			"for the peer (counted in tx_full meanwhile)\n",
			dd->ports[s].port_id,
			dpdk_port_name(dd->ports[s].port_id, name, sizeof(name)), wait_ms);
	}
}

/* Returns the number of mbufs the ports driver's pool needs. */
static uint32_t
dpdk_ports_mbufs(const struct dpdk_driver *dd, uint16_t rx_desc, uint16_t tx_desc)
{
	/* Descriptors of every queue, what the nodes hold (spares and one burst per peer) and
	 * the per-lcore caches; then a power of two minus one, the mempool's best size. */
	uint32_t need = dd->port_count * (uint32_t)(rx_desc + tx_desc) +
			dd->node_count * (RC_NODES_MAX + 2u) * RC_BURST_MAX +
			(rte_lcore_count() + 1u) * DPDK_MBUF_CACHE * 3u / 2u;
	uint32_t mbufs = 1;

	while (mbufs - 1u < need)
		mbufs <<= 1;
	return mbufs - 1u;
}

/* Opens the local nodes on ethdev ports; see dpdk.h. */
int
rc_dpdk_open_ports(const struct rc_dpdk_ports_config *cfg, struct rc_driver **out)
{
	uint16_t rx_desc = cfg->rx_desc != 0 ? cfg->rx_desc : RC_DPDK_RX_DESC_DEFAULT;
	uint16_t tx_desc = cfg->tx_desc != 0 ? cfg->tx_desc : RC_DPDK_TX_DESC_DEFAULT;
	uint32_t frame_room = RTE_ETHER_HDR_LEN + cfg->frame_bytes + RTE_ETHER_CRC_LEN;
	uint16_t data_room = (uint16_t)(RTE_PKTMBUF_HEADROOM +
					RTE_MAX(frame_room, DPDK_MBUF_DATA_MIN));
	struct dpdk_driver *dd;
	int rc = dpdk_check_peers(cfg);

	if (rc != 0)
		return rc;
	if (cfg->local_count < 1 || cfg->local_count > cfg->peer_count)
		return dpdk_bad("%u local nodes of %u", cfg->local_count, cfg->peer_count);
	dd = dpdk_alloc(&dpdk_ports_ops, cfg->frame_bytes);
	if (dd == NULL)
		return -ENOMEM;
	dd->addr_count = cfg->peer_count;
	for (uint16_t i = 0; i < cfg->peer_count; i++) {
		struct dpdk_addr *a = &dd->addrs[i];

		a->id = cfg->peers[i].id;
		a->udp_port_be = rte_cpu_to_be_16(cfg->peers[i].udp_port);
		a->ipv4_be = cfg->peers[i].ipv4_be;
		memcpy(a->mac.addr_bytes, cfg->peers[i].mac, RTE_ETHER_ADDR_LEN);
	}
	for (uint16_t ni = 0; ni < cfg->local_count && rc == 0; ni++)
		rc = dpdk_local_map(dd, cfg, ni);
	if (rc == 0)
		rc = dpdk_pool_create(
			dd, cfg->mbufs != 0 ? cfg->mbufs : dpdk_ports_mbufs(dd, rx_desc, tx_desc),
			data_room);
	for (uint16_t s = 0; s < dd->port_count && rc == 0; s++) {
		struct dpdk_port *p = &dd->ports[s];
		struct dpdk_node *nd = &dd->nodes[p->node];

		rc = dpdk_port_setup(dd, p, nd->id, 1, rx_desc, tx_desc);
		if (rc == 0)
			rc = dpdk_port_mac(cfg, nd, p->port_id);
	}
	if (rc != 0) {
		/* The ports stay open: the EAL created them for the application, not us. */
		dpdk_release(dd, false);
		return rc;
	}
	/* A local node's own entry carries the MAC it uses (the port's, with mac_from_port). */
	for (uint16_t ni = 0; ni < dd->node_count; ni++)
		dd->addrs[dpdk_addr_index(dd, dd->nodes[ni].id)].mac = dd->nodes[ni].self.mac;
	if (cfg->link_wait_ms > 0)
		dpdk_link_wait(dd, cfg->link_wait_ms);
	*out = &dd->base;
	return 0;
}

/* ---- Inspection ---------------------------------------------------------------------------- */

/* The ethdev counters of node's ports, summed. */
int
rc_dpdk_eth_stats(struct rc_driver *d, uint16_t node, struct rte_eth_stats *st)
{
	struct dpdk_driver *dd = dpdk_of(d);
	struct dpdk_node *nd = dpdk_node_find(dd, node);

	if (nd == NULL)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	for (uint16_t r = 0; r < nd->rx_count; r++) {
		struct rte_eth_stats one;
		int rc = rte_eth_stats_get(dd->ports[nd->rx_slots[r]].port_id, &one);

		if (rc != 0)
			return rc;
		if (nd->rx_count == 1) {
			*st = one;
			return 0;
		}
		st->ipackets += one.ipackets;
		st->opackets += one.opackets;
		st->ibytes += one.ibytes;
		st->obytes += one.obytes;
		st->imissed += one.imissed;
		st->ierrors += one.ierrors;
		st->oerrors += one.oerrors;
		st->rx_nombuf += one.rx_nombuf;
	}
	return 0;
}

/* Copies node's drop reasons. */
int
rc_dpdk_rx_drops(struct rc_driver *d, uint16_t node, struct rc_dpdk_rx_drops *drops)
{
	struct dpdk_node *nd = dpdk_node_find(dpdk_of(d), node);

	if (nd == NULL)
		return -EINVAL;
	*drops = nd->drops;
	return 0;
}

/* Prints node's ports, one line each. */
int
rc_dpdk_print_ports(struct rc_driver *d, uint16_t node, FILE *out)
{
	struct dpdk_driver *dd = dpdk_of(d);
	struct dpdk_node *nd = dpdk_node_find(dd, node);

	if (nd == NULL)
		return -EINVAL;
	for (uint16_t r = 0; r < nd->rx_count; r++) {
		const struct dpdk_port *p = &dd->ports[nd->rx_slots[r]];
		char name[RTE_ETH_NAME_MAX_LEN];
		struct rte_eth_dev_info info;
		struct rte_eth_link link = { 0 };
		struct rte_ether_addr mac = { { 0 } };
		uint16_t mtu = 0;

		if (rte_eth_dev_info_get(p->port_id, &info) != 0)
			info.driver_name = "?";
		rte_eth_link_get_nowait(p->port_id, &link);
		rte_eth_macaddr_get(p->port_id, &mac);
		rte_eth_dev_get_mtu(p->port_id, &mtu);
		fprintf(out, "  port %u %s (%s): to node", p->port_id,
			dpdk_port_name(p->port_id, name, sizeof(name)), info.driver_name);
		for (uint16_t a = 0; a < dd->addr_count; a++)
			if (nd->tx_slot[a] == nd->rx_slots[r])
				fprintf(out, " %u", dd->addrs[a].id);
		fprintf(out,
			", MAC " RTE_ETHER_ADDR_PRT_FMT ", link %s, MTU %u, IPv4 checksum %s\n",
			RTE_ETHER_ADDR_BYTES(&mac), link.link_status ? "up" : "down", mtu,
			p->cksum_offload ? "offloaded" : "in software");
	}
	return 0;
}
