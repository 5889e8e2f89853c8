/* convert.c - converts cursors into pyrefcheck's syntax tree: expressions,
 * statements, and API macro uses collapsed into one AX_MACRO node with
 * their arguments recovered through file locations. */
#include "fe_internal.h"

/* ------------------------------------------------------------------ */
/* expressions                                                        */


static ast_expr *fe_new_expr(fe_conv *cv, ax_kind k, CXCursor c)
{
    ast_expr *e = pa_alloc(cv->arena, sizeof *e);
    e->kind = k;
    e->loc = fe_cursor_loc(cv->t, c);
    e->ty = fe_classify(cv->t, clang_getCursorType(c));
    e->macro = fe_macro_name_of(cv->t, c);
    return e;
}

static void fe_set_kids(fe_conv *cv, ast_expr *e, ast_expr **kids, int n)
{
    e->kids = pa_alloc(cv->arena, (size_t)(n ? n : 1) * sizeof *kids);
    if (pa_failed(cv->arena))
        return;
    for (int i = 0; i < n; i++)
        e->kids[i] = kids[i];
    e->nkids = n;
}

static ast_expr *fe_expr_all_kids(fe_conv *cv, ax_kind k, CXCursor c)
{
    ast_expr *e = fe_new_expr(cv, k, c);
    fe_kids ks = fe_children(cv->arena, c);
    ast_expr **kids = pa_alloc(cv->arena, (size_t)(ks.n ? ks.n : 1) * sizeof *kids);
    int n = 0;
    for (int i = 0; i < ks.n && !pa_failed(cv->arena); i++) {
        if (fe_is_expr_kind(clang_getCursorKind(ks.v[i])))
            kids[n++] = fe_expr(cv, ks.v[i]);
    }
    fe_set_kids(cv, e, kids, n);
    return e;
}

/* The last expression child (casts put a TypeRef first). */
CXCursor fe_last_expr_child(fe_conv *cv, CXCursor c, int *count)
{
    fe_kids ks = fe_children(cv->arena, c);
    CXCursor r = clang_getNullCursor();
    int n = 0;
    for (int i = 0; i < ks.n; i++) {
        if (fe_is_expr_kind(clang_getCursorKind(ks.v[i]))) {
            r = ks.v[i];
            n++;
        }
    }
    if (count)
        *count = n;
    return r;
}

static bool fe_eval_int(CXCursor c, long long *out)
{
    CXEvalResult r = clang_Cursor_Evaluate(c);
    if (!r)
        return false;
    bool ok = clang_EvalResult_getKind(r) == CXEval_Int;
    if (ok)
        *out = clang_EvalResult_getAsLongLong(r);
    clang_EvalResult_dispose(r);
    return ok;
}

static ax_op fe_binop(enum CXBinaryOperatorKind k, bool *assign, bool *logic, bool *comma)
{
    *assign = *logic = *comma = false;
    switch (k) {
    case CXBinaryOperator_Mul: return AO_MUL;
    case CXBinaryOperator_Div: return AO_DIV;
    case CXBinaryOperator_Rem: return AO_REM;
    case CXBinaryOperator_Add: return AO_ADD;
    case CXBinaryOperator_Sub: return AO_SUB;
    case CXBinaryOperator_Shl: return AO_SHL;
    case CXBinaryOperator_Shr: return AO_SHR;
    case CXBinaryOperator_LT: return AO_LT;
    case CXBinaryOperator_GT: return AO_GT;
    case CXBinaryOperator_LE: return AO_LE;
    case CXBinaryOperator_GE: return AO_GE;
    case CXBinaryOperator_EQ: return AO_EQ;
    case CXBinaryOperator_NE: return AO_NE;
    case CXBinaryOperator_And: return AO_AND;
    case CXBinaryOperator_Xor: return AO_XOR;
    case CXBinaryOperator_Or: return AO_OR;
    case CXBinaryOperator_LAnd: *logic = true; return AO_LAND;
    case CXBinaryOperator_LOr: *logic = true; return AO_LOR;
    case CXBinaryOperator_Assign: *assign = true; return AO_NONE;
    case CXBinaryOperator_MulAssign: *assign = true; return AO_MUL;
    case CXBinaryOperator_DivAssign: *assign = true; return AO_DIV;
    case CXBinaryOperator_RemAssign: *assign = true; return AO_REM;
    case CXBinaryOperator_AddAssign: *assign = true; return AO_ADD;
    case CXBinaryOperator_SubAssign: *assign = true; return AO_SUB;
    case CXBinaryOperator_ShlAssign: *assign = true; return AO_SHL;
    case CXBinaryOperator_ShrAssign: *assign = true; return AO_SHR;
    case CXBinaryOperator_AndAssign: *assign = true; return AO_AND;
    case CXBinaryOperator_XorAssign: *assign = true; return AO_XOR;
    case CXBinaryOperator_OrAssign: *assign = true; return AO_OR;
    case CXBinaryOperator_Comma: *comma = true; return AO_NONE;
    default: return AO_NONE;
    }
}

static ast_expr *fe_expr_binary(fe_conv *cv, CXCursor c)
{
    fe_kids ks = fe_children(cv->arena, c);
    if (ks.n != 2)
        return fe_expr_all_kids(cv, AX_UNKNOWN, c);
    bool assign, logic, comma;
    ax_op op = fe_binop(clang_getCursorBinaryOperatorKind(c), &assign, &logic, &comma);
    ax_kind k = assign ? AX_ASSIGN : logic ? AX_LOGIC : comma ? AX_COMMA : AX_BINARY;
    ast_expr *e = fe_new_expr(cv, k, c);
    e->op = op;
    ast_expr *kids[2] = { fe_expr(cv, ks.v[0]), fe_expr(cv, ks.v[1]) };
    fe_set_kids(cv, e, kids, 2);
    return e;
}

