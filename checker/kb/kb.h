/* kb.h - the C API knowledge base: what each API function or macro does to
 * reference counts, how it fails, and what it needs.
 *
 * Loaded from the data files in rules/ (format: rules/README.md) and from
 * users' --rules files.  The engine, the checks and the reference runtime
 * all read the same tables; nothing else in pyrefcheck hard-codes API names.
 */
#ifndef PRC_KB_H
#define PRC_KB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KB_MAX_ARGS 16

/* What the return value is. */
typedef enum kb_ret {
    KB_RET_UNKNOWN = 0,  /* not described */
    KB_RET_NEW,          /* a new (owned) reference */
    KB_RET_BORROWED,     /* a borrowed reference */
    KB_RET_NULL,         /* always NULL (PyErr_Format, PyErr_NoMemory) */
    KB_RET_INT,          /* not an object: int / Py_ssize_t / ... */
    KB_RET_VOID,         /* no value */
    KB_RET_PTR,          /* a non-object pointer (char *, void *) */
} kb_ret;

/* How failure is signalled. */
typedef enum kb_fail {
    KB_FAIL_NEVER = 0,   /* cannot fail */
    KB_FAIL_NULL,        /* returns NULL on failure */
    KB_FAIL_NULL_OR_ABSENT, /* NULL = failure (exception set) or "not found"
                               (no exception): PyDict_GetItemWithError */
    KB_FAIL_NEG,         /* returns a negative int (-1) on failure */
    KB_FAIL_NEG_AMBIGUOUS,  /* returns -1 that may be a valid result: check
                               PyErr_Occurred() (PyLong_AsLong) */
    KB_FAIL_ZERO,        /* returns 0 on failure (PyArg_ParseTuple) */
    KB_FAIL_NEG_OR_ZERO_ABSENT, /* -1 error, 0 absent, 1 found with out-param
                                   set (PyDict_GetItemRef, PyObject_GetOptionalAttr) */
} kb_fail;

/* Argument effects and properties (bit set per argument). */
enum {
    KB_ARG_BORROW      = 1u << 0,  /* only borrowed for the call (default) */
    KB_ARG_STEAL       = 1u << 1,  /* reference always stolen */
    KB_ARG_STEAL_OK    = 1u << 2,  /* stolen only when the call succeeds */
    KB_ARG_INCREF      = 1u << 3,  /* Py_INCREF-like (must be non-NULL) */
    KB_ARG_XINCREF     = 1u << 4,  /* Py_XINCREF-like (NULL allowed) */
    KB_ARG_DECREF      = 1u << 5,  /* Py_DECREF-like (must be non-NULL) */
    KB_ARG_XDECREF     = 1u << 6,  /* Py_XDECREF-like (NULL allowed) */
    KB_ARG_NULLOK      = 1u << 7,  /* NULL accepted */
    KB_ARG_NONNULL     = 1u << 8,  /* NULL not allowed (dereferenced) */
    KB_ARG_OUT_NEW     = 1u << 9,  /* PyObject** receiving a new reference on success */
    KB_ARG_OUT_BORROW  = 1u << 10, /* PyObject** receiving a borrowed reference */
    KB_ARG_OUT_NULLOK  = 1u << 11, /* the out value may be NULL (PyErr_Fetch) */
    KB_ARG_CLEAR       = 1u << 12, /* lvalue set to NULL after an XDECREF (Py_CLEAR) */
    KB_ARG_ASSIGN_DST  = 1u << 13, /* Py_SETREF/Py_XSETREF destination: old value released */
    KB_ARG_ASSIGN_SRC  = 1u << 14, /* Py_SETREF/Py_XSETREF source: its reference moves to dst */
    KB_ARG_FORMAT      = 1u << 15, /* the format string (see kb_entry.fmt) */
    KB_ARG_VISIT       = 1u << 16, /* Py_VISIT operand */
    KB_ARG_INOUT_STEAL = 1u << 17, /* PyObject** whose old value is stolen and replaced
                                      by a new reference or NULL (PyUnicode_Append) */
    KB_ARG_KEEP        = 1u << 18, /* the callee keeps its own new reference to it
                                      (PyList_Append, PyDict_SetItem): it stays alive */
    KB_ARG_OWNED       = 1u << 19, /* slot functions: the object is being destroyed and the
                                      function owns what it holds (tp_dealloc's self) */
    KB_ARG_RELEASE_FAIL = 1u << 20, /* released (NULL allowed) only when the call fails:
                                      helpers that clean up their argument on error */
};

