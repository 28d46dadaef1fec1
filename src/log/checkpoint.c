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

static int put_array(hid_t loc, const char *name, hid_t type, size_t n, const void *data)
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

/* Reads a 1-D dataset of exactly n elements (n == 0: any length, returned in *len) into a new buffer. */
static void *get_array(hid_t loc, const char *name, hid_t type, size_t elem, size_t n, size_t *len)
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

static int put_train_state(hid_t f, size_t n_params, const train_state *ts)
{
    hid_t g = H5Gcreate2(f, "train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return -1;
    int rc = put_i64(g, "update", ts->update);
    rc |= put_i64(g, "resumes", ts->resumes);
    rc |= put_i64(g, "ranks", ts->ranks);
    rc |= put_i64(g, "envs_per_rank", ts->envs_per_rank);
    rc |= put_i64(g, "adam_step", ts->adam_step);
    rc |= put_i64(g, "rng_per_rank", (int64_t)ts->rng_per_rank);
    int64_t wall_bits;
    memcpy(&wall_bits, &ts->wall_time, sizeof wall_bits); /* exact round trip */
    rc |= put_i64(g, "wall_time_bits", wall_bits);
    rc |= put_str(g, "options", ts->options);
    if (ts->env_state)
        rc |= put_array(g, "env_state", H5T_NATIVE_UINT8, (size_t)ts->ranks * ts->env_state_per_rank, ts->env_state);
    if (ts->has_return_stats) {
        const double r[3] = {ts->ret_count, ts->ret_mean, ts->ret_var};
        rc |= put_array(g, "return_stats", H5T_NATIVE_DOUBLE, 3, r);
    }
    rc |= put_array(g, "adam_m", H5T_NATIVE_FLOAT, n_params, ts->adam_m);
    rc |= put_array(g, "adam_v", H5T_NATIVE_FLOAT, n_params, ts->adam_v);
    rc |= put_array(g, "rng", H5T_NATIVE_UINT64, (size_t)ts->ranks * ts->rng_per_rank, ts->rng);
    H5Gclose(g);
    return rc;
}

static int get_train_state(hid_t f, size_t n_params, train_state *ts)
{
    memset(ts, 0, sizeof *ts);
    if (H5Lexists(f, "train", H5P_DEFAULT) <= 0)
        return 0;
    hid_t g = H5Gopen2(f, "train", H5P_DEFAULT);
    if (g < 0)
        return -1;
    int64_t update, resumes, ranks, epr, step, rpr, wall_bits;
    char options[16384];
    int rc = get_i64(g, "update", &update) | get_i64(g, "resumes", &resumes) | get_i64(g, "ranks", &ranks) |
             get_i64(g, "envs_per_rank", &epr) | get_i64(g, "adam_step", &step) | get_i64(g, "rng_per_rank", &rpr) |
             get_i64(g, "wall_time_bits", &wall_bits) | get_str(g, "options", options, sizeof options);
    if (rc == 0 && ranks > 0 && rpr > 0) {
        ts->update = update;
        ts->resumes = resumes;
        ts->ranks = (int)ranks;
        ts->envs_per_rank = (int)epr;
        ts->adam_step = step;
        ts->rng_per_rank = (size_t)rpr;
        memcpy(&ts->wall_time, &wall_bits, sizeof wall_bits);
        ts->options = strdup(options);
        ts->adam_m = get_array(g, "adam_m", H5T_NATIVE_FLOAT, sizeof(float), n_params, NULL);
        ts->adam_v = get_array(g, "adam_v", H5T_NATIVE_FLOAT, sizeof(float), n_params, NULL);
        ts->rng = get_array(g, "rng", H5T_NATIVE_UINT64, sizeof(uint64_t), (size_t)ranks * (size_t)rpr, NULL);
        rc = ts->options && ts->adam_m && ts->adam_v && ts->rng ? 0 : -1;
        if (rc == 0 && H5Lexists(g, "env_state", H5P_DEFAULT) > 0) {
            size_t len = 0;
            ts->env_state = get_array(g, "env_state", H5T_NATIVE_UINT8, 1, 0, &len);
            ts->env_state_per_rank = len / (size_t)ranks;
            if (!ts->env_state || len % (size_t)ranks)
                rc = -1;
        }
        if (rc == 0 && H5Lexists(g, "return_stats", H5P_DEFAULT) > 0) {
            double *r = get_array(g, "return_stats", H5T_NATIVE_DOUBLE, sizeof(double), 3, NULL);
            if (r) {
                ts->has_return_stats = true;
                ts->ret_count = r[0];
                ts->ret_mean = r[1];
                ts->ret_var = r[2];
                free(r);
            } else
                rc = -1;
        }
        ts->present = rc == 0;
    } else
        rc = -1;
    H5Gclose(g);
    if (rc)
        train_state_free(ts);
    return rc;
}

void train_state_free(train_state *ts)
{
    free(ts->adam_m);
    free(ts->adam_v);
    free(ts->rng);
    free(ts->options);
    free(ts->env_state);
    memset(ts, 0, sizeof *ts);
}

int checkpoint_save(const char *path, bool force, const checkpoint *ck, const train_state *ts, char *err,
                    size_t err_len)
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
    rc |= put_array(f, "params", H5T_NATIVE_FLOAT, ck->n_params, ck->params);
    if (ck->obs_norm_dim > 0) {
        hid_t g = H5Gcreate2(f, "obs_norm", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        int64_t count_bits, clip_bits;
        memcpy(&count_bits, &ck->obs_norm_count, 8);
        memcpy(&clip_bits, &ck->clip_obs, 8);
        rc |= g < 0 ? -1 : 0;
        if (g >= 0) {
            rc |= put_i64(g, "count_bits", count_bits) | put_i64(g, "clip_bits", clip_bits);
            rc |= put_array(g, "mean", H5T_NATIVE_DOUBLE, (size_t)ck->obs_norm_dim, ck->obs_norm_mean);
            rc |= put_array(g, "var", H5T_NATIVE_DOUBLE, (size_t)ck->obs_norm_dim, ck->obs_norm_var);
            H5Gclose(g);
        }
    }
    if (ts)
        rc |= put_train_state(f, ck->n_params, ts);
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

int checkpoint_load(const char *path, checkpoint *ck, train_state *ts, char *err, size_t err_len)
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
        ck->params = get_array(f, "params", H5T_NATIVE_FLOAT, sizeof(float), 0, &ck->n_params);
        if (!ck->params) {
            snprintf(err, err_len, "checkpoint %s: cannot read the parameters (truncated or corrupt?)", path);
            rc = -1;
        }
    }
    if (rc == 0 && H5Lexists(f, "obs_norm", H5P_DEFAULT) > 0) {
        hid_t g = H5Gopen2(f, "obs_norm", H5P_DEFAULT);
        int64_t count_bits = 0, clip_bits = 0;
        size_t dim = 0;
        if (g < 0 || get_i64(g, "count_bits", &count_bits) || get_i64(g, "clip_bits", &clip_bits) ||
            !(ck->obs_norm_mean = get_array(g, "mean", H5T_NATIVE_DOUBLE, sizeof(double), 0, &dim)) ||
            !(ck->obs_norm_var = get_array(g, "var", H5T_NATIVE_DOUBLE, sizeof(double), dim, NULL))) {
            snprintf(err, err_len, "checkpoint %s: its observation statistics are corrupt", path);
            rc = -1;
        } else {
            ck->obs_norm_dim = (int)dim;
            memcpy(&ck->obs_norm_count, &count_bits, 8);
            memcpy(&ck->clip_obs, &clip_bits, 8);
        }
        if (g >= 0)
            H5Gclose(g);
    }
    if (rc == 0 && ts && get_train_state(f, ck->n_params, ts)) {
        snprintf(err, err_len, "checkpoint %s: its training state is incomplete or corrupt", path);
        rc = -1;
    }
    H5Fclose(f);
    if (rc)
        checkpoint_free(ck);
    return rc;
}

void checkpoint_free(checkpoint *ck)
{
    free(ck->params);
    free(ck->obs_norm_mean);
    free(ck->obs_norm_var);
    ck->params = NULL;
    ck->obs_norm_mean = ck->obs_norm_var = NULL;
}

long long checkpoint_train_update(const char *path)
{
    if (access(path, R_OK) != 0)
        return -1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return -1;
    int64_t update = -1;
    hid_t g = H5Lexists(f, "train", H5P_DEFAULT) > 0 ? H5Gopen2(f, "train", H5P_DEFAULT) : -1;
    if (g < 0 || get_i64(g, "update", &update))
        update = -1;
    if (g >= 0)
        H5Gclose(g);
    H5Fclose(f);
    return update;
}
