"""Drawings of the environments from logged render states (docs/render-state.md), with PIL.

`draw_scene(env, state, size)` returns a PIL image of one step. Classic-control layouts follow
docs/render-state.md; the Box2D layouts (LunarLander, BipedalWalker) are kept in
`BOX2D_LAYOUTS` below, the one place to change if the trainer's layout differs.

Geometry (cart size, link lengths, lander polygon, leg boxes, viewport) follows Gymnasium's own
renderers (gymnasium/envs/classic_control/*.py, gymnasium/envs/box2d/*.py) so that frames look like
the environments users know.
"""

import math
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# -- Box2D render-state layouts (docs/render-state.md): name -> (offset, count) --------------------
# LunarLander (render_dim 40): lander x, y, angle; legs[0], legs[1] x, y, angle, contact; main
# engine throttle (0 off, 0.5..1); side engine signed (-1..-0.5 action 1 = left engine, +0.5..+1
# action 3 = right engine); terrain polyline of 11 (x, y); helipad x1, x2, y; wind force, torque.
# BipedalWalker (render_dim 189): hull x, y, angle; legs[0..3] (upper -1, lower -1, upper +1,
# lower +1) x, y, angle; lower-leg contacts; 10 lidar fractions; i0; 48 terrain (x, y); number of
# obstacle boxes; 16 boxes (x1, y1, x2, y2).
BOX2D_LAYOUTS = {
    "LunarLander": {"lander": (0, 3), "leg0": (3, 4), "leg1": (7, 4), "main": (11, 1),
                    "side": (12, 1), "terrain": (13, 22), "helipad": (35, 3), "wind": (38, 2)},
    "BipedalWalker": {"hull": (0, 3), "legs": (3, 12), "contacts": (15, 2), "lidar": (17, 10),
                      "i0": (27, 1), "terrain": (28, 96), "n_boxes": (124, 1),
                      "boxes": (125, 64)},
}


def layout_dim(family):
    """render_dim of a Box2D layout."""
    return max(off + cnt for off, cnt in BOX2D_LAYOUTS[family].values())


def unpack(family, state):
    out = {}
    for name, (off, cnt) in BOX2D_LAYOUTS[family].items():
        out[name] = np.asarray(state[off:off + cnt], dtype=float)
    return out


RENDER_DIMS = {"CartPole": 4, "Acrobot": 4, "MountainCar": 2, "Pendulum": 3,
               "LunarLander": layout_dim("LunarLander"),
               "BipedalWalker": layout_dim("BipedalWalker")}

# Discrete action names (Gymnasium's documentation of each env's action space).
ACTION_NAMES = {
    "CartPole": ["push left", "push right"],
    "Acrobot": ["torque -1", "torque 0", "torque +1"],
    "MountainCar": ["accelerate left", "no push", "accelerate right"],
    "LunarLander": ["no-op", "left engine", "main engine", "right engine"],
}

# Continuous action bounds (Gymnasium action spaces), for reference lines.
ACTION_BOUNDS = {"Pendulum": (-2.0, 2.0), "MountainCarContinuous": (-1.0, 1.0),
                 "LunarLanderContinuous": (-1.0, 1.0), "LunarLander": (-1.0, 1.0),
                 "BipedalWalker": (-1.0, 1.0)}


def env_family(env):
    """'CartPole-v1' -> 'CartPole', 'LunarLanderContinuous-v3' -> 'LunarLander', ..."""
    base = str(env).split("-v")[0]
    for fam in ("CartPole", "Acrobot", "MountainCar", "Pendulum", "LunarLander", "BipedalWalker"):
        if base.startswith(fam):
            return fam
    return None


def action_bounds(env):
    base = str(env).split("-v")[0]
    if base in ACTION_BOUNDS:
        return ACTION_BOUNDS[base]
    return ACTION_BOUNDS.get(env_family(env) or "")


def action_label(env, action, discrete):
    a = np.atleast_1d(np.asarray(action, dtype=float))
    if discrete:
        i = int(round(a[0]))
        names = ACTION_NAMES.get(env_family(env) or "")
        if names and 0 <= i < len(names):
            return "%d (%s)" % (i, names[i])
        return str(i)
    return "[" + ", ".join("%+.2f" % v for v in a[:4]) + (", ...]" if len(a) > 4 else "]")


# -- fonts ------------------------------------------------------------------------------------
_FONT_CACHE = {}


def font(size):
    if size not in _FONT_CACHE:
        f = None
        for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                     "/usr/share/fonts/dejavu/DejaVuSans.ttf"):
            if os.path.exists(path):
                try:
                    f = ImageFont.truetype(path, size)
                    break
                except OSError:
                    pass
        _FONT_CACHE[size] = f or ImageFont.load_default()
    return _FONT_CACHE[size]


