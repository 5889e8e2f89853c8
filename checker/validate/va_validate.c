/* va_validate.c - the validation driver: for each finding, runs the
 * finding's function in its file's harness under fault plans (the one its
 * path implies first, then no fault and each single fault) and argument
 * choices, in child processes, and classifies the finding as confirmed
 * (with a witness), not-reproduced or unsupported; and the ground-truth
 * mode that runs every function of a file under every single fault. */
#define _GNU_SOURCE 1
#include "va_internal.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/strbuf.h"

void va_options_default(va_options *o)
{
    memset(o, 0, sizeof *o);
    o->timeout = 5;
    o->mem_limit_mb = 2048;
    o->max_faults = 24;
    o->max_attempts = 60;
}

const char *va_status_word(const char *validation, char *buf, size_t len)
{
    if (!validation)
        return NULL;
    size_t n = strcspn(validation, ": ");
    if (n >= len)
        n = len - 1;
    memcpy(buf, validation, n);
    buf[n] = 0;
    return buf;
}

static double va_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- one attempt --------------------------------------------------------- */

/* Trace lines kept per run (a loop may make millions of calls). */
enum { VA_MAX_CALLS = 4096 };

typedef struct va_call {
    int k;                  /* K: its number among fallible calls */
    char name[96];
    unsigned long site;
    int line;               /* source line of the site in the file under test, or 0 */
} va_call;

typedef struct va_result {
    char *key;              /* "function|choice|faults" */
    bool finished;          /* reached prt_call_end ("ok" or problems) */
    int signal;             /* killed by it (SIGKILL: timeout) */
    bool timed_out;
    bool setup_failed;
    bool init_unsupported;  /* the module's PyInit_ (set-up) hit a missing API */
    bool null_arg;          /* an API received NULL (its site is among the frames) */
    char unsupported[128];  /* API the runtime lacks, or "" */
    char **outcomes;        /* "leak PyList ...": outcome lines without "prt: " */
    int noutcomes;
    unsigned long frames[24]; /* crash frames (harness addresses) */
    int nframes;
    int frame_lines[24];    /* their source lines in the file under test, 0 elsewhere */
    va_call *calls;         /* trace (PRT_TRACE=1 runs) */
    int ncalls;
} va_result;

/* Per-file state: the harness, its shapes, the results of attempts made so
 * far (findings in the same function share them), and line lookups. */
typedef struct va_file {
    const va_options *o;
    const char *path;       /* as in the findings */
    char abs[4096];
    va_shapes shapes;
    va_harness h;
    va_result **results;    /* each malloc'ed: pointers stay valid */
    int nresults;
    unsigned long *addr_keys; /* address -> source line cache */
    int *addr_lines;
    int naddr;
    long attempts;
    bool no_init;           /* the module's init cannot run: harnesses skip it */
    bool no_tpinit;         /* nor can tp_init when self is made: skipped */
} va_file;

static void va_result_free(va_result *r)
{
    free(r->key);
    for (int i = 0; i < r->noutcomes; i++)
        free(r->outcomes[i]);
    free(r->outcomes);
    free(r->calls);
}

