/* test_runtime.c - tests of the reference runtime (libprc_runtime.a): each
 * case runs in a forked child with a time limit, its outcome lines go to a
 * pipe (PRT_OUT), and the parent checks them and how the child ended, so a
 * crash or a hang in the code under test never harms this process.
 * Registered in ctest as runtime:cases (label "runtime").
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "prt.h"
#include "ext_cases.h"
#include "ext_modules.h"

#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PRT_TEST_RULES_DIR
#define PRT_TEST_RULES_DIR "rules"
#endif

typedef struct outcome {
    char out[16384];         /* everything the child wrote to PRT_OUT */
    int exit_code;           /* -1 when killed by a signal */
    int signal;              /* the signal, or 0 */
} outcome;

static int failures;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            failures++;                                                   \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);          \
            fprintf(stderr, __VA_ARGS__);                                 \
            fprintf(stderr, "\n");                                        \
        }                                                                 \
    } while (0)

/* Runs body in a child with the given fault plan and trace setting. */
static void run(void (*body)(void), const char *faults, bool trace, outcome *o)
{
    int fds[2];
    memset(o, 0, sizeof *o);
    if (pipe(fds) < 0) {
        perror("pipe");
        exit(2);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        close(fds[0]);
        char fd[16];
        snprintf(fd, sizeof fd, "%d", fds[1]);
        setenv("PRT_OUT", fd, 1);
        if (faults)
            setenv("PRT_FAULTS", faults, 1);
        else
            unsetenv("PRT_FAULTS");
        setenv("PRT_TRACE", trace ? "1" : "0", 1);
        if (!getenv("PRT_RULES_DIR"))
            setenv("PRT_RULES_DIR", PRT_TEST_RULES_DIR, 1);
        alarm(20);
        prt_init();
        body();
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    time_t start = time(NULL);
    for (;;) {
        struct pollfd p = { .fd = fds[0], .events = POLLIN };
        int r = poll(&p, 1, 1000);
        if (r > 0) {
            ssize_t k = read(fds[0], o->out + n, sizeof o->out - 1 - n);
            if (k <= 0)
                break;
            n += (size_t)k;
            if (n >= sizeof o->out - 1)
                break;
        }
        if (time(NULL) - start > 30) {
            kill(pid, SIGKILL);
            break;
        }
    }
    o->out[n] = 0;
    close(fds[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    o->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    o->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

/* Number of lines starting with "prt: " other than ok/call/fault lines. */
static int problem_lines(const char *out)
{
    int n = 0;
    for (const char *p = out; (p = strstr(p, "prt: ")); p += 5) {
        if (p != out && p[-1] != '\n')
            continue;
        if (!strncmp(p + 5, "ok", 2) || !strncmp(p + 5, "call ", 5) || !strncmp(p + 5, "fault ", 6))
            continue;
        n++;
    }
    return n;
}

static int count_calls(const char *out)
{
    int n = 0;
    for (const char *p = out; (p = strstr(p, "prt: call ")); p += 10)
        n++;
    return n;
}

/* ---- bodies: one call each, as a generated harness would make it ------------------------- */

static void call_obj(PyObject *(*fn)(PyObject *, PyObject *), const char *kind)
{
    PyObject *arg = kind ? prt_arg(kind) : NULL;
    prt_call_begin();
    PyObject *r = fn(NULL, arg);
    prt_call_end(r, PRT_RET_OBJECT, 0);
}

static void b_leak(void) { call_obj(ext_leak, NULL); }
static void b_double_decref(void) { call_obj(ext_double_decref, NULL); }
static void b_use_dead(void) { call_obj(ext_use_dead, NULL); }
static void b_borrowed_from_dead(void) { call_obj(ext_borrowed_from_dead, NULL); }
static void b_correct(void) { call_obj(ext_correct, "str"); }
static void b_null_noexc(void) { call_obj(ext_null_noexc, "dict"); }
static void b_borrowed_return(void) { call_obj(ext_borrowed_return, "str"); }
static void b_none_borrowed(void) { call_obj(ext_none_borrowed, NULL); }
static void b_decref_arg(void) { call_obj(ext_decref_arg, "float"); }
static void b_decref_borrowed_item(void) { call_obj(ext_decref_borrowed_item, "list"); }
static void b_null_deref(void) { call_obj(ext_null_deref, NULL); }

static void b_first_repr(void) { call_obj(ext_first_repr, "gen"); }

static void b_add_defaults(void)
{
    PyObject *m = prt_arg("module");
    prt_call_begin();
    int r = ext_add_defaults(m);
    prt_call_end(NULL, PRT_RET_INT, r);
}

static void b_remember(void) { call_obj(ext_remember, NULL); }
static void b_remember_ok(void) { call_obj(ext_remember_ok, NULL); }

static void b_parse(void)
{
    PyObject *args = Py_BuildValue("(ls)", 41L, "spam");
    prt_call_begin();
    PyObject *r = ext_parse(NULL, args);
    prt_call_end(r, PRT_RET_OBJECT, 0);
}

static void b_int_ok(void)
{
    PyObject *arg = prt_arg("tuple2");
    prt_call_begin();
    int r = ext_int_ok(arg);
    prt_call_end(NULL, PRT_RET_INT, r);
}

/* Fault plan NAME:N: exactly the 2nd PyList_New fails, with MemoryError. */
static void b_fault_name(void)
{
    PyObject *setup = PyList_New(0);           /* before begin: not numbered */
    prt_call_begin();
    if (!setup)
        _exit(11);
    PyObject *a = PyList_New(0);
    PyObject *b = PyList_New(0);
    int b_mem = b == NULL && PyErr_ExceptionMatches(PyExc_MemoryError);
    PyErr_Clear();
    PyObject *c = PyList_New(0);
    PyObject *small = PyLong_FromLong(7);      /* cached: never fails */
    if (!a || !b_mem || !c || !small)
        _exit(10);
    _exit(0);
}

/* Fault plan #K: the 2nd fallible call of any API fails; calls that cannot
 * fail are not counted. */
static void b_fault_k(void)
{
    prt_call_begin();
    PyObject *a = PyList_New(0);               /* fallible #1 */
    Py_INCREF(Py_None);
    (void)PyErr_Occurred();                    /* cannot fail: not counted */
    PyObject *d = PyDict_New();                /* fallible #2: fails */
    int d_mem = d == NULL && PyErr_ExceptionMatches(PyExc_MemoryError);
    PyErr_Clear();
    PyObject *e = PyDict_New();                /* fallible #3 */
    if (!a || !d_mem || !e)
        _exit(10);
    _exit(0);
}

/* A failure whose knowledge-base entry says no exception (PyMem_Malloc),
 * and a _SizeT symbol matched by its plain name. */
static void b_fault_noexc(void)
{
    prt_call_begin();
    void *p = PyMem_Malloc(16);
    int no_exc = p == NULL && PyErr_Occurred() == NULL;
    PyObject *args = Py_BuildValue("(i)", 5);
    int x = 0;
    int ok = PyArg_ParseTuple(args, "i", &x);  /* _PyArg_ParseTuple_SizeT */
    int parse_failed = !ok && PyErr_ExceptionMatches(PyExc_MemoryError);
    if (!no_exc || !parse_failed)
        _exit(10);
    _exit(0);
}

static void b_dead_type_name(void) { call_obj(ext_dead_type_name, NULL); }
static void b_dead_heap_type(void) { call_obj(ext_dead_heap_type, NULL); }
static void b_dead_tuple_item(void) { call_obj(ext_dead_tuple_item, NULL); }
static void b_dead_tuple_item_repr(void) { call_obj(ext_dead_tuple_item_repr, NULL); }

/* prt_fault_address: 1 only inside a dead object's trap slot, one line per
 * object however often it is asked. */
static void b_fault_address(void)
{
    int local = 0;
    PyObject *s = PyUnicode_FromString("gone");
    PyObject *live = PyUnicode_FromString("alive");
    prt_call_begin();
    Py_DECREF(s);
    const char *slot = (const char *)Py_TYPE(s);   /* the header stays readable */
    int outside = prt_fault_address(&local) + prt_fault_address(NULL) +
                  prt_fault_address(live) + prt_fault_address(Py_TYPE(live));
    int first = prt_fault_address(slot + offsetof(PyTypeObject, tp_name));
    int again = prt_fault_address(slot);
    _exit(outside == 0 && first == 1 && again == 1 ? 0 : 10);
}

/* Module state, capsules and imports (ext_modules.c). */
static void b_state_roundtrip(void) { call_obj(ext_state_roundtrip, NULL); }
static void b_state_remove(void) { call_obj(ext_state_remove, NULL); }
static void b_capsule_dies(void) { call_obj(ext_capsule_dies, NULL); }
static void b_capsule_wrong_name(void) { call_obj(ext_capsule_wrong_name, NULL); }
static void b_capsule_leak(void) { call_obj(ext_capsule_leak, NULL); }
static void b_structseq(void) { call_obj(ext_structseq, NULL); }
static void b_structseq_leak(void) { call_obj(ext_structseq_leak, NULL); }
static void b_small_apis(void) { call_obj(ext_small_apis, NULL); }
static void b_gc_track_null(void) { call_obj(ext_gc_track_null, NULL); }
static void b_capsule_import(void) { call_obj(ext_capsule_import, NULL); }
static void b_import_twice(void) { call_obj(ext_import_twice, NULL); }
static void b_import_attr(void) { call_obj(ext_import_attr, NULL); }
static void b_import_leak(void) { call_obj(ext_import_leak, NULL); }
static void b_import_level(void) { call_obj(ext_import_level, NULL); }

/* ---- checks ---------------------------------------------------------------------------- */

/* The code under test reads through a dead object: the child dies of
 * SIGSEGV after writing the use-after-release line of that object, once,
 * before its crash line. */
static void expect_trap(void (*body)(void), const char *name, const char *want)
{
    outcome o;
    run(body, NULL, false, &o);
    const char *line = strstr(o.out, want);
    const char *crash = strstr(o.out, "prt: crash signal=11");
    CHECK(line != NULL, "%s: expected \"%s\" in:\n%s", name, want, o.out);
    CHECK(!line || !strstr(line + 1, "prt: use-after-release"),
          "%s: use-after-release reported twice:\n%s", name, o.out);
    CHECK(crash != NULL && line != NULL && line < crash, "%s: no crash line after it:\n%s",
          name, o.out);
    CHECK(o.signal == SIGSEGV, "%s: child ended with %d/signal %d:\n%s", name, o.exit_code,
          o.signal, o.out);
}

static void expect_line(void (*body)(void), const char *name, const char *want)
{
    outcome o;
    run(body, NULL, false, &o);
    CHECK(strstr(o.out, want) != NULL, "%s: expected \"%s\" in:\n%s", name, want, o.out);
    CHECK(!strstr(o.out, "prt: ok"), "%s: reported ok:\n%s", name, o.out);
    CHECK(o.exit_code == 0, "%s: child ended with %d/signal %d:\n%s", name, o.exit_code,
          o.signal, o.out);
}

/* The function runs clean (no problem line, "prt: ok") under the plan. */
static void expect_ok(void (*body)(void), const char *faults, const char *name)
{
    outcome o;
    run(body, faults, true, &o);
    CHECK(strstr(o.out, "prt: ok") && problem_lines(o.out) == 0 && o.exit_code == 0,
          "%s: not clean under %s (exit %d/signal %d):\n%s", name, faults ? faults : "no plan",
          o.exit_code, o.signal, o.out);
}

/* The function runs clean with no fault, and under every single-failure
 * plan #1..#K where K is the number of fallible calls it makes. */
static void expect_clean_all_plans(void (*body)(void), const char *name)
{
    outcome o;
    run(body, NULL, true, &o);
    int k = count_calls(o.out);
    CHECK(strstr(o.out, "prt: ok") && problem_lines(o.out) == 0,
          "%s: not clean without faults:\n%s", name, o.out);
    CHECK(k >= 1, "%s: no fallible call traced:\n%s", name, o.out);
    for (int i = 1; i <= k; i++) {
        char plan[32];
        snprintf(plan, sizeof plan, "#%d", i);
        run(body, plan, true, &o);
        CHECK(strstr(o.out, "prt: ok") && problem_lines(o.out) == 0 && o.exit_code == 0,
              "%s: not clean under %s:\n%s", name, plan, o.out);
        CHECK(strstr(o.out, "prt: fault ") != NULL, "%s: plan %s made nothing fail:\n%s",
              name, plan, o.out);
    }
    printf("%s: clean under %d single-failure plans\n", name, k);
}

int main(void)
{
    outcome o;

    expect_line(b_leak, "leak", "prt: leak list allocated-by PyList_New#1 refcnt=1");
    expect_line(b_double_decref, "double decref",
                "prt: use-after-release int allocated-by PyLong_FromLong#1 (what: decref)");
    expect_line(b_use_dead, "use of a dead object",
                "prt: use-after-release str allocated-by PyUnicode_FromString#1 (what: access)");
    expect_line(b_borrowed_from_dead, "borrowed item of a dead list",
                "prt: use-after-release str allocated-by Py_BuildValue#1 (what: incref)");
    expect_line(b_null_noexc, "null without exception", "prt: null-without-exception");
    expect_line(b_borrowed_return, "borrowed return", "prt: borrowed-return str");
    expect_line(b_none_borrowed, "return Py_None", "prt: borrowed-return NoneType");
    expect_line(b_decref_arg, "release of a borrowed argument",
                "prt: negative-refcount float allocated-by prt_arg#1");
    expect_line(b_decref_borrowed_item, "release of a borrowed item",
                "prt: negative-refcount int allocated-by prt_arg#1");

    expect_line(b_first_repr, "item of a released list (gen argument)",
                "prt: use-after-release int allocated-by PySequence_List#1 (what: access)");
    expect_line(b_add_defaults, "leak into a module (module argument)",
                "prt: leak dict allocated-by Py_BuildValue#1 refcnt=2");

    expect_line(b_remember, "released while a global points at it",
                "prt: negative-refcount str allocated-by PyUnicode_FromString#1");

    expect_clean_all_plans(b_correct, "correct function");
    expect_clean_all_plans(b_remember_ok, "global owning its reference");
    expect_clean_all_plans(b_parse, "argument parsing");
    expect_clean_all_plans(b_int_ok, "int-returning function");

    run(b_correct, NULL, false, &o);
    CHECK(!strstr(o.out, "prt: call "), "trace lines without PRT_TRACE:\n%s", o.out);
    run(b_correct, NULL, true, &o);
    CHECK(strstr(o.out, "prt: call 1 PyList_New site=0x") != NULL, "trace line missing:\n%s", o.out);

    run(b_fault_name, "PyList_New:2", false, &o);
    CHECK(o.exit_code == 0, "PyList_New:2 did not fail exactly the 2nd call (exit %d)", o.exit_code);
    run(b_fault_k, "#2", false, &o);
    CHECK(o.exit_code == 0, "#2 did not fail exactly the 2nd fallible call (exit %d)", o.exit_code);
    run(b_fault_noexc, "PyMem_Malloc:1,PyArg_ParseTuple:1", false, &o);
    CHECK(o.exit_code == 0, "PyMem_Malloc/PyArg_ParseTuple plan wrong (exit %d)", o.exit_code);
    run(b_fault_name, "PyList_New:x", false, &o);
    CHECK(o.exit_code == 4 && strstr(o.out, "prt: error PRT_FAULTS"),
          "a bad plan is not refused (exit %d):\n%s", o.exit_code, o.out);

    /* Reads through dead objects fault in their trap slot and are reported. */
    expect_trap(b_dead_type_name, "Py_TYPE(dead)->tp_name",
                "prt: use-after-release str allocated-by PyUnicode_FromString#1 (what: access)");
    expect_trap(b_dead_heap_type, "tp_name of a dead heap type",
                "prt: use-after-release type allocated-by PyErr_NewException#1 (what: access)");
    expect_trap(b_dead_tuple_item, "item of a dead tuple increfed",
                "prt: use-after-release tuple allocated-by PyTuple_New#1 (what: access)");
    /* A pointer read from a dead body and handed to an API: no fault. */
    expect_line(b_dead_tuple_item_repr, "item of a dead tuple passed to an API",
                "prt: use-after-release tuple allocated-by Py_BuildValue#1 (what: access)");
    run(b_fault_address, NULL, false, &o);
    {
        const char *want = "prt: use-after-release str allocated-by PyUnicode_FromString#";
        const char *line = strstr(o.out, want);
        CHECK(o.exit_code == 0 && line && !strstr(line + 1, want),
              "prt_fault_address: exit %d, want one \"%s\" line:\n%s", o.exit_code, want, o.out);
    }

    /* A crash in the code under test stays in the child. */
    run(b_null_deref, "PyList_New:1", false, &o);
    CHECK(o.signal == SIGSEGV && strstr(o.out, "prt: crash signal=11"),
          "NULL dereference: signal %d:\n%s", o.signal, o.out);
    run(b_null_deref, NULL, false, &o);
    CHECK(o.exit_code == 0 && strstr(o.out, "prt: ok"), "no fault: %s", o.out);

    /* Module state, capsules and imports. */
    expect_clean_all_plans(b_state_roundtrip, "module state round trip");
    expect_ok(b_state_remove, NULL, "module state removed");
    expect_ok(b_capsule_dies, NULL, "capsule destructor");
    expect_ok(b_capsule_wrong_name, NULL, "capsule with a wrong name");
    expect_ok(b_capsule_leak, NULL, "capsule stored in a tuple");
    run(b_capsule_leak, "PyTuple_New:1", false, &o);
    CHECK(strstr(o.out, "prt: leak PyCapsule allocated-by PyCapsule_New#1 refcnt=1") &&
          problem_lines(o.out) == 1 && o.exit_code == 0,
          "capsule leaked on an error path (exit %d):\n%s", o.exit_code, o.out);
    expect_ok(b_capsule_import, NULL, "PyCapsule_Import of a stand-in");
    /* Struct sequences: the named-only slots are released with the object. */
    expect_clean_all_plans(b_structseq, "struct sequence");
    expect_line(b_structseq_leak, "struct sequence's named-only field over-counted",
                "prt: leak int allocated-by PyLong_FromLong#1 refcnt=1");
    expect_clean_all_plans(b_small_apis, "type names, wide chars, unsigned mask");
    expect_line(b_gc_track_null, "NULL tracked", "prt: null-argument PyObject_GC_Track site=0x");
    expect_clean_all_plans(b_import_twice, "import twice");
    expect_clean_all_plans(b_import_attr, "attribute of an imported module");
    expect_line(b_import_leak, "imported module never released",
                "prt: leak module allocated-by PyImport_ImportModule#1 refcnt=2");
    expect_ok(b_import_level, NULL, "PyImport_ImportModuleLevel");
    for (int i = 1; i <= 2; i++) {
        char plan[48];
        snprintf(plan, sizeof plan, "PyImport_ImportModule:%d", i);
        run(b_import_twice, plan, true, &o);
        char want[64];
        snprintf(want, sizeof want, "prt: fault %d PyImport_ImportModule site=0x", i);
        CHECK(strstr(o.out, want) && strstr(o.out, "prt: ok") && problem_lines(o.out) == 0 &&
              o.exit_code == 0, "%s: (exit %d):\n%s", plan, o.exit_code, o.out);
    }

    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all runtime checks passed\n");
    return 0;
}
