/* pyrefcheck.h - annotations a project puts on its own functions so that
 * pyrefcheck checks their callers correctly.  Copy it into your project or
 * install it with pyrefcheck; the macros expand to nothing for compilers
 * other than clang (and when PYREFCHECK_NO_ANNOTATIONS is defined).
 *
 *   PYREFCHECK_RETURNS_BORROWED  the function returns a borrowed reference
 *   PYREFCHECK_RETURNS_NEW       the function returns a new reference
 *   PYREFCHECK_SETS_EXCEPTION    its error value always comes with an exception
 *   PYREFCHECK_STEALS(N)         it steals a reference to its N-th argument (1-based)
 *
 * Example:
 *   PyObject *lookup_cached(PyObject *key) PYREFCHECK_RETURNS_BORROWED;
 *   int push_item(Stack *s, PyObject *item) PYREFCHECK_STEALS(2);
 */
#ifndef PYREFCHECK_H
#define PYREFCHECK_H

#if defined(__clang__) && !defined(PYREFCHECK_NO_ANNOTATIONS)
#define PYREFCHECK__ANNOTATE(text) __attribute__((annotate(text)))
#else
#define PYREFCHECK__ANNOTATE(text)
#endif

#define PYREFCHECK__STR(x) #x
#define PYREFCHECK_RETURNS_BORROWED PYREFCHECK__ANNOTATE("pyrefcheck:returns-borrowed")
#define PYREFCHECK_RETURNS_NEW PYREFCHECK__ANNOTATE("pyrefcheck:returns-new")
#define PYREFCHECK_SETS_EXCEPTION PYREFCHECK__ANNOTATE("pyrefcheck:sets-exception")
#define PYREFCHECK_STEALS(n) PYREFCHECK__ANNOTATE("pyrefcheck:steals(" PYREFCHECK__STR(n) ")")

#endif
