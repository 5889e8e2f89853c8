/* rt_probe.c - stand-in arguments for code that needs more than a plain
 * value: the "probe" objects (prt_arg kinds "probe", "probe-int",
 * "probe-dict"), the populated dict ("dict-full"), a 200-character str
 * ("str-long"), an empty list ("list0"), the file's string
 * literals as keys (prt_set_literals) and an exception already set when the
 * function is called (prt_set_exception).
 *
 * A probe answers every protocol the way an arbitrary Python object could:
 * calling it, doing arithmetic on it or subscripting it returns a fresh probe
 * nothing else holds; iterating it yields three fresh probes; its length is
 * 3; every attribute exists and is a fresh object whose kind depends on the
 * probe (another probe, an int, or a dict holding the file's literals as
 * keys).  Fresh objects are allocated under the API in progress, so a leaked
 * call result says "allocated-by PyObject_CallOneArg#1" like a real one.
 */
#include "rt_internal.h"
#include "prt.h"

#include <string.h>

typedef enum rt_probe_attrs { RT_ATTR_PROBE, RT_ATTR_INT, RT_ATTR_DICT } rt_probe_attrs;

typedef struct rt_probe {
    PyObject_HEAD
    int attrs;               /* rt_probe_attrs: what its attributes are */
} rt_probe;

typedef struct rt_probe_iter {
    PyObject_HEAD
    int left;                /* probes still to yield */
    int attrs;
} rt_probe_iter;

static PyObject *rt_probe_new(int attrs);

PyObject *rt_dict_sample(void)
{
    PyObject *d = rt_dict_new();
    PyObject *v = rt_long_from_ll(1000);
    rt_dict_set_str(d, "key", v);
    PyObject *s = rt_str_from_cstr("spam");
    rt_dict_set(d, v, s);
    Py_DECREF(s);
    Py_DECREF(v);
    return d;
}

/* rt_dict_sample() plus every registered literal mapped to a fresh float:
 * each value held by the dict alone. */
static PyObject *rt_dict_full(void)
{
    PyObject *d = rt_dict_sample();
    rt_ctx *c = rt_state();
    for (int i = 0; i < c->nliterals; i++) {
        PyObject *f = rt_float_new(2.5 + i);
        rt_dict_set_str(d, c->literals[i], f);
        Py_DECREF(f);
    }
    return d;
}

static PyObject *rt_probe_attr_value(int attrs)
{
    switch (attrs) {
    case RT_ATTR_INT: return rt_long_from_ll(100000);
    case RT_ATTR_DICT: return rt_dict_full();
    default: return rt_probe_new(RT_ATTR_PROBE);
    }
}

/* Every item of a call's arguments must be alive (a released argument
 * tuple or item is a use after release). */
static bool rt_probe_args_ok(PyObject *args, PyObject *kw)
{
    if (args && !rt_use(args, RT_USE_ACCESS))
        return false;
    if (kw && !rt_use(kw, RT_USE_ACCESS))
        return false;
    if (args && PyTuple_Check(args))
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(args); i++)
            if (!rt_use(PyTuple_GET_ITEM(args, i), RT_USE_ACCESS))
                return false;
    return true;
}

static PyObject *rt_probe_call(PyObject *self, PyObject *args, PyObject *kw)
{
    if (!rt_probe_args_ok(args, kw)) {
        rt_err_setstr(PyExc_SystemError, "use of a released object");
        return NULL;
    }
    return rt_probe_new(((rt_probe *)self)->attrs);
}

static PyObject *rt_probe_getattr(PyObject *self, PyObject *name)
{
    (void)name;
    return rt_probe_attr_value(((rt_probe *)self)->attrs);
}

static int rt_probe_setattr(PyObject *self, PyObject *name, PyObject *v)
{
    (void)self, (void)name, (void)v;   /* accepted and forgotten, like a __slots__-less
                                          object whose __setattr__ ignores it */
    return 0;
}

static PyObject *rt_probe_binop(PyObject *a, PyObject *b)
{
    if (!rt_use(a, RT_USE_ACCESS) || !rt_use(b, RT_USE_ACCESS)) {
        rt_err_setstr(PyExc_SystemError, "use of a released object");
        return NULL;
    }
    return rt_probe_new(RT_ATTR_PROBE);
}

static PyObject *rt_probe_subscript(PyObject *self, PyObject *key)
{
    return rt_probe_binop(self, key);
}

static int rt_probe_ass_subscript(PyObject *self, PyObject *key, PyObject *v)
{
    (void)self, (void)key, (void)v;
    return 0;
}

static Py_ssize_t rt_probe_len(PyObject *self)
{
    (void)self;
    return 3;
}

static PyObject *rt_probe_index(PyObject *self)
{
    (void)self;
    return rt_long_from_ll(3);
}

static PyObject *rt_probe_float(PyObject *self)
{
    (void)self;
    return rt_float_new(3.0);
}

static PyObject *rt_probe_repr(PyObject *self)
{
    (void)self;
    return rt_str_from_cstr("<probe>");
}

static Py_hash_t rt_probe_hash(PyObject *self)
{
    return (Py_hash_t)((uintptr_t)self >> 4);
}

