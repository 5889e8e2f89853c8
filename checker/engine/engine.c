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
#include "context.h"

static size_t en_strhash(const char *s);
static const char *en_event_text(en_ctx *cx, const en_state *st, const en_event *ev);
static bool en_event_relevant(const en_state *st, const en_event *ev, int sym);
static void en_flush_findings(en_ctx *cx);
static int en_callable_index(const en_file *ef, const char *name);
static void en_collect_funcs(en_file *ef, const ast_expr *e, const char *field);
static void en_entry_state(en_ctx *cx, en_state *st);
static void en_make_summary(en_ctx *cx, en_summary *sum);
static int en_analyze_func(en_file *ef, int i, pr_stats *stats);

/* ------------------------------------------------------------------ */
/* small helpers                                                      */

double en_now(void)
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
const char *en_intern(en_ctx *cx, const char *s)
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

const char *en_expr_key(en_ctx *cx, const ast_expr *e, const char *prefix)
{
    sb_reset(&cx->sb);
    if (prefix)
        sb_puts(&cx->sb, prefix);
    cfg_expr_text(e, &cx->sb);
    return en_intern(cx, sb_str(&cx->sb));
}

const ast_expr *en_strip_casts(const ast_expr *e)
{
    while (e && e->kind == AX_CAST && e->nkids == 1)
        e = e->kids[0];
    return e;
}

void en_event_add(en_ctx *cx, en_state *st, ev_kind k, int sym, src_loc loc, const char *what,
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

/* Mixes v into the FNV-1a style hash h. */
static uint64_t en_mix(uint64_t h, uint64_t v)
{
    return (h ^ v) * 1099511628211ULL;
}

/* Hash of the path st took to a report about sym at loc: its relevant
 * events and the reported location, so paths showing the same steps hash
 * alike and different ones (almost surely) do not. */
static uint64_t en_path_hash(const en_state *st, int sym, src_loc loc, const char *last_note)
{
    uint64_t h = 14695981039346656037ULL;
    for (const en_event *ev = st->trail; ev; ev = ev->prev) {
        if (!en_event_relevant(st, ev, sym))
            continue;
        h = en_mix(h, ev->kind | (uint64_t)ev->truth << 8 | (uint64_t)(uint16_t)ev->refs << 16);
        h = en_mix(h, (uint64_t)ev->loc.line << 32 | ev->loc.col);
        h = en_mix(h, ev->what ? en_strhash(ev->what) : 0);
    }
    h = en_mix(h, (uint64_t)loc.line << 32 | loc.col);
    return en_mix(h, last_note ? en_strhash(last_note) : 0);
}

/* Builds the steps shown for a report about sym: the relevant events of
 * st's trail, oldest first (at most 64), then last_note at loc when given.
 * Returns false when the arena failed (nothing to free: arena memory). */
static bool en_build_steps(en_ctx *cx, en_state *st, int sym, src_loc loc, const char *last_note,
                           pr_step **out, int *nout)
{
    int n = 0;
    for (const en_event *ev = st->trail; ev; ev = ev->prev)
        if (en_event_relevant(st, ev, sym))
            n++;
    int max = 64;
    int keep = n < max ? n : max;
    pr_step *steps = pa_alloc(cx->a, (size_t)(keep + 2) * sizeof *steps);
    if (pa_failed(cx->a))
        return false;
    int nsteps = keep;
    if (last_note) {
        steps[keep].loc = loc;
        steps[keep].message = pa_strdup(cx->a, last_note);
        steps[keep].refs = sym >= 0 ? st->syms[sym].refs : -1;
        nsteps = keep + 1;
    }
    int i = n - 1;
    for (const en_event *ev = st->trail; ev; ev = ev->prev) {
        if (!en_event_relevant(st, ev, sym))
            continue;
        if (i < keep) {
            steps[i].loc = ev->loc;
            steps[i].message = en_event_text(cx, st, ev);
            steps[i].refs = sym >= 0 && ev->sym == st->syms[sym].uid ? ev->refs : -1;
        }
        i--;
    }
    if (pa_failed(cx->a))
        return false;
    *out = steps;
    *nout = nsteps;
    return true;
}

/* Adds c to p's other paths unless it is p's reported path or already
 * there; they stay sorted shortest first, the longest dropped when full. */
static void en_add_other(en_pending *p, const en_path *c)
{
    if (c->hash == p->hash)
        return;
    for (int i = 0; i < p->nother; i++)
        if (p->other[i].hash == c->hash)
            return;
    int n = p->nother;
    if (n == EN_MAX_OTHER_PATHS) {
        if (c->pathlen >= p->other[n - 1].pathlen)
            return;
        n--;                            /* the longest one goes */
    } else {
        p->nother++;
    }
    while (n > 0 && p->other[n - 1].pathlen > c->pathlen) {
        p->other[n] = p->other[n - 1];
        n--;
    }
    p->other[n] = *c;
}

/* Keeps the path st took as another path to pending finding p when it is
 * new and short enough to be among the EN_MAX_OTHER_PATHS kept. */
static void en_keep_other(en_ctx *cx, en_pending *p, en_state *st, int sym, src_loc loc,
                          const char *last_note, uint32_t len)
{
    if (p->nother == EN_MAX_OTHER_PATHS && len >= p->other[EN_MAX_OTHER_PATHS - 1].pathlen)
        return;                         /* cheap exit before hashing the trail */
    en_path c = { .pathlen = len, .hash = en_path_hash(st, sym, loc, last_note) };
    if (c.hash == p->hash)
        return;
    for (int i = 0; i < p->nother; i++)
        if (p->other[i].hash == c.hash)
            return;
    if (en_build_steps(cx, st, sym, loc, last_note, &c.steps, &c.nsteps))
        en_add_other(p, &c);
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
            /* keep the earliest location, then the shortest path; the
             * others are kept aside (up to EN_MAX_OTHER_PATHS) */
            if (loc.line > q->loc.line || (loc.line == q->loc.line && len >= q->pathlen)) {
                en_keep_other(cx, q, st, sym, loc, last_note, len);
                return;
            }
            p = q;
            break;
        }
    }
    /* message and last_note are copied before the event texts are made */
    uint64_t hash = en_path_hash(st, sym, loc, last_note);
    const char *msg = pa_strdup(cx->a, message);
    pr_step *steps;
    int nsteps;
    if (!en_build_steps(cx, st, sym, loc, last_note, &steps, &nsteps))
        return;
    if (!p) {
        if (cx->npend == cx->cap_pend) {
            int ncap = cx->cap_pend ? cx->cap_pend * 2 : 8;
            cx->pend = pa_grow(cx->a, cx->pend, (size_t)cx->npend, (size_t)ncap, sizeof *cx->pend);
            if (pa_failed(cx->a))
                return;
            cx->cap_pend = ncap;
        }
        p = &cx->pend[cx->npend++];
        p->nother = 0;
    } else {
        /* the replaced path becomes another path; the new one leaves them */
        en_path old = { p->steps, p->nsteps, p->pathlen, p->hash };
        for (int i = 0; i < p->nother; i++) {
            if (p->other[i].hash == hash) {
                memmove(&p->other[i], &p->other[i + 1],
                        (size_t)(p->nother - i - 1) * sizeof p->other[0]);
                p->nother--;
                break;
            }
        }
        p->hash = hash;
        en_add_other(p, &old);
    }
    p->rule = rule;
    p->site = site;
    p->loc = loc;
    p->message = msg;
    p->pathlen = len;
    p->hash = hash;
    p->steps = steps;
    p->nsteps = nsteps;
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
        pr_path others[EN_MAX_OTHER_PATHS];
        for (int k = 0; k < p->nother; k++) {
            others[k].steps = p->other[k].steps;
            others[k].nsteps = p->other[k].nsteps;
        }
        f.other_paths = others;
        f.nother_paths = p->nother;
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

