"""Streamlit servers and the system Chromium for the benchmark, the load test and the browser tests, in one place."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # never the machine's network address
CHROMIUM = "/usr/bin/chromium"  # Debian's package: Playwright's own browser downloads are never used
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class ServerError(RuntimeError):
    """A server that exited or never became healthy; the message ends with its log's tail."""


def free_port() -> int:
    """A port nothing listens on now, so that servers started side by side never collide."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def health(url: str, timeout_s: float = 2.0) -> str:
    """The body of `/_stcore/health` ("ok" once the server serves pages), or "" while it does not answer."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout_s) as response:
            return response.read().decode(errors="replace").strip()
    except OSError:
        return ""


def log_tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log, for error messages that show why a server failed."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    """Signal a whole process group, since a server's training workers share its group."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


class StreamlitServer:
    """`python -m streamlit run SCRIPT` from the project root on 127.0.0.1, in its own process group so that
    stop() ends its workers too; a context manager that stops it on the way out."""

    def __init__(self, script: str, log_path: Path, env: dict[str, str], port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log_path = Path(log_path)
        self._stopped = False
        with open(self.log_path, "wb") as log:  # the child keeps its own copy of the descriptor
            self.started = time.perf_counter()  # for callers that time the start
            self.process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
                 "--server.port", str(self.port), "--server.address", HOST, "--browser.gatherUsageStats", "false",
                 "--server.fileWatcherType", "none"],
                cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)

    def wait_healthy(self, timeout_s: float, poll_s: float = 0.25, tail_lines: int = 40) -> None:
        """Return once the health check says "ok"; raise ServerError if the server exits or times out first."""
        deadline = time.monotonic() + timeout_s
        while health(self.url) != "ok":
            if self.process.poll() is not None:
                raise ServerError(f"streamlit exited with code {self.process.returncode} before it was healthy:\n"
                                  f"{log_tail(self.log_path, tail_lines)}")
            if time.monotonic() > deadline:
                raise ServerError(f"streamlit was not healthy at {self.url}/_stcore/health after {timeout_s:g} s:\n"
                                  f"{log_tail(self.log_path, tail_lines)}")
            time.sleep(poll_s)

    def stop(self, term_wait_s: float = 10, kill_wait_s: float = 5) -> None:
        """SIGTERM the group, SIGKILL it if the server outlives `term_wait_s`, and SIGKILL it once more at the end,
        since workers may outlive the server by a moment; a second call does nothing."""
        if self._stopped:
            return
        kill_group(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(term_wait_s)
        except subprocess.TimeoutExpired:
            kill_group(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(kill_wait_s)
        kill_group(self.process.pid, signal.SIGKILL)
        self._stopped = True

    def __enter__(self) -> StreamlitServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# Ray binds the machine's network address unless told otherwise (../shared/DESIGN.md): every process of a cluster
# started here, and every process that connects to it, keeps to 127.0.0.1; and each asks for a token of this run's
# own (RAY_AUTH_TOKEN), never one in ~/.ray that another Ray on the machine made. Ray reads both once, on import.
RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "token"}
RAY_START_S = 60


def ray_environment() -> dict[str, str]:
    """What every process of a Ray started here needs in its environment, this one's included (set here). A
    cluster that RAY_ADDRESS names instead brings its own token: none is made up for it."""
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", RAY_ENV["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"])
    if not os.environ.get("RAY_ADDRESS"):
        os.environ.setdefault("RAY_AUTH_MODE", RAY_ENV["RAY_AUTH_MODE"])
        os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
    return {key: os.environ[key] for key in (*RAY_ENV, "RAY_AUTH_TOKEN") if key in os.environ}


def _ray_command() -> list[str]:
    found = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    return [found] if Path(found).exists() else [sys.executable, "-c", "from ray.scripts.scripts import main; main()"]


@contextlib.contextmanager
def ray_head(num_cpus: int = 4):
    """Yield the address of a Ray head with `num_cpus` logical CPUs on 127.0.0.1; end it and its processes."""
    env = ray_environment()
    if os.environ.get("RAY_ADDRESS"):
        yield os.environ["RAY_ADDRESS"]
        return
    port = free_port()
    temp = tempfile.mkdtemp(prefix="ray-")  # short: Ray's socket paths live under it
    log = open(Path(temp) / "head.log", "w")  # noqa: SIM115 - closed below, after the head has ended
    head = subprocess.Popen(
        [*_ray_command(), "start", "--head", "--block", f"--port={port}", f"--num-cpus={num_cpus}",
         "--node-ip-address=127.0.0.1", "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}"],
        env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True)
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + RAY_START_S
        while "Ray runtime started" not in (Path(temp) / "head.log").read_text():
            if head.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Ray head did not start: {(Path(temp) / 'head.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield address
    finally:
        with contextlib.suppress(Exception):
            import ray

            ray.shutdown()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            head.wait(30)
        # What the head started in sessions of their own (workers) carries the session's folder in its command.
        left = []
        for process in psutil.process_iter(["cmdline"]):
            with contextlib.suppress(psutil.Error):
                if any(temp in part for part in process.info["cmdline"] or []):
                    left.append(process)
        for process in left:
            with contextlib.suppress(psutil.Error):
                process.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, signal.SIGKILL)
        psutil.wait_procs(left, timeout=10)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)
