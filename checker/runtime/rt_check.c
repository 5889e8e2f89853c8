/* rt_check.c - the harness side of the reference runtime (prt.h): start-up,
 * argument objects, the snapshot before a call and the checks after it
 * (leaks, over-releases, use-after-release, borrowed returns, NULL without
 * an exception), the crash handler.
 *
 * Reference accounting: for each live registered object, "internal"
 * references come from other live objects (containers, extension objects
 * scanned word by word, the exception state, interned strings) and "global"
 * ones from the program's writable data and live PyMem blocks (static
 * caches).  What is left of its count, ext = refcnt - internal - global, are
 * references held by C code outside any of them: the caller's own for the
 * arguments, lost ones for a leak.  A new object must end with ext = 0; an
 * old one with the ext it had at the start.  A dead object still referenced
 * by a live container or a static variable (a "dangling" reference) was
 * released while its holder still counted on it: an over-release.
 */
#include "rt_internal.h"
#include "prt.h"

#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- start-up -------------------------------------------------------------- */

/* Async-signal-safe line building for the crash handler (no stdio). */
static size_t rt_sig_add(char *buf, size_t n, size_t cap, const char *s)
{
    while (s && *s && n + 1 < cap)
        buf[n++] = *s++;
    return n;
}

static size_t rt_sig_num(char *buf, size_t n, size_t cap, long v)
{
    char d[24];
    int k = 0;
    unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
    do {
        d[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u && k < 22);
    if (v < 0)
        d[k++] = '-';
    while (k && n + 1 < cap)
        buf[n++] = d[--k];
    return n;
}

static void rt_sig_write(const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(rt_state()->out_fd, buf, n);
        if (w <= 0)
            return;
        buf += w;
        n -= (size_t)w;
    }
}

int prt_fault_address(const void *addr)
{
    rt_obj *r = rt_trap_owner(addr);
    if (!r)
        return 0;
    r->dead_use |= RT_USE_ACCESS;
    if (!r->reported) {
        r->reported = true;
        rt_state()->problems++;
        char buf[320];
        size_t n = rt_sig_add(buf, 0, sizeof buf, "prt: use-after-release ");
        n = rt_sig_add(buf, n, sizeof buf, r->type_name);
        n = rt_sig_add(buf, n, sizeof buf, " allocated-by ");
        n = rt_sig_add(buf, n, sizeof buf, r->api);
        n = rt_sig_add(buf, n, sizeof buf, "#");
        n = rt_sig_num(buf, n, sizeof buf, r->api_n);
        n = rt_sig_add(buf, n, sizeof buf, " (what: access)\n");
        rt_sig_write(buf, n);
    }
    return 1;
}

static void rt_crash_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if ((sig == SIGSEGV || sig == SIGBUS) && si)
        prt_fault_address(si->si_addr);
    char buf[64];
    size_t n = rt_sig_add(buf, 0, sizeof buf, "prt: crash signal=");
    n = rt_sig_num(buf, n, sizeof buf, sig);
    n = rt_sig_add(buf, n, sizeof buf, "\n");
    rt_sig_write(buf, n);
    signal(sig, SIG_DFL);
    raise(sig);
}

void prt_init(void)
{
    rt_ctx *c = rt_state();
    if (c->inited)
        return;
    rt_fault_init(c);
    rt_trap_init(c);
    rt_register_static(Py_None, "NoneType");
    rt_register_static(Py_True, "bool");
    rt_register_static(Py_False, "bool");
    rt_register_static(Py_NotImplemented, "NotImplementedType");
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = rt_crash_handler;
        sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
        sigaction(sigs[i], &sa, NULL);
    }
}

int prt_problems(void)
{
    return rt_state()->problems;
}

void prt_unsupported(const char *name)
{
    rt_out("prt: unsupported %s", name ? name : "?");
    _exit(3);
}

/* ---- argument objects ------------------------------------------------------ */

/* The "callable" argument: returns a fresh int (1000 + the number of
 * arguments) nothing else holds, or a fresh str when called without
 * arguments. */
