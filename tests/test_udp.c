/*
 * Tests of the UDP driver (drivers/udp) over 127.0.0.1: two drivers in one process (node 1 in
 * one, nodes 2 and 3 in the other) exchange frames both ways, bytes intact and in order per pair;
 * a full burst of 32, jumbo frames, exact counters; datagrams from unknown sources and oversize
 * datagrams dropped and counted; tx and rx pool exhaustion; the wire payload is the body; a busy
 * address and bad configs fail with the right errno and message; misuse aborts.
 *
 * Every test's cluster table has four nodes at 127.0.0.1:base+id, base drawn at random in
 * 20000..60000 (drawn again while an address is in use). Node 4 is no driver's: the test binds a
 * plain socket there (the probe), a known source that can send anything and read the wire.
 *
 * The test defines sendmmsg and recvmmsg itself: they pass through to the kernel unless a test
 * scripts failures (a full queue, a hard error), which loopback cannot produce on demand.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <replicore/driver.h>
#include <replicore/limits.h>
#include <replicore/prng.h>

#include "udp.h"

#define TEST_PORT_LO 20000u
#define TEST_PORT_HI 60000u
#define TEST_OPEN_TRIES 64
#define TEST_NODES 4u	   /* 1 in driver a, 2 and 3 in driver b, 4 is the probe socket */
#define TEST_PROBE 4u	   /* the node id of the probe socket */
#define TEST_STRAY_PORT 5u /* base + 5: a port outside the table */
#define TEST_WAIT_NS 2000000000ll
#define TEST_HEADER_BYTES 8u /* from (2), to (2), seq (4) at the start of every test body */
#define TEST_GOT_MAX 256u

/* The drivers and plain sockets of one test. */
struct test_pair {
	struct rc_driver *a; /* hosts node 1 */
	struct rc_driver *b; /* hosts nodes 2 and 3 */
	struct rc_udp_config cfg_a;
	struct rc_udp_config cfg_b;
	uint16_t port_base;
	int probe_fd;	 /* bound at node 4's address: a known source */
	int stray_fd;	 /* bound at 127.0.0.1:base+5: an unknown source */
	int stray_ip_fd; /* bound at 127.0.0.2 with node 1's port: an unknown source */
};

/* What the receiver learnt from one frame. */
struct test_got {
	uint16_t from;
	uint16_t to;
	uint32_t seq;
	uint32_t body_bytes;
	bool intact; /* every byte after the header is the pattern of (from, to, seq) */
};

/* One scripted step of a socket call: fail with err, or (err 0) pass at most max messages. */
struct test_fake_step {
	int err;
	uint32_t max;
};

/* The script of one socket call: steps run in order, one a call; afterwards calls pass. */
struct test_fake {
	struct test_fake_step steps[8];
	uint32_t step_count;
	uint32_t step_next;
};

/* Scripts of the driver's sendmmsg and recvmmsg calls (each test runs in its own process). */
static struct test_fake test_fake_send;
static struct test_fake test_fake_recv;

/* Runs the next step of f: returns -1 with errno set for a failing step, else 0 with *vlen
 * clamped to the step's max. */
static int
test_fake_next(struct test_fake *f, unsigned int *vlen)
{
	const struct test_fake_step *st;

	if (f->step_next >= f->step_count)
		return 0;
	st = &f->steps[f->step_next++];
	if (st->err != 0) {
		errno = st->err;
		return -1;
	}
	if (*vlen > st->max)
		*vlen = st->max;
	return 0;
}

/* Appends a step to f's script. */
static void
test_fake_add(struct test_fake *f, int err, uint32_t max)
{
	cr_assert(f->step_count < sizeof(f->steps) / sizeof(f->steps[0]));
	f->steps[f->step_count++] = (struct test_fake_step){ .err = err, .max = max };
}

/* The driver's sendmmsg: the script's next step, then the system call. */
int
sendmmsg(int fd, struct mmsghdr *msgs, unsigned int vlen, int flags)
{
	if (test_fake_next(&test_fake_send, &vlen) != 0)
		return -1;
	return (int)syscall(SYS_sendmmsg, fd, msgs, vlen, flags);
}

/* The driver's recvmmsg: the script's next step, then the system call. */
int
recvmmsg(int fd, struct mmsghdr *msgs, unsigned int vlen, int flags, struct timespec *timeout)
{
	if (test_fake_next(&test_fake_recv, &vlen) != 0)
		return -1;
	return (int)syscall(SYS_recvmmsg, fd, msgs, vlen, flags, timeout);
}

/* Returns byte i of the body of frame seq from -> to. */
static uint8_t
test_pattern(uint16_t from, uint16_t to, uint32_t seq, uint32_t i)
{
	return (uint8_t)(from * 31u + to * 17u + seq * 7u + i * 13u + (i >> 8));
}

/* Writes the body of frame seq from -> to: the header, then the pattern. */
static void
test_fill(uint8_t *body, uint32_t body_bytes, uint16_t from, uint16_t to, uint32_t seq)
{
	uint32_t i;

	cr_assert(body_bytes >= TEST_HEADER_BYTES);
	memcpy(body, &from, 2);
	memcpy(body + 2, &to, 2);
	memcpy(body + 4, &seq, 4);
	for (i = TEST_HEADER_BYTES; i < body_bytes; i++)
		body[i] = test_pattern(from, to, seq, i);
}

/* Reads a body written by test_fill into got. */
static void
test_read(const uint8_t *body, uint32_t body_bytes, struct test_got *got)
{
	uint32_t i;

	memset(got, 0, sizeof(*got));
	got->body_bytes = body_bytes;
	if (body_bytes < TEST_HEADER_BYTES)
		return;
	memcpy(&got->from, body, 2);
	memcpy(&got->to, body + 2, 2);
	memcpy(&got->seq, body + 4, 4);
	got->intact = true;
	for (i = TEST_HEADER_BYTES; i < body_bytes; i++) {
		if (body[i] != test_pattern(got->from, got->to, got->seq, i)) {
			got->intact = false;
			break;
		}
	}
}

