/* fe_internal.h - state shared by the frontend's modules: cursor.c
 * (cursor helpers, types, annotations, variables), convert.c (expressions,
 * statements, collapsed API macros) and tu.c (parsing, compile databases,
 * diagnostics, function listing).  Only these files include clang-c.
 * Not for use outside checker/frontend/.
 */
#ifndef PRC_FE_INTERNAL_H
#define PRC_FE_INTERNAL_H

#include <clang-c/CXCompilationDatabase.h>
#include <clang-c/Index.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontend.h"

struct fe_context {
    CXIndex index;
    CXCompilationDatabase db;      /* NULL without -p */
    const fe_options *opts;
};

/* A macro use in the main file, from the detailed preprocessing record. */
typedef struct fe_macro {
    unsigned start, end;           /* file offsets [start, end) */
    const char *name;              /* interned in the tu arena */
    bool collapse;                 /* listed by the knowledge base */
} fe_macro;

/* Cached facts about a callee declaration. */
typedef struct fe_callee {
    unsigned hash;
    const char *name;
    bool noreturn;
    ast_annot *annot;              /* NULL when not annotated */
    bool used;
} fe_callee;

/* Cached "is this record a Python object struct" answers. */
typedef struct fe_rec {
    unsigned hash;
    signed char is_obj;            /* 1 object struct, 0 not, -1 being computed */
    bool used;
} fe_rec;

struct fe_tu {
    fe_context *fe;
    CXTranslationUnit tu;
    CXFile main_file;
    const char *path;              /* as given */
    pa_arena arena;                /* tu lifetime: names, macros, caches */
    char *source;                  /* main file bytes (malloc'ed) */
    size_t source_len;
    fe_macro *macros;              /* sorted by start */
    int nmacros, cap_macros;
    CXCursor *funcs;               /* function definitions in the main file */
    int nfuncs, cap_funcs;
    CXCursor *globals;             /* initialized file-scope variables */
    int nglobals, cap_globals;
    fe_callee *callees;            /* open-addressing cache */
    unsigned ncallee_slots, ncallees;
    fe_rec *recs;
    unsigned nrec_slots, nrecs;
    /* top-level typedefs, macro definitions and function declarations
     * by name (decls.c), built on first use */
    struct fe_decl *decls;
    int ndecls;
    bool decls_built;
};

/* State of converting one function. */
typedef struct fe_conv {
    fe_tu *t;
    pa_arena *arena;
    ast_func *func;
    ast_var **vars;
    int nvars, cap_vars;
    /* VarDecl/ParmDecl cursor hash -> var, small open-addressing map */
    struct { unsigned hash; CXCursor cursor; ast_var *var; } *vmap;
    unsigned nvmap;
    unsigned nvmap_used;           /* entries in vmap (locals and globals) */
    int depth;                     /* recursion depth guard */
    bool too_deep;
} fe_conv;

#define FE_MAX_DEPTH 2000

/* Collects the children of a cursor into an arena array. */
typedef struct fe_kids {
    CXCursor *v;
    int n, cap;
    pa_arena *a;
} fe_kids;


/* Shared helpers.  Strings they return live in the arena they are given
 * (or the tu's arena) and need no freeing; on an exhausted arena they
 * return scratch memory and the caller's pa_failed() check unwinds. */
const char *fe_intern_cx(pa_arena *a, CXString s);
bool fe_name_is(CXCursor c, const char *name);
bool fe_fileloc(fe_tu *t, CXSourceLocation l, src_loc *out, unsigned *offset);
src_loc fe_cursor_loc(fe_tu *t, CXCursor c);
bool fe_cursor_span(fe_tu *t, CXCursor c, unsigned *start, unsigned *end);
fe_macro *fe_macro_at(fe_tu *t, unsigned off);
const char *fe_macro_name_of(fe_tu *t, CXCursor c);
fe_kids fe_children(pa_arena *a, CXCursor c);
bool fe_is_expr_kind(enum CXCursorKind k);
ty_class fe_classify(fe_tu *t, CXType ty);
const char *fe_type_name(pa_arena *a, CXType ty);
bool fe_name_in(const char *name, const char *const *list, int n);
fe_callee *fe_callee_info(fe_tu *t, CXCursor decl);
void fe_var_insert(fe_conv *cv, CXCursor decl, ast_var *v);
ast_var *fe_make_var(fe_conv *cv, CXCursor decl, var_kind kind);
ast_var *fe_var_for_decl(fe_conv *cv, CXCursor decl);
CXCursor fe_last_expr_child(fe_conv *cv, CXCursor c, int *count);
ast_expr *fe_expr(fe_conv *cv, CXCursor c);
ast_stmt *fe_stmt(fe_conv *cv, CXCursor c);

#endif
