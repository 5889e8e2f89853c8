/* checks.h - the rules pyrefcheck reports, one per file, registered in one
 * list (check_list.h style).  Each rule has a stable id (the JSON `rule`),
 * texts for every output format, and a hook the engine calls on path
 * events (engine/internal.h). */
#ifndef PRC_CHECKS_H
#define PRC_CHECKS_H

#include "../engine/internal.h"

typedef struct ck_rule {
    const char *id;          /* stable rule id */
    const char *severity;    /* "warning" or "error" */
    const char *summary;     /* one line */
    const char *help;        /* how to fix it */
    ck_hook hook;            /* NULL for rules checked elsewhere */
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

/* The rule table; ends with an entry whose id is NULL. */
const ck_rule *ck_rules(void);

/* The rule called id, or NULL. */
const ck_rule *ck_rule_find(const char *id);

#endif
