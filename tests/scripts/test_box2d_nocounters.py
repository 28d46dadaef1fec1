"""scripts/box2d-nocounters.sh, and the BOX2D_LIB_DIR of scale.sh and pack-device.sh, read paths from
outside: a tree that is not Box2D 2.4.1, a counter write the script does not know how to remove, or a
folder without the library each end with one error line and a non-zero exit, before anything is built
or measured (a silent fallback would print Debian's Box2D under the "without counters" heading). The
build itself needs Box2D's source, which the suite does not have; docs/scaling.md has the run with it."""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOCOUNTERS = os.path.join(ROOT, "scripts", "box2d-nocounters.sh")
SCALE = os.path.join(ROOT, "scripts", "scale.sh")


def run(args, env=None):
    return subprocess.run(args, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, **(env or {})))


def fake_box2d(tmp_path, version, toi_lines):
    src = tmp_path / "box2d"
    (src / "src" / "collision").mkdir(parents=True)
    (src / "CMakeLists.txt").write_text(f"cmake_minimum_required(VERSION 3.8)\nproject(box2d VERSION {version})\n")
    (src / "src" / "collision" / "b2_time_of_impact.cpp").write_text(
        "B2_API int32 b2_toiCalls, b2_toiIters, b2_toiMaxIters;\nvoid f()\n{\n" + toi_lines + "}\n")
    (src / "src" / "collision" / "b2_distance.cpp").write_text(
        "B2_API int32 b2_gjkCalls, b2_gjkIters, b2_gjkMaxIters;\nvoid g()\n{\n\t++b2_gjkCalls;\n}\n")
    return src


def ppo_bin():
    path = os.environ.get("PPO_BIN", os.path.join(ROOT, "build", "src", "ppo"))
    if not os.access(path, os.X_OK):
        pytest.skip(f"no ppo binary at {path} (ctest sets PPO_BIN)")
    return path


def not_a_library(tmp_path):
    d = tmp_path / "notlib"
    d.mkdir()
    (d / "libbox2d.so.2").write_text("not an ELF file\n")
    return d


def test_usage_without_two_arguments():
    r = run([NOCOUNTERS])
    assert r.returncode == 2
    assert "Usage: scripts/box2d-nocounters.sh BOX2D_SRC OUT_DIR" in r.stdout


def test_another_version_is_refused_before_anything_is_written(tmp_path):
    src = fake_box2d(tmp_path, "2.4.2", "\t++b2_toiCalls;\n")
    out = tmp_path / "out"
    r = run([NOCOUNTERS, str(src), str(out)])
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"box2d-nocounters.sh: {src} is not a Box2D 2.4.1 source tree (its CMakeLists.txt)"]
    assert not out.exists()


def test_a_tree_without_the_sources_it_edits_is_refused(tmp_path):
    src = tmp_path / "box2d"
    src.mkdir()
    (src / "CMakeLists.txt").write_text("project(box2d VERSION 2.4.1)\n")
    r = run([NOCOUNTERS, str(src), str(tmp_path / "out")])
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"box2d-nocounters.sh: {src} has no src/collision/b2_time_of_impact.cpp"]
    assert not (tmp_path / "out").exists()


def test_an_out_dir_that_cannot_serve_ld_library_path_or_be_written_is_refused(tmp_path):
    """A ':' would split the folder in LD_LIBRARY_PATH; a file cannot be the folder."""
    src = fake_box2d(tmp_path, "2.4.1", "\t++b2_toiCalls;\n")
    colon, afile = tmp_path / "o:ut", tmp_path / "afile"
    afile.write_text("")
    r = run([NOCOUNTERS, str(src), str(colon)])
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"box2d-nocounters.sh: OUT_DIR '{colon}' has a ':', which LD_LIBRARY_PATH cannot hold"]
    assert not colon.exists()
    r = run([NOCOUNTERS, str(src), str(afile)])
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"box2d-nocounters.sh: cannot write in OUT_DIR '{afile}'"]


