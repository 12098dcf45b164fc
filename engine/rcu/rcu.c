/*
 * RCU readers of two flavours and a deferral that waits for both (see rcu.h).
 *
 * liburcu's QSBR and memb flavours keep separate reader registries and separate call_rcu
 * threads. A callback deferred here first waits for a memb grace period; on memb's call_rcu
 * thread it is handed to QSBR's call_rcu and waits for a QSBR grace period; then it runs. Each
 * hop is made from a thread registered with the flavour it calls (registered lazily here: a memb
 * registration outside any read-side section and an offline QSBR registration hold no grace
 * period back).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <urcu/urcu-memb.h>
#include <urcu/urcu-qsbr.h>

#include <replicore/assert.h>
#include <replicore/rcu.h>

#include "rcu_qsbr.h"
#include "tsan.h"

char rc_rcu_tsan_grace;
/* Released by every callback once it ran, acquired by rc_rcu_barrier(). */
static char rc_rcu_tsan_done;

/* The flavour this thread registered through rc_rcu_register(). */
static __thread enum rc_rcu_flavor rcu_flavor;
/* Registrations made here so that this thread may call a flavour's call_rcu. */
static __thread bool rcu_memb_helper;
static __thread bool rcu_qsbr_helper;

static _Atomic uint64_t rcu_deferred_count;
static _Atomic uint64_t rcu_completed_count;

/* Registers the calling thread with flavour f; see rcu.h. */
int
rc_rcu_register(enum rc_rcu_flavor f)
{
	if (rcu_flavor != RC_RCU_NONE)
		return -EALREADY;
	switch (f) {
	case RC_RCU_QSBR:
		if (rcu_qsbr_helper) { /* registered (offline) to defer: come online instead */
			urcu_qsbr_thread_online();
			rcu_qsbr_helper = false;
		} else {
			urcu_qsbr_register_thread();
		}
		break;
	case RC_RCU_MEMB:
		if (rcu_memb_helper)
			rcu_memb_helper = false; /* already registered to defer */
		else
			urcu_memb_register_thread();
		break;
	default:
		return -EINVAL;
	}
	rcu_flavor = f;
	return 0;
}

/* Unregisters the calling thread, helper registrations included. */
void
rc_rcu_unregister(void)
{
	RC_TSAN_RELEASE(&rc_rcu_tsan_grace);
	if (rcu_flavor == RC_RCU_QSBR || rcu_qsbr_helper)
		urcu_qsbr_unregister_thread();
	if (rcu_flavor == RC_RCU_MEMB || rcu_memb_helper)
		urcu_memb_unregister_thread();
	rcu_flavor = RC_RCU_NONE;
	rcu_memb_helper = false;
	rcu_qsbr_helper = false;
}

/* The calling thread's flavour. */
enum rc_rcu_flavor
rc_rcu_thread_flavor(void)
{
	return rcu_flavor;
}

/* Begins a read-side section. */
void
rc_rcu_read_lock(void)
{
	RC_ASSERT(rcu_flavor != RC_RCU_NONE);
	if (rcu_flavor == RC_RCU_MEMB)
		urcu_memb_read_lock();
	else
		urcu_qsbr_read_lock();
}

/* Ends a read-side section. */
void
rc_rcu_read_unlock(void)
{
	if (rcu_flavor == RC_RCU_MEMB) {
		RC_TSAN_RELEASE(&rc_rcu_tsan_grace); /* QSBR's sections end at quiescent states */
		urcu_memb_read_unlock();
		return;
	}
	urcu_qsbr_read_unlock();
}

/* A QSBR thread's quiescent state; nothing for memb. */
void
rc_rcu_quiescent(void)
{
	RC_TSAN_RELEASE(&rc_rcu_tsan_grace);
	if (rcu_flavor == RC_RCU_QSBR)
		urcu_qsbr_quiescent_state();
}

/* Takes a QSBR thread offline. */
void
rc_rcu_offline(void)
{
	RC_TSAN_RELEASE(&rc_rcu_tsan_grace);
	if (rcu_flavor == RC_RCU_QSBR)
		urcu_qsbr_thread_offline();
}

/* Brings a QSBR thread back online. */
void
rc_rcu_online(void)
{
	if (rcu_flavor == RC_RCU_QSBR)
		urcu_qsbr_thread_online();
}

/* Last hop, after both grace periods: the owner's callback. */
static void
rcu_after_qsbr(struct rcu_head *head)
{
	struct rc_rcu_head *h = (struct rc_rcu_head *)head;

	RC_TSAN_ACQUIRE(&rc_rcu_tsan_grace);
	RC_TSAN_ACQUIRE(h); /* handed over through call_rcu's queues */
	h->fn(h);
	RC_TSAN_RELEASE(&rc_rcu_tsan_done); /* rc_rcu_barrier() returns after this */
	atomic_fetch_add_explicit(&rcu_completed_count, 1, memory_order_relaxed);
}

/* Second hop, on memb's call_rcu thread: wait for a QSBR grace period too. */
static void
rcu_after_memb(struct rcu_head *head)
{
	if (rcu_flavor != RC_RCU_QSBR) {
		if (!rcu_qsbr_helper) {
			urcu_qsbr_register_thread();
			urcu_qsbr_thread_offline();
			rcu_qsbr_helper = true;
		}
		urcu_qsbr_thread_online();
	}
	rcu_qsbr_call(head, rcu_after_qsbr);
	if (rcu_flavor != RC_RCU_QSBR)
		urcu_qsbr_thread_offline();
}

/* Defers h->fn past a grace period of both flavours. */
void
rc_rcu_defer(struct rc_rcu_head *h, void (*fn)(struct rc_rcu_head *h))
{
	if (rcu_flavor != RC_RCU_MEMB && !rcu_memb_helper) {
		urcu_memb_register_thread();
		rcu_memb_helper = true;
	}
	h->fn = fn;
	RC_TSAN_RELEASE(h);
	atomic_fetch_add_explicit(&rcu_deferred_count, 1, memory_order_relaxed);
	urcu_memb_call_rcu(&h->head, rcu_after_memb);
}

/* Waits for every deferred callback (memb's first: they queue the QSBR ones). */
void
rc_rcu_barrier(void)
{
	bool online = rcu_flavor == RC_RCU_QSBR;

	if (online)
		urcu_qsbr_thread_offline();
	urcu_memb_barrier();
	rcu_qsbr_barrier();
	RC_TSAN_ACQUIRE(&rc_rcu_tsan_done);
	if (online)
		urcu_qsbr_thread_online();
}

/* Callbacks deferred so far. */
uint64_t
rc_rcu_deferred(void)
{
	return atomic_load_explicit(&rcu_deferred_count, memory_order_relaxed);
}

/* Callbacks run so far. */
uint64_t
rc_rcu_completed(void)
{
	return atomic_load_explicit(&rcu_completed_count, memory_order_relaxed);
}
