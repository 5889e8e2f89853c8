/* rt_types.c - type objects and singletons of the reference runtime: object,
 * type (static and heap types, PyType_Ready, PyType_FromSpec*, slot
 * inheritance), None, NotImplemented, Ellipsis, built-in functions and
 * methods (PyCFunction), generic allocation, attribute lookup.
 *
 * The C API functions defined here return what CPython documents for them
 * (NULL or -1 with an exception set on failure; new or borrowed references
 * as the C API manual and rules/ say) and are counted and made to fail by
 * RT_ENTER* (rt_fault.c) before doing any work.
 */
#include "rt_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- object ------------------------------------------------------------------ */

PyObject *rt_generic_alloc(PyTypeObject *tp, Py_ssize_t n)
{
    return rt_alloc(tp, n, 0);
}

static PyObject *rt_alloc_slot(PyTypeObject *tp, Py_ssize_t n)
{
    return rt_alloc(tp, n, 0);
}

/* tp_free of every type: quarantine a registered object. */
static void rt_free_slot(void *p)
{
    if (rt_find(p))
        rt_quarantine((PyObject *)p);
    else
        rt_mem_free(p);
}

static void rt_object_dealloc(PyObject *o)
{
    PyTypeObject *tp = Py_TYPE(o);
    if (tp->tp_free)
        tp->tp_free(o);
    else
        rt_quarantine(o);
    if (tp->tp_flags & Py_TPFLAGS_HEAPTYPE)
        Py_DECREF(tp);
}

static PyObject *rt_object_repr(PyObject *o)
{
    char buf[200];
    snprintf(buf, sizeof buf, "<%s object at %p>", Py_TYPE(o)->tp_name, (void *)o);
    return rt_str_from_cstr(buf);
}

static Py_hash_t rt_object_hash(PyObject *o)
{
    return (Py_hash_t)(((uintptr_t)o >> 4) & 0x3fffffffffffffffull);
}

static PyObject *rt_object_richcompare(PyObject *a, PyObject *b, int op)
{
    if (op == Py_EQ || op == Py_NE) {
        bool r = (a == b) == (op == Py_EQ);
        return rt_bool(r);
    }
    Py_INCREF(Py_NotImplemented);
    return Py_NotImplemented;
}

static PyObject *rt_object_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    return tp->tp_alloc ? tp->tp_alloc(tp, 0) : rt_alloc(tp, 0, 0);
}

static PyObject *rt_generic_getattr(PyObject *o, PyObject *name);
static int rt_generic_setattr(PyObject *o, PyObject *name, PyObject *v);

PyTypeObject PyBaseObject_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "object",
    .tp_basicsize = sizeof(PyObject),
    .tp_dealloc = rt_object_dealloc,
    .tp_repr = rt_object_repr,
    .tp_hash = rt_object_hash,
    .tp_getattro = rt_generic_getattr,
    .tp_setattro = rt_generic_setattr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_READY,
    .tp_richcompare = rt_object_richcompare,
    .tp_alloc = rt_alloc_slot,
    .tp_new = rt_object_new,
    .tp_free = rt_free_slot,
};

/* ---- singletons -------------------------------------------------------------- */

static PyObject *rt_none_repr(PyObject *o)
{
    return rt_str_from_cstr(o == Py_None ? "None" : o == Py_NotImplemented ? "NotImplemented"
                                                                          : "Ellipsis");
}

static int rt_none_bool(PyObject *o)
{
    return 0;
}

static PyNumberMethods rt_none_as_number = { .nb_bool = rt_none_bool };

static void rt_static_dealloc(PyObject *o)
{
}

PyTypeObject _PyNone_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "NoneType",
    .tp_basicsize = sizeof(PyObject),
    .tp_dealloc = rt_static_dealloc,
    .tp_repr = rt_none_repr,
    .tp_as_number = &rt_none_as_number,
    .tp_hash = rt_object_hash,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_READY,
    .tp_richcompare = rt_object_richcompare,
};

PyTypeObject _PyNotImplemented_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "NotImplementedType",
    .tp_basicsize = sizeof(PyObject),
    .tp_dealloc = rt_static_dealloc,
    .tp_repr = rt_none_repr,
    .tp_hash = rt_object_hash,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_READY,
    .tp_richcompare = rt_object_richcompare,
};

PyTypeObject PyEllipsis_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "ellipsis",
    .tp_basicsize = sizeof(PyObject),
    .tp_dealloc = rt_static_dealloc,
    .tp_repr = rt_none_repr,
    .tp_hash = rt_object_hash,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_READY,
    .tp_richcompare = rt_object_richcompare,
};

/* A large count: the singletons are shared with the interpreter's own users. */
#define RT_STATIC_REFS (1 << 20)
PyObject _Py_NoneStruct = { _PyObject_EXTRA_INIT RT_STATIC_REFS, &_PyNone_Type };
PyObject _Py_NotImplementedStruct = { _PyObject_EXTRA_INIT RT_STATIC_REFS,
                                      &_PyNotImplemented_Type };
PyObject _Py_EllipsisObject = { _PyObject_EXTRA_INIT RT_STATIC_REFS, &PyEllipsis_Type };

/* ---- type ------------------------------------------------------------------------ */

bool rt_is_subtype(PyTypeObject *a, PyTypeObject *b)
{
    for (PyTypeObject *t = a; t; t = t->tp_base) {
        if (t == b)
            return true;
        if (rt_is_dead(t)) {
            /* a released (heap) type in the chain: its fields are gone */
            rt_use((PyObject *)t, RT_USE_ACCESS);
            return false;
        }
    }
    if (a && a->tp_bases && PyTuple_Check(a->tp_bases))
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(a->tp_bases); i++) {
            PyTypeObject *t = (PyTypeObject *)PyTuple_GET_ITEM(a->tp_bases, i);
            if (t != a->tp_base && rt_is_subtype(t, b))
                return true;
        }
    return b == &PyBaseObject_Type;
}

