/* h5io: attribute and 1-D dataset helpers over the HDF5 C API; the validated reads check before they read. */
#define _GNU_SOURCE /* F_OFD_SETLK, F_OFD_GETLK (Linux 3.15) */
#include "log/h5io.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "attribute 'name' of /group", for messages. */
static void attr_what(hid_t obj, const char *name, char *out, size_t len)
{
    char path[256] = "/";
    if (H5Iget_name(obj, path, sizeof path) <= 0)
        snprintf(path, sizeof path, "/");
    snprintf(out, len, "attribute '%.64s' of %s", name, path);
}

void h5io_link_name(hid_t loc, const char *name, char *out, size_t len)
{
    char path[256] = "/";
    if (H5Iget_name(loc, path, sizeof path) <= 0)
        snprintf(path, sizeof path, "/");
    snprintf(out, len, "%s%s%.64s", path, strcmp(path, "/") && name[0] ? "/" : "", name);
}

/* A scalar attribute of `type` holding *value. */
static int put_attr(hid_t obj, const char *name, hid_t type, const void *value, h5io_err *e)
{
    if (e->failed)
        return -1;
    char what[320]; /* named first: any HDF5 call after a failed one clears the reason */
    attr_what(obj, name, what, sizeof what);
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = s >= 0 ? H5Acreate2(obj, name, type, s, H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (a < 0)
        h5io_fail_call(e, what, s < 0 ? "H5Screate" : "H5Acreate2");
    else if (H5Awrite(a, type, value) < 0)
        h5io_fail_call(e, what, "H5Awrite");
    if (a >= 0)
        H5Aclose(a);
    if (s >= 0)
        H5Sclose(s);
    return e->failed ? -1 : 0;
}

int h5io_put_str(hid_t obj, const char *name, const char *value, h5io_err *e)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    const int rc = put_attr(obj, name, t, &value, e);
    H5Tclose(t);
    return rc;
}

int h5io_put_i64(hid_t obj, const char *name, int64_t v, h5io_err *e)
{
    return put_attr(obj, name, H5T_NATIVE_INT64, &v, e);
}

int h5io_put_f64(hid_t obj, const char *name, double v, h5io_err *e)
{
    return put_attr(obj, name, H5T_NATIVE_DOUBLE, &v, e);
}

int h5io_put_array(hid_t loc, const char *name, hid_t type, size_t n, const void *data, h5io_err *e)
{
    if (e->failed)
        return -1;
    char what[320]; /* named first: any HDF5 call after a failed one clears the reason */
    h5io_link_name(loc, name, what, sizeof what);
    hsize_t dims = n;
    hid_t s = H5Screate_simple(1, &dims, NULL);
    hid_t d = s >= 0 ? H5Dcreate2(loc, name, type, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (d < 0)
        h5io_fail_call(e, what, s < 0 ? "H5Screate_simple" : "H5Dcreate2");
    else if (H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        h5io_fail_call(e, what, "H5Dwrite");
    if (d >= 0)
        H5Dclose(d);
    if (s >= 0)
        H5Sclose(s);
    return e->failed ? -1 : 0;
}

/* The innermost entry of the error stack, copied as H5Ewalk2 goes from the API call downwards. */
typedef struct {
    char desc[384];
    hid_t minor;
    bool seen;
} stack_entry;

static herr_t keep_innermost(unsigned n, const H5E_error2_t *err, void *data)
{
    (void)n;
    stack_entry *s = data;
    snprintf(s->desc, sizeof s->desc, "%s", err->desc ? err->desc : "");
    s->minor = err->min_num;
    s->seen = true;
    return 0;
}

void h5io_cause(char *out, size_t len)
{
    stack_entry last = {.seen = false};
    if (H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, keep_innermost, &last) < 0 || !last.seen) {
        snprintf(out, len, "no reason recorded");
        return;
    }
    char minor[128] = "";
    if (H5Eget_msg(last.minor, NULL, minor, sizeof minor) < 0)
        minor[0] = 0;
    /* a failed read or write says "file write failed: time = ..., errno = 28, error message = '...', buf =
     * ...": keep what it failed to do and errno's text */
    const char *colon = strchr(last.desc, ':'), *en = strstr(last.desc, "errno = ");
    const char *msg = en ? strstr(en, "error message = '") : NULL, *end = msg ? strchr(msg + 17, '\'') : NULL;
    if (colon && end && colon < en)
        snprintf(out, len, "%.*s: %.*s%s%s%s", (int)(colon - last.desc), last.desc, (int)(end + 1 - en), en,
                 minor[0] ? " (" : "", minor, minor[0] ? ")" : "");
    else
        snprintf(out, len, "%s%s%s%s", last.desc, minor[0] ? " (" : "", minor, minor[0] ? ")" : "");
    for (char *c = out; *c; c++) /* one line */
        if ((unsigned char)*c < 0x20)
            *c = ' ';
}

/* A failed open: our reading of it (not a group, ...), then HDF5's reason. */
static int fail_open(h5io_err *e, const char *what, const char *reading, const char *call)
{
    char cause[512];
    h5io_cause(cause, sizeof cause);
    return h5io_fail(e, what, "%s (%s failed: %s)", reading, call, cause);
}

int h5io_fail_call(h5io_err *e, const char *what, const char *call)
{
    char cause[512];
    h5io_cause(cause, sizeof cause);
    return h5io_fail(e, what, "%s failed: %s", call, cause);
}

int h5io_publish_new(const char *tmp, const char *path)
{
    if (link(tmp, path) == 0) {
        unlink(tmp);
        return 0;
    }
    if (errno == EEXIST)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644); /* no hard links here: claim the name */
    if (fd < 0)
        return -1;
    close(fd);
    if (rename(tmp, path) == 0)
        return 0;
    const int saved = errno;
    unlink(path);
    errno = saved;
    return -1;
}

