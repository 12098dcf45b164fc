/*
 * rc-kv: a client of replicore's key-value store over UDP (the client protocol of
 * replicore/client.h, served by rc-node's client_port). It follows the leader: a replica that
 * is not the leader answers NOT_LEADER with the leader's id, and the request goes there.
 *
 *   rc-kv --nodes HOST:PORT[,HOST:PORT...] [--cluster ID] [--timeout-ms MS] COMMAND
 *     put KEY VALUE | delete KEY | cas KEY EXPECTED|- VALUE
 *     get KEY [linearizable|lease|local]
 *     load --clients N --duration S [--keys K] [--read-share F] [--history FILE]
 *
 * --nodes lists the replicas in node-id order (the first is node 1). load runs N closed-loop
 * clients (one operation each at a time: GET, PUT or CAS on keys k0..k<K-1>, unique values) and
 * writes every operation as a JSON line for rc-lincheck: a write with no answer before its
 * timeout has an unknown outcome (no return, "ok":null), because it may still take effect.
 *
 * Exit status: 0 done (a get of a missing key, a CAS that compared unequal included);
 * 1 no answer or a failure; 2 bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <replicore/client.h>

#define KV_NODES_MAX 16
#define KV_CLIENTS_MAX 64
#define KV_TEXT_MAX 64

struct kv_opts {
	struct sockaddr_in nodes[KV_NODES_MAX];
	int node_count;
	uint32_t cluster_id;
	uint64_t timeout_ns;
};

static struct kv_opts opts = { .cluster_id = 1, .timeout_ns = 1000000000ull };
static int sock = -1;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void __attribute__((noreturn, format(printf, 1, 2))) usage_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "rc-kv: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see --help)\n");
	exit(2);
}

static void
usage(FILE *f)
{
	fputs("usage: rc-kv --nodes HOST:PORT[,HOST:PORT...] [--cluster ID] [--timeout-ms MS] "
	      "COMMAND\n"
	      "  put KEY VALUE | delete KEY | cas KEY EXPECTED|- VALUE\n"
	      "  get KEY [linearizable|lease|local]        (default linearizable)\n"
	      "  load --clients N --duration S [--keys K] [--read-share F] [--history FILE]\n"
	      "Talks to rc-node's client_port. --nodes lists the replicas in node-id order; a\n"
	      "request follows NOT_LEADER answers to the leader. '-' as EXPECTED: the key must be\n"
	      "missing. load writes a JSON-lines history for rc-lincheck.\n"
	      "Exit: 0 done, 1 no answer or a failure, 2 bad usage.\n",
	      f);
}

/* Parses HOST:PORT[,...] into opts.nodes. */
static void
parse_nodes(char *list)
{
	for (char *tok = strtok(list, ","); tok != NULL; tok = strtok(NULL, ",")) {
		char *colon = strrchr(tok, ':');
		struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM }, *res;

		if (colon == NULL || opts.node_count == KV_NODES_MAX)
			usage_fail("bad --nodes entry '%s': HOST:PORT, at most 16", tok);
		*colon = '\0';
		if (getaddrinfo(tok, colon + 1, &hints, &res) != 0)
			usage_fail("cannot resolve '%s'", tok);
		memcpy(&opts.nodes[opts.node_count++], res->ai_addr, sizeof(struct sockaddr_in));
		freeaddrinfo(res);
	}
}

/* ---- One request ---------------------------------------------------------------------------- */

/* Sends request q to node slot t. */
static void
send_request(const struct rc_client_request *q, int t)
{
	uint8_t buf[9000];
	int32_t len = rc_client_encode_request(buf, sizeof(buf), opts.cluster_id, q);

	if (len < 0) {
		fprintf(stderr, "rc-kv: request does not encode (key or value too long?)\n");
		exit(2);
	}
	sendto(sock, buf, (size_t)len, 0, (const struct sockaddr *)&opts.nodes[t],
	       sizeof(opts.nodes[t]));
}

