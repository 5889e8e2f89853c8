/* rt_str.c - str, bytes and bytearray objects of the reference runtime.  A
 * str is a real compact object (compact ASCII, or compact UCS1/UCS2/UCS4 with
 * the smallest kind that holds its characters) so the PyUnicode_* macros of
 * the headers work on it.  Also PyUnicode_FromFormat's units and the str
 * methods extensions call most (upper, lower, strip, split, rsplit, join,
 * startswith, endswith).
 *
 * The C API functions defined here return what CPython documents for them
 * (NULL or -1 with an exception set on failure; new or borrowed references
 * as the C API manual and rules/ say) and are counted and made to fail by
 * RT_ENTER* (rt_fault.c) before doing any work.
 */
#include "rt_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* ---- construction -------------------------------------------------------------- */

static PyObject *rt_str_alloc(Py_ssize_t len, Py_UCS4 maxchar)
{
    int kind = maxchar < 128 ? 1 : maxchar < 256 ? 1 : maxchar < 65536 ? 2 : 4;
    bool ascii = maxchar < 128;
    size_t header = ascii ? sizeof(PyASCIIObject) : sizeof(PyCompactUnicodeObject);
    PyObject *o = rt_alloc_size(&PyUnicode_Type, header + (size_t)(len + 1) * (size_t)kind);
    PyASCIIObject *a = (PyASCIIObject *)o;
    a->length = len;
    a->hash = -1;
    a->state.interned = 0;
    a->state.kind = (unsigned)kind;
    a->state.compact = 1;
    a->state.ascii = ascii;
    a->state.ready = 1;
    a->wstr = NULL;
    return o;
}

PyObject *rt_str_from_ucs4(const Py_UCS4 *u, Py_ssize_t n)
{
    Py_UCS4 max = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (u[i] > max)
            max = u[i];
    PyObject *o = rt_str_alloc(n, max);
    int kind = PyUnicode_KIND(o);
    void *data = PyUnicode_DATA(o);
    for (Py_ssize_t i = 0; i < n; i++)
        PyUnicode_WRITE(kind, data, i, u[i]);
    PyUnicode_WRITE(kind, data, n, 0);
    return o;
}

/* Decodes n bytes of UTF-8; returns the number of code points or -1. */
static Py_ssize_t rt_utf8_decode(const unsigned char *s, Py_ssize_t n, Py_UCS4 *out)
{
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < n;) {
        unsigned c = s[i];
        Py_UCS4 cp;
        int len;
        if (c < 0x80) { cp = c; len = 1; }
        else if ((c & 0xE0) == 0xC0) { cp = c & 0x1F; len = 2; }
        else if ((c & 0xF0) == 0xE0) { cp = c & 0x0F; len = 3; }
        else if ((c & 0xF8) == 0xF0) { cp = c & 0x07; len = 4; }
        else return -1;
        if (i + len > n)
            return -1;
        for (int j = 1; j < len; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return -1;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (out)
            out[k] = cp;
        k++;
        i += len;
    }
    return k;
}

PyObject *rt_str_from_utf8(const char *s, Py_ssize_t n)
{
    bool ascii = true;
    for (Py_ssize_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80) {
            ascii = false;
            break;
        }
    if (ascii) {
        PyObject *o = rt_str_alloc(n, 0);
        memcpy(PyUnicode_DATA(o), s, (size_t)n);
        ((char *)PyUnicode_DATA(o))[n] = 0;
        return o;
    }
    Py_ssize_t k = rt_utf8_decode((const unsigned char *)s, n, NULL);
    if (k < 0) {
        rt_err_setstr(PyExc_UnicodeDecodeError, "'utf-8' codec can't decode bytes");
        return NULL;
    }
    Py_UCS4 *u = malloc((size_t)(k + 1) * sizeof *u);
    if (!u)
        rt_die("out of memory");
    rt_utf8_decode((const unsigned char *)s, n, u);
    PyObject *o = rt_str_from_ucs4(u, k);
    free(u);
    return o;
}

PyObject *rt_str_from_cstr(const char *s)
{
    return rt_str_from_utf8(s, (Py_ssize_t)strlen(s));
}

static size_t rt_utf8_encode(Py_UCS4 c, char *out)
{
    if (c < 0x80) { out[0] = (char)c; return 1; }
    if (c < 0x800) { out[0] = (char)(0xC0 | (c >> 6)); out[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12)); out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F)); return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18)); out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F)); out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

const char *rt_str_utf8(PyObject *s, Py_ssize_t *len)
{
    if (!rt_use(s, RT_USE_ACCESS))
        return NULL;
    if (!s || !PyUnicode_Check(s)) {
        rt_err_format(PyExc_TypeError, "bad argument type: expected str, got %s",
                      s ? Py_TYPE(s)->tp_name : "NULL");
        return NULL;
    }
    if (PyUnicode_IS_ASCII(s)) {
        if (len)
            *len = PyUnicode_GET_LENGTH(s);
        return (const char *)PyUnicode_DATA(s);
    }
    PyCompactUnicodeObject *c = (PyCompactUnicodeObject *)s;
    if (!c->utf8) {
        Py_ssize_t n = PyUnicode_GET_LENGTH(s);
        char *buf = rt_mem_alloc((size_t)n * 4 + 1, false);
        size_t k = 0;
        for (Py_ssize_t i = 0; i < n; i++)
            k += rt_utf8_encode(PyUnicode_READ_CHAR(s, i), buf + k);
        buf[k] = 0;
        c->utf8 = buf;
        c->utf8_length = (Py_ssize_t)k;
    }
    if (len)
        *len = c->utf8_length;
    return c->utf8;
}