def test_a_counter_write_it_cannot_remove_stops_the_build(tmp_path):
    """A write in another form than 2.4.1's (here `+= 1`) is left by the deletions: the check after
    them names it and stops before CMake runs, rather than build a library that still contends."""
    src = fake_box2d(tmp_path, "2.4.1", "\t++b2_toiCalls;\n\tb2_toiIters += 1;\n")
    r = run([NOCOUNTERS, str(src), str(tmp_path / "out")])
    assert r.returncode == 1
    assert "b2_toiIters += 1;" in r.stdout
    assert r.stderr.strip().splitlines() == ["box2d-nocounters.sh: a counter write above was not removed"]
    assert not (tmp_path / "out" / "libbox2d.so.2").exists()


def test_scale_refuses_a_box2d_folder_without_the_library(tmp_path):
    r = run([SCALE, "--only", "envs"], env={"BOX2D_LIB_DIR": str(tmp_path)})
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"scale.sh: BOX2D_LIB_DIR: no libbox2d.so.2 in '{tmp_path}'"]
    assert r.stdout == ""


def test_pack_device_refuses_a_box2d_folder_without_the_library(tmp_path):
    """Checked before build-device/ is emptied: a refused run leaves the last pack as it was."""
    r = run([os.path.join(ROOT, "scripts", "pack-device.sh")], env={"BOX2D_LIB_DIR": str(tmp_path)})
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"pack-device.sh: BOX2D_LIB_DIR: no libbox2d.so.2 in '{tmp_path}'"]


def test_scale_refuses_a_box2d_folder_ld_library_path_would_split(tmp_path):
    """With a ':' the loader would search two other folders and take Debian's library: its figures
    would be printed under the other heading."""
    d = tmp_path / "lib:dir"
    d.mkdir()
    (d / "libbox2d.so.2").write_text("")
    r = run([SCALE, "--only", "envs"], env={"BOX2D_LIB_DIR": str(d)})
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"scale.sh: BOX2D_LIB_DIR: '{d}' has a ':', which LD_LIBRARY_PATH cannot hold"]
    assert r.stdout == ""


def test_scale_refuses_a_libbox2d_the_loader_cannot_take(tmp_path):
    """Not an ELF file: before, every cell of its columns printed '?' and the run exited 0."""
    ppo = ppo_bin()
    d = not_a_library(tmp_path)
    r = run([SCALE, "--only", "envs"], env={"BOX2D_LIB_DIR": str(d), "PPO_BIN": ppo})
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        f"scale.sh: BOX2D_LIB_DIR: {d}/libbox2d.so.2 does not load for {ppo} (the loader gives 'nothing')"]
    assert r.stdout == ""


def test_pack_device_refuses_a_libbox2d_the_loader_cannot_take(tmp_path):
    """Checked before build-device/ is emptied: the last pack stays as it was."""
    if not os.access(os.path.join(ROOT, "build", "src", "ppo"), os.X_OK):
        pytest.skip("pack-device.sh packs build/src/ppo, which this checkout has not built")
    pack = os.path.join(ROOT, "build-device")
    before = sorted(os.listdir(pack)) if os.path.isdir(pack) else None
    d = not_a_library(tmp_path)
    r = run([os.path.join(ROOT, "scripts", "pack-device.sh")], env={"BOX2D_LIB_DIR": str(d)})
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"pack-device.sh: BOX2D_LIB_DIR: {d}/libbox2d.so.2 is not a library ppo can load"]
    assert (sorted(os.listdir(pack)) if os.path.isdir(pack) else None) == before


@pytest.mark.parametrize("only", ["hybrid-prest", "solve,", "", "envs,,solve", ",envs"])
def test_scale_refuses_an_unknown_table(only):
    """--only takes the tables' names; a misspelt or empty one used to print no table and exit 0."""
    r = run([SCALE, "--only", only, "--ranks", "1"])
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scale.sh: --only: no table"), lines
    assert r.stdout == ""
