# shellcheck shell=bash
# jobs/common.sh: the part every jobs/*.sbatch script shares, sourced by them (not run on its own).
# It sets the job up (site hook, defaults, checks), builds the trainer's command (resume or a new
# log, mpirun or srun, threads), runs it with Slurm's signals passed on, and requeues the job after
# an early-warning USR1. Bash 4.2 safe: every possibly empty array expands as ${a[@]+"${a[@]}"}.
# See jobs/README.md.

# ppo_job_setup: the site hook first (it may `module load` the trainer onto PATH), then defaults.
ppo_job_setup() {
    if [ -n "${PPO_SITE_SETUP:-}" ]; then
        [ -r "$PPO_SITE_SETUP" ] || ppo_job_die "PPO_SITE_SETUP=$PPO_SITE_SETUP is not a readable file"
        echo "ppo-job: site set-up: sourcing $PPO_SITE_SETUP"
        # Site scripts (module, conda activate) read unset variables and test commands that fail.
        set +eu
        # shellcheck disable=SC1090
        . "$PPO_SITE_SETUP"
        local rc=$?
        set -eu
        [ $rc -eq 0 ] || ppo_job_die "PPO_SITE_SETUP=$PPO_SITE_SETUP failed (status $rc)"
    fi
    PPO_BIN=${PPO_BIN:-ppo}
    PPO_STEPS=${PPO_STEPS:-1000000}
    PPO_ARGS=${PPO_ARGS:-}                  # extra trainer options, split at spaces
    PPO_LAUNCHER=${PPO_LAUNCHER:-mpirun}    # mpirun | srun
    PPO_SRUN_MPI=${PPO_SRUN_MPI:-pmix}      # srun --mpi=...: pmix | pmi2 | ... | site (slurm.conf's MpiDefault)
    PPO_MPIRUN_ARGS=${PPO_MPIRUN_ARGS:-}    # e.g. --allow-run-as-root --oversubscribe
    PPO_RESUME=${PPO_RESUME:-yes}           # yes | no | detect  (see ppo_job_run)
    PPO_MAX_RESTARTS=${PPO_MAX_RESTARTS:-20}
    command -v "$PPO_BIN" >/dev/null 2>&1 ||
        ppo_job_die "no trainer '$PPO_BIN' (set PPO_BIN to its path, or put it on PATH in PPO_SITE_SETUP)"
    case $PPO_LAUNCHER in mpirun | srun) ;; *) ppo_job_die "PPO_LAUNCHER must be mpirun or srun, not '$PPO_LAUNCHER'" ;; esac
    case $PPO_SRUN_MPI in *[!A-Za-z0-9_]* | "") ppo_job_die "PPO_SRUN_MPI must be an srun --mpi type (pmix, pmi2, ...) or site, not '$PPO_SRUN_MPI'" ;; esac
    case $PPO_RESUME in detect | yes | no) ;; *) ppo_job_die "PPO_RESUME must be detect, yes or no, not '$PPO_RESUME'" ;; esac
}

ppo_job_die() { echo "ppo-job: error: $*" >&2; exit 2; }

# ppo_job_hdf5_locking DIR: HDF5 locks files it opens (flock). On network file systems that lock
# badly or not at all (NFS without lockd, Lustre mounted without flock) opening the log then fails or
# hangs, so there locking is turned off, unless the user set HDF5_USE_FILE_LOCKING.
ppo_job_hdf5_locking() {
    if [ -n "${HDF5_USE_FILE_LOCKING:-}" ]; then
        echo "ppo-job: HDF5_USE_FILE_LOCKING=$HDF5_USE_FILE_LOCKING (yours)"
        return 0
    fi
    local fs
    fs=$(stat -f -c %T "$1" 2>/dev/null || echo unknown)
    case $fs in
        nfs* | lustre | gpfs | beegfs | cifs | smb* | fuse* | ceph*)
            export HDF5_USE_FILE_LOCKING=FALSE
            echo "ppo-job: $1 is on $fs: HDF5_USE_FILE_LOCKING=FALSE" ;;
    esac
}

