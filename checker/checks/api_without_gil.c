/* api_without_gil.c - rule `api-without-gil`: a Python C API call (or a
 * refcount macro such as Py_INCREF) made while the GIL may be released:
 * between Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS, after
 * PyEval_SaveThread() and before PyEval_RestoreThread(), after
 * Py_UNBLOCK_THREADS, on some path.
 *
 * A function check: a forward may-dataflow over the function's CFG whose
 * state at each block entry is the set {held, released} of GIL states some
 * path brings there ("released on some path" wins the report).  What
 * releases and takes the GIL is kb_entry.gil; what may run without it is
 * kb_entry.nogil (rules/runtime.rules, rules/libc.rules); a "Python API
 * call" is a call of a function or collapsed macro the knowledge base knows
 * that is not nogil.  Functions unknown to the knowledge base (the
 * project's own helpers, libc) are not API calls, except that a helper
 * defined in the same file and called while the GIL may be released is
 * analysed in turn, entered without the GIL (a few levels deep, results
 * kept for the function being checked): if it calls the API the call site
 * is reported, and if it takes the GIL back (a wrapper around
 * PyEval_RestoreThread) the caller's state follows.  Helpers called with
 * the GIL held are not followed (a wrapper around PyEval_SaveThread is
 * missed): that would convert every local callee once per caller.
 *
 * A release under a branch is remembered with its condition (a guard), so
 * that `if (c) Py_UNBLOCK_THREADS ... if (c) Py_BLOCK_THREADS` is not
 * taken for a path that releases without taking back.
 */
#include "checks.h"
#include "../base/strbuf.h"
#include "../frontend/frontend.h"
#include "../kb/kb.h"
#include "../report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    GW_HELD = 1u << 0,          /* the GIL is held on some path */
    GW_RELEASED = 1u << 1,      /* the GIL is released on some path */
};

#define GW_MAX_DEPTH 3          /* helpers analysed inside helpers */
#define GW_MAX_HELPERS 64       /* helper results remembered per function */
#define GW_MAX_NOTES 24         /* path steps of one finding */
#define GW_MAX_GUARDS 8         /* guarded releases told apart in one state */
#define GW_ARENA_LIMIT ((size_t)64 << 20)

/* Where the GIL was released, for messages and the path. */
typedef struct gw_origin {
    src_loc loc;
    const char *what;           /* "Py_BEGIN_ALLOW_THREADS", "PyEval_SaveThread" */
    int block;                  /* block holding the release, or -1 (at function entry) */
} gw_origin;

/* The GIL states paths bring to a point.  A release made under a branch
 * (`if (c) Py_UNBLOCK_THREADS`) is kept apart as a guard: the condition's
 * class and the value it had, so that a later branch on the same condition
 * text (`if (c) Py_BLOCK_THREADS`) only lets it through on that side. */
typedef struct gw_state {
    unsigned bits;              /* GW_HELD, GW_RELEASED (released, no guard known) */
    int ng;                     /* guarded releases: guard[i] = class * 2 + value */
    int guard[GW_MAX_GUARDS];   /* sorted */
} gw_state;

static bool gw_released(const gw_state *st)
{
    return (st->bits & GW_RELEASED) || st->ng > 0;
}

static bool gw_empty(const gw_state *st)
{
    return st->bits == 0 && st->ng == 0;
}

/* Adds guard g to st (sorted, no duplicates); too many: forgets them all. */
static void gw_add_guard(gw_state *st, int g)
{
    int i = 0;
    while (i < st->ng && st->guard[i] < g)
        i++;
    if (i < st->ng && st->guard[i] == g)
        return;
    if (st->ng == GW_MAX_GUARDS) {
        st->ng = 0;
        st->bits |= GW_RELEASED;
        return;
    }
    memmove(&st->guard[i + 1], &st->guard[i], (size_t)(st->ng - i) * sizeof st->guard[0]);
    st->guard[i] = g;
    st->ng++;
}

/* dst |= src; returns whether dst changed. */
static bool gw_join(gw_state *dst, const gw_state *src)
{
    gw_state old = *dst;
    dst->bits |= src->bits;
    for (int i = 0; i < src->ng; i++)
        gw_add_guard(dst, src->guard[i]);
    if (dst->bits & GW_RELEASED)
        dst->ng = 0;         /* an unguarded release covers the guarded ones */
    return old.bits != dst->bits || old.ng != dst->ng ||
           memcmp(old.guard, dst->guard, (size_t)old.ng * sizeof old.guard[0]) != 0;
}

