/* arena.c - bump allocator: chunks of memory released all at once. */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pa_chunk {
    pa_chunk *next;  /* older chunk */
    size_t size;     /* usable bytes in data[] */
    size_t used;     /* bytes handed out from data[] */
    max_align_t data[];
};

#define PA_MIN_CHUNK (64u * 1024u)

void pa_init(pa_arena *a, size_t limit)
{
    memset(a, 0, sizeof *a);
    a->limit = limit;
}

static void *pa_oom(pa_arena *a)
{
    a->failed = true;
    memset(a->scratch, 0, sizeof a->scratch);
    return a->scratch;
}

void *pa_alloc(pa_arena *a, size_t n)
{
    size_t align = _Alignof(max_align_t);
    if (n > SIZE_MAX / 2)
        return pa_oom(a);          /* no chunk header can follow such a size */
    n = (n + align - 1) & ~(align - 1);
    if (n == 0)
        n = align;
    if (a->limit && a->bytes_used + n > a->limit)
        return pa_oom(a);
    pa_chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = n > PA_MIN_CHUNK ? n : PA_MIN_CHUNK;
        c = malloc(sizeof *c + size);
        if (!c)
            return pa_oom(a);
        c->next = a->head;
        c->size = size;
        c->used = 0;
        a->head = c;
    }
    void *p = (unsigned char *)c->data + c->used;
    c->used += n;
    a->bytes_used += n;
    memset(p, 0, n);
    return p;
}

char *pa_strndup(pa_arena *a, const char *s, size_t len)
{
    char *p = pa_alloc(a, len + 1);
    if (a->failed)
        return "";
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *pa_strdup(pa_arena *a, const char *s)
{
    return pa_strndup(a, s ? s : "", s ? strlen(s) : 0);
}

char *pa_printf(pa_arena *a, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return "";
    if ((size_t)n < sizeof small)
        return pa_strndup(a, small, (size_t)n);
    char *p = pa_alloc(a, (size_t)n + 1);
    if (a->failed)
        return "";
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void *pa_grow(pa_arena *a, void *old, size_t old_n, size_t new_n, size_t sz)
{
    if (new_n && sz > SIZE_MAX / new_n)
        return pa_oom(a);
    void *p = pa_alloc(a, new_n * sz);
    if (a->failed)
        return p;
    if (old && old_n)
        memcpy(p, old, (old_n < new_n ? old_n : new_n) * sz);
    return p;
}

bool pa_failed(const pa_arena *a)
{
    return a->failed;
}

void pa_release(pa_arena *a)
{
    pa_chunk *c = a->head;
    while (c) {
        pa_chunk *next = c->next;
        free(c);
        c = next;
    }
    size_t limit = a->limit;
    pa_init(a, limit);
}
