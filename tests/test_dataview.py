"""The Data page's drawings: the token table, the small tables, the CSV download, and what the page imports."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest

from pages.ui import dataview
from seqcore.config import DataConfig
from seqcore.data import build_data
from seqcore.plots import TOKEN_COLOURS

CELL = re.compile(r'<td style="[^"]*background:(#\w+)[^"]*">(\d+)</td>')


def test_the_token_table_shows_the_first_rows_with_a_colour_per_token():
    tokens = np.arange(30).reshape(3, 10) % 15  # tokens past the palette reuse its colours
    html = dataview.token_table_html(tokens, n_rows=2)
    rows = [CELL.findall(row) for row in html.split("<tbody>")[1].split("</tr>") if "<td" in row]
    assert [[int(t) for _, t in row] for row in rows] == tokens[:2].tolist()
    assert all(colour == TOKEN_COLOURS[int(t) % len(TOKEN_COLOURS)] for row in rows for colour, t in row)
    assert len(re.findall(r"<th[ >]", html)) == 1 + 10 + 2  # the corner, a column per step, a row label per sequence
    assert "overflow-x:auto" in html  # long sequences scroll inside their box


def test_markdown_tables_escape_what_would_break_them():
    table = dataview.markdown_table(["name", "value"], [["a|b", 1], ["<i>", 2.5]])
    assert table.splitlines() == ["| name | value |", "|---|---|", "| a\\|b | 1 |", "| &lt;i&gt; | 2.5 |"]


@pytest.mark.parametrize(("config", "columns", "rows"), [
    (DataConfig(), [f"step_{i}" for i in range(10)], 100),
    (DataConfig(generator="sine"), ["t", "value", "split"], None),
    (DataConfig(generator="adding", seq_len=5, n_sequences=200),
     [f"value_{i}" for i in range(5)] + [f"marker_{i}" for i in range(5)] + ["target"], 200),
])
def test_the_data_downloads_as_a_csv_a_spreadsheet_opens(config, columns, rows):
    data = build_data(config)
    frame = pd.read_csv(io.BytesIO(dataview.data_csv(data, config)))
    assert list(frame.columns) == columns
    if rows is not None:
        assert len(frame) == rows
    if data.tokens is not None:
        assert frame.to_numpy().tolist() == data.tokens.tolist()
    if data.series is not None:
        assert np.allclose(frame["value"], data.series)
        a, b = data.split_points
        assert frame["split"].tolist() == ["train"] * a + ["validation"] * (b - a) + ["test"] * (len(frame) - b)


def test_generated_data_and_the_data_page_modules_do_not_import_pandas(packages_imported_by):
    # pandas (and pyarrow with it) cost 0.45 s of a new server's first page; only a CSV upload needs them.
    code = ("from pages.ui import dataview, runs, sidebar, state, widgets\n"
            "from seqcore.data import build_data\nfrom seqcore.config import DataConfig\n"
            "from seqcore.baselines import baselines\n"
            "[baselines(build_data(DataConfig(generator=g))) for g in ('random_digits', 'sine', 'adding')]")
    assert packages_imported_by(code, {"pandas", "pyarrow"}) == []
