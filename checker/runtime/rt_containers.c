/* rt_containers.c - tuple, list, dict, set/frozenset and their iterators in
 * the reference runtime.  Tuples and lists have the real ob_item layout (the
 * GET_ITEM/SET_ITEM macros work); dicts and sets keep the header fields the
 * macros read (ma_used, used) and store their entries in insertion-ordered
 * arrays after them.
 */
#include "rt_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *rt_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        rt_die("out of memory");
    return q;
}

/* ---- tuple --------------------------------------------------------------------------- */

PyObject *rt_tuple_new(Py_ssize_t n)
{
    return rt_alloc(&PyTuple_Type, n, 0);
}

PyObject *rt_tuple_pack(Py_ssize_t n, ...)
{
    PyObject *t = rt_tuple_new(n);
    va_list ap;
    va_start(ap, n);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = va_arg(ap, PyObject *);
        Py_XINCREF(o);
        PyTuple_SET_ITEM(t, i, o);
    }
    va_end(ap);
    return t;
}

static void rt_tuple_dealloc(PyObject *o)
{
    for (Py_ssize_t i = 0; i < Py_SIZE(o); i++)
        Py_XDECREF(PyTuple_GET_ITEM(o, i));
    rt_quarantine(o);
}

static PyObject *rt_seq_repr(PyObject *o, const char *open, const char *close,
                             PyObject *const *items, Py_ssize_t n)
{
    PyObject *acc = rt_str_from_cstr(open);
    for (Py_ssize_t i = 0; i < n && acc; i++) {
        PyObject *r = rt_repr(items[i]);
        if (!r) {
            Py_DECREF(acc);
            return NULL;
        }
        if (i) {
            PyObject *sep = rt_str_from_cstr(", ");
            PyObject *t = rt_str_concat(acc, sep);
            Py_DECREF(sep);
            Py_DECREF(acc);
            acc = t;
        }
        PyObject *t = rt_str_concat(acc, r);
        Py_DECREF(r);
        Py_DECREF(acc);
        acc = t;
    }
    PyObject *c = rt_str_from_cstr(close);
    PyObject *t = rt_str_concat(acc, c);
    Py_DECREF(c);
    Py_DECREF(acc);
    return t;
}

static PyObject *rt_tuple_repr(PyObject *o)
{
    return rt_seq_repr(o, "(", Py_SIZE(o) == 1 ? ",)" : ")", ((PyTupleObject *)o)->ob_item,
                       Py_SIZE(o));
}

static Py_hash_t rt_tuple_hash(PyObject *o)
{
    uint64_t h = 0x345678;
    for (Py_ssize_t i = 0; i < Py_SIZE(o); i++) {
        Py_hash_t x = rt_hash(PyTuple_GET_ITEM(o, i));
        if (x == -1)
            return -1;
        h = (h ^ (uint64_t)x) * 1000003ull;
    }
    Py_hash_t r = (Py_hash_t)(h >> 1);
    return r == -1 ? -2 : r;
}

static PyObject *rt_seq_richcompare(PyObject *a, PyObject *b, int op)
{
    if (Py_TYPE(a) != Py_TYPE(b) || (op != Py_EQ && op != Py_NE)) {
        Py_INCREF(Py_NotImplemented);
        return Py_NotImplemented;
    }
    bool eq = Py_SIZE(a) == Py_SIZE(b);
    PyObject **ia = PyTuple_Check(a) ? ((PyTupleObject *)a)->ob_item : ((PyListObject *)a)->ob_item;
    PyObject **ib = PyTuple_Check(b) ? ((PyTupleObject *)b)->ob_item : ((PyListObject *)b)->ob_item;
    for (Py_ssize_t i = 0; eq && i < Py_SIZE(a); i++) {
        int r = rt_eq(ia[i], ib[i]);
        if (r < 0)
            return NULL;
        eq = r;
    }
    return rt_bool(eq == (op == Py_EQ));
}

static Py_ssize_t rt_var_len(PyObject *o)
{
    return Py_SIZE(o);
}

