/* github.c - GitHub Actions workflow commands: each finding becomes an
 * annotation on its line ("::warning file=...,line=...,col=...,title=...::")
 * with its path folded into the message.
 *
 * GitHub shows at most PR_GITHUB_ANNOTATION_CAP annotations of each type per
 * step and drops the rest silently; past the cap we print plain
 * compiler-style lines instead (so every finding is still in the job log)
 * and end with one "::notice" that says how many were not annotated.  Paths
 * below the current directory are written relative to it, as GitHub maps
 * annotations onto the repository. */
#include "report.h"

#include <string.h>
#include <unistd.h>

#include "../base/strbuf.h"

/* file relative to the current directory when it lies below it: GitHub maps
 * annotations with paths relative to the workspace. */
static const char *gh_path(const char *file, const char *cwd)
{
    size_t n = strlen(cwd);
    if (file && n > 1 && strncmp(file, cwd, n) == 0 && file[n] == '/')
        return file + n + 1;
    return file ? file : "";
}

/* Appends s escaped for a command's message: '%', CR and LF encoded. */
static void gh_data(sb_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '%': sb_puts(b, "%25"); break;
        case '\r': sb_puts(b, "%0D"); break;
        case '\n': sb_puts(b, "%0A"); break;
        default: sb_putc(b, *s);
        }
    }
}

/* Appends s escaped for a property value: also ':' and ','. */
static void gh_prop(sb_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case ':': sb_puts(b, "%3A"); break;
        case ',': sb_puts(b, "%2C"); break;
        default: {
            char one[2] = { *s, 0 };
            gh_data(b, one);
        }
        }
    }
}

typedef struct gh_counts {
    int shown[2];     /* [0] warnings, [1] errors annotated */
    int hidden[2];    /* past the cap */
} gh_counts;

/* Writes one finding as an annotation, or as plain lines past the cap. */
static void gh_finding(sb_buf *b, const pr_finding *f, gh_counts *c, const char *cwd)
{
    int is_err = f->severity && strcmp(f->severity, "error") == 0;
    const char *file = gh_path(f->loc.file, cwd);
    if (c->shown[is_err] >= PR_GITHUB_ANNOTATION_CAP) {
        c->hidden[is_err]++;
        sb_printf(b, "%s:%u:%u: %s: %s [%s]\n", file, f->loc.line, f->loc.col,
                  is_err ? "error" : "warning", f->message, f->rule);
        for (int k = 0; k < f->nsteps; k++)
            sb_printf(b, "%s:%u:%u: note: %s\n", f->steps[k].loc.file ? f->steps[k].loc.file : "",
                      f->steps[k].loc.line, f->steps[k].loc.col, f->steps[k].message);
        return;
    }
    c->shown[is_err]++;
    sb_printf(b, "::%s file=", is_err ? "error" : "warning");
    gh_prop(b, file);
    if (f->loc.line)
        sb_printf(b, ",line=%u", f->loc.line);
    if (f->loc.col)
        sb_printf(b, ",col=%u", f->loc.col);
    sb_puts(b, ",title=");
    sb_buf title = {0};
    sb_printf(&title, "pyrefcheck [%s] in %s()", f->rule, f->function ? f->function : "?");
    gh_prop(b, sb_str(&title));
    sb_free(&title);
    sb_puts(b, "::");
    gh_data(b, f->message);
    if (f->validation) {
        sb_puts(b, " (");
        gh_data(b, f->validation);
        sb_putc(b, ')');
    }
    if (f->nsteps > 0)
        sb_puts(b, "%0APath:");
    for (int k = 0; k < f->nsteps; k++) {
        const pr_step *s = &f->steps[k];
        sb_buf step = {0};
        /* the step's file only when it differs from the finding's */
        if (s->loc.file && strcmp(gh_path(s->loc.file, cwd), file) != 0)
            sb_printf(&step, "\n  %d. %s:%u: %s", k + 1, gh_path(s->loc.file, cwd), s->loc.line,
                      s->message);
        else
            sb_printf(&step, "\n  %d. line %u: %s", k + 1, s->loc.line, s->message);
        gh_data(b, sb_str(&step));
        sb_free(&step);
    }
    sb_putc(b, '\n');
}

void pr_write_github(const pr_report *r, FILE *out)
{
    sb_buf b = {0};
    gh_counts c = {{0, 0}, {0, 0}};
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        cwd[0] = 0;
    for (int i = 0; i < r->nerrors; i++) {
        if (c.shown[1] >= PR_GITHUB_ANNOTATION_CAP) {
            c.hidden[1]++;
            sb_printf(&b, "%s: error: %s\n", r->errors[i].file, r->errors[i].message);
            continue;
        }
        c.shown[1]++;
        sb_puts(&b, "::error file=");
        gh_prop(&b, gh_path(r->errors[i].file, cwd));
        sb_puts(&b, ",title=pyrefcheck could not analyse this file::");
        gh_data(&b, r->errors[i].message);
        sb_putc(&b, '\n');
    }
    for (int i = 0; i < r->nfindings; i++)
        gh_finding(&b, &r->findings[i], &c, cwd);
    int hidden = c.hidden[0] + c.hidden[1];
    if (hidden > 0)
        sb_printf(&b, "::notice title=pyrefcheck::%d more finding%s (%d warning%s, %d error%s) "
                      "not annotated: GitHub shows %d annotations of each type per step. "
                      "All of them are listed in this log.\n",
                  hidden, hidden == 1 ? "" : "s", c.hidden[0], c.hidden[0] == 1 ? "" : "s",
                  c.hidden[1], c.hidden[1] == 1 ? "" : "s", PR_GITHUB_ANNOTATION_CAP);
    sb_printf(&b, "pyrefcheck: %d finding%s in %ld file%s\n", r->nfindings,
              r->nfindings == 1 ? "" : "s", r->stats.files, r->stats.files == 1 ? "" : "s");
    fputs(sb_str(&b), out);
    sb_free(&b);
}
