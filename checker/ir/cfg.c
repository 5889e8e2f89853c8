/* cfg.c - builds a function's control-flow graph from its syntax tree.
 *
 * The builder keeps an "active block" that lowered statements append to
 * (NULL after return, break, continue or goto: code that follows starts a
 * block without predecessors).  Loops and switches push their break and
 * continue targets; labels are bound by name, so gotos may come before
 * their labels.  Every `return` ends in the single exit block.  Expressions
 * whose evaluation branches (&&, ||, ?:, comma, statement expressions) are
 * lowered into blocks and temporaries, leaving straight-line instructions.
 * Variables with __attribute__((cleanup)) get their cleanup call on every
 * edge that leaves their scope.
 */
#include "cfg.h"

#include <string.h>

#include "../base/strbuf.h"

typedef struct cb_label {
    const char *name;
    cfg_block *block;
    int *scopes;            /* enclosing scope ids, outermost first */
    int nscopes;
    int *cleanups_before;   /* once bound: cleanup variables declared in each
                               enclosing scope before the label */
    bool bound;
    bool addr_taken;        /* &&label used somewhere */
    struct cb_label *next;
} cb_label;

typedef struct cb_switch {
    cfg_block *head;        /* block ending in T_SWITCH */
    bool has_default;
    struct cb_switch *outer;
} cb_switch;

typedef struct cb_scope {
    int id;
    ast_var **cleanups;     /* variables with a cleanup, in declaration order */
    int ncleanups, cap;
} cb_scope;

typedef struct cb_jump {
    cfg_block *target;
    int depth;              /* scope depth at the jump target's owner */
} cb_jump;

typedef struct cfg_builder {
    cfg *g;
    pa_arena *a;
    ast_func *f;
    cfg_block *cur;         /* active block, NULL when unreachable */
    cb_jump brk, cont;      /* current targets (target NULL: none) */
    cb_switch *sw;
    cb_label *labels;
    cfg_block **indirect;   /* blocks ending in a computed goto */
    int nindirect, cap_indirect;
    cb_scope *scopes;       /* scope stack */
    int nscopes, cap_scopes;
    int next_scope_id;
    bool has_cleanups;      /* any variable with a cleanup attribute */
} cfg_builder;

/* ------------------------------------------------------------------ */
/* blocks                                                             */

static cfg_block *cb_new_block(cfg_builder *b)
{
    cfg *g = b->g;
    if (g->nblocks == g->cap_blocks) {
        int ncap = g->cap_blocks ? g->cap_blocks * 2 : 16;
        g->blocks = pa_grow(b->a, g->blocks, (size_t)g->nblocks, (size_t)ncap, sizeof *g->blocks);
        if (pa_failed(b->a))
            return pa_alloc(b->a, sizeof(cfg_block));
        g->cap_blocks = ncap;
    }
    cfg_block *blk = pa_alloc(b->a, sizeof *blk);
    blk->id = g->nblocks;
    g->blocks[g->nblocks++] = blk;
    return blk;
}

static void cb_add_succ(cfg_builder *b, cfg_block *from, cfg_block *to)
{
    if (from->nsucc == from->cap_succ) {
        int ncap = from->cap_succ ? from->cap_succ * 2 : 2;
        from->succ = pa_grow(b->a, from->succ, (size_t)from->nsucc, (size_t)ncap, sizeof *from->succ);
        if (pa_failed(b->a))
            return;
        from->cap_succ = ncap;
    }
    from->succ[from->nsucc++] = to;
}

/* The active block, starting an unreachable one if there is none. */
static cfg_block *cb_cur(cfg_builder *b)
{
    if (!b->cur)
        b->cur = cb_new_block(b);
    return b->cur;
}

static void cb_emit(cfg_builder *b, ir_kind k, src_loc loc, ast_expr *e, ast_var *v)
{
    cfg_block *blk = cb_cur(b);
    if (blk->ninsns == blk->cap_insns) {
        int ncap = blk->cap_insns ? blk->cap_insns * 2 : 8;
        blk->insns = pa_grow(b->a, blk->insns, (size_t)blk->ninsns, (size_t)ncap, sizeof *blk->insns);
        if (pa_failed(b->a))
            return;
        blk->cap_insns = ncap;
    }
    ir_insn *in = &blk->insns[blk->ninsns++];
    in->kind = k;
    in->loc = loc;
    in->expr = e;
    in->var = v;
}

/* Ends the active block with a jump to target. */
static void cb_goto(cfg_builder *b, cfg_block *target, src_loc loc)
{
    if (!b->cur)
        return;
    b->cur->term = T_GOTO;
    b->cur->term_loc = loc;
    cb_add_succ(b, b->cur, target);
    b->cur = NULL;
}

/* Adds to as the first successor (a switch's default target). */
static void cb_add_succ_front(cfg_builder *b, cfg_block *from, cfg_block *to)
{
    cb_add_succ(b, from, to);
    for (int i = from->nsucc - 1; i > 0; i--) {
        cfg_block *t = from->succ[i];
        from->succ[i] = from->succ[i - 1];
        from->succ[i - 1] = t;
    }
}

static void cb_branch(cfg_builder *b, ast_expr *cond, cfg_block *t, cfg_block *f, src_loc loc)
{
    cfg_block *blk = cb_cur(b);
    blk->term = T_BRANCH;
    blk->cond = cond;
    blk->term_loc = loc;
    cb_add_succ(b, blk, t);
    cb_add_succ(b, blk, f);
    b->cur = NULL;
}

/* ------------------------------------------------------------------ */
/* scopes and cleanups                                                */

static void cb_push_scope(cfg_builder *b, int id)
{
    if (b->nscopes == b->cap_scopes) {
        int ncap = b->cap_scopes ? b->cap_scopes * 2 : 16;
        b->scopes = pa_grow(b->a, b->scopes, (size_t)b->nscopes, (size_t)ncap, sizeof *b->scopes);
        if (pa_failed(b->a))
            return;
        b->cap_scopes = ncap;
    }
    cb_scope *s = &b->scopes[b->nscopes++];
    memset(s, 0, sizeof *s);
    s->id = id;
}

static ast_expr *cb_mk(cfg_builder *b, ax_kind k, src_loc loc, ty_class ty)
{
    ast_expr *e = pa_alloc(b->a, sizeof *e);
    e->kind = k;
    e->loc = loc;
    e->ty = ty;
    return e;
}

