"""Datasets: decorrelated, labelled, Z2-symmetrised samples; cache, NPZ round trip, bad input."""
import io
import zipfile

import numpy as np
import pytest

from isinglab.core import exact
from isinglab.core.errors import IsingLabError
from isinglab.core.learning import datasets
from isinglab.core.learning.datasets import IsingDataset, generate
from isinglab.core.observables import bond_sum_and_magnetisation
from isinglab.core.stats import binned_mean
from isinglab.core.tasks import Cancelled, TaskState


@pytest.fixture(scope="module")
def small():
    return generate(8, [1.6, 2.3, 3.0], 200, seed=4, cache=False)


def test_shapes_labels_and_metadata(small):
    assert small.spins.shape == (600, 8, 8) and small.spins.dtype == np.int8
    assert set(np.unique(small.spins)) == {-1, 1}
    assert small.class_counts().tolist() == [200, 200, 200]
    assert small.temperatures.tolist() == [1.6, 2.3, 3.0]
    assert small.spacing.shape == (3,) and (small.spacing >= 1).all()
    assert small.algorithms[1] == ("wolff" if datasets.cluster_backend_available() else "metropolis")
    assert small.algorithms[0] == "metropolis"
    assert not small.spins.flags.writeable


def test_energies_use_the_observables_convention(small):
    expected = [-bond_sum_and_magnetisation(s)[0] for s in small.spins[::37]]
    assert small.energies()[::37].tolist() == expected


def test_mean_energy_matches_kaufman():
    """Samples spaced by 2 tau are close to independent: the mean energy agrees with the exact one."""
    data = generate(8, [2.5], 1500, seed=9, cache=False)
    e = data.energies() / 64
    mean, err = binned_mean(e)
    assert 0 < err < 0.01
    assert abs(mean - exact.kaufman_energy(8, 2.5)) < 4 * err


def test_cold_samples_are_symmetrised():
    """Below T_c a local chain keeps one sign of m; the Z2 move makes both signs equally likely."""
    data = generate(8, [1.5], 400, seed=1, cache=False, algorithm="metropolis")
    up = (data.spins.sum(axis=(1, 2)) > 0).mean()
    assert abs(up - 0.5) < 4 * 0.5 / np.sqrt(400)


def test_seed_reproduces_and_changes(small):
    again = generate(8, [1.6, 2.3, 3.0], 200, seed=4, cache=False)
    assert np.array_equal(again.spins, small.spins)
    other = generate(8, [1.6, 2.3, 3.0], 200, seed=5, cache=False)
    assert not np.array_equal(other.spins, small.spins)


def test_cache_returns_the_same_dataset():
    datasets.clear_cache()
    a = generate(6, [2.0, 3.0], 20, seed=2)
    assert generate(6, [2.0, 3.0], 20, seed=2) is a
    datasets.clear_cache()
    assert generate(6, [2.0, 3.0], 20, seed=2) is not a


def test_npz_round_trip(small, tmp_path):
    path = tmp_path / "set.npz"
    small.save(path)
    back = IsingDataset.load(path)
    assert np.array_equal(back.spins, small.spins) and np.array_equal(back.labels, small.labels)
    assert back.temperatures.tolist() == small.temperatures.tolist()
    assert back.algorithms == small.algorithms and back.seed == small.seed


def test_save_is_atomic_and_adds_the_suffix(small, tmp_path):
    written = small.save(tmp_path / "set")
    assert written == str(tmp_path / "set.npz") and (tmp_path / "set.npz").exists()
    with pytest.raises(IsingLabError, match="not a regular file"):
        small.save("/dev/full")
    with pytest.raises(IsingLabError, match="folder"):
        small.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set.npz"]


def _arrays(**changes):
    rng = np.random.default_rng(0)
    a = {"spins": np.where(rng.random((20, 6, 6)) < 0.5, -1, 1).astype(np.int8), "labels": np.arange(20) % 2,
         "temperatures": np.array([2.0, 3.0]), "coupling": np.float64(1.0), "field": np.float64(0.0),
         "spacing": np.array([1, 2]), "tau": np.array([0.5, 0.7]), "algorithms": np.array(["metropolis"] * 2),
         "seed": np.int64(0)}
    a.update(changes)
    return {k: v for k, v in a.items() if v is not None}


