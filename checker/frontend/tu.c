/* tu.c - translation units: opening libclang, compile databases, parsing
 * with the right flags, one-line errors from clang's diagnostics, the list
 * of function definitions and file-scope initializers, and source lines. */
#include "fe_internal.h"

/* ------------------------------------------------------------------ */
/* translation units                                                  */

fe_context *fe_open(const fe_options *opts, char *err, size_t errlen)
{
    fe_context *fe = calloc(1, sizeof *fe);
    if (!fe) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    fe->opts = opts;
    fe->index = clang_createIndex(0, 0);
    if (opts->compile_db_dir) {
        CXCompilationDatabase_Error dberr = CXCompilationDatabase_NoError;
        fe->db = clang_CompilationDatabase_fromDirectory(opts->compile_db_dir, &dberr);
        if (dberr != CXCompilationDatabase_NoError || !fe->db) {
            snprintf(err, errlen, "%s: cannot load compile_commands.json", opts->compile_db_dir);
            clang_disposeIndex(fe->index);
            free(fe);
            return NULL;
        }
    }
    return fe;
}

void fe_close(fe_context *fe)
{
    if (!fe)
        return;
    if (fe->db)
        clang_CompilationDatabase_dispose(fe->db);
    clang_disposeIndex(fe->index);
    free(fe);
}

