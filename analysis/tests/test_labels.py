"""Labels and output paths (issue 13 item 6): runs that differ only in an option past the third get
labels naming it and files of their own, in every command; total_steps does not split a group;
same-named logs from two directories stay apart; an earlier invocation's files are never overwritten
without --force; two outputs of one invocation never share a path. The labels are read from the
figures as drawn (legend texts, titles, tick labels), recorded by cli.main(record=...)."""

import os

import numpy as np
import pytest

from analysis import cli, common
from analysis.logfile import PHASES, RunLog
from analysis.outputs import EXIT_OUTPUT, Outputs
from analysis.tests import synth_log

# PPO beside two REINFORCE configs that differ only in `baseline`, which sorts 4th among the
# options that differ (algo, lr, anneal_lr, baseline): the case where labels used to collide.
PPO = dict(algo="ppo", anneal_lr="true", baseline="true")
RF_B1 = dict(algo="reinforce", anneal_lr="false", baseline="true")
RF_B0 = dict(algo="reinforce", anneal_lr="false", baseline="false")
LABELS = {"ppo": "CartPole-v1 algo=ppo lr=0.0003 anneal_lr=true baseline=true",
          "b1": "CartPole-v1 algo=reinforce lr=0.001 anneal_lr=false baseline=true",
          "b0": "CartPole-v1 algo=reinforce lr=0.001 anneal_lr=false baseline=false"}


def _write(path, seed, cfg, lr, **extra):
    run = synth_log.make_run("CartPole-v1", seed, 8, rollout_steps=32, traj_every=4, lr=lr,
                             extra_config=dict(cfg, **extra))
    rng = np.random.default_rng(seed)
    for p in PHASES:  # phase times, for `timing`
        t = rng.uniform(0.001, 0.01, 8)
        run["metrics"]["time_" + p] = t
        run["metrics"]["time_%s_max" % p] = t * 1.1
    return synth_log.write_log(path, run)


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("labels")
    _write(str(d / "ppo_s1.h5"), 1, PPO, 3e-4)
    _write(str(d / "rf_b1_s1.h5"), 1, RF_B1, 1e-3)
    _write(str(d / "rf_b1_s2.h5"), 2, RF_B1, 1e-3, total_steps=np.int64(999424),  # longer run, evaluated
           eval_every=np.int64(5), eval_every_episodes=np.int64(10))
    _write(str(d / "rf_b0_s1.h5"), 1, RF_B0, 1e-3)
    return d


@pytest.fixture(scope="module")
def same_names(tmp_path_factory):
    """Two logs called run.h5, in directories a/ and b/, differing only in `baseline`."""
    d = tmp_path_factory.mktemp("same")
    for sub, cfg in (("a", RF_B1), ("b", RF_B0)):
        os.mkdir(d / sub)
        _write(str(d / sub / "run.h5"), 1, cfg, 1e-3)
    return [str(d / "a" / "run.h5"), str(d / "b" / "run.h5")]


def analyze(*argv):
    """(exit code, records) of one in-process invocation."""
    record = []
    code = cli.main([str(a) for a in argv], record=record)
    return code, record


def _flat(texts):
    """Drawn texts with their line breaks undone (long labels are wrapped between options)."""
    return [t.replace("\n", " ") for t in texts]


def _paths(record):
    return [p for r in record for p in r["paths"]]


def _assert_distinct_files(record, out):
    paths = _paths(record)
    assert len(paths) == len(set(paths)), paths
    assert sorted(paths) == sorted(os.path.join(out, f) for f in os.listdir(out))


def test_group_labels_name_every_differing_option(runs_dir):
    groups = common.group_runs([RunLog(str(p)) for p in sorted(runs_dir.iterdir())])
    assert sorted(g.label for g in groups) == sorted(LABELS.values())
    b1 = [g for g in groups if g.label == LABELS["b1"]][0]
    assert sorted(r.seed for r in b1.runs) == [1, 2]  # total_steps differs: one group still
    assert all("total_steps" not in g.label and "eval_every" not in g.label for g in groups)