/* Body bytes of frame seq: spread over TEST_HEADER_BYTES..max, both ends included. */
static uint32_t
test_body_bytes(uint32_t seq, uint32_t max)
{
	if (seq % 5 == 0)
		return max;
	if (seq % 5 == 1)
		return TEST_HEADER_BYTES;
	return TEST_HEADER_BYTES + (seq * 397u) % (max - TEST_HEADER_BYTES + 1);
}

/* Returns CLOCK_MONOTONIC in nanoseconds. */
static int64_t
test_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* Sleeps 100 microseconds: the pause between two empty polls. */
static void
test_pause(void)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 100000 };

	nanosleep(&ts, NULL);
}

/* Opens a plain non-blocking UDP socket bound at ip (host order):port; returns it or -errno. */
static int
test_socket(uint32_t ip, uint16_t port)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(ip),
	};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int err;

	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

/* Sends body_bytes of body from a plain socket to 127.0.0.1:port; asserts it went whole. */
static void
test_socket_send(int fd, const void *body, uint32_t body_bytes, uint16_t port)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	ssize_t sent = sendto(fd, body, body_bytes, 0, (struct sockaddr *)&a, sizeof(a));

	cr_assert_eq(sent, (ssize_t)body_bytes, "sendto: %s", strerror(errno));
}

/* Fills a config with the four-node loopback table and the given local nodes and sizes. */
static void
test_config(struct rc_udp_config *cfg, uint16_t port_base, const uint16_t *locals,
	    uint16_t local_count, uint32_t frame_bytes, uint32_t rx_buffers, uint32_t tx_buffers)
{
	memset(cfg, 0, sizeof(*cfg));
	rc_udp_loopback_peers(cfg, TEST_NODES, port_base);
	cfg->frame_bytes = frame_bytes;
	cfg->local_count = local_count;
	memcpy(cfg->local_ids, locals, local_count * sizeof(locals[0]));
	cfg->rx_buffers = rx_buffers;
	cfg->tx_buffers = tx_buffers;
}

/* Closes whatever of p is open. */
static void
test_pair_close(struct test_pair *p)
{
	if (p->a != NULL)
		p->a->ops->close(p->a);
	if (p->b != NULL)
		p->b->ops->close(p->b);
	if (p->probe_fd >= 0)
		close(p->probe_fd);
	if (p->stray_fd >= 0)
		close(p->stray_fd);
	if (p->stray_ip_fd >= 0)
		close(p->stray_ip_fd);
	p->a = NULL;
	p->b = NULL;
	p->probe_fd = p->stray_fd = p->stray_ip_fd = -1;
}

/* Draws a port base in TEST_PORT_LO..TEST_PORT_HI from the clock and the pid. */
static uint16_t
test_port_base(struct rc_prng *prng)
{
	return (uint16_t)(TEST_PORT_LO + rc_prng_below(prng, TEST_PORT_HI - TEST_PORT_LO));
}

/* Seeds prng from the clock and the pid: concurrent test processes draw different ports. */
static void
test_prng_seed(struct rc_prng *prng)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	rc_prng_seed(prng, ((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) ^
				   ((uint64_t)getpid() << 40));
}

/*
 * Opens driver a (node 1), driver b (nodes 2, 3), the probe and the two stray sockets at a
 * random port base, drawing again while any address is in use. Any other failure fails.
 */
static void
test_pair_open(struct test_pair *p, uint32_t frame_bytes, uint32_t rx_buffers, uint32_t tx_buffers)
{
	static const uint16_t locals_a[] = { 1 };
	static const uint16_t locals_b[] = { 2, 3 };
	struct rc_prng prng;
	int tries;

	memset(p, 0, sizeof(*p));
	p->probe_fd = p->stray_fd = p->stray_ip_fd = -1;
	test_prng_seed(&prng);
	for (tries = 0; tries < TEST_OPEN_TRIES; tries++) {
		int rc;

		p->port_base = test_port_base(&prng);
		test_config(&p->cfg_a, p->port_base, locals_a, 1, frame_bytes, rx_buffers,
			    tx_buffers);
		test_config(&p->cfg_b, p->port_base, locals_b, 2, frame_bytes, rx_buffers,
			    tx_buffers);
		rc = rc_udp_open(&p->cfg_a, &p->a);
		if (rc == 0)
			rc = rc_udp_open(&p->cfg_b, &p->b);
		if (rc == 0) {
			p->probe_fd = rc = test_socket(INADDR_LOOPBACK, p->port_base + TEST_PROBE);
			if (rc >= 0)
				p->stray_fd = rc = test_socket(INADDR_LOOPBACK,
							       p->port_base + TEST_STRAY_PORT);
			if (rc >= 0)
				p->stray_ip_fd = rc = test_socket(0x7f000002u, p->port_base + 1);
			rc = rc < 0 ? rc : 0;
		}
		if (rc == 0) {
			cr_assert_eq(p->a->body_bytes_max, frame_bytes - RC_FRAME_IP_UDP_BYTES);
			cr_assert_eq(p->b->frame_bytes, frame_bytes);
			cr_assert_str_eq(p->a->ops->name, "udp");
			return;
		}
		cr_assert_eq(rc, -EADDRINUSE, "open failed: %s", strerror(-rc));
		test_pair_close(p);
	}
	cr_assert_fail("no free port base in %d tries", TEST_OPEN_TRIES);
}

/* Returns the driver that hosts node (1: a; 2, 3: b). */
static struct rc_driver *
test_host(struct test_pair *p, uint16_t node)
{
	cr_assert(node >= 1 && node <= 3);
	return node == 1 ? p->a : p->b;
}

/*
 * Sends frames seq_first .. seq_first + count - 1 from -> to in one tx_burst (count <= 32),
 * sized by test_body_bytes; asserts all were taken. Returns the body bytes sent.
 */
static uint64_t
test_send(struct test_pair *p, uint16_t from, uint16_t to, uint32_t seq_first, uint16_t count)
{
	struct rc_driver *d = test_host(p, from);
	struct rc_frame frames[RC_BURST_MAX];
	uint64_t bytes = 0;
	uint16_t i, taken;

	cr_assert(count <= RC_BURST_MAX);
	cr_assert_eq(d->ops->tx_alloc(d, from, frames, count), count);
	for (i = 0; i < count; i++) {
		uint32_t seq = seq_first + i;

		cr_assert_eq(frames[i].body_bytes, 0);
		cr_assert_eq(frames[i].body_cap, d->body_bytes_max);
		frames[i].body_bytes = test_body_bytes(seq, d->body_bytes_max);
		test_fill(frames[i].body, frames[i].body_bytes, from, to, seq);
		bytes += frames[i].body_bytes;
	}
	taken = d->ops->tx_burst(d, from, to, frames, count);
	cr_assert_eq(taken, count, "tx_burst %u -> %u took %u of %u", from, to, taken, count);
	return bytes;
}