#define RT_SUBCLASS_FLAGS \
    (Py_TPFLAGS_LONG_SUBCLASS | Py_TPFLAGS_LIST_SUBCLASS | Py_TPFLAGS_TUPLE_SUBCLASS | \
     Py_TPFLAGS_BYTES_SUBCLASS | Py_TPFLAGS_UNICODE_SUBCLASS | Py_TPFLAGS_DICT_SUBCLASS | \
     Py_TPFLAGS_BASE_EXC_SUBCLASS | Py_TPFLAGS_TYPE_SUBCLASS)

#define RT_INHERIT(f) do { if (!tp->f) tp->f = b->f; } while (0)

static void rt_inherit(PyTypeObject *tp, PyTypeObject *b)
{
    tp->tp_flags |= b->tp_flags & RT_SUBCLASS_FLAGS;
    RT_INHERIT(tp_dealloc);
    RT_INHERIT(tp_repr);
    RT_INHERIT(tp_str);
    if (!tp->tp_richcompare && !tp->tp_hash) {
        tp->tp_richcompare = b->tp_richcompare;
        tp->tp_hash = b->tp_hash;
    }
    RT_INHERIT(tp_getattro);
    RT_INHERIT(tp_setattro);
    RT_INHERIT(tp_iter);
    RT_INHERIT(tp_iternext);
    RT_INHERIT(tp_call);
    RT_INHERIT(tp_init);
    RT_INHERIT(tp_alloc);
    RT_INHERIT(tp_free);
    RT_INHERIT(tp_as_number);
    RT_INHERIT(tp_as_sequence);
    RT_INHERIT(tp_as_mapping);
    RT_INHERIT(tp_dictoffset);
    if (!tp->tp_new && b != &PyBaseObject_Type)
        tp->tp_new = b->tp_new;
    if (!tp->tp_basicsize)
        tp->tp_basicsize = b->tp_basicsize;
    if (tp->tp_flags & Py_TPFLAGS_HAVE_GC && tp->tp_free == rt_free_slot)
        tp->tp_free = rt_free_slot;
}

int rt_type_ready(PyTypeObject *tp)
{
    if (tp->tp_flags & Py_TPFLAGS_READY)
        return 0;
    if (!Py_TYPE(tp))
        Py_SET_TYPE(tp, &PyType_Type);
    if (!tp->tp_base && tp != &PyBaseObject_Type)
        tp->tp_base = &PyBaseObject_Type;
    if (tp->tp_base && rt_type_ready(tp->tp_base) < 0)
        return -1;
    if (tp->tp_base)
        rt_inherit(tp, tp->tp_base);
    if (!tp->tp_alloc)
        tp->tp_alloc = rt_alloc_slot;
    if (!tp->tp_free)
        tp->tp_free = rt_free_slot;
    tp->tp_flags |= Py_TPFLAGS_READY;
    if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE) && !rt_find(tp)) {
        /* an extension's static type: its count is checked like a
         * singleton's (over-release), from its count now */
        rt_register_static((PyObject *)tp, tp->tp_name);
        rt_baseline((PyObject *)tp);
    }
    return 0;
}

PyObject *rt_type_name_obj(PyTypeObject *tp, bool qual)
{
    if (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) {
        PyHeapTypeObject *ht = (PyHeapTypeObject *)tp;
        PyObject *n = qual ? ht->ht_qualname : ht->ht_name;
        if (n) {
            Py_INCREF(n);
            return n;
        }
    }
    const char *s = tp->tp_name ? tp->tp_name : "?";
    const char *dot = strrchr(s, '.');
    return rt_str_from_cstr(dot ? dot + 1 : s);
}

PyObject *rt_heaptype_new(const char *name, PyTypeObject *base, Py_ssize_t basicsize,
                          unsigned long flags)
{
    PyHeapTypeObject *ht = (PyHeapTypeObject *)rt_alloc(&PyType_Type, 0, 0);
    PyTypeObject *tp = &ht->ht_type;
    size_t len = strlen(name);
    char *copy = rt_mem_alloc(len + 1, false);
    memcpy(copy, name, len + 1);
    tp->tp_name = copy;
    const char *dot = strrchr(copy, '.');
    ht->ht_name = rt_str_from_cstr(dot ? dot + 1 : copy);
    Py_INCREF(ht->ht_name);
    ht->ht_qualname = ht->ht_name;
    tp->tp_basicsize = basicsize;
    tp->tp_flags = flags | Py_TPFLAGS_HEAPTYPE;
    tp->tp_as_number = &ht->as_number;
    tp->tp_as_sequence = &ht->as_sequence;
    tp->tp_as_mapping = &ht->as_mapping;
    tp->tp_as_async = &ht->as_async;
    tp->tp_as_buffer = &ht->as_buffer;
    if (!base)
        base = &PyBaseObject_Type;
    Py_INCREF(base);
    tp->tp_base = base;
    if (rt_type_ready(tp) < 0) {
        Py_DECREF(tp);
        return NULL;
    }
    if (!tp->tp_new && base == &PyBaseObject_Type)
        tp->tp_new = rt_object_new;
    return (PyObject *)tp;
}

