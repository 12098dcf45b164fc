/* The key-value client protocol's codec (see client.h). */
#include <errno.h>
#include <string.h>

#include <replicore/client.h>

#include "wire_le.h"

/* Writes the replicore header of a client frame (from and to are 0). */
static void
client_header(uint8_t *p, uint8_t type, uint32_t cluster_id, uint32_t body, uint64_t id)
{
	wire_put_header(p, type, cluster_id, 0, 0, body, id);
}

/* Checks the header of a client frame of type; returns the body length through *body. */
static enum rc_wire_error
client_check_header(const uint8_t *p, uint32_t len, uint8_t type, uint32_t *cluster_id,
		    uint64_t *id)
{
	uint16_t from, to;
	enum rc_wire_error e = wire_check_header(p, len, type, 0, cluster_id, &from, &to, id);

	if (e == RC_WIRE_OK && (from != 0 || to != 0))
		e = RC_WIRE_EFIELD; /* client frames name no node */
	return e;
}

/* The bytes of expected a CAS carries (none for "must be absent"). */
static uint32_t
client_expected_bytes(const struct rc_client_request *r)
{
	return r->op == RC_CLIENT_CAS && r->expected_len != RC_KV_EXPECT_ABSENT ? r->expected_len :
										  0;
}

/* Whether a request's fields are within the protocol's rules. */
static int
client_request_valid(const struct rc_client_request *r)
{
	bool writes_value = r->op == RC_CLIENT_PUT || r->op == RC_CLIENT_CAS;

	if (r->op < RC_CLIENT_PUT || r->op > RC_CLIENT_GET || r->key_len == 0 ||
	    r->key_len > RC_KV_KEY_BYTES_MAX || r->value_len > RC_KV_VALUE_BYTES_MAX)
		return 0;
	if (!writes_value && r->value_len != 0)
		return 0;
	if (r->op == RC_CLIENT_CAS) {
		if (r->expected_len != RC_KV_EXPECT_ABSENT &&
		    r->expected_len > RC_KV_VALUE_BYTES_MAX)
			return 0;
	} else if (r->expected_len != 0) {
		return 0;
	}
	if (r->op == RC_CLIENT_GET ? r->consistency > RC_CLIENT_LOCAL : r->consistency != 0)
		return 0;
	return 1;
}

/* Encodes a request. */
int32_t
rc_client_encode_request(uint8_t *buf, uint32_t cap, uint32_t cluster_id,
			 const struct rc_client_request *r)
{
	if (!client_request_valid(r))
		return -EINVAL;
	uint32_t exp = client_expected_bytes(r);
	uint32_t body = RC_CLIENT_REQUEST_BYTES + r->key_len + exp + r->value_len;
	uint8_t *p = buf + RC_WIRE_HEADER_BYTES;

	if (RC_WIRE_HEADER_BYTES + body > cap)
		return -ENOSPC;
	client_header(buf, RC_CLIENT_REQUEST, cluster_id, body, r->id);
	p[0] = r->op;
	p[1] = r->consistency;
	wire_put_u16(p + 2, r->key_len);
	wire_put_u16(p + 4, r->value_len);
	wire_put_u16(p + 6, r->expected_len);
	p += RC_CLIENT_REQUEST_BYTES;
	memcpy(p, r->key, r->key_len);
	p += r->key_len;
	if (exp > 0)
		memcpy(p, r->expected, exp);
	p += exp;
	if (r->value_len > 0)
		memcpy(p, r->value, r->value_len);
	return (int32_t)(RC_WIRE_HEADER_BYTES + body);
}

/* Decodes a request. */
enum rc_wire_error
rc_client_decode_request(const uint8_t *buf, uint32_t len, uint32_t *cluster_id,
			 struct rc_client_request *r)
{
	enum rc_wire_error e = client_check_header(buf, len, RC_CLIENT_REQUEST, cluster_id, &r->id);
	const uint8_t *p = buf + RC_WIRE_HEADER_BYTES;
	uint32_t body = len - RC_WIRE_HEADER_BYTES;