# ppo_job_run RUN_DIR RUN_NAME TRAINER-ARGS...: runs the trainer on the job's ranks with the log at
# RUN_DIR/RUN_NAME.h5, passes Slurm's signals on, requeues after USR1; exits with the job's status.
ppo_job_run() {
    local run_dir=$1 run_name=$2
    shift 2
    local restarts=${SLURM_RESTART_COUNT:-0}
    local cpus=${SLURM_CPUS_PER_TASK:-1}
    export OMP_NUM_THREADS=$cpus
    export SRUN_CPUS_PER_TASK=$cpus         # srun >= 22.05 no longer takes -c from the job

    # ==== RESUME: the one place that decides how a requeued job continues ====
    # The trainer resumes with `--resume auto` (latest checkpoint of the run at --log; a fresh start if
    # there is none). detect: pass it when `ppo --help` lists --resume; yes: always; no: never.
    local resume=$PPO_RESUME
    if [ "$resume" = detect ]; then
        if "$PPO_BIN" --help 2>/dev/null | grep -q -- '--resume'; then resume=yes; else resume=no; fi
    fi
    mkdir -p "$run_dir"
    local log=$run_dir/$run_name.h5
    local resume_args=()
    if [ "$resume" = yes ]; then
        resume_args=(--resume auto)
    else
        # No resume: a restarted job is a new run with a log of its own; never overwrite the old one.
        local n=0
        while [ -e "$log" ]; do n=$((n + 1)); log=$run_dir/$run_name.restart$n.h5; done
    fi
    # ==== end of RESUME ====
    ppo_job_hdf5_locking "$run_dir"

    local extra=() launch=()
    read -r -a extra <<<"$PPO_ARGS"
    case $PPO_LAUNCHER in
        mpirun)
            read -r -a launch <<<"mpirun $PPO_MPIRUN_ARGS -x OMP_NUM_THREADS"
            [ -z "${HDF5_USE_FILE_LOCKING:-}" ] || launch+=(-x HDF5_USE_FILE_LOCKING)
            # Give each rank its own cores when it runs several threads (mpirun knows Slurm's slots).
            if [ "$cpus" -gt 1 ]; then launch+=(--map-by "slot:PE=$cpus" --bind-to core); fi ;;
        srun)
            launch=(srun --cpus-per-task="$cpus")
            [ "$PPO_SRUN_MPI" = site ] || launch+=(--mpi="$PPO_SRUN_MPI") ;;
    esac
    local cmd=("${launch[@]}" "$PPO_BIN" "$@" --total-steps "$PPO_STEPS" --log "$log"
        ${resume_args[@]+"${resume_args[@]}"} ${extra[@]+"${extra[@]}"})
    echo "ppo-job: job ${SLURM_JOB_ID:-?} restart $restarts on $(hostname) (nodes ${SLURM_JOB_NODELIST:-?}; bash ${BASH_VERSION%%(*}) at $(date -Is); resume=$resume log=$log"
    echo "ppo-job: ${cmd[*]}"

    # The early warning (--signal=B:USR1@120) comes to this shell only; pass it on to mpirun or srun,
    # which forward SIGUSR1 to every rank, so the trainer checkpoints, flushes its log and exits. A
    # SIGTERM (preemption, scancel, time limit) reaches every process of the job, mpirun too, which then
    # kills the ranks after a few seconds; pass it on as SIGUSR1 as well to start the checkpoint at once.
    ppo_job_caught=""
    ppo_job_child=""
    trap 'ppo_job_on_signal USR1' USR1
    trap 'ppo_job_on_signal TERM' TERM
    "${cmd[@]}" &
    ppo_job_child=$!
    local status
    while :; do
        status=0
        wait "$ppo_job_child" || status=$?
        # A trapped signal interrupts wait (status > 128) while the trainer goes on: wait again.
        if [ "$status" -gt 128 ] && kill -0 "$ppo_job_child" 2>/dev/null; then continue; fi
        break
    done
    echo "ppo-job: trainer exited with status $status at $(date -Is)"

    # USR1 means "time is nearly up" (or a user's scancel --signal=USR1): continue in a new allocation.
    # Only with resume, else the rerun would start over and hit the same limit. SIGTERM (preemption,
    # scancel) is left to Slurm: a preempted job is requeued by Slurm, a cancelled one stays cancelled.
    if [ "$ppo_job_caught" = USR1 ] && [ "$resume" = yes ] && [ "$restarts" -lt "$PPO_MAX_RESTARTS" ]; then
        echo "ppo-job: requeueing job $SLURM_JOB_ID to resume from the checkpoint (restart $((restarts + 1)))"
        scontrol requeue "$SLURM_JOB_ID"
        exit 0
    fi
    exit "$status"
}

