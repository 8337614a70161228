"""A person's own series from a CSV: its date or time column, its value column, its missing values.

A real file says when each value was measured (a date column, or a year), may list the newest row first, and has
gaps. This module finds the time columns (parsed with pandas), picks a value column that is not a row number or a
year, packs the values with their times into the one array a run carries (`pack` / `unpack`), and applies the
person's missing-value policy: refuse (naming the first gap), drop the rows, or interpolate them.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from seqcore.data import MIN_CSV_VALUES, DataError, csv_column_values, numeric_columns

if TYPE_CHECKING:
    import pandas as pd

# What a run carries for a CSV series with a time column: each value with its time (one array, one digest).
# Seconds, not pandas' nanoseconds: those end at 1677 and 2262, and a series of years (sunspots from 1700) or its
# forecast past the end may go beyond.
TIME_UNIT = "datetime64[s]"
UPLOAD_DTYPE = np.dtype([("value", "f8"), ("time", TIME_UNIT)])
_SAMPLE = 200  # rows that decide whether a text column holds dates
# Whole numbers in this range read as years when they rise steadily (every step the same) or the header says
# year: a column of counts between 1,000 and 2,999 that only rarely repeats is still values.
_YEARS = (1000, 2999)
_YEAR_NAMES = ("year", "yr", "jahr", "año", "anno", "annee", "année")
_DATE_FORMATS = {8: "%Y%m%d", 6: "%Y%m"}  # whole numbers of these many digits: 19580329, 195803


def _integers(column: pd.Series) -> np.ndarray | None:
    """The column as int64 when every cell is a whole number, else None."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column) or column.isna().any():
        return None
    values = column.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)) or not np.all(values == np.round(values)):
        return None
    return values.astype(np.int64)


def _as_times(column: pd.Series) -> pd.Series | None:
    """The column parsed as dates or times (NaT where a cell is not one), or None if it is not a time column."""
    import pandas as pd

    whole = _integers(column)
    if whole is not None:
        if len(whole) > 1 and _YEARS[0] <= whole.min() and whole.max() <= _YEARS[1]:
            steps = np.diff(np.sort(whole))
            named = any(word in str(column.name).lower() for word in _YEAR_NAMES)
            if steps.min() > 0 and (named or steps.min() == steps.max()):
                return pd.Series(whole.astype(str).astype("datetime64[Y]").astype(TIME_UNIT), index=column.index)
        digits = {len(str(abs(int(v)))) for v in whole[:_SAMPLE]}
        if len(digits) == 1 and (fmt := _DATE_FORMATS.get(digits.pop())):
            parsed = pd.to_datetime(pd.Series(whole).astype(str), format=fmt, errors="coerce")
            return parsed if parsed.notna().all() else None
        return None
    if pd.api.types.is_datetime64_any_dtype(column):
        return pd.to_datetime(column).astype(TIME_UNIT)
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return None
    text = column.astype(str).str.strip()
    sample = text[column.notna()].head(_SAMPLE)
    if sample.empty or sample.str.fullmatch(r"[-+]?\d*\.?\d+([eE][-+]?\d+)?").mean() > 0.5:
        return None  # numbers written as text are values, not times
    with warnings.catch_warnings():  # "could not infer format": a mixed column falls back to per-cell parsing
        warnings.simplefilter("ignore", UserWarning)
        if pd.to_datetime(sample, errors="coerce").notna().mean() < 0.9:
            return None
        parsed = pd.to_datetime(text.where(column.notna()), errors="coerce")
    if getattr(parsed.dt, "tz", None) is not None:  # one clock: times in UTC without the zone
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.astype(TIME_UNIT)


def time_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that hold dates or times (or years), in the file's order; found once and kept in frame.attrs."""
    known = frame.attrs.get("time_columns")
    if known is not None:
        return list(known)
    names = []
    for name in frame.columns:
        try:
            parsed = _as_times(frame[name])
        except (ValueError, TypeError, OverflowError):
            parsed = None
        if parsed is not None:
            names.append(name)
    frame.attrs["time_columns"] = names
    return names


