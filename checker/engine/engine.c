/* engine.c - path exploration and the transfer function.
 *
 * Each function is explored depth-first over its CFG.  A path state binds
 * variables to symbols (engine/internal.h); instructions are interpreted
 * symbolically.  A call whose outcome matters (it can fail, or report
 * "absent") forks the path: every instruction is evaluated once with all
 * calls succeeding and once more for each single call taking each other
 * outcome.  Branches on tracked values refine them (x == NULL, r < 0,
 * PyErr_Occurred()) and prune infeasible paths.  Equal states at a block are
 * explored once; a path enters the same loop head at most loop_unroll times
 * (later iterations would repeat the same states).  Steps, time and memory
 * are budgeted per function; hitting a budget is reported as "analysis
 * incomplete: <reason>".
 *
 * The checks (checker/checks/) see the path through events: uses,
 * dereferences, releases, steals, returns and exits.  Static functions of
 * the file are analysed first when called and summarised as knowledge-base
 * entries (returns new/borrowed, can fail, sets an exception, steals).
 */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/strbuf.h"
#include "../checks/checks.h"
#include "internal.h"
#include "state.h"

#define EN_MAX_CALLS 64      /* calls remembered per instruction for forking */
#define EN_MAX_DEPTH 24      /* nested summary computations */

typedef struct en_summary {
    bool done;               /* computed */
    bool busy;               /* being computed (recursion) */
    bool usable;             /* entry describes the function */
    kb_entry entry;
} en_summary;

struct en_file {
    const kb *k;
    fe_tu *tu;
    en_budget budget;
    pr_report *out;
    int file_index;
    int pyver;
    pa_arena arena;          /* file lifetime */
    const char **callable;   /* functions named in file-scope initializers */
    const char **callable_slot; /* the field each was stored in ("tp_iternext"), or NULL */
    int ncallable;
    en_summary *sums;
    bool *analysed;
    int nfuncs;
    int depth;
};

typedef struct en_pending {
    const char *rule;
    src_loc site;            /* de-duplication key with rule */
    src_loc loc;
    const char *message;
    pr_step *steps;
    int nsteps;
    uint32_t pathlen;
} en_pending;

typedef struct en_work {
    cfg_block *b;
    en_state *st;
} en_work;

/* Accumulates what the function's returns look like, for its summary. */
typedef struct en_retacc {
    int nret;
    int null_ret, null_exc_clear;
    int obj_new, obj_borrowed, obj_other;
    int neg_ret, neg_exc_clear, zero_ret, zero_no_exc, other_int_ret, maybe_neg_ret;
    int exc_some;            /* returns with an exception possibly set */
    int exc_not_set;         /* returns without an exception surely set */
    int same_param;          /* the argument every non-NULL return hands back
                                with a new reference, -1 none, -2 not always */
    bool same_seen;
    int obj_passthrough;     /* returns of an argument as is */
    uint32_t passthrough_any;/* arguments returned as is on some path */
    int nint_ok;             /* non-negative int returns, and their range */
    int64_t int_lo, int_hi;
    uint32_t released_all;   /* param bits released (refs < 0 or NULL) on every return */
    uint32_t stored_all;     /* param bits stored without a reference of their own */
    uint32_t released_any;   /* param bits released on some return */
    uint32_t out_new_all;    /* PyObject ** params holding a new reference on success */
    uint32_t out_seen;       /* ... that were written on some success path */
    int nsuccess;
} en_retacc;

struct en_ctx {
    en_file *ef;
    int fidx;
    ast_func *f;
    cfg *g;
    pa_arena *a;
    en_fn_info fn;
    en_work *work;
    int nwork, cap_work;
    uint64_t *seen;          /* open addressing set of (block, hash) */
    size_t seen_slots, nseen;
    long steps;
    double t0;
    const char *incomplete;
    int choice_call;         /* which call takes a non-default outcome (-1 none) */
    int choice_outcome;
    int ncalls;              /* calls met in the current evaluation */
    int arity[EN_MAX_CALLS];
    const char **keys;       /* interned lvalue keys */
    int nkeys, cap_keys;
    en_pending *pend;
    int npend, cap_pend;
    int *canon;
    int cap_canon;
    en_retacc acc;
    sb_buf sb;
    int32_t next_uid;        /* symbol uids */
    struct { const char **slot; size_t n, cap; } keyset;  /* interned keys hash */
};

/* ------------------------------------------------------------------ */
/* small helpers                                                      */

static double en_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void en_budget_default(en_budget *b)
{
    b->max_steps = 50000;
    b->max_seconds = 10.0;
    b->loop_unroll = 2;
    b->max_bytes = 512u << 20;
}

const en_fn_info *en_fn(const en_ctx *cx)
{
    return &cx->fn;
}

en_sym *en_sym_at(en_state *st, int sym)
{
    return &st->syms[sym];
}

static size_t en_strhash(const char *s)
{
    size_t h = 5381;
    for (; *s; s++)
        h = h * 33 + (unsigned char)*s;
    return h;
}

/* Interns an lvalue key so keys compare by pointer. */
static const char *en_intern(en_ctx *cx, const char *s)
{
    if (cx->keyset.n * 2 >= cx->keyset.cap) {
        size_t ncap = cx->keyset.cap ? cx->keyset.cap * 2 : 256;
        const char **ns = pa_alloc(cx->a, ncap * sizeof *ns);
        if (pa_failed(cx->a))
            return "";
        for (size_t i = 0; i < cx->keyset.cap; i++) {
            const char *k = cx->keyset.slot[i];
            if (!k)
                continue;
            size_t j = en_strhash(k) & (ncap - 1);
            while (ns[j])
                j = (j + 1) & (ncap - 1);
            ns[j] = k;
        }
        cx->keyset.slot = ns;
        cx->keyset.cap = ncap;
    }
    size_t j = en_strhash(s) & (cx->keyset.cap - 1);
    while (cx->keyset.slot[j]) {
        if (strcmp(cx->keyset.slot[j], s) == 0)
            return cx->keyset.slot[j];
        j = (j + 1) & (cx->keyset.cap - 1);
    }
    const char *k = pa_strdup(cx->a, s);
    cx->keyset.slot[j] = k;
    cx->keyset.n++;
    return k;
}

static const char *en_expr_key(en_ctx *cx, const ast_expr *e, const char *prefix)
{
    sb_reset(&cx->sb);
    if (prefix)
        sb_puts(&cx->sb, prefix);
    cfg_expr_text(e, &cx->sb);
    return en_intern(cx, sb_str(&cx->sb));
}