static PyObject *rt_tuple_item(PyObject *o, Py_ssize_t i)
{
    if (i < 0 || i >= Py_SIZE(o)) {
        rt_err_setstr(PyExc_IndexError, "tuple index out of range");
        return NULL;
    }
    PyObject *v = PyTuple_GET_ITEM(o, i);
    Py_INCREF(v);
    return v;
}

static int rt_seq_contains(PyObject *o, PyObject *v)
{
    PyObject **items = PyTuple_Check(o) ? ((PyTupleObject *)o)->ob_item : ((PyListObject *)o)->ob_item;
    for (Py_ssize_t i = 0; i < Py_SIZE(o); i++) {
        int r = rt_eq(items[i], v);
        if (r)
            return r;
    }
    return 0;
}

static PySequenceMethods rt_tuple_as_sequence = {
    .sq_length = rt_var_len,
    .sq_item = rt_tuple_item,
    .sq_contains = rt_seq_contains,
};


PyTypeObject PyTuple_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "tuple",
    .tp_basicsize = sizeof(PyTupleObject) - sizeof(PyObject *),
    .tp_itemsize = sizeof(PyObject *),
    .tp_dealloc = rt_tuple_dealloc,
    .tp_repr = rt_tuple_repr,
    .tp_as_sequence = &rt_tuple_as_sequence,
    .tp_hash = rt_tuple_hash,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_TUPLE_SUBCLASS |
                Py_TPFLAGS_READY,
    .tp_richcompare = rt_seq_richcompare,
    .tp_iter = rt_seqiter_new,
    .tp_base = &PyBaseObject_Type,
};

/* ---- list ---------------------------------------------------------------------------- */

PyObject *rt_list_new(Py_ssize_t n)
{
    PyListObject *l = (PyListObject *)rt_alloc(&PyList_Type, 0, 0);
    l->ob_item = n ? calloc((size_t)n, sizeof(PyObject *)) : NULL;
    if (n && !l->ob_item)
        rt_die("out of memory");
    Py_SET_SIZE(l, n);
    l->allocated = n;
    return (PyObject *)l;
}

int rt_list_append(PyObject *o, PyObject *v)
{
    PyListObject *l = (PyListObject *)o;
    if (Py_SIZE(l) == l->allocated) {
        Py_ssize_t ncap = l->allocated ? l->allocated * 2 : 4;
        l->ob_item = rt_xrealloc(l->ob_item, (size_t)ncap * sizeof(PyObject *));
        l->allocated = ncap;
    }
    Py_INCREF(v);
    l->ob_item[Py_SIZE(l)] = v;
    Py_SET_SIZE(l, Py_SIZE(l) + 1);
    return 0;
}

static void rt_list_dealloc(PyObject *o)
{
    PyListObject *l = (PyListObject *)o;
    for (Py_ssize_t i = 0; i < Py_SIZE(o); i++)
        Py_XDECREF(l->ob_item[i]);
    free(l->ob_item);
    l->ob_item = NULL;
    rt_quarantine(o);
}

static PyObject *rt_list_repr(PyObject *o)
{
    return rt_seq_repr(o, "[", "]", ((PyListObject *)o)->ob_item, Py_SIZE(o));
}

static PyObject *rt_list_item(PyObject *o, Py_ssize_t i)
{
    if (i < 0 || i >= Py_SIZE(o)) {
        rt_err_setstr(PyExc_IndexError, "list index out of range");
        return NULL;
    }
    PyObject *v = PyList_GET_ITEM(o, i);
    Py_INCREF(v);
    return v;
}

static int rt_list_ass_item(PyObject *o, Py_ssize_t i, PyObject *v)
{
    if (i < 0 || i >= Py_SIZE(o)) {
        rt_err_setstr(PyExc_IndexError, "list assignment index out of range");
        return -1;
    }
    PyListObject *l = (PyListObject *)o;
    PyObject *old = l->ob_item[i];
    if (v) {
        Py_INCREF(v);
        l->ob_item[i] = v;
    } else {
        memmove(l->ob_item + i, l->ob_item + i + 1, (size_t)(Py_SIZE(o) - i - 1) * sizeof(PyObject *));
        Py_SET_SIZE(l, Py_SIZE(l) - 1);
    }
    Py_XDECREF(old);
    return 0;
}