bool rt_str_eq_cstr(PyObject *s, const char *c)
{
    Py_ssize_t n;
    const char *u = rt_str_utf8(s, &n);
    return u && (size_t)n == strlen(c) && !memcmp(u, c, (size_t)n);
}

static bool rt_str_eq(PyObject *a, PyObject *b)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(a);
    if (n != PyUnicode_GET_LENGTH(b) || PyUnicode_KIND(a) != PyUnicode_KIND(b))
        return false;
    return !memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)n * PyUnicode_KIND(a));
}

/* A UCS4 copy of s (malloc'ed). */
static Py_UCS4 *rt_str_ucs4(PyObject *s, Py_ssize_t *n)
{
    *n = PyUnicode_GET_LENGTH(s);
    Py_UCS4 *u = malloc((size_t)(*n + 1) * sizeof *u);
    if (!u)
        rt_die("out of memory");
    for (Py_ssize_t i = 0; i < *n; i++)
        u[i] = PyUnicode_READ_CHAR(s, i);
    return u;
}

PyObject *rt_str_concat(PyObject *a, PyObject *b)
{
    Py_ssize_t na, nb;
    Py_UCS4 *ua = rt_str_ucs4(a, &na), *ub = rt_str_ucs4(b, &nb);
    Py_UCS4 *u = malloc((size_t)(na + nb + 1) * sizeof *u);
    if (!u)
        rt_die("out of memory");
    memcpy(u, ua, (size_t)na * sizeof *u);
    memcpy(u + na, ub, (size_t)nb * sizeof *u);
    PyObject *r = rt_str_from_ucs4(u, na + nb);
    free(u);
    free(ua);
    free(ub);
    return r;
}

PyObject *rt_str_repeat(PyObject *s, Py_ssize_t n)
{
    Py_ssize_t len;
    Py_UCS4 *u = rt_str_ucs4(s, &len);
    Py_UCS4 *out = malloc((size_t)(len * n + 1) * sizeof *out);
    if (!out)
        rt_die("out of memory");
    for (Py_ssize_t k = 0; k < n; k++)
        memcpy(out + k * len, u, (size_t)len * sizeof *u);
    PyObject *r = rt_str_from_ucs4(out, len * n);
    free(out);
    free(u);
    return r;
}

PyObject *rt_str_intern(const char *s)
{
    rt_ctx *c = rt_state();
    for (size_t i = 0; i < c->ninterned; i++)
        if (rt_str_eq_cstr(c->interned[i], s)) {
            Py_INCREF(c->interned[i]);
            return c->interned[i];
        }
    PyObject *o = rt_str_from_cstr(s);
    if (!o)
        return NULL;
    if (c->ninterned == c->capinterned) {
        size_t ncap = c->capinterned ? c->capinterned * 2 : 16;
        PyObject **n = realloc(c->interned, ncap * sizeof *n);
        if (!n)
            rt_die("out of memory");
        c->interned = n;
        c->capinterned = ncap;
    }
    Py_INCREF(o);
    c->interned[c->ninterned++] = o;
    return o;
}

/* ---- PyUnicode_FromFormat ---------------------------------------------------------- */

typedef struct rt_buf {
    char *p;
    size_t n, cap;
} rt_buf;

