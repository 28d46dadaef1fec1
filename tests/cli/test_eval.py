"""Evaluation during training and `ppo eval`'s outputs, through the CLI:
- --eval-every N trains bit for bit as the same run without it (every /metrics column but the timings,
  /episodes, the final policy), on 2 ranks x 1 thread (episodes split 1 + 2 over the ranks) and for
  LunarLander on 1 rank x 2 threads; its /eval rows come every N updates, repeat exactly in a second run,
  mark the best evaluations, and the best policy is saved beside the log and evaluates;
- a run resumed from a mid-run checkpoint drops the /eval rows after it and ends with the same /eval
  and /eval_episodes as the uninterrupted run (gap-free), with the best carried over; --eval-every
  turned on or off at a resume starts /eval there or keeps the rows up to the checkpoint; a damaged
  /eval (updates out of order, a NaN mean) is refused with one line and every file left as it was;
- the best policy file follows the run-file rules (an existing one is refused without --force);
- `ppo eval POLICY --out CSV --record FILE.h5` writes one CSV line per episode and a recording that
  `ppo-analyze animate` plays (CartPole and LunarLander), and never overwrites either file;
- the evaluation after training (--eval-episodes), spread over 3 ranks, summarizes to what `ppo eval` of
  the final policy gives on the same seeds."""
import csv
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clitest as ct  # noqa: E402

ct.setup()
import h5py  # noqa: E402
import numpy as np  # noqa: E402

ANALYZE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "analysis", "ppo-analyze")
# 512 steps per update on 2 ranks (4 envs x 64 steps each): 6 updates
CARTPOLE = ["--env", "CartPole-v1", "--total-steps", "3072", "--envs-per-rank", "4", "--rollout-steps", "64",
            "--minibatches", "2", "--epochs", "2", "--seed", "5", "--progress", "lines"]
LANDER = ["--env", "LunarLander-v3", "--total-steps", "1536", "--envs-per-rank", "16", "--rollout-steps", "32",
          "--minibatches", "4", "--epochs", "2", "--seed", "3", "--threads", "2", "--progress", "lines"]
EVAL = ["--eval-every", "2", "--eval-every-episodes", "3"]
TIMING = ("wall_time", "steps_per_second")


def train(tmp, name, args, ranks=2, expect=0):
    log = os.path.join(tmp, name + ".h5")
    rc, out, err = ct.run([*args, "--log", log], ranks=ranks, cwd=tmp)
    ct.check(rc == expect, f"{name}: exit {rc}, expected {expect}: {err.strip()[-400:]}")
    return log, out, err


def columns(log, group):
    with h5py.File(log, "r") as f:
        return {k: f[group][k][:] for k in f[group] if isinstance(f[group][k], h5py.Dataset)}


def params(path):
    with h5py.File(path, "r") as f:
        return [f[k][:] for k in sorted(f) if isinstance(f[k], h5py.Dataset)]


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def same_training(label, plain, evald):
    ma, mb = columns(plain, "metrics"), columns(evald, "metrics")
    diff = sorted(k for k in ma if k not in TIMING and not k.startswith("time_") and not same(ma[k], mb.get(k)))
    ct.check(not diff and len(ma["update"]) > 0, f"{label}: /metrics differ with --eval-every: {diff}")
    ea, eb = columns(plain, "episodes"), columns(evald, "episodes")
    ct.check(all(same(ea[k], eb[k]) for k in ea) and len(ea["return"]) > 0, f"{label}: /episodes differ")
    pa, pb = params(plain[:-3] + ".policy.h5"), params(evald[:-3] + ".policy.h5")
    ct.check(len(pa) > 0 and all(same(x, y) for x, y in zip(pa, pb)), f"{label}: final policies differ")
    with h5py.File(plain, "r") as f:
        ct.check("eval" not in f and "eval_episodes" not in f, f"{label}: a run without --eval-every has /eval")