/*
 * Receives frames for node until want arrived or TEST_WAIT_NS passed, reading each into got
 * and freeing it. Returns how many arrived (it may exceed want by the rest of the last burst).
 */
static uint32_t
test_recv(struct rc_driver *d, uint16_t node, struct test_got *got, uint32_t want)
{
	struct rc_frame frames[RC_BURST_MAX];
	int64_t deadline = test_now_ns() + TEST_WAIT_NS;
	uint32_t count = 0;

	cr_assert(want <= TEST_GOT_MAX);
	while (count < want && test_now_ns() < deadline) {
		uint16_t n = d->ops->rx_burst(d, node, frames, RC_BURST_MAX);
		uint16_t i;

		cr_assert(n <= RC_BURST_MAX);
		for (i = 0; i < n; i++) {
			cr_assert(count < TEST_GOT_MAX, "more frames than were sent");
			cr_assert(frames[i].body_bytes <= frames[i].body_cap);
			test_read(frames[i].body, frames[i].body_bytes, &got[count++]);
		}
		d->ops->rx_free(d, node, frames, n);
		if (n == 0)
			test_pause();
	}
	return count;
}

/* Polls rx_burst for node into frames (up to n) until one arrives or TEST_WAIT_NS passed. */
static uint16_t
test_rx_some(struct rc_driver *d, uint16_t node, struct rc_frame *frames, uint16_t n)
{
	int64_t deadline = test_now_ns() + TEST_WAIT_NS;
	uint16_t got;

	while ((got = d->ops->rx_burst(d, node, frames, n)) == 0 && test_now_ns() < deadline)
		test_pause();
	return got;
}

/* Returns the counters of node. */
static struct rc_driver_stats
test_stats(struct rc_driver *d, uint16_t node)
{
	struct rc_driver_stats st;

	memset(&st, 0xa5, sizeof(st));
	d->ops->stats(d, node, &st);
	return st;
}

/* Asserts that node has nothing more to receive, after a short grace for stragglers. */
static void
test_expect_quiet(struct rc_driver *d, uint16_t node)
{
	struct rc_frame frames[RC_BURST_MAX];
	int i;

	for (i = 0; i < 50; i++) {
		uint16_t n = d->ops->rx_burst(d, node, frames, RC_BURST_MAX);

		cr_assert_eq(n, 0, "node %u received %u unexpected frames", node, n);
		test_pause();
	}
}

/* Bytes of stderr a capture keeps. */
#define TEST_CAPTURE_BYTES 4096u

/* Where stderr goes while a capture runs. */
struct test_capture {
	FILE *tmp;
	int saved_fd;
	char text[TEST_CAPTURE_BYTES];
};

/* Sends stderr (fd 2) to a temporary file until test_capture_end. */
static void
test_capture_begin(struct test_capture *c)
{
	fflush(stderr);
	c->tmp = tmpfile();
	cr_assert_not_null(c->tmp);
	c->saved_fd = dup(STDERR_FILENO);
	cr_assert(c->saved_fd >= 0);
	cr_assert(dup2(fileno(c->tmp), STDERR_FILENO) >= 0);
}

/* Restores stderr and returns what was written to it meanwhile (NUL-terminated, echoed). */
static const char *
test_capture_end(struct test_capture *c)
{
	size_t n;

	fflush(stderr);
	cr_assert(dup2(c->saved_fd, STDERR_FILENO) >= 0);
	close(c->saved_fd);
	rewind(c->tmp);
	n = fread(c->text, 1, sizeof(c->text) - 1, c->tmp);
	c->text[n] = '\0';
	fclose(c->tmp);
	fprintf(stderr, "%s", c->text);
	return c->text;
}

Test(udp, exchange_both_ways_intact_in_order_with_exact_counters)
{
	/* Every ordered pair of nodes 1..3, each sending 24 frames in bursts of 1..5. */
	enum {
		PAIRS = 6,
		PER_PAIR = 24
	};
	static const uint16_t pairs[PAIRS][2] = { { 1, 2 }, { 1, 3 }, { 2, 1 },
						  { 3, 1 }, { 2, 3 }, { 3, 2 } };
	struct test_got got[TEST_GOT_MAX];
	uint64_t tx_bytes[4] = { 0 }, rx_bytes[4] = { 0 };
	uint32_t next_seq[PAIRS] = { 0 };
	struct test_pair p;
	uint16_t node;
	bool more = true;
	uint32_t k = 0;

	test_pair_open(&p, 1500, 256, 64);
	/* Interleave the pairs so each receiver's queue mixes its sources. */
	while (more) {
		int i;

		more = false;
		for (i = 0; i < PAIRS; i++) {
			uint16_t from = pairs[i][0], to = pairs[i][1];
			uint16_t count = (uint16_t)(1 + (k + (uint32_t)i) % 5);
			uint64_t bytes;

			if (next_seq[i] + count > PER_PAIR)
				count = (uint16_t)(PER_PAIR - next_seq[i]);
			if (count == 0)
				continue;
			bytes = test_send(&p, from, to, next_seq[i], count);
			tx_bytes[from] += bytes;
			rx_bytes[to] += bytes;
			next_seq[i] += count;
			more = true;
		}
		k++;
	}
	for (node = 1; node <= 3; node++) {
		struct rc_driver *d = test_host(&p, node);
		uint32_t expect_seq[4] = { 0 };
		uint32_t n = test_recv(d, node, got, 2 * PER_PAIR);
		struct rc_driver_stats st;
		uint32_t i;

		cr_assert_eq(n, 2 * PER_PAIR, "node %u received %u of %u", node, n, 2 * PER_PAIR);
		for (i = 0; i < n; i++) {
			cr_assert(got[i].intact, "node %u frame %u damaged", node, i);
			cr_assert_eq(got[i].to, node);
			cr_assert(got[i].from >= 1 && got[i].from <= 3 && got[i].from != node);
			cr_assert_eq(got[i].seq, expect_seq[got[i].from],
				     "%u -> %u: seq %u, expected %u", got[i].from, node, got[i].seq,
				     expect_seq[got[i].from]);
			cr_assert_eq(got[i].body_bytes,
				     test_body_bytes(got[i].seq, d->body_bytes_max));
			expect_seq[got[i].from]++;
		}
		test_expect_quiet(d, node);
		st = test_stats(d, node);
		cr_assert_eq(st.tx_frames, 2 * PER_PAIR);
		cr_assert_eq(st.tx_bytes, tx_bytes[node]);
		cr_assert_eq(st.rx_frames, 2 * PER_PAIR);
		cr_assert_eq(st.rx_bytes, rx_bytes[node]);
		cr_assert_eq(st.rx_dropped, 0);
		cr_assert_eq(st.tx_full, 0);
		cr_assert_eq(st.alloc_failed, 0);
	}
	test_pair_close(&p);
}

