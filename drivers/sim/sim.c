/*
 * The deterministic simulator: one event heap ordered by (time, sequence), nodes that are real
 * Raft cores driven through raft.h's caller loop, a network of encoded frames from a fixed pool,
 * a disk per node (a FIFO of pending writes over a byte image of write-ahead log records), a
 * client, a fault process and the checkers. Every random choice comes from the world's PRNG in
 * event order; the trace only reads.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <replicore/assert.h>
#include <replicore/kv.h>
#include <replicore/mutation.h>
#include <replicore/prng.h>
#include <replicore/raft.h>
#include <replicore/wal.h>
#include <replicore/wire.h>

#include "checker.h"
#include "sim.h"

/* Frames in the pool: in flight on the network or waiting on a disk write. */
#define SIM_PACKETS_MAX 2048u
#define SIM_FRAME_BYTES RC_FRAME_BYTES_MAX
/* Pending writes per node, and entries those writes hold; deliveries wait above 3/4 of either. */
#define SIM_DISK_OPS_MAX 1024u
#define SIM_DISK_ENTRIES_MAX (1u << 15)
/* Bytes of a node's disk image: every record a world writes (calloc'd up front; only the pages
 * written are ever touched). A world that fills it is a sizing error. */
#define SIM_DISK_IMAGE_BYTES (16u << 20)
/* Bytes of a SYNC record, and of the ENTRY record of an entry of the sim (8 bytes or none). */
#define SIM_SYNC_RECORD_BYTES (RC_WAL_RECORD_HEADER_BYTES + RC_WAL_SYNC_PAYLOAD_BYTES)
#define SIM_ENTRY_RECORD_BYTES_MAX (RC_WAL_RECORD_HEADER_BYTES + 8u)
/* Events: one per packet, plus ticks, disk, restarts (stale ones die at their time), client,
 * and one poll per key-value client. */
#define SIM_EVENTS_MAX (SIM_PACKETS_MAX + 64u * RC_NODES_MAX + 16u + RC_SIM_KV_CLIENTS_MAX)
/* Proposal ids a world hands out (client, liveness probes and scripted tests). */
#define SIM_PROPOSALS_CAP (1u << 14)
#define SIM_CLUSTER_ID 0x5eedu
#define SIM_NONE UINT32_MAX
/* Executed updates between two whole-log matching checks. */
#define SIM_FULL_CHECK_UPDATES 8192u
/* Liveness: election timeouts (base ticks, skew allowed) a healed cluster gets to commit. */
#define SIM_LIVENESS_TIMEOUTS 40u
/* Windows of SIM_LIVENESS_TIMEOUTS a lagging cluster may take in all, progress or not. */
#define SIM_LIVENESS_WINDOWS_MAX 100u
#define SIM_CENTI 100u

/* Key-value workload: keys "k0".. (as many as clients, at least 2: the unknown outcomes a crash
 * leaves, one per client, spread over them), text of a key or value with its NUL ("c8-4096"),
 * commands. */
#define SIM_KV_KEYS_MIN 2u
#define SIM_KV_KEYS RC_SIM_KV_CLIENTS_MAX
#define SIM_KV_TEXT_BYTES 16u
#define SIM_KV_CMD_BYTES_MAX (RC_KV_COMMAND_HEADER_BYTES + 3u * SIM_KV_TEXT_BYTES)
/* Clock units between two visits of a key-value client. */
#define SIM_KV_POLL_UNITS 5u
/* Base election timeouts a write waits to see its entry applied, a read attempt waits for its
 * answer, and an operation waits for some node to take it, before the client gives up. */
#define SIM_KV_WRITE_WAIT_TIMEOUTS 30u
#define SIM_KV_READ_WAIT_TIMEOUTS 2u
#define SIM_KV_OP_TIMEOUTS 6u
/* The op of a GET in a record (writes carry enum rc_kv_op). */
#define SIM_KV_GET 0u

_Static_assert(SIM_PROPOSALS_CAP >= RC_SIM_PROPOSALS_MAX + 2 * RC_PROPOSE_ENTRIES_MAX,
	       "client and scripted proposals fit the proposal table");
_Static_assert(SIM_DISK_ENTRIES_MAX / 4 >= 4 * RC_MSG_ENTRIES_MAX, "a batch fits the headroom");
_Static_assert(SIM_SYNC_RECORD_BYTES % RC_WAL_ALIGN == 0 &&
		       SIM_ENTRY_RECORD_BYTES_MAX % RC_WAL_ALIGN == 0,
	       "the sim's records need no padding beyond their payload");
_Static_assert((uint64_t)SIM_DISK_ENTRIES_MAX * SIM_ENTRY_RECORD_BYTES_MAX +
			       2u * SIM_SYNC_RECORD_BYTES <=
		       SIM_DISK_IMAGE_BYTES,
	       "the largest write fits an empty image");
_Static_assert(SIM_PROPOSALS_CAP >=
		       RC_SIM_PROPOSALS_MAX + RC_SIM_KV_OPS_MAX + 2 * RC_PROPOSE_ENTRIES_MAX,
	       "the writes of the key-value clients fit the proposal table too");
_Static_assert(RC_SIM_KV_CLIENTS_MAX <= 0xffu, "a read's ctx holds the client in its low byte");
_Static_assert(SIM_KV_CMD_BYTES_MAX <= 0xffu, "a record's command length fits a byte");
_Static_assert(SIM_KV_KEYS >= SIM_KV_KEYS_MIN && SIM_KV_KEYS <= 10u, "keys are k0..k9 at most");
_Static_assert(RC_SIM_SKEW_PERIOD_CENTI_MIN > 0 &&
		       RC_SIM_SKEW_PERIOD_CENTI_MIN <= RC_SIM_TICK_UNITS * SIM_CENTI &&
		       RC_SIM_TICK_UNITS * SIM_CENTI <= RC_SIM_SKEW_PERIOD_CENTI_MAX,
	       "skewed periods lie around the nominal one, and no clock stops");
_Static_assert((RC_SIM_ELECTION_TICKS_DEFAULT - 1) * RC_SIM_SKEW_PERIOD_CENTI_MIN >=
		       2 * SIM_CENTI + RC_SIM_SKEW_PERIOD_CENTI_MAX,
	       "the default election timeout bounds the skew model's drift: leases work with skew");

enum sim_event_kind {
	SIM_EV_TICK = 1,
	SIM_EV_DELIVER, /* arg: packet */
	SIM_EV_DISK,	/* arg: node epoch; the head write of the node's queue is done */
	SIM_EV_RESTART, /* arg: node epoch at the crash */
	SIM_EV_FAULT,
	SIM_EV_CLIENT,
	SIM_EV_CRASH, /* arg: node epoch when scheduled; power fails before a write is durable */
	SIM_EV_KV,    /* arg: key-value client index; its periodic visit */
};

struct sim_event {
	uint64_t time;
	uint64_t seq;
	uint32_t arg;
	uint16_t node;
	uint8_t kind;
};

struct sim_packet {
	uint32_t len;
	uint32_t next; /* free list or a write's chain of frames */
	uint16_t from;
	uint16_t to;
};

/* One pending write: what the update asked to persist and the frames waiting on it. */
struct sim_disk_op {
	uint64_t done_time;
	struct rc_raft_hard_state hs;
	uint64_t first; /* entries first..last replace the disk log from first on; 0: none */
	uint64_t last;
	uint64_t last_term;
	uint32_t arena_pos;
	uint32_t pkt_head;
	uint32_t pkt_tail;
	bool has_hs;
};

/*
 * A node's disk. The durable state is image[0..image_bytes): the write-ahead log's records of
 * every finished write, recovered at each start (disk_recover()). hs, hs_written, last_index and
 * log are what those writes held, kept beside the image to check each recovery against it.
 */
struct sim_disk {
	uint8_t *image;	      /* [SIM_DISK_IMAGE_BYTES]; zero from image_high on */
	uint64_t image_bytes; /* end of the last finished write */
	uint64_t image_high;  /* end of the bytes written (a torn write lands past image_bytes) */
	bool fail_next;	      /* scripted: the next write to finish fails (EIO) */
	struct rc_raft_hard_state hs;
	bool hs_written;
	uint64_t last_index;
	struct rc_raft_entry *log; /* [RC_LOG_ENTRIES_MAX]: index i at log[i] */
	struct sim_disk_op *ops;   /* [SIM_DISK_OPS_MAX] FIFO ring */
	uint32_t op_head;
	uint32_t op_count;
	struct rc_raft_entry *arena; /* [SIM_DISK_ENTRIES_MAX] ring of the ops' entries */
	uint32_t arena_head;
	uint32_t arena_used;
	uint64_t last_done; /* done time of the newest op: writes finish in order */
	uint32_t latency_min;
	uint32_t latency_max;
	uint32_t stall_per_million;
};

/* A node's key-value state machine: the value of each key, as the committed commands left it. */
struct sim_kv_map {
	bool present[SIM_KV_KEYS];
	uint8_t len[SIM_KV_KEYS];
	char value[SIM_KV_KEYS][SIM_KV_TEXT_BYTES]; /* NUL-terminated */
};

struct sim_node {
	struct rc_raft *raft;
	struct rc_raft_config cfg;
	uint64_t seed;
	struct sim_disk disk;
	bool up;
	bool dead;	/* refused its corrupt image: down for the rest of the world */
	bool flipped;	/* a bit of its image flipped since it last started */
	uint32_t epoch; /* lives so far; a crash starts the next */
	uint64_t tick_centi;
	uint32_t tick_period_centi;
	uint64_t frame_seq;
	uint64_t applied_index;
	uint64_t applied_count;
	uint8_t seen_role; /* for the trace */
	uint64_t seen_term;
	uint64_t seen_commit;
	struct sim_kv_map kv; /* Invariant: the commands of entries 1..applied_index */
};

struct sim_proposal {
	uint64_t index; /* 0: refused */
	uint64_t term;	/* term the leader gave it */
	uint32_t epoch;
	uint16_t node;
	bool acked;
	uint32_t kv_rec; /* the key-value write it carries: record kv_rec - 1; 0: none */
};

/* Where a key-value client's operation stands. */
enum sim_kv_phase {
	SIM_KV_IDLE = 0,   /* no operation; the next starts at next_time */
	SIM_KV_RETRY,	   /* not taken by any node yet; the next attempt at next_time */
	SIM_KV_WRITE_WAIT, /* a write node appended, until it applies it (or the client gives up) */
	SIM_KV_READ_WAIT,  /* a read waiting for node's read index */
	SIM_KV_READ_APPLY, /* a read with its read index, waiting for node to apply up to it */
};

/* The outcome of a recorded operation. */
enum sim_kv_outcome {
	SIM_KV_PENDING = 0,
	SIM_KV_OK,
	SIM_KV_FAILED,	 /* cas: compared unequal; put, get: certainly had no effect */
	SIM_KV_UNKNOWN,	 /* a write appended whose outcome the client never saw */
	SIM_KV_LEFT_OUT, /* a cas no node appended: no effect, and "ok":false would mislead */
};

/* One operation of the key-value history. */
struct sim_kv_rec {
	uint64_t call;	    /* clock units */
	uint64_t ret;	    /* clock units; set with outcome OK or FAILED */
	uint16_t client;    /* 1-based */
	uint8_t op;	    /* SIM_KV_GET, RC_KV_PUT or RC_KV_CAS */
	uint8_t key;	    /* key "k<key>" */
	uint8_t outcome;    /* enum sim_kv_outcome */
	bool appended;	    /* a write some leader appended: giving up leaves it unknown */
	bool expect_absent; /* cas: compared with a missing key */
	bool value_absent;  /* get: the key was missing */
	bool at_once;	    /* get: its read index came in the step that asked (a lease read) */
	uint8_t cmd_bytes;
	char value[SIM_KV_TEXT_BYTES]; /* put, cas: written; get: read */
	char expect[SIM_KV_TEXT_BYTES];
	uint8_t cmd[SIM_KV_CMD_BYTES_MAX]; /* a write's command, as the log entry carries it */
};

/* A key-value client: one operation at a time, to the node it believes leads. */
struct sim_kv_client {
	uint32_t rec;	   /* the operation in progress; SIM_NONE when idle */
	uint8_t phase;	   /* enum sim_kv_phase */
	uint16_t target;   /* the node it believes leads */
	uint16_t node;	   /* the node of the attempt in progress */
	uint32_t epoch;	   /* that node's life when it was asked */
	uint32_t ref;	   /* WRITE_WAIT: the proposal */
	uint64_t read_ctx; /* READ_WAIT: (attempt << 8) | client index */
	uint64_t read_index;
	uint64_t next_time;
	uint64_t attempt_deadline;
	uint64_t op_deadline;
	uint32_t writes; /* values it wrote: the next one is "c<client>-<writes + 1>" */
	uint32_t attempts;
	bool seen[SIM_KV_KEYS]; /* it saw key's value (or absence): a cas expects it */
	bool seen_absent[SIM_KV_KEYS];
	char seen_value[SIM_KV_KEYS][SIM_KV_TEXT_BYTES];
};

/* Fault parameters of one world, drawn from its seed within the enabled classes. */
struct sim_params {
	uint32_t delay_min;
	uint32_t delay_max;
	uint32_t tail_per_million;
	uint32_t tail_max;
	uint32_t drop_per_million;
	uint32_t dup_per_million;
	bool reorder;
	uint32_t fault_weight[3]; /* partition, oneway, crash */
	uint32_t fault_gap_min;
	uint32_t fault_gap_max;
	uint32_t down_max;
	uint32_t crash_write_per_million; /* crash a node while a hard-state write is pending */
	uint32_t torn_per_million;	  /* a crash lands a prefix of the write in progress */
	uint32_t flip_per_million;	  /* a crash flips a bit of a durable record */
	uint32_t eio_per_million;	  /* a finished write failed instead (EIO) */
	uint32_t client_gap_min;
	uint32_t client_gap_max;
};

/* Scratch for the payload callback: one 8-byte slot per entry of a frame. */
struct sim_payload_scratch {
	uint32_t next;
	uint8_t bytes[RC_MSG_ENTRIES_MAX][8];
};

struct rc_sim {
	struct rc_sim_config cfg;
	struct rc_prng prng;
	uint64_t now;
	uint64_t event_seq;
	struct sim_event *heap;
	uint32_t heap_count;
	struct sim_packet *packets;
	uint8_t *frames;
	uint32_t free_head;
	uint16_t node_count;
	uint16_t nodes_allocated;
	struct sim_node nodes[RC_NODES_MAX]; /* node id i at nodes[i - 1] */
	uint32_t group_mask;		     /* partition: ids in the mask | the rest; 0: none */
	uint32_t cut_to[RC_NODES_MAX + 1];   /* bit to set: from -> to dropped */
	uint64_t link_last[RC_NODES_MAX + 1][RC_NODES_MAX + 1];
	struct sim_params p;
	bool faults_on;
	bool client_on;
	struct sim_proposal *proposals; /* proposal ref r at proposals[r - 1] */
	uint32_t proposal_count;
	uint32_t client_entries;
	uint64_t acked_index_max; /* highest index of an acknowledged proposal */
	uint64_t heal_time;	  /* when the liveness phase began */
	uint64_t updates;
	struct rc_sim_stats stats;
	FILE *trace;
	struct rc_checker checker;
	struct rc_raft_update update;
	struct rc_raft_entry rx_entries[RC_MSG_ENTRIES_MAX];
	const uint8_t *rx_payloads[RC_MSG_ENTRIES_MAX];
	struct rc_raft_entry propose_entries[RC_PROPOSE_ENTRIES_MAX];
	struct rc_raft_entry *recovered; /* [RC_LOG_ENTRIES_MAX]: the log a recovery read */
	struct sim_payload_scratch scratch;
	bool kv_on; /* key-value clients start operations (off once healed) */
	uint32_t kv_rec_count;
	struct sim_kv_rec *kv_recs; /* [RC_SIM_KV_OPS_MAX], in call order */
	uint32_t kv_asking;	    /* 1 + the client whose read index is being asked now; 0 */
	struct sim_kv_client kv_clients[RC_SIM_KV_CLIENTS_MAX];
};

static const char *const sim_fault_names[] = {
	"drop", "dup",	"reorder", "partition", "oneway", "crash",
	"skew", "disk", "torn",	   "bitflip",	"eio",
};

_Static_assert(sizeof(sim_fault_names) / sizeof(sim_fault_names[0]) == RC_SIM_FAULT_CLASSES,
	       "one name per class");
_Static_assert(RC_SIM_FAULT_ALL == (1u << RC_SIM_FAULT_CLASSES) - 1, "every class in all");

/* ---- Small helpers ------------------------------------------------------------------------- */

/* The node with id (1..node_count). */
static struct sim_node *
sim_node(struct rc_sim *s, uint16_t id)
{
	RC_ASSERT(id >= 1 && id <= s->node_count);
	return &s->nodes[id - 1];
}

