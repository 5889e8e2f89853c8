/* va_shape.c - how the interpreter would call each function of a file: its
 * calling convention (method-table flags, type slots, getset entries, or
 * plain parameters), the type object its self belongs to, and a few
 * argument choices read from its PyArg_Parse* format string.  Reads only
 * pyrefcheck's syntax tree (through the frontend). */
#include "va_internal.h"

#include <stdlib.h>
#include <string.h>

/* Method flags, as CPython's methodobject.h defines them (a stable ABI). */
enum {
    VA_METH_VARARGS = 0x1, VA_METH_KEYWORDS = 0x2, VA_METH_NOARGS = 0x4, VA_METH_O = 0x8,
    VA_METH_CLASS = 0x10, VA_METH_STATIC = 0x20, VA_METH_FASTCALL = 0x80, VA_METH_METHOD = 0x200,
};

/* The argument kind that satisfies "O!" with a given built-in type object. */
static const struct {
    const char *type_var;
    const char *kind;
} va_type_kinds[] = {
    { "PyLong_Type", "int" },   { "PyFloat_Type", "float" }, { "PyUnicode_Type", "str" },
    { "PyBytes_Type", "bytes" }, { "PyTuple_Type", "tuple2" }, { "PyList_Type", "list" },
    { "PyDict_Type", "dict" },  { "PySet_Type", "set" },     { "PyType_Type", "type" },
    { "PyBaseObject_Type", "object" },
};

/* What the file-scope initializers say about one function. */
typedef struct va_ref {
    const char *func;
    long flags;             /* method flags, or -1 */
    const char *slot;       /* slot or field name ("tp_new", "get", "set"), or NULL */
    const char *table;      /* the global whose initializer names it */
} va_ref;

/* A type: a static PyTypeObject, or a PyType_Spec made into a heap type. */
typedef struct va_type {
    const char *global;     /* variable name */
    bool spec;              /* PyType_Spec (heap type made by the harness) */
    const char **names;     /* globals and functions its initializer names */
    int nnames;
    const char *basicsize;  /* source line of tp_basicsize / .basicsize, or NULL */
} va_type;

typedef struct va_scan {
    pa_arena *a;
    const kb *k;
    fe_tu *tu;
    va_ref *refs;
    int nrefs;
    va_type *types;
    int ntypes;
    const ast_global *g;
} va_scan;

static const ast_expr *va_strip(const ast_expr *e)
{
    while (e && (e->kind == AX_CAST || e->kind == AX_ADDR) && e->nkids == 1)
        e = e->kids[0];
    return e;
}

/* Constant value of a flags expression (METH_VARARGS | METH_KEYWORDS). */
static long va_const(const ast_expr *e)
{
    e = va_strip(e);
    if (!e)
        return -1;
    if (e->kind == AX_INT)
        return (long)e->ival;
    if (e->kind == AX_BINARY && e->nkids == 2) {
        long a = va_const(e->kids[0]), b = va_const(e->kids[1]);
        if (a < 0 || b < 0)
            return -1;
        if (e->op == AO_OR || e->op == AO_ADD)
            return a | b;
    }
    return -1;
}

