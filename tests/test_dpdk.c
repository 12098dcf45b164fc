/*
 * Integration tests of the DPDK driver (drivers/dpdk) and the runtime (node.h) on it, in one
 * process without hugepages or a NIC: frames cross the in-process net_ring cluster byte for byte
 * and crafted foreign frames are dropped and counted; two net_memif ports of one process talk to
 * each other over a unix socket; a 3-node cluster commits 100,000 entries with identical logs
 * and exactly-once, in-order apply on every node; a new leader takes over when the leader's loop
 * stops, and load continues; the proposal ring pushes back when full and loses nothing.
 *
 * Criterion runs every test in a process of its own, so each test initialises its own EAL (one
 * per process), with a file prefix of its own and no hugepages. Every node of a cluster is polled
 * from the test's thread, one after the other (the runtime allows several nodes per thread).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_udp.h>

#include <replicore/driver.h>
#include <replicore/limits.h>
#include <replicore/node.h>
#include <replicore/raft.h>

#include "dpdk.h"

#define TEST_NODES 3u
#define TEST_FRAME_BYTES 1500u
#define TEST_BODY_BYTES_MAX (TEST_FRAME_BYTES - RC_FRAME_IP_UDP_BYTES)
#define TEST_UDP_PORT_BASE 9100u /* not the driver's default, to see the configuration honoured */
#define TEST_POOL_MBUFS 511u
#define TEST_NS_PER_S 1000000000ull
#define TEST_WAIT_NS (5 * TEST_NS_PER_S) /* bound on every wait for frames, links, leaders */
#define TEST_COMMIT_WAIT_NS (10 * TEST_NS_PER_S)
#define TEST_PAYLOAD_BYTES_MAX 64u
#define TEST_PAYLOAD_BYTES_MIN 8u /* the cookie */
#define TEST_ENTRIES 100000u
#define TEST_LOG_CHECK_ENTRIES 30000u /* within the newest RC_LOG_ENTRIES_MAX / 2 the log keeps */
#define TEST_MEMIF_FRAMES 64u

_Static_assert(TEST_LOG_CHECK_ENTRIES < RC_LOG_ENTRIES_MAX / 2, "checked range is retained");

/* ---- EAL ----------------------------------------------------------------------------------- */

/* The runtime directory the EAL made for this process, removed (when empty) at the end. */
static char test_runtime_dir[256];
/* The memif test's unix socket, removed at the end. */
static char test_memif_sock[96];

/*
 * Initialises the EAL for this test process: one lcore, no hugepages, no PCI, no shared config,
 * a file prefix of its own, and up to two extra arguments (NULL: none).
 */
static void
test_eal_init(const char *tag, const char *extra1, const char *extra2)
{
	char prefix[64];
	char *argv[16];
	int argc = 0;

	snprintf(prefix, sizeof(prefix), "--file-prefix=rc-test-%s-%d", tag, (int)getpid());
	argv[argc++] = "test_dpdk";
	argv[argc++] = "-l";
	argv[argc++] = "0";
	argv[argc++] = "--no-huge";
	argv[argc++] = "--no-pci";
	argv[argc++] = "--no-shconf";
	argv[argc++] = "--no-telemetry";
	argv[argc++] = "-m";
	argv[argc++] = "256";
	argv[argc++] = "--log-level=lib.eal:error";
	argv[argc++] = prefix;
	if (extra1 != NULL)
		argv[argc++] = (char *)(uintptr_t)extra1;
	if (extra2 != NULL)
		argv[argc++] = (char *)(uintptr_t)extra2;
	argv[argc] = NULL;
	cr_assert(rc_dpdk_eal_init(argc, argv) >= 0, "EAL initialisation failed (see stderr)");
	snprintf(test_runtime_dir, sizeof(test_runtime_dir), "%s", rte_eal_get_runtime_dir());
}

/* Releases the EAL (the test's last step). */
static void
test_eal_fini(void)
{
	cr_assert_eq(rte_eal_cleanup(), 0);
}

/* Every test's .fini, run after a failure too: removes the EAL's runtime directory if empty
 * and the memif socket. */
static void
test_remove_files(void)
{
	if (test_runtime_dir[0] != '\0')
		rmdir(test_runtime_dir);
	if (test_memif_sock[0] != '\0')
		unlink(test_memif_sock);
}

/* ---- Frame bodies -------------------------------------------------------------------------- */

/* Byte i of the body of frame seq from -> to. */
static uint8_t
test_pattern(uint16_t from, uint16_t to, uint32_t seq, uint32_t i)
{
	return (uint8_t)(from * 31u + to * 17u + seq * 7u + i * 13u + (i >> 8));
}

/* Body bytes of frame seq: 1, the maximum, and sizes spread between. */
static uint32_t
test_body_bytes(uint32_t seq)
{
	if (seq % 4 == 0)
		return TEST_BODY_BYTES_MAX;
	if (seq % 4 == 1)
		return 1;
	return 1 + (seq * 397u) % TEST_BODY_BYTES_MAX;
}

/* Writes the pattern of frame seq from -> to into body. */
static void
test_fill(uint8_t *body, uint32_t bytes, uint16_t from, uint16_t to, uint32_t seq)
{
	for (uint32_t i = 0; i < bytes; i++)
		body[i] = test_pattern(from, to, seq, i);
}

/* True when body holds the pattern of frame seq from -> to, and nothing else. */
static bool
test_intact(const uint8_t *body, uint32_t bytes, uint16_t from, uint16_t to, uint32_t seq)
{
	for (uint32_t i = 0; i < bytes; i++)
		if (body[i] != test_pattern(from, to, seq, i))
			return false;
	return true;
}

/* ---- Test 1: frames over the net_ring cluster ---------------------------------------------- */

/* Sends count (<= RC_BURST_MAX) pattern frames from -> to through the driver API. */
static void
test_ring_send(struct rc_driver *d, uint16_t from, uint16_t to, uint32_t count,
	       uint64_t *body_bytes_sent)
{
	struct rc_frame frames[RC_BURST_MAX];
	uint16_t got, sent;

	cr_assert(count <= RC_BURST_MAX);
	got = d->ops->tx_alloc(d, from, frames, (uint16_t)count);
	cr_assert_eq(got, count, "tx_alloc gave %u of %u frames", got, count);
	*body_bytes_sent = 0;
	for (uint32_t i = 0; i < count; i++) {
		cr_assert_eq(frames[i].body_cap, TEST_BODY_BYTES_MAX);
		cr_assert_eq(frames[i].body_bytes, 0);
		frames[i].body_bytes = test_body_bytes(i);
		test_fill(frames[i].body, frames[i].body_bytes, from, to, i);
		*body_bytes_sent += frames[i].body_bytes;
	}
	sent = d->ops->tx_burst(d, from, to, frames, (uint16_t)count);
	cr_assert_eq(sent, count, "node %u -> %u: the port took %u of %u frames", from, to, sent,
		     count);
}