static ast_expr *cb_var_ref(cfg_builder *b, ast_var *v, src_loc loc)
{
    ast_expr *e = cb_mk(b, AX_VAR, loc, v->ty);
    e->var = v;
    e->name = v->name;
    return e;
}

/* Emits cleanup(&var) for every cleanup variable in scopes deeper than
 * depth, innermost first. */
static void cb_run_cleanups(cfg_builder *b, int depth, src_loc loc)
{
    if (!b->has_cleanups || !b->cur)
        return;
    for (int s = b->nscopes - 1; s >= depth && s >= 0; s--) {
        cb_scope *sc = &b->scopes[s];
        for (int i = sc->ncleanups - 1; i >= 0; i--) {
            ast_var *v = sc->cleanups[i];
            ast_expr *call = cb_mk(b, AX_CALL, loc, TY_VOID);
            call->name = v->cleanup_fn;
            ast_expr *fn = cb_mk(b, AX_FUNC, loc, TY_OTHER);
            fn->name = v->cleanup_fn;
            ast_expr *addr = cb_mk(b, AX_ADDR, loc, v->ty == TY_OBJ ? TY_OBJPTR : TY_PTR);
            ast_expr *ref = cb_var_ref(b, v, loc);
            addr->kids = pa_alloc(b->a, sizeof *addr->kids);
            addr->kids[0] = ref;
            addr->nkids = 1;
            call->kids = pa_alloc(b->a, 2 * sizeof *call->kids);
            call->kids[0] = fn;
            call->kids[1] = addr;
            call->nkids = 2;
            cb_emit(b, IR_EVAL, loc, call, NULL);
        }
    }
}

static void cb_pop_scope(cfg_builder *b, src_loc loc)
{
    cb_run_cleanups(b, b->nscopes - 1, loc);
    b->nscopes--;
}

static void cb_scope_add_cleanup(cfg_builder *b, ast_var *v)
{
    if (b->nscopes == 0)
        return;
    cb_scope *s = &b->scopes[b->nscopes - 1];
    if (s->ncleanups == s->cap) {
        int ncap = s->cap ? s->cap * 2 : 4;
        s->cleanups = pa_grow(b->a, s->cleanups, (size_t)s->ncleanups, (size_t)ncap, sizeof *s->cleanups);
        if (pa_failed(b->a))
            return;
        s->cap = ncap;
    }
    s->cleanups[s->ncleanups++] = v;
}

/* ------------------------------------------------------------------ */
/* labels                                                             */

static cb_label *cb_label_get(cfg_builder *b, const char *name)
{
    for (cb_label *l = b->labels; l; l = l->next)
        if (strcmp(l->name, name) == 0)
            return l;
    cb_label *l = pa_alloc(b->a, sizeof *l);
    if (pa_failed(b->a))
        return l;   /* scratch: the build is abandoned */
    l->name = name;
    l->block = cb_new_block(b);
    l->block->label = name;
    l->nscopes = -1;   /* scope chain not known yet */
    l->next = b->labels;
    b->labels = l;
    return l;
}

/* Pre-pass: numbers scopes in the order the builder opens them and records
 * each label's chain of enclosing scopes (needed to run cleanups on gotos
 * that leave scopes).  Scope ids are stored in ival2 of compound/for nodes. */
static void cb_prepass(cfg_builder *b, ast_stmt *s, int *chain, int depth);

static void cb_prepass_expr(cfg_builder *b, ast_expr *e, int *chain, int depth)
{
    if (!e)
        return;
    if (e->kind == AX_LABEL_ADDR && e->name)
        cb_label_get(b, e->name)->addr_taken = true;
    if (e->kind == AX_STMT_EXPR && e->stmt)
        cb_prepass(b, e->stmt, chain, depth);
    for (int i = 0; i < e->nkids; i++)
        cb_prepass_expr(b, e->kids[i], chain, depth);
}

#define CB_MAX_SCOPE_DEPTH 4096

static void cb_prepass(cfg_builder *b, ast_stmt *s, int *chain, int depth)
{
    if (!s || pa_failed(b->a))
        return;
    bool opens = (s->kind == AS_COMPOUND && s->ival == 0) || s->kind == AS_FOR;
    if (opens) {
        s->ival2 = b->next_scope_id++;
        if (depth < CB_MAX_SCOPE_DEPTH)
            chain[depth] = (int)s->ival2;
        depth++;
    }
    if (s->kind == AS_LABEL && s->name) {
        cb_label *l = cb_label_get(b, s->name);
        int n = depth < CB_MAX_SCOPE_DEPTH ? depth : CB_MAX_SCOPE_DEPTH;
        l->scopes = pa_alloc(b->a, (size_t)(n ? n : 1) * sizeof *l->scopes);
        memcpy(l->scopes, chain, (size_t)n * sizeof *chain);
        l->nscopes = n;
    }
    if (s->kind == AS_DECL && s->var && s->var->cleanup_fn)
        b->has_cleanups = true;
    cb_prepass_expr(b, s->expr, chain, depth);
    cb_prepass_expr(b, s->expr2, chain, depth);
    for (int i = 0; i < s->nkids; i++)
        cb_prepass(b, s->kids[i], chain, depth);
}

/* ------------------------------------------------------------------ */
/* expressions                                                        */

static ast_expr *cb_expr(cfg_builder *b, ast_expr *e);
static void cb_cond(cfg_builder *b, ast_expr *e, cfg_block *t, cfg_block *f);
static void cb_stmt(cfg_builder *b, ast_stmt *s);

static ast_var *cb_new_temp(cfg_builder *b, ty_class ty, src_loc loc)
{
    ast_func *f = b->f;
    ast_var *v = pa_alloc(b->a, sizeof *v);
    v->kind = VAR_TEMP;
    v->ty = ty;
    v->loc = loc;
    v->name = pa_printf(b->a, "tmp.%d", b->g->ntemps++);
    v->type_name = ty == TY_OBJ ? "PyObject *" : "int";
    f->vars = pa_grow(b->a, f->vars, (size_t)f->nvars, (size_t)f->nvars + 1, sizeof *f->vars);
    if (pa_failed(b->a))
        return v;
    v->id = f->nvars;
    f->vars[f->nvars++] = v;
    return v;
}

