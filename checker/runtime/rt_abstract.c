/* rt_abstract.c - the object, number and iterator protocols of the reference
 * runtime: generic operations dispatched through the type slots (so
 * extension types take part), and the PyObject_* / PyNumber_* / PyIter_*
 * API over them, calls included.
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

/* A dead object or NULL given to an API: report / SystemError. */
static bool rt_arg_ok(PyObject *o)
{
    if (!o) {
        rt_null_arg();
        if (!rt_state()->exc_type)
            rt_err_setstr(PyExc_SystemError, "NULL object passed to the C API");
        return false;
    }
    return rt_use(o, RT_USE_ACCESS);
}

/* ---- generic operations -------------------------------------------------------------- */

PyObject *rt_repr(PyObject *o)
{
    if (!rt_arg_ok(o))
        return NULL;
    reprfunc f = Py_TYPE(o)->tp_repr;
    if (!f) {
        char buf[200];
        snprintf(buf, sizeof buf, "<%s object at %p>", Py_TYPE(o)->tp_name, (void *)o);
        return rt_str_from_cstr(buf);
    }
    return f(o);
}

PyObject *rt_str(PyObject *o)
{
    if (!rt_arg_ok(o))
        return NULL;
    if (PyUnicode_CheckExact(o)) {
        Py_INCREF(o);
        return o;
    }
    reprfunc f = Py_TYPE(o)->tp_str;
    return f ? f(o) : rt_repr(o);
}

Py_hash_t rt_hash(PyObject *o)
{
    if (!rt_arg_ok(o))
        return -1;
    hashfunc f = Py_TYPE(o)->tp_hash;
    if (!f || f == PyObject_HashNotImplemented) {
        rt_err_format(PyExc_TypeError, "unhashable type: '%s'", Py_TYPE(o)->tp_name);
        return -1;
    }
    return f(o);
}

PyObject *rt_richcompare(PyObject *a, PyObject *b, int op)
{
    if (!rt_arg_ok(a) || !rt_arg_ok(b))
        return NULL;
    richcmpfunc f = Py_TYPE(a)->tp_richcompare;
    if (f) {
        PyObject *r = f(a, b, op);
        if (r != Py_NotImplemented)
            return r;
        Py_DECREF(r);
    }
    static const int swapped[] = { Py_GT, Py_GE, Py_EQ, Py_NE, Py_LT, Py_LE };
    f = Py_TYPE(b)->tp_richcompare;
    if (f) {
        PyObject *r = f(b, a, swapped[op]);
        if (r != Py_NotImplemented)
            return r;
        Py_DECREF(r);
    }
    if (op == Py_EQ || op == Py_NE)
        return rt_bool((a == b) == (op == Py_EQ));
    rt_err_format(PyExc_TypeError, "'<' not supported between instances of '%s' and '%s'",
                  Py_TYPE(a)->tp_name, Py_TYPE(b)->tp_name);
    return NULL;
}

int rt_eq(PyObject *a, PyObject *b)
{
    if (a == b)
        return 1;
    PyObject *r = rt_richcompare(a, b, Py_EQ);
    if (!r)
        return -1;
    int t = rt_truth(r);
    Py_DECREF(r);
    return t;
}

int rt_truth(PyObject *o)
{
    if (!rt_arg_ok(o))
        return -1;
    if (o == Py_True)
        return 1;
    if (o == Py_False || o == Py_None)
        return 0;
    PyTypeObject *tp = Py_TYPE(o);
    if (tp->tp_as_number && tp->tp_as_number->nb_bool)
        return tp->tp_as_number->nb_bool(o);
    if (tp->tp_as_mapping && tp->tp_as_mapping->mp_length) {
        Py_ssize_t n = tp->tp_as_mapping->mp_length(o);
        return n < 0 ? -1 : n > 0;
    }
    if (tp->tp_as_sequence && tp->tp_as_sequence->sq_length) {
        Py_ssize_t n = tp->tp_as_sequence->sq_length(o);
        return n < 0 ? -1 : n > 0;
    }
    return 1;
}

