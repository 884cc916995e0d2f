/* record.h: the NDJSON record loop every filter runs on.
 *
 * Records stay bytes. The loop locates the top-level members of each line
 * without parsing their values, hands the program the members it asks for
 * (read through lib/envelope.h and lib/json.h), and writes the original bytes with the program's new
 * members appended; a member the program sets that the line already has is
 * replaced, never duplicated. */
#ifndef BB_RECORD_H
#define BB_RECORD_H

#include "envelope.h"
#include "json.h"
#include "jwrite.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BB_LINE_MAX ((size_t)1 << 20)       /* longest record: longer is too_large */
#define BB_LINE_HARD_MAX ((size_t)16 << 20) /* longest line held in memory at all */
#define BB_EMIT_MAX 16

struct bb_member {
	const char *key; /* raw key bytes between the quotes */
	size_t keylen;
	const char *val; /* the value's JSON text */
	size_t vallen;
};

struct bb_record {
	const char *line; /* the line, without its newline */
	size_t len;       /* bytes held: at most BB_LINE_HARD_MAX */
	size_t total_len; /* the line's real length */
	size_t lineno;    /* 1-based input line number */
	int too_large;    /* total_len > BB_LINE_MAX */
	int unterminated; /* the last line of the input, without its newline */
	int is_object;    /* the line is one JSON object and members[] indexes it */
	struct bb_member *m;
	size_t nm, cap;
	/* The line read by the JSON layer, during the callback only: json_ok
	 * when it is valid JSON (else jerr says where it is not), and env its
	 * envelope when it is an object. */
	int json_ok;
	struct bb_jerr jerr;
	struct bb_envelope env;
};

struct bb_emit {
	int fresh;    /* write only the members set here, not the line's own */
	int suppress; /* the program wrote its own output for this record */
	int n;
	struct {
		const char *key;
		char *json; /* the value's JSON text (malloc'd); NULL: remove the member */
		size_t len;
	} add[BB_EMIT_MAX];
};

/* Returns 0 to go on, or an exit status to stop after this record is written. */
typedef int (*bb_record_fn)(struct bb_record *rec, struct bb_emit *em, void *ctx);

/* Read records from fd until end of input or SIGTERM/SIGINT, write each to out.
 * Returns 0, the callback's stop status, or BB_EX_IOERR. */
int bb_records_each(int fd, FILE *out, bb_record_fn fn, void *ctx);

/* The same loop for programs that act on time as well as input (bb-store
 * commits every N records or T ms). on_idle runs whenever the input has no
 * complete line waiting, and again when the wait it asked for (*wait_ms; -1:
 * none) has passed with no input. Returns 0 or a stop status. */
struct bb_loop {
	bb_record_fn on_record;
	int (*on_idle)(void *ctx, int *wait_ms);
	void *ctx;
	int lazy_body; /* the body is decoded only if bb_envelope_body asks for it */
	int write_behind; /* out is stdout, written by a thread of its own (wbehind.h):
			   * for a program that writes nothing to stdout but through out */
};
int bb_records_run(int fd, FILE *out, const struct bb_loop *loop);

/* bb_records_each for a stage that never reads the body: env is read by
 * bb_envelope_read_lazy, so body_text is unset and the body is decoded only
 * if bb_envelope_body asks for it. */
int bb_records_each_lazy(int fd, FILE *out, bb_record_fn fn, void *ctx);

/* Index a line's top-level members. 0 when it is one JSON object. */
int bb_record_index(struct bb_record *rec);

/* A line over BB_LINE_MAX is not parsed by the loop (json_ok 0, env empty).
 * A stage that must still settle it (bb-ack, bb-sqs-send) parses it here,
 * into its own doc, when the line is held whole: 0 with json_ok and env set
 * when it is a JSON object. */
int bb_record_read_whole(struct bb_record *rec, struct bb_jdoc *doc);

const struct bb_member *bb_record_member(const struct bb_record *rec, const char *key);

/* A string member decoded to its bytes (malloc'd, NUL-terminated, *len set),
 * or NULL when absent, not a string, or badly escaped. */
char *bb_record_string(const struct bb_record *rec, const char *key, size_t *len);

/* A copy of an indexed record that outlives the loop's buffer: the line and
 * the member index, moved onto the copy. 0, or -1 out of memory. Free with
 * bb_record_free. */
int bb_record_copy(struct bb_record *dst, const struct bb_record *src);
void bb_record_free(struct bb_record *r);

/* Index an object member as a record of its own, to read a few of its
 * members without parsing it all. 0 when it is an object; free sub->m after. */
int bb_record_sub(const struct bb_record *rec, const char *key, struct bb_record *sub);

/* Call fn with the JSON text of each element of a JSON array text, in order;
 * stops at fn's first non-zero return and returns it. -1 when not an array. */
int bb_json_array_each(const char *val, size_t len,
		       int (*fn)(const char *elem, size_t n, void *ctx), void *ctx);

/* Add or replace a member of the output record with the writer's text (the
 * writer is left empty, ready for the next value). */
void bb_emit_jw(struct bb_emit *em, const char *key, struct bb_jw *w);
/* … with a string value, or a copy of JSON text. */
void bb_emit_str(struct bb_emit *em, const char *key, const char *s, size_t n);
void bb_emit_raw(struct bb_emit *em, const char *key, const char *json, size_t n);
/* Release what the members set hold (the loop does it after each callback). */
void bb_emit_free(struct bb_emit *em);
/* Remove a member: for a stage's own keys only. */
void bb_emit_remove(struct bb_emit *em, const char *key);

/* Reject the record: status "rejected" and error {type, message, stage,
 * path} (path NULL: null). The one way a stage marks a record it cannot
 * handle; the record then goes on for bb-store to keep and bb-ack to settle. */
void bb_reject(struct bb_emit *em, const char *type, const char *message, size_t n,
	       const char *stage, const char *path);

/* Reject an ok record that has no `notification` (bb-validate did not run
 * before this program): error type schema, path notification, and the one
 * wording that says so, also left in why for the caller's own report. */
void bb_reject_unvalidated(struct bb_emit *em, const char *stage, char *why, size_t whylen);

/* bb_reject with a message formatted from fmt. */
void bb_record_reject(struct bb_emit *em, const char *type, const char *stage, const char *path,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The most bytes bb_record_write writes for the record with the emitted
 * members: a stage checks it against BB_LINE_MAX before it writes. */
size_t bb_record_out_len(const struct bb_record *r, const struct bb_emit *em);

/* Write the record with the emitted members to out (what the loop does after
 * each callback; exposed for programs that write records elsewhere too). */
void bb_record_write(const struct bb_record *rec, const struct bb_emit *em, FILE *out);

/* SIGTERM and SIGINT make the loop stop reading; SIGPIPE becomes EPIPE. */
void bb_signals_install(void);
int bb_stopping(void);

#endif
