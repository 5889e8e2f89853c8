/* static_report.c - findings of the rules checked outside path exploration
 * (file and function checks: format-mismatch, methoddef-signature,
 * api-without-gil), made the way the engine makes its own: severity from the
 * rule table, fingerprint from rule + function + the reported line's text,
 * inline suppressions. */
#include "checks.h"

#include <string.h>

#include "../base/strbuf.h"

int ck_static_report(fe_tu *tu, pr_report *out, int file_index, const char *rule, src_loc loc,
                     const char *function, const char *message, pr_step *steps, int nsteps)
{
    const ck_rule *r = ck_rule_find(rule);
    pr_finding f;
    memset(&f, 0, sizeof f);
    f.rule = rule;
    f.severity = r ? r->severity : "warning";
    f.loc = loc;
    if (!f.loc.file)
        f.loc.file = fe_tu_path(tu);
    f.function = function;
    f.message = message;
    f.file_index = file_index;
    f.steps = steps;
    f.nsteps = nsteps;
    char line[512] = "";
    fe_tu_source_line(tu, loc.line, line, sizeof line);
    sb_buf sb = {0};
    sb_printf(&sb, "%s|%s|", rule, function ? function : "");
    for (const char *c = line; *c; c++)
        if (*c != ' ' && *c != '\t')
            sb_putc(&sb, *c);
    pr_fingerprint_hex(sb_str(&sb), f.fingerprint);
    sb_free(&sb);
    for (uint32_t l = loc.line; l + 1 >= loc.line && l > 0 && !f.suppressed; l--) {
        char text[512] = "";
        if (fe_tu_source_line(tu, l, text, sizeof text) == 0)
            f.suppressed = pr_suppression_matches(text, rule);
    }
    return pr_add_finding(out, &f);
}
