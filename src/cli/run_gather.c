/* run_gather: per-update gathers to rank 0. */
#include "cli/run_gather.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int run_gather_init(run_gather *g, const par_layout *par, long long steps_per_update)
{
    *g = (run_gather){0};
    if (par->rank != 0)
        return 0;
    g->all = malloc(sizeof(episode_record) * (size_t)steps_per_update);
    g->rows = malloc(sizeof(log_episode) * (size_t)steps_per_update);
    g->counts = malloc(sizeof(int) * (size_t)par->size);
    g->displs = malloc(sizeof(int) * (size_t)par->size);
    return g->all && g->rows && g->counts && g->displs ? 0 : -1;
}

void run_gather_free(run_gather *g)
{
    free(g->all);
    free(g->rows);
    free(g->counts);
    free(g->displs);
    *g = (run_gather){0};
}

void run_gather_episodes(run_gather *g, const trainer *tr, const par_layout *par, const update_stats *st,
                         log_metrics *m)
{
    const episode_record *eps;
    const int n_eps = trainer_episodes(tr, &eps);
    MPI_Gather(&n_eps, 1, MPI_INT, g->counts, 1, MPI_INT, 0, par->comm);
    int *bytes = g->counts; /* rank 0: counts in episodes, then in bytes for the Gatherv */
    g->total = 0;
    if (par->rank == 0)
        for (int r = 0; r < par->size; r++) {
            g->displs[r] = g->total * (int)sizeof(episode_record);
            g->total += g->counts[r];
            bytes[r] = g->counts[r] * (int)sizeof(episode_record);
        }
    MPI_Gatherv(eps, n_eps * (int)sizeof(episode_record), MPI_BYTE, g->all, bytes, g->displs, MPI_BYTE, 0, par->comm);
    if (par->rank != 0)
        return;
    m->episodes = g->total;
    m->return_mean = m->return_min = m->return_max = m->length_mean = NAN;
    if (g->total == 0)
        return;
    double s = 0, ls = 0, lo = INFINITY, hi = -INFINITY;
    for (int r = 0, k = 0; r < par->size; r++)
        for (int j = 0; j < bytes[r] / (int)sizeof(episode_record); j++, k++) {
            const episode_record *e = &g->all[k];
            s += e->ret;
            ls += e->length;
            lo = fmin(lo, e->ret);
            hi = fmax(hi, e->ret);
            g->rows[k] = (log_episode){st->global_step, st->update, r, e->env_index, e->length, e->ret, e->terminated};
        }
    m->return_mean = s / g->total;
    m->return_min = lo;
    m->return_max = hi;
    m->length_mean = ls / g->total;
}

traj_layout run_traj_layout(const ppo_env_spec *spec)
{
    traj_layout tl = {spec->obs_dim, spec->action_dim, spec->render_dim, 0, 0, 0};
    if (spec->obs_kind == PPO_OBS_IMAGE) {
        tl.frame_height = spec->obs_height;
        tl.frame_width = spec->obs_width;
        tl.frame_channels = spec->obs_channels;
    }
    return tl;
}

