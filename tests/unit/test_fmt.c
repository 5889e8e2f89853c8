/* test_fmt.c - unit tests of what the format-mismatch and
 * methoddef-signature rules read: the ctype= / sig= / when= / sentinel=
 * keys of the knowledge base, the C types attached to format units, and
 * the type comparison of checks/ck_ctype.c (builtin types; typedef names
 * need a parsed file and are covered by fixtures/format-mismatch). */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks/ck_ctype.h"
#include "kb/kb.h"

static char tmpdir[] = "/tmp/test_fmt_XXXXXX";

/* Loads text as a rules file into a new kb; returns it, or NULL with the
 * error in err. */
static kb *load_text(const char *text, char *err, size_t errlen)
{
    char path[256];
    static int seq;
    snprintf(path, sizeof path, "%s/r%d.rules", tmpdir, seq++);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    kb *k = kb_new();
    assert_non_null(k);
    if (kb_load_file(k, path, err, errlen) != 0) {
        kb_free(k);
        return NULL;
    }
    return k;
}

static void expect_load_error(const char *text, const char *substring)
{
    char err[512] = "";
    kb *k = load_text(text, err, sizeof err);
    if (k) {
        kb_free(k);
        fail_msg("loaded, want an error containing '%s': %s", substring, text);
    }
    if (!strstr(err, substring))
        fail_msg("error '%s' lacks '%s'", err, substring);
}

static void test_keys_load(void **state)
{
    (void)state;
    char err[512] = "";
    kb *k = load_text(
        "@unit parse i nargs=1 ctype=(int *)\n"
        "@unit parse s# nargs=2 ctype=(const char **, Py_ssize_t *)\n"
        "@unit printf d nargs=1 ctype=(int)\n"
        "@unit printf l length=yes ctype=(long)\n"
        "slot:tp_hash ret=int fail=neg args=(self:nonnull) sig=(Py_hash_t; object)\n"
        "slot:ml_meth/o ret=new fail=null when=(ml_flags: METH_O) args=(self, arg) sig=(object; object, object)\n"
        "table:PyMethodDef sentinel=ml_name\n"
        "decl:PyTypeObject role=type-object\n"
        "decl:PyInit_* role=module-init\n"
        "decl:PyInit_special* role=object\n",
        err, sizeof err);
    if (!k)
        fail_msg("%s", err);
    const kb_entry *h = kb_lookup(k, "slot:tp_hash");
    assert_non_null(h);
    assert_string_equal(h->sig, "Py_hash_t; object");
    assert_null(h->when);
    const kb_entry *o = kb_lookup(k, "slot:ml_meth/o");
    assert_non_null(o);
    assert_string_equal(o->when, "ml_flags: METH_O");
    const kb_entry *t = kb_lookup(k, "table:PyMethodDef");
    assert_non_null(t);
    assert_string_equal(t->sentinel, "ml_name");
    /* decl: roles, exact names and the longest matching prefix */
    assert_string_equal(kb_decl_role(k, "PyTypeObject"), "type-object");
    assert_string_equal(kb_decl_role(k, "PyInit_spam"), "module-init");
    assert_string_equal(kb_decl_role(k, "PyInit_special_x"), "object");
    assert_null(kb_decl_role(k, "PyTypeObjectX"));
    assert_null(kb_decl_role(k, "PyInit"));
    /* the canonical line carries the new keys */
    char line[512];
    kb_entry_format(o, line, sizeof line);
    assert_non_null(strstr(line, "when=(ml_flags: METH_O)"));
    assert_non_null(strstr(line, "sig=(object; object, object)"));

    kb_fmt_unit u[8];
    int n = kb_format_units_in(k, KB_FMT_PARSE, "is#", u, 8, err, sizeof err);
    assert_int_equal(n, 2);
    assert_string_equal(u[0].ctypes, "int *");
    assert_string_equal(u[1].ctypes, "const char **, Py_ssize_t *");
    n = kb_format_units_in(k, KB_FMT_PRINTF, "%*ld %.*d", u, 8, err, sizeof err);
    assert_int_equal(n, 2);
    assert_int_equal(u[0].stars, 1);
    assert_int_equal(u[0].nargs, 2);
    assert_string_equal(u[0].ctypes, "int");
    assert_string_equal(u[0].length_ctype, "long");
    assert_int_equal(u[1].stars, 1);
    assert_null(u[1].length_ctype);
    kb_free(k);
}

