/* internal.h - the engine's data model, shared by the engine modules and the
 * checks (checker/checks/): symbolic values, path states, path events, and
 * the hooks through which checks see what happens on a path.
 *
 * A path state binds every variable of the function to a symbol.  A symbol
 * is one abstract value: for objects, whether it may be NULL, where it came
 * from, how many references this function owns, and whether it escaped or
 * died.  States are plain arrays copied when a path forks.
 */
#ifndef PRC_ENGINE_INTERNAL_H
#define PRC_ENGINE_INTERNAL_H

#include <stdint.h>

#include "../ir/cfg.h"
#include "engine.h"

typedef enum sym_kind { SK_OBJ, SK_PTR, SK_INT, SK_OTHER } sym_kind;
typedef enum nullness { NL_UNKNOWN, NL_NULL, NL_NONNULL } nullness;

/* Where an object value came from. */
typedef enum origin {
    OR_UNKNOWN,     /* from code we do not understand: never reported */
    OR_NEW,         /* a new reference returned to us */
    OR_BORROWED,    /* a borrowed reference from an API call */
    OR_PARAM,       /* an argument of the function (borrowed) */
    OR_FIELD,       /* read from a struct field, array or pointer */
    OR_GLOBAL,      /* a global or static variable, or its address */
    OR_SINGLETON,   /* None, True, False, NotImplemented, Ellipsis */
    OR_NULLCONST,   /* the constant NULL */
} origin;

enum {
    SF_ESCAPED   = 1u << 0,  /* stored where someone else may release it */
    SF_DEAD      = 1u << 1,  /* our last reference released: object freed */
    SF_KEPT      = 1u << 2,  /* a container holds its own reference */
    SF_REPORTED  = 1u << 3,  /* a finding about it was made on this path */
    SF_EXC_PROBE = 1u << 4,  /* PyErr_Occurred() result: nonnull iff exception set */
    SF_RETURNED  = 1u << 5,  /* handed to the caller by return */
    SF_STOLEN    = 1u << 6,  /* a reference was stolen from it */
    SF_NONZERO   = 1u << 7,  /* integer known to be != 0 */
    SF_ZERO_KNOWN= 1u << 8,  /* integer known to be == 0 */
    SF_DYING     = 1u << 9,  /* tp_dealloc's self: what it holds is ours to release */
    SF_CELL_GONE = 1u << 10, /* the field's reference was released (Py_CLEAR, Py_SETREF) */
    SF_TAKEN     = 1u << 11, /* the reference a field held, taken over when it was overwritten */
    SF_LEN_OF    = 1u << 12, /* integer: the length of the object `owner` (PyList_GET_SIZE) */
    SF_WEAK_STORE= 1u << 13, /* stored into a field no function of the file releases (maybe a
                                back pointer): a later release here takes the reference back */
    SF_SLOT_HELD = 1u << 14, /* singleton found in a field or item on this path
                                (`if (o->x == Py_None)`): one release of it is that
                                slot's reference, handed over before the slot is overwritten */
};

/* Relations attached to the integer result of a comparison, so that a
 * branch on it refines the compared value. */
typedef enum rel_kind { REL_NONE, REL_NOT, REL_CMP, REL_TRUTH } rel_kind;

typedef struct en_sym {
    int32_t uid;             /* unique in the function: survives compaction */
    uint8_t kind;            /* sym_kind */
    uint8_t null;            /* nullness (objects and pointers) */
    uint8_t origin;          /* origin */
    uint8_t rel;             /* rel_kind of an integer result */
    uint16_t flags;          /* SF_* */
    int16_t refs;            /* references this function owns */
    int16_t cell_refs;       /* references moved into fields / globals / out-params */
    int16_t debt;            /* stored without a reference of ours: the next
                                Py_INCREF pays the field's reference */
    int32_t owner;           /* symbol this one is borrowed from / kept by, -1 */
    int32_t rel_a, rel_b;    /* REL_*: operand symbols (rel_b -1: constant) */
    uint8_t rel_op;          /* ax_op of REL_CMP */
    int64_t rel_k;           /* constant of REL_CMP */
    int64_t lo, hi;          /* integer interval */
    int32_t addr_var;        /* &var: the variable, or -1 */
    const char *addr_key;    /* &lvalue / lvalue key, or NULL */
    src_loc loc;             /* where it was created (allocation site) */
    const char *api;         /* API that produced it, or NULL */
    const char *name;        /* first variable it was bound to, for messages */
} en_sym;

/* A field / global / dereference memory cell: key is an interned lvalue
 * text ("self->cache", "*out", "g:module_state"). */
