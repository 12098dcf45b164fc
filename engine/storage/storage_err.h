/* The storage files' error messages: "what: why" written into the caller's buffer. */
#ifndef REPLICORE_STORAGE_ERR_H
#define REPLICORE_STORAGE_ERR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Writes a formatted message into err (errlen bytes); nothing when err is NULL. */
__attribute__((format(printf, 3, 4))) static inline void
storage_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

#endif
