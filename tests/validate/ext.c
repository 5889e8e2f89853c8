/* ext.c - a small extension with one known bug per function, for
 * tests/validate/run.sh: each finding's validation status is known by
 * construction (see the comment over each function). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>

/* confirmed: when PyList_Append fails, the list is lost */
static PyObject *
leak_on_append(PyObject *self, PyObject *arg)
{
    PyObject *l = PyList_New(0);
    if (l == NULL)
        return NULL;
    if (PyList_Append(l, arg) < 0)
        return NULL;
    return l;
}

/* confirmed: PyTuple_New's NULL reaches PyTuple_SET_ITEM */
static PyObject *
fill_unchecked(PyObject *self, PyObject *arg)
{
    PyObject *t = PyTuple_New(1);
    Py_INCREF(arg);
    PyTuple_SET_ITEM(t, 0, arg);
    return t;
}

/* confirmed: the caller releases an item the tuple still holds */
static PyObject *
first_item(PyObject *self, PyObject *args)
{
    PyObject *item = PyTuple_GetItem(args, 0);
    if (item == NULL)
        return NULL;
    return item;
}

/* confirmed: the argument is borrowed, not ours to release */
static PyObject *
drop_arg(PyObject *self, PyObject *arg)
{
    Py_DECREF(arg);
    Py_RETURN_NONE;
}

/* confirmed: a missing key is NULL without an exception */
static PyObject *
lookup_fresh(PyObject *self, PyObject *key)
{
    PyObject *d = PyDict_New();
    if (d == NULL)
        return NULL;
    PyObject *v = PyDict_GetItem(d, key);
    Py_DECREF(d);
    if (v == NULL)
        return NULL;
    Py_INCREF(v);
    return v;
}

/* unsupported: the runtime does not implement PyCodec_Encode */
static PyObject *
encode_leak(PyObject *self, PyObject *arg)
{
    PyObject *l = PyList_New(0);
    if (l == NULL)
        return NULL;
    PyObject *r = PyCodec_Encode(arg, "utf-8", NULL);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    return l;
}

/* confirmed although the run without faults never ends: the path's plan
 * (the first append fails) returns at once */
static PyObject *
append_forever(PyObject *self, PyObject *arg)
{
    PyObject *l = PyList_New(0);
    if (l == NULL)
        return NULL;
    for (;;)
        if (PyList_Append(l, arg) < 0)
            return NULL;
}

/* not-reproduced: the leak lies behind a loop that never ends at run time */
static PyObject *
spin_then_leak(PyObject *self, PyObject *arg)
{
    PyObject *l = PyList_New(0);
    if (l == NULL)
        return NULL;
    while (getenv("PRC_VALIDATE_TEST_NEVER_SET") == NULL)
        ;
    if (PyObject_IsTrue(arg) < 0)
        return NULL;
    return l;
}

static PyMethodDef ext_methods[] = {
    {"leak_on_append", leak_on_append, METH_O, NULL},
    {"fill_unchecked", fill_unchecked, METH_O, NULL},
    {"first_item", first_item, METH_VARARGS, NULL},
    {"drop_arg", drop_arg, METH_O, NULL},
    {"lookup_fresh", lookup_fresh, METH_O, NULL},
    {"encode_leak", encode_leak, METH_O, NULL},
    {"append_forever", append_forever, METH_O, NULL},
    {"spin_then_leak", spin_then_leak, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef ext_module = {PyModuleDef_HEAD_INIT, "ext", NULL, -1, ext_methods};

PyMODINIT_FUNC
PyInit_ext(void)
{
    return PyModule_Create(&ext_module);
}