static bool va_starts(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void va_add_ref(va_scan *sc, const char *func, long flags, const char *slot)
{
    for (int i = 0; i < sc->nrefs; i++)
        if (strcmp(sc->refs[i].func, func) == 0) {
            if (flags >= 0 && sc->refs[i].flags < 0)
                sc->refs[i].flags = flags;
            if (slot && !sc->refs[i].slot)
                sc->refs[i].slot = slot;
            return;
        }
    sc->refs = pa_grow(sc->a, sc->refs, (size_t)sc->nrefs, (size_t)sc->nrefs + 1, sizeof *sc->refs);
    if (pa_failed(sc->a))
        return;
    sc->refs[sc->nrefs++] = (va_ref){ func, flags, slot, sc->g->var->name };
}

static void va_type_name_add(va_scan *sc, va_type *t, const char *name)
{
    t->names = pa_grow(sc->a, t->names, (size_t)t->nnames, (size_t)t->nnames + 1, sizeof *t->names);
    if (!pa_failed(sc->a))
        t->names[t->nnames++] = name;
}

/* Every function and global named anywhere in e, for type t. */
static void va_collect_names(va_scan *sc, va_type *t, const ast_expr *e, int depth)
{
    if (!e || depth > 50)
        return;
    const ast_expr *v = va_strip(e);
    if (v->kind == AX_FUNC && v->name)
        va_type_name_add(sc, t, v->name);
    else if (v->kind == AX_VAR && v->var && v->var->name)
        va_type_name_add(sc, t, v->var->name);
    for (int i = 0; i < v->nkids; i++)
        va_collect_names(sc, t, v->kids[i], depth + 1);
    if (v != e)
        for (int i = 0; i < e->nkids; i++)
            if (e->kids[i] != v)
                va_collect_names(sc, t, e->kids[i], depth + 1);
}

/* Kid of an initializer list by designator or position. */
static const ast_expr *va_kid(const ast_expr *list, const char *field, int pos)
{
    for (int i = 0; i < list->nkids; i++)
        if (list->kid_names && list->kid_names[i] && strcmp(list->kid_names[i], field) == 0)
            return list->kids[i];
    if (pos < list->nkids && (!list->kid_names || !list->kid_names[pos]))
        return list->kids[pos];
    return NULL;
}

static const char *va_func_name(const ast_expr *e)
{
    e = va_strip(e);
    return e && e->kind == AX_FUNC ? e->name : NULL;
}

/* Walks an initializer, recording functions with their convention. */
static void va_walk(va_scan *sc, const ast_expr *e, const char *field, int depth)
{
    if (!e || depth > 50)
        return;
    const char *tn = sc->g->type_name ? sc->g->type_name : "";
    if (e->kind == AX_INIT_LIST) {
        if (va_starts(tn, "PyMethodDef")) {
            const char *fn = va_func_name(va_kid(e, "ml_meth", 1));
            if (fn) {
                va_add_ref(sc, fn, va_const(va_kid(e, "ml_flags", 2)), NULL);
                return;
            }
        } else if (va_starts(tn, "PyGetSetDef")) {
            const char *get = va_func_name(va_kid(e, "get", 1));
            const char *set = va_func_name(va_kid(e, "set", 2));
            if (get)
                va_add_ref(sc, get, -1, "get");
            if (set)
                va_add_ref(sc, set, -1, "set");
            if (get || set)
                return;
        }
        /* {Py_tp_new, f}: the slot id names the field */
        if (e->nkids == 2 && e->kids[0]->kind == AX_INT && e->kids[0]->macro) {
            const char *fn = va_func_name(e->kids[1]);
            const char *slot = e->kids[0]->macro;
            if (fn) {
                va_add_ref(sc, fn, -1, va_starts(slot, "Py_") ? slot + 3 : slot);
                return;
            }
        }
        for (int i = 0; i < e->nkids; i++)
            va_walk(sc, e->kids[i], e->kid_names && e->kid_names[i] ? e->kid_names[i] : NULL,
                    depth + 1);
        return;
    }
    const char *fn = va_func_name(e);
    if (fn) {
        va_add_ref(sc, fn, -1, field);
        return;
    }
    for (int i = 0; i < e->nkids; i++)
        va_walk(sc, e->kids[i], NULL, depth + 1);
}

static void va_note_type(va_scan *sc, const ast_global *g, bool spec)
{
    sc->types = pa_grow(sc->a, sc->types, (size_t)sc->ntypes, (size_t)sc->ntypes + 1, sizeof *sc->types);
    if (pa_failed(sc->a))
        return;
    va_type *t = &sc->types[sc->ntypes++];
    memset(t, 0, sizeof *t);
    t->global = g->var->name;
    t->spec = spec;
    va_collect_names(sc, t, g->init, 0);
    if (g->init && g->init->kind == AX_INIT_LIST) {
        const ast_expr *bs = va_kid(g->init, spec ? "basicsize" : "tp_basicsize", spec ? 1 : 99);
        char line[512];
        if (bs && bs->loc.line && fe_tu_source_line(sc->tu, bs->loc.line, line, sizeof line) == 0)
            t->basicsize = pa_strdup(sc->a, line);
    }
}

static bool va_type_names(const va_type *t, const char *name)
{
    for (int i = 0; i < t->nnames; i++)
        if (strcmp(t->names[i], name) == 0)
            return true;
    return false;
}

/* The harness expression for type t. */
static const char *va_type_expr(va_scan *sc, const va_type *t)
{
    return t->spec ? pa_printf(sc->a, "vah_from_spec(&%s)", t->global)
                   : pa_printf(sc->a, "(&%s)", t->global);
}

/* The type a function belongs to: named by the type (directly or through
 * one of its tables, one level of spec slots array included). */
static const va_type *va_type_of_func(va_scan *sc, const char *fn, const char *table)
{
    for (int i = 0; i < sc->ntypes; i++) {
        const va_type *t = &sc->types[i];
        if (va_type_names(t, fn) || (table && va_type_names(t, table)))
            return t;
    }
    /* PyType_Spec -> slots array -> tables: follow one more level */
    for (int i = 0; i < sc->ntypes; i++) {
        const va_type *t = &sc->types[i];
        for (int k = 0; k < t->nnames; k++)
            for (int r = 0; r < sc->nrefs; r++)
                if (strcmp(sc->refs[r].table, t->names[k]) == 0 &&
                    (strcmp(sc->refs[r].func, fn) == 0 ||
                     (table && strcmp(sc->refs[r].func, table) == 0)))
                    return t;
    }
    return NULL;
}

/* The role rules/ give the type named by a declaration's type spelling
 * ("const PyTypeObject *" -> decl:PyTypeObject), or "". */
static const char *va_decl_role(const kb *k, const char *type_name)
{
    const char *s = type_name ? type_name : "";
    for (bool again = true; again;) {
        again = false;
        if (va_starts(s, "const "))
            s += 6, again = true;
        if (va_starts(s, "struct "))
            s += 7, again = true;
    }
    char name[256];
    size_t n = strcspn(s, " *[");
    if (n == 0 || n >= sizeof name)
        return "";
    memcpy(name, s, n);
    name[n] = 0;
    const char *r = kb_decl_role(k, name);
    return r ? r : "";
}

/* The type whose basic size names the struct of a "FooObject *" parameter. */
static const va_type *va_type_of_struct(va_scan *sc, const char *type_name)
{
    if (!type_name)
        return NULL;
    char name[256];
    const char *s = type_name;
    if (va_starts(s, "struct "))
        s += 7;
    size_t n = strcspn(s, " *");
    if (n == 0 || n >= sizeof name)
        return NULL;
    memcpy(name, s, n);
    name[n] = 0;
    if (strcmp(va_decl_role(sc->k, name), "object") == 0)
        return NULL;
    for (int i = 0; i < sc->ntypes; i++) {
        const char *bs = sc->types[i].basicsize;
        const char *hit = bs ? strstr(bs, name) : NULL;
        if (hit && (hit == bs || !(hit[-1] == '_' || (hit[-1] >= 'A' && hit[-1] <= 'Z') ||
                                   (hit[-1] >= 'a' && hit[-1] <= 'z') || (hit[-1] >= '0' && hit[-1] <= '9'))))
            return &sc->types[i];
    }
    return NULL;
}

/* ---- argument choices from a PyArg_Parse* format ----------------------- */

typedef struct va_fmt_call {
    const char *format;
    const ast_expr *call;
    int first_arg;          /* kid index of the first C argument after the format */
} va_fmt_call;

static bool va_find_fmt_expr(const kb *k, const ast_expr *e, va_fmt_call *out, int depth);

static bool va_find_fmt_stmt(const kb *k, const ast_stmt *s, va_fmt_call *out, int depth)
{
    if (!s || depth > 300)
        return false;
    if (va_find_fmt_expr(k, s->expr, out, depth) || va_find_fmt_expr(k, s->expr2, out, depth))
        return true;
    for (int i = 0; i < s->nkids; i++)
        if (va_find_fmt_stmt(k, s->kids[i], out, depth + 1))
            return true;
    return false;
}

static bool va_find_fmt_expr(const kb *k, const ast_expr *e, va_fmt_call *out, int depth)
{
    if (!e || depth > 300)
        return false;
    if ((e->kind == AX_CALL || e->kind == AX_MACRO) && e->name && k) {
        const kb_entry *ke = kb_lookup(k, e->name);
        int first = e->kind == AX_CALL ? 1 : 0;
        if (ke && (ke->fmt == KB_FMT_PARSE || ke->fmt == KB_FMT_PARSE_KW) && ke->fmt_arg >= 0 &&
            first + ke->fmt_arg < e->nkids) {
            const ast_expr *f = va_strip(e->kids[first + ke->fmt_arg]);
            if (f && f->kind == AX_STRING && f->str) {
                out->format = f->str;
                out->call = e;
                out->first_arg = first + ke->fmt_arg + (ke->fmt == KB_FMT_PARSE_KW ? 2 : 1);
                return true;
            }
        }
    }
    for (int i = 0; i < e->nkids; i++)
        if (va_find_fmt_expr(k, e->kids[i], out, depth + 1))
            return true;
    if (e->kind == AX_STMT_EXPR)
        return va_find_fmt_stmt(k, e->stmt, out, depth + 1);
    return false;
}

static const char *va_kind_for_type_arg(const ast_expr *e)
{
    e = va_strip(e);
    const char *name = e && e->kind == AX_VAR && e->var ? e->var->name : NULL;
    for (size_t i = 0; name && i < sizeof va_type_kinds / sizeof *va_type_kinds; i++)
        if (strcmp(va_type_kinds[i].type_var, name) == 0)
            return va_type_kinds[i].kind;
    return "object";
}

static void va_add_choice(va_func *f, const char *const *kinds, int n)
{
    if (f->nchoices >= VA_MAX_CHOICES || n > VA_MAX_KINDS)
        return;
    for (int c = 0; c < f->nchoices; c++) {
        if (f->nkinds[c] != n)
            continue;
        int k = 0;
        while (k < n && strcmp(f->kinds[c][k], kinds[k]) == 0)
            k++;
        if (k == n)
            return;
    }
    for (int k = 0; k < n; k++)
        f->kinds[f->nchoices][k] = kinds[k];
    f->nkinds[f->nchoices++] = n;
}

/* Choices from a format: every unit with its first preference (O an int,
 * integers 1), then with the others (O the str "key" - the key of the
 * "dict" kind -, a probe, a list, an empty tuple; integers negative,
 * large), and the required units only. */
static bool va_choices_from_format(va_func *f, const kb *k, const va_fmt_call *fc)
{
    kb_fmt_unit units[32];
    char err[128];
    int n = kb_format_units_in(k, KB_FMT_PARSE_KW, fc->format, units, 32, err, sizeof err);
    if (n < 0)
        return false;
    enum { NPREF = 5 };
    const char *pref[NPREF][VA_MAX_KINDS];
    int np = 0, required = -1, carg = fc->first_arg, depth = 0;
    for (int i = 0; i < n && np < VA_MAX_KINDS; i++) {
        const char *c = units[i].code;
        const char *kinds[NPREF] = { NULL };
        if (c[0] == '|') {
            if (required < 0)
                required = np;
        } else if (c[0] == '$') {
            break;
        } else if (c[0] == '(') {
            if (depth++ == 0)
                kinds[0] = kinds[1] = kinds[2] = kinds[3] = kinds[4] = "tuple2";
        } else if (c[0] == ')') {
            depth--;
        } else if (depth > 0) {
            /* inside a nested tuple: consumed by the tuple argument */
        } else if (strcmp(c, "O!") == 0) {
            const char *t = carg < fc->call->nkids ? va_kind_for_type_arg(fc->call->kids[carg]) : "object";
            kinds[0] = kinds[1] = kinds[2] = kinds[3] = kinds[4] = t;
            if (strcmp(t, "tuple2") == 0)
                kinds[3] = "tuple0";
        } else if (c[0] == 'O' && c[1] == '&') {
            kinds[0] = kinds[1] = kinds[2] = kinds[3] = kinds[4] = "int";
        } else if (c[0] == 'O') {
            kinds[0] = "int", kinds[1] = "key", kinds[2] = "list", kinds[3] = "tuple0";
            kinds[4] = "probe";
        } else if (strchr("szUes", c[0]) && c[0] != 'S') {
            kinds[0] = kinds[2] = kinds[3] = kinds[4] = "str";
            kinds[1] = "key";
        } else if (c[0] == 'y' || c[0] == 'S' || c[0] == 'c' || c[0] == 'w' || c[0] == 'Y') {
            kinds[0] = kinds[1] = kinds[2] = kinds[3] = kinds[4] = "bytes";
        } else if (strchr("fdD", c[0])) {
            kinds[0] = kinds[1] = kinds[2] = kinds[3] = kinds[4] = "float";
        } else {
            kinds[0] = "int1", kinds[1] = "neg-int", kinds[2] = "int", kinds[3] = "int1";
            kinds[4] = "int1";
        }
        if (kinds[0]) {
            for (int p = 0; p < NPREF; p++)
                pref[p][np] = kinds[p];
            np++;
        }
        carg += units[i].nargs;
    }
    va_add_choice(f, pref[0], np);
    va_add_choice(f, pref[1], np);
    if (required >= 0)
        va_add_choice(f, pref[0], required);
    va_add_choice(f, pref[4], np);
    va_add_choice(f, pref[2], np);
    va_add_choice(f, pref[3], np);
    if (required >= 0)
        va_add_choice(f, pref[1], required);
    return true;
}

/* Choices without a format: a few kinds for every object argument (for a
 * setter or an assignment slot, also NULL: deletion). */
static void va_default_choices(va_func *f, int nobj, bool tuple, bool deletes)
{
    /* after the plain values: a negative int (-1), an iterator of fresh objects
     * nothing else holds (a use after its items die shows), a callable
     * returning fresh objects, a fresh module (module-init helpers),
     * probes: objects whose calls, items and attributes (probes, ints or
     * populated dicts) are fresh objects, a str beyond usual length limits,
     * and containers of other sizes (an index past a checked length, an
     * empty list) */
    static const char *const kinds[] = { "int", "str", "list", "dict", "tuple0", "type", "none",
                                         "neg-int", "gen", "callable", "module", "probe",
                                         "probe-int", "probe-dict", "str-long", "tuple2",
                                         "list0" };
    const char *v[VA_MAX_KINDS];
    if (tuple) {
        va_add_choice(f, v, 0);
        for (int i = 0; i < 2; i++) {
            v[0] = v[1] = kinds[i];
            va_add_choice(f, v, 1);
        }
        v[0] = v[1] = "int";
        va_add_choice(f, v, 2);
        return;
    }
    if (nobj > VA_MAX_KINDS)
        nobj = VA_MAX_KINDS;
    if (deletes && nobj > 0) {
        for (int k = 0; k < nobj; k++)
            v[k] = k + 1 < nobj ? "int1" : "null";
        va_add_choice(f, v, nobj);
    }
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        for (int k = 0; k < nobj; k++)
            v[k] = kinds[i];
        va_add_choice(f, v, nobj);
    }
}