/* Source line of each address in the file under test (0 elsewhere). */
static void va_map_lines(va_file *vf, const unsigned long *addrs, int n, int *lines)
{
    unsigned long *todo = malloc(sizeof *todo * (size_t)(n ? n : 1));
    int ntodo = 0;
    for (int i = 0; i < n; i++) {
        lines[i] = -1;
        for (int k = 0; k < vf->naddr; k++)
            if (vf->addr_keys[k] == addrs[i])
                lines[i] = vf->addr_lines[k];
        bool dup = false;
        for (int k = 0; k < ntodo && !dup; k++)
            dup = todo[k] == addrs[i];
        if (lines[i] < 0 && todo && !dup)
            todo[ntodo++] = addrs[i];
    }
    char **mapped = NULL;
    if (ntodo && va_addr2line(vf->o, &vf->h, todo, ntodo, &mapped) == 0) {
        unsigned long *nk = realloc(vf->addr_keys, sizeof *nk * (size_t)(vf->naddr + ntodo));
        if (nk)
            vf->addr_keys = nk;
        int *nl = realloc(vf->addr_lines, sizeof *nl * (size_t)(vf->naddr + ntodo));
        if (nl)
            vf->addr_lines = nl;
        const char *base = va_basename(vf->abs);
        for (int i = 0; i < ntodo; i++) {
            int line = 0;
            char *colon = strrchr(mapped[i], ':');
            if (colon) {
                *colon = 0;
                if (strcmp(mapped[i], vf->abs) == 0 || strcmp(va_basename(mapped[i]), base) == 0)
                    line = atoi(colon + 1);
            }
            free(mapped[i]);
            if (nk && nl) {
                vf->addr_keys[vf->naddr] = todo[i];
                vf->addr_lines[vf->naddr++] = line;
            }
            for (int k = 0; k < n; k++)
                if (lines[k] < 0 && addrs[k] == todo[i])
                    lines[k] = line;
        }
        free(mapped);
    }
    for (int i = 0; i < n; i++)
        if (lines[i] < 0)
            lines[i] = 0;
    free(todo);
}

static void va_parse_output(va_file *vf, const char *out, va_result *r)
{
    for (const char *p = out; *p;) {
        size_t len = strcspn(p, "\n");
        char line[512];
        size_t n = len < sizeof line - 1 ? len : sizeof line - 1;
        memcpy(line, p, n);
        line[n] = 0;
        p += len;
        if (*p == '\n')
            p++;
        if (strncmp(line, "prt-va: frame 0x", 16) == 0) {
            if (r->nframes < 24)
                r->frames[r->nframes++] = strtoul(line + 16, NULL, 16);
            continue;
        }
        if (strncmp(line, "prt-va: setup failed", 20) == 0) {
            r->setup_failed = true;
            continue;
        }
        if (strcmp(line, "prt-va: init") == 0 || strcmp(line, "prt-va: init done") == 0) {
            r->init_unsupported = line[12] == 0;    /* cleared by "init done" */
            continue;
        }
        if (strncmp(line, "prt: ", 5) != 0)
            continue;
        const char *body = line + 5;
        if (strncmp(body, "call ", 5) == 0) {
            if (r->ncalls >= VA_MAX_CALLS)
                continue;
            va_call c = { 0 };
            char *s = strstr(body, "site=0x");
            if (sscanf(body + 5, "%d %95s", &c.k, c.name) != 2)
                continue;
            c.site = s ? strtoul(s + 7, NULL, 16) : 0;
            va_call *nc = realloc(r->calls, sizeof *nc * (size_t)(r->ncalls + 1));
            if (nc) {
                r->calls = nc;
                r->calls[r->ncalls++] = c;
            }
        } else if (strncmp(body, "null-argument ", 14) == 0) {
            const char *s = strstr(body, "site=0x");
            if (s && r->nframes < 24) {
                r->frames[r->nframes++] = strtoul(s + 7, NULL, 16);
                r->null_arg = true;
            }
        } else if (strncmp(body, "unsupported ", 12) == 0) {
            snprintf(r->unsupported, sizeof r->unsupported, "%.120s", body + 12);
        } else if (strcmp(body, "ok") == 0) {
            r->finished = true;
        } else if (strncmp(body, "leak ", 5) == 0 || strncmp(body, "use-after-release", 17) == 0 ||
                   strncmp(body, "negative-refcount", 17) == 0 ||
                   strncmp(body, "borrowed-return", 15) == 0 ||
                   strncmp(body, "null-without-exception", 22) == 0) {
            char **no = realloc(r->outcomes, sizeof *no * (size_t)(r->noutcomes + 1));
            if (no) {
                r->outcomes = no;
                if ((r->outcomes[r->noutcomes] = strdup(body)) != NULL)
                    r->noutcomes++;
            }
            r->finished = r->finished || strncmp(body, "use-after-release", 17) != 0;
        }
    }
    /* source lines of the trace sites and crash frames */
    int nadd = r->ncalls + r->nframes;
    unsigned long *addrs = malloc(sizeof *addrs * (size_t)(nadd ? nadd : 1));
    int *lines = malloc(sizeof *lines * (size_t)(nadd ? nadd : 1));
    if (addrs && lines && nadd) {
        for (int i = 0; i < r->ncalls; i++)
            addrs[i] = r->calls[i].site;
        for (int i = 0; i < r->nframes; i++)
            addrs[r->ncalls + i] = r->frames[i];
        va_map_lines(vf, addrs, nadd, lines);
        for (int i = 0; i < r->ncalls; i++)
            r->calls[i].line = lines[i];
        for (int i = 0; i < r->nframes; i++)
            r->frame_lines[i] = lines[r->ncalls + i];
    }
    free(addrs);
    free(lines);
}

