/* rt_seqapi.c - the container API of the reference runtime: PyTuple_*,
 * PyList_*, PyDict_*, PySet_*, PySequence_*, PyMapping_* over the objects of
 * rt_containers.c.  Each function checks its arguments (a dead object is a
 * use-after-release, a wrong type a SystemError/TypeError as in CPython).
 *
 * The C API functions defined here return what CPython documents for them
 * (NULL or -1 with an exception set on failure; new or borrowed references
 * as the C API manual and rules/ say) and are counted and made to fail by
 * RT_ENTER* (rt_fault.c) before doing any work.
 */
#include "rt_internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static bool rt_is(PyObject *o, PyTypeObject *tp, const char *api)
{
    if (!o) {
        rt_null_arg();
        rt_err_badinternal(api);
        return false;
    }
    if (!rt_use(o, RT_USE_ACCESS))
        return false;
    if (!rt_is_subtype(Py_TYPE(o), tp)) {
        rt_err_badinternal(api);
        return false;
    }
    return true;
}

/* ---- tuple ---------------------------------------------------------------------------- */

PyObject *PyTuple_New(Py_ssize_t n)
{
    RT_ENTER_PTR("PyTuple_New");
    if (n < 0) {
        rt_err_badinternal("PyTuple_New");
        return NULL;
    }
    return rt_tuple_new(n);
}

PyObject *PyTuple_Pack(Py_ssize_t n, ...)
{
    RT_ENTER_PTR("PyTuple_Pack");
    PyObject *t = rt_tuple_new(n);
    va_list ap;
    va_start(ap, n);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = va_arg(ap, PyObject *);
        rt_use(o, RT_USE_ACCESS);
        Py_INCREF(o);
        PyTuple_SET_ITEM(t, i, o);
    }
    va_end(ap);
    return t;
}

Py_ssize_t PyTuple_Size(PyObject *t)
{
    RT_ENTER_INT_IF("PyTuple_Size", !t || rt_is_dead(t) || !PyTuple_Check(t));
    if (!rt_is(t, &PyTuple_Type, "PyTuple_Size"))
        return -1;
    return Py_SIZE(t);
}

PyObject *PyTuple_GetItem(PyObject *t, Py_ssize_t i)
{
    RT_ENTER_PTR_IF("PyTuple_GetItem", !t || rt_is_dead(t) || !PyTuple_Check(t) || i < 0 || i >= Py_SIZE(t));
    if (!rt_is(t, &PyTuple_Type, "PyTuple_GetItem"))
        return NULL;
    if (i < 0 || i >= Py_SIZE(t)) {
        rt_err_setstr(PyExc_IndexError, "tuple index out of range");
        return NULL;
    }
    return PyTuple_GET_ITEM(t, i);
}

int PyTuple_SetItem(PyObject *t, Py_ssize_t i, PyObject *v)
{
    if (rt_enter("PyTuple_SetItem", RT_SITE, t && PyTuple_Check(t) && i >= 0 && i < Py_SIZE(t))) {
        Py_XDECREF(v);
        return rt_fail_int("PyTuple_SetItem");
    }
    if (!rt_is(t, &PyTuple_Type, "PyTuple_SetItem") || Py_REFCNT(t) != 1) {
        Py_XDECREF(v);
        if (t && !rt_state()->exc_type)
            rt_err_badinternal("PyTuple_SetItem");
        return -1;
    }
    if (i < 0 || i >= Py_SIZE(t)) {
        Py_XDECREF(v);
        rt_err_setstr(PyExc_IndexError, "tuple assignment index out of range");
        return -1;
    }
    PyObject *old = PyTuple_GET_ITEM(t, i);
    PyTuple_SET_ITEM(t, i, v);
    Py_XDECREF(old);
    return 0;
}

PyObject *PyTuple_GetSlice(PyObject *t, Py_ssize_t lo, Py_ssize_t hi)
{
    RT_ENTER_PTR("PyTuple_GetSlice");
    if (!rt_is(t, &PyTuple_Type, "PyTuple_GetSlice"))
        return NULL;
    Py_ssize_t n = Py_SIZE(t);
    if (lo < 0) lo = 0;
    if (hi > n) hi = n;
    if (hi < lo) hi = lo;
    PyObject *r = rt_tuple_new(hi - lo);
    for (Py_ssize_t i = lo; i < hi; i++) {
        Py_INCREF(PyTuple_GET_ITEM(t, i));
        PyTuple_SET_ITEM(r, i - lo, PyTuple_GET_ITEM(t, i));
    }
    return r;
}