/* ---- set-up flags ------------------------------------------------------ */

static void va_note_field(va_scan *sc, va_func *f, const char *name)
{
    for (int i = 0; i < f->nfields; i++)
        if (strcmp(f->self_fields[i], name) == 0)
            return;
    if (f->nfields < VA_MAX_FIELDS)
        f->self_fields[f->nfields++] = pa_strdup(sc->a, name);
}

static void va_fields_stmt(va_scan *sc, const ast_var *self, va_func *f, const ast_stmt *st, int depth);

/* Object fields read through self-> in e. */
static void va_fields_expr(va_scan *sc, const ast_var *self, va_func *f, const ast_expr *e, int depth)
{
    if (!e || depth > 300)
        return;
    if (e->kind == AX_MEMBER && e->op == 1 && e->ty == TY_OBJ && e->name && e->nkids == 1) {
        const ast_expr *b = e->kids[0];
        while (b && b->kind == AX_CAST && b->nkids == 1)
            b = b->kids[0];
        if (b && b->kind == AX_VAR && b->var == self)
            va_note_field(sc, f, e->name);
    }
    for (int i = 0; i < e->nkids; i++)
        va_fields_expr(sc, self, f, e->kids[i], depth + 1);
    if (e->kind == AX_STMT_EXPR)
        va_fields_stmt(sc, self, f, e->stmt, depth + 1);
}

