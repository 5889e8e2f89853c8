/* kb_internal.h - declarations shared by kb.c (loading, lookup) and
 * kb_fmt.c (format strings).  Not for use outside checker/kb/.
 */
#ifndef PRC_KB_INTERNAL_H
#define PRC_KB_INTERNAL_H

#include "kb.h"

/* Splits format using the rows of table a (searched first) and then b;
 * either may be empty.  Contract of kb_format_units. */
int kb__split(const kb_fmt_spec *a, int na, const kb_fmt_spec *b, int nb,
              kb_format kind, const char *format, kb_fmt_unit *units,
              int max, char *err, size_t errlen);

/* Name tables shared by the loader and the printers; index = enum value. */
extern const char *const kb__ret_names[];      /* KB_RET_UNKNOWN .. KB_RET_PTR */
extern const char *const kb__fail_names[];     /* KB_FAIL_NEVER .. */
extern const char *const kb__fmt_names[];      /* KB_FMT_NONE .. KB_FMT_PRINTF */
extern const char *const kb__effect_names[];   /* KB_FU_NONE .. KB_FU_IN_BORROW */
extern const char *const kb__gil_names[];      /* KB_GIL_KEEP .. KB_GIL_ACQUIRE */
extern const char *const kb__ok_names[];       /* KB_OK_NONNEG .. KB_OK_BOOL */
#define KB__NRET    7
#define KB__NFAIL   7
#define KB__NFMT    5
#define KB__NEFFECT 6
#define KB__NGIL    3
#define KB__NOK     3

#endif
