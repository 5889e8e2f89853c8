/* over_release.c - rule `over-release`: releasing, or handing to a stealing
 * API, a reference this function does not own (double release, release of
 * a borrowed reference, a borrowed reference stolen). */
#include "checks.h"

#include <stdio.h>

int ck_over_release(en_ctx *cx, en_state *st, const ck_event *ev)
{
    if (ev->sym < 0 || (ev->kind != CK_RELEASE && ev->kind != CK_STEAL))
        return CK_GO;
    en_sym *s = en_sym_at(st, ev->sym);
    if (s->kind != SK_OBJ || s->null == NL_NULL || s->refs > 0 || (s->flags & SF_REPORTED))
        return CK_GO;
    if (ev->via_cell)
        return CK_GO;      /* Py_CLEAR(self->x): the field's own reference */
    if ((s->flags & SF_WEAK_STORE) && s->cell_refs > 0 && ev->kind == CK_RELEASE)
        return CK_GO;      /* stored in a field nothing releases: a borrowed copy */
    if (s->flags & SF_DYING)
        return CK_GO;      /* tp_dealloc freeing self: its last reference */
    if ((s->flags & SF_SLOT_HELD) && s->origin == OR_SINGLETON && ev->kind == CK_RELEASE) {
        s->flags &= ~SF_SLOT_HELD;  /* if (o->x == Py_None) { Py_DECREF(Py_None); o->x = v; } */
        return CK_GO;
    }
    const en_fn_info *fn = en_fn(cx);
    bool owned_once = s->origin == OR_NEW && !(s->flags & SF_ESCAPED);
    /* A static helper that releases its argument steals it: its callers
     * are checked against that (the helper's summary). */
    bool stealing_helper = s->origin == OR_PARAM && !fn->python_callable;
    /* None stolen by SET_ITEM and INCREF'd on the next line is common and
     * harmless in either order: only releases of singletons count */
    bool borrowed = s->origin == OR_BORROWED || (s->origin == OR_PARAM && !stealing_helper) ||
                    (s->origin == OR_GLOBAL && s->addr_key) ||   /* &StaticType */
                    (s->origin == OR_SINGLETON && fn->python_version < 0x030c && ev->kind == CK_RELEASE);
    bool freed = (s->flags & SF_DEAD) != 0;   /* released already (through a field too) */
    if (freed)
        owned_once = true;
    if (!owned_once && !borrowed)
        return CK_GO;
    char msg[512];
    const char *what = en_sym_desc(cx, st, ev->sym);
    const char *api = ev->what ? ev->what : "the call";
    if (owned_once)
        snprintf(msg, sizeof msg, "%s %s %s, whose reference was already released",
                 api, ev->kind == CK_STEAL ? "steals a reference to" : "releases", what);
    else if (ev->kind == CK_STEAL)
        snprintf(msg, sizeof msg, "%s steals a reference to %s, which is borrowed (not owned)", api, what);
    else
        snprintf(msg, sizeof msg, "%s releases %s, which is a borrowed reference (not owned)", api, what);
    en_report(cx, st, "over-release", ev->sym, ev->loc, msg, NULL);
    s->flags |= SF_REPORTED;
    return CK_GO;
}