# shellcheck disable=SC2317  # run from the traps in ppo_job_run
ppo_job_on_signal() {
    ppo_job_caught=$1
    echo "ppo-job: SIG$1 at $(date -Is): asking the trainer to checkpoint and stop"
    if [ -n "$ppo_job_child" ]; then kill -USR1 "$ppo_job_child" 2>/dev/null || true; fi
}

# ---- sweeps: a grid of options, one array task per point ----
# A grid file has one axis per line, "NAME = VALUE VALUE ...", '#' starts a comment:
#     env  = CartPole-v1 Acrobot-v1
#     seed = 1 2 3
#     lr   = 3e-4 1e-3
# NAME is a trainer option without its dashes (env, seed, lr, envs-per-rank, ...). The points are
# all combinations, numbered with the last axis varying fastest: array index i is point i.

# ppo_grid_load FILE: reads the grid into ppo_grid_names (one per axis) and ppo_grid_values (the
# axis' values, space-separated), ppo_grid_count = the number of points. Exits 2 on a bad file.
ppo_grid_load() {
    [ -r "$1" ] || ppo_job_die "grid file $1 is not readable"
    ppo_grid_names=()
    ppo_grid_values=()
    ppo_grid_count=1
    local line name values n=0 vals=()
    while IFS= read -r line || [ -n "$line" ]; do
        n=$((n + 1))
        line=${line%%#*}
        [ -n "${line//[[:space:]]/}" ] || continue
        case $line in *=*) ;; *) ppo_job_die "$1 line $n: expected 'NAME = VALUE ...', got '$line'" ;; esac
        name=${line%%=*}
        name=${name//[[:space:]]/}
        values=${line#*=}
        read -r -a vals <<<"$values"
        case $name in "" | *[!A-Za-z0-9_-]*) ppo_job_die "$1 line $n: bad option name '$name'" ;; esac
        [ ${#vals[@]} -gt 0 ] || ppo_job_die "$1 line $n: no values for '$name'"
        ppo_grid_names+=("$name")
        ppo_grid_values+=("${vals[*]}")
        ppo_grid_count=$((ppo_grid_count * ${#vals[@]}))
    done <"$1"
    [ ${#ppo_grid_names[@]} -gt 0 ] || ppo_job_die "grid file $1 has no axes"
}

# ppo_grid_point I: the options of point I: ppo_grid_args (--name value ...) and ppo_grid_label
# (name=value,... of the axes with more than one value).
ppo_grid_point() {
    local i=$1 a vals=() k name
    ppo_grid_args=()
    ppo_grid_label=""
    for ((a = ${#ppo_grid_names[@]} - 1; a >= 0; a--)); do
        read -r -a vals <<<"${ppo_grid_values[$a]}"
        k=$((i % ${#vals[@]}))
        i=$((i / ${#vals[@]}))
        name=${ppo_grid_names[$a]//_/-}
        ppo_grid_args=("--$name" "${vals[$k]}" ${ppo_grid_args[@]+"${ppo_grid_args[@]}"})
        if [ ${#vals[@]} -gt 1 ]; then ppo_grid_label="$name=${vals[$k]}${ppo_grid_label:+,}$ppo_grid_label"; fi
    done
}

# ppo_grid_init: the sweep's grid from the file PPO_GRID, else from PPO_ENVS x PPO_SEEDS
# (PPO_ENV / PPO_SEED alone give a one-value axis).
ppo_grid_init() {
    if [ -n "${PPO_GRID:-}" ]; then
        ppo_grid_load "$PPO_GRID"
    else
        local envs=() seeds=()
        read -r -a envs <<<"${PPO_ENVS:-${PPO_ENV:-CartPole-v1 Acrobot-v1}}"
        read -r -a seeds <<<"${PPO_SEEDS:-${PPO_SEED:-1 2 3}}"
        [ ${#envs[@]} -gt 0 ] && [ ${#seeds[@]} -gt 0 ] || ppo_job_die "PPO_ENVS and PPO_SEEDS must not be empty"
        ppo_grid_names=(env seed)
        ppo_grid_values=("${envs[*]}" "${seeds[*]}")
        ppo_grid_count=$((${#envs[@]} * ${#seeds[@]}))
    fi
}

# ppo_grid_save FILE: the grid as a grid file (every task writes the same; atomically, by rename).
ppo_grid_save() {
    local a tmp=$1.tmp.$$
    for a in "${!ppo_grid_names[@]}"; do echo "${ppo_grid_names[$a]} = ${ppo_grid_values[$a]}"; done >"$tmp"
    mv -f "$tmp" "$1"
}