static const ast_expr *en_strip_casts(const ast_expr *e)
{
    while (e && e->kind == AX_CAST && e->nkids == 1)
        e = e->kids[0];
    return e;
}

static void en_event_add(en_ctx *cx, en_state *st, ev_kind k, int sym, src_loc loc, const char *what,
                         const ast_expr *expr, int truth)
{
    en_event *ev = pa_alloc(cx->a, sizeof *ev);
    if (pa_failed(cx->a))
        return;
    ev->prev = st->trail;
    ev->kind = (uint8_t)k;
    ev->sym = sym >= 0 ? st->syms[sym].uid : -1;
    ev->refs = sym >= 0 ? st->syms[sym].refs : 0;
    ev->loc = loc;
    ev->what = what;
    ev->expr = expr;
    ev->truth = (uint8_t)truth;
    ev->depth = st->trail ? st->trail->depth + 1 : 1;
    st->trail = ev;
}

const char *en_strdup(en_ctx *cx, const char *s)
{
    return pa_strdup(cx->a, s);
}

const char *en_sym_desc(en_ctx *cx, const en_state *st, int sym)
{
    const en_sym *s = &st->syms[sym];
    if (s->name)
        return pa_printf(cx->a, "'%s'", s->name);
    if (s->addr_key)
        return pa_printf(cx->a, "'%s'", s->addr_key);
    if (s->api)
        return pa_printf(cx->a, "the result of %s()", s->api);
    return "the object";
}

bool en_sym_is_dead(const en_state *st, int sym, int *dead_owner)
{
    for (int hops = 0; sym >= 0 && hops < 16; hops++) {
        const en_sym *s = &st->syms[sym];
        if (s->flags & SF_DEAD) {
            if (dead_owner)
                *dead_owner = sym;
            return true;
        }
        if (s->refs > 0 || s->origin == OR_NEW)
            return false;     /* we hold it, or it is ours and alive */
        sym = s->owner;
    }
    return false;
}

bool en_sym_reachable(const en_state *st, int sym)
{
    for (int i = 0; i < st->nvars; i++)
        if (st->vars[i] == sym)
            return true;
    for (int i = 0; i < st->ncells; i++)
        if (st->cells[i].sym == sym)
            return true;
    for (int i = 0; i < st->nsyms; i++)
        if (st->syms[i].owner == sym && i != sym && (st->syms[i].flags & SF_STOLEN))
            return true;
    return false;
}

/* ------------------------------------------------------------------ */
/* findings                                                           */

static const char *en_event_text(en_ctx *cx, const en_state *st, const en_event *ev)
{
    const char *what = ev->what ? ev->what : "the call";
    switch ((ev_kind)ev->kind) {
    case EV_NEW:
        return pa_printf(cx->a, "%s() returns a new reference (refs: %d)", what, ev->refs);
    case EV_BORROW:
        return pa_printf(cx->a, "%s() returns a borrowed reference", what);
    case EV_FAIL:
        return pa_printf(cx->a, "taking the error branch: %s() failed", what);
    case EV_ABSENT:
        return pa_printf(cx->a, "%s() returns NULL without setting an exception", what);
    case EV_BRANCH: {
        sb_reset(&cx->sb);
        cfg_expr_text_plain(ev->expr, &cx->sb);
        return pa_printf(cx->a, "taking the %s branch: '%s' is %s", ev->truth ? "true" : "false",
                         sb_str(&cx->sb), ev->truth ? "true" : "false");
    }
    case EV_CASE:
        return pa_printf(cx->a, "taking a switch case");
    case EV_INCREF:
        return pa_printf(cx->a, "%s() takes a reference (refs: %d)", what, ev->refs);
    case EV_DECREF:
        return pa_printf(cx->a, "%s() releases a reference (refs: %d)", what, ev->refs);
    case EV_STEAL:
        return pa_printf(cx->a, "%s() steals the reference (refs: %d)", what, ev->refs);
    case EV_STORE:
        return pa_printf(cx->a, "reference stored into '%s'", what);
    case EV_NULL_ASSIGN:
        return pa_printf(cx->a, "'%s' set to NULL", what);
    case EV_ASSIGN:
        return pa_printf(cx->a, "assigned to '%s'", what);
    case EV_EXC_SET:
        return pa_printf(cx->a, "%s() sets an exception", what);
    case EV_EXC_CLEAR:
        return pa_printf(cx->a, "%s() clears the exception", what);
    case EV_RETURN:
        return pa_printf(cx->a, "returning");
    case EV_LOOP:
        return pa_printf(cx->a, "entering the loop again");
    }
    (void)st;
    return "";
}

/* Whether event ev is about sym (or an object related to it). */
static bool en_event_relevant(const en_state *st, const en_event *ev, int sym)
{
    if (ev->kind == EV_BRANCH || ev->kind == EV_FAIL || ev->kind == EV_ABSENT ||
        ev->kind == EV_EXC_SET || ev->kind == EV_EXC_CLEAR || ev->kind == EV_CASE)
        return true;
    if (sym < 0 || ev->sym < 0)
        return sym < 0;
    if (ev->sym == st->syms[sym].uid)
        return true;
    /* the owner of a borrowed reference */
    for (int s = sym, hops = 0; s >= 0 && hops < 8; hops++) {
        s = st->syms[s].owner;
        if (s >= 0 && st->syms[s].uid == ev->sym)
            return true;
    }
    return false;
}

