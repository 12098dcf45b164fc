/*
 * The client protocol of the key-value store: how a plain program on any host asks a replica
 * (rc-node's client port) to PUT, DELETE, CAS or GET, and hears back. It rides the same frame
 * format as the replicas' own messages: UDP datagrams whose body is the 32-byte replicore header
 * (wire.h; type RC_CLIENT_REQUEST or RC_CLIENT_RESPONSE, seq = the request id, from/to 0) and a
 * body below. Decoding checks every length; byte layout in engine/wire/README.md.
 *
 * Request body:  op u8, consistency u8, key_len u16, value_len u16, expected_len u16,
 *                key, expected (CAS), value (PUT, CAS)
 * Response body: status u8, reserved u8, leader u16, value_len u16, reserved u16, index u64,
 *                value (GET)
 */
#ifndef REPLICORE_CLIENT_H
#define REPLICORE_CLIENT_H

#include <stdint.h>

#include <replicore/kv.h>
#include <replicore/wire.h>

#define RC_CLIENT_REQUEST 64u
#define RC_CLIENT_RESPONSE 65u
#define RC_CLIENT_REQUEST_BYTES 8u   /* body bytes before the key */
#define RC_CLIENT_RESPONSE_BYTES 16u /* body bytes before the value */

enum rc_client_op {
	RC_CLIENT_PUT = 1,
	RC_CLIENT_DELETE = 2,
	RC_CLIENT_CAS = 3,
	RC_CLIENT_GET = 4,
};

/* How a GET reads: through the leader (ReadIndex, or its lease), or this replica's state. */
enum rc_client_consistency {
	RC_CLIENT_LINEARIZABLE = 0,
	RC_CLIENT_LEASE = 1,
	RC_CLIENT_LOCAL = 2, /* possibly stale */
};

enum rc_client_status {
	RC_CLIENT_OK = 0,
	RC_CLIENT_NOT_FOUND = 1,    /* GET or DELETE of an absent key */
	RC_CLIENT_CAS_MISMATCH = 2, /* the CAS compared unequal: nothing written */
	RC_CLIENT_FULL = 3,	    /* the table holds its capacity of keys: nothing written */
	RC_CLIENT_NOT_LEADER = 4,   /* ask the leader (hint in `leader`, 0 if unknown): no effect */
	RC_CLIENT_BUSY = 5,	    /* the replica's queues are full: no effect, retry */
	RC_CLIENT_BAD_REQUEST = 6,  /* a malformed or oversized request: no effect */
	RC_CLIENT_UNKNOWN = 7,	    /* leadership changed: the write may or may not take effect */
	RC_CLIENT_STATUS_COUNT
};

struct rc_client_request {
	uint64_t id;	       /* echoed in the response */
	uint8_t op;	       /* enum rc_client_op */
	uint8_t consistency;   /* enum rc_client_consistency (GET; 0 otherwise) */
	uint16_t key_len;      /* 1..RC_KV_KEY_BYTES_MAX */
	uint16_t value_len;    /* PUT, CAS: 0..RC_KV_VALUE_BYTES_MAX; else 0 */
	uint16_t expected_len; /* CAS: 0..RC_KV_VALUE_BYTES_MAX or RC_KV_EXPECT_ABSENT; else 0 */
	const uint8_t *key;
	const uint8_t *value;
	const uint8_t *expected;
};

struct rc_client_response {
	uint64_t id;
	uint8_t status;	    /* enum rc_client_status */
	uint16_t leader;    /* NOT_LEADER: the leader this replica knows of, or 0 */
	uint16_t value_len; /* GET OK */
	uint64_t index;	    /* a write's log index, a read's read index (0 if none) */
	const uint8_t *value;
};

/* Encodes a request frame body. Returns its length, -EINVAL (bad fields) or -ENOSPC. */
int32_t rc_client_encode_request(uint8_t *buf, uint32_t cap, uint32_t cluster_id,
				 const struct rc_client_request *r);

/* Decodes a request; pointers point into buf. Returns RC_WIRE_OK or why not. */
enum rc_wire_error rc_client_decode_request(const uint8_t *buf, uint32_t len, uint32_t *cluster_id,
					    struct rc_client_request *r);

/* Encodes a response frame body. Returns its length, -EINVAL or -ENOSPC. */
int32_t rc_client_encode_response(uint8_t *buf, uint32_t cap, uint32_t cluster_id,
				  const struct rc_client_response *r);

/* Decodes a response; value points into buf. Returns RC_WIRE_OK or why not. */
enum rc_wire_error rc_client_decode_response(const uint8_t *buf, uint32_t len, uint32_t *cluster_id,
					     struct rc_client_response *r);

/* A short name for a status ("ok", "not leader", ...). */
const char *rc_client_strstatus(uint8_t status);

#endif
