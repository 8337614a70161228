"""What a series goes through before the network sees it, and back: log, differencing, standardisation.

A network with tanh units cannot draw a level it never saw in training, so a series with a trend is better learnt
as its changes (differencing), a series that grows by a percentage as its logarithm, and every series is
standardised with the training part's mean and standard deviation only, so no held-out value leaks in. The
forecasts are turned back into the series' own values with `SeriesTransform.invert`: scaled changes become
changes, changes are added onto the last known values (or onto earlier forecasts, for a horizon beyond the lag),
and the logarithm is undone.

Pure NumPy, so the standalone Keras script can carry the same code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# A straight line through the training part that explains more than this share of its variance is a trend.
TREND_R2 = 0.5


@dataclass(frozen=True)
class Scaler:
    """Standardisation (x - mean) / std, fitted on the training part only so no held-out value leaks in."""

    mean: float
    std: float

    @classmethod
    def fit(cls, values: np.ndarray) -> Scaler:
        values = np.asarray(values, dtype=np.float64)
        return cls(mean=float(values.mean()), std=float(values.std()))

    @property
    def scale(self) -> float:
        # A constant training part has std 0 (or rounding dust): dividing by it would blow values up.
        if not math.isfinite(self.std) or self.std <= 1e-12 * max(1.0, abs(self.mean)):
            return 1.0
        return self.std

    def transform(self, a):
        return (np.asarray(a) - self.mean) / self.scale

    def inverse(self, a):
        return np.asarray(a) * self.scale + self.mean


def trend_share(values: np.ndarray) -> float:
    """R² of a least-squares line through `values`: the share of their variance a straight line explains."""
    values = np.asarray(values, dtype=np.float64)
    t = np.arange(len(values), dtype=np.float64)
    t -= t.mean()
    centred = values - values.mean()
    total = float(centred @ centred)
    if len(values) < 3 or total == 0.0:
        return 0.0
    return float((t @ centred) ** 2 / ((t @ t) * total))


@dataclass(frozen=True)
class SeriesTransform:
    """raw → log (if `log`) → change over `lag` steps (0: none) → standardised with the training part's scaler.

    `reason`: a sentence for the screen saying why this transform was chosen (auto), or ''.
    """

    log: bool = False
    lag: int = 0
    scaler: Scaler = Scaler(0.0, 1.0)
    reason: str = ""

    @classmethod
    def fit(cls, raw: np.ndarray, train_stop: int, *, log: bool = False, lag: int = 0, reason: str = ""
            ) -> SeriesTransform:
        """Fit the scaler on the transformed training part, raw[:train_stop] (its first `lag` steps have no
        change to learn and are left out)."""
        unscaled = cls(log=log, lag=lag).unscaled(raw)
        return cls(log=log, lag=lag, scaler=Scaler.fit(unscaled[lag:train_stop]), reason=reason)

    @property
    def identity_but_scale(self) -> bool:
        return not self.log and self.lag == 0

    def unscaled(self, raw: np.ndarray) -> np.ndarray:
        """log and differencing, not the scaling: (n,) float64, NaN for the first `lag` steps."""
        z = np.asarray(raw, dtype=np.float64)
        if self.log:
            z = np.log(z)
        if not self.lag:
            return z
        out = np.full(len(z), np.nan)
        out[self.lag:] = z[self.lag:] - z[:-self.lag]
        return out

    def to_model(self, raw: np.ndarray) -> np.ndarray:
        """What the network reads for each raw value: (n,) float64, NaN for the first `lag` steps."""
        return self.scaler.transform(self.unscaled(raw))

    def invert(self, outputs: np.ndarray, raw: np.ndarray, origins) -> np.ndarray:
        """The network's scaled outputs (N, H) as values of the series: row i forecasts raw[origins[i]], then
        the H - 1 steps after it, knowing raw[:origins[i]] only (origins[i] may be len(raw): past the end)."""
        outputs = np.asarray(outputs, dtype=np.float64)
        single = outputs.ndim == 1
        outputs = outputs.reshape(1, -1) if single else outputs
        origins = np.broadcast_to(np.asarray(origins, dtype=np.int64), (len(outputs),))
        change = self.scaler.inverse(outputs)
        if self.lag:
            known = np.asarray(raw, dtype=np.float64)
            known = np.log(known) if self.log else known
            if len(origins) and origins.min() < self.lag:
                raise ValueError(f"a forecast at step {int(origins.min())} needs {self.lag} values before it")
            level = np.empty_like(change)
            for k in range(change.shape[1]):  # a step beyond the lag adds onto an earlier forecast
                back = k - self.lag
                base = level[:, back] if back >= 0 else known[origins + back]
                level[:, k] = base + change[:, k]
        else:
            level = change
        values = np.exp(level) if self.log else level
        return values[0] if single else values

    def to_model_forecast(self, levels: np.ndarray, raw: np.ndarray, origins) -> np.ndarray:
        """A forecast in the series' values (N, H), as `invert`'s rows are laid out, in the network's units: what
        the network would have had to output to make it (so a naive forecast's loss reads beside the network's)."""
        levels = np.asarray(levels, dtype=np.float64)
        z = np.log(levels) if self.log else levels
        if self.lag:
            known = np.asarray(raw, dtype=np.float64)
            known = np.log(known) if self.log else known
            origins = np.broadcast_to(np.asarray(origins, dtype=np.int64), (len(levels),))
            change = np.empty_like(z)
            for k in range(z.shape[1]):
                back = k - self.lag
                change[:, k] = z[:, k] - (z[:, back] if back >= 0 else known[origins + back])
            z = change
        return self.scaler.transform(z)

    def describe(self) -> str:
        """What the network learns, in words: 'the change from one step to the next of the logarithm'."""
        what = "the logarithm" if self.log else "the values"
        if self.lag == 1:
            what = f"the change from one step to the next of {what}" if self.log else "the change from one step to " \
                                                                                     "the next"
        elif self.lag:
            what = f"the change over {self.lag} steps (one season) of {what}" if self.log else \
                f"the change over {self.lag} steps (one season)"
        return f"{what}, standardised with the training part's mean {self.scaler.mean:.4g} and standard deviation " \
               f"{self.scaler.std:.4g}"
