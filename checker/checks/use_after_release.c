/* use_after_release.c - rule `use-after-release`: an object used after the
 * references keeping it alive were released, directly or through the
 * container a borrowed reference came from. */
#include "checks.h"

#include <stdio.h>

int ck_use_after_release(en_ctx *cx, en_state *st, const ck_event *ev)
{
    if (ev->sym < 0 || (ev->kind != CK_USE && ev->kind != CK_DEREF && ev->kind != CK_RETURN))
        return CK_GO;
    en_sym *s = en_sym_at(st, ev->sym);
    if (s->kind != SK_OBJ || (s->flags & SF_REPORTED) || s->null == NL_NULL)
        return CK_GO;
    int owner = -1;
    if (!en_sym_is_dead(st, ev->sym, &owner))
        return CK_GO;
    char msg[512];
    if (owner >= 0 && owner != ev->sym)
        snprintf(msg, sizeof msg, "%s is used after %s, which it was borrowed from, was released",
                 en_sym_desc(cx, st, ev->sym), en_sym_desc(cx, st, owner));
    else
        snprintf(msg, sizeof msg, "%s is used after its last reference was released",
                 en_sym_desc(cx, st, ev->sym));
    en_report(cx, st, "use-after-release", ev->sym, ev->loc, msg, NULL);
    s->flags |= SF_REPORTED;
    return CK_GO;
}
