/* test_driver.c - unit tests of the driver's file collection
 * (drv_collect / drv_files_free in checker/driver): a temporary tree with
 * .c files, other files, hidden and build folders, nested folders and a
 * symlink cycle; single files, a trailing slash, repeated calls, and a path
 * that does not exist.
 */
#define _XOPEN_SOURCE 700

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/driver.h"

static char root[64];

static void mkdir_p(const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    assert_int_equal(mkdir(p, 0755), 0);
}

static void touch(const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("int x;\n", f);
    fclose(f);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    strcpy(root, "/tmp/prc_test_driver_XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* Asserts files holds exactly root/<rel> for each rel, in order. */
static void expect_files(const drv_files *files, const char *const *rel, int n)
{
    char p[512];
    if (files->n != n) {
        for (int i = 0; i < files->n; i++)
            fprintf(stderr, "  got[%d] %s\n", i, files->paths[i]);
        fail_msg("collected %d files, expected %d", files->n, n);
    }
    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/%s", root, rel[i]);
        if (strcmp(files->paths[i], p) != 0)
            fail_msg("file %d is %s, expected %s", i, files->paths[i], p);
    }
}

static void test_collect_tree(void **state)
{
    (void)state;
    mkdir_p("src");
    mkdir_p("src/sub");
    mkdir_p("src/sub/deeper");
    mkdir_p(".hidden");
    mkdir_p("build");
    mkdir_p("buildings");      /* only the exact name "build" is a build folder */
    mkdir_p("mod.c");          /* a folder named like a source file is walked */
    touch("b.c");
    touch("a.c");
    touch("c.h");
    touch("notes.txt");
    touch("x.cc");
    touch("src/m.c");
    touch("src/l.c");
    touch("src/sub/deeper/d.c");
    touch(".hidden/h.c");
    touch("build/gen.c");
    touch("buildings/k.c");
    touch("mod.c/e.c");
    drv_files files = {0};
    char err[512] = "";
    assert_int_equal(drv_collect(&files, root, err, sizeof err), 0);
    static const char *const want[] = {
        "a.c", "b.c", "buildings/k.c", "mod.c/e.c", "src/l.c", "src/m.c", "src/sub/deeper/d.c",
    };
    expect_files(&files, want, 7);
    /* sorted by full path as well */
    for (int i = 1; i < files.n; i++)
        assert_true(strcmp(files.paths[i - 1], files.paths[i]) < 0);
    drv_files_free(&files);
    assert_null(files.paths);
    assert_int_equal(files.n, 0);
    assert_int_equal(files.cap, 0);
}

static void test_collect_trailing_slash_and_repeat(void **state)
{
    (void)state;
    mkdir_p("d");
    touch("d/one.c");
    touch("d/two.c");
    touch("top.c");
    touch("d/readme.txt");
    drv_files files = {0};
    char err[512] = "", p[512];
    snprintf(p, sizeof p, "%s/d/", root);
    assert_int_equal(drv_collect(&files, p, err, sizeof err), 0);
    /* a file argument is added as given */
    snprintf(p, sizeof p, "%s/top.c", root);
    assert_int_equal(drv_collect(&files, p, err, sizeof err), 0);
    /* even when it is not a .c file (the walk skipped it) */
    snprintf(p, sizeof p, "%s/d/readme.txt", root);
    assert_int_equal(drv_collect(&files, p, err, sizeof err), 0);
    /* calls append; a file given twice is kept twice */
    snprintf(p, sizeof p, "%s/d/one.c", root);
    assert_int_equal(drv_collect(&files, p, err, sizeof err), 0);
    static const char *const want[] = { "d/one.c", "d/two.c", "top.c", "d/readme.txt", "d/one.c" };
    expect_files(&files, want, 5);   /* no "//" after the trailing slash */
    drv_files_free(&files);
}

static void test_collect_many_files(void **state)
{
    (void)state;
    /* more than the initial capacity of both the name list and the result */
    char name[32];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "f%03d.c", 99 - i);
        touch(name);
    }
    drv_files files = {0};
    char err[512] = "";
    assert_int_equal(drv_collect(&files, root, err, sizeof err), 0);
    assert_int_equal(files.n, 100);
    for (int i = 0; i < 100; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/f%03d.c", root, i);
        assert_string_equal(files.paths[i], p);
    }
    drv_files_free(&files);
}

static void test_collect_empty_dir(void **state)
{
    (void)state;
    mkdir_p("empty");
    mkdir_p("empty/.git");
    touch("empty/.git/x.c");
    drv_files files = {0};
    char err[512] = "", p[512];
    snprintf(p, sizeof p, "%s/empty", root);
    assert_int_equal(drv_collect(&files, p, err, sizeof err), 0);
    assert_int_equal(files.n, 0);
    drv_files_free(&files);
}

static void test_collect_missing_path(void **state)
{
    (void)state;
    touch("real.c");
    drv_files files = {0};
    char err[512] = "", p[512];
    snprintf(p, sizeof p, "%s/real.c", root);
    assert_int_equal(drv_collect(&files, p, err, sizeof err), 0);
    snprintf(p, sizeof p, "%s/no/such/thing.c", root);
    assert_int_equal(drv_collect(&files, p, err, sizeof err), -1);
    if (!strstr(err, p))
        fail_msg("message does not name the path: '%s'", err);
    assert_non_null(strstr(err, "No such file or directory"));
    assert_null(strchr(err, '\n'));
    /* what was collected before stays */
    assert_int_equal(files.n, 1);
    drv_files_free(&files);
    /* a tiny buffer is still terminated */
    char small[8];
    memset(small, 'x', sizeof small);
    assert_int_equal(drv_collect(&files, p, small, sizeof small), -1);
    assert_int_equal(strlen(small), 7);
    assert_int_equal(files.n, 0);
    drv_files_free(&files);
}

static void test_collect_order_within_folders(void **state)
{
    (void)state;
    /* A folder "a" next to files "a.c" and "a-b.c": names are sorted within
     * each folder and subfolders walked in place, so a/x.c (from the
     * folder "a", first by name) comes before a-b.c. */
    mkdir_p("a");
    touch("a/x.c");
    touch("a.c");
    touch("a-b.c");
    drv_files files = {0};
    char err[512] = "";
    assert_int_equal(drv_collect(&files, root, err, sizeof err), 0);
    static const char *const want[] = { "a/x.c", "a-b.c", "a.c" };
    expect_files(&files, want, 3);
    drv_files_free(&files);
}

static void test_collect_symlink_cycle(void **state)
{
    (void)state;
    /* src/loop -> .. : following it would find every file again and again */
    mkdir_p("src");
    touch("src/one.c");
    char link[512];
    snprintf(link, sizeof link, "%s/src/loop", root);
    assert_int_equal(symlink("..", link), 0);
    drv_files files = {0};
    char err[512] = "";
    assert_int_equal(drv_collect(&files, root, err, sizeof err), 0);
    int copies = 0;
    char want[PATH_MAX];
    snprintf(link, sizeof link, "%s/src/one.c", root);
    assert_non_null(realpath(link, want));
    for (int i = 0; i < files.n; i++) {
        char rp[PATH_MAX];
        if (realpath(files.paths[i], rp) && strcmp(rp, want) == 0)
            copies++;
    }
    int n = files.n;
    drv_files_free(&files);
    if (copies != 1)
        fail_msg("src/one.c collected %d times through the symlink cycle (%d paths in all)", copies, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_collect_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collect_trailing_slash_and_repeat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collect_many_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collect_empty_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collect_missing_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collect_order_within_folders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collect_symlink_cycle, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
