#!/usr/bin/python3
"""Writes tests/data/render/raster_pygame.json: what pygame draws for random polygons, the reference of
test_raster_pygame. Needs pygame 2.1.2 (Debian python3-pygame; its smoothscale backend must be SSE,
as on x86-64). Each case: a 120 x 90 black surface, 150 random operations in order (gfxdraw.aapolygon,
gfxdraw.filled_polygon, both as Gymnasium's _draw_colored_polygon does, or draw.polygon), float
vertices around and beyond the surface, 3 to 10 of them (so self-crossing too); then the surface's
pixels, and smoothscale of its vertical flip to 23 x 17 (a shrink by 5.2 x 5.3, splitting pixels).
Run: SDL_VIDEODRIVER=dummy /usr/bin/python3 tests/render/make_raster_reference.py"""
import json
import os
import random
import sys

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
import numpy as np  # noqa: E402
import pygame  # noqa: E402
import pygame.gfxdraw  # noqa: E402

W, H, SW, SH = 120, 90, 23, 17


def rgb_hex(surf):
    return np.transpose(pygame.surfarray.array3d(surf), (1, 0, 2)).tobytes().hex()


def case(seed):
    rng = random.Random(seed)
    surf = pygame.Surface((W, H))
    ops = []
    for _ in range(150):
        n = rng.randint(3, 10)
        if rng.random() < 0.7:  # small shapes near or across the edges
            cx, cy, r = rng.uniform(-20, W + 20), rng.uniform(-20, H + 20), rng.uniform(0.5, 30)
            pts = [(cx + rng.uniform(-r, r), cy + rng.uniform(-r, r)) for _ in range(n)]
        else:  # large ones far beyond the surface
            pts = [(rng.uniform(-200, W + 200), rng.uniform(-200, H + 200)) for _ in range(n)]
        col = [rng.randint(0, 255) for _ in range(3)]
        kind = rng.choice(["aa", "fill", "both", "pg"])
        if kind in ("aa", "both"):
            pygame.gfxdraw.aapolygon(surf, pts, col)
        if kind in ("fill", "both"):
            pygame.gfxdraw.filled_polygon(surf, pts, col)
        if kind == "pg":
            pygame.draw.polygon(surf, col, pts)
        ops.append({"kind": kind, "points": [[x, y] for x, y in pts], "rgb": col})
    small = pygame.transform.smoothscale(pygame.transform.flip(surf, False, True), (SW, SH))
    return {"seed": seed, "ops": ops, "pixels": rgb_hex(surf), "shrunk": rgb_hex(small)}


def main():
    if pygame.transform.get_smoothscale_backend() != "SSE":
        sys.exit("smoothscale backend is %s, not SSE" % pygame.transform.get_smoothscale_backend())
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "render", "raster_pygame.json")
    data = {
        "source": "pygame %s (SDL %s), smoothscale backend SSE; tests/render/make_raster_reference.py"
        % (pygame.version.ver, ".".join(map(str, pygame.get_sdl_version()))),
        "width": W, "height": H, "shrunk_width": SW, "shrunk_height": SH,
        "cases": [case(seed) for seed in range(4)],
    }
    with open(out, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
