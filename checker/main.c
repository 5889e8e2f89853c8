/* main.c - pyrefcheck's command line: argument parsing, loading the
 * knowledge base, running the driver, recording the results database,
 * applying baselines and suppressions, and writing the chosen output; and
 * the `baseline create` and `db ...` subcommands.
 * Nothing else lives here; exit() is called only from main. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../db/db.h"
#include "checks/checks.h"
#include "driver/driver.h"
#include "kb/kb.h"
#include "prc_config.h"
#include "report/report.h"
#include "validate/validate.h"

enum { EXIT_CLEAN = 0, EXIT_FINDINGS = 1, EXIT_TROUBLE = 2 };

typedef enum { FMT_TEXT, FMT_JSON, FMT_SARIF, FMT_GITHUB, FMT_HTML } out_format;

/* --format names, in the order usage() lists them. */
static const struct {
    const char *name;
    out_format format;
} cli_formats[] = {
    { "text", FMT_TEXT },
    { "json", FMT_JSON },
    { "sarif", FMT_SARIF },
    { "github", FMT_GITHUB },
    { "html", FMT_HTML },
};

/* Sets *f from a --format value.  Returns false for an unknown name. */
static bool parse_format(const char *name, out_format *f)
{
    for (size_t i = 0; i < sizeof cli_formats / sizeof cli_formats[0]; i++)
        if (strcmp(cli_formats[i].name, name) == 0) {
            *f = cli_formats[i].format;
            return true;
        }
    return false;
}

/* What the command line asks for. */
typedef enum { MODE_CHECK, MODE_BASELINE_CREATE, MODE_DB, MODE_VALIDATE } run_mode;

#define DEFAULT_DB_PATH ".pyrefcheck/results.db"
#define DEFAULT_BASELINE_PATH "pyrefcheck-baseline.txt"
#define PROGRESS_MIN_FILES 4       /* fewer files finish before a progress line helps */

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
    run_mode mode;
    const char *baseline;    /* --baseline FILE: findings in it are not reported */
    const char *db_cmd;      /* db subcommand: runs, findings, diff, stats, vacuum, export */
    bool unused_suppressions; /* --report-unused-suppressions */
    const char *db_rule, *db_file, *db_state;
    long db_run1, db_run2;
    bool validate;           /* check --validate */
    const char *validate_dir; /* --validate-dir: harness cache */
    double validate_timeout; /* --validate-timeout: seconds per run (0: default) */
    bool validate_functions; /* validate --functions FILE...: ground truth */
} cli;

static void resolve_auto(cli *c);

/* Frees what parsing the command line allocated (the strings of argv are
 * not ours). */
static void cli_free(cli *c)
{
    free((void *)c->paths);
    free((void *)c->rules_files);
    free((void *)c->clang_args);
    for (int i = 0; i < c->nowned; i++)
        free((void *)c->owned[i]);
    free((void *)c->owned);
}

