/* frontend.c - libclang front end: parsing, diagnostics, compile databases,
 * and conversion of cursors into pyrefcheck's syntax tree (ir/ast.h).
 *
 * This is the only file that calls libclang.  Every CXString is disposed in
 * the function that obtained it.  Locations are file locations (for code
 * that came from a macro body: the macro's use in the user's file; for macro
 * arguments: where the argument is written), so diagnostics always point
 * into the user's source.
 */
#include "frontend.h"

#include <clang-c/CXCompilationDatabase.h>
#include <clang-c/Index.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* ------------------------------------------------------------------ */
/* small helpers                                                      */

static const char *fe_intern_cx(pa_arena *a, CXString s)
{
    const char *c = clang_getCString(s);
    const char *r = pa_strdup(a, c ? c : "");
    clang_disposeString(s);
    return r;
}

static bool fe_name_is(CXCursor c, const char *name)
{
    CXString s = clang_getCursorSpelling(c);
    const char *p = clang_getCString(s);
    bool eq = p && strcmp(p, name) == 0;
    clang_disposeString(s);
    return eq;
}

/* File location of a source location: line, column and offset in the
 * user's file. Returns whether it lies in the main file. */
static bool fe_fileloc(fe_tu *t, CXSourceLocation l, src_loc *out, unsigned *offset)
{
    CXFile f = NULL;
    unsigned line = 0, col = 0, off = 0;
    clang_getFileLocation(l, &f, &line, &col, &off);
    if (out) {
        out->file = t->path;
        out->line = line;
        out->col = col;
    }
    if (offset)
        *offset = off;
    return f && t->main_file && clang_File_isEqual(f, t->main_file);
}

static src_loc fe_cursor_loc(fe_tu *t, CXCursor c)
{
    src_loc l;
    fe_fileloc(t, clang_getCursorLocation(c), &l, NULL);
    return l;
}

/* Offsets of a cursor's extent in the main file (file locations). */
static bool fe_cursor_span(fe_tu *t, CXCursor c, unsigned *start, unsigned *end)
{
    CXSourceRange r = clang_getCursorExtent(c);
    bool a = fe_fileloc(t, clang_getRangeStart(r), NULL, start);
    bool b = fe_fileloc(t, clang_getRangeEnd(r), NULL, end);
    return a && b;
}

/* The outermost macro use covering offset, or NULL. */
static fe_macro *fe_macro_at(fe_tu *t, unsigned off)
{
    int lo = 0, hi = t->nmacros - 1, best = -1;
    while (lo <= hi) {                  /* last macro with start <= off */
        int mid = (lo + hi) / 2;
        if (t->macros[mid].start <= off) {
            best = mid;
            lo = mid + 1;
        } else
            hi = mid - 1;
    }
    /* Macros are recorded outermost first; nested uses lie inside an
     * earlier entry, so walk back to the outermost cover. */
    fe_macro *found = NULL;
    for (int i = best; i >= 0 && i > best - 64; i--) {
        if (t->macros[i].start <= off && off < t->macros[i].end)
            found = &t->macros[i];
    }
    return found;
}

static const char *fe_macro_name_of(fe_tu *t, CXCursor c)
{
    unsigned off;
    if (!fe_fileloc(t, clang_getCursorLocation(c), NULL, &off))
        return NULL;
    fe_macro *m = fe_macro_at(t, off);
    if (!m)
        return NULL;
    /* Only code produced by the macro counts, not its arguments: the
     * spelling of the node must differ from its file location. */
    CXFile sf = NULL;
    unsigned soff = 0;
    clang_getSpellingLocation(clang_getCursorLocation(c), &sf, NULL, NULL, &soff);
    if (sf && clang_File_isEqual(sf, t->main_file) && soff == off &&
        !(off >= m->start && off < m->start + strlen(m->name)))
        return NULL;
    return m->name;
}

/* Collects the children of a cursor into an arena array. */
typedef struct fe_kids {
    CXCursor *v;
    int n, cap;
    pa_arena *a;
} fe_kids;

static enum CXChildVisitResult fe_collect(CXCursor c, CXCursor parent, CXClientData d)
{
    fe_kids *k = d;
    if (k->n == k->cap) {
        int ncap = k->cap ? k->cap * 2 : 8;
        k->v = pa_grow(k->a, k->v, (size_t)k->n, (size_t)ncap, sizeof *k->v);
        if (pa_failed(k->a))
            return CXChildVisit_Break;
        k->cap = ncap;
    }
    k->v[k->n++] = c;
    return CXChildVisit_Continue;
}

static fe_kids fe_children(pa_arena *a, CXCursor c)
{
    fe_kids k = { .a = a };
    clang_visitChildren(c, fe_collect, &k);
    return k;
}

static bool fe_is_expr_kind(enum CXCursorKind k)
{
    return clang_isExpression(k) != 0;
}

/* ------------------------------------------------------------------ */
/* types                                                              */

static bool fe_record_is_object(fe_tu *t, CXType rec, int depth);

static bool fe_type_is_object_record(fe_tu *t, CXType ty, int depth)
{
    ty = clang_getCanonicalType(ty);
    if (ty.kind != CXType_Record)
        return false;
    return fe_record_is_object(t, ty, depth);
}

typedef struct fe_first_field {
    CXCursor field;
    bool found;
} fe_first_field;

static enum CXVisitorResult fe_first_field_cb(CXCursor c, CXClientData d)
{
    fe_first_field *ff = d;
    ff->field = c;
    ff->found = true;
    return CXVisit_Break;
}

/* A record is a Python object struct when it is `struct _object` itself
 * or its first member is one (PyObject_HEAD / ob_base). */
static bool fe_record_is_object(fe_tu *t, CXType rec, int depth)
{
    if (depth > 8)
        return false;
    CXCursor decl = clang_getTypeDeclaration(rec);
    unsigned h = clang_hashCursor(decl);
    unsigned mask = t->nrec_slots - 1;
    for (unsigned i = h & mask;; i = (i + 1) & mask) {
        fe_rec *r = &t->recs[i];
        if (!r->used)
            break;
        if (r->hash == h)
            return r->is_obj > 0;
    }
    bool is_obj = fe_name_is(decl, "_object");
    if (!is_obj) {
        fe_first_field ff = {0};
        clang_Type_visitFields(clang_getCanonicalType(rec), fe_first_field_cb, &ff);
        if (ff.found)
            is_obj = fe_type_is_object_record(t, clang_getCursorType(ff.field), depth + 1);
    }
    /* insert (grow when half full) */
    if (t->nrecs * 2 >= t->nrec_slots) {
        unsigned nslots = t->nrec_slots * 2;
        fe_rec *nr = pa_alloc(&t->arena, nslots * sizeof *nr);
        if (pa_failed(&t->arena))
            return is_obj;
        for (unsigned i = 0; i < t->nrec_slots; i++) {
            if (!t->recs[i].used)
                continue;
            unsigned j = t->recs[i].hash & (nslots - 1);
            while (nr[j].used)
                j = (j + 1) & (nslots - 1);
            nr[j] = t->recs[i];
        }
        t->recs = nr;
        t->nrec_slots = nslots;
        mask = nslots - 1;
    }
    unsigned i = h & mask;
    while (t->recs[i].used)
        i = (i + 1) & mask;
    t->recs[i].used = true;
    t->recs[i].hash = h;
    t->recs[i].is_obj = is_obj ? 1 : 0;
    t->nrecs++;
    return is_obj;
}

static ty_class fe_classify(fe_tu *t, CXType ty)
{
    ty = clang_getCanonicalType(ty);
    switch (ty.kind) {
    case CXType_Void:
        return TY_VOID;
    case CXType_Bool: case CXType_Char_U: case CXType_UChar: case CXType_Char16:
    case CXType_Char32: case CXType_UShort: case CXType_UInt: case CXType_ULong:
    case CXType_ULongLong: case CXType_UInt128: case CXType_Char_S: case CXType_SChar:
    case CXType_WChar: case CXType_Short: case CXType_Int: case CXType_Long:
    case CXType_LongLong: case CXType_Int128: case CXType_Enum:
        return TY_INT;
    case CXType_Float: case CXType_Double: case CXType_LongDouble:
        return TY_FLOAT;
    case CXType_Pointer: {
        CXType p = clang_getCanonicalType(clang_getPointeeType(ty));
        if (p.kind == CXType_Record && fe_record_is_object(t, p, 0))
            return TY_OBJ;
        if (p.kind == CXType_Pointer) {
            CXType pp = clang_getCanonicalType(clang_getPointeeType(p));
            if (pp.kind == CXType_Record && fe_record_is_object(t, pp, 0))
                return TY_OBJPTR;
        }
        return TY_PTR;
    }
    default:
        return TY_OTHER;
    }
}

static const char *fe_type_name(pa_arena *a, CXType ty)
{
    return fe_intern_cx(a, clang_getTypeSpelling(ty));
}

/* ------------------------------------------------------------------ */
/* annotations and callee facts                                       */

typedef struct fe_annot_scan {
    ast_annot annot;
    bool any;
} fe_annot_scan;

static void fe_parse_annotation(const char *s, fe_annot_scan *sc)
{
    static const char prefix[] = "pyrefcheck:";
    if (strncmp(s, prefix, sizeof prefix - 1) != 0)
        return;
    s += sizeof prefix - 1;
    if (strcmp(s, "returns-borrowed") == 0)
        sc->annot.returns_borrowed = true;
    else if (strcmp(s, "returns-new") == 0)
        sc->annot.returns_new = true;
    else if (strcmp(s, "sets-exception") == 0)
        sc->annot.sets_exception = true;
    else if (strncmp(s, "steals(", 7) == 0) {
        int n = atoi(s + 7);
        if (n >= 1 && n <= 32)
            sc->annot.steals |= 1u << (n - 1);
    } else
        return;
    sc->any = true;
}

static enum CXChildVisitResult fe_annot_cb(CXCursor c, CXCursor parent, CXClientData d)
{
    if (clang_getCursorKind(c) == CXCursor_AnnotateAttr) {
        CXString s = clang_getCursorSpelling(c);
        const char *p = clang_getCString(s);
        if (p)
            fe_parse_annotation(p, d);
        clang_disposeString(s);
    }
    return CXChildVisit_Continue;
}

