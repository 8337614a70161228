"""Shared fixtures: quiet TensorFlow, one pool of training workers per session, no leaked processes."""

import ast
import contextlib
import functools
import os
import shutil
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


# --- PostgreSQL for the run store's tests: a throwaway cluster on 127.0.0.1, or SEQCORE_TEST_POSTGRES_URL ---

POSTGRES_START_S = 60


def _postgres_bindir() -> Path:
    """The folder of PostgreSQL's server programs (initdb, pg_ctl, postgres); the test fails when there is none."""
    candidates = []
    if shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=30).stdout
            if found.strip():
                candidates.append(Path(found.strip()))
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb")).resolve().parent)
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    pytest.fail("The run store's tests on PostgreSQL need its server programs (initdb, pg_ctl, postgres): none in "
                "`pg_config --bindir` or /usr/lib/postgresql/*/bin. Install Debian's PostgreSQL "
                "(`apt-get install postgresql`; CI does in .ci/run), or set SEQCORE_TEST_POSTGRES_URL to a "
                "database URL (postgresql+psycopg://user:password@127.0.0.1:5432/db) whose user may create "
                "databases.", pytrace=False)


def _postgres_user() -> dict:
    """subprocess arguments that run PostgreSQL's programs unprivileged: they refuse to run as root."""
    if os.geteuid() != 0:
        return {}
    import pwd

    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("The tests run as root and PostgreSQL refuses to: they start it as the `postgres` user, which "
                    "this machine lacks. `apt-get install postgresql` creates it (or `useradd --system postgres`).",
                    pytrace=False)
    return {"user": "postgres", "group": "postgres"}


@pytest.fixture(scope="session")
def postgres_url():
    """The SQLAlchemy URL of an empty PostgreSQL database: a throwaway cluster in a temp folder, listening on
    127.0.0.1 only (a free port, its unix socket in that folder, a random password), stopped and removed at the
    end; or SEQCORE_TEST_POSTGRES_URL, as it is, when set."""
    if os.environ.get("SEQCORE_TEST_POSTGRES_URL"):
        yield os.environ["SEQCORE_TEST_POSTGRES_URL"]
        return
    import secrets
    import socket
    import tempfile

    import sqlalchemy as sa

    bindir, as_user = _postgres_bindir(), _postgres_user()
    folder = Path(tempfile.mkdtemp(prefix="seqcore-pg-"))  # short: the socket's path must fit 107 bytes
    data, log = folder / "data", folder / "server.log"
    password = secrets.token_urlsafe(16)
    (folder / "password").write_text(password)
    if as_user:
        import pwd

        entry = pwd.getpwnam(as_user["user"])
        for path in (folder, folder / "password"):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    run = functools.partial(subprocess.run, cwd=folder, capture_output=True, text=True,
                            env={**os.environ, "LC_ALL": "C"}, **as_user)
    made = run([str(bindir / "initdb"), "-D", str(data), "-U", "seqcore", f"--pwfile={folder / 'password'}",
                "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-locale", "--no-sync"],
               timeout=POSTGRES_START_S)
    if made.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"initdb failed:\n{made.stdout}\n{made.stderr}", pytrace=False)
    started = None
    for _ in range(3):  # a free port may be taken between finding it and the server's bind: try another
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        # fsync off: a throwaway cluster, whose durability no test measures
        options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} "
                   "-c fsync=off -c full_page_writes=off -c max_connections=200")
        started = run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", str(POSTGRES_START_S),
                       "-o", options, "start"], timeout=POSTGRES_START_S + 30)
        if started.returncode == 0:
            break
    if started.returncode != 0:
        text = log.read_text() if log.exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start:\n{started.stdout}\n{started.stderr}\n{text[-3000:]}", pytrace=False)
    url = f"postgresql+psycopg://seqcore:{password}@127.0.0.1:{port}/seqcore_test"
    try:
        admin = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT",
                                 poolclass=sa.pool.NullPool)
        with admin.connect() as conn:
            conn.exec_driver_sql("CREATE DATABASE seqcore_test")
        admin.dispose()
        yield url
    finally:
        stopped = run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop"], timeout=90)
        if stopped.returncode != 0:
            run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_database(postgres_url):
    """The URL of a fresh, empty database on `postgres_url`'s server, dropped after the test."""
    import secrets

    import sqlalchemy as sa

    base = sa.engine.make_url(postgres_url)
    name = f"seqcore_t_{secrets.token_hex(4)}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:  # WITH (FORCE): ends the connections the test's stores left open
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