static void rt_type_dealloc(PyObject *o)
{
    PyTypeObject *tp = (PyTypeObject *)o;
    if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE))
        return;
    PyHeapTypeObject *ht = (PyHeapTypeObject *)o;
    PyTypeObject *base = tp->tp_base;
    Py_CLEAR(tp->tp_dict);
    Py_CLEAR(tp->tp_bases);
    Py_CLEAR(ht->ht_name);
    Py_CLEAR(ht->ht_qualname);
    Py_CLEAR(ht->ht_module);
    rt_quarantine(o);
    Py_XDECREF(base);
}

static PyObject *rt_type_repr(PyObject *o)
{
    char buf[200];
    snprintf(buf, sizeof buf, "<class '%s'>", ((PyTypeObject *)o)->tp_name);
    return rt_str_from_cstr(buf);
}

static PyObject *rt_type_call(PyObject *o, PyObject *args, PyObject *kw)
{
    PyTypeObject *tp = (PyTypeObject *)o;
    if (!tp->tp_new) {
        rt_err_format(PyExc_TypeError, "cannot create '%s' instances", tp->tp_name);
        return NULL;
    }
    PyObject *obj = tp->tp_new(tp, args, kw);
    if (obj && tp->tp_init && rt_is_subtype(Py_TYPE(obj), tp)) {
        if (tp->tp_init(obj, args, kw) < 0) {
            Py_DECREF(obj);
            return NULL;
        }
    }
    return obj;
}

/* ---- attribute lookup ----------------------------------------------------------- */

static PyObject *rt_member_get(PyObject *o, PyMemberDef *m)
{
    char *addr = (char *)o + m->offset;
    switch (m->type) {
    case T_OBJECT:
    case T_OBJECT_EX: {
        PyObject *v = *(PyObject **)addr;
        if (!v) {
            if (m->type == T_OBJECT_EX) {
                rt_err_format(PyExc_AttributeError, "'%s' object has no attribute '%s'",
                              Py_TYPE(o)->tp_name, m->name);
                return NULL;
            }
            v = Py_None;
        }
        Py_INCREF(v);
        return v;
    }
    case T_INT: return rt_long_from_ll(*(int *)addr);
    case T_UINT: return rt_long_from_ull(*(unsigned *)addr);
    case T_LONG: return rt_long_from_ll(*(long *)addr);
    case T_ULONG: return rt_long_from_ull(*(unsigned long *)addr);
    case T_SHORT: return rt_long_from_ll(*(short *)addr);
    case T_PYSSIZET: return rt_long_from_ll(*(Py_ssize_t *)addr);
    case T_LONGLONG: return rt_long_from_ll(*(long long *)addr);
    case T_DOUBLE: return rt_float_new(*(double *)addr);
    case T_FLOAT: return rt_float_new(*(float *)addr);
    case T_BOOL: return rt_bool(*(char *)addr);
    case T_CHAR: return rt_str_from_utf8(addr, 1);
    case T_STRING: {
        const char *s = *(const char **)addr;
        if (!s) {
            Py_INCREF(Py_None);
            return Py_None;
        }
        return rt_str_from_cstr(s);
    }
    default:
        rt_err_setstr(PyExc_SystemError, "member type not supported by the reference runtime");
        return NULL;
    }
}

static int rt_member_set(PyObject *o, PyMemberDef *m, PyObject *v)
{
    char *addr = (char *)o + m->offset;
    if (m->flags & READONLY) {
        rt_err_setstr(PyExc_AttributeError, "readonly attribute");
        return -1;
    }
    if (m->type == T_OBJECT || m->type == T_OBJECT_EX) {
        PyObject *old = *(PyObject **)addr;
        Py_XINCREF(v);
        *(PyObject **)addr = v;
        Py_XDECREF(old);
        return 0;
    }
    if (!v) {
        rt_err_setstr(PyExc_TypeError, "can't delete numeric/char attribute");
        return -1;
    }
    int err = 0;
    long long x = rt_as_ll(v, &err);
    if (err)
        return -1;
    switch (m->type) {
    case T_INT: case T_UINT: *(int *)addr = (int)x; return 0;
    case T_LONG: case T_ULONG: *(long *)addr = (long)x; return 0;
    case T_PYSSIZET: *(Py_ssize_t *)addr = (Py_ssize_t)x; return 0;
    case T_LONGLONG: *(long long *)addr = x; return 0;
    case T_SHORT: *(short *)addr = (short)x; return 0;
    case T_BOOL: *(char *)addr = (char)(x != 0); return 0;
    default:
        rt_err_setstr(PyExc_SystemError, "member type not supported by the reference runtime");
        return -1;
    }
}

/* The instance dictionary slot, or NULL. */
static PyObject **rt_dictptr(PyObject *o)
{
    Py_ssize_t off = Py_TYPE(o)->tp_dictoffset;
    if (off <= 0)
        return NULL;
    return (PyObject **)((char *)o + off);
}

/* Looks name up in the type chain of tp: sets *ml, *mb, *gs or returns a
 * borrowed tp_dict value. */
static PyObject *rt_type_lookup(PyTypeObject *tp, const char *name, PyMethodDef **ml,
                                PyMemberDef **mb, PyGetSetDef **gs)
{
    *ml = NULL;
    *mb = NULL;
    *gs = NULL;
    for (PyTypeObject *t = tp; t; t = t->tp_base) {
        if (t->tp_dict) {
            PyObject *v = rt_dict_get_str(t->tp_dict, name);
            if (v)
                return v;
        }
        for (PyMethodDef *m = t->tp_methods; m && m->ml_name; m++)
            if (!strcmp(m->ml_name, name)) {
                *ml = m;
                return NULL;
            }
        for (PyMemberDef *m = t->tp_members; m && m->name; m++)
            if (!strcmp(m->name, name)) {
                *mb = m;
                return NULL;
            }
        for (PyGetSetDef *g = t->tp_getset; g && g->name; g++)
            if (!strcmp(g->name, name)) {
                *gs = g;
                return NULL;
            }
    }
    return NULL;
}

