/*
 * rc-sim: the deterministic simulator's command line. Runs a range of seeds (one world each:
 * safety phase with seeded faults, heal, liveness phase, final checks), replays one seed as a
 * trace, runs with a planted bug switched on, or plays a scripted demo. With key-value clients
 * it also records each world's history of GET, PUT and CAS operations, writes it as JSON lines
 * for rc-lincheck and/or checks it in process with the linearizability checker (a history no
 * order explains counts as a violation). With --lease-reads the GETs are leader-lease reads,
 * under the drift bound the simulator derives from its skew model (or a smaller one given on
 * purpose). Prints one line per failing seed and a summary; exit 0 when clean, 1 on a
 * violation, 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <replicore/mutation.h>

#include "lincheck.h"
#include "sim.h"

#define SIM_DEFAULT_TICKS 5000u
#define DEMO_SEED 42u
#define DEMO_WAIT_UNITS 20000u
/* Key-value clients when a key-value option asks for them without --kv-clients. */
#define KV_CLIENTS_DEFAULT 4u
/* The placeholder of --kv-history that a seed range needs. */
#define KV_SEED_MARK "{seed}"

struct opts {
	uint64_t seed_first;
	uint64_t seed_last;
	uint16_t nodes;
	uint32_t faults;
	uint64_t ticks;
	const char *mutation;
	bool trace;
	bool expect_violation;
	bool demo;
	bool list_mutations;
	uint16_t kv_clients;	/* 0: no key-value workload */
	const char *kv_history; /* NULL: no history file */
	bool lincheck;
	bool stale_reads;
	bool lease_reads;
	uint32_t lease_drift_ticks; /* 0: the bound the skew model needs */
};

/* What the key-value histories of a sweep held and what the checker said of them. */
struct kv_totals {
	uint64_t histories; /* checked in process */
	struct rc_sim_kv_stats ops;
	uint64_t not_linearizable;
	uint64_t undecided; /* the checker gave up (a bound) or the history did not parse */
};

/* What the SIGABRT handler reports: the sweep's progress so far. */
static volatile uint64_t g_seed;
static volatile uint64_t g_seeds_run;
static volatile uint64_t g_violations;
static volatile uint64_t g_commits;
static volatile int g_expect_violation;

static const char usage_text[] =
	"usage: rc-sim [options]\n"
	"  --seeds A-B          run seeds A to B inclusive (default 1-100)\n"
	"  --seed S             run one seed\n"
	"  --nodes N            cluster size, 1..7 (default 5)\n"
	"  --faults LIST        comma list of drop,dup,reorder,partition,oneway,crash,skew,disk,\n"
	"                       torn,bitflip,eio, or all, or none (default all)\n"
	"  --ticks N            safety phase length in ticks (default 5000)\n"
	"  --trace              print every event of the run on stdout (replay a seed)\n"
	"  --mutation NAME      switch a planted bug on (build with -Dmutations=true)\n"
	"  --list-mutations     print the planted bugs, one per line\n"
	"  --expect-violation   exit 0 iff some seed finds a violation (stops at the first)\n"
	"  --demo               a scripted 5-node story: elections, commits, crash, catch-up\n"
	"  --kv-clients N       run N key-value clients (1..8; default 4 with the options below)\n"
	"  --kv-history FILE    write each seed's key-value history (JSON lines, rc-lincheck);\n"
	"                       with several seeds, " KV_SEED_MARK " in FILE becomes the seed\n"
	"  --lincheck           check each seed's key-value history for linearizability in\n"
	"                       process; a history no order explains counts as a violation\n"
	"  --stale-reads        planted bug: a GET reads the asked node's map, no read index\n"
	"  --lease-reads        GETs are leader-lease reads (ReadIndex when the lease is out),\n"
	"                       drift bound derived from the skew model of --faults\n"
	"  --lease-drift-ticks N  with --lease-reads: this drift bound instead (1..election\n"
	"                       ticks - 1); one below the derived bound is unsafe on purpose\n"
	"  --help               this text\n";

/* Writes a string to stdout with write() only (async-signal-safe). */
static void
safe_puts(const char *str)
{
	ssize_t rc = write(STDOUT_FILENO, str, strlen(str));

	(void)rc;
}

