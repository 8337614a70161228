"""XLA where it pays: its compile cost against its steady gain, per cell, size and sequence length.

    python bench/xla.py                       # the grid: 3 cells x 2 sizes x 5 sequence lengths, on and off
    python bench/xla.py --quick               # LSTM only, 2 sequence lengths
    python bench/xla.py --cells LSTM --seq-lens 30,100 --json out.json

Every case trains the adding problem through the app's own path (`seqcore.training.train`, the model from
`seqcore.models.build_model` with `jit_compile` as `training.use_xla` passes it) in a clean child process set up
as a warm worker (its threads per op, its warm-up), once with `train.xla=off` and once with `on`, alternating
which goes first. One run's time is its one-off cost C (building, tracing, XLA's compiling, the last snapshot
and the test pass) plus its epochs: C = total - epochs x steady epoch. XLA pays when the steady time it saves
over a run's steps exceeds the compile time it adds: break-even steps = (C_on - C_off) / (saved ms a step).

Also measured per cell: the same case with every batch full (XLA compiles each batch shape it meets, and most
runs end their epochs on a partial batch), a second run of the same network through a ModelCache (a warm
worker's run of an architecture it has compiled: no compile again, XLA or not), and the gradients-through-time
pass (`training.input_gradient_norms`) with and without jit.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run as bench  # noqa: E402

CELLS = ("LSTM", "GRU", "SimpleRNN")
SIZES = ((64, 64), (32, 32))  # (units, batch)
SEQ_LENS = (10, 30, 50, 100, 200)


def one_off_s(run: dict) -> float:
    """What a run costs besides its epochs at the steady rate: C = total - epochs x steady epoch."""
    return run["total_s"] - run["epochs"] * run["steady_epoch_s"]


def case_summary(case: dict) -> dict:
    off, on = case["off"], case["on"]
    steps = off["steps_per_epoch"]
    off_ms, on_ms = 1000 * off["steady_epoch_s"] / steps, 1000 * on["steady_epoch_s"] / steps
    extra = one_off_s(on) - one_off_s(off)
    saved = off_ms - on_ms
    break_even = extra / (saved / 1000) if saved > 0 else float("inf")
    return {"off_ms": off_ms, "on_ms": on_ms, "speedup": off_ms / on_ms, "extra_s": extra, "saved_ms": saved,
            "break_even_steps": break_even, "break_even_timesteps": break_even * case["seq_len"],
            "saved_us_per_timestep": 1000 * saved / case["seq_len"],
            "loss_rel_diff": abs(on["final_loss"] - off["final_loss"]) / max(abs(off["final_loss"]), 1e-12)}


def table(results: list[dict]) -> str:
    lines = ["| cell | units | batch | T | steps/call | first epoch off → on (s) | one-off C off → on (s) | "
             "ms/step off → on | speed-up | XLA's extra C (s) | break-even steps | µs saved per step and time "
             "step | loss Δ (rel.) |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for result in results:
        for case in result["cases"]:
            s, off, on = case_summary(case), case["off"], case["on"]
            lines.append(
                f"| {case['cell']} | {case['units']} | {case['batch']} | {case['seq_len']} | "
                f"{off['steps_per_execution']} | {off['first_epoch_s']:.2f} → {on['first_epoch_s']:.2f} | "
                f"{one_off_s(off):.2f} → {one_off_s(on):.2f} | {s['off_ms']:.1f} → {s['on_ms']:.1f} | "
                f"{s['speedup']:.2f}× | {s['extra_s']:.1f} | {s['break_even_steps']:,.0f} | "
                f"{s['saved_us_per_timestep']:.0f} | {s['loss_rel_diff']:.1e} |")
    return "\n".join(lines)


def extras_table(results: list[dict]) -> str:
    lines = ["| cell | measured | off | on | note |", "|---|---|--:|--:|---|"]
    for result in results:
        cell = result["cell"]
        for mode_runs in [result["cached"]]:
            off, on = mode_runs["off"], mode_runs["on"]
            lines.append(f"| {cell} | first epoch, new network → same network again (ModelCache, another seed), s | "
                         f"{off['first']['first_epoch_s']:.2f} → {off['again']['first_epoch_s']:.2f} | "
                         f"{on['first']['first_epoch_s']:.2f} → {on['again']['first_epoch_s']:.2f} | cache hits "
                         f"{off['hits']}, {on['hits']}; steady epoch {off['again']['steady_epoch_s']:.2f} / "
                         f"{on['again']['steady_epoch_s']:.2f} s |")
        for case in result.get("full_batches", []):
            summary = case_summary(case)
            lines.append(f"| {cell} | T={case['seq_len']}, every batch full (one shape to compile): one-off C, s | "
                         f"{one_off_s(case['off']):.2f} | {one_off_s(case['on']):.2f} | XLA's extra "
                         f"{summary['extra_s']:.1f} s; ms/step {summary['off_ms']:.1f} → {summary['on_ms']:.1f} |")
        for seq_len, grads in result["gradients"].items():
            off, on = grads["false"], grads["true"]
            lines.append(f"| {cell} | T={seq_len}, gradients through time (32 sequences): first call s / steady ms | "
                         f"{off['first_s']:.2f} / {off['steady_ms']:.1f} | {on['first_s']:.2f} / "
                         f"{on['steady_ms']:.1f} | max relative Δ of the norms {grads['max_rel_diff']:.1e} |")
    return "\n".join(lines)


def header_lines(info: dict, wall_s: float, epochs: int) -> list[str]:
    return [
        "### XLA on and off (`bench/xla.py`)",
        "",
        f"- Command: `{info['command']}` ({info['date']})",
        f"- Machine: {info['cpu']}, {info['cores']} cores ({info['cores_usable']} usable), {info['ram_gib']:.1f} GiB "
        f"RAM; load average at start {info['load_avg_at_start'][0]:.2f}",
        "- Software: Python " + info["python"] + ", " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()),
        f"- Each case: one run each way, {epochs} epochs of the adding problem, about 1,600 time steps of batches an "
        "epoch (at least 8 batches, the last half full), 5 % validation, 5 % test; steady = the median epoch after "
        "the first",
        f"- Total wall time of this run: {wall_s:.0f} s",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="LSTM(64), batch 64, T = 30 and 100 only")
    parser.add_argument("--cells", help=f"comma-separated, of {','.join(CELLS)}")
    parser.add_argument("--seq-lens", help="comma-separated sequence lengths")
    parser.add_argument("--epochs", type=int, default=4, help="epochs a case (the first compiles; default 4)")
    parser.add_argument("--json", metavar="FILE", help="also write the results to FILE")
    args = parser.parse_args(argv)
    cells = args.cells.split(",") if args.cells else (["LSTM"] if args.quick else list(CELLS))
    seq_lens = [int(t) for t in args.seq_lens.split(",")] if args.seq_lens else (
        [30, 100] if args.quick else list(SEQ_LENS))
    sizes = [SIZES[0]] if args.quick else list(SIZES)
    command = shlex.join(["python", "bench/xla.py", *(sys.argv[1:] if argv is None else argv)])
    info = bench.machine_info(command)
    res = bench.Resources()
    results = []
    try:
        for cell in cells:
            bench.log(f"xla: {cell}, sizes {sizes}, T {seq_lens}")
            child_args = {"cell": cell, "sizes": sizes, "seq_lens": seq_lens, "epochs": args.epochs,
                          "intra_op_threads": bench.APP_INTRA_OP_THREADS, "cached_seq_len": 100,
                          "full_batch_seq_lens": [100],
                          "gradient_seq_lens": [100] if args.quick else [100, 200]}
            results.append(res.child("xla", child_args).run(timeout=5400))
    finally:
        res.close()
    total = time.monotonic() - bench.T0
    for line in header_lines(info, total, args.epochs):
        print(line)
    print()
    print(table(results))
    print()
    print(extras_table(results))
    summaries = [case_summary(c) for r in results for c in r["cases"] if c["seq_len"] > 10]
    if summaries:
        extra = statistics.median(s["extra_s"] for s in summaries)
        saved = statistics.median(s["saved_us_per_timestep"] for s in summaries)
        steps = statistics.median(s["break_even_steps"] for s in summaries)
        print()
        print(f"Loops (T > 10): median XLA extra one-off cost {extra:.1f} s, median saving {saved:.0f} µs per step "
              f"and time step, median break-even {steps:,.0f} steps")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "wall_s": total, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
