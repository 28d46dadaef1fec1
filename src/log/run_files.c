/* run_files: a run's file names, its id, and the checks before its files are written. */
#include "log/run_files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log/checkpoint.h"
#include "log/h5io.h"
#include "log/h5log.h"

int run_files_stem_len(const char *log)
{
    const size_t n = strlen(log);
    return (int)(n > 3 && !strcmp(log + n - 3, ".h5") ? n - 3 : n);
}

void run_files_default_log(char *out, size_t len, const char *env, long long seed)
{
    char stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
    snprintf(out, len, "runs/%s_s%lld_%s.h5", env, seed, stamp);
}

int run_files_beside(const char *log, const char *suffix, char *out, size_t len)
{
    const int n = snprintf(out, len, "%.*s%s", run_files_stem_len(log), log, suffix);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

void run_files_new_id(char *out, size_t len)
{
    unsigned char b[16] = {0};
    FILE *f = fopen("/dev/urandom", "rb");
    const bool got = f && fread(b, 1, sizeof b, f) == sizeof b;
    if (f)
        fclose(f);
    if (!got) { /* no /dev/urandom: the time, the pid and a counter, mixed */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
        for (int i = 0; i < 16; i++) {
            x = (x ^ (x >> 31)) * 0x9e3779b97f4a7c15ULL + (uint64_t)i;
            b[i] = (unsigned char)(x >> 56);
        }
    }
    size_t n = 0;
    for (int i = 0; i < 16 && n + 3 <= len; i++)
        n += (size_t)snprintf(out + n, len - n, "%02x", b[i]);
}

static int mkdir_parent(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    *slash = 0;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Can a file be created at path? Tried with a probe beside it (removed again), so an unwritable path is
 * refused before anything is written, not after training. */
static bool can_create(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return false; /* a directory cannot be replaced by the file, nor may --force replace a device */
    if (stat(path, &st) != 0 && lstat(path, &st) == 0)
        return false; /* a link to nowhere: the new file would fail to take its place */
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s.probe%d", path, (int)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return false;
    close(fd);
    unlink(probe);
    return true;
}

static const char *why_not(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return lstat(path, &st) == 0 ? "it is a symbolic link to a file that does not exist: remove the link"
                                     : "is the directory writable?";
    return S_ISDIR(st.st_mode) ? "it is a directory" : "it is not a regular file: a device, FIFO or socket";
}

/* path with its directory resolved (symlinks, "..", "./"), for a file that may not exist yet; -1 when
 * the directory does not exist. */
static int resolve_path(const char *path, char *out, size_t out_len)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX], real[PATH_MAX];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    if (!realpath(dir, real))
        return -1;
    int n = snprintf(out, out_len, "%s/%s", real, slash ? slash + 1 : path);
    return n < 0 || (size_t)n >= out_len ? -1 : 0;
}

/* Whether two paths name one file: the same inode when both exist, else the same resolved path (so
 * --log a.h5 --save ./a.h5 is caught, not only identical strings). */
static bool same_file(const char *a, const char *b)
{
    if (!strcmp(a, b))
        return true;
    struct stat sa, sb;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    char ra[PATH_MAX], rb[PATH_MAX];
    return resolve_path(a, ra, sizeof ra) == 0 && resolve_path(b, rb, sizeof rb) == 0 && !strcmp(ra, rb);
}

static int check_distinct(const run_paths *p, char *err, size_t err_len)
{
    const bool b = p->writes_best;
    const char *twice = same_file(p->log, p->save) || same_file(p->log, p->checkpoint) ? p->log
                        : same_file(p->save, p->checkpoint)                               ? p->save
                        : b && (same_file(p->best, p->save) || same_file(p->best, p->checkpoint)) ? p->best
                                                                                          : NULL;
    if (!twice)
        return 0;
    snprintf(err, err_len, "--log, --save, --checkpoint%s must be different files, but two are %s",
             b ? " and the best policy (LOG stem + .best.policy.h5)" : "", twice);
    return -1;
}

int run_files_check_new(const run_paths *p, bool force, bool resume_asked, bool make_log_dir, char *err,
                        size_t err_len)
{
    if (check_distinct(p, err, err_len))
        return -1;
    if (!force && access(p->save, F_OK) == 0)
        snprintf(err, err_len, "checkpoint %s already exists (use --force to overwrite, or --save)", p->save);
    else if (!force && p->writes_best && !p->moving_aside && access(p->best, F_OK) == 0)
        snprintf(err, err_len, "checkpoint %s already exists (use --force to overwrite, or another --log)", p->best);
    else if (!force && access(p->checkpoint, F_OK) == 0)
        snprintf(err, err_len, resume_asked ? "checkpoint %s exists but cannot be resumed from (corrupt?); "
                                              "move it away, or use --force"
                                            : "checkpoint %s already exists (continue it with --resume auto, "
                                              "or use --force)",
                 p->checkpoint);
    else if (make_log_dir && mkdir_parent(p->log))
        snprintf(err, err_len, "cannot create the directory for log %s", p->log);
    else if (!can_create(p->log))
        snprintf(err, err_len, "cannot create log %s (%s)", p->log, why_not(p->log));
    else if (!can_create(p->save))
        snprintf(err, err_len, "cannot create checkpoint %s (%s)", p->save, why_not(p->save));
    else if (!can_create(p->checkpoint))
        snprintf(err, err_len, "cannot create checkpoint %s (%s)", p->checkpoint, why_not(p->checkpoint));
    else if (p->writes_best && !can_create(p->best))
        snprintf(err, err_len, "cannot create checkpoint %s (%s)", p->best, why_not(p->best));
    else
        return 0;
    return -1;
}