/* ---- validated reads ---- */

int h5io_fail(h5io_err *e, const char *what, const char *fmt, ...)
{
    if (e->failed)
        return -1;
    e->failed = true;
    char why[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(e->msg, sizeof e->msg, "%s: %s", what, why);
    return -1;
}

static const char *class_name(H5T_class_t c)
{
    switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "floating-point";
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum";
    case H5T_ARRAY: return "array-typed";
    case H5T_VLEN: return "variable-length";
    case H5T_REFERENCE: return "reference";
    default: return "unusual";
    }
}

bool h5io_has_attr(hid_t obj, const char *name) { return H5Aexists(obj, name) > 0; }

/* Checks that name is a hard link (its open, H5Gopen2 or H5Dopen2, then checks the object's kind). */
static int check_link(hid_t loc, const char *name, const char *what, h5io_err *e)
{
    H5L_info_t info;
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0)
        return h5io_fail(e, what, "missing");
    if (H5Lget_info(loc, name, &info, H5P_DEFAULT) < 0 || info.type != H5L_TYPE_HARD)
        return h5io_fail(e, what, "a soft or external link, not an object of this file");
    return 0;
}

hid_t h5io_open_group(hid_t loc, const char *name, h5io_err *e)
{
    char what[320];
    h5io_link_name(loc, name, what, sizeof what);
    if (e->failed || check_link(loc, name, what, e))
        return -1;
    hid_t g = H5Gopen2(loc, name, H5P_DEFAULT);
    if (g < 0)
        fail_open(e, what, "not a group, or corrupt", "H5Gopen2");
    return g;
}

/* Opens an attribute holding exactly one value; returns it with its file type, or -1 with e set. */
static hid_t open_scalar_attr(hid_t obj, const char *name, const char *what, hid_t *ftype, h5io_err *e)
{
    if (e->failed)
        return -1;
    if (H5Aexists(obj, name) <= 0) {
        h5io_fail(e, what, "missing");
        return -1;
    }
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) {
        fail_open(e, what, "cannot be opened (corrupt?)", "H5Aopen");
        return -1;
    }
    hid_t s = H5Aget_space(a);
    const H5S_class_t sc = s >= 0 ? H5Sget_simple_extent_type(s) : H5S_NO_CLASS;
    const hssize_t n = s >= 0 ? H5Sget_simple_extent_npoints(s) : -1;
    if (s >= 0)
        H5Sclose(s);
    *ftype = H5Aget_type(a);
    if (sc != H5S_SCALAR && !(sc == H5S_SIMPLE && n == 1)) {
        if (sc == H5S_SIMPLE)
            h5io_fail(e, what, "%lld values, expected one", (long long)n);
        else
            h5io_fail(e, what, "holds no value");
    } else if (*ftype < 0)
        h5io_fail(e, what, "unreadable type (corrupt?)");
    if (e->failed) {
        if (*ftype >= 0)
            H5Tclose(*ftype);
        H5Aclose(a);
        return -1;
    }
    return a;
}

/* Whether a string read from a file is printable text: no control characters (but newlines where
 * lines are allowed), so that a message quoting it stays one line. */
static bool is_text(const char *s, bool lines)
{
    for (; *s; s++)
        if (((unsigned char)*s < 0x20 && !(lines && *s == '\n')) || *s == 0x7f)
            return false;
    return true;
}

