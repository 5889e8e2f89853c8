/* cfg.h - control-flow graph of one function, built from the syntax tree.
 *
 * Built the way sparse's linearize.c does it: an active block that
 * statements append to, labels bound to blocks, one exit block that every
 * `return` jumps to.  Control flow hidden in expressions (&&, ||, ?:, comma,
 * statement expressions) is lowered into blocks and temporaries, so the
 * instructions left in a block are straight-line.
 */
#ifndef PRC_CFG_H
#define PRC_CFG_H

#include <stdio.h>
#include "ast.h"
#include "../base/arena.h"

typedef enum ir_kind {
    IR_EVAL,     /* evaluate expr for its effects (call, assignment, ...) */
    IR_DECL,     /* var comes into scope; expr = initializer or NULL */
    IR_SCOPE_END,/* var goes out of scope (its address is no longer valid) */
} ir_kind;

typedef struct ir_insn {
    ir_kind kind;
    src_loc loc;
    ast_expr *expr;
    ast_var *var;
} ir_insn;

typedef enum term_kind {
    T_NONE = 0,   /* block still open (only while building) */
    T_GOTO,       /* succ[0] */
    T_BRANCH,     /* cond true -> succ[0], false -> succ[1] */
    T_SWITCH,     /* cond value; cases[] then succ[0] = default (or after) */
    T_RETURN,     /* return expr (may be NULL); succ[0] = exit block */
    T_EXIT,       /* the function's single exit block */
    T_NORETURN,   /* a call that does not return: the path ends here */
    T_INDIRECT,   /* computed goto: succ[] = every address-taken label */
} term_kind;

typedef struct cfg_case {
    long long lo, hi;          /* value range (lo == hi for plain case) */
    struct cfg_block *target;
} cfg_case;

typedef struct cfg_block {
    int id;
    ir_insn *insns;
    int ninsns, cap_insns;
    term_kind term;
    ast_expr *cond;            /* T_BRANCH / T_SWITCH / T_RETURN / T_INDIRECT */
    src_loc term_loc;          /* where the terminator is in the source */
    struct cfg_block **succ;
    int nsucc, cap_succ;
    cfg_case *cases;           /* T_SWITCH */
    int ncases, cap_cases;
    int npreds;
    const char *label;         /* label bound to this block, for dumps */
    bool loop_head;            /* target of a back edge (loop condition) */
} cfg_block;

typedef struct cfg {
    ast_func *func;
    cfg_block **blocks;        /* by id; blocks[0] is the entry */
    int nblocks, cap_blocks;
    cfg_block *entry;
    cfg_block *exit;
    int ntemps;                /* temporaries introduced while lowering */
    const char *incomplete;    /* why lowering gave up on something, or NULL */
} cfg;

/* Builds the CFG of f in arena.  Returns NULL only when the arena is out of
 * memory.  Unreachable blocks are kept (they have no predecessors) so that
 * dumps match the source; the engine never visits them. */
cfg *cfg_build(ast_func *f, pa_arena *arena);

/* Writes a readable dump (blocks, instructions, successors). */
void cfg_dump(const cfg *g, FILE *out);
/* Writes a Graphviz digraph. */
void cfg_dump_dot(const cfg *g, FILE *out);
/* Writes expression e in C-like syntax (used by dumps, notes and
 * fingerprints). */
struct sb_buf;
void cfg_expr_text(const ast_expr *e, struct sb_buf *out);
/* The same as users wrote it: collapsed macros without the dump's '!'. */
void cfg_expr_text_plain(const ast_expr *e, struct sb_buf *out);

#endif
