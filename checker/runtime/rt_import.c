/* rt_import.c - the interpreter's module tables in the reference runtime:
 * the module-state table (PyState_AddModule / FindModule / RemoveModule,
 * indexed by a definition's m_base.m_index), a sys.modules stand-in and the
 * imports (PyImport_*).
 *
 * No Python code runs here, so an import cannot load anything: it returns a
 * "stand-in module" for any name, kept in sys.modules (a second import
 * returns the same module with a new reference).  Importing "a.b.c" makes
 * (or reuses) "a", "a.b" and "a.b.c" and sets each as the attribute of its
 * parent, as the import system does.  A stand-in's missing attribute is made
 * on its first access: a fresh probe (rt_probe.c: callable, iterable,
 * subscriptable, every attribute a fresh probe) stored in the module's dict,
 * so it is owned by the module as a real attribute is, and a second access
 * returns the same object.
 *
 * The C API functions defined here return what CPython documents (NULL or
 * -1 with an exception set on failure; PyState_FindModule and
 * PyImport_GetModule NULL without one when absent) and are counted and made
 * to fail by RT_ENTER* (rt_fault.c) before doing any work.
 *
 * The tables live in one malloc'ed rt_imports block reached from rt_ctx; the
 * references they hold are reported to the leak accounting by
 * rt_import_refs (rt_account in rt_check.c), precisely: a table entry that
 * died is a dangling reference.
 */
#include "rt_internal.h"
#include "prt.h"

#include <stdlib.h>
#include <string.h>

struct rt_imports {
    PyObject *modules;        /* sys.modules: dict name -> module (owned) */
    PyObject **by_index;      /* m_index -> module (owned) or NULL */
    Py_ssize_t nby_index;
    Py_ssize_t last_index;    /* the last m_index given */
};

static struct rt_imports *rt_imports_get(void)
{
    rt_ctx *c = rt_state();
    if (!c->imports) {
        c->imports = calloc(1, sizeof *c->imports);
        if (!c->imports)
            rt_die("out of memory");
    }
    return c->imports;
}

static PyObject *rt_sys_modules(void)
{
    struct rt_imports *im = rt_imports_get();
    if (!im->modules)
        im->modules = rt_dict_new();
    return im->modules;
}

Py_ssize_t rt_import_next_index(void)
{
    return ++rt_imports_get()->last_index;
}

void rt_import_refs(void (*fn)(PyObject *ref, bool precise, void *arg), void *arg)
{
    struct rt_imports *im = rt_state()->imports;
    if (!im)
        return;
    if (im->modules)
        fn(im->modules, true, arg);
    for (Py_ssize_t i = 0; i < im->nby_index; i++)
        if (im->by_index[i])
            fn(im->by_index[i], true, arg);
}

/* ---- module state ---------------------------------------------------------------- */

PyObject *PyState_FindModule(PyModuleDef *def)
{
    RT_ENTER_VOID("PyState_FindModule");
    struct rt_imports *im = rt_imports_get();
    if (!def) {
        rt_null_arg();
        return NULL;
    }
    /* as CPython: NULL without an exception when it is not there */
    Py_ssize_t i = def->m_base.m_index;
    if (def->m_slots || i == 0 || i >= im->nby_index)
        return NULL;
    return im->by_index[i];
}

/* Stores module (a new reference) at def's index, releasing what was there. */
static int rt_state_store(PyModuleDef *def, PyObject *module)
{
    struct rt_imports *im = rt_imports_get();
    Py_ssize_t i = def->m_base.m_index;
    if (i < 0) {
        rt_err_badinternal("PyState_AddModule");
        return -1;
    }
    if (i >= im->nby_index) {
        PyObject **n = realloc(im->by_index, (size_t)(i + 1) * sizeof *n);
        if (!n)
            rt_die("out of memory");
        memset(n + im->nby_index, 0, (size_t)(i + 1 - im->nby_index) * sizeof *n);
        im->by_index = n;
        im->nby_index = i + 1;
    }
    PyObject *old = im->by_index[i];
    Py_XINCREF(module);
    im->by_index[i] = module;
    Py_XDECREF(old);
    return 0;
}

int PyState_AddModule(PyObject *module, PyModuleDef *def)
{
    RT_ENTER_INT("PyState_AddModule");
    if (!def) {
        rt_out("prt: fatal-error PyState_AddModule: module definition is NULL");
        abort();
    }
    if (!module || !rt_use(module, RT_USE_ACCESS)) {
        rt_null_arg();
        rt_err_badinternal("PyState_AddModule");
        return -1;
    }
    struct rt_imports *im = rt_imports_get();
    Py_ssize_t i = def->m_base.m_index;
    if (i >= 0 && i < im->nby_index && im->by_index[i] == module) {
        rt_out("prt: fatal-error PyState_AddModule: module %p already added", (void *)module);
        abort();
    }
    if (def->m_slots) {
        rt_err_setstr(PyExc_SystemError, "PyState_AddModule called on module with slots");
        return -1;
    }
    return rt_state_store(def, module);
}

