/* db_query.c - the read side of the results database: the listings behind
 * `pyrefcheck db runs|findings|diff|stats` and `db vacuum`.  Every query is
 * a prepared statement from db.c's cache; filters are bound, never pasted
 * into SQL. */
#include "db.h"
#include "db_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *db_col(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? (const char *)s : "";
}

static void db_json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\t': fputs("\\t", out); break;
        case '\r': fputs("\\r", out); break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

/* Steps st to the end; returns 0, or -1 when the step failed. */
static int db_done(db_context *d, sqlite3_stmt *st, int rc, char *err, size_t errlen)
{
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_fail(d, err, errlen, "cannot read the database");
}

int db_print_runs(db_context *d, FILE *out, char *err, size_t errlen)
{
    sqlite3_stmt *st = db_stmt(d, DB_SQL_RUNS_LIST, err, errlen);
    if (!st)
        return -1;
    fprintf(out, "%-5s %-20s %-11s %6s %8s %5s %5s %6s %8s  %s\n", "run", "started", "status",
            "files", "findings", "new", "fixed", "reused", "seconds", "arguments");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        bool finished = sqlite3_column_type(st, 2) != SQLITE_NULL;
        fprintf(out, "%-5lld %-20s %-11s %6lld %8lld %5lld %5lld %6lld %8.2f  %s\n",
                (long long)sqlite3_column_int64(st, 0), db_col(st, 1),
                finished ? "complete" : "incomplete", (long long)sqlite3_column_int64(st, 4),
                (long long)sqlite3_column_int64(st, 5), (long long)sqlite3_column_int64(st, 6),
                (long long)sqlite3_column_int64(st, 7), (long long)sqlite3_column_int64(st, 10),
                sqlite3_column_double(st, 8), db_col(st, 9));
    }
    return db_done(d, st, rc, err, errlen);
}

int db_print_findings(db_context *d, const db_finding_filter *f, FILE *out, char *err,
                      size_t errlen)
{
    sqlite3_stmt *st = db_stmt(d, DB_SQL_FINDINGS_LIST, err, errlen);
    if (!st)
        return -1;
    const char *vals[3] = { f->rule, f->file, f->state };
    for (int i = 0; i < 3; i++)
        if (vals[i])
            sqlite3_bind_text(st, i + 1, vals[i], -1, SQLITE_TRANSIENT);
    int rc, n = 0;
    if (f->json)
        fputs("[", out);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (f->json) {
            fputs(n ? ",\n  {" : "\n  {", out);
            fputs("\"file\": ", out);
            db_json_str(out, db_col(st, 0));
            fprintf(out, ", \"line\": %d, \"column\": %d, \"rule\": ", sqlite3_column_int(st, 1),
                    sqlite3_column_int(st, 2));
            db_json_str(out, db_col(st, 3));
            fputs(", \"severity\": ", out);
            db_json_str(out, db_col(st, 4));
            fputs(", \"function\": ", out);
            db_json_str(out, db_col(st, 5));
            fputs(", \"message\": ", out);
            db_json_str(out, db_col(st, 6));
            fputs(", \"fingerprint\": ", out);
            db_json_str(out, db_col(st, 7));
            fputs(", \"state\": ", out);
            db_json_str(out, db_col(st, 8));
            fprintf(out, ", \"first_seen_run\": %lld, \"last_seen_run\": %lld, \"fixed_run\": ",
                    (long long)sqlite3_column_int64(st, 9), (long long)sqlite3_column_int64(st, 10));
            if (sqlite3_column_type(st, 11) == SQLITE_NULL)
                fputs("null", out);
            else
                fprintf(out, "%lld", (long long)sqlite3_column_int64(st, 11));
            fprintf(out, ", \"times_reopened\": %d, \"validation\": ", sqlite3_column_int(st, 12));
            if (sqlite3_column_type(st, 13) == SQLITE_NULL)
                fputs("null", out);
            else
                db_json_str(out, db_col(st, 13));
            fputs("}", out);
        } else {
            fprintf(out, "%s:%d:%d: %s [%s] %s: %s (fingerprint %s, first seen run %lld, last seen run %lld",
                    db_col(st, 0), sqlite3_column_int(st, 1), sqlite3_column_int(st, 2),
                    db_col(st, 8), db_col(st, 3), db_col(st, 5), db_col(st, 6), db_col(st, 7),
                    (long long)sqlite3_column_int64(st, 9), (long long)sqlite3_column_int64(st, 10));
            if (sqlite3_column_type(st, 11) != SQLITE_NULL)
                fprintf(out, ", fixed in run %lld", (long long)sqlite3_column_int64(st, 11));
            if (sqlite3_column_int(st, 12) > 0)
                fprintf(out, ", reopened %d time%s", sqlite3_column_int(st, 12),
                        sqlite3_column_int(st, 12) == 1 ? "" : "s");
            fputs(")\n", out);
        }
        n++;
    }
    if (f->json)
        fputs(n ? "\n]\n" : "]\n", out);
    return db_done(d, st, rc, err, errlen);
}

