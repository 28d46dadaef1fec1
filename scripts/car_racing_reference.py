#!/usr/bin/python3
"""Reference data from the real Gymnasium CarRacing-v3, for testing the C port (src/envs/car_racing*).

Writes tests/data/car_racing/frames.json (renderer reference) and trace.json (physics reference) in
the format of tests/data/car_racing/README.md, or measures Gymnasium's env-only speed (--bench).

Needs, importable by /usr/bin/python3: gymnasium (from source), Box2D (pybox2d, built with swig),
pygame (Debian's python3-pygame 2.1.2) and numpy. None of them is a dependency of the project. Here
(Debian 12, no PyPI) it was run as:

    apt-get install -y python3-pygame swig python3-cloudpickle python3-typing-extensions
    # pybox2d 2.3.10 (Box2D 2.3.0) from github:pybox2d/pybox2d, built in place:
    (cd /tmp/pybox2d && python3 setup.py build_ext --inplace)
    # Gymnasium from a source checkout: git archive HEAD gymnasium | tar -x -C /tmp/gym
    SDL_VIDEODRIVER=dummy PYTHONPATH=/tmp/pybox2d/library:/tmp/gym \\
        /usr/bin/python3 scripts/car_racing_reference.py --out tests/data/car_racing
    SDL_VIDEODRIVER=dummy PYTHONPATH=/tmp/pybox2d/library:/tmp/gym \\
        /usr/bin/python3 scripts/car_racing_reference.py --bench 2000

The RNG draws of reset are recorded by wrapping the Generator that Env.reset(seed=...) creates in a
proxy that logs every value it returns; the script checks that the proxy changes nothing (same
track with and without it).
"""
import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import time
import zlib

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import numpy as np  # noqa: E402
import gymnasium as gym  # noqa: E402
from gymnasium.utils import seeding  # noqa: E402

PLAYFIELD = 2000 / 6.0  # car_racing.py: episode ends (reward -100) when |x| or |y| exceeds it


class RecordingRNG:
    """Forwards to a numpy Generator and appends every value a method returns (flattened) to draws."""

    def __init__(self, gen, draws):
        self._gen = gen
        self._draws = draws

    def __getattr__(self, name):
        attr = getattr(self._gen, name)
        if not callable(attr):
            return attr

        def recorded(*args, **kwargs):
            value = attr(*args, **kwargs)
            self._draws.extend(float(v) for v in np.ravel(value))
            return value

        return recorded


def pcg64_state(gen):
    """The PCG64 state of a Generator as hex strings (128-bit integers do not fit JSON numbers)."""
    st = gen.bit_generator.state
    return {"state": hex(st["state"]["state"]), "inc": hex(st["state"]["inc"]),
            "has_uint32": int(st["has_uint32"]), "uinteger": hex(st["uinteger"])}


def pcg64_raw(gen, n):
    """The next n raw 64-bit outputs of a copy of gen's PCG64, as hex strings."""
    bg = np.random.PCG64()
    bg.state = gen.bit_generator.state
    return [hex(int(v)) for v in bg.random_raw(n)]


def reset_recording(env, seed, rng_info=None):
    """env.reset(seed=seed) with the env's new Generator wrapped; returns (obs, draws).

    rng_info, when a dict, receives the PCG64 state right after seeding and after reset."""
    draws = []
    original = seeding.np_random

    def recording_np_random(s=None):
        gen, used_seed = original(s)
        if rng_info is not None:
            rng_info["after_seed"] = pcg64_state(gen)
            rng_info["first_raw_uint64"] = pcg64_raw(gen, 4)
        return RecordingRNG(gen, draws), used_seed

    seeding.np_random = recording_np_random  # gymnasium.core calls seeding.np_random(seed) in reset
    try:
        obs, _ = env.reset(seed=seed)
    finally:
        seeding.np_random = original
    u = env.unwrapped
    assert isinstance(u._np_random, RecordingRNG), "reset did not create a new Generator"
    u._np_random = u._np_random._gen
    if rng_info is not None:
        rng_info["after_reset"] = pcg64_state(u._np_random)
    return obs, draws


def f(x):
    return float(x)


def car_state(u):
    h = u.car.hull
    hull = [f(h.position[0]), f(h.position[1]), f(h.angle),
            f(h.linearVelocity[0]), f(h.linearVelocity[1]), f(h.angularVelocity)]
    wheels = [[f(w.position[0]), f(w.position[1]), f(w.angle), f(w.phase), f(w.omega)]
              for w in u.car.wheels]
    return hull, wheels


