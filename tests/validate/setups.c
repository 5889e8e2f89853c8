/* setups.c - findings that only a particular set-up can confirm, for
 * tests/validate/run.sh: each function's comment says which one.  Without
 * it every finding here is "not-reproduced". */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* a probe argument: the result of calling the object's close() is lost
 * (an int, a str, a list... has no close attribute to call) */
static PyObject *
close_and_forget(PyObject *self, PyObject *obj)
{
    PyObject *close = PyObject_GetAttrString(obj, "close");
    if (close == NULL)
        return NULL;
    PyObject *r = PyObject_CallNoArgs(close);
    Py_DECREF(close);
    if (r == NULL)
        return NULL;
    Py_RETURN_NONE;
}

/* an exception pending at the call (a helper of an error path): the
 * traceback PyErr_Fetch handed over is dropped */
void
drop_traceback(void)
{
    PyObject *type, *value, *tb;

    PyErr_Fetch(&type, &value, &tb);
    PyErr_Restore(type, value, NULL);
}

typedef struct {
    PyObject_HEAD
    PyObject *callback;     /* set by the user after construction */
} HolderObject;

/* self's field filled (no constructor sets it): the callback's result is lost */
static PyObject *
Holder_fire(HolderObject *self, PyObject *Py_UNUSED(ignored))
{
    if (self->callback == NULL)
        Py_RETURN_NONE;
    PyObject *r = PyObject_CallNoArgs(self->callback);
    if (r == NULL)
        return NULL;
    Py_RETURN_NONE;
}

/* self constructed with the arguments its tp_init parses ("U"): returns
 * the name it stored without a new reference */
static int
Named_init(HolderObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *name;
    if (!PyArg_ParseTuple(args, "U", &name))
        return -1;
    Py_INCREF(name);
    Py_XSETREF(self->callback, name);
    return 0;
}

static PyObject *
Named_name(HolderObject *self, PyObject *Py_UNUSED(ignored))
{
    if (self->callback == NULL)
        Py_RETURN_NONE;
    return self->callback;
}

static void
Holder_dealloc(HolderObject *self)
{
    Py_XDECREF(self->callback);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Holder_methods[] = {
    {"fire", (PyCFunction)Holder_fire, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Holder_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "setups.Holder",
    .tp_basicsize = sizeof(HolderObject),
    .tp_dealloc = (destructor)Holder_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = Holder_methods,
    .tp_new = PyType_GenericNew,
};

static PyMethodDef Named_methods[] = {
    {"name", (PyCFunction)Named_name, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Named_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "setups.Named",
    .tp_basicsize = sizeof(HolderObject),
    .tp_dealloc = (destructor)Holder_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = Named_methods,
    .tp_init = (initproc)Named_init,
    .tp_new = PyType_GenericNew,
};

/* an empty list, and NULL reaching an API (CPython raises SystemError
 * there, the runtime names the call): item 0 was never checked */
static PyObject *
first_as_int(PyObject *self, PyObject *list)
{
    if (!PyList_Check(list)) {
        PyErr_SetString(PyExc_TypeError, "need a list");
        return NULL;
    }
    long v = PyLong_AsLong(PyList_GetItem(list, 0));
    if (v == -1 && PyErr_Occurred())
        return NULL;
    return PyLong_FromLong(v);
}

static PyMethodDef setups_methods[] = {
    {"close_and_forget", close_and_forget, METH_O, NULL},
    {"first_as_int", first_as_int, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef setups_module = {PyModuleDef_HEAD_INIT, "setups", NULL, -1, setups_methods};

PyMODINIT_FUNC
PyInit_setups(void)
{
    if (PyType_Ready(&Holder_Type) < 0 || PyType_Ready(&Named_Type) < 0)
        return NULL;
    return PyModule_Create(&setups_module);
}
