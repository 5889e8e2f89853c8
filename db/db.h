/* db.h - the results database (SQLite, schema in db/schema.sql): runs,
 * files, findings with their paths and history, baselines, and the queries
 * behind `pyrefcheck db ...`.
 *
 * Every function taking err/errlen returns 0 on success or a negative
 * value with a one-line message in err (never printed here).  A db_context
 * is used by one thread at a time.
 */
#ifndef PRC_DB_H
#define PRC_DB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "report/report.h"

/* The schema version this build writes (the last "-- @version N" section
 * of db/schema.sql). */
#define DB_SCHEMA_VERSION 3
/* PRAGMA application_id of a pyrefcheck database ("PRC1"). */
#define DB_APPLICATION_ID 0x50524331

typedef struct db_context db_context;

typedef struct db_open_options {
    bool create;            /* create the database (and, for the default
                               location, its folder) when missing */
    bool make_parent;       /* also create the last folder of the path */
    int busy_timeout_ms;    /* waiting on other writers; 0: 60000 */
    int write_delay_ms;     /* tests only: sleep inside each file's
                               transaction before it commits */
} db_open_options;

/* Opens (creating when asked) the database at path, migrating it forward.
 * A file there that is not a pyrefcheck database, or one from a newer
 * pyrefcheck, is refused without being modified.  On success *out owns the
 * connection (db_close); on error returns -1 and *out is NULL. */
int db_open(db_context **out, const char *path, const db_open_options *o, char *err,
            size_t errlen);
/* Closes the connection and frees the context (NULL is fine). */
void db_close(db_context *d);

/* The run being recorded by this process. */
typedef struct db_run_info {
    const char *tool_version;
    const char *rules_hash;
    const char *arguments;
} db_run_info;

/* Inserts a run row (its own transaction).  Returns 0 or -1. */
int db_run_begin(db_context *d, const db_run_info *info, char *err, size_t errlen);
/* The id of the run begun, or 0. */
int64_t db_run_id(const db_context *d);

/* What decides whether a file's last analysis can be reused: all four
 * must equal the stored ones (16 hex digits each; NULL never matches). */
typedef struct db_file_keys {
    const char *content_hash;       /* the file's bytes */
    const char *flags_hash;         /* what the parser and the engine are given */
    const char *rules_hash;         /* the knowledge base and --rules files */
    const char *tool_key;           /* the tool's version and build */
} db_file_keys;

/* What one analysed file produced.  Pointers are borrowed for the call. */
typedef struct db_file_result {
    const char *path;
    const char *flags_hash;         /* may be NULL */
    const db_file_keys *keys;       /* NULL: hash the content now, no reuse keys */
    bool reused;                    /* taken from the database (db_load_reusable):
                                       only marks its findings as seen by this run */
    bool skipped;                   /* no Python API in it */
    const pr_stats *stats;          /* its counters (NULL: zeros) */
    const char *parse_error;        /* NULL when the file was analysed */
    const pr_finding *const *findings;  /* in line order; suppressed ones included */
    int nfindings;
    const pr_incomplete *const *incomplete;
    int nincomplete;
    const pr_function *const *functions;   /* every analysed function */
    int nfunctions;
} db_file_result;

/* When path's last complete analysis was made under keys k (and it parsed),
 * adds its findings (suppressed ones included, with their paths, file_index
 * set), its "incomplete" notes and its counters to out (the counters also
 * to *st when st is not NULL), sets *reused and returns 0.  Otherwise returns 0 with *reused false and out untouched.
 * Returns -1 on a database error (out may then hold some of the file's
 * findings: the caller should give up the run).  Strings are copied into
 * out; nothing is left owned by the caller. */
int db_load_reusable(db_context *d, const char *path, const db_file_keys *k, int file_index,
                     pr_report *out, bool *reused, pr_stats *st, char *err, size_t errlen);

