/* kb_consistency.c - checks the shipped rules/ directory against CPython's
 * own reference-count data and against the facts the project relies on.
 *
 *   kb_consistency RULES_DIR CPYTHON_API_DIR
 *
 * CPYTHON_API_DIR holds refcounts-3.11.dat and refcounts-3.13.dat (in CI:
 * ../shared/cpython-api).  When it is missing the test prints a SKIPPED line
 * and exits 77.  Checks:
 *   1. rules/ loads without error;
 *   2. every function of each .dat has an entry for that Python version,
 *      and its return effect agrees (+1 new, 0 borrowed, null always-NULL,
 *      blank: void / pointer / int by C type), except for the few .dat
 *      errors listed in dat_errata (each erratum is itself checked);
 *   3. the steals of shared/README.md are encoded, and the documented
 *      non-steals carry no steal flag;
 *   4. a table of key facts (failure modes, out-parameters, exceptions,
 *      GIL, formats, statement macros, singletons);
 *   5. the "@unit" rows of rules/formats.rules describe the units the
 *      engine relies on (sample formats split as expected);
 *   6. no API name has two entries in rules/ unless both carry py= ranges.
 * Exit 0 when all pass, 1 otherwise (every failure is printed).
 */
#define _POSIX_C_SOURCE 200809L

#include "kb/kb.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int failures;

#define FAIL(...)                                  \
    do {                                           \
        fprintf(stderr, "FAIL: " __VA_ARGS__);     \
        fputc('\n', stderr);                       \
        failures++;                                \
    } while (0)

/* ------------------------------------------------------------ .dat data */

/* Known mistakes of refcounts.dat: the entry must have `ret` instead. */
static const struct {
    const char *name;
    kb_ret ret;
    const char *why;
} dat_errata[] = {
    {"Py_NewRef", KB_RET_NEW, "the .dat gives void; it returns its argument with a new reference"},
    {"Py_XNewRef", KB_RET_NEW, "the .dat gives void; it returns its argument with a new reference"},
    {"PyMemoryView_GET_BASE", KB_RET_BORROWED, "the .dat gives Py_buffer*; it yields view.obj, a borrowed PyObject*"},
};

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static kb_ret expected_ret(const char *ctype, const char *effect)
{
    if (strcmp(effect, "+1") == 0)
        return KB_RET_NEW;
    if (strcmp(effect, "0") == 0)
        return KB_RET_BORROWED;
    if (strcmp(effect, "null") == 0)
        return KB_RET_NULL;
    if (strcmp(ctype, "void") == 0)
        return KB_RET_VOID;
    if (strchr(ctype, '*') || strchr(ctype, '('))
        return KB_RET_PTR;
    return KB_RET_INT;
}

/* Checks one .dat file; returns the number of functions seen, -1 when the
 * file cannot be read. */
static int check_dat(kb *k, const char *path, int version)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    kb_set_python_version(k, version);
    char line[4096], prev[256] = "";
    int nfuncs = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#' || trim(line)[0] == '\0')
            continue;
        /* function:type:param:effect:comment */
        char *field[5] = {NULL};
        char *p = line;
        for (int i = 0; i < 5 && p; i++) {
            field[i] = p;
            char *c = i < 4 ? strchr(p, ':') : NULL;
            if (c)
                *c = '\0';
            p = c ? c + 1 : NULL;
        }
        if (!field[3]) {
            FAIL("%s:%d: not a .dat line", path, lineno);
            continue;
        }
        char *name = trim(field[0]);
        if (strcmp(name, prev) == 0)
            continue;                        /* parameter line */
        snprintf(prev, sizeof prev, "%s", name);
        if (trim(field[2])[0] != '\0') {
            FAIL("%s:%d: %s: first line of a block is not the return value", path, lineno, name);
            continue;
        }
        nfuncs++;
        const kb_entry *e = kb_lookup(k, name);
        if (!e) {
            FAIL("%s:%d: %s has no rules entry for Python %d.%d", path, lineno, name,
                 version >> 8, version & 0xff);
            continue;
        }
        kb_ret want = expected_ret(trim(field[1]), trim(field[3]));
        for (size_t i = 0; i < sizeof dat_errata / sizeof dat_errata[0]; i++)
            if (strcmp(dat_errata[i].name, name) == 0)
                want = dat_errata[i].ret;
        if (e->ret != want)
            FAIL("%s (%s): ret=%s but %s:%d says %s", name, e->origin, kb_ret_name(e->ret),
                 path, lineno, kb_ret_name(want));
    }
    fclose(f);
    return nfuncs;
}

