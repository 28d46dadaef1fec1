/* h5io: small HDF5 helpers shared by the run log and the checkpoints: scalar attributes (UTF-8
 * strings, int64, float64) and whole 1-D datasets. Each returns 0 or -1; none prints. */
#ifndef PPO_LOG_H5IO_H
#define PPO_LOG_H5IO_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

int h5io_put_str(hid_t obj, const char *name, const char *value);
int h5io_put_i64(hid_t obj, const char *name, int64_t v);
int h5io_put_f64(hid_t obj, const char *name, double v);
int h5io_get_str(hid_t obj, const char *name, char *out, size_t len);
int h5io_get_i64(hid_t obj, const char *name, int64_t *v);
/* A fixed-size 1-D dataset of n elements of `type` from data. */
int h5io_put_array(hid_t loc, const char *name, hid_t type, size_t n, const void *data);
/* Reads a 1-D dataset of exactly n elements (n == 0: any length, returned in *len) into a new
 * malloc'ed buffer of elem-byte elements; NULL when absent, of another shape, or unreadable. */
void *h5io_get_array(hid_t loc, const char *name, hid_t type, size_t elem, size_t n, size_t *len);

#endif
