/* ext_cases.c - small "extension" functions with known reference-count
 * behaviour, compiled unmodified against the real Python headers and linked
 * with the reference runtime by test_runtime.c.  Each bug is on purpose. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "ext_cases.h"

/* Bug: the list is never released. */
PyObject *ext_leak(PyObject *self, PyObject *unused)
{
    PyObject *l = PyList_New(0);
    if (!l)
        return NULL;
    Py_RETURN_NONE;
}

/* Bug: released twice. */
PyObject *ext_double_decref(PyObject *self, PyObject *unused)
{
    PyObject *x = PyLong_FromLong(100000);
    if (!x)
        return NULL;
    Py_DECREF(x);
    Py_DECREF(x);
    Py_RETURN_NONE;
}

/* Bug: used after its release. */
PyObject *ext_use_dead(PyObject *self, PyObject *unused)
{
    PyObject *s = PyUnicode_FromString("gone");
    if (!s)
        return NULL;
    Py_DECREF(s);
    return PyObject_Repr(s);
}

/* Bug: an item borrowed from a list used after the list died. */
PyObject *ext_borrowed_from_dead(PyObject *self, PyObject *unused)
{
    PyObject *l = Py_BuildValue("[s]", "item");
    if (!l)
        return NULL;
    PyObject *item = PyList_GetItem(l, 0);
    Py_DECREF(l);
    Py_INCREF(item);
    return item;
}

/* Correct: several fallible calls, every error path cleans up. */
PyObject *ext_correct(PyObject *self, PyObject *arg)
{
    PyObject *list = NULL, *dict = NULL, *num = NULL, *name = NULL, *result = NULL;

    list = PyList_New(0);
    if (!list)
        goto done;
    num = PyLong_FromLong(123456);
    if (!num)
        goto done;
    if (PyList_Append(list, num) < 0)
        goto done;
    if (PyList_Append(list, arg) < 0)
        goto done;
    dict = PyDict_New();
    if (!dict)
        goto done;
    name = PyUnicode_FromFormat("n%zd", PyList_GET_SIZE(list));
    if (!name)
        goto done;
    if (PyDict_SetItem(dict, name, list) < 0)
        goto done;
    result = Py_BuildValue("(OO)", dict, num);
done:
    Py_XDECREF(list);
    Py_XDECREF(dict);
    Py_XDECREF(num);
    Py_XDECREF(name);
    return result;
}

/* Bug: NULL returned with no exception set. */
PyObject *ext_null_noexc(PyObject *self, PyObject *arg)
{
    PyObject *v = PyDict_GetItemString(arg, "missing");
    if (!v)
        return NULL;
    Py_INCREF(v);
    return v;
}

/* Bug: returns its borrowed argument. */
PyObject *ext_borrowed_return(PyObject *self, PyObject *arg)
{
    return arg;
}

/* Bug: returns Py_None without a new reference (3.11). */
PyObject *ext_none_borrowed(PyObject *self, PyObject *unused)
{
    return Py_None;
}

/* Bug: releases a borrowed argument. */
PyObject *ext_decref_arg(PyObject *self, PyObject *arg)
{
    Py_DECREF(arg);
    Py_RETURN_NONE;
}

/* Bug: over-releases an item borrowed from a container argument. */
PyObject *ext_decref_borrowed_item(PyObject *self, PyObject *list)
{
    PyObject *item = PyList_GetItem(list, 0);
    if (!item)
        return NULL;
    Py_DECREF(item);
    Py_RETURN_NONE;
}

/* Bug: the result of PyList_New is used unchecked (crashes under a fault). */
PyObject *ext_null_deref(PyObject *self, PyObject *unused)
{
    PyObject *l = PyList_New(1);
    Py_INCREF(Py_None);
    PyList_SET_ITEM(l, 0, Py_None);
    return l;
}

/* Correct: a METH_VARARGS function parsing its arguments. */
PyObject *ext_parse(PyObject *self, PyObject *args)
{
    long n;
    const char *s;
    PyObject *obj = Py_None;
    if (!PyArg_ParseTuple(args, "ls|O:parse", &n, &s, &obj))
        return NULL;
    return Py_BuildValue("(lsO)", n + 1, s, obj);
}