typedef struct en_cell {
    const char *key;
    int32_t sym;
} en_cell;

typedef enum exc_state { EXC_CLEAR, EXC_SET, EXC_UNKNOWN } exc_state;

/* Path events: an immutable list shared between states (newest first). */
typedef enum ev_kind {
    EV_NEW, EV_BORROW, EV_FAIL, EV_ABSENT, EV_BRANCH, EV_INCREF, EV_DECREF,
    EV_STEAL, EV_STORE, EV_NULL_ASSIGN, EV_ASSIGN, EV_EXC_SET, EV_EXC_CLEAR,
    EV_RETURN, EV_LOOP, EV_CASE,
} ev_kind;

typedef struct en_event {
    struct en_event *prev;
    uint8_t kind;
    uint8_t truth;           /* EV_BRANCH: branch taken */
    int32_t sym;             /* uid of the symbol concerned, -1 */
    int16_t refs;            /* its references after the event */
    src_loc loc;
    const char *what;        /* API or macro name, or lvalue text */
    const ast_expr *expr;    /* branch condition / expression */
    uint32_t depth;          /* number of events up to here */
} en_event;

typedef struct en_loopcnt {
    int32_t block;
    int32_t count;
} en_loopcnt;

typedef struct en_state {
    int32_t *vars;           /* by var id: symbol, -1 unset */
    int nvars;
    en_sym *syms;
    int nsyms, cap_syms;
    en_cell *cells;
    int ncells, cap_cells;
    en_loopcnt *loops;
    int nloops, cap_loops;
    uint8_t exc;             /* exc_state */
    bool dead;               /* path ended (crash, noreturn, infeasible) */
    int32_t *next_uid;       /* the function's uid counter (shared) */
    en_event *trail;
} en_state;

typedef struct en_ctx en_ctx;

/* What the checks are told about. */
typedef enum ck_kind {
    CK_USE,        /* sym used as an object (passed, returned, INCREF'd) */
    CK_DEREF,      /* sym dereferenced or passed where NULL is not allowed */
    CK_RELEASE,    /* a reference to sym released (before the count changes) */
    CK_STEAL,      /* a reference to sym handed to a stealing API */
    CK_RETURN,     /* sym returned (-1: no value) */
    CK_EXIT,       /* the path leaves the function (after CK_RETURN) */
    CK_LOSE,       /* the last variable holding sym was overwritten */
} ck_kind;

typedef struct ck_event {
    ck_kind kind;
    int sym;
    src_loc loc;
    const char *what;        /* API / macro name or a description */
    bool nullable_ok;        /* CK_RELEASE: X variant (NULL allowed) */
    bool via_cell;           /* CK_RELEASE: released through the field / global holding it */
} ck_event;

/* Check hook: returns CK_STOP to end the path (the program would crash). */
enum { CK_GO = 0, CK_STOP = 1 };
typedef int (*ck_hook)(en_ctx *cx, en_state *st, const ck_event *ev);

/* Facts about the function being analysed, for the checks. */
typedef struct en_fn_info {
    const ast_func *func;
    bool python_callable;    /* in a method table or type slot */
    bool returns_object;     /* return type PyObject* (or subtype) */
    bool returns_int;
    bool returns_borrowed;   /* annotated pyrefcheck:returns-borrowed */
    bool is_static;
    int python_version;      /* 0x030b */
    const struct kb_entry *slot; /* slot:NAME entry of the field it fills, or NULL */
    int dying_arg;           /* a destructor helper: the argument holding the object a
                                tp_dealloc is destroying, else -1 */
} en_fn_info;

const en_fn_info *en_fn(const en_ctx *cx);
en_sym *en_sym_at(en_state *st, int sym);

/* Records a finding about sym at loc (deduplicated per rule and site;
 * the path is taken from st's trail, and last_note, when not NULL, is added
 * as its final step at loc).  Strings are copied. */
void en_report(en_ctx *cx, en_state *st, const char *rule, int sym, src_loc loc,
               const char *message, const char *last_note);

/* A short description of sym for messages: "'list'" or "the result of
 * PyList_New()" (arena string). */
const char *en_sym_desc(en_ctx *cx, const en_state *st, int sym);

/* A copy of s in the function's arena. */
const char *en_strdup(en_ctx *cx, const char *s);

/* Whether sym (or the object it is borrowed from) has been freed. */
bool en_sym_is_dead(const en_state *st, int sym, int *dead_owner);

/* Whether sym is still referenced by a variable or a memory cell. */
bool en_sym_reachable(const en_state *st, int sym);

#endif
