/* rt_structseq.c - struct sequences (os.stat_result, time.struct_time): the
 * tuple subtypes PyStructSequence_NewType / InitType2 make and the objects
 * PyStructSequence_New allocates.  As in CPython 3.11, a struct sequence is
 * a PyTupleObject whose visible size is n_sequence_fields and whose item
 * array holds n_fields slots (the named-only fields after the visible ones);
 * the counts live in the type's dict ("n_sequence_fields", "n_fields",
 * "n_unnamed_fields") and every slot is released on deallocation.
 */
#include "rt_internal.h"

#include <string.h>

/* The name a description gives a field that has none (data of the ABI). */
const char *const PyStructSequence_UnnamedField = "unnamed field";

static Py_ssize_t rt_ss_count(PyTypeObject *tp, const char *key)
{
    PyObject *v = tp->tp_dict ? rt_dict_get_str(tp->tp_dict, key) : NULL;
    int ovf = 0;
    return v && Py_IS_TYPE(v, &PyLong_Type) ? (Py_ssize_t)rt_long_value(v, &ovf) : 0;
}

static void rt_ss_dealloc(PyObject *o)
{
    PyTypeObject *tp = Py_TYPE(o);
    Py_ssize_t n = rt_ss_count(tp, "n_fields");
    for (Py_ssize_t i = 0; i < n; i++)
        Py_XDECREF(((PyTupleObject *)o)->ob_item[i]);
    rt_quarantine(o);
    if (tp->tp_flags & Py_TPFLAGS_HEAPTYPE)
        Py_DECREF(tp);
}

/* Fills tp as a struct sequence type for desc (tp zeroed or static). */
static int rt_ss_fill(PyTypeObject *tp, PyStructSequence_Desc *desc)
{
    Py_ssize_t n = 0, unnamed = 0;
    while (desc->fields && desc->fields[n].name) {
        if (desc->fields[n].name == PyStructSequence_UnnamedField)
            unnamed++;
        n++;
    }
    if (!tp->tp_name)
        tp->tp_name = desc->name;
    tp->tp_basicsize = (Py_ssize_t)(sizeof(PyTupleObject) - sizeof(PyObject *));
    tp->tp_itemsize = (Py_ssize_t)sizeof(PyObject *);
    tp->tp_dealloc = rt_ss_dealloc;
    if (!tp->tp_base)
        tp->tp_base = &PyTuple_Type;
    tp->tp_flags |= Py_TPFLAGS_DEFAULT | Py_TPFLAGS_TUPLE_SUBCLASS;
    if (rt_type_ready(tp) < 0)
        return -1;
    tp->tp_dealloc = rt_ss_dealloc;          /* readying may have inherited tuple's */
    if (!tp->tp_dict)
        tp->tp_dict = rt_dict_new();
    const struct { const char *key; Py_ssize_t v; } counts[] = {
        { "n_sequence_fields", desc->n_in_sequence }, { "n_fields", n },
        { "n_unnamed_fields", unnamed },
    };
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
        PyObject *v = rt_long_from_ll(counts[i].v);
        rt_dict_set_str(tp->tp_dict, counts[i].key, v);
        Py_DECREF(v);
    }
    return 0;
}

static PyTypeObject *rt_ss_new_type(PyStructSequence_Desc *desc, unsigned long flags)
{
    PyTypeObject *tp = (PyTypeObject *)rt_heaptype_new(desc->name, &PyTuple_Type,
                                                       (Py_ssize_t)sizeof(PyTupleObject),
                                                       flags | Py_TPFLAGS_DEFAULT);
    if (!tp)
        return NULL;
    if (rt_ss_fill(tp, desc) < 0) {
        Py_DECREF(tp);
        return NULL;
    }
    return tp;
}

PyTypeObject *PyStructSequence_NewType(PyStructSequence_Desc *desc)
{
    RT_ENTER_PTR("PyStructSequence_NewType");
    return rt_ss_new_type(desc, 0);
}

/* The interpreter-internal variant posixmodule and others use. */
PyTypeObject *_PyStructSequence_NewType(PyStructSequence_Desc *desc, unsigned long tp_flags)
{
    RT_ENTER_PTR("_PyStructSequence_NewType");
    return rt_ss_new_type(desc, tp_flags);
}

int PyStructSequence_InitType2(PyTypeObject *type, PyStructSequence_Desc *desc)
{
    RT_ENTER_INT("PyStructSequence_InitType2");
    return rt_ss_fill(type, desc);
}

void PyStructSequence_InitType(PyTypeObject *type, PyStructSequence_Desc *desc)
{
    RT_ENTER_VOID("PyStructSequence_InitType");
    (void)rt_ss_fill(type, desc);
}

PyObject *PyStructSequence_New(PyTypeObject *type)
{
    RT_ENTER_PTR("PyStructSequence_New");
    Py_ssize_t n = rt_ss_count(type, "n_fields");
    PyObject *o = rt_alloc(type, n, 0);
    Py_SET_SIZE(o, rt_ss_count(type, "n_sequence_fields"));
    return o;
}

void PyStructSequence_SetItem(PyObject *o, Py_ssize_t i, PyObject *v)
{
    RT_ENTER_VOID("PyStructSequence_SetItem");
    ((PyTupleObject *)o)->ob_item[i] = v;
}

PyObject *PyStructSequence_GetItem(PyObject *o, Py_ssize_t i)
{
    RT_ENTER_VOID("PyStructSequence_GetItem");
    return ((PyTupleObject *)o)->ob_item[i];
}