/* A value in [lo, hi] from the world's PRNG; lo <= hi. */
static uint64_t
sim_between(struct rc_sim *s, uint64_t lo, uint64_t hi)
{
	RC_ASSERT(lo <= hi);
	return lo + rc_prng_below(&s->prng, hi - lo + 1);
}

/* True with probability per_million / 1e6; draws nothing when the rate is 0. */
static bool
sim_chance(struct rc_sim *s, uint32_t per_million)
{
	return per_million != 0 && rc_prng_chance(&s->prng, per_million);
}

/* Writes one trace line "[  time] text" when a trace sink is set. */
__attribute__((format(printf, 2, 3))) static void
sim_trace(struct rc_sim *s, const char *fmt, ...)
{
	va_list ap;

	if (s->trace == NULL)
		return;
	fprintf(s->trace, "[%6" PRIu64 "] ", s->now);
	va_start(ap, fmt);
	vfprintf(s->trace, fmt, ap);
	va_end(ap);
	fputc('\n', s->trace);
}

/* Describes a message for the trace: "append t3 prev 5/3 n=2 commit 4". */
static void
sim_msg_text(char *buf, size_t size, const struct rc_raft_msg *m)
{
	const char *name = rc_raft_msg_name(m->type);

	switch (m->type) {
	case RC_MSG_APPEND:
		snprintf(buf, size,
			 "%s t%" PRIu64 " prev %" PRIu64 "/%" PRIu64 " n=%u commit %" PRIu64, name,
			 m->term, m->index, m->log_term, m->entry_count, m->commit);
		break;
	case RC_MSG_APPEND_RESP:
		if (m->reject)
			snprintf(buf, size,
				 "%s t%" PRIu64 " reject %" PRIu64 " hint %" PRIu64 "/%" PRIu64,
				 name, m->term, m->index, m->hint_index, m->log_term);
		else
			snprintf(buf, size, "%s t%" PRIu64 " index %" PRIu64, name, m->term,
				 m->index);
		break;
	case RC_MSG_VOTE:
	case RC_MSG_PREVOTE:
		snprintf(buf, size, "%s t%" PRIu64 " last %" PRIu64 "/%" PRIu64, name, m->term,
			 m->index, m->log_term);
		break;
	case RC_MSG_VOTE_RESP:
	case RC_MSG_PREVOTE_RESP:
		snprintf(buf, size, "%s t%" PRIu64 " %s", name, m->term,
			 m->reject ? "rejected" : "granted");
		break;
	case RC_MSG_HEARTBEAT:
		snprintf(buf, size, "%s t%" PRIu64 " commit %" PRIu64, name, m->term, m->commit);
		break;
	default:
		snprintf(buf, size, "%s t%" PRIu64, name, m->term);
		break;
	}
}

/* Lists the ids of mask as "{1,2}" (or of the complement when invert) into buf. */
static void
sim_group_text(const struct rc_sim *s, char *buf, size_t size, uint32_t mask, bool invert)
{
	size_t len = 0;
	uint16_t id;

	len += (size_t)snprintf(buf, size, "{");
	for (id = 1; id <= s->node_count && len < size; id++) {
		if ((((mask >> id) & 1u) != 0) == invert)
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%s%u", len > 1 ? "," : "", id);
	}
	if (len < size)
		snprintf(buf + len, size - len, "}");
}

/* ---- Event heap ---------------------------------------------------------------------------- */

