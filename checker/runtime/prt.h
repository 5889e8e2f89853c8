/* prt.h - control interface of the reference runtime (libprc_runtime.a), for
 * the harnesses the validation driver generates.  Include after Python.h.
 *
 * The runtime implements a subset of the CPython C API ABI under the real
 * symbol names, so an extension's .c file compiles unmodified against the
 * real headers and links against the runtime.  Every object it allocates is
 * registered (allocation site, type, reference-count history); deallocated
 * objects are quarantined, never freed.  prt_init() reserves a 16 MB
 * PROT_NONE "trap region" (address space only) cut into 1 KB slots; a dead
 * object gets a slot (its registry index modulo the slot count, the newest
 * dead object owning it), its type pointer and every word of its body are
 * set to the slot's address, and a var object's ob_size to 0.  So the
 * extension's own reads through a dead object fault inside its slot:
 * Py_TYPE(dead)->tp_name, an item read from a dead tuple then touched, a
 * dead type's tp_name strlen'ed.  The crash handler then writes the
 * use-after-release line of the slot's object (below) before "prt: crash".
 * A dead object (or a pointer into the trap region) passed to an API is
 * reported without a fault, as before.  The object header stays readable
 * and writable: Py_INCREF / Py_DECREF of a dead object are counted and
 * reported by the runtime.  If the region cannot be mapped, dead objects
 * fall back to a "dead object" type whose slots report use-after-release
 * and body words pointing back at the object.
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
 * Unsupported by design: ints beyond 64 bits raise OverflowError.
 *
 * Imports, module state and capsules (rt_import.c, rt_capsule.c): no Python
 * code runs, so an import (PyImport_ImportModule, PyImport_Import,
 * PyImport_ImportModuleLevel(Object), PyCapsule_Import's module part)
 * returns a "stand-in module" for any name: a fresh module kept in a
 * sys.modules table (a second import returns the same module, a new
 * reference each time; "a.b" also makes "a" and sets its attribute "b";
 * without a fromlist __import__ returns the top package).  A stand-in's
 * missing attribute is made on first access as a fresh probe (see
 * prt_arg's "probe") stored in the module's dict, so the module owns it.
 * PyImport_GetModule looks in that table (NULL, no exception, when absent);
 * PyImport_AddModule(Object) adds a plain module there.  An imported module
 * is allocated-by the import call; a leaked one shows refcnt=2 (the table
 * holds one).  PyCapsule_Import of a stand-in finds a probe, not a capsule:
 * AttributeError "PyCapsule_Import "NAME" is not valid", as in CPython.
 * PyState_AddModule / FindModule / RemoveModule use a per-process table
 * indexed by m_base.m_index, given on a definition's first use
 * (PyModuleDef_Init, PyModule_Create2, PyModule_FromDefAndSpec2).  The
 * references both tables hold count as held in the leak accounting.  The
 * harness does not add the module its PyInit_ returns to the state table
 * (CPython's import does for single-phase modules): PyState_FindModule
 * finds only what the code under test added.  Capsules (PyCapsule_Type,
 * tp_name "PyCapsule") run their destructor when they die.
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

/* For a SIGSEGV/SIGBUS handler (si_addr): when addr lies in the slot of a
 * dead object in the trap region, writes "prt: use-after-release TYPE
 * allocated-by API#N (what: access)" for that object (once per object, like
 * every use-after-release line) and returns 1; otherwise returns 0 and
 * writes nothing.  Async-signal-safe (write(2) only, no allocation).  The
 * runtime's own handler calls it; a harness that installs its own handler
 * after prt_init() should call it too. */
int prt_fault_address(const void *addr);

#ifdef __cplusplus
}
#endif
#endif