/* Runs f with argument choice ch and fault plan faults (memoised).
 * Returns the result (owned by vf), or NULL when the child could not be
 * started. */
static const va_result *va_attempt(va_file *vf, const va_func *f, int ch, const char *faults)
{
    char key[512];
    snprintf(key, sizeof key, "%s|%d|%s", f->name, ch, faults);
    for (int i = 0; i < vf->nresults; i++)
        if (strcmp(vf->results[i]->key, key) == 0)
            return vf->results[i];
    const char *argv[4 + VA_MAX_KINDS];
    int n = 0;
    argv[n++] = vf->h.exe;
    argv[n++] = f->name;
    for (int k = 0; k < f->nkinds[ch]; k++)
        argv[n++] = f->kinds[ch][k];
    argv[n] = NULL;
    char rules[4200], plan[600];
    snprintf(rules, sizeof rules, "PRT_RULES_DIR=%s", vf->o->rules_dir ? vf->o->rules_dir : "");
    snprintf(plan, sizeof plan, "PRT_FAULTS=%s", faults);
    const char *env[] = { rules, plan, "PRT_TRACE=1", "PRT_OUT=2",
                          "ASAN_OPTIONS=detect_leaks=0:abort_on_error=0", NULL, NULL, NULL };
    va_child c;
    char err[256];
    const char *env_tpinit = "VAH_NO_TPINIT=1";
again:
    env[5] = vf->no_init ? "VAH_NO_INIT=1" : vf->no_tpinit ? env_tpinit : NULL;
    env[6] = vf->no_init && vf->no_tpinit ? env_tpinit : NULL;
    if (va_spawn(argv, env, vf->o->timeout, vf->o->mem_limit_mb, &c, err, sizeof err) != 0)
        return NULL;
    vf->attempts++;
    if (!vf->no_init && strstr(c.out, "prt-va: init\n") && !strstr(c.out, "prt-va: init done\n")) {
        /* the module's init needs an API the runtime lacks, or crashed, or
         * hung: run without it */
        free(c.out);
        vf->no_init = true;
        goto again;
    }
    if (!vf->no_tpinit && strstr(c.out, "prt-va: tpinit\n") && !strstr(c.out, "prt-va: tpinit done\n")) {
        /* making self: its tp_init cannot run here either */
        free(c.out);
        vf->no_tpinit = true;
        goto again;
    }
    va_result *r = calloc(1, sizeof *r);
    va_result **nr = realloc(vf->results, sizeof *nr * (size_t)(vf->nresults + 1));
    if (nr)
        vf->results = nr;
    if (!r || !nr || !(r->key = strdup(key))) {
        free(c.out);
        free(r);
        return NULL;
    }
    r->signal = c.signal;
    r->timed_out = c.timed_out;
    va_parse_output(vf, c.out, r);
    if (c.exit_code == 3 && !r->unsupported[0])
        snprintf(r->unsupported, sizeof r->unsupported, "(runtime exit 3)");
    free(c.out);
    vf->results[vf->nresults++] = r;
    return r;
}

/* ---- what counts as the finding's error ---------------------------------- */

