/* db.c - the results database: opening (refusing foreign files, creating
 * new databases atomically, applying the forward migrations embedded from
 * db/schema.sql), and recording runs, files and findings with their
 * history.  The read-only queries behind `pyrefcheck db ...` are in
 * db_query.c.  All SQL goes through prepared statements cached on the
 * context. */
#include "db.h"
#include "db_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db_schema.h"

static const char *const db_sql_text[DB_NSQL] = {
    [DB_SQL_BEGIN] = "BEGIN IMMEDIATE",
    [DB_SQL_COMMIT] = "COMMIT",
    [DB_SQL_ROLLBACK] = "ROLLBACK",
    [DB_SQL_USER_VERSION] = "PRAGMA user_version",
    [DB_SQL_APPLICATION_ID] = "PRAGMA application_id",
    [DB_SQL_RUN_INSERT] =
        "INSERT INTO runs(started_at, tool_version, rules_hash, arguments) "
        "VALUES(strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?1, ?2, ?3)",
    [DB_SQL_RUN_FINISH] =
        "UPDATE runs SET finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), files = ?2, "
        "files_failed = ?3, functions = ?4, findings = ?5, seconds = ?6, files_reused = ?7 "
        "WHERE id = ?1",
    [DB_SQL_RUN_COUNTS] =
        "UPDATE runs SET new_findings = new_findings + ?2, "
        "fixed_findings = fixed_findings + ?3 WHERE id = ?1",
    [DB_SQL_FILE_UPSERT] =
        "INSERT INTO files(path, content_hash, flags_hash, last_run, last_analysed, parse_errors, "
        "rules_hash, tool_key, skipped, functions, functions_incomplete, cfg_blocks, paths) "
        "VALUES(?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?5, ?6, ?7, ?8, ?9, ?10, "
        "?11, ?12) "
        "ON CONFLICT(path) DO UPDATE SET content_hash = excluded.content_hash, "
        "flags_hash = excluded.flags_hash, last_run = excluded.last_run, "
        "last_analysed = excluded.last_analysed, parse_errors = excluded.parse_errors, "
        "rules_hash = excluded.rules_hash, tool_key = excluded.tool_key, "
        "skipped = excluded.skipped, functions = excluded.functions, "
        "functions_incomplete = excluded.functions_incomplete, "
        "cfg_blocks = excluded.cfg_blocks, paths = excluded.paths",
    [DB_SQL_FILE_ID] = "SELECT id FROM files WHERE path = ?1",
    [DB_SQL_FINDING_GET] =
        "SELECT id, state FROM findings WHERE file_id = ?1 AND fingerprint = ?2 AND occurrence = ?3",
    [DB_SQL_FINDING_INSERT] =
        "INSERT INTO findings(file_id, fingerprint, occurrence, rule, severity, function, line, "
        "col, message, first_seen_run, last_seen_run, state, validation, loc_file) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12, ?13)",
    [DB_SQL_FINDING_UPDATE] =
        "UPDATE findings SET rule = ?2, severity = ?3, function = ?4, line = ?5, col = ?6, "
        "message = ?7, last_seen_run = ?8, fixed_run = NULL, "
        "times_reopened = times_reopened + (state = 'fixed'), state = ?9, validation = ?10, "
        "loc_file = ?11 WHERE id = ?1",
    [DB_SQL_STEPS_DELETE] = "DELETE FROM path_steps WHERE finding_id = ?1",
    [DB_SQL_STEP_INSERT] =
        "INSERT INTO path_steps(finding_id, seq, file, line, col, message, refs) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [DB_SQL_RUNF_INSERT] = "INSERT OR IGNORE INTO run_findings(run_id, finding_id) VALUES(?1, ?2)",
    [DB_SQL_MARK_FIXED] =
        "UPDATE findings SET state = 'fixed', fixed_run = ?2 "
        "WHERE file_id = ?1 AND state <> 'fixed' AND last_seen_run <> ?2 "
        "AND function NOT IN (SELECT name FROM functions WHERE file_id = ?1 AND run_id = ?2 "
        "AND status = 'incomplete')",
    [DB_SQL_FUNCS_DELETE] = "DELETE FROM functions WHERE file_id = ?1",
    [DB_SQL_FUNC_INSERT] =
        "INSERT OR REPLACE INTO functions(file_id, name, line, status, reason, run_id, body_hash) "
        "VALUES(?1, ?2, ?3, ?6, ?4, ?5, ?7)",
    [DB_SQL_BASELINE_INSERT] =
        "INSERT INTO baselines(path, created_at) "
        "VALUES(?1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
    [DB_SQL_BASELINE_ENTRY] =
        "INSERT INTO baseline_entries(baseline_id, fingerprint, rule, file, function) "
        "VALUES(?1, ?2, ?3, ?4, ?5)",
    [DB_SQL_RUNS_LIST] =
        "SELECT id, started_at, finished_at, tool_version, files, findings, new_findings, "
        "fixed_findings, seconds, arguments, files_reused FROM runs ORDER BY id",
    [DB_SQL_FINDINGS_LIST] =
        "SELECT fl.path, f.line, f.col, f.rule, f.severity, f.function, f.message, f.fingerprint, "
        "f.state, f.first_seen_run, f.last_seen_run, f.fixed_run, f.times_reopened, f.validation "
        "FROM findings f JOIN files fl ON fl.id = f.file_id "
        "WHERE (?1 IS NULL OR f.rule = ?1) AND (?2 IS NULL OR fl.path = ?2) "
        "AND (?3 IS NULL OR f.state = ?3) ORDER BY fl.path, f.line, f.col, f.rule, f.id",
    [DB_SQL_RUN_EXISTS] = "SELECT 1 FROM runs WHERE id = ?1",
    [DB_SQL_DIFF] =
        "SELECT fl.path, f.line, f.col, f.rule, f.function, f.message, f.fingerprint "
        "FROM run_findings rf JOIN findings f ON f.id = rf.finding_id "
        "JOIN files fl ON fl.id = f.file_id WHERE rf.run_id = ?1 AND f.id NOT IN "
        "(SELECT finding_id FROM run_findings WHERE run_id = ?2) ORDER BY fl.path, f.line, f.col",
    [DB_SQL_COUNT_RUNS] = "SELECT count(*) FROM runs",
    [DB_SQL_COUNT_FILES] = "SELECT count(*) FROM files",
    [DB_SQL_COUNT_STATES] = "SELECT state, count(*) FROM findings GROUP BY state ORDER BY state",
    [DB_SQL_COUNT_RULES] =
        "SELECT rule, count(*) FROM findings WHERE state = 'open' GROUP BY rule ORDER BY rule",
    [DB_SQL_CHECKPOINT] = "PRAGMA wal_checkpoint(TRUNCATE)",
    [DB_SQL_SYNC_NORMAL] = "PRAGMA synchronous = NORMAL",
    [DB_SQL_VACUUM] = "VACUUM",
    [DB_SQL_FILE_REUSABLE] =
        "SELECT id, last_run, skipped, functions, functions_incomplete, cfg_blocks, paths "
        "FROM files WHERE path = ?1 AND content_hash = ?2 AND flags_hash = ?3 AND rules_hash = ?4 "
        "AND tool_key = ?5 AND parse_errors IS NULL AND last_run IS NOT NULL "
        "AND skipped IS NOT NULL",
    [DB_SQL_FILE_FINDINGS] =
        "SELECT id, rule, severity, function, line, col, message, fingerprint, state, validation, "
        "loc_file FROM findings WHERE file_id = ?1 AND last_seen_run = ?2 AND state <> 'fixed' "
        "ORDER BY id",
    [DB_SQL_FINDING_STEPS] =
        "SELECT file, line, col, message, refs FROM path_steps WHERE finding_id = ?1 ORDER BY seq",
    [DB_SQL_FILE_NOTES] =
        "SELECT file, function, line, col, reason FROM file_notes WHERE file_id = ?1 ORDER BY seq",
    [DB_SQL_NOTES_DELETE] = "DELETE FROM file_notes WHERE file_id = ?1",
    [DB_SQL_NOTE_INSERT] =
        "INSERT INTO file_notes(file_id, seq, file, function, line, col, reason) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [DB_SQL_FILE_LAST_RUN] = "SELECT id, last_run FROM files WHERE path = ?1",
    [DB_SQL_REUSE_FINDINGS] =
        "UPDATE findings SET last_seen_run = ?3 "
        "WHERE file_id = ?1 AND last_seen_run = ?2 AND state <> 'fixed'",
    [DB_SQL_REUSE_RUNF] =
        "INSERT OR IGNORE INTO run_findings(run_id, finding_id) SELECT ?2, id FROM findings "
        "WHERE file_id = ?1 AND last_seen_run = ?2 AND state <> 'fixed'",
    [DB_SQL_REUSE_FILE] = "UPDATE files SET last_run = ?2, reused_run = ?2 WHERE id = ?1",
    [DB_SQL_EXPORT_RUN] =
        "SELECT id, files, files_failed, functions, findings, seconds FROM runs "
        "ORDER BY finished_at IS NULL, id DESC LIMIT 1",
    [DB_SQL_EXPORT_FINDINGS] =
        "SELECT f.id, fl.path, f.loc_file, f.rule, f.severity, f.function, f.line, f.col, "
        "f.message, f.fingerprint, f.validation FROM run_findings rf "
        "JOIN findings f ON f.id = rf.finding_id JOIN files fl ON fl.id = f.file_id "
        "WHERE rf.run_id = ?1 AND f.state = 'open' "
        "ORDER BY fl.path, coalesce(f.loc_file, fl.path), f.line, f.col, f.rule, f.message",
    [DB_SQL_EXPORT_ERRORS] =
        "SELECT path, parse_errors FROM files WHERE last_run = ?1 AND parse_errors IS NOT NULL "
        "ORDER BY path",
    [DB_SQL_EXPORT_NOTES] =
        "SELECT n.file, n.function, n.line, n.col, n.reason FROM file_notes n "
        "JOIN files fl ON fl.id = n.file_id WHERE fl.last_run = ?1 AND fl.parse_errors IS NULL "
        "ORDER BY fl.path, n.line, n.col, n.function",
    [DB_SQL_EXPORT_COUNTS] =
        "SELECT total(skipped), total(functions_incomplete), total(cfg_blocks), total(paths) "
        "FROM files WHERE last_run = ?1 AND parse_errors IS NULL",
};