def _is_row_number(column: pd.Series) -> bool:
    whole = _integers(column)
    return whole is not None and len(whole) > 1 and bool(np.all(np.diff(whole) == 1))


def default_columns(frame: pd.DataFrame) -> tuple[str, str]:
    """(value column, time column) a person most likely means: the first numeric column that is neither a time
    nor a row number, and the first time column ('' if none)."""
    times = time_columns(frame)
    numeric = [name for name in numeric_columns(frame) if name not in times]
    values = [name for name in numeric if not _is_row_number(frame[name])] or numeric
    return (values[0] if values else ""), (times[0] if times else "")


def value_columns(frame: pd.DataFrame) -> list[str]:
    """The numeric columns a person can learn, best guess first (`default_columns`), time columns left out."""
    times = time_columns(frame)
    numeric = [name for name in numeric_columns(frame) if name not in times]
    best = default_columns(frame)[0]
    return sorted(numeric, key=lambda name: name != best)


def column_series(frame: pd.DataFrame, value_column: str, time_column: str = "") -> np.ndarray:
    """The values a run carries: float64 (NaN where a cell is empty), or UPLOAD_DTYPE records with the times,
    sorted oldest first. Raises DataError for text among the values, a cell of the time column that is not a date,
    or a time that repeats."""
    values = csv_column_values(frame, value_column, missing_ok=True)
    if not time_column:
        return values
    if time_column not in frame.columns:
        raise DataError("data.time_column", time_column, f"is not a column of the CSV; time columns: "
                                                         f"{', '.join(map(str, time_columns(frame))) or 'none'}")
    if time_column == value_column:
        raise DataError("data.time_column", time_column, "is the value column; choose another, or none")
    parsed = _as_times(frame[time_column])
    if parsed is None:
        raise DataError("data.time_column", time_column, "does not hold dates or times (such as 2024-01-31, "
                                                         "2024-01-31 13:00 or a year)")
    times = parsed.to_numpy(dtype=TIME_UNIT)
    bad = np.isnat(times)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError("data.time_column", time_column,
                        f"holds {str(frame[time_column].iloc[row])[:30]!r} in row {row + 1}, which is not a date "
                        "or time; fix or remove that row")
    order = np.argsort(times, kind="stable")  # a download that lists the newest row first reads oldest first
    times, values = times[order], values[order]
    repeated = times[1:] == times[:-1]
    if repeated.any():
        when = np.datetime_as_string(times[1:][repeated][0], unit="s").removesuffix("T00:00:00")
        raise DataError("data.time_column", time_column,
                        f"holds {when} {int(repeated.sum()) + 1} or more times; each row must be a different "
                        "time (aggregate the rows of one time first)")
    return pack(values, times)


