/* main.c - pyrefcheck's command line: argument parsing, loading the
 * knowledge base, running the driver and writing the chosen output.
 * Nothing else lives here; exit() is called only from main. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/driver.h"
#include "kb/kb.h"
#include "prc_config.h"
#include "report/report.h"

enum { EXIT_CLEAN = 0, EXIT_FINDINGS = 1, EXIT_TROUBLE = 2 };

typedef enum { FMT_TEXT, FMT_JSON } out_format;

typedef struct cli {
    drv_options drv;
    const char **paths;
    int npaths;
    const char **clang_args;
    int nclang;
    const char **owned;      /* strings malloc'ed while parsing, freed at exit */
    int nowned;
    const char **rules_files;
    int nrules;
    out_format format;
    const char *output;
    const char *db_path;
    bool no_db;
    const char *color;       /* auto, always, never */
    bool quiet;
    const char *python_version; /* "3.11" or NULL: from the headers */
} cli;

static void usage(FILE *out)
{
    fputs(
        "usage: pyrefcheck [check] [options] PATH... [-- compiler-args]\n"
        "\n"
        "Finds reference-counting bugs in CPython C extensions.\n"
        "PATHs are C files or directories (walked for *.c).\n"
        "\n"
        "options:\n"
        "  -p BUILD_DIR            read compile_commands.json from BUILD_DIR\n"
        "  --python-include DIR    headers of the Python being checked\n"
        "  --python-version X.Y    Python version the rules apply to (default: from the headers)\n"
        "  -I DIR, -D NAME[=VAL]   passed to the C parser\n"
        "  --rules FILE            extra knowledge-base entries (rules/README.md format)\n"
        "  --format text|json      output format (default text)\n"
        "  -o FILE                 write the output to FILE\n"
        "  -j N                    parallel workers (default: number of cores)\n"
        "  --db FILE, --no-db      results database (default .pyrefcheck/results.db)\n"
        "  --color auto|always|never\n"
        "  --quiet                 no summary line\n"
        "  --max-steps N           per-function exploration budget (block visits)\n"
        "  --max-seconds S         per-function time budget\n"
        "  --loop-unroll N         times a path may enter the same loop (default 2)\n"
        "  --cfg-only              parse and build CFGs only (no analysis)\n"
        "  --dump-cfg FUNCTION     print the CFG of FUNCTION ('*' for all) and exit\n"
        "  --dump-cfg-dot FUNCTION the same as a Graphviz digraph\n"
        "  --version, --help\n"
        "\n"
        "exit status: 0 no findings, 1 findings reported, 2 usage error or a file\n"
        "could not be analysed.\n",
        out);
}

static int cli_push(const char ***list, int *n, const char *s)
{
    const char **nl = realloc((void *)*list, (size_t)(*n + 1) * sizeof *nl);
    if (!nl)
        return -1;
    nl[(*n)++] = s;
    *list = nl;
    return 0;
}