int PyState_RemoveModule(PyModuleDef *def)
{
    RT_ENTER_INT("PyState_RemoveModule");
    if (!def) {
        rt_null_arg();
        rt_err_badinternal("PyState_RemoveModule");
        return -1;
    }
    if (def->m_slots) {
        rt_err_setstr(PyExc_SystemError, "PyState_RemoveModule called on module with slots");
        return -1;
    }
    struct rt_imports *im = rt_imports_get();
    Py_ssize_t i = def->m_base.m_index;
    const char *fatal = i == 0 ? "invalid module index"
                      : !im->by_index ? "Interpreters module-list not accessible."
                      : i > im->nby_index ? "Module index out of bounds." : NULL;
    if (fatal) {
        rt_out("prt: fatal-error PyState_RemoveModule: %s", fatal);
        abort();
    }
    if (i == im->nby_index)     /* CPython: PyList_SetItem's IndexError */
    {
        rt_err_setstr(PyExc_IndexError, "list assignment index out of range");
        return -1;
    }
    return rt_state_store(def, NULL);
}

/* ---- sys.modules and stand-in modules ------------------------------------------- */

PyObject *rt_import_standin_attr(PyObject *mod, PyObject *name)
{
    rt_module *m = (rt_module *)mod;
    if (!PyUnicode_Check(name) || !rt_str_utf8(name, NULL)) {
        rt_err_setstr(PyExc_TypeError, "attribute name must be string");
        return NULL;
    }
    PyObject *v = rt_probe_arg("probe");
    if (!v || rt_dict_set(m->md_dict, name, v) < 0) {
        Py_XDECREF(v);
        return NULL;
    }
    return v;
}

/* The stand-in module named by the n bytes of name (borrowed from
 * sys.modules), made when missing, its parent package too; NULL +
 * exception. */
static PyObject *rt_import_get(const char *name, size_t n)
{
    if (n == 0 || name[0] == '.' || name[n - 1] == '.' || memchr(name, 0, n)) {
        rt_err_setstr(PyExc_ValueError, "Empty module name");
        return NULL;
    }
    PyObject *key = rt_str_from_utf8(name, (Py_ssize_t)n);
    if (!key)
        return NULL;
    PyObject *mods = rt_sys_modules();
    int err = 0;
    PyObject *m = rt_dict_get(mods, key, &err);
    if (m || err) {
        Py_DECREF(key);
        return m;
    }
    const char *dot = NULL;
    for (size_t i = n; i-- > 0;)
        if (name[i] == '.') {
            dot = name + i;
            break;
        }
    PyObject *parent = dot ? rt_import_get(name, (size_t)(dot - name)) : NULL;
    if (dot && !parent) {
        Py_DECREF(key);
        return NULL;
    }
    const char *s = rt_str_utf8(key, NULL);
    m = rt_module_new(s);
    ((rt_module *)m)->md_standin = true;
    int r = rt_dict_set(mods, key, m);
    if (r == 0 && parent) {
        /* the last part only: name may continue past n */
        PyObject *last = rt_str_from_utf8(dot + 1, (Py_ssize_t)(n - (size_t)(dot + 1 - name)));
        r = last ? rt_dict_set(((rt_module *)parent)->md_dict, last, m) : -1;
        Py_XDECREF(last);
    }
    Py_DECREF(m);            /* sys.modules holds it */
    Py_DECREF(key);
    return r < 0 ? NULL : m;
}

/* The name of a str object for an import; NULL + exception. */
static const char *rt_import_name(PyObject *name, Py_ssize_t *len)
{
    if (!name) {
        rt_null_arg();
        rt_err_badinternal("PyImport_Import");
        return NULL;
    }
    if (!rt_use(name, RT_USE_ACCESS))
        return NULL;
    if (!PyUnicode_Check(name)) {
        rt_err_setstr(PyExc_TypeError, "module name must be str");
        return NULL;
    }
    return rt_str_utf8(name, len);
}

/* A new reference to the module name, NULL + exception. */
static PyObject *rt_import_new(const char *name, size_t n)
{
    PyObject *m = rt_import_get(name, n);
    Py_XINCREF(m);
    return m;
}

PyObject *rt_import_module(const char *name)
{
    return rt_import_new(name, strlen(name));
}

PyObject *PyImport_ImportModule(const char *name)
{
    RT_ENTER_PTR("PyImport_ImportModule");
    if (!name) {
        rt_null_arg();
        rt_err_badinternal("PyImport_ImportModule");
        return NULL;
    }
    return rt_import_new(name, strlen(name));
}

PyObject *PyImport_ImportModuleNoBlock(const char *name)
{
    RT_ENTER_PTR("PyImport_ImportModuleNoBlock");
    if (!name) {
        rt_null_arg();
        rt_err_badinternal("PyImport_ImportModuleNoBlock");
        return NULL;
    }
    return rt_import_new(name, strlen(name));
}

PyObject *PyImport_Import(PyObject *name)
{
    RT_ENTER_PTR("PyImport_Import");
    Py_ssize_t n;
    const char *s = rt_import_name(name, &n);
    return s ? rt_import_new(s, (size_t)n) : NULL;
}