Test(udp, burst_of_32_jumbo_frames_in_one_call)
{
	struct rc_frame frames[RC_BURST_MAX];
	struct test_got got[TEST_GOT_MAX];
	struct rc_driver_stats st;
	struct test_pair p;
	uint16_t i;
	uint32_t n;

	test_pair_open(&p, 9000, 64, 64);
	cr_assert_eq(p.a->body_bytes_max, 8972);
	cr_assert_eq(p.b->ops->tx_alloc(p.b, 2, frames, RC_BURST_MAX), RC_BURST_MAX);
	for (i = 0; i < RC_BURST_MAX; i++) {
		frames[i].body_bytes = p.b->body_bytes_max - i;
		test_fill(frames[i].body, frames[i].body_bytes, 2, 1, i);
	}
	cr_assert_eq(p.b->ops->tx_burst(p.b, 2, 1, frames, RC_BURST_MAX), RC_BURST_MAX);
	n = test_recv(p.a, 1, got, RC_BURST_MAX);
	cr_assert_eq(n, RC_BURST_MAX);
	for (i = 0; i < RC_BURST_MAX; i++) {
		cr_assert(got[i].intact);
		cr_assert_eq(got[i].from, 2);
		cr_assert_eq(got[i].seq, i);
		cr_assert_eq(got[i].body_bytes, p.b->body_bytes_max - i);
	}
	test_expect_quiet(p.a, 1);
	st = test_stats(p.b, 2);
	cr_assert_eq(st.tx_frames, RC_BURST_MAX);
	cr_assert_eq(st.tx_bytes, RC_BURST_MAX * 8972ull - (31 * 32 / 2));
	st = test_stats(p.a, 1);
	cr_assert_eq(st.rx_frames, RC_BURST_MAX);
	cr_assert_eq(st.rx_bytes, RC_BURST_MAX * 8972ull - (31 * 32 / 2));
	/* Node 3 shares driver b but not node 2's counters. */
	st = test_stats(p.b, 3);
	cr_assert_eq(st.tx_frames, 0);
	cr_assert_eq(st.tx_bytes, 0);
	test_pair_close(&p);
}

Test(udp, frames_from_unknown_sources_are_dropped_and_counted)
{
	uint8_t body[64];
	struct test_got got[TEST_GOT_MAX];
	struct rc_driver_stats st;
	struct test_pair p;
	int64_t deadline;
	uint32_t n = 0;

	test_pair_open(&p, 1500, 64, 64);
	/* Well-formed bodies claiming to be node 1's, from a port and an IP outside the table. */
	test_fill(body, sizeof(body), 1, 2, 100);
	test_socket_send(p.stray_fd, body, sizeof(body), p.port_base + 2);
	test_fill(body, sizeof(body), 1, 2, 101);
	test_socket_send(p.stray_ip_fd, body, sizeof(body), p.port_base + 2);
	/* The same from the probe, which is in the table. */
	test_fill(body, sizeof(body), TEST_PROBE, 2, 7);
	test_socket_send(p.probe_fd, body, sizeof(body), p.port_base + 2);
	deadline = test_now_ns() + TEST_WAIT_NS;
	do {
		n += test_recv(p.b, 2, got + n, 1);
		st = test_stats(p.b, 2);
	} while ((n < 1 || st.rx_dropped < 2) && test_now_ns() < deadline);
	cr_assert_eq(n, 1);
	cr_assert(got[0].intact);
	cr_assert_eq(got[0].from, TEST_PROBE);
	cr_assert_eq(got[0].seq, 7);
	cr_assert_eq(st.rx_dropped, 2);
	cr_assert_eq(st.rx_frames, 1);
	cr_assert_eq(st.rx_bytes, sizeof(body));
	test_expect_quiet(p.b, 2);
	/* Node 3 saw none of it. */
	st = test_stats(p.b, 3);
	cr_assert_eq(st.rx_dropped, 0);
	cr_assert_eq(st.rx_frames, 0);
	test_pair_close(&p);
}

Test(udp, datagrams_longer_than_body_bytes_max_are_dropped)
{
	static uint8_t body[RC_FRAME_BYTES_MAX];
	struct test_got got[TEST_GOT_MAX];
	struct rc_driver_stats st;
	struct test_pair p;
	uint32_t max, n;

	test_pair_open(&p, 1500, 64, 64);
	max = p.a->body_bytes_max;
	cr_assert_eq(max, 1472);
	/* In order: one byte over, exactly the maximum, far over, a small one. */
	test_fill(body, max + 1, TEST_PROBE, 1, 0);
	test_socket_send(p.probe_fd, body, max + 1, p.port_base + 1);
	test_fill(body, max, TEST_PROBE, 1, 1);
	test_socket_send(p.probe_fd, body, max, p.port_base + 1);
	test_fill(body, sizeof(body), TEST_PROBE, 1, 2);
	test_socket_send(p.probe_fd, body, sizeof(body), p.port_base + 1);
	test_fill(body, TEST_HEADER_BYTES, TEST_PROBE, 1, 3);
	test_socket_send(p.probe_fd, body, TEST_HEADER_BYTES, p.port_base + 1);
	n = test_recv(p.a, 1, got, 2);
	cr_assert_eq(n, 2);
	cr_assert(got[0].intact && got[1].intact);
	cr_assert_eq(got[0].seq, 1);
	cr_assert_eq(got[0].body_bytes, max);
	cr_assert_eq(got[1].seq, 3);
	cr_assert_eq(got[1].body_bytes, TEST_HEADER_BYTES);
	test_expect_quiet(p.a, 1);
	st = test_stats(p.a, 1);
	cr_assert_eq(st.rx_dropped, 2);
	cr_assert_eq(st.rx_frames, 2);
	cr_assert_eq(st.rx_bytes, max + TEST_HEADER_BYTES);
	test_pair_close(&p);
}

