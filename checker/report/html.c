/* html.c - the static HTML report (--format html -o DIR).
 *
 * index.html lists every finding with the run's summary, filterable by rule
 * and by file with a few lines of inline script; finding-N.html shows the
 * N-th finding (1-based, in report order): the source of its function with
 * the path drawn on it (a numbered note under each step's line, with the
 * tracked object's reference count after the step), replayable forward and
 * back with the keyboard, and the other paths to the same bug collapsed
 * under the reported one.  Everything is inline (styles, script), links
 * are relative, nothing is fetched: the pages work from file://.
 */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "../base/strbuf.h"

#define HS_MAX_SOURCE (64u << 20)   /* larger source files are not shown */
#define HS_MAX_LINES_SHOWN 1500     /* a longer function is shown around its path */

/* A source file read into memory, split into lines. */
typedef struct hs_source {
    const char *path;       /* borrowed from the report; NULL: nothing loaded */
    char *text;             /* whole file, NUL-terminated; NULL when unreadable */
    size_t *line_start;     /* offset of line k+1 (0-based index k) */
    unsigned nlines;
} hs_source;

/* ------------------------------------------------------------------ */
/* small helpers                                                      */

/* Appends s with HTML's special characters escaped (text and attributes). */
static void hs_esc(sb_buf *b, const char *s)
{
    if (!s)
        return;
    for (; *s; s++) {
        switch (*s) {
        case '&': sb_puts(b, "&amp;"); break;
        case '<': sb_puts(b, "&lt;"); break;
        case '>': sb_puts(b, "&gt;"); break;
        case '"': sb_puts(b, "&quot;"); break;
        case '\'': sb_puts(b, "&#39;"); break;
        default: sb_putc(b, *s); break;
        }
    }
}

/* Appends the n bytes at s escaped, tabs kept (the page sets tab-size). */
static void hs_esc_n(sb_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '&')
            sb_puts(b, "&amp;");
        else if (c == '<')
            sb_puts(b, "&lt;");
        else if (c == '>')
            sb_puts(b, "&gt;");
        else if (c == '\r' || c == '\f' || c == '\v')
            continue;
        else
            sb_putc(b, c);
    }
}

static bool hs_same_file(const char *a, const char *b)
{
    return !a || !b || strcmp(a, b) == 0;
}

/* Creates dir and its missing parents.  Returns 0, or -1 with err set. */
static int hs_mkdirs(const char *dir, char *err, size_t errlen)
{
    size_t n = strlen(dir);
    if (n == 0) {
        snprintf(err, errlen, "--format html needs an output directory (-o DIR)");
        return -1;
    }
    char *p = malloc(n + 1);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(p, dir, n + 1);
    int rc = 0;
    for (size_t i = 1; i <= n && rc == 0; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create directory %s: %s", p, strerror(errno));
            rc = -1;
        }
        p[i] = saved;
    }
    struct stat sb;
    if (rc == 0 && stat(dir, &sb) != 0) {
        snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
        rc = -1;
    } else if (rc == 0 && !S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "cannot create directory %s: a file of that name exists", dir);
        rc = -1;
    }
    free(p);
    return rc;
}

/* Writes b to dir/name.  Returns 0, or -1 with err set. */
static int hs_write_file(const char *dir, const char *name, const sb_buf *b, char *err,
                         size_t errlen)
{
    if (b->oom) {
        snprintf(err, errlen, "out of memory writing %s/%s", dir, name);
        return -1;
    }
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    if (!path) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(path, n, "%s/%s", dir, name);
    int rc = 0;
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        rc = -1;
    } else {
        size_t len = b->len;
        if ((len && fwrite(b->data, 1, len, f) != len) || fflush(f) != 0) {
            snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
            rc = -1;
        }
        if (fclose(f) != 0 && rc == 0) {
            snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
            rc = -1;
        }
    }
    free(path);
    return rc;
}

/* ------------------------------------------------------------------ */
/* sources                                                            */

static void hs_source_free(hs_source *s)
{
    free(s->text);
    free(s->line_start);
    memset(s, 0, sizeof *s);
}

/* Makes s hold path's text (kept when it already does).  An unreadable
 * file leaves s->text NULL; out of memory too (the page then shows the
 * path without the source). */
static void hs_source_load(hs_source *s, const char *path)
{
    if (s->path && path && strcmp(s->path, path) == 0)
        return;
    hs_source_free(s);
    s->path = path;
    if (!path)
        return;
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    sb_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < HS_MAX_SOURCE)
        sb_append(&b, chunk, n);
    bool bad = ferror(f) || b.oom || b.len >= HS_MAX_SOURCE;
    fclose(f);
    if (bad) {
        sb_free(&b);
        return;
    }
    s->text = b.data ? b.data : calloc(1, 1);
    size_t len = b.len;
    unsigned lines = 1;
    for (size_t i = 0; i < len; i++)
        if (s->text && s->text[i] == '\n')
            lines++;
    s->line_start = malloc(((size_t)lines + 1) * sizeof *s->line_start);
    if (!s->text || !s->line_start) {
        free(s->text);
        free(s->line_start);
        s->text = NULL;
        s->line_start = NULL;
        return;
    }
    unsigned k = 0;
    s->line_start[k++] = 0;
    for (size_t i = 0; i < len; i++)
        if (s->text[i] == '\n')
            s->line_start[k++] = i + 1;
    s->line_start[k] = len + 1;     /* sentinel: one past the last line's end */
    s->nlines = lines;
    if (len > 0 && s->text[len - 1] == '\n')
        s->nlines--;                /* no empty line after the final newline */
}

