/* h5log: creating and writing a run's log (extendible chunked 1-D datasets per column, SWMR writer mode),
 * and ppo eval's recordings; measuring a log and reopening it for a resume is h5log_resume.c. */
#include "log/h5log.h"

#include "log/h5log_internal.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#define MCOL(f, t) {#f, t, offsetof(log_metrics, f), false}
#define MCOL_ADDED(f) {#f, COL_F64, offsetof(log_metrics, f), true}
const column h5log_metric_cols[] = {
    MCOL(update, COL_I64), MCOL(global_step, COL_I64), MCOL(wall_time, COL_F64),
    MCOL(steps_per_second, COL_F64), MCOL(episodes, COL_I64), MCOL(return_mean, COL_F64),
    MCOL(return_min, COL_F64), MCOL(return_max, COL_F64), MCOL(length_mean, COL_F64),
    MCOL(policy_loss, COL_F64), MCOL(value_loss, COL_F64), MCOL(entropy, COL_F64),
    MCOL(approx_kl, COL_F64), MCOL(clip_fraction, COL_F64), MCOL(explained_variance, COL_F64),
    MCOL(grad_norm, COL_F64), MCOL(learning_rate, COL_F64), MCOL(epochs, COL_I64),
    /* 2026-12-01: phase times, the last-100 return */
    MCOL_ADDED(time_env), MCOL_ADDED(time_infer), MCOL_ADDED(time_gae), MCOL_ADDED(time_grad),
    MCOL_ADDED(time_comm), MCOL_ADDED(time_optim), MCOL_ADDED(time_log),
    MCOL_ADDED(time_env_max), MCOL_ADDED(time_infer_max), MCOL_ADDED(time_gae_max),
    MCOL_ADDED(time_grad_max), MCOL_ADDED(time_comm_max), MCOL_ADDED(time_optim_max),
    MCOL_ADDED(time_log_max), MCOL_ADDED(return_recent),
};
#define ECOL(f, t) {#f, t, offsetof(log_episode, f), false}
const column h5log_episode_cols[] = {
    ECOL(global_step, COL_I64), ECOL(update, COL_I64), ECOL(rank, COL_I64), ECOL(env_index, COL_I64),
    {"return", COL_F64, offsetof(log_episode, ret), false}, ECOL(length, COL_I64), ECOL(terminated, COL_U8),
};
#define VCOL(f, t) {#f, t, offsetof(log_eval, f), false}
const column h5log_eval_cols[] = {
    VCOL(update, COL_I64), VCOL(global_step, COL_I64), VCOL(wall_time, COL_F64), VCOL(seconds, COL_F64),
    VCOL(episodes, COL_I64), VCOL(return_mean, COL_F64), VCOL(return_std, COL_F64), VCOL(return_min, COL_F64),
    VCOL(return_max, COL_F64), VCOL(length_mean, COL_F64), VCOL(new_best, COL_U8),
};
#define WCOL(f, t) {#f, t, offsetof(log_eval_episode, f), false}
const column h5log_eval_episode_cols[] = {
    WCOL(update, COL_I64), WCOL(episode, COL_I64), WCOL(seed, COL_I64),
    {"return", COL_F64, offsetof(log_eval_episode, ret), false}, WCOL(length, COL_I64), WCOL(terminated, COL_U8),
};
const int h5log_n_eval_cols = (int)(sizeof h5log_eval_cols / sizeof h5log_eval_cols[0]);
const int h5log_n_eval_episode_cols = (int)(sizeof h5log_eval_episode_cols / sizeof h5log_eval_episode_cols[0]);
const int h5log_n_metric_cols = (int)(sizeof h5log_metric_cols / sizeof h5log_metric_cols[0]);
const int h5log_n_episode_cols = (int)(sizeof h5log_episode_cols / sizeof h5log_episode_cols[0]);
const char *const h5log_traj_names[TR_COUNT] = {"obs",        "actions",   "rewards", "logprobs", "values",
                                           "terminated", "truncated", "render"};
#define TCOL(f) {#f, COL_I64, offsetof(traj_index_row, f), false}
const column h5log_traj_index_cols[] = {
    TCOL(episode_id), TCOL(offset), TCOL(length), TCOL(rank), TCOL(env_index),
    TCOL(update), TCOL(seed), {"return", COL_F64, offsetof(traj_index_row, ret), false},
};
const int h5log_n_traj_index_cols = (int)(sizeof h5log_traj_index_cols / sizeof h5log_traj_index_cols[0]);

