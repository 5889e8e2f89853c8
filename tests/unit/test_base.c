/* test_base.c - unit tests of checker/base: the bump allocator (arena.h)
 * and the growable string with JSON escaping (strbuf.h).
 *
 * Arena: alignment and zeroing of pa_alloc, byte accounting, big blocks,
 * pa_strndup / pa_strdup, pa_printf around its 256-byte stack buffer,
 * pa_grow copying, the limit (pa_failed, the shared scratch block), and
 * pa_release followed by reuse.
 * Strbuf: append / printf growth, reset, and sb_json_str escaping (quotes,
 * backslashes, control characters, UTF-8 passthrough, invalid bytes).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/strbuf.h"

#define ALIGN _Alignof(max_align_t)

static size_t round_up(size_t n)
{
    size_t r = (n + ALIGN - 1) / ALIGN * ALIGN;
    return r ? r : ALIGN;
}

static int all_bytes(const void *p, size_t n, unsigned char v)
{
    const unsigned char *q = p;
    for (size_t i = 0; i < n; i++)
        if (q[i] != v)
            return 0;
    return 1;
}

/* Runs fn(arg) in a child process; returns 1 when the child finished
 * normally with status 0 (no crash, no sanitizer report), else 0 with a
 * description in why. */
static int runs_cleanly(void (*fn)(void *), void *arg, char *why, size_t whylen)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* cmocka catches SIGSEGV and would resume its test loop in the
         * child: let a crash kill the child instead */
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        signal(SIGILL, SIG_DFL);
        signal(SIGFPE, SIG_DFL);
        signal(SIGABRT, SIG_DFL);
        /* keep the child's crash report out of the test output */
        if (!freopen("/dev/null", "w", stderr))
            _exit(3);
        fn(arg);
        _exit(0);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    if (WIFSIGNALED(st))
        snprintf(why, whylen, "killed by signal %d", WTERMSIG(st));
    else
        snprintf(why, whylen, "exit status %d", WEXITSTATUS(st));
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ------------------------------------------------------------ arena */

static void test_alloc_alignment_and_accounting(void **state)
{
    (void)state;
    pa_arena a;
    pa_init(&a, 0);
    static const size_t sizes[] = { 1, 3, 7, 16, 17, 31, 33, 100, 0, 5 };
    size_t expect_used = 0;
    unsigned char *prev = NULL;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        unsigned char *p = pa_alloc(&a, sizes[i]);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % ALIGN, 0);
        expect_used += round_up(sizes[i]);
        assert_int_equal(a.bytes_used, expect_used);
        /* distinct, non-overlapping blocks */
        if (prev)
            assert_true(p >= prev + round_up(sizes[i - 1]) || p + round_up(sizes[i]) <= prev);
        prev = p;
    }
    /* 1+3+7 -> 3*16, 16, 17->32, 31->32, 33->48, 100->112, 0->16, 5->16 (x86-64: 16) */
    if (ALIGN == 16)
        assert_int_equal(a.bytes_used, 48 + 16 + 32 + 32 + 48 + 112 + 16 + 16);
    assert_false(pa_failed(&a));
    pa_release(&a);
    assert_null(a.head);
    assert_int_equal(a.bytes_used, 0);
}

static void test_alloc_zeroes_memory(void **state)
{
    (void)state;
    /* Dirty the heap first so a chunk reusing that memory would show it. */
    for (int round = 0; round < 3; round++) {
        unsigned char *dirty = malloc(70000);
        assert_non_null(dirty);
        memset(dirty, 0xA5, 70000);
        free(dirty);
        pa_arena a;
        pa_init(&a, 0);
        unsigned char *p = pa_alloc(&a, 1000);
        assert_true(all_bytes(p, 1000, 0));
        memset(p, 0xFF, 1000);
        unsigned char *q = pa_alloc(&a, 3000);
        assert_true(all_bytes(q, 3000, 0));
        assert_true(all_bytes(p, 1000, 0xFF));  /* untouched by the next alloc */
        pa_release(&a);
    }
}

