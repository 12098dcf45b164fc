/*
 * Happens-before edges ThreadSanitizer cannot see for itself. liburcu is not instrumented, so
 * TSan does not know that a grace period orders every read-side section that ended before it
 * with the callback that follows it, nor that its lock-free stack and hash table publish what a
 * pointer leads to. These annotations state exactly those edges, and nothing more: a reader
 * still inside its section has not released, so a reuse during it is still reported.
 * They compile to nothing outside a -fsanitize=thread build.
 */
#ifndef REPLICORE_TSAN_H
#define REPLICORE_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define RC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RC_TSAN 1
#endif
#endif

#ifdef RC_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define RC_TSAN_ACQUIRE(p) __tsan_acquire((void *)(p))
#define RC_TSAN_RELEASE(p) __tsan_release((void *)(p))
#else
#define RC_TSAN_ACQUIRE(p) ((void)(p))
#define RC_TSAN_RELEASE(p) ((void)(p))
#endif

/* The token every read-side section releases and every grace-period callback acquires. */
extern char rc_rcu_tsan_grace;

#endif
