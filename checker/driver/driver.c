/* driver.c - the analysis run: file collection, the worker pool, and the
 * per-file pipeline parse -> CFG -> engine. */
#include "driver.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../ir/cfg.h"

static int drv_push(drv_files *f, const char *path)
{
    if (f->n == f->cap) {
        int ncap = f->cap ? f->cap * 2 : 32;
        char **np = realloc(f->paths, (size_t)ncap * sizeof *np);
        if (!np)
            return -1;
        f->paths = np;
        f->cap = ncap;
    }
    f->paths[f->n] = strdup(path);
    if (!f->paths[f->n])
        return -1;
    f->n++;
    return 0;
}

static int drv_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool drv_skip_dir(const char *name)
{
    static const char *const skip[] = { "build", "_build", "dist", "node_modules", "__pycache__" };
    if (name[0] == '.')
        return true;
    if (strncmp(name, "build-", 6) == 0 || strncmp(name, "cmake-build", 11) == 0)
        return true;
    for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
        if (strcmp(name, skip[i]) == 0)
            return true;
    return false;
}

static int drv_walk(drv_files *files, const char *dir, int depth)
{
    if (depth > 64)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(names, (size_t)cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        names[n] = strdup(de->d_name);
        if (names[n])
            n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, (size_t)n, sizeof *names, drv_cmp_str);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        char *p = malloc(len);
        if (p) {
            snprintf(p, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
            /* symbolic links to directories are not followed (cycles) */
            struct stat st, lst;
            bool dir_link = lstat(p, &lst) == 0 && S_ISLNK(lst.st_mode) && stat(p, &st) == 0 &&
                            S_ISDIR(st.st_mode);
            if (!dir_link && stat(p, &st) == 0) {
                if (S_ISDIR(st.st_mode)) {
                    if (!drv_skip_dir(names[i]))
                        drv_walk(files, p, depth + 1);
                } else if (S_ISREG(st.st_mode)) {
                    size_t nl = strlen(names[i]);
                    if (nl > 2 && strcmp(names[i] + nl - 2, ".c") == 0 && drv_push(files, p) != 0)
                        rc = -1;
                }
            }
            free(p);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int drv_collect(drv_files *files, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: error: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        return drv_walk(files, path, 0);
    return drv_push(files, path);
}

void drv_files_free(drv_files *files)
{
    for (int i = 0; i < files->n; i++)
        free(files->paths[i]);
    free(files->paths);
    memset(files, 0, sizeof *files);
}

typedef struct drv_shared {
    const drv_options *o;
    const drv_files *files;
    pr_report *out;
    pthread_mutex_t lock;
    int next;               /* next file index to take */
    int started, todo;      /* files taken so far, files to analyse (progress line) */
    pthread_mutex_t dump_lock;
} drv_shared;

static double drv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Builds CFGs only (and dumps them when asked). */
static void drv_cfg_file(drv_shared *sh, fe_tu *tu, pr_stats *st)
{
    const drv_options *o = sh->o;
    int nf = fe_tu_func_count(tu);
    for (int i = 0; i < nf; i++) {
        if (o->dump_cfg && strcmp(o->dump_cfg, "*") != 0 &&
            strcmp(fe_tu_func_name(tu, i), o->dump_cfg) != 0)
            continue;
        pa_arena a;
        pa_init(&a, o->budget.max_bytes);
        ast_func *f = fe_tu_convert_func(tu, i, &a);
        cfg *g = f ? cfg_build(f, &a) : NULL;
        st->functions++;
        if (g) {
            st->cfg_blocks += g->nblocks;
            if (o->dump_cfg) {
                pthread_mutex_lock(&sh->dump_lock);
                if (o->dump_dot)
                    cfg_dump_dot(g, o->dump_out);
                else
                    cfg_dump(g, o->dump_out);
                pthread_mutex_unlock(&sh->dump_lock);
            }
        } else
            st->functions_incomplete++;
        pa_release(&a);
    }
}

/* Moves copies of everything in from (findings, errors, notes) to out, and
 * adds from's counters to *st.  A copy that fails for lack of memory becomes
 * an error of file idx (path), so its results are not stored as complete. */
static void drv_merge(pr_report *out, const pr_report *from, pr_stats *st, const char *path,
                      int idx)
{
    int failed = 0;
    for (int i = 0; i < from->nfindings; i++)
        failed |= pr_add_finding(out, &from->findings[i]);
    for (int i = 0; i < from->nerrors; i++)
        failed |= pr_add_error(out, from->errors[i].file, from->errors[i].file_index,
                               from->errors[i].message);
    for (int i = 0; i < from->nincomplete; i++) {
        const pr_incomplete *n = &from->incomplete[i];
        failed |= pr_add_incomplete(out, n->file, n->function, n->loc, n->reason);
    }
    for (int i = 0; i < from->nfunctions; i++) {
        const pr_function *f = &from->functions[i];
        failed |= pr_add_function(out, f->file, f->name, f->line, f->body_hash, f->reason);
    }
    if (failed || pa_failed(&from->arena))
        pr_add_error(out, path, idx, "out of memory");
    const pr_stats *s = &from->stats;
    st->files += s->files;
    st->files_skipped += s->files_skipped;
    st->files_failed += s->files_failed;
    st->functions += s->functions;
    st->functions_incomplete += s->functions_incomplete;
    st->cfg_blocks += s->cfg_blocks;
    st->paths += s->paths;
}

static void drv_one_file(drv_shared *sh, fe_context *fe, int idx)
{
    const char *path = sh->files->paths[idx];
    char err[1024] = "";
    fe_tu *tu = NULL;
    pr_stats st = {0};
    int rc = fe_parse(fe, path, &tu, err, sizeof err);
    if (rc < 0) {
        st.files_failed++;
        pr_add_error(sh->out, path, idx, err);
    } else if (rc == 1) {
        st.files_skipped++;
    } else {
        st.files++;
        if (sh->o->cfg_only || sh->o->dump_cfg) {
            drv_cfg_file(sh, tu, &st);
        } else {
            /* the engine reports into a report of this file alone, so that
             * everything it counts (callees analysed on demand too) is this
             * file's: the results database stores the counters per file */
            pr_report local;
            pr_init(&local);
            en_file *ef = en_file_new(sh->o->kb, tu, &sh->o->budget, &local, idx);
            if (!ef)
                pr_add_error(sh->out, path, idx, "out of memory");
            else {
                int nf = fe_tu_func_count(tu);
                for (int i = 0; i < nf; i++)
                    en_analyze(ef, i, &st);
                en_file_free(ef);
            }
            drv_merge(sh->out, &local, &st, path, idx);
            pr_free(&local);
        }
        fe_tu_free(tu);
    }
    pr_add_stats(sh->out, &st);
    if (sh->o->file_stats)
        sh->o->file_stats[idx] = st;   /* each index is one worker's */
}

static void *drv_worker(void *arg)
{
    drv_shared *sh = arg;
    char err[512];
    fe_context *fe = fe_open(&sh->o->fe, err, sizeof err);
    if (!fe)
        return NULL;
    for (;;) {
        pthread_mutex_lock(&sh->lock);
        int idx = -1;
        while (sh->next < sh->files->n && idx < 0) {
            idx = sh->next++;
            if (sh->o->reuse && sh->o->reuse[idx])
                idx = -1;
        }
        if (idx >= 0 && sh->o->progress) {
            /* erase the line, then "[n/total] path"; flushed so it shows now */
            fprintf(sh->o->progress, "\r\033[K[%d/%d] %s", ++sh->started, sh->todo,
                    sh->files->paths[idx]);
            fflush(sh->o->progress);
        }
        pthread_mutex_unlock(&sh->lock);
        if (idx < 0)
            break;
        drv_one_file(sh, fe, idx);
    }
    fe_close(fe);
    return NULL;
}

int drv_run(const drv_options *o, const drv_files *files, pr_report *out, char *err, size_t errlen)
{
    double t0 = drv_now();
    int todo = 0;
    for (int i = 0; i < files->n; i++)
        if (!o->reuse || !o->reuse[i])
            todo++;
    if (todo == 0 && files->n > 0) {
        pr_sort(out);
        out->stats.seconds = drv_now() - t0;
        return 0;
    }
    /* Open one frontend up front so a bad compile database is one error. */
    fe_context *probe = fe_open(&o->fe, err, errlen);
    if (!probe)
        return -1;
    fe_close(probe);
    drv_shared sh = { .o = o, .files = files, .out = out, .todo = todo };
    pthread_mutex_init(&sh.lock, NULL);
    pthread_mutex_init(&sh.dump_lock, NULL);
    int jobs = o->jobs < 1 ? 1 : o->jobs;
    if (jobs > todo)
        jobs = todo > 0 ? todo : 1;
    if (o->dump_cfg)
        jobs = 1;
    {
        pthread_t *th = calloc((size_t)jobs, sizeof *th);
        int started = 0;
        for (int i = 0; th && i < jobs; i++) {
            /* libclang parsing recurses deeply: give workers big stacks */
            pthread_attr_t attr;
            pthread_attr_init(&attr);
            pthread_attr_setstacksize(&attr, 64u << 20);
            if (pthread_create(&th[i], &attr, drv_worker, &sh) == 0)
                started++;
            pthread_attr_destroy(&attr);
        }
        if (started == 0)
            drv_worker(&sh);
        for (int i = 0; i < started; i++)
            pthread_join(th[i], NULL);
        free(th);
    }
    pthread_mutex_destroy(&sh.lock);
    pthread_mutex_destroy(&sh.dump_lock);
    if (o->progress && sh.started > 0) {
        fputs("\r\033[K", o->progress);
        fflush(o->progress);
    }
    pr_sort(out);
    out->stats.seconds = drv_now() - t0;
    return 0;
}
