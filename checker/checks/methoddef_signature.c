/* methoddef_signature.c - the methoddef-signature rule: functions stored in
 * method tables and type slots must have the signature the interpreter
 * calls them with, and tables read up to a sentinel must end with one.
 *
 * A file check over the file-scope initializers.  For every field of a
 * `{ ... }` initializer that holds a function (seeing through casts and
 * `&`), and for every PyType_Slot-style `{Py_tp_x, f}` pair, the
 * knowledge base's `slot:FIELD` entry gives the expected signature
 * (sig=); `slot:FIELD/VARIANT` entries with when= choose a signature by
 * the bits of a sibling field (PyMethodDef's ml_flags: METH_* values are
 * read from the headers' macros, not from this file).  `table:TYPE`
 * entries name the arrays that need a sentinel entry.
 */
#include "checks.h"
#include "ck_ctype.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS_RULE "methoddef-signature"
#define MS_MAX_VARIANTS 16

/* A slot variant with its bits evaluated. */
typedef struct ms_variant {
    const kb_entry *e;
    char flag_field[64];          /* the sibling field when= reads */
    long long mask;               /* bits of its macros */
    bool ok;                      /* every macro evaluated */
} ms_variant;

typedef struct ms_ctx {
    const ck_file_input *in;
    pa_arena arena;               /* signatures */
    int rc;
} ms_ctx;