/* Correct: an int slot-like function, -1 with an exception on failure. */
int ext_int_ok(PyObject *arg)
{
    PyObject *r = PyObject_Str(arg);
    if (!r)
        return -1;
    Py_ssize_t n = PyUnicode_GetLength(r);
    Py_DECREF(r);
    return n < 0 ? -1 : 0;
}

/* Bug: the first item is borrowed from a list released before its use. */
PyObject *ext_first_repr(PyObject *self, PyObject *iterable)
{
    PyObject *items = PySequence_List(iterable);
    if (!items)
        return NULL;
    if (PyList_GET_SIZE(items) == 0) {
        Py_DECREF(items);
        PyErr_SetString(PyExc_ValueError, "empty");
        return NULL;
    }
    PyObject *first = PyList_GET_ITEM(items, 0);
    Py_DECREF(items);
    return PyObject_Repr(first);
}

/* Bug: PyModule_AddObjectRef does not steal: the dict leaks. */
int ext_add_defaults(PyObject *m)
{
    PyObject *d = Py_BuildValue("{s:i}", "width", 80);
    if (!d)
        return -1;
    if (PyModule_AddObjectRef(m, "DEFAULTS", d) < 0) {
        Py_DECREF(d);
        return -1;
    }
    return 0;
}

static PyObject *ext_last_seen;

/* Bug: a global keeps the string, but the reference it got is released. */
PyObject *ext_remember(PyObject *self, PyObject *unused)
{
    PyObject *s = PyUnicode_FromString("remembered");
    if (!s)
        return NULL;
    ext_last_seen = s;
    Py_DECREF(s);
    Py_RETURN_NONE;
}

/* Correct: a global owns its reference (released when replaced). */
PyObject *ext_remember_ok(PyObject *self, PyObject *unused)
{
    PyObject *s = PyUnicode_FromString("remembered");
    if (!s)
        return NULL;
    Py_XSETREF(ext_last_seen, s);
    Py_RETURN_NONE;
}

/* Bug: the type of the result is read after the result died (the error
 * message reads Py_TYPE(res)->tp_name of a dead object). */
PyObject *ext_dead_type_name(PyObject *self, PyObject *unused)
{
    PyObject *res = PyUnicode_FromString("not an int");
    if (!res)
        return NULL;
    Py_DECREF(res);
    PyErr_Format(PyExc_TypeError, "expected int, got %.200s", Py_TYPE(res)->tp_name);
    return NULL;
}

/* Bug: a heap type released to death, then its name measured. */
PyObject *ext_dead_heap_type(PyObject *self, PyObject *unused)
{
    PyObject *type = PyErr_NewException("ext_cases.Gone", NULL, NULL);
    if (!type)
        return NULL;
    Py_DECREF(type);
    size_t n = strlen(((PyTypeObject *)type)->tp_name);
    return PyLong_FromSize_t(n);
}

/* Bug: an item read from a tuple after the tuple died, then increfed. */
PyObject *ext_dead_tuple_item(PyObject *self, PyObject *unused)
{
    PyObject *t = PyTuple_New(1);
    if (!t)
        return NULL;
    PyObject *v = PyLong_FromLong(100000);
    if (!v) {
        Py_DECREF(t);
        return NULL;
    }
    PyTuple_SET_ITEM(t, 0, v);
    Py_DECREF(t);
    PyObject *item = PyTuple_GET_ITEM(t, 0);
    Py_INCREF(item);
    return item;
}

/* Bug: an item read from a dead tuple is handed to an API, which reports
 * the tuple without faulting. */
PyObject *ext_dead_tuple_item_repr(PyObject *self, PyObject *unused)
{
    PyObject *t = Py_BuildValue("(i)", 100000);
    if (!t)
        return NULL;
    Py_DECREF(t);
    return PyObject_Repr(PyTuple_GET_ITEM(t, 0));
}
