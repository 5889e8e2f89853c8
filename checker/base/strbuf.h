/* strbuf.h - growable heap string for building output text. */
#ifndef PRC_STRBUF_H
#define PRC_STRBUF_H

#include <stddef.h>
#include <stdbool.h>

typedef struct sb_buf {
    char *data;     /* NUL-terminated once anything was appended; may be NULL */
    size_t len;     /* bytes used, excluding the NUL */
    size_t cap;     /* bytes allocated */
    bool oom;       /* an append failed for lack of memory */
} sb_buf;

void sb_append(sb_buf *b, const char *s, size_t n);
void sb_puts(sb_buf *b, const char *s);
void sb_putc(sb_buf *b, char c);
void sb_printf(sb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (with quotes and escapes). */
void sb_json_str(sb_buf *b, const char *s);
/* Returns the text ("" when empty); owned by the buffer. */
const char *sb_str(const sb_buf *b);
void sb_reset(sb_buf *b);
void sb_free(sb_buf *b);

#endif
