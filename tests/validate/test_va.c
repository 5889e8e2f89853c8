/* test_va.c - unit tests of the validation module's parts that do not need
 * the reference runtime: child processes (va_spawn: output, exit status,
 * signals, wall-clock timeout with the whole process group killed, the
 * address-space limit) and call shapes read from a parsed file
 * (va_shapes_read: METH_* flags, type slots, getset entries, self types,
 * argument choices from PyArg_ParseTuple formats).
 */
#define _GNU_SOURCE 1

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "validate/va_internal.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void spawn_sh(const char *script, double timeout, long mem_mb, va_child *c)
{
    const char *argv[] = { "sh", "-c", script, NULL };
    const char *env[] = { "VA_TEST_VALUE=42", NULL };
    char err[256] = "";
    int rc = va_spawn(argv, env, timeout, mem_mb, c, err, sizeof err);
    if (rc != 0)
        fail_msg("va_spawn: %s", err);
}

static void test_child_output_and_status(void **state)
{
    (void)state;
    va_child c;
    spawn_sh("echo out; echo err >&2; echo $VA_TEST_VALUE; exit 3", 10, 0, &c);
    assert_int_equal(c.exit_code, 3);
    assert_int_equal(c.signal, 0);
    assert_false(c.timed_out);
    assert_non_null(strstr(c.out, "out\n"));
    assert_non_null(strstr(c.out, "err\n"));
    assert_non_null(strstr(c.out, "42\n"));
    free(c.out);
    /* stdin is /dev/null: a reader does not wait for us */
    spawn_sh("cat; echo done", 10, 0, &c);
    assert_int_equal(c.exit_code, 0);
    assert_string_equal(c.out, "done\n");
    free(c.out);
}

static void test_child_signal(void **state)
{
    (void)state;
    va_child c;
    spawn_sh("kill -SEGV $$", 10, 0, &c);
    assert_int_equal(c.signal, SIGSEGV);
    assert_int_equal(c.exit_code, -1);
    assert_false(c.timed_out);
    free(c.out);
}

static void test_child_timeout_kills_group(void **state)
{
    (void)state;
    va_child c;
    double t0 = now();
    /* a grandchild keeps the output pipe open: the whole group must go */
    spawn_sh("sleep 30 & sleep 30; echo never", 0.5, 0, &c);
    double took = now() - t0;
    assert_true(c.timed_out);
    assert_true(took < 5);
    assert_null(strstr(c.out, "never"));
    free(c.out);
    /* an endless loop is stopped too (CPU limit or the wall clock) */
    t0 = now();
    spawn_sh("while :; do :; done", 0.5, 0, &c);
    assert_true(now() - t0 < 5);
    assert_true(c.timed_out || c.signal == SIGXCPU || c.signal == SIGKILL);
    free(c.out);
}

static void test_child_memory_limit(void **state)
{
    (void)state;
    va_child c;
    /* 64 MiB of address space is not enough for a 512 MiB allocation */
    spawn_sh("exec python3 -c 'b = bytearray(512 << 20); print(\"allocated\")'", 20, 64, &c);
    assert_true(c.exit_code != 0 || c.signal != 0);
    assert_null(strstr(c.out, "allocated\n"));
    free(c.out);
}

static void test_child_cannot_exec(void **state)
{
    (void)state;
    const char *argv[] = { "/nonexistent/program", NULL };
    va_child c;
    char err[256];
    assert_int_equal(va_spawn(argv, NULL, 5, 0, &c, err, sizeof err), 0);
    assert_int_equal(c.exit_code, 127);
    assert_non_null(strstr(c.out, "cannot run"));
    free(c.out);
}

/* ---- shapes --------------------------------------------------------------- */

