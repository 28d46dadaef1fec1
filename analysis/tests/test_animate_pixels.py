"""`animate` of an image env's recording (CarRacing-v3 through `ppo eval --record`): the frames come
from the uint8 /trajectories/obs, enlarged with nearest pixels, under the usual header. The file
here is written as ppo writes one (docs/log-schema.md, "Evaluation recordings"), with frames whose
every pixel is known; tests/cli/test_record_pixels.py animates a real recording."""

import math

import h5py
import numpy as np
import pytest
from PIL import Image

from analysis.logfile import RunLog
from analysis.tests.imgcheck import gif_frames

H = W = 96
HEADER = 58  # render.with_header's title and text lines


def _frames(rng, n):
    """n frames of 12x12-pixel blocks of random colours (each block its own colour), so that a
    wrong scale, crop or frame order shows."""
    blocks = rng.integers(0, 256, size=(n, H // 12, W // 12, 3), dtype=np.uint8)
    return np.repeat(np.repeat(blocks, 12, axis=1), 12, axis=2)


def _recording(path, lengths, obs_dtype=np.uint8, seed=0, flat=False):
    rng = np.random.default_rng(seed)
    steps = int(sum(lengths))
    frames = _frames(rng, steps).astype(obs_dtype)
    if flat:  # each frame as one row of H * W * 3 bytes
        frames = frames.reshape(steps, -1)
    with h5py.File(path, "w") as f:
        f.attrs.update({"format": "ppo-log", "schema_version": np.int64(1), "content": "evaluation"})
        c = f.create_group("config")
        c.attrs.update({"env": "CarRacing-v3", "env_options": "", "seed": np.int64(5),
                        "episodes": np.int64(len(lengths)), "obs_dim": np.int64(H * W * 3),
                        "action_dim": np.int64(3), "action_count": np.int64(0),
                        "action_kind": "continuous", "update": np.int64(1),
                        "reward_threshold": 900.0})
        f.create_group("metrics").create_dataset("update", data=np.zeros(0, np.int64))
        f.create_group("episodes").create_dataset("update", data=np.zeros(0, np.int64))
        t = f.create_group("trajectories")
        t.attrs.update({"env": "CarRacing-v3", "render_dim": np.int64(20)})
        t.create_dataset("obs", data=frames, chunks=(1,) + frames.shape[1:], compression="gzip")
        t.create_dataset("actions", data=rng.uniform(-1, 1, (steps, 3)).astype(np.float32))
        rewards = rng.normal(0, 1, steps).astype(np.float32)
        t.create_dataset("rewards", data=rewards)
        for name in ("logprobs", "values"):
            t.create_dataset(name, data=np.zeros(steps, np.float32))
        ends = np.cumsum(lengths) - 1
        term = np.zeros(steps, np.uint8)
        term[ends] = 1
        t.create_dataset("terminated", data=term)
        t.create_dataset("truncated", data=np.zeros(steps, np.uint8))
        t.create_dataset("render", data=np.zeros((steps, 20), np.float32))
        i = t.create_group("index")
        offs = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        n = len(lengths)
        cols = {"episode_id": np.arange(n), "offset": offs, "length": np.asarray(lengths),
                "rank": np.zeros(n), "env_index": np.arange(n), "update": np.ones(n),
                "seed": 5 + np.arange(n)}
        for k, v in cols.items():
            i.create_dataset(k, data=np.asarray(v, dtype=np.int64))
        i.create_dataset("return", data=np.array([rewards[o:o + m].sum() for o, m in zip(offs, lengths)],
                                                 dtype=np.float64))
    return frames


def test_frames_enlarged_x4(run_cli, tmp_path):
    """One episode: a GIF frame per step of 4x the frame plus the header; the PNG still (not
    quantized like the GIF) is the recorded frame, every pixel a 4x4 block of it."""
    path = tmp_path / "rec.h5"
    frames = _recording(path, [23, 17])
    code, _out, err = run_cli("animate", path, "--episode", 1, "--still", 2, "--no-mp4",
                              "--out", tmp_path)
    assert code == 0, err
    gif = tmp_path / "animate_rec_ep1.gif"
    assert gif_frames(gif) == 17
    assert Image.open(gif).size == (4 * W, 4 * H + HEADER)
    png = np.asarray(Image.open(tmp_path / "animate_rec_ep1_frame2.png").convert("RGB"))
    assert png.shape == (4 * H + HEADER, 4 * W, 3)
    scene = png[HEADER:]
    want = frames[23 + 2]  # episode 1 starts at row 23
    np.testing.assert_array_equal(scene[::4, ::4], want)
    np.testing.assert_array_equal(scene[3::4, 3::4], want)  # nearest: whole 4x4 blocks


def test_early_vs_late_and_size(run_cli, tmp_path):
    """Two episodes side by side, as long as the longer; --size picks the largest whole factor that
    fits (200x150: 1x) and --stride thins the frames."""
    path = tmp_path / "two.h5"
    _recording(path, [10, 31], seed=1)
    code, _out, err = run_cli("animate", path, "--no-mp4", "--out", tmp_path)
    assert code == 0, err
    gif = tmp_path / "animate_two_ep0-vs-ep1.gif"
    assert gif_frames(gif) == 31
    assert Image.open(gif).size == (2 * 4 * W + 8, 4 * H + HEADER)
    out2 = tmp_path / "small"
    code, _out, err = run_cli("animate", path, "--episode", 1, "--size", "200x150", "--stride", 4,
                              "--no-mp4", "--out", out2)
    assert code == 0, err
    gif = out2 / "animate_two_ep1.gif"
    assert gif_frames(gif) == math.ceil(31 / 4)
    assert Image.open(gif).size == (W, H + HEADER)


def test_frames_must_be_bytes(tmp_path):
    """A 4-D obs that is not uint8 is no recording ppo writes: refused when the log is opened."""
    path = tmp_path / "float.h5"
    _recording(path, [5], obs_dtype=np.float32)
    with pytest.raises(Exception, match="expected uint8"):
        RunLog(str(path))


def test_flat_frames_named(run_cli, tmp_path):
    """uint8 rows that are not (steps, height, width, channels): one line naming their shape (it said
    "no drawing for env CarRacing-v3"), non-zero exit, no picture."""
    path = tmp_path / "flat.h5"
    _recording(path, [5], flat=True)
    code, _out, err = run_cli("animate", path, "--no-mp4", "--out", tmp_path)
    assert code != 0
    assert "have shape (5, %d)" % (H * W * 3) in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.glob("*.gif"))