/* Waits up to wait_ns for a response; returns 1 with *r (value copied to vbuf), 0 on none. */
static int
recv_response(struct rc_client_response *r, uint8_t *vbuf, uint64_t wait_ns)
{
	uint8_t buf[9000];
	struct pollfd p = { .fd = sock, .events = POLLIN };
	uint32_t cluster;

	if (poll(&p, 1, (int)(wait_ns / 1000000)) <= 0)
		return 0;
	ssize_t n = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);

	if (n <= 0 || rc_client_decode_response(buf, (uint32_t)n, &cluster, r) != RC_WIRE_OK ||
	    cluster != opts.cluster_id)
		return 0;
	memcpy(vbuf, r->value, r->value_len);
	r->value = vbuf;
	return 1;
}

/* The node slot to try after an answer from slot t: the hinted leader, else the next one. */
static int
next_target(int t, uint16_t hint)
{
	if (hint >= 1 && hint <= opts.node_count)
		return hint - 1;
	return (t + 1) % opts.node_count;
}

/* Runs one command to its end, following the leader; returns the exit status. */
static int
run_one(struct rc_client_request *q)
{
	uint8_t value[RC_KV_VALUE_BYTES_MAX];
	struct rc_client_response r;
	uint64_t deadline = now_ns() + 5 * opts.timeout_ns;
	int t = 0;

	q->id = (uint64_t)getpid() << 20;
	while (now_ns() < deadline) {
		q->id++;
		send_request(q, t);
		uint64_t until = now_ns() + opts.timeout_ns;
		int got = 0;

		while (!got && now_ns() < until)
			got = recv_response(&r, value, until - now_ns()) && r.id == q->id;
		if (!got) {
			if (q->op != RC_CLIENT_GET) {
				printf("unknown outcome: node %d did not answer in time\n", t + 1);
				return 1;
			}
			t = (t + 1) % opts.node_count;
			continue;
		}
		if (r.status == RC_CLIENT_NOT_LEADER || r.status == RC_CLIENT_BUSY) {
			t = next_target(t, r.leader);
			usleep(r.status == RC_CLIENT_BUSY ? 1000 : 0);
			continue;
		}
		printf("%s", rc_client_strstatus(r.status));
		if (r.status == RC_CLIENT_OK && q->op == RC_CLIENT_GET)
			printf(" %.*s", (int)r.value_len, (const char *)r.value);
		printf(" (node %d, index %" PRIu64 ")\n", t + 1, r.index);
		return r.status <= RC_CLIENT_CAS_MISMATCH ? 0 : 1;
	}
	printf("no answer from any node within %.1f s\n", (double)(5 * opts.timeout_ns) / 1e9);
	return 1;
}

/* ---- load ----------------------------------------------------------------------------------- */

struct kv_client {
	bool busy;
	uint8_t op;	  /* enum rc_client_op */
	int target;	  /* node slot it sends to */
	uint64_t id;	  /* of the attempt in flight */
	uint64_t call_ns; /* of the operation */
	uint64_t sent_ns; /* of the attempt */
	uint64_t give_up; /* GET: retry until then */
	uint32_t n;	  /* values written so far */
	int key;
	char value[KV_TEXT_MAX];
	char expect[KV_TEXT_MAX];
	bool expect_absent;
	char seen[KV_CLIENTS_MAX][KV_TEXT_MAX]; /* last value seen per key ("" : missing) */
};

struct kv_load {
	uint32_t clients, keys;
	double duration_s, read_share;
	FILE *history;
	uint64_t t0;
	uint64_t ops, oks, unknown, not_leader, busy;
};