static PyObject *rt_arg_identity(PyObject *self, PyObject *args)
{
    Py_ssize_t n = args ? PyTuple_GET_SIZE(args) : 0;
    if (n == 0)
        return rt_str_from_cstr("prt-result");
    return rt_long_from_ll(1000 + n);
}

/* The "gen" argument: an iterator yielding three fresh objects (1000,
 * "spam", 1001) that nothing else references, like a generator's. */
typedef struct rt_genarg {
    PyObject_HEAD
    int i;
} rt_genarg;

static PyObject *rt_genarg_next(PyObject *o)
{
    rt_genarg *g = (rt_genarg *)o;
    switch (g->i++) {
    case 0: return rt_long_from_ll(1000);
    case 1: return rt_str_from_cstr("spam");
    case 2: return rt_long_from_ll(1001);
    default: return NULL;
    }
}

static PyObject *rt_genarg_iter(PyObject *o)
{
    Py_INCREF(o);
    return o;
}

static void rt_genarg_dealloc(PyObject *o)
{
    rt_quarantine(o);
}

static PyTypeObject rt_genarg_type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "generator",
    .tp_basicsize = sizeof(rt_genarg),
    .tp_dealloc = rt_genarg_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_READY,
    .tp_iter = rt_genarg_iter,
    .tp_iternext = rt_genarg_next,
    .tp_base = &PyBaseObject_Type,
};

static PyObject *rt_arg_make(const char *kind)
{
    if (!strcmp(kind, "none")) {
        Py_INCREF(Py_None);
        return Py_None;
    }
    if (!strcmp(kind, "int"))
        return rt_long_from_ll(12345);
    if (!strcmp(kind, "neg-int"))
        return rt_long_from_ll(-1);     /* the ambiguous error value */
    if (!strcmp(kind, "float"))
        return rt_float_new(1.5);
    if (!strcmp(kind, "str"))
        return rt_str_from_cstr("spam.eggs");
    if (!strcmp(kind, "bytes"))
        return rt_bytes_new("spam", 4);
    if (!strncmp(kind, "tuple", 5) && kind[5] >= '0' && kind[5] <= '3' && !kind[6]) {
        int n = kind[5] - '0';
        PyObject *t = rt_tuple_new(n);
        PyObject *items[3] = { rt_long_from_ll(1000), rt_str_from_cstr("spam"),
                               rt_float_new(2.5) };
        for (int i = 0; i < 3; i++) {
            if (i < n)
                PyTuple_SET_ITEM(t, i, items[i]);
            else
                Py_DECREF(items[i]);
        }
        return t;
    }
    if (!strcmp(kind, "list")) {
        PyObject *l = rt_list_new(0);
        PyObject *a = rt_long_from_ll(1000), *b = rt_str_from_cstr("spam");
        rt_list_append(l, a);
        rt_list_append(l, b);
        Py_DECREF(a);
        Py_DECREF(b);
        return l;
    }
    if (!strcmp(kind, "dict"))
        return rt_dict_sample();
    if (!strcmp(kind, "set")) {
        PyObject *s = rt_set_new(&PySet_Type);
        PyObject *v = rt_long_from_ll(1000);
        rt_set_add(s, v);
        Py_DECREF(v);
        return s;
    }
    if (!strcmp(kind, "module")) {
        PyModuleDef *def = rt_mem_alloc(sizeof *def, true);
        def->m_name = "prt_module";
        def->m_size = -1;
        PyObject *m = rt_module_create(def);
        return m;
    }
    if (!strcmp(kind, "callable")) {
        static PyMethodDef identity = { "prt_identity", rt_arg_identity, METH_VARARGS, NULL };
        return rt_cfunction_new(&identity, NULL, NULL);
    }
    if (!strcmp(kind, "gen"))
        return rt_alloc(&rt_genarg_type, 0, 0);
    if (!strcmp(kind, "object"))
        return rt_generic_alloc(&PyBaseObject_Type, 0);
    if (!strcmp(kind, "type"))
        return rt_heaptype_new("prt.ArgType", &PyBaseObject_Type, sizeof(PyObject),
                               Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE);
    return rt_probe_arg(kind);
}

