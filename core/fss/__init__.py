"""Finite-size scaling of a sweep store (core.sweep): multi-histogram reweighting (reweight),
Binder crossings, peak scaling and a data collapse with jackknife errors over seeds (analysis)."""
from .analysis import analyse, runs_from_store
from .reweight import MultiHistogram, Reweighted, Run


def analyse_store(path, omega: float | None = None) -> dict:
    """analyse() of the finished tasks in the sweep store at `path`, with facts about the store."""
    from ..sweep.store import SweepStore
    from .analysis import DEFAULT_OMEGA

    store = SweepStore.open_read(path)
    runs, facts = runs_from_store(store)
    out = analyse(runs, omega=DEFAULT_OMEGA if omega is None else omega)
    return {**out, **facts}


__all__ = ["MultiHistogram", "Reweighted", "Run", "analyse", "analyse_store", "runs_from_store"]
