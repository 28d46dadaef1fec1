"""Image checks used by the tests: size, and that the picture is not blank."""

import numpy as np
from PIL import Image


def _pixels(path):
    """(N, 3) int array of the image's RGB pixels."""
    return np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3).astype(np.int32)


def stats(path):
    im = Image.open(path)
    rgb = _pixels(path)
    packed = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    colours, counts = np.unique(packed, return_counts=True)
    bgp = int(colours[np.argmax(counts)])
    bg = np.array([bgp >> 16, (bgp >> 8) & 255, bgp & 255])
    ink = np.abs(rgb - bg).sum(axis=1) > 30
    return dict(size=im.size, colours=len(colours), ink=float(ink.mean()), background=tuple(bg))


def assert_picture(path, min_size=(300, 200), min_colours=8, min_ink=0.02, max_ink=0.98):
    """The image is at least min_size, has several colours and a sensible share of pixels that
    differ from its background (most common) colour."""
    s = stats(path)
    assert s["size"][0] >= min_size[0] and s["size"][1] >= min_size[1], s
    assert s["colours"] >= min_colours, "too few colours, blank image? %s" % s
    assert min_ink <= s["ink"] <= max_ink, "non-background fraction out of range: %s" % s
    return s


def has_colour(path, rgb, tol=40, min_pixels=20):
    """True when at least min_pixels pixels lie within tol (sum of |diff|) of rgb."""
    arr = _pixels(path)
    return int((np.abs(arr - np.array(rgb)).sum(axis=1) <= tol).sum()) >= min_pixels


def gif_frames(path):
    im = Image.open(path)
    assert im.format == "GIF"
    return getattr(im, "n_frames", 1)
