"""One place that turns a user's seed into the generator of a trial stream."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from gymnasium.utils import seeding

from neurobench.core.errors import InvalidParameterError


def generator(seed: int | Sequence[int] | None) -> tuple[np.random.Generator, int | list[int] | None]:
    """Gymnasium's generator for an int seed (so the single env, the vector env and the
    dataset agree on what seed ``s`` means); a list of ints is combined into one
    ``SeedSequence``; ``None`` draws fresh entropy."""
    if seed is None or (isinstance(seed, int | np.integer) and not isinstance(seed, bool)):
        if seed is not None and seed < 0:
            raise InvalidParameterError(f"seed must be a non-negative integer, got {seed!r}")
        rng, used = seeding.np_random(None if seed is None else int(seed))
        return rng, used
    if isinstance(seed, Sequence) and seed and all(isinstance(s, int | np.integer) and s >= 0 for s in seed):
        entropy = [int(s) for s in seed]
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy))), entropy
    raise InvalidParameterError(f"seed must be a non-negative integer, a list of them, or None; got {seed!r}")
