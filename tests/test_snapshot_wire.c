/*
 * The InstallSnapshot frames' codec (replicore/snapshot.h): round trips, and every malformed
 * frame refused with its reason.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include <replicore/snapshot.h>

static const uint8_t data[100] = { 1, 2, 3, 4, 5 };

static struct rc_snap_chunk
chunk(void)
{
	return (struct rc_snap_chunk){ .from = 1,
				       .to = 3,
				       .term = 7,
				       .index = 5000,
				       .snap_term = 6,
				       .total = 1000,
				       .offset = 900,
				       .crc = 0xabcdef01u,
				       .len = 100,
				       .data = data };
}

Test(snapshot_wire, a_chunk_and_an_ack_round_trip)
{
	uint8_t buf[512];
	struct rc_snap_chunk c = chunk(), out;
	struct rc_snap_ack a = { .from = 3,
				 .to = 1,
				 .term = 7,
				 .index = 5000,
				 .next = 1000,
				 .status = RC_SNAP_INSTALLED },
			   aout;
	uint32_t cluster = 0;
	int32_t n = rc_snap_encode_chunk(buf, sizeof(buf), 42, 9, &c);

	cr_assert_eq(n, RC_WIRE_HEADER_BYTES + RC_SNAP_CHUNK_BYTES + 100);
	cr_assert_eq(rc_wire_frame_type(buf, (uint32_t)n), RC_WIRE_SNAP_CHUNK);
	cr_assert_eq(rc_snap_decode_chunk(buf, (uint32_t)n, &cluster, &out), RC_WIRE_OK);
	cr_assert_eq(cluster, 42);
	cr_assert(out.from == 1 && out.to == 3 && out.term == 7 && out.index == 5000 &&
		  out.snap_term == 6 && out.total == 1000 && out.offset == 900 &&
		  out.crc == 0xabcdef01u && out.len == 100);
	cr_assert_eq(memcmp(out.data, data, 100), 0);
	n = rc_snap_encode_ack(buf, sizeof(buf), 42, 10, &a);
	cr_assert_eq(n, RC_WIRE_HEADER_BYTES + RC_SNAP_ACK_BYTES);
	cr_assert_eq(rc_snap_decode_ack(buf, (uint32_t)n, &cluster, &aout), RC_WIRE_OK);
	cr_assert(aout.from == 3 && aout.to == 1 && aout.term == 7 && aout.index == 5000 &&
		  aout.next == 1000 && aout.status == RC_SNAP_INSTALLED);
	cr_assert_eq(rc_snap_encode_chunk(buf, 100, 42, 9, &c), -ENOSPC);
}

/* Encodes the chunk c, lets tweak damage the frame, and returns the decoder's verdict. */
static enum rc_wire_error
decode_damaged(struct rc_snap_chunk c, void (*tweak)(uint8_t *buf, int32_t *n))
{
	uint8_t buf[512];
	struct rc_snap_chunk out;
	uint32_t cluster;
	int32_t n = rc_snap_encode_chunk(buf, sizeof(buf), 1, 1, &c);

	if (tweak != NULL)
		tweak(buf, &n);
	return rc_snap_decode_chunk(buf, (uint32_t)n, &cluster, &out);
}

static void
cut_short(uint8_t *buf, int32_t *n)
{
	(void)buf;
	*n = 40;
}

static void
cut_body(uint8_t *buf, int32_t *n)
{
	(void)buf;
	*n -= 1; /* the header's body length no longer matches */
}

static void
bad_magic(uint8_t *buf, int32_t *n)
{
	(void)n;
	buf[0] ^= 1;
}

static void
ack_type(uint8_t *buf, int32_t *n)
{
	(void)n;
	buf[3] = RC_WIRE_SNAP_ACK;
}

static void
reserved(uint8_t *buf, int32_t *n)
{
	(void)n;
	buf[30] = 1;
}

static void
len_field(uint8_t *buf, int32_t *n)
{
	(void)n;
	buf[RC_WIRE_HEADER_BYTES + 44] ^= 1; /* len disagrees with the frame */
}

Test(snapshot_wire, malformed_chunks_are_refused_with_their_reason)
{
	struct rc_snap_chunk c = chunk();

	cr_assert_eq(decode_damaged(c, cut_short), RC_WIRE_ESHORT);
	cr_assert_eq(decode_damaged(c, cut_body), RC_WIRE_EBODY);
	cr_assert_eq(decode_damaged(c, bad_magic), RC_WIRE_EMAGIC);
	cr_assert_eq(decode_damaged(c, ack_type), RC_WIRE_ETYPE);
	cr_assert_eq(decode_damaged(c, reserved), RC_WIRE_EFIELD);
	cr_assert_eq(decode_damaged(c, len_field), RC_WIRE_EBODY);
	c = chunk();
	c.to = c.from;
	cr_assert_eq(decode_damaged(c, NULL), RC_WIRE_EFIELD);
	c = chunk();
	c.offset = 950; /* runs past the total */
	cr_assert_eq(decode_damaged(c, NULL), RC_WIRE_EFIELD);
	c = chunk();
	c.index = 0;
	cr_assert_eq(decode_damaged(c, NULL), RC_WIRE_EFIELD);
	c = chunk();
	c.term = 5; /* below the snapshot's own term */
	cr_assert_eq(decode_damaged(c, NULL), RC_WIRE_EFIELD);
}

Test(snapshot_wire, malformed_acks_are_refused)
{
	uint8_t buf[128];
	struct rc_snap_ack a = { .from = 3, .to = 1, .term = 7, .index = 5000, .status = 9 }, out;
	uint32_t cluster;
	int32_t n = rc_snap_encode_ack(buf, sizeof(buf), 1, 1, &a);

	cr_assert_eq(rc_snap_decode_ack(buf, (uint32_t)n, &cluster, &out), RC_WIRE_EFIELD);
	a.status = RC_SNAP_RECEIVING;
	a.index = 0;
	n = rc_snap_encode_ack(buf, sizeof(buf), 1, 1, &a);
	cr_assert_eq(rc_snap_decode_ack(buf, (uint32_t)n, &cluster, &out), RC_WIRE_EFIELD);
	cr_assert_eq(rc_wire_frame_type(buf, 10), 0);
	cr_assert_eq(rc_snap_decode_chunk(buf, (uint32_t)n, &cluster, &(struct rc_snap_chunk){ 0 }),
		     RC_WIRE_ESHORT);
}