/* Writes one operation of the history. value NULL: null; ok -1: unknown (no return). */
static void
history_line(struct kv_load *l, uint32_t c, const struct kv_client *k, const char *value, int ok,
	     uint64_t ret_ns)
{
	static const char *const ops[] = { "", "put", "delete", "cas", "get" };

	if (l->history == NULL)
		return;
	fprintf(l->history, "{\"client\":%u,\"op\":\"%s\",\"key\":\"k%d\"", c, ops[k->op], k->key);
	if (value != NULL)
		fprintf(l->history, ",\"value\":\"%s\"", value);
	else if (k->op != RC_CLIENT_DELETE)
		fprintf(l->history, ",\"value\":null");
	if (k->op == RC_CLIENT_CAS) {
		if (k->expect_absent)
			fprintf(l->history, ",\"expect\":null");
		else
			fprintf(l->history, ",\"expect\":\"%s\"", k->expect);
	}
	fprintf(l->history, ",\"call_ns\":%" PRIu64, k->call_ns - l->t0);
	if (ok < 0)
		fprintf(l->history, ",\"ok\":null}\n");
	else
		fprintf(l->history, ",\"return_ns\":%" PRIu64 ",\"ok\":%s}\n", ret_ns - l->t0,
			ok ? "true" : "false");
}

/* Sends client c's current attempt. */
static void
client_send(struct kv_client *k, uint32_t c)
{
	char key[16];
	struct rc_client_request q = { .op = k->op };

	snprintf(key, sizeof(key), "k%d", k->key);
	k->id = ((uint64_t)c << 48) + (k->id & ((1ull << 48) - 1)) + 1;
	q.id = k->id;
	q.key = (const uint8_t *)key;
	q.key_len = (uint16_t)strlen(key);
	if (k->op == RC_CLIENT_PUT || k->op == RC_CLIENT_CAS) {
		q.value = (const uint8_t *)k->value;
		q.value_len = (uint16_t)strlen(k->value);
	}
	if (k->op == RC_CLIENT_CAS) {
		q.expected = (const uint8_t *)k->expect;
		q.expected_len = k->expect_absent ? RC_KV_EXPECT_ABSENT :
						    (uint16_t)strlen(k->expect);
	}
	k->sent_ns = now_ns();
	send_request(&q, k->target);
}

/* Starts client c's next operation. */
static void
client_start(struct kv_load *l, struct kv_client *k, uint32_t c)
{
	double x = (double)rand() / RAND_MAX;

	k->busy = true;
	k->key = rand() % (int)l->keys;
	k->call_ns = now_ns();
	k->give_up = k->call_ns + 5 * opts.timeout_ns;
	if (x < l->read_share) {
		k->op = RC_CLIENT_GET;
	} else {
		k->op = x < l->read_share + (1 - l->read_share) / 2 ? RC_CLIENT_PUT : RC_CLIENT_CAS;
		snprintf(k->value, sizeof(k->value), "c%u-%u", c, ++k->n);
		k->expect_absent = k->seen[k->key][0] == '\0';
		snprintf(k->expect, sizeof(k->expect), "%s", k->seen[k->key]);
	}
	l->ops++;
	client_send(k, c);
}

/* Client c's operation has its outcome. */
static void
client_done(struct kv_load *l, struct kv_client *k, uint32_t c, const char *value, int ok)
{
	history_line(l, c, k, value, ok, now_ns());
	if (ok > 0 && k->op != RC_CLIENT_GET)
		snprintf(k->seen[k->key], KV_TEXT_MAX, "%s", k->value);
	else if (ok > 0)
		snprintf(k->seen[k->key], KV_TEXT_MAX, "%s", value != NULL ? value : "");
	l->oks += ok > 0;
	l->unknown += ok < 0;
	k->busy = false;
}

/* Handles a response to client c's attempt in flight. */
static void
client_answer(struct kv_load *l, struct kv_client *k, uint32_t c,
	      const struct rc_client_response *r)
{
	char value[KV_TEXT_MAX];

	switch (r->status) {
	case RC_CLIENT_OK:
	case RC_CLIENT_NOT_FOUND:
		if (k->op == RC_CLIENT_GET) {
			if (r->status == RC_CLIENT_NOT_FOUND) {
				client_done(l, k, c, NULL, 1);
			} else {
				snprintf(value, sizeof(value), "%.*s",
					 (int)(r->value_len < KV_TEXT_MAX - 1 ? r->value_len :
										KV_TEXT_MAX - 1),
					 (const char *)r->value);
				client_done(l, k, c, value, 1);
			}
		} else {
			client_done(l, k, c, k->value, 1);
		}
		break;
	case RC_CLIENT_CAS_MISMATCH:
		client_done(l, k, c, k->value, 0);
		break;
	case RC_CLIENT_NOT_LEADER: /* no effect: try the leader */
	case RC_CLIENT_BUSY:
		if (r->status == RC_CLIENT_NOT_LEADER)
			l->not_leader++;
		else
			l->busy++;
		k->target = next_target(k->target, r->leader);
		client_send(k, c);
		break;
	case RC_CLIENT_FULL:
		client_done(l, k, c, k->value, 0);
		break;
	default:
		fprintf(stderr, "rc-kv: load: node %d answered %s\n", k->target + 1,
			rc_client_strstatus(r->status));
		exit(1);
	}
}