/* The API a leak finding names ("new reference from PyObject_GetIter()"),
 * when the knowledge base describes it (a helper of the file is not what
 * the runtime records as the allocator). */
static void va_leak_api(const va_options *o, const pr_finding *f, char *api, size_t len)
{
    api[0] = 0;
    const char *p = f->message ? strstr(f->message, " from ") : NULL;
    if (!p)
        return;
    p += 6;
    size_t n = strcspn(p, "( ");
    if (n == 0 || n >= len || p[n] != '(')
        return;
    memcpy(api, p, n);
    api[n] = 0;
    const kb_entry *e = o->kb ? kb_lookup(o->kb, api) : NULL;
    if (!e || e->summary || e->is_macro)
        api[0] = 0;
}

/* Whether outcome line s (without "prt: ") is an error of rule. */
static bool va_outcome_is(const char *s, const char *rule)
{
    if (strcmp(rule, "leak") == 0)
        return strncmp(s, "leak ", 5) == 0;
    if (strcmp(rule, "use-after-release") == 0)
        return strncmp(s, "use-after-release", 17) == 0 || strncmp(s, "negative-refcount", 17) == 0;
    if (strcmp(rule, "over-release") == 0)        /* a count one short on the returned object
                                                     reads as a borrowed return: Py_DECREF(Py_None);
                                                     Py_RETURN_NONE; */
        return strncmp(s, "use-after-release", 17) == 0 || strncmp(s, "negative-refcount", 17) == 0 ||
               strncmp(s, "borrowed-return", 15) == 0;
    if (strcmp(rule, "borrowed-return") == 0)       /* None and other long-lived objects
                                                       are not freed: their count goes negative */
        return strncmp(s, "borrowed-return", 15) == 0 || strncmp(s, "negative-refcount", 17) == 0;
    if (strcmp(rule, "null-without-exception") == 0)
        return strncmp(s, "null-without-exception", 22) == 0;
    return false;
}

static bool va_crashed(const va_result *r)
{
    return !r->timed_out && (r->signal == SIGSEGV || r->signal == SIGBUS);
}

/* Whether r shows f's error: the rule's outcome on the object it names
 * (leaks: allocated by the API the finding names), or for null-deref a
 * crash with a frame on the finding's line, or NULL given to an API
 * called from that line. */
static bool va_confirms(const va_file *vf, const pr_finding *f, const va_result *r)
{
    if (strcmp(f->rule, "null-deref") == 0) {
        if (!va_crashed(r) && !r->null_arg)
            return false;
        for (int i = 0; i < r->nframes; i++)
            if (r->frame_lines[i] == (int)f->loc.line)
                return true;
        return false;
    }
    char api[96];
    if (strcmp(f->rule, "leak") == 0)
        va_leak_api(vf->o, f, api, sizeof api);
    else
        api[0] = 0;
    for (int i = 0; i < r->noutcomes; i++) {
        if (!va_outcome_is(r->outcomes[i], f->rule))
            continue;
        if (!api[0])
            return true;
        const char *by = strstr(r->outcomes[i], "allocated-by ");
        size_t n = strlen(api);
        if (by && strncmp(by + 13, api, n) == 0 && (by[13 + n] == '#' || by[13 + n] == ' '))
            return true;
        /* PyArg_ParseTuple -> _PyArg_ParseTuple_SizeT and the like */
        if (by && by[13] == '_' && strncmp(by + 14, api, n) == 0)
            return true;
        /* a macro over a versioned function: PyModule_Create -> PyModule_Create2 */
        if (by && strncmp(by + 13, api, n) == 0 && by[13 + n] >= '0' && by[13 + n] <= '9' &&
            by[14 + n] == '#')
            return true;
        /* the API returned its argument with a new reference (PyNumber_Index
         * of an int): the argument's count stays raised */
        if (by && strncmp(by + 13, "prt_arg#", 8) == 0)
            return true;
    }
    return false;
}

/* ---- fault plans ---------------------------------------------------------- */