int run_gather_trajectories(const trainer *tr, const par_layout *par, h5log *log, long long update, char *err,
                            size_t err_len)
{
    const float *rows;
    const traj_record *recs;
    const int n_eps = trainer_trajectories(tr, &rows, &recs);
    const ppo_env_spec *spec = trainer_spec(tr);
    const traj_layout tl = run_traj_layout(spec);
    const int W = traj_row_width(&tl);
    const uint8_t *frames = trainer_trajectory_frames(tr); /* image envs: (n_rows, H, W, C) bytes */
    MPI_Datatype frame_type = MPI_BYTE; /* one frame, so that the counts stay ints */
    if (frames && (MPI_Type_contiguous((int)traj_frame_bytes(&tl), MPI_BYTE, &frame_type) != MPI_SUCCESS ||
                   MPI_Type_commit(&frame_type) != MPI_SUCCESS))
        MPI_Abort(par->comm, 1);
    int n_rows = 0;
    for (int e = 0; e < n_eps; e++)
        n_rows += recs[e].length;
    int mine[2] = {n_eps, n_rows};
    int *counts = par->rank == 0 ? malloc(sizeof(int) * 2 * (size_t)par->size) : NULL;
    MPI_Gather(mine, 2, MPI_INT, counts, 2, MPI_INT, 0, par->comm);
    int *rc_eps = NULL, *dp_eps = NULL, *rc_rows = NULL, *dp_rows = NULL;
    traj_record *all_recs = NULL;
    float *all_rows = NULL;
    uint8_t *all_frames = NULL;
    long long tot_eps = 0, tot_rows = 0;
    if (par->rank == 0) {
        rc_eps = malloc(sizeof(int) * (size_t)par->size);
        dp_eps = malloc(sizeof(int) * (size_t)par->size);
        rc_rows = malloc(sizeof(int) * (size_t)par->size);
        dp_rows = malloc(sizeof(int) * (size_t)par->size);
        for (int r = 0; r < par->size; r++) {
            dp_eps[r] = (int)(tot_eps * (long long)sizeof(traj_record));
            rc_eps[r] = counts[2 * r] * (int)sizeof(traj_record);
            dp_rows[r] = (int)(tot_rows * W);
            rc_rows[r] = counts[2 * r + 1] * W;
            tot_eps += counts[2 * r];
            tot_rows += counts[2 * r + 1];
        }
        all_recs = malloc(sizeof(traj_record) * (size_t)(tot_eps ? tot_eps : 1));
        all_rows = malloc(sizeof(float) * (size_t)(tot_rows ? tot_rows : 1) * (size_t)W);
        if (frames)
            all_frames = malloc((size_t)(tot_rows ? tot_rows : 1) * traj_frame_bytes(&tl));
    }
    MPI_Gatherv(recs, n_eps * (int)sizeof(traj_record), MPI_BYTE, all_recs, rc_eps, dp_eps, MPI_BYTE, 0, par->comm);
    MPI_Gatherv(rows, n_rows * W, MPI_FLOAT, all_rows, rc_rows, dp_rows, MPI_FLOAT, 0, par->comm);
    if (frames) { /* counts in frames: the row displacements without the row width */
        for (int r = 0; par->rank == 0 && r < par->size; r++) {
            rc_rows[r] = counts[2 * r + 1];
            dp_rows[r] = r ? dp_rows[r - 1] + rc_rows[r - 1] : 0;
        }
        MPI_Gatherv(frames, n_rows, frame_type, all_frames, rc_rows, dp_rows, frame_type, 0, par->comm);
        MPI_Type_free(&frame_type);
    }
    int rc = 0;
    if (par->rank == 0 && tot_eps > 0) {
        traj_episode *eps = malloc(sizeof(traj_episode) * (size_t)tot_eps);
        for (int r = 0, k = 0; r < par->size; r++)
            for (int j = 0; j < counts[2 * r]; j++, k++)
                eps[k] = (traj_episode){update, r, all_recs[k].env_index, all_recs[k].length,
                                        (int64_t)all_recs[k].seed, all_recs[k].ret};
        if (frames && !all_frames) {
            snprintf(err, err_len, "out of memory for %lld recorded frames", tot_rows);
            rc = -1;
        } else
            rc = h5log_append_trajectories(log, all_rows, all_frames, eps, (int)tot_eps, err, err_len);
        free(eps);
    }
    free(counts);
    free(rc_eps);
    free(dp_eps);
    free(rc_rows);
    free(dp_rows);
    free(all_recs);
    free(all_rows);
    free(all_frames);
    return rc;
}

void run_gather_phase_times(phase_clock *clk, const par_layout *par, double mean[PHASE_COUNT], double max[PHASE_COUNT])
{
    MPI_Reduce(clk->sec, mean, PHASE_COUNT, MPI_DOUBLE, MPI_SUM, 0, par->comm);
    MPI_Reduce(clk->sec, max, PHASE_COUNT, MPI_DOUBLE, MPI_MAX, 0, par->comm);
    for (int p = 0; p < PHASE_COUNT; p++) {
        mean[p] /= par->size;
        clk->sec[p] = 0.0;
    }
}