def on_grass(u):
    return all(len(w.tiles) == 0 for w in u.car.wheels)


def surface_rows(surf):
    """The RGB bytes of a pygame surface, row-major, top row first."""
    import pygame
    return np.ascontiguousarray(pygame.surfarray.array3d(surf).transpose(1, 0, 2)).tobytes()


def smoothscale_test():
    """A synthetic 1000x800 image and pygame's smoothscale of it to 96x96 (what env.state comes from)."""
    import pygame
    y, x = np.mgrid[0:800, 0:1000]
    rgb = np.stack([(x * 7 + y * 3) & 255, (x * y) & 255, ((x >> 3) ^ (y >> 2)) & 255], axis=-1)
    surf = pygame.Surface((1000, 800))  # the same format as CarRacing's own surface
    pygame.surfarray.blit_array(surf, rgb.astype(np.uint8).transpose(1, 0, 2))
    out = pygame.transform.smoothscale(surf, (96, 96))
    return {
        "what": "1000x800 source with r=(x*7+y*3)&255, g=(x*y)&255, b=((x>>3)^(y>>2))&255 "
                "(x column, y row from the top), scaled to 96x96 by pygame.transform.smoothscale "
                f"(backend {pygame.transform.get_smoothscale_backend()})",
        "pixels": surface_rows(out).hex(),
    }


def frame_record(u, name):
    import pygame
    full = surface_rows(u.surf)  # the 1000x800 canvas, already flipped and with the score text
    assert np.array_equal(pygame.surfarray.array3d(pygame.transform.smoothscale(u.surf, (96, 96)))
                          .transpose(1, 0, 2), u.state), "env.state is not smoothscale(env.surf)"
    hull, wheels = car_state(u)
    road = []
    for poly, color in u.road_poly:
        road.append([f(c) for p in poly for c in (p[0], p[1])] + [int(c) for c in color])
    return {
        "name": name,
        "t": f(u.t),
        "bg": [int(c) for c in u.bg_color],
        "grass": [int(c) for c in u.grass_color],
        "road": road,
        "hull": hull,
        "wheels": wheels,
        "steer": f(u.car.wheels[0].joint.angle),
        "reward": f(u.reward),
        "pixels": np.ascontiguousarray(u.state, dtype=np.uint8).tobytes().hex(),
        # additions to the contract: help to tell a failing pixel test from a failing physics one
        "tiles_under_wheels": [len(w.tiles) for w in u.car.wheels],
        "tile_visited_count": int(u.tile_visited_count),
        # the full-size canvas before smoothscale: md5, and CRC-32 of each band of 8 rows (100 bands)
        "surface_md5": hashlib.md5(full).hexdigest(),
        "surface_band_crc32": [zlib.crc32(full[i:i + 8 * 3000]) for i in range(0, len(full), 8 * 3000)],
    }


def q(x, lo, hi):
    """Clip and round to a multiple of 1/64, so the action is exact in float32 and in double."""
    return round(min(max(x, lo), hi) * 64.0) / 64.0


def heading_error(u, lookahead):
    """Angle (CCW positive) from the car's nose to a track point `lookahead` tiles past the nearest one."""
    x, y = u.car.hull.position
    track = u.track
    d2 = [(tx - x) ** 2 + (ty - y) ** 2 for (_, _, tx, ty) in track]
    i = int(np.argmin(d2))
    tx, ty = track[(i + lookahead) % len(track)][2:4]
    nose = u.car.hull.angle + math.pi / 2  # the hull's local +y is forward
    err = math.atan2(ty - y, tx - x) - nose
    return math.atan2(math.sin(err), math.cos(err))


def speed(u):
    v = u.car.hull.linearVelocity
    return math.hypot(v[0], v[1])


def drive(u, k, v_target=30.0, wiggle=0.0, brake_every=0):
    """Continuous action of a simple track follower: steer toward the track ahead, gas below v_target.

    action[0] > 0 steers right: step() calls car.steer(-action[0]) and a positive joint angle is a
    left (CCW) turn of the front wheels.
    """
    err = heading_error(u, 5)
    steer = -2.5 * err + wiggle * math.sin(0.21 * k)
    gas = 0.6 if speed(u) < v_target else 0.0
    brake = 0.0
    if brake_every and k % brake_every >= brake_every - 8:
        gas, brake = 0.0, 0.5
    return np.array([q(steer, -1, 1), q(gas, 0, 1), q(brake, 0, 1)], dtype=np.float32)


