/*
 * RCU readers of replicore's shared state (the committed log, the key-value table), on liburcu.
 *
 * Two flavours serve two kinds of threads: QSBR for poll loops, whose read-side sections cost
 * nothing but which must announce a quiescent state between iterations (rc_rcu_quiescent) or go
 * offline before they block; memb for application threads, whose read-side sections cost a
 * compiler barrier and need no announcement. A thread registers once, with one flavour, through
 * rc_rcu_register(); the read functions below then use that flavour.
 *
 * Memory that readers of either flavour may still hold is given back with rc_rcu_defer(): the
 * callback runs on a liburcu call_rcu thread after a grace period of both flavours (a memb grace
 * period, then a QSBR one). Nothing here waits for a grace period on the caller's thread, so a
 * data-plane lcore may retire memory without ever blocking in synchronize_rcu().
 */
#ifndef REPLICORE_RCU_H
#define REPLICORE_RCU_H

#include <stdint.h>

#include <urcu/call-rcu.h>

enum rc_rcu_flavor {
	RC_RCU_NONE = 0, /* the thread is not a reader */
	RC_RCU_QSBR = 1, /* quiescent-state based: poll loops */
	RC_RCU_MEMB = 2, /* membarrier based: any application thread */
};

/* A piece of memory given back after a grace period; embed it in the object to free. */
struct rc_rcu_head {
	struct rcu_head head; /* liburcu's; used twice, one flavour after the other */
	void (*fn)(struct rc_rcu_head *h);
};

/*
 * Registers the calling thread as a reader of flavour f (a QSBR thread starts online). Returns 0,
 * -EALREADY when the thread is registered already, -EINVAL for an unknown flavour.
 */
int rc_rcu_register(enum rc_rcu_flavor f);

/* Unregisters the calling thread (it must be outside any read-side section). */
void rc_rcu_unregister(void);

/* The flavour the calling thread registered with, or RC_RCU_NONE. */
enum rc_rcu_flavor rc_rcu_thread_flavor(void);

/* Begins a read-side section on a registered thread (nests). Costs nothing for QSBR. */
void rc_rcu_read_lock(void);

/* Ends a read-side section begun by rc_rcu_read_lock(). */
void rc_rcu_read_unlock(void);

/*
 * Announces that the calling QSBR thread holds no reference to RCU-protected memory (call it
 * once per poll iteration, outside any read). A no-op for memb threads.
 */
void rc_rcu_quiescent(void);

/* A QSBR thread about to block (sleep, wait) goes offline; grace periods then skip it. */
void rc_rcu_offline(void);

/* Ends rc_rcu_offline(). */
void rc_rcu_online(void);

/*
 * Calls fn(h) once no reader of either flavour can still hold what h guards. Never blocks; may
 * be called from any thread, including a data-plane lcore. fn runs on a liburcu call_rcu thread.
 */
void rc_rcu_defer(struct rc_rcu_head *h, void (*fn)(struct rc_rcu_head *h));

/*
 * Waits until every callback deferred so far has run. Blocks: never on a data-plane lcore. A
 * QSBR caller is taken offline for the wait.
 */
void rc_rcu_barrier(void);

/* Callbacks deferred and run so far (for the counters of whoever defers). */
uint64_t rc_rcu_deferred(void);
uint64_t rc_rcu_completed(void);

#endif
