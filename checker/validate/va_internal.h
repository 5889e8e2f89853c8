/* va_internal.h - what the validation module's files share: child
 * processes (va_child.c), call shapes read from the syntax tree
 * (va_shape.c), harness generation and building (va_build.c). */
#ifndef PRC_VA_INTERNAL_H
#define PRC_VA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "validate.h"

/* ---- child processes ---------------------------------------------------- */

typedef struct va_child {
    int exit_code;      /* exit status when it exited, else -1 */
    int signal;         /* the signal that killed it, else 0 */
    bool timed_out;     /* killed by us after the wall-clock limit */
    char *out;          /* stdout and stderr together (malloc'ed, NUL-terminated) */
    size_t outlen;
} va_child;

/* Runs argv[0] (searched in PATH) with argv, env entries "NAME=VALUE" added
 * to the environment, in its own process group, stdout+stderr captured (at
 * most 1 MiB kept), CPU limit timeout+2 s, address space mem_mb MiB
 * (0: unlimited), and killed (whole group) after timeout seconds of wall
 * clock.  Returns 0 with *res filled (free res->out), or -1 with a message
 * in err when it could not be started. */
int va_spawn(const char *const *argv, const char *const *env, double timeout, long mem_mb,
             va_child *res, char *err, size_t errlen);

/* ---- call shapes ------------------------------------------------------- */

/* What the harness passes for one parameter. */
typedef enum va_role {
    VA_OBJ,         /* an object of the next argument kind */
    VA_SELF,        /* an instance of the function's type (type_global) */
    VA_SELF_ANY,    /* self of a module function: an object */
    VA_TYPE,        /* the function's type object itself (tp_new, METH_METHOD) */
    VA_ARGS,        /* a tuple of the remaining argument kinds */
    VA_FASTARGS,    /* an array of the remaining argument kinds */
    VA_NARGS,       /* their count */
    VA_NULL,        /* NULL (kwargs, kwnames, closure) */
    VA_SCRATCH,     /* a zeroed scratch buffer (out-parameters, other pointers) */
    VA_INT,         /* 0 */
    VA_OP,          /* Py_EQ (rich comparison operator) */
    VA_VISIT,       /* a visitproc that does nothing */
} va_role;

enum { VA_MAX_PARAMS = 8, VA_MAX_CHOICES = 24, VA_MAX_KINDS = 7, VA_MAX_FIELDS = 8,
       VA_MAX_LITERALS = 48 };

typedef struct va_func {
    const char *name;
    int index;                  /* function index in the tu */
    unsigned line, end_line;
    int nparams;
    va_role roles[VA_MAX_PARAMS];
    const char *type_global;    /* PyTypeObject variable for VA_SELF/VA_TYPE, or NULL */
    int type_index;             /* that type among the file's (va_shape.c), or -1 */
    int ret;                    /* 0 object, 1 integer, 2 void */
    const char *unsupported;    /* why it cannot be called, or NULL */
    bool callable;              /* named by a method table, slot or other initializer */
    const char *slot;           /* the slot or field naming it ("tp_iternext"), or NULL */
    /* argument choices: each a list of kinds for prt_arg ("int", "str"...),
     * or the harness's own "int1" (the int 1), "key" (the str "key", a key of
     * the "dict" kind) and "null" (a NULL argument).
     * A choice may open with set-up flags, kinds starting with '+': "+exc" (an
     * exception is pending when the function is called: helpers only),
     * "+fill" (self's object fields the function reads are filled with fresh
     * probes where its constructor left them NULL) and "+bare" (self is
     * constructed without the arguments of init_kinds). */
    int nchoices;
    int nkinds[VA_MAX_CHOICES];
    const char *kinds[VA_MAX_CHOICES][VA_MAX_KINDS];
    /* self (VA_SELF): its C type as declared ("AccObject *") when it is a
     * struct of the file, and the object fields the function reads */
    const char *self_ctype;
    const char *self_fields[VA_MAX_FIELDS];
    int nfields;
    /* the arguments self's type is constructed with (tp_new and tp_init): the
     * first choice of its tp_init (else tp_new) */
    const char *init_kinds[VA_MAX_KINDS];
    int ninit;
} va_func;

typedef struct va_shapes {
    pa_arena arena;
    va_func *funcs;
    int nfuncs;
    const char *init_func;      /* the module's init function (decl: role module-init), or NULL */
    /* short string literals of the file (keys of the "dict-full" kind) */
    const char *literals[VA_MAX_LITERALS];
    int nliterals;
} va_shapes;

/* Reads every function definition of tu with its call shape (from method
 * tables, type slots and parameter types) and argument choices (from
 * PyArg_Parse* format strings).  Returns 0, or -1 when out of memory.
 * Free with va_shapes_free. */
int va_shapes_read(va_shapes *s, fe_tu *tu, const kb *k);
void va_shapes_free(va_shapes *s);
const va_func *va_shapes_find(const va_shapes *s, const char *name);

/* ---- harness ----------------------------------------------------------- */

typedef struct va_harness {
    char dir[4096];             /* build directory (in the cache) */
    char exe[4200];             /* the harness executable */
    char *error;                /* malloc'ed one-line reason it could not be built, or NULL */
} va_harness;

/* Generates, compiles and links the harness of source (cached by the hash
 * of the source's content, the flags and the runtime library), with the
 * file's own preprocessor flags (pp, from the compile database; may be
 * empty) before the command line's.  Returns 0 when h->exe is ready, 1
 * when the file cannot be built for validation (h->error says why), -1
 * with err set when nothing can be built at all. */
int va_harness_build(const va_options *o, const char *source, const char *const *pp, int npp,
                     const va_shapes *s, va_harness *h, char *err, size_t errlen);

/* Maps code addresses of h's executable to "file:line" strings (in order;
 * "??:0" when unknown).  Returns 0 and *lines (malloc'ed array of malloc'ed
 * strings), or -1. */
int va_addr2line(const va_options *o, const va_harness *h, const unsigned long *addrs, int n,
                 char ***lines);

/* The base name of a path (pointer into it). */
const char *va_basename(const char *path);

#endif