static PySequenceMethods rt_list_as_sequence = {
    .sq_length = rt_var_len,
    .sq_item = rt_list_item,
    .sq_ass_item = rt_list_ass_item,
    .sq_contains = rt_seq_contains,
};

static PyObject *rt_list_m_append(PyObject *self, PyObject *v)
{
    rt_list_append(self, v);
    Py_INCREF(Py_None);
    return Py_None;
}

static PyMethodDef rt_list_methods[] = {
    { "append", rt_list_m_append, METH_O, NULL },
    { NULL, NULL, 0, NULL },
};

PyTypeObject PyList_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "list",
    .tp_basicsize = sizeof(PyListObject),
    .tp_dealloc = rt_list_dealloc,
    .tp_repr = rt_list_repr,
    .tp_as_sequence = &rt_list_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_LIST_SUBCLASS |
                Py_TPFLAGS_READY,
    .tp_richcompare = rt_seq_richcompare,
    .tp_iter = rt_seqiter_new,
    .tp_methods = rt_list_methods,
    .tp_base = &PyBaseObject_Type,
};

/* ---- dict ---------------------------------------------------------------------------- */

PyObject *rt_dict_new(void)
{
    return rt_alloc(&PyDict_Type, 0, 0);
}

/* Index of key in d, -1 when absent, -2 on error. */
static Py_ssize_t rt_dict_find(rt_dict *d, PyObject *key)
{
    Py_hash_t h = rt_hash(key);
    if (h == -1)
        return -2;
    for (Py_ssize_t i = 0; i < d->d.ma_used; i++) {
        if (d->keys[i] == key)
            return i;
        int r = rt_eq(d->keys[i], key);
        if (r < 0)
            return -2;
        if (r)
            return i;
    }
    return -1;
}

PyObject *rt_dict_get(PyObject *o, PyObject *key, int *err)
{
    *err = 0;
    Py_ssize_t i = rt_dict_find((rt_dict *)o, key);
    if (i == -2) {
        *err = 1;
        return NULL;
    }
    return i < 0 ? NULL : ((rt_dict *)o)->vals[i];
}

PyObject *rt_dict_get_str(PyObject *o, const char *key)
{
    rt_dict *d = (rt_dict *)o;
    for (Py_ssize_t i = 0; i < d->d.ma_used; i++)
        if (PyUnicode_Check(d->keys[i]) && rt_str_eq_cstr(d->keys[i], key))
            return d->vals[i];
    return NULL;
}

int rt_dict_set(PyObject *o, PyObject *key, PyObject *v)
{
    rt_dict *d = (rt_dict *)o;
    Py_ssize_t i = rt_dict_find(d, key);
    if (i == -2)
        return -1;
    Py_INCREF(v);
    if (i >= 0) {
        PyObject *old = d->vals[i];
        d->vals[i] = v;
        Py_DECREF(old);
        return 0;
    }
    if (d->d.ma_used == d->cap) {
        Py_ssize_t ncap = d->cap ? d->cap * 2 : 8;
        d->keys = rt_xrealloc(d->keys, (size_t)ncap * sizeof(PyObject *));
        d->vals = rt_xrealloc(d->vals, (size_t)ncap * sizeof(PyObject *));
        d->cap = ncap;
    }
    Py_INCREF(key);
    d->keys[d->d.ma_used] = key;
    d->vals[d->d.ma_used] = v;
    d->d.ma_used++;
    return 0;
}

int rt_dict_set_str(PyObject *o, const char *key, PyObject *v)
{
    PyObject *k = rt_str_from_cstr(key);
    int r = rt_dict_set(o, k, v);
    Py_DECREF(k);
    return r;
}

int rt_dict_del(PyObject *o, PyObject *key)
{
    rt_dict *d = (rt_dict *)o;
    Py_ssize_t i = rt_dict_find(d, key);
    if (i == -2)
        return -1;
    if (i < 0) {
        rt_err_set(PyExc_KeyError, key);
        return -1;
    }
    PyObject *k = d->keys[i], *v = d->vals[i];
    Py_ssize_t rest = d->d.ma_used - i - 1;
    memmove(d->keys + i, d->keys + i + 1, (size_t)rest * sizeof(PyObject *));
    memmove(d->vals + i, d->vals + i + 1, (size_t)rest * sizeof(PyObject *));
    d->d.ma_used--;
    Py_DECREF(k);
    Py_DECREF(v);
    return 0;
}