/* True when event a comes before b: earlier time, then earlier scheduling. */
static bool
heap_before(const struct sim_event *a, const struct sim_event *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

/* Schedules an event at time (>= now). */
static void
sim_schedule(struct rc_sim *s, uint64_t time, uint8_t kind, uint16_t node, uint32_t arg)
{
	struct sim_event ev = {
		.time = time, .seq = s->event_seq++, .arg = arg, .node = node, .kind = kind
	};
	uint32_t i = s->heap_count++;

	RC_ASSERT(time >= s->now);
	RC_ASSERT(s->heap_count <= SIM_EVENTS_MAX);
	while (i > 0 && heap_before(&ev, &s->heap[(i - 1) / 2])) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = ev;
}

/* Removes and returns the earliest event; the heap must not be empty. */
static struct sim_event
sim_pop(struct rc_sim *s)
{
	struct sim_event top = s->heap[0];
	struct sim_event last;
	uint32_t i = 0;

	RC_ASSERT(s->heap_count > 0);
	last = s->heap[--s->heap_count];
	for (;;) {
		uint32_t child = 2 * i + 1;

		if (child >= s->heap_count)
			break;
		if (child + 1 < s->heap_count && heap_before(&s->heap[child + 1], &s->heap[child]))
			child++;
		if (!heap_before(&s->heap[child], &last))
			break;
		s->heap[i] = s->heap[child];
		i = child;
	}
	if (s->heap_count > 0)
		s->heap[i] = last;
	return top;
}

/* ---- Packets and the network --------------------------------------------------------------- */

/* Takes a packet from the pool; SIM_NONE when it is empty. */
static uint32_t
packet_alloc(struct rc_sim *s)
{
	uint32_t idx = s->free_head;

	if (idx != SIM_NONE)
		s->free_head = s->packets[idx].next;
	return idx;
}

static void
packet_free(struct rc_sim *s, uint32_t idx)
{
	RC_ASSERT(idx < SIM_PACKETS_MAX);
	s->packets[idx].next = s->free_head;
	s->free_head = idx;
}

static uint8_t *
packet_frame(struct rc_sim *s, uint32_t idx)
{
	return s->frames + (size_t)idx * SIM_FRAME_BYTES;
}

/* Gives the encoder an entry's payload: its ref as 8 little-endian bytes. */
static const void *
sim_payload(void *ctx, const struct rc_raft_entry *entry)
{
	struct sim_payload_scratch *sc = ctx;
	uint8_t *b = sc->bytes[sc->next++ % RC_MSG_ENTRIES_MAX];
	uint32_t k;

	RC_ASSERT(entry->bytes == 8);
	for (k = 0; k < 8; k++)
		b[k] = (uint8_t)(entry->ref >> (8 * k));
	return b;
}

/* Encodes message m of node id into a fresh packet. Returns it, or SIM_NONE (dropped, counted)
 * when the pool is empty. */
static uint32_t
net_encode(struct rc_sim *s, uint16_t id, const struct rc_raft_msg *m)
{
	struct sim_node *n = sim_node(s, id);
	uint32_t idx;
	int32_t len;

	RC_ASSERT(m->from == id && m->to >= 1 && m->to <= s->node_count && m->to != id);
	idx = packet_alloc(s);
	if (idx == SIM_NONE) {
		s->stats.pool_full++;
		s->stats.msgs_dropped++;
		sim_trace(s, "n%u > n%u %s dropped: packet pool full", id, m->to,
			  rc_raft_msg_name(m->type));
		return SIM_NONE;
	}
	s->scratch.next = 0;
	len = rc_wire_encode(packet_frame(s, idx), SIM_FRAME_BYTES, SIM_CLUSTER_ID, ++n->frame_seq,
			     m, sim_payload, &s->scratch);
	RC_ASSERT(len > 0);
	s->packets[idx].len = (uint32_t)len;
	s->packets[idx].from = id;
	s->packets[idx].to = m->to;
	return idx;
}

/* True when the partition or a one-way cut drops messages from -> to. */
static bool
net_blocked(const struct rc_sim *s, uint16_t from, uint16_t to)
{
	if (s->group_mask != 0 && ((s->group_mask >> from) & 1u) != ((s->group_mask >> to) & 1u))
		return true;
	return (s->cut_to[from] >> to) & 1u;
}

/* The delivery time of a packet sent now on from -> to: a delay in [min, max], sometimes a long
 * tail when messages reorder; FIFO per link when they do not. */
static uint64_t
net_arrival(struct rc_sim *s, uint16_t from, uint16_t to)
{
	uint64_t t = s->now + sim_between(s, s->p.delay_min, s->p.delay_max);

	if (s->p.reorder) {
		if (sim_chance(s, s->p.tail_per_million))
			t += sim_between(s, 1, s->p.tail_max);
		return t;
	}
	if (t < s->link_last[from][to])
		t = s->link_last[from][to];
	s->link_last[from][to] = t;
	return t;
}

/* Copies packet idx into a new one; SIM_NONE when the pool is empty. */
static uint32_t
net_clone(struct rc_sim *s, uint32_t idx)
{
	uint32_t dup = packet_alloc(s);

	if (dup == SIM_NONE) {
		s->stats.pool_full++;
		return SIM_NONE;
	}
	s->packets[dup] = s->packets[idx];
	memcpy(packet_frame(s, dup), packet_frame(s, idx), s->packets[idx].len);
	return dup;
}

/* Traces a frame leaving its sender (decoded again, so the trace shows what the wire holds). */
static void
net_trace_send(struct rc_sim *s, uint32_t idx, bool after_persist, const char *note)
{
	struct rc_wire_header h;
	struct rc_raft_msg m;
	char text[160];

	if (s->trace == NULL)
		return;
	RC_ASSERT(rc_wire_decode(packet_frame(s, idx), s->packets[idx].len, &h, &m, s->rx_entries,
				 s->rx_payloads, RC_MSG_ENTRIES_MAX) == RC_WIRE_OK);
	sim_msg_text(text, sizeof(text), &m);
	sim_trace(s, "n%u > n%u %s%s%s", h.from, h.to, text,
		  after_persist ? " (after persist)" : "", note);
}

/* Puts packet idx on the network: maybe dropped, maybe duplicated, delivered after a delay. */
static void
net_transmit(struct rc_sim *s, uint32_t idx, bool after_persist)
{
	struct sim_packet *pk = &s->packets[idx];
	uint32_t dup;

	if (s->faults_on && sim_chance(s, s->p.drop_per_million)) {
		net_trace_send(s, idx, after_persist, " dropped");
		s->stats.msgs_dropped++;
		packet_free(s, idx);
		return;
	}
	net_trace_send(s, idx, after_persist, "");
	s->stats.msgs_sent++;
	if (s->faults_on && sim_chance(s, s->p.dup_per_million)) {
		dup = net_clone(s, idx);
		if (dup != SIM_NONE) {
			s->stats.msgs_sent++;
			sim_schedule(s, net_arrival(s, pk->from, pk->to), SIM_EV_DELIVER, pk->to,
				     dup);
		}
	}
	sim_schedule(s, net_arrival(s, pk->from, pk->to), SIM_EV_DELIVER, pk->to, idx);
}

/* Decodes packet idx (the sim's own frame: it must decode) into *m with refs from payloads. */
static void
net_decode(struct rc_sim *s, uint32_t idx, struct rc_raft_msg *m)
{
	struct rc_wire_header h;
	enum rc_wire_error err;
	uint32_t i;
	uint32_t k;

	err = rc_wire_decode(packet_frame(s, idx), s->packets[idx].len, &h, m, s->rx_entries,
			     s->rx_payloads, RC_MSG_ENTRIES_MAX);
	RC_ASSERT(err == RC_WIRE_OK);
	RC_ASSERT(h.from == s->packets[idx].from && h.to == s->packets[idx].to);
	for (i = 0; i < m->entry_count; i++) {
		struct rc_raft_entry *e = &s->rx_entries[i];

		e->ref = 0;
		if (e->type != RC_ENTRY_NORMAL)
			continue;
		RC_ASSERT(e->bytes == 8);
		for (k = 0; k < 8; k++)
			e->ref |= (uint64_t)s->rx_payloads[i][k] << (8 * k);
	}
}

/* ---- Key-value commands and maps ----------------------------------------------------------- */

/*
 * Encodes a write into buf (SIM_KV_CMD_BYTES_MAX bytes) with the store's own encoders (kv.h);
 * expect is ignored for a put. Returns the command's length.
 */
static uint8_t
kv_cmd_encode(uint8_t *buf, uint8_t op, const char *key, const char *expect, bool expect_absent,
	      const char *value)
{
	uint32_t key_len = (uint32_t)strlen(key), value_len = (uint32_t)strlen(value);
	int32_t total;

	RC_ASSERT(op == RC_KV_PUT || op == RC_KV_CAS);
	if (op == RC_KV_PUT)
		total = rc_kv_encode_put(buf, SIM_KV_CMD_BYTES_MAX, key, key_len, value, value_len);
	else
		total = rc_kv_encode_cas(buf, SIM_KV_CMD_BYTES_MAX, key, key_len,
					 expect_absent ? NULL : expect,
					 expect_absent ? 0 : (uint32_t)strlen(expect), value,
					 value_len);
	RC_ASSERT(total > 0);
	return (uint8_t)total;
}

/* The slot of key text (key_len bytes) "k0".."k<SIM_KV_KEYS - 1>", -1 when it is none. */
static int
kv_key_slot(const uint8_t *key, uint32_t key_len)
{
	if (key_len != 2 || key[0] != 'k' || key[1] < '0' || key[1] > '9' ||
	    (uint32_t)(key[1] - '0') >= SIM_KV_KEYS)
		return -1;
	return key[1] - '0';
}

/* True when key slot k of map m holds value (len bytes), or is missing when absent. */
static bool
kv_map_holds(const struct sim_kv_map *m, int k, bool absent, const uint8_t *value, uint32_t len)
{
	if (absent || !m->present[k])
		return absent == !m->present[k];
	return m->len[k] == len && memcmp(m->value[k], value, len) == 0;
}

/*
 * Decodes command cmd (bytes long) as engine/kv does and applies it to map m: a PUT sets the
 * key; a CAS sets it when its value is the expected one (or it is missing, when the command
 * expects absence). Returns RC_KV_OK, RC_KV_CAS_MISMATCH, or RC_KV_BAD_COMMAND (m unchanged).
 */
static enum rc_kv_result
kv_map_apply(struct sim_kv_map *m, const uint8_t *cmd, uint32_t bytes)
{
	struct rc_kv_command c;
	int k;

	if (!rc_kv_command_decode(cmd, bytes, &c) || c.op == RC_KV_DELETE ||
	    c.value_len >= SIM_KV_TEXT_BYTES)
		return RC_KV_BAD_COMMAND;
	bool absent = c.expected_len == RC_KV_EXPECT_ABSENT;

	k = kv_key_slot(c.key, c.key_len);
	if (k < 0)
		return RC_KV_BAD_COMMAND;
	if (c.op == RC_KV_CAS &&
	    !kv_map_holds(m, k, absent, c.expected, absent ? 0 : c.expected_len))
		return RC_KV_CAS_MISMATCH;
	m->present[k] = true;
	m->len[k] = (uint8_t)c.value_len;
	memcpy(m->value[k], c.value, c.value_len);
	m->value[k][c.value_len] = '\0';
	return RC_KV_OK;
}

/* Applies the key-value write entry e carries, if any, to node id's map. Returns its outcome
 * (RC_KV_OK for an entry that carries none). */
static enum rc_kv_result
kv_apply_entry(struct rc_sim *s, uint16_t id, const struct rc_raft_entry *e)
{
	const struct sim_kv_rec *rec;
	enum rc_kv_result result;
	uint32_t r;

	if (e->type != RC_ENTRY_NORMAL || e->ref == 0 || e->ref > s->proposal_count)
		return RC_KV_OK;
	r = s->proposals[e->ref - 1].kv_rec;
	if (r == 0)
		return RC_KV_OK;
	RC_ASSERT(r <= s->kv_rec_count);
	rec = &s->kv_recs[r - 1];
	result = kv_map_apply(&sim_node(s, id)->kv, rec->cmd, rec->cmd_bytes);
	RC_ASSERT(result == RC_KV_OK || result == RC_KV_CAS_MISMATCH);
	return result;
}

/* ---- Nodes: steps and updates -------------------------------------------------------------- */

static void node_execute(struct rc_sim *s, uint16_t id);
static void kv_on_write_acked(struct rc_sim *s, uint32_t ref, enum rc_kv_result result);
static void kv_on_applied(struct rc_sim *s, uint16_t id);
static void kv_on_apply_index(struct rc_sim *s, uint16_t id, uint64_t index,
			      const struct rc_raft_entry *e);
static void kv_on_reads(struct rc_sim *s, uint16_t id);
static void kv_on_crash(struct rc_sim *s, uint16_t id);
static void kv_give_up(struct rc_sim *s, struct sim_kv_client *c);

/* Starts a batch of steps on node id: an empty update. */
static void
node_begin(struct rc_sim *s, uint16_t id)
{
	RC_ASSERT(sim_node(s, id)->up);
	rc_raft_update_reset(&s->update);
	rc_checker_batch_begin(&s->checker, id);
}

/* Steps one event on node id into the current update and runs the per-step checks. */
static void
node_step(struct rc_sim *s, uint16_t id, const struct rc_raft_event *ev)
{
	RC_ASSERT(rc_raft_update_has_room(&s->update));
	rc_raft_step(sim_node(s, id)->raft, ev, &s->update);
	s->stats.steps++;
	rc_checker_after_step(&s->checker, id);
}

/* Steps a single event on node id and executes the update. */
static void
node_event(struct rc_sim *s, uint16_t id, const struct rc_raft_event *ev)
{
	node_begin(s, id);
	node_step(s, id, ev);
	node_execute(s, id);
}

/* A write's latency on node id's disk: in [min, max], rarely a stall. */
static uint64_t
disk_latency(struct rc_sim *s, struct sim_disk *d)
{
	uint64_t t = sim_between(s, d->latency_min, d->latency_max);

	if (sim_chance(s, d->stall_per_million))
		t += sim_between(s, 100, 600);
	return t;
}

/* Copies the update's entry range of node id into a new write op. */
static void
disk_copy_entries(struct rc_sim *s, uint16_t id, struct sim_disk_op *op)
{
	struct sim_node *n = sim_node(s, id);
	struct sim_disk *d = &n->disk;
	const struct rc_raft_update *u = &s->update;
	uint64_t count = u->persist_last - u->persist_first + 1;
	uint64_t i;

	RC_ASSERT(u->persist_first >= 1 && u->persist_first <= u->persist_last);
	RC_ASSERT(d->arena_used + count <= SIM_DISK_ENTRIES_MAX);
	op->first = u->persist_first;
	op->last = u->persist_last;
	op->arena_pos = (d->arena_head + d->arena_used) % SIM_DISK_ENTRIES_MAX;
	for (i = 0; i < count; i++) {
		const struct rc_raft_entry *e = rc_raft_entry_at(n->raft, u->persist_first + i);

		RC_ASSERT(e != NULL);
		d->arena[(op->arena_pos + i) % SIM_DISK_ENTRIES_MAX] = *e;
		op->last_term = e->term;
	}
	d->arena_used += (uint32_t)count;
}

/* Encodes the update's after-persist messages of node id and chains them to op, to leave once
 * op is durable (at once, with the write only issued, under the ack-before-sync mutation). */
static void
disk_hold_msgs(struct rc_sim *s, uint16_t id, struct sim_disk_op *op)
{
	uint32_t i;

	for (i = 0; i < s->update.msg_after_persist_count; i++) {
		uint32_t idx = net_encode(s, id, &s->update.msgs_after_persist[i]);

		if (idx == SIM_NONE)
			continue;
		if (RC_MUTATED(RC_MUTATION_ACK_BEFORE_SYNC)) {
			net_transmit(s, idx, true);
			continue;
		}
		s->packets[idx].next = SIM_NONE;
		if (op->pkt_tail == SIM_NONE)
			op->pkt_head = idx;
		else
			s->packets[op->pkt_tail].next = idx;
		op->pkt_tail = idx;
	}
}

/* Queues the update's write (hard state, entries, held messages) on node id's disk. */
static void
disk_enqueue(struct rc_sim *s, uint16_t id)
{
	struct sim_node *n = sim_node(s, id);
	struct sim_disk *d = &n->disk;
	struct sim_disk_op *op;
	uint64_t done;

	RC_ASSERT(d->op_count < SIM_DISK_OPS_MAX);
	op = &d->ops[(d->op_head + d->op_count) % SIM_DISK_OPS_MAX];
	memset(op, 0, sizeof(*op));
	op->pkt_head = SIM_NONE;
	op->pkt_tail = SIM_NONE;
	if (s->update.flags & RC_UPDATE_HARD_STATE) {
		op->has_hs = true;
		op->hs = s->update.hard_state;
	}
	if (s->update.flags & RC_UPDATE_ENTRIES)
		disk_copy_entries(s, id, op);
	disk_hold_msgs(s, id, op);
	done = s->now + disk_latency(s, d);
	if (done < d->last_done)
		done = d->last_done;
	d->last_done = done;
	op->done_time = done;
	if (d->op_count++ == 0)
		sim_schedule(s, done, SIM_EV_DISK, id, n->epoch);
	if (op->has_hs && s->faults_on && sim_chance(s, s->p.crash_write_per_million))
		sim_schedule(s, sim_between(s, s->now, done - 1), SIM_EV_CRASH, id, n->epoch);
}

/* Frees the frames chained from head. */
static void
disk_free_chain(struct rc_sim *s, uint32_t head)
{
	while (head != SIM_NONE) {
		uint32_t next = s->packets[head].next;

		packet_free(s, head);
		head = next;
	}
}

/* True when write op puts records on the disk: entries or a hard state (a write that only holds
 * frames back behind the earlier ones writes nothing). */
static bool
disk_op_writes(const struct sim_disk_op *op)
{
	return op->has_hs || op->first != 0;
}

/* Entry i (op->first..op->last) of write op, in the disk's arena. */
static const struct rc_raft_entry *
disk_op_entry(const struct sim_disk *d, const struct sim_disk_op *op, uint64_t i)
{
	RC_ASSERT(op->first != 0 && i >= op->first && i <= op->last);
	return &d->arena[(op->arena_pos + i - op->first) % SIM_DISK_ENTRIES_MAX];
}

/* Bytes of the records write op puts on the disk (see disk_encode()). */
static uint64_t
disk_op_bytes(const struct sim_disk *d, const struct sim_disk_op *op)
{
	uint64_t bytes = 2u * SIM_SYNC_RECORD_BYTES;
	uint64_t i;

	for (i = op->first; op->first != 0 && i <= op->last; i++)
		bytes += rc_wal_record_bytes(disk_op_entry(d, op, i)->bytes);
	return bytes;
}

/*
 * Encodes write op, the next to finish on disk d, at the end of its finished writes
 * (image_bytes) with the log's own encoders: an ENTRY record per entry (payload: its ref's 8
 * bytes, as the wire carries it; none for a NOOP), then two identical SYNC records with the hard
 * state and the log's end after op. Returns the bytes written; *sync_end (may be NULL) gets the
 * offset, from the write's start, just after the first SYNC record: once the bytes up to there
 * are on the disk, recovery keeps the write.
 */
static uint64_t
disk_encode(struct sim_disk *d, const struct sim_disk_op *op, uint64_t *sync_end)
{
	const struct rc_raft_hard_state *hs = op->has_hs ? &op->hs : &d->hs;
	uint64_t total = disk_op_bytes(d, op);
	uint8_t *dst = d->image + d->image_bytes;
	uint64_t last = d->last_index;
	uint64_t term = last > 0 ? d->log[last].term : 0;
	uint64_t bytes = 0;
	uint64_t i;

	RC_ASSERT(disk_op_writes(op));
	RC_ASSERT(d->image_bytes + total <= SIM_DISK_IMAGE_BYTES); /* see SIM_DISK_IMAGE_BYTES */
	for (i = op->first; op->first != 0 && i <= op->last; i++) {
		const struct rc_raft_entry *e = disk_op_entry(d, op, i);
		uint8_t payload[8];
		uint32_t k;

		RC_ASSERT(e->bytes == (e->type == RC_ENTRY_NORMAL ? 8u : 0u));
		for (k = 0; k < 8; k++)
			payload[k] = (uint8_t)(e->ref >> (8 * k));
		bytes += rc_wal_encode_entry(dst + bytes, i, e, payload);
		last = i;
		term = e->term;
	}
	bytes += rc_wal_encode_sync(dst + bytes, hs, last, term);
	if (sync_end != NULL)
		*sync_end = bytes;
	bytes += rc_wal_encode_sync(dst + bytes, hs, last, term);
	RC_ASSERT(bytes == total);
	return bytes;
}

/* Describes what write op holds for the trace: "hard state, entries 5..7". */
static void
disk_op_text(const struct sim_disk_op *op, char *buf, size_t size)
{
	if (op->first == 0)
		snprintf(buf, size, "hard state");
	else
		snprintf(buf, size, "%sentries %" PRIu64 "..%" PRIu64,
			 op->has_hs ? "hard state, " : "", op->first, op->last);
}

/* Takes write op into what disk d's finished writes hold (hard state, log). */
static void
disk_hold(struct sim_disk *d, const struct sim_disk_op *op)
{
	uint64_t i;

	if (op->has_hs) {
		d->hs = op->hs;
		d->hs_written = true;
	}
	if (op->first == 0)
		return;
	RC_ASSERT(op->last < RC_LOG_ENTRIES_MAX);
	for (i = op->first; i <= op->last; i++)
		d->log[i] = *disk_op_entry(d, op, i);
	d->last_index = op->last;
}

/* A finished write of node id: its records go to the disk image. Returns false on a contract
 * violation. */
static bool
disk_apply(struct rc_sim *s, uint16_t id, const struct sim_disk_op *op)
{
	struct sim_disk *d = &sim_node(s, id)->disk;

	if (op->first > d->last_index + 1) {
		rc_checker_fail(&s->checker,
				"persist-contract: n%u write of %" PRIu64 "..%" PRIu64
				" leaves a gap after disk last index %" PRIu64,
				id, op->first, op->last, d->last_index);
		return false;
	}
	if (disk_op_writes(op)) {
		RC_ASSERT(d->image_high == d->image_bytes);
		d->image_bytes += disk_encode(d, op, NULL);
		d->image_high = d->image_bytes;
	}
	disk_hold(d, op);
	if (op->first != 0) {
		d->arena_head = (d->arena_head + (uint32_t)(op->last - op->first + 1)) %
				SIM_DISK_ENTRIES_MAX;
		d->arena_used -= (uint32_t)(op->last - op->first + 1);
	}
	return true;
}

/* True when taking one more node down leaves the rule of the crash faults: fewer than half the
 * nodes (rounded up) down before it, the dead ones included. */
static bool
sim_may_take_down(const struct rc_sim *s)
{
	uint32_t down = 0;
	uint16_t id;

	for (id = 1; id <= s->node_count; id++)
		down += s->nodes[id - 1].up ? 0 : 1;
	return down < (s->node_count + 1u) / 2;
}

/* True when node id's head write fails instead of finishing: scripted, or a seeded EIO that may
 * take the node down (else the write simply succeeds). */
static bool
disk_write_fails(struct rc_sim *s, uint16_t id)
{
	struct sim_disk *d = &sim_node(s, id)->disk;

	if (!disk_op_writes(&d->ops[d->op_head]))
		return false;
	if (d->fail_next) {
		d->fail_next = false;
		return true;
	}
	return s->faults_on && sim_chance(s, s->p.eio_per_million) && sim_may_take_down(s);
}

static void node_crash(struct rc_sim *s, uint16_t id, bool may_tear);

/* Node id's head write failed (EIO): nothing of it is durable and the node stops at once (it
 * cannot know what reached the disk); a seeded world restarts it later. */
static void
disk_fail_stop(struct rc_sim *s, uint16_t id)
{
	const struct sim_disk *d = &sim_node(s, id)->disk;
	char what[64];

	s->stats.write_errors++;
	disk_op_text(&d->ops[d->op_head], what, sizeof(what));
	sim_trace(s, "n%u write of %s failed (EIO): the node stops", id, what);
	node_crash(s, id, false);
	if (s->faults_on)
		sim_schedule(s, s->now + sim_between(s, 20, s->p.down_max), SIM_EV_RESTART, id,
			     sim_node(s, id)->epoch);
}

/* The head write of node id finished: disk image, held frames out, then RC_EVENT_PERSISTED (or
 * it failed, and the node stopped). */
static void
disk_complete(struct rc_sim *s, uint16_t id)
{
	struct sim_node *n = sim_node(s, id);
	struct sim_disk *d = &n->disk;
	struct sim_disk_op op;
	struct rc_raft_event ev = { .type = RC_EVENT_PERSISTED };
	uint32_t idx;

	RC_ASSERT(d->op_count > 0 && n->up);
	if (disk_write_fails(s, id)) {
		disk_fail_stop(s, id);
		return;
	}
	op = d->ops[d->op_head];
	d->op_head = (d->op_head + 1) % SIM_DISK_OPS_MAX;
	d->op_count--;
	if (d->op_count > 0)
		sim_schedule(s, d->ops[d->op_head].done_time, SIM_EV_DISK, id, n->epoch);
	if (!disk_apply(s, id, &op))
		return;
	sim_trace(s, "n%u persisted%s log %" PRIu64 "/%" PRIu64, id,
		  op.has_hs ? " hard state," : "", op.last, op.last_term);
	for (idx = op.pkt_head; idx != SIM_NONE;) {
		uint32_t next = s->packets[idx].next;

		net_transmit(s, idx, true);
		idx = next;
	}
	ev.persisted.index = op.last;
	ev.persisted.term = op.last_term;
	node_event(s, id, &ev);
}

/* Drops every pending write of node id (a crash) with the frames that waited on them. */
static void
disk_lose_pending(struct rc_sim *s, uint16_t id)
{
	struct sim_disk *d = &sim_node(s, id)->disk;

	while (d->op_count > 0) {
		disk_free_chain(s, d->ops[d->op_head].pkt_head);
		d->op_head = (d->op_head + 1) % SIM_DISK_OPS_MAX;
		d->op_count--;
	}
	d->arena_head = 0;
	d->arena_used = 0;
	d->last_done = s->now;
}

/* True when node id's write queue is so full that deliveries to it must wait. */
static bool
disk_busy(struct rc_sim *s, uint16_t id)
{
	const struct sim_disk *d = &sim_node(s, id)->disk;

	return d->op_count > SIM_DISK_OPS_MAX * 3 / 4 ||
	       d->arena_used > SIM_DISK_ENTRIES_MAX * 3 / 4;
}

/*
 * A crash tears node id's head write: landed bytes of it (fewer than all) reach the image past
 * the finished writes, possibly cutting a record; the rest stays zero. When they hold its first
 * SYNC record whole, recovery will keep the write: it counts as finished from now on.
 */
static void
disk_tear(struct rc_sim *s, uint16_t id, uint64_t landed)
{
	struct sim_disk *d = &sim_node(s, id)->disk;
	const struct sim_disk_op *op = &d->ops[d->op_head];
	uint64_t sync_end;
	uint64_t bytes;
	char what[64];

	RC_ASSERT(d->op_count > 0 && disk_op_writes(op) && d->image_high == d->image_bytes);
	if (op->first > d->last_index + 1)
		return; /* a gap: disk_apply() reports it when the write finishes */
	bytes = disk_encode(d, op, &sync_end);
	if (landed >= bytes)
		landed = bytes - 1;
	memset(d->image + d->image_bytes + landed, 0, bytes - landed);
	d->image_high = d->image_bytes + landed;
	s->stats.torn_writes++;
	disk_op_text(op, what, sizeof(what));
	sim_trace(s,
		  "n%u torn write: %" PRIu64 " of the %" PRIu64
		  " bytes of its write of %s landed%s",
		  id, landed, bytes, what,
		  landed >= sync_end ? " (its first SYNC record whole: the write is durable)" : "");
	if (landed < sync_end)
		return;
	d->image_bytes += sync_end;
	disk_hold(d, op);
}

/*
 * Walks the records of disk d's finished writes: returns how many there are, and the offsets of
 * record k (*at), of the last one (*last) and of the one before it (*prev); UINT64_MAX for each
 * that does not exist.
 */
static uint64_t
disk_walk(const struct sim_disk *d, uint64_t k, uint64_t *at, uint64_t *last, uint64_t *prev)
{
	uint64_t off = 0;
	uint64_t count = 0;

	*at = *last = *prev = UINT64_MAX;
	while (off < d->image_bytes) {
		struct rc_wal_record rec;
		uint32_t bytes;

		RC_ASSERT(rc_wal_decode(d->image + off, d->image_bytes - off, &rec, &bytes) ==
			  RC_WAL_OK);
		if (count++ == k)
			*at = off;
		*prev = *last;
		*last = off;
		off += bytes;
	}
	return count;
}

/* True when the record at last (the image's last) is a SYNC record without its copy before it:
 * an earlier recovery dropped the copy, or a torn write landed only its first. */
static bool
disk_lone_sync(const struct sim_disk *d, uint64_t last, uint64_t prev)
{
	if (d->image[last + 6] != RC_WAL_SYNC)
		return false;
	return prev == UINT64_MAX || last - prev != SIM_SYNC_RECORD_BYTES ||
	       memcmp(d->image + prev, d->image + last, SIM_SYNC_RECORD_BYTES) != 0;
}

/* Flips bit of byte of node id's image (down) and traces it with what (the record it hits). */
static void
disk_flip(struct rc_sim *s, uint16_t id, uint64_t byte, uint8_t bit, const char *what)
{
	struct sim_node *n = sim_node(s, id);

	RC_ASSERT(!n->up && !n->dead && byte < n->disk.image_bytes && bit < 8);
	n->disk.image[byte] ^= (uint8_t)(1u << bit);
	n->flipped = true;
	s->stats.bit_flips++;
	sim_trace(s, "n%u disk: bit %u of byte %" PRIu64 " flipped (%s)", id, bit, byte, what);
}

/*
 * Seeded fault at a crash: flips one bit of a durable record of node id's image. The record is
 * the last (the second SYNC copy of the last write) a quarter of the time, else any; in an ENTRY
 * record with a payload, the bit is in the payload half the time (a ref a checker compares),
 * else anywhere in the record. A lone SYNC record at the end is never hit: damage there could
 * not be told from a write that never finished, and recovery would lose that write.
 */
static void
disk_flip_random(struct rc_sim *s, uint16_t id)
{
	const struct sim_disk *d = &sim_node(s, id)->disk;
	uint64_t at, last, prev, count, k, byte;
	struct rc_wal_record rec;
	char what[96];
	uint32_t bytes;
	bool lone;

	count = disk_walk(d, UINT64_MAX, &at, &last, &prev);
	lone = count > 0 && disk_lone_sync(d, last, prev);
	if (count <= (lone ? 1u : 0u))
		return;
	if (!lone && sim_chance(s, 250000))
		k = count - 1;
	else
		k = rc_prng_below(&s->prng, count - (lone ? 1u : 0u));
	disk_walk(d, k, &at, &last, &prev);
	RC_ASSERT(rc_wal_decode(d->image + at, d->image_bytes - at, &rec, &bytes) == RC_WAL_OK);
	if (rec.type == RC_WAL_ENTRY && rec.len > 0 && sim_chance(s, 500000))
		byte = at + RC_WAL_RECORD_HEADER_BYTES + rc_prng_below(&s->prng, rec.len);
	else
		byte = at + rc_prng_below(&s->prng, bytes);
	snprintf(what, sizeof(what), "%s record %" PRIu64 " of %" PRIu64 ", index %" PRIu64,
		 rec.type == RC_WAL_ENTRY ? "ENTRY" : "SYNC", k + 1, count, rec.index);
	disk_flip(s, id, byte, (uint8_t)rc_prng_below(&s->prng, 8), what);
}

/*
 * True when node id may hold a flipped image: the other nodes dead or holding one stay below
 * (nodes - 1) / 2, so that the dead never grow past a minority; and the world's nodes use
 * pre-vote. Without it a bare majority left alive may never elect: a node that cannot win (its
 * log behind) and ticks faster (skew) deposes the one that can at every campaign, resetting
 * its timer before it runs out (the disruption pre-vote exists to stop).
 */
static bool
sim_may_flip(const struct rc_sim *s, uint16_t id)
{
	uint32_t count = 0;
	uint16_t other;

	if (!s->nodes[id - 1].cfg.pre_vote)
		return false;
	for (other = 1; other <= s->node_count; other++) {
		const struct sim_node *n = &s->nodes[other - 1];

		count += other != id && (n->dead || n->flipped) ? 1 : 0;
	}
	return count < (s->node_count - 1u) / 2;
}

/* Where a recovery writes the log it reads. */
struct sim_recovery {
	struct rc_raft_entry *log; /* index i at log[i] */
	uint64_t last;
};

/* Recovery's entry callback: writes the entry into the recovered log, replacing the tail from
 * its index on (ref from its 8 payload bytes). Returns false past the log's bound. */
static bool
disk_on_entry(void *ctx, const struct rc_wal_record *rec, uint64_t offset)
{
	struct sim_recovery *r = ctx;
	struct rc_raft_entry *e;
	uint32_t k;

	(void)offset;
	if (rec->index >= RC_LOG_ENTRIES_MAX)
		return false;
	e = &r->log[rec->index];
	memset(e, 0, sizeof(*e));
	e->term = rec->term;
	e->type = rec->entry_type;
	e->bytes = rec->len;
	for (k = 0; k < 8 && k < rec->len; k++)
		e->ref |= (uint64_t)rec->payload[k] << (8 * k);
	r->last = rec->index;
	return true;
}

/*
 * disk-recovery: what node id recovered (hard state, log 1..last) must be what its finished
 * writes held. Returns true when it is; reports the first difference as a violation when not.
 */
static bool
disk_check_recovered(struct rc_sim *s, uint16_t id, const struct rc_wal_replay *rp)
{
	const struct sim_disk *d = &sim_node(s, id)->disk;
	uint64_t i;

	if ((rp->syncs > 0) != d->hs_written || rp->hs.term != d->hs.term ||
	    rp->hs.vote != d->hs.vote || rp->hs.commit != d->hs.commit) {
		rc_checker_fail(&s->checker,
				"disk-recovery: n%u recovered term %" PRIu64
				" vote %u commit %" PRIu64 ", its writes left term %" PRIu64
				" vote %u commit %" PRIu64,
				id, rp->hs.term, rp->hs.vote, rp->hs.commit, d->hs.term, d->hs.vote,
				d->hs.commit);
		return false;
	}
	if (rp->synced_last != d->last_index) {
		rc_checker_fail(&s->checker,
				"disk-recovery: n%u recovered log 1..%" PRIu64
				", its writes left 1..%" PRIu64,
				id, rp->synced_last, d->last_index);
		return false;
	}
	for (i = 1; i <= d->last_index; i++) {
		const struct rc_raft_entry *a = &s->recovered[i];
		const struct rc_raft_entry *b = &d->log[i];

		if (a->term == b->term && a->type == b->type && a->bytes == b->bytes &&
		    (a->type != RC_ENTRY_NORMAL || a->ref == b->ref))
			continue;
		rc_checker_fail(&s->checker,
				"disk-recovery: n%u recovered t%" PRIu64 " ref %" PRIu64
				" at index %" PRIu64 ", its writes left t%" PRIu64 " ref %" PRIu64,
				id, a->term, a->ref, i, b->term, b->ref);
		return false;
	}
	return true;
}

/*
 * Recovers node id's hard state and log from its image into rp and s->recovered with
 * rc_wal_recover_image(), and zeroes what recovery dropped (a write that never finished).
 * Returns 0, or -EBADMSG when the image is corrupt (nothing changed; *res says where and why).
 */
static int
disk_recover(struct rc_sim *s, uint16_t id, struct rc_wal_image_result *res)
{
	struct sim_disk *d = &sim_node(s, id)->disk;
	struct sim_recovery r = { .log = s->recovered, .last = 0 };
	int rc = rc_wal_recover_image(d->image, d->image_high, disk_on_entry, &r, res);

	RC_ASSERT(rc != -ECANCELED); /* the sim's logs stay far below RC_LOG_ENTRIES_MAX */
	if (rc != 0)
		return rc;
	RC_ASSERT(r.last >= res->replay.synced_last); /* entries past it were dropped */
	if (res->keep_bytes < d->image_high) {
		sim_trace(s,
			  "n%u recovery drops %" PRIu64 " bytes (%" PRIu64
			  " entries) after its last SYNC record: %s at offset %" PRIu64,
			  id, d->image_high - res->keep_bytes, res->dropped_entries,
			  rc_wal_strerror(res->status), res->stop_offset);
		memset(d->image + res->keep_bytes, 0, d->image_high - res->keep_bytes);
	}
	d->image_bytes = res->keep_bytes;
	d->image_high = res->keep_bytes;
	return 0;
}

/* Acknowledges the proposal behind entry e when node id is the leader it was given to, and
 * completes the key-value write it carries with result. */
static void
client_on_apply(struct rc_sim *s, uint16_t id, uint64_t index, const struct rc_raft_entry *e,
		enum rc_kv_result result)
{
	struct sim_proposal *p;

	if (e->type != RC_ENTRY_NORMAL || e->ref == 0 || e->ref > s->proposal_count)
		return;
	p = &s->proposals[e->ref - 1];
	if (p->acked || p->node != id || p->epoch != sim_node(s, id)->epoch || p->index != index)
		return;
	p->acked = true;
	s->stats.acknowledged++;
	if (index > s->acked_index_max)
		s->acked_index_max = index;
	if (p->kv_rec != 0)
		kv_on_write_acked(s, (uint32_t)e->ref, result);
}

/* Applies the update's committed range to node id's state machine (its key-value map too),
 * then completes the reads that waited for it. */
static void
node_apply(struct rc_sim *s, uint16_t id)
{
	struct sim_node *n = sim_node(s, id);
	uint64_t i;

	for (i = s->update.apply_first; i <= s->update.apply_last; i++) {
		const struct rc_raft_entry *e;
		enum rc_kv_result result;

		rc_checker_on_apply(&s->checker, id, i);
		if (s->checker.violated)
			return;
		e = rc_raft_entry_at(n->raft, i);
		result = kv_apply_entry(s, id, e);
		n->applied_index = i;
		n->applied_count++;
		client_on_apply(s, id, i, e, result);
		kv_on_apply_index(s, id, i, e);
	}
	kv_on_applied(s, id);
}

/* Traces role, term and commit changes of node id. */
static void
node_trace_state(struct rc_sim *s, uint16_t id)
{
	struct sim_node *n = sim_node(s, id);
	const struct rc_raft *r = n->raft;

	if (r->role != n->seen_role || r->term != n->seen_term)
		sim_trace(s, "n%u role %s t%" PRIu64, id, rc_raft_role_name(r->role), r->term);
	if (r->commit != n->seen_commit)
		sim_trace(s, "n%u commit %" PRIu64, id, r->commit);
	n->seen_role = r->role;
	n->seen_term = r->term;
	n->seen_commit = r->commit;
}

/* Executes the update of node id's batch (raft.h's loop, steps 2 to 5); returns apply_last, or
 * 0 when nothing was applied. */
static uint64_t
node_execute_once(struct rc_sim *s, uint16_t id)
{
	struct rc_raft_update *u = &s->update;
	uint32_t i;

	/* The checkers compare whole logs: a world stays below the core's compaction point. */
	RC_ASSERT(sim_node(s, id)->raft->snap_index == 0);
	rc_checker_batch_end(&s->checker, id, u);
	if (s->checker.violated)
		return 0;
	if (++s->updates % SIM_FULL_CHECK_UPDATES == 0)
		rc_checker_full(&s->checker);
	node_trace_state(s, id);
	if ((u->flags & (RC_UPDATE_HARD_STATE | RC_UPDATE_ENTRIES)) || u->msg_after_persist_count)
		disk_enqueue(s, id);
	for (i = 0; i < u->msg_count; i++) {
		uint32_t idx = net_encode(s, id, &u->msgs[i]);

		if (idx != SIM_NONE)
			net_transmit(s, idx, false);
	}
	if (u->flags & RC_UPDATE_APPLY)
		node_apply(s, id);
	if (s->checker.violated)
		return 0;
	if (u->flags & RC_UPDATE_READS)
		kv_on_reads(s, id);
	return (u->flags & RC_UPDATE_APPLY) ? u->apply_last : 0;
}

/* Executes node id's update, then reports what was applied (RC_EVENT_APPLIED) until the core
 * has nothing more to apply. */
static void
node_execute(struct rc_sim *s, uint16_t id)
{
	uint64_t applied = node_execute_once(s, id);

	while (applied != 0) {
		struct rc_raft_event ev = { .type = RC_EVENT_APPLIED };

		ev.applied.index = applied;
		node_begin(s, id);
		node_step(s, id, &ev);
		applied = node_execute_once(s, id);
	}
}

/*
 * Node id's image is corrupt: after a bit flip, the node refuses it and stays down for good
 * (dead); without one, the disk's own records are refused, a violation. Returns false on one.
 */
static bool
node_refuse(struct rc_sim *s, uint16_t id, const struct rc_wal_image_result *res)
{
	struct sim_node *n = sim_node(s, id);

	if (!n->flipped) {
		rc_checker_fail(&s->checker,
				"restart: n%u refused its own disk: offset %" PRIu64
				": %s, and durable records follow",
				id, res->stop_offset, rc_wal_strerror(res->status));
		return false;
	}
	n->dead = true;
	s->stats.refused++;
	sim_trace(s,
		  "restart n%u refused: its log is corrupt at offset %" PRIu64
		  " (%s) and durable records follow; n%u stays down for the rest of the world",
		  id, res->stop_offset, rc_wal_strerror(res->status), id);
	return true;
}

/*
 * Creates or re-creates node id's core from what recovery reads in its disk image, then checks
 * its start (checker) and the recovery against the finished writes (disk-recovery). A corrupt
 * image leaves the node down (node_refuse()). Returns false on a violation.
 */
static bool
node_boot(struct rc_sim *s, uint16_t id)
{
	struct sim_node *n = sim_node(s, id);
	struct rc_wal_image_result res;
	const struct rc_wal_replay *rp = &res.replay;
	int rc;

	RC_ASSERT(!n->up && !n->dead);
	if (disk_recover(s, id, &res) != 0)
		return node_refuse(s, id, &res);
	n->flipped = false;
	n->cfg.seed = n->seed + (uint64_t)n->epoch * 0x9e3779b97f4a7c15ull;
	rc = rc_raft_init(n->raft, &n->cfg, rp->syncs > 0 ? &rp->hs : NULL,
			  rp->synced_last > 0 ? &s->recovered[1] : NULL, 1, rp->synced_last);
	if (rc != 0) {
		rc_checker_fail(&s->checker,
				"restart: n%u refused its own disk (rc_raft_init %d): term %" PRIu64
				" vote %u log 1..%" PRIu64,
				id, rc, rp->hs.term, rp->hs.vote, rp->synced_last);
		return false;
	}
	n->up = true;
	n->applied_index = n->raft->applied;
	n->applied_count = 0;
	/* The core applies from index 1 again after rc_raft_init(): so does the map. */
	RC_ASSERT(n->applied_index == 0);
	memset(&n->kv, 0, sizeof(n->kv));
	n->seen_role = n->raft->role;
	n->seen_term = n->raft->term;
	n->seen_commit = n->raft->commit;
	rc_checker_on_start(&s->checker, id);
	return !s->checker.violated && disk_check_recovered(s, id, rp);
}

/* ---- Faults, client and clock -------------------------------------------------------------- */

/*
 * Crashes node id (up): volatile state, pending writes and their frames are lost. In a seeded
 * world the crash may tear the write in progress (may_tear: not when it failed) and flip a bit
 * of a durable record.
 */
static void
node_crash(struct rc_sim *s, uint16_t id, bool may_tear)
{
	struct sim_node *n = sim_node(s, id);
	struct sim_disk *d = &n->disk;

	RC_ASSERT(n->up);
	sim_trace(s, "crash n%u (t%" PRIu64 " %s, disk log %" PRIu64 ", %u writes lost)", id,
		  n->raft->term, rc_raft_role_name(n->raft->role), d->last_index, d->op_count);
	if (may_tear && s->faults_on && d->op_count > 0 && disk_op_writes(&d->ops[d->op_head]) &&
	    sim_chance(s, s->p.torn_per_million))
		disk_tear(s, id, sim_between(s, 1, disk_op_bytes(d, &d->ops[d->op_head]) - 1));
	n->up = false;
	n->epoch++;
	if (s->faults_on && sim_chance(s, s->p.flip_per_million) && sim_may_flip(s, id))
		disk_flip_random(s, id);
	disk_lose_pending(s, id);
	kv_on_crash(s, id);
	rc_checker_on_crash(&s->checker, id);
	s->stats.crashes++;
}

/* Crashes node id: volatile state, pending writes and their frames are lost. */
void
rc_sim_crash(struct rc_sim *s, uint16_t id)
{
	if (sim_node(s, id)->up)
		node_crash(s, id, true);
}

/* Crashes node id with landed bytes of its write in progress on the disk; see sim.h. */
void
rc_sim_crash_torn(struct rc_sim *s, uint16_t id, uint64_t landed)
{
	struct sim_disk *d = &sim_node(s, id)->disk;

	if (!sim_node(s, id)->up)
		return;
	if (d->op_count > 0 && disk_op_writes(&d->ops[d->op_head]))
		disk_tear(s, id, landed);
	node_crash(s, id, false);
}

/* Flips a bit of node id's image (down); see sim.h. */
void
rc_sim_disk_flip(struct rc_sim *s, uint16_t id, uint64_t byte, uint8_t bit)
{
	disk_flip(s, id, byte, bit, "scripted");
}

/* The next write of node id to finish fails; see sim.h. */
void
rc_sim_disk_fail_next(struct rc_sim *s, uint16_t id)
{
	sim_node(s, id)->disk.fail_next = true;
}

/* Restarts node id from its disk. Returns false on a violation. */
bool
rc_sim_restart(struct rc_sim *s, uint16_t id)
{
	struct sim_node *n = sim_node(s, id);

	if (n->up || n->dead)
		return !s->checker.violated;
	if (!node_boot(s, id))
		return false;
	if (n->dead)
		return true;
	sim_trace(s, "restart n%u (t%" PRIu64 " vote %u, log %" PRIu64 ", commit %" PRIu64 ")", id,
		  n->raft->term, n->raft->vote, n->raft->last_index, n->raft->commit);
	return true;
}

/* The up leader with the highest term, 0 when none. */
uint16_t
rc_sim_leader(const struct rc_sim *s)
{
	uint16_t best = 0;
	uint64_t term = 0;
	uint16_t id;

	for (id = 1; id <= s->node_count; id++) {
		const struct sim_node *n = &s->nodes[id - 1];

		if (n->up && n->raft->role == RC_ROLE_LEADER && n->raft->term >= term) {
			best = id;
			term = n->raft->term;
		}
	}
	return best;
}

/* A random up leader (stale ones included: proposals to them must never be acknowledged
 * wrongly), 0 when none. */
static uint16_t
sim_any_leader(struct rc_sim *s)
{
	uint16_t ids[RC_NODES_MAX];
	uint16_t count = 0;
	uint16_t id;

	for (id = 1; id <= s->node_count; id++) {
		const struct sim_node *n = sim_node(s, id);

		if (n->up && n->raft->role == RC_ROLE_LEADER)
			ids[count++] = id;
	}
	return count == 0 ? 0 : ids[rc_prng_below(&s->prng, count)];
}

/* Proposes count fresh entries to node id (up), carrying key-value record kv_rec - 1 when
 * kv_rec is not 0. Returns how many it accepted. */
static uint32_t
sim_propose_to(struct rc_sim *s, uint16_t id, uint32_t count, uint64_t *first_index,
	       uint32_t kv_rec)
{
	struct rc_raft_event ev = { .type = RC_EVENT_PROPOSE };
	uint32_t first_ref = s->proposal_count + 1;
	uint32_t accepted;
	uint32_t i;

	RC_ASSERT(count >= 1 && count <= RC_PROPOSE_ENTRIES_MAX);
	if (s->proposal_count + count > SIM_PROPOSALS_CAP)
		return 0;
	for (i = 0; i < count; i++) {
		s->propose_entries[i] = (struct rc_raft_entry){ .ref = first_ref + i,
								.bytes = 8,
								.type = RC_ENTRY_NORMAL };
		s->proposals[first_ref - 1 + i] = (struct sim_proposal){ .node = id,
									 .kv_rec = kv_rec };
	}
	s->proposal_count += count;
	ev.propose.entries = s->propose_entries;
	ev.propose.count = count;
	node_begin(s, id);
	node_step(s, id, &ev);
	accepted = (s->update.flags & RC_UPDATE_PROPOSED) ? s->update.propose_accepted : 0;
	RC_ASSERT(accepted <= count);
	for (i = 0; i < accepted; i++) {
		s->proposals[first_ref - 1 + i].index = s->update.propose_first + i;
		s->proposals[first_ref - 1 + i].epoch = sim_node(s, id)->epoch;
		s->proposals[first_ref - 1 + i].term = s->update.propose_term;
	}
	if (first_index != NULL)
		*first_index = accepted > 0 ? s->update.propose_first : 0;
	s->stats.proposed += accepted;
	sim_trace(s, "n%u propose refs %u..%u: %u accepted at %" PRIu64 " t%" PRIu64, id, first_ref,
		  first_ref + count - 1, accepted, accepted ? s->update.propose_first : 0,
		  accepted ? s->update.propose_term : 0);
	node_execute(s, id);
	return accepted;
}

/* The client: a batch of 1..4 entries to some leader, then the next visit. */
static void
sim_on_client(struct rc_sim *s)
{
	uint16_t id;
	uint32_t count;

	if (!s->client_on || s->client_entries >= RC_SIM_PROPOSALS_MAX)
		return;
	id = sim_any_leader(s);
	if (id != 0) {
		count = (uint32_t)sim_between(s, 1, 4);
		if (count > RC_SIM_PROPOSALS_MAX - s->client_entries)
			count = RC_SIM_PROPOSALS_MAX - s->client_entries;
		s->client_entries += count;
		sim_propose_to(s, id, count, NULL, 0);
	}
	sim_schedule(s, s->now + sim_between(s, s->p.client_gap_min, s->p.client_gap_max),
		     SIM_EV_CLIENT, 0, 0);
}

/* ---- Key-value clients --------------------------------------------------------------------- */

/* Clock units of n base election timeouts. */
static uint64_t
kv_timeout_units(const struct rc_sim *s, uint32_t n)
{
	return (uint64_t)n * s->nodes[0].cfg.election_ticks * RC_SIM_TICK_UNITS;
}

/* The name of a record's operation in the history format. */
static const char *
kv_op_name(uint8_t op)
{
	return op == RC_KV_PUT ? "put" : op == RC_KV_CAS ? "cas" : "get";
}

/* Describes record rec for the trace: "put(k1, c2-5)", "cas(k1, c1-2 -> c2-5)", "get(k1) ->
 * c1-2" once a get has its value. */
static void
kv_rec_text(const struct sim_kv_rec *rec, char *buf, size_t size)
{
	const char *expect = rec->expect_absent ? "(missing)" : rec->expect;
	const char *got = rec->value_absent ? "(missing)" : rec->value;

	if (rec->op == RC_KV_PUT)
		snprintf(buf, size, "put(k%u, %s)", rec->key, rec->value);
	else if (rec->op == RC_KV_CAS)
		snprintf(buf, size, "cas(k%u, %s -> %s)", rec->key, expect, rec->value);
	else if (rec->outcome == SIM_KV_OK)
		snprintf(buf, size, "get(k%u) -> %s", rec->key, got);
	else
		snprintf(buf, size, "get(k%u)", rec->key);
}

/* Traces a step of client c's operation: "client 2 put(k1, c2-5): " and the text of fmt. */
__attribute__((format(printf, 3, 4))) static void
kv_trace(struct rc_sim *s, const struct sim_kv_client *c, const char *fmt, ...)
{
	const struct sim_kv_rec *rec = &s->kv_recs[c->rec];
	char what[3 * SIM_KV_TEXT_BYTES + 16];
	char text[160];
	va_list ap;

	if (s->trace == NULL)
		return;
	kv_rec_text(rec, what, sizeof(what));
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	sim_trace(s, "client %u %s: %s", rec->client, what, text);
}

/* Ends client c's operation with outcome (returning now when OK or FAILED); the next one
 * starts after a seeded pause. */
static void
kv_finish(struct rc_sim *s, struct sim_kv_client *c, uint8_t outcome)
{
	struct sim_kv_rec *rec = &s->kv_recs[c->rec];
	static const char *const names[] = { "pending", "ok", "failed", "unknown", "left out" };

	RC_ASSERT(c->phase != SIM_KV_IDLE && rec->outcome == SIM_KV_PENDING);
	RC_ASSERT(outcome != SIM_KV_PENDING && outcome <= SIM_KV_LEFT_OUT);
	RC_ASSERT(outcome != SIM_KV_UNKNOWN || rec->appended);
	rec->outcome = outcome;
	rec->ret = s->now;
	kv_trace(s, c, "%s", names[outcome]);
	c->phase = SIM_KV_IDLE;
	c->rec = SIM_NONE;
	c->next_time = s->now + sim_between(s, 0, 20);
}

/* Client c notes the value (or absence) of key it just read or wrote. */
static void
kv_client_saw(struct sim_kv_client *c, uint8_t key, bool absent, const char *value)
{
	c->seen[key] = true;
	c->seen_absent[key] = absent;
	if (!absent)
		snprintf(c->seen_value[key], SIM_KV_TEXT_BYTES, "%s", value);
}

/* Completes client c's GET with the value node id's map holds now. */
static void
kv_finish_get(struct rc_sim *s, struct sim_kv_client *c, uint16_t id)
{
	struct sim_kv_rec *rec = &s->kv_recs[c->rec];
	const struct sim_kv_map *m = &sim_node(s, id)->kv;

	rec->value_absent = !m->present[rec->key];
	if (m->present[rec->key])
		memcpy(rec->value, m->value[rec->key], SIM_KV_TEXT_BYTES);
	kv_client_saw(c, rec->key, rec->value_absent, rec->value);
	kv_finish(s, c, SIM_KV_OK);
}

/* Attempt of client c at node id failed with no effect: it tries again a little later at the
 * leader id names, or at the next node when id names none (or is down). */
static void
kv_retry(struct rc_sim *s, struct sim_kv_client *c, uint16_t id)
{
	const struct sim_node *n = sim_node(s, id);
	uint16_t hint = n->up ? n->raft->leader : 0;

	c->target = hint != 0 && hint != id ? hint : (uint16_t)(id % s->node_count + 1);
	kv_trace(s, c, "n%u %s, next try at n%u", id, n->up ? "refuses" : "is down", c->target);
	c->phase = SIM_KV_RETRY;
	c->next_time = s->now + sim_between(s, 2, 10);
}

/* A write of record ref's proposal was applied by the leader that took it, with result. */
static void
kv_on_write_acked(struct rc_sim *s, uint32_t ref, enum rc_kv_result result)
{
	uint32_t r = s->proposals[ref - 1].kv_rec - 1;
	struct sim_kv_rec *rec = &s->kv_recs[r];
	struct sim_kv_client *c = &s->kv_clients[rec->client - 1];

	if (c->rec != r || c->phase != SIM_KV_WRITE_WAIT || c->ref != ref)
		return; /* the client gave up on it: it stays of unknown outcome */
	if (result == RC_KV_OK)
		kv_client_saw(c, rec->key, false, rec->value);
	kv_finish(s, c, result == RC_KV_OK ? SIM_KV_OK : SIM_KV_FAILED);
}

/*
 * Node id applied entry e at index: a write it appended at that index in this life whose entry
 * is not e was cut from its log and can never commit (a committed index holds one entry, and a
 * proposal is appended at one index only). The node knows, so the client learns the write had
 * no effect: a put fails, a cas is left out of the history.
 */
static void
kv_on_apply_index(struct rc_sim *s, uint16_t id, uint64_t index, const struct rc_raft_entry *e)
{
	for (uint16_t i = 0; i < s->cfg.kv_clients; i++) {
		struct sim_kv_client *c = &s->kv_clients[i];
		const struct sim_proposal *p;

		if (c->phase != SIM_KV_WRITE_WAIT || c->node != id ||
		    c->epoch != sim_node(s, id)->epoch)
			continue;
		p = &s->proposals[c->ref - 1];
		if (p->index != index || e->ref == c->ref)
			continue;
		kv_trace(s, c, "n%u applied another entry at %" PRIu64 ": ref %u was cut", id,
			 index, c->ref);
		kv_give_up(s, c);
	}
}

/* Completes the GET of client c if its node applied its read index in the same life. */
static void
kv_read_try_finish(struct rc_sim *s, struct sim_kv_client *c)
{
	const struct sim_node *n = sim_node(s, c->node);

	if (n->up && n->epoch == c->epoch && n->applied_index >= c->read_index)
		kv_finish_get(s, c, c->node);
}

/* Node id applied more: the reads waiting on it may complete. */
static void
kv_on_applied(struct rc_sim *s, uint16_t id)
{
	for (uint16_t i = 0; i < s->cfg.kv_clients; i++) {
		struct sim_kv_client *c = &s->kv_clients[i];

		if (c->phase == SIM_KV_READ_APPLY && c->node == id)
			kv_read_try_finish(s, c);
	}
}

/* Takes the answers to reads in node id's update: a read index to wait for, or a retry. */
static void
kv_on_reads(struct rc_sim *s, uint16_t id)
{
	for (uint32_t i = 0; i < s->update.read_count; i++) {
		const struct rc_raft_read *a = &s->update.reads[i];
		uint64_t ci = a->ctx & 0xffu;
		struct sim_kv_client *c;

		if (ci >= s->cfg.kv_clients)
			continue;
		c = &s->kv_clients[ci];
		if (c->phase != SIM_KV_READ_WAIT || c->read_ctx != a->ctx || c->node != id)
			continue; /* an attempt the client gave up */
		if (a->status == RC_READ_OK)
			kv_trace(s, c, "n%u read index %" PRIu64 ", applied %" PRIu64, id, a->index,
				 sim_node(s, id)->applied_index);
		else
			kv_trace(s, c, "n%u answers %s", id,
				 a->status == RC_READ_NOT_LEADER ? "not-leader" :
				 a->status == RC_READ_DROPPED	 ? "dropped" :
								   "busy");
		if (a->status != RC_READ_OK) {
			kv_retry(s, c, id);
			continue;
		}
		c->phase = SIM_KV_READ_APPLY;
		c->read_index = a->index;
		s->kv_recs[c->rec].at_once = s->kv_asking == ci + 1;
		kv_read_try_finish(s, c);
	}
}

/* Node id crashed: writes it appended become unknown, reads it held go elsewhere. */
static void
kv_on_crash(struct rc_sim *s, uint16_t id)
{
	for (uint16_t i = 0; i < s->cfg.kv_clients; i++) {
		struct sim_kv_client *c = &s->kv_clients[i];

		if (c->node != id)
			continue;
		if (c->phase == SIM_KV_WRITE_WAIT)
			kv_finish(s, c, SIM_KV_UNKNOWN);
		else if (c->phase == SIM_KV_READ_WAIT || c->phase == SIM_KV_READ_APPLY)
			kv_retry(s, c, id);
	}
}

/* The planted stale read: client c's GET reads the map of the node it asks (up) at once, with
 * no read index: a follower, or a deposed leader behind a partition, answers what it applied. */
static void
kv_stale_get(struct rc_sim *s, struct sim_kv_client *c)
{
	c->node = c->target;
	c->epoch = sim_node(s, c->target)->epoch;
	kv_trace(s, c, "n%u answers from its map (stale reads planted)", c->target);
	kv_finish_get(s, c, c->target);
}

/* Asks node id (up) for a read index for client ci's GET (a lease read with lease_reads); the
 * answer comes in an update, maybe the very one of this step. */
static void
kv_ask_read(struct rc_sim *s, uint32_t ci, uint16_t id)
{
	struct sim_kv_client *c = &s->kv_clients[ci];
	struct rc_raft_event ev = { .type = RC_EVENT_READ_INDEX };

	c->phase = SIM_KV_READ_WAIT;
	c->node = id;
	c->epoch = sim_node(s, id)->epoch;
	c->read_ctx = ((uint64_t)++c->attempts << 8) | ci;
	c->attempt_deadline = s->now + kv_timeout_units(s, SIM_KV_READ_WAIT_TIMEOUTS);
	ev.read.ctx = c->read_ctx;
	ev.read.flags = s->cfg.lease_reads ? RC_READ_LEASE : 0;
	kv_trace(s, c, "ask n%u for a read index", id);
	s->kv_asking = ci + 1;
	node_event(s, id, &ev);
	s->kv_asking = 0;
}

/* Proposes client c's write to node id (an up leader). */
static void
kv_propose(struct rc_sim *s, struct sim_kv_client *c, uint16_t id)
{
	struct sim_kv_rec *rec = &s->kv_recs[c->rec];

	c->phase = SIM_KV_WRITE_WAIT;
	c->node = id;
	c->epoch = sim_node(s, id)->epoch;
	c->ref = s->proposal_count + 1;
	c->attempt_deadline = s->now + kv_timeout_units(s, SIM_KV_WRITE_WAIT_TIMEOUTS);
	kv_trace(s, c, "propose to n%u as ref %u", id, c->ref);
	if (sim_propose_to(s, id, 1, NULL, c->rec + 1) == 1)
		rec->appended = true;
	else if (c->phase == SIM_KV_WRITE_WAIT)
		kv_retry(s, c, id);
}

/* One attempt of client ci's operation at the node it believes leads. */
static void
kv_attempt(struct rc_sim *s, uint32_t ci)
{
	struct sim_kv_client *c = &s->kv_clients[ci];
	const struct sim_kv_rec *rec = &s->kv_recs[c->rec];
	const struct sim_node *n = sim_node(s, c->target);

	if (!n->up)
		kv_retry(s, c, c->target); /* connection refused */
	else if (rec->op == SIM_KV_GET && s->cfg.kv_stale_reads)
		kv_stale_get(s, c);
	else if (rec->op == SIM_KV_GET)
		kv_ask_read(s, ci, c->target);
	else if (n->raft->role != RC_ROLE_LEADER)
		kv_retry(s, c, c->target); /* "not the leader", before any step */
	else
		kv_propose(s, c, c->target);
}

/* Starts a new operation of client ci: a GET, PUT or CAS of a random key, then its first
 * attempt. A CAS expects the value the client saw last (or, sometimes, the key missing). */
static void
kv_start(struct rc_sim *s, uint32_t ci)
{
	struct sim_kv_client *c = &s->kv_clients[ci];
	struct sim_kv_rec *rec = &s->kv_recs[s->kv_rec_count];
	uint32_t pick = (uint32_t)rc_prng_below(&s->prng, 100);
	char key[SIM_KV_TEXT_BYTES];

	RC_ASSERT(s->kv_rec_count < RC_SIM_KV_OPS_MAX);
	memset(rec, 0, sizeof(*rec));
	rec->call = s->now;
	rec->client = (uint16_t)(ci + 1);
	rec->op = pick < 40 ? SIM_KV_GET : pick < 75 ? RC_KV_PUT : RC_KV_CAS;
	rec->key = (uint8_t)rc_prng_below(&s->prng, s->cfg.kv_clients > SIM_KV_KEYS_MIN ?
							    s->cfg.kv_clients :
							    SIM_KV_KEYS_MIN);
	snprintf(key, sizeof(key), "k%u", rec->key);
	if (rec->op != SIM_KV_GET)
		snprintf(rec->value, sizeof(rec->value), "c%u-%u", ci + 1, ++c->writes);
	if (rec->op == RC_KV_CAS) {
		rec->expect_absent = !c->seen[rec->key] || c->seen_absent[rec->key] ||
				     sim_chance(s, 250000);
		if (!rec->expect_absent)
			memcpy(rec->expect, c->seen_value[rec->key], SIM_KV_TEXT_BYTES);
	}
	if (rec->op != SIM_KV_GET)
		rec->cmd_bytes = kv_cmd_encode(rec->cmd, rec->op, key, rec->expect,
					       rec->expect_absent, rec->value);
	c->rec = s->kv_rec_count++;
	c->phase = SIM_KV_RETRY;
	c->op_deadline = s->now + kv_timeout_units(s, SIM_KV_OP_TIMEOUTS);
	kv_trace(s, c, "call");
	kv_attempt(s, ci);
}

/* Client c ends an operation known to have had no effect: a put or get failed, a cas is left
 * out of the history ("ok":false would say that it compared unequal). */
static void
kv_give_up(struct rc_sim *s, struct sim_kv_client *c)
{
	kv_finish(s, c, s->kv_recs[c->rec].op == RC_KV_CAS ? SIM_KV_LEFT_OUT : SIM_KV_FAILED);
}

/* The periodic visit of client ci: starts an operation, retries one, or gives up on one whose
 * time ran out (a write appended is then of unknown outcome; a read tries elsewhere). */
static void
kv_on_poll(struct rc_sim *s, uint32_t ci)
{
	struct sim_kv_client *c = &s->kv_clients[ci];

	RC_ASSERT(ci < s->cfg.kv_clients);
	sim_schedule(s, s->now + SIM_KV_POLL_UNITS, SIM_EV_KV, 0, ci);
	switch (c->phase) {
	case SIM_KV_IDLE:
		if (s->kv_on && s->now >= c->next_time && s->kv_rec_count < RC_SIM_KV_OPS_MAX)
			kv_start(s, ci);
		break;
	case SIM_KV_RETRY:
		if (s->now >= c->op_deadline)
			kv_give_up(s, c);
		else if (s->now >= c->next_time)
			kv_attempt(s, ci);
		break;
	case SIM_KV_WRITE_WAIT:
		if (s->now >= c->attempt_deadline)
			kv_finish(s, c, SIM_KV_UNKNOWN);
		break;
	default:
		if (s->now >= c->attempt_deadline)
			kv_retry(s, c, c->node);
		break;
	}
}

/* Resets the key-value clients of a new world and schedules their first visits. Draws nothing
 * from the PRNG without clients, so that worlds without them stay as they were. */
static void
kv_start_clients(struct rc_sim *s)
{
	s->kv_rec_count = 0;
	s->kv_asking = 0;
	s->kv_on = s->cfg.kv_clients > 0;
	memset(s->kv_clients, 0, sizeof(s->kv_clients));
	for (uint32_t ci = 0; ci < s->cfg.kv_clients; ci++) {
		struct sim_kv_client *c = &s->kv_clients[ci];

		c->rec = SIM_NONE;
		c->target = (uint16_t)sim_between(s, 1, s->node_count);
		sim_schedule(s, sim_between(s, 1, 100), SIM_EV_KV, 0, ci);
	}
}

/* Seeded fault: heal the partition, or split the cluster (often isolating the leader). */
static void
sim_fault_partition(struct rc_sim *s)
{
	uint32_t all = ((1u << s->node_count) - 1) << 1;
	uint16_t leader = rc_sim_leader(s);

	if (s->node_count < 2)
		return;
	if (s->group_mask != 0 && sim_chance(s, 600000)) {
		rc_sim_heal(s);
		return;
	}
	if (leader != 0 && sim_chance(s, 400000)) {
		rc_sim_isolate(s, leader);
		return;
	}
	rc_sim_partition(s, ((uint32_t)sim_between(s, 1, (1u << s->node_count) - 2) << 1) & all);
}

/* Seeded fault: clear the one-way cuts, or cut one more link (often around the leader). */
static void
sim_fault_oneway(struct rc_sim *s)
{
	uint16_t from;
	uint16_t to;
	uint16_t leader = rc_sim_leader(s);
	uint32_t any = 0;

	if (s->node_count < 2)
		return;
	for (from = 1; from <= s->node_count; from++)
		any |= s->cut_to[from];
	if (any != 0 && sim_chance(s, 400000)) {
		memset(s->cut_to, 0, sizeof(s->cut_to));
		sim_trace(s, "one-way cuts healed");
		return;
	}
	from = (uint16_t)sim_between(s, 1, s->node_count);
	if (leader != 0 && sim_chance(s, 500000))
		from = leader;
	to = (uint16_t)sim_between(s, 1, s->node_count - 1u);
	if (to >= from)
		to++;
	if (sim_chance(s, 500000)) {
		uint16_t t = from;

		from = to;
		to = t;
	}
	rc_sim_cut(s, from, to);
}

/* Crashes node id (up) unless too many are down (sim_may_take_down()), and schedules its
 * restart. */
static void
sim_crash_for_a_while(struct rc_sim *s, uint16_t id)
{
	uint64_t down = sim_between(s, 20, s->p.down_max);

	if (!sim_may_take_down(s) || !sim_node(s, id)->up)
		return;
	rc_sim_crash(s, id);
	sim_schedule(s, s->now + down, SIM_EV_RESTART, id, sim_node(s, id)->epoch);
}

/* Seeded fault: crash a node (often the leader) and schedule its restart. */
static void
sim_fault_crash(struct rc_sim *s)
{
	uint16_t leader = rc_sim_leader(s);
	uint16_t id = (uint16_t)sim_between(s, 1, s->node_count);

	if (leader != 0 && sim_chance(s, 300000))
		id = leader;
	sim_crash_for_a_while(s, id);
}

/* The fault process: one seeded action among the enabled classes, then the next visit. */
static void
sim_on_fault(struct rc_sim *s)
{
	uint32_t total = s->p.fault_weight[0] + s->p.fault_weight[1] + s->p.fault_weight[2];
	uint32_t pick;

	if (!s->faults_on || total == 0)
		return;
	pick = (uint32_t)rc_prng_below(&s->prng, total);
	if (pick < s->p.fault_weight[0])
		sim_fault_partition(s);
	else if (pick < s->p.fault_weight[0] + s->p.fault_weight[1])
		sim_fault_oneway(s);
	else
		sim_fault_crash(s);
	sim_schedule(s, s->now + sim_between(s, s->p.fault_gap_min, s->p.fault_gap_max),
		     SIM_EV_FAULT, 0, 0);
}

/* A tick of node id (skewed period), and the next one. */
static void
sim_on_tick(struct rc_sim *s, uint16_t id)
{
	struct sim_node *n = sim_node(s, id);
	struct rc_raft_event ev = { .type = RC_EVENT_TICK };

	n->tick_centi += n->tick_period_centi;
	sim_schedule(s, n->tick_centi / SIM_CENTI, SIM_EV_TICK, id, 0);
	if (n->up)
		node_event(s, id, &ev);
}

/* Steps the delivery of packet idx on its receiver (already known up and reachable). */
static void
sim_deliver_step(struct rc_sim *s, uint32_t idx)
{
	struct rc_raft_event ev = { .type = RC_EVENT_RECEIVE };
	char text[160];

	net_decode(s, idx, &ev.msg);
	if (s->trace != NULL) {
		sim_msg_text(text, sizeof(text), &ev.msg);
		sim_trace(s, "n%u < n%u %s", ev.msg.to, ev.msg.from, text);
	}
	s->stats.msgs_delivered++;
	packet_free(s, idx);
	node_step(s, ev.msg.to, &ev);
}

/* True when packet idx must be dropped at arrival: receiver down or link cut. */
static bool
sim_deliver_lost(struct rc_sim *s, uint32_t idx)
{
	const struct sim_packet *pk = &s->packets[idx];

	if (sim_node(s, pk->to)->up && !net_blocked(s, pk->from, pk->to))
		return false;
	sim_trace(s, "n%u > n%u lost (%s)", pk->from, pk->to,
		  sim_node(s, pk->to)->up ? "link cut" : "receiver down");
	s->stats.msgs_dropped++;
	packet_free(s, idx);
	return true;
}

/* Delivers packet idx and, in the same update, the packets due to the same node now. */
static void
sim_on_deliver(struct rc_sim *s, uint32_t idx)
{
	uint16_t to = s->packets[idx].to;

	if (sim_deliver_lost(s, idx))
		return;
	if (disk_busy(s, to)) {
		sim_schedule(s, sim_node(s, to)->disk.ops[sim_node(s, to)->disk.op_head].done_time,
			     SIM_EV_DELIVER, to, idx);
		return;
	}
	node_begin(s, to);
	sim_deliver_step(s, idx);
	while (s->heap_count > 0 && s->heap[0].kind == SIM_EV_DELIVER &&
	       s->heap[0].time == s->now && s->heap[0].node == to &&
	       rc_raft_update_has_room(&s->update) && !s->checker.violated) {
		idx = sim_pop(s).arg;
		if (!sim_deliver_lost(s, idx))
			sim_deliver_step(s, idx);
	}
	if (!s->checker.violated)
		node_execute(s, to);
}

/* Handles one event. */
static void
sim_dispatch(struct rc_sim *s, const struct sim_event *ev)
{
	switch (ev->kind) {
	case SIM_EV_TICK:
		sim_on_tick(s, ev->node);
		break;
	case SIM_EV_DELIVER:
		sim_on_deliver(s, ev->arg);
		break;
	case SIM_EV_DISK:
		if (ev->arg == sim_node(s, ev->node)->epoch)
			disk_complete(s, ev->node);
		break;
	case SIM_EV_RESTART:
		if (ev->arg == sim_node(s, ev->node)->epoch)
			rc_sim_restart(s, ev->node);
		break;
	case SIM_EV_FAULT:
		sim_on_fault(s);
		break;
	case SIM_EV_CLIENT:
		sim_on_client(s);
		break;
	case SIM_EV_CRASH:
		if (s->faults_on && ev->arg == sim_node(s, ev->node)->epoch)
			sim_crash_for_a_while(s, ev->node);
		break;
	case SIM_EV_KV:
		kv_on_poll(s, ev->arg);
		break;
	default:
		RC_ASSERT(false);
	}
}

/* Runs events up to time end, stopping early when pred holds or on a violation. Returns true
 * when pred held. */
static bool
sim_run(struct rc_sim *s, uint64_t end, rc_sim_pred_fn pred, void *ctx)
{
	while (!s->checker.violated) {
		struct sim_event ev;

		if (pred != NULL && pred(s, ctx))
			return true;
		if (s->heap_count == 0 || s->heap[0].time > end)
			break;
		ev = sim_pop(s);
		s->now = ev.time;
		sim_dispatch(s, &ev);
	}
	if (!s->checker.violated && s->now < end)
		s->now = end;
	return false;
}

/* ---- World creation ------------------------------------------------------------------------ */

/* Draws the network and fault-process parameters of the world within the enabled classes. */
static void
sim_draw_params(struct rc_sim *s)
{
	struct sim_params *p = &s->p;
	uint32_t f = s->cfg.faults;

	memset(p, 0, sizeof(*p));
	p->delay_min = (uint32_t)sim_between(s, 1, 4);
	p->delay_max = p->delay_min + (uint32_t)sim_between(s, 4, 36);
	p->reorder = f & RC_SIM_FAULT_REORDER;
	if (p->reorder) {
		p->tail_per_million = (uint32_t)sim_between(s, 0, 30000);
		p->tail_max = (uint32_t)sim_between(s, 50, 400);
	}
	if (f & RC_SIM_FAULT_DROP)
		p->drop_per_million = (uint32_t)(sim_chance(s, 200000) ? sim_between(s, 0, 300000) :
									 sim_between(s, 0, 50000));
	if (f & RC_SIM_FAULT_DUP)
		p->dup_per_million = (uint32_t)sim_between(s, 0, 80000);
	p->fault_weight[0] = (f & RC_SIM_FAULT_PARTITION) ? (uint32_t)sim_between(s, 1, 4) : 0;
	p->fault_weight[1] = (f & RC_SIM_FAULT_ONEWAY) ? (uint32_t)sim_between(s, 1, 4) : 0;
	p->fault_weight[2] = (f & RC_SIM_FAULT_CRASH) ? (uint32_t)sim_between(s, 1, 4) : 0;
	p->fault_gap_min = (uint32_t)sim_between(s, 50, 400);
	p->fault_gap_max = p->fault_gap_min + (uint32_t)sim_between(s, 100, 2000);
	p->down_max = (uint32_t)sim_between(s, 100, 3000);
	if (f & RC_SIM_FAULT_CRASH)
		p->crash_write_per_million = (uint32_t)sim_between(s, 0, 20000);
	p->client_gap_min = (uint32_t)sim_between(s, 2, 40);
	p->client_gap_max = p->client_gap_min + (uint32_t)sim_between(s, 0, 200);
	/* Disk faults last, so that worlds without them draw as before. */
	if (f & RC_SIM_FAULT_TORN)
		p->torn_per_million = (uint32_t)sim_between(s, 0, 1000000);
	if ((f & RC_SIM_FAULT_BITFLIP) && sim_chance(s, 300000))
		p->flip_per_million = (uint32_t)sim_between(s, 20000, 300000);
	if ((f & RC_SIM_FAULT_EIO) && sim_chance(s, 300000))
		p->eio_per_million = (uint32_t)sim_between(s, 1, 500);
}

/* Draws the Raft configuration shared by the world's nodes, honouring the overrides; lease reads
 * force check-quorum on (after its draw, so the rest of the world stays the same). */
static void
sim_draw_raft(struct rc_sim *s, struct rc_raft_config *w)
{
	static const uint32_t entries[] = { 1, 2, 3, 8, 64 };
	const struct rc_sim_config *c = &s->cfg;

	w->election_ticks = c->election_ticks != 0 ? c->election_ticks :
						     RC_SIM_ELECTION_TICKS_DEFAULT;
	w->heartbeat_ticks = c->heartbeat_ticks != 0 ? c->heartbeat_ticks :
						       (uint32_t)sim_between(s, 2, 3);
	w->pre_vote = c->pre_vote >= 0 ? c->pre_vote != 0 : sim_chance(s, 800000);
	w->check_quorum = c->check_quorum >= 0 ? c->check_quorum != 0 : sim_chance(s, 800000);
	w->msg_entries_max = c->msg_entries_max != 0 ? c->msg_entries_max :
						       entries[rc_prng_below(&s->prng, 5)];
	w->inflight_msgs_max = c->inflight_msgs_max != 0 ? c->inflight_msgs_max :
							   (uint32_t)sim_between(s, 1, 16);
	w->lease_reads = c->lease_reads;
	w->lease_drift_ticks = 0;
	if (!c->lease_reads)
		return;
	w->check_quorum = true; /* the lease rests on check-quorum's lease on votes */
	w->lease_drift_ticks = c->lease_drift_ticks != 0 ? c->lease_drift_ticks :
							   rc_sim_lease_drift_ticks(c);
	RC_ASSERT(w->lease_drift_ticks >= 1 && w->lease_drift_ticks < w->election_ticks);
}

/* Gives node id its configuration (lease reads too), clock skew and disk speed. */
static void
sim_setup_node(struct rc_sim *s, uint16_t id, const struct rc_raft_config *w)
{
	struct sim_node *n = sim_node(s, id);
	uint16_t voters[RC_NODES_MAX];
	uint16_t i;

	for (i = 0; i < s->node_count; i++)
		voters[i] = (uint16_t)(i + 1);
	rc_raft_config_default(&n->cfg, id, voters, s->node_count);
	n->cfg.election_ticks = w->election_ticks;
	n->cfg.heartbeat_ticks = w->heartbeat_ticks;
	n->cfg.pre_vote = w->pre_vote;
	n->cfg.check_quorum = w->check_quorum;
	n->cfg.msg_entries_max = w->msg_entries_max;
	n->cfg.inflight_msgs_max = w->inflight_msgs_max;
	if (w->lease_reads) {
		n->cfg.lease_reads = true;
		n->cfg.lease_drift_ticks = w->lease_drift_ticks;
	}
	n->seed = rc_prng_next(&s->prng);
	n->tick_period_centi = RC_SIM_TICK_UNITS * SIM_CENTI;
	if (s->cfg.faults & RC_SIM_FAULT_SKEW)
		n->tick_period_centi = (uint32_t)sim_between(s, RC_SIM_SKEW_PERIOD_CENTI_MIN,
							     RC_SIM_SKEW_PERIOD_CENTI_MAX);
	/* The period never changes: rc_sim_lease_drift_ticks() counts on this range. */
	RC_ASSERT(n->tick_period_centi >= RC_SIM_SKEW_PERIOD_CENTI_MIN &&
		  n->tick_period_centi <= RC_SIM_SKEW_PERIOD_CENTI_MAX);
	n->tick_centi = SIM_CENTI + rc_prng_below(&s->prng, n->tick_period_centi);
	n->disk.latency_min = 1;
	n->disk.latency_max = 3;
	n->disk.stall_per_million = 0;
	if (s->cfg.faults & RC_SIM_FAULT_DISK) {
		n->disk.latency_min = (uint32_t)sim_between(s, 1, 10);
		n->disk.latency_max = n->disk.latency_min + (uint32_t)sim_between(s, 0, 60);
		n->disk.stall_per_million = (uint32_t)sim_between(s, 0, 20000);
	}
}

/* Empties node id's disk, network state and counters for a new world. */
static void
sim_clear_node(struct rc_sim *s, uint16_t id)
{
	struct sim_node *n = sim_node(s, id);

	memset(n->disk.image, 0, n->disk.image_high);
	n->disk.image_bytes = 0;
	n->disk.image_high = 0;
	n->disk.fail_next = false;
	memset(&n->disk.hs, 0, sizeof(n->disk.hs));
	n->disk.hs_written = false;
	n->disk.last_index = 0;
	n->disk.op_head = 0;
	n->disk.op_count = 0;
	n->disk.arena_head = 0;
	n->disk.arena_used = 0;
	n->disk.last_done = 0;
	n->up = false;
	n->dead = false;
	n->flipped = false;
	n->epoch = 0;
	n->frame_seq = 0;
	n->applied_index = 0;
	n->applied_count = 0;
}

/* Allocates the memory of nodes up to count (kept across worlds). Returns 0 or -ENOMEM. */
static int
sim_alloc_nodes(struct rc_sim *s, uint16_t count)
{
	while (s->nodes_allocated < count) {
		struct sim_node *n = &s->nodes[s->nodes_allocated];

		n->raft = aligned_alloc(64, (sizeof(struct rc_raft) + 63) & ~(size_t)63);
		n->disk.log = calloc(RC_LOG_ENTRIES_MAX, sizeof(n->disk.log[0]));
		n->disk.ops = calloc(SIM_DISK_OPS_MAX, sizeof(n->disk.ops[0]));
		n->disk.arena = calloc(SIM_DISK_ENTRIES_MAX, sizeof(n->disk.arena[0]));
		n->disk.image = calloc(SIM_DISK_IMAGE_BYTES, 1);
		s->nodes_allocated++;
		if (n->raft == NULL || n->disk.log == NULL || n->disk.ops == NULL ||
		    n->disk.arena == NULL || n->disk.image == NULL)
			return -ENOMEM;
	}
	return 0;
}

/* Returns the packet pool to its start: every packet free. */
static void
sim_clear_network(struct rc_sim *s)
{
	uint32_t i;

	for (i = 0; i < SIM_PACKETS_MAX; i++)
		s->packets[i].next = i + 1 < SIM_PACKETS_MAX ? i + 1 : SIM_NONE;
	s->free_head = 0;
	s->heap_count = 0;
	s->group_mask = 0;
	memset(s->cut_to, 0, sizeof(s->cut_to));
	memset(s->link_last, 0, sizeof(s->link_last));
}

/* Traces the world the seed drew. */
static void
sim_trace_world(struct rc_sim *s)
{
	const struct rc_raft_config *w = &s->nodes[0].cfg;

	sim_trace(s,
		  "world seed %" PRIu64 ": %u nodes, election %u heartbeat %u ticks, pre-vote %s, "
		  "check-quorum %s, %u entries/msg, window %u",
		  s->cfg.seed, s->node_count, w->election_ticks, w->heartbeat_ticks,
		  w->pre_vote ? "on" : "off", w->check_quorum ? "on" : "off", w->msg_entries_max,
		  w->inflight_msgs_max);
	sim_trace(s, "world network: delay %u..%u%s, tail %.1f%% up to %u, drop %.1f%%, dup %.1f%%",
		  s->p.delay_min, s->p.delay_max, s->p.reorder ? " reordered" : " fifo",
		  s->p.tail_per_million / 1e4, s->p.tail_max, s->p.drop_per_million / 1e4,
		  s->p.dup_per_million / 1e4);
	if (s->p.torn_per_million + s->p.flip_per_million + s->p.eio_per_million > 0)
		sim_trace(s,
			  "world disks: torn writes at %.1f%% of crashes, bit flips at %.1f%%, EIO "
			  "at %.3f%% of writes",
			  s->p.torn_per_million / 1e4, s->p.flip_per_million / 1e4,
			  s->p.eio_per_million / 1e4);
	if (w->lease_reads)
		sim_trace(s, "world leases: drift %u ticks (skew model needs %u), lease %u ticks",
			  w->lease_drift_ticks, rc_sim_lease_drift_ticks(&s->cfg),
			  w->election_ticks - w->lease_drift_ticks);
}

/* Checks the bounds of a configuration (lease reads: check-quorum not off, a drift bound the skew
 * model allows, an override below the election timeout). Returns true when usable. */
static bool
sim_config_ok(const struct rc_sim_config *c)
{
	uint32_t election_ticks = c->election_ticks != 0 ? c->election_ticks :
							   RC_SIM_ELECTION_TICKS_DEFAULT;

	if (c->nodes < 1 || c->nodes > RC_NODES_MAX || (c->faults & ~(uint32_t)RC_SIM_FAULT_ALL))
		return false;
	if (c->lease_reads && (c->check_quorum == 0 || rc_sim_lease_drift_ticks(c) == 0 ||
			       c->lease_drift_ticks >= election_ticks))
		return false;
	if (c->msg_entries_max > RC_MSG_ENTRIES_MAX ||
	    c->inflight_msgs_max > RC_INFLIGHT_MSGS_MAX || c->kv_clients > RC_SIM_KV_CLIENTS_MAX)
		return false;
	return rc_wire_append_bytes(c->msg_entries_max != 0 ? c->msg_entries_max : 64,
				    8ull * (c->msg_entries_max != 0 ? c->msg_entries_max : 64)) <=
	       SIM_FRAME_BYTES;
}

/* Boots every node and schedules the first ticks, faults and client visit. */
static int
sim_start(struct rc_sim *s)
{
	uint16_t id;

	for (id = 1; id <= s->node_count; id++) {
		if (!node_boot(s, id))
			return -1;
		sim_schedule(s, sim_node(s, id)->tick_centi / SIM_CENTI, SIM_EV_TICK, id, 0);
	}
	s->faults_on = s->cfg.faults != 0;
	s->client_on = s->cfg.client;
	if (s->p.fault_weight[0] + s->p.fault_weight[1] + s->p.fault_weight[2] != 0)
		sim_schedule(s, sim_between(s, s->p.fault_gap_min, s->p.fault_gap_max),
			     SIM_EV_FAULT, 0, 0);
	if (s->client_on)
		sim_schedule(s, sim_between(s, 50, 200), SIM_EV_CLIENT, 0, 0);
	kv_start_clients(s);
	return 0;
}

/* Starts a fresh world from *c in the memory of s. Returns 0, or -1 when out of bounds. */
int
rc_sim_reset(struct rc_sim *s, const struct rc_sim_config *c)
{
	struct rc_raft_config w;
	struct rc_raft *rafts[RC_NODES_MAX];
	uint16_t id;

	if (!sim_config_ok(c) || sim_alloc_nodes(s, c->nodes) != 0)
		return -1;
	s->cfg = *c;
	s->trace = c->trace;
	s->node_count = c->nodes;
	s->now = 0;
	s->event_seq = 0;
	s->proposal_count = 0;
	s->client_entries = 0;
	s->acked_index_max = 0;
	s->updates = 0;
	memset(&s->stats, 0, sizeof(s->stats));
	rc_prng_seed(&s->prng, c->seed);
	sim_clear_network(s);
	sim_draw_params(s);
	sim_draw_raft(s, &w);
	for (id = 1; id <= s->node_count; id++) {
		sim_clear_node(s, id);
		sim_setup_node(s, id, &w);
		rafts[id - 1] = sim_node(s, id)->raft;
	}
	rc_checker_reset(&s->checker, s->node_count, rafts);
	sim_trace_world(s);
	return sim_start(s);
}

/* Fills *c for a world of nodes from seed: all faults, client on, overrides from the seed. */
void
rc_sim_config_default(struct rc_sim_config *c, uint64_t seed, uint16_t nodes)
{
	memset(c, 0, sizeof(*c));
	c->seed = seed;
	c->nodes = nodes;
	c->faults = RC_SIM_FAULT_ALL;
	c->client = true;
	c->safety_ticks = 5000;
	c->pre_vote = -1;
	c->check_quorum = -1;
}

/*
 * The lease drift bound of the skew model (sim.h), derived from the core's two lease rules
 * (raft.h, "Lease reads"). E is election_ticks, D the bound, P_min and P_max the tick periods a
 * node of the world may have, in hundredths of a clock unit (1000 each without skew).
 *   - The leader starts a read round at time t_s with ticks == T0. Its tick T0 fell at or before
 *     t_s, so its exact time (before the floor) was below t_s + 1, and its tick T0 + k falls
 *     before t_s + 1 + k * P_max / 100. It answers lease reads while ticks - T0 < E - D: none
 *     after its tick T0 + E - D, which falls before t_s + 1 + (E - D) * P_max / 100.
 *   - A voter that echoed the round got its heartbeat at t_r >= t_s (no network delay counted)
 *     and ignores vote requests until its E-th tick after that (election_elapsed < E; it does
 *     not campaign before either; a restart in between only makes it later: a fresh node waits
 *     its first E ticks). Its first tick after t_r may fall at t_r itself, so its E-th falls at
 *     or after floor(t_r + (E - 1) * P_min / 100) > t_s - 1 + (E - 1) * P_min / 100.
 * A new leader needs the vote of one of the majority that echoed, so the lease is safe when the
 * leader's last lease read comes strictly before the first vote such a voter may grant:
 *   t_s + 1 + (E - D) * P_max / 100 <= t_s - 1 + (E - 1) * P_min / 100, that is
 *   (E - D) * P_max <= (E - 1) * P_min - 200, and the smallest such D is
 *   D = E - floor(((E - 1) * P_min - 200) / P_max), usable when E - D >= 1.
 * With skew (P_min 750, P_max 1250) and E = 10: D = 10 - floor(6550 / 1250) = 5, a lease of 5
 * leader ticks (at most 62.5 units, while a voter's 10 ticks take more than 67.5); without
 * skew, D = 2 for any E >= 3. In raft.h's words: over one lease a voter's ticks run at most D
 * ahead of the leader's, tick phase included. Returns D, or 0 when no D below E exists.
 */
uint32_t
rc_sim_lease_drift_ticks(const struct rc_sim_config *c)
{
	uint64_t e = c->election_ticks != 0 ? c->election_ticks : RC_SIM_ELECTION_TICKS_DEFAULT;
	bool skew = (c->faults & RC_SIM_FAULT_SKEW) != 0;
	uint64_t p_min = skew ? RC_SIM_SKEW_PERIOD_CENTI_MIN : RC_SIM_TICK_UNITS * SIM_CENTI;
	uint64_t p_max = skew ? RC_SIM_SKEW_PERIOD_CENTI_MAX : RC_SIM_TICK_UNITS * SIM_CENTI;
	uint64_t lease_ticks;

	if (e < 2 || (e - 1) * p_min < 2 * SIM_CENTI + p_max)
		return 0;
	lease_ticks = ((e - 1) * p_min - 2 * SIM_CENTI) / p_max;
	RC_ASSERT(lease_ticks >= 1 && lease_ticks < e);
	RC_ASSERT(lease_ticks * p_max + 2 * SIM_CENTI <= (e - 1) * p_min);
	return (uint32_t)(e - lease_ticks);
}

/* Allocates a world and starts it. Returns NULL when out of memory or *c is out of bounds. */
struct rc_sim *
rc_sim_create(const struct rc_sim_config *c)
{
	struct rc_sim *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->heap = calloc(SIM_EVENTS_MAX, sizeof(s->heap[0]));
	s->packets = calloc(SIM_PACKETS_MAX, sizeof(s->packets[0]));
	s->frames = calloc(SIM_PACKETS_MAX, SIM_FRAME_BYTES);
	s->proposals = calloc(SIM_PROPOSALS_CAP, sizeof(s->proposals[0]));
	s->kv_recs = calloc(RC_SIM_KV_OPS_MAX, sizeof(s->kv_recs[0]));
	s->recovered = calloc(RC_LOG_ENTRIES_MAX, sizeof(s->recovered[0]));
	if (s->heap == NULL || s->packets == NULL || s->frames == NULL || s->proposals == NULL ||
	    s->kv_recs == NULL || s->recovered == NULL || rc_checker_init(&s->checker) != 0 ||
	    rc_sim_reset(s, c) != 0) {
		rc_sim_destroy(s);
		return NULL;
	}
	return s;
}

/* Frees a world and everything it allocated. */
void
rc_sim_destroy(struct rc_sim *s)
{
	uint16_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nodes_allocated; i++) {
		free(s->nodes[i].raft);
		free(s->nodes[i].disk.log);
		free(s->nodes[i].disk.ops);
		free(s->nodes[i].disk.arena);
		free(s->nodes[i].disk.image);
	}
	rc_checker_fini(&s->checker);
	free(s->heap);
	free(s->packets);
	free(s->frames);
	free(s->proposals);
	free(s->kv_recs);
	free(s->recovered);
	free(s);
}