/* ---- list ----------------------------------------------------------------------------- */

PyObject *PyList_New(Py_ssize_t n)
{
    RT_ENTER_PTR("PyList_New");
    if (n < 0) {
        rt_err_badinternal("PyList_New");
        return NULL;
    }
    return rt_list_new(n);
}

Py_ssize_t PyList_Size(PyObject *l)
{
    RT_ENTER_INT_IF("PyList_Size", !l || rt_is_dead(l) || !PyList_Check(l));
    if (!rt_is(l, &PyList_Type, "PyList_Size"))
        return -1;
    return Py_SIZE(l);
}

PyObject *PyList_GetItem(PyObject *l, Py_ssize_t i)
{
    RT_ENTER_PTR_IF("PyList_GetItem", !l || rt_is_dead(l) || !PyList_Check(l) || i < 0 || i >= Py_SIZE(l));
    if (!rt_is(l, &PyList_Type, "PyList_GetItem"))
        return NULL;
    if (i < 0 || i >= Py_SIZE(l)) {
        rt_err_setstr(PyExc_IndexError, "list index out of range");
        return NULL;
    }
    return PyList_GET_ITEM(l, i);
}

int PyList_SetItem(PyObject *l, Py_ssize_t i, PyObject *v)
{
    if (rt_enter("PyList_SetItem", RT_SITE, l && PyList_Check(l) && i >= 0 && i < Py_SIZE(l))) {
        Py_XDECREF(v);
        return rt_fail_int("PyList_SetItem");
    }
    if (!rt_is(l, &PyList_Type, "PyList_SetItem")) {
        Py_XDECREF(v);
        return -1;
    }
    if (i < 0 || i >= Py_SIZE(l)) {
        Py_XDECREF(v);
        rt_err_setstr(PyExc_IndexError, "list assignment index out of range");
        return -1;
    }
    PyObject *old = PyList_GET_ITEM(l, i);
    PyList_SET_ITEM(l, i, v);
    Py_XDECREF(old);
    return 0;
}

int PyList_Append(PyObject *l, PyObject *v)
{
    RT_ENTER_INT("PyList_Append");
    if (!rt_is(l, &PyList_Type, "PyList_Append"))
        return -1;
    if (!v) {
        rt_null_arg();
        rt_err_badinternal("PyList_Append");
        return -1;
    }
    if (!rt_use(v, RT_USE_ACCESS))
        return -1;
    return rt_list_append(l, v);
}

int PyList_Insert(PyObject *l, Py_ssize_t where, PyObject *v)
{
    RT_ENTER_INT("PyList_Insert");
    if (!rt_is(l, &PyList_Type, "PyList_Insert") || !v || !rt_use(v, RT_USE_ACCESS))
        return -1;
    Py_ssize_t n = Py_SIZE(l);
    rt_list_append(l, v);
    if (where < 0) where += n;
    if (where < 0) where = 0;
    if (where > n) where = n;
    PyObject **items = ((PyListObject *)l)->ob_item;
    memmove(items + where + 1, items + where, (size_t)(n - where) * sizeof(PyObject *));
    items[where] = v;
    return 0;
}

static int rt_cmp_for_sort(const void *a, const void *b)
{
    PyObject *x = *(PyObject *const *)a, *y = *(PyObject *const *)b;
    PyObject *r = rt_richcompare(x, y, Py_LT);
    int lt = r ? rt_truth(r) : 0;
    Py_XDECREF(r);
    if (lt)
        return -1;
    r = rt_richcompare(y, x, Py_LT);
    int gt = r ? rt_truth(r) : 0;
    Py_XDECREF(r);
    return gt;
}

int PyList_Sort(PyObject *l)
{
    RT_ENTER_INT("PyList_Sort");
    if (!rt_is(l, &PyList_Type, "PyList_Sort"))
        return -1;
    qsort(((PyListObject *)l)->ob_item, (size_t)Py_SIZE(l), sizeof(PyObject *), rt_cmp_for_sort);
    return rt_state()->exc_type ? -1 : 0;
}

int PyList_Reverse(PyObject *l)
{
    RT_ENTER_INT("PyList_Reverse");
    if (!rt_is(l, &PyList_Type, "PyList_Reverse"))
        return -1;
    PyObject **it = ((PyListObject *)l)->ob_item;
    for (Py_ssize_t i = 0, j = Py_SIZE(l) - 1; i < j; i++, j--) {
        PyObject *t = it[i];
        it[i] = it[j];
        it[j] = t;
    }
    return 0;
}

