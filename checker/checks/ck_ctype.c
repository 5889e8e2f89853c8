/* ck_ctype.c - matches the knowledge base's C type spellings against the
 * canonical types of arguments and parameters (see ck_ctype.h). */
#include "ck_ctype.h"

#include "../base/strbuf.h"
#include "checks.h"

#include <stdio.h>
#include <string.h>

/* A type reduced to its base words and pointer depth. */
typedef struct ck_norm {
    char base[128];          /* words without qualifiers, one blank between */
    int depth;               /* trailing '*' count */
    bool complex;            /* function pointer, array: compared as text */
} ck_norm;

static bool ck_is_qualifier(const char *w, size_t n)
{
    static const char *const q[] = { "const", "volatile", "restrict", "__restrict", "_Atomic" };
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
        if (strlen(q[i]) == n && strncmp(q[i], w, n) == 0)
            return true;
    return false;
}

static void ck_normalize(const char *s, ck_norm *out)
{
    memset(out, 0, sizeof *out);
    size_t bl = 0;
    out->complex = strchr(s, '(') || strchr(s, '[');
    for (const char *p = s; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        if (*p == '*') {
            out->depth++;
            p++;
            continue;
        }
        const char *w = p;
        while (*p && *p != ' ' && *p != '*')
            p++;
        size_t n = (size_t)(p - w);
        if (ck_is_qualifier(w, n))
            continue;
        if (out->depth > 0 && !out->complex) {
            /* words after a '*' (other than qualifiers): not a simple type */
            out->complex = true;
        }
        if (bl + n + 2 < sizeof out->base) {
            if (bl)
                out->base[bl++] = ' ';
            memcpy(out->base + bl, w, n);
            bl += n;
            out->base[bl] = '\0';
        }
    }
}

/* The base without signed/unsigned words; enums count as int. */
static void ck_unsigned_base(const char *base, char *out, size_t len)
{
    if (strncmp(base, "enum ", 5) == 0) {
        snprintf(out, len, "int");
        return;
    }
    size_t o = 0;
    out[0] = '\0';
    for (const char *p = base; *p;) {
        while (*p == ' ')
            p++;
        const char *w = p;
        while (*p && *p != ' ')
            p++;
        size_t n = (size_t)(p - w);
        if (n == 0 || (n == 6 && strncmp(w, "signed", 6) == 0) ||
            (n == 8 && strncmp(w, "unsigned", 8) == 0))
            continue;
        if (o + n + 2 < len) {
            if (o)
                out[o++] = ' ';
            memcpy(out + o, w, n);
            o += n;
            out[o] = '\0';
        }
    }
    if (!out[0])
        snprintf(out, len, "int");    /* "unsigned" alone */
}

ck_ct_result ck_ctype_match(fe_tu *tu, const char *expected, const char *actual, ty_class ty,
                            bool is_null)
{
    ck_norm ex;
    ck_normalize(expected, &ex);
    if (strcmp(ex.base, "any") == 0)
        return CK_CT_OK;
    bool ex_pointer = ex.depth > 0 || strcmp(ex.base, "object") == 0 ||
                      strcmp(ex.base, "pointer") == 0 || strcmp(ex.base, "function") == 0;
    if (is_null && ex_pointer)
        return CK_CT_OK;
    if (!actual || !actual[0])
        return CK_CT_UNKNOWN;
    ck_norm ac;
    ck_normalize(actual, &ac);
    bool ac_void_ptr = !ac.complex && ac.depth >= 1 && strcmp(ac.base, "void") == 0;
    bool ac_func = ac.complex && strstr(actual, "(*)") != NULL;
    if (strcmp(ex.base, "object") == 0) {
        /* pointers to opaque structs pass too: the limited API hides
         * PyTypeObject's fields, so the frontend cannot see its PyObject head */
        bool any_struct = !ac.complex && strncmp(ac.base, "struct ", 7) == 0;
        if (ex.depth == 0)
            return ty == TY_OBJ || (ac_void_ptr && ac.depth == 1) || (any_struct && ac.depth == 1)
                   ? CK_CT_OK : CK_CT_MISMATCH;
        if (ex.depth == 1)
            return ty == TY_OBJPTR || ac_void_ptr || (any_struct && ac.depth == 2)
                   ? CK_CT_OK : CK_CT_MISMATCH;
        return CK_CT_UNKNOWN;
    }
    if (strcmp(ex.base, "pointer") == 0)
        return ty == TY_PTR || ty == TY_OBJ || ty == TY_OBJPTR ? CK_CT_OK : CK_CT_MISMATCH;
    if (strcmp(ex.base, "function") == 0)
        return ac_func || ac_void_ptr ? CK_CT_OK : CK_CT_MISMATCH;
    /* a C type: resolve its base through the file's typedefs */
    const char *canon = fe_tu_type_canonical(tu, ex.base);
    if (!canon)
        return CK_CT_UNKNOWN;
    ck_norm cb;
    ck_normalize(canon, &cb);
    if (cb.complex)
        return ac_func || ac_void_ptr ? CK_CT_OK : CK_CT_MISMATCH;   /* a function typedef */
    int depth = ex.depth + cb.depth;
    /* a pointer to a Python object where a specific object struct is
     * expected (a PyObject * holding a type for PyTypeObject *) */
    if (depth == 1 && strncmp(cb.base, "struct ", 7) == 0 && ty == TY_OBJ)
        return CK_CT_OK;
    if (ac.complex)
        return CK_CT_MISMATCH;
    if (ac.depth != depth)
        return ac_void_ptr && depth >= 1 ? CK_CT_OK : CK_CT_MISMATCH;
    if (strcmp(ac.base, cb.base) == 0)
        return CK_CT_OK;
    if (depth >= 1 && strcmp(ac.base, "void") == 0)
        return CK_CT_OK;      /* a void * is generic */
    char a[128], b[128];
    ck_unsigned_base(ac.base, a, sizeof a);
    ck_unsigned_base(cb.base, b, sizeof b);
    return strcmp(a, b) == 0 ? CK_CT_OK : CK_CT_MISMATCH;
}

int ck_ctype_item(const char *list, int i, char *buf, size_t len)
{
    if (!list || len == 0)
        return -1;
    const char *p = list;
    for (int k = 0; k < i; k++) {
        p = strchr(p, ',');
        if (!p)
            return -1;
        p++;
    }
    while (*p == ' ')
        p++;
    const char *e = strchr(p, ',');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    while (n && p[n - 1] == ' ')
        n--;
    if (n == 0)
        return -1;
    if (n >= len)
        n = len - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return 0;
}

bool ck_ctype_is_plain_int(const char *type)
{
    return type && (strcmp(type, "int") == 0 || strcmp(type, "unsigned int") == 0);
}

const char *ck_ctype_display(const char *type, char *buf, size_t len)
{
    static const struct { const char *kb, *c; } names[] = {
        { "object", "PyObject *" }, { "object *", "PyObject **" }, { "pointer", "a pointer" },
        { "function", "a function pointer" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(type, names[i].kb) == 0) {
            snprintf(buf, len, "%s", names[i].c);
            return buf;
        }
    snprintf(buf, len, "%s", type);
    return buf;
}

const char *ck_ctype_display_list(const char *list, char *buf, size_t len)
{
    char item[96], shown[96];
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; ck_ctype_item(list, i, item, sizeof item) == 0; i++) {
        int n = snprintf(buf + o, len - o, "%s%s", i ? ", " : "",
                         ck_ctype_display(item, shown, sizeof shown));
        if (n < 0 || (size_t)n >= len - o)
            break;
        o += (size_t)n;
    }
    return buf;
}
