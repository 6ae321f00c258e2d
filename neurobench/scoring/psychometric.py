"""Psychometric curves: choice and accuracy against stimulus strength, with a fitted sigmoid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit


@dataclass(frozen=True)
class Psychometric:
    """P(choose the first option) at each signed stimulus strength, and the fit
    ``lapse / 2 + (1 - lapse) / (1 + exp(-(x - bias) / scale))``."""

    x: np.ndarray  # signed strength levels (positive: evidence for the first option)
    p_first: np.ndarray
    n: np.ndarray
    bias: float
    scale: float
    lapse: float

    def fitted(self, x: np.ndarray) -> np.ndarray:
        return _sigmoid(np.asarray(x, dtype=float), self.bias, self.scale, self.lapse)


def psychometric(records: pd.DataFrame, strength: str = "coh", truth: str = "ground_truth") -> Psychometric:
    """Curve of a two-choice task from evaluation records.

    ``strength`` is the unsigned evidence column; ``truth`` the correct choice (0 is the
    first option); ``response`` (1 = first option, 2 = second) is the answer given.
    Trials without an answer are left out.
    """
    answered = records[records["response"] > 0]
    sign = np.where(answered[truth].to_numpy() == 0, 1.0, -1.0)
    x = np.round(answered[strength].to_numpy(dtype=float) * sign, 9)
    first = (answered["response"].to_numpy() == 1).astype(float)
    table = pd.DataFrame({"x": x, "first": first}).groupby("x")["first"].agg(["mean", "size"])
    levels, p, n = table.index.to_numpy(), table["mean"].to_numpy(), table["size"].to_numpy()
    span = max(float(np.ptp(levels)), 1e-9)
    try:
        (bias, scale, lapse), _ = curve_fit(
            _sigmoid,
            levels,
            p,
            p0=(0.0, span / 8, 0.02),
            sigma=1 / np.sqrt(n),
            bounds=([-span, 1e-6 * span, 0.0], [span, 10 * span, 0.5]),
        )
    except (RuntimeError, ValueError):  # degenerate data (one level, flat curve): no fit
        bias, scale, lapse = float("nan"), float("nan"), float("nan")
    return Psychometric(levels, p, n, float(bias), float(scale), float(lapse))


def accuracy_by(records: pd.DataFrame, column: str = "coh") -> pd.DataFrame:
    """Success and accuracy (answered trials only) at each value of ``column``."""
    frame = records.assign(
        correct=records["outcome"] == "correct",
        answered=records["outcome"].isin(["correct", "fail"]),
    )
    grouped = frame.groupby(column)
    return pd.DataFrame(
        {
            "success": grouped["correct"].mean(),
            "accuracy": grouped["correct"].sum() / grouped["answered"].sum().replace(0, np.nan),
            "n": grouped.size(),
        }
    )


def _sigmoid(x: np.ndarray, bias: float, scale: float, lapse: float) -> np.ndarray:
    return lapse / 2 + (1 - lapse) / (1 + np.exp(-(x - bias) / scale))
