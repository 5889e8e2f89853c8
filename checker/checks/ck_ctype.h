/* ck_ctype.h - compares C types written in the knowledge base (format
 * units' ctype=, slots' sig=) with the canonical types the frontend reports
 * for call arguments and function parameters.  Shared by the
 * format-mismatch and methoddef-signature rules.
 *
 * The knowledge base's type language (rules/README.md, "C types"): a C
 * type spelled with typedef names (`Py_ssize_t *`, `const char **`), or
 * `object` (a pointer to a Python object struct), `object *`, `pointer`
 * (any pointer), `function` (a function pointer), `any`.  Qualifiers are
 * ignored; typedef names are resolved through the file's own declarations,
 * so `long *` for `Py_ssize_t *` is accepted where Py_ssize_t is long.
 */
#ifndef PRC_CK_CTYPE_H
#define PRC_CK_CTYPE_H

#include <stdbool.h>
#include <stddef.h>

#include "../frontend/frontend.h"

typedef enum ck_ct_result {
    CK_CT_OK = 0,        /* the types agree (or differ only in signedness) */
    CK_CT_MISMATCH,      /* they do not */
    CK_CT_UNKNOWN,       /* cannot tell: a typedef the file does not declare */
} ck_ct_result;

/* Compares expected (the knowledge base's spelling) with a value of
 * canonical type `actual` and class `ty`; is_null says the value is a null
 * pointer constant (accepted for any pointer).  actual NULL: unknown. */
ck_ct_result ck_ctype_match(fe_tu *tu, const char *expected, const char *actual, ty_class ty,
                            bool is_null);

/* Copies item i (0-based) of a comma-separated type list into buf,
 * trimmed.  Returns 0, or -1 when the list has no item i. */
int ck_ctype_item(const char *list, int i, char *buf, size_t len);

/* The knowledge-base type as C readers know it ("object" is "PyObject *"),
 * written into buf; returns buf.  The _list form maps each item of a list. */
const char *ck_ctype_display(const char *type, char *buf, size_t len);
const char *ck_ctype_display_list(const char *list, char *buf, size_t len);

/* Whether a knowledge-base type is an integer that a printf length
 * modifier applies to (`int`, `unsigned int`). */
bool ck_ctype_is_plain_int(const char *type);

#endif
