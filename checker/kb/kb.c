/* kb.c - the knowledge base: reads rules files (format: rules/README.md)
 * into entries, keeps every entry of a name in load order, and answers
 * lookups for the selected Python version through an open-addressing hash
 * table.
 *
 * Memory: everything an entry points to (names, origins) lives in a pool of
 * blocks owned by the kb and released by kb_free, so pointers handed out by
 * kb_lookup / kb_at stay valid as long as the kb, even across later loads.
 * No state lives outside the kb.
 *
 * Loading a file is all-or-nothing: lines are parsed into a staging list
 * and committed only when the whole file is valid.
 */
#define _POSIX_C_SOURCE 200809L

#include "kb.h"
#include "kb_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KB_MAX_FILE   (64u * 1024u * 1024u)  /* refuse larger rules files */
#define KB_MAX_TOKENS 64                     /* key=value tokens per line */

/* ---------------------------------------------------------------- names */

const char *const kb__ret_names[KB__NRET] = {
    "unknown", "new", "borrowed", "null", "int", "void", "ptr",
};
const char *const kb__fail_names[KB__NFAIL] = {
    "never", "null", "null-or-absent", "neg", "neg-ambiguous", "zero",
    "neg-or-zero-absent",
};
const char *const kb__fmt_names[KB__NFMT] = {
    "none", "parse", "parse-kw", "build", "printf",
};
const char *const kb__effect_names[KB__NEFFECT] = {
    "none", "out-borrowed", "out-new", "in-newref", "in-steal", "in-borrow",
};
const char *const kb__ok_names[KB__NOK] = {
    "nonneg", "zero", "bool",
};
const char *const kb__gil_names[KB__NGIL] = {
    "keep", "release", "acquire",
};

/* Argument flags as spelled in rules files.  "effect" flags say what the
 * call does with the reference; at most one per argument. */
static const struct {
    const char *name;
    uint32_t bit;
    bool effect;
} arg_flag_names[] = {
    {"borrow", KB_ARG_BORROW, true},
    {"steal", KB_ARG_STEAL, true},
    {"steal-on-success", KB_ARG_STEAL_OK, true},
    {"release-on-failure", KB_ARG_RELEASE_FAIL, true},
    {"incref", KB_ARG_INCREF, true},
    {"xincref", KB_ARG_XINCREF, true},
    {"decref", KB_ARG_DECREF, true},
    {"xdecref", KB_ARG_XDECREF, true},
    {"out-new", KB_ARG_OUT_NEW, true},
    {"out-borrowed", KB_ARG_OUT_BORROW, true},
    {"inout-steal", KB_ARG_INOUT_STEAL, true},
    {"clear", KB_ARG_CLEAR, true},
    {"assign-dst", KB_ARG_ASSIGN_DST, true},
    {"assign-src", KB_ARG_ASSIGN_SRC, true},
    {"visit", KB_ARG_VISIT, true},
    {"nullok", KB_ARG_NULLOK, false},
    {"nonnull", KB_ARG_NONNULL, false},
    {"out-nullok", KB_ARG_OUT_NULLOK, false},
    {"format", KB_ARG_FORMAT, false},
    {"keep", KB_ARG_KEEP, false},
    {"owned", KB_ARG_OWNED, false},
};
#define N_ARG_FLAGS (sizeof arg_flag_names / sizeof arg_flag_names[0])

#define EFFECT_BITS (KB_ARG_BORROW | KB_ARG_STEAL | KB_ARG_STEAL_OK | KB_ARG_RELEASE_FAIL | \
    KB_ARG_INCREF | KB_ARG_XINCREF | KB_ARG_DECREF | KB_ARG_XDECREF |        \
    KB_ARG_OUT_NEW | KB_ARG_OUT_BORROW | KB_ARG_INOUT_STEAL | KB_ARG_CLEAR | \
    KB_ARG_ASSIGN_DST | KB_ARG_ASSIGN_SRC | KB_ARG_VISIT)
#define OUT_BITS (KB_ARG_OUT_NEW | KB_ARG_OUT_BORROW | KB_ARG_INOUT_STEAL)

/* ----------------------------------------------------------------- pool */

typedef struct kb_block {
    struct kb_block *next;
    size_t used, cap;
    max_align_t data[];
} kb_block;

typedef struct kb_pool {
    kb_block *head;
} kb_pool;

/* Returns n zeroed bytes that live until pool_free, or NULL. */
static void *pool_alloc(kb_pool *p, size_t n)
{
    const size_t al = alignof(max_align_t);
    n = (n + al - 1) / al * al;
    if (n == 0)
        n = al;
    kb_block *b = p->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 32768 ? n : 32768;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = p->head;
        p->head = b;
    }
    void *r = (char *)b->data + b->used;
    b->used += n;
    memset(r, 0, n);
    return r;
}

static char *pool_strndup(kb_pool *p, const char *s, size_t n)
{
    char *r = pool_alloc(p, n + 1);
    if (r) {
        memcpy(r, s, n);
        r[n] = '\0';
    }
    return r;
}

static void pool_free(kb_pool *p)
{
    kb_block *b = p->head;
    while (b) {
        kb_block *next = b->next;
        free(b);
        b = next;
    }
    p->head = NULL;
}

/* ------------------------------------------------------------ the table */

typedef struct kb_node {
    kb_entry e;                  /* first member: &node->e is handed out */
    struct kb_node *next;        /* next entry of the same name, load order */
    const char *argname[KB_MAX_ARGS + 1];
} kb_node;

typedef struct kb_slot {
    const char *name;            /* NULL: empty slot */
    uint32_t hash;
    uint32_t len;                /* strlen(name) */
    bool singleton;              /* declared with @singleton */
    kb_node *first, *last;       /* every entry of this name, load order */
    const kb_entry *active;      /* the one for the selected version */
} kb_slot;

struct kb {
    kb_pool pool;
    kb_slot *slots;
    size_t cap;                  /* power of two */
    size_t nnames;
    int version;
    /* Views rebuilt after each load and version change. */
    const kb_entry **view;       /* active entries sorted by name */
    const char **macros;         /* names of active is_macro entries */
    const char **noreturns;      /* names of active noreturn entries */
    const char **singles;        /* @singleton names, sorted */
    int nview, nmacros, nnoreturns, nsingles;
    size_t view_cap;             /* capacity of the four arrays */
    kb_fmt_spec *specs;          /* @unit rows, load order */
    int nspecs, specs_cap;
};

/* FNV-1a over a NUL-terminated name, measuring it on the way. */
static uint32_t hash_name(const char *s, size_t *len)
{
    uint32_t h = 2166136261u;
    const unsigned char *p = (const unsigned char *)s;
    for (; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    *len = (size_t)(p - (const unsigned char *)s);
    return h;
}

/* The slot holding name, or the empty slot where it would go. */
static kb_slot *find_slot(const kb *k, const char *name, size_t n, uint32_t h)
{
    if (!k->slots)
        return NULL;
    size_t mask = k->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        kb_slot *s = &k->slots[i];
        if (!s->name)
            return s;
        if (s->hash == h && s->len == n && memcmp(s->name, name, n) == 0)
            return s;
    }
}

static int grow_table(kb *k)
{
    size_t ncap = k->cap ? k->cap * 2 : 4096;
    kb_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < k->cap; i++) {
        kb_slot *o = &k->slots[i];
        if (!o->name)
            continue;
        size_t j = o->hash & (ncap - 1);
        while (ns[j].name)
            j = (j + 1) & (ncap - 1);
        ns[j] = *o;
    }
    free(k->slots);
    k->slots = ns;
    k->cap = ncap;
    return 0;
}