def check_eval_rows(label, log, updates, episodes):
    ev, eps = columns(log, "eval"), columns(log, "eval_episodes")
    ct.check(list(ev["update"]) == updates, f"{label}: /eval updates {list(ev['update'])}, expected {updates}")
    ct.check(list(ev["episodes"]) == [episodes] * len(updates), f"{label}: /eval episodes {list(ev['episodes'])}")
    ct.check(list(eps["update"]) == [u for u in updates for _ in range(episodes)]
             and list(eps["episode"]) == list(range(episodes)) * len(updates),
             f"{label}: /eval_episodes rows {list(eps['update'])} / {list(eps['episode'])}")
    ct.check(len(set(eps["seed"].tolist())) == len(eps["seed"]), f"{label}: eval seeds repeat")
    for i, u in enumerate(updates):
        r = eps["return"][eps["update"] == u]
        ct.check(np.isclose(ev["return_mean"][i], r.mean()) and ev["return_min"][i] == r.min()
                 and ev["return_max"][i] == r.max(), f"{label}: /eval row {u} is not its episodes' summary")
    best = [bool(m > max(ev["return_mean"][:i], default=-np.inf)) for i, m in enumerate(ev["return_mean"])]
    ct.check(list(ev["new_best"].astype(bool)) == best, f"{label}: new_best {list(ev['new_best'])}, expected {best}")
    return ev, eps


def test_training(tmp):
    traj = ["--log-trajectories", "1"]  # the training envs' seeds, to compare with the eval seeds
    plain, _, _ = train(tmp, "plain", CARTPOLE + traj)
    evald, out, _ = train(tmp, "evald", CARTPOLE + traj + EVAL)
    again, _, _ = train(tmp, "again", CARTPOLE + EVAL)
    same_training("CartPole 2 ranks", plain, evald)
    ev, eps = check_eval_rows("CartPole 2 ranks", evald, [2, 4, 6], 3)
    train_seeds = set(columns(evald, "trajectories/index")["seed"].tolist())
    ct.check(len(train_seeds) == 8 and not train_seeds & set(eps["seed"].tolist()),
             f"eval seeds {eps['seed'].tolist()} vs the training envs' {sorted(train_seeds)}")
    ev2, eps2 = columns(again, "eval"), columns(again, "eval_episodes")
    ct.check(all(same(eps[k], eps2[k]) for k in eps) and same(ev["return_mean"], ev2["return_mean"]),
             "the same run twice evaluates differently")
    lines = [ln for ln in out.splitlines() if ln.startswith("eval: update")]
    ct.check(len(lines) == 3 and "new best" in lines[0], f"eval lines: {lines}")
    best = evald[:-3] + ".best.policy.h5"
    ct.check(os.path.exists(best), f"{best} was not written")
    rc, o, e = ct.run(["eval", best, "--episodes", "2"], cwd=tmp)
    ct.check(rc == 0 and "2 episodes, greedy policy" in o, f"ppo eval of the best policy: exit {rc}: {e}")
    print(f"--eval-every: training identical, /eval means {ev['return_mean'].tolist()}", flush=True)

    # the best policy is a run file: a new run refuses an existing one, --force removes it
    os.rename(evald, evald + ".moved")
    for f in (".policy.h5", ".ckpt.h5"):
        if os.path.exists(evald[:-3] + f):
            os.remove(evald[:-3] + f)
    before = ct.snapshot(tmp)
    _, _, err = train(tmp, "evald", CARTPOLE + EVAL, expect=2)
    ct.check("best.policy.h5 already exists" in err and ct.snapshot(tmp) == before,
             f"an existing best policy was not refused untouched: {err.strip()}")
    _, out, _ = train(tmp, "evald", CARTPOLE + ["--force"])
    ct.check(not os.path.exists(best) and "removed" in out, "--force left the previous run's best policy")

    # LunarLander, 1 rank x 2 threads: the threads step the eval envs too
    lp, _, _ = train(tmp, "lander_plain", LANDER, ranks=None)
    le, _, _ = train(tmp, "lander_eval", LANDER + ["--eval-every", "1", "--eval-every-episodes", "2"], ranks=None)
    same_training("LunarLander 1 rank x 2 threads", lp, le)
    check_eval_rows("LunarLander 1 rank x 2 threads", le, [1, 2, 3], 2)


