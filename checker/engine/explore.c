/* explore.c - path exploration over a function's CFG: the worklist,
 * merging equal states, loop bounds, budgets, forking on call outcomes,
 * branches and switches, and what each return tells the checks and the
 * function's summary.
 */
#include "context.h"

static bool en_seen(en_ctx *cx, cfg_block *b, en_state *st);
static bool en_may_fork(const ast_expr *e);
static int en_eval_forks(en_ctx *cx, en_state *st, const ir_insn *insn, const ast_expr *e,
                         en_result *out, int max);
static void en_return(en_ctx *cx, en_state *st, cfg_block *b, int v);

/* ------------------------------------------------------------------ */
/* exploration                                                        */

void en_push(en_ctx *cx, cfg_block *b, en_state *st)
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
                /* `PyObject *stack[2] = {a, b};`: an argument vector, not a store */
                cx->init_local = insn->expr && insn->expr->kind == AX_INIT_LIST && insn->var &&
                                 (insn->var->kind == VAR_LOCAL || insn->var->kind == VAR_TEMP) &&
                                 (insn->var->is_array || insn->var->ty == TY_OTHER);
                v = insn->expr ? en_eval(cx, s, insn->expr) : -1;
                cx->init_local = false;
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
        /* stored without a reference of its own (debt): the caller's went
         * into the field; after its own Py_INCREF the helper keeps a copy */
        if (st->syms[s].null == NL_NULL || (st->syms[s].refs <= 0 && st->syms[s].debt > 0))
            stored |= 1u << i;
    }
    acc->released_all = acc->nret == 1 ? released : (acc->released_all & released);
    acc->released_any |= released;
    acc->stored_all = acc->nret == 1 ? (released | stored) : (acc->stored_all & (released | stored));
    /* out-parameters written with a new reference on success paths */
    bool success = v < 0 || (st->syms[v].kind == SK_OBJ && st->syms[v].null != NL_NULL) ||
                   (st->syms[v].kind == SK_INT && st->syms[v].lo >= 0);
    bool failure = v >= 0 && ((st->syms[v].kind == SK_OBJ && st->syms[v].null == NL_NULL) ||
                              (st->syms[v].kind == SK_INT && st->syms[v].lo == -1 && st->syms[v].hi == -1));
    if (failure) {
        acc->released_fail_all = acc->nfail == 0 ? released : (acc->released_fail_all & released);
        acc->nfail++;
    } else
        acc->released_ok_any |= released;
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
        /* PyDict_GetItemRef-like helpers: 0 with *out NULL (absent), 1 with
         * *out set (found), -1 on error */
        if (v >= 0 && st->syms[v].kind == SK_INT) {
            uint32_t nulls = 0, sets = 0;
            for (int i = 0; i < cx->f->nparams && i < 32; i++) {
                if (cx->f->params[i]->ty != TY_OBJPTR)
                    continue;
                int c = st_cell_get(st, en_intern(cx, pa_printf(cx->a, "*%s", cx->f->params[i]->name)));
                if (c >= 0 && st->syms[c].null == NL_NULL)
                    nulls |= 1u << i;
                if (c >= 0 && st->syms[c].null == NL_NONNULL)
                    sets |= 1u << i;
            }
            const en_sym *r = &st->syms[v];
            if (r->lo == 0 && r->hi == 0)
                acc->zero_out_null = acc->nzero_out++ == 0 ? nulls : (acc->zero_out_null & nulls);
            else if (r->lo >= 1)
                acc->pos_out_set = acc->npos_out++ == 0 ? sets : (acc->pos_out_set & sets);
            else
                acc->nother_ok++;
        }
    }
}

bool en_budget_hit(en_ctx *cx)
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

void en_block(en_ctx *cx, cfg_block *b, en_state *st)
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