/* ------------------------------------------------------------- steals */

static const struct {
    const char *name;
    int arg;
    uint32_t flag;
} steals[] = {
    {"PyList_SetItem", 2, KB_ARG_STEAL},
    {"PyTuple_SetItem", 2, KB_ARG_STEAL},
    {"PyList_SET_ITEM", 2, KB_ARG_STEAL},
    {"PyTuple_SET_ITEM", 2, KB_ARG_STEAL},
    {"PyStructSequence_SetItem", 2, KB_ARG_STEAL},
    {"PyModule_AddObject", 2, KB_ARG_STEAL_OK},
    {"PyModule_Add", 2, KB_ARG_STEAL},
    {"PyException_SetCause", 1, KB_ARG_STEAL},
    {"PyException_SetContext", 1, KB_ARG_STEAL},
    {"PyErr_Restore", 0, KB_ARG_STEAL},
    {"PyErr_Restore", 1, KB_ARG_STEAL},
    {"PyErr_Restore", 2, KB_ARG_STEAL},
    {"PyErr_SetRaisedException", 0, KB_ARG_STEAL},
};

static const char *const non_stealing[] = {
    "PyDict_SetItem", "PyObject_SetItem", "PySequence_SetItem", "PyCell_Set",
    "PyList_Append", "PyErr_SetObject", "PyDict_SetItemString", "PyList_Insert",
    "PySet_Add", "PyObject_SetAttr", "PyModule_AddObjectRef", "PyTuple_Pack",
};

#define STEALING (KB_ARG_STEAL | KB_ARG_STEAL_OK | KB_ARG_INOUT_STEAL)
/* Setters that do not steal take their own reference instead. */
static const char *const keeping[] = {
    "PyDict_SetItem", "PyObject_SetItem", "PySequence_SetItem", "PyCell_Set", "PyList_Append",
    "PyErr_SetObject", "PyDict_SetItemString", "PyList_Insert", "PySet_Add", "PyObject_SetAttr",
    "PyModule_AddObjectRef", "PyTuple_Pack",
};

static void check_steals(kb *k)
{
    for (size_t i = 0; i < sizeof steals / sizeof steals[0]; i++) {
        const kb_entry *e = kb_lookup(k, steals[i].name);
        if (!e) {
            FAIL("steals: %s has no entry", steals[i].name);
            continue;
        }
        uint32_t f = kb_arg_flags(e, steals[i].arg);
        if ((f & STEALING) != steals[i].flag)
            FAIL("steals: %s argument %d should be %s (%s)", steals[i].name, steals[i].arg,
                 steals[i].flag == KB_ARG_STEAL ? "steal" : "steal-on-success", e->origin);
    }
    for (size_t i = 0; i < sizeof non_stealing / sizeof non_stealing[0]; i++) {
        const kb_entry *e = kb_lookup(k, non_stealing[i]);
        if (!e) {
            FAIL("steals: %s has no entry", non_stealing[i]);
            continue;
        }
        for (int a = 0; a <= e->nargs; a++)
            if (kb_arg_flags(e, a) & STEALING)
                FAIL("steals: %s must not steal argument %d (%s)", non_stealing[i], a, e->origin);
    }
    for (size_t i = 0; i < sizeof keeping / sizeof keeping[0]; i++) {
        const kb_entry *e = kb_lookup(k, keeping[i]);
        bool any = false;
        for (int a = 0; e && a <= e->nargs; a++)
            any |= (kb_arg_flags(e, a) & KB_ARG_KEEP) != 0;
        if (e && !any)
            FAIL("keep: %s should keep the object it stores (%s)", keeping[i], e->origin);
    }
    /* Py_BuildValue "N" steals, "O" does not. */
    kb_fmt_unit u[8];
    char err[256];
    int n = kb_format_units_in(k, KB_FMT_BUILD, "NO", u, 8, err, sizeof err);
    if (n != 2 || u[0].effect != KB_FU_IN_STEAL || u[1].effect != KB_FU_IN_NEWREF)
        FAIL("formats: Py_BuildValue \"N\" must steal and \"O\" add a reference (%s)", err);
}

