"""isinglab learn: JSON shapes for the coupling fit and the classifier, NPZ save/load, bad input."""
import json

import numpy as np
import pytest

from isinglab.app.commands.entry import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_couplings_json(capsys):
    code, out, err = run(capsys, "learn", "--size", "12", "--temperature", "3.0", "--samples", "600",
                         "--range", "2", "--seed", "3", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["beta"] == pytest.approx(1 / 3)
    assert {"nn", "nnn", "plaquette", "h", "3-spin", "pair(2,0)"} <= set(data["couplings"])
    for v in data["couplings"].values():
        assert set(v) == {"mean", "err"} and v["err"] > 0
    nn = data["couplings"]["nn"]
    assert abs(nn["mean"] - 1 / 3) < 5 * nn["err"]
    assert np.array(data["kernel"]).shape == (5, 5)
    assert data["samples"] == 600 and data["size"] == 12 and data["spacing_sweeps"] >= 1


def test_couplings_table_and_full_fit(capsys):
    code, out, err = run(capsys, "learn", "-L", "6", "-T", "3", "--samples", "300", "--full")
    assert code == 0, err
    assert "nn" in out and "kernel:" in out and "dy=+0" in out and "36 x 36; use --json" in out


def test_classify_json_and_dataset_round_trip(capsys, tmp_path):
    path = tmp_path / "set.npz"
    args = ("learn", "--classify", "--size", "8", "--temperatures", "1.8,2.4,3.0", "--samples", "150",
            "--epochs", "10", "--seed", "1", "--json")
    code, out, err = run(capsys, *args, "--save", str(path))
    assert code == 0, err
    data = json.loads(out)
    assert {"accuracy", "logit_energy_r2", "classes", "distilled", "device", "epochs"} <= set(data)
    assert 0 <= data["accuracy"] <= 1 and data["logit_energy_r2"] > 0.9
    assert [c["temperature"] for c in data["classes"]] == [2.4, 3.0]
    for c in data["classes"]:
        assert set(c["slope"]) == {"learned", "exact"} and set(c["intercept"]) == {"learned", "exact"}
        assert c["slope"]["exact"] == pytest.approx(-(1 / c["temperature"] - 1 / 1.8))
    assert data["distilled"]["reference_temperature"] == 1.8
    assert path.exists()
    code, out2, err = run(capsys, *args, "--load", str(path))
    assert code == 0, err
    assert json.loads(out2)["classes"] == data["classes"]  # same data, same seed: same network


@pytest.mark.parametrize("argv,message", [
    (("--samples", "0"), "empty"),
    (("--range", "8"), "at most 6"),
    (("-L", "8", "--range", "4"), "L > 2R"),
    (("-T", "-1"), "> 0"),
    (("--classify", "--temperatures", "2.0,2.0"), "distinct"),
    (("--classify", "--temperatures", "2.0"), "at least 2"),
    (("--classify", "--temperatures", "2.0,hot"), "'hot'"),
    (("--classify", "--epochs", "0", "--samples", "20", "-L", "8"), "epochs"),
    (("--classify", "--held-out", "1.5", "--samples", "20", "-L", "8"), "held-out"),
    (("--load", "/nonexistent/set.npz"), "cannot read dataset"),
    (("--load", "/dev/null"), "not a regular file"),
    (("--load", ""), "empty"),
    (("--held-out", "nan", "--classify"), "held-out"),
    (("--epochs", "1000000", "--classify"), "epochs"),
    (("--channels", "65"), "channels"),
    (("--temperatures", "2.0,1e300", "--classify"), "between 0.001 and 1000"),
    (("--samples", "2000000"), "maximum"),
    (("--range", "0"), "at least 1"),
    (("--save", "/dev/full", "--samples", "20", "-L", "8"), "not a regular file"),
    (("--samples", "1000000", "-L", "256"), "--allow-long"),
    (("-L", "200", "--full", "--samples", "20"), "L <= 12"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, "learn", *argv)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_parse_time_bounds_match_the_classifier():
    from isinglab.core.cli.commands import learn
    from isinglab.core.learning import classifier
    assert (learn.MAX_EPOCHS, learn.MAX_CHANNELS) == (classifier.MAX_EPOCHS, classifier.MAX_CHANNELS)


def test_save_adds_the_suffix_and_a_bad_target_samples_nothing(capsys, tmp_path):
    code, out, err = run(capsys, "learn", "-L", "8", "-T", "3", "--samples", "300", "--range", "1",
                         "--save", str(tmp_path / "set"), "--json")
    assert code == 0, err
    assert (tmp_path / "set.npz").exists() and "added the suffix .npz" in err
    code, out, err = run(capsys, "learn", "-L", "8", "--samples", "300", "--save", str(tmp_path))
    assert code == 2 and "folder" in err and len(err.splitlines()) == 1


def test_loaded_dataset_is_checked_against_the_fit(capsys, tmp_path):
    path = tmp_path / "set.npz"
    code, _, err = run(capsys, "learn", "-L", "8", "-T", "3", "--samples", "300", "--save", str(path), "--json")
    assert code == 0, err
    code, out, err = run(capsys, "learn", "--load", str(path), "--range", "4")
    assert code == 2 and "L > 2R" in err
