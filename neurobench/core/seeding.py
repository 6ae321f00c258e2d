"""One place that turns a user's seed into random generators.

A seed names a stream of trials. With the ``keyed`` scheme, chunk ``c`` of seed ``s`` is
drawn with a generator of its own, seeded by ``SeedSequence(s, spawn_key=(c,))``: any
trial is a pure function of (task, seed, index), found without drawing the ones before
it. The ``sequential`` scheme of version-0 tasks draws every chunk, in order, from
Gymnasium's generator for the seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from gymnasium.utils import seeding

from neurobench.core.errors import InvalidParameterError

Seed = int | Sequence[int] | None


def entropy(seed: Seed) -> int | list[int]:
    """The entropy a seed stands for: the seed itself, a list of seeds combined, or fresh
    entropy for ``None`` (so an unseeded stream is still one reproducible stream, named by
    the entropy drawn)."""
    if seed is None:
        return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
        if seed < 0:
            raise InvalidParameterError(f"seed must be a non-negative integer, got {seed!r}")
        return int(seed)
    if (
        isinstance(seed, Sequence)
        and not isinstance(seed, str)
        and seed
        and all(isinstance(s, int | np.integer) and not isinstance(s, bool) and s >= 0 for s in seed)
    ):
        return [int(s) for s in seed]
    raise InvalidParameterError(f"seed must be a non-negative integer, a list of them, or None; got {seed!r}")


def chunk_generator(key: int | list[int], chunk: int) -> np.random.Generator:
    """The generator of chunk ``chunk`` of the keyed stream named by ``key``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(key, spawn_key=(chunk,))))


def stream_generator(key: int | list[int]) -> np.random.Generator:
    """The one generator of a sequential stream: Gymnasium's for an int seed."""
    if isinstance(key, int):
        return seeding.np_random(key)[0]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(key)))


def child_generator(key: int | list[int], *path: int) -> np.random.Generator:
    """A generator for something other than trials (an opponent's coin, an agent's
    sampling), independent of every chunk's: keyed by ``path`` under a reserved branch."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(key, spawn_key=(2**32 - 1, *path))))