static void rt_probe_dealloc(PyObject *self)
{
    rt_quarantine(self);
}

static PyObject *rt_probe_iter_new(PyObject *self);

static PyNumberMethods rt_probe_number = {
    .nb_add = rt_probe_binop,
    .nb_subtract = rt_probe_binop,
    .nb_multiply = rt_probe_binop,
    .nb_remainder = rt_probe_binop,
    .nb_floor_divide = rt_probe_binop,
    .nb_true_divide = rt_probe_binop,
    .nb_and = rt_probe_binop,
    .nb_or = rt_probe_binop,
    .nb_xor = rt_probe_binop,
    .nb_int = rt_probe_index,
    .nb_index = rt_probe_index,
    .nb_float = rt_probe_float,
};

static PyMappingMethods rt_probe_mapping = {
    .mp_length = rt_probe_len,
    .mp_subscript = rt_probe_subscript,
    .mp_ass_subscript = rt_probe_ass_subscript,
};

static PyTypeObject rt_probe_type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "probe",
    .tp_basicsize = sizeof(rt_probe),
    .tp_dealloc = rt_probe_dealloc,
    .tp_repr = rt_probe_repr,
    .tp_str = rt_probe_repr,
    .tp_hash = rt_probe_hash,
    .tp_call = rt_probe_call,
    .tp_getattro = rt_probe_getattr,
    .tp_setattro = rt_probe_setattr,
    .tp_as_number = &rt_probe_number,
    .tp_as_mapping = &rt_probe_mapping,
    .tp_iter = rt_probe_iter_new,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_READY,
    .tp_base = &PyBaseObject_Type,
};

static PyObject *rt_probe_iter_next(PyObject *o)
{
    rt_probe_iter *it = (rt_probe_iter *)o;
    if (it->left <= 0)
        return NULL;
    it->left--;
    return rt_probe_new(it->attrs);
}

static PyObject *rt_probe_iter_self(PyObject *o)
{
    Py_INCREF(o);
    return o;
}

static PyTypeObject rt_probe_iter_type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "probe_iterator",
    .tp_basicsize = sizeof(rt_probe_iter),
    .tp_dealloc = rt_probe_dealloc,
    .tp_iter = rt_probe_iter_self,
    .tp_iternext = rt_probe_iter_next,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_READY,
    .tp_base = &PyBaseObject_Type,
};

static PyObject *rt_probe_iter_new(PyObject *self)
{
    rt_probe_iter *it = (rt_probe_iter *)rt_alloc(&rt_probe_iter_type, 0, 0);
    it->left = 3;
    it->attrs = ((rt_probe *)self)->attrs;
    return (PyObject *)it;
}

static PyObject *rt_probe_new(int attrs)
{
    rt_probe *p = (rt_probe *)rt_alloc(&rt_probe_type, 0, 0);
    p->attrs = attrs;
    return (PyObject *)p;
}

PyObject *rt_probe_arg(const char *kind)
{
    if (!strcmp(kind, "probe"))
        return rt_probe_new(RT_ATTR_PROBE);
    if (!strcmp(kind, "probe-int"))
        return rt_probe_new(RT_ATTR_INT);
    if (!strcmp(kind, "probe-dict"))
        return rt_probe_new(RT_ATTR_DICT);
    if (!strcmp(kind, "dict-full"))
        return rt_dict_full();
    if (!strcmp(kind, "list0"))
        return rt_list_new(0);
    if (!strcmp(kind, "str-long")) {
        char buf[201];
        for (int i = 0; i < 200; i++)
            buf[i] = (char)('a' + i % 26);
        buf[200] = 0;
        return rt_str_from_cstr(buf);
    }
    return NULL;
}

void prt_set_literals(const char *const *literals, int n)
{
    rt_ctx *c = rt_state();
    c->literals = literals;
    c->nliterals = literals && n > 0 ? n : 0;
}

static PyObject *rt_pending_type(const void *unused)
{
    (void)unused;
    PyTypeObject *base = (PyTypeObject *)PyExc_Exception;
    return rt_heaptype_new("prt.PendingError", base, base->tp_basicsize,
                           Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_BASE_EXC_SUBCLASS);
}

static PyObject *rt_pending_value(const void *type)
{
    PyTypeObject *tp = (PyTypeObject *)type;
    return tp && tp->tp_new ? tp->tp_new(tp, NULL, NULL) : NULL;
}

static PyObject *rt_pending_tb(const void *unused)
{
    (void)unused;
    return rt_probe_new(RT_ATTR_PROBE);      /* stands for the traceback */
}

void prt_set_exception(void)
{
    rt_ctx *c = rt_state();
    PyObject *type = rt_as_arg(rt_pending_type, NULL);
    PyObject *value = rt_as_arg(rt_pending_value, type);
    PyObject *tb = rt_as_arg(rt_pending_tb, NULL);
    if (!type || !value)
        rt_die("cannot make the pending exception");
    rt_err_clear();
    c->exc_type = type;      /* the state owns all three references */
    c->exc_value = value;
    c->exc_tb = tb;
}
