"""The learning feature's accuracy and speed targets, measured in one run.

    python tests/benchmarks/bench_learning.py [--samples 4000] [--per-class 8000] [--seed 0] [--json]

1. Pseudo-likelihood, L = 16, T = 3.0, --samples configurations, pairs out to R = 2:
   target K_nn within 3 % of 1/3, every other coefficient |K| < 0.01, sampling + fit <= 60 s.
2. Classifier, L = 16, T = 1.8, 2.1, 2.4, 2.7 (spanning T_c), --per-class configurations each
   (a quarter held out): target held-out logit_energy_r2 >= 0.98, every slope within 5 % of
   -(1/T_y - 1/T_ref), training <= 60 s.

Times are wall-clock seconds (the machine may be shared) with the process CPU time beside them.
Exit status 1 when a target is missed.
"""
import argparse
import json
import sys
import time

import numpy as np

from isinglab.core.learning import classifier as cl
from isinglab.core.learning import pseudolikelihood as pl
from isinglab.core.learning.datasets import generate
from isinglab.core.learning.distill import distill

TEMPERATURES = [1.8, 2.1, 2.4, 2.7]


def timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def bench_couplings(samples: int, seed: int) -> dict:
    (fit, data), wall, cpu = timed(lambda: pl.learn_couplings(16, 3.0, samples, range_=2, seed=seed))
    others = [abs(c) for op, c in zip(fit.operators, fit.coefficients) if op.group != "nn"]
    nn = fit.groups()["nn"]
    rel = nn["mean"] * 3.0 - 1.0
    return {"k_nn": nn, "k_nn_relative_error": rel, "max_other_abs": max(others),
            "seconds": wall, "cpu_seconds": cpu, "fit_seconds": fit.seconds,
            "spacing_sweeps": int(data.spacing[0]),
            "pass": abs(rel) < 0.03 and max(others) < 0.01 and wall <= 60.0}


def bench_classifier(per_class: int, seed: int) -> dict:
    data, gen_wall, _ = timed(lambda: generate(16, TEMPERATURES, per_class, seed=seed, cache=False))
    trained, wall, cpu = timed(lambda: cl.train_classifier(data, cl.TrainConfig(epochs=200, seed=seed)))
    a = cl.analyse(trained)
    d = distill(trained)
    slopes = [c.slope / c.slope_exact - 1.0 for c in a.classes]
    return {"logit_energy_r2": a.r2, "accuracy": a.accuracy, "slope_relative_errors": slopes,
            "intercepts": [(c.intercept, c.intercept_exact) for c in a.classes],
            "distilled_nn_over_exact": [d.groups(c)["nn"]["learned"] / d.groups(c)["nn"]["exact"] for c in d.classes],
            "train_seconds": wall, "train_cpu_seconds": cpu, "generate_seconds": gen_wall,
            "epochs": trained.epochs_run, "converged": trained.converged, "device": trained.device,
            "train_per_class": int(trained.train.class_counts()[0]),
            "pass": a.r2 >= 0.98 and max(abs(s) for s in slopes) < 0.05 and wall <= 60.0}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--samples", type=int, default=4000, help="pseudo-likelihood samples (default 4000)")
    p.add_argument("--per-class", type=int, default=8000, help="classifier samples per temperature (default 8000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    out = {"couplings": bench_couplings(args.samples, args.seed),
           "classifier": bench_classifier(args.per_class, args.seed)}
    if args.json:
        print(json.dumps(out, indent=2, default=float))
    else:
        c, k = out["couplings"], out["classifier"]
        print(f"pseudo-likelihood L=16 T=3 n={args.samples}: K_nn = {c['k_nn']['mean']:.4f} ± {c['k_nn']['err']:.4f} "
              f"({100 * c['k_nn_relative_error']:+.2f} %), max other |K| = {c['max_other_abs']:.4f}, "
              f"{c['seconds']:.1f} s wall ({c['fit_seconds']:.1f} s fit)  {'PASS' if c['pass'] else 'FAIL'}")
        print(f"classifier L=16 T={TEMPERATURES} {args.per_class}/class: R^2 = {k['logit_energy_r2']:.5f}, "
              f"slopes {', '.join(f'{100 * s:+.2f} %' for s in k['slope_relative_errors'])}, "
              f"accuracy {k['accuracy']:.3f}, training {k['train_seconds']:.1f} s wall / "
              f"{k['train_cpu_seconds']:.1f} s CPU ({k['epochs']} epochs), sampling {k['generate_seconds']:.1f} s  "
              f"{'PASS' if k['pass'] else 'FAIL'}")
        print(f"  distilled nn / exact: {', '.join(f'{v:.3f}' for v in k['distilled_nn_over_exact'])}; "
              f"{k['device']}")
    return 0 if out["couplings"]["pass"] and out["classifier"]["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
