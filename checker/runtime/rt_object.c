/* rt_object.c - the object registry of the reference runtime: allocation
 * with a record per object (site, type, refcount history), _Py_Dealloc,
 * quarantine of dead objects (type pointer and body redirected to a
 * PROT_NONE slot of the trap region, so any read through them faults; the
 * "dead object" type whose slots report use-after-release when the region
 * could not be mapped), reference enumeration, outcome lines.
 */
#include "rt_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The trap region: 16 MB of address space, nothing committed (the
 * validation child's RLIMIT_AS is far larger), in slots wide enough for a
 * heap type object, so any field of Py_TYPE(dead) or of an object pointer
 * read from a dead body lies inside the dead object's own slot. */
#define RT_TRAP_BYTES ((size_t)16 << 20)
#define RT_TRAP_STRIDE ((size_t)1024)
_Static_assert(sizeof(PyHeapTypeObject) <= RT_TRAP_STRIDE, "trap slot smaller than a type");

/* The one process-wide state (rt_internal.h explains why). */
static rt_ctx rt_the_ctx = { .out_fd = 2 };

rt_ctx *rt_state(void)
{
    return &rt_the_ctx;
}

void rt_out(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(rt_the_ctx.out_fd, p, (size_t)n);
        if (w <= 0)
            break;
        p += w;
        n -= (int)w;
    }
}

void rt_die(const char *msg)
{
    rt_out("prt: error %s", msg);
    _exit(4);
}

/* ---- registry -------------------------------------------------------------- */

static size_t rt_hash_ptr(const void *p, size_t cap)
{
    uintptr_t x = (uintptr_t)p;
    x ^= x >> 17;
    x *= 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 7) & (cap - 1);
}

static void rt_hash_insert(rt_ctx *c, size_t idx)
{
    size_t h = rt_hash_ptr(c->objs[idx].op, c->hashcap);
    while (c->hash[h])
        h = (h + 1) & (c->hashcap - 1);
    c->hash[h] = idx + 1;
}

static void rt_hash_grow(rt_ctx *c)
{
    size_t ncap = c->hashcap ? c->hashcap * 2 : 1024;
    free(c->hash);
    c->hash = calloc(ncap, sizeof *c->hash);
    if (!c->hash)
        rt_die("out of memory");
    c->hashcap = ncap;
    for (size_t i = 0; i < c->nobjs; i++)
        rt_hash_insert(c, i);
}

rt_obj *rt_find(const void *op)
{
    rt_ctx *c = &rt_the_ctx;
    if (!op || !c->hashcap)
        return NULL;
    size_t h = rt_hash_ptr(op, c->hashcap);
    while (c->hash[h]) {
        rt_obj *r = &c->objs[c->hash[h] - 1];
        if (r->op == op)
            return r;
        h = (h + 1) & (c->hashcap - 1);
    }
    return NULL;
}

static rt_obj *rt_register(PyObject *op, size_t size, const char *api, int api_n)
{
    rt_ctx *c = &rt_the_ctx;
    if (c->nobjs == c->capobjs) {
        size_t ncap = c->capobjs ? c->capobjs * 2 : 1024;
        rt_obj *n = realloc(c->objs, ncap * sizeof *n);
        if (!n)
            rt_die("out of memory");
        c->objs = n;
        c->capobjs = ncap;
    }
    if ((c->nobjs + 1) * 2 > c->hashcap)
        rt_hash_grow(c);
    rt_obj *r = &c->objs[c->nobjs];
    memset(r, 0, sizeof *r);
    r->op = op;
    r->size = size;
    r->type_name = Py_TYPE(op) && Py_TYPE(op)->tp_name ? Py_TYPE(op)->tp_name : "?";
    r->api = api;
    r->api_n = api_n;
    r->alive = true;
    rt_hash_insert(c, c->nobjs);
    c->nobjs++;
    return r;
}

void rt_history(PyObject *op, const char *what)
{
    rt_obj *r = rt_find(op);
    if (!r)
        return;
    if (r->nhist < RT_HIST) {
        rt_event *e = &r->hist[r->nhist];
        e->what = what;
        e->api = rt_the_ctx.cur_api;
        e->api_n = rt_the_ctx.cur_api_n;
        e->refcnt = r->alive ? Py_REFCNT(op) : op->ob_refcnt;
    }
    r->nhist++;
}