static int db_run_exists(db_context *d, int64_t run, char *err, size_t errlen)
{
    sqlite3_stmt *st = db_stmt(d, DB_SQL_RUN_EXISTS, err, errlen);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, run);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE) {
        snprintf(err, errlen, "no run %lld in the database (see pyrefcheck db runs)", (long long)run);
        return -1;
    }
    return db_fail(d, err, errlen, "cannot read the database");
}

/* Prints the findings of run a missing from run b, each prefixed by sign. */
static int db_diff_side(db_context *d, int64_t a, int64_t b, char sign, long *n, FILE *out,
                        char *err, size_t errlen)
{
    sqlite3_stmt *st = db_stmt(d, DB_SQL_DIFF, err, errlen);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fprintf(out, "%c %s:%d:%d: %s: %s [%s] %s\n", sign, db_col(st, 0), sqlite3_column_int(st, 1),
                sqlite3_column_int(st, 2), db_col(st, 4), db_col(st, 5), db_col(st, 3),
                db_col(st, 6));
        (*n)++;
    }
    return db_done(d, st, rc, err, errlen);
}

int db_print_diff(db_context *d, int64_t run1, int64_t run2, FILE *out, char *err, size_t errlen)
{
    if (db_run_exists(d, run1, err, errlen) != 0 || db_run_exists(d, run2, err, errlen) != 0)
        return -1;
    long added = 0, gone = 0;
    if (db_diff_side(d, run2, run1, '+', &added, out, err, errlen) != 0 ||
        db_diff_side(d, run1, run2, '-', &gone, out, err, errlen) != 0)
        return -1;
    fprintf(out, "run %lld -> run %lld: %ld new, %ld gone\n", (long long)run1, (long long)run2,
            added, gone);
    return 0;
}

static int db_count(db_context *d, db_sql_id id, long long *n, char *err, size_t errlen)
{
    sqlite3_stmt *st = db_stmt(d, id, err, errlen);
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : db_fail(d, err, errlen, "cannot read the database");
}

/* Prints "label: name count, name count" from a two-column query. */
static int db_print_pairs(db_context *d, db_sql_id id, const char *label, FILE *out, char *err,
                          size_t errlen)
{
    sqlite3_stmt *st = db_stmt(d, id, err, errlen);
    if (!st)
        return -1;
    fprintf(out, "%s:", label);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fprintf(out, "%s %s %lld", n++ ? "," : "", db_col(st, 0),
                (long long)sqlite3_column_int64(st, 1));
    fputs(n ? "\n" : " none\n", out);
    return db_done(d, st, rc, err, errlen);
}

int db_print_stats(db_context *d, FILE *out, char *err, size_t errlen)
{
    long long runs = 0, files = 0;
    if (db_count(d, DB_SQL_COUNT_RUNS, &runs, err, errlen) != 0 ||
        db_count(d, DB_SQL_COUNT_FILES, &files, err, errlen) != 0)
        return -1;
    fprintf(out, "runs: %lld\nfiles: %lld\n", runs, files);
    if (db_print_pairs(d, DB_SQL_COUNT_STATES, "findings", out, err, errlen) != 0 ||
        db_print_pairs(d, DB_SQL_COUNT_RULES, "open by rule", out, err, errlen) != 0)
        return -1;
    return 0;
}

int db_vacuum(db_context *d, char *err, size_t errlen)
{
    sqlite3_stmt *st = db_stmt(d, DB_SQL_VACUUM, err, errlen);
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    if (db_done(d, st, rc, err, errlen) != 0)
        return -1;
    st = db_stmt(d, DB_SQL_CHECKPOINT, err, errlen);
    if (!st)
        return -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    return db_done(d, st, rc, err, errlen);
}

