/*
 * The key-value client protocol's codec (engine/wire/client.c): every request and response
 * kind round-trips, and decoding refuses every truncation, every extension and every field out
 * of its range, with the reason.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include <replicore/client.h>

static const struct rc_client_request requests[] = {
	{ .id = 1,
	  .op = RC_CLIENT_PUT,
	  .key_len = 3,
	  .key = (const uint8_t *)"key",
	  .value_len = 5,
	  .value = (const uint8_t *)"value" },
	{ .id = 2, .op = RC_CLIENT_DELETE, .key_len = 1, .key = (const uint8_t *)"k" },
	{ .id = 3,
	  .op = RC_CLIENT_CAS,
	  .key_len = 1,
	  .key = (const uint8_t *)"k",
	  .expected_len = 3,
	  .expected = (const uint8_t *)"old",
	  .value_len = 3,
	  .value = (const uint8_t *)"new" },
	{ .id = 4,
	  .op = RC_CLIENT_CAS,
	  .key_len = 1,
	  .key = (const uint8_t *)"k",
	  .expected_len = RC_KV_EXPECT_ABSENT,
	  .value_len = 1,
	  .value = (const uint8_t *)"v" },
	{ .id = 5,
	  .op = RC_CLIENT_GET,
	  .consistency = RC_CLIENT_LINEARIZABLE,
	  .key_len = 1,
	  .key = (const uint8_t *)"k" },
	{ .id = UINT64_MAX,
	  .op = RC_CLIENT_GET,
	  .consistency = RC_CLIENT_LOCAL,
	  .key_len = 2,
	  .key = (const uint8_t *)"kk" },
};

Test(client, requests_round_trip_and_every_truncation_is_refused)
{
	uint8_t buf[512];

	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		const struct rc_client_request *r = &requests[i];
		struct rc_client_request d;
		uint32_t cluster = 0;
		int32_t n = rc_client_encode_request(buf, sizeof(buf), 77, r);

		cr_assert_gt(n, 0, "request %zu", i);
		cr_assert_eq(rc_client_decode_request(buf, (uint32_t)n, &cluster, &d), RC_WIRE_OK);
		cr_assert_eq(cluster, 77);
		cr_assert_eq(d.id, r->id);
		cr_assert_eq(d.op, r->op);
		cr_assert_eq(d.consistency, r->consistency);
		cr_assert_eq(d.key_len, r->key_len);
		cr_assert_eq(memcmp(d.key, r->key, r->key_len), 0);
		cr_assert_eq(d.value_len, r->value_len);
		if (r->value_len > 0)
			cr_assert_eq(memcmp(d.value, r->value, r->value_len), 0);
		cr_assert_eq(d.expected_len, r->expected_len);
		if (r->expected_len != RC_KV_EXPECT_ABSENT && r->expected_len > 0)
			cr_assert_eq(memcmp(d.expected, r->expected, r->expected_len), 0);
		for (int32_t cut = 0; cut < n; cut++)
			cr_assert_neq(rc_client_decode_request(buf, (uint32_t)cut, &cluster, &d),
				      RC_WIRE_OK, "request %zu cut at %d", i, cut);
		/* One byte more than the header says. */
		cr_assert_eq(rc_client_decode_request(buf, (uint32_t)n + 1, &cluster, &d),
			     RC_WIRE_EBODY);
		cr_assert_eq(rc_client_encode_request(buf, (uint32_t)n - 1, 77, r), -ENOSPC);
	}
}