static void rt_buf_add(rt_buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t ncap = (b->cap + n + 1) * 2;
        char *p = realloc(b->p, ncap);
        if (!p)
            rt_die("out of memory");
        b->p = p;
        b->cap = ncap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static bool rt_buf_obj(rt_buf *b, PyObject *o, int prec)
{
    if (!o)
        return false;
    Py_ssize_t n;
    const char *s = rt_str_utf8(o, &n);
    if (!s)
        return false;
    if (prec >= 0 && n > prec)
        n = prec;
    rt_buf_add(b, s, (size_t)n);
    return true;
}

PyObject *rt_str_format(const char *fmt, va_list ap)
{
    rt_buf b = { 0 };
    rt_buf_add(&b, "", 0);
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            rt_buf_add(&b, f, 1);
            continue;
        }
        const char *start = f++;
        if (*f == '%') {
            rt_buf_add(&b, "%", 1);
            continue;
        }
        while (*f && strchr("-+ #0", *f))
            f++;
        int width = -1, prec = -1;
        if (*f == '*') { width = va_arg(ap, int); f++; }
        while (*f >= '0' && *f <= '9') f++;
        if (*f == '.') {
            f++;
            if (*f == '*') { prec = va_arg(ap, int); f++; }
            else { prec = atoi(f); while (*f >= '0' && *f <= '9') f++; }
        }
        (void)width;
        int lng = 0;
        bool z = false;
        while (*f == 'l') { lng++; f++; }
        if (*f == 'z') { z = true; f++; }
        char spec[32];
        char tmp[128];
        size_t sl = (size_t)(f - start) + 1 < sizeof spec ? (size_t)(f - start) + 1 : sizeof spec - 1;
        PyObject *o = NULL;
        switch (*f) {
        case 'd': case 'i': case 'u': case 'x': case 'X': case 'o': {
            /* rebuild a clean specifier: % [flags] [width] length conv */
            memcpy(spec, start, sl);
            spec[sl] = 0;
            if (z) {
                Py_ssize_t v = va_arg(ap, Py_ssize_t);
                snprintf(tmp, sizeof tmp, *f == 'd' || *f == 'i' ? "%zd" : "%zu", v);
            } else if (lng >= 2) {
                long long v = va_arg(ap, long long);
                snprintf(tmp, sizeof tmp, *f == 'd' || *f == 'i' ? "%lld" : *f == 'x' ? "%llx" : "%llu", v);
            } else if (lng == 1) {
                long v = va_arg(ap, long);
                snprintf(tmp, sizeof tmp, *f == 'd' || *f == 'i' ? "%ld" : *f == 'x' ? "%lx" : "%lu", v);
            } else {
                int v = va_arg(ap, int);
                snprintf(tmp, sizeof tmp, *f == 'd' || *f == 'i' ? "%d" : *f == 'x' ? "%x" : "%u", v);
            }
            rt_buf_add(&b, tmp, strlen(tmp));
            break;
        }
        case 'c': {
            int c = va_arg(ap, int);
            size_t k = rt_utf8_encode((Py_UCS4)c, tmp);
            rt_buf_add(&b, tmp, k);
            break;
        }
        case 'p': {
            void *p = va_arg(ap, void *);
            snprintf(tmp, sizeof tmp, "%p", p);
            rt_buf_add(&b, tmp, strlen(tmp));
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            size_t n = s ? strlen(s) : 6;
            if (prec >= 0 && n > (size_t)prec)
                n = (size_t)prec;
            rt_buf_add(&b, s ? s : "(null)", n);
            break;
        }
        case 'U':
            if (!rt_buf_obj(&b, va_arg(ap, PyObject *), prec))
                goto fail;
            break;
        case 'V': {
            PyObject *ob = va_arg(ap, PyObject *);
            const char *s = va_arg(ap, const char *);
            if (ob) {
                if (!rt_buf_obj(&b, ob, prec))
                    goto fail;
            } else {
                rt_buf_add(&b, s ? s : "", s ? strlen(s) : 0);
            }
            break;
        }
        case 'S': case 'R': case 'A': {
            PyObject *ob = va_arg(ap, PyObject *);
            o = *f == 'S' ? rt_str(ob) : rt_repr(ob);
            bool ok = rt_buf_obj(&b, o, prec);
            Py_XDECREF(o);
            if (!ok)
                goto fail;
            break;
        }
        default:
            rt_buf_add(&b, start, (size_t)(f - start) + (*f ? 1 : 0));
            if (!*f)
                f--;
            break;
        }
    }
    PyObject *r = rt_str_from_utf8(b.p, (Py_ssize_t)b.n);
    free(b.p);
    return r;
fail:
    free(b.p);
    return NULL;
}

/* ---- str slots and methods ------------------------------------------------------------ */

static void rt_plain_dealloc(PyObject *o)
{
    rt_quarantine(o);
}

static PyObject *rt_str_repr(PyObject *o)
{
    Py_ssize_t n;
    const char *s = rt_str_utf8(o, &n);
    char *buf = malloc((size_t)n * 2 + 3);
    if (!buf)
        rt_die("out of memory");
    size_t k = 0;
    buf[k++] = '\'';
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] == '\'' || s[i] == '\\')
            buf[k++] = '\\';
        buf[k++] = s[i];
    }
    buf[k++] = '\'';
    PyObject *r = rt_str_from_utf8(buf, (Py_ssize_t)k);
    free(buf);
    return r;
}

static PyObject *rt_str_str(PyObject *o)
{
    Py_INCREF(o);
    return o;
}

static Py_hash_t rt_str_hash(PyObject *o)
{
    PyASCIIObject *a = (PyASCIIObject *)o;
    if (a->hash != -1)
        return a->hash;
    uint64_t h = 1469598103934665603ull;
    const unsigned char *d = PyUnicode_DATA(o);
    size_t n = (size_t)PyUnicode_GET_LENGTH(o) * PyUnicode_KIND(o);
    for (size_t i = 0; i < n; i++)
        h = (h ^ d[i]) * 1099511628211ull;
    Py_hash_t r = (Py_hash_t)(h >> 1);
    if (r == -1)
        r = -2;
    a->hash = r;
    return r;
}

static PyObject *rt_str_richcompare(PyObject *a, PyObject *b, int op)
{
    if (!PyUnicode_Check(b) || (op != Py_EQ && op != Py_NE)) {
        if (PyUnicode_Check(b)) {
            Py_ssize_t na, nb;
            const char *x = rt_str_utf8(a, &na), *y = rt_str_utf8(b, &nb);
            int c = memcmp(x, y, (size_t)(na < nb ? na : nb));
            if (!c)
                c = na < nb ? -1 : na > nb;
            bool r = op == Py_LT ? c < 0 : op == Py_LE ? c <= 0 : op == Py_GT ? c > 0 : c >= 0;
            return rt_bool(r);
        }
        Py_INCREF(Py_NotImplemented);
        return Py_NotImplemented;
    }
    return rt_bool(rt_str_eq(a, b) == (op == Py_EQ));
}