int run_files_check_resume(const run_paths *p, bool force, const char *run_id, char *err, size_t err_len)
{
    if (check_distinct(p, err, err_len))
        return -1;
    const char *files[4] = {p->log, p->checkpoint, p->save, p->best};
    for (int i = 0; i < (p->writes_best ? 4 : 3); i++) {
        struct stat st;
        if (stat(files[i], &st) == 0 && !S_ISREG(st.st_mode)) {
            snprintf(err, err_len, "%s %s: %s, which a run never replaces", i == 0 ? "log" : "checkpoint", files[i],
                     why_not(files[i]));
            return -1;
        }
    }
    if (force)
        return 0;
    const char *paths[3] = {p->checkpoint, p->save, p->best};
    for (int i = 0; i < (p->writes_best ? 3 : 2); i++) {
        long long update;
        char theirs[CHECKPOINT_RUN_ID], why[1024];
        const int peek = checkpoint_peek(paths[i], &update, theirs, sizeof theirs, why, sizeof why);
        if (peek < 0) {
            snprintf(err, err_len, "%s; this run would replace it: move it away, or use --force", why);
            return -1;
        }
        if (peek == 0 && strcmp(theirs, run_id)) {
            snprintf(err, err_len, "checkpoint %s belongs to another run (run id %s, this run is %s); move it away, "
                     "or use --force", paths[i], theirs[0] ? theirs : "(none)", run_id[0] ? run_id : "(none)");
            return -1;
        }
    }
    return 0;
}

bool run_files_best_is_the_logs(const run_paths *p)
{
    struct stat st;
    char best_id[CHECKPOINT_RUN_ID], log_id[CHECKPOINT_RUN_ID];
    long long update;
    char why[256];
    return lstat(p->best, &st) == 0 && S_ISREG(st.st_mode) &&
           checkpoint_peek(p->best, &update, best_id, sizeof best_id, why, sizeof why) == 0 &&
           h5log_peek_run_id(p->log, log_id, sizeof log_id) == 0 && strcmp(best_id, log_id) == 0;
}

int run_files_move_aside(const run_paths *p, char *err, size_t err_len)
{
    char aside[PATH_MAX + 64], best_aside[PATH_MAX + 64], stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
    const int stem = run_files_stem_len(p->log);
    snprintf(aside, sizeof aside, "%.*s.interrupted-%s.h5", stem, p->log, stamp);
    snprintf(best_aside, sizeof best_aside, "%.*s.interrupted-%s.best.policy.h5", stem, p->log, stamp);
    if (h5io_writer_running(p->log)) { /* a run without checkpoints, still running: its log is not left over */
        snprintf(err, err_len, "log %s is being written by another process (a run still running or still ending); "
                 "start this run once that has ended, or give another --log", p->log);
        return -1;
    }
    /* the best policy goes with its log, so the new run neither overwrites it nor is refused for it;
     * h5io_publish_new never replaces a file at the new name (link(), or an O_EXCL claim) */
    const bool best = p->moving_aside && access(p->best, F_OK) == 0;
    if ((best && access(best_aside, F_OK) == 0) || h5io_publish_new(p->log, aside) != 0) {
        snprintf(err, err_len, "log %s has no checkpoint to resume from, and it cannot be moved to %s", p->log, aside);
        return -1;
    }
    printf("ppo: %s has no checkpoint to resume from; it was moved to %s and a new run starts\n", p->log, aside);
    if (best && h5io_publish_new(p->best, best_aside) != 0) {
        snprintf(err, err_len, "cannot move %s (the interrupted run's best policy) to %s: %s", p->best, best_aside,
                 strerror(errno));
        return -1;
    }
    if (best)
        printf("ppo: its best policy %s was moved to %s\n", p->best, best_aside);
    return 0;
}

int run_files_remove_previous(const run_paths *p, char *err, size_t err_len)
{
    const char *paths[3] = {p->checkpoint, p->save, p->best};
    for (int i = 0; i < 3; i++) {
        if (unlink(paths[i]) == 0)
            printf("ppo: removed %s of the previous run (--force)\n", paths[i]);
        else if (errno != ENOENT) {
            snprintf(err, err_len, "cannot remove %s of the previous run: %s", paths[i], strerror(errno));
            return -1;
        }
    }
    return 0;
}
