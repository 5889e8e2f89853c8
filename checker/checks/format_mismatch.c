/* format_mismatch.c - the format-mismatch rule: the arguments of a call to
 * a format-driven API (PyArg_ParseTuple*, Py_BuildValue, PyErr_Format, ...)
 * checked against its literal format string.
 *
 * A function check: it walks one function's syntax tree for calls whose
 * knowledge-base entry has fmt= (which argument is the format, which unit
 * family applies), splits the format with the @unit rows
 * (kb_format_units_in) and compares the variadic arguments with the units'
 * ctype= lists: how many, and the C type of each.  For
 * PyArg_ParseTupleAndKeywords (fmt=parse-kw: the keyword list follows the
 * format) the kwlist array's initializer, found in the function or at file
 * scope, must be NULL-terminated and name one parameter per format item.
 * `*V` forms (no `...`) have only their format checked.
 */
#include "checks.h"
#include "ck_ctype.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FM_RULE "format-mismatch"
#define FM_MAX_UNITS 128

typedef struct fm_ctx {
    const ck_func_input *in;
    pa_arena tmp;                 /* file-scope globals, converted on demand */
    ast_global *globals;
    int nglobals;                 /* -1 until converted */
    int rc;
} fm_ctx;

static const ast_expr *fm_strip(const ast_expr *e)
{
    while (e && e->kind == AX_CAST && e->nkids == 1)
        e = e->kids[0];
    return e;
}

