/* rt_err.c - the exception state of the reference runtime (one thread):
 * the PyExc_* type objects and their hierarchy, exception instances,
 * PyErr_* functions.
 *
 * The C API functions defined here return what CPython documents for them
 * (NULL or -1 with an exception set on failure; new or borrowed references
 * as the C API manual and rules/ say) and are counted and made to fail by
 * RT_ENTER* (rt_fault.c) before doing any work.
 */
#include "rt_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- exception instances ---------------------------------------------------- */

static PyObject *rt_exc_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    PyBaseExceptionObject *e = (PyBaseExceptionObject *)rt_generic_alloc(tp, 0);
    if (!e)
        return NULL;
    if (args) {
        Py_INCREF(args);
        e->args = args;
    } else {
        e->args = rt_tuple_new(0);
    }
    return (PyObject *)e;
}

static void rt_exc_dealloc(PyObject *o)
{
    PyBaseExceptionObject *e = (PyBaseExceptionObject *)o;
    Py_CLEAR(e->args);
    Py_CLEAR(e->dict);
    Py_CLEAR(e->notes);
    Py_CLEAR(e->traceback);
    Py_CLEAR(e->context);
    Py_CLEAR(e->cause);
    PyTypeObject *tp = Py_TYPE(o);
    rt_quarantine(o);
    if (tp->tp_flags & Py_TPFLAGS_HEAPTYPE)
        Py_DECREF(tp);
}

static PyObject *rt_exc_str(PyObject *o)
{
    PyBaseExceptionObject *e = (PyBaseExceptionObject *)o;
    if (e->args && PyTuple_Check(e->args) && PyTuple_GET_SIZE(e->args) == 1)
        return rt_str(PyTuple_GET_ITEM(e->args, 0));
    if (e->args && PyTuple_Check(e->args) && PyTuple_GET_SIZE(e->args) > 1)
        return rt_repr(e->args);
    return rt_str_from_cstr("");
}

static PyObject *rt_exc_repr(PyObject *o)
{
    PyObject *s = rt_exc_str(o);
    if (!s)
        return NULL;
    char buf[256];
    snprintf(buf, sizeof buf, "%s(%s)", Py_TYPE(o)->tp_name, rt_str_utf8(s, NULL));
    Py_DECREF(s);
    return rt_str_from_cstr(buf);
}

#define RT_EXC_FLAGS (Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_BASE_EXC_SUBCLASS)

PyTypeObject rt_exc_BaseException = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "BaseException",
    .tp_basicsize = sizeof(PyBaseExceptionObject),
    .tp_dealloc = rt_exc_dealloc,
    .tp_repr = rt_exc_repr,
    .tp_str = rt_exc_str,
    .tp_flags = RT_EXC_FLAGS,
    .tp_new = rt_exc_new,
    .tp_base = &PyBaseObject_Type,
};

/* Each exception type: NAME derived from BASE.  Parents come first. */
#define RT_EXCEPTIONS(X) \
    X(Exception, BaseException) X(SystemExit, BaseException) \
    X(KeyboardInterrupt, BaseException) X(GeneratorExit, BaseException) \
    X(StopIteration, Exception) X(StopAsyncIteration, Exception) \
    X(ArithmeticError, Exception) X(OverflowError, ArithmeticError) \
    X(ZeroDivisionError, ArithmeticError) X(FloatingPointError, ArithmeticError) \
    X(AssertionError, Exception) X(AttributeError, Exception) X(BufferError, Exception) \
    X(EOFError, Exception) X(ImportError, Exception) X(ModuleNotFoundError, ImportError) \
    X(LookupError, Exception) X(IndexError, LookupError) X(KeyError, LookupError) \
    X(MemoryError, Exception) X(NameError, Exception) X(UnboundLocalError, NameError) \
    X(OSError, Exception) X(FileNotFoundError, OSError) X(FileExistsError, OSError) \
    X(PermissionError, OSError) X(BlockingIOError, OSError) X(TimeoutError, OSError) \
    X(InterruptedError, OSError) X(IsADirectoryError, OSError) \
    X(NotADirectoryError, OSError) X(ConnectionError, OSError) \
    X(ReferenceError, Exception) X(RuntimeError, Exception) \
    X(NotImplementedError, RuntimeError) X(RecursionError, RuntimeError) \
    X(SyntaxError, Exception) X(SystemError, Exception) X(TypeError, Exception) \
    X(ValueError, Exception) X(UnicodeError, ValueError) \
    X(UnicodeDecodeError, UnicodeError) X(UnicodeEncodeError, UnicodeError) \
    X(UnicodeTranslateError, UnicodeError) \
    X(Warning, Exception) X(UserWarning, Warning) X(DeprecationWarning, Warning) \
    X(PendingDeprecationWarning, Warning) X(RuntimeWarning, Warning) \
    X(SyntaxWarning, Warning) X(FutureWarning, Warning) X(ImportWarning, Warning) \
    X(UnicodeWarning, Warning) X(BytesWarning, Warning) X(ResourceWarning, Warning)

