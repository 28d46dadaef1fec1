#!/usr/bin/python3
"""Reference data for --resize (src/ppo/pixels.c) from the real OpenCV and Gymnasium.

Writes tests/data/resize/inter_area.json: cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA) of
uint8 frames (what Gymnasium's ResizeObservation calls), and Gymnasium's own ResizeObservation ->
GrayscaleObservation(keep_dim=True) wrappers composed, as rl-baselines3-zoo wraps CarRacing. Inputs:
the CarRacing-v3 frames of tests/data/car_racing/frames.json (referred to by index, not copied) and
seeded random frames (stored), chosen to reach every path of OpenCV's INTER_AREA for uint8: the copy
(same size), the 2x2 integer path ((sum + 2) >> 2), other whole ratios (sum * float(1/area), rounded
to even), the weight tables of non-whole ratios, 1 to 4 channels and non-square inputs.

Needs, importable by /usr/bin/python3: cv2 (Debian's python3-opencv), numpy, and gymnasium (a source
checkout on PYTHONPATH, as for scripts/car_racing_reference.py). Run from the repository root:

    PYTHONPATH=/tmp/gym /usr/bin/python3 scripts/resize_reference.py --out tests/data/resize

Two runs give identical files. Format: tests/data/resize/README.md.
"""
import argparse
import base64
import json
import os
import platform
import subprocess
import sys

import cv2
import numpy as np
import gymnasium as gym
from gymnasium.wrappers import GrayscaleObservation, ResizeObservation

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMES = os.path.join(ROOT, "tests", "data", "car_racing", "frames.json")


class FrameEnv(gym.Env):
    """An image env whose reset returns the one frame it holds: to run Gymnasium's wrappers on it."""

    def __init__(self, frame):
        self.frame = frame
        self.observation_space = gym.spaces.Box(0, 255, frame.shape, np.uint8)
        self.action_space = gym.spaces.Discrete(1)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.frame.copy(), {}

    def step(self, action):
        return self.frame.copy(), 0.0, False, False, {}


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.uint8).tobytes()).decode("ascii")


def cv_area(frame, size):
    out = cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA)
    assert out.dtype == np.uint8 and out.shape[:2] == (size, size)
    return out


def gym_resize_gray(frame, size):
    env = GrayscaleObservation(ResizeObservation(FrameEnv(frame), (size, size)), keep_dim=True)
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.uint8 and obs.shape == (size, size, 1)
    return obs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "resize"))
    args = ap.parse_args()

    with open(FRAMES) as f:
        car = [np.frombuffer(bytes.fromhex(fr["pixels"]), np.uint8).reshape(96, 96, 3) for fr in json.load(f)["frames"]]

    rng = np.random.default_rng(20261201)
    inputs, cases = [], []

    def add_input(name, frame, stored, index=None):
        entry = {"name": name, "shape": list(frame.shape) if frame.ndim == 3 else [*frame.shape, 1]}
        if stored:
            entry["b64"] = b64(frame)
        else:
            entry["frames_json_index"] = index
        inputs.append(entry)
        return len(inputs) - 1

    def add_case(i, frame, size, gray=False):
        out = gym_resize_gray(frame, size) if gray else cv_area(frame, size)
        cases.append({"input": i, "size": size, "gray": gray, "b64": b64(out)})

    # CarRacing (zoom, driving, turned car, random colours): zoo's 64, RGB and the wrappers' resize + gray
    for k in (0, 3, 5, 7, 8, 10):
        i = add_input(f"car_racing frames.json #{k}", car[k], False, k)
        add_case(i, car[k], 64)
        add_case(i, car[k], 64, gray=True)
        if k == 5:
            for size in (84, 48, 32):
                add_case(i, car[k], size)
            add_case(i, car[k], 84, gray=True)
    # uniform noise: every byte value, no structure to hide a wrong weight or rounding
    noise = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
    i = add_input("uniform noise 96x96x3", noise, True)
    for size in (84, 65, 64, 63, 50, 48, 32, 24, 7, 1):
        add_case(i, noise, size)
    add_case(i, noise, 64, gray=True)
    # values 0..3: many means end in exactly .5, where the 2x2 path rounds up and the others to even
    ties = rng.integers(0, 4, (96, 96, 3), dtype=np.uint8)
    i = add_input("values 0..3 96x96x3 (rounding ties)", ties, True)
    for size in (64, 48, 32, 12):
        add_case(i, ties, size)
    # other channel counts (2 channels: the 2x2 path rounds to even too) and non-square frames
    for shape, sizes in (((48, 48, 1), (47, 32, 24, 16)), ((48, 48, 2), (48, 32, 24, 16)), ((48, 48, 4), (32, 24, 16)),
                         ((48, 64, 3), (32, 24, 16)), ((64, 32, 3), (32, 16, 20))):
        for name, hi in (("noise", 256), ("values 0..3", 4)):
            frame = rng.integers(0, hi, shape, dtype=np.uint8)
            i = add_input(f"{name} {shape[0]}x{shape[1]}x{shape[2]}", frame, True)
            for size in sizes:
                add_case(i, frame[:, :, 0] if shape[2] == 1 else frame, size)

    gym_commit = os.environ.get("GYM_COMMIT", "")
    if not gym_commit:
        try:
            gym_commit = subprocess.run(["git", "-C", os.path.dirname(gym.__file__), "rev-parse", "HEAD"],
                                        capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            gym_commit = "unknown commit"
    doc = {
        "source": f"scripts/resize_reference.py: OpenCV {cv2.__version__} (cv2.resize INTER_AREA), Gymnasium "
                  f"{gym.__version__} ({gym_commit}) ResizeObservation + GrayscaleObservation(keep_dim=True), "
                  f"numpy {np.__version__}, Python {platform.python_version()} on {platform.machine()}",
        "inputs": inputs,
        "cases": cases,
    }
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "inter_area.json")
    with open(path, "w") as f:  # one input or case a line
        f.write('{"source": %s,\n"inputs": [\n' % json.dumps(doc["source"]))
        f.write(",\n".join(json.dumps(x) for x in inputs))
        f.write('],\n"cases": [\n')
        f.write(",\n".join(json.dumps(x) for x in cases))
        f.write("]}\n")
    with open(path) as f:
        assert json.load(f) == doc
    print(f"{path}: {len(inputs)} inputs, {len(cases)} cases, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    sys.exit(main())