/* Whether a path step says a call failed or returned NULL. */
static bool va_step_fails(const char *m)
{
    return m && (strstr(m, "fail") || strstr(m, "returns NULL") || strstr(m, "error branch") ||
                 strstr(m, "is NULL"));
}

/* The plan the path implies: the fallible calls of the trace whose site is
 * on a line where the path says a call failed, as "NAME:N" items (N-th
 * call of that API in the trace).  Writes "" when there is none. */
static void va_path_plan(const pr_finding *f, const va_result *trace, char *plan, size_t len)
{
    plan[0] = 0;
    size_t used = 0;
    for (int c = 0; c < trace->ncalls; c++) {
        const va_call *call = &trace->calls[c];
        if (call->line <= 0)
            continue;
        bool on_path = false;
        for (int s = 0; s < f->nsteps && !on_path; s++)
            on_path = f->steps[s].loc.line == (unsigned)call->line && va_step_fails(f->steps[s].message);
        if (!on_path && va_step_fails(f->message) && f->loc.line == (unsigned)call->line)
            on_path = true;
        if (!on_path)
            continue;
        bool again = false;     /* a loop: the first call on that line is the one */
        for (int k = 0; k < c && !again; k++)
            again = trace->calls[k].line == call->line && strcmp(trace->calls[k].name, call->name) == 0;
        if (again)
            continue;
        int nth = 0;
        for (int k = 0; k <= c; k++)
            nth += strcmp(trace->calls[k].name, call->name) == 0;
        int w = snprintf(plan + used, len - used, "%s%s:%d", used ? "," : "", call->name, nth);
        if (w < 0 || (size_t)w >= len - used) {
            plan[used] = 0;
            break;
        }
        used += (size_t)w;
    }
}

/* Number of fallible calls of a trace made by the file under test. */
static int va_calls_in_file(const va_result *r, int *ks, int max)
{
    int n = 0;
    for (int i = 0; i < r->ncalls && n < max; i++)
        if (r->calls[i].line > 0)
            ks[n++] = r->calls[i].k;
    return n;
}

/* ---- per finding ----------------------------------------------------------- */

static const char *va_rules_supported[] = { "leak", "use-after-release", "over-release",
                                            "borrowed-return", "null-deref",
                                            "null-without-exception" };

static char *va_witness(const va_file *vf, const va_func *fn, int ch, const char *faults)
{
    sb_buf b = { 0 };
    sb_printf(&b, "confirmed: %s(", fn->name);
    int nflags = 0;             /* set-up flags lead the kinds */
    while (nflags < fn->nkinds[ch] && fn->kinds[ch][nflags][0] == '+')
        nflags++;
    for (int k = nflags; k < fn->nkinds[ch]; k++)
        sb_printf(&b, "%s%s", k > nflags ? ", " : "", fn->kinds[ch][k]);
    sb_puts(&b, ")");
    for (int k = 0; k < nflags; k++)
        sb_printf(&b, " %s", fn->kinds[ch][k]);
    sb_printf(&b, " faults=%s; reproduce: PRT_RULES_DIR=%s PRT_FAULTS='%s' %s %s", *faults ? faults : "none",
              vf->o->rules_dir ? vf->o->rules_dir : "", faults, vf->h.exe, fn->name);
    for (int k = 0; k < fn->nkinds[ch]; k++)
        sb_printf(&b, " %s", fn->kinds[ch][k]);
    char *s = strdup(sb_str(&b));
    sb_free(&b);
    return s;
}

