/* rt_module.c - modules and object allocation in the reference runtime:
 * PyModule_* (single- and multi-phase initialisation, module state, adding
 * objects; the module-state table and imports are in rt_import.c),
 * PyObject_New / PyObject_GC_New and friends, GC tracking (a no-op: nothing
 * is collected), and the thread-state / GIL calls an extension makes (one
 * thread, always holding the GIL).
 *
 * The C API functions defined here return what CPython documents for them
 * (NULL or -1 with an exception set on failure; new or borrowed references
 * as the C API manual and rules/ say) and are counted and made to fail by
 * RT_ENTER* (rt_fault.c) before doing any work.
 */
#include "rt_internal.h"
#include "prt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- module objects -------------------------------------------------------------------- */

static void rt_module_dealloc(PyObject *o)
{
    rt_module *m = (rt_module *)o;
    if (m->md_def && m->md_def->m_free)
        m->md_def->m_free(o);
    Py_CLEAR(m->md_dict);
    Py_CLEAR(m->md_name);
    if (m->md_state)
        rt_mem_free(m->md_state);
    m->md_state = NULL;
    rt_quarantine(o);
}

static PyObject *rt_module_getattr(PyObject *o, PyObject *name)
{
    rt_module *m = (rt_module *)o;
    int err;
    PyObject *v = m->md_dict ? rt_dict_get(m->md_dict, name, &err) : NULL;
    if (v) {
        Py_INCREF(v);
        return v;
    }
    if (rt_str_eq_cstr(name, "__dict__") && m->md_dict) {
        Py_INCREF(m->md_dict);
        return m->md_dict;
    }
    if (m->md_standin && m->md_dict && !err)
        return rt_import_standin_attr(o, name);
    rt_err_format(PyExc_AttributeError, "module '%s' has no attribute '%s'",
                  m->md_name ? rt_str_utf8(m->md_name, NULL) : "?", rt_str_utf8(name, NULL));
    return NULL;
}

static int rt_module_setattr(PyObject *o, PyObject *name, PyObject *v)
{
    rt_module *m = (rt_module *)o;
    return v ? rt_dict_set(m->md_dict, name, v) : rt_dict_del(m->md_dict, name);
}

static PyObject *rt_module_repr(PyObject *o)
{
    rt_module *m = (rt_module *)o;
    char buf[200];
    snprintf(buf, sizeof buf, "<module '%s'>", m->md_name ? rt_str_utf8(m->md_name, NULL) : "?");
    return rt_str_from_cstr(buf);
}

PyTypeObject PyModule_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "module",
    .tp_basicsize = sizeof(rt_module),
    .tp_dealloc = rt_module_dealloc,
    .tp_repr = rt_module_repr,
    .tp_getattro = rt_module_getattr,
    .tp_setattro = rt_module_setattr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_READY,
    .tp_base = &PyBaseObject_Type,
};

PyTypeObject PyModuleDef_Type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "moduledef",
    .tp_basicsize = sizeof(PyModuleDef),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_READY,
    .tp_base = &PyBaseObject_Type,
};

PyObject *rt_module_new(const char *name)
{
    rt_module *m = (rt_module *)rt_alloc(&PyModule_Type, 0, 0);
    m->md_dict = rt_dict_new();
    m->md_name = rt_str_from_cstr(name);
    rt_dict_set_str(m->md_dict, "__name__", m->md_name);
    return (PyObject *)m;
}

static bool rt_is_module(PyObject *m, const char *api)
{
    if (!m || !rt_use(m, RT_USE_ACCESS) || !PyModule_Check(m)) {
        rt_err_badinternal(api);
        return false;
    }
    return true;
}

static int rt_add_functions(PyObject *mod, PyMethodDef *ml)
{
    rt_module *m = (rt_module *)mod;
    for (; ml && ml->ml_name; ml++) {
        PyObject *f = rt_cfunction_new(ml, mod, m->md_name);
        int r = rt_dict_set_str(m->md_dict, ml->ml_name, f);
        Py_DECREF(f);
        if (r < 0)
            return -1;
    }
    return 0;
}