void fe_free_list(char **list, int n)
{
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

static char *fe_strdup_cx(CXString s)
{
    const char *p = clang_getCString(s);
    char *r = strdup(p ? p : "");
    clang_disposeString(s);
    return r;
}

/* Joins a compile command's directory and file into an absolute path. */
static char *fe_cmd_path(CXCompileCommand cmd)
{
    char *dir = fe_strdup_cx(clang_CompileCommand_getDirectory(cmd));
    char *file = fe_strdup_cx(clang_CompileCommand_getFilename(cmd));
    char *r = NULL;
    if (dir && file) {
        if (file[0] == '/')
            r = strdup(file);
        else {
            size_t n = strlen(dir) + strlen(file) + 2;
            r = malloc(n);
            if (r)
                snprintf(r, n, "%s/%s", dir, file);
        }
    }
    free(dir);
    free(file);
    return r;
}

int fe_compile_db_files(fe_context *fe, char ***out)
{
    *out = NULL;
    if (!fe->db)
        return 0;
    CXCompileCommands cmds = clang_CompilationDatabase_getAllCompileCommands(fe->db);
    unsigned n = clang_CompileCommands_getSize(cmds);
    char **list = calloc(n ? n : 1, sizeof *list);
    int count = 0;
    for (unsigned i = 0; list && i < n; i++) {
        char *p = fe_cmd_path(clang_CompileCommands_getCommand(cmds, i));
        if (!p)
            continue;
        size_t len = strlen(p);
        bool dup = false;
        for (int j = 0; j < count && !dup; j++)
            dup = strcmp(list[j], p) == 0;
        if (dup || len < 2 || strcmp(p + len - 2, ".c") != 0) {
            free(p);
            continue;
        }
        list[count++] = p;
    }
    clang_CompileCommands_dispose(cmds);
    *out = list;
    return count;
}

/* Arguments from the compile database for path, minus the compiler, the
 * output and the source file itself.  Returns the count (0: no entry). */
static int fe_db_args(fe_context *fe, const char *path, char ***out)
{
    *out = NULL;
    if (!fe->db)
        return 0;
    char *abs = realpath(path, NULL);
    CXCompileCommands cmds = clang_CompilationDatabase_getCompileCommands(fe->db, abs ? abs : path);
    free(abs);
    int count = 0;
    if (clang_CompileCommands_getSize(cmds) > 0) {
        CXCompileCommand cmd = clang_CompileCommands_getCommand(cmds, 0);
        unsigned n = clang_CompileCommand_getNumArgs(cmd);
        char **args = calloc(n + 4, sizeof *args);
        char *dir = fe_strdup_cx(clang_CompileCommand_getDirectory(cmd));
        char *file = fe_strdup_cx(clang_CompileCommand_getFilename(cmd));
        if (args && dir) {
            /* relative -I paths are relative to the entry's directory */
            size_t dl = strlen(dir) + 20;
            args[count] = malloc(dl);
            if (args[count]) {
                snprintf(args[count], dl, "-working-directory=%s", dir);
                count++;
            }
        }
        for (unsigned i = 1; args && i < n; i++) {
            char *a = fe_strdup_cx(clang_CompileCommand_getArg(cmd, i));
            if (!a)
                continue;
            if (strcmp(a, "-o") == 0 || strcmp(a, "-MF") == 0 || strcmp(a, "-MT") == 0 ||
                strcmp(a, "-MQ") == 0) {
                free(a);
                i++;
                continue;
            }
            if (strcmp(a, "-c") == 0 || strcmp(a, "-MD") == 0 || strcmp(a, "-MMD") == 0 ||
                (file && strcmp(a, file) == 0) || strcmp(a, path) == 0) {
                free(a);
                continue;
            }
            args[count++] = a;
        }
        free(dir);
        free(file);
        *out = args;
    }
    clang_CompileCommands_dispose(cmds);
    return count;
}

/* Whether compiler argument a takes the next one as its value. */
static bool fe_flag_takes_value(const char *a)
{
    static const char *const two[] = { "-I", "-D", "-U", "-include", "-isystem", "-iquote",
                                       "-idirafter", "-imacros" };
    for (size_t i = 0; i < sizeof two / sizeof *two; i++)
        if (strcmp(a, two[i]) == 0)
            return true;
    return false;
}

/* The option of a, or NULL when a is not a preprocessor option. */
static const char *fe_pp_option(const char *a)
{
    static const char *const opts[] = { "-isystem", "-iquote", "-idirafter", "-include",
                                        "-imacros", "-I", "-D", "-U", "-std=" };
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
        if (strncmp(a, opts[i], strlen(opts[i])) == 0)
            return opts[i];
    return NULL;
}

int fe_compile_pp_args(fe_context *fe, const char *path, char ***out)
{
    *out = NULL;
    char **db = NULL;
    int n = fe_db_args(fe, path, &db);
    if (n <= 0)
        return n;
    const char *dir = "";
    if (strncmp(db[0], "-working-directory=", 19) == 0)
        dir = db[0] + 19;
    char **res = calloc(2 * (size_t)n + 1, sizeof *res);
    int count = 0;
    for (int i = 0; res && i < n; i++) {
        const char *opt = fe_pp_option(db[i]);
        if (!opt)
            continue;
        const char *val = db[i] + strlen(opt);
        bool split = *val == 0 && fe_flag_takes_value(opt) && i + 1 < n;
        if (split)
            val = db[++i];
        /* -I, -isystem, -iquote, -idirafter, -include, -imacros name files */
        bool is_path = opt[1] == 'I' || opt[1] == 'i';
        const char *sep = is_path && val[0] != '/' && *dir ? "/" : "";
        const char *base = *sep ? dir : "";
        size_t len = strlen(opt) + strlen(base) + strlen(val) + 2;
        char *a = malloc(len);
        if (!a)
            break;
        if (split) {
            res[count++] = strdup(opt);
            snprintf(a, len, "%s%s%s", base, sep, val);
        } else {
            snprintf(a, len, "%s%s%s%s", opt, base, sep, val);
        }
        res[count++] = a;
    }
    fe_free_list(db, n);
    *out = res;
    return count;
}

typedef struct fe_scan {
    fe_tu *t;
    bool has_pyobject;
} fe_scan;

static enum CXChildVisitResult fe_scan_top(CXCursor c, CXCursor parent, CXClientData d)
{
    fe_scan *sc = d;
    fe_tu *t = sc->t;
    enum CXCursorKind k = clang_getCursorKind(c);
    if (k == CXCursor_TypedefDecl) {
        if (!sc->has_pyobject && fe_name_is(c, "PyObject"))
            sc->has_pyobject = true;
        return CXChildVisit_Continue;
    }
    CXSourceLocation loc = clang_getCursorLocation(c);
    if (!clang_Location_isFromMainFile(loc))
        return CXChildVisit_Continue;
    if (k == CXCursor_MacroExpansion) {
        unsigned s, e;
        CXSourceRange r = clang_getCursorExtent(c);
        if (!fe_fileloc(t, clang_getRangeStart(r), NULL, &s) ||
            !fe_fileloc(t, clang_getRangeEnd(r), NULL, &e))
            return CXChildVisit_Continue;
        if (t->nmacros > 0 && t->macros[t->nmacros - 1].end > s)
            return CXChildVisit_Continue;   /* nested in the previous use */
        if (t->nmacros == t->cap_macros) {
            int ncap = t->cap_macros ? t->cap_macros * 2 : 64;
            t->macros = pa_grow(&t->arena, t->macros, (size_t)t->nmacros, (size_t)ncap,
                                sizeof *t->macros);
            if (pa_failed(&t->arena))
                return CXChildVisit_Break;
            t->cap_macros = ncap;
        }
        fe_macro *m = &t->macros[t->nmacros++];
        m->start = s;
        m->end = e;
        CXString name = clang_getCursorSpelling(c);
        const char *np = clang_getCString(name);
        const fe_options *o = t->fe->opts;
        m->collapse = np && (fe_name_in(np, o->collapse_macros, o->ncollapse) ||
                             (o->is_api_macro && o->is_api_macro(o->is_api_macro_ctx, np)));
        m->name = pa_strdup(&t->arena, np ? np : "");
        clang_disposeString(name);
        return CXChildVisit_Continue;
    }
    if (k == CXCursor_FunctionDecl && clang_isCursorDefinition(c)) {
        if (t->nfuncs == t->cap_funcs) {
            int ncap = t->cap_funcs ? t->cap_funcs * 2 : 32;
            t->funcs = pa_grow(&t->arena, t->funcs, (size_t)t->nfuncs, (size_t)ncap, sizeof *t->funcs);
            if (pa_failed(&t->arena))
                return CXChildVisit_Break;
            t->cap_funcs = ncap;
        }
        t->funcs[t->nfuncs++] = c;
        return CXChildVisit_Continue;
    }
    if (k == CXCursor_VarDecl && clang_isCursorDefinition(c)) {
        if (t->nglobals == t->cap_globals) {
            int ncap = t->cap_globals ? t->cap_globals * 2 : 32;
            t->globals = pa_grow(&t->arena, t->globals, (size_t)t->nglobals, (size_t)ncap,
                                 sizeof *t->globals);
            if (pa_failed(&t->arena))
                return CXChildVisit_Break;
            t->cap_globals = ncap;
        }
        t->globals[t->nglobals++] = c;
    }
    return CXChildVisit_Continue;
}

static int fe_read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "is a directory");
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) {
        snprintf(err, errlen, "out of memory reading the file");
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* A file with NUL bytes or mostly non-text bytes is not C source. */
static bool fe_looks_binary(const char *s, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == 0)
            return true;
        if (ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t' && ch != '\f' && ch != '\v')
            bad++;
    }
    return n > 0 && bad * 20 > n;
}