int db_fail(db_context *d, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "%s: %s: %s", d->path, what, d->h ? sqlite3_errmsg(d->h) : "no connection");
    return -1;
}

sqlite3_stmt *db_stmt(db_context *d, db_sql_id id, char *err, size_t errlen)
{
    if (!d->stmt[id]) {
        if (sqlite3_prepare_v2(d->h, db_sql_text[id], -1, &d->stmt[id], NULL) != SQLITE_OK) {
            db_fail(d, err, errlen, "cannot prepare a statement");
            d->stmt[id] = NULL;
            return NULL;
        }
    } else {
        sqlite3_reset(d->stmt[id]);
        sqlite3_clear_bindings(d->stmt[id]);
    }
    return d->stmt[id];
}

/* Runs a statement that returns no rows.  Returns 0 or -1. */
static int db_run(db_context *d, sqlite3_stmt *st, char *err, size_t errlen, const char *what)
{
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return db_fail(d, err, errlen, what);
    return 0;
}

static int db_simple(db_context *d, db_sql_id id, char *err, size_t errlen, const char *what)
{
    return db_run(d, db_stmt(d, id, err, errlen), err, errlen, what);
}

static void db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Reads an integer PRAGMA; returns 0 or -1. */
static int db_pragma_int(db_context *d, db_sql_id id, int64_t *out, char *err, size_t errlen)
{
    sqlite3_stmt *st = db_stmt(d, id, err, errlen);
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : db_fail(d, err, errlen, "cannot read the schema version");
}

