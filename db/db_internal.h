/* db_internal.h - what db.c and db_query.c share: the context and its
 * cache of prepared statements.  Not part of the module's interface. */
#ifndef PRC_DB_INTERNAL_H
#define PRC_DB_INTERNAL_H

#include <sqlite3.h>

#include "db.h"

typedef enum db_sql_id {
    DB_SQL_BEGIN, DB_SQL_COMMIT, DB_SQL_ROLLBACK, DB_SQL_USER_VERSION, DB_SQL_APPLICATION_ID,
    DB_SQL_RUN_INSERT, DB_SQL_RUN_FINISH, DB_SQL_RUN_COUNTS, DB_SQL_FILE_UPSERT, DB_SQL_FILE_ID,
    DB_SQL_FINDING_GET, DB_SQL_FINDING_INSERT, DB_SQL_FINDING_UPDATE, DB_SQL_STEPS_DELETE,
    DB_SQL_STEP_INSERT, DB_SQL_RUNF_INSERT, DB_SQL_MARK_FIXED, DB_SQL_FUNCS_DELETE,
    DB_SQL_FUNC_INSERT, DB_SQL_BASELINE_INSERT, DB_SQL_BASELINE_ENTRY, DB_SQL_RUNS_LIST,
    DB_SQL_FINDINGS_LIST, DB_SQL_RUN_EXISTS, DB_SQL_DIFF, DB_SQL_COUNT_RUNS, DB_SQL_COUNT_FILES,
    DB_SQL_COUNT_STATES, DB_SQL_COUNT_RULES, DB_SQL_CHECKPOINT, DB_SQL_VACUUM, DB_SQL_SYNC_NORMAL,
    DB_SQL_FILE_REUSABLE, DB_SQL_FILE_FINDINGS, DB_SQL_FINDING_STEPS, DB_SQL_FILE_NOTES,
    DB_SQL_NOTES_DELETE, DB_SQL_NOTE_INSERT, DB_SQL_FILE_LAST_RUN, DB_SQL_REUSE_FINDINGS,
    DB_SQL_REUSE_RUNF, DB_SQL_REUSE_FILE, DB_SQL_EXPORT_RUN, DB_SQL_EXPORT_FINDINGS,
    DB_SQL_EXPORT_ERRORS, DB_SQL_EXPORT_NOTES, DB_SQL_EXPORT_COUNTS,
    DB_NSQL
} db_sql_id;

struct db_context {
    sqlite3 *h;
    char *path;
    int64_t run_id;             /* the run this process records, or 0 */
    int write_delay_ms;
    long files_reused;          /* files of this run taken from the database */
    sqlite3_stmt *stmt[DB_NSQL]; /* prepared on first use */
};

/* The cached statement id, reset with no bindings; NULL on error (message
 * in err). */
sqlite3_stmt *db_stmt(db_context *d, db_sql_id id, char *err, size_t errlen);
/* Reads the path of finding id into *steps / *n (malloc'ed, strings too;
 * free with db_free_steps, also after a failure).  Returns 0 or -1. */
int db_load_steps(db_context *d, int64_t id, pr_step **steps, int *n, char *err, size_t errlen);
void db_free_steps(pr_step *steps, int n);
/* Adds the finding of st's current row to r, with its path.  The row's
 * columns are: id, file path, location file, rule, severity, function,
 * line, column, message, fingerprint, validation.  *file_index counts the
 * distinct file paths seen (start it at -1 with last_path ""), rows coming
 * ordered by path.  Returns 0, or -1 with a message in err. */
int db_report_add_row(db_context *d, sqlite3_stmt *st, pr_report *r, int *file_index,
                      char *last_path, size_t last_len, char *err, size_t errlen);
/* Writes "path: what: sqlite's message" to err; returns -1. */
int db_fail(db_context *d, char *err, size_t errlen, const char *what);

#endif