/* Pending rows written early from this size on, so that a run of fast updates holds little memory. */
enum { TABLE_PENDING_MAX_BYTES = 1 << 20 };

/* Takes the writer's lock on the log's file (name: a name of that file). Returns -1 when another
 * process holds it; where the lock cannot be taken at all the log goes on without it. */
static int take_writer_lock(h5log *log, const char *name)
{
    const int fd = h5io_lock_writer(name);
    if (fd == H5IO_LOCK_HELD)
        return -1;
    log->locked = fd >= 0;
    log->lock_fd = fd;
    return 0;
}

/* Records which file the log is (through HDF5's own descriptor, not the path, which may change). */
void h5log_remember_file(h5log *log)
{
    void *handle = NULL;
    struct stat st;
    if (H5Fget_vfd_handle(log->file, H5P_DEFAULT, &handle) >= 0 && handle && fstat(*(int *)handle, &st) == 0) {
        log->have_id = true;
        log->dev = st.st_dev;
        log->ino = st.st_ino;
    }
}

bool h5log_is_at(const h5log *log, const char *path)
{
    struct stat st;
    return !log->have_id || (stat(path, &st) == 0 && st.st_dev == log->dev && st.st_ino == log->ino);
}

hid_t h5log_native(col_type t)
{
    return t == COL_I64 ? H5T_NATIVE_INT64 : t == COL_F64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_UINT8;
}

static size_t col_size(col_type t) { return t == COL_U8 ? 1 : 8; }

/* A column's dataset in group g: 1-D, extendible, chunked, rows long; a float64 column's unwritten rows
 * read as NaN (a column added to an older log on resume). */
hid_t h5log_column_create(hid_t g, const column *col, hsize_t rows)
{
    hsize_t maxdims = H5S_UNLIMITED, chunk = 256;
    hid_t space = H5Screate_simple(1, &rows, &maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, &chunk);
    const double nan = NAN;
    if (col->type == COL_F64)
        H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &nan);
    hid_t d = H5Dcreate2(g, col->name, h5log_native(col->type), space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(space);
    return d;
}

static int table_create(table *t, hid_t file, const char *group, const column *cols, int n, size_t row_size,
                        h5io_err *e)
{
    t->cols = cols;
    t->n_cols = n;
    t->row_size = row_size;
    t->rows = 0;
    if (e->failed)
        return -1;
    hid_t g = H5Gcreate2(file, group, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return h5io_fail_call(e, group, "H5Gcreate2");
    for (int i = 0; i < n; i++) {
        char what[320];
        h5io_link_name(g, cols[i].name, what, sizeof what);
        if ((t->dsets[i] = h5log_column_create(g, &cols[i], 0)) < 0)
            h5io_fail_call(e, what, "H5Dcreate2");
    }
    H5Gclose(g);
    return e->failed ? -1 : 0;
}

/* Writes n rows (array of row structs) at the end of the table's datasets, column by column. */
static int table_write(h5log *log, table *t, const void *rows, int n, h5io_err *e)
{
    if (n <= 0)
        return 0;
    size_t need = (size_t)n * 8;
    if (need > log->scratch_size) {
        void *p = realloc(log->scratch, need);
        if (!p)
            return h5io_fail(e, "the log's staging buffer", "out of memory for %d rows", n);
        log->scratch = p;
        log->scratch_size = need;
    }
    hsize_t start = t->rows, count = (hsize_t)n, new_size = t->rows + (hsize_t)n;
    for (int c = 0; c < t->n_cols; c++) {
        const column *col = &t->cols[c];
        const size_t cs = col_size(col->type);
        for (int r = 0; r < n; r++)
            memcpy((char *)log->scratch + (size_t)r * cs, (const char *)rows + (size_t)r * t->row_size + col->offset, cs);
        char what[320];
        h5io_link_name(t->dsets[c], "", what, sizeof what);
        if (H5Dset_extent(t->dsets[c], &new_size) < 0)
            return h5io_fail_call(e, what, "H5Dset_extent");
        hid_t fspace = H5Dget_space(t->dsets[c]);
        hid_t mspace = H5Screate_simple(1, &count, NULL);
        H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &count, NULL);
        herr_t st = H5Dwrite(t->dsets[c], h5log_native(col->type), mspace, fspace, H5P_DEFAULT, log->scratch);
        if (st < 0)
            h5io_fail_call(e, what, "H5Dwrite"); /* before the closes below clear HDF5's reason */
        H5Sclose(mspace);
        H5Sclose(fspace);
        if (st < 0)
            return -1;
    }
    t->rows = new_size;
    return 0;
}