static void fe_scan_annotations(CXCursor decl, fe_annot_scan *sc)
{
    clang_visitChildren(decl, fe_annot_cb, sc);
    CXCursor canon = clang_getCanonicalCursor(decl);
    if (!clang_equalCursors(canon, decl))
        clang_visitChildren(canon, fe_annot_cb, sc);
    CXCursor def = clang_getCursorDefinition(decl);
    if (!clang_Cursor_isNull(def) && !clang_equalCursors(def, decl))
        clang_visitChildren(def, fe_annot_cb, sc);
}

static bool fe_name_in(const char *name, const char *const *list, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

/* C11 _Noreturn is not part of the type: look for it among the tokens of
 * the declaration before the function's name. */
static bool fe_decl_has_noreturn_token(fe_tu *t, CXCursor decl)
{
    CXSourceRange ext = clang_getCursorExtent(decl);
    CXSourceRange head = clang_getRange(clang_getRangeStart(ext), clang_getCursorLocation(decl));
    CXToken *toks = NULL;
    unsigned n = 0;
    clang_tokenize(t->tu, head, &toks, &n);
    bool found = false;
    for (unsigned i = 0; i < n && !found; i++) {
        CXString s = clang_getTokenSpelling(t->tu, toks[i]);
        const char *p = clang_getCString(s);
        found = p && (strcmp(p, "_Noreturn") == 0 || strcmp(p, "noreturn") == 0 ||
                      strcmp(p, "__noreturn__") == 0);
        clang_disposeString(s);
    }
    clang_disposeTokens(t->tu, toks, n);
    return found;
}

static fe_callee *fe_callee_info(fe_tu *t, CXCursor decl)
{
    unsigned h = clang_hashCursor(clang_getCanonicalCursor(decl));
    unsigned mask = t->ncallee_slots - 1;
    unsigned count = 0;
    for (unsigned i = h & mask;; i = (i + 1) & mask) {
        fe_callee *c = &t->callees[i];
        if (!c->used)
            break;
        if (c->hash == h)
            return c;
        if (++count > t->ncallee_slots)
            break;
    }
    /* compute */
    fe_callee info = { .hash = h, .used = true };
    info.name = fe_intern_cx(&t->arena, clang_getCursorSpelling(decl));
    CXString ts = clang_getTypeSpelling(clang_getCursorType(decl));
    const char *tsp = clang_getCString(ts);
    info.noreturn = tsp && strstr(tsp, "noreturn") != NULL;
    clang_disposeString(ts);
    if (!info.noreturn)
        info.noreturn = fe_decl_has_noreturn_token(t, decl);
    const fe_options *o = t->fe->opts;
    if (!info.noreturn && o->noreturn_names)
        info.noreturn = fe_name_in(info.name, o->noreturn_names, o->nnoreturn);
    fe_annot_scan sc = {0};
    fe_scan_annotations(decl, &sc);
    if (sc.any) {
        info.annot = pa_alloc(&t->arena, sizeof *info.annot);
        *info.annot = sc.annot;
    }
    /* insert, growing at half load */
    if (t->ncallees * 2 >= t->ncallee_slots) {
        unsigned nslots = t->ncallee_slots * 2;
        fe_callee *nc = pa_alloc(&t->arena, nslots * sizeof *nc);
        if (pa_failed(&t->arena))
            return NULL;
        for (unsigned i = 0; i < t->ncallee_slots; i++) {
            if (!t->callees[i].used)
                continue;
            unsigned j = t->callees[i].hash & (nslots - 1);
            while (nc[j].used)
                j = (j + 1) & (nslots - 1);
            nc[j] = t->callees[i];
        }
        t->callees = nc;
        t->ncallee_slots = nslots;
        mask = nslots - 1;
    }
    unsigned i = h & mask;
    while (t->callees[i].used)
        i = (i + 1) & mask;
    t->callees[i] = info;
    t->ncallees++;
    return &t->callees[i];
}

/* ------------------------------------------------------------------ */
/* variables                                                          */

static ast_var *fe_var_lookup(fe_conv *cv, CXCursor decl)
{
    unsigned h = clang_hashCursor(decl);
    unsigned mask = cv->nvmap - 1;
    for (unsigned i = h & mask;; i = (i + 1) & mask) {
        if (!cv->vmap[i].var)
            return NULL;
        if (cv->vmap[i].hash == h && clang_equalCursors(cv->vmap[i].cursor, decl))
            return cv->vmap[i].var;
    }
}

static void fe_var_insert(fe_conv *cv, CXCursor decl, ast_var *v)
{
    if (cv->nvmap_used * 2 + 2 >= cv->nvmap) {
        unsigned nslots = cv->nvmap * 2;
        void *old = cv->vmap;
        unsigned oldn = cv->nvmap;
        cv->vmap = pa_alloc(cv->arena, nslots * sizeof *cv->vmap);
        if (pa_failed(cv->arena))
            return;
        cv->nvmap = nslots;
        for (unsigned i = 0; i < oldn; i++) {
            typeof(cv->vmap) e = (typeof(cv->vmap))old + i;
            if (!e->var)
                continue;
            unsigned j = e->hash & (nslots - 1);
            while (cv->vmap[j].var)
                j = (j + 1) & (nslots - 1);
            cv->vmap[j] = *e;
        }
    }
    unsigned h = clang_hashCursor(decl);
    unsigned j = h & (cv->nvmap - 1);
    while (cv->vmap[j].var)
        j = (j + 1) & (cv->nvmap - 1);
    cv->vmap[j].hash = h;
    cv->vmap[j].cursor = decl;
    cv->vmap[j].var = v;
    cv->nvmap_used++;
}

static void fe_var_push(fe_conv *cv, ast_var *v)
{
    if (cv->nvars == cv->cap_vars) {
        int ncap = cv->cap_vars ? cv->cap_vars * 2 : 16;
        cv->vars = pa_grow(cv->arena, cv->vars, (size_t)cv->nvars, (size_t)ncap, sizeof *cv->vars);
        if (pa_failed(cv->arena))
            return;
        cv->cap_vars = ncap;
    }
    v->id = cv->nvars;
    cv->vars[cv->nvars++] = v;
}

typedef struct fe_cleanup_scan {
    fe_tu *t;
    pa_arena *a;
    const char *fn;
} fe_cleanup_scan;

/* __attribute__((cleanup(fn))) has no libclang accessor: read its tokens. */
static enum CXChildVisitResult fe_cleanup_cb(CXCursor c, CXCursor parent, CXClientData d)
{
    fe_cleanup_scan *sc = d;
    if (!clang_isAttribute(clang_getCursorKind(c)))
        return CXChildVisit_Continue;
    CXToken *toks = NULL;
    unsigned n = 0;
    clang_tokenize(sc->t->tu, clang_getCursorExtent(c), &toks, &n);
    for (unsigned i = 0; i + 2 < n; i++) {
        CXString s = clang_getTokenSpelling(sc->t->tu, toks[i]);
        const char *p = clang_getCString(s);
        bool is_cleanup = p && (strcmp(p, "cleanup") == 0 || strcmp(p, "__cleanup__") == 0);
        clang_disposeString(s);
        if (is_cleanup) {
            sc->fn = fe_intern_cx(sc->a, clang_getTokenSpelling(sc->t->tu, toks[i + 2]));
            break;
        }
    }
    clang_disposeTokens(sc->t->tu, toks, n);
    return CXChildVisit_Continue;
}

static ast_var *fe_make_var(fe_conv *cv, CXCursor decl, var_kind kind)
{
    ast_var *v = pa_alloc(cv->arena, sizeof *v);
    v->name = fe_intern_cx(cv->arena, clang_getCursorSpelling(decl));
    v->kind = kind;
    CXType ty = clang_getCursorType(decl);
    CXType canon = clang_getCanonicalType(ty);
    v->is_array = canon.kind == CXType_ConstantArray || canon.kind == CXType_IncompleteArray ||
                  canon.kind == CXType_VariableArray;
    v->ty = v->is_array ? TY_PTR : fe_classify(cv->t, ty);
    v->type_name = fe_type_name(cv->arena, ty);
    v->loc = fe_cursor_loc(cv->t, decl);
    if (kind == VAR_LOCAL) {
        fe_cleanup_scan sc = { cv->t, cv->arena, NULL };
        if (clang_Cursor_hasAttrs(decl))
            clang_visitChildren(decl, fe_cleanup_cb, &sc);
        v->cleanup_fn = sc.fn;
    }
    if (kind == VAR_GLOBAL)
        v->id = -1;
    else {
        fe_var_push(cv, v);
        fe_var_insert(cv, decl, v);
    }
    return v;
}

static ast_var *fe_var_for_decl(fe_conv *cv, CXCursor decl)
{
    ast_var *v = fe_var_lookup(cv, decl);
    if (v)
        return v;
    /* A reference to a variable not declared in this function: a global,
     * or a static of an enclosing scope we have not seen. */
    var_kind k = VAR_GLOBAL;
    if (clang_getCursorKind(decl) == CXCursor_VarDecl &&
        clang_getCursorSemanticParent(decl).kind == CXCursor_FunctionDecl)
        k = VAR_STATIC;
    v = pa_alloc(cv->arena, sizeof *v);
    v->name = fe_intern_cx(cv->arena, clang_getCursorSpelling(decl));
    v->kind = k;
    CXType ty = clang_getCursorType(decl);
    CXType canon = clang_getCanonicalType(ty);
    v->is_array = canon.kind == CXType_ConstantArray || canon.kind == CXType_IncompleteArray;
    v->ty = v->is_array ? TY_PTR : fe_classify(cv->t, ty);
    v->type_name = fe_type_name(cv->arena, ty);
    v->id = -1;
    v->external = !clang_Location_isFromMainFile(clang_getCursorLocation(decl));
    fe_var_insert(cv, decl, v);
    return v;
}

/* ------------------------------------------------------------------ */
/* expressions                                                        */

static ast_expr *fe_expr(fe_conv *cv, CXCursor c);
static ast_stmt *fe_stmt(fe_conv *cv, CXCursor c);

static ast_expr *fe_new_expr(fe_conv *cv, ax_kind k, CXCursor c)
{
    ast_expr *e = pa_alloc(cv->arena, sizeof *e);
    e->kind = k;
    e->loc = fe_cursor_loc(cv->t, c);
    e->ty = fe_classify(cv->t, clang_getCursorType(c));
    e->macro = fe_macro_name_of(cv->t, c);
    return e;
}

static void fe_set_kids(fe_conv *cv, ast_expr *e, ast_expr **kids, int n)
{
    e->kids = pa_alloc(cv->arena, (size_t)(n ? n : 1) * sizeof *kids);
    if (pa_failed(cv->arena))
        return;
    for (int i = 0; i < n; i++)
        e->kids[i] = kids[i];
    e->nkids = n;
}

static ast_expr *fe_expr_all_kids(fe_conv *cv, ax_kind k, CXCursor c)
{
    ast_expr *e = fe_new_expr(cv, k, c);
    fe_kids ks = fe_children(cv->arena, c);
    ast_expr **kids = pa_alloc(cv->arena, (size_t)(ks.n ? ks.n : 1) * sizeof *kids);
    int n = 0;
    for (int i = 0; i < ks.n && !pa_failed(cv->arena); i++) {
        if (fe_is_expr_kind(clang_getCursorKind(ks.v[i])))
            kids[n++] = fe_expr(cv, ks.v[i]);
    }
    fe_set_kids(cv, e, kids, n);
    return e;
}

/* The last expression child (casts put a TypeRef first). */
static CXCursor fe_last_expr_child(fe_conv *cv, CXCursor c, int *count)
{
    fe_kids ks = fe_children(cv->arena, c);
    CXCursor r = clang_getNullCursor();
    int n = 0;
    for (int i = 0; i < ks.n; i++) {
        if (fe_is_expr_kind(clang_getCursorKind(ks.v[i]))) {
            r = ks.v[i];
            n++;
        }
    }
    if (count)
        *count = n;
    return r;
}

static bool fe_eval_int(CXCursor c, long long *out)
{
    CXEvalResult r = clang_Cursor_Evaluate(c);
    if (!r)
        return false;
    bool ok = clang_EvalResult_getKind(r) == CXEval_Int;
    if (ok)
        *out = clang_EvalResult_getAsLongLong(r);
    clang_EvalResult_dispose(r);
    return ok;
}

static ax_op fe_binop(enum CXBinaryOperatorKind k, bool *assign, bool *logic, bool *comma)
{
    *assign = *logic = *comma = false;
    switch (k) {
    case CXBinaryOperator_Mul: return AO_MUL;
    case CXBinaryOperator_Div: return AO_DIV;
    case CXBinaryOperator_Rem: return AO_REM;
    case CXBinaryOperator_Add: return AO_ADD;
    case CXBinaryOperator_Sub: return AO_SUB;
    case CXBinaryOperator_Shl: return AO_SHL;
    case CXBinaryOperator_Shr: return AO_SHR;
    case CXBinaryOperator_LT: return AO_LT;
    case CXBinaryOperator_GT: return AO_GT;
    case CXBinaryOperator_LE: return AO_LE;
    case CXBinaryOperator_GE: return AO_GE;
    case CXBinaryOperator_EQ: return AO_EQ;
    case CXBinaryOperator_NE: return AO_NE;
    case CXBinaryOperator_And: return AO_AND;
    case CXBinaryOperator_Xor: return AO_XOR;
    case CXBinaryOperator_Or: return AO_OR;
    case CXBinaryOperator_LAnd: *logic = true; return AO_LAND;
    case CXBinaryOperator_LOr: *logic = true; return AO_LOR;
    case CXBinaryOperator_Assign: *assign = true; return AO_NONE;
    case CXBinaryOperator_MulAssign: *assign = true; return AO_MUL;
    case CXBinaryOperator_DivAssign: *assign = true; return AO_DIV;
    case CXBinaryOperator_RemAssign: *assign = true; return AO_REM;
    case CXBinaryOperator_AddAssign: *assign = true; return AO_ADD;
    case CXBinaryOperator_SubAssign: *assign = true; return AO_SUB;
    case CXBinaryOperator_ShlAssign: *assign = true; return AO_SHL;
    case CXBinaryOperator_ShrAssign: *assign = true; return AO_SHR;
    case CXBinaryOperator_AndAssign: *assign = true; return AO_AND;
    case CXBinaryOperator_XorAssign: *assign = true; return AO_XOR;
    case CXBinaryOperator_OrAssign: *assign = true; return AO_OR;
    case CXBinaryOperator_Comma: *comma = true; return AO_NONE;
    default: return AO_NONE;
    }
}

static ast_expr *fe_expr_binary(fe_conv *cv, CXCursor c)
{
    fe_kids ks = fe_children(cv->arena, c);
    if (ks.n != 2)
        return fe_expr_all_kids(cv, AX_UNKNOWN, c);
    bool assign, logic, comma;
    ax_op op = fe_binop(clang_getCursorBinaryOperatorKind(c), &assign, &logic, &comma);
    ax_kind k = assign ? AX_ASSIGN : logic ? AX_LOGIC : comma ? AX_COMMA : AX_BINARY;
    ast_expr *e = fe_new_expr(cv, k, c);
    e->op = op;
    ast_expr *kids[2] = { fe_expr(cv, ks.v[0]), fe_expr(cv, ks.v[1]) };
    fe_set_kids(cv, e, kids, 2);
    return e;
}

static ast_expr *fe_expr_unary(fe_conv *cv, CXCursor c)
{
    int n = 0;
    CXCursor sub = fe_last_expr_child(cv, c, &n);
    if (n != 1)
        return fe_expr_all_kids(cv, AX_UNKNOWN, c);
    ax_kind k = AX_UNARY;
    ax_op op = AO_NONE;
    switch (clang_getCursorUnaryOperatorKind(c)) {
    case CXUnaryOperator_PostInc: op = AO_POSTINC; break;
    case CXUnaryOperator_PostDec: op = AO_POSTDEC; break;
    case CXUnaryOperator_PreInc: op = AO_PREINC; break;
    case CXUnaryOperator_PreDec: op = AO_PREDEC; break;
    case CXUnaryOperator_AddrOf: k = AX_ADDR; break;
    case CXUnaryOperator_Deref: k = AX_DEREF; break;
    case CXUnaryOperator_Plus: op = AO_PLUS; break;
    case CXUnaryOperator_Minus: op = AO_NEG; break;
    case CXUnaryOperator_Not: op = AO_BITNOT; break;
    case CXUnaryOperator_LNot: op = AO_NOT; break;
    case CXUnaryOperator_Extension: return fe_expr(cv, sub);
    default: k = AX_UNKNOWN; break;
    }
    ast_expr *e = fe_new_expr(cv, k, c);
    e->op = op;
    ast_expr *kid = fe_expr(cv, sub);
    fe_set_kids(cv, e, &kid, 1);
    return e;
}

static ast_expr *fe_expr_call(fe_conv *cv, CXCursor c)
{
    ast_expr *e = fe_new_expr(cv, AX_CALL, c);
    int nargs = clang_Cursor_getNumArguments(c);
    if (nargs < 0)
        nargs = 0;
    fe_kids ks = fe_children(cv->arena, c);
    ast_expr **kids = pa_alloc(cv->arena, (size_t)(nargs + 1) * sizeof *kids);
    if (pa_failed(cv->arena))
        return e;
    CXCursor ref = clang_getCursorReferenced(c);
    if (!clang_Cursor_isNull(ref) && clang_getCursorKind(ref) == CXCursor_FunctionDecl) {
        fe_callee *info = fe_callee_info(cv->t, ref);
        if (info) {
            e->name = info->name;
            e->callee_noreturn = info->noreturn;
            e->annot = info->annot;
        }
    }
    if (ks.n > 0)
        kids[0] = fe_expr(cv, ks.v[0]);
    else {
        kids[0] = pa_alloc(cv->arena, sizeof *kids[0]);
        kids[0]->kind = AX_FUNC;
        kids[0]->name = e->name;
        kids[0]->loc = e->loc;
    }
    for (int i = 0; i < nargs; i++)
        kids[i + 1] = fe_expr(cv, clang_Cursor_getArgument(c, (unsigned)i));
    e->kids = kids;
    e->nkids = nargs + 1;
    return e;
}

static ast_expr *fe_expr_ref(fe_conv *cv, CXCursor c)
{
    CXCursor ref = clang_getCursorReferenced(c);
    enum CXCursorKind rk = clang_getCursorKind(ref);
    if (rk == CXCursor_VarDecl || rk == CXCursor_ParmDecl) {
        ast_expr *e = fe_new_expr(cv, AX_VAR, c);
        e->var = fe_var_for_decl(cv, ref);
        e->name = e->var->name;
        if (e->var->is_array)
            e->ty = TY_PTR;
        return e;
    }
    if (rk == CXCursor_FunctionDecl) {
        ast_expr *e = fe_new_expr(cv, AX_FUNC, c);
        e->name = fe_intern_cx(cv->arena, clang_getCursorSpelling(ref));
        return e;
    }
    if (rk == CXCursor_EnumConstantDecl) {
        ast_expr *e = fe_new_expr(cv, AX_INT, c);
        e->ival = clang_getEnumConstantDeclValue(ref);
        e->name = fe_intern_cx(cv->arena, clang_getCursorSpelling(ref));
        return e;
    }
    ast_expr *e = fe_new_expr(cv, AX_UNKNOWN, c);
    e->name = fe_intern_cx(cv->arena, clang_getCursorSpelling(c));
    return e;
}

/* Decodes the C escapes of one string-literal token body into sb. */
static void fe_unescape(const char *p, const char *end, char *out, size_t *n)
{
    while (p < end) {
        char ch = *p++;
        if (ch == '\\' && p < end) {
            char e = *p++;
            switch (e) {
            case 'n': ch = '\n'; break;
            case 't': ch = '\t'; break;
            case 'r': ch = '\r'; break;
            case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
                int v = e - '0', k = 1;
                while (k < 3 && p < end && *p >= '0' && *p <= '7') {
                    v = v * 8 + (*p++ - '0');
                    k++;
                }
                ch = (char)v;
                break;
            }
            case 'x': {
                int v = 0;
                while (p < end && ((*p >= '0' && *p <= '9') || ((*p | 32) >= 'a' && (*p | 32) <= 'f'))) {
                    v = v * 16 + (*p <= '9' ? *p - '0' : (*p | 32) - 'a' + 10);
                    p++;
                }
                ch = (char)v;
                break;
            }
            default: ch = e; break;
            }
        }
        out[(*n)++] = ch;
    }
}