PyObject *PyList_AsTuple(PyObject *l)
{
    RT_ENTER_PTR("PyList_AsTuple");
    if (!rt_is(l, &PyList_Type, "PyList_AsTuple"))
        return NULL;
    return rt_seq_to_tuple(l);
}

PyObject *PyList_GetSlice(PyObject *l, Py_ssize_t lo, Py_ssize_t hi)
{
    RT_ENTER_PTR("PyList_GetSlice");
    if (!rt_is(l, &PyList_Type, "PyList_GetSlice"))
        return NULL;
    Py_ssize_t n = Py_SIZE(l);
    if (lo < 0) lo = 0;
    if (hi > n) hi = n;
    if (hi < lo) hi = lo;
    PyObject *r = rt_list_new(0);
    for (Py_ssize_t i = lo; i < hi; i++)
        rt_list_append(r, PyList_GET_ITEM(l, i));
    return r;
}

/* ---- dict ----------------------------------------------------------------------------- */

PyObject *PyDict_New(void)
{
    RT_ENTER_PTR("PyDict_New");
    return rt_dict_new();
}

PyObject *PyDict_GetItem(PyObject *d, PyObject *key)
{
    RT_ENTER_PTR("PyDict_GetItem");
    if (!d || !key || !rt_use(d, RT_USE_ACCESS) || !rt_use(key, RT_USE_ACCESS) || !PyDict_Check(d))
        return NULL;
    rt_ctx *c = rt_state();
    PyObject *st = c->exc_type, *sv = c->exc_value, *stb = c->exc_tb;
    c->exc_type = c->exc_value = c->exc_tb = NULL;
    int err;
    PyObject *v = rt_dict_get(d, key, &err);
    rt_err_clear();
    c->exc_type = st;
    c->exc_value = sv;
    c->exc_tb = stb;
    return v;
}

PyObject *PyDict_GetItemWithError(PyObject *d, PyObject *key)
{
    RT_ENTER_PTR("PyDict_GetItemWithError");
    if (!rt_is(d, &PyDict_Type, "PyDict_GetItemWithError") || !key || !rt_use(key, RT_USE_ACCESS))
        return NULL;
    int err;
    return rt_dict_get(d, key, &err);
}

PyObject *PyDict_GetItemString(PyObject *d, const char *key)
{
    RT_ENTER_PTR("PyDict_GetItemString");
    if (!d || !rt_use(d, RT_USE_ACCESS) || !PyDict_Check(d))
        return NULL;
    return rt_dict_get_str(d, key);
}

int PyDict_SetItem(PyObject *d, PyObject *key, PyObject *v)
{
    RT_ENTER_INT("PyDict_SetItem");
    if (!rt_is(d, &PyDict_Type, "PyDict_SetItem"))
        return -1;
    if (!key || !v) {
        rt_null_arg();
        rt_err_badinternal("PyDict_SetItem");
        return -1;
    }
    if (!rt_use(key, RT_USE_ACCESS) || !rt_use(v, RT_USE_ACCESS))
        return -1;
    return rt_dict_set(d, key, v);
}

int PyDict_SetItemString(PyObject *d, const char *key, PyObject *v)
{
    RT_ENTER_INT("PyDict_SetItemString");
    if (!rt_is(d, &PyDict_Type, "PyDict_SetItemString"))
        return -1;
    if (!v) {
        rt_err_badinternal("PyDict_SetItemString");
        return -1;
    }
    if (!rt_use(v, RT_USE_ACCESS))
        return -1;
    return rt_dict_set_str(d, key, v);
}

int PyDict_DelItem(PyObject *d, PyObject *key)
{
    RT_ENTER_INT("PyDict_DelItem");
    if (!rt_is(d, &PyDict_Type, "PyDict_DelItem"))
        return -1;
    return rt_dict_del(d, key);
}

int PyDict_DelItemString(PyObject *d, const char *key)
{
    RT_ENTER_INT("PyDict_DelItemString");
    if (!rt_is(d, &PyDict_Type, "PyDict_DelItemString"))
        return -1;
    PyObject *k = rt_str_from_cstr(key);
    int r = rt_dict_del(d, k);
    Py_DECREF(k);
    return r;
}

