/* rt_mem.c - raw memory in the reference runtime: PyMem_*, PyMem_Raw*,
 * PyObject_Malloc and friends.  Every live block is listed, so the reference
 * accounting can treat object pointers stored in them (arrays of PyObject*
 * an extension keeps) as references.  PyObject_Free / PyObject_Del of a
 * registered object quarantines it (they are tp_free).
 *
 * The C API functions defined here return what CPython documents for them
 * (NULL or -1 with an exception set on failure; new or borrowed references
 * as the C API manual and rules/ say) and are counted and made to fail by
 * RT_ENTER* (rt_fault.c) before doing any work.
 */
#include "rt_internal.h"

#include <stdlib.h>
#include <string.h>

static void rt_mem_add(void *p, size_t n)
{
    rt_ctx *c = rt_state();
    if (c->nmems == c->capmems) {
        size_t ncap = c->capmems ? c->capmems * 2 : 64;
        rt_mem *m = realloc(c->mems, ncap * sizeof *m);
        if (!m)
            rt_die("out of memory");
        c->mems = m;
        c->capmems = ncap;
    }
    c->mems[c->nmems].ptr = p;
    c->mems[c->nmems].size = n;
    c->nmems++;
}

static rt_mem *rt_mem_find(void *p)
{
    rt_ctx *c = rt_state();
    for (size_t i = c->nmems; i-- > 0;)
        if (c->mems[i].ptr == p)
            return &c->mems[i];
    return NULL;
}

void *rt_mem_alloc(size_t n, bool zero)
{
    void *p = zero ? calloc(1, n ? n : 1) : malloc(n ? n : 1);
    if (!p)
        rt_die("out of memory");
    rt_mem_add(p, n);
    return p;
}

bool rt_mem_free(void *p)
{
    if (!p)
        return true;
    rt_mem *m = rt_mem_find(p);
    if (!m)
        return false;
    rt_ctx *c = rt_state();
    *m = c->mems[--c->nmems];
    free(p);
    return true;
}

void *rt_mem_realloc(void *p, size_t n)
{
    if (!p)
        return rt_mem_alloc(n, false);
    rt_mem *m = rt_mem_find(p);
    if (!m)
        return NULL;
    void *q = realloc(p, n ? n : 1);
    if (!q)
        return NULL;
    m->ptr = q;
    m->size = n;
    return q;
}

void rt_mem_each(void (*fn)(void *p, size_t n, void *arg), void *arg)
{
    rt_ctx *c = rt_state();
    for (size_t i = 0; i < c->nmems; i++)
        fn(c->mems[i].ptr, c->mems[i].size, arg);
}

/* ---- the API ------------------------------------------------------------------------------ */

#define RT_MEM_API(prefix)                                                      \
    void *prefix##Malloc(size_t n)                                              \
    {                                                                           \
        RT_ENTER_PTR(#prefix "Malloc");                                         \
        return rt_mem_alloc(n, false);                                          \
    }                                                                           \
    void *prefix##Calloc(size_t k, size_t n)                                    \
    {                                                                           \
        RT_ENTER_PTR(#prefix "Calloc");                                         \
        if (n && k > (size_t)-1 / n)                                            \
            return NULL;                                                        \
        return rt_mem_alloc(k * n, true);                                       \
    }                                                                           \
    void *prefix##Realloc(void *p, size_t n)                                    \
    {                                                                           \
        RT_ENTER_PTR(#prefix "Realloc");                                        \
        return rt_mem_realloc(p, n);                                            \
    }

RT_MEM_API(PyMem_)
RT_MEM_API(PyMem_Raw)
RT_MEM_API(PyObject_)

void PyMem_Free(void *p)
{
    RT_ENTER_VOID("PyMem_Free");
    rt_mem_free(p);
}

void PyMem_RawFree(void *p)
{
    RT_ENTER_VOID("PyMem_RawFree");
    rt_mem_free(p);
}

/* tp_free of non-GC types in CPython: an object is quarantined. */
void PyObject_Free(void *p)
{
    RT_ENTER_VOID("PyObject_Free");
    if (rt_find(p))
        rt_quarantine((PyObject *)p);
    else
        rt_mem_free(p);
}