Test(client, request_fields_out_of_range_are_refused)
{
	uint8_t buf[512];
	struct rc_client_request d;
	uint32_t cluster;
	int32_t n = rc_client_encode_request(buf, sizeof(buf), 1, &requests[0]);

	cr_assert_gt(n, 0);
	buf[0] ^= 1; /* magic */
	cr_assert_eq(rc_client_decode_request(buf, (uint32_t)n, &cluster, &d), RC_WIRE_EMAGIC);
	buf[0] ^= 1;
	buf[3] = 5; /* a Raft message type */
	cr_assert_eq(rc_client_decode_request(buf, (uint32_t)n, &cluster, &d), RC_WIRE_ETYPE);
	buf[3] = RC_CLIENT_REQUEST;
	buf[8] = 1; /* from must be 0 */
	cr_assert_eq(rc_client_decode_request(buf, (uint32_t)n, &cluster, &d), RC_WIRE_EFIELD);
	buf[8] = 0;
	buf[RC_WIRE_HEADER_BYTES] = 9; /* op */
	cr_assert_eq(rc_client_decode_request(buf, (uint32_t)n, &cluster, &d), RC_WIRE_EFIELD);
	buf[RC_WIRE_HEADER_BYTES] = RC_CLIENT_PUT;
	buf[RC_WIRE_HEADER_BYTES + 1] = RC_CLIENT_LOCAL; /* consistency on a write */
	cr_assert_eq(rc_client_decode_request(buf, (uint32_t)n, &cluster, &d), RC_WIRE_EFIELD);
	buf[RC_WIRE_HEADER_BYTES + 1] = 0;
	buf[RC_WIRE_HEADER_BYTES + 6] = 1; /* an expected value on a PUT */
	cr_assert_eq(rc_client_decode_request(buf, (uint32_t)n, &cluster, &d), RC_WIRE_EFIELD);
	buf[RC_WIRE_HEADER_BYTES + 6] = 0;
	buf[RC_WIRE_HEADER_BYTES + 4] = 4; /* value length disagrees with the body */
	cr_assert_eq(rc_client_decode_request(buf, (uint32_t)n, &cluster, &d), RC_WIRE_EBODY);
	buf[RC_WIRE_HEADER_BYTES + 4] = 5;
	cr_assert_eq(rc_client_decode_request(buf, (uint32_t)n, &cluster, &d), RC_WIRE_OK);
	/* The encoder refuses what the decoder would. */
	struct rc_client_request bad = requests[0];

	bad.key_len = 0;
	cr_assert_eq(rc_client_encode_request(buf, sizeof(buf), 1, &bad), -EINVAL);
	bad = requests[4];
	bad.consistency = 3;
	cr_assert_eq(rc_client_encode_request(buf, sizeof(buf), 1, &bad), -EINVAL);
	bad = requests[1];
	bad.value_len = 1;
	bad.value = (const uint8_t *)"x";
	cr_assert_eq(rc_client_encode_request(buf, sizeof(buf), 1, &bad), -EINVAL);
}

Test(client, responses_round_trip_and_are_checked)
{
	uint8_t buf[512];
	struct rc_client_response d;
	uint32_t cluster;
	struct rc_client_response ok = { .id = 9,
					 .status = RC_CLIENT_OK,
					 .index = 1234,
					 .value_len = 2,
					 .value = (const uint8_t *)"v1" };
	struct rc_client_response nl = { .id = 10, .status = RC_CLIENT_NOT_LEADER, .leader = 3 };
	int32_t n = rc_client_encode_response(buf, sizeof(buf), 5, &ok);

	cr_assert_gt(n, 0);
	cr_assert_eq(rc_client_decode_response(buf, (uint32_t)n, &cluster, &d), RC_WIRE_OK);
	cr_assert(d.id == 9 && d.status == RC_CLIENT_OK && d.index == 1234 && d.value_len == 2 &&
		  memcmp(d.value, "v1", 2) == 0 && cluster == 5);
	for (int32_t cut = 0; cut < n; cut++)
		cr_assert_neq(rc_client_decode_response(buf, (uint32_t)cut, &cluster, &d),
			      RC_WIRE_OK);
	/* A request is not a response. */
	int32_t m = rc_client_encode_request(buf + 256, 256, 5, &requests[0]);

	cr_assert_eq(rc_client_decode_response(buf + 256, (uint32_t)m, &cluster, &d),
		     RC_WIRE_ETYPE);
	n = rc_client_encode_response(buf, sizeof(buf), 5, &nl);
	cr_assert_eq(rc_client_decode_response(buf, (uint32_t)n, &cluster, &d), RC_WIRE_OK);
	cr_assert_eq(d.leader, 3);
	buf[RC_WIRE_HEADER_BYTES] = RC_CLIENT_STATUS_COUNT; /* status out of range */
	cr_assert_eq(rc_client_decode_response(buf, (uint32_t)n, &cluster, &d), RC_WIRE_EFIELD);
	nl.value_len = 1; /* a value with a failure */
	nl.value = (const uint8_t *)"x";
	cr_assert_eq(rc_client_encode_response(buf, sizeof(buf), 5, &nl), -EINVAL);
	cr_assert_str_eq(rc_client_strstatus(RC_CLIENT_UNKNOWN), "unknown outcome");
	cr_assert_str_eq(rc_client_strstatus(200), "invalid");
}
