"""isinglab sweep: bounded inputs, resume and its refusal, and a real dask cluster that loses a
worker mid-sweep yet gives bit-identical results to the embedded cluster."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from isinglab.core.cli import main
from isinglab.core.sweep import SweepPlan, parse_temperatures, task_seed
from isinglab.core.sweep.store import SweepStore

ENTRY = "import sys; from isinglab.core.cli import main; sys.exit(main(sys.argv[1:]))"
SMALL = ["--sizes", "8,16", "--temperatures", "2.15:2.5:0.05", "--seeds", "2", "--sweeps", "3000",
         "--thermalize", "200"]  # 32 tasks


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(capsys, *argv):
    code, out, err = cli(capsys, *argv)
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0], err
    return lines[0]


# ----------------------------------------------------------------------------- inputs

BAD = [
    (["--sizes", "abc"], "not an integer"),
    (["--sizes", "16,,32"], "comma-separated"),
    (["--sizes", "16,16"], "repeated"),
    (["--sizes", "2,16"], "at least 4"),
    (["--sizes", "9,16", "--algorithm", "metropolis"], "even L"),
    (["--temperatures", "2.3:2.2:0.01"], "STOP"),
    (["--temperatures", "2.2:2.3:0"], "step"),
    (["--temperatures", "2.2:2.3:1e-9"], "step"),
    (["--temperatures", "2.2:2.3"], "START:STOP:STEP"),
    (["--temperatures", "nan"], "finite"),
    (["--temperatures", "-1"], "temperature"),
    (["--temperatures", "1:1000:0.001"], "at most"),
    (["--temperatures", "2.2,2.2"], "equal"),
    (["--seeds", "0"], "--seeds"),
    (["--sweeps", "5"], "--sweeps"),
    (["--thermalize", "-1"], "--thermalize"),
    (["--workers", "0"], "--workers"),
    (["--scheduler", "not an address"], "--scheduler"),
    (["--scheduler", "tcp://host:99999"], "port"),
    (["--algorithm", "bogus"], "invalid choice"),
    (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "not allowed with"),
    (["--sizes", "4096", "--sweeps", "100000000"], "--allow-long"),
    (["--seed", "-1"], "seed"),
]


@pytest.mark.parametrize("extra,words", BAD)
def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys, extra, words):
    args = {"--sizes": "8,16", "--temperatures": "2.2:2.3:0.05", "--store": str(tmp_path / "s.zarr")}
    argv = ["sweep"]
    for k, v in args.items():
        if k not in extra:
            argv += [k, v]
    line = one_line_error(capsys, *argv, *extra)
    assert words in line, line
    assert not os.path.exists(tmp_path / "s.zarr")  # refused before anything was written


def test_store_must_be_a_folder_in_an_existing_folder(tmp_path, capsys):
    base = ["sweep", "--sizes", "8,16", "--temperatures", "2.2:2.3:0.05"]
    (tmp_path / "file").write_text("x")
    assert "not a Zarr store" in one_line_error(capsys, *base, "--store", str(tmp_path / "file"))
    assert "does not exist" in one_line_error(capsys, *base, "--store", str(tmp_path / "no" / "s.zarr"))
    os.mkdir(tmp_path / "other")
    (tmp_path / "other" / "data.txt").write_text("x")
    assert "not an isinglab sweep store" in one_line_error(capsys, *base, "--store", str(tmp_path / "other"))


def test_task_seeds_depend_only_on_global_seed_size_temperature_and_index():
    plan = SweepPlan.build([8, 16], parse_temperatures("2.2:2.3:0.05"), 3, 100)
    seeds = {(t.size, t.temperature, t.seed_index): t.seed for t in plan.tasks}
    assert len(set(seeds.values())) == len(seeds)
    # the same task in another sweep (other sizes, temperatures, counts) has the same seed
    other = SweepPlan.build([16, 32], parse_temperatures("2.25,2.4"), 2, 5000)
    for t in other.tasks:
        if (t.size, t.temperature, t.seed_index) in seeds:
            assert seeds[(t.size, t.temperature, t.seed_index)] == t.seed
    assert task_seed(0, 16, 2.25, 1) == task_seed(0, 16, 2.2500000001, 1)
    assert task_seed(0, 16, 2.25, 1) != task_seed(1, 16, 2.25, 1)


def test_resume_refuses_a_store_of_other_parameters(tmp_path, capsys):
    path = str(tmp_path / "s.zarr")
    plan = SweepPlan.build([8, 16], parse_temperatures("2.2:2.3:0.05"), 2, 1000)
    SweepStore.create_or_resume(path, plan)
    before = sorted(os.listdir(path))
    line = one_line_error(capsys, "sweep", "--sizes", "8,16", "--temperatures", "2.2:2.3:0.05", "--seeds", "2",
                          "--sweeps", "2000", "--store", path)
    assert "other parameters" in line and "sweeps: 1000 there, 2000 here" in line
    line = one_line_error(capsys, "sweep", "--sizes", "8,32", "--temperatures", "2.2:2.3:0.05", "--seeds", "2",
                          "--sweeps", "1000", "--store", path)
    assert "sizes" in line
    assert sorted(os.listdir(path)) == before


# ----------------------------------------------------------------------------- a real cluster

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args, log):
    return subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_for_workers(address, n, timeout=90.0):
    from distributed import Client
    with Client(address, timeout="30s", set_as_default=False) as client:
        client.wait_for_workers(n, timeout=timeout)


def task_results(path):
    store = SweepStore.open_read(path)
    out = {}
    for name, attrs in store.finished().items():
        e, m = store.read_series(name)
        out[name] = (json.dumps(attrs["summary"], sort_keys=True), e, m, attrs["seed"])
    return out


@pytest.mark.slow
def test_distributed_sweep_survives_a_killed_worker_and_matches_the_embedded_cluster(tmp_path):
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(tmp_path / "cluster.log", "w")
    procs = []
    try:
        procs.append(start(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], log))
        for i in range(2):
            procs.append(start(["worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                "--name", f"w{i}", "--memory-limit", "0"], log))
        wait_for_workers(address, 2)
        remote = str(tmp_path / "remote.zarr")
        cmd = [sys.executable, "-c", ENTRY, "sweep", *SMALL, "--store", remote, "--scheduler", address, "--json"]
        sweep = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # kill -9 one worker once the first tasks are stored, while the rest are queued or running
        deadline = time.monotonic() + 120
        done_at_kill = 0
        while time.monotonic() < deadline:
            tasks = os.path.join(remote, "tasks")
            done_at_kill = len(os.listdir(tasks)) - 1 if os.path.isdir(tasks) else 0  # minus zarr.json
            if done_at_kill >= 2 or sweep.poll() is not None:
                break
            time.sleep(0.02)
        assert sweep.poll() is None, "the sweep ended before a worker could be killed"
        os.kill(procs[1].pid, signal.SIGKILL)
        procs[1].wait(10)
        out, err = sweep.communicate(timeout=240)
        assert sweep.returncode == 0, err
        summary = json.loads(out)
        assert summary["finished"] == summary["tasks"] == 32 and summary["failed"] == 0
        assert done_at_kill < 32

        # the same sweep on the embedded cluster (one worker) gives bit-identical tasks
        local = str(tmp_path / "local.zarr")
        run = subprocess.run([sys.executable, "-c", ENTRY, "sweep", *SMALL, "--store", local, "--workers", "1",
                              "--json"], capture_output=True, text=True, timeout=240)
        assert run.returncode == 0, run.stderr
        a, b = task_results(remote), task_results(local)
        assert sorted(a) == sorted(b) and len(a) == 32
        for name in a:
            assert a[name][0] == b[name][0], name  # the summary, as stored
            assert np.array_equal(a[name][1], b[name][1]) and np.array_equal(a[name][2], b[name][2]), name
            assert a[name][3] == b[name][3]

        # running the command again does no work
        t0 = time.monotonic()
        again = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        summary = json.loads(again.stdout)
        assert summary["ran"] == 0 and summary["skipped"] == 32 and summary["cluster"].startswith("none")
        assert time.monotonic() - t0 < 60
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()


def test_embedded_sweep_resumes_after_an_interrupted_write(tmp_path, capsys):
    """A group without the `complete` mark (a write cut short) is removed and its task rerun."""
    path = str(tmp_path / "s.zarr")
    argv = ["sweep", "--sizes", "8,16", "--temperatures", "2.25,2.3", "--seeds", "1", "--sweeps", "200",
            "--thermalize", "20", "--store", path, "--workers", "1", "--json"]
    code, out, err = cli(capsys, *argv)
    assert code == 0, err
    first = json.loads(out)
    assert first["ran"] == 4 and first["finished"] == 4
    import zarr
    group = zarr.open_group(os.path.join(path, "tasks"), mode="r+")
    name = sorted(group.group_keys())[0]
    summary = dict(group[name].attrs)["summary"]
    group[name].attrs["complete"] = False
    code, out, err = cli(capsys, *argv)
    assert code == 0, err
    second = json.loads(out)
    assert second["ran"] == 1 and second["skipped"] == 3
    assert dict(zarr.open_group(os.path.join(path, "tasks"), mode="r")[name].attrs)["summary"] == summary