static Py_ssize_t rt_str_len(PyObject *o)
{
    return PyUnicode_GET_LENGTH(o);
}

static PyObject *rt_str_item(PyObject *o, Py_ssize_t i)
{
    if (i < 0 || i >= PyUnicode_GET_LENGTH(o)) {
        rt_err_setstr(PyExc_IndexError, "string index out of range");
        return NULL;
    }
    Py_UCS4 c = PyUnicode_READ_CHAR(o, i);
    return rt_str_from_ucs4(&c, 1);
}

static int rt_str_contains(PyObject *o, PyObject *v)
{
    if (!PyUnicode_Check(v)) {
        rt_err_setstr(PyExc_TypeError, "'in <string>' requires string as left operand");
        return -1;
    }
    const char *h = rt_str_utf8(o, NULL), *n = rt_str_utf8(v, NULL);
    return strstr(h, n) != NULL;
}

static PySequenceMethods rt_str_as_sequence = {
    .sq_length = rt_str_len,
    .sq_item = rt_str_item,
    .sq_contains = rt_str_contains,
};

static PyObject *rt_str_case(PyObject *self, bool upper)
{
    Py_ssize_t n;
    Py_UCS4 *u = rt_str_ucs4(self, &n);
    for (Py_ssize_t i = 0; i < n; i++)
        if (u[i] < 128)
            u[i] = (Py_UCS4)(upper ? (u[i] >= 'a' && u[i] <= 'z' ? u[i] - 32 : u[i])
                                   : (u[i] >= 'A' && u[i] <= 'Z' ? u[i] + 32 : u[i]));
    PyObject *r = rt_str_from_ucs4(u, n);
    free(u);
    return r;
}

static PyObject *rt_str_upper(PyObject *self, PyObject *unused)
{
    return rt_str_case(self, true);
}

static PyObject *rt_str_lower(PyObject *self, PyObject *unused)
{
    return rt_str_case(self, false);
}

static bool rt_is_space(Py_UCS4 c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static PyObject *rt_str_strip(PyObject *self, PyObject *args)
{
    Py_ssize_t n;
    Py_UCS4 *u = rt_str_ucs4(self, &n);
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi && rt_is_space(u[lo]))
        lo++;
    while (hi > lo && rt_is_space(u[hi - 1]))
        hi--;
    PyObject *r = rt_str_from_ucs4(u + lo, hi - lo);
    free(u);
    return r;
}

static PyObject *rt_str_split_impl(PyObject *self, PyObject *args, bool right)
{
    Py_ssize_t na = args ? PyTuple_GET_SIZE(args) : 0;
    PyObject *sepo = na > 0 ? PyTuple_GET_ITEM(args, 0) : Py_None;
    long long maxsplit = -1;
    if (na > 1) {
        int err;
        maxsplit = rt_as_ll(PyTuple_GET_ITEM(args, 1), &err);
        if (err)
            return NULL;
    }
    if (sepo != Py_None && !PyUnicode_Check(sepo)) {
        rt_err_setstr(PyExc_TypeError, "must be str or None");
        return NULL;
    }
    Py_ssize_t n, ns = 0;
    Py_UCS4 *u = rt_str_ucs4(self, &n);
    Py_UCS4 *sep = sepo != Py_None ? rt_str_ucs4(sepo, &ns) : NULL;
    if (sep && ns == 0) {
        free(u);
        free(sep);
        rt_err_setstr(PyExc_ValueError, "empty separator");
        return NULL;
    }
    PyObject *list = rt_list_new(0);
    /* collect pieces as [start, end) pairs from the chosen side */
    Py_ssize_t *cuts = malloc((size_t)(2 * n + 4) * sizeof *cuts);
    if (!cuts)
        rt_die("out of memory");
    Py_ssize_t nc = 0, splits = 0;
    if (sep) {
        if (!right) {
            Py_ssize_t start = 0;
            for (Py_ssize_t i = 0; i + ns <= n;) {
                if ((maxsplit < 0 || splits < maxsplit) && !memcmp(u + i, sep, (size_t)ns * sizeof *u)) {
                    cuts[nc++] = start; cuts[nc++] = i;
                    i += ns; start = i; splits++;
                } else {
                    i++;
                }
            }
            cuts[nc++] = start; cuts[nc++] = n;
        } else {
            Py_ssize_t end = n;
            for (Py_ssize_t i = n - ns; i >= 0;) {
                if ((maxsplit < 0 || splits < maxsplit) && !memcmp(u + i, sep, (size_t)ns * sizeof *u)) {
                    cuts[nc++] = i + ns; cuts[nc++] = end;
                    end = i; i -= ns; splits++;
                } else {
                    i--;
                }
            }
            cuts[nc++] = 0; cuts[nc++] = end;
        }
    } else {
        Py_ssize_t i = 0;
        while (i < n) {
            while (i < n && rt_is_space(u[i])) i++;
            if (i >= n) break;
            Py_ssize_t s = i;
            if (maxsplit >= 0 && splits >= maxsplit) {
                Py_ssize_t e = n;
                while (e > s && rt_is_space(u[e - 1])) e--;
                cuts[nc++] = s; cuts[nc++] = e;
                break;
            }
            while (i < n && !rt_is_space(u[i])) i++;
            cuts[nc++] = s; cuts[nc++] = i;
            splits++;
        }
    }
    for (Py_ssize_t k = 0; k < nc; k += 2) {
        Py_ssize_t idx = right && sep ? nc - 2 - k : k;
        PyObject *piece = rt_str_from_ucs4(u + cuts[idx], cuts[idx + 1] - cuts[idx]);
        rt_list_append(list, piece);
        Py_DECREF(piece);
    }
    free(cuts);
    free(u);
    free(sep);
    return list;
}