/* What the dataflow knows at a block's entry. */
typedef struct gw_block {
    gw_state in;                /* empty while no path has reached it */
    gw_origin origin;           /* the release behind GW_RELEASED in `in` */
    int pred;                   /* block the released state first came from, or -1 */
    int single_pred;            /* the only predecessor, or -1 */
    int cond_class;             /* T_BRANCH: class of its condition's text, or -1 */
    bool cond_neg;              /* the condition is the class's text negated ('!') */
} gw_block;

/* What a helper does when entered in one GIL state. */
typedef struct gw_helper {
    int idx;                    /* function index in the tu */
    unsigned entry;             /* GW_HELD or GW_RELEASED */
    bool busy;                  /* being analysed (recursion) */
    unsigned exit;              /* GW_* bits at its exit; 0 when it never returns */
    bool api;                   /* calls the API while the GIL is released */
    src_loc api_loc;            /* the first such call */
    const char *api_name;
} gw_helper;

/* State of one run of the check (one reported function and its helpers). */
typedef struct gw_ctx {
    const ck_func_input *in;
    pa_arena arena;
    gw_helper helpers[GW_MAX_HELPERS];
    int nhelpers;
    int depth;
    sb_buf sb;
} gw_ctx;

/* One function's dataflow. */
typedef struct gw_flow {
    gw_ctx *cx;
    const ast_func *f;
    const cfg *g;
    gw_block *blk;
    const char **classes;       /* condition texts, '!' stripped, by class */
    int nclasses;
    unsigned entry;             /* state at the function's entry */
    bool reporting;             /* final pass: add findings */
    int cur_block;
    /* summary mode: the first API call made without the GIL */
    bool found;
    src_loc found_loc;
    const char *found_name;
} gw_flow;

/* The running state inside a block. */
typedef struct gw_cur {
    gw_state st;
    gw_origin origin;
} gw_cur;

static int gw_flow_run(gw_ctx *cx, const ast_func *f, const cfg *g, unsigned entry,
                       bool reporting, gw_flow *out);

/* What a call does: 0 nothing we care about, 1 releases, 2 acquires, 3 an
 * API call, 4 a call of a helper of this file (*helper set). */
enum { GW_EV_NONE, GW_EV_RELEASE, GW_EV_ACQUIRE, GW_EV_API, GW_EV_HELPER };

static int gw_classify(const gw_ctx *cx, const ast_expr *e, int *helper)
{
    if ((e->kind != AX_CALL && e->kind != AX_MACRO) || !e->name)
        return GW_EV_NONE;
    const kb_entry *k = kb_lookup(cx->in->k, e->name);
    if (k) {
        if (k->gil == KB_GIL_RELEASE)
            return GW_EV_RELEASE;
        if (k->gil == KB_GIL_ACQUIRE)
            return GW_EV_ACQUIRE;
        return k->nogil ? GW_EV_NONE : GW_EV_API;
    }
    if (e->kind == AX_CALL) {
        int i = fe_tu_find_func(cx->in->tu, e->name);
        if (i >= 0) {
            *helper = i;
            return GW_EV_HELPER;
        }
    }
    return GW_EV_NONE;
}

/* The result of helper idx entered in state entry, computing it when
 * needed.  Returns NULL when it cannot be analysed (too deep, recursion,
 * out of memory, too many helpers): then the call is treated as doing
 * nothing to the GIL. */
static const gw_helper *gw_helper_get(gw_ctx *cx, int idx, unsigned entry)
{
    for (int i = 0; i < cx->nhelpers; i++)
        if (cx->helpers[i].idx == idx && cx->helpers[i].entry == entry)
            return cx->helpers[i].busy ? NULL : &cx->helpers[i];
    if (cx->depth >= GW_MAX_DEPTH || cx->nhelpers == GW_MAX_HELPERS)
        return NULL;
    int slot = cx->nhelpers++;
    gw_helper *h = &cx->helpers[slot];
    memset(h, 0, sizeof *h);
    h->idx = idx;
    h->entry = entry;
    h->busy = true;
    ast_func *f = fe_tu_convert_func(cx->in->tu, idx, &cx->arena);
    cfg *g = f && !pa_failed(&cx->arena) ? cfg_build(f, &cx->arena) : NULL;
    if (!g || pa_failed(&cx->arena)) {
        h->busy = false;
        h->exit = entry;
        return h;
    }
    gw_flow fl;
    cx->depth++;
    int rc = gw_flow_run(cx, f, g, entry, false, &fl);
    cx->depth--;
    h = &cx->helpers[slot];
    h->busy = false;
    if (rc < 0) {
        h->exit = entry;
        return h;
    }
    const gw_state *ex = &fl.blk[g->exit->id].in;
    h->exit = (ex->bits & GW_HELD) | (gw_released(ex) ? GW_RELEASED : 0);
    h->api = fl.found;
    h->api_loc = fl.found_loc;
    h->api_name = fl.found_name;
    return h;
}

