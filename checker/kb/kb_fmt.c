/* kb_fmt.c - splits PyArg_Parse*, Py_BuildValue and PyUnicode_FromFormat
 * style format strings into units, driven by a table of unit rows.
 *
 * The vocabulary (which codes exist, how many C arguments each takes, their
 * C types and what it does to the object) is data: the "@unit" rows of
 * rules/formats.rules, loaded into the kb.  Each unit carries its row's
 * ctype= list; a printf unit also its length modifier's and its '*' count.  Only the grammar is code:
 * brackets nest, stop
 * characters end the format, and a printf conversion is
 * '%' [flags] [width|*] [.precision|.*] [length] conversion.
 */
#include "kb.h"
#include "kb_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Whether a row of table kind `sk` serves a format of kind `kind`. */
static bool kind_ok(kb_format sk, kb_format kind)
{
    return sk == kind || (kind == KB_FMT_PARSE_KW && sk == KB_FMT_PARSE);
}

typedef struct tables {
    const kb_fmt_spec *a, *b;
    int na, nb;
    kb_format kind;
} tables;

/* Longest row whose code starts s; table a wins a tie.  `length` selects
 * printf length modifiers (true) or conversions/units (false). */
static const kb_fmt_spec *find(const tables *t, const char *s, bool length)
{
    const kb_fmt_spec *best = NULL;
    size_t bestn = 0;
    for (int pass = 0; pass < 2; pass++) {
        const kb_fmt_spec *v = pass ? t->b : t->a;
        int n = pass ? t->nb : t->na;
        for (int i = 0; i < n; i++) {
            if (!kind_ok(v[i].kind, t->kind) || v[i].length != length)
                continue;
            size_t cl = strlen(v[i].code);
            if (cl > bestn && strncmp(s, v[i].code, cl) == 0) {
                best = &v[i];
                bestn = cl;
            }
        }
    }
    return best;
}

static bool is_closer(const tables *t, char ch)
{
    for (int pass = 0; pass < 2; pass++) {
        const kb_fmt_spec *v = pass ? t->b : t->a;
        int n = pass ? t->nb : t->na;
        for (int i = 0; i < n; i++)
            if (kind_ok(v[i].kind, t->kind) && v[i].pair == ch)
                return true;
    }
    return false;
}