/* Line `line` (1-based) of s: its start and length without the newline. */
static const char *hs_line(const hs_source *s, unsigned line, size_t *len)
{
    size_t a = s->line_start[line - 1], e = s->line_start[line] - 1;
    *len = e - a;
    return s->text + a;
}

static bool hs_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    return true;
}

/* The last line of the function starting at line `from`: the line of the
 * '}' closing its first '{' (comments, strings and character constants
 * skipped).  Returns 0 when not found within the file. */
static unsigned hs_function_end(const hs_source *s, unsigned from)
{
    const char *t = s->text;
    size_t i = s->line_start[from - 1];
    size_t end = s->line_start[s->nlines] - 1;
    int depth = 0;
    bool opened = false;
    unsigned line = from;
    while (i < end) {
        char c = t[i];
        if (c == '\n') {
            line++;
            i++;
        } else if (c == '/' && t[i + 1] == '/') {
            while (i < end && t[i] != '\n')
                i++;
        } else if (c == '/' && t[i + 1] == '*') {
            i += 2;
            while (i < end && !(t[i] == '*' && t[i + 1] == '/')) {
                if (t[i] == '\n')
                    line++;
                i++;
            }
            i += 2;
        } else if (c == '"' || c == '\'') {
            i++;
            while (i < end && t[i] != c && t[i] != '\n') {
                if (t[i] == '\\' && i + 1 < end) {
                    if (t[i + 1] == '\n')
                        line++;
                    i++;
                }
                i++;
            }
            i++;
        } else {
            if (c == '{') {
                depth++;
                opened = true;
            } else if (c == '}' && opened && --depth == 0) {
                return line;
            }
            i++;
        }
    }
    return 0;
}

/* Chooses the lines of finding f to show: its function (from the report's
 * function list, or its path's lines), with every step in this file. */
static void hs_range(const pr_report *r, const pr_finding *f, const hs_source *s, unsigned *lo,
                     unsigned *hi)
{
    unsigned a = f->loc.line, b = f->loc.line;
    for (int k = 0; k < f->nsteps; k++) {
        const pr_step *st = &f->steps[k];
        if (!hs_same_file(st->loc.file, f->loc.file) || st->loc.line == 0)
            continue;
        a = st->loc.line < a || a == 0 ? st->loc.line : a;
        b = st->loc.line > b ? st->loc.line : b;
    }
    for (int p = 0; p < f->nother_paths; p++) {
        for (int k = 0; k < f->other_paths[p].nsteps; k++) {
            const pr_step *st = &f->other_paths[p].steps[k];
            if (!hs_same_file(st->loc.file, f->loc.file) || st->loc.line == 0)
                continue;
            a = st->loc.line < a || a == 0 ? st->loc.line : a;
            b = st->loc.line > b ? st->loc.line : b;
        }
    }
    unsigned start = 0;
    for (int i = 0; i < r->nfunctions; i++) {
        const pr_function *fn = &r->functions[i];
        if (fn->line && fn->line <= (a ? a : fn->line) && fn->line > start &&
            strcmp(fn->name, f->function ? f->function : "") == 0 &&
            hs_same_file(fn->file, f->loc.file))
            start = fn->line;
    }
    unsigned end = 0;
    if (start && start <= s->nlines)
        end = hs_function_end(s, start);
    if (start && end >= b && end - start < HS_MAX_LINES_SHOWN) {
        /* the declaration's return type may sit on the lines above */
        for (int up = 0; up < 3 && start > 1; up++) {
            size_t n;
            const char *p = hs_line(s, start - 1, &n);
            while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
                n--;
            if (hs_blank(p, n) || p[0] == '#' || p[n - 1] == ';' || p[n - 1] == '}' ||
                p[n - 1] == '/' || p[n - 1] == '{')
                break;
            start--;
        }
        a = start;
        b = end;
    } else {
        a = a > 5 ? a - 5 : 1;
        b += 5;
    }
    if (a == 0)
        a = 1;
    if (b > s->nlines)
        b = s->nlines;
    *lo = a;
    *hi = b;
}

/* ------------------------------------------------------------------ */
/* page pieces                                                        */

