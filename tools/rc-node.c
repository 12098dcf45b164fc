/*
 * rc-node: one replica per process. Reads a cluster description from a config file (see
 * tools/rc-node.conf.example), starts the EAL with the vdevs it names, opens the DPDK driver on
 * the ethdev ports that reach the peers (rc_dpdk_open_ports) and runs the node's rc_node_poll()
 * loop on the main lcore until SIGINT or SIGTERM; then prints the node's counters and exits 0.
 * SIGUSR1 prints the node's state (role, term, commit and a digest of its newest committed
 * entries) without stopping, so that a script can compare the logs of several processes.
 *
 * Transport: DPDK ethdev ports (the default), or kernel UDP sockets (`transport = udp`; the only
 * one of a build without DPDK). Storage: `mem` (volatile, NOT durable) unless the config names a
 * `wal_dir`: the write-ahead log there is opened and recovered before anything else starts (a
 * corrupt log stops rc-node with exit status 1, naming the file, the offset and the reason, and
 * nothing is changed), the node re-applies what it holds committed, and acknowledges only what
 * is durable. A storage error while running stops the process (fail-stop, exit status 1).
 *
 * Bench mode (--bench-inflight N): the node that becomes leader runs rc-bench's closed-loop load
 * from its own loop (bench/loadgen.h) for a warm-up and then --bench-duration measured seconds,
 * prints the same figures as rc-bench (and the JSON report with --json), and keeps serving.
 *
 *   rc-node --config FILE [--bench-inflight N --bench-duration S --bench-warmup S --json OUT]
 *           [-- EAL arguments]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <replicore/assert.h>
#include <replicore/node.h>
#include <replicore/wal.h>
#include <replicore/wire.h>

#ifdef RC_NODE_DPDK
#include <rte_eal.h>
#include <rte_ethdev.h>

#include "dpdk.h"
#endif
#include "kv_service.h"
#include "loadgen.h"
#include "report.h"
#include "udp.h"

#ifndef RC_GIT_REV
#define RC_GIT_REV "unknown"
#endif

#define NODE_LINE_BYTES_MAX 1024u
#define NODE_EAL_ARGS_MAX 96u
#define NODE_PORT_NAME_BYTES 64u
#define NODE_KEYS_MAX 32u
#ifdef RC_NODE_DPDK
#define NODE_TRANSPORTS "dpdk udp"
#else
#define NODE_TRANSPORTS "udp"
#endif
/* Buffers of each pool of the UDP transport. */
#define NODE_UDP_BUFFERS 4096u
/* How often the loop looks at the links of memif client ports. */
#define NODE_RELINK_CHECK_NS 100000000ull
/* How long a new memif server socket must exist before the client port reconnects to it. */
#define NODE_RELINK_GRACE_NS 1000000000ull
/* A port whose restart brought no link within this long is restarted again. */
#define NODE_RELINK_STUCK_NS 5000000000ull
/* Entries whose digest the state line carries (the newest committed ones; the log keeps more). */
#define NODE_DIGEST_ENTRIES 16384u
_Static_assert(NODE_DIGEST_ENTRIES <= RC_LOG_ENTRIES_MAX / 2, "digested entries are retained");
_Static_assert(NODE_DIGEST_ENTRIES == 1u << 14, "the state line's windows end at 2^14");

/* One `peer` line: where a node of the cluster receives (both transports). */
struct node_peer {
	uint16_t id;
	uint8_t mac[6]; /* dpdk only */
	uint32_t ipv4_be;
	uint16_t udp_port;
};

enum node_transport {
	NODE_TRANSPORT_DPDK = 0, /* ethdev ports (vdevs, NICs) */
	NODE_TRANSPORT_UDP = 1,	 /* kernel UDP sockets (drivers/udp) */
};

/* One `link` line: the port (id or ethdev name) that reaches a peer (0: every other peer). */
struct node_link_spec {
	uint16_t peer;
	unsigned int line;
	char port[NODE_PORT_NAME_BYTES];
};

/* Everything the config file says. */
struct node_conf {
	const char *path;
	enum node_transport transport;
	char *wal_dir;		    /* NULL: storage mem */
	uint64_t wal_segment_bytes; /* data bytes per segment file */
	uint64_t snapshot_entries;  /* applied entries between snapshots (0: none) */
	unsigned int mac_dash_line; /* a peer line with MAC '-' (udp only) */
	uint32_t cluster_id;
	uint16_t node_id;
	unsigned int node_id_line;
	uint16_t peer_count;
	struct node_peer peers[RC_NODES_MAX];
	bool self_mac_from_port;    /* a peer line gave MAC 'port' */
	uint16_t mac_port_peer;	    /* ... for this node id */
	unsigned int mac_port_line; /* ... on this line */
	uint16_t link_count;
	struct node_link_spec links[RC_NODES_MAX];
	uint32_t frame_bytes;
	uint32_t payload_bytes;
	uint64_t tick_ns;
	uint32_t election_ticks;
	uint32_t heartbeat_ticks;
	uint32_t window;
	uint32_t batch_max;
	uint32_t link_wait_ms;
	uint32_t idle_yield_polls;
	uint64_t seed;
	bool promiscuous;
	uint16_t client_port; /* 0: no client port */
	uint32_t kv_capacity;
	int eal_argc;
	char *eal_argv[NODE_EAL_ARGS_MAX];
	unsigned int seen[NODE_KEYS_MAX]; /* per key of node_keys: the line that last set it */
};

/* Command-line options. */
struct node_opts {
	const char *config_path;
	uint32_t bench_inflight; /* 0: no bench */
	double bench_duration_s;
	double bench_warmup_s;
	const char *json_path;
};

enum node_bench_phase {
	BENCH_OFF = 0,
	BENCH_WAIT_LEADER,
	BENCH_WARMUP,
	BENCH_MEASURE,
	BENCH_DONE,
};

/* The bench of this process: one writer, the main lcore's loop. */
struct node_bench {
	enum node_bench_phase phase;
	uint64_t start_ns;	   /* when the loop started */
	uint64_t phase_end_ns;	   /* end of warm-up or of the measured window */
	uint64_t measure_start_ns; /* start of the measured window */
	uint64_t next_progress_ns;
	uint32_t progress_s;
	uint64_t busy_tsc;
	uint64_t total_tsc;
	bool lost_leadership;	       /* not leader at some point of warm-up or measuring */
	struct rc_node_stats at_start; /* the node's counters when measuring began */
	uint64_t syncs_at_start;       /* the write-ahead log's syncs then */
	struct rc_loadgen gen;
};

static struct node_opts opts = {
	.bench_duration_s = 5,
	.bench_warmup_s = 1,
};
static struct node_conf conf;
static struct node_bench bench;
static bool eal_up; /* the EAL is initialised: exits close the ports first */
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t state_requested;
static uint8_t payload[RC_ENTRY_BYTES_MAX];
static struct rc_kv *kv_table;	      /* the key-value state machine every node applies */
static struct kv_service *kv_service; /* the client port, when configured */
static struct rc_wal *wal;	      /* the write-ahead log; NULL: storage mem */

/* ---- Config file --------------------------------------------------------------------------- */

/* Keys of the config file, in the order of conf.seen[]. */
static const char *const node_keys[] = {
	"cluster_id",
	"node_id",
	"peer",
	"link",
	"port",
	"vdev",
	"eal",
	"frame_bytes",
	"payload_bytes",
	"tick_us",
	"election_ticks",
	"heartbeat_ticks",
	"window",
	"batch_max",
	"link_wait_ms",
	"idle_yield_polls",
	"seed",
	"promiscuous",
	"client_port",
	"kv_capacity",
	"transport",
	"wal_dir",
	"wal_segment_mb",
	"snapshot_entries",
};
#define NODE_KEY_COUNT (sizeof(node_keys) / sizeof(node_keys[0]))
_Static_assert(NODE_KEY_COUNT <= NODE_KEYS_MAX, "conf.seen has a slot per key");

#ifdef RC_NODE_DPDK
static char eal_runtime_dir[256]; /* the EAL's directory for this process, removed at exit */

/*
 * At exit, after the EAL's own exit handlers (telemetry removes its socket in one): removes the
 * EAL's runtime directory of this process, empty by then.
 */
static void
node_rmdir_runtime(void)
{
	if (eal_runtime_dir[0] != '\0')
		rmdir(eal_runtime_dir);
}
#endif

/* Releases the EAL, when it is up; its runtime directory goes at exit (node_rmdir_runtime). */
static void
node_eal_release(void)
{
#ifdef RC_NODE_DPDK
	if (eal_up)
		rte_eal_cleanup();
#endif
	eal_up = false;
}

/*
 * Exits with status code; once the EAL is up, first closes every ethdev port (a memif server
 * removes its socket file then) and releases the EAL.
 */