Test(udp, body_is_the_whole_udp_payload_from_the_node_address)
{
	struct rc_frame frames[3];
	uint8_t buf[RC_FRAME_BYTES_MAX];
	struct sockaddr_in src;
	struct test_pair p;
	uint16_t i;

	test_pair_open(&p, 1500, 64, 64);
	cr_assert_eq(p.b->ops->tx_alloc(p.b, 3, frames, 3), 3);
	for (i = 0; i < 3; i++) {
		frames[i].body_bytes = test_body_bytes(i, p.b->body_bytes_max);
		test_fill(frames[i].body, frames[i].body_bytes, 3, TEST_PROBE, i);
	}
	cr_assert_eq(p.b->ops->tx_burst(p.b, 3, TEST_PROBE, frames, 3), 3);
	for (i = 0; i < 3; i++) {
		int64_t deadline = test_now_ns() + TEST_WAIT_NS;
		socklen_t src_bytes = sizeof(src);
		struct test_got got;
		ssize_t n;

		do {
			n = recvfrom(p.probe_fd, buf, sizeof(buf), 0, (struct sockaddr *)&src,
				     &src_bytes);
			if (n < 0)
				test_pause();
		} while (n < 0 && errno == EAGAIN && test_now_ns() < deadline);
		cr_assert(n >= 0, "probe received nothing: %s", strerror(errno));
		test_read(buf, (uint32_t)n, &got);
		cr_assert(got.intact);
		cr_assert_eq(got.seq, i);
		cr_assert_eq((uint32_t)n, test_body_bytes(i, p.b->body_bytes_max));
		cr_assert_eq(ntohs(src.sin_port), p.port_base + 3);
		cr_assert_eq(ntohl(src.sin_addr.s_addr), INADDR_LOOPBACK);
	}
	test_pair_close(&p);
}

Test(udp, tx_pool_exhaustion_is_reported_by_tx_alloc_returning_fewer)
{
	struct rc_frame frames[RC_BURST_MAX];
	struct rc_frame more[RC_BURST_MAX];
	struct rc_driver_stats st;
	struct test_pair p;
	uint16_t i;

	test_pair_open(&p, 1500, 64, 8);
	cr_assert_eq(p.a->ops->tx_alloc(p.a, 1, frames, RC_BURST_MAX), 8);
	for (i = 0; i < 8; i++) {
		uint16_t j;

		for (j = 0; j < i; j++)
			cr_assert_neq(frames[i].body, frames[j].body, "a buffer lent twice");
	}
	st = test_stats(p.a, 1);
	cr_assert_eq(st.alloc_failed, RC_BURST_MAX - 8);
	cr_assert_eq(p.a->ops->tx_alloc(p.a, 1, more, 1), 0);
	st = test_stats(p.a, 1);
	cr_assert_eq(st.alloc_failed, RC_BURST_MAX - 8 + 1);
	/* Three back: three to lend. */
	p.a->ops->tx_free(p.a, 1, frames + 5, 3);
	cr_assert_eq(p.a->ops->tx_alloc(p.a, 1, frames + 5, RC_BURST_MAX - 5), 3);
	/* Sent frames go back to the pool too. */
	for (i = 0; i < 8; i++) {
		frames[i].body_bytes = TEST_HEADER_BYTES;
		test_fill(frames[i].body, TEST_HEADER_BYTES, 1, 2, i);
	}
	cr_assert_eq(p.a->ops->tx_burst(p.a, 1, 2, frames, 8), 8);
	cr_assert_eq(p.a->ops->tx_alloc(p.a, 1, frames, RC_BURST_MAX), 8);
	p.a->ops->tx_free(p.a, 1, frames, 8);
	/* Node 2's pool is its own. */
	cr_assert_eq(p.b->ops->tx_alloc(p.b, 2, frames, RC_BURST_MAX), 8);
	st = test_stats(p.b, 2);
	cr_assert_eq(st.alloc_failed, RC_BURST_MAX - 8);
	st = test_stats(p.b, 3);
	cr_assert_eq(st.alloc_failed, 0);
	test_pair_close(&p);
}

Test(udp, rx_frames_hold_their_buffers_until_rx_free)
{
	struct rc_frame held[RC_BURST_MAX];
	struct rc_frame frames[RC_BURST_MAX];
	struct test_got got[TEST_GOT_MAX];
	struct test_pair p;
	uint16_t held_count = 0, i;
	uint32_t n;

	test_pair_open(&p, 1500, 4, 16);
	test_send(&p, 1, 2, 0, 10);
	for (i = 0; i < 4; i++) {
		uint16_t k = test_rx_some(p.b, 2, held + held_count, RC_BURST_MAX - held_count);

		held_count += k;
		if (k == 0 || held_count >= 4)
			break;
	}
	cr_assert_eq(held_count, 4);
	for (i = 0; i < 4; i++) {
		test_read(held[i].body, held[i].body_bytes, &got[i]);
		cr_assert(got[i].intact);
		cr_assert_eq(got[i].seq, i);
	}
	/* Six more wait in the socket, but every buffer is held. */
	cr_assert_eq(p.b->ops->rx_burst(p.b, 2, frames, RC_BURST_MAX), 0);
	p.b->ops->rx_free(p.b, 2, held, 1);
	cr_assert_eq(test_rx_some(p.b, 2, frames, RC_BURST_MAX), 1);
	/* The held frames still read as they did: their buffers were not reused. */
	for (i = 1; i < 4; i++) {
		struct test_got again;

		test_read(held[i].body, held[i].body_bytes, &again);
		cr_assert(again.intact);
		cr_assert_eq(again.seq, i);
	}
	test_read(frames[0].body, frames[0].body_bytes, &got[4]);
	cr_assert_eq(got[4].seq, 4);
	p.b->ops->rx_free(p.b, 2, frames, 1);
	p.b->ops->rx_free(p.b, 2, held + 1, 3);
	n = test_recv(p.b, 2, got + 5, 5);
	cr_assert_eq(n, 5);
	for (i = 5; i < 10; i++) {
		cr_assert(got[i].intact);
		cr_assert_eq(got[i].seq, i);
	}
	cr_assert_eq(test_stats(p.b, 2).rx_frames, 10);
	cr_assert_eq(test_stats(p.b, 2).rx_dropped, 0);
	test_pair_close(&p);
}