/* The value of a string literal: its tokens (adjacent literals are
 * concatenated), decoded. Prefixes (L, u8) are skipped. */
static ast_expr *fe_expr_literal_string(fe_conv *cv, CXCursor c)
{
    ast_expr *e = fe_new_expr(cv, AX_STRING, c);
    fe_tu *t = cv->t;
    CXToken *toks = NULL;
    unsigned n = 0;
    clang_tokenize(t->tu, clang_getCursorExtent(c), &toks, &n);
    size_t total = 0;
    for (unsigned i = 0; i < n; i++) {
        CXString s = clang_getTokenSpelling(t->tu, toks[i]);
        const char *p = clang_getCString(s);
        total += p ? strlen(p) : 0;
        clang_disposeString(s);
    }
    char *buf = pa_alloc(cv->arena, total + 1);
    size_t len = 0;
    for (unsigned i = 0; i < n && !pa_failed(cv->arena); i++) {
        if (clang_getTokenKind(toks[i]) != CXToken_Literal)
            continue;
        CXString s = clang_getTokenSpelling(t->tu, toks[i]);
        const char *p = clang_getCString(s);
        const char *q = p ? strchr(p, '"') : NULL;
        const char *end = q ? strrchr(q + 1, '"') : NULL;
        if (q && end && end > q)
            fe_unescape(q + 1, end, buf, &len);
        clang_disposeString(s);
    }
    clang_disposeTokens(t->tu, toks, n);
    if (!pa_failed(cv->arena))
        buf[len] = '\0';
    e->str = pa_failed(cv->arena) ? "" : buf;
    e->ival = (long long)len;
    return e;
}