PyObject *rt_getattr(PyObject *o, PyObject *name)
{
    if (!rt_arg_ok(o) || !rt_arg_ok(name))
        return NULL;
    if (!PyUnicode_Check(name)) {
        rt_err_setstr(PyExc_TypeError, "attribute name must be string");
        return NULL;
    }
    PyTypeObject *tp = Py_TYPE(o);
    if (tp->tp_getattro)
        return tp->tp_getattro(o, name);
    if (tp->tp_getattr)
        return tp->tp_getattr(o, (char *)rt_str_utf8(name, NULL));
    return PyBaseObject_Type.tp_getattro(o, name);
}

PyObject *rt_getattr_str(PyObject *o, const char *name)
{
    PyObject *n = rt_str_from_cstr(name);
    PyObject *r = rt_getattr(o, n);
    Py_DECREF(n);
    return r;
}

int rt_setattr(PyObject *o, PyObject *name, PyObject *v)
{
    if (!rt_arg_ok(o) || !rt_arg_ok(name))
        return -1;
    if (v && !rt_use(v, RT_USE_ACCESS))
        return -1;
    PyTypeObject *tp = Py_TYPE(o);
    if (tp->tp_setattro)
        return tp->tp_setattro(o, name, v);
    if (tp->tp_setattr)
        return tp->tp_setattr(o, (char *)rt_str_utf8(name, NULL), v);
    rt_err_format(PyExc_AttributeError, "'%s' object has no attribute '%s'", tp->tp_name,
                  rt_str_utf8(name, NULL));
    return -1;
}

PyObject *rt_call(PyObject *callable, PyObject *args, PyObject *kw)
{
    if (!rt_arg_ok(callable))
        return NULL;
    ternaryfunc f = Py_TYPE(callable)->tp_call;
    if (!f) {
        rt_err_format(PyExc_TypeError, "'%s' object is not callable", Py_TYPE(callable)->tp_name);
        return NULL;
    }
    if ((args && !rt_arg_ok(args)) || (kw && !rt_arg_ok(kw)))
        return NULL;
    PyObject *own = NULL;
    if (!args)
        args = own = rt_tuple_new(0);
    PyObject *r = f(callable, args, kw);
    Py_XDECREF(own);
    if (!r && !rt_state()->exc_type)
        rt_err_format(PyExc_SystemError, "%s returned NULL without setting an exception",
                      Py_TYPE(callable)->tp_name);
    return r;
}

PyObject *rt_call_vec(PyObject *callable, PyObject *const *args, size_t n)
{
    PyObject *t = rt_tuple_new((Py_ssize_t)n);
    for (size_t i = 0; i < n; i++) {
        if (!rt_arg_ok(args[i])) {
            Py_DECREF(t);
            return NULL;
        }
        Py_INCREF(args[i]);
        PyTuple_SET_ITEM(t, (Py_ssize_t)i, args[i]);
    }
    PyObject *r = rt_call(callable, t, NULL);
    Py_DECREF(t);
    return r;
}

PyObject *rt_getiter(PyObject *o)
{
    if (!rt_arg_ok(o))
        return NULL;
    getiterfunc f = Py_TYPE(o)->tp_iter;
    if (f) {
        PyObject *it = f(o);
        if (it && !Py_TYPE(it)->tp_iternext) {
            rt_err_format(PyExc_TypeError, "iter() returned non-iterator of type '%s'",
                          Py_TYPE(it)->tp_name);
            Py_DECREF(it);
            return NULL;
        }
        return it;
    }
    rt_err_format(PyExc_TypeError, "'%s' object is not iterable", Py_TYPE(o)->tp_name);
    return NULL;
}

PyObject *rt_iternext(PyObject *it)
{
    if (!rt_arg_ok(it))
        return NULL;
    iternextfunc f = Py_TYPE(it)->tp_iternext;
    if (!f) {
        rt_err_format(PyExc_TypeError, "'%s' object is not an iterator", Py_TYPE(it)->tp_name);
        return NULL;
    }
    PyObject *r = f(it);
    if (!r && rt_state()->exc_type && rt_err_matches(rt_state()->exc_type, PyExc_StopIteration))
        rt_err_clear();
    return r;
}