/* Stores one file's results in one transaction: findings seen again keep
 * their first-seen run, findings no longer reported become fixed, fixed
 * ones reported again are reopened.  Counts are added to the run's new and
 * fixed totals.  Returns 0 or -1 (the transaction is rolled back). */
int db_store_file(db_context *d, const db_file_result *fr, char *err, size_t errlen);

/* Records the run's totals (files reused counted by db_store_file) and its
 * end time.  Returns 0 or -1. */
int db_run_finish(db_context *d, const pr_stats *st, long reported, char *err, size_t errlen);

/* Records a baseline written to path (entries as in the baseline file; the
 * strings are borrowed for the call), in one transaction.  Returns 0 or -1
 * (nothing recorded). */
typedef struct db_baseline_entry {
    const char *fingerprint, *rule, *file, *function;
} db_baseline_entry;
int db_store_baseline(db_context *d, const char *path, const db_baseline_entry *e, int n,
                      char *err, size_t errlen);

/* --- queries behind `pyrefcheck db ...`; each writes to out ---------- */

/* Lists runs, oldest first. */
int db_print_runs(db_context *d, FILE *out, char *err, size_t errlen);

typedef struct db_finding_filter {
    const char *rule, *file, *state;    /* NULL: any */
    bool json;
} db_finding_filter;
/* Lists findings matching the filter (text lines or a JSON array). */
int db_print_findings(db_context *d, const db_finding_filter *f, FILE *out, char *err,
                      size_t errlen);
/* Findings seen by run2 and not run1 ("+") and the reverse ("-").  Returns
 * -1 when either run does not exist. */
int db_print_diff(db_context *d, int64_t run1, int64_t run2, FILE *out, char *err, size_t errlen);
/* Counts of runs, files and findings by state and rule. */
int db_print_stats(db_context *d, FILE *out, char *err, size_t errlen);
/* Adds to r the open findings the latest finished run saw (or the latest
 * run when none finished) with their paths, its files' errors and
 * incomplete analyses, and the counts it recorded, for `db export` to write
 * with any report writer.  Returns -1 when there is no run or on error
 * (message in err; r may hold part of the run). */
int db_load_export(db_context *d, pr_report *r, char *err, size_t errlen);
/* Checkpoints the write-ahead log and rebuilds the file compactly. */
int db_vacuum(db_context *d, char *err, size_t errlen);

/* --- hashing ----------------------------------------------------------- */

/* FNV-1a 64 over len bytes, continuing from h (start with DB_FNV_INIT). */
#define DB_FNV_INIT 0xcbf29ce484222325ULL
uint64_t db_fnv(uint64_t h, const void *data, size_t len);
/* Hashes a file's bytes into *h (continuing).  Returns 0, or -1 when it
 * cannot be read. */
int db_fnv_file(const char *path, uint64_t *h);
/* Formats h as 16 hex digits. */
void db_hex(uint64_t h, char out[17]);
/* Hashes the *.rules files of dir (sorted by name) and the extra files into
 * out.  Returns 0, or -1 when some could not be read (out still set). */
int db_hash_rules(const char *dir, const char *const *extra, int nextra, char out[17]);

/* --- validation (db_validate.c; `pyrefcheck validate`) ------------------ */

/* Adds to r the open findings whose rule is rule and whose file's path is
 * file (NULL: any), with their paths, ordered by file and line (file_index
 * counts the distinct files).  *ids (malloc'ed, the caller frees it) gets
 * the database id of each finding added, in the same order.  Returns the
 * number added, or -1 with a message in err (*ids NULL; r may hold some). */
int db_load_open_findings(db_context *d, const char *rule, const char *file, pr_report *r,
                          int64_t **ids, char *err, size_t errlen);

/* Stores status[i] (NULL: none) as the validation of finding ids[i], all in
 * one transaction.  Returns 0, or -1 with nothing stored. */
int db_set_validation(db_context *d, const int64_t *ids, const char *const *status, int n, char *err,
                      size_t errlen);

#endif