Test(udp, rx_burst_returns_zero_at_once_when_nothing_waits_and_keeps_every_buffer)
{
	struct rc_frame frames[RC_BURST_MAX];
	struct test_pair p;
	uint16_t held = 0;
	int64_t start;
	int i;

	test_pair_open(&p, 1500, 8, 8);
	start = test_now_ns();
	for (i = 0; i < 1000; i++)
		cr_assert_eq(p.a->ops->rx_burst(p.a, 1, frames, RC_BURST_MAX), 0);
	cr_assert_eq(p.a->ops->rx_burst(p.a, 1, frames, 0), 0);
	/* A blocking receive would sit here for ever; 1000 polls take well under a second. */
	cr_assert_lt(test_now_ns() - start, 1000000000ll);
	/* The empty polls gave every buffer back: eight frames can be held at once. */
	test_send(&p, 2, 1, 0, 8);
	for (i = 0; i < 8 && held < 8; i++)
		held += test_rx_some(p.a, 1, frames + held, RC_BURST_MAX - held);
	cr_assert_eq(held, 8);
	p.a->ops->rx_free(p.a, 1, frames, held);
	test_pair_close(&p);
}

Test(udp, rx_burst_reports_a_failing_recvmmsg_and_keeps_every_buffer)
{
	struct rc_frame frames[RC_BURST_MAX];
	struct test_capture cap;
	struct test_pair p;
	const char *text;
	uint16_t held = 0, n;
	int i;

	test_pair_open(&p, 1500, 8, 8);
	test_send(&p, 1, 2, 0, 8);
	test_fake_add(&test_fake_recv, ENOMEM, 0);
	test_capture_begin(&cap);
	n = p.b->ops->rx_burst(p.b, 2, frames, RC_BURST_MAX);
	text = test_capture_end(&cap);
	cr_assert_eq(n, 0);
	cr_assert_not_null(strstr(text, "udp: node 2: recvmmsg failed: Cannot allocate memory"),
			   "message \"%s\"", text);
	for (i = 0; i < 8 && held < 8; i++)
		held += test_rx_some(p.b, 2, frames + held, RC_BURST_MAX - held);
	cr_assert_eq(held, 8);
	for (i = 0; i < 8; i++) {
		struct test_got got;

		test_read(frames[i].body, frames[i].body_bytes, &got);
		cr_assert(got.intact);
		cr_assert_eq(got.seq, (uint32_t)i);
	}
	p.b->ops->rx_free(p.b, 2, frames, held);
	cr_assert_eq(test_stats(p.b, 2).rx_frames, 8);
	cr_assert_eq(test_stats(p.b, 2).rx_dropped, 0);
	test_pair_close(&p);
}

/* Fills frames[0..count) of node from for node to with seqs 0..count-1; returns their bytes. */
static uint64_t
test_fill_frames(struct rc_driver *d, struct rc_frame *frames, uint16_t count, uint16_t from,
		 uint16_t to)
{
	uint64_t bytes = 0;
	uint16_t i;

	for (i = 0; i < count; i++) {
		frames[i].body_bytes = test_body_bytes(i, d->body_bytes_max);
		test_fill(frames[i].body, frames[i].body_bytes, from, to, i);
		bytes += frames[i].body_bytes;
	}
	return bytes;
}

Test(udp, tx_burst_on_a_full_queue_returns_the_count_taken_and_the_caller_keeps_the_rest)
{
	struct rc_frame frames[RC_BURST_MAX];
	struct test_got got[TEST_GOT_MAX];
	struct rc_driver_stats st;
	struct test_pair p;
	uint64_t bytes_all;
	uint32_t n, i;

	test_pair_open(&p, 1500, 64, 16);
	cr_assert_eq(p.a->ops->tx_alloc(p.a, 1, frames, 8), 8);
	bytes_all = test_fill_frames(p.a, frames, 8, 1, 2);
	/* Five go, then the queue is full. */
	test_fake_add(&test_fake_send, 0, 5);
	test_fake_add(&test_fake_send, EAGAIN, 0);
	cr_assert_eq(p.a->ops->tx_burst(p.a, 1, 2, frames, 8), 5);
	st = test_stats(p.a, 1);
	cr_assert_eq(st.tx_frames, 5);
	cr_assert_eq(st.tx_full, 3);
	/* The rest are still the caller's: a retry meets ENOBUFS, the next one goes. */
	test_fake_add(&test_fake_send, ENOBUFS, 0);
	cr_assert_eq(p.a->ops->tx_burst(p.a, 1, 2, frames + 5, 3), 0);
	cr_assert_eq(test_stats(p.a, 1).tx_full, 6);
	cr_assert_eq(p.a->ops->tx_burst(p.a, 1, 2, frames + 5, 3), 3);
	st = test_stats(p.a, 1);
	cr_assert_eq(st.tx_frames, 8);
	cr_assert_eq(st.tx_bytes, bytes_all);
	cr_assert_eq(st.tx_full, 6);
	n = test_recv(p.b, 2, got, 8);
	cr_assert_eq(n, 8);
	for (i = 0; i < 8; i++) {
		cr_assert(got[i].intact);
		cr_assert_eq(got[i].seq, i);
	}
	/* Every buffer is back in the pool. */
	cr_assert_eq(p.a->ops->tx_alloc(p.a, 1, frames, RC_BURST_MAX), 16);
	p.a->ops->tx_free(p.a, 1, frames, 16);
	test_pair_close(&p);
}

