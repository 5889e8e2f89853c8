/* engine.h - the reference-count engine: explores each function's paths
 * over its CFG, tracking who owns which reference, and reports the six core
 * rules (leak, use-after-release, over-release, borrowed-return, null-deref,
 * null-without-exception).
 *
 * One en_file per translation unit.  Static functions of the file get
 * inferred summaries (computed on demand, callee first; recursion falls back
 * to a conservative summary), so callers are checked against them.
 */
#ifndef PRC_ENGINE_H
#define PRC_ENGINE_H

#include "../frontend/frontend.h"
#include "../kb/kb.h"
#include "../report/report.h"

/* Explicit budgets; hitting one is reported as "analysis incomplete". */
typedef struct en_budget {
    long max_steps;         /* block visits per function (all paths) */
    double max_seconds;     /* wall-clock time per function */
    int loop_unroll;        /* times one path may enter the same loop head */
    size_t max_bytes;       /* memory per function */
} en_budget;

/* Sensible defaults for the budgets. */
void en_budget_default(en_budget *b);

typedef struct en_file en_file;

/* Creates the engine state of one parsed file.  Findings go to out, tagged
 * with file_index.  Returns NULL when out of memory.  tu and k must outlive
 * it. */
en_file *en_file_new(const kb *k, fe_tu *tu, const en_budget *budget, pr_report *out,
                     int file_index);

/* Analyses function i of the file.  Adds findings to the report; counts
 * functions, blocks and paths into stats.  Returns 0 when complete, 1 when
 * a budget was hit (reported as incomplete with its reason), -1 when the
 * function could not be converted (out of memory). */
int en_analyze(en_file *ef, int i, pr_stats *stats);

void en_file_free(en_file *ef);

#endif