void en_report(en_ctx *cx, en_state *st, const char *rule, int sym, src_loc loc, const char *message,
               const char *last_note)
{
    /* de-duplicate: leaks per allocation site, the rest per location */
    src_loc site = loc;
    site.col = 0;    /* one finding per rule and line */
    if (strcmp(rule, "leak") == 0 && sym >= 0)
        site = st->syms[sym].loc;
    uint32_t len = st->trail ? st->trail->depth : 0;
    en_pending *p = NULL;
    for (int i = 0; i < cx->npend; i++) {
        en_pending *q = &cx->pend[i];
        if (strcmp(q->rule, rule) == 0 && q->site.line == site.line && q->site.col == site.col) {
            /* keep the earliest location, then the shortest path */
            if (loc.line > q->loc.line || (loc.line == q->loc.line && len >= q->pathlen))
                return;
            p = q;
            break;
        }
    }
    if (!p) {
        if (cx->npend == cx->cap_pend) {
            int ncap = cx->cap_pend ? cx->cap_pend * 2 : 8;
            cx->pend = pa_grow(cx->a, cx->pend, (size_t)cx->npend, (size_t)ncap, sizeof *cx->pend);
            if (pa_failed(cx->a))
                return;
            cx->cap_pend = ncap;
        }
        p = &cx->pend[cx->npend++];
    }
    p->rule = rule;
    p->site = site;
    p->loc = loc;
    p->message = pa_strdup(cx->a, message);
    p->pathlen = len;
    /* the path: relevant events, oldest first */
    int n = 0;
    for (const en_event *ev = st->trail; ev; ev = ev->prev)
        if (en_event_relevant(st, ev, sym))
            n++;
    int max = 64;
    int keep = n < max ? n : max;
    p->steps = pa_alloc(cx->a, (size_t)(keep + 2) * sizeof *p->steps);
    p->nsteps = keep;
    if (last_note && !pa_failed(cx->a)) {
        p->steps[keep].loc = loc;
        p->steps[keep].message = pa_strdup(cx->a, last_note);
        p->steps[keep].refs = sym >= 0 ? st->syms[sym].refs : -1;
        p->nsteps = keep + 1;
    }
    int i = n - 1;
    for (const en_event *ev = st->trail; ev; ev = ev->prev) {
        if (!en_event_relevant(st, ev, sym))
            continue;
        if (i < keep) {
            p->steps[i].loc = ev->loc;
            p->steps[i].message = en_event_text(cx, st, ev);
            p->steps[i].refs = sym >= 0 && ev->sym == st->syms[sym].uid ? ev->refs : -1;
        }
        i--;
    }
}

static void en_flush_findings(en_ctx *cx)
{
    for (int i = 0; i < cx->npend; i++) {
        en_pending *p = &cx->pend[i];
        const ck_rule *r = ck_rule_find(p->rule);
        pr_finding f = {0};
        f.rule = p->rule;
        f.severity = r ? r->severity : "warning";
        f.loc = p->loc;
        f.function = cx->f->name;
        f.message = p->message;
        f.steps = p->steps;
        f.nsteps = p->nsteps;
        f.file_index = cx->ef->file_index;
        /* Fingerprint: rule, function and the normalised site text, not
         * line numbers, so unrelated edits keep it. */
        char line[512] = "";
        fe_tu_source_line(cx->ef->tu, p->site.line, line, sizeof line);
        sb_reset(&cx->sb);
        sb_printf(&cx->sb, "%s|%s|", p->rule, cx->f->name);
        for (const char *c = line; *c; c++)
            if (*c != ' ' && *c != '\t')
                sb_putc(&cx->sb, *c);
        pr_fingerprint_hex(sb_str(&cx->sb), f.fingerprint);
        /* Inline suppression on the reported line or the line before. */
        for (uint32_t l = p->loc.line; l + 1 >= p->loc.line && l > 0 && !f.suppressed; l--) {
            char text[512] = "";
            if (fe_tu_source_line(cx->ef->tu, l, text, sizeof text) == 0)
                f.suppressed = pr_suppression_matches(text, p->rule);
        }
        pr_add_finding(cx->ef->out, &f);
    }
}

/* ------------------------------------------------------------------ */
/* hooks                                                              */

typedef int (*en_hook_fn)(en_ctx *, en_state *, const ck_event *);

static int en_fire_ev(en_ctx *cx, en_state *st, const ck_event *evp)
{
    ck_event ev = *evp;
    int rc = CK_GO;
#define EN_CALL_HOOK(id, fn) rc |= fn(cx, st, &ev);
    CK_RULE_LIST(EN_CALL_HOOK)
#undef EN_CALL_HOOK
    if (rc & CK_STOP)
        st->dead = true;
    return rc;
}

static int en_fire(en_ctx *cx, en_state *st, ck_kind k, int sym, src_loc loc, const char *what,
                   bool nullable)
{
    ck_event ev = { k, sym, loc, what, nullable, false };
    return en_fire_ev(cx, st, &ev);
}

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

static int en_fresh(en_state *st, ty_class ty, origin o, src_loc loc)
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
static void en_bind(en_ctx *cx, en_state *st, const ast_var *v, int sym, src_loc loc)
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
    s = en_fresh(st, v->ty, OR_GLOBAL, loc);
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

static int en_eval(en_ctx *cx, en_state *st, const ast_expr *e);

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
        st_cell_set(st, key, sym);
        /* an element of a local array or a field of a local struct stays
         * ours (argument vectors); anything else now holds the reference */
        const ast_expr *root = en_strip_casts(e->kids[0]);
        bool local = root && root->kind == AX_VAR && en_is_local(root->var) &&
                     (root->var->is_array || root->var->ty == TY_OTHER) && !(e->kind == AX_MEMBER && e->op);
        if (!local)
            en_escape(cx, st, sym, key, loc);
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
        if (sy->cell_refs > 0)
            sy->cell_refs--;
        /* the holder's reference is gone and we hold none: assume freed */
        if (sy->refs <= 0 && sy->cell_refs == 0 && !(sy->flags & (SF_ESCAPED | SF_KEPT)) &&
            sy->origin != OR_SINGLETON && sy->origin != OR_UNKNOWN && !(sy->origin == OR_GLOBAL && sy->addr_key))
            sy->flags |= SF_DEAD;
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
    if (s < 0 || st->syms[s].kind != SK_OBJ || st->syms[s].null == NL_NULL)
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

static const kb_entry *en_callee_entry(en_ctx *cx, const ast_expr *call, kb_entry *scratch);

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
        nu = kb_format_units(k->fmt, fe->str, units, 64, err, sizeof err);
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
    int nu = kb_format_units(k->fmt, fe->str, units, 64, err, sizeof err);
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