def test_curves_legend(runs_dir, tmp_path):
    code, record = analyze("curves", runs_dir, "--out", tmp_path, "--window", 5)
    assert code == 0
    (fig,) = record
    legend = _flat(fig["legend"])
    assert "%s (2 seeds), mean" % LABELS["b1"] in legend
    assert "%s (seed 1)" % LABELS["b0"] in legend
    assert "%s (seed 1)" % LABELS["ppo"] in legend
    assert len(legend) == len(set(legend))
    _assert_distinct_files(record, str(tmp_path))


def test_returns_legend(runs_dir, tmp_path):
    code, record = analyze("returns", runs_dir, "--out", tmp_path)
    assert code == 0
    (fig,) = record
    for key, seeds in (("ppo", "seed 1"), ("b1", "2 seeds"), ("b0", "seed 1")):
        assert [t for t in _flat(fig["legend"]) if t.startswith("%s (%s, " % (LABELS[key], seeds))], fig["legend"]
    assert len(fig["legend"]) == len(set(fig["legend"]))


def test_diagnostics_one_file_per_group(runs_dir, tmp_path):
    code, record = analyze("diagnostics", runs_dir, "--out", tmp_path)
    assert code == 0
    assert len(record) == 3
    titles = sorted(_flat(r["titles"])[0] for r in record)  # the suptitle names the group
    assert titles == sorted(["%s: PPO diagnostics (seed 1)" % LABELS["ppo"],
                             "%s: REINFORCE diagnostics (2 seeds)" % LABELS["b1"],
                             "%s: REINFORCE diagnostics (seed 1)" % LABELS["b0"]])
    _assert_distinct_files(record, str(tmp_path))
    assert len(_paths(record)) == 3
    b1 = [r for r in record if _flat(r["titles"])[0].startswith(LABELS["b1"])][0]
    assert "seed 1" in b1["legend"] and "seed 2" in b1["legend"]


def test_diagnostics_repeated_seed_named_by_run(runs_dir, tmp_path):
    # seeds 1 and 1, differing only in total_steps: one group, two lines told apart by run name
    d = tmp_path / "logs"
    d.mkdir()
    _write(str(d / "short.h5"), 1, RF_B1, 1e-3)
    _write(str(d / "long.h5"), 1, RF_B1, 1e-3, total_steps=np.int64(999424))
    code, record = analyze("diagnostics", d, "--out", tmp_path / "o")
    assert code == 0
    (fig,) = record
    assert "seed 1 (long)" in fig["legend"] and "seed 1 (short)" in fig["legend"]


def test_per_run_commands_keep_same_named_logs_apart(same_names, tmp_path):
    for cmd, extra in (("actions", []), ("animate", ["--max-frames", "3", "--size", "64x48", "--no-mp4",
                                                    "--still", "-1"]),
                       ("export", []), ("timing", []), ("summary", ["-q"])):
        out = tmp_path / cmd
        code, record = analyze(cmd, *same_names, "--out", out, *extra)
        assert code == 0, cmd
        _assert_distinct_files(record, str(out))
        names = sorted(os.listdir(out))
        if cmd not in ("summary", "timing"):  # one output (or set) per run, named after its directory
            assert [n for n in names if "a_run" in n] and [n for n in names if "b_run" in n], names
    # timing's bars name each run in full
    code, record = analyze("timing", *same_names, "--out", tmp_path / "t2")
    ticks = _flat(record[0]["xticklabels"])
    assert "2 x 1 a_run" in ticks and "2 x 1 b_run" in ticks


def test_summary_rows_name_their_options(same_names, tmp_path, capsys):
    code, _record = analyze("summary", *same_names, "--out", tmp_path, "--table", "csv")
    assert code == 0
    import csv
    import io
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["run"], r["options"]) for r in rows] == [("a_run", "baseline=true"),
                                                        ("b_run", "baseline=false")]


@pytest.mark.parametrize("cmd", ["curves", "diagnostics", "returns", "actions", "timing", "summary",
                                 "export", "animate"])