def test_resume(tmp):
    # every update: with seed 5 the first evaluation stays the best, so a resume that forgot it would
    # mark (and save) update 4 as a new best
    every1 = ["--eval-every", "1", "--eval-every-episodes", "3"]
    full, _, _ = train(tmp, "full", CARTPOLE + every1)
    part, _, _ = train(tmp, "part", CARTPOLE + every1 + ["--checkpoint-every", "3"])
    ck = part[:-3] + ".ckpt.h5"
    with h5py.File(ck, "r") as f:
        ct.check(int(f["train"].attrs["update"]) == 3, "the periodic checkpoint is not at update 3")
    # resuming from update 3 drops /eval rows 4 and 6 and logs them again
    rc, out, err = ct.run([*CARTPOLE, *every1, "--checkpoint-every", "3", "--log", part, "--resume", ck], ranks=2,
                          cwd=tmp)
    ct.check(rc == 0, f"resume: exit {rc}: {err.strip()[-400:]}")
    a, b = columns(full, "eval"), columns(part, "eval")
    for k in a:
        if k not in ("wall_time", "seconds"):
            ct.check(same(a[k], b[k]), f"resumed /eval/{k}: {b[k].tolist()} vs uninterrupted {a[k].tolist()}")
    ea, eb = columns(full, "eval_episodes"), columns(part, "eval_episodes")
    ct.check(all(same(ea[k], eb[k]) for k in ea), "resumed /eval_episodes differ from the uninterrupted run's")
    pa, pb = params(full[:-3] + ".best.policy.h5"), params(part[:-3] + ".best.policy.h5")
    ct.check(all(same(x, y) for x, y in zip(pa, pb)), "the resumed run's best policy is not the uninterrupted run's")
    ct.check(b["new_best"].tolist() == [1, 0, 0, 0, 0, 0], f"new_best {b['new_best'].tolist()}: the case no longer "
             "tests that the best survives a resume")
    print(f"resume: /eval updates {b['update'].tolist()}, new_best {b['new_best'].tolist()}", flush=True)
    # --eval-every may change on resume: turned on, /eval starts after the checkpoint; turned off, the rows
    # after the checkpoint are dropped all the same
    for name, before, after, want in (("on", [], EVAL, [4, 6]), ("off", EVAL, ["--eval-every", "0"], [2])):
        log, _, _ = train(tmp, "turned_" + name, CARTPOLE + before + ["--checkpoint-every", "3"])
        rc, _, err = ct.run([*CARTPOLE, *after, "--checkpoint-every", "3", "--log", log, "--resume",
                             log[:-3] + ".ckpt.h5"], ranks=2, cwd=tmp)
        ct.check(rc == 0, f"resume with --eval-every turned {name}: exit {rc}: {err.strip()[-400:]}")
        got = columns(log, "eval")["update"].tolist()
        ct.check(got == want, f"resume with --eval-every turned {name}: /eval updates {got}, expected {want}")
    # a damaged /eval is refused before anything is touched: one error line naming the object, exit 2
    for name, column, values in (("order", "update", [4, 2, 6]), ("nan", "return_mean", [np.nan, 1.0, 2.0])):
        log, _, _ = train(tmp, "damaged_" + name, CARTPOLE + EVAL + ["--checkpoint-every", "5"])
        with h5py.File(log, "r+") as f:
            f["eval"][column][:] = values
        before = ct.snapshot(tmp)
        rc, _, err = ct.run([*CARTPOLE, *EVAL, "--log", log, "--resume", log[:-3] + ".ckpt.h5"], ranks=2, cwd=tmp)
        ct.check(rc == 2 and f"/eval/{column}" in err and err.count("ppo: error:") == 1 and ct.snapshot(tmp) == before,
                 f"resume into a log with a damaged /eval/{column}: exit {rc}: {err.strip()[-300:]}")


def animate(tmp, rec, label):
    out = os.path.join(tmp, "anim_" + label)
    p = subprocess.run(["/usr/bin/python3", ANALYZE, "animate", rec, "--episode", "0", "--out", out, "--no-mp4",
                        "--max-frames", "12", "--size", "160x120"], capture_output=True, text=True)
    gifs = [f for f in os.listdir(out) if f.endswith(".gif")] if os.path.isdir(out) else []
    ct.check(p.returncode == 0 and len(gifs) == 1, f"{label}: animate exit {p.returncode}: {p.stderr.strip()}")