void rt_dict_clear(PyObject *o)
{
    rt_dict *d = (rt_dict *)o;
    Py_ssize_t n = d->d.ma_used;
    PyObject **k = d->keys, **v = d->vals;
    d->keys = d->vals = NULL;
    d->d.ma_used = 0;
    d->cap = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_DECREF(k[i]);
        Py_DECREF(v[i]);
    }
    free(k);
    free(v);
}

static void rt_dict_dealloc(PyObject *o)
{
    rt_dict_clear(o);
    rt_quarantine(o);
}

static PyObject *rt_dict_repr(PyObject *o)
{
    char buf[64];
    snprintf(buf, sizeof buf, "<dict of %zd items>", ((rt_dict *)o)->d.ma_used);
    return rt_str_from_cstr(buf);
}

static Py_ssize_t rt_dict_len(PyObject *o)
{
    return ((rt_dict *)o)->d.ma_used;
}

static PyObject *rt_dict_subscript(PyObject *o, PyObject *key)
{
    int err;
    PyObject *v = rt_dict_get(o, key, &err);
    if (err)
        return NULL;
    if (!v) {
        rt_err_set(PyExc_KeyError, key);
        return NULL;
    }
    Py_INCREF(v);
    return v;
}

static int rt_dict_ass_subscript(PyObject *o, PyObject *key, PyObject *v)
{
    return v ? rt_dict_set(o, key, v) : rt_dict_del(o, key);
}

static int rt_dict_contains(PyObject *o, PyObject *key)
{
    Py_ssize_t i = rt_dict_find((rt_dict *)o, key);
    return i == -2 ? -1 : i >= 0;
}

static PyMappingMethods rt_dict_as_mapping = {
    .mp_length = rt_dict_len,
    .mp_subscript = rt_dict_subscript,
    .mp_ass_subscript = rt_dict_ass_subscript,
};

static PySequenceMethods rt_dict_as_sequence = { .sq_contains = rt_dict_contains };

static PyObject *rt_dict_list(PyObject *o, int which)
{
    rt_dict *d = (rt_dict *)o;
    PyObject *l = rt_list_new(0);
    for (Py_ssize_t i = 0; i < d->d.ma_used; i++) {
        PyObject *v = which == 0 ? d->keys[i] : which == 1 ? d->vals[i] : NULL;
        if (which == 2) {
            PyObject *t = rt_tuple_pack(2, d->keys[i], d->vals[i]);
            rt_list_append(l, t);
            Py_DECREF(t);
        } else {
            rt_list_append(l, v);
        }
    }
    return l;
}

static PyObject *rt_dict_m_keys(PyObject *self, PyObject *u) { return rt_dict_list(self, 0); }
static PyObject *rt_dict_m_values(PyObject *self, PyObject *u) { return rt_dict_list(self, 1); }
static PyObject *rt_dict_m_items(PyObject *self, PyObject *u) { return rt_dict_list(self, 2); }

static PyObject *rt_dict_m_clear(PyObject *self, PyObject *u)
{
    rt_dict_clear(self);
    Py_INCREF(Py_None);
    return Py_None;
}

static PyObject *rt_dict_m_get(PyObject *self, PyObject *args)
{
    if (PyTuple_GET_SIZE(args) < 1) {
        rt_err_setstr(PyExc_TypeError, "get expected at least 1 argument");
        return NULL;
    }
    int err;
    PyObject *v = rt_dict_get(self, PyTuple_GET_ITEM(args, 0), &err);
    if (err)
        return NULL;
    if (!v)
        v = PyTuple_GET_SIZE(args) > 1 ? PyTuple_GET_ITEM(args, 1) : Py_None;
    Py_INCREF(v);
    return v;
}

static PyMethodDef rt_dict_methods[] = {
    { "keys", rt_dict_m_keys, METH_NOARGS, NULL },
    { "values", rt_dict_m_values, METH_NOARGS, NULL },
    { "items", rt_dict_m_items, METH_NOARGS, NULL },
    { "clear", rt_dict_m_clear, METH_NOARGS, NULL },
    { "get", rt_dict_m_get, METH_VARARGS, NULL },
    { NULL, NULL, 0, NULL },
};

