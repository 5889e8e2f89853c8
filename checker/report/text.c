/* text.c - compiler-style text output: one warning line per finding, then
 * a note line for each step of its path (and one for its validation, when
 * the reference runtime has re-run it), then errors and a summary. */
#include "report.h"

#include <string.h>

static void tx_loc(FILE *out, src_loc l, const pr_text_options *o)
{
    if (o->color)
        fputs("\033[1m", out);
    fprintf(out, "%s:%u:%u:", l.file ? l.file : "<unknown>", l.line, l.col);
    if (o->color)
        fputs("\033[0m", out);
}

void pr_write_text(const pr_report *r, const pr_text_options *o, FILE *out)
{
    for (int i = 0; i < r->nfindings; i++) {
        const pr_finding *f = &r->findings[i];
        tx_loc(out, f->loc, o);
        bool err = f->severity && strcmp(f->severity, "error") == 0;
        if (o->color)
            fprintf(out, " %s%s:\033[0m ", err ? "\033[1;31m" : "\033[1;35m", err ? "error" : "warning");
        else
            fprintf(out, " %s: ", err ? "error" : "warning");
        fprintf(out, "%s [%s]", f->message, f->rule);
        fputc('\n', out);
        for (int k = 0; k < f->nsteps; k++) {
            tx_loc(out, f->steps[k].loc, o);
            fprintf(out, " %snote:%s %s\n", o->color ? "\033[1;36m" : "", o->color ? "\033[0m" : "",
                    f->steps[k].message);
        }
        if (f->validation) {    /* the reference runtime's verdict, last */
            tx_loc(out, f->loc, o);
            fprintf(out, " %snote:%s validation: %s\n", o->color ? "\033[1;36m" : "",
                    o->color ? "\033[0m" : "", f->validation);
        }
    }
    for (int i = 0; i < r->nincomplete; i++) {
        const pr_incomplete *in = &r->incomplete[i];
        tx_loc(out, in->loc, o);
        fprintf(out, " remark: analysis of '%s' incomplete: %s\n", in->function, in->reason);
    }
    if (o->quiet)
        return;
    /* per-rule counts */
    const char *rules[32];
    int counts[32], nr = 0;
    for (int i = 0; i < r->nfindings; i++) {
        int k;
        for (k = 0; k < nr; k++)
            if (strcmp(rules[k], r->findings[i].rule) == 0)
                break;
        if (k == nr) {
            if (nr == 32)
                continue;
            rules[nr] = r->findings[i].rule;
            counts[nr++] = 0;
        }
        counts[k]++;
    }
    fprintf(out, "pyrefcheck: %ld file%s, %ld function%s, %d finding%s", r->stats.files,
            r->stats.files == 1 ? "" : "s", r->stats.functions, r->stats.functions == 1 ? "" : "s",
            r->nfindings, r->nfindings == 1 ? "" : "s");
    for (int k = 0; k < nr; k++)
        fprintf(out, "%s%s: %d", k == 0 ? " (" : ", ", rules[k], counts[k]);
    if (nr)
        fputc(')', out);
    if (r->nerrors)
        fprintf(out, ", %d file%s not analysed", r->nerrors, r->nerrors == 1 ? "" : "s");
    fprintf(out, ", %.2fs\n", r->stats.seconds);
}