int en_fire_ev(en_ctx *cx, en_state *st, const ck_event *evp)
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

int en_fire(en_ctx *cx, en_state *st, ck_kind k, int sym, src_loc loc, const char *what,
                   bool nullable)
{
    ck_event ev = { k, sym, loc, what, nullable, false };
    return en_fire_ev(cx, st, &ev);
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
    /* {Py_tp_iternext, f}: a slot id written as a macro names the field
     * (en_slot_entry strips the id's prefix) */
    const char *pair_slot = NULL;
    if (e->kind == AX_INIT_LIST && e->nkids == 2 && e->kids[0]->kind == AX_INT && e->kids[0]->macro)
        pair_slot = e->kids[0]->macro;
    for (int i = 0; i < e->nkids; i++) {
        const char *f = e->kind == AX_INIT_LIST && e->kid_names && e->kid_names[i] ? e->kid_names[i] : NULL;
        en_collect_funcs(ef, e->kids[i], pair_slot ? pair_slot : f);
    }
}

static void en_note_owning_field(en_file *ef, const char *name)
{
    if (!name || en_field_owns(ef, name))
        return;
    if (ef->nowning == ef->cap_owning) {
        int ncap = ef->cap_owning ? ef->cap_owning * 2 : 16;
        ef->owning_fields = pa_grow(&ef->arena, ef->owning_fields, (size_t)ef->nowning, (size_t)ncap,
                                    sizeof *ef->owning_fields);
        if (pa_failed(&ef->arena))
            return;
        ef->cap_owning = ncap;
    }
    ef->owning_fields[ef->nowning++] = pa_strdup(&ef->arena, name);
}

