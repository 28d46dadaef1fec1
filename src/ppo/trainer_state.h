/* trainer_state: a trainer's whole state to and from a training checkpoint (log/checkpoint.h) — the
 * parameters, Adam's moments and step, the normalisers, every rank's RNG words and env states, and the
 * run's options — so that a resumed run continues the same computation. Collective over the ranks. */
#ifndef PPO_PPO_TRAINER_STATE_H
#define PPO_PPO_TRAINER_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "log/checkpoint.h"
#include "ppo/trainer.h"

/* What a checkpoint says about the run beyond the trainer itself. */
typedef struct {
    char run_id[CHECKPOINT_RUN_ID];
    long long update;  /* updates completed */
    long long resumes; /* times the run was resumed, this one included when loaded */
    double wall;       /* training seconds so far */
    bool exact_envs;   /* loaded: the envs continue their episodes (else they restart) */
} trainer_state_info;

/* Gathers every rank's RNG words and env states on rank 0, which writes path atomically; replace_any
 * allows replacing a file of another run (else only this run's own). refuse (rank 0; NULL: none) makes
 * rank 0 write nothing and return it as the error. The result is the same on every rank. */
int trainer_state_save(trainer *tr, const par_layout *par, const ppo_config *cfg, const char *path,
                       const trainer_state_info *info, bool replace_any, const char *refuse, char *err,
                       size_t err_len);

/* Every rank loads path and puts the trainer in its state. The options are compared first (from the
 * attributes alone); the arrays are then read against the sizes this run needs, so a crafted file never
 * costs more than the real state would. info->resumes counts this resume. The same result on every rank. */
int trainer_state_load(trainer *tr, const par_layout *par, const ppo_config *cfg, const char *path,
                       trainer_state_info *info, char *err, size_t err_len);

#endif