/* Text of an expression as written, into the context's buffer. */
static const char *gw_text(gw_ctx *cx, const ast_expr *e)
{
    sb_reset(&cx->sb);
    if (e)
        cfg_expr_text_plain(e, &cx->sb);
    return pa_strdup(&cx->arena, sb_str(&cx->sb));
}

static const char *gw_name(const ast_func *f)
{
    return f && f->name ? f->name : "?";
}

/* Adds the finding for an API call (or a helper calling the API) at e. */
static void gw_report(gw_flow *fl, const gw_cur *cur, const ast_expr *e, const gw_helper *h)
{
    gw_ctx *cx = fl->cx;
    pa_arena *a = &cx->arena;
    pr_step steps[GW_MAX_NOTES];
    int n = 0;
    const gw_origin *o = &cur->origin;
    if (o->block >= 0)
        steps[n++] = (pr_step){ o->loc, pa_printf(a, "the GIL is released here by %s", o->what),
                                -1 };
    /* the branches taken from the release to the call: walk the pred
     * chain back from the current block, then write it forwards */
    int chain[GW_MAX_NOTES];
    int nchain = 0;
    if (o->block >= 0 && o->block != fl->cur_block) {
        int b = fl->cur_block;
        for (int guard = 0; guard < fl->g->nblocks && b >= 0 && b != o->block; guard++) {
            int p = fl->blk[b].pred;
            if (p < 0)
                break;
            if (nchain < GW_MAX_NOTES)
                chain[nchain++] = b;
            b = p;
        }
    }
    for (int i = nchain - 1; i >= 0 && n < GW_MAX_NOTES - 2; i--) {
        const cfg_block *s = fl->g->blocks[chain[i]];
        const cfg_block *p = fl->g->blocks[fl->blk[chain[i]].pred];
        if (p->term != T_BRANCH || p->nsucc < 2 || p->succ[0] == p->succ[1])
            continue;
        const char *cond = gw_text(cx, p->cond);
        const char *taken = p->succ[0] == s ? "true" : "false";
        steps[n++] = (pr_step){ p->term_loc, pa_printf(a, "'%s' is %s here", cond, taken), -1 };
    }
    const char *callee = e->name;
    const char *state = cur->st.bits & GW_HELD ? "may be released" : "is released";
    const char *where = "";
    if (o->block >= 0)
        where = pa_printf(a, " (released by %s at line %u%s)", o->what, (unsigned)o->loc.line,
                          cur->st.bits & GW_HELD ? " on some path" : "");
    char *msg;
    if (h) {
        msg = pa_printf(a, "%s() calls the Python API (%s) while the GIL %s%s", callee, h->api_name,
                        state, where);
        steps[n++] = (pr_step){ e->loc, pa_printf(a, "%s() is called without the GIL", callee),
                                -1 };
        steps[n++] = (pr_step){ h->api_loc,
                                pa_printf(a, "%s() needs the GIL (reached from %s())", h->api_name,
                                          callee),
                                -1 };
    } else {
        msg = pa_printf(a, "Python API %s() used while the GIL %s%s", callee, state, where);
        steps[n++] = (pr_step){ e->loc, pa_printf(a, "%s() needs the GIL", callee), -1 };
    }
    if (pa_failed(a))
        return;
    ck_static_report(cx->in->tu, cx->in->out, cx->in->file_index, "api-without-gil", e->loc,
                     gw_name(cx->in->f), msg, steps, n);
}

/* The guard of a release made in block b: walking up through blocks that
 * have a single predecessor, the first branch on the way and the value its
 * condition had.  Returns class * 2 + value, or -1 when there is none. */
static int gw_guard_of(const gw_flow *fl, int b)
{
    for (int steps = 0; b >= 0 && steps < 64; steps++) {
        int p = fl->blk[b].single_pred;
        if (p < 0)
            return -1;
        const cfg_block *pb = fl->g->blocks[p];
        if (pb->term == T_BRANCH) {
            if (fl->blk[p].cond_class < 0 || pb->nsucc < 2 || pb->succ[0] == pb->succ[1])
                return -1;
            bool taken_true = pb->succ[0] == fl->g->blocks[b];
            return fl->blk[p].cond_class * 2 + (taken_true != fl->blk[p].cond_neg);
        }
        if (pb->term != T_GOTO)
            return -1;
        b = p;
    }
    return -1;
}