def test_earlier_files_are_not_overwritten(runs_dir, tmp_path, cmd, capsys):
    extra = ["--max-frames", "2", "--size", "64x48", "--no-mp4"] if cmd == "animate" else []
    out = tmp_path / "o"
    log = str(runs_dir / "rf_b0_s1.h5")
    code, record = analyze(cmd, log, "--out", out, *extra)
    assert code == 0
    before = {p: open(p, "rb").read() for p in _paths(record)}
    os.utime(_paths(record)[0], (1, 1))
    capsys.readouterr()
    code, _ = analyze(cmd, log, "--out", out, *extra)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_OUTPUT
    assert len(err) == 1 and err[0].startswith("ppo-analyze: error: %s/" % out) and "--force" in err[0]
    assert {p: open(p, "rb").read() for p in before} == before
    assert os.stat(_paths(record)[0]).st_mtime == 1  # untouched
    assert sorted(os.listdir(out)) == sorted(os.path.basename(p) for p in before)  # no temp files
    code, record2 = analyze(cmd, log, "--out", out, "--force", *extra)
    assert code == 0 and _paths(record2) == _paths(record)
    assert os.stat(_paths(record)[0]).st_mtime > 1


def test_refusal_comes_before_any_write(runs_dir, tmp_path):
    # the second group's file exists: the first group's is not written either
    out = tmp_path / "o"
    code, record = analyze("diagnostics", runs_dir, "--out", out)
    assert code == 0
    keep = _paths(record)[-1]
    for p in _paths(record)[:-1]:
        os.unlink(p)
    code, _ = analyze("diagnostics", runs_dir, "--out", out)
    assert code == EXIT_OUTPUT
    assert os.listdir(out) == [os.path.basename(keep)]


def test_claims_unique_within_an_invocation(tmp_path):
    out = Outputs(str(tmp_path))
    a = out.claim("diagnostics_hidden=64,64", ["png", "pdf"])
    b = out.claim("diagnostics_hidden=64;64", ["png", "pdf"])  # the same file-name stem
    assert a != b and not set(a) & set(b)
    assert [os.path.basename(p) for p in b] == ["diagnostics_hidden_64_64_2.png",
                                                "diagnostics_hidden_64_64_2.pdf"]
    long1, long2 = ("x" * 200 + "a=1"), ("x" * 200 + "a=2")
    (p1,), (p2,) = out.claim(long1, ["png"]), out.claim(long2, ["png"])
    assert p1 != p2 and len(os.path.basename(p1)) < 140
    assert all(os.path.isabs(p) for p in a + b + [p1, p2])


class _Config:
    """Just what grouping reads from a run."""

    def __init__(self, name, **config):
        self.config, self.name, self.path = dict(env="CartPole-v1", seed=1, **config), name, name

    env = property(lambda self: self.config["env"])


def test_labels_keep_floats_apart():
    groups = common.group_runs([_Config("a", lr=3e-4), _Config("b", lr=3.0000001e-4)])
    assert sorted(g.label for g in groups) == ["CartPole-v1 lr=0.0003", "CartPole-v1 lr=0.00030000001"]


def test_labels_of_values_that_print_alike():
    groups = common.group_runs([_Config("a", hidden=64), _Config("b", hidden="64")])
    assert [g.label for g in groups] == ["CartPole-v1 hidden=64", "CartPole-v1 hidden=64 #2"]
    assert [g.options for g in groups] == ["hidden=64", "hidden=64 #2"]



def test_unwritable_out_is_one_line(tmp_path, capsys):
    plain = tmp_path / "plain"
    plain.write_text("not a directory")
    log = synth_log.write_log(str(tmp_path / "x.h5"), synth_log.make_run(updates=4, trajectories=False))
    for out, why in ((plain, "%s: --out is not a directory" % plain),
                     (plain / "sub", "%s: cannot write it (Not a directory)" % (plain / "sub" / "x_metrics.csv"))):
        code, _ = analyze("export", log, "--out", out)
        err = capsys.readouterr().err.strip().splitlines()
        assert code == EXIT_OUTPUT and err == ["ppo-analyze: error: %s" % why]
    assert plain.read_text() == "not a directory"
