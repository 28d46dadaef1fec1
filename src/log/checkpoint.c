/* checkpoint: attributes for the network shape and env, one dataset of parameters; every read of it
 * goes through h5io's validated reads. */
#include "log/checkpoint.h"

#include "log/h5io.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECKPOINT_FORMAT "ppo-policy"
#define CHECKPOINT_VERSION 1
/* Caps for what a reader does not know exactly: far above any real run, far below a wrapped size. */
#define MAX_PARAMS ((size_t)1 << 28)   /* 7 hidden layers of 4096 are ~2^27 */
#define MAX_OBS_DIM 4096
#define MAX_COUNTER ((int64_t)1 << 48) /* updates, resumes, steps */
#define MAX_RANKS (1 << 20)
#define MAX_RNG_WORDS ((int64_t)1 << 28)
#define MAX_ENV_BYTES ((size_t)1 << 32)
#define OPTIONS_LEN 16384

static int put_train_state(hid_t f, size_t n_params, const train_state *ts, h5io_err *e)
{
    hid_t g = H5Gcreate2(f, "train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return h5io_fail_call(e, "/train", "H5Gcreate2");
    h5io_put_i64(g, "update", ts->update, e);
    h5io_put_i64(g, "resumes", ts->resumes, e);
    h5io_put_i64(g, "ranks", ts->ranks, e);
    h5io_put_i64(g, "envs_per_rank", ts->envs_per_rank, e);
    h5io_put_i64(g, "adam_step", ts->adam_step, e);
    h5io_put_i64(g, "rng_per_rank", (int64_t)ts->rng_per_rank, e);
    int64_t wall_bits;
    memcpy(&wall_bits, &ts->wall_time, sizeof wall_bits); /* exact round trip */
    h5io_put_i64(g, "wall_time_bits", wall_bits, e);
    h5io_put_str(g, "options", ts->options, e);
    if (ts->env_state)
        h5io_put_array(g, "env_state", H5T_NATIVE_UINT8, (size_t)ts->ranks * ts->env_state_per_rank, ts->env_state, e);
    if (ts->has_return_stats) {
        const double r[3] = {ts->ret_count, ts->ret_mean, ts->ret_var};
        h5io_put_array(g, "return_stats", H5T_NATIVE_DOUBLE, 3, r, e);
    }
    h5io_put_array(g, "adam_m", H5T_NATIVE_FLOAT, n_params, ts->adam_m, e);
    h5io_put_array(g, "adam_v", H5T_NATIVE_FLOAT, n_params, ts->adam_v, e);
    h5io_put_array(g, "rng", H5T_NATIVE_UINT64, (size_t)ts->ranks * ts->rng_per_rank, ts->rng, e);
    H5Gclose(g);
    return e->failed ? -1 : 0;
}

/* A double stored bit for bit in an int64 attribute, finite and within [lo, hi]. */
static int get_f64_bits(hid_t obj, const char *name, double lo, double hi, double *v, h5io_err *e)
{
    int64_t bits;
    if (h5io_get_i64(obj, name, INT64_MIN, INT64_MAX, &bits, e))
        return -1;
    double x;
    memcpy(&x, &bits, sizeof x);
    if (!(isfinite(x) && x >= lo && x <= hi)) {
        char path[128] = "/", what[256];
        H5Iget_name(obj, path, sizeof path);
        snprintf(what, sizeof what, "attribute '%s' of %s", name, path);
        return h5io_fail(e, what, "%g is not a finite value in [%g, %g]", x, lo, hi);
    }
    *v = x;
    return 0;
}

/* The value an expectation asks for (exact) or the cap when it is not known. */
static size_t want_or(size_t want, size_t cap) { return want ? want : cap; }

/* /train's attributes (the counters, range-checked, and the options) into ts and options. */
static int get_train_attrs(hid_t g, const checkpoint_expect *want, train_state *ts, char *options, h5io_err *e)
{
    int64_t update, resumes, ranks, epr, step, rpr;
    h5io_get_i64(g, "update", 0, MAX_COUNTER, &update, e);
    h5io_get_i64(g, "resumes", 0, MAX_COUNTER, &resumes, e);
    h5io_get_i64(g, "ranks", 1, MAX_RANKS, &ranks, e);
    h5io_get_i64(g, "envs_per_rank", 1, INT32_MAX, &epr, e);
    h5io_get_i64(g, "adam_step", 0, INT64_MAX / 2, &step, e);
    h5io_get_i64(g, "rng_per_rank", 1, MAX_RNG_WORDS, &rpr, e);
    get_f64_bits(g, "wall_time_bits", 0.0, 1e12, &ts->wall_time, e);
    if (options)
        h5io_get_lines(g, "options", options, OPTIONS_LEN, e);
    if (!e->failed && want && want->ranks && ranks != want->ranks)
        h5io_fail(e, "attribute 'ranks' of /train",
                  "written by %lld ranks, this run has %d; resume it with mpirun -n %lld (the RNG and env state is "
                  "per rank)", (long long)ranks, want->ranks, (long long)ranks);
    if (!e->failed && want && want->rng_per_rank && (size_t)rpr != want->rng_per_rank)
        h5io_fail(e, "attribute 'rng_per_rank' of /train", "%lld RNG words per rank, this run has %zu",
                  (long long)rpr, want->rng_per_rank);
    if (!e->failed && ranks * rpr > MAX_RNG_WORDS)
        h5io_fail(e, "/train", "%lld ranks x %lld RNG words is too many", (long long)ranks, (long long)rpr);
    if (e->failed)
        return -1;
    ts->update = update;
    ts->resumes = resumes;
    ts->ranks = (int)ranks;
    ts->envs_per_rank = (int)epr;
    ts->adam_step = step;
    ts->rng_per_rank = (size_t)rpr;
    return 0;
}

static int get_train_state(hid_t f, size_t n_params, const checkpoint_expect *want, train_state *ts, h5io_err *e)
{
    memset(ts, 0, sizeof *ts);
    if (H5Lexists(f, "train", H5P_DEFAULT) <= 0)
        return 0;
    hid_t g = h5io_open_group(f, "train", e);
    if (g < 0)
        return -1;
    char *options = malloc(OPTIONS_LEN);
    if (!options)
        h5io_fail(e, "/train", "out of memory");
    get_train_attrs(g, want, ts, options, e);
    const int64_t ranks = ts->ranks;
    if (!e->failed) {
        ts->options = options;
        options = NULL;
        const size_t n_rng = (size_t)ranks * ts->rng_per_rank;
        if ((ts->adam_m = h5io_get_array(g, "adam_m", H5T_NATIVE_FLOAT, n_params, n_params, NULL, e)) &&
            !h5io_all_finite(ts->adam_m, n_params, sizeof(float)))
            h5io_fail(e, "/train/adam_m", "holds non-finite values");
        if ((ts->adam_v = h5io_get_array(g, "adam_v", H5T_NATIVE_FLOAT, n_params, n_params, NULL, e))) {
            for (size_t i = 0; i < n_params && !e->failed; i++)
                if (!(isfinite(ts->adam_v[i]) && ts->adam_v[i] >= 0.0f))
                    h5io_fail(e, "/train/adam_v", "holds negative or non-finite values");
        }
        ts->rng = h5io_get_array(g, "rng", H5T_NATIVE_UINT64, n_rng, n_rng, NULL, e);
    }
    if (!e->failed && H5Lexists(g, "env_state", H5P_DEFAULT) > 0) {
        const size_t per = want ? want->env_state_per_rank : 0;
        const size_t lo = per ? per * (size_t)ranks : 1, hi = per ? lo : MAX_ENV_BYTES;
        size_t len = 0;
        ts->env_state = h5io_get_array(g, "env_state", H5T_NATIVE_UINT8, lo, hi, &len, e);
        if (ts->env_state && len % (size_t)ranks)
            h5io_fail(e, "/train/env_state", "%zu bytes, not a multiple of %lld ranks", len, (long long)ranks);
        ts->env_state_per_rank = len / (size_t)ranks;
    }
    if (!e->failed && H5Lexists(g, "return_stats", H5P_DEFAULT) > 0) {
        double *r = h5io_get_array(g, "return_stats", H5T_NATIVE_DOUBLE, 3, 3, NULL, e);
        if (r && !(h5io_all_finite(r, 3, sizeof(double)) && r[0] >= 0 && r[2] >= 0))
            h5io_fail(e, "/train/return_stats", "not a finite count >= 0, mean and variance >= 0");
        else if (r) {
            ts->has_return_stats = true;
            ts->ret_count = r[0];
            ts->ret_mean = r[1];
            ts->ret_var = r[2];
        }
        free(r);
    }
    free(options);
    H5Gclose(g);
    ts->present = !e->failed;
    if (e->failed)
        train_state_free(ts);
    return e->failed ? -1 : 0;
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

/* Publishes the complete temporary file at path. A new path is claimed with link(), which fails when
 * the path exists, so two runs can never both create it; an existing file is replaced (rename) only
 * when it carries the same run id, or with CHECKPOINT_REPLACE_ANY. */
static int publish(const char *tmp, const char *path, checkpoint_mode mode, const char *run_id, char *err,
                   size_t err_len)
{
    if (mode == CHECKPOINT_REPLACE_ANY) {
        if (rename(tmp, path) == 0)
            return 0;
        snprintf(err, err_len, "cannot move checkpoint %s into place: %s", path, strerror(errno));
        return -1;
    }
    if (h5io_publish_new(tmp, path) == 0)
        return 0;
    if (errno != EEXIST) {
        snprintf(err, err_len, "cannot move checkpoint %s into place: %s", path, strerror(errno));
        return -1;
    }
    long long update;
    char theirs[CHECKPOINT_RUN_ID] = "", why[1024];
    const int peek = checkpoint_peek(path, &update, theirs, sizeof theirs, why, sizeof why);
    if (peek == 0 && !strcmp(theirs, run_id)) { /* this run's own file: replaced atomically */
        if (rename(tmp, path) == 0)
            return 0;
        snprintf(err, err_len, "cannot move checkpoint %s into place: %s", path, strerror(errno));
    } else if (peek == 0)
        snprintf(err, err_len, "checkpoint %s belongs to another run (run id %s, this run is %s); not replaced (use "
                 "another --save/--checkpoint, or --force)", path, theirs[0] ? theirs : "none", run_id);
    else
        snprintf(err, err_len, "checkpoint %s appeared meanwhile and is not this run's; not replaced", path);
    return -1;
}

/* Writes the in-memory file f to a new file at tmp with write() and fsync(): a full disk or an unwritable
 * directory is then our call's errno, not a failed H5Fclose (which leaves HDF5 1.10 a half-closed file
 * that crashes the process when the library shuts down at exit). */
static int write_image(hid_t f, const char *tmp, h5io_err *e)
{
    char what[2100];
    snprintf(what, sizeof what, "the temporary file %s", tmp);
    if (H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) /* the metadata HDF5 still caches, into the image */
        return h5io_fail_call(e, "the in-memory file", "H5Fflush");
    const ssize_t size = H5Fget_file_image(f, NULL, 0);
    if (size <= 0)
        return h5io_fail_call(e, "the in-memory file", "H5Fget_file_image");
    char *buf = malloc((size_t)size);
    if (!buf)
        return h5io_fail(e, what, "out of memory for %zd bytes", size);
    if (H5Fget_file_image(f, buf, (size_t)size) != size) {
        free(buf);
        return h5io_fail_call(e, "the in-memory file", "H5Fget_file_image");
    }
    const int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const char *call = "open";
    if (fd >= 0) {
        call = "write";
        ssize_t done = 0;
        while (done < size) {
            const ssize_t w = write(fd, buf + done, (size_t)(size - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            done += w;
        }
        if (done == size)
            call = fsync(fd) ? "fsync" : NULL;
        const int saved = errno;
        if (close(fd) && !call)
            call = "close";
        else
            errno = saved;
    }
    free(buf);
    if (call) {
        h5io_fail(e, what, "%s failed: %s", call, errno ? strerror(errno) : "short write");
        unlink(tmp);
        return -1;
    }
    return 0;
}

int checkpoint_save(const char *path, checkpoint_mode mode, const checkpoint *ck, const train_state *ts, char *err,
                    size_t err_len)
{
    char tmp[2048];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* no printing: the reasons go into err (h5io_cause) */
    h5io_err e = {0};
    /* built in memory (HDF5's core driver, no backing store), then written by write_image */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    hid_t f = fapl >= 0 && H5Pset_fapl_core(fapl, (size_t)1 << 20, 0) >= 0
                  ? H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)
                  : -1;
    if (f < 0)
        h5io_fail_call(&e, "an in-memory HDF5 file", fapl < 0 ? "H5Pcreate" : "H5Fcreate");
    if (fapl >= 0)
        H5Pclose(fapl);
    if (f < 0) {
        snprintf(err, err_len, "cannot create checkpoint %s: %s", path, e.msg);
        return -1;
    }
    h5io_put_str(f, "format", CHECKPOINT_FORMAT, &e);
    h5io_put_i64(f, "version", CHECKPOINT_VERSION, &e);
    h5io_put_str(f, "run_id", ck->run_id, &e);
    h5io_put_str(f, "env", ck->env, &e);
    h5io_put_str(f, "env_options", ck->env_options, &e);
    h5io_put_str(f, "net", ck->net[0] ? ck->net : "mlp", &e);
    h5io_put_str(f, "cnn", ck->cnn, &e);
    h5io_put_i64(f, "frame_stack", ck->frame_stack > 0 ? ck->frame_stack : 1, &e);
    h5io_put_i64(f, "grayscale", ck->grayscale, &e);
    h5io_put_i64(f, "resize", ck->resize > 0 ? ck->resize : 0, &e);
    h5io_put_i64(f, "frame_skip", ck->frame_skip > 0 ? ck->frame_skip : 1, &e);
    h5io_put_str(f, "hidden", ck->hidden, &e);
    h5io_put_str(f, "activation", ck->activation, &e);
    h5io_put_i64(f, "shared_trunk", ck->shared_trunk, &e);
    h5io_put_i64(f, "sde", ck->sde, &e);
    h5io_put_i64(f, "global_step", ck->global_step, &e);
    h5io_put_array(f, "params", H5T_NATIVE_FLOAT, ck->n_params, ck->params, &e);
    if (ck->obs_norm_dim > 0 && !e.failed) {
        hid_t g = H5Gcreate2(f, "obs_norm", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        int64_t count_bits, clip_bits;
        memcpy(&count_bits, &ck->obs_norm_count, 8);
        memcpy(&clip_bits, &ck->clip_obs, 8);
        if (g < 0)
            h5io_fail_call(&e, "/obs_norm", "H5Gcreate2");
        else {
            h5io_put_i64(g, "count_bits", count_bits, &e);
            h5io_put_i64(g, "clip_bits", clip_bits, &e);
            h5io_put_array(g, "mean", H5T_NATIVE_DOUBLE, (size_t)ck->obs_norm_dim, ck->obs_norm_mean, &e);
            h5io_put_array(g, "var", H5T_NATIVE_DOUBLE, (size_t)ck->obs_norm_dim, ck->obs_norm_var, &e);
            H5Gclose(g);
        }
    }
    if (ts && !e.failed)
        put_train_state(f, ck->n_params, ts, &e);
    if (!e.failed)
        write_image(f, tmp, &e);
    if (H5Fclose(f) < 0) /* in memory: nothing left to write */
        h5io_fail_call(&e, "the in-memory file", "H5Fclose");
    if (e.failed) {
        unlink(tmp);
        snprintf(err, err_len, "cannot write checkpoint %s: %s", path, e.msg);
        return -1;
    }
    if (publish(tmp, path, mode, ck->run_id, err, err_len)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Opens path read-only; -1 with err when it is missing or not HDF5. */
static hid_t open_checkpoint(const char *path, char *err, size_t err_len)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    char name[PATH_MAX + 32], why[256];
    const int fd = h5io_open_existing(path, name, sizeof name, why, sizeof why);
    if (fd < 0) {
        snprintf(err, err_len, "checkpoint %s: %s", path, why);
        return -1;
    }
    hid_t f = H5Fopen(name, H5F_ACC_RDONLY, H5P_DEFAULT);
    struct stat opened, now;
    /* a run still writing this path renames its next checkpoint over it: the file opened is gone */
    const bool replaced = f < 0 && fstat(fd, &opened) == 0 &&
                          (stat(path, &now) != 0 || now.st_ino != opened.st_ino || now.st_dev != opened.st_dev);
    close(fd);
    if (f < 0) {
        char cause[512];
        h5io_cause(cause, sizeof cause);
        if (replaced)
            snprintf(err, err_len, "checkpoint %s was replaced while it was being opened (is the run that writes it "
                     "still running, or still ending?); try again once it has ended", path);
        else
            snprintf(err, err_len, "checkpoint %s: not an HDF5 file, or corrupt (H5Fopen failed: %s)", path, cause);
    }
    return f;
}

/* format, version and run id: is this a checkpoint ppo can read? */
static int get_identity(hid_t f, const char *path, char *run_id, size_t run_id_len, char *err, size_t err_len,
                        h5io_err *e)
{
    char format[64] = {0};
    int64_t version = 0;
    h5io_err probe = {0};
    if (h5io_get_str(f, "format", format, sizeof format, &probe) || strcmp(format, CHECKPOINT_FORMAT)) {
        if (!probe.failed) /* e.g. a run log, format 'ppo-log' */
            h5io_fail(&probe, "attribute 'format' of /", "'%s', expected '%s'", format, CHECKPOINT_FORMAT);
        snprintf(err, err_len, "checkpoint %s: not a ppo policy checkpoint (%s)", path, probe.msg);
        return -1;
    }
    if (h5io_get_i64(f, "version", INT64_MIN, INT64_MAX, &version, e))
        return -1;
    if (version != CHECKPOINT_VERSION) {
        snprintf(err, err_len, "checkpoint %s: version %lld, this ppo reads version %d", path, (long long)version,
                 CHECKPOINT_VERSION);
        return -1;
    }
    run_id[0] = 0;
    if (h5io_has_attr(f, "run_id")) /* absent in files from before run ids */
        h5io_get_str(f, "run_id", run_id, run_id_len, e);
    return e->failed ? -1 : 0;
}

/* The attributes: env, network shape, step. */
static int get_header(hid_t f, checkpoint *ck, h5io_err *e)
{
    int64_t shared = 0, sde = 0, step = 0;
    h5io_get_str(f, "env", ck->env, sizeof ck->env, e);
    h5io_get_str(f, "env_options", ck->env_options, sizeof ck->env_options, e);
    /* the network kind: absent in files from before the conv policy, which are all MLPs */
    snprintf(ck->net, sizeof ck->net, "mlp");
    ck->cnn[0] = 0;
    ck->frame_stack = 1;
    if (h5io_has_attr(f, "net"))
        h5io_get_str(f, "net", ck->net, sizeof ck->net, e);
    if (h5io_has_attr(f, "cnn"))
        h5io_get_str(f, "cnn", ck->cnn, sizeof ck->cnn, e);
    if (h5io_has_attr(f, "frame_stack")) {
        int64_t k = 1;
        h5io_get_i64(f, "frame_stack", 1, 16, &k, e); /* --frame-stack's range */
        ck->frame_stack = (int)k;
    }
    ck->grayscale = false;
    if (h5io_has_attr(f, "grayscale")) {
        int64_t g = 0;
        h5io_get_i64(f, "grayscale", 0, 1, &g, e);
        ck->grayscale = g != 0;
    }
    ck->resize = 0;
    if (h5io_has_attr(f, "resize")) {
        int64_t r = 0;
        h5io_get_i64(f, "resize", 0, 256, &r, e); /* --resize's range (PIX_RESIZE_MAX_SIDE) */
        ck->resize = (int)r;
    }
    ck->frame_skip = 1;
    if (h5io_has_attr(f, "frame_skip")) {
        int64_t k = 1;
        h5io_get_i64(f, "frame_skip", 1, 16, &k, e); /* --frame-skip's range */
        ck->frame_skip = (int)k;
    }
    if (!e->failed && strcmp(ck->net, "mlp") && strcmp(ck->net, "cnn"))
        h5io_fail(e, "attribute 'net' of /", "'%s', expected mlp or cnn", ck->net);
    h5io_get_str(f, "hidden", ck->hidden, sizeof ck->hidden, e);
    h5io_get_str(f, "activation", ck->activation, sizeof ck->activation, e);
    h5io_get_i64(f, "shared_trunk", 0, 1, &shared, e);
    if (h5io_has_attr(f, "sde")) /* absent in older checkpoints: false */
        h5io_get_i64(f, "sde", 0, 1, &sde, e);
    h5io_get_i64(f, "global_step", 0, INT64_MAX / 2, &step, e);
    ck->shared_trunk = shared != 0;
    ck->sde = sde != 0;
    ck->global_step = step;
    return e->failed ? -1 : 0;
}

static int get_obs_norm(hid_t f, const checkpoint_expect *want, checkpoint *ck, h5io_err *e)
{
    hid_t g = h5io_open_group(f, "obs_norm", e);
    if (g < 0)
        return -1;
    const size_t lo = want && want->obs_dim ? (size_t)want->obs_dim : 1;
    const size_t hi = want && want->obs_dim ? lo : MAX_OBS_DIM;
    size_t dim = 0;
    get_f64_bits(g, "count_bits", 0.0, 1e300, &ck->obs_norm_count, e);
    get_f64_bits(g, "clip_bits", 1e-300, 1e300, &ck->clip_obs, e);
    if (!e->failed && (ck->obs_norm_mean = h5io_get_array(g, "mean", H5T_NATIVE_DOUBLE, lo, hi, &dim, e)) &&
        !h5io_all_finite(ck->obs_norm_mean, dim, sizeof(double)))
        h5io_fail(e, "/obs_norm/mean", "holds non-finite values");
    if (!e->failed && (ck->obs_norm_var = h5io_get_array(g, "var", H5T_NATIVE_DOUBLE, dim, dim, NULL, e)))
        for (size_t i = 0; i < dim && !e->failed; i++)
            if (!(isfinite(ck->obs_norm_var[i]) && ck->obs_norm_var[i] >= 0))
                h5io_fail(e, "/obs_norm/var", "holds negative or non-finite values");
    ck->obs_norm_dim = (int)dim;
    H5Gclose(g);
    return e->failed ? -1 : 0;
}

/* /train's attributes into ts (present when the file has /train; options allocated). */
static int get_train_header(hid_t f, train_state *ts, h5io_err *e)
{
    memset(ts, 0, sizeof *ts);
    if (H5Lexists(f, "train", H5P_DEFAULT) <= 0)
        return 0;
    char *options = malloc(OPTIONS_LEN);
    hid_t g = options ? h5io_open_group(f, "train", e) : -1;
    if (!options)
        h5io_fail(e, "/train", "out of memory");
    if (g >= 0) {
        get_train_attrs(g, NULL, ts, options, e);
        H5Gclose(g);
    }
    if (!e->failed && !(ts->options = strdup(options)))
        h5io_fail(e, "/train", "out of memory");
    free(options);
    ts->present = !e->failed;
    if (e->failed)
        train_state_free(ts);
    return e->failed ? -1 : 0;
}

int checkpoint_load_header(const char *path, checkpoint *ck, train_state *ts, char *err, size_t err_len)
{
    memset(ck, 0, sizeof *ck);
    if (ts)
        memset(ts, 0, sizeof *ts);
    hid_t f = open_checkpoint(path, err, err_len);
    if (f < 0)
        return -1;
    h5io_err e = {0};
    err[0] = 0;
    int rc = get_identity(f, path, ck->run_id, sizeof ck->run_id, err, err_len, &e);
    if (rc == 0)
        rc = get_header(f, ck, &e);
    if (rc == 0 && ts)
        rc = get_train_header(f, ts, &e);
    if (rc && e.failed)
        snprintf(err, err_len, "checkpoint %s: %s", path, e.msg);
    H5Fclose(f);
    return rc;
}

int checkpoint_load(const char *path, const checkpoint_expect *want, checkpoint *ck, train_state *ts, char *err,
                    size_t err_len)
{
    memset(ck, 0, sizeof *ck);
    if (ts)
        memset(ts, 0, sizeof *ts);
    hid_t f = open_checkpoint(path, err, err_len);
    if (f < 0)
        return -1;
    h5io_err e = {0};
    err[0] = 0;
    int rc = get_identity(f, path, ck->run_id, sizeof ck->run_id, err, err_len, &e);
    if (rc == 0)
        rc = get_header(f, ck, &e);
    if (rc == 0) {
        const size_t lo = want && want->n_params ? want->n_params : 1, hi = want_or(want ? want->n_params : 0, MAX_PARAMS);
        ck->params = h5io_get_array(f, "params", H5T_NATIVE_FLOAT, lo, hi, &ck->n_params, &e);
        if (ck->params && !h5io_all_finite(ck->params, ck->n_params, sizeof(float)))
            h5io_fail(&e, "/params", "holds non-finite values (NaN or Inf)");
        rc = e.failed ? -1 : 0;
    }
    if (rc == 0 && H5Lexists(f, "obs_norm", H5P_DEFAULT) > 0)
        rc = get_obs_norm(f, want, ck, &e);
    if (rc == 0 && ts)
        rc = get_train_state(f, ck->n_params, want, ts, &e);
    if (rc && e.failed)
        snprintf(err, err_len, "checkpoint %s: %s", path, e.msg);
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

int checkpoint_peek(const char *path, long long *update, char *run_id, size_t run_id_len, char *err, size_t err_len)
{
    *update = -1;
    if (access(path, F_OK) != 0)
        return 1;
    checkpoint ck; /* every attribute, so that a file --resume auto would pick is whole in that much */
    train_state ts;
    if (checkpoint_load_header(path, &ck, &ts, err, err_len))
        return -1;
    snprintf(run_id, run_id_len, "%s", ck.run_id);
    if (ts.present)
        *update = ts.update;
    train_state_free(&ts);
    return 0;
}
