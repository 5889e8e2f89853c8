/* driver.h - runs a check over a set of files: collects the files
 * (directories walked for *.c), parses them on worker threads, builds CFGs,
 * runs the engine and gathers everything into one report. */
#ifndef PRC_DRIVER_H
#define PRC_DRIVER_H

#include <stdbool.h>
#include <stdio.h>

#include "../engine/engine.h"
#include "../frontend/frontend.h"
#include "../kb/kb.h"
#include "../report/report.h"

typedef struct drv_options {
    fe_options fe;          /* frontend options (python include, args, db) */
    const kb *kb;
    en_budget budget;
    int jobs;               /* worker threads, >= 1 */
    bool cfg_only;          /* parse and build CFGs only (benchmarks) */
    const char *dump_cfg;   /* function name to dump ("*" for all), or NULL */
    bool dump_dot;          /* dump as Graphviz */
    FILE *dump_out;
    const bool *reuse;      /* per file: true = not analysed (its results come
                               from the results database); NULL: analyse all */
    pr_stats *file_stats;   /* per file, filled by drv_run (caller-owned, zeroed
                               by the caller); NULL: not wanted */
    FILE *progress;         /* a terminal: one "[n/total] file" line rewritten as
                               files start, erased at the end; NULL: none */
} drv_options;

/* A growable list of file paths (malloc'ed strings). */
typedef struct drv_files {
    char **paths;
    int n, cap;
} drv_files;

/* Adds path: a file as is, a directory walked for *.c (build and hidden
 * folders skipped, sorted).  Returns 0, or -1 with a one-line message in
 * err when path does not exist. */
int drv_collect(drv_files *files, const char *path, char *err, size_t errlen);
void drv_files_free(drv_files *files);

/* Analyses every file but those o->reuse marks (the frontend is not even
 * opened when that is all of them).  Per-file problems become report
 * errors; out's findings are sorted at the end (including any added
 * before).  Returns 0, or -1 when the run itself failed (message in err). */
int drv_run(const drv_options *o, const drv_files *files, pr_report *out, char *err, size_t errlen);

#endif
