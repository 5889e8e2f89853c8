/* rt_long.c - int, bool and float objects of the reference runtime, laid out
 * as the headers say (30-bit digits, ob_fval); every int is a fresh
 * registered object, but calls making one of CPython's cached values
 * -5..256 never fail (the knowledge base's small-int entries); and the
 * PyLong_* / PyFloat_* / PyBool_* API.
 *
 * The C API functions defined here return what CPython documents for them
 * (NULL or -1 with an exception set on failure; new or borrowed references
 * as the C API manual and rules/ say) and are counted and made to fail by
 * RT_ENTER* (rt_fault.c) before doing any work.
 */
#include "rt_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define RT_STATIC_REFS (1 << 20)

static PyObject *rt_long_repr(PyObject *o);
static Py_hash_t rt_long_hash(PyObject *o);
static PyObject *rt_long_richcompare(PyObject *a, PyObject *b, int op);
static int rt_long_bool(PyObject *o);
static PyObject *rt_long_index(PyObject *o);
static PyObject *rt_long_float(PyObject *o);

static void rt_plain_dealloc(PyObject *o)
{
    rt_quarantine(o);
}

static PyNumberMethods rt_long_as_number = {
    .nb_bool = rt_long_bool,
    .nb_int = rt_long_index,
    .nb_float = rt_long_float,
    .nb_index = rt_long_index,
};

PyTypeObject PyLong_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "int",
    .tp_basicsize = offsetof(PyLongObject, ob_digit),
    .tp_itemsize = sizeof(digit),
    .tp_dealloc = rt_plain_dealloc,
    .tp_repr = rt_long_repr,
    .tp_as_number = &rt_long_as_number,
    .tp_hash = rt_long_hash,
    .tp_str = rt_long_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_LONG_SUBCLASS |
                Py_TPFLAGS_READY,
    .tp_richcompare = rt_long_richcompare,
    .tp_base = &PyBaseObject_Type,
};

PyTypeObject PyBool_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "bool",
    .tp_basicsize = offsetof(PyLongObject, ob_digit),
    .tp_itemsize = sizeof(digit),
    .tp_dealloc = rt_plain_dealloc,
    .tp_repr = rt_long_repr,
    .tp_as_number = &rt_long_as_number,
    .tp_hash = rt_long_hash,
    .tp_str = rt_long_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_LONG_SUBCLASS | Py_TPFLAGS_READY,
    .tp_richcompare = rt_long_richcompare,
    .tp_base = &PyLong_Type,
};

struct _longobject _Py_FalseStruct = { { { _PyObject_EXTRA_INIT RT_STATIC_REFS, &PyBool_Type },
                                         0 }, { 0 } };
struct _longobject _Py_TrueStruct = { { { _PyObject_EXTRA_INIT RT_STATIC_REFS, &PyBool_Type },
                                        1 }, { 1 } };

/* ---- values ------------------------------------------------------------------- */

bool rt_long_is_small(long long v)
{
    return v >= -5 && v <= 256;
}

static void rt_set_digits(PyLongObject *l, unsigned long long mag, int sign)
{
    Py_ssize_t n = 0;
    while (mag) {
        l->ob_digit[n++] = (digit)(mag & PyLong_MASK);
        mag >>= PyLong_SHIFT;
    }
    Py_SET_SIZE(l, sign < 0 ? -n : n);
}

static PyObject *rt_long_make(unsigned long long mag, int sign)
{
    Py_ssize_t n = 0;
    for (unsigned long long m = mag; m; m >>= PyLong_SHIFT)
        n++;
    PyLongObject *l = (PyLongObject *)rt_alloc(&PyLong_Type, n ? n : 1, 0);
    rt_set_digits(l, mag, sign);
    return (PyObject *)l;
}

/* Every int the API returns is a fresh registered object, even for the
 * values CPython caches (its users' reference counting is then checked
 * too); those calls only never fail. */
PyObject *rt_long_from_ll(long long v)
{
    unsigned long long mag = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    return rt_long_make(mag, v < 0 ? -1 : 1);
}

PyObject *rt_long_from_ull(unsigned long long v)
{
    return rt_long_make(v, 1);
}

