"""Several agents on one clock, as PettingZoo parallel environments: games (one engine,
a seat per player) and tasks side by side (``combine``: an engine per task)."""

from neurobench.multi.views import Combined, FlatCombined, ParallelView, combine, parallel_env

__all__ = ["Combined", "FlatCombined", "ParallelView", "combine", "parallel_env"]