static void test_alloc_big_blocks_and_chunks(void **state)
{
    (void)state;
    pa_arena a;
    pa_init(&a, 0);
    /* more than one 64 KiB chunk's worth, in pieces and in one block */
    unsigned char *small[200];
    for (int i = 0; i < 200; i++) {
        small[i] = pa_alloc(&a, 1000);
        memset(small[i], i, 1000);
    }
    unsigned char *big = pa_alloc(&a, 300000);
    assert_int_equal((uintptr_t)big % ALIGN, 0);
    assert_true(all_bytes(big, 300000, 0));
    memset(big, 0x5A, 300000);
    unsigned char *after = pa_alloc(&a, 10);
    assert_true(all_bytes(after, 10, 0));
    for (int i = 0; i < 200; i++)
        assert_true(all_bytes(small[i], 1000, (unsigned char)i));
    assert_true(all_bytes(big, 300000, 0x5A));
    assert_int_equal(a.bytes_used, 200 * round_up(1000) + round_up(300000) + round_up(10));
    pa_release(&a);
}

static void test_strndup_strdup(void **state)
{
    (void)state;
    pa_arena a;
    pa_init(&a, 0);
    const char *src = "hello world";
    char *s = pa_strndup(&a, src, 5);
    assert_string_equal(s, "hello");
    assert_ptr_not_equal(s, src);
    /* a source that is not NUL-terminated within len */
    char raw[4] = { 'a', 'b', 'c', 'd' };
    char *r = pa_strndup(&a, raw, 4);
    assert_int_equal(strlen(r), 4);
    assert_memory_equal(r, "abcd", 5);
    raw[0] = 'Z';
    assert_string_equal(r, "abcd");
    /* embedded NUL: len bytes copied anyway */
    char *e = pa_strndup(&a, "x\0y", 3);
    assert_int_equal(e[0], 'x');
    assert_int_equal(e[1], 0);
    assert_int_equal(e[2], 'y');
    assert_int_equal(e[3], 0);
    assert_string_equal(pa_strndup(&a, "abc", 0), "");
    char buf[16] = "mutable";
    char *d = pa_strdup(&a, buf);
    strcpy(buf, "changed");
    assert_string_equal(d, "mutable");
    assert_string_equal(pa_strdup(&a, NULL), "");
    assert_false(pa_failed(&a));
    pa_release(&a);
}

static void test_printf_short_and_long(void **state)
{
    (void)state;
    pa_arena a;
    pa_init(&a, 0);
    assert_string_equal(pa_printf(&a, "%s=%d", "x", 42), "x=42");
    assert_string_equal(pa_printf(&a, "%s", ""), "");
    /* lengths around the 256-byte stack buffer, and far beyond it */
    static const int lens[] = { 254, 255, 256, 257, 1000, 70000 };
    for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
        int n = lens[k];
        char *body = malloc((size_t)n + 1);
        assert_non_null(body);
        for (int i = 0; i < n; i++)
            body[i] = (char)('a' + i % 26);
        body[n] = '\0';
        /* "[" body "]#" n: n + 3 + digits characters */
        char *p = pa_printf(&a, "[%s]#%d", body, n);
        char tail[32];
        int tl = snprintf(tail, sizeof tail, "]#%d", n);
        assert_int_equal(strlen(p), (size_t)n + 1 + (size_t)tl);
        assert_int_equal(p[0], '[');
        assert_memory_equal(p + 1, body, (size_t)n);
        assert_string_equal(p + 1 + n, tail);
        free(body);
    }
    assert_false(pa_failed(&a));
    pa_release(&a);
}

static void test_grow_copies(void **state)
{
    (void)state;
    pa_arena a;
    pa_init(&a, 0);
    int *v = pa_grow(&a, NULL, 0, 4, sizeof *v);
    assert_true(all_bytes(v, 4 * sizeof *v, 0));
    for (int i = 0; i < 4; i++)
        v[i] = (i + 1) * 11;
    int *w = pa_grow(&a, v, 4, 100, sizeof *w);
    assert_ptr_not_equal(w, v);
    assert_int_equal(w[0], 11);
    assert_int_equal(w[1], 22);
    assert_int_equal(w[2], 33);
    assert_int_equal(w[3], 44);
    for (int i = 4; i < 100; i++)
        assert_int_equal(w[i], 0);
    /* the old block stays valid and unchanged */
    assert_int_equal(v[3], 44);
    w[0] = -1;
    assert_int_equal(v[0], 11);
    /* shrinking copies only new_n elements */
    int *s = pa_grow(&a, w, 100, 2, sizeof *s);
    assert_int_equal(s[0], -1);
    assert_int_equal(s[1], 22);
    /* struct elements */
    struct pt { double x; char tag; } *pts = pa_grow(&a, NULL, 0, 2, sizeof *pts);
    pts[0] = (struct pt){ 1.5, 'a' };
    pts[1] = (struct pt){ 2.5, 'b' };
    struct pt *pts2 = pa_grow(&a, pts, 2, 3, sizeof *pts2);
    assert_true(pts2[1].x == 2.5 && pts2[1].tag == 'b' && pts2[2].x == 0.0);
    assert_false(pa_failed(&a));
    pa_release(&a);
}

