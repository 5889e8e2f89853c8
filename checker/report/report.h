/* report.h - findings, per-file errors and run statistics, and the output
 * formats that print them (text like a compiler, the JSON contract, SARIF,
 * GitHub annotations and the static HTML report).
 *
 * A pr_report owns every string it holds (copied in by pr_add_*); workers
 * add to it under its mutex.
 */
#ifndef PRC_REPORT_H
#define PRC_REPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "../base/arena.h"
#include "../ir/ast.h"

/* One step of a finding's path. */
typedef struct pr_step {
    src_loc loc;
    const char *message;
    int refs;               /* tracked object's owned references after it; -1 unknown */
} pr_step;

/* Another path to the same finding (same rule and site). */
typedef struct pr_path {
    pr_step *steps;
    int nsteps;
} pr_path;

typedef struct pr_finding {
    const char *rule;       /* stable id: "leak", "null-deref", ... */
    const char *severity;   /* "warning" or "error" */
    src_loc loc;
    const char *function;
    const char *message;
    char fingerprint[17];   /* 16 hex digits */
    pr_step *steps;
    int nsteps;
    pr_path *other_paths;   /* other distinct paths to it, shortest first (HTML report) */
    int nother_paths;
    const char *validation; /* NULL until the runtime has looked at it */
    int file_index;         /* order of the file on the command line */
    bool suppressed;        /* an inline "pyrefcheck: ignore" comment covers it */
} pr_finding;

typedef struct pr_error {
    const char *file;
    const char *message;
    int file_index;
} pr_error;

typedef struct pr_stats {
    long files;             /* files analysed */
    long files_skipped;     /* no Python API in them */
    long files_failed;      /* could not be parsed */
    long functions;
    long functions_incomplete;
    long cfg_blocks;
    long paths;             /* paths explored */
    double seconds;
} pr_stats;

/* A note about a function whose analysis stopped early. */
typedef struct pr_incomplete {
    const char *file;
    const char *function;
    const char *reason;
    src_loc loc;
} pr_incomplete;

/* One analysed function: where it is, a hash of its body, and whether its
 * analysis was complete. */
typedef struct pr_function {
    const char *file;
    const char *name;
    unsigned line;
    char body_hash[17];     /* FNV-1a of the body's source text */
    const char *reason;     /* NULL when complete; the budget hit otherwise */
} pr_function;

typedef struct pr_report {
    pthread_mutex_t lock;
    pa_arena arena;
    pr_finding *findings;
    int nfindings, cap_findings;
    pr_error *errors;
    int nerrors, cap_errors;
    pr_incomplete *incomplete;
    int nincomplete, cap_incomplete;
    pr_function *functions;
    int nfunctions, cap_functions;
    pr_stats stats;
} pr_report;

void pr_init(pr_report *r);
void pr_free(pr_report *r);

/* Adds a copy of f (strings, steps and other paths are copied).  Thread-safe.  Returns
 * 0, or -1 when out of memory (the finding is dropped). */
int pr_add_finding(pr_report *r, const pr_finding *f);
int pr_add_error(pr_report *r, const char *file, int file_index, const char *message);
int pr_add_incomplete(pr_report *r, const char *file, const char *function, src_loc loc,
                      const char *reason);
/* Records an analysed function (strings copied; reason NULL when the
 * analysis was complete).  Thread-safe.  Returns 0, or -1 out of memory. */
int pr_add_function(pr_report *r, const char *file, const char *name, unsigned line,
                    const char *body_hash, const char *reason);
/* Adds the counters of s to the report's (thread-safe). */
void pr_add_stats(pr_report *r, const pr_stats *s);

/* Sorts findings by file order, line, column and rule, and removes exact
 * duplicates (same rule, location and message). */
void pr_sort(pr_report *r);

/* Whether the source line carries an inline suppression for rule:
 * "pyrefcheck: ignore" (every rule) or "pyrefcheck: ignore[r1, r2]". */
bool pr_suppression_matches(const char *line, const char *rule);

/* Keeps the findings for which keep(ctx, f) is true, in order.  Returns the
 * number removed; cannot fail. */
int pr_filter(pr_report *r, bool (*keep)(void *ctx, const pr_finding *f), void *ctx);

/* Computes a 64-bit FNV-1a hash of text as 16 hex digits. */
void pr_fingerprint_hex(const char *text, char out[17]);

typedef struct pr_text_options {
    bool color;
    bool quiet;             /* no summary line */
} pr_text_options;

/* Writes findings like a compiler: "file:line:col: warning: msg [rule]"
 * then "file:line:col: note: ..." for each path step, remarks for
 * incomplete functions, and a summary line counting files not analysed
 * (their errors go to stderr, printed by main). */
void pr_write_text(const pr_report *r, const pr_text_options *o, FILE *out);

/* Writes the JSON contract (README "JSON output"). */
void pr_write_json(const pr_report *r, const char *version, FILE *out);

/* Writes the static HTML report into directory dir (created with its
 * parents when missing): index.html, and finding-N.html for the N-th
 * finding (1-based), each self-contained (inline CSS and script, no network
 * resource).  Source files are read from the findings' paths; the pages
 * of an earlier, larger report in dir (finding-M.html, M > N) are removed.
 * Returns 0, or -1 with a one-line message in err when dir cannot be
 * created or a page cannot be written. */
int pr_write_html(const pr_report *r, const char *version, const char *dir, char *err,
                  size_t errlen);

/* What the structured formats say about a rule (from the checks' registry;
 * strings borrowed). */
typedef struct pr_rule_info {
    const char *id;
    const char *severity;    /* "warning" or "error": the default level */
    const char *summary;     /* one line */
    const char *description; /* longer text, or NULL for the summary */
    const char *help;        /* how to fix it */
} pr_rule_info;

typedef struct pr_sarif_options {
    const char *version;          /* tool version */
    const char *information_uri;  /* the tool's documentation; rule help links hang off it */
    const char *root;             /* SRCROOT for relative URIs; NULL: the current directory */
} pr_sarif_options;

/* Writes a SARIF 2.1.0 log with one run: a rule entry for each of rules,
 * a result per finding with its path as a codeFlow, and parse errors and
 * incomplete analyses as tool notifications. */
void pr_write_sarif(const pr_report *r, const pr_rule_info *rules, int nrules,
                    const pr_sarif_options *o, FILE *out);

/* GitHub's limit on annotations shown per type ("warning", "error") for
 * one step; the rest stay in the log only. */
enum { PR_GITHUB_ANNOTATION_CAP = 10 };

/* Writes GitHub Actions workflow commands: "::warning file=F,line=L,col=C,
 * title=T::message" with the path folded into the message, for the first
 * PR_GITHUB_ANNOTATION_CAP findings of each level; the others as plain
 * compiler-style lines, then one "::notice" saying how many were not
 * annotated.  Parse errors become "::error" commands (same cap). */
void pr_write_github(const pr_report *r, FILE *out);

#endif