/* Special methods reached as attributes (obj.__len__): bound built-in
 * methods over the type's slots. */
static PyObject *rt_dunder_len(PyObject *self, PyObject *u)
{
    Py_ssize_t n = rt_size(self);
    return n < 0 ? NULL : rt_long_from_ll(n);
}

static PyObject *rt_dunder_iter(PyObject *self, PyObject *u) { return rt_getiter(self); }
static PyObject *rt_dunder_repr(PyObject *self, PyObject *u) { return rt_repr(self); }
static PyObject *rt_dunder_str(PyObject *self, PyObject *u) { return rt_str(self); }
static PyObject *rt_dunder_getitem(PyObject *self, PyObject *k) { return rt_getitem(self, k); }

static PyObject *rt_dunder_next(PyObject *self, PyObject *u)
{
    PyObject *r = rt_iternext(self);
    if (!r && !rt_state()->exc_type)
        rt_err_set(PyExc_StopIteration, NULL);
    return r;
}

static PyObject *rt_dunder_hash(PyObject *self, PyObject *u)
{
    Py_hash_t h = rt_hash(self);
    return h == -1 ? NULL : rt_long_from_ll(h);
}

static PyObject *rt_dunder_call(PyObject *self, PyObject *args, PyObject *kw)
{
    return rt_call(self, args, kw);
}

static PyMethodDef rt_dunders[] = {
    { "__len__", rt_dunder_len, METH_NOARGS, NULL },
    { "__iter__", rt_dunder_iter, METH_NOARGS, NULL },
    { "__next__", rt_dunder_next, METH_NOARGS, NULL },
    { "__repr__", rt_dunder_repr, METH_NOARGS, NULL },
    { "__str__", rt_dunder_str, METH_NOARGS, NULL },
    { "__hash__", rt_dunder_hash, METH_NOARGS, NULL },
    { "__getitem__", rt_dunder_getitem, METH_O, NULL },
    { "__call__", (PyCFunction)(void (*)(void))rt_dunder_call, METH_VARARGS | METH_KEYWORDS, NULL },
    { NULL, NULL, 0, NULL },
};

/* The slot behind rt_dunders[i] is present in tp. */
static bool rt_dunder_present(PyTypeObject *tp, int i)
{
    PySequenceMethods *sq = tp->tp_as_sequence;
    PyMappingMethods *mp = tp->tp_as_mapping;
    switch (i) {
    case 0: return (sq && sq->sq_length) || (mp && mp->mp_length);
    case 1: return tp->tp_iter != NULL;
    case 2: return tp->tp_iternext != NULL;
    case 3: case 4: return true;
    case 5: return tp->tp_hash != NULL && tp->tp_hash != PyObject_HashNotImplemented;
    case 6: return (sq && sq->sq_item) || (mp && mp->mp_subscript);
    case 7: return tp->tp_call != NULL;
    default: return false;
    }
}

static PyObject *rt_dunder_lookup(PyObject *o, const char *s)
{
    for (int i = 0; rt_dunders[i].ml_name; i++)
        if (!strcmp(rt_dunders[i].ml_name, s) && rt_dunder_present(Py_TYPE(o), i))
            return rt_cfunction_new(&rt_dunders[i], o, NULL);
    return NULL;
}

static PyObject *rt_generic_getattr(PyObject *o, PyObject *name)
{
    const char *s = rt_str_utf8(name, NULL);
    if (!s)
        return NULL;
    PyMethodDef *ml;
    PyMemberDef *mb;
    PyGetSetDef *gs;
    PyObject *v = rt_type_lookup(Py_TYPE(o), s, &ml, &mb, &gs);
    if (mb)
        return rt_member_get(o, mb);
    if (gs && gs->get)
        return gs->get(o, gs->closure);
    PyObject **dp = rt_dictptr(o);
    if (dp && *dp) {
        PyObject *d = rt_dict_get_str(*dp, s);
        if (d) {
            Py_INCREF(d);
            return d;
        }
    }
    if (ml)
        return rt_cfunction_new(ml, (ml->ml_flags & METH_STATIC) ? NULL :
                                    (ml->ml_flags & METH_CLASS) ? (PyObject *)Py_TYPE(o) : o,
                                NULL);
    if (v) {
        Py_INCREF(v);
        return v;
    }
    if (!strcmp(s, "__class__")) {
        Py_INCREF(Py_TYPE(o));
        return (PyObject *)Py_TYPE(o);
    }
    if (s[0] == '_' && s[1] == '_') {
        PyObject *d = rt_dunder_lookup(o, s);
        if (d)
            return d;
        if (Py_TYPE(o) == &PyCFunction_Type && (!strcmp(s, "__name__") || !strcmp(s, "__qualname__")))
            return rt_str_from_cstr(((PyCFunctionObject *)o)->m_ml->ml_name);
    }
    rt_err_format(PyExc_AttributeError, "'%s' object has no attribute '%s'",
                  Py_TYPE(o)->tp_name, s);
    return NULL;
}