PyTypeObject PyDict_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "dict",
    .tp_basicsize = sizeof(rt_dict),
    .tp_dealloc = rt_dict_dealloc,
    .tp_repr = rt_dict_repr,
    .tp_as_sequence = &rt_dict_as_sequence,
    .tp_as_mapping = &rt_dict_as_mapping,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_DICT_SUBCLASS |
                Py_TPFLAGS_READY,
    .tp_iter = rt_seqiter_new,
    .tp_methods = rt_dict_methods,
    .tp_base = &PyBaseObject_Type,
};

/* ---- set ---------------------------------------------------------------------------- */

PyObject *rt_set_new(PyTypeObject *tp)
{
    rt_set *s = (rt_set *)rt_alloc(tp, 0, 0);
    s->s.hash = -1;
    return (PyObject *)s;
}

static Py_ssize_t rt_set_find(rt_set *s, PyObject *v)
{
    if (rt_hash(v) == -1)
        return -2;
    for (Py_ssize_t i = 0; i < s->s.used; i++) {
        int r = s->items[i] == v ? 1 : rt_eq(s->items[i], v);
        if (r < 0)
            return -2;
        if (r)
            return i;
    }
    return -1;
}

int rt_set_contains(PyObject *o, PyObject *v)
{
    Py_ssize_t i = rt_set_find((rt_set *)o, v);
    return i == -2 ? -1 : i >= 0;
}

int rt_set_add(PyObject *o, PyObject *v)
{
    rt_set *s = (rt_set *)o;
    Py_ssize_t i = rt_set_find(s, v);
    if (i == -2)
        return -1;
    if (i >= 0)
        return 0;
    if (s->s.used == s->cap) {
        Py_ssize_t ncap = s->cap ? s->cap * 2 : 8;
        s->items = rt_xrealloc(s->items, (size_t)ncap * sizeof(PyObject *));
        s->cap = ncap;
    }
    Py_INCREF(v);
    s->items[s->s.used++] = v;
    s->s.fill = s->s.used;
    return 0;
}

int rt_set_discard(PyObject *o, PyObject *v)
{
    rt_set *s = (rt_set *)o;
    Py_ssize_t i = rt_set_find(s, v);
    if (i == -2)
        return -1;
    if (i < 0)
        return 0;
    PyObject *old = s->items[i];
    memmove(s->items + i, s->items + i + 1, (size_t)(s->s.used - i - 1) * sizeof(PyObject *));
    s->s.used--;
    s->s.fill = s->s.used;
    Py_DECREF(old);
    return 1;
}

static void rt_set_dealloc(PyObject *o)
{
    rt_set *s = (rt_set *)o;
    for (Py_ssize_t i = 0; i < s->s.used; i++)
        Py_DECREF(s->items[i]);
    free(s->items);
    s->items = NULL;
    s->s.used = 0;
    rt_quarantine(o);
}

static Py_ssize_t rt_set_len(PyObject *o)
{
    return ((rt_set *)o)->s.used;
}

static PySequenceMethods rt_set_as_sequence = {
    .sq_length = rt_set_len,
    .sq_contains = rt_set_contains,
};

static PyObject *rt_set_repr(PyObject *o)
{
    return rt_seq_repr(o, "{", "}", ((rt_set *)o)->items, ((rt_set *)o)->s.used);
}

PyTypeObject PySet_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "set",
    .tp_basicsize = sizeof(rt_set),
    .tp_dealloc = rt_set_dealloc,
    .tp_repr = rt_set_repr,
    .tp_as_sequence = &rt_set_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_READY,
    .tp_iter = rt_seqiter_new,
    .tp_base = &PyBaseObject_Type,
};

PyTypeObject PyFrozenSet_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "frozenset",
    .tp_basicsize = sizeof(rt_set),
    .tp_dealloc = rt_set_dealloc,
    .tp_repr = rt_set_repr,
    .tp_as_sequence = &rt_set_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_READY,
    .tp_iter = rt_seqiter_new,
    .tp_base = &PyBaseObject_Type,
};