static bool cb_needs_lowering(const ast_expr *e)
{
    if (!e)
        return false;
    if (e->kind == AX_LOGIC || e->kind == AX_COND || e->kind == AX_COMMA || e->kind == AX_STMT_EXPR)
        return true;
    if (e->kind == AX_SIZEOF)
        return false;
    for (int i = 0; i < e->nkids; i++)
        if (e->kids[i] && cb_needs_lowering(e->kids[i]))
            return true;
    return false;
}

static ast_expr *cb_assign(cfg_builder *b, ast_var *v, ast_expr *val, src_loc loc)
{
    ast_expr *as = cb_mk(b, AX_ASSIGN, loc, v->ty);
    as->kids = pa_alloc(b->a, 2 * sizeof *as->kids);
    as->kids[0] = cb_var_ref(b, v, loc);
    as->kids[1] = val;
    as->nkids = 2;
    return as;
}

/* Whether evaluating e can have an effect worth an instruction. */
static bool cb_is_no_value(const ast_expr *e);

static bool cb_has_effect(const ast_expr *e)
{
    if (!e || cb_is_no_value(e))
        return false;
    switch (e->kind) {
    case AX_CALL: case AX_MACRO: case AX_ASSIGN: case AX_UNKNOWN:
        return true;
    case AX_UNARY:
        if (e->op == AO_PREINC || e->op == AO_PREDEC || e->op == AO_POSTINC || e->op == AO_POSTDEC)
            return true;
        break;
    case AX_SIZEOF:
        return false;
    default:
        break;
    }
    for (int i = 0; i < e->nkids; i++)
        if (cb_has_effect(e->kids[i]))
            return true;
    return false;
}

static bool cb_is_noreturn_call(const ast_expr *e)
{
    while (e && e->kind == AX_CAST && e->nkids == 1)
        e = e->kids[0];
    return e && (e->kind == AX_CALL || e->kind == AX_MACRO) && e->callee_noreturn;
}

/* Ends the active block when e never returns (abort(), Py_FatalError()). */
static bool cb_end_if_noreturn(cfg_builder *b, const ast_expr *e, src_loc loc)
{
    if (!b->cur || !cb_is_noreturn_call(e))
        return false;
    b->cur->term = T_NORETURN;
    b->cur->term_loc = loc;
    b->cur = NULL;
    return true;
}

/* The value of an expression that has none (void ?:, valueless statement
 * expression): evaluates to nothing and is never emitted. */
static ast_expr *cb_no_value(cfg_builder *b, src_loc loc)
{
    ast_expr *e = cb_mk(b, AX_UNKNOWN, loc, TY_VOID);
    e->name = "<no value>";
    return e;
}

static bool cb_is_no_value(const ast_expr *e)
{
    return e && e->kind == AX_UNKNOWN && e->nkids == 0 && e->ty == TY_VOID && e->name &&
           strcmp(e->name, "<no value>") == 0;
}

/* Lowers a statement expression; returns the value of its last
 * expression statement (or NULL when it has none). */
static ast_expr *cb_stmt_expr(cfg_builder *b, ast_expr *e)
{
    ast_stmt *s = e->stmt;
    if (!s)
        return NULL;
    if (s->kind != AS_COMPOUND || s->nkids == 0) {
        cb_stmt(b, s);
        return NULL;
    }
    cb_push_scope(b, (int)s->ival2);
    for (int i = 0; i < s->nkids - 1; i++)
        cb_stmt(b, s->kids[i]);
    ast_stmt *last = s->kids[s->nkids - 1];
    ast_expr *val = NULL;
    if (last->kind == AS_EXPR && last->expr) {
        val = cb_expr(b, last->expr);
        if (val && b->has_cleanups && b->scopes[b->nscopes - 1].ncleanups > 0 && val->ty != TY_VOID) {
            ast_var *t = cb_new_temp(b, val->ty, val->loc);
            cb_emit(b, IR_EVAL, val->loc, cb_assign(b, t, val, val->loc), NULL);
            val = cb_var_ref(b, t, val->loc);
        }
    } else
        cb_stmt(b, last);
    cb_pop_scope(b, e->loc);
    return val;
}

/* Returns an expression equivalent to e with no branching inside, emitting
 * the branching parts into the CFG. */
static ast_expr *cb_expr(cfg_builder *b, ast_expr *e)
{
    if (!e || !cb_needs_lowering(e))
        return e;
    switch (e->kind) {
    case AX_COMMA: {
        ast_expr *l = cb_expr(b, e->kids[0]);
        if (cb_has_effect(l))
            cb_emit(b, IR_EVAL, l->loc, l, NULL);
        cb_end_if_noreturn(b, l, l ? l->loc : e->loc);
        return cb_expr(b, e->kids[1]);
    }
    case AX_STMT_EXPR: {
        ast_expr *v = cb_stmt_expr(b, e);
        if (!v)
            v = cb_no_value(b, e->loc);
        return v;
    }
    case AX_COND: {
        cfg_block *t = cb_new_block(b), *f = cb_new_block(b), *join = cb_new_block(b);
        bool has_value = e->ty != TY_VOID && e->ty != TY_OTHER;
        ast_var *tmp = has_value ? cb_new_temp(b, e->ty, e->loc) : NULL;
        if (!e->kids[1]) {
            /* GNU a ?: b: a is evaluated once and is the value when true */
            ast_var *c = cb_new_temp(b, e->kids[0]->ty, e->loc);
            ast_expr *a = cb_expr(b, e->kids[0]);
            cb_emit(b, IR_EVAL, e->loc, cb_assign(b, c, a, e->loc), NULL);
            cb_branch(b, cb_var_ref(b, c, e->loc), t, f, e->loc);
            b->cur = t;
            if (tmp)
                cb_emit(b, IR_EVAL, e->loc, cb_assign(b, tmp, cb_var_ref(b, c, e->loc), e->loc), NULL);
            cb_goto(b, join, e->loc);
            b->cur = f;
            ast_expr *v = cb_expr(b, e->kids[2]);
            if (tmp)
                cb_emit(b, IR_EVAL, v ? v->loc : e->loc, cb_assign(b, tmp, v, e->loc), NULL);
            else if (cb_has_effect(v))
                cb_emit(b, IR_EVAL, v->loc, v, NULL);
            cb_end_if_noreturn(b, v, e->loc);
            cb_goto(b, join, e->loc);
            b->cur = join;
            return tmp ? cb_var_ref(b, tmp, e->loc) : cb_no_value(b, e->loc);
        }
        cb_cond(b, e->kids[0], t, f);
        for (int side = 0; side < 2; side++) {
            b->cur = side == 0 ? t : f;
            ast_expr *v = cb_expr(b, e->kids[side + 1]);
            if (tmp)
                cb_emit(b, IR_EVAL, v ? v->loc : e->loc, cb_assign(b, tmp, v, e->loc), NULL);
            else if (cb_has_effect(v))
                cb_emit(b, IR_EVAL, v->loc, v, NULL);
            if (b->cur && cb_is_noreturn_call(v)) {
                b->cur->term = T_NORETURN;
                b->cur = NULL;
            }
            cb_goto(b, join, e->loc);
        }
        b->cur = join;
        return tmp ? cb_var_ref(b, tmp, e->loc) : cb_no_value(b, e->loc);
    }
    case AX_LOGIC: {
        cfg_block *t = cb_new_block(b), *f = cb_new_block(b), *join = cb_new_block(b);
        ast_var *tmp = cb_new_temp(b, TY_INT, e->loc);
        cb_cond(b, e, t, f);
        for (int side = 0; side < 2; side++) {
            b->cur = side == 0 ? t : f;
            ast_expr *one = cb_mk(b, AX_INT, e->loc, TY_INT);
            one->ival = side == 0;
            cb_emit(b, IR_EVAL, e->loc, cb_assign(b, tmp, one, e->loc), NULL);
            cb_goto(b, join, e->loc);
        }
        b->cur = join;
        return cb_var_ref(b, tmp, e->loc);
    }
    default:
        for (int i = 0; i < e->nkids; i++)
            e->kids[i] = cb_expr(b, e->kids[i]);
        return e;
    }
}