static int rt_generic_setattr(PyObject *o, PyObject *name, PyObject *v)
{
    const char *s = rt_str_utf8(name, NULL);
    if (!s)
        return -1;
    PyMethodDef *ml;
    PyMemberDef *mb;
    PyGetSetDef *gs;
    rt_type_lookup(Py_TYPE(o), s, &ml, &mb, &gs);
    if (mb)
        return rt_member_set(o, mb, v);
    if (gs) {
        if (!gs->set) {
            rt_err_format(PyExc_AttributeError, "attribute '%s' is read-only", s);
            return -1;
        }
        return gs->set(o, v, gs->closure);
    }
    PyObject **dp = rt_dictptr(o);
    if (!dp) {
        rt_err_format(PyExc_AttributeError, "'%s' object has no attribute '%s'",
                      Py_TYPE(o)->tp_name, s);
        return -1;
    }
    if (!*dp)
        *dp = rt_dict_new();
    if (!v)
        return rt_dict_del(*dp, name);
    return rt_dict_set(*dp, name, v);
}

static PyObject *rt_type_getattr(PyObject *o, PyObject *name)
{
    PyTypeObject *tp = (PyTypeObject *)o;
    const char *s = rt_str_utf8(name, NULL);
    if (!s)
        return NULL;
    if (!strcmp(s, "__name__"))
        return rt_type_name_obj(tp, false);
    if (!strcmp(s, "__qualname__"))
        return rt_type_name_obj(tp, true);
    if (!strcmp(s, "__module__")) {
        const char *dot = strrchr(tp->tp_name, '.');
        if (dot)
            return rt_str_from_utf8(tp->tp_name, dot - tp->tp_name);
        return rt_str_from_cstr("builtins");
    }
    PyMethodDef *ml;
    PyMemberDef *mb;
    PyGetSetDef *gs;
    PyObject *v = rt_type_lookup(tp, s, &ml, &mb, &gs);
    if (v) {
        Py_INCREF(v);
        return v;
    }
    if (ml)
        return rt_cfunction_new(ml, (ml->ml_flags & METH_STATIC) ? NULL : o, NULL);
    rt_err_format(PyExc_AttributeError, "type object '%s' has no attribute '%s'",
                  tp->tp_name, s);
    return NULL;
}

static int rt_type_setattr(PyObject *o, PyObject *name, PyObject *v)
{
    PyTypeObject *tp = (PyTypeObject *)o;
    if (!tp->tp_dict)
        tp->tp_dict = rt_dict_new();
    if (!v)
        return rt_dict_del(tp->tp_dict, name);
    return rt_dict_set(tp->tp_dict, name, v);
}

PyTypeObject PyType_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "type",
    .tp_basicsize = sizeof(PyHeapTypeObject),
    .tp_dealloc = rt_type_dealloc,
    .tp_repr = rt_type_repr,
    .tp_hash = rt_object_hash,
    .tp_call = rt_type_call,
    .tp_getattro = rt_type_getattr,
    .tp_setattro = rt_type_setattr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_TYPE_SUBCLASS |
                Py_TPFLAGS_READY,
    .tp_richcompare = rt_object_richcompare,
    .tp_base = &PyBaseObject_Type,
    .tp_alloc = rt_alloc_slot,
    .tp_free = rt_free_slot,
};

/* ---- built-in functions and methods --------------------------------------------- */

PyObject *rt_cfunction_new(PyMethodDef *ml, PyObject *self, PyObject *module)
{
    PyCFunctionObject *f = (PyCFunctionObject *)rt_alloc(&PyCFunction_Type, 0, 0);
    f->m_ml = ml;
    Py_XINCREF(self);
    f->m_self = self;
    Py_XINCREF(module);
    f->m_module = module;
    return (PyObject *)f;
}

static void rt_cfunction_dealloc(PyObject *o)
{
    PyCFunctionObject *f = (PyCFunctionObject *)o;
    Py_CLEAR(f->m_self);
    Py_CLEAR(f->m_module);
    rt_quarantine(o);
}

static PyObject *rt_cfunction_call(PyObject *o, PyObject *args, PyObject *kw)
{
    PyCFunctionObject *f = (PyCFunctionObject *)o;
    PyMethodDef *ml = f->m_ml;
    int flags = ml->ml_flags & ~(METH_CLASS | METH_STATIC | METH_COEXIST);
    PyObject *self = f->m_self;
    Py_ssize_t n = args ? PyTuple_GET_SIZE(args) : 0;
    bool has_kw = kw && ((rt_dict *)kw)->d.ma_used > 0;
    if (!(flags & METH_KEYWORDS) && has_kw) {
        rt_err_format(PyExc_TypeError, "%s() takes no keyword arguments", ml->ml_name);
        return NULL;
    }
    switch (flags) {
    case METH_NOARGS:
        if (n) {
            rt_err_format(PyExc_TypeError, "%s() takes no arguments (%zd given)",
                          ml->ml_name, n);
            return NULL;
        }
        return ml->ml_meth(self, NULL);
    case METH_O:
        if (n != 1) {
            rt_err_format(PyExc_TypeError, "%s() takes exactly one argument (%zd given)",
                          ml->ml_name, n);
            return NULL;
        }
        return ml->ml_meth(self, PyTuple_GET_ITEM(args, 0));
    case METH_VARARGS:
        return ml->ml_meth(self, args);
    case METH_VARARGS | METH_KEYWORDS:
        return ((PyCFunctionWithKeywords)(void (*)(void))ml->ml_meth)(self, args,
                                                                      has_kw ? kw : NULL);
    case METH_FASTCALL:
        return ((_PyCFunctionFast)(void (*)(void))ml->ml_meth)(
            self, ((PyTupleObject *)args)->ob_item, n);
    case METH_FASTCALL | METH_KEYWORDS:
    case METH_METHOD | METH_FASTCALL | METH_KEYWORDS: {
        Py_ssize_t nk = has_kw ? ((rt_dict *)kw)->d.ma_used : 0;
        PyObject **vec = rt_mem_alloc((size_t)(n + nk + 1) * sizeof(PyObject *), true);
        for (Py_ssize_t i = 0; i < n; i++)
            vec[i] = PyTuple_GET_ITEM(args, i);
        PyObject *names = NULL;
        if (nk) {
            names = rt_tuple_new(nk);
            for (Py_ssize_t i = 0; i < nk; i++) {
                Py_INCREF(((rt_dict *)kw)->keys[i]);
                PyTuple_SET_ITEM(names, i, ((rt_dict *)kw)->keys[i]);
                vec[n + i] = ((rt_dict *)kw)->vals[i];
            }
        }
        PyObject *r;
        if (flags & METH_METHOD)
            r = ((PyCMethod)(void (*)(void))ml->ml_meth)(self, NULL, vec, (size_t)n, names);
        else
            r = ((_PyCFunctionFastWithKeywords)(void (*)(void))ml->ml_meth)(self, vec, n, names);
        Py_XDECREF(names);
        rt_mem_free(vec);
        return r;
    }
    default:
        rt_err_format(PyExc_SystemError, "%s(): calling convention %#x not supported",
                      ml->ml_name, (unsigned)flags);
        return NULL;
    }
}

