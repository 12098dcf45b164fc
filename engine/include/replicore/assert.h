/* Assertions that stay on in every build: a failed one is a programmer error and aborts. */
#ifndef REPLICORE_ASSERT_H
#define REPLICORE_ASSERT_H

/* Prints the failed expression with its place to stderr and aborts. Never returns. */
__attribute__((noreturn, cold)) void rc_assert_fail(const char *expr, const char *file, int line,
						    const char *func);

#define RC_ASSERT(expr)                                                                            \
	do {                                                                                       \
		if (__builtin_expect(!(expr), 0))                                                  \
			rc_assert_fail(#expr, __FILE__, __LINE__, __func__);                       \
	} while (0)

#endif
