"""Named channels: which slice of an observation (or which actions) means what.

Wrappers, plots and reference agents find the fixation input or the stimulus by name
instead of by position, so they work on every task and keep working when a modifier
appends channels.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from neurobench.core.errors import InvalidParameterError, UnknownNameError


class Channels(Mapping[str, slice]):
    """An ordered layout of named, contiguous channel groups.

    >>> obs = Channels(fixation=1, stimulus=2)
    >>> obs["stimulus"], obs.size
    (slice(1, 3, None), 3)
    """

    def __init__(self, **widths: int) -> None:
        self._slices: dict[str, slice] = {}
        start = 0
        for name, width in widths.items():
            if not isinstance(width, int) or width < 1:
                raise InvalidParameterError(f"channel {name!r} needs a width >= 1, got {width!r}")
            self._slices[name] = slice(start, start + width)
            start += width
        self.size = start

    def __getitem__(self, name: str) -> slice:
        try:
            return self._slices[name]
        except KeyError:
            raise UnknownNameError("channel", name, self._slices) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._slices)

    def __len__(self) -> int:
        return len(self._slices)

    def widths(self) -> dict[str, int]:
        return {name: s.stop - s.start for name, s in self._slices.items()}

    def labels(self) -> list[str]:
        """One label per unit, e.g. ``["fixation", "stimulus[0]", "stimulus[1]"]``."""
        out = []
        for name, width in self.widths().items():
            out += [name] if width == 1 else [f"{name}[{i}]" for i in range(width)]
        return out

    def extended(self, **widths: int) -> Channels:
        """This layout with more channel groups appended (used by modifiers)."""
        clash = set(widths) & set(self._slices)
        if clash:
            raise InvalidParameterError(f"channels {sorted(clash)} already exist")
        return Channels(**self.widths(), **widths)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in self.widths().items())
        return f"Channels({inner})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Channels) and self.widths() == other.widths()

    def __hash__(self) -> int:
        return hash(tuple(self.widths().items()))