/* Writes the table's pending rows. */
static int table_write_pending(h5log *log, table *t, h5io_err *e)
{
    if (t->n_pending == 0)
        return 0;
    const int rc = table_write(log, t, t->pending, (int)t->n_pending, e);
    t->n_pending = 0; /* written or not: a failed write ends the run, and the rows are not retried */
    return rc;
}

/* Appends n rows: to the file at once, or for a buffered table to its pending rows (written by
 * h5log_flush, or here once they pass TABLE_PENDING_MAX_BYTES). */
static int table_append(h5log *log, table *t, const void *rows, int n, h5io_err *e)
{
    if (!t->buffered)
        return table_write(log, t, rows, n, e);
    if (n <= 0)
        return 0;
    const size_t need = t->n_pending + (size_t)n;
    if (need > t->cap_pending) {
        const size_t cap = need > 2 * t->cap_pending ? need : 2 * t->cap_pending;
        char *p = realloc(t->pending, cap * t->row_size);
        if (!p)
            return h5io_fail(e, "the log's pending rows", "out of memory for %zu rows", need);
        t->pending = p;
        t->cap_pending = cap;
    }
    memcpy(t->pending + t->n_pending * t->row_size, rows, (size_t)n * t->row_size);
    t->n_pending = need;
    return t->n_pending * t->row_size >= TABLE_PENDING_MAX_BYTES ? table_write_pending(log, t, e) : 0;
}

static void table_close(table *t)
{
    for (int i = 0; i < t->n_cols; i++)
        if (t->dsets[i] > 0)
            H5Dclose(t->dsets[i]);
    free(t->pending);
    t->pending = NULL;
    t->n_pending = t->cap_pending = 0;
}

bool h5log_traj_image(const traj_layout *l) { return l->frame_height > 0; }

/* A step dataset's values per row in the packed rows (an image env's obs: none, its frames come apart). */
int h5log_traj_width(const traj_layout *l, int k)
{
    return k == TR_OBS ? (h5log_traj_image(l) ? 0 : l->obs_dim) : k == TR_ACTIONS ? l->action_dim
                                                          : k == TR_RENDER  ? l->render_dim : 1;
}

/* An image env's /trajectories/obs: (rows, H, W, C) bytes. */
void h5log_traj_frame_dims(const traj_layout *l, hsize_t rows, hsize_t dims[4])
{
    dims[0] = rows;
    dims[1] = (hsize_t)l->frame_height;
    dims[2] = (hsize_t)l->frame_width;
    dims[3] = (hsize_t)l->frame_channels;
}

/* /trajectories/obs of an image env: uint8 (S, H, W, C), one frame per chunk so that a reader (animate)
 * decompresses only the frames it shows; gzip 4 like the others (no shuffle: it does nothing to bytes). */
static hid_t traj_create_frames(hid_t g, const traj_layout *l, h5io_err *e)
{
    hsize_t dims[4], maxdims[4], chunk[4];
    h5log_traj_frame_dims(l, 0, dims);
    h5log_traj_frame_dims(l, H5S_UNLIMITED, maxdims);
    h5log_traj_frame_dims(l, 1, chunk);
    hid_t space = H5Screate_simple(4, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 4, chunk);
    H5Pset_deflate(dcpl, 4);
    char what[320];
    h5io_link_name(g, h5log_traj_names[TR_OBS], what, sizeof what);
    hid_t d = H5Dcreate2(g, h5log_traj_names[TR_OBS], H5T_NATIVE_UINT8, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d < 0)
        h5io_fail_call(e, what, "H5Dcreate2");
    H5Pclose(dcpl);
    H5Sclose(space);
    return d;
}