/* Evaluates a call (or a collapsed macro) with knowledge-base entry k. */
static int en_known_call(en_ctx *cx, en_state *st, const ast_expr *call, const kb_entry *k,
                         const int *args, int nargs)
{
    const char *api = call->name ? call->name : k->name ? k->name : "call";
    if (strncmp(api, "slot:", 5) == 0)
        api += 5;
    /* PyObject_CallMethod rather than _PyObject_CallMethod_SizeT: the API
     * macro the user wrote, when it is one */
    if (call->kind == AX_CALL && call->macro && strcmp(call->macro, api) != 0 &&
        kb_lookup(cx->ef->k, call->macro))
        api = call->macro;
    int argoff = call->kind == AX_CALL ? 1 : 0;
    int map[3];
    int nout = en_outcomes(k, map);
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
                                          KB_ARG_STEAL_OK | KB_ARG_CLEAR | KB_ARG_ASSIGN_DST)))
            en_fire(cx, st, CK_USE, s, loc, api, (fl & KB_ARG_NULLOK) != 0);
    }
    if (st->dead)
        return -1;

    /* the result */
    int r = -1;
    bool obj_result = k->ret == KB_RET_NEW || k->ret == KB_RET_BORROWED || k->ret == KB_RET_NULL;
    if (k->ret_same_as >= 0 && k->ret_same_as < nargs && args[k->ret_same_as] >= 0) {
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
        if ((fl & KB_ARG_STEAL) || ((fl & KB_ARG_STEAL_OK) && outcome == OUT_OK))
            en_steal(cx, st, s, i == 0 ? -1 : container, api, loc);
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
            if (s >= 0 && st->syms[s].kind == SK_OBJ)
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

static int en_eval(en_ctx *cx, en_state *st, const ast_expr *e)
{
    if (!e || st->dead)
        return -1;
    return en_eval_body(cx, st, e);
}

/* ------------------------------------------------------------------ */
/* conditions                                                         */

/* Refines sym s under the assumption that it is true (truth=1) or false.
 * Returns false when that is impossible on this path. */
static bool en_assume(en_ctx *cx, en_state *st, int s, bool truth, int depth)
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
static int en_truth(const en_state *st, int s)
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

/* ------------------------------------------------------------------ */
/* exploration                                                        */

static void en_push(en_ctx *cx, cfg_block *b, en_state *st)
{
    if (cx->nwork == cx->cap_work) {
        int ncap = cx->cap_work ? cx->cap_work * 2 : 64;
        en_work *nw = realloc(cx->work, (size_t)ncap * sizeof *nw);
        if (!nw) {
            st_free(st);
            cx->incomplete = "out of memory";
            return;
        }
        cx->work = nw;
        cx->cap_work = ncap;
    }
    cx->work[cx->nwork].b = b;
    cx->work[cx->nwork].st = st;
    cx->nwork++;
}

/* Whether (block, state) was seen before; records it if not. */
static bool en_seen(en_ctx *cx, cfg_block *b, en_state *st)
{
    if (st->nsyms > cx->cap_canon) {
        int ncap = st->nsyms * 2;
        int *nc = realloc(cx->canon, (size_t)ncap * sizeof *nc);
        if (!nc)
            return false;
        cx->canon = nc;
        cx->cap_canon = ncap;
    }
    uint64_t h = st_hash(st, cx->canon) ^ ((uint64_t)b->id * 0x9e3779b97f4a7c15ULL);
    if (h == 0)
        h = 1;
    if (cx->nseen * 2 >= cx->seen_slots) {
        size_t nslots = cx->seen_slots ? cx->seen_slots * 2 : 1024;
        uint64_t *ns = calloc(nslots, sizeof *ns);
        if (!ns)
            return false;
        for (size_t i = 0; i < cx->seen_slots; i++) {
            uint64_t v = cx->seen[i];
            if (!v)
                continue;
            size_t j = v & (nslots - 1);
            while (ns[j])
                j = (j + 1) & (nslots - 1);
            ns[j] = v;
        }
        free(cx->seen);
        cx->seen = ns;
        cx->seen_slots = nslots;
    }
    size_t j = h & (cx->seen_slots - 1);
    while (cx->seen[j]) {
        if (cx->seen[j] == h)
            return true;
        j = (j + 1) & (cx->seen_slots - 1);
    }
    cx->seen[j] = h;
    cx->nseen++;
    return false;
}

static bool en_may_fork(const ast_expr *e)
{
    if (!e)
        return false;
    if (e->kind == AX_CALL || e->kind == AX_MACRO)
        return true;
    for (int i = 0; i < e->nkids; i++)
        if (en_may_fork(e->kids[i]))
            return true;
    return false;
}

typedef struct en_result {
    en_state *st;
    int val;
} en_result;

/* Evaluates e (or applies insn) in st for every outcome combination (all
 * calls succeed, then each call taking each other outcome in turn).
 * Returns the number of results (st itself is reused for the first). */
static int en_eval_forks(en_ctx *cx, en_state *st, const ir_insn *insn, const ast_expr *e,
                         en_result *out, int max)
{
    const ast_expr *root = insn ? insn->expr : e;
    en_state *snap = en_may_fork(root) ? st_copy(st) : NULL;
    int n = 0;
    for (int call = -1, outcome = 1;;) {
        en_state *s = n == 0 ? st : st_copy(snap);
        if (!s)
            break;
        cx->choice_call = call;
        cx->choice_outcome = outcome;
        cx->ncalls = 0;
        int v = -1;
        if (insn) {
            if (insn->kind == IR_DECL) {
                v = insn->expr ? en_eval(cx, s, insn->expr) : -1;
                if (!s->dead && insn->var) {
                    if (!insn->expr && insn->var->id >= 0 && insn->var->id < s->nvars)
                        s->vars[insn->var->id] = -1;
                    else if (insn->expr)
                        en_bind(cx, s, insn->var, v, insn->loc);
                }
            } else
                v = en_eval(cx, s, insn->expr);
        } else
            v = en_eval(cx, s, e);
        out[n].st = s;
        out[n].val = v;
        n++;
        int ncalls = cx->ncalls < EN_MAX_CALLS ? cx->ncalls : EN_MAX_CALLS;
        if (!snap)
            break;
        /* next combination */
        if (call < 0) {
            call = 0;
            outcome = 1;
        } else
            outcome++;
        while (call < ncalls && outcome >= cx->arity[call]) {
            call++;
            outcome = 1;
        }
        if (call >= ncalls || n >= max)
            break;
    }
    st_free(snap);
    return n;
}

static void en_return(en_ctx *cx, en_state *st, cfg_block *b, int v)
{
    src_loc loc = b->term_loc;
    if (v >= 0 && st->syms[v].kind == SK_OBJ)
        en_fire(cx, st, CK_USE, v, loc, "return", true);
    en_fire(cx, st, CK_RETURN, v, loc, NULL, false);
    if (st->dead)
        return;
    /* the caller receives one reference */
    if (v >= 0 && cx->fn.returns_object && st->syms[v].kind == SK_OBJ && st->syms[v].null != NL_NULL) {
        en_sym *s = &st->syms[v];
        if (s->refs > 0) {
            s->refs--;
            s->flags |= SF_RETURNED;
        }
    }
    en_fire(cx, st, CK_EXIT, -1, loc, NULL, false);
    /* what a summary needs */
    en_retacc *acc = &cx->acc;
    acc->nret++;
    /* an error return because the caller passed NULL propagates the
     * caller's own error: it says nothing about this function */
    bool null_param = false;
    for (int i = 0; i < cx->f->nparams && i < st->nsyms; i++)
        if (st->syms[i].kind == SK_OBJ && st->syms[i].null == NL_NULL && st->syms[i].origin == OR_PARAM)
            null_param = true;
    if (v >= 0 && !null_param) {
        const en_sym *s = &st->syms[v];
        if (s->kind == SK_OBJ) {
            if (s->null == NL_NULL) {
                acc->null_ret++;
                if (st->exc == EXC_CLEAR)
                    acc->null_exc_clear++;
            } else if (v < cx->f->nparams && s->origin == OR_PARAM && s->refs <= 0 && !(s->flags & SF_RETURNED)) {
                /* `return arg;`: the argument's reference goes back to the
                 * caller (a helper that consumes its argument) */
                acc->obj_passthrough++;
                acc->passthrough_any |= 1u << v;
            } else if (s->flags & SF_RETURNED || s->origin == OR_SINGLETON)
                acc->obj_new++;
            else if (s->origin == OR_BORROWED || s->origin == OR_PARAM)
                acc->obj_borrowed++;
            /* a field's value returned as is: a getter's borrowed reference,
             * or an element popped off a private stack whose reference moves
             * to the caller; the helper's body cannot tell which */
            else
                acc->obj_other++;
        } else if (s->kind == SK_INT) {
            /* the C API's error value is -1; other negative constants are
             * ordinary results (map_hash returns -2 for a hash of -1) */
            if (s->lo == -1 && s->hi == -1) {
                acc->neg_ret++;
                if (st->exc == EXC_CLEAR)
                    acc->neg_exc_clear++;
            } else if (s->lo == 0 && s->hi == 0) {
                acc->zero_ret++;
                if (st->exc != EXC_SET)
                    acc->zero_no_exc++;
            } else {
                acc->other_int_ret++;
                if (s->lo < 0)
                    acc->maybe_neg_ret++;
            }
            if (s->hi >= 0) {
                if (acc->nint_ok == 0 || s->lo < acc->int_lo)
                    acc->int_lo = s->lo < 0 ? 0 : s->lo;
                if (acc->nint_ok == 0 || s->hi > acc->int_hi)
                    acc->int_hi = s->hi;
                acc->nint_ok++;
            }
        }
        if (st->exc != EXC_CLEAR)
            acc->exc_some++;
    }
    if (!null_param && st->exc != EXC_SET)
        acc->exc_not_set++;
    if (false) {
    }
    uint32_t released = 0, stored = 0;
    if (v >= 0 && v < cx->f->nparams && v < 32 && st->syms[v].origin == OR_PARAM && st->syms[v].refs <= 0 &&
        !(st->syms[v].flags & SF_RETURNED))
        stored |= 1u << v;       /* returned without a reference of its own: consumed */
    /* `Py_INCREF(arg); return arg;` on every path: the result is the argument */
    int same = v >= 0 && v < cx->f->nparams && st->syms[v].origin == OR_PARAM && (st->syms[v].flags & SF_RETURNED)
               ? v : -1;
    if (v >= 0 && !(st->syms[v].kind == SK_OBJ && st->syms[v].null == NL_NULL))
    {
        if (!acc->same_seen) {
            acc->same_param = same;
            acc->same_seen = true;
        } else if (acc->same_param != same)
            acc->same_param = -2;
    }
    for (int i = 0; i < cx->f->nparams && i < 32; i++) {
        /* the parameter's symbol is the one made at entry: index i */
        int s = i < st->nsyms ? i : -1;
        if (s < 0 || st->syms[s].kind != SK_OBJ)
            continue;
        /* released once more than taken, or NULL on this path */
        if (st->syms[s].refs < 0 || st->syms[s].null == NL_NULL)
            released |= 1u << i;
        if (st->syms[s].null == NL_NULL || (st->syms[s].refs <= 0 && st->syms[s].cell_refs > 0))
            stored |= 1u << i;
    }
    acc->released_all = acc->nret == 1 ? released : (acc->released_all & released);
    acc->released_any |= released;
    acc->stored_all = acc->nret == 1 ? (released | stored) : (acc->stored_all & (released | stored));
    /* out-parameters written with a new reference on success paths */
    bool success = v < 0 || (st->syms[v].kind == SK_OBJ && st->syms[v].null != NL_NULL) ||
                   (st->syms[v].kind == SK_INT && st->syms[v].lo >= 0);
    if (success) {
        uint32_t out_new = 0;
        for (int i = 0; i < cx->f->nparams && i < 32; i++) {
            ast_var *p = cx->f->params[i];
            if (p->ty != TY_OBJPTR)
                continue;
            const char *key = en_intern(cx, pa_printf(cx->a, "*%s", p->name));
            int c = st_cell_get(st, key);
            if (c >= 0) {
                acc->out_seen |= 1u << i;
                if (st->syms[c].origin == OR_NEW || st->syms[c].null == NL_NULL ||
                    st->syms[c].cell_refs > st->syms[c].debt || st->syms[c].refs > 0)
                    out_new |= 1u << i;
            }
        }
        acc->out_new_all = acc->nsuccess == 0 ? out_new : (acc->out_new_all & out_new);
        acc->nsuccess++;
    }
}

static bool en_budget_hit(en_ctx *cx)
{
    if (cx->incomplete)
        return true;
    if (++cx->steps > cx->ef->budget.max_steps) {
        cx->incomplete = pa_printf(cx->a, "more than %ld steps (paths too many to explore)",
                                   cx->ef->budget.max_steps);
        return true;
    }
    if ((cx->steps & 255) == 0 && en_now() - cx->t0 > cx->ef->budget.max_seconds) {
        cx->incomplete = pa_printf(cx->a, "time budget of %.1fs exceeded", cx->ef->budget.max_seconds);
        return true;
    }
    if (pa_failed(cx->a)) {
        cx->incomplete = "memory budget exceeded";
        return true;
    }
    return false;
}

static void en_block(en_ctx *cx, cfg_block *b, en_state *st)
{
    if (b->loop_head && st_loop_enter(st, b->id) > cx->ef->budget.loop_unroll) {
        st_free(st);     /* bounded unrolling: later iterations are not explored */
        return;
    }
    /* forget values nothing refers to any more (keeps states small and
     * makes equal states hash alike) */
    if (st->nsyms > cx->cap_canon) {
        int ncap = st->nsyms * 2;
        int *nc = realloc(cx->canon, (size_t)ncap * sizeof *nc);
        if (nc) {
            cx->canon = nc;
            cx->cap_canon = ncap;
        }
    }
    if (st->nsyms <= cx->cap_canon)
        st_compact(st, cx->f->nparams, cx->canon);
    if (en_seen(cx, b, st)) {
        st_free(st);
        return;
    }
    /* straight-line instructions, forking on call outcomes */
    en_state *cur[64];
    int ncur = 1;
    cur[0] = st;
    en_result res[64];
    for (int i = 0; i < b->ninsns && ncur > 0; i++) {
        en_state *next[64];
        int nnext = 0;
        for (int j = 0; j < ncur; j++) {
            int n = en_eval_forks(cx, cur[j], &b->insns[i], NULL, res, 64 - nnext > 0 ? 64 - nnext : 1);
            for (int k = 0; k < n; k++) {
                if (res[k].st->dead || nnext >= 64)
                    st_free(res[k].st);
                else
                    next[nnext++] = res[k].st;
            }
        }
        memcpy(cur, next, (size_t)nnext * sizeof *cur);
        ncur = nnext;
    }
    for (int j = 0; j < ncur; j++) {
        en_state *s = cur[j];
        switch (b->term) {
        case T_GOTO:
            en_push(cx, b->succ[0], s);
            break;
        case T_BRANCH: {
            int n = en_eval_forks(cx, s, NULL, b->cond, res, 64);
            for (int k = 0; k < n; k++) {
                en_state *t = res[k].st;
                if (t->dead) {
                    st_free(t);
                    continue;
                }
                int truth = en_truth(t, res[k].val);
                if (truth >= 0) {
                    en_push(cx, b->succ[truth ? 0 : 1], t);
                    continue;
                }
                en_state *f = st_copy(t);
                if (en_assume(cx, t, res[k].val, true, 0)) {
                    en_event_add(cx, t, EV_BRANCH, -1, b->term_loc, NULL, b->cond, 1);
                    en_push(cx, b->succ[0], t);
                } else
                    st_free(t);
                if (f && en_assume(cx, f, res[k].val, false, 0)) {
                    en_event_add(cx, f, EV_BRANCH, -1, b->term_loc, NULL, b->cond, 0);
                    en_push(cx, b->succ[1], f);
                } else
                    st_free(f);
            }
            break;
        }
        case T_SWITCH: {
            int n = en_eval_forks(cx, s, NULL, b->cond, res, 64);
            for (int k = 0; k < n; k++) {
                en_state *t = res[k].st;
                if (t->dead) {
                    st_free(t);
                    continue;
                }
                int v = res[k].val;
                const en_sym *x = v >= 0 ? &t->syms[v] : NULL;
                bool known = x && x->kind == SK_INT && x->lo == x->hi;
                bool matched = false;
                for (int c = 0; c < b->ncases; c++) {
                    const cfg_case *cs = &b->cases[c];
                    if (x && x->kind == SK_INT && (cs->hi < x->lo || cs->lo > x->hi))
                        continue;
                    if (known)
                        matched = true;
                    en_state *u = st_copy(t);
                    if (!u)
                        continue;
                    if (v >= 0 && u->syms[v].kind == SK_INT && cs->lo == cs->hi) {
                        u->syms[v].lo = u->syms[v].hi = cs->lo;
                        u->syms[v].flags |= cs->lo ? SF_NONZERO : SF_ZERO_KNOWN;
                    }
                    en_event_add(cx, u, EV_CASE, -1, b->term_loc, NULL, b->cond, 1);
                    en_push(cx, cs->target, u);
                }
                if (!matched)
                    en_push(cx, b->succ[0], t);
                else
                    st_free(t);
            }
            break;
        }
        case T_RETURN: {
            int n = en_eval_forks(cx, s, NULL, b->cond, res, 64);
            for (int k = 0; k < n; k++) {
                if (!res[k].st->dead)
                    en_return(cx, res[k].st, b, b->cond ? res[k].val : -1);
                st_free(res[k].st);
            }
            break;
        }
        case T_INDIRECT:
            for (int k = 0; k < b->nsucc; k++) {
                en_state *u = k + 1 < b->nsucc ? st_copy(s) : s;
                if (u)
                    en_push(cx, b->succ[k], u);
            }
            if (b->nsucc == 0)
                st_free(s);
            break;
        case T_NORETURN:
        case T_EXIT:
        case T_NONE:
            st_free(s);
            break;
        }
    }
}

/* ------------------------------------------------------------------ */
/* per-function driver and summaries                                  */

static int en_callable_index(const en_file *ef, const char *name)
{
    for (int i = 0; i < ef->ncallable; i++)
        if (strcmp(ef->callable[i], name) == 0)
            return i;
    return -1;
}

/* Records every function named in a file-scope initializer, with the
 * field it fills: `.tp_iternext = f`, a positional field, or the
 * Py_tp_iternext id of a PyType_Slot pair. */
static void en_collect_funcs(en_file *ef, const ast_expr *e, const char *field)
{
    if (!e)
        return;
    const ast_expr *v = en_strip_casts(e);
    if (v->kind == AX_ADDR && v->nkids == 1)
        v = en_strip_casts(v->kids[0]);
    if (v->kind == AX_FUNC && v->name) {
        int i = en_callable_index(ef, v->name);
        if (i < 0) {
            ef->callable = pa_grow(&ef->arena, ef->callable, (size_t)ef->ncallable,
                                   (size_t)ef->ncallable + 1, sizeof *ef->callable);
            ef->callable_slot = pa_grow(&ef->arena, ef->callable_slot, (size_t)ef->ncallable,
                                        (size_t)ef->ncallable + 1, sizeof *ef->callable_slot);
            if (pa_failed(&ef->arena))
                return;
            i = ef->ncallable++;
            ef->callable[i] = pa_strdup(&ef->arena, v->name);
            ef->callable_slot[i] = NULL;
        }
        if (field && !ef->callable_slot[i])
            ef->callable_slot[i] = pa_strdup(&ef->arena, field);
        return;
    }
    /* {Py_tp_iternext, f}: the slot id names the field */
    const char *pair_slot = NULL;
    if (e->kind == AX_INIT_LIST && e->nkids == 2 && e->kids[0]->kind == AX_INT && e->kids[0]->macro &&
        strncmp(e->kids[0]->macro, "Py_", 3) == 0)
        pair_slot = e->kids[0]->macro + 3;
    for (int i = 0; i < e->nkids; i++) {
        const char *f = e->kind == AX_INIT_LIST && e->kid_names && e->kid_names[i] ? e->kid_names[i] : NULL;
        en_collect_funcs(ef, e->kids[i], pair_slot ? pair_slot : f);
    }
}

en_file *en_file_new(const kb *k, fe_tu *tu, const en_budget *budget, pr_report *out, int file_index)
{
    en_file *ef = calloc(1, sizeof *ef);
    if (!ef)
        return NULL;
    ef->k = k;
    ef->tu = tu;
    ef->budget = *budget;
    ef->out = out;
    ef->file_index = file_index;
    ef->pyver = kb_python_version(k);
    if (ef->pyver == 0)
        ef->pyver = 0x030b;
    pa_init(&ef->arena, 0);
    ef->nfuncs = fe_tu_func_count(tu);
    ef->sums = calloc((size_t)(ef->nfuncs ? ef->nfuncs : 1), sizeof *ef->sums);
    ef->analysed = calloc((size_t)(ef->nfuncs ? ef->nfuncs : 1), sizeof *ef->analysed);
    if (!ef->sums || !ef->analysed) {
        en_file_free(ef);
        return NULL;
    }
    /* functions named in file-scope initializers (method tables, type
     * slots, getset tables) are called by the interpreter */
    pa_arena tmp;
    pa_init(&tmp, 0);
    ast_global *globals = NULL;
    int ng = fe_tu_globals(tu, &tmp, &globals);
    for (int i = 0; i < ng; i++)
        en_collect_funcs(ef, globals[i].init, NULL);
    pa_release(&tmp);
    return ef;
}

void en_file_free(en_file *ef)
{
    if (!ef)
        return;
    free(ef->sums);
    free(ef->analysed);
    pa_release(&ef->arena);
    free(ef);
}

static void en_entry_state(en_ctx *cx, en_state *st)
{
    /* parameters first, so parameter i is symbol i */
    for (int i = 0; i < cx->f->nparams; i++) {
        ast_var *p = cx->f->params[i];
        int s = en_fresh(st, p->ty, p->ty == TY_OBJ ? OR_PARAM : OR_UNKNOWN, p->loc);
        if (s < 0)
            return;
        st->syms[s].name = p->name;
        /* the interpreter never passes NULL for self / module */
        if (i == 0 && cx->fn.python_callable && p->ty == TY_OBJ)
            st->syms[s].null = NL_NONNULL;
        if (cx->fn.slot && (kb_arg_flags(cx->fn.slot, i) & KB_ARG_OWNED))
            st->syms[s].flags |= SF_DYING;
        if (p->id >= 0 && p->id < st->nvars)
            st->vars[p->id] = s;
    }
}

static void en_make_summary(en_ctx *cx, en_summary *sum)
{
    kb_entry *e = &sum->entry;
    memset(e, 0, sizeof *e);
    e->name = cx->f->name;
    e->ret_same_as = -1;
    e->ret_owner = -1;
    e->fmt_arg = -1;
    e->nargs = cx->f->nparams < KB_MAX_ARGS ? cx->f->nparams : KB_MAX_ARGS;
    const en_retacc *acc = &cx->acc;
    const ast_annot *an = &cx->f->annot;
    if (cx->fn.returns_object) {
        if (an->returns_borrowed)
            e->ret = KB_RET_BORROWED;
        else if (an->returns_new)
            e->ret = KB_RET_NEW;
        else if (acc->same_seen && acc->same_param >= 0 && acc->obj_other == 0 && acc->obj_borrowed == 0) {
            e->ret = KB_RET_NEW;     /* Py_NewRef-like: the argument, one more reference */
            e->ret_same_as = acc->same_param;
        } else if (acc->obj_other == 0 && acc->obj_borrowed == 0 && acc->obj_new > 0 &&
                 (acc->obj_passthrough == 0 || (acc->passthrough_any & ~acc->stored_all) == 0))
            e->ret = KB_RET_NEW;     /* arguments returned as is are consumed ones */
        else if (acc->obj_other == 0 && acc->obj_new == 0 && acc->obj_passthrough == 0 && acc->obj_borrowed > 0)
            e->ret = KB_RET_BORROWED;   /* only borrowed API results (not arguments handed back) */
        else
            e->ret = KB_RET_UNKNOWN;
        if (acc->null_ret > 0) {
            e->fail = KB_FAIL_NULL;
            e->fail_sets_exc = acc->null_exc_clear == 0 || an->sets_exception;
        }
        /* an argument handed back as is on some path: the result may be
         * that very object (bitarray's freeze_if_frozen(res)) */
        uint32_t pt = acc->passthrough_any;
        if (e->ret_same_as < 0 && pt && (pt & (pt - 1)) == 0 && e->ret != KB_RET_BORROWED) {
            int p = 0;
            while (!(pt & (1u << p)))
                p++;
            e->ret_same_as = p;
            if (e->ret == KB_RET_UNKNOWN)
                e->ret = KB_RET_BORROWED;
        }
    } else if (cx->fn.returns_int) {
        e->ret = KB_RET_INT;
        if (acc->neg_ret > 0) {
            e->fail = KB_FAIL_NEG;
            e->fail_sets_exc = acc->neg_exc_clear == 0 || an->sets_exception;
            /* success returns only 0: `if (helper(...))` means failure */
            if (acc->other_int_ret == 0)
                e->ok = KB_OK_ZERO;
            else if (acc->maybe_neg_ret > 0)
                e->fail = KB_FAIL_NEG_AMBIGUOUS;
        } else if (acc->zero_ret > 0 && acc->zero_no_exc == 0 && acc->other_int_ret > 0) {
            /* 0 with an exception, non-zero otherwise (converters, checks) */
            e->fail = KB_FAIL_ZERO;
            e->fail_sets_exc = true;
        }
    } else
        e->ret = cx->f->ret_ty == TY_VOID ? KB_RET_VOID : KB_RET_PTR;
    for (int i = 0; i < e->nargs; i++) {
        if (acc->nret > 0 && (acc->released_all & (1u << i)))
            e->arg[i] = KB_ARG_XDECREF;         /* the helper releases it */
        else if (acc->nret > 0 && (acc->stored_all & (1u << i)) &&
                 ((acc->released_any | acc->passthrough_any) & (1u << i)))
            /* kept on some paths, released (or handed back) on the others:
             * consumed.  A helper that only stores its argument (linking
             * it into a list it already owns) says nothing about ownership */
            e->arg[i] = KB_ARG_STEAL;
        if (an->steals & (1u << i))
            e->arg[i] = KB_ARG_STEAL;
        if (acc->nsuccess > 0 && (acc->out_new_all & acc->out_seen & (1u << i)))
            e->arg[i] |= KB_ARG_OUT_NEW | KB_ARG_OUT_NULLOK;
    }
    e->summary = true;
    /* raise_type_error(): every return leaves an exception set */
    if (acc->nret > 0 && acc->exc_not_set == 0)
        e->sets_exc = true;
    /* the values a successful int call returns (setBuiltins: always 0) */
    if (cx->fn.returns_int && acc->nint_ok > 0 && e->fail != KB_FAIL_NEG_AMBIGUOUS) {
        e->has_range = true;
        e->range_lo = acc->int_lo;
        e->range_hi = acc->int_hi;
    }
    /* an exception may be left set on paths the summary cannot single out */
    e->clears_exc = false;
    e->exc_unknown = acc->exc_some > 0 && e->fail == KB_FAIL_NEVER;
    e->noreturn = acc->nret == 0 && cx->f->is_noreturn;
    sum->usable = !cx->incomplete;
}

static int en_analyze_func(en_file *ef, int i, pr_stats *stats);

static const kb_entry *en_callee_entry(en_ctx *cx, const ast_expr *call, kb_entry *scratch)
{
    if (!call->name) {
        /* a call through a slot: type->tp_alloc(type, 0) */
        const ast_expr *callee = call->kind == AX_CALL && call->nkids > 0 ? en_strip_casts(call->kids[0]) : NULL;
        if (callee && callee->kind == AX_MEMBER && callee->name) {
            char key[128];
            snprintf(key, sizeof key, "slot:%s", callee->name);
            return kb_lookup(cx->ef->k, key);
        }
        return NULL;
    }
    const kb_entry *k = kb_lookup(cx->ef->k, call->name);
    if (k)
        return k;
    en_file *ef = cx->ef;
    int j = fe_tu_find_func(ef->tu, call->name);
    if (j >= 0) {
        en_summary *sum = &ef->sums[j];
        if (!sum->done && !sum->busy && ef->depth < EN_MAX_DEPTH) {
            pr_stats st = {0};
            en_analyze_func(ef, j, &st);
            pr_add_stats(ef->out, &st);
        }
        if (sum->done && sum->usable)
            return &sum->entry;
    }
    if (call->annot) {
        memset(scratch, 0, sizeof *scratch);
        scratch->name = call->name;
        scratch->ret_same_as = scratch->ret_owner = scratch->fmt_arg = -1;
        scratch->nargs = call->nkids - 1 < KB_MAX_ARGS ? call->nkids - 1 : KB_MAX_ARGS;
        if (call->ty == TY_OBJ) {
            scratch->ret = call->annot->returns_borrowed ? KB_RET_BORROWED : KB_RET_NEW;
            scratch->fail = KB_FAIL_NULL;
            scratch->fail_sets_exc = true;
        } else {
            /* the C API convention: -1 with an exception set */
            scratch->ret = KB_RET_INT;
            scratch->fail = KB_FAIL_NEG;
            scratch->fail_sets_exc = true;
        }
        for (int a = 0; a < scratch->nargs; a++)
            if (call->annot->steals & (1u << a))
                scratch->arg[a] = KB_ARG_STEAL;
        return scratch;
    }
    return NULL;
}

static int en_analyze_func(en_file *ef, int i, pr_stats *stats)
{
    if (ef->analysed[i])
        return 0;
    ef->analysed[i] = true;
    ef->sums[i].busy = true;
    ef->depth++;
    pa_arena arena;
    pa_init(&arena, ef->budget.max_bytes);
    int rc = 0;
    en_ctx cx;
    memset(&cx, 0, sizeof cx);
    ast_func *f = fe_tu_convert_func(ef->tu, i, &arena);
    cfg *g = f ? cfg_build(f, &arena) : NULL;
    stats->functions++;
    if (!g) {
        stats->functions_incomplete++;
        pr_add_incomplete(ef->out, fe_tu_path(ef->tu), fe_tu_func_name(ef->tu, i),
                          (src_loc){0}, "out of memory while building the CFG");
        rc = -1;
        goto done;
    }
    stats->cfg_blocks += g->nblocks;
    cx.ef = ef;
    cx.fidx = i;
    cx.f = f;
    cx.g = g;
    cx.a = &arena;
    cx.t0 = en_now();
    cx.fn.func = f;
    int ci = en_callable_index(ef, f->name);
    cx.fn.python_callable = ci >= 0;
    if (ci >= 0 && ef->callable_slot[ci]) {
        char key[128];
        snprintf(key, sizeof key, "slot:%s", ef->callable_slot[ci]);
        cx.fn.slot = kb_lookup(ef->k, key);
    }
    cx.fn.returns_object = f->ret_ty == TY_OBJ;
    cx.fn.returns_int = f->ret_ty == TY_INT;
    cx.fn.returns_borrowed = f->annot.returns_borrowed;
    cx.fn.is_static = f->is_static;
    cx.fn.python_version = ef->pyver;
    en_state *st = st_new(f->nvars);
    if (!st) {
        rc = -1;
        goto done;
    }
    st->next_uid = &cx.next_uid;
    en_entry_state(&cx, st);
    en_push(&cx, g->entry, st);
    while (cx.nwork > 0) {
        en_work w = cx.work[--cx.nwork];
        if (en_budget_hit(&cx)) {
            st_free(w.st);
            continue;
        }
        en_block(&cx, w.b, w.st);
        stats->paths++;
    }
    if (g->incomplete && !cx.incomplete)
        cx.incomplete = g->incomplete;
    en_flush_findings(&cx);
    if (cx.incomplete) {
        stats->functions_incomplete++;
        pr_add_incomplete(ef->out, f->loc.file, f->name, f->loc, cx.incomplete);
        rc = 1;
    }
    en_make_summary(&cx, &ef->sums[i]);
done:
    ef->sums[i].done = true;
    ef->sums[i].busy = false;
    ef->depth--;
    free(cx.work);
    free(cx.seen);
    free(cx.canon);
    sb_free(&cx.sb);
    pa_release(&arena);
    return rc;
}

int en_analyze(en_file *ef, int i, pr_stats *stats)
{
    return en_analyze_func(ef, i, stats);
}
