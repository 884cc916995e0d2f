/* bb-serve: the live dashboard, its Server-Sent Events stream and the HTTP
 * API over bb's database (SQLite or PostgreSQL), served by libmicrohttpd
 * on 127.0.0.1:8080 unless told otherwise. It runs until SIGTERM or
 * SIGINT, then ends every stream and exits 0. */
#include "serve.h"
#include "cli.h"
#include "exitcode.h"
#include "log.h"
#include "parse.h"
#include "timeutil.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USAGE "usage: bb-serve [--listen ADDRESS:PORT] [--db URL] [--token-file FILE] [--max-connections N]\n" \
	"                [--timeout DURATION] [--heartbeat DURATION]\n"
#define HELP USAGE "\n" \
	"  --listen A:P          where to listen (default: [serve] listen, else 127.0.0.1:8080)\n" \
	"  --db URL              the database (default: [db] url, else sqlite:bb.db)\n" \
	"  --token-file FILE     the acknowledge token (default: [serve] token_file; none: refused)\n" \
	"  --max-connections N   connections at once, streams included (default 512)\n" \
	"  --timeout DURATION    an idle or slow connection is closed after this (default 30s)\n" \
	"  --heartbeat DURATION  a comment on an idle stream this often (default 15s)\n"

struct opts {
	const char *url, *listen, *token_file, *max_conn, *timeout, *heartbeat;
};

static int usage(const char *fmt, const char *arg)
{
	return bb_cli_usage(USAGE, fmt, arg);
}

static int options(int argc, char **argv, struct opts *o)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' }, { "db", required_argument, NULL, 'd' },
		{ "token-file", required_argument, NULL, 't' }, { "max-connections", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 'T' }, { "heartbeat", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'l': o->listen = optarg; break;
		case 'd': o->url = optarg; break;
		case 't': o->token_file = optarg; break;
		case 'm': o->max_conn = optarg; break;
		case 'T': o->timeout = optarg; break;
		case 'H': o->heartbeat = optarg; break;
		default: return usage(NULL, NULL);
		}
	}
	return optind < argc ? usage("unexpected argument '%s'", argv[optind]) : 0;
}

/* The token: the file's first line, without the line break. */
static int read_token(struct serve *s, const char *path)
{
	FILE *f = fopen(path, "r");
	size_t cap = 0;
	ssize_t n = f ? getline(&s->token, &cap, f) : -1;
	int err = errno;

	if (f)
		fclose(f);
	while (n > 0 && (s->token[n - 1] == '\n' || s->token[n - 1] == '\r' || s->token[n - 1] == ' '))
		n--;
	if (n <= 0) {
		free(s->token);
		s->token = NULL;
		return bb_fatal(BB_EX_CONFIG, "unable to read token file '%s': %s", path,
				f ? "it is empty" : strerror(err));
	}
	s->token_n = (size_t)n;
	return 0;
}

/* A bad value is a usage error when it came from the flag, and a
 * configuration error when it came from the [serve] key. */
static int bad_value(const char *flag, const char *key, int from_flag, const char *v, const char *want)
{
	if (from_flag) {
		bb_say("--%s '%s': expected %s", flag, v, want);
		return usage(NULL, NULL);
	}
	return bb_fatal(BB_EX_CONFIG, "unable to use [serve] %s '%s': expected %s", key, v, want);
}

/* A flag, else the [serve] key, else the default: a duration > 0. */
static int duration(const char *name, const char *flag_value, const char *v, int64_t *ms)
{
	if (bb_duration_parse(v, ms) == 0 && *ms > 0)
		return 0;
	return bad_value(name, name, v == flag_value, v, "a duration such as 30s, 5m or 24h");
}