static int traj_create(traj_tables *tr, hid_t file, const traj_layout *l, h5io_err *e)
{
    tr->on = true;
    tr->layout = *l;
    if (e->failed)
        return -1;
    hid_t g = H5Gcreate2(file, "trajectories", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return h5io_fail_call(e, "/trajectories", "H5Gcreate2");
    h5io_put_i64(g, "render_dim", l->render_dim, e);
    for (int k = 0; k < TR_COUNT; k++) {
        if (k == TR_OBS && h5log_traj_image(l)) {
            tr->steps[k] = traj_create_frames(g, l, e);
            continue;
        }
        const int w = h5log_traj_width(l, k);
        const bool flag = k == TR_TERMINATED || k == TR_TRUNCATED;
        hsize_t dims[2] = {0, (hsize_t)w}, maxdims[2] = {H5S_UNLIMITED, (hsize_t)w}, chunk[2] = {1024, (hsize_t)w};
        const int rank = (k == TR_OBS || k == TR_ACTIONS || k == TR_RENDER) ? 2 : 1;
        hid_t space = H5Screate_simple(rank, dims, maxdims);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_chunk(dcpl, rank, chunk);
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, 4);
        char what[320];
        h5io_link_name(g, h5log_traj_names[k], what, sizeof what);
        tr->steps[k] = H5Dcreate2(g, h5log_traj_names[k], flag ? H5T_NATIVE_UINT8 : H5T_NATIVE_FLOAT, space, H5P_DEFAULT,
                                  dcpl, H5P_DEFAULT);
        if (tr->steps[k] < 0)
            h5io_fail_call(e, what, "H5Dcreate2");
        H5Pclose(dcpl);
        H5Sclose(space);
    }
    H5Gclose(g);
    return table_create(&tr->index, file, "trajectories/index", h5log_traj_index_cols, h5log_n_traj_index_cols, sizeof(traj_index_row), e);
}

int h5log_eval_create(eval_tables *ev, hid_t file, h5io_err *e)
{
    ev->on = true;
    ev->best = -INFINITY;
    table_create(&ev->runs, file, "eval", h5log_eval_cols, h5log_n_eval_cols, sizeof(log_eval), e);
    return table_create(&ev->episodes, file, "eval_episodes", h5log_eval_episode_cols, h5log_n_eval_episode_cols, sizeof(log_eval_episode), e);
}

