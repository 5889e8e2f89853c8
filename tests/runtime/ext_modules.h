/* ext_modules.h - the functions of ext_modules.c (see there). */
#ifndef PRC_TESTS_RUNTIME_EXT_MODULES_H
#define PRC_TESTS_RUNTIME_EXT_MODULES_H
PyObject *ext_state_roundtrip(PyObject *self, PyObject *unused);
PyObject *ext_state_remove(PyObject *self, PyObject *unused);
PyObject *ext_capsule_dies(PyObject *self, PyObject *unused);
PyObject *ext_capsule_wrong_name(PyObject *self, PyObject *unused);
PyObject *ext_capsule_leak(PyObject *self, PyObject *unused);
PyObject *ext_capsule_import(PyObject *self, PyObject *unused);
PyObject *ext_import_twice(PyObject *self, PyObject *unused);
PyObject *ext_import_attr(PyObject *self, PyObject *unused);
PyObject *ext_import_leak(PyObject *self, PyObject *unused);
PyObject *ext_import_level(PyObject *self, PyObject *unused);
PyObject *ext_structseq(PyObject *self, PyObject *unused);
PyObject *ext_structseq_leak(PyObject *self, PyObject *unused);
PyObject *ext_small_apis(PyObject *self, PyObject *unused);
PyObject *ext_gc_track_null(PyObject *self, PyObject *unused);
#endif