static void __attribute__((noreturn)) node_exit(int code)
{
#ifdef RC_NODE_DPDK
	if (eal_up) {
		uint16_t port;

		RTE_ETH_FOREACH_DEV(port) {
			rte_eth_dev_close(port);
		}
	}
#endif
	node_eal_release();
	exit(code);
}

/* Prints "FILE:LINE: message" and exits 2: a bad config line. */
static void __attribute__((noreturn, format(printf, 2, 3)))
node_conf_fail(unsigned int line, const char *fmt, ...)
{
	va_list ap;

	if (line > 0)
		fprintf(stderr, "rc-node: %s:%u: ", conf.path, line);
	else
		fprintf(stderr, "rc-node: %s: ", conf.path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	node_exit(2);
}

/* Parses a whole number in [lo, hi] from s; exits 2 naming the line otherwise. */
static uint64_t
node_parse_u64(unsigned int line, const char *key, const char *s, uint64_t lo, uint64_t hi)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || x < lo || x > hi)
		node_conf_fail(line,
			       "%s wants a whole number in %" PRIu64 "..%" PRIu64 ", not '%s'", key,
			       lo, hi, s);
	return x;
}

/* Parses "yes"/"no" (or true/false, 1/0); exits 2 otherwise. */
static bool
node_parse_bool(unsigned int line, const char *key, const char *s)
{
	if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
		return true;
	if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
		return false;
	node_conf_fail(line, "%s wants yes or no, not '%s'", key, s);
}

/* Parses a MAC address aa:bb:cc:dd:ee:ff into mac; returns false when s is not one. */
static bool
node_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
				      &b[4], &b[5], &tail) != 6)
		return false;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[i * 3]) || !isxdigit((unsigned char)s[i * 3 + 1]))
			return false;
		mac[i] = (uint8_t)b[i];
	}
	return true;
}

/* Splits s at blanks into at most max words (s is modified); returns the count, or -1. */
static int
node_split(char *s, char **words, int max)
{
	int n = 0;

	for (char *tok = strtok(s, " \t"); tok != NULL; tok = strtok(NULL, " \t")) {
		if (n == max)
			return -1;
		words[n++] = tok;
	}
	return n;
}

/* `peer = ID MAC|port IPV4 UDP_PORT` */
static void
node_conf_peer(unsigned int line, char *value)
{
	char *w[5];
	struct node_peer *p;
	struct in_addr ip;

	if (node_split(value, w, 5) != 4)
		node_conf_fail(line, "peer wants 'ID MAC IPV4 UDP_PORT' (MAC may be 'port' for "
				     "this node)");
	if (conf.peer_count == RC_NODES_MAX)
		node_conf_fail(line, "more than %u peers", RC_NODES_MAX);
	p = &conf.peers[conf.peer_count];
	p->id = (uint16_t)node_parse_u64(line, "peer id", w[0], 1, RC_NODE_ID_MAX);
	for (uint16_t i = 0; i < conf.peer_count; i++)
		if (conf.peers[i].id == p->id)
			node_conf_fail(line, "peer %u listed twice", p->id);
	if (strcmp(w[1], "port") == 0) {
		/* Checked against node_id once the whole file is read. */
		memset(p->mac, 0, sizeof(p->mac));
		p->mac[5] = 0xff;
	} else if (strcmp(w[1], "-") == 0) {
		/* No Ethernet address: transport udp only (checked once the file is read). */
		memset(p->mac, 0, sizeof(p->mac));
		if (conf.mac_dash_line == 0)
			conf.mac_dash_line = line;
	} else if (!node_parse_mac(w[1], p->mac)) {
		node_conf_fail(line, "peer %u: '%s' is not a MAC address (aa:bb:cc:dd:ee:ff)",
			       p->id, w[1]);
	}
	if (inet_pton(AF_INET, w[2], &ip) != 1)
		node_conf_fail(line, "peer %u: '%s' is not an IPv4 address", p->id, w[2]);
	p->ipv4_be = ip.s_addr;
	p->udp_port = (uint16_t)node_parse_u64(line, "peer UDP port", w[3], 1, 65535);
	if (strcmp(w[1], "port") == 0) {
		if (conf.self_mac_from_port)
			node_conf_fail(line, "MAC 'port' twice (first on line %u)",
				       conf.mac_port_line);
		conf.self_mac_from_port = true;
		conf.mac_port_peer = p->id;
		conf.mac_port_line = line;
	}
	conf.peer_count++;
}

/* `link = PEER PORT` (PEER a node id or '*'), or `port = PORT` (every peer). */
static void
node_conf_link(unsigned int line, const char *peer, const char *port)
{
	struct node_link_spec *l;

	if (conf.link_count == RC_NODES_MAX)
		node_conf_fail(line, "more than %u links", RC_NODES_MAX);
	l = &conf.links[conf.link_count];
	l->peer = strcmp(peer, "*") == 0 ?
			  0 :
			  (uint16_t)node_parse_u64(line, "link peer", peer, 1, RC_NODE_ID_MAX);
	for (uint16_t i = 0; i < conf.link_count; i++)
		if (conf.links[i].peer == l->peer)
			node_conf_fail(line, "a second link to %s (first on line %u)",
				       l->peer == 0 ? "every other peer" : peer,
				       conf.links[i].line);
	if (strlen(port) >= sizeof(l->port))
		node_conf_fail(line, "port name '%s' is too long", port);
	snprintf(l->port, sizeof(l->port), "%s", port);
	l->line = line;
	conf.link_count++;
}

/* Appends an EAL argument (copied). */
static void
node_conf_eal_arg(unsigned int line, const char *arg)
{
	if (conf.eal_argc == (int)NODE_EAL_ARGS_MAX - 16)
		node_conf_fail(line, "too many EAL arguments");
	conf.eal_argv[conf.eal_argc] = strdup(arg);
	if (conf.eal_argv[conf.eal_argc] == NULL)
		node_conf_fail(line, "out of memory");
	conf.eal_argc++;
}

/* Applies one `key = value` line. */
static void
node_conf_line(unsigned int line, const char *key, char *value)
{
	size_t k;

	for (k = 0; k < NODE_KEY_COUNT; k++)
		if (strcmp(key, node_keys[k]) == 0)
			break;
	if (k == NODE_KEY_COUNT)
		node_conf_fail(line, "unknown key '%s'", key);
	if (conf.seen[k] != 0 && strcmp(key, "peer") != 0 && strcmp(key, "link") != 0 &&
	    strcmp(key, "vdev") != 0 && strcmp(key, "eal") != 0)
		node_conf_fail(line, "%s given twice (first on line %u)", key, conf.seen[k]);
	conf.seen[k] = line;
	if (strcmp(key, "cluster_id") == 0) {
		conf.cluster_id = (uint32_t)node_parse_u64(line, key, value, 0, UINT32_MAX);
	} else if (strcmp(key, "node_id") == 0) {
		conf.node_id = (uint16_t)node_parse_u64(line, key, value, 1, RC_NODE_ID_MAX);
		conf.node_id_line = line;
	} else if (strcmp(key, "peer") == 0) {
		node_conf_peer(line, value);
	} else if (strcmp(key, "link") == 0) {
		char *w[3];

		if (node_split(value, w, 3) != 2)
			node_conf_fail(line, "link wants 'PEER PORT' (PEER an id or '*', PORT an "
					     "ethdev port id or name)");
		node_conf_link(line, w[0], w[1]);
	} else if (strcmp(key, "port") == 0) {
		node_conf_link(line, "*", value);
	} else if (strcmp(key, "vdev") == 0) {
		char arg[NODE_LINE_BYTES_MAX + 16];

		snprintf(arg, sizeof(arg), "--vdev=%s", value);
		node_conf_eal_arg(line, arg);
	} else if (strcmp(key, "eal") == 0) {
		char *w[NODE_EAL_ARGS_MAX];
		int n = node_split(value, w, (int)NODE_EAL_ARGS_MAX);

		if (n < 0)
			node_conf_fail(line, "too many EAL arguments");
		for (int i = 0; i < n; i++)
			node_conf_eal_arg(line, w[i]);
	} else if (strcmp(key, "frame_bytes") == 0) {
		conf.frame_bytes = (uint32_t)node_parse_u64(line, key, value, RC_FRAME_BYTES_MIN,
							    RC_FRAME_BYTES_MAX);
	} else if (strcmp(key, "payload_bytes") == 0) {
		conf.payload_bytes = (uint32_t)node_parse_u64(line, key, value, 1,
							      RC_ENTRY_BYTES_MAX);
	} else if (strcmp(key, "tick_us") == 0) {
		conf.tick_ns = node_parse_u64(line, key, value, 1, 1000000) * 1000u;
	} else if (strcmp(key, "election_ticks") == 0) {
		conf.election_ticks = (uint32_t)node_parse_u64(
			line, key, value, RC_ELECTION_TICKS_MIN, RC_ELECTION_TICKS_MAX);
	} else if (strcmp(key, "heartbeat_ticks") == 0) {
		conf.heartbeat_ticks = (uint32_t)node_parse_u64(line, key, value, 1,
								RC_ELECTION_TICKS_MAX);
	} else if (strcmp(key, "window") == 0) {
		conf.window = (uint32_t)node_parse_u64(line, key, value, 1, RC_INFLIGHT_MSGS_MAX);
	} else if (strcmp(key, "batch_max") == 0) {
		conf.batch_max = (uint32_t)node_parse_u64(line, key, value, 1,
							  RC_PROPOSE_ENTRIES_MAX);
	} else if (strcmp(key, "link_wait_ms") == 0) {
		conf.link_wait_ms = (uint32_t)node_parse_u64(line, key, value, 0, 600000);
	} else if (strcmp(key, "idle_yield_polls") == 0) {
		conf.idle_yield_polls = (uint32_t)node_parse_u64(line, key, value, 0, UINT32_MAX);
	} else if (strcmp(key, "seed") == 0) {
		conf.seed = node_parse_u64(line, key, value, 0, UINT64_MAX);
	} else if (strcmp(key, "client_port") == 0) {
		conf.client_port = (uint16_t)node_parse_u64(line, key, value, 1, 65535);
	} else if (strcmp(key, "kv_capacity") == 0) {
		conf.kv_capacity = (uint32_t)node_parse_u64(line, key, value, 1, 1u << 24);
	} else if (strcmp(key, "transport") == 0) {
		if (strcmp(value, "dpdk") == 0)
			conf.transport = NODE_TRANSPORT_DPDK;
		else if (strcmp(value, "udp") == 0)
			conf.transport = NODE_TRANSPORT_UDP;
		else
			node_conf_fail(line, "transport wants dpdk or udp, not '%s'", value);
	} else if (strcmp(key, "wal_dir") == 0) {
		conf.wal_dir = strdup(value);
		if (conf.wal_dir == NULL)
			node_conf_fail(line, "out of memory");
	} else if (strcmp(key, "wal_segment_mb") == 0) {
		conf.wal_segment_bytes = node_parse_u64(line, key, value, 1, 65536) << 20;
	} else if (strcmp(key, "snapshot_entries") == 0) {
		conf.snapshot_entries = node_parse_u64(line, key, value, 0, UINT64_MAX);
	} else {
		RC_ASSERT(strcmp(key, "promiscuous") == 0);
		conf.promiscuous = node_parse_bool(line, key, value);
	}
}