static int ferr(char *err, size_t errlen, const char *format, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int ferr(char *err, size_t errlen, const char *format, const char *fmt, ...)
{
    if (!err || !errlen)
        return -1;
    int n = snprintf(err, errlen, "format \"%.60s%s\": ", format,
                     strlen(format) > 60 ? "..." : "");
    if (n < 0)
        n = 0;
    if ((size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *show(char ch, char buf[8])
{
    if (ch >= 0x21 && ch < 0x7f)
        snprintf(buf, 8, "%c", ch);
    else
        snprintf(buf, 8, "\\x%02x", (unsigned char)ch);
    return buf;
}

static int emit(kb_fmt_unit *units, int *n, int max, const char *code, size_t cl,
                int nargs, int effect, int obj, char *err, size_t errlen,
                const char *format, const char *ctypes)
{
    if (*n >= max)
        return ferr(err, errlen, format, "more than %d units", max);
    kb_fmt_unit *u = &units[(*n)++];
    memset(u, 0, sizeof *u);
    if (cl > 3)
        cl = 3;
    memcpy(u->code, code, cl);
    u->code[cl] = '\0';
    u->nargs = nargs;
    u->effect = effect;
    u->obj_arg = obj;
    u->ctypes = ctypes;
    return 0;
}

static int split_printf(const tables *t, const char *format, kb_fmt_unit *units,
                        int max, char *err, size_t errlen)
{
    int n = 0;
    char sb[8];
    for (size_t i = 0; format[i];) {
        if (format[i] != '%') {
            i++;
            continue;
        }
        size_t start = i++;
        int stars = 0;
        while (format[i] && strchr("-+ #0", format[i]))
            i++;
        if (format[i] == '*') {
            stars++;
            i++;
        } else {
            while (format[i] >= '0' && format[i] <= '9')
                i++;
        }
        if (format[i] == '.') {
            i++;
            if (format[i] == '*') {
                stars++;
                i++;
            } else {
                while (format[i] >= '0' && format[i] <= '9')
                    i++;
            }
        }
        char code[8];
        size_t cl = 0;
        const kb_fmt_spec *len = find(t, format + i, true);
        if (len) {
            cl = strlen(len->code);
            memcpy(code, len->code, cl);
            i += cl;
        }
        if (!format[i])
            return ferr(err, errlen, format, "incomplete conversion at offset %zu", start);
        const kb_fmt_spec *conv = find(t, format + i, false);
        if (!conv || conv->stop || conv->pair)
            return ferr(err, errlen, format, "unknown conversion '%%%.*s%s' at offset %zu",
                        (int)cl, code, show(format[i], sb), start);
        size_t vl = strlen(conv->code);
        i += vl;
        if (conv->skip)
            continue;
        memcpy(code + cl, conv->code, vl);
        cl += vl;
        if (emit(units, &n, max, code, cl, stars + conv->nargs, conv->effect,
                 conv->obj_arg >= 0 ? stars + conv->obj_arg : -1, err, errlen, format,
                 conv->ctypes) < 0)
            return -1;
        units[n - 1].length_ctype = len ? len->ctypes : NULL;
        units[n - 1].stars = stars;
    }
    return n;
}

/* Splits format into units (written to units[0..max-1]) using tables a
 * and b.  Returns the unit count, or -1 with "format \"...\": problem" in
 * err; units is then partly written.  A NULL format has no units. */
int kb__split(const kb_fmt_spec *a, int na, const kb_fmt_spec *b, int nb,
              kb_format kind, const char *format, kb_fmt_unit *units,
              int max, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!format)
        return 0;                    /* PyObject_CallFunction(f, NULL) */
    if (max < 0 || (max > 0 && !units))
        return ferr(err, errlen, format, "no room for units");
    if (kind != KB_FMT_PARSE && kind != KB_FMT_PARSE_KW && kind != KB_FMT_BUILD &&
        kind != KB_FMT_PRINTF)
        return ferr(err, errlen, format, "not a format-driven kind (%d)", (int)kind);
    tables t = {a, b, a ? na : 0, b ? nb : 0, kind};
    if (kind == KB_FMT_PRINTF)
        return split_printf(&t, format, units, max, err, errlen);

    char stack[64];                  /* expected closing brackets */
    int depth = 0, n = 0;
    char sb[8];
    for (size_t i = 0; format[i];) {
        char ch = format[i];
        if (is_closer(&t, ch)) {
            if (depth == 0 || stack[depth - 1] != ch)
                return ferr(err, errlen, format, "unbalanced '%c' at offset %zu", ch, i);
            depth--;
            if (emit(units, &n, max, format + i, 1, 0, KB_FU_NONE, -1, err, errlen, format,
                     NULL) < 0)
                return -1;
            i++;
            continue;
        }
        const kb_fmt_spec *s = find(&t, format + i, false);
        if (!s)
            return ferr(err, errlen, format, "unknown unit '%s' at offset %zu", show(ch, sb), i);
        if (s->stop)
            break;
        size_t cl = strlen(s->code);
        if (s->skip) {
            i += cl;
            continue;
        }
        if (s->pair) {
            if (depth == (int)sizeof stack)
                return ferr(err, errlen, format, "brackets nested deeper than %d", (int)sizeof stack);
            stack[depth++] = s->pair;
        }
        if (emit(units, &n, max, s->code, cl, s->nargs, s->effect, s->obj_arg,
                 err, errlen, format, s->ctypes) < 0)
            return -1;
        i += cl;
    }
    if (depth > 0)
        return ferr(err, errlen, format, "unbalanced: missing '%c'", stack[depth - 1]);
    return n;
}

