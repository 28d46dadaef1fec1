"""`animate`: recorded episodes as a GIF (and an MP4 when ffmpeg is on PATH), drawn from the
logged render states, with the step, action and running return written on every frame; by default
the first recorded episode (early in training) and the last one (late) side by side. An image env
(CarRacing-v3) is played from its recorded frames (uint8 /trajectories/obs), enlarged with nearest
pixels: x4 by default, else the largest whole factor that fits --size."""

import math
import os
import shutil
import subprocess

import numpy as np
from PIL import Image

from .logfile import EXIT_USAGE, AnalysisError, MissingData, UsageError
from .render import RENDER_DIMS, action_label, draw_frame, draw_pixels, env_family

BG = (255, 255, 255)
DEFAULT_SIZE = (420, 280)  # a drawn scene's pixels when --size is not given
DEFAULT_SCALE = 4          # a recorded frame's enlargement when --size is not given


def choose_episodes(r, args):
    idx = r.require_trajectories()
    ids = idx["episode_id"]
    upd = idx.get("update", np.zeros(len(ids), dtype=np.int64))
    if args.episode is not None:
        return [("episode %d" % args.episode, args.episode)]
    order = np.lexsort((np.arange(len(ids)), upd))  # by update, then file order
    early = args.early if args.early is not None else int(ids[order[0]])
    late = args.late if args.late is not None else int(ids[order[-1]])
    if early == late:
        return [("episode %d" % early, early)]
    return [("early", early), ("late", late)]


def has_frames(ep):
    """Whether the episode holds its env's pictures (an image env's uint8 (S, H, W, C) obs)."""
    obs = ep.get("obs")
    return obs is not None and obs.ndim == 4 and obs.dtype == np.uint8


def _steps(ep):
    return len(ep["obs"]) if has_frames(ep) else len(ep["render"])


def _check_render(r, ep, env):
    if has_frames(ep):
        if ep["obs"].shape[3] not in (1, 3):
            raise MissingData("%s: recorded frames of %s have %d channels; can play 1 (gray) or 3 (RGB)"
                              % (r.path, env, ep["obs"].shape[3]))
        if len(ep["obs"]) == 0:
            raise MissingData("%s: recorded episode %d has no steps" % (r.path, ep["episode_id"]))
        return
    obs = ep.get("obs")
    if obs is not None and obs.dtype == np.uint8:  # bytes are frames, but not in (S, H, W, C)
        raise MissingData("%s: recorded frames of %s have shape %s; can play (steps, height, width, "
                          "channels)" % (r.path, env, tuple(obs.shape)))
    fam = env_family(env)
    if fam is None:
        raise MissingData("%s: no drawing for env %s (can draw CartPole, Acrobot, MountainCar, "
                          "Pendulum, LunarLander, BipedalWalker)" % (r.path, env))
    if "render" not in ep:
        raise MissingData("%s: /trajectories/render is missing; cannot draw the episode" % r.path)
    ren = ep["render"]
    if ren.ndim != 2 or ren.shape[1] < RENDER_DIMS[fam]:
        raise MissingData("%s: render state of %s has %s floats per step, the drawing needs %d "
                          "(docs/render-state.md)" % (r.path, env, ren.shape[1:] or "no",
                                                      RENDER_DIMS[fam]))
    if len(ren) == 0:
        raise MissingData("%s: recorded episode %d has no steps" % (r.path, ep["episode_id"]))


