/* run_files: where a run's files live and when they may be written. A run has three files — the log
 * (runs/ENV_sSEED_TIME.h5 by default), its training checkpoint (STEM.ckpt.h5) and its final policy
 * (STEM.policy.h5) — and, with --eval-every, a fourth, its best policy (STEM.best.policy.h5); and a
 * random run id written into each, so that no run replaces another's file unless --force says so.
 * Rank 0 only; errors are returned in err. */
#ifndef PPO_LOG_RUN_FILES_H
#define PPO_LOG_RUN_FILES_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *log, *save, *checkpoint;
    const char *best; /* STEM.best.policy.h5: removed with the previous run's files */
    bool writes_best; /* the run evaluates (--eval-every): best is checked as the other files are */
    bool moving_aside; /* --resume auto moves the previous run's log aside, and its best policy (see below) */
} run_paths;

/* Length of a log path without its ".h5": the stem the run's other files are named after. */
int run_files_stem_len(const char *log);

/* runs/ENV_sSEED_YYYYmmdd-HHMMSS.h5 (local time). */
void run_files_default_log(char *out, size_t len, const char *env, long long seed);

/* The log's stem + suffix (".policy.h5", ".ckpt.h5", ".best.policy.h5") into out; -1 when it does not fit. */
int run_files_beside(const char *log, const char *suffix, char *out, size_t len);

/* A new run's id: 128 random bits as 32 hex digits. */
void run_files_new_id(char *out, size_t len);

/* A new run, before anything is written: the paths are distinct files, the checkpoint and policies
 * do not exist unless force (resume_asked: the message says a checkpoint there cannot be resumed), the
 * log's directory is made when make_log_dir, and each file can be created. */
int run_files_check_new(const run_paths *p, bool force, bool resume_asked, bool make_log_dir, char *err,
                        size_t err_len);

/* A resume, before anything is written: the paths are distinct files, and without force none of the
 * checkpoint and policy paths holds another run's file (or an unreadable one) that the run would replace. */
int run_files_check_resume(const run_paths *p, bool force, const char *run_id, char *err, size_t err_len);

/* Whether the file at p->best is the best policy of the log's own run: a regular file, a readable ppo
 * checkpoint, with the log's run id. Only such a file moves aside with its log (moving_aside); any
 * other is left where it is, for run_files_check_new to refuse as before. */
bool run_files_best_is_the_logs(const run_paths *p);

/* --resume auto found a log but no checkpoint of it: the log moves to STEM.interrupted-TIME.h5 and, when
 * p->moving_aside, its best policy to STEM.interrupted-TIME.best.policy.h5 (never replacing a file; each
 * move is printed). -1 with err when one cannot be moved, or when another process still writes the log. */
int run_files_move_aside(const run_paths *p, char *err, size_t err_len);

/* A new run with --force: deletes the checkpoint, final and best policy of the run it replaces
 * (printing each). -1 with err when one exists and cannot be removed. */
int run_files_remove_previous(const run_paths *p, char *err, size_t err_len);

#endif