/* Objects get a zeroed PyGC_Head-sized prefix so the GC macros of the
 * headers (_PyObject_GC_IS_TRACKED) read valid memory. */
#define RT_GC_PREFIX (2 * sizeof(void *))   /* sizeof(PyGC_Head), internal in 3.11 */

PyObject *rt_alloc(PyTypeObject *tp, Py_ssize_t nitems, size_t extra)
{
    if (nitems < 0)
        nitems = 0;
    size_t size = (size_t)tp->tp_basicsize + (size_t)nitems * (size_t)tp->tp_itemsize + extra;
    PyObject *op = rt_alloc_size(tp, size);
    if (tp->tp_itemsize)
        ((PyVarObject *)op)->ob_size = nitems;
    return op;
}

PyObject *rt_alloc_size(PyTypeObject *tp, size_t size)
{
    if (!(tp->tp_flags & Py_TPFLAGS_READY))
        rt_type_ready(tp);       /* CPython needs it too; avoids a NULL tp_free */
    if (size < sizeof(PyObject))
        size = sizeof(PyObject);
    size = (size + 7) & ~(size_t)7;
    char *block = calloc(1, RT_GC_PREFIX + size);
    if (!block)
        rt_die("out of memory");
    PyObject *op = (PyObject *)(block + RT_GC_PREFIX);
    op->ob_refcnt = 1;
    op->ob_type = tp;
    if (tp->tp_flags & Py_TPFLAGS_HEAPTYPE)
        Py_INCREF(tp);
    rt_ctx *c = &rt_the_ctx;
    rt_register(op, size, c->cur_api ? c->cur_api : "runtime", c->cur_api_n);
    rt_history(op, "alloc");
    return op;
}

void rt_register_static(PyObject *op, const char *name)
{
    if (rt_find(op))
        return;
    rt_obj *r = rt_register(op, sizeof(PyObject), "static", 0);
    r->is_static = true;
    r->type_name = name;
}

/* ---- the trap region ------------------------------------------------------- */

void rt_trap_init(rt_ctx *c)
{
    if (c->trap_tried)
        return;
    c->trap_tried = true;
    size_t slots = RT_TRAP_BYTES / RT_TRAP_STRIDE;
    size_t *owner = calloc(slots, sizeof *owner);
    if (!owner)
        return;
    void *p = mmap(NULL, RT_TRAP_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) {
        free(owner);
        return;
    }
    c->trap = p;
    c->trap_slots = slots;
    c->trap_owner = owner;
}

static bool rt_in_trap(const rt_ctx *c, const void *p)
{
    return c->trap && (const char *)p >= c->trap && (const char *)p < c->trap + RT_TRAP_BYTES;
}

/* Async-signal-safe (prt_fault_address calls it from the crash handler). */
rt_obj *rt_trap_owner(const void *addr)
{
    const rt_ctx *c = &rt_the_ctx;
    if (!rt_in_trap(c, addr))
        return NULL;
    size_t slot = (size_t)((const char *)addr - c->trap) / RT_TRAP_STRIDE;
    size_t idx = c->trap_owner[slot];
    return idx && idx <= c->nobjs ? &c->objs[idx - 1] : NULL;
}

bool rt_is_dead(const void *o)
{
    const rt_ctx *c = &rt_the_ctx;
    if (!o)
        return false;
    if (rt_in_trap(c, o))
        return true;
    const PyTypeObject *tp = ((const PyObject *)o)->ob_type;
    return tp == &rt_dead_type || rt_in_trap(c, tp);
}

/* Gives op a slot of the trap region (its registry index modulo the slot
 * count: the newest dead object owning a slot wins), points its type and
 * every word of its body at the slot (a pointer read from a dead container
 * faults when followed), ob_size 0 so loops over a dead sequence end.
 * Without a trap region the words point back at op and the type is
 * rt_dead_type. */
