"""Errors users see: each names the bad value and what would have been valid."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class NeuroBenchError(Exception):
    """Base class of every error NeuroBench raises on purpose."""


class InvalidParameterError(NeuroBenchError, ValueError):
    """A task, timing, reward, or run parameter has a value it cannot take."""


class UnknownNameError(NeuroBenchError, KeyError):
    """A name (task, suite, agent, period, channel...) that does not exist."""

    def __init__(self, kind: str, name: object, valid: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.valid = sorted(valid)
        super().__init__(self._message())

    def _message(self) -> str:
        close = difflib.get_close_matches(str(self.name), self.valid, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        return f"Unknown {self.kind} {self.name!r}.{hint} Valid: {', '.join(self.valid)}."

    def __str__(self) -> str:  # KeyError would otherwise print the repr of the message
        return self._message()


class InvalidActionError(NeuroBenchError, ValueError):
    """An action outside the action space was passed to ``step``."""