def test_eval_outputs(tmp):
    log, _, _ = train(tmp, "outputs", CARTPOLE)
    pol = log[:-3] + ".policy.h5"
    csv_path, rec = os.path.join(tmp, "eps.csv"), os.path.join(tmp, "rec.h5")
    rc, out, err = ct.run(["eval", pol, "--episodes", "2", "--seed", "7", "--out", csv_path, "--record", rec], cwd=tmp)
    ct.check(rc == 0, f"ppo eval --out --record: exit {rc}: {err}")
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    ct.check([r["seed"] for r in rows] == ["7", "8"], f"CSV rows: {rows}")
    with h5py.File(rec, "r") as f:
        ct.check(f.attrs["content"] == "evaluation" and f.attrs["format"] == "ppo-log", "recording's root attributes")
        idx = f["trajectories/index"]
        ct.check(idx["return"][:].tolist() == [float(r["return"]) for r in rows]
                 and idx["length"][:].tolist() == [int(r["length"]) for r in rows]
                 and f["trajectories/obs"].shape[0] == sum(int(r["length"]) for r in rows),
                 "the recording's episodes are not the CSV's")
        ct.check(f["eval_episodes/return"][:].tolist() == idx["return"][:].tolist(), "/eval_episodes of the recording")
    animate(tmp, rec, "cartpole")
    # ppo eval plays 256 episodes at a time, --record all at once: the same 600 episodes either way
    batched, one = os.path.join(tmp, "eps600.csv"), os.path.join(tmp, "eps600_rec.csv")
    rc1, _, err1 = ct.run(["eval", pol, "--episodes", "600", "--seed", "9", "--out", batched], cwd=tmp)
    rc2, _, err2 = ct.run(["eval", pol, "--episodes", "600", "--seed", "9", "--out", one, "--record",
                           os.path.join(tmp, "rec600.h5")], cwd=tmp)
    if ct.check(rc1 == 0 and rc2 == 0, f"ppo eval of 600 episodes: exit {rc1}, {rc2}: {err1} {err2}"):
        with open(batched) as f, open(one) as g:
            a, b = list(csv.DictReader(f)), list(csv.DictReader(g))
        ct.check(len(a) == 600 and [r["seed"] for r in a] == [str(9 + i) for i in range(600)] and a == b,
                 f"600 episodes in batches of 256 are not those of one batch: {len(a)} rows, first differing "
                 f"{next((x, y) for x, y in zip(a, b) if x != y) if a != b else None}")
    # never overwritten: both refused before anything runs, the files unchanged
    before = ct.snapshot(tmp)
    for flag, path in (("--out", csv_path), ("--record", rec)):
        rc, _, err = ct.run(["eval", pol, "--episodes", "1", flag, path], cwd=tmp)
        ct.check(rc == 2 and "already exists" in err, f"ppo eval {flag} over an existing file: exit {rc}: {err}")
    rc, _, err = ct.run(["eval", pol, "--episodes", "1", "--record", os.path.join(tmp, "no", "dir.h5")], cwd=tmp)
    ct.check(rc == 2 and "cannot create" in err, f"ppo eval --record into a missing directory: exit {rc}: {err}")
    ct.check(ct.snapshot(tmp) == before, "a refused ppo eval changed files")

    lander, _, _ = train(tmp, "lander_rec", LANDER, ranks=None)
    lrec = os.path.join(tmp, "lander_rec_eval.h5")
    rc, _, err = ct.run(["eval", lander[:-3] + ".policy.h5", "--episodes", "1", "--record", lrec], cwd=tmp)
    ct.check(rc == 0, f"LunarLander ppo eval --record: exit {rc}: {err}")
    animate(tmp, lrec, "lander")
    # a recording beside the logs is no run: a directory summary leaves it out
    p = subprocess.run(["/usr/bin/python3", ANALYZE, "summary", tmp, "--out", os.path.join(tmp, "summary"),
                        "--skip-bad"], capture_output=True, text=True)
    ct.check(p.returncode == 0 and "rec_eval" not in p.stdout and " rec " not in p.stdout,
             f"summary of the directory: exit {p.returncode}: {p.stdout[-300:]} {p.stderr[-300:]}")