/* Branches to t when e is true, to f otherwise. */
static void cb_cond(cfg_builder *b, ast_expr *e, cfg_block *t, cfg_block *f)
{
    if (!e) {
        cb_goto(b, t, (src_loc){0});
        return;
    }
    switch (e->kind) {
    case AX_INT:
        cb_cur(b);
        cb_goto(b, e->ival ? t : f, e->loc);
        return;
    case AX_LOGIC: {
        cfg_block *mid = cb_new_block(b);
        if (e->op == AO_LAND)
            cb_cond(b, e->kids[0], mid, f);
        else
            cb_cond(b, e->kids[0], t, mid);
        b->cur = mid;
        cb_cond(b, e->kids[1], t, f);
        return;
    }
    case AX_UNARY:
        if (e->op == AO_NOT && e->nkids == 1 && cb_needs_lowering(e->kids[0])) {
            cb_cond(b, e->kids[0], f, t);
            return;
        }
        break;
    case AX_COMMA: {
        ast_expr *l = cb_expr(b, e->kids[0]);
        if (cb_has_effect(l))
            cb_emit(b, IR_EVAL, l->loc, l, NULL);
        cb_end_if_noreturn(b, l, l ? l->loc : e->loc);
        cb_cond(b, e->kids[1], t, f);
        return;
    }
    case AX_COND: {
        if (!e->kids[1]) {
            /* a ?: b as a condition: true when a is, else b decides */
            cfg_block *y = cb_new_block(b);
            cb_cond(b, e->kids[0], t, y);
            b->cur = y;
            cb_cond(b, e->kids[2], t, f);
            return;
        }
        cfg_block *x = cb_new_block(b), *y = cb_new_block(b);
        cb_cond(b, e->kids[0], x, y);
        b->cur = x;
        cb_cond(b, e->kids[1], t, f);
        b->cur = y;
        cb_cond(b, e->kids[2], t, f);
        return;
    }
    case AX_CAST:
        if (e->nkids == 1 && (e->kids[0]->kind == AX_LOGIC || e->kids[0]->kind == AX_INT)) {
            cb_cond(b, e->kids[0], t, f);
            return;
        }
        break;
    default:
        break;
    }
    ast_expr *c = cb_expr(b, e);
    cb_branch(b, c, t, f, e->loc);
}

/* ------------------------------------------------------------------ */
/* statements                                                         */

static void cb_eval_stmt(cfg_builder *b, ast_expr *e, src_loc loc)
{
    ast_expr *v = cb_expr(b, e);
    if (!v)
        return;
    if (cb_has_effect(v))
        cb_emit(b, IR_EVAL, loc, v, NULL);
    if (cb_is_noreturn_call(v)) {
        cb_cur(b);
        cb_end_if_noreturn(b, v, loc);
    }
}

static void cb_loop_body(cfg_builder *b, ast_stmt *body, cfg_block *brk, cfg_block *cont)
{
    cb_jump save_brk = b->brk, save_cont = b->cont;
    b->brk = (cb_jump){ brk, b->nscopes };
    b->cont = (cb_jump){ cont, b->nscopes };
    cb_stmt(b, body);
    b->brk = save_brk;
    b->cont = save_cont;
}

static void cb_return(cfg_builder *b, ast_stmt *s)
{
    ast_expr *v = cb_expr(b, s->expr);
    if (v && b->has_cleanups && b->nscopes > 0 && v->ty != TY_VOID) {
        ast_var *t = cb_new_temp(b, v->ty, s->loc);
        cb_emit(b, IR_EVAL, s->loc, cb_assign(b, t, v, s->loc), NULL);
        v = cb_var_ref(b, t, s->loc);
    }
    cb_run_cleanups(b, 0, s->loc);
    cfg_block *blk = cb_cur(b);
    blk->term = T_RETURN;
    blk->cond = v;
    blk->term_loc = s->loc;
    cb_add_succ(b, blk, b->g->exit);
    b->cur = NULL;
}

