/* transfer.c - the transfer function: what one instruction does to a path
 * state.  Symbols, variables and memory cells, reference operations, calls
 * (knowledge-base entries, helper summaries, unknown functions, format
 * strings), expressions, and the refinement of values by conditions.
 */
#include "context.h"

static sym_kind en_kind_of(ty_class ty);
static int en_int_const(en_state *st, long long v, src_loc loc);
static int en_null_const(en_state *st, ty_class ty, src_loc loc);
static bool en_is_local(const ast_var *v);
static int en_global_sym(en_ctx *cx, en_state *st, const ast_var *v, src_loc loc);
static int en_read_var(en_ctx *cx, en_state *st, const ast_var *v, src_loc loc);
static int en_read_cell(en_ctx *cx, en_state *st, const ast_expr *e, int base);
static void en_escape(en_ctx *cx, en_state *st, int sym, const char *where, src_loc loc);
static void en_assign(en_ctx *cx, en_state *st, const ast_expr *lhs, int sym, src_loc loc);
static void en_store_through(en_ctx *cx, en_state *st, int p, int sym, src_loc loc);
static int en_load_through(en_ctx *cx, en_state *st, int p);
static void en_incref(en_ctx *cx, en_state *st, int s, const char *api, src_loc loc, bool nullable);
static void en_release(en_ctx *cx, en_state *st, int s, const char *api, src_loc loc, bool nullable,
                       int via_cell);
static bool en_is_cell_expr(const ast_expr *e);
static void en_steal(en_ctx *cx, en_state *st, int s, int container, const char *api, src_loc loc);
static int en_choose(en_ctx *cx, int arity);
static int en_outcomes(const kb_entry *k, int *map);
static void en_apply_parse(en_ctx *cx, en_state *st, const kb_entry *k, const ast_expr *call,
                           const int *args, int nargs, int outcome);
static void en_apply_build(en_ctx *cx, en_state *st, const kb_entry *k, const ast_expr *call,
                           const int *args, int nargs);
static void en_forget_fields(en_ctx *cx, en_state *st, const ast_expr *call);
static int en_unknown_call(en_ctx *cx, en_state *st, const ast_expr *call, const int *args, int nargs);
static int en_known_call(en_ctx *cx, en_state *st, const ast_expr *call, const kb_entry *k,
                         const int *args, int nargs);
static int en_call(en_ctx *cx, en_state *st, const ast_expr *e);
static int en_compare(en_ctx *cx, en_state *st, const ast_expr *e, int a, int b);
static int64_t en_sat_add(int64_t a, int64_t b);
static int en_eval_body(en_ctx *cx, en_state *st, const ast_expr *e);

/* ------------------------------------------------------------------ */
/* symbols                                                            */

static sym_kind en_kind_of(ty_class ty)
{
    switch (ty) {
    case TY_OBJ: return SK_OBJ;
    case TY_PTR: case TY_OBJPTR: return SK_PTR;
    case TY_INT: return SK_INT;
    default: return SK_OTHER;
    }
}

int en_fresh(en_state *st, ty_class ty, origin o, src_loc loc)
{
    int s = st_new_sym(st, en_kind_of(ty));
    if (s < 0) {
        st->dead = true;
        return -1;
    }
    st->syms[s].origin = (uint8_t)o;
    st->syms[s].loc = loc;
    return s;
}

static int en_int_const(en_state *st, long long v, src_loc loc)
{
    int s = en_fresh(st, TY_INT, OR_UNKNOWN, loc);
    if (s >= 0) {
        st->syms[s].lo = st->syms[s].hi = v;
        st->syms[s].flags |= v ? SF_NONZERO : SF_ZERO_KNOWN;
    }
    return s;
}

static int en_null_const(en_state *st, ty_class ty, src_loc loc)
{
    int s = en_fresh(st, ty == TY_INT ? TY_PTR : ty, OR_NULLCONST, loc);
    if (s >= 0) {
        st->syms[s].null = NL_NULL;
        st->syms[s].lo = st->syms[s].hi = 0;
    }
    return s;
}

/* ------------------------------------------------------------------ */
/* variables and memory                                               */

static bool en_is_local(const ast_var *v)
{
    return v && v->id >= 0 && (v->kind == VAR_LOCAL || v->kind == VAR_PARAM || v->kind == VAR_TEMP);
}

/* Binds local variable v to sym; tells the checks when the old value's
 * last holder goes away. */
void en_bind(en_ctx *cx, en_state *st, const ast_var *v, int sym, src_loc loc)
{
    if (v->id < 0 || v->id >= st->nvars)
        return;
    int old = st->vars[v->id];
    st->vars[v->id] = sym;
    if (sym >= 0 && !st->syms[sym].name && v->kind != VAR_TEMP)
        st->syms[sym].name = v->name;
    if (old >= 0 && old != sym && st->syms[old].kind == SK_OBJ && st->syms[old].refs > 0)
        en_fire(cx, st, CK_LOSE, old, loc, v->name, false);
}

static int en_global_sym(en_ctx *cx, en_state *st, const ast_var *v, src_loc loc)
{
    const char *key = en_intern(cx, pa_printf(cx->a, "g:%s", v->name));
    int s = st_cell_get(st, key);
    if (s >= 0)
        return s;
    /* PyExc_TypeError and other objects the headers declare are static:
     * like None, their count never frees them */
    s = en_fresh(st, v->ty, v->external && v->ty == TY_OBJ ? OR_SINGLETON : OR_GLOBAL, loc);
    if (s < 0)
        return -1;
    st->syms[s].name = v->name;
    st_cell_set(st, key, s);
    return s;
}

static int en_read_var(en_ctx *cx, en_state *st, const ast_var *v, src_loc loc)
{
    if (!en_is_local(v))
        return en_global_sym(cx, st, v, loc);
    if (v->id >= st->nvars)
        return -1;
    int s = st->vars[v->id];
    if (s >= 0)
        return s;
    s = en_fresh(st, v->is_array ? TY_PTR : v->ty, OR_UNKNOWN, loc);
    if (s < 0)
        return -1;
    if (v->is_array) {
        st->syms[s].null = NL_NONNULL;
        st->syms[s].addr_var = v->id;
    }
    st->syms[s].name = v->name;
    st->vars[v->id] = s;
    return s;
}

int en_eval(en_ctx *cx, en_state *st, const ast_expr *e);

/* Reads an lvalue held in memory (field, element, dereference). */
static int en_read_cell(en_ctx *cx, en_state *st, const ast_expr *e, int base)
{
    const char *key = en_expr_key(cx, e, NULL);
    int s = st_cell_get(st, key);
    if (s >= 0)
        return s;
    /* an array element (d->data[--d->n]) may be popped off with its
     * reference: its ownership is unknown; a named field is borrowed */
    s = en_fresh(st, e->ty, e->kind == AX_INDEX ? OR_UNKNOWN : OR_FIELD, e->loc);
    if (s < 0)
        return -1;
    st->syms[s].owner = base;
    st->syms[s].addr_key = key;
    st_cell_set(st, key, s);
    return s;
}

/* A store into a field, global, array element or out-parameter: one
 * reference we own (if any) moves into that cell. */
static void en_escape(en_ctx *cx, en_state *st, int sym, const char *where, src_loc loc)
{
    if (sym < 0 || st->syms[sym].kind != SK_OBJ || st->syms[sym].null == NL_NULL)
        return;
    en_sym *s = &st->syms[sym];
    if (s->refs > 0)
        s->refs--;
    else if (s->debt < 1000)
        s->debt++;     /* `view->obj = self; Py_INCREF(self);` */
    if (s->cell_refs < 1000)
        s->cell_refs++;
    en_event_add(cx, st, EV_STORE, sym, loc, where, NULL, 0);
}

/* Stores sym into the lvalue e. */
/* A field that held `old` (read earlier on this path) is overwritten: the
 * field's reference to old is now ours (`r = p->value; p->value = NULL;
 * return r;`, or a setter's `tmp = self->x; self->x = v; Py_XDECREF(tmp);`). */
static void en_take_over(en_state *st, const char *key, int old, int sym)
{
    if (old < 0 || old == sym)
        return;
    en_sym *o = &st->syms[old];
    for (int i = 0; i < st->ncells; i++)
        if (st->cells[i].sym == old && st->cells[i].key != key) {
            /* another field holds it too: stored there without a reference
             * of ours (`lz->total = lz->initial; lz->initial = Py_None;`),
             * this field's reference moved there; a swap: nothing moves */
            if (o->debt > 0)
                o->debt--;
            return;
        }
    if (o->kind != SK_OBJ || o->null == NL_NULL || (o->flags & (SF_DEAD | SF_DYING | SF_CELL_GONE)))
        return;
    if (o->origin == OR_FIELD) {
        o->origin = OR_NEW;      /* owned by this function from now on */
        o->refs++;
        o->flags |= SF_TAKEN;
    } else if (o->cell_refs > 0) {
        o->cell_refs--;
        o->refs++;
    }
}