def pack(values: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
    """One array for the run: the values alone, or records of (value, time)."""
    values = np.asarray(values, dtype=np.float64)
    if times is None:
        return values
    packed = np.empty(len(values), dtype=UPLOAD_DTYPE)
    packed["value"], packed["time"] = values, np.asarray(times, dtype=TIME_UNIT)
    return packed


def unpack(uploaded: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(values float64, times datetime64[ns] or None) from what `pack` made (or a plain array of values)."""
    uploaded = np.asarray(uploaded)
    if uploaded.dtype.names and "value" in uploaded.dtype.names:
        return np.asarray(uploaded["value"], dtype=np.float64), np.asarray(uploaded["time"], dtype=TIME_UNIT)
    return np.asarray(uploaded, dtype=np.float64), None


def _where(index: int, times: np.ndarray | None) -> str:
    if times is None:
        return f"in row {index + 1}"
    return "at " + np.datetime_as_string(times[index], unit="s").removesuffix("T00:00:00")


def apply_missing(values: np.ndarray, times: np.ndarray | None, policy: str, column: str
                  ) -> tuple[np.ndarray, np.ndarray | None, str]:
    """The series after `policy` ('refuse', 'drop', 'interpolate') and a sentence saying what was done ('' when
    nothing was missing). Interpolation is linear in time (in the row order without times); a gap at either end
    has no neighbour on one side and is dropped."""
    missing = np.isnan(values)
    count = int(missing.sum())
    if not count:
        return values, times, ""
    first = _where(int(np.argmax(missing)), times)
    counted = f"{count} missing value{'s' if count > 1 else ''} (the first {first})"
    if policy == "refuse":
        raise DataError("data.csv_column", column, f"has {counted}; set Missing values (data.missing) to drop "
                                                   "or interpolate, or fill them in the file")
    if policy == "drop":
        keep = ~missing
        note = (f"Dropped {counted}: {int(keep.sum())} values remain. The network reads them as if they were "
                "evenly spaced" + (", though the dates now have gaps; interpolate to keep the steps even."
                                   if times is not None else "; interpolate to keep the steps even."))
    elif policy == "interpolate":
        present = np.flatnonzero(~missing)
        if len(present) < 2:
            raise DataError("data.csv_column", column, f"has {counted} and fewer than 2 values to interpolate "
                                                       "between")
        keep = np.zeros(len(values), dtype=bool)
        keep[present[0]:present[-1] + 1] = True
        position = (times.astype(np.int64) if times is not None else np.arange(len(values))).astype(np.float64)
        values = values.copy()
        values[missing] = np.interp(position[missing], position[present], values[present])
        ends = int((~keep).sum())
        inside = count - ends
        note = f"Interpolated {inside} missing value{'s' if inside != 1 else ''} linearly" + (
            f" and dropped {ends} at the ends" if ends else "") + f" (the first gap {first})."
    else:
        raise DataError("data.missing", policy, "is not one of refuse, drop, interpolate")
    values, times = values[keep], None if times is None else times[keep]
    if len(values) < MIN_CSV_VALUES:
        raise DataError("data.csv_column", column, f"has only {len(values)} values left after the missing ones; at "
                                                   f"least {MIN_CSV_VALUES} are needed")
    return values, times, note


def step(times: np.ndarray) -> np.timedelta64 | object:
    """The series' step from one time to the next: the offset pandas infers (month ends stay month ends), else the
    median gap."""
    import pandas as pd

    index = pd.DatetimeIndex(times)
    if len(index) >= 3:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                freq = pd.infer_freq(index)
        except (TypeError, ValueError):
            freq = None
        if freq is not None:
            from pandas.tseries.frequencies import to_offset

            return to_offset(freq)
    gaps = np.diff(np.asarray(times, dtype=TIME_UNIT))
    return np.median(gaps.astype(np.int64)).astype("timedelta64[s]") if len(gaps) else np.timedelta64(1, "D")


def future_times(times: np.ndarray, count: int, gap=None) -> np.ndarray:
    """`count` times after the last one, at `gap` (an offset or a timedelta), or the series' own step (`step`)."""
    import pandas as pd

    if count <= 0:
        return np.zeros(0, dtype=TIME_UNIT)
    gap = step(times) if gap is None else gap
    last = pd.Timestamp(np.datetime64(times[-1], "s"))
    if isinstance(gap, np.timedelta64):
        return (np.datetime64(times[-1], "s") + gap * np.arange(1, count + 1)).astype(TIME_UNIT)
    return pd.date_range(last, periods=count + 1, freq=gap, unit="s")[1:].to_numpy(dtype=TIME_UNIT)


def extended_times(times: np.ndarray, extra: int, gap=None) -> np.ndarray:
    """The times with `extra` more after the end (none when extra <= 0), at `gap` or the series' own step."""
    times = np.asarray(times, dtype=TIME_UNIT)
    return np.concatenate([times, future_times(times, extra, gap)]) if extra > 0 else times