/* Kinds of format strings (for format-driven functions). */
typedef enum kb_format {
    KB_FMT_NONE = 0,
    KB_FMT_PARSE,        /* PyArg_ParseTuple family: out-params per unit */
    KB_FMT_PARSE_KW,     /* PyArg_ParseTupleAndKeywords: format then kwlist */
    KB_FMT_BUILD,        /* Py_BuildValue family: N steals, O/S take a new ref */
    KB_FMT_PRINTF,       /* PyErr_Format / PyUnicode_FromFormat */
} kb_format;

typedef struct kb_entry {
    const char *name;
    bool is_macro;           /* a macro (collapsed by the frontend) */
    kb_ret ret;
    int ret_same_as;         /* -1, or the argument the result is (Py_NewRef: 0) */
    int ret_owner;           /* -1, or the argument a borrowed result belongs to */
    kb_fail fail;
    bool fail_sets_exc;      /* failure always sets an exception */
    bool sets_exc;           /* always sets an exception (PyErr_SetString) */
    bool clears_exc;         /* clears the exception (PyErr_Clear, PyErr_Fetch) */
    bool noreturn;           /* never returns (Py_FatalError) */
    bool nogil;              /* may be called without holding the GIL */
    bool returns_stmt;       /* the macro expands to a return statement (Py_RETURN_NONE) */
    bool immortal_result;    /* result is a singleton whose count never matters */
    int nargs;               /* number of described arguments; -1 when unknown */
    bool variadic;
    uint32_t arg[KB_MAX_ARGS];
    int fmt_arg;             /* -1, or the index of the format argument */
    kb_format fmt;
    int py_min, py_max;      /* Python versions as 0xMMmm (0x030b); 0 = no bound */
    const char *origin;      /* "file:line" the entry was read from */
    /* Added after the first version of this header (append-only): */
    int gil;                 /* KB_GIL_*: what the call does to the GIL */
    bool exc_probe;          /* returns non-NULL exactly when an exception is set
                                (PyErr_Occurred) */
    bool summary;            /* made by the engine from a function's body */
    int ok;                  /* KB_OK_*: the int returned on success (fail=neg) */
    bool exc_unknown;        /* the call may leave an exception set on any outcome */
    int small_int_arg;       /* -1, or the argument that, when it is a constant
                                from -5 to 256, makes the call unable to fail
                                (the interpreter's cached small ints) */
    bool has_range;          /* summaries: every successful int result lies in */
    long long range_lo, range_hi; /* [range_lo, range_hi] */
    int len_of;              /* len-of=N: the int result is the length of argument N
                                (stored N + 1; 0: none) */
    int range_container;     /* in-range=C:I: the call fails only when argument I is */
    int range_index;         /* outside [0, len(argument C)) (both stored + 1; 0: none) */
    const char *sig;         /* slot entries: the C signature the function stored in the
                                field must have, "RET; P1, P2" (sig=), or NULL */
    const char *when;        /* slot variants (slot:FIELD/VARIANT): "FIELD2: M1|M2", the
                                variant applies when sibling field FIELD2 holds the bits
                                of macros M1, M2 (when=), or NULL */
    const char *sentinel;    /* table:TYPE entries: the field whose NULL value ends an
                                array of TYPE (sentinel=), or NULL */
    const char *role;        /* decl:NAME entries: what a declaration of that type (or
                                a function of that name) is to validation (role=:
                                "type-object", "type-spec", "object", "visitproc",
                                "module-init"; static strings), or NULL */
} kb_entry;