static int configure(struct serve *s, struct opts *o, const struct bb_conf *conf)
{
	int64_t n = 512, timeout = 30000;
	const char *v;
	int rc = 0;

	s->url = o->url ? o->url : (v = bb_conf_get(conf, "db", "url")) ? v : "sqlite:bb.db";
	s->listen = o->listen ? o->listen : (v = bb_conf_get(conf, "serve", "listen")) ? v : "127.0.0.1:8080";
	o->token_file = o->token_file ? o->token_file : bb_conf_get(conf, "serve", "token_file");
	if ((v = o->max_conn ? o->max_conn : bb_conf_get(conf, "serve", "max_connections")) &&
	    bb_parse_i64(v, 1, 65536, &n) != 0)
		rc = bad_value("max-connections", "max_connections", v == o->max_conn, v,
			       "a whole number from 1 to 65536");
	s->max_connections = (unsigned)n;
	if (rc == 0 && (v = o->timeout ? o->timeout : bb_conf_get(conf, "serve", "timeout")))
		rc = duration("timeout", o->timeout, v, &timeout);
	s->timeout_s = (unsigned)((timeout + 999) / 1000);
	s->heartbeat_ms = 15000;
	if (rc == 0 && (v = o->heartbeat ? o->heartbeat : bb_conf_get(conf, "serve", "heartbeat")))
		rc = duration("heartbeat", o->heartbeat, v, &s->heartbeat_ms);
	s->snooze_ms = 30 * 60 * 1000;
	if (rc == 0 && (v = bb_conf_get(conf, "alert", "snooze")) && (bb_duration_parse(v, &s->snooze_ms) != 0 || s->snooze_ms <= 0))
		rc = bb_fatal(BB_EX_CONFIG, "unable to use [alert] snooze '%s': expected a duration such as 30m", v);
	s->feed.poll_ms = 50;
	s->feed.gap_wait_ms = 5000;
	if (rc == 0 && o->token_file)
		rc = read_token(s, o->token_file);
	return rc;
}

static int start(struct serve *s)
{
	char err[600] = "";
	int rc = feed_start(s, err, sizeof err);

	if (rc == BB_DB_OK)
		rc = serve_start(s, err, sizeof err);
	if (rc == BB_DB_OK) {
		const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
		char port[8];
		snprintf(port, sizeof port, "%u", di ? di->port : 0);
		bb_log(BB_INFO, NULL, "listening", "listen", s->listen, "port", port, "db", s->url, "acknowledge",
		       s->token ? "on" : "off", NULL);
		return 0;
	}
	if (strncmp(err, "unable to listen", 16) == 0) /* BADURL: no address at all */
		return bb_fatal(rc == BB_DB_BADURL ? BB_EX_CONFIG : BB_EX_TEMPFAIL, "%s", err);
	return bb_fatal(bb_db_exit_status(rc),
			"unable to open database '%s': %s", s->url, err);
}

/* Serve until SIGTERM or SIGINT (blocked in every thread, taken here). */
static void run(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigwait(&set, &sig);
	bb_log(BB_INFO, NULL, "stopping", "signal", sig == SIGTERM ? "TERM" : "INT", NULL);
}

static void block_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	static struct serve s; /* the feed's ring is large */
	struct opts o = { 0 };
	struct bb_conf *conf = NULL;
	char err[600];
	int rc;

	bb_log_init("bb-serve");
	if (bb_cli_early(argc, argv, HELP, "bb-serve " BB_VERSION))
		return 0;
	block_signals();
	if (bb_conf_load(&conf, err, sizeof err) != 0)
		return bb_fatal(BB_EX_CONFIG, "%s", err);
	rc = options(argc, argv, &o);
	if (rc == 0)
		rc = configure(&s, &o, conf);
	if (rc == 0)
		rc = status_configure(&s, conf);
	if (rc == 0)
		rc = trends_configure(&s, conf);
	if (rc == 0)
		rc = start(&s);
	if (rc == 0)
		run();
	serve_stop(&s);
	feed_join(&s.feed);
	free(s.token);
	status_destroy(&s);
	trends_destroy(&s);
	bb_conf_free(conf);
	return rc;
}
