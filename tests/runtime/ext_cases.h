/* ext_cases.h - the functions of ext_cases.c (see there). */
#ifndef PRC_TESTS_RUNTIME_EXT_CASES_H
#define PRC_TESTS_RUNTIME_EXT_CASES_H
PyObject *ext_leak(PyObject *self, PyObject *unused);
PyObject *ext_double_decref(PyObject *self, PyObject *unused);
PyObject *ext_use_dead(PyObject *self, PyObject *unused);
PyObject *ext_borrowed_from_dead(PyObject *self, PyObject *unused);
PyObject *ext_correct(PyObject *self, PyObject *arg);
PyObject *ext_null_noexc(PyObject *self, PyObject *arg);
PyObject *ext_borrowed_return(PyObject *self, PyObject *arg);
PyObject *ext_none_borrowed(PyObject *self, PyObject *unused);
PyObject *ext_decref_arg(PyObject *self, PyObject *arg);
PyObject *ext_decref_borrowed_item(PyObject *self, PyObject *list);
PyObject *ext_null_deref(PyObject *self, PyObject *unused);
PyObject *ext_parse(PyObject *self, PyObject *args);
int ext_int_ok(PyObject *arg);
PyObject *ext_first_repr(PyObject *self, PyObject *iterable);
int ext_add_defaults(PyObject *m);
PyObject *ext_remember(PyObject *self, PyObject *unused);
PyObject *ext_remember_ok(PyObject *self, PyObject *unused);
PyObject *ext_dead_type_name(PyObject *self, PyObject *unused);
PyObject *ext_dead_heap_type(PyObject *self, PyObject *unused);
PyObject *ext_dead_tuple_item(PyObject *self, PyObject *unused);
PyObject *ext_dead_tuple_item_repr(PyObject *self, PyObject *unused);
#endif