static void va_fields_stmt(va_scan *sc, const ast_var *self, va_func *f, const ast_stmt *st, int depth)
{
    if (!st || depth > 300)
        return;
    va_fields_expr(sc, self, f, st->expr, depth);
    va_fields_expr(sc, self, f, st->expr2, depth);
    for (int i = 0; i < st->nkids; i++)
        va_fields_stmt(sc, self, f, st->kids[i], depth + 1);
}

/* self's declared C type, when it names the file's own struct (not
 * PyObject *: the harness casts to it to fill fields), and the object
 * fields the function reads through it. */
static void va_self_fields(va_scan *sc, const ast_func *fa, va_func *f)
{
    const ast_var *self = fa->params[0];
    const char *tn = self->type_name;
    if (!tn || !strchr(tn, '*') || va_type_of_struct(sc, tn) == NULL)
        return;
    va_fields_stmt(sc, self, f, fa->body, 0);
    if (f->nfields > 0)
        f->self_ctype = pa_strdup(sc->a, tn);
}

/* Prepends flag to a copy of choice c, as a new choice. */
static void va_flagged(va_func *f, int c, const char *flag)
{
    if (c >= f->nchoices || f->nkinds[c] + 1 > VA_MAX_KINDS)
        return;
    const char *v[VA_MAX_KINDS];
    v[0] = flag;
    for (int k = 0; k < f->nkinds[c]; k++)
        v[k + 1] = f->kinds[c][k];
    va_add_choice(f, v, f->nkinds[c] + 1);
}

