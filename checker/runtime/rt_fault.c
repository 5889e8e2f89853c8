/* rt_fault.c - fault injection: the fault plan (PRT_FAULTS), the per-API
 * and fallible-call counters, the trace (PRT_TRACE), and the failure values
 * and exceptions, all driven by the knowledge base the checker reads
 * (rules/: which calls are fallible, what they return and whether the
 * failure sets an exception).
 */
#include "rt_internal.h"
#include "prt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PRT_DEFAULT_RULES_DIR
#define PRT_DEFAULT_RULES_DIR "rules"
#endif

static void rt_parse_faults(rt_ctx *c, const char *spec)
{
    const char *p = spec;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char item[128];
        if (len >= sizeof item)
            rt_die("PRT_FAULTS: item too long");
        memcpy(item, p, len);
        item[len] = 0;
        if (len) {
            if (c->nfaults == (int)(sizeof c->faults / sizeof c->faults[0]))
                rt_die("PRT_FAULTS: too many items");
            rt_fault_item *f = &c->faults[c->nfaults];
            char *end = NULL;
            if (item[0] == '#') {
                f->name[0] = 0;
                f->n = strtol(item + 1, &end, 10);
            } else {
                char *colon = strrchr(item, ':');
                if (!colon || colon == item || (size_t)(colon - item) >= sizeof f->name)
                    rt_die("PRT_FAULTS: expected NAME:N or #K");
                memcpy(f->name, item, (size_t)(colon - item));
                f->name[colon - item] = 0;
                f->n = strtol(colon + 1, &end, 10);
            }
            if (!end || *end || f->n < 1)
                rt_die("PRT_FAULTS: expected a positive number");
            c->nfaults++;
        }
        if (!e)
            break;
        p = e + 1;
    }
}

void rt_fault_init(rt_ctx *c)
{
    if (c->inited)
        return;
    c->inited = true;
    const char *out = getenv("PRT_OUT");
    if (out && *out)
        c->out_fd = atoi(out);
    const char *tr = getenv("PRT_TRACE");
    c->trace = tr && !strcmp(tr, "1");
    const char *faults = getenv("PRT_FAULTS");
    if (faults)
        rt_parse_faults(c, faults);
    const char *dir = getenv("PRT_RULES_DIR");
    if (!dir || !*dir)
        dir = PRT_DEFAULT_RULES_DIR;
    c->kb = kb_new();
    if (!c->kb)
        rt_die("out of memory");
    char err[512];
    if (kb_load_dir(c->kb, dir, err, sizeof err) < 0) {
        char msg[640];
        snprintf(msg, sizeof msg, "rules: %s", err);
        rt_die(msg);
    }
    kb_set_python_version(c->kb, (PY_VERSION_HEX >> 16) & 0xffff);
}

/* The C API name of a symbol: a symbol starting with '_' that a public
 * macro expands to (_PyObject_New, _Py_BuildValue_SizeT,
 * _PyArg_ParseTuple_SizeT) is named by the macro (PyObject_New,
 * Py_BuildValue, PyArg_ParseTuple) when the knowledge base knows that name;
 * any other symbol is its own name. */
static void rt_plain_name(const kb *k, const char *sym, char *out, size_t len)
{
    snprintf(out, len, "%s", sym);
    if (sym[0] != '_' || !k)
        return;
    char cand[96];
    snprintf(cand, sizeof cand, "%s", sym + 1);
    size_t n = strlen(cand);
    if (n > 6 && !strcmp(cand + n - 6, "_SizeT"))
        cand[n - 6] = 0;
    if (kb_lookup(k, cand))
        snprintf(out, len, "%s", cand);
}

/* NAME of the plan matches the call: the symbol or its C API name. */
static bool rt_name_matches(const char *plan, const rt_count *ct)
{
    return !strcmp(plan, ct->name) || !strcmp(plan, ct->plain);
}

/* The counter of API name (created on first use). */
static rt_count *rt_counter(rt_ctx *c, const char *name)
{
    for (int i = 0; i < c->ncounts; i++)
        if (c->counts[i].name == name || !strcmp(c->counts[i].name, name))
            return &c->counts[i];
    if (c->ncounts == c->capcounts) {
        int ncap = c->capcounts ? c->capcounts * 2 : 64;
        rt_count *n = realloc(c->counts, (size_t)ncap * sizeof *n);
        if (!n)
            rt_die("out of memory");
        c->counts = n;
        c->capcounts = ncap;
    }
    rt_count *ct = &c->counts[c->ncounts++];
    ct->name = name;
    rt_plain_name(c->kb, name, ct->plain, sizeof ct->plain);
    ct->n = 0;
    return ct;
}

void rt_fault_reset(rt_ctx *c)
{
    for (int i = 0; i < c->ncounts; i++)
        c->counts[i].n = 0;
    c->fallible = 0;
}

static bool rt_fallible(const kb_entry *e)
{
    return e && e->fail != KB_FAIL_NEVER;
}

bool rt_enter(const char *name, void *site, bool not_fallible)
{
    rt_ctx *c = rt_state();
    if (!c->inited)
        prt_init();
    rt_count *ct = rt_counter(c, name);
    c->cur_api = ct->plain;
    c->cur_site = site;
    if (!c->in_call) {
        /* set-up before prt_call_begin: never fails, not numbered */
        c->cur_api_n = 0;
        return false;
    }
    long n = ++ct->n;
    c->cur_api_n = (int)n;
    const kb_entry *e = c->kb ? kb_lookup(c->kb, name) : NULL;
    if (not_fallible || !rt_fallible(e))
        return false;
    long k = ++c->fallible;
    if (c->trace)
        rt_out("prt: call %ld %s site=%p", k, ct->plain, site);
    for (int i = 0; i < c->nfaults; i++) {
        const rt_fault_item *f = &c->faults[i];
        bool hit = f->name[0] ? (f->n == n && rt_name_matches(f->name, ct)) : f->n == k;
        if (hit) {
            if (c->trace)
                rt_out("prt: fault %ld %s site=%p", k, ct->plain, site);
            return true;
        }
    }
    return false;
}

static void rt_fail_exc(const char *name)
{
    rt_ctx *c = rt_state();
    const kb_entry *e = c->kb ? kb_lookup(c->kb, name) : NULL;
    if (e && e->fail_sets_exc) {
        rt_err_clear();
        rt_err_nomem();
    }
}

PyObject *rt_fail_ptr(const char *name)
{
    rt_fail_exc(name);
    return NULL;
}

int rt_fail_int(const char *name)
{
    rt_ctx *c = rt_state();
    const kb_entry *e = c->kb ? kb_lookup(c->kb, name) : NULL;
    rt_fail_exc(name);
    if (e && e->fail == KB_FAIL_ZERO)
        return 0;
    return -1;
}