static ast_expr *fe_expr_unary(fe_conv *cv, CXCursor c)
{
    int n = 0;
    CXCursor sub = fe_last_expr_child(cv, c, &n);
    if (n != 1)
        return fe_expr_all_kids(cv, AX_UNKNOWN, c);
    ax_kind k = AX_UNARY;
    ax_op op = AO_NONE;
    switch (clang_getCursorUnaryOperatorKind(c)) {
    case CXUnaryOperator_PostInc: op = AO_POSTINC; break;
    case CXUnaryOperator_PostDec: op = AO_POSTDEC; break;
    case CXUnaryOperator_PreInc: op = AO_PREINC; break;
    case CXUnaryOperator_PreDec: op = AO_PREDEC; break;
    case CXUnaryOperator_AddrOf: k = AX_ADDR; break;
    case CXUnaryOperator_Deref: k = AX_DEREF; break;
    case CXUnaryOperator_Plus: op = AO_PLUS; break;
    case CXUnaryOperator_Minus: op = AO_NEG; break;
    case CXUnaryOperator_Not: op = AO_BITNOT; break;
    case CXUnaryOperator_LNot: op = AO_NOT; break;
    case CXUnaryOperator_Extension: return fe_expr(cv, sub);
    default: k = AX_UNKNOWN; break;
    }
    ast_expr *e = fe_new_expr(cv, k, c);
    e->op = op;
    ast_expr *kid = fe_expr(cv, sub);
    fe_set_kids(cv, e, &kid, 1);
    return e;
}

static ast_expr *fe_expr_call(fe_conv *cv, CXCursor c)
{
    ast_expr *e = fe_new_expr(cv, AX_CALL, c);
    int nargs = clang_Cursor_getNumArguments(c);
    if (nargs < 0)
        nargs = 0;
    fe_kids ks = fe_children(cv->arena, c);
    ast_expr **kids = pa_alloc(cv->arena, (size_t)(nargs + 1) * sizeof *kids);
    if (pa_failed(cv->arena))
        return e;
    CXCursor ref = clang_getCursorReferenced(c);
    if (!clang_Cursor_isNull(ref) && clang_getCursorKind(ref) == CXCursor_FunctionDecl) {
        fe_callee *info = fe_callee_info(cv->t, ref);
        if (info) {
            e->name = info->name;
            e->callee_noreturn = info->noreturn;
            e->annot = info->annot;
        }
    }
    if (ks.n > 0)
        kids[0] = fe_expr(cv, ks.v[0]);
    else {
        kids[0] = pa_alloc(cv->arena, sizeof *kids[0]);
        kids[0]->kind = AX_FUNC;
        kids[0]->name = e->name;
        kids[0]->loc = e->loc;
    }
    for (int i = 0; i < nargs; i++) {
        CXCursor arg = clang_Cursor_getArgument(c, (unsigned)i);
        kids[i + 1] = fe_expr(cv, arg);
        if (!pa_failed(cv->arena)) {
            CXType at = clang_getCanonicalType(clang_getCursorType(arg));
            kids[i + 1]->ctype = fe_intern_cx(cv->arena, clang_getTypeSpelling(at));
        }
    }
    e->kids = kids;
    e->nkids = nargs + 1;
    return e;
}

static ast_expr *fe_expr_ref(fe_conv *cv, CXCursor c)
{
    CXCursor ref = clang_getCursorReferenced(c);
    enum CXCursorKind rk = clang_getCursorKind(ref);
    if (rk == CXCursor_VarDecl || rk == CXCursor_ParmDecl) {
        ast_expr *e = fe_new_expr(cv, AX_VAR, c);
        e->var = fe_var_for_decl(cv, ref);
        e->name = e->var->name;
        if (e->var->is_array)
            e->ty = TY_PTR;
        return e;
    }
    if (rk == CXCursor_FunctionDecl) {
        ast_expr *e = fe_new_expr(cv, AX_FUNC, c);
        e->name = fe_intern_cx(cv->arena, clang_getCursorSpelling(ref));
        return e;
    }
    if (rk == CXCursor_EnumConstantDecl) {
        ast_expr *e = fe_new_expr(cv, AX_INT, c);
        e->ival = clang_getEnumConstantDeclValue(ref);
        e->name = fe_intern_cx(cv->arena, clang_getCursorSpelling(ref));
        return e;
    }
    ast_expr *e = fe_new_expr(cv, AX_UNKNOWN, c);
    e->name = fe_intern_cx(cv->arena, clang_getCursorSpelling(c));
    return e;
}

/* Decodes the C escapes of one string-literal token body into sb. */
static void fe_unescape(const char *p, const char *end, char *out, size_t *n)
{
    while (p < end) {
        char ch = *p++;
        if (ch == '\\' && p < end) {
            char e = *p++;
            switch (e) {
            case 'n': ch = '\n'; break;
            case 't': ch = '\t'; break;
            case 'r': ch = '\r'; break;
            case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
                int v = e - '0', k = 1;
                while (k < 3 && p < end && *p >= '0' && *p <= '7') {
                    v = v * 8 + (*p++ - '0');
                    k++;
                }
                ch = (char)v;
                break;
            }
            case 'x': {
                int v = 0;
                while (p < end && ((*p >= '0' && *p <= '9') || ((*p | 32) >= 'a' && (*p | 32) <= 'f'))) {
                    v = v * 16 + (*p <= '9' ? *p - '0' : (*p | 32) - 'a' + 10);
                    p++;
                }
                ch = (char)v;
                break;
            }
            default: ch = e; break;
            }
        }
        out[(*n)++] = ch;
    }
}

