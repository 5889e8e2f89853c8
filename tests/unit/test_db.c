/* test_db.c - unit tests of db/ (the results database through its C API:
 * creation, refusal of foreign and newer files, the finding lifecycle
 * open -> fixed -> reopened, occurrences of one fingerprint) and of the
 * report helpers it relies on (inline suppression comments, pr_filter).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../db/db.h"
#include "report/report.h"

static char *tmp_path(const char *name)
{
    char tmpl[] = "/tmp/prc-dbtest-XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static void rm_tmp(char *path)
{
    char buf[4200];
    snprintf(buf, sizeof buf, "%s-wal", path);
    unlink(buf);
    snprintf(buf, sizeof buf, "%s-shm", path);
    unlink(buf);
    unlink(path);
    char *slash = strrchr(path, '/');
    *slash = 0;
    rmdir(path);
    free(path);
}

static long long scalar(const char *path, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

static void test_suppression_comments(void **state)
{
    (void)state;
    assert_true(pr_suppression_matches("x(); /* pyrefcheck: ignore */", "leak"));
    assert_true(pr_suppression_matches("/* pyrefcheck: ignore[leak] */", "leak"));
    assert_true(pr_suppression_matches("// pyrefcheck:ignore[null-deref, leak]", "leak"));
    assert_false(pr_suppression_matches("/* pyrefcheck: ignore[leaky] */", "leak"));
    assert_false(pr_suppression_matches("/* pyrefcheck: ignore[over-release] */", "leak"));
    assert_false(pr_suppression_matches("/* pyrefcheck ignore */", "leak"));
    assert_false(pr_suppression_matches("return NULL;", "leak"));
}

static bool keep_odd_lines(void *ctx, const pr_finding *f)
{
    (void)ctx;
    return f->loc.line % 2 == 1;
}

static void test_filter(void **state)
{
    (void)state;
    pr_report r;
    pr_init(&r);
    for (unsigned i = 1; i <= 5; i++) {
        pr_finding f = { .rule = "leak", .function = "f", .message = "m" };
        f.loc.file = "a.c";
        f.loc.line = i;
        assert_int_equal(pr_add_finding(&r, &f), 0);
    }
    assert_int_equal(pr_filter(&r, keep_odd_lines, NULL), 2);
    assert_int_equal(r.nfindings, 3);
    assert_int_equal(r.findings[0].loc.line, 1);
    assert_int_equal(r.findings[2].loc.line, 5);
    pr_free(&r);
}

static void store(db_context *d, const char *file, pr_finding *fs, int n)
{
    char err[512] = "";
    const pr_finding *ptrs[8];
    for (int i = 0; i < n; i++)
        ptrs[i] = &fs[i];
    db_file_result fr = { .path = file, .findings = ptrs, .nfindings = n };
    assert_int_equal(db_store_file(d, &fr, err, sizeof err), 0);
}

static db_context *new_run(const char *path)
{
    db_context *d = NULL;
    char err[512] = "";
    db_open_options o = { .create = true };
    int rc = db_open(&d, path, &o, err, sizeof err);
    if (rc != 0)
        fail_msg("db_open: %s", err);
    db_run_info ri = { "test", "0000000000000000", "args" };
    assert_int_equal(db_run_begin(d, &ri, err, sizeof err), 0);
    return d;
}

static void test_lifecycle(void **state)
{
    (void)state;
    char *path = tmp_path("r.db");
    pr_finding f[2] = {
        { .rule = "leak", .severity = "warning", .function = "f", .message = "m",
          .fingerprint = "0123456789abcdef" },
        { .rule = "leak", .severity = "warning", .function = "f", .message = "m2",
          .fingerprint = "0123456789abcdef" },      /* same fingerprint: occurrence 1 */
    };
    f[0].loc.line = 3;
    f[1].loc.line = 9;
    db_context *d = new_run(path);
    assert_int_equal(db_run_id(d), 1);
    store(d, "a.c", f, 2);
    db_close(d);
    assert_int_equal(scalar(path, "SELECT count(*) FROM findings WHERE state = 'open'"), 2);

    d = new_run(path);                              /* run 2: only the first remains */
    store(d, "a.c", f, 1);
    db_close(d);
    assert_int_equal(scalar(path, "SELECT fixed_run FROM findings WHERE occurrence = 1"), 2);
    assert_int_equal(scalar(path, "SELECT last_seen_run FROM findings WHERE occurrence = 0"), 2);

    d = new_run(path);                              /* run 3: both again */
    store(d, "a.c", f, 2);
    db_close(d);
    assert_int_equal(scalar(path, "SELECT count(*) FROM findings"), 2);
    assert_int_equal(scalar(path, "SELECT times_reopened FROM findings WHERE occurrence = 1"), 1);
    assert_int_equal(scalar(path, "SELECT first_seen_run FROM findings WHERE occurrence = 1"), 1);
    assert_int_equal(scalar(path, "SELECT new_findings FROM runs WHERE id = 3"), 1);

    d = new_run(path);              /* run 4: f stopped early: nothing becomes fixed */
    char err[512] = "";
    pr_incomplete inc = { .file = "a.c", .function = "f", .reason = "budget" };
    const pr_incomplete *incp = &inc;
    db_file_result fr = { .path = "a.c", .incomplete = &incp, .nincomplete = 1 };
    assert_int_equal(db_store_file(d, &fr, err, sizeof err), 0);
    db_close(d);
    assert_int_equal(scalar(path, "SELECT count(*) FROM findings WHERE state = 'open'"), 2);
    assert_int_equal(scalar(path, "SELECT count(*) FROM functions WHERE status = 'incomplete'"), 1);
    assert_int_equal(scalar(path, "PRAGMA user_version"), DB_SCHEMA_VERSION);
    assert_int_equal(scalar(path, "PRAGMA application_id"), DB_APPLICATION_ID);
    rm_tmp(path);
}

static void test_refuses_foreign_and_newer(void **state)
{
    (void)state;
    char *path = tmp_path("x.db");
    char err[512] = "";
    db_context *d = NULL;
    db_open_options o = { .create = true };
    FILE *fp = fopen(path, "w");
    fputs("not a database at all, but long enough to look at its header..........................."
          "..................", fp);
    fclose(fp);
    assert_int_equal(db_open(&d, path, &o, err, sizeof err), -1);
    assert_null(d);
    assert_non_null(strstr(err, "not a pyrefcheck database"));
    unlink(path);

    db_open_options no = { .create = false };
    assert_int_equal(db_open(&d, path, &no, err, sizeof err), -1);
    assert_non_null(strstr(err, "no results database"));

    d = new_run(path);
    db_close(d);
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "PRAGMA user_version = 7", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(db_open(&d, path, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "newer"));
    rm_tmp(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suppression_comments),
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_refuses_foreign_and_newer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
