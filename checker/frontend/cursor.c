/* cursor.c - libclang cursor helpers for the frontend: file locations,
 * macro uses, children, type classification (is this a Python object?),
 * pyrefcheck annotations and callee facts, and the function's variables. */
#include "fe_internal.h"

/* ------------------------------------------------------------------ */
/* small helpers                                                      */

const char *fe_intern_cx(pa_arena *a, CXString s)
{
    const char *c = clang_getCString(s);
    const char *r = pa_strdup(a, c ? c : "");
    clang_disposeString(s);
    return r;
}

bool fe_name_is(CXCursor c, const char *name)
{
    CXString s = clang_getCursorSpelling(c);
    const char *p = clang_getCString(s);
    bool eq = p && strcmp(p, name) == 0;
    clang_disposeString(s);
    return eq;
}

/* File location of a source location: line, column and offset in the
 * user's file. Returns whether it lies in the main file. */
bool fe_fileloc(fe_tu *t, CXSourceLocation l, src_loc *out, unsigned *offset)
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

src_loc fe_cursor_loc(fe_tu *t, CXCursor c)
{
    src_loc l;
    fe_fileloc(t, clang_getCursorLocation(c), &l, NULL);
    return l;
}

/* Offsets of a cursor's extent in the main file (file locations). */
bool fe_cursor_span(fe_tu *t, CXCursor c, unsigned *start, unsigned *end)
{
    CXSourceRange r = clang_getCursorExtent(c);
    bool a = fe_fileloc(t, clang_getRangeStart(r), NULL, start);
    bool b = fe_fileloc(t, clang_getRangeEnd(r), NULL, end);
    return a && b;
}

/* The outermost macro use covering offset, or NULL. */
fe_macro *fe_macro_at(fe_tu *t, unsigned off)
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

const char *fe_macro_name_of(fe_tu *t, CXCursor c)
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

fe_kids fe_children(pa_arena *a, CXCursor c)
{
    fe_kids k = { .a = a };
    clang_visitChildren(c, fe_collect, &k);
    return k;
}

bool fe_is_expr_kind(enum CXCursorKind k)
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

ty_class fe_classify(fe_tu *t, CXType ty)
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

const char *fe_type_name(pa_arena *a, CXType ty)
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

bool fe_name_in(const char *name, const char *const *list, int n)
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

fe_callee *fe_callee_info(fe_tu *t, CXCursor decl)
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

void fe_var_insert(fe_conv *cv, CXCursor decl, ast_var *v)
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

ast_var *fe_make_var(fe_conv *cv, CXCursor decl, var_kind kind)
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

ast_var *fe_var_for_decl(fe_conv *cv, CXCursor decl)
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