/* kb_entry.ok: what a successful fail=neg call returns */
enum {
    KB_OK_NONNEG = 0,        /* any value >= 0 (sizes, indexes) */
    KB_OK_ZERO,              /* exactly 0 (PyList_Append, PyDict_SetItem) */
    KB_OK_BOOL,              /* 0 or 1 (PyObject_IsTrue, PySequence_Contains) */
};

/* kb_entry.gil */
enum {
    KB_GIL_KEEP = 0,         /* leaves the GIL as it is */
    KB_GIL_RELEASE,          /* releases it (PyEval_SaveThread, Py_BEGIN_ALLOW_THREADS) */
    KB_GIL_ACQUIRE,          /* takes it (PyEval_RestoreThread, PyGILState_Ensure) */
};

/* Flags of call argument i (0-based), also past nargs: for a variadic entry
 * arg[nargs] holds the flags shared by every variadic argument (PyArg_UnpackTuple:
 * out-borrowed); otherwise, and for i < 0, returns 0. */
static inline uint32_t kb_arg_flags(const kb_entry *e, int i)
{
    if (i < 0 || e->nargs < 0)
        return 0;
    if (i < e->nargs)
        return e->arg[i];
    if (e->variadic && e->nargs < KB_MAX_ARGS)
        return e->arg[e->nargs];
    return 0;
}

typedef struct kb kb;

/* Creates an empty knowledge base.  Returns NULL when out of memory. */
kb *kb_new(void);
void kb_free(kb *k);

/* Loads a rules file (rules/README.md's format), adding to or replacing
 * earlier entries of the same name.  Returns 0, or -1 with a one-line
 * message "FILE:LINE: problem" in err. */
int kb_load_file(kb *k, const char *path, char *err, size_t errlen);

/* Loads every *.rules file in dir, in name order.  Returns the number of
 * files loaded, or -1 with a message in err. */
int kb_load_dir(kb *k, const char *dir, char *err, size_t errlen);

/* Selects the Python version entries must apply to (0x030b for 3.11);
 * 0 means any. */
void kb_set_python_version(kb *k, int version);

/* Looks up a function or macro by name for the selected Python version;
 * NULL when unknown.  The entry lives as long as the kb. */
const kb_entry *kb_lookup(const kb *k, const char *name);

/* The role= of the decl: entry for name: decl:NAME, else the longest
 * decl:PREFIX* that name starts with.  NULL when none. */
const char *kb_decl_role(const kb *k, const char *name);

/* Number of entries and access by index (for listing and tests). */
int kb_count(const kb *k);
const kb_entry *kb_at(const kb *k, int i);

/* Names of the macros the frontend must collapse (is_macro entries).
 * Returns the count; *names points into the kb. */
int kb_macro_names(const kb *k, const char *const **names);

/* Names of the functions that never return (noreturn entries).  Returns
 * the count; *names points into the kb. */
int kb_noreturn_names(const kb *k, const char *const **names);

/* Object-returning expressions that are immortal singletons: names of
 * global objects such as _Py_NoneStruct. */
bool kb_is_singleton(const kb *k, const char *global_name);

/* Format strings.  One unit of a PyArg_Parse / Py_BuildValue format. */
typedef struct kb_fmt_unit {
    char code[4];            /* "O", "O!", "s#", "es#", "(", ")", "|", "$" ... */
    int nargs;               /* C arguments it consumes */
    /* What it does to the object argument (for the engine): */
    enum { KB_FU_NONE, KB_FU_OUT_BORROW, KB_FU_OUT_NEW, KB_FU_IN_NEWREF,
           KB_FU_IN_STEAL, KB_FU_IN_BORROW } effect;
    int obj_arg;             /* which of its nargs is the object (0-based), -1 */
    /* Added later (append-only): the C types of its arguments. */
    const char *ctypes;      /* the row's ctype= list, one type per argument, or NULL */
    const char *length_ctype;/* printf: the length modifier's ctype=, or NULL */
    int stars;               /* printf: '*' width/precision int arguments in front */
} kb_fmt_unit;