/* Writes v in decimal with write() only (async-signal-safe). */
static void
safe_putu(uint64_t v)
{
	char buf[24];
	size_t i = sizeof(buf);

	buf[--i] = '\0';
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	safe_puts(&buf[i]);
}

/* A core assertion failed (abort): a found bug. Reports the seed and the summary, then exits
 * 1 (0 when a violation was expected). Only async-signal-safe calls. */
static void
on_abort(int sig)
{
	(void)sig;
	safe_puts("seed ");
	safe_putu(g_seed);
	safe_puts(": violation: core assertion failed\n");
	safe_putu(g_seeds_run);
	safe_puts(" seeds, ");
	safe_putu(g_violations + 1);
	safe_puts(" violations, ");
	safe_putu(g_commits);
	safe_puts(" commits\n");
	if (g_expect_violation) {
		safe_puts("violation found after ");
		safe_putu(g_seeds_run);
		safe_puts(" seeds\n");
		_exit(0);
	}
	_exit(1);
}

/* Prints a one-line usage error and exits 2. */
__attribute__((noreturn, format(printf, 1, 2))) static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("rc-sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see --help)\n", stderr);
	exit(2);
}

/* Parses an unsigned decimal that must fill the whole string. Exits 2 when it does not. */
static uint64_t
parse_u64(const char *text, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || text[0] == '-')
		usage_error("bad %s '%s'", what, text);
	return v;
}

/* Parses "A-B" into an inclusive seed range. Exits 2 when malformed or reversed. */
static void
parse_seeds(const char *text, struct opts *o)
{
	const char *dash = strchr(text, '-');
	char first[32];

	if (dash == NULL || (size_t)(dash - text) >= sizeof(first))
		usage_error("bad --seeds '%s': expected A-B", text);
	memcpy(first, text, (size_t)(dash - text));
	first[dash - text] = '\0';
	o->seed_first = parse_u64(first, "--seeds");
	o->seed_last = parse_u64(dash + 1, "--seeds");
	if (o->seed_last < o->seed_first)
		usage_error("bad --seeds '%s': B is below A", text);
}

/* Switches the named planted bug on. Exits 2 when unknown or not built. */
static void
apply_mutation(const char *name)
{
	enum rc_mutation m;

	if (!rc_mutations_built())
		usage_error("this rc-sim has no planted bugs: configure with -Dmutations=true");
	m = rc_mutation_find(name);
	if (m == RC_MUTATION_NONE && strcmp(name, "none") != 0)
		usage_error("unknown mutation '%s' (see --list-mutations)", name);
	if (rc_mutation_set(m) != 0)
		usage_error("cannot switch on mutation '%s'", name);
}

enum opt_id {
	OPT_SEEDS = 1,
	OPT_SEED,
	OPT_NODES,
	OPT_FAULTS,
	OPT_TICKS,
	OPT_TRACE,
	OPT_MUTATION,
	OPT_LIST,
	OPT_EXPECT,
	OPT_DEMO,
	OPT_KV_CLIENTS,
	OPT_KV_HISTORY,
	OPT_LINCHECK,
	OPT_STALE_READS,
	OPT_LEASE_READS,
	OPT_LEASE_DRIFT,
	OPT_HELP,
};