static const char shapes_src[] =
    "#define PY_SSIZE_T_CLEAN\n"
    "#include <Python.h>\n"
    "typedef struct { PyObject_HEAD PyObject *name; } FooObject;\n"
    "static PyObject *foo_noargs(FooObject *self, PyObject *unused) { return PyObject_GetAttrString(self->name, \"attr_x\"); }\n"
    "static PyObject *foo_o(FooObject *self, PyObject *arg) { Py_RETURN_NONE; }\n"
    "static PyObject *foo_var(FooObject *self, PyObject *args) {\n"
    "    PyObject *l; int n = 0;\n"
    "    if (!PyArg_ParseTuple(args, \"O!|i:var\", &PyList_Type, &l, &n)) return NULL;\n"
    "    Py_RETURN_NONE; }\n"
    "static PyObject *foo_kw(FooObject *self, PyObject *args, PyObject *kw) { Py_RETURN_NONE; }\n"
    "static PyObject *foo_fast(FooObject *self, PyObject *const *args, Py_ssize_t n) { Py_RETURN_NONE; }\n"
    "static PyObject *foo_get(FooObject *self, void *closure) { Py_RETURN_NONE; }\n"
    "static int foo_set(FooObject *self, PyObject *v, void *closure) { return 0; }\n"
    "static PyObject *foo_new(PyTypeObject *t, PyObject *a, PyObject *k) { return t->tp_alloc(t, 0); }\n"
    "static int foo_init(FooObject *self, PyObject *args, PyObject *kw) {\n"
    "    PyObject *n; if (!PyArg_ParseTuple(args, \"U\", &n)) return -1; return 0; }\n"
    "static int get_attr(PyObject *obj, const char *name, PyObject **out) { return 0; }\n"
    "static PyObject *foo_repr(FooObject *self) { return PyUnicode_FromString(\"x\"); }\n"
    "static void foo_dealloc(FooObject *self) { Py_TYPE(self)->tp_free(self); }\n"
    "static PyObject *helper(FooObject *self, PyObject *x, Py_ssize_t i, int *out) { return NULL; }\n"
    "static PyObject *mod_f(PyObject *m, PyObject *a) { Py_RETURN_NONE; }\n"
    "static int twin_init(FooObject *self, PyObject *args, PyObject *kwds) { return 0; }\n"
    "static PyObject *twin_fast(FooObject *self, PyObject *const *a, Py_ssize_t n) { Py_RETURN_NONE; }\n"
    "struct pair { int a, b; };\n"
    "static int odd(struct pair p) { return p.a; }\n"
    "static PyMethodDef foo_methods[] = {\n"
    "    {\"noargs\", (PyCFunction)foo_noargs, METH_NOARGS, NULL},\n"
    "    {\"o\", (PyCFunction)foo_o, METH_O, NULL},\n"
    "    {\"var\", (PyCFunction)foo_var, METH_VARARGS, NULL},\n"
    "    {\"kw\", (PyCFunction)(void (*)(void))foo_kw, METH_VARARGS | METH_KEYWORDS, NULL},\n"
    "    {\"fast\", (PyCFunction)(void (*)(void))foo_fast, METH_FASTCALL, NULL},\n"
    "    {NULL}};\n"
    "static PyGetSetDef foo_getset[] = {{\"name\", (getter)foo_get, (setter)foo_set, NULL, NULL}, {NULL}};\n"
    "static PyTypeObject Foo_Type = {\n"
    "    PyVarObject_HEAD_INIT(NULL, 0)\n"
    "    .tp_name = \"m.Foo\",\n"
    "    .tp_basicsize = sizeof(FooObject),\n"
    "    .tp_new = foo_new,\n"
    "    .tp_init = (initproc)foo_init,\n"
    "    .tp_repr = (reprfunc)foo_repr,\n"
    "    .tp_dealloc = (destructor)foo_dealloc,\n"
    "    .tp_methods = foo_methods,\n"
    "    .tp_getset = foo_getset,\n"
    "};\n"
    "static PyMethodDef mod_methods[] = {{\"f\", mod_f, METH_O, NULL}, {NULL}};\n";

static const va_func *shape(const va_shapes *s, const char *name)
{
    const va_func *f = va_shapes_find(s, name);
    if (!f)
        fail_msg("no shape for %s", name);
    return f;
}

static void assert_roles(const va_func *f, const va_role *want, int n)
{
    assert_int_equal(f->nparams, n);
    for (int i = 0; i < n; i++)
        if (f->roles[i] != want[i])
            fail_msg("%s: parameter %d has role %d, expected %d", f->name, i, f->roles[i], want[i]);
}

