/* test_report.c - unit tests of checker/report: pr_add_* copying, pr_sort
 * ordering and de-duplication, the FNV-1a fingerprint, the JSON contract
 * (parsed back with a small strict JSON reader) and the compiler-style
 * text output.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

/* ------------------------------------------------------------ helpers */

/* Reads everything written to f (from the start). Caller frees. */
static char *slurp(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    return buf;
}

static char *text_of(const pr_report *r, bool color, bool quiet)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    pr_text_options o = { .color = color, .quiet = quiet };
    pr_write_text(r, &o, f);
    char *s = slurp(f);
    fclose(f);
    return s;
}

static char *json_text_of(const pr_report *r, const char *version)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    pr_write_json(r, version, f);
    char *s = slurp(f);
    fclose(f);
    return s;
}

static pr_finding mk(int file_index, const char *file, unsigned line, unsigned col, const char *rule,
                     const char *message)
{
    pr_finding f;
    memset(&f, 0, sizeof f);
    f.file_index = file_index;
    f.loc = (src_loc){ file, line, col };
    f.rule = rule;
    f.message = message;
    f.function = "func";
    return f;
}

/* ---------------------------------------------- a small strict JSON reader */

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jv {
    int type;
    double num;
    char *str;            /* J_STR: decoded UTF-8 */
    int n;
    char **keys;          /* J_OBJ */
    struct jv **items;    /* J_ARR / J_OBJ values */
} jv;

typedef struct jp {
    const char *p;
    const char *err;
} jp;

static void jv_free(jv *v)
{
    if (!v)
        return;
    for (int i = 0; i < v->n; i++) {
        if (v->keys)
            free(v->keys[i]);
        jv_free(v->items[i]);
    }
    free(v->keys);
    free(v->items);
    free(v->str);
    free(v);
}