static const struct option long_opts[] = {
	{ "seeds", required_argument, NULL, OPT_SEEDS },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "nodes", required_argument, NULL, OPT_NODES },
	{ "faults", required_argument, NULL, OPT_FAULTS },
	{ "ticks", required_argument, NULL, OPT_TICKS },
	{ "trace", no_argument, NULL, OPT_TRACE },
	{ "mutation", required_argument, NULL, OPT_MUTATION },
	{ "list-mutations", no_argument, NULL, OPT_LIST },
	{ "expect-violation", no_argument, NULL, OPT_EXPECT },
	{ "demo", no_argument, NULL, OPT_DEMO },
	{ "kv-clients", required_argument, NULL, OPT_KV_CLIENTS },
	{ "kv-history", required_argument, NULL, OPT_KV_HISTORY },
	{ "lincheck", no_argument, NULL, OPT_LINCHECK },
	{ "stale-reads", no_argument, NULL, OPT_STALE_READS },
	{ "lease-reads", no_argument, NULL, OPT_LEASE_READS },
	{ "lease-drift-ticks", required_argument, NULL, OPT_LEASE_DRIFT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* Handles one parsed option. */
static void
parse_one(int c, struct opts *o)
{
	uint64_t v;

	switch (c) {
	case OPT_SEEDS:
		parse_seeds(optarg, o);
		break;
	case OPT_SEED:
		o->seed_first = parse_u64(optarg, "--seed");
		o->seed_last = o->seed_first;
		break;
	case OPT_NODES:
		v = parse_u64(optarg, "--nodes");
		if (v < 1 || v > RC_NODES_MAX)
			usage_error("bad --nodes '%s': 1..%u", optarg, RC_NODES_MAX);
		o->nodes = (uint16_t)v;
		break;
	case OPT_FAULTS:
		if (rc_sim_faults_parse(optarg, &o->faults) != 0)
			usage_error("bad --faults '%s'", optarg);
		break;
	case OPT_TICKS:
		o->ticks = parse_u64(optarg, "--ticks");
		break;
	case OPT_TRACE:
		o->trace = true;
		break;
	case OPT_MUTATION:
		o->mutation = optarg;
		break;
	case OPT_LIST:
		o->list_mutations = true;
		break;
	case OPT_EXPECT:
		o->expect_violation = true;
		break;
	case OPT_DEMO:
		o->demo = true;
		break;
	case OPT_KV_CLIENTS:
		v = parse_u64(optarg, "--kv-clients");
		if (v < 1 || v > RC_SIM_KV_CLIENTS_MAX)
			usage_error("bad --kv-clients '%s': 1..%u", optarg, RC_SIM_KV_CLIENTS_MAX);
		o->kv_clients = (uint16_t)v;
		break;
	case OPT_KV_HISTORY:
		o->kv_history = optarg;
		break;
	case OPT_LINCHECK:
		o->lincheck = true;
		break;
	case OPT_STALE_READS:
		o->stale_reads = true;
		break;
	case OPT_LEASE_READS:
		o->lease_reads = true;
		break;
	case OPT_LEASE_DRIFT:
		v = parse_u64(optarg, "--lease-drift-ticks");
		if (v < 1 || v >= RC_SIM_ELECTION_TICKS_DEFAULT)
			usage_error("bad --lease-drift-ticks '%s': 1..%u", optarg,
				    RC_SIM_ELECTION_TICKS_DEFAULT - 1);
		o->lease_drift_ticks = (uint32_t)v;
		break;
	case OPT_HELP:
		fputs(usage_text, stdout);
		exit(0);
	default:
		usage_error("unknown option");
	}
}

/*
 * Checks the lease options: --lease-drift-ticks only with --lease-reads, and --lease-reads only
 * where the skew model of --faults has a drift bound below the election timeout (a lease the
 * simulator cannot make safe is refused, not run). Exits 2 when they do not hold.
 */
static void
check_lease_args(const struct opts *o)
{
	struct rc_sim_config cfg;

	if (o->lease_drift_ticks != 0 && !o->lease_reads)
		usage_error("--lease-drift-ticks needs --lease-reads");
	if (!o->lease_reads)
		return;
	rc_sim_config_default(&cfg, o->seed_first, o->nodes);
	cfg.faults = o->faults;
	if (rc_sim_lease_drift_ticks(&cfg) == 0)
		usage_error("--lease-reads: no drift bound below the election timeout covers the "
			    "tick skew of these faults");
}

/* Parses the command line into *o. Exits 2 on a bad flag. */
static void
parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){ .seed_first = 1,
			    .seed_last = 100,
			    .nodes = 5,
			    .faults = RC_SIM_FAULT_ALL,
			    .ticks = SIM_DEFAULT_TICKS };
	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, "", long_opts, NULL);
		if (c == -1)
			break;
		if (c == '?' || c == ':')
			usage_error("unknown option or missing value: '%s'", argv[optind - 1]);
		parse_one(c, o);
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (o->kv_clients == 0 && (o->kv_history != NULL || o->lincheck || o->stale_reads))
		o->kv_clients = KV_CLIENTS_DEFAULT;
	if (o->kv_history != NULL && o->seed_first != o->seed_last &&
	    strstr(o->kv_history, KV_SEED_MARK) == NULL)
		usage_error("--kv-history with several seeds needs " KV_SEED_MARK " in its name");
	check_lease_args(o);
}