/* Runs every statement of a script, each prepared in turn.  Returns 0 or -1. */
static int db_exec_script(sqlite3 *h, const char *sql, char *err, size_t errlen, const char *path)
{
    const char *p = sql;
    while (p && *p) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        if (sqlite3_prepare_v2(h, p, -1, &st, &tail) != SQLITE_OK) {
            snprintf(err, errlen, "%s: schema: %s", path, sqlite3_errmsg(h));
            return -1;
        }
        if (!st)                        /* only comments or spaces left */
            break;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            snprintf(err, errlen, "%s: schema: %s", path, sqlite3_errmsg(h));
            return -1;
        }
        p = tail;
    }
    return 0;
}

/* Applies every "-- @version N" section of the embedded schema with
 * N > from, in the caller's transaction.  Returns 0 or -1. */
static int db_apply_migrations(sqlite3 *h, int64_t from, char *err, size_t errlen, const char *path)
{
    const char *schema = (const char *)db_schema_sql;
    static const char marker[] = "\n-- @version ";
    const char *p = strstr(schema, marker);
    while (p) {
        const char *body = p + strlen(marker);
        long version = strtol(body, NULL, 10);
        const char *next = strstr(body, marker);
        const char *end = next ? next : body + strlen(body);
        if (version > from) {
            size_t len = (size_t)(end - body);
            char *section = malloc(len + 1);
            if (!section) {
                snprintf(err, errlen, "%s: out of memory", path);
                return -1;
            }
            memcpy(section, body, len);
            section[len] = 0;
            /* skip the rest of the marker line (the version number) */
            char *first = strchr(section, '\n');
            int rc = db_exec_script(h, first ? first : "", err, errlen, path);
            free(section);
            if (rc != 0)
                return -1;
        }
        p = next;
    }
    return 0;
}

static uint32_t db_be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* Checks the file header without SQLite: the file must be an SQLite
 * database carrying our application id.  Returns 0 or -1. */
static int db_check_header(const char *path, char *err, size_t errlen)
{
    unsigned char hdr[100];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open the database: %s", path, strerror(errno));
        return -1;
    }
    ssize_t n = read(fd, hdr, sizeof hdr);
    close(fd);
    if (n != (ssize_t)sizeof hdr || memcmp(hdr, "SQLite format 3", 16) != 0) {
        snprintf(err, errlen,
                 "%s: not a pyrefcheck database (not an SQLite file); left untouched "
                 "(use --db FILE or --no-db)", path);
        return -1;
    }
    if (db_be32(hdr + 68) != DB_APPLICATION_ID) {
        snprintf(err, errlen,
                 "%s: not a pyrefcheck database (SQLite without the pyrefcheck schema); left "
                 "untouched (use --db FILE or --no-db)", path);
        return -1;
    }
    if (db_be32(hdr + 60) > DB_SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "%s: database schema version %u is newer than this pyrefcheck supports (%d); "
                 "upgrade pyrefcheck or use another --db", path, db_be32(hdr + 60),
                 DB_SCHEMA_VERSION);
        return -1;
    }
    return 0;
}

/* Creates a new database beside path and links it into place, so no other
 * process ever sees a half-made file there.  Another process winning the
 * race is fine.  Returns 0 or -1. */
static int db_create(const char *path, char *err, size_t errlen)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    snprintf(tmp, n, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create the database: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    /* mkstemp makes it 0600; give it the mode a plain creat() would (this
     * runs before any worker thread exists) */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    close(fd);
    int rc = -1;
    sqlite3 *h = NULL;
    if (sqlite3_open_v2(tmp, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot create the database: %s", path,
                 h ? sqlite3_errmsg(h) : "out of memory");
        goto done;
    }
    if (db_exec_script(h, "PRAGMA journal_mode = WAL; BEGIN IMMEDIATE;", err, errlen, path) != 0)
        goto done;
    if (db_apply_migrations(h, 0, err, errlen, path) != 0 ||
        db_exec_script(h, "COMMIT;", err, errlen, path) != 0)
        goto done;
    if (sqlite3_close(h) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot create the database: %s", path, sqlite3_errmsg(h));
        goto done;
    }
    h = NULL;
    if (link(tmp, path) != 0 && errno != EEXIST) {
        if (errno == EPERM || errno == ENOTSUP || errno == ENOSYS) {
            /* no hard links here: rename, unless someone made one meanwhile */
            struct stat st;
            if (stat(path, &st) != 0 && rename(tmp, path) != 0) {
                snprintf(err, errlen, "%s: cannot create the database: %s", path, strerror(errno));
                goto done;
            }
        } else {
            snprintf(err, errlen, "%s: cannot create the database: %s", path, strerror(errno));
            goto done;
        }
    }
    rc = 0;
done:
    if (h)
        sqlite3_close(h);
    unlink(tmp);
    free(tmp);
    return rc;
}

