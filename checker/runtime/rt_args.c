/* rt_args.c - argument parsing and value building in the reference runtime:
 * PyArg_ParseTuple, PyArg_ParseTupleAndKeywords, PyArg_UnpackTuple,
 * Py_BuildValue (and the _SizeT names PY_SSIZE_T_CLEAN maps them to) for
 * the common format units: O O! O& S U s s# z z# y y# i I l k L K n h H b B
 * c C d f p ( ) | $ : ; and, for building, N [ ] { }.
 *
 * The C API functions defined here return what CPython documents for them
 * (NULL or -1 with an exception set on failure; new or borrowed references
 * as the C API manual and rules/ say) and are counted and made to fail by
 * RT_ENTER* (rt_fault.c) before doing any work.
 */
#include "rt_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef int (*rt_converter)(PyObject *, void *);

/* ---- parsing ------------------------------------------------------------------------- */

/* Stores the value of one unit (fmt at *f) from o, or only consumes its
 * va_list arguments when o is NULL (missing optional argument).  Returns 0,
 * or -1 with an exception set. */
static int rt_parse_unit(const char **pf, PyObject *o, va_list *ap, bool ssize, const char *fname)
{
    const char *f = *pf;
    char c = *f++;
    bool hash = false;
    int r = 0;
#define RT_PTR(T) T *p_ = va_arg(*ap, T *)
    if (o && !rt_use(o, RT_USE_ACCESS)) {
        /* a released object: its type is gone (the caller stops parsing) */
        rt_err_setstr(PyExc_SystemError, "use of a released object");
        return -1;
    }
    switch (c) {
    case 'O':
        if (*f == '!') {
            f++;
            PyTypeObject *tp = va_arg(*ap, PyTypeObject *);
            PyObject **out = va_arg(*ap, PyObject **);
            if (o) {
                if (!rt_is_subtype(Py_TYPE(o), tp)) {
                    rt_err_format(PyExc_TypeError, "%s() argument must be %s, not %s", fname,
                                  tp->tp_name, Py_TYPE(o)->tp_name);
                    r = -1;
                } else {
                    *out = o;
                }
            }
        } else if (*f == '&') {
            f++;
            rt_converter conv = va_arg(*ap, rt_converter);
            void *out = va_arg(*ap, void *);
            if (o && !conv(o, out)) {
                if (!rt_state()->exc_type)
                    rt_err_format(PyExc_TypeError, "%s(): conversion failed", fname);
                r = -1;
            }
        } else {
            PyObject **out = va_arg(*ap, PyObject **);
            if (o)
                *out = o;
        }
        break;
    case 'S': case 'U': case 'Y': {
        PyObject **out = va_arg(*ap, PyObject **);
        if (o) {
            bool ok = c == 'U' ? PyUnicode_Check(o) : PyBytes_Check(o) || (c == 'Y' && PyByteArray_Check(o));
            if (!ok) {
                rt_err_format(PyExc_TypeError, "%s() argument must be %s, not %s", fname,
                              c == 'U' ? "str" : "bytes", Py_TYPE(o)->tp_name);
                r = -1;
            } else {
                *out = o;
            }
        }
        break;
    }
    case 's': case 'z': case 'y': {
        const char **out = va_arg(*ap, const char **);
        void *lenp = NULL;
        if (*f == '#') {
            hash = true;
            f++;
            lenp = va_arg(*ap, void *);
        } else if (*f == '*') {
            rt_err_format(PyExc_SystemError, "%s(): format unit %c* not supported by the reference runtime", fname, c);
            f++;
            r = -1;
            break;
        }
        if (!o)
            break;
        const char *s = NULL;
        Py_ssize_t n = 0;
        if (c == 'z' && o == Py_None) {
            s = NULL;
        } else if (c != 'y' && PyUnicode_Check(o)) {
            s = rt_str_utf8(o, &n);
        } else if (c != 's' && PyBytes_Check(o)) {
            s = PyBytes_AS_STRING(o);
            n = PyBytes_GET_SIZE(o);
        } else {
            rt_err_format(PyExc_TypeError, "%s() argument must be %s, not %s", fname,
                          c == 'y' ? "bytes" : "str", Py_TYPE(o)->tp_name);
            r = -1;
            break;
        }
        if (!hash && s && strlen(s) != (size_t)n) {
            rt_err_setstr(PyExc_ValueError, "embedded null character");
            r = -1;
            break;
        }
        *out = s;
        if (hash) {
            if (ssize)
                *(Py_ssize_t *)lenp = n;
            else
                *(int *)lenp = (int)n;
        }
        break;
    }
    case 'i': case 'I': case 'l': case 'k': case 'L': case 'K': case 'n': case 'h': case 'H':
    case 'b': case 'B': {
        void *out = va_arg(*ap, void *);
        if (!o)
            break;
        if (PyFloat_Check(o)) {
            rt_err_setstr(PyExc_TypeError, "integer argument expected, got float");
            r = -1;
            break;
        }
        int err;
        long long v = rt_as_ll(o, &err);
        if (err) {
            r = -1;
            break;
        }
        switch (c) {
        case 'i': *(int *)out = (int)v; break;
        case 'I': *(unsigned *)out = (unsigned)v; break;
        case 'l': *(long *)out = (long)v; break;
        case 'k': *(unsigned long *)out = (unsigned long)v; break;
        case 'L': *(long long *)out = v; break;
        case 'K': *(unsigned long long *)out = (unsigned long long)v; break;
        case 'n': *(Py_ssize_t *)out = (Py_ssize_t)v; break;
        case 'h': *(short *)out = (short)v; break;
        case 'H': *(unsigned short *)out = (unsigned short)v; break;
        default: *(unsigned char *)out = (unsigned char)v; break;
        }
        break;
    }
    case 'd': case 'f': {
        void *out = va_arg(*ap, void *);
        if (!o)
            break;
        int err;
        double d = rt_as_double(o, &err);
        if (err) {
            r = -1;
            break;
        }
        if (c == 'd')
            *(double *)out = d;
        else
            *(float *)out = (float)d;
        break;
    }
    case 'p': {
        int *out = va_arg(*ap, int *);
        if (!o)
            break;
        int t = rt_truth(o);
        if (t < 0)
            r = -1;
        else
            *out = t;
        break;
    }
    case 'c': {
        char *out = va_arg(*ap, char *);
        if (!o)
            break;
        if (!PyBytes_Check(o) || PyBytes_GET_SIZE(o) != 1) {
            rt_err_format(PyExc_TypeError, "%s() argument must be a byte string of length 1", fname);
            r = -1;
        } else {
            *out = PyBytes_AS_STRING(o)[0];
        }
        break;
    }
    case 'C': {
        int *out = va_arg(*ap, int *);
        if (!o)
            break;
        if (!PyUnicode_Check(o) || PyUnicode_GET_LENGTH(o) != 1) {
            rt_err_format(PyExc_TypeError, "%s() argument must be a unicode character", fname);
            r = -1;
        } else {
            *out = (int)PyUnicode_READ_CHAR(o, 0);
        }
        break;
    }
    default:
        rt_err_format(PyExc_SystemError, "%s(): format unit '%c' not supported by the reference runtime",
                      fname, c);
        r = -1;
        break;
    }
#undef RT_PTR
    *pf = f;
    return r;
}