/* ---------------------------------------------------------- key facts */

enum { F_RET = 1, F_FAIL = 2, F_EXC = 4, F_SETS = 8, F_CLEARS = 16, F_NORET = 32,
       F_NOGIL = 64, F_MACRO = 128, F_RETSTMT = 256, F_FMT = 512, F_ARG = 1024,
       F_SAME = 2048, F_GIL = 4096, F_IMMORTAL = 8192, F_PROBE = 16384 };

typedef struct fact {
    const char *name;
    int what;                /* F_* bits: which fields below are checked */
    kb_ret ret;
    kb_fail fail;
    bool exc;                /* fail_sets_exc */
    kb_format fmt;
    int fmt_arg;
    int arg;                 /* F_ARG: kb_arg_flags(e, arg) & mask == flags */
    uint32_t mask, flags;
    int same;
    int gil;
} fact;

#define OUTNEW (KB_ARG_OUT_NEW | KB_ARG_OUT_NULLOK)

static const fact facts[] = {
    {.name = "PyList_New", .what = F_RET | F_FAIL | F_EXC, .ret = KB_RET_NEW,
      .fail = KB_FAIL_NULL, .exc = true},
    {.name = "PyList_SetItem", .what = F_FAIL | F_EXC, .fail = KB_FAIL_NEG, .exc = true},
    {.name = "PyLong_AsLong", .what = F_FAIL, .fail = KB_FAIL_NEG_AMBIGUOUS},
    {.name = "PyDict_GetItem", .what = F_RET | F_FAIL | F_EXC, .ret = KB_RET_BORROWED,
      .fail = KB_FAIL_NULL_OR_ABSENT, .exc = false},
    {.name = "PyDict_GetItemString", .what = F_FAIL | F_EXC, .fail = KB_FAIL_NULL_OR_ABSENT,
      .exc = false},
    {.name = "PyDict_GetItemWithError", .what = F_FAIL | F_EXC, .fail = KB_FAIL_NULL_OR_ABSENT,
      .exc = true},
    {.name = "PyArg_ParseTuple", .what = F_FAIL | F_FMT, .fail = KB_FAIL_ZERO,
      .fmt = KB_FMT_PARSE, .fmt_arg = 1},
    {.name = "_PyArg_ParseTuple_SizeT", .what = F_FAIL | F_FMT, .fail = KB_FAIL_ZERO,
      .fmt = KB_FMT_PARSE, .fmt_arg = 1},
    {.name = "PyArg_ParseTupleAndKeywords", .what = F_FAIL | F_FMT, .fail = KB_FAIL_ZERO,
      .fmt = KB_FMT_PARSE_KW, .fmt_arg = 2},
    {.name = "_PyArg_ParseTupleAndKeywords_SizeT", .what = F_FMT, .fmt = KB_FMT_PARSE_KW,
      .fmt_arg = 2},
    {.name = "PyArg_VaParse", .what = F_FMT, .fmt = KB_FMT_PARSE, .fmt_arg = 1},
    {.name = "PyArg_Parse", .what = F_FMT, .fmt = KB_FMT_PARSE, .fmt_arg = 1},
    {.name = "PyArg_UnpackTuple", .what = F_FAIL | F_ARG, .fail = KB_FAIL_ZERO, .arg = 4,
      .mask = KB_ARG_OUT_BORROW, .flags = KB_ARG_OUT_BORROW},
    {.name = "Py_BuildValue", .what = F_RET | F_FMT, .ret = KB_RET_NEW, .fmt = KB_FMT_BUILD,
      .fmt_arg = 0},
    {.name = "_Py_BuildValue_SizeT", .what = F_FMT, .fmt = KB_FMT_BUILD, .fmt_arg = 0},
    {.name = "PyObject_CallFunction", .what = F_FMT, .fmt = KB_FMT_BUILD, .fmt_arg = 1},
    {.name = "_PyObject_CallFunction_SizeT", .what = F_FMT, .fmt = KB_FMT_BUILD, .fmt_arg = 1},
    {.name = "PyObject_CallMethod", .what = F_FMT, .fmt = KB_FMT_BUILD, .fmt_arg = 2},
    {.name = "_PyObject_CallMethod_SizeT", .what = F_FMT, .fmt = KB_FMT_BUILD, .fmt_arg = 2},
    {.name = "PyErr_Format", .what = F_RET | F_SETS | F_FMT, .ret = KB_RET_NULL,
      .fmt = KB_FMT_PRINTF, .fmt_arg = 1},
    {.name = "PyUnicode_FromFormat", .what = F_FMT, .fmt = KB_FMT_PRINTF, .fmt_arg = 0},
    {.name = "PyBytes_FromFormat", .what = F_FMT, .fmt = KB_FMT_PRINTF, .fmt_arg = 0},
    {.name = "PyObject_IsTrue", .what = F_FAIL, .fail = KB_FAIL_NEG},
    {.name = "PyIter_Next", .what = F_RET | F_FAIL | F_EXC, .ret = KB_RET_NEW,
      .fail = KB_FAIL_NULL_OR_ABSENT, .exc = true},
    {.name = "PyErr_Fetch", .what = F_CLEARS | F_ARG, .arg = 0, .mask = OUTNEW, .flags = OUTNEW},
    {.name = "PyErr_Fetch", .what = F_ARG, .arg = 2, .mask = OUTNEW, .flags = OUTNEW},
    {.name = "PyDict_Next", .what = F_ARG, .arg = 2, .mask = KB_ARG_OUT_BORROW,
      .flags = KB_ARG_OUT_BORROW},
    {.name = "PyDict_Next", .what = F_ARG, .arg = 3, .mask = KB_ARG_OUT_BORROW,
      .flags = KB_ARG_OUT_BORROW},
    {.name = "PyDict_GetItemRef", .what = F_FAIL | F_ARG, .fail = KB_FAIL_NEG_OR_ZERO_ABSENT,
      .arg = 2, .mask = KB_ARG_OUT_NEW, .flags = KB_ARG_OUT_NEW},
    {.name = "PyObject_GetOptionalAttr", .what = F_FAIL | F_ARG,
      .fail = KB_FAIL_NEG_OR_ZERO_ABSENT, .arg = 2, .mask = KB_ARG_OUT_NEW, .flags = KB_ARG_OUT_NEW},
    {.name = "PyWeakref_GetRef", .what = F_FAIL | F_ARG, .fail = KB_FAIL_NEG_OR_ZERO_ABSENT,
      .arg = 1, .mask = KB_ARG_OUT_NEW, .flags = KB_ARG_OUT_NEW},
    {.name = "PyUnicode_Append", .what = F_ARG, .arg = 0, .mask = KB_ARG_INOUT_STEAL,
      .flags = KB_ARG_INOUT_STEAL},
    {.name = "PyErr_Occurred", .what = F_PROBE | F_FAIL | F_EXC, .fail = KB_FAIL_NULL_OR_ABSENT,
     .exc = false},
    {.name = "PyList_Append", .what = F_ARG, .arg = 1, .mask = KB_ARG_KEEP, .flags = KB_ARG_KEEP},
    {.name = "PyDict_SetItem", .what = F_ARG, .arg = 1, .mask = KB_ARG_KEEP, .flags = KB_ARG_KEEP},
    {.name = "PyDict_SetItem", .what = F_ARG, .arg = 2, .mask = KB_ARG_KEEP, .flags = KB_ARG_KEEP},
    {.name = "PyErr_SetObject", .what = F_ARG, .arg = 1, .mask = KB_ARG_KEEP, .flags = KB_ARG_KEEP},
    {.name = "PyList_GetItemRef", .what = F_RET, .ret = KB_RET_NEW},
    {.name = "PyImport_AddModuleRef", .what = F_RET, .ret = KB_RET_NEW},
    {.name = "PyImport_AddModule", .what = F_RET, .ret = KB_RET_BORROWED},
    {.name = "PyErr_GetRaisedException", .what = F_RET | F_CLEARS, .ret = KB_RET_NEW},
    {.name = "Py_NewRef", .what = F_RET | F_SAME | F_FAIL, .ret = KB_RET_NEW,
      .fail = KB_FAIL_NEVER, .same = 0},
    {.name = "Py_XNewRef", .what = F_RET | F_SAME, .ret = KB_RET_NEW, .same = 0},
    {.name = "Py_INCREF", .what = F_ARG, .arg = 0, .mask = KB_ARG_INCREF, .flags = KB_ARG_INCREF},
    {.name = "Py_DECREF", .what = F_ARG, .arg = 0, .mask = KB_ARG_DECREF, .flags = KB_ARG_DECREF},
    {.name = "Py_XINCREF", .what = F_ARG, .arg = 0, .mask = KB_ARG_XINCREF | KB_ARG_NULLOK,
      .flags = KB_ARG_XINCREF | KB_ARG_NULLOK},
    {.name = "Py_XDECREF", .what = F_ARG, .arg = 0, .mask = KB_ARG_XDECREF | KB_ARG_NULLOK,
      .flags = KB_ARG_XDECREF | KB_ARG_NULLOK},
    {.name = "Py_FatalError", .what = F_NORET}, {.name = "_Py_FatalErrorFunc",
      .what = F_NORET}, {.name = "Py_Exit", .what = F_NORET},
    {.name = "abort", .what = F_NORET}, {.name = "exit", .what = F_NORET},
    {.name = "PyGILState_Ensure", .what = F_NOGIL | F_GIL, .gil = KB_GIL_ACQUIRE},
    {.name = "PyGILState_Release", .what = F_NOGIL | F_GIL, .gil = KB_GIL_RELEASE},
    {.name = "PyEval_RestoreThread", .what = F_NOGIL | F_GIL, .gil = KB_GIL_ACQUIRE},
    {.name = "PyEval_SaveThread", .what = F_NOGIL | F_GIL, .gil = KB_GIL_RELEASE},
    {.name = "PyMem_RawMalloc", .what = F_NOGIL | F_FAIL | F_EXC, .fail = KB_FAIL_NULL,
      .exc = false},
    {.name = "PyMem_RawCalloc", .what = F_NOGIL}, {.name = "PyMem_RawRealloc",
      .what = F_NOGIL}, {.name = "PyMem_RawFree", .what = F_NOGIL},
    {.name = "PyErr_SetString", .what = F_SETS}, {.name = "PyErr_SetObject",
      .what = F_SETS}, {.name = "PyErr_SetNone", .what = F_SETS},
    {.name = "PyErr_NoMemory", .what = F_RET | F_SETS, .ret = KB_RET_NULL},
    {.name = "PyErr_SetFromErrno", .what = F_RET | F_SETS, .ret = KB_RET_NULL},
    {.name = "PyErr_BadArgument", .what = F_SETS}, {.name = "PyErr_BadInternalCall",
      .what = F_SETS},
    {.name = "PyErr_Clear", .what = F_CLEARS},
    {.name = "Py_CLEAR", .what = F_MACRO | F_ARG, .arg = 0, .mask = KB_ARG_CLEAR,
      .flags = KB_ARG_CLEAR},
    {.name = "Py_SETREF", .what = F_MACRO | F_ARG, .arg = 1, .mask = KB_ARG_ASSIGN_SRC,
      .flags = KB_ARG_ASSIGN_SRC},
    {.name = "Py_XSETREF", .what = F_MACRO | F_ARG, .arg = 0, .mask = KB_ARG_ASSIGN_DST,
      .flags = KB_ARG_ASSIGN_DST},
    {.name = "Py_RETURN_NONE", .what = F_MACRO | F_RETSTMT | F_IMMORTAL},
    {.name = "Py_RETURN_TRUE", .what = F_MACRO | F_RETSTMT | F_IMMORTAL},
    {.name = "Py_RETURN_FALSE", .what = F_MACRO | F_RETSTMT | F_IMMORTAL},
    {.name = "Py_RETURN_NOTIMPLEMENTED", .what = F_MACRO | F_RETSTMT | F_IMMORTAL},
    {.name = "Py_RETURN_RICHCOMPARE", .what = F_MACRO | F_RETSTMT},
    {.name = "Py_VISIT", .what = F_MACRO | F_ARG, .arg = 0, .mask = KB_ARG_VISIT,
      .flags = KB_ARG_VISIT},
    {.name = "Py_BEGIN_ALLOW_THREADS", .what = F_MACRO | F_GIL, .gil = KB_GIL_RELEASE},
    {.name = "Py_END_ALLOW_THREADS", .what = F_MACRO | F_GIL, .gil = KB_GIL_ACQUIRE},
    {.name = "Py_BLOCK_THREADS", .what = F_MACRO | F_GIL, .gil = KB_GIL_ACQUIRE},
    {.name = "Py_UNBLOCK_THREADS", .what = F_MACRO | F_GIL, .gil = KB_GIL_RELEASE},
};

