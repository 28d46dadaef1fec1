/* h5log_resume: an existing log measured and checked read-only (its rows up to the resumed update, every
 * column's shape and order), then reopened for writing with the later rows cut, for a resumed run; and
 * the small read-only questions asked of a log before that (its run id, whether a writer holds it). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/h5log_internal.h"

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
        dsets[i] = absent ? -1 : h5io_open_dataset(g, cols[i].name, h5log_native(cols[i].type), 1, 0, HSIZE_UNDEF - 1, true,
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
        const bool frames = k == TR_OBS && h5log_traj_image(&want->traj); /* an image env's uint8 (S, H, W, C) */
        const bool flag = k == TR_TERMINATED || k == TR_TRUNCATED;
        const int rank = frames ? 4 : (k == TR_OBS || k == TR_ACTIONS || k == TR_RENDER) ? 2 : 1;
        hsize_t dims[4] = {0, 0, 0, 0}, want_frame[4];
        hid_t d = h5io_open_dataset(g, h5log_traj_names[k], flag || frames ? H5T_NATIVE_UINT8 : H5T_NATIVE_FLOAT, rank, 0,
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
        h5log_traj_frame_dims(&want->traj, dims[0], want_frame);
        if (frames && memcmp(dims, want_frame, sizeof dims) != 0)
            h5io_fail(e, "/trajectories/obs", "frames of %llux%llux%llu, this run's env draws %dx%dx%d",
                      (unsigned long long)dims[1], (unsigned long long)dims[2], (unsigned long long)dims[3],
                      want->traj.frame_height, want->traj.frame_width, want->traj.frame_channels);
        else if (!frames && rank == 2 && dims[1] != (hsize_t)h5log_traj_width(&want->traj, k)) {
            char what[64];
            snprintf(what, sizeof what, "/trajectories/%s", h5log_traj_names[k]);
            h5io_fail(e, what, "rows of %llu values, this run's env has %d", (unsigned long long)dims[1],
                      h5log_traj_width(&want->traj, k));
        }
        steps_len = dims[0] < steps_len ? dims[0] : steps_len;
    }
    H5Gclose(g);
    hsize_t kept = 0;
    if (e->failed || table_measure(file, "trajectories/index", h5log_traj_index_cols, h5log_n_traj_index_cols, want->keep_updates, false,
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
    if (table_measure(file, "eval", h5log_eval_cols, h5log_n_eval_cols, keep, false, (hsize_t)keep, &ev->runs.rows, e) ||
        table_measure(file, "eval_episodes", h5log_eval_episode_cols, h5log_n_eval_episode_cols, keep, false, max_eps, &ev->episodes.rows, e))
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
        table_measure(file, "metrics", h5log_metric_cols, h5log_n_metric_cols, keep, true, (hsize_t)keep, &probe->metrics.rows, e);
    if (!e->failed)
        table_measure(file, "episodes", h5log_episode_cols, h5log_n_episode_cols, keep, false, max_eps, &probe->episodes.rows, e);
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
        if ((t->dsets[i] = absent ? h5log_column_create(g, &cols[i], rows) : H5Dopen2(g, cols[i].name, H5P_DEFAULT)) < 0)
            h5io_fail_call(e, what, absent ? "H5Dcreate2" : "H5Dopen2");
    }
    H5Gclose(g);
    return e->failed ? -1 : 0;
}

/* Sets a dataset's extent, recording the failure with the dataset's name. */
int h5log_set_extent(hid_t d, const hsize_t *size, h5io_err *e)
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
        h5log_set_extent(t->dsets[i], &t->rows, e);
    return e->failed ? -1 : 0;
}

static int traj_open(traj_tables *tr, hid_t file, h5io_err *e)
{
    if (!tr->on)
        return 0;
    open_datasets(file, "trajectories", h5log_traj_names, TR_COUNT, tr->steps, e);
    return table_open(&tr->index, file, "trajectories/index", h5log_traj_index_cols, h5log_n_traj_index_cols, sizeof(traj_index_row),
                      tr->index.rows, e);
}

static int traj_cut(traj_tables *tr, h5io_err *e)
{
    if (!tr->on)
        return 0;
    table_cut(&tr->index, e);
    for (int k = 0; k < TR_COUNT; k++) {
        hsize_t size[4] = {tr->rows, (hsize_t)h5log_traj_width(&tr->layout, k)}; /* 1-D datasets read size[0] only */
        if (k == TR_OBS && h5log_traj_image(&tr->layout))
            h5log_traj_frame_dims(&tr->layout, tr->rows, size);
        h5log_set_extent(tr->steps[k], size, e);
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
    table_open(&log->metrics, log->file, "metrics", h5log_metric_cols, h5log_n_metric_cols, sizeof(log_metrics), probe.metrics.rows, &e);
    table_open(&log->episodes, log->file, "episodes", h5log_episode_cols, h5log_n_episode_cols, sizeof(log_episode), probe.episodes.rows,
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
        table_open(&log->eval.runs, log->file, "eval", h5log_eval_cols, h5log_n_eval_cols, sizeof(log_eval), probe.eval.runs.rows, &e);
        table_open(&log->eval.episodes, log->file, "eval_episodes", h5log_eval_episode_cols, h5log_n_eval_episode_cols,
                   sizeof(log_eval_episode), probe.eval.episodes.rows, &e);
        table_cut(&log->eval.runs, &e);
        table_cut(&log->eval.episodes, &e);
    } else if (want->eval && !e.failed)
        h5log_eval_create(&log->eval, log->file, &e);
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
    h5log_remember_file(log);
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
