"""The headless CLI: JSON shapes, human-readable output, and one-line errors with exit code 2."""
import json
import subprocess
import sys

import pytest

from isinglab.app.entry import main

OBSERVABLES = {"e", "m_abs", "m2", "m4", "c", "chi", "u4"}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_simulate_json_has_every_documented_key(capsys):
    code, out, err = run(capsys, "simulate", "--size", "8", "--temperature", "2.5", "--sweeps", "400",
                         "--thermalize", "50", "--seed", "3", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert {"size", "temperature", "coupling", "field", "algorithm", "backend", "sweeps", "seed",
            "observables", "tau_int", "flips_per_ns"} <= set(data)
    assert OBSERVABLES <= set(data["observables"])
    for v in data["observables"].values():
        assert set(v) == {"mean", "err"} and v["err"] >= 0
    assert data["size"] == 8 and data["seed"] == 3 and data["backend"] == "numba"
    assert -2.0 <= data["observables"]["e"]["mean"] <= 0.0


def test_simulate_is_reproducible_from_the_seed(capsys):
    args = ("simulate", "--size", "16", "--sweeps", "50", "--thermalize", "10", "--seed", "5", "--json")
    a = json.loads(run(capsys, *args)[1])["observables"]
    b = json.loads(run(capsys, *args)[1])["observables"]
    assert a == b


def test_simulate_table_output_is_readable(capsys):
    code, out, _ = run(capsys, "simulate", "--size", "8", "--sweeps", "100", "--thermalize", "10")
    assert code == 0 and "observables:" in out and "±" in out


def test_exact_json(capsys):
    code, out, _ = run(capsys, "exact", "--size", "4", "--temperature", "2.0", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["finite_size"]["e"] == pytest.approx(data["enumeration"]["e"], rel=1e-10)
    assert data["onsager"]["m"] == pytest.approx(0.911319, abs=1e-5)


def test_exact_at_tc_writes_null_for_infinite_values(capsys):
    code, out, _ = run(capsys, "exact", "--size", "8", "--temperature", "2.269185314213022", "--json")
    assert code == 0
    assert json.loads(out)["onsager"]["xi"] is None


@pytest.mark.parametrize("algorithm", ["metropolis", "wolff"])
def test_bench_json(capsys, algorithm):
    code, out, err = run(capsys, "bench", "--size", "128", "--algorithm", algorithm, "--seconds", "0.2",
                         "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["flips_per_ns"] > 0 and data["first_sweep_s"] > 0
    assert ("ns_per_flipped_spin" in data) == (algorithm == "wolff")


BAD = [
    (["simulate", "--temperature", "0"], "must be > 0"),
    (["simulate", "--temperature", "-1"], "must be > 0"),
    (["simulate", "--temperature", "nan"], "finite"),
    (["simulate", "--temperature", "inf"], "finite"),
    (["simulate", "--coupling", "nan"], "finite"),
    (["simulate", "--size", "1"], "at least 2"),
    (["simulate", "--size", "15"], "even L"),
    (["simulate", "--size", "abc"], "invalid int"),
    (["simulate", "--size", "60000", "--algorithm", "wolff"], "GiB"),
    (["simulate", "--size", "100000"], "maximum"),
    (["simulate", "--algorithm", "nope"], "invalid choice"),
    (["simulate", "--sweeps", "-5"], ">= 0"),
    (["simulate", "--algorithm", "multispin", "--size", "100"], "divisible by 128"),
    (["simulate", "--algorithm", "wolff", "--field", "0.1"], "does not support a field"),
    (["simulate", "--sweeps", "1"], "at least 2"),
    (["exact", "--temperature", "0"], "must be > 0"),
    (["bench", "--threads", "99"], "--threads"),
]


@pytest.mark.parametrize("argv,message", BAD)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


def test_console_script_reports_errors_without_traceback():
    res = subprocess.run([sys.executable, "-m", "isinglab.app.entry", "simulate", "--temperature", "-2"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert res.stderr.startswith("isinglab") and "error:" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_help_lists_the_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("gui", "simulate", "bench", "exact"):
        assert name in out