static void jp_ws(jp *j)
{
    while (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r')
        j->p++;
}

static jv *jp_value(jp *j, int depth);

static int jp_hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

static char *jp_string(jp *j)
{
    if (*j->p != '"') {
        j->err = "expected string";
        return NULL;
    }
    j->p++;
    size_t cap = 64, n = 0;
    char *out = malloc(cap);
    for (;;) {
        if (n + 8 >= cap)
            out = realloc(out, cap *= 2);
        unsigned char c = (unsigned char)*j->p;
        if (c == '\0') {
            j->err = "unterminated string";
            free(out);
            return NULL;
        }
        if (c < 0x20) {
            j->err = "raw control character in string";
            free(out);
            return NULL;
        }
        if (c == '"') {
            j->p++;
            break;
        }
        if (c != '\\') {
            out[n++] = (char)c;
            j->p++;
            continue;
        }
        char e = j->p[1];
        j->p += 2;
        switch (e) {
        case '"': out[n++] = '"'; break;
        case '\\': out[n++] = '\\'; break;
        case '/': out[n++] = '/'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (!jp_hex4(j->p, &cp) || (cp >= 0xD800 && cp <= 0xDFFF)) {
                j->err = "bad \\u escape";
                free(out);
                return NULL;
            }
            j->p += 4;
            if (cp < 0x80)
                out[n++] = (char)cp;
            else if (cp < 0x800) {
                out[n++] = (char)(0xC0 | (cp >> 6));
                out[n++] = (char)(0x80 | (cp & 0x3F));
            } else {
                out[n++] = (char)(0xE0 | (cp >> 12));
                out[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                out[n++] = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default:
            j->err = "bad escape";
            free(out);
            return NULL;
        }
    }
    out[n] = '\0';
    return out;
}

static jv *jv_new(int type)
{
    jv *v = calloc(1, sizeof *v);
    v->type = type;
    return v;
}

static void jv_push(jv *v, char *key, jv *item)
{
    v->items = realloc(v->items, (size_t)(v->n + 1) * sizeof *v->items);
    if (v->type == J_OBJ)
        v->keys = realloc(v->keys, (size_t)(v->n + 1) * sizeof *v->keys);
    if (v->keys)
        v->keys[v->n] = key;
    v->items[v->n++] = item;
}

static jv *jp_value(jp *j, int depth)
{
    jp_ws(j);
    if (depth > 64) {
        j->err = "too deep";
        return NULL;
    }
    const char *p = j->p;
    if (*p == '{' || *p == '[') {
        int obj = *p == '{';
        char close = obj ? '}' : ']';
        jv *v = jv_new(obj ? J_OBJ : J_ARR);
        j->p++;
        jp_ws(j);
        if (*j->p == close) {
            j->p++;
            return v;
        }
        for (;;) {
            char *key = NULL;
            if (obj) {
                jp_ws(j);
                key = jp_string(j);
                if (!key)
                    goto bad;
                for (int i = 0; i < v->n; i++)
                    if (strcmp(v->keys[i], key) == 0) {
                        j->err = "duplicate key";
                        free(key);
                        goto bad;
                    }
                jp_ws(j);
                if (*j->p != ':') {
                    j->err = "expected ':'";
                    free(key);
                    goto bad;
                }
                j->p++;
            }
            jv *item = jp_value(j, depth + 1);
            if (!item) {
                free(key);
                goto bad;
            }
            jv_push(v, key, item);
            jp_ws(j);
            if (*j->p == ',') {
                j->p++;
                continue;
            }
            if (*j->p == close) {
                j->p++;
                return v;
            }
            j->err = "expected ',' or closing bracket";
            goto bad;
        }
    bad:
        jv_free(v);
        return NULL;
    }
    if (*p == '"') {
        char *s = jp_string(j);
        if (!s)
            return NULL;
        jv *v = jv_new(J_STR);
        v->str = s;
        return v;
    }
    if (strncmp(p, "null", 4) == 0) {
        j->p += 4;
        return jv_new(J_NULL);
    }
    if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) {
        jv *v = jv_new(J_BOOL);
        v->num = *p == 't';
        j->p += *p == 't' ? 4 : 5;
        return v;
    }
    /* number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
    const char *q = p;
    if (*q == '-')
        q++;
    if (*q == '0')
        q++;
    else if (*q >= '1' && *q <= '9')
        while (*q >= '0' && *q <= '9')
            q++;
    else {
        j->err = "unexpected character";
        return NULL;
    }
    if (*q == '.') {
        q++;
        if (!(*q >= '0' && *q <= '9')) {
            j->err = "bad fraction";
            return NULL;
        }
        while (*q >= '0' && *q <= '9')
            q++;
    }
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-')
            q++;
        if (!(*q >= '0' && *q <= '9')) {
            j->err = "bad exponent";
            return NULL;
        }
        while (*q >= '0' && *q <= '9')
            q++;
    }
    jv *v = jv_new(J_NUM);
    v->num = strtod(p, NULL);
    j->p = q;
    return v;
}

/* Parses a whole document; fails the test with the position on error. */
static jv *json_parse(const char *text)
{
    jp j = { text, NULL };
    jv *v = jp_value(&j, 0);
    if (v) {
        jp_ws(&j);
        if (*j.p) {
            j.err = "trailing characters";
            jv_free(v);
            v = NULL;
        }
    }
    if (!v)
        fail_msg("invalid JSON (%s) at offset %ld: %.40s", j.err ? j.err : "?", (long)(j.p - text), j.p);
    return v;
}

static jv *jget(const jv *o, const char *key)
{
    assert_non_null(o);
    assert_int_equal(o->type, J_OBJ);
    for (int i = 0; i < o->n; i++)
        if (strcmp(o->keys[i], key) == 0)
            return o->items[i];
    return NULL;
}

static jv *jreq(const jv *o, const char *key, int type)
{
    jv *v = jget(o, key);
    if (!v)
        fail_msg("missing key \"%s\"", key);
    if (v->type != type)
        fail_msg("key \"%s\" has type %d, expected %d", key, v->type, type);
    return v;
}

static const char *jstr(const jv *o, const char *key)
{
    return jreq(o, key, J_STR)->str;
}

static double jnum(const jv *o, const char *key)
{
    return jreq(o, key, J_NUM)->num;
}

static int same_keys(const jv *o, const char *const *keys, int n)
{
    if (o->type != J_OBJ || o->n != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (!jget(o, keys[i]))
            return 0;
    return 1;
}

/* ------------------------------------------------------------ tests */

static void test_fingerprint_fnv1a(void **state)
{
    (void)state;
    char out[17];
    /* published FNV-1a 64-bit test vectors */
    pr_fingerprint_hex("", out);
    assert_string_equal(out, "cbf29ce484222325");
    pr_fingerprint_hex("a", out);
    assert_string_equal(out, "af63dc4c8601ec8c");
    pr_fingerprint_hex("foobar", out);
    assert_string_equal(out, "85944171f73967e8");
    /* bytes above 0x7f are hashed as unsigned */
    pr_fingerprint_hex("\xff", out);
    char expect[17];
    unsigned long long h = 0xcbf29ce484222325ULL;   /* FNV-1a 64 offset basis */
    h ^= 0xffu;
    h *= 1099511628211ULL;                          /* FNV-1a 64 prime */
    snprintf(expect, sizeof expect, "%016llx", h);
    assert_string_equal(out, expect);
}

static void test_fingerprint_stable_hex(void **state)
{
    (void)state;
    /* stable, 16 lowercase hex digits, input-sensitive */
    char a[17], b[17], c[17];
    pr_fingerprint_hex("leak|mod.c|f|x", a);
    pr_fingerprint_hex("leak|mod.c|f|x", b);
    pr_fingerprint_hex("leak|mod.c|f|y", c);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(a), 16);
    for (int i = 0; i < 16; i++)
        assert_true((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));
    /* one byte changes the hash; the output is always NUL-terminated */
    char d[17];
    memset(d, 'Z', sizeof d);
    pr_fingerprint_hex("leak|mod.c|f|x ", d);
    assert_int_equal(d[16], '\0');
    assert_string_not_equal(a, d);
}

static void test_add_finding_copies(void **state)
{
    (void)state;
    pr_report r;
    pr_init(&r);
    char rule[] = "leak", file[] = "mod.c", func[] = "make_list", msg[] = "reference leaked";
    char sfile[] = "mod.c", s0[] = "new reference", s1[] = "lost here", val[] = "confirmed";
    pr_step steps[2] = {
        { { sfile, 10, 9 }, s0, 1 },
        { { sfile, 12, 5 }, s1, -1 },
    };
    pr_finding f;
    memset(&f, 0, sizeof f);
    f.rule = rule;
    f.severity = NULL;   /* defaults to "warning" */
    f.loc = (src_loc){ file, 12, 5 };
    f.function = func;
    f.message = msg;
    strcpy(f.fingerprint, "0123456789abcdef");
    f.steps = steps;
    f.nsteps = 2;
    f.validation = val;
    f.file_index = 3;
    assert_int_equal(pr_add_finding(&r, &f), 0);
    /* clobber every source string and the steps array */
    memset(rule, 'X', sizeof rule - 1);
    memset(file, 'X', sizeof file - 1);
    memset(func, 'X', sizeof func - 1);
    memset(msg, 'X', sizeof msg - 1);
    memset(sfile, 'X', sizeof sfile - 1);
    memset(s0, 'X', sizeof s0 - 1);
    memset(s1, 'X', sizeof s1 - 1);
    memset(val, 'X', sizeof val - 1);
    memset(steps, 0, sizeof steps);
    memset(f.fingerprint, 0, sizeof f.fingerprint);

    assert_int_equal(r.nfindings, 1);
    const pr_finding *c = &r.findings[0];
    assert_string_equal(c->rule, "leak");
    assert_string_equal(c->severity, "warning");
    assert_string_equal(c->loc.file, "mod.c");
    assert_int_equal(c->loc.line, 12);
    assert_int_equal(c->loc.col, 5);
    assert_string_equal(c->function, "make_list");
    assert_string_equal(c->message, "reference leaked");
    assert_string_equal(c->fingerprint, "0123456789abcdef");
    assert_string_equal(c->validation, "confirmed");
    assert_int_equal(c->file_index, 3);
    assert_int_equal(c->nsteps, 2);
    assert_ptr_not_equal(c->steps, steps);
    assert_string_equal(c->steps[0].loc.file, "mod.c");
    assert_int_equal(c->steps[0].loc.line, 10);
    assert_int_equal(c->steps[0].loc.col, 9);
    assert_string_equal(c->steps[0].message, "new reference");
    assert_int_equal(c->steps[0].refs, 1);
    assert_string_equal(c->steps[1].message, "lost here");
    assert_int_equal(c->steps[1].refs, -1);

    /* explicit severity and no validation stay as given */
    pr_finding g = mk(0, NULL, 1, 1, "null-deref", "m");
    g.severity = "error";
    assert_int_equal(pr_add_finding(&r, &g), 0);
    assert_string_equal(r.findings[1].severity, "error");
    assert_null(r.findings[1].validation);
    assert_null(r.findings[1].loc.file);
    assert_int_equal(r.findings[1].nsteps, 0);
    pr_free(&r);
}

static void test_add_finding_out_of_memory(void **state)
{
    (void)state;
    pr_report r;
    pr_init(&r);
    /* room for the findings array (64 entries) but not for the strings */
    size_t al = _Alignof(max_align_t);
    r.arena.limit = (64 * sizeof(pr_finding) + al - 1) / al * al;
    pr_finding f = mk(0, "a.c", 1, 1, "leak", "m");
    assert_int_equal(pr_add_finding(&r, &f), -1);
    assert_int_equal(r.nfindings, 0);       /* dropped, not half-added */
    pr_free(&r);
    pr_init(&r);
    r.arena.limit = 1;                       /* not even the array */
    assert_int_equal(pr_add_finding(&r, &f), -1);
    assert_int_equal(r.nfindings, 0);
    pr_free(&r);
}

static void test_add_many_findings_grows(void **state)
{
    (void)state;
    pr_report r;
    pr_init(&r);
    char msg[32];
    for (int i = 0; i < 300; i++) {
        snprintf(msg, sizeof msg, "message %d", i);
        pr_finding f = mk(0, "a.c", (unsigned)i + 1, 1, "leak", msg);
        assert_int_equal(pr_add_finding(&r, &f), 0);
    }
    assert_int_equal(r.nfindings, 300);
    for (int i = 0; i < 300; i++) {
        snprintf(msg, sizeof msg, "message %d", i);
        assert_string_equal(r.findings[i].message, msg);
        assert_int_equal(r.findings[i].loc.line, (unsigned)i + 1);
    }
    for (int i = 0; i < 40; i++) {
        snprintf(msg, sizeof msg, "e%d.c", i);
        assert_int_equal(pr_add_error(&r, msg, i, "bad"), 0);
    }
    assert_int_equal(r.nerrors, 40);
    assert_string_equal(r.errors[39].file, "e39.c");
    assert_string_equal(r.errors[0].file, "e0.c");
    pr_free(&r);
}

static void test_sort_and_dedupe(void **state)
{
    (void)state;
    pr_report r;
    pr_init(&r);
    pr_finding in[] = {
        mk(1, "b.c", 5, 1, "leak", "F1"),
        mk(0, "z.c", 10, 2, "null-deref", "F2"),
        mk(0, "z.c", 10, 2, "leak", "F3"),
        mk(0, "z.c", 3, 9, "leak", "F4"),
        mk(0, "z.c", 10, 1, "over-release", "F5"),
        mk(0, "z.c", 10, 2, "leak", "F3"),      /* exact duplicate of F3 */
        mk(0, "z.c", 10, 2, "leak", "F3b"),     /* same place, other message */
        mk(1, "b.c", 5, 1, "leak", "F1"),       /* exact duplicate of F1 */
        mk(0, "z.c", 10, 12, "leak", "F6"),     /* column 12 after column 2 */
        mk(0, "z.c", 9, 40, "leak", "F7"),      /* line before column */
    };
    in[5].function = "another";   /* still a duplicate: same rule, place, message */
    for (size_t i = 0; i < sizeof in / sizeof *in; i++)
        assert_int_equal(pr_add_finding(&r, &in[i]), 0);
    assert_int_equal(pr_add_error(&r, "c.c", 2, "e2"), 0);
    assert_int_equal(pr_add_error(&r, "a.c", 0, "e0"), 0);
    assert_int_equal(pr_add_error(&r, "b.c", 1, "e1"), 0);
    pr_sort(&r);
    static const char *const order[] = { "F4", "F7", "F5", "F3", "F3b", "F2", "F6", "F1" };
    assert_int_equal(r.nfindings, 8);
    for (int i = 0; i < 8; i++)
        if (strcmp(r.findings[i].message, order[i]) != 0)
            fail_msg("position %d: got %s, expected %s", i, r.findings[i].message, order[i]);
    assert_string_equal(r.errors[0].message, "e0");
    assert_string_equal(r.errors[1].message, "e1");
    assert_string_equal(r.errors[2].message, "e2");
    /* sorting again changes nothing */
    pr_sort(&r);
    assert_int_equal(r.nfindings, 8);
    assert_string_equal(r.findings[0].message, "F4");
    assert_string_equal(r.findings[7].message, "F1");
    pr_free(&r);
}

static void test_sort_file_index_before_name(void **state)
{
    (void)state;
    pr_report r;
    pr_init(&r);
    /* command-line order wins over the alphabet */
    pr_finding a = mk(2, "a.c", 1, 1, "leak", "A");
    pr_finding z = mk(0, "z.c", 99, 1, "leak", "Z");
    pr_finding m = mk(1, "m.c", 50, 1, "leak", "M");
    pr_add_finding(&r, &a);
    pr_add_finding(&r, &z);
    pr_add_finding(&r, &m);
    pr_sort(&r);
    assert_string_equal(r.findings[0].message, "Z");
    assert_string_equal(r.findings[1].message, "M");
    assert_string_equal(r.findings[2].message, "A");
    pr_free(&r);

    /* empty and single-element reports */
    pr_init(&r);
    pr_sort(&r);
    assert_int_equal(r.nfindings, 0);
    pr_add_finding(&r, &a);
    pr_sort(&r);
    assert_int_equal(r.nfindings, 1);
    pr_free(&r);
}

static void test_stats_add(void **state)
{
    (void)state;
    pr_report r;
    pr_init(&r);
    pr_stats s1 = { 1, 2, 3, 4, 5, 6, 7, 0.25 };
    pr_stats s2 = { 10, 20, 30, 40, 50, 60, 70, 9.0 };
    pr_add_stats(&r, &s1);
    pr_add_stats(&r, &s2);
    assert_int_equal(r.stats.files, 11);
    assert_int_equal(r.stats.files_skipped, 22);
    assert_int_equal(r.stats.files_failed, 33);
    assert_int_equal(r.stats.functions, 44);
    assert_int_equal(r.stats.functions_incomplete, 55);
    assert_int_equal(r.stats.cfg_blocks, 66);
    assert_int_equal(r.stats.paths, 77);
    pr_free(&r);
}

/* A report with two findings (one with a 3-step path), an error and an
 * incomplete-analysis note. */
static void fill_report(pr_report *r)
{
    pr_step steps[3] = {
        { { "mod.c", 10, 9 }, "new reference from \"PyLong_FromLong\"", 1 },
        { { "mod.c", 11, 5 }, "branch taken", -1 },
        { { "mod.c", 12, 5 }, "returned without releasing", 1 },
    };
    pr_finding f = mk(0, "mod.c", 12, 5, "leak", "reference to 'x' leaked");
    f.function = "make";
    pr_fingerprint_hex("leak|make|x", f.fingerprint);
    f.steps = steps;
    f.nsteps = 3;
    assert_int_equal(pr_add_finding(r, &f), 0);
    pr_finding g = mk(0, "mod.c", 20, 3, "null-deref", "NULL \\ dereference\tof\n'p' caf\xe9");
    g.function = "use";
    g.severity = "error";
    g.validation = "confirmed";
    pr_fingerprint_hex("null|use|p", g.fingerprint);
    assert_int_equal(pr_add_finding(r, &g), 0);
    assert_int_equal(pr_add_error(r, "bad \"file\".c", 1, "3:1: expected ';'"), 0);
    assert_int_equal(pr_add_incomplete(r, "mod.c", "big", (src_loc){ "mod.c", 30, 1 }, "path budget exhausted"),
                     0);
    pr_stats s = { 2, 1, 1, 3, 1, 17, 42, 1.25 };
    pr_add_stats(r, &s);
    r->stats.seconds = 1.25;   /* pr_add_stats does not add the time */
}

static void test_json_contract(void **state)
{
    (void)state;
    pr_report r;
    pr_init(&r);
    fill_report(&r);
    char *text = json_text_of(&r, "1.2.3");
    jv *root = json_parse(text);

    static const char *const top[] = { "tool", "findings", "errors", "incomplete", "stats" };
    assert_true(same_keys(root, top, 5));
    jv *tool = jreq(root, "tool", J_OBJ);
    assert_string_equal(jstr(tool, "name"), "pyrefcheck");
    assert_string_equal(jstr(tool, "version"), "1.2.3");

    jv *fs = jreq(root, "findings", J_ARR);
    assert_int_equal(fs->n, 2);
    static const char *const fkeys[] = { "rule", "severity", "file", "line", "column", "function",
                                         "message", "fingerprint", "validation", "path" };
    jv *f0 = fs->items[0];
    assert_true(same_keys(f0, fkeys, 10));
    assert_string_equal(jstr(f0, "rule"), "leak");
    assert_string_equal(jstr(f0, "severity"), "warning");
    assert_string_equal(jstr(f0, "file"), "mod.c");
    assert_true(jnum(f0, "line") == 12);
    assert_true(jnum(f0, "column") == 5);
    assert_string_equal(jstr(f0, "function"), "make");
    assert_string_equal(jstr(f0, "message"), "reference to 'x' leaked");
    char fp[17];
    pr_fingerprint_hex("leak|make|x", fp);
    assert_string_equal(jstr(f0, "fingerprint"), fp);
    assert_int_equal(jreq(f0, "validation", J_NULL)->type, J_NULL);
    jv *path = jreq(f0, "path", J_ARR);
    assert_int_equal(path->n, 3);
    static const char *const skeys[] = { "file", "line", "column", "message", "refs" };
    assert_true(same_keys(path->items[0], skeys, 5));
    assert_string_equal(jstr(path->items[0], "message"), "new reference from \"PyLong_FromLong\"");
    assert_true(jnum(path->items[0], "line") == 10);
    assert_true(jnum(path->items[0], "column") == 9);
    assert_true(jnum(path->items[0], "refs") == 1);
    /* refs -1 (unknown) is left out */
    assert_true(same_keys(path->items[1], skeys, 4));
    assert_null(jget(path->items[1], "refs"));
    assert_true(jnum(path->items[2], "line") == 12);

    jv *f1 = fs->items[1];
    assert_string_equal(jstr(f1, "severity"), "error");
    assert_string_equal(jstr(f1, "validation"), "confirmed");
    /* escapes round-trip; the Latin-1 byte became U+FFFD */
    assert_string_equal(jstr(f1, "message"), "NULL \\ dereference\tof\n'p' caf\xef\xbf\xbd");
    assert_int_equal(jreq(f1, "path", J_ARR)->n, 0);

    jv *es = jreq(root, "errors", J_ARR);
    assert_int_equal(es->n, 1);
    static const char *const ekeys[] = { "file", "message" };
    assert_true(same_keys(es->items[0], ekeys, 2));
    assert_string_equal(jstr(es->items[0], "file"), "bad \"file\".c");
    assert_string_equal(jstr(es->items[0], "message"), "3:1: expected ';'");

    jv *inc = jreq(root, "incomplete", J_ARR);
    assert_int_equal(inc->n, 1);
    static const char *const ikeys[] = { "file", "line", "column", "function", "reason" };
    assert_true(same_keys(inc->items[0], ikeys, 5));
    assert_string_equal(jstr(inc->items[0], "function"), "big");
    assert_string_equal(jstr(inc->items[0], "reason"), "path budget exhausted");
    assert_true(jnum(inc->items[0], "line") == 30);

    jv *st = jreq(root, "stats", J_OBJ);
    static const char *const stkeys[] = { "files", "files_skipped", "files_failed", "functions",
                                          "functions_incomplete", "cfg_blocks", "paths", "findings",
                                          "seconds" };
    assert_true(same_keys(st, stkeys, 9));
    assert_true(jnum(st, "files") == 2);
    assert_true(jnum(st, "files_skipped") == 1);
    assert_true(jnum(st, "files_failed") == 1);
    assert_true(jnum(st, "functions") == 3);
    assert_true(jnum(st, "functions_incomplete") == 1);
    assert_true(jnum(st, "cfg_blocks") == 17);
    assert_true(jnum(st, "paths") == 42);
    assert_true(jnum(st, "findings") == 2);
    assert_true(jnum(st, "seconds") == 1.25);
    jv_free(root);
    free(text);
    pr_free(&r);
}

static void test_json_empty_report(void **state)
{
    (void)state;
    pr_report r;
    pr_init(&r);
    char *text = json_text_of(&r, "0.1.0");
    jv *root = json_parse(text);
    assert_int_equal(jreq(root, "findings", J_ARR)->n, 0);
    assert_int_equal(jreq(root, "errors", J_ARR)->n, 0);
    assert_int_equal(jreq(root, "incomplete", J_ARR)->n, 0);
    assert_true(jnum(jreq(root, "stats", J_OBJ), "findings") == 0);
    jv_free(root);
    free(text);
    /* a version string needing escapes */
    text = json_text_of(&r, "1.0 \"dev\"");
    root = json_parse(text);
    assert_string_equal(jstr(jreq(root, "tool", J_OBJ), "version"), "1.0 \"dev\"");
    jv_free(root);
    free(text);
    pr_free(&r);
}

static void test_text_output(void **state)
{
    (void)state;
    pr_report r;
    pr_init(&r);
    fill_report(&r);
    char *t = text_of(&r, false, true);
    assert_string_equal(t,
        "mod.c:12:5: warning: reference to 'x' leaked [leak]\n"
        "mod.c:10:9: note: new reference from \"PyLong_FromLong\"\n"
        "mod.c:11:5: note: branch taken\n"
        "mod.c:12:5: note: returned without releasing\n"
        "mod.c:20:3: error: NULL \\ dereference\tof\n'p' caf\xe9 [null-deref]\n"
        "mod.c:20:3: note: validation: confirmed\n"
        "mod.c:30:1: remark: analysis of 'big' incomplete: path budget exhausted\n");
    free(t);
    /* not quiet: a summary line at the end */
    t = text_of(&r, false, false);
    const char *summary = "pyrefcheck: 2 files, 3 functions, 2 findings (leak: 1, null-deref: 1), "
                          "1 file not analysed, 1.25s\n";
    size_t tl = strlen(t), sl = strlen(summary);
    assert_true(tl > sl);
    assert_string_equal(t + tl - sl, summary);
    assert_null(strchr(t, '\033'));
    free(t);
    /* colour: escapes around the location and the severity word */
    t = text_of(&r, true, true);
    assert_non_null(strstr(t, "\033[1mmod.c:12:5:\033[0m"));
    assert_non_null(strstr(t, "\033[1;35mwarning:\033[0m reference to 'x' leaked [leak]"));
    assert_non_null(strstr(t, "\033[1;31merror:\033[0m"));
    assert_non_null(strstr(t, "\033[1;36mnote:\033[0m branch taken"));
    free(t);
    pr_free(&r);
}

static void test_text_summary_counts(void **state)
{
    (void)state;
    pr_report r;
    pr_init(&r);
    r.stats.files = 1;
    r.stats.functions = 1;
    char *t = text_of(&r, false, false);
    assert_string_equal(t, "pyrefcheck: 1 file, 1 function, 0 findings, 0.00s\n");
    free(t);
    const char *rules[] = { "b-rule", "a-rule", "b-rule", "b-rule" };
    for (int i = 0; i < 4; i++) {
        pr_finding f = mk(0, NULL, (unsigned)i + 1, 1, rules[i], "m");
        pr_add_finding(&r, &f);
    }
    t = text_of(&r, false, false);
    /* per-rule counts in order of first appearance; unknown file shown */
    assert_non_null(strstr(t, "<unknown>:1:1: warning: m [b-rule]\n"));
    assert_non_null(strstr(t, "pyrefcheck: 1 file, 1 function, 4 findings (b-rule: 3, a-rule: 1), 0.00s\n"));
    free(t);
    pr_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fingerprint_fnv1a),
        cmocka_unit_test(test_fingerprint_stable_hex),
        cmocka_unit_test(test_add_finding_copies),
        cmocka_unit_test(test_add_finding_out_of_memory),
        cmocka_unit_test(test_add_many_findings_grows),
        cmocka_unit_test(test_sort_and_dedupe),
        cmocka_unit_test(test_sort_file_index_before_name),
        cmocka_unit_test(test_stats_add),
        cmocka_unit_test(test_json_contract),
        cmocka_unit_test(test_json_empty_report),
        cmocka_unit_test(test_text_output),
        cmocka_unit_test(test_text_summary_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