void
rc_sim_set_trace(struct rc_sim *s, FILE *f)
{
	s->trace = f;
}

/* ---- Scripted control ---------------------------------------------------------------------- */

/* Cuts the network in two: the ids of group_mask and the rest. */
void
rc_sim_partition(struct rc_sim *s, uint32_t group_mask)
{
	char a[64];
	char b[64];

	s->group_mask = group_mask & (((1u << s->node_count) - 1) << 1);
	sim_group_text(s, a, sizeof(a), s->group_mask, false);
	sim_group_text(s, b, sizeof(b), s->group_mask, true);
	sim_trace(s, "partition %s | %s", a, b);
}

/* Cuts node id off from every other node. */
void
rc_sim_isolate(struct rc_sim *s, uint16_t id)
{
	sim_node(s, id);
	rc_sim_partition(s, 1u << id);
}

/* Drops every message from -> to from now on. */
void
rc_sim_cut(struct rc_sim *s, uint16_t from, uint16_t to)
{
	sim_node(s, from);
	sim_node(s, to);
	s->cut_to[from] |= 1u << to;
	sim_trace(s, "one-way cut n%u -> n%u", from, to);
}

/* Removes every partition and cut. */
void
rc_sim_heal(struct rc_sim *s)
{
	s->group_mask = 0;
	memset(s->cut_to, 0, sizeof(s->cut_to));
	sim_trace(s, "heal network");
}

