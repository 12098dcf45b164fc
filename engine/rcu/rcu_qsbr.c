/* QSBR's call_rcu and barrier (see rcu_qsbr.h). */
#include <urcu/urcu-qsbr.h>

#include "rcu_qsbr.h"

/* Queues fn(head) after a QSBR grace period. */
void
rcu_qsbr_call(struct rcu_head *head, void (*fn)(struct rcu_head *head))
{
	urcu_qsbr_call_rcu(head, fn);
}

/* Waits for every QSBR callback queued so far. */
void
rcu_qsbr_barrier(void)
{
	urcu_qsbr_barrier();
}
