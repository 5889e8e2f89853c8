/* leak.c - rule `leak`: an owned reference lost on some path.
 *
 * At each exit of the function, every object we still own a reference to
 * (not returned, not stored where someone else owns it, not stolen or
 * released) is leaked.  A variable overwritten while holding the only
 * pointer to an owned object is a leak at that assignment. */
#include "checks.h"

#include <stdio.h>

static bool ck_leak_candidate(const en_sym *s)
{
    if (s->kind != SK_OBJ || s->refs <= 0 || s->null == NL_NULL)
        return false;
    if (s->flags & (SF_ESCAPED | SF_DEAD))
        return false;
    if (s->origin == OR_GLOBAL && s->addr_key)
        return false;    /* an extra reference to a static type object is harmless */
    return s->origin == OR_NEW || s->origin == OR_BORROWED || s->origin == OR_PARAM ||
           s->origin == OR_FIELD || s->origin == OR_GLOBAL;
}

static const char *ck_leak_note(en_ctx *cx, const char *fmt, const char *what)
{
    static const int max = 300;
    char buf[300];
    snprintf(buf, (size_t)max, fmt, what);
    return en_strdup(cx, buf);
}

static void ck_leak_report(en_ctx *cx, en_state *st, int sym, src_loc loc, bool lost)
{
    en_sym *s = en_sym_at(st, sym);
    char msg[512];
    const char *what = en_sym_desc(cx, st, sym);
    if (s->flags & SF_TAKEN)
        snprintf(msg, sizeof msg, "%s %s: the reference its field held (read at line %u) is never "
                 "released after the field was overwritten", lost ? "reference lost" : "leak of", what,
                 s->loc.line);
    else if (s->origin == OR_NEW)
        snprintf(msg, sizeof msg, "%s %s: new reference from %s() at line %u is never released",
                 lost ? "reference lost" : "leak of", what, s->api ? s->api : "a call", s->loc.line);
    else
        snprintf(msg, sizeof msg, "%s %s: reference taken at line %u is never released",
                 lost ? "reference lost" : "leak of", what, s->loc.line);
    const char *note = lost ? ck_leak_note(cx, "reference to %s lost here", what)
                            : ck_leak_note(cx, "%s still holds a reference when the function returns", what);
    en_report(cx, st, "leak", sym, loc, msg, note);
}

/* Whether sym is the value behind an out-parameter (*out): the caller
 * receives it. */
static bool ck_leak_in_out_param(const en_state *st, int sym)
{
    for (int i = 0; i < st->ncells; i++)
        if (st->cells[i].sym == sym && st->cells[i].key[0] == '*')
            return true;
    return false;
}

int ck_leak(en_ctx *cx, en_state *st, const ck_event *ev)
{
    if (ev->kind == CK_EXIT) {
        for (int i = 0; i < st->nsyms; i++)
            if (ck_leak_candidate(&st->syms[i]) && !ck_leak_in_out_param(st, i))
                ck_leak_report(cx, st, i, ev->loc, false);
    } else if (ev->kind == CK_LOSE && ev->sym >= 0) {
        en_sym *s = en_sym_at(st, ev->sym);
        if (ck_leak_candidate(s) && !en_sym_reachable(st, ev->sym)) {
            ck_leak_report(cx, st, ev->sym, ev->loc, true);
            s->flags |= SF_ESCAPED;   /* reported once on this path */
        }
    }
    return CK_GO;
}
