/* test_kb.c - unit tests of the knowledge base (checker/kb): the rules
 * format, error reporting, overriding, version selection and format-string
 * splitting.
 *
 *   test_kb [RULES_DIR]
 *
 * With RULES_DIR (the project's rules/), also loads the shipped rules and
 * checks a few lookups; the full data check is tests/kb/kb_consistency.c.
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

#include "kb/kb.h"

static char tmpdir[256];
static const char *rules_dir;
static int file_seq;

/* ------------------------------------------------------------ helpers */

/* Writes text to a new file in the temporary directory; returns its path
 * (static buffer rotated between 4 calls). */
static const char *write_file(const char *name, const char *text)
{
    static char paths[4][512];
    static int slot;
    char *p = paths[slot++ % 4];
    if (name)
        snprintf(p, 512, "%s/%s", tmpdir, name);
    else
        snprintf(p, 512, "%s/t%d.rules", tmpdir, ++file_seq);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fwrite(text, 1, strlen(text), f);
    fclose(f);
    return p;
}

/* Loads text into k; returns kb_load_file's result, message in err. */
static int load_text(kb *k, const char *text, char *err, size_t len)
{
    return kb_load_file(k, write_file(NULL, text), err, len);
}

static kb *kb_with(const char *text)
{
    kb *k = kb_new();
    assert_non_null(k);
    char err[512];
    int rc = load_text(k, text, err, sizeof err);
    if (rc != 0)
        fail_msg("unexpected load error: %s", err);
    return k;
}

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_kb.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ parsing */

static void test_every_field(void **state)
{
    (void)state;
    kb *k = kb_with(
        "# a comment line\n"
        "\n"
        "   # indented comment\n"
        "Full ret=borrowed owner=1 fail=null-or-absent fail-exc=no sets-exc=yes clears-exc=yes "
        "exc-probe=yes "
        "noreturn=yes nogil=yes gil=release fmt=printf py=3.8-3.13 "
        "args=(a:steal, b:nonnull, fmt:format, ...:nullok)  # trailing comment\n"
        "Mac ret=new same=0 fail=never macro=yes returns-stmt=yes immortal=yes args=(x:xincref)\n"
        "Plain\n");
    const kb_entry *e = kb_lookup(k, "Full");
    assert_non_null(e);
    assert_string_equal(e->name, "Full");
    assert_false(e->is_macro);
    assert_int_equal(e->ret, KB_RET_BORROWED);
    assert_int_equal(e->ret_same_as, -1);
    assert_int_equal(e->ret_owner, 1);
    assert_int_equal(e->fail, KB_FAIL_NULL_OR_ABSENT);
    assert_false(e->fail_sets_exc);
    assert_true(e->sets_exc);
    assert_true(e->clears_exc);
    assert_true(e->exc_probe);
    assert_true(e->noreturn);
    assert_true(e->nogil);
    assert_int_equal(e->gil, KB_GIL_RELEASE);
    assert_false(e->returns_stmt);
    assert_false(e->immortal_result);
    assert_int_equal(e->nargs, 3);
    assert_true(e->variadic);
    assert_int_equal(e->arg[0], KB_ARG_STEAL);
    assert_int_equal(e->arg[1], KB_ARG_BORROW | KB_ARG_NONNULL);
    assert_int_equal(e->arg[2], KB_ARG_BORROW | KB_ARG_FORMAT);
    assert_int_equal(kb_arg_flags(e, 3), KB_ARG_BORROW | KB_ARG_NULLOK);
    assert_int_equal(kb_arg_flags(e, 9), KB_ARG_BORROW | KB_ARG_NULLOK);
    assert_int_equal(kb_arg_flags(e, -1), 0);
    assert_int_equal(e->fmt, KB_FMT_PRINTF);
    assert_int_equal(e->fmt_arg, 2);
    assert_int_equal(e->py_min, 0x0308);
    assert_int_equal(e->py_max, 0x030d);
    assert_non_null(strstr(e->origin, ".rules:4"));
    assert_string_equal(kb_arg_name(e, 0), "a");
    assert_string_equal(kb_arg_name(e, 2), "fmt");
    assert_string_equal(kb_arg_name(e, 3), "...");
    assert_null(kb_arg_name(e, 4));

    e = kb_lookup(k, "Mac");
    assert_non_null(e);
    assert_true(e->is_macro);
    assert_true(e->returns_stmt);
    assert_true(e->immortal_result);
    assert_int_equal(e->ret, KB_RET_NEW);
    assert_int_equal(e->ret_same_as, 0);
    assert_int_equal(e->fail, KB_FAIL_NEVER);
    assert_false(e->fail_sets_exc);
    assert_int_equal(e->arg[0], KB_ARG_XINCREF | KB_ARG_NULLOK);
    assert_false(e->variadic);
    assert_int_equal(kb_arg_flags(e, 1), 0);

    e = kb_lookup(k, "Plain");
    assert_non_null(e);
    assert_int_equal(e->ret, KB_RET_UNKNOWN);
    assert_int_equal(e->nargs, -1);
    assert_int_equal(e->fail, KB_FAIL_NEVER);
    assert_int_equal(e->fmt_arg, -1);
    assert_int_equal(e->gil, KB_GIL_KEEP);
    assert_false(e->exc_probe);
    assert_int_equal(kb_arg_flags(e, 0), 0);

    assert_int_equal(kb_count(k), 3);
    assert_string_equal(kb_at(k, 0)->name, "Full");
    assert_string_equal(kb_at(k, 2)->name, "Plain");
    assert_null(kb_at(k, 3));
    assert_null(kb_at(k, -1));
    assert_null(kb_lookup(k, "Nope"));
    assert_null(kb_lookup(k, NULL));
    kb_free(k);
}

