/* The failure path of RC_ASSERT. */
#include <stdio.h>
#include <stdlib.h>

#include <replicore/assert.h>

/* Prints the failed expression and where it failed, then aborts. */
void
rc_assert_fail(const char *expr, const char *file, int line, const char *func)
{
	fprintf(stderr, "replicore: assertion failed: %s (%s:%d, %s)\n", expr, file, line, func);
	fflush(stderr);
	abort();
}
