/* checks.h - the rules pyrefcheck reports, one per file, registered in one
 * list (check_list.h style).  Each rule has a stable id (the JSON `rule`),
 * texts for every output format, and a hook the engine calls on path
 * events (engine/internal.h). */
#ifndef PRC_CHECKS_H
#define PRC_CHECKS_H

#include "../engine/internal.h"

/* What a rule that reads a whole file sees (method tables, type slots):
 * called once per file after parsing, before any path is explored. */
typedef struct ck_file_input {
    const kb *k;
    fe_tu *tu;
    const ast_global *globals;   /* file-scope variables with initializers */
    int nglobals;
    pr_report *out;              /* findings go here (pr_add_finding) */
    int file_index;
} ck_file_input;

/* What a rule that reads one function's CFG sees (not per path): called
 * once per function, after its CFG is built. */
typedef struct ck_func_input {
    const kb *k;
    const ast_func *f;
    const cfg *g;
    const en_fn_info *fn;
    fe_tu *tu;
    pr_report *out;
    int file_index;
} ck_func_input;

/* File and function checks return 0, or -1 when out of memory (findings
 * already added stay). */
typedef int (*ck_file_fn)(const ck_file_input *in);
typedef int (*ck_func_fn)(const ck_func_input *in);

typedef struct ck_rule {
    const char *id;          /* stable rule id */
    const char *severity;    /* "warning" or "error" */
    const char *summary;     /* one line */
    const char *help;        /* how to fix it */
    ck_hook hook;            /* path events; NULL for rules checked elsewhere */
    ck_file_fn file_check;   /* once per file, or NULL */
    ck_func_fn func_check;   /* once per function's CFG, or NULL */
} ck_rule;

/* X-macro list of the engine's rules: id, hook function. */
#define CK_RULE_LIST(X) \
    X("leak", ck_leak) \
    X("use-after-release", ck_use_after_release) \
    X("over-release", ck_over_release) \
    X("borrowed-return", ck_borrowed_return) \
    X("null-deref", ck_null_deref) \
    X("null-without-exception", ck_null_without_exception)

#define CK_DECLARE(id, fn) int fn(en_ctx *cx, en_state *st, const ck_event *ev);
CK_RULE_LIST(CK_DECLARE)
#undef CK_DECLARE

/* Function checks (func_check hooks); see ck_func_fn. */
int ck_api_without_gil(const ck_func_input *in);

/* Rules checked once per file or per function (no path hook); they return
 * 0, or -1 when out of memory (findings already added stay). */
int ck_format_mismatch(const ck_func_input *in);        /* format_mismatch.c */
int ck_methoddef_signature(const ck_file_input *in);    /* methoddef_signature.c */

/* Adds a finding of a rule checked outside path exploration (file and
 * function checks): severity from the rule table, the fingerprint from
 * rule, function and the whitespace-free text of the reported line (as the
 * engine does), and an inline suppression on that line or the line before.
 * Strings and steps are copied (steps may be NULL when nsteps is 0).
 * Returns 0, or -1 when out of memory. */
int ck_static_report(fe_tu *tu, pr_report *out, int file_index, const char *rule, src_loc loc,
                     const char *function, const char *message, pr_step *steps, int nsteps);

/* The rule table; ends with an entry whose id is NULL. */
const ck_rule *ck_rules(void);

/* The rule called id, or NULL. */
const ck_rule *ck_rule_find(const char *id);

#endif
