"""Reading and validating ppo HDF5 logs (docs/log-schema.md, schema version 1).

Everything the plots need from one log is loaded into a `RunLog` (config, metrics, episodes and the
trajectory index; the per-step trajectory arrays are read on demand, one episode at a time).

Two situations the schema allows are handled here, once, for all subcommands:

* a log that is still being written: the file is opened with ``swmr=True`` (falling back to a plain
  read-only open for files not written in SWMR mode) and without HDF5 file locking; the per-update
  columns are cut to their common length, so a half-appended update is ignored;
* a log of an interrupted-and-resumed run: rows a crashed segment wrote past the checkpoint the run
  resumed from are superseded by the resumed segment's rows (see `_supersede`), and a wall clock
  that restarts from zero in the resumed segment is made cumulative.
"""

import ctypes
import os

import numpy as np

try:
    import h5py
except ImportError as exc:  # the `python3` on some PATHs has no h5py; Debian's /usr/bin/python3 has
    raise SystemExit("ppo-analyze: error: h5py is not available to %s (use /usr/bin/python3 with "
                     "Debian's python3-h5py)" % os.sys.executable) from exc

SCHEMA_VERSION = 1
FORMAT_NAME = "ppo-log"

# Exit codes (documented in analysis/README.md). 2 is argparse's usage error.
EXIT_USAGE = 2
EXIT_NO_FILE = 3
EXIT_NOT_PPO_LOG = 4
EXIT_SCHEMA_VERSION = 5
EXIT_MISSING_DATA = 6


class AnalysisError(Exception):
    """An error reported to the user as one line, with a distinct exit code."""
    exit_code = 1


class UsageError(AnalysisError):
    """Bad usage found only once the logs are open (a --group-by key no log has, a --still frame
    the GIF lacks): exit 2, like argparse's."""
    exit_code = EXIT_USAGE


class FileMissing(AnalysisError):
    exit_code = EXIT_NO_FILE


class NotPpoLog(AnalysisError):
    exit_code = EXIT_NOT_PPO_LOG


class SchemaVersionError(AnalysisError):
    exit_code = EXIT_SCHEMA_VERSION


class MissingData(AnalysisError):
    exit_code = EXIT_MISSING_DATA


MAX_DISCRETE_ACTIONS = 4096  # far above any Gymnasium env's; bounds the heatmap's rows

TRAJECTORY_HINT = ("no /trajectories in this log: run the trainer with --log-trajectories N "
                   "to record episodes")

METRIC_COLUMNS = ("update", "global_step", "wall_time", "steps_per_second", "episodes",
                  "return_mean", "return_min", "return_max", "length_mean", "policy_loss",
                  "value_loss", "entropy", "approx_kl", "clip_fraction", "explained_variance",
                  "grad_norm", "learning_rate", "epochs", "return_recent")
# Phases of an update (src/runtime/phase_clock.h): /metrics/time_<phase> (mean over ranks) and
# time_<phase>_max (the slowest rank), seconds; logs from before 2026-12-01 have none.
PHASES = ("env", "infer", "gae", "grad", "comm", "optim", "log")
METRIC_COLUMNS += tuple("time_" + p for p in PHASES) + tuple("time_%s_max" % p for p in PHASES)
# Largest episode return a log may hold (the trainer's resume check, src/log/h5log_resume.c): far beyond any
# Gymnasium env's, small enough that means over many episodes stay finite.
MAX_EPISODE_RETURN = 1e12
EPISODE_COLUMNS = ("global_step", "update", "rank", "env_index", "return", "length", "terminated")
# /eval (--eval-every): one row per evaluation during training
EVAL_COLUMNS = ("update", "global_step", "wall_time", "seconds", "episodes", "return_mean", "return_std",
                "return_min", "return_max", "length_mean", "new_best")
EVAL_FINITE = ("return_mean", "return_std", "return_min", "return_max", "length_mean")
INDEX_COLUMNS = ("episode_id", "offset", "length", "rank", "env_index", "update", "seed", "return")
STEP_COLUMNS = ("obs", "actions", "rewards", "logprobs", "values", "terminated", "truncated",
                "render")