long long rt_long_value(PyObject *o, int *overflow)
{
    PyLongObject *l = (PyLongObject *)o;
    Py_ssize_t n = Py_SIZE(o);
    Py_ssize_t an = n < 0 ? -n : n;
    unsigned long long mag = 0;
    *overflow = 0;
    for (Py_ssize_t i = an - 1; i >= 0; i--) {
        if (mag >> (64 - PyLong_SHIFT)) {
            *overflow = n < 0 ? -1 : 1;
            return n < 0 ? LLONG_MIN : LLONG_MAX;
        }
        mag = (mag << PyLong_SHIFT) | l->ob_digit[i];
    }
    if (n >= 0 && mag > (unsigned long long)LLONG_MAX) {
        *overflow = 1;
        return LLONG_MAX;
    }
    if (n < 0 && mag > (unsigned long long)LLONG_MAX + 1) {
        *overflow = -1;
        return LLONG_MIN;
    }
    return n < 0 ? (long long)(0ull - mag) : (long long)mag;
}

PyObject *rt_bool(long v)
{
    PyObject *o = v ? Py_True : Py_False;
    Py_INCREF(o);
    return o;
}

PyObject *rt_float_new(double v)
{
    PyFloatObject *f = (PyFloatObject *)rt_alloc(&PyFloat_Type, 0, 0);
    f->ob_fval = v;
    return (PyObject *)f;
}

PyObject *rt_number_index(PyObject *o)
{
    if (!rt_use(o, RT_USE_ACCESS))
        return NULL;
    if (PyLong_Check(o)) {
        Py_INCREF(o);
        return o;
    }
    PyNumberMethods *nb = Py_TYPE(o)->tp_as_number;
    if (nb && nb->nb_index) {
        PyObject *r = nb->nb_index(o);
        if (r && !PyLong_Check(r)) {
            Py_DECREF(r);
            rt_err_setstr(PyExc_TypeError, "__index__ returned non-int");
            return NULL;
        }
        return r;
    }
    rt_err_format(PyExc_TypeError, "'%s' object cannot be interpreted as an integer",
                  Py_TYPE(o)->tp_name);
    return NULL;
}

long long rt_as_ll(PyObject *o, int *err)
{
    *err = 0;
    PyObject *i = rt_number_index(o);
    if (!i) {
        *err = 1;
        return -1;
    }
    int ovf;
    long long v = rt_long_value(i, &ovf);
    Py_DECREF(i);
    if (ovf) {
        rt_err_setstr(PyExc_OverflowError, "Python int too large to convert to C long");
        *err = 1;
        return -1;
    }
    return v;
}

double rt_as_double(PyObject *o, int *err)
{
    *err = 0;
    if (!rt_use(o, RT_USE_ACCESS)) {
        *err = 1;
        return -1.0;
    }
    if (PyFloat_Check(o))
        return PyFloat_AS_DOUBLE(o);
    if (PyLong_Check(o)) {
        int ovf;
        long long v = rt_long_value(o, &ovf);
        return (double)v;
    }
    PyNumberMethods *nb = Py_TYPE(o)->tp_as_number;
    if (nb && nb->nb_float) {
        PyObject *f = nb->nb_float(o);
        if (!f) {
            *err = 1;
            return -1.0;
        }
        double d = PyFloat_Check(f) ? PyFloat_AS_DOUBLE(f) : -1.0;
        Py_DECREF(f);
        return d;
    }
    rt_err_format(PyExc_TypeError, "must be real number, not %s", Py_TYPE(o)->tp_name);
    *err = 1;
    return -1.0;
}

/* ---- slots ---------------------------------------------------------------------- */

static PyObject *rt_long_repr(PyObject *o)
{
    int ovf;
    long long v = rt_long_value(o, &ovf);
    char buf[40];
    if (Py_TYPE(o) == &PyBool_Type)
        return rt_str_from_cstr(v ? "True" : "False");
    snprintf(buf, sizeof buf, "%lld", v);
    return rt_str_from_cstr(buf);
}