/* The set-up variants: a method whose self has object fields also runs
 * with them filled; a helper no table names (it may be called while an
 * error is being handled) also runs with an exception pending, with its
 * first arguments and with probes. */
static void va_flag_choices(va_func *f)
{
    int n = f->nchoices;
    int first = 0;              /* the first choice that deletes nothing */
    for (bool null = true; null && first < n; first += null) {
        null = false;
        for (int k = 0; k < f->nkinds[first]; k++)
            null = null || strcmp(f->kinds[first][k], "null") == 0;
    }
    if (f->self_ctype && first < n)
        va_flagged(f, first, "+fill");
    if (!f->callable && n > 0) {
        va_flagged(f, 0, "+exc");
        for (int c = 1; c < n; c++)
            if (f->nkinds[c] > 0 && strcmp(f->kinds[c][0], "probe") == 0) {
                va_flagged(f, c, "+exc");
                break;
            }
    }
}

/* ---- roles ------------------------------------------------------------- */

static void va_set_roles(va_func *f, const va_role *roles, int n)
{
    for (int i = 0; i < n && i < f->nparams; i++)
        f->roles[i] = roles[i];
}

/* The shape of function fa, given what the initializers say about it. */
static void va_shape_func(va_scan *sc, const kb *k, const ast_func *fa, va_func *f)
{
    f->name = fa->name;
    f->line = fa->loc.line;
    f->end_line = fa->end_loc.line;
    f->nparams = fa->nparams;
    f->ret = fa->ret_ty == TY_OBJ ? 0 : fa->ret_ty == TY_INT ? 1 : 2;
    if (fa->nparams > VA_MAX_PARAMS) {
        f->unsupported = "more than 8 parameters";
        return;
    }
    const va_ref *ref = NULL;
    for (int i = 0; i < sc->nrefs; i++)
        if (strcmp(sc->refs[i].func, fa->name) == 0)
            ref = &sc->refs[i];
    f->callable = ref != NULL;
    f->slot = ref && ref->slot ? ref->slot : NULL;
    const va_type *t = ref ? va_type_of_func(sc, fa->name, ref->table) : NULL;
    if (!t && fa->nparams > 0)
        t = va_type_of_struct(sc, fa->params[0]->type_name);
    if (t) {
        f->type_global = va_type_expr(sc, t);
        f->type_index = (int)(t - sc->types);
    }
    /* generic roles from the parameter types */
    int nobj = 0;
    for (int i = 0; i < fa->nparams; i++) {
        const ast_var *p = fa->params[i];
        const char *tn = p->type_name ? p->type_name : "";
        switch (p->ty) {
        case TY_OBJ:
            if (i == 0 && t && (ref || va_type_of_struct(sc, tn)))
                f->roles[i] = VA_SELF;
            else {
                f->roles[i] = VA_OBJ;
                nobj++;
            }
            break;
        case TY_INT:
        case TY_FLOAT:
            f->roles[i] = i > 0 && f->roles[i - 1] == VA_FASTARGS ? VA_NARGS : VA_INT;
            break;
        case TY_PTR:
            if (strcmp(va_decl_role(sc->k, tn), "type-object") == 0)
                f->roles[i] = VA_TYPE;
            else if (strcmp(va_decl_role(sc->k, tn), "visitproc") == 0)
                f->roles[i] = VA_VISIT;
            else
                f->roles[i] = VA_SCRATCH;
            break;
        case TY_OBJPTR:
            /* an argument vector is followed by its count; otherwise an
             * out-parameter (a method table's flags override both) */
            f->roles[i] = i + 1 < fa->nparams && fa->params[i + 1]->ty == TY_INT ? VA_FASTARGS
                                                                               : VA_SCRATCH;
            break;
        default:
            f->unsupported = pa_printf(sc->a, "parameter '%s' of type %s", p->name ? p->name : "?", tn);
            return;
        }
    }
    bool tuple = false;
    const char *slot = ref ? ref->slot : NULL;
    long fl = ref ? ref->flags : -1;
    va_role self = t ? VA_SELF : VA_SELF_ANY;
    if (fl >= 0 && !slot) {
        if (fl & VA_METH_CLASS)
            self = VA_TYPE;
        else if (fl & VA_METH_STATIC)
            self = VA_NULL;
        if ((fl & VA_METH_FASTCALL) && (fl & VA_METH_METHOD))
            va_set_roles(f, (va_role[]){ self, VA_TYPE, VA_FASTARGS, VA_NARGS, VA_NULL }, 5);
        else if (fl & VA_METH_FASTCALL)
            va_set_roles(f, (va_role[]){ self, VA_FASTARGS, VA_NARGS, VA_NULL }, 4);
        else if (fl & VA_METH_VARARGS)
            va_set_roles(f, (va_role[]){ self, VA_ARGS, VA_NULL }, 3);
        else if (fl & VA_METH_O)
            va_set_roles(f, (va_role[]){ self, VA_OBJ }, 2);
        else if (fl & VA_METH_NOARGS)
            va_set_roles(f, (va_role[]){ self, VA_NULL }, 2);
        tuple = (fl & (VA_METH_VARARGS | VA_METH_FASTCALL)) != 0;
    } else if (slot) {
        if (strcmp(slot, "tp_dealloc") == 0 || strcmp(slot, "tp_finalize") == 0 ||
            strcmp(slot, "tp_free") == 0) {
            f->unsupported = "a destructor slot runs only on the last release";
            return;
        }
        if (strcmp(slot, "tp_new") == 0)
            va_set_roles(f, (va_role[]){ VA_TYPE, VA_ARGS, VA_NULL }, 3), tuple = true;
        else if (strcmp(slot, "tp_init") == 0 || strcmp(slot, "tp_call") == 0)
            va_set_roles(f, (va_role[]){ self, VA_ARGS, VA_NULL }, 3), tuple = true;
        else if (strcmp(slot, "tp_richcompare") == 0)
            va_set_roles(f, (va_role[]){ self, VA_OBJ, VA_OP }, 3);
        else if (strcmp(slot, "get") == 0)
            va_set_roles(f, (va_role[]){ self, VA_NULL }, 2);
        else if (strcmp(slot, "set") == 0)
            va_set_roles(f, (va_role[]){ self, VA_OBJ, VA_NULL }, 3);
        else if (va_starts(slot, "tp_") || va_starts(slot, "mp_") || va_starts(slot, "sq_") ||
                 va_starts(slot, "am_") || va_starts(slot, "mod_"))
            va_set_roles(f, (va_role[]){ self }, 1);
        /* nb_*: every operand is an object (either side may be ours) */
    }
    /* a function no table names (a buggy twin, a helper) written with the
     * conventional parameter names of a method */
    for (int i = 1; !ref && i < f->nparams; i++) {
        const char *pn = fa->params[i]->name ? fa->params[i]->name : "";
        if (f->roles[i] != VA_OBJ)
            continue;
        if (strcmp(pn, "args") == 0)
            f->roles[i] = VA_ARGS, tuple = true;
        else if (strcmp(pn, "kwds") == 0 || strcmp(pn, "kwargs") == 0 || strcmp(pn, "kw") == 0 ||
                 strcmp(pn, "kwnames") == 0 || strcmp(pn, "keywords") == 0)
            f->roles[i] = VA_NULL;
    }
    if (f->nparams > 0 && f->roles[0] == VA_SELF && !t)
        f->roles[0] = VA_SELF_ANY;
    if (f->nparams > 0 && f->roles[0] == VA_TYPE && !t)
        f->unsupported = "type parameter with no type object in the file";
    for (int i = 0; i < f->nparams; i++)
        if (f->roles[i] == VA_FASTARGS)
            tuple = true;
    nobj = 0;
    for (int i = 0; i < f->nparams; i++)
        nobj += f->roles[i] == VA_OBJ;
    va_fmt_call fc = { 0 };
    if (!(tuple && fa->body && va_find_fmt_stmt(k, fa->body, &fc, 0) && va_choices_from_format(f, k, &fc))) {
        bool deletes = slot && (strcmp(slot, "set") == 0 || strstr(slot, "ass_") || strstr(slot, "setattr"));
        va_default_choices(f, nobj, tuple, deletes);
    }
    if (f->nparams > 0 && f->roles[0] == VA_SELF)
        va_self_fields(sc, fa, f);
    va_flag_choices(f);
}