PyObject *rt_as_arg(PyObject *(*make)(const void *ctx), const void *ctx)
{
    rt_ctx *c = rt_state();
    if (!c->inited)
        prt_init();
    const char *save = c->cur_api;
    int save_n = c->cur_api_n;
    c->cur_api = "prt_arg";
    c->cur_api_n = 0;
    for (size_t i = 0; i < c->nobjs; i++)
        if (!strcmp(c->objs[i].api, "prt_arg") && c->objs[i].api_n > c->cur_api_n)
            c->cur_api_n = c->objs[i].api_n;
    c->cur_api_n++;
    PyObject *o = make(ctx);
    c->cur_api = save;
    c->cur_api_n = save_n;
    return o;
}

static PyObject *rt_arg_make_kind(const void *kind)
{
    return kind ? rt_arg_make(kind) : NULL;
}

PyObject *prt_arg(const char *kind)
{
    return rt_as_arg(rt_arg_make_kind, kind);
}

/* ---- reference accounting --------------------------------------------------- */

/* A reference from a live object.  Only a precise one to a dead object is
 * dangling (a word of an extension object may be a stale pointer). */
static void rt_count_internal(PyObject *ref, bool precise, void *arg)
{
    rt_obj *r = rt_find(ref);
    if (!r)
        return;
    if (r->alive)
        r->internal++;
    else if (precise)
        r->dangling++;
    else
        r->stale++;
}

/* A reference from the program's static data (dangling when the object is
 * dead: a global still pointing at it) or from a PyMem block (stale
 * pointers are common there: never dangling). */
static void rt_count_global(PyObject *ref, bool from_data)
{
    rt_obj *r = rt_find(ref);
    if (r && r->alive)
        r->global++;
    else if (r && from_data)
        r->dangling++;
}

struct rt_scan {
    const char *skip_lo, *skip_hi;   /* the runtime's own state */
};

/* Scans the writable segments of the main program for object pointers.
 * Not instrumented: the words between ASan's global redzones are read too. */
__attribute__((no_sanitize("address")))
static int rt_scan_phdr(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct rt_scan *s = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        uintptr_t lo = (info->dlpi_addr + ph->p_vaddr + 7) & ~(uintptr_t)7;
        uintptr_t hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
        for (uintptr_t a = lo; a + sizeof(void *) <= hi; a += sizeof(void *)) {
            if ((const char *)a >= s->skip_lo && (const char *)a < s->skip_hi)
                continue;
            void *w = *(void *const *)a;
            if (w && rt_find(w))
                rt_count_global((PyObject *)w, true);
        }
    }
    return 1;   /* the first entry is the main program: stop */
}

static void rt_scan_mem(void *p, size_t n, void *arg)
{
    const char *b = p;
    for (size_t off = 0; off + sizeof(void *) <= n; off += sizeof(void *)) {
        void *w;
        memcpy(&w, b + off, sizeof w);
        if (w && rt_find(w))
            rt_count_global((PyObject *)w, false);
    }
}

/* Fills internal, global and dangling of every record. */
static void rt_account(rt_ctx *c)
{
    for (size_t i = 0; i < c->nobjs; i++) {
        c->objs[i].internal = 0;
        c->objs[i].global = 0;
        c->objs[i].dangling = 0;
        c->objs[i].stale = 0;
    }
    for (size_t i = 0; i < c->nobjs; i++)
        if (c->objs[i].alive)
            rt_refs(c->objs[i].op, rt_count_internal, NULL);
    PyObject *held[] = { c->exc_type, c->exc_value, c->exc_tb };
    for (size_t i = 0; i < 3; i++)
        if (held[i])
            rt_count_internal(held[i], true, NULL);
    for (size_t i = 0; i < c->ninterned; i++)
        rt_count_internal(c->interned[i], true, NULL);
    rt_import_refs(rt_count_internal, NULL);   /* module-state table, sys.modules */
    struct rt_scan s = { (const char *)c, (const char *)(c + 1) };
    dl_iterate_phdr(rt_scan_phdr, &s);
    rt_mem_each(rt_scan_mem, NULL);
}