typedef struct fe_fields {
    const char **names;
    int n, cap;
    pa_arena *a;
} fe_fields;

static enum CXVisitorResult fe_field_cb(CXCursor c, CXClientData d)
{
    fe_fields *ff = d;
    if (ff->n == ff->cap) {
        int ncap = ff->cap ? ff->cap * 2 : 16;
        ff->names = pa_grow(ff->a, ff->names, (size_t)ff->n, (size_t)ncap, sizeof *ff->names);
        if (pa_failed(ff->a))
            return CXVisit_Break;
        ff->cap = ncap;
    }
    ff->names[ff->n++] = fe_intern_cx(ff->a, clang_getCursorSpelling(c));
    return CXVisit_Continue;
}

/* { ... } initializers: each element named by the struct field it
 * initializes (designated `.tp_iternext = f` or by position), so checks
 * can tell which slot a function fills. */
static ast_expr *fe_expr_init_list(fe_conv *cv, CXCursor c)
{
    ast_expr *e = fe_new_expr(cv, AX_INIT_LIST, c);
    fe_kids ks = fe_children(cv->arena, c);
    fe_fields ff = { .a = cv->arena };
    CXType ty = clang_getCanonicalType(clang_getCursorType(c));
    if (ty.kind == CXType_Record)
        clang_Type_visitFields(ty, fe_field_cb, &ff);
    ast_expr **kids = pa_alloc(cv->arena, (size_t)(ks.n ? ks.n : 1) * sizeof *kids);
    const char **names = pa_alloc(cv->arena, (size_t)(ks.n ? ks.n : 1) * sizeof *names);
    int n = 0, pos = 0;
    for (int i = 0; i < ks.n && !pa_failed(cv->arena); i++) {
        CXCursor k = ks.v[i];
        if (!fe_is_expr_kind(clang_getCursorKind(k)))
            continue;
        const char *name = NULL;
        CXCursor value = k;
        if (clang_getCursorKind(k) == CXCursor_UnexposedExpr) {
            /* a designated initializer: MemberRef designator(s), then the value */
            fe_kids dk = fe_children(cv->arena, k);
            if (dk.n >= 2 && clang_getCursorKind(dk.v[0]) == CXCursor_MemberRef) {
                name = fe_intern_cx(cv->arena, clang_getCursorSpelling(dk.v[0]));
                value = dk.v[dk.n - 1];
                for (int f = 0; f < ff.n; f++)
                    if (strcmp(ff.names[f], name) == 0)
                        pos = f;
            }
        }
        if (!name && pos < ff.n)
            name = ff.names[pos];
        pos++;
        kids[n] = fe_expr(cv, value);
        names[n] = name;
        n++;
    }
    e->kids = kids;
    e->kid_names = names;
    e->nkids = n;
    return e;
}

/* Whether an unexposed expression is GNU's binary `?:` (a ?: b): its
 * tokens hold '?' directly followed by ':' at the top level. */
static bool fe_is_elvis(fe_tu *t, CXCursor c)
{
    CXToken *toks = NULL;
    unsigned n = 0;
    clang_tokenize(t->tu, clang_getCursorExtent(c), &toks, &n);
    bool found = false;
    int depth = 0;
    for (unsigned i = 0; i + 1 < n && !found; i++) {
        CXString s = clang_getTokenSpelling(t->tu, toks[i]);
        const char *p = clang_getCString(s);
        if (p && (strcmp(p, "(") == 0 || strcmp(p, "[") == 0))
            depth++;
        else if (p && (strcmp(p, ")") == 0 || strcmp(p, "]") == 0))
            depth--;
        else if (p && depth == 0 && strcmp(p, "?") == 0) {
            CXString s2 = clang_getTokenSpelling(t->tu, toks[i + 1]);
            const char *q = clang_getCString(s2);
            found = q && strcmp(q, ":") == 0;
            clang_disposeString(s2);
        }
        clang_disposeString(s);
    }
    clang_disposeTokens(t->tu, toks, n);
    return found;
}

static ast_expr *fe_expr_body(fe_conv *cv, CXCursor c)
{
    enum CXCursorKind k = clang_getCursorKind(c);
    switch (k) {
    case CXCursor_IntegerLiteral:
    case CXCursor_CharacterLiteral: {
        ast_expr *e = fe_new_expr(cv, AX_INT, c);
        long long v = 0;
        if (fe_eval_int(c, &v))
            e->ival = v;
        return e;
    }
    case CXCursor_FloatingLiteral:
        return fe_new_expr(cv, AX_FLOAT, c);
    case CXCursor_StringLiteral:
        return fe_expr_literal_string(cv, c);
    case CXCursor_GNUNullExpr:
        return fe_new_expr(cv, AX_NULL, c);
    case CXCursor_DeclRefExpr:
        return fe_expr_ref(cv, c);
    case CXCursor_MemberRefExpr: {
        ast_expr *e = fe_new_expr(cv, AX_MEMBER, c);
        e->name = fe_intern_cx(cv->arena, clang_getCursorSpelling(c));
        int n = 0;
        CXCursor base = fe_last_expr_child(cv, c, &n);
        if (n >= 1) {
            ast_expr *b = fe_expr(cv, base);
            CXType bt = clang_getCanonicalType(clang_getCursorType(base));
            e->op = bt.kind == CXType_Pointer ? 1 : 0;
            fe_set_kids(cv, e, &b, 1);
        }
        return e;
    }
    case CXCursor_CallExpr:
        return fe_expr_call(cv, c);
    case CXCursor_BinaryOperator:
    case CXCursor_CompoundAssignOperator:
        return fe_expr_binary(cv, c);
    case CXCursor_UnaryOperator:
        return fe_expr_unary(cv, c);
    case CXCursor_ConditionalOperator: {
        fe_kids ks = fe_children(cv->arena, c);
        if (ks.n != 3)
            return fe_expr_all_kids(cv, AX_UNKNOWN, c);
        ast_expr *e = fe_new_expr(cv, AX_COND, c);
        ast_expr *kids[3] = { fe_expr(cv, ks.v[0]), fe_expr(cv, ks.v[1]), fe_expr(cv, ks.v[2]) };
        fe_set_kids(cv, e, kids, 3);
        return e;
    }
    case CXCursor_ArraySubscriptExpr: {
        fe_kids ks = fe_children(cv->arena, c);
        if (ks.n != 2)
            return fe_expr_all_kids(cv, AX_UNKNOWN, c);
        ast_expr *e = fe_new_expr(cv, AX_INDEX, c);
        ast_expr *kids[2] = { fe_expr(cv, ks.v[0]), fe_expr(cv, ks.v[1]) };
        fe_set_kids(cv, e, kids, 2);
        return e;
    }
    case CXCursor_CStyleCastExpr: {
        int n = 0;
        CXCursor sub = fe_last_expr_child(cv, c, &n);
        if (n < 1)
            return fe_expr_all_kids(cv, AX_UNKNOWN, c);
        ast_expr *inner = fe_expr(cv, sub);
        ast_expr *e = fe_new_expr(cv, AX_CAST, c);
        e->name = fe_type_name(cv->arena, clang_getCursorType(c));
        fe_set_kids(cv, e, &inner, 1);
        /* (PyObject *)0 and (void *)0 are null pointer constants */
        if (inner->kind == AX_INT && inner->ival == 0 && (e->ty == TY_PTR || e->ty == TY_OBJ || e->ty == TY_OBJPTR))
            e->kind = AX_NULL;
        if (inner->kind == AX_NULL && e->ty != TY_INT)
            e->kind = AX_NULL;
        return e;
    }
    case CXCursor_ParenExpr:
    case CXCursor_UnexposedExpr: {
        int n = 0;
        CXCursor sub = fe_last_expr_child(cv, c, &n);
        if (k == CXCursor_UnexposedExpr && n == 4 && fe_is_elvis(cv->t, c)) {
            /* GNU a ?: b (children: common, opaque, condition, false value) */
            fe_kids ks = fe_children(cv->arena, c);
            CXCursor parts[4];
            int np = 0;
            for (int i = 0; i < ks.n && np < 4; i++)
                if (fe_is_expr_kind(clang_getCursorKind(ks.v[i])))
                    parts[np++] = ks.v[i];
            ast_expr *e = fe_new_expr(cv, AX_COND, c);
            ast_expr *kids[3] = { fe_expr(cv, parts[0]), NULL, fe_expr(cv, parts[3]) };
            fe_set_kids(cv, e, kids, 3);
            return e;
        }
        if (n == 1) {
            ast_expr *e = fe_expr(cv, sub);
            ty_class outer = fe_classify(cv->t, clang_getCursorType(c));
            /* implicit conversion of 0 to a pointer: a null constant */
            if (e->kind == AX_INT && e->ival == 0 && (outer == TY_PTR || outer == TY_OBJ))
                e->kind = AX_NULL;
            if (outer != TY_OTHER && !(outer == TY_PTR && e->ty == TY_OBJ)) {
                /* keep object-ness through casts to PyObject* */
                if (!(e->ty == TY_OBJ && outer == TY_PTR))
                    e->ty = outer;
            }
            return e;
        }
        return fe_expr_all_kids(cv, AX_UNKNOWN, c);
    }
    case CXCursor_UnaryExpr: /* sizeof, alignof */
    {
        ast_expr *e = fe_new_expr(cv, AX_SIZEOF, c);
        return e;
    }
    case CXCursor_StmtExpr: {
        ast_expr *e = fe_new_expr(cv, AX_STMT_EXPR, c);
        fe_kids ks = fe_children(cv->arena, c);
        if (ks.n >= 1)
            e->stmt = fe_stmt(cv, ks.v[0]);
        return e;
    }
    case CXCursor_InitListExpr:
        return fe_expr_init_list(cv, c);
    case CXCursor_CompoundLiteralExpr: {
        int n = 0;
        CXCursor sub = fe_last_expr_child(cv, c, &n);
        if (n == 1)
            return fe_expr(cv, sub);
        return fe_expr_all_kids(cv, AX_UNKNOWN, c);
    }
    case CXCursor_AddrLabelExpr: {
        /* &&label: the label's name is on the LabelRef child */
        ast_expr *e = fe_new_expr(cv, AX_LABEL_ADDR, c);
        fe_kids ks = fe_children(cv->arena, c);
        for (int i = 0; i < ks.n; i++)
            if (clang_getCursorKind(ks.v[i]) == CXCursor_LabelRef)
                e->name = fe_intern_cx(cv->arena, clang_getCursorSpelling(ks.v[i]));
        if (!e->name || !e->name[0]) {
            CXCursor ref = clang_getCursorReferenced(c);
            e->name = fe_intern_cx(cv->arena, clang_getCursorSpelling(ref));
        }
        return e;
    }
    default:
        return fe_expr_all_kids(cv, AX_UNKNOWN, c);
    }
}