/* Validates one finding.  Returns its status string (malloc'ed). */
static char *va_one(va_file *vf, const pr_finding *f)
{
    bool rule_ok = false;
    for (size_t i = 0; i < sizeof va_rules_supported / sizeof *va_rules_supported; i++)
        rule_ok = rule_ok || strcmp(va_rules_supported[i], f->rule) == 0;
    char buf[600];
    if (!rule_ok) {
        snprintf(buf, sizeof buf, "unsupported: rule %s", f->rule);
        return strdup(buf);
    }
    const va_func *fn = va_shapes_find(&vf->shapes, f->function);
    if (!fn) {
        snprintf(buf, sizeof buf, "unsupported: no function '%s' in the file", f->function ? f->function : "");
        return strdup(buf);
    }
    if (fn->unsupported) {
        snprintf(buf, sizeof buf, "unsupported: cannot call %s: %s", fn->name, fn->unsupported);
        return strdup(buf);
    }
    int budget = vf->o->max_attempts;
    const char *unsupported = NULL;
    int setup_failed = 0, ran = 0;
    /* 1. no fault (traced) and the path's plan, for every argument choice */
    for (int ch = 0; ch < fn->nchoices && budget > 0; ch++) {
        const va_result *t = va_attempt(vf, fn, ch, "");
        budget--;
        if (!t)
            continue;
        if (t->unsupported[0] && !unsupported)
            unsupported = t->unsupported;
        setup_failed += t->setup_failed;
        ran += !t->setup_failed && !t->unsupported[0];
        if (va_confirms(vf, f, t))
            return va_witness(vf, fn, ch, "");
        char plan[400];
        va_path_plan(f, t, plan, sizeof plan);
        if (!plan[0])
            continue;
        const va_result *r = va_attempt(vf, fn, ch, plan);
        budget--;
        if (r && va_confirms(vf, f, r))
            return va_witness(vf, fn, ch, plan);
        if (r && r->unsupported[0] && !unsupported)
            unsupported = r->unsupported;
        ran += r && !r->setup_failed && !r->unsupported[0];
    }
    /* 2. each single fault of the file's calls */
    for (int ch = 0; ch < fn->nchoices && budget > 0; ch++) {
        const va_result *t = va_attempt(vf, fn, ch, "");
        if (!t)
            continue;
        int ks[256];
        int n = va_calls_in_file(t, ks, vf->o->max_faults < 256 ? vf->o->max_faults : 256);
        for (int i = 0; i < n && budget > 0; i++) {
            char plan[32];
            snprintf(plan, sizeof plan, "#%d", ks[i]);
            const va_result *r = va_attempt(vf, fn, ch, plan);
            budget--;
            if (!r)
                continue;
            if (va_confirms(vf, f, r))
                return va_witness(vf, fn, ch, plan);
            if (r->unsupported[0] && !unsupported)
                unsupported = r->unsupported;
            ran += !r->setup_failed && !r->unsupported[0];
        }
    }
    if (unsupported) {
        snprintf(buf, sizeof buf, "unsupported: %s", unsupported);
        return strdup(buf);
    }
    if (!ran && setup_failed) {
        snprintf(buf, sizeof buf, "unsupported: cannot build the arguments of %s", fn->name);
        return strdup(buf);
    }
    return strdup("not-reproduced");
}