/* Receives on node until count frames from -> to arrived, in order and intact. */
static void
test_ring_expect(struct rc_driver *d, uint16_t node, uint16_t from, uint32_t count)
{
	struct rc_frame frames[RC_BURST_MAX];
	uint64_t t0 = rc_clock_ns();
	uint32_t seen = 0;

	while (seen < count) {
		uint16_t got = d->ops->rx_burst(d, node, frames, RC_BURST_MAX);

		for (uint16_t i = 0; i < got; i++) {
			cr_assert(seen + i < count, "node %u: more frames than were sent", node);
			cr_assert_eq(frames[i].body_bytes, test_body_bytes(seen + i),
				     "node %u frame %u: %u body bytes", node, seen + i,
				     frames[i].body_bytes);
			cr_assert(test_intact(frames[i].body, frames[i].body_bytes, from, node,
					      seen + i),
				  "node %u frame %u from %u: body differs", node, seen + i, from);
		}
		if (got > 0)
			d->ops->rx_free(d, node, frames, got);
		seen += got;
		cr_assert(rc_clock_ns() - t0 < TEST_WAIT_NS, "node %u: %u of %u frames in 5 s",
			  node, seen, count);
	}
}

/* Asserts that nothing waits on node's port. */
static void
test_ring_expect_none(struct rc_driver *d, uint16_t node)
{
	struct rc_frame frames[RC_BURST_MAX];
	uint16_t got = d->ops->rx_burst(d, node, frames, RC_BURST_MAX);

	if (got > 0)
		d->ops->rx_free(d, node, frames, got);
	cr_assert_eq(got, 0, "node %u received %u frames addressed to another node", node, got);
}

/* How the crafted frames of test_craft() are spoiled, each in one way only. */
enum test_spoil {
	TEST_SPOIL_NONE = 0,
	TEST_SPOIL_UDP_PORT_OTHER_NODE, /* node 3's UDP port */
	TEST_SPOIL_UDP_PORT_DEFAULT,	/* the driver's default port of node 2: not configured */
	TEST_SPOIL_OTHER_MAC,		/* node 3's MAC */
	TEST_SPOIL_OTHER_IPV4,		/* node 3's IPv4 address */
	TEST_SPOIL_BAD_CKSUM,		/* IPv4 header checksum off by one */
	TEST_SPOIL_ETHER_ARP,
	TEST_SPOIL_ETHER_IPV6,
	TEST_SPOIL_IP_OPTIONS, /* IHL 6 */
	TEST_SPOIL_IP_TCP,
	TEST_SPOIL_TRUNCATED,	 /* 41 bytes: shorter than the headers */
	TEST_SPOIL_IP_LONGER,	 /* IPv4 total length beyond the frame */
	TEST_SPOIL_UDP_LENGTH,	 /* UDP length disagrees with the IPv4 length */
	TEST_SPOIL_UDP_SHORT,	 /* UDP length below its own header */
	TEST_SPOIL_TWO_SEGMENTS, /* a chained mbuf */
	TEST_SPOIL_GARBAGE,	 /* bytes that mean nothing */
	TEST_SPOIL_COUNT
};

/* Frames of each spoil, by the drop reason the driver must count them under. */
#define TEST_DROPS_OTHER_PORT 2u
#define TEST_DROPS_OTHER_MAC 1u
#define TEST_DROPS_OTHER_IPV4 1u
#define TEST_DROPS_BAD_CKSUM 1u
#define TEST_DROPS_MALFORMED 10u
_Static_assert(TEST_DROPS_OTHER_PORT + TEST_DROPS_OTHER_MAC + TEST_DROPS_OTHER_IPV4 +
			       TEST_DROPS_BAD_CKSUM + TEST_DROPS_MALFORMED ==
		       TEST_SPOIL_COUNT - 1,
	       "every spoiled frame has its reason");

/*
 * Builds in a fresh mbuf of pool the frame node from would send node to, with a pattern body of
 * body_bytes, and spoils it as asked. The driver API cannot produce such frames: tx_burst writes
 * the headers itself, so the test transmits these through the ethdev API.
 */
static struct rte_mbuf *
test_craft(struct rte_mempool *pool, uint16_t from, uint16_t to, uint32_t seq, uint32_t body_bytes,
	   enum test_spoil spoil)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	uint16_t udp_bytes = (uint16_t)(body_bytes + sizeof(*udp));

	cr_assert_not_null(m);
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	udp = (struct rte_udp_hdr *)(ip + 1);
	memset(eth, 0, RC_FRAME_HEADER_BYTES);
	eth->dst_addr = (struct rte_ether_addr){ { 0x02, 0, 0, 0, 0, (uint8_t)to } };
	eth->src_addr = (struct rte_ether_addr){ { 0x02, 0, 0, 0, 0, (uint8_t)from } };
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(udp_bytes + sizeof(*ip)));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(RTE_IPV4(127, 0, 0, from));
	ip->dst_addr = rte_cpu_to_be_32(RTE_IPV4(127, 0, 0, to));
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16((uint16_t)(TEST_UDP_PORT_BASE + from));
	udp->dst_port = rte_cpu_to_be_16((uint16_t)(TEST_UDP_PORT_BASE + to));
	udp->dgram_len = rte_cpu_to_be_16(udp_bytes);
	test_fill((uint8_t *)(udp + 1), body_bytes, from, to, seq);
	m->data_len = (uint16_t)(RC_FRAME_HEADER_BYTES + body_bytes);
	m->pkt_len = m->data_len;

	switch (spoil) {
	case TEST_SPOIL_NONE:
		break;
	case TEST_SPOIL_UDP_PORT_OTHER_NODE:
		udp->dst_port = rte_cpu_to_be_16((uint16_t)(TEST_UDP_PORT_BASE + 3));
		break;
	case TEST_SPOIL_UDP_PORT_DEFAULT:
		udp->dst_port = rte_cpu_to_be_16((uint16_t)(7400 + to));
		break;
	case TEST_SPOIL_OTHER_MAC:
		eth->dst_addr.addr_bytes[5] = 3;
		break;
	case TEST_SPOIL_OTHER_IPV4:
		ip->dst_addr = rte_cpu_to_be_32(RTE_IPV4(127, 0, 0, 3));
		break;
	case TEST_SPOIL_BAD_CKSUM:
		ip->hdr_checksum = (uint16_t)(ip->hdr_checksum + 1);
		return m;
	case TEST_SPOIL_ETHER_ARP:
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
		break;
	case TEST_SPOIL_ETHER_IPV6:
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
		break;
	case TEST_SPOIL_IP_OPTIONS:
		ip->version_ihl = 0x46;
		break;
	case TEST_SPOIL_IP_TCP:
		ip->next_proto_id = IPPROTO_TCP;
		break;
	case TEST_SPOIL_TRUNCATED:
		m->data_len = RC_FRAME_HEADER_BYTES - 1;
		m->pkt_len = m->data_len;
		break;
	case TEST_SPOIL_IP_LONGER:
		ip->total_length = rte_cpu_to_be_16((uint16_t)(udp_bytes + sizeof(*ip) + 1));
		udp->dgram_len = rte_cpu_to_be_16((uint16_t)(udp_bytes + 1));
		break;
	case TEST_SPOIL_UDP_LENGTH:
		udp->dgram_len = rte_cpu_to_be_16((uint16_t)(udp_bytes - 1));
		break;
	case TEST_SPOIL_UDP_SHORT:
		ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + 4));
		udp->dgram_len = rte_cpu_to_be_16(4);
		break;
	case TEST_SPOIL_TWO_SEGMENTS: {
		struct rte_mbuf *tail = rte_pktmbuf_alloc(pool);

		cr_assert_not_null(tail);
		tail->data_len = 1;
		*rte_pktmbuf_mtod(tail, uint8_t *) = 0;
		cr_assert_eq(rte_pktmbuf_chain(m, tail), 0);
		break;
	}
	case TEST_SPOIL_GARBAGE:
		for (uint32_t i = 0; i < m->data_len; i++)
			rte_pktmbuf_mtod(m, uint8_t *)[i] = (uint8_t)(i * 151u + 89u);
		break;
	default:
		cr_assert_fail("spoil %d", (int)spoil);
	}
	if (spoil != TEST_SPOIL_GARBAGE) {
		/* A header changed above must still be checksummed right: one fault per frame. */
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	return m;
}

