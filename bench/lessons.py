"""The long-memory lesson's measured tables: every run the README, docs/lessons.md and the Theory page quote,
trained with the command line one after another, and written as JSON, then as markdown from that JSON.

    python bench/lessons.py --json docs/lessons.json            # train them all (about 30 min on 2 cores)
    python bench/lessons.py --only adding --json out.json       # one group
    python bench/lessons.py --report docs/lessons.json          # the markdown tables, from the JSON
    python bench/lessons.py --report docs/lessons.json --into docs/lessons.md   # ... written between its markers
    python bench/lessons.py --report docs/lessons.json --table-only --into README.md   # the README's table

Each run is `python -m seqcore train --preset NAME --set ...` in a fresh process, recorded into a temporary
run store; its numbers are read back from that store (test metrics, each epoch's validation loss, the
baselines, whether XLA compiled it). Learning here is deterministic from the seeds; the times are this
machine's and move with its load (the JSON records the load average before and after).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import markers  # noqa: E402
from seqcore.config import LESSON_STEPS, adding_lesson, differences, preset  # noqa: E402

SOLVED_MSE = 0.01  # Hochreiter & Schmidhuber's success criterion for the adding problem
RUN_TIMEOUT_S = 1800


@dataclass(frozen=True)
class Lesson:
    group: str  # 'adding', 'levers', 'hmm', 'copy' or 'text'
    key: str  # names the row, e.g. 'adding LSTM T=100'
    preset: str
    changes: dict  # 'section.field' -> value, on top of the preset

    def experiment(self):
        return preset(self.preset).with_values(**self.changes)

    def command(self) -> list[str]:
        sets = [f"{k}={v}" for k, v in sorted(self.changes.items())]
        return ["python", "-m", "seqcore", "train", "--preset", self.preset] + [
            part for s in sets for part in ("--set", s)]


def _adding(cell: str, steps: int, **changes) -> Lesson:
    name, experiment = adding_lesson(cell, steps)
    changed = {key: experiment.value(key) for key in differences(preset(name), experiment)}
    key = f"adding {cell} T={steps}" + "".join(f" {k.split('.')[1]}={v}" for k, v in changes.items())
    return Lesson("adding" if not changes else "levers", key, name, {**changed, **changes})


def lessons() -> list[Lesson]:
    adding = [_adding(cell, steps) for steps in LESSON_STEPS for cell in ("LSTM", "GRU", "SimpleRNN")]
    levers = [_adding("LSTM", 100, **{"model.forget_bias": 0.0}),
              _adding("LSTM", 200, **{"model.chrono_t_max": 200}),
              _adding("SimpleRNN", 100, **{"train.clipnorm": 1.0}),
              _adding("SimpleRNN", 100, **{"train.clipnorm": 1.0, "model.activation": "relu",
                                           "model.recurrent_init": "identity"})]
    # The forget-gate bias checked on a second task, the delay preset (recall the token 20 steps back).
    levers += [Lesson("levers", "delay LSTM", "delay", {}),
               Lesson("levers", "delay LSTM forget_bias=0.0", "delay", {"model.forget_bias": 0.0})]
    # An HMM against the networks (Theory, "How do RNNs differ from HMMs"); the delay LSTM is in the levers.
    hmm = [Lesson("hmm", f"{name} (HMM baseline)", name, {}) for name in ("seed", "patterned", "delay_simplernn")]
    copy = [Lesson("copy", f"copy memory {cell}", "copy_memory", {} if cell == "GRU" else {"model.cell": cell})
            for cell in ("GRU", "LSTM", "SimpleRNN")]
    # The character-level language model on the built-in corpus, against its n-gram baselines.
    text = [Lesson("text", "text LSTM(128)", "text", {})]
    return adding + levers + hmm + copy + text


def measure(lesson: Lesson, store_dir: Path) -> dict:
    """Train one lesson with the command line; what its stored run says."""
    from seqcore.store import RunStore

    out = store_dir / "out" / lesson.key.replace(" ", "_")
    started = time.monotonic()
    result = subprocess.run([sys.executable, *lesson.command()[1:], "--quiet", "--store", str(store_dir),
                             "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    wall_s = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"{shlex.join(lesson.command())} exited {result.returncode}: {result.stderr[-2000:]}")
    store = RunStore(store_dir)
    summary = store.runs(any_owner=True, limit=1)[0]
    history = store.history(summary.id)
    start = store.view(summary.id).start
    solved = [e.epoch for e in history if e.val_loss < SOLVED_MSE]
    return {"group": lesson.group, "key": lesson.key, "command": shlex.join(lesson.command()),
            "cell": summary.experiment.model.cell, "steps": summary.experiment.data.seq_len,
            "metric": summary.metric, "test": summary.test_metrics, "baselines": summary.baselines,
            "epochs": len(history), "val_loss": [e.val_loss for e in history],
            "val_metric": [e.val_metric for e in history],
            "first_epoch_solved": solved[0] if solved else None, "train_s": summary.seconds, "wall_s": wall_s,
            "xla": getattr(start, "xla", None), "status": summary.status}


def run_all(selected: list[Lesson], path: Path, *, merge: bool = False) -> dict:
    """Train `selected` one after another into the JSON at `path`; with `merge`, the runs already there that
    were not retrained stay (in the order of `lessons()`)."""
    kept = json.loads(path.read_text())["runs"] if merge and path.exists() else []
    payload = {"command": "python " + shlex.join(["bench/lessons.py", *sys.argv[1:]]),
               "date": datetime.date.today().isoformat(),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
               "load_before": os.getloadavg(), "runs": []}
    with tempfile.TemporaryDirectory(prefix="seqcore-lessons-") as tmp:
        for lesson in selected:
            print(f"{lesson.key}: {shlex.join(lesson.command())}", file=sys.stderr, flush=True)
            payload["runs"].append(measure(lesson, Path(tmp)))
            row = payload["runs"][-1]
            print(f"  test {row['test']}, solved at epoch {row['first_epoch_solved']}, {row['wall_s']:.0f} s",
                  file=sys.stderr, flush=True)
            path.write_text(json.dumps(payload, indent=1))  # what is done so far survives an interruption
    payload["load_after"] = os.getloadavg()
    if kept:
        fresh = {r["key"] for r in payload["runs"]}
        order = {lesson.key: i for i, lesson in enumerate(lessons())}
        payload["runs"] = sorted([r for r in kept if r["key"] not in fresh] + payload["runs"],
                                 key=lambda r: order.get(r["key"], len(order)))
        payload["merged"] = True
    path.write_text(json.dumps(payload, indent=1))
    return payload


# --- the markdown, from the JSON ---

def _mse_cell(row: dict, compact: bool = False) -> str:
    solved = row["first_epoch_solved"]
    if compact:  # the README's: the score and when it was solved
        return f"{row['test']['loss']:.4f}" + (f" (epoch {solved})" if solved else "")
    when = f"< 0.01 from epoch {solved}" if solved else "never < 0.01"
    return f"{row['test']['loss']:.4f} ({when}; {row['wall_s']:.0f} s)"


def _lesson_training() -> str:
    """'30 epochs of 2,100 sequences': how much the adding lesson trains, from its preset."""
    experiment = adding_lesson("LSTM", 100)[1]
    data = experiment.data
    training = round(data.n_sequences * (1 - data.val_fraction - data.test_fraction))
    return f"{experiment.train.epochs} epochs of {training:,} sequences"


def adding_table(runs: list[dict], compact: bool = False) -> str:
    """T down the side, the cells across: test MSE, the first epoch with validation MSE below 0.01, wall time
    (`compact`: no wall time, and nothing where it was never solved)."""
    by = {(r["cell"], r["steps"]): r for r in runs if r["group"] == "adding"}
    cells = ("LSTM", "GRU", "SimpleRNN")
    units = adding_lesson("LSTM", 100)[1].model.units
    lines = ["| T | " + " | ".join(f"{c}({units})" for c in cells) + " | mean baseline |",
             "| --: | " + " | ".join("---" for _ in cells) + " | --: |"]
    for steps in sorted({s for _, s in by}):
        row = [by.get((cell, steps)) for cell in cells]
        base = next((r["baselines"].get("mean MSE") for r in row if r), None)
        base_text = f"{base:.3f}" if base is not None else "–"
        scores = " | ".join(_mse_cell(r, compact) if r else "–" for r in row)
        lines.append(f"| {steps} | {scores} | {base_text} |")
    return "\n".join(lines)


def runs_table(runs: list[dict], group: str) -> str:
    """One row per run of a group: the command, the test score, when it was solved, the time."""
    lines = ["| run (command) | test | validation < 0.01 | best baseline (validation) | wall time | XLA |",
             "| --- | --: | --- | --- | --: | --- |"]
    for r in (r for r in runs if r["group"] == group):
        metric = "accuracy" if r["metric"] == "accuracy" else "loss"
        score = f"{metric} {r['test'][metric]:.4f}"
        solved = "–" if r["metric"] == "accuracy" else (f"from epoch {r['first_epoch_solved']}"
                                                        if r["first_epoch_solved"] else "never")
        lines.append(f"| `{r['command']}` | {score} | {solved} | {_best_baseline(r)} | {r['wall_s']:.0f} s | "
                     f"{'on' if r['xla'] else 'off' if r['xla'] is not None else '?'} |")
    return "\n".join(lines)


def hmm_table(runs: list[dict]) -> str:
    """The networks' final validation accuracy and loss beside the HMM's and the bigram's, on every token run."""
    lines = ["| run (command) | network: validation accuracy, loss (nats) | HMM: accuracy, cross-entropy (K) "
             "| bigram: accuracy, cross-entropy | HMM fit |", "| --- | --- | --- | --- | --: |"]
    for r in (r for r in runs if r["metric"] == "accuracy" and r["group"] in ("hmm", "levers")):
        hmm = {k.split(" (")[0]: (v, k.split(" (")[1].rstrip(")")) for k, v in r["baselines"].items()
               if k.startswith("HMM")}
        if not hmm:
            continue
        base = r["baselines"]
        lines.append(f"| `{r['command']}` | {r['val_metric'][-1]:.3f}, {r['val_loss'][-1]:.3f} | "
                     f"{hmm['HMM accuracy'][0]:.3f}, {hmm['HMM cross-entropy'][0]:.3f} ({hmm['HMM accuracy'][1]}) | "
                     f"{base['bigram accuracy']:.3f}, {base['bigram cross-entropy']:.3f} | "
                     f"{hmm['HMM fitting seconds'][0]:.2f} s |")
    return "\n".join(lines)