Test(udp, tx_burst_loses_only_the_frames_a_hard_error_hits_and_reports_it)
{
	static const uint32_t arrived[] = { 0, 1, 5, 6, 7 };
	struct rc_frame frames[RC_BURST_MAX];
	struct test_got got[TEST_GOT_MAX];
	struct test_capture cap;
	struct rc_driver_stats st;
	struct test_pair p;
	const char *text;
	uint16_t taken;
	uint32_t n, i;

	test_pair_open(&p, 1500, 64, 8);
	cr_assert_eq(p.a->ops->tx_alloc(p.a, 1, frames, 8), 8);
	test_fill_frames(p.a, frames, 8, 1, 2);
	/* Two go, frames 2, 3 and 4 each meet an error, the rest go. */
	test_fake_add(&test_fake_send, 0, 2);
	test_fake_add(&test_fake_send, EPERM, 0);
	test_fake_add(&test_fake_send, EPERM, 0);
	test_fake_add(&test_fake_send, EPERM, 0);
	test_capture_begin(&cap);
	taken = p.a->ops->tx_burst(p.a, 1, 2, frames, 8);
	text = test_capture_end(&cap);
	cr_assert_eq(taken, 8);
	/* The first error and then powers of two are reported. */
	cr_assert_not_null(
		strstr(text, "udp: node 1: sendmmsg failed: Operation not permitted (1 so far)"),
		"message \"%s\"", text);
	cr_assert_not_null(strstr(text, "(2 so far)"), "message \"%s\"", text);
	cr_assert_null(strstr(text, "(3 so far)"), "message \"%s\"", text);
	st = test_stats(p.a, 1);
	cr_assert_eq(st.tx_frames, 5);
	cr_assert_eq(st.tx_full, 0);
	n = test_recv(p.b, 2, got, 5);
	cr_assert_eq(n, 5);
	for (i = 0; i < 5; i++) {
		cr_assert(got[i].intact);
		cr_assert_eq(got[i].seq, arrived[i]);
	}
	test_expect_quiet(p.b, 2);
	/* The lost frames went back to the pool with the sent ones. */
	cr_assert_eq(p.a->ops->tx_alloc(p.a, 1, frames, RC_BURST_MAX), 8);
	p.a->ops->tx_free(p.a, 1, frames, 8);
	test_pair_close(&p);
}

Test(udp, open_fails_with_eaddrinuse_and_a_message_and_leaves_nothing_open)
{
	static const uint16_t locals[] = { TEST_PROBE, 2 };
	struct rc_driver *d = (struct rc_driver *)&d;
	struct rc_udp_config cfg;
	struct test_capture cap;
	struct test_pair p;
	char expect[128];
	const char *text;
	int rc;

	test_pair_open(&p, 1500, 64, 64);
	/* Node 4's port is free once the probe is closed; node 2's is driver b's. */
	close(p.probe_fd);
	p.probe_fd = -1;
	test_config(&cfg, p.port_base, locals, 2, 1500, 64, 64);
	test_capture_begin(&cap);
	rc = rc_udp_open(&cfg, &d);
	text = test_capture_end(&cap);
	cr_assert_eq(rc, -EADDRINUSE, "rc %d", rc);
	cr_assert_eq(d, (struct rc_driver *)&d, "*out written on failure");
	snprintf(expect, sizeof(expect), "node 2: bind of 127.0.0.1:%u failed: %s", p.port_base + 2,
		 strerror(EADDRINUSE));
	cr_assert_not_null(strstr(text, expect), "message \"%s\" lacks \"%s\"", text, expect);
	/* Node 4's socket was closed on the way out: a driver of node 4 alone opens. */
	cfg.local_count = 1;
	cr_assert_eq(rc_udp_open(&cfg, &d), 0);
	d->ops->close(d);
	test_pair_close(&p);
}

/* One bad config: how to break a good one, and the words its message must hold. */
struct test_bad_config {
	const char *name;
	void (*breaks)(struct rc_udp_config *cfg);
	const char *message;
};

/* Breakers of a good config (node 1 local, nodes 1..4, MTU 1500, 8 + 8 buffers). */
static void
bad_no_locals(struct rc_udp_config *cfg)
{
	cfg->local_count = 0;
}

/* Too many local nodes. */
static void
bad_too_many_locals(struct rc_udp_config *cfg)
{
	cfg->local_count = RC_NODES_MAX + 1;
}

/* A local node the table lacks. */
static void
bad_local_not_in_peers(struct rc_udp_config *cfg)
{
	cfg->local_ids[0] = 9;
}

/* The same local node twice. */
static void
bad_local_twice(struct rc_udp_config *cfg)
{
	cfg->local_count = 2;
	cfg->local_ids[1] = 1;
}

/* One byte below the smallest frame. */
static void
bad_frame_small(struct rc_udp_config *cfg)
{
	cfg->frame_bytes = RC_FRAME_BYTES_MIN - 1;
}

/* One byte above the largest frame. */
static void
bad_frame_large(struct rc_udp_config *cfg)
{
	cfg->frame_bytes = RC_FRAME_BYTES_MAX + 1;
}

/* No rx buffer. */
static void
bad_rx_zero(struct rc_udp_config *cfg)
{
	cfg->rx_buffers = 0;
}

/* No tx buffer. */
static void
bad_tx_zero(struct rc_udp_config *cfg)
{
	cfg->tx_buffers = 0;
}

/* An empty table. */
static void
bad_no_peers(struct rc_udp_config *cfg)
{
	cfg->peer_count = 0;
}

/* A node id of 0 ("none"). */
static void
bad_peer_id_zero(struct rc_udp_config *cfg)
{
	cfg->peers[3].id = 0;
}

/* Two nodes with one id. */
static void
bad_peer_id_twice(struct rc_udp_config *cfg)
{
	cfg->peers[3].id = 2;
}

/* Two nodes at one address. */
static void
bad_peer_address_twice(struct rc_udp_config *cfg)
{
	cfg->peers[3].port = cfg->peers[2].port;
}

/* A node at port 0. */
static void
bad_peer_port_zero(struct rc_udp_config *cfg)
{
	cfg->peers[1].port = 0;
}