Py_ssize_t rt_size(PyObject *o)
{
    if (!rt_arg_ok(o))
        return -1;
    PyTypeObject *tp = Py_TYPE(o);
    if (tp->tp_as_sequence && tp->tp_as_sequence->sq_length)
        return tp->tp_as_sequence->sq_length(o);
    if (tp->tp_as_mapping && tp->tp_as_mapping->mp_length)
        return tp->tp_as_mapping->mp_length(o);
    rt_err_format(PyExc_TypeError, "object of type '%s' has no len()", tp->tp_name);
    return -1;
}

PyObject *rt_getitem(PyObject *o, PyObject *key)
{
    if (!rt_arg_ok(o) || !rt_arg_ok(key))
        return NULL;
    PyTypeObject *tp = Py_TYPE(o);
    if (tp->tp_as_mapping && tp->tp_as_mapping->mp_subscript)
        return tp->tp_as_mapping->mp_subscript(o, key);
    if (tp->tp_as_sequence && tp->tp_as_sequence->sq_item) {
        int err;
        long long i = rt_as_ll(key, &err);
        if (err)
            return NULL;
        if (i < 0 && tp->tp_as_sequence->sq_length)
            i += tp->tp_as_sequence->sq_length(o);
        return tp->tp_as_sequence->sq_item(o, (Py_ssize_t)i);
    }
    rt_err_format(PyExc_TypeError, "'%s' object is not subscriptable", tp->tp_name);
    return NULL;
}

int rt_setitem(PyObject *o, PyObject *key, PyObject *v)
{
    if (!rt_arg_ok(o) || !rt_arg_ok(key) || (v && !rt_arg_ok(v)))
        return -1;
    PyTypeObject *tp = Py_TYPE(o);
    if (tp->tp_as_mapping && tp->tp_as_mapping->mp_ass_subscript)
        return tp->tp_as_mapping->mp_ass_subscript(o, key, v);
    if (tp->tp_as_sequence && tp->tp_as_sequence->sq_ass_item) {
        int err;
        long long i = rt_as_ll(key, &err);
        if (err)
            return -1;
        if (i < 0 && tp->tp_as_sequence->sq_length)
            i += tp->tp_as_sequence->sq_length(o);
        return tp->tp_as_sequence->sq_ass_item(o, (Py_ssize_t)i, v);
    }
    rt_err_format(PyExc_TypeError, "'%s' object does not support item assignment", tp->tp_name);
    return -1;
}

