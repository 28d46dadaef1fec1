/* test_h5_errors: HDF5 failures provoked for real keep their cause. A file-size limit (RLIMIT_FSIZE,
 * with SIGXFSZ ignored, so write() fails with EFBIG as on a full disk) makes a checkpoint and a log
 * append fail, and a checkpoint cut in half fails to open; each error must be one line naming the file,
 * the object or call that failed, and the reason (errno's text, or HDF5's own from its error stack), a
 * failed checkpoint must leave no file behind, and the process must end normally (HDF5 1.10 crashed at
 * exit after a failed H5Fclose, which is why checkpoints are now built in memory and written by us).
 * And a file replaced by a FIFO after ppo checked it: HDF5's open returns (the checked file, or an
 * error) instead of waiting for a writer, and the FIFO itself is refused. */
#include <hdf5.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "log/checkpoint.h"
#include "log/h5io.h"
#include "log/h5log.h"

static void set_file_limit(rlim_t bytes)
{
    struct rlimit rl;
    getrlimit(RLIMIT_FSIZE, &rl);
    rl.rlim_cur = bytes;
    CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0, "setrlimit");
}

static bool exists(const char *path) { return access(path, F_OK) == 0; }

/* A policy checkpoint of n parameters. */
static checkpoint make_ck(size_t n, float *params)
{
    checkpoint ck = {0};
    snprintf(ck.env, sizeof ck.env, "CartPole-v1");
    snprintf(ck.hidden, sizeof ck.hidden, "64,64");
    snprintf(ck.activation, sizeof ck.activation, "tanh");
    snprintf(ck.run_id, sizeof ck.run_id, "0123456789abcdef0123456789abcdef");
    ck.n_params = n;
    ck.params = params;
    return ck;
}

int main(void)
{
    char dir[] = "/tmp/ppo_h5errXXXXXX";
    if (!mkdtemp(dir))
        return 1;
    signal(SIGXFSZ, SIG_IGN); /* a write past the limit then fails with EFBIG instead of killing us */
    const struct rlimit none = {RLIM_INFINITY, RLIM_INFINITY};
    char path[256], err[1024];

    /* 1. a checkpoint too big for the limit: the failing write, its object and errno's text */
    const size_t n = 1 << 20; /* 4 MiB of parameters */
    float *params = calloc(n, sizeof *params);
    checkpoint ck = make_ck(n, params);
    snprintf(path, sizeof path, "%s/big.policy.h5", dir);
    set_file_limit(1 << 20);
    err[0] = 0;
    int rc = checkpoint_save(path, CHECKPOINT_REPLACE_OWN, &ck, NULL, err, sizeof err);
    setrlimit(RLIMIT_FSIZE, &none);
    printf("checkpoint over the limit: %s\n", err);
    CHECK(rc == -1 && strstr(err, "cannot write checkpoint") && strstr(err, path) && strstr(err, "failed: ") &&
              strstr(err, "File too large") && !strchr(err, '\n'),
          "checkpoint error: %s", err);
    CHECK(strstr(err, "the temporary file") && strstr(err, "write failed: File too large"), "names the call: %s", err);
    CHECK(!exists(path), "a failed checkpoint left %s", path);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
    CHECK(!exists(tmp), "a failed checkpoint left its temporary file");

    /* 2. the same checkpoint, whole, then cut in half: opening it says why */
    rc = checkpoint_save(path, CHECKPOINT_REPLACE_OWN, &ck, NULL, err, sizeof err);
    CHECK(rc == 0, "checkpoint without a limit: %s", err);
    struct stat st;
    stat(path, &st);
    CHECK(truncate(path, st.st_size / 2) == 0, "truncate");
    checkpoint back;
    rc = checkpoint_load(path, NULL, &back, NULL, err, sizeof err);
    printf("checkpoint cut in half: %s\n", err);
    CHECK(rc == -1 && strstr(err, path) && strstr(err, "H5Fopen failed: ") && !strstr(err, "no reason recorded") &&
              !strchr(err, '\n'),
          "truncated checkpoint: %s", err);
    free(params);

    /* 3. a log that reaches the limit while appending: the column or the flush, and errno's text */
    ppo_config cfg;
    config_defaults(&cfg);
    const log_context ctx = {.ranks = 1, .threads_per_rank = 1, .hostnames = "h", .version = "test", .cpu_isa = "x",
                             .start_time = "now", .obs_dim = 4, .action_dim = 1, .action_count = 2,
                             .action_kind = "discrete", .global_batch = 256, .run_id = ck.run_id};
    snprintf(path, sizeof path, "%s/run.h5", dir);
    h5log *log = h5log_create(path, false, &cfg, &ctx, NULL, err, sizeof err);
    CHECK(log != NULL, "h5log_create: %s", err);
    if (log) {
        stat(path, &st);
        set_file_limit((rlim_t)st.st_size + (1 << 20)); /* some updates fit, then one does not */
        log_episode eps[256] = {{0}};
        rc = 0;
        int updates = 0;
        for (; rc == 0 && updates < 10000; updates++) {
            log_metrics m = {.update = updates + 1};
            rc = h5log_append_metrics(log, &m, err, sizeof err);
            if (rc == 0)
                rc = h5log_append_episodes(log, eps, 256, err, sizeof err);
            if (rc == 0)
                rc = h5log_flush(log, err, sizeof err);
        }
        setrlimit(RLIMIT_FSIZE, &none);
        printf("log over the limit after %d updates: %s\n", updates, err);
        CHECK(rc == -1 && strstr(err, path) && strstr(err, "failed: ") && strstr(err, "File too large") &&
                  !strchr(err, '\n'),
              "log error: %s", err);
        CHECK(strstr(err, "H5Dwrite failed") || strstr(err, "H5Dset_extent failed") || strstr(err, "H5Fflush failed"),
              "names the call: %s", err);
        h5log_close(log);
    }
    /* 4. checked, then the path replaced by a FIFO (HDF5 opens by name: the FIFO would block it forever) */
    float small[8] = {0};
    checkpoint ck2 = make_ck(8, small);
    snprintf(path, sizeof path, "%s/swapped.policy.h5", dir);
    CHECK(checkpoint_save(path, CHECKPOINT_REPLACE_OWN, &ck2, NULL, err, sizeof err) == 0, "checkpoint: %s", err);
    char name[PATH_MAX + 32], why[256], fifo[300];
    const int fd = h5io_open_existing(path, name, sizeof name, why, sizeof why);
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    CHECK(fd >= 0 && mkfifo(fifo, 0600) == 0 && rename(fifo, path) == 0, "setting up the swap: %s", why);
    if (fd >= 0) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        alarm(30); /* a blocked open ends the test here (SIGALRM) instead of hanging it */
        const hid_t f = H5Fopen(name, H5F_ACC_RDONLY, H5P_DEFAULT);
        alarm(0);
        /* HDF5 1.10 opens the checked file through the descriptor, then resolves its real path, which
         * fails for a file that was unlinked (replaced): an error, not a wait; either way not the FIFO */
        CHECK(f < 0 || H5Aexists(f, "env") > 0, "HDF5 opened something else through %s", name);
        printf("a file swapped for a FIFO after its check: H5Fopen of %s returned %s\n", name,
               f >= 0 ? "the checked file" : "an error (the checked file is gone)");
        if (f >= 0)
            H5Fclose(f);
        close(fd);
    }
    CHECK(h5io_open_existing(path, name, sizeof name, why, sizeof why) < 0 && strstr(why, "not a regular file"),
          "the FIFO itself: %s", why);
    printf("the FIFO itself: %s\n", why);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return CHECK_DONE();
}