static void test_grow_overflow_fails(void **state)
{
    (void)state;
    pa_arena a;
    pa_init(&a, 0);
    void *p = pa_grow(&a, NULL, 0, SIZE_MAX / 2, 4);
    assert_non_null(p);
    assert_true(pa_failed(&a));
    assert_true(all_bytes(p, 256, 0));
    pa_release(&a);
}

static void test_alloc_huge_size_fails(void **state)
{
    (void)state;
    /* n close to SIZE_MAX must fail, not wrap around to a tiny block */
    pa_arena a;
    pa_init(&a, 0);
    (void)pa_alloc(&a, SIZE_MAX - 3);
    assert_true(pa_failed(&a));
    pa_release(&a);
}

static void test_limit_and_scratch(void **state)
{
    (void)state;
    pa_arena a;
    pa_init(&a, 4 * ALIGN);
    assert_int_equal(a.limit, 4 * ALIGN);
    void *p1 = pa_alloc(&a, 2 * ALIGN);
    void *p2 = pa_alloc(&a, 2 * ALIGN);   /* exactly at the limit: fine */
    assert_false(pa_failed(&a));
    assert_int_equal(a.bytes_used, 4 * ALIGN);
    assert_ptr_not_equal(p1, p2);
    void *f1 = pa_alloc(&a, 1);
    assert_true(pa_failed(&a));
    assert_non_null(f1);
    assert_int_equal((uintptr_t)f1 % ALIGN, 0);
    assert_true(all_bytes(f1, 256, 0));         /* zeroed scratch */
    assert_int_equal(a.bytes_used, 4 * ALIGN);  /* nothing handed out */
    void *f2 = pa_alloc(&a, 100);
    assert_ptr_equal(f1, f2);                   /* one shared block */
    /* string helpers give "" once the arena has failed */
    assert_string_equal(pa_strdup(&a, "abc"), "");
    assert_string_equal(pa_printf(&a, "%d", 12345), "");
    assert_true(pa_failed(&a));
    /* a second arena is not affected by the first one's failure */
    pa_arena b;
    pa_init(&b, 0);
    assert_false(pa_failed(&b));
    assert_string_equal(pa_strdup(&b, "ok"), "ok");
    pa_release(&b);

    /* release: the flag and the counter reset, the limit is kept */
    pa_release(&a);
    assert_false(pa_failed(&a));
    assert_int_equal(a.bytes_used, 0);
    assert_int_equal(a.limit, 4 * ALIGN);
    assert_null(a.head);
    char *s = pa_strdup(&a, "reuse");
    assert_string_equal(s, "reuse");
    assert_false(pa_failed(&a));
    pa_release(&a);
}

static void test_limit_hit_by_big_request(void **state)
{
    (void)state;
    pa_arena a;
    pa_init(&a, 1000);
    void *p = pa_alloc(&a, 1001);
    assert_true(pa_failed(&a));
    assert_int_equal(a.bytes_used, 0);
    assert_null(a.head);   /* no chunk was allocated for it */
    (void)p;
    pa_release(&a);
}

static void write_scratch(void *arg)
{
    (void)arg;
    pa_arena a;
    pa_init(&a, 8);
    unsigned char *p = pa_alloc(&a, 64);
    if (!pa_failed(&a))
        _exit(2);
    /* arena.h: the scratch block "must not be written beyond 256 bytes",
     * i.e. writing within them is allowed (cfg.c does so on OOM). */
    p[0] = 1;
    p[255] = 1;
    pa_release(&a);
}

static void test_scratch_is_writable(void **state)
{
    (void)state;
    char why[64] = "";
    if (runs_cleanly(write_scratch, NULL, why, sizeof why) != 1)
        fail_msg("writing to the scratch block returned on failure crashed (%s)", why);
}

