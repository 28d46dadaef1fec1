/* h5log: extendible chunked 1-D datasets per column, SWMR writer mode. */
#include "log/h5log.h"

#include "log/h5io.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum { COL_I64, COL_F64, COL_U8 } col_type;

typedef struct {
    const char *name;
    col_type type;
    size_t offset;
    bool added; /* float64, added to the schema later: a log without it is resumed with NaN in its kept rows */
} column;

#define MCOL(f, t) {#f, t, offsetof(log_metrics, f), false}
#define MCOL_ADDED(f) {#f, COL_F64, offsetof(log_metrics, f), true}
static const column metric_cols[] = {
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
static const column episode_cols[] = {
    ECOL(global_step, COL_I64), ECOL(update, COL_I64), ECOL(rank, COL_I64), ECOL(env_index, COL_I64),
    {"return", COL_F64, offsetof(log_episode, ret), false}, ECOL(length, COL_I64), ECOL(terminated, COL_U8),
};
#define VCOL(f, t) {#f, t, offsetof(log_eval, f), false}
static const column eval_cols[] = {
    VCOL(update, COL_I64), VCOL(global_step, COL_I64), VCOL(wall_time, COL_F64), VCOL(seconds, COL_F64),
    VCOL(episodes, COL_I64), VCOL(return_mean, COL_F64), VCOL(return_std, COL_F64), VCOL(return_min, COL_F64),
    VCOL(return_max, COL_F64), VCOL(length_mean, COL_F64), VCOL(new_best, COL_U8),
};
#define WCOL(f, t) {#f, t, offsetof(log_eval_episode, f), false}
static const column eval_episode_cols[] = {
    WCOL(update, COL_I64), WCOL(episode, COL_I64), WCOL(seed, COL_I64),
    {"return", COL_F64, offsetof(log_eval_episode, ret), false}, WCOL(length, COL_I64), WCOL(terminated, COL_U8),
};
#define N_VCOLS (int)(sizeof eval_cols / sizeof eval_cols[0])
#define N_WCOLS (int)(sizeof eval_episode_cols / sizeof eval_episode_cols[0])
#define N_MCOLS (int)(sizeof metric_cols / sizeof metric_cols[0])
#define N_ECOLS (int)(sizeof episode_cols / sizeof episode_cols[0])
#define MAX_COLS 40

typedef struct {
    const column *cols;
    int n_cols;
    size_t row_size;
    hid_t dsets[MAX_COLS];
    hsize_t rows;              /* in the file */
    /* /metrics and /episodes: rows appended since the last h5log_flush, which writes them (an update's
     * 30 columns cost ~90 us to write one by one on the 2-core VM: 40% of an A2C update on CartPole) */
    bool buffered;
    char *pending;             /* (n_pending, row_size) */
    size_t n_pending, cap_pending;
} table;

/* Pending rows written early from this size on, so that a run of fast updates holds little memory. */
enum { TABLE_PENDING_MAX_BYTES = 1 << 20 };

/* /trajectories: step datasets (2-D where a row has several values) and the episode index. */
enum { TR_OBS, TR_ACTIONS, TR_REWARDS, TR_LOGPROBS, TR_VALUES, TR_TERMINATED, TR_TRUNCATED, TR_RENDER, TR_COUNT };
static const char *const traj_names[TR_COUNT] = {"obs", "actions", "rewards", "logprobs", "values",
                                                 "terminated", "truncated", "render"};
typedef struct { /* one /trajectories/index row as written */
    int64_t episode_id, offset, length, rank, env_index, update, seed;
    double ret;
} traj_index_row;
#define TCOL(f) {#f, COL_I64, offsetof(traj_index_row, f), false}
static const column traj_index_cols[] = {
    TCOL(episode_id), TCOL(offset), TCOL(length), TCOL(rank), TCOL(env_index),
    TCOL(update), TCOL(seed), {"return", COL_F64, offsetof(traj_index_row, ret), false},
};
#define N_TCOLS (int)(sizeof traj_index_cols / sizeof traj_index_cols[0])

typedef struct {
    bool on;
    traj_layout layout;
    hid_t steps[TR_COUNT];
    hsize_t rows;                 /* steps written */
    table index;                  /* episode_id and offset are filled by the writer */
} traj_tables;

/* /eval: one row per evaluation; /eval_episodes: its episodes. */
typedef struct {
    bool on;
    table runs, episodes;
    double best; /* best kept return_mean (a reopened log), -inf when none */
} eval_tables;

struct h5log {
    hid_t file;
    char *path;    /* for messages */
    table metrics, episodes;
    traj_tables traj;
    eval_tables eval;
    void *scratch; /* column staging for appends */
    size_t scratch_size;
    bool have_id;  /* the file's device and inode, to tell whether the path still names it */
    dev_t dev;
    ino_t ino;
    bool locked;   /* lock_fd holds the writer's lock on the file (h5io_lock_writer) */
    int lock_fd;
};

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
static void remember_file(h5log *log)
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

static hid_t native(col_type t)
{
    return t == COL_I64 ? H5T_NATIVE_INT64 : t == COL_F64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_UINT8;
}

static size_t col_size(col_type t) { return t == COL_U8 ? 1 : 8; }

/* A column's dataset in group g: 1-D, extendible, chunked, rows long; a float64 column's unwritten rows
 * read as NaN (a column added to an older log on resume). */
static hid_t column_create(hid_t g, const column *col, hsize_t rows)
{
    hsize_t maxdims = H5S_UNLIMITED, chunk = 256;
    hid_t space = H5Screate_simple(1, &rows, &maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, &chunk);
    const double nan = NAN;
    if (col->type == COL_F64)
        H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, &nan);
    hid_t d = H5Dcreate2(g, col->name, native(col->type), space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
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
        if ((t->dsets[i] = column_create(g, &cols[i], 0)) < 0)
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
        herr_t st = H5Dwrite(t->dsets[c], native(col->type), mspace, fspace, H5P_DEFAULT, log->scratch);
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

static bool traj_image(const traj_layout *l) { return l->frame_height > 0; }

/* A step dataset's values per row in the packed rows (an image env's obs: none, its frames come apart). */
static int traj_width(const traj_layout *l, int k)
{
    return k == TR_OBS ? (traj_image(l) ? 0 : l->obs_dim) : k == TR_ACTIONS ? l->action_dim
                                                          : k == TR_RENDER  ? l->render_dim : 1;
}

/* An image env's /trajectories/obs: (rows, H, W, C) bytes. */
static void traj_frame_dims(const traj_layout *l, hsize_t rows, hsize_t dims[4])
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
    traj_frame_dims(l, 0, dims);
    traj_frame_dims(l, H5S_UNLIMITED, maxdims);
    traj_frame_dims(l, 1, chunk);
    hid_t space = H5Screate_simple(4, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 4, chunk);
    H5Pset_deflate(dcpl, 4);
    char what[320];
    h5io_link_name(g, traj_names[TR_OBS], what, sizeof what);
    hid_t d = H5Dcreate2(g, traj_names[TR_OBS], H5T_NATIVE_UINT8, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
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
        if (k == TR_OBS && traj_image(l)) {
            tr->steps[k] = traj_create_frames(g, l, e);
            continue;
        }
        const int w = traj_width(l, k);
        const bool flag = k == TR_TERMINATED || k == TR_TRUNCATED;
        hsize_t dims[2] = {0, (hsize_t)w}, maxdims[2] = {H5S_UNLIMITED, (hsize_t)w}, chunk[2] = {1024, (hsize_t)w};
        const int rank = (k == TR_OBS || k == TR_ACTIONS || k == TR_RENDER) ? 2 : 1;
        hid_t space = H5Screate_simple(rank, dims, maxdims);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_chunk(dcpl, rank, chunk);
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, 4);
        char what[320];
        h5io_link_name(g, traj_names[k], what, sizeof what);
        tr->steps[k] = H5Dcreate2(g, traj_names[k], flag ? H5T_NATIVE_UINT8 : H5T_NATIVE_FLOAT, space, H5P_DEFAULT,
                                  dcpl, H5P_DEFAULT);
        if (tr->steps[k] < 0)
            h5io_fail_call(e, what, "H5Dcreate2");
        H5Pclose(dcpl);
        H5Sclose(space);
    }
    H5Gclose(g);
    return table_create(&tr->index, file, "trajectories/index", traj_index_cols, N_TCOLS, sizeof(traj_index_row), e);
}