NGRAMS = ("unigram", "bigram", "trigram")


def text_table(runs: list[dict], compact: bool = False) -> str:
    """The text runs in bits per character (Keras' nats / ln 2): validation after the last epoch and test, beside
    the add-k n-gram models counted on the training text and scored on validation (`compact`: the README's,
    without the perplexity, epochs and time)."""
    from seqcore.text import nats_to_bits, perplexity

    tail = "" if compact else " | epochs, wall time |"
    lines = ["| run | validation | test | " + " | ".join(NGRAMS) + (tail or " |"),
             "| --- | --: | --: | " + " | ".join("--:" for _ in NGRAMS) + (" | --- |" if tail else " |")]
    for r in (r for r in runs if r["group"] == "text"):
        val = r["val_loss"][-1]
        grams = " | ".join(f"{r['baselines'][f'{n} bits/char']:.3f}" for n in NGRAMS)
        shown = f"{nats_to_bits(val):.3f}" + ("" if compact else f" (perplexity {perplexity(val):.2f})")
        end = " |" if compact else f" | {r['epochs']}, {r['wall_s']:.0f} s |"
        lines.append(f"| `{r['command']}` | {shown} | {nats_to_bits(r['test']['loss']):.3f} | {grams}{end}")
    return "\n".join(lines)