static PyObject *rt_str_split(PyObject *self, PyObject *args)
{
    return rt_str_split_impl(self, args, false);
}

static PyObject *rt_str_rsplit(PyObject *self, PyObject *args)
{
    return rt_str_split_impl(self, args, true);
}

static PyObject *rt_str_join_impl(PyObject *sep, PyObject *seq)
{
    PyObject *list = rt_seq_to_list(seq);
    if (!list)
        return NULL;
    Py_ssize_t ns;
    Py_UCS4 *s = rt_str_ucs4(sep, &ns);
    Py_ssize_t total = 0, cap = 16;
    Py_UCS4 *u = malloc((size_t)cap * sizeof *u);
    if (!u)
        rt_die("out of memory");
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        PyObject *it = PyList_GET_ITEM(list, i);
        if (!PyUnicode_Check(it)) {
            rt_err_format(PyExc_TypeError, "sequence item %zd: expected str instance, %s found",
                          i, Py_TYPE(it)->tp_name);
            free(u);
            free(s);
            Py_DECREF(list);
            return NULL;
        }
        Py_ssize_t ni;
        Py_UCS4 *ui = rt_str_ucs4(it, &ni);
        while (total + ni + ns + 1 > cap) {
            cap *= 2;
            Py_UCS4 *nu = realloc(u, (size_t)cap * sizeof *u);
            if (!nu)
                rt_die("out of memory");
            u = nu;
        }
        if (i) {
            memcpy(u + total, s, (size_t)ns * sizeof *u);
            total += ns;
        }
        memcpy(u + total, ui, (size_t)ni * sizeof *u);
        total += ni;
        free(ui);
    }
    PyObject *r = rt_str_from_ucs4(u, total);
    free(u);
    free(s);
    Py_DECREF(list);
    return r;
}

static PyObject *rt_str_join(PyObject *self, PyObject *seq)
{
    return rt_str_join_impl(self, seq);
}

static PyObject *rt_str_affix(PyObject *self, PyObject *arg, bool start)
{
    if (!PyUnicode_Check(arg)) {
        rt_err_setstr(PyExc_TypeError, "startswith/endswith: expected str");
        return NULL;
    }
    Py_ssize_t n, k;
    const char *s = rt_str_utf8(self, &n), *a = rt_str_utf8(arg, &k);
    if (k > n)
        return rt_bool(0);
    return rt_bool(!memcmp(start ? s : s + n - k, a, (size_t)k));
}

static PyObject *rt_str_startswith(PyObject *self, PyObject *arg)
{
    return rt_str_affix(self, arg, true);
}

static PyObject *rt_str_endswith(PyObject *self, PyObject *arg)
{
    return rt_str_affix(self, arg, false);
}

static PyObject *rt_str_encode(PyObject *self, PyObject *args)
{
    Py_ssize_t n;
    const char *s = rt_str_utf8(self, &n);
    return rt_bytes_new(s, n);
}

static PyMethodDef rt_str_methods[] = {
    { "upper", rt_str_upper, METH_NOARGS, NULL },
    { "lower", rt_str_lower, METH_NOARGS, NULL },
    { "strip", rt_str_strip, METH_VARARGS, NULL },
    { "split", rt_str_split, METH_VARARGS, NULL },
    { "rsplit", rt_str_rsplit, METH_VARARGS, NULL },
    { "join", rt_str_join, METH_O, NULL },
    { "startswith", rt_str_startswith, METH_O, NULL },
    { "endswith", rt_str_endswith, METH_O, NULL },
    { "encode", rt_str_encode, METH_VARARGS, NULL },
    { NULL, NULL, 0, NULL },
};

PyTypeObject PyUnicode_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "str",
    .tp_basicsize = sizeof(PyUnicodeObject),
    .tp_dealloc = rt_plain_dealloc,
    .tp_repr = rt_str_repr,
    .tp_as_sequence = &rt_str_as_sequence,
    .tp_hash = rt_str_hash,
    .tp_str = rt_str_str,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_UNICODE_SUBCLASS |
                Py_TPFLAGS_READY,
    .tp_richcompare = rt_str_richcompare,
    .tp_iter = rt_seqiter_new,
    .tp_methods = rt_str_methods,
    .tp_base = &PyBaseObject_Type,
};

/* ---- bytes and bytearray --------------------------------------------------------------- */

PyObject *rt_bytes_new(const char *s, Py_ssize_t n)
{
    PyBytesObject *b = (PyBytesObject *)rt_alloc(&PyBytes_Type, n, 0);
    Py_hash_t nohash = -1;   /* ob_shash (deprecated field name in 3.11) */
    memcpy((char *)b + offsetof(PyBytesObject, ob_sval) - sizeof nohash, &nohash, sizeof nohash);
    if (s)
        memcpy(b->ob_sval, s, (size_t)n);
    b->ob_sval[n] = 0;
    return (PyObject *)b;
}