static int eval_create(eval_tables *ev, hid_t file, h5io_err *e)
{
    ev->on = true;
    ev->best = -INFINITY;
    table_create(&ev->runs, file, "eval", eval_cols, N_VCOLS, sizeof(log_eval), e);
    return table_create(&ev->episodes, file, "eval_episodes", eval_episode_cols, N_WCOLS, sizeof(log_eval_episode), e);
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
    table_create(&log->metrics, log->file, "metrics", metric_cols, N_MCOLS, sizeof(log_metrics), &e);
    table_create(&log->episodes, log->file, "episodes", episode_cols, N_ECOLS, sizeof(log_episode), &e);
    log->metrics.buffered = log->episodes.buffered = true; /* a row per update: written by h5log_flush */
    if (cfg->eval_every > 0)
        eval_create(&log->eval, log->file, &e);
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
        remember_file(log);
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
    table_create(&log->metrics, log->file, "metrics", metric_cols, N_MCOLS, sizeof(log_metrics), &e);
    table_create(&log->episodes, log->file, "episodes", episode_cols, N_ECOLS, sizeof(log_episode), &e);
    eval_create(&log->eval, log->file, &e);
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

/* Reads rows [start, start + count) of a 1-D int64 column into out. */
static int read_i64_rows(hid_t d, hsize_t start, hsize_t count, int64_t *out)
{
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, &count, NULL);
    int rc = fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0 &&
                     H5Dread(d, H5T_NATIVE_INT64, ms, fs, H5P_DEFAULT, out) >= 0
                 ? 0
                 : -1;
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    return rc;
}

