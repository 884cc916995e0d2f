/* conf.h: configuration. A key [section] name is looked up in the environment
 * as BB_SECTION_NAME (upper case) and then in the INI file ($BB_CONFIG, else
 * /etc/bb/bb.conf); command-line flags, applied by main(), override both. */
#ifndef BB_CONF_H
#define BB_CONF_H

#include <stddef.h>

struct bb_conf;

/* Load the file. A missing /etc/bb/bb.conf is an empty config; a missing
 * $BB_CONFIG is an error, described in err, and so is a file with syntax
 * errors or keys bb.conf(5) does not list: each is reported as an error of
 * its own, "unable to load config: FILE:LINE: ...", all but the last on
 * stderr here and the last in err, for main() to report as it exits 78. */
int bb_conf_load(struct bb_conf **out, char *err, size_t errlen);
void bb_conf_free(struct bb_conf *c);

/* The value, or NULL. The returned string lives as long as c (or the environment). */
const char *bb_conf_get(const struct bb_conf *c, const char *section, const char *name);

/* Where the values came from, for messages: the file's path or "(none)". */
const char *bb_conf_path(const struct bb_conf *c);

#endif