/* Exactly these are statement macros (the brief for the frontend). */
static const char *const statement_macros[] = {
    "Py_BEGIN_ALLOW_THREADS", "Py_BLOCK_THREADS", "Py_CLEAR", "Py_END_ALLOW_THREADS",
    "Py_RETURN_FALSE", "Py_RETURN_NONE", "Py_RETURN_NOTIMPLEMENTED", "Py_RETURN_RICHCOMPARE",
    "Py_RETURN_TRUE", "Py_SETREF", "Py_UNBLOCK_THREADS", "Py_VISIT", "Py_XSETREF",
};

static const char *const singletons[] = {
    "_Py_NoneStruct", "_Py_TrueStruct", "_Py_FalseStruct", "_Py_NotImplementedStruct",
    "_Py_EllipsisObject",
};

static void check_facts(kb *k)
{
    for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++) {
        const fact *f = &facts[i];
        const kb_entry *e = kb_lookup(k, f->name);
        if (!e) {
            FAIL("facts: %s has no entry", f->name);
            continue;
        }
        if ((f->what & F_RET) && e->ret != f->ret)
            FAIL("facts: %s ret=%s, expected %s", f->name, kb_ret_name(e->ret), kb_ret_name(f->ret));
        if ((f->what & F_FAIL) && e->fail != f->fail)
            FAIL("facts: %s fail=%s, expected %s", f->name, kb_fail_name(e->fail), kb_fail_name(f->fail));
        if ((f->what & F_EXC) && e->fail_sets_exc != f->exc)
            FAIL("facts: %s fail-exc should be %s", f->name, f->exc ? "yes" : "no");
        if ((f->what & F_SETS) && !e->sets_exc)
            FAIL("facts: %s should have sets-exc=yes", f->name);
        if ((f->what & F_CLEARS) && !e->clears_exc)
            FAIL("facts: %s should have clears-exc=yes", f->name);
        if ((f->what & F_NORET) && !e->noreturn)
            FAIL("facts: %s should have noreturn=yes", f->name);
        if ((f->what & F_NOGIL) && !e->nogil)
            FAIL("facts: %s should have nogil=yes", f->name);
        if ((f->what & F_GIL) && e->gil != f->gil)
            FAIL("facts: %s gil=%d, expected %d", f->name, e->gil, f->gil);
        if ((f->what & F_MACRO) && !e->is_macro)
            FAIL("facts: %s should have macro=yes", f->name);
        if ((f->what & F_RETSTMT) && !e->returns_stmt)
            FAIL("facts: %s should have returns-stmt=yes", f->name);
        if ((f->what & F_PROBE) && !e->exc_probe)
            FAIL("facts: %s should have exc-probe=yes", f->name);
        if ((f->what & F_IMMORTAL) && !e->immortal_result)
            FAIL("facts: %s should have immortal=yes", f->name);
        if ((f->what & F_SAME) && e->ret_same_as != f->same)
            FAIL("facts: %s same=%d, expected %d", f->name, e->ret_same_as, f->same);
        if ((f->what & F_FMT) && (e->fmt != f->fmt || e->fmt_arg != f->fmt_arg))
            FAIL("facts: %s fmt=%s@%d, expected %s@%d", f->name, kb_format_name(e->fmt),
                 e->fmt_arg, kb_format_name(f->fmt), f->fmt_arg);
        if ((f->what & F_ARG) && (kb_arg_flags(e, f->arg) & f->mask) != f->flags)
            FAIL("facts: %s argument %d flags 0x%x, expected 0x%x under mask 0x%x", f->name,
                 f->arg, (unsigned)kb_arg_flags(e, f->arg), (unsigned)f->flags, (unsigned)f->mask);
    }
    const char *const *names;
    int n = kb_macro_names(k, &names);
    int want = (int)(sizeof statement_macros / sizeof statement_macros[0]);
    if (n != want)
        FAIL("macros: %d entries have macro=yes, expected the %d statement macros", n, want);
    for (int i = 0; i < n && i < want; i++)
        if (strcmp(names[i], statement_macros[i]) != 0)
            FAIL("macros: got %s where %s was expected", names[i], statement_macros[i]);
    for (size_t i = 0; i < sizeof singletons / sizeof singletons[0]; i++)
        if (!kb_is_singleton(k, singletons[i]))
            FAIL("singletons: %s is not declared", singletons[i]);
}