def _text(value):
    """An attribute as Python str/int/float (h5py gives bytes for fixed-length strings)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        if value.shape == ():
            return _text(value[()])
        if value.size == 1:
            return _text(value.reshape(-1)[0])
        return value.tolist()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


# An SWMR reader retries a metadata read that fails its checksum (the writer may be mid-write), by
# default 100 times with a sleep that doubles each time: on a damaged object, hours (HDF5 1.10). 24
# attempts sleep ~17 ms in all, ample for a live writer's flush. h5py has no setter for it, so it is set
# through the HDF5 library h5py itself loaded.
SWMR_READ_ATTEMPTS = 24


def _hdf5_library():
    with open("/proc/self/maps") as maps:
        paths = sorted({ln.split()[-1] for ln in maps if "/libhdf5" in ln and "_hl" not in ln and ".so" in ln})
    return ctypes.CDLL(paths[0]) if paths else None


def _open_swmr(path):
    """An SWMR read-only open with SWMR_READ_ATTEMPTS metadata read attempts, without the file lock;
    ValueError where the HDF5 library cannot be reached (then the plain h5py opens are tried)."""
    lib = _hdf5_library()
    if lib is None:
        raise ValueError("the HDF5 library h5py uses was not found")
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_fclose_degree(h5py.h5f.CLOSE_STRONG)
    fapl.set_file_locking(False, True)
    if lib.H5Pset_metadata_read_attempts(ctypes.c_int64(fapl.id), ctypes.c_uint(SWMR_READ_ATTEMPTS)) < 0:
        raise ValueError("H5Pset_metadata_read_attempts failed")
    fid = h5py.h5f.open(os.fsencode(path), h5py.h5f.ACC_RDONLY | h5py.h5f.ACC_SWMR_READ, fapl=fapl)
    return h5py.File(fid)


def open_h5(path):
    """Opens `path` read-only for a possibly live log; raises the documented errors."""
    if not os.path.exists(path):
        raise FileMissing("%s: no such file" % path)
    if os.path.isdir(path):
        raise FileMissing("%s: is a directory, not a log file" % path)
    if not os.access(path, os.R_OK):
        raise FileMissing("%s: not readable (permission denied)" % path)
    try:
        is_hdf5 = h5py.is_hdf5(path)
    except OSError:
        is_hdf5 = False
    if not is_hdf5:
        raise NotPpoLog("%s: not a ppo log (not an HDF5 file)" % path)
    last = None
    # A plain read first: a log being written (or whose writer was killed) is marked open for SWMR
    # writing, which a plain open refuses at once; then an SWMR read. Never take the HDF5 file lock,
    # which would fail while the trainer holds the file.
    for kwargs in ({"locking": False}, "swmr", {"swmr": True, "locking": False}, {"swmr": True}, {}):
        try:
            return _open_swmr(path) if kwargs == "swmr" else h5py.File(path, "r", **kwargs)
        except (OSError, TypeError, ValueError) as exc:
            last = exc
    raise NotPpoLog("%s: not a ppo log (HDF5 file cannot be opened: %s)"
                    % (path, str(last).splitlines()[0] if last else "unknown error"))


def check_header(f, path):
    """Validates the root attributes; returns the schema version."""
    fmt = _text(f.attrs.get("format")) if "format" in f.attrs else None
    if fmt != FORMAT_NAME:
        raise NotPpoLog('%s: not a ppo log (root attribute format is %s, expected "%s")'
                        % (path, "missing" if fmt is None else repr(fmt), FORMAT_NAME))
    if "schema_version" not in f.attrs:
        raise NotPpoLog("%s: not a valid ppo log (root attribute schema_version missing)" % path)
    version = _text(f.attrs["schema_version"])
    try:
        version_int = int(version)
        if version_int != version:
            raise ValueError
    except (TypeError, ValueError):
        raise NotPpoLog("%s: not a valid ppo log (schema_version %r is not an integer)"
                        % (path, version)) from None
    if version_int < SCHEMA_VERSION:
        raise SchemaVersionError(
            "%s: log schema version %d is older than the version %d these tools read; "
            "re-run with a current trainer or use an older ppo-analyze" % (path, version_int,
                                                                          SCHEMA_VERSION))
    if version_int > SCHEMA_VERSION:
        raise SchemaVersionError(
            "%s: log schema version %d is newer than the version %d these tools read; "
            "update analysis/ to the trainer's version" % (path, version_int, SCHEMA_VERSION))
    return version_int


# A dataset's extent may claim at most what its file storage can hold: raw bytes for uncompressed data,
# DEFLATE's largest ratio (1032:1, zlib's technical notes) for compressed, plus 1 MiB of slack. A crafted
# extent (2^40 rows and nothing stored) is refused before anything is allocated for it.
MAX_DEFLATE_RATIO = 1100
EXTENT_SLACK_BYTES = 1 << 20


def _check_extent(ds, path):
    logical = int(np.prod(ds.shape, dtype=np.float64)) * ds.dtype.itemsize if ds.shape else ds.dtype.itemsize
    try:
        stored = ds.id.get_storage_size()
    except Exception:
        stored = 0
    ratio = MAX_DEFLATE_RATIO if ds.compression else 1
    if logical > stored * ratio + EXTENT_SLACK_BYTES:
        raise NotPpoLog("%s: not a valid ppo log (%s claims shape %s, %d bytes, but the file stores %d bytes of it: "
                        "a damaged extent)" % (path, ds.name, ds.shape, logical, stored))


def _read_dataset(ds, path):
    try:
        ds.refresh()  # SWMR: see the writer's latest flushed extent
    except Exception:  # not opened in SWMR mode, or an HDF5 without refresh
        pass
    _check_extent(ds, path)  # after the refresh: the extent about to be read
    return ds[()]


def _numeric(ds, path, ndim=(1,)):
    """Checks that dataset `ds` holds plain numbers (bool, integer or float) in one of the allowed
    ranks before it is read; raises NotPpoLog naming it and what it holds instead."""
    if not isinstance(ds, h5py.Dataset):
        raise NotPpoLog("%s: not a valid ppo log (%s is a group, expected a dataset)" % (path, ds.name))
    if ds.dtype.kind not in "biuf" or ds.ndim not in ndim:
        raise NotPpoLog("%s: not a valid ppo log (%s holds %s of shape %s, expected a %s numeric array)"
                        % (path, ds.name, ds.dtype, ds.shape, " or ".join("%d-D" % n for n in ndim)))
    _check_extent(ds, path)


# counters and indices: int64 in the schema, never negative (checked by _index_column)
INTEGER_COLUMNS = {"update", "global_step", "episodes", "epochs", "rank", "env_index", "length",
                   "episode_id", "offset"}


def _read_columns(group, names, path):
    """Reads the 1-D numeric datasets of `group` present among `names`; cuts them to a common
    length. Anything else under one of those names is refused (NotPpoLog naming it), as is a
    negative or non-integer counter."""
    cols = {}
    for name in names:
        if name in group:
            _numeric(group[name], path)
            cols[name] = np.asarray(_read_dataset(group[name], path))
            if name in INTEGER_COLUMNS:
                cols[name] = _index_column(cols[name], "%s/%s" % (group.name, name), path)
    if cols:
        n = min(len(c) for c in cols.values())
        cols = {k: v[:n] for k, v in cols.items()}
    return cols


def _index_column(values, name, path):
    """An index column as int64: integers, none negative (offsets, lengths, ids, updates)."""
    if values.dtype.kind not in "iu":
        raise NotPpoLog("%s: not a valid ppo log (%s holds %s, expected integers)" % (path, name, values.dtype))
    if len(values) and (values.min() < 0 or values.max() > np.iinfo(np.int64).max):
        bad = values[(values < 0) | (values > np.iinfo(np.int64).max)][0]
        raise NotPpoLog("%s: not a valid ppo log (%s holds %d, outside [0, 2^63))" % (path, name, int(bad)))
    return values.astype(np.int64)


def _supersede(update, strict):
    """Mask of rows still valid after resumptions.

    Rows are in file order. A resumed run starts logging again at an update number not above the
    last one logged before (the checkpoint it resumed from is older than the crash): at such a
    boundary, with new update u0, every earlier row with update >= u0 was superseded. For
    /metrics (one row per update) a repeated update number is a boundary too (strict=False);
    for /episodes and the trajectory index, many rows share an update (strict=True).
    """
    n = len(update)
    keep = np.ones(n, dtype=bool)
    for i in range(1, n):
        prev = update[i - 1]
        if update[i] < prev or (not strict and update[i] == prev):
            keep[:i] &= update[:i] < update[i]
    return keep


def _cumulative_wall(wall):
    """Wall clock made cumulative across segments whose clock restarted (resumed runs)."""
    out = np.array(wall, dtype=np.float64)
    offset = 0.0
    for i in range(1, len(out)):
        if wall[i] < wall[i - 1]:
            offset += wall[i - 1]
        out[i] = wall[i] + offset
    return out


class RunLog:
    """One ppo log, validated and loaded. Attributes:

    path, name (file stem), schema_version, config (dict), metrics (dict of 1-D arrays, one row per
    update, superseded rows removed), episodes (dict of 1-D arrays, possibly empty), resumed (bool:
    the log holds more than one segment), traj_index (dict or None), traj_env, render_dim.
    """

    def __init__(self, path):
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        f = open_h5(path)
        try:
            self.schema_version = check_header(f, path)
            self._load(f)
        except AnalysisError:
            raise
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise NotPpoLog("%s: not a valid ppo log (%s)" % (path, str(exc).splitlines()[0]))
        finally:
            f.close()

    def _load(self, f):
        path = self.path
        # `ppo eval --record` writes a log without training (root content "evaluation"): its
        # recorded episodes belong to no logged update
        self.evaluation = _text(f.attrs.get("content", "")) == "evaluation"
        if "config" not in f or not isinstance(f["config"], h5py.Group):
            raise NotPpoLog("%s: not a valid ppo log (no /config group)" % path)
        self.config = {k: _text(v) for k, v in f["config"].attrs.items()}
        if "metrics" not in f or not isinstance(f["metrics"], h5py.Group):
            raise NotPpoLog("%s: not a valid ppo log (no /metrics group)" % path)
        metrics = _read_columns(f["metrics"], METRIC_COLUMNS, path)
        if "update" not in metrics:
            raise NotPpoLog("%s: not a valid ppo log (no /metrics/update)" % path)
        keep = _supersede(metrics["update"], strict=False)
        self.resumed = not keep.all() or bool(np.any(np.diff(metrics["update"]) <= 0))
        self.metrics = {k: v[keep] for k, v in metrics.items()}
        if "wall_time" in self.metrics:
            self.metrics["wall_time"] = _cumulative_wall(self.metrics["wall_time"])
        self.n_updates = len(self.metrics["update"])
        valid_updates = self.metrics["update"]

        self.episodes = {}
        if "episodes" in f and isinstance(f["episodes"], h5py.Group):
            eps = _read_columns(f["episodes"], EPISODE_COLUMNS, path)
            if "update" in eps and "return" in eps:
                keep = _supersede(eps["update"], strict=True)
                keep &= np.isin(eps["update"], valid_updates)
                eps = {k: v[keep] for k, v in eps.items()}
                if not (np.abs(eps["return"]) <= MAX_EPISODE_RETURN).all():  # as a resume refuses them
                    raise NotPpoLog("%s: not a valid ppo log (/episodes/return holds NaN, inf or a value beyond "
                                    "+-%g)" % (path, MAX_EPISODE_RETURN))
                eps = self._keep_logged_counts(eps)
                self.episodes = eps
        self.has_episodes_group = "episodes" in f

        # evaluations during training, of the updates still logged (a resume cut the later ones)
        self.evals = {}
        if "eval" in f and isinstance(f["eval"], h5py.Group) and not self.evaluation:
            ev = _read_columns(f["eval"], EVAL_COLUMNS, path)
            if "update" in ev and "return_mean" in ev:
                keep = np.isin(ev["update"], valid_updates)
                self.evals = {k: v[keep] for k, v in ev.items()}
                for k in EVAL_FINITE:  # the trainer refuses to log anything else
                    if k in self.evals and not np.isfinite(self.evals[k]).all():
                        raise NotPpoLog("%s: not a valid ppo log (/eval/%s holds NaN or inf)" % (path, k))

        self.traj_index = None
        self.traj_env = None
        self.render_dim = None
        self.n_steps_logged = 0
        if "trajectories" in f and isinstance(f["trajectories"], h5py.Group):
            t = f["trajectories"]
            self.traj_env = _text(t.attrs["env"]) if "env" in t.attrs else None
            self.render_dim = int(_text(t.attrs["render_dim"])) if "render_dim" in t.attrs else None
            if "index" in t and isinstance(t["index"], h5py.Group):
                idx = _read_columns(t["index"], INDEX_COLUMNS, path)
                for c in STEP_COLUMNS:
                    if c in t:  # (steps,) or (steps, width); read on demand, so checked here
                        _numeric(t[c], path, ndim=(2, 4) if c == "obs" else (2,) if c == "render"
                                 else (1, 2) if c == "actions" else (1,))
                if "obs" in t and t["obs"].ndim == 4 and t["obs"].dtype != np.uint8:  # frames are bytes
                    raise NotPpoLog("%s: not a valid ppo log (/trajectories/obs holds frames of %s, "
                                    "expected uint8)" % (path, t["obs"].dtype))
                if "offset" in idx and "length" in idx:
                    steps = min(t[c].shape[0] for c in STEP_COLUMNS if c in t) if any(
                        c in t for c in STEP_COLUMNS) else 0
                    self.n_steps_logged = steps
                    ok = idx["offset"] + idx["length"] <= steps  # live file: steps not yet there
                    if "update" in idx and not self.evaluation:
                        ok &= _supersede(idx["update"], strict=True)
                        ok &= np.isin(idx["update"], valid_updates)
                    self.traj_index = {k: v[ok] for k, v in idx.items()}
                    if "episode_id" not in self.traj_index:
                        self.traj_index["episode_id"] = np.flatnonzero(ok).astype(np.int64)

    def _keep_logged_counts(self, eps):
        """Per update, keep the last `metrics.episodes[u]` rows (a resumed segment re-logs the
        episodes of updates after its checkpoint, and they come later in the file)."""
        counts = self.metrics.get("episodes")
        if counts is None or len(eps["update"]) == 0:
            return eps
        want = dict(zip(self.metrics["update"].tolist(), counts.tolist()))
        upd = eps["update"]
        keep = np.ones(len(upd), dtype=bool)
        for u in np.unique(upd):
            rows = np.flatnonzero(upd == u)
            n = want.get(int(u))
            if n is not None and 0 <= n < len(rows):
                keep[rows[:len(rows) - n]] = False
        return {k: v[keep] for k, v in eps.items()}

    # -- convenience -------------------------------------------------------------------------
    @property
    def env(self):
        return str(self.config.get("env", self.traj_env or "unknown-env"))

    @property
    def seed(self):
        return self.config.get("seed")

    @property
    def threshold(self):
        t = self.config.get("reward_threshold")
        try:
            t = float(t)
        except (TypeError, ValueError):
            return None
        return None if np.isnan(t) else t

    def config_count(self, key, largest):
        """A /config count in [0, largest] (0 when absent), or NotPpoLog naming it."""
        v = self.config.get(key, 0)
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or not 0 <= v <= largest:
            raise NotPpoLog("%s: not a valid ppo log (/config %s is %r, expected an integer in [0, %d])"
                            % (self.path, key, v, largest))
        return int(v)

    @property
    def action_kind(self):
        kind = self.config.get("action_kind")
        if kind in ("discrete", "continuous"):
            return kind
        return "discrete" if self.config_count("action_count", MAX_DISCRETE_ACTIONS) > 0 else "continuous"

    def require_updates(self):
        if self.n_updates == 0:
            raise MissingData("%s: no update logged yet (the run has just started)" % self.path)

    def metric(self, name):
        """A /metrics column, or MissingData naming it."""
        if name not in self.metrics:
            raise MissingData("%s: /metrics/%s is missing; this plot needs it" % (self.path, name))
        return self.metrics[name]

    def require_episodes(self):
        if not self.episodes or len(self.episodes.get("return", ())) == 0:
            if not self.has_episodes_group:
                raise MissingData("%s: no /episodes group in this log" % self.path)
            raise MissingData("%s: no finished episodes logged yet" % self.path)
        return self.episodes

    def require_trajectories(self):
        if self.traj_index is None:
            raise MissingData("%s: %s" % (self.path, TRAJECTORY_HINT))
        if len(self.traj_index["offset"]) == 0:
            raise MissingData("%s: /trajectories holds no complete episode yet" % self.path)
        return self.traj_index

    def episode(self, episode_id):
        """Steps of one recorded episode as a dict of arrays (obs, actions, rewards, render, ...)
        plus its index entries."""
        idx = self.require_trajectories()
        where = np.flatnonzero(idx["episode_id"] == episode_id)
        if len(where) == 0:
            raise MissingData("%s: no recorded episode with id %d (ids %s)"
                              % (self.path, episode_id, _id_range(idx["episode_id"])))
        row = int(where[-1])
        off, length = int(idx["offset"][row]), int(idx["length"][row])
        out = {k: (v[row].item() if hasattr(v[row], "item") else v[row]) for k, v in idx.items()}
        f = open_h5(self.path)
        try:
            t = f["trajectories"]
            for name in STEP_COLUMNS:
                if name in t:
                    ds = t[name]
                    try:
                        ds.refresh()
                    except Exception:
                        pass
                    out[name] = np.asarray(ds[off:off + length])
                    if name in ("obs", "actions", "rewards", "render") and not np.isfinite(out[name]).all():
                        raise NotPpoLog("%s: not a valid ppo log (/trajectories/%s holds NaN or inf in "
                                        "episode %d)" % (self.path, name, episode_id))
        finally:
            f.close()
        return out

    def trajectory_actions(self):
        """All recorded steps' actions with the update of their episode: (actions (S, dim), update
        (S,)). Reads only /trajectories/actions."""
        idx = self.require_trajectories()
        f = open_h5(self.path)
        try:
            t = f["trajectories"]
            if "actions" not in t:
                raise MissingData("%s: /trajectories/actions is missing" % self.path)
            acts = np.asarray(_read_dataset(t["actions"], self.path), dtype=np.float64)
        finally:
            f.close()
        if not np.isfinite(acts).all():  # the trainer stops before it would log one
            raise NotPpoLog("%s: not a valid ppo log (/trajectories/actions holds NaN or inf)" % self.path)
        if acts.ndim == 1:
            acts = acts[:, None]
        rows, upd = [], []
        for off, length, u in zip(idx["offset"], idx["length"], idx.get(
                "update", np.zeros(len(idx["offset"]), dtype=np.int64))):
            rows.append(acts[off:off + length])
            upd.append(np.full(int(length), u, dtype=np.int64))
        if not rows:
            return np.zeros((0, acts.shape[1])), np.zeros(0, dtype=np.int64)
        return np.concatenate(rows), np.concatenate(upd)


def _id_range(ids):
    if len(ids) == 0:
        return "none"
    return "%d..%d" % (int(ids.min()), int(ids.max()))


def find_logs(inputs):
    """Expands files and directories (searched recursively for *.h5 / *.hdf5) into
    (path, found_in_directory) pairs."""
    paths = []
    for item in inputs:
        if os.path.isdir(item):
            found = []
            for root, _dirs, files in os.walk(item):
                found += [os.path.join(root, n) for n in files
                          if n.endswith((".h5", ".hdf5"))]
            if not found:
                raise FileMissing("%s: directory holds no .h5 logs" % item)
            paths += [(p, True) for p in sorted(found)]
        else:
            paths.append((item, False))
    return paths


def _companion_file(path):
    """True for the trainer's other HDF5 files (policy, checkpoint: format "ppo-..." other than
    "ppo-log"), which sit next to the logs in a run directory."""
    try:
        with h5py.File(path, "r", locking=False) as f:
            fmt = _text(f.attrs.get("format", ""))
    except (OSError, TypeError, ValueError):
        return False
    return isinstance(fmt, str) and fmt.startswith("ppo-") and fmt != FORMAT_NAME


def load_runs(inputs, skip_bad=False, warn=None):
    """RunLogs for all inputs. Files given by name must be logs; in directories, the trainer's
    policy and checkpoint files are passed over silently and other non-logs with a warning. With
    skip_bad, unreadable logs are reported through `warn` and skipped (an error remains if none
    is left)."""
    runs = []
    first_error = None
    for p, in_dir in find_logs(inputs):
        try:
            run = RunLog(p)
            if not (in_dir and run.evaluation):  # a `ppo eval --record` file beside the logs: no run
                runs.append(run)
        except NotPpoLog as exc:
            if in_dir and _companion_file(p):
                continue
            if not (skip_bad or in_dir):
                raise
            first_error = first_error or exc
            if warn:
                warn("skipping %s" % exc)
        except AnalysisError as exc:
            if not skip_bad:
                raise
            first_error = first_error or exc
            if warn:
                warn("skipping %s" % exc)
    if not runs:
        if first_error:
            raise first_error
        raise FileMissing("no ppo logs in %s" % ", ".join(inputs))
    return runs
