/* null_deref.c - rule `null-deref`: a value that is NULL on this path is
 * dereferenced or passed where NULL is not allowed.  The path ends there
 * (the program would crash). */
#include "checks.h"

#include <stdio.h>

int ck_null_deref(en_ctx *cx, en_state *st, const ck_event *ev)
{
    if (ev->kind != CK_DEREF || ev->sym < 0)
        return CK_GO;
    en_sym *s = en_sym_at(st, ev->sym);
    if ((s->kind != SK_OBJ && s->kind != SK_PTR) || s->null != NL_NULL)
        return CK_GO;
    char msg[512];
    const char *what = en_sym_desc(cx, st, ev->sym);
    if (s->api && s->origin != OR_NULLCONST)
        snprintf(msg, sizeof msg, "%s is NULL here (%s() failed at line %u) and %s", what, s->api,
                 s->loc.line, ev->what ? ev->what : "it is dereferenced");
    else
        snprintf(msg, sizeof msg, "%s is NULL here and %s", what, ev->what ? ev->what : "it is dereferenced");
    en_report(cx, st, "null-deref", ev->sym, ev->loc, msg, NULL);
    return CK_STOP;
}