static PyObject *rt_cfunction_repr(PyObject *o)
{
    char buf[200];
    snprintf(buf, sizeof buf, "<built-in function %s>", ((PyCFunctionObject *)o)->m_ml->ml_name);
    return rt_str_from_cstr(buf);
}

PyTypeObject PyCFunction_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "builtin_function_or_method",
    .tp_basicsize = sizeof(PyCFunctionObject),
    .tp_dealloc = rt_cfunction_dealloc,
    .tp_repr = rt_cfunction_repr,
    .tp_hash = rt_object_hash,
    .tp_call = rt_cfunction_call,
    .tp_getattro = rt_generic_getattr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_READY,
    .tp_richcompare = rt_object_richcompare,
    .tp_base = &PyBaseObject_Type,
};

/* ---- the API ------------------------------------------------------------------------ */

int PyType_Ready(PyTypeObject *tp)
{
    RT_ENTER_INT("PyType_Ready");
    return rt_type_ready(tp);
}

int PyType_IsSubtype(PyTypeObject *a, PyTypeObject *b)
{
    RT_ENTER_VOID("PyType_IsSubtype");
    return rt_is_subtype(a, b);
}

PyObject *PyType_GenericAlloc(PyTypeObject *tp, Py_ssize_t n)
{
    RT_ENTER_PTR("PyType_GenericAlloc");
    return rt_alloc(tp, n, 0);
}

PyObject *PyType_GenericNew(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    RT_ENTER_PTR("PyType_GenericNew");
    return tp->tp_alloc ? tp->tp_alloc(tp, 0) : rt_alloc(tp, 0, 0);
}

unsigned long PyType_GetFlags(PyTypeObject *tp)
{
    RT_ENTER_VOID("PyType_GetFlags");
    return tp->tp_flags;
}

void *PyType_GetSlot(PyTypeObject *tp, int slot);

PyObject *PyType_GetModule(PyTypeObject *tp)
{
    RT_ENTER_PTR("PyType_GetModule");
    if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE) || !((PyHeapTypeObject *)tp)->ht_module) {
        rt_err_format(PyExc_TypeError, "PyType_GetModule: type '%s' has no module",
                      tp->tp_name);
        return NULL;
    }
    return ((PyHeapTypeObject *)tp)->ht_module;
}

void *PyType_GetModuleState(PyTypeObject *tp)
{
    RT_ENTER_PTR("PyType_GetModuleState");
    if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE) || !((PyHeapTypeObject *)tp)->ht_module)
        return NULL;
    return ((rt_module *)((PyHeapTypeObject *)tp)->ht_module)->md_state;
}

/* Offsets of the slot ids of typeslots.h in PyHeapTypeObject (generated by
 * hand from the header's names: nb_ -> as_number, sq_ -> as_sequence, ...). */
