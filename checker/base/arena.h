/* arena.h - bump allocator for per-function and per-file memory.
 *
 * Everything the frontend, the CFG builder and the engine allocate for one
 * function lives in one arena that is released in a single call when the
 * function is done.  Allocation never returns NULL: on out-of-memory the
 * arena reports through its error flag and returns a static zeroed block so
 * callers can unwind normally (checked with pa_failed()).
 */
#ifndef PRC_ARENA_H
#define PRC_ARENA_H

#include <stddef.h>
#include <stdbool.h>

typedef struct pa_chunk pa_chunk;

#define PA_SCRATCH_SIZE 1024

/* An arena.  Zero-initialise it (or call pa_init) before use. */
typedef struct pa_arena {
    pa_chunk *head;      /* newest chunk; older chunks chained behind it */
    size_t bytes_used;   /* total bytes handed out, for budgets and stats */
    size_t limit;        /* 0 = unlimited; otherwise allocation past it fails */
    bool failed;         /* set once an allocation could not be satisfied */
    /* handed out after a failure so callers can unwind without checking
     * every pointer; its contents are garbage */
    _Alignas(max_align_t) unsigned char scratch[PA_SCRATCH_SIZE];
} pa_arena;

void pa_init(pa_arena *a, size_t limit);

/* Returns zeroed memory of n bytes aligned for any type.  Never NULL: on
 * failure sets a->failed and returns the arena's scratch block (writable,
 * PA_SCRATCH_SIZE bytes, shared by every failed allocation): callers must
 * check pa_failed() before trusting what they built. */
void *pa_alloc(pa_arena *a, size_t n);

/* Copies a string of len bytes into the arena, NUL-terminated. */
char *pa_strndup(pa_arena *a, const char *s, size_t len);
char *pa_strdup(pa_arena *a, const char *s);
/* printf into the arena. */
char *pa_printf(pa_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Grows an arena array: returns a copy of old (old_n elements of size sz)
 * with room for new_n elements.  The old block stays in the arena. */
void *pa_grow(pa_arena *a, void *old, size_t old_n, size_t new_n, size_t sz);

bool pa_failed(const pa_arena *a);

/* Releases every chunk; the arena can be reused afterwards. */
void pa_release(pa_arena *a);

#endif