/* ---- Additions (append-only; see rules/README.md) ------------------------ */

/* Notes on the functions above, as implemented in kb.c:
 * - kb_lookup returns, among the entries of a name, the last one loaded whose
 *   py range contains the selected version (version 0: the last one loaded).
 * - kb_count / kb_at list those active entries, sorted by name; the arrays
 *   behind kb_macro_names and kb_noreturn_names are sorted too and valid
 *   until the next load or kb_set_python_version.  Entries themselves live
 *   as long as the kb.  After loading, all lookups are read-only (safe from
 *   several threads at once).
 * - kb_load_file keeps nothing of a file that has an error.  kb_load_dir
 *   skips hidden files and keeps the files loaded before a failing one. */

/* Splits format into units using the "@unit" rows loaded into k
 * (rules/formats.rules, --rules files).  Returns the count (at most max), or
 * -1 with a message in err for an unknown unit or unbalanced parentheses
 * (with k NULL, every unit is unknown).  Stops at ':' or ';' where the
 * rows say so. */
int kb_format_units_in(const kb *k, kb_format kind, const char *format,
                       kb_fmt_unit *units, int max, char *err, size_t errlen);

/* One row of a format-unit table ("@unit" line of rules/formats.rules). */
typedef struct kb_fmt_spec {
    kb_format kind;          /* PARSE, PARSE_KW (units valid only there), BUILD, PRINTF */
    char code[4];            /* "O!", "es#", "(", "ll" ... */
    int nargs;               /* C arguments the unit consumes */
    int effect;              /* KB_FU_* */
    int obj_arg;             /* which of its nargs is the object, or -1 */
    char pair;               /* for an opening bracket: its closing character, else 0 */
    bool skip;               /* ignored separator (Py_BuildValue ',', ' ') or "%%" */
    bool stop;               /* ends the format (':' and ';' of PyArg_Parse*) */
    bool length;             /* printf length modifier (l, ll, z) */
    const char *origin;      /* "file:line", or "built-in" */
    const char *ctypes;      /* ctype=(T1, T2): C type of each argument, or NULL
                                (rules/README.md, "C types") */
} kb_fmt_spec;

/* The format-unit rows: those loaded into k (k non-NULL) or the built-in
 * table (k NULL).  Returns the count; *specs points into k or static data. */
int kb_format_specs(const kb *k, const kb_fmt_spec **specs);

/* Names declared with "@singleton" lines, sorted.  Returns the count;
 * *names points into the kb. */
int kb_singleton_names(const kb *k, const char *const **names);

/* The version selected with kb_set_python_version (0 = any). */
int kb_python_version(const kb *k);

/* Parses "3.11" into 0x030b.  Returns -1 when s is not MAJOR.MINOR. */
int kb_parse_version(const char *s);

/* Name of argument i of e as written in the rules file ("item", "..."), or
 * NULL.  e must have been returned by a kb (kb_lookup, kb_at). */
const char *kb_arg_name(const kb_entry *e, int i);

/* Writes e as one rules-file line (canonical key order, no comment) into
 * buf.  Returns the length it needed, like snprintf; e must come from a kb. */
int kb_entry_format(const kb_entry *e, char *buf, size_t len);

/* Spelling of enum values as used in rules files ("new", "neg-ambiguous",
 * "parse-kw", "out-borrowed"); "?" for values out of range. */
const char *kb_ret_name(kb_ret r);
const char *kb_fail_name(kb_fail f);
const char *kb_format_name(kb_format f);
const char *kb_fu_effect_name(int effect);

#endif
