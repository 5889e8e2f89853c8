/* decls.c - looks up file-scope declarations by name: typedefs (for
 * canonical types), macro definitions (for integer constants such as
 * METH_O) and function declarations (for signatures of functions only
 * declared in the file).  The index is built on first use from the
 * translation unit's top-level cursors and lives as long as the tu. */
#include "fe_internal.h"

#include <ctype.h>

typedef enum fe_decl_kind { FD_TYPEDEF, FD_MACRO, FD_FUNC } fe_decl_kind;

struct fe_decl {
    const char *name;
    fe_decl_kind kind;
    CXCursor cursor;
    const char *canon;      /* FD_TYPEDEF: canonical spelling, filled on first lookup */
    int order;              /* position in the translation unit */
};

typedef struct fe_declscan {
    fe_tu *t;
    int cap;
} fe_declscan;

static enum CXChildVisitResult fe_decl_cb(CXCursor c, CXCursor parent, CXClientData d)
{
    (void)parent;
    fe_declscan *sc = d;
    fe_tu *t = sc->t;
    enum CXCursorKind k = clang_getCursorKind(c);
    fe_decl_kind dk;
    if (k == CXCursor_TypedefDecl)
        dk = FD_TYPEDEF;
    else if (k == CXCursor_MacroDefinition)
        dk = FD_MACRO;
    else if (k == CXCursor_FunctionDecl)
        dk = FD_FUNC;
    else
        return CXChildVisit_Continue;
    if (t->ndecls == sc->cap) {
        int ncap = sc->cap ? sc->cap * 2 : 1024;
        t->decls = pa_grow(&t->arena, t->decls, (size_t)t->ndecls, (size_t)ncap, sizeof *t->decls);
        if (pa_failed(&t->arena))
            return CXChildVisit_Break;
        sc->cap = ncap;
    }
    struct fe_decl *e = &t->decls[t->ndecls++];
    e->name = fe_intern_cx(&t->arena, clang_getCursorSpelling(c));
    e->kind = dk;
    e->cursor = c;
    e->canon = NULL;
    e->order = t->ndecls - 1;
    return CXChildVisit_Continue;
}

static int fe_decl_cmp(const void *a, const void *b)
{
    const struct fe_decl *x = a, *y = b;
    int r = strcmp(x->name, y->name);
    if (r)
        return r;
    if (x->kind != y->kind)
        return (int)x->kind - (int)y->kind;
    /* keep the first declaration of a name first */
    return x->order - y->order;
}

/* The first declaration of kind dk called name, or NULL. */
static struct fe_decl *fe_decl_find(fe_tu *t, const char *name, fe_decl_kind dk)
{
    if (!t->decls_built) {
        t->decls_built = true;
        fe_declscan sc = { t, 0 };
        clang_visitChildren(clang_getTranslationUnitCursor(t->tu), fe_decl_cb, &sc);
        if (pa_failed(&t->arena)) {
            t->ndecls = 0;
            return NULL;
        }
        if (t->ndecls > 1)
            qsort(t->decls, (size_t)t->ndecls, sizeof *t->decls, fe_decl_cmp);
    }
    int lo = 0, hi = t->ndecls;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        int r = strcmp(t->decls[mid].name, name);
        if (r == 0)
            r = (int)t->decls[mid].kind - (int)dk;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < t->ndecls && t->decls[lo].kind == dk && strcmp(t->decls[lo].name, name) == 0)
        return &t->decls[lo];
    return NULL;
}

/* Whether every word of s is a builtin type word. */
static bool fe_is_builtin_type(const char *s)
{
    static const char *const words[] = {
        "void", "char", "short", "int", "long", "signed", "unsigned", "float", "double", "_Bool",
    };
    bool any = false;
    while (*s) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        size_t n = 0;
        while (s[n] && s[n] != ' ')
            n++;
        bool ok = false;
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
            if (strlen(words[i]) == n && strncmp(words[i], s, n) == 0)
                ok = true;
        if (!ok)
            return false;
        any = true;
        s += n;
    }
    return any;
}