void rt_quarantine(PyObject *op)
{
    rt_obj *r = rt_find(op);
    if (!r || !r->alive || r->is_static)
        return;
    rt_ctx *c = &rt_the_ctx;
    rt_trap_init(c);
    PyTypeObject *tp = Py_TYPE(op);
    bool var = tp && !rt_is_dead(tp) && tp->tp_itemsize != 0;
    rt_history(op, "quarantine");
    r->alive = false;
    void *poison = op;
    PyTypeObject *dead_type = &rt_dead_type;
    if (c->trap) {
        size_t idx = (size_t)(r - c->objs);
        size_t slot = idx % c->trap_slots;
        c->trap_owner[slot] = idx + 1;
        poison = c->trap + slot * RT_TRAP_STRIDE;
        dead_type = poison;
    }
    char *body = (char *)op + sizeof(PyObject);
    size_t words = (r->size - sizeof(PyObject)) / sizeof(void *);
    for (size_t i = 0; i < words; i++)
        memcpy(body + i * sizeof(void *), &poison, sizeof(void *));
    if (var && r->size >= sizeof(PyVarObject))
        ((PyVarObject *)op)->ob_size = 0;
    op->ob_type = dead_type;
}

bool rt_use(PyObject *op, unsigned what)
{
    rt_obj *r;
    if (!op)
        return true;
    if (rt_in_trap(&rt_the_ctx, op)) {
        /* a pointer read from a dead body: a use of that body's object */
        r = rt_trap_owner(op);
        what = RT_USE_ACCESS;
        if (!r)
            return false;
    } else {
        if (!rt_is_dead(op))
            return true;
        r = rt_find(op);
        if (!r)
            return false;
        /* a dead object whose count moved was increfed / decrefed first */
        if (what == RT_USE_ACCESS && op->ob_refcnt != 0)
            what = op->ob_refcnt > 0 ? RT_USE_INCREF : RT_USE_DECREF;
    }
    if (!(r->dead_use & what)) {
        r->dead_use |= what;
        rt_history(r->op, what == RT_USE_DECREF ? "decref-dead" :
                       what == RT_USE_INCREF ? "incref-dead" : "access-dead");
    }
    if (!r->reported) {
        r->reported = true;
        rt_the_ctx.problems++;
        rt_out("prt: use-after-release %s allocated-by %s#%d (what: %s)", r->type_name,
               r->api, r->api_n,
               what == RT_USE_DECREF ? "decref" : what == RT_USE_INCREF ? "incref" : "access");
    }
    return false;
}

/* Py_DECREF took the count to 0. */
void _Py_Dealloc(PyObject *op)
{
    rt_obj *r = rt_find(op);
    if (r && !r->alive) {
        rt_use(op, RT_USE_DECREF);
        return;
    }
    if (r && r->is_static) {
        /* A singleton's count never reaches 0 unless it was over-released. */
        op->ob_refcnt = 0;
        return;
    }
    rt_history(op, "dealloc");
    if (rt_is_dead(Py_TYPE(op))) {
        /* its (heap) type died first: the type's slots are gone */
        rt_use((PyObject *)Py_TYPE(op), RT_USE_ACCESS);
        rt_quarantine(op);
        return;
    }
    destructor d = Py_TYPE(op)->tp_dealloc;
    if (d)
        d(op);
    if (r && r->alive)
        rt_quarantine(op);
}

/* ---- the dead-object type ---------------------------------------------- */

/* Used only when the trap region could not be mapped (rt_trap_init). */

static PyObject *rt_dead_access(PyObject *self)
{
    rt_use(self, RT_USE_ACCESS);
    rt_err_setstr(PyExc_SystemError, "use of a released object");
    return NULL;
}

static PyObject *rt_dead_getattr(PyObject *self, PyObject *name)
{
    return rt_dead_access(self);
}

static PyObject *rt_dead_call(PyObject *self, PyObject *a, PyObject *k)
{
    return rt_dead_access(self);
}

static PyObject *rt_dead_cmp(PyObject *self, PyObject *o, int op)
{
    return rt_dead_access(self);
}

static Py_hash_t rt_dead_hash(PyObject *self)
{
    rt_dead_access(self);
    return -1;
}

static void rt_dead_dealloc(PyObject *self)
{
    rt_use(self, RT_USE_DECREF);
}

PyTypeObject rt_dead_type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "prt.dead-object",
    .tp_basicsize = sizeof(PyObject),
    .tp_dealloc = rt_dead_dealloc,
    .tp_repr = rt_dead_access,
    .tp_str = rt_dead_access,
    .tp_hash = rt_dead_hash,
    .tp_call = rt_dead_call,
    .tp_getattro = rt_dead_getattr,
    .tp_richcompare = rt_dead_cmp,
    .tp_iter = rt_dead_access,
    .tp_iternext = rt_dead_access,
    .tp_flags = Py_TPFLAGS_DEFAULT,
};