# -- world -> pixel transform ------------------------------------------------------------------
class View:
    """Maps a world rectangle (y up) into a w x h pixel box, keeping the aspect ratio."""

    def __init__(self, xmin, xmax, ymin, ymax, w, h, margin=6):
        sx = (w - 2 * margin) / (xmax - xmin)
        sy = (h - 2 * margin) / (ymax - ymin)
        self.s = min(sx, sy)
        self.ox = (w - self.s * (xmax - xmin)) / 2 - self.s * xmin
        self.oy = (h - self.s * (ymax - ymin)) / 2 + self.s * ymax

    def __call__(self, x, y):
        return (self.ox + self.s * x, self.oy - self.s * y)

    def pts(self, points):
        return [self(x, y) for x, y in points]

    def len(self, d):
        return self.s * d


def _rot(points, angle, cx, cy):
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + c * x - s * y, cy + s * x + c * y) for x, y in points]


def _box(hw, hh):
    return [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)]


def _circle(d, center, r, **kw):
    x, y = center
    d.ellipse([x - r, y - r, x + r, y + r], **kw)


# -- classic control --------------------------------------------------------------------------
def _cartpole(d, st, w, h):
    x, theta = float(st[0]), float(st[2])
    v = View(-2.9, 2.9, -0.6, 1.5, w, h)
    d.rectangle([0, v(0, 0)[1], w, h], fill=(235, 235, 225))
    d.line([v(-2.9, 0), v(2.9, 0)], fill=(60, 60, 60), width=2)
    for edge in (-2.4, 2.4):  # termination bounds
        d.line([v(edge, -0.25), v(edge, 0.25)], fill=(200, 40, 40), width=2)
    cart = [(x - 0.25, -0.075), (x + 0.25, -0.075), (x + 0.25, 0.225), (x - 0.25, 0.225)]
    d.polygon(v.pts(cart), fill=(40, 40, 40))
    pivot = (x, 0.15)
    tip = (x + math.sin(theta), 0.15 + math.cos(theta))
    d.line([v(*pivot), v(*tip)], fill=(202, 152, 101), width=max(3, int(v.len(0.1))))
    _circle(d, v(*pivot), max(2, v.len(0.05)), fill=(129, 132, 203))


def _acrobot(d, st, w, h):
    t1, t2 = float(st[0]), float(st[1])
    v = View(-2.2, 2.2, -2.2, 2.2, w, h)
    d.line([v(-2.2, 1.0), v(2.2, 1.0)], fill=(60, 160, 60), width=2)  # goal height
    p0 = (0.0, 0.0)
    p1 = (math.sin(t1), -math.cos(t1))
    p2 = (p1[0] + math.sin(t1 + t2), p1[1] - math.cos(t1 + t2))
    lw = max(3, int(v.len(0.2)))
    d.line([v(*p0), v(*p1)], fill=(0, 204, 204), width=lw)
    d.line([v(*p1), v(*p2)], fill=(0, 204, 204), width=lw)
    for p in (p0, p1):
        _circle(d, v(*p), lw * 0.6, fill=(204, 204, 0))
    _circle(d, v(*p2), lw * 0.4, fill=(204, 80, 0))


def _mountaincar(d, st, w, h, env=""):
    pos = float(st[0])
    height = lambda x: 0.45 * math.sin(3 * x) + 0.55  # Gymnasium's drawing of sin(3x)
    v = View(-1.2, 0.6, -0.05, 1.15, w, h)
    xs = np.linspace(-1.2, 0.6, 100)
    track = [(x, height(x)) for x in xs]
    d.polygon(v.pts(track + [(0.6, -0.05), (-1.2, -0.05)]), fill=(225, 215, 190))
    d.line(v.pts(track), fill=(60, 60, 60), width=2)
    goal = 0.45 if "Continuous" in env else 0.5
    fx, fy = v(goal, height(goal))
    d.line([(fx, fy), (fx, fy - v.len(0.1))], fill=(0, 0, 0), width=2)
    d.polygon([(fx, fy - v.len(0.1)), (fx, fy - v.len(0.07)), (fx + v.len(0.05), fy -
              v.len(0.085))], fill=(204, 204, 0))
    ang = math.atan(1.35 * math.cos(3 * pos))
    body = _rot([(-0.05, 0.01), (0.05, 0.01), (0.05, 0.045), (-0.05, 0.045)], ang, pos,
                height(pos))
    d.polygon(v.pts(body), fill=(40, 40, 40))
    for wx in (-0.03, 0.03):
        c = _rot([(wx, 0.01)], ang, pos, height(pos))[0]
        _circle(d, v(*c), max(2, v.len(0.012)), fill=(120, 120, 120))