static const char hs_css[] =
    ":root{--fg:#1d2330;--muted:#5b6475;--line:#dde2ea;--bg:#ffffff;--panel:#f5f7fa;"
    "--warn:#9a5b00;--warnbg:#fff3dc;--err:#b3261e;--errbg:#fde7e5;--accent:#1f5fbf;"
    "--hl:#fff6c2;--step:#e8f0fe;--cur:#ffd54a}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "color:var(--fg);background:var(--bg)}\n"
    "a{color:var(--accent)}\n"
    "code,pre,.mono{font-family:ui-monospace,'DejaVu Sans Mono','Liberation Mono',Menlo,monospace;"
    "font-size:13px}\n"
    "header.top{padding:14px 24px 10px;border-bottom:1px solid var(--line);background:var(--panel)}\n"
    "header.top h1{font-size:20px;margin:4px 0 6px;overflow-wrap:anywhere}\n"
    "nav.crumbs{font-size:13px;color:var(--muted)}\n"
    "nav.crumbs a{margin-right:14px}\n"
    ".meta{color:var(--muted);font-size:13px;margin:2px 0}\n"
    ".sev{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;"
    "vertical-align:2px}\n"
    ".sev.warning{color:var(--warn);background:var(--warnbg)}\n"
    ".sev.error{color:var(--err);background:var(--errbg)}\n"
    ".rule{display:inline-block;white-space:nowrap;padding:1px 8px;border-radius:10px;font-size:12px;"
    "background:#e9ecf2;font-family:ui-monospace,'DejaVu Sans Mono',monospace;vertical-align:2px}\n"
    ".validation{margin:6px 0 0;padding:4px 10px;border-left:4px solid #2e7d32;background:#edf7ee;"
    "font-size:13px}\n"
    "main{padding:16px 24px 40px}\n"
    /* index */
    ".summary{font-size:14px;margin:6px 0 0}\n"
    ".filters{display:flex;flex-wrap:wrap;gap:16px;align-items:center;margin:0 0 12px}\n"
    ".filters select{font:inherit;padding:3px 6px;max-width:28em}\n"
    "#shown{color:var(--muted);font-size:13px}\n"
    "table.findings{border-collapse:collapse;width:100%}\n"
    "table.findings th{text-align:left;font-size:12px;text-transform:uppercase;letter-spacing:.04em;"
    "color:var(--muted);border-bottom:2px solid var(--line);padding:6px 8px}\n"
    "table.findings td{border-bottom:1px solid var(--line);padding:7px 8px;vertical-align:top}\n"
    "table.findings td.msg{overflow-wrap:anywhere}\n"
    "table.findings td:not(.msg){width:1%;white-space:nowrap}\n"
    "table.findings td.loc .fn{color:var(--muted)}\n"
    "table.findings td.msg a{text-decoration:none}\n"
    "table.findings td.msg a:hover{text-decoration:underline}\n"
    "table.findings td.loc{white-space:nowrap}\n"
    "table.findings tr.finding:hover{background:var(--panel)}\n"
    ".empty{color:var(--muted);font-style:italic}\n"
    "section.notes h2{font-size:16px;margin:26px 0 6px}\n"
    "section.notes li{overflow-wrap:anywhere}\n"
    /* finding page */
    "#bar{position:sticky;top:0;z-index:5;display:flex;gap:18px;align-items:center;flex-wrap:wrap;"
    "padding:8px 24px;background:#263238;color:#eef2f5;font-size:14px}\n"
    "#bar b{color:#fff}\n"
    "#bar button{font:inherit;font-size:13px;padding:2px 10px;border-radius:4px;border:1px solid #90a4ae;"
    "background:#37474f;color:#fff;cursor:pointer}\n"
    "#bar .keys{margin-left:auto;color:#b0bec5;font-size:12px}\n"
    "#bar kbd{border:1px solid #78909c;border-radius:3px;padding:0 4px;font-size:11px}\n"
    "#refs{font-weight:600;color:var(--cur)}\n"
    ".layout{display:grid;grid-template-columns:minmax(0,1fr) minmax(300px,32%);gap:20px;"
    "align-items:start}\n"
    ".source{border:1px solid var(--line);border-radius:6px;overflow-x:auto}\n"
    "table.code{border-collapse:collapse;width:100%;tab-size:8;-moz-tab-size:8}\n"
    "table.code td{padding:0 8px;vertical-align:baseline}\n"
    "table.code td.ln{width:1%;text-align:right;color:#8a93a3;user-select:none;"
    "border-right:1px solid var(--line);font-family:ui-monospace,'DejaVu Sans Mono',monospace;"
    "font-size:12px}\n"
    "table.code td.src{white-space:pre;font-family:ui-monospace,'DejaVu Sans Mono','Liberation Mono',"
    "Menlo,monospace;font-size:13px;line-height:1.5}\n"
    "table.code tr.onpath td.src{background:var(--step)}\n"
    "table.code tr.reported td.ln{color:var(--err);font-weight:700}\n"
    "table.code tr.current td.src{background:var(--hl)}\n"
    "table.code tr.note td{padding:2px 8px 4px}\n"
    ".bubble{display:inline-block;max-width:60em;white-space:normal;overflow-wrap:anywhere;"
    "border:1px solid #b8c7e6;background:#f4f7fd;border-radius:6px;padding:3px 10px;font-size:13px;"
    "cursor:pointer;font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif}\n"
    ".bubble .num,.path .num{display:inline-block;min-width:1.7em;text-align:center;border-radius:10px;"
    "background:#5c6bc0;color:#fff;font-weight:700;font-size:12px;margin-right:6px;padding:0 5px}\n"
    ".bubble .rc,.path .rc{margin-left:8px;font-size:12px;color:#37474f;background:#e3e7ee;"
    "border-radius:8px;padding:0 6px;white-space:nowrap}\n"
    "tr.note.current .bubble{border:2px solid #f2a900;background:#fff8d6;"
    "box-shadow:0 1px 4px rgba(0,0,0,.15)}\n"
    "tr.note.current .num,.path li.current .num{background:#e65100}\n"
    "tr.note.last .bubble{border-color:#e0a3a0;background:#fdf1f0}\n"
    "aside h2{font-size:15px;margin:0 0 8px}\n"
    "aside{position:sticky;top:52px;max-height:calc(100vh - 70px);overflow-y:auto}\n"
    ".path{list-style:none;margin:0 0 10px;padding:0}\n"
    ".path li{padding:5px 8px;border-left:3px solid transparent;border-radius:3px;font-size:13px;"
    "cursor:pointer;overflow-wrap:anywhere}\n"
    ".path li:hover{background:var(--panel)}\n"
    ".path li.current{background:var(--hl);border-left-color:#f2a900}\n"
    ".path .where{color:var(--muted);font-size:12px;margin-left:4px}\n"
    "details.others{border-top:1px solid var(--line);padding-top:8px;margin-top:8px}\n"
    "details.others summary{cursor:pointer;font-weight:600;font-size:14px}\n"
    ".alt h3{font-size:13px;margin:12px 0 4px;line-height:1.8}\n"
    ".alt button{font:inherit;font-size:12px;padding:1px 8px;cursor:pointer;margin-left:6px}\n"
    ".alt.active h3{color:#e65100}\n"
    ".alt:not(.active) ol.path{opacity:.6}\n"
    ".path li.differs{border-left-color:#26a69a}\n"
    ".path li.differs.current{border-left-color:#f2a900}\n"
    ".alt h3 span.d{font-weight:400;color:var(--muted)}\n"
    "#pathname{color:#ffcc80}\n"
    ".nosource{color:var(--muted);font-style:italic;padding:10px}\n"
    "@media (max-width:1000px){.layout{grid-template-columns:minmax(0,1fr)}"
    "aside{position:static;max-height:none}}\n";

