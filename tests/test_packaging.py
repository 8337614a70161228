"""The engine as a package: the wheel holds `seqcore` and nothing else (not the app, the tests or the benchmarks),
and `python -m seqcore` works from a fresh virtual environment with only that wheel installed, away from this
checkout. Offline: pip neither asks an index nor builds in an isolated environment."""

import email.parser
import os
import shutil
import site
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEPENDENCIES = {"numpy", "keras", "tensorflow-cpu", "pandas", "psutil", "plotly", "sqlalchemy", "hmmlearn", "regex"}

pytestmark = pytest.mark.slow

# Not copied into the build folder: git's files, environments, caches, run outputs and earlier builds.
_NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "venv", "__pycache__", ".*_cache", ".hypothesis", "runs",
                                     "artifacts", "screenshots", "build", "dist", "*.egg-info", "node_modules")


def _clean_env() -> dict[str, str]:
    """This environment without what would let a child interpreter find the checkout (the test process itself has
    the checkout on sys.path through pytest's `pythonpath`, which children do not inherit)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return env


def _run(args: list, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=_clean_env(), capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"{args} exited {result.returncode}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The wheel built from a copy of this checkout (`source`), the python of a new virtual environment that has
    it installed without dependencies and sees this interpreter's packages, and an empty folder to run from."""
    tmp = tmp_path_factory.mktemp("packaging")
    # Build from a copy: setuptools writes build/ and *.egg-info into the source folder, and packs whatever an
    # earlier build left in build/lib (a module deleted since would still ship). The copy has neither.
    source = tmp / "source"
    shutil.copytree(PROJECT_ROOT, source, ignore=_NOT_COPIED)
    wheels = tmp / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", wheels, "."],
         cwd=source)
    [wheel] = wheels.glob("*.whl")

    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", venv], cwd=tmp)
    python = venv / "bin" / "python"
    if sys.prefix != sys.base_prefix:
        # This interpreter is itself a virtual environment: --system-site-packages shows the new one the base
        # interpreter's packages, not these, so point it at these (after its own site-packages, which come first).
        [venv_site] = (venv / "lib").glob("python*/site-packages")
        (venv_site / "outer_environment.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", wheel], cwd=tmp)

    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return SimpleNamespace(source=source, wheel=wheel, python=python, elsewhere=elsewhere)


def test_the_wheel_holds_the_engine_and_nothing_else(built):
    with zipfile.ZipFile(built.wheel) as archive:
        names = archive.namelist()
        [metadata_name] = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = email.parser.Parser().parsestr(archive.read(metadata_name).decode())
    dist_info = metadata_name.split("/")[0]
    assert dist_info.startswith("sequence_playground-")
    strays = [n for n in names if not n.startswith(("seqcore/", f"{dist_info}/"))]
    assert strays == [], f"files outside seqcore/ in the wheel: {strays}"
    modules = {n for n in names if n.startswith("seqcore/")}
    package = built.source / "seqcore"
    source = {f"seqcore/{p.relative_to(package).as_posix()}" for p in package.rglob("*.py")}
    assert modules == source
    # The engine's runtime dependencies, not the app's (streamlit).
    requires = {r.split(">")[0].split("=")[0].split("<")[0].strip().lower() for r in metadata.get_all("Requires-Dist")}
    assert requires == DEPENDENCIES


def test_the_installed_package_is_imported_from_the_environment_not_the_checkout(built):
    probe = ("import sys, seqcore\n"
             "print(seqcore.__file__)\n"
             "print('numpy' in sys.modules)\n"  # `import seqcore` stays cheap
             "print(seqcore.__version__)")
    file, numpy_imported, version = _run([built.python, "-c", probe], cwd=built.elsewhere).stdout.splitlines()
    venv = built.python.parent.parent.resolve()
    assert Path(file).resolve().is_relative_to(venv), file
    assert not Path(file).resolve().is_relative_to(PROJECT_ROOT), file
    assert numpy_imported == "False"
    assert version == tomllib.loads((built.source / "pyproject.toml").read_text())["project"]["version"]


def test_python_m_seqcore_presets_runs_from_the_environment(built):
    lines = _run([built.python, "-m", "seqcore", "presets"], cwd=built.elsewhere).stdout.splitlines()
    assert "seed" in [line.split()[0] for line in lines if line.strip()]


def test_python_m_seqcore_code_runs_from_the_environment(built):
    script = _run([built.python, "-m", "seqcore", "code", "--preset", "seed"], cwd=built.elsewhere).stdout
    compile(script, "seed.py", "exec")
    assert "import keras" in script
    assert list(built.elsewhere.iterdir()) == []  # the commands wrote nothing where they ran