#define SCAN_BLOCK 65536 /* rows of an update column read at a time */

/* Checks a table of a log to resume into, read-only: each column a 1-D extendible dataset of its type,
 * and counts into *kept the leading rows whose update is <= keep. The update column is read in blocks
 * and only up to the first row past keep, so a huge extent costs nothing; its kept values must be >= 1
 * and non-decreasing, at most max_rows of them, and every column must hold them. With every_update
 * (/metrics: one row per update) they must be exactly 1, 2, ..., keep. */
static int table_measure(hid_t file, const char *group, const column *cols, int n, long long keep, bool every_update,
                         hsize_t max_rows, hsize_t *kept, h5io_err *e)
{
    hid_t g = h5io_open_group(file, group, e);
    if (g < 0)
        return -1;
    hid_t dsets[MAX_COLS];
    hsize_t len[MAX_COLS];
    int upd = 0;
    for (int i = 0; i < n; i++) {
        hsize_t dims[1] = {0};
        const bool absent = cols[i].added && !e->failed && H5Lexists(g, cols[i].name, H5P_DEFAULT) <= 0;
        dsets[i] = absent ? -1 : h5io_open_dataset(g, cols[i].name, native(cols[i].type), 1, 0, HSIZE_UNDEF - 1, true,
                                                    dims, e);
        len[i] = absent ? HSIZE_UNDEF - 1 : dims[0]; /* table_open adds it */
        if (!strcmp(cols[i].name, "update"))
            upd = i;
    }
    char what[128];
    snprintf(what, sizeof what, "/%s/update", group);
    hsize_t rows = 0;
    int64_t *buf = e->failed ? NULL : malloc(SCAN_BLOCK * sizeof *buf);
    if (!e->failed && !buf)
        h5io_fail(e, what, "out of memory");
    for (int64_t prev = 0; !e->failed && rows < len[upd];) {
        const hsize_t count = len[upd] - rows < SCAN_BLOCK ? len[upd] - rows : SCAN_BLOCK;
        if (read_i64_rows(dsets[upd], rows, count, buf)) {
            h5io_fail(e, what, "unreadable (truncated or corrupt?)");
            break;
        }
        hsize_t k = 0;
        for (; k < count && buf[k] <= keep && !e->failed; k++, rows++) {
            if (buf[k] < 1 || buf[k] < prev || (every_update && buf[k] != prev + 1))
                h5io_fail(e, what, "row %llu holds update %lld after %lld (out of order: corrupt)",
                          (unsigned long long)rows, (long long)buf[k], (long long)prev);
            else if (rows >= max_rows)
                h5io_fail(e, what, "more than %llu rows up to update %lld (corrupt)", (unsigned long long)max_rows,
                          keep);
            prev = buf[k];
        }
        if (k < count) /* a row past keep: the rest is dropped unread */
            break;
    }
    free(buf);
    if (!e->failed && every_update && rows != (hsize_t)keep)
        h5io_fail(e, what, "the log holds updates 1 to %llu, the checkpoint is at update %lld (not this log's "
                  "checkpoint, or the log lost rows)", (unsigned long long)rows, keep);
    for (int i = 0; i < n && !e->failed; i++)
        if (len[i] < rows) {
            snprintf(what, sizeof what, "/%s/%s", group, cols[i].name);
            h5io_fail(e, what, "%llu rows, fewer than the %llu the resume keeps", (unsigned long long)len[i],
                      (unsigned long long)rows);
        }
    for (int i = 0; i < n; i++)
        if (dsets[i] >= 0)
            H5Dclose(dsets[i]);
    H5Gclose(g);
    *kept = rows;
    return e->failed ? -1 : 0;
}

/* Checks /trajectories (if the log has it) against the widths of this run's env and counts the steps of
 * the episodes recorded up to update keep into tr->rows, their index rows into tr->index.rows. */
