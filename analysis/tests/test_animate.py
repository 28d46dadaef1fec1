"""`animate` and the env drawings."""

import math
import os
import shutil

import h5py
import numpy as np
import pytest
from PIL import Image

from analysis import render
from analysis.logfile import RunLog
from analysis.tests import synth_log
from analysis.tests.imgcheck import assert_picture, gif_frames, has_colour

ENVS = ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "Pendulum-v1", "LunarLander-v3",
        "BipedalWalker-v3"]


def _index(path):
    with h5py.File(path, "r") as f:
        return {k: f["trajectories/index"][k][()] for k in ("episode_id", "length", "update")}


def test_early_vs_late_frame_count(run_cli, synth, tmp_path):
    p = synth["lunarlander"]
    idx = _index(p)
    first, last = np.argmin(idx["update"]), np.argmax(idx["update"])
    assert first != last
    code, _out, err = run_cli("animate", p, "--out", tmp_path, "--size", "240x160",
                              "--still", 5, "--no-mp4")
    assert code == 0, err
    gif = tmp_path / ("animate_lunarlander_ep%d-vs-ep%d.gif" % (idx["episode_id"][first],
                                                               idx["episode_id"][last]))
    assert gif_frames(gif) == max(idx["length"][first], idx["length"][last])
    im = Image.open(gif)
    assert im.size == (2 * 240 + 8, 160 + 58)  # two panels + gutter, header above the scene
    still = tmp_path / (gif.stem + "_frame5.png")
    assert_picture(still, min_size=(480, 200), min_colours=10)


@pytest.mark.parametrize("stride", [1, 7])
def test_single_episode_and_stride(run_cli, synth, tmp_path, stride):
    p = synth["cartpole_s2"]
    idx = _index(p)
    eid = int(idx["episode_id"][1])
    n = int(idx["length"][1])
    code, _out, err = run_cli("animate", p, "--episode", eid, "--stride", stride,
                              "--size", "160x120", "--out", tmp_path, "--no-mp4")
    assert code == 0, err
    gif = tmp_path / ("animate_cartpole_s2_ep%d.gif" % eid)
    assert gif_frames(gif) == math.ceil(n / stride)


def test_max_frames_raises_stride(run_cli, synth, tmp_path):
    p = synth["cartpole_s3"]
    idx = _index(p)
    code, _out, err = run_cli("animate", p, "--max-frames", 40, "--size", "160x120",
                              "--out", tmp_path, "--no-mp4")
    assert code == 0, err
    (gif,) = [f for f in os.listdir(tmp_path) if f.endswith(".gif")]
    longest = max(idx["length"][np.argmin(idx["update"])], idx["length"][np.argmax(idx["update"])])
    assert gif_frames(tmp_path / gif) == math.ceil(longest / math.ceil(longest / 40)) <= 40


def test_frames_show_step_and_return(synth):
    """Frame text changes with the step; the last frame is the episode's end."""
    from analysis.animate import Panel
    r = RunLog(synth["mountaincar"])
    ep = r.episode(int(r.traj_index["episode_id"][0]))
    panel = Panel(r, r.env, "early", ep, 1, (200, 150))
    a, b = np.asarray(panel.frame(0)), np.asarray(panel.frame(1))
    assert a.shape == b.shape and (a != b).any()
    # frames past the end hold the last one
    last = len(ep["rewards"]) - 1
    np.testing.assert_array_equal(np.asarray(panel.frame(last)), np.asarray(panel.frame(last + 5)))


@pytest.mark.parametrize("env", ENVS)
def test_each_env_is_drawn(env, tmp_path):
    """Every env's scene is drawn from its render state, and moves when the state does."""
    rng = np.random.default_rng(3)
    ep = synth_log.SIMULATORS[env](rng, 1.0, 120)
    states = ep["render"]
    assert states.shape[1] == render.RENDER_DIMS[render.env_family(env)]
    a = render.draw_scene(env, states[0], (240, 180))
    b = render.draw_scene(env, states[-1], (240, 180))
    a.save(tmp_path / "a.png")
    assert_picture(tmp_path / "a.png", min_size=(240, 180), min_colours=3, min_ink=0.01)
    assert (np.asarray(a) != np.asarray(b)).any()