def drive_discrete(u, k):
    """Discrete action (0 nothing, 1 right, 2 left, 3 gas, 4 brake) of the same follower."""
    err = heading_error(u, 5)
    if k % 25 == 24:
        return 4
    if err > 0.15:
        return 2
    if err < -0.15:
        return 1
    return 3 if speed(u) < 25.0 else 0


def make(continuous=True, domain_randomize=False):
    return gym.make("CarRacing-v3", continuous=continuous, domain_randomize=domain_randomize,
                    lap_complete_percent=0.95)


def check_proxy_is_transparent(seed, domain_randomize):
    """Same track and colours with and without the recording proxy."""
    a, b = make(domain_randomize=domain_randomize), make(domain_randomize=domain_randomize)
    a.reset(seed=seed)
    _, draws = reset_recording(b, seed)
    ua, ub = a.unwrapped, b.unwrapped
    assert ua.track == ub.track, "recording proxy changed the track"
    assert np.array_equal(ua.state, ub.state), "recording proxy changed the first frame"
    assert np.array_equal(ua.road_color, ub.road_color)
    a.close()
    b.close()
    return len(draws)


def make_frames():
    frames = []

    # seed 0: the zoom animation (zoom grows until t = 1) and then the follower driving for 300 steps
    env = make()
    u = env.unwrapped
    reset_recording(env, 0)
    frames.append(frame_record(u, "seed 0, right after reset (one step(None); zoom animation, t=0.02)"))
    want = {10: "zoom animation", 25: "zoom animation", 48: "last step of the zoom animation",
            49: "t = 1.0000000000000004 (summed 1/50s), so zoom is already full",
            60: "zoom done", 150: "driving, touched tiles recoloured", 300: "driving"}
    for k in range(1, 301):
        env.step(drive(u, k))
        if k in want:
            frames.append(frame_record(u, f"seed 0, step {k} of the follower (v 30): {want[k]}"))
    env.close()

    # seed 1 with domain_randomize: random road, background and grass colours
    env = make(domain_randomize=True)
    u = env.unwrapped
    reset_recording(env, 1)
    for k in range(1, 81):
        env.step(drive(u, k))
    frames.append(frame_record(u, "seed 1, domain_randomize=True, step 80 of the follower"))
    env.close()

    # seed 2: steer hard right with gas until all four wheels are on grass
    env = make()
    u = env.unwrapped
    reset_recording(env, 2)
    k, grass_steps = 0, 0
    while grass_steps < 15 and k < 400:
        k += 1
        env.step(np.array([1.0, 0.5, 0.0], dtype=np.float32) if k > 30 else drive(u, k))
        grass_steps = grass_steps + 1 if on_grass(u) else 0
    assert grass_steps == 15, "seed 2: the car did not leave the road"
    frames.append(frame_record(u, f"seed 2, off road: all wheels on grass for 15 steps (step {k}; "
                                  f"follower to step 30, then steer 1, gas 0.5)"))
    env.close()

    # seed 3: standing still, the score falls by 0.1 a step below zero ("-00x")
    env = make()
    u = env.unwrapped
    reset_recording(env, 3)
    k = 0
    while not (u.reward < -2.0) and k < 400:
        k += 1
        env.step(np.array([0.0, 0.0, 0.0], dtype=np.float32))
    assert u.reward < -2.0, "seed 3: the score did not go negative"
    frames.append(frame_record(u, f"seed 3, no action for {k} steps: negative score "
                                  f"({u.reward:04.0f})"))
    env.close()
    return frames


