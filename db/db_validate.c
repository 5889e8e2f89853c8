/* db_validate.c - what `pyrefcheck validate` reads from and writes to the
 * results database: the open findings (with their paths) to re-run, and
 * each one's validation status afterwards.  Statements are prepared here,
 * with bound parameters, and finalized before returning. */
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

static const char db_sql_open_findings[] =
    "SELECT f.id, fl.path, f.loc_file, f.rule, f.severity, f.function, f.line, f.col, "
    "f.message, f.fingerprint, f.validation FROM findings f JOIN files fl ON fl.id = f.file_id "
    "WHERE f.state = 'open' AND (?1 IS NULL OR f.rule = ?1) AND (?2 IS NULL OR fl.path = ?2) "
    "ORDER BY fl.path, f.line, f.col, f.rule, f.id";

static const char db_sql_set_validation[] = "UPDATE findings SET validation = ?2 WHERE id = ?1";

/* Runs one constant statement (BEGIN, COMMIT, ROLLBACK) as a prepared
 * statement.  Returns SQLITE_OK or sqlite's error code. */
static int db_vexec(db_context *d, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(d->h, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(d->h);
    sqlite3_finalize(st);
    return rc;
}

int db_load_open_findings(db_context *d, const char *rule, const char *file, pr_report *r,
                          int64_t **ids, char *err, size_t errlen)
{
    *ids = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(d->h, db_sql_open_findings, -1, &st, NULL) != SQLITE_OK)
        return db_fail(d, err, errlen, "cannot read findings");
    if (rule)
        sqlite3_bind_text(st, 1, rule, -1, SQLITE_TRANSIENT);
    if (file)
        sqlite3_bind_text(st, 2, file, -1, SQLITE_TRANSIENT);
    int n = 0, cap = 0, rc, file_index = -1;
    char last_path[4096] = "";
    int64_t *v = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            int64_t *nv = realloc(v, sizeof *nv * (size_t)cap);
            if (!nv) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            v = nv;
        }
        v[n] = sqlite3_column_int64(st, 0);
        if (db_report_add_row(d, st, r, &file_index, last_path, sizeof last_path, err, errlen) != 0)
            goto fail;
        n++;
    }
    if (rc != SQLITE_DONE) {
        db_fail(d, err, errlen, "cannot read findings");
        goto fail;
    }
    sqlite3_finalize(st);
    *ids = v;
    return n;
fail:
    sqlite3_finalize(st);
    free(v);
    return -1;
}

int db_set_validation(db_context *d, const int64_t *ids, const char *const *status, int n, char *err,
                      size_t errlen)
{
    sqlite3_stmt *st = NULL;
    if (db_vexec(d, "BEGIN IMMEDIATE") != SQLITE_OK)
        return db_fail(d, err, errlen, "cannot begin a transaction");
    if (sqlite3_prepare_v2(d->h, db_sql_set_validation, -1, &st, NULL) != SQLITE_OK) {
        db_fail(d, err, errlen, "cannot store validation");
        db_vexec(d, "ROLLBACK");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 1, ids[i]);
        if (status[i])
            sqlite3_bind_text(st, 2, status[i], -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, 2);
        if (sqlite3_step(st) != SQLITE_DONE) {
            db_fail(d, err, errlen, "cannot store validation");
            sqlite3_finalize(st);
            db_vexec(d, "ROLLBACK");
            return -1;
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    sqlite3_finalize(st);
    if (db_vexec(d, "COMMIT") != SQLITE_OK) {
        db_fail(d, err, errlen, "cannot commit");
        db_vexec(d, "ROLLBACK");
        return -1;
    }
    return 0;
}