/* Arithmetic on the built-in types, then the operands' number slots. */
PyObject *rt_binop(PyObject *a, PyObject *b, int op)
{
    if (!rt_arg_ok(a) || !rt_arg_ok(b))
        return NULL;
    if (PyLong_Check(a) && PyLong_Check(b)) {
        int o1, o2;
        long long x = rt_long_value(a, &o1), y = rt_long_value(b, &o2), r = 0;
        bool ovf = o1 || o2;
        switch (op) {
        case '+': ovf |= __builtin_add_overflow(x, y, &r); break;
        case '-': ovf |= __builtin_sub_overflow(x, y, &r); break;
        case '*': ovf |= __builtin_mul_overflow(x, y, &r); break;
        case 'f': case '%': case 'd':
            if (y == 0) {
                rt_err_setstr(PyExc_ZeroDivisionError, "integer division or modulo by zero");
                return NULL;
            }
            if (x == LLONG_MIN && y == -1) { ovf = true; break; }
            {
                long long q = x / y, m = x % y;
                if (m && ((m < 0) != (y < 0))) { q--; m += y; }
                if (op == 'd') {
                    PyObject *qo = rt_long_from_ll(q), *mo = rt_long_from_ll(m);
                    PyObject *t = rt_tuple_pack(2, qo, mo);
                    Py_DECREF(qo);
                    Py_DECREF(mo);
                    return t;
                }
                r = op == 'f' ? q : m;
            }
            break;
        case '/':
            if (y == 0) {
                rt_err_setstr(PyExc_ZeroDivisionError, "division by zero");
                return NULL;
            }
            return rt_float_new((double)x / (double)y);
        default:
            goto slots;
        }
        if (ovf) {
            rt_err_setstr(PyExc_OverflowError, "the reference runtime's ints are 64-bit");
            return NULL;
        }
        return rt_long_from_ll(r);
    }
    if ((PyFloat_Check(a) || PyLong_Check(a)) && (PyFloat_Check(b) || PyLong_Check(b))) {
        int e;
        double x = rt_as_double(a, &e), y = rt_as_double(b, &e);
        switch (op) {
        case '+': return rt_float_new(x + y);
        case '-': return rt_float_new(x - y);
        case '*': return rt_float_new(x * y);
        case '/':
            if (y == 0) {
                rt_err_setstr(PyExc_ZeroDivisionError, "float division by zero");
                return NULL;
            }
            return rt_float_new(x / y);
        default: break;
        }
    }
    if (op == '+' && PyUnicode_Check(a) && PyUnicode_Check(b))
        return rt_str_concat(a, b);
    if (op == '+' && ((PyList_Check(a) && PyList_Check(b)) || (PyTuple_Check(a) && PyTuple_Check(b)))) {
        PyObject *l = rt_seq_to_list(a);
        PyObject *r = l ? rt_seq_to_list(b) : NULL;
        if (!r) {
            Py_XDECREF(l);
            return NULL;
        }
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(r); i++)
            rt_list_append(l, PyList_GET_ITEM(r, i));
        Py_DECREF(r);
        if (PyList_Check(a))
            return l;
        PyObject *t = rt_seq_to_tuple(l);
        Py_DECREF(l);
        return t;
    }
    if (op == '*' && PyLong_Check(b) && (PyUnicode_Check(a) || PyList_Check(a) || PyTuple_Check(a))) {
        int ovf;
        long long n = rt_long_value(b, &ovf);
        if (ovf > 0 || n > (1 << 24)) {
            rt_err_setstr(PyExc_MemoryError, "repeat count too large for the reference runtime");
            return NULL;
        }
        if (PyUnicode_Check(a))
            return rt_str_repeat(a, n < 0 ? 0 : (Py_ssize_t)n);
        PyObject *l = rt_seq_to_list(a);
        if (!l)
            return NULL;
        PyObject *out = rt_list_new(0);
        for (long long k = 0; k < n; k++)
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(l); i++)
                rt_list_append(out, PyList_GET_ITEM(l, i));
        Py_DECREF(l);
        if (PyList_Check(a))
            return out;
        PyObject *t = rt_seq_to_tuple(out);
        Py_DECREF(out);
        return t;
    }
slots:;
    PyNumberMethods *na = Py_TYPE(a)->tp_as_number, *nb = Py_TYPE(b)->tp_as_number;
    size_t off = op == '+' ? offsetof(PyNumberMethods, nb_add) :
                 op == '-' ? offsetof(PyNumberMethods, nb_subtract) :
                 op == '*' ? offsetof(PyNumberMethods, nb_multiply) :
                 op == '/' ? offsetof(PyNumberMethods, nb_true_divide) :
                 op == 'f' ? offsetof(PyNumberMethods, nb_floor_divide) :
                 op == '%' ? offsetof(PyNumberMethods, nb_remainder) :
                 offsetof(PyNumberMethods, nb_divmod);
    PyNumberMethods *sides[2] = { na, nb };
    for (int s = 0; s < 2; s++) {
        if (!sides[s])
            continue;
        binaryfunc f;
        memcpy(&f, (char *)sides[s] + off, sizeof f);
        if (!f)
            continue;
        PyObject *r = f(a, b);
        if (r != Py_NotImplemented)
            return r;
        Py_DECREF(r);
    }
    rt_err_format(PyExc_TypeError, "unsupported operand type(s) for %c: '%s' and '%s'", op,
                  Py_TYPE(a)->tp_name, Py_TYPE(b)->tp_name);
    return NULL;
}

