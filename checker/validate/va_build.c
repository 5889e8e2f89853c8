/* va_build.c - the harness of one source file: generates a C file that
 * #includes the source (so static functions are reachable) and a main()
 * that calls a function chosen by argv with synthesised arguments between
 * prt_call_begin and prt_call_end; compiles it with cc -g -O0 against the
 * real Python headers; links it with the reference runtime and a generated
 * stub for every API the runtime lacks (which reports "unsupported NAME"
 * when called); and maps code addresses back to source lines. */
#define _GNU_SOURCE 1
#include "va_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/strbuf.h"

/* Bumped when the generated code changes (part of the cache key). */
#define VA_HARNESS_VERSION "va-harness-10"

const char *va_basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static const char *va_cc(const va_options *o)
{
    if (o->cc && *o->cc)
        return o->cc;
    const char *env = getenv("CC");
    return env && *env ? env : "cc";
}

/* mkdir -p.  Returns 0 or -1 (errno set). */
static int va_mkdirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

static char *va_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    sb_buf b = { 0 };
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sb_append(&b, chunk, n);
    fclose(f);
    *len = b.len;
    char *s = strdup(sb_str(&b));
    sb_free(&b);
    return s;
}

static int va_write_file(const char *path, const char *text)
{
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fputs(text, f);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

/* First line of s that mentions "error" (or the first line), into a
 * malloc'ed string. */
static char *va_first_error(const char *s)
{
    const char *e = strstr(s, "error");
    const char *start = e ? e : s;
    while (e && start > s && start[-1] != '\n')
        start--;
    size_t n = strcspn(start, "\n");
    if (n > 300)
        n = 300;
    char *r = malloc(n + 1);
    if (r) {
        memcpy(r, start, n);
        r[n] = 0;
    }
    return r;
}

/* ---- the generated C file ---------------------------------------------- */

static const char va_prologue[] =
    "\n#include \"prt.h\"\n"
    "#include <signal.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
    "#include <unistd.h>\n#include <ucontext.h>\n\n"
    "/* SIGSEGV/SIGBUS: report the faulting code and its callers (frame pointers), then die\n"
    "   of the signal so the driver sees it. */\n"
    "static void vah_hex(unsigned long v)\n{\n"
    "    char b[40] = \"prt-va: frame 0x\"; int n = 16; char d[20]; int k = 0;\n"
    "    do { d[k++] = \"0123456789abcdef\"[v & 15]; v >>= 4; } while (v && k < 18);\n"
    "    while (k) b[n++] = d[--k];\n    b[n++] = '\\n';\n    (void)!write(2, b, (size_t)n);\n}\n"
    "static void vah_crash(int sig, siginfo_t *si, void *ucv)\n{\n"
    "    prt_fault_address(si->si_addr);   /* a dead object's trap slot: use-after-release */\n"
    "#if defined(__x86_64__)\n"
    "    ucontext_t *uc = ucv;\n"
    "    vah_hex((unsigned long)uc->uc_mcontext.gregs[REG_RIP] + 1);\n"
    "    unsigned long *bp = (unsigned long *)uc->uc_mcontext.gregs[REG_RBP];\n"
    "    for (int i = 0; i < 24 && bp && ((unsigned long)bp & 7) == 0; i++) {\n"
    "        vah_hex(bp[1]);\n"
    "        unsigned long *next = (unsigned long *)bp[0];\n"
    "        if (next <= bp) break;\n"
    "        bp = next;\n    }\n"
    "#else\n    (void)ucv;\n#endif\n"
    "    signal(sig, SIG_DFL);\n    raise(sig);\n}\n"
    "static void vah_handlers(void)\n{\n"
    "    static char stack[65536];\n"
    "    stack_t ss = { .ss_sp = stack, .ss_size = sizeof stack };\n"
    "    sigaltstack(&ss, NULL);\n"
    "    struct sigaction sa;\n    memset(&sa, 0, sizeof sa);\n"
    "    sa.sa_sigaction = vah_crash;\n    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;\n"
    "    sigaction(SIGSEGV, &sa, NULL);\n    sigaction(SIGBUS, &sa, NULL);\n}\n"
    "static void vah_setup_failed(const char *what)\n{\n"
    "    fprintf(stderr, \"prt-va: setup failed: %s\\n\", what);\n    _exit(5);\n}\n"
    "static PyObject *vah_arg(const char *kind)\n{\n"
    "    if (strcmp(kind, \"null\") == 0) return NULL;\n"
    "    if (strcmp(kind, \"key\") == 0) {\n"
    "        PyObject *key = PyUnicode_FromString(\"key\");\n        if (!key) vah_setup_failed(kind);\n"
    "        return key;\n    }\n"
    "    if (strcmp(kind, \"int1\") == 0) {\n"
    "        PyObject *one = PyLong_FromLong(1);\n        if (!one) vah_setup_failed(kind);\n"
    "        return one;\n    }\n"
    "    PyObject *o = prt_arg(kind);\n    if (!o) vah_setup_failed(kind);\n    return o;\n}\n"
    "static PyObject *vah_tuple(int n, char **kinds)\n{\n"
    "    PyObject *t = PyTuple_New(n);\n    if (!t) vah_setup_failed(\"tuple\");\n"
    "    for (int i = 0; i < n; i++) {\n"
    "        PyObject *o = vah_arg(kinds[i]);\n        if (!o) vah_setup_failed(\"NULL item\");\n"
    "        PyTuple_SET_ITEM(t, i, o);\n    }\n    return t;\n}\n"
    "static PyObject **vah_array(int n, char **kinds)\n{\n"
    "    static PyObject *a[16];\n"
    "    for (int i = 0; i < n && i < 16; i++) a[i] = vah_arg(kinds[i]);\n    return a;\n}\n"
    "static PyObject *vah_instance(PyTypeObject *t, int n, char **kinds)\n{\n"
    "    if (!t) vah_setup_failed(\"type\");\n"
    "    if (PyType_Ready(t) < 0) vah_setup_failed(\"PyType_Ready\");\n"
    "    PyObject *o = NULL, *a = vah_tuple(n, kinds);\n"
    "    if (t->tp_new) o = t->tp_new(t, a, NULL);\n"
    "    if (!o) { PyErr_Clear(); o = PyType_GenericAlloc(t, 0); }\n"
    "    if (!o) vah_setup_failed(\"self\");\n"
    "    const char *skip = getenv(\"VAH_NO_TPINIT\");\n"
    "    if (t->tp_init && !(skip && *skip == '1')) {\n"
    "        fputs(\"prt-va: tpinit\\n\", stderr);\n"
    "        if (t->tp_init(o, a, NULL) < 0) PyErr_Clear();\n"
    "        fputs(\"prt-va: tpinit done\\n\", stderr);\n"
    "    }\n"
    "    Py_DECREF(a);\n    return o;\n}\n"
    "static PyTypeObject *vah_from_spec(PyType_Spec *spec)\n{\n"
    "    PyObject *t = PyType_FromSpec(spec);\n    if (!t) vah_setup_failed(\"PyType_FromSpec\");\n"
    "    return (PyTypeObject *)t;\n}\n"
    "static int vah_visit(PyObject *o, void *arg)\n{\n    (void)o; (void)arg;\n    return 0;\n}\n"
    "static _Alignas(64) char vah_scratch[8][4096];\n"
    "static int vah_fill;          /* \"+fill\": self's NULL object fields get probes */\n"
    "static int vah_exc;           /* \"+exc\": an exception is pending at the call */\n"
    "static int vah_bare;          /* \"+bare\": self constructed without arguments */\n"
    "static PyObject *vah_module;   /* what the module's PyInit_ returned, if a module */\n"
    "static const char *vah_next(char **kinds, int n, int *k)\n{\n"
    "    return *k < n ? kinds[(*k)++] : \"none\";\n}\n\n";

/* The case of main() calling f. */
static void va_gen_case(sb_buf *b, const va_func *f)
{
    sb_printf(b, "    if (strcmp(fn, \"%s\") == 0) {\n", f->name);
    sb_puts(b, "        int k = 0;\n        (void)k;\n");
    const char *type = f->type_global ? f->type_global : "NULL";
    for (int i = 0; i < f->nparams; i++) {
        switch (f->roles[i]) {
        case VA_OBJ:
            sb_printf(b, "        PyObject *p%d = vah_arg(vah_next(kinds, nk, &k));\n", i);
            break;
        case VA_SELF:
            sb_printf(b, "        PyObject *p%d = vah_instance(%s, vah_bare ? 0 : %d, (char *[]){ ", i, type,
                      f->ninit);
            for (int k = 0; k < f->ninit; k++)
                sb_printf(b, "\"%s\", ", f->init_kinds[k]);
            sb_puts(b, "NULL });\n");
            if (f->self_ctype) {
                sb_printf(b, "        if (vah_fill) {\n            %s s_ = (%s)p%d;\n", f->self_ctype,
                          f->self_ctype, i);
                for (int k = 0; k < f->nfields; k++)
                    sb_printf(b, "            if (!s_->%s) s_->%s = (void *)vah_arg(\"probe\");\n",
                              f->self_fields[k], f->self_fields[k]);
                sb_puts(b, "        }\n");
            }
            break;
        case VA_SELF_ANY:
            sb_printf(b, "        PyObject *p%d = vah_module ? vah_module : vah_arg(\"object\");\n", i);
            break;
        case VA_TYPE:
            sb_printf(b, "        PyTypeObject *p%d = %s;\n", i, type);
            sb_printf(b, "        if (PyType_Ready(p%d) < 0) vah_setup_failed(\"PyType_Ready\");\n", i);
            break;
        case VA_ARGS:
            sb_printf(b, "        PyObject *p%d = vah_tuple(nk - k, kinds + k);\n", i);
            break;
        case VA_FASTARGS:
            sb_printf(b, "        PyObject **p%d = vah_array(nk - k, kinds + k);\n", i);
            break;
        case VA_NARGS:
            sb_printf(b, "        long p%d = nk - k;\n", i);
            break;
        case VA_NULL:
            sb_printf(b, "        void *p%d = NULL;\n", i);
            break;
        case VA_SCRATCH:
            sb_printf(b, "        void *p%d = vah_scratch[%d];\n", i, i);
            break;
        case VA_INT:
            sb_printf(b, "        long p%d = 0;\n", i);
            break;
        case VA_OP:
            sb_printf(b, "        long p%d = Py_EQ;\n", i);
            break;
        case VA_VISIT:
            sb_printf(b, "        visitproc p%d = vah_visit;\n", i);
            break;
        }
    }
    sb_puts(b, "        if (vah_exc) prt_set_exception();\n");
    sb_puts(b, "        prt_call_begin();\n        ");
    if (f->ret == 0)
        sb_puts(b, "PyObject *r = (PyObject *)");
    else if (f->ret == 1)
        sb_puts(b, "long r = (long)");
    sb_printf(b, "%s(", f->name);
    for (int i = 0; i < f->nparams; i++) {
        va_role r = f->roles[i];
        bool ptr = r == VA_OBJ || r == VA_SELF || r == VA_SELF_ANY || r == VA_ARGS || r == VA_TYPE;
        sb_printf(b, "%s%sp%d", i ? ", " : "", ptr ? "(void *)" : "", i);
    }
    sb_puts(b, ");\n");
    if (f->ret == 0)
        sb_puts(b, "        return prt_call_end(r, PRT_RET_OBJECT, 0) ? 1 : 0;\n");
    else if (f->ret == 1)
        sb_puts(b, "        return prt_call_end(NULL, PRT_RET_INT, r) ? 1 : 0;\n");
    else
        sb_puts(b, "        return prt_call_end(NULL, PRT_RET_VOID, 0) ? 1 : 0;\n");
    sb_puts(b, "    }\n");
}

static void va_gen(sb_buf *b, const char *abs_source, const va_shapes *s)
{
    sb_puts(b, "/* generated by pyrefcheck (validation harness) - do not edit */\n");
    sb_puts(b, "#ifndef _GNU_SOURCE\n#define _GNU_SOURCE 1\n#endif\n");
    sb_printf(b, "#include \"%s\"\n", abs_source);
    sb_puts(b, va_prologue);
    sb_puts(b, "int main(int argc, char **argv)\n{\n");
    sb_puts(b, "    prt_init();\n    vah_handlers();\n");
    sb_puts(b, "    if (argc < 2) { fprintf(stderr, \"usage: %s FUNCTION [KIND...]\\n\", argv[0]); return 2; }\n");
    sb_puts(b, "    const char *fn = argv[1];\n    char **kinds = argv + 2;\n    int nk = argc - 2;\n");
    sb_puts(b, "    (void)kinds; (void)nk;\n");
    /* set-up flags lead the kinds */
    sb_puts(b, "    while (nk > 0 && kinds[0][0] == '+') {\n"
               "        if (strcmp(kinds[0], \"+exc\") == 0) vah_exc = 1;\n"
               "        else if (strcmp(kinds[0], \"+fill\") == 0) vah_fill = 1;\n"
               "        else if (strcmp(kinds[0], \"+bare\") == 0) vah_bare = 1;\n"
               "        kinds++, nk--;\n    }\n");
    sb_puts(b, "    static const char *const vah_literals[] = { ");
    for (int i = 0; i < s->nliterals; i++)
        sb_printf(b, "\"%s\", ", s->literals[i]);
    sb_puts(b, "NULL };\n");
    sb_printf(b, "    prt_set_literals(vah_literals, %d);\n", s->nliterals);
    /* the module is imported before any of its functions is called: its init
     * fills the module's globals (exception types, cached objects) */
    const char *init = s->init_func;
    if (init) {
        sb_printf(b, "    const char *noinit = getenv(\"VAH_NO_INIT\");\n"
                     "    if (strcmp(fn, \"%s\") != 0 && !(noinit && *noinit == '1')) {\n"
                     "        fputs(\"prt-va: init\\n\", stderr);\n"
                     "        PyObject *m = %s();\n"
                     "        if (m && Py_IS_TYPE(m, &PyModule_Type)) vah_module = m;\n"
                     "        PyErr_Clear();\n"
                     "        fputs(\"prt-va: init done\\n\", stderr);\n"
                     "    }\n", init, init);
    }
    for (int i = 0; i < s->nfuncs; i++)
        if (!s->funcs[i].unsupported && s->funcs[i].name)
            va_gen_case(b, &s->funcs[i]);
    sb_puts(b, "    fprintf(stderr, \"prt-va: unknown function %s\\n\", fn);\n    return 2;\n}\n");
}

/* ---- compile and link ---------------------------------------------------- */

static int va_run_tool(const char *const *argv, va_child *c, char *err, size_t errlen)
{
    return va_spawn(argv, NULL, 300, 0, c, err, errlen);
}

/* Names a Python header declares as data (PyAPI_DATA(type) NAME). */
static bool va_is_data(const char *dir, const char *name, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *de;
    bool found = false;
    size_t nlen = strlen(name);
    while (!found && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t l = strlen(de->d_name);
        if (l > 2 && strcmp(de->d_name + l - 2, ".h") == 0) {
            size_t len = 0;
            char *text = va_read_file(path, &len);
            for (const char *p = text; p && (p = strstr(p, "PyAPI_DATA(")) != NULL; p++) {
                const char *q = strchr(p, ')');
                if (!q)
                    break;
                q++;
                while (*q == ' ' || *q == '*')
                    q++;
                char after = q[nlen];
                bool ident = after == '_' || (after >= '0' && after <= '9') ||
                             ((after | 32) >= 'a' && (after | 32) <= 'z');
                if (strncmp(q, name, nlen) == 0 && !ident) {
                    found = true;
                    break;
                }
            }
            free(text);
        } else if (depth < 2) {
            struct stat st;
            if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                found = va_is_data(path, name, depth + 1);
        }
    }
    closedir(d);
    return found;
}

/* The undefined references the linker complained about, as stub code. */
static int va_stubs_from_link_errors(const va_options *o, const char *out, sb_buf *stubs)
{
    int n = 0;
    char seen[512][96];
    int nseen = 0;
    sb_puts(stubs, "/* generated by pyrefcheck: APIs the reference runtime lacks */\n"
                   "void prt_unsupported(const char *name);\n");
    for (const char *p = out; (p = strstr(p, "undefined reference to `")) != NULL;) {
        p += strlen("undefined reference to `");
        size_t len = strcspn(p, "'\n");
        if (len == 0 || len >= sizeof seen[0])
            continue;
        char name[96];
        memcpy(name, p, len);
        name[len] = 0;
        bool dup = false;
        for (int i = 0; i < nseen && !dup; i++)
            dup = strcmp(seen[i], name) == 0;
        if (dup || nseen >= 512)
            continue;
        memcpy(seen[nseen++], name, len + 1);
        if (va_is_data(o->fe && o->fe->python_include ? o->fe->python_include : "", name, 0))
            sb_printf(stubs, "__attribute__((aligned(64))) char %s[1024];\n", name);
        else
            sb_printf(stubs, "void %s(void) { prt_unsupported(\"%s\"); }\n", name, name);
        n++;
    }
    return n;
}

static int va_link(const va_options *o, const char *obj, const char *stubs, const char *exe,
                   va_child *c, char *err, size_t errlen)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = va_cc(o);
    argv[n++] = "-g";
    argv[n++] = "-no-pie";
    argv[n++] = "-w";
    argv[n++] = "-o";
    argv[n++] = exe;
    argv[n++] = obj;
    if (stubs)
        argv[n++] = stubs;
    argv[n++] = o->runtime_lib;
    char lf[1024] = "";
    if (o->link_flags && *o->link_flags) {
        snprintf(lf, sizeof lf, "%s", o->link_flags);
        for (char *t = strtok(lf, " "); t && n < 26; t = strtok(NULL, " "))
            argv[n++] = t;
    }
    argv[n++] = "-lm";
    argv[n++] = "-ldl";
    argv[n++] = "-lpthread";
    argv[n] = NULL;
    return va_run_tool(argv, c, err, errlen);
}