#define RT_EXC_DEF(name, base)                                   \
    PyTypeObject rt_exc_##name = {                               \
        PyVarObject_HEAD_INIT(&PyType_Type, 0)                   \
        .tp_name = #name,                                        \
        .tp_basicsize = sizeof(PyBaseExceptionObject),           \
        .tp_dealloc = rt_exc_dealloc,                            \
        .tp_repr = rt_exc_repr,                                  \
        .tp_str = rt_exc_str,                                    \
        .tp_flags = RT_EXC_FLAGS,                                \
        .tp_new = rt_exc_new,                                    \
        .tp_base = &rt_exc_##base,                               \
    };
RT_EXCEPTIONS(RT_EXC_DEF)

#define RT_EXC_PTR(name, base) PyObject *PyExc_##name = (PyObject *)&rt_exc_##name;
PyObject *PyExc_BaseException = (PyObject *)&rt_exc_BaseException;
RT_EXCEPTIONS(RT_EXC_PTR)
PyObject *PyExc_IOError = (PyObject *)&rt_exc_OSError;
PyObject *PyExc_EnvironmentError = (PyObject *)&rt_exc_OSError;

/* ---- the state --------------------------------------------------------------- */

void rt_err_set(PyObject *type, PyObject *value)
{
    rt_ctx *c = rt_state();
    PyObject *ot = c->exc_type, *ov = c->exc_value, *otb = c->exc_tb;
    Py_XINCREF(type);
    Py_XINCREF(value);
    c->exc_type = type;
    c->exc_value = value;
    c->exc_tb = NULL;
    Py_XDECREF(ot);
    Py_XDECREF(ov);
    Py_XDECREF(otb);
}

void rt_err_setstr(PyObject *type, const char *msg)
{
    PyObject *v = rt_str_from_cstr(msg);
    rt_err_set(type, v);
    Py_XDECREF(v);
}

void rt_err_format(PyObject *type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    PyObject *v = rt_str_format(fmt, ap);
    va_end(ap);
    rt_err_set(type, v);
    Py_XDECREF(v);
}

PyObject *rt_err_nomem(void)
{
    rt_err_set(PyExc_MemoryError, NULL);
    return NULL;
}

void rt_err_clear(void)
{
    rt_err_set(NULL, NULL);
}

void rt_null_arg(void)
{
    rt_ctx *c = rt_state();
    if (c->in_call) {
        c->problems++;
        rt_out("prt: null-argument %s site=%p", c->cur_api ? c->cur_api : "?", c->cur_site);
    }
}

void rt_err_badinternal(const char *where)
{
    char buf[160];
    snprintf(buf, sizeof buf, "bad argument to internal function (%s)", where);
    rt_err_setstr(PyExc_SystemError, buf);
}

bool rt_err_matches(PyObject *given, PyObject *exc)
{
    if (!given || !exc)
        return false;
    if (rt_is_dead(given) || rt_is_dead(exc)) {
        rt_use(given, RT_USE_ACCESS);
        rt_use(exc, RT_USE_ACCESS);
        return false;
    }
    if (PyTuple_Check(exc)) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(exc); i++)
            if (rt_err_matches(given, PyTuple_GET_ITEM(exc, i)))
                return true;
        return false;
    }
    if (!PyType_Check(given))
        given = (PyObject *)Py_TYPE(given);
    if (!PyType_Check(exc))
        return given == exc;
    return rt_is_subtype((PyTypeObject *)given, (PyTypeObject *)exc);
}

/* ---- the API -------------------------------------------------------------------- */

void PyErr_SetString(PyObject *type, const char *msg)
{
    RT_ENTER_VOID("PyErr_SetString");
    rt_use(type, RT_USE_ACCESS);
    rt_err_setstr(type, msg);
}

void PyErr_SetObject(PyObject *type, PyObject *value)
{
    RT_ENTER_VOID("PyErr_SetObject");
    rt_use(type, RT_USE_ACCESS);
    rt_use(value, RT_USE_ACCESS);
    rt_err_set(type, value);
}

void PyErr_SetNone(PyObject *type)
{
    RT_ENTER_VOID("PyErr_SetNone");
    rt_err_set(type, NULL);
}

PyObject *PyErr_Format(PyObject *type, const char *fmt, ...)
{
    RT_ENTER_VOID("PyErr_Format");
    va_list ap;
    va_start(ap, fmt);
    PyObject *v = rt_str_format(fmt, ap);
    va_end(ap);
    rt_err_set(type, v);
    Py_XDECREF(v);
    return NULL;
}

PyObject *PyErr_FormatV(PyObject *type, const char *fmt, va_list ap)
{
    RT_ENTER_VOID("PyErr_FormatV");
    va_list cp;
    va_copy(cp, ap);
    PyObject *v = rt_str_format(fmt, cp);
    va_end(cp);
    rt_err_set(type, v);
    Py_XDECREF(v);
    return NULL;
}

PyObject *PyErr_NoMemory(void)
{
    RT_ENTER_VOID("PyErr_NoMemory");
    return rt_err_nomem();
}

PyObject *PyErr_Occurred(void)
{
    RT_ENTER_VOID("PyErr_Occurred");
    return rt_state()->exc_type;
}