static Py_ssize_t rt_ext(const rt_obj *r)
{
    return Py_REFCNT(r->op) - r->internal - r->global;
}

void rt_baseline(PyObject *op)
{
    rt_obj *r = rt_find(op);
    if (!r)
        return;
    rt_account(rt_state());
    r->pre = true;
    r->ext_begin = rt_ext(r);
}

void prt_call_begin(void)
{
    rt_ctx *c = rt_state();
    if (!c->inited)
        prt_init();
    rt_account(c);
    for (size_t i = 0; i < c->nobjs; i++) {
        rt_obj *r = &c->objs[i];
        r->pre = true;
        r->ext_begin = r->alive ? rt_ext(r) : 0;
    }
    rt_fault_reset(c);
    c->problems_at_begin = c->problems;
    c->in_call = true;
}

static void rt_problem(rt_obj *r)
{
    r->reported = true;
    rt_state()->problems++;
}

int prt_call_end(PyObject *result, int ret_kind, long ret_int)
{
    rt_ctx *c = rt_state();
    int before = c->problems_at_begin;     /* those reported during the call count */
    c->in_call = false;

    if (ret_kind == PRT_RET_OBJECT && !result && !c->exc_type) {
        c->problems++;
        rt_out("prt: null-without-exception");
    }
    if (ret_kind == PRT_RET_INT && ret_int == -1 && !c->exc_type) {
        c->problems++;
        rt_out("prt: null-without-exception");
    }

    /* The caller releases the result. */
    rt_obj *res = NULL;
    if (ret_kind == PRT_RET_OBJECT && result) {
        res = rt_find(result);
        if (rt_use(result, RT_USE_ACCESS))
            Py_DECREF(result);
    }
    rt_err_clear();

    rt_account(c);
    for (size_t i = 0; i < c->nobjs; i++) {
        rt_obj *r = &c->objs[i];
        if (r->reported)
            continue;
        if (!r->alive) {
            Py_ssize_t cnt = r->op->ob_refcnt;
            if (cnt != 0) {
                rt_problem(r);
                rt_out("prt: use-after-release %s allocated-by %s#%d (what: %s)",
                       r->type_name, r->api, r->api_n, cnt > 0 ? "incref" : "decref");
            } else if (r == res && (r->dangling > 0 || r->stale > 0 || (r->pre && r->ext_begin > 0))) {
                /* (a word of a live object still pointing at the result the
                 * caller's release freed: the field it was borrowed from) */
                rt_problem(r);
                rt_out("prt: borrowed-return %s", r->type_name);
            } else if ((r->pre && r->ext_begin > 0) || r->dangling > 0) {
                /* freed while its holders still had their references */
                rt_problem(r);
                rt_out("prt: negative-refcount %s allocated-by %s#%d", r->type_name,
                       r->api, r->api_n);
            }
            continue;
        }
        Py_ssize_t ext = rt_ext(r);
        Py_ssize_t base = r->pre ? r->ext_begin : 0;
        if (ext > base && !r->is_static) {
            rt_problem(r);
            rt_out("prt: leak %s allocated-by %s#%d refcnt=%zd", r->type_name, r->api,
                   r->api_n, Py_REFCNT(r->op));
        } else if (ext > base && r->is_static && r == res) {
            /* a singleton returned with an extra reference: fine */
        } else if (ext < base) {
            rt_problem(r);
            if (r == res && ext == base - 1)
                rt_out("prt: borrowed-return %s", r->type_name);
            else
                rt_out("prt: negative-refcount %s allocated-by %s#%d", r->type_name,
                       r->api, r->api_n);
        }
    }
    if (c->problems == before)
        rt_out("prt: ok");
    return c->problems - before;
}