static void cb_goto_label(cfg_builder *b, ast_stmt *s)
{
    cb_label *l = cb_label_get(b, s->name);
    if (b->has_cleanups && l->nscopes >= 0) {
        /* leave every scope not enclosing the label */
        int common = 0;
        while (common < b->nscopes && common < l->nscopes && b->scopes[common].id == l->scopes[common])
            common++;
        cb_run_cleanups(b, common, s->loc);
        /* jumping back above a declaration ends that variable's life too */
        if (l->bound && b->cur) {
            for (int sc = common - 1; sc >= 0; sc--) {
                cb_scope *scope = &b->scopes[sc];
                for (int i = scope->ncleanups - 1; i >= l->cleanups_before[sc]; i--) {
                    cb_scope one = { .id = scope->id, .cleanups = &scope->cleanups[i], .ncleanups = 1 };
                    cb_scope *saved = b->scopes;
                    int saved_n = b->nscopes;
                    b->scopes = &one;
                    b->nscopes = 1;
                    cb_run_cleanups(b, 0, s->loc);
                    b->scopes = saved;
                    b->nscopes = saved_n;
                }
            }
        }
    }
    cb_cur(b);
    cb_goto(b, l->block, s->loc);
}

static void cb_lower_switch(cfg_builder *b, ast_stmt *s)
{
    ast_expr *v = cb_expr(b, s->expr);
    cfg_block *head = cb_cur(b);
    head->term = T_SWITCH;
    head->cond = v;
    head->term_loc = s->loc;
    cfg_block *exit = cb_new_block(b);
    cb_switch sw = { head, false, b->sw };
    b->sw = &sw;
    b->cur = NULL;
    cb_jump save_brk = b->brk;
    b->brk = (cb_jump){ exit, b->nscopes };
    if (s->nkids > 0)
        cb_stmt(b, s->kids[0]);
    cb_goto(b, exit, s->loc);
    b->brk = save_brk;
    b->sw = sw.outer;
    if (!sw.has_default)
        cb_add_succ_front(b, head, exit);   /* succ[0]: the default target */
    b->cur = exit;
}

static void cb_case(cfg_builder *b, ast_stmt *s)
{
    cfg_block *blk = cb_new_block(b);
    cb_goto(b, blk, s->loc);   /* fall-through from the previous case */
    if (b->sw) {
        cfg_block *head = b->sw->head;
        if (s->kind == AS_DEFAULT) {
            cb_add_succ_front(b, head, blk);   /* succ[0]: the default target */
            b->sw->has_default = true;
        } else {
            if (head->ncases == head->cap_cases) {
                int ncap = head->cap_cases ? head->cap_cases * 2 : 8;
                head->cases = pa_grow(b->a, head->cases, (size_t)head->ncases, (size_t)ncap, sizeof *head->cases);
                if (pa_failed(b->a))
                    return;
                head->cap_cases = ncap;
            }
            head->cases[head->ncases++] = (cfg_case){ s->ival, s->ival2, blk };
            cb_add_succ(b, head, blk);
        }
    }
    b->cur = blk;
    if (s->nkids > 0)
        cb_stmt(b, s->kids[0]);
}

static void cb_stmt(cfg_builder *b, ast_stmt *s)
{
    if (!s || pa_failed(b->a))
        return;
    switch (s->kind) {
    case AS_NULL:
    case AS_ASM:
        break;
    case AS_COMPOUND: {
        bool scope = s->ival == 0;
        if (scope)
            cb_push_scope(b, (int)s->ival2);
        for (int i = 0; i < s->nkids; i++)
            cb_stmt(b, s->kids[i]);
        if (scope)
            cb_pop_scope(b, s->end_loc.line ? s->end_loc : s->loc);
        break;
    }
    case AS_DECL: {
        ast_expr *init = cb_expr(b, s->expr);
        cb_emit(b, IR_DECL, s->loc, init, s->var);
        if (s->var && s->var->cleanup_fn)
            cb_scope_add_cleanup(b, s->var);
        break;
    }
    case AS_EXPR:
        cb_eval_stmt(b, s->expr, s->loc);
        break;
    case AS_IF: {
        cfg_block *t = cb_new_block(b);
        cfg_block *f = s->kids && s->kids[1] ? cb_new_block(b) : NULL;
        cfg_block *join = cb_new_block(b);
        cb_cur(b);
        cb_cond(b, s->expr, t, f ? f : join);
        b->cur = t;
        if (s->nkids > 0)
            cb_stmt(b, s->kids[0]);
        cb_goto(b, join, s->loc);
        if (f) {
            b->cur = f;
            cb_stmt(b, s->kids[1]);
            cb_goto(b, join, s->loc);
        }
        b->cur = join;
        break;
    }
    case AS_WHILE: {
        cfg_block *head = cb_new_block(b), *body = cb_new_block(b), *exit = cb_new_block(b);
        cb_cur(b);
        cb_goto(b, head, s->loc);
        b->cur = head;
        cb_cond(b, s->expr, body, exit);
        b->cur = body;
        if (s->nkids > 0)
            cb_loop_body(b, s->kids[0], exit, head);
        cb_goto(b, head, s->loc);
        b->cur = exit;
        break;
    }
    case AS_DO: {
        cfg_block *body = cb_new_block(b), *cond = cb_new_block(b), *exit = cb_new_block(b);
        cb_cur(b);
        cb_goto(b, body, s->loc);
        b->cur = body;
        if (s->nkids > 0)
            cb_loop_body(b, s->kids[0], exit, cond);
        cb_goto(b, cond, s->loc);
        b->cur = cond;
        cb_cond(b, s->expr, body, exit);
        b->cur = exit;
        break;
    }
    case AS_FOR: {
        cb_push_scope(b, (int)s->ival2);
        if (s->nkids > 0 && s->kids[0])
            cb_stmt(b, s->kids[0]);
        cfg_block *head = cb_new_block(b), *body = cb_new_block(b);
        cfg_block *step = cb_new_block(b), *exit = cb_new_block(b);
        cb_cur(b);
        cb_goto(b, head, s->loc);
        b->cur = head;
        if (s->expr)
            cb_cond(b, s->expr, body, exit);
        else
            cb_goto(b, body, s->loc);
        b->cur = body;
        if (s->nkids > 1)
            cb_loop_body(b, s->kids[1], exit, step);
        cb_goto(b, step, s->loc);
        b->cur = step;
        if (s->expr2)
            cb_eval_stmt(b, s->expr2, s->expr2->loc);
        cb_goto(b, head, s->loc);
        b->cur = exit;
        cb_pop_scope(b, s->end_loc.line ? s->end_loc : s->loc);
        break;
    }
    case AS_SWITCH:
        cb_lower_switch(b, s);
        break;
    case AS_CASE:
    case AS_DEFAULT:
        cb_case(b, s);
        break;
    case AS_BREAK:
        if (b->brk.target) {
            cb_run_cleanups(b, b->brk.depth, s->loc);
            cb_cur(b);
            cb_goto(b, b->brk.target, s->loc);
        }
        b->cur = NULL;
        break;
    case AS_CONTINUE:
        if (b->cont.target) {
            cb_run_cleanups(b, b->cont.depth, s->loc);
            cb_cur(b);
            cb_goto(b, b->cont.target, s->loc);
        }
        b->cur = NULL;
        break;
    case AS_RETURN:
        cb_return(b, s);
        break;
    case AS_GOTO:
        cb_goto_label(b, s);
        break;
    case AS_INDIRECT_GOTO: {
        ast_expr *v = cb_expr(b, s->expr);
        cfg_block *blk = cb_cur(b);
        blk->term = T_INDIRECT;
        blk->cond = v;
        blk->term_loc = s->loc;
        if (b->nindirect == b->cap_indirect) {
            int ncap = b->cap_indirect ? b->cap_indirect * 2 : 4;
            b->indirect = pa_grow(b->a, b->indirect, (size_t)b->nindirect, (size_t)ncap, sizeof *b->indirect);
            if (pa_failed(b->a))
                return;
            b->cap_indirect = ncap;
        }
        b->indirect[b->nindirect++] = blk;
        b->cur = NULL;
        break;
    }
    case AS_LABEL: {
        cb_label *l = cb_label_get(b, s->name);
        if (b->has_cleanups) {
            l->cleanups_before = pa_alloc(b->a, (size_t)(b->nscopes ? b->nscopes : 1) * sizeof(int));
            for (int i = 0; i < b->nscopes && !pa_failed(b->a); i++)
                l->cleanups_before[i] = b->scopes[i].ncleanups;
            l->bound = !pa_failed(b->a);
        }
        cb_goto(b, l->block, s->loc);
        b->cur = l->block;
        if (s->nkids > 0)
            cb_stmt(b, s->kids[0]);
        break;
    }
    }
}

