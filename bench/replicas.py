"""Several web replicas of the app behind nginx, on one Ray cluster and one run store: the deployment for a class
that outgrows one server (docs/scaling.md), started on this machine for a try-out, the load test and the tests.

    python bench/replicas.py --replicas 2 --store-url postgresql+psycopg://USER@127.0.0.1:5432/seqcore

starts a Ray head (unless RAY_ADDRESS names one), the replicas (SEQCORE_BACKEND=ray) and nginx in front of them on
http://127.0.0.1:8500, and stops them all on Ctrl-C. Every server listens on 127.0.0.1 only.

Streamlit's websocket must stay on the replica that drew the page, so nginx keeps each browser on one replica: a
browser's first request is hashed by a random key that nginx then sets as a cookie (`seqcore_replica`), and every
later request and websocket with that cookie hashes the same way (open-source nginx has no sticky directive). A
replica that does not answer is skipped; the browser's next page is served by another one, which finds the
browser's runs in the shared store (a browser's runs are bound to its XSRF token, not to a server process).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import servers  # noqa: E402

ROUTE_COOKIE = "seqcore_replica"
REPLICA_HEADER = "X-Seqcore-Replica"  # which replica served a response (its address), for tests and debugging

NGINX_CONF = """worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    client_max_body_size {upload_mb}m;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    # A browser without the cookie gets a random key ($request_id); the cookie keeps it on that replica after.
    map $cookie_{cookie} $replica_key {{ "" $request_id; default $cookie_{cookie}; }}
    upstream replicas {{
        hash $replica_key consistent;
{servers}
    }}
    server {{
        listen {host}:{port};
        location / {{
            proxy_pass http://replicas;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;  # with its port: Tornado checks a websocket's Origin against it
            proxy_read_timeout 1d;
            proxy_buffering off;
            add_header Set-Cookie "{cookie}=$replica_key; Path=/; HttpOnly; SameSite=Lax" always;
            add_header {header} $upstream_addr always;
        }}
    }}
}}
"""


def nginx_conf(port: int, replica_ports: list[int], tmp: Path, upload_mb: int = 200) -> str:
    """The nginx configuration: `port` on 127.0.0.1 in front of the replicas, each browser kept on one."""
    lines = "\n".join(f"        server {servers.HOST}:{p} max_fails=1 fail_timeout=5s;" for p in replica_ports)
    return NGINX_CONF.format(tmp=tmp, upload_mb=upload_mb, cookie=ROUTE_COOKIE, servers=lines, host=servers.HOST,
                             port=port, header=REPLICA_HEADER)


class Balancer:
    """nginx (Debian's package) in the foreground, configured by `nginx_conf`; stopped with the context."""

    def __init__(self, replica_ports: list[int], port: int | None = None, log_dir: Path | None = None):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            raise servers.ServerError("nginx is not installed: apt-get install nginx-light")
        self.port = port or servers.free_port()
        self.url = f"http://{servers.HOST}:{self.port}"
        self.tmp = Path(tempfile.mkdtemp(prefix="seqcore-nginx-", dir=log_dir))
        self.tmp.chmod(0o755)
        for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.tmp / name).mkdir(mode=0o777)
            (self.tmp / name).chmod(0o777)  # nginx's workers run as nobody when it is started as root
        conf = self.tmp / "nginx.conf"
        conf.write_text(nginx_conf(self.port, replica_ports, self.tmp))
        with open(self.tmp / "stderr.log", "wb") as stderr:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen([nginx, "-p", str(self.tmp), "-c", str(conf)], stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)

    def wait_healthy(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while servers.health(self.url) != "ok":
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise servers.ServerError(f"nginx did not serve {self.url}: "
                                          f"{servers.log_tail(self.tmp / 'stderr.log')}\n"
                                          f"{servers.log_tail(self.tmp / 'error.log')}")
            time.sleep(0.2)

    def stop(self) -> None:
        servers.kill_group(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)
        servers.kill_group(self.process.pid, signal.SIGKILL)
        shutil.rmtree(self.tmp, ignore_errors=True)


@dataclass
class Deployment:
    url: str  # the balancer's address: what browsers open
    replicas: list[servers.StreamlitServer]
    balancer: Balancer
    ray_address: str
    env: dict[str, str] = field(default_factory=dict)


@contextlib.contextmanager
def deployment(replicas: int = 2, *, store_url: str | None = None, store_dir: Path | None = None,
               log_dir: Path, extra_env: dict[str, str] | None = None, num_cpus: int = 2, port: int | None = None,
               healthy_s: float = 120):
    """Ray head (or RAY_ADDRESS), `replicas` Streamlit servers on it sharing one run store (`store_url`, an
    SQLAlchemy URL, else the folder `store_dir`), and nginx in front; all stopped on the way out."""
    with servers.ray_head(num_cpus=num_cpus) as ray_address:
        env = {**os.environ, "SEQCORE_BACKEND": "ray", "RAY_ADDRESS": ray_address,
               "SEQCORE_RAY_NAMESPACE": f"seqcore-{os.getpid()}-{time.time_ns()}", **(extra_env or {})}
        if store_url:
            env["SEQCORE_STORE_URL"] = store_url
        elif store_dir:
            env["SEQCORE_STORE"] = str(store_dir)
        started: list[servers.StreamlitServer] = []
        balancer = None
        try:
            for i in range(replicas):
                started.append(servers.StreamlitServer("app.py", Path(log_dir) / f"replica-{i + 1}.log", env))
            for server in started:
                server.wait_healthy(healthy_s)
            balancer = Balancer([s.port for s in started], port=port)
            balancer.wait_healthy()
            yield Deployment(balancer.url, started, balancer, ray_address, env)
        finally:
            if balancer is not None:
                balancer.stop()
            for server in started:
                server.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--port", type=int, default=8500, help="the balancer's port on 127.0.0.1")
    parser.add_argument("--store-url", help="the shared run store (an SQLAlchemy URL; PostgreSQL for several "
                                            "machines); default: the folder runs/ beside the app")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2, help="training slots of a Ray started here")
    parser.add_argument("--hosted", action="store_true", help="the hosted demo's limits (SEQCORE_HOSTED=1)")
    args = parser.parse_args(argv)
    logs = Path(tempfile.mkdtemp(prefix="seqcore-replicas-"))
    extra = {"SEQCORE_HOSTED": "1"} if args.hosted else {}
    with deployment(args.replicas, store_url=args.store_url, store_dir=servers.ROOT / "runs", log_dir=logs,
                    extra_env=extra, num_cpus=args.cpus, port=args.port) as running:
        print(f"{args.replicas} replicas behind {running.url} (Ray at {running.ray_address}; logs in {logs}). "
              f"Ctrl-C stops them.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while all(s.process.poll() is None for s in running.replicas):
                time.sleep(1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
