"""Shared fixtures: quiet TensorFlow, one pool of training workers per session, no leaked processes."""

import ast
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

# Before anything imports TensorFlow (the test modules, and the workers and commands they start, inherit it).
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# A Ray the tests start keeps to 127.0.0.1 and asks for a token of its own: set before anything imports Ray.
from bench.servers import ray_environment  # noqa: E402

ray_environment()
# Runs recorded by tests (and by the servers and commands they start) go to a throwaway store, never runs/.
if "SEQCORE_STORE" not in os.environ:
    import tempfile

    os.environ["SEQCORE_STORE"] = tempfile.mkdtemp(prefix="seqcore-test-store-")



def _worker_children() -> list[psutil.Process]:
    """Training workers started by this test process (python -m seqcore.worker ...)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "seqcore.worker" in child.cmdline():
                found.append(child)
        except psutil.Error:
            pass
    return found


@pytest.fixture(scope="session")
def job_manager(tmp_path_factory):
    """JobManager(slots=2, warm=1) shared by the job tests, recording into a run store of its own
    (`manager.store`); shut down, and its workers gone, at the end."""
    from seqcore.jobs import JobManager
    from seqcore.store import RunStore

    manager = JobManager(slots=2, warm=1, store=RunStore(tmp_path_factory.mktemp("job-store")))
    assert manager.wait_ready(180), "the first worker did not import Keras within 3 minutes"
    yield manager
    manager.shutdown()
    # shutdown() waits for (or kills) the workers it knows; end any of ours it did not, by pid.
    leftovers = _worker_children()
    for process in leftovers:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(leftovers, timeout=10)


@pytest.fixture
def wait_until():
    """wait_until(condition, timeout): poll until condition() is true; fail with `message` if it never is."""

    def wait(condition, timeout: float, message: str = "condition", interval: float = 0.02):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(interval)
        if not condition():
            pytest.fail(f"timed out after {timeout:g} s waiting for: {message}")

    return wait


@pytest.fixture
def packages_imported_by():
    """packages_imported_by(code, packages): which of these top-level packages a fresh interpreter has imported
    after running `code` in the project's folder (sorted)."""
    root = Path(__file__).resolve().parents[1]

    def imported(code: str, packages: set[str]) -> list[str]:
        probe = (f"{code}\nimport sys\n"
                 f"print(sorted(set({sorted(packages)!r}) & {{name.split('.')[0] for name in sys.modules}}))")
        python_path = os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
        result = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True,
                                timeout=120, env={**os.environ, "PYTHONPATH": python_path})
        assert result.returncode == 0, result.stderr
        return ast.literal_eval(result.stdout.strip().splitlines()[-1])

    return imported
