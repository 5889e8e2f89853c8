/* json.c - the JSON output contract:
 * {"tool":{"name","version"},"findings":[...],"errors":[...],"stats":{...}}
 * Field names and meanings are documented in README.md and kept stable. */
#include "report.h"

#include "../base/strbuf.h"

static void js_loc_fields(sb_buf *b, src_loc l)
{
    sb_puts(b, "\"file\": ");
    sb_json_str(b, l.file ? l.file : "");
    sb_printf(b, ", \"line\": %u, \"column\": %u", l.line, l.col);
}

void pr_write_json(const pr_report *r, const char *version, FILE *out)
{
    sb_buf b = {0};
    sb_puts(&b, "{\n  \"tool\": {\"name\": \"pyrefcheck\", \"version\": ");
    sb_json_str(&b, version);
    sb_puts(&b, "},\n  \"findings\": [");
    for (int i = 0; i < r->nfindings; i++) {
        const pr_finding *f = &r->findings[i];
        sb_puts(&b, i ? ",\n    {" : "\n    {");
        sb_puts(&b, "\"rule\": ");
        sb_json_str(&b, f->rule);
        sb_puts(&b, ", \"severity\": ");
        sb_json_str(&b, f->severity);
        sb_puts(&b, ", ");
        js_loc_fields(&b, f->loc);
        sb_puts(&b, ", \"function\": ");
        sb_json_str(&b, f->function);
        sb_puts(&b, ", \"message\": ");
        sb_json_str(&b, f->message);
        sb_puts(&b, ", \"fingerprint\": ");
        sb_json_str(&b, f->fingerprint);
        sb_puts(&b, ", \"validation\": ");
        if (f->validation)
            sb_json_str(&b, f->validation);
        else
            sb_puts(&b, "null");
        sb_puts(&b, ",\n     \"path\": [");
        for (int k = 0; k < f->nsteps; k++) {
            const pr_step *s = &f->steps[k];
            sb_puts(&b, k ? ",\n       {" : "\n       {");
            js_loc_fields(&b, s->loc);
            sb_puts(&b, ", \"message\": ");
            sb_json_str(&b, s->message);
            if (s->refs >= 0)
                sb_printf(&b, ", \"refs\": %d", s->refs);
            sb_putc(&b, '}');
        }
        sb_puts(&b, f->nsteps ? "]}" : "]}");
    }
    sb_puts(&b, r->nfindings ? "\n  ],\n  \"errors\": [" : "],\n  \"errors\": [");
    for (int i = 0; i < r->nerrors; i++) {
        sb_puts(&b, i ? ",\n    {" : "\n    {");
        sb_puts(&b, "\"file\": ");
        sb_json_str(&b, r->errors[i].file);
        sb_puts(&b, ", \"message\": ");
        sb_json_str(&b, r->errors[i].message);
        sb_putc(&b, '}');
    }
    sb_puts(&b, r->nerrors ? "\n  ],\n  \"incomplete\": [" : "],\n  \"incomplete\": [");
    for (int i = 0; i < r->nincomplete; i++) {
        const pr_incomplete *in = &r->incomplete[i];
        sb_puts(&b, i ? ",\n    {" : "\n    {");
        js_loc_fields(&b, in->loc);
        sb_puts(&b, ", \"function\": ");
        sb_json_str(&b, in->function);
        sb_puts(&b, ", \"reason\": ");
        sb_json_str(&b, in->reason);
        sb_putc(&b, '}');
    }
    const pr_stats *s = &r->stats;
    sb_printf(&b, "%s,\n  \"stats\": {\"files\": %ld, \"files_skipped\": %ld, \"files_failed\": %ld, "
              "\"functions\": %ld, \"functions_incomplete\": %ld, \"cfg_blocks\": %ld, "
              "\"paths\": %ld, \"findings\": %d, \"seconds\": %.3f}\n}\n",
              r->nincomplete ? "\n  ]" : "]", s->files, s->files_skipped, s->files_failed,
              s->functions, s->functions_incomplete, s->cfg_blocks, s->paths, r->nfindings,
              s->seconds);
    fputs(sb_str(&b), out);
    sb_free(&b);
}
