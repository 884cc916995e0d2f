/* db-internal.h: what db.c uses from the modules beside it. */
#ifndef BB_DB_INTERNAL_H
#define BB_DB_INTERNAL_H

/* The name of the SQLite VFS that writes a connection's WAL frames in a
 * few large writes (db-wal.c), registered on first use; NULL when it could
 * not be, and the default VFS is used. */
const char *bb_db_wal_vfs(void);

#endif
