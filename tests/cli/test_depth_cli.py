"""isinglab learn --depth, learn --classify --levels, rg --estimate-tc's spectrum: JSON shapes, bad input."""
import json

import pytest

from isinglab.app.commands.entry import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_depth_constructions_json(capsys):
    code, out, err = run(capsys, "learn", "--depth", "--inputs", "2-4,7", "--scales", "0.1,0.01", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [r["n"] for r in data["depth"]] == [2, 3, 4, 7] and data["scales"] == [0.1, 0.01]
    for r in data["depth"]:
        n, deep, shallow = r["n"], r["deep"], r["shallow"]
        assert (deep["neurons"], shallow["neurons"]) == (4 * (n - 1), 2**n)
        assert (deep["params"], shallow["params"]) == (17 * (n - 1), 2**n * (n + 2) + 1)
        assert [e["lambda"] for e in deep["errors"]] == [0.1, 0.01]
        assert deep["max_error"] <= (n - 1) * 0.01**2 / 6 * 1.01
        assert shallow["max_error"] < 0.02  # n = 7: rounding already at lambda = 0.01
        assert "trained" not in deep and "train" not in data


def test_depth_table_and_training(capsys):
    code, out, err = run(capsys, "learn", "--depth", "--inputs", "2", "--train", "--max-width", "4",
                         "--seeds", "1", "--epochs", "40")
    assert code == 0, err
    assert "n = 2:" in out and "4 neurons, 17 parameters" in out and "trained shallow" in out
    code, out, err = run(capsys, "learn", "--depth", "--inputs", "2", "--train", "--max-width", "2",
                         "--seeds", "1", "--epochs", "10", "--json")
    assert code == 0, err
    row = json.loads(out)["depth"][0]
    sh, dp = row["shallow"]["trained"], row["deep"]["trained"]
    assert set(sh) == {"min_width", "min_neurons", "reached", "note", "curve"}
    assert sh["reached"] or sh["note"] == "not reached up to width 2"
    assert set(dp) == {"neurons", "gatewise", "noisy", "random"} and dp["neurons"] == 4


@pytest.mark.parametrize("argv, words", [
    (("--depth", "--inputs", "1-3"), "2..12"),
    (("--depth", "--inputs", "2-13"), "2..12"),
    (("--depth", "--inputs", "4-2"), "a <= b"),
    (("--depth", "--inputs", "two"), "'two'"),
    (("--depth", "--inputs", ","), "at least one"),
    (("--depth", "--scales", "0"), "scale lambda"),
    (("--depth", "--scales", "nan"), "scale lambda"),
    (("--depth", "--points", "0"), "points"),
    (("--depth", "--nonlinearity", "tanh"), "invalid choice"),
    (("--depth", "--classify"), "choose one"),
    (("--train",), "add --depth"),
    (("--inputs", "2-4"), "add --depth"),
    (("--depth", "--max-width", "8"), "add --train"),
    (("--depth", "--train", "--inputs", "9"), "n <= 8"),
    (("--depth", "--train", "--max-width", "2000"), "max width"),
    (("--depth", "--train", "--seeds", "0"), "seeds"),
    (("--depth", "--train", "--inputs", "2-8", "--max-width", "1024"), "--allow-long"),
    (("--depth", "--load", "x.npz"), "no dataset"),
    (("--levels", "0,1"), "add --classify"),
    (("--classify", "--levels", "0,9"), "0..6"),
    (("--classify", "--levels", "0,x"), "not an integer"),
    (("--classify", "-L", "16", "--levels", "0-4"), "up to 3"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, words):
    code, out, err = run(capsys, "learn", *argv)
    assert code == 2 and out == ""
    assert words in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_parse_time_bounds_match_the_core_modules():
    from isinglab.core.cli.commands import learn
    from isinglab.core.learning import depth, depth_train, hierarchy
    assert (learn.MIN_INPUTS, learn.MAX_INPUTS) == (depth.MIN_INPUTS, depth.MAX_INPUTS)
    assert (learn.MAX_SCALES, learn.DEFAULT_POINTS, learn.MAX_POINTS) == (depth.MAX_SCALES, depth.DEFAULT_POINTS,
                                                                          depth.MAX_POINTS)
    assert learn._scales(learn.DEFAULT_SCALES) == list(depth.DEFAULT_SCALES)
    assert (learn.MAX_TRAIN_INPUTS, learn.MAX_WIDTH, learn.DEFAULT_MAX_WIDTH, learn.MAX_SEEDS, learn.DEFAULT_SEEDS) == (
        depth_train.MAX_TRAIN_INPUTS, depth_train.MAX_WIDTH, depth_train.DEFAULT_MAX_WIDTH, depth_train.MAX_SEEDS,
        depth_train.DEFAULT_SEEDS)
    assert learn.MAX_LEVEL == hierarchy.MAX_LEVEL


def test_classify_levels_json(capsys):
    code, out, err = run(capsys, "learn", "--classify", "-L", "8", "--temperatures", "1.8,3.0", "--samples", "120",
                         "--epochs", "20", "--levels", "0,1,2", "--seed", "2", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [lv["level"] for lv in data["levels"]] == [0, 1, 2] and [lv["size"] for lv in data["levels"]] == [8, 4, 2]
    for lv in data["levels"]:
        assert set(lv["accuracy"]) == {"mean", "err"} and 0 <= lv["accuracy"]["mean"] <= 1
    assert data["levels"][0]["accuracy"]["mean"] == pytest.approx(data["accuracy"])  # level 0 is the main network
    assert set(data["bayes_energy_accuracy"]) == {"mean", "err"} and data["bayes_method"].startswith("exact")
    assert "classes" in data and "distilled" in data  # the --classify output is all still there


def test_rg_estimate_tc_reports_the_spectrum(capsys):
    code, out, err = run(capsys, "rg", "--estimate-tc", "--size", "32", "--sweeps", "2000", "--json")
    assert code == 0, err
    spectrum = json.loads(out)["spectrum"]
    assert [s["step"] for s in spectrum] == [0, 1]
    for s in spectrum:
        assert len(s["y"]) == len(s["y_err"]) == len(s["lambda"]) == 6
        assert s["y"][0] > 0 and s["relevant"] + s["irrelevant"] <= 6
    code, out, err = run(capsys, "rg", "--estimate-tc", "--size", "32", "--sweeps", "2000")
    assert code == 0, err
    assert "spectrum (y = ln|lambda| / ln b):" in out and "step 32 -> 16" in out and "relevant)" in out
