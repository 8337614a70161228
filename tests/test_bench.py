"""Smoke tests of the benchmark's tools: its cheap rows run and print a table; a server that fails says why;
bench/report.py shows the numbers of the JSON it is given. No timed assertions."""

import io
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


def test_report_shows_the_numbers_of_the_json(tmp_path):
    from bench import load as bench_load
    from bench import report
    from bench import run as bench_run

    entries = [
        bench_run.Entry("4", "First paint: `streamlit run` → Data page rendered", 3.14159, "s", 3, "a | note",
                        ("<=", 3.0)),
        bench_run.Entry("5", "Live update JSON: seed", 123.456, "kB", 1, "sum of sizes", ("<=", 300.0), decimals=1),
        bench_run.failed_entry("7", TimeoutError("no RESULT")),
    ]
    info = bench_run.machine_info("python bench/run.py --rows 4,5,7 --quick")
    bench_json = tmp_path / "bench.json"
    bench_run.write_json(bench_json, info, bench_run.Plan.make(True), ["4", "5", "7"], 61.7, entries)

    sessions = [bench_load.Session(0, outcome="finished", ready_s=3.0, queue_wait_s=1.5, run_s=42.25),
                bench_load.Session(1, outcome="finished", ready_s=3.5, queue_wait_s=7.5, run_s=48.5)]
    row = bench_load.summarize(2, sessions, bench_load.Sampler(os.getpid()), 55.5, (0.4, 1.9), {"server_alive": True})
    meta = {"command": "python bench/load.py --sessions 2", "date": "2026-12-01T10:00:00", "preset": "seed",
            "epochs": 3, "slots": 2, "cores": 2}
    load_json = tmp_path / "load.json"
    load_json.write_text(json.dumps({"meta": meta, "rounds": [row]}, default=str))

    out = tmp_path / "docs" / "performance.md"
    assert report.main(["--bench", str(bench_json), "--load", str(load_json), "--out", str(out)]) == 0
    page = out.read_text()

    printed = io.StringIO()  # the table as bench/run.py prints it at the end of a run
    bench_run.print_table(bench_run.header_lines(info, 61.7), entries, out=printed)
    assert printed.getvalue() in page
    for text in ("| 4 | First paint: `streamlit run` → Data page rendered | 3.14 s | ≤ 3 s ✗ | 3 | a \\| note |",
                 "| 5 | Live update JSON: seed | 123.5 kB | ≤ 300 kB ✓ | 1 | sum of sizes |",
                 "TimeoutError: no RESULT", f"`python bench/run.py --rows 4,5,7 --quick` ({info['date']})",
                 "Total wall time of this run: 62 s", f"`{bench_json}`", f"`{load_json}`", "2026-12-01T10:00:00",
                 "4.5 s / 7.5 s", "45.4 s / 48.5 s", bench_load.table([row]), bench_load.notes([row], meta)):
        assert text in page, text
