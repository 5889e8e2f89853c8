/* borrowed_return.c - rule `borrowed-return`: a function that returns a
 * new reference by convention returns a borrowed one.  Static helpers that
 * are not Python-callable are exempt: their callers are checked against
 * the helper's inferred summary instead. */
#include "checks.h"

#include <stdio.h>

int ck_borrowed_return(en_ctx *cx, en_state *st, const ck_event *ev)
{
    const en_fn_info *fn = en_fn(cx);
    if (ev->kind != CK_RETURN || ev->sym < 0 || !fn->returns_object || fn->returns_borrowed)
        return CK_GO;
    if (fn->is_static && !fn->python_callable)
        return CK_GO;
    en_sym *s = en_sym_at(st, ev->sym);
    if (s->kind != SK_OBJ || s->null == NL_NULL || s->refs > 0 || (s->flags & SF_REPORTED))
        return CK_GO;
    bool borrowed = (s->origin == OR_NEW && s->cell_refs > 0) || s->origin == OR_BORROWED || s->origin == OR_PARAM || s->origin == OR_FIELD ||
                    s->origin == OR_GLOBAL ||
                    (s->origin == OR_SINGLETON && fn->python_version < 0x030c);
    if (!borrowed)
        return CK_GO;
    char msg[512];
    snprintf(msg, sizeof msg, "returning %s, a borrowed reference, from a function that must return "
             "a new reference", en_sym_desc(cx, st, ev->sym));
    en_report(cx, st, "borrowed-return", ev->sym, ev->loc, msg,
              "the caller will release a reference this function does not own");
    return CK_GO;
}
