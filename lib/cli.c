/* cli.c: what every program answers the same way: --help, --version and
 * a usage error. */
#include "cli.h"
#include "exitcode.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

int bb_cli_early(int argc, char **argv, const char *help, const char *version_line)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("%s\nSee %s(1).\n", help, bb_prog());
			return 1;
		}
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			puts(version_line);
			return 1;
		}
	}
	return 0;
}

int bb_cli_usage(const char *usage, const char *fmt, const char *arg)
{
	if (fmt)
		bb_say(fmt, arg);
	fputs(usage, stderr);
	return BB_EX_USAGE;
}