/* Runs the world for units clock units. Returns false once a violation is found. */
bool
rc_sim_run_for(struct rc_sim *s, uint64_t units)
{
	sim_run(s, s->now + units, NULL, NULL);
	return !s->checker.violated;
}

/* Runs until pred holds, timeout_units pass, or a violation. Returns true when pred held. */
bool
rc_sim_run_until(struct rc_sim *s, rc_sim_pred_fn pred, void *ctx, uint64_t timeout_units)
{
	return sim_run(s, s->now + timeout_units, pred, ctx);
}

/* Predicate: the up leader of the highest term is known as leader of that term by a majority. */
static bool
sim_has_stable_leader(struct rc_sim *s, void *ctx)
{
	uint16_t leader = rc_sim_leader(s);
	uint32_t known = 0;
	uint16_t id;

	(void)ctx;
	if (leader == 0)
		return false;
	for (id = 1; id <= s->node_count; id++) {
		const struct sim_node *n = sim_node(s, id);

		if (n->up && n->raft->term == sim_node(s, leader)->raft->term &&
		    (id == leader || n->raft->leader == leader))
			known++;
	}
	return known >= s->node_count / 2u + 1;
}

/* Runs until a leader known to a majority exists. Returns its id, 0 on timeout or violation. */
uint16_t
rc_sim_wait_leader(struct rc_sim *s, uint64_t timeout_units)
{
	if (!sim_run(s, s->now + timeout_units, sim_has_stable_leader, NULL))
		return 0;
	return rc_sim_leader(s);
}