/* The value of a string literal: its tokens (adjacent literals are
 * concatenated), decoded. Prefixes (L, u8) are skipped. */
static ast_expr *fe_expr_literal_string(fe_conv *cv, CXCursor c)
{
    ast_expr *e = fe_new_expr(cv, AX_STRING, c);
    fe_tu *t = cv->t;
    CXToken *toks = NULL;
    unsigned n = 0;
    clang_tokenize(t->tu, clang_getCursorExtent(c), &toks, &n);
    size_t total = 0;
    for (unsigned i = 0; i < n; i++) {
        CXString s = clang_getTokenSpelling(t->tu, toks[i]);
        const char *p = clang_getCString(s);
        total += p ? strlen(p) : 0;
        clang_disposeString(s);
    }
    char *buf = pa_alloc(cv->arena, total + 1);
    size_t len = 0;
    for (unsigned i = 0; i < n && !pa_failed(cv->arena); i++) {
        if (clang_getTokenKind(toks[i]) != CXToken_Literal)
            continue;
        CXString s = clang_getTokenSpelling(t->tu, toks[i]);
        const char *p = clang_getCString(s);
        const char *q = p ? strchr(p, '"') : NULL;
        const char *end = q ? strrchr(q + 1, '"') : NULL;
        if (q && end && end > q)
            fe_unescape(q + 1, end, buf, &len);
        clang_disposeString(s);
    }
    clang_disposeTokens(t->tu, toks, n);
    if (!pa_failed(cv->arena))
        buf[len] = '\0';
    e->str = pa_failed(cv->arena) ? "" : buf;
    e->ival = (long long)len;
    return e;
}

/* Whether the string literal c is written with macros ("%" PRId64, or
 * inside a macro's body): its tokens in the file are not all literals. */
static bool fe_literal_from_macro(fe_tu *t, CXCursor c)
{
    CXToken *toks = NULL;
    unsigned n = 0;
    clang_tokenize(t->tu, clang_getCursorExtent(c), &toks, &n);
    bool from_macro = n == 0;
    for (unsigned i = 0; i < n; i++)
        if (clang_getTokenKind(toks[i]) != CXToken_Literal)
            from_macro = true;
    clang_disposeTokens(t->tu, toks, n);
    return from_macro;
}

/* A string literal written with macros: its value as clang computed it,
 * read through the array-to-pointer conversion c around it (libclang
 * evaluates the conversion, not the literal). */
static void fe_fix_macro_string(fe_conv *cv, CXCursor c, CXCursor lit, ast_expr *e)
{
    if (!fe_literal_from_macro(cv->t, lit))
        return;
    CXEvalResult r = clang_Cursor_Evaluate(c);
    if (!r)
        return;
    if (clang_EvalResult_getKind(r) == CXEval_StrLiteral) {
        const char *v = clang_EvalResult_getAsStr(r);
        if (v) {
            e->str = pa_strdup(cv->arena, v);
            e->ival = (long long)strlen(v);
        }
    }
    clang_EvalResult_dispose(r);
}

typedef struct fe_fields {
    const char **names;
    int n, cap;
    pa_arena *a;
} fe_fields;

static enum CXVisitorResult fe_field_cb(CXCursor c, CXClientData d)
{
    fe_fields *ff = d;
    if (ff->n == ff->cap) {
        int ncap = ff->cap ? ff->cap * 2 : 16;
        ff->names = pa_grow(ff->a, ff->names, (size_t)ff->n, (size_t)ncap, sizeof *ff->names);
        if (pa_failed(ff->a))
            return CXVisit_Break;
        ff->cap = ncap;
    }
    ff->names[ff->n++] = fe_intern_cx(ff->a, clang_getCursorSpelling(c));
    return CXVisit_Continue;
}

/* { ... } initializers: each element named by the struct field it
 * initializes (designated `.tp_iternext = f` or by position), so checks
 * can tell which slot a function fills. */
static ast_expr *fe_expr_init_list(fe_conv *cv, CXCursor c)
{
    ast_expr *e = fe_new_expr(cv, AX_INIT_LIST, c);
    fe_kids ks = fe_children(cv->arena, c);
    fe_fields ff = { .a = cv->arena };
    CXType ty = clang_getCanonicalType(clang_getCursorType(c));
    if (ty.kind == CXType_Record)
        clang_Type_visitFields(ty, fe_field_cb, &ff);
    ast_expr **kids = pa_alloc(cv->arena, (size_t)(ks.n ? ks.n : 1) * sizeof *kids);
    const char **names = pa_alloc(cv->arena, (size_t)(ks.n ? ks.n : 1) * sizeof *names);
    int n = 0, pos = 0;
    for (int i = 0; i < ks.n && !pa_failed(cv->arena); i++) {
        CXCursor k = ks.v[i];
        if (!fe_is_expr_kind(clang_getCursorKind(k)))
            continue;
        const char *name = NULL;
        CXCursor value = k;
        if (clang_getCursorKind(k) == CXCursor_UnexposedExpr) {
            /* a designated initializer: MemberRef designator(s), then the value */
            fe_kids dk = fe_children(cv->arena, k);
            if (dk.n >= 2 && clang_getCursorKind(dk.v[0]) == CXCursor_MemberRef) {
                name = fe_intern_cx(cv->arena, clang_getCursorSpelling(dk.v[0]));
                value = dk.v[dk.n - 1];
                for (int f = 0; f < ff.n; f++)
                    if (strcmp(ff.names[f], name) == 0)
                        pos = f;
            }
        }
        if (!name && pos < ff.n)
            name = ff.names[pos];
        pos++;
        kids[n] = fe_expr(cv, value);
        names[n] = name;
        n++;
    }
    e->kids = kids;
    e->kid_names = names;
    e->nkids = n;
    return e;
}