/* ---- the object API ----------------------------------------------------------------------- */

PyObject *PyObject_Repr(PyObject *o)
{
    RT_ENTER_PTR("PyObject_Repr");
    return rt_repr(o);
}

PyObject *PyObject_Str(PyObject *o)
{
    RT_ENTER_PTR("PyObject_Str");
    return rt_str(o);
}

PyObject *PyObject_ASCII(PyObject *o)
{
    RT_ENTER_PTR("PyObject_ASCII");
    return rt_repr(o);
}

Py_hash_t PyObject_Hash(PyObject *o)
{
    RT_ENTER_INT("PyObject_Hash");
    return rt_hash(o);
}

Py_hash_t PyObject_HashNotImplemented(PyObject *o)
{
    RT_ENTER_INT("PyObject_HashNotImplemented");
    rt_err_format(PyExc_TypeError, "unhashable type: '%s'", Py_TYPE(o)->tp_name);
    return -1;
}

PyObject *PyObject_RichCompare(PyObject *a, PyObject *b, int op)
{
    RT_ENTER_PTR("PyObject_RichCompare");
    return rt_richcompare(a, b, op);
}

int PyObject_RichCompareBool(PyObject *a, PyObject *b, int op)
{
    RT_ENTER_INT("PyObject_RichCompareBool");
    if (a == b && (op == Py_EQ || op == Py_NE))
        return op == Py_EQ;
    PyObject *r = rt_richcompare(a, b, op);
    if (!r)
        return -1;
    int t = rt_truth(r);
    Py_DECREF(r);
    return t;
}

int PyObject_IsTrue(PyObject *o)
{
    RT_ENTER_INT_IF("PyObject_IsTrue", !rt_is_builtin(o));
    return rt_truth(o);
}

int PyObject_Not(PyObject *o)
{
    RT_ENTER_INT("PyObject_Not");
    int t = rt_truth(o);
    return t < 0 ? -1 : !t;
}

PyObject *PyObject_GetAttr(PyObject *o, PyObject *name)
{
    RT_ENTER_PTR("PyObject_GetAttr");
    return rt_getattr(o, name);
}

PyObject *PyObject_GetAttrString(PyObject *o, const char *name)
{
    RT_ENTER_PTR("PyObject_GetAttrString");
    if (!rt_arg_ok(o))
        return NULL;
    return rt_getattr_str(o, name);
}

int PyObject_SetAttr(PyObject *o, PyObject *name, PyObject *v)
{
    RT_ENTER_INT("PyObject_SetAttr");
    return rt_setattr(o, name, v);
}

int PyObject_SetAttrString(PyObject *o, const char *name, PyObject *v)
{
    RT_ENTER_INT("PyObject_SetAttrString");
    PyObject *n = rt_str_from_cstr(name);
    int r = rt_setattr(o, n, v);
    Py_DECREF(n);
    return r;
}

int (PyObject_DelAttrString)(PyObject *o, const char *name)
{
    RT_ENTER_INT("PyObject_DelAttrString");
    PyObject *n = rt_str_from_cstr(name);
    int r = rt_setattr(o, n, NULL);
    Py_DECREF(n);
    return r;
}

static int rt_hasattr(PyObject *r)
{
    if (r) {
        Py_DECREF(r);
        return 1;
    }
    rt_err_clear();
    return 0;
}

int PyObject_HasAttr(PyObject *o, PyObject *name)
{
    RT_ENTER_VOID("PyObject_HasAttr");
    return rt_hasattr(rt_getattr(o, name));
}

int PyObject_HasAttrString(PyObject *o, const char *name)
{
    RT_ENTER_VOID("PyObject_HasAttrString");
    return rt_hasattr(rt_getattr_str(o, name));
}

PyObject *PyObject_Type(PyObject *o)
{
    RT_ENTER_PTR("PyObject_Type");
    if (!rt_arg_ok(o))
        return NULL;
    Py_INCREF(Py_TYPE(o));
    return (PyObject *)Py_TYPE(o);
}