/* Returns s without leading and trailing blanks (s is modified). */
static char *
node_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* Returns the line that set key (0: none). */
static unsigned int
node_key_line(const char *key)
{
	for (size_t k = 0; k < NODE_KEY_COUNT; k++)
		if (strcmp(key, node_keys[k]) == 0)
			return conf.seen[k];
	RC_ASSERT(!"a key of node_keys");
	return 0;
}

/* Checks what one line cannot: the file as a whole. Exits 2 naming the fault. */
static void
node_conf_check(void)
{
	bool self = false;

	if (conf.node_id == 0)
		node_conf_fail(0, "no node_id line");
	if (conf.peer_count == 0)
		node_conf_fail(0, "no peer lines (every node of the cluster, this one included)");
	for (uint16_t i = 0; i < conf.peer_count; i++)
		self = self || conf.peers[i].id == conf.node_id;
	if (!self)
		node_conf_fail(conf.node_id_line, "node %u is not among the peers", conf.node_id);
	if (conf.transport == NODE_TRANSPORT_UDP) {
		static const char *const dpdk_only[] = { "vdev", "eal", "link", "port",
							 "promiscuous" };

		for (size_t i = 0; i < sizeof(dpdk_only) / sizeof(dpdk_only[0]); i++)
			if (node_key_line(dpdk_only[i]) != 0)
				node_conf_fail(
					node_key_line(dpdk_only[i]),
					"%s: only with transport = dpdk (this node's transport "
					"is udp, line %u)",
					dpdk_only[i], node_key_line("transport"));
	} else {
#ifndef RC_NODE_DPDK
		node_conf_fail(node_key_line("transport"),
			       "this rc-node was built without DPDK: only transport = udp");
#endif
		if (conf.mac_dash_line != 0)
			node_conf_fail(conf.mac_dash_line,
				       "MAC '-' is for transport = udp only; DPDK ports need MAC "
				       "addresses");
	}
	if (conf.snapshot_entries > 0 && conf.wal_dir == NULL)
		node_conf_fail(node_key_line("snapshot_entries"),
			       "snapshot_entries needs a write-ahead log (wal_dir)");
	if (conf.self_mac_from_port && conf.mac_port_peer != conf.node_id)
		node_conf_fail(conf.mac_port_line, "peer %u: MAC 'port' is for this node (%u) only",
			       conf.mac_port_peer, conf.node_id);
	for (uint16_t i = 0; i < conf.link_count; i++) {
		bool known = conf.links[i].peer == 0;

		for (uint16_t j = 0; j < conf.peer_count; j++)
			known = known || (conf.links[i].peer == conf.peers[j].id &&
					  conf.links[i].peer != conf.node_id);
		if (!known)
			node_conf_fail(conf.links[i].line, "link to %u: not a peer of node %u",
				       conf.links[i].peer, conf.node_id);
	}
	if (conf.heartbeat_ticks >= conf.election_ticks)
		node_conf_fail(node_key_line("heartbeat_ticks"),
			       "heartbeat_ticks (%u) must be below election_ticks "
			       "(%u)",
			       conf.heartbeat_ticks, conf.election_ticks);
	if (rc_wire_append_bytes(1, conf.payload_bytes) > conf.frame_bytes - RC_FRAME_IP_UDP_BYTES)
		node_conf_fail(node_key_line("payload_bytes"),
			       "a %u-byte payload does not fit a %u-byte frame", conf.payload_bytes,
			       conf.frame_bytes);
}

/* Reads the config file at path into conf; exits 2 on the first bad line. */
static void
node_conf_read(const char *path)
{
	char buf[NODE_LINE_BYTES_MAX + 2];
	unsigned int line = 0;
	FILE *f = fopen(path, "r");

	conf.path = path;
	conf.cluster_id = 1;
	conf.frame_bytes = 1500;
	conf.payload_bytes = 64;
	conf.kv_capacity = 65536;
	conf.tick_ns = 1000000;
	conf.election_ticks = 50;
	conf.heartbeat_ticks = 10;
	conf.window = 32;
	conf.batch_max = 256;
	conf.link_wait_ms = 10000;
	conf.wal_segment_bytes = 64ull << 20;
	if (f == NULL)
		node_conf_fail(0, "cannot open: %s", strerror(errno));
	while (fgets(buf, sizeof(buf), f) != NULL) {
		char *hash, *eq, *key, *value;

		line++;
		if (strlen(buf) > NODE_LINE_BYTES_MAX && strchr(buf, '\n') == NULL)
			node_conf_fail(line, "line longer than %u bytes", NODE_LINE_BYTES_MAX);
		hash = strchr(buf, '#');
		if (hash != NULL)
			*hash = '\0';
		key = node_trim(buf);
		if (*key == '\0')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL)
			node_conf_fail(line, "expected 'key = value', found '%s'", key);
		*eq = '\0';
		key = node_trim(key);
		value = node_trim(eq + 1);
		if (*key == '\0' || *value == '\0')
			node_conf_fail(line, "expected 'key = value' with neither empty");
		node_conf_line(line, key, value);
	}
	if (ferror(f))
		node_conf_fail(line, "read error: %s", strerror(errno));
	fclose(f);
	if (conf.seed == 0)
		conf.seed = 1000u + conf.node_id;
	node_conf_check();
}

/* ---- Command line and EAL ------------------------------------------------------------------ */

static void
node_usage(FILE *f)
{
	fprintf(f,
		"usage: rc-node --config FILE [bench options] [-- EAL arguments]\n"
		"Runs one replica of a replicore cluster over DPDK ports (memif, af_packet,\n"
		"af_xdp vdevs or a NIC) or kernel UDP sockets ('transport = udp'), as FILE\n"
		"describes (tools/rc-node.conf.example), until SIGINT or SIGTERM; then prints\n"
		"its counters and exits 0. SIGUSR1 prints its state (role, term, commit, digest\n"
		"of the newest committed entries).\n"
		"  --config FILE         the node's configuration (key = value lines)\n"
		"  --bench-inflight N    when leader, keep N proposals outstanding\n"
		"  --bench-duration S    measured seconds (default 5)\n"
		"  --bench-warmup S      seconds of load before measuring (default 1)\n"
		"  --json FILE           write the leader's figures (bench/SCHEMA.md)\n"
		"EAL arguments: the config's 'eal' and 'vdev' lines, then those after '--'.\n"
		"With only vdevs: --no-huge --no-pci --no-shconf -m 256 -l 0\n"
		"--log-level=lib.eal:error; a --file-prefix of the node's own is added unless\n"
		"one is given.\n"
		"Storage: 'wal_dir = DIR' in FILE keeps the node's log, term and vote in a\n"
		"write-ahead log in DIR (created if missing, and locked: one process per DIR;\n"
		"'wal_segment_mb' sizes its preallocated segment files, default 64;\n"
		"'snapshot_entries = N' saves the key-value table there every N applied\n"
		"entries and deletes the segments it covers). At start the log is recovered\n"
		"before anything else starts and what recovery found is printed on stderr\n"
		"(last index and term, term, vote, commit, the snapshot it goes on from, a\n"
		"dropped unsynced tail and why, the time taken); a corrupt log (damage that\n"
		"durable records follow) stops rc-node with exit status 1, naming the file,\n"
		"the offset and the reason, and changes nothing. The node then acknowledges\n"
		"only durable entries; a storage error while running stops it with exit\n"
		"status 1 (fail-stop). Without wal_dir the storage is 'mem': volatile, NOT\n"
		"durable (a restart loses the node's log).\n"
		"Exit status: 0 stopped by a signal, 1 a failure, 2 a bad config or usage.\n"
		"This build's transports: %s.\n",
		NODE_TRANSPORTS);
}

