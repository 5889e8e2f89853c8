/* sarif.c - SARIF 2.1.0 output: one run, one reportingDescriptor per rule,
 * results with their path as a codeFlow, fingerprints, relative URIs.
 *
 * Paths the user gave relative to the current directory (and absolute paths
 * under it) are written relative to the base id SRCROOT, whose absolute URI
 * is in run.originalUriBaseIds; anything else is an absolute file:// URI.
 * That is what code-scanning uploads need to map results onto the
 * repository. */
#include "report.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/strbuf.h"

/* Appends s percent-encoded for a URI path: unreserved characters and '/'
 * pass, everything else (spaces, '%', '#', '?', non-ASCII bytes) becomes
 * %XX. */
static void sf_uri_path(sb_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || strchr("-._~/", *p))
            sb_putc(b, (char)*p);
        else {
            sb_putc(b, '%');
            sb_putc(b, hex[*p >> 4]);
            sb_putc(b, hex[*p & 15]);
        }
    }
}

/* The part of path below root ("root/x.c" -> "x.c"), or NULL when path is
 * not below it.  Relative paths are taken as below root already. */
static const char *sf_relative(const char *path, const char *root)
{
    if (path[0] != '/') {
        while (path[0] == '.' && path[1] == '/')
            path += 2;
        return strncmp(path, "../", 3) == 0 ? NULL : path;
    }
    size_t n = strlen(root);
    if (n && strncmp(path, root, n) == 0 && (path[n] == '/' || root[n - 1] == '/'))
        return path + n + (path[n] == '/');
    return NULL;
}

/* Writes an artifactLocation object for file. */
static void sf_artifact(sb_buf *b, const char *file, const char *root)
{
    const char *rel = file ? sf_relative(file, root) : NULL;
    sb_puts(b, "{\"uri\": \"");
    if (rel) {
        sf_uri_path(b, rel);
        sb_puts(b, "\", \"uriBaseId\": \"SRCROOT\"}");
    } else if (file && file[0] == '/') {
        sb_puts(b, "file://");
        sf_uri_path(b, file);
        sb_puts(b, "\"}");
    } else {
        sf_uri_path(b, file ? file : "unknown");
        sb_puts(b, "\"}");
    }
}

/* Writes a physicalLocation object (a region only when the line is known). */
static void sf_physical(sb_buf *b, src_loc l, const char *root)
{
    sb_puts(b, "{\"artifactLocation\": ");
    sf_artifact(b, l.file, root);
    if (l.line > 0) {
        sb_printf(b, ", \"region\": {\"startLine\": %u", l.line);
        if (l.col > 0)
            sb_printf(b, ", \"startColumn\": %u", l.col);
        sb_putc(b, '}');
    }
    sb_putc(b, '}');
}

/* Writes ', "name": "UseAfterRelease"' for "use-after-release": SARIF wants
 * rule names that read as identifiers, and no name at all when it would only
 * repeat the id ("leak" -> "Leak"). */
static void sf_rule_name(sb_buf *b, const char *id)
{
    if (!strchr(id, '-') && !strchr(id, '_'))
        return;
    bool up = true;
    sb_puts(b, ", \"name\": \"");
    for (const char *p = id; *p; p++) {
        if (*p == '-' || *p == '_') {
            up = true;
            continue;
        }
        sb_putc(b, up ? (char)toupper((unsigned char)*p) : *p);
        up = false;
    }
    sb_putc(b, '"');
}

static const char *sf_level(const char *severity)
{
    return severity && strcmp(severity, "error") == 0 ? "error" : "warning";
}

static int sf_rule_index(const pr_rule_info *rules, int nrules, const char *id)
{
    for (int i = 0; i < nrules; i++)
        if (strcmp(rules[i].id, id) == 0)
            return i;
    return -1;
}

