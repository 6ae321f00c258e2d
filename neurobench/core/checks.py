"""Parameter checks shared by tasks; each error names the parameter and the bad value."""

from __future__ import annotations

from typing import Any

import numpy as np

from neurobench.core.errors import InvalidParameterError


def check_int(name: str, value: Any, minimum: int) -> None:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < minimum:
        raise InvalidParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_positive_or_none(name: str, value: Any) -> None:
    """An optional count (``None``: unlimited), such as an episode's trials or steps."""
    if value is not None and (not isinstance(value, int | np.integer) or value < 1):
        raise InvalidParameterError(f"{name} must be a positive integer or None, got {value!r}")


def check_number(name: str, value: Any, minimum: float = -np.inf) -> None:
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    if not ok or not np.isfinite(value) or value < minimum:
        bound = "" if minimum == -np.inf else f" >= {minimum:g}"
        raise InvalidParameterError(f"{name} must be a finite number{bound}, got {value!r}")


def check_values(name: str, values: Any, minimum: float = -np.inf) -> np.ndarray:
    """A non-empty 1-d list of finite numbers >= minimum, as an array."""
    try:
        array = np.asarray(values, dtype=float) if isinstance(values, list | tuple | np.ndarray) else None
    except (TypeError, ValueError):
        array = None
    if array is None or array.ndim != 1 or len(array) == 0 or not np.all(np.isfinite(array)) or np.any(array < minimum):
        bound = "" if minimum == -np.inf else f" >= {minimum:g}"
        raise InvalidParameterError(f"{name} must be a non-empty list of numbers{bound}, got {values!r}")
    return array