/* Whether an unexposed expression is GNU's binary `?:` (a ?: b): its
 * tokens hold '?' directly followed by ':' at the top level. */
static bool fe_is_elvis(fe_tu *t, CXCursor c)
{
    CXToken *toks = NULL;
    unsigned n = 0;
    clang_tokenize(t->tu, clang_getCursorExtent(c), &toks, &n);
    bool found = false;
    int depth = 0;
    for (unsigned i = 0; i + 1 < n && !found; i++) {
        CXString s = clang_getTokenSpelling(t->tu, toks[i]);
        const char *p = clang_getCString(s);
        if (p && (strcmp(p, "(") == 0 || strcmp(p, "[") == 0))
            depth++;
        else if (p && (strcmp(p, ")") == 0 || strcmp(p, "]") == 0))
            depth--;
        else if (p && depth == 0 && strcmp(p, "?") == 0) {
            CXString s2 = clang_getTokenSpelling(t->tu, toks[i + 1]);
            const char *q = clang_getCString(s2);
            found = q && strcmp(q, ":") == 0;
            clang_disposeString(s2);
        }
        clang_disposeString(s);
    }
    clang_disposeTokens(t->tu, toks, n);
    return found;
}

static ast_expr *fe_expr_body(fe_conv *cv, CXCursor c)
{
    enum CXCursorKind k = clang_getCursorKind(c);
    switch (k) {
    case CXCursor_IntegerLiteral:
    case CXCursor_CharacterLiteral: {
        ast_expr *e = fe_new_expr(cv, AX_INT, c);
        long long v = 0;
        if (fe_eval_int(c, &v))
            e->ival = v;
        return e;
    }
    case CXCursor_FloatingLiteral:
        return fe_new_expr(cv, AX_FLOAT, c);
    case CXCursor_StringLiteral:
        return fe_expr_literal_string(cv, c);
    case CXCursor_GNUNullExpr:
        return fe_new_expr(cv, AX_NULL, c);
    case CXCursor_DeclRefExpr:
        return fe_expr_ref(cv, c);
    case CXCursor_MemberRefExpr: {
        ast_expr *e = fe_new_expr(cv, AX_MEMBER, c);
        e->name = fe_intern_cx(cv->arena, clang_getCursorSpelling(c));
        int n = 0;
        CXCursor base = fe_last_expr_child(cv, c, &n);
        if (n >= 1) {
            ast_expr *b = fe_expr(cv, base);
            CXType bt = clang_getCanonicalType(clang_getCursorType(base));
            e->op = bt.kind == CXType_Pointer ? 1 : 0;
            fe_set_kids(cv, e, &b, 1);
        }
        return e;
    }
    case CXCursor_CallExpr:
        return fe_expr_call(cv, c);
    case CXCursor_BinaryOperator:
    case CXCursor_CompoundAssignOperator:
        return fe_expr_binary(cv, c);
    case CXCursor_UnaryOperator:
        return fe_expr_unary(cv, c);
    case CXCursor_ConditionalOperator: {
        fe_kids ks = fe_children(cv->arena, c);
        if (ks.n != 3)
            return fe_expr_all_kids(cv, AX_UNKNOWN, c);
        ast_expr *e = fe_new_expr(cv, AX_COND, c);
        ast_expr *kids[3] = { fe_expr(cv, ks.v[0]), fe_expr(cv, ks.v[1]), fe_expr(cv, ks.v[2]) };
        fe_set_kids(cv, e, kids, 3);
        return e;
    }
    case CXCursor_ArraySubscriptExpr: {
        fe_kids ks = fe_children(cv->arena, c);
        if (ks.n != 2)
            return fe_expr_all_kids(cv, AX_UNKNOWN, c);
        ast_expr *e = fe_new_expr(cv, AX_INDEX, c);
        ast_expr *kids[2] = { fe_expr(cv, ks.v[0]), fe_expr(cv, ks.v[1]) };
        fe_set_kids(cv, e, kids, 2);
        return e;
    }
    case CXCursor_CStyleCastExpr: {
        int n = 0;
        CXCursor sub = fe_last_expr_child(cv, c, &n);
        if (n < 1)
            return fe_expr_all_kids(cv, AX_UNKNOWN, c);
        ast_expr *inner = fe_expr(cv, sub);
        ast_expr *e = fe_new_expr(cv, AX_CAST, c);
        e->name = fe_type_name(cv->arena, clang_getCursorType(c));
        fe_set_kids(cv, e, &inner, 1);
        /* (PyObject *)0 and (void *)0 are null pointer constants */
        if (inner->kind == AX_INT && inner->ival == 0 && (e->ty == TY_PTR || e->ty == TY_OBJ || e->ty == TY_OBJPTR))
            e->kind = AX_NULL;
        if (inner->kind == AX_NULL && e->ty != TY_INT)
            e->kind = AX_NULL;
        return e;
    }
    case CXCursor_ParenExpr:
    case CXCursor_UnexposedExpr: {
        int n = 0;
        CXCursor sub = fe_last_expr_child(cv, c, &n);
        if (k == CXCursor_UnexposedExpr && n == 4 && fe_is_elvis(cv->t, c)) {
            /* GNU a ?: b (children: common, opaque, condition, false value) */
            fe_kids ks = fe_children(cv->arena, c);
            CXCursor parts[4];
            int np = 0;
            for (int i = 0; i < ks.n && np < 4; i++)
                if (fe_is_expr_kind(clang_getCursorKind(ks.v[i])))
                    parts[np++] = ks.v[i];
            ast_expr *e = fe_new_expr(cv, AX_COND, c);
            ast_expr *kids[3] = { fe_expr(cv, parts[0]), NULL, fe_expr(cv, parts[3]) };
            fe_set_kids(cv, e, kids, 3);
            return e;
        }
        if (n == 1) {
            ast_expr *e = fe_expr(cv, sub);
            if (e->kind == AX_STRING && clang_getCursorKind(sub) == CXCursor_StringLiteral)
                fe_fix_macro_string(cv, c, sub, e);
            ty_class outer = fe_classify(cv->t, clang_getCursorType(c));
            /* implicit conversion of 0 to a pointer: a null constant */
            if (e->kind == AX_INT && e->ival == 0 && (outer == TY_PTR || outer == TY_OBJ))
                e->kind = AX_NULL;
            if (outer != TY_OTHER && !(outer == TY_PTR && e->ty == TY_OBJ)) {
                /* keep object-ness through casts to PyObject* */
                if (!(e->ty == TY_OBJ && outer == TY_PTR))
                    e->ty = outer;
            }
            return e;
        }
        return fe_expr_all_kids(cv, AX_UNKNOWN, c);
    }
    case CXCursor_UnaryExpr: /* sizeof, alignof */
    {
        ast_expr *e = fe_new_expr(cv, AX_SIZEOF, c);
        return e;
    }
    case CXCursor_StmtExpr: {
        ast_expr *e = fe_new_expr(cv, AX_STMT_EXPR, c);
        fe_kids ks = fe_children(cv->arena, c);
        if (ks.n >= 1)
            e->stmt = fe_stmt(cv, ks.v[0]);
        return e;
    }
    case CXCursor_InitListExpr:
        return fe_expr_init_list(cv, c);
    case CXCursor_CompoundLiteralExpr: {
        int n = 0;
        CXCursor sub = fe_last_expr_child(cv, c, &n);
        if (n == 1)
            return fe_expr(cv, sub);
        return fe_expr_all_kids(cv, AX_UNKNOWN, c);
    }
    case CXCursor_AddrLabelExpr: {
        /* &&label: the label's name is on the LabelRef child */
        ast_expr *e = fe_new_expr(cv, AX_LABEL_ADDR, c);
        fe_kids ks = fe_children(cv->arena, c);
        for (int i = 0; i < ks.n; i++)
            if (clang_getCursorKind(ks.v[i]) == CXCursor_LabelRef)
                e->name = fe_intern_cx(cv->arena, clang_getCursorSpelling(ks.v[i]));
        if (!e->name || !e->name[0]) {
            CXCursor ref = clang_getCursorReferenced(c);
            e->name = fe_intern_cx(cv->arena, clang_getCursorSpelling(ref));
        }
        return e;
    }
    default:
        return fe_expr_all_kids(cv, AX_UNKNOWN, c);
    }
}

