"""bench/lessons.py, the long-memory lesson's measured tables: a run goes through the command line, its numbers
come back from the run store, and the report tables them."""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_the_lessons_bench_trains_with_the_command_line_and_tables_what_the_store_recorded(tmp_path):
    """One tiny lesson (the real ones take half an hour)."""
    sys.path.insert(0, str(REPO_ROOT))
    from bench import lessons

    tiny = lessons.Lesson("adding", "adding LSTM T=10", "adding_lstm",
                          {"data.seq_len": 10, "data.n_sequences": 100, "train.epochs": 2, "model.units": 4})
    row = lessons.measure(tiny, tmp_path)
    assert row["command"].startswith("python -m seqcore train --preset adding_lstm --set data.n_sequences=100")
    assert (row["cell"], row["steps"], row["epochs"], row["status"]) == ("LSTM", 10, 2, "finished")
    assert len(row["val_loss"]) == 2 and row["test"]["loss"] > 0 and row["baselines"]["mean MSE"] > 0
    solved = dict(row, cell="GRU", first_epoch_solved=2, test={"loss": 0.004}, wall_s=61.0)
    longer = dict(row, steps=20)
    text = lessons.report({"command": "python bench/lessons.py", "date": "2026-12-02", "machine": "m",
                           "load_before": [1.0], "load_after": [2.0], "runs": [row, solved, longer]})
    table_row = next(line for line in text.splitlines() if line.startswith("| 10 |"))
    assert "never < 0.01" in table_row and "0.0040 (< 0.01 from epoch 2; 61 s)" in table_row
    assert table_row.endswith(f"| {row['baselines']['mean MSE']:.3f} |") and "| – |" in table_row  # no SimpleRNN
    assert f"`{row['command']}`" in text
    second = next(line for line in text.splitlines() if line.startswith("| 20 |"))
    assert second.count("|") == table_row.count("|") == 6  # T, three cells and the baseline, on every row


def test_the_tables_replace_only_the_generated_block_of_the_page(tmp_path):
    sys.path.insert(0, str(REPO_ROOT))
    from bench import lessons

    page = tmp_path / "lessons.md"
    page.write_text(f"# By hand\n\n{lessons.BEGIN}\nold table\n{lessons.END}\n\nMore by hand.\n")
    lessons.write_into(page, "| new | table |\n")
    assert page.read_text() == f"# By hand\n\n{lessons.BEGIN}\n| new | table |\n{lessons.END}\n\nMore by hand.\n"


def test_a_text_run_is_tabled_in_bits_per_character_beside_its_ngram_baselines():
    import math

    sys.path.insert(0, str(REPO_ROOT))
    from bench import lessons

    nats = 2.0 * math.log(2)  # 2 bits per character
    run = {"group": "text", "key": "text LSTM(128)", "command": "python -m seqcore train --preset text",
           "val_loss": [3.0, nats], "test": {"loss": 2.5 * math.log(2)}, "epochs": 2, "wall_s": 100.0,
           "baselines": {"unigram bits/char": 4.6, "bigram bits/char": 3.7, "trigram bits/char": 2.8}}
    payload = {"command": "c", "date": "d", "machine": "m", "load_before": [1.0], "runs": [run]}
    readme = lessons.report(payload, table_only=True)
    assert "| `python -m seqcore train --preset text` | 2.000 | 2.500 | 4.600 | 3.700 | 2.800 |" in readme
    assert "perplexity 4.00" in lessons.report(payload)  # 2^2: as unsure as four equally likely characters