static int rt_module_init_def(PyObject *mod, PyModuleDef *def)
{
    rt_module *m = (rt_module *)mod;
    m->md_def = def;
    if (def->m_size > 0 && !m->md_state)
        m->md_state = rt_mem_alloc((size_t)def->m_size, true);
    if (def->m_doc) {
        PyObject *d = rt_str_from_cstr(def->m_doc);
        rt_dict_set_str(m->md_dict, "__doc__", d);
        Py_DECREF(d);
    }
    return rt_add_functions(mod, def->m_methods);
}

PyObject *rt_moddef_init(PyModuleDef *def)
{
    if (def->m_base.m_index == 0) {
        Py_SET_TYPE(def, &PyModuleDef_Type);
        def->m_base.m_index = rt_import_next_index();
    }
    if (Py_REFCNT(def) == 0)
        Py_SET_REFCNT(def, 1);
    return (PyObject *)def;
}

PyObject *rt_module_create(PyModuleDef *def)
{
    rt_moddef_init(def);
    PyObject *m = rt_module_new(def->m_name);
    if (rt_module_init_def(m, def) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

PyObject *PyModule_Create2(PyModuleDef *def, int apiver)
{
    RT_ENTER_PTR("PyModule_Create2");
    rt_moddef_init(def);
    PyObject *m = rt_module_new(def->m_name);
    if (rt_module_init_def(m, def) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

PyObject *PyModule_New(const char *name)
{
    RT_ENTER_PTR("PyModule_New");
    return rt_module_new(name);
}

PyObject *PyModule_NewObject(PyObject *name)
{
    RT_ENTER_PTR("PyModule_NewObject");
    const char *s = rt_str_utf8(name, NULL);
    return s ? rt_module_new(s) : NULL;
}

PyObject *PyModuleDef_Init(PyModuleDef *def)
{
    RT_ENTER_VOID("PyModuleDef_Init");
    return rt_moddef_init(def);
}

PyObject *PyModule_FromDefAndSpec2(PyModuleDef *def, PyObject *spec, int apiver)
{
    RT_ENTER_PTR("PyModule_FromDefAndSpec2");
    rt_moddef_init(def);
    PyObject *m = rt_module_new(def->m_name);
    if (rt_module_init_def(m, def) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

int PyModule_ExecDef(PyObject *mod, PyModuleDef *def)
{
    RT_ENTER_INT("PyModule_ExecDef");
    for (PyModuleDef_Slot *s = def->m_slots; s && s->slot; s++) {
        if (s->slot == Py_mod_exec) {
            int (*fn)(PyObject *) = (int (*)(PyObject *))s->value;
            if (fn(mod) < 0) {
                if (!rt_state()->exc_type)
                    rt_err_setstr(PyExc_SystemError, "execution of module failed without setting an exception");
                return -1;
            }
        }
    }
    return 0;
}

PyObject *PyModule_GetDict(PyObject *m)
{
    RT_ENTER_VOID("PyModule_GetDict");
    if (!rt_is_module(m, "PyModule_GetDict"))
        return NULL;
    return ((rt_module *)m)->md_dict;
}

void *PyModule_GetState(PyObject *m)
{
    RT_ENTER_VOID("PyModule_GetState");
    if (!rt_is_module(m, "PyModule_GetState"))
        return NULL;
    return ((rt_module *)m)->md_state;
}

PyModuleDef *PyModule_GetDef(PyObject *m)
{
    RT_ENTER_VOID("PyModule_GetDef");
    if (!rt_is_module(m, "PyModule_GetDef"))
        return NULL;
    return ((rt_module *)m)->md_def;
}

const char *PyModule_GetName(PyObject *m)
{
    RT_ENTER_PTR("PyModule_GetName");
    if (!rt_is_module(m, "PyModule_GetName"))
        return NULL;
    return rt_str_utf8(((rt_module *)m)->md_name, NULL);
}

PyObject *PyModule_GetNameObject(PyObject *m)
{
    RT_ENTER_PTR("PyModule_GetNameObject");
    if (!rt_is_module(m, "PyModule_GetNameObject"))
        return NULL;
    Py_INCREF(((rt_module *)m)->md_name);
    return ((rt_module *)m)->md_name;
}

/* m's __file__ (borrowed from its dict), NULL + exception as CPython. */
static PyObject *rt_module_file(PyObject *m)
{
    if (!m || !rt_use(m, RT_USE_ACCESS) || !PyModule_Check(m)) {
        rt_err_setstr(PyExc_TypeError, "bad argument type for built-in operation");
        return NULL;
    }
    rt_module *mod = (rt_module *)m;
    PyObject *f = mod->md_dict ? rt_dict_get_str(mod->md_dict, "__file__") : NULL;
    if (!f || !PyUnicode_Check(f)) {
        rt_err_setstr(PyExc_SystemError, "module filename missing");
        return NULL;
    }
    return f;
}

PyObject *PyModule_GetFilenameObject(PyObject *m)
{
    RT_ENTER_PTR("PyModule_GetFilenameObject");
    PyObject *f = rt_module_file(m);
    Py_XINCREF(f);
    return f;
}

const char *PyModule_GetFilename(PyObject *m)
{
    RT_ENTER_PTR("PyModule_GetFilename");
    PyObject *f = rt_module_file(m);
    return f ? rt_str_utf8(f, NULL) : NULL;   /* borrowed from the dict, as in CPython */
}

/* Adds v (borrowed) to m's dict under name. */
static int rt_module_add(PyObject *m, const char *name, PyObject *v, const char *api)
{
    if (!rt_is_module(m, api))
        return -1;
    if (!v) {
        if (!rt_state()->exc_type)
            rt_err_format(PyExc_SystemError, "%s() needs non-NULL value", api);
        return -1;
    }
    if (!rt_use(v, RT_USE_ACCESS))
        return -1;
    return rt_dict_set_str(((rt_module *)m)->md_dict, name, v);
}

int PyModule_AddObject(PyObject *m, const char *name, PyObject *v)
{
    RT_ENTER_INT("PyModule_AddObject");
    if (rt_module_add(m, name, v, "PyModule_AddObject") < 0)
        return -1;
    Py_DECREF(v);                 /* stolen on success */
    return 0;
}

int PyModule_AddObjectRef(PyObject *m, const char *name, PyObject *v)
{
    RT_ENTER_INT("PyModule_AddObjectRef");
    return rt_module_add(m, name, v, "PyModule_AddObjectRef");
}

int PyModule_AddIntConstant(PyObject *m, const char *name, long v)
{
    RT_ENTER_INT("PyModule_AddIntConstant");
    PyObject *o = rt_long_from_ll(v);
    int r = rt_module_add(m, name, o, "PyModule_AddIntConstant");
    Py_DECREF(o);
    return r;
}

int PyModule_AddStringConstant(PyObject *m, const char *name, const char *v)
{
    RT_ENTER_INT("PyModule_AddStringConstant");
    PyObject *o = rt_str_from_cstr(v);
    int r = rt_module_add(m, name, o, "PyModule_AddStringConstant");
    Py_DECREF(o);
    return r;
}

int PyModule_AddType(PyObject *m, PyTypeObject *tp)
{
    RT_ENTER_INT("PyModule_AddType");
    if (rt_type_ready(tp) < 0)
        return -1;
    const char *dot = strrchr(tp->tp_name, '.');
    return rt_module_add(m, dot ? dot + 1 : tp->tp_name, (PyObject *)tp, "PyModule_AddType");
}

int PyModule_AddFunctions(PyObject *m, PyMethodDef *ml)
{
    RT_ENTER_INT("PyModule_AddFunctions");
    if (!rt_is_module(m, "PyModule_AddFunctions"))
        return -1;
    return rt_add_functions(m, ml);
}

/* ---- object allocation ------------------------------------------------------------------- */

PyObject *_PyObject_New(PyTypeObject *tp)
{
    RT_ENTER_PTR("_PyObject_New");
    return rt_alloc(tp, 0, 0);
}

PyVarObject *_PyObject_NewVar(PyTypeObject *tp, Py_ssize_t n)
{
    RT_ENTER_PTR("_PyObject_NewVar");
    return (PyVarObject *)rt_alloc(tp, n, 0);
}

PyObject *_PyObject_GC_New(PyTypeObject *tp)
{
    RT_ENTER_PTR("_PyObject_GC_New");
    return rt_alloc(tp, 0, 0);
}

PyVarObject *_PyObject_GC_NewVar(PyTypeObject *tp, Py_ssize_t n)
{
    RT_ENTER_PTR("_PyObject_GC_NewVar");
    return (PyVarObject *)rt_alloc(tp, n, 0);
}

PyObject *PyObject_Init(PyObject *o, PyTypeObject *tp)
{
    RT_ENTER_VOID("PyObject_Init");
    Py_SET_TYPE(o, tp);
    Py_SET_REFCNT(o, 1);
    if (tp->tp_flags & Py_TPFLAGS_HEAPTYPE)
        Py_INCREF(tp);
    return o;
}

PyVarObject *PyObject_InitVar(PyVarObject *o, PyTypeObject *tp, Py_ssize_t n)
{
    RT_ENTER_VOID("PyObject_InitVar");
    Py_SET_SIZE(o, n);
    Py_SET_TYPE(o, tp);
    Py_SET_REFCNT(o, 1);
    if (tp->tp_flags & Py_TPFLAGS_HEAPTYPE)
        Py_INCREF(tp);
    return o;
}

/* CPython reads the object's GC header: NULL crashes there. */
void PyObject_GC_Track(void *o)
{
    RT_ENTER_VOID("PyObject_GC_Track");
    if (!o)
        rt_null_arg();
    rt_use(o, RT_USE_ACCESS);
}

void PyObject_GC_UnTrack(void *o)
{
    RT_ENTER_VOID("PyObject_GC_UnTrack");
    if (!o)
        rt_null_arg();
}

void PyObject_GC_Del(void *o)
{
    RT_ENTER_VOID("PyObject_GC_Del");
    if (rt_find(o))
        rt_quarantine(o);
    else
        rt_mem_free(o);
}

int PyObject_GC_IsTracked(PyObject *o)
{
    RT_ENTER_VOID("PyObject_GC_IsTracked");
    return 0;
}

Py_ssize_t PyGC_Collect(void)
{
    RT_ENTER_VOID("PyGC_Collect");
    return 0;
}

/* ---- threads and the GIL (one thread, always holding it) ------------------------------------ */

/* A zeroed stand-in: extensions only pass it back. */
static PyThreadState *rt_tstate(void)
{
    rt_ctx *c = rt_state();
    if (!c->tstate)
        c->tstate = rt_mem_alloc(4096, true);
    return c->tstate;
}

PyThreadState *PyThreadState_Get(void)
{
    return rt_tstate();
}

PyThreadState *_PyThreadState_UncheckedGet(void)
{
    return rt_tstate();
}

PyThreadState *PyEval_SaveThread(void)
{
    RT_ENTER_VOID("PyEval_SaveThread");
    return rt_tstate();
}

void PyEval_RestoreThread(PyThreadState *ts)
{
    RT_ENTER_VOID("PyEval_RestoreThread");
}

PyGILState_STATE PyGILState_Ensure(void)
{
    RT_ENTER_VOID("PyGILState_Ensure");
    return PyGILState_LOCKED;
}

void PyGILState_Release(PyGILState_STATE s)
{
    RT_ENTER_VOID("PyGILState_Release");
}

int PyGILState_Check(void)
{
    return 1;
}

void _Py_FatalErrorFunc(const char *func, const char *msg)
{
    rt_out("prt: fatal-error %s: %s", func ? func : "?", msg ? msg : "");
    abort();
}

void (Py_FatalError)(const char *msg)
{
    rt_out("prt: fatal-error %s", msg ? msg : "");
    abort();
}