static int traj_measure(hid_t file, const h5log_resume *want, hsize_t max_rows, traj_tables *tr, h5io_err *e)
{
    if (H5Lexists(file, "trajectories", H5P_DEFAULT) <= 0)
        return 0;
    tr->on = true;
    tr->layout = want->traj;
    hid_t g = h5io_open_group(file, "trajectories", e);
    if (g < 0)
        return -1;
    hsize_t steps_len = HSIZE_UNDEF;
    for (int k = 0; k < TR_COUNT && !e->failed; k++) {
        const bool frames = k == TR_OBS && traj_image(&want->traj); /* an image env's uint8 (S, H, W, C) */
        const bool flag = k == TR_TERMINATED || k == TR_TRUNCATED;
        const int rank = frames ? 4 : (k == TR_OBS || k == TR_ACTIONS || k == TR_RENDER) ? 2 : 1;
        hsize_t dims[4] = {0, 0, 0, 0}, want_frame[4];
        hid_t d = h5io_open_dataset(g, traj_names[k], flag || frames ? H5T_NATIVE_UINT8 : H5T_NATIVE_FLOAT, rank, 0,
                                    HSIZE_UNDEF - 1, true, dims, e);
        if (d < 0)
            break;
        if (frames) { /* bytes: another integer type would take the appended frames converted */
            const hid_t t = H5Dget_type(d);
            if (t < 0 || H5Tget_size(t) != 1 || H5Tget_sign(t) != H5T_SGN_NONE)
                h5io_fail(e, "/trajectories/obs", "frames of %zu-byte integers, expected uint8",
                          t < 0 ? (size_t)0 : H5Tget_size(t));
            if (t >= 0)
                H5Tclose(t);
        }
        H5Dclose(d);
        if (e->failed)
            break;
        traj_frame_dims(&want->traj, dims[0], want_frame);
        if (frames && memcmp(dims, want_frame, sizeof dims) != 0)
            h5io_fail(e, "/trajectories/obs", "frames of %llux%llux%llu, this run's env draws %dx%dx%d",
                      (unsigned long long)dims[1], (unsigned long long)dims[2], (unsigned long long)dims[3],
                      want->traj.frame_height, want->traj.frame_width, want->traj.frame_channels);
        else if (!frames && rank == 2 && dims[1] != (hsize_t)traj_width(&want->traj, k)) {
            char what[64];
            snprintf(what, sizeof what, "/trajectories/%s", traj_names[k]);
            h5io_fail(e, what, "rows of %llu values, this run's env has %d", (unsigned long long)dims[1],
                      traj_width(&want->traj, k));
        }
        steps_len = dims[0] < steps_len ? dims[0] : steps_len;
    }
    H5Gclose(g);
    hsize_t kept = 0;
    if (e->failed || table_measure(file, "trajectories/index", traj_index_cols, N_TCOLS, want->keep_updates, false,
                                   max_rows, &kept, e))
        return -1;
    tr->index.rows = kept;
    tr->rows = 0;
    if (kept > 0) { /* kept steps end where the last kept episode does */
        int64_t last[2] = {0, 0};
        hsize_t dims[1];
        hid_t ig = h5io_open_group(file, "trajectories/index", e);
        for (int c = 0; c < 2 && ig >= 0 && !e->failed; c++) {
            hid_t d = h5io_open_dataset(ig, c == 0 ? "offset" : "length", H5T_NATIVE_INT64, 1, kept, HSIZE_UNDEF - 1,
                                        true, dims, e);
            if (d >= 0 && read_i64_rows(d, kept - 1, 1, &last[c]))
                h5io_fail(e, c == 0 ? "/trajectories/index/offset" : "/trajectories/index/length", "unreadable");
            if (d >= 0)
                H5Dclose(d);
        }
        if (ig >= 0)
            H5Gclose(ig);
        if (!e->failed && (last[0] < 0 || last[1] < 1 || (hsize_t)last[0] + (hsize_t)last[1] > steps_len))
            h5io_fail(e, "/trajectories/index", "its last kept episode (offset %lld, length %lld) lies outside the "
                      "%llu recorded steps", (long long)last[0], (long long)last[1], (unsigned long long)steps_len);
        tr->rows = (hsize_t)last[0] + (hsize_t)last[1];
    }
    return e->failed ? -1 : 0;
}

/* Checks /eval and /eval_episodes (if the log has them): their rows up to update keep, at most one
 * evaluation per update and CONFIG_MAX_EVAL_EPISODES episodes per evaluation; the best kept
 * return_mean into ev->best. */
static int eval_measure(hid_t file, long long keep, eval_tables *ev, h5io_err *e)
{
    ev->best = -INFINITY;
    if (H5Lexists(file, "eval", H5P_DEFAULT) <= 0 && H5Lexists(file, "eval_episodes", H5P_DEFAULT) <= 0)
        return 0;
    ev->on = true;
    const hsize_t max_eps = (hsize_t)keep > (HSIZE_UNDEF - 1) / CONFIG_MAX_EVAL_EPISODES
                                ? HSIZE_UNDEF - 1
                                : (hsize_t)keep * CONFIG_MAX_EVAL_EPISODES;
    if (table_measure(file, "eval", eval_cols, N_VCOLS, keep, false, (hsize_t)keep, &ev->runs.rows, e) ||
        table_measure(file, "eval_episodes", eval_episode_cols, N_WCOLS, keep, false, max_eps, &ev->episodes.rows, e))
        return -1;
    if (ev->runs.rows == 0)
        return 0;
    double *mean = malloc(sizeof *mean * (size_t)ev->runs.rows);
    hid_t d = mean ? H5Dopen2(file, "eval/return_mean", H5P_DEFAULT) : -1;
    hid_t fs = d >= 0 ? H5Dget_space(d) : -1, ms = H5Screate_simple(1, &ev->runs.rows, NULL);
    const hsize_t start = 0;
    if (fs < 0 || ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &ev->runs.rows, NULL) < 0 ||
        H5Dread(d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, mean) < 0)
        h5io_fail(e, "/eval/return_mean", "unreadable (truncated or corrupt?)");
    for (hsize_t i = 0; !e->failed && i < ev->runs.rows; i++)
        if (!isfinite(mean[i]))
            h5io_fail(e, "/eval/return_mean", "row %llu is %g (corrupt)", (unsigned long long)i, mean[i]);
        else
            ev->best = fmax(ev->best, mean[i]);
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    if (d >= 0)
        H5Dclose(d);
    free(mean);
    return e->failed ? -1 : 0;
}