int va_harness_build(const va_options *o, const char *source, const char *const *pp, int npp,
                     const va_shapes *s, va_harness *h, char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    char abs[4096];
    if (!realpath(source, abs)) {
        h->error = strdup("cannot read the source file");
        return 1;
    }
    size_t len = 0;
    char *text = va_read_file(abs, &len);
    if (!text) {
        h->error = strdup("cannot read the source file");
        return 1;
    }
    /* the cache key: content, path, flags, runtime library, generator */
    sb_buf key = { 0 };
    sb_puts(&key, VA_HARNESS_VERSION);
    sb_puts(&key, abs);
    sb_append(&key, text, len);
    free(text);
    for (int i = 0; i < npp; i++)
        sb_puts(&key, pp[i]);
    for (int i = 0; o->fe && i < o->fe->nargs; i++)
        sb_puts(&key, o->fe->args[i]);
    sb_puts(&key, o->fe && o->fe->python_include ? o->fe->python_include : "");
    sb_puts(&key, o->link_flags ? o->link_flags : "");
    struct stat st;
    if (stat(o->runtime_lib, &st) != 0) {
        snprintf(err, errlen, "%s: reference runtime library not found (build the prc_runtime target)",
                 o->runtime_lib);
        sb_free(&key);
        return -1;
    }
    sb_printf(&key, "%lld.%ld.%lld", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (long long)st.st_size);
    char hex[17];
    pr_fingerprint_hex(sb_str(&key), hex);
    sb_free(&key);
    /* absolute, so the reproduction command works from anywhere */
    char cache[4096];
    if (va_mkdirs(o->cache_dir) != 0 || !realpath(o->cache_dir, cache)) {
        snprintf(err, errlen, "%s: cannot create: %s", o->cache_dir, strerror(errno));
        return -1;
    }
    int dl = snprintf(h->dir, sizeof h->dir, "%.3000s/%.200s-%s", cache, va_basename(abs), hex);
    (void)dl;
    snprintf(h->exe, sizeof h->exe, "%s/harness", h->dir);
    char failed[4200];
    snprintf(failed, sizeof failed, "%s/build-error.txt", h->dir);
    if (access(h->exe, X_OK) == 0)
        return 0;
    if (access(failed, R_OK) == 0) {      /* failed before with the same inputs */
        size_t n = 0;
        h->error = va_read_file(failed, &n);
        return 1;
    }
    if (va_mkdirs(h->dir) != 0) {
        snprintf(err, errlen, "%s: cannot create: %s", h->dir, strerror(errno));
        return -1;
    }
    char cfile[4200], ofile[4200], stubfile[4200], tmpexe[4300];
    snprintf(cfile, sizeof cfile, "%s/harness.c", h->dir);
    snprintf(ofile, sizeof ofile, "%s/harness.o", h->dir);
    snprintf(stubfile, sizeof stubfile, "%s/stubs.c", h->dir);
    snprintf(tmpexe, sizeof tmpexe, "%s/harness.tmp%ld", h->dir, (long)getpid());
    sb_buf gen = { 0 };
    va_gen(&gen, abs, s);
    int wrc = va_write_file(cfile, sb_str(&gen));
    sb_free(&gen);
    if (wrc != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", cfile, strerror(errno));
        return -1;
    }
    /* compile */
    char src_dir[4096];
    snprintf(src_dir, sizeof src_dir, "%s", abs);
    char *slash = strrchr(src_dir, '/');
    if (slash)
        *slash = 0;
    char inc_py[4200], inc_rt[4200], inc_src[4200];
    snprintf(inc_py, sizeof inc_py, "-I%s", o->fe && o->fe->python_include ? o->fe->python_include : ".");
    snprintf(inc_rt, sizeof inc_rt, "-I%s", o->runtime_include);
    snprintf(inc_src, sizeof inc_src, "-I%s", src_dir);
    int nargs = o->fe ? o->fe->nargs : 0;
    const char **argv = calloc((size_t)nargs + (size_t)npp + 20, sizeof *argv);
    if (!argv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int n = 0;
    argv[n++] = va_cc(o);
    argv[n++] = "-g";
    argv[n++] = "-O0";
    argv[n++] = "-fno-omit-frame-pointer";
    argv[n++] = "-w";
    argv[n++] = "-std=gnu11";
    argv[n++] = "-DNDEBUG";
    argv[n++] = inc_src;
    for (int i = 0; i < npp; i++)
        argv[n++] = pp[i];
    for (int i = 0; i < nargs; i++)
        argv[n++] = o->fe->args[i];
    argv[n++] = inc_py;
    argv[n++] = inc_rt;
    argv[n++] = "-c";
    argv[n++] = cfile;
    argv[n++] = "-o";
    argv[n++] = ofile;
    argv[n] = NULL;
    va_child c;
    int rc = va_run_tool(argv, &c, err, errlen);
    free(argv);
    if (rc != 0)
        return -1;
    if (c.exit_code != 0) {
        char *e = va_first_error(c.out);
        free(c.out);
        if (c.exit_code == 127) {
            snprintf(err, errlen, "cannot run the C compiler '%s'", va_cc(o));
            free(e);
            return -1;
        }
        size_t el = strlen(e ? e : "") + 40;
        h->error = malloc(el);
        if (h->error)
            snprintf(h->error, el, "compile error: %s", e ? e : "?");
        free(e);
        va_write_file(failed, h->error ? h->error : "compile error");
        return 1;
    }
    free(c.out);
    /* link once to learn what the runtime lacks, then with stubs for it */
    if (va_link(o, ofile, NULL, tmpexe, &c, err, errlen) != 0)
        return -1;
    if (c.exit_code != 0) {
        sb_buf stubs = { 0 };
        int nstubs = va_stubs_from_link_errors(o, c.out, &stubs);
        free(c.out);
        if (va_write_file(stubfile, sb_str(&stubs)) != 0) {
            sb_free(&stubs);
            snprintf(err, errlen, "%s: cannot write: %s", stubfile, strerror(errno));
            return -1;
        }
        sb_free(&stubs);
        if (va_link(o, ofile, stubfile, tmpexe, &c, err, errlen) != 0)
            return -1;
        if (c.exit_code != 0) {
            char *e = va_first_error(c.out);
            size_t el = strlen(e ? e : "") + 64;
            h->error = malloc(el);
            if (h->error)
                snprintf(h->error, el, "link error (%d stubs): %s", nstubs, e ? e : "?");
            free(e);
            free(c.out);
            va_write_file(failed, h->error ? h->error : "link error");
            return 1;
        }
    }
    free(c.out);
    if (rename(tmpexe, h->exe) != 0) {
        snprintf(err, errlen, "%s: cannot rename: %s", h->exe, strerror(errno));
        return -1;
    }
    return 0;
}

int va_addr2line(const va_options *o, const va_harness *h, const unsigned long *addrs, int n,
                 char ***lines)
{
    (void)o;
    *lines = NULL;
    const char **argv = calloc((size_t)n + 4, sizeof *argv);
    char (*hex)[24] = calloc((size_t)n + 1, sizeof *hex);
    char **res = calloc((size_t)n + 1, sizeof *res);
    if (!argv || !hex || !res) {
        free(argv);
        free(hex);
        free(res);
        return -1;
    }
    argv[0] = "addr2line";
    argv[1] = "-e";
    argv[2] = h->exe;
    for (int i = 0; i < n; i++) {
        /* a return address points after the call: look up the byte before */
        snprintf(hex[i], sizeof hex[i], "0x%lx", addrs[i] ? addrs[i] - 1 : 0);
        argv[3 + i] = hex[i];
    }
    va_child c;
    char err[256];
    int rc = n ? va_spawn(argv, NULL, 60, 0, &c, err, sizeof err) : 0;
    free(argv);
    free(hex);
    if (rc != 0) {
        free(res);
        return -1;
    }
    const char *p = n ? c.out : "";
    for (int i = 0; i < n; i++) {
        size_t len = strcspn(p, "\n");
        size_t cut = len;
        const char *paren = memchr(p, ' ', len);     /* " (discriminator 2)" */
        if (paren)
            cut = (size_t)(paren - p);
        res[i] = strndup(*p ? p : "??:0", *p ? cut : 4);
        p += len;
        if (*p == '\n')
            p++;
    }
    if (n)
        free(c.out);
    *lines = res;
    return 0;
}
