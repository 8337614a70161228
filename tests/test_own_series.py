"""A person's own series: dates, value columns, missing values and the transforms, and their inverses."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqcore import csvseries
from seqcore.config import DataConfig
from seqcore.data import DataError, build_data, load_csv
from seqcore.evaluation import seasonal_period
from seqcore.transforms import SeriesTransform, trend_share

DATA = Path(__file__).parent / "data"


def frame_of(text: str) -> pd.DataFrame:
    return load_csv(text.encode())


def monthly(n=200, start="2000-01-01", trend=0.5, season=3.0, seed=0):
    t = np.arange(n)
    values = 100 + trend * t + season * np.sin(2 * np.pi * t / 12) + np.random.default_rng(seed).normal(0, 0.2, n)
    return pd.DataFrame({"month": pd.date_range(start, periods=n, freq="MS").strftime("%Y-%m-%d"), "sales": values})


# --------------------------------------------------------------------------- dates and columns


def test_a_date_column_is_found_parsed_and_gives_the_season():
    frame = frame_of(monthly().to_csv(index=False))
    assert csvseries.time_columns(frame) == ["month"]
    assert csvseries.default_columns(frame) == ("sales", "month")
    packed = csvseries.column_series(frame, "sales", "month")
    values, times = csvseries.unpack(packed)
    assert times[0] == np.datetime64("2000-01-01") and times[-1] == np.datetime64("2016-08-01")
    assert seasonal_period(times) == 12
    data = build_data(DataConfig(generator="csv", csv_column="sales", time_column="month", seq_len=12), packed)
    assert data.season == 12 and data.times is not None and len(data.times) == len(data.series) == 200


def test_whole_number_dates_and_years_are_times_not_values():
    """The public CO2 file writes dates as 19580329; the sunspots file has a YEAR column the app used to learn."""
    co2 = load_csv((DATA / "co2_weekly.csv").read_bytes())
    assert csvseries.default_columns(co2) == ("co2", "date")
    times = csvseries.unpack(csvseries.column_series(co2, "co2", "date"))[1]
    assert times[0] == np.datetime64("1958-03-29") and seasonal_period(times) == 52  # weekly
    sunspots = load_csv((DATA / "sunspots_yearly.csv").read_bytes())
    assert csvseries.time_columns(sunspots) == ["YEAR"]
    assert csvseries.default_columns(sunspots) == ("SUNACTIVITY", "YEAR")
    assert csvseries.value_columns(sunspots) == ["SUNACTIVITY"]


def test_a_row_number_column_is_not_the_default_value():
    frame = frame_of("id,reading\n" + "".join(f"{i},{(i * 7) % 11}\n" for i in range(1, 40)))
    assert csvseries.default_columns(frame) == ("reading", "")
    assert csvseries.value_columns(frame) == ["reading", "id"]


def test_newest_first_rows_are_read_oldest_first():
    frame = monthly(30)
    packed = csvseries.column_series(frame_of(frame.iloc[::-1].to_csv(index=False)), "sales", "month")
    values, times = csvseries.unpack(packed)
    assert np.all(np.diff(times.astype(np.int64)) > 0)
    np.testing.assert_allclose(values, frame["sales"].to_numpy())


def test_a_time_that_is_not_a_date_or_repeats_is_refused_by_row():
    text = monthly(30).to_csv(index=False).replace("2000-05-01", "someday")
    with pytest.raises(DataError, match=r"data\.time_column: 'month' holds 'someday' in row 5, which is not a date"):
        csvseries.column_series(frame_of(text), "sales", "month")
    text = monthly(30).to_csv(index=False).replace("2000-05-01", "2000-04-01")
    with pytest.raises(DataError, match=r"holds 2000-04-01 2 or more times"):
        csvseries.column_series(frame_of(text), "sales", "month")


def test_future_times_follow_the_frequency():
    month_ends = pd.date_range("2020-01-31", periods=6, freq="ME").to_numpy()
    assert list(csvseries.future_times(month_ends, 2)) == [np.datetime64("2020-07-31"), np.datetime64("2020-08-31")]
    irregular = np.array(["2020-01-01", "2020-01-03", "2020-01-04", "2020-01-06"], dtype="datetime64[ns]")
    assert csvseries.future_times(irregular, 1)[0] == np.datetime64("2020-01-08")  # the median gap, 2 days


# --------------------------------------------------------------------------- missing values


def gappy():
    frame = monthly(120)
    frame.loc[[5, 6, 20], "sales"] = np.nan
    return frame_of(frame.to_csv(index=False)), frame


def test_refuse_names_the_count_the_first_gap_and_the_cure():
    frame, _ = gappy()
    packed = csvseries.column_series(frame, "sales", "month")
    with pytest.raises(DataError, match=r"has 3 missing values \(the first at 2000-06-01\); set Missing values "
                                        r"\(data\.missing\) to drop or interpolate"):
        build_data(DataConfig(generator="csv", csv_column="sales", time_column="month", seq_len=6), packed)


def test_drop_removes_the_rows_and_their_dates():
    frame, original = gappy()
    packed = csvseries.column_series(frame, "sales", "month")
    data = build_data(DataConfig(generator="csv", csv_column="sales", time_column="month", seq_len=6,
                                 missing="drop"), packed)
    assert len(data.series) == 117 and np.datetime64("2000-06-01") not in data.times
    assert data.notes[0].startswith("Dropped 3 missing values (the first at 2000-06-01): 117 values remain.")
    assert "interpolate to keep the steps even" in data.notes[0]
    # the file's dates say monthly: the season and the dates past the end keep it, though rows are gone
    assert data.season == 12 and data.time_step.freqstr == "MS"
    np.testing.assert_allclose(data.series, original["sales"].dropna().to_numpy())


def test_interpolate_fills_linearly_in_time():
    values = np.array([1.0, np.nan, 4.0, np.nan, np.nan, 10.0])
    # 31 days, then 29 (February 2000), so the first gap sits 31/60 of the way from 1 to 4
    times = pd.to_datetime(["2000-01-01", "2000-02-01", "2000-03-01", "2000-04-01", "2000-05-01",
                            "2000-06-01"]).to_numpy()
    filled, kept, note = _interpolated(values, times)
    assert filled[1] == pytest.approx(1 + 3 * 31 / 60)
    assert filled[3] == pytest.approx(4 + 6 * 31 / 92) and len(kept) == 6
    assert note.startswith("Interpolated 3 missing values linearly")


def _interpolated(values, times):
    padded = np.concatenate([values, np.arange(30.0)])  # enough values for the minimum
    extra = pd.date_range("2001-01-01", periods=30, freq="MS").to_numpy()
    filled, kept, note = csvseries.apply_missing(padded, np.concatenate([times, extra]), "interpolate", "v")
    return filled[:6], kept[:6], note


def test_interpolate_drops_gaps_at_the_ends():
    values = np.concatenate([[np.nan], np.arange(30.0), [np.nan, np.nan]])
    filled, _, note = csvseries.apply_missing(values, None, "interpolate", "v")
    np.testing.assert_array_equal(filled, np.arange(30.0))
    assert "dropped 3 at the ends" in note


# --------------------------------------------------------------------------- transforms and their inverse


@pytest.mark.parametrize(("log", "lag"), [(False, 0), (True, 0), (False, 1), (False, 12), (True, 1), (True, 12)])
def test_each_transform_inverts_to_the_original(log, lag):
    raw = 50 + np.arange(120.0) + 5 * np.sin(np.arange(120) / 2) + np.random.default_rng(1).random(120)
    transform = SeriesTransform.fit(raw, 80, log=log, lag=lag)
    modelled = transform.to_model(raw)
    assert np.isnan(modelled[:lag]).all() and np.isfinite(modelled[lag:]).all()
    horizon = 5
    origins = np.arange(max(lag, 1) + 10, 110)
    targets = np.stack([modelled[o:o + horizon] for o in origins])  # what the network learns to output
    recovered = transform.invert(targets, raw, origins)
    np.testing.assert_allclose(recovered, np.stack([raw[o:o + horizon] for o in origins]), rtol=1e-10)


def test_the_scaler_sees_the_training_part_only():
    raw = np.concatenate([np.arange(100.0), np.full(50, 1e6)])
    transform = SeriesTransform.fit(raw, 100, lag=1)
    assert transform.scaler.mean == pytest.approx(1.0) and transform.scaler.std == pytest.approx(0.0, abs=1e-12)


def test_a_forecast_past_the_end_adds_onto_the_last_values():
    raw = np.arange(1.0, 31.0)  # changes of 1
    transform = SeriesTransform.fit(raw, 20, lag=1)
    ahead = transform.invert(transform.scaler.transform(np.full(4, 2.0)), raw, len(raw))  # changes of 2 each step
    np.testing.assert_allclose(ahead, [32.0, 34.0, 36.0, 38.0])


def test_auto_differences_a_trending_csv_and_says_why():
    frame = frame_of(monthly(200).to_csv(index=False))
    packed = csvseries.column_series(frame, "sales", "month")
    config = DataConfig(generator="csv", csv_column="sales", time_column="month", seq_len=12)
    data = build_data(config, packed)
    assert data.transform.lag == 1 and "Differencing on (auto)" in data.notes[-1] and "trend" in data.notes[-1]
    flat = frame_of(monthly(200, trend=0.0).to_csv(index=False))
    data = build_data(config, csvseries.column_series(flat, "sales", "month"))
    assert data.transform.lag == 0 and data.notes[-1].startswith("Differencing off (auto)")
    assert build_data(DataConfig(generator="random_walk")).transform.lag == 0  # the lessons' series are left alone
    assert trend_share(np.arange(10.0)) == pytest.approx(1.0)


def test_seasonal_difference_and_log_need_what_they_need():
    frame = frame_of(monthly(200).to_csv(index=False))
    packed = csvseries.column_series(frame, "sales", "month")
    data = build_data(DataConfig(generator="csv", csv_column="sales", time_column="month", seq_len=12,
                                 difference="season"), packed)
    assert data.transform.lag == 12 and data.window_start("train") == 12
    values_only = csvseries.column_series(frame, "sales")
    with pytest.raises(DataError, match=r"data\.difference: 'season' needs a season: set data\.season"):
        build_data(DataConfig(generator="csv", csv_column="sales", seq_len=12, difference="season"), values_only)
    negative = values_only - 150
    with pytest.raises(DataError, match=r"data\.log: True needs every value above 0, and the value at step 1 is"):
        build_data(DataConfig(generator="csv", csv_column="sales", seq_len=12, log=True), negative)


def test_counts_in_the_range_of_years_stay_values():
    """Visitors between 1,000 and 2,999 a day are not years: no steady step and no year in the header."""
    rng = np.random.default_rng(0)
    frame = frame_of("day,visitors\n" + "".join(f"2020-01-{d:02d},{v}\n" for d, v in
                                                zip(range(1, 29), rng.integers(1000, 2900, 28), strict=True)))
    assert csvseries.time_columns(frame) == ["day"]
    assert csvseries.default_columns(frame) == ("visitors", "day")
    gappy_years = frame_of("Year,count\n" + "".join(f"{y},{y % 7}\n" for y in range(1800, 2000, 5)))
    assert csvseries.time_columns(gappy_years) == ["Year"]  # every five years, and the header says so


def test_years_before_1678_and_forecasts_past_2262_keep_their_dates():
    """pandas' nanosecond dates end at 1677 and 2262: a run's dates are seconds."""
    frame = frame_of("year,level\n" + "".join(f"{y},{(y * 37) % 11}\n" for y in range(1500, 1600)))
    times = csvseries.unpack(csvseries.column_series(frame, "level", "year"))[1]
    assert times[0] == np.datetime64("1500-01-01") and times[-1] == np.datetime64("1599-01-01")
    sunspots = load_csv((DATA / "sunspots_yearly.csv").read_bytes())
    years = csvseries.unpack(csvseries.column_series(sunspots, "SUNACTIVITY", "YEAR"))[1]
    ahead = csvseries.future_times(years, 300)
    assert ahead[0] == np.datetime64("2009-01-01") and ahead[-1] == np.datetime64("2308-01-01")