/* Records the fields released by the calls in e (Py_CLEAR(self->x),
 * Py_XSETREF(o->x, v), Py_VISIT(self->x), Py_XDECREF(o->x)). */
static void en_scan_releases_expr(en_file *ef, const ast_expr *e, int depth)
{
    if (!e || depth > 200)
        return;
    if ((e->kind == AX_CALL || e->kind == AX_MACRO) && e->name) {
        const kb_entry *k = kb_lookup(ef->k, e->name);
        int first = e->kind == AX_CALL ? 1 : 0;
        for (int i = first; k && i < e->nkids; i++) {
            uint32_t fl = kb_arg_flags(k, i - first);
            if (!(fl & (KB_ARG_DECREF | KB_ARG_XDECREF | KB_ARG_CLEAR | KB_ARG_ASSIGN_DST | KB_ARG_VISIT)))
                continue;
            const ast_expr *a = en_strip_casts(e->kids[i]);
            if (a && a->kind == AX_MEMBER)
                en_note_owning_field(ef, a->name);
        }
    }
    for (int i = 0; i < e->nkids; i++)
        en_scan_releases_expr(ef, e->kids[i], depth + 1);
    if (e->kind == AX_STMT_EXPR)
        en_scan_releases_stmt(ef, e->stmt, depth + 1);
}

void en_scan_releases_stmt(en_file *ef, const ast_stmt *s, int depth)
{
    if (!s || depth > 400)
        return;
    en_scan_releases_expr(ef, s->expr, depth);
    en_scan_releases_expr(ef, s->expr2, depth);
    for (int i = 0; i < s->nkids; i++)
        en_scan_releases_stmt(ef, s->kids[i], depth + 1);
}

/* The slot entry of a function named in a file-scope initializer: the
 * field's name (tp_iternext), or a slot id (Py_tp_iternext) whose part
 * after the first '_' is the field's name.  NULL when none. */
static const kb_entry *en_slot_of(const en_file *ef, const char *name)
{
    int ci = en_callable_index(ef, name);
    if (ci < 0 || !ef->callable_slot[ci])
        return NULL;
    const char *field = ef->callable_slot[ci];
    char key[160];
    snprintf(key, sizeof key, "slot:%s", field);
    const kb_entry *e = kb_lookup(ef->k, key);
    const char *us = strchr(field, '_');
    if (!e && us && us[1]) {
        snprintf(key, sizeof key, "slot:%s", us + 1);
        e = kb_lookup(ef->k, key);
    }
    return e;
}

static void en_scan_dying_stmt(en_file *ef, const ast_var *self, const ast_stmt *s, int depth);

/* Calls in e of a function no table names, with self as an argument. */
static void en_scan_dying_expr(en_file *ef, const ast_var *self, const ast_expr *e, int depth)
{
    if (!e || depth > 200)
        return;
    if (e->kind == AX_CALL && e->name && en_callable_index(ef, e->name) < 0 &&
        fe_tu_find_func(ef->tu, e->name) >= 0) {
        for (int i = 1; i < e->nkids; i++) {
            const ast_expr *a = en_strip_casts(e->kids[i]);
            if (!a || a->kind != AX_VAR || a->var != self)
                continue;
            bool known = false;
            for (int d = 0; d < ef->ndying && !known; d++)
                known = strcmp(ef->dying_helper[d], e->name) == 0 && ef->dying_arg[d] == i - 1;
            if (known)
                continue;
            ef->dying_helper = pa_grow(&ef->arena, ef->dying_helper, (size_t)ef->ndying,
                                       (size_t)ef->ndying + 1, sizeof *ef->dying_helper);
            ef->dying_arg = pa_grow(&ef->arena, ef->dying_arg, (size_t)ef->ndying,
                                    (size_t)ef->ndying + 1, sizeof *ef->dying_arg);
            if (pa_failed(&ef->arena))
                return;
            ef->dying_helper[ef->ndying] = pa_strdup(&ef->arena, e->name);
            ef->dying_arg[ef->ndying++] = i - 1;
        }
    }
    for (int i = 0; i < e->nkids; i++)
        en_scan_dying_expr(ef, self, e->kids[i], depth + 1);
    if (e->kind == AX_STMT_EXPR)
        en_scan_dying_stmt(ef, self, e->stmt, depth + 1);
}

static void en_scan_dying_stmt(en_file *ef, const ast_var *self, const ast_stmt *s, int depth)
{
    if (!s || depth > 400)
        return;
    en_scan_dying_expr(ef, self, s->expr, depth);
    en_scan_dying_expr(ef, self, s->expr2, depth);
    for (int i = 0; i < s->nkids; i++)
        en_scan_dying_stmt(ef, self, s->kids[i], depth + 1);
}