class Panel:
    """One recorded episode drawn frame by frame; a finished episode holds its last frame."""

    def __init__(self, r, env, tag, ep, stride, size):
        self.env, self.ep, self.stride, self.size = env, ep, stride, size
        self.length = _steps(ep)
        if has_frames(ep):  # whole enlargements of the frame: x4, or the largest that fits --size
            fh, fw = ep["obs"].shape[1:3]
            self.scale = DEFAULT_SCALE if size is None else max(1, min(size[0] // fw, size[1] // fh))
        rewards = ep.get("rewards", np.zeros(self.length)).astype(np.float64)
        self.running = np.cumsum(rewards)
        self.discrete = r.action_kind == "discrete"
        self.title = "%s: episode %d (update %s)" % (tag, ep["episode_id"], ep.get("update", "?"))
        self.end = ""
        if len(ep.get("terminated", ())) and ep["terminated"][-1]:
            self.end = "terminated"
        elif len(ep.get("truncated", ())) and ep["truncated"][-1]:
            self.end = "truncated (time limit)"

    def frame(self, k):
        ep = self.ep
        t = min(k * self.stride, self.length - 1)
        lines = ["step %d/%d" % (t + 1, self.length),
                 "return %.1f" % self.running[t],
                 "action %s" % (action_label(self.env, ep["actions"][t], self.discrete)
                                if "actions" in ep else "?")]
        if t == self.length - 1 and self.end:
            lines.append("episode %s" % self.end)
        if has_frames(ep):
            return draw_pixels(ep["obs"][t], self.scale, self.title, lines)
        return draw_frame(self.env, ep["render"][t], self.size or DEFAULT_SIZE, self.title, lines)


def compose(parts):
    """Panels side by side, separated by a grey gutter."""
    if len(parts) == 1:
        return parts[0]
    w = sum(p.width for p in parts) + 8 * (len(parts) - 1)
    h = max(p.height for p in parts)
    img = Image.new("RGB", (w, h), (120, 120, 120))
    x = 0
    for p in parts:
        img.paste(p, (x, 0))
        x += p.width + 8
    return img


class Movie:
    """Frames of one or more panels, drawn on demand (a long episode never sits in memory as
    RGB frames)."""

    def __init__(self, panels, n_frames):
        self.panels, self.n = panels, n_frames

    def __len__(self):
        return self.n

    def __getitem__(self, k):
        if k < 0:
            k += self.n
        if not 0 <= k < self.n:
            raise IndexError(k)
        return compose([p.frame(k) for p in self.panels])


def shared_palette(frames, samples=8, colors=128):
    """One palette for all frames, from a mosaic of evenly spaced frames: quantizing every frame
    against it is ~10x faster than per-frame palettes and keeps colours from flickering."""
    pick = sorted(set(np.linspace(0, len(frames) - 1, min(samples, len(frames))).astype(int)))
    w, h = frames[0].size
    mosaic = Image.new("RGB", (w, h * len(pick)))
    for i, k in enumerate(pick):
        mosaic.paste(frames[k], (0, h * i))
    return mosaic.quantize(colors=colors)


def write_gif(frames, path, fps):
    duration = max(20, int(round(1000.0 / fps)))
    pal = shared_palette(frames)
    q = [frames[k].quantize(palette=pal, dither=Image.Dither.NONE) for k in range(len(frames))]
    q[0].save(path, format="GIF", save_all=True, append_images=q[1:], duration=duration, loop=0,
              optimize=False)


def write_mp4(frames, path, fps, log, outputs):
    """The MP4 through ffmpeg (into a temporary file that `outputs` publishes); None when ffmpeg is
    missing or fails."""
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        return None
    try:
        outputs.publish(path, lambda tmp: _ffmpeg(ffmpeg, frames, tmp, fps))
    except _FfmpegFailed as exc:
        log("MP4 not written: %s" % exc)
        return None
    return path


class _FfmpegFailed(Exception):
    pass


def _ffmpeg(ffmpeg, frames, path, fps):
    w, h = frames[0].size
    cmd = [ffmpeg, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", "%dx%d" % (w, h), "-r", str(fps), "-i", "-",
           "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-pix_fmt", "yuv420p", "-c:v", "libx264",
           path]
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        for k in range(len(frames)):
            proc.stdin.write(frames[k].tobytes())
        _out, err = proc.communicate()
    except OSError as exc:
        raise _FfmpegFailed(str(exc)) from None
    if proc.returncode != 0:
        raise _FfmpegFailed("ffmpeg: %s" % err.decode(errors="replace").strip()[:200])


# The GIF writer holds every frame, quantized to a byte per pixel, and peaks at about twice that
# (measured: 109 frames of 2 panels at --size 4096x4096, 3.7 GB of frames, 7.7 GB resident).
GIF_MAX_FRAME_BYTES = 10 ** 9


class TooLarge(AnalysisError):
    exit_code = EXIT_USAGE


def _check_frame_bytes(r, frames):
    """Refuses, before drawing more than one frame, a movie whose frames would not fit GIF_MAX_FRAME_BYTES."""
    w, h = frames[0].size
    need = len(frames) * w * h
    if need > GIF_MAX_FRAME_BYTES:
        raise TooLarge("%s: %d frames of %dx%d pixels need %.1f GB in memory for the GIF, more than %.1f GB; "
                       "give a smaller --size or a --max-frames (or --stride) of at most %d"
                       % (r.path, len(frames), w, h, need / 1e9, GIF_MAX_FRAME_BYTES / 1e9,
                          max(1, GIF_MAX_FRAME_BYTES // (w * h))))


def run(args, runs, log):
    mp4 = not args.no_mp4 and shutil.which("ffmpeg")
    plans = []  # every run's episodes and paths, before anything is written
    for r in runs:
        env = r.traj_env or r.env
        eps = []
        for tag, eid in choose_episodes(r, args):
            ep = r.episode(eid)
            _check_render(r, ep, env)
            eps.append((tag, ep))
        longest = max(_steps(ep) for _t, ep in eps)
        stride = max(1, args.stride)
        if args.max_frames and math.ceil(longest / stride) > args.max_frames:
            stride = math.ceil(longest / args.max_frames)
        frames = Movie([Panel(r, env, tag, ep, stride, args.size) for tag, ep in eps],
                       math.ceil(longest / stride))
        _check_frame_bytes(r, frames)
        stem = "animate_%s_%s" % (r.name, "-vs-".join("ep%d" % e["episode_id"] for _t, e in eps))
        paths = args.outputs.claim(stem, ["gif", "mp4"] if mp4 else ["gif"])
        still = None
        if args.still is not None:
            n = len(frames)
            if not -n <= args.still < n:  # was clamped to the first or last frame, unsaid
                raise UsageError("%s: --still %d is out of range: its GIF has %d frames (K from %d to %d)"
                                 % (r.path, args.still, n, -n, n - 1))
            k = args.still % n
            name = os.path.basename(paths[0])[:-len(".gif")] + "_frame%d" % k  # named after its GIF
            still = (k, args.outputs.claim(name, ["png"])[0])
        plans.append((frames, stride, paths, still))
    written = []
    for frames, stride, paths, still in plans:
        gif = args.outputs.publish(paths[0], lambda tmp: write_gif(frames, tmp, args.fps))
        mine = [gif]
        if len(paths) > 1 and write_mp4(frames, paths[1], args.fps, log, args.outputs):
            mine.append(paths[1])
        if still:
            k, png = still
            mine.append(args.outputs.publish(png, lambda tmp: frames[k].save(tmp, format="PNG")))
        args.outputs.note(mine, titles=[p.title for p in frames.panels])
        written += mine
        log("%s: %d frames (stride %d)" % (gif, len(frames), stride))
    return written