def test_final_eval(tmp):
    """--eval-episodes spreads the episodes over the ranks (here 2 + 2 + 3); its summary must be what one
    process playing the same seeds gives: `ppo eval` of the final policy with the run's evaluation seeds
    (run seed + 1000000 ...), with discrete and continuous actions."""
    summary = r"return [-\d.]+ \+- [\d.]+ \(min [-\d.]+, max [-\d.]+\)"
    lander = ["--env", "LunarLander-v3", "--total-steps", "3072", "--envs-per-rank", "4", "--rollout-steps", "64",
              "--minibatches", "2", "--epochs", "2", "--seed", "3", "--progress", "lines"]
    pendulum = ["--env", "Pendulum-v1", "--total-steps", "2048", "--envs-per-rank", "4", "--rollout-steps", "64",
                "--minibatches", "2", "--epochs", "2", "--seed", "4", "--progress", "lines"]
    # continuous actions too: an inference pass rounds a row the same in any batch (nn/mlp.c)
    for name, args, seed in (("final_cartpole", CARTPOLE, 5), ("final_lander", lander, 3), ("final_pendulum", pendulum, 4)):
        log, out, _ = train(tmp, name, [*args, "--eval-episodes", "7"], ranks=3)
        mine = re.search(summary, "".join(ln for ln in out.splitlines() if ln.startswith("eval: 7 episodes")))
        rc, eout, err = ct.run(["eval", log[:-3] + ".policy.h5", "--episodes", "7", "--seed", str(seed + 1000000)],
                               cwd=tmp)
        theirs = re.search(summary, eout)
        if ct.check(mine is not None and rc == 0 and theirs is not None,
                    f"{name}: no evaluation to compare: run {out[-300:]!r}, ppo eval exit {rc} {eout!r} {err!r}"):
            ct.check(mine.group(0) == theirs.group(0),
                     f"{name}: the run's evaluation on 3 ranks '{mine.group(0)}' is not ppo eval's '{theirs.group(0)}'")
            print(f"done {name}: {mine.group(0)} on 3 ranks and in ppo eval", flush=True)
        if name == "final_pendulum":  # 600 episodes in batches of 256 and in one batch (--record): the same
            pol, a_csv, b_csv = log[:-3] + ".policy.h5", os.path.join(tmp, "pend_a.csv"), os.path.join(tmp, "pend_b.csv")
            rc1, _, e1 = ct.run(["eval", pol, "--episodes", "600", "--out", a_csv], cwd=tmp)
            rc2, _, e2 = ct.run(["eval", pol, "--episodes", "600", "--out", b_csv, "--record",
                                 os.path.join(tmp, "pend_rec.h5")], cwd=tmp)
            if ct.check(rc1 == 0 and rc2 == 0, f"Pendulum ppo eval of 600 episodes: exit {rc1}, {rc2}: {e1} {e2}"):
                with open(a_csv) as f, open(b_csv) as g:
                    a, b = list(csv.DictReader(f)), list(csv.DictReader(g))
                ct.check(len(a) == 600 and a == b, "Pendulum: 600 episodes in batches of 256 are not those of one "
                         f"batch: first differing {next((x, y) for x, y in zip(a, b) if x != y) if a != b else None}")


def test_bad_options(tmp):
    for args, what in ((["--eval-every", "-1"], "eval_every"), (["--eval-every-episodes", "0"], "eval_every_episodes")):
        rc, _, err = ct.run([*CARTPOLE, *args, "--log", os.path.join(tmp, "bad.h5")], cwd=tmp)
        ct.check(rc == 2 and what in err and err.count("\n") == 1, f"{args}: exit {rc}: {err}")


def main():
    with tempfile.TemporaryDirectory(prefix="ppo-eval-") as tmp:
        test_bad_options(tmp)
        test_training(tmp)
        test_resume(tmp)
        test_eval_outputs(tmp)
        test_final_eval(tmp)
    ct.finish("eval")


main()