int db_report_add_row(db_context *d, sqlite3_stmt *st, pr_report *r, int *file_index,
                      char *last_path, size_t last_len, char *err, size_t errlen)
{
    const char *path = db_col(st, 1);
    const char *loc_file = (const char *)sqlite3_column_text(st, 2);
    if (*file_index < 0 || strcmp(last_path, path) != 0) {
        (*file_index)++;
        snprintf(last_path, last_len, "%s", path);
    }
    pr_finding f = {0};
    f.rule = db_col(st, 3);
    f.severity = db_col(st, 4);
    f.loc.file = loc_file ? loc_file : path;
    f.loc.line = (uint32_t)sqlite3_column_int(st, 6);
    f.loc.col = (uint32_t)sqlite3_column_int(st, 7);
    f.function = db_col(st, 5);
    f.message = db_col(st, 8);
    snprintf(f.fingerprint, sizeof f.fingerprint, "%s", db_col(st, 9));
    f.validation = sqlite3_column_type(st, 10) != SQLITE_NULL ? db_col(st, 10) : NULL;
    f.file_index = *file_index;
    int rc = 0;
    if (db_load_steps(d, sqlite3_column_int64(st, 0), &f.steps, &f.nsteps, err, errlen) != 0)
        rc = -1;
    else if (pr_add_finding(r, &f) != 0) {
        snprintf(err, errlen, "%s: out of memory", d->path);
        rc = -1;
    }
    db_free_steps(f.steps, f.nsteps);
    return rc;
}

int db_load_export(db_context *d, pr_report *r, char *err, size_t errlen)
{
    sqlite3_stmt *st = db_stmt(d, DB_SQL_EXPORT_RUN, err, errlen);
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return db_fail(d, err, errlen, "cannot read runs");
        snprintf(err, errlen, "%s: no run recorded yet", d->path);
        return -1;
    }
    int64_t run = sqlite3_column_int64(st, 0);
    pr_stats stats = {0};
    stats.files = (long)sqlite3_column_int64(st, 1);
    stats.files_failed = (long)sqlite3_column_int64(st, 2);
    stats.functions = (long)sqlite3_column_int64(st, 3);
    stats.seconds = sqlite3_column_double(st, 5);
    sqlite3_reset(st);

    if (!(st = db_stmt(d, DB_SQL_EXPORT_FINDINGS, err, errlen)))
        return -1;
    sqlite3_bind_int64(st, 1, run);
    char last_path[4096] = "";
    int file_index = -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (db_report_add_row(d, st, r, &file_index, last_path, sizeof last_path, err, errlen) != 0) {
            sqlite3_reset(st);
            return -1;
        }
    if (db_done(d, st, rc, err, errlen) != 0)
        return -1;
    if (!(st = db_stmt(d, DB_SQL_EXPORT_ERRORS, err, errlen)))
        return -1;
    sqlite3_bind_int64(st, 1, run);
    int k = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (pr_add_error(r, db_col(st, 0), k++, db_col(st, 1)) != 0) {
            sqlite3_reset(st);
            snprintf(err, errlen, "%s: out of memory", d->path);
            return -1;
        }
    if (db_done(d, st, rc, err, errlen) != 0)
        return -1;
    if (!(st = db_stmt(d, DB_SQL_EXPORT_NOTES, err, errlen)))
        return -1;
    sqlite3_bind_int64(st, 1, run);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        src_loc l = { (const char *)sqlite3_column_text(st, 0), (uint32_t)sqlite3_column_int(st, 2),
                      (uint32_t)sqlite3_column_int(st, 3) };
        if (pr_add_incomplete(r, l.file, db_col(st, 1), l, db_col(st, 4)) != 0) {
            sqlite3_reset(st);
            snprintf(err, errlen, "%s: out of memory", d->path);
            return -1;
        }
    }
    if (db_done(d, st, rc, err, errlen) != 0)
        return -1;
    if (!(st = db_stmt(d, DB_SQL_EXPORT_COUNTS, err, errlen)))
        return -1;
    sqlite3_bind_int64(st, 1, run);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        stats.files_skipped = (long)sqlite3_column_int64(st, 0);
        stats.functions_incomplete = (long)sqlite3_column_int64(st, 1);
        stats.cfg_blocks = (long)sqlite3_column_int64(st, 2);
        stats.paths = (long)sqlite3_column_int64(st, 3);
    }
    if (db_done(d, st, rc == SQLITE_ROW ? SQLITE_DONE : rc, err, errlen) != 0)
        return -1;
    pr_add_stats(r, &stats);
    return 0;
}