static void usage(FILE *out)
{
    fputs(
        "usage: pyrefcheck [check] [options] PATH... [-- compiler-args]\n"
        "       pyrefcheck baseline create [-o FILE] [options] PATH...\n"
        "       pyrefcheck db runs|stats|vacuum [--db FILE]\n"
        "       pyrefcheck db findings [--rule R] [--file F] [--state open|fixed|suppressed]\n"
        "                              [--format text|json] [--db FILE]\n"
        "       pyrefcheck db diff RUN1 RUN2 [--db FILE]\n"
        "       pyrefcheck db export [--format json|sarif] [--db FILE]\n"
        "       pyrefcheck validate [--db FILE] [--rule R] [--file F] [options] [-- compiler-args]\n"
        "       pyrefcheck validate --functions FILE... [options] [-- compiler-args]\n"
        "\n"
        "Finds reference-counting bugs in CPython C extensions.\n"
        "PATHs are C files or directories (walked for *.c).\n"
        "\n"
        "options:\n"
        "  -p BUILD_DIR            read compile_commands.json from BUILD_DIR ('auto': the first\n"
        "                          of ., build, builddir, _build, out that has one)\n"
        "  --python-include DIR    headers of the Python being checked\n"
        "  --python-version X.Y    Python version the rules apply to (default: from the headers)\n"
        "  -I DIR, -D NAME[=VAL]   passed to the C parser\n"
        "  --rules FILE            extra knowledge-base entries (rules/README.md format)\n"
        "  --format FORMAT         text (default), json, sarif (SARIF 2.1.0), github\n"
        "                          (GitHub Actions annotations), html (a report folder: -o DIR)\n"
        "  -o FILE                 write the output to FILE\n"
        "  -j N                    parallel workers (default: number of cores)\n"
        "  --db FILE, --no-db      results database (default .pyrefcheck/results.db)\n"
        "  --baseline FILE         do not report findings listed in FILE (baseline create);\n"
        "                          'auto': pyrefcheck-baseline.txt when it exists\n"
        "  --color auto|always|never\n"
        "  --quiet                 no summary line, no progress line (shown on a terminal\n"
        "                          for runs over 4 files or more)\n"
        "  --report-unused-suppressions  warn (stderr) about ignore comments matching nothing\n"
        "  --validate              re-run each finding under the reference runtime\n"
        "  --validate-dir DIR      where validation harnesses are built (.pyrefcheck/validate)\n"
        "  --validate-timeout S    wall-clock limit of each validation run (default 5)\n"
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

/* Parses `pyrefcheck db CMD ...` from argv[i] on.  Returns 0 or -1 on a
 * usage error (printed). */
static int parse_db_args(cli *c, int argc, char **argv, int i)
{
    static const char *const cmds[] = { "runs", "findings", "diff", "stats", "vacuum", "export" };
    if (i >= argc)
        return cli_error("db needs a command (runs, findings, diff, stats, vacuum, export)", NULL);
    for (size_t k = 0; k < sizeof cmds / sizeof *cmds; k++)
        if (strcmp(argv[i], cmds[k]) == 0)
            c->db_cmd = cmds[k];
    if (!c->db_cmd)
        return cli_error("unknown db command (runs, findings, diff, stats, vacuum, export)", argv[i]);
    if (strcmp(c->db_cmd, "export") == 0)
        c->format = FMT_JSON;
    int nruns = 0;
    for (i++; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        bool findings = strcmp(c->db_cmd, "findings") == 0;
        bool export = strcmp(c->db_cmd, "export") == 0;
        if (strcmp(a, "--db") == 0 || (findings && (strcmp(a, "--rule") == 0 ||
                                                    strcmp(a, "--file") == 0 ||
                                                    strcmp(a, "--state") == 0)) ||
            ((findings || export) && strcmp(a, "--format") == 0)) {
            if (!next)
                return cli_error("missing value for", a);
            i++;
            if (strcmp(a, "--db") == 0)
                c->db_path = next;
            else if (strcmp(a, "--rule") == 0)
                c->db_rule = next;
            else if (strcmp(a, "--file") == 0)
                c->db_file = next;
            else if (strcmp(a, "--state") == 0) {
                if (strcmp(next, "open") && strcmp(next, "fixed") && strcmp(next, "suppressed"))
                    return cli_error("--state takes open, fixed or suppressed", next);
                c->db_state = next;
            } else if (!parse_format(next, &c->format) ||
                       (findings && c->format != FMT_TEXT && c->format != FMT_JSON))
                return cli_error(findings ? "db findings writes text or json" : "unknown format", next);
        } else if (strcmp(c->db_cmd, "diff") == 0 && a[0] != '-' && nruns < 2) {
            long n;
            if (!parse_long(a, 1, 0x7fffffffL, &n))
                return cli_error("db diff takes two run numbers", a);
            if (nruns++ == 0)
                c->db_run1 = n;
            else
                c->db_run2 = n;
        } else
            return cli_error("unexpected argument for db", a);
    }
    if (strcmp(c->db_cmd, "diff") == 0 && nruns != 2)
        return cli_error("db diff takes two run numbers", NULL);
    if (strcmp(c->db_cmd, "export") == 0 && c->format != FMT_JSON && c->format != FMT_SARIF)
        return cli_error("db export writes --format json or sarif", NULL);
    return 0;
}

/* Parses argv into c.  Returns 0, 1 when the program should stop with
 * success (--help, --version), or -1 on a usage error (printed). */
static int parse_args(cli *c, int argc, char **argv)
{
    int i = 1;
    if (i < argc && strcmp(argv[i], "check") == 0)
        i++;
    else if (i < argc && strcmp(argv[i], "db") == 0) {
        c->mode = MODE_DB;
        return parse_db_args(c, argc, argv, i + 1);
    } else if (i < argc && strcmp(argv[i], "baseline") == 0) {
        if (i + 1 >= argc || strcmp(argv[i + 1], "create") != 0)
            return cli_error("baseline takes the command create", i + 1 < argc ? argv[i + 1] : NULL);
        c->mode = MODE_BASELINE_CREATE;
        i += 2;
    } else if (i < argc && strcmp(argv[i], "validate") == 0) {
        c->mode = MODE_VALIDATE;
        i++;
    }
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
            if (!parse_format(next, &c->format))
                return cli_error("unknown format (text, json, sarif, github, html)", next);
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
        } else if (strcmp(a, "--baseline") == 0) {
            NEED_ARG();
            c->baseline = next;
        } else if (strcmp(a, "--color") == 0) {
            NEED_ARG();
            if (strcmp(next, "auto") && strcmp(next, "always") && strcmp(next, "never"))
                return cli_error("--color takes auto, always or never", next);
            c->color = next;
        } else if (strcmp(a, "--report-unused-suppressions") == 0) {
            c->unused_suppressions = true;
        } else if (strcmp(a, "--validate") == 0 && c->mode == MODE_CHECK) {
            c->validate = true;
        } else if (strcmp(a, "--validate-dir") == 0) {
            NEED_ARG();
            c->validate_dir = next;
        } else if (strcmp(a, "--validate-timeout") == 0) {
            NEED_ARG();
            char *end = NULL;
            double d = strtod(next, &end);
            if (!end || *end || d <= 0 || d > 3600)
                return cli_error("--validate-timeout needs a number of seconds up to 3600", next);
            c->validate_timeout = d;
        } else if (c->mode == MODE_VALIDATE && (strcmp(a, "--rule") == 0 || strcmp(a, "--file") == 0)) {
            NEED_ARG();
            if (strcmp(a, "--rule") == 0)
                c->db_rule = next;
            else
                c->db_file = next;
        } else if (c->mode == MODE_VALIDATE && strcmp(a, "--functions") == 0) {
            c->validate_functions = true;
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
    resolve_auto(c);
    if (c->mode == MODE_VALIDATE && c->npaths && !c->validate_functions)
        return cli_error("validate takes no PATH (it reads the database; --functions FILE... runs files)",
                         c->paths[0]);
    if (c->npaths == 0 && !c->drv.fe.compile_db_dir && !(c->mode == MODE_VALIDATE && !c->validate_functions))
        return cli_error("no input files", NULL);
    return 0;
}

/* Where `-p auto` looks for compile_commands.json, in order (relative to the
 * current directory, the repository root when run by pre-commit). */
static const char *const auto_compile_db_dirs[] = {
    ".", "build", "builddir", "_build", "out", "cmake-build-debug", "cmake-build-release",
};

/* Resolves the `auto` values the pre-commit hook passes: `-p auto` becomes
 * the first directory holding a compile_commands.json (none: no compile
 * database), `--baseline auto` becomes DEFAULT_BASELINE_PATH when that file
 * exists (none: no baseline).  Cannot fail. */
static void resolve_auto(cli *c)
{
    if (c->drv.fe.compile_db_dir && strcmp(c->drv.fe.compile_db_dir, "auto") == 0) {
        c->drv.fe.compile_db_dir = NULL;
        for (size_t i = 0; i < sizeof auto_compile_db_dirs / sizeof *auto_compile_db_dirs; i++) {
            char path[512];
            snprintf(path, sizeof path, "%s/compile_commands.json", auto_compile_db_dirs[i]);
            if (access(path, R_OK) == 0) {
                c->drv.fe.compile_db_dir = auto_compile_db_dirs[i];
                break;
            }
        }
    }
    if (c->baseline && strcmp(c->baseline, "auto") == 0)
        c->baseline = access(DEFAULT_BASELINE_PATH, R_OK) == 0 ? DEFAULT_BASELINE_PATH : NULL;
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

/* Writes r as SARIF with every rule of the registry described. */
static void write_sarif(const pr_report *r, FILE *out)
{
    pr_rule_info rules[64];
    int n = 0;
    for (const ck_rule *k = ck_rules(); k->id && n < 64; k++, n++)
        rules[n] = (pr_rule_info){ k->id, k->severity, k->summary, NULL, k->help };
    pr_sarif_options o = { PRC_VERSION, PRC_HOMEPAGE, NULL };
    pr_write_sarif(r, rules, n, &o, out);
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

/* The command line as one string, for the runs table (malloc'ed; NULL when
 * out of memory). */
static char *join_args(int argc, char **argv)
{
    size_t n = 1;
    for (int i = 0; i < argc; i++)
        n += strlen(argv[i]) + 1;
    char *s = malloc(n), *p = s;
    if (!s)
        return NULL;
    *p = 0;
    for (int i = 0; i < argc; i++)
        p += sprintf(p, "%s%s", i ? " " : "", argv[i]);
    return s;
}

/* The hash of what the parser and the engine are given besides the file
 * and the knowledge base: the compiler arguments (with -p, the compile
 * database's contents), the Python version the rules apply to, and the
 * budgets. */
static void flags_hash(const cli *c, int pyver, char out[17])
{
    uint64_t h = DB_FNV_INIT;
    const char *fixed[] = { c->drv.fe.python_include, c->drv.fe.compile_db_dir, c->python_version };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        h = fixed[i] ? db_fnv(h, fixed[i], strlen(fixed[i]) + 1) : db_fnv(h, "", 1);
    for (int i = 0; i < c->nclang; i++)
        h = db_fnv(h, c->clang_args[i], strlen(c->clang_args[i]) + 1);
    if (c->drv.fe.compile_db_dir) {
        char path[4200];
        snprintf(path, sizeof path, "%s/compile_commands.json", c->drv.fe.compile_db_dir);
        if (db_fnv_file(path, &h) != 0)
            h = db_fnv(h, "unreadable", 11);
    }
    char misc[256];
    snprintf(misc, sizeof misc, "pyver=%d steps=%ld seconds=%.17g unroll=%d bytes=%zu", pyver,
             c->drv.budget.max_steps, c->drv.budget.max_seconds, c->drv.budget.loop_unroll,
             c->drv.budget.max_bytes);
    h = db_fnv(h, misc, strlen(misc) + 1);
    db_hex(h, out);
}

/* The tool part of the reuse keys: the version and the executable's bytes
 * (a rebuilt pyrefcheck of the same version re-analyses everything). */
static void tool_key(char *out, size_t len)
{
    uint64_t h = DB_FNV_INIT;
    char hex[17];
    if (db_fnv_file("/proc/self/exe", &h) != 0)
        h = DB_FNV_INIT;
    db_hex(h, hex);
    snprintf(out, len, "%s+%s", PRC_VERSION, hex);
}

/* What decides reuse, per collected file (content hashes computed before
 * the analysis, so an edit made during it is seen by the next run). */
typedef struct reuse_state {
    char flags[17], rules[17], tool[64];
    char (*content)[17];    /* per file; "" when unreadable */
    bool *reused;           /* per file */
    pr_stats *stats;        /* per file, filled by the driver */
} reuse_state;

static db_file_keys reuse_keys(const reuse_state *rs, int i)
{
    return (db_file_keys){ rs->content[i][0] ? rs->content[i] : NULL, rs->flags, rs->rules,
                           rs->tool[0] ? rs->tool : NULL };
}

/* Allocates rs's per-file arrays (zeroed).  Returns 0 or -1. */
static int reuse_alloc(reuse_state *rs, const drv_files *files)
{
    int n = files->n ? files->n : 1;
    rs->content = calloc((size_t)n, sizeof *rs->content);
    rs->reused = calloc((size_t)n, sizeof *rs->reused);
    rs->stats = calloc((size_t)n, sizeof *rs->stats);
    return rs->content && rs->reused && rs->stats ? 0 : -1;
}

/* Hashes every file and takes from the database the results of those whose
 * keys are unchanged (adding them to r).  Returns 0 or -1 (message in err;
 * r may then hold some reused findings). */
static int reuse_load(db_context *d, reuse_state *rs, const drv_files *files, pr_report *r,
                      char *err, size_t errlen)
{
    for (int i = 0; i < files->n; i++) {
        uint64_t h = DB_FNV_INIT;
        if (db_fnv_file(files->paths[i], &h) != 0)
            continue;
        db_hex(h, rs->content[i]);
        db_file_keys k = reuse_keys(rs, i);
        if (db_load_reusable(d, files->paths[i], &k, i, r, &rs->reused[i], &rs->stats[i], err,
                             errlen) != 0)
            return -1;
    }
    return 0;
}

static void reuse_free(reuse_state *rs)
{
    free(rs->content);
    free(rs->reused);
    free(rs->stats);
}

/* Whether text (a source line as the engine reads it) holds a
 * "pyrefcheck: ignore" comment, with or without a rule list. */
static bool has_suppression(const char *text)
{
    const char *p = text;
    while ((p = strstr(p, "pyrefcheck:")) != NULL) {
        p += strlen("pyrefcheck:");
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, "ignore", 6) == 0)
            return true;
    }
    return false;
}

/* Writes "file:line: warning: unused suppression" to out for every ignore
 * comment of the analysed files (not skipped, parsed) that suppressed no
 * finding of r, whose suppressed findings must still be there. */
static void report_unused_suppressions(const drv_files *files, const reuse_state *rs,
                                       const pr_report *r, FILE *out)
{
    for (int i = 0; i < files->n; i++) {
        bool failed = rs->stats[i].files == 0;
        for (int k = 0; k < r->nerrors && !failed; k++)
            failed = r->errors[k].file_index == i;
        FILE *f = failed ? NULL : fopen(files->paths[i], "r");
        if (!f)
            continue;
        /* the lines, cut at 511 bytes as the engine reads them */
        char (*lines)[512] = NULL;
        int n = 0, cap = 0;
        char *buf = NULL;
        size_t bufcap = 0;
        ssize_t len;
        while ((len = getline(&buf, &bufcap, f)) >= 0) {
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                char (*nl)[512] = realloc(lines, (size_t)cap * sizeof *nl);
                if (!nl)
                    break;
                lines = nl;
            }
            if (len > 0 && buf[len - 1] == '\n')
                buf[--len] = 0;
            snprintf(lines[n++], sizeof *lines, "%s", buf);
        }
        free(buf);
        fclose(f);
        bool *used = calloc((size_t)n + 2, sizeof *used);
        for (int k = 0; used && k < r->nfindings; k++) {
            const pr_finding *x = &r->findings[k];
            if (x->file_index != i || !x->suppressed)
                continue;
            /* as the engine: the reported line, else the line before */
            for (uint32_t l = x->loc.line; l + 1 >= x->loc.line && l > 0; l--)
                if (l <= (uint32_t)n && pr_suppression_matches(lines[l - 1], x->rule)) {
                    used[l] = true;
                    break;
                }
        }
        for (int l = 1; used && l <= n; l++)
            if (!used[l] && has_suppression(lines[l - 1]))
                fprintf(out, "%s:%d: warning: unused suppression\n", files->paths[i], l);
        free(used);
        free(lines);
    }
}

/* Orders the "analysis incomplete" notes by file order, line, column and
 * function, so the output is the same whichever worker finished first and
 * whether a file was analysed or reused. */
typedef struct note_key {
    int file_index;
    pr_incomplete note;
} note_key;

static int cmp_note(const void *pa, const void *pb)
{
    const note_key *a = pa, *b = pb;
    if (a->file_index != b->file_index)
        return a->file_index < b->file_index ? -1 : 1;
    if (a->note.loc.line != b->note.loc.line)
        return a->note.loc.line < b->note.loc.line ? -1 : 1;
    if (a->note.loc.col != b->note.loc.col)
        return a->note.loc.col < b->note.loc.col ? -1 : 1;
    int c = strcmp(a->note.function ? a->note.function : "", b->note.function ? b->note.function : "");
    if (c)
        return c;
    return strcmp(a->note.reason ? a->note.reason : "", b->note.reason ? b->note.reason : "");
}

static void sort_notes(pr_report *r, const drv_files *files)
{
    if (r->nincomplete < 2)
        return;
    note_key *k = malloc((size_t)r->nincomplete * sizeof *k);
    if (!k)
        return;                         /* left in the order they came */
    for (int i = 0; i < r->nincomplete; i++) {
        k[i].note = r->incomplete[i];
        k[i].file_index = files->n;
        for (int j = 0; j < files->n; j++)
            if (r->incomplete[i].file && strcmp(r->incomplete[i].file, files->paths[j]) == 0) {
                k[i].file_index = j;
                break;
            }
    }
    qsort(k, (size_t)r->nincomplete, sizeof *k, cmp_note);
    for (int i = 0; i < r->nincomplete; i++)
        r->incomplete[i] = k[i].note;
    free(k);
}

/* Records every collected file's results, one transaction per file.
 * Returns 0 or -1 (message in err). */
static int store_results(db_context *d, const reuse_state *rs, const drv_files *files,
                         const pr_report *r, char *err, size_t errlen)
{
    const char *fh = rs->flags;
    int rc = 0;
    const pr_finding **fs = malloc((size_t)(r->nfindings ? r->nfindings : 1) * sizeof *fs);
    const pr_incomplete **inc = malloc((size_t)(r->nincomplete ? r->nincomplete : 1) * sizeof *inc);
    const pr_function **fns = malloc((size_t)(r->nfunctions ? r->nfunctions : 1) * sizeof *fns);
    if (!fs || !inc || !fns) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    int k0 = 0;     /* findings are sorted by file index (pr_sort) */
    for (int i = 0; rc == 0 && i < files->n; i++) {
        db_file_keys keys = reuse_keys(rs, i);
        db_file_result fr = { .path = files->paths[i], .flags_hash = fh, .keys = &keys,
                              .reused = rs->reused[i], .stats = &rs->stats[i],
                              .skipped = rs->stats[i].files_skipped > 0,
                              .findings = fs, .incomplete = inc, .functions = fns };
        while (k0 < r->nfindings && r->findings[k0].file_index < i)
            k0++;
        for (int k = k0; k < r->nfindings && r->findings[k].file_index == i; k++)
            fs[fr.nfindings++] = &r->findings[k];
        for (int k = 0; k < r->nincomplete; k++)
            if (r->incomplete[k].file && strcmp(r->incomplete[k].file, files->paths[i]) == 0)
                inc[fr.nincomplete++] = &r->incomplete[k];
        for (int k = 0; k < r->nfunctions; k++)
            if (r->functions[k].file && strcmp(r->functions[k].file, files->paths[i]) == 0)
                fns[fr.nfunctions++] = &r->functions[k];
        for (int k = 0; k < r->nerrors; k++)
            if (r->errors[k].file_index == i)
                fr.parse_error = r->errors[k].message;
        rc = db_store_file(d, &fr, err, errlen);
    }
    free((void *)fs);
    free((void *)inc);
    free((void *)fns);
    return rc;
}

/* Fingerprints read from a baseline file, sorted. */
typedef struct baseline_set {
    char (*fp)[17];
    int n;
} baseline_set;

static int cmp_fp(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* Reads "fingerprint rule file:function" lines (blank and # lines
 * skipped).  Returns 0, or -1 with a message in err. */
static int baseline_load(baseline_set *b, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read the baseline: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int cap = 0, lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char fp[17];
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, "%16[0-9a-f]", fp) != 1 || strlen(fp) != 16) {
            snprintf(err, errlen, "%s:%d: not a baseline line (fingerprint rule file:function)",
                     path, lineno);
            rc = -1;
            break;
        }
        if (b->n == cap) {
            cap = cap ? cap * 2 : 64;
            char (*nf)[17] = realloc(b->fp, (size_t)cap * sizeof *nf);
            if (!nf) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            b->fp = nf;
        }
        memcpy(b->fp[b->n++], fp, 17);
    }
    fclose(f);
    if (b->n > 1)
        qsort(b->fp, (size_t)b->n, sizeof *b->fp, cmp_fp);
    return rc;
}

