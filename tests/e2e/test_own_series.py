"""A person's own dated series (#17) in a real browser: they upload a monthly CSV with a row-number column, a date
column and a trending, seasonal value column with a few gaps; the Data page picks the value and date columns,
refuses the gaps until told to interpolate, says that it differences the trend, and draws the series on its dates.
They train with the defaults (early stopping on), read the test scores in the series' own units beside the naive
forecasts, look at the forecast past the end of the data on a date axis at two epochs and two lengths, and
download it as CSV.

Run with `python -m pytest tests/e2e/test_own_series.py -q` (fixtures in conftest.py: one server, one system
Chromium). Screenshots of the pages seen, and of the page open when the test fails, go to tests/e2e/screenshots/.
"""

from __future__ import annotations

import csv
import math
import random
import re
from datetime import date
from pathlib import Path

import pytest
from browser_helpers import (
    FIRST_LOAD_MS,
    assert_no_exception,
    choose,
    expect_share_link,
    go_to,
    open_app,
    poll_until,
    run_status,
    screenshot,
    screenshots_on_failure,
    wait_ready,
)
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

RUN_S = 240  # the first run of a server waits for its worker to import TensorFlow and compile the model
EPOCHS = 8  # snapshots at epochs 1, 5 and 8 (snapshot every 5, the first and the last): the Epoch slider has three
UNITS = 16
ROWS = 300  # monthly, 2000-01-01 to 2024-12-01
MISSING_ROWS = (40, 97, 150)  # 0-based data rows with an empty value; the first is 2003-05-01
FORECAST_TITLE = "Test part, then past the end of the data"
NETWORK, BASELINES = "network", ("persistence", "seasonal naive", "mean", "linear AR")

# The Plotly chart whose title contains the argument: its x axis title and, per trace, its name and x values (dates
# come as ISO text). While Streamlit redraws, an old copy may linger beside the new one: the caller takes the larger.
CHART_JS = """(part) => [...document.querySelectorAll('.js-plotly-plot')].map(el => {
    const title = ((el.layout && el.layout.title && el.layout.title.text) || '').replace(/<[^>]*>/g, '');
    const axis = el.layout && el.layout.xaxis && el.layout.xaxis.title;
    const traces = (el.data || []).map(trace => ({name: trace.name || '', x: Array.from(trace.x || []).map(String)}));
    return {title: title, x_title: (axis && (axis.text || axis)) || '', traces: traces};
}).filter(chart => chart.title.includes(part))"""

# The rows of the table whose header holds the argument: header cells, then each body row's cells.
TABLE_JS = """(header) => {
    const table = [...document.querySelectorAll('[data-testid=stMain] table')].find(
        t => [...t.querySelectorAll('th')].some(th => th.innerText.trim() === header));
    if (!table) return null;
    return {head: [...table.querySelectorAll('thead th')].map(th => th.innerText.trim()),
            rows: [...table.querySelectorAll('tbody tr')].map(
                tr => [...tr.querySelectorAll('td, th')].map(td => td.innerText.trim()))};
}"""