static fe_macro *fe_collapsible(fe_conv *cv, CXCursor c);
static ast_expr *fe_collapse(fe_conv *cv, CXCursor c, fe_macro *m);

static ast_expr *fe_expr(fe_conv *cv, CXCursor c)
{
    if (++cv->depth > FE_MAX_DEPTH || pa_failed(cv->arena)) {
        cv->depth--;
        cv->too_deep = true;
        ast_expr *e = pa_alloc(cv->arena, sizeof *e);
        e->kind = AX_UNKNOWN;
        return e;
    }
    /* an API macro used as an expression: PyTuple_GET_ITEM(t, i) */
    fe_macro *m = fe_collapsible(cv, c);
    if (m) {
        ast_expr *x = fe_collapse(cv, c, m);
        if (x) {
            x->ty = fe_classify(cv->t, clang_getCursorType(c));
            cv->depth--;
            return x;
        }
    }
    ast_expr *e = fe_expr_body(cv, c);
    cv->depth--;
    return e;
}

/* ------------------------------------------------------------------ */
/* collapsing API macros                                              */

typedef struct fe_argfind {
    fe_conv *cv;
    unsigned lo[KB_COLLAPSE_MAX_ARGS], hi[KB_COLLAPSE_MAX_ARGS];
    CXCursor found[KB_COLLAPSE_MAX_ARGS];
    bool have[KB_COLLAPSE_MAX_ARGS];
    int nargs;
} fe_argfind;

/* Finds, for each macro argument, the outermost expression written by the
 * user inside that argument's token range. */
static enum CXChildVisitResult fe_argfind_cb(CXCursor c, CXCursor parent, CXClientData d)
{
    fe_argfind *af = d;
    if (fe_is_expr_kind(clang_getCursorKind(c))) {
        CXSourceRange r = clang_getCursorExtent(c);
        CXFile f1 = NULL, f2 = NULL;
        unsigned o1 = 0, o2 = 0;
        /* file locations: an argument's own tokens map to where they are
         * written, a macro used inside an argument maps to its name there,
         * and the outer macro's body maps to the outer macro's name (before
         * every argument range) */
        clang_getFileLocation(clang_getRangeStart(r), &f1, NULL, NULL, &o1);
        clang_getFileLocation(clang_getRangeEnd(r), &f2, NULL, NULL, &o2);
        fe_tu *t = af->cv->t;
        if (f1 && f2 && clang_File_isEqual(f1, t->main_file) && clang_File_isEqual(f2, t->main_file)) {
            for (int i = 0; i < af->nargs; i++) {
                if (o1 >= af->lo[i] && o2 <= af->hi[i]) {
                    if (!af->have[i]) {
                        af->have[i] = true;
                        af->found[i] = c;
                    }
                    return CXChildVisit_Continue;
                }
            }
        }
    }
    return CXChildVisit_Recurse;
}

/* Tries to turn the expansion of macro m (rooted at statement or
 * expression c) into an AX_MACRO call node.  Returns NULL when the
 * arguments cannot be recovered; the caller then converts the expansion. */
static ast_expr *fe_collapse(fe_conv *cv, CXCursor c, fe_macro *m)
{
    fe_tu *t = cv->t;
    CXSourceLocation b = clang_getLocationForOffset(t->tu, t->main_file, m->start);
    CXSourceLocation e = clang_getLocationForOffset(t->tu, t->main_file, m->end);
    CXToken *toks = NULL;
    unsigned n = 0;
    clang_tokenize(t->tu, clang_getRange(b, e), &toks, &n);
    fe_argfind af = { .cv = cv };
    bool ok = true;
    if (n >= 3) {
        /* NAME ( a , b ) */
        CXString s = clang_getTokenSpelling(t->tu, toks[1]);
        const char *p = clang_getCString(s);
        ok = p && strcmp(p, "(") == 0;
        clang_disposeString(s);
        int depth = 0;
        unsigned argstart = 0;
        for (unsigned i = 1; ok && i < n; i++) {
            CXString ts = clang_getTokenSpelling(t->tu, toks[i]);
            const char *tp = clang_getCString(ts);
            char ch = tp && tp[1] == '\0' ? tp[0] : 0;
            clang_disposeString(ts);
            CXSourceRange tr = clang_getTokenExtent(t->tu, toks[i]);
            unsigned tstart = 0, tend = 0;
            clang_getFileLocation(clang_getRangeStart(tr), NULL, NULL, NULL, &tstart);
            clang_getFileLocation(clang_getRangeEnd(tr), NULL, NULL, NULL, &tend);
            if (ch == '(' || ch == '[' || ch == '{') {
                if (depth++ == 0) {
                    argstart = tend;
                    continue;
                }
            } else if (ch == ')' || ch == ']' || ch == '}') {
                if (--depth == 0) {
                    if (tstart > argstart || af.nargs > 0) {
                        if (af.nargs >= KB_COLLAPSE_MAX_ARGS) { ok = false; break; }
                        af.lo[af.nargs] = argstart;
                        af.hi[af.nargs] = tstart;
                        af.nargs++;
                    }
                    break;
                }
            } else if (ch == ',' && depth == 1) {
                if (af.nargs >= KB_COLLAPSE_MAX_ARGS) { ok = false; break; }
                af.lo[af.nargs] = argstart;
                af.hi[af.nargs] = tstart;
                af.nargs++;
                argstart = tend;
            }
        }
    }
    clang_disposeTokens(t->tu, toks, n);
    if (!ok)
        return NULL;
    if (af.nargs > 0) {
        clang_visitChildren(c, fe_argfind_cb, &af);
        for (int i = 0; i < af.nargs; i++)
            if (!af.have[i])
                return NULL;
    }
    ast_expr *x = pa_alloc(cv->arena, sizeof *x);
    x->kind = AX_MACRO;
    x->name = m->name;
    x->macro = m->name;
    const fe_options *o = t->fe->opts;
    x->callee_noreturn = o->noreturn_names && fe_name_in(m->name, o->noreturn_names, o->nnoreturn);
    fe_fileloc(t, b, &x->loc, NULL);
    x->ty = TY_OTHER;
    x->text = pa_strndup(cv->arena, t->source + m->start,
                         m->end <= t->source_len && m->end > m->start ? m->end - m->start : 0);
    ast_expr **kids = pa_alloc(cv->arena, (size_t)(af.nargs ? af.nargs : 1) * sizeof *kids);
    for (int i = 0; i < af.nargs && !pa_failed(cv->arena); i++)
        kids[i] = fe_expr(cv, af.found[i]);
    x->kids = kids;
    x->nkids = af.nargs;
    return x;
}

/* A statement is the root of a collapsible macro use when it starts at the
 * macro's name and ends inside its use. */