/* pr_filter: what is reported - not suppressed inline, not in the baseline. */
static bool keep_reported(void *ctx, const pr_finding *f)
{
    const baseline_set *b = ctx;
    if (f->suppressed)
        return false;
    return !(b && b->n && bsearch(f->fingerprint, b->fp, (size_t)b->n, sizeof *b->fp, cmp_fp));
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Writes the reported findings of r as a sorted baseline file and, with d,
 * records it in the database.  Returns the number of entries, or -1 with a
 * message in err. */
static int baseline_write(const pr_report *r, const char *path, db_context *d, char *err,
                          size_t errlen)
{
    char **lines = calloc((size_t)(r->nfindings ? r->nfindings : 1), sizeof *lines);
    db_baseline_entry *ents = calloc((size_t)(r->nfindings ? r->nfindings : 1), sizeof *ents);
    int n = 0, rc = -1;
    FILE *f = NULL;
    if (!lines || !ents) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int i = 0; i < r->nfindings; i++) {
        const pr_finding *x = &r->findings[i];
        size_t len = strlen(x->fingerprint) + strlen(x->rule) + strlen(x->loc.file ? x->loc.file : "") +
                     strlen(x->function ? x->function : "") + 4;
        if (!(lines[n] = malloc(len))) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
        snprintf(lines[n], len, "%s %s %s:%s", x->fingerprint, x->rule,
                 x->loc.file ? x->loc.file : "", x->function ? x->function : "");
        ents[n] = (db_baseline_entry){ x->fingerprint, x->rule, x->loc.file ? x->loc.file : "",
                                       x->function ? x->function : "" };
        n++;
    }
    if (n > 1)
        qsort(lines, (size_t)n, sizeof *lines, cmp_line);
    f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot write the baseline: %s", path, strerror(errno));
        goto done;
    }
    int written = 0;
    for (int i = 0; i < n; i++)
        if (i == 0 || strcmp(lines[i], lines[i - 1]) != 0) {
            fprintf(f, "%s\n", lines[i]);
            written++;
        }
    if (fclose(f) != 0) {
        f = NULL;
        snprintf(err, errlen, "%s: cannot write the baseline: %s", path, strerror(errno));
        goto done;
    }
    f = NULL;
    if (d && db_store_baseline(d, path, ents, n, err, errlen) != 0)
        goto done;
    rc = written;