static void en_assign(en_ctx *cx, en_state *st, const ast_expr *lhs, int sym, src_loc loc)
{
    const ast_expr *e = en_strip_casts(lhs);
    if (!e)
        return;
    switch (e->kind) {
    case AX_VAR:
        if (en_is_local(e->var))
            en_bind(cx, st, e->var, sym, loc);
        else {
            const char *key = en_intern(cx, pa_printf(cx->a, "g:%s", e->var->name));
            st_cell_set(st, key, sym);
            en_escape(cx, st, sym, e->var->name, loc);
        }
        return;
    case AX_MEMBER:
    case AX_INDEX: {
        int base = en_eval(cx, st, e->kids[0]);
        if (st->dead)
            return;
        if (e->kind == AX_INDEX && e->nkids > 1)
            en_eval(cx, st, e->kids[1]);
        if (base >= 0 && (e->kind == AX_INDEX || e->op))
            if (en_fire(cx, st, CK_DEREF, base, e->loc, "it is dereferenced", false) & CK_STOP)
                return;
        const char *key = en_expr_key(cx, e, NULL);
        if (e->kind == AX_MEMBER && en_field_owns(cx->ef, e->name))
            en_take_over(st, key, st_cell_get(st, key), sym);
        st_cell_set(st, key, sym);
        /* an element of a local array or a field of a local struct stays
         * ours (argument vectors); anything else now holds the reference */
        const ast_expr *root = en_strip_casts(e->kids[0]);
        bool local = root && root->kind == AX_VAR && en_is_local(root->var) &&
                     (root->var->is_array || root->var->ty == TY_OTHER) && !(e->kind == AX_MEMBER && e->op);
        if (!local) {
            en_escape(cx, st, sym, key, loc);
            /* dummy->localdict = ldict; ... Py_DECREF(ldict): a field the
             * file never releases may be a borrowed back pointer */
            if (e->kind == AX_MEMBER && !en_field_owns(cx->ef, e->name) && sym >= 0 &&
                st->syms[sym].kind == SK_OBJ)
                st->syms[sym].flags |= SF_WEAK_STORE;
        }
        else if (e->kind == AX_INDEX && e->nkids > 1 && en_strip_casts(e->kids[1])->kind != AX_INT &&
                 sym >= 0 && st->syms[sym].kind == SK_OBJ)
            /* items[i]: one key for every element, so we cannot follow it */
            st->syms[sym].flags |= SF_ESCAPED;
        return;
    }
    case AX_DEREF: {
        int p = en_eval(cx, st, e->kids[0]);
        if (st->dead)
            return;
        if (p >= 0 && st->syms[p].addr_var >= 0) {
            ast_var *v = cx->f->vars[st->syms[p].addr_var];
            en_bind(cx, st, v, sym, loc);
            return;
        }
        if (p >= 0 && en_fire(cx, st, CK_DEREF, p, e->loc, "it is dereferenced", false) & CK_STOP)
            return;
        const char *key = en_expr_key(cx, e, NULL);
        st_cell_set(st, key, sym);
        en_escape(cx, st, sym, key, loc);
        return;
    }
    default:
        en_eval(cx, st, e);
        return;
    }
}

/* Writes sym through pointer p (an out-parameter of a call). */
static void en_store_through(en_ctx *cx, en_state *st, int p, int sym, src_loc loc)
{
    if (p < 0)
        return;
    en_sym *ps = &st->syms[p];
    if (ps->addr_var >= 0 && ps->addr_var < cx->f->nvars) {
        en_bind(cx, st, cx->f->vars[ps->addr_var], sym, loc);
    } else if (ps->addr_key) {
        st_cell_set(st, ps->addr_key, sym);
        en_escape(cx, st, sym, ps->addr_key, loc);
    } else {
        en_escape(cx, st, sym, "an out-parameter", loc);
    }
}

/* Current value behind pointer p, or -1. */
static int en_load_through(en_ctx *cx, en_state *st, int p)
{
    if (p < 0)
        return -1;
    en_sym *ps = &st->syms[p];
    if (ps->addr_var >= 0 && ps->addr_var < cx->f->nvars)
        return en_read_var(cx, st, cx->f->vars[ps->addr_var], ps->loc);
    if (ps->addr_key)
        return st_cell_get(st, ps->addr_key);
    return -1;
}

/* ------------------------------------------------------------------ */
/* reference operations                                               */

static void en_incref(en_ctx *cx, en_state *st, int s, const char *api, src_loc loc, bool nullable)
{
    if (s < 0 || st->syms[s].kind != SK_OBJ)
        return;
    if (st->syms[s].null == NL_NULL)
        return;
    en_fire(cx, st, CK_USE, s, loc, api, nullable);
    if (st->syms[s].debt > 0)
        st->syms[s].debt--;          /* the reference a store took on credit */
    else if (st->syms[s].refs < 1000)
        st->syms[s].refs++;
    en_event_add(cx, st, EV_INCREF, s, loc, api, NULL, 0);
}

enum { EN_VIA_CELL_REPLACE = 1, EN_VIA_CELL_KEEP = 2 };

/* Releases one reference to s.  via_cell: the released expression reads
 * the field / global that holds the reference (Py_CLEAR(self->x)), so the
 * cell's reference goes, not ours. */
static void en_release(en_ctx *cx, en_state *st, int s, const char *api, src_loc loc, bool nullable,
                       int via_cell)
{
    if (s < 0 || st->syms[s].kind != SK_OBJ)
        return;
    en_sym *sy = &st->syms[s];
    if (sy->null == NL_NULL)
        return;
    bool cell_owned = via_cell && (sy->cell_refs > 0 || sy->origin == OR_FIELD || sy->origin == OR_GLOBAL);
    /* Py_DECREF(state->x) after Py_INCREF(state->x): our extra reference
     * goes first (Py_CLEAR and Py_SETREF pass via_cell only when the field
     * is replaced) */
    if (cell_owned && via_cell == EN_VIA_CELL_KEEP && sy->refs > 0)
        cell_owned = false;
    ck_event ev = { CK_RELEASE, s, loc, api, nullable, cell_owned };
    en_fire_ev(cx, st, &ev);
    sy = &st->syms[s];
    if (cell_owned) {
        sy->flags |= SF_CELL_GONE;
        if (sy->cell_refs > 0)
            sy->cell_refs--;
        /* the holder's reference is gone and we hold none: assume freed */
        if (sy->refs <= 0 && sy->cell_refs == 0 && !(sy->flags & (SF_ESCAPED | SF_KEPT)) &&
            sy->origin != OR_SINGLETON && sy->origin != OR_UNKNOWN && !(sy->origin == OR_GLOBAL && sy->addr_key))
            sy->flags |= SF_DEAD;
    } else if ((sy->flags & SF_WEAK_STORE) && sy->refs <= 0 && sy->cell_refs > 0) {
        sy->cell_refs--;     /* the store was a copy: our reference, released now */
    } else if (sy->refs > 0 || sy->cell_refs == 0 || sy->origin != OR_NEW) {
        if (sy->refs > -1000)
            sy->refs--;
    } else {
        /* our reference moved into a cell: this releases the cell's */
        sy->cell_refs--;
        sy->refs--;
    }
    if (sy->refs == 0 && sy->cell_refs <= 0 && sy->origin == OR_NEW && !(sy->flags & (SF_ESCAPED | SF_KEPT)))
        sy->flags |= SF_DEAD;
    en_event_add(cx, st, EV_DECREF, s, loc, api, NULL, 0);
}

/* Whether e reads a value held by a field, global, element or pointer. */
static bool en_is_cell_expr(const ast_expr *e)
{
    e = en_strip_casts(e);
    if (!e)
        return false;
    if (e->kind == AX_MEMBER || e->kind == AX_INDEX || e->kind == AX_DEREF)
        return true;
    return e->kind == AX_VAR && e->var && !en_is_local(e->var);
}

