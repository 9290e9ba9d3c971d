"""The headless CLI: JSON shapes, human-readable output, and one-line errors with exit code 2."""
import json
import subprocess
import sys

import pytest

from isinglab.app.commands.entry import main

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
    (["simulate", "--size", "1"], "at least 4"),
    (["simulate", "--size", "15"], "even L"),
    (["simulate", "--size", "abc"], "must be an integer"),
    (["simulate", "--size", "60000", "--algorithm", "wolff"], "GiB"),
    (["simulate", "--size", "100000"], "at most 65536"),
    (["simulate", "--algorithm", "nope"], "invalid choice"),
    (["simulate", "--sweeps", "-5"], "at least 0"),
    (["simulate", "--algorithm", "multispin", "--size", "100"], "divisible by 128"),
    (["simulate", "--algorithm", "wolff", "--field", "0.1"], "does not support a field"),
    (["simulate", "--sweeps", "1"], "at least 2"),
    (["exact", "--temperature", "0"], "must be > 0"),
    (["bench", "--threads", "99"], "--threads"),
    # numbers beyond the range where every observable is finite
    (["exact", "-T", "1e300"], "between 0.001 and 1000"),
    (["exact", "-T", "1e-320"], "between 0.001 and 1000"),
    (["simulate", "-J", "1e300"], "between -1000 and 1000"),
    (["simulate", "--field=-1e5"], "between -1000 and 1000"),
    (["simulate", "-J", "1e-9"], "T/|J|"),
    (["simulate", "--seed", "-1"], "seed"),
    (["simulate", "--seed", str(2**63)], "2^63"),
    (["simulate", "--measure-every", "0"], "at least 1"),
    (["simulate", "--measure-every", "2000"], "2 x --measure-every"),
    (["simulate", "--size", "2", "-a", "wolff"], "at least 4"),
    (["bench", "--seconds", "0"], "--seconds"),
    (["bench", "--seconds", "nan"], "--seconds"),
    (["bench", "--seconds", "-inf"], "--seconds"),
    (["bench", "--seconds", "1000"], "--allow-long"),
    (["bench", "--gui", "--seconds", "0"], "--seconds"),
    # nothing exact to say
    (["exact", "-J", "0"], "no exact result"),
    (["exact", "--field", "1"], "no exact result"),
    # no block level fits
    (["rg", "-b", "3", "-L", "16"], "allows no blocking level"),
    (["rg", "-b", "17"], "allows no blocking level"),
    (["rg", "-L", "8", "-k", "2"], "at most 1 blocking level"),
    # requests that pass the rules but would not end
    (["simulate", "--sweeps", "1000000000000"], "--allow-long"),
    (["simulate", "-L", "4096", "--sweeps", "1000000"], "--allow-long"),
    (["correlate", "--sweeps", "100000000000"], "--allow-long"),
    (["rg", "--thermalize", "100000000000"], "--allow-long"),
    (["simulate", "--sweeps", "1e13"], "at most"),
]


@pytest.mark.parametrize("argv,message", BAD)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


def test_exact_says_what_is_not_available(capsys):
    code, out, err = run(capsys, "exact", "-L", "4", "--field", "0.5", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert "enumeration" in data and "finite_size" not in data and "onsager" not in data
    assert "h = 0" in data["unavailable"]["finite_size"] and "h = 0" in data["unavailable"]["onsager"]
    code, out, _ = run(capsys, "exact", "-L", "5", "-J", "-1", "--json")
    assert "even L" in json.loads(out)["unavailable"]["finite_size"]


def test_exact_antiferromagnet_at_low_temperature_has_no_binder_cumulant(capsys):
    code, out, err = run(capsys, "exact", "-L", "4", "-J", "-1", "-T", "0.01", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["enumeration"]["u4"] is None and "enumeration u4" in data["unavailable"]
    assert data["enumeration"]["e"] == pytest.approx(-2.0)


def test_integer_options_accept_integral_exponents(capsys):
    code, out, err = run(capsys, "simulate", "-L", "8", "--sweeps", "2e2", "--thermalize", "1e1", "--json")
    assert code == 0, err
    assert json.loads(out)["sweeps"] == 200


def test_console_script_reports_errors_without_traceback():
    res = subprocess.run([sys.executable, "-m", "isinglab.app.commands.entry", "simulate", "--temperature", "-2"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert res.stderr.startswith("isinglab") and "error:" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_help_lists_the_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("gui", "simulate", "bench", "exact"):
        assert name in out