static void sf_rules(sb_buf *b, const pr_rule_info *rules, int nrules, const char *info_uri)
{
    sb_puts(b, "\"rules\": [");
    for (int i = 0; i < nrules; i++) {
        const pr_rule_info *r = &rules[i];
        sb_puts(b, i ? ",\n          {" : "\n          {");
        sb_puts(b, "\"id\": ");
        sb_json_str(b, r->id);
        sf_rule_name(b, r->id);
        sb_puts(b, ",\n           \"shortDescription\": {\"text\": ");
        sb_json_str(b, r->summary);
        sb_puts(b, "},\n           \"fullDescription\": {\"text\": ");
        sb_json_str(b, r->description ? r->description : r->summary);
        sb_puts(b, "},\n           \"help\": {\"text\": ");
        sb_json_str(b, r->help);
        sb_puts(b, "},\n           \"helpUri\": ");
        sb_buf uri = {0};
        sb_printf(&uri, "%s#rule-%s", info_uri, r->id);
        sb_json_str(b, sb_str(&uri));
        sb_free(&uri);
        sb_puts(b, ",\n           \"defaultConfiguration\": {\"level\": ");
        sb_json_str(b, sf_level(r->severity));
        sb_puts(b, "},\n           \"properties\": {\"tags\": [\"correctness\", \"cpython-c-api\"]}}");
    }
    sb_puts(b, nrules ? "\n        ]" : "]");
}

static void sf_code_flow(sb_buf *b, const pr_step *steps, int nsteps, const char *root,
                         const char *indent)
{
    sb_printf(b, "{\"threadFlows\": [{\"locations\": [");
    for (int k = 0; k < nsteps; k++) {
        const pr_step *s = &steps[k];
        sb_printf(b, "%s\n%s  {\"location\": {\"physicalLocation\": ", k ? "," : "", indent);
        sf_physical(b, s->loc, root);
        sb_puts(b, ", \"message\": {\"text\": ");
        sb_json_str(b, s->message);
        sb_puts(b, "}}");
        sb_printf(b, ", \"executionOrder\": %d", k + 1);
        if (s->refs >= 0)
            sb_printf(b, ", \"properties\": {\"ownedReferences\": %d}", s->refs);
        sb_putc(b, '}');
    }
    sb_printf(b, "\n%s]}]}", indent);
}

static void sf_result(sb_buf *b, const pr_finding *f, int rule_index, const char *root)
{
    sb_puts(b, "{\"ruleId\": ");
    sb_json_str(b, f->rule);
    if (rule_index >= 0)
        sb_printf(b, ", \"ruleIndex\": %d", rule_index);
    sb_puts(b, ", \"level\": ");
    sb_json_str(b, sf_level(f->severity));
    sb_puts(b, ",\n         \"message\": {\"text\": ");
    sb_json_str(b, f->message);
    sb_puts(b, "},\n         \"locations\": [{\"physicalLocation\": ");
    sf_physical(b, f->loc, root);
    if (f->function && *f->function) {
        sb_puts(b, ", \"logicalLocations\": [{\"name\": ");
        sb_json_str(b, f->function);
        sb_puts(b, ", \"kind\": \"function\"}]");
    }
    sb_puts(b, "}],\n         \"partialFingerprints\": {\"pyrefcheck/v1\": ");
    sb_json_str(b, f->fingerprint);
    sb_putc(b, '}');
    if (f->nsteps > 0) {
        sb_puts(b, ",\n         \"codeFlows\": [");
        sf_code_flow(b, f->steps, f->nsteps, root, "           ");
        sb_putc(b, ']');
    }
    if (f->suppressed)
        sb_puts(b, ",\n         \"suppressions\": [{\"kind\": \"inSource\"}]");
    if (f->validation) {
        sb_puts(b, ",\n         \"properties\": {\"validation\": ");
        sb_json_str(b, f->validation);
        sb_putc(b, '}');
    }
    sb_putc(b, '}');
}