/* __import__(name, globals, locals, fromlist, level): the package the
 * absolute name starts with when fromlist is empty, else the module itself.
 * A relative import (level > 0) resolves against globals["__package__"]. */
static PyObject *rt_import_level(const char *name, size_t n, PyObject *globals,
                                 PyObject *fromlist, int level)
{
    if (level < 0) {
        rt_err_setstr(PyExc_ValueError, "level must be >= 0");
        return NULL;
    }
    char buf[512];
    if (level > 0) {
        PyObject *pkg = globals && PyDict_Check(globals) ? rt_dict_get_str(globals, "__package__")
                                                          : NULL;
        const char *p = pkg && PyUnicode_Check(pkg) ? rt_str_utf8(pkg, NULL) : NULL;
        if (!p || !*p) {
            rt_err_setstr(PyExc_ImportError, "attempted relative import with no known parent package");
            return NULL;
        }
        size_t plen = strlen(p);
        for (int l = 1; l < level; l++) {
            const char *d = NULL;
            for (size_t i = plen; i-- > 0;)
                if (p[i] == '.') {
                    d = p + i;
                    break;
                }
            if (!d) {
                rt_err_setstr(PyExc_ImportError, "attempted relative import beyond top-level package");
                return NULL;
            }
            plen = (size_t)(d - p);
        }
        int k = snprintf(buf, sizeof buf, "%.*s%s%.*s", (int)plen, p, n ? "." : "", (int)n, name);
        if (k < 0 || (size_t)k >= sizeof buf) {
            rt_err_setstr(PyExc_ImportError, "module name too long");
            return NULL;
        }
        name = buf;
        n = (size_t)k;
    } else if (n == 0) {
        rt_err_setstr(PyExc_ValueError, "Empty module name");
        return NULL;
    }
    PyObject *m = rt_import_get(name, n);
    if (!m)
        return NULL;
    bool from = fromlist && fromlist != Py_None && rt_truth(fromlist) > 0;
    if (!from && level == 0) {
        const char *dot = memchr(name, '.', n);
        if (dot)
            m = rt_import_get(name, (size_t)(dot - name));
    }
    Py_XINCREF(m);
    return m;
}

PyObject *PyImport_ImportModuleLevel(const char *name, PyObject *globals, PyObject *locals,
                                     PyObject *fromlist, int level)
{
    RT_ENTER_PTR("PyImport_ImportModuleLevel");
    (void)locals;
    if (!name) {
        rt_null_arg();
        rt_err_badinternal("PyImport_ImportModuleLevel");
        return NULL;
    }
    return rt_import_level(name, strlen(name), globals, fromlist, level);
}

PyObject *PyImport_ImportModuleLevelObject(PyObject *name, PyObject *globals, PyObject *locals,
                                           PyObject *fromlist, int level)
{
    RT_ENTER_PTR("PyImport_ImportModuleLevelObject");
    (void)locals;
    Py_ssize_t n;
    const char *s = rt_import_name(name, &n);
    return s ? rt_import_level(s, (size_t)n, globals, fromlist, level) : NULL;
}

PyObject *PyImport_GetModule(PyObject *name)
{
    RT_ENTER_PTR("PyImport_GetModule");
    Py_ssize_t n;
    if (!rt_import_name(name, &n))
        return NULL;
    int err = 0;
    PyObject *m = rt_dict_get(rt_sys_modules(), name, &err);
    Py_XINCREF(m);
    return m;                /* NULL without an exception: not imported */
}

PyObject *PyImport_GetModuleDict(void)
{
    RT_ENTER_VOID("PyImport_GetModuleDict");
    return rt_sys_modules();
}

/* PyImport_AddModuleObject: sys.modules[name], a plain empty module (not a
 * stand-in: CPython makes one without importing) added when missing;
 * borrowed. */
static PyObject *rt_add_module(PyObject *name)
{
    PyObject *mods = rt_sys_modules();
    int err = 0;
    PyObject *m = rt_dict_get(mods, name, &err);
    if (m || err)
        return m;
    const char *s = rt_str_utf8(name, NULL);
    if (!s)
        return NULL;
    m = rt_module_new(s);
    int r = rt_dict_set(mods, name, m);
    Py_DECREF(m);
    return r < 0 ? NULL : m;
}

PyObject *PyImport_AddModuleObject(PyObject *name)
{
    RT_ENTER_PTR("PyImport_AddModuleObject");
    Py_ssize_t n;
    return rt_import_name(name, &n) ? rt_add_module(name) : NULL;
}

PyObject *PyImport_AddModule(const char *name)
{
    RT_ENTER_PTR("PyImport_AddModule");
    if (!name) {
        rt_null_arg();
        rt_err_badinternal("PyImport_AddModule");
        return NULL;
    }
    PyObject *key = rt_str_from_cstr(name);
    if (!key)
        return NULL;
    PyObject *m = rt_add_module(key);
    Py_DECREF(key);
    return m;
}