static fe_macro *fe_collapsible(fe_conv *cv, CXCursor c);
static ast_expr *fe_collapse(fe_conv *cv, CXCursor c, fe_macro *m);

ast_expr *fe_expr(fe_conv *cv, CXCursor c)
{
    if (++cv->depth > FE_MAX_DEPTH || pa_failed(cv->arena)) {
        cv->depth--;
        cv->too_deep = true;
        ast_expr *e = pa_alloc(cv->arena, sizeof *e);
        e->kind = AX_UNKNOWN;
        return e;
    }
    /* an API macro used as an expression: PyTuple_GET_ITEM(t, i) */
    fe_macro *m = fe_collapsible(cv, c);
    if (m) {
        ast_expr *x = fe_collapse(cv, c, m);
        if (x) {
            x->ty = fe_classify(cv->t, clang_getCursorType(c));
            cv->depth--;
            return x;
        }
    }
    ast_expr *e = fe_expr_body(cv, c);
    cv->depth--;
    return e;
}

/* ------------------------------------------------------------------ */
/* collapsing API macros                                              */

typedef struct fe_argfind {
    fe_conv *cv;
    unsigned lo[KB_COLLAPSE_MAX_ARGS], hi[KB_COLLAPSE_MAX_ARGS];
    CXCursor found[KB_COLLAPSE_MAX_ARGS];
    bool have[KB_COLLAPSE_MAX_ARGS];
    int nargs;
} fe_argfind;

/* Finds, for each macro argument, the outermost expression written by the
 * user inside that argument's token range. */
static enum CXChildVisitResult fe_argfind_cb(CXCursor c, CXCursor parent, CXClientData d)
{
    fe_argfind *af = d;
    if (fe_is_expr_kind(clang_getCursorKind(c))) {
        CXSourceRange r = clang_getCursorExtent(c);
        CXFile f1 = NULL, f2 = NULL;
        unsigned o1 = 0, o2 = 0;
        /* file locations: an argument's own tokens map to where they are
         * written, a macro used inside an argument maps to its name there,
         * and the outer macro's body maps to the outer macro's name (before
         * every argument range) */
        clang_getFileLocation(clang_getRangeStart(r), &f1, NULL, NULL, &o1);
        clang_getFileLocation(clang_getRangeEnd(r), &f2, NULL, NULL, &o2);
        fe_tu *t = af->cv->t;
        if (f1 && f2 && clang_File_isEqual(f1, t->main_file) && clang_File_isEqual(f2, t->main_file)) {
            for (int i = 0; i < af->nargs; i++) {
                if (o1 >= af->lo[i] && o2 <= af->hi[i]) {
                    if (!af->have[i]) {
                        af->have[i] = true;
                        af->found[i] = c;
                    }
                    return CXChildVisit_Continue;
                }
            }
        }
    }
    return CXChildVisit_Recurse;
}