int PyObject_IsInstance(PyObject *o, PyObject *cls)
{
    RT_ENTER_INT("PyObject_IsInstance");
    if (!rt_arg_ok(o) || !rt_arg_ok(cls))
        return -1;
    if (PyTuple_Check(cls)) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(cls); i++)
            if (PyType_Check(PyTuple_GET_ITEM(cls, i)) &&
                rt_is_subtype(Py_TYPE(o), (PyTypeObject *)PyTuple_GET_ITEM(cls, i)))
                return 1;
        return 0;
    }
    if (!PyType_Check(cls)) {
        rt_err_setstr(PyExc_TypeError, "isinstance() arg 2 must be a type or tuple of types");
        return -1;
    }
    return rt_is_subtype(Py_TYPE(o), (PyTypeObject *)cls);
}

int PyObject_IsSubclass(PyObject *d, PyObject *cls)
{
    RT_ENTER_INT("PyObject_IsSubclass");
    if (!PyType_Check(d) || !PyType_Check(cls)) {
        rt_err_setstr(PyExc_TypeError, "issubclass() arg must be a class");
        return -1;
    }
    return rt_is_subtype((PyTypeObject *)d, (PyTypeObject *)cls);
}

int PyCallable_Check(PyObject *o)
{
    RT_ENTER_VOID("PyCallable_Check");
    return o && rt_use(o, RT_USE_ACCESS) && Py_TYPE(o)->tp_call != NULL;
}

Py_ssize_t PyObject_Size(PyObject *o)
{
    RT_ENTER_INT_IF("PyObject_Size", !rt_is_builtin(o) || o == Py_None || PyLong_Check(o) || PyFloat_Check(o));
    return rt_size(o);
}

#undef PyObject_Length
Py_ssize_t PyObject_Length(PyObject *o)
{
    RT_ENTER_INT_IF("PyObject_Length", !rt_is_builtin(o) || o == Py_None || PyLong_Check(o) || PyFloat_Check(o));
    return rt_size(o);
}

Py_ssize_t PyObject_LengthHint(PyObject *o, Py_ssize_t dflt)
{
    RT_ENTER_INT("PyObject_LengthHint");
    PyTypeObject *tp = Py_TYPE(o);
    if ((tp->tp_as_sequence && tp->tp_as_sequence->sq_length) ||
        (tp->tp_as_mapping && tp->tp_as_mapping->mp_length))
        return rt_size(o);
    return dflt;
}

PyObject *PyObject_GetItem(PyObject *o, PyObject *key)
{
    RT_ENTER_PTR("PyObject_GetItem");
    return rt_getitem(o, key);
}

int PyObject_SetItem(PyObject *o, PyObject *key, PyObject *v)
{
    RT_ENTER_INT("PyObject_SetItem");
    if (!v) {
        rt_null_arg();
        rt_err_badinternal("PyObject_SetItem");
        return -1;
    }
    return rt_setitem(o, key, v);
}

int PyObject_DelItem(PyObject *o, PyObject *key)
{
    RT_ENTER_INT("PyObject_DelItem");
    return rt_setitem(o, key, NULL);
}

PyObject *PyObject_GetIter(PyObject *o)
{
    RT_ENTER_PTR("PyObject_GetIter");
    return rt_getiter(o);
}

PyObject *PyIter_Next(PyObject *it)
{
    RT_ENTER_PTR("PyIter_Next");
    return rt_iternext(it);
}

int PyIter_Check(PyObject *o)
{
    RT_ENTER_VOID("PyIter_Check");
    return Py_TYPE(o)->tp_iternext != NULL;
}

PyObject *PyObject_SelfIter(PyObject *o)
{
    RT_ENTER_VOID("PyObject_SelfIter");
    Py_INCREF(o);
    return o;
}

/* ---- calls ----------------------------------------------------------------------------- */

PyObject *PyObject_Call(PyObject *callable, PyObject *args, PyObject *kw)
{
    RT_ENTER_PTR("PyObject_Call");
    if (!rt_arg_ok(callable) || (args && !rt_arg_ok(args)) || (kw && !rt_arg_ok(kw)))
        return NULL;
    if (!args || !PyTuple_Check(args)) {
        rt_err_setstr(PyExc_TypeError, "argument list must be a tuple");
        return NULL;
    }
    return rt_call(callable, args, kw);
}