static fe_macro *fe_collapsible(fe_conv *cv, CXCursor c)
{
    fe_tu *t = cv->t;
    if (t->nmacros == 0)
        return NULL;
    unsigned s, e;
    if (!fe_cursor_span(t, c, &s, &e))
        return NULL;
    fe_macro *m = fe_macro_at(t, s);
    if (!m || !m->collapse || m->start != s || e > m->end)
        return NULL;
    return m;
}

typedef struct fe_has_return {
    bool found;
} fe_has_return;

static enum CXChildVisitResult fe_has_return_cb(CXCursor c, CXCursor parent, CXClientData d)
{
    if (clang_getCursorKind(c) == CXCursor_ReturnStmt) {
        ((fe_has_return *)d)->found = true;
        return CXChildVisit_Break;
    }
    return CXChildVisit_Recurse;
}

/* ------------------------------------------------------------------ */
/* statements                                                         */

static ast_stmt *fe_new_stmt(fe_conv *cv, as_kind k, CXCursor c)
{
    ast_stmt *s = pa_alloc(cv->arena, sizeof *s);
    s->kind = k;
    s->loc = fe_cursor_loc(cv->t, c);
    s->macro = fe_macro_name_of(cv->t, c);
    return s;
}

static void fe_stmt_kids(fe_conv *cv, ast_stmt *s, ast_stmt **kids, int n)
{
    s->kids = pa_alloc(cv->arena, (size_t)(n ? n : 1) * sizeof *kids);
    if (pa_failed(cv->arena))
        return;
    for (int i = 0; i < n; i++)
        s->kids[i] = kids[i];
    s->nkids = n;
}

static ast_stmt *fe_stmt_decl(fe_conv *cv, CXCursor c)
{
    fe_kids ks = fe_children(cv->arena, c);
    ast_stmt **decls = pa_alloc(cv->arena, (size_t)(ks.n ? ks.n : 1) * sizeof *decls);
    int n = 0;
    for (int i = 0; i < ks.n && !pa_failed(cv->arena); i++) {
        CXCursor d = ks.v[i];
        if (clang_getCursorKind(d) != CXCursor_VarDecl)
            continue;
        enum CX_StorageClass sc = clang_Cursor_getStorageClass(d);
        var_kind vk = sc == CX_SC_Static ? VAR_STATIC : sc == CX_SC_Extern ? VAR_GLOBAL : VAR_LOCAL;
        ast_var *v = fe_make_var(cv, d, vk);
        if (vk == VAR_GLOBAL)
            fe_var_insert(cv, d, v);
        ast_stmt *s = fe_new_stmt(cv, AS_DECL, d);
        s->var = v;
        int cnt = 0;
        CXCursor init = fe_last_expr_child(cv, d, &cnt);
        /* static locals are initialised once, not on every call */
        if (cnt >= 1 && vk == VAR_LOCAL)
            s->expr = fe_expr(cv, init);
        decls[n++] = s;
    }
    if (n == 1)
        return decls[0];
    ast_stmt *g = fe_new_stmt(cv, AS_COMPOUND, c);
    g->ival = 1;  /* a declaration group: no scope of its own */
    fe_stmt_kids(cv, g, decls, n);
    return g;
}

/* for (init; cond; inc) body: libclang skips absent parts, so classify the
 * present children by their position against the header's semicolons. */
static ast_stmt *fe_stmt_for(fe_conv *cv, CXCursor c)
{
    ast_stmt *s = fe_new_stmt(cv, AS_FOR, c);
    s->end_loc = s->loc;
    fe_kids ks = fe_children(cv->arena, c);
    if (ks.n == 0)
        return s;
    ast_stmt *body_kids[2] = { NULL, NULL };
    CXCursor body = ks.v[ks.n - 1];
    int nhead = ks.n - 1;
    int role[3] = { -1, -1, -1 };  /* child index for init, cond, inc */
    if (nhead == 3) {
        role[0] = 0; role[1] = 1; role[2] = 2;
    } else if (nhead > 0) {
        /* find the two ';' of the header */
        fe_tu *t = cv->t;
        CXToken *toks = NULL;
        unsigned n = 0;
        clang_tokenize(t->tu, clang_getCursorExtent(c), &toks, &n);
        unsigned semi[2] = { 0, 0 };
        int nsemi = 0, depth = 0;
        for (unsigned i = 0; i < n && nsemi < 2; i++) {
            CXString ts = clang_getTokenSpelling(t->tu, toks[i]);
            const char *tp = clang_getCString(ts);
            char ch = tp && tp[1] == '\0' ? tp[0] : 0;
            clang_disposeString(ts);
            if (ch == '(')
                depth++;
            else if (ch == ')')
                depth--;
            else if (ch == ';' && depth == 1) {
                unsigned off = 0;
                clang_getFileLocation(clang_getRangeStart(clang_getTokenExtent(t->tu, toks[i])),
                                      NULL, NULL, NULL, &off);
                semi[nsemi++] = off;
            }
        }
        clang_disposeTokens(t->tu, toks, n);
        for (int i = 0; i < nhead; i++) {
            unsigned st = 0, en = 0;
            fe_cursor_span(t, ks.v[i], &st, &en);
            int r = nsemi < 2 ? i + (3 - nhead) : st < semi[0] ? 0 : st < semi[1] ? 1 : 2;
            if (r >= 0 && r < 3 && role[r] < 0)
                role[r] = i;
        }
    }
    if (role[0] >= 0) {
        CXCursor ic = ks.v[role[0]];
        if (clang_getCursorKind(ic) == CXCursor_DeclStmt)
            body_kids[0] = fe_stmt(cv, ic);
        else {
            body_kids[0] = fe_new_stmt(cv, AS_EXPR, ic);
            body_kids[0]->expr = fe_expr(cv, ic);
        }
    }
    if (role[1] >= 0)
        s->expr = fe_expr(cv, ks.v[role[1]]);
    if (role[2] >= 0)
        s->expr2 = fe_expr(cv, ks.v[role[2]]);
    body_kids[1] = fe_stmt(cv, body);
    fe_stmt_kids(cv, s, body_kids, 2);
    return s;
}

static ast_stmt *fe_stmt_body(fe_conv *cv, CXCursor c)
{
    enum CXCursorKind k = clang_getCursorKind(c);
    fe_macro *m = fe_collapsible(cv, c);
    if (m) {
        ast_expr *x = fe_collapse(cv, c, m);
        if (x) {
            fe_has_return hr = { false };
            if (k == CXCursor_ReturnStmt)
                hr.found = true;
            else
                clang_visitChildren(c, fe_has_return_cb, &hr);
            ast_stmt *s = fe_new_stmt(cv, hr.found ? AS_RETURN : AS_EXPR, c);
            s->expr = x;
            s->macro = m->name;
            return s;
        }
    }
    if (fe_is_expr_kind(k)) {
        ast_stmt *s = fe_new_stmt(cv, AS_EXPR, c);
        s->expr = fe_expr(cv, c);
        return s;
    }
    fe_kids ks = fe_children(cv->arena, c);
    switch (k) {
    case CXCursor_CompoundStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_COMPOUND, c);
        fe_fileloc(cv->t, clang_getRangeEnd(clang_getCursorExtent(c)), &s->end_loc, NULL);
        if (s->end_loc.col > 1)
            s->end_loc.col--;   /* the '}' itself */
        ast_stmt **kids = pa_alloc(cv->arena, (size_t)(ks.n ? ks.n : 1) * sizeof *kids);
        for (int i = 0; i < ks.n && !pa_failed(cv->arena); i++)
            kids[i] = fe_stmt(cv, ks.v[i]);
        fe_stmt_kids(cv, s, kids, ks.n);
        return s;
    }
    case CXCursor_DeclStmt:
        return fe_stmt_decl(cv, c);
    case CXCursor_IfStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_IF, c);
        if (ks.n < 2)
            return s;
        s->expr = fe_expr(cv, ks.v[0]);
        ast_stmt *kids[2] = { fe_stmt(cv, ks.v[1]), ks.n > 2 ? fe_stmt(cv, ks.v[2]) : NULL };
        fe_stmt_kids(cv, s, kids, 2);
        return s;
    }
    case CXCursor_WhileStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_WHILE, c);
        if (ks.n < 2)
            return s;
        s->expr = fe_expr(cv, ks.v[0]);
        ast_stmt *body = fe_stmt(cv, ks.v[1]);
        fe_stmt_kids(cv, s, &body, 1);
        return s;
    }
    case CXCursor_DoStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_DO, c);
        if (ks.n < 2)
            return s;
        ast_stmt *body = fe_stmt(cv, ks.v[0]);
        s->expr = fe_expr(cv, ks.v[1]);
        fe_stmt_kids(cv, s, &body, 1);
        return s;
    }
    case CXCursor_ForStmt:
        return fe_stmt_for(cv, c);
    case CXCursor_SwitchStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_SWITCH, c);
        if (ks.n < 2)
            return s;
        s->expr = fe_expr(cv, ks.v[ks.n - 2]);
        ast_stmt *body = fe_stmt(cv, ks.v[ks.n - 1]);
        fe_stmt_kids(cv, s, &body, 1);
        return s;
    }
    case CXCursor_CaseStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_CASE, c);
        if (ks.n < 2)
            return s;
        long long v = 0;
        fe_eval_int(ks.v[0], &v);
        s->ival = s->ival2 = v;
        if (ks.n >= 3) {
            long long v2 = v;
            fe_eval_int(ks.v[1], &v2);
            s->ival2 = v2;
        }
        ast_stmt *sub = fe_stmt(cv, ks.v[ks.n - 1]);
        fe_stmt_kids(cv, s, &sub, 1);
        return s;
    }
    case CXCursor_DefaultStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_DEFAULT, c);
        if (ks.n >= 1) {
            ast_stmt *sub = fe_stmt(cv, ks.v[ks.n - 1]);
            fe_stmt_kids(cv, s, &sub, 1);
        }
        return s;
    }
    case CXCursor_BreakStmt:
        return fe_new_stmt(cv, AS_BREAK, c);
    case CXCursor_ContinueStmt:
        return fe_new_stmt(cv, AS_CONTINUE, c);
    case CXCursor_ReturnStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_RETURN, c);
        if (ks.n >= 1)
            s->expr = fe_expr(cv, ks.v[0]);
        return s;
    }
    case CXCursor_GotoStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_GOTO, c);
        CXCursor ref = clang_getCursorReferenced(c);
        s->name = fe_intern_cx(cv->arena, clang_getCursorSpelling(ref));
        return s;
    }
    case CXCursor_IndirectGotoStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_INDIRECT_GOTO, c);
        if (ks.n >= 1)
            s->expr = fe_expr(cv, ks.v[0]);
        return s;
    }
    case CXCursor_LabelStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_LABEL, c);
        s->name = fe_intern_cx(cv->arena, clang_getCursorSpelling(c));
        ast_stmt *sub = ks.n >= 1 ? fe_stmt(cv, ks.v[ks.n - 1]) : fe_new_stmt(cv, AS_NULL, c);
        fe_stmt_kids(cv, s, &sub, 1);
        return s;
    }
    case CXCursor_NullStmt:
        return fe_new_stmt(cv, AS_NULL, c);
    case CXCursor_GCCAsmStmt:
    case CXCursor_MSAsmStmt:
        return fe_new_stmt(cv, AS_ASM, c);
    default: {
        /* Unknown statement: keep its sub-statements in order. */
        ast_stmt *s = fe_new_stmt(cv, AS_COMPOUND, c);
        ast_stmt **kids = pa_alloc(cv->arena, (size_t)(ks.n ? ks.n : 1) * sizeof *kids);
        for (int i = 0; i < ks.n && !pa_failed(cv->arena); i++)
            kids[i] = fe_stmt(cv, ks.v[i]);
        fe_stmt_kids(cv, s, kids, ks.n);
        return s;
    }
    }
}