/* ---- references an object holds ------------------------------------------- */

static void rt_refs_array(PyObject **a, Py_ssize_t n, void (*fn)(PyObject *, bool, void *),
                          void *arg)
{
    for (Py_ssize_t i = 0; a && i < n; i++)
        if (a[i])
            fn(a[i], true, arg);
}

/* Conservative scan of [p, p+n): every aligned word equal to a registered
 * object's address counts as a reference. */
static void rt_refs_words(const void *p, size_t n, void (*fn)(PyObject *, bool, void *),
                          void *arg)
{
    const char *b = p;
    for (size_t off = 0; off + sizeof(void *) <= n; off += sizeof(void *)) {
        void *w;
        memcpy(&w, b + off, sizeof w);
        if (w && w != p && rt_find(w))
            fn((PyObject *)w, false, arg);
    }
}

void rt_refs(PyObject *op, void (*fn)(PyObject *ref, bool precise, void *arg), void *arg)
{
    rt_obj *r = rt_find(op);
    if (!r || !r->alive || r->is_static)
        return;
    PyTypeObject *tp = Py_TYPE(op);
    if (rt_is_dead(tp)) {
        /* its heap type died under it (the type's fields are poisoned) */
        fn((PyObject *)tp, true, arg);
        rt_refs_words((char *)op + sizeof(PyObject), r->size - sizeof(PyObject), fn, arg);
        return;
    }
    if (tp->tp_flags & Py_TPFLAGS_HEAPTYPE)
        fn((PyObject *)tp, true, arg);
    if (tp == &PyTuple_Type) {
        rt_refs_array(((PyTupleObject *)op)->ob_item, Py_SIZE(op), fn, arg);
    } else if (tp == &PyList_Type) {
        rt_refs_array(((PyListObject *)op)->ob_item, Py_SIZE(op), fn, arg);
    } else if (tp == &PyDict_Type) {
        rt_dict *d = (rt_dict *)op;
        rt_refs_array(d->keys, d->d.ma_used, fn, arg);
        rt_refs_array(d->vals, d->d.ma_used, fn, arg);
    } else if (tp == &PySet_Type || tp == &PyFrozenSet_Type) {
        rt_set *s = (rt_set *)op;
        rt_refs_array(s->items, s->s.used, fn, arg);
    } else if (tp == &PyLong_Type || tp == &PyFloat_Type || tp == &PyUnicode_Type ||
               tp == &PyBytes_Type || tp == &PyBool_Type || tp == &PyBaseObject_Type) {
        /* no references */
    } else if (tp == &PyModule_Type) {
        rt_module *m = (rt_module *)op;
        if (m->md_dict)
            fn(m->md_dict, true, arg);
        if (m->md_name)
            fn(m->md_name, true, arg);
        if (m->md_state && m->md_def && m->md_def->m_size > 0)
            rt_refs_words(m->md_state, (size_t)m->md_def->m_size, fn, arg);
    } else if (tp == &PyType_Type) {
        PyHeapTypeObject *ht = (PyHeapTypeObject *)op;
        PyObject *refs[] = { ht->ht_type.tp_dict, ht->ht_type.tp_bases, ht->ht_name,
                             ht->ht_qualname, ht->ht_module,
                             (PyObject *)ht->ht_type.tp_base };
        for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
            if (refs[i] && rt_find(refs[i]))
                fn(refs[i], true, arg);
    } else {
        /* extension objects, exceptions, functions, iterators: every word */
        rt_refs_words((char *)op + sizeof(PyObject), r->size - sizeof(PyObject), fn, arg);
    }
}

bool rt_is_builtin(PyObject *o)
{
    if (!o || rt_is_dead(o))
        return false;
    PyTypeObject *tp = Py_TYPE(o);
    return tp == &PyLong_Type || tp == &PyBool_Type || tp == &PyFloat_Type ||
           tp == &PyUnicode_Type || tp == &PyBytes_Type || tp == &PyTuple_Type ||
           tp == &PyList_Type || tp == &PyDict_Type || tp == &PySet_Type ||
           tp == &PyFrozenSet_Type || o == Py_None;
}
