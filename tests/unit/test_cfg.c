/* test_cfg.c - unit tests of the frontend (checker/frontend) and the CFG
 * builder (checker/ir/cfg) together: small C files are written to a
 * temporary folder, parsed with libclang against the real Python.h, each
 * function converted and turned into a CFG, and the graph's STRUCTURE is
 * checked (block counts, successors, terminators, loop heads, labels).
 * Also: fe_parse's results for a file without the Python API, a syntax
 * error, a missing header and a missing file; and cfg_build on an arena
 * that runs out of memory.
 *
 * Needs PYREFCHECK_PYTHON_INCLUDE (set by ctest) to find Python.h.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frontend/frontend.h"
#include "ir/cfg.h"

static char tmpdir[64];
static char written[32][128];
static int nwritten;
static fe_context *fe;
static fe_options opts;
static const char *const noreturn_names[] = { "my_fatal" };

/* ------------------------------------------------------------ helpers */

static const char *write_src(const char *text)
{
    assert_true(nwritten < 32);
    char *p = written[nwritten];
    snprintf(p, sizeof written[0], "%s/t%d.c", tmpdir, nwritten);
    nwritten++;
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static int setup_group(void **state)
{
    (void)state;
    const char *inc = getenv("PYREFCHECK_PYTHON_INCLUDE");
    if (!inc || !inc[0]) {
        fprintf(stderr, "PYREFCHECK_PYTHON_INCLUDE is not set\n");
        return -1;
    }
    strcpy(tmpdir, "/tmp/prc_test_cfg_XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    memset(&opts, 0, sizeof opts);
    opts.python_include = inc;
    opts.noreturn_names = noreturn_names;
    opts.nnoreturn = 1;
    char err[256] = "";
    fe = fe_open(&opts, err, sizeof err);
    if (!fe) {
        fprintf(stderr, "fe_open: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown_group(void **state)
{
    (void)state;
    fe_close(fe);
    for (int i = 0; i < nwritten; i++)
        unlink(written[i]);
    rmdir(tmpdir);
    return 0;
}

/* One parsed file, one converted function and its graph. */
typedef struct built {
    fe_tu *tu;
    pa_arena arena;
    ast_func *func;
    cfg *g;
} built;

static void parse_ok(const char *src, fe_tu **tu)
{
    char err[512] = "";
    int rc = fe_parse(fe, write_src(src), tu, err, sizeof err);
    if (rc != 0)
        fail_msg("fe_parse returned %d: %s", rc, err);
    assert_non_null(*tu);
}

/* Builds function `name` of tu into b (tu stays owned by the caller). */
static void build_func(fe_tu *tu, const char *name, built *b)
{
    memset(b, 0, sizeof *b);
    pa_init(&b->arena, 0);
    int i = fe_tu_find_func(tu, name);
    if (i < 0)
        fail_msg("function %s not found", name);
    b->func = fe_tu_convert_func(tu, i, &b->arena);
    assert_non_null(b->func);
    assert_string_equal(b->func->name, name);
    b->g = cfg_build(b->func, &b->arena);
    assert_non_null(b->g);
    assert_ptr_equal(b->g->entry, b->g->blocks[0]);
    assert_int_equal(b->g->exit->term, T_EXIT);
    assert_int_equal(b->g->exit->nsucc, 0);
}

static void build(const char *src, const char *name, built *b)
{
    fe_tu *tu;
    parse_ok(src, &tu);
    build_func(tu, name, b);
    b->tu = tu;
}

static void unbuild(built *b)
{
    pa_release(&b->arena);
    fe_tu_free(b->tu);
    memset(b, 0, sizeof *b);
}

/* Number of blocks reachable from the entry (entry included). */
static int reachable(const cfg *g)
{
    char seen[512] = {0};
    int stack[512], sp = 0, n = 0;
    assert_true(g->nblocks <= 512);
    stack[sp++] = g->entry->id;
    seen[g->entry->id] = 1;
    while (sp) {
        const cfg_block *b = g->blocks[stack[--sp]];
        n++;
        for (int i = 0; i < b->nsucc; i++)
            if (!seen[b->succ[i]->id]) {
                seen[b->succ[i]->id] = 1;
                stack[sp++] = b->succ[i]->id;
            }
    }
    return n;
}

static int count_term(const cfg *g, term_kind k)
{
    int n = 0;
    for (int i = 0; i < g->nblocks; i++)
        n += g->blocks[i]->term == k;
    return n;
}

static int count_loop_heads(const cfg *g)
{
    int n = 0;
    for (int i = 0; i < g->nblocks; i++)
        n += g->blocks[i]->loop_head;
    return n;
}

/* Invariants of every graph: ids match positions, every return goes to the
 * exit and nowhere else, branches have two successors, gotos one, npreds
 * equals the number of incoming edges, no block is left open. */
static void check_invariants(const cfg *g)
{
    int preds[512] = {0};
    assert_true(g->nblocks <= 512);
    for (int i = 0; i < g->nblocks; i++) {
        const cfg_block *b = g->blocks[i];
        assert_int_equal(b->id, i);
        assert_int_not_equal(b->term, T_NONE);
        switch (b->term) {
        case T_RETURN:
            assert_int_equal(b->nsucc, 1);
            assert_ptr_equal(b->succ[0], g->exit);
            break;
        case T_BRANCH:
            assert_int_equal(b->nsucc, 2);
            break;
        case T_GOTO:
            assert_int_equal(b->nsucc, 1);
            break;
        case T_NORETURN:
        case T_EXIT:
            assert_int_equal(b->nsucc, 0);
            break;
        default:
            break;
        }
        if (b->term == T_EXIT)
            assert_ptr_equal(b, g->exit);
        for (int k = 0; k < b->nsucc; k++)
            preds[b->succ[k]->id]++;
    }
    for (int i = 0; i < g->nblocks; i++)
        assert_int_equal(g->blocks[i]->npreds, preds[i]);
}

static const cfg_block *find_label(const cfg *g, const char *label)
{
    for (int i = 0; i < g->nblocks; i++)
        if (g->blocks[i]->label && strcmp(g->blocks[i]->label, label) == 0)
            return g->blocks[i];
    return NULL;
}

/* ------------------------------------------------------ frontend results */

static void test_parse_functions_listed(void **state)
{
    (void)state;
    fe_tu *tu;
    parse_ok("#include <Python.h>\n"
             "static int one(void) { return 1; }\n"
             "int two(int);\n"                      /* declaration only */
             "PyObject *three(PyObject *o) { return o; }\n"
             "int two(int x) { return x * 2; }\n",
             &tu);
    assert_int_equal(fe_tu_func_count(tu), 3);
    assert_string_equal(fe_tu_func_name(tu, 0), "one");
    assert_string_equal(fe_tu_func_name(tu, 1), "three");
    assert_string_equal(fe_tu_func_name(tu, 2), "two");
    assert_int_equal(fe_tu_find_func(tu, "three"), 1);
    assert_int_equal(fe_tu_find_func(tu, "PyList_New"), -1);   /* header, not main file */
    assert_int_equal(fe_tu_find_func(tu, "nope"), -1);
    assert_true(fe_tu_func_is_static(tu, 0));
    assert_false(fe_tu_func_is_static(tu, 1));
    char line[64];
    assert_int_equal(fe_tu_source_line(tu, 2, line, sizeof line), 0);
    assert_string_equal(line, "static int one(void) { return 1; }");
    assert_int_equal(fe_tu_source_line(tu, 99, line, sizeof line), -1);
    assert_non_null(strstr(fe_tu_path(tu), tmpdir));
    fe_tu_free(tu);
}

static void test_parse_without_pyobject_skipped(void **state)
{
    (void)state;
    fe_tu *tu = (fe_tu *)1;
    char err[256] = "";
    int rc = fe_parse(fe, write_src("int add(int a, int b) { return a + b; }\n"), &tu, err, sizeof err);
    assert_int_equal(rc, 1);
    assert_null(tu);
}

static void test_parse_syntax_error(void **state)
{
    (void)state;
    fe_tu *tu = (fe_tu *)1;
    char err[512] = "";
    int rc = fe_parse(fe, write_src("#include <Python.h>\n"
                                    "\n"
                                    "PyObject *f(PyObject *o)\n"
                                    "{\n"
                                    "    int x = ;\n"
                                    "    return o;\n"
                                    "}\n"),
                      &tu, err, sizeof err);
    assert_int_equal(rc, -1);
    assert_null(tu);
    /* "LINE:COL: message", the error being on line 5 */
    if (strncmp(err, "5:", 2) != 0)
        fail_msg("message does not start with the line: '%s'", err);
    assert_non_null(strstr(err, "expected expression"));
    assert_null(strchr(err, '\n'));
}

static void test_parse_missing_header(void **state)
{
    (void)state;
    fe_tu *tu = (fe_tu *)1;
    char err[512] = "";
    int rc = fe_parse(fe, write_src("#include <Python.h>\n"
                                    "#include \"no_such_header_prc.h\"\n"
                                    "PyObject *f(PyObject *o) { return o; }\n"),
                      &tu, err, sizeof err);
    assert_int_equal(rc, -1);
    assert_null(tu);
    if (!strstr(err, "no_such_header_prc.h") || !strstr(err, "not found"))
        fail_msg("message does not name the header: '%s'", err);
    assert_int_equal(strncmp(err, "2:", 2), 0);
}

static void test_parse_missing_file(void **state)
{
    (void)state;
    fe_tu *tu = (fe_tu *)1;
    char err[512] = "", path[128];
    snprintf(path, sizeof path, "%s/does_not_exist.c", tmpdir);
    assert_int_equal(fe_parse(fe, path, &tu, err, sizeof err), -1);
    assert_null(tu);
    assert_non_null(strstr(err, "cannot open"));
}

/* ------------------------------------------------------------ graphs */

static void test_cfg_straight_line(void **state)
{
    (void)state;
    built b;
    build("#include <Python.h>\n"
          "PyObject *f(PyObject *x)\n"
          "{\n"
          "    Py_INCREF(x);\n"
          "    return x;\n"
          "}\n",
          "f", &b);
    check_invariants(b.g);
    /* entry (ends in return) and exit */
    assert_int_equal(b.g->nblocks, 2);
    assert_int_equal(reachable(b.g), 2);
    assert_int_equal(b.g->entry->term, T_RETURN);
    assert_ptr_equal(b.g->entry->succ[0], b.g->exit);
    assert_non_null(b.g->entry->cond);            /* the returned value */
    assert_int_equal(b.g->entry->term_loc.line, 5);
    assert_int_equal(b.g->exit->npreds, 1);
    assert_int_equal(b.g->entry->npreds, 0);
    assert_int_equal(count_loop_heads(b.g), 0);
    assert_int_equal(b.func->nparams, 1);
    assert_int_equal(b.func->params[0]->ty, TY_OBJ);
    assert_int_equal(b.func->ret_ty, TY_OBJ);
    unbuild(&b);
}

static void test_cfg_fall_off_end_and_unreachable(void **state)
{
    (void)state;
    built b;
    build("#include <Python.h>\n"
          "int g(int);\n"
          "void v(PyObject *o) { g(1); }\n"
          "int u(PyObject *o) { return 1; g(2); }\n",
          "v", &b);
    check_invariants(b.g);
    /* falling off the end is an implicit return */
    assert_int_equal(b.g->nblocks, 2);
    assert_int_equal(b.g->entry->term, T_RETURN);
    assert_null(b.g->entry->cond);
    assert_int_equal(b.g->entry->ninsns, 1);
    fe_tu *tu = b.tu;
    pa_release(&b.arena);

    built c;
    build_func(tu, "u", &c);
    check_invariants(c.g);
    /* the code after return is kept in a block nobody reaches */
    assert_int_equal(c.g->nblocks, 3);
    assert_int_equal(reachable(c.g), 2);
    int orphans = 0;
    for (int i = 0; i < c.g->nblocks; i++)
        if (c.g->blocks[i] != c.g->entry && c.g->blocks[i]->npreds == 0)
            orphans++;
    assert_int_equal(orphans, 1);
    assert_int_equal(c.g->exit->npreds, 2);
    pa_release(&c.arena);
    fe_tu_free(tu);
}

static void test_cfg_if_else(void **state)
{
    (void)state;
    built b;
    build("#include <Python.h>\n"
          "int g(int);\n"
          "int h(PyObject *o, int a)\n"
          "{\n"
          "    int r;\n"
          "    if (a)\n"
          "        r = g(1);\n"
          "    else\n"
          "        r = g(2);\n"
          "    return r;\n"
          "}\n",
          "h", &b);
    check_invariants(b.g);
    /* entry, exit, then, else, join */
    assert_int_equal(b.g->nblocks, 5);
    assert_int_equal(reachable(b.g), 5);
    const cfg_block *e = b.g->entry;
    assert_int_equal(e->term, T_BRANCH);
    assert_non_null(e->cond);
    assert_int_equal(e->term_loc.line, 6);
    const cfg_block *t = e->succ[0], *f = e->succ[1];
    assert_ptr_not_equal(t, f);
    assert_int_equal(t->term, T_GOTO);
    assert_int_equal(f->term, T_GOTO);
    assert_ptr_equal(t->succ[0], f->succ[0]);
    const cfg_block *join = t->succ[0];
    assert_int_equal(join->npreds, 2);
    assert_int_equal(join->term, T_RETURN);
    assert_int_equal(count_term(b.g, T_BRANCH), 1);
    assert_int_equal(count_term(b.g, T_RETURN), 1);
    unbuild(&b);
}

static void test_cfg_and_condition_two_branches(void **state)
{
    (void)state;
    built b;
    build("#include <Python.h>\n"
          "int g(int);\n"
          "int k(PyObject *a, PyObject *b)\n"
          "{\n"
          "    if (a && b)\n"
          "        g(1);\n"
          "    return 0;\n"
          "}\n",
          "k", &b);
    check_invariants(b.g);
    /* entry tests a, a middle block tests b: two branch blocks */
    assert_int_equal(count_term(b.g, T_BRANCH), 2);
    assert_int_equal(b.g->nblocks, 5);   /* entry, exit, then, join, middle */
    assert_int_equal(reachable(b.g), 5);
    const cfg_block *e = b.g->entry;
    assert_int_equal(e->term, T_BRANCH);
    const cfg_block *mid = e->succ[0], *join = e->succ[1];
    assert_int_equal(mid->term, T_BRANCH);
    assert_int_equal(mid->npreds, 1);
    /* a false and b false both skip the body */
    assert_ptr_equal(mid->succ[1], join);
    const cfg_block *then = mid->succ[0];
    assert_int_equal(then->term, T_GOTO);
    assert_ptr_equal(then->succ[0], join);
    assert_int_equal(join->npreds, 3);
    assert_int_equal(join->term, T_RETURN);
    /* the branch conditions are a and b themselves, not a temporary */
    assert_int_equal(b.g->ntemps, 0);
    unbuild(&b);
}

static void test_cfg_or_condition(void **state)
{
    (void)state;
    built b;
    build("#include <Python.h>\n"
          "int g(int);\n"
          "int k(int a, int c, PyObject *o)\n"
          "{\n"
          "    if (a || c)\n"
          "        return g(1);\n"
          "    return 0;\n"
          "}\n",
          "k", &b);
    check_invariants(b.g);
    assert_int_equal(count_term(b.g, T_BRANCH), 2);
    const cfg_block *e = b.g->entry;
    const cfg_block *then = e->succ[0], *mid = e->succ[1];
    assert_int_equal(mid->term, T_BRANCH);
    assert_ptr_equal(mid->succ[0], then);          /* c true also runs the body */
    assert_int_equal(then->npreds, 2);
    assert_int_equal(then->term, T_RETURN);
    assert_int_equal(count_term(b.g, T_RETURN), 2);
    assert_int_equal(b.g->exit->npreds, 2);
    unbuild(&b);
}

static void test_cfg_while_loop(void **state)
{
    (void)state;
    built b;
    build("#include <Python.h>\n"
          "int g(int);\n"
          "int w(PyObject *o, int n)\n"
          "{\n"
          "    int s = 0;\n"
          "    while (n > 0) {\n"
          "        s += g(n);\n"
          "        n--;\n"
          "    }\n"
          "    return s;\n"
          "}\n",
          "w", &b);
    check_invariants(b.g);
    /* entry, exit, head, body, after */
    assert_int_equal(b.g->nblocks, 5);
    assert_int_equal(reachable(b.g), 5);
    const cfg_block *e = b.g->entry;
    assert_int_equal(e->term, T_GOTO);
    const cfg_block *head = e->succ[0];
    assert_int_equal(head->term, T_BRANCH);
    assert_true(head->loop_head);
    assert_int_equal(count_loop_heads(b.g), 1);
    assert_int_equal(head->npreds, 2);
    const cfg_block *body = head->succ[0], *after = head->succ[1];
    assert_int_equal(body->term, T_GOTO);
    assert_ptr_equal(body->succ[0], head);         /* the back edge */
    assert_int_equal(body->ninsns, 2);
    assert_int_equal(after->term, T_RETURN);
    unbuild(&b);
}

static void test_cfg_for_and_do_loops(void **state)
{
    (void)state;
    fe_tu *tu;
    parse_ok("#include <Python.h>\n"
             "int g(int);\n"
             "int f(PyObject *o, int n)\n"
             "{\n"
             "    for (int i = 0; i < n; i++) {\n"
             "        if (g(i))\n"
             "            break;\n"
             "        if (g(-i))\n"
             "            continue;\n"
             "        g(0);\n"
             "    }\n"
             "    return 0;\n"
             "}\n"
             "int d(PyObject *o, int n)\n"
             "{\n"
             "    do {\n"
             "        n = g(n);\n"
             "    } while (n);\n"
             "    return n;\n"
             "}\n"
             "int forever(PyObject *o)\n"
             "{\n"
             "    for (;;)\n"
             "        g(1);\n"
             "}\n",
             &tu);
    built b;
    build_func(tu, "f", &b);
    check_invariants(b.g);
    const cfg_block *head = b.g->entry->succ[0];
    assert_int_equal(b.g->entry->term, T_GOTO);
    assert_true(head->loop_head);
    assert_int_equal(count_loop_heads(b.g), 1);
    assert_int_equal(head->term, T_BRANCH);
    const cfg_block *after = head->succ[1];
    assert_int_equal(after->term, T_RETURN);
    /* reached by the loop condition and by break */
    assert_int_equal(after->npreds, 2);
    /* head reached from entry and from the step block; the step block from
     * continue and from the end of the body */
    assert_int_equal(head->npreds, 2);
    const cfg_block *step = NULL;
    for (int i = 0; i < b.g->nblocks; i++)
        for (int k = 0; k < b.g->blocks[i]->nsucc; k++)
            if (b.g->blocks[i]->succ[k] == head && b.g->blocks[i] != b.g->entry)
                step = b.g->blocks[i];
    assert_non_null(step);
    assert_int_equal(step->npreds, 2);
    assert_int_equal(step->ninsns, 1);             /* i++ */
    assert_int_equal(count_term(b.g, T_BRANCH), 3);
    pa_release(&b.arena);

    build_func(tu, "d", &b);
    check_invariants(b.g);
    /* do-while: the body is the loop head, entered once from the entry */
    const cfg_block *body = b.g->entry->succ[0];
    assert_true(body->loop_head);
    assert_int_equal(count_loop_heads(b.g), 1);
    assert_int_equal(body->npreds, 2);
    const cfg_block *cond = body->succ[0];
    assert_int_equal(cond->term, T_BRANCH);
    assert_ptr_equal(cond->succ[0], body);
    assert_int_equal(cond->succ[1]->term, T_RETURN);
    pa_release(&b.arena);

    build_func(tu, "forever", &b);
    check_invariants(b.g);
    /* no condition: no branch, and the exit cannot be reached */
    assert_int_equal(count_term(b.g, T_BRANCH), 0);
    assert_int_equal(count_loop_heads(b.g), 1);
    int exit_reachable = 0;
    for (int i = 0; i < b.g->nblocks; i++)
        for (int k = 0; k < b.g->blocks[i]->nsucc; k++)
            if (b.g->blocks[i]->succ[k] == b.g->exit && b.g->blocks[i]->npreds > 0)
                exit_reachable = 1;
    assert_false(exit_reachable);
    assert_true(reachable(b.g) < b.g->nblocks);
    pa_release(&b.arena);
    fe_tu_free(tu);
}

static void test_cfg_noreturn_ends_path(void **state)
{
    (void)state;
    fe_tu *tu;
    parse_ok("#include <Python.h>\n"
             "#include <stdlib.h>\n"
             "void my_fatal(const char *);\n"   /* noreturn by the options */
             "void my_log(const char *);\n"
             "PyObject *a(PyObject *o)\n"
             "{\n"
             "    if (!o)\n"
             "        Py_FatalError(\"no object\");\n"
             "    return o;\n"
             "}\n"
             "void die(PyObject *o) { abort(); }\n"
             "int c(PyObject *o)\n"
             "{\n"
             "    if (!o)\n"
             "        my_fatal(\"x\");\n"
             "    return 0;\n"
             "}\n"
             "int l(PyObject *o)\n"
             "{\n"
             "    if (!o)\n"
             "        my_log(\"x\");\n"
             "    return 0;\n"
             "}\n",
             &tu);
    static const char *const fatal[] = { "a", "c" };
    for (int i = 0; i < 2; i++) {
        built b;
        build_func(tu, fatal[i], &b);
        check_invariants(b.g);
        assert_int_equal(b.g->nblocks, 4);   /* entry, exit, then, join */
        const cfg_block *e = b.g->entry;
        assert_int_equal(e->term, T_BRANCH);
        const cfg_block *then = e->succ[0], *join = e->succ[1];
        if (then->term != T_NORETURN)
            fail_msg("%s: the fatal call does not end its block (term %d)", fatal[i], then->term);
        assert_int_equal(then->nsucc, 0);
        assert_int_equal(then->ninsns, 1);     /* the call itself */
        assert_int_equal(join->npreds, 1);     /* only the "object present" edge */
        assert_int_equal(count_term(b.g, T_NORETURN), 1);
        pa_release(&b.arena);
    }
    built b;
    build_func(tu, "die", &b);
    check_invariants(b.g);
    assert_int_equal(b.g->entry->term, T_NORETURN);
    assert_int_equal(reachable(b.g), 1);
    assert_int_equal(b.g->exit->npreds, 0);
    assert_true(b.func->body != NULL);
    pa_release(&b.arena);

    /* control: an ordinary call falls through to the join */
    build_func(tu, "l", &b);
    check_invariants(b.g);
    assert_int_equal(count_term(b.g, T_NORETURN), 0);
    const cfg_block *then = b.g->entry->succ[0];
    assert_int_equal(then->term, T_GOTO);
    assert_ptr_equal(then->succ[0], b.g->entry->succ[1]);
    pa_release(&b.arena);
    fe_tu_free(tu);
}

static void test_cfg_goto_error(void **state)
{
    (void)state;
    built b;
    build("#include <Python.h>\n"
          "PyObject *ge(PyObject *a)\n"
          "{\n"
          "    PyObject *r = PyList_New(0);\n"
          "    if (r == NULL)\n"
          "        goto error;\n"
          "    if (PyList_Append(r, a) < 0)\n"
          "        goto error;\n"
          "    return r;\n"
          "error:\n"
          "    Py_XDECREF(r);\n"
          "    return NULL;\n"
          "}\n",
          "ge", &b);
    check_invariants(b.g);
    const cfg_block *err = find_label(b.g, "error");
    assert_non_null(err);
    /* two gotos jump there, nothing falls into it (return r precedes it) */
    assert_int_equal(err->npreds, 2);
    for (int i = 0; i < b.g->nblocks; i++) {
        const cfg_block *blk = b.g->blocks[i];
        if (blk->term == T_GOTO && blk->succ[0] == err)
            assert_int_equal(blk->npreds, 1);
    }
    assert_int_equal(err->term, T_RETURN);
    assert_ptr_equal(err->succ[0], b.g->exit);
    assert_int_equal(err->ninsns, 1);              /* Py_XDECREF(r) */
    /* entry, exit, label, 2 x (then, join) */
    assert_int_equal(b.g->nblocks, 7);
    assert_int_equal(reachable(b.g), 7);
    assert_int_equal(count_term(b.g, T_BRANCH), 2);
    assert_int_equal(count_term(b.g, T_RETURN), 2);
    assert_int_equal(b.g->exit->npreds, 2);
    /* the first branch's true edge leads, through one goto, to the label */
    const cfg_block *t1 = b.g->entry->succ[0];
    assert_int_equal(t1->term, T_GOTO);
    assert_ptr_equal(t1->succ[0], err);
    assert_int_equal(count_loop_heads(b.g), 0);
    unbuild(&b);
}

static void test_cfg_backward_goto_is_loop(void **state)
{
    (void)state;
    built b;
    build("#include <Python.h>\n"
          "int g(int);\n"
          "int bg(PyObject *o, int n)\n"
          "{\n"
          "again:\n"
          "    n = g(n);\n"
          "    if (n)\n"
          "        goto again;\n"
          "    return n;\n"
          "}\n",
          "bg", &b);
    check_invariants(b.g);
    const cfg_block *again = find_label(b.g, "again");
    assert_non_null(again);
    assert_true(again->loop_head);
    assert_int_equal(count_loop_heads(b.g), 1);
    assert_int_equal(again->npreds, 2);   /* fall-through from entry, and the goto */
    assert_int_equal(b.g->entry->term, T_GOTO);
    assert_ptr_equal(b.g->entry->succ[0], again);
    unbuild(&b);
}

static void test_cfg_switch(void **state)
{
    (void)state;
    built b;
    build("#include <Python.h>\n"
          "int g(int);\n"
          "int sw(PyObject *o, int k)\n"
          "{\n"
          "    switch (k) {\n"
          "    case 1:\n"
          "        return 10;\n"
          "    case 2:\n"
          "    case 3:\n"
          "        g(k);\n"
          "        break;\n"
          "    default:\n"
          "        g(0);\n"
          "    }\n"
          "    return 0;\n"
          "}\n",
          "sw", &b);
    check_invariants(b.g);
    const cfg_block *e = b.g->entry;
    assert_int_equal(e->term, T_SWITCH);
    assert_int_equal(e->ncases, 3);
    assert_int_equal(e->nsucc, 4);                 /* default + 3 cases */
    long long seen = 0;
    for (int i = 0; i < e->ncases; i++) {
        assert_int_equal(e->cases[i].lo, e->cases[i].hi);
        seen |= 1LL << e->cases[i].lo;
    }
    assert_int_equal(seen, (1 << 1) | (1 << 2) | (1 << 3));
    const cfg_block *dflt = e->succ[0];
    const cfg_block *c1 = NULL, *c2 = NULL, *c3 = NULL;
    for (int i = 0; i < e->ncases; i++) {
        if (e->cases[i].lo == 1) c1 = e->cases[i].target;
        if (e->cases[i].lo == 2) c2 = e->cases[i].target;
        if (e->cases[i].lo == 3) c3 = e->cases[i].target;
    }
    assert_int_equal(c1->term, T_RETURN);
    /* case 2 falls through into case 3 */
    assert_int_equal(c2->term, T_GOTO);
    assert_ptr_equal(c2->succ[0], c3);
    assert_int_equal(c3->npreds, 2);
    /* break and the end of default both reach the block after the switch */
    const cfg_block *after = c3->succ[0];
    assert_int_equal(c3->term, T_GOTO);
    assert_int_equal(dflt->term, T_GOTO);
    assert_ptr_equal(dflt->succ[0], after);
    assert_int_equal(after->npreds, 2);
    assert_int_equal(after->term, T_RETURN);
    assert_int_equal(b.g->nblocks, 7);
    assert_int_equal(reachable(b.g), 7);
    unbuild(&b);
}

static void test_cfg_switch_without_default(void **state)
{
    (void)state;
    built b;
    build("#include <Python.h>\n"
          "int g(int);\n"
          "int sw(PyObject *o, int k)\n"
          "{\n"
          "    switch (k) {\n"
          "    case 5: g(5); break;\n"
          "    }\n"
          "    return 0;\n"
          "}\n",
          "sw", &b);
    check_invariants(b.g);
    const cfg_block *e = b.g->entry;
    assert_int_equal(e->term, T_SWITCH);
    assert_int_equal(e->ncases, 1);
    assert_int_equal(e->nsucc, 2);
    /* no default: succ[0] is the block after the switch */
    const cfg_block *after = e->succ[0];
    assert_int_equal(after->term, T_RETURN);
    assert_ptr_equal(e->cases[0].target->succ[0], after);
    assert_int_equal(after->npreds, 2);
    unbuild(&b);
}

static void test_cfg_conditional_value_uses_temp(void **state)
{
    (void)state;
    built b;
    build("#include <Python.h>\n"
          "int g(int);\n"
          "int cv(PyObject *o, int a)\n"
          "{\n"
          "    int c = a ? g(1) : g(2);\n"
          "    return c;\n"
          "}\n",
          "cv", &b);
    check_invariants(b.g);
    /* entry, exit, true arm, false arm, join; one temporary carries the value */
    assert_int_equal(b.g->nblocks, 5);
    assert_int_equal(b.g->ntemps, 1);
    assert_int_equal(b.g->entry->term, T_BRANCH);
    const cfg_block *join = b.g->entry->succ[0]->succ[0];
    assert_ptr_equal(join, b.g->entry->succ[1]->succ[0]);
    assert_int_equal(join->npreds, 2);
    /* each arm assigns the temporary */
    assert_int_equal(b.g->entry->succ[0]->ninsns, 1);
    assert_int_equal(b.g->entry->succ[1]->ninsns, 1);
    /* the temporary was added to the function's variables */
    assert_int_equal(b.func->vars[b.func->nvars - 1]->kind, VAR_TEMP);
    unbuild(&b);
}

/* cfg_build on an arena with a small limit: documented to return NULL when
 * out of memory; must never crash. Runs in a child per limit. */
static ast_func *oom_func;
static size_t oom_limit;

static void run_oom_child(void)
{
    pa_arena a;
    pa_init(&a, oom_limit);
    cfg *g = cfg_build(oom_func, &a);
    int ok = g == NULL ? pa_failed(&a) : !pa_failed(&a);
    pa_release(&a);
    _exit(ok ? 0 : 2);
}

static void test_cfg_build_out_of_memory(void **state)
{
    (void)state;
    fe_tu *tu;
    parse_ok("#include <Python.h>\n"
             "int g(int);\n"
             "int m(PyObject *o, int n)\n"
             "{\n"
             "    for (int i = 0; i < n && g(i); i++)\n"
             "        if (g(i) == 3) goto out;\n"
             "    return 0;\n"
             "out:\n"
             "    return 1;\n"
             "}\n",
             &tu);
    static const size_t limits[] = { 1, 64, 256, 512, 1024, 4096, 16384, 16640, 17000, 18000, 20000, 24000, 32768, 1 << 20 };
    char bad[1024] = "";
    size_t blen = 0;
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
        pa_arena fa;
        pa_init(&fa, 0);
        oom_func = fe_tu_convert_func(tu, fe_tu_find_func(tu, "m"), &fa);
        assert_non_null(oom_func);
        oom_limit = limits[i];
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            signal(SIGSEGV, SIG_DFL);
            signal(SIGBUS, SIG_DFL);
            signal(SIGABRT, SIG_DFL);
            if (!freopen("/dev/null", "w", stderr))
                _exit(3);
            run_oom_child();
        }
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
            blen += (size_t)snprintf(bad + blen, sizeof bad - blen, " %zu(%s %d)", limits[i],
                                     WIFSIGNALED(st) ? "signal" : "exit",
                                     WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
        pa_release(&fa);
    }
    fe_tu_free(tu);
    if (bad[0])
        fail_msg("cfg_build crashed or misreported with arena limits:%s", bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_functions_listed),
        cmocka_unit_test(test_parse_without_pyobject_skipped),
        cmocka_unit_test(test_parse_syntax_error),
        cmocka_unit_test(test_parse_missing_header),
        cmocka_unit_test(test_parse_missing_file),
        cmocka_unit_test(test_cfg_straight_line),
        cmocka_unit_test(test_cfg_fall_off_end_and_unreachable),
        cmocka_unit_test(test_cfg_if_else),
        cmocka_unit_test(test_cfg_and_condition_two_branches),
        cmocka_unit_test(test_cfg_or_condition),
        cmocka_unit_test(test_cfg_while_loop),
        cmocka_unit_test(test_cfg_for_and_do_loops),
        cmocka_unit_test(test_cfg_noreturn_ends_path),
        cmocka_unit_test(test_cfg_goto_error),
        cmocka_unit_test(test_cfg_backward_goto_is_loop),
        cmocka_unit_test(test_cfg_switch),
        cmocka_unit_test(test_cfg_switch_without_default),
        cmocka_unit_test(test_cfg_conditional_value_uses_temp),
        cmocka_unit_test(test_cfg_build_out_of_memory),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