static void test_shapes(void **state)
{
    (void)state;
    const char *inc = getenv("PYREFCHECK_PYTHON_INCLUDE");
    if (!inc || !*inc)
        fail_msg("PYREFCHECK_PYTHON_INCLUDE is not set");
    char dir[] = "/tmp/prc_test_va_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/shapes.c", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(shapes_src, fp);
    fclose(fp);
    fe_options fo = { .python_include = inc };
    char err[512] = "";
    fe_context *fe = fe_open(&fo, err, sizeof err);
    assert_non_null(fe);
    fe_tu *tu = NULL;
    if (fe_parse(fe, path, &tu, err, sizeof err) != 0)
        fail_msg("parse: %s", err);
    kb *k = kb_new();
    char rules[4096];
    const char *src = getenv("PYREFCHECK_SOURCE_DIR");
    snprintf(rules, sizeof rules, "%s/rules", src ? src : ".");
    assert_true(kb_load_dir(k, rules, err, sizeof err) > 0);
    va_shapes s;
    assert_int_equal(va_shapes_read(&s, tu, k), 0);

    const va_func *f = shape(&s, "foo_noargs");
    assert_roles(f, (va_role[]){ VA_SELF, VA_NULL }, 2);
    assert_non_null(f->type_global);
    assert_string_equal(f->type_global, "(&Foo_Type)");
    assert_true(f->callable);
    assert_int_equal(f->ret, 0);
    assert_roles(shape(&s, "foo_o"), (va_role[]){ VA_SELF, VA_OBJ }, 2);
    f = shape(&s, "foo_var");
    assert_roles(f, (va_role[]){ VA_SELF, VA_ARGS }, 2);
    /* "O!|i" with &PyList_Type: (list, 1) first, (list, -7) next, then the
     * required part alone */
    assert_true(f->nchoices >= 3);
    assert_int_equal(f->nkinds[0], 2);
    assert_string_equal(f->kinds[0][0], "list");
    assert_string_equal(f->kinds[0][1], "int1");
    assert_int_equal(f->nkinds[1], 2);
    assert_string_equal(f->kinds[1][1], "neg-int");
    bool required_only = false;
    for (int c = 0; c < f->nchoices; c++)
        required_only = required_only || (f->nkinds[c] == 1 && strcmp(f->kinds[c][0], "list") == 0);
    assert_true(required_only);
    assert_roles(shape(&s, "foo_kw"), (va_role[]){ VA_SELF, VA_ARGS, VA_NULL }, 3);
    assert_roles(shape(&s, "foo_fast"), (va_role[]){ VA_SELF, VA_FASTARGS, VA_NARGS }, 3);
    assert_roles(shape(&s, "foo_get"), (va_role[]){ VA_SELF, VA_NULL }, 2);
    f = shape(&s, "foo_set");
    assert_roles(f, (va_role[]){ VA_SELF, VA_OBJ, VA_NULL }, 3);
    assert_int_equal(f->ret, 1);
    /* a setter is also called with NULL (deletion) */
    assert_int_equal(f->nkinds[0], 1);
    assert_string_equal(f->kinds[0][0], "null");
    /* destructors are not called directly */
    assert_non_null(shape(&s, "foo_dealloc")->unsupported);
    assert_roles(shape(&s, "foo_new"), (va_role[]){ VA_TYPE, VA_ARGS, VA_NULL }, 3);
    assert_roles(shape(&s, "foo_repr"), (va_role[]){ VA_SELF }, 1);
    /* a helper named by no table: self from the struct of its first parameter;
     * an out-parameter gets scratch memory */
    f = shape(&s, "helper");
    assert_roles(f, (va_role[]){ VA_SELF, VA_OBJ, VA_INT, VA_SCRATCH }, 4);
    assert_false(f->callable);
    assert_non_null(f->type_global);
    /* a module function: self is some object */
    assert_roles(shape(&s, "mod_f"), (va_role[]){ VA_SELF_ANY, VA_OBJ }, 2);
    /* named by no table: the conventional parameter names and types decide */
    assert_roles(shape(&s, "twin_init"), (va_role[]){ VA_SELF, VA_ARGS, VA_NULL }, 3);
    assert_roles(shape(&s, "twin_fast"), (va_role[]){ VA_SELF, VA_FASTARGS, VA_NARGS }, 3);
    /* self is constructed with tp_init's first choice, and also bare; the
     * fields the method reads are filled with probes in another choice */
    f = shape(&s, "foo_noargs");
    assert_int_equal(f->ninit, 1);
    assert_string_equal(f->init_kinds[0], "str");
    assert_non_null(f->self_ctype);
    assert_int_equal(f->nfields, 1);
    assert_string_equal(f->self_fields[0], "name");
    bool fill = false, bare = false;
    for (int c = 0; c < f->nchoices; c++) {
        fill = fill || (f->nkinds[c] >= 1 && strcmp(f->kinds[c][0], "+fill") == 0);
        bare = bare || (f->nkinds[c] >= 1 && strcmp(f->kinds[c][0], "+bare") == 0);
    }
    assert_true(fill);
    assert_true(bare);
    /* a method is never called with an exception pending; a helper may be,
     * and its object parameter is also tried with probes; a PyObject ** not
     * followed by a count is an out-parameter */
    bool exc = false, probe = false;
    for (int c = 0; c < f->nchoices; c++)
        exc = exc || (f->nkinds[c] >= 1 && strcmp(f->kinds[c][0], "+exc") == 0);
    assert_false(exc);
    f = shape(&s, "get_attr");
    assert_roles(f, (va_role[]){ VA_OBJ, VA_SCRATCH, VA_SCRATCH }, 3);
    for (int c = 0; c < f->nchoices; c++) {
        exc = exc || (f->nkinds[c] == 2 && strcmp(f->kinds[c][0], "+exc") == 0);
        probe = probe || (f->nkinds[c] == 1 && strcmp(f->kinds[c][0], "probe-int") == 0);
    }
    assert_true(exc);
    assert_true(probe);
    /* the file's short literals are the keys of "dict-full" */
    bool lit = false;
    for (int i = 0; i < s.nliterals; i++)
        lit = lit || strcmp(s.literals[i], "attr_x") == 0;
    assert_true(lit);
    /* a struct passed by value cannot be synthesised */
    f = shape(&s, "odd");
    assert_non_null(f->unsupported);
    assert_non_null(strstr(f->unsupported, "struct pair"));

    va_shapes_free(&s);
    kb_free(k);
    fe_tu_free(tu);
    fe_close(fe);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_child_output_and_status),
        cmocka_unit_test(test_child_signal),
        cmocka_unit_test(test_child_timeout_kills_group),
        cmocka_unit_test(test_child_memory_limit),
        cmocka_unit_test(test_child_cannot_exec),
        cmocka_unit_test(test_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
