"""`ppo --help` and the config file: --help (and -h, `ppo train --help`, `ppo eval --help`) exits 0;
it lists every field of ppo_config (read from src/ppo/config.h, not from the option table) as a
--dashed-flag with its default, and those defaults are the values a run with --preset none really
uses (its /config attributes); every env has a preset, listed by --help. A config file's values are used, flags override them wherever --config stands, and
--name=value works like --name value."""
import math
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest as ct  # noqa: E402

ct.setup()
import h5py  # noqa: E402

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "ppo", "config.h")
SMALL = {"total_steps": "64", "envs_per_rank": "2", "rollout_steps": "16", "minibatches": "1", "epochs": "1"}


def config_fields():
    """Field names of `typedef struct { ... } ppo_config;` in config.h."""
    text = open(SRC).read()
    body = re.search(r"typedef struct \{(.*?)\} ppo_config;", text, re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    names = []
    for decl in body.split(";"):
        decl = decl.strip()
        if decl:
            names += [re.sub(r"\[.*\]", "", n).strip().split()[-1] for n in decl.split(",")]
    return names


def flag(name):
    return "--" + name.replace("_", "-")


def attr_text(v):
    if isinstance(v, bytes):
        return v.decode()
    return v


def test_help(tmp):
    fields = config_fields()
    ct.check(len(fields) > 25 and "envs_per_rank" in fields and "lr" in fields, f"config.h parsed oddly: {fields}")
    rc, out, err = ct.run(["--help"], cwd=tmp)
    ct.check(rc == 0, f"--help exit code {rc}")
    ct.check(err.strip() == "", f"--help wrote to stderr: {err!r}")
    help_defaults, derived = {}, set()
    for name in fields:
        lines = [ln for ln in out.splitlines() if ln.split()[:1] == [flag(name)]]
        if not ct.check(len(lines) == 1, f"--help lists {flag(name)} {len(lines)} times, not once"):
            continue
        m = re.search(r"\(([^()]*)\)\s*$", lines[0])
        if ct.check(m is not None, f"--help line for {flag(name)} has no '(default)' at its end: {lines[0]!r}"):
            help_defaults[name] = m.group(1)
            if "default: the log path" in lines[0]:
                derived.add(name)
    for args in (["-h"], ["train", "--help"], ["--seed", "3", "--help"]):
        rc2, out2, _ = ct.run(args, cwd=tmp)
        ct.check(rc2 == 0 and out2 == out, f"ppo {' '.join(args)}: exit {rc2}, or a different text than --help")
    # typed at a shell, --help and `ppo envs` must not start MPI: with a transport that does not exist,
    # MPI_Init fails, and they must still work
    no_mpi = {"OMPI_MCA_pml": "no_such_pml"}
    for args in (["--help"], ["envs"]):
        rc2, out2, err2 = ct.run(args, cwd=tmp, env=no_mpi)
        ct.check(rc2 == 0 and out2.strip() != "", f"ppo {' '.join(args)} with MPI unusable: exit {rc2}: {err2[-300:]!r}")
    rc, out, err = ct.run(["eval", "--help"], cwd=tmp)
    ct.check(rc == 0 and "--checkpoint" in out and "--episodes" in out, f"ppo eval --help: exit {rc}: {out!r}")
    ct.check(os.listdir(tmp) == [], f"--help wrote files: {os.listdir(tmp)}")
    return help_defaults, derived


def test_presets_listed(tmp):
    """Every env `ppo envs` lists has a preset, and --help shows it."""
    rc, out, _ = ct.run(["--help"], cwd=tmp)
    rc2, envs, _ = ct.run(["envs"], cwd=tmp)
    rows = [ln.split() for ln in envs.splitlines()[1:] if ln.strip()]
    ids = [r[0] for r in rows]
    ct.check(rc == 0 and rc2 == 0 and len(ids) >= 10, f"--help / envs failed ({rc}, {rc2}) or few envs: {ids}")
    ct.check(any(r[0] == "CarRacing-v3" and r[1] == "96x96x3" for r in rows), f"envs lacks CarRacing-v3 96x96x3: {rows}")
    section = out.split("env presets", 1)[1] if "env presets" in out else ""
    section = section.split("scale presets", 1)[0]  # the auto presets only
    for env in ids:
        lines = [ln for ln in section.splitlines() if ln.startswith(f"  {env}: ")]
        ct.check(len(lines) == 1 and "total_steps=" in lines[0], f"--help shows no preset for {env}")


def run_log(tmp, name, args):
    """Runs a small training into tmp/name; returns the /config attributes and /metrics length."""
    path = os.path.join(tmp, name)
    rc, out, err = ct.run([*args, "--log", path], cwd=tmp)
    if not ct.check(rc == 0, f"ppo {' '.join(args)}: exit {rc}: {err}"):
        return {}, 0
    with h5py.File(path, "r") as f:
        return {k: attr_text(v) for k, v in f["config"].attrs.items()}, len(f["metrics/update"])


def test_defaults_are_used(tmp, help_defaults, derived):
    """--preset none: the generic defaults --help shows (a preset replaces some for known envs)."""
    given = dict(SMALL, preset="none")
    cfg, _ = run_log(tmp, "defaults.h5", [a for k, v in given.items() for a in (flag(k), v)])
    for name, shown in help_defaults.items():
        if name in given or name in derived or name in ("log", "config"):
            continue
        if not ct.check(name in cfg, f"/config has no attribute {name}"):
            continue
        used = cfg[name]
        if isinstance(used, str):
            ok = used == shown or (used == "" and shown == "none")
        else:
            ok = math.isclose(float(used), float(shown), rel_tol=1e-6)
        ct.check(ok, f"--help says {flag(name)} defaults to {shown!r}, a run used {used!r}")


def test_config_file(tmp):
    ini = os.path.join(tmp, "run.ini")
    with open(ini, "w") as f:
        f.write("# options for a small run\n[ppo]\nseed = 7\nenvs_per_rank = 2\nrollout_steps = 16\n"
                "total_steps = 96\nminibatches = 2\nepochs = 1\nlr = 0.005\ngamma = 0.97\nhidden = 16,8\n"
                "norm_adv = false\n")
    cfg, updates = run_log(tmp, "file.h5", ["--config", ini])
    want = {"seed": 7, "envs_per_rank": 2, "rollout_steps": 16, "total_steps": 96, "minibatches": 2,
            "lr": 0.005, "gamma": 0.97, "hidden": "16,8", "norm_adv": "false", "config": ini}
    for k, v in want.items():
        ct.check(cfg.get(k) == v, f"config file: {k} = {cfg.get(k)!r}, the file says {v!r}")
    ct.check(updates == 3, f"config file: {updates} updates, want 96 / (2 x 16) = 3")

    cfg, _ = run_log(tmp, "after.h5", ["--config", ini, "--lr", "0.002", "--seed=9", "--norm-adv"])
    for k, v in {"lr": 0.002, "seed": 9, "norm_adv": "true", "gamma": 0.97, "envs_per_rank": 2}.items():
        ct.check(cfg.get(k) == v, f"flags after --config: {k} = {cfg.get(k)!r}, want {v!r}")
    cfg, _ = run_log(tmp, "before.h5", ["--lr", "0.003", "--no-norm-adv", "--gamma=0.9", "--config", ini])
    for k, v in {"lr": 0.003, "norm_adv": "false", "gamma": 0.9, "seed": 7, "hidden": "16,8"}.items():
        ct.check(cfg.get(k) == v, f"flags before --config: {k} = {cfg.get(k)!r}, want {v!r}")


def test_aliases_and_version(tmp):
    """CleanRL's and SB3's names for the same options set them (flags and the INI file); --help lists
    them; --version exits 0 with the libraries' versions, without starting MPI or writing a file."""
    ini = os.path.join(tmp, "alias.ini")
    with open(ini, "w") as f:
        f.write("[ppo]\nlearning_rate = 0.004\nnum_minibatches = 2\n")
    cfg, updates = run_log(tmp, "alias.h5", ["--config", ini, "--total-timesteps", "128", "--num-steps", "16",
                                             "--local-num-envs", "4", "--update-epochs", "2", "--clip-range", "0.3",
                                             "--no-normalize-advantage", "--preset", "none"])
    want = {"lr": 0.004, "minibatches": 2, "total_steps": 128, "rollout_steps": 16, "envs_per_rank": 4,
            "epochs": 2, "clip_coef": 0.3, "norm_adv": "false"}
    for k, v in want.items():
        ct.check(cfg.get(k) == v, f"aliases: {k} = {cfg.get(k)!r}, want {v!r}")
    ct.check(updates == 2, f"aliases: {updates} updates, want 128 / (4 x 16) = 2")
    rc, out, _ = ct.run(["--help"], cwd=tmp)
    ct.check("--learning-rate" in out and "= --lr" in out and "--num-envs" in out, "--help lists no aliases")
    empty = os.path.join(tmp, "version")
    os.mkdir(empty)
    for args in (["--version"], ["train", "--version"]):
        rc, out, err = ct.run(args, cwd=empty, env={"OMPI_MCA_pml": "no_such_pml"})
        lines = out.splitlines()
        ct.check(rc == 0 and len(lines) == 4 and re.fullmatch(r"ppo \d+\.\d+\.\d+", lines[0]) is not None
                 and lines[1].startswith("oneDNN ") and lines[2].startswith("HDF5 ") and "MPI" in lines[3],
                 f"ppo {' '.join(args)}: exit {rc}: {out!r} {err!r}")
    ct.check(os.listdir(empty) == [], f"--version wrote files: {os.listdir(empty)}")


def test_rounding_is_announced(tmp):
    """What a run changes from what was asked is said at start-up: total steps rounded up to whole
    updates, and a preset's global env count that the ranks do not divide; and minibatches that leave
    each rank so few samples that their gradient sum outweighs the work."""
    rc, out, err = ct.run(["--env", "CartPole-v1", "--total-steps", "1000", "--log", os.path.join(tmp, "r1.h5")],
                          ranks=1, cwd=tmp)
    ct.check(rc == 0, f"1-rank run: exit {rc}: {err}")
    ct.check("note: --total-steps 1000 is not a multiple of the global batch (256 steps): training 1024 steps" in out,
             f"no note on the rounded total steps in: {out[:600]}")
    rc, out, err = ct.run(["--env", "CartPole-v1", "--total-steps", "768", "--log", os.path.join(tmp, "r3.h5")],
                          ranks=3, cwd=tmp)
    ct.check(rc == 0, f"3-rank run: exit {rc}: {err}")
    ct.check("its 8 envs do not split evenly over 3 ranks, so this run steps 2 per rank, 6 in all" in out,
             f"no note on the uneven env split in: {out[:800]}")
    rc, out, err = ct.run(["--env", "CartPole-v1", "--total-steps", "512", "--log", os.path.join(tmp, "r2.h5")],
                          ranks=2, cwd=tmp)
    ct.check(rc == 0 and "note:" not in out, f"a 2-rank run of whole updates printed a note: {out[:600]}")
    rc, out, err = ct.run(["--env", "LunarLander-v3", "--preset", "none", "--envs-per-rank", "1", "--rollout-steps",
                           "16", "--minibatches", "4", "--total-steps", "32", "--log", os.path.join(tmp, "small.h5")],
                          ranks=2, cwd=tmp)
    ct.check(rc == 0 and "note: a minibatch leaves each rank 4 samples, so on 2 ranks the gradient sum outweighs the "
             "work; fewer, larger minibatches (--minibatches) or --preset scale scale better" in out,
             f"no note on 4-sample minibatch shares: exit {rc}: {out[:800]} {err[-300:]}")


def test_console_return(tmp):
    """The progress line's return(100) is the mean of the last 100 episodes the log holds (in its order),
    the closing line's best is over full windows of 100, and A2C's line shows no PPO-only KL or clip."""
    log = os.path.join(tmp, "console.h5")
    rc, out, err = ct.run(["--env", "CartPole-v1", "--total-steps", "20000", "--progress", "lines", "--log", log],
                          ranks=2, cwd=tmp)
    ct.check(rc == 0, f"run: exit {rc}: {err}")
    last = [ln for ln in out.splitlines() if ln.startswith("update")][-1]
    shown = float(re.search(r"return\(100\)\s+(-?[0-9.]+)", last).group(1))
    with h5py.File(log, "r") as f:
        rets = f["episodes/return"][:]
    ct.check(len(rets) > 100, f"only {len(rets)} episodes: the window is not full")
    ct.check(abs(shown - float(rets[-100:].mean())) < 0.006,
             f"return(100) {shown} is not the mean of the log's last 100 episodes {rets[-100:].mean():.4f}")
    best = float(re.search(r"best mean return over 100 consecutive episodes (-?[0-9.]+)", out).group(1))
    ct.check(best >= shown - 0.006, f"best {best} is below the last window's {shown}")
    rc, out, err = ct.run(["--env", "CartPole-v1", "--algo", "a2c", "--total-steps", "2000", "--progress", "lines",
                           "--log", os.path.join(tmp, "a2c.h5")], ranks=1, cwd=tmp)
    lines = [ln for ln in out.splitlines() if ln.startswith("update")]
    ct.check(rc == 0 and lines and " kl " not in lines[-1] and " clip " not in lines[-1],
             f"A2C's progress line shows PPO-only metrics: {lines[-1:] or err}")
    if rc == 0:
        with h5py.File(os.path.join(tmp, "a2c.h5"), "r") as f:
            opt = attr_text(f["config"].attrs.get("optimizer", b""))
        ct.check(opt == "rmsprop", f"A2C ran with optimizer {opt!r}, not Stable-Baselines3's rmsprop")


def main():
    with tempfile.TemporaryDirectory(prefix="ppo-help-") as tmp:
        empty = os.path.join(tmp, "empty")
        os.mkdir(empty)
        defaults, derived = test_help(empty)
        test_presets_listed(empty)
        test_defaults_are_used(tmp, defaults, derived)
        test_config_file(tmp)
        test_aliases_and_version(tmp)
        test_rounding_is_announced(tmp)
        test_console_return(tmp)
    ct.finish("help and config")


main()