/* ------------------------------------------------------------------ */
/* finishing                                                          */

/* Marks loop heads: targets of back edges found by an iterative DFS. */
static void cb_mark_loops(cfg_builder *b)
{
    cfg *g = b->g;
    int n = g->nblocks;
    unsigned char *state = pa_alloc(b->a, (size_t)n);     /* 0 new, 1 on stack, 2 done */
    int *stack = pa_alloc(b->a, (size_t)n * sizeof *stack);
    int *next = pa_alloc(b->a, (size_t)n * sizeof *next);
    if (pa_failed(b->a))
        return;
    int sp = 0;
    stack[sp++] = g->entry->id;
    state[g->entry->id] = 1;
    while (sp > 0) {
        cfg_block *blk = g->blocks[stack[sp - 1]];
        if (next[blk->id] < blk->nsucc) {
            cfg_block *s = blk->succ[next[blk->id]++];
            if (state[s->id] == 1)
                s->loop_head = true;
            else if (state[s->id] == 0) {
                state[s->id] = 1;
                stack[sp++] = s->id;
            }
        } else {
            state[blk->id] = 2;
            sp--;
        }
    }
}

cfg *cfg_build(ast_func *f, pa_arena *arena)
{
    /* every step checks for an exhausted arena before trusting what the
     * previous one built (a failed allocation returns shared scratch) */
    cfg *g = pa_alloc(arena, sizeof *g);
    if (pa_failed(arena))
        return NULL;
    g->func = f;
    cfg_builder b = { .g = g, .a = arena, .f = f };
    g->entry = cb_new_block(&b);
    if (pa_failed(arena))
        return NULL;
    g->exit = cb_new_block(&b);
    if (pa_failed(arena))
        return NULL;
    g->exit->term = T_EXIT;
    int *chain = pa_alloc(arena, CB_MAX_SCOPE_DEPTH * sizeof *chain);
    if (pa_failed(arena))
        return NULL;
    cb_prepass(&b, f->body, chain, 0);
    if (pa_failed(arena))
        return NULL;
    b.cur = g->entry;
    cb_stmt(&b, f->body);
    if (pa_failed(arena))
        return NULL;
    if (b.cur) {
        ast_stmt ret = { .kind = AS_RETURN, .loc = f->end_loc };
        cb_return(&b, &ret);
    }
    if (pa_failed(arena))
        return NULL;
    /* computed gotos may reach every label whose address is taken */
    for (int i = 0; i < b.nindirect; i++) {
        bool any = false;
        for (cb_label *l = b.labels; l; l = l->next)
            if (l->addr_taken) {
                cb_add_succ(&b, b.indirect[i], l->block);
                any = true;
            }
        if (!any)
            for (cb_label *l = b.labels; l; l = l->next)
                cb_add_succ(&b, b.indirect[i], l->block);
        if (b.indirect[i]->nsucc == 0) {
            b.indirect[i]->term = T_NORETURN;   /* nowhere to go */
        }
    }
    /* blocks left open (unreachable tails) end at the exit */
    for (int i = 0; i < g->nblocks; i++) {
        cfg_block *blk = g->blocks[i];
        if (blk->term == T_NONE && blk != g->exit) {
            blk->term = T_GOTO;
            cb_add_succ(&b, blk, g->exit);
        }
    }
    for (int i = 0; i < g->nblocks; i++)
        for (int j = 0; j < g->blocks[i]->nsucc; j++)
            g->blocks[i]->succ[j]->npreds++;
    cb_mark_loops(&b);
    if (f->too_deep)
        g->incomplete = "nesting too deep";
    return pa_failed(arena) ? NULL : g;
}

/* ------------------------------------------------------------------ */
/* dumps                                                              */

static const char *cb_op_text(ax_op op)
{
    switch (op) {
    case AO_ADD: return "+"; case AO_SUB: return "-"; case AO_MUL: return "*";
    case AO_DIV: return "/"; case AO_REM: return "%"; case AO_SHL: return "<<";
    case AO_SHR: return ">>"; case AO_AND: return "&"; case AO_OR: return "|";
    case AO_XOR: return "^"; case AO_EQ: return "=="; case AO_NE: return "!=";
    case AO_LT: return "<"; case AO_GT: return ">"; case AO_LE: return "<=";
    case AO_GE: return ">="; case AO_LAND: return "&&"; case AO_LOR: return "||";
    case AO_NOT: return "!"; case AO_NEG: return "-"; case AO_PLUS: return "+";
    case AO_BITNOT: return "~"; case AO_PREINC: case AO_POSTINC: return "++";
    case AO_PREDEC: case AO_POSTDEC: return "--";
    default: return "?";
    }
}

