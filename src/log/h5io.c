/* h5io: attribute and 1-D dataset helpers over the HDF5 C API. */
#include "log/h5io.h"

#include <stdio.h>
#include <stdlib.h>

int h5io_put_str(hid_t obj, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a >= 0 && H5Awrite(a, t, &value) >= 0 ? 0 : -1;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
    return rc;
}

static int put_scalar(hid_t obj, const char *name, hid_t type, const void *value)
{
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, type, s, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a >= 0 && H5Awrite(a, type, value) >= 0 ? 0 : -1;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(s);
    return rc;
}

int h5io_put_i64(hid_t obj, const char *name, int64_t v) { return put_scalar(obj, name, H5T_NATIVE_INT64, &v); }
int h5io_put_f64(hid_t obj, const char *name, double v) { return put_scalar(obj, name, H5T_NATIVE_DOUBLE, &v); }

int h5io_get_str(hid_t obj, const char *name, char *out, size_t len)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    char *v = NULL;
    int rc = H5Aread(a, t, &v) >= 0 && v ? 0 : -1;
    if (rc == 0) {
        snprintf(out, len, "%s", v);
        H5free_memory(v);
    }
    H5Tclose(t);
    H5Aclose(a);
    return rc;
}

int h5io_get_i64(hid_t obj, const char *name, int64_t *v)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    int rc = H5Aread(a, H5T_NATIVE_INT64, v) >= 0 ? 0 : -1;
    H5Aclose(a);
    return rc;
}

int h5io_put_array(hid_t loc, const char *name, hid_t type, size_t n, const void *data)
{
    hsize_t dims = n;
    hid_t s = H5Screate_simple(1, &dims, NULL);
    hid_t d = H5Dcreate2(loc, name, type, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = d >= 0 && H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0 ? 0 : -1;
    if (d >= 0)
        H5Dclose(d);
    H5Sclose(s);
    return rc;
}

void *h5io_get_array(hid_t loc, const char *name, hid_t type, size_t elem, size_t n, size_t *len)
{
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0)
        return NULL;
    hid_t s = H5Dget_space(d);
    hsize_t dims = 0;
    void *buf = NULL;
    if (s >= 0 && H5Sget_simple_extent_ndims(s) == 1 && H5Sget_simple_extent_dims(s, &dims, NULL) >= 0 &&
        dims > 0 && (n == 0 || dims == n) && (buf = malloc(dims * elem)) &&
        H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        free(buf);
        buf = NULL;
    }
    if (len)
        *len = dims;
    if (s >= 0)
        H5Sclose(s);
    H5Dclose(d);
    return buf;
}


