/*
 * The key-value store's commands as log entries (kv.h): encoders and the strict decoder. Part of
 * the core library (no liburcu), so the simulator and the table share one codec.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <replicore/kv.h>

/* Writes a command's header and parts into buf; returns its bytes or an error. */
static int32_t
kv_encode(void *buf, uint32_t cap, uint8_t op, const void *key, uint32_t key_len,
	  const void *expected, uint32_t expected_len, const void *value, uint32_t value_len)
{
	uint32_t exp_bytes = expected_len == RC_KV_EXPECT_ABSENT ? 0 : expected_len;
	uint64_t total = (uint64_t)RC_KV_COMMAND_HEADER_BYTES + key_len + exp_bytes + value_len;
	uint8_t *p = buf;

	if (key_len == 0 || key_len > RC_KV_KEY_BYTES_MAX || value_len > RC_KV_VALUE_BYTES_MAX ||
	    (expected_len != RC_KV_EXPECT_ABSENT && expected_len > RC_KV_VALUE_BYTES_MAX))
		return -EINVAL;
	if (total > cap)
		return -EMSGSIZE;
	p[0] = op;
	p[1] = (uint8_t)key_len;
	p[2] = (uint8_t)value_len;
	p[3] = (uint8_t)(value_len >> 8);
	p[4] = (uint8_t)expected_len;
	p[5] = (uint8_t)(expected_len >> 8);
	p[6] = 0;
	p[7] = 0;
	p += RC_KV_COMMAND_HEADER_BYTES;
	memcpy(p, key, key_len);
	p += key_len;
	if (exp_bytes > 0)
		memcpy(p, expected, exp_bytes);
	p += exp_bytes;
	if (value_len > 0)
		memcpy(p, value, value_len);
	return (int32_t)total;
}

/* Encodes a PUT. */
int32_t
rc_kv_encode_put(void *buf, uint32_t cap, const void *key, uint32_t key_len, const void *value,
		 uint32_t value_len)
{
	return kv_encode(buf, cap, RC_KV_PUT, key, key_len, NULL, 0, value, value_len);
}

/* Encodes a DELETE. */
int32_t
rc_kv_encode_delete(void *buf, uint32_t cap, const void *key, uint32_t key_len)
{
	return kv_encode(buf, cap, RC_KV_DELETE, key, key_len, NULL, 0, NULL, 0);
}

/* Encodes a CAS (expected NULL: the key must be absent). */
int32_t
rc_kv_encode_cas(void *buf, uint32_t cap, const void *key, uint32_t key_len, const void *expected,
		 uint32_t expected_len, const void *value, uint32_t value_len)
{
	if (expected == NULL)
		expected_len = RC_KV_EXPECT_ABSENT;
	return kv_encode(buf, cap, RC_KV_CAS, key, key_len, expected, expected_len, value,
			 value_len);
}

/* Decodes a command (kv.h). */
bool
rc_kv_command_decode(const void *cmd, uint32_t bytes, struct rc_kv_command *c)
{
	const uint8_t *p = cmd;

	if (bytes < RC_KV_COMMAND_HEADER_BYTES)
		return false;
	c->op = p[0];
	c->key_len = p[1];
	c->value_len = (uint32_t)p[2] | (uint32_t)p[3] << 8;
	c->expected_len = (uint32_t)p[4] | (uint32_t)p[5] << 8;
	uint32_t exp_bytes = c->expected_len == RC_KV_EXPECT_ABSENT ? 0 : c->expected_len;

	if ((c->op != RC_KV_PUT && c->op != RC_KV_DELETE && c->op != RC_KV_CAS) || p[6] != 0 ||
	    p[7] != 0 || c->key_len == 0 || c->value_len > RC_KV_VALUE_BYTES_MAX ||
	    (c->op != RC_KV_CAS && c->expected_len != 0) ||
	    (c->op == RC_KV_CAS && exp_bytes > RC_KV_VALUE_BYTES_MAX) ||
	    (c->op == RC_KV_DELETE && c->value_len != 0) ||
	    (uint64_t)RC_KV_COMMAND_HEADER_BYTES + c->key_len + exp_bytes + c->value_len != bytes)
		return false;
	c->key = p + RC_KV_COMMAND_HEADER_BYTES;
	c->expected = c->key + c->key_len;
	c->value = c->expected + exp_bytes;
	return true;
}
