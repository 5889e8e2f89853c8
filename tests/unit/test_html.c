/* test_html.c - unit tests of checker/report/html.c (pr_write_html) and of
 * the other paths pr_add_finding copies: escaping of every text from the
 * sources and the findings, the validation status, the reference counts
 * shown (none for -1), other paths, a source that cannot be read, the
 * output folder's creation and its errors.  The browser behaviour (filters,
 * keyboard replay) is tested by tests/html/ in chromium.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/report.h"

/* ------------------------------------------------------------ helpers */

typedef struct tmpdir {
    char path[256];
} tmpdir;

static void tmp_make(tmpdir *t)
{
    snprintf(t->path, sizeof t->path, "/tmp/prc-html-unit-XXXXXX");
    assert_non_null(mkdtemp(t->path));
}

static void tmp_remove(tmpdir *t)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->path);
    assert_int_equal(system(cmd), 0);
}

static char *read_all(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* A C file with a function whose text needs escaping. */
static const char source_text[] =
    "#include <Python.h>\n"                           /* 1 */
    "\n"                                              /* 2 */
    "static PyObject *\n"                             /* 3 */
    "f(PyObject *self, PyObject *a)\n"                /* 4 */
    "{\n"                                             /* 5 */
    "    PyObject *x = PyList_New(0); /* a { b */\n"  /* 6 */
    "    if (a == NULL && \"}\"[0] < '{')\n"          /* 7 */
    "        return NULL;\n"                          /* 8 */
    "    return Py_None;\n"                           /* 9 */
    "}\n"                                             /* 10 */
    "\n"                                              /* 11 */
    "int after_the_function;\n";                      /* 12 */

static void add_finding(pr_report *r, const char *file, const char *validation, bool others)
{
    pr_step steps[3] = {
        { { file, 6, 19 }, "PyList_New() returns a new reference (refs: 1)", 1 },
        { { file, 7, 5 }, "taking the true branch: 'a == NULL' is <true>", -1 },
        { { file, 8, 9 }, "'x' still holds a reference", 1 },
    };
    pr_step alt[2] = {
        { { file, 6, 19 }, "PyList_New() returns a new reference (refs: 1)", 1 },
        { { file, 9, 5 }, "another way & out", 1 },
    };
    pr_path other = { alt, 2 };
    pr_finding f = {
        .rule = "leak", .severity = "warning", .loc = { file, 8, 9 }, .function = "f",
        .message = "leak of 'x': <script>alert(1)</script> & more", .fingerprint = "0123456789abcdef",
        .steps = steps, .nsteps = 3, .validation = validation, .file_index = 0,
    };
    if (others) {
        f.other_paths = &other;
        f.nother_paths = 1;
    }
    assert_int_equal(pr_add_finding(r, &f), 0);
    /* pr_add_finding copies: clobber the originals */
    alt[1].message = "clobbered";
    steps[1].message = "clobbered";
}

/* ------------------------------------------------------------ tests */

static void test_add_finding_copies_other_paths(void **state)
{
    (void)state;
    pr_report r;
    pr_init(&r);
    add_finding(&r, "m.c", NULL, true);
    assert_int_equal(r.nfindings, 1);
    assert_int_equal(r.findings[0].nother_paths, 1);
    assert_int_equal(r.findings[0].other_paths[0].nsteps, 2);
    assert_string_equal(r.findings[0].other_paths[0].steps[1].message, "another way & out");
    assert_int_equal(r.findings[0].other_paths[0].steps[1].loc.line, 9);
    assert_string_equal(r.findings[0].steps[1].message, "taking the true branch: 'a == NULL' is <true>");
    add_finding(&r, "m.c", NULL, false);
    assert_int_equal(r.findings[1].nother_paths, 0);
    assert_null(r.findings[1].other_paths);
    pr_free(&r);
}

static void test_pages(void **state)
{
    (void)state;
    tmpdir t;
    tmp_make(&t);
    char src[300], out[300];
    snprintf(src, sizeof src, "%s/m.c", t.path);
    snprintf(out, sizeof out, "%s/out/deeper", t.path);
    FILE *f = fopen(src, "w");
    assert_non_null(f);
    fputs(source_text, f);
    fclose(f);

    pr_report r;
    pr_init(&r);
    add_finding(&r, src, "confirmed: leaked 1 object", true);
    add_finding(&r, src, NULL, false);
    assert_int_equal(pr_add_function(&r, src, "f", 4, "0000000000000000", NULL), 0);
    pr_add_error(&r, "bad<1>.c", 1, "12:5: expected ';'");
    r.stats.files = 1;
    r.stats.functions = 1;
    char err[256] = "";
    assert_int_equal(pr_write_html(&r, "9.9", out, err, sizeof err), 0);

    char *index = read_all(out, "index.html");
    assert_non_null(index);
    assert_int_equal(count(index, "<tr class=\"finding\""), 2);
    assert_non_null(strstr(index, "leak of &#39;x&#39;: &lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
    assert_null(strstr(index, "<script>alert"));
    assert_non_null(strstr(index, "href=\"finding-1.html\""));
    assert_non_null(strstr(index, "href=\"finding-2.html\""));
    assert_non_null(strstr(index, "<option value=\"leak\">leak (2)</option>"));
    assert_non_null(strstr(index, "confirmed: leaked 1 object"));
    assert_non_null(strstr(index, "bad&lt;1&gt;.c"));               /* files not analysed */
    assert_non_null(strstr(index, "1 file not analysed"));
    assert_non_null(strstr(index, "pyrefcheck 9.9"));
    assert_null(strstr(index, "http:"));                            /* nothing external */
    assert_null(strstr(index, "https:"));

    char *p1 = read_all(out, "finding-1.html");
    assert_non_null(p1);
    /* the function from its first line's declaration (line 3) to its '}' */
    assert_non_null(strstr(p1, "<tr id=\"L3\">"));
    assert_non_null(strstr(p1, "<tr id=\"L10\">"));
    assert_null(strstr(p1, "id=\"L2\""));
    assert_null(strstr(p1, "id=\"L11\""));
    assert_non_null(strstr(p1, "<tr id=\"L8\" class=\"reported\">"));
    assert_non_null(strstr(p1, "if (a == NULL &amp;&amp; \"}\"[0] &lt; '{')"));
    /* steps: refs shown when known, and not repeated from the note's text */
    assert_non_null(strstr(p1, "data-line=\"6\" data-here=\"1\" data-refs=\"1\""));
    assert_non_null(strstr(p1, "data-line=\"7\" data-here=\"1\" data-where"));  /* -1: no data-refs */
    assert_non_null(strstr(p1, "PyList_New() returns a new reference<span class=\"rc\">refs: 1</span>"));
    assert_non_null(strstr(p1, "'a == NULL' is &lt;true&gt;</span>"));
    assert_null(strstr(p1, "clobbered"));
    /* the other path, collapsed */
    assert_non_null(strstr(p1, "<details class=\"others\" id=\"others\"><summary>1 other path"));
    assert_non_null(strstr(p1, "another way &amp; out"));
    assert_non_null(strstr(p1, "<ol class=\"path\" data-path=\"1\">"));
    /* it shares its first step with the reported path, then differs */
    assert_non_null(strstr(p1, "2 steps, the first 1 as in the reported path"));
    assert_int_equal(count(p1, "<li class=\"step differs\""), 1);
    assert_non_null(strstr(p1, "<li class=\"step differs\" data-line=\"9\""));
    assert_non_null(strstr(p1, "id=\"validation\">Validation: confirmed: leaked 1 object"));
    assert_non_null(strstr(p1, "rel=\"next\""));
    assert_null(strstr(p1, "rel=\"prev\""));
    assert_null(strstr(p1, "<script>alert"));
    assert_null(strstr(p1, "http:"));
    assert_null(strstr(p1, "https:"));

    char *p2 = read_all(out, "finding-2.html");
    assert_non_null(p2);
    assert_null(strstr(p2, "id=\"others\""));
    assert_null(strstr(p2, "id=\"validation\""));
    assert_non_null(strstr(p2, "rel=\"prev\""));
    assert_null(read_all(out, "finding-3.html"));
    free(index);
    free(p1);
    free(p2);

    /* an unreadable source: the page still lists the path */
    assert_int_equal(unlink(src), 0);
    assert_int_equal(pr_write_html(&r, "9.9", out, err, sizeof err), 0);
    p1 = read_all(out, "finding-1.html");
    assert_non_null(p1);
    assert_non_null(strstr(p1, "could not be read"));
    assert_null(strstr(p1, "<tr id=\"L"));
    assert_int_equal(count(p1, "<li class=\"step"), 5);
    free(p1);
    pr_free(&r);
    tmp_remove(&t);
}

static void test_no_findings(void **state)
{
    (void)state;
    tmpdir t;
    tmp_make(&t);
    /* pages of an earlier report go; other files stay */
    const char *old[] = { "finding-1.html", "finding-2.html", "finding-4.html", "notes.txt" };
    for (int i = 0; i < 4; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", t.path, old[i]);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fclose(f);
    }
    pr_report r;
    pr_init(&r);
    char err[256] = "";
    assert_int_equal(pr_write_html(&r, "1", t.path, err, sizeof err), 0);  /* existing folder */
    char *gone = read_all(t.path, "finding-1.html");
    assert_null(gone);
    assert_null(read_all(t.path, "finding-2.html"));
    char *kept = read_all(t.path, "notes.txt");
    assert_non_null(kept);          /* not a page */
    free(kept);
    kept = read_all(t.path, "finding-4.html");
    assert_non_null(kept);          /* after a gap: not from the last report */
    free(kept);
    char *index = read_all(t.path, "index.html");
    assert_non_null(index);
    assert_non_null(strstr(index, "No findings."));
    assert_int_equal(count(index, "<tr class=\"finding\""), 0);
    free(index);
    pr_free(&r);
    tmp_remove(&t);
}

/* Absolute paths: their common folder is named once and left out of the
 * names shown; the filter's values stay whole. */
static void test_common_folder(void **state)
{
    (void)state;
    tmpdir t;
    tmp_make(&t);
    pr_report r;
    pr_init(&r);
    pr_step st = { { "/x/y/a.c", 1, 1 }, "step", -1 };
    pr_finding f = { .rule = "leak", .severity = "warning", .loc = { "/x/y/a.c", 1, 1 }, .function = "g",
                     .message = "m", .fingerprint = "0123456789abcdef", .steps = &st, .nsteps = 1 };
    assert_int_equal(pr_add_finding(&r, &f), 0);
    f.loc.file = "/x/z/b.c";
    assert_int_equal(pr_add_finding(&r, &f), 0);
    char err[256] = "";
    assert_int_equal(pr_write_html(&r, "1", t.path, err, sizeof err), 0);
    char *index = read_all(t.path, "index.html");
    assert_non_null(index);
    assert_non_null(strstr(index, "File names below are in <code>/x/</code>"));
    assert_non_null(strstr(index, "<option value=\"/x/y/a.c\">y/a.c (1)</option>"));
    assert_non_null(strstr(index, "data-file=\"/x/z/b.c\""));
    assert_non_null(strstr(index, "title=\"/x/z/b.c\">z/b.c:1:1</span>"));
    free(index);
    char *p1 = read_all(t.path, "finding-1.html");
    assert_non_null(p1);
    assert_non_null(strstr(p1, "<span class=\"mono\">/x/y/a.c:1:1</span> in <code>g()</code>"));
    assert_non_null(strstr(p1, "data-where=\"y/a.c:1:1\""));
    free(p1);
    pr_free(&r);
    tmp_remove(&t);
}

static void test_folder_errors(void **state)
{
    (void)state;
    tmpdir t;
    tmp_make(&t);
    char file[300], under[300];
    snprintf(file, sizeof file, "%s/plain", t.path);
    snprintf(under, sizeof under, "%s/plain/sub", t.path);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    pr_report r;
    pr_init(&r);
    char err[512] = "";
    assert_int_equal(pr_write_html(&r, "1", file, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot create directory"));
    assert_non_null(strstr(err, "a file of that name exists"));
    assert_null(strchr(err, '\n'));
    err[0] = '\0';
    assert_int_equal(pr_write_html(&r, "1", under, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot create directory"));
    assert_non_null(strstr(err, "Not a directory"));
    err[0] = '\0';
    assert_int_equal(pr_write_html(&r, "1", NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "-o DIR"));
    pr_free(&r);
    tmp_remove(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_finding_copies_other_paths),
        cmocka_unit_test(test_pages),
        cmocka_unit_test(test_no_findings),
        cmocka_unit_test(test_common_folder),
        cmocka_unit_test(test_folder_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