struct sim_applied_goal {
	uint64_t index;
	uint32_t id_mask;
};

/* Predicate: every node of the goal's mask is up and applied the goal's index. */
static bool
sim_has_applied(struct rc_sim *s, void *ctx)
{
	const struct sim_applied_goal *g = ctx;

	return rc_sim_all_applied(s, g->index, g->id_mask);
}

/* True when every node of id_mask is up and applied index; see sim.h. */
bool
rc_sim_all_applied(const struct rc_sim *s, uint64_t index, uint32_t id_mask)
{
	for (uint16_t id = 1; id <= s->node_count; id++) {
		const struct sim_node *n = &s->nodes[id - 1];

		if (((id_mask >> id) & 1u) && (!n->up || n->applied_index < index))
			return false;
	}
	return true;
}

/* Runs until every node of id_mask applied index. Returns true when done in time. */
bool
rc_sim_wait_applied(struct rc_sim *s, uint64_t index, uint32_t id_mask, uint64_t timeout_units)
{
	struct sim_applied_goal g = { .index = index, .id_mask = id_mask };

	return sim_run(s, s->now + timeout_units, sim_has_applied, &g);
}

/* Proposes count fresh entries to the current leader. Returns how many it accepted. */
uint32_t
rc_sim_propose(struct rc_sim *s, uint32_t count, uint64_t *first_index)
{
	uint16_t leader = rc_sim_leader(s);

	if (first_index != NULL)
		*first_index = 0;
	if (leader == 0 || s->checker.violated)
		return 0;
	return sim_propose_to(s, leader, count, first_index, 0);
}