/* The first error diagnostic, one line: "LINE:COL: message". */
static bool fe_first_error(fe_tu *t, char *err, size_t errlen)
{
    unsigned nd = clang_getNumDiagnostics(t->tu);
    for (unsigned i = 0; i < nd; i++) {
        CXDiagnostic d = clang_getDiagnostic(t->tu, i);
        enum CXDiagnosticSeverity sev = clang_getDiagnosticSeverity(d);
        if (sev >= CXDiagnostic_Error) {
            CXFile f = NULL;
            unsigned line = 0, col = 0;
            clang_getFileLocation(clang_getDiagnosticLocation(d), &f, &line, &col, NULL);
            CXString msg = clang_getDiagnosticSpelling(d);
            const char *m = clang_getCString(msg);
            char where[600] = "";
            if (f && !clang_File_isEqual(f, t->main_file)) {
                CXString fn = clang_getFileName(f);
                snprintf(where, sizeof where, " (in %s:%u)", clang_getCString(fn) ? clang_getCString(fn) : "?", line);
                clang_disposeString(fn);
                line = col = 0;
            }
            if (line)
                snprintf(err, errlen, "%u:%u: %s%s", line, col, m ? m : "error", where);
            else
                snprintf(err, errlen, "%s%s", m ? m : "error", where);
            clang_disposeString(msg);
            clang_disposeDiagnostic(d);
            /* keep it one line */
            for (char *p = err; *p; p++)
                if (*p == '\n' || *p == '\r')
                    *p = ' ';
            return true;
        }
        clang_disposeDiagnostic(d);
    }
    return false;
}

