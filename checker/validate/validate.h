/* validate.h - confirms findings by running them: for each finding, a
 * harness that #includes the finding's file is compiled against the real
 * Python headers and linked with the reference runtime (checker/runtime/),
 * the finding's function is called with synthesised arguments under a
 * bounded set of fault plans, each attempt in a child process with limits,
 * and the runtime's outcome lines decide the status:
 *
 *   "confirmed: WITNESS"        the runtime saw that kind of error
 *   "not-reproduced"            no attempt showed it
 *   "unsupported: NAME"         a missing runtime API (or construct) stopped it
 *
 * The status is stored in pr_finding.validation (the report's arena).
 * Everything here runs on the caller's thread; children are killed on
 * timeout and never outlive a call.
 */
#ifndef PRC_VALIDATE_H
#define PRC_VALIDATE_H

#include <stdbool.h>
#include <stdio.h>

#include "../frontend/frontend.h"
#include "../kb/kb.h"
#include "../report/report.h"

typedef struct va_options {
    const fe_options *fe;        /* how files are parsed (python include, -I/-D args) */
    const kb *kb;                /* the knowledge base (format strings of PyArg_Parse*) */
    const char *runtime_lib;     /* libprc_runtime.a */
    const char *runtime_include; /* directory holding prt.h */
    const char *rules_dir;       /* PRT_RULES_DIR for the children */
    const char *cc;              /* C compiler; NULL: $CC, else "cc" */
    const char *link_flags;      /* extra link flags (sanitizer runtime), or NULL */
    const char *cache_dir;       /* harnesses are built and kept here (created) */
    double timeout;              /* wall-clock seconds per attempt (default 5) */
    long mem_limit_mb;           /* address-space limit per attempt; 0: none */
    int max_faults;              /* single faults #1..#N tried per argument choice (24) */
    int max_attempts;            /* runs per finding (60) */
    FILE *log;                   /* progress lines ("validating F: ..."), or NULL */
} va_options;

/* Sets the defaults above (strings NULL). */
void va_options_default(va_options *o);

typedef struct va_totals {
    int confirmed, not_reproduced, unsupported;
    long attempts;               /* child runs (not counting compiler, nm, addr2line) */
    double seconds;
} va_totals;

/* Validates every finding of r that is neither suppressed nor validated
 * already (reused from the database), file by file, and sets its validation (a string in r's arena).  Per-file trouble (a file
 * that does not compile) makes that file's findings "unsupported: ...".
 * Adds to *t when t is not NULL.  Returns 0, or -1 with a one-line message
 * in err when validation cannot run at all (no runtime library, no
 * compiler, cache directory not writable). */
int va_validate_report(const va_options *o, pr_report *r, va_totals *t, char *err, size_t errlen);

/* Ground truth: runs every callable function of path under the runtime
 * with no fault and with every single-failure fault plan (up to
 * o->max_faults calls) for each argument choice, and writes one JSON
 * object per function to out:
 *   {"function": F, "line": L, "end_line": E, "callable": BOOL, "slot": S, "runs": N,
 *    "rules": {"leak": "WITNESS", ...}, "unsupported": NAME-or-null}
 * where rules lists every rule id some run showed (null-deref: the child
 * crashed with SIGSEGV/SIGBUS inside the function).  Functions that cannot
 * be called get "unsupported" set and no runs.  Returns 0, or -1 with a
 * message in err (file does not parse or compile). */
int va_ground_truth(const va_options *o, const char *path, FILE *out, char *err, size_t errlen);

/* The status word of a validation string: "confirmed", "not-reproduced",
 * "unsupported", or NULL for NULL. */
const char *va_status_word(const char *validation, char *buf, size_t len);

#endif