static int get_str(hid_t obj, const char *name, char *out, size_t len, bool lines, h5io_err *e)
{
    char what[320];
    attr_what(obj, name, what, sizeof what);
    hid_t ft;
    hid_t a = open_scalar_attr(obj, name, what, &ft, e);
    if (a < 0)
        return -1;
    if (H5Tget_class(ft) != H5T_STRING) {
        h5io_fail(e, what, "a %s value, expected a string", class_name(H5Tget_class(ft)));
    } else if (H5Tis_variable_str(ft) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(ft));
        char *v = NULL;
        if (H5Aread(a, mt, &v) < 0)
            h5io_fail_call(e, what, "H5Aread");
        else if (!v)
            h5io_fail(e, what, "unreadable (corrupt?)");
        else if (strlen(v) >= len)
            h5io_fail(e, what, "a string of %zu bytes, at most %zu expected", strlen(v), len - 1);
        else
            snprintf(out, len, "%s", v);
        if (v)
            H5free_memory(v);
        H5Tclose(mt);
    } else {
        const size_t size = H5Tget_size(ft); /* fixed length: may lack a NUL when full */
        if (size == 0 || size > 65536)
            h5io_fail(e, what, "a fixed-length string of %zu bytes", size);
        else {
            char *buf = calloc(1, size + 1);
            if (!buf)
                h5io_fail(e, what, "out of memory");
            else if (H5Aread(a, ft, buf) < 0)
                h5io_fail_call(e, what, "H5Aread");
            else if (strlen(buf) >= len)
                h5io_fail(e, what, "a string of %zu bytes, at most %zu expected", strlen(buf), len - 1);
            else
                snprintf(out, len, "%s", buf);
            free(buf);
        }
    }
    H5Tclose(ft);
    H5Aclose(a);
    if (!e->failed && !is_text(out, lines))
        h5io_fail(e, what, "holds control characters");
    return e->failed ? -1 : 0;
}

int h5io_get_str(hid_t obj, const char *name, char *out, size_t len, h5io_err *e)
{
    return get_str(obj, name, out, len, false, e);
}

int h5io_get_lines(hid_t obj, const char *name, char *out, size_t len, h5io_err *e)
{
    return get_str(obj, name, out, len, true, e);
}

int h5io_get_i64(hid_t obj, const char *name, int64_t lo, int64_t hi, int64_t *v, h5io_err *e)
{
    char what[320];
    attr_what(obj, name, what, sizeof what);
    hid_t ft;
    hid_t a = open_scalar_attr(obj, name, what, &ft, e);
    if (a < 0)
        return -1;
    int64_t x = 0;
    if (H5Tget_class(ft) != H5T_INTEGER)
        h5io_fail(e, what, "a %s value, expected an integer", class_name(H5Tget_class(ft)));
    else if (H5Tget_sign(ft) == H5T_SGN_NONE && H5Tget_size(ft) >= 8) {
        uint64_t u = 0; /* read unsigned so that a value above INT64_MAX is refused, not clipped */
        if (H5Aread(a, H5T_NATIVE_UINT64, &u) < 0)
            h5io_fail_call(e, what, "H5Aread");
        else if (u > (uint64_t)INT64_MAX)
            h5io_fail(e, what, "%llu is out of range [%lld, %lld]", (unsigned long long)u, (long long)lo, (long long)hi);
        x = (int64_t)u;
    } else if (H5Aread(a, H5T_NATIVE_INT64, &x) < 0)
        h5io_fail_call(e, what, "H5Aread");
    if (!e->failed && (x < lo || x > hi))
        h5io_fail(e, what, "%lld is out of range [%lld, %lld]", (long long)x, (long long)lo, (long long)hi);
    H5Tclose(ft);
    H5Aclose(a);
    if (e->failed)
        return -1;
    *v = x;
    return 0;
}