static void fm_report(fm_ctx *cx, src_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fm_report(fm_ctx *cx, src_loc loc, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const ck_func_input *in = cx->in;
    if (ck_static_report(in->tu, in->out, in->file_index, FM_RULE, loc, in->f->name, msg, NULL, 0) < 0)
        cx->rc = -1;
}

/* The format shown in messages: at most 40 characters, quoted. */
static const char *fm_show(const char *s, char *buf, size_t len)
{
    size_t n = strlen(s);
    if (n > 40)
        snprintf(buf, len, "\"%.37s...\"", s);
    else
        snprintf(buf, len, "\"%s\"", s);
    return buf;
}

/* ---- the keyword list ----------------------------------------------- */

/* The initializer of v's declaration inside statement s, or NULL. */
static const ast_expr *fm_find_decl(const ast_stmt *s, const ast_var *v)
{
    if (!s)
        return NULL;
    if (s->kind == AS_DECL && s->var == v)
        return s->expr;
    for (int i = 0; i < s->nkids; i++) {
        const ast_expr *r = fm_find_decl(s->kids[i], v);
        if (r)
            return r;
    }
    return NULL;
}

/* The initializer of the kwlist variable v, local or file-scope. */
static const ast_expr *fm_kwlist_init(fm_ctx *cx, const ast_var *v)
{
    if (v->static_init)
        return v->static_init;
    const ast_expr *init = fm_find_decl(cx->in->f->body, v);
    if (init || !v->name)
        return init;
    if (cx->nglobals < 0)
        cx->nglobals = fe_tu_globals(cx->in->tu, &cx->tmp, &cx->globals);
    for (int i = 0; i < cx->nglobals; i++)
        if (cx->globals[i].var && cx->globals[i].var->name &&
            strcmp(cx->globals[i].var->name, v->name) == 0)
            return cx->globals[i].init;
    return NULL;
}

/* The declared length of an array type spelled "char *[4]", or -1. */
static long fm_array_len(const char *type_name)
{
    const char *b = type_name ? strrchr(type_name, '[') : NULL;
    if (!b || b[1] == ']')
        return -1;
    return strtol(b + 1, NULL, 10);
}

static bool fm_is_zero(const ast_expr *e)
{
    e = fm_strip(e);
    return e && (e->kind == AX_NULL || (e->kind == AX_INT && e->ival == 0));
}

/* Format items that take a keyword: top-level units with arguments, a
 * parenthesised group counting as one. */
static int fm_kw_items(const kb_fmt_unit *u, int n)
{
    int items = 0, depth = 0;
    for (int i = 0; i < n; i++) {
        if (u[i].nargs == 0 && u[i].code[1] == '\0' && strchr("([{", u[i].code[0]) &&
            u[i].ctypes == NULL) {
            if (depth++ == 0)
                items++;
        } else if (u[i].nargs == 0 && u[i].code[1] == '\0' && strchr(")]}", u[i].code[0])) {
            depth--;
        } else if (depth == 0 && u[i].nargs > 0) {
            items++;
        }
    }
    return items;
}

static void fm_check_kwlist(fm_ctx *cx, const ast_expr *call, const ast_expr *arg,
                            const char *callee, const char *format, int items)
{
    const ast_expr *a = fm_strip(arg);
    if (!a || a->kind != AX_VAR || !a->var || !a->var->is_array)
        return;
    const ast_expr *init = fm_kwlist_init(cx, a->var);
    if (!init || init->kind != AX_INIT_LIST)
        return;
    int names = -1;
    for (int i = 0; i < init->nkids; i++) {
        if (fm_is_zero(init->kids[i])) {
            names = i;
            break;
        }
    }
    char fb[64];
    if (names < 0) {
        long len = fm_array_len(a->var->type_name);
        if (len > init->nkids) {
            names = init->nkids;          /* the rest of the array is zero */
        } else {
            fm_report(cx, arg->loc,
                      "%s(): keyword list '%s' is not NULL-terminated (its last entry must be NULL)",
                      callee, a->var->name);
            return;
        }
    }
    if (names != items)
        fm_report(cx, arg->loc,
                  "%s(): keyword list '%s' names %d parameter%s but format %s has %d (one name per "
                  "unit, \"\" for positional-only ones)",
                  callee, a->var->name, names, names == 1 ? "" : "s",
                  fm_show(format, fb, sizeof fb), items);
    (void)call;
}

/* ---- one call ------------------------------------------------------- */

/* The name the user wrote: the API macro the call came from when the
 * knowledge base has it with the same format kind (PyArg_ParseTuple for
 * _PyArg_ParseTuple_SizeT), else the callee. */
static const char *fm_callee_name(const kb *k, const ast_expr *call, const kb_entry *e)
{
    if (call->macro && strcmp(call->macro, call->name) != 0) {
        const kb_entry *m = kb_lookup(k, call->macro);
        if (m && m->fmt == e->fmt)
            return call->macro;
    }
    return call->name;
}

static void fm_check_call(fm_ctx *cx, const ast_expr *call)
{
    const kb *k = cx->in->k;
    const kb_entry *e = kb_lookup(k, call->name);
    if (!e || e->fmt == KB_FMT_NONE || e->fmt_arg < 0 || e->nargs < 0)
        return;
    int fa = e->fmt_arg + 1;             /* kids[0] is the callee */
    if (call->nkids <= fa)
        return;
    const ast_expr *fx = fm_strip(call->kids[fa]);
    if (!fx || fx->kind != AX_STRING || !fx->str)
        return;
    const char *format = fx->str;
    const char *callee = fm_callee_name(k, call, e);
    kb_fmt_unit units[FM_MAX_UNITS];
    char err[256];
    int n = kb_format_units_in(k, e->fmt, format, units, FM_MAX_UNITS, err, sizeof err);
    if (n < 0) {
        if (strstr(err, "more than"))
            return;                      /* too long for us, not wrong */
        fm_report(cx, call->kids[fa]->loc, "%s(): %s", callee, err);
        return;
    }
    if (!e->variadic)
        return;                          /* the units describe a va_list */
    int vstart = e->nargs + 1;
    int given = call->nkids - vstart;
    int want = 0;
    for (int i = 0; i < n; i++)
        want += units[i].nargs;
    char fb[64];
    if (given != want) {
        fm_report(cx, call->loc, "%s(): format %s takes %d argument%s after it, %d given",
                  callee, fm_show(format, fb, sizeof fb), want, want == 1 ? "" : "s",
                  given < 0 ? 0 : given);
    } else {
        int ai = vstart;
        for (int i = 0; i < n; i++) {
            const kb_fmt_unit *u = &units[i];
            for (int j = 0; j < u->nargs; j++, ai++) {
                char want_t[96];
                if (e->fmt == KB_FMT_PRINTF && j < u->stars) {
                    snprintf(want_t, sizeof want_t, "int");
                } else {
                    int own = e->fmt == KB_FMT_PRINTF ? j - u->stars : j;
                    if (ck_ctype_item(u->ctypes, own, want_t, sizeof want_t) < 0)
                        continue;
                    if (u->length_ctype) {
                        if (!ck_ctype_is_plain_int(want_t))
                            continue;    /* %ls and friends: not described */
                        snprintf(want_t, sizeof want_t, "%s", u->length_ctype);
                    }
                }
                const ast_expr *arg = call->kids[ai];
                const ast_expr *sa = fm_strip(arg);
                bool is_null = sa && sa->kind == AX_NULL;
                char shown[96];
                if (ck_ctype_match(cx->in->tu, want_t, arg->ctype, arg->ty, is_null) ==
                    CK_CT_MISMATCH)
                    fm_report(cx, arg->loc,
                              "%s(): format %s: unit '%s%s' expects %s for argument %d, got '%s'",
                              callee, fm_show(format, fb, sizeof fb),
                              e->fmt == KB_FMT_PRINTF ? "%" : "", u->code,
                              ck_ctype_display(want_t, shown, sizeof shown), ai, arg->ctype);
            }
        }
    }
    if (e->fmt == KB_FMT_PARSE_KW && fa + 1 < call->nkids)
        fm_check_kwlist(cx, call, call->kids[fa + 1], callee, format, fm_kw_items(units, n));
}

/* ---- the walk ------------------------------------------------------- */

static void fm_walk_stmt(fm_ctx *cx, const ast_stmt *s, int depth);

static void fm_walk_expr(fm_ctx *cx, const ast_expr *e, int depth)
{
    if (!e || depth > 4000)
        return;
    if (e->kind == AX_CALL && e->name)
        fm_check_call(cx, e);
    for (int i = 0; i < e->nkids; i++)
        fm_walk_expr(cx, e->kids[i], depth + 1);
    if (e->kind == AX_STMT_EXPR)
        fm_walk_stmt(cx, e->stmt, depth + 1);
}

static void fm_walk_stmt(fm_ctx *cx, const ast_stmt *s, int depth)
{
    if (!s || depth > 4000)
        return;
    fm_walk_expr(cx, s->expr, depth + 1);
    fm_walk_expr(cx, s->expr2, depth + 1);
    for (int i = 0; i < s->nkids; i++)
        fm_walk_stmt(cx, s->kids[i], depth + 1);
}

int ck_format_mismatch(const ck_func_input *in)
{
    if (!in || !in->f)
        return 0;
    fm_ctx cx = { .in = in, .nglobals = -1 };
    pa_init(&cx.tmp, 0);
    fm_walk_stmt(&cx, in->f->body, 0);
    pa_release(&cx.tmp);
    return cx.rc;
}
