/* rt_internal.h - declarations shared by the reference runtime's modules
 * (checker/runtime/rt_*.c).  Not for use by harnesses: they include prt.h.
 *
 * The CPython C API has no context parameter, so the runtime's state is one
 * process-wide rt_ctx reached through rt_state(); every module goes through
 * it, nothing else is mutable at file scope (the singletons and type objects
 * the ABI requires excepted).
 *
 * Discipline: the public API functions are thin wrappers that count the call,
 * apply the fault plan (RT_ENTER) and call rt_* internals; internals never
 * call public API functions, so a call the extension makes is counted once
 * and only its own calls can be made to fail.
 */
#ifndef PRC_RUNTIME_RT_INTERNAL_H
#define PRC_RUNTIME_RT_INTERNAL_H

/* No PY_SSIZE_T_CLEAN: the runtime defines both PyArg_ParseTuple and the
 * _SizeT names it stands for in extensions. */
#include <Python.h>
#include <structmember.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kb/kb.h"

#if PY_VERSION_HEX >= 0x030C0000
#error "the reference runtime implements the object layouts of Python <= 3.11"
#endif

/* ---- object registry (rt_object.c) ------------------------------------- */

#define RT_HIST 8            /* refcount-history events kept per object */

typedef struct rt_event {
    const char *what;        /* "alloc", "dealloc", "decref-dead", ... */
    const char *api;         /* API call in progress */
    int api_n;               /* its occurrence */
    Py_ssize_t refcnt;       /* count at the event */
} rt_event;

typedef struct rt_obj {
    PyObject *op;            /* the object (never reused: nothing is freed) */
    size_t size;             /* bytes of the object from op (no GC prefix) */
    const char *type_name;   /* tp_name when allocated (kept after death) */
    const char *api;         /* allocating API, "prt_arg", "static" */
    int api_n;               /* occurrence of that API call */
    bool alive;              /* false once quarantined */
    bool is_static;          /* a runtime singleton, never deallocated */
    bool pre;                /* existed at prt_call_begin */
    bool reported;           /* an outcome line was written for it */
    unsigned dead_use;       /* RT_USE_* bits seen after death */
    Py_ssize_t ext_begin;    /* references from outside known holders at begin */
    Py_ssize_t internal;     /* scratch: references from live objects */
    Py_ssize_t global;       /* scratch: references from data/PyMem blocks */
    Py_ssize_t dangling;     /* scratch: live references to it while dead */
    Py_ssize_t stale;        /* scratch: words of live extension objects still
                                pointing at it while dead */
    int nhist;               /* events recorded (the first RT_HIST kept) */
    rt_event hist[RT_HIST];
} rt_obj;

enum { RT_USE_INCREF = 1, RT_USE_DECREF = 2, RT_USE_ACCESS = 4 };

/* One PyMem_* / PyObject_Malloc block (rt_mem.c). */
typedef struct rt_mem {
    void *ptr;
    size_t size;
} rt_mem;

/* A fault-plan item. */
typedef struct rt_fault_item {
    char name[96];           /* API name, or "" for a #K item */
    long n;                  /* occurrence to fail (NAME:N) or K (#K) */
} rt_fault_item;

/* Per-API call counter (NAME:N numbering). */
typedef struct rt_count {
    const char *name;        /* the wrapper's string literal (the symbol) */
    char plain[96];          /* the C API name: no leading '_', no "_SizeT" */
    long n;                  /* calls since prt_call_begin */
} rt_count;

typedef struct rt_ctx {
    bool inited;
    int out_fd;              /* PRT_OUT */
    bool trace;              /* PRT_TRACE=1 */
    kb *kb;                  /* the knowledge base (NULL: nothing fallible) */
    rt_fault_item faults[64];
    int nfaults;
    long fallible;           /* fallible calls so far (#K numbering) */
    rt_count *counts;        /* per-API counters, linear (few distinct APIs) */
    int ncounts, capcounts;
    const char *cur_api;     /* API in progress (allocation attribution) */
    int cur_api_n;
    void *cur_site;          /* call site of that API (in the caller's code) */
    /* registry */
    rt_obj *objs;
    size_t nobjs, capobjs;
    size_t *hash;            /* open addressing: index+1, 0 empty */
    size_t hashcap;
    /* PyMem blocks */
    rt_mem *mems;
    size_t nmems, capmems;
    /* the exception state (owned references) */
    PyObject *exc_type, *exc_value, *exc_tb;
    /* interned strings (one owned reference each) */
    PyObject **interned;
    size_t ninterned, capinterned;
    int problems;            /* outcome lines written (not "ok") */
    int problems_at_begin;   /* problems when prt_call_begin ran */
    bool in_call;            /* between prt_call_begin and prt_call_end */
    PyObject *released_result; /* result released by prt_call_end */
    void *tstate;            /* the stand-in PyThreadState (rt_module.c) */
    struct rt_imports *imports; /* module-state table and sys.modules (rt_import.c) */
    const char *const *literals; /* the file's string literals (prt_set_literals) */
    int nliterals;
    /* the trap region of dead objects (rt_object.c): PROT_NONE slots */
    char *trap;              /* NULL when not mapped (rt_dead_type is used) */
    size_t trap_slots;       /* number of RT_TRAP_STRIDE-byte slots */
    size_t *trap_owner;      /* per slot: registry index + 1 of its newest
                                dead object, 0 for none */
    bool trap_tried;         /* rt_trap_init ran */
} rt_ctx;

