/* report.c - collects findings and errors from worker threads, orders and
 * de-duplicates them, and computes fingerprint hashes. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

void pr_init(pr_report *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    pa_init(&r->arena, 0);
}

void pr_free(pr_report *r)
{
    pa_release(&r->arena);
    pthread_mutex_destroy(&r->lock);
}

static src_loc pr_copy_loc(pr_report *r, src_loc l)
{
    if (l.file)
        l.file = pa_strdup(&r->arena, l.file);
    return l;
}

/* Copies n steps into r's arena (never NULL unless the arena failed). */
static pr_step *pr_copy_steps(pr_report *r, const pr_step *steps, int n)
{
    pr_step *c = pa_alloc(&r->arena, (size_t)(n ? n : 1) * sizeof *c);
    for (int i = 0; i < n && !pa_failed(&r->arena); i++) {
        c[i].loc = pr_copy_loc(r, steps[i].loc);
        c[i].message = pa_strdup(&r->arena, steps[i].message);
        c[i].refs = steps[i].refs;
    }
    return c;
}

int pr_add_finding(pr_report *r, const pr_finding *f)
{
    pthread_mutex_lock(&r->lock);
    int rc = -1;
    if (r->nfindings == r->cap_findings) {
        int ncap = r->cap_findings ? r->cap_findings * 2 : 64;
        pr_finding *nf = pa_grow(&r->arena, r->findings, (size_t)r->nfindings, (size_t)ncap, sizeof *nf);
        if (pa_failed(&r->arena))
            goto done;
        r->findings = nf;
        r->cap_findings = ncap;
    }
    pr_finding *c = &r->findings[r->nfindings];
    *c = *f;
    c->rule = pa_strdup(&r->arena, f->rule);
    c->severity = pa_strdup(&r->arena, f->severity ? f->severity : "warning");
    c->loc = pr_copy_loc(r, f->loc);
    c->function = pa_strdup(&r->arena, f->function);
    c->message = pa_strdup(&r->arena, f->message);
    c->validation = f->validation ? pa_strdup(&r->arena, f->validation) : NULL;
    c->steps = pr_copy_steps(r, f->steps, f->nsteps);
    c->other_paths = NULL;
    c->nother_paths = 0;
    if (f->nother_paths > 0) {
        c->other_paths = pa_alloc(&r->arena, (size_t)f->nother_paths * sizeof *c->other_paths);
        for (int i = 0; i < f->nother_paths && !pa_failed(&r->arena); i++) {
            c->other_paths[i].steps = pr_copy_steps(r, f->other_paths[i].steps,
                                                    f->other_paths[i].nsteps);
            c->other_paths[i].nsteps = f->other_paths[i].nsteps;
        }
        c->nother_paths = f->nother_paths;
    }
    if (pa_failed(&r->arena))
        goto done;
    r->nfindings++;
    rc = 0;
done:
    pthread_mutex_unlock(&r->lock);
    return rc;
}

int pr_add_error(pr_report *r, const char *file, int file_index, const char *message)
{
    pthread_mutex_lock(&r->lock);
    int rc = -1;
    if (r->nerrors == r->cap_errors) {
        int ncap = r->cap_errors ? r->cap_errors * 2 : 16;
        pr_error *ne = pa_grow(&r->arena, r->errors, (size_t)r->nerrors, (size_t)ncap, sizeof *ne);
        if (pa_failed(&r->arena))
            goto done;
        r->errors = ne;
        r->cap_errors = ncap;
    }
    pr_error *e = &r->errors[r->nerrors];
    e->file = pa_strdup(&r->arena, file);
    e->message = pa_strdup(&r->arena, message);
    e->file_index = file_index;
    if (pa_failed(&r->arena))
        goto done;
    r->nerrors++;
    rc = 0;
done:
    pthread_mutex_unlock(&r->lock);
    return rc;
}

int pr_add_incomplete(pr_report *r, const char *file, const char *function, src_loc loc,
                      const char *reason)
{
    pthread_mutex_lock(&r->lock);
    int rc = -1;
    if (r->nincomplete == r->cap_incomplete) {
        int ncap = r->cap_incomplete ? r->cap_incomplete * 2 : 16;
        pr_incomplete *ni = pa_grow(&r->arena, r->incomplete, (size_t)r->nincomplete, (size_t)ncap,
                                    sizeof *ni);
        if (pa_failed(&r->arena))
            goto done;
        r->incomplete = ni;
        r->cap_incomplete = ncap;
    }
    pr_incomplete *e = &r->incomplete[r->nincomplete];
    e->file = pa_strdup(&r->arena, file);
    e->function = pa_strdup(&r->arena, function);
    e->reason = pa_strdup(&r->arena, reason);
    e->loc = pr_copy_loc(r, loc);
    if (pa_failed(&r->arena))
        goto done;
    r->nincomplete++;
    rc = 0;
done:
    pthread_mutex_unlock(&r->lock);
    return rc;
}

