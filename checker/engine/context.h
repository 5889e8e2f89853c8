/* context.h - the engine's internal state shared by its modules:
 * engine.c (findings, hooks, per-file and per-function driver, summaries),
 * transfer.c (the transfer function: values, memory, calls, expressions,
 * conditions) and explore.c (path exploration, merging, budgets, returns).
 * Not for use outside checker/engine/.
 */
#ifndef PRC_ENGINE_CONTEXT_H
#define PRC_ENGINE_CONTEXT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/strbuf.h"
#include "../checks/checks.h"
#include "engine.h"
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
    const char **owning_fields; /* fields some function of the file releases
                                   (Py_CLEAR(self->x), Py_XDECREF(o->x)...) */
    int nowning, cap_owning;
    /* destructor helpers: functions no table names that a destructor slot
     * (tp_dealloc) calls with its dying self as argument dying_arg[i] */
    const char **dying_helper;
    int *dying_arg;
    int ndying;
};

/* Whether the file releases field `name` somewhere: only then does the
 * field own a reference (a back pointer or a borrowed cache does not). */
bool en_field_owns(const en_file *ef, const char *name);
/* Collects into ef the fields released anywhere in statement s. */
void en_scan_releases_stmt(en_file *ef, const ast_stmt *s, int depth);

#define EN_MAX_OTHER_PATHS 3 /* other distinct paths kept per finding */

/* One path to a finding: its steps (in the function's arena), its length
 * in events and a hash of its relevant events (to tell paths apart). */
typedef struct en_path {
    pr_step *steps;
    int nsteps;
    uint32_t pathlen;
    uint64_t hash;
} en_path;

typedef struct en_pending {
    const char *rule;
    src_loc site;            /* de-duplication key with rule */
    src_loc loc;
    const char *message;
    pr_step *steps;
    int nsteps;
    uint32_t pathlen;
    uint64_t hash;           /* of the reported path (en_path.hash) */
    en_path other[EN_MAX_OTHER_PATHS]; /* other distinct paths, shortest first */
    int nother;
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
    uint32_t released_fail_all; /* param bits released on every failure return */
    uint32_t released_ok_any;   /* param bits released on some success return */
    int nfail;               /* failure returns (NULL, or -1 from an int function) */
    uint32_t zero_out_null;  /* PyObject ** params NULL on every `return 0` */
    uint32_t pos_out_set;    /* ... and non-NULL on every positive return */
    int nzero_out, npos_out, nother_ok; /* returns of 0, of > 0, of an unknown >= 0 */
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
    bool init_local;         /* evaluating the initializer list of a local array or
                                struct: its elements stay the function's */
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


/* One result of evaluating under every outcome combination. */
typedef struct en_result {
    en_state *st;
    int val;
} en_result;

/* Shared by the engine's modules.  Symbols are indices into a state's
 * symbol array, -1 meaning "no value"; every function tolerates -1 and a
 * dead state (st->dead) and does nothing then.  Strings they return live in
 * the function's arena (cx->a) and need no freeing; a failed arena
 * allocation marks the function incomplete rather than returning NULL. */
double en_now(void);
const char *en_intern(en_ctx *cx, const char *s);
const char *en_expr_key(en_ctx *cx, const ast_expr *e, const char *prefix);
const ast_expr *en_strip_casts(const ast_expr *e);
void en_event_add(en_ctx *cx, en_state *st, ev_kind k, int sym, src_loc loc, const char *what,
                         const ast_expr *expr, int truth);
int en_fire_ev(en_ctx *cx, en_state *st, const ck_event *evp);
int en_fire(en_ctx *cx, en_state *st, ck_kind k, int sym, src_loc loc, const char *what,
                   bool nullable);
int en_fresh(en_state *st, ty_class ty, origin o, src_loc loc);
void en_bind(en_ctx *cx, en_state *st, const ast_var *v, int sym, src_loc loc);
int en_eval(en_ctx *cx, en_state *st, const ast_expr *e);
bool en_assume(en_ctx *cx, en_state *st, int s, bool truth, int depth);
int en_truth(const en_state *st, int s);
void en_push(en_ctx *cx, cfg_block *b, en_state *st);
bool en_budget_hit(en_ctx *cx);
void en_block(en_ctx *cx, cfg_block *b, en_state *st);
const kb_entry *en_callee_entry(en_ctx *cx, const ast_expr *call, kb_entry *scratch);

#endif
