/* checkpoint: attributes for the network shape and env, one dataset of parameters. */
#include "log/checkpoint.h"

#include "log/h5io.h"

#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECKPOINT_FORMAT "ppo-policy"
#define CHECKPOINT_VERSION 1

static int put_train_state(hid_t f, size_t n_params, const train_state *ts)
{
    hid_t g = H5Gcreate2(f, "train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return -1;
    int rc = h5io_put_i64(g, "update", ts->update);
    rc |= h5io_put_i64(g, "resumes", ts->resumes);
    rc |= h5io_put_i64(g, "ranks", ts->ranks);
    rc |= h5io_put_i64(g, "envs_per_rank", ts->envs_per_rank);
    rc |= h5io_put_i64(g, "adam_step", ts->adam_step);
    rc |= h5io_put_i64(g, "rng_per_rank", (int64_t)ts->rng_per_rank);
    int64_t wall_bits;
    memcpy(&wall_bits, &ts->wall_time, sizeof wall_bits); /* exact round trip */
    rc |= h5io_put_i64(g, "wall_time_bits", wall_bits);
    rc |= h5io_put_str(g, "options", ts->options);
    if (ts->env_state)
        rc |= h5io_put_array(g, "env_state", H5T_NATIVE_UINT8, (size_t)ts->ranks * ts->env_state_per_rank, ts->env_state);
    if (ts->has_return_stats) {
        const double r[3] = {ts->ret_count, ts->ret_mean, ts->ret_var};
        rc |= h5io_put_array(g, "return_stats", H5T_NATIVE_DOUBLE, 3, r);
    }
    rc |= h5io_put_array(g, "adam_m", H5T_NATIVE_FLOAT, n_params, ts->adam_m);
    rc |= h5io_put_array(g, "adam_v", H5T_NATIVE_FLOAT, n_params, ts->adam_v);
    rc |= h5io_put_array(g, "rng", H5T_NATIVE_UINT64, (size_t)ts->ranks * ts->rng_per_rank, ts->rng);
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
    int rc = h5io_get_i64(g, "update", &update) | h5io_get_i64(g, "resumes", &resumes) | h5io_get_i64(g, "ranks", &ranks) |
             h5io_get_i64(g, "envs_per_rank", &epr) | h5io_get_i64(g, "adam_step", &step) | h5io_get_i64(g, "rng_per_rank", &rpr) |
             h5io_get_i64(g, "wall_time_bits", &wall_bits) | h5io_get_str(g, "options", options, sizeof options);
    if (rc == 0 && ranks > 0 && rpr > 0) {
        ts->update = update;
        ts->resumes = resumes;
        ts->ranks = (int)ranks;
        ts->envs_per_rank = (int)epr;
        ts->adam_step = step;
        ts->rng_per_rank = (size_t)rpr;
        memcpy(&ts->wall_time, &wall_bits, sizeof wall_bits);
        ts->options = strdup(options);
        ts->adam_m = h5io_get_array(g, "adam_m", H5T_NATIVE_FLOAT, sizeof(float), n_params, NULL);
        ts->adam_v = h5io_get_array(g, "adam_v", H5T_NATIVE_FLOAT, sizeof(float), n_params, NULL);
        ts->rng = h5io_get_array(g, "rng", H5T_NATIVE_UINT64, sizeof(uint64_t), (size_t)ranks * (size_t)rpr, NULL);
        rc = ts->options && ts->adam_m && ts->adam_v && ts->rng ? 0 : -1;
        if (rc == 0 && H5Lexists(g, "env_state", H5P_DEFAULT) > 0) {
            size_t len = 0;
            ts->env_state = h5io_get_array(g, "env_state", H5T_NATIVE_UINT8, 1, 0, &len);
            ts->env_state_per_rank = len / (size_t)ranks;
            if (!ts->env_state || len % (size_t)ranks)
                rc = -1;
        }
        if (rc == 0 && H5Lexists(g, "return_stats", H5P_DEFAULT) > 0) {
            double *r = h5io_get_array(g, "return_stats", H5T_NATIVE_DOUBLE, sizeof(double), 3, NULL);
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
    int rc = h5io_put_str(f, "format", CHECKPOINT_FORMAT);
    rc |= h5io_put_i64(f, "version", CHECKPOINT_VERSION);
    rc |= h5io_put_str(f, "env", ck->env);
    rc |= h5io_put_str(f, "env_options", ck->env_options);
    rc |= h5io_put_str(f, "hidden", ck->hidden);
    rc |= h5io_put_str(f, "activation", ck->activation);
    rc |= h5io_put_i64(f, "shared_trunk", ck->shared_trunk);
    rc |= h5io_put_i64(f, "sde", ck->sde);
    rc |= h5io_put_i64(f, "global_step", ck->global_step);
    rc |= h5io_put_array(f, "params", H5T_NATIVE_FLOAT, ck->n_params, ck->params);
    if (ck->obs_norm_dim > 0) {
        hid_t g = H5Gcreate2(f, "obs_norm", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        int64_t count_bits, clip_bits;
        memcpy(&count_bits, &ck->obs_norm_count, 8);
        memcpy(&clip_bits, &ck->clip_obs, 8);
        rc |= g < 0 ? -1 : 0;
        if (g >= 0) {
            rc |= h5io_put_i64(g, "count_bits", count_bits) | h5io_put_i64(g, "clip_bits", clip_bits);
            rc |= h5io_put_array(g, "mean", H5T_NATIVE_DOUBLE, (size_t)ck->obs_norm_dim, ck->obs_norm_mean);
            rc |= h5io_put_array(g, "var", H5T_NATIVE_DOUBLE, (size_t)ck->obs_norm_dim, ck->obs_norm_var);
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
    if (h5io_get_str(f, "format", format, sizeof format) || strcmp(format, CHECKPOINT_FORMAT)) {
        snprintf(err, err_len, "checkpoint %s: not a ppo policy checkpoint", path);
        rc = -1;
    } else if (h5io_get_i64(f, "version", &version) || version != CHECKPOINT_VERSION) {
        snprintf(err, err_len, "checkpoint %s: version %lld, this ppo reads version %d", path, (long long)version,
                 CHECKPOINT_VERSION);
        rc = -1;
    } else if (h5io_get_str(f, "env", ck->env, sizeof ck->env) ||
               h5io_get_str(f, "env_options", ck->env_options, sizeof ck->env_options) ||
               h5io_get_str(f, "hidden", ck->hidden, sizeof ck->hidden) ||
               h5io_get_str(f, "activation", ck->activation, sizeof ck->activation) ||
               h5io_get_i64(f, "shared_trunk", &shared) || h5io_get_i64(f, "global_step", &step)) {
        snprintf(err, err_len, "checkpoint %s: missing attributes (corrupt?)", path);
        rc = -1;
    }
    if (rc == 0) {
        ck->shared_trunk = shared != 0;
        int64_t sde = 0;
        if (H5Aexists(f, "sde") > 0 && h5io_get_i64(f, "sde", &sde) == 0)
            ck->sde = sde != 0;
        ck->global_step = step;
        ck->params = h5io_get_array(f, "params", H5T_NATIVE_FLOAT, sizeof(float), 0, &ck->n_params);
        if (!ck->params) {
            snprintf(err, err_len, "checkpoint %s: cannot read the parameters (truncated or corrupt?)", path);
            rc = -1;
        }
    }
    if (rc == 0 && H5Lexists(f, "obs_norm", H5P_DEFAULT) > 0) {
        hid_t g = H5Gopen2(f, "obs_norm", H5P_DEFAULT);
        int64_t count_bits = 0, clip_bits = 0;
        size_t dim = 0;
        if (g < 0 || h5io_get_i64(g, "count_bits", &count_bits) || h5io_get_i64(g, "clip_bits", &clip_bits) ||
            !(ck->obs_norm_mean = h5io_get_array(g, "mean", H5T_NATIVE_DOUBLE, sizeof(double), 0, &dim)) ||
            !(ck->obs_norm_var = h5io_get_array(g, "var", H5T_NATIVE_DOUBLE, sizeof(double), dim, NULL))) {
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
    if (g < 0 || h5io_get_i64(g, "update", &update))
        update = -1;
    if (g >= 0)
        H5Gclose(g);
    H5Fclose(f);
    return update;
}