/* The index page's filter: rows carry data-rule and data-file; the two
 * selects hide the others; the choice is kept in the URL's fragment. */
static const char hs_index_js[] =
    "(function(){\n"
    "var rs=document.getElementById('f-rule'),fs=document.getElementById('f-file');\n"
    "var rows=document.querySelectorAll('tr.finding'),shown=document.getElementById('shown');\n"
    "function apply(){var n=0;for(var i=0;i<rows.length;i++){var r=rows[i];\n"
    " var ok=(!rs.value||r.dataset.rule===rs.value)&&(!fs.value||r.dataset.file===fs.value);\n"
    " r.hidden=!ok;if(ok)n++;}\n"
    " shown.textContent=n+' of '+rows.length+' finding'+(rows.length===1?'':'s')+' shown';\n"
    " var h=[];if(rs.value)h.push('rule='+encodeURIComponent(rs.value));\n"
    " if(fs.value)h.push('file='+encodeURIComponent(fs.value));\n"
    " var nh=h.length?'#'+h.join('&'):'';\n"
    " try{sessionStorage.setItem('pyrefcheck-filter',nh);}catch(e){}\n"
    " if(location.hash!==nh){\n"
    "  if(nh)location.replace(nh);else if(location.hash)location.replace('#');}}\n"
    "function load(){var h=location.hash.replace(/^#/,'').split('&');\n"
    " for(var i=0;i<h.length;i++){var kv=h[i].split('=');if(kv.length!==2)continue;\n"
    "  var v=decodeURIComponent(kv[1]);var s=kv[0]==='rule'?rs:kv[0]==='file'?fs:null;\n"
    "  if(s){for(var k=0;k<s.options.length;k++)if(s.options[k].value===v)s.value=v;}}\n"
    " apply();}\n"
    "rs.addEventListener('change',apply);fs.addEventListener('change',apply);\n"
    "window.addEventListener('pageshow',load);load();\n"
    "})();\n";

/* The finding page's replay: each ol.path lists its steps (data-line,
 * data-here when the line is on this page, data-refs); the active path's
 * notes are drawn under their source lines and one step is current. */
