/* frontend.h - the only door to libclang.
 *
 * Parses translation units (with a compilation database when one is given),
 * turns clang's errors into one-line messages, and converts function bodies
 * and file-scope initializers into pyrefcheck's syntax tree (ir/ast.h).
 * Nothing outside frontend/ includes clang-c headers.
 */
#ifndef PRC_FRONTEND_H
#define PRC_FRONTEND_H

#include <stddef.h>
#include "../base/arena.h"
#include "../ir/ast.h"

typedef struct fe_options {
    const char *python_include;   /* directory holding Python.h, or NULL */
    const char *const *args;      /* extra clang arguments (-I, -D, after --) */
    int nargs;
    const char *compile_db_dir;   /* -p BUILD_DIR, or NULL */
    /* Macros collapsed into AX_MACRO nodes (from the knowledge base). */
    const char *const *collapse_macros;
    int ncollapse;
    /* Whether a macro name is an API the knowledge base describes: such
     * macro uses are collapsed into one AX_MACRO node when their arguments
     * can be recovered (optional; collapse_macros is always used). */
    int (*is_api_macro)(void *ctx, const char *name);
    void *is_api_macro_ctx;
    /* Functions that never return, besides those declared noreturn. */
    const char *const *noreturn_names;
    int nnoreturn;
} fe_options;

/* Most arguments a collapsed macro may have. */
#define KB_COLLAPSE_MAX_ARGS 8

typedef struct fe_context fe_context;
typedef struct fe_tu fe_tu;

/* Opens a frontend.  Returns NULL and writes a one-line message to err when
 * the compilation database cannot be loaded.  The options' strings must
 * outlive the context.  One context per thread. */
fe_context *fe_open(const fe_options *opts, char *err, size_t errlen);
void fe_close(fe_context *fe);

/* Lists the source files of the compilation database (absolute paths).
 * Returns the count, 0 when there is no database; *out is malloc'ed, each
 * string malloc'ed; free with fe_free_list. */
int fe_compile_db_files(fe_context *fe, char ***out);
void fe_free_list(char **list, int n);

/* The preprocessor options (-I, -D, -U, -include, -isystem, -iquote,
 * -idirafter, -imacros, -std=) of path's compilation database entry, with
 * relative paths made absolute against the entry's directory: what another
 * compiler needs to compile the file the same way.  Returns the count (0
 * without a database or an entry); *out is malloc'ed, free with fe_free_list. */
int fe_compile_pp_args(fe_context *fe, const char *path, char ***out);

/* Parses one file.  Returns 0 and *out on success; 1 when the file does not
 * use the Python C API (no PyObject declared: skipped quietly); -1 with a
 * one-line message in err ("cannot open", clang's first error, ...). */
int fe_parse(fe_context *fe, const char *path, fe_tu **out, char *err, size_t errlen);

/* Number of function definitions in the main file, in source order. */
int fe_tu_func_count(const fe_tu *tu);
const char *fe_tu_func_name(const fe_tu *tu, int i);
/* Index of the definition called name, or -1. */
int fe_tu_find_func(const fe_tu *tu, const char *name);
/* Whether function i has static linkage. */
int fe_tu_func_is_static(const fe_tu *tu, int i);

/* Converts function i into arena.  Returns NULL when the arena ran out of
 * memory.  Strings for file names are shared with the tu and live as long
 * as it does. */
ast_func *fe_tu_convert_func(fe_tu *tu, int i, pa_arena *arena);

/* Converts every file-scope variable with an initializer (method tables,
 * type objects) into arena; returns the count and sets *out. */
int fe_tu_globals(fe_tu *tu, pa_arena *arena, ast_global **out);

/* Reads line `line` (1-based) of the main file into buf, without newline;
 * returns 0, or -1 when out of range. Used for suppressions and reports. */
int fe_tu_source_line(const fe_tu *tu, unsigned line, char *buf, size_t len);

/* The path the file was parsed under (lives as long as the tu). */
const char *fe_tu_path(const fe_tu *tu);

void fe_tu_free(fe_tu *tu);

/* ---- declarations by name (decls.c) --------------------------------- */

/* The signature of a function declared or defined in the translation unit. */
typedef struct fe_sig {
    const char *ret;         /* canonical spelling of the return type */
    ty_class ret_ty;
    int nparams;             /* -1 when declared without a prototype: f() */
    bool variadic;
    const char **params;     /* canonical spelling of each parameter's type */
    ty_class *param_ty;
    src_loc loc;             /* the declaration's name */
} fe_sig;

/* Fills *out with the signature of the function called name (defined in
 * the file or only declared, in the file or a header).  Returns 0, or -1
 * when no function of that name is declared or the arena ran out.  The
 * strings live in arena. */
int fe_tu_func_signature(fe_tu *tu, const char *name, pa_arena *arena, fe_sig *out);

/* The canonical spelling of type name (a typedef such as "Py_ssize_t",
 * "struct tag", or a builtin type such as "unsigned long", returned as
 * written).  Returns NULL when no such type is declared.  The string
 * lives as long as the tu. */
const char *fe_tu_type_canonical(fe_tu *tu, const char *name);

/* The value of object-like macro name when its body is an integer
 * constant, possibly in parentheses (`#define METH_O 0x0008`).  Returns
 * 0 and *value, or -1 when the macro is not defined or not a constant. */
int fe_tu_macro_int(fe_tu *tu, const char *name, long long *value);

#endif