	if (e != RC_WIRE_OK)
		return e;
	if (body < RC_CLIENT_REQUEST_BYTES)
		return RC_WIRE_EBODY;
	r->op = p[0];
	r->consistency = p[1];
	r->key_len = wire_get_u16(p + 2);
	r->value_len = wire_get_u16(p + 4);
	r->expected_len = wire_get_u16(p + 6);
	if (!client_request_valid(r))
		return RC_WIRE_EFIELD;
	uint32_t exp = client_expected_bytes(r);

	if (RC_CLIENT_REQUEST_BYTES + r->key_len + exp + r->value_len != body)
		return RC_WIRE_EBODY;
	r->key = p + RC_CLIENT_REQUEST_BYTES;
	r->expected = r->key + r->key_len;
	r->value = r->expected + exp;
	return RC_WIRE_OK;
}

/* Encodes a response. */
int32_t
rc_client_encode_response(uint8_t *buf, uint32_t cap, uint32_t cluster_id,
			  const struct rc_client_response *r)
{
	uint32_t body = RC_CLIENT_RESPONSE_BYTES + r->value_len;
	uint8_t *p = buf + RC_WIRE_HEADER_BYTES;

	if (r->status >= RC_CLIENT_STATUS_COUNT || r->value_len > RC_KV_VALUE_BYTES_MAX ||
	    (r->value_len > 0 && r->status != RC_CLIENT_OK))
		return -EINVAL;
	if (RC_WIRE_HEADER_BYTES + body > cap)
		return -ENOSPC;
	client_header(buf, RC_CLIENT_RESPONSE, cluster_id, body, r->id);
	memset(p, 0, RC_CLIENT_RESPONSE_BYTES);
	p[0] = r->status;
	wire_put_u16(p + 2, r->leader);
	wire_put_u16(p + 4, r->value_len);
	wire_put_u64(p + 8, r->index);
	if (r->value_len > 0)
		memcpy(p + RC_CLIENT_RESPONSE_BYTES, r->value, r->value_len);
	return (int32_t)(RC_WIRE_HEADER_BYTES + body);
}

/* Decodes a response. */
enum rc_wire_error
rc_client_decode_response(const uint8_t *buf, uint32_t len, uint32_t *cluster_id,
			  struct rc_client_response *r)
{
	enum rc_wire_error e = client_check_header(buf, len, RC_CLIENT_RESPONSE, cluster_id,
						   &r->id);
	const uint8_t *p = buf + RC_WIRE_HEADER_BYTES;
	uint32_t body = len - RC_WIRE_HEADER_BYTES;

	if (e != RC_WIRE_OK)
		return e;
	if (body < RC_CLIENT_RESPONSE_BYTES)
		return RC_WIRE_EBODY;
	r->status = p[0];
	r->leader = wire_get_u16(p + 2);
	r->value_len = wire_get_u16(p + 4);
	r->index = wire_get_u64(p + 8);
	if (r->status >= RC_CLIENT_STATUS_COUNT || p[1] != 0 || wire_get_u16(p + 6) != 0 ||
	    r->value_len > RC_KV_VALUE_BYTES_MAX || (r->value_len > 0 && r->status != RC_CLIENT_OK))
		return RC_WIRE_EFIELD;
	if (RC_CLIENT_RESPONSE_BYTES + r->value_len != body)
		return RC_WIRE_EBODY;
	r->value = p + RC_CLIENT_RESPONSE_BYTES;
	return RC_WIRE_OK;
}

/* Names a status. */
const char *
rc_client_strstatus(uint8_t status)
{
	static const char *const names[RC_CLIENT_STATUS_COUNT] = {
		"ok",	      "not found", "cas mismatch", "full",
		"not leader", "busy",	   "bad request",  "unknown outcome",
	};

	return status < RC_CLIENT_STATUS_COUNT ? names[status] : "invalid";
}
