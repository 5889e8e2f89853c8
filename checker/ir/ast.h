/* ast.h - pyrefcheck's own syntax tree, produced by the frontend.
 *
 * The frontend (the only module that talks to libclang) converts each
 * function body into this small tree; the CFG builder (cfg.c) and the engine
 * never see a CXCursor.  Nodes keep the outermost macro expansion they came
 * from, so `Py_CLEAR(x)` stays recognisable whatever the headers expand it to.
 * All nodes live in the arena of the function (or of the file, for globals).
 */
#ifndef PRC_AST_H
#define PRC_AST_H

#include <stdbool.h>
#include <stdint.h>

/* A position in the user's source (expansion location for macro code). */
typedef struct src_loc {
    const char *file;   /* path as given to the parser; NULL if unknown */
    uint32_t line;      /* 1-based; 0 if unknown */
    uint32_t col;       /* 1-based */
} src_loc;

/* Coarse type classes; what the engine needs to know about a value. */
typedef enum ty_class {
    TY_OTHER = 0,   /* struct, array, function, unknown */
    TY_VOID,
    TY_INT,         /* any integer, enum, bool or char type */
    TY_FLOAT,
    TY_PTR,         /* pointer to something that is not a Python object */
    TY_OBJ,         /* PyObject* or pointer to a struct starting with PyObject_HEAD */
    TY_OBJPTR,      /* PyObject** (or pointer to TY_OBJ) */
} ty_class;

typedef enum var_kind {
    VAR_LOCAL,      /* automatic variable of the function */
    VAR_PARAM,      /* function parameter */
    VAR_STATIC,     /* function-scope static: lives beyond the call */
    VAR_GLOBAL,     /* file-scope or extern variable */
    VAR_TEMP,       /* temporary introduced by the CFG builder */
} var_kind;

typedef struct ast_var {
    const char *name;
    int id;                  /* unique within the function; globals: -1 - index */
    var_kind kind;
    ty_class ty;
    const char *type_name;   /* spelling of the declared type, for messages */
    const char *cleanup_fn;  /* __attribute__((cleanup(f))) or NULL */
    bool is_array;           /* declared as an array (its address is the value) */
    bool external;           /* a global declared outside the file (PyExc_TypeError) */
    src_loc loc;
    const struct ast_expr *static_init; /* VAR_STATIC locals: the initializer (run once,
                                           not part of the CFG; kwlist arrays), or NULL */
} ast_var;

typedef enum ax_kind {
    AX_UNKNOWN = 0,  /* anything the frontend does not model; kids evaluated */
    AX_INT,          /* integer / char literal: ival */
    AX_FLOAT,        /* floating literal */
    AX_STRING,       /* string literal: str */
    AX_NULL,         /* a null pointer constant (NULL, 0 in pointer context) */
    AX_VAR,          /* use of a variable: var */
    AX_FUNC,         /* a function designator: name */
    AX_CALL,         /* kids[0] = callee, kids[1..] = arguments; name = direct callee or NULL */
    AX_MACRO,        /* a recognised API macro collapsed to a call: name, kids = arguments */
    AX_MEMBER,       /* kids[0] = base; name = field; op = 1 for '->', 0 for '.' */
    AX_INDEX,        /* kids[0][kids[1]] */
    AX_UNARY,        /* op = ax_op; kids[0] */
    AX_BINARY,       /* op = ax_op; kids[0] op kids[1] (never && || ,) */
    AX_LOGIC,        /* op = AO_LAND / AO_LOR; kids[0], kids[1] (lowered by the CFG) */
    AX_ASSIGN,       /* kids[0] = kids[1]; op = AO_NONE or the compound operator */
    AX_COND,         /* kids[0] ? kids[1] : kids[2]; kids[1] NULL for GNU kids[0] ?: kids[2] */
    AX_COMMA,        /* kids[0], kids[1] (lowered by the CFG) */
    AX_CAST,         /* (type) kids[0] */
    AX_ADDR,         /* &kids[0] */
    AX_DEREF,        /* *kids[0] */
    AX_SIZEOF,       /* sizeof / alignof: no evaluation */
    AX_STMT_EXPR,    /* GNU ({ ... }): stmt (lowered by the CFG) */
    AX_INIT_LIST,    /* { kids... }; name = designator field for each kid in kid_names */
    AX_LABEL_ADDR,   /* &&label (computed goto): name */
} ax_kind;