/* Starts an election on node id now. Returns false on a violation. */
bool
rc_sim_campaign(struct rc_sim *s, uint16_t id)
{
	struct rc_raft_event ev = { .type = RC_EVENT_CAMPAIGN };

	RC_ASSERT(sim_node(s, id)->up);
	sim_trace(s, "n%u campaign", id);
	node_event(s, id, &ev);
	return !s->checker.violated;
}

/* ---- The seed-sweep run -------------------------------------------------------------------- */

/* Ends the faults: network healed, crashed nodes restarted (the dead stay down), no drops,
 * moderate delays. */
static void
sim_heal_all(struct rc_sim *s)
{
	uint16_t id;

	sim_trace(s, "heal all: network, crashed nodes, drops, slow disks");
	s->heal_time = s->now;
	s->faults_on = false;
	s->client_on = false;
	s->kv_on = false;
	rc_sim_heal(s);
	s->p.tail_per_million = 0;
	if (s->p.delay_max > s->p.delay_min + 10)
		s->p.delay_max = s->p.delay_min + 10;
	for (id = 1; id <= s->node_count && !s->checker.violated; id++) {
		struct sim_disk *d = &sim_node(s, id)->disk;

		d->stall_per_million = 0;
		if (d->latency_max > d->latency_min + 5)
			d->latency_max = d->latency_min + 5;
		rc_sim_restart(s, id);
	}
}