static int cli_error(const char *msg, const char *arg)
{
    fprintf(stderr, "pyrefcheck: error: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fputs("usage: pyrefcheck [check] [options] PATH... [-- compiler-args] (see --help)\n", stderr);
    return -1;
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !end || *end || end == s || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Parses argv into c.  Returns 0, 1 when the program should stop with
 * success (--help, --version), or -1 on a usage error (printed). */
static int parse_args(cli *c, int argc, char **argv)
{
    int i = 1;
    if (i < argc && strcmp(argv[i], "check") == 0)
        i++;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_ARG() do { if (!next) return cli_error("missing value for", a); i++; } while (0)
        if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++)
                if (cli_push(&c->clang_args, &c->nclang, argv[i]) != 0)
                    return cli_error("out of memory", NULL);
            break;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(a, "--version") == 0) {
            printf("pyrefcheck %s\n", PRC_VERSION);
            return 1;
        } else if (strcmp(a, "-p") == 0) {
            NEED_ARG();
            c->drv.fe.compile_db_dir = next;
        } else if (strcmp(a, "--python-include") == 0) {
            NEED_ARG();
            c->drv.fe.python_include = next;
        } else if (strcmp(a, "--python-version") == 0) {
            NEED_ARG();
            c->python_version = next;
        } else if (strcmp(a, "-I") == 0 || strcmp(a, "-D") == 0 || strcmp(a, "-U") == 0) {
            NEED_ARG();
            size_t n = strlen(a) + strlen(next) + 1;
            char *joined = malloc(n);
            if (!joined)
                return cli_error("out of memory", NULL);
            snprintf(joined, n, "%s%s", a, next);
            cli_push(&c->owned, &c->nowned, joined);
            cli_push(&c->clang_args, &c->nclang, joined);
        } else if ((strncmp(a, "-I", 2) == 0 || strncmp(a, "-D", 2) == 0 || strncmp(a, "-U", 2) == 0) &&
                   a[2]) {
            cli_push(&c->clang_args, &c->nclang, a);
        } else if (strcmp(a, "--rules") == 0) {
            NEED_ARG();
            cli_push(&c->rules_files, &c->nrules, next);
        } else if (strcmp(a, "--format") == 0) {
            NEED_ARG();
            if (strcmp(next, "text") == 0)
                c->format = FMT_TEXT;
            else if (strcmp(next, "json") == 0)
                c->format = FMT_JSON;
            else
                return cli_error("unknown format (text, json)", next);
        } else if (strcmp(a, "-o") == 0) {
            NEED_ARG();
            c->output = next;
        } else if (strcmp(a, "-j") == 0 || (strncmp(a, "-j", 2) == 0 && a[2])) {
            const char *v = a[2] ? a + 2 : next;
            if (!a[2])
                NEED_ARG();
            long n;
            if (!parse_long(v, 1, 256, &n))
                return cli_error("-j needs a number from 1 to 256", v);
            c->drv.jobs = (int)n;
        } else if (strcmp(a, "--db") == 0) {
            NEED_ARG();
            c->db_path = next;
        } else if (strcmp(a, "--no-db") == 0) {
            c->no_db = true;
        } else if (strcmp(a, "--color") == 0) {
            NEED_ARG();
            if (strcmp(next, "auto") && strcmp(next, "always") && strcmp(next, "never"))
                return cli_error("--color takes auto, always or never", next);
            c->color = next;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            c->quiet = true;
        } else if (strcmp(a, "--max-steps") == 0) {
            NEED_ARG();
            long n;
            if (!parse_long(next, 100, 100000000, &n))
                return cli_error("--max-steps needs a number from 100 to 100000000", next);
            c->drv.budget.max_steps = n;
        } else if (strcmp(a, "--max-seconds") == 0) {
            NEED_ARG();
            char *end = NULL;
            double d = strtod(next, &end);
            if (!end || *end || d <= 0 || d > 3600)
                return cli_error("--max-seconds needs a number of seconds up to 3600", next);
            c->drv.budget.max_seconds = d;
        } else if (strcmp(a, "--loop-unroll") == 0) {
            NEED_ARG();
            long n;
            if (!parse_long(next, 1, 16, &n))
                return cli_error("--loop-unroll needs a number from 1 to 16", next);
            c->drv.budget.loop_unroll = (int)n;
        } else if (strcmp(a, "--cfg-only") == 0) {
            c->drv.cfg_only = true;
        } else if (strcmp(a, "--dump-cfg") == 0 || strcmp(a, "--dump-cfg-dot") == 0) {
            NEED_ARG();
            c->drv.dump_cfg = next;
            c->drv.dump_dot = strcmp(a, "--dump-cfg-dot") == 0;
        } else if (a[0] == '-' && a[1]) {
            return cli_error("unknown option", a);
        } else {
            cli_push(&c->paths, &c->npaths, a);
        }
#undef NEED_ARG
    }
    if (c->npaths == 0 && !c->drv.fe.compile_db_dir)
        return cli_error("no input files", NULL);
    return 0;
}

/* Reads PY_MAJOR_VERSION / PY_MINOR_VERSION from patchlevel.h; returns
 * 0x0MMmm, or 0 when it cannot be read. */
static int python_version_from_headers(const char *dir)
{
    if (!dir || !*dir)
        return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/patchlevel.h", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[256];
    int major = 0, minor = -1;
    while (fgets(line, sizeof line, f)) {
        int v;
        if (sscanf(line, "#define PY_MAJOR_VERSION %d", &v) == 1)
            major = v;
        else if (sscanf(line, "#define PY_MINOR_VERSION %d", &v) == 1)
            minor = v;
    }
    fclose(f);
    return major > 0 && minor >= 0 ? (major << 8) | minor : 0;
}

static int python_version_parse(const char *s)
{
    int major = 0, minor = 0;
    if (sscanf(s, "%d.%d", &major, &minor) != 2 || major < 2 || minor < 0 || minor > 99)
        return -1;
    return (major << 8) | minor;
}

/* The knowledge base: $PYREFCHECK_RULES_DIR, else share/pyrefcheck/rules
 * beside the installed executable, else the configured install prefix, else
 * the source tree (a build that was never installed).  buf holds the
 * result when it is computed. */
static const char *rules_dir(char *buf, size_t len)
{
    const char *env = getenv("PYREFCHECK_RULES_DIR");
    if (env && *env)
        return env;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, len, "%s/../share/pyrefcheck/rules", exe);
            if (access(buf, R_OK) == 0)
                return buf;
        }
    }
    if (access(PRC_INSTALL_RULES_DIR, R_OK) == 0)
        return PRC_INSTALL_RULES_DIR;
    return PRC_SOURCE_RULES_DIR;
}

/* fe_options.is_api_macro: the knowledge base describes this name. */
static int kb_has_entry(void *ctx, const char *name)
{
    return kb_lookup(ctx, name) != NULL;
}

static bool use_color(const cli *c, FILE *out)
{
    if (c->color && strcmp(c->color, "always") == 0)
        return true;
    if (c->color && strcmp(c->color, "never") == 0)
        return false;
    const char *nc = getenv("NO_COLOR");
    return !(nc && *nc) && isatty(fileno(out));
}