/* Largest episode return a resume takes: far beyond any Gymnasium env's, small enough that a sum of 100
 * stays finite and exact to the cent. */
#define MAX_EPISODE_RETURN 1e12

/* The kept /episodes/return rows, read in blocks: each finite and within +-MAX_EPISODE_RETURN (a resume
 * rebuilds the last-100 window from them). */
static int episode_returns_check(hid_t file, hsize_t rows, h5io_err *e)
{
    if (rows == 0)
        return 0;
    hid_t d = H5Dopen2(file, "episodes/return", H5P_DEFAULT);
    double *buf = d >= 0 ? malloc(SCAN_BLOCK * sizeof *buf) : NULL;
    if (!buf)
        h5io_fail(e, "/episodes/return", d < 0 ? "unreadable" : "out of memory");
    for (hsize_t at = 0; !e->failed && at < rows;) {
        hsize_t count = rows - at < SCAN_BLOCK ? rows - at : SCAN_BLOCK;
        hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, &count, NULL);
        if (fs < 0 || ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, &at, NULL, &count, NULL) < 0 ||
            H5Dread(d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, buf) < 0)
            h5io_fail(e, "/episodes/return", "unreadable (truncated or corrupt?)");
        for (hsize_t k = 0; !e->failed && k < count; k++)
            if (!(fabs(buf[k]) <= MAX_EPISODE_RETURN))
                h5io_fail(e, "/episodes/return", "row %llu is %g, not a finite return within +-%g (corrupt)",
                          (unsigned long long)(at + k), buf[k], MAX_EPISODE_RETURN);
        if (ms >= 0)
            H5Sclose(ms);
        if (fs >= 0)
            H5Sclose(fs);
        at += count;
    }
    free(buf);
    if (d >= 0)
        H5Dclose(d);
    return e->failed ? -1 : 0;
}

/* The whole read-only check of a log to resume into; fills the kept row counts of probe. */
static int log_measure(hid_t file, const h5log_resume *want, h5log *probe, h5io_err *e)
{
    char format[32] = "", run_id[64] = "";
    int64_t schema = 0;
    if (h5io_get_str(file, "format", format, sizeof format, e) == 0 && strcmp(format, "ppo-log"))
        h5io_fail(e, "attribute 'format' of /", "'%s', not a ppo log", format);
    h5io_get_i64(file, "schema_version", H5LOG_SCHEMA_VERSION, H5LOG_SCHEMA_VERSION, &schema, e);
    hid_t cfg = h5io_open_group(file, "config", e);
    if (cfg >= 0) {
        if (h5io_has_attr(cfg, "run_id")) /* absent in logs from before run ids */
            h5io_get_str(cfg, "run_id", run_id, sizeof run_id, e);
        H5Gclose(cfg);
    }
    if (!e->failed && strcmp(run_id, want->run_id))
        h5io_fail(e, "attribute 'run_id' of /config",
                  "the log belongs to run %s, the checkpoint to run %s: it is another run's log (resume into the "
                  "checkpoint's own --log, or start a new run)", run_id[0] ? run_id : "(none)",
                  want->run_id[0] ? want->run_id : "(none)");
    if (!e->failed && want->need_trajectories && H5Lexists(file, "trajectories", H5P_DEFAULT) <= 0)
        h5io_fail(e, "/trajectories", "missing (its run started without --log-trajectories)");
    const long long keep = want->keep_updates;
    const hsize_t per_update = want->global_batch > 0 ? (hsize_t)want->global_batch : 1;
    const hsize_t max_eps = keep > 0 && (hsize_t)keep > (HSIZE_UNDEF - 1) / per_update ? HSIZE_UNDEF - 1
                                                                                         : (hsize_t)keep * per_update;
    if (!e->failed)
        table_measure(file, "metrics", metric_cols, N_MCOLS, keep, true, (hsize_t)keep, &probe->metrics.rows, e);
    if (!e->failed)
        table_measure(file, "episodes", episode_cols, N_ECOLS, keep, false, max_eps, &probe->episodes.rows, e);
    if (!e->failed)
        episode_returns_check(file, probe->episodes.rows, e);
    if (!e->failed)
        traj_measure(file, want, max_eps, &probe->traj, e);
    if (!e->failed)
        eval_measure(file, keep, &probe->eval, e);
    return e->failed ? -1 : 0;
}