static PyObject *rt_bytes_repr(PyObject *o)
{
    char buf[256];
    snprintf(buf, sizeof buf, "b'%.200s'", PyBytes_AS_STRING(o));
    return rt_str_from_cstr(buf);
}

static Py_hash_t rt_bytes_hash(PyObject *o)
{
    uint64_t h = 1469598103934665603ull;
    for (Py_ssize_t i = 0; i < Py_SIZE(o); i++)
        h = (h ^ (unsigned char)PyBytes_AS_STRING(o)[i]) * 1099511628211ull;
    Py_hash_t r = (Py_hash_t)(h >> 1);
    return r == -1 ? -2 : r;
}

static PyObject *rt_bytes_richcompare(PyObject *a, PyObject *b, int op)
{
    if (!PyBytes_Check(b) || (op != Py_EQ && op != Py_NE)) {
        Py_INCREF(Py_NotImplemented);
        return Py_NotImplemented;
    }
    bool eq = Py_SIZE(a) == Py_SIZE(b) &&
              !memcmp(PyBytes_AS_STRING(a), PyBytes_AS_STRING(b), (size_t)Py_SIZE(a));
    return rt_bool(eq == (op == Py_EQ));
}

static Py_ssize_t rt_bytes_len(PyObject *o)
{
    return Py_SIZE(o);
}

static PySequenceMethods rt_bytes_as_sequence = { .sq_length = rt_bytes_len };

PyTypeObject PyBytes_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "bytes",
    .tp_basicsize = offsetof(PyBytesObject, ob_sval) + 1,
    .tp_itemsize = 1,
    .tp_dealloc = rt_plain_dealloc,
    .tp_repr = rt_bytes_repr,
    .tp_as_sequence = &rt_bytes_as_sequence,
    .tp_hash = rt_bytes_hash,
    .tp_str = rt_bytes_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_BYTES_SUBCLASS |
                Py_TPFLAGS_READY,
    .tp_richcompare = rt_bytes_richcompare,
    .tp_base = &PyBaseObject_Type,
};

PyTypeObject PyByteArray_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "bytearray",
    .tp_basicsize = sizeof(PyByteArrayObject),
    .tp_dealloc = rt_plain_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_READY,
    .tp_base = &PyBaseObject_Type,
};

/* ---- the API ---------------------------------------------------------------------------- */

PyObject *PyUnicode_FromString(const char *s)
{
    RT_ENTER_PTR("PyUnicode_FromString");
    return rt_str_from_cstr(s);
}

PyObject *PyUnicode_FromStringAndSize(const char *s, Py_ssize_t n)
{
    RT_ENTER_PTR("PyUnicode_FromStringAndSize");
    if (n < 0) {
        rt_err_setstr(PyExc_SystemError, "Negative size passed to PyUnicode_FromStringAndSize");
        return NULL;
    }
    if (!s) {
        PyObject *o = rt_str_alloc(n, 0);
        return o;
    }
    return rt_str_from_utf8(s, n);
}

PyObject *PyUnicode_DecodeUTF8(const char *s, Py_ssize_t n, const char *errors)
{
    RT_ENTER_PTR("PyUnicode_DecodeUTF8");
    return rt_str_from_utf8(s, n);
}

PyObject *PyUnicode_InternFromString(const char *s)
{
    RT_ENTER_PTR("PyUnicode_InternFromString");
    return rt_str_intern(s);
}

void PyUnicode_InternInPlace(PyObject **p)
{
    RT_ENTER_VOID("PyUnicode_InternInPlace");
}

PyObject *PyUnicode_FromFormat(const char *fmt, ...)
{
    RT_ENTER_PTR("PyUnicode_FromFormat");
    va_list ap;
    va_start(ap, fmt);
    PyObject *r = rt_str_format(fmt, ap);
    va_end(ap);
    return r;
}

PyObject *PyUnicode_FromFormatV(const char *fmt, va_list ap)
{
    RT_ENTER_PTR("PyUnicode_FromFormatV");
    va_list cp;
    va_copy(cp, ap);
    PyObject *r = rt_str_format(fmt, cp);
    va_end(cp);
    return r;
}

const char *PyUnicode_AsUTF8(PyObject *s)
{
    RT_ENTER_PTR_IF("PyUnicode_AsUTF8", !s || rt_is_dead(s) || !PyUnicode_Check(s) || !PyUnicode_IS_ASCII(s));
    return rt_str_utf8(s, NULL);
}

const char *PyUnicode_AsUTF8AndSize(PyObject *s, Py_ssize_t *size)
{
    RT_ENTER_PTR_IF("PyUnicode_AsUTF8AndSize", !s || rt_is_dead(s) || !PyUnicode_Check(s) || !PyUnicode_IS_ASCII(s));
    return rt_str_utf8(s, size);
}

PyObject *PyUnicode_AsUTF8String(PyObject *s)
{
    RT_ENTER_PTR("PyUnicode_AsUTF8String");
    Py_ssize_t n;
    const char *u = rt_str_utf8(s, &n);
    return u ? rt_bytes_new(u, n) : NULL;
}

