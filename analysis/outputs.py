"""Where one ppo-analyze invocation writes its files: one path per output (two outputs never share a
path), an existing file is refused unless --force, and every file is published whole.

A command claims all its paths before it writes any (so a refusal leaves nothing written), then
writes each through `publish`: into a temporary file beside the target, then linked to the final
name, which fails if the name appeared meanwhile (or renamed over it with --force). Paths are
absolute, so the `wrote ...` lines are valid from any directory."""

import hashlib
import os
import re
import tempfile

from .logfile import AnalysisError

EXIT_OUTPUT = 7
MAX_STEM = 120  # file names stay well under the usual 255-byte limit, with room for suffixes


class OutputError(AnalysisError):
    """An output file is there already, or --out cannot take the files (not a directory, not
    writable, disk full): exit 7, with the path and the cause."""
    exit_code = EXIT_OUTPUT


def _exists_error(path):
    return OutputError("%s exists (from an earlier run?); pass --force to overwrite it, or choose another "
                        "--out" % path)


def file_stem(text):
    """A file-name-safe stem for `text`; long ones are cut and keep a hash of the whole text, so
    different long labels stay different."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "run"
    if len(s) > MAX_STEM:
        s = s[:MAX_STEM - 9] + "_" + hashlib.sha1(str(text).encode("utf-8")).hexdigest()[:8]
    return s


class Outputs:
    """The output directory of one invocation. `record`, when given (tests), receives one dict per
    written output: its paths and, for figures, the legend texts and titles as drawn."""

    def __init__(self, out_dir, force=False, record=None):
        self.dir = os.path.abspath(out_dir)
        self.force = force
        self.record = record
        self.claimed = set()

    def claim(self, stem, exts):
        """Paths DIR/STEM.EXT for each ext, STEM made unique within this invocation (a second
        output with the same stem gets _2, _3, ...). Raises OutputError when one is already on
        disk and --force was not given."""
        if os.path.exists(self.dir) and not os.path.isdir(self.dir):
            raise OutputError("%s: --out is not a directory" % self.dir)
        base = file_stem(stem)
        n = 1
        while True:
            name = base if n == 1 else "%s_%d" % (base, n)
            paths = [os.path.join(self.dir, "%s.%s" % (name, ext)) for ext in exts]
            if not any(p in self.claimed for p in paths):
                break
            n += 1
        for p in paths:
            if not self.force and os.path.lexists(p):
                raise _exists_error(p)
        self.claimed.update(paths)
        return paths

    def publish(self, path, write):
        """Writes a claimed path whole: `write(tmp_path)` fills a temporary file in the same
        directory, which then becomes `path`."""
        if path not in self.claimed:
            raise AssertionError("unclaimed output path %s" % path)  # a command's bug
        ext = os.path.splitext(path)[1]
        try:
            os.makedirs(self.dir, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=ext, dir=self.dir)
            os.close(fd)
        except OSError as exc:
            raise OutputError("%s: cannot write it (%s)" % (path, exc.strerror or exc)) from None
        try:
            write(tmp)
            os.chmod(tmp, 0o666 & ~_umask())
            if self.force:
                os.replace(tmp, path)
            else:
                try:
                    os.link(tmp, path)  # atomic create-new: never replaces a file
                except FileExistsError:
                    raise _exists_error(path) from None
                except OSError:  # a file system without hard links
                    if os.path.lexists(path):
                        raise _exists_error(path) from None
                    os.rename(tmp, path)
        except OSError as exc:  # full disk, quota, permissions: name the file and the cause
            raise OutputError("%s: cannot write it (%s)" % (path, exc.strerror or exc)) from None
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)
        return path

    def write_text(self, path, text):
        def fill(tmp):
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        return self.publish(path, fill)

    def note(self, paths, **labels):
        if self.record is not None:
            self.record.append(dict(paths=list(paths), **labels))


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def figure_labels(fig):
    """The texts a reader uses to tell a figure's lines apart: legend entries, the figure's and
    the axes' titles, and the x tick labels of category axes."""
    legend, titles, ticks = [], [], []
    for leg in list(fig.legends) + [ax.get_legend() for ax in fig.axes]:
        if leg is not None:
            legend += [t.get_text() for t in leg.get_texts()]
    sup = getattr(fig, "_suptitle", None)
    if sup is not None and sup.get_text():
        titles.append(sup.get_text())
    for ax in fig.axes:
        if ax.get_title():
            titles.append(ax.get_title())
        ticks += [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    return dict(legend=legend, titles=titles, xticklabels=ticks)
