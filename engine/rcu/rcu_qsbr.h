/*
 * QSBR's call_rcu and barrier, from a compilation unit of their own: liburcu declares the
 * call_rcu family for whichever flavour's header a unit includes first, so one unit cannot call
 * both flavours' versions.
 */
#ifndef REPLICORE_RCU_QSBR_H
#define REPLICORE_RCU_QSBR_H

#include <urcu/call-rcu.h>

/* urcu_qsbr_call_rcu(). */
void rcu_qsbr_call(struct rcu_head *head, void (*fn)(struct rcu_head *head));

/* urcu_qsbr_barrier(). */
void rcu_qsbr_barrier(void);

#endif