/* ------------------------------------------------------------ formats */

static void check_format_table(kb *k)
{
    /* The units the engine relies on are described by the shipped rows. */
    static const struct { kb_format kind; const char *format; int units; } samples[] = {
        { KB_FMT_PARSE, "O|O!O&s#n:name", 6 },   /* O | O! O& s# n, then ":name" ends it */
        { KB_FMT_PARSE_KW, "O|$p", 4 },
        { KB_FMT_BUILD, "(NOS)", 5 },
        { KB_FMT_BUILD, "{s:O}", 4 },            /* { s O }: the colon is skipped */
        { KB_FMT_PRINTF, "%s %R %zd", 3 },
    };
    const kb_fmt_spec *specs;
    if (kb_format_specs(k, &specs) < 50)
        FAIL("formats: rules/formats.rules describes only %d units", kb_format_specs(k, NULL));
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        kb_fmt_unit u[32];
        char err[256] = "";
        int n = kb_format_units_in(k, samples[i].kind, samples[i].format, u, 32, err, sizeof err);
        if (n != samples[i].units)
            FAIL("formats: \"%s\" splits into %d units (%s), want %d", samples[i].format, n, err,
                 samples[i].units);
    }
}

/* ---------------------------------------------------------- duplicates */

typedef struct seen {
    char name[128];
    char where[512];
    bool ranged;
} seen;

