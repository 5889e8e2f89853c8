/* state.h - operations on path states (engine/internal.h has the types). */
#ifndef PRC_ENGINE_STATE_H
#define PRC_ENGINE_STATE_H

#include "internal.h"

/* A fresh state with nvars unset variables and no exception.  NULL when
 * out of memory.  States are malloc'ed; free with st_free. */
en_state *st_new(int nvars);
en_state *st_copy(const en_state *s);
void st_free(en_state *st);

/* Adds a symbol; returns its index, or -1 when out of memory. */
int st_new_sym(en_state *st, sym_kind kind);

/* Memory cells keyed by interned lvalue text: the symbol or -1. */
int st_cell_get(const en_state *st, const char *key);
int st_cell_set(en_state *st, const char *key, int sym);

/* Counts one more entry into loop head block; returns the new count. */
int st_loop_enter(en_state *st, int block);

/* Hash of the state up to renaming of symbols; canon is scratch space of
 * at least st->nsyms ints. */
uint64_t st_hash(const en_state *st, int *canon);

/* Drops symbols nothing refers to and that carry no reference counts,
 * renumbering the rest (order kept; the first keep_first stay).  map is
 * scratch of st->nsyms ints.  Returns how many were dropped. */
int st_compact(en_state *st, int keep_first, int *map);

#endif