/* Parses rc-node's own options (before "--"); exits 2 on a bad one. */
static void
node_parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "bench-inflight", required_argument, NULL, 'i' },
		{ "bench-duration", required_argument, NULL, 'd' },
		{ "bench-warmup", required_argument, NULL, 'w' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opts.config_path = optarg;
			break;
		case 'i': {
			char *end;
			unsigned long x;

			errno = 0;
			x = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || x < 1 || x > 65536) {
				fprintf(stderr,
					"rc-node: --bench-inflight wants 1..65536, not "
					"'%s'\n",
					optarg);
				exit(2);
			}
			opts.bench_inflight = (uint32_t)x;
			break;
		}
		case 'd':
			opts.bench_duration_s = rc_loadgen_parse_seconds(
				"rc-node", "bench-duration", optarg, false);
			break;
		case 'w':
			opts.bench_warmup_s = rc_loadgen_parse_seconds("rc-node", "bench-warmup",
								       optarg, true);
			break;
		case 'j':
			opts.json_path = optarg;
			break;
		case 'h':
			node_usage(stdout);
			exit(0);
		default:
			fprintf(stderr,
				"rc-node: unknown option or missing value: '%s' (see --help)\n",
				argv[optind - 1]);
			exit(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "rc-node: unexpected argument '%s' (see --help)\n", argv[optind]);
		exit(2);
	}
	if (opts.config_path == NULL) {
		fprintf(stderr, "rc-node: --config FILE is required (see --help)\n");
		exit(2);
	}
	if (opts.json_path != NULL && opts.bench_inflight == 0) {
		fprintf(stderr, "rc-node: --json needs --bench-inflight\n");
		exit(2);
	}
}

/* ---- Transports ---------------------------------------------------------------------------- */

#ifdef RC_NODE_DPDK
/* Builds the EAL argument vector: argv[0], the config's eal and vdev lines, the command line's
 * arguments after "--"; defaults when there are none; a file prefix of the node's own. */
static int
node_eal_args(int argc, char **argv, int split, char **eal)
{
	static const char *const defaults[] = { "--no-huge",   "--no-pci",
						"--no-shconf", "-m",
						"256",	       "-l",
						"0",	       "--log-level=lib.eal:error" };
	static char prefix[64];
	bool has_prefix = false, has_only_vdevs = true;
	int n = 0;

	eal[n++] = argv[0];
	for (int i = 0; i < conf.eal_argc; i++) {
		eal[n++] = conf.eal_argv[i];
		has_only_vdevs = has_only_vdevs && strncmp(conf.eal_argv[i], "--vdev=", 7) == 0;
	}
	for (int i = split + 1; i < argc && n < (int)NODE_EAL_ARGS_MAX - 10; i++) {
		eal[n++] = argv[i];
		has_only_vdevs = false;
	}
	if (has_only_vdevs)
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
			eal[n++] = (char *)(uintptr_t)defaults[i];
	for (int i = 1; i < n; i++)
		has_prefix = has_prefix || strncmp(eal[i], "--file-prefix", 13) == 0;
	if (!has_prefix) {
		snprintf(prefix, sizeof(prefix), "--file-prefix=rc-node-%u-%d", conf.node_id,
			 (int)getpid());
		eal[n++] = prefix;
	}
	eal[n] = NULL;
	return n;
}

/* Resolves a port named in the config (an id or an ethdev name); exits 2 naming the line. */
static uint16_t
node_port_resolve(const struct node_link_spec *l)
{
	uint16_t port;
	char *end;
	unsigned long id = strtoul(l->port, &end, 10);

	if (end != l->port && *end == '\0') {
		if (id < RTE_MAX_ETHPORTS && rte_eth_dev_is_valid_port((uint16_t)id))
			return (uint16_t)id;
	} else if (rte_eth_dev_get_port_by_name(l->port, &port) == 0) {
		return port;
	}
	fprintf(stderr, "rc-node: %s:%u: no ethdev port '%s'; the EAL found:", conf.path, l->line,
		l->port);
	RTE_ETH_FOREACH_DEV(port) {
		char name[RTE_ETH_NAME_MAX_LEN];

		if (rte_eth_dev_get_name_by_port(port, name) == 0)
			fprintf(stderr, " %u (%s)", port, name);
	}
	fprintf(stderr, "%s\n", rte_eth_dev_count_avail() == 0 ? " none (see vdev)" : "");
	node_exit(2);
}

/* Opens the driver for this node from the config. Exits 2 on a config fault, 1 otherwise. */
static struct rc_driver *
node_open_driver(void)
{
	static struct rc_dpdk_ports_config dcfg;
	struct rc_dpdk_local *l = &dcfg.locals[0];
	struct rc_driver *drv;
	int rc;

	dcfg.frame_bytes = conf.frame_bytes;
	dcfg.peer_count = conf.peer_count;
	for (uint16_t i = 0; i < conf.peer_count; i++) {
		dcfg.peers[i].id = conf.peers[i].id;
		memcpy(dcfg.peers[i].mac, conf.peers[i].mac, sizeof(dcfg.peers[i].mac));
		dcfg.peers[i].ipv4_be = conf.peers[i].ipv4_be;
		dcfg.peers[i].udp_port = conf.peers[i].udp_port;
	}
	dcfg.local_count = 1;
	dcfg.mac_from_port = conf.self_mac_from_port;
	dcfg.promiscuous = conf.promiscuous;
	dcfg.link_wait_ms = conf.link_wait_ms;
	l->id = conf.node_id;
	if (conf.link_count == 0) {
		uint16_t port;

		if (rte_eth_dev_count_avail() != 1)
			node_conf_fail(0,
				       "no 'port' or 'link' line, and the EAL found %u ports "
				       "(say which reaches the peers)",
				       rte_eth_dev_count_avail());
		RTE_ETH_FOREACH_DEV(port) {
			l->links[0].port_id = port;
		}
		l->links[0].peer = 0;
		l->link_count = 1;
	}
	for (uint16_t i = 0; i < conf.link_count; i++) {
		l->links[i].peer = conf.links[i].peer;
		l->links[i].port_id = node_port_resolve(&conf.links[i]);
		l->link_count++;
	}
	rc = rc_dpdk_open_ports(&dcfg, &drv);
	if (rc == -EINVAL)
		node_conf_fail(0, "the driver refused this configuration (see above)");
	if (rc != 0)
		node_exit(1);
	return drv;
}

/*
 * Copies the value of devarg key (e.g. "socket") of a vdev argument "--vdev=NAME,k=v,..." into
 * out; returns false when it has none. NAME itself is key "".
 */
