/* null_without_exception.c - rule `null-without-exception`: a
 * Python-callable function returns its error value (NULL, or -1 for int
 * slots) on a path where no exception is set: the interpreter then raises
 * SystemError. */
#include "checks.h"
#include "../kb/kb.h"

#include <stdio.h>

int ck_null_without_exception(en_ctx *cx, en_state *st, const ck_event *ev)
{
    const en_fn_info *fn = en_fn(cx);
    if (ev->kind != CK_RETURN || ev->sym < 0 || !fn->python_callable || st->exc != EXC_CLEAR)
        return CK_GO;
    /* slots whose error value needs no exception (tp_iternext), or that
     * have none (tp_traverse) */
    if (fn->slot && (fn->slot->fail == KB_FAIL_NEVER || !fn->slot->fail_sets_exc))
        return CK_GO;
    en_sym *s = en_sym_at(st, ev->sym);
    const char *value = NULL;
    if (fn->returns_object && s->kind == SK_OBJ && s->null == NL_NULL)
        value = "NULL";
    else if (fn->returns_int && s->kind == SK_INT && s->lo == -1 && s->hi == -1)
        value = "-1";
    if (!value)
        return CK_GO;
    char msg[256];
    snprintf(msg, sizeof msg, "returning %s without an exception set", value);
    en_report(cx, st, "null-without-exception", -1, ev->loc, msg,
              "the interpreter will raise SystemError");
    return CK_GO;
}
