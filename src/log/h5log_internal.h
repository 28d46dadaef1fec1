/* The log's insides, shared by h5log.c (creating and writing a log, and eval's recordings) and
 * h5log_resume.c (measuring an existing log and reopening it for a resumed run); other modules use
 * log/h5log.h. */
#ifndef PPO_LOG_H5LOG_INTERNAL_H
#define PPO_LOG_H5LOG_INTERNAL_H

#include <hdf5.h>
#include <stdbool.h>
#include <sys/types.h>

#include "log/h5io.h"
#include "log/h5log.h"

typedef enum { COL_I64, COL_F64, COL_U8 } col_type;

typedef struct {
    const char *name;
    col_type type;
    size_t offset;
    bool added; /* float64, added to the schema later: a log without it is resumed with NaN in its kept rows */
} column;

extern const column h5log_metric_cols[];
extern const column h5log_episode_cols[];
extern const column h5log_eval_cols[];
extern const column h5log_eval_episode_cols[];
extern const int h5log_n_eval_cols;
extern const int h5log_n_eval_episode_cols;
extern const int h5log_n_metric_cols;
extern const int h5log_n_episode_cols;
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


/* /trajectories: step datasets (2-D where a row has several values) and the episode index. */
enum { TR_OBS, TR_ACTIONS, TR_REWARDS, TR_LOGPROBS, TR_VALUES, TR_TERMINATED, TR_TRUNCATED, TR_RENDER, TR_COUNT };
extern const char *const h5log_traj_names[TR_COUNT];
typedef struct { /* one /trajectories/index row as written */
    int64_t episode_id, offset, length, rank, env_index, update, seed;
    double ret;
} traj_index_row;
extern const column h5log_traj_index_cols[];
extern const int h5log_n_traj_index_cols;

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

/* Records which file the log is (through HDF5's own descriptor, not the path, which may change). */
void h5log_remember_file(h5log *log);
/* A column type's HDF5 memory type. */
hid_t h5log_native(col_type t);
/* A column's dataset in group g: 1-D, extendible, chunked, rows long; a float64 column's unwritten rows
 * read as NaN (a column added to an older log on resume). */
hid_t h5log_column_create(hid_t g, const column *col, hsize_t rows);
bool h5log_traj_image(const traj_layout *l);
/* A step dataset's values per row in the packed rows (an image env's obs: none, its frames come apart). */
int h5log_traj_width(const traj_layout *l, int k);
/* An image env's /trajectories/obs: (rows, H, W, C) bytes. */
void h5log_traj_frame_dims(const traj_layout *l, hsize_t rows, hsize_t dims[4]);
/* Creates /eval and /eval_episodes. */
int h5log_eval_create(eval_tables *ev, hid_t file, h5io_err *e);
/* Sets a dataset's extent, recording the failure with the dataset's name. */
int h5log_set_extent(hid_t d, const hsize_t *size, h5io_err *e);

#endif