/* The ethdev port of node id: the driver names it "rc_ring<id>", net_ring adds its prefix. */
static uint16_t
test_ring_port(uint16_t id)
{
	char name[32];
	uint16_t port;

	snprintf(name, sizeof(name), "net_ring_rc_ring%u", id);
	cr_assert_eq(rte_eth_dev_get_port_by_name(name, &port), 0, "no ethdev port named %s", name);
	return port;
}

/*
 * Frames node 1 -> node 2 and node 2 -> node 3 (a full burst, bodies of 1 to 1472 bytes) arrive
 * at the addressed node only, in order and byte for byte; driver and ethdev counters agree.
 * Crafted frames with another node's UDP port, MAC or IPv4 address, a bad IPv4 checksum, another
 * Ethernet type or broken IPv4/UDP headers are dropped and counted under their reason while a
 * well-formed crafted frame passes. Every mbuf returns to its pool.
 */
Test(dpdk, frames_cross_net_ring, .timeout = 60, .fini = test_remove_files)
{
	struct rc_dpdk_config cfg = { .frame_bytes = TEST_FRAME_BYTES,
				      .nodes = TEST_NODES,
				      .ring_slots = 1024,
				      .udp_port_base = TEST_UDP_PORT_BASE };
	struct rc_driver_stats st[TEST_NODES + 1];
	struct rte_mbuf *crafted[TEST_SPOIL_COUNT];
	struct rc_frame frames[RC_BURST_MAX];
	struct rc_dpdk_rx_drops drops;
	struct rte_eth_stats es;
	struct rte_mempool *pool, *drv_pool;
	struct rc_driver *d;
	uint64_t bytes_12, bytes_23;
	unsigned int drv_avail;
	uint16_t got;

	test_eal_init("ring", NULL, NULL);
	cr_assert_eq(rc_dpdk_open_ring(&cfg, &d), 0);
	cr_assert_str_eq(d->ops->name, "ring");
	cr_assert_eq(d->frame_bytes, TEST_FRAME_BYTES);
	cr_assert_eq(d->body_bytes_max, TEST_BODY_BYTES_MAX);
	/* The driver's pool (named in dpdk.c), to see that every mbuf comes back. */
	drv_pool = rte_mempool_lookup("rc_mbufs");
	cr_assert_not_null(drv_pool);
	drv_avail = rte_mempool_avail_count(drv_pool);

	test_ring_send(d, 1, 2, RC_BURST_MAX, &bytes_12);
	test_ring_expect_none(d, 1);
	test_ring_expect_none(d, 3);
	test_ring_expect(d, 2, 1, RC_BURST_MAX);
	test_ring_send(d, 2, 3, 7, &bytes_23);
	test_ring_expect_none(d, 1);
	test_ring_expect_none(d, 2);
	test_ring_expect(d, 3, 2, 7);

	/* Allocated and given back unsent: the pool gets them back. */
	got = d->ops->tx_alloc(d, 1, frames, RC_BURST_MAX);
	cr_assert_eq(got, RC_BURST_MAX);
	d->ops->tx_free(d, 1, frames, got);

	for (uint16_t id = 1; id <= TEST_NODES; id++)
		d->ops->stats(d, id, &st[id]);
	cr_assert_eq(st[1].tx_frames, RC_BURST_MAX);
	cr_assert_eq(st[1].tx_bytes, bytes_12);
	cr_assert_eq(st[1].rx_frames, 0);
	cr_assert_eq(st[2].rx_frames, RC_BURST_MAX);
	cr_assert_eq(st[2].rx_bytes, bytes_12);
	cr_assert_eq(st[2].tx_frames, 7);
	cr_assert_eq(st[2].tx_bytes, bytes_23);
	cr_assert_eq(st[3].rx_frames, 7);
	cr_assert_eq(st[3].rx_bytes, bytes_23);
	cr_assert_eq(st[3].tx_frames, 0);
	for (uint16_t id = 1; id <= TEST_NODES; id++) {
		cr_assert_eq(st[id].rx_dropped, 0, "node %u", id);
		cr_assert_eq(st[id].tx_full, 0, "node %u", id);
		cr_assert_eq(st[id].alloc_failed, 0, "node %u", id);
	}
	cr_assert_eq(rc_dpdk_eth_stats(d, 1, &es), 0);
	cr_assert_eq(es.opackets, RC_BURST_MAX);
	cr_assert_eq(es.ipackets, 0);
	cr_assert_eq(rc_dpdk_eth_stats(d, 2, &es), 0);
	cr_assert_eq(es.ipackets, RC_BURST_MAX);
	cr_assert_eq(es.opackets, 7);
	cr_assert_eq(rc_dpdk_eth_stats(d, 0, &es), -EINVAL);
	cr_assert_eq(rc_dpdk_eth_stats(d, TEST_NODES + 1, &es), -EINVAL);

	/* Foreign and malformed frames, sent from node 1's port on its queue to node 2. */
	pool = rte_pktmbuf_pool_create("test_mbufs", TEST_POOL_MBUFS, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	cr_assert_not_null(pool);
	for (int s = 0; s < TEST_SPOIL_COUNT; s++)
		crafted[s] = test_craft(pool, 1, 2, 1000u + (uint32_t)s, 100, (enum test_spoil)s);
	cr_assert_eq(rte_eth_tx_burst(test_ring_port(1), 1, crafted, TEST_SPOIL_COUNT),
		     TEST_SPOIL_COUNT);
	got = 0;
	for (uint64_t t0 = rc_clock_ns(); got == 0 && rc_clock_ns() - t0 < TEST_WAIT_NS;)
		got = d->ops->rx_burst(d, 2, frames, RC_BURST_MAX);
	cr_assert_eq(got, 1, "node 2 kept %u crafted frames; only the well-formed one is its", got);
	cr_assert_eq(frames[0].body_bytes, 100);
	cr_assert(test_intact(frames[0].body, 100, 1, 2, 1000 + TEST_SPOIL_NONE));
	d->ops->rx_free(d, 2, frames, got);
	test_ring_expect_none(d, 2);
	test_ring_expect_none(d, 3);
	d->ops->stats(d, 2, &st[2]);
	cr_assert_eq(st[2].rx_dropped, TEST_SPOIL_COUNT - 1, "rx_dropped %" PRIu64,
		     st[2].rx_dropped);
	cr_assert_eq(rc_dpdk_rx_drops(d, 2, &drops), 0);
	cr_assert_eq(drops.other_port, TEST_DROPS_OTHER_PORT);
	cr_assert_eq(drops.other_mac, TEST_DROPS_OTHER_MAC);
	cr_assert_eq(drops.other_ipv4, TEST_DROPS_OTHER_IPV4);
	cr_assert_eq(drops.bad_cksum, TEST_DROPS_BAD_CKSUM);
	cr_assert_eq(drops.malformed, TEST_DROPS_MALFORMED);
	cr_assert_eq(rc_dpdk_rx_drops(d, TEST_NODES + 1, &drops), -EINVAL);
	cr_assert_eq(st[2].rx_frames, RC_BURST_MAX + 1);
	cr_assert_eq(st[2].rx_bytes, bytes_12 + 100);
	cr_assert_eq(rc_dpdk_eth_stats(d, 2, &es), 0);
	cr_assert_eq(es.ipackets, RC_BURST_MAX + TEST_SPOIL_COUNT);
	cr_assert_eq(rte_mempool_avail_count(pool), TEST_POOL_MBUFS, "crafted mbufs leaked");
	cr_assert_eq(rte_mempool_avail_count(drv_pool), drv_avail, "driver mbufs leaked");

	d->ops->close(d);
	rte_mempool_free(pool);
	test_eal_fini();
}

/* ---- Test 2: a net_memif pair in one process ----------------------------------------------- */

/* Configures and starts an ethdev port with one rx and one tx queue over pool. */
static void
test_port_start(uint16_t port, struct rte_mempool *pool)
{
	struct rte_eth_conf conf = { 0 };
	int rc;

	rc = rte_eth_dev_configure(port, 1, 1, &conf);
	cr_assert_eq(rc, 0, "port %u: configure: %s", port, strerror(-rc));
	rc = rte_eth_rx_queue_setup(port, 0, 256, (unsigned int)rte_eth_dev_socket_id(port), NULL,
				    pool);
	cr_assert_eq(rc, 0, "port %u: rx queue: %s", port, strerror(-rc));
	rc = rte_eth_tx_queue_setup(port, 0, 256, (unsigned int)rte_eth_dev_socket_id(port), NULL);
	cr_assert_eq(rc, 0, "port %u: tx queue: %s", port, strerror(-rc));
	rc = rte_eth_dev_start(port);
	cr_assert_eq(rc, 0, "port %u: start: %s", port, strerror(-rc));
}

/* Sends count pattern frames from port a (as node from) and receives them intact on port b. */
static void
test_memif_cross(struct rte_mempool *pool, uint16_t a, uint16_t b, uint16_t from, uint16_t to)
{
	struct rte_mbuf *out[TEST_MEMIF_FRAMES], *in[RC_BURST_MAX];
	uint32_t sent = 0, seen = 0;
	uint64_t t0 = rc_clock_ns();

	for (uint32_t i = 0; i < TEST_MEMIF_FRAMES; i++)
		out[i] = test_craft(pool, from, to, i, test_body_bytes(i), TEST_SPOIL_NONE);
	while (seen < TEST_MEMIF_FRAMES) {
		uint16_t got;

		if (sent < TEST_MEMIF_FRAMES)
			sent += rte_eth_tx_burst(a, 0, out + sent,
						 (uint16_t)(TEST_MEMIF_FRAMES - sent));
		got = rte_eth_rx_burst(b, 0, in, RC_BURST_MAX);
		for (uint16_t i = 0; i < got; i++) {
			struct rte_mbuf *m = in[i];
			uint32_t body = test_body_bytes(seen);

			cr_assert(seen < TEST_MEMIF_FRAMES, "port %u: more frames than sent", b);
			cr_assert_eq(rte_pktmbuf_pkt_len(m), RC_FRAME_HEADER_BYTES + body,
				     "port %u frame %u: %u bytes", b, seen, rte_pktmbuf_pkt_len(m));
			cr_assert_eq(m->nb_segs, 1);
			cr_assert(test_intact(rte_pktmbuf_mtod_offset(m, uint8_t *,
								      RC_FRAME_HEADER_BYTES),
					      body, from, to, seen),
				  "port %u frame %u: body differs", b, seen);
			rte_pktmbuf_free(m);
			seen++;
		}
		cr_assert(rc_clock_ns() - t0 < TEST_WAIT_NS,
			  "port %u -> %u: %u sent, %u of %u received in 5 s", a, b, sent, seen,
			  TEST_MEMIF_FRAMES);
	}
	cr_assert_eq(rte_eth_rx_burst(b, 0, in, RC_BURST_MAX), 0);
}

/*
 * A net_memif server and client of one process on one unix socket come up (link up within 5 s)
 * and carry frames both ways, in order and byte for byte; when the client stops, the server's
 * link goes down.
 */
Test(dpdk, frames_cross_memif_pair, .timeout = 60, .fini = test_remove_files)
{
	char server[160], client[160];
	struct rte_eth_link link_s, link_c;
	struct rte_eth_stats es;
	struct rte_mempool *pool;
	uint16_t ps, pc;
	uint64_t t0;

	snprintf(test_memif_sock, sizeof(test_memif_sock), "/tmp/rc-memif-%d.sock", (int)getpid());
	unlink(test_memif_sock);
	snprintf(server, sizeof(server), "--vdev=net_memif0,role=server,socket=%s,id=0",
		 test_memif_sock);
	snprintf(client, sizeof(client), "--vdev=net_memif1,role=client,socket=%s,id=0",
		 test_memif_sock);
	test_eal_init("memif", server, client);
	cr_assert_eq(rte_eth_dev_get_port_by_name("net_memif0", &ps), 0, "no net_memif0 port");
	cr_assert_eq(rte_eth_dev_get_port_by_name("net_memif1", &pc), 0, "no net_memif1 port");
	pool = rte_pktmbuf_pool_create("test_mbufs", 2047, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       (int)rte_socket_id());
	cr_assert_not_null(pool);
	test_port_start(ps, pool);
	test_port_start(pc, pool);
	t0 = rc_clock_ns();
	for (;;) {
		cr_assert_geq(rte_eth_link_get_nowait(ps, &link_s), 0);
		cr_assert_geq(rte_eth_link_get_nowait(pc, &link_c), 0);
		if (link_s.link_status == RTE_ETH_LINK_UP && link_c.link_status == RTE_ETH_LINK_UP)
			break;
		cr_assert(rc_clock_ns() - t0 < TEST_WAIT_NS,
			  "memif link not up within 5 s (server %u, client %u)", link_s.link_status,
			  link_c.link_status);
		usleep(1000);
	}

	test_memif_cross(pool, ps, pc, 1, 2);
	test_memif_cross(pool, pc, ps, 2, 1);
	cr_assert_eq(rte_eth_stats_get(ps, &es), 0);
	cr_assert_eq(es.opackets, TEST_MEMIF_FRAMES);
	cr_assert_eq(es.ipackets, TEST_MEMIF_FRAMES);
	cr_assert_eq(rte_eth_stats_get(pc, &es), 0);
	cr_assert_eq(es.opackets, TEST_MEMIF_FRAMES);
	cr_assert_eq(es.ipackets, TEST_MEMIF_FRAMES);

	/*
	 * The client leaves first and the server must see its link go down. Waiting for that also
	 * keeps the server's own stop from racing the EAL interrupt thread's handling of the
	 * disconnect: without the wait, DPDK 22.11's memif frees a region twice ("EAL: Error:
	 * Invalid memory" from rte_free).
	 */
	cr_assert_eq(rte_eth_dev_stop(pc), 0);
	t0 = rc_clock_ns();
	do {
		cr_assert(rc_clock_ns() - t0 < TEST_WAIT_NS,
			  "the server's link still up 5 s after the client stopped");
		usleep(1000);
		cr_assert_geq(rte_eth_link_get_nowait(ps, &link_s), 0);
	} while (link_s.link_status == RTE_ETH_LINK_UP);
	cr_assert_eq(rte_eth_dev_stop(ps), 0);
	rte_eth_dev_close(pc);
	rte_eth_dev_close(ps);
	cr_assert_eq(rte_mempool_avail_count(pool), 2047, "mbufs leaked");
	rte_mempool_free(pool);
	test_eal_fini();
}

/* ---- A cluster of nodes on the ring driver ------------------------------------------------- */

/* One node of the test cluster and what its callbacks saw. */
struct test_node {
	struct rc_node *node;
	uint16_t id;
	bool stopped;		/* its loop is not polled */
	uint64_t applied_count; /* normal entries applied */
	uint64_t applied_last;	/* index of the last one */
	uint64_t cookie_next;	/* cookies below were applied or skipped (refused) */
};

struct test_cluster {
	struct rc_driver *drv;
	struct test_node nodes[TEST_NODES + 1]; /* by node id */
	uint64_t proposed;			/* cookies 0..proposed-1 were accepted */
	uint64_t completed;			/* completions seen, any status */
	uint64_t committed;			/* completions with RC_PROPOSE_COMMITTED */
};

/* Per cookie: how it completed and, per node, the index it was applied at (0: not yet). */
static struct test_cluster test_c;
static uint8_t test_done_count[TEST_ENTRIES];
static uint8_t test_done_status[TEST_ENTRIES];
static uint64_t test_done_index[TEST_ENTRIES];
static uint64_t test_applied_index[TEST_NODES + 1][TEST_ENTRIES];

/* Bytes of cookie's payload: 8 to 64. */
static uint32_t
test_payload_bytes(uint64_t cookie)
{
	return TEST_PAYLOAD_BYTES_MIN +
	       (uint32_t)((cookie * 7u) % (TEST_PAYLOAD_BYTES_MAX - TEST_PAYLOAD_BYTES_MIN + 1));
}

/* Writes cookie's payload: the cookie, then bytes that differ for every cookie. */
static void
test_payload(uint64_t cookie, uint8_t *p)
{
	memcpy(p, &cookie, sizeof(cookie));
	for (uint32_t i = TEST_PAYLOAD_BYTES_MIN; i < test_payload_bytes(cookie); i++)
		p[i] = (uint8_t)(cookie * 131u + i * 29u + (cookie >> 8));
}

/* True when p of bytes is cookie's payload; *cookie is read from it. */
static bool
test_payload_check(const void *p, uint32_t bytes, uint64_t *cookie)
{
	uint8_t want[TEST_PAYLOAD_BYTES_MAX];

	if (bytes < TEST_PAYLOAD_BYTES_MIN)
		return false;
	memcpy(cookie, p, sizeof(*cookie));
	if (*cookie >= TEST_ENTRIES || bytes != test_payload_bytes(*cookie))
		return false;
	test_payload(*cookie, want);
	return memcmp(p, want, bytes) == 0;
}

/* complete(): every cookie settles once; a commit names a fresh index above the previous. */
static void
test_on_complete(void *ctx, uint64_t cookie, uint64_t index, enum rc_propose_status status)
{
	struct test_node *tn = ctx;

	cr_assert(cookie < test_c.proposed, "node %u completed cookie %" PRIu64 " never proposed",
		  tn->id, cookie);
	cr_assert_eq(test_done_count[cookie], 0, "node %u completed cookie %" PRIu64 " twice",
		     tn->id, cookie);
	test_done_count[cookie] = 1;
	test_done_status[cookie] = (uint8_t)status;
	test_done_index[cookie] = index;
	test_c.completed++;
	if (status == RC_PROPOSE_COMMITTED) {
		cr_assert(index > 0, "cookie %" PRIu64 " committed at index 0", cookie);
		cr_assert(cookie == 0 || test_done_status[cookie - 1] != RC_PROPOSE_COMMITTED ||
				  test_done_index[cookie - 1] < index,
			  "cookie %" PRIu64 " committed at %" PRIu64
			  ", its predecessor at %" PRIu64,
			  cookie, index, test_done_index[cookie - 1]);
		test_c.committed++;
	} else {
		cr_assert_eq(index, 0, "refused cookie %" PRIu64 " names index %" PRIu64, cookie,
			     index);
	}
}

/* apply(): in index order, the payload intact, each cookie once and in proposal order. */
static bool
test_on_apply(void *ctx, uint64_t index, const void *payload, uint32_t bytes)
{
	struct test_node *tn = ctx;
	uint64_t cookie;

	cr_assert(index > tn->applied_last, "node %u applied %" PRIu64 " after %" PRIu64, tn->id,
		  index, tn->applied_last);
	cr_assert(test_payload_check(payload, bytes, &cookie),
		  "node %u: payload at %" PRIu64 " (%u bytes) is no proposal's", tn->id, index,
		  bytes);
	cr_assert(cookie >= tn->cookie_next,
		  "node %u applied cookie %" PRIu64 " at %" PRIu64 " after cookie %" PRIu64, tn->id,
		  cookie, index, tn->cookie_next - 1);
	cr_assert_eq(test_applied_index[tn->id][cookie], 0);
	test_applied_index[tn->id][cookie] = index;
	tn->applied_last = index;
	tn->cookie_next = cookie + 1;
	tn->applied_count++;
	return true;
}

/* Opens a 3-node cluster over net_ring with ticks of tick_ns and proposal rings of slots. */
static void
test_cluster_open(const char *tag, uint64_t tick_ns, uint32_t slots)
{
	struct rc_dpdk_config dcfg = { .frame_bytes = TEST_FRAME_BYTES, .nodes = TEST_NODES };
	const uint16_t voters[TEST_NODES] = { 1, 2, 3 };

	test_eal_init(tag, NULL, NULL);
	cr_assert_eq(rc_dpdk_open_ring(&dcfg, &test_c.drv), 0);
	for (uint16_t id = 1; id <= TEST_NODES; id++) {
		struct test_node *tn = &test_c.nodes[id];
		struct rc_node_config cfg;

		rc_node_config_default(&cfg, id, voters, TEST_NODES);
		cfg.raft.seed = 7000u + id;
		cfg.payload_bytes_max = TEST_PAYLOAD_BYTES_MAX;
		cfg.propose_ring_slots = slots;
		cfg.tick_ns = tick_ns;
		cfg.complete = test_on_complete;
		cfg.apply = test_on_apply;
		cfg.ctx = tn;
		tn->id = id;
		cr_assert_eq(rc_node_create(&cfg, test_c.drv, &tn->node), 0, "node %u", id);
	}
}

static void
test_cluster_close(void)
{
	for (uint16_t id = 1; id <= TEST_NODES; id++)
		rc_node_destroy(test_c.nodes[id].node);
	test_c.drv->ops->close(test_c.drv);
	test_eal_fini();
}

/* Polls every running node once, in id order. */
static void
test_cluster_poll(void)
{
	uint64_t now = rc_clock_ns();

	for (uint16_t id = 1; id <= TEST_NODES; id++)
		if (!test_c.nodes[id].stopped)
			rc_node_poll(test_c.nodes[id].node, now);
}

/*
 * Polls until the running nodes agree on a leader among them in a term above term_min (every
 * running node in that term, naming it). Returns its id; fails after TEST_WAIT_NS.
 */
static uint16_t
test_cluster_leader(uint64_t term_min)
{
	uint64_t t0 = rc_clock_ns();

	for (;;) {
		uint16_t leader = 0;
		bool agreed = true;

		test_cluster_poll();
		for (uint16_t id = 1; id <= TEST_NODES; id++) {
			const struct rc_raft *r = rc_node_raft(test_c.nodes[id].node);

			if (!test_c.nodes[id].stopped && r->role == RC_ROLE_LEADER &&
			    r->term > term_min)
				leader = id;
		}
		for (uint16_t id = 1; id <= TEST_NODES && leader != 0; id++) {
			const struct rc_raft *r = rc_node_raft(test_c.nodes[id].node);
			const struct rc_raft *l = rc_node_raft(test_c.nodes[leader].node);

			if (!test_c.nodes[id].stopped &&
			    (r->leader != leader || r->term != l->term))
				agreed = false;
		}
		if (leader != 0 && agreed)
			return leader;
		cr_assert(rc_clock_ns() - t0 < TEST_WAIT_NS,
			  "no leader agreed on within 5 s (term above %" PRIu64 ")", term_min);
	}
}

/*
 * Proposes cookies proposed..last-1 to node leader, each retried after a poll when the ring is
 * full, and polls until every one completed; counts the -ENOBUFS answers in *full.
 */
static void
test_cluster_propose(uint16_t leader, uint64_t last, uint64_t *full)
{
	struct rc_node *n = test_c.nodes[leader].node;
	uint64_t t0 = rc_clock_ns();
	uint8_t p[TEST_PAYLOAD_BYTES_MAX];

	while (test_c.completed < last) {
		while (test_c.proposed < last) {
			uint64_t cookie = test_c.proposed;
			int rc;

			test_payload(cookie, p);
			rc = rc_propose(n, p, test_payload_bytes(cookie), cookie);
			if (rc == -ENOBUFS) {
				(*full)++;
				break;
			}
			cr_assert_eq(rc, 0, "rc_propose: %d", rc);
			test_c.proposed++;
		}
		test_cluster_poll();
		cr_assert(rc_clock_ns() - t0 < TEST_COMMIT_WAIT_NS,
			  "%" PRIu64 " of %" PRIu64 " proposals completed in 10 s (%" PRIu64
			  " proposed)",
			  test_c.completed, last, test_c.proposed);
	}
}

/* Polls until every running node applied count normal entries; fails after TEST_WAIT_NS. */
static void
test_cluster_wait_applied(uint64_t count)
{
	uint64_t t0 = rc_clock_ns();

	for (;;) {
		uint16_t behind = 0;

		for (uint16_t id = 1; id <= TEST_NODES; id++)
			if (!test_c.nodes[id].stopped && test_c.nodes[id].applied_count < count)
				behind = id;
		if (behind == 0)
			return;
		cr_assert(rc_clock_ns() - t0 < TEST_WAIT_NS,
			  "node %u applied %" PRIu64 " of %" PRIu64 " entries in 5 s", behind,
			  test_c.nodes[behind].applied_count, count);
		test_cluster_poll();
	}
}

/* Asserts that cookies first..last-1 completed as committed, each at the index it holds on
 * node id (when not compacted there) and was applied at on every node in ids[]. */
static void
test_check_committed(uint64_t first, uint64_t last, const uint16_t *ids, uint32_t id_count)
{
	uint8_t want[TEST_PAYLOAD_BYTES_MAX];

	for (uint64_t c = first; c < last; c++) {
		uint64_t index = test_done_index[c];

		cr_assert_eq(test_done_count[c], 1, "cookie %" PRIu64 " completed %u times", c,
			     test_done_count[c]);
		cr_assert_eq(test_done_status[c], RC_PROPOSE_COMMITTED,
			     "cookie %" PRIu64 " completed with status %u", c, test_done_status[c]);
		test_payload(c, want);
		for (uint32_t k = 0; k < id_count; k++) {
			uint16_t id = ids[k];
			uint32_t bytes;
			const void *p = rc_node_payload(test_c.nodes[id].node, index, &bytes);

			cr_assert_eq(test_applied_index[id][c], index,
				     "node %u applied cookie %" PRIu64 " at %" PRIu64
				     ", committed at %" PRIu64,
				     id, c, test_applied_index[id][c], index);
			if (p == NULL)
				continue; /* compacted; the apply above saw the payload */
			cr_assert(bytes == test_payload_bytes(c) && memcmp(p, want, bytes) == 0,
				  "node %u: payload at %" PRIu64 " is not cookie %" PRIu64 "'s", id,
				  index, c);
		}
	}
}

/*
 * Asserts that nodes ids[] hold identical entries (term, type, payload) at the newest count
 * indexes up to the lowest commit among them. Returns the lowest commit.
 */
static uint64_t
test_check_logs(const uint16_t *ids, uint32_t id_count, uint64_t count)
{
	const struct rc_node *n0 = test_c.nodes[ids[0]].node;
	uint64_t commit = UINT64_MAX, first;

	for (uint32_t k = 0; k < id_count; k++) {
		uint64_t c = rc_node_raft(test_c.nodes[ids[k]].node)->commit;

		commit = c < commit ? c : commit;
	}
	cr_assert(commit >= count, "lowest commit %" PRIu64 " below %" PRIu64, commit, count);
	first = commit - count + 1;
	for (uint64_t index = first; index <= commit; index++) {
		const struct rc_raft_entry *e0 = rc_raft_entry_at(rc_node_raft(n0), index);
		uint32_t bytes0;
		const void *p0 = rc_node_payload(n0, index, &bytes0);

		cr_assert(e0 != NULL && p0 != NULL, "node %u: index %" PRIu64 " not held", ids[0],
			  index);
		for (uint32_t k = 1; k < id_count; k++) {
			const struct rc_node *n = test_c.nodes[ids[k]].node;
			const struct rc_raft_entry *e = rc_raft_entry_at(rc_node_raft(n), index);
			uint32_t bytes;
			const void *p = rc_node_payload(n, index, &bytes);

			cr_assert(e != NULL && p != NULL, "node %u: index %" PRIu64 " not held",
				  ids[k], index);
			cr_assert(e->term == e0->term && e->type == e0->type && bytes == bytes0 &&
					  memcmp(p, p0, bytes) == 0,
				  "nodes %u and %u disagree at index %" PRIu64 " (terms %" PRIu64
				  " and %" PRIu64 ", %u and %u bytes)",
				  ids[0], ids[k], index, e0->term, e->term, bytes0, bytes);
		}
	}
	return commit;
}

/* ---- Test 3: 100,000 entries ---------------------------------------------------------------- */

/*
 * Three nodes on net_ring commit 100,000 proposals with distinct payloads, submitted as fast as
 * the proposal ring takes them (-ENOBUFS: poll, then retry). Every proposal completes once as
 * committed, at increasing indexes; every node applies every entry once, in order, at the same
 * index; the newest 30,000 entries are identical on all nodes; every payload still held sits at
 * its proposal's index on every node.
 */
Test(dpdk, cluster_commits_100k_entries_logs_identical, .timeout = 120, .fini = test_remove_files)
{
	const uint16_t all[TEST_NODES] = { 1, 2, 3 };
	uint64_t full = 0, commit, t0;
	uint16_t leader;

	test_cluster_open("100k", 1000000, 4096);
	leader = test_cluster_leader(0);
	t0 = rc_clock_ns();
	test_cluster_propose(leader, TEST_ENTRIES, &full);
	cr_log_info("100000 entries committed in %.0f ms; %" PRIu64 " times the ring was full",
		    (double)(rc_clock_ns() - t0) / 1e6, full);
	cr_assert(full > 0, "the proposal ring never pushed back");
	cr_assert_eq(test_c.committed, TEST_ENTRIES);
	cr_assert_eq(rc_node_stats(test_c.nodes[leader].node)->committed, TEST_ENTRIES);
	cr_assert_eq(rc_node_stats(test_c.nodes[leader].node)->refused, 0);
	test_cluster_wait_applied(TEST_ENTRIES);
	test_check_committed(0, TEST_ENTRIES, all, TEST_NODES);
	commit = test_check_logs(all, TEST_NODES, TEST_LOG_CHECK_ENTRIES);
	cr_assert_geq(commit, test_done_index[TEST_ENTRIES - 1]);
	for (uint16_t id = 1; id <= TEST_NODES; id++) {
		cr_assert_eq(test_c.nodes[id].applied_count, TEST_ENTRIES, "node %u", id);
		cr_assert_eq(test_c.nodes[id].applied_last, test_done_index[TEST_ENTRIES - 1],
			     "node %u", id);
		cr_assert_eq(rc_node_stats(test_c.nodes[id].node)->tx_dropped, 0, "node %u", id);
		cr_assert_eq(rc_node_stats(test_c.nodes[id].node)->rx_rejected, 0, "node %u", id);
	}
	test_cluster_close();
}

/* ---- Test 4: the leader's loop stops ------------------------------------------------------- */

/*
 * With 100 us ticks, three nodes commit 1,000 entries; then the leader is no longer polled. The
 * other two elect a leader in a higher term within 5 s, which holds the 1,000 entries, and 1,000
 * new proposals to it commit and are applied by both. When the old leader's loop runs again, it
 * follows the new term and catches up: all three logs agree.
 */
Test(dpdk, leader_stop_new_leader_load_continues, .timeout = 60, .fini = test_remove_files)
{
	const uint16_t all[TEST_NODES] = { 1, 2, 3 };
	uint16_t old, leader, alive[TEST_NODES - 1];
	uint64_t full = 0, old_term, t0;
	uint32_t k = 0;

	test_cluster_open("stop", 100000, 4096);
	old = test_cluster_leader(0);
	test_cluster_propose(old, 1000, &full);
	test_cluster_wait_applied(1000);
	old_term = rc_node_raft(test_c.nodes[old].node)->term;

	test_c.nodes[old].stopped = true;
	t0 = rc_clock_ns();
	leader = test_cluster_leader(old_term);
	cr_log_info("node %u stopped; node %u leads term %" PRIu64 " after %.1f ms", old, leader,
		    rc_node_raft(test_c.nodes[leader].node)->term,
		    (double)(rc_clock_ns() - t0) / 1e6);
	cr_assert_neq(leader, old);
	for (uint16_t id = 1; id <= TEST_NODES; id++)
		if (id != old)
			alive[k++] = id;
	test_check_committed(0, 1000, alive, TEST_NODES - 1);
	test_cluster_propose(leader, 2000, &full);
	test_cluster_wait_applied(2000);
	test_check_committed(0, 2000, alive, TEST_NODES - 1);
	test_check_logs(alive, TEST_NODES - 1, 2000);
	cr_assert_eq(test_c.committed, 2000);

	test_c.nodes[old].stopped = false;
	t0 = rc_clock_ns();
	while (rc_node_raft(test_c.nodes[old].node)->role != RC_ROLE_FOLLOWER ||
	       rc_node_raft(test_c.nodes[old].node)->term <= old_term) {
		test_cluster_poll();
		cr_assert(rc_clock_ns() - t0 < TEST_WAIT_NS,
			  "the old leader did not follow a newer term within 5 s");
	}
	test_cluster_wait_applied(2000);
	test_check_committed(0, 2000, all, TEST_NODES);
	test_check_logs(all, TEST_NODES, 2000);
	test_cluster_close();
}

/* ---- Test 5: back-pressure of the proposal ring --------------------------------------------- */

/* Proposes cookie (next in line) to node id; returns rc_propose's answer. */
static int
test_propose_one(uint16_t id, uint32_t bytes)
{
	uint8_t p[TEST_PAYLOAD_BYTES_MAX + 1];
	uint64_t cookie = test_c.proposed;
	int rc;

	memset(p, 0, sizeof(p));
	test_payload(cookie, p);
	rc = rc_propose(test_c.nodes[id].node, p, bytes, cookie);
	if (rc == 0)
		test_c.proposed++;
	return rc;
}

/* Fills node id's ring of 8 slots without polling: 8 accepted, then -ENOBUFS every time. */
static void
test_fill_ring(uint16_t id)
{
	for (uint32_t i = 0; i < 8; i++)
		cr_assert_eq(test_propose_one(id, test_payload_bytes(test_c.proposed)), 0,
			     "node %u: proposal %u of 8 refused", id, i + 1);
	for (uint32_t i = 0; i < 4; i++)
		cr_assert_eq(test_propose_one(id, test_payload_bytes(test_c.proposed)), -ENOBUFS,
			     "node %u: a 9th proposal entered a ring of 8", id);
	cr_assert_eq(test_propose_one(id, TEST_PAYLOAD_BYTES_MAX + 1), -EMSGSIZE);
}

/*
 * With rings of 8 slots and no polling, rc_propose() accepts exactly 8 proposals, then answers
 * -ENOBUFS; an oversize payload is -EMSGSIZE and takes no slot. Polled, a follower refuses its 8
 * as NOT_LEADER (index 0) and the leader commits its 8, each completing exactly once; the rings
 * take proposals again afterwards.
 */
Test(dpdk, full_proposal_ring_backpressure, .timeout = 60, .fini = test_remove_files)
{
	const uint16_t all[TEST_NODES] = { 1, 2, 3 };
	uint16_t leader, follower;
	uint64_t t0;

	test_cluster_open("full", 1000000, 8);
	/* Before any poll every node is a follower. Oversize first: it must take no slot. */
	cr_assert_eq(test_propose_one(1, TEST_PAYLOAD_BYTES_MAX + 1), -EMSGSIZE);
	cr_assert_eq(test_propose_one(1, UINT32_MAX), -EMSGSIZE);
	test_fill_ring(1);
	cr_assert_eq(test_c.proposed, 8);
	test_cluster_poll();
	cr_assert_eq(test_c.completed, 8, "%" PRIu64 " of 8 completed after one poll",
		     test_c.completed);
	for (uint64_t c = 0; c < 8; c++) {
		cr_assert_eq(test_done_count[c], 1);
		cr_assert_eq(test_done_status[c], RC_PROPOSE_NOT_LEADER, "cookie %" PRIu64, c);
		cr_assert_eq(test_done_index[c], 0);
	}
	cr_assert_eq(rc_node_stats(test_c.nodes[1].node)->refused, 8);
	cr_assert_eq(rc_node_stats(test_c.nodes[1].node)->proposed, 0);

	leader = test_cluster_leader(0);
	follower = leader == 1 ? 2 : 1;
	/* The first 8 cookies were refused; the rest must commit. Full payload sizes included. */
	cr_assert_eq(test_propose_one(leader, TEST_PAYLOAD_BYTES_MAX + 1), -EMSGSIZE);
	test_fill_ring(leader);
	cr_assert_eq(test_c.proposed, 16);
	t0 = rc_clock_ns();
	while (test_c.completed < 16) {
		test_cluster_poll();
		cr_assert(rc_clock_ns() - t0 < TEST_WAIT_NS, "%" PRIu64 " of 16 completed in 5 s",
			  test_c.completed);
	}
	/* The refused 8 were never appended: every node applies the other 8, at their index. */
	test_cluster_wait_applied(8);
	test_check_committed(8, 16, all, TEST_NODES);

	/* The rings take proposals again: a follower's are refused, the leader's commit. */
	test_fill_ring(follower);
	test_fill_ring(leader);
	t0 = rc_clock_ns();
	while (test_c.completed < 32) {
		test_cluster_poll();
		cr_assert(rc_clock_ns() - t0 < TEST_WAIT_NS, "%" PRIu64 " of 32 completed in 5 s",
			  test_c.completed);
	}
	for (uint64_t c = 16; c < 24; c++) {
		cr_assert_eq(test_done_count[c], 1);
		cr_assert_eq(test_done_status[c], RC_PROPOSE_NOT_LEADER, "cookie %" PRIu64, c);
	}
	test_cluster_wait_applied(16);
	test_check_committed(24, 32, all, TEST_NODES);
	for (uint16_t id = 1; id <= TEST_NODES; id++)
		cr_assert_eq(test_c.nodes[id].applied_count, 16, "node %u", id);
	cr_assert_eq(rc_node_stats(test_c.nodes[leader].node)->committed, 16);
	cr_assert_eq(test_c.committed, 16);
	test_cluster_close();
}