PyObject *PyUnicode_AsEncodedString(PyObject *s, const char *enc, const char *errors)
{
    RT_ENTER_PTR("PyUnicode_AsEncodedString");
    Py_ssize_t n;
    const char *u = rt_str_utf8(s, &n);
    return u ? rt_bytes_new(u, n) : NULL;
}

Py_ssize_t PyUnicode_GetLength(PyObject *s)
{
    RT_ENTER_INT_IF("PyUnicode_GetLength", !s || rt_is_dead(s) || !PyUnicode_Check(s));
    if (!rt_use(s, RT_USE_ACCESS) || !PyUnicode_Check(s)) {
        rt_err_badinternal("PyUnicode_GetLength");
        return -1;
    }
    return PyUnicode_GET_LENGTH(s);
}

PyObject *PyUnicode_Concat(PyObject *a, PyObject *b)
{
    RT_ENTER_PTR("PyUnicode_Concat");
    if (!rt_use(a, RT_USE_ACCESS) || !rt_use(b, RT_USE_ACCESS))
        return NULL;
    if (!PyUnicode_Check(a) || !PyUnicode_Check(b)) {
        rt_err_setstr(PyExc_TypeError, "can only concatenate str to str");
        return NULL;
    }
    return rt_str_concat(a, b);
}

void PyUnicode_Append(PyObject **pleft, PyObject *right)
{
    RT_ENTER_VOID("PyUnicode_Append");
    PyObject *left = *pleft;
    if (!left)
        return;
    if (!right || !PyUnicode_Check(left) || !PyUnicode_Check(right)) {
        Py_CLEAR(*pleft);
        if (right)
            rt_err_badinternal("PyUnicode_Append");
        return;
    }
    *pleft = rt_str_concat(left, right);
    Py_DECREF(left);
}

void PyUnicode_AppendAndDel(PyObject **pleft, PyObject *right)
{
    RT_ENTER_VOID("PyUnicode_AppendAndDel");
    PyObject *left = *pleft;
    if (left && right && PyUnicode_Check(left) && PyUnicode_Check(right)) {
        *pleft = rt_str_concat(left, right);
        Py_DECREF(left);
    } else {
        Py_CLEAR(*pleft);
    }
    Py_XDECREF(right);
}

PyObject *PyUnicode_Join(PyObject *sep, PyObject *seq)
{
    RT_ENTER_PTR("PyUnicode_Join");
    PyObject *s = sep ? sep : NULL;
    PyObject *tmp = NULL;
    if (!s)
        s = tmp = rt_str_from_cstr(" ");
    PyObject *r = rt_str_join_impl(s, seq);
    Py_XDECREF(tmp);
    return r;
}

int PyUnicode_CompareWithASCIIString(PyObject *s, const char *c)
{
    RT_ENTER_VOID("PyUnicode_CompareWithASCIIString");
    const char *u = rt_str_utf8(s, NULL);
    int r = strcmp(u ? u : "", c);
    return r < 0 ? -1 : r > 0;
}

int PyUnicode_Compare(PyObject *a, PyObject *b)
{
    RT_ENTER_INT("PyUnicode_Compare");
    const char *x = rt_str_utf8(a, NULL), *y = rt_str_utf8(b, NULL);
    if (!x || !y)
        return -1;
    int r = strcmp(x, y);
    return r < 0 ? -1 : r > 0;
}

int PyUnicode_Contains(PyObject *a, PyObject *b)
{
    RT_ENTER_INT("PyUnicode_Contains");
    if (!PyUnicode_Check(a)) {
        rt_err_setstr(PyExc_TypeError, "expected str");
        return -1;
    }
    return rt_str_contains(a, b);
}

PyObject *PyUnicode_FromOrdinal(int c)
{
    RT_ENTER_PTR("PyUnicode_FromOrdinal");
    Py_UCS4 u = (Py_UCS4)c;
    return rt_str_from_ucs4(&u, 1);
}

PyObject *PyUnicode_Split(PyObject *s, PyObject *sep, Py_ssize_t maxsplit)
{
    RT_ENTER_PTR("PyUnicode_Split");
    PyObject *m = rt_long_from_ll(maxsplit);
    PyObject *args = rt_tuple_pack(2, sep ? sep : Py_None, m);
    Py_DECREF(m);
    PyObject *r = rt_str_split_impl(s, args, false);
    Py_DECREF(args);
    return r;
}

PyObject *PyBytes_FromString(const char *s)
{
    RT_ENTER_PTR("PyBytes_FromString");
    return rt_bytes_new(s, (Py_ssize_t)strlen(s));
}

PyObject *PyBytes_FromStringAndSize(const char *s, Py_ssize_t n)
{
    RT_ENTER_PTR("PyBytes_FromStringAndSize");
    if (n < 0) {
        rt_err_setstr(PyExc_SystemError, "Negative size passed to PyBytes_FromStringAndSize");
        return NULL;
    }
    return rt_bytes_new(s, n);
}