/* Opens a table's datasets for writing, with the rows log_measure kept. */
/* Opens the datasets `names` of group for writing into dsets. */
static int open_datasets(hid_t file, const char *group, const char *const *names, int n, hid_t *dsets, h5io_err *e)
{
    if (e->failed)
        return -1;
    hid_t g = H5Gopen2(file, group, H5P_DEFAULT);
    if (g < 0)
        return h5io_fail_call(e, group, "H5Gopen2");
    for (int i = 0; i < n; i++) {
        char what[320];
        h5io_link_name(g, names[i], what, sizeof what);
        if ((dsets[i] = H5Dopen2(g, names[i], H5P_DEFAULT)) < 0)
            h5io_fail_call(e, what, "H5Dopen2");
    }
    H5Gclose(g);
    return e->failed ? -1 : 0;
}

/* Opens a table's datasets for writing, with the rows log_measure kept. */
static int table_open(table *t, hid_t file, const char *group, const column *cols, int n, size_t row_size,
                      hsize_t rows, h5io_err *e)
{
    t->cols = cols;
    t->n_cols = n;
    t->row_size = row_size;
    t->rows = rows;
    if (e->failed)
        return -1;
    hid_t g = H5Gopen2(file, group, H5P_DEFAULT);
    if (g < 0)
        return h5io_fail_call(e, group, "H5Gopen2");
    for (int i = 0; i < n; i++) { /* a column added to the schema later is created, NaN before these rows */
        char what[320];
        h5io_link_name(g, cols[i].name, what, sizeof what);
        const bool absent = cols[i].added && H5Lexists(g, cols[i].name, H5P_DEFAULT) <= 0;
        if ((t->dsets[i] = absent ? column_create(g, &cols[i], rows) : H5Dopen2(g, cols[i].name, H5P_DEFAULT)) < 0)
            h5io_fail_call(e, what, absent ? "H5Dcreate2" : "H5Dopen2");
    }
    H5Gclose(g);
    return e->failed ? -1 : 0;
}

/* Sets a dataset's extent, recording the failure with the dataset's name. */
static int set_extent(hid_t d, const hsize_t *size, h5io_err *e)
{
    if (e->failed)
        return -1;
    char what[320];
    h5io_link_name(d, "", what, sizeof what);
    return H5Dset_extent(d, size) < 0 ? h5io_fail_call(e, what, "H5Dset_extent") : 0;
}

/* Cuts every column of a table to its kept rows. */
static int table_cut(table *t, h5io_err *e)
{
    for (int i = 0; i < t->n_cols; i++)
        set_extent(t->dsets[i], &t->rows, e);
    return e->failed ? -1 : 0;
}

static int traj_open(traj_tables *tr, hid_t file, h5io_err *e)
{
    if (!tr->on)
        return 0;
    open_datasets(file, "trajectories", traj_names, TR_COUNT, tr->steps, e);
    return table_open(&tr->index, file, "trajectories/index", traj_index_cols, N_TCOLS, sizeof(traj_index_row),
                      tr->index.rows, e);
}

static int traj_cut(traj_tables *tr, h5io_err *e)
{
    if (!tr->on)
        return 0;
    table_cut(&tr->index, e);
    for (int k = 0; k < TR_COUNT; k++) {
        hsize_t size[4] = {tr->rows, (hsize_t)traj_width(&tr->layout, k)}; /* 1-D datasets read size[0] only */
        if (k == TR_OBS && traj_image(&tr->layout))
            traj_frame_dims(&tr->layout, tr->rows, size);
        set_extent(tr->steps[k], size, e);
    }
    return e->failed ? -1 : 0;
}

/* Opens a log read-only for the checks, also one whose writer was killed (marked open for SWMR
 * writing, which a plain read-only open refuses). An SWMR reader retries a metadata read that fails its
 * checksum, by default 100 times with a sleep that doubles each time (HDF5 1.10: hours on a damaged
 * object); nothing writes a log being resumed, so one read decides. */
static hid_t open_for_checks(const char *path) /* path: h5io_open_existing's name */
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    H5Pset_metadata_read_attempts(fapl, 1);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
    if (f < 0)
        f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    H5Pclose(fapl);
    return f;
}

int h5log_peek_run_id(const char *path, char *run_id, size_t len)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    char name[PATH_MAX + 32], why[256], format[32] = "";
    const int fd = h5io_open_existing(path, name, sizeof name, why, sizeof why);
    if (fd < 0)
        return -1;
    hid_t f = open_for_checks(name);
    close(fd);
    if (f < 0)
        return -1;
    h5io_err e = {0};
    run_id[0] = 0;
    if (h5io_get_str(f, "format", format, sizeof format, &e) == 0 && strcmp(format, "ppo-log"))
        h5io_fail(&e, "attribute 'format' of /", "'%s', not a ppo log", format);
    hid_t cfg = h5io_open_group(f, "config", &e);
    if (cfg >= 0) {
        if (h5io_has_attr(cfg, "run_id"))
            h5io_get_str(cfg, "run_id", run_id, len, &e);
        H5Gclose(cfg);
    }
    H5Fclose(f);
    return e.failed ? -1 : 0;
}

