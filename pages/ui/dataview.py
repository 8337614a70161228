"""Drawing the data: a preview figure, its shapes, the split and the simple baselines.

The Data page is the first a visitor sees, so it draws with HTML and Markdown only: no Plotly (4.7 MB of
JavaScript) for token data, no dataframe grid (1.2 MB more, and pandas with pyarrow on the server).
"""

from __future__ import annotations

import html
import io

import numpy as np
import streamlit as st

from seqcore import plots, tasks
from seqcore.baselines import baselines
from seqcore.config import DataConfig
from seqcore.data import SequenceData
from seqcore.tasks import SERIES, TOKENS


def preview_figure(data: SequenceData):
    """Series and marked regressions: a Plotly figure. (Token data is a table: `token_table_html`.)"""
    if data.task.kind is SERIES:
        return plots.series_data_figure(data.series, data.split_points, title="The series and its split",
                                        times=data.times)
    x = data.x_train
    return plots.adding_data_figure(x[..., 0], x[..., 1], title=f"{data.task.label}: the {data.task.target}")


def token_table_html(tokens: np.ndarray, n_rows: int = 8) -> str:
    """The first sequences of token data as an HTML table, one row each, every cell coloured by its token.

    Colours repeat after `len(plots.TOKEN_COLOURS)` tokens; the number in the cell is always the token. Wide
    sequences scroll sideways inside their box instead of stretching the page."""
    rows = np.asarray(tokens).reshape(len(tokens), -1)[:n_rows]
    colours = plots.TOKEN_COLOURS
    cell = "padding:0.15rem 0.4rem;text-align:center;min-width:1.8rem;border:1px solid #ffffff"
    label = f"{cell};font-weight:normal;color:#808495"  # the step and sequence numbers
    head = "".join(f'<th style="{label}">{step}</th>' for step in range(rows.shape[1]))
    body = "".join(
        f'<tr><th style="{label}">{i}</th>'
        + "".join(f'<td style="{cell};background:{colours[int(t) % len(colours)]};color:#222222">{int(t)}</td>'
                  for t in row)
        + "</tr>"
        for i, row in enumerate(rows))
    return ('<div style="overflow-x:auto"><table style="border-collapse:collapse;font-variant-numeric:tabular-nums">'
            f'<thead><tr><th style="{label}">sequence \\ step</th>{head}</tr>'
            f"</thead><tbody>{body}</tbody></table></div>")


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    """A small table as GitHub Markdown (values escaped), drawn by `st.markdown`."""
    def escape(value: object) -> str:
        return html.escape(str(value)).replace("|", "\\|")
    lines = ["| " + " | ".join(map(escape, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(escape, row)) + " |" for row in rows]
    return "\n".join(lines)


def _shape(shape: tuple[int, ...]) -> str:
    """(70, 9, 10) -> '70 × 9 × 10' with no-break spaces, so a narrow column does not split it."""
    return "\u202f×\u202f".join(map(str, shape))


def split_rows(data: SequenceData) -> list[list[object]]:
    """[part, sequences, x shape, y shape] for train, validation and test."""
    rows = []
    for name, label in (("train", "train"), ("val", "validation"), ("test", "test")):
        x, y, _ = data.part(name)
        rows.append([label, len(x), _shape(x.shape), _shape(y.shape)])
    return rows


@st.cache_data(max_entries=32, show_spinner=False)
def _baselines(_data: SequenceData, key: str) -> dict[str, float]:
    return baselines(_data)


def describe(data: SequenceData, config: DataConfig, key: str) -> None:
    """Shapes, split and baselines under the preview, one under the other: side by side, the shapes table ran
    into the baselines on a projector-sized window."""
    st.markdown(markdown_table(["part", "sequences", "x shape", "y shape"], split_rows(data)))
    about = tasks.about(data)
    if data.transform is not None:
        about += f" The network learns {data.transform.describe()}."
        if data.season:
            about += f" One season is {data.season} steps."
    st.caption(about)
    st.markdown("**Simple models to beat** (on validation)")
    scores = _baselines(data, key)
    st.markdown(markdown_table(["baseline", "score"], [[name, f"{v:.4f}"] for name, v in scores.items()]))
    if data.task.kind is TOKENS:
        st.caption("When a run starts, a hidden Markov model (K states, fitted by Baum-Welch) joins these on its "
                   "charts: fitting it takes a fraction of a second, so it is not done here.")


def data_csv(data: SequenceData, config: DataConfig) -> bytes:
    """The data as a CSV a spreadsheet opens: the series with its split, or one row per sequence.

    Called when the download button is pressed (pandas is imported then, not for drawing the page)."""
    import pandas as pd

    if data.task.kind is SERIES:
        n = len(data.series)
        a, b = data.split_points
        split = np.where(np.arange(n) < a, "train", np.where(np.arange(n) < b, "validation", "test"))
        frame = pd.DataFrame({"t": np.arange(n), "value": data.series, "split": split})
        if data.times is not None:
            frame.insert(1, "time", pd.DatetimeIndex(data.times))
    elif data.task.kind is TOKENS:
        frame = pd.DataFrame(data.tokens, columns=[f"step_{i}" for i in range(data.tokens.shape[1])])
    else:
        parts = [data.part(p) for p in ("train", "val", "test")]
        x = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        frame = pd.DataFrame(x[..., 0], columns=[f"value_{i}" for i in range(x.shape[1])])
        for i in range(x.shape[1]):
            frame[f"marker_{i}"] = x[:, i, 1].astype(int)
        frame["target"] = y[:, 0]
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()