int main(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof c);
    en_budget_default(&c.drv.budget);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    c.drv.jobs = ncpu > 0 ? (int)ncpu : 1;
    c.drv.fe.python_include = PRC_DEFAULT_PYTHON_INCLUDE;
    int rc = parse_args(&c, argc, argv);
    if (rc != 0)
        return rc > 0 ? EXIT_CLEAN : EXIT_TROUBLE;
    c.drv.fe.args = c.clang_args;
    c.drv.fe.nargs = c.nclang;
    c.drv.dump_out = stdout;

    int status = EXIT_TROUBLE;
    char err[1024] = "";
    drv_files files = {0};
    pr_report report;
    pr_init(&report);
    FILE *out = NULL;
    kb *k = kb_new();
    if (!k) {
        fprintf(stderr, "pyrefcheck: error: out of memory\n");
        goto done;
    }
    char rdir_buf[4200];
    const char *rdir = rules_dir(rdir_buf, sizeof rdir_buf);
    if (kb_load_dir(k, rdir, err, sizeof err) < 0) {
        fprintf(stderr, "pyrefcheck: error: %s\n", err);
        goto done;
    }
    for (int i = 0; i < c.nrules; i++) {
        if (kb_load_file(k, c.rules_files[i], err, sizeof err) != 0) {
            fprintf(stderr, "pyrefcheck: error: %s\n", err);
            goto done;
        }
    }
    int pyver = 0;
    if (c.python_version) {
        pyver = python_version_parse(c.python_version);
        if (pyver < 0) {
            fprintf(stderr, "pyrefcheck: error: --python-version takes X.Y: %s\n", c.python_version);
            goto done;
        }
    } else
        pyver = python_version_from_headers(c.drv.fe.python_include);
    kb_set_python_version(k, pyver);
    c.drv.kb = k;
    const char *const *macros = NULL;
    c.drv.fe.ncollapse = kb_macro_names(k, &macros);
    c.drv.fe.collapse_macros = macros;
    const char *const *noreturn = NULL;
    c.drv.fe.nnoreturn = kb_noreturn_names(k, &noreturn);
    c.drv.fe.noreturn_names = noreturn;
    c.drv.fe.is_api_macro = kb_has_entry;
    c.drv.fe.is_api_macro_ctx = k;

    bool bad_path = false;
    for (int i = 0; i < c.npaths; i++) {
        if (drv_collect(&files, c.paths[i], err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            pr_add_error(&report, c.paths[i], -1, "cannot open: no such file or directory");
            bad_path = true;
        }
    }
    if (c.npaths == 0 && c.drv.fe.compile_db_dir) {
        fe_context *fe = fe_open(&c.drv.fe, err, sizeof err);
        if (!fe) {
            fprintf(stderr, "pyrefcheck: error: %s\n", err);
            goto done;
        }
        char **list = NULL;
        int n = fe_compile_db_files(fe, &list);
        for (int i = 0; i < n; i++)
            drv_collect(&files, list[i], err, sizeof err);
        fe_free_list(list, n);
        fe_close(fe);
    }
    if (c.drv.dump_cfg && files.n == 0) {
        fprintf(stderr, "pyrefcheck: error: --dump-cfg needs a file\n");
        goto done;
    }
    if (drv_run(&c.drv, &files, &report, err, sizeof err) != 0) {
        fprintf(stderr, "pyrefcheck: error: %s\n", err);
        goto done;
    }
    /* Per-file errors always go to stderr, one line each. */
    for (int i = 0; i < report.nerrors; i++) {
        if (report.errors[i].file_index >= 0)
            fprintf(stderr, "%s: error: %s\n", report.errors[i].file, report.errors[i].message);
    }
    if (c.drv.dump_cfg) {
        status = report.nerrors ? EXIT_TROUBLE : EXIT_CLEAN;
        goto done;
    }
    out = c.output ? fopen(c.output, "w") : stdout;
    if (!out) {
        fprintf(stderr, "pyrefcheck: error: %s: cannot write: %s\n", c.output, strerror(errno));
        out = NULL;
        goto done;
    }
    if (c.format == FMT_JSON)
        pr_write_json(&report, PRC_VERSION, out);
    else {
        pr_text_options to = { .color = use_color(&c, out), .quiet = c.quiet };
        pr_write_text(&report, &to, out);
    }
    if (fflush(out) != 0) {
        fprintf(stderr, "pyrefcheck: error: cannot write the output: %s\n", strerror(errno));
        goto done;
    }
    if (report.nerrors || bad_path)
        status = EXIT_TROUBLE;
    else
        status = report.nfindings ? EXIT_FINDINGS : EXIT_CLEAN;
done:
    if (out && out != stdout)
        fclose(out);
    drv_files_free(&files);
    pr_free(&report);
    kb_free(k);
    free((void *)c.paths);
    free((void *)c.rules_files);
    free((void *)c.clang_args);
    for (int i = 0; i < c.nowned; i++)
        free((void *)c.owned[i]);
    free((void *)c.owned);
    return status;
}