/* ---- the file's literals and constructors ------------------------------ */

static void va_literals_stmt(va_shapes *s, const ast_stmt *st, int depth);

/* Short string literals made of name characters (attribute and key names). */
static void va_literals_expr(va_shapes *s, const ast_expr *e, int depth)
{
    if (!e || depth > 300 || s->nliterals >= VA_MAX_LITERALS)
        return;
    if (e->kind == AX_STRING && e->str) {
        size_t n = strlen(e->str);
        bool plain = n > 0 && n <= 40;
        for (size_t i = 0; plain && i < n; i++) {
            char c = e->str[i];
            plain = c == '_' || c == '.' || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
        }
        for (int i = 0; plain && i < s->nliterals; i++)
            plain = strcmp(s->literals[i], e->str) != 0;
        if (plain)
            s->literals[s->nliterals++] = pa_strdup(&s->arena, e->str);
    }
    for (int i = 0; i < e->nkids; i++)
        va_literals_expr(s, e->kids[i], depth + 1);
    if (e->kind == AX_STMT_EXPR)
        va_literals_stmt(s, e->stmt, depth + 1);
}

static void va_literals_stmt(va_shapes *s, const ast_stmt *st, int depth)
{
    if (!st || depth > 300)
        return;
    va_literals_expr(s, st->expr, depth);
    va_literals_expr(s, st->expr2, depth);
    for (int i = 0; i < st->nkids; i++)
        va_literals_stmt(s, st->kids[i], depth + 1);
}