int PyDict_Contains(PyObject *d, PyObject *key)
{
    RT_ENTER_INT("PyDict_Contains");
    if (!rt_is(d, &PyDict_Type, "PyDict_Contains"))
        return -1;
    int err;
    PyObject *v = rt_dict_get(d, key, &err);
    return err ? -1 : v != NULL;
}

int PyDict_Next(PyObject *d, Py_ssize_t *pos, PyObject **k, PyObject **v)
{
    RT_ENTER_VOID("PyDict_Next");
    if (!d || !rt_use(d, RT_USE_ACCESS) || !PyDict_Check(d))
        return 0;
    rt_dict *dd = (rt_dict *)d;
    Py_ssize_t i = *pos;
    if (i < 0 || i >= dd->d.ma_used)
        return 0;
    if (k)
        *k = dd->keys[i];
    if (v)
        *v = dd->vals[i];
    *pos = i + 1;
    return 1;
}

static PyObject *rt_dict_listing(PyObject *d, int which, const char *api)
{
    if (!rt_is(d, &PyDict_Type, api))
        return NULL;
    rt_dict *dd = (rt_dict *)d;
    PyObject *l = rt_list_new(0);
    for (Py_ssize_t i = 0; i < dd->d.ma_used; i++) {
        if (which == 2) {
            PyObject *t = rt_tuple_pack(2, dd->keys[i], dd->vals[i]);
            rt_list_append(l, t);
            Py_DECREF(t);
        } else {
            rt_list_append(l, which ? dd->vals[i] : dd->keys[i]);
        }
    }
    return l;
}

PyObject *PyDict_Keys(PyObject *d)
{
    RT_ENTER_PTR("PyDict_Keys");
    return rt_dict_listing(d, 0, "PyDict_Keys");
}

PyObject *PyDict_Values(PyObject *d)
{
    RT_ENTER_PTR("PyDict_Values");
    return rt_dict_listing(d, 1, "PyDict_Values");
}

PyObject *PyDict_Items(PyObject *d)
{
    RT_ENTER_PTR("PyDict_Items");
    return rt_dict_listing(d, 2, "PyDict_Items");
}

Py_ssize_t PyDict_Size(PyObject *d)
{
    RT_ENTER_INT_IF("PyDict_Size", !d || rt_is_dead(d) || !PyDict_Check(d));
    if (!rt_is(d, &PyDict_Type, "PyDict_Size"))
        return -1;
    return ((rt_dict *)d)->d.ma_used;
}

static int rt_dict_merge(PyObject *a, PyObject *b)
{
    if (!rt_use(b, RT_USE_ACCESS))
        return -1;
    if (!PyDict_Check(b)) {
        rt_err_setstr(PyExc_TypeError, "the reference runtime merges dicts only");
        return -1;
    }
    rt_dict *bd = (rt_dict *)b;
    for (Py_ssize_t i = 0; i < bd->d.ma_used; i++)
        if (rt_dict_set(a, bd->keys[i], bd->vals[i]) < 0)
            return -1;
    return 0;
}

PyObject *PyDict_Copy(PyObject *d)
{
    RT_ENTER_PTR("PyDict_Copy");
    if (!rt_is(d, &PyDict_Type, "PyDict_Copy"))
        return NULL;
    PyObject *r = rt_dict_new();
    if (rt_dict_merge(r, d) < 0) {
        Py_DECREF(r);
        return NULL;
    }
    return r;
}

int PyDict_Update(PyObject *a, PyObject *b)
{
    RT_ENTER_INT("PyDict_Update");
    if (!rt_is(a, &PyDict_Type, "PyDict_Update"))
        return -1;
    return rt_dict_merge(a, b);
}

int PyDict_Merge(PyObject *a, PyObject *b, int override)
{
    RT_ENTER_INT("PyDict_Merge");
    if (!rt_is(a, &PyDict_Type, "PyDict_Merge"))
        return -1;
    return rt_dict_merge(a, b);
}

PyObject *PyDict_SetDefault(PyObject *d, PyObject *key, PyObject *dflt)
{
    RT_ENTER_PTR("PyDict_SetDefault");
    if (!rt_is(d, &PyDict_Type, "PyDict_SetDefault"))
        return NULL;
    int err;
    PyObject *v = rt_dict_get(d, key, &err);
    if (err)
        return NULL;
    if (v)
        return v;
    if (rt_dict_set(d, key, dflt) < 0)
        return NULL;
    return dflt;
}

void PyDict_Clear(PyObject *d)
{
    RT_ENTER_VOID("PyDict_Clear");
    if (d && rt_use(d, RT_USE_ACCESS) && PyDict_Check(d))
        rt_dict_clear(d);
}

