/* rt_capsule.c - capsules in the reference runtime: PyCapsule_Type and the
 * PyCapsule_* functions, with CPython 3.11's checks and messages (a
 * ValueError for an invalid capsule, a NULL pointer or a wrong name), the
 * destructor called when the capsule dies, and PyCapsule_Import through the
 * runtime's stand-in imports (rt_import.c).
 *
 * Each public function returns what CPython documents (NULL or -1 with a
 * ValueError on failure) and is counted and made to fail by RT_ENTER*
 * before doing any work; the capsule owns nothing (its name and pointer
 * belong to the caller).
 */
#include "rt_internal.h"
#include "prt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rt_capsule {
    PyObject_HEAD
    void *pointer;
    const char *name;
    void *context;
    PyCapsule_Destructor destructor;
} rt_capsule;

static void rt_capsule_dealloc(PyObject *o)
{
    rt_capsule *c = (rt_capsule *)o;
    if (c->destructor)
        c->destructor(o);
    rt_quarantine(o);
}

static PyObject *rt_capsule_repr(PyObject *o)
{
    rt_capsule *c = (rt_capsule *)o;
    char buf[300];
    if (c->name)
        snprintf(buf, sizeof buf, "<capsule object \"%.200s\" at %p>", c->name, (void *)o);
    else
        snprintf(buf, sizeof buf, "<capsule object NULL at %p>", (void *)o);
    return rt_str_from_cstr(buf);
}

PyTypeObject PyCapsule_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "PyCapsule",
    .tp_basicsize = sizeof(rt_capsule),
    .tp_dealloc = rt_capsule_dealloc,
    .tp_repr = rt_capsule_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_READY,
    .tp_base = &PyBaseObject_Type,
};

/* Names match when both are NULL or both equal strings. */
static bool rt_name_matches(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* o is a live capsule with a pointer; otherwise sets ValueError(msg). */
static rt_capsule *rt_capsule_legal(PyObject *o, const char *msg)
{
    if (!o || !rt_use(o, RT_USE_ACCESS) || !PyCapsule_CheckExact(o) ||
        !((rt_capsule *)o)->pointer) {
        rt_err_setstr(PyExc_ValueError, msg);
        return NULL;
    }
    return (rt_capsule *)o;
}

PyObject *PyCapsule_New(void *pointer, const char *name, PyCapsule_Destructor destructor)
{
    RT_ENTER_PTR("PyCapsule_New");
    if (!pointer) {
        rt_err_setstr(PyExc_ValueError, "PyCapsule_New called with null pointer");
        return NULL;
    }
    rt_capsule *c = (rt_capsule *)rt_alloc(&PyCapsule_Type, 0, 0);
    c->pointer = pointer;
    c->name = name;
    c->destructor = destructor;
    return (PyObject *)c;
}

int PyCapsule_IsValid(PyObject *o, const char *name)
{
    RT_ENTER_VOID("PyCapsule_IsValid");
    return o && rt_use(o, RT_USE_ACCESS) && PyCapsule_CheckExact(o) &&
           ((rt_capsule *)o)->pointer && rt_name_matches(((rt_capsule *)o)->name, name);
}

void *PyCapsule_GetPointer(PyObject *o, const char *name)
{
    RT_ENTER_PTR("PyCapsule_GetPointer");
    rt_capsule *c = rt_capsule_legal(o, "PyCapsule_GetPointer called with invalid PyCapsule object");
    if (!c)
        return NULL;
    if (!rt_name_matches(c->name, name)) {
        rt_err_setstr(PyExc_ValueError, "PyCapsule_GetPointer called with incorrect name");
        return NULL;
    }
    return c->pointer;
}

const char *PyCapsule_GetName(PyObject *o)
{
    RT_ENTER_PTR("PyCapsule_GetName");
    rt_capsule *c = rt_capsule_legal(o, "PyCapsule_GetName called with invalid PyCapsule object");
    return c ? c->name : NULL;
}

PyCapsule_Destructor PyCapsule_GetDestructor(PyObject *o)
{
    RT_ENTER_PTR("PyCapsule_GetDestructor");
    rt_capsule *c = rt_capsule_legal(o, "PyCapsule_GetDestructor called with invalid PyCapsule object");
    return c ? c->destructor : NULL;
}

void *PyCapsule_GetContext(PyObject *o)
{
    RT_ENTER_PTR("PyCapsule_GetContext");
    rt_capsule *c = rt_capsule_legal(o, "PyCapsule_GetContext called with invalid PyCapsule object");
    return c ? c->context : NULL;
}

int PyCapsule_SetPointer(PyObject *o, void *pointer)
{
    RT_ENTER_INT("PyCapsule_SetPointer");
    if (!pointer) {
        rt_err_setstr(PyExc_ValueError, "PyCapsule_SetPointer called with null pointer");
        return -1;
    }
    rt_capsule *c = rt_capsule_legal(o, "PyCapsule_SetPointer called with invalid PyCapsule object");
    if (!c)
        return -1;
    c->pointer = pointer;
    return 0;
}

int PyCapsule_SetName(PyObject *o, const char *name)
{
    RT_ENTER_INT("PyCapsule_SetName");
    rt_capsule *c = rt_capsule_legal(o, "PyCapsule_SetName called with invalid PyCapsule object");
    if (!c)
        return -1;
    c->name = name;
    return 0;
}

int PyCapsule_SetDestructor(PyObject *o, PyCapsule_Destructor destructor)
{
    RT_ENTER_INT("PyCapsule_SetDestructor");
    rt_capsule *c = rt_capsule_legal(o, "PyCapsule_SetDestructor called with invalid PyCapsule object");
    if (!c)
        return -1;
    c->destructor = destructor;
    return 0;
}

int PyCapsule_SetContext(PyObject *o, void *context)
{
    RT_ENTER_INT("PyCapsule_SetContext");
    rt_capsule *c = rt_capsule_legal(o, "PyCapsule_SetContext called with invalid PyCapsule object");
    if (!c)
        return -1;
    c->context = context;
    return 0;
}

/* As CPython: imports the module named by the leading part of name, follows
 * the remaining dotted parts as attributes and returns the pointer of the
 * capsule found there when its name is name.  On a stand-in module the
 * attribute is a probe, not a capsule: ValueError, as for any module that
 * does not export the capsule. */
void *PyCapsule_Import(const char *name, int no_block)
{
    RT_ENTER_PTR("PyCapsule_Import");
    (void)no_block;
    if (!name) {
        rt_null_arg();
        rt_err_badinternal("PyCapsule_Import");
        return NULL;
    }
    size_t n = strlen(name);
    char *copy = malloc(n + 1);
    if (!copy)
        return rt_err_nomem();
    memcpy(copy, name, n + 1);
    PyObject *obj = NULL;
    void *ret = NULL;
    for (char *p = copy, *dot; p; p = dot) {
        dot = strchr(p, '.');
        if (dot)
            *dot++ = '\0';
        PyObject *next;
        if (!obj) {
            next = rt_import_module(copy);
        } else {
            next = rt_getattr_str(obj, p);
            Py_DECREF(obj);
        }
        obj = next;
        if (!obj)
            goto done;
    }
    if (PyCapsule_CheckExact(obj) && ((rt_capsule *)obj)->pointer &&
        rt_name_matches(((rt_capsule *)obj)->name, name))
        ret = ((rt_capsule *)obj)->pointer;
    else
        rt_err_format(PyExc_AttributeError, "PyCapsule_Import \"%s\" is not valid", name);
done:
    Py_XDECREF(obj);
    free(copy);
    return ret;
}