static Py_hash_t rt_long_hash(PyObject *o)
{
    int ovf;
    long long v = rt_long_value(o, &ovf);
    return v == -1 ? -2 : (Py_hash_t)v;
}

static int rt_cmp_num(PyObject *a, PyObject *b, int *res)
{
    if (PyLong_Check(a) && PyLong_Check(b)) {
        int o1, o2;
        long long x = rt_long_value(a, &o1), y = rt_long_value(b, &o2);
        *res = x < y ? -1 : x > y;
        return 1;
    }
    if ((PyLong_Check(a) || PyFloat_Check(a)) && (PyLong_Check(b) || PyFloat_Check(b))) {
        int e;
        double x = rt_as_double(a, &e), y = rt_as_double(b, &e);
        *res = x < y ? -1 : x > y;
        return 1;
    }
    return 0;
}

static PyObject *rt_num_richcompare(PyObject *a, PyObject *b, int op)
{
    int c;
    if (!rt_cmp_num(a, b, &c)) {
        Py_INCREF(Py_NotImplemented);
        return Py_NotImplemented;
    }
    bool r = op == Py_LT ? c < 0 : op == Py_LE ? c <= 0 : op == Py_EQ ? c == 0 :
             op == Py_NE ? c != 0 : op == Py_GT ? c > 0 : c >= 0;
    return rt_bool(r);
}

static PyObject *rt_long_richcompare(PyObject *a, PyObject *b, int op)
{
    return rt_num_richcompare(a, b, op);
}

static int rt_long_bool(PyObject *o)
{
    return Py_SIZE(o) != 0;
}

static PyObject *rt_long_index(PyObject *o)
{
    if (Py_TYPE(o) == &PyLong_Type) {
        Py_INCREF(o);
        return o;
    }
    int ovf;
    return rt_long_from_ll(rt_long_value(o, &ovf));
}

static PyObject *rt_long_float(PyObject *o)
{
    int ovf;
    return rt_float_new((double)rt_long_value(o, &ovf));
}

static PyObject *rt_float_repr(PyObject *o)
{
    double d = PyFloat_AS_DOUBLE(o);
    char buf[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    if (isfinite(d) && !strpbrk(buf, ".e"))
        strcat(buf, ".0");
    return rt_str_from_cstr(buf);
}

static Py_hash_t rt_float_hash(PyObject *o)
{
    double d = PyFloat_AS_DOUBLE(o);
    if (d == floor(d) && fabs(d) < 9e18) {
        long long v = (long long)d;
        return v == -1 ? -2 : (Py_hash_t)v;
    }
    Py_hash_t h;
    memcpy(&h, &d, sizeof h);
    return h == -1 ? -2 : h;
}

static int rt_float_bool(PyObject *o)
{
    return PyFloat_AS_DOUBLE(o) != 0.0;
}

static PyObject *rt_float_float(PyObject *o)
{
    Py_INCREF(o);
    return o;
}

static PyObject *rt_float_int(PyObject *o)
{
    return rt_long_from_ll((long long)PyFloat_AS_DOUBLE(o));
}

static PyNumberMethods rt_float_as_number = {
    .nb_bool = rt_float_bool,
    .nb_int = rt_float_int,
    .nb_float = rt_float_float,
};

PyTypeObject PyFloat_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "float",
    .tp_basicsize = sizeof(PyFloatObject),
    .tp_dealloc = rt_plain_dealloc,
    .tp_repr = rt_float_repr,
    .tp_as_number = &rt_float_as_number,
    .tp_hash = rt_float_hash,
    .tp_str = rt_float_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_READY,
    .tp_richcompare = rt_num_richcompare,
    .tp_base = &PyBaseObject_Type,
};

/* ---- the API ------------------------------------------------------------------------ */

#define RT_ENTER_SMALL(name, v) \
    do { if (rt_enter(name, RT_SITE, rt_long_is_small(v))) return rt_fail_ptr(name); } while (0)

PyObject *PyLong_FromLong(long v)
{
    RT_ENTER_SMALL("PyLong_FromLong", v);
    return rt_long_from_ll(v);
}

