"""Time-ordered splits into training, validation and test parts, and the rule that a window fits each part.

One module for both the config's check (before any data exists) and the data builder (with the real number
of points, e.g. a CSV's), so the two can never disagree about what fits.
"""

from __future__ import annotations

PARTS = ("training", "validation", "test")


def share(n: int, fraction: float) -> int:
    """Rows of n that a fraction gives; the epsilon keeps 0.29 * 100 = 28.999… from losing a row to rounding."""
    return int(n * fraction + 1e-9)


def sequence_rows(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int, int]:
    """Rows of train, validation and test when whole sequences are split in generation order (at least one
    validation row, and one test row when a test part is asked for). The training count may be below 1:
    the caller says what that means for its setting."""
    n_val = max(1, share(n, val_fraction))
    n_test = max(1, share(n, test_fraction)) if test_fraction > 0 else 0
    return n - n_val - n_test, n_val, n_test


def series_bounds(n: int, val_fraction: float, test_fraction: float) -> dict[str, tuple[int, int]]:
    """[start, stop) of each part of a series of n points: the latest points are held out."""
    val_start = n - share(n, val_fraction) - share(n, test_fraction)
    test_start = n - share(n, test_fraction)
    return {"training": (0, val_start), "validation": (val_start, test_start), "test": (test_start, n)}


def window_problem(n: int, seq_len: int, horizon: int, val_fraction: float, test_fraction: float) -> str | None:
    """Why windows of seq_len inputs and horizon targets do not fit every part of n points, or None if they do.

    A test part of zero points (test_fraction 0) needs no window."""
    width = seq_len + horizon
    for name, (start, stop) in series_bounds(n, val_fraction, test_fraction).items():
        if name == "test" and test_fraction == 0:
            continue
        if stop - start < width:
            return (f"plus data.horizon ({horizon}) needs {width} points, but the {name} part has only "
                    f"{stop - start} (points {start}-{stop} of {n}); use a shorter window or more points")
    return None
