/* prt.h - control interface of the reference runtime (libprc_runtime.a), for
 * the harnesses the validation driver generates.  Include after Python.h.
 *
 * The runtime implements a subset of the CPython C API ABI under the real
 * symbol names, so an extension's .c file compiles unmodified against the
 * real headers and links against the runtime.  Every object it allocates is
 * registered (allocation site, type, reference-count history); deallocated
 * objects are quarantined, never freed: their memory is poisoned (every word
 * of the body points back at the object, so a stale pointer read from it
 * leads to the dead object again) and their type pointer redirected to a
 * "dead object" type whose slots report use-after-release.
 *
 * Environment read by prt_init():
 *   PRT_RULES_DIR  the rules/ directory (which calls are fallible and how they
 *                  fail); default: the source tree's rules/ at build time
 *   PRT_FAULTS     the fault plan: comma-separated NAME:N (the N-th call,
 *                  1-based, of API NAME fails) or #K (the K-th fallible call
 *                  of any API fails).  NAME may be the symbol
 *                  (_PyArg_ParseTuple_SizeT) or the name without the leading
 *                  '_' and the "_SizeT" suffix (PyArg_ParseTuple).
 *   PRT_TRACE=1    one line per fallible call: "prt: call K NAME site=0xADDR"
 *   PRT_OUT        file descriptor for outcome lines (default 2)
 *
 * Outcome lines (written to PRT_OUT, each "prt: ..."):
 *   prt: leak TYPE allocated-by API#N refcnt=R
 *   prt: use-after-release TYPE allocated-by API#N (what: incref|decref|access)
 *   prt: negative-refcount TYPE allocated-by API#N
 *   prt: borrowed-return TYPE
 *   prt: null-without-exception
 *   prt: unsupported NAME
 *   prt: ok
 * API#N is the API whose call allocated the object and the occurrence of that
 * call (1-based, counted like NAME:N of the fault plan); objects made by
 * prt_arg() say "prt_arg#N", the runtime's singletons "static#0".
 *
 * Numbering (answers D2's requests): NAME:N and #K count only calls made
 * between prt_call_begin() and prt_call_end(); calls made while setting up
 * arguments or self never fail and are not numbered (their objects say
 * "API#0").  Calls the runtime makes internally (PyObject_CallMethod looking
 * the method up) are not API calls.  A call is fallible when its
 * knowledge-base entry has fail != never; a cached small int
 * (PyLong_FromLong(-5..256), the small-int key) is not.
 * NAME in trace and outcome lines is the C API name: a symbol a public macro
 * expands to is named by the macro when rules/ knows it
 * (_Py_BuildValue_SizeT -> Py_BuildValue, _PyObject_New -> PyObject_New,
 * _PyArg_ParseTuple_SizeT -> PyArg_ParseTuple); a plan may use either name.
 * A failing call sets MemoryError when its entry says the failure sets an
 * exception (fail-exc), nothing otherwise (PyMem_Malloc, PyDict_GetItem),
 * and still steals what the API always steals (PyList_SetItem's item).
 * Link with: libprc_runtime.a -lm -ldl (dl_iterate_phdr) -lpthread.
 * Unsupported by design: imports (PyImport_* write "prt: unsupported NAME"
 * and _exit(3)); ints beyond 64 bits raise OverflowError.
 *
 * ADDITIONS to the interface fixed by the lead (for the validation driver):
 *   - "prt: fault K NAME site=0xADDR" is written (with PRT_TRACE=1) right after
 *     the trace line of a call the plan made fail.
 *   - "prt: crash signal=N" is written by a SIGSEGV/SIGBUS/SIGFPE/SIGILL/SIGABRT
 *     handler installed by prt_init(), which then re-raises the signal with
 *     its default action (the child still dies by that signal).
 *   - use-after-release lines are written as soon as the runtime sees the use
 *     (a dead object passed to an API, deallocated again), so they survive a
 *     later crash; prt_call_end() still counts them in its result.
 *   - negative-refcount is also reported for an object that existed before the
 *     call and was released more times than it was acquired during the call
 *     (its holders' own releases would take its count below zero), including
 *     one freed during the call while its creator still held it.
 *   - "prt: null-argument NAME site=0xADDR": NULL reached API NAME, called from
 *     ADDR, during the call (CPython raises SystemError there or crashes).
 *   - int prt_problems(void): problems seen so far (for tests).
 *   - "neg-int" is -1 (the value C API calls return on error).
 *   - prt_arg kinds "module" (a fresh module "prt_module" with a dict),
 *     "callable" (a built-in function returning a fresh int 1000+nargs, or
 *     a fresh str when called without arguments) and "gen" (an iterator yielding three
 *     fresh objects nothing else holds, like a generator: borrowed items of
 *     a list built from it die with the list).
 *   - "allocated-by" names the symbol's API name (see Numbering): a module
 *     made by PyModule_Create(...) says PyModule_Create2 (the macro's
 *     function, whose name does not start with '_').
 */
#ifndef PRC_RUNTIME_PRT_H
#define PRC_RUNTIME_PRT_H

#ifndef Py_PYTHON_H
#error "include Python.h before prt.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define PRT_RET_OBJECT 0   /* the function returns PyObject * */
#define PRT_RET_INT    1   /* the function returns int (-1 = error) */
#define PRT_RET_VOID   2   /* the function returns nothing */

/* Reads the environment (see above), loads the knowledge base and installs
 * the crash handler.  On a bad PRT_FAULTS or unreadable rules it writes
 * "prt: error MESSAGE" and _exit(4).  Call once, first. */
void prt_init(void);

/* A new reference to a fresh argument object of the given kind ("none",
 * "int", "neg-int", "float", "str", "bytes", "tuple0".."tuple3", "list",
 * "dict", "set", "object", "type", "module", "callable", "gen", and the
 * stand-ins of rt_probe.c: "probe" (callable, iterable, subscriptable,
 * usable in arithmetic, each result a fresh probe; every attribute a fresh
 * probe), "probe-int" and "probe-dict" (the same, with every attribute a
 * fresh int / a fresh "dict-full"), "dict-full" ({"key": 1000, 1000:
 * "spam"} and every registered literal mapped to a fresh float), "str-long" (200
 * characters), "list0" (an empty list)).  NULL for an unknown kind.  Allocations
 * made here never fail and are not counted as API calls. */
PyObject *prt_arg(const char *kind);

/* Registers string literals (static storage, kept by pointer) that the
 * "dict-full" kind and the attributes of "probe-dict" hold as keys: the
 * harness passes those of the file under test. */
void prt_set_literals(const char *const *literals, int n);

/* Sets a pending exception as if an earlier call had failed: a fresh heap
 * exception type prt.PendingError, a fresh instance of it and a fresh
 * object standing for the traceback, owned by the exception state alone and
 * attributed to "prt_arg" (for helpers called while an error is being
 * handled).  Call right before prt_call_begin(). */
void prt_set_exception(void);

/* Snapshot: every object alive now existed before the call. */
void prt_call_begin(void);

/* Checks the outcome of the call (ret_kind PRT_RET_*; result and ret_int the
 * returned value), releases the result if it is an object, as a caller
 * would, and writes the outcome lines (or "prt: ok").  Returns the number of
 * problems found, those reported during the call included. */
int prt_call_end(PyObject *result, int ret_kind, long ret_int);

/* Writes "prt: unsupported NAME" and _exit(3). */
void prt_unsupported(const char *name);

/* Problems reported so far (outcome lines other than "ok"). */
int prt_problems(void);

#ifdef __cplusplus
}
#endif
#endif
