/* engine.c - placeholder: CFG statistics only (replaced by the engine). */
#include "engine.h"
#include "../ir/cfg.h"
#include <stdlib.h>

struct en_file { const kb *k; fe_tu *tu; en_budget b; pr_report *out; int idx; };

void en_budget_default(en_budget *b)
{
    b->max_steps = 200000;
    b->max_seconds = 5.0;
    b->loop_unroll = 2;
    b->max_bytes = 256u << 20;
}

en_file *en_file_new(const kb *k, fe_tu *tu, const en_budget *budget, pr_report *out, int file_index)
{
    en_file *ef = calloc(1, sizeof *ef);
    if (!ef) return NULL;
    ef->k = k; ef->tu = tu; ef->b = *budget; ef->out = out; ef->idx = file_index;
    return ef;
}

int en_analyze(en_file *ef, int i, pr_stats *stats)
{
    pa_arena a; pa_init(&a, ef->b.max_bytes);
    ast_func *f = fe_tu_convert_func(ef->tu, i, &a);
    cfg *g = f ? cfg_build(f, &a) : NULL;
    stats->functions++;
    if (g) stats->cfg_blocks += g->nblocks;
    pa_release(&a);
    return g ? 0 : -1;
}

void en_file_free(en_file *ef) { free(ef); }
