/*
 * A bounded multi-producer, single-consumer ring of fixed-size slots (D. Vyukov's bounded queue:
 * a sequence number per slot, producers claim a position with one CAS). Lock-free for
 * producers, wait-free for the consumer; full is reported, never waited on.
 */
#ifndef REPLICORE_MPSC_H
#define REPLICORE_MPSC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct rc_mpsc {
	_Alignas(64) _Atomic uint64_t tail; /* next position producers claim */
	_Alignas(64) uint64_t head;	    /* next position the consumer reads */
	uint32_t mask;
	uint32_t slot_bytes; /* bytes of one slot, sequence word included */
	uint8_t *slots;
};

/* Sequence word at the start of slot pos. */
static inline _Atomic uint64_t *
rc_mpsc_seq(const struct rc_mpsc *q, uint64_t pos)
{
	return (_Atomic uint64_t *)(void *)(q->slots + (size_t)(pos & q->mask) * q->slot_bytes);
}

/* Prepares q over slots (count * slot_bytes bytes, count a power of two). */
static inline void
rc_mpsc_init(struct rc_mpsc *q, uint8_t *slots, uint32_t count, uint32_t slot_bytes)
{
	q->slots = slots;
	q->mask = count - 1;
	q->slot_bytes = slot_bytes;
	q->head = 0;
	atomic_store_explicit(&q->tail, 0, memory_order_relaxed);
	for (uint64_t i = 0; i < count; i++)
		atomic_store_explicit(rc_mpsc_seq(q, i), i, memory_order_relaxed);
}

/*
 * Claims a slot for a producer: returns a pointer to its payload area (slot_bytes - 8 bytes) and
 * the position in *pos, or NULL when the ring is full. Publish with rc_mpsc_publish().
 */
static inline void *
rc_mpsc_claim(struct rc_mpsc *q, uint64_t *pos)
{
	uint64_t p = atomic_load_explicit(&q->tail, memory_order_relaxed);

	for (;;) {
		uint64_t seq = atomic_load_explicit(rc_mpsc_seq(q, p), memory_order_acquire);
		int64_t dif = (int64_t)(seq - p);

		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(&q->tail, &p, p + 1,
								  memory_order_relaxed,
								  memory_order_relaxed))
				break;
		} else if (dif < 0) {
			return NULL; /* full */
		} else {
			p = atomic_load_explicit(&q->tail, memory_order_relaxed);
		}
	}
	*pos = p;
	return (uint8_t *)rc_mpsc_seq(q, p) + sizeof(uint64_t);
}

/* Makes the claimed slot at pos visible to the consumer. */
static inline void
rc_mpsc_publish(struct rc_mpsc *q, uint64_t pos)
{
	atomic_store_explicit(rc_mpsc_seq(q, pos), pos + 1, memory_order_release);
}

/* Consumer: the payload of the i-th oldest slot if it is published, else NULL. */
static inline const void *
rc_mpsc_peek(const struct rc_mpsc *q, uint32_t i)
{
	uint64_t pos = q->head + i;
	uint64_t seq = atomic_load_explicit(rc_mpsc_seq(q, pos), memory_order_acquire);

	if (i > q->mask || seq != pos + 1)
		return NULL;
	return (const uint8_t *)rc_mpsc_seq(q, pos) + sizeof(uint64_t);
}

/* Consumer: releases the n oldest slots, which rc_mpsc_peek() returned. */
static inline void
rc_mpsc_pop(struct rc_mpsc *q, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++, q->head++)
		atomic_store_explicit(rc_mpsc_seq(q, q->head), q->head + q->mask + 1,
				      memory_order_release);
}

#endif