/* The runtime's state (see the top of this file). */
rt_ctx *rt_state(void);

/* Allocates a zeroed object of type tp with nitems items (var objects: sets
 * ob_size), refcount 1, registered under the current API; increfs a heap
 * type.  extra: bytes added after tp_basicsize + nitems*itemsize.  Aborts the
 * process (prints "prt: error out of memory") if malloc fails. */
PyObject *rt_alloc(PyTypeObject *tp, Py_ssize_t nitems, size_t extra);
/* Same, with the size in bytes given (str objects); ob_size left 0. */
PyObject *rt_alloc_size(PyTypeObject *tp, size_t size);
/* Registers a static object (singleton) as existing forever. */
void rt_register_static(PyObject *op, const char *name);
/* Marks op as existing before the call with its present references as
 * the baseline (a static type first readied during the call). */
void rt_baseline(PyObject *op);
/* The record of op, or NULL when op is not a registered object. */
rt_obj *rt_find(const void *op);
/* Maps the trap region (once; prt_init or the first quarantine).  On
 * failure c->trap stays NULL and dead objects get rt_dead_type instead. */
void rt_trap_init(rt_ctx *c);
/* Quarantines op: gives it a slot of the trap region, points its type and
 * every word of its body at that slot, ob_size 0 (idempotent). */
void rt_quarantine(PyObject *op);
/* o is a dead object (its type pointer is a trap slot or rt_dead_type) or a
 * pointer into the trap region (read from a dead body).  Reads o->ob_type
 * only when o is outside the trap region; never dereferences the type. */
bool rt_is_dead(const void *o);
/* The record of the dead object owning the trap slot addr lies in, or NULL
 * when addr is outside the trap region or the slot has no owner. */
rt_obj *rt_trap_owner(const void *addr);
/* Records a use of op; when op is dead, reports use-after-release (once per
 * object) and returns false; a pointer into the trap region (read from a
 * dead body) counts as a use of the slot's object.  NULL and other
 * unregistered pointers are "live". */
bool rt_use(PyObject *op, unsigned what);
/* Adds an event to op's history (no-op for unregistered objects). */
void rt_history(PyObject *op, const char *what);
/* Writes one outcome line "prt: ..." (printf format) to PRT_OUT. */
void rt_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes "prt: error MSG" and _exit(4). */
void rt_die(const char *msg) __attribute__((noreturn));
/* Calls fn(ref, precise, arg) for every object reference op holds: precise
 * for the runtime's types, a conservative word scan (precise false: the word
 * may be a stale pointer) for others. */
void rt_refs(PyObject *op, void (*fn)(PyObject *ref, bool precise, void *arg), void *arg);
/* The type of dead objects when the trap region could not be mapped: its
 * slots report use-after-release. */
extern PyTypeObject rt_dead_type;

/* ---- fault injection (rt_fault.c) ---------------------------------------- */

/* Counts a call of API name made from site; returns true when the call must
 * fail (fault plan).  not_fallible: this call cannot fail (a cached small
 * int).  Sets the allocation attribution.  Lazily initialises the runtime. */
bool rt_enter(const char *name, void *site, bool not_fallible);
/* Failure helpers: set the exception the failure carries (MemoryError) when
 * the knowledge base says the failure sets one, and return the value. */
PyObject *rt_fail_ptr(const char *name);
int rt_fail_int(const char *name);
void rt_fault_init(rt_ctx *c);
/* Restarts the NAME:N and #K numbering (prt_call_begin). */
void rt_fault_reset(rt_ctx *c);

#define RT_SITE __builtin_return_address(0)
/* Opening line of a public wrapper returning PyObject * or void *. */
#define RT_ENTER_PTR(name) \
    do { if (rt_enter(name, RT_SITE, false)) return (void *)rt_fail_ptr(name); } while (0)
#define RT_ENTER_INT(name) \
    do { if (rt_enter(name, RT_SITE, false)) return rt_fail_int(name); } while (0)
/* Same when the call can fail only for some arguments: with these ones it
 * cannot (a valid index, an int in range), so it is neither fallible nor
 * made to fail (the failure branch would be infeasible in CPython too). */