static void ms_report(ms_ctx *cx, src_loc loc, const char *function, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void ms_report(ms_ctx *cx, src_loc loc, const char *function, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const ck_file_input *in = cx->in;
    if (ck_static_report(in->tu, in->out, in->file_index, MS_RULE, loc, function, msg, NULL, 0) < 0)
        cx->rc = -1;
}

static const ast_expr *ms_strip(const ast_expr *e)
{
    while (e && e->kind == AX_CAST && e->nkids == 1)
        e = e->kids[0];
    return e;
}

/* The function an initializer value names: f, (cast)f, &f. */
static const ast_expr *ms_func_of(const ast_expr *v)
{
    v = ms_strip(v);
    if (v && v->kind == AX_ADDR && v->nkids == 1)
        v = ms_strip(v->kids[0]);
    return v && v->kind == AX_FUNC && v->name ? v : NULL;
}

/* Folds an integer constant expression (flags: METH_VARARGS | METH_KEYWORDS). */
static bool ms_fold(const ast_expr *e, long long *out)
{
    e = ms_strip(e);
    if (!e)
        return false;
    if (e->kind == AX_INT) {
        *out = e->ival;
        return true;
    }
    long long a, b;
    if (e->kind == AX_BINARY && e->nkids == 2 && ms_fold(e->kids[0], &a) && ms_fold(e->kids[1], &b)) {
        switch (e->op) {
        case AO_OR: *out = a | b; return true;
        case AO_ADD: *out = a + b; return true;
        case AO_AND: *out = a & b; return true;
        case AO_XOR: *out = a ^ b; return true;
        case AO_SHL: *out = b >= 0 && b < 62 ? a << b : 0; return b >= 0 && b < 62;
        default: return false;
        }
    }
    if (e->kind == AX_UNARY && e->nkids == 1 && e->op == AO_BITNOT && ms_fold(e->kids[0], &a)) {
        *out = ~a;
        return true;
    }
    return false;
}

static int ms_popcount(long long v)
{
    int n = 0;
    for (unsigned long long u = (unsigned long long)v; u; u &= u - 1)
        n++;
    return n;
}

/* Evaluates the variants of slot:FIELD (entries named slot:FIELD/...). */
static int ms_variants(ms_ctx *cx, const char *field, ms_variant *out, int max)
{
    const kb *k = cx->in->k;
    char prefix[96];
    snprintf(prefix, sizeof prefix, "slot:%s/", field);
    size_t pl = strlen(prefix);
    int n = 0;
    for (int i = 0; i < kb_count(k) && n < max; i++) {
        const kb_entry *e = kb_at(k, i);
        if (strncmp(e->name, prefix, pl) != 0 || !e->when || !e->sig)
            continue;
        ms_variant *v = &out[n++];
        memset(v, 0, sizeof *v);
        v->e = e;
        v->ok = true;
        const char *colon = strchr(e->when, ':');
        size_t fl = colon ? (size_t)(colon - e->when) : 0;
        while (fl && e->when[fl - 1] == ' ')
            fl--;
        if (!colon || fl >= sizeof v->flag_field) {
            v->ok = false;
            continue;
        }
        memcpy(v->flag_field, e->when, fl);
        v->flag_field[fl] = '\0';
        for (const char *p = colon + 1; *p;) {
            while (*p == ' ' || *p == '|')
                p++;
            const char *s = p;
            while (*p && *p != ' ' && *p != '|')
                p++;
            if (p == s)
                break;
            char name[96];
            size_t nl = (size_t)(p - s) < sizeof name - 1 ? (size_t)(p - s) : sizeof name - 1;
            memcpy(name, s, nl);
            name[nl] = '\0';
            long long val;
            if (fe_tu_macro_int(cx->in->tu, name, &val) < 0)
                v->ok = false;
            else
                v->mask |= val;
        }
    }
    return n;
}

/* The value of sibling field `name` in initializer list, or NULL. */
static const ast_expr *ms_field(const ast_expr *list, const char *name)
{
    for (int i = 0; i < list->nkids; i++)
        if (list->kid_names && list->kid_names[i] && strcmp(list->kid_names[i], name) == 0)
            return list->kids[i];
    return NULL;
}

/* Compares function fn with signature sig ("RET; P1, P2"); what names the
 * convention in messages ("tp_hash", "METH_O"). */
static void ms_check_sig(ms_ctx *cx, const ast_expr *fn, const char *sig, const char *what)
{
    fe_sig s;
    if (fe_tu_func_signature(cx->in->tu, fn->name, &cx->arena, &s) < 0)
        return;
    const char *semi = strchr(sig, ';');
    if (!semi)
        return;
    char ret[96];
    size_t rl = (size_t)(semi - sig) < sizeof ret - 1 ? (size_t)(semi - sig) : sizeof ret - 1;
    memcpy(ret, sig, rl);
    ret[rl] = '\0';
    while (rl && ret[rl - 1] == ' ')
        ret[--rl] = '\0';
    const char *params = semi + 1;
    int want = 0;
    char item[96];
    while (ck_ctype_item(params, want, item, sizeof item) == 0)
        want++;
    char shown[256];
    if (s.nparams >= 0 && (s.nparams != want || s.variadic)) {
        ms_report(cx, fn->loc, fn->name,
                  "'%s' is used as %s, which is called with %d parameter%s (%s), but it takes %d%s",
                  fn->name, what, want, want == 1 ? "" : "s",
                  ck_ctype_display_list(params, shown, sizeof shown),
                  s.nparams, s.variadic ? " and '...'" : "");
        return;
    }
    if (ck_ctype_match(cx->in->tu, ret, s.ret, s.ret_ty, false) == CK_CT_MISMATCH) {
        ms_report(cx, fn->loc, fn->name, "'%s' is used as %s, which returns %s, but it returns '%s'",
                  fn->name, what, ck_ctype_display(ret, shown, sizeof shown), s.ret);
        return;
    }
    for (int i = 0; i < want && i < s.nparams; i++) {
        if (ck_ctype_item(params, i, item, sizeof item) < 0)
            break;
        if (ck_ctype_match(cx->in->tu, item, s.params[i], s.param_ty[i], false) == CK_CT_MISMATCH) {
            ms_report(cx, fn->loc, fn->name,
                      "'%s' is used as %s, whose parameter %d is %s, but it declares '%s'",
                      fn->name, what, i + 1, ck_ctype_display(item, shown, sizeof shown),
                      s.params[i]);
            return;
        }
    }
}

/* A function stored in field `field` of initializer list `list`. */
static void ms_check_field(ms_ctx *cx, const ast_expr *list, const char *field, const ast_expr *fn)
{
    ms_variant vs[MS_MAX_VARIANTS];
    int nv = ms_variants(cx, field, vs, MS_MAX_VARIANTS);
    if (nv > 0 && list) {
        const ms_variant *best = NULL;
        bool conflict = false, known = false;
        long long flags = 0;
        const char *ffield = NULL;
        for (int i = 0; i < nv; i++) {
            if (!vs[i].ok)
                continue;
            const ast_expr *fv = ms_field(list, vs[i].flag_field);
            if (!fv || !ms_fold(fv, &flags))
                continue;
            known = true;
            ffield = vs[i].flag_field;
            if ((flags & vs[i].mask) != vs[i].mask)
                continue;
            if (!best || ms_popcount(vs[i].mask) > ms_popcount(best->mask)) {
                best = &vs[i];
                conflict = false;
            } else if (ms_popcount(vs[i].mask) == ms_popcount(best->mask) && vs[i].mask != best->mask) {
                conflict = true;
            }
        }
        if (known && !best) {
            ms_report(cx, fn->loc, fn->name,
                      "'%s' is stored in %s with %s = 0x%llx, which is no calling convention "
                      "(METH_VARARGS, METH_NOARGS, METH_O or METH_FASTCALL, with METH_KEYWORDS "
                      "or METH_METHOD where allowed)",
                      fn->name, field, ffield, (unsigned long long)flags);
            return;
        }
        if (best && conflict) {
            ms_report(cx, fn->loc, fn->name,
                      "'%s' is stored in %s with %s = 0x%llx, which combines two calling conventions",
                      fn->name, field, ffield, (unsigned long long)flags);
            return;
        }
        if (best) {
            const char *colon = strchr(best->e->when, ':');
            char what[128];
            snprintf(what, sizeof what, "a %s function", colon ? colon + 1 + (colon[1] == ' ') : field);
            ms_check_sig(cx, fn, best->e->sig, what);
            return;
        }
        if (known)
            return;
    }
    char key[96];
    snprintf(key, sizeof key, "slot:%s", field);
    const kb_entry *e = kb_lookup(cx->in->k, key);
    if (!e || !e->sig)
        return;
    char what[96];
    snprintf(what, sizeof what, "%s", field);
    ms_check_sig(cx, fn, e->sig, what);
}

/* The field a PyType_Slot id names: Py_tp_iternext -> tp_iternext (the
 * part after the first '_', as the engine maps it). */
static const char *ms_slot_field(const ast_expr *id)
{
    if (!id || id->kind != AX_INT || !id->macro)
        return NULL;
    const char *us = strchr(id->macro, '_');
    return us && us[1] ? us + 1 : NULL;
}

static void ms_walk(ms_ctx *cx, const ast_expr *e, int depth)
{
    if (!e || e->kind != AX_INIT_LIST || depth > 64)
        return;
    /* {Py_tp_dealloc, f}: a slot id and a function */
    if (e->nkids == 2) {
        const char *field = ms_slot_field(ms_strip(e->kids[0]));
        const ast_expr *fn = ms_func_of(e->kids[1]);
        if (field && fn) {
            ms_check_field(cx, NULL, field, fn);
            return;
        }
    }
    for (int i = 0; i < e->nkids; i++) {
        const char *name = e->kid_names ? e->kid_names[i] : NULL;
        const ast_expr *fn = ms_func_of(e->kids[i]);
        if (fn) {
            if (name)
                ms_check_field(cx, e, name, fn);
            continue;
        }
        ms_walk(cx, ms_strip(e->kids[i]), depth + 1);
    }
}

/* The element type of an array type spelled "PyMethodDef[4]" or
 * "PyMethodDef []", into buf; false when not an array. */
static bool ms_element_type(const char *type_name, char *buf, size_t len)
{
    const char *b = type_name ? strchr(type_name, '[') : NULL;
    if (!b)
        return false;
    size_t n = (size_t)(b - type_name);
    while (n && type_name[n - 1] == ' ')
        n--;
    const char *s = type_name;
    if (strncmp(s, "const ", 6) == 0 && n > 6) {
        s += 6;
        n -= 6;
    }
    if (n == 0 || n >= len)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return true;
}

static void ms_check_sentinel(ms_ctx *cx, const ast_global *g)
{
    if (!g->var || !g->var->is_array || !g->init || g->init->kind != AX_INIT_LIST)
        return;
    char elem[128], key[160];
    if (!ms_element_type(g->type_name, elem, sizeof elem))
        return;
    snprintf(key, sizeof key, "table:%s", elem);
    const kb_entry *t = kb_lookup(cx->in->k, key);
    if (!t || !t->sentinel)
        return;
    const ast_expr *init = g->init;
    const char *lb = strrchr(g->type_name, '[');
    long declared = lb && lb[1] != ']' ? strtol(lb + 1, NULL, 10) : -1;
    if (declared > init->nkids)
        return;                           /* trailing entries are zero */
    if (init->nkids > 0) {
        const ast_expr *last = ms_strip(init->kids[init->nkids - 1]);
        if (!last || last->kind != AX_INIT_LIST)
            return;                       /* not understood */
        if (last->nkids == 0)
            return;                       /* {} */
        const ast_expr *v = ms_field(last, t->sentinel);
        if (!v && last->kid_names)
            return;                       /* the field is not written: zero */
        v = ms_strip(v);
        if (v && (v->kind == AX_NULL || (v->kind == AX_INT && v->ival == 0)))
            return;
        if (!v || v->kind == AX_UNKNOWN)
            return;
    }
    ms_report(cx, g->var->loc, g->var->name,
              "%s table '%s' does not end with a sentinel entry (%s = 0 / NULL): the interpreter "
              "reads past its end",
              elem, g->var->name, t->sentinel);
}

int ck_methoddef_signature(const ck_file_input *in)
{
    if (!in)
        return 0;
    ms_ctx cx = { .in = in };
    pa_init(&cx.arena, 0);
    for (int i = 0; i < in->nglobals; i++) {
        const ast_global *g = &in->globals[i];
        ms_walk(&cx, g->init, 0);
        ms_check_sentinel(&cx, g);
    }
    pa_release(&cx.arena);
    return cx.rc;
}