done:
    for (int i = 0; lines && i < n; i++)
        free(lines[i]);
    free(lines);
    free(ents);
    return rc;
}

/* `pyrefcheck db export`: the latest run's findings in c's format on
 * stdout.  Returns 0, or -1 with a message in err. */
static int export_db(db_context *d, const cli *c, char *err, size_t errlen)
{
    pr_report r;
    pr_init(&r);
    int rc = db_load_export(d, &r, err, errlen);
    if (rc == 0) {
        if (c->format == FMT_SARIF)
            write_sarif(&r, stdout);
        else
            pr_write_json(&r, PRC_VERSION, stdout);
    }
    pr_free(&r);
    return rc;
}

/* `pyrefcheck db CMD`: returns the exit status. */
static int run_db_command(const cli *c)
{
    char err[1024] = "";
    db_open_options oo = { .create = false };
    db_context *d = NULL;
    const char *path = c->db_path ? c->db_path : DEFAULT_DB_PATH;
    if (db_open(&d, path, &oo, err, sizeof err) != 0) {
        fprintf(stderr, "pyrefcheck: error: %s\n", err);
        return EXIT_TROUBLE;
    }
    int rc;
    if (strcmp(c->db_cmd, "runs") == 0)
        rc = db_print_runs(d, stdout, err, sizeof err);
    else if (strcmp(c->db_cmd, "findings") == 0) {
        db_finding_filter f = { c->db_rule, c->db_file, c->db_state, c->format == FMT_JSON };
        rc = db_print_findings(d, &f, stdout, err, sizeof err);
    } else if (strcmp(c->db_cmd, "diff") == 0)
        rc = db_print_diff(d, c->db_run1, c->db_run2, stdout, err, sizeof err);
    else if (strcmp(c->db_cmd, "stats") == 0)
        rc = db_print_stats(d, stdout, err, sizeof err);
    else if (strcmp(c->db_cmd, "export") == 0)
        rc = export_db(d, c, err, sizeof err);
    else
        rc = db_vacuum(d, err, sizeof err);
    db_close(d);
    if (rc == 0 && fflush(stdout) != 0) {
        snprintf(err, sizeof err, "cannot write the output: %s", strerror(errno));
        rc = -1;
    }
    if (rc != 0) {
        fprintf(stderr, "pyrefcheck: error: %s\n", err);
        return EXIT_TROUBLE;
    }
    return EXIT_CLEAN;
}