static void writer_running_error(const char *path, char *err, size_t err_len)
{
    snprintf(err, err_len, "log %s is being written by another process (the run still running or still ending, or "
             "another resume of it); resume once that has ended", path);
}

int h5log_check_no_writer(const char *path, char *err, size_t err_len)
{
    if (!h5io_writer_running(path))
        return 0;
    writer_running_error(path, err, err_len);
    return -1;
}

h5log *h5log_reopen(const char *path, const h5log_resume *want, char *err, size_t err_len)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    char name[PATH_MAX + 32], why[256];
    const int fd = h5io_open_existing(path, name, sizeof name, why, sizeof why);
    if (fd < 0) {
        snprintf(err, err_len, "cannot reopen log %s to resume into it: %s", path, why);
        return NULL;
    }
    /* one writer at a time: the run being resumed may still be writing it (its ranks outlive a killed
     * mpirun by a moment), or another resume of it may have started first */
    const int lock_fd = h5io_lock_writer(name);
    if (lock_fd == H5IO_LOCK_HELD) {
        close(fd);
        writer_running_error(path, err, err_len);
        return NULL;
    }
    /* every check on a read-only open: a log that fails any is left exactly as it was */
    h5log probe;
    memset(&probe, 0, sizeof probe);
    hid_t ro = open_for_checks(name);
    if (ro < 0) {
        close(fd);
        if (lock_fd >= 0)
            close(lock_fd);
        snprintf(err, err_len, "cannot reopen log %s to resume into it (not HDF5, or corrupt)", path);
        return NULL;
    }
    h5io_err e = {0};
    log_measure(ro, want, &probe, &e);
    H5Fclose(ro);
    if (e.failed) {
        close(fd);
        if (lock_fd >= 0)
            close(lock_fd);
        snprintf(err, err_len, "log %s: cannot prepare it for resuming: %s", path, e.msg);
        return NULL;
    }

    h5log *log = calloc(1, sizeof *log);
    if (!log || !(log->path = strdup(path))) {
        close(fd);
        if (lock_fd >= 0)
            close(lock_fd);
        free(log);
        snprintf(err, err_len, "out of memory reopening the log");
        return NULL;
    }
    log->locked = lock_fd >= 0;
    log->lock_fd = lock_fd;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    log->file = H5Fopen(name, H5F_ACC_RDWR, fapl); /* the file checked above, whatever path names now */
    if (log->file < 0) {
        /* A writer that was killed (SIGKILL, OOM, MPI_Abort) leaves the superblock marked "open for SWMR
         * write", and HDF5 refuses to open it again. The run being resumed is that writer (the run id
         * says so), so clear the mark as h5clear -s does (through the same file-access property). */
        hbool_t clear = 1;
        if (H5Pset(fapl, "clear_status_flags", &clear) >= 0)
            log->file = H5Fopen(name, H5F_ACC_RDWR, fapl);
    }
    close(fd);
    if (log->file < 0)
        h5io_fail_call(&e, "the file", "H5Fopen"); /* before H5Pclose clears the reason */
    H5Pclose(fapl);
    if (log->file < 0) {
        if (strstr(e.msg, "unable to lock file")) /* HDF5's flock(): a reader has the file open */
            snprintf(err, err_len, "log %s is open in another process (h5py, ppo-analyze, a notebook?), and HDF5 "
                     "writes no file another process has open: close it there, then resume", path);
        else
            snprintf(err, err_len, "cannot reopen log %s to resume into it (unwritable?): %s", path, e.msg);
        if (log->locked)
            close(log->lock_fd);
        free(log->path);
        free(log);
        return NULL;
    }
    log->traj = probe.traj;
    table_open(&log->metrics, log->file, "metrics", metric_cols, N_MCOLS, sizeof(log_metrics), probe.metrics.rows, &e);
    table_open(&log->episodes, log->file, "episodes", episode_cols, N_ECOLS, sizeof(log_episode), probe.episodes.rows,
               &e);
    log->metrics.buffered = log->episodes.buffered = true;
    traj_open(&log->traj, log->file, &e);
    table_cut(&log->metrics, &e);
    table_cut(&log->episodes, &e);
    traj_cut(&log->traj, &e);
    /* /eval and /eval_episodes: cut to the checkpoint like the rest, or created for a run that now
     * evaluates (before SWMR writing starts, which allows no new objects) */
    log->eval = probe.eval;
    if (probe.eval.on) {
        table_open(&log->eval.runs, log->file, "eval", eval_cols, N_VCOLS, sizeof(log_eval), probe.eval.runs.rows, &e);
        table_open(&log->eval.episodes, log->file, "eval_episodes", eval_episode_cols, N_WCOLS,
                   sizeof(log_eval_episode), probe.eval.episodes.rows, &e);
        table_cut(&log->eval.runs, &e);
        table_cut(&log->eval.episodes, &e);
    } else if (want->eval && !e.failed)
        eval_create(&log->eval, log->file, &e);
    if (!e.failed && H5Fflush(log->file, H5F_SCOPE_GLOBAL) < 0)
        h5io_fail_call(&e, "flushing the cut file", "H5Fflush");
    if (!e.failed && H5Fstart_swmr_write(log->file) < 0)
        h5io_fail_call(&e, "starting SWMR writing", "H5Fstart_swmr_write");
    if (e.failed) {
        snprintf(err, err_len, "log %s: cannot prepare it for resuming (changed meanwhile, or unwritable): %s", path,
                 e.msg);
        h5log_close(log);
        return NULL;
    }
    remember_file(log);
    return log;
}