static ast_stmt *fe_stmt(fe_conv *cv, CXCursor c)
{
    if (++cv->depth > FE_MAX_DEPTH || pa_failed(cv->arena)) {
        cv->depth--;
        cv->too_deep = true;
        ast_stmt *s = pa_alloc(cv->arena, sizeof *s);
        s->kind = AS_NULL;
        return s;
    }
    ast_stmt *s = fe_stmt_body(cv, c);
    cv->depth--;
    return s;
}

/* ------------------------------------------------------------------ */
/* translation units                                                  */

fe_context *fe_open(const fe_options *opts, char *err, size_t errlen)
{
    fe_context *fe = calloc(1, sizeof *fe);
    if (!fe) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    fe->opts = opts;
    fe->index = clang_createIndex(0, 0);
    if (opts->compile_db_dir) {
        CXCompilationDatabase_Error dberr = CXCompilationDatabase_NoError;
        fe->db = clang_CompilationDatabase_fromDirectory(opts->compile_db_dir, &dberr);
        if (dberr != CXCompilationDatabase_NoError || !fe->db) {
            snprintf(err, errlen, "%s: cannot load compile_commands.json", opts->compile_db_dir);
            clang_disposeIndex(fe->index);
            free(fe);
            return NULL;
        }
    }
    return fe;
}

void fe_close(fe_context *fe)
{
    if (!fe)
        return;
    if (fe->db)
        clang_CompilationDatabase_dispose(fe->db);
    clang_disposeIndex(fe->index);
    free(fe);
}

void fe_free_list(char **list, int n)
{
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

static char *fe_strdup_cx(CXString s)
{
    const char *p = clang_getCString(s);
    char *r = strdup(p ? p : "");
    clang_disposeString(s);
    return r;
}

/* Joins a compile command's directory and file into an absolute path. */
static char *fe_cmd_path(CXCompileCommand cmd)
{
    char *dir = fe_strdup_cx(clang_CompileCommand_getDirectory(cmd));
    char *file = fe_strdup_cx(clang_CompileCommand_getFilename(cmd));
    char *r = NULL;
    if (dir && file) {
        if (file[0] == '/')
            r = strdup(file);
        else {
            size_t n = strlen(dir) + strlen(file) + 2;
            r = malloc(n);
            if (r)
                snprintf(r, n, "%s/%s", dir, file);
        }
    }
    free(dir);
    free(file);
    return r;
}

int fe_compile_db_files(fe_context *fe, char ***out)
{
    *out = NULL;
    if (!fe->db)
        return 0;
    CXCompileCommands cmds = clang_CompilationDatabase_getAllCompileCommands(fe->db);
    unsigned n = clang_CompileCommands_getSize(cmds);
    char **list = calloc(n ? n : 1, sizeof *list);
    int count = 0;
    for (unsigned i = 0; list && i < n; i++) {
        char *p = fe_cmd_path(clang_CompileCommands_getCommand(cmds, i));
        if (!p)
            continue;
        size_t len = strlen(p);
        bool dup = false;
        for (int j = 0; j < count && !dup; j++)
            dup = strcmp(list[j], p) == 0;
        if (dup || len < 2 || strcmp(p + len - 2, ".c") != 0) {
            free(p);
            continue;
        }
        list[count++] = p;
    }
    clang_CompileCommands_dispose(cmds);
    *out = list;
    return count;
}

/* Arguments from the compile database for path, minus the compiler, the
 * output and the source file itself.  Returns the count (0: no entry). */
static int fe_db_args(fe_context *fe, const char *path, char ***out)
{
    *out = NULL;
    if (!fe->db)
        return 0;
    char *abs = realpath(path, NULL);
    CXCompileCommands cmds = clang_CompilationDatabase_getCompileCommands(fe->db, abs ? abs : path);
    free(abs);
    int count = 0;
    if (clang_CompileCommands_getSize(cmds) > 0) {
        CXCompileCommand cmd = clang_CompileCommands_getCommand(cmds, 0);
        unsigned n = clang_CompileCommand_getNumArgs(cmd);
        char **args = calloc(n + 4, sizeof *args);
        char *dir = fe_strdup_cx(clang_CompileCommand_getDirectory(cmd));
        char *file = fe_strdup_cx(clang_CompileCommand_getFilename(cmd));
        if (args && dir) {
            /* relative -I paths are relative to the entry's directory */
            size_t dl = strlen(dir) + 20;
            args[count] = malloc(dl);
            if (args[count]) {
                snprintf(args[count], dl, "-working-directory=%s", dir);
                count++;
            }
        }
        for (unsigned i = 1; args && i < n; i++) {
            char *a = fe_strdup_cx(clang_CompileCommand_getArg(cmd, i));
            if (!a)
                continue;
            if (strcmp(a, "-o") == 0 || strcmp(a, "-MF") == 0 || strcmp(a, "-MT") == 0 ||
                strcmp(a, "-MQ") == 0) {
                free(a);
                i++;
                continue;
            }
            if (strcmp(a, "-c") == 0 || strcmp(a, "-MD") == 0 || strcmp(a, "-MMD") == 0 ||
                (file && strcmp(a, file) == 0) || strcmp(a, path) == 0) {
                free(a);
                continue;
            }
            args[count++] = a;
        }
        free(dir);
        free(file);
        *out = args;
    }
    clang_CompileCommands_dispose(cmds);
    return count;
}

typedef struct fe_scan {
    fe_tu *t;
    bool has_pyobject;
} fe_scan;

static enum CXChildVisitResult fe_scan_top(CXCursor c, CXCursor parent, CXClientData d)
{
    fe_scan *sc = d;
    fe_tu *t = sc->t;
    enum CXCursorKind k = clang_getCursorKind(c);
    if (k == CXCursor_TypedefDecl) {
        if (!sc->has_pyobject && fe_name_is(c, "PyObject"))
            sc->has_pyobject = true;
        return CXChildVisit_Continue;
    }
    CXSourceLocation loc = clang_getCursorLocation(c);
    if (!clang_Location_isFromMainFile(loc))
        return CXChildVisit_Continue;
    if (k == CXCursor_MacroExpansion) {
        unsigned s, e;
        CXSourceRange r = clang_getCursorExtent(c);
        if (!fe_fileloc(t, clang_getRangeStart(r), NULL, &s) ||
            !fe_fileloc(t, clang_getRangeEnd(r), NULL, &e))
            return CXChildVisit_Continue;
        if (t->nmacros > 0 && t->macros[t->nmacros - 1].end > s)
            return CXChildVisit_Continue;   /* nested in the previous use */
        if (t->nmacros == t->cap_macros) {
            int ncap = t->cap_macros ? t->cap_macros * 2 : 64;
            t->macros = pa_grow(&t->arena, t->macros, (size_t)t->nmacros, (size_t)ncap,
                                sizeof *t->macros);
            if (pa_failed(&t->arena))
                return CXChildVisit_Break;
            t->cap_macros = ncap;
        }
        fe_macro *m = &t->macros[t->nmacros++];
        m->start = s;
        m->end = e;
        CXString name = clang_getCursorSpelling(c);
        const char *np = clang_getCString(name);
        const fe_options *o = t->fe->opts;
        m->collapse = np && (fe_name_in(np, o->collapse_macros, o->ncollapse) ||
                             (o->is_api_macro && o->is_api_macro(o->is_api_macro_ctx, np)));
        m->name = pa_strdup(&t->arena, np ? np : "");
        clang_disposeString(name);
        return CXChildVisit_Continue;
    }
    if (k == CXCursor_FunctionDecl && clang_isCursorDefinition(c)) {
        if (t->nfuncs == t->cap_funcs) {
            int ncap = t->cap_funcs ? t->cap_funcs * 2 : 32;
            t->funcs = pa_grow(&t->arena, t->funcs, (size_t)t->nfuncs, (size_t)ncap, sizeof *t->funcs);
            if (pa_failed(&t->arena))
                return CXChildVisit_Break;
            t->cap_funcs = ncap;
        }
        t->funcs[t->nfuncs++] = c;
        return CXChildVisit_Continue;
    }
    if (k == CXCursor_VarDecl && clang_isCursorDefinition(c)) {
        if (t->nglobals == t->cap_globals) {
            int ncap = t->cap_globals ? t->cap_globals * 2 : 32;
            t->globals = pa_grow(&t->arena, t->globals, (size_t)t->nglobals, (size_t)ncap,
                                 sizeof *t->globals);
            if (pa_failed(&t->arena))
                return CXChildVisit_Break;
            t->cap_globals = ncap;
        }
        t->globals[t->nglobals++] = c;
    }
    return CXChildVisit_Continue;
}

static int fe_read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "is a directory");
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) {
        snprintf(err, errlen, "out of memory reading the file");
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* A file with NUL bytes or mostly non-text bytes is not C source. */
static bool fe_looks_binary(const char *s, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == 0)
            return true;
        if (ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t' && ch != '\f' && ch != '\v')
            bad++;
    }
    return n > 0 && bad * 20 > n;
}

