/* state.c - path states: symbols, memory cells, loop counters and the
 * event trail; copying a state when a path forks, and the canonical hash
 * used to merge equal states at join points. */
#include "state.h"

#include <stdlib.h>
#include <string.h>

en_state *st_new(int nvars)
{
    en_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->nvars = nvars;
    st->vars = malloc((size_t)(nvars ? nvars : 1) * sizeof *st->vars);
    if (!st->vars) {
        free(st);
        return NULL;
    }
    for (int i = 0; i < nvars; i++)
        st->vars[i] = -1;
    st->exc = EXC_CLEAR;
    return st;
}

void st_free(en_state *st)
{
    if (!st)
        return;
    free(st->vars);
    free(st->syms);
    free(st->cells);
    free(st->loops);
    free(st);
}

en_state *st_copy(const en_state *s)
{
    en_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    *st = *s;
    st->vars = malloc((size_t)(s->nvars ? s->nvars : 1) * sizeof *st->vars);
    st->syms = malloc((size_t)(s->cap_syms ? s->cap_syms : 1) * sizeof *st->syms);
    st->cells = malloc((size_t)(s->cap_cells ? s->cap_cells : 1) * sizeof *st->cells);
    st->loops = malloc((size_t)(s->cap_loops ? s->cap_loops : 1) * sizeof *st->loops);
    if (!st->vars || !st->syms || !st->cells || !st->loops) {
        st_free(st);
        return NULL;
    }
    if (s->nvars)
        memcpy(st->vars, s->vars, (size_t)s->nvars * sizeof *st->vars);
    if (s->nsyms)
        memcpy(st->syms, s->syms, (size_t)s->nsyms * sizeof *st->syms);
    if (s->ncells)
        memcpy(st->cells, s->cells, (size_t)s->ncells * sizeof *st->cells);
    if (s->nloops)
        memcpy(st->loops, s->loops, (size_t)s->nloops * sizeof *st->loops);
    return st;
}

int st_new_sym(en_state *st, sym_kind kind)
{
    if (st->nsyms == st->cap_syms) {
        int ncap = st->cap_syms ? st->cap_syms * 2 : 32;
        en_sym *ns = realloc(st->syms, (size_t)ncap * sizeof *ns);
        if (!ns)
            return -1;
        st->syms = ns;
        st->cap_syms = ncap;
    }
    int id = st->nsyms++;
    en_sym *s = &st->syms[id];
    memset(s, 0, sizeof *s);
    s->uid = st->next_uid ? (*st->next_uid)++ : id;
    s->kind = (uint8_t)kind;
    s->owner = -1;
    s->rel_a = s->rel_b = -1;
    s->addr_var = -1;
    s->lo = INT64_MIN;
    s->hi = INT64_MAX;
    s->null = NL_UNKNOWN;
    return id;
}

int st_cell_get(const en_state *st, const char *key)
{
    for (int i = st->ncells - 1; i >= 0; i--)
        if (st->cells[i].key == key)
            return st->cells[i].sym;
    return -1;
}

int st_cell_set(en_state *st, const char *key, int sym)
{
    for (int i = st->ncells - 1; i >= 0; i--) {
        if (st->cells[i].key == key) {
            st->cells[i].sym = sym;
            return 0;
        }
    }
    if (st->ncells == st->cap_cells) {
        int ncap = st->cap_cells ? st->cap_cells * 2 : 16;
        en_cell *nc = realloc(st->cells, (size_t)ncap * sizeof *nc);
        if (!nc)
            return -1;
        st->cells = nc;
        st->cap_cells = ncap;
    }
    st->cells[st->ncells].key = key;
    st->cells[st->ncells].sym = sym;
    st->ncells++;
    return 0;
}

int st_loop_enter(en_state *st, int block)
{
    for (int i = 0; i < st->nloops; i++)
        if (st->loops[i].block == block)
            return ++st->loops[i].count;
    if (st->nloops == st->cap_loops) {
        int ncap = st->cap_loops ? st->cap_loops * 2 : 4;
        en_loopcnt *nl = realloc(st->loops, (size_t)ncap * sizeof *nl);
        if (!nl)
            return 1 << 30;
        st->loops = nl;
        st->cap_loops = ncap;
    }
    st->loops[st->nloops].block = block;
    st->loops[st->nloops].count = 1;
    st->nloops++;
    return 1;
}

static uint64_t st_mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

/* Canonical numbering of symbols in order of first appearance, so two
 * states that differ only in symbol numbering hash alike. */