static void test_keys_errors(void **state)
{
    (void)state;
    expect_load_error("@unit parse s# nargs=2 ctype=(const char **)\n", "1 types for 2 arguments");
    expect_load_error("@unit parse i nargs=1 ctype=int\n", "in parentheses");
    expect_load_error("@unit parse i nargs=1 ctype=(int [3])\n", "not a type");
    expect_load_error("PyFoo ret=int sig=(int; int)\n", "for slot: entries");
    expect_load_error("slot:tp_hash ret=int sig=(int)\n", "RETURN-TYPE");
    expect_load_error("slot:tp_hash ret=int args=(self) sig=(int; object, object)\n",
                      "2 parameters, args= 1");
    expect_load_error("slot:ml_meth when=(ml_flags: METH_O)\n", "slot variants");
    expect_load_error("slot:ml_meth/o when=(METH_O)\n", "FIELD: MACRO");
    expect_load_error("slot:ml_meth/o when=(ml_flags: METH-O)\n", "not a macro name");
    expect_load_error("table:PyMethodDef ret=int\n", "sentinel=");
    expect_load_error("PyMethodDef sentinel=ml_name\n", "sentinel=");
    expect_load_error("slot:ml_meth/ ret=new\n", "not a C identifier");
    expect_load_error("decl:PyTypeObject ret=int\n", "role=");
    expect_load_error("PyTypeObject role=object\n", "role=");
    expect_load_error("decl:PyTypeObject role=thing\n", "expected type-object");
}

/* The shipped formats.rules: every unit with arguments has ctype=. */
static void test_shipped_units_typed(void **state)
{
    (void)state;
    const char *dir = getenv("PYREFCHECK_SOURCE_DIR");
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/rules/formats.rules", dir ? dir : ".");
    kb *k = kb_new();
    if (kb_load_file(k, path, err, sizeof err) != 0)
        fail_msg("%s", err);
    const kb_fmt_spec *specs;
    int n = kb_format_specs(k, &specs);
    assert_true(n > 50);
    for (int i = 0; i < n; i++)
        if ((specs[i].nargs > 0 || specs[i].length) && !specs[i].ctypes)
            fail_msg("@unit %s %s has no ctype=", kb_format_name(specs[i].kind), specs[i].code);
    kb_fmt_unit u[8];
    assert_int_equal(kb_format_units_in(k, KB_FMT_PARSE, "O!", u, 8, err, sizeof err), 1);
    assert_string_equal(u[0].ctypes, "PyTypeObject *, object *");
    assert_int_equal(kb_format_units_in(k, KB_FMT_PRINTF, "%zd", u, 8, err, sizeof err), 1);
    assert_string_equal(u[0].length_ctype, "Py_ssize_t");
    kb_free(k);
}

#define MATCH(want, exp, act, ty) \
    assert_int_equal(ck_ctype_match(NULL, exp, act, ty, false), want)

