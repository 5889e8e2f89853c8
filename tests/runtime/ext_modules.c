/* ext_modules.c - "extension" functions using module state, capsules and
 * imports, linked with the reference runtime by test_runtime.c.  Each
 * returns NULL without an exception (reported as null-without-exception)
 * when the runtime breaks a CPython guarantee it checks; the bugs marked
 * "Bug:" are on purpose. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "ext_modules.h"

static struct PyModuleDef ext_state_def = {
    PyModuleDef_HEAD_INIT, "ext_state", NULL, sizeof(int), NULL, NULL, NULL, NULL, NULL,
};

/* PyState_AddModule then PyState_FindModule: the same module, borrowed and
 * kept alive by the table once the creator's reference is gone. */
PyObject *ext_state_roundtrip(PyObject *self, PyObject *unused)
{
    PyObject *m = PyModule_Create(&ext_state_def);
    if (!m)
        return NULL;
    if (ext_state_def.m_base.m_index <= 0) {
        Py_DECREF(m);
        return NULL;                /* no index given by PyModule_Create */
    }
    if (PyState_AddModule(m, &ext_state_def) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    Py_DECREF(m);
    PyObject *found = PyState_FindModule(&ext_state_def);
    if (found != m || PyModule_GetDef(found) != &ext_state_def || !PyModule_GetState(found))
        return NULL;
    Py_INCREF(found);
    return found;
}

/* After PyState_RemoveModule, PyState_FindModule finds nothing (and sets
 * no exception); the table's reference is released. */
PyObject *ext_state_remove(PyObject *self, PyObject *unused)
{
    PyObject *m = PyModule_Create(&ext_state_def);
    if (!m)
        return NULL;
    int r = PyState_AddModule(m, &ext_state_def);
    Py_DECREF(m);
    if (r < 0)
        return NULL;
    if (PyState_RemoveModule(&ext_state_def) < 0)
        return NULL;
    if (PyState_FindModule(&ext_state_def) != NULL || PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static int ext_destroyed;

static void ext_capsule_destructor(PyObject *cap)
{
    int *flag = PyCapsule_GetPointer(cap, "ext_modules.flag");
    if (flag)
        *flag = 1;
}

/* The destructor runs when the capsule dies and can still read it. */
PyObject *ext_capsule_dies(PyObject *self, PyObject *unused)
{
    ext_destroyed = 0;
    PyObject *cap = PyCapsule_New(&ext_destroyed, "ext_modules.flag", ext_capsule_destructor);
    if (!cap)
        return NULL;
    if (PyCapsule_GetPointer(cap, "ext_modules.flag") != &ext_destroyed ||
        PyCapsule_GetDestructor(cap) != ext_capsule_destructor || ext_destroyed) {
        Py_DECREF(cap);
        return NULL;
    }
    Py_DECREF(cap);
    if (!ext_destroyed)
        return NULL;
    Py_RETURN_NONE;
}

static int ext_payload;

/* A wrong name: NULL and ValueError, and IsValid says no. */
PyObject *ext_capsule_wrong_name(PyObject *self, PyObject *unused)
{
    PyObject *cap = PyCapsule_New(&ext_payload, "ext_modules.payload", NULL);
    if (!cap)
        return NULL;
    int valid = PyCapsule_IsValid(cap, "ext_modules.other");
    void *p = PyCapsule_GetPointer(cap, "ext_modules.other");
    Py_DECREF(cap);
    if (p || valid) {
        PyErr_Clear();
        return NULL;                /* accepted: NULL without an exception */
    }
    if (!PyErr_ExceptionMatches(PyExc_ValueError)) {
        PyErr_Clear();
        return NULL;
    }
    return NULL;
}

/* Bug: the capsule leaks when PyTuple_New fails. */
PyObject *ext_capsule_leak(PyObject *self, PyObject *unused)
{
    PyObject *cap = PyCapsule_New(&ext_payload, "ext_modules.payload", NULL);
    if (!cap)
        return NULL;
    PyObject *t = PyTuple_New(1);
    if (!t)
        return NULL;
    PyTuple_SET_ITEM(t, 0, cap);
    return t;
}

/* PyCapsule_Import of a stand-in module's attribute: not a capsule, so
 * NULL with AttributeError, and nothing leaks. */
PyObject *ext_capsule_import(PyObject *self, PyObject *unused)
{
    void *api = PyCapsule_Import("ext_pkg.sub._C_API", 0);
    if (api || !PyErr_Occurred())
        return NULL;
    if (!PyErr_ExceptionMatches(PyExc_AttributeError))
        return NULL;
    PyErr_Clear();
    Py_RETURN_NONE;
}

/* A second import returns the same module (sys.modules), a new reference
 * each time. */
PyObject *ext_import_twice(PyObject *self, PyObject *unused)
{
    PyObject *a = PyImport_ImportModule("ext_pkg.mod");
    if (!a)
        return NULL;
    PyObject *b = PyImport_ImportModule("ext_pkg.mod");
    if (!b) {
        Py_DECREF(a);
        return NULL;
    }
    const char *name = PyModule_GetName(a);
    int same = a == b && PyModule_Check(a) && name && !strcmp(name, "ext_pkg.mod");
    Py_DECREF(a);
    Py_DECREF(b);
    if (!name)
        return NULL;                /* its exception is set */
    if (!same)
        return NULL;
    Py_RETURN_NONE;
}

/* An attribute of an imported module exists, is the same object on each
 * access (kept in the module's dict), is callable; the parent package
 * holds the submodule. */
PyObject *ext_import_attr(PyObject *self, PyObject *unused)
{
    PyObject *res = NULL, *m = NULL, *pkg = NULL, *sub = NULL, *f = NULL, *g = NULL;
    m = PyImport_ImportModule("ext_pkg.tools");
    if (!m)
        goto done;
    f = PyObject_GetAttrString(m, "helper");
    if (!f)
        goto done;
    g = PyObject_GetAttrString(m, "helper");
    if (!g)
        goto done;
    pkg = PyImport_ImportModule("ext_pkg");
    if (!pkg)
        goto done;
    sub = PyObject_GetAttrString(pkg, "tools");
    if (!sub)
        goto done;
    if (f != g || sub != m || !PyCallable_Check(f))
        goto done;                  /* NULL without an exception */
    res = PyObject_CallNoArgs(f);
done:
    Py_XDECREF(m);
    Py_XDECREF(pkg);
    Py_XDECREF(sub);
    Py_XDECREF(f);
    Py_XDECREF(g);
    return res;
}

/* Bug: the imported module is never released. */
PyObject *ext_import_leak(PyObject *self, PyObject *unused)
{
    PyObject *m = PyImport_ImportModule("ext_leaked");
    if (!m)
        return NULL;
    Py_RETURN_NONE;
}

/* __import__("ext_pkg.deep.x") without a fromlist returns the top package,
 * with one the module itself; PyImport_GetModule finds the package, which
 * holds "deep"; PyModule_GetFilenameObject fails with SystemError. */
PyObject *ext_import_level(PyObject *self, PyObject *unused)
{
    PyObject *top = PyImport_ImportModuleLevel("ext_pkg.deep.x", NULL, NULL, NULL, 0);
    if (!top)
        return NULL;
    PyObject *from = Py_BuildValue("(s)", "y");
    if (!from) {
        Py_DECREF(top);
        return NULL;
    }
    PyObject *leaf = PyImport_ImportModuleLevel("ext_pkg.deep.x", NULL, NULL, from, 0);
    Py_DECREF(from);
    if (!leaf) {
        Py_DECREF(top);
        return NULL;
    }
    PyObject *name = PyUnicode_FromString("ext_pkg");
    PyObject *known = name ? PyImport_GetModule(name) : NULL;
    Py_XDECREF(name);
    const char *tn = PyModule_GetName(top), *ln = PyModule_GetName(leaf);
    int ok = known == top && tn && ln && !strcmp(tn, "ext_pkg") && !strcmp(ln, "ext_pkg.deep.x");
    /* the package holds its submodule under the last part of its name */
    PyObject *deep = PyObject_GetAttrString(top, "deep");
    const char *dn = deep && PyModule_Check(deep) ? PyModule_GetName(deep) : NULL;
    ok = ok && dn && !strcmp(dn, "ext_pkg.deep");
    Py_XDECREF(deep);
    /* a stand-in has no __file__: SystemError, as for a built-in module */
    if (ok && !PyErr_Occurred()) {
        PyObject *file = PyModule_GetFilenameObject(top);
        ok = !file && PyErr_ExceptionMatches(PyExc_SystemError);
        Py_XDECREF(file);
        PyErr_Clear();
    }
    Py_XDECREF(known);
    Py_DECREF(top);
    Py_DECREF(leaf);
    if (PyErr_Occurred())
        return NULL;
    if (!ok)
        return NULL;
    Py_RETURN_NONE;
}

/* Struct sequences (os.stat_result): a type made from a description, an
 * instance with a visible and a named-only field, both released: clean. */
static PyStructSequence_Field ext_ss_fields[] = {
    {"st_mode", NULL}, {"st_extra", NULL}, {NULL, NULL},
};
static PyStructSequence_Desc ext_ss_desc = {"ext_modules.result", NULL, ext_ss_fields, 1};

PyObject *ext_structseq(PyObject *self, PyObject *unused)
{
    PyTypeObject *tp = PyStructSequence_NewType(&ext_ss_desc);
    if (!tp)
        return NULL;
    PyObject *r = PyStructSequence_New(tp);
    Py_DECREF(tp);
    if (!r)
        return NULL;
    PyObject *a = PyLong_FromLong(100001), *b = PyLong_FromLong(100002);
    if (!a || !b) {
        Py_XDECREF(a);
        Py_XDECREF(b);
        Py_DECREF(r);
        return NULL;
    }
    PyStructSequence_SET_ITEM(r, 0, a);
    PyStructSequence_SET_ITEM(r, 1, b);     /* named only: beyond the visible size */
    if (PyTuple_GET_SIZE(r) != 1) {
        Py_DECREF(r);
        return NULL;            /* no exception: the test sees a problem */
    }
    return r;
}

/* Bug: the named-only field's value is taken twice without a reference. */
PyObject *ext_structseq_leak(PyObject *self, PyObject *unused)
{
    PyTypeObject *tp = PyStructSequence_NewType(&ext_ss_desc);
    if (!tp)
        return NULL;
    PyObject *r = PyStructSequence_New(tp);
    Py_DECREF(tp);
    if (!r)
        return NULL;
    PyObject *a = PyLong_FromLong(100003);
    if (!a) {
        Py_DECREF(r);
        return NULL;
    }
    Py_INCREF(a);               /* one reference too many */
    PyStructSequence_SET_ITEM(r, 1, a);
    return r;
}

/* PyType_GetName / GetQualName, PyUnicode_FromWideChar, PyLong_AsUnsignedLongMask:
 * their values (a wrong one returns NULL without an exception, a problem the
 * test sees), every new reference released. */
PyObject *ext_small_apis(PyObject *self, PyObject *unused)
{
    PyObject *name = PyType_GetName(&PyLong_Type);
    if (!name)
        return NULL;
    PyObject *qual = PyType_GetQualName(&PyLong_Type);
    if (!qual) {
        Py_DECREF(name);
        return NULL;
    }
    int ok = PyUnicode_CompareWithASCIIString(name, "int") == 0 &&
             PyUnicode_CompareWithASCIIString(qual, "int") == 0;
    Py_DECREF(name);
    Py_DECREF(qual);
    PyObject *w = PyUnicode_FromWideChar(L"h\u00e9!", -1);
    if (!w)
        return NULL;
    ok = ok && PyUnicode_GetLength(w) == 3;
    Py_DECREF(w);
    PyObject *m1 = PyLong_FromLong(-1);
    if (!m1)
        return NULL;
    ok = ok && PyLong_AsUnsignedLongMask(m1) == (unsigned long)-1;
    Py_DECREF(m1);
    if (!ok)
        return NULL;            /* no exception: the test sees a problem */
    Py_RETURN_NONE;
}

/* Bug: PyObject_GC_New's NULL tracked unchecked (CPython 3.11's sha1module);
 * CPython crashes reading the GC header, the runtime names the call. */
PyObject *ext_gc_track_null(PyObject *self, PyObject *unused)
{
    PyObject_GC_Track(NULL);
    Py_RETURN_NONE;
}