/* Creates the last folder of path (".pyrefcheck").  Returns 0 or -1. */
static int db_make_parent(const char *path, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    size_t len = (size_t)(slash - path);
    char *dir = malloc(len + 1);
    if (!dir) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    memcpy(dir, path, len);
    dir[len] = 0;
    int rc = 0;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create the folder %s: %s", path, dir, strerror(errno));
        rc = -1;
    }
    free(dir);
    return rc;
}

/* Brings the schema up to DB_SCHEMA_VERSION, under the write lock.
 * Returns 0 or -1. */
static int db_migrate(db_context *d, char *err, size_t errlen)
{
    int64_t v = 0;
    if (db_pragma_int(d, DB_SQL_USER_VERSION, &v, err, errlen) != 0)
        return -1;
    if (v == DB_SCHEMA_VERSION)
        return 0;
    if (v < DB_SCHEMA_VERSION) {
        if (db_simple(d, DB_SQL_BEGIN, err, errlen, "cannot start a transaction") != 0)
            return -1;
        if (db_pragma_int(d, DB_SQL_USER_VERSION, &v, err, errlen) != 0 ||
            (v < DB_SCHEMA_VERSION && db_apply_migrations(d->h, v, err, errlen, d->path) != 0)) {
            char ignored[8];
            db_simple(d, DB_SQL_ROLLBACK, ignored, sizeof ignored, "");
            return -1;
        }
        if (db_simple(d, DB_SQL_COMMIT, err, errlen, "cannot upgrade the schema") != 0)
            return -1;
        if (db_pragma_int(d, DB_SQL_USER_VERSION, &v, err, errlen) != 0)
            return -1;
    }
    if (v > DB_SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "%s: database schema version %lld is newer than this pyrefcheck supports (%d); "
                 "upgrade pyrefcheck or use another --db", d->path, (long long)v, DB_SCHEMA_VERSION);
        return -1;
    }
    return 0;
}