PyObject *PyLong_FromLongLong(long long v)
{
    RT_ENTER_SMALL("PyLong_FromLongLong", v);
    return rt_long_from_ll(v);
}

PyObject *PyLong_FromSsize_t(Py_ssize_t v)
{
    RT_ENTER_SMALL("PyLong_FromSsize_t", v);
    return rt_long_from_ll(v);
}

PyObject *PyLong_FromSize_t(size_t v)
{
    RT_ENTER_SMALL("PyLong_FromSize_t", v <= 256 ? (long long)v : 1000);
    return rt_long_from_ull(v);
}

PyObject *PyLong_FromUnsignedLong(unsigned long v)
{
    RT_ENTER_SMALL("PyLong_FromUnsignedLong", v <= 256 ? (long long)v : 1000);
    return rt_long_from_ull(v);
}

PyObject *PyLong_FromUnsignedLongLong(unsigned long long v)
{
    RT_ENTER_SMALL("PyLong_FromUnsignedLongLong", v <= 256 ? (long long)v : 1000);
    return rt_long_from_ull(v);
}

PyObject *PyLong_FromDouble(double v)
{
    RT_ENTER_PTR("PyLong_FromDouble");
    if (!isfinite(v)) {
        rt_err_setstr(PyExc_OverflowError, "cannot convert float infinity to integer");
        return NULL;
    }
    return rt_long_from_ll((long long)v);
}

/* o is an int whose value lies in [lo, hi]: the conversion cannot fail. */
static bool rt_int_in(PyObject *o, long long lo, long long hi)
{
    if (!o || rt_is_dead(o) || !PyLong_Check(o))
        return false;
    int ovf;
    long long v = rt_long_value(o, &ovf);
    return !ovf && v >= lo && v <= hi;
}

static long long rt_as_range(PyObject *o, long long lo, long long hi, const char *what)
{
    if (!o) {
        rt_null_arg();
        rt_err_badinternal(what);
        return -1;
    }
    int err;
    long long v = rt_as_ll(o, &err);
    if (err)
        return -1;
    if (v < lo || v > hi) {
        rt_err_format(PyExc_OverflowError, "Python int too large to convert to %s", what);
        return -1;
    }
    return v;
}

long PyLong_AsLong(PyObject *o)
{
    RT_ENTER_INT_IF("PyLong_AsLong", !rt_int_in(o, LONG_MIN, LONG_MAX));
    return (long)rt_as_range(o, LONG_MIN, LONG_MAX, "C long");
}

long long PyLong_AsLongLong(PyObject *o)
{
    RT_ENTER_INT_IF("PyLong_AsLongLong", !rt_int_in(o, LLONG_MIN, LLONG_MAX));
    return rt_as_range(o, LLONG_MIN, LLONG_MAX, "C long long");
}

Py_ssize_t PyLong_AsSsize_t(PyObject *o)
{
    RT_ENTER_INT_IF("PyLong_AsSsize_t", !rt_int_in(o, PY_SSIZE_T_MIN, PY_SSIZE_T_MAX));
    if (o && !PyLong_Check(o)) {
        rt_err_setstr(PyExc_TypeError, "an integer is required");
        return -1;
    }
    return (Py_ssize_t)rt_as_range(o, PY_SSIZE_T_MIN, PY_SSIZE_T_MAX, "C ssize_t");
}

size_t PyLong_AsSize_t(PyObject *o)
{
    RT_ENTER_INT("PyLong_AsSize_t");
    if (o && !PyLong_Check(o)) {
        rt_err_setstr(PyExc_TypeError, "an integer is required");
        return (size_t)-1;
    }
    long long v = rt_as_range(o, 0, LLONG_MAX, "size_t");
    return (size_t)v;
}

unsigned long PyLong_AsUnsignedLong(PyObject *o)
{
    RT_ENTER_INT("PyLong_AsUnsignedLong");
    long long v = rt_as_range(o, 0, LLONG_MAX, "C unsigned long");
    return (unsigned long)v;
}