/* The first error diagnostic, one line: "LINE:COL: message". */
static bool fe_first_error(fe_tu *t, char *err, size_t errlen)
{
    unsigned nd = clang_getNumDiagnostics(t->tu);
    for (unsigned i = 0; i < nd; i++) {
        CXDiagnostic d = clang_getDiagnostic(t->tu, i);
        enum CXDiagnosticSeverity sev = clang_getDiagnosticSeverity(d);
        if (sev >= CXDiagnostic_Error) {
            CXFile f = NULL;
            unsigned line = 0, col = 0;
            clang_getFileLocation(clang_getDiagnosticLocation(d), &f, &line, &col, NULL);
            CXString msg = clang_getDiagnosticSpelling(d);
            const char *m = clang_getCString(msg);
            char where[600] = "";
            if (f && !clang_File_isEqual(f, t->main_file)) {
                CXString fn = clang_getFileName(f);
                snprintf(where, sizeof where, " (in %s:%u)", clang_getCString(fn) ? clang_getCString(fn) : "?", line);
                clang_disposeString(fn);
                line = col = 0;
            }
            if (line)
                snprintf(err, errlen, "%u:%u: %s%s", line, col, m ? m : "error", where);
            else
                snprintf(err, errlen, "%s%s", m ? m : "error", where);
            clang_disposeString(msg);
            clang_disposeDiagnostic(d);
            /* keep it one line */
            for (char *p = err; *p; p++)
                if (*p == '\n' || *p == '\r')
                    *p = ' ';
            return true;
        }
        clang_disposeDiagnostic(d);
    }
    return false;
}

int fe_parse(fe_context *fe, const char *path, fe_tu **out, char *err, size_t errlen)
{
    *out = NULL;
    int rc = -1;
    char **dbargs = NULL;
    int ndb = 0;
    const char **args = NULL;
    fe_tu *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    t->fe = fe;
    pa_init(&t->arena, 0);
    t->path = pa_strdup(&t->arena, path);
    if (fe_read_file(path, &t->source, &t->source_len, err, errlen) != 0)
        goto done;
    if (fe_looks_binary(t->source, t->source_len)) {
        snprintf(err, errlen, "not a C source file (binary data)");
        goto done;
    }
    ndb = fe_db_args(fe, path, &dbargs);
    const fe_options *o = fe->opts;
    int cap = ndb + o->nargs + 8;
    args = calloc((size_t)cap, sizeof *args);
    if (!args) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    int na = 0;
    args[na++] = "-xc";
    if (ndb > 0) {
        for (int i = 0; i < ndb; i++)
            args[na++] = dbargs[i];
    } else {
        /* asserts stay: `assert(x != NULL)` tells the engine what holds */
        args[na++] = "-std=gnu11";
    }
    if (o->python_include && o->python_include[0]) {
        args[na++] = "-isystem";
        args[na++] = o->python_include;
    }
    for (int i = 0; i < o->nargs; i++)
        args[na++] = o->args[i];
    args[na++] = "-ferror-limit=1";
    unsigned flags = CXTranslationUnit_DetailedPreprocessingRecord |
                     CXTranslationUnit_IgnoreNonErrorsFromIncludedFiles;
    enum CXErrorCode ec = clang_parseTranslationUnit2(fe->index, path, args, na, NULL, 0, flags, &t->tu);
    if (ec != CXError_Success || !t->tu) {
        snprintf(err, errlen, "clang could not parse the file (libclang error %d)", (int)ec);
        goto done;
    }
    t->main_file = clang_getFile(t->tu, path);
    if (!t->main_file) {
        snprintf(err, errlen, "clang did not load the file");
        goto done;
    }
    if (fe_first_error(t, err, errlen))
        goto done;
    t->ncallee_slots = 256;
    t->callees = pa_alloc(&t->arena, t->ncallee_slots * sizeof *t->callees);
    t->nrec_slots = 64;
    t->recs = pa_alloc(&t->arena, t->nrec_slots * sizeof *t->recs);
    fe_scan sc = { t, false };
    clang_visitChildren(clang_getTranslationUnitCursor(t->tu), fe_scan_top, &sc);
    if (pa_failed(&t->arena)) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (!sc.has_pyobject) {
        rc = 1;
        goto done;
    }
    *out = t;
    t = NULL;
    rc = 0;
done:
    if (dbargs)
        fe_free_list(dbargs, ndb);
    free(args);
    if (t)
        fe_tu_free(t);
    return rc;
}

int fe_tu_func_count(const fe_tu *tu)
{
    return tu->nfuncs;
}

const char *fe_tu_func_name(const fe_tu *tu, int i)
{
    CXString s = clang_getCursorSpelling(tu->funcs[i]);
    const char *r = pa_strdup((pa_arena *)&tu->arena, clang_getCString(s));
    clang_disposeString(s);
    return r;
}

int fe_tu_find_func(const fe_tu *tu, const char *name)
{
    for (int i = 0; i < tu->nfuncs; i++)
        if (fe_name_is(tu->funcs[i], name))
            return i;
    return -1;
}

int fe_tu_func_is_static(const fe_tu *tu, int i)
{
    return clang_Cursor_getStorageClass(tu->funcs[i]) == CX_SC_Static;
}

static void fe_conv_init(fe_conv *cv, fe_tu *t, pa_arena *arena)
{
    memset(cv, 0, sizeof *cv);
    cv->t = t;
    cv->arena = arena;
    cv->nvmap = 64;
    cv->vmap = pa_alloc(arena, cv->nvmap * sizeof *cv->vmap);
}

ast_func *fe_tu_convert_func(fe_tu *t, int i, pa_arena *arena)
{
    CXCursor c = t->funcs[i];
    fe_conv cv;
    fe_conv_init(&cv, t, arena);
    ast_func *f = pa_alloc(arena, sizeof *f);
    cv.func = f;
    f->name = fe_intern_cx(arena, clang_getCursorSpelling(c));
    f->loc = fe_cursor_loc(t, c);
    CXSourceRange ext = clang_getCursorExtent(c);
    fe_fileloc(t, clang_getRangeEnd(ext), &f->end_loc, NULL);
    if (f->end_loc.col > 1)
        f->end_loc.col--;   /* point at the '}' itself */
    CXType fty = clang_getCursorType(c);
    CXType rty = clang_getResultType(fty);
    f->ret_ty = fe_classify(t, rty);
    f->ret_type_name = fe_type_name(arena, rty);
    f->is_static = clang_Cursor_getStorageClass(c) == CX_SC_Static;
    f->is_inline = clang_Cursor_isFunctionInlined(c) != 0;
    fe_callee *info = fe_callee_info(t, c);
    if (info) {
        f->is_noreturn = info->noreturn;
        if (info->annot)
            f->annot = *info->annot;
    }
    int np = clang_Cursor_getNumArguments(c);
    if (np < 0)
        np = 0;
    f->params = pa_alloc(arena, (size_t)(np ? np : 1) * sizeof *f->params);
    for (int k = 0; k < np && !pa_failed(arena); k++)
        f->params[k] = fe_make_var(&cv, clang_Cursor_getArgument(c, (unsigned)k), VAR_PARAM);
    f->nparams = np;
    fe_kids ks = fe_children(arena, c);
    for (int k = 0; k < ks.n; k++) {
        if (clang_getCursorKind(ks.v[k]) == CXCursor_CompoundStmt) {
            f->body = fe_stmt(&cv, ks.v[k]);
            break;
        }
    }
    if (!f->body) {
        f->body = pa_alloc(arena, sizeof *f->body);
        f->body->kind = AS_COMPOUND;
    }
    f->vars = cv.vars;
    f->nvars = cv.nvars;
    f->too_deep = cv.too_deep;
    return pa_failed(arena) ? NULL : f;
}

int fe_tu_globals(fe_tu *t, pa_arena *arena, ast_global **out)
{
    fe_conv cv;
    fe_conv_init(&cv, t, arena);
    ast_global *g = pa_alloc(arena, (size_t)(t->nglobals ? t->nglobals : 1) * sizeof *g);
    int n = 0;
    for (int i = 0; i < t->nglobals && !pa_failed(arena); i++) {
        CXCursor c = t->globals[i];
        int cnt = 0;
        CXCursor init = fe_last_expr_child(&cv, c, &cnt);
        ast_var *v = fe_make_var(&cv, c, VAR_GLOBAL);
        g[n].var = v;
        g[n].type_name = v->type_name;
        g[n].init = cnt >= 1 ? fe_expr(&cv, init) : NULL;
        n++;
    }
    *out = g;
    return n;
}

int fe_tu_source_line(const fe_tu *tu, unsigned line, char *buf, size_t len)
{
    if (line == 0 || len == 0)
        return -1;
    const char *p = tu->source, *end = tu->source + tu->source_len;
    for (unsigned l = 1; l < line; l++) {
        p = memchr(p, '\n', (size_t)(end - p));
        if (!p)
            return -1;
        p++;
    }
    const char *e = memchr(p, '\n', (size_t)(end - p));
    if (!e)
        e = end;
    size_t n = (size_t)(e - p);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    if (n >= len)
        n = len - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return 0;
}

const char *fe_tu_path(const fe_tu *tu)
{
    return tu->path;
}

void fe_tu_free(fe_tu *t)
{
    if (!t)
        return;
    if (t->tu)
        clang_disposeTranslationUnit(t->tu);
    free(t->source);
    pa_release(&t->arena);
    free(t);
}
