"""Correlation benchmarks: FFT speed at 1024^2, accuracy of xi and eta, the panel during drags.

    python tests/benchmarks/bench_correlation.py [speed] [xi] [eta] [panel] [--sweeps-xi 200000]

speed  G(r) of one 1024^2 configuration: best and median of 20, with 1 and 2 FFT threads, with
       and without the radial average (which needs a second, inverse FFT); wall and CPU time.
xi     T = 2.5, L = 128 (Onsager xi = 5.962): xi_exp and xi_2nd from `correlation.sample` with
       Wolff; xi_2nd needs ~1e6 independent samples for 1 % here (see second_moment_samples).
eta    T = T_c, L = 256: eta from the power-law fit.
panel  L = 128 and 1024: a real engine (Wolff) feeds CorrelationPanel at display rate while the
       temperature steps every 0.5 s (a slider drag); reports the GUI-thread cost of
       on_snapshot and of a redraw, and how many snapshots the worker analysed.
"""
import argparse
import os
import statistics
import time

import numpy as np

from isinglab.core import correlation as corr
from isinglab.core import exact
from isinglab.core.backends import make_sampler
from isinglab.core.params import ModelParams


def bench_speed(repeats=20):
    sampler = make_sampler(ModelParams(size=1024, temperature=2.4, algorithm="wolff"))
    sampler.sweep(20)
    spins = sampler.spins()
    for workers in (1, 2):
        corr.FFT_WORKERS = workers
        for radial in (False, True):
            corr.measure(spins, radial=radial)  # warm plans and caches
            wall, cpu = [], []
            for _ in range(repeats):
                w0, c0 = time.perf_counter(), time.process_time()
                corr.measure(spins, radial=radial)
                wall.append(time.perf_counter() - w0)
                cpu.append(time.process_time() - c0)
            print(f"G(r) 1024^2, {workers} FFT thread(s), radial={radial!s:5}: best {min(wall) * 1e3:5.1f} ms, "
                  f"median {statistics.median(wall) * 1e3:5.1f} ms (CPU median {statistics.median(cpu) * 1e3:5.1f} ms)")
    corr.FFT_WORKERS = 2


def _run(size, temperature, sweeps, seed=7):
    params = ModelParams(size=size, temperature=temperature, algorithm="wolff", seed=seed)
    t0 = time.perf_counter()
    res, info = corr.sample(params, sweeps=sweeps, radial=False)
    return res, info, time.perf_counter() - t0


def _rel(est, target):
    return f"{est.value:.4f} ± {est.err:.4f} ({100 * (est.value / target - 1):+.1f} %)" if est.ok else str(est)


def bench_xi(sweeps):
    T, L = 2.5, 128
    xi = exact.onsager_correlation_length(T)
    res, info, secs = _run(L, T, sweeps)
    print(f"xi at T = {T}, L = {L}: exact {xi:.4f}; {res.n_samples} samples every {info['measure_every']} "
          f"sweep(s) (tau_int {info['tau_int_sweeps']:.2f}), {secs:.0f} s")
    print(f"  xi_exp {_rel(res.xi_exp, xi)}   window {res.fit_exp['window'] if res.fit_exp else None}")
    print(f"  xi_2nd {_rel(res.xi_2nd, xi)}   1 % would need "
          f"{corr.second_moment_samples(L, xi, 0.01):.3g} independent samples")


def bench_eta(sweeps):
    L = 256
    res, info, secs = _run(L, exact.TC, sweeps)
    print(f"eta at T_c, L = {L}: {_rel(res.eta, 0.25)} from {res.n_samples} samples, {secs:.0f} s; "
          f"fit window r = {res.fit_eta['window'] if res.fit_eta else None}")


def bench_panel(seconds=12.0, size=1024):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import isinglab.app.qt  # noqa: F401
    from PySide6.QtWidgets import QApplication

    from isinglab.app.panels.correlation import CorrelationPanel
    from isinglab.core.engine import Engine

    app = QApplication.instance() or QApplication([])
    panel = CorrelationPanel(size=size)
    panel.resize(700, 800)
    panel.show()
    redraws = []
    original = panel.refresh

    def timed_refresh():
        t0 = time.perf_counter()
        original()
        redraws.append(time.perf_counter() - t0)

    panel._redraw_timer.timeout.disconnect()
    panel._redraw_timer.timeout.connect(timed_refresh)
    engine = Engine(ModelParams(size=size, temperature=2.0, algorithm="wolff"))
    engine.start()
    engine.set_running(True)
    calls, temps = [], np.round(np.arange(2.0, 3.0, 0.1), 3)
    start = time.perf_counter()
    step = -1
    while (now := time.perf_counter()) - start < seconds:
        k = int((now - start) / (seconds / len(temps)))
        if k != step:
            step = k
            engine.request(temperature=float(temps[min(k, len(temps) - 1)]))
        t0 = time.perf_counter()
        panel.on_snapshot(engine.latest())
        calls.append(time.perf_counter() - t0)
        app.processEvents()
        time.sleep(max(0.0, 0.016 - (time.perf_counter() - t0)))
    sweeps = engine.latest().sweeps
    engine.stop()
    panel.shutdown()
    u = panel.latest_update
    n_points = len(u.points["xi_exp"][0]) if u else 0
    print(f"panel L = {size}, {seconds:.0f} s, T stepped 2.0 .. 2.9: on_snapshot median "
          f"{statistics.median(calls) * 1e3:.3f} ms, max {max(calls) * 1e3:.2f} ms over {len(calls)} frames; "
          f"redraw median {statistics.median(redraws) * 1e3:.1f} ms, max {max(redraws) * 1e3:.1f} ms "
          f"({len(redraws)} redraws); engine {sweeps / seconds:.0f} sweeps/s; worker analysed "
          f"{len(panel.scan)} snapshots; {n_points} xi_exp points")
    panel.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("parts", nargs="*", default=["speed", "xi", "eta", "panel"])
    ap.add_argument("--sweeps-xi", type=int, default=200000)
    ap.add_argument("--sweeps-eta", type=int, default=6000)
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    for part in args.parts:
        if part == "speed":
            bench_speed()
        elif part == "xi":
            bench_xi(args.sweeps_xi)
        elif part == "eta":
            bench_eta(args.sweeps_eta)
        elif part == "panel":
            for size in (128, 1024):
                bench_panel(size=size)
        else:
            raise SystemExit(f"unknown part {part!r}")


if __name__ == "__main__":
    main()