int fe_parse(fe_context *fe, const char *path, fe_tu **out, char *err, size_t errlen)
{
    *out = NULL;
    int rc = -1;
    char **dbargs = NULL;
    int ndb = 0;
    const char **args = NULL;
    fe_tu *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    t->fe = fe;
    pa_init(&t->arena, 0);
    t->path = pa_strdup(&t->arena, path);
    if (fe_read_file(path, &t->source, &t->source_len, err, errlen) != 0)
        goto done;
    if (fe_looks_binary(t->source, t->source_len)) {
        snprintf(err, errlen, "not a C source file (binary data)");
        goto done;
    }
    ndb = fe_db_args(fe, path, &dbargs);
    const fe_options *o = fe->opts;
    int cap = ndb + o->nargs + 8;
    args = calloc((size_t)cap, sizeof *args);
    if (!args) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    int na = 0;
    args[na++] = "-xc";
    if (ndb > 0) {
        for (int i = 0; i < ndb; i++)
            args[na++] = dbargs[i];
    } else {
        /* asserts stay: `assert(x != NULL)` tells the engine what holds */
        args[na++] = "-std=gnu11";
    }
    if (o->python_include && o->python_include[0]) {
        args[na++] = "-isystem";
        args[na++] = o->python_include;
    }
    for (int i = 0; i < o->nargs; i++)
        args[na++] = o->args[i];
    args[na++] = "-ferror-limit=1";
    unsigned flags = CXTranslationUnit_DetailedPreprocessingRecord |
                     CXTranslationUnit_IgnoreNonErrorsFromIncludedFiles;
    /* a database entry's -working-directory would resolve a relative path
     * against the build directory */
    char *abs = ndb > 0 ? realpath(path, NULL) : NULL;
    const char *parse_path = abs ? abs : path;
    enum CXErrorCode ec = clang_parseTranslationUnit2(fe->index, parse_path, args, na, NULL, 0, flags,
                                                      &t->tu);
    if (ec != CXError_Success || !t->tu) {
        snprintf(err, errlen, "clang could not parse the file (libclang error %d)", (int)ec);
        free(abs);
        goto done;
    }
    t->main_file = clang_getFile(t->tu, parse_path);
    free(abs);
    if (!t->main_file) {
        snprintf(err, errlen, "clang did not load the file");
        goto done;
    }
    if (fe_first_error(t, err, errlen))
        goto done;
    t->ncallee_slots = 256;
    t->callees = pa_alloc(&t->arena, t->ncallee_slots * sizeof *t->callees);
    t->nrec_slots = 64;
    t->recs = pa_alloc(&t->arena, t->nrec_slots * sizeof *t->recs);
    fe_scan sc = { t, false };
    clang_visitChildren(clang_getTranslationUnitCursor(t->tu), fe_scan_top, &sc);
    if (pa_failed(&t->arena)) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (!sc.has_pyobject) {
        rc = 1;
        goto done;
    }
    *out = t;
    t = NULL;
    rc = 0;
done:
    if (dbargs)
        fe_free_list(dbargs, ndb);
    free(args);
    if (t)
        fe_tu_free(t);
    return rc;
}

int fe_tu_func_count(const fe_tu *tu)
{
    return tu->nfuncs;
}

const char *fe_tu_func_name(const fe_tu *tu, int i)
{
    CXString s = clang_getCursorSpelling(tu->funcs[i]);
    const char *r = pa_strdup((pa_arena *)&tu->arena, clang_getCString(s));
    clang_disposeString(s);
    return r;
}

int fe_tu_find_func(const fe_tu *tu, const char *name)
{
    for (int i = 0; i < tu->nfuncs; i++)
        if (fe_name_is(tu->funcs[i], name))
            return i;
    return -1;
}

int fe_tu_func_is_static(const fe_tu *tu, int i)
{
    return clang_Cursor_getStorageClass(tu->funcs[i]) == CX_SC_Static;
}

