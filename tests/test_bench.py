"""Smoke tests of the benchmark's tools: its cheap rows run and print a table; a server that fails says why.
No timed assertions."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_bench_prints_the_cheap_rows(tmp_path):
    out_json = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--rows", "5,7", "--json", str(out_json)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=540)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]

    lines = result.stdout.splitlines()
    assert any(line.startswith("- Command: `python bench/run.py --quick --rows 5,7") for line in lines)
    assert any(line.startswith("- Machine: ") for line in lines)
    assert "| # | Measurement | Value | Target | n | Notes |" in lines
    table = [line for line in lines if line.startswith("| ")][1:]
    row_ids = {line.split("|")[1].strip() for line in table}
    assert row_ids == {"5", "7"}
    assert not any("failed" in line for line in table)
    # Row 5 states its target; row 7 times both batch sizes.
    assert sum("Live update JSON" in line and "≤ 300 kB" in line for line in table) >= 2
    assert any("batch 1" in line for line in table) and any("batch 32" in line for line in table)

    payload = json.loads(out_json.read_text())
    assert payload["quick"] is True and payload["rows"] == ["5", "7"]
    assert all(entry["value"] is not None and entry["value"] > 0 for entry in payload["entries"])


def test_a_server_that_exits_says_why(tmp_path):
    from bench import servers

    server = servers.StreamlitServer("no_such_app.py", tmp_path / "server.log", dict(os.environ))
    with server, pytest.raises(servers.ServerError, match="exited with code") as failure:
        server.wait_healthy(60)
    assert "File does not exist: no_such_app.py" in str(failure.value)  # the log's tail
    assert server.url.startswith("http://127.0.0.1:") and server.process.poll() is not None