/* Runs the load; returns the exit status. */
static int
run_load(struct kv_load *l)
{
	static struct kv_client cl[KV_CLIENTS_MAX];
	uint8_t vbuf[RC_KV_VALUE_BYTES_MAX];
	struct rc_client_response r;
	uint64_t end;

	l->t0 = now_ns();
	end = l->t0 + (uint64_t)(l->duration_s * 1e9);
	srand(1);
	for (uint32_t c = 0; c < l->clients; c++)
		client_start(l, &cl[c], c);
	for (;;) {
		uint64_t now = now_ns();
		bool any = false;

		for (uint32_t c = 0; c < l->clients; c++) {
			struct kv_client *k = &cl[c];

			if (!k->busy && now < end) {
				client_start(l, k, c); /* sent after now: not timed out */
				any = true;
				continue;
			}
			any |= k->busy;
			if (!k->busy || now - k->sent_ns < opts.timeout_ns)
				continue;
			/* No answer in time: a GET retries elsewhere until it gives up; a write
			 * may still take effect, so its outcome is unknown. */
			if (k->op == RC_CLIENT_GET && now < k->give_up) {
				k->target = (k->target + 1) % opts.node_count;
				client_send(k, c);
			} else {
				client_done(l, k, c, k->op == RC_CLIENT_GET ? NULL : k->value, -1);
			}
		}
		if (!any && now >= end)
			break;
		while (recv_response(&r, vbuf, 1000000)) {
			uint32_t c = (uint32_t)(r.id >> 48);

			if (c < l->clients && cl[c].busy && cl[c].id == r.id)
				client_answer(l, &cl[c], c, &r);
		}
	}
	printf("rc-kv: load: %u clients, %.1f s: %" PRIu64 " operations, %" PRIu64
	       " succeeded, %" PRIu64 " unknown outcomes; %" PRIu64 " redirects, %" PRIu64
	       " busy\n",
	       l->clients, l->duration_s, l->ops, l->oks, l->unknown, l->not_leader, l->busy);
	return l->oks > 0 ? 0 : 1;
}

/* Parses options from argv[optind] on, up to the first non-option (the command). */
static void
parse_options(int argc, char **argv, struct kv_load *load, const char **history)
{
	static const struct option longopts[] = {
		{ "nodes", required_argument, NULL, 'n' },
		{ "cluster", required_argument, NULL, 'c' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "clients", required_argument, NULL, 'C' },
		{ "duration", required_argument, NULL, 'd' },
		{ "keys", required_argument, NULL, 'k' },
		{ "read-share", required_argument, NULL, 'r' },
		{ "history", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'n':
			parse_nodes(optarg);
			break;
		case 'c':
			opts.cluster_id = (uint32_t)strtoul(optarg, &end, 10);
			if (*end != '\0')
				usage_fail("bad --cluster '%s'", optarg);
			break;
		case 't':
			opts.timeout_ns = strtoull(optarg, &end, 10) * 1000000ull;
			if (*end != '\0' || opts.timeout_ns == 0)
				usage_fail("bad --timeout-ms '%s'", optarg);
			break;
		case 'C':
			load->clients = (uint32_t)strtoul(optarg, &end, 10);
			if (*end != '\0' || load->clients == 0 || load->clients > KV_CLIENTS_MAX)
				usage_fail("bad --clients '%s': 1..64", optarg);
			break;
		case 'd':
			load->duration_s = strtod(optarg, &end);
			if (*end != '\0' || !(load->duration_s > 0))
				usage_fail("bad --duration '%s'", optarg);
			break;
		case 'k':
			load->keys = (uint32_t)strtoul(optarg, &end, 10);
			if (*end != '\0' || load->keys == 0 || load->keys > KV_CLIENTS_MAX)
				usage_fail("bad --keys '%s': 1..64", optarg);
			break;
		case 'r':
			load->read_share = strtod(optarg, &end);
			if (*end != '\0' || !(load->read_share >= 0) || load->read_share > 1)
				usage_fail("bad --read-share '%s': 0..1", optarg);
			break;
		case 'H':
			*history = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage_fail("unknown option or missing value: '%s'", argv[optind - 1]);
		}
	}
}