PyObject *PyObject_CallObject(PyObject *callable, PyObject *args)
{
    RT_ENTER_PTR("PyObject_CallObject");
    return rt_call(callable, args, NULL);
}

PyObject *PyObject_CallNoArgs(PyObject *callable)
{
    RT_ENTER_PTR("PyObject_CallNoArgs");
    return rt_call(callable, NULL, NULL);
}

PyObject *PyObject_CallOneArg(PyObject *callable, PyObject *arg)
{
    RT_ENTER_PTR("PyObject_CallOneArg");
    return rt_call_vec(callable, &arg, 1);
}

static PyObject *rt_call_fmt(PyObject *callable, const char *fmt, va_list *ap, bool ssize)
{
    if (!fmt || !*fmt)
        return rt_call(callable, NULL, NULL);
    PyObject *args = rt_build_args(fmt, ap, ssize);
    if (!args)
        return NULL;
    PyObject *r = rt_call(callable, args, NULL);
    Py_DECREF(args);
    return r;
}

PyObject *PyObject_CallFunction(PyObject *callable, const char *fmt, ...)
{
    RT_ENTER_PTR("PyObject_CallFunction");
    va_list ap;
    va_start(ap, fmt);
    PyObject *r = rt_call_fmt(callable, fmt, &ap, false);
    va_end(ap);
    return r;
}

PyObject *_PyObject_CallFunction_SizeT(PyObject *callable, const char *fmt, ...)
{
    RT_ENTER_PTR("_PyObject_CallFunction_SizeT");
    va_list ap;
    va_start(ap, fmt);
    PyObject *r = rt_call_fmt(callable, fmt, &ap, true);
    va_end(ap);
    return r;
}

static PyObject *rt_call_method_fmt(PyObject *o, const char *name, const char *fmt,
                                    va_list *ap, bool ssize)
{
    if (!rt_arg_ok(o))
        return NULL;
    PyObject *m = rt_getattr_str(o, name);
    if (!m)
        return NULL;
    PyObject *r = rt_call_fmt(m, fmt, ap, ssize);
    Py_DECREF(m);
    return r;
}

PyObject *PyObject_CallMethod(PyObject *o, const char *name, const char *fmt, ...)
{
    RT_ENTER_PTR("PyObject_CallMethod");
    va_list ap;
    va_start(ap, fmt);
    PyObject *r = rt_call_method_fmt(o, name, fmt, &ap, false);
    va_end(ap);
    return r;
}

PyObject *_PyObject_CallMethod_SizeT(PyObject *o, const char *name, const char *fmt, ...)
{
    RT_ENTER_PTR("_PyObject_CallMethod_SizeT");
    va_list ap;
    va_start(ap, fmt);
    PyObject *r = rt_call_method_fmt(o, name, fmt, &ap, true);
    va_end(ap);
    return r;
}

static PyObject *rt_call_va_objs(PyObject *callable, va_list ap)
{
    PyObject *items[32];
    size_t n = 0;
    PyObject *x;
    while ((x = va_arg(ap, PyObject *)) && n < 32)
        items[n++] = x;
    return rt_call_vec(callable, items, n);
}

PyObject *PyObject_CallFunctionObjArgs(PyObject *callable, ...)
{
    RT_ENTER_PTR("PyObject_CallFunctionObjArgs");
    va_list ap;
    va_start(ap, callable);
    PyObject *r = rt_call_va_objs(callable, ap);
    va_end(ap);
    return r;
}

PyObject *PyObject_CallMethodObjArgs(PyObject *o, PyObject *name, ...)
{
    RT_ENTER_PTR("PyObject_CallMethodObjArgs");
    PyObject *m = rt_getattr(o, name);
    if (!m)
        return NULL;
    va_list ap;
    va_start(ap, name);
    PyObject *r = rt_call_va_objs(m, ap);
    va_end(ap);
    Py_DECREF(m);
    return r;
}