@pytest.mark.parametrize("changes,match", [
    ({"temperatures": np.array([-2.0, 3.0])}, "> 0"),
    ({"temperatures": np.array([np.nan, 3.0])}, "finite"),
    ({"temperatures": np.array([2.0, 2.0])}, "distinct"),
    ({"spins": np.full((20, 6, 6), 7, np.int8)}, r"\+1 or -1"),
    ({"spins": np.ones((20, 6, 6))}, "integer"),
    ({"labels": np.arange(20) % 2 * 1.0}, "integer"),
    ({"labels": np.arange(20) % 3}, "index the 2 temperatures"),
    ({"seed": np.arange(3)}, "single integer"),
    ({"coupling": np.array([1.0, 2.0])}, "single number"),
    ({"coupling": np.float64(1e-12)}, "T/|J|"),
    ({"field": np.float64(np.inf)}, "finite"),
    ({"algorithms": np.array(["x", "y"])}, "unknown algorithm"),
    ({"algorithms": np.array([{"a": 1}], dtype=object)}, "never loaded"),
    ({"spins": None}, "no 'spins'"),
])
def test_bad_arrays_are_refused(tmp_path, changes, match):
    path = tmp_path / "bad.npz"
    np.savez(path, **_arrays(**changes))  # object arrays are pickled when saved, never when loaded
    with pytest.raises(IsingLabError, match=match):
        IsingDataset.load(path)


def test_a_header_claiming_a_huge_array_is_refused_unread(tmp_path):
    header = "{'descr': '|i1', 'fortran_order': False, 'shape': (1000000000000, 1000, 1000), }"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    blob = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + b"\x01" * 16
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("spins.npy", blob)
        for k in ("labels", "temperatures", "coupling", "field"):
            buf = io.BytesIO()
            np.save(buf, _arrays()[k])
            z.writestr(f"{k}.npy", buf.getvalue())
    with pytest.raises(IsingLabError, match="GiB"):
        IsingDataset.load(path)


def test_unreadable_files_give_one_clear_error(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("not an archive")
    with pytest.raises(IsingLabError, match="cannot read dataset"):
        IsingDataset.load(bad)
    with pytest.raises(IsingLabError, match="cannot read dataset"):
        IsingDataset.load(tmp_path / "missing.npz")


def test_split_is_stratified(small):
    train, test = small.split(0.25, seed=0)
    assert test.class_counts().tolist() == [50, 50, 50]
    assert train.class_counts().tolist() == [150, 150, 150]
    together = sorted(map(bytes, np.concatenate([train.spins, test.spins])))
    assert together == sorted(map(bytes, small.spins))  # a partition of the dataset


@pytest.mark.parametrize("temps,samples,match", [
    ([2.0, 2.0], 10, "distinct"),
    ([2.0, 3.0, 2.0 + 1e-12], 10, "distinct"),
    ([], 10, "at least one"),
    ([-1.0], 10, "> 0"),
    ([2.0], 0, "empty"),
    ([2.0], -3, "empty"),
])
def test_bad_requests_are_refused(temps, samples, match):
    with pytest.raises(IsingLabError, match=match):
        generate(8, temps, samples, cache=False)


def test_parse_temperatures():
    assert datasets.parse_temperatures(" 2.0, 2.5;3").tolist() == [2.0, 2.5, 3.0]
    with pytest.raises(IsingLabError, match="'x'"):
        datasets.parse_temperatures("2.0, x")
    with pytest.raises(IsingLabError, match="at least one"):
        datasets.parse_temperatures(" , ")


def test_classifiable_needs_two_filled_classes(small):
    with pytest.raises(IsingLabError, match="at least 2 temperature classes"):
        small.subset(np.flatnonzero(small.labels == 0)).check_classifiable()
    with pytest.raises(IsingLabError, match="empty"):
        small.subset(np.array([], dtype=int)).check_classifiable()
    small.check_classifiable()


def test_generation_can_be_cancelled():
    seen = []

    def on_progress(fraction, text):
        seen.append(fraction)
        if len(seen) == 3:
            task.cancel()

    task = TaskState(on_progress)
    with pytest.raises(Cancelled):
        generate(8, [2.0, 3.0], 2000, cache=False, task=task)
    assert len(seen) == 3