int
main(int argc, char **argv)
{
	struct kv_load load = { .clients = 4, .keys = 4, .duration_s = 5, .read_share = 0.5 };
	const char *history = NULL;

	parse_options(argc, argv, &load, &history);
	if (optind < argc && strcmp(argv[optind], "load") == 0) {
		int at = optind;

		optind++; /* load's options follow the command */
		parse_options(argc, argv, &load, &history);
		if (optind != argc)
			usage_fail("load takes options only, not '%s'", argv[optind]);
		optind = at;
		argc = at + 1;
	}
	if (opts.node_count == 0)
		usage_fail("%s", "--nodes is required");
	if (optind >= argc)
		usage_fail("%s", "no command");
	sock = socket(AF_INET, SOCK_DGRAM, 0);
	if (sock < 0) {
		perror("rc-kv: socket");
		return 1;
	}
	const char *cmd = argv[optind];
	int rest = argc - optind - 1;
	char **a = argv + optind + 1;
	struct rc_client_request q = { 0 };

	if (strcmp(cmd, "load") == 0) {
		if (history != NULL && (load.history = fopen(history, "w")) == NULL) {
			fprintf(stderr, "rc-kv: cannot write %s: %s\n", history, strerror(errno));
			return 1;
		}
		int rc = run_load(&load);

		if (load.history != NULL && fclose(load.history) != 0) {
			fprintf(stderr, "rc-kv: cannot write %s\n", history);
			return 1;
		}
		return rc;
	}
	if (rest < 1)
		usage_fail("%s needs a key", cmd);
	q.key = (const uint8_t *)a[0];
	q.key_len = (uint16_t)strlen(a[0]);
	if (strcmp(cmd, "put") == 0 && rest == 2) {
		q.op = RC_CLIENT_PUT;
		q.value = (const uint8_t *)a[1];
		q.value_len = (uint16_t)strlen(a[1]);
	} else if (strcmp(cmd, "delete") == 0 && rest == 1) {
		q.op = RC_CLIENT_DELETE;
	} else if (strcmp(cmd, "cas") == 0 && rest == 3) {
		q.op = RC_CLIENT_CAS;
		q.expected = (const uint8_t *)a[1];
		q.expected_len = strcmp(a[1], "-") == 0 ? RC_KV_EXPECT_ABSENT :
							  (uint16_t)strlen(a[1]);
		q.value = (const uint8_t *)a[2];
		q.value_len = (uint16_t)strlen(a[2]);
	} else if (strcmp(cmd, "get") == 0 && (rest == 1 || rest == 2)) {
		q.op = RC_CLIENT_GET;
		if (rest == 2 && strcmp(a[1], "local") == 0)
			q.consistency = RC_CLIENT_LOCAL;
		else if (rest == 2 && strcmp(a[1], "lease") == 0)
			q.consistency = RC_CLIENT_LEASE;
		else if (rest == 2 && strcmp(a[1], "linearizable") != 0)
			usage_fail("bad consistency '%s': linearizable, lease or local", a[1]);
	} else {
		usage_fail("bad command or arguments: '%s'", cmd);
	}
	return run_one(&q);
}