/* The reference runtime library: $PYREFCHECK_RUNTIME_LIB, else beside the
 * executable (a build tree: top level or checker/runtime/), else
 * lib/pyrefcheck/ of the installation.  buf holds the result. */
static const char *runtime_lib(char *buf, size_t len)
{
    const char *env = getenv("PYREFCHECK_RUNTIME_LIB");
    if (env && *env)
        return env;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return "libprc_runtime.a";
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    static const char *const rel[] = { "libprc_runtime.a", "checker/runtime/libprc_runtime.a",
                                       "../lib/pyrefcheck/libprc_runtime.a" };
    for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
        snprintf(buf, len, "%s/%s", exe, rel[i]);
        if (access(buf, R_OK) == 0)
            return buf;
    }
    snprintf(buf, len, "%s/libprc_runtime.a", exe);
    return buf;
}

/* Validation options from the command line (strings borrowed from c and
 * the buffers). */
static void validate_options(const cli *c, const kb *k, const char *rdir, char *libbuf, size_t liblen,
                             char *incbuf, size_t inclen,
                             va_options *o)
{
    va_options_default(o);
    o->fe = &c->drv.fe;
    o->kb = k;
    o->runtime_lib = runtime_lib(libbuf, liblen);
    const char *inc = getenv("PYREFCHECK_RUNTIME_INCLUDE");
    o->runtime_include = inc && *inc ? inc : PRC_RUNTIME_INCLUDE_DIR;
    /* an installed runtime carries its prt.h beside it (lib/pyrefcheck/) */
    const char *slash = strrchr(o->runtime_lib, '/');
    if (!(inc && *inc) && slash && (size_t)(slash - o->runtime_lib) + 8 < inclen) {
        snprintf(incbuf, inclen, "%.*s/prt.h", (int)(slash - o->runtime_lib), o->runtime_lib);
        if (access(incbuf, R_OK) == 0) {
            incbuf[slash - o->runtime_lib] = '\0';
            o->runtime_include = incbuf;
        }
    }
    o->rules_dir = rdir;
    o->link_flags = PRC_RUNTIME_LINK_FLAGS;
    if (*PRC_RUNTIME_LINK_FLAGS)
        o->mem_limit_mb = 0;            /* the sanitizers reserve terabytes of address space */
    o->cache_dir = c->validate_dir ? c->validate_dir : ".pyrefcheck/validate";
    o->log = c->quiet ? NULL : stderr;
    if (c->validate_timeout > 0)
        o->timeout = c->validate_timeout;
}

