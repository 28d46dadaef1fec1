/* checkpoint: a trained policy on disk (HDF5): the network's flat parameters plus what is needed to
 * rebuild the network and its env. Written to a temporary file and renamed, so a crash never leaves a
 * half-written checkpoint in place. (Full training state for resume is a later schema.) */
#ifndef PPO_LOG_CHECKPOINT_H
#define PPO_LOG_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>

#define CHECKPOINT_STR 256

typedef struct {
    char env[CHECKPOINT_STR];
    char env_options[CHECKPOINT_STR];
    char hidden[64];
    char activation[16];
    bool shared_trunk;
    long long global_step;
    size_t n_params;
    float *params; /* (n_params,) owned after checkpoint_load */
} checkpoint;

int checkpoint_save(const char *path, bool force, const checkpoint *ck, char *err, size_t err_len);
/* Reads and checks a checkpoint; -1 with a one-line reason when missing, corrupt or not ours. */
int checkpoint_load(const char *path, checkpoint *ck, char *err, size_t err_len);
void checkpoint_free(checkpoint *ck);

#endif
