/* checkpoint: attributes for the network shape and env, one dataset of parameters. */
#include "log/checkpoint.h"

#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECKPOINT_FORMAT "ppo-policy"
#define CHECKPOINT_VERSION 1

static int put_str(hid_t obj, const char *name, const char *value)
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

static int put_i64(hid_t obj, const char *name, int64_t v)
{
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, H5T_NATIVE_INT64, s, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a >= 0 && H5Awrite(a, H5T_NATIVE_INT64, &v) >= 0 ? 0 : -1;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(s);
    return rc;
}

static int get_str(hid_t obj, const char *name, char *out, size_t len)
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

static int get_i64(hid_t obj, const char *name, int64_t *v)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    int rc = H5Aread(a, H5T_NATIVE_INT64, v) >= 0 ? 0 : -1;
    H5Aclose(a);
    return rc;
}

int checkpoint_save(const char *path, bool force, const checkpoint *ck, char *err, size_t err_len)
{
    if (!force && access(path, F_OK) == 0) {
        snprintf(err, err_len, "checkpoint %s already exists (use --force to overwrite)", path);
        return -1;
    }
    char tmp[2048];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        snprintf(err, err_len, "cannot create checkpoint %s (is the directory writable?)", path);
        return -1;
    }
    int rc = put_str(f, "format", CHECKPOINT_FORMAT);
    rc |= put_i64(f, "version", CHECKPOINT_VERSION);
    rc |= put_str(f, "env", ck->env);
    rc |= put_str(f, "env_options", ck->env_options);
    rc |= put_str(f, "hidden", ck->hidden);
    rc |= put_str(f, "activation", ck->activation);
    rc |= put_i64(f, "shared_trunk", ck->shared_trunk);
    rc |= put_i64(f, "global_step", ck->global_step);
    hsize_t n = ck->n_params;
    hid_t s = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(f, "params", H5T_NATIVE_FLOAT, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d < 0 || H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ck->params) < 0)
        rc = -1;
    if (d >= 0)
        H5Dclose(d);
    H5Sclose(s);
    if (H5Fclose(f) < 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc != 0) {
        unlink(tmp);
        snprintf(err, err_len, "cannot write checkpoint %s (disk full?)", path);
        return -1;
    }
    return 0;
}

int checkpoint_load(const char *path, checkpoint *ck, char *err, size_t err_len)
{
    memset(ck, 0, sizeof *ck);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (access(path, R_OK) != 0) {
        snprintf(err, err_len, "checkpoint %s: no such readable file", path);
        return -1;
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        snprintf(err, err_len, "checkpoint %s: not an HDF5 file, or corrupt", path);
        return -1;
    }
    char format[64] = {0};
    int64_t version = 0, shared = 0, step = 0;
    int rc = 0;
    if (get_str(f, "format", format, sizeof format) || strcmp(format, CHECKPOINT_FORMAT)) {
        snprintf(err, err_len, "checkpoint %s: not a ppo policy checkpoint", path);
        rc = -1;
    } else if (get_i64(f, "version", &version) || version != CHECKPOINT_VERSION) {
        snprintf(err, err_len, "checkpoint %s: version %lld, this ppo reads version %d", path, (long long)version,
                 CHECKPOINT_VERSION);
        rc = -1;
    } else if (get_str(f, "env", ck->env, sizeof ck->env) ||
               get_str(f, "env_options", ck->env_options, sizeof ck->env_options) ||
               get_str(f, "hidden", ck->hidden, sizeof ck->hidden) ||
               get_str(f, "activation", ck->activation, sizeof ck->activation) ||
               get_i64(f, "shared_trunk", &shared) || get_i64(f, "global_step", &step)) {
        snprintf(err, err_len, "checkpoint %s: missing attributes (corrupt?)", path);
        rc = -1;
    }
    if (rc == 0) {
        ck->shared_trunk = shared != 0;
        ck->global_step = step;
        hid_t d = H5Dopen2(f, "params", H5P_DEFAULT);
        hid_t s = d >= 0 ? H5Dget_space(d) : -1;
        hsize_t n = 0;
        if (s < 0 || H5Sget_simple_extent_ndims(s) != 1 || H5Sget_simple_extent_dims(s, &n, NULL) < 0 || n == 0 ||
            !(ck->params = malloc(n * sizeof(float))) ||
            H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ck->params) < 0) {
            snprintf(err, err_len, "checkpoint %s: cannot read the parameters (truncated or corrupt?)", path);
            rc = -1;
        }
        ck->n_params = n;
        if (s >= 0)
            H5Sclose(s);
        if (d >= 0)
            H5Dclose(d);
    }
    H5Fclose(f);
    if (rc)
        checkpoint_free(ck);
    return rc;
}

void checkpoint_free(checkpoint *ck)
{
    free(ck->params);
    ck->params = NULL;
}