def _best_baseline(row: dict) -> str:
    """The strongest simple predictor of the run's data: the highest accuracy, or the lowest MSE."""
    accuracy = row["metric"] == "accuracy"
    scores = {k: v for k, v in row["baselines"].items() if ("accuracy" in k if accuracy else "MSE" in k)}
    if not scores:
        return "–"
    name = (max if accuracy else min)(scores, key=scores.get)
    return f"{name} {scores[name]:.4f}" if accuracy else f"{name} {scores[name]:.3f}"


def report(payload: dict, *, table_only: bool = False) -> str:
    """Every table, with where the numbers come from; `table_only`: the adding table alone (the README's)."""
    runs = payload["runs"]
    if table_only:  # the README's: the adding table, and the text preset's bits per character when measured
        text = any(r["group"] == "text" for r in runs)
        return adding_table(runs, compact=True) + "\n" + (
            "\nThe text preset in bits per character (n-gram models on validation):\n\n"
            + text_table(runs, compact=True) + "\n" if text else "")
    merged = " (the latest of runs merged into one file; each row's numbers are its own run's)" \
        if payload.get("merged") else ""
    sections = [f"Written by `{payload['command']}`{merged} on {payload['date']} ({payload['machine']}; load average "
                f"{payload['load_before'][0]:.1f} before, {payload.get('load_after', [float('nan')])[0]:.1f} "
                f"after). Test MSE after {_lesson_training()} (the first epoch whose validation MSE is below 0.01; the "
                "command's wall time, TensorFlow's start included):", "", adding_table(runs)]
    for group, title in (("adding", "Every run of the table"), ("levers", "The initialisation levers"),
                         ("copy", "Copy memory")):
        if any(r["group"] == group for r in runs):
            sections += ["", f"**{title}**", "", runs_table(runs, group)]
    if any(r["group"] == "hmm" for r in runs):
        sections += ["", "**A hidden Markov model against the networks** (validation, after the last epoch)", "",
                     hmm_table(runs)]
    if any(r["group"] == "text" for r in runs):
        sections += ["", "**A character-level language model** (bits per character; the n-gram models are add-k, "
                     "k = 0.1, counted on the training text)", "", text_table(runs)]
    return "\n".join(sections) + "\n"


