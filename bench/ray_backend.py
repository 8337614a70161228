"""The Ray backend against the local pool, measured in one run on this machine (issue #19's performance rows).

    python bench/ray_backend.py --out docs/bench-ray.json          # measure (about 3 minutes here)
    python bench/ray_backend.py --report docs/bench-ray.json --into README.md docs/scaling.md

Both backends get one slot and are warm (TensorFlow imported, warmed up) before anything is timed; then, in
alternation so that the machine's other load falls on both alike, each trains the seed preset `--repeats` times:
- submit() → first EpochEvent on the page's side (the seed preset's network is the one the warm-up compiled);
- steady milliseconds per epoch (the median of each run's EpochEvent.seconds after its first epoch);
- submit() → the run's end, artifacts included.
And Ray's own cost here: a head started with `ray start --head --num-cpus 1` until it answers, and the resident
memory of its processes and of one warm trainer actor.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import markers, servers  # noqa: E402

servers.ray_environment()  # before Ray is imported

from seqcore.config import preset  # noqa: E402

MARK = "ray-backend"


def _first_epoch_and_end(backend, experiment) -> tuple[float, float, list[float]]:
    started = time.perf_counter()
    job = backend.submit(experiment, save_artifacts=True)
    first = None
    while not job.done:
        if first is None and job.view().history:
            first = time.perf_counter() - started
        time.sleep(0.002)
    end = time.perf_counter() - started
    view = job.view()
    assert view.status == "finished", view.reason
    return first or end, end, [e.seconds for e in view.history[1:]]


def _ray_memory_mb() -> dict[str, float]:
    """Resident memory of the Ray head's processes (GCS, raylet, agents, idle workers, the scheduler actor) and of
    the largest warm trainer actor, as this machine's process table has them."""
    import ray

    temp = ray._private.worker._global_node.get_temp_dir_path()
    head, trainers = 0.0, []
    for process in psutil.process_iter(["cmdline", "memory_info"]):
        command = " ".join(process.info["cmdline"] or [])
        rss = (process.info["memory_info"].rss if process.info["memory_info"] else 0) / 2**20
        if command.startswith("ray::Trainer"):
            trainers.append(rss)
        elif temp in command or command.startswith("ray::"):
            head += rss
    return {"head_mb": round(head), "trainer_mb": round(max(trainers)) if trainers else 0}


def measure(repeats: int, epochs: int) -> dict:
    from seqcore.jobs import JobManager
    from seqcore.raybackend import RayBackend

    experiment = preset("seed").with_values(**{"train.epochs": epochs})
    started = time.perf_counter()
    with servers.ray_head(num_cpus=1) as address:
        head_start_s = time.perf_counter() - started
        ray_backend = RayBackend(slots=1, address=address, namespace=f"bench-{os.getpid()}")
        local = JobManager(slots=1, warm=1)
        try:
            assert ray_backend.wait_ready(300) and local.wait_ready(300)
            memory = _ray_memory_mb()
            results: dict[str, dict[str, list[float]]] = {
                name: {"first_epoch_s": [], "ms_per_epoch": [], "end_to_end_s": []} for name in ("local", "ray")}
            for _ in range(repeats):
                for name, backend in (("local", local), ("ray", ray_backend)):
                    first, end, seconds = _first_epoch_and_end(backend, experiment)
                    results[name]["first_epoch_s"].append(round(first, 3))
                    results[name]["end_to_end_s"].append(round(end, 3))
                    results[name]["ms_per_epoch"].append(round(1000 * statistics.median(seconds), 2))
        finally:
            ray_backend.tear_down()
            local.shutdown()
    medians = {name: {key: statistics.median(values) for key, values in r.items()} for name, r in results.items()}
    return {"date": datetime.datetime.now().isoformat(timespec="seconds"),
            "command": f"python bench/ray_backend.py --repeats {repeats} --epochs {epochs}",
            "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                     text=True).stdout.strip(),
            "cores": os.cpu_count(), "epochs": epochs, "repeats": repeats, "runs": results, "medians": medians,
            "ray_head_start_s": round(head_start_s, 1), "ray_memory": memory,
            "first_epoch_extra_s": round(medians["ray"]["first_epoch_s"] - medians["local"]["first_epoch_s"], 3),
            "epoch_ratio": round(medians["ray"]["ms_per_epoch"] / medians["local"]["ms_per_epoch"], 3),
            "end_to_end_ratio": round(medians["ray"]["end_to_end_s"] / medians["local"]["end_to_end_s"], 3)}


