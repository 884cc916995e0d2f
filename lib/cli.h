/* cli.h: what every program's command line shares. */
#ifndef BB_CLI_H
#define BB_CLI_H

/* --help and --version answer before anything else is read, so a broken
 * config file never hides the usage. Returns 1 when one was answered. */
int bb_cli_early(int argc, char **argv, const char *usage, const char *version_line);

#endif