/* Tries to turn the expansion of macro m (rooted at statement or
 * expression c) into an AX_MACRO call node.  Returns NULL when the
 * arguments cannot be recovered; the caller then converts the expansion. */
static ast_expr *fe_collapse(fe_conv *cv, CXCursor c, fe_macro *m)
{
    fe_tu *t = cv->t;
    CXSourceLocation b = clang_getLocationForOffset(t->tu, t->main_file, m->start);
    CXSourceLocation e = clang_getLocationForOffset(t->tu, t->main_file, m->end);
    CXToken *toks = NULL;
    unsigned n = 0;
    clang_tokenize(t->tu, clang_getRange(b, e), &toks, &n);
    fe_argfind af = { .cv = cv };
    bool ok = true;
    if (n >= 3) {
        /* NAME ( a , b ) */
        CXString s = clang_getTokenSpelling(t->tu, toks[1]);
        const char *p = clang_getCString(s);
        ok = p && strcmp(p, "(") == 0;
        clang_disposeString(s);
        int depth = 0;
        unsigned argstart = 0;
        for (unsigned i = 1; ok && i < n; i++) {
            CXString ts = clang_getTokenSpelling(t->tu, toks[i]);
            const char *tp = clang_getCString(ts);
            char ch = tp && tp[1] == '\0' ? tp[0] : 0;
            clang_disposeString(ts);
            CXSourceRange tr = clang_getTokenExtent(t->tu, toks[i]);
            unsigned tstart = 0, tend = 0;
            clang_getFileLocation(clang_getRangeStart(tr), NULL, NULL, NULL, &tstart);
            clang_getFileLocation(clang_getRangeEnd(tr), NULL, NULL, NULL, &tend);
            if (ch == '(' || ch == '[' || ch == '{') {
                if (depth++ == 0) {
                    argstart = tend;
                    continue;
                }
            } else if (ch == ')' || ch == ']' || ch == '}') {
                if (--depth == 0) {
                    if (tstart > argstart || af.nargs > 0) {
                        if (af.nargs >= KB_COLLAPSE_MAX_ARGS) { ok = false; break; }
                        af.lo[af.nargs] = argstart;
                        af.hi[af.nargs] = tstart;
                        af.nargs++;
                    }
                    break;
                }
            } else if (ch == ',' && depth == 1) {
                if (af.nargs >= KB_COLLAPSE_MAX_ARGS) { ok = false; break; }
                af.lo[af.nargs] = argstart;
                af.hi[af.nargs] = tstart;
                af.nargs++;
                argstart = tend;
            }
        }
    }
    clang_disposeTokens(t->tu, toks, n);
    if (!ok)
        return NULL;
    if (af.nargs > 0) {
        clang_visitChildren(c, fe_argfind_cb, &af);
        for (int i = 0; i < af.nargs; i++)
            if (!af.have[i])
                return NULL;
    }
    ast_expr *x = pa_alloc(cv->arena, sizeof *x);
    x->kind = AX_MACRO;
    x->name = m->name;
    x->macro = m->name;
    const fe_options *o = t->fe->opts;
    x->callee_noreturn = o->noreturn_names && fe_name_in(m->name, o->noreturn_names, o->nnoreturn);
    fe_fileloc(t, b, &x->loc, NULL);
    x->ty = TY_OTHER;
    x->text = pa_strndup(cv->arena, t->source + m->start,
                         m->end <= t->source_len && m->end > m->start ? m->end - m->start : 0);
    ast_expr **kids = pa_alloc(cv->arena, (size_t)(af.nargs ? af.nargs : 1) * sizeof *kids);
    for (int i = 0; i < af.nargs && !pa_failed(cv->arena); i++)
        kids[i] = fe_expr(cv, af.found[i]);
    x->kids = kids;
    x->nkids = af.nargs;
    return x;
}

/* A statement is the root of a collapsible macro use when it starts at the
 * macro's name and ends inside its use. */
static fe_macro *fe_collapsible(fe_conv *cv, CXCursor c)
{
    fe_tu *t = cv->t;
    if (t->nmacros == 0)
        return NULL;
    unsigned s, e;
    if (!fe_cursor_span(t, c, &s, &e))
        return NULL;
    fe_macro *m = fe_macro_at(t, s);
    if (!m || !m->collapse || m->start != s || e > m->end)
        return NULL;
    return m;
}

typedef struct fe_has_return {
    bool found;
} fe_has_return;

static enum CXChildVisitResult fe_has_return_cb(CXCursor c, CXCursor parent, CXClientData d)
{
    if (clang_getCursorKind(c) == CXCursor_ReturnStmt) {
        ((fe_has_return *)d)->found = true;
        return CXChildVisit_Break;
    }
    return CXChildVisit_Recurse;
}

/* ------------------------------------------------------------------ */
/* statements                                                         */

static ast_stmt *fe_new_stmt(fe_conv *cv, as_kind k, CXCursor c)
{
    ast_stmt *s = pa_alloc(cv->arena, sizeof *s);
    s->kind = k;
    s->loc = fe_cursor_loc(cv->t, c);
    s->macro = fe_macro_name_of(cv->t, c);
    return s;
}

static void fe_stmt_kids(fe_conv *cv, ast_stmt *s, ast_stmt **kids, int n)
{
    s->kids = pa_alloc(cv->arena, (size_t)(n ? n : 1) * sizeof *kids);
    if (pa_failed(cv->arena))
        return;
    for (int i = 0; i < n; i++)
        s->kids[i] = kids[i];
    s->nkids = n;
}