hid_t h5io_open_dataset(hid_t loc, const char *name, hid_t type, int rank, hsize_t n_min, hsize_t n_max,
                        bool extendible, hsize_t *dims, h5io_err *e)
{
    char what[320];
    h5io_link_name(loc, name, what, sizeof what);
    if (e->failed || check_link(loc, name, what, e))
        return -1;
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0) {
        fail_open(e, what, "not a dataset, or corrupt", "H5Dopen2");
        return -1;
    }
    hid_t ft = H5Dget_type(d), s = H5Dget_space(d), dcpl = H5Dget_create_plist(d);
    hsize_t maxdims[2] = {0, 0};
    const H5T_class_t want = H5Tget_class(type), got = ft >= 0 ? H5Tget_class(ft) : H5T_NO_CLASS;
    const int r = s >= 0 ? H5Sget_simple_extent_ndims(s) : -1;
    if (got != want)
        h5io_fail(e, what, "%s values, expected %s ones", class_name(got), class_name(want));
    else if (r != rank || H5Sget_simple_extent_type(s) != H5S_SIMPLE)
        h5io_fail(e, what, "of rank %d, expected %d", r, rank);
    else if (H5Sget_simple_extent_dims(s, dims, maxdims) < 0)
        h5io_fail(e, what, "unreadable shape (corrupt?)");
    else if (dims[0] < n_min || dims[0] > n_max) {
        if (n_min == n_max)
            h5io_fail(e, what, "%llu values, expected %llu", (unsigned long long)dims[0], (unsigned long long)n_min);
        else
            h5io_fail(e, what, "%llu values, expected %llu to %llu", (unsigned long long)dims[0],
                      (unsigned long long)n_min, (unsigned long long)n_max);
    } else if (extendible && (dcpl < 0 || H5Pget_layout(dcpl) != H5D_CHUNKED || maxdims[0] != H5S_UNLIMITED))
        h5io_fail(e, what, "not an extendible (chunked, unlimited) column");
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (ft >= 0)
        H5Tclose(ft);
    if (s >= 0)
        H5Sclose(s);
    if (e->failed) {
        H5Dclose(d);
        return -1;
    }
    return d;
}

void *h5io_get_array(hid_t loc, const char *name, hid_t type, size_t n_min, size_t n_max, size_t *len, h5io_err *e)
{
    const size_t elem = H5Tget_size(type);
    if (n_max > SIZE_MAX / (elem ? elem : 1)) /* a caller's bound that could not be allocated anyway */
        n_max = SIZE_MAX / (elem ? elem : 1);
    hsize_t dims[1] = {0};
    hid_t d = h5io_open_dataset(loc, name, type, 1, n_min, n_max, false, dims, e);
    if (d < 0)
        return NULL;
    char what[320]; /* named first: any HDF5 call after a failed one clears the reason */
    h5io_link_name(loc, name, what, sizeof what);
    void *buf = malloc((size_t)dims[0] * elem + 1);
    if (!buf || (dims[0] && H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)) {
        if (buf)
            h5io_fail_call(e, what, "H5Dread");
        else
            h5io_fail(e, what, "out of memory for %llu values", (unsigned long long)dims[0]);
        free(buf);
        buf = NULL;
    }
    H5Dclose(d);
    if (buf && len)
        *len = (size_t)dims[0];
    return buf;
}

bool h5io_all_finite(const void *data, size_t n, size_t elem)
{
    for (size_t i = 0; i < n; i++)
        if (!(elem == 4 ? isfinite(((const float *)data)[i]) : isfinite(((const double *)data)[i])))
            return false;
    return true;
}

int h5io_open_existing(const char *path, char *name, size_t name_len, char *why, size_t why_len)
{
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC); /* a FIFO: no wait for a writer */
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, why_len, "no such readable file (%s)", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, why_len, "not a regular file (%s)", S_ISDIR(st.st_mode) ? "a directory" : "a device, FIFO or socket");
        close(fd);
        return -1;
    }
    const int n = snprintf(name, name_len, "/proc/self/fd/%d", fd);
    if (n < 0 || (size_t)n >= name_len || access(name, F_OK) != 0)
        snprintf(name, name_len, "%s", path);
    return fd;
}

/* The locked byte: far past any data, so that no byte-range lock of a reader or of HDF5 meets it. */
static void writer_lock_range(struct flock *l, short type)
{
    memset(l, 0, sizeof *l);
    l->l_type = type;
    l->l_whence = SEEK_SET;
    l->l_start = (off_t)1 << 62;
    l->l_len = 1;
}

/* A descriptor open for writing on the regular file at name (never waiting on a FIFO), or -1. */
static int writable_regular(const char *name)
{
    struct stat st;
    if (stat(name, &st) != 0 || !S_ISREG(st.st_mode)) /* no device is ever opened, even for a moment */
        return -1;
    const int fd = open(name, O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        return -1;
    }
    return fd;
}

int h5io_lock_writer(const char *name)
{
    const int fd = writable_regular(name);
    if (fd < 0)
        return H5IO_LOCK_NONE;
    struct flock l;
    writer_lock_range(&l, F_WRLCK);
    if (fcntl(fd, F_OFD_SETLK, &l) == 0)
        return fd;
    const int held = errno == EAGAIN || errno == EACCES;
    close(fd);
    return held ? H5IO_LOCK_HELD : H5IO_LOCK_NONE;
}

bool h5io_writer_running(const char *path)
{
    const int fd = writable_regular(path);
    if (fd < 0)
        return false;
    struct flock l;
    writer_lock_range(&l, F_WRLCK);
    const bool running = fcntl(fd, F_OFD_GETLK, &l) == 0 && l.l_type != F_UNLCK;
    close(fd);
    return running;
}
