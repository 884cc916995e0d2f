/* pqload.h: libpq, loaded the first time a program meets a PostgreSQL URL.
 *
 * libpq brings some twenty libraries with it (GnuTLS, Kerberos, LDAP, SASL),
 * whose pages cost every program that links it about 3.6 MiB of resident
 * memory before it does anything, on SQLite as much as on PostgreSQL. So bb
 * does not link it: lib/db.c calls it through the pointers here, which
 * bb_pq_load fills once with dlopen(3). Below, each PQ function's name
 * stands for its pointer, so db.c reads as plain libpq. */
#ifndef BB_PQLOAD_H
#define BB_PQLOAD_H

#include <libpq-fe.h>
#include <stddef.h>

#define BB_PQ_FUNCS(X) \
	X(PQclear) X(PQcmdTuples) X(PQconnectdb) X(PQconninfoFree) X(PQconninfoParse) X(PQconsumeInput) \
	X(PQdescribePrepared) X(PQenterPipelineMode) X(PQerrorMessage) X(PQescapeIdentifier) X(PQexec) \
	X(PQexecParams) X(PQexecPrepared) X(PQexitPipelineMode) X(PQfinish) X(PQflush) X(PQfreemem) \
	X(PQgetResult) X(PQgetisnull) X(PQgetlength) X(PQgetvalue) X(PQnfields) X(PQnotifies) X(PQnparams) \
	X(PQntuples) X(PQparamtype) X(PQpipelineSync) X(PQprepare) X(PQresultErrorField) X(PQresultStatus) \
	X(PQsendQueryParams) X(PQsendQueryPrepared) X(PQsetNoticeProcessor) X(PQsocket) X(PQstatus)

struct bb_pq {
#define BB_PQ_POINTER(f) __typeof__(f) *f;
	BB_PQ_FUNCS(BB_PQ_POINTER)
#undef BB_PQ_POINTER
};
extern struct bb_pq bb_pq;

/* Load libpq, once for the process (any thread may ask): 0, or -1 with
 * err saying why ("unable to load libpq.so.5: REASON"). */
int bb_pq_load(char *err, size_t errlen);

#ifndef BB_PQLOAD_SELF
#define PQclear bb_pq.PQclear
#define PQcmdTuples bb_pq.PQcmdTuples
#define PQconnectdb bb_pq.PQconnectdb
#define PQconninfoFree bb_pq.PQconninfoFree
#define PQconninfoParse bb_pq.PQconninfoParse
#define PQconsumeInput bb_pq.PQconsumeInput
#define PQdescribePrepared bb_pq.PQdescribePrepared
#define PQenterPipelineMode bb_pq.PQenterPipelineMode
#define PQerrorMessage bb_pq.PQerrorMessage
#define PQescapeIdentifier bb_pq.PQescapeIdentifier
#define PQexec bb_pq.PQexec
#define PQexecParams bb_pq.PQexecParams
#define PQexecPrepared bb_pq.PQexecPrepared
#define PQexitPipelineMode bb_pq.PQexitPipelineMode
#define PQfinish bb_pq.PQfinish
#define PQflush bb_pq.PQflush
#define PQfreemem bb_pq.PQfreemem
#define PQgetResult bb_pq.PQgetResult
#define PQgetisnull bb_pq.PQgetisnull
#define PQgetlength bb_pq.PQgetlength
#define PQgetvalue bb_pq.PQgetvalue
#define PQnfields bb_pq.PQnfields
#define PQnotifies bb_pq.PQnotifies
#define PQnparams bb_pq.PQnparams
#define PQntuples bb_pq.PQntuples
#define PQparamtype bb_pq.PQparamtype
#define PQpipelineSync bb_pq.PQpipelineSync
#define PQprepare bb_pq.PQprepare
#define PQresultErrorField bb_pq.PQresultErrorField
#define PQresultStatus bb_pq.PQresultStatus
#define PQsendQueryParams bb_pq.PQsendQueryParams
#define PQsendQueryPrepared bb_pq.PQsendQueryPrepared
#define PQsetNoticeProcessor bb_pq.PQsetNoticeProcessor
#define PQsocket bb_pq.PQsocket
#define PQstatus bb_pq.PQstatus
#endif

#endif