static void fe_conv_init(fe_conv *cv, fe_tu *t, pa_arena *arena)
{
    memset(cv, 0, sizeof *cv);
    cv->t = t;
    cv->arena = arena;
    cv->nvmap = 64;
    cv->vmap = pa_alloc(arena, cv->nvmap * sizeof *cv->vmap);
}

ast_func *fe_tu_convert_func(fe_tu *t, int i, pa_arena *arena)
{
    CXCursor c = t->funcs[i];
    fe_conv cv;
    fe_conv_init(&cv, t, arena);
    ast_func *f = pa_alloc(arena, sizeof *f);
    cv.func = f;
    f->name = fe_intern_cx(arena, clang_getCursorSpelling(c));
    f->loc = fe_cursor_loc(t, c);
    CXSourceRange ext = clang_getCursorExtent(c);
    fe_fileloc(t, clang_getRangeEnd(ext), &f->end_loc, NULL);
    if (f->end_loc.col > 1)
        f->end_loc.col--;   /* point at the '}' itself */
    CXType fty = clang_getCursorType(c);
    CXType rty = clang_getResultType(fty);
    f->ret_ty = fe_classify(t, rty);
    f->ret_type_name = fe_type_name(arena, rty);
    f->is_static = clang_Cursor_getStorageClass(c) == CX_SC_Static;
    f->is_inline = clang_Cursor_isFunctionInlined(c) != 0;
    fe_callee *info = fe_callee_info(t, c);
    if (info) {
        f->is_noreturn = info->noreturn;
        if (info->annot)
            f->annot = *info->annot;
    }
    int np = clang_Cursor_getNumArguments(c);
    if (np < 0)
        np = 0;
    f->params = pa_alloc(arena, (size_t)(np ? np : 1) * sizeof *f->params);
    for (int k = 0; k < np && !pa_failed(arena); k++)
        f->params[k] = fe_make_var(&cv, clang_Cursor_getArgument(c, (unsigned)k), VAR_PARAM);
    f->nparams = np;
    fe_kids ks = fe_children(arena, c);
    for (int k = 0; k < ks.n; k++) {
        if (clang_getCursorKind(ks.v[k]) == CXCursor_CompoundStmt) {
            f->body = fe_stmt(&cv, ks.v[k]);
            break;
        }
    }
    if (!f->body) {
        f->body = pa_alloc(arena, sizeof *f->body);
        f->body->kind = AS_COMPOUND;
    }
    f->vars = cv.vars;
    f->nvars = cv.nvars;
    f->too_deep = cv.too_deep;
    return pa_failed(arena) ? NULL : f;
}

int fe_tu_globals(fe_tu *t, pa_arena *arena, ast_global **out)
{
    fe_conv cv;
    fe_conv_init(&cv, t, arena);
    ast_global *g = pa_alloc(arena, (size_t)(t->nglobals ? t->nglobals : 1) * sizeof *g);
    int n = 0;
    for (int i = 0; i < t->nglobals && !pa_failed(arena); i++) {
        CXCursor c = t->globals[i];
        int cnt = 0;
        CXCursor init = fe_last_expr_child(&cv, c, &cnt);
        ast_var *v = fe_make_var(&cv, c, VAR_GLOBAL);
        g[n].var = v;
        g[n].type_name = v->type_name;
        g[n].init = cnt >= 1 ? fe_expr(&cv, init) : NULL;
        n++;
    }
    *out = g;
    return n;
}

int fe_tu_source_line(const fe_tu *tu, unsigned line, char *buf, size_t len)
{
    if (line == 0 || len == 0)
        return -1;
    const char *p = tu->source, *end = tu->source + tu->source_len;
    for (unsigned l = 1; l < line; l++) {
        p = memchr(p, '\n', (size_t)(end - p));
        if (!p)
            return -1;
        p++;
    }
    const char *e = memchr(p, '\n', (size_t)(end - p));
    if (!e)
        e = end;
    size_t n = (size_t)(e - p);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    if (n >= len)
        n = len - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return 0;
}

const char *fe_tu_path(const fe_tu *tu)
{
    return tu->path;
}

void fe_tu_free(fe_tu *t)
{
    if (!t)
        return;
    if (t->tu)
        clang_disposeTranslationUnit(t->tu);
    free(t->source);
    pa_release(&t->arena);
    free(t);
}