PyObject *PyObject_VectorcallMethod(PyObject *name, PyObject *const *args, size_t nargsf,
                                    PyObject *kwnames)
{
    RT_ENTER_PTR("PyObject_VectorcallMethod");
    size_t n = PyVectorcall_NARGS(nargsf);
    if (n < 1) {
        rt_err_badinternal("PyObject_VectorcallMethod");
        return NULL;
    }
    PyObject *m = rt_getattr(args[0], name);
    if (!m)
        return NULL;
    PyObject *r = rt_call_vec(m, args + 1, n - 1);
    Py_DECREF(m);
    return r;
}

PyObject *PyObject_Vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf,
                              PyObject *kwnames);

PyObject *_PyObject_MakeTpCall(PyThreadState *ts, PyObject *callable, PyObject *const *args,
                               Py_ssize_t nargs, PyObject *kwnames)
{
    RT_ENTER_PTR("_PyObject_MakeTpCall");
    return rt_call_vec(callable, args, (size_t)nargs);
}

PyObject *_Py_CheckFunctionResult(PyThreadState *ts, PyObject *callable, PyObject *result,
                                  const char *where)
{
    if (!result && !rt_state()->exc_type)
        rt_err_setstr(PyExc_SystemError, "NULL result without error");
    return result;
}

/* ---- numbers -------------------------------------------------------------------------- */

#define RT_BINOP(fname, op)                                   \
    PyObject *fname(PyObject *a, PyObject *b)                 \
    {                                                         \
        RT_ENTER_PTR(#fname);                                 \
        return rt_binop(a, b, op);                            \
    }
RT_BINOP(PyNumber_Add, '+')
RT_BINOP(PyNumber_Subtract, '-')
RT_BINOP(PyNumber_Multiply, '*')
RT_BINOP(PyNumber_TrueDivide, '/')
RT_BINOP(PyNumber_FloorDivide, 'f')
RT_BINOP(PyNumber_Remainder, '%')
RT_BINOP(PyNumber_Divmod, 'd')
RT_BINOP(PyNumber_InPlaceAdd, '+')
RT_BINOP(PyNumber_InPlaceSubtract, '-')
RT_BINOP(PyNumber_InPlaceMultiply, '*')

PyObject *PyNumber_Negative(PyObject *o)
{
    RT_ENTER_PTR("PyNumber_Negative");
    if (!rt_arg_ok(o))
        return NULL;
    if (PyLong_Check(o)) {
        int ovf;
        long long v = rt_long_value(o, &ovf);
        if (ovf || v == LLONG_MIN) {
            rt_err_setstr(PyExc_OverflowError, "the reference runtime's ints are 64-bit");
            return NULL;
        }
        return rt_long_from_ll(-v);
    }
    if (PyFloat_Check(o))
        return rt_float_new(-PyFloat_AS_DOUBLE(o));
    PyNumberMethods *nb = Py_TYPE(o)->tp_as_number;
    if (nb && nb->nb_negative)
        return nb->nb_negative(o);
    rt_err_format(PyExc_TypeError, "bad operand type for unary -: '%s'", Py_TYPE(o)->tp_name);
    return NULL;
}

PyObject *PyNumber_Absolute(PyObject *o)
{
    RT_ENTER_PTR("PyNumber_Absolute");
    if (PyLong_Check(o)) {
        int ovf;
        long long v = rt_long_value(o, &ovf);
        return rt_long_from_ll(v < 0 ? -v : v);
    }
    if (PyFloat_Check(o)) {
        double d = PyFloat_AS_DOUBLE(o);
        return rt_float_new(d < 0 ? -d : d);
    }
    rt_err_format(PyExc_TypeError, "bad operand type for abs(): '%s'", Py_TYPE(o)->tp_name);
    return NULL;
}

int PyNumber_Check(PyObject *o)
{
    RT_ENTER_VOID("PyNumber_Check");
    PyNumberMethods *nb = Py_TYPE(o)->tp_as_number;
    return nb && (nb->nb_index || nb->nb_int || nb->nb_float);
}