/* The first choice of the tp_init (else tp_new) of f's type, as the
 * arguments its self is constructed with. */
static void va_init_args(const va_scan *sc, va_shapes *s, va_func *f)
{
    static const char *const ctors[] = { "tp_init", "tp_new" };
    const va_type *t = f->type_index >= 0 && f->type_index < sc->ntypes ? &sc->types[f->type_index] : NULL;
    for (size_t c = 0; t && c < 2; c++)
        for (int i = 0; i < s->nfuncs; i++) {
            const va_func *g = &s->funcs[i];
            if (!g->slot || strcmp(g->slot, ctors[c]) != 0 || g->nchoices == 0)
                continue;
            bool named = false;     /* by f's type (a constructor two types share) */
            for (int n = 0; n < t->nnames && !named; n++)
                named = strcmp(t->names[n], g->name) == 0;
            if (!named)
                continue;
            for (int k = 0; k < g->nkinds[0]; k++)
                f->init_kinds[k] = g->kinds[0][k];
            f->ninit = g->nkinds[0];
            if (f->ninit > 0 && f->nchoices > 0)    /* and as a bare object, fields unset */
                va_flagged(f, 0, "+bare");
            return;
        }
}

int va_shapes_read(va_shapes *s, fe_tu *tu, const kb *k)
{
    memset(s, 0, sizeof *s);
    pa_init(&s->arena, 0);
    va_scan sc = { .a = &s->arena, .k = k, .tu = tu };
    ast_global *globals = NULL;
    int ng = fe_tu_globals(tu, &s->arena, &globals);
    for (int i = 0; i < ng; i++) {
        const ast_global *g = &globals[i];
        if (!g->var || !g->var->name)
            continue;
        sc.g = g;
        va_walk(&sc, g->init, NULL, 0);
        const char *role = g->type_name && !strchr(g->type_name, '*') ? va_decl_role(k, g->type_name) : "";
        if (strcmp(role, "type-object") == 0 || strcmp(role, "type-spec") == 0)
            va_note_type(&sc, g, strcmp(role, "type-spec") == 0);
    }
    int nf = fe_tu_func_count(tu);
    s->funcs = pa_alloc(&s->arena, sizeof *s->funcs * (size_t)(nf ? nf : 1));
    if (!s->funcs || pa_failed(&s->arena))
        return -1;
    for (int i = 0; i < nf; i++) {
        pa_arena fa;
        pa_init(&fa, 0);
        ast_func *f = fe_tu_convert_func(tu, i, &fa);
        va_func *vf = &s->funcs[s->nfuncs];
        memset(vf, 0, sizeof *vf);
        vf->type_index = -1;
        if (f) {
            va_literals_stmt(s, f->body, 0);
            va_shape_func(&sc, k, f, vf);
            const char *role = kb_decl_role(k, f->name);
            if (!s->init_func && f->nparams == 0 && role && strcmp(role, "module-init") == 0)
                s->init_func = pa_strdup(&s->arena, f->name);
            vf->index = i;
            vf->name = pa_strdup(&s->arena, f->name);
            if (vf->unsupported)
                vf->unsupported = pa_strdup(&s->arena, vf->unsupported);
            if (vf->slot)
                vf->slot = pa_strdup(&s->arena, vf->slot);
            s->nfuncs++;
        }
        pa_release(&fa);
    }
    for (int i = 0; i < s->nfuncs; i++)
        if (s->funcs[i].type_global && s->funcs[i].nparams > 0 && s->funcs[i].roles[0] == VA_SELF)
            va_init_args(&sc, s, &s->funcs[i]);
    return pa_failed(&s->arena) ? -1 : 0;
}

void va_shapes_free(va_shapes *s)
{
    pa_release(&s->arena);
    memset(s, 0, sizeof *s);
}

const va_func *va_shapes_find(const va_shapes *s, const char *name)
{
    for (int i = 0; name && i < s->nfuncs; i++)
        if (strcmp(s->funcs[i].name, name) == 0)
            return &s->funcs[i];
    return NULL;
}