static void test_enum_values(void **state)
{
    (void)state;
    static const char *const rets[] = {"new", "borrowed", "null", "int", "void", "ptr"};
    static const char *const fails[] = {"never", "null", "null-or-absent", "neg",
                                        "neg-ambiguous", "zero", "neg-or-zero-absent"};
    static const kb_fail failv[] = {KB_FAIL_NEVER, KB_FAIL_NULL, KB_FAIL_NULL_OR_ABSENT,
                                    KB_FAIL_NEG, KB_FAIL_NEG_AMBIGUOUS, KB_FAIL_ZERO,
                                    KB_FAIL_NEG_OR_ZERO_ABSENT};
    static const char *const fmts[] = {"parse", "parse-kw", "build", "printf"};
    char text[4096] = "";
    size_t used = 0;
    for (int i = 0; i < 6; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "R%d ret=%s\n", i, rets[i]);
    for (int i = 0; i < 7; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "F%d ret=%s fail=%s\n", i,
                                 i == 1 || i == 2 ? "new" : "int", fails[i]);
    for (int i = 0; i < 4; i++)
        used += (size_t)snprintf(text + used, sizeof text - used,
                                 "M%d ret=int fmt=%s args=(f:format, ...)\n", i, fmts[i]);
    used += (size_t)snprintf(text + used, sizeof text - used, "G ret=void gil=acquire\n");
    kb *k = kb_with(text);
    char name[8];
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "R%d", i);
        assert_int_equal(kb_lookup(k, name)->ret, KB_RET_NEW + i);
        assert_string_equal(kb_ret_name(KB_RET_NEW + i), rets[i]);
    }
    for (int i = 0; i < 7; i++) {
        snprintf(name, sizeof name, "F%d", i);
        const kb_entry *e = kb_lookup(k, name);
        assert_int_equal(e->fail, failv[i]);
        assert_int_equal(e->fail_sets_exc, i != 0);   /* default: failure sets one */
        assert_string_equal(kb_fail_name(failv[i]), fails[i]);
    }
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "M%d", i);
        assert_int_equal(kb_lookup(k, name)->fmt, KB_FMT_PARSE + i);
        assert_string_equal(kb_format_name(KB_FMT_PARSE + i), fmts[i]);
    }
    assert_int_equal(kb_lookup(k, "G")->gil, KB_GIL_ACQUIRE);
    assert_string_equal(kb_ret_name((kb_ret)99), "?");
    kb_free(k);
}

static void test_arg_flags(void **state)
{
    (void)state;
    static const struct {
        const char *flag;
        uint32_t bits;
    } t[] = {
        {"borrow", KB_ARG_BORROW},
        {"steal", KB_ARG_STEAL},
        {"steal-on-success", KB_ARG_STEAL_OK},
        {"incref", KB_ARG_INCREF | KB_ARG_NONNULL},
        {"xincref", KB_ARG_XINCREF | KB_ARG_NULLOK},
        {"decref", KB_ARG_DECREF | KB_ARG_NONNULL},
        {"xdecref", KB_ARG_XDECREF | KB_ARG_NULLOK},
        {"nullok", KB_ARG_BORROW | KB_ARG_NULLOK},
        {"nonnull", KB_ARG_BORROW | KB_ARG_NONNULL},
        {"out-new", KB_ARG_OUT_NEW},
        {"out-borrowed", KB_ARG_OUT_BORROW},
        {"out-new+out-nullok", KB_ARG_OUT_NEW | KB_ARG_OUT_NULLOK},
        {"clear", KB_ARG_CLEAR | KB_ARG_NULLOK},
        {"assign-dst+nonnull", KB_ARG_ASSIGN_DST | KB_ARG_NONNULL},
        {"assign-src", KB_ARG_ASSIGN_SRC},
        {"visit", KB_ARG_VISIT | KB_ARG_NULLOK},
        {"inout-steal+out-nullok", KB_ARG_INOUT_STEAL | KB_ARG_OUT_NULLOK},
        {"steal+nullok", KB_ARG_STEAL | KB_ARG_NULLOK},
        {" steal + nonnull ", KB_ARG_STEAL | KB_ARG_NONNULL},
        {"nonnull+keep", KB_ARG_BORROW | KB_ARG_NONNULL | KB_ARG_KEEP},
        {"borrow+keep", KB_ARG_BORROW | KB_ARG_KEEP},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char line[256];
        snprintf(line, sizeof line, "X args=(a, b:%s)\n", t[i].flag);
        kb *k = kb_with(line);
        const kb_entry *e = kb_lookup(k, "X");
        assert_int_equal(e->nargs, 2);
        assert_int_equal(e->arg[0], KB_ARG_BORROW);
        if (e->arg[1] != t[i].bits)
            fail_msg("flag '%s': got 0x%x, want 0x%x", t[i].flag, (unsigned)e->arg[1],
                     (unsigned)t[i].bits);
        kb_free(k);
    }
    /* A format argument, blanks inside the parentheses, empty list. */
    kb *k = kb_with("P ret=int fail=zero fmt=parse args=( args:nonnull ,format:format , ... )\n"
                    "Z ret=void args=()\n");
    const kb_entry *e = kb_lookup(k, "P");
    assert_int_equal(e->nargs, 2);
    assert_true(e->variadic);
    assert_int_equal(e->fmt_arg, 1);
    assert_int_equal(kb_arg_flags(e, 2), KB_ARG_BORROW);
    e = kb_lookup(k, "Z");
    assert_int_equal(e->nargs, 0);
    assert_false(e->variadic);
    kb_free(k);
}

