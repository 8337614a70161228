"""Choosing the backend (SEQCORE_BACKEND): a wrong setting or a cluster that does not answer is said in words, at
once, naming the setting; the app keeps working and says it when Train is pressed."""

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from seqcore import backends, limits

ROOT = Path(__file__).resolve().parents[1]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def test_the_default_backend_is_the_local_pool(monkeypatch):
    monkeypatch.delenv("SEQCORE_BACKEND", raising=False)
    assert backends.chosen() == "local"
    monkeypatch.setenv("SEQCORE_BACKEND", " Ray ")
    assert backends.chosen() == "ray"


def test_an_unknown_backend_is_named_with_the_allowed_ones(monkeypatch):
    monkeypatch.setenv("SEQCORE_BACKEND", "spark")
    with pytest.raises(backends.BackendUnavailable, match=r"SEQCORE_BACKEND is 'spark'; allowed: local, ray\."):
        backends.configured(slots=1, limits=limits.LOCAL, store=None)


def test_a_ray_address_where_nothing_answers_fails_at_once_with_the_address(monkeypatch):
    monkeypatch.setenv("SEQCORE_BACKEND", "ray")
    address = f"127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("RAY_ADDRESS", address)
    started = time.monotonic()
    with pytest.raises(backends.BackendUnavailable, match=rf"no Ray cluster answers at RAY_ADDRESS='{address}'"):
        backends.configured(slots=1, limits=limits.LOCAL, store=None)
    assert time.monotonic() - started < backends.CONNECT_TIMEOUT_S + 2  # not Ray's minutes of retries


def test_without_ray_installed_the_message_says_what_to_install(monkeypatch):
    monkeypatch.setenv("SEQCORE_BACKEND", "ray")
    monkeypatch.setitem(sys.modules, "seqcore.raybackend", None)  # what importing it does without Ray
    with pytest.raises(backends.BackendUnavailable, match=r"Ray is not installed here .* requirements-ray\.txt"):
        backends.configured(slots=1, limits=limits.LOCAL, store=None)


def test_the_app_opens_and_train_says_why_when_the_cluster_does_not_answer(tmp_path):
    """In a fresh process (the backend is made once per server): every page draws, and Train says why."""
    script = textwrap.dedent(f"""
        import json
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file({str(ROOT / "app.py")!r}, default_timeout=120)
        at.run()
        opened = [str(e) for e in at.exception]
        at.switch_page("pages/train.py").run()
        at.button(key="train").click().run()
        print(json.dumps({{"opened": opened, "exceptions": [str(e) for e in at.exception],
                          "errors": [e.value for e in at.error]}}))
    """)
    env = {**os.environ, "SEQCORE_BACKEND": "ray", "RAY_ADDRESS": f"127.0.0.1:{_closed_port()}",
           "SEQCORE_STORE": str(tmp_path / "store"), "PYTHONPATH": str(ROOT)}
    env.pop("SEQCORE_HOSTED", None)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["opened"] == [] and seen["exceptions"] == []
    shown = [e.replace("\\", "") for e in seen["errors"]]  # as the browser shows the escaped Markdown
    assert any(e.startswith("This server cannot train now: SEQCORE_BACKEND is 'ray' but no Ray cluster answers at "
                            "RAY_ADDRESS='127.0.0.1:") for e in shown), shown