typedef enum ax_op {
    AO_NONE = 0,
    AO_ADD, AO_SUB, AO_MUL, AO_DIV, AO_REM, AO_SHL, AO_SHR,
    AO_AND, AO_OR, AO_XOR,
    AO_EQ, AO_NE, AO_LT, AO_GT, AO_LE, AO_GE,
    AO_LAND, AO_LOR,
    AO_NOT, AO_NEG, AO_PLUS, AO_BITNOT,
    AO_PREINC, AO_PREDEC, AO_POSTINC, AO_POSTDEC,
} ax_op;

typedef struct ast_stmt ast_stmt;

typedef struct ast_expr {
    ax_kind kind;
    ax_op op;
    ty_class ty;             /* type class of the expression's value */
    src_loc loc;             /* where a diagnostic about it should point */
    const char *name;        /* callee, field, macro or label name */
    const char *str;         /* string literal contents (AX_STRING) */
    const char *text;        /* short source spelling, for notes and fingerprints */
    ast_var *var;            /* AX_VAR */
    long long ival;          /* AX_INT */
    struct ast_expr **kids;
    const char **kid_names;  /* AX_INIT_LIST: designator per kid or NULL */
    int nkids;
    ast_stmt *stmt;          /* AX_STMT_EXPR */
    const char *macro;       /* outermost macro expansion this came from, or NULL */
    bool callee_noreturn;    /* AX_CALL: callee declared noreturn */
    const struct ast_annot *annot; /* AX_CALL: pyrefcheck annotations on the callee */
    const char *ctype;       /* arguments of an AX_CALL: canonical spelling of the C type
                                passed, after promotions ("long *", "struct _object *");
                                NULL elsewhere */
} ast_expr;

typedef enum as_kind {
    AS_NULL = 0,     /* empty statement */
    AS_COMPOUND,     /* kids */
    AS_DECL,         /* var, expr = initializer or NULL */
    AS_EXPR,         /* expr */
    AS_IF,           /* expr, kids[0] then, kids[1] else or NULL */
    AS_WHILE,        /* expr, kids[0] body */
    AS_DO,           /* kids[0] body, expr */
    AS_FOR,          /* kids[0] init or NULL, expr cond or NULL, expr2 step or NULL, kids[1] body */
    AS_SWITCH,       /* expr, kids[0] body */
    AS_CASE,         /* ival (..ival2 for GNU ranges), kids[0] statement */
    AS_DEFAULT,      /* kids[0] statement */
    AS_BREAK,
    AS_CONTINUE,
    AS_RETURN,       /* expr or NULL */
    AS_GOTO,         /* name = label */
    AS_INDIRECT_GOTO,/* expr */
    AS_LABEL,        /* name, kids[0] statement */
    AS_ASM,          /* inline assembly: opaque */
} as_kind;

struct ast_stmt {
    as_kind kind;
    src_loc loc;
    ast_expr *expr;
    ast_expr *expr2;
    ast_var *var;
    const char *name;
    long long ival, ival2;
    ast_stmt **kids;
    int nkids;
    const char *macro;       /* outermost macro expansion, or NULL */
    src_loc end_loc;         /* AS_COMPOUND: the closing brace; AS_FOR: the statement */
};

/* Annotation flags a project puts on its own functions (pyrefcheck.h). */
struct ast_annot {
    bool returns_borrowed;
    bool returns_new;
    bool sets_exception;
    uint32_t steals;         /* bit i: steals argument i */
};
typedef struct ast_annot ast_annot;

typedef struct ast_func {
    const char *name;
    src_loc loc;             /* location of the name */
    src_loc end_loc;         /* closing brace */
    ty_class ret_ty;
    const char *ret_type_name;
    bool is_static;
    bool is_inline;
    bool is_noreturn;
    ast_var **params;
    int nparams;
    ast_var **vars;          /* every local, parameter and temp, by id */
    int nvars;
    ast_stmt *body;
    ast_annot annot;
    bool too_deep;           /* nesting beyond the frontend's limit was cut */
} ast_func;

/* A file-scope variable with an initializer: method tables, type slots. */
typedef struct ast_global {
    ast_var *var;
    ast_expr *init;          /* may be NULL */
    const char *type_name;   /* e.g. "PyMethodDef[]" */
} ast_global;

#endif
