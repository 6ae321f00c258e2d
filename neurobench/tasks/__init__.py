"""Task families. Importing this package registers every task and game."""

from neurobench.tasks import games, perceptual, working_memory

__all__ = ["games", "perceptual", "working_memory"]