def report(data: dict) -> str:
    m = data["medians"]
    rows = [("submit() → first epoch, warm (s)", "first_epoch_s", "{:.2f}"),
            ("steady time per epoch (ms)", "ms_per_epoch", "{:.1f}"),
            (f"seed preset ({data['epochs']} epochs) end to end (s)", "end_to_end_s", "{:.2f}")]
    lines = ["| | local pool | Ray | Ray − local or Ray / local |", "| --- | ---: | ---: | ---: |"]
    for label, key, fmt in rows:
        compare = (f"+{data['first_epoch_extra_s']:.2f} s" if key == "first_epoch_s"
                   else f"× {m['ray'][key] / m['local'][key]:.3f}")
        lines.append(f"| {label} | {fmt.format(m['local'][key])} | {fmt.format(m['ray'][key])} | {compare} |")
    memory = data["ray_memory"]
    return ("\n".join(lines) + "\n\n"
            f"Medians of {data['repeats']} runs each, alternating, one slot each, on {data['cores']} cores "
            f"({data['date'][:10]}, commit {data['commit']}; `{data['command']}`). Ray's cost here: a head "
            f"(`ray start --head --num-cpus 1`) answers after {data['ray_head_start_s']:.1f} s and holds "
            f"{memory['head_mb']} MB; one warm trainer actor {memory['trainer_mb']} MB.\n")


def cost(data: dict) -> str:
    """One sentence for the README's hosted section: what Ray costs here and what it adds to a run."""
    memory = data["ray_memory"]
    return (f"Measured here ({data['date'][:10]}, `{data['command']}`): a Ray head starts in "
            f"{data['ray_head_start_s']:.1f} s and holds {memory['head_mb']} MB (idle workers and the scheduler "
            f"included), a warm trainer actor {memory['trainer_mb']} MB; over the local pool, a warm first epoch "
            f"{data['first_epoch_extra_s']:+.2f} s, an epoch × {data['epoch_ratio']:.2f}.\n")


def into(paths: list[Path], data: dict) -> None:
    """Put the table between a file's ray-backend markers, the sentence between its ray-cost markers."""
    for path in paths:
        source, found = path.read_text(), 0
        for mark, text in ((MARK, report(data)), ("ray-cost", cost(data))):
            start, end = f"<!-- {mark}:start -->", f"<!-- {mark}:end -->"
            if markers.has_block(source, start, end):
                source, found = markers.replace_block(source, start, end, text), found + 1
        if not found:
            raise SystemExit(f"{path} has neither ray-backend nor ray-cost markers")
        path.write_text(source)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="measure and write the JSON here")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=100, help="the seed preset's own 100 by default")
    parser.add_argument("--report", type=Path, help="a JSON written by --out: print its table")
    parser.add_argument("--into", type=Path, nargs="*", default=[],
                        help="files whose ray-backend markers get the table, and ray-cost markers the sentence")
    args = parser.parse_args(argv)
    if args.out:
        data = measure(args.repeats, args.epochs)
        args.out.write_text(json.dumps(data, indent=1) + "\n")
        print(report(data))
    if args.report:
        data = json.loads(args.report.read_text())
        print(report(data))
        into(args.into, data)
    if not (args.out or args.report):
        parser.error("--out or --report")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