/* Each bad line must be rejected with "FILE:LINE: " and a recognisable
 * message, and nothing of the file may be kept. */
static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int line;
        const char *msg;
    } t[] = {
        {"X fial=null\n", 1, "unknown key 'fial'"},
        {"# ok\nX ret\n", 2, "expected key=value, got 'ret'"},
        {"X ret=newish\n", 1, "unknown value 'newish'"},
        {"X ret=new fail=sometimes\n", 1, "fail: unknown value 'sometimes'"},
        {"X ret=new macro=maybe\n", 1, "expected yes or no"},
        {"X ret=new ret=new\n", 1, "key 'ret' given twice"},
        {"X ret=new same=0\n", 1, "same= needs args="},
        {"X ret=new same=2 args=(a, b)\n", 1, "same=2: there are only 2 arguments"},
        {"X ret=new same=x args=(a)\n", 1, "expected a number"},
        {"X ret=new same=99 args=(a)\n", 1, "out of range"},
        {"X ret=new owner=0 args=(a)\n", 1, "owner= needs ret=borrowed"},
        {"X ret=int same=0 args=(a)\n", 1, "same= needs ret=new or ret=borrowed"},
        {"X ret=int immortal=yes\n", 1, "immortal=yes needs"},
        {"X ret=new returns-stmt=yes\n", 1, "returns-stmt=yes needs macro=yes"},
        {"X ret=new fail=neg\n", 1, "fail=neg needs ret=int"},
        {"X ret=int fail=null\n", 1, "fail=null needs a pointer result"},
        {"X ret=int fail-exc=no\n", 1, "fail-exc= needs a fail="},
        {"X ret=new fmt=build\n", 1, "fmt= needs args="},
        {"X ret=new fmt=build args=(a)\n", 1, "no argument has the format flag"},
        {"X ret=new args=(f:format)\n", 1, "needs fmt=parse"},
        {"X ret=new fmt=build args=(f:format, g:format)\n", 1, "more than one argument has the format flag"},
        {"X ret=new fmt=printf args=(...:format)\n", 1, "'...' cannot be the format"},
        {"X ret=new fmt=scanf args=(f:format)\n", 1, "fmt: unknown value 'scanf'"},
        {"X args=(a:stealz)\n", 1, "unknown flag 'stealz'"},
        {"X args=(a:steal+steal)\n", 1, "given twice"},
        {"X args=(a:steal+incref)\n", 1, "more than one effect flag"},
        {"X args=(a:borrow+steal)\n", 1, "more than one effect flag"},
        {"X args=(a:clear+xdecref)\n", 1, "more than one effect flag"},
        {"X args=(a:nullok+nonnull)\n", 1, "contradict"},
        {"X args=(a:incref+nullok)\n", 1, "need a non-NULL argument"},
        {"X args=(a:xdecref+nonnull)\n", 1, "contradicts"},
        {"X args=(a:out-nullok)\n", 1, "out-nullok needs"},
        {"X args=(a:format+steal)\n", 1, "no reference effect"},
        {"X args=(a:steal+keep)\n", 1, "keep (the callee takes its own reference)"},
        {"X ret=int exc-probe=yes\n", 1, "exc-probe=yes needs a pointer result"},
        {"X args=(a:)\n", 1, "no flag after ':'"},
        {"X args=(a,,b)\n", 1, "empty argument 1"},
        {"X args=(..., a)\n", 1, "'...' must be the last argument"},
        {"X args=(a b)\n", 1, "bad argument name 'a b'"},
        {"X args=(1a)\n", 1, "bad argument name"},
        {"X args=a,b\n", 1, "expected a list in parentheses"},
        {"X args=(a, (b))\n", 1, "nested parentheses"},
        {"X args=(a, b\n", 1, "missing ')'"},
        {"X args=(a0,a1,a2,a3,a4,a5,a6,a7,a8,a9,a10,a11,a12,a13,a14,a15,a16)\n", 1,
         "more than 16 arguments"},
        {"X py=3\n", 1, "py: bad version '3'"},
        {"X py=3.13-3.8\n", 1, "empty version range"},
        {"X py=-\n", 1, "bad version range"},
        {"X py=3.x-\n", 1, "bad version range"},
        {"1X ret=new\n", 1, "is not a C identifier"},
        {"X-Y ret=new\n", 1, "is not a C identifier"},
        {"@singelton _Py_NoneStruct\n", 1, "unknown directive '@singelton'"},
        {"@singleton\n", 1, "exactly one name"},
        {"@singleton a b\n", 1, "exactly one name"},
        {"@singleton 9x\n", 1, "not a C identifier"},
        {"@unit parse\n", 1, "needs a kind and a code"},
        {"@unit scan O nargs=1\n", 1, "unknown value 'scan'"},
        {"@unit parse Oooo nargs=1\n", 1, "longer than 3 characters"},
        {"@unit parse O nargs=1 effect=out-new\n", 1, "needs obj="},
        {"@unit parse O nargs=1 obj=0\n", 1, "obj= needs an effect="},
        {"@unit parse O nargs=1 obj=1 effect=out-new\n", 1, "obj=1 but the unit takes 1"},
        {"@unit parse O nargs=1 color=red\n", 1, "unknown key 'color'"},
        {"@unit parse O nargs=99\n", 1, "out of range"},
        {"@unit parse ( pair=)) \n", 1, "pair= takes one character"},
        {"@unit parse x skip=yes stop=yes\n", 1, "at most one of"},
        {"@unit parse l length=yes\n", 1, "length= is for printf units"},
        {"@unit build \\q nargs=1\n", 1, "unknown escape"},
        {"X ret=new \x01\n", 1, "control character"},
        {"ok ret=new\nok2 ret=new\n\n# c\nX ret=new\x01\n", 5, "control character"},
    };
    kb *k = kb_new();
    assert_non_null(k);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char err[512];
        const char *path = write_file(NULL, t[i].text);
        int rc = kb_load_file(k, path, err, sizeof err);
        if (rc != -1)
            fail_msg("case %zu (%s) was accepted", i, t[i].text);
        char prefix[600];
        snprintf(prefix, sizeof prefix, "%s:%d: ", path, t[i].line);
        if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, t[i].msg))
            fail_msg("case %zu: got \"%s\", want prefix \"%s\" and \"%s\"", i, err, prefix, t[i].msg);
        assert_null(strchr(err, '\n'));
        assert_int_equal(kb_count(k), 0);           /* all-or-nothing */
    }
    /* A NUL byte inside a line. */
    char err[512];
    const char *path = write_file(NULL, "");
    FILE *f = fopen(path, "wb");
    fwrite("A ret=new\nB ret\0=new\n", 1, 21, f);
    fclose(f);
    assert_int_equal(kb_load_file(k, path, err, sizeof err), -1);
    assert_non_null(strstr(err, ":2: NUL byte"));
    /* Missing file, NULL arguments, no room for the message. */
    assert_int_equal(kb_load_file(k, "/nonexistent/x.rules", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/x.rules: cannot open"));
    assert_int_equal(kb_load_file(k, NULL, err, sizeof err), -1);
    assert_int_equal(kb_load_file(NULL, path, err, sizeof err), -1);
    assert_int_equal(kb_load_file(k, path, NULL, 0), -1);
    assert_int_equal(kb_load_dir(k, "/nonexistent", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent: cannot open directory"));
    assert_int_equal(kb_count(k), 0);
    kb_free(k);
}

/* --------------------------------------------------- override, versions */

static void test_override(void **state)
{
    (void)state;
    kb *k = kb_new();
    char err[512];
    const char *a = write_file("ov_a.rules", "X ret=new fail=null\nY ret=int fail=neg\n");
    const char *b = write_file("ov_b.rules", "# later\nX ret=borrowed fail=never\n");
    assert_int_equal(kb_load_file(k, a, err, sizeof err), 0);
    assert_int_equal(kb_lookup(k, "X")->ret, KB_RET_NEW);
    const kb_entry *before = kb_lookup(k, "X");
    assert_int_equal(kb_load_file(k, b, err, sizeof err), 0);
    const kb_entry *e = kb_lookup(k, "X");
    assert_int_equal(e->ret, KB_RET_BORROWED);
    assert_int_equal(e->fail, KB_FAIL_NEVER);
    assert_non_null(strstr(e->origin, "ov_b.rules:2"));
    assert_int_equal(before->ret, KB_RET_NEW);      /* old pointers stay valid */
    assert_int_equal(kb_lookup(k, "Y")->ret, KB_RET_INT);
    assert_int_equal(kb_count(k), 2);
    /* A failing file changes nothing. */
    assert_int_equal(load_text(k, "X ret=int\nbroken\x02\n", err, sizeof err), -1);
    assert_int_equal(kb_lookup(k, "X")->ret, KB_RET_BORROWED);
    kb_free(k);
}

static void test_load_dir(void **state)
{
    (void)state;
    char dir[300], err[512];
    snprintf(dir, sizeof dir, "%s/dir", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    char path[400];
    snprintf(path, sizeof path, "dir/b.rules");
    write_file(path, "X ret=borrowed\nB ret=int\n");
    write_file("dir/a.rules", "X ret=new\nA ret=int\n");
    write_file("dir/c.txt", "this is not loaded\x01\n");
    write_file("dir/.hidden.rules", "garbage\x01\n");
    snprintf(path, sizeof path, "%s/dir/sub.rules", tmpdir);
    assert_int_equal(mkdir(path, 0700), 0);        /* a directory: skipped */
    kb *k = kb_new();
    assert_int_equal(kb_load_dir(k, dir, err, sizeof err), 2);
    assert_int_equal(kb_lookup(k, "X")->ret, KB_RET_BORROWED);   /* b after a */
    assert_non_null(kb_lookup(k, "A"));
    assert_non_null(kb_lookup(k, "B"));
    assert_int_equal(kb_count(k), 3);
    /* An error names the file and line. */
    write_file("dir/d.rules", "ok ret=int\nX ret=wrong\n");
    kb *k2 = kb_new();
    assert_int_equal(kb_load_dir(k2, dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "d.rules:2: ret: unknown value 'wrong'"));
    kb_free(k2);
    /* An empty directory loads nothing. */
    snprintf(path, sizeof path, "%s/empty", tmpdir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(kb_load_dir(k, path, err, sizeof err), 0);
    kb_free(k);
}

static void test_versions(void **state)
{
    (void)state;
    kb *k = kb_with("Z ret=new py=-3.11\n"
                    "Z ret=borrowed py=3.12-\n"
                    "W ret=int py=3.13\n"
                    "V ret=void py=3.9-3.10\n"
                    "U ret=ptr\n"
                    "M ret=void macro=yes py=3.12-\n");
    assert_int_equal(kb_python_version(k), 0);
    assert_int_equal(kb_lookup(k, "Z")->ret, KB_RET_BORROWED);   /* any: last wins */
    assert_int_equal(kb_count(k), 5);
    kb_set_python_version(k, 0x030b);
    assert_int_equal(kb_python_version(k), 0x030b);
    assert_int_equal(kb_lookup(k, "Z")->ret, KB_RET_NEW);
    assert_null(kb_lookup(k, "W"));
    assert_null(kb_lookup(k, "V"));
    assert_non_null(kb_lookup(k, "U"));
    assert_int_equal(kb_count(k), 2);
    const char *const *names;
    assert_int_equal(kb_macro_names(k, &names), 0);
    kb_set_python_version(k, 0x030c);
    assert_int_equal(kb_lookup(k, "Z")->ret, KB_RET_BORROWED);
    assert_null(kb_lookup(k, "W"));
    assert_int_equal(kb_macro_names(k, &names), 1);
    assert_string_equal(names[0], "M");
    kb_set_python_version(k, 0x030d);
    assert_int_equal(kb_lookup(k, "W")->ret, KB_RET_INT);
    kb_set_python_version(k, 0x030e);
    assert_null(kb_lookup(k, "W"));
    kb_set_python_version(k, 0x0309);
    assert_int_equal(kb_lookup(k, "V")->ret, KB_RET_VOID);
    /* A later unranged entry overrides every ranged one. */
    char err[256];
    assert_int_equal(load_text(k, "Z ret=int\n", err, sizeof err), 0);
    assert_int_equal(kb_lookup(k, "Z")->ret, KB_RET_INT);
    kb_set_python_version(k, 0x030c);
    assert_int_equal(kb_lookup(k, "Z")->ret, KB_RET_INT);
    kb_free(k);

    assert_int_equal(kb_parse_version("3.11"), 0x030b);
    assert_int_equal(kb_parse_version("3.8"), 0x0308);
    assert_int_equal(kb_parse_version("10.0"), 0x0a00);
    assert_int_equal(kb_parse_version("3"), -1);
    assert_int_equal(kb_parse_version("3.11.2"), -1);
    assert_int_equal(kb_parse_version("3.x"), -1);
    assert_int_equal(kb_parse_version(""), -1);
    assert_int_equal(kb_parse_version("0.1"), -1);
    assert_int_equal(kb_parse_version("3.256"), -1);
    assert_int_equal(kb_parse_version(NULL), -1);
}

static void test_macros_singletons(void **state)
{
    (void)state;
    kb *k = kb_with("@singleton _Py_NoneStruct\n"
                    "@singleton _Py_TrueStruct   # comment\n"
                    "Py_CLEAR ret=void macro=yes args=(op:clear)\n"
                    "Py_INCREF ret=void args=(o:incref)\n"
                    "Py_RETURN_NONE ret=new macro=yes returns-stmt=yes immortal=yes args=()\n"
                    "abort ret=void noreturn=yes args=()\n"
                    "Py_FatalError ret=void noreturn=yes args=(msg)\n");
    const char *const *names;
    assert_int_equal(kb_macro_names(k, &names), 2);
    assert_string_equal(names[0], "Py_CLEAR");
    assert_string_equal(names[1], "Py_RETURN_NONE");
    assert_int_equal(kb_noreturn_names(k, &names), 2);
    assert_string_equal(names[0], "Py_FatalError");
    assert_string_equal(names[1], "abort");
    assert_true(kb_is_singleton(k, "_Py_NoneStruct"));
    assert_true(kb_is_singleton(k, "_Py_TrueStruct"));
    assert_false(kb_is_singleton(k, "_Py_FalseStruct"));
    assert_false(kb_is_singleton(k, "Py_INCREF"));
    assert_false(kb_is_singleton(k, NULL));
    assert_null(kb_lookup(k, "_Py_NoneStruct"));     /* not an entry */
    assert_int_equal(kb_singleton_names(k, &names), 2);
    assert_string_equal(names[0], "_Py_NoneStruct");
    assert_int_equal(kb_count(k), 5);
    kb_free(k);
    assert_false(kb_is_singleton(NULL, "_Py_NoneStruct"));
    assert_int_equal(kb_macro_names(NULL, &names), 0);
    assert_int_equal(kb_noreturn_names(NULL, &names), 0);
}

/* ----------------------------------------------------------- formatting */

static void test_entry_format_roundtrip(void **state)
{
    (void)state;
    const char *text =
        "A ret=borrowed owner=0 fail=null-or-absent fail-exc=no exc-probe=yes args=(p:nonnull, key:nonnull+keep)\n"
        "B ret=int fail=zero fmt=parse-kw py=3.8-3.13 args=(args:nonnull, kw:nullok, format:format, kwlist, ...)\n"
        "C ret=void macro=yes gil=release nogil=yes args=()\n"
        "D ret=new same=0 fail=never args=(o:incref)\n"
        "E ret=int fail=neg-or-zero-absent py=3.13 args=(o, r:out-new+out-nullok)\n"
        "F ret=null fail=null sets-exc=yes clears-exc=yes noreturn=yes py=-3.11 args=(x:steal-on-success, ...:out-borrowed)\n"
        "G\n";
    kb *k = kb_with(text);
    char all[4096] = "";
    for (int i = 0; i < kb_count(k); i++) {
        char line[1024];
        int n = kb_entry_format(kb_at(k, i), line, sizeof line);
        assert_int_equal(n, (int)strlen(line));
        strcat(all, line);
        strcat(all, "\n");
    }
    kb *k2 = kb_with(all);
    assert_int_equal(kb_count(k2), kb_count(k));
    for (int i = 0; i < kb_count(k); i++) {
        const kb_entry *x = kb_at(k, i), *y = kb_at(k2, i);
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->ret, y->ret);
        assert_int_equal(x->fail, y->fail);
        assert_int_equal(x->fail_sets_exc, y->fail_sets_exc);
        assert_int_equal(x->sets_exc, y->sets_exc);
        assert_int_equal(x->clears_exc, y->clears_exc);
        assert_int_equal(x->exc_probe, y->exc_probe);
        assert_int_equal(x->noreturn, y->noreturn);
        assert_int_equal(x->nogil, y->nogil);
        assert_int_equal(x->gil, y->gil);
        assert_int_equal(x->is_macro, y->is_macro);
        assert_int_equal(x->ret_same_as, y->ret_same_as);
        assert_int_equal(x->ret_owner, y->ret_owner);
        assert_int_equal(x->fmt, y->fmt);
        assert_int_equal(x->fmt_arg, y->fmt_arg);
        assert_int_equal(x->py_min, y->py_min);
        assert_int_equal(x->py_max, y->py_max);
        assert_int_equal(x->nargs, y->nargs);
        assert_int_equal(x->variadic, y->variadic);
        assert_memory_equal(x->arg, y->arg, sizeof x->arg);
    }
    /* Truncation reports the full length, like snprintf. */
    char small[8];
    int need = kb_entry_format(kb_lookup(k, "A"), small, sizeof small);
    assert_true(need > 7);
    assert_int_equal(strlen(small), 7);
    kb_free(k2);
    kb_free(k);
}

/* -------------------------------------------------------------- formats */


/* The shipped @unit rows (rules/formats.rules), loaded once. */
static kb *format_kb;

static int split_format(kb_format kind, const char *format, kb_fmt_unit *units, int max,
                        char *err, size_t errlen)
{
    if (!format_kb) {
        char path[4096], lerr[512];
        format_kb = kb_new();
        snprintf(path, sizeof path, "%s/formats.rules", rules_dir ? rules_dir : "rules");
        if (!format_kb || kb_load_file(format_kb, path, lerr, sizeof lerr) != 0)
            fail_msg("cannot load %s: %s", path, lerr);
    }
    return kb_format_units_in(format_kb, kind, format, units, max, err, errlen);
}

typedef struct want {
    const char *code;
    int nargs;
    int effect;
    int obj;
} want;

static void expect_units(kb_format kind, const char *format, const want *w, int n)
{
    kb_fmt_unit u[32];
    char err[256];
    int got = split_format(kind, format, u, 32, err, sizeof err);
    if (got != n)
        fail_msg("\"%s\": %d units (%s), want %d", format, got, err, n);
    for (int i = 0; i < n; i++) {
        if (strcmp(u[i].code, w[i].code) != 0 || u[i].nargs != w[i].nargs ||
            (int)u[i].effect != w[i].effect || u[i].obj_arg != w[i].obj)
            fail_msg("\"%s\" unit %d: got %s/%d/%d/%d, want %s/%d/%d/%d", format, i, u[i].code,
                     u[i].nargs, (int)u[i].effect, u[i].obj_arg, w[i].code, w[i].nargs,
                     w[i].effect, w[i].obj);
    }
}

static void expect_error(kb_format kind, const char *format, const char *msg)
{
    kb_fmt_unit u[32];
    char err[256];
    int got = split_format(kind, format, u, 32, err, sizeof err);
    if (got != -1)
        fail_msg("\"%s\" accepted (%d units)", format, got);
    if (!strstr(err, msg))
        fail_msg("\"%s\": got \"%s\", want \"%s\"", format, err, msg);
}

#define N KB_FU_NONE
#define OB KB_FU_OUT_BORROW

static void test_format_parse(void **state)
{
    (void)state;
    const want w1[] = {{"O!", 2, OB, 1}, {"|", 0, N, -1}, {"s#", 2, N, -1}};
    expect_units(KB_FMT_PARSE, "O!|s#:name", w1, 3);
    const want w2[] = {{"(", 0, N, -1}, {"i", 1, N, -1}, {"i", 1, N, -1}, {")", 0, N, -1},
                       {"O", 1, OB, 0}, {"O&", 2, N, -1}};
    expect_units(KB_FMT_PARSE, "(ii)OO&;error message with (unbalanced", w2, 6);
    const want w3[] = {{"es#", 3, N, -1}, {"et", 2, N, -1}, {"y*", 1, N, -1}, {"S", 1, OB, 0},
                       {"U", 1, OB, 0}, {"Y", 1, OB, 0}, {"p", 1, N, -1}, {"w*", 1, N, -1}};
    expect_units(KB_FMT_PARSE, "es#ety*SUYpw*", w3, 8);
    const want w4[] = {{"s", 1, N, -1}, {"|", 0, N, -1}, {"$", 0, N, -1}, {"i", 1, N, -1}};
    expect_units(KB_FMT_PARSE_KW, "s|$i:f", w4, 4);
    expect_units(KB_FMT_PARSE, "", NULL, 0);
    expect_units(KB_FMT_PARSE, ":only_a_name", NULL, 0);
    expect_error(KB_FMT_PARSE, "s|$i", "unknown unit '$' at offset 2");  /* $ needs ...AndKeywords */
    expect_error(KB_FMT_PARSE, "(ii", "unbalanced: missing ')'");
    expect_error(KB_FMT_PARSE, "ii)", "unbalanced ')' at offset 2");
    expect_error(KB_FMT_PARSE, "iqi", "unknown unit 'q' at offset 1");
    expect_error(KB_FMT_PARSE, "N", "unknown unit 'N'");             /* build-only */
    expect_error(KB_FMT_PARSE, "i i", "unknown unit '\\x20'");
    expect_error(KB_FMT_NONE, "i", "not a format-driven kind");
}

static void test_format_build(void **state)
{
    (void)state;
    const want w1[] = {{"(", 0, N, -1}, {"N", 1, KB_FU_IN_STEAL, 0},
                       {"O", 1, KB_FU_IN_NEWREF, 0}, {")", 0, N, -1}};
    expect_units(KB_FMT_BUILD, "(NO)", w1, 4);
    const want w2[] = {{"{", 0, N, -1}, {"s", 1, N, -1}, {"O", 1, KB_FU_IN_NEWREF, 0},
                       {"s#", 2, N, -1}, {"N", 1, KB_FU_IN_STEAL, 0}, {"}", 0, N, -1}};
    expect_units(KB_FMT_BUILD, "{s:O, s#:N}", w2, 6);
    const want w3[] = {{"[", 0, N, -1}, {"i", 1, N, -1}, {"(", 0, N, -1}, {"S", 1, KB_FU_IN_NEWREF, 0},
                       {"O&", 2, N, -1}, {")", 0, N, -1}, {"]", 0, N, -1}};
    expect_units(KB_FMT_BUILD, "[i(SO&)]", w3, 7);
    expect_units(KB_FMT_BUILD, "", NULL, 0);
    expect_error(KB_FMT_BUILD, "(]", "unbalanced ']' at offset 1");
    expect_error(KB_FMT_BUILD, "[(i]", "unbalanced ']'");
    expect_error(KB_FMT_BUILD, "{s:O", "missing '}'");
    expect_error(KB_FMT_BUILD, "O!", "unknown unit '!'");
    expect_error(KB_FMT_BUILD, "i;", "unknown unit ';'");
    /* NULL format (PyObject_CallFunction(f, NULL)): no units. */
    kb_fmt_unit u[4];
    char err[64];
    assert_int_equal(split_format(KB_FMT_BUILD, NULL, u, 4, err, sizeof err), 0);
    /* More units than room. */
    assert_int_equal(split_format(KB_FMT_BUILD, "iiiii", u, 4, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than 4 units"));
    /* Deep nesting is refused, not overflowed. */
    char deep[200];
    memset(deep, '(', 100);
    memset(deep + 100, ')', 99);
    deep[199] = '\0';
    kb_fmt_unit many[256];
    char derr[256];
    assert_int_equal(split_format(KB_FMT_BUILD, deep, many, 256, derr, sizeof derr), -1);
    assert_non_null(strstr(derr, "nested deeper than 64"));
}

static void test_format_printf(void **state)
{
    (void)state;
    const want w1[] = {{"s", 1, N, -1}, {"R", 1, KB_FU_IN_BORROW, 0}, {"zd", 1, N, -1}};
    expect_units(KB_FMT_PRINTF, "%s: %R (%zd) 100%%", w1, 3);
    const want w2[] = {{"s", 2, N, -1}, {"lld", 1, N, -1}, {"U", 2, KB_FU_IN_BORROW, 1},
                       {"V", 2, KB_FU_IN_BORROW, 0}, {"lu", 1, N, -1}};
    expect_units(KB_FMT_PRINTF, "%.*s %-10lld %*U %V %08lu", w2, 5);
    expect_units(KB_FMT_PRINTF, "no conversions", NULL, 0);
    expect_error(KB_FMT_PRINTF, "%k", "unknown conversion '%k' at offset 0");
    expect_error(KB_FMT_PRINTF, "abc %", "incomplete conversion at offset 4");
    expect_error(KB_FMT_PRINTF, "%ll", "incomplete conversion");
}

static void test_format_table_in_kb(void **state)
{
    (void)state;
    kb_fmt_unit u[8];
    char err[256];
    /* Not in the shipped rows ... */
    assert_int_equal(split_format(KB_FMT_BUILD, "pi", u, 8, err, sizeof err), -1);
    /* ... but a rules file loaded after them can add it, and replace rows. */
    kb *k = kb_new();
    assert_non_null(k);
    char path[4096];
    snprintf(path, sizeof path, "%s/formats.rules", rules_dir ? rules_dir : "rules");
    if (kb_load_file(k, path, err, sizeof err) != 0)
        fail_msg("cannot load %s: %s", path, err);
    int shipped = kb_format_specs(k, NULL);
    assert_true(shipped > 50);
    if (load_text(k, "@unit build p nargs=1            # 3.14: bool from int\n"
                     "@unit build O nargs=1 obj=0 effect=in-steal\n"
                     "@unit parse-kw @ nargs=0\n"
                     "@unit build \\s nargs=1\n", err, sizeof err) != 0)
        fail_msg("unexpected load error: %s", err);
    assert_int_equal(kb_format_units_in(k, KB_FMT_BUILD, "pi", u, 8, err, sizeof err), 2);
    assert_string_equal(u[0].code, "p");
    assert_int_equal(kb_format_units_in(k, KB_FMT_BUILD, "O", u, 8, err, sizeof err), 1);
    assert_int_equal(u[0].effect, KB_FU_IN_STEAL);
    assert_int_equal(kb_format_units_in(k, KB_FMT_PARSE_KW, "i@i", u, 8, err, sizeof err), 3);
    assert_int_equal(kb_format_units_in(k, KB_FMT_PARSE, "i@i", u, 8, err, sizeof err), -1);
    assert_int_equal(kb_format_units_in(k, KB_FMT_BUILD, "i i", u, 8, err, sizeof err), 3);
    assert_string_equal(u[1].code, " ");
    assert_int_equal(kb_format_units_in(k, KB_FMT_BUILD, "(NO)", u, 8, err, sizeof err), 4);
    /* no kb: no vocabulary, every unit is unknown */
    assert_int_equal(kb_format_units_in(NULL, KB_FMT_BUILD, "(NO)", u, 8, err, sizeof err), -1);
    const kb_fmt_spec *specs;
    int nspecs = kb_format_specs(k, &specs);
    assert_true(nspecs >= shipped + 2);
    bool found_p = false;
    for (int i = 0; i < nspecs; i++)
        if (strcmp(specs[i].code, "p") == 0 && specs[i].kind == KB_FMT_BUILD) {
            found_p = true;
            assert_non_null(strstr(specs[i].origin, ".rules:1"));
        }
    assert_true(found_p);
    assert_int_equal(kb_format_specs(NULL, &specs), 0);
    assert_string_equal(kb_fu_effect_name(KB_FU_IN_STEAL), "in-steal");
    kb_free(k);
}

/* ---------------------------------------------------------- robustness */

static void test_garbage_and_scale(void **state)
{
    (void)state;
    /* Random bytes: never a crash, always -1 or 0 with a sane message. */
    unsigned seed = 12345;
    kb *k = kb_new();
    for (int round = 0; round < 200; round++) {
        char buf[600];
        int n = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 599;
        for (int i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            static const char alphabet[] = "PyX_ret=new(),:+#@ \n\t.-3yesnoargsfailsteal...\"\\";
            buf[i] = (seed >> 24) % 4 == 0 ? (char)(seed >> 16)
                                           : alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        buf[n] = '\0';
        const char *path = write_file("garbage.rules", buf);
        char err[300];
        int rc = kb_load_file(k, path, err, sizeof err);
        assert_true(rc == 0 || rc == -1);
        if (rc == -1)
            assert_true(strlen(err) > 0 && strlen(err) < sizeof err);
    }
    kb_free(k);
    /* A very long line and a tiny error buffer. */
    size_t big = 200000;
    char *line = malloc(big + 16);
    memset(line, 'A', big);
    strcpy(line + big, " ret=what\n");
    k = kb_new();
    char tiny[16];
    assert_int_equal(load_text(k, line, tiny, sizeof tiny), -1);
    assert_int_equal(strlen(tiny), 15);
    free(line);
    /* Thousands of entries: the table grows, lookups stay correct. */
    size_t cap = 5000 * 40, used = 0;
    char *text = malloc(cap);
    for (int i = 0; i < 5000; i++)
        used += (size_t)snprintf(text + used, cap - used, "Fn%d ret=%s\n", i, i % 2 ? "new" : "int");
    char err[256];
    assert_int_equal(load_text(k, text, err, sizeof err), 0);
    free(text);
    assert_int_equal(kb_count(k), 5000);
    for (int i = 0; i < 5000; i += 7) {
        char name[16];
        snprintf(name, sizeof name, "Fn%d", i);
        const kb_entry *e = kb_lookup(k, name);
        assert_non_null(e);
        assert_int_equal(e->ret, i % 2 ? KB_RET_NEW : KB_RET_INT);
    }
    assert_null(kb_lookup(k, "Fn5000"));
    kb_free(k);
    kb_free(NULL);
}

/* ------------------------------------------------------ shipped rules */

static void test_shipped_rules(void **state)
{
    (void)state;
    if (!rules_dir) {
        print_message("no RULES_DIR argument: shipped rules not checked here\n");
        skip();
    }
    kb *k = kb_new();
    char err[512];
    int n = kb_load_dir(k, rules_dir, err, sizeof err);
    if (n <= 0)
        fail_msg("loading %s: %s", rules_dir, err);
    kb_set_python_version(k, 0x030b);
    assert_true(kb_count(k) > 900);
    const kb_entry *e = kb_lookup(k, "PyList_New");
    assert_non_null(e);
    assert_int_equal(e->ret, KB_RET_NEW);
    assert_int_equal(e->fail, KB_FAIL_NULL);
    e = kb_lookup(k, "PyTuple_SET_ITEM");
    assert_true(e->arg[2] & KB_ARG_STEAL);
    assert_false(kb_lookup(k, "Py_INCREF")->is_macro);
    assert_true(kb_lookup(k, "Py_CLEAR")->is_macro);
    assert_true(kb_is_singleton(k, "_Py_NoneStruct"));
    /* Every shipped entry prints as a line that loads back. */
    for (int i = 0; i < kb_count(k); i++) {
        char line[2048];
        assert_true(kb_entry_format(kb_at(k, i), line, sizeof line) < (int)sizeof line);
        strcat(line, "\n");
        kb *one = kb_new();
        if (load_text(one, line, err, sizeof err) != 0)
            fail_msg("%s does not load back: %s", line, err);
        kb_free(one);
    }
    kb_free(k);
}

int main(int argc, char **argv)
{
    rules_dir = argc > 1 ? argv[1] : NULL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_field),
        cmocka_unit_test(test_enum_values),
        cmocka_unit_test(test_arg_flags),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_override),
        cmocka_unit_test(test_load_dir),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_macros_singletons),
        cmocka_unit_test(test_entry_format_roundtrip),
        cmocka_unit_test(test_format_parse),
        cmocka_unit_test(test_format_build),
        cmocka_unit_test(test_format_printf),
        cmocka_unit_test(test_format_table_in_kb),
        cmocka_unit_test(test_garbage_and_scale),
        cmocka_unit_test(test_shipped_rules),
    };
    int rc = cmocka_run_group_tests(tests, setup_dir, teardown_dir);
    kb_free(format_kb);
    return rc;
}