/* The argument a destructor helper gets its dying object in, or -1. */
static int en_dying_arg(const en_file *ef, const char *name)
{
    for (int d = 0; d < ef->ndying; d++)
        if (strcmp(ef->dying_helper[d], name) == 0)
            return ef->dying_arg[d];
    return -1;
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
    /* rules that read the whole file (method tables, slots) */
    ck_file_input fin = { k, tu, globals, ng, out, file_index };
    for (const ck_rule *r = ck_rules(); r->id; r++)
        if (r->file_check)
            r->file_check(&fin);
    pa_release(&tmp);
    /* which fields own references: those some function releases */
    for (int i = 0; i < ef->nfuncs; i++) {
        pa_arena fa;
        pa_init(&fa, ef->budget.max_bytes);
        ast_func *f = fe_tu_convert_func(tu, i, &fa);
        if (f)
            en_scan_releases_stmt(ef, f->body, 0);
        /* a destructor slot handing its dying self to a helper: the helper
         * destroys it too (zlib's Dealloc releases the instance's type) */
        const kb_entry *slot = f && f->nparams > 0 ? en_slot_of(ef, f->name) : NULL;
        if (slot && (kb_arg_flags(slot, 0) & KB_ARG_OWNED))
            en_scan_dying_stmt(ef, f->params[0], f->body, 0);
        pa_release(&fa);
    }
    return ef;
}

bool en_field_owns(const en_file *ef, const char *name)
{
    for (int i = 0; i < ef->nowning; i++)
        if (strcmp(ef->owning_fields[i], name) == 0)
            return true;
    return false;
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
        if ((cx->fn.slot && (kb_arg_flags(cx->fn.slot, i) & KB_ARG_OWNED)) || cx->fn.dying_arg == i)
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
            /* a PyDict_GetItemRef wrapper: -1 error, 0 and *out NULL when
             * absent, 1 and *out a new reference when found */
            if (e->fail == KB_FAIL_NEG && acc->nzero_out > 0 && acc->npos_out > 0 && acc->nother_ok == 0 &&
                (acc->zero_out_null & acc->pos_out_set & acc->out_new_all & acc->out_seen))
                e->fail = KB_FAIL_NEG_OR_ZERO_ABSENT;
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
        else if (acc->nret > 0 && (acc->stored_all & (1u << i)))
            /* stored (set_ptr(&self->text, value)), released or handed back
             * on every path: the helper takes the caller's reference */
            e->arg[i] = KB_ARG_STEAL;
        /* released on every failure return and on no other (Pillow's
         * get_unpacker): the caller's reference is gone only when it fails */
        else if (acc->nret > 0 && acc->nfail > 0 && e->fail != KB_FAIL_NEVER &&
                 (acc->released_fail_all & (1u << i)) && !(acc->released_ok_any & (1u << i)))
            e->arg[i] = KB_ARG_RELEASE_FAIL;
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

const kb_entry *en_callee_entry(en_ctx *cx, const ast_expr *call, kb_entry *scratch)
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

int en_analyze_func(en_file *ef, int i, pr_stats *stats)
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
    cx.fn.slot = en_slot_of(ef, f->name);
    cx.fn.dying_arg = ci < 0 ? en_dying_arg(ef, f->name) : -1;
    cx.fn.returns_object = f->ret_ty == TY_OBJ;
    cx.fn.returns_int = f->ret_ty == TY_INT;
    cx.fn.returns_borrowed = f->annot.returns_borrowed;
    cx.fn.is_static = f->is_static;
    cx.fn.python_version = ef->pyver;
    {
        /* rules that read the function's CFG rather than its paths */
        ck_func_input fin = { ef->k, f, g, &cx.fn, ef->tu, ef->out, ef->file_index };
        for (const ck_rule *r = ck_rules(); r->id; r++)
            if (r->func_check)
                r->func_check(&fin);
    }
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
    {
        /* the function's record: its body's text hashed, so a database can
         * tell which functions changed */
        sb_buf body = {0};
        char line[1024];
        for (unsigned l = f->loc.line; l && l <= f->end_loc.line && l < f->loc.line + 20000; l++)
            if (fe_tu_source_line(ef->tu, l, line, sizeof line) == 0) {
                sb_puts(&body, line);
                sb_putc(&body, '\n');
            }
        char hash[17];
        pr_fingerprint_hex(sb_str(&body), hash);
        sb_free(&body);
        pr_add_function(ef->out, f->loc.file ? f->loc.file : fe_tu_path(ef->tu), f->name, f->loc.line, hash,
                        cx.incomplete);
    }
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