#define RT_ENTER_PTR_IF(name, can_fail) \
    do { if (rt_enter(name, RT_SITE, !(can_fail))) return (void *)rt_fail_ptr(name); } while (0)
#define RT_ENTER_INT_IF(name, can_fail) \
    do { if (rt_enter(name, RT_SITE, !(can_fail))) return rt_fail_int(name); } while (0)
/* o is a live object of exactly one of the runtime's own types. */
bool rt_is_builtin(PyObject *o);
/* For APIs that cannot fail in the runtime (counted only). */
#define RT_ENTER_VOID(name) ((void)rt_enter(name, RT_SITE, true))

/* ---- exceptions (rt_err.c) --------------------------------------------- */

void rt_err_set(PyObject *type, PyObject *value);       /* borrows both */
void rt_err_setstr(PyObject *type, const char *msg);
void rt_err_format(PyObject *type, const char *fmt, ...);
PyObject *rt_err_nomem(void);                            /* NULL */
void rt_err_clear(void);
bool rt_err_matches(PyObject *given, PyObject *exc);
void rt_err_badinternal(const char *where);              /* SystemError */
/* A NULL argument reached the API in progress: writes "prt: null-argument API
 * site=ADDR" during the call (CPython raises SystemError or crashes; the
 * caller then sets the exception the API would). */
void rt_null_arg(void);

/* ---- types and the object protocol (rt_types.c, rt_abstract.c) -------- */

bool rt_is_subtype(PyTypeObject *a, PyTypeObject *b);
int rt_type_ready(PyTypeObject *tp);
PyObject *rt_generic_alloc(PyTypeObject *tp, Py_ssize_t n);
PyObject *rt_repr(PyObject *o);
PyObject *rt_str(PyObject *o);
Py_hash_t rt_hash(PyObject *o);
int rt_eq(PyObject *a, PyObject *b);                    /* 1, 0, -1 */
PyObject *rt_richcompare(PyObject *a, PyObject *b, int op);
int rt_truth(PyObject *o);
PyObject *rt_getattr(PyObject *o, PyObject *name);
PyObject *rt_getattr_str(PyObject *o, const char *name);
int rt_setattr(PyObject *o, PyObject *name, PyObject *v);
PyObject *rt_call(PyObject *callable, PyObject *args, PyObject *kw);
PyObject *rt_call_vec(PyObject *callable, PyObject *const *args, size_t n);
PyObject *rt_getiter(PyObject *o);
PyObject *rt_iternext(PyObject *it);                     /* NULL: end or error */
Py_ssize_t rt_size(PyObject *o);
PyObject *rt_getitem(PyObject *o, PyObject *key);
int rt_setitem(PyObject *o, PyObject *key, PyObject *v);
PyObject *rt_cfunction_new(PyMethodDef *ml, PyObject *self, PyObject *module);
PyObject *rt_type_name_obj(PyTypeObject *tp, bool qual);
PyObject *rt_heaptype_new(const char *name, PyTypeObject *base, Py_ssize_t basicsize,
                          unsigned long flags);
PyObject *rt_binop(PyObject *a, PyObject *b, int op);    /* '+', '*', '-' ... */
/* A fresh argument of a probe kind ("probe", "probe-int", "probe-dict",
 * "dict-full", "str-long", "list0"; rt_probe.c), or NULL when kind is none of them. */
PyObject *rt_probe_arg(const char *kind);
/* Runs make(ctx) with its allocations attributed to "prt_arg" (the next
 * occurrence), as the harness's own set-up objects; returns its result. */
PyObject *rt_as_arg(PyObject *(*make)(const void *ctx), const void *ctx);
/* The "dict" argument kind: {"key": 1000, 1000: "spam"} (keys of the "key"
 * kind and of the "list" kind's first item), each value held by it alone. */
PyObject *rt_dict_sample(void);
extern PyTypeObject rt_seqiter_type;
/* An iterator over a tuple, list, dict (keys), set or str. */
PyObject *rt_seqiter_new(PyObject *seq);

/* ---- int, bool, float (rt_long.c) ------------------------------------- */

PyObject *rt_long_from_ll(long long v);
PyObject *rt_long_from_ull(unsigned long long v);
bool rt_long_is_small(long long v);
/* Value of an int object; *overflow set (not an error) when it does not fit. */
long long rt_long_value(PyObject *o, int *overflow);
PyObject *rt_float_new(double v);
PyObject *rt_bool(long v);                                /* new reference */
PyObject *rt_number_index(PyObject *o);                   /* new ref or NULL+exc */
long long rt_as_ll(PyObject *o, int *err);               /* via __index__ */
double rt_as_double(PyObject *o, int *err);

/* ---- str, bytes (rt_str.c) ---------------------------------------------- */