static int cmp_seen(const void *a, const void *b)
{
    return strcmp(((const seen *)a)->name, ((const seen *)b)->name);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_duplicates(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char *files[256];
    int nf = 0;
    struct dirent *de;
    while ((de = readdir(d)) && nf < 256) {
        size_t l = strlen(de->d_name);
        if (l > 6 && de->d_name[0] != '.' && strcmp(de->d_name + l - 6, ".rules") == 0)
            files[nf++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(files, (size_t)nf, sizeof *files, cmp_str);
    size_t cap = 4096, n = 0;
    seen *v = malloc(cap * sizeof *v);
    for (int i = 0; i < nf && v; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        FILE *f = fopen(path, "r");
        char line[8192];
        int lineno = 0;
        while (f && fgets(line, sizeof line, f)) {
            lineno++;
            char *p = line + strspn(line, " \t");
            if (*p == '#' || *p == '@' || *p == '\n' || *p == '\0')
                continue;
            if (n == cap) {
                cap *= 2;
                seen *nv = realloc(v, cap * sizeof *v);
                if (!nv)
                    break;
                v = nv;
            }
            size_t len = strcspn(p, " \t\n");
            snprintf(v[n].name, sizeof v[n].name, "%.*s", (int)len, p);
            snprintf(v[n].where, sizeof v[n].where, "%s:%d", files[i], lineno);
            v[n].ranged = strstr(p, " py=") != NULL;
            n++;
        }
        if (f)
            fclose(f);
    }
    qsort(v, n, sizeof *v, cmp_seen);
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i].name, v[i - 1].name) == 0 && !(v[i].ranged && v[i - 1].ranged))
            FAIL("duplicates: %s defined at %s and %s without py= ranges", v[i].name,
                 v[i - 1].where, v[i].where);
    free(v);
    for (int i = 0; i < nf; i++)
        free(files[i]);
}