def trace_episode(seed, continuous, domain_randomize, n_steps, policy):
    env = make(continuous=continuous, domain_randomize=domain_randomize)
    u = env.unwrapped
    rng = {}
    _, draws = reset_recording(env, seed, rng)
    hull, wheels = car_state(u)
    steps = [{"action": None, "reward": 0.0, "terminated": False, "truncated": False,
              "hull": hull, "wheels": wheels, "tile_visited_count": int(u.tile_visited_count),
              "steer": f(u.car.wheels[0].joint.angle), "score": f(u.reward),
              "tiles_under_wheels": [len(w.tiles) for w in u.car.wheels]}]
    for k in range(1, n_steps + 1):
        action = policy(u, k)
        _, reward, terminated, truncated, _ = env.step(action)
        hull, wheels = car_state(u)
        steps.append({
            "action": [f(a) for a in action] if continuous else int(action),
            "reward": f(reward), "terminated": bool(terminated), "truncated": bool(truncated),
            "hull": hull, "wheels": wheels, "tile_visited_count": int(u.tile_visited_count),
            # additions to the contract
            "steer": f(u.car.wheels[0].joint.angle), "score": f(u.reward),
            "tiles_under_wheels": [len(w.tiles) for w in u.car.wheels],
        })
        if terminated or truncated:
            break
    episode = {
        "seed": seed,
        "options": {"continuous": continuous, "domain_randomize": domain_randomize,
                    "lap_complete_percent": 0.95},
        "draws": draws,
        "track": [[f(a), f(b), f(x), f(y)] for (a, b, x, y) in u.track],
        "steps": steps,
        # additions to the contract: the colours as Gymnasium holds them (floats when randomized)
        "colors": {"road": [f(c) for c in u.road_color], "bg": [f(c) for c in u.bg_color],
                   "grass": [f(c) for c in u.grass_color]},
        "n_road_poly": len(u.road_poly),
        # SeedSequence(seed) -> PCG64 as numpy does it, and where reset left it (has_uint32: a
        # Generator.integers draw below 2^32 used half of a 64-bit output and kept the other half)
        "pcg64": rng,
    }
    env.close()
    return episode


def make_trace():
    return [
        trace_episode(0, True, False, 300, lambda u, k: drive(u, k, v_target=30.0)),
        trace_episode(1, True, True, 300, lambda u, k: drive(u, k, v_target=40.0, brake_every=60)),
        trace_episode(2, True, False, 300, lambda u, k: drive(u, k, v_target=35.0, wiggle=0.6)),
        # seed 4: straight ahead at gas 0.4 onto the grass until it leaves the playfield (reward -100)
        trace_episode(4, True, False, 400, lambda u, k: np.array([0.0, 0.4, 0.0], dtype=np.float32)),
        # seed 36: the first track fails and is regenerated (48 draws instead of 24)
        trace_episode(36, False, False, 100, drive_discrete),
    ]