/* ---- Key-value histories ------------------------------------------------------------------- */

/* Writes the key-value history of the world of seed to the --kv-history file. Returns 0, or -1
 * (said why on stderr). */
static int
kv_write_file(const struct rc_sim *sim, const char *pattern, uint64_t seed)
{
	const char *mark = strstr(pattern, KV_SEED_MARK);
	char path[4096];
	FILE *f;
	int rc;

	if (mark == NULL)
		snprintf(path, sizeof(path), "%s", pattern);
	else
		snprintf(path, sizeof(path), "%.*s%" PRIu64 "%s", (int)(mark - pattern), pattern,
			 seed, mark + strlen(KV_SEED_MARK));
	f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "rc-sim: %s: %s\n", path, strerror(errno));
		return -1;
	}
	rc = rc_sim_kv_write_history(sim, f);
	if (fclose(f) != 0 || rc != 0) {
		fprintf(stderr, "rc-sim: %s: write failed\n", path);
		return -1;
	}
	return 0;
}

/* Parses the key-value history of the world of seed into *h. Returns 0, or -1 (said why). */
static int
kv_parse(const struct rc_sim *sim, uint64_t seed, struct rc_lincheck_history *h)
{
	uint32_t count = rc_sim_kv_op_count(sim);
	uint32_t line_no = 0;
	char line[256];
	char err[256];

	for (uint32_t i = 0; i < count; i++) {
		int len = rc_sim_kv_history_line(sim, i, line, sizeof(line));

		if (len == 0)
			continue;
		if ((size_t)len >= sizeof(line) ||
		    rc_lincheck_parse_line(h, line, ++line_no, err, sizeof(err)) != 0) {
			printf("seed %" PRIu64 ": lincheck: history line %u does not parse: %s\n",
			       seed, line_no, (size_t)len >= sizeof(line) ? "too long" : err);
			return -1;
		}
	}
	return 0;
}

/*
 * Checks the key-value history of the world of seed for linearizability. Prints a line for a
 * violation (with the checker's report of the keys) or an undecided check. Returns 0 when
 * linearizable, 1 when not, -1 when undecided.
 */
static int
kv_lincheck(const struct rc_sim *sim, uint64_t seed)
{
	struct rc_lincheck_history h = { 0 };
	struct rc_lincheck_result res;
	char err[256];
	int rc = -1;

	if (kv_parse(sim, seed, &h) != 0)
		goto out;
	if (rc_lincheck_check(&h, &res, err, sizeof(err)) != 0) {
		printf("seed %" PRIu64 ": lincheck: undecided: %s\n", seed, err);
		goto out;
	}
	rc = res.violation_count == 0 ? 0 : 1;
	if (rc == 1) {
		printf("seed %" PRIu64
		       ": linearizability: %zu of %zu keys not linearizable (%zu operations)\n",
		       seed, res.violation_count, res.key_count, h.op_count);
		rc_lincheck_result_print(stdout, &h, &res);
	}
	rc_lincheck_result_free(&res);
out:
	rc_lincheck_history_free(&h);
	return rc;
}

/* The key-value part of one seed: history file, in-process check, totals. Returns false when
 * the seed failed (a history no order explains, a check undecided or a file not written). */
static bool
kv_seed(const struct opts *o, const struct rc_sim *sim, uint64_t seed, struct kv_totals *t)
{
	struct rc_sim_kv_stats st;
	bool ok = true;
	int rc;

	rc_sim_kv_stats(sim, &st);
	t->ops.lines += st.lines;
	t->ops.writes_ok += st.writes_ok;
	t->ops.cas_failed += st.cas_failed;
	t->ops.unknown += st.unknown;
	t->ops.reads_ok += st.reads_ok;
	t->ops.reads_at_once += st.reads_at_once;
	t->ops.failed += st.failed;
	t->ops.left_out += st.left_out;
	if (o->kv_history != NULL && kv_write_file(sim, o->kv_history, seed) != 0) {
		t->undecided++;
		ok = false;
	}
	if (!o->lincheck)
		return ok;
	rc = kv_lincheck(sim, seed);
	t->histories++;
	t->not_linearizable += rc == 1;
	t->undecided += rc == -1;
	return ok && rc == 0;
}