static void test_release_then_reuse(void **state)
{
    (void)state;
    pa_arena a;
    memset(&a, 0, sizeof a);   /* zero-initialised is a valid arena */
    for (int round = 0; round < 3; round++) {
        char *s = pa_printf(&a, "round %d", round);
        char expect[16];
        snprintf(expect, sizeof expect, "round %d", round);
        assert_string_equal(s, expect);
        unsigned char *big = pa_alloc(&a, 100000);
        assert_true(all_bytes(big, 100000, 0));
        memset(big, 0xEE, 100000);
        assert_int_equal(a.bytes_used, round_up(strlen(expect) + 1) + round_up(100000));
        pa_release(&a);
        assert_int_equal(a.bytes_used, 0);
        assert_null(a.head);
    }
    pa_release(&a);   /* releasing an empty arena is harmless */
}

/* ------------------------------------------------------------ strbuf */

static void test_sb_empty(void **state)
{
    (void)state;
    sb_buf b = {0};
    assert_string_equal(sb_str(&b), "");
    assert_null(b.data);
    sb_reset(&b);   /* on an empty buffer */
    assert_int_equal(b.len, 0);
    sb_free(&b);
    assert_null(b.data);
}

static void test_sb_append_growth(void **state)
{
    (void)state;
    sb_buf b = {0};
    char expect[3001];
    for (int i = 0; i < 3000; i++) {
        char c = (char)('0' + i % 10);
        sb_putc(&b, c);
        expect[i] = c;
        assert_true(b.cap >= b.len + 1);
    }
    expect[3000] = '\0';
    assert_int_equal(b.len, 3000);
    assert_string_equal(sb_str(&b), expect);
    assert_int_equal(strlen(sb_str(&b)), 3000);
    assert_false(b.oom);
    sb_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(sb_str(&b), "");
    sb_append(&b, "abcdef", 3);
    sb_puts(&b, "XY");
    assert_string_equal(sb_str(&b), "abcXY");
    assert_int_equal(b.len, 5);
    /* one append bigger than several doublings */
    char big[5000];
    memset(big, 'q', sizeof big);
    sb_append(&b, big, sizeof big);
    assert_int_equal(b.len, 5005);
    assert_true(b.cap >= 5006);
    assert_memory_equal(sb_str(&b), "abcXY", 5);
    assert_true(all_bytes(sb_str(&b) + 5, 5000, 'q'));
    assert_int_equal(sb_str(&b)[5005], '\0');
    sb_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
}

static void test_sb_printf_growth(void **state)
{
    (void)state;
    sb_buf b = {0};
    sb_printf(&b, "%s", "");
    assert_string_equal(sb_str(&b), "");
    assert_int_equal(b.len, 0);
    sb_printf(&b, "%d-%s", 7, "x");
    assert_string_equal(sb_str(&b), "7-x");
    char word[301];
    memset(word, 'w', 300);
    word[300] = '\0';
    for (int i = 0; i < 10; i++)
        sb_printf(&b, "|%s|%03d", word, i);
    /* "7-x" + 10 * (1 + 300 + 1 + 3) */
    assert_int_equal(b.len, 3 + 10 * 305);
    assert_int_equal(strlen(sb_str(&b)), b.len);
    const char *s = sb_str(&b);
    assert_memory_equal(s + 3, "|", 1);
    assert_true(all_bytes(s + 4, 300, 'w'));
    assert_memory_equal(s + 304, "|000|", 5);
    assert_string_equal(s + b.len - 5, "w|009");
    sb_free(&b);
}

static void json_of(const char *in, char *out, size_t outlen)
{
    sb_buf b = {0};
    sb_json_str(&b, in);
    snprintf(out, outlen, "%s", sb_str(&b));
    sb_free(&b);
}

static void test_json_escapes(void **state)
{
    (void)state;
    char o[256];
    json_of("plain text", o, sizeof o);
    assert_string_equal(o, "\"plain text\"");
    json_of("", o, sizeof o);
    assert_string_equal(o, "\"\"");
    json_of(NULL, o, sizeof o);
    assert_string_equal(o, "\"\"");
    json_of("say \"hi\"", o, sizeof o);
    assert_string_equal(o, "\"say \\\"hi\\\"\"");
    json_of("C:\\dir\\", o, sizeof o);
    assert_string_equal(o, "\"C:\\\\dir\\\\\"");
    json_of("a\nb\rc\td", o, sizeof o);
    assert_string_equal(o, "\"a\\nb\\rc\\td\"");
    json_of("\x01\x08\x0c\x1f\x7f", o, sizeof o);
    assert_string_equal(o, "\"\\u0001\\u0008\\u000c\\u001f\\u007f\"");
    json_of("/ and ' stay", o, sizeof o);
    assert_string_equal(o, "\"/ and ' stay\"");
    /* appends after what is already there */
    sb_buf b = {0};
    sb_puts(&b, "k: ");
    sb_json_str(&b, "v");
    sb_putc(&b, ',');
    assert_string_equal(sb_str(&b), "k: \"v\",");
    sb_free(&b);
}