static ast_stmt *fe_stmt_decl(fe_conv *cv, CXCursor c)
{
    fe_kids ks = fe_children(cv->arena, c);
    ast_stmt **decls = pa_alloc(cv->arena, (size_t)(ks.n ? ks.n : 1) * sizeof *decls);
    int n = 0;
    for (int i = 0; i < ks.n && !pa_failed(cv->arena); i++) {
        CXCursor d = ks.v[i];
        if (clang_getCursorKind(d) != CXCursor_VarDecl)
            continue;
        enum CX_StorageClass sc = clang_Cursor_getStorageClass(d);
        var_kind vk = sc == CX_SC_Static ? VAR_STATIC : sc == CX_SC_Extern ? VAR_GLOBAL : VAR_LOCAL;
        ast_var *v = fe_make_var(cv, d, vk);
        if (vk == VAR_GLOBAL)
            fe_var_insert(cv, d, v);
        ast_stmt *s = fe_new_stmt(cv, AS_DECL, d);
        s->var = v;
        int cnt = 0;
        CXCursor init = fe_last_expr_child(cv, d, &cnt);
        /* static locals are initialised once, not on every call */
        if (cnt >= 1 && vk == VAR_LOCAL)
            s->expr = fe_expr(cv, init);
        else if (cnt >= 1 && vk == VAR_STATIC)
            v->static_init = fe_expr(cv, init);
        decls[n++] = s;
    }
    if (n == 1)
        return decls[0];
    ast_stmt *g = fe_new_stmt(cv, AS_COMPOUND, c);
    g->ival = 1;  /* a declaration group: no scope of its own */
    fe_stmt_kids(cv, g, decls, n);
    return g;
}

/* for (init; cond; inc) body: libclang skips absent parts, so classify the
 * present children by their position against the header's semicolons. */
static ast_stmt *fe_stmt_for(fe_conv *cv, CXCursor c)
{
    ast_stmt *s = fe_new_stmt(cv, AS_FOR, c);
    s->end_loc = s->loc;
    fe_kids ks = fe_children(cv->arena, c);
    if (ks.n == 0)
        return s;
    ast_stmt *body_kids[2] = { NULL, NULL };
    CXCursor body = ks.v[ks.n - 1];
    int nhead = ks.n - 1;
    int role[3] = { -1, -1, -1 };  /* child index for init, cond, inc */
    if (nhead == 3) {
        role[0] = 0; role[1] = 1; role[2] = 2;
    } else if (nhead > 0) {
        /* find the two ';' of the header */
        fe_tu *t = cv->t;
        CXToken *toks = NULL;
        unsigned n = 0;
        clang_tokenize(t->tu, clang_getCursorExtent(c), &toks, &n);
        unsigned semi[2] = { 0, 0 };
        int nsemi = 0, depth = 0;
        for (unsigned i = 0; i < n && nsemi < 2; i++) {
            CXString ts = clang_getTokenSpelling(t->tu, toks[i]);
            const char *tp = clang_getCString(ts);
            char ch = tp && tp[1] == '\0' ? tp[0] : 0;
            clang_disposeString(ts);
            if (ch == '(')
                depth++;
            else if (ch == ')')
                depth--;
            else if (ch == ';' && depth == 1) {
                unsigned off = 0;
                clang_getFileLocation(clang_getRangeStart(clang_getTokenExtent(t->tu, toks[i])),
                                      NULL, NULL, NULL, &off);
                semi[nsemi++] = off;
            }
        }
        clang_disposeTokens(t->tu, toks, n);
        for (int i = 0; i < nhead; i++) {
            unsigned st = 0, en = 0;
            fe_cursor_span(t, ks.v[i], &st, &en);
            int r = nsemi < 2 ? i + (3 - nhead) : st < semi[0] ? 0 : st < semi[1] ? 1 : 2;
            if (r >= 0 && r < 3 && role[r] < 0)
                role[r] = i;
        }
    }
    if (role[0] >= 0) {
        CXCursor ic = ks.v[role[0]];
        if (clang_getCursorKind(ic) == CXCursor_DeclStmt)
            body_kids[0] = fe_stmt(cv, ic);
        else {
            body_kids[0] = fe_new_stmt(cv, AS_EXPR, ic);
            body_kids[0]->expr = fe_expr(cv, ic);
        }
    }
    if (role[1] >= 0)
        s->expr = fe_expr(cv, ks.v[role[1]]);
    if (role[2] >= 0)
        s->expr2 = fe_expr(cv, ks.v[role[2]]);
    body_kids[1] = fe_stmt(cv, body);
    fe_stmt_kids(cv, s, body_kids, 2);
    return s;
}