int db_open(db_context **out, const char *path, const db_open_options *o, char *err,
            size_t errlen)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
            snprintf(err, errlen, "%s: not a pyrefcheck database (not a regular file)", path);
            return -1;
        }
        if (db_check_header(path, err, errlen) != 0)
            return -1;
    } else if (errno == ENOENT) {
        if (!o->create) {
            snprintf(err, errlen, "%s: no results database (run pyrefcheck check first)", path);
            return -1;
        }
        if (o->make_parent && db_make_parent(path, err, errlen) != 0)
            return -1;
        if (db_create(path, err, errlen) != 0)
            return -1;
        if (db_check_header(path, err, errlen) != 0)
            return -1;
    } else {
        snprintf(err, errlen, "%s: cannot open the database: %s", path, strerror(errno));
        return -1;
    }

    db_context *d = calloc(1, sizeof *d);
    if (!d || !(d->path = strdup(path))) {
        free(d);
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    d->write_delay_ms = o->write_delay_ms;
    if (sqlite3_open_v2(path, &d->h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        db_fail(d, err, errlen, "cannot open the database");
        db_close(d);
        return -1;
    }
    sqlite3_busy_timeout(d->h, o->busy_timeout_ms > 0 ? o->busy_timeout_ms : 60000);
    /* WAL + NORMAL: a crash or power loss never corrupts the file; at worst
     * the last commits are lost.  One fsync per file would be slow. */
    char ignored[8];
    db_simple(d, DB_SQL_SYNC_NORMAL, ignored, sizeof ignored, "");
    if (sqlite3_db_readonly(d->h, "main") == 1) {
        snprintf(err, errlen, "%s: cannot write the database: permission denied", path);
        db_close(d);
        return -1;
    }
    if (db_migrate(d, err, errlen) != 0) {
        db_close(d);
        return -1;
    }
    *out = d;
    return 0;
}

void db_close(db_context *d)
{
    if (!d)
        return;
    for (int i = 0; i < DB_NSQL; i++)
        sqlite3_finalize(d->stmt[i]);
    if (d->h)
        sqlite3_close(d->h);
    free(d->path);
    free(d);
}

int db_run_begin(db_context *d, const db_run_info *info, char *err, size_t errlen)
{
    sqlite3_stmt *st = db_stmt(d, DB_SQL_RUN_INSERT, err, errlen);
    if (!st)
        return -1;
    db_bind_text(st, 1, info->tool_version);
    db_bind_text(st, 2, info->rules_hash ? info->rules_hash : "");
    db_bind_text(st, 3, info->arguments ? info->arguments : "");
    if (db_run(d, st, err, errlen, "cannot record the run") != 0)
        return -1;
    d->run_id = sqlite3_last_insert_rowid(d->h);
    return 0;
}

int64_t db_run_id(const db_context *d)
{
    return d ? d->run_id : 0;
}

/* The finding's location file as stored: NULL when it is the file itself,
 * "" when unknown. */
static const char *db_loc_file(const char *path, const pr_finding *f)
{
    if (!f->loc.file)
        return "";
    return strcmp(f->loc.file, path) == 0 ? NULL : f->loc.file;
}

static int db_store_finding(db_context *d, int64_t file_id, const char *path, const pr_finding *f,
                            int occurrence, long *nnew, char *err, size_t errlen)
{
    const char *state = f->suppressed ? "suppressed" : "open";
    sqlite3_stmt *st = db_stmt(d, DB_SQL_FINDING_GET, err, errlen);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, file_id);
    db_bind_text(st, 2, f->fingerprint);
    sqlite3_bind_int(st, 3, occurrence);
    int64_t id = 0;
    bool was_fixed = false;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        const char *s = (const char *)sqlite3_column_text(st, 1);
        was_fixed = s && strcmp(s, "fixed") == 0;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(d, err, errlen, "cannot read findings");
    if (id == 0) {
        st = db_stmt(d, DB_SQL_FINDING_INSERT, err, errlen);
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, file_id);
        db_bind_text(st, 2, f->fingerprint);
        sqlite3_bind_int(st, 3, occurrence);
        db_bind_text(st, 4, f->rule);
        db_bind_text(st, 5, f->severity ? f->severity : "warning");
        db_bind_text(st, 6, f->function ? f->function : "");
        sqlite3_bind_int(st, 7, (int)f->loc.line);
        sqlite3_bind_int(st, 8, (int)f->loc.col);
        db_bind_text(st, 9, f->message ? f->message : "");
        sqlite3_bind_int64(st, 10, d->run_id);
        db_bind_text(st, 11, state);
        db_bind_text(st, 12, f->validation);
        db_bind_text(st, 13, db_loc_file(path, f));
        if (db_run(d, st, err, errlen, "cannot store a finding") != 0)
            return -1;
        id = sqlite3_last_insert_rowid(d->h);
        if (!f->suppressed)
            (*nnew)++;
    } else {
        st = db_stmt(d, DB_SQL_FINDING_UPDATE, err, errlen);
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, id);
        db_bind_text(st, 2, f->rule);
        db_bind_text(st, 3, f->severity ? f->severity : "warning");
        db_bind_text(st, 4, f->function ? f->function : "");
        sqlite3_bind_int(st, 5, (int)f->loc.line);
        sqlite3_bind_int(st, 6, (int)f->loc.col);
        db_bind_text(st, 7, f->message ? f->message : "");
        sqlite3_bind_int64(st, 8, d->run_id);
        db_bind_text(st, 9, state);
        db_bind_text(st, 10, f->validation);
        db_bind_text(st, 11, db_loc_file(path, f));
        if (db_run(d, st, err, errlen, "cannot update a finding") != 0)
            return -1;
        if (was_fixed && !f->suppressed)
            (*nnew)++;
        st = db_stmt(d, DB_SQL_STEPS_DELETE, err, errlen);
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, id);
        if (db_run(d, st, err, errlen, "cannot update a finding's path") != 0)
            return -1;
    }
    for (int i = 0; i < f->nsteps; i++) {
        st = db_stmt(d, DB_SQL_STEP_INSERT, err, errlen);
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, i);
        db_bind_text(st, 3, f->steps[i].loc.file);
        sqlite3_bind_int(st, 4, (int)f->steps[i].loc.line);
        sqlite3_bind_int(st, 5, (int)f->steps[i].loc.col);
        db_bind_text(st, 6, f->steps[i].message ? f->steps[i].message : "");
        if (f->steps[i].refs >= 0)
            sqlite3_bind_int(st, 7, f->steps[i].refs);
        if (db_run(d, st, err, errlen, "cannot store a finding's path") != 0)
            return -1;
    }
    st = db_stmt(d, DB_SQL_RUNF_INSERT, err, errlen);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, d->run_id);
    sqlite3_bind_int64(st, 2, id);
    return db_run(d, st, err, errlen, "cannot store a finding");
}

/* db_store_file of a reused file: its findings of the last analysis are
 * seen by this run too.  Inside the transaction. */
static int db_store_reused_tx(db_context *d, const db_file_result *fr, char *err, size_t errlen)
{
    sqlite3_stmt *st = db_stmt(d, DB_SQL_FILE_LAST_RUN, err, errlen);
    if (!st)
        return -1;
    db_bind_text(st, 1, fr->path);
    int rc = sqlite3_step(st);
    int64_t file_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    int64_t last = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(d, err, errlen, "cannot read files");
    if (file_id == 0)
        return 0;                       /* removed meanwhile: nothing to mark */
    const db_sql_id ids[] = { DB_SQL_REUSE_FINDINGS, DB_SQL_REUSE_RUNF, DB_SQL_REUSE_FILE };
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        st = db_stmt(d, ids[i], err, errlen);
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, file_id);
        if (ids[i] == DB_SQL_REUSE_FINDINGS) {
            sqlite3_bind_int64(st, 2, last);
            sqlite3_bind_int64(st, 3, d->run_id);
        } else
            sqlite3_bind_int64(st, 2, d->run_id);
        if (db_run(d, st, err, errlen, "cannot record a reused file") != 0)
            return -1;
    }
    return 0;
}