static int va_file_open(va_file *vf, const va_options *o, fe_context *fe, const char *path,
                        char *err, size_t errlen, char **file_error)
{
    memset(vf, 0, sizeof *vf);
    vf->o = o;
    vf->path = path;
    *file_error = NULL;
    if (!realpath(path, vf->abs))
        snprintf(vf->abs, sizeof vf->abs, "%s", path);
    fe_tu *tu = NULL;
    char perr[512] = "";
    int prc = fe_parse(fe, path, &tu, perr, sizeof perr);
    if (prc != 0) {
        size_t n = strlen(perr) + 40;
        *file_error = malloc(n);
        if (*file_error)
            snprintf(*file_error, n, "unsupported: file does not parse: %s", perr);
        return 1;
    }
    int src = va_shapes_read(&vf->shapes, tu, o->kb);
    fe_tu_free(tu);
    if (src != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char **pp = NULL;           /* the compile database's -I/-D for this file */
    int npp = fe_compile_pp_args(fe, path, &pp);
    int brc = va_harness_build(o, path, (const char *const *)pp, npp > 0 ? npp : 0, &vf->shapes,
                               &vf->h, err, errlen);
    fe_free_list(pp, npp > 0 ? npp : 0);
    if (brc < 0)
        return -1;
    if (brc > 0) {
        size_t n = strlen(vf->h.error ? vf->h.error : "") + 20;
        *file_error = malloc(n);
        if (*file_error)
            snprintf(*file_error, n, "unsupported: %s", vf->h.error ? vf->h.error : "build failed");
        return 1;
    }
    return 0;
}

static void va_file_close(va_file *vf)
{
    for (int i = 0; i < vf->nresults; i++) {
        va_result_free(vf->results[i]);
        free(vf->results[i]);
    }
    free(vf->results);
    free(vf->addr_keys);
    free(vf->addr_lines);
    free(vf->h.error);
    va_shapes_free(&vf->shapes);
}

static void va_count(va_totals *t, const char *status)
{
    char w[32];
    va_status_word(status, w, sizeof w);
    if (strcmp(w, "confirmed") == 0)
        t->confirmed++;
    else if (strcmp(w, "unsupported") == 0)
        t->unsupported++;
    else
        t->not_reproduced++;
}

int va_validate_report(const va_options *o, pr_report *r, va_totals *t, char *err, size_t errlen)
{
    double t0 = va_now();
    va_totals local = { 0 };
    fe_context *fe = fe_open(o->fe, err, errlen);
    if (!fe)
        return -1;
    int rc = 0;
    for (int i = 0; i < r->nfindings && rc == 0;) {
        const char *file = r->findings[i].loc.file;
        int j = i;
        while (j < r->nfindings && r->findings[j].loc.file && file &&
               strcmp(r->findings[j].loc.file, file) == 0)
            j++;
        if (j == i)
            j = i + 1;
        bool any = false;
        for (int k = i; k < j; k++)
            any = any || (!r->findings[k].suppressed && !r->findings[k].validation);
        if (!any || !file) {
            i = j;
            continue;
        }
        if (o->log)
            fprintf(o->log, "pyrefcheck: validating %d finding%s of %s\n", j - i, j - i == 1 ? "" : "s", file);
        va_file vf;
        char *file_error = NULL;
        int frc = va_file_open(&vf, o, fe, file, err, errlen, &file_error);
        if (frc < 0)
            rc = -1;
        for (int k = i; k < j && rc == 0; k++) {
            pr_finding *f = &r->findings[k];
            if (f->suppressed || f->validation)     /* validated before (reused) */
                continue;
            char *status = frc > 0 ? strdup(file_error ? file_error : "unsupported: build failed") : va_one(&vf, f);
            if (!status) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            f->validation = pa_strdup(&r->arena, status);
            va_count(&local, status);
            free(status);
        }
        local.attempts += vf.attempts;
        free(file_error);
        va_file_close(&vf);
        i = j;
    }
    fe_close(fe);
    local.seconds = va_now() - t0;
    if (t) {
        t->confirmed += local.confirmed;
        t->not_reproduced += local.not_reproduced;
        t->unsupported += local.unsupported;
        t->attempts += local.attempts;
        t->seconds += local.seconds;
    }
    return rc;
}

/* ---- ground truth ------------------------------------------------------------ */

/* Rule ids an attempt shows (null-deref: a crash in the function's lines). */
/* The rules whose errors r shows inside fn.  NULL given to an API does not
 * count here: it confirms a null-deref finding at that very line, but alone
 * it may come from the set-up (a module global its init never filled). */
static void va_rules_shown(const va_func *fn, const va_result *r, bool shown[6])
{
    for (int i = 0; i < r->noutcomes; i++) {
        const char *s = r->outcomes[i];
        if (strncmp(s, "leak ", 5) == 0)
            shown[0] = true;
        else if (strncmp(s, "use-after-release", 17) == 0)
            shown[1] = true;
        else if (strncmp(s, "negative-refcount", 17) == 0)
            shown[2] = true;
        else if (strncmp(s, "borrowed-return", 15) == 0)
            shown[3] = true;
        else if (strncmp(s, "null-without-exception", 22) == 0)
            shown[5] = true;
    }
    if (va_crashed(r))
        for (int i = 0; i < r->nframes; i++)
            if (r->frame_lines[i] >= (int)fn->line && r->frame_lines[i] <= (int)fn->end_line)
                shown[4] = true;
}

int va_ground_truth(const va_options *o, const char *path, FILE *out, char *err, size_t errlen)
{
    fe_context *fe = fe_open(o->fe, err, errlen);
    if (!fe)
        return -1;
    va_file vf;
    char *file_error = NULL;
    int frc = va_file_open(&vf, o, fe, path, err, errlen, &file_error);
    fe_close(fe);
    if (frc != 0) {
        if (frc > 0)
            snprintf(err, errlen, "%s: %s", path, file_error ? file_error : "cannot be built");
        free(file_error);
        va_file_close(&vf);
        return -1;
    }
    static const char *const rule_ids[6] = { "leak", "use-after-release", "over-release",
                                             "borrowed-return", "null-deref", "null-without-exception" };
    for (int i = 0; i < vf.shapes.nfuncs; i++) {
        const va_func *fn = &vf.shapes.funcs[i];
        sb_buf b = { 0 };
        sb_puts(&b, "{\"function\": ");
        sb_json_str(&b, fn->name);
        sb_printf(&b, ", \"line\": %u, \"end_line\": %u, \"callable\": %s, \"slot\": ", fn->line,
                  fn->end_line, fn->callable ? "true" : "false");
        if (fn->slot)
            sb_json_str(&b, fn->slot);
        else
            sb_puts(&b, "null");
        /* [1]: shown only with self's fields filled by the harness (+fill),
         * a state the type's own code may never produce */
        bool shown[2][6] = { { 0 } };
        char *witness[2][6] = { { 0 } };
        const char *unsupported = fn->unsupported;
        int runs = 0;
        for (int ch = 0; !fn->unsupported && ch < fn->nchoices; ch++) {
            int synthetic = 0;
            for (int k = 0; k < fn->nkinds[ch]; k++)
                synthetic |= strcmp(fn->kinds[ch][k], "+fill") == 0;
            const va_result *t = va_attempt(&vf, fn, ch, "");
            if (!t)
                continue;
            int ks[256];
            int n = va_calls_in_file(t, ks, o->max_faults < 256 ? o->max_faults : 256);
            for (int p = -1; p < n; p++) {
                char plan[32] = "";
                if (p >= 0)
                    snprintf(plan, sizeof plan, "#%d", ks[p]);
                const va_result *r = p < 0 ? t : va_attempt(&vf, fn, ch, plan);
                if (!r)
                    continue;
                runs++;
                if (r->unsupported[0] && !unsupported)
                    unsupported = r->unsupported;
                bool now[6] = { 0 };
                va_rules_shown(fn, r, now);
                for (int k = 0; k < 6; k++)
                    if (now[k] && !shown[synthetic][k]) {
                        shown[synthetic][k] = true;
                        witness[synthetic][k] = va_witness(&vf, fn, ch, plan);
                    }
            }
        }
        sb_printf(&b, ", \"runs\": %d", runs);
        for (int syn = 0; syn < 2; syn++) {
            sb_puts(&b, syn ? ", \"rules_filled\": {" : ", \"rules\": {");
            int nr = 0;
            for (int k = 0; k < 6; k++)
                if (shown[syn][k] && (!syn || !shown[0][k])) {
                    sb_puts(&b, nr++ ? ", " : "");
                    sb_json_str(&b, rule_ids[k]);
                    sb_puts(&b, ": ");
                    sb_json_str(&b, witness[syn][k] ? witness[syn][k] : "");
                }
            sb_puts(&b, "}");
        }
        sb_puts(&b, ", \"unsupported\": ");
        if (unsupported)
            sb_json_str(&b, unsupported);
        else
            sb_puts(&b, "null");
        sb_puts(&b, "}\n");
        fputs(sb_str(&b), out);
        sb_free(&b);
        for (int k = 0; k < 12; k++)
            free(witness[k / 6][k % 6]);
    }
    free(file_error);
    va_file_close(&vf);
    return 0;
}