def month(i: int) -> date:
    """The i-th month after January 2000, on its first day."""
    return date(2000 + i // 12, 1 + i % 12, 1)


def own_series(path: Path) -> None:
    """id (a row number, first), month (ISO dates) and sales: a rising trend, a yearly season, noise and gaps."""
    draw = random.Random(17)
    lines = ["id,month,sales"]
    for i in range(ROWS):
        sales = 200 + 2.0 * i + 15 * math.sin(2 * math.pi * i / 12) + draw.gauss(0, 3)
        lines.append(f"{i + 1},{month(i).isoformat()},{'' if i in MISSING_ROWS else f'{sales:.2f}'}")
    path.write_text("\n".join(lines) + "\n")


def chart(page: Page, title_part: str) -> dict | None:
    charts = page.evaluate(CHART_JS, title_part)
    return max(charts, key=lambda c: sum(len(t["x"]) for t in c["traces"]), default=None)


def trace(found: dict | None, name: str) -> list[str]:
    return next((t["x"] for t in (found or {}).get("traces", []) if t["name"] == name), [])


def day(iso: str) -> date:
    """'2025-01-01T00:00:00' (or '2025-01-01 00:00:00', or '2025-01-01') -> date(2025, 1, 1)."""
    return date.fromisoformat(iso[:10])


def next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def months_after(d: date, count: int) -> list[date]:
    """The first days of the `count` months after `d`."""
    found = []
    for _ in range(count):
        d = next_month(d)
        found.append(d)
    return found


def number(text: str) -> float:
    """A cell of the scores table: '1,234', '9.5', '3.2 %' (or '–' for none)."""
    text = text.replace(",", "").removesuffix("%").strip()
    return math.nan if text in ("", "–") else float(text)


def set_number(page: Page, label: str, value: int | float) -> None:
    box = page.get_by_role("spinbutton", name=label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    wait_ready(page)
    expect(box).to_have_value(str(value))


def info(page: Page, text: str):
    return page.get_by_test_id("stAlertContentInfo").filter(has_text=text)


# --- the test ---

def test_own_dated_series_trains_scores_in_its_units_and_forecasts_past_the_end(e2e_server, e2e_page, tmp_path):
    page = e2e_page
    upload = tmp_path / "shop_sales.csv"
    own_series(upload)
    last_date = month(ROWS - 1)
    with screenshots_on_failure("own_series", [page]):
        # Data: the person's own file; the value column is sales (not the row number), the date column month.
        open_app(page, e2e_server)
        choose(page, page.get_by_role("combobox", name="Generator"), "My CSV file")
        wait_ready(page)
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(upload))
        expect(page.get_by_text(f"Using shop_sales.csv ({ROWS} rows).")).to_be_visible(timeout=FIRST_LOAD_MS)
        wait_ready(page)
        expect(page.get_by_role("combobox", name="Column", exact=True)).to_have_value("sales")
        expect(page.get_by_role("combobox", name="Date / time column")).to_have_value("month")
        missing = page.get_by_role("combobox", name="Missing values")
        expect(missing).to_have_value("Refuse the file")

        # The default refuses the gaps, naming how many and the first date.
        refused = page.get_by_test_id("stAlertContentError")
        expect(refused).to_contain_text(f"has {len(MISSING_ROWS)} missing values")
        expect(refused).to_contain_text(f"the first at {month(MISSING_ROWS[0]).isoformat()}")
        expect(page.locator(".st-key-data_preview")).to_have_count(0)
        assert_no_exception(page)
        screenshot(page, "own_series_refused")

        # Interpolate: the gaps are filled (said so), the trend is differenced (said why), the chart is on dates.
        choose(page, missing, "Interpolate")
        wait_ready(page)
        expect(missing).to_have_value("Interpolate")
        expect(info(page, f"Interpolated {len(MISSING_ROWS)} missing values linearly")).to_contain_text(
            f"the first gap at {month(MISSING_ROWS[0]).isoformat()}")
        expect(info(page, "Differencing on (auto):")).to_contain_text("trend")
        expect(refused).to_have_count(0)
        series = poll_until("the series chart", lambda: chart(page, "The series and its split"), 30)
        assert series["x_title"] == "date", series["x_title"]
        shown = {x for t in series["traces"] for x in t["x"]}  # the parts share their boundary points
        assert len(shown) == ROWS, len(shown)  # the interpolated rows stay, none is dropped
        assert day(min(shown)) == month(0) and day(max(shown)) == last_date, (min(shown), max(shown))
        expect_share_link(page, re.compile(r"d\.csv_column=sales.*d\.time_column=month|d\.time_column=month.*"
                                           r"d\.csv_column=sales"))
        assert_no_exception(page)
        screenshot(page, "own_series_data")

        # Train: the defaults, but a short run of a small network; early stopping stays auto (on for a CSV).
        go_to(page, "Model & training", "Model & training")
        set_number(page, "Units per layer", UNITS)
        set_number(page, "Epochs", EPOCHS)
        link = expect_share_link(page, f"t.epochs={EPOCHS}")
        assert "t.early_stopping" not in link, link  # still the default (auto)
        page.get_by_role("button", name="▶️ Train").click()
        expect(run_status(page)).to_contain_text(re.compile("Queued|Running|Finished"))
        verdict = page.get_by_test_id("stMain").locator(
            "[data-testid=stAlertContentSuccess], [data-testid=stAlertContentWarning]").filter(
            has_text=re.compile(r"^Test RMSE"))
        expect(verdict).to_be_visible(timeout=RUN_S * 1000)
        expect(run_status(page)).to_contain_text("Finished")
        wait_ready(page)
        expect(verdict).to_have_count(1)
        expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text="Kept the weights of epoch")
               ).to_be_visible()

        # The scores of the test part, in sales: the network's row and every naive forecast's.
        table = poll_until("the scores table", lambda: page.evaluate(TABLE_JS, "forecast of the test part"), 30)
        assert table["head"][:4] == ["forecast of the test part", "RMSE", "MAE", "MAPE"], table["head"]
        rows = {row[0]: row[1:] for row in table["rows"]}
        assert list(rows) == [NETWORK, *BASELINES], list(rows)
        rmse = {name: number(cells[0]) for name, cells in rows.items()}
        assert all(math.isfinite(v) and v > 0 for v in rmse.values()), rmse
        # The test part lies far above the training part's mean: the mean misses by hundreds of sales, while
        # repeating last month misses by little more than a month's change (about 2 plus the season's slope).
        assert rmse["mean"] > 200, rmse
        assert rmse["persistence"] < 30 and rmse["mean"] > 10 * rmse["persistence"], rmse
        assert rmse[NETWORK] < rmse["mean"], rmse  # differenced, the network follows the trend
        assert all(cells[2].endswith("%") for cells in rows.values()), rows  # MAPE in percent
        assert sum(cells[3] == "✓" for cells in rows.values()) == 1, rows  # the best RMSE marked once
        expect(verdict).to_contain_text(f"Test RMSE {rows[NETWORK][0]}")
        assert_no_exception(page)
        screenshot(page, "own_series_trained")

        # The forecast past the end of the data, on dates after the CSV's last.
        expect(page.get_by_text("Forecast past the end of the data", exact=True)).to_be_visible()
        steps = page.get_by_role("spinbutton", name="Steps past the end")
        expect(steps).to_have_value("12")  # a season of monthly data
        forecast_caption = page.get_by_test_id("stCaptionContainer").filter(has_text="Blue: the true values")
        expect(forecast_caption).to_contain_text(re.compile("recursive", re.IGNORECASE))  # 12 steps > H = 1
        figure = poll_until("the forecast chart", lambda: chart(page, f"{FORECAST_TITLE} (epoch {EPOCHS})"), 30)
        assert figure["x_title"] == "date", figure["x_title"]
        future = trace(figure, "forecast")
        assert len(future) == 12, future
        assert day(future[0]) == next_month(last_date), future[0]
        assert day(trace(figure, "actual")[-1]) == last_date

        set_number(page, "Steps past the end", 1)
        expect(forecast_caption).to_contain_text(re.compile("direct", re.IGNORECASE))
        set_number(page, "Steps past the end", 24)
        expect(forecast_caption).to_contain_text(re.compile("recursive", re.IGNORECASE))
        future = poll_until("24 months past the end",
                            lambda: (x := trace(chart(page, FORECAST_TITLE), "forecast")) and len(x) == 24 and x, 30)
        dates = [day(x) for x in future]
        assert dates == months_after(last_date, 24), dates
        assert_no_exception(page)
        screenshot(page, "own_series_forecast_24")

        # An earlier snapshot: the chart says its epoch.
        slider = page.locator(".st-key-forecast_epoch").get_by_role("slider")
        expect(slider).to_be_visible()
        slider.focus()
        page.keyboard.press("ArrowLeft")
        wait_ready(page)
        earlier = poll_until("the chart of an earlier epoch", lambda: next(
            (int(m.group(1)) for c in page.evaluate(CHART_JS, FORECAST_TITLE)
             if (m := re.search(r"\(epoch (\d+)\)", c["title"])) and int(m.group(1)) < EPOCHS), None), 30)
        assert earlier == 5, earlier
        expect(steps).to_have_value("24")
        assert_no_exception(page)
        screenshot(page, "own_series_forecast_earlier")

        # The forecast as CSV: the test part with its true values, then 24 months past the end.
        with page.expect_download() as download_info:
            page.get_by_role("button", name="Forecast (CSV)").click()
        download = download_info.value
        assert download.suggested_filename == f"forecast-sales-epoch{earlier}.csv", download.suggested_filename
        with open(download.path(), newline="") as file:
            reader = csv.DictReader(file)
            assert reader.fieldnames == ["time", "part", "actual", "forecast"], reader.fieldnames
            records = list(reader)
        tested = [r for r in records if r["part"] == "test"]
        past = [r for r in records if r["part"] == "past the end"]
        assert len(tested) + len(past) == len(records) and tested and records[:len(tested)] == tested
        assert all(r["actual"] and float(r["forecast"]) > 0 for r in tested)
        assert day(tested[-1]["time"]) == last_date, tested[-1]
        assert len(past) == 24 and all(r["actual"] == "" and math.isfinite(float(r["forecast"])) for r in past)
        times = [day(r["time"]) for r in past]
        assert times == months_after(last_date, 24), times
        assert [day(r["time"]) for r in past] == dates
        assert_no_exception(page)