/* The body of db_store_file, inside its transaction. */
static int db_store_file_tx(db_context *d, const db_file_result *fr, long *nnew, long *nfixed,
                            char *err, size_t errlen)
{
    if (fr->reused)
        return db_store_reused_tx(d, fr, err, errlen);
    char content[17] = "";
    if (fr->keys && fr->keys->content_hash)
        snprintf(content, sizeof content, "%s", fr->keys->content_hash);
    else {
        uint64_t h = DB_FNV_INIT;
        if (db_fnv_file(fr->path, &h) == 0)
            db_hex(h, content);
    }
    sqlite3_stmt *st = db_stmt(d, DB_SQL_FILE_UPSERT, err, errlen);
    if (!st)
        return -1;
    db_bind_text(st, 1, fr->path);
    db_bind_text(st, 2, content[0] ? content : NULL);
    db_bind_text(st, 3, fr->keys && fr->keys->flags_hash ? fr->keys->flags_hash : fr->flags_hash);
    sqlite3_bind_int64(st, 4, d->run_id);
    db_bind_text(st, 5, fr->parse_error);
    db_bind_text(st, 6, fr->keys ? fr->keys->rules_hash : NULL);
    db_bind_text(st, 7, fr->keys ? fr->keys->tool_key : NULL);
    if (fr->stats) {
        sqlite3_bind_int(st, 8, fr->skipped);
        sqlite3_bind_int64(st, 9, fr->stats->functions);
        sqlite3_bind_int64(st, 10, fr->stats->functions_incomplete);
        sqlite3_bind_int64(st, 11, fr->stats->cfg_blocks);
        sqlite3_bind_int64(st, 12, fr->stats->paths);
    }
    if (db_run(d, st, err, errlen, "cannot store a file") != 0)
        return -1;
    st = db_stmt(d, DB_SQL_FILE_ID, err, errlen);
    if (!st)
        return -1;
    db_bind_text(st, 1, fr->path);
    int64_t file_id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (file_id == 0)
        return db_fail(d, err, errlen, "cannot store a file");
    if (fr->parse_error)
        return 0;                       /* not analysed: its findings stay as they were */

    for (int i = 0; i < fr->nfindings; i++) {
        const pr_finding *f = fr->findings[i];
        int occurrence = 0;
        for (int j = 0; j < i; j++)
            if (strcmp(fr->findings[j]->fingerprint, f->fingerprint) == 0)
                occurrence++;
        if (db_store_finding(d, file_id, fr->path, f, occurrence, nnew, err, errlen) != 0)
            return -1;
    }
    /* the "analysis incomplete" notes as reported, for reuse */
    st = db_stmt(d, DB_SQL_NOTES_DELETE, err, errlen);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, file_id);
    if (db_run(d, st, err, errlen, "cannot store notes") != 0)
        return -1;
    for (int i = 0; i < fr->nincomplete; i++) {
        const pr_incomplete *inc = fr->incomplete[i];
        st = db_stmt(d, DB_SQL_NOTE_INSERT, err, errlen);
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, file_id);
        sqlite3_bind_int(st, 2, i);
        db_bind_text(st, 3, inc->loc.file);
        db_bind_text(st, 4, inc->function ? inc->function : "");
        sqlite3_bind_int(st, 5, (int)inc->loc.line);
        sqlite3_bind_int(st, 6, (int)inc->loc.col);
        db_bind_text(st, 7, inc->reason ? inc->reason : "");
        if (db_run(d, st, err, errlen, "cannot store notes") != 0)
            return -1;
    }
    /* functions whose analysis stopped early: their unreported findings are
     * not known to be fixed */
    st = db_stmt(d, DB_SQL_FUNCS_DELETE, err, errlen);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, file_id);
    if (db_run(d, st, err, errlen, "cannot store functions") != 0)
        return -1;
    /* every analysed function, with its body hash and status; one whose
     * analysis stopped early keeps its unreported findings open */
    for (int i = 0; i < fr->nfunctions; i++) {
        const pr_function *fn = fr->functions[i];
        st = db_stmt(d, DB_SQL_FUNC_INSERT, err, errlen);
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, file_id);
        db_bind_text(st, 2, fn->name ? fn->name : "");
        sqlite3_bind_int(st, 3, (int)fn->line);
        if (fn->reason)
            db_bind_text(st, 4, fn->reason);
        else
            sqlite3_bind_null(st, 4);
        sqlite3_bind_int64(st, 5, d->run_id);
        db_bind_text(st, 6, fn->reason ? "incomplete" : "complete");
        db_bind_text(st, 7, fn->body_hash);
        if (db_run(d, st, err, errlen, "cannot store functions") != 0)
            return -1;
    }
    for (int i = 0; i < fr->nincomplete; i++) {
        /* notes about functions without a record (older callers) */
        const pr_incomplete *inc = fr->incomplete[i];
        bool known = false;
        for (int j = 0; j < fr->nfunctions && !known; j++)
            known = fr->functions[j]->name && inc->function && strcmp(fr->functions[j]->name, inc->function) == 0;
        if (known)
            continue;
        st = db_stmt(d, DB_SQL_FUNC_INSERT, err, errlen);
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, file_id);
        db_bind_text(st, 2, inc->function ? inc->function : "");
        sqlite3_bind_int(st, 3, (int)inc->loc.line);
        db_bind_text(st, 4, inc->reason);
        sqlite3_bind_int64(st, 5, d->run_id);
        db_bind_text(st, 6, "incomplete");
        sqlite3_bind_null(st, 7);
        if (db_run(d, st, err, errlen, "cannot store functions") != 0)
            return -1;
    }
    st = db_stmt(d, DB_SQL_MARK_FIXED, err, errlen);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, file_id);
    sqlite3_bind_int64(st, 2, d->run_id);
    if (db_run(d, st, err, errlen, "cannot mark fixed findings") != 0)
        return -1;
    *nfixed += sqlite3_changes(d->h);

    st = db_stmt(d, DB_SQL_RUN_COUNTS, err, errlen);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, d->run_id);
    sqlite3_bind_int64(st, 2, *nnew);
    sqlite3_bind_int64(st, 3, *nfixed);
    return db_run(d, st, err, errlen, "cannot update the run");
}