/* Remembers an API call made without the GIL (helpers: the first in the
 * source is the one their callers' findings show). */
static void gw_found(gw_flow *fl, src_loc loc, const char *name)
{
    if (fl->found && fl->found_loc.line <= loc.line)
        return;
    fl->found = true;
    fl->found_loc = loc;
    fl->found_name = name;
}

/* Applies the effect of evaluating e (its operands first, then the call)
 * to cur. */
static void gw_expr(gw_flow *fl, gw_cur *cur, const ast_expr *e, int depth)
{
    if (!e || depth > 200 || e->kind == AX_SIZEOF)
        return;
    for (int i = 0; i < e->nkids; i++)
        gw_expr(fl, cur, e->kids[i], depth + 1);
    int helper = -1;
    int ev = gw_classify(fl->cx, e, &helper);
    switch (ev) {
    case GW_EV_RELEASE: {
        int guard = gw_guard_of(fl, fl->cur_block);
        cur->st.bits = guard < 0 ? GW_RELEASED : 0;
        cur->st.ng = 0;
        if (guard >= 0)
            gw_add_guard(&cur->st, guard);
        cur->origin = (gw_origin){ e->loc, e->name, fl->cur_block };
        break;
    }
    case GW_EV_ACQUIRE:
        cur->st = (gw_state){ .bits = GW_HELD };
        break;
    case GW_EV_API:
        if (!gw_released(&cur->st))
            break;
        gw_found(fl, e->loc, e->name);
        if (fl->reporting)
            gw_report(fl, cur, e, NULL);
        break;
    case GW_EV_HELPER: {
        /* what the helper does from each state the paths bring here */
        gw_state next = {0};
        if (gw_released(&cur->st)) {
            const gw_helper *h = gw_helper_get(fl->cx, helper, GW_RELEASED);
            unsigned ex = h ? h->exit : GW_RELEASED;
            if (h && h->api) {
                /* the API call itself, however deep the helpers go */
                gw_found(fl, h->api_loc, h->api_name);
                if (fl->reporting)
                    gw_report(fl, cur, e, h);
            }
            if (ex & GW_RELEASED) {
                next.bits |= cur->st.bits & GW_RELEASED;
                next.ng = cur->st.ng;
                memcpy(next.guard, cur->st.guard, sizeof next.guard);
            }
            next.bits |= ex & GW_HELD;
        }
        /* Entered with the GIL held, helpers are not followed: a wrapper
         * that releases it (and returns without it) is missed.  Following
         * them would convert every local callee once per caller. */
        next.bits |= cur->st.bits & GW_HELD;
        if (!gw_empty(&next))
            cur->st = next;
        break;
    }
    default:
        break;
    }
}

/* Runs block b from state cur. */
static void gw_block_scan(gw_flow *fl, const cfg_block *b, gw_cur *cur)
{
    fl->cur_block = b->id;
    for (int i = 0; i < b->ninsns; i++)
        if (b->insns[i].kind != IR_SCOPE_END)
            gw_expr(fl, cur, b->insns[i].expr, 0);
    if (b->term == T_BRANCH || b->term == T_SWITCH || b->term == T_RETURN || b->term == T_INDIRECT)
        gw_expr(fl, cur, b->cond, 0);
}

/* The state st leaving block b by its successor s: a branch on a
 * condition that guards a release lets that release through on one side
 * only. */
static gw_state gw_edge(const gw_flow *fl, const cfg_block *b, int s, const gw_state *st)
{
    gw_state out = *st;
    int c = fl->blk[b->id].cond_class;
    if (b->term != T_BRANCH || c < 0 || b->nsucc < 2 || b->succ[0] == b->succ[1] || st->ng == 0)
        return out;
    int value = (s == 0) != fl->blk[b->id].cond_neg;
    out.ng = 0;
    for (int i = 0; i < st->ng; i++)
        if (st->guard[i] / 2 != c || st->guard[i] % 2 == value)
            out.guard[out.ng++] = st->guard[i];
    return out;
}