char *PyBytes_AsString(PyObject *o)
{
    RT_ENTER_PTR("PyBytes_AsString");
    if (!rt_use(o, RT_USE_ACCESS)) {
        rt_err_setstr(PyExc_TypeError, "expected bytes, a released object found");
        return NULL;
    }
    if (!PyBytes_Check(o)) {
        rt_err_format(PyExc_TypeError, "expected bytes, %s found", o ? Py_TYPE(o)->tp_name : "NULL");
        return NULL;
    }
    return PyBytes_AS_STRING(o);
}

Py_ssize_t PyBytes_Size(PyObject *o)
{
    RT_ENTER_INT_IF("PyBytes_Size", !o || rt_is_dead(o) || !PyBytes_Check(o));
    if (!rt_use(o, RT_USE_ACCESS) || !PyBytes_Check(o)) {
        rt_err_setstr(PyExc_TypeError, "expected bytes");
        return -1;
    }
    return Py_SIZE(o);
}

int PyBytes_AsStringAndSize(PyObject *o, char **s, Py_ssize_t *n)
{
    RT_ENTER_INT("PyBytes_AsStringAndSize");
    if (!rt_use(o, RT_USE_ACCESS) || !PyBytes_Check(o)) {
        rt_err_setstr(PyExc_TypeError, "expected bytes");
        return -1;
    }
    *s = PyBytes_AS_STRING(o);
    if (n)
        *n = Py_SIZE(o);
    return 0;
}

PyObject *PyBytes_FromObject(PyObject *o)
{
    RT_ENTER_PTR("PyBytes_FromObject");
    if (PyBytes_CheckExact(o)) {
        Py_INCREF(o);
        return o;
    }
    if (PyByteArray_Check(o))
        return rt_bytes_new(PyByteArray_AS_STRING(o), Py_SIZE(o));
    PyObject *list = rt_seq_to_list(o);
    if (!list)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(list);
    PyObject *b = rt_bytes_new(NULL, n);
    for (Py_ssize_t i = 0; i < n; i++) {
        int err;
        long long v = rt_as_ll(PyList_GET_ITEM(list, i), &err);
        if (err || v < 0 || v > 255) {
            if (!err)
                rt_err_setstr(PyExc_ValueError, "bytes must be in range(0, 256)");
            Py_DECREF(list);
            Py_DECREF(b);
            return NULL;
        }
        PyBytes_AS_STRING(b)[i] = (char)v;
    }
    Py_DECREF(list);
    return b;
}

void PyBytes_Concat(PyObject **pv, PyObject *w)
{
    RT_ENTER_VOID("PyBytes_Concat");
    PyObject *v = *pv;
    if (!v)
        return;
    if (!w || !PyBytes_Check(v) || !PyBytes_Check(w)) {
        Py_CLEAR(*pv);
        return;
    }
    PyObject *r = rt_bytes_new(NULL, Py_SIZE(v) + Py_SIZE(w));
    memcpy(PyBytes_AS_STRING(r), PyBytes_AS_STRING(v), (size_t)Py_SIZE(v));
    memcpy(PyBytes_AS_STRING(r) + Py_SIZE(v), PyBytes_AS_STRING(w), (size_t)Py_SIZE(w));
    *pv = r;
    Py_DECREF(v);
}

void PyBytes_ConcatAndDel(PyObject **pv, PyObject *w)
{
    RT_ENTER_VOID("PyBytes_ConcatAndDel");
    PyObject *v = *pv;
    if (v && w && PyBytes_Check(v) && PyBytes_Check(w)) {
        PyObject *r = rt_bytes_new(NULL, Py_SIZE(v) + Py_SIZE(w));
        memcpy(PyBytes_AS_STRING(r), PyBytes_AS_STRING(v), (size_t)Py_SIZE(v));
        memcpy(PyBytes_AS_STRING(r) + Py_SIZE(v), PyBytes_AS_STRING(w), (size_t)Py_SIZE(w));
        *pv = r;
        Py_DECREF(v);
    } else {
        Py_CLEAR(*pv);
    }
    Py_XDECREF(w);
}

PyObject *PyByteArray_FromStringAndSize(const char *s, Py_ssize_t n)
{
    RT_ENTER_PTR("PyByteArray_FromStringAndSize");
    PyByteArrayObject *b = (PyByteArrayObject *)rt_alloc(&PyByteArray_Type, 0, 0);
    b->ob_bytes = rt_mem_alloc((size_t)n + 1, true);
    if (s)
        memcpy(b->ob_bytes, s, (size_t)n);
    b->ob_start = b->ob_bytes;
    b->ob_alloc = n + 1;
    Py_SET_SIZE(b, n);
    return (PyObject *)b;
}

/* Read by the headers' PyByteArray_AS_STRING for an empty bytearray. */
char _PyByteArray_empty_string[] = "";

/* wchar_t is UCS-4 on the platforms the runtime builds for (Linux). */
PyObject *PyUnicode_FromWideChar(const wchar_t *w, Py_ssize_t size)
{
    RT_ENTER_PTR("PyUnicode_FromWideChar");
    if (!w && size != 0) {
        rt_null_arg();
        rt_err_badinternal("PyUnicode_FromWideChar");
        return NULL;
    }
    if (size == -1)
        size = (Py_ssize_t)wcslen(w);
    _Static_assert(sizeof(wchar_t) == sizeof(Py_UCS4), "wchar_t is not UCS-4");
    return rt_str_from_ucs4((const Py_UCS4 *)w, size);
}