BEGIN, END = "<!-- bench/lessons.py: generated, do not edit -->", "<!-- end of bench/lessons.py -->"


def write_into(path: Path, text: str) -> None:
    """Replace what lies between the markers in `path` with `text` (the rest of the page is written by hand)."""
    markers.write_block(path, BEGIN, END, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="train the lessons and write their numbers here")
    parser.add_argument("--only", choices=("adding", "levers", "hmm", "copy", "text"), action="append",
                        help="only these groups (repeatable)")
    parser.add_argument("--key", action="append", help="only the lesson with this key (repeatable); with --json, "
                        "the other runs already in that file are kept")
    parser.add_argument("--report", type=Path, help="print the markdown tables of this JSON")
    parser.add_argument("--into", type=Path, help="with --report: write the tables between the markers of this page")
    parser.add_argument("--table-only", action="store_true", help="with --report: the adding table alone")
    args = parser.parse_args(argv)
    if args.report:
        text = report(json.loads(args.report.read_text()), table_only=args.table_only)
        if args.into:
            write_into(args.into, text)
        else:
            print(text, end="")
        return 0
    if not args.json:
        parser.error("give --json PATH to train, or --report PATH to print the tables")
    selected = [lesson for lesson in lessons() if (not args.only or lesson.group in args.only)
                and (not args.key or lesson.key in args.key)]
    if args.key and len(selected) != len(args.key):
        parser.error(f"--key: unknown lesson; the keys are: {', '.join(lesson.key for lesson in lessons())}")
    print(report(run_all(selected, args.json, merge=bool(args.key))), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