static bool
node_vdev_arg(const char *vdev, const char *key, char *out, size_t out_bytes)
{
	size_t klen = strlen(key);
	const char *p = vdev + 7; /* after "--vdev=" */

	for (bool first = true; *p != '\0'; first = false) {
		const char *end = strchr(p, ',');
		size_t len = end == NULL ? strlen(p) : (size_t)(end - p);

		if ((first && klen == 0) || (!first && klen > 0 && len > klen &&
					     strncmp(p, key, klen) == 0 && p[klen] == '=')) {
			const char *v = first ? p : p + klen + 1;
			size_t vlen = first ? len : len - klen - 1;

			if (vlen >= out_bytes)
				return false;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return true;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	return false;
}

/* True when the config's vdev argument is a net_memif port of role r ("server" or "client"). */
static bool
node_vdev_is_memif(const char *arg, const char *r)
{
	char role[16];

	return strncmp(arg, "--vdev=net_memif", 16) == 0 &&
	       node_vdev_arg(arg, "role", role, sizeof(role)) && strcmp(role, r) == 0;
}

/*
 * True when a socket bound to path is listed in /proc/net/unix (some process has it open), or
 * when that list cannot be read. Nothing connects to find out: the 22.11 memif PMD's server
 * panics when a connection closes before its handshake.
 */
static bool
node_unix_socket_bound(const char *path)
{
	char line[512];
	size_t len = strlen(path);
	bool bound = false;
	FILE *f = fopen("/proc/net/unix", "r");

	if (f == NULL)
		return true;
	while (!bound && fgets(line, sizeof(line), f) != NULL) {
		size_t n = strcspn(line, "\n");
		const char *last;

		line[n] = '\0';
		last = strrchr(line, ' ');
		bound = last != NULL && strlen(last + 1) == len && strcmp(last + 1, path) == 0;
	}
	fclose(f);
	return bound;
}

/*
 * Before the EAL starts: removes the socket file of each memif server vdev of the config that no
 * process has bound, the one a killed rc-node left behind; the PMD would refuse to create it
 * again ("Address already in use"). A socket a process holds is left alone.
 */
static void
node_memif_stale_sockets(void)
{
	for (int i = 0; i < conf.eal_argc; i++) {
		char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
		char abstract[8] = "yes";
		struct stat st;

		if (!node_vdev_is_memif(conf.eal_argv[i], "server") ||
		    !node_vdev_arg(conf.eal_argv[i], "socket", path, sizeof(path)))
			continue;
		node_vdev_arg(conf.eal_argv[i], "socket-abstract", abstract, sizeof(abstract));
		if (strcmp(abstract, "no") != 0 || stat(path, &st) != 0 || !S_ISSOCK(st.st_mode) ||
		    node_unix_socket_bound(path))
			continue;
		if (unlink(path) == 0)
			fprintf(stderr,
				"rc-node: node %u: removed %s, a memif socket no process "
				"holds (left "
				"by a process that was killed)\n",
				conf.node_id, path);
	}
}

/* A memif client port, which the loop reconnects when its link goes down (node_relink_check). */
struct node_relink {
	uint16_t port;
	bool started; /* as far as this process knows */
	bool down;    /* seen down at the last look */
	bool known;   /* seen holds the server socket the port was last connected to */
	struct stat seen;
	struct sockaddr_un server; /* the server's socket file */
	uint64_t new_since_ns;	   /* when a new server socket was first seen (0: none) */
	uint64_t tried_ns;	   /* the last restart of the port while down (0: none) */
};
static struct node_relink relinks[RC_NODES_MAX];
static uint16_t relink_count;

/*
 * After the ports are open: notes the memif client ports of the config. net_memif does not
 * reconnect a client whose server went away (a server process restarted), so the loop restarts
 * such a port while its link is down (node_relink_check).
 */
static void
node_relink_init(void)
{
	for (int i = 0; i < conf.eal_argc && relink_count < RC_NODES_MAX; i++) {
		char name[NODE_PORT_NAME_BYTES];
		uint16_t port;

		struct node_relink *r = &relinks[relink_count];
		char abstract[8] = "yes";

		if (!node_vdev_is_memif(conf.eal_argv[i], "client") ||
		    !node_vdev_arg(conf.eal_argv[i], "", name, sizeof(name)) ||
		    rte_eth_dev_get_port_by_name(name, &port) != 0)
			continue;
		node_vdev_arg(conf.eal_argv[i], "socket-abstract", abstract, sizeof(abstract));
		*r = (struct node_relink){ .port = port, .started = true };
		r->server.sun_family = AF_UNIX;
		if (strcmp(abstract, "no") == 0 &&
		    node_vdev_arg(conf.eal_argv[i], "socket", r->server.sun_path,
				  sizeof(r->server.sun_path)))
			relink_count++;
	}
}

/*
 * True when r's server socket file is not the one the port was last connected to: a new server
 * process created it (a restarted server removes the old file first). Nothing connects to probe
 * it: the 22.11 memif PMD's server panics when a connection closes before its handshake. And a
 * stopped port logs every burst the driver makes on it, so a port is restarted only then.
 */
static bool
node_relink_new_server(const struct node_relink *r)
{
	struct stat st;

	if (stat(r->server.sun_path, &st) != 0 || !S_ISSOCK(st.st_mode))
		return false;
	return !r->known || st.st_dev != r->seen.st_dev || st.st_ino != r->seen.st_ino ||
	       st.st_ctim.tv_sec != r->seen.st_ctim.tv_sec ||
	       st.st_ctim.tv_nsec != r->seen.st_ctim.tv_nsec;
}

/*
 * Every NODE_RELINK_CHECK_NS: looks at the link of each memif client port (socket files only).
 * While it is up, notes its server's socket file; once it is down and a new socket file has been
 * there for NODE_RELINK_GRACE_NS (the server restarted and had time to start its port; a
 * connection before that is lost), stops and starts the port (the PMD connects to its server at
 * start); again at the next look if that start failed, and NODE_RELINK_STUCK_NS after one that
 * brought no link. Frames to the peer meanwhile are refused by
 * the port and counted (tx_full), as while waiting for a link at start.
 */
static void
node_relink_check(uint64_t now_ns)
{
	static uint64_t next_check_ns;

	if (now_ns < next_check_ns)
		return;
	next_check_ns = now_ns + NODE_RELINK_CHECK_NS;
	for (uint16_t i = 0; i < relink_count; i++) {
		struct node_relink *r = &relinks[i];
		struct rte_eth_link link = { 0 };
		char name[RTE_ETH_NAME_MAX_LEN] = "?";

		rte_eth_dev_get_name_by_port(r->port, name);
		if (rte_eth_link_get_nowait(r->port, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP) {
			if (r->down)
				printf("rc-node: node %u: port %u (%s): link up again\n",
				       conf.node_id, r->port, name);
			r->down = false;
			r->tried_ns = 0;
			r->known = stat(r->server.sun_path, &r->seen) == 0;
			continue;
		}
		if (!r->down)
			printf("rc-node: node %u: port %u (%s): link down; reconnecting once its "
			       "memif server is back\n",
			       conf.node_id, r->port, name);
		r->down = true;
		if (r->started && !node_relink_new_server(r) &&
		    (r->tried_ns == 0 || now_ns - r->tried_ns < NODE_RELINK_STUCK_NS)) {
			r->new_since_ns = 0;
			continue;
		}
		if (r->started && r->new_since_ns == 0)
			r->new_since_ns = now_ns;
		if (r->started && now_ns - r->new_since_ns < NODE_RELINK_GRACE_NS)
			continue;
		r->new_since_ns = 0;
		if (r->started)
			rte_eth_dev_stop(r->port);
		r->started = rte_eth_dev_start(r->port) == 0;
		r->known = r->started && stat(r->server.sun_path, &r->seen) == 0;
		r->tried_ns = now_ns;
	}
}
#endif /* RC_NODE_DPDK */

/* Opens the UDP transport for this node: a socket bound to its peer line's address. Exits 1. */
static struct rc_driver *
node_open_udp(void)
{
	struct rc_udp_config uc;
	struct rc_driver *drv;
	struct in_addr ip;
	char addr[INET_ADDRSTRLEN] = "?";

	memset(&uc, 0, sizeof(uc));
	uc.frame_bytes = conf.frame_bytes;
	uc.local_count = 1;
	uc.local_ids[0] = conf.node_id;
	uc.peer_count = conf.peer_count;
	for (uint16_t i = 0; i < conf.peer_count; i++) {
		uc.peers[i].id = conf.peers[i].id;
		uc.peers[i].ipv4_be = conf.peers[i].ipv4_be;
		uc.peers[i].port = conf.peers[i].udp_port;
		if (conf.peers[i].id == conf.node_id) {
			ip.s_addr = conf.peers[i].ipv4_be;
			inet_ntop(AF_INET, &ip, addr, sizeof(addr));
		}
	}
	uc.rx_buffers = NODE_UDP_BUFFERS;
	uc.tx_buffers = NODE_UDP_BUFFERS;
	if (rc_udp_open(&uc, &drv) != 0)
		exit(1);
	for (uint16_t i = 0; i < conf.peer_count; i++)
		if (conf.peers[i].id == conf.node_id)
			printf("  udp %s:%u (kernel sockets), frame %u B\n", addr,
			       conf.peers[i].udp_port, conf.frame_bytes);
	return drv;
}

/*
 * Starts the transport: for dpdk the EAL (the config's eal and vdev lines, then the command
 * line's after "--") and the ports, for udp a socket. Exits on failure (2: config, 1: other).
 */
static struct rc_driver *
node_open_transport(int argc, char **argv, int split)
{
#ifdef RC_NODE_DPDK
	static char *eal[NODE_EAL_ARGS_MAX + 1];
	struct rc_driver *drv;

	if (conf.transport == NODE_TRANSPORT_DPDK) {
		node_memif_stale_sockets();
		atexit(node_rmdir_runtime); /* before the EAL's handlers, so it runs after them */
		if (rc_dpdk_eal_init(node_eal_args(argc, argv, split, eal), eal) < 0)
			exit(1);
		eal_up = true;
		snprintf(eal_runtime_dir, sizeof(eal_runtime_dir), "%s", rte_eal_get_runtime_dir());
		drv = node_open_driver();
		node_relink_init();
		return drv;
	}
#endif
	(void)argv;
	if (split + 1 < argc) {
		fprintf(stderr, "rc-node: EAL arguments after '--' need transport = dpdk\n");
		exit(2);
	}
	return node_open_udp();
}

/* The transport's name for reports: the first port's driver ("net_memif", ...) or "udp". */
static const char *
node_transport_name(void)
{
#ifdef RC_NODE_DPDK
	static struct rte_eth_dev_info info;
	uint16_t port = 0;

	if (conf.transport == NODE_TRANSPORT_DPDK) {
		RTE_ETH_FOREACH_DEV(port) {
			break;
		}
		return rte_eth_dev_info_get(port, &info) == 0 ? info.driver_name : "ethdev";
	}
#endif
	return "udp";
}

/* The lcore (dpdk) or 0 (udp: the main thread) the loop runs on. */
static unsigned int
node_lcore(void)
{
#ifdef RC_NODE_DPDK
	if (conf.transport == NODE_TRANSPORT_DPDK)
		return rte_lcore_id();
#endif
	return 0;
}

/* ---- Storage ------------------------------------------------------------------------------- */

/*
 * Opens and recovers the write-ahead log in wal_dir, before anything else starts, and prints on
 * stderr what recovery found; without wal_dir, says once that storage is volatile. On failure
 * prints the reason (a corrupt log: the file, the offset and why) and exits 1: nothing else has
 * been started and the log is left as it was.
 */
static void
node_wal_open(void)
{
	struct rc_wal_config wc;
	const struct rc_wal_info *in;
	char err[512] = "";
	int rc;

	if (conf.wal_dir == NULL) {
		fprintf(stderr,
			"rc-node: node %u: storage mem: volatile, NOT durable (a restart "
			"loses this "
			"node's log; set wal_dir for a write-ahead log)\n",
			conf.node_id);
		return;
	}
	rc_wal_config_default(&wc, conf.wal_dir);
	wc.segment_bytes = conf.wal_segment_bytes;
	rc = rc_wal_open(&wc, &wal, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "rc-node: node %u: write-ahead log %s refused (%s): %s\n",
			conf.node_id, conf.wal_dir, rc == -EBADMSG ? "corrupt" : strerror(-rc),
			err);
		exit(1);
	}
	in = rc_wal_info(wal);
	RC_ASSERT(in->last_index + 1 >= in->first_index);
	fprintf(stderr,
		"rc-node: node %u: write-ahead log %s: recovered last index %" PRIu64
		" (term %" PRIu64 "), term %" PRIu64 ", vote %u, commit %" PRIu64 "; %" PRIu64
		" segment(s), %" PRIu64 " B of records, in %.1f ms\n",
		conf.node_id, conf.wal_dir, in->last_index, in->last_term, in->hs.term, in->hs.vote,
		in->hs.commit, in->segments, in->bytes, (double)in->recovery_ns / 1e6);
	if (in->snap.index != 0)
		fprintf(stderr,
			"rc-node: node %u: write-ahead log %s: the log goes on from snapshot %s "
			"(index %" PRIu64 ", term %" PRIu64 ", %" PRIu64 " B)\n",
			conf.node_id, conf.wal_dir, in->snap.name, in->snap.index, in->snap.term,
			in->snap.bytes);
	if (in->dropped_reason[0] != '\0')
		fprintf(stderr,
			"rc-node: node %u: write-ahead log %s: dropped an unsynced tail (%" PRIu64
			" B zeroed): %s\n",
			conf.node_id, conf.wal_dir, in->dropped_bytes, in->dropped_reason);
}

/*
 * Fail-stop: when the write-ahead log reports an error (a failed write or sync), prints it and
 * exits 1 at once, leaving the log as it is (a restart recovers what is durable).
 */
static void
node_wal_check(void)
{
	int e;

	if (wal == NULL || (e = rc_wal_error(wal)) == 0)
		return;
	fprintf(stderr,
		"rc-node: node %u: storage error in the write-ahead log %s: %s; stopping "
		"(fail-stop: nothing more is acknowledged; a restart recovers what is durable)\n",
		conf.node_id, conf.wal_dir, strerror(-e));
	fflush(stdout);
	node_exit(1);
}

/* ---- The loop ------------------------------------------------------------------------------ */

/* SIGINT, SIGTERM: stop the loop; SIGUSR1: print the state. Only flags are set here. */
static void
node_on_signal(int sig)
{
	if (sig == SIGUSR1)
		state_requested = 1;
	else
		stop_requested = 1;
}

/* Installs the handlers (no SA_RESTART: nothing blocks in the loop anyway). */
static void
node_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = node_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
}

/* The node's complete callback: hands the proposal's outcome to the load generator. */
static void
node_on_complete(void *ctx, uint64_t cookie, uint64_t index, enum rc_propose_status status)
{
	struct node_bench *b = ctx;

	if (cookie & KV_SERVICE_COOKIE) {
		kv_service_on_complete(kv_service, cookie, index, status);
		return;
	}
	rc_loadgen_complete(&b->gen, cookie, status);
}

/* A read of the client port settled (only the client port asks for reads). */
static void
node_on_read(void *ctx, uint64_t cookie, uint64_t index, enum rc_read_status status)
{
	(void)ctx;
	kv_service_on_read(kv_service, cookie, index, status);
}

/* Returns a name for a role. */
static const char *
node_role_name(uint8_t role)
{
	static const char *const names[] = { "follower", "pre-candidate", "candidate", "leader" };

	return role < 4 ? names[role] : "?";
}

/*
 * Computes the FNV-1a digest of the index, term, length and payload of the committed entries
 * first..last into *out. Returns false when one of them is no longer held (a log recovered from
 * a write-ahead log starts after the entries its state machine applied again).
 */
static bool
node_digest(const struct rc_node *n, uint64_t first, uint64_t last, uint64_t *out)
{
	const struct rc_raft *r = rc_node_raft(n);
	uint64_t h = 0xcbf29ce484222325ull;

	RC_ASSERT(first >= 1 && last <= r->commit);
	for (uint64_t index = first; index <= last; index++) {
		uint32_t bytes = 0;
		const uint8_t *p = rc_node_payload(n, index, &bytes);

		if (p == NULL)
			return false;
		uint64_t words[3] = { index, rc_raft_term_at(r, index), bytes };

		for (size_t i = 0; i < sizeof(words); i++)
			h = (h ^ ((const uint8_t *)words)[i]) * 0x100000001b3ull;
		for (uint32_t i = 0; i < bytes; i++)
			h = (h ^ p[i]) * 0x100000001b3ull;
	}
	*out = h;
	return true;
}

/*
 * Prints the node's state line: role, term, commit, and node_digest() of the newest
 * NODE_DIGEST_ENTRIES committed entries (all of them when fewer; "none" when one is no longer
 * held), then "windows" with the digest of the newest 2^k committed entries for k = 6..14
 * ("none" where not all of them are held, or fewer are committed). Two nodes with the same commit
 * and digest hold the same entries there (the bench's payloads carry their proposal's time
 * stamp, so entries differ from one another); nodes that restarted from their write-ahead logs
 * at different times still share some window.
 */
static void
node_print_state(const struct rc_node *n)
{
	const struct rc_raft *r = rc_node_raft(n);
	uint64_t first = r->commit > NODE_DIGEST_ENTRIES ? r->commit - NODE_DIGEST_ENTRIES + 1 : 1;
	char windows[9 * 32] = "";
	size_t used = 0;
	uint64_t h;

	for (uint64_t w = 64; w <= NODE_DIGEST_ENTRIES; w *= 2) {
		uint64_t d;

		if (r->commit >= w && node_digest(n, r->commit - w + 1, r->commit, &d))
			used += (size_t)snprintf(windows + used, sizeof(windows) - used,
						 " %" PRIu64 ":%016" PRIx64, w, d);
		else
			used += (size_t)snprintf(windows + used, sizeof(windows) - used,
						 " %" PRIu64 ":none", w);
		RC_ASSERT(used < sizeof(windows));
	}
	if (node_digest(n, first, r->commit, &h))
		printf("rc-node: state node %u role %s term %" PRIu64 " commit %" PRIu64
		       " digest %016" PRIx64 " entries %" PRIu64 "..%" PRIu64 " windows%s\n",
		       r->cfg.id, node_role_name(r->role), r->term, r->commit, h, first, r->commit,
		       windows);
	else
		printf("rc-node: state node %u role %s term %" PRIu64 " commit %" PRIu64
		       " digest none entries %" PRIu64 "..%" PRIu64 " windows%s\n",
		       r->cfg.id, node_role_name(r->role), r->term, r->commit, first, r->commit,
		       windows);
	fflush(stdout);
}

/* Prints the header and figures of the bench, and writes the JSON report when asked.
 * Returns 0, or -1 when the report cannot be written. */
static int
node_bench_report(const struct rc_node *n, uint64_t now_ns)
{
	static struct rc_bench_result r;
	const struct rc_node_stats *st = rc_node_stats(n);
	double measured_s = (double)(now_ns - bench.measure_start_ns) / 1e9;
	struct rc_loadgen_frames frames = {
		.tx_frames = st->tx_frames - bench.at_start.tx_frames,
		.tx_append_frames = st->tx_append_frames - bench.at_start.tx_append_frames,
		.tx_entries = st->tx_entries - bench.at_start.tx_entries,
		.seconds = measured_s,
	};
	memset(&r, 0, sizeof(r));
	r.params.nodes = conf.peer_count;
	r.params.payload_bytes = conf.payload_bytes;
	r.params.inflight = opts.bench_inflight;
	r.params.batch_max = conf.batch_max;
	r.params.window = conf.window;
	r.params.frame_bytes = conf.frame_bytes;
	r.params.duration_s = measured_s;
	r.params.warmup_s = opts.bench_warmup_s;
	snprintf(r.params.driver, sizeof(r.params.driver), "%s", node_transport_name());
	snprintf(r.params.storage, sizeof(r.params.storage), "%s", wal != NULL ? "wal" : "mem");
	r.params.durable = wal != NULL;
	if (wal != NULL) {
		static uint64_t samples[RC_WAL_SYNC_SAMPLES];
		static struct rc_hist sync_hist;
		struct rc_wal_stats ws;
		uint32_t count = rc_wal_sync_samples(wal, samples, RC_WAL_SYNC_SAMPLES);

		rc_wal_stats(wal, &ws);
		rc_hist_reset(&sync_hist);
		for (uint32_t i = 0; i < count; i++)
			rc_hist_record(&sync_hist, samples[i]);
		r.syncs_measured = true;
		r.syncs_per_sec = (double)(ws.syncs - bench.syncs_at_start) / measured_s;
		rc_bench_latency_from_hist(&r.sync_latency_us, &sync_hist);
	}
	snprintf(r.params.loadgen, sizeof(r.params.loadgen), "leader-loop");
	rc_bench_env_probe(&r.env);
	snprintf(r.env.git_rev, sizeof(r.env.git_rev), "%s", RC_GIT_REV);
	r.env.lcore_count = 1;
	rc_loadgen_result(&bench.gen, measured_s, &frames, &r);
	r.lcore_busy_count = 1;
	r.lcore_busy_share[0] = bench.total_tsc == 0 ?
					0 :
					(double)bench.busy_tsc / (double)bench.total_tsc;

	printf("\nrc-node: node %u of %u over %s (one process per node), storage %s,\n"
	       "         payload %u B, frame %u B, inflight %u, batch-max %u, window %u, load "
	       "generator: in the leader's loop\n",
	       conf.node_id, conf.peer_count, r.params.driver,
	       wal != NULL ? "wal (durable)" : "mem (NOT DURABLE)", conf.payload_bytes,
	       conf.frame_bytes, opts.bench_inflight, conf.batch_max, conf.window);
	rc_loadgen_print(stdout, &r, "this node, the leader");
	printf("  rx frames/s        %14.0f   (this node, the leader)\n",
	       (double)(st->rx_frames - bench.at_start.rx_frames) / measured_s);
	printf("  lcore busy          lcore%u %.0f%%\n", node_lcore(), r.lcore_busy_share[0] * 100);
	if (r.syncs_measured)
		printf("  syncs/s            %14.0f   (this node's fdatasync calls; p99 %.1f us)\n",
		       r.syncs_per_sec, r.sync_latency_us.p99);
	if (bench.lost_leadership)
		printf("  warning            node %u was not leader during part of the run\n",
		       conf.node_id);
	printf("rc-node: bench done\n");
	fflush(stdout);
	if (opts.json_path != NULL) {
		FILE *f = fopen(opts.json_path, "w");

		if (f == NULL || rc_bench_json_write(f, &r) != 0 || fclose(f) != 0) {
			fprintf(stderr, "rc-node: cannot write %s: %s\n", opts.json_path,
				strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Advances the bench after one poll: waits for leadership, keeps the load up while leader,
 * opens and closes the measured window, prints a progress line each second and the report at
 * the end. Returns the proposals made (work), or -1 when the report could not be written.
 */
static int
node_bench_step(struct rc_node *n, uint64_t now_ns)
{
	const struct rc_raft *r = rc_node_raft(n);
	bool leader = r->role == RC_ROLE_LEADER;
	uint32_t proposed = 0;

	switch (bench.phase) {
	case BENCH_WAIT_LEADER:
		if (!leader)
			return 0;
		printf("rc-node: node %u is leader (term %" PRIu64 ") %.1f ms after start; "
		       "bench: %.1f s warm-up, %.1f s measured, %u in flight\n",
		       r->cfg.id, r->term, (double)(now_ns - bench.start_ns) / 1e6,
		       opts.bench_warmup_s, opts.bench_duration_s, opts.bench_inflight);
		fflush(stdout);
		bench.phase = BENCH_WARMUP;
		bench.phase_end_ns = now_ns + (uint64_t)(opts.bench_warmup_s * 1e9);
		break;
	case BENCH_WARMUP:
		if (now_ns < bench.phase_end_ns)
			break;
		rc_loadgen_measure_start(&bench.gen);
		bench.at_start = *rc_node_stats(n);
		if (wal != NULL) {
			struct rc_wal_stats ws;

			rc_wal_stats(wal, &ws);
			bench.syncs_at_start = ws.syncs;
		}
		bench.measure_start_ns = now_ns;
		bench.phase_end_ns = now_ns + (uint64_t)(opts.bench_duration_s * 1e9);
		bench.next_progress_ns = now_ns + 1000000000ull;
		bench.phase = BENCH_MEASURE;
		break;
	case BENCH_MEASURE:
		if (now_ns >= bench.next_progress_ns) {
			bench.progress_s++;
			printf("[%3u s] %12.0f commits/s so far, p99 %8.1f us\n", bench.progress_s,
			       (double)bench.gen.commits / bench.progress_s,
			       (double)rc_hist_percentile(&bench.gen.hist, 99) / 1000.0);
			fflush(stdout);
			bench.next_progress_ns += 1000000000ull;
		}
		if (now_ns < bench.phase_end_ns)
			break;
		rc_loadgen_measure_stop(&bench.gen);
		bench.phase = BENCH_DONE;
		return node_bench_report(n, now_ns) == 0 ? 0 : -1;
	default:
		return 0;
	}
	if (!leader)
		bench.lost_leadership = true;
	else
		proposed = rc_loadgen_top_up(&bench.gen, n);
	return (int)proposed;
}

/*
 * Prints the node's counters, the driver's and the ports' (ethdev's; net_memif reports 0 for a
 * port whose peer has disconnected, as at the end of a cluster run: it resets them then).
 */
static void
node_print_stats(struct rc_driver *drv, const struct rc_node *n)
{
	const struct rc_node_stats *s = rc_node_stats(n);
	struct rc_driver_stats ds;
#ifdef RC_NODE_DPDK
	struct rc_dpdk_rx_drops dr = { 0 };
	struct rte_eth_stats es;
#endif

	drv->ops->stats(drv, conf.node_id, &ds);
	printf("rc-node: node %u stats\n", conf.node_id);
	printf("  loop     iterations %" PRIu64 " (busy %" PRIu64 "), steps %" PRIu64 "\n",
	       s->iterations, s->busy_iterations, s->steps);
	printf("  raft     rx frames %" PRIu64 " (rejected %" PRIu64 ", foreign %" PRIu64
	       "), tx frames %" PRIu64 " (append %" PRIu64 " carrying %" PRIu64
	       " entries, dropped %" PRIu64 "), acks coalesced %" PRIu64 "\n",
	       s->rx_frames, s->rx_rejected, s->rx_foreign, s->tx_frames, s->tx_append_frames,
	       s->tx_entries, s->tx_dropped, s->acks_coalesced);
	printf("  entries  proposed %" PRIu64 ", committed %" PRIu64 ", refused %" PRIu64
	       ", applied %" PRIu64 "\n",
	       s->proposed, s->committed, s->refused, s->applied);
	printf("  driver   rx %" PRIu64 " frames %" PRIu64 " B, tx %" PRIu64 " frames %" PRIu64
	       " B, tx full %" PRIu64 ", alloc failed %" PRIu64 "\n",
	       ds.rx_frames, ds.rx_bytes, ds.tx_frames, ds.tx_bytes, ds.tx_full, ds.alloc_failed);
	if (wal != NULL) {
		struct rc_wal_stats ws;

		rc_wal_stats(wal, &ws);
		printf("  storage  wal %s: writes %" PRIu64 ", syncs %" PRIu64 ", bytes %" PRIu64
		       ", ring waits %" PRIu64 "\n",
		       conf.wal_dir, ws.writes, ws.syncs, ws.bytes, ws.ring_waits);
	} else {
		printf("  storage  mem (volatile, NOT durable)\n");
	}
#ifdef RC_NODE_DPDK
	if (conf.transport == NODE_TRANSPORT_DPDK) {
		rc_dpdk_rx_drops(drv, conf.node_id, &dr);
		printf("  dropped  %" PRIu64 " (malformed %" PRIu64 ", bad checksum %" PRIu64
		       ", other MAC %" PRIu64 ", other IPv4 %" PRIu64 ", other UDP port %" PRIu64
		       ")\n",
		       ds.rx_dropped, dr.malformed, dr.bad_cksum, dr.other_mac, dr.other_ipv4,
		       dr.other_port);
		if (rc_dpdk_eth_stats(drv, conf.node_id, &es) == 0)
			printf("  ports    rx %" PRIu64 " packets, tx %" PRIu64
			       " packets, missed %" PRIu64 ", rx errors %" PRIu64
			       ", tx errors %" PRIu64 ", no mbuf %" PRIu64 "\n",
			       es.ipackets, es.opackets, es.imissed, es.ierrors, es.oerrors,
			       es.rx_nombuf);
		return;
	}
#endif
	printf("  dropped  %" PRIu64 " (too long, or from an address not in the peer table)\n",
	       ds.rx_dropped);
}

/*
 * The main lcore's loop: poll the node, run the bench, report leadership changes and state
 * requests; after idle_yield_polls idle polls in a row, yield the CPU on each idle poll (for
 * processes that share a core). Returns 0 when stopped by a signal, 1 on a failure.
 */
static int
node_loop(struct rc_node *n)
{
	bool was_leader = false;
	uint32_t idle = 0;
	int rc = 0;

	bench.start_ns = rc_clock_ns();
	while (!stop_requested) {
		uint64_t t0 = rc_loadgen_tsc();
		uint64_t now_ns = rc_clock_ns();
		uint32_t work = rc_node_poll(n, now_ns);
		const struct rc_raft *r = rc_node_raft(n);

		if ((r->role == RC_ROLE_LEADER) != was_leader) {
			was_leader = !was_leader;
			if (bench.phase == BENCH_OFF || bench.phase == BENCH_DONE || !was_leader)
				printf("rc-node: node %u %s (term %" PRIu64 ")\n", r->cfg.id,
				       was_leader ? "is leader" : "is no longer leader", r->term);
			fflush(stdout);
		}
		if (bench.phase != BENCH_OFF) {
			int proposed = node_bench_step(n, now_ns);

			if (proposed < 0)
				rc = 1;
			else
				work += (uint32_t)proposed;
			if (bench.phase == BENCH_MEASURE) {
				uint64_t spent = rc_loadgen_tsc() - t0;

				bench.total_tsc += spent;
				if (work > 0)
					bench.busy_tsc += spent;
			}
		}
		if (state_requested) {
			state_requested = 0;
			node_print_state(n);
		}
		node_wal_check();
#ifdef RC_NODE_DPDK
		node_relink_check(now_ns);
#endif
		if (work > 0)
			idle = 0;
		else if (conf.idle_yield_polls > 0 && ++idle >= conf.idle_yield_polls)
			sched_yield();
	}
	return rc;
}

/* Undoes a start that failed after the transport opened (n may be NULL), and returns 1. */
static int
node_start_failed(struct rc_driver *drv, struct rc_node *n)
{
	if (n != NULL)
		rc_node_destroy(n);
	if (wal != NULL)
		rc_wal_close(wal);
	if (kv_table != NULL)
		rc_kv_destroy(kv_table);
	drv->ops->close(drv);
	node_eal_release();
	return 1;
}

/*
 * Reads the config; opens and recovers the write-ahead log (before anything else, so that a
 * refused log leaves nothing started); starts the transport; creates the key-value table, then
 * the node (which re-applies the recovered committed entries into the table); serves clients;
 * runs the loop until a signal. Shutdown: client port, node, then the log, table and transport.
 */
int
main(int argc, char **argv)
{
	struct rc_node_config ncfg;
	struct rc_kv_config kc;
	uint16_t voters[RC_NODES_MAX];
	struct rc_driver *drv;
	struct rc_node *n = NULL;
	int split = argc, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			split = i;
			break;
		}
	}
	node_parse_args(split, argv);
	node_conf_read(opts.config_path);
	node_signals();
	node_wal_open();
	drv = node_open_transport(argc, argv, split);
	printf("rc-node: node %u of cluster %u (%u voters), lcore %u, frame %u B, payload %u B, "
	       "tick %" PRIu64 " us, storage %s\n",
	       conf.node_id, conf.cluster_id, conf.peer_count, node_lcore(), conf.frame_bytes,
	       conf.payload_bytes, conf.tick_ns / 1000, wal != NULL ? "wal" : "mem (NOT durable)");
#ifdef RC_NODE_DPDK
	if (conf.transport == NODE_TRANSPORT_DPDK)
		rc_dpdk_print_ports(drv, conf.node_id, stdout);
#endif

	for (uint16_t i = 0; i < conf.peer_count; i++)
		voters[i] = conf.peers[i].id;
	rc_node_config_default(&ncfg, conf.node_id, voters, conf.peer_count);
	ncfg.cluster_id = conf.cluster_id;
	ncfg.raft.seed = conf.seed;
	ncfg.raft.election_ticks = conf.election_ticks;
	ncfg.raft.heartbeat_ticks = conf.heartbeat_ticks;
	ncfg.raft.inflight_msgs_max = conf.window;
	ncfg.payload_bytes_max = conf.payload_bytes;
	ncfg.propose_batch_max = conf.batch_max;
	ncfg.tick_ns = conf.tick_ns;
	while (ncfg.propose_ring_slots < 2 * opts.bench_inflight)
		ncfg.propose_ring_slots <<= 1;
	ncfg.complete = node_on_complete;
	ncfg.read_ready = node_on_read;
	ncfg.ctx = &bench;
	/* The state machine exists before the node: recovery re-applies committed entries. */
	rc_kv_config_default(&kc, conf.kv_capacity, 64,
			     conf.payload_bytes < 1024 ? conf.payload_bytes : 1024);
	if (rc_kv_create(&kc, &kv_table) != 0) {
		kv_table = NULL;
		fprintf(stderr, "rc-node: no memory for a key-value table of %u keys\n",
			conf.kv_capacity);
		return node_start_failed(drv, NULL);
	}
	ncfg.apply_batch = rc_kv_node_apply_batch;
	ncfg.apply_ctx = kv_table;
	ncfg.wal = wal;
	if (conf.snapshot_entries > 0) {
		ncfg.snapshot_save = rc_kv_node_snapshot_save;
		ncfg.snapshot_restore = rc_kv_node_snapshot_restore;
		ncfg.snapshot_entries = conf.snapshot_entries;
	}
	if (rc_node_create(&ncfg, drv, &n) != 0) {
		fprintf(stderr, "rc-node: node %u could not be created\n", conf.node_id);
		return node_start_failed(drv, NULL);
	}
	if (wal != NULL) {
		const struct rc_raft *r = rc_node_raft(n);

		fprintf(stderr,
			"rc-node: node %u: started from the write-ahead log: term %" PRIu64
			", commit %" PRIu64 ", applied %" PRIu64 "\n",
			conf.node_id, r->term, r->commit, rc_node_stats(n)->applied);
	}
	if (opts.bench_inflight > 0) {
		memset(payload, 0xab, sizeof(payload));
		rc_loadgen_init(&bench.gen, opts.bench_inflight, payload, conf.payload_bytes,
				rc_loadgen_calibrate());
		bench.phase = BENCH_WAIT_LEADER;
	}

	if (conf.client_port != 0) {
		if (kv_service_start(&kv_service, n, kv_table, conf.cluster_id, conf.client_port) !=
		    0)
			return node_start_failed(drv, n);
		printf("rc-node: node %u serves key-value clients on UDP port %u\n", conf.node_id,
		       conf.client_port);
	}
	rc = node_loop(n);
	if (kv_service != NULL) {
		uint64_t requests, answered, malformed;

		kv_service_counts(kv_service, &requests, &answered, &malformed);
		printf("rc-node: node %u client port: %" PRIu64 " requests, %" PRIu64
		       " answered, %" PRIu64 " malformed\n",
		       conf.node_id, requests, answered, malformed);
		kv_service_stop(kv_service);
	}

	if (bench.phase == BENCH_WARMUP || bench.phase == BENCH_MEASURE)
		printf("rc-node: node %u: stopped before the bench finished\n", conf.node_id);
	node_print_state(n);
	node_print_stats(drv, n);
	rc_node_destroy(n);
	if (wal != NULL)
		rc_wal_close(wal); /* after the node; makes what was handed over durable */
	rc_kv_destroy(kv_table);
	drv->ops->close(drv);
	node_eal_release();
	for (int i = 0; i < conf.eal_argc; i++)
		free(conf.eal_argv[i]);
	free(conf.wal_dir);
	return rc;
}
