"""A real series, measured: weekly Mauna Loa CO2 (public domain, tests/data/co2_weekly.csv from statsmodels) trained
as a person would in the app, and scored on the test part in ppm beside the naive forecasts.

    python bench/own_series.py --out docs/own-series.json                      # the runs (about 10 minutes)
    python bench/own_series.py --report docs/own-series.json --into README.md  # the README's table from the JSON

Each run is the app's defaults for a CSV series (LSTM 50, Adam 0.001, batch 10, up to 100 epochs with early
stopping) with the date column, missing values interpolated and a window of one season (52 weeks); once with
Differencing on auto (the training part has a trend, so the network learns weekly changes) and once with none
(the network learns the levels), over two weight seeds.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import markers  # noqa: E402

CSV = ROOT / "tests" / "data" / "co2_weekly.csv"
SETTINGS = {"data.generator": "csv", "data.csv_column": "co2", "data.time_column": "date",
            "data.missing": "interpolate", "data.seq_len": 52}
VARIANTS = {"auto": {}, "none": {"data.difference": "none"}}
SEEDS = (1, 2)
BEGIN, END = "<!-- bench/own_series.py: generated, do not edit -->", "<!-- end of bench/own_series.py -->"


def run_once(difference: str, seed: int) -> dict:
    from seqcore import csvseries, panels
    from seqcore.config import Experiment
    from seqcore.data import build_data, load_csv
    from seqcore.events import SnapshotEvent
    from seqcore.training import train

    uploaded = csvseries.column_series(load_csv(CSV.read_bytes()), "co2", "date")
    experiment = Experiment().with_values(**SETTINGS, **VARIANTS[difference], **{"train.seed": seed})
    data = build_data(experiment.data, uploaded)
    events = []
    started = time.monotonic()
    end = train(experiment, events.append, uploaded=uploaded, save_artifacts=False)
    snapshot = [e for e in events if isinstance(e, SnapshotEvent)][-1]
    found = panels.series_evaluation(snapshot, data, cell=experiment.model.cell)
    return {"difference": difference, "seed": seed, "lag": data.transform.lag, "season": data.season,
            "epochs": end.epochs_done, "reason": end.reason, "seconds": round(time.monotonic() - started, 1),
            "test_windows": len(found.truth), "verdict": found.verdict("ppm")[1],
            "rmse": {name: s.rmse for name, s in found.rows}, "mae": {name: s.mae for name, s in found.rows}}


def table(report: dict) -> str:
    from seqcore.evaluation import NETWORK, PERSISTENCE, SEASONAL, format_number

    runs = report["runs"]
    first = runs[0]
    lines = [f"Test RMSE in ppm over the last {first['test_windows']} weeks; LSTM(50) with the app's defaults for a "
             "CSV and a 52-week window (`python bench/own_series.py`):", "",
             "| differencing | seed | epochs (early stop) | network | persistence | seasonal naive | verdict |",
             "|---|--:|--:|--:|--:|--:|---|"]
    for run in runs:
        rmse = run["rmse"]
        naive = min(rmse[PERSISTENCE], rmse[SEASONAL])
        verdict = "beats both" if rmse[NETWORK] < naive else "loses to a naive forecast"
        lines.append(f"| {run['difference']} (lag {run['lag']}) | {run['seed']} | {run['epochs']} | "
                     f"{format_number(rmse[NETWORK])} | {format_number(rmse[PERSISTENCE])} | "
                     f"{format_number(rmse[SEASONAL])} | {verdict} |")
    return "\n".join(lines)


def write_into(path: Path, text: str) -> None:
    markers.write_block(path, BEGIN, END, text + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="run the experiments and write their JSON here")
    parser.add_argument("--report", type=Path, help="a JSON written by --out, to print or write as a table")
    parser.add_argument("--into", type=Path, help="with --report: replace the generated block of this Markdown file")
    args = parser.parse_args(argv)
    if args.out:
        runs = [run_once(difference, seed) for difference in VARIANTS for seed in SEEDS]
        report = {"settings": SETTINGS, "variants": VARIANTS, "seeds": list(SEEDS), "runs": runs,
                  "machine": platform.platform(), "python": platform.python_version(),
                  "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        args.report = args.report or args.out
    if not args.report:
        parser.error("give --out or --report")
    text = table(json.loads(args.report.read_text(encoding="utf-8")))
    if args.into:
        write_into(args.into, text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
