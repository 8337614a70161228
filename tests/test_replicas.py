"""The several-replica deployment's tools (bench/replicas.py): nginx accepts the configuration it writes, listens on
127.0.0.1 only, keeps a browser on one replica by its cookie, spreads new browsers over both; and the Ray bench's
report (bench/ray_backend.py) says what its JSON holds. The whole deployment in a browser: e2e/test_replicas.py."""

import http.server
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from bench import ray_backend, replicas


class _Named(http.server.BaseHTTPRequestHandler):
    """A stand-in replica on 127.0.0.1 that answers every path with its own name."""

    def do_GET(self):  # noqa: N802 - the http.server interface
        body = self.server.name.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def two_stand_ins():
    made = []
    for name in ("A", "B"):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Named)
        server.name = name
        threading.Thread(target=server.serve_forever, daemon=True).start()
        made.append(server)
    yield made
    for server in made:
        server.shutdown()
        server.server_close()


def _get(url: str, cookie: str | None = None) -> tuple[str, str, str]:
    request = urllib.request.Request(url, headers={"Cookie": f"{replicas.ROUTE_COOKIE}={cookie}"} if cookie else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return (response.read().decode(), response.headers[replicas.REPLICA_HEADER],
                response.headers["Set-Cookie"])


def test_nginx_accepts_the_configuration_and_it_listens_on_loopback_only(tmp_path):
    conf = replicas.nginx_conf(8500, [8601, 8602], tmp_path)
    assert "listen 127.0.0.1:8500;" in conf and "server 127.0.0.1:8601" in conf and "server 127.0.0.1:8602" in conf
    assert "listen" not in conf.replace("listen 127.0.0.1:8500;", "")  # no other address
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / name).mkdir()
    (tmp_path / "nginx.conf").write_text(conf)
    checked = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                             capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr


def test_the_balancer_keeps_a_browser_on_one_replica_and_spreads_new_ones(two_stand_ins):
    balancer = replicas.Balancer([s.server_address[1] for s in two_stand_ins])
    try:
        first = None
        for _ in range(100):  # the stand-ins have no health path: the root answers once nginx is up
            try:
                first = _get(balancer.url + "/")
                break
            except OSError:
                time.sleep(0.1)
        assert first is not None, "nginx did not answer"
        name, served_by, cookie = first
        key = cookie.split(";")[0].split("=", 1)[1]
        assert len(key) == 32  # nginx's $request_id: a new browser's random key
        # The same browser (its cookie) stays where it was, whatever it asks for.
        assert {_get(balancer.url + path, key)[0] for path in ("/", "/train", "/_stcore/stream")} == {name}
        assert _get(balancer.url + "/", key)[1] == served_by
        # New browsers go to both replicas.
        assert {_get(balancer.url + "/")[0] for _ in range(40)} == {"A", "B"}
    finally:
        balancer.stop()


def test_the_ray_bench_report_states_its_json(tmp_path):
    data = {"date": "2026-12-02T10:00:00", "command": "python bench/ray_backend.py --repeats 5 --epochs 20",
            "commit": "abc1234", "cores": 2, "epochs": 20, "repeats": 5, "ray_head_start_s": 3.2,
            "ray_memory": {"head_mb": 410, "trainer_mb": 620}, "first_epoch_extra_s": 0.041,
            "epoch_ratio": 1.01, "end_to_end_ratio": 1.02,
            "medians": {"local": {"first_epoch_s": 0.2, "ms_per_epoch": 61.0, "end_to_end_s": 1.6},
                        "ray": {"first_epoch_s": 0.241, "ms_per_epoch": 61.6, "end_to_end_s": 1.63}}}
    text = ray_backend.report(data)
    assert "| submit() → first epoch, warm (s) | 0.20 | 0.24 | +0.04 s |" in text
    assert "| steady time per epoch (ms) | 61.0 | 61.6 | × 1.010 |" in text
    assert "answers after 3.2 s and holds 410 MB; one warm trainer actor 620 MB" in text
    sentence = ray_backend.cost(data)
    assert "a Ray head starts in 3.2 s and holds 410 MB" in sentence and "epoch +0.04 s, an epoch × 1.01" in sentence
    page = tmp_path / "page.md"
    page.write_text("a\n<!-- ray-backend:start -->\nold\n<!-- ray-backend:end -->\nb <!-- ray-cost:start -->x"
                    "<!-- ray-cost:end -->\n")
    ray_backend.into([page], data)
    assert page.read_text() == (f"a\n<!-- ray-backend:start -->\n{text}<!-- ray-backend:end -->\n"
                                f"b <!-- ray-cost:start -->\n{sentence}<!-- ray-cost:end -->\n")
    with pytest.raises(SystemExit, match="neither ray-backend nor ray-cost markers"):
        ray_backend.into([_unmarked(tmp_path)], data)


def _unmarked(folder: Path) -> Path:
    path = folder / "plain.md"
    path.write_text("no markers\n")
    return path


def test_the_load_rounds_side_by_side_name_each_setting_from_its_json(tmp_path):
    import json

    from bench import load

    def round_file(name: str, meta: dict) -> Path:
        row = {"sessions": 30, "finished": 30, "refused": 0, "lost": 0, "errors_seen": 0, "queue_wait_median_s": 20.0,
               "queue_wait_max_s": 40.0, "run_median_s": 21.0, "run_max_s": 41.0, "server_rss_peak_mb": 160,
               "worker_rss_peak_mb": 800, "cpu_seconds": {"server": 25.6, "workers": 42.9, "chromium": 199.9},
               "load_before": 0.5}
        path = tmp_path / name
        path.write_text(json.dumps({"meta": {"command": f"python bench/load.py {name}", "date": "2026-12-02T14:00",
                                             "slots": 2, **meta}, "rounds": [row]}))
        return path

    text = load.side_by_side([round_file("one.json", {}), round_file("two.json", {"replicas": 2, "backend": "ray"})])
    rows = [line for line in text.splitlines() if line.startswith("| ") and "30 |" in line]
    assert [r.split("|")[1].strip() for r in rows] == ["one server, worker pool, 2 slots", "2 replicas on Ray, 2 slots"]
    assert "| 20 s / 40 s |" in rows[0] and "| 25.6 / 42.9 / 199.9 | 0.5 |" in rows[1]
    assert "`python bench/load.py one.json` (2026-12-02); `python bench/load.py two.json`" in text
