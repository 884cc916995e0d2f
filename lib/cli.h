/* cli.h: what every program's command line shares. */
#ifndef BB_CLI_H
#define BB_CLI_H

/* --help and --version answer before anything else is read, so a broken
 * config file never hides the usage. --help prints help (the usage, then a
 * line for each option) and the man page to read, named after bb_log_init's
 * program. Returns 1 when one was answered. */
int bb_cli_early(int argc, char **argv, const char *help, const char *version_line);

/* A usage error: what is wrong (fmt with arg, as bb_say says it; fmt NULL:
 * nothing), then the usage, on standard error. Returns BB_EX_USAGE. */
int bb_cli_usage(const char *usage, const char *fmt, const char *arg);

#endif
