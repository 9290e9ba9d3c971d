"""The sweep + fss targets of issue 18 on this machine, with the embedded dask cluster.

    python tests/benchmarks/bench_sweep.py [--sweeps 3500] [--thermalize 350] [--workers N]
                                           [--store PATH] [--keep] [--no-throughput]

1. `isinglab sweep --sizes 16,32,64,128 --temperatures 2.22:2.32:0.005 --seeds 4 --algorithm wolff`
   (21 temperatures, 336 tasks) into a Zarr store; target: the whole sweep in <= 10 minutes.
2. `isinglab fss STORE --json`; targets: T_c from the Binder crossings within 0.1 % of 2.269185,
   U4* within 1 % of 0.61069, gamma/nu within 3 % of 1.75, nu from the collapse within 5 % of 1.
3. Throughput: a small sweep (L = 16, 32; 11 temperatures; 2 seeds; 2000 sweeps; 44 tasks) with
   --workers 1 and then --workers 2, tasks per second of the compute phase (cluster start-up
   excluded; it is in the wall time printed beside).

A --store that already holds the sweep is resumed (nothing is rerun), so the analysis can be
repeated on the same data. Timings on a shared machine depend on its load: the load average is
printed before and after. Exit status 1 when a target is missed.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ENTRY = "import sys; from isinglab.core.cli import main; sys.exit(main(sys.argv[1:]))"
TC, U4_STAR, GAMMA_NU, NU = 2.269185314213022, 0.61069, 1.75, 1.0


def isinglab(*argv) -> tuple[dict, float]:
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", ENTRY, *argv], capture_output=True, text=True)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        sys.exit(f"isinglab {' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return json.loads(proc.stdout), wall


def load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def check(name, value, target, rel) -> bool:
    dev = abs(value["mean"] - target) / abs(target)
    ok = dev <= rel
    print(f"  {name:14s} {value['mean']:.6f} ± {value['err']:.2g}   target {target:g} within {rel:.1%}: "
          f"off by {dev:.3%}  {'PASS' if ok else 'FAIL'}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweeps", type=int, default=3500)
    ap.add_argument("--thermalize", type=int, default=350)
    ap.add_argument("--workers", type=int, default=None, help="embedded workers (default: one per core)")
    ap.add_argument("--store", default=None, help="store of the main sweep (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary stores")
    ap.add_argument("--no-throughput", action="store_true", help="skip the 1 vs 2 workers comparison")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="isinglab-bench-sweep-")
    store = args.store or os.path.join(tmp, "fss.zarr")
    ok = True
    try:
        cmd = ["sweep", "--sizes", "16,32,64,128", "--temperatures", "2.22:2.32:0.005", "--seeds", "4",
               "--sweeps", str(args.sweeps), "--thermalize", str(args.thermalize), "--algorithm", "wolff",
               "--store", store, "--json", "--allow-long"]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        print(f"load average before: {load()}  (cores: {os.cpu_count()})")
        print("$ isinglab " + " ".join(cmd))
        summary, wall = isinglab(*cmd)
        print(f"sweep: {summary['tasks']} tasks, ran {summary['ran']}, skipped {summary['skipped']} on "
              f"{summary['cluster']}: {wall:.1f} s wall ({summary['compute_seconds']:.1f} s computing)")
        if summary.get("task_cpu_seconds"):
            print(f"  tasks' CPU time {summary['task_cpu_seconds']:.1f} s in all (wall {summary['task_seconds']:.1f} s): "
                  f"on an idle machine the compute phase would take about "
                  f"{summary['task_cpu_seconds'] / max(1, summary['workers']):.0f} s")
        if summary["ran"] == summary["tasks"]:
            target = wall <= 600.0
            ok &= target
            print(f"  whole sweep {wall:.1f} s, target <= 600 s: {'PASS' if target else 'FAIL'}")
        else:
            print("  (resumed: the sweep's time is not measured)")
        print(f"$ isinglab fss {store} --json")
        fss, fwall = isinglab("fss", store, "--json")
        print(f"fss: {fwall:.1f} s")
        ok &= check("T_c", fss["tc"], TC, 0.001)
        ok &= check("U4*", fss["u4_star"], U4_STAR, 0.01)
        ok &= check("gamma/nu", fss["gamma_over_nu"], GAMMA_NU, 0.03)
        ok &= check("nu (collapse)", fss["nu"], NU, 0.05)
        for c in fss["crossings"]:
            print(f"  crossing L = {c['sizes'][0]}/{c['sizes'][1]}: T = {c['t']['mean']:.5f} ± {c['t']['err']:.2g}, "
                  f"U4 = {c['u4']['mean']:.4f} ± {c['u4']['err']:.2g}")
        inv = fss.get("one_over_nu")
        if inv:
            print(f"  1/nu from peak slopes: {inv['mean']:.4f} ± {inv['err']:.2g}")
        col = fss["collapse"]
        print(f"  collapse: T_c {col['tc']['mean']:.5f} ± {col['tc']['err']:.2g}, nu {col['nu']['mean']:.4f} ± "
              f"{col['nu']['err']:.2g}, gamma/nu {col['gamma_over_nu']['mean']:.4f} ± "
              f"{col['gamma_over_nu']['err']:.2g}, quality {col['quality']:.3g}")
        if not args.no_throughput:
            for workers in (1, 2):
                small = os.path.join(tmp, f"throughput-{workers}.zarr")
                shutil.rmtree(small, ignore_errors=True)
                cmd = ["sweep", "--sizes", "16,32", "--temperatures", "2.22:2.32:0.01", "--seeds", "2",
                       "--sweeps", "2000", "--algorithm", "wolff", "--store", small, "--workers", str(workers), "--json"]
                s, w = isinglab(*cmd)
                print(f"throughput --workers {workers}: {s['ran']} tasks, {s['tasks_per_second']:.2f} tasks/s "
                      f"({s['compute_seconds']:.1f} s computing, {w:.1f} s wall with cluster start-up)")
        print(f"load average after: {load()}")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
