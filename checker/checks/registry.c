/* registry.c - the table of rules: ids, texts, and hooks. */
#include "checks.h"

#include <string.h>

static const ck_rule ck_table[] = {
    { "leak", "warning",
      "An owned reference is lost on some path: not returned, stored, stolen or released.",
      "Release the reference (Py_DECREF / Py_XDECREF, often in a shared `error:` block) on every "
      "path that does not hand it on, or store or return it.",
      ck_leak, NULL, NULL },
    { "use-after-release", "error",
      "An object is used after the references keeping it alive were released.",
      "Move the Py_DECREF after the last use, or keep a reference (Py_INCREF / Py_NewRef) while "
      "the object is needed; a borrowed item dies with its container.",
      ck_use_after_release, NULL, NULL },
    { "over-release", "error",
      "A reference that is not owned is released or handed to a stealing API.",
      "Only release references you own: new references from the API, or ones you took with "
      "Py_INCREF.  Take a reference (Py_INCREF / Py_NewRef) before giving a borrowed object to "
      "PyTuple_SET_ITEM, PyList_SetItem or PyModule_AddObject.",
      ck_over_release, NULL, NULL },
    { "borrowed-return", "warning",
      "A function returning a new reference returns a borrowed one.",
      "Return Py_NewRef(obj) (or Py_INCREF it first); mark helpers that really return borrowed "
      "references with PYREFCHECK_RETURNS_BORROWED.",
      ck_borrowed_return, NULL, NULL },
    { "null-deref", "error",
      "A possibly-NULL value is dereferenced or passed where NULL is not allowed.",
      "Check the result for NULL (and propagate the error) before using it; use Py_XDECREF for "
      "values that may be NULL.",
      ck_null_deref, NULL, NULL },
    { "null-without-exception", "warning",
      "A Python-callable function returns NULL (or -1) with no exception set.",
      "Set an exception (PyErr_SetString, PyErr_Format, ...) before returning the error value, "
      "or return a real value when nothing went wrong.",
      ck_null_without_exception, NULL, NULL },
    { "api-without-gil", "error",
      "A Python C API call (or Py_INCREF / Py_DECREF) is made while the GIL may be released.",
      "Between Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS (or PyEval_SaveThread and "
      "PyEval_RestoreThread) use only plain C data: copy what you need out of Python objects "
      "before releasing the GIL, and take it back (Py_END_ALLOW_THREADS, or Py_BLOCK_THREADS on "
      "an early exit) before touching objects, raising or returning.  Code that runs without "
      "the GIL (callbacks, threads) must call PyGILState_Ensure first.",
      NULL, NULL, ck_api_without_gil },
    { "format-mismatch", "error",
      "A call's arguments do not match its format string (PyArg_ParseTuple, Py_BuildValue, "
      "PyErr_Format, ...), or the format itself is invalid.",
      "Pass one argument of the documented C type per format unit (`i`: int *, `n`: "
      "Py_ssize_t *, `s#`: const char ** and Py_ssize_t *, `O!`: the type object then a "
      "PyObject **); for PyArg_ParseTupleAndKeywords end the keyword list with NULL and give one "
      "name per unit.",
      NULL, NULL, ck_format_mismatch },
    { "methoddef-signature", "error",
      "A function in a method table or type slot does not have the signature its flags or slot "
      "call it with, or a method table lacks its sentinel.",
      "Declare the function with the parameters the convention passes (METH_NOARGS / METH_O: "
      "self and one object; METH_VARARGS|METH_KEYWORDS: self, args, kwargs; METH_FASTCALL: "
      "self, PyObject *const *args, Py_ssize_t nargs), or change ml_flags to match it; end "
      "PyMethodDef, PyGetSetDef and PyMemberDef arrays with {NULL}.",
      NULL, ck_methoddef_signature, NULL },
    { NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};

const ck_rule *ck_rules(void)
{
    return ck_table;
}

const ck_rule *ck_rule_find(const char *id)
{
    for (const ck_rule *r = ck_table; r->id; r++)
        if (strcmp(r->id, id) == 0)
            return r;
    return NULL;
}
