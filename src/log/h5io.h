/* h5io: small HDF5 helpers shared by the run log and the checkpoints: scalar attributes (UTF-8
 * strings, int64, float64) and whole 1-D datasets.
 *
 * The readers are the one validated-read layer for files ppo did not just write (a checkpoint to
 * resume or evaluate, a log to resume into): each checks the object's kind, rank, size and type
 * class, and the value's range, BEFORE anything is allocated or copied, and reports the first
 * failure in an h5io_err as "what: why" naming the object. None prints. */
#ifndef PPO_LOG_H5IO_H
#define PPO_LOG_H5IO_H

#include <hdf5.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct h5io_err h5io_err;

/* Writers: a scalar attribute (UTF-8 string, int64, float64) or a fixed-size 1-D dataset of n elements
 * of `type`. Each records its failure in e as "<object>: <HDF5 call> failed: <HDF5's reason>" and does
 * nothing once e holds a failure, so a sequence of writes is checked once, at its end. */
int h5io_put_str(hid_t obj, const char *name, const char *value, h5io_err *e);
int h5io_put_i64(hid_t obj, const char *name, int64_t v, h5io_err *e);
int h5io_put_f64(hid_t obj, const char *name, double v, h5io_err *e);
int h5io_put_array(hid_t loc, const char *name, hid_t type, size_t n, const void *data, h5io_err *e);

/* Publishes a complete file written under the temporary name tmp at path, which must not exist:
 * link() (or an O_EXCL claim where hard links are not supported) fails when it does, so two writers
 * can never both create path. 0, or -1 with errno (EEXIST: path exists); tmp is left for the caller. */
int h5io_publish_new(const char *tmp, const char *path);

/* An existing file about to be opened by HDF5, which opens by name and would wait forever on a FIFO
 * put there: opens path (non-blocking), checks on the open file that it is a regular file, and writes
 * to name the name HDF5 should open, /proc/self/fd/N: that very file even if path is replaced before
 * HDF5 opens it (HDF5 1.10 then fails to resolve the unlinked file's real path: an error, not a wait);
 * path itself where /proc is missing. Returns the descriptor, to close once HDF5 has opened the file;
 * -1 with why ("no such readable file ...", "not a regular file ...") otherwise. */
int h5io_open_existing(const char *path, char *name, size_t name_len, char *why, size_t why_len);

/* A log's writer marks the file as its own for as long as it runs: an open-file-description lock
 * (F_OFD_SETLK) on one byte far past any data. HDF5's own flock() does not see it (so readers of a
 * running log are unaffected); it belongs to the descriptor, not to the process (HDF5 closing its own
 * descriptors does not drop it), and it ends with the process however the process ends (SIGKILL
 * included). h5io_lock_writer takes it on the file name names: returns the descriptor holding it,
 * H5IO_LOCK_HELD where another process holds it, H5IO_LOCK_NONE where it cannot be taken (the file
 * is not writable, or its file system has no such locks: the run goes on unguarded).
 * h5io_writer_running says whether another process holds it on path. */
enum { H5IO_LOCK_HELD = -1, H5IO_LOCK_NONE = -2 };
int h5io_lock_writer(const char *name);
bool h5io_writer_running(const char *path);

/* The first failure of a sequence of reads or writes; once set, later calls fail without touching
 * the file. */
struct h5io_err {
    bool failed;
    char msg[768]; /* e.g. "attribute 'update' of /train: 1000 values, expected one" */
};

/* Records a failure about `what` (printf-style reason) unless one is recorded already; returns -1. */
int h5io_fail(h5io_err *e, const char *what, const char *fmt, ...);
/* Records that the HDF5 call `call` on `what` failed, with HDF5's own reason from its current error
 * stack (so call it right after the failing call, before any other HDF5 call clears the stack). */
int h5io_fail_call(h5io_err *e, const char *what, const char *call);
/* One line from HDF5's current error stack: the innermost reason, e.g. "file write failed: ...,
 * errno = 28, error message = 'No space left on device' ...", or "no reason recorded". */
void h5io_cause(char *out, size_t len);
/* "/group/name" of a link in loc, for messages ("" names loc itself). */
void h5io_link_name(hid_t loc, const char *name, char *out, size_t len);

/* A scalar string attribute (variable or fixed length) that fits in len bytes with its NUL and holds
 * no control characters (so that an error message quoting it stays one line); _lines allows '\n'. */
int h5io_get_str(hid_t obj, const char *name, char *out, size_t len, h5io_err *e);
int h5io_get_lines(hid_t obj, const char *name, char *out, size_t len, h5io_err *e);
/* A scalar integer attribute within [lo, hi]. */
int h5io_get_i64(hid_t obj, const char *name, int64_t lo, int64_t hi, int64_t *v, h5io_err *e);
/* Whether obj has the attribute (false on error). */
bool h5io_has_attr(hid_t obj, const char *name);
/* Opens a group reached by a hard link (a soft or external link, which could lead anywhere, is
 * refused here and by h5io_open_dataset); -1 (e set) when absent or not a group. */
hid_t h5io_open_group(hid_t loc, const char *name, h5io_err *e);
/* Opens a dataset reached by a hard link and checks it before any read: its type class (of the
 * memory type `type`), its rank, and dims[0] in [n_min, n_max]. dims receives the extent (rank
 * values); with extendible, the first dimension must be chunked and unlimited (a log column).
 * Returns the dataset, or -1 with e set. */
hid_t h5io_open_dataset(hid_t loc, const char *name, hid_t type, int rank, hsize_t n_min, hsize_t n_max,
                        bool extendible, hsize_t *dims, h5io_err *e);
/* Reads a checked 1-D dataset of n elements in [n_min, n_max] into a new malloc'ed buffer of
 * H5Tget_size(type)-byte elements; *len receives n. NULL with e set on any failure. n_max bounds the
 * allocation, so callers pass what they expect (n_min == n_max for an exact size). */
void *h5io_get_array(hid_t loc, const char *name, hid_t type, size_t n_min, size_t n_max, size_t *len, h5io_err *e);
/* Whether every value of a float (elem 4) or double (elem 8) array is finite. */
bool h5io_all_finite(const void *data, size_t n, size_t elem);

#endif