static int write_config(hid_t file, const ppo_config *cfg, const log_context *ctx, h5io_err *e)
{
    if (e->failed)
        return -1;
    hid_t g = H5Gcreate2(file, "config", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return h5io_fail_call(e, "/config", "H5Gcreate2");
    for (int i = 0; i < config_option_count(); i++) {
        char buf[CONFIG_PATH + 8];
        double num;
        config_option_value(cfg, i, buf, sizeof buf, &num);
        const char kind = config_option_kind(i);
        if (kind == 'i')
            h5io_put_i64(g, config_option_name(i), (int64_t)num, e);
        else if (kind == 'f')
            h5io_put_f64(g, config_option_name(i), num, e);
        else
            h5io_put_str(g, config_option_name(i), buf, e);
    }
    h5io_put_i64(g, "ranks", ctx->ranks, e);
    h5io_put_i64(g, "threads_per_rank", ctx->threads_per_rank, e);
    h5io_put_str(g, "hostnames", ctx->hostnames, e);
    h5io_put_str(g, "version", ctx->version, e);
    h5io_put_str(g, "onednn_isa", ctx->cpu_isa, e);
    h5io_put_str(g, "grad_sum", ctx->grad_sum ? ctx->grad_sum : "", e);
    h5io_put_str(g, "start_time", ctx->start_time, e);
    h5io_put_i64(g, "obs_dim", ctx->obs_dim, e);
    h5io_put_i64(g, "action_dim", ctx->action_dim, e);
    h5io_put_i64(g, "action_count", ctx->action_count, e);
    h5io_put_str(g, "action_kind", ctx->action_kind, e);
    h5io_put_f64(g, "reward_threshold", ctx->reward_threshold, e);
    h5io_put_i64(g, "global_batch", ctx->global_batch, e);
    h5io_put_str(g, "run_id", ctx->run_id, e);
    H5Gclose(g);
    return e->failed ? -1 : 0;
}

h5log *h5log_create(const char *path, bool force, const ppo_config *cfg, const log_context *ctx,
                    const traj_layout *traj, char *err, size_t err_len)
{
    if (!force && access(path, F_OK) == 0) {
        snprintf(err, err_len, "log %s already exists (use --force to overwrite, or another --log)", path);
        return NULL;
    }
    char tmp[CONFIG_PATH + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
    h5log *log = calloc(1, sizeof *log);
    if (!log || !(log->path = strdup(path))) {
        free(log);
        snprintf(err, err_len, "out of memory creating the log");
        return NULL;
    }
    /* no printing from HDF5: its reasons come back in err (h5io_cause), with the call and object */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    h5io_err e = {0};
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST); /* SWMR needs the latest format */
    log->file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (log->file < 0) {
        char cause[512];
        h5io_cause(cause, sizeof cause);
        snprintf(err, err_len, "cannot create log %s (is the directory writable?): H5Fcreate of %s failed: %s", path,
                 tmp, cause);
        free(log->path);
        free(log);
        return NULL;
    }
    take_writer_lock(log, tmp); /* a new file: no other process can hold it; the lock follows it to path */
    h5io_put_str(log->file, "format", "ppo-log", &e);
    h5io_put_i64(log->file, "schema_version", H5LOG_SCHEMA_VERSION, &e);
    write_config(log->file, cfg, ctx, &e);
    table_create(&log->metrics, log->file, "metrics", h5log_metric_cols, h5log_n_metric_cols, sizeof(log_metrics), &e);
    table_create(&log->episodes, log->file, "episodes", h5log_episode_cols, h5log_n_episode_cols, sizeof(log_episode), &e);
    log->metrics.buffered = log->episodes.buffered = true; /* a row per update: written by h5log_flush */
    if (cfg->eval_every > 0)
        h5log_eval_create(&log->eval, log->file, &e);
    if (traj && traj_create(&log->traj, log->file, traj, &e) == 0) {
        hid_t g = H5Gopen2(log->file, "trajectories", H5P_DEFAULT);
        if (g < 0)
            h5io_fail_call(&e, "/trajectories", "H5Gopen2");
        else {
            h5io_put_str(g, "env", cfg->env, &e);
            H5Gclose(g);
        }
    }
    if (!e.failed && H5Fflush(log->file, H5F_SCOPE_GLOBAL) < 0)
        h5io_fail_call(&e, "flushing the new file", "H5Fflush");
    int rc = e.failed ? -1 : 0;
    /* published: a new log by link(), which fails when a file appeared at path since the check above
     * (another run started with the same --log); --force replaces with rename() */
    int taken = 0, published = 0;
    if (rc == 0 && (force ? rename(tmp, path) : h5io_publish_new(tmp, path)) != 0) {
        taken = errno == EEXIST;
        rc = -2;
    } else if (rc == 0)
        published = 1;
    if (rc == 0 && H5Fstart_swmr_write(log->file) < 0) {
        h5io_fail_call(&e, "starting SWMR writing", "H5Fstart_swmr_write");
        rc = -1;
    }
    if (rc == 0)
        h5log_remember_file(log);
    if (rc != 0) {
        if (taken)
            snprintf(err, err_len, "log %s was created by another run meanwhile (started with the same --log?); "
                     "it is left to that run", path);
        else if (rc == -2)
            snprintf(err, err_len, "cannot move the log into place at %s: %s", path, strerror(errno));
        else
            snprintf(err, err_len, "cannot write the layout of log %s: %s", path, e.msg);
        h5log_close(log);
        unlink(published ? path : tmp); /* never a file this call did not write */
        return NULL;
    }
    return log;
}

static int write_record_config(hid_t file, const eval_record_context *c, h5io_err *e)
{
    if (e->failed)
        return -1;
    hid_t g = H5Gcreate2(file, "config", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return h5io_fail_call(e, "/config", "H5Gcreate2");
    h5io_put_str(g, "env", c->env, e);
    h5io_put_str(g, "env_options", c->env_options, e);
    h5io_put_str(g, "policy", c->policy, e);
    h5io_put_str(g, "run_id", c->run_id, e);
    h5io_put_i64(g, "update", c->update, e);
    h5io_put_i64(g, "global_step", c->global_step, e);
    h5io_put_i64(g, "seed", c->seed, e);
    h5io_put_i64(g, "episodes", c->episodes, e);
    h5io_put_str(g, "deterministic", c->deterministic ? "true" : "false", e);
    h5io_put_str(g, "version", c->version, e);
    h5io_put_str(g, "start_time", c->start_time, e);
    h5io_put_i64(g, "obs_dim", c->obs_dim, e);
    h5io_put_i64(g, "action_dim", c->action_dim, e);
    h5io_put_i64(g, "action_count", c->action_count, e);
    h5io_put_str(g, "action_kind", c->action_kind, e);
    h5io_put_f64(g, "reward_threshold", c->reward_threshold, e);
    H5Gclose(g);
    return e->failed ? -1 : 0;
}

static int traj_append(h5log *log, const float *rows, const uint8_t *const *frames, const traj_episode *eps,
                       int n_eps, char *err, size_t err_len);

int h5log_write_recording(const char *path, const eval_record_context *ctx, const traj_layout *traj, const log_eval *ev,
                          const log_eval_episode *eps, const float *rows, const uint8_t *const *frames,
                          const traj_episode *teps, int n, char *err, size_t err_len)
{
    if (access(path, F_OK) == 0) {
        snprintf(err, err_len, "%s already exists (choose another file)", path);
        return -1;
    }
    char tmp[CONFIG_PATH + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
    h5log *log = calloc(1, sizeof *log);
    if (!log || !(log->path = strdup(path))) {
        free(log);
        snprintf(err, err_len, "out of memory writing %s", path);
        return -1;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    h5io_err e = {0};
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    log->file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (log->file < 0) {
        char cause[512];
        h5io_cause(cause, sizeof cause);
        snprintf(err, err_len, "cannot create %s (is the directory writable?): H5Fcreate of %s failed: %s", path, tmp,
                 cause);
        h5log_close(log);
        return -1;
    }
    h5io_put_str(log->file, "format", "ppo-log", &e);
    h5io_put_i64(log->file, "schema_version", H5LOG_SCHEMA_VERSION, &e);
    h5io_put_str(log->file, "content", "evaluation", &e);
    write_record_config(log->file, ctx, &e);
    table_create(&log->metrics, log->file, "metrics", h5log_metric_cols, h5log_n_metric_cols, sizeof(log_metrics), &e);
    table_create(&log->episodes, log->file, "episodes", h5log_episode_cols, h5log_n_episode_cols, sizeof(log_episode), &e);
    h5log_eval_create(&log->eval, log->file, &e);
    if (traj_create(&log->traj, log->file, traj, &e) == 0) {
        hid_t g = H5Gopen2(log->file, "trajectories", H5P_DEFAULT);
        if (g < 0)
            h5io_fail_call(&e, "/trajectories", "H5Gopen2");
        else {
            h5io_put_str(g, "env", ctx->env, &e);
            H5Gclose(g);
        }
    }
    int rc = 0;
    if (e.failed) {
        snprintf(err, err_len, "cannot write the layout of %s: %s", path, e.msg);
        rc = -1;
    } else
        rc = h5log_append_eval(log, ev, eps, n, err, err_len) ||
             traj_append(log, rows, frames, teps, n, err, err_len);
    if (!rc && H5Fflush(log->file, H5F_SCOPE_GLOBAL) < 0) {
        char cause[512];
        h5io_cause(cause, sizeof cause);
        snprintf(err, err_len, "cannot write %s: H5Fflush failed: %s", path, cause);
        rc = -1;
    }
    h5log_close(log);
    if (!rc && h5io_publish_new(tmp, path) != 0) {
        snprintf(err, err_len, errno == EEXIST ? "%s was created by someone else meanwhile; it is left as it is"
                                               : "cannot move %s into place", path);
        rc = -1;
    }
    unlink(tmp); /* published: the link at path stays */
    return rc ? -1 : 0;
}

int h5log_append_metrics(h5log *log, const log_metrics *m, char *err, size_t err_len)
{
    h5io_err e = {0};
    if (table_append(log, &log->metrics, m, 1, &e)) {
        snprintf(err, err_len, "cannot append to /metrics in log %s: %s", log->path, e.msg);
        return -1;
    }
    return 0;
}

/* Writes episode after episode's frames (frames[e]: eps[e].length frames) into /trajectories/obs from row
 * `first` on, straight from the caller's buffers. */
static int traj_write_frames(traj_tables *tr, const uint8_t *const *frames, const traj_episode *eps, int n_eps,
                             hsize_t first, hsize_t n, h5io_err *e)
{
    const traj_layout *l = &tr->layout;
    hsize_t size[4];
    h5log_traj_frame_dims(l, first + n, size);
    if (h5log_set_extent(tr->steps[TR_OBS], size, e))
        return -1;
    hsize_t at = first;
    for (int i = 0; i < n_eps; i++) {
        if (eps[i].length <= 0)
            continue;
        hsize_t start[4] = {at, 0, 0, 0}, count[4];
        h5log_traj_frame_dims(l, (hsize_t)eps[i].length, count);
        hid_t fspace = H5Dget_space(tr->steps[TR_OBS]);
        hid_t mspace = H5Screate_simple(4, count, NULL);
        H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
        const herr_t st = H5Dwrite(tr->steps[TR_OBS], H5T_NATIVE_UINT8, mspace, fspace, H5P_DEFAULT, frames[i]);
        if (st < 0)
            h5io_fail_call(e, "/trajectories/obs", "H5Dwrite"); /* before the closes below clear HDF5's reason */
        H5Sclose(mspace);
        H5Sclose(fspace);
        if (st < 0)
            return -1;
        at += count[0];
    }
    return 0;
}

int h5log_append_trajectories(h5log *log, const float *rows, const uint8_t *frames, const traj_episode *eps,
                              int n_eps, char *err, size_t err_len)
{
    if (!frames || n_eps <= 0)
        return traj_append(log, rows, NULL, eps, n_eps, err, err_len);
    const uint8_t **each = malloc(sizeof *each * (size_t)n_eps); /* episode e's first frame */
    if (!each) {
        snprintf(err, err_len, "cannot append to /trajectories in log %s: out of memory for %d episodes", log->path,
                 n_eps);
        return -1;
    }
    size_t at = 0;
    for (int e = 0; e < n_eps; e++) {
        each[e] = frames + at * traj_frame_bytes(&log->traj.layout);
        at += (size_t)(eps[e].length > 0 ? eps[e].length : 0);
    }
    const int rc = traj_append(log, rows, each, eps, n_eps, err, err_len);
    free(each);
    return rc;
}

static int traj_append(h5log *log, const float *rows, const uint8_t *const *frames, const traj_episode *eps,
                       int n_eps, char *err, size_t err_len)
{
    traj_tables *tr = &log->traj;
    if (!tr->on || n_eps <= 0)
        return 0;
    h5io_err e = {0};
    const traj_layout *l = &tr->layout;
    if (h5log_traj_image(l) && !frames) {
        h5io_fail(&e, "/trajectories/obs", "an image env's episodes came without their frames");
        goto fail;
    }
    const int W = traj_row_width(l);
    hsize_t n = 0;
    for (int e = 0; e < n_eps; e++)
        n += (hsize_t)eps[e].length;
    int widest = 1;
    for (int k = 0; k < TR_COUNT; k++)
        widest = h5log_traj_width(l, k) > widest ? h5log_traj_width(l, k) : widest;
    const size_t need = (size_t)n * (size_t)widest * sizeof(float);
    if (need > log->scratch_size) {
        void *p = realloc(log->scratch, need);
        if (!p) {
            h5io_fail(&e, "the log's staging buffer", "out of memory for %llu steps", (unsigned long long)n);
            goto fail;
        }
        log->scratch = p;
        log->scratch_size = need;
    }
    int first_col = 0;
    for (int k = 0; k < TR_COUNT; k++) {
        if (k == TR_OBS && h5log_traj_image(l)) {
            if (traj_write_frames(tr, frames, eps, n_eps, tr->rows, n, &e))
                goto fail;
            continue;
        }
        const int w = h5log_traj_width(l, k);
        const bool flag = k == TR_TERMINATED || k == TR_TRUNCATED;
        /* unpack this dataset's columns from the packed rows */
        for (hsize_t r = 0; r < n; r++)
            for (int c = 0; c < w; c++) {
                const float v = rows[(size_t)r * W + (size_t)first_col + (size_t)c];
                if (flag)
                    ((uint8_t *)log->scratch)[r] = v != 0.0f;
                else
                    ((float *)log->scratch)[(size_t)r * w + (size_t)c] = v;
            }
        first_col += w;
        const int rank = (k == TR_OBS || k == TR_ACTIONS || k == TR_RENDER) ? 2 : 1;
        hsize_t size[2] = {tr->rows + n, (hsize_t)w}, start[2] = {tr->rows, 0}, count[2] = {n, (hsize_t)w};
        if (h5log_set_extent(tr->steps[k], size, &e))
            goto fail;
        hid_t fspace = H5Dget_space(tr->steps[k]);
        hid_t mspace = H5Screate_simple(rank, count, NULL);
        H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
        herr_t st = H5Dwrite(tr->steps[k], flag ? H5T_NATIVE_UINT8 : H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT,
                             log->scratch);
        if (st < 0) {
            char what[64];
            snprintf(what, sizeof what, "/trajectories/%s", h5log_traj_names[k]);
            h5io_fail_call(&e, what, "H5Dwrite"); /* before the closes below clear HDF5's reason */
        }
        H5Sclose(mspace);
        H5Sclose(fspace);
        if (st < 0)
            goto fail;
    }
    /* index rows: episode_id and offset continue the file's numbering */
    traj_index_row *idx = malloc((size_t)n_eps * sizeof *idx);
    if (!idx) {
        h5io_fail(&e, "the log's staging buffer", "out of memory for %d episodes", n_eps);
        goto fail;
    }
    for (int e = 0; e < n_eps; e++) {
        idx[e] = (traj_index_row){(int64_t)(tr->index.rows + (hsize_t)e), (int64_t)tr->rows, eps[e].length, eps[e].rank,
                                  eps[e].env_index, eps[e].update, eps[e].seed, eps[e].ret};
        tr->rows += (hsize_t)eps[e].length;
    }
    int rc = table_append(log, &tr->index, idx, n_eps, &e);
    free(idx);
    if (rc)
        goto fail;
    return 0;
fail:
    snprintf(err, err_len, "cannot append to /trajectories in log %s: %s", log->path, e.msg);
    return -1;
}

int h5log_append_episodes(h5log *log, const log_episode *eps, int n, char *err, size_t err_len)
{
    h5io_err e = {0};
    if (table_append(log, &log->episodes, eps, n, &e)) {
        snprintf(err, err_len, "cannot append to /episodes in log %s: %s", log->path, e.msg);
        return -1;
    }
    return 0;
}

int h5log_append_eval(h5log *log, const log_eval *ev, const log_eval_episode *eps, int n, char *err, size_t err_len)
{
    h5io_err e = {0};
    if (!log->eval.on)
        h5io_fail(&e, "/eval", "the log has none");
    else if (table_append(log, &log->eval.runs, ev, 1, &e) == 0)
        table_append(log, &log->eval.episodes, eps, n, &e);
    if (e.failed) {
        snprintf(err, err_len, "cannot append to /eval and /eval_episodes in log %s: %s", log->path, e.msg);
        return -1;
    }
    return 0;
}

double h5log_eval_best(const h5log *log) { return log->eval.on ? log->eval.best : -INFINITY; }

int h5log_flush(h5log *log, char *err, size_t err_len)
{
    h5io_err e = {0};
    const char *which = "/metrics";
    if (table_write_pending(log, &log->metrics, &e) == 0) {
        which = "/episodes";
        table_write_pending(log, &log->episodes, &e);
    }
    if (e.failed) {
        snprintf(err, err_len, "cannot append to %s in log %s: %s", which, log->path, e.msg);
        return -1;
    }
    if (H5Fflush(log->file, H5F_SCOPE_LOCAL) < 0) {
        char cause[512];
        h5io_cause(cause, sizeof cause);
        snprintf(err, err_len, "cannot flush log %s: H5Fflush failed: %s", log->path, cause);
        return -1;
    }
    return 0;
}

void h5log_close(h5log *log)
{
    if (!log)
        return;
    h5io_err e = {0}; /* rows still pending (a run that ends without a last flush): written if they can be */
    if (log->file > 0) {
        table_write_pending(log, &log->metrics, &e);
        table_write_pending(log, &log->episodes, &e);
    }
    table_close(&log->metrics);
    table_close(&log->episodes);
    if (log->eval.on) {
        table_close(&log->eval.runs);
        table_close(&log->eval.episodes);
    }
    if (log->traj.on) {
        table_close(&log->traj.index);
        for (int k = 0; k < TR_COUNT; k++)
            if (log->traj.steps[k] > 0)
                H5Dclose(log->traj.steps[k]);
    }
    if (log->file > 0)
        H5Fclose(log->file);
    if (log->locked)
        close(log->lock_fd);
    free(log->scratch);
    free(log->path);
    free(log);
}