/* -------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s RULES_DIR CPYTHON_API_DIR\n", argv[0]);
        return 2;
    }
    const char *rules = argv[1], *api = argv[2];
    char p11[4096], p13[4096];
    snprintf(p11, sizeof p11, "%s/refcounts-3.11.dat", api);
    snprintf(p13, sizeof p13, "%s/refcounts-3.13.dat", api);
    struct stat st;
    if (stat(p11, &st) != 0 || stat(p13, &st) != 0) {
        printf("*** SKIPPED: kb_consistency: %s has no refcounts-3.11.dat / "
               "refcounts-3.13.dat (the shared CPython API data); nothing was checked ***\n", api);
        return 77;
    }
    kb *k = kb_new();
    if (!k) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    char err[1024];
    int nfiles = kb_load_dir(k, rules, err, sizeof err);
    if (nfiles <= 0) {
        FAIL("loading %s: %s", rules, nfiles == 0 ? "no .rules files" : err);
        kb_free(k);
        return 1;
    }
    kb_set_python_version(k, 0);
    int total = kb_count(k);
    int n11 = check_dat(k, p11, 0x030b);
    int n13 = check_dat(k, p13, 0x030d);
    if (n11 <= 0 || n13 <= 0)
        FAIL("cannot read the .dat files in %s", api);
    kb_set_python_version(k, 0x030b);
    for (size_t i = 0; i < sizeof dat_errata / sizeof dat_errata[0]; i++) {
        const kb_entry *e = kb_lookup(k, dat_errata[i].name);
        if (!e || e->ret != dat_errata[i].ret)
            FAIL("errata: %s should be ret=%s (%s)", dat_errata[i].name,
                 kb_ret_name(dat_errata[i].ret), dat_errata[i].why);
    }
    check_steals(k);
    check_facts(k);
    check_format_table(k);
    check_duplicates(rules);
    kb_free(k);
    printf("kb_consistency: %d rules files, %d entries; %d functions in refcounts-3.11.dat, "
           "%d in refcounts-3.13.dat; %d failure(s)\n", nfiles, total, n11, n13, failures);
    return failures ? 1 : 0;
}