/* Prints the lease part of the key-value summary: the drift bound, the one the skew model
 * needs (when they differ), and how many reads a lease answered. */
static void
kv_lease_summary(const struct opts *o, const struct kv_totals *t)
{
	struct rc_sim_config cfg;
	uint32_t needed;
	uint32_t drift;

	rc_sim_config_default(&cfg, o->seed_first, o->nodes);
	cfg.faults = o->faults;
	needed = rc_sim_lease_drift_ticks(&cfg);
	drift = o->lease_drift_ticks != 0 ? o->lease_drift_ticks : needed;
	printf(", lease reads (drift bound %u ticks", drift);
	if (drift < needed)
		printf(", below the %u the skew model needs: unsafe", needed);
	else if (drift > needed)
		printf(", the skew model needs %u", needed);
	printf("): %" PRIu64 " of %" PRIu64 " reads answered at once", t->ops.reads_at_once,
	       t->ops.reads_ok);
}

/* Prints the key-value summary of a sweep. */
static void
kv_summary(const struct opts *o, const struct kv_totals *t)
{
	printf("kv: %" PRIu64 " operations (%" PRIu64 " writes ok, %" PRIu64
	       " cas unequal, %" PRIu64 " unknown, %" PRIu64 " reads, %" PRIu64
	       " failed) from %u clients%s",
	       t->ops.lines, t->ops.writes_ok, t->ops.cas_failed, t->ops.unknown, t->ops.reads_ok,
	       t->ops.failed, o->kv_clients, o->stale_reads ? ", stale reads planted" : "");
	if (o->lease_reads)
		kv_lease_summary(o, t);
	if (o->lincheck)
		printf("; %" PRIu64 " histories checked, %" PRIu64 " not linearizable",
		       t->histories, t->not_linearizable);
	if (t->undecided > 0)
		printf(", %" PRIu64 " undecided", t->undecided);
	putchar('\n');
}

/* Adds the disk faults of one world to the sweep's totals. */
static void
disk_add(struct rc_sim_stats *t, const struct rc_sim_stats *st)
{
	t->torn_writes += st->torn_writes;
	t->bit_flips += st->bit_flips;
	t->refused += st->refused;
	t->write_errors += st->write_errors;
}

/* Prints the disk faults of a sweep whose fault classes include any of them. */
static void
disk_summary(const struct opts *o, const struct rc_sim_stats *t)
{
	if (!(o->faults & (RC_SIM_FAULT_TORN | RC_SIM_FAULT_BITFLIP | RC_SIM_FAULT_EIO)))
		return;
	printf("disk faults: %" PRIu64 " torn writes, %" PRIu64 " bit flips (%" PRIu64
	       " restarts refused on a corrupt log: nodes down for good), %" PRIu64
	       " write errors (EIO)\n",
	       t->torn_writes, t->bit_flips, t->refused, t->write_errors);
}

/* Runs the seed range; prints a line per failing seed and the summary. Returns the exit code. */
static int
run_seeds(const struct opts *o)
{
	struct rc_sim_config cfg;
	struct rc_sim *sim = NULL;
	struct kv_totals kv = { 0 };
	struct rc_sim_stats disk = { 0 };
	uint64_t seed;

	for (seed = o->seed_first;; seed++) {
		struct rc_sim_stats st;

		rc_sim_config_default(&cfg, seed, o->nodes);
		cfg.faults = o->faults;
		cfg.safety_ticks = o->ticks;
		cfg.trace = o->trace ? stdout : NULL;
		cfg.kv_clients = o->kv_clients;
		cfg.kv_stale_reads = o->stale_reads;
		cfg.lease_reads = o->lease_reads;
		cfg.lease_drift_ticks = o->lease_drift_ticks;
		g_seed = seed;
		g_seeds_run++;
		if (sim == NULL)
			sim = rc_sim_create(&cfg);
		else if (rc_sim_reset(sim, &cfg) != 0)
			sim = NULL;
		if (sim == NULL) {
			fprintf(stderr, "rc-sim: cannot create the world of seed %" PRIu64 "\n",
				seed);
			return 2;
		}
		if (!rc_sim_run_seed(sim)) {
			printf("seed %" PRIu64 ": %s\n", seed, rc_sim_violation(sim));
			g_violations++;
		} else if (o->kv_clients > 0 && !kv_seed(o, sim, seed, &kv)) {
			g_violations++;
		}
		rc_sim_stats(sim, &st);
		g_commits += st.acknowledged;
		disk_add(&disk, &st);
		if ((o->expect_violation && g_violations > 0) || seed == o->seed_last)
			break;
	}
	rc_sim_destroy(sim);
	if (o->kv_clients > 0)
		kv_summary(o, &kv);
	disk_summary(o, &disk);
	printf("%" PRIu64 " seeds, %" PRIu64 " violations, %" PRIu64 " commits\n", g_seeds_run,
	       g_violations, g_commits);
	if (o->expect_violation) {
		if (g_violations == 0) {
			printf("no violation found in %" PRIu64 " seeds\n", g_seeds_run);
			return 1;
		}
		printf("violation found after %" PRIu64 " seeds\n", g_seeds_run);
		return 0;
	}
	return g_violations == 0 ? 0 : 1;
}