long PyLong_AsLongAndOverflow(PyObject *o, int *overflow)
{
    RT_ENTER_INT("PyLong_AsLongAndOverflow");
    *overflow = 0;
    PyObject *i = rt_number_index(o);
    if (!i)
        return -1;
    long long v = rt_long_value(i, overflow);
    Py_DECREF(i);
    return *overflow ? -1 : (long)v;
}

double PyLong_AsDouble(PyObject *o)
{
    RT_ENTER_INT("PyLong_AsDouble");
    int err;
    return rt_as_double(o, &err);
}

int _PyLong_Sign(PyObject *o)
{
    RT_ENTER_VOID("_PyLong_Sign");
    Py_ssize_t n = Py_SIZE(o);
    return n < 0 ? -1 : n > 0;
}

PyObject *PyLong_FromString(const char *s, char **end, int base)
{
    RT_ENTER_PTR("PyLong_FromString");
    char *e;
    long long v = strtoll(s, &e, base);
    if (e == s) {
        rt_err_format(PyExc_ValueError, "invalid literal for int() with base %d: '%s'", base, s);
        return NULL;
    }
    if (end)
        *end = e;
    return rt_long_from_ll(v);
}

PyObject *PyBool_FromLong(long v)
{
    RT_ENTER_VOID("PyBool_FromLong");
    return rt_bool(v);
}

PyObject *PyFloat_FromDouble(double v)
{
    RT_ENTER_PTR("PyFloat_FromDouble");
    return rt_float_new(v);
}

double PyFloat_AsDouble(PyObject *o)
{
    RT_ENTER_INT_IF("PyFloat_AsDouble", !o || rt_is_dead(o) || !(PyFloat_Check(o) || PyLong_Check(o)));
    int err;
    return rt_as_double(o, &err);
}

PyObject *PyNumber_Index(PyObject *o)
{
    RT_ENTER_PTR("PyNumber_Index");
    return rt_number_index(o);
}

PyObject *PyNumber_Long(PyObject *o)
{
    RT_ENTER_PTR("PyNumber_Long");
    if (PyFloat_Check(o))
        return rt_long_from_ll((long long)PyFloat_AS_DOUBLE(o));
    if (PyUnicode_Check(o)) {
        const char *s = rt_str_utf8(o, NULL);
        char *e;
        long long v = strtoll(s, &e, 10);
        if (e == s || *e) {
            rt_err_format(PyExc_ValueError, "invalid literal for int() with base 10: '%s'", s);
            return NULL;
        }
        return rt_long_from_ll(v);
    }
    return rt_number_index(o);
}

PyObject *PyNumber_Float(PyObject *o)
{
    RT_ENTER_PTR("PyNumber_Float");
    if (PyFloat_CheckExact(o)) {
        Py_INCREF(o);
        return o;
    }
    int err;
    double d = rt_as_double(o, &err);
    if (err)
        return NULL;
    return rt_float_new(d);
}

Py_ssize_t PyNumber_AsSsize_t(PyObject *o, PyObject *exc)
{
    RT_ENTER_INT("PyNumber_AsSsize_t");
    PyObject *i = rt_number_index(o);
    if (!i)
        return -1;
    int ovf;
    long long v = rt_long_value(i, &ovf);
    Py_DECREF(i);
    if (ovf) {
        if (!exc)
            return ovf < 0 ? PY_SSIZE_T_MIN : PY_SSIZE_T_MAX;
        rt_err_format(exc, "cannot fit '%s' into an index-sized integer", Py_TYPE(o)->tp_name);
        return -1;
    }
    return (Py_ssize_t)v;
}

int PyIndex_Check(PyObject *o)
{
    RT_ENTER_VOID("PyIndex_Check");
    PyNumberMethods *nb = Py_TYPE(o)->tp_as_number;
    return nb && nb->nb_index;
}

/* The value modulo 2**64 (no overflow error); -1 and an exception when o is
 * not an int (3.11 accepts __index__). */
unsigned long PyLong_AsUnsignedLongMask(PyObject *o)
{
    RT_ENTER_INT("PyLong_AsUnsignedLongMask");
    int err = 0;
    long long v = rt_as_ll(o, &err);
    return err ? (unsigned long)-1 : (unsigned long)v;
}