/* ---- iterator over the built-in containers ---------------------------------------------- */

typedef struct rt_seqiter {
    PyObject_HEAD
    PyObject *seq;           /* NULL once exhausted */
    Py_ssize_t i;
} rt_seqiter;

static void rt_seqiter_dealloc(PyObject *o)
{
    Py_CLEAR(((rt_seqiter *)o)->seq);
    rt_quarantine(o);
}

static PyObject *rt_seqiter_next(PyObject *o)
{
    rt_seqiter *it = (rt_seqiter *)o;
    PyObject *s = it->seq;
    if (!s)
        return NULL;
    if (!rt_use(s, RT_USE_ACCESS))
        return NULL;
    PyObject *v = NULL;
    Py_ssize_t i = it->i;
    if (PyTuple_Check(s)) {
        if (i < PyTuple_GET_SIZE(s))
            v = PyTuple_GET_ITEM(s, i);
    } else if (PyList_Check(s)) {
        if (i < PyList_GET_SIZE(s))
            v = PyList_GET_ITEM(s, i);
    } else if (PyDict_Check(s)) {
        if (i < ((rt_dict *)s)->d.ma_used)
            v = ((rt_dict *)s)->keys[i];
    } else if (PyAnySet_Check(s)) {
        if (i < ((rt_set *)s)->s.used)
            v = ((rt_set *)s)->items[i];
    } else if (PyUnicode_Check(s)) {
        if (i < PyUnicode_GET_LENGTH(s)) {
            it->i++;
            Py_UCS4 c = PyUnicode_READ_CHAR(s, i);
            return rt_str_from_ucs4(&c, 1);
        }
    }
    if (!v) {
        Py_CLEAR(it->seq);
        return NULL;
    }
    it->i++;
    Py_INCREF(v);
    return v;
}

static PyObject *rt_self_iter(PyObject *o)
{
    Py_INCREF(o);
    return o;
}

PyTypeObject rt_seqiter_type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "iterator",
    .tp_basicsize = sizeof(rt_seqiter),
    .tp_dealloc = rt_seqiter_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_READY,
    .tp_iter = rt_self_iter,
    .tp_iternext = rt_seqiter_next,
    .tp_base = &PyBaseObject_Type,
};

PyObject *rt_seqiter_new(PyObject *seq)
{
    rt_seqiter *it = (rt_seqiter *)rt_alloc(&rt_seqiter_type, 0, 0);
    Py_INCREF(seq);
    it->seq = seq;
    return (PyObject *)it;
}

/* ---- conversions ------------------------------------------------------------------------- */

PyObject *rt_seq_to_list(PyObject *o)
{
    PyObject *it = rt_getiter(o);
    if (!it)
        return NULL;
    PyObject *l = rt_list_new(0);
    PyObject *v;
    while ((v = rt_iternext(it))) {
        rt_list_append(l, v);
        Py_DECREF(v);
    }
    Py_DECREF(it);
    if (rt_state()->exc_type) {
        Py_DECREF(l);
        return NULL;
    }
    return l;
}

PyObject *rt_seq_to_tuple(PyObject *o)
{
    if (PyTuple_CheckExact(o)) {
        Py_INCREF(o);
        return o;
    }
    PyObject *l = rt_seq_to_list(o);
    if (!l)
        return NULL;
    PyObject *t = rt_tuple_new(PyList_GET_SIZE(l));
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(l); i++) {
        Py_INCREF(PyList_GET_ITEM(l, i));
        PyTuple_SET_ITEM(t, i, PyList_GET_ITEM(l, i));
    }
    Py_DECREF(l);
    return t;
}

int rt_contains(PyObject *o, PyObject *v)
{
    PySequenceMethods *sq = Py_TYPE(o)->tp_as_sequence;
    if (sq && sq->sq_contains)
        return sq->sq_contains(o, v);
    PyObject *it = rt_getiter(o);
    if (!it)
        return -1;
    PyObject *x;
    int found = 0;
    while (!found && (x = rt_iternext(it))) {
        found = rt_eq(x, v);
        Py_DECREF(x);
    }
    Py_DECREF(it);
    return found < 0 || rt_state()->exc_type ? -1 : found;
}