/* Parses args (a tuple) and kw (a dict or NULL, with kwlist) by fmt. */
static int rt_parse(PyObject *args, PyObject *kw, const char *fmt, char **kwlist, va_list *ap,
                    bool ssize)
{
    char fname[64] = "function";
    const char *colon = strpbrk(fmt, ":;");
    if (colon && *colon == ':')
        snprintf(fname, sizeof fname, "%s", colon + 1);
    if (!args || !rt_use(args, RT_USE_ACCESS) || !PyTuple_Check(args)) {
        rt_err_badinternal("PyArg_Parse");
        return 0;
    }
    Py_ssize_t nargs = PyTuple_GET_SIZE(args), used = 0, idx = 0, nkw_used = 0;
    bool optional = false;
    int required = 0, total = 0;
    for (const char *f = fmt; *f && *f != ':' && *f != ';'; f++) {
        if (*f == '|') { optional = true; continue; }
        if (*f == '$' || *f == '#' || *f == '!' || *f == '&' || *f == '*') continue;
        if (*f == '(') {
            int depth = 1;
            while (depth && *++f)
                depth += *f == '(' ? 1 : *f == ')' ? -1 : 0;
        }
        total++;
        if (!optional)
            required++;
    }
    if (nargs > total) {
        rt_err_format(PyExc_TypeError, "%s() takes at most %d arguments (%zd given)", fname, total, nargs);
        return 0;
    }
    optional = false;
    const char *f = fmt;
    while (*f && *f != ':' && *f != ';') {
        if (*f == '|') { optional = true; f++; continue; }
        if (*f == '$') { f++; continue; }
        PyObject *o = NULL;
        if (idx < nargs) {
            o = PyTuple_GET_ITEM(args, idx);
            used++;
        } else if (kw && kwlist && kwlist[idx]) {
            o = rt_dict_get_str(kw, kwlist[idx]);
            if (o)
                nkw_used++;
        }
        if (!o && !optional) {
            rt_err_format(PyExc_TypeError, "%s() missing required argument (pos %zd)", fname, idx + 1);
            return 0;
        }
        if (o && !rt_use(o, RT_USE_ACCESS)) {
            rt_err_setstr(PyExc_SystemError, "use of a released object");
            return 0;
        }
        if (*f == '(') {
            f++;
            if (o && !PyTuple_Check(o)) {
                rt_err_format(PyExc_TypeError, "%s() argument %zd must be a tuple", fname, idx + 1);
                return 0;
            }
            Py_ssize_t k = 0;
            while (*f && *f != ')') {
                PyObject *item = NULL;
                if (o) {
                    if (k >= PyTuple_GET_SIZE(o)) {
                        rt_err_format(PyExc_TypeError, "%s(): tuple argument too short", fname);
                        return 0;
                    }
                    item = PyTuple_GET_ITEM(o, k);
                }
                if (rt_parse_unit(&f, item, ap, ssize, fname) < 0)
                    return 0;
                k++;
            }
            if (*f == ')')
                f++;
        } else if (rt_parse_unit(&f, o, ap, ssize, fname) < 0) {
            return 0;
        }
        idx++;
    }
    if (kw && ((rt_dict *)kw)->d.ma_used > nkw_used) {
        rt_err_format(PyExc_TypeError, "%s() got an unexpected keyword argument", fname);
        return 0;
    }
    (void)required;
    (void)used;
    return 1;
}