/* The distinct files findings and steps point at, in first-seen order. */
static void sf_artifacts(sb_buf *b, const pr_report *r, const char *root)
{
    const char **seen = calloc((size_t)r->nfindings + 1, sizeof *seen);
    int n = 0;
    sb_puts(b, "\"artifacts\": [");
    for (int i = 0; seen && i < r->nfindings; i++) {
        const char *file = r->findings[i].loc.file;
        if (!file)
            continue;
        bool dup = false;
        for (int k = 0; k < n && !dup; k++)
            dup = strcmp(seen[k], file) == 0;
        if (dup)
            continue;
        seen[n] = file;
        sb_puts(b, n++ ? ",\n        {\"location\": " : "\n        {\"location\": ");
        sf_artifact(b, file, root);
        sb_puts(b, ", \"sourceLanguage\": \"c\"}");
    }
    sb_puts(b, n ? "\n      ]" : "]");
    free(seen);
}

void pr_write_sarif(const pr_report *r, const pr_rule_info *rules, int nrules,
                    const pr_sarif_options *o, FILE *out)
{
    char cwd[4096];
    const char *root = o->root;
    if (!root)
        root = getcwd(cwd, sizeof cwd) ? cwd : "/";
    sb_buf b = {0};
    sb_puts(&b, "{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
                "  \"version\": \"2.1.0\",\n  \"runs\": [{\n    \"tool\": {\"driver\": {\n"
                "        \"name\": \"pyrefcheck\", \"version\": ");
    sb_json_str(&b, o->version);
    sb_puts(&b, ", \"semanticVersion\": ");
    sb_json_str(&b, o->version);
    sb_puts(&b, ",\n        \"informationUri\": ");
    sb_json_str(&b, o->information_uri);
    sb_puts(&b, ",\n        ");
    sf_rules(&b, rules, nrules, o->information_uri);
    sb_puts(&b, "}},\n    \"originalUriBaseIds\": {\"SRCROOT\": {\"uri\": \"file://");
    sf_uri_path(&b, root);
    if (root[strlen(root) - 1] != '/')
        sb_putc(&b, '/');
    sb_puts(&b, "\"}},\n    \"columnKind\": \"unicodeCodePoints\",\n    ");
    sf_artifacts(&b, r, root);
    /* the invocation: parse errors and incomplete analyses as notifications */
    sb_printf(&b, ",\n    \"invocations\": [{\"executionSuccessful\": %s, "
                  "\"toolExecutionNotifications\": [",
              r->nerrors ? "false" : "true");
    int k = 0;
    for (int i = 0; i < r->nerrors; i++, k++) {
        sb_puts(&b, k ? ",\n        {" : "\n        {");
        sb_puts(&b, "\"level\": \"error\", \"message\": {\"text\": ");
        sb_json_str(&b, r->errors[i].message);
        sb_puts(&b, "}, \"locations\": [{\"physicalLocation\": ");
        sf_physical(&b, (src_loc){ r->errors[i].file, 0, 0 }, root);
        sb_puts(&b, "}]}");
    }
    for (int i = 0; i < r->nincomplete; i++, k++) {
        const pr_incomplete *in = &r->incomplete[i];
        sb_buf msg = {0};
        sb_printf(&msg, "analysis of '%s' incomplete: %s", in->function, in->reason);
        sb_puts(&b, k ? ",\n        {" : "\n        {");
        sb_puts(&b, "\"level\": \"note\", \"message\": {\"text\": ");
        sb_json_str(&b, sb_str(&msg));
        sb_free(&msg);
        sb_puts(&b, "}");
        if (in->loc.file) {
            sb_puts(&b, ", \"locations\": [{\"physicalLocation\": ");
            sf_physical(&b, in->loc, root);
            sb_puts(&b, "}]");
        }
        sb_putc(&b, '}');
    }
    sb_puts(&b, k ? "\n      ]}],\n    \"results\": [" : "]}],\n    \"results\": [");
    for (int i = 0; i < r->nfindings; i++) {
        const pr_finding *f = &r->findings[i];
        sb_puts(&b, i ? ",\n      " : "\n      ");
        sf_result(&b, f, sf_rule_index(rules, nrules, f->rule), root);
    }
    sb_puts(&b, r->nfindings ? "\n    ]\n  }]\n}\n" : "]\n  }]\n}\n");
    fputs(sb_str(&b), out);
    sb_free(&b);
}