const char *fe_tu_type_canonical(fe_tu *t, const char *name)
{
    if (!name)
        return NULL;
    if (fe_is_builtin_type(name))
        return name;
    const char *lookup = name;
    if (strncmp(name, "struct ", 7) == 0)
        return name;    /* a tag: its canonical spelling is itself */
    struct fe_decl *d = fe_decl_find(t, lookup, FD_TYPEDEF);
    if (!d)
        return NULL;
    if (!d->canon) {
        CXType ty = clang_getCanonicalType(clang_getTypedefDeclUnderlyingType(d->cursor));
        d->canon = fe_intern_cx(&t->arena, clang_getTypeSpelling(ty));
    }
    return d->canon;
}

int fe_tu_macro_int(fe_tu *t, const char *name, long long *value)
{
    struct fe_decl *d = fe_decl_find(t, name, FD_MACRO);
    if (!d || clang_Cursor_isMacroFunctionLike(d->cursor))
        return -1;
    CXToken *toks = NULL;
    unsigned n = 0;
    clang_tokenize(t->tu, clang_getCursorExtent(d->cursor), &toks, &n);
    /* tokens: NAME, then the body: LITERAL or ( LITERAL ) */
    int rc = -1;
    unsigned first = 1, last = n;
    while (last > first + 2) {
        CXString a = clang_getTokenSpelling(t->tu, toks[first]);
        CXString b = clang_getTokenSpelling(t->tu, toks[last - 1]);
        bool paren = strcmp(clang_getCString(a), "(") == 0 && strcmp(clang_getCString(b), ")") == 0;
        clang_disposeString(a);
        clang_disposeString(b);
        if (!paren)
            break;
        first++;
        last--;
    }
    if (last == first + 1 && clang_getTokenKind(toks[first]) == CXToken_Literal) {
        CXString s = clang_getTokenSpelling(t->tu, toks[first]);
        const char *p = clang_getCString(s);
        if (p && isdigit((unsigned char)p[0])) {
            char *end = NULL;
            errno = 0;
            long long v = strtoll(p, &end, 0);
            while (end && (*end == 'u' || *end == 'U' || *end == 'l' || *end == 'L'))
                end++;
            if (errno == 0 && end && *end == '\0') {
                *value = v;
                rc = 0;
            }
        }
        clang_disposeString(s);
    }
    clang_disposeTokens(t->tu, toks, n);
    return rc;
}

int fe_tu_func_signature(fe_tu *t, const char *name, pa_arena *arena, fe_sig *out)
{
    memset(out, 0, sizeof *out);
    struct fe_decl *d = fe_decl_find(t, name, FD_FUNC);
    if (!d)
        return -1;
    CXType ty = clang_getCursorType(d->cursor);
    CXType res = clang_getResultType(ty);
    out->ret = fe_intern_cx(arena, clang_getTypeSpelling(clang_getCanonicalType(res)));
    out->ret_ty = fe_classify(t, res);
    out->loc = fe_cursor_loc(t, d->cursor);
    if (clang_getCanonicalType(ty).kind == CXType_FunctionNoProto) {
        out->nparams = -1;
        return pa_failed(arena) ? -1 : 0;
    }
    int n = clang_getNumArgTypes(ty);
    if (n < 0)
        n = 0;
    out->nparams = n;
    out->variadic = clang_isFunctionTypeVariadic(ty) != 0;
    out->params = pa_alloc(arena, (size_t)(n ? n : 1) * sizeof *out->params);
    out->param_ty = pa_alloc(arena, (size_t)(n ? n : 1) * sizeof *out->param_ty);
    for (int i = 0; i < n && !pa_failed(arena); i++) {
        CXType at = clang_getArgType(ty, (unsigned)i);
        out->params[i] = fe_intern_cx(arena, clang_getTypeSpelling(clang_getCanonicalType(at)));
        out->param_ty[i] = fe_classify(t, at);
    }
    return pa_failed(arena) ? -1 : 0;
}