uint64_t st_hash(const en_state *st, int *canon)
{
    for (int i = 0; i < st->nsyms; i++)
        canon[i] = -1;
    int next = 0;
    uint64_t h = st_mix(0, st->exc);
    for (int pass = 0; pass < 2; pass++) {
        int n = pass == 0 ? st->nvars : st->ncells;
        for (int i = 0; i < n; i++) {
            int s = pass == 0 ? st->vars[i] : st->cells[i].sym;
            if (pass == 1)
                h = st_mix(h, (uint64_t)(uintptr_t)st->cells[i].key);
            if (s < 0) {
                h = st_mix(h, 0xabcdef);
                continue;
            }
            if (canon[s] < 0)
                canon[s] = next++;
            h = st_mix(h, (uint64_t)canon[s]);
        }
    }
    for (int i = 0; i < st->nsyms; i++) {
        const en_sym *s = &st->syms[i];
        bool live = canon[i] >= 0 || (s->kind == SK_OBJ && s->refs != 0 && !(s->flags & SF_ESCAPED));
        if (!live)
            continue;
        uint64_t ident = canon[i] >= 0 ? (uint64_t)canon[i] : 1000000u + s->loc.line * 1000u + s->loc.col;
        h = st_mix(h, ident);
        h = st_mix(h, s->kind | (uint64_t)s->null << 8 | (uint64_t)s->origin << 16 |
                          (uint64_t)(s->flags & ~SF_REPORTED) << 24 | (uint64_t)(uint16_t)s->refs << 40 |
                          (uint64_t)(uint16_t)s->cell_refs << 56);
        h = st_mix(h, (uint64_t)s->lo);
        h = st_mix(h, (uint64_t)s->hi);
        h = st_mix(h, (uint64_t)s->rel | (uint64_t)s->rel_op << 8);
        h = st_mix(h, s->owner >= 0 && canon[s->owner] >= 0 ? (uint64_t)canon[s->owner] : 0xffff);
        h = st_mix(h, (uint64_t)(uintptr_t)s->addr_key ^ (uint64_t)(int64_t)s->addr_var);
    }
    return h;
}

/* Whether symbol s must be kept even when nothing points at it. */
static bool st_sym_precious(const en_sym *s)
{
    if (s->kind != SK_OBJ)
        return false;
    return s->refs != 0 || s->cell_refs != 0 || (s->flags & (SF_DEAD | SF_STOLEN | SF_KEPT));
}

int st_compact(en_state *st, int keep_first, int *map)
{
    int n = st->nsyms;
    if (n == 0)
        return 0;
    unsigned char *mark = (unsigned char *)map;   /* reuse: mark in map as 0/1 first */
    for (int i = 0; i < n; i++)
        map[i] = (i < keep_first || st_sym_precious(&st->syms[i])) ? 1 : 0;
    (void)mark;
    for (int i = 0; i < st->nvars; i++)
        if (st->vars[i] >= 0)
            map[st->vars[i]] = 1;
    for (int i = 0; i < st->ncells; i++)
        if (st->cells[i].sym >= 0)
            map[st->cells[i].sym] = 1;
    /* close over owners and relation operands (indices only grow backwards
     * for owners, so iterate to a fixed point) */
    for (bool changed = true; changed;) {
        changed = false;
        for (int i = n - 1; i >= 0; i--) {
            const en_sym *s = &st->syms[i];
            /* a known non-zero length of a live object: which of its
             * indexes exist (PyList_GetItem cannot fail below it) */
            if (!map[i] && (s->flags & SF_LEN_OF) && s->lo > 0 && s->owner >= 0 && s->owner < n &&
                map[s->owner]) {
                map[i] = 1;
                changed = true;
            }
            if (!map[i])
                continue;
            int deps[4] = { s->owner, s->rel_a, s->rel_b, -1 };
            for (int k = 0; k < 3; k++) {
                int d = deps[k];
                if (d >= 0 && d < n && !map[d]) {
                    map[d] = 1;
                    changed = true;
                }
            }
        }
    }
    int next = 0;
    for (int i = 0; i < n; i++)
        map[i] = map[i] ? next++ : -1;
    if (next == n) {
        for (int i = 0; i < n; i++)
            map[i] = i;
        return 0;
    }
    for (int i = 0; i < n; i++) {
        if (map[i] < 0)
            continue;
        en_sym s = st->syms[i];
        s.owner = s.owner >= 0 ? map[s.owner] : -1;
        s.rel_a = s.rel_a >= 0 ? map[s.rel_a] : -1;
        s.rel_b = s.rel_b >= 0 ? map[s.rel_b] : -1;
        st->syms[map[i]] = s;
    }
    for (int i = 0; i < st->nvars; i++)
        if (st->vars[i] >= 0)
            st->vars[i] = map[st->vars[i]];
    for (int i = 0; i < st->ncells; i++)
        if (st->cells[i].sym >= 0)
            st->cells[i].sym = map[st->cells[i].sym];
    int dropped = n - next;
    st->nsyms = next;
    return dropped;
}