#define RT_PARSE_API(fname, ssize)                                             \
    int fname(PyObject *args, const char *fmt, ...)                            \
    {                                                                          \
        RT_ENTER_INT(#fname);                                                  \
        va_list ap;                                                            \
        va_start(ap, fmt);                                                     \
        int r = rt_parse(args, NULL, fmt, NULL, &ap, ssize);                   \
        va_end(ap);                                                            \
        return r;                                                              \
    }
RT_PARSE_API(PyArg_ParseTuple, false)
RT_PARSE_API(_PyArg_ParseTuple_SizeT, true)

#define RT_PARSE_KW_API(fname, ssize)                                          \
    int fname(PyObject *args, PyObject *kw, const char *fmt, char **kwlist, ...) \
    {                                                                          \
        RT_ENTER_INT(#fname);                                                  \
        va_list ap;                                                            \
        va_start(ap, kwlist);                                                  \
        int r = rt_parse(args, kw, fmt, kwlist, &ap, ssize);                   \
        va_end(ap);                                                            \
        return r;                                                              \
    }
RT_PARSE_KW_API(PyArg_ParseTupleAndKeywords, false)
RT_PARSE_KW_API(_PyArg_ParseTupleAndKeywords_SizeT, true)

int PyArg_VaParse(PyObject *args, const char *fmt, va_list ap)
{
    RT_ENTER_INT("PyArg_VaParse");
    va_list cp;
    va_copy(cp, ap);
    int r = rt_parse(args, NULL, fmt, NULL, &cp, false);
    va_end(cp);
    return r;
}

int _PyArg_VaParse_SizeT(PyObject *args, const char *fmt, va_list ap)
{
    RT_ENTER_INT("_PyArg_VaParse_SizeT");
    va_list cp;
    va_copy(cp, ap);
    int r = rt_parse(args, NULL, fmt, NULL, &cp, true);
    va_end(cp);
    return r;
}

int PyArg_UnpackTuple(PyObject *args, const char *name, Py_ssize_t min, Py_ssize_t max, ...)
{
    RT_ENTER_INT("PyArg_UnpackTuple");
    if (!args || !rt_use(args, RT_USE_ACCESS) || !PyTuple_Check(args)) {
        rt_err_badinternal("PyArg_UnpackTuple");
        return 0;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    if (n < min || n > max) {
        rt_err_format(PyExc_TypeError, "%s expected %s%zd argument%s, got %zd", name ? name : "unpacked tuple",
                      n < min ? (min == max ? "" : "at least ") : (min == max ? "" : "at most "),
                      n < min ? min : max, (n < min ? min : max) == 1 ? "" : "s", n);
        return 0;
    }
    va_list ap;
    va_start(ap, max);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject **out = va_arg(ap, PyObject **);
        *out = PyTuple_GET_ITEM(args, i);
    }
    va_end(ap);
    return 1;
}

int (_PyArg_NoKeywords)(const char *funcname, PyObject *kw)
{
    if (!kw || ((rt_dict *)kw)->d.ma_used == 0)
        return 1;
    rt_err_format(PyExc_TypeError, "%s() takes no keyword arguments", funcname);
    return 0;
}

int (_PyArg_NoPositional)(const char *funcname, PyObject *args)
{
    if (!args || PyTuple_GET_SIZE(args) == 0)
        return 1;
    rt_err_format(PyExc_TypeError, "%s() takes no positional arguments", funcname);
    return 0;
}

/* ---- building --------------------------------------------------------------------------- */

static PyObject *rt_build_one(const char **pf, va_list *ap, bool ssize, bool *failed);

/* Builds items up to endch into a new list; *failed when an object was NULL. */
static PyObject *rt_build_items(const char **pf, va_list *ap, bool ssize, char endch, bool *failed)
{
    PyObject *l = rt_list_new(0);
    while (**pf && **pf != endch) {
        char c = **pf;
        if (c == ' ' || c == ',' || c == ':' || c == '\t') {
            (*pf)++;
            continue;
        }
        PyObject *v = rt_build_one(pf, ap, ssize, failed);
        if (v) {
            rt_list_append(l, v);
            Py_DECREF(v);
        } else {
            *failed = true;
            if (!rt_state()->exc_type)
                rt_err_setstr(PyExc_SystemError, "NULL object passed to Py_BuildValue");
        }
    }
    if (**pf == endch && endch)
        (*pf)++;
    return l;
}

static PyObject *rt_build_one(const char **pf, va_list *ap, bool ssize, bool *failed)
{
    char c = *(*pf)++;
    switch (c) {
    case '(': case '[': {
        PyObject *l = rt_build_items(pf, ap, ssize, c == '(' ? ')' : ']', failed);
        if (c == '[')
            return l;
        PyObject *t = rt_seq_to_tuple(l);
        Py_DECREF(l);
        return t;
    }
    case '{': {
        PyObject *l = rt_build_items(pf, ap, ssize, '}', failed);
        PyObject *d = rt_dict_new();
        for (Py_ssize_t i = 0; i + 1 < PyList_GET_SIZE(l); i += 2)
            rt_dict_set(d, PyList_GET_ITEM(l, i), PyList_GET_ITEM(l, i + 1));
        Py_DECREF(l);
        return d;
    }
    case 'O': case 'S': case 'N': {
        if (**pf == '&') {
            (*pf)++;
            PyObject *(*conv)(void *) = va_arg(*ap, PyObject *(*)(void *));
            void *arg = va_arg(*ap, void *);
            return conv(arg);
        }
        PyObject *o = va_arg(*ap, PyObject *);
        if (!o)
            return NULL;
        if (!rt_use(o, RT_USE_ACCESS))
            return NULL;
        if (c != 'N')
            Py_INCREF(o);
        return o;
    }
    case 's': case 'z': case 'U': case 'y': {
        const char *s = va_arg(*ap, const char *);
        Py_ssize_t n = -1;
        if (**pf == '#') {
            (*pf)++;
            n = ssize ? va_arg(*ap, Py_ssize_t) : va_arg(*ap, int);
        }
        if (!s) {
            Py_INCREF(Py_None);
            return Py_None;
        }
        if (n < 0)
            n = (Py_ssize_t)strlen(s);
        return c == 'y' ? rt_bytes_new(s, n) : rt_str_from_utf8(s, n);
    }
    case 'i': case 'b': case 'h': case 'B': case 'H':
        return rt_long_from_ll(va_arg(*ap, int));
    case 'I':
        return rt_long_from_ull(va_arg(*ap, unsigned int));
    case 'l':
        return rt_long_from_ll(va_arg(*ap, long));
    case 'k':
        return rt_long_from_ull(va_arg(*ap, unsigned long));
    case 'L':
        return rt_long_from_ll(va_arg(*ap, long long));
    case 'K':
        return rt_long_from_ull(va_arg(*ap, unsigned long long));
    case 'n':
        return rt_long_from_ll(va_arg(*ap, Py_ssize_t));
    case 'd': case 'f':
        return rt_float_new(va_arg(*ap, double));
    case 'p':
        return rt_bool(va_arg(*ap, int));
    case 'c': {
        char ch = (char)va_arg(*ap, int);
        return rt_bytes_new(&ch, 1);
    }
    case 'C': {
        Py_UCS4 u = (Py_UCS4)va_arg(*ap, int);
        return rt_str_from_ucs4(&u, 1);
    }
    default:
        rt_err_format(PyExc_SystemError, "Py_BuildValue: format unit '%c' not supported by the reference runtime", c);
        *failed = true;
        return NULL;
    }
}

PyObject *rt_build(const char *fmt, va_list *ap, bool ssize)
{
    bool failed = false;
    const char *f = fmt;
    PyObject *l = rt_build_items(&f, ap, ssize, 0, &failed);
    if (failed) {
        Py_DECREF(l);
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(l);
    PyObject *r;
    if (n == 0) {
        Py_INCREF(Py_None);
        r = Py_None;
    } else if (n == 1) {
        r = PyList_GET_ITEM(l, 0);
        Py_INCREF(r);
    } else {
        r = rt_seq_to_tuple(l);
    }
    Py_DECREF(l);
    return r;
}

PyObject *rt_build_args(const char *fmt, va_list *ap, bool ssize)
{
    PyObject *v = rt_build(fmt, ap, ssize);
    if (!v || PyTuple_Check(v))
        return v;
    PyObject *t = rt_tuple_pack(1, v);
    Py_DECREF(v);
    return t;
}

/* Py_BuildValue consumes its "N" arguments even when it fails: a failure
 * the plan injects builds the value (taking over the N references) and
 * releases it before failing. */
static PyObject *rt_build_api(const char *name, void *site, const char *fmt, va_list *ap,
                              bool ssize)
{
    bool fail = rt_enter(name, site, false);
    PyObject *r = rt_build(fmt, ap, ssize);
    if (!fail)
        return r;
    Py_XDECREF(r);
    return rt_fail_ptr(name);
}

PyObject *Py_BuildValue(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    PyObject *r = rt_build_api("Py_BuildValue", RT_SITE, fmt, &ap, false);
    va_end(ap);
    return r;
}

PyObject *_Py_BuildValue_SizeT(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    PyObject *r = rt_build_api("_Py_BuildValue_SizeT", RT_SITE, fmt, &ap, true);
    va_end(ap);
    return r;
}

PyObject *Py_VaBuildValue(const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    PyObject *r = rt_build_api("Py_VaBuildValue", RT_SITE, fmt, &cp, false);
    va_end(cp);
    return r;
}

PyObject *_Py_VaBuildValue_SizeT(const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    PyObject *r = rt_build_api("_Py_VaBuildValue_SizeT", RT_SITE, fmt, &cp, true);
    va_end(cp);
    return r;
}