int db_store_file(db_context *d, const db_file_result *fr, char *err, size_t errlen)
{
    if (db_simple(d, DB_SQL_BEGIN, err, errlen, "cannot start a transaction") != 0)
        return -1;
    long nnew = 0, nfixed = 0;
    if (db_store_file_tx(d, fr, &nnew, &nfixed, err, errlen) != 0) {
        char ignored[8];
        db_simple(d, DB_SQL_ROLLBACK, ignored, sizeof ignored, "");
        return -1;
    }
    if (d->write_delay_ms > 0) {
        struct timespec ts = { d->write_delay_ms / 1000, (long)(d->write_delay_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    if (db_simple(d, DB_SQL_COMMIT, err, errlen, "cannot commit") != 0) {
        char ignored[8];
        db_simple(d, DB_SQL_ROLLBACK, ignored, sizeof ignored, "");
        return -1;
    }
    if (fr->reused)
        d->files_reused++;
    return 0;
}

static const char *db_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

int db_load_steps(db_context *d, int64_t id, pr_step **steps, int *n, char *err,
                         size_t errlen)
{
    *steps = NULL;
    *n = 0;
    sqlite3_stmt *st = db_stmt(d, DB_SQL_FINDING_STEPS, err, errlen);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc, cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            pr_step *ns = realloc(*steps, (size_t)cap * sizeof *ns);
            if (!ns) {
                sqlite3_reset(st);
                snprintf(err, errlen, "%s: out of memory", d->path);
                return -1;
            }
            *steps = ns;
        }
        pr_step *s = &(*steps)[*n];
        const char *file = db_text(st, 0), *msg = db_text(st, 3);
        s->loc.file = file ? strdup(file) : NULL;
        s->loc.line = (uint32_t)sqlite3_column_int(st, 1);
        s->loc.col = (uint32_t)sqlite3_column_int(st, 2);
        s->message = strdup(msg ? msg : "");
        s->refs = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 4);
        (*n)++;
        if (!s->message || (file && !s->loc.file)) {
            sqlite3_reset(st);
            snprintf(err, errlen, "%s: out of memory", d->path);
            return -1;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_fail(d, err, errlen, "cannot read a finding's path");
}

void db_free_steps(pr_step *steps, int n)
{
    for (int i = 0; i < n; i++) {
        free((void *)steps[i].loc.file);
        free((void *)steps[i].message);
    }
    free(steps);
}

/* Adds the findings and notes of file_id's analysis in run to out.
 * Returns 0 or -1. */
static int db_load_file(db_context *d, const char *path, int64_t file_id, int64_t run,
                        int file_index, pr_report *out, char *err, size_t errlen)
{
    sqlite3_stmt *st = db_stmt(d, DB_SQL_FILE_FINDINGS, err, errlen);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, file_id);
    sqlite3_bind_int64(st, 2, run);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        pr_finding f;
        memset(&f, 0, sizeof f);
        const char *loc_file = db_text(st, 10), *fp = db_text(st, 7), *state = db_text(st, 8);
        f.rule = db_text(st, 1);
        f.severity = db_text(st, 2);
        f.function = db_text(st, 3);
        f.loc.file = !loc_file ? path : *loc_file ? loc_file : NULL;
        f.loc.line = (uint32_t)sqlite3_column_int(st, 4);
        f.loc.col = (uint32_t)sqlite3_column_int(st, 5);
        f.message = db_text(st, 6);
        snprintf(f.fingerprint, sizeof f.fingerprint, "%s", fp ? fp : "");
        f.suppressed = state && strcmp(state, "suppressed") == 0;
        f.validation = db_text(st, 9);
        f.file_index = file_index;
        if (!f.rule || !f.function || !f.message) {
            sqlite3_reset(st);
            return db_fail(d, err, errlen, "cannot read findings");
        }
        if (db_load_steps(d, sqlite3_column_int64(st, 0), &f.steps, &f.nsteps, err, errlen) != 0) {
            db_free_steps(f.steps, f.nsteps);
            sqlite3_reset(st);
            return -1;
        }
        int added = pr_add_finding(out, &f);
        db_free_steps(f.steps, f.nsteps);
        if (added != 0) {
            sqlite3_reset(st);
            snprintf(err, errlen, "%s: out of memory", d->path);
            return -1;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_fail(d, err, errlen, "cannot read findings");

    st = db_stmt(d, DB_SQL_FILE_NOTES, err, errlen);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, file_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        src_loc loc = { db_text(st, 0), (uint32_t)sqlite3_column_int(st, 2),
                        (uint32_t)sqlite3_column_int(st, 3) };
        const char *fn = db_text(st, 1), *reason = db_text(st, 4);
        if (pr_add_incomplete(out, path, fn ? fn : "", loc, reason ? reason : "") != 0) {
            sqlite3_reset(st);
            snprintf(err, errlen, "%s: out of memory", d->path);
            return -1;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_fail(d, err, errlen, "cannot read notes");
}

int db_load_reusable(db_context *d, const char *path, const db_file_keys *k, int file_index,
                     pr_report *out, bool *reused, pr_stats *stp, char *err, size_t errlen)
{
    *reused = false;
    if (!k->content_hash || !k->flags_hash || !k->rules_hash || !k->tool_key)
        return 0;
    sqlite3_stmt *st = db_stmt(d, DB_SQL_FILE_REUSABLE, err, errlen);
    if (!st)
        return -1;
    db_bind_text(st, 1, path);
    db_bind_text(st, 2, k->content_hash);
    db_bind_text(st, 3, k->flags_hash);
    db_bind_text(st, 4, k->rules_hash);
    db_bind_text(st, 5, k->tool_key);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? 0 : db_fail(d, err, errlen, "cannot read files");
    }
    int64_t file_id = sqlite3_column_int64(st, 0), run = sqlite3_column_int64(st, 1);
    bool skipped = sqlite3_column_int(st, 2) != 0;
    pr_stats s = { .files = skipped ? 0 : 1, .files_skipped = skipped ? 1 : 0,
                   .functions = sqlite3_column_int64(st, 3),
                   .functions_incomplete = sqlite3_column_int64(st, 4),
                   .cfg_blocks = sqlite3_column_int64(st, 5), .paths = sqlite3_column_int64(st, 6) };
    sqlite3_reset(st);
    if (db_load_file(d, path, file_id, run, file_index, out, err, errlen) != 0)
        return -1;
    pr_add_stats(out, &s);
    if (stp)
        *stp = s;
    *reused = true;
    return 0;
}

int db_run_finish(db_context *d, const pr_stats *s, long reported, char *err, size_t errlen)
{
    sqlite3_stmt *st = db_stmt(d, DB_SQL_RUN_FINISH, err, errlen);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, d->run_id);
    sqlite3_bind_int64(st, 2, s->files);
    sqlite3_bind_int64(st, 3, s->files_failed);
    sqlite3_bind_int64(st, 4, s->functions);
    sqlite3_bind_int64(st, 5, reported);
    sqlite3_bind_double(st, 6, s->seconds);
    sqlite3_bind_int64(st, 7, d->files_reused);
    return db_run(d, st, err, errlen, "cannot record the run");
}

int db_store_baseline(db_context *d, const char *path, const db_baseline_entry *e, int n,
                      char *err, size_t errlen)
{
    if (db_simple(d, DB_SQL_BEGIN, err, errlen, "cannot start a transaction") != 0)
        return -1;
    sqlite3_stmt *st = db_stmt(d, DB_SQL_BASELINE_INSERT, err, errlen);
    int rc = -1;
    if (!st)
        goto done;
    db_bind_text(st, 1, path);
    if (db_run(d, st, err, errlen, "cannot record the baseline") != 0)
        goto done;
    int64_t bid = sqlite3_last_insert_rowid(d->h);
    for (int i = 0; i < n; i++) {
        st = db_stmt(d, DB_SQL_BASELINE_ENTRY, err, errlen);
        if (!st)
            goto done;
        sqlite3_bind_int64(st, 1, bid);
        db_bind_text(st, 2, e[i].fingerprint);
        db_bind_text(st, 3, e[i].rule);
        db_bind_text(st, 4, e[i].file);
        db_bind_text(st, 5, e[i].function);
        if (db_run(d, st, err, errlen, "cannot record the baseline") != 0)
            goto done;
    }
    rc = db_simple(d, DB_SQL_COMMIT, err, errlen, "cannot commit");
done:
    if (rc != 0) {
        char ignored[8];
        db_simple(d, DB_SQL_ROLLBACK, ignored, sizeof ignored, "");
    }
    return rc;
}

uint64_t db_fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

int db_fnv_file(const char *path, uint64_t *h)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    unsigned char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        *h = db_fnv(*h, buf, n);
    int rc = ferror(f) ? -1 : 0;
    fclose(f);
    return rc;
}

void db_hex(uint64_t h, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static int db_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int db_hash_rules(const char *dir, const char *const *extra, int nextra, char out[17])
{
    uint64_t h = DB_FNV_INIT;
    char **names = NULL;
    int n = 0, rc = 0;
    DIR *dd = dir ? opendir(dir) : NULL;
    if (dd) {
        struct dirent *de;
        while ((de = readdir(dd)) != NULL) {
            size_t l = strlen(de->d_name);
            if (l < 7 || strcmp(de->d_name + l - 6, ".rules") != 0)
                continue;
            char **nn = realloc(names, (size_t)(n + 1) * sizeof *nn);
            if (!nn || !(nn[n] = strdup(de->d_name))) {
                names = nn ? nn : names;
                rc = -1;
                break;
            }
            names = nn;
            n++;
        }
        closedir(dd);
    }
    if (n > 1)
        qsort(names, (size_t)n, sizeof *names, db_cmp_str);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        h = db_fnv(h, names[i], strlen(names[i]) + 1);
        if (db_fnv_file(path, &h) != 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    for (int i = 0; i < nextra; i++)
        if (db_fnv_file(extra[i], &h) != 0)
            rc = -1;
    db_hex(h, out);
    return rc;
}
