/*
 * rc-lincheck: checks that a key-value history (JSON lines, see tools/lincheck/README.md) is
 * linearizable. Prints one verdict per key and, for each key that is not, the shortest prefix
 * of its operations that no order explains.
 *
 *   rc-lincheck FILE     (FILE "-" reads standard input)
 *
 * Exit status: 0 linearizable, 1 not linearizable, 2 bad input or usage.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lincheck.h"

static void
usage(FILE *out)
{
	fputs("usage: rc-lincheck FILE\n"
	      "Checks that the key-value history in FILE (one JSON operation per line;\n"
	      "\"-\" reads standard input) is linearizable, key by key, against a\n"
	      "single-register model.\n"
	      "Exit status: 0 linearizable, 1 not linearizable, 2 bad input or usage.\n",
	      out);
}

int
main(int argc, char **argv)
{
	struct rc_lincheck_history history = { 0 };
	struct rc_lincheck_result result;
	const char *path = NULL;
	char err[256];
	FILE *file;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "rc-lincheck: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		} else if (path == NULL) {
			path = argv[i];
		} else {
			fprintf(stderr, "rc-lincheck: one FILE only\n");
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL) {
		usage(stderr);
		return 2;
	}
	file = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (file == NULL) {
		fprintf(stderr, "rc-lincheck: %s: %s\n", path, strerror(errno));
		return 2;
	}
	rc = rc_lincheck_parse_file(&history, file, err, sizeof(err));
	if (file != stdin)
		fclose(file);
	if (rc != 0) {
		fprintf(stderr, "rc-lincheck: %s:%s\n", path, err);
		rc_lincheck_history_free(&history);
		return 2;
	}
	rc = rc_lincheck_check(&history, &result, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "rc-lincheck: %s: %s\n", path, err);
		rc_lincheck_history_free(&history);
		return 2;
	}
	rc_lincheck_result_print(stdout, &history, &result);
	printf("%s: %zu operations, %zu keys, %s\n", path, history.op_count, result.key_count,
	       result.violation_count == 0 ? "linearizable" : "NOT linearizable");
	rc = result.violation_count == 0 ? 0 : 1;
	rc_lincheck_result_free(&result);
	rc_lincheck_history_free(&history);
	return rc;
}