#define RT_SLOT(id, field) [id] = offsetof(PyHeapTypeObject, field) + 1,
static const size_t rt_slot_offsets[] = {
    RT_SLOT(Py_bf_getbuffer, as_buffer.bf_getbuffer)
    RT_SLOT(Py_bf_releasebuffer, as_buffer.bf_releasebuffer)
    RT_SLOT(Py_mp_ass_subscript, as_mapping.mp_ass_subscript)
    RT_SLOT(Py_mp_length, as_mapping.mp_length)
    RT_SLOT(Py_mp_subscript, as_mapping.mp_subscript)
    RT_SLOT(Py_nb_absolute, as_number.nb_absolute)
    RT_SLOT(Py_nb_add, as_number.nb_add)
    RT_SLOT(Py_nb_and, as_number.nb_and)
    RT_SLOT(Py_nb_bool, as_number.nb_bool)
    RT_SLOT(Py_nb_divmod, as_number.nb_divmod)
    RT_SLOT(Py_nb_float, as_number.nb_float)
    RT_SLOT(Py_nb_floor_divide, as_number.nb_floor_divide)
    RT_SLOT(Py_nb_index, as_number.nb_index)
    RT_SLOT(Py_nb_inplace_add, as_number.nb_inplace_add)
    RT_SLOT(Py_nb_inplace_and, as_number.nb_inplace_and)
    RT_SLOT(Py_nb_inplace_floor_divide, as_number.nb_inplace_floor_divide)
    RT_SLOT(Py_nb_inplace_lshift, as_number.nb_inplace_lshift)
    RT_SLOT(Py_nb_inplace_multiply, as_number.nb_inplace_multiply)
    RT_SLOT(Py_nb_inplace_or, as_number.nb_inplace_or)
    RT_SLOT(Py_nb_inplace_power, as_number.nb_inplace_power)
    RT_SLOT(Py_nb_inplace_remainder, as_number.nb_inplace_remainder)
    RT_SLOT(Py_nb_inplace_rshift, as_number.nb_inplace_rshift)
    RT_SLOT(Py_nb_inplace_subtract, as_number.nb_inplace_subtract)
    RT_SLOT(Py_nb_inplace_true_divide, as_number.nb_inplace_true_divide)
    RT_SLOT(Py_nb_inplace_xor, as_number.nb_inplace_xor)
    RT_SLOT(Py_nb_int, as_number.nb_int)
    RT_SLOT(Py_nb_invert, as_number.nb_invert)
    RT_SLOT(Py_nb_lshift, as_number.nb_lshift)
    RT_SLOT(Py_nb_multiply, as_number.nb_multiply)
    RT_SLOT(Py_nb_negative, as_number.nb_negative)
    RT_SLOT(Py_nb_or, as_number.nb_or)
    RT_SLOT(Py_nb_positive, as_number.nb_positive)
    RT_SLOT(Py_nb_power, as_number.nb_power)
    RT_SLOT(Py_nb_remainder, as_number.nb_remainder)
    RT_SLOT(Py_nb_rshift, as_number.nb_rshift)
    RT_SLOT(Py_nb_subtract, as_number.nb_subtract)
    RT_SLOT(Py_nb_true_divide, as_number.nb_true_divide)
    RT_SLOT(Py_nb_xor, as_number.nb_xor)
    RT_SLOT(Py_sq_ass_item, as_sequence.sq_ass_item)
    RT_SLOT(Py_sq_concat, as_sequence.sq_concat)
    RT_SLOT(Py_sq_contains, as_sequence.sq_contains)
    RT_SLOT(Py_sq_inplace_concat, as_sequence.sq_inplace_concat)
    RT_SLOT(Py_sq_inplace_repeat, as_sequence.sq_inplace_repeat)
    RT_SLOT(Py_sq_item, as_sequence.sq_item)
    RT_SLOT(Py_sq_length, as_sequence.sq_length)
    RT_SLOT(Py_sq_repeat, as_sequence.sq_repeat)
    RT_SLOT(Py_tp_alloc, ht_type.tp_alloc)
    RT_SLOT(Py_tp_base, ht_type.tp_base)
    RT_SLOT(Py_tp_bases, ht_type.tp_bases)
    RT_SLOT(Py_tp_call, ht_type.tp_call)
    RT_SLOT(Py_tp_clear, ht_type.tp_clear)
    RT_SLOT(Py_tp_dealloc, ht_type.tp_dealloc)
    RT_SLOT(Py_tp_del, ht_type.tp_del)
    RT_SLOT(Py_tp_descr_get, ht_type.tp_descr_get)
    RT_SLOT(Py_tp_descr_set, ht_type.tp_descr_set)
    RT_SLOT(Py_tp_doc, ht_type.tp_doc)
    RT_SLOT(Py_tp_getattr, ht_type.tp_getattr)
    RT_SLOT(Py_tp_getattro, ht_type.tp_getattro)
    RT_SLOT(Py_tp_hash, ht_type.tp_hash)
    RT_SLOT(Py_tp_init, ht_type.tp_init)
    RT_SLOT(Py_tp_is_gc, ht_type.tp_is_gc)
    RT_SLOT(Py_tp_iter, ht_type.tp_iter)
    RT_SLOT(Py_tp_iternext, ht_type.tp_iternext)
    RT_SLOT(Py_tp_methods, ht_type.tp_methods)
    RT_SLOT(Py_tp_new, ht_type.tp_new)
    RT_SLOT(Py_tp_repr, ht_type.tp_repr)
    RT_SLOT(Py_tp_richcompare, ht_type.tp_richcompare)
    RT_SLOT(Py_tp_setattr, ht_type.tp_setattr)
    RT_SLOT(Py_tp_setattro, ht_type.tp_setattro)
    RT_SLOT(Py_tp_str, ht_type.tp_str)
    RT_SLOT(Py_tp_traverse, ht_type.tp_traverse)
    RT_SLOT(Py_tp_members, ht_type.tp_members)
    RT_SLOT(Py_tp_getset, ht_type.tp_getset)
    RT_SLOT(Py_tp_free, ht_type.tp_free)
    RT_SLOT(Py_nb_matrix_multiply, as_number.nb_matrix_multiply)
    RT_SLOT(Py_nb_inplace_matrix_multiply, as_number.nb_inplace_matrix_multiply)
    RT_SLOT(Py_am_await, as_async.am_await)
    RT_SLOT(Py_am_aiter, as_async.am_aiter)
    RT_SLOT(Py_am_anext, as_async.am_anext)
    RT_SLOT(Py_tp_finalize, ht_type.tp_finalize)
};