long long h5log_kept_returns(h5log *log, int64_t **update, double **ret, char *err, size_t err_len)
{
    const table *t = &log->episodes;
    const hsize_t n = t->rows;
    *update = malloc(sizeof **update * (size_t)(n ? n : 1));
    *ret = malloc(sizeof **ret * (size_t)(n ? n : 1));
    int c_upd = -1, c_ret = -1;
    for (int c = 0; c < t->n_cols; c++) {
        if (!strcmp(t->cols[c].name, "update"))
            c_upd = c;
        if (!strcmp(t->cols[c].name, "return"))
            c_ret = c;
    }
    int rc = *update && *ret ? 0 : -1;
    char cause[512] = "out of memory";
    if (rc == 0 && n > 0) {
        const hsize_t start = 0;
        if ((rc = read_i64_rows(t->dsets[c_upd], 0, n, *update)))
            snprintf(cause, sizeof cause, "reading /episodes/update failed");
        hid_t fs = H5Dget_space(t->dsets[c_ret]), ms = H5Screate_simple(1, &n, NULL);
        if (!rc && (fs < 0 || ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &n, NULL) < 0 ||
                    H5Dread(t->dsets[c_ret], H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, *ret) < 0)) {
            rc = -1;
            char why[384];
            h5io_cause(why, sizeof why); /* before the closes below clear HDF5's reason */
            snprintf(cause, sizeof cause, "reading /episodes/return failed: %s", why);
        }
        if (ms >= 0)
            H5Sclose(ms);
        if (fs >= 0)
            H5Sclose(fs);
    }
    for (hsize_t k = 0; rc == 0 && k < n; k++)
        if (!(fabs((*ret)[k]) <= MAX_EPISODE_RETURN)) { /* checked before the reopen: the file changed since */
            rc = -1;
            snprintf(cause, sizeof cause, "/episodes/return row %llu is %g (changed since it was checked)",
                     (unsigned long long)k, (*ret)[k]);
        }
    if (rc) {
        snprintf(err, err_len, "cannot read the kept /episodes rows (%llu) of log %s: %s", (unsigned long long)n,
                 log->path, cause);
        free(*update);
        free(*ret);
        *update = NULL;
        *ret = NULL;
        return -1;
    }
    return (long long)n;
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
    traj_frame_dims(l, first + n, size);
    if (set_extent(tr->steps[TR_OBS], size, e))
        return -1;
    hsize_t at = first;
    for (int i = 0; i < n_eps; i++) {
        if (eps[i].length <= 0)
            continue;
        hsize_t start[4] = {at, 0, 0, 0}, count[4];
        traj_frame_dims(l, (hsize_t)eps[i].length, count);
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
    if (traj_image(l) && !frames) {
        h5io_fail(&e, "/trajectories/obs", "an image env's episodes came without their frames");
        goto fail;
    }
    const int W = traj_row_width(l);
    hsize_t n = 0;
    for (int e = 0; e < n_eps; e++)
        n += (hsize_t)eps[e].length;
    int widest = 1;
    for (int k = 0; k < TR_COUNT; k++)
        widest = traj_width(l, k) > widest ? traj_width(l, k) : widest;
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
        if (k == TR_OBS && traj_image(l)) {
            if (traj_write_frames(tr, frames, eps, n_eps, tr->rows, n, &e))
                goto fail;
            continue;
        }
        const int w = traj_width(l, k);
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
        if (set_extent(tr->steps[k], size, &e))
            goto fail;
        hid_t fspace = H5Dget_space(tr->steps[k]);
        hid_t mspace = H5Screate_simple(rank, count, NULL);
        H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
        herr_t st = H5Dwrite(tr->steps[k], flag ? H5T_NATIVE_UINT8 : H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT,
                             log->scratch);
        if (st < 0) {
            char what[64];
            snprintf(what, sizeof what, "/trajectories/%s", traj_names[k]);
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
