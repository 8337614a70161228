"""The Train page's empty loss chart: an SVG frame drawn before Plotly's JavaScript, and the script that has the
browser load that library after the page."""

import re

from pages.ui import compat
from seqcore.empty_chart import empty_chart_svg, nice_step
from seqcore.panels import LOSS_TITLE, empty_loss_panel


def ticks(markup: str) -> list[str]:
    return re.findall(r'text-anchor="middle">(\d[^<]*)</text>', markup)


def test_the_x_axis_runs_over_the_epochs_in_round_steps():
    assert ticks(empty_loss_panel(100)) == ["0", "20", "40", "60", "80", "100"]
    assert ticks(empty_loss_panel(300)) == ["0", "100", "200", "300"]
    assert ticks(empty_loss_panel(7)) == ["0", "2", "4", "6"]
    assert ticks(empty_loss_panel(1)) == ["0", "0.2", "0.4", "0.6", "0.8", "1"]
    assert nice_step(0) == 1.0


def test_it_reads_as_the_loss_chart_that_replaces_it():
    markup = empty_loss_panel(50)
    assert f"<title>{LOSS_TITLE}</title>" in markup and ">epoch</text>" in markup and ">loss</text>" in markup


def test_the_markup_is_one_html_block_with_its_text_escaped():
    markup = empty_chart_svg("a <b>bold</b> *title*", "x & y", 10, "<script>", note="$x$ _y_")
    first, rest = markup.split("\n", 1)
    # Markdown takes it as one HTML block: the whole opening tag on the first line, no blank line after it.
    assert first.startswith("<svg ") and first.endswith(">") and all(line.strip() for line in rest.split("\n"))
    assert "<b>" not in markup and "<script>" not in markup
    assert "a &lt;b&gt;bold&lt;/b&gt; *title*" in markup and "x &amp; y" in markup and "&lt;script&gt;" in markup
    assert markup.count("<svg") == 1 and markup.endswith("</svg>")


def test_the_preload_script_imports_the_plotly_chunk_of_the_installed_streamlit():
    chunk = compat.plotly_chunk()
    assert chunk is not None and re.fullmatch(r"PlotlyChart\.[\w-]+\.js", chunk), (
        f"Streamlit's build has no single {compat.PLOTLY_CHUNK_GLOB}: the Train page's first point now waits for "
        "Plotly to load; update pages/ui/compat.py")
    script = compat.plotly_preload_script()
    assert script.startswith("<script>") and f'"./{chunk}"' in script and "import(url)" in script
