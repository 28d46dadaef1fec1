"""scripts/scale_model.py reads a costs file and --cores-per-node from outside: each out-of-range value
ends with one error line naming it and exit 2, before any table; the extremes it accepts give finite
predictions (no overflow, no division by zero). Run by ctest with Debian's python3."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "scripts", "scale_model.py")
COSTS = os.path.join(ROOT, "docs", "scaling-costs-2core.json")


def model(*args):
    return subprocess.run([sys.executable, MODEL] + list(args), capture_output=True, text=True, timeout=120)


def costs_with(tmp_path, change):
    m = json.load(open(COSTS))
    change(m)
    path = tmp_path / "costs.json"
    path.write_text(json.dumps(m))  # NaN is written as the token NaN, which json.load reads back
    return str(path)


def test_the_committed_costs_give_finite_tables():
    r = model("--costs", COSTS)
    assert r.returncode == 0, r.stderr
    assert "nodes of 16 cores" in r.stdout and "nodes of 64 cores" in r.stdout
    assert "nan" not in r.stdout.lower() and "inf" not in r.stdout.lower()


def set_key(key, value):
    def change(m):
        m[key] = value
    return change


def drop_key(key):
    def change(m):
        del m[key]
    return change


def set_env(value):
    def change(m):
        m["c_env"]["LunarLander-v3"] = value
    return change


@pytest.mark.parametrize("change, named", [
    (set_key("c_opt", 1e308), "c_opt"),            # finite, but overflowed the prediction to inf
    (set_key("a_node", -1.0), "a_node"),
    (set_key("a_node", float("nan")), "a_node"),
    (set_key("bw_node", 1e-300), "bw_node"),       # divided into inf
    (set_key("bw_net", 1e16), "bw_net"),
    (set_key("plain_rows", 2e6), "plain_rows"),
    (set_key("c_grad_plain", True), "c_grad_plain"),
    (set_key("k_inf", "1e-6"), "k_inf"),
    (drop_key("c_grad"), "c_grad"),
    (set_env(0.0), "c_env[LunarLander-v3]"),       # every cost 0 made T(1) = 0: a division by zero
    (set_env(1e-300), "c_env[LunarLander-v3]"),
])
def test_a_bad_cost_is_one_error_line(tmp_path, change, named):
    r = model("--costs", costs_with(tmp_path, change))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and r.stdout == "" and len(lines) == 1 and named in lines[0], (r.returncode, r.stderr)


@pytest.mark.parametrize("time, bandwidth, step, rows", [(1.0, 1.0, 1.0, float(1 << 20)), (0.0, 1e15, 1e-12, 0.0)])
def test_the_accepted_extremes_give_finite_tables(tmp_path, time, bandwidth, step, rows):
    def change(m):
        for k in list(m):
            if k == "c_env":
                m[k] = {env: step for env in m[k]}
            elif k.startswith("bw"):
                m[k] = bandwidth
            elif k == "plain_rows":
                m[k] = rows
            elif k not in ("measured_phases",):
                m[k] = time
    r = model("--costs", costs_with(tmp_path, change), "--cores-per-node", "1", "65536")
    assert r.returncode == 0, r.stderr
    assert "nan" not in r.stdout.lower() and "inf" not in r.stdout.lower()


@pytest.mark.parametrize("cores", ["0", "-4", "65537", "1e3"])
def test_cores_per_node_out_of_range_is_refused(cores):
    r = model("--costs", COSTS, "--cores-per-node", cores)
    assert r.returncode == 2 and r.stdout == "" and "--cores-per-node" in r.stderr