static bool cb_simple(const ast_expr *e)
{
    return e->kind == AX_VAR || e->kind == AX_INT || e->kind == AX_NULL || e->kind == AX_CALL ||
           e->kind == AX_MACRO || e->kind == AX_MEMBER || e->kind == AX_INDEX ||
           e->kind == AX_STRING || e->kind == AX_FUNC || e->kind == AX_FLOAT;
}

static void cb_text(const ast_expr *e, sb_buf *out, bool mark);

static void cb_text_sub(const ast_expr *e, sb_buf *out, bool mark)
{
    if (e && !cb_simple(e)) {
        sb_putc(out, '(');
        cb_text(e, out, mark);
        sb_putc(out, ')');
    } else
        cb_text(e, out, mark);
}

static void cb_text(const ast_expr *e, sb_buf *out, bool mark)
{
    if (!e) {
        sb_puts(out, "<none>");
        return;
    }
    switch (e->kind) {
    case AX_INT:
        if (e->name)
            sb_puts(out, e->name);
        else
            sb_printf(out, "%lld", e->ival);
        break;
    case AX_FLOAT:
        sb_puts(out, "<float>");
        break;
    case AX_STRING: {
        sb_putc(out, '"');
        const char *s = e->str ? e->str : "";
        size_t n = strlen(s);
        for (size_t i = 0; i < n && i < 40; i++) {
            char c = s[i];
            if (c == '\n') sb_puts(out, "\\n");
            else if (c == '"' || c == '\\') { sb_putc(out, '\\'); sb_putc(out, c); }
            else if ((unsigned char)c < 0x20) sb_putc(out, '?');
            else sb_putc(out, c);
        }
        if (n > 40)
            sb_puts(out, "...");
        sb_putc(out, '"');
        break;
    }
    case AX_NULL:
        sb_puts(out, "NULL");
        break;
    case AX_VAR:
    case AX_FUNC:
        sb_puts(out, e->name ? e->name : "?");
        break;
    case AX_CALL:
    case AX_MACRO:
        if (e->kind == AX_CALL && e->name)
            sb_puts(out, e->name);
        else if (e->kind == AX_CALL && e->nkids > 0)
            cb_text_sub(e->kids[0], out, mark);
        else
            sb_puts(out, e->name ? e->name : "?");
        if (e->kind == AX_MACRO && mark)
            sb_putc(out, '!');
        sb_putc(out, '(');
        for (int i = e->kind == AX_CALL ? 1 : 0; i < e->nkids; i++) {
            if (i > (e->kind == AX_CALL ? 1 : 0))
                sb_puts(out, ", ");
            cb_text(e->kids[i], out, mark);
        }
        sb_putc(out, ')');
        break;
    case AX_MEMBER:
        if (e->nkids > 0)
            cb_text_sub(e->kids[0], out, mark);
        sb_puts(out, e->op ? "->" : ".");
        sb_puts(out, e->name ? e->name : "?");
        break;
    case AX_INDEX:
        cb_text_sub(e->kids[0], out, mark);
        sb_putc(out, '[');
        cb_text(e->kids[1], out, mark);
        sb_putc(out, ']');
        break;
    case AX_UNARY:
        if (e->op == AO_POSTINC || e->op == AO_POSTDEC) {
            cb_text_sub(e->kids[0], out, mark);
            sb_puts(out, cb_op_text(e->op));
        } else {
            sb_puts(out, cb_op_text(e->op));
            cb_text_sub(e->kids[0], out, mark);
        }
        break;
    case AX_BINARY:
    case AX_LOGIC:
        cb_text_sub(e->kids[0], out, mark);
        sb_printf(out, " %s ", cb_op_text(e->op));
        cb_text_sub(e->kids[1], out, mark);
        break;
    case AX_ASSIGN:
        cb_text(e->kids[0], out, mark);
        if (e->op)
            sb_printf(out, " %s= ", cb_op_text(e->op));
        else
            sb_puts(out, " = ");
        cb_text(e->kids[1], out, mark);
        break;
    case AX_COND:
        cb_text_sub(e->kids[0], out, mark);
        if (e->kids[1]) {
            sb_puts(out, " ? ");
            cb_text_sub(e->kids[1], out, mark);
            sb_puts(out, " : ");
        } else
            sb_puts(out, " ?: ");
        cb_text_sub(e->kids[2], out, mark);
        break;
    case AX_COMMA:
        cb_text(e->kids[0], out, mark);
        sb_puts(out, ", ");
        cb_text(e->kids[1], out, mark);
        break;
    case AX_CAST:
        sb_printf(out, "(%s)", e->name ? e->name : "?");
        cb_text_sub(e->kids[0], out, mark);
        break;
    case AX_ADDR:
        sb_putc(out, '&');
        cb_text_sub(e->kids[0], out, mark);
        break;
    case AX_DEREF:
        sb_putc(out, '*');
        cb_text_sub(e->kids[0], out, mark);
        break;
    case AX_SIZEOF:
        sb_puts(out, "sizeof(...)");
        break;
    case AX_STMT_EXPR:
        sb_puts(out, "({...})");
        break;
    case AX_INIT_LIST:
        sb_putc(out, '{');
        for (int i = 0; i < e->nkids; i++) {
            if (i)
                sb_puts(out, ", ");
            cb_text(e->kids[i], out, mark);
        }
        sb_putc(out, '}');
        break;
    case AX_LABEL_ADDR:
        sb_printf(out, "&&%s", e->name ? e->name : "?");
        break;
    case AX_UNKNOWN:
        sb_puts(out, "<?>");
        if (e->nkids > 0) {
            sb_putc(out, '(');
            for (int i = 0; i < e->nkids; i++) {
                if (i)
                    sb_puts(out, ", ");
                cb_text(e->kids[i], out, mark);
            }
            sb_putc(out, ')');
        }
        break;
    }
}

