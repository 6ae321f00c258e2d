"""Tasks on one clock: several tasks side by side (PettingZoo), or as one flat env."""

from neurobench.multi.combine import CombinedTasks, FlatCombined, combine

__all__ = ["CombinedTasks", "FlatCombined", "combine"]