static const char hs_finding_js[] =
    "(function(){\n"
    "var paths=document.querySelectorAll('ol.path'),active=0,cur=0;\n"
    "var no=document.getElementById('stepno'),tot=document.getElementById('steptotal'),\n"
    " ln=document.getElementById('stepline'),rc=document.getElementById('refs');\n"
    "function steps(){return paths[active].querySelectorAll('li.step');}\n"
    "function draw(){\n"
    " var old=document.querySelectorAll('tr.note');for(var i=0;i<old.length;i++)old[i].remove();\n"
    " var on=document.querySelectorAll('tr.onpath');\n"
    " for(i=0;i<on.length;i++)on[i].classList.remove('onpath');\n"
    " var s=steps(),after={};\n"
    " for(i=0;i<s.length;i++){var li=s[i];if(li.dataset.here!=='1')continue;\n"
    "  var row=document.getElementById('L'+li.dataset.line);if(!row)continue;\n"
    "  row.classList.add('onpath');\n"
    "  var tr=document.createElement('tr');tr.className='note'+(i===s.length-1?' last':'');\n"
    "  tr.dataset.step=String(i+1);tr.appendChild(document.createElement('td'));\n"
    "  var td=document.createElement('td');td.className='src';var b=document.createElement('span');\n"
    "  b.className='bubble';b.innerHTML=li.querySelector('.body').innerHTML;\n"
    "  (function(k){b.addEventListener('click',function(){show(k);});})(i);\n"
    "  td.appendChild(b);tr.appendChild(td);\n"
    "  var at=after[li.dataset.line]||row;at.after(tr);after[li.dataset.line]=tr;}\n"
    " for(i=0;i<paths.length;i++){var alt=paths[i].closest('.alt');\n"
    "  if(alt)alt.classList.toggle('active',i===active);}\n"
    " tot.textContent=String(s.length);}\n"
    "function show(k){var s=steps();if(!s.length)return;cur=Math.max(0,Math.min(k,s.length-1));\n"
    " var c=document.querySelectorAll('.current');\n"
    " for(var i=0;i<c.length;i++)c[i].classList.remove('current');\n"
    " var li=s[cur];li.classList.add('current');\n"
    " var note=document.querySelector('tr.note[data-step=\"'+(cur+1)+'\"]');\n"
    " var row=li.dataset.here==='1'?document.getElementById('L'+li.dataset.line):null;\n"
    " if(row)row.classList.add('current');if(note)note.classList.add('current');\n"
    " no.textContent=String(cur+1);ln.textContent=li.dataset.where;\n"
    " rc.textContent=li.dataset.refs!==undefined?'refs: '+li.dataset.refs:'';\n"
    " document.body.dataset.step=String(cur+1);document.body.dataset.path=String(active+1);\n"
    " if(paths.length>1)document.getElementById('pathname').textContent=\n"
    "  active?'replaying other path '+(active+1)+' of '+paths.length:'the reported path';\n"
    " var t=note||row;if(t)t.scrollIntoView({block:'center'});\n"
    " reveal(li);}\n"
    "function reveal(li){var as=document.querySelector('aside');\n"
    " if(!as||getComputedStyle(as).position!=='sticky')return;\n"
    " var a=as.getBoundingClientRect(),r=li.getBoundingClientRect();\n"
    " if(r.top<a.top)as.scrollTop-=a.top-r.top+8;\n"
    " else if(r.bottom>a.bottom)as.scrollTop+=r.bottom-a.bottom+8;}\n"
    "function usePath(p){active=p;draw();show(0);}\n"
    "document.addEventListener('keydown',function(e){\n"
    " if(e.ctrlKey||e.metaKey||e.altKey)return;var t=e.target.tagName;\n"
    " if(t==='INPUT'||t==='SELECT'||t==='TEXTAREA')return;var k=e.key;\n"
    " if(k==='n'||k==='j'||k==='ArrowRight'){show(cur+1);e.preventDefault();}\n"
    " else if(k==='p'||k==='k'||k==='ArrowLeft'){show(cur-1);e.preventDefault();}\n"
    " else if(k==='Home'){show(0);e.preventDefault();}\n"
    " else if(k==='End'){show(steps().length-1);e.preventDefault();}});\n"
    "for(var i=0;i<paths.length;i++){(function(p){var s=paths[p].querySelectorAll('li.step');\n"
    " for(var k=0;k<s.length;k++)(function(k){s[k].addEventListener('click',function(){\n"
    "  if(active!==p)usePath(p);show(k);});})(k);})(i);}\n"
    "var bs=document.querySelectorAll('button[data-path]');\n"
    "for(i=0;i<bs.length;i++)bs[i].addEventListener('click',function(e){usePath(+e.target.dataset.path);});\n"
    "document.getElementById('prev').addEventListener('click',function(){show(cur-1);});\n"
    "document.getElementById('next').addEventListener('click',function(){show(cur+1);});\n"
    "try{var h=sessionStorage.getItem('pyrefcheck-filter');\n"
    " if(h)document.getElementById('to-index').href='index.html'+h;}catch(e){}\n"
    "if(paths.length){draw();show(0);}\n"
    "})();\n";

static void hs_head(sb_buf *b, const char *title)
{
    sb_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
               "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
               "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n<title>");
    hs_esc(b, title);
    sb_puts(b, "</title>\n<style>\n");
    sb_puts(b, hs_css);
    sb_puts(b, "</style>\n</head>\n");
}

static const char *hs_sev(const pr_finding *f)
{
    return f->severity && strcmp(f->severity, "error") == 0 ? "error" : "warning";
}

/* The absolute folder every file of the report is in, left out of the file
 * names shown (the index names it); len 0 when there is none. */
typedef struct hs_base {
    const char *dir;
    size_t len;             /* up to and including its last '/' */
} hs_base;

static void hs_base_of(const pr_report *r, hs_base *base)
{
    const char *first = NULL;
    size_t len = 0;
    int n = r->nfindings + r->nerrors + r->nincomplete;
    for (int i = 0; i < n; i++) {
        const char *f = i < r->nfindings ? r->findings[i].loc.file
                        : i < r->nfindings + r->nerrors ? r->errors[i - r->nfindings].file
                        : r->incomplete[i - r->nfindings - r->nerrors].file;
        if (!f || f[0] != '/') {
            len = 0;
            break;
        }
        if (!first) {
            first = f;
            len = (size_t)(strrchr(f, '/') - f) + 1;
            continue;
        }
        size_t k = 0;
        while (k < len && f[k] == first[k])
            k++;
        while (k > 0 && first[k - 1] != '/')
            k--;
        len = k;
    }
    base->dir = first;
    base->len = len > 1 ? len : 0;
}

/* file as shown: without base's folder when it is in it. */
static const char *hs_shown(const hs_base *base, const char *file)
{
    if (file && base->len && strncmp(file, base->dir, base->len) == 0 && file[base->len])
        return file + base->len;
    return file;
}

static void hs_loc(sb_buf *b, src_loc l, const hs_base *base)
{
    hs_esc(b, l.file ? hs_shown(base, l.file) : "<unknown>");
    sb_printf(b, ":%u", l.line);
    if (l.col)
        sb_printf(b, ":%u", l.col);
}