def _pendulum(d, st, w, h):
    theta, u = float(st[0]), float(st[2])
    v = View(-1.3, 1.3, -1.3, 1.3, w, h)
    tip = (-math.sin(theta), math.cos(theta))  # theta 0 upright, counter-clockwise positive
    d.line([v(0, 0), v(*tip)], fill=(204, 77, 77), width=max(4, int(v.len(0.2))))
    _circle(d, v(0, 0), max(3, v.len(0.05)), fill=(0, 0, 0))
    if abs(u) > 1e-3:  # applied torque as an arc, radius ~ |u| (max 2)
        r = v.len(0.25 + 0.15 * min(abs(u), 2.0))
        cx, cy = v(0, 0)
        d.arc([cx - r, cy - r, cx + r, cy + r], start=200, end=340, fill=(60, 60, 200), width=3)
        end = (cx + r * math.cos(math.radians(340 if u < 0 else 200)),
               cy + r * math.sin(math.radians(340 if u < 0 else 200)))
        _circle(d, end, 5, fill=(60, 60, 200))


# -- Box2D --------------------------------------------------------------------------------------
_SCALE = 30.0
_LANDER_POLY = [(-14, 17), (-17, 0), (-17, -10), (17, -10), (17, 0), (14, 17)]
_LEG_BOX = _box(2 / _SCALE, 8 / _SCALE)


def _lunarlander(d, st, w, h):
    s = unpack("LunarLander", st)
    vw, vh = 600 / _SCALE, 400 / _SCALE
    v = View(0, vw, 0, vh, w, h, margin=0)
    d.rectangle([0, 0, w, h], fill=(10, 10, 40))
    terrain = s["terrain"].reshape(-1, 2)
    ground = [tuple(p) for p in terrain]
    d.polygon(v.pts(ground + [(ground[-1][0], 0), (ground[0][0], 0)]), fill=(200, 200, 200))
    d.line(v.pts(ground), fill=(255, 255, 255), width=1)
    x1, x2, hy = s["helipad"]
    for fx in (x1, x2):
        d.line([v(fx, hy), v(fx, hy + 50 / _SCALE)], fill=(255, 255, 255), width=1)
        d.polygon(v.pts([(fx, hy + 50 / _SCALE), (fx, hy + 40 / _SCALE),
                         (fx + 25 / _SCALE, hy + 45 / _SCALE)]), fill=(204, 204, 0))
    lx, ly, la = s["lander"]
    main, side = float(s["main"][0]), float(s["side"][0])
    left, right = max(0.0, -side), max(0.0, side)
    # flames first, under the body: main below the hull, side engines beside it
    if main > 0:
        n = 0.4 + 0.6 * min(1.0, float(main))
        flame = _rot([(-6 / _SCALE, -10 / _SCALE), (6 / _SCALE, -10 / _SCALE),
                      (0, -(10 + 28 * n) / _SCALE)], la, lx, ly)
        d.polygon(v.pts(flame), fill=(255, 140, 0))
    for on, side in ((left, -1), (right, 1)):
        if on > 0:
            flame = _rot([(side * 17 / _SCALE, 8 / _SCALE), (side * 17 / _SCALE, 2 / _SCALE),
                          (side * 32 / _SCALE, 5 / _SCALE)], la, lx, ly)
            d.polygon(v.pts(flame), fill=(255, 200, 0))
    for leg in ("leg0", "leg1"):
        gx, gy, ga, contact = s[leg]
        d.polygon(v.pts(_rot(_LEG_BOX, ga, gx, gy)),
                  fill=(40, 220, 40) if contact > 0.5 else (128, 102, 230),
                  outline=(77, 77, 128))
    body = _rot([(px / _SCALE, py / _SCALE) for px, py in _LANDER_POLY], la, lx, ly)
    d.polygon(v.pts(body), fill=(128, 102, 230), outline=(77, 77, 128))
    wind = float(s["wind"][0])
    if abs(wind) > 1e-3:  # wind force as an arrow at the top (length ~ force, 20 N = 2 m)
        y = vh - 0.6
        x0, x1 = vw / 2, vw / 2 + max(-4.0, min(4.0, wind / 10.0))
        d.line([v(x0, y), v(x1, y)], fill=(120, 200, 255), width=2)
        tip = -0.3 if wind > 0 else 0.3
        d.polygon(v.pts([(x1, y), (x1 + tip, y + 0.15), (x1 + tip, y - 0.15)]),
                  fill=(120, 200, 255))