static void test_json_utf8_passthrough(void **state)
{
    (void)state;
    char o[256];
    /* é (2 bytes), € (3 bytes), U+1F600 (4 bytes) */
    json_of("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80!", o, sizeof o);
    assert_string_equal(o, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80!\"");
    /* highest code point U+10FFFF, and U+FFFF */
    json_of("\xf4\x8f\xbf\xbf\xef\xbf\xbf", o, sizeof o);
    assert_string_equal(o, "\"\xf4\x8f\xbf\xbf\xef\xbf\xbf\"");
}

static void test_json_invalid_bytes(void **state)
{
    (void)state;
    char o[256];
    /* Latin-1 source: é is the single byte 0xE9 */
    json_of("caf\xe9", o, sizeof o);
    assert_string_equal(o, "\"caf\\ufffd\"");
    json_of("\xe9t\xe9", o, sizeof o);
    assert_string_equal(o, "\"\\ufffdt\\ufffd\"");
    /* lone continuation byte and impossible bytes */
    json_of("a\x80" "b\xff" "c\xfe", o, sizeof o);
    assert_string_equal(o, "\"a\\ufffdb\\ufffdc\\ufffd\"");
    /* lead byte followed by ASCII: the ASCII survives */
    json_of("\xc3" "A", o, sizeof o);
    assert_string_equal(o, "\"\\ufffdA\"");
    /* truncated 3-byte sequence at the end: both bytes replaced, no
     * read past the terminator */
    json_of("x\xe2\x82", o, sizeof o);
    assert_string_equal(o, "\"x\\ufffd\\ufffd\"");
}

/* Strict UTF-8 validity (RFC 3629): no overlongs, no surrogates, nothing
 * above U+10FFFF. */
static int valid_utf8(const unsigned char *s)
{
    while (*s) {
        unsigned c = *s;
        int n;
        unsigned cp;
        if (c < 0x80) {
            s++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1; cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2; cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3; cp = c & 0x07;
        } else
            return 0;
        for (int i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        s += n + 1;
    }
    return 1;
}

static void test_json_output_is_valid_utf8(void **state)
{
    (void)state;
    /* Byte sequences that look like UTF-8 by their bit patterns but are
     * invalid: overlong '/', overlong NUL, a UTF-16 surrogate, a code
     * point above U+10FFFF.  JSON must be valid UTF-8 (RFC 8259), so
     * each must come out replaced, not copied. */
    static const char *const bad[] = {
        "\xc0\xaf", "\xc0\x80", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf5\x80\x80\x80",
        "\xf0\x80\x80\xaf",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char o[256];
        json_of(bad[i], o, sizeof o);
        if (!valid_utf8((const unsigned char *)o) || !strstr(o, "\\ufffd"))
            fail_msg("sb_json_str copied invalid UTF-8 sequence #%zu through unchanged", i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_alignment_and_accounting),
        cmocka_unit_test(test_alloc_zeroes_memory),
        cmocka_unit_test(test_alloc_big_blocks_and_chunks),
        cmocka_unit_test(test_strndup_strdup),
        cmocka_unit_test(test_printf_short_and_long),
        cmocka_unit_test(test_grow_copies),
        cmocka_unit_test(test_grow_overflow_fails),
        cmocka_unit_test(test_alloc_huge_size_fails),
        cmocka_unit_test(test_limit_and_scratch),
        cmocka_unit_test(test_limit_hit_by_big_request),
        cmocka_unit_test(test_scratch_is_writable),
        cmocka_unit_test(test_release_then_reuse),
        cmocka_unit_test(test_sb_empty),
        cmocka_unit_test(test_sb_append_growth),
        cmocka_unit_test(test_sb_printf_growth),
        cmocka_unit_test(test_json_escapes),
        cmocka_unit_test(test_json_utf8_passthrough),
        cmocka_unit_test(test_json_invalid_bytes),
        cmocka_unit_test(test_json_output_is_valid_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
