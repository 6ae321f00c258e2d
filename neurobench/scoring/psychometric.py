"""Psychometric and chronometric curves from evaluation records.

One convention holds across tasks: every two-alternative task records ``answer``, the
correct action (1 is the *first* option, 2 the second), and ``response``, the action given.
A task may say how strongly each trial's stimulus favours the first option
(``signed_evidence(records)``: coherence signed by the answer, ``f1 - f2`` for a frequency
comparison, the duration difference for interval discrimination); otherwise the unsigned
``strength`` column is signed by ``answer``. A task without two answers is refused, rather
than drawn as nonsense.

The fit is ``lapse / 2 + (1 - lapse) / (1 + exp(-(x - bias) / scale))`` (least squares
weighted by the binomial counts), with 95% intervals from its covariance; a degenerate fit
(one level, a flat or a step curve) is reported as such, with no curve.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import OptimizeWarning, curve_fit

from neurobench.core.errors import InvalidParameterError


@dataclass(frozen=True)
class Psychometric:
    """P(first option) at each signed strength, binomial 95% errors, and the fit."""

    strength: str
    x: np.ndarray
    p_first: np.ndarray
    n: np.ndarray
    error: np.ndarray  # [2, levels]: below and above p_first (Wilson interval)
    params: dict[str, tuple[float, float, float]]  # name -> (value, low, high)
    fitted: Callable[[np.ndarray], np.ndarray] | None
    warning: str | None = None

    def describe(self) -> str:
        if self.fitted is None:
            return "no fit"
        bias, scale, lapse = (self.params[k] for k in ("bias", "scale", "lapse"))
        return (
            f"bias {bias[0]:.3g} [{bias[1]:.3g}, {bias[2]:.3g}], "
            f"scale {scale[0]:.3g} [{scale[1]:.3g}, {scale[2]:.3g}], lapse {lapse[0]:.2f}"
        )


def signed_strength(records: pd.DataFrame, task: Any = None, strength: str = "coh") -> tuple[np.ndarray, str]:
    """Per trial, how strongly the stimulus favours the first option, and its name."""
    if "answer" not in records:
        raise InvalidParameterError("records have no 'answer' column: they are not of a two-alternative task")
    answers = set(np.unique(records["answer"]).tolist())
    if not answers <= {1, 2}:
        raise InvalidParameterError(
            f"a psychometric curve needs two answers (actions 1 and 2); these records have answers {sorted(answers)}"
        )
    reader = getattr(task, "signed_evidence", None) if task is not None else None
    if reader is not None:
        return np.asarray(reader(records), dtype=float), getattr(task, "evidence_name", strength)
    if strength not in records:
        raise InvalidParameterError(f"records have no {strength!r} column to sign; pass the task or another strength")
    values = np.abs(records[strength].to_numpy(dtype=float))
    return np.where(records["answer"].to_numpy() == 1, values, -values), strength


def psychometric(records: pd.DataFrame, task: Any = None, strength: str = "coh", truth: str = "answer") -> Psychometric:
    """The curve of a two-alternative task's evaluation records (see the module)."""
    del truth  # the answer column is the convention; kept for callers naming it
    x, name = signed_strength(records, task, strength)
    answered = records["response"].isin([1, 2]).to_numpy()
    if not answered.any():
        raise InvalidParameterError("no trial was answered: there is no curve to draw")
    x = np.round(x[answered], 9)
    first = (records["response"].to_numpy()[answered] == 1).astype(float)
    table = pd.DataFrame({"x": x, "first": first}).groupby("x")["first"].agg(["sum", "size"])
    levels, k, n = table.index.to_numpy(), table["sum"].to_numpy(), table["size"].to_numpy()
    p = k / n
    low, high = _wilson(k, n)
    params, fitted, warning = _fit(levels, p, n)
    return Psychometric(name, levels, p, n, np.clip(np.stack([p - low, high - p]), 0, None), params, fitted, warning)


def _wilson(k: np.ndarray, n: np.ndarray, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def _fit(
    levels: np.ndarray, p: np.ndarray, n: np.ndarray
) -> tuple[dict[str, tuple[float, float, float]], Any, str | None]:
    if len(levels) < 3:
        return {}, None, f"only {len(levels)} stimulus levels: a sigmoid is not identified"
    if np.ptp(p) < 0.2:
        return {}, None, "the curve is flat: choices do not depend on the stimulus"
    span = max(float(np.ptp(levels)), 1e-9)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", OptimizeWarning)
            values, covariance = curve_fit(
                _sigmoid,
                levels,
                p,
                p0=(0.0, span / 8, 0.02),
                sigma=1 / np.sqrt(n),
                bounds=([-span, 1e-4 * span, 0.0], [span, 10 * span, 0.5]),
            )
    except (RuntimeError, ValueError, OptimizeWarning) as error:
        return {}, None, f"the fit did not converge ({error})"
    errors = np.sqrt(np.clip(np.diag(covariance), 0, None)) * stats.norm.ppf(0.975)
    if not np.all(np.isfinite(errors)) or values[1] <= 1.0001e-4 * span:
        return {}, None, "the curve is a step: the slope is not identified"
    params = {
        name: (float(v), float(v - e), float(v + e))
        for name, v, e in zip(("bias", "scale", "lapse"), values, errors, strict=True)
    }
    return params, lambda x: _sigmoid(np.asarray(x, dtype=float), *values), None


def _sigmoid(x: np.ndarray, bias: float, scale: float, lapse: float) -> np.ndarray:
    return lapse / 2 + (1 - lapse) / (1 + np.exp(-(x - bias) / scale))


def chronometric(records: pd.DataFrame, strength: str = "coh") -> pd.DataFrame:
    """Mean reaction time (ms, answered trials) at each unsigned stimulus strength, with its
    standard error and the accuracy there: a reaction-time task's other curve."""
    if "rt" not in records or not (records["rt"] >= 0).any():
        raise InvalidParameterError("records have no reaction times: evaluate a reaction-time task (ReactionTime)")
    answered = records[records["rt"] >= 0]
    grouped = answered.assign(level=np.abs(answered[strength].to_numpy(dtype=float))).groupby("level")
    return pd.DataFrame(
        {
            "rt": grouped["rt"].mean(),
            "rt_se": grouped["rt"].sem().fillna(0.0),
            "accuracy": grouped["outcome"].apply(lambda o: float(np.mean(o == "correct"))),
            "n": grouped.size(),
        }
    )


def accuracy_by(records: pd.DataFrame, column: str = "coh") -> pd.DataFrame:
    """Success and accuracy (answered trials only) at each value of ``column``."""
    frame = records.assign(
        correct=records["outcome"] == "correct", answered=records["outcome"].isin(["correct", "fail"])
    )
    grouped = frame.groupby(column)
    return pd.DataFrame(
        {
            "success": grouped["correct"].mean(),
            "accuracy": grouped["correct"].sum() / grouped["answered"].sum().replace(0, np.nan),
            "n": grouped.size(),
        }
    )