_HULL_POLY = [(-30, 9), (6, 9), (34, 1), (34, -8), (-30, -8)]


def _bipedalwalker(d, st, w, h):
    s = unpack("BipedalWalker", st)
    hx, hy, ha = s["hull"]
    vw, vh = 600 / _SCALE, 400 / _SCALE
    left = hx - 4.0  # Gymnasium's scroll
    v = View(left, left + vw, 0, vh, w, h, margin=0)
    d.rectangle([0, 0, w, h], fill=(215, 215, 255))
    pts = [tuple(p) for p in s["terrain"].reshape(-1, 2)]
    d.polygon(v.pts(pts + [(pts[-1][0], -1), (pts[0][0], -1)]), fill=(102, 153, 76))
    d.line(v.pts(pts), fill=(60, 90, 40), width=2)
    n_boxes = int(max(0, min(16, round(float(s["n_boxes"][0])))))
    for x1, y1, x2, y2 in s["boxes"].reshape(16, 4)[:n_boxes]:
        a, b = v(min(x1, x2), max(y1, y2)), v(max(x1, x2), min(y1, y2))
        d.rectangle([a[0], a[1], b[0], b[1]], fill=(102, 153, 76), outline=(60, 90, 40))
    for i, frac in enumerate(s["lidar"]):  # rays 0.15*i rad forward of straight down, 160/30 m
        if frac < 1.0:
            r = 160 / _SCALE * float(frac)
            d.line([v(hx, hy), v(hx + r * math.sin(0.15 * i), hy - r * math.cos(0.15 * i))],
                   fill=(255, 80, 80), width=1)
    legs = s["legs"].reshape(4, 3)
    contacts = s["contacts"]
    lw, lh = 8 / _SCALE / 2, 34 / _SCALE / 2
    for i in (0, 1, 2, 3):  # far leg (left) drawn darker
        gx, gy, ga = legs[i]
        width = lw if i % 2 == 0 else lw * 0.8
        shade = (178, 102, 153) if i < 2 else (230, 153, 204)
        if i % 2 == 1 and contacts[i // 2] > 0.5:
            shade = (60, 160, 60) if i < 2 else (90, 210, 90)
        d.polygon(v.pts(_rot(_box(width, lh), ga, gx, gy)), fill=shade, outline=(77, 51, 76))
    body = _rot([(px / _SCALE, py / _SCALE) for px, py in _HULL_POLY], ha, hx, hy)
    d.polygon(v.pts(body), fill=(127, 51, 229), outline=(77, 77, 128))


_DRAW = {"CartPole": _cartpole, "Acrobot": _acrobot, "Pendulum": _pendulum,
         "LunarLander": _lunarlander, "BipedalWalker": _bipedalwalker}


def can_draw(env):
    return env_family(env) is not None


def draw_scene(env, state, size):
    """PIL RGB image of size (w, h) drawing `state` of `env`."""
    w, h = size
    img = Image.new("RGB", (w, h), (255, 255, 255))
    d = ImageDraw.Draw(img)
    fam = env_family(env)
    state = np.asarray(state, dtype=float)
    if fam == "MountainCar":
        _mountaincar(d, state, w, h, env)
    else:
        _DRAW[fam](d, state, w, h)
    return img


def draw_frame(env, state, size, title, lines, header=58):
    """A scene with a title bar and text lines (step, action, return) above it."""
    return with_header(draw_scene(env, state, size), title, lines, header)


def draw_pixels(frame, scale, title, lines, header=58):
    """A recorded image observation (H, W, 3 uint8: what an image env such as CarRacing-v3 showed the
    policy) enlarged `scale` times with nearest-neighbour pixels, under the same header as draw_frame."""
    frame = np.asarray(frame, dtype=np.uint8)
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    img = Image.fromarray(frame).convert("RGB")
    img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
    return with_header(img, title, lines, header)


def with_header(scene, title, lines, header=58):
    """`scene` (PIL RGB) below a title bar and text lines (step, action, return)."""
    w, h = scene.size
    img = Image.new("RGB", (w, h + header), (250, 250, 250))
    img.paste(scene, (0, header))
    d = ImageDraw.Draw(img)
    d.text((6, 3), title, fill=(0, 0, 0), font=font(14))
    d.text((6, 22), "   ".join(lines[:2]), fill=(30, 30, 30), font=font(12))
    if len(lines) > 2:
        d.text((6, 38), "   ".join(lines[2:]), fill=(30, 30, 30), font=font(12))
    d.line([(0, header - 1), (w, header - 1)], fill=(180, 180, 180))
    return img