int pr_add_function(pr_report *r, const char *file, const char *name, unsigned line,
                    const char *body_hash, const char *reason)
{
    pthread_mutex_lock(&r->lock);
    int rc = -1;
    if (r->nfunctions == r->cap_functions) {
        int ncap = r->cap_functions ? r->cap_functions * 2 : 64;
        pr_function *nf = pa_grow(&r->arena, r->functions, (size_t)r->nfunctions, (size_t)ncap, sizeof *nf);
        if (pa_failed(&r->arena))
            goto done;
        r->functions = nf;
        r->cap_functions = ncap;
    }
    pr_function *f = &r->functions[r->nfunctions];
    f->file = pa_strdup(&r->arena, file);
    f->name = pa_strdup(&r->arena, name);
    f->line = line;
    snprintf(f->body_hash, sizeof f->body_hash, "%s", body_hash ? body_hash : "");
    f->reason = reason ? pa_strdup(&r->arena, reason) : NULL;
    if (pa_failed(&r->arena))
        goto done;
    r->nfunctions++;
    rc = 0;
done:
    pthread_mutex_unlock(&r->lock);
    return rc;
}

void pr_add_stats(pr_report *r, const pr_stats *s)
{
    pthread_mutex_lock(&r->lock);
    r->stats.files += s->files;
    r->stats.files_skipped += s->files_skipped;
    r->stats.files_failed += s->files_failed;
    r->stats.functions += s->functions;
    r->stats.functions_incomplete += s->functions_incomplete;
    r->stats.cfg_blocks += s->cfg_blocks;
    r->stats.paths += s->paths;
    pthread_mutex_unlock(&r->lock);
}

static int pr_cmp_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int pr_cmp_finding(const void *pa, const void *pb)
{
    const pr_finding *a = pa, *b = pb;
    if (a->file_index != b->file_index)
        return a->file_index < b->file_index ? -1 : 1;
    int c = pr_cmp_str(a->loc.file, b->loc.file);
    if (c)
        return c;
    if (a->loc.line != b->loc.line)
        return a->loc.line < b->loc.line ? -1 : 1;
    if (a->loc.col != b->loc.col)
        return a->loc.col < b->loc.col ? -1 : 1;
    c = pr_cmp_str(a->rule, b->rule);
    if (c)
        return c;
    return pr_cmp_str(a->message, b->message);
}

static int pr_cmp_error(const void *pa, const void *pb)
{
    const pr_error *a = pa, *b = pb;
    if (a->file_index != b->file_index)
        return a->file_index < b->file_index ? -1 : 1;
    return pr_cmp_str(a->file, b->file);
}

void pr_sort(pr_report *r)
{
    if (r->nfindings > 1)
        qsort(r->findings, (size_t)r->nfindings, sizeof *r->findings, pr_cmp_finding);
    int out = 0;
    for (int i = 0; i < r->nfindings; i++) {
        if (out > 0 && pr_cmp_finding(&r->findings[out - 1], &r->findings[i]) == 0)
            continue;
        r->findings[out++] = r->findings[i];
    }
    r->nfindings = out;
    if (r->nerrors > 1)
        qsort(r->errors, (size_t)r->nerrors, sizeof *r->errors, pr_cmp_error);
}

void pr_fingerprint_hex(const char *text, char out[17])
{
    unsigned long long h = 14695981039346656037ULL;   /* FNV-1a 64 offset basis */
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = hex[h & 15];
        h >>= 4;
    }
    out[16] = '\0';
}

bool pr_suppression_matches(const char *line, const char *rule)
{
    const char *p = line;
    while ((p = strstr(p, "pyrefcheck:")) != NULL) {
        p += strlen("pyrefcheck:");
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, "ignore", 6) != 0)
            continue;
        p += 6;
        if (*p != '[')
            return true;                /* every rule */
        p++;
        size_t rl = strlen(rule);
        for (;;) {
            while (*p == ' ' || *p == '\t' || *p == ',')
                p++;
            if (!*p || *p == ']')
                break;
            const char *s = p;
            while (*p && *p != ',' && *p != ']' && *p != ' ' && *p != '\t')
                p++;
            if ((size_t)(p - s) == rl && strncmp(s, rule, rl) == 0)
                return true;
        }
    }
    return false;
}

int pr_filter(pr_report *r, bool (*keep)(void *ctx, const pr_finding *f), void *ctx)
{
    int out = 0;
    for (int i = 0; i < r->nfindings; i++)
        if (keep(ctx, &r->findings[i]))
            r->findings[out++] = r->findings[i];
    int removed = r->nfindings - out;
    r->nfindings = out;
    return removed;
}