static ast_stmt *fe_stmt_body(fe_conv *cv, CXCursor c)
{
    enum CXCursorKind k = clang_getCursorKind(c);
    fe_macro *m = fe_collapsible(cv, c);
    if (m) {
        ast_expr *x = fe_collapse(cv, c, m);
        if (x) {
            fe_has_return hr = { false };
            if (k == CXCursor_ReturnStmt)
                hr.found = true;
            else
                clang_visitChildren(c, fe_has_return_cb, &hr);
            ast_stmt *s = fe_new_stmt(cv, hr.found ? AS_RETURN : AS_EXPR, c);
            s->expr = x;
            s->macro = m->name;
            return s;
        }
    }
    if (fe_is_expr_kind(k)) {
        ast_stmt *s = fe_new_stmt(cv, AS_EXPR, c);
        s->expr = fe_expr(cv, c);
        return s;
    }
    fe_kids ks = fe_children(cv->arena, c);
    switch (k) {
    case CXCursor_CompoundStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_COMPOUND, c);
        fe_fileloc(cv->t, clang_getRangeEnd(clang_getCursorExtent(c)), &s->end_loc, NULL);
        if (s->end_loc.col > 1)
            s->end_loc.col--;   /* the '}' itself */
        ast_stmt **kids = pa_alloc(cv->arena, (size_t)(ks.n ? ks.n : 1) * sizeof *kids);
        for (int i = 0; i < ks.n && !pa_failed(cv->arena); i++)
            kids[i] = fe_stmt(cv, ks.v[i]);
        fe_stmt_kids(cv, s, kids, ks.n);
        return s;
    }
    case CXCursor_DeclStmt:
        return fe_stmt_decl(cv, c);
    case CXCursor_IfStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_IF, c);
        if (ks.n < 2)
            return s;
        s->expr = fe_expr(cv, ks.v[0]);
        ast_stmt *kids[2] = { fe_stmt(cv, ks.v[1]), ks.n > 2 ? fe_stmt(cv, ks.v[2]) : NULL };
        fe_stmt_kids(cv, s, kids, 2);
        return s;
    }
    case CXCursor_WhileStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_WHILE, c);
        if (ks.n < 2)
            return s;
        s->expr = fe_expr(cv, ks.v[0]);
        ast_stmt *body = fe_stmt(cv, ks.v[1]);
        fe_stmt_kids(cv, s, &body, 1);
        return s;
    }
    case CXCursor_DoStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_DO, c);
        if (ks.n < 2)
            return s;
        ast_stmt *body = fe_stmt(cv, ks.v[0]);
        s->expr = fe_expr(cv, ks.v[1]);
        fe_stmt_kids(cv, s, &body, 1);
        return s;
    }
    case CXCursor_ForStmt:
        return fe_stmt_for(cv, c);
    case CXCursor_SwitchStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_SWITCH, c);
        if (ks.n < 2)
            return s;
        s->expr = fe_expr(cv, ks.v[ks.n - 2]);
        ast_stmt *body = fe_stmt(cv, ks.v[ks.n - 1]);
        fe_stmt_kids(cv, s, &body, 1);
        return s;
    }
    case CXCursor_CaseStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_CASE, c);
        if (ks.n < 2)
            return s;
        long long v = 0;
        fe_eval_int(ks.v[0], &v);
        s->ival = s->ival2 = v;
        if (ks.n >= 3) {
            long long v2 = v;
            fe_eval_int(ks.v[1], &v2);
            s->ival2 = v2;
        }
        ast_stmt *sub = fe_stmt(cv, ks.v[ks.n - 1]);
        fe_stmt_kids(cv, s, &sub, 1);
        return s;
    }
    case CXCursor_DefaultStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_DEFAULT, c);
        if (ks.n >= 1) {
            ast_stmt *sub = fe_stmt(cv, ks.v[ks.n - 1]);
            fe_stmt_kids(cv, s, &sub, 1);
        }
        return s;
    }
    case CXCursor_BreakStmt:
        return fe_new_stmt(cv, AS_BREAK, c);
    case CXCursor_ContinueStmt:
        return fe_new_stmt(cv, AS_CONTINUE, c);
    case CXCursor_ReturnStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_RETURN, c);
        if (ks.n >= 1)
            s->expr = fe_expr(cv, ks.v[0]);
        return s;
    }
    case CXCursor_GotoStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_GOTO, c);
        CXCursor ref = clang_getCursorReferenced(c);
        s->name = fe_intern_cx(cv->arena, clang_getCursorSpelling(ref));
        return s;
    }
    case CXCursor_IndirectGotoStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_INDIRECT_GOTO, c);
        if (ks.n >= 1)
            s->expr = fe_expr(cv, ks.v[0]);
        return s;
    }
    case CXCursor_LabelStmt: {
        ast_stmt *s = fe_new_stmt(cv, AS_LABEL, c);
        s->name = fe_intern_cx(cv->arena, clang_getCursorSpelling(c));
        ast_stmt *sub = ks.n >= 1 ? fe_stmt(cv, ks.v[ks.n - 1]) : fe_new_stmt(cv, AS_NULL, c);
        fe_stmt_kids(cv, s, &sub, 1);
        return s;
    }
    case CXCursor_NullStmt:
        return fe_new_stmt(cv, AS_NULL, c);
    case CXCursor_GCCAsmStmt:
    case CXCursor_MSAsmStmt:
        return fe_new_stmt(cv, AS_ASM, c);
    default: {
        /* Unknown statement: keep its sub-statements in order. */
        ast_stmt *s = fe_new_stmt(cv, AS_COMPOUND, c);
        ast_stmt **kids = pa_alloc(cv->arena, (size_t)(ks.n ? ks.n : 1) * sizeof *kids);
        for (int i = 0; i < ks.n && !pa_failed(cv->arena); i++)
            kids[i] = fe_stmt(cv, ks.v[i]);
        fe_stmt_kids(cv, s, kids, ks.n);
        return s;
    }
    }
}

ast_stmt *fe_stmt(fe_conv *cv, CXCursor c)
{
    if (++cv->depth > FE_MAX_DEPTH || pa_failed(cv->arena)) {
        cv->depth--;
        cv->too_deep = true;
        ast_stmt *s = pa_alloc(cv->arena, sizeof *s);
        s->kind = AS_NULL;
        return s;
    }
    ast_stmt *s = fe_stmt_body(cv, c);
    cv->depth--;
    return s;
}