static PyObject *rt_from_spec(PyObject *module, PyType_Spec *spec, PyObject *bases)
{
    PyTypeObject *base = NULL;
    for (PyType_Slot *s = spec->slots; s && s->slot; s++)
        if (s->slot == Py_tp_base)
            base = s->pfunc;
    if (!base && bases) {
        if (PyType_Check(bases))
            base = (PyTypeObject *)bases;
        else if (PyTuple_Check(bases) && PyTuple_GET_SIZE(bases) > 0)
            base = (PyTypeObject *)PyTuple_GET_ITEM(bases, 0);
    }
    if (!base)
        base = &PyBaseObject_Type;
    PyHeapTypeObject *ht = (PyHeapTypeObject *)rt_alloc(&PyType_Type, 0, 0);
    PyTypeObject *tp = &ht->ht_type;
    tp->tp_name = spec->name;
    const char *dot = strrchr(spec->name, '.');
    ht->ht_name = rt_str_from_cstr(dot ? dot + 1 : spec->name);
    Py_INCREF(ht->ht_name);
    ht->ht_qualname = ht->ht_name;
    tp->tp_basicsize = spec->basicsize;
    tp->tp_itemsize = spec->itemsize;
    tp->tp_flags = spec->flags | Py_TPFLAGS_HEAPTYPE;
    tp->tp_as_number = &ht->as_number;
    tp->tp_as_sequence = &ht->as_sequence;
    tp->tp_as_mapping = &ht->as_mapping;
    tp->tp_as_async = &ht->as_async;
    tp->tp_as_buffer = &ht->as_buffer;
    for (PyType_Slot *s = spec->slots; s && s->slot; s++) {
        if (s->slot < 0 || (size_t)s->slot >= sizeof rt_slot_offsets / sizeof rt_slot_offsets[0] ||
            !rt_slot_offsets[s->slot]) {
            Py_DECREF(tp);
            rt_err_format(PyExc_RuntimeError, "invalid slot offset %d", s->slot);
            return NULL;
        }
        if (s->slot == Py_tp_base || s->slot == Py_tp_bases)
            continue;
        memcpy((char *)ht + rt_slot_offsets[s->slot] - 1, &s->pfunc, sizeof(void *));
    }
    for (PyMemberDef *m = tp->tp_members; m && m->name; m++)
        if (!strcmp(m->name, "__dictoffset__"))
            tp->tp_dictoffset = m->offset;
    Py_INCREF(base);
    tp->tp_base = base;
    if (bases && PyTuple_Check(bases)) {
        Py_INCREF(bases);
        tp->tp_bases = bases;
    }
    Py_XINCREF(module);
    ht->ht_module = module;
    rt_type_ready(tp);
    return (PyObject *)tp;
}

PyObject *PyType_FromSpec(PyType_Spec *spec)
{
    RT_ENTER_PTR("PyType_FromSpec");
    return rt_from_spec(NULL, spec, NULL);
}

PyObject *PyType_FromSpecWithBases(PyType_Spec *spec, PyObject *bases)
{
    RT_ENTER_PTR("PyType_FromSpecWithBases");
    return rt_from_spec(NULL, spec, bases);
}

PyObject *PyType_FromModuleAndSpec(PyObject *module, PyType_Spec *spec, PyObject *bases)
{
    RT_ENTER_PTR("PyType_FromModuleAndSpec");
    return rt_from_spec(module, spec, bases);
}

void *PyType_GetSlot(PyTypeObject *tp, int slot)
{
    RT_ENTER_VOID("PyType_GetSlot");
    if (slot <= 0 || (size_t)slot >= sizeof rt_slot_offsets / sizeof rt_slot_offsets[0] ||
        !rt_slot_offsets[slot])
        return NULL;
    size_t off = rt_slot_offsets[slot] - 1;
    if (off >= offsetof(PyHeapTypeObject, as_async) && !(tp->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
        /* static types: follow the tp_as_* pointers */
        void *sub = NULL;
        size_t base_off = 0;
#define RT_SUB(field, ptr)                                                        \
        if (off >= offsetof(PyHeapTypeObject, field) &&                           \
            off < offsetof(PyHeapTypeObject, field) + sizeof(((PyHeapTypeObject *)0)->field)) { \
            sub = tp->ptr;                                                        \
            base_off = offsetof(PyHeapTypeObject, field);                         \
        }
        RT_SUB(as_async, tp_as_async)
        RT_SUB(as_number, tp_as_number)
        RT_SUB(as_mapping, tp_as_mapping)
        RT_SUB(as_sequence, tp_as_sequence)
        RT_SUB(as_buffer, tp_as_buffer)
#undef RT_SUB
        if (!sub)
            return NULL;
        void *v;
        memcpy(&v, (char *)sub + (off - base_off), sizeof v);
        return v;
    }
    void *v;
    memcpy(&v, (char *)tp + off, sizeof v);
    return v;
}

PyObject *(PyCFunction_NewEx)(PyMethodDef *ml, PyObject *self, PyObject *module)
{
    RT_ENTER_PTR("PyCFunction_NewEx");
    return rt_cfunction_new(ml, self, module);
}

PyObject *PyCMethod_New(PyMethodDef *ml, PyObject *self, PyObject *module, PyTypeObject *cls)
{
    RT_ENTER_PTR("PyCMethod_New");
    return rt_cfunction_new(ml, self, module);
}

PyObject *PyObject_GenericGetAttr(PyObject *o, PyObject *name)
{
    RT_ENTER_PTR("PyObject_GenericGetAttr");
    return rt_generic_getattr(o, name);
}

int PyObject_GenericSetAttr(PyObject *o, PyObject *name, PyObject *v)
{
    RT_ENTER_INT("PyObject_GenericSetAttr");
    return rt_generic_setattr(o, name, v);
}

/* ---- names (3.11) ------------------------------------------------------------ */

static PyObject *rt_type_name_api(PyTypeObject *tp, bool qual, const char *api)
{
    if (!tp || rt_is_dead(tp)) {
        rt_null_arg();
        rt_err_badinternal(api);
        return NULL;
    }
    return rt_type_name_obj(tp, qual);
}

PyObject *PyType_GetName(PyTypeObject *tp)
{
    RT_ENTER_PTR("PyType_GetName");
    return rt_type_name_api(tp, false, "PyType_GetName");
}

PyObject *PyType_GetQualName(PyTypeObject *tp)
{
    RT_ENTER_PTR("PyType_GetQualName");
    return rt_type_name_api(tp, true, "PyType_GetQualName");
}
