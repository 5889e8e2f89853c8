/* has_main.c - defines main(), which the validation harness defines too:
 * its findings must come back "unsupported: compile error: ..." and never
 * stop the run. */
#include <Python.h>

static PyObject *
leaky(PyObject *self, PyObject *arg)
{
    PyObject *l = PyList_New(0);
    if (l == NULL)
        return NULL;
    if (PyList_Append(l, arg) < 0)
        return NULL;
    return l;
}

static PyMethodDef m[] = {{"leaky", leaky, METH_O, NULL}, {NULL, NULL, 0, NULL}};

int main(void)
{
    return m[0].ml_meth == NULL;
}