def test_lunarlander_layout_pieces(tmp_path):
    """Flames and leg contacts of the LunarLander layout change the picture where expected."""
    rng = np.random.default_rng(0)
    st = synth_log.sim_lunarlander(rng, 1.0)["render"][50].astype(float)
    lay = render.BOX2D_LAYOUTS["LunarLander"]
    off_e, _ = lay["main"]
    off_s, _ = lay["side"]
    st[off_e] = st[off_s] = 0
    off = render.draw_scene("LunarLander-v3", st, (300, 200))
    st[off_e] = 1.0
    on = render.draw_scene("LunarLander-v3", st, (300, 200))
    off.save(tmp_path / "off.png")
    on.save(tmp_path / "on.png")
    assert not has_colour(tmp_path / "off.png", (255, 140, 0), tol=10, min_pixels=5)
    assert has_colour(tmp_path / "on.png", (255, 140, 0), tol=10, min_pixels=5)


def test_box2d_layout_sizes_match_docs():
    """docs/render-state.md: LunarLander render_dim 40, BipedalWalker 189."""
    assert render.layout_dim("LunarLander") == 40
    assert render.layout_dim("BipedalWalker") == 189


def test_action_labels():
    assert render.action_label("CartPole-v1", [1.0], True) == "1 (push right)"
    assert render.action_label("LunarLander-v3", [2.0], True) == "2 (main engine)"
    assert render.action_label("Pendulum-v1", [0.5], False) == "[+0.50]"


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed: MP4 optional")
def test_mp4_when_ffmpeg_present(run_cli, synth, tmp_path):
    code, _out, err = run_cli("animate", synth["pendulum"], "--max-frames", 20, "--size",
                              "160x120", "--out", tmp_path)
    assert code == 0, err
    mp4 = [f for f in os.listdir(tmp_path) if f.endswith(".mp4")]
    assert len(mp4) == 1 and os.path.getsize(tmp_path / mp4[0]) > 1000
    (gif,) = [f for f in os.listdir(tmp_path) if f.endswith(".gif")]
    if shutil.which("ffprobe"):
        import subprocess
        res = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                              "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0",
                              str(tmp_path / mp4[0])], capture_output=True, text=True)
        assert int(res.stdout.strip()) == gif_frames(tmp_path / gif)


def test_frames_beyond_memory_are_refused(run_cli, synth, tmp_path, monkeypatch):
    """The GIF writer holds every frame (a byte per pixel, ~2x at its peak): a movie over the bound is
    refused after one frame is drawn, naming the --max-frames that fits; under it, written."""
    from analysis import animate
    code, _out, err = run_cli("animate", synth["lunarlander"], "--out", tmp_path / "a", "--no-mp4")
    assert code == 0, err
    monkeypatch.setattr(animate, "GIF_MAX_FRAME_BYTES", 10 * 420 * 280)  # room for a few frames only
    code, _out, err = run_cli("animate", synth["lunarlander"], "--out", tmp_path / "b", "--no-mp4")
    assert code == 2 and "need" in err and "--max-frames (or --stride) of at most" in err, (code, err)
    assert not (tmp_path / "b").exists() or not list((tmp_path / "b").glob("*.gif"))
    fit = int(err.rsplit("at most ", 1)[1].split()[0])
    code, _out, err = run_cli("animate", synth["lunarlander"], "--out", tmp_path / "c", "--no-mp4",
                              "--max-frames", fit)
    assert code == 0, err


def test_still_out_of_range_is_refused(run_cli, synth, tmp_path):
    """--still K was clamped to the first or last frame; now K must be a frame of the GIF (-n to n-1)."""
    p = synth["cartpole_s2"]
    idx = _index(p)
    eid, n = int(idx["episode_id"][1]), int(idx["length"][1])
    common = ("--episode", eid, "--size", "160x120", "--no-mp4")
    for k in (n, -n - 1, 10 ** 9):
        code, _out, err = run_cli("animate", p, "--still", k, "--out", tmp_path / "o", *common)
        assert code == 2, err
        assert err.strip() == ("ppo-analyze: error: %s: --still %d is out of range: its GIF has %d frames "
                               "(K from %d to %d)" % (p, k, n, -n, n - 1))
    assert not (tmp_path / "o").exists()
    for k, frame in ((-n, 0), (n - 1, n - 1)):
        code, _out, err = run_cli("animate", p, "--still", k, "--out", tmp_path / "o", "--force", *common)
        assert code == 0, err
        assert (tmp_path / "o" / ("animate_cartpole_s2_ep%d_frame%d.png" % (eid, frame))).is_file()