/* Returns the slot for name, creating it; NULL when out of memory. */
static kb_slot *intern_slot(kb *k, const char *name)
{
    size_t n;
    uint32_t h = hash_name(name, &n);
    if (n > UINT32_MAX)
        return NULL;
    if ((k->nnames + 1) * 2 > k->cap && grow_table(k) < 0)
        return NULL;
    kb_slot *s = find_slot(k, name, n, h);
    if (!s->name) {
        s->name = name;          /* already in the pool */
        s->hash = h;
        s->len = (uint32_t)n;
        k->nnames++;
    }
    return s;
}

static bool in_range(const kb_entry *e, int v)
{
    if (v == 0)
        return true;
    if (e->py_min && v < e->py_min)
        return false;
    if (e->py_max && v > e->py_max)
        return false;
    return true;
}

static int cmp_entry(const void *a, const void *b)
{
    const kb_entry *x = *(const kb_entry *const *)a;
    const kb_entry *y = *(const kb_entry *const *)b;
    return strcmp(x->name, y->name);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Recomputes the active entry of every name and the sorted views.  Needs
 * no allocation when the arrays already have room for every name. */
static int rebuild(kb *k)
{
    if (k->view_cap < k->nnames) {
        size_t cap = k->nnames + 256;
        const kb_entry **v = realloc(k->view, cap * sizeof *v);
        if (!v)
            return -1;
        k->view = v;
        const char **m = realloc(k->macros, cap * sizeof *m);
        if (!m)
            return -1;
        k->macros = m;
        const char **s = realloc(k->singles, cap * sizeof *s);
        if (!s)
            return -1;
        k->singles = s;
        const char **r = realloc(k->noreturns, cap * sizeof *r);
        if (!r)
            return -1;
        k->noreturns = r;
        k->view_cap = cap;
    }
    k->nview = k->nmacros = k->nnoreturns = k->nsingles = 0;
    for (size_t i = 0; i < k->cap; i++) {
        kb_slot *s = &k->slots[i];
        if (!s->name)
            continue;
        s->active = NULL;
        for (kb_node *n = s->first; n; n = n->next)
            if (in_range(&n->e, k->version))
                s->active = &n->e;       /* the last one in load order wins */
        if (s->active) {
            k->view[k->nview++] = s->active;
            if (s->active->is_macro)
                k->macros[k->nmacros++] = s->name;
            if (s->active->noreturn)
                k->noreturns[k->nnoreturns++] = s->name;
        }
        if (s->singleton)
            k->singles[k->nsingles++] = s->name;
    }
    if (k->nview > 1)
        qsort(k->view, (size_t)k->nview, sizeof *k->view, cmp_entry);
    if (k->nmacros > 1)
        qsort(k->macros, (size_t)k->nmacros, sizeof *k->macros, cmp_str);
    if (k->nnoreturns > 1)
        qsort(k->noreturns, (size_t)k->nnoreturns, sizeof *k->noreturns, cmp_str);
    if (k->nsingles > 1)
        qsort(k->singles, (size_t)k->nsingles, sizeof *k->singles, cmp_str);
    return 0;
}

/* Creates an empty knowledge base.  Returns NULL when out of memory; free
 * it with kb_free. */
kb *kb_new(void)
{
    kb *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    if (grow_table(k) < 0) {
        free(k);
        return NULL;
    }
    return k;
}

/* Releases k and everything its entries point to.  NULL is accepted. */
void kb_free(kb *k)
{
    if (!k)
        return;
    pool_free(&k->pool);
    free(k->slots);
    free(k->view);
    free(k->macros);
    free(k->noreturns);
    free(k->singles);
    free(k->specs);
    free(k);
}

/* Selects the version for kb_lookup / kb_count / kb_at; 0 = any.  Never
 * fails: the views always have room for every name. */
void kb_set_python_version(kb *k, int version)
{
    if (!k)
        return;
    k->version = version < 0 ? 0 : version;
    (void)rebuild(k);
}

/* Returns the selected version (0 = any). */
int kb_python_version(const kb *k)
{
    return k ? k->version : 0;
}

/* Returns the entry for name and the selected version, or NULL when there
 * is none (or k/name is NULL).  Owned by the kb. */
const kb_entry *kb_lookup(const kb *k, const char *name)
{
    if (!k || !name)
        return NULL;
    size_t n;
    uint32_t h = hash_name(name, &n);
    kb_slot *s = find_slot(k, name, n, h);
    return s && s->name ? s->active : NULL;
}

const char *kb_decl_role(const kb *k, const char *name)
{
    if (!k || !name)
        return NULL;
    char key[256];
    if (snprintf(key, sizeof key, "decl:%s", name) >= (int)sizeof key)
        return NULL;
    const kb_entry *e = kb_lookup(k, key);
    if (e && e->role)
        return e->role;
    /* prefixes: the view is sorted by name, so the decl: entries are adjacent */
    const char *role = NULL;
    size_t best = 0;
    for (int i = 0; i < k->nview; i++) {
        const char *n = k->view[i]->name;
        size_t len = strlen(n);
        if (strncmp(n, "decl:", 5) != 0 || len < 7 || n[len - 1] != '*' || !k->view[i]->role)
            continue;
        size_t plen = len - 6;
        if (plen > best && strncmp(name, n + 5, plen) == 0) {
            best = plen;
            role = k->view[i]->role;
        }
    }
    return role;
}

/* Returns the number of entries active for the selected version. */
int kb_count(const kb *k)
{
    return k ? k->nview : 0;
}

/* Returns active entry i in name order, or NULL when i is out of range. */
const kb_entry *kb_at(const kb *k, int i)
{
    if (!k || i < 0 || i >= k->nview)
        return NULL;
    return k->view[i];
}

/* Returns the number of active macro entries; *names (sorted) points into
 * the kb and is valid until the next load or version change. */
int kb_macro_names(const kb *k, const char *const **names)
{
    if (!k) {
        if (names)
            *names = NULL;
        return 0;
    }
    if (names)
        *names = k->macros;
    return k->nmacros;
}

/* Returns the number of active noreturn entries; *names (sorted) points
 * into the kb and is valid until the next load or version change. */
int kb_noreturn_names(const kb *k, const char *const **names)
{
    if (!k) {
        if (names)
            *names = NULL;
        return 0;
    }
    if (names)
        *names = k->noreturns;
    return k->nnoreturns;
}

/* Returns whether global_name was declared with "@singleton". */
bool kb_is_singleton(const kb *k, const char *global_name)
{
    if (!k || !global_name)
        return false;
    size_t n;
    uint32_t h = hash_name(global_name, &n);
    kb_slot *s = find_slot(k, global_name, n, h);
    return s && s->name && s->singleton;
}

/* Returns the number of @singleton names; *names (sorted) points into the
 * kb and is valid until the next load. */
int kb_singleton_names(const kb *k, const char *const **names)
{
    if (!k) {
        if (names)
            *names = NULL;
        return 0;
    }
    if (names)
        *names = k->singles;
    return k->nsingles;
}

/* Returns the number of @unit rows loaded into k (0 when k is NULL);
 * *specs points into k. */
int kb_format_specs(const kb *k, const kb_fmt_spec **specs)
{
    if (!k) {
        if (specs)
            *specs = NULL;
        return 0;
    }
    if (specs)
        *specs = k->specs;
    return k->nspecs;
}

/* Splits format with k's @unit rows (rules/formats.rules and --rules
 * files).  Returns the unit count or -1 with a message in err. */
int kb_format_units_in(const kb *k, kb_format kind, const char *format,
                       kb_fmt_unit *units, int max, char *err, size_t errlen)
{
    return kb__split(k ? k->specs : NULL, k ? k->nspecs : 0, NULL, 0, kind,
                     format, units, max, err, errlen);
}

/* Returns the name argument i was given in its rules file, or NULL. */
const char *kb_arg_name(const kb_entry *e, int i)
{
    if (!e || i < 0 || e->nargs < 0)
        return NULL;
    if (i > e->nargs || (i == e->nargs && !e->variadic) || i > KB_MAX_ARGS)
        return NULL;
    const kb_node *n = (const kb_node *)(const void *)e;
    return n->argname[i];
}

/* The four *_name functions return static strings, "?" for bad values. */
const char *kb_ret_name(kb_ret r)
{
    return (unsigned)r < KB__NRET ? kb__ret_names[r] : "?";
}

/* See kb_ret_name. */
const char *kb_fail_name(kb_fail f)
{
    return (unsigned)f < KB__NFAIL ? kb__fail_names[f] : "?";
}

/* See kb_ret_name. */
const char *kb_format_name(kb_format f)
{
    return (unsigned)f < KB__NFMT ? kb__fmt_names[f] : "?";
}

/* See kb_ret_name. */
const char *kb_fu_effect_name(int effect)
{
    return effect >= 0 && effect < KB__NEFFECT ? kb__effect_names[effect] : "?";
}

/* Parses "MAJOR.MINOR" (both decimal, MAJOR 1..255, MINOR 0..255) into
 * 0xMMmm.  Returns -1 for anything else. */
int kb_parse_version(const char *s)
{
    if (!s)
        return -1;
    int major = 0, minor = 0;
    const char *p = s;
    if (!isdigit((unsigned char)*p))
        return -1;
    while (isdigit((unsigned char)*p)) {
        major = major * 10 + (*p++ - '0');
        if (major > 255)
            return -1;
    }
    if (*p++ != '.' || !isdigit((unsigned char)*p))
        return -1;
    while (isdigit((unsigned char)*p)) {
        minor = minor * 10 + (*p++ - '0');
        if (minor > 255)
            return -1;
    }
    if (*p || major == 0)
        return -1;
    return major << 8 | minor;
}

/* --------------------------------------------------------------- output */

typedef struct outbuf {
    char *buf;
    size_t len, used;            /* used may exceed len: size needed */
} outbuf;

static void out(outbuf *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->used < o->len ? o->len - o->used : 0;
    int n = vsnprintf(room ? o->buf + o->used : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->used += (size_t)n;
}

static void out_version(outbuf *o, int v)
{
    if (v)
        out(o, "%d.%d", v >> 8, v & 0xff);
}

static void out_flags(outbuf *o, uint32_t f)
{
    bool first = true;
    /* Leave out what rules files leave out: the default borrow and the
     * null property implied by the effect. */
    if (f & (KB_ARG_INCREF | KB_ARG_DECREF))
        f &= ~(uint32_t)KB_ARG_NONNULL;
    if (f & (KB_ARG_XINCREF | KB_ARG_XDECREF | KB_ARG_CLEAR | KB_ARG_VISIT))
        f &= ~(uint32_t)KB_ARG_NULLOK;
    f &= ~(uint32_t)KB_ARG_BORROW;
    for (size_t i = 0; i < N_ARG_FLAGS; i++) {
        if (f & arg_flag_names[i].bit) {
            out(o, "%s%s", first ? ":" : "+", arg_flag_names[i].name);
            first = false;
        }
    }
}

/* Writes e as a rules line.  Returns the length needed (snprintf style). */
int kb_entry_format(const kb_entry *e, char *buf, size_t len)
{
    outbuf o = {buf, len, 0};
    if (buf && len)
        buf[0] = '\0';
    if (!e)
        return 0;
    out(&o, "%s", e->name);
    if (e->ret != KB_RET_UNKNOWN)
        out(&o, " ret=%s", kb_ret_name(e->ret));
    if (e->ret_same_as >= 0)
        out(&o, " same=%d", e->ret_same_as);
    if (e->ret_owner >= 0)
        out(&o, " owner=%d", e->ret_owner);
    if (e->fail != KB_FAIL_NEVER || e->ret != KB_RET_UNKNOWN)
        out(&o, " fail=%s", kb_fail_name(e->fail));
    if (e->fail != KB_FAIL_NEVER && !e->fail_sets_exc)
        out(&o, " fail-exc=no");
    if (e->sets_exc)
        out(&o, " sets-exc=yes");
    if (e->clears_exc)
        out(&o, " clears-exc=yes");
    if (e->exc_probe)
        out(&o, " exc-probe=yes");
    if (e->noreturn)
        out(&o, " noreturn=yes");
    if (e->nogil)
        out(&o, " nogil=yes");
    if (e->gil > KB_GIL_KEEP && e->gil < KB__NGIL)
        out(&o, " gil=%s", kb__gil_names[e->gil]);
    if (e->is_macro)
        out(&o, " macro=yes");
    if (e->returns_stmt)
        out(&o, " returns-stmt=yes");
    if (e->immortal_result)
        out(&o, " immortal=yes");
    if (e->ok > KB_OK_NONNEG && e->ok < KB__NOK)
        out(&o, " ok=%s", kb__ok_names[e->ok]);
    if (e->small_int_arg >= 0)
        out(&o, " small-int=%d", e->small_int_arg);
    if (e->len_of > 0)
        out(&o, " len-of=%d", e->len_of - 1);
    if (e->range_container > 0)
        out(&o, " in-range=%d:%d", e->range_container - 1, e->range_index - 1);
    if (e->when)
        out(&o, " when=(%s)", e->when);
    if (e->sig)
        out(&o, " sig=(%s)", e->sig);
    if (e->sentinel)
        out(&o, " sentinel=%s", e->sentinel);
    if (e->role)
        out(&o, " role=%s", e->role);
    if (e->fmt != KB_FMT_NONE)
        out(&o, " fmt=%s", kb_format_name(e->fmt));
    if (e->py_min || e->py_max) {
        out(&o, " py=");
        if (e->py_min == e->py_max) {
            out_version(&o, e->py_min);
        } else {
            out_version(&o, e->py_min);
            out(&o, "-");
            out_version(&o, e->py_max);
        }
    }
    if (e->nargs >= 0) {
        out(&o, " args=(");
        int total = e->nargs + (e->variadic ? 1 : 0);
        for (int i = 0; i < total && i <= KB_MAX_ARGS; i++) {
            const char *nm = kb_arg_name(e, i);
            out(&o, "%s%s", i ? ", " : "",
                nm ? nm : (i == e->nargs ? "..." : "_"));
            out_flags(&o, i < KB_MAX_ARGS ? e->arg[i] : 0);
        }
        out(&o, ")");
    }
    return o.used > INT_MAX ? INT_MAX : (int)o.used;
}

/* -------------------------------------------------------------- loading */

typedef struct tok {
    const char *s;
    size_t n;
} tok;

typedef struct lctx {
    kb *k;
    const char *path;
    int line;
    const char *origin_file;     /* path copied into the pool */
    char *err;
    size_t errlen;
    bool failed;
    /* staged results of this file */
    kb_node **nodes;
    size_t nnodes, nodes_cap;
    const char **singles;
    size_t nsingles, singles_cap;
    kb_fmt_spec *specs;
    size_t nspecs, specs_cap;
} lctx;

static int lerr(lctx *c, const char *fmt, ...)
{
    if (c->failed)
        return -1;
    c->failed = true;
    if (!c->err || !c->errlen)
        return -1;
    int n = c->line > 0
        ? snprintf(c->err, c->errlen, "%s:%d: ", c->path, c->line)
        : snprintf(c->err, c->errlen, "%s: ", c->path);
    if (n < 0)
        n = 0;
    if ((size_t)n < c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static bool tok_eq(tok t, const char *s)
{
    size_t n = strlen(s);
    return t.n == n && memcmp(t.s, s, n) == 0;
}

/* Quotes a token for messages: at most 40 characters. */
#define TQ(t) (int)((t).n > 40 ? 40 : (t).n), (t).s

static bool is_ident(tok t)
{
    if (t.n == 0 || !(isalpha((unsigned char)t.s[0]) || t.s[0] == '_'))
        return false;
    for (size_t i = 1; i < t.n; i++)
        if (!(isalnum((unsigned char)t.s[i]) || t.s[i] == '_'))
            return false;
    return true;
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Splits a line into tokens.  '#' at the start of a token begins a
 * comment; a value written "key=(...)" runs to its closing parenthesis
 * and may contain blanks.  Returns the count or -1. */
static int tokenize(lctx *c, const char *s, size_t n, tok *toks, int max)
{
    int nt = 0;
    size_t i = 0;
    while (i < n) {
        if (is_space(s[i])) {
            i++;
            continue;
        }
        if (s[i] == '#')
            break;
        size_t start = i;
        int depth = 0;
        while (i < n) {
            char ch = s[i];
            if (depth == 0 && is_space(ch))
                break;
            if (ch == '(' && (depth > 0 || (i > start && s[i - 1] == '=')))
                depth++;
            else if (ch == ')' && depth > 0)
                depth--;
            else if ((unsigned char)ch < 0x20 && ch != '\t')
                return lerr(c, "control character 0x%02x in line", (unsigned char)ch);
            i++;
        }
        if (depth > 0)
            return lerr(c, "missing ')' in '%.*s'", TQ(((tok){s + start, i - start})));
        if (nt == max)
            return lerr(c, "too many tokens (more than %d)", max);
        toks[nt].s = s + start;
        toks[nt].n = i - start;
        nt++;
    }
    return nt;
}

/* Splits "key=value"; returns false when there is no '='. */
static bool split_kv(tok t, tok *key, tok *val)
{
    const char *eq = memchr(t.s, '=', t.n);
    if (!eq)
        return false;
    key->s = t.s;
    key->n = (size_t)(eq - t.s);
    val->s = eq + 1;
    val->n = t.n - key->n - 1;
    return true;
}

static int parse_enum(lctx *c, tok key, tok val, const char *const *names,
                      int first, int count, int *out)
{
    for (int i = first; i < count; i++) {
        if (tok_eq(val, names[i])) {
            *out = i;
            return 0;
        }
    }
    char list[256] = "";
    size_t used = 0;
    for (int i = first; i < count && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s",
                         i > first ? ", " : "", names[i]);
        if (w > 0)
            used += (size_t)w;
    }
    return lerr(c, "%.*s: unknown value '%.*s' (expected %s)", TQ(key), TQ(val), list);
}

static int parse_bool(lctx *c, tok key, tok val, bool *out)
{
    if (tok_eq(val, "yes")) {
        *out = true;
        return 0;
    }
    if (tok_eq(val, "no")) {
        *out = false;
        return 0;
    }
    return lerr(c, "%.*s: expected yes or no, got '%.*s'", TQ(key), TQ(val));
}

static int parse_int(lctx *c, tok key, tok val, int lo, int hi, int *out)
{
    if (val.n == 0 || val.n > 6)
        return lerr(c, "%.*s: expected a number %d..%d, got '%.*s'", TQ(key), lo, hi, TQ(val));
    int v = 0;
    for (size_t i = 0; i < val.n; i++) {
        if (!isdigit((unsigned char)val.s[i]))
            return lerr(c, "%.*s: expected a number %d..%d, got '%.*s'", TQ(key), lo, hi, TQ(val));
        v = v * 10 + (val.s[i] - '0');
    }
    if (v < lo || v > hi)
        return lerr(c, "%.*s: %d is out of range %d..%d", TQ(key), v, lo, hi);
    *out = v;
    return 0;
}

static int version_of(tok t)
{
    char buf[16];
    if (t.n == 0 || t.n >= sizeof buf)
        return -1;
    memcpy(buf, t.s, t.n);
    buf[t.n] = '\0';
    return kb_parse_version(buf);
}

/* py=3.8-3.13, py=3.12-, py=-3.11, py=3.13 */
static int parse_py(lctx *c, tok val, int *lo, int *hi)
{
    const char *dash = memchr(val.s, '-', val.n);
    if (!dash) {
        int v = version_of(val);
        if (v < 0)
            return lerr(c, "py: bad version '%.*s' (expected e.g. 3.11, 3.8-3.13, 3.12-, -3.11)", TQ(val));
        *lo = *hi = v;
        return 0;
    }
    tok a = {val.s, (size_t)(dash - val.s)};
    tok b = {dash + 1, val.n - a.n - 1};
    *lo = a.n ? version_of(a) : 0;
    *hi = b.n ? version_of(b) : 0;
    if (*lo < 0 || *hi < 0 || (a.n == 0 && b.n == 0))
        return lerr(c, "py: bad version range '%.*s' (expected e.g. 3.8-3.13, 3.12-, -3.11)", TQ(val));
    if (*lo && *hi && *lo > *hi)
        return lerr(c, "py: empty version range '%.*s'", TQ(val));
    return 0;
}

static tok trim(tok t)
{
    while (t.n && is_space(t.s[0])) {
        t.s++;
        t.n--;
    }
    while (t.n && is_space(t.s[t.n - 1]))
        t.n--;
    return t;
}

/* Parses one "name[:flag+flag]" item of args=(...). */
static int parse_arg(lctx *c, kb_node *node, int i, tok item, uint32_t *flags)
{
    const char *colon = memchr(item.s, ':', item.n);
    tok name = {item.s, colon ? (size_t)(colon - item.s) : item.n};
    name = trim(name);
    if (!(is_ident(name) || tok_eq(name, "...")))
        return lerr(c, "args: bad argument name '%.*s' (expected a C identifier or ...)", TQ(name));
    node->argname[i] = pool_strndup(&c->k->pool, name.s, name.n);
    if (!node->argname[i])
        return lerr(c, "out of memory");
    uint32_t f = 0;
    if (colon) {
        tok rest = trim((tok){colon + 1, (size_t)(item.s + item.n - colon - 1)});
        if (rest.n == 0)
            return lerr(c, "args: '%.*s': no flag after ':'", TQ(name));
        size_t p = 0;
        while (p <= rest.n) {
            const char *plus = memchr(rest.s + p, '+', rest.n - p);
            size_t end = plus ? (size_t)(plus - rest.s) : rest.n;
            tok fl = trim((tok){rest.s + p, end - p});
            size_t j;
            for (j = 0; j < N_ARG_FLAGS; j++)
                if (tok_eq(fl, arg_flag_names[j].name))
                    break;
            if (j == N_ARG_FLAGS)
                return lerr(c, "args: '%.*s': unknown flag '%.*s'", TQ(name), TQ(fl));
            if (f & arg_flag_names[j].bit)
                return lerr(c, "args: '%.*s': flag '%.*s' given twice", TQ(name), TQ(fl));
            if (arg_flag_names[j].effect && (f & EFFECT_BITS))
                return lerr(c, "args: '%.*s': more than one effect flag (at most one of "
                            "borrow, steal, steal-on-success, incref, xincref, decref, xdecref, "
                            "out-new, out-borrowed, inout-steal, clear, assign-dst, assign-src, visit)",
                            TQ(name));
            f |= arg_flag_names[j].bit;
            p = end + 1;
        }
    }
    /* Implied null properties, then contradictions. */
    uint32_t must_nonnull = KB_ARG_INCREF | KB_ARG_DECREF;
    uint32_t must_nullok = KB_ARG_XINCREF | KB_ARG_XDECREF | KB_ARG_CLEAR | KB_ARG_VISIT;
    if ((f & must_nonnull) && (f & KB_ARG_NULLOK))
        return lerr(c, "args: '%.*s': incref/decref need a non-NULL argument (use xincref/xdecref)", TQ(name));
    if ((f & must_nullok) && (f & KB_ARG_NONNULL))
        return lerr(c, "args: '%.*s': xincref/xdecref/clear/visit accept NULL; nonnull contradicts them", TQ(name));
    if ((f & KB_ARG_NULLOK) && (f & KB_ARG_NONNULL))
        return lerr(c, "args: '%.*s': nullok and nonnull contradict each other", TQ(name));
    if ((f & KB_ARG_OUT_NULLOK) && !(f & OUT_BITS))
        return lerr(c, "args: '%.*s': out-nullok needs out-new, out-borrowed or inout-steal", TQ(name));
    if ((f & KB_ARG_FORMAT) && (f & EFFECT_BITS & ~(uint32_t)KB_ARG_BORROW))
        return lerr(c, "args: '%.*s': a format argument has no reference effect", TQ(name));
    if ((f & KB_ARG_KEEP) && (f & EFFECT_BITS & ~(uint32_t)KB_ARG_BORROW))
        return lerr(c, "args: '%.*s': keep (the callee takes its own reference) goes only "
                    "with a borrowed argument", TQ(name));
    if (f & must_nonnull)
        f |= KB_ARG_NONNULL;
    if (f & must_nullok)
        f |= KB_ARG_NULLOK;
    if (!(f & EFFECT_BITS))
        f |= KB_ARG_BORROW;
    *flags = f;
    return 0;
}

static int parse_args(lctx *c, kb_node *node, tok val)
{
    kb_entry *e = &node->e;
    if (val.n < 2 || val.s[0] != '(' || val.s[val.n - 1] != ')')
        return lerr(c, "args: expected a list in parentheses, e.g. args=(list, index, item:steal)");
    tok in = trim((tok){val.s + 1, val.n - 2});
    e->nargs = 0;
    if (in.n == 0)
        return 0;
    if (memchr(in.s, '(', in.n) || memchr(in.s, ')', in.n))
        return lerr(c, "args: nested parentheses");
    size_t p = 0;
    int count = 0;
    while (p <= in.n) {
        const char *comma = memchr(in.s + p, ',', in.n - p);
        size_t end = comma ? (size_t)(comma - in.s) : in.n;
        tok item = trim((tok){in.s + p, end - p});
        if (item.n == 0)
            return lerr(c, "args: empty argument %d", count);
        if (e->variadic)
            return lerr(c, "args: '...' must be the last argument");
        if (count > KB_MAX_ARGS || (count == KB_MAX_ARGS && !(item.n >= 3 && memcmp(item.s, "...", 3) == 0)))
            return lerr(c, "args: more than %d arguments", KB_MAX_ARGS);
        uint32_t f = 0;
        if (parse_arg(c, node, count, item, &f) < 0)
            return -1;
        if (strcmp(node->argname[count], "...") == 0) {
            e->variadic = true;
            if (count < KB_MAX_ARGS)
                e->arg[count] = f;
            else if (f & ~(uint32_t)KB_ARG_BORROW)
                return lerr(c, "args: no room for the flags of '...' after %d arguments", KB_MAX_ARGS);
        } else {
            e->arg[count] = f;
            e->nargs++;
        }
        count++;
        p = end + 1;
    }
    return 0;
}

static int stage_node(lctx *c, kb_node *n)
{
    if (c->nnodes == c->nodes_cap) {
        size_t cap = c->nodes_cap ? c->nodes_cap * 2 : 256;
        kb_node **v = realloc(c->nodes, cap * sizeof *v);
        if (!v)
            return lerr(c, "out of memory");
        c->nodes = v;
        c->nodes_cap = cap;
    }
    c->nodes[c->nnodes++] = n;
    return 0;
}

enum {
    K_RET, K_SAME, K_OWNER, K_FAIL, K_FAILEXC, K_SETSEXC, K_CLEARSEXC,
    K_EXCPROBE, K_NORETURN, K_NOGIL, K_GIL, K_MACRO, K_RETSTMT, K_IMMORTAL,
    K_FMT, K_PY, K_ARGS, K_OK, K_SMALLINT, K_LENOF, K_INRANGE, K_SIG, K_WHEN, K_SENTINEL, K_ROLE, K_COUNT
};
static const char *const entry_keys[K_COUNT] = {
    "ret", "same", "owner", "fail", "fail-exc", "sets-exc", "clears-exc",
    "exc-probe", "noreturn", "nogil", "gil", "macro", "returns-stmt",
    "immortal", "fmt", "py", "args", "ok", "small-int", "len-of", "in-range", "sig", "when", "sentinel",
    "role",
};

/* An entry name: a C identifier, or "slot:" and one for the function
 * pointers of type slots (slot:tp_alloc, slot:tp_iternext), optionally
 * followed by "/VARIANT" (slot:ml_meth/fastcall), or "table:" and the
 * element type of a table (table:PyMethodDef), or "decl:" and a type or
 * function name, a trailing '*' making it a prefix (decl:PyInit_*). */
static bool is_entry_name(tok t)
{
    static const char slot[] = "slot:", table[] = "table:", decl[] = "decl:";
    if (t.n > sizeof decl - 1 && memcmp(t.s, decl, sizeof decl - 1) == 0) {
        tok rest = { t.s + sizeof decl - 1, t.n - (sizeof decl - 1) };
        if (rest.n > 1 && rest.s[rest.n - 1] == '*')
            rest.n--;
        return is_ident(rest);
    }
    if (t.n > sizeof table - 1 && memcmp(t.s, table, sizeof table - 1) == 0)
        return is_ident((tok){ t.s + sizeof table - 1, t.n - (sizeof table - 1) });
    if (t.n > sizeof slot - 1 && memcmp(t.s, slot, sizeof slot - 1) == 0) {
        tok rest = { t.s + sizeof slot - 1, t.n - (sizeof slot - 1) };
        const char *sl = memchr(rest.s, '/', rest.n);
        if (sl) {
            tok field = { rest.s, (size_t)(sl - rest.s) };
            tok variant = { sl + 1, (size_t)(rest.s + rest.n - sl - 1) };
            return is_ident(field) && is_ident(variant);
        }
        return is_ident(rest);
    }
    return is_ident(t);
}

/* Parses "(T1, T2, ...)" (ctype=, and sig='s parameters after ';'): C
 * type spellings separated by commas.  Stores the text inside the
 * parentheses in the pool (*out) and counts the types; with semi non-NULL
 * the list is "RET; T1, ..." and the return type is required. */
static int parse_type_list(lctx *c, tok key, tok val, const char **out, bool *semi, int *count)
{
    if (val.n < 2 || val.s[0] != '(' || val.s[val.n - 1] != ')')
        return lerr(c, "%.*s: expected types in parentheses, e.g. %.*s=(Py_ssize_t *)", TQ(key), TQ(key));
    tok in = trim((tok){val.s + 1, val.n - 2});
    const char *sc = memchr(in.s, ';', in.n);
    if (semi && (!sc || sc == in.s))
        return lerr(c, "%.*s: expected '(RETURN-TYPE; PARAM-TYPE, ...)'", TQ(key));
    if (!semi && sc)
        return lerr(c, "%.*s: unexpected ';'", TQ(key));
    tok params = sc ? trim((tok){sc + 1, (size_t)(in.s + in.n - sc - 1)}) : in;
    int n = 0;
    for (size_t p = 0; params.n && p <= params.n;) {
        const char *comma = memchr(params.s + p, ',', params.n - p);
        size_t end = comma ? (size_t)(comma - params.s) : params.n;
        tok item = trim((tok){params.s + p, end - p});
        if (item.n == 0)
            return lerr(c, "%.*s: empty type %d", TQ(key), n);
        for (size_t i = 0; i < item.n; i++)
            if (!(isalnum((unsigned char)item.s[i]) || strchr("_* ", item.s[i])))
                return lerr(c, "%.*s: '%.*s' is not a type (identifiers and '*' only)", TQ(key), TQ(item));
        n++;
        p = end + 1;
    }
    *out = pool_strndup(&c->k->pool, in.s, in.n);
    if (!*out)
        return lerr(c, "out of memory");
    *count = n;
    return 0;
}

/* Parses when=(FIELD: MACRO|MACRO). */
static int parse_when(lctx *c, tok key, tok val, const char **out)
{
    if (val.n < 2 || val.s[0] != '(' || val.s[val.n - 1] != ')')
        return lerr(c, "when: expected (FIELD: MACRO|MACRO), e.g. when=(ml_flags: METH_O)");
    tok in = trim((tok){val.s + 1, val.n - 2});
    const char *colon = memchr(in.s, ':', in.n);
    if (!colon || !is_ident(trim((tok){in.s, (size_t)(colon - in.s)})))
        return lerr(c, "when: expected (FIELD: MACRO|MACRO), e.g. when=(ml_flags: METH_O)");
    tok rest = trim((tok){colon + 1, (size_t)(in.s + in.n - colon - 1)});
    for (size_t p = 0; p <= rest.n;) {
        const char *bar = memchr(rest.s + p, '|', rest.n - p);
        size_t end = bar ? (size_t)(bar - rest.s) : rest.n;
        tok m = trim((tok){rest.s + p, end - p});
        if (!is_ident(m))
            return lerr(c, "when: '%.*s' is not a macro name", TQ(m));
        p = end + 1;
    }
    (void)key;
    *out = pool_strndup(&c->k->pool, in.s, in.n);
    return *out ? 0 : lerr(c, "out of memory");
}

static int parse_entry(lctx *c, const tok *t, int nt)
{
    if (!is_entry_name(t[0]))
        return lerr(c, "'%.*s' is not a C identifier (an entry starts with the API name)", TQ(t[0]));
    kb_node *node = pool_alloc(&c->k->pool, sizeof *node);
    char origin[512];
    if (!node)
        return lerr(c, "out of memory");
    kb_entry *e = &node->e;
    e->name = pool_strndup(&c->k->pool, t[0].s, t[0].n);
    snprintf(origin, sizeof origin, "%s:%d", c->origin_file, c->line);
    e->origin = pool_strndup(&c->k->pool, origin, strlen(origin));
    if (!e->name || !e->origin)
        return lerr(c, "out of memory");
    e->ret_same_as = -1;
    e->ret_owner = -1;
    e->nargs = -1;
    e->fmt_arg = -1;
    e->small_int_arg = -1;
    bool seen[K_COUNT] = {false};
    bool fail_exc = true;
    int nsig = 0;
    for (int i = 1; i < nt; i++) {
        tok key, val;
        if (!split_kv(t[i], &key, &val))
            return lerr(c, "expected key=value, got '%.*s'", TQ(t[i]));
        int kk;
        for (kk = 0; kk < K_COUNT; kk++)
            if (tok_eq(key, entry_keys[kk]))
                break;
        if (kk == K_COUNT)
            return lerr(c, "unknown key '%.*s' (keys: ret same owner fail fail-exc sets-exc "
                        "clears-exc exc-probe noreturn nogil gil macro returns-stmt immortal fmt "
                        "py args ok small-int len-of in-range sig when sentinel role)", TQ(key));
        if (seen[kk])
            return lerr(c, "key '%s' given twice", entry_keys[kk]);
        seen[kk] = true;
        int iv = 0;
        int rc = 0;
        switch (kk) {
        case K_RET:
            rc = parse_enum(c, key, val, kb__ret_names, 1, KB__NRET, &iv);
            e->ret = (kb_ret)iv;
            break;
        case K_SAME:
            rc = parse_int(c, key, val, 0, KB_MAX_ARGS - 1, &e->ret_same_as);
            break;
        case K_OWNER:
            rc = parse_int(c, key, val, 0, KB_MAX_ARGS - 1, &e->ret_owner);
            break;
        case K_FAIL:
            rc = parse_enum(c, key, val, kb__fail_names, 0, KB__NFAIL, &iv);
            e->fail = (kb_fail)iv;
            break;
        case K_FAILEXC:    rc = parse_bool(c, key, val, &fail_exc); break;
        case K_SETSEXC:    rc = parse_bool(c, key, val, &e->sets_exc); break;
        case K_CLEARSEXC:  rc = parse_bool(c, key, val, &e->clears_exc); break;
        case K_EXCPROBE:   rc = parse_bool(c, key, val, &e->exc_probe); break;
        case K_NORETURN:   rc = parse_bool(c, key, val, &e->noreturn); break;
        case K_NOGIL:      rc = parse_bool(c, key, val, &e->nogil); break;
        case K_GIL:
            rc = parse_enum(c, key, val, kb__gil_names, 0, KB__NGIL, &e->gil);
            break;
        case K_MACRO:      rc = parse_bool(c, key, val, &e->is_macro); break;
        case K_RETSTMT:    rc = parse_bool(c, key, val, &e->returns_stmt); break;
        case K_IMMORTAL:   rc = parse_bool(c, key, val, &e->immortal_result); break;
        case K_FMT:
            rc = parse_enum(c, key, val, kb__fmt_names, 1, KB__NFMT, &iv);
            e->fmt = (kb_format)iv;
            break;
        case K_PY:         rc = parse_py(c, val, &e->py_min, &e->py_max); break;
        case K_ARGS:       rc = parse_args(c, node, val); break;
        case K_OK:
            rc = parse_enum(c, key, val, kb__ok_names, 0, KB__NOK, &e->ok);
            break;
        case K_SMALLINT:
            rc = parse_int(c, key, val, 0, KB_MAX_ARGS - 1, &e->small_int_arg);
            break;
        case K_LENOF:
            rc = parse_int(c, key, val, 0, KB_MAX_ARGS - 1, &iv);
            e->len_of = iv + 1;
            break;
        case K_INRANGE: {
            /* C:I, two argument positions */
            const char *colon = memchr(val.s, ':', val.n);
            tok a = { val.s, colon ? (size_t)(colon - val.s) : val.n };
            tok b = { colon ? colon + 1 : "", colon ? val.n - a.n - 1 : 0 };
            int ci = 0, ii = 0;
            if (!colon)
                rc = lerr(c, "in-range: expected CONTAINER:INDEX argument positions, got '%.*s'",
                          TQ(val));
            else if ((rc = parse_int(c, key, a, 0, KB_MAX_ARGS - 1, &ci)) == 0 &&
                     (rc = parse_int(c, key, b, 0, KB_MAX_ARGS - 1, &ii)) == 0) {
                e->range_container = ci + 1;
                e->range_index = ii + 1;
            }
            break;
        }
        case K_SIG: {
            bool semi = true;
            rc = parse_type_list(c, key, val, &e->sig, &semi, &nsig);
            break;
        }
        case K_WHEN:
            rc = parse_when(c, key, val, &e->when);
            break;
        case K_SENTINEL:
            if (!is_ident(val))
                rc = lerr(c, "sentinel: expected a field name, got '%.*s'", TQ(val));
            else if (!(e->sentinel = pool_strndup(&c->k->pool, val.s, val.n)))
                rc = lerr(c, "out of memory");
            break;
        case K_ROLE: {
            static const char *const roles[] = { "type-object", "type-spec", "object", "visitproc",
                                                 "module-init" };
            size_t r = 0;
            while (r < sizeof roles / sizeof *roles && !tok_eq(val, roles[r]))
                r++;
            if (r == sizeof roles / sizeof *roles)
                rc = lerr(c, "role: expected type-object, type-spec, object, visitproc or "
                          "module-init, got '%.*s'", TQ(val));
            else
                e->role = roles[r];
            break;
        }
        }
        if (rc < 0)
            return -1;
    }
    /* Cross-checks. */
    if ((e->sig || e->when) && strncmp(e->name, "slot:", 5) != 0)
        return lerr(c, "%s= is for slot: entries", e->sig ? "sig" : "when");
    if ((strncmp(e->name, "table:", 6) == 0) != (e->sentinel != NULL))
        return lerr(c, "table: entries take sentinel= (and only they do)");
    if ((strncmp(e->name, "decl:", 5) == 0) != (e->role != NULL))
        return lerr(c, "decl: entries take role= (and only they do)");
    if (e->when && !strchr(e->name, '/'))
        return lerr(c, "when= is for slot variants (slot:FIELD/VARIANT)");
    if (e->sig && e->nargs >= 0 && nsig != e->nargs)
        return lerr(c, "sig= lists %d parameters, args= %d", nsig, e->nargs);
    if (seen[K_FAILEXC] && e->fail == KB_FAIL_NEVER)
        return lerr(c, "fail-exc= needs a fail= other than never");
    e->fail_sets_exc = e->fail != KB_FAIL_NEVER && fail_exc;
    bool objret = e->ret == KB_RET_NEW || e->ret == KB_RET_BORROWED;
    if (e->ret_same_as >= 0 && !objret)
        return lerr(c, "same= needs ret=new or ret=borrowed");
    if (e->ret_owner >= 0 && e->ret != KB_RET_BORROWED)
        return lerr(c, "owner= needs ret=borrowed");
    if (e->immortal_result && !objret)
        return lerr(c, "immortal=yes needs ret=new or ret=borrowed");
    if (e->exc_probe && !(objret || e->ret == KB_RET_PTR))
        return lerr(c, "exc-probe=yes needs a pointer result (ret=borrowed, new or ptr)");
    if (e->returns_stmt && !e->is_macro)
        return lerr(c, "returns-stmt=yes needs macro=yes");
    if ((e->fail == KB_FAIL_NULL || e->fail == KB_FAIL_NULL_OR_ABSENT) &&
        !(objret || e->ret == KB_RET_NULL || e->ret == KB_RET_PTR))
        return lerr(c, "fail=%s needs a pointer result (ret=new, borrowed, null or ptr)",
                    kb_fail_name(e->fail));
    if ((e->fail == KB_FAIL_NEG || e->fail == KB_FAIL_NEG_AMBIGUOUS || e->fail == KB_FAIL_ZERO ||
         e->fail == KB_FAIL_NEG_OR_ZERO_ABSENT) && e->ret != KB_RET_INT)
        return lerr(c, "fail=%s needs ret=int", kb_fail_name(e->fail));
    if (e->nargs >= 0) {
        if (e->ret_same_as >= e->nargs)
            return lerr(c, "same=%d: there are only %d arguments", e->ret_same_as, e->nargs);
        if (e->ret_owner >= e->nargs)
            return lerr(c, "owner=%d: there are only %d arguments", e->ret_owner, e->nargs);
        int nfmt = 0;
        for (int i = 0; i < e->nargs; i++) {
            if (e->arg[i] & KB_ARG_FORMAT) {
                nfmt++;
                e->fmt_arg = i;
            }
        }
        if (e->variadic && e->nargs < KB_MAX_ARGS && (e->arg[e->nargs] & KB_ARG_FORMAT))
            return lerr(c, "args: '...' cannot be the format");
        if (nfmt > 1)
            return lerr(c, "args: more than one argument has the format flag");
        if (e->fmt != KB_FMT_NONE && nfmt == 0)
            return lerr(c, "fmt=%s: no argument has the format flag", kb_format_name(e->fmt));
        if (e->fmt == KB_FMT_NONE && nfmt == 1)
            return lerr(c, "args: a format argument needs fmt=parse, parse-kw, build or printf");
    } else {
        if (e->ret_same_as >= 0 || e->ret_owner >= 0)
            return lerr(c, "%s= needs args=", e->ret_same_as >= 0 ? "same" : "owner");
        if (e->fmt != KB_FMT_NONE)
            return lerr(c, "fmt= needs args= with a format argument");
    }
    return stage_node(c, node);
}

static int parse_singleton(lctx *c, const tok *t, int nt)
{
    if (nt != 2)
        return lerr(c, "@singleton takes exactly one name, e.g. '@singleton _Py_NoneStruct'");
    if (!is_ident(t[1]))
        return lerr(c, "@singleton: '%.*s' is not a C identifier", TQ(t[1]));
    if (c->nsingles == c->singles_cap) {
        size_t cap = c->singles_cap ? c->singles_cap * 2 : 16;
        const char **v = realloc(c->singles, cap * sizeof *v);
        if (!v)
            return lerr(c, "out of memory");
        c->singles = v;
        c->singles_cap = cap;
    }
    const char *name = pool_strndup(&c->k->pool, t[1].s, t[1].n);
    if (!name)
        return lerr(c, "out of memory");
    c->singles[c->nsingles++] = name;
    return 0;
}

/* A unit code: 1-3 printable characters; \s is a blank, \t a tab. */
static int parse_code(lctx *c, tok t, char code[4])
{
    size_t n = 0;
    for (size_t i = 0; i < t.n; i++) {
        char ch = t.s[i];
        if (ch == '\\') {
            if (i + 1 == t.n)
                return lerr(c, "@unit: '\\' at the end of code '%.*s' (use \\s, \\t or \\\\)", TQ(t));
            ch = t.s[++i];
            if (ch == 's')
                ch = ' ';
            else if (ch == 't')
                ch = '\t';
            else if (ch != '\\')
                return lerr(c, "@unit: unknown escape '\\%c' (use \\s, \\t or \\\\)", ch);
        } else if ((unsigned char)ch <= 0x20 || (unsigned char)ch >= 0x7f) {
            return lerr(c, "@unit: code '%.*s' has a non-printable character", TQ(t));
        }
        if (n == 3)
            return lerr(c, "@unit: code '%.*s' is longer than 3 characters", TQ(t));
        code[n++] = ch;
    }
    if (n == 0)
        return lerr(c, "@unit: empty code");
    code[n] = '\0';
    return 0;
}

static int parse_unit(lctx *c, const tok *t, int nt)
{
    if (nt < 3)
        return lerr(c, "@unit needs a kind and a code, e.g. '@unit parse O! nargs=2 obj=1 effect=out-borrowed'");
    kb_fmt_spec s;
    memset(&s, 0, sizeof s);
    s.obj_arg = -1;
    int kind;
    if (parse_enum(c, (tok){"@unit", 5}, t[1], kb__fmt_names, 1, KB__NFMT, &kind) < 0)
        return -1;
    s.kind = (kb_format)kind;
    if (parse_code(c, t[2], s.code) < 0)
        return -1;
    bool seen[8] = {false};
    static const char *const keys[] = {"nargs", "obj", "effect", "pair", "skip", "stop", "length",
                                       "ctype"};
    int nctypes = 0;
    for (int i = 3; i < nt; i++) {
        tok key, val;
        if (!split_kv(t[i], &key, &val))
            return lerr(c, "@unit: expected key=value, got '%.*s'", TQ(t[i]));
        int kk;
        for (kk = 0; kk < 8; kk++)
            if (tok_eq(key, keys[kk]))
                break;
        if (kk == 8)
            return lerr(c, "@unit: unknown key '%.*s' (keys: nargs obj effect pair skip stop length ctype)", TQ(key));
        if (seen[kk])
            return lerr(c, "@unit: key '%s' given twice", keys[kk]);
        seen[kk] = true;
        int rc = 0;
        switch (kk) {
        case 0: rc = parse_int(c, key, val, 0, 8, &s.nargs); break;
        case 1: rc = parse_int(c, key, val, 0, 7, &s.obj_arg); break;
        case 2: rc = parse_enum(c, key, val, kb__effect_names, 0, KB__NEFFECT, &s.effect); break;
        case 3: {
            char pc[4];
            rc = parse_code(c, val, pc);
            if (rc == 0 && pc[1])
                rc = lerr(c, "@unit: pair= takes one character");
            s.pair = pc[0];
            break;
        }
        case 4: rc = parse_bool(c, key, val, &s.skip); break;
        case 5: rc = parse_bool(c, key, val, &s.stop); break;
        case 6: rc = parse_bool(c, key, val, &s.length); break;
        case 7: rc = parse_type_list(c, key, val, &s.ctypes, NULL, &nctypes); break;
        }
        if (rc < 0)
            return -1;
    }
    if (s.obj_arg >= 0 && s.obj_arg >= s.nargs)
        return lerr(c, "@unit %s: obj=%d but the unit takes %d arguments", s.code, s.obj_arg, s.nargs);
    if (s.effect != KB_FU_NONE && s.obj_arg < 0)
        return lerr(c, "@unit %s: effect=%s needs obj=", s.code, kb__effect_names[s.effect]);
    if (s.effect == KB_FU_NONE && s.obj_arg >= 0)
        return lerr(c, "@unit %s: obj= needs an effect=", s.code);
    if ((s.skip || s.stop || s.pair) && (s.nargs || s.obj_arg >= 0))
        return lerr(c, "@unit %s: skip, stop and pair units take no arguments", s.code);
    if ((s.skip + s.stop + (s.pair != 0) + s.length) > 1)
        return lerr(c, "@unit %s: at most one of skip, stop, pair, length", s.code);
    if (s.pair && s.code[1])
        return lerr(c, "@unit %s: an opening bracket is one character", s.code);
    if (s.length && s.kind != KB_FMT_PRINTF)
        return lerr(c, "@unit %s: length= is for printf units", s.code);
    if (s.length && s.nargs)
        return lerr(c, "@unit %s: a length modifier takes no arguments", s.code);
    if (s.ctypes && nctypes != (s.length ? 1 : s.nargs))
        return lerr(c, "@unit %s: ctype= lists %d types for %d arguments", s.code, nctypes,
                    s.length ? 1 : s.nargs);
    if (c->nspecs == c->specs_cap) {
        size_t cap = c->specs_cap ? c->specs_cap * 2 : 64;
        kb_fmt_spec *v = realloc(c->specs, cap * sizeof *v);
        if (!v)
            return lerr(c, "out of memory");
        c->specs = v;
        c->specs_cap = cap;
    }
    char origin[512];
    snprintf(origin, sizeof origin, "%s:%d", c->origin_file, c->line);
    s.origin = pool_strndup(&c->k->pool, origin, strlen(origin));
    if (!s.origin)
        return lerr(c, "out of memory");
    c->specs[c->nspecs++] = s;
    return 0;
}

static int parse_line(lctx *c, const char *s, size_t n)
{
    tok t[KB_MAX_TOKENS];
    if (memchr(s, '\0', n))
        return lerr(c, "NUL byte in line");
    int nt = tokenize(c, s, n, t, KB_MAX_TOKENS);
    if (nt <= 0)
        return nt;
    if (t[0].s[0] == '@') {
        if (tok_eq(t[0], "@singleton"))
            return parse_singleton(c, t, nt);
        if (tok_eq(t[0], "@unit"))
            return parse_unit(c, t, nt);
        return lerr(c, "unknown directive '%.*s' (expected @singleton or @unit)", TQ(t[0]));
    }
    return parse_entry(c, t, nt);
}

/* Reads the whole file; returns a malloc'ed buffer or NULL (message set). */
static char *read_file(lctx *c, size_t *len)
{
    FILE *f = fopen(c->path, "rb");
    if (!f) {
        lerr(c, "cannot open: %s", strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        lerr(c, "out of memory");
        return NULL;
    }
    for (;;) {
        if (n == cap) {
            if (cap >= KB_MAX_FILE) {
                free(buf);
                fclose(f);
                lerr(c, "file larger than %u bytes", KB_MAX_FILE);
                return NULL;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                lerr(c, "out of memory");
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                free(buf);
                fclose(f);
                lerr(c, "read error: %s", strerror(errno));
                return NULL;
            }
            break;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static int commit(lctx *c)
{
    kb *k = c->k;
    for (size_t i = 0; i < c->nnodes; i++) {
        kb_node *n = c->nodes[i];
        kb_slot *s = intern_slot(k, n->e.name);
        if (!s)
            return lerr(c, "out of memory");
        n->e.name = s->name;         /* share one spelling per name */
        if (s->last)
            s->last->next = n;
        else
            s->first = n;
        s->last = n;
    }
    for (size_t i = 0; i < c->nsingles; i++) {
        kb_slot *s = intern_slot(k, c->singles[i]);
        if (!s)
            return lerr(c, "out of memory");
        s->singleton = true;
    }
    for (size_t i = 0; i < c->nspecs; i++) {
        const kb_fmt_spec *ns = &c->specs[i];
        int j;
        for (j = 0; j < k->nspecs; j++)
            if (k->specs[j].kind == ns->kind && strcmp(k->specs[j].code, ns->code) == 0)
                break;
        if (j == k->nspecs) {
            if (k->nspecs == k->specs_cap) {
                int cap = k->specs_cap ? k->specs_cap * 2 : 128;
                kb_fmt_spec *v = realloc(k->specs, (size_t)cap * sizeof *v);
                if (!v)
                    return lerr(c, "out of memory");
                k->specs = v;
                k->specs_cap = cap;
            }
            k->nspecs++;
        }
        k->specs[j] = *ns;           /* a later row replaces an earlier one */
    }
    if (rebuild(k) < 0)
        return lerr(c, "out of memory");
    return 0;
}

/* Loads one rules file.  Returns 0, or -1 with "FILE:LINE: problem" in err
 * (nothing of the file is kept then). */
int kb_load_file(kb *k, const char *path, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    lctx c;
    memset(&c, 0, sizeof c);
    c.k = k;
    c.path = path ? path : "(null)";
    c.err = err;
    c.errlen = errlen;
    if (!k || !path)
        return lerr(&c, "no knowledge base or no path");
    c.origin_file = pool_strndup(&k->pool, path, strlen(path));
    if (!c.origin_file)
        return lerr(&c, "out of memory");
    size_t len = 0;
    char *buf = read_file(&c, &len);
    if (!buf)
        return -1;
    int rc = 0;
    size_t p = 0;
    while (p < len && rc == 0) {
        const char *nl = memchr(buf + p, '\n', len - p);
        size_t end = nl ? (size_t)(nl - buf) : len;
        c.line++;
        rc = parse_line(&c, buf + p, end - p);
        p = end + 1;
    }
    free(buf);
    c.line = 0;
    if (rc == 0 && !c.failed)
        rc = commit(&c);
    free(c.nodes);
    free(c.singles);
    free(c.specs);
    return rc < 0 || c.failed ? -1 : 0;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads every "*.rules" file of dir (not hidden ones) in strcmp order.
 * Returns the number of files loaded, or -1 with a message in err; the
 * files before the failing one stay loaded. */
int kb_load_dir(kb *k, const char *dir, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!k || !dir) {
        if (err && errlen)
            snprintf(err, errlen, "%s: no knowledge base or no directory", dir ? dir : "(null)");
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot open directory: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l <= 6 || de->d_name[0] == '.' || strcmp(de->d_name + l - 6, ".rules") != 0)
            continue;
        size_t dl = strlen(dir);
        char *full = malloc(dl + l + 2);
        if (!full) {
            rc = -1;
            break;
        }
        snprintf(full, dl + l + 2, "%s%s%s", dir,
                 dl && dir[dl - 1] == '/' ? "" : "/", de->d_name);
        struct stat st;
        if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(full);
            continue;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **v = realloc(names, nc * sizeof *v);
            if (!v) {
                free(full);
                rc = -1;
                break;
            }
            names = v;
            cap = nc;
        }
        names[n++] = full;
    }
    closedir(d);
    if (rc < 0 && err && errlen)
        snprintf(err, errlen, "%s: out of memory", dir);
    if (rc == 0) {
        if (n > 1)
            qsort(names, n, sizeof *names, cmp_cstr);
        for (size_t i = 0; i < n; i++) {
            if (kb_load_file(k, names[i], err, errlen) < 0) {
                rc = -1;
                break;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc < 0 ? -1 : (int)n;
}