static void test_ctype_match(void **state)
{
    (void)state;
    MATCH(CK_CT_OK, "int *", "int *", TY_PTR);
    MATCH(CK_CT_MISMATCH, "int *", "long *", TY_PTR);
    MATCH(CK_CT_MISMATCH, "long", "int", TY_INT);
    MATCH(CK_CT_MISMATCH, "long long", "long", TY_INT);     /* same width on LP64, other type */
    MATCH(CK_CT_OK, "unsigned int *", "int *", TY_PTR);     /* signedness only */
    MATCH(CK_CT_OK, "unsigned char *", "char *", TY_PTR);
    MATCH(CK_CT_OK, "const char **", "char **", TY_PTR);    /* qualifiers ignored */
    MATCH(CK_CT_OK, "const char *", "const unsigned char *", TY_PTR);
    MATCH(CK_CT_MISMATCH, "const char **", "const char *", TY_PTR);
    MATCH(CK_CT_MISMATCH, "double *", "float *", TY_PTR);
    MATCH(CK_CT_MISMATCH, "int *", "char *", TY_PTR);
    MATCH(CK_CT_OK, "int", "enum color", TY_INT);
    MATCH(CK_CT_OK, "int *", "void *", TY_PTR);             /* void * is generic */
    MATCH(CK_CT_OK, "object", "struct _object *", TY_OBJ);
    MATCH(CK_CT_OK, "object", "PyListObject *", TY_OBJ);
    MATCH(CK_CT_MISMATCH, "object", "struct _object **", TY_OBJPTR);
    MATCH(CK_CT_MISMATCH, "object", "const char *", TY_PTR);
    MATCH(CK_CT_OK, "object", "struct _typeobject *", TY_PTR);   /* opaque (limited API) */
    MATCH(CK_CT_MISMATCH, "object", "struct _typeobject **", TY_PTR);
    MATCH(CK_CT_MISMATCH, "object", "int", TY_INT);
    MATCH(CK_CT_OK, "object *", "struct _object **", TY_OBJPTR);
    MATCH(CK_CT_MISMATCH, "object *", "struct _object *", TY_OBJ);
    MATCH(CK_CT_OK, "object *", "struct _object *const *", TY_OBJPTR);
    MATCH(CK_CT_OK, "function", "int (*)(struct _object *, void *)", TY_PTR);
    MATCH(CK_CT_MISMATCH, "function", "int *", TY_PTR);
    MATCH(CK_CT_OK, "pointer", "char *", TY_PTR);
    MATCH(CK_CT_MISMATCH, "pointer", "int", TY_INT);
    MATCH(CK_CT_OK, "any", "double", TY_FLOAT);
    MATCH(CK_CT_UNKNOWN, "int *", NULL, TY_OTHER);
    /* a null pointer constant fits any pointer, not an integer */
    assert_int_equal(ck_ctype_match(NULL, "object *", "void *", TY_PTR, true), CK_CT_OK);
    assert_int_equal(ck_ctype_match(NULL, "const char *", "int", TY_INT, true), CK_CT_OK);
    assert_int_equal(ck_ctype_match(NULL, "int", "int", TY_INT, true), CK_CT_OK);
    assert_int_equal(ck_ctype_match(NULL, "long", "int", TY_INT, true), CK_CT_MISMATCH);
}

static void test_ctype_items(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(ck_ctype_item("const char *, char **, Py_ssize_t *", 1, buf, sizeof buf), 0);
    assert_string_equal(buf, "char **");
    assert_int_equal(ck_ctype_item("int", 0, buf, sizeof buf), 0);
    assert_string_equal(buf, "int");
    assert_int_equal(ck_ctype_item("int", 1, buf, sizeof buf), -1);
    assert_int_equal(ck_ctype_item(NULL, 0, buf, sizeof buf), -1);
    assert_string_equal(ck_ctype_display("object *", buf, sizeof buf), "PyObject **");
    assert_string_equal(ck_ctype_display("Py_ssize_t", buf, sizeof buf), "Py_ssize_t");
    char list[128];
    assert_string_equal(ck_ctype_display_list(" object, object *, Py_ssize_t", list, sizeof list),
                        "PyObject *, PyObject **, Py_ssize_t");
    assert_true(ck_ctype_is_plain_int("unsigned int"));
    assert_false(ck_ctype_is_plain_int("const char *"));
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_load),
        cmocka_unit_test(test_keys_errors),
        cmocka_unit_test(test_shipped_units_typed),
        cmocka_unit_test(test_ctype_match),
        cmocka_unit_test(test_ctype_items),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