void cfg_expr_text(const ast_expr *e, sb_buf *out)
{
    cb_text(e, out, true);
}

void cfg_expr_text_plain(const ast_expr *e, sb_buf *out)
{
    cb_text(e, out, false);
}

static void cb_dump_block_head(const cfg *g, const cfg_block *blk, sb_buf *out)
{
    sb_printf(out, "  B%d", blk->id);
    if (blk->label)
        sb_printf(out, " %s:", blk->label);
    if (blk == g->entry)
        sb_puts(out, " [entry]");
    if (blk == g->exit)
        sb_puts(out, " [exit]");
    if (blk->loop_head)
        sb_puts(out, " [loop]");
    if (blk->npreds == 0 && blk != g->entry)
        sb_puts(out, " [unreachable]");
    sb_putc(out, '\n');
}

static void cb_dump_text(const cfg *g, sb_buf *out)
{
    sb_printf(out, "cfg %s\n", g->func->name);
    for (int i = 0; i < g->nblocks; i++) {
        const cfg_block *blk = g->blocks[i];
        /* unreachable empty blocks carry no information */
        if (blk->npreds == 0 && blk != g->entry && blk->ninsns == 0 && blk->term == T_GOTO &&
            !blk->label)
            continue;
        cb_dump_block_head(g, blk, out);
        for (int k = 0; k < blk->ninsns; k++) {
            const ir_insn *in = &blk->insns[k];
            sb_printf(out, "    %u: ", in->loc.line);
            if (in->kind == IR_DECL) {
                sb_printf(out, "decl %s", in->var ? in->var->name : "?");
                if (in->var && in->var->cleanup_fn)
                    sb_printf(out, " [cleanup %s]", in->var->cleanup_fn);
                if (in->expr) {
                    sb_puts(out, " = ");
                    cfg_expr_text(in->expr, out);
                }
            } else {
                sb_puts(out, "eval ");
                cfg_expr_text(in->expr, out);
            }
            sb_putc(out, '\n');
        }
        switch (blk->term) {
        case T_GOTO:
            sb_printf(out, "    goto B%d\n", blk->succ[0]->id);
            break;
        case T_BRANCH:
            sb_printf(out, "    %u: branch ", blk->term_loc.line);
            cfg_expr_text(blk->cond, out);
            sb_printf(out, " ? B%d : B%d\n", blk->succ[0]->id, blk->succ[1]->id);
            break;
        case T_SWITCH:
            sb_printf(out, "    %u: switch ", blk->term_loc.line);
            cfg_expr_text(blk->cond, out);
            for (int k = 0; k < blk->ncases; k++) {
                if (blk->cases[k].lo == blk->cases[k].hi)
                    sb_printf(out, ", %lld -> B%d", blk->cases[k].lo, blk->cases[k].target->id);
                else
                    sb_printf(out, ", %lld..%lld -> B%d", blk->cases[k].lo, blk->cases[k].hi,
                              blk->cases[k].target->id);
            }
            sb_printf(out, ", default -> B%d\n", blk->succ[0]->id);
            break;
        case T_RETURN:
            sb_printf(out, "    %u: return", blk->term_loc.line);
            if (blk->cond) {
                sb_putc(out, ' ');
                cfg_expr_text(blk->cond, out);
            }
            sb_putc(out, '\n');
            break;
        case T_NORETURN:
            sb_puts(out, "    noreturn\n");
            break;
        case T_INDIRECT:
            sb_printf(out, "    %u: indirect goto ", blk->term_loc.line);
            cfg_expr_text(blk->cond, out);
            sb_puts(out, " ->");
            for (int k = 0; k < blk->nsucc; k++)
                sb_printf(out, " B%d", blk->succ[k]->id);
            sb_putc(out, '\n');
            break;
        case T_EXIT:
        case T_NONE:
            break;
        }
    }
}

void cfg_dump(const cfg *g, FILE *out)
{
    sb_buf sb = {0};
    cb_dump_text(g, &sb);
    fputs(sb_str(&sb), out);
    sb_free(&sb);
}

static void cb_dot_escape(sb_buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\' || *s == '{' || *s == '}' || *s == '<' || *s == '>' || *s == '|')
            sb_putc(out, '\\');
        if (*s == '\n')
            sb_puts(out, "\\l");
        else
            sb_putc(out, *s);
    }
}

void cfg_dump_dot(const cfg *g, FILE *out)
{
    sb_buf sb = {0}, line = {0};
    sb_printf(&sb, "digraph \"%s\" {\n  node [shape=record, fontname=monospace];\n", g->func->name);
    for (int i = 0; i < g->nblocks; i++) {
        const cfg_block *blk = g->blocks[i];
        if (blk->npreds == 0 && blk != g->entry && blk->ninsns == 0)
            continue;
        sb_reset(&line);
        sb_printf(&line, "B%d%s%s\n", blk->id, blk->label ? " " : "", blk->label ? blk->label : "");
        for (int k = 0; k < blk->ninsns; k++) {
            const ir_insn *in = &blk->insns[k];
            if (in->kind == IR_DECL)
                sb_printf(&line, "decl %s", in->var ? in->var->name : "?");
            if (in->expr) {
                if (in->kind == IR_DECL)
                    sb_puts(&line, " = ");
                cfg_expr_text(in->expr, &line);
            }
            sb_putc(&line, '\n');
        }
        if (blk->term == T_BRANCH || blk->term == T_SWITCH || blk->term == T_RETURN) {
            sb_puts(&line, blk->term == T_BRANCH ? "if " : blk->term == T_SWITCH ? "switch " : "return ");
            if (blk->cond)
                cfg_expr_text(blk->cond, &line);
            sb_putc(&line, '\n');
        }
        sb_printf(&sb, "  B%d [label=\"", blk->id);
        cb_dot_escape(&sb, sb_str(&line));
        sb_puts(&sb, "\"];\n");
        for (int k = 0; k < blk->nsucc; k++) {
            const char *lbl = blk->term == T_BRANCH ? (k == 0 ? "T" : "F") : "";
            sb_printf(&sb, "  B%d -> B%d [label=\"%s\"];\n", blk->id, blk->succ[k]->id, lbl);
        }
    }
    sb_puts(&sb, "}\n");
    fputs(sb_str(&sb), out);
    sb_free(&sb);
    sb_free(&line);
}
