/* sql.h: the schema migrations compiled into the programs (lib/sql/). */
#ifndef BB_SQL_H
#define BB_SQL_H

struct bb_migration {
	int version;
	const char *name;
	const char *sql;
};

/* Each list ends with a zero version. */
extern const struct bb_migration bb_migrations_sqlite[];
extern const struct bb_migration bb_migrations_postgres[];

#endif