/* `pyrefcheck validate`: the stored open findings re-run and their status
 * stored; with --functions, the ground truth of each FILE as JSON lines.
 * Returns the exit status. */
static int run_validate(const cli *c, const kb *k, const char *rdir)
{
    char err[1024] = "", libbuf[4200];
    va_options o;
    char incbuf[4200];
    validate_options(c, k, rdir, libbuf, sizeof libbuf, incbuf, sizeof incbuf, &o);
    if (c->validate_functions) {
        int st = EXIT_CLEAN;
        for (int i = 0; i < c->npaths; i++)
            if (va_ground_truth(&o, c->paths[i], stdout, err, sizeof err) != 0) {
                fprintf(stderr, "pyrefcheck: error: %s\n", err);
                st = EXIT_TROUBLE;
            }
        fflush(stdout);
        return st;
    }
    db_open_options oo = { .create = false };
    db_context *d = NULL;
    if (db_open(&d, c->db_path ? c->db_path : DEFAULT_DB_PATH, &oo, err, sizeof err) != 0) {
        fprintf(stderr, "pyrefcheck: error: %s\n", err);
        return EXIT_TROUBLE;
    }
    pr_report r;
    pr_init(&r);
    int64_t *ids = NULL;
    int st = EXIT_TROUBLE;
    int n = db_load_open_findings(d, c->db_rule, c->db_file, &r, &ids, err, sizeof err);
    const char **status = calloc((size_t)(n > 0 ? n : 1), sizeof *status);
    va_totals t = { 0 };
    if (n < 0 || !status) {
        fprintf(stderr, "pyrefcheck: error: %s\n", n < 0 ? err : "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++)
        r.findings[i].validation = NULL;      /* validate again */
    if (va_validate_report(&o, &r, &t, err, sizeof err) != 0) {
        fprintf(stderr, "pyrefcheck: error: %s\n", err);
        goto done;
    }
    for (int i = 0; i < n; i++)
        status[i] = r.findings[i].validation;
    if (db_set_validation(d, ids, status, n, err, sizeof err) != 0) {
        fprintf(stderr, "pyrefcheck: error: %s\n", err);
        goto done;
    }
    if (c->format == FMT_JSON)
        pr_write_json(&r, PRC_VERSION, stdout);
    else {
        pr_text_options to = { .color = use_color(c, stdout), .quiet = true };
        pr_write_text(&r, &to, stdout);
    }
    if (!c->quiet)
        printf("pyrefcheck: validated %d finding%s: %d confirmed, %d not reproduced, %d unsupported "
               "(%ld runs, %.2fs)\n", n, n == 1 ? "" : "s", t.confirmed, t.not_reproduced,
               t.unsupported, t.attempts, t.seconds);
    st = fflush(stdout) == 0 ? EXIT_CLEAN : EXIT_TROUBLE;
done:
    free((void *)status);
    free(ids);
    pr_free(&r);
    db_close(d);
    return st;
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
    if (rc != 0 || c.mode == MODE_DB) {
        int st = rc > 0 ? EXIT_CLEAN : rc < 0 ? EXIT_TROUBLE : run_db_command(&c);
        cli_free(&c);
        return st;
    }
    c.drv.fe.args = c.clang_args;
    c.drv.fe.nargs = c.nclang;
    c.drv.dump_out = stdout;

    int status = EXIT_TROUBLE;
    char err[1024] = "";
    drv_files files = {0};
    pr_report report;
    pr_init(&report);
    FILE *out = NULL;
    db_context *db = NULL;
    baseline_set base = {0};
    reuse_state rs;
    memset(&rs, 0, sizeof rs);
    char *joined_args = NULL;
    kb *k = kb_new();
    if (!k) {
        fprintf(stderr, "pyrefcheck: error: out of memory\n");
        goto done;
    }
    if (c.format == FMT_HTML && c.mode == MODE_CHECK && !c.output) {
        fprintf(stderr, "pyrefcheck: error: --format html writes a folder: name it with -o DIR\n");
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
    if (c.mode == MODE_VALIDATE) {
        c.drv.fe.args = c.clang_args;
        c.drv.fe.nargs = c.nclang;
        status = run_validate(&c, k, rdir);
        goto done;
    }

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
    if (c.baseline && baseline_load(&base, c.baseline, err, sizeof err) != 0) {
        fprintf(stderr, "pyrefcheck: error: %s\n", err);
        goto done;
    }
    if (reuse_alloc(&rs, &files) != 0) {
        fprintf(stderr, "pyrefcheck: error: out of memory\n");
        goto done;
    }
    c.drv.file_stats = rs.stats;
    /* The database is opened before the analysis so a bad one costs nothing. */
    if (!c.no_db && !c.drv.dump_cfg && !c.drv.cfg_only) {
        const char *delay = getenv("PYREFCHECK_DB_WRITE_DELAY_MS"); /* tests only */
        db_open_options oo = { .create = true, .make_parent = c.db_path == NULL,
                               .write_delay_ms = delay ? atoi(delay) : 0 };
        /* a knowledge base file that cannot be read never matches */
        bool rules_ok = db_hash_rules(rdir, c.rules_files, c.nrules, rs.rules) == 0;
        flags_hash(&c, pyver, rs.flags);
        tool_key(rs.tool, sizeof rs.tool);
        joined_args = join_args(argc, argv);
        db_run_info ri = { PRC_VERSION, rs.rules, joined_args };
        if (db_open(&db, c.db_path ? c.db_path : DEFAULT_DB_PATH, &oo, err, sizeof err) != 0 ||
            db_run_begin(db, &ri, err, sizeof err) != 0) {
            fprintf(stderr, "pyrefcheck: error: %s\n", err);
            goto done;
        }
        if (!rules_ok)
            rs.tool[0] = 0;
        if (reuse_load(db, &rs, &files, &report, err, sizeof err) != 0) {
            fprintf(stderr, "pyrefcheck: error: %s\n", err);
            goto done;
        }
        c.drv.reuse = rs.reused;
    }
    /* a progress line only for a person watching many files go by */
    if (!c.quiet && !c.drv.dump_cfg && files.n >= PROGRESS_MIN_FILES && isatty(fileno(stderr)))
        c.drv.progress = stderr;
    if (drv_run(&c.drv, &files, &report, err, sizeof err) != 0) {
        fprintf(stderr, "pyrefcheck: error: %s\n", err);
        goto done;
    }
    sort_notes(&report, &files);
    /* Per-file errors always go to stderr, one line each. */
    for (int i = 0; i < report.nerrors; i++) {
        if (report.errors[i].file_index >= 0)
            fprintf(stderr, "%s: error: %s\n", report.errors[i].file, report.errors[i].message);
    }
    if (c.drv.dump_cfg) {
        status = report.nerrors ? EXIT_TROUBLE : EXIT_CLEAN;
        goto done;
    }
    if (c.validate && !c.drv.cfg_only) {
        char libbuf[4200];
        va_options vo;
        va_totals vt = { 0 };
        char incbuf[4200];
        validate_options(&c, k, rdir, libbuf, sizeof libbuf, incbuf, sizeof incbuf, &vo);
        if (va_validate_report(&vo, &report, &vt, err, sizeof err) != 0) {
            fprintf(stderr, "pyrefcheck: error: %s\n", err);
            goto done;
        }
        if (!c.quiet)
            fprintf(stderr, "pyrefcheck: validation: %d confirmed, %d not reproduced, %d unsupported "
                    "(%ld runs, %.2fs)\n", vt.confirmed, vt.not_reproduced, vt.unsupported,
                    vt.attempts, vt.seconds);
    }
    bool db_failed = false;
    if (db && store_results(db, &rs, &files, &report, err, sizeof err) != 0) {
        fprintf(stderr, "pyrefcheck: error: %s\n", err);
        db_failed = true;
    }
    if (c.unused_suppressions && !c.drv.cfg_only)
        report_unused_suppressions(&files, &rs, &report, stderr);
    pr_filter(&report, keep_reported, &base);
    if (db && !db_failed && db_run_finish(db, &report.stats, report.nfindings, err, sizeof err) != 0) {
        fprintf(stderr, "pyrefcheck: error: %s\n", err);
        db_failed = true;
    }
    if (c.mode == MODE_BASELINE_CREATE) {
        const char *bpath = c.output ? c.output : DEFAULT_BASELINE_PATH;
        int n = baseline_write(&report, bpath, db_failed ? NULL : db, err, sizeof err);
        if (n < 0) {
            fprintf(stderr, "pyrefcheck: error: %s\n", err);
            goto done;
        }
        if (!c.quiet)
            printf("pyrefcheck: wrote %d baseline entr%s to %s\n", n, n == 1 ? "y" : "ies", bpath);
        status = report.nerrors || bad_path || db_failed ? EXIT_TROUBLE : EXIT_CLEAN;
        goto done;
    }
    if (c.format == FMT_HTML && pr_write_html(&report, PRC_VERSION, c.output, err, sizeof err) != 0) {
        fprintf(stderr, "pyrefcheck: error: %s\n", err);
        goto done;
    }
    out = c.output && c.format != FMT_HTML ? fopen(c.output, "w") : stdout;
    if (!out) {
        fprintf(stderr, "pyrefcheck: error: %s: cannot write: %s\n", c.output, strerror(errno));
        out = NULL;
        goto done;
    }
    if (c.format == FMT_JSON)
        pr_write_json(&report, PRC_VERSION, out);
    else if (c.format == FMT_SARIF)
        write_sarif(&report, out);
    else if (c.format == FMT_GITHUB)
        pr_write_github(&report, out);
    else if (c.format == FMT_HTML) {
        if (!c.quiet)
            fprintf(out, "pyrefcheck: %d finding%s, report in %s/index.html\n", report.nfindings,
                    report.nfindings == 1 ? "" : "s", c.output);
    }
    else {
        pr_text_options to = { .color = use_color(&c, out), .quiet = c.quiet };
        pr_write_text(&report, &to, out);
    }
    if (fflush(out) != 0) {
        fprintf(stderr, "pyrefcheck: error: cannot write the output: %s\n", strerror(errno));
        goto done;
    }
    if (report.nerrors || bad_path || db_failed)
        status = EXIT_TROUBLE;
    else
        status = report.nfindings ? EXIT_FINDINGS : EXIT_CLEAN;
done:
    if (out && out != stdout)
        fclose(out);
    drv_files_free(&files);
    db_close(db);
    free(base.fp);
    reuse_free(&rs);
    free(joined_args);
    pr_free(&report);
    kb_free(k);
    cli_free(&c);
    return status;
}