/* The run's totals in one sentence, like the text format's summary. */
static void hs_summary(sb_buf *b, const pr_report *r, const char *version)
{
    const pr_stats *s = &r->stats;
    sb_printf(b, "<p class=\"summary\" id=\"summary\">%ld file%s analysed, %ld function%s, "
              "<b>%d finding%s</b>", s->files, s->files == 1 ? "" : "s", s->functions,
              s->functions == 1 ? "" : "s", r->nfindings, r->nfindings == 1 ? "" : "s");
    int shown = 0;
    for (int i = 0; i < r->nfindings; i++) {
        const char *rule = r->findings[i].rule;
        int seen = 0, count = 0;
        for (int k = 0; k < i && !seen; k++)
            seen = strcmp(r->findings[k].rule, rule) == 0;
        if (seen)
            continue;
        for (int k = i; k < r->nfindings; k++)
            count += strcmp(r->findings[k].rule, rule) == 0;
        sb_puts(b, shown++ ? ", " : " (");
        hs_esc(b, rule);
        sb_printf(b, ": %d", count);
    }
    if (shown)
        sb_putc(b, ')');
    if (r->nerrors)
        sb_printf(b, ", %d file%s not analysed", r->nerrors, r->nerrors == 1 ? "" : "s");
    if (r->nincomplete)
        sb_printf(b, ", %d function%s incomplete", r->nincomplete, r->nincomplete == 1 ? "" : "s");
    sb_printf(b, ", %.2f s &middot; pyrefcheck ", s->seconds);
    hs_esc(b, version);
    sb_puts(b, "</p>\n");
}

/* One <option> per distinct value of rule (by_file false) or file, with
 * its count, in order of first appearance. */
static void hs_options(sb_buf *b, const pr_report *r, bool by_file, const hs_base *base)
{
    for (int i = 0; i < r->nfindings; i++) {
        const char *v = by_file ? r->findings[i].loc.file : r->findings[i].rule;
        v = v ? v : "";
        /* findings are sorted by file: a new file differs from the last one */
        if (by_file && i > 0) {
            const char *prev = r->findings[i - 1].loc.file;
            if (strcmp(prev ? prev : "", v) == 0)
                continue;
        }
        int seen = 0, count = 0;
        for (int k = 0; k < i && !seen; k++) {
            const char *w = by_file ? r->findings[k].loc.file : r->findings[k].rule;
            seen = strcmp(w ? w : "", v) == 0;
        }
        if (seen)
            continue;
        for (int k = i; k < r->nfindings; k++) {
            const char *w = by_file ? r->findings[k].loc.file : r->findings[k].rule;
            count += strcmp(w ? w : "", v) == 0;
        }
        sb_puts(b, "<option value=\"");
        hs_esc(b, v);
        sb_puts(b, "\">");
        hs_esc(b, by_file ? hs_shown(base, v) : v);
        sb_printf(b, " (%d)</option>", count);
    }
}

static void hs_index(sb_buf *b, const pr_report *r, const char *version, const hs_base *base)
{
    hs_head(b, "pyrefcheck report");
    sb_puts(b, "<body>\n<header class=\"top\">\n<h1>pyrefcheck report</h1>\n");
    hs_summary(b, r, version);
    if (base->len) {
        sb_puts(b, "<p class=\"meta\" id=\"base\">File names below are in <code>");
        hs_esc_n(b, base->dir, base->len);
        sb_puts(b, "</code></p>\n");
    }
    sb_puts(b, "</header>\n<main>\n");
    if (r->nfindings == 0) {
        sb_puts(b, "<p class=\"empty\" id=\"shown\">No findings.</p>\n");
    } else {
        sb_printf(b, "<div class=\"filters\">\n<label>Rule <select id=\"f-rule\">"
                  "<option value=\"\">all rules</option>");
        hs_options(b, r, false, base);
        sb_puts(b, "</select></label>\n<label>File <select id=\"f-file\">"
                   "<option value=\"\">all files</option>");
        hs_options(b, r, true, base);
        sb_printf(b, "</select></label>\n<span id=\"shown\">%d of %d finding%s shown</span>\n</div>\n",
                  r->nfindings, r->nfindings, r->nfindings == 1 ? "" : "s");
        sb_puts(b, "<table class=\"findings\" id=\"findings\">\n<thead><tr><th>#</th><th>Rule</th>"
                   "<th>Severity</th><th>Where</th><th>Message</th></tr></thead>\n"
                   "<tbody>\n");
        for (int i = 0; i < r->nfindings; i++) {
            const pr_finding *f = &r->findings[i];
            sb_puts(b, "<tr class=\"finding\" data-rule=\"");
            hs_esc(b, f->rule);
            sb_puts(b, "\" data-file=\"");
            hs_esc(b, f->loc.file ? f->loc.file : "");
            sb_printf(b, "\"><td><a href=\"finding-%d.html\">%d</a></td><td><span class=\"rule\">",
                      i + 1, i + 1);
            hs_esc(b, f->rule);
            sb_printf(b, "</span></td><td><span class=\"sev %s\">%s</span></td><td class=\"loc mono\">"
                      "<span class=\"at\" title=\"", hs_sev(f), hs_sev(f));
            hs_esc(b, f->loc.file);
            sb_puts(b, "\">");
            hs_loc(b, f->loc, base);
            sb_puts(b, "</span><br><span class=\"fn\">");
            hs_esc(b, f->function);
            sb_printf(b, "()</span></td><td class=\"msg\"><a href=\"finding-%d.html\">", i + 1);
            hs_esc(b, f->message);
            sb_puts(b, "</a>");
            if (f->validation) {
                sb_puts(b, " <span class=\"rule\">");
                hs_esc(b, f->validation);
                sb_puts(b, "</span>");
            }
            sb_puts(b, "</td></tr>\n");
        }
        sb_puts(b, "</tbody>\n</table>\n");
    }
    if (r->nerrors) {
        sb_puts(b, "<section class=\"notes\" id=\"errors\"><h2>Files not analysed</h2><ul>\n");
        for (int i = 0; i < r->nerrors; i++) {
            sb_puts(b, "<li><span class=\"mono\">");
            hs_esc(b, hs_shown(base, r->errors[i].file));
            sb_puts(b, "</span>: ");
            hs_esc(b, r->errors[i].message);
            sb_puts(b, "</li>\n");
        }
        sb_puts(b, "</ul></section>\n");
    }
    if (r->nincomplete) {
        sb_puts(b, "<section class=\"notes\" id=\"incomplete\"><h2>Analysis incomplete</h2><ul>\n");
        for (int i = 0; i < r->nincomplete; i++) {
            const pr_incomplete *in = &r->incomplete[i];
            sb_puts(b, "<li><span class=\"mono\">");
            hs_loc(b, in->loc, base);
            sb_puts(b, " ");
            hs_esc(b, in->function);
            sb_puts(b, "()</span>: ");
            hs_esc(b, in->reason);
            sb_puts(b, "</li>\n");
        }
        sb_puts(b, "</ul></section>\n");
    }
    sb_puts(b, "</main>\n");
    if (r->nfindings) {
        sb_puts(b, "<script>\n");
        sb_puts(b, hs_index_js);
        sb_puts(b, "</script>\n");
    }
    sb_puts(b, "</body>\n</html>\n");
}