/* ---- The demo ------------------------------------------------------------------------------ */

/* Prints a demo line stamped with the simulated time. */
__attribute__((format(printf, 2, 3))) static void
demo_say(const struct rc_sim *sim, const char *fmt, ...)
{
	va_list ap;

	printf("[t=%6" PRIu64 "] ", rc_sim_now(sim));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Ends the demo: a violation or a step that did not happen in time. Returns exit code 1. */
static int
demo_fail(struct rc_sim *sim, const char *what)
{
	const char *v = rc_sim_violation(sim);

	printf("demo failed: %s%s%s\n", what, v != NULL ? ": " : "", v != NULL ? v : "");
	rc_sim_destroy(sim);
	return 1;
}

/* Waits for a leader and tells who won, in which term, with whose votes. Returns its id. */
static uint16_t
demo_election(struct rc_sim *sim)
{
	uint16_t leader = rc_sim_wait_leader(sim, DEMO_WAIT_UNITS);
	const struct rc_raft *r;
	char votes[64];
	size_t len = 0;
	uint16_t slot;

	if (leader == 0)
		return 0;
	r = rc_sim_node(sim, leader);
	votes[0] = '\0';
	for (slot = 0; slot < r->cfg.voter_count && len < sizeof(votes); slot++) {
		if (r->votes_granted & (1u << slot))
			len += (size_t)snprintf(votes + len, sizeof(votes) - len, "%sn%u",
						len > 0 ? " " : "", r->cfg.voters[slot]);
	}
	demo_say(sim, "n%u won the election of term %" PRIu64 " with %d of %u votes (%s)", leader,
		 r->term, __builtin_popcount(r->votes_granted), r->cfg.voter_count, votes);
	return leader;
}

/* Proposes count entries to the leader, in batches of 5. Returns the last index, 0 on failure. */
static uint64_t
demo_propose(struct rc_sim *sim, uint32_t count)
{
	uint64_t first = 0;
	uint64_t last = 0;
	uint32_t done = 0;

	while (done < count) {
		uint64_t at;
		uint32_t n = rc_sim_propose(sim, count - done < 5 ? count - done : 5, &at);

		if (n == 0)
			return 0;
		first = first == 0 ? at : first;
		last = at + n - 1;
		done += n;
		if (!rc_sim_run_for(sim, 5))
			return 0;
	}
	demo_say(sim, "proposed %u entries to n%u: indexes %" PRIu64 "..%" PRIu64, count,
		 rc_sim_leader(sim), first, last);
	return last;
}

/* Prints one node's summary line. */
static void
demo_node_line(const struct rc_sim *sim, uint16_t id)
{
	const struct rc_raft *r = rc_sim_node(sim, id);

	printf("  n%u: term %" PRIu64 ", %-9s commit %" PRIu64 ", last index %" PRIu64
	       ", applied %" PRIu64 "%s\n",
	       id, r->term, rc_raft_role_name(r->role), r->commit, r->last_index,
	       rc_sim_applied_index(sim, id), rc_sim_is_up(sim, id) ? "" : " (down)");
}

/* Crashes the leader, waits for the next, commits 20 more entries on the live nodes. Returns
 * the new leader, 0 on failure. */
static uint16_t
demo_failover(struct rc_sim *sim, uint16_t old, uint64_t *last)
{
	uint32_t all = ((1u << rc_sim_node_count(sim)) - 1) << 1;
	uint16_t leader;

	rc_sim_crash(sim, old);
	demo_say(sim, "crash n%u, the leader", old);
	leader = demo_election(sim);
	if (leader == 0)
		return 0;
	*last = demo_propose(sim, 20);
	if (*last == 0 || !rc_sim_wait_applied(sim, *last, all & ~(1u << old), DEMO_WAIT_UNITS))
		return 0;
	demo_say(sim, "entries up to %" PRIu64 " committed and applied on the %u live nodes", *last,
		 rc_sim_node_count(sim) - 1u);
	return leader;
}

/* Restarts the old leader and waits until its log is identical to the leader's. */
static bool
demo_catch_up(struct rc_sim *sim, uint16_t old, uint16_t leader, uint64_t last)
{
	const struct rc_raft *r;
	uint16_t id;

	if (!rc_sim_restart(sim, old))
		return false;
	r = rc_sim_node(sim, old);
	demo_say(sim,
		 "restart n%u from its disk: term %" PRIu64 ", log 1..%" PRIu64 ", commit %" PRIu64,
		 old, r->term, r->last_index, r->commit);
	if (!rc_sim_wait_applied(sim, last, 1u << old, DEMO_WAIT_UNITS))
		return false;
	for (id = 1; id <= rc_sim_node_count(sim); id++) {
		if (!rc_sim_logs_equal(sim, old, id))
			return false;
	}
	demo_say(sim,
		 "n%u caught up: applied %" PRIu64 ", log identical on every node (1..%" PRIu64
		 ", leader n%u)",
		 old, rc_sim_applied_index(sim, old), r->last_index, leader);
	return true;
}

/* The scripted story: 5 nodes, no random faults, every checker on. Returns the exit code. */
static int
run_demo(void)
{
	struct rc_sim_config cfg;
	struct rc_sim *sim;
	uint32_t all = ((1u << 5) - 1) << 1;
	uint16_t leader;
	uint16_t next;
	uint64_t last;
	uint16_t id;

	rc_sim_config_default(&cfg, DEMO_SEED, 5);
	cfg.faults = 0;
	cfg.client = false;
	cfg.pre_vote = 1;
	cfg.check_quorum = 1;
	cfg.msg_entries_max = 8;
	cfg.inflight_msgs_max = 8;
	sim = rc_sim_create(&cfg);
	if (sim == NULL)
		return 2;
	demo_say(sim, "5 nodes start as followers (seed %u, no random faults, all checkers on)",
		 DEMO_SEED);
	leader = demo_election(sim);
	if (leader == 0)
		return demo_fail(sim, "no first leader");
	last = demo_propose(sim, 20);
	if (last == 0 || !rc_sim_wait_applied(sim, last, all, DEMO_WAIT_UNITS))
		return demo_fail(sim, "first 20 entries not committed on all nodes");
	demo_say(sim, "entries up to %" PRIu64 " committed and applied on all 5 nodes", last);
	next = demo_failover(sim, leader, &last);
	if (next == 0)
		return demo_fail(sim, "no failover");
	if (!demo_catch_up(sim, leader, next, last))
		return demo_fail(sim, "old leader did not catch up");
	if (!rc_sim_run_for(sim, 100))
		return demo_fail(sim, "violation");
	demo_say(sim, "final state:");
	for (id = 1; id <= 5; id++)
		demo_node_line(sim, id);
	rc_sim_destroy(sim);
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o;
	enum rc_mutation m;

	parse_args(argc, argv, &o);
	if (o.list_mutations) {
		for (m = RC_MUTATION_NONE + 1; rc_mutation_name(m) != NULL; m++)
			puts(rc_mutation_name(m));
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (o.mutation != NULL)
		apply_mutation(o.mutation);
	g_expect_violation = o.expect_violation;
	signal(SIGABRT, on_abort);
	if (o.demo)
		return run_demo();
	return run_seeds(&o);
}