/* ---- set ---------------------------------------------------------------------------- */

static PyObject *rt_set_from(PyTypeObject *tp, PyObject *iterable)
{
    PyObject *s = rt_set_new(tp);
    if (!iterable)
        return s;
    PyObject *l = rt_seq_to_list(iterable);
    if (!l) {
        Py_DECREF(s);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(l); i++)
        if (rt_set_add(s, PyList_GET_ITEM(l, i)) < 0) {
            Py_DECREF(l);
            Py_DECREF(s);
            return NULL;
        }
    Py_DECREF(l);
    return s;
}

PyObject *PySet_New(PyObject *iterable)
{
    RT_ENTER_PTR("PySet_New");
    return rt_set_from(&PySet_Type, iterable);
}

PyObject *PyFrozenSet_New(PyObject *iterable)
{
    RT_ENTER_PTR("PyFrozenSet_New");
    return rt_set_from(&PyFrozenSet_Type, iterable);
}

int PySet_Add(PyObject *s, PyObject *v)
{
    RT_ENTER_INT("PySet_Add");
    if (!s || !rt_use(s, RT_USE_ACCESS) || !PyAnySet_Check(s)) {
        rt_err_badinternal("PySet_Add");
        return -1;
    }
    if (!v || !rt_use(v, RT_USE_ACCESS))
        return -1;
    return rt_set_add(s, v);
}

int PySet_Contains(PyObject *s, PyObject *v)
{
    RT_ENTER_INT("PySet_Contains");
    if (!s || !rt_use(s, RT_USE_ACCESS) || !PyAnySet_Check(s)) {
        rt_err_badinternal("PySet_Contains");
        return -1;
    }
    return rt_set_contains(s, v);
}

int PySet_Discard(PyObject *s, PyObject *v)
{
    RT_ENTER_INT("PySet_Discard");
    if (!s || !rt_use(s, RT_USE_ACCESS) || !PySet_Check(s)) {
        rt_err_badinternal("PySet_Discard");
        return -1;
    }
    return rt_set_discard(s, v);
}

Py_ssize_t PySet_Size(PyObject *s)
{
    RT_ENTER_INT("PySet_Size");
    if (!s || !rt_use(s, RT_USE_ACCESS) || !PyAnySet_Check(s)) {
        rt_err_badinternal("PySet_Size");
        return -1;
    }
    return ((rt_set *)s)->s.used;
}

/* ---- sequence and mapping protocols ------------------------------------------------------- */

PyObject *PySequence_Fast(PyObject *o, const char *msg)
{
    RT_ENTER_PTR("PySequence_Fast");
    if (!o || !rt_use(o, RT_USE_ACCESS)) {
        rt_err_badinternal("PySequence_Fast");
        return NULL;
    }
    if (PyList_CheckExact(o) || PyTuple_CheckExact(o)) {
        Py_INCREF(o);
        return o;
    }
    if (!Py_TYPE(o)->tp_iter) {
        rt_err_setstr(PyExc_TypeError, msg);
        return NULL;
    }
    return rt_seq_to_list(o);
}

PyObject *PySequence_List(PyObject *o)
{
    RT_ENTER_PTR("PySequence_List");
    return rt_seq_to_list(o);
}

PyObject *PySequence_Tuple(PyObject *o)
{
    RT_ENTER_PTR("PySequence_Tuple");
    return rt_seq_to_tuple(o);
}

int PySequence_Check(PyObject *o)
{
    RT_ENTER_VOID("PySequence_Check");
    if (PyDict_Check(o))
        return 0;
    return Py_TYPE(o)->tp_as_sequence && Py_TYPE(o)->tp_as_sequence->sq_item;
}

Py_ssize_t PySequence_Size(PyObject *o)
{
    RT_ENTER_INT_IF("PySequence_Size", !rt_is_builtin(o) || o == Py_None || PyLong_Check(o) || PyFloat_Check(o));
    return rt_size(o);
}

#undef PySequence_Length
Py_ssize_t PySequence_Length(PyObject *o)
{
    RT_ENTER_INT("PySequence_Length");
    return rt_size(o);
}