/* Appends step st's note; a trailing "(refs: N)" that repeats the count
 * shown beside it is left out. */
static void hs_note(sb_buf *b, const pr_step *st)
{
    const char *m = st->message ? st->message : "";
    size_t n = strlen(m);
    if (st->refs >= 0) {
        char tail[32];
        int tn = snprintf(tail, sizeof tail, " (refs: %d)", st->refs);
        if (tn > 0 && (size_t)tn < n && strcmp(m + n - (size_t)tn, tail) == 0)
            n -= (size_t)tn;
    }
    hs_esc_n(b, m, n);
}

/* The number of leading steps two paths share (same line and note). */
static int hs_divergence(const pr_step *a, int na, const pr_step *b, int nb)
{
    int k = 0;
    while (k < na && k < nb && a[k].loc.line == b[k].loc.line &&
           strcmp(a[k].message ? a[k].message : "", b[k].message ? b[k].message : "") == 0)
        k++;
    return k;
}

/* One path as an ordered list of its steps; p is 0 for the reported path.
 * Steps from index diverge on are marked as differing from the reported path. */
static void hs_path(sb_buf *b, const pr_finding *f, const pr_step *steps, int nsteps, int p,
                    int diverge, const hs_source *s, const hs_base *base)
{
    sb_printf(b, "<ol class=\"path\" data-path=\"%d\">\n", p);
    for (int k = 0; k < nsteps; k++) {
        const pr_step *st = &steps[k];
        bool here = s->text && hs_same_file(st->loc.file, f->loc.file) && st->loc.line >= 1 &&
                    st->loc.line <= s->nlines;
        sb_printf(b, "<li class=\"step%s\" data-line=\"%u\" data-here=\"%d\"",
                  k >= diverge ? " differs" : "", st->loc.line, here);
        if (st->refs >= 0)
            sb_printf(b, " data-refs=\"%d\"", st->refs);
        sb_puts(b, " data-where=\"");
        hs_loc(b, st->loc, base);
        sb_printf(b, "\"><span class=\"body\"><span class=\"num\">%d</span>", k + 1);
        hs_note(b, st);
        if (st->refs >= 0)
            sb_printf(b, "<span class=\"rc\">refs: %d</span>", st->refs);
        sb_puts(b, "</span><span class=\"where mono\">");
        if (!hs_same_file(st->loc.file, f->loc.file))
            hs_loc(b, st->loc, base);
        else
            sb_printf(b, "line %u", st->loc.line);
        sb_puts(b, "</span></li>\n");
    }
    sb_puts(b, "</ol>\n");
}