def source_text(command):
    def git(path, *args):
        try:
            return subprocess.run(["git", "-C", path, *args], capture_output=True, text=True,
                                  check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "unknown"

    import Box2D
    import pygame
    gym_dir = os.path.dirname(os.path.dirname(os.path.abspath(gym.__file__)))
    return (f"Gymnasium {gym.__version__} ({os.environ.get('GYM_COMMIT', 'commit ' + git(gym_dir, 'rev-parse', 'HEAD'))}), "
            f"pybox2d {Box2D.__version__} (Box2D 2.3.0), pygame {pygame.version.ver} "
            f"(SDL {'.'.join(map(str, pygame.get_sdl_version()))}), numpy {np.__version__}, "
            f"Python {sys.version.split()[0]}; SDL_VIDEODRIVER=dummy; command: {command}")


def write_json(path, top, list_key):
    """One element of top[list_key] per line: readable diffs, compact numbers (repr round-trips)."""
    head = {k: v for k, v in top.items() if k != list_key}
    with open(path, "w") as fp:
        fp.write(json.dumps(head, separators=(",", ":"))[:-1])
        fp.write(f',"{list_key}":[\n')
        items = top[list_key]
        for i, item in enumerate(items):
            if list_key == "episodes":
                steps = item["steps"]
                rest = {k: v for k, v in item.items() if k != "steps"}
                fp.write(json.dumps(rest, separators=(",", ":"))[:-1] + ',"steps":[\n')
                fp.write(",\n".join(json.dumps(s, separators=(",", ":")) for s in steps))
                fp.write("\n]}")
            else:
                fp.write(json.dumps(item, separators=(",", ":")))
            fp.write(",\n" if i + 1 < len(items) else "\n")
        fp.write("]}\n")


def bench(n_steps):
    """Env-only steps/s of CarRacing-v3 as normally used: state_pixels observations, random actions."""
    env = gym.make("CarRacing-v3")
    env.action_space.seed(0)
    env.reset(seed=0)
    u = env.unwrapped
    render = u._render
    in_render = [0.0]

    def timed_render(mode):  # instance attribute shadows the method: times the 96x96 drawing
        r0 = time.perf_counter()
        out = render(mode)
        in_render[0] += time.perf_counter() - r0
        return out

    u._render = timed_render
    resets = 0
    t0 = time.perf_counter()
    for _ in range(n_steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
            resets += 1
    dt = time.perf_counter() - t0
    print(f"CarRacing-v3: {n_steps} steps (+{resets} resets) in {dt:.2f} s = {n_steps / dt:.1f} steps/s"
          f" ({100 * in_render[0] / dt:.0f}% of the time in _render('state_pixels'))")


def sensitivity(trace_path):
    """How far a replay of trace.json's continuous episodes drifts after a tiny change at reset.

    Tells how tight a test of the C port (other Box2D version, other rounding) can be."""
    with open(trace_path) as fp:
        episodes = json.load(fp)["episodes"]

    def shift_car(u, d):
        for b in [u.car.hull] + u.car.wheels:
            b.position = (b.position[0] + d, b.position[1])

    def nudge_omega(u, d):
        u.car.wheels[0].omega += d

    for ep in episodes:
        if not ep["options"]["continuous"]:
            continue
        for what, change, size in (("wheel 0 omega +", nudge_omega, 1e-6),
                                   ("car x +", shift_car, 1e-3)):
            env = make(domain_randomize=ep["options"]["domain_randomize"])
            u = env.unwrapped
            reset_recording(env, ep["seed"])
            change(u, size)
            worst, worst_angle, k = 0.0, 0.0, 0
            for k, st in enumerate(ep["steps"][1:], 1):
                _, _, terminated, truncated, _ = env.step(np.array(st["action"], dtype=np.float32))
                hull, _ = car_state(u)
                worst = max(worst, abs(hull[0] - st["hull"][0]), abs(hull[1] - st["hull"][1]))
                worst_angle = max(worst_angle, abs(hull[2] - st["hull"][2]))
                if terminated or truncated:
                    break
            print(f"seed {ep['seed']}: {what}{size:g} at reset -> hull position off by at most "
                  f"{worst:.3g} m, angle by {worst_angle:.3g} rad over {k} steps")
            env.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="tests/data/car_racing", help="directory for the two files")
    ap.add_argument("--bench", type=int, default=0, help="only measure steps/s over this many steps")
    ap.add_argument("--sensitivity", action="store_true",
                    help="only replay OUT/trace.json after a tiny change at reset and print the drift")
    args = ap.parse_args()
    if args.bench:
        bench(args.bench)
        return
    if args.sensitivity:
        sensitivity(os.path.join(args.out, "trace.json"))
        return
    command = (f"SDL_VIDEODRIVER=dummy PYTHONPATH={os.environ.get('PYTHONPATH', '')} "
               f"/usr/bin/python3 scripts/car_racing_reference.py {' '.join(sys.argv[1:])}")
    n0 = check_proxy_is_transparent(0, False)
    n1 = check_proxy_is_transparent(1, True)
    print(f"recording proxy is transparent ({n0} and {n1} draws)")
    os.makedirs(args.out, exist_ok=True)
    source = source_text(command)
    frames = make_frames()
    write_json(os.path.join(args.out, "frames.json"),
               {"source": source, "smoothscale_test": smoothscale_test(), "frames": frames}, "frames")
    episodes = make_trace()
    write_json(os.path.join(args.out, "trace.json"), {"source": source, "episodes": episodes}, "episodes")
    for fr in frames:
        print(f"frame: t={fr['t']!r} reward={fr['reward']:.2f} hull={fr['hull'][:3]} {fr['name']}")
    for ep in episodes:
        last = ep["steps"][-1]
        print(f"episode seed {ep['seed']} {ep['options']}: {len(ep['draws'])} draws, "
              f"{len(ep['track'])} track points, {len(ep['steps']) - 1} steps, "
              f"tiles {last['tile_visited_count']}, score {last['score']:.2f}, "
              f"speed {math.hypot(last['hull'][3], last['hull'][4]):.1f}")
    for name in ("frames.json", "trace.json"):
        print(f"{name}: {os.path.getsize(os.path.join(args.out, name))} bytes")


if __name__ == "__main__":
    main()