static void en_steal(en_ctx *cx, en_state *st, int s, int container, const char *api, src_loc loc)
{
    if (s < 0)
        return;
    if (container >= 0 && container != s) {
        /* `old = PyList_GET_ITEM(l, i); PyList_SET_ITEM(l, i, v);`: an item
         * read from the container before may have been in the slot just
         * overwritten, its reference now the function's (heapq, itertools;
         * zip_longest's SET_ITEM(ittuple, i, NULL) then Py_DECREF(it)):
         * its ownership is no longer known */
        for (int i = 0; i < st->nsyms; i++) {
            en_sym *o = &st->syms[i];
            if (i != s && o->owner == container && o->origin == OR_BORROWED)
                o->origin = OR_UNKNOWN;
        }
    }
    if (st->syms[s].kind != SK_OBJ || st->syms[s].null == NL_NULL)
        return;
    en_fire(cx, st, CK_STEAL, s, loc, api, false);
    en_sym *sy = &st->syms[s];
    if (sy->refs > -1000)
        sy->refs--;
    if (sy->refs < 0 && sy->cell_refs > 0)
        sy->cell_refs--;   /* a field's reference was taken */
    sy->flags |= SF_STOLEN | SF_KEPT;
    if (container >= 0 && container != s)
        sy->owner = container;
    en_event_add(cx, st, EV_STEAL, s, loc, api, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* calls                                                              */

/* Which outcome the current evaluation takes for the next call with
 * `arity` possible outcomes (0 = success). */
static int en_choose(en_ctx *cx, int arity)
{
    int idx = cx->ncalls++;
    if (idx < EN_MAX_CALLS)
        cx->arity[idx] = arity;
    if (idx == cx->choice_call && cx->choice_outcome < arity)
        return cx->choice_outcome;
    return 0;
}

enum { OUT_OK = 0, OUT_ERROR = 1, OUT_ABSENT = 2 };

static int en_outcomes(const kb_entry *k, int *map)
{
    if (k->noreturn || k->ret == KB_RET_NULL) {
        map[0] = OUT_OK;
        return 1;
    }
    switch (k->fail) {
    case KB_FAIL_NEVER:
        map[0] = OUT_OK;
        return 1;
    case KB_FAIL_NULL_OR_ABSENT:
    case KB_FAIL_NEG_OR_ZERO_ABSENT:
        map[0] = OUT_OK;
        if (k->fail_sets_exc || k->fail == KB_FAIL_NEG_OR_ZERO_ABSENT) {
            map[1] = OUT_ERROR;
            map[2] = OUT_ABSENT;
            return 3;
        }
        map[1] = OUT_ABSENT;
        return 2;
    default:
        map[0] = OUT_OK;
        map[1] = OUT_ERROR;
        return 2;
    }
}

const kb_entry *en_callee_entry(en_ctx *cx, const ast_expr *call, kb_entry *scratch);

/* Applies a parse format (PyArg_ParseTuple family) to the C arguments. */
static void en_apply_parse(en_ctx *cx, en_state *st, const kb_entry *k, const ast_expr *call,
                           const int *args, int nargs, int outcome)
{
    int fmt_i = k->fmt_arg;
    if (fmt_i < 0 || fmt_i >= nargs)
        return;
    int first = fmt_i + (k->fmt == KB_FMT_PARSE_KW ? 2 : 1);
    const ast_expr *fe = en_strip_casts(call->kids[fmt_i + (call->kind == AX_CALL ? 1 : 0)]);
    kb_fmt_unit units[64];
    char err[128];
    int nu = -1;
    if (fe && fe->kind == AX_STRING)
        nu = kb_format_units_in(cx->ef->k, k->fmt, fe->str, units, 64, err, sizeof err);
    if (outcome != OUT_OK)
        return;
    if (nu < 0) {
        /* unknown format: every pointer argument may have been written */
        for (int i = first; i < nargs; i++) {
            int p = args[i];
            if (p >= 0 && st->syms[p].kind == SK_PTR) {
                int v = en_fresh(st, TY_OBJ, OR_UNKNOWN, call->loc);
                if (v >= 0)
                    en_store_through(cx, st, p, v, call->loc);
            }
        }
        return;
    }
    int ci = first;
    bool optional = false;
    for (int u = 0; u < nu && ci <= nargs; u++) {
        if (units[u].code[0] == '|')
            optional = true;
        if (units[u].effect == KB_FU_OUT_BORROW || units[u].effect == KB_FU_OUT_NEW) {
            int target = ci + (units[u].obj_arg >= 0 ? units[u].obj_arg : 0);
            if (target < nargs) {
                bool is_new = units[u].effect == KB_FU_OUT_NEW;
                int v = en_fresh(st, TY_OBJ, is_new ? OR_NEW : OR_BORROWED, call->loc);
                if (v >= 0) {
                    st->syms[v].null = optional ? NL_UNKNOWN : NL_NONNULL;
                    st->syms[v].api = call->name;
                    st->syms[v].refs = is_new ? 1 : 0;
                    if (optional && st->syms[v].origin == OR_BORROWED) {
                        /* untouched when the argument is absent: keep the default */
                        int old = en_load_through(cx, st, args[target]);
                        if (old >= 0 && st->syms[old].null == NL_NULL)
                            st->syms[v].null = NL_UNKNOWN;
                        else if (old >= 0)
                            continue;   /* default already set: leave it */
                    }
                    en_store_through(cx, st, args[target], v, call->loc);
                }
            }
        } else {
            /* other units write non-object values */
            for (int j = 0; j < units[u].nargs && ci + j < nargs; j++) {
                int p = args[ci + j];
                if (p >= 0 && st->syms[p].kind == SK_PTR && st->syms[p].addr_var >= 0) {
                    ast_var *v = cx->f->vars[st->syms[p].addr_var];
                    int nv = en_fresh(st, v->ty, OR_UNKNOWN, call->loc);
                    if (nv >= 0)
                        en_bind(cx, st, v, nv, call->loc);
                }
            }
        }
        ci += units[u].nargs;
    }
}

/* Applies a build format (Py_BuildValue family): N steals. */
static void en_apply_build(en_ctx *cx, en_state *st, const kb_entry *k, const ast_expr *call,
                           const int *args, int nargs)
{
    int fmt_i = k->fmt_arg;
    if (fmt_i < 0 || fmt_i >= nargs)
        return;
    const ast_expr *fe = en_strip_casts(call->kids[fmt_i + 1]);
    if (!fe || fe->kind != AX_STRING)
        return;
    kb_fmt_unit units[64];
    char err[128];
    int nu = kb_format_units_in(cx->ef->k, k->fmt, fe->str, units, 64, err, sizeof err);
    int ci = fmt_i + 1;
    for (int u = 0; u < nu && ci < nargs; u++) {
        int target = ci + (units[u].obj_arg >= 0 ? units[u].obj_arg : 0);
        if (target < nargs && args[target] >= 0) {
            if (units[u].effect == KB_FU_IN_STEAL)
                en_steal(cx, st, args[target], -1, call->name, call->loc);
            else if (units[u].effect == KB_FU_IN_NEWREF || units[u].effect == KB_FU_IN_BORROW)
                en_fire(cx, st, CK_USE, args[target], call->loc, call->name, false);
        }
        ci += units[u].nargs;
    }
}

/* A helper given `obj` may change obj's fields (lazy initialisation, a
 * setter): forget what we knew about them. */
static void en_forget_fields(en_ctx *cx, en_state *st, const ast_expr *call)
{
    int first = call->kind == AX_CALL ? 1 : 0;
    for (int i = first; i < call->nkids; i++) {
        const ast_expr *a = en_strip_casts(call->kids[i]);
        if (a && a->kind == AX_ADDR && a->nkids == 1)
            a = en_strip_casts(a->kids[0]);
        if (!a || a->kind != AX_VAR || !a->var || !a->name)
            continue;
        size_t n = strlen(a->name);
        int out = 0;
        for (int c = 0; c < st->ncells; c++) {
            const char *key = st->cells[c].key;
            bool field = (strncmp(key, a->name, n) == 0 && (strncmp(key + n, "->", 2) == 0 || key[n] == '.')) ||
                         (key[0] == '(' && strstr(key, a->name) != NULL);
            if (!field)
                st->cells[out++] = st->cells[c];
        }
        st->ncells = out;
    }
    (void)cx;
}

/* A call of a function we know nothing about: objects passed to it may be
 * kept, pointers passed to it may be written, the exception state is
 * unknown afterwards. */
static int en_unknown_call(en_ctx *cx, en_state *st, const ast_expr *call, const int *args, int nargs)
{
    for (int i = 0; i < nargs; i++) {
        int s = args[i];
        if (s < 0)
            continue;
        en_sym *sy = &st->syms[s];
        if (sy->kind == SK_OBJ) {
            en_fire(cx, st, CK_USE, s, call->loc, call->name, true);
            st->syms[s].flags |= SF_ESCAPED;
        } else if (sy->kind == SK_PTR && sy->addr_var >= 0 && sy->addr_var < cx->f->nvars) {
            ast_var *v = cx->f->vars[sy->addr_var];
            if (!v->is_array) {
                int nv = en_fresh(st, v->ty, OR_UNKNOWN, call->loc);
                if (nv >= 0)
                    st->vars[v->id] = nv;
            }
        } else if (sy->kind == SK_PTR && sy->addr_key) {
            int nv = en_fresh(st, TY_OBJ, OR_UNKNOWN, call->loc);
            if (nv >= 0)
                st_cell_set(st, sy->addr_key, nv);
        }
    }
    if (st->dead)
        return -1;
    en_forget_fields(cx, st, call);
    st->exc = EXC_UNKNOWN;
    if (call->callee_noreturn) {
        st->dead = true;
        return -1;
    }
    int r = en_fresh(st, call->ty, OR_UNKNOWN, call->loc);
    if (r >= 0)
        st->syms[r].api = call->name;
    return r;
}

/* Whether argument ii (an integer) is known to lie in [0, n) where n is
 * the smallest length known for argument ci (a length read on this path
 * and refined by its branches).  A list could shrink afterwards; lengths
 * are read right before the indexing in practice. */
static bool en_index_in_range(const en_state *st, const int *args, int nargs, int ci, int ii)
{
    if (ci < 0 || ii < 0 || ci >= nargs || ii >= nargs || args[ci] < 0 || args[ii] < 0)
        return false;
    const en_sym *x = &st->syms[args[ii]];
    if (x->kind != SK_INT || x->lo < 0)
        return false;
    for (int j = 0; j < st->nsyms; j++) {
        const en_sym *n = &st->syms[j];
        if ((n->flags & SF_LEN_OF) && n->kind == SK_INT && n->owner == args[ci] && x->hi < n->lo)
            return true;
    }
    return false;
}

/* Evaluates a call (or a collapsed macro) with knowledge-base entry k. */
static int en_known_call(en_ctx *cx, en_state *st, const ast_expr *call, const kb_entry *k,
                         const int *args, int nargs)
{
    const char *api = call->name ? call->name : k->name ? k->name : "call";
    if (strncmp(api, "slot:", 5) == 0)
        api += 5;
    /* PyObject_CallMethod rather than _PyObject_CallMethod_SizeT: the API
     * macro the user wrote, when it is one */
    const kb_entry *outer = call->kind == AX_CALL && call->macro && strcmp(call->macro, api) != 0
                                ? kb_lookup(cx->ef->k, call->macro) : NULL;
    if (outer && !outer->is_macro && outer->ret == k->ret)  /* not Py_TYPE(x) in Py_DECREF(...) */
        api = call->macro;
    int argoff = call->kind == AX_CALL ? 1 : 0;
    int map[3];
    int nout = en_outcomes(k, map);
    /* PyLong_FromLong(1): the interpreter's cached small ints.  Only a
     * constant written in the source counts: a loop counter is concrete
     * here only because loops are unrolled a few times. */
    if (k->small_int_arg >= 0 && k->small_int_arg < nargs && args[k->small_int_arg] >= 0) {
        const ast_expr *ae = en_strip_casts(call->kids[k->small_int_arg + (call->kind == AX_CALL ? 1 : 0)]);
        if (ae && ae->kind == AX_UNARY && ae->op == AO_NEG && ae->nkids == 1)
            ae = en_strip_casts(ae->kids[0]);
        const en_sym *a = &st->syms[args[k->small_int_arg]];
        if (ae && ae->kind == AX_INT && a->kind == SK_INT && a->lo >= -5 && a->hi <= 256)
            nout = 1;
    }
    /* PyList_GetItem(l, 0) after `PyList_GET_SIZE(l) != 7` was false: an
     * index known to be inside the container's known length cannot fail */
    if (k->range_container > 0 && en_index_in_range(st, args, nargs, k->range_container - 1,
                                                    k->range_index - 1))
        nout = 1;
    int outcome = map[en_choose(cx, nout)];
    src_loc loc = call->loc;

    /* what the call needs from its arguments */
    for (int i = 0; i < nargs && !st->dead; i++) {
        int s = args[i];
        if (s < 0)
            continue;
        uint32_t fl = kb_arg_flags(k, i);
        en_sym *sy = &st->syms[s];
        if (sy->kind != SK_OBJ && sy->kind != SK_PTR)
            continue;
        bool deref = (fl & (KB_ARG_NONNULL | KB_ARG_INCREF | KB_ARG_DECREF)) && !(fl & KB_ARG_NULLOK);
        /* releasing an object twice is over-release, not a use */
        if ((fl & KB_ARG_DECREF) && sy->null != NL_NULL)
            deref = false;
        if (deref) {
            const char *why = (fl & KB_ARG_DECREF) ? pa_printf(cx->a, "it is released by %s()", api)
                              : pa_printf(cx->a, "it is passed to %s(), which does not accept NULL", api);
            if (en_fire(cx, st, CK_DEREF, s, loc, why, false) & CK_STOP)
                return -1;
        }
        /* the caller evidently knows it is not NULL: later checks agree */
        if ((fl & (KB_ARG_NONNULL | KB_ARG_INCREF | KB_ARG_DECREF)) && !(fl & KB_ARG_NULLOK) &&
            st->syms[s].null == NL_UNKNOWN)
            st->syms[s].null = NL_NONNULL;
        if (sy->kind == SK_OBJ && !(fl & (KB_ARG_DECREF | KB_ARG_XDECREF | KB_ARG_STEAL |
                                          KB_ARG_STEAL_OK | KB_ARG_RELEASE_FAIL | KB_ARG_CLEAR |
                                          KB_ARG_ASSIGN_DST)))
            en_fire(cx, st, CK_USE, s, loc, api, (fl & KB_ARG_NULLOK) != 0);
    }
    if (st->dead)
        return -1;

    /* the result */
    int r = -1;
    bool obj_result = k->ret == KB_RET_NEW || k->ret == KB_RET_BORROWED || k->ret == KB_RET_NULL;
    /* the argument handed back (Py_NewRef, a helper returning `self`):
     * only when the call succeeds; a failed call returns NULL */
    if (k->ret_same_as >= 0 && k->ret_same_as < nargs && args[k->ret_same_as] >= 0 && outcome == OUT_OK) {
        r = args[k->ret_same_as];
        uint32_t fl = kb_arg_flags(k, k->ret_same_as);
        if (k->ret == KB_RET_NEW && !(fl & (KB_ARG_INCREF | KB_ARG_XINCREF)))
            en_incref(cx, st, r, api, loc, true);
    } else if (obj_result || (k->ret == KB_RET_UNKNOWN && call->ty == TY_OBJ)) {
        r = en_fresh(st, TY_OBJ, OR_UNKNOWN, loc);
        if (r < 0)
            return -1;
        en_sym *rs = &st->syms[r];
        rs->api = api;
        if (k->ret == KB_RET_NULL || outcome != OUT_OK) {
            rs->null = NL_NULL;
        } else {
            rs->null = NL_NONNULL;   /* cannot fail: not NULL (PyModule_GetDict) */
            if (k->immortal_result) {
                /* a static object (None, a module definition): its count
                 * never decides anything */
                rs->origin = OR_UNKNOWN;
                rs->refs = 0;
            } else if (k->ret == KB_RET_NEW) {
                rs->origin = OR_NEW;
                rs->refs = 1;
            } else if (k->ret == KB_RET_BORROWED) {
                rs->origin = OR_BORROWED;
                if (k->ret_owner >= 0 && k->ret_owner < nargs) {
                    rs->owner = args[k->ret_owner];
                    /* held by an object tp_dealloc is destroying: ours */
                    if (rs->owner >= 0 && (st->syms[rs->owner].flags & SF_DYING))
                        rs->origin = OR_FIELD;
                }
            }
        }
    } else if (k->ret == KB_RET_INT || (k->ret == KB_RET_UNKNOWN && call->ty == TY_INT)) {
        r = en_fresh(st, TY_INT, OR_UNKNOWN, loc);
        if (r < 0)
            return -1;
        en_sym *rs = &st->syms[r];
        rs->api = api;
        switch (k->fail) {
        case KB_FAIL_NEG:
            if (outcome == OUT_OK) {
                rs->lo = 0;
                if (k->ok == KB_OK_ZERO) {
                    rs->hi = 0;
                    rs->flags |= SF_ZERO_KNOWN;
                } else if (k->ok == KB_OK_BOOL)
                    rs->hi = 1;
            } else { rs->lo = rs->hi = -1; rs->flags |= SF_NONZERO; }
            break;

        case KB_FAIL_NEG_AMBIGUOUS:
            if (outcome != OUT_OK) { rs->lo = rs->hi = -1; rs->flags |= SF_NONZERO; }
            break;
        case KB_FAIL_ZERO:
            if (outcome == OUT_OK) { rs->lo = 1; rs->flags |= SF_NONZERO; }
            else { rs->lo = rs->hi = 0; rs->flags |= SF_ZERO_KNOWN; }
            break;
        case KB_FAIL_NEG_OR_ZERO_ABSENT:
            if (outcome == OUT_OK) { rs->lo = rs->hi = 1; rs->flags |= SF_NONZERO; }
            else if (outcome == OUT_ERROR) { rs->lo = rs->hi = -1; rs->flags |= SF_NONZERO; }
            else { rs->lo = rs->hi = 0; rs->flags |= SF_ZERO_KNOWN; }
            break;
        default:
            break;
        }
        /* PyTuple_GET_SIZE(t): remember whose length it is, so a branch on
         * it tells which indexes of t exist */
        int lo_arg = k->len_of - 1;
        if (lo_arg >= 0 && lo_arg < nargs && args[lo_arg] >= 0 && st->syms[args[lo_arg]].kind == SK_OBJ &&
            outcome == OUT_OK) {
            rs->flags |= SF_LEN_OF;
            rs->owner = args[lo_arg];
            if (rs->lo < 0)
                rs->lo = 0;
        }
        if (k->has_range && outcome == OUT_OK) {
            if (k->range_lo > rs->lo)
                rs->lo = k->range_lo;
            if (k->range_hi < rs->hi)
                rs->hi = k->range_hi;
            if (rs->lo > rs->hi)
                rs->lo = rs->hi = k->range_lo;
            if (rs->lo > 0)
                rs->flags |= SF_NONZERO;
            if (rs->lo == 0 && rs->hi == 0)
                rs->flags |= SF_ZERO_KNOWN;
        }
    } else if (k->ret == KB_RET_PTR || (k->ret == KB_RET_UNKNOWN && call->ty != TY_VOID)) {
        r = en_fresh(st, call->ty == TY_OBJ ? TY_PTR : (call->ty == TY_VOID ? TY_PTR : call->ty),
                     OR_UNKNOWN, loc);
        if (r < 0)
            return -1;
        en_sym *rs = &st->syms[r];
        rs->api = api;
        if (rs->kind == SK_PTR) {
            if (k->exc_probe) {
                rs->flags |= SF_EXC_PROBE;
                rs->null = st->exc == EXC_SET ? NL_NONNULL : st->exc == EXC_CLEAR ? NL_NULL : NL_UNKNOWN;
            } else if (k->fail == KB_FAIL_NULL || k->fail == KB_FAIL_NULL_OR_ABSENT)
                rs->null = outcome == OUT_OK ? NL_NONNULL : NL_NULL;
            else if (k->fail == KB_FAIL_NEVER && k->ret == KB_RET_PTR)
                rs->null = NL_NONNULL;
        } else if (rs->kind == SK_INT && k->fail == KB_FAIL_NEG) {
            if (outcome == OUT_OK) rs->lo = 0;
            else { rs->lo = rs->hi = -1; rs->flags |= SF_NONZERO; }
        }
    }

    /* PyErr_Occurred(): non-NULL exactly when an exception is set */
    if (k->exc_probe && r >= 0 && (st->syms[r].kind == SK_PTR || st->syms[r].kind == SK_OBJ)) {
        en_sym *rs = &st->syms[r];
        rs->flags |= SF_EXC_PROBE;
        rs->origin = OR_UNKNOWN;
        rs->refs = 0;
        rs->null = st->exc == EXC_SET ? NL_NONNULL : st->exc == EXC_CLEAR ? NL_NULL : NL_UNKNOWN;
    }

    /* effects on the arguments */
    /* a stolen item lives in the first argument (tuple, list, module) */
    int container = nargs > 0 && args[0] >= 0 && st->syms[args[0]].kind == SK_OBJ &&
                    (k->ret == KB_RET_INT || k->ret == KB_RET_VOID) && !k->summary ? args[0] : -1;
    int assign_src = -1;
    for (int i = 0; i < nargs; i++)
        if (kb_arg_flags(k, i) & KB_ARG_ASSIGN_SRC)
            assign_src = i;
    for (int i = 0; i < nargs && !st->dead; i++) {
        uint32_t fl = kb_arg_flags(k, i);
        int s = args[i];
        if (fl & KB_ARG_ASSIGN_DST) {
            /* tmp = dst; dst = src; release(tmp): released first here so
             * that rebinding dst does not look like losing the old value */
            int src = assign_src >= 0 ? args[assign_src] : -1;
            int old = s;
            const ast_expr *dst = call->kids[i + argoff];
            en_release(cx, st, old, api, loc, (fl & (KB_ARG_XDECREF | KB_ARG_NULLOK)) != 0,
                       en_is_cell_expr(dst) ? EN_VIA_CELL_REPLACE : 0);
            if (src >= 0)
                en_assign(cx, st, dst, src, loc);
            continue;
        }
        if (s < 0)
            continue;
        if (fl & (KB_ARG_INCREF | KB_ARG_XINCREF))
            en_incref(cx, st, s, api, loc, (fl & KB_ARG_XINCREF) != 0);
        bool via_cell = en_is_cell_expr(call->kids[i + argoff]);
        if (fl & (KB_ARG_DECREF | KB_ARG_XDECREF))
            en_release(cx, st, s, api, loc, (fl & KB_ARG_XDECREF) != 0,
                       via_cell ? ((fl & KB_ARG_CLEAR) ? EN_VIA_CELL_REPLACE : EN_VIA_CELL_KEEP) : 0);
        if (fl & KB_ARG_CLEAR) {
            if (!(fl & (KB_ARG_DECREF | KB_ARG_XDECREF)))
                en_release(cx, st, s, api, loc, true, via_cell ? EN_VIA_CELL_REPLACE : 0);
            int nul = en_null_const(st, TY_OBJ, loc);
            en_assign(cx, st, call->kids[i + argoff], nul, loc);
            en_event_add(cx, st, EV_NULL_ASSIGN, s, loc,
                         call->kids[i + argoff]->name ? call->kids[i + argoff]->name : api, NULL, 0);
        }
        /* a helper of this file inferred to store its argument without a
         * reference of its own (no annotation says it steals): for a caller
         * that does not own one, that is a store on credit, as
         * `ev->vec = self; Py_INCREF(self);` is (pyrsistent's
         * initializeEvolver(evolver, self, NULL); Py_INCREF(self);) */
        bool annotated = call->kind == AX_CALL && call->annot && i < 32 &&
                         (call->annot->steals & (1u << i));
        if (k->summary && (fl & KB_ARG_STEAL) && !annotated && s >= 0 && st->syms[s].kind == SK_OBJ &&
            st->syms[s].refs <= 0 && !(st->syms[s].flags & SF_DEAD))
            en_escape(cx, st, s, api, loc);
        else if ((fl & KB_ARG_STEAL) || ((fl & KB_ARG_STEAL_OK) && outcome == OUT_OK))
            en_steal(cx, st, s, i == 0 ? -1 : container, api, loc);
        if ((fl & KB_ARG_RELEASE_FAIL) && outcome == OUT_ERROR)
            en_release(cx, st, s, api, loc, true, via_cell ? EN_VIA_CELL_KEEP : 0);
        if ((fl & KB_ARG_KEEP) && st->syms[s].kind == SK_OBJ) {
            st->syms[s].flags |= SF_KEPT;
        }
        if (fl & (KB_ARG_OUT_NEW | KB_ARG_OUT_BORROW)) {
            bool is_new = (fl & KB_ARG_OUT_NEW) != 0;
            int v = -1;
            if (outcome == OUT_OK) {
                v = en_fresh(st, TY_OBJ, is_new ? OR_NEW : OR_BORROWED, loc);
                if (v >= 0) {
                    st->syms[v].api = api;
                    st->syms[v].refs = is_new ? 1 : 0;
                    st->syms[v].null = (fl & KB_ARG_OUT_NULLOK) ? NL_UNKNOWN : NL_NONNULL;
                    if (!is_new && k->ret_owner >= 0 && k->ret_owner < nargs)
                        st->syms[v].owner = args[k->ret_owner];
                    else if (!is_new && container >= 0)
                        st->syms[v].owner = container;
                    if ((fl & KB_ARG_OUT_NULLOK) && is_new)
                        st->syms[v].refs = 1;
                }
            } else if (is_new) {
                v = en_null_const(st, TY_OBJ, loc);
            }
            if (v >= 0)
                en_store_through(cx, st, s, v, loc);
        }
        if (fl & KB_ARG_INOUT_STEAL) {
            int old = en_load_through(cx, st, s);
            if (old >= 0)
                en_steal(cx, st, old, -1, api, loc);
            int v = outcome == OUT_OK ? en_fresh(st, TY_OBJ, OR_NEW, loc) : en_null_const(st, TY_OBJ, loc);
            if (v >= 0 && outcome == OUT_OK) {
                st->syms[v].refs = 1;
                st->syms[v].null = NL_NONNULL;
                st->syms[v].api = api;
            }
            if (v >= 0)
                en_store_through(cx, st, s, v, loc);
        }
    }
    if (st->dead)
        return -1;
    /* a helper given &x may have released or replaced *x (cleanup
     * functions, out-parameters its summary does not describe) */
    if (k->summary)
        en_forget_fields(cx, st, call);
    if (k->summary) {
        for (int i = 0; i < nargs; i++) {
            int p = args[i];
            if (p < 0 || st->syms[p].kind != SK_PTR || (kb_arg_flags(k, i) & (KB_ARG_OUT_NEW | KB_ARG_OUT_BORROW)))
                continue;
            int old = en_load_through(cx, st, p);
            if (old >= 0 && st->syms[old].kind == SK_OBJ)
                st->syms[old].flags |= SF_ESCAPED;
            /* and *x may hold anything now (set on some outcomes only) */
            en_sym *ps = &st->syms[p];
            if (ps->addr_var >= 0 && ps->addr_var < cx->f->nvars && !cx->f->vars[ps->addr_var]->is_array) {
                ast_var *v = cx->f->vars[ps->addr_var];
                int nv = en_fresh(st, v->ty, OR_UNKNOWN, loc);
                if (nv >= 0)
                    st->vars[v->id] = nv;
            }
        }
    }
    if (k->fmt == KB_FMT_PARSE || k->fmt == KB_FMT_PARSE_KW)
        en_apply_parse(cx, st, k, call, args, nargs, outcome);
    else if (k->fmt == KB_FMT_BUILD)
        en_apply_build(cx, st, k, call, args, nargs);

    /* the exception state and the path notes */
    if (k->clears_exc) {
        st->exc = EXC_CLEAR;
        en_event_add(cx, st, EV_EXC_CLEAR, -1, loc, api, NULL, 0);
    }
    if (k->sets_exc || k->ret == KB_RET_NULL) {
        st->exc = EXC_SET;
        en_event_add(cx, st, EV_EXC_SET, -1, loc, api, NULL, 0);
    }
    if (k->exc_unknown && st->exc == EXC_CLEAR)
        st->exc = EXC_UNKNOWN;
    /* a helper returning -1 on error and any other int on success (a
     * hash): the caller's `== -1` test cannot tell them apart here */
    if (k->summary && k->fail == KB_FAIL_NEG_AMBIGUOUS && outcome == OUT_OK && st->exc == EXC_CLEAR)
        st->exc = EXC_UNKNOWN;
    if (outcome == OUT_ERROR) {
        if (k->fail_sets_exc || k->fail == KB_FAIL_NEG_OR_ZERO_ABSENT)
            st->exc = EXC_SET;
        en_event_add(cx, st, EV_FAIL, -1, loc, api, NULL, 0);
    } else if (outcome == OUT_ABSENT) {
        en_event_add(cx, st, EV_ABSENT, -1, loc, api, NULL, 0);
    } else if (r >= 0 && st->syms[r].kind == SK_OBJ && k->ret_same_as < 0) {
        if (st->syms[r].origin == OR_NEW)
            en_event_add(cx, st, EV_NEW, r, loc, api, NULL, 0);
        else if (st->syms[r].origin == OR_BORROWED)
            en_event_add(cx, st, EV_BORROW, r, loc, api, NULL, 0);
    }
    if (k->noreturn || call->callee_noreturn) {
        st->dead = true;
        return -1;
    }
    return r;
}

static int en_call(en_ctx *cx, en_state *st, const ast_expr *e)
{
    int first = e->kind == AX_CALL ? 1 : 0;
    int nargs = e->nkids - first;
    if (nargs < 0)
        nargs = 0;
    int small[16];
    int *args = nargs <= 16 ? small : pa_alloc(cx->a, (size_t)nargs * sizeof *args);
    if (e->kind == AX_CALL && !e->name && e->nkids > 0)
        en_eval(cx, st, e->kids[0]);       /* function pointer */
    for (int i = 0; i < nargs; i++) {
        args[i] = st->dead ? -1 : en_eval(cx, st, e->kids[i + first]);
    }
    if (st->dead)
        return -1;
    kb_entry scratch;
    const kb_entry *k = en_callee_entry(cx, e, &scratch);
    if (!k)
        return en_unknown_call(cx, st, e, args, nargs);
    return en_known_call(cx, st, e, k, args, nargs);
}

/* ------------------------------------------------------------------ */
/* expressions                                                        */

static int en_compare(en_ctx *cx, en_state *st, const ast_expr *e, int a, int b)
{
    int r = en_fresh(st, TY_INT, OR_UNKNOWN, e->loc);
    if (r < 0)
        return -1;
    en_sym *rs = &st->syms[r];
    rs->lo = 0;
    rs->hi = 1;
    rs->rel = REL_CMP;
    rs->rel_op = (uint8_t)e->op;
    rs->rel_a = a;
    rs->rel_b = b;
    if (a < 0 || b < 0)
        return r;
    const en_sym *x = &st->syms[a], *y = &st->syms[b];
    int decided = -1;
    if ((x->kind == SK_OBJ || x->kind == SK_PTR) && (y->kind == SK_OBJ || y->kind == SK_PTR ||
        (y->kind == SK_INT && y->lo == 0 && y->hi == 0))) {
        bool xn = x->null == NL_NULL, yn = y->kind == SK_INT || y->null == NL_NULL;
        bool xnn = x->null == NL_NONNULL, ynn = y->kind != SK_INT && y->null == NL_NONNULL;
        bool x_static = x->origin == OR_SINGLETON || (x->origin == OR_GLOBAL && x->addr_key);
        bool y_static = y->origin == OR_SINGLETON || (y->origin == OR_GLOBAL && y->addr_key);
        if (a == b)
            decided = e->op == AO_EQ ? 1 : e->op == AO_NE ? 0 : -1;
        else if ((e->op == AO_EQ || e->op == AO_NE) &&
                 ((x_static && y->origin == OR_NEW && y->null == NL_NONNULL) ||
                  (y_static && x->origin == OR_NEW && x->null == NL_NONNULL)))
            /* a freshly made object is never Py_NotImplemented or a static type */
            decided = e->op == AO_NE;
        else if (e->op == AO_EQ || e->op == AO_NE) {
            int eq = -1;
            if (xn && yn) eq = 1;
            else if ((xn && ynn) || (xnn && yn)) eq = 0;
            if (eq >= 0)
                decided = e->op == AO_EQ ? eq : !eq;
        }
    } else if (x->kind == SK_INT && y->kind == SK_INT) {
        int64_t xl = x->lo, xh = x->hi, yl = y->lo, yh = y->hi;
        switch (e->op) {
        case AO_EQ: if (xl == xh && yl == yh && xl == yl) decided = 1; else if (xh < yl || yh < xl) decided = 0; break;
        case AO_NE: if (xl == xh && yl == yh && xl == yl) decided = 0; else if (xh < yl || yh < xl) decided = 1; break;
        case AO_LT: if (xh < yl) decided = 1; else if (xl >= yh) decided = 0; break;
        case AO_LE: if (xh <= yl) decided = 1; else if (xl > yh) decided = 0; break;
        case AO_GT: if (xl > yh) decided = 1; else if (xh <= yl) decided = 0; break;
        case AO_GE: if (xl >= yh) decided = 1; else if (xh < yl) decided = 0; break;
        default: break;
        }
        if ((e->op == AO_EQ || e->op == AO_NE) && decided < 0 && yl == 0 && yh == 0) {
            if (x->flags & SF_NONZERO) decided = e->op == AO_NE;
        }
    }
    if (decided >= 0) {
        rs->lo = rs->hi = decided;
        rs->flags |= decided ? SF_NONZERO : SF_ZERO_KNOWN;
    }
    return r;
}

static int64_t en_sat_add(int64_t a, int64_t b)
{
    if (a == INT64_MIN || a == INT64_MAX)
        return a;
    if (b > 0 && a > INT64_MAX - b) return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b) return INT64_MIN;
    return a + b;
}

static int en_eval_body(en_ctx *cx, en_state *st, const ast_expr *e)
{
    switch (e->kind) {
    case AX_INT:
        return en_int_const(st, e->ival, e->loc);
    case AX_NULL:
        return en_null_const(st, e->ty == TY_OTHER ? TY_PTR : e->ty, e->loc);
    case AX_STRING:
    case AX_FUNC:
    case AX_LABEL_ADDR: {
        int s = en_fresh(st, TY_PTR, OR_UNKNOWN, e->loc);
        if (s >= 0)
            st->syms[s].null = NL_NONNULL;
        return s;
    }
    case AX_FLOAT:
    case AX_SIZEOF:
        return en_fresh(st, e->kind == AX_SIZEOF ? TY_INT : TY_FLOAT, OR_UNKNOWN, e->loc);
    case AX_VAR:
        return en_read_var(cx, st, e->var, e->loc);
    case AX_CALL:
    case AX_MACRO:
        return en_call(cx, st, e);
    case AX_MEMBER: {
        if (e->nkids < 1)
            return en_fresh(st, e->ty, OR_UNKNOWN, e->loc);
        const ast_expr *base_e = en_strip_casts(e->kids[0]);
        int base = en_eval(cx, st, e->kids[0]);
        if (st->dead)
            return -1;
        if (e->op && base >= 0) {
            if (en_fire(cx, st, CK_DEREF, base, e->loc, "it is dereferenced", false) & CK_STOP)
                return -1;
            en_fire(cx, st, CK_USE, base, e->loc, NULL, false);
        }
        (void)base_e;
        return en_read_cell(cx, st, e, base);
    }
    case AX_INDEX: {
        int base = en_eval(cx, st, e->kids[0]);
        if (e->nkids > 1)
            en_eval(cx, st, e->kids[1]);
        if (st->dead)
            return -1;
        if (base >= 0 && (en_fire(cx, st, CK_DEREF, base, e->loc, "it is indexed", false) & CK_STOP))
            return -1;
        return en_read_cell(cx, st, e, base);
    }
    case AX_DEREF: {
        int p = en_eval(cx, st, e->kids[0]);
        if (st->dead)
            return -1;
        if (p >= 0 && st->syms[p].addr_var >= 0 && st->syms[p].addr_var < cx->f->nvars &&
            !cx->f->vars[st->syms[p].addr_var]->is_array)
            return en_read_var(cx, st, cx->f->vars[st->syms[p].addr_var], e->loc);
        if (p >= 0 && st->syms[p].addr_key) {
            int v = st_cell_get(st, st->syms[p].addr_key);
            if (v >= 0)
                return v;
        }
        if (p >= 0 && (en_fire(cx, st, CK_DEREF, p, e->loc, "it is dereferenced", false) & CK_STOP))
            return -1;
        return en_read_cell(cx, st, e, p);
    }
    case AX_ADDR: {
        const ast_expr *t = en_strip_casts(e->kids[0]);
        if (t && t->kind == AX_VAR && en_is_local(t->var)) {
            int s = en_fresh(st, TY_PTR, OR_UNKNOWN, e->loc);
            if (s >= 0) {
                st->syms[s].null = NL_NONNULL;
                st->syms[s].addr_var = t->var->id;
            }
            return s;
        }
        /* address of a global or a field: one symbol per lvalue */
        if (t && (t->kind == AX_MEMBER || t->kind == AX_INDEX) && t->nkids > 0) {
            int base = en_eval(cx, st, t->kids[0]);
            if (st->dead)
                return -1;
            (void)base;
        }
        const char *key = t ? en_expr_key(cx, t, "&") : en_intern(cx, "&?");
        int s = st_cell_get(st, key);
        if (s >= 0)
            return s;
        s = en_fresh(st, e->ty == TY_OBJ ? TY_OBJ : TY_PTR, OR_GLOBAL, e->loc);
        if (s < 0)
            return -1;
        st->syms[s].null = NL_NONNULL;
        st->syms[s].addr_key = t ? en_expr_key(cx, t, NULL) : NULL;
        if (t && t->kind == AX_VAR) {
            st->syms[s].name = t->var->name;
            if (kb_is_singleton(cx->ef->k, t->var->name))
                st->syms[s].origin = OR_SINGLETON;
        }
        st_cell_set(st, key, s);
        return s;
    }
    case AX_CAST: {
        int s = en_eval(cx, st, e->kids[0]);
        if (s < 0 || st->dead)
            return s;
        sym_kind want = en_kind_of(e->ty);
        sym_kind have = (sym_kind)st->syms[s].kind;
        if ((want == SK_OBJ && have == SK_PTR && st->syms[s].addr_var < 0) ||
            (want == SK_PTR && have == SK_OBJ) || want == have || want == SK_OTHER)
        {
            if (want == SK_OBJ && have == SK_PTR)
                st->syms[s].kind = SK_OBJ;   /* (PyObject *)ptr: now an object */
            return s;
        }
        return en_fresh(st, e->ty, OR_UNKNOWN, e->loc);
    }
    case AX_ASSIGN: {
        if (e->nkids != 2)
            return -1;
        int v;
        if (e->op == AO_NONE) {
            v = en_eval(cx, st, e->kids[1]);
        } else {
            int a = en_eval(cx, st, e->kids[0]);
            int b = en_eval(cx, st, e->kids[1]);
            v = en_fresh(st, e->ty, OR_UNKNOWN, e->loc);
            if (v >= 0 && a >= 0 && b >= 0 && st->syms[a].kind == SK_INT && st->syms[b].kind == SK_INT &&
                st->syms[b].lo == st->syms[b].hi && (e->op == AO_ADD || e->op == AO_SUB)) {
                int64_t d = e->op == AO_ADD ? st->syms[b].lo : -st->syms[b].lo;
                st->syms[v].lo = en_sat_add(st->syms[a].lo, d);
                st->syms[v].hi = en_sat_add(st->syms[a].hi, d);
            }
        }
        if (st->dead)
            return -1;
        en_assign(cx, st, e->kids[0], v, e->loc);
        return v;
    }
    case AX_UNARY: {
        int a = en_eval(cx, st, e->kids[0]);
        if (st->dead || a < 0)
            return a;
        if (e->op == AO_NOT) {
            int r = en_fresh(st, TY_INT, OR_UNKNOWN, e->loc);
            if (r < 0)
                return -1;
            st->syms[r].lo = 0;
            st->syms[r].hi = 1;
            st->syms[r].rel = REL_NOT;
            st->syms[r].rel_a = a;
            const en_sym *x = &st->syms[a];
            int truth = -1;
            if (x->kind == SK_OBJ || x->kind == SK_PTR)
                truth = x->null == NL_NULL ? 0 : x->null == NL_NONNULL ? 1 : -1;
            else if (x->kind == SK_INT)
                truth = (x->lo > 0 || x->hi < 0 || (x->flags & SF_NONZERO)) ? 1
                        : (x->lo == 0 && x->hi == 0) ? 0 : -1;
            if (truth >= 0)
                st->syms[r].lo = st->syms[r].hi = !truth;
            return r;
        }
        if (e->op == AO_PREINC || e->op == AO_PREDEC || e->op == AO_POSTINC || e->op == AO_POSTDEC) {
            int r = en_fresh(st, e->ty, OR_UNKNOWN, e->loc);
            if (r < 0)
                return -1;
            const en_sym *x = &st->syms[a];
            if (x->kind == SK_INT) {
                int64_t d = (e->op == AO_PREINC || e->op == AO_POSTINC) ? 1 : -1;
                st->syms[r].lo = en_sat_add(x->lo, d);
                st->syms[r].hi = en_sat_add(x->hi, d);
            } else if (x->kind == SK_PTR || x->kind == SK_OBJ) {
                st->syms[r].null = NL_NONNULL;
            }
            en_assign(cx, st, e->kids[0], r, e->loc);
            return (e->op == AO_POSTINC || e->op == AO_POSTDEC) ? a : r;
        }
        int r = en_fresh(st, e->ty, OR_UNKNOWN, e->loc);
        if (r >= 0 && e->op == AO_NEG && st->syms[a].kind == SK_INT && st->syms[a].lo == st->syms[a].hi &&
            st->syms[a].lo != INT64_MIN) {
            st->syms[r].lo = st->syms[r].hi = -st->syms[a].lo;
            st->syms[r].flags |= st->syms[r].lo ? SF_NONZERO : SF_ZERO_KNOWN;
        }
        return r;
    }
    case AX_BINARY: {
        int a = en_eval(cx, st, e->kids[0]);
        int b = st->dead ? -1 : en_eval(cx, st, e->kids[1]);
        if (st->dead)
            return -1;
        switch (e->op) {
        case AO_EQ: case AO_NE: case AO_LT: case AO_GT: case AO_LE: case AO_GE:
            return en_compare(cx, st, e, a, b);
        default:
            break;
        }
        int r = en_fresh(st, e->ty, OR_UNKNOWN, e->loc);
        if (r < 0 || a < 0 || b < 0)
            return r;
        const en_sym *x = &st->syms[a], *y = &st->syms[b];
        if (x->kind == SK_INT && y->kind == SK_INT && x->lo == x->hi && y->lo == y->hi &&
            st->syms[r].kind == SK_INT) {
            long long v = 0;
            bool ok = true;
            switch (e->op) {
            case AO_ADD: v = (long long)((uint64_t)x->lo + (uint64_t)y->lo); break;
            case AO_SUB: v = (long long)((uint64_t)x->lo - (uint64_t)y->lo); break;
            case AO_MUL: v = (long long)((uint64_t)x->lo * (uint64_t)y->lo); break;
            case AO_AND: v = x->lo & y->lo; break;
            case AO_OR: v = x->lo | y->lo; break;
            default: ok = false; break;
            }
            if (ok) {
                st->syms[r].lo = st->syms[r].hi = v;
                st->syms[r].flags |= v ? SF_NONZERO : SF_ZERO_KNOWN;
            }
        } else if ((x->kind == SK_PTR || x->kind == SK_OBJ) && st->syms[r].kind != SK_INT) {
            st->syms[r].null = x->null == NL_NONNULL ? NL_NONNULL : NL_UNKNOWN;
        }
        return r;
    }
    case AX_INIT_LIST:
        for (int i = 0; i < e->nkids && !st->dead; i++) {
            int s = en_eval(cx, st, e->kids[i]);
            if (s >= 0 && st->syms[s].kind == SK_OBJ && !cx->init_local)
                en_escape(cx, st, s, "an initializer", e->loc);
        }
        return en_fresh(st, e->ty, OR_UNKNOWN, e->loc);
    case AX_LOGIC:
    case AX_COND:
    case AX_COMMA:
    case AX_STMT_EXPR:
        /* lowered by the CFG builder; only reached inside sizeof-like
         * contexts that were not lowered */
        return en_fresh(st, e->ty, OR_UNKNOWN, e->loc);
    case AX_UNKNOWN:
    default:
        for (int i = 0; i < e->nkids && !st->dead; i++) {
            int s = en_eval(cx, st, e->kids[i]);
            if (s >= 0 && st->syms[s].kind == SK_OBJ)
                st->syms[s].flags |= SF_ESCAPED;
        }
        return en_fresh(st, e->ty, OR_UNKNOWN, e->loc);
    }
}

int en_eval(en_ctx *cx, en_state *st, const ast_expr *e)
{
    if (!e || st->dead)
        return -1;
    return en_eval_body(cx, st, e);
}

/* ------------------------------------------------------------------ */
/* conditions                                                         */

/* Refines sym s under the assumption that it is true (truth=1) or false.
 * Returns false when that is impossible on this path. */
bool en_assume(en_ctx *cx, en_state *st, int s, bool truth, int depth)
{
    if (s < 0 || depth > 16)
        return true;
    en_sym *x = &st->syms[s];
    if (x->kind == SK_OBJ || x->kind == SK_PTR) {
        if (x->null == NL_NULL)
            return !truth;
        if (x->null == NL_NONNULL)
            return truth;
        x->null = truth ? NL_NONNULL : NL_NULL;
        if (x->flags & SF_EXC_PROBE) {
            if (st->exc == EXC_UNKNOWN)
                st->exc = truth ? EXC_SET : EXC_CLEAR;
        } else if (!truth && x->api && st->exc == EXC_CLEAR) {
            /* a call said nothing about NULL, yet it returned one: we do
             * not know whether it set an exception */
            st->exc = EXC_UNKNOWN;
        }
        if (!truth && x->kind == SK_OBJ)
            x->refs = 0;      /* a NULL pointer owns nothing */
        return true;
    }
    if (x->kind != SK_INT)
        return true;
    bool nz = x->lo > 0 || x->hi < 0 || (x->flags & SF_NONZERO);
    bool z = (x->lo == 0 && x->hi == 0) || (x->flags & SF_ZERO_KNOWN);
    if (truth && z)
        return false;
    if (!truth && nz)
        return false;
    if (truth) {
        x->flags |= SF_NONZERO;
        if (x->lo == 0) x->lo = 1;
        if (x->hi == 0) x->hi = -1;
    } else {
        x->flags |= SF_ZERO_KNOWN;
        x->lo = x->hi = 0;
    }
    /* propagate through relations */
    if (x->rel == REL_NOT)
        return en_assume(cx, st, x->rel_a, !truth, depth + 1);
    if (x->rel == REL_CMP && x->rel_a >= 0 && x->rel_b >= 0) {
        en_sym *a = &st->syms[x->rel_a], *b = &st->syms[x->rel_b];
        int op = x->rel_op;
        if (!truth) {
            switch (op) {
            case AO_EQ: op = AO_NE; break;
            case AO_NE: op = AO_EQ; break;
            case AO_LT: op = AO_GE; break;
            case AO_GE: op = AO_LT; break;
            case AO_GT: op = AO_LE; break;
            case AO_LE: op = AO_GT; break;
            default: return true;
            }
        }
        /* pointer against NULL */
        bool a_ptr = a->kind == SK_OBJ || a->kind == SK_PTR;
        bool b_null = (b->kind == SK_OBJ || b->kind == SK_PTR) ? b->null == NL_NULL
                      : (b->kind == SK_INT && b->lo == 0 && b->hi == 0);
        bool a_null = a_ptr && a->null == NL_NULL;
        bool b_ptr = b->kind == SK_OBJ || b->kind == SK_PTR;
        if (op == AO_EQ && a->kind == SK_OBJ && b->kind == SK_OBJ) {
            /* `o->x == Py_None`: the slot (a field, an item read through a
             * struct pointer) holds a reference to the singleton */
            bool a_slot = a->origin == OR_FIELD || a->origin == OR_UNKNOWN;
            bool b_slot = b->origin == OR_FIELD || b->origin == OR_UNKNOWN;
            if (b->origin == OR_SINGLETON && a_slot)
                b->flags |= SF_SLOT_HELD;
            else if (a->origin == OR_SINGLETON && b_slot)
                a->flags |= SF_SLOT_HELD;
        }
        if (a_ptr && b_null && (op == AO_EQ || op == AO_NE))
            return en_assume(cx, st, x->rel_a, op == AO_NE, depth + 1);
        if (b_ptr && a_null && (op == AO_EQ || op == AO_NE))
            return en_assume(cx, st, x->rel_b, op == AO_NE, depth + 1);
        if (a->kind == SK_INT && b->kind == SK_INT) {
            /* refine a against a constant b (or b against a constant a) */
            en_sym *v = a;
            int64_t k;
            bool swapped = false;
            if (b->lo == b->hi)
                k = b->lo;
            else if (a->lo == a->hi) {
                v = b;
                k = a->lo;
                swapped = true;
                switch (op) {
                case AO_LT: op = AO_GT; break;
                case AO_GT: op = AO_LT; break;
                case AO_LE: op = AO_GE; break;
                case AO_GE: op = AO_LE; break;
                default: break;
                }
            } else
                return true;
            (void)swapped;
            int64_t lo = v->lo, hi = v->hi;
            switch (op) {
            case AO_EQ: if (k < lo || k > hi) return false; lo = hi = k; break;
            case AO_NE:
                if (lo == hi && lo == k) return false;
                if (lo == k) lo = en_sat_add(lo, 1);
                else if (hi == k) hi = en_sat_add(hi, -1);
                if (k == 0) v->flags |= SF_NONZERO;
                break;
            case AO_LT: if (k == INT64_MIN) return false; if (hi > k - 1) hi = k - 1; break;
            case AO_LE: if (hi > k) hi = k; break;
            case AO_GT: if (k == INT64_MAX) return false; if (lo < k + 1) lo = k + 1; break;
            case AO_GE: if (lo < k) lo = k; break;
            default: break;
            }
            if (lo > hi)
                return false;
            if ((v->flags & SF_NONZERO) && lo == 0 && hi == 0)
                return false;
            if ((v->flags & SF_ZERO_KNOWN) && (lo > 0 || hi < 0))
                return false;
            v->lo = lo;
            v->hi = hi;
            if (lo > 0 || hi < 0)
                v->flags |= SF_NONZERO;
            if (lo == 0 && hi == 0)
                v->flags |= SF_ZERO_KNOWN;
        }
    }
    return true;
}

/* 1 true, 0 false, -1 unknown */
int en_truth(const en_state *st, int s)
{
    if (s < 0)
        return -1;
    const en_sym *x = &st->syms[s];
    if (x->kind == SK_OBJ || x->kind == SK_PTR)
        return x->null == NL_NULL ? 0 : x->null == NL_NONNULL ? 1 : -1;
    if (x->kind == SK_INT) {
        if (x->lo > 0 || x->hi < 0 || (x->flags & SF_NONZERO))
            return 1;
        if ((x->lo == 0 && x->hi == 0) || (x->flags & SF_ZERO_KNOWN))
            return 0;
    }
    return -1;
}