/* Sets up single predecessors and condition classes. */
static void gw_prepare(gw_flow *fl)
{
    const cfg *g = fl->g;
    gw_ctx *cx = fl->cx;
    int *npred = pa_alloc(&cx->arena, (size_t)(g->nblocks + 1) * sizeof *npred);
    fl->classes = pa_alloc(&cx->arena, (size_t)(g->nblocks + 1) * sizeof *fl->classes);
    if (pa_failed(&cx->arena))
        return;
    for (int i = 0; i < g->nblocks; i++) {
        fl->blk[i].pred = -1;
        fl->blk[i].single_pred = -1;
        fl->blk[i].cond_class = -1;
    }
    for (int i = 0; i < g->nblocks; i++) {
        const cfg_block *b = g->blocks[i];
        for (int s = 0; s < b->nsucc; s++) {
            int t = b->succ[s]->id;
            if (s > 0 && b->succ[s] == b->succ[s - 1])
                continue;
            npred[t]++;
            fl->blk[t].single_pred = npred[t] == 1 ? i : -1;
        }
        if (b->term != T_BRANCH || !b->cond)
            continue;
        const char *text = gw_text(cx, b->cond);
        bool neg = false;
        while (text[0] == '!' && text[1] != '=') {
            neg = !neg;
            text++;
            if (text[0] == '(' && text[strlen(text) - 1] == ')') {
                char *t = pa_strdup(&cx->arena, text + 1);
                t[strlen(t) - 1] = '\0';
                text = t;
            }
        }
        int k = 0;
        while (k < fl->nclasses && strcmp(fl->classes[k], text) != 0)
            k++;
        if (k == fl->nclasses)
            fl->classes[fl->nclasses++] = text;
        fl->blk[i].cond_class = k;
        fl->blk[i].cond_neg = neg;
    }
}

/* The dataflow of one function entered in state entry, then (reporting)
 * a last pass that reports every API call reached without the GIL.
 * Returns 0, or -1 when out of memory. */
static int gw_flow_run(gw_ctx *cx, const ast_func *f, const cfg *g, unsigned entry,
                       bool reporting, gw_flow *fl)
{
    memset(fl, 0, sizeof *fl);
    fl->cx = cx;
    fl->f = f;
    fl->g = g;
    fl->entry = entry;
    int nb = g->nblocks;
    fl->blk = pa_alloc(&cx->arena, (size_t)(nb + 1) * sizeof *fl->blk);
    int *work = pa_alloc(&cx->arena, (size_t)(nb + 1) * sizeof *work);
    bool *queued = pa_alloc(&cx->arena, (size_t)nb + 1);
    if (pa_failed(&cx->arena))
        return -1;
    gw_prepare(fl);
    if (pa_failed(&cx->arena))
        return -1;
    int nwork = 0;
    fl->blk[g->entry->id].in = (gw_state){ .bits = entry };
    fl->blk[g->entry->id].origin = (gw_origin){ f->loc, "the caller", -1 };
    work[nwork++] = g->entry->id;
    queued[g->entry->id] = true;
    long steps = 0;
    while (nwork > 0 && steps < 100000) {
        steps++;
        int id = work[--nwork];
        queued[id] = false;
        const cfg_block *b = g->blocks[id];
        gw_cur cur = { fl->blk[id].in, fl->blk[id].origin };
        gw_block_scan(fl, b, &cur);
        for (int s = 0; s < b->nsucc; s++) {
            int t = b->succ[s]->id;
            gw_block *tb = &fl->blk[t];
            gw_state out = gw_edge(fl, b, s, &cur.st);
            if (gw_empty(&out))
                continue;     /* a guarded release cannot take this edge */
            bool was_released = gw_released(&tb->in);
            if (!gw_join(&tb->in, &out))
                continue;
            if (gw_released(&out) && !was_released) {
                tb->origin = cur.origin;
                tb->pred = id;
            }
            if (!queued[t]) {
                queued[t] = true;
                work[nwork++] = t;
            }
        }
    }
    if (reporting) {
        fl->reporting = true;
        for (int id = 0; id < nb; id++) {
            if (gw_empty(&fl->blk[id].in) || g->blocks[id] == g->exit)
                continue;
            gw_cur cur = { fl->blk[id].in, fl->blk[id].origin };
            gw_block_scan(fl, g->blocks[id], &cur);
        }
        fl->reporting = false;
    }
    return pa_failed(&cx->arena) ? -1 : 0;
}

int ck_api_without_gil(const ck_func_input *in)
{
    if (!in->f || !in->g)
        return 0;
    gw_ctx *cx = calloc(1, sizeof *cx);
    if (!cx)
        return -1;
    cx->in = in;
    pa_init(&cx->arena, GW_ARENA_LIMIT);
    gw_flow fl;
    int rc = gw_flow_run(cx, in->f, in->g, GW_HELD, true, &fl);
    sb_free(&cx->sb);
    pa_release(&cx->arena);
    free(cx);
    return rc;
}
