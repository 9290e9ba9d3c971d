"""torch is imported once, on the loader thread, however many threads ask at the same time;
a broken torch gives every caller the same clear error. Each case runs in a fresh interpreter,
where torch has not been imported yet."""
import json
import os
import subprocess
import sys
import textwrap

CONCURRENT = """
    import json, sys, threading
    from isinglab.core import torch_loader
    importers = []

    class Spy:  # first in the finder chain: sees every first import of torch, by any route
        def find_spec(self, name, path=None, target=None):
            if name == "torch":
                importers.append(threading.current_thread().name)
            return None

    sys.meta_path.insert(0, Spy())
    got = []
    workers = [threading.Thread(target=lambda: got.append(torch_loader.load())) for _ in range(4)]
    for w in workers: w.start()
    for w in workers: w.join()
    print(json.dumps({"importers": importers, "same": all(t is sys.modules["torch"] for t in got),
                      "n": len(got), "ready": torch_loader.ready()}))
"""

BROKEN = """
    import json
    from isinglab.core import torch_loader
    from isinglab.core.errors import IsingLabError
    out = []
    for _ in range(2):
        try:
            torch_loader.load()
        except IsingLabError as exc:
            out.append(str(exc))
    print(json.dumps({"errors": out, "ready": torch_loader.ready()}))
"""


def _run(code, tmp_path, extra_path=None):
    env = dict(os.environ)
    if extra_path:
        env["PYTHONPATH"] = os.pathsep.join([str(extra_path), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         timeout=300, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_concurrent_callers_share_one_import_on_the_loader_thread(tmp_path):
    r = _run(CONCURRENT, tmp_path)
    assert r["n"] == 4 and r["same"] and r["ready"]
    assert set(r["importers"]) == {"isinglab-torch-import"}  # find_spec lookups included


def test_a_broken_torch_is_a_clear_error_for_every_caller(tmp_path):
    fake = tmp_path / "fake"
    (fake / "torch").mkdir(parents=True)
    (fake / "torch" / "__init__.py").write_text("raise ImportError('libtorch missing (test)')\n")
    r = _run(BROKEN, tmp_path, extra_path=fake)
    assert not r["ready"]
    assert len(r["errors"]) == 2
    assert all("torch could not be imported" in e and "libtorch missing (test)" in e for e in r["errors"])