/* The liveness probes: refs from first_ref on, proposed after healing. */
struct sim_live {
	uint32_t first_ref;
};

/* The ids (bit id set) of the nodes not dead. */
static uint32_t
sim_alive_mask(const struct rc_sim *s)
{
	uint32_t mask = 0;
	uint16_t id;

	for (id = 1; id <= s->node_count; id++)
		mask |= s->nodes[id - 1].dead ? 0 : 1u << id;
	return mask;
}

/* Predicate: a liveness probe was acknowledged (committed and applied by its leader) and every
 * node not dead applied every acknowledged proposal. */
static bool
sim_live_done(struct rc_sim *s, void *ctx)
{
	const struct sim_live *live = ctx;
	struct sim_applied_goal g = { .index = s->acked_index_max, .id_mask = sim_alive_mask(s) };
	uint32_t ref;

	for (ref = live->first_ref; ref <= s->proposal_count; ref++) {
		if (s->proposals[ref - 1].acked)
			return sim_has_applied(s, &g);
	}
	return false;
}

/* True when the newest probe still waits on a leader that is leader of its term. */
static bool
sim_live_pending(struct rc_sim *s, const struct sim_live *live, uint16_t leader)
{
	const struct sim_proposal *p;

	if (s->proposal_count < live->first_ref)
		return false;
	p = &s->proposals[s->proposal_count - 1];
	return p->index != 0 && p->node == leader && p->term == sim_node(s, leader)->raft->term;
}

/* Last, commit and applied indexes of all nodes summed: grows while the cluster makes progress
 * (lagging followers catching up included). */
static uint64_t
sim_progress(struct rc_sim *s)
{
	uint64_t sum = 0;
	uint16_t id;

	for (id = 1; id <= s->node_count; id++) {
		const struct rc_raft *r = sim_node(s, id)->raft;

		sum += sim_node(s, id)->applied_index + r->commit + r->last_index;
	}
	return sum;
}

/* Reports a liveness failure: no leader, no progress over a window, or out of windows. */
static void
sim_live_fail(struct rc_sim *s, uint64_t window, bool had_leader, bool stalled)
{
	uint16_t leader = rc_sim_leader(s);
	uint16_t low = 0;
	uint16_t id;

	for (id = 1; id <= s->node_count; id++) {
		if (!sim_node(s, id)->dead &&
		    (low == 0 || sim_node(s, id)->applied_index < sim_node(s, low)->applied_index))
			low = id;
	}
	if (!had_leader) {
		rc_checker_fail(&s->checker,
				"liveness: no leader within %" PRIu64
				" units (%u election timeouts) "
				"after healing",
				window, SIM_LIVENESS_TIMEOUTS);
		return;
	}
	rc_checker_fail(&s->checker,
			"liveness: fresh proposal not committed and applied everywhere %s %" PRIu64
			" units; leader n%u term %" PRIu64 " commit %" PRIu64
			", n%u applied %" PRIu64 " of %" PRIu64 " acknowledged",
			stalled ? "and no progress for" : "after",
			stalled ? window : s->now - s->heal_time, leader,
			leader ? sim_node(s, leader)->raft->term : 0,
			leader ? sim_node(s, leader)->raft->commit : 0, low,
			sim_node(s, low)->applied_index, s->acked_index_max);
}

/*
 * Liveness: once healed, the cluster must have a leader within SIM_LIVENESS_TIMEOUTS election
 * timeouts, then commit a fresh proposal (proposed again whenever leadership moves) and apply it
 * with every acknowledged one on every node not dead (a minority at most). Nodes far behind may
 * need long (one entry a round trip when messages carry one), so past the first window it is
 * enough that the commit and applied indexes grow in every window; a window without progress is
 * a violation.
 */
static void
sim_liveness(struct rc_sim *s)
{
	const struct rc_raft_config *w = &s->nodes[0].cfg;
	uint64_t timeout = (uint64_t)w->election_ticks * RC_SIM_TICK_UNITS * 5 / 4;
	uint64_t window = SIM_LIVENESS_TIMEOUTS * timeout;
	uint64_t window_end = s->now + window;
	uint64_t progress = sim_progress(s);
	struct sim_live live = { .first_ref = s->proposal_count + 1 };
	bool had_leader = false;
	uint32_t windows = 1;

	while (!s->checker.violated && !sim_live_done(s, &live)) {
		uint16_t leader;

		if (s->now >= window_end) {
			if (!had_leader || sim_progress(s) == progress ||
			    ++windows > SIM_LIVENESS_WINDOWS_MAX) {
				sim_live_fail(s, window, had_leader, sim_progress(s) == progress);
				return;
			}
			progress = sim_progress(s);
			window_end = s->now + window;
		}
		leader = rc_sim_wait_leader(s, window_end - s->now);
		if (leader == 0)
			continue;
		had_leader = true;
		if (!sim_live_pending(s, &live, leader))
			sim_propose_to(s, leader, 1, NULL, 0);
		sim_run(s, s->now + 2 * timeout < window_end ? s->now + 2 * timeout : window_end,
			sim_live_done, &live);
	}
}

/* The final checks: whole-log matching and every acknowledged proposal committed everywhere. */
static void
sim_final_checks(struct rc_sim *s)
{
	uint32_t ref;

	rc_checker_full(&s->checker);
	for (ref = 1; ref <= s->proposal_count && !s->checker.violated; ref++) {
		if (s->proposals[ref - 1].acked)
			rc_checker_acknowledged(&s->checker, s->proposals[ref - 1].index, ref);
	}
}

/* Safety phase, heal, liveness phase, final checks. Returns true without a violation. */
bool
rc_sim_run_seed(struct rc_sim *s)
{
	sim_run(s, s->now + s->cfg.safety_ticks * RC_SIM_TICK_UNITS, NULL, NULL);
	if (s->checker.violated)
		return false;
	sim_heal_all(s);
	if (!s->checker.violated)
		sim_liveness(s);
	if (!s->checker.violated)
		sim_final_checks(s);
	return !s->checker.violated;
}

/* ---- Queries ------------------------------------------------------------------------------- */

uint64_t
rc_sim_now(const struct rc_sim *s)
{
	return s->now;
}

uint16_t
rc_sim_node_count(const struct rc_sim *s)
{
	return s->node_count;
}

const struct rc_raft *
rc_sim_node(const struct rc_sim *s, uint16_t id)
{
	RC_ASSERT(id >= 1 && id <= s->node_count);
	return s->nodes[id - 1].raft;
}

bool
rc_sim_is_up(const struct rc_sim *s, uint16_t id)
{
	RC_ASSERT(id >= 1 && id <= s->node_count);
	return s->nodes[id - 1].up;
}

uint64_t
rc_sim_applied_index(const struct rc_sim *s, uint16_t id)
{
	RC_ASSERT(id >= 1 && id <= s->node_count);
	return s->nodes[id - 1].applied_index;
}

uint64_t
rc_sim_applied_count(const struct rc_sim *s, uint16_t id)
{
	RC_ASSERT(id >= 1 && id <= s->node_count);
	return s->nodes[id - 1].applied_count;
}

uint64_t
rc_sim_disk_last_index(const struct rc_sim *s, uint16_t id)
{
	RC_ASSERT(id >= 1 && id <= s->node_count);
	return s->nodes[id - 1].disk.last_index;
}

const uint8_t *
rc_sim_disk_image(const struct rc_sim *s, uint16_t id, uint64_t *bytes)
{
	RC_ASSERT(id >= 1 && id <= s->node_count);
	*bytes = s->nodes[id - 1].disk.image_bytes;
	return s->nodes[id - 1].disk.image;
}

bool
rc_sim_is_dead(const struct rc_sim *s, uint16_t id)
{
	RC_ASSERT(id >= 1 && id <= s->node_count);
	return s->nodes[id - 1].dead;
}

/* True when nodes a and b hold the same entries (NOOP refs ignored). */
bool
rc_sim_logs_equal(const struct rc_sim *s, uint16_t a, uint16_t b)
{
	const struct rc_raft *ra = rc_sim_node(s, a);
	const struct rc_raft *rb = rc_sim_node(s, b);
	uint64_t i;

	if (ra->last_index != rb->last_index)
		return false;
	for (i = 1; i <= ra->last_index; i++) {
		const struct rc_raft_entry *ea = rc_raft_entry_at(ra, i);
		const struct rc_raft_entry *eb = rc_raft_entry_at(rb, i);

		if (ea == NULL || eb == NULL || ea->term != eb->term || ea->type != eb->type ||
		    (ea->type == RC_ENTRY_NORMAL && ea->ref != eb->ref))
			return false;
	}
	return true;
}

const char *
rc_sim_violation(const struct rc_sim *s)
{
	return rc_checker_violation(&s->checker);
}

void
rc_sim_stats(const struct rc_sim *s, struct rc_sim_stats *out)
{
	*out = s->stats;
	out->elections = s->checker.elections;
}

/* ---- Key-value history --------------------------------------------------------------------- */

/* The outcome record r shows in the history: one still in progress counts as given up now. */
static uint8_t
kv_history_outcome(const struct sim_kv_rec *r)
{
	if (r->outcome != SIM_KV_PENDING)
		return r->outcome;
	return r->appended ? SIM_KV_UNKNOWN : SIM_KV_LEFT_OUT;
}

/* Appends printf-style text to buf at *len (snprintf's truncation: *len may pass size). */
__attribute__((format(printf, 4, 5))) static void
kv_appendf(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*len < size ? buf + *len : NULL, *len < size ? size - *len : 0, fmt, ap);
	va_end(ap);
	RC_ASSERT(n >= 0);
	*len += (size_t)n;
}

uint32_t
rc_sim_kv_op_count(const struct rc_sim *s)
{
	return s->kv_rec_count;
}

/* Formats operation i as a line of tools/lincheck's format; see sim.h. Returns its length, 0
 * when it is left out. */
int
rc_sim_kv_history_line(const struct rc_sim *s, uint32_t i, char *buf, size_t size)
{
	const struct sim_kv_rec *r;
	uint8_t outcome;
	size_t len = 0;

	RC_ASSERT(i < s->kv_rec_count);
	r = &s->kv_recs[i];
	outcome = kv_history_outcome(r);
	if (outcome == SIM_KV_LEFT_OUT)
		return 0;
	kv_appendf(buf, size, &len, "{\"client\":%u,\"op\":\"%s\",\"key\":\"k%u\"", r->client,
		   kv_op_name(r->op), r->key);
	if (r->op != SIM_KV_GET)
		kv_appendf(buf, size, &len, ",\"value\":\"%s\"", r->value);
	else if (outcome == SIM_KV_OK && r->value_absent)
		kv_appendf(buf, size, &len, ",\"value\":null");
	else if (outcome == SIM_KV_OK)
		kv_appendf(buf, size, &len, ",\"value\":\"%s\"", r->value);
	if (r->op == RC_KV_CAS && r->expect_absent)
		kv_appendf(buf, size, &len, ",\"expect\":null");
	else if (r->op == RC_KV_CAS)
		kv_appendf(buf, size, &len, ",\"expect\":\"%s\"", r->expect);
	kv_appendf(buf, size, &len, ",\"call_ns\":%" PRIu64, r->call * RC_SIM_KV_NS_PER_UNIT);
	if (outcome == SIM_KV_UNKNOWN)
		kv_appendf(buf, size, &len, ",\"ok\":null}");
	else
		kv_appendf(buf, size, &len, ",\"return_ns\":%" PRIu64 ",\"ok\":%s}",
			   r->ret * RC_SIM_KV_NS_PER_UNIT, outcome == SIM_KV_OK ? "true" : "false");
	RC_ASSERT(len > 0 && len <= INT32_MAX);
	return (int)len;
}

/* Writes every line of the history to f. Returns 0 or -EIO. */
int
rc_sim_kv_write_history(const struct rc_sim *s, FILE *f)
{
	char line[256];

	for (uint32_t i = 0; i < s->kv_rec_count; i++) {
		int len = rc_sim_kv_history_line(s, i, line, sizeof(line));

		RC_ASSERT((size_t)len < sizeof(line));
		if (len > 0 && fprintf(f, "%s\n", line) < 0)
			return -EIO;
	}
	return ferror(f) ? -EIO : 0;
}

/* Counts the history's operations by outcome. */
void
rc_sim_kv_stats(const struct rc_sim *s, struct rc_sim_kv_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < s->kv_rec_count; i++) {
		const struct sim_kv_rec *r = &s->kv_recs[i];
		uint8_t outcome = kv_history_outcome(r);

		out->lines += outcome != SIM_KV_LEFT_OUT;
		out->left_out += outcome == SIM_KV_LEFT_OUT;
		out->unknown += outcome == SIM_KV_UNKNOWN;
		if (outcome == SIM_KV_OK && r->op == SIM_KV_GET) {
			out->reads_ok++;
			out->reads_at_once += r->at_once;
		} else if (outcome == SIM_KV_OK)
			out->writes_ok++;
		else if (outcome == SIM_KV_FAILED && r->op == RC_KV_CAS)
			out->cas_failed++;
		else if (outcome == SIM_KV_FAILED)
			out->failed++;
	}
}

const struct rc_raft_config *
rc_sim_raft_config(const struct rc_sim *s, uint16_t id)
{
	RC_ASSERT(id >= 1 && id <= s->node_count);
	return &s->nodes[id - 1].cfg;
}

/* Name of one fault class bit, NULL when f is not exactly one class. */
const char *
rc_sim_fault_name(uint32_t f)
{
	uint32_t i;

	for (i = 0; i < RC_SIM_FAULT_CLASSES; i++) {
		if (f == 1u << i)
			return sim_fault_names[i];
	}
	return NULL;
}

/* Parses "drop,dup", "all" or "none" into *mask. Returns 0, or -1 on an unknown name. */
int
rc_sim_faults_parse(const char *list, uint32_t *mask)
{
	uint32_t m = 0;
	const char *p = list;

	if (strcmp(list, "all") == 0 || strcmp(list, "none") == 0) {
		*mask = list[0] == 'a' ? RC_SIM_FAULT_ALL : 0;
		return 0;
	}
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		uint32_t i;

		for (i = 0; i < RC_SIM_FAULT_CLASSES; i++) {
			if (strlen(sim_fault_names[i]) == len &&
			    strncmp(p, sim_fault_names[i], len) == 0)
				break;
		}
		if (i == RC_SIM_FAULT_CLASSES)
			return -1;
		m |= 1u << i;
		p += len;
		if (*p == ',')
			p++;
	}
	*mask = m;
	return 0;
}