static void hs_finding(sb_buf *b, const pr_report *r, int i, hs_source *s, const char *version,
                       const hs_base *base)
{
    const pr_finding *f = &r->findings[i];
    hs_source_load(s, f->loc.file);
    char title[256];
    snprintf(title, sizeof title, "#%d %s in %s() - pyrefcheck", i + 1, f->rule,
             f->function ? f->function : "?");
    hs_head(b, title);
    sb_puts(b, "<body>\n<header class=\"top\">\n<nav class=\"crumbs\"><a href=\"index.html\" "
               "id=\"to-index\">&larr; all findings</a>");
    if (i > 0)
        sb_printf(b, "<a href=\"finding-%d.html\" rel=\"prev\">previous finding</a>", i);
    if (i + 1 < r->nfindings)
        sb_printf(b, "<a href=\"finding-%d.html\" rel=\"next\">next finding</a>", i + 2);
    sb_printf(b, "<span>finding %d of %d</span></nav>\n<h1><span class=\"sev %s\">%s</span> "
              "<span class=\"rule\">", i + 1, r->nfindings, hs_sev(f), hs_sev(f));
    hs_esc(b, f->rule);
    sb_puts(b, "</span> <span id=\"message\">");
    hs_esc(b, f->message);
    sb_puts(b, "</span></h1>\n<p class=\"meta\"><span class=\"mono\">");
    hs_loc(b, f->loc, &(hs_base){ NULL, 0 });      /* the whole path here */
    sb_puts(b, "</span> in <code>");
    hs_esc(b, f->function);
    sb_puts(b, "()</code> &middot; fingerprint <code>");
    hs_esc(b, f->fingerprint);
    sb_puts(b, "</code> &middot; pyrefcheck ");
    hs_esc(b, version);
    sb_puts(b, "</p>\n");
    if (f->validation) {
        sb_puts(b, "<p class=\"validation\" id=\"validation\">Validation: ");
        hs_esc(b, f->validation);
        sb_puts(b, "</p>\n");
    }
    sb_printf(b, "</header>\n<div id=\"bar\"><span>Step <b id=\"stepno\">%d</b> of "
              "<b id=\"steptotal\">%d</b></span><span id=\"stepline\" class=\"mono\"></span>"
              "<span id=\"refs\"></span><span id=\"pathname\"></span>"
              "<span><button id=\"prev\" type=\"button\">&larr; previous"
              "</button> <button id=\"next\" type=\"button\">next &rarr;</button></span>"
              "<span class=\"keys\"><kbd>n</kbd>/<kbd>&rarr;</kbd> next step &middot; "
              "<kbd>p</kbd>/<kbd>&larr;</kbd> previous &middot; <kbd>Home</kbd>/<kbd>End</kbd>"
              "</span></div>\n",
              f->nsteps ? 1 : 0, f->nsteps);
    sb_puts(b, "<main class=\"layout\">\n<section class=\"source\">\n");
    if (!s->text || s->nlines == 0) {
        sb_puts(b, "<p class=\"nosource\">The source of ");
        hs_esc(b, f->loc.file ? f->loc.file : "this finding");
        sb_puts(b, " could not be read; the path is listed beside.</p>\n");
    } else {
        unsigned lo, hi;
        hs_range(r, f, s, &lo, &hi);
        sb_puts(b, "<table class=\"code\">\n");
        for (unsigned l = lo; l <= hi; l++) {
            size_t n;
            const char *text = hs_line(s, l, &n);
            sb_printf(b, "<tr id=\"L%u\"%s><td class=\"ln\">%u</td><td class=\"src\">", l,
                      l == f->loc.line ? " class=\"reported\"" : "", l);
            hs_esc_n(b, text, n);
            sb_puts(b, "</td></tr>\n");
        }
        sb_puts(b, "</table>\n");
    }
    sb_printf(b, "</section>\n<aside>\n<h2>Path to the bug (%d step%s)</h2>\n", f->nsteps,
              f->nsteps == 1 ? "" : "s");
    sb_puts(b, "<div class=\"alt active\">");
    hs_path(b, f, f->steps, f->nsteps, 0, f->nsteps, s, base);
    sb_puts(b, "</div>\n");
    if (f->nother_paths > 0) {
        sb_printf(b, "<details class=\"others\" id=\"others\"><summary>%d other path%s to the same "
                  "bug</summary>\n", f->nother_paths, f->nother_paths == 1 ? "" : "s");
        for (int p = 0; p < f->nother_paths; p++) {
            const pr_path *op = &f->other_paths[p];
            int d = hs_divergence(f->steps, f->nsteps, op->steps, op->nsteps);
            sb_printf(b, "<div class=\"alt\"><h3>Path %d <span class=\"d\">%d step%s", p + 2,
                      op->nsteps, op->nsteps == 1 ? "" : "s");
            if (d > 0 && d < op->nsteps)
                sb_printf(b, ", the first %d as in the reported path", d);
            sb_printf(b, "</span> <button type=\"button\" data-path=\"%d\">replay on the source"
                      "</button></h3>\n", p + 1);
            hs_path(b, f, op->steps, op->nsteps, p + 1, d, s, base);
            sb_puts(b, "</div>\n");
        }
        sb_puts(b, "<p class=\"meta\"><button type=\"button\" data-path=\"0\">back to the reported "
                   "path</button></p>\n</details>\n");
    }
    sb_puts(b, "</aside>\n</main>\n<script>\n");
    sb_puts(b, hs_finding_js);
    sb_puts(b, "</script>\n</body>\n</html>\n");
}

/* ------------------------------------------------------------------ */

int pr_write_html(const pr_report *r, const char *version, const char *dir, char *err,
                  size_t errlen)
{
    if (!dir || hs_mkdirs(dir, err, errlen) != 0) {
        if (!dir)
            snprintf(err, errlen, "--format html needs an output directory (-o DIR)");
        return -1;
    }
    sb_buf b = {0};
    hs_base base;
    hs_base_of(r, &base);
    hs_index(&b, r, version, &base);
    int rc = hs_write_file(dir, "index.html", &b, err, errlen);
    hs_source src = {0};
    for (int i = 0; i < r->nfindings && rc == 0; i++) {
        char name[32];
        snprintf(name, sizeof name, "finding-%d.html", i + 1);
        sb_reset(&b);
        hs_finding(&b, r, i, &src, version, &base);
        rc = hs_write_file(dir, name, &b, err, errlen);
    }
    /* pages of an earlier, larger report in the same folder would linger */
    for (int i = r->nfindings + 1; rc == 0; i++) {
        char path[4096];
        if (snprintf(path, sizeof path, "%s/finding-%d.html", dir, i) >= (int)sizeof path ||
            unlink(path) != 0)
            break;
    }
    hs_source_free(&src);
    sb_free(&b);
    return rc;
}