void PyErr_Clear(void)
{
    RT_ENTER_VOID("PyErr_Clear");
    rt_err_clear();
}

void PyErr_Fetch(PyObject **t, PyObject **v, PyObject **tb)
{
    RT_ENTER_VOID("PyErr_Fetch");
    rt_ctx *c = rt_state();
    *t = c->exc_type;
    *v = c->exc_value;
    *tb = c->exc_tb;
    c->exc_type = c->exc_value = c->exc_tb = NULL;
}

void PyErr_Restore(PyObject *t, PyObject *v, PyObject *tb)
{
    RT_ENTER_VOID("PyErr_Restore");
    rt_ctx *c = rt_state();
    PyObject *ot = c->exc_type, *ov = c->exc_value, *otb = c->exc_tb;
    c->exc_type = t;            /* the three references are stolen */
    c->exc_value = v;
    c->exc_tb = tb;
    Py_XDECREF(ot);
    Py_XDECREF(ov);
    Py_XDECREF(otb);
}

void PyErr_NormalizeException(PyObject **t, PyObject **v, PyObject **tb)
{
    RT_ENTER_VOID("PyErr_NormalizeException");
    if (!*t || !PyType_Check(*t))
        return;
    if (*v && rt_is_subtype(Py_TYPE(*v), (PyTypeObject *)*t))
        return;
    PyObject *args = !*v ? rt_tuple_new(0) : PyTuple_Check(*v) ? (Py_INCREF(*v), *v)
                                                               : rt_tuple_pack(1, *v);
    PyTypeObject *tp = (PyTypeObject *)*t;
    PyObject *inst = tp->tp_new ? tp->tp_new(tp, args, NULL) : NULL;
    Py_DECREF(args);
    if (inst) {
        Py_XDECREF(*v);
        *v = inst;
    }
}

int PyErr_ExceptionMatches(PyObject *exc)
{
    RT_ENTER_VOID("PyErr_ExceptionMatches");
    return rt_err_matches(rt_state()->exc_type, exc);
}

int PyErr_GivenExceptionMatches(PyObject *given, PyObject *exc)
{
    RT_ENTER_VOID("PyErr_GivenExceptionMatches");
    return rt_err_matches(given, exc);
}

int PyErr_BadArgument(void)
{
    RT_ENTER_VOID("PyErr_BadArgument");
    rt_err_setstr(PyExc_TypeError, "bad argument type for built-in operation");
    return 0;
}

void (PyErr_BadInternalCall)(void)
{
    RT_ENTER_VOID("PyErr_BadInternalCall");
    rt_err_badinternal("?");
}

void _PyErr_BadInternalCall(const char *filename, int lineno)
{
    RT_ENTER_VOID("_PyErr_BadInternalCall");
    rt_err_badinternal(filename);
}

void PyErr_WriteUnraisable(PyObject *obj)
{
    RT_ENTER_VOID("PyErr_WriteUnraisable");
    rt_err_clear();
}

void PyErr_Print(void)
{
    RT_ENTER_VOID("PyErr_Print");
    rt_err_clear();
}

void PyErr_PrintEx(int set_sys_last_vars)
{
    RT_ENTER_VOID("PyErr_PrintEx");
    rt_err_clear();
}

PyObject *PyErr_SetFromErrno(PyObject *type)
{
    RT_ENTER_VOID("PyErr_SetFromErrno");
    rt_err_setstr(type, strerror(errno));
    return NULL;
}

int PyErr_WarnEx(PyObject *category, const char *msg, Py_ssize_t stacklevel)
{
    RT_ENTER_INT("PyErr_WarnEx");
    return 0;
}

int PyErr_CheckSignals(void)
{
    RT_ENTER_INT("PyErr_CheckSignals");
    return 0;
}

PyObject *PyErr_NewException(const char *name, PyObject *base, PyObject *dict)
{
    RT_ENTER_PTR("PyErr_NewException");
    if (!base)
        base = PyExc_Exception;
    if (!PyType_Check(base)) {
        rt_err_setstr(PyExc_TypeError, "PyErr_NewException: base must be a type");
        return NULL;
    }
    PyTypeObject *b = (PyTypeObject *)base;
    return rt_heaptype_new(name, b, b->tp_basicsize,
                           Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE |
                           (b->tp_flags & Py_TPFLAGS_BASE_EXC_SUBCLASS));
}

PyObject *PyErr_NewExceptionWithDoc(const char *name, const char *doc, PyObject *base,
                                    PyObject *dict)
{
    RT_ENTER_PTR("PyErr_NewExceptionWithDoc");
    if (!base)
        base = PyExc_Exception;
    PyTypeObject *b = (PyTypeObject *)base;
    return rt_heaptype_new(name, b, b->tp_basicsize,
                           Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE |
                           (b->tp_flags & Py_TPFLAGS_BASE_EXC_SUBCLASS));
}

PyObject *PyException_GetTraceback(PyObject *e)
{
    RT_ENTER_VOID("PyException_GetTraceback");
    return NULL;
}