Test(udp, bad_configs_fail_with_einval_and_a_message)
{
	static const struct test_bad_config bad[] = {
		{ "no locals", bad_no_locals, "local_count 0 is outside 1..7" },
		{ "too many locals", bad_too_many_locals, "local_count 8 is outside 1..7" },
		{ "local not in peers", bad_local_not_in_peers,
		  "local node 9 is not in the peer table" },
		{ "local twice", bad_local_twice, "local node 1 is listed twice" },
		{ "frame 255", bad_frame_small, "frame_bytes 255 is outside 256..9000" },
		{ "frame 9001", bad_frame_large, "frame_bytes 9001 is outside 256..9000" },
		{ "rx 0", bad_rx_zero, "rx_buffers 0 is outside" },
		{ "tx 0", bad_tx_zero, "tx_buffers 0 is outside" },
		{ "no peers", bad_no_peers, "peer_count 0 is outside" },
		{ "peer id 0", bad_peer_id_zero, "peer id 0 is outside" },
		{ "peer id twice", bad_peer_id_twice, "node 2 is in the peer table twice" },
		{ "address twice", bad_peer_address_twice,
		  "nodes 3 and 4 share address 127.0.0.1:" },
		{ "port 0", bad_peer_port_zero, "node 2 has port 0" },
	};
	static const uint16_t locals[] = { 1 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rc_driver *d = (struct rc_driver *)&d;
		struct rc_udp_config cfg;
		struct test_capture cap;
		const char *text;
		int rc;

		test_config(&cfg, 40000, locals, 1, 1500, 8, 8);
		bad[i].breaks(&cfg);
		test_capture_begin(&cap);
		rc = rc_udp_open(&cfg, &d);
		text = test_capture_end(&cap);
		cr_assert_eq(rc, -EINVAL, "%s: rc %d", bad[i].name, rc);
		cr_assert_eq(d, (struct rc_driver *)&d, "%s: *out written", bad[i].name);
		cr_assert_not_null(strstr(text, "udp: config: "), "%s: no message", bad[i].name);
		cr_assert_not_null(strstr(text, bad[i].message), "%s: message \"%s\" lacks \"%s\"",
				   bad[i].name, text, bad[i].message);
	}
}

Test(udp, frame_bytes_bounds_and_one_buffer_are_valid)
{
	static const uint32_t frame_bytes[] = { RC_FRAME_BYTES_MIN, 1500, RC_FRAME_BYTES_MAX };
	size_t i;

	for (i = 0; i < sizeof(frame_bytes) / sizeof(frame_bytes[0]); i++) {
		struct rc_frame f;
		struct test_pair p;

		test_pair_open(&p, frame_bytes[i], 1, 1);
		cr_assert_eq(p.a->body_bytes_max, frame_bytes[i] - RC_FRAME_IP_UDP_BYTES);
		cr_assert_eq(p.a->ops->tx_alloc(p.a, 1, &f, 1), 1);
		cr_assert_eq(f.body_cap, frame_bytes[i] - RC_FRAME_IP_UDP_BYTES);
		/* The last byte of the body is writable (ASan builds check the bound). */
		memset(f.body, 0x5a, f.body_cap);
		f.body_bytes = f.body_cap;
		cr_assert_eq(p.a->ops->tx_burst(p.a, 1, 2, &f, 1), 1);
		test_pair_close(&p);
	}
}

Test(udp, loopback_peers_fills_the_table)
{
	struct rc_udp_config cfg;
	uint16_t i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.frame_bytes = 1500;
	rc_udp_loopback_peers(&cfg, RC_NODES_MAX, 7000);
	cr_assert_eq(cfg.peer_count, RC_NODES_MAX);
	for (i = 0; i < RC_NODES_MAX; i++) {
		cr_assert_eq(cfg.peers[i].id, i + 1);
		cr_assert_eq(cfg.peers[i].port, 7000 + i + 1);
		cr_assert_eq(ntohl(cfg.peers[i].ipv4_be), INADDR_LOOPBACK);
	}
	cr_assert_eq(cfg.frame_bytes, 1500, "the rest of cfg is left alone");
}

Test(udp, tx_free_of_a_frame_twice_aborts, .signal = SIGABRT)
{
	struct rc_frame f;
	struct test_pair p;

	test_pair_open(&p, 1500, 8, 8);
	cr_assert_eq(p.a->ops->tx_alloc(p.a, 1, &f, 1), 1);
	p.a->ops->tx_free(p.a, 1, &f, 1);
	p.a->ops->tx_free(p.a, 1, &f, 1);
}

Test(udp, rx_free_of_a_tx_frame_aborts, .signal = SIGABRT)
{
	struct rc_frame f;
	struct test_pair p;

	test_pair_open(&p, 1500, 8, 8);
	cr_assert_eq(p.a->ops->tx_alloc(p.a, 1, &f, 1), 1);
	p.a->ops->rx_free(p.a, 1, &f, 1);
}

Test(udp, tx_free_to_another_node_aborts, .signal = SIGABRT)
{
	struct rc_frame f;
	struct test_pair p;

	test_pair_open(&p, 1500, 8, 8);
	cr_assert_eq(p.b->ops->tx_alloc(p.b, 2, &f, 1), 1);
	p.b->ops->tx_free(p.b, 3, &f, 1);
}

Test(udp, call_for_a_node_the_driver_does_not_host_aborts, .signal = SIGABRT)
{
	struct rc_frame f;
	struct test_pair p;

	test_pair_open(&p, 1500, 8, 8);
	p.a->ops->tx_alloc(p.a, 2, &f, 1);
}

Test(udp, tx_burst_to_a_node_outside_the_table_aborts, .signal = SIGABRT)
{
	struct rc_frame f;
	struct test_pair p;

	test_pair_open(&p, 1500, 8, 8);
	cr_assert_eq(p.a->ops->tx_alloc(p.a, 1, &f, 1), 1);
	f.body_bytes = 1;
	p.a->ops->tx_burst(p.a, 1, 9, &f, 1);
}

Test(udp, tx_burst_past_body_cap_aborts, .signal = SIGABRT)
{
	struct rc_frame f;
	struct test_pair p;

	test_pair_open(&p, 1500, 8, 8);
	cr_assert_eq(p.a->ops->tx_alloc(p.a, 1, &f, 1), 1);
	f.body_bytes = f.body_cap + 1;
	p.a->ops->tx_burst(p.a, 1, 2, &f, 1);
}