PyObject *rt_str_from_utf8(const char *s, Py_ssize_t n); /* NULL+exc on bad UTF-8 */
PyObject *rt_str_from_cstr(const char *s);
PyObject *rt_str_from_ucs4(const Py_UCS4 *u, Py_ssize_t n);
const char *rt_str_utf8(PyObject *s, Py_ssize_t *len);   /* NULL+exc if not str */
PyObject *rt_str_concat(PyObject *a, PyObject *b);
PyObject *rt_str_format(const char *fmt, va_list ap);
PyObject *rt_bytes_new(const char *s, Py_ssize_t n);
PyObject *rt_str_intern(const char *s);
PyObject *rt_str_repeat(PyObject *s, Py_ssize_t n);
bool rt_str_eq_cstr(PyObject *s, const char *c);

/* ---- containers (rt_containers.c) -------------------------------------- */

typedef struct rt_dict {
    PyDictObject d;          /* the header layout (ma_used is kept up to date) */
    PyObject **keys;
    PyObject **vals;
    Py_ssize_t cap;
} rt_dict;

typedef struct rt_set {
    PySetObject s;           /* the header layout (used is kept up to date) */
    PyObject **items;
    Py_ssize_t cap;
} rt_set;

PyObject *rt_tuple_new(Py_ssize_t n);
PyObject *rt_tuple_pack(Py_ssize_t n, ...);              /* increfs the items */
PyObject *rt_list_new(Py_ssize_t n);
int rt_list_append(PyObject *l, PyObject *v);
PyObject *rt_dict_new(void);
PyObject *rt_dict_get(PyObject *d, PyObject *key, int *err); /* borrowed */
PyObject *rt_dict_get_str(PyObject *d, const char *key);     /* borrowed */
int rt_dict_set(PyObject *d, PyObject *key, PyObject *v);
int rt_dict_set_str(PyObject *d, const char *key, PyObject *v);
int rt_dict_del(PyObject *d, PyObject *key);                 /* -1 + KeyError */
void rt_dict_clear(PyObject *d);
PyObject *rt_set_new(PyTypeObject *tp);
int rt_set_add(PyObject *s, PyObject *v);
int rt_set_contains(PyObject *s, PyObject *v);
int rt_set_discard(PyObject *s, PyObject *v);           /* 1 removed, 0 absent, -1 */
PyObject *rt_seq_to_list(PyObject *o);                   /* new list or NULL+exc */
PyObject *rt_seq_to_tuple(PyObject *o);
int rt_contains(PyObject *o, PyObject *v);

/* ---- argument parsing and building (rt_args.c) ------------------------- */

PyObject *rt_build(const char *fmt, va_list *ap, bool ssize);
PyObject *rt_build_args(const char *fmt, va_list *ap, bool ssize); /* always a tuple */

/* ---- modules (rt_module.c) --------------------------------------------- */

typedef struct rt_module {
    PyObject_HEAD
    PyObject *md_dict;
    PyModuleDef *md_def;
    void *md_state;
    PyObject *md_name;
    bool md_standin;         /* an imported stand-in (rt_import.c): a missing
                                attribute is made on first access */
} rt_module;

/* A module for def (methods added, state allocated); NULL + exception. */
PyObject *rt_module_create(PyModuleDef *def);
/* A fresh module named name, its dict holding __name__ (never NULL). */
PyObject *rt_module_new(const char *name);
/* PyModuleDef_Init's work: on def's first use gives it its type and the
 * next module index (rt_import_next_index); returns def. */
PyObject *rt_moddef_init(PyModuleDef *def);

/* ---- module-state table, sys.modules, capsules (rt_import.c, rt_capsule.c) */

/* A new reference to the (stand-in) module name, made and put in
 * sys.modules when missing; NULL + exception. */
PyObject *rt_import_module(const char *name);
/* The next m_index for a module definition (1, 2, ...). */
Py_ssize_t rt_import_next_index(void);
/* The attribute name of the stand-in module mod made on its first access
 * (a fresh probe stored in mod's dict): a new reference, NULL + exception. */
PyObject *rt_import_standin_attr(PyObject *mod, PyObject *name);
/* Calls fn(ref, true, arg) for every reference the module-state table and
 * sys.modules hold (leak accounting: rt_account). */
void rt_import_refs(void (*fn)(PyObject *ref, bool precise, void *arg), void *arg);

/* ---- memory (rt_mem.c) ------------------------------------------------- */

void *rt_mem_alloc(size_t n, bool zero);
void *rt_mem_realloc(void *p, size_t n);
bool rt_mem_free(void *p);                               /* false: not a block */
/* Calls fn for every live block. */
void rt_mem_each(void (*fn)(void *p, size_t n, void *arg), void *arg);

#endif