PyObject *PySequence_GetItem(PyObject *o, Py_ssize_t i)
{
    RT_ENTER_PTR("PySequence_GetItem");
    if (!o || !rt_use(o, RT_USE_ACCESS))
        return NULL;
    PySequenceMethods *sq = Py_TYPE(o)->tp_as_sequence;
    if (!sq || !sq->sq_item) {
        rt_err_format(PyExc_TypeError, "'%s' object does not support indexing", Py_TYPE(o)->tp_name);
        return NULL;
    }
    if (i < 0 && sq->sq_length)
        i += sq->sq_length(o);
    return sq->sq_item(o, i);
}

int PySequence_SetItem(PyObject *o, Py_ssize_t i, PyObject *v)
{
    RT_ENTER_INT("PySequence_SetItem");
    PyObject *k = rt_long_from_ll(i);
    int r = rt_setitem(o, k, v);
    Py_DECREF(k);
    return r;
}

int PySequence_Contains(PyObject *o, PyObject *v)
{
    RT_ENTER_INT("PySequence_Contains");
    if (!o || !rt_use(o, RT_USE_ACCESS))
        return -1;
    return rt_contains(o, v);
}

Py_ssize_t PySequence_Index(PyObject *o, PyObject *v)
{
    RT_ENTER_INT("PySequence_Index");
    PyObject *l = rt_seq_to_list(o);
    if (!l)
        return -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(l); i++) {
        int r = rt_eq(PyList_GET_ITEM(l, i), v);
        if (r) {
            Py_DECREF(l);
            return r < 0 ? -1 : i;
        }
    }
    Py_DECREF(l);
    rt_err_setstr(PyExc_ValueError, "sequence.index(x): x not in sequence");
    return -1;
}

PyObject *PySequence_Repeat(PyObject *o, Py_ssize_t n)
{
    RT_ENTER_PTR("PySequence_Repeat");
    PyObject *k = rt_long_from_ll(n);
    PyObject *r = rt_binop(o, k, '*');
    Py_DECREF(k);
    return r;
}

PyObject *PySequence_Concat(PyObject *a, PyObject *b)
{
    RT_ENTER_PTR("PySequence_Concat");
    return rt_binop(a, b, '+');
}

PyObject *PySequence_GetSlice(PyObject *o, Py_ssize_t lo, Py_ssize_t hi)
{
    RT_ENTER_PTR("PySequence_GetSlice");
    PyObject *l = rt_seq_to_list(o);
    if (!l)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(l);
    if (lo < 0) lo = 0;
    if (hi > n) hi = n;
    if (hi < lo) hi = lo;
    PyObject *r = rt_list_new(0);
    for (Py_ssize_t i = lo; i < hi; i++)
        rt_list_append(r, PyList_GET_ITEM(l, i));
    Py_DECREF(l);
    if (PyTuple_Check(o)) {
        PyObject *t = rt_seq_to_tuple(r);
        Py_DECREF(r);
        return t;
    }
    return r;
}

int PyMapping_Check(PyObject *o)
{
    RT_ENTER_VOID("PyMapping_Check");
    return Py_TYPE(o)->tp_as_mapping && Py_TYPE(o)->tp_as_mapping->mp_subscript;
}

Py_ssize_t PyMapping_Size(PyObject *o)
{
    RT_ENTER_INT("PyMapping_Size");
    return rt_size(o);
}

PyObject *PyMapping_GetItemString(PyObject *o, const char *key)
{
    RT_ENTER_PTR("PyMapping_GetItemString");
    PyObject *k = rt_str_from_cstr(key);
    PyObject *r = rt_getitem(o, k);
    Py_DECREF(k);
    return r;
}

int PyMapping_SetItemString(PyObject *o, const char *key, PyObject *v)
{
    RT_ENTER_INT("PyMapping_SetItemString");
    PyObject *k = rt_str_from_cstr(key);
    int r = rt_setitem(o, k, v);
    Py_DECREF(k);
    return r;
}

PyObject *PyMapping_Keys(PyObject *o)
{
    RT_ENTER_PTR("PyMapping_Keys");
    if (PyDict_Check(o))
        return rt_dict_listing(o, 0, "PyMapping_Keys");
    PyObject *m = rt_getattr_str(o, "keys");
    if (!m)
        return NULL;
    PyObject *r = rt_call(m, NULL, NULL);
    Py_DECREF(m);
    return r;
}

PyObject *PyMapping_Items(PyObject *o)
{
    RT_ENTER_PTR("PyMapping_Items");
    if (PyDict_Check(o))
        return rt_dict_listing(o, 2, "PyMapping_Items");
    rt_err_setstr(PyExc_TypeError, "the reference runtime lists items of dicts only");
    return NULL;
}
